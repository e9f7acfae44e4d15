/* Running a libevent loop for a while in unit tests. Static inline, like
 * test_helpers.h. */
#ifndef FX_LOOP_H
#define FX_LOOP_H

#include <event2/event.h>

#include "test_helpers.h"

static inline void
fx_loop_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopbreak(arg);
}

/* Run `base` until a callback breaks the loop or `ms` pass. */
static inline void
fx_loop_run(struct event_base *base, int ms)
{
    struct event *t = evtimer_new(base, fx_loop_on_deadline, base);
    assert_non_null(t);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(t, &tv);
    event_base_dispatch(base);
    event_free(t);
}

#endif /* FX_LOOP_H */
