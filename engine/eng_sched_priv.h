/* Inside of the scheduler: what placement and filters (eng_sched.c) lend
 * to load balancing (eng_sched_balance.c). Not for other modules. */
#ifndef ENG_SCHED_PRIV_H
#define ENG_SCHED_PRIV_H

#include "eng_sched.h"

#define MIB (1024ULL * 1024ULL)

/* A text buffer that truncates quietly (p NULL or len 0: writes nothing). */
typedef struct {
    char *p;
    size_t len, off;
} eng_sched_buf_t;

/* True if h has been at or over high_utilization for the policy's
 * duration at now_ms. */
bool eng_sched_over(const eng_sched_policy_t *p, const eng_sched_host_t *h,
                    int64_t now_ms);
/* True if h has been at or under low_utilization for that duration. */
bool eng_sched_under(const eng_sched_policy_t *p, const eng_sched_host_t *h,
                     int64_t now_ms);
/* Memory left on h under the policy's overcommit, in bytes (0 if none). */
uint64_t eng_sched_mem_avail(const eng_sched_policy_t *p,
                             const eng_sched_host_t *h);
/* The host's or VM's name for messages (its id if it has none; borrowed). */
const char *eng_sched_hname(const eng_sched_host_t *h);
const char *eng_sched_vname(const eng_sched_vm_t *vm);
/* True if a and b are the same non-empty string. */
bool eng_sched_eq(const char *a, const char *b);
/* Run every filter of vm on h; the number of refusals, described in b.
 * hosts[] only lends names to the messages (may be NULL). */
unsigned eng_sched_filter(const eng_sched_policy_t *p,
                          const eng_sched_vm_t *vm, const eng_sched_host_t *h,
                          const eng_sched_host_t *hosts, size_t nhosts,
                          int64_t now_ms, eng_sched_buf_t *b);
/* < 0 if a is the better host for vm, > 0 if b is, 0 if equal. */
int eng_sched_compare(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                      const eng_sched_host_t *a, const eng_sched_host_t *b);
/* Check a VM's or the hosts' input lists: -1 with CMN_ERR_INVALID. */
int eng_sched_check_vm(const eng_sched_vm_t *vm);
int eng_sched_check_hosts(const eng_sched_host_t *hosts, size_t nhosts);

#endif
