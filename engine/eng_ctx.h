/* The engine's one daemon context, passed explicitly everywhere. */
#ifndef ENG_CTX_H
#define ENG_CTX_H

#include "eng_conf.h"
#include "eng_stats.h"
#include "eng_store.h"

struct event_base;
typedef struct eng_agents eng_agents_t;     /* eng_agents.h */
typedef struct eng_rest eng_rest_t;         /* eng_rest.h */
typedef struct eng_migrate eng_migrate_t;   /* eng_migrate.h */

typedef struct eng_ctx {
    struct event_base *base;
    eng_conf_t conf;
    eng_store_t *store;
    eng_stats_t *stats;
    eng_agents_t *agents;
    eng_rest_t *rest;
    eng_migrate_t *migrate;         /* NULL: migration unavailable */
    char engine_id[ENG_ID_LEN];     /* new at every start */
    int64_t started_ms;
} eng_ctx_t;

/* Record an event in the store and log it at the matching level. Never
 * fails for the caller: a store error is logged. host_id, vm_id, user may
 * be NULL. */
void eng_event(eng_ctx_t *ctx, eng_severity_t sev, int code,
               const char *host_id, const char *vm_id, const char *user,
               const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif /* ENG_CTX_H */
