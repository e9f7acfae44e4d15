#include "agt_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.pool");

typedef struct agt_job {
    struct agt_job *next;
    agt_pool_work_fn work;
    agt_pool_done_fn done;
    void *arg;
} agt_job_t;

typedef struct {
    agt_job_t *head, *tail;
} agt_jobq_t;

struct agt_pool {
    struct event_base *base;
    struct event *ev;           /* reads `efd` on the loop */
    int efd;                    /* eventfd: completions waiting */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    agt_jobq_t todo;            /* waiting for a worker */
    agt_jobq_t done;            /* waiting for the loop */
    unsigned busy;              /* queued + running */
    int stopping;               /* atomic */
    int nthreads;
    pthread_t *threads;
};

static void
s_q_push(agt_jobq_t *q, agt_job_t *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static agt_job_t *
s_q_pop(agt_jobq_t *q)
{
    agt_job_t *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
    }
    return j;
}

static void
s_wake_loop(agt_pool_t *pool)
{
    uint64_t one = 1;
    ssize_t n = write(pool->efd, &one, sizeof(one));
    (void)n;    /* EAGAIN means the counter is already non-zero */
}

static void *
s_worker(void *opaque)
{
    agt_pool_t *pool = opaque;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->todo.head && !__atomic_load_n(&pool->stopping, __ATOMIC_ACQUIRE))
            pthread_cond_wait(&pool->cond, &pool->lock);
        if (__atomic_load_n(&pool->stopping, __ATOMIC_ACQUIRE))
            break;
        agt_job_t *j = s_q_pop(&pool->todo);
        pthread_mutex_unlock(&pool->lock);
        cmn_err_reset();
        j->work(j->arg);
        pthread_mutex_lock(&pool->lock);
        s_q_push(&pool->done, j);
        s_wake_loop(pool);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void
s_on_done(evutil_socket_t fd, short what, void *opaque)
{
    (void)what;
    agt_pool_t *pool = opaque;
    uint64_t cnt;
    ssize_t n = read(fd, &cnt, sizeof(cnt));
    (void)n;
    pthread_mutex_lock(&pool->lock);
    agt_job_t *list = pool->done.head;
    pool->done.head = pool->done.tail = NULL;
    pthread_mutex_unlock(&pool->lock);
    while (list) {
        agt_job_t *j = list;
        list = j->next;
        cmn_err_reset();
        j->done(j->arg, false);
        free(j);
        pthread_mutex_lock(&pool->lock);
        pool->busy--;
        pthread_mutex_unlock(&pool->lock);
    }
}

agt_pool_t *
agt_pool_new(struct event_base *base, int workers)
{
    if (workers < 1 || workers > 256) {
        CMN_ERR(CMN_ERR_INVALID, "worker count %d out of range", workers);
        return NULL;
    }
    agt_pool_t *pool = calloc(1, sizeof(*pool));
    if (!pool) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pool->base = base;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->cond, NULL);
    pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pool->efd < 0) {
        CMN_ERR_ERRNO(CMN_ERR_INTERNAL, "eventfd");
        goto err_free;
    }
    pool->ev = event_new(base, pool->efd, EV_READ | EV_PERSIST, s_on_done, pool);
    if (!pool->ev || event_add(pool->ev, NULL) < 0) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot add the pool event");
        goto err_close;
    }
    pool->threads = calloc((size_t)workers, sizeof(pthread_t));
    if (!pool->threads) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto err_event;
    }
    for (int i = 0; i < workers; i++) {
        int rc = pthread_create(&pool->threads[i], NULL, s_worker, pool);
        if (rc != 0) {
            errno = rc;
            CMN_ERR_ERRNO(CMN_ERR_INTERNAL, "cannot start worker thread");
            agt_pool_destroy(&pool);
            return NULL;
        }
        pool->nthreads++;
    }
    CMN_DEBUG("started %d workers", workers);
    return pool;

err_event:
    event_free(pool->ev);
err_close:
    close(pool->efd);
err_free:
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    return NULL;
}

int
agt_pool_submit(agt_pool_t *pool, agt_pool_work_fn work, agt_pool_done_fn done,
                void *arg)
{
    if (!pool)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "no worker pool");
    agt_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&pool->lock);
    if (__atomic_load_n(&pool->stopping, __ATOMIC_ACQUIRE)) {
        pthread_mutex_unlock(&pool->lock);
        free(j);
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "the agent is shutting down");
    }
    pool->busy++;
    if (work) {
        s_q_push(&pool->todo, j);
        pthread_cond_signal(&pool->cond);
    } else {
        s_q_push(&pool->done, j);
        s_wake_loop(pool);
    }
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

int
agt_pool_post(agt_pool_t *pool, agt_pool_done_fn done, void *arg)
{
    return agt_pool_submit(pool, NULL, done, arg);
}

bool
agt_pool_stopping(const agt_pool_t *pool)
{
    return !pool || __atomic_load_n(&pool->stopping, __ATOMIC_ACQUIRE);
}

unsigned
agt_pool_busy(agt_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    unsigned n = pool->busy;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void
agt_pool_destroy(agt_pool_t **p)
{
    if (!p || !*p)
        return;
    agt_pool_t *pool = *p;
    *p = NULL;
    pthread_mutex_lock(&pool->lock);
    __atomic_store_n(&pool->stopping, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    free(pool->threads);
    agt_jobq_t *qs[2] = { &pool->done, &pool->todo };
    for (int q = 0; q < 2; q++) {
        agt_job_t *j;
        while ((j = s_q_pop(qs[q]))) {
            j->done(j->arg, true);
            free(j);
        }
    }
    event_free(pool->ev);
    close(pool->efd);
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
