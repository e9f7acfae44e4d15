/* Fuzz target: arbitrary bytes into the agent's engine-message handler
 * (agt_link_handle_frame: decode with the size limit, validate, dispatch),
 * as if the engine had sent them on the DEALER. The link has no libvirt
 * and no worker pool, so valid commands are answered `unavailable` and no
 * real work happens. Every frame the agent sends back must be a
 * well-formed reply envelope. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agt_conf.h"
#include "agt_link.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *s_base;
static agt_conf_t s_conf;
static agt_link_t *s_link;

static void
s_check_sent(const uint8_t *data, size_t len, void *opaque)
{
    (void)opaque;
    Herd__Envelope *env = cmn_rpc_decode(data, len, 0, NULL);
    /* The agent only answers engine frames: a reply with a result. */
    if (!env || env->in_reply_to == 0 || !env->result)
        abort();
    if (env->result->code != 0 && (!env->result->message || !env->result->message[0]))
        abort();            /* every error names what went wrong */
    cmn_rpc_free(env);
}

static void
s_init(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    if (agt_conf_load(&s_conf, NULL) < 0)
        abort();
    s_conf.max_message_bytes = 64 * 1024;
    s_base = event_base_new();
    agt_link_opts_t o = { .base = s_base, .conf = &s_conf,
                          .host_id = "00000000-0000-4000-8000-0000000000a1" };
    s_link = agt_link_new(&o);
    if (!s_base || !s_link)
        abort();
    agt_link_set_send_hook(s_link, s_check_sent, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_link)
        s_init();
    agt_link_handle_frame(s_link, data, size);
    event_base_loop(s_base, EVLOOP_NONBLOCK);
    return 0;
}
