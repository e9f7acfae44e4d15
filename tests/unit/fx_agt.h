/* Fixtures shared by the agent link unit tests: what a link with a send
 * hook (agt_link_set_send_hook) sent, decoded, and waiting for a reply.
 * Static inline, like test_helpers.h. */
#ifndef FX_AGT_H
#define FX_AGT_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmn_rpc.h"
#include "test_helpers.h"

#define FX_AGT_MAXOUT 64

/* The frames a link sent, in order (owned; fx_agt_sent_clear frees). */
typedef struct {
    Herd__Envelope *out[FX_AGT_MAXOUT];
    size_t nout;
} fx_agt_sent_t;

/* Send hook: decode the frame into the fx_agt_sent_t `opaque` (frames past
 * FX_AGT_MAXOUT are dropped). Everything the agent sends must decode. */
static inline void
fx_agt_on_send(const uint8_t *data, size_t len, void *opaque)
{
    fx_agt_sent_t *s = opaque;
    Herd__Envelope *env = cmn_rpc_decode(data, len, 0, NULL);
    assert_non_null(env);
    if (s->nout < FX_AGT_MAXOUT)
        s->out[s->nout++] = env;
    else
        cmn_rpc_free(env);
}

/* Free the frames kept and start again from none. */
static inline void
fx_agt_sent_clear(fx_agt_sent_t *s)
{
    for (size_t i = 0; i < s->nout; i++)
        cmn_rpc_free(s->out[i]);
    s->nout = 0;
}

/* Run `base` until a frame answering `id` was sent (borrowed from s);
 * NULL after 5 s. */
static inline Herd__Envelope *
fx_agt_reply_to(struct event_base *base, fx_agt_sent_t *s, uint64_t id)
{
    for (int t = 0; t < 5000; t++) {
        for (size_t i = 0; i < s->nout; i++)
            if (s->out[i]->in_reply_to == id)
                return s->out[i];
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    return NULL;
}

#endif /* FX_AGT_H */
