/* Inside of the migration module, shared by eng_migrate.c (jobs, progress,
 * reconciliation hooks), eng_migrate_sched.c (scheduler inputs from the
 * store, load balancing, maintenance) and eng_agents_mig.c (the wire). */
#ifndef ENG_MIGRATE_PRIV_H
#define ENG_MIGRATE_PRIV_H

#include "eng_agents.h"
#include "eng_migrate.h"
#include "eng_sched.h"

struct event;

typedef struct eng_mig {
    struct eng_mig *next;
    eng_job_t job;
    uint64_t last_word_mono;        /* accept or progress from the source */
    uint64_t last_store_mono;       /* progress written to the store */
    eng_op_cb cb;                   /* fires once, when accepted/refused */
    void *opaque;
    bool accepted;
    bool cancel_sent;
    bool from_store;                /* loaded at start-up */
} eng_mig_t;

/* A migration that ended lately: events and reports that were already on
 * their way from either host must not undo its outcome. */
#define ENG_MIG_RECENT 64
#define ENG_MIG_RECENT_MS 15000
typedef struct {
    char vm_id[ENG_ID_LEN];
    char source[ENG_ID_LEN];
    char target[ENG_ID_LEN];
    bool landed;
    uint64_t ended_mono;
} eng_mig_recent_t;

struct eng_migrate {
    eng_mig_recent_t recent[ENG_MIG_RECENT];
    size_t recent_next;
    eng_ctx_t *ctx;
    eng_migrate_conf_t conf;
    struct event *tick;             /* 1 s: stale jobs */
    struct event *balance;          /* balance_interval_s */
    eng_mig_t *jobs;                /* running */
    json_t *track;                  /* host id -> [over_since, under_since] */
    uint64_t last_prune_mono;       /* ended jobs older than events.keep_days */
};

/* Running jobs with `host_id` as source (outgoing) or target. */
unsigned eng_mig_count(eng_migrate_t *m, const char *host_id, bool outgoing);
/* The running job of a VM, or NULL. */
eng_mig_t *eng_mig_find_vm(eng_migrate_t *m, const char *vm_id);

/* After a job ended: a source host preparing for maintenance may be done. */
void eng_maint_check(eng_ctx_t *ctx, const char *host_id);

/* Wire requests (eng_agents_mig.c); same contract as eng_agents_vm_op. */
int eng_agents_vm_migrate(eng_agents_t *a, const char *host_id,
                          const eng_job_t *job, const char *dest_uri,
                          unsigned bandwidth_mbps, unsigned max_downtime_ms,
                          unsigned timeout_s, bool unsafe, eng_agents_cb cb,
                          void *opaque);
int eng_agents_job_cancel(eng_agents_t *a, const char *host_id,
                          const char *job_id, eng_agents_cb cb, void *opaque);

/* A JobProgress notification from `host_id`: checked, then handed to
 * eng_migrate_on_progress. -1 with CMN_ERR_INVALID naming the field. */
struct Herd__JobProgress;
int eng_agt_on_job_progress(eng_agents_t *a, const char *host_id,
                            const struct Herd__JobProgress *p);

#endif /* ENG_MIGRATE_PRIV_H */
