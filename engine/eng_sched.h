/* The scheduler: which host of a cluster runs a VM, and which VMs to move
 * to balance a cluster. Pure functions on plain structs: no store, no
 * sockets, no clock (the caller passes now_ms). The caller builds the inputs
 * from the store and the newest statistics; every pointer in them stays the
 * caller's and is only read during the call.
 *
 * Placement (eng_sched_select) runs every filter on every host; a host that
 * passes all of them is a candidate, and the best candidate by weight wins:
 *
 *   filter      refuses a host when
 *   up          its status is not up
 *   migration   the VM runs there now (vm.current_host_id)
 *   pinning     the VM is pinned to other hosts
 *   cpu count   host logical CPUs < VM vCPUs
 *   cpu type    cluster cpu_type set and the host's cpu_model differs and
 *               the host lacks the flag "model_<cpu_type>"
 *   cpu flags   a flag the VM requires is missing on the host
 *   memory      committed + pending + VM memory > physical * overcommit %
 *   cpu load    load >= HighUtilization for CpuOverCommitDurationMinutes
 *               (oVirt's CPUOverloaded; every policy)
 *   affinity    enforcing positive group: another running member is on
 *               a different host; enforcing negative group: another member
 *               runs on this host
 *
 * Weights, best first: non-enforcing affinity (hosts with more members of
 * the VM's soft positive groups, fewer of its soft negative ones), then the
 * policy:
 *   none                lowest (committed + pending) / capacity memory ratio
 *   evenly_distributed  lowest CPU load (whole percent), then most free
 *                       memory
 *   power_saving        hosts below HighUtilization before those above,
 *                       hosts with VMs before empty ones, then highest CPU
 *                       load (whole percent), then least free memory
 * and last the order of the host list.
 *
 * Load balancing (eng_sched_balance) only proposes migrations; running
 * them, and how often (rate limiting, per-host migration limits), is the
 * caller's. */
#ifndef ENG_SCHED_H
#define ENG_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eng_store.h"

typedef enum {
    ENG_SCHED_NONE = 0,
    ENG_SCHED_EVENLY_DISTRIBUTED,
    ENG_SCHED_POWER_SAVING,
    ENG_SCHED__LAST
} eng_sched_kind_t;

/* "none", "evenly_distributed", "power_saving"; "unknown" if out of range. */
const char *eng_sched_kind_name(eng_sched_kind_t k);
/* Those names in any case (oVirt writes "Evenly_Distributed"); -1 if not
 * one of them. */
int eng_sched_kind_parse(const char *name);

/* A cluster's scheduling policy with oVirt's parameter names. */
typedef struct {
    eng_sched_kind_t kind;
    int memory_overcommit;          /* percent of physical memory, 100 = none */
    int high_utilization;           /* HighUtilization, % CPU (50..99) */
    int low_utilization;            /* LowUtilization, % CPU (0..49),
                                       power_saving only */
    int cpu_overcommit_duration_min;/* CpuOverCommitDurationMinutes (1..) */
    int64_t max_free_mem_over_mb;   /* MaxFreeMemoryForOverUtilized, MiB;
                                       0 = no memory-based balancing */
    int64_t min_free_mem_under_mb;  /* MinFreeMemoryForUnderUtilized, MiB */
} eng_sched_policy_t;

#define ENG_SCHED_DEFAULT_HIGH 80
#define ENG_SCHED_DEFAULT_LOW 20
#define ENG_SCHED_DEFAULT_DURATION_MIN 2

/* Fill *p with oVirt's defaults for `kind`: overcommit 100, High 80,
 * Low 20, duration 2, memory thresholds 0 (off). */
void eng_sched_policy_init(eng_sched_policy_t *p, eng_sched_kind_t kind);

/* Set one parameter by its oVirt name ("HighUtilization", "LowUtilization",
 * "CpuOverCommitDurationMinutes", "MaxFreeMemoryForOverUtilized",
 * "MinFreeMemoryForUnderUtilized") from its decimal text. -1 with
 * CMN_ERR_INVALID naming the key (unknown, or value not a number in range),
 * or CMN_ERR_UNSUPPORTED for oVirt's power-management keys
 * (HostsInReserve, EnableAutomaticHostPowerManagement); *p is unchanged. */
int eng_sched_policy_set(eng_sched_policy_t *p, const char *key,
                         const char *value);

/* 0 if every field is in range, else -1 with
 * CMN_ERR_INVALID naming the field. */
int eng_sched_policy_check(const eng_sched_policy_t *p);

/* An affinity group the VM belongs to, seen from that VM. */
typedef struct {
    const char *name;
    bool positive;                  /* true: together; false: apart */
    bool enforcing;                 /* true: a filter; false: a weight */
    size_t nmembers;                /* the other members */
    const char *const *member_hosts;/* where each runs now or is on its
                                       way to; NULL or "" if it is down */
    const char *const *member_ids;  /* may be NULL; eng_sched_balance uses
                                       it to follow the moves it proposes */
} eng_sched_group_t;

