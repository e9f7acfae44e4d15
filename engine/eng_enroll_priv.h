/* Inside of eng_enroll: the key cache and routes that eng_enroll.c (ZAP,
 * gate, rate) and eng_enroll_admin.c (approve, revoke, register, tokens)
 * share. Not for other modules. */
#ifndef ENG_ENROLL_PRIV_H
#define ENG_ENROLL_PRIV_H

#include "eng_enroll.h"

#include <event2/event.h>

#define KEY_BUCKETS 1024
#define MAX_ROUTE 255

typedef struct s_key {
    eng_hostkey_t k;
    struct s_key *next;
} s_key_t;

typedef struct s_route {
    char host[ENG_ID_LEN];
    uint8_t route[MAX_ROUTE];
    size_t len;
    struct s_route *next;
} s_route_t;

struct eng_enroll {
    eng_ctx_t *ctx;
    eng_enroll_mode_t mode;
    char pub[CMN_KEY_Z85_LEN + 1];
    char sec[CMN_KEY_Z85_LEN + 1];
    s_key_t *keys[KEY_BUCKETS];
    s_route_t *routes[KEY_BUCKETS];
    size_t npending;
    uint64_t next_id;
    uint64_t dropped;           /* for rate-limited warnings */
    /* agents.pending_rate: new pending hosts; refusals summarized in a
     * warning event at most once a minute. */
    eng_rate_t rate;
    int64_t (*clock)(void);     /* NULL: cmn_mono_ms */
    uint64_t rate_refused;      /* since the start */
    uint64_t rate_unreported;   /* since the last summary event */
    bool rate_reported;         /* a summary event was made ... */
    int64_t rate_report_ms;     /* ... at this time */
    char rate_last[ENG_ID_LEN + CMN_KEY_FP_LEN + 16];   /* host and key */
    struct event *rate_timer;   /* flushes rate_unreported */
};

/* The cached row of public key `key`, or NULL; owned by `en`. */
s_key_t *eng_enroll_key_find(eng_enroll_t *en, const char *key);
/* Store and cache key row `k` (copied); -1 with the error recorded. */
int eng_enroll_key_put(eng_enroll_t *en, const eng_hostkey_t *k);
/* Forget the connection the host last spoke from (no error). */
void eng_enroll_route_forget(eng_enroll_t *en, const char *host);

#endif
