/* The worker pool: blocking work (libvirt, qemu-img, /proc) runs on a few
 * pthreads and its completion runs back on the event loop. */
#ifndef AGT_POOL_H
#define AGT_POOL_H

#include <stdbool.h>

struct event_base;

typedef struct agt_pool agt_pool_t;

/* Runs on a worker thread; may block. */
typedef void (*agt_pool_work_fn)(void *arg);
/* Runs on the loop thread after the work (never blocks). `cancelled` is true
 * when the pool is being destroyed and the work did not run or its result
 * cannot be delivered: the callback must then only free `arg`. */
typedef void (*agt_pool_done_fn)(void *arg, bool cancelled);

/* Start `workers` threads posting completions to `base` (which must have
 * been created after evthread_use_pthreads()). NULL with an error recorded. */
agt_pool_t *agt_pool_new(struct event_base *base, int workers);

/* Queue `work(arg)` on a worker, then `done(arg, false)` on the loop. work
 * may be NULL (only `done` runs on the loop: a post from any thread).
 * Callable from any thread. -1 with CMN_ERR_UNAVAILABLE if the pool is
 * stopping (then nothing runs and `arg` stays the caller's). */
int agt_pool_submit(agt_pool_t *pool, agt_pool_work_fn work,
                    agt_pool_done_fn done, void *arg);

/* Post `done(arg, false)` to the loop from any thread. Same errors. */
int agt_pool_post(agt_pool_t *pool, agt_pool_done_fn done, void *arg);

/* True once destruction has started: long-running work should stop early. */
bool agt_pool_stopping(const agt_pool_t *pool);

/* Number of jobs queued or running (for tests and logs). */
unsigned agt_pool_busy(agt_pool_t *pool);

/* Stop accepting work, let running work finish (waits for it), call every
 * undelivered `done` with cancelled = true on the calling thread, join the
 * workers and free. Call on the loop thread. Accepts NULL; sets *p = NULL. */
void agt_pool_destroy(agt_pool_t **p);

#endif /* AGT_POOL_H */
