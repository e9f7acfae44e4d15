/* Failed password logins per client address (auth.max_failures): a token
 * bucket per address (eng_rate_t) that each failed check takes from, in a
 * table of at most `capacity` addresses. A check is allowed while a take
 * would succeed; refusals take nothing, so an address gets exactly the
 * configured number of checks a minute however fast it asks. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "eng_enroll.h"

CMN_LOG_INIT("rest.limit");

#define WINDOW_MS 60000
/* eng_rate_t.level counts in 1/60000 of a take (eng_enroll.h). */
#define RATE_UNIT 60000

typedef struct {
    char addr[ENG_REST_ADDR_LEN];
    eng_rate_t rate;
    int64_t last_fail_ms;
    int64_t reported_ms;
    bool reported;              /* reported_ms is set */
    unsigned fails;             /* failures since the last report */
} s_entry_t;

struct eng_rest_limit {
    int64_t per_min;
    size_t cap;
    size_t n;                   /* entries [0, n) in use */
    s_entry_t *e;
};

eng_rest_limit_t *
eng_rest_limit_new(int64_t per_min, size_t capacity)
{
    eng_rest_limit_t *l = calloc(1, sizeof(*l));
    if (!l) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    l->per_min = per_min > 0 ? per_min : 0;
    l->cap = capacity > 0 ? capacity : 1;
    if (l->per_min > 0) {
        l->e = calloc(l->cap, sizeof(*l->e));
        if (!l->e) {
            free(l);
            CMN_ERR(CMN_ERR_NOMEM, "out of memory for %zu login limit "
                    "entries", capacity);
            return NULL;
        }
    }
    return l;
}

void
eng_rest_limit_destroy(eng_rest_limit_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->e);
    free(*p);
    *p = NULL;
}

static s_entry_t *
s_find(const eng_rest_limit_t *l, const char *addr)
{
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->e[i].addr, addr, sizeof(l->e[i].addr) - 1) == 0)
            return &l->e[i];
    return NULL;
}

/* A slot for a new address: a free one, else the one whose last failure
 * is the oldest (a minute idle, its bucket is full again: it knows nothing
 * worth keeping). */
static s_entry_t *
s_slot(eng_rest_limit_t *l)
{
    if (l->n < l->cap)
        return &l->e[l->n++];
    s_entry_t *old = &l->e[0];
    for (size_t i = 1; i < l->n; i++)
        if (l->e[i].last_fail_ms < old->last_fail_ms)
            old = &l->e[i];
    CMN_DEBUG("login limit table full (%zu addresses): %s forgotten",
              l->cap, old->addr);
    return old;
}

int64_t
eng_rest_limit_wait(const eng_rest_limit_t *l, const char *addr,
                    int64_t now_ms)
{
    if (!l || l->per_min == 0 || !addr)
        return 0;
    const s_entry_t *e = s_find(l, addr);
    if (!e)
        return 0;
    eng_rate_t r = e->rate;
    if (eng_rate_take(&r, now_ms))
        return 0;
    /* r is refilled up to now_ms: the rest of one take comes at per_min
     * units a millisecond. */
    int64_t wait = (RATE_UNIT - r.level + l->per_min - 1) / l->per_min;
    return wait > 0 ? wait : 1;
}

bool
eng_rest_limit_fail(eng_rest_limit_t *l, const char *addr, int64_t now_ms,
                    unsigned *fails, int64_t *wait_ms)
{
    if (!l || l->per_min == 0 || !addr)
        return false;
    s_entry_t *e = s_find(l, addr);
    if (!e || now_ms - e->last_fail_ms >= WINDOW_MS) {
        if (!e) {
            e = s_slot(l);
            memset(e, 0, sizeof(*e));
            snprintf(e->addr, sizeof(e->addr), "%s", addr);
        }
        /* New, or idle for a minute: a full bucket, a fresh count (the
         * last report, if any, is a minute old). */
        eng_rate_init(&e->rate, l->per_min, now_ms);
        e->fails = 0;
    }
    e->last_fail_ms = now_ms;
    e->fails++;
    /* The check ran because a take was possible; take it now. */
    (void)eng_rate_take(&e->rate, now_ms);
    int64_t wait = eng_rest_limit_wait(l, addr, now_ms);
    if (wait == 0 ||
        (e->reported && now_ms - e->reported_ms < WINDOW_MS))
        return false;
    if (fails)
        *fails = e->fails;
    if (wait_ms)
        *wait_ms = wait;
    e->reported = true;
    e->reported_ms = now_ms;
    e->fails = 0;
    return true;
}

size_t
eng_rest_limit_count(const eng_rest_limit_t *l)
{
    return l ? l->n : 0;
}
