/* Outgoing live migrations: the source agent drives them peer to peer
 * (virDomainMigrateToURI3 with LIVE | PEER2PEER | PERSIST_DEST |
 * UNDEFINE_SOURCE) on a worker, polls libvirt's job statistics every
 * 500 ms from the loop (another worker call) and reports progress and the
 * end through a callback on the loop. Cancel and timeout abort libvirt's
 * job (virDomainAbortJob). A per-host limit on concurrent outgoing
 * migrations is a safety net behind the engine's own. */
#ifndef AGT_MIGRATE_H
#define AGT_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agt_pool.h"
#include "agt_virt.h"
#include "cmn_util.h"

struct event_base;

typedef struct agt_migrate agt_migrate_t;

#define AGT_MIG_URI_MAX 512
#define AGT_MIG_MAX_BANDWIDTH_MBPS 1000000u     /* 1 Tbit/s */
#define AGT_MIG_MAX_DOWNTIME_MS 600000u
#define AGT_MIG_MAX_TIMEOUT_S 86400u

/* A VmMigrate request, as the agent's own struct. */
typedef struct {
    char job_id[CMN_UUID_STRLEN + 1];
    char vm_id[CMN_UUID_STRLEN + 1];
    char dest_uri[AGT_MIG_URI_MAX];     /* the target's libvirt URI */
    unsigned bandwidth_mbps;            /* Mbit/s, 0 = unlimited */
    unsigned max_downtime_ms;           /* 0 = libvirt's default */
    unsigned timeout_s;                 /* abort after this long, 0 = never */
    bool unsafe;                        /* VIR_MIGRATE_UNSAFE */
    bool copy_storage;                  /* VIR_MIGRATE_NON_SHARED_DISK */
} agt_mig_req_t;

/* Same numbers as the wire's JobState. */
typedef enum {
    AGT_JOB_RUNNING = 1,
    AGT_JOB_DONE = 2,
    AGT_JOB_FAILED = 3,
    AGT_JOB_CANCELLED = 4,
} agt_job_state_t;

/* A JobProgress, as the agent's own struct. */
typedef struct {
    char job_id[CMN_UUID_STRLEN + 1];
    char vm_id[CMN_UUID_STRLEN + 1];
    agt_job_state_t state;
    unsigned percent;                   /* 0..100 */
    uint64_t memory_total;              /* bytes */
    uint64_t memory_remaining;
    uint64_t data_processed;
    uint64_t elapsed_ms;
    uint64_t downtime_ms;
    int code;                           /* cmn_code_t when failed/cancelled */
    char message[1024];
} agt_mig_progress_t;

/* Runs on the loop; `p` lives only during the call. */
typedef void (*agt_mig_report_fn)(const agt_mig_progress_t *p, void *opaque);

/* A migration runner using `virt` and `pool` (borrowed; the pool must be
 * destroyed before this), at most `max_outgoing` (>= 1) at a time. NULL
 * with an error recorded. */
agt_migrate_t *agt_migrate_new(struct event_base *base, agt_virt_t *virt,
                               agt_pool_t *pool, unsigned max_outgoing,
                               agt_mig_report_fn report, void *opaque);

/* Free (after the pool is destroyed: no migration can still be running).
 * Accepts NULL; sets *p = NULL. */
void agt_migrate_destroy(agt_migrate_t **p);

/* 0 if every field of `r` is usable, else -1 with CMN_ERR_INVALID naming
 * the field ("vm_migrate.dest_uri: ..."). */
int agt_migrate_check(const agt_mig_req_t *r);

/* Check `r` and start it on a worker. 0 when accepted (progress and the
 * end come through the report callback); -1 with CMN_ERR_INVALID,
 * CMN_ERR_EXISTS (same job id running), CMN_ERR_STATE (the VM is already
 * migrating, or the limit of outgoing migrations is reached) or
 * CMN_ERR_UNAVAILABLE (no libvirt or pool). */
int agt_migrate_start(agt_migrate_t *m, const agt_mig_req_t *r);

/* Abort the running job `job_id`: it then ends CANCELLED (or DONE if
 * libvirt finished first). -1 with CMN_ERR_NOT_FOUND if no such job runs,
 * CMN_ERR_INVALID if job_id is not a UUID. */
int agt_migrate_cancel(agt_migrate_t *m, const char *job_id);

/* Abort every running migration now (virDomainAbortJob, on the calling
 * thread: for shutdown, before the pool is destroyed, so its workers
 * return instead of holding the agent until the migrations end). The VMs
 * stay on this host. Accepts NULL. */
void agt_migrate_abort_all(agt_migrate_t *m);

/* Number of outgoing migrations running now. */
unsigned agt_migrate_running(const agt_migrate_t *m);

/* Percent done from libvirt's memory figures (0..100; 99 at most while
 * running). Exposed for tests. */
unsigned agt_migrate_percent(uint64_t total, uint64_t remaining);

#endif /* AGT_MIGRATE_H */
