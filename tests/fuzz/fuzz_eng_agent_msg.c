/* Fuzz target: arbitrary bytes into the engine's agent message handler
 * (eng_agents_handle), as if a host had sent them on the ROUTER. The first
 * byte picks the sender: odd = a host that has said hello (so stats,
 * events and reports reach reconciliation), even = a host without a
 * session. Whatever comes back must be a well-formed envelope. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_rpc.h"
#include "eng_agents.h"
#include "eng_ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HOST "00000000-0000-4000-8000-000000000001"
#define FUZZ_STRANGER "00000000-0000-4000-8000-000000000002"

static eng_ctx_t s_ctx;

static void s_check_reply(uint8_t *reply, size_t len)
{
    if (!reply)
        return;
    Herd__Envelope *env = cmn_rpc_decode(reply, len, 0, NULL);
    if (!env || env->in_reply_to == 0 || !env->result)
        abort();            /* the engine sent something malformed */
    cmn_rpc_free(env);
    free(reply);
}

static void s_init(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    if (eng_conf_load(&s_ctx.conf, NULL) < 0)
        abort();
    s_ctx.base = event_base_new();
    s_ctx.store = eng_store_open(":memory:");
    s_ctx.stats = eng_stats_new();
    snprintf(s_ctx.engine_id, sizeof(s_ctx.engine_id), "%s",
             "00000000-0000-4000-8000-0000000000ee");
    s_ctx.agents = eng_agents_new_detached(&s_ctx);
    if (!s_ctx.base || !s_ctx.store || !s_ctx.stats || !s_ctx.agents)
        abort();
    /* FUZZ_HOST says hello. */
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = FUZZ_HOST;
    h.hostname = "fuzz-host";
    env.id = 1;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    size_t len, rlen;
    uint8_t *buf = cmn_rpc_encode(&env, &len);
    uint8_t *reply = eng_agents_handle(s_ctx.agents, (const uint8_t *)FUZZ_HOST,
                                       strlen(FUZZ_HOST), buf, len, &rlen);
    free(buf);
    s_check_reply(reply, rlen);
    if (!eng_agents_connected(s_ctx.agents, FUZZ_HOST))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_ctx.agents)
        s_init();
    if (size == 0)
        return 0;
    const char *who = (data[0] & 1) ? FUZZ_HOST : FUZZ_STRANGER;
    if ((data[0] & 0x82) == 0x82)
        who = "not-a-uuid";
    size_t rlen = 0;
    uint8_t *reply = eng_agents_handle(s_ctx.agents, (const uint8_t *)who,
                                       strlen(who), data + 1, size - 1, &rlen);
    s_check_reply(reply, rlen);
    /* Run deferred work so it is exercised too. */
    event_base_loop(s_ctx.base, EVLOOP_NONBLOCK);
    return 0;
}