/* What a VM needs of a host. */
typedef struct {
    const char *id;
    const char *name;               /* for messages; NULL: the id */
    uint64_t mem_bytes;
    uint32_t vcpus;
    const char *cpu_type;           /* the cluster's; NULL or "" = any */
    size_t ncpu_flags;
    const char *const *cpu_flags;   /* flags it requires */
    size_t npinned;                 /* 0 = any host */
    const char *const *pinned_host_ids;
    const char *current_host_id;    /* migration source, else NULL */
    size_t ngroups;
    const eng_sched_group_t *groups;
} eng_sched_vm_t;

/* A candidate host as the engine sees it now. */
typedef struct {
    const char *id;
    const char *name;               /* for messages; NULL: the id */
    eng_host_status_t status;
    uint32_t cpu_count;             /* logical CPUs */
    const char *cpu_model;          /* NULL if unknown */
    size_t ncpu_flags;
    const char *const *cpu_flags;
    uint64_t mem_bytes;             /* physical */
    uint64_t mem_committed_bytes;   /* VMs running there (incl. outgoing) */
    uint64_t mem_pending_bytes;     /* VMs on their way: starting there,
                                       incoming migrations */
    unsigned nvms;                  /* VMs running there or on their way */
    double cpu_load;                /* percent of all its CPUs, 0..100 */
    int64_t over_since_ms;          /* load >= HighUtilization since; 0 no */
    int64_t under_since_ms;         /* load <= LowUtilization since; 0 no */
} eng_sched_host_t;

/* Record a new CPU load sample taken at now_ms in h->cpu_load and keep
 * h->over_since_ms / h->under_since_ms up to date (call it for every
 * sample; both start at 0). */
void eng_sched_host_track(eng_sched_host_t *h, const eng_sched_policy_t *p,
                          double cpu_load, int64_t now_ms);

/* Count `vm` as on its way to `h` (pending memory, one more VM), e.g. to
 * place several VMs in a row. */
void eng_sched_host_reserve(eng_sched_host_t *h, const eng_sched_vm_t *vm);

/* True if `h` passes every filter for `vm`. Otherwise false, and `why`
 * (may be NULL; truncated to len) gets the refusals, comma-separated:
 * "memory (needs 2048 MiB, 512 MiB free)". Inputs are the caller's. */
bool eng_sched_host_fits(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                         const eng_sched_host_t *h, int64_t now_ms,
                         char *why, size_t len);

/* The index in hosts[] of the host to run `vm` on. -1 with
 * CMN_ERR_UNAVAILABLE when no host passes the filters, the message listing
 * every host with its refusals ("no host can run VM web1: h1: memory
 * (needs 2048 MiB, 512 MiB free); h2: not up (non_responsive)"); -1 with
 * CMN_ERR_INVALID on bad input (policy out of range, no VM id). */
int eng_sched_select(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                     const eng_sched_host_t *hosts, size_t nhosts,
                     int64_t now_ms);

/* A running VM, for load balancing. */
typedef struct {
    eng_sched_vm_t vm;              /* current_host_id is ignored: `host` */
    size_t host;                    /* index in hosts[] where it runs */
    double cpu_load;                /* percent of its host's CPUs */
    bool migratable;                /* false: leave it where it is */
} eng_sched_running_t;

/* A proposed migration. The pointers point into the caller's inputs. */
typedef struct {
    size_t vm;                      /* index in vms[] */
    size_t from, to;                /* indexes in hosts[] */
    const char *vm_id, *from_id, *to_id;
} eng_sched_move_t;

/* Propose at most `max` migrations that balance the cluster by its policy,
 * into out[] (room for max). Returns how many (0 if none is needed or
 * possible), or -1 with CMN_ERR_INVALID on bad input.
 *   evenly_distributed: VMs leave hosts whose load has been >=
 *     HighUtilization for CpuOverCommitDurationMinutes (most loaded first,
 *     the VM using least CPU first) for hosts below min(High * 80 %,
 *     High - 10); then, when MaxFreeMemoryForOverUtilized is set, hosts
 *     with less free memory than that and more than one VM send VMs to
 *     hosts with more free memory than MinFreeMemoryForUnderUtilized.
 *   power_saving: the same, and hosts whose load has been <= LowUtilization
 *     for that long are emptied (fewest VMs first) onto the others, but
 *     only when all their VMs can move; a host that receives VMs is not
 *     emptied.
 * Every move passes eng_sched_host_fits against the hosts as the earlier
 * moves leave them, and is expected to leave its target below
 * HighUtilization. No VM moves twice. */
int eng_sched_balance(const eng_sched_policy_t *p,
                      const eng_sched_host_t *hosts, size_t nhosts,
                      const eng_sched_running_t *vms, size_t nvms,
                      int64_t now_ms, size_t max, eng_sched_move_t *out);

#endif /* ENG_SCHED_H */
