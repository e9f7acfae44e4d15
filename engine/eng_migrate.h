/* Live migration, scheduling from the store, load balancing and host
 * maintenance: the engine side of moving VMs between hosts.
 *
 * A migration is a job (store table `jobs`, kept in memory while it runs):
 * the engine picks the target (eng_sched over the cluster as the store and
 * the newest statistics show it), checks the per-host limits on outgoing
 * and incoming migrations, sets the VM to migrating and sends VmMigrate to
 * the source agent, which migrates peer to peer and reports JobProgress.
 * DONE records the VM on the target; FAILED or CANCELLED (or no word from
 * the source for migration.stale_after seconds) leave it on the source,
 * status up, with an event saying why. While a VM migrates, reconciliation
 * asks this module first (eng_migrate_on_vm_event / _on_report_vm), so the
 * copies on both hosts never make it flap. */
#ifndef ENG_MIGRATE_H
#define ENG_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "eng_ctx.h"
#include "eng_ops.h"

/* Event codes (stable; shown in the API). */
enum {
    ENG_EV_MIGRATION_STARTED = 230,
    ENG_EV_MIGRATION_DONE = 231,
    ENG_EV_MIGRATION_FAILED = 232,      /* failed, cancelled, timed out */
    ENG_EV_BALANCE_MOVE = 233,          /* load balancing proposes a move */
    ENG_EV_MAINTENANCE = 120,           /* preparing, a VM cannot move, done */
    ENG_EV_AFFINITY = 320,              /* affinity group added / removed */
};

/* Per-process settings (engine.yaml, migration.* and scheduling.*). */
typedef struct {
    unsigned max_outgoing;      /* per host, default 2 */
    unsigned max_incoming;      /* per host, default 2 */
    unsigned timeout_s;         /* the agent aborts after this; 0 = never */
    unsigned stale_s;           /* no word from the source: failed */
    unsigned balance_interval_s;/* load balancing and maintenance retries */
    unsigned balance_max_moves; /* migrations started per cluster per run */
    bool unsafe;                /* VIR_MIGRATE_UNSAFE (disks not shared) */
} eng_migrate_conf_t;

/* Defaults: 2, 2, 600, 30, 60, 2, unsafe true (qcow2 files at the same
 * path on every host are not recognised as shared storage). */
void eng_migrate_conf_init(eng_migrate_conf_t *c);

/* Load the jobs that were running when the engine stopped (they go on:
 * the source agent reports their end, or reconciliation finds where the
 * VM runs) and start the timers (1 s housekeeping, balancing interval).
 * Store in ctx->migrate yourself. NULL with an error recorded. */
eng_migrate_t *eng_migrate_new(eng_ctx_t *ctx, const eng_migrate_conf_t *conf);
/* Stop the timers and free; callbacks still pending run with
 * CMN_ERR_UNAVAILABLE. Jobs stay "started" in the store. Accepts NULL. */
void eng_migrate_destroy(eng_migrate_t **p);

/* Migrate VM `vm_ref` (id or name) to `host_ref` (id or name; NULL or ""
 * = the scheduler picks). -1 at once with the error recorded: not found,
 * not up (CMN_ERR_STATE), no host fits (CMN_ERR_UNAVAILABLE naming each
 * host's refusals), a limit reached (CMN_ERR_STATE). Otherwise 0 and `cb`
 * (may be NULL) fires once the source agent accepted or refused it; the
 * end is an event and the job's state. job_id (may be NULL; ENG_ID_LEN
 * bytes) gets the job id. */
int eng_migrate_start(eng_ctx_t *ctx, const char *vm_ref, const char *host_ref,
                      const char *user, eng_op_cb cb, void *opaque,
                      char *job_id);

/* Cancel the migration of VM `vm_ref`: JobCancel to the source agent; cb
 * fires with its answer. CMN_ERR_STATE if the VM is not migrating. */
int eng_migrate_cancel(eng_ctx_t *ctx, const char *vm_ref, const char *user,
                       eng_op_cb cb, void *opaque);

/* A JobProgress from host `host_id`, already checked by eng_agents. */
typedef struct {
    const char *job_id;
    const char *vm_id;
    int state;                  /* 1 running, 2 done, 3 failed, 4 cancelled */
    unsigned percent;
    uint64_t memory_total, memory_remaining, data_processed;
    uint64_t elapsed_ms, downtime_ms;
    int code;
    const char *message;
} eng_mig_progress_t;
void eng_migrate_on_progress(eng_ctx_t *ctx, const char *host_id,
                             const eng_mig_progress_t *p);

/* Reconciliation hooks, called for every VM an event or a full report
 * names: true when this module dealt with it (the caller must then leave
 * the VM alone): a VM that is migrating, or the old copy of one whose
 * migration ended less than 15 s ago (its events and reports may arrive
 * after the job's end). */
bool eng_migrate_on_vm_event(eng_ctx_t *ctx, const eng_vm_t *vm,
                             const char *host_id, int event, int detail);
/* `present`: the host's full report lists the VM; `state`, `reason` its
 * libvirt state then. */
bool eng_migrate_on_report_vm(eng_ctx_t *ctx, const eng_vm_t *vm,
                              const char *host_id, bool present, int state,
                              int reason);

/* {"progress", "target_host": {id, href, name}, "memory_remaining",
 * "job": {id, href}} of the VM's running migration, or NULL. New ref. */
json_t *eng_migrate_vm_json(eng_ctx_t *ctx, const char *vm_id);
/* A job as oVirt shows it: {"id", "href", "description", "status",
 * "start_time", "end_time", "progress", "vm", "source_host",
 * "target_host", "memory_remaining", "message"}. New ref. */
json_t *eng_migrate_job_json(eng_ctx_t *ctx, const eng_job_t *j);

/* Where to run `vm` (the scheduler over its cluster): `source` is the host
 * it leaves (migration) or NULL (start). Hosts at their incoming-migration
 * limit are left out (named in the error). 0 with out filled, or -1 with
 * CMN_ERR_UNAVAILABLE naming each host and why it was refused. */
int eng_migrate_pick(eng_ctx_t *ctx, const eng_vm_t *vm, const char *source,
                     char out[ENG_ID_LEN]);

/* Run load balancing and maintenance moves now (the timer does it every
 * balance_interval_s). Returns the number of migrations started. */
int eng_migrate_balance_now(eng_ctx_t *ctx);

/* Maintenance. Deactivate: an up (or non-responsive) host with no VMs goes
 * to maintenance at once; with VMs it becomes preparing_for_maintenance,
 * every VM is migrated away (the scheduler picks), and it reaches
 * maintenance when none is left. A VM that cannot move keeps it
 * preparing, with an event saying why; retried every balancing interval.
 * Activate: maintenance or preparing -> up (connecting without a session).
 * -1 with CMN_ERR_STATE if the host's status does not allow it. */
int eng_maint_deactivate(eng_ctx_t *ctx, const char *host_ref,
                         const char *user);
int eng_maint_activate(eng_ctx_t *ctx, const char *host_ref,
                       const char *user);

#endif /* ENG_MIGRATE_H */
