/* Fuzz target: arbitrary frames into the engine's enrollment gate
 * (eng_enroll_gate), the first code that sees a frame from a CURVE peer.
 * The first byte picks the sender's key: an approved host's, a pending
 * host's, a revoked host's, or a fresh unknown one (which may enroll if the
 * frame is a valid hello). Whatever comes back must be a well-formed
 * reply; a frame passed on must name a known host. Every 4096 inputs the
 * keys made so far are forgotten (a new store). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmn_conf.h"
#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_log.h"
#include "cmn_rpc.h"
#include "eng_agents.h"
#include "eng_ctx.h"
#include "eng_enroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define H_APPROVED "00000000-0000-4000-8000-000000000001"
#define H_PENDING "00000000-0000-4000-8000-000000000002"
#define H_REVOKED "00000000-0000-4000-8000-000000000003"

static eng_ctx_t s_ctx;
static eng_enroll_t *s_en;
static char s_keys[3][CMN_KEY_Z85_LEN + 1];
static unsigned s_runs;

static void s_hello(const char *key, const char *host)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = (char *)host;
    h.hostname = "fuzz";
    env.id = 1;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    size_t len, rlen;
    uint8_t *buf = cmn_rpc_encode(&env, &len), *reply = NULL;
    char out[ENG_ID_LEN];
    eng_enroll_gate(s_en, key, (const uint8_t *)"r", 1, buf, len, out, &reply,
                    &rlen);
    free(reply);
    free(buf);
}

static void s_setup(void)
{
    if (s_en) {
        eng_enroll_destroy(&s_en);
        eng_agents_destroy(&s_ctx.agents);
        eng_store_destroy(&s_ctx.store);
    }
    s_ctx.store = eng_store_open(":memory:");
    s_ctx.agents = eng_agents_new_detached(&s_ctx);
    s_en = s_ctx.store && s_ctx.agents ? eng_enroll_new(&s_ctx) : NULL;
    if (!s_en)
        abort();
    char sec[CMN_KEY_Z85_LEN + 1];
    for (int i = 0; i < 3; i++)
        cmn_key_generate(s_keys[i], sec);
    s_hello(s_keys[0], H_APPROVED);
    s_hello(s_keys[1], H_PENDING);
    s_hello(s_keys[2], H_REVOKED);
    if (eng_enroll_approve(s_en, H_APPROVED, NULL) < 0 ||
        eng_enroll_approve(s_en, H_REVOKED, NULL) < 0 ||
        eng_enroll_revoke(s_en, H_REVOKED, NULL) < 0)
        abort();
}

static char s_dir[64];

static void s_cleanup(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/engine.key", s_dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/engine.pub", s_dir);
    unlink(p);
    rmdir(s_dir);
}

static void s_init(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    if (eng_conf_load(&s_ctx.conf, NULL) < 0)
        abort();
    snprintf(s_dir, sizeof(s_dir), "/tmp/herd-fuzz-enroll.XXXXXX");
    if (!mkdtemp(s_dir))
        abort();
    atexit(s_cleanup);
    cmn_conf_set_str(&s_ctx.conf.agents_key_dir, s_dir);
    s_ctx.conf.agents_curve = false;
    s_ctx.base = event_base_new();
    s_ctx.stats = eng_stats_new();
    snprintf(s_ctx.engine_id, sizeof(s_ctx.engine_id), "%s",
             "00000000-0000-4000-8000-0000000000ee");
    s_setup();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_en)
        s_init();
    if (++s_runs % 4096 == 0)
        s_setup();
    if (size == 0)
        return 0;
    char fresh[CMN_KEY_Z85_LEN + 1], sec[CMN_KEY_Z85_LEN + 1];
    const char *key;
    switch (data[0] & 3) {
    case 0: key = s_keys[0]; break;
    case 1: key = s_keys[1]; break;
    case 2: key = s_keys[2]; break;
    default:
        cmn_key_generate(fresh, sec);
        key = fresh;
        break;
    }
    uint8_t *reply = NULL;
    size_t rlen = 0;
    char host[ENG_ID_LEN];
    eng_gate_t g = eng_enroll_gate(s_en, key, data, size > 8 ? 8 : size,
                                   data + 1, size - 1, host, &reply, &rlen);
    if (g == ENG_GATE_REPLY) {
        Herd__Envelope *env = cmn_rpc_decode(reply, rlen, 0, NULL);
        if (!env || env->in_reply_to == 0 || !env->result)
            abort();
        cmn_rpc_free(env);
    } else if (reply) {
        abort();
    }
    if (g == ENG_GATE_PASS) {
        if ((data[0] & 3) == 2 || (data[0] & 3) == 1 || !cmn_uuid_valid(host))
            abort();        /* revoked and pending keys never pass */
        if ((data[0] & 3) == 0 && strcmp(host, H_APPROVED) != 0)
            abort();        /* a key speaks only for its own host */
    }
    free(reply);
    return 0;
}
