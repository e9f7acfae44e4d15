#include "eng_sched.h"
#include "eng_sched_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("eng.sched");

/* Room for the refusal list in an error (cmn_error_t.message is 1024). */
#define MSG_ROOM 1000

static const char *const s_kind_names[ENG_SCHED__LAST] = {
    [ENG_SCHED_NONE] = "none",
    [ENG_SCHED_EVENLY_DISTRIBUTED] = "evenly_distributed",
    [ENG_SCHED_POWER_SAVING] = "power_saving",
};

const char *eng_sched_kind_name(eng_sched_kind_t k)
{
    if ((int)k < 0 || k >= ENG_SCHED__LAST)
        return "unknown";
    return s_kind_names[k];
}

int eng_sched_kind_parse(const char *name)
{
    if (!name)
        return -1;
    for (int k = 0; k < ENG_SCHED__LAST; k++)
        if (strcasecmp(name, s_kind_names[k]) == 0)
            return k;
    return -1;
}

void eng_sched_policy_init(eng_sched_policy_t *p, eng_sched_kind_t kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->memory_overcommit = 100;
    p->high_utilization = ENG_SCHED_DEFAULT_HIGH;
    p->low_utilization = ENG_SCHED_DEFAULT_LOW;
    p->cpu_overcommit_duration_min = ENG_SCHED_DEFAULT_DURATION_MIN;
}

/* ---- parameters ------------------------------------------------------- */

typedef struct {
    const char *key;
    int64_t min, max;
} s_param_t;

static const s_param_t s_params[] = {
    {"HighUtilization", 50, 99},
    {"LowUtilization", 0, 49},
    {"CpuOverCommitDurationMinutes", 1, 1440},
    {"MaxFreeMemoryForOverUtilized", 0, INT64_C(1) << 40},
    {"MinFreeMemoryForUnderUtilized", 0, INT64_C(1) << 40},
};

int eng_sched_policy_set(eng_sched_policy_t *p, const char *key,
                         const char *value)
{
    if (!key)
        return CMN_ERR(CMN_ERR_INVALID, "scheduling policy: no parameter name");
    size_t i;
    for (i = 0; i < sizeof(s_params) / sizeof(s_params[0]); i++)
        if (strcmp(key, s_params[i].key) == 0)
            break;
    if (strcmp(key, "HostsInReserve") == 0 ||
        strcmp(key, "EnableAutomaticHostPowerManagement") == 0)
        return CMN_ERR(CMN_ERR_UNSUPPORTED,
                       "scheduling policy: %s is not supported (Herd does not "
                       "power hosts off)", key);
    if (i == sizeof(s_params) / sizeof(s_params[0]))
        return CMN_ERR(CMN_ERR_INVALID,
                       "scheduling policy: unknown parameter '%.100s'", key);
    int64_t v;
    char what[128];
    snprintf(what, sizeof(what), "scheduling policy parameter %s", key);
    if (cmn_parse_int64(value ? value : "", s_params[i].min, s_params[i].max,
                        what, &v) < 0)
        return -1;
    switch (i) {
    case 0: p->high_utilization = (int)v; break;
    case 1: p->low_utilization = (int)v; break;
    case 2: p->cpu_overcommit_duration_min = (int)v; break;
    case 3: p->max_free_mem_over_mb = v; break;
    default: p->min_free_mem_under_mb = v; break;
    }
    return 0;
}

int eng_sched_policy_check(const eng_sched_policy_t *p)
{
    if (!p)
        return CMN_ERR(CMN_ERR_INVALID, "no scheduling policy");
    if ((int)p->kind < 0 || p->kind >= ENG_SCHED__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "scheduling policy: unknown kind %d",
                       (int)p->kind);
    if (p->memory_overcommit < 1 || p->memory_overcommit > 1000)
        return CMN_ERR(CMN_ERR_INVALID,
                       "scheduling policy: memory_overcommit %d%% is not in "
                       "1..1000", p->memory_overcommit);
    if (p->high_utilization < 50 || p->high_utilization > 99)
        return CMN_ERR(CMN_ERR_INVALID,
                       "scheduling policy: HighUtilization %d is not in 50..99",
                       p->high_utilization);
    if (p->low_utilization < 0 || p->low_utilization > 49)
        return CMN_ERR(CMN_ERR_INVALID,
                       "scheduling policy: LowUtilization %d is not in 0..49",
                       p->low_utilization);
    if (p->cpu_overcommit_duration_min < 1 ||
        p->cpu_overcommit_duration_min > 1440)
        return CMN_ERR(CMN_ERR_INVALID,
                       "scheduling policy: CpuOverCommitDurationMinutes %d is "
                       "not in 1..1440", p->cpu_overcommit_duration_min);
    if (p->max_free_mem_over_mb < 0 || p->min_free_mem_under_mb < 0)
        return CMN_ERR(CMN_ERR_INVALID,
                       "scheduling policy: memory thresholds must not be "
                       "negative");
    return 0;
}

/* ---- host state ------------------------------------------------------- */

bool eng_sched_over(const eng_sched_policy_t *p, const eng_sched_host_t *h,
                    int64_t now_ms)
{
    int64_t dur = (int64_t)p->cpu_overcommit_duration_min * 60000;
    return h->cpu_load >= p->high_utilization && h->over_since_ms > 0 &&
           now_ms - h->over_since_ms >= dur;
}

bool eng_sched_under(const eng_sched_policy_t *p, const eng_sched_host_t *h,
                     int64_t now_ms)
{
    int64_t dur = (int64_t)p->cpu_overcommit_duration_min * 60000;
    return h->cpu_load <= p->low_utilization && h->under_since_ms > 0 &&
           now_ms - h->under_since_ms >= dur;
}

void eng_sched_host_track(eng_sched_host_t *h, const eng_sched_policy_t *p,
                          double cpu_load, int64_t now_ms)
{
    int64_t t = now_ms > 0 ? now_ms : 1;    /* 0 means "not since" */
    h->cpu_load = cpu_load;
    if (cpu_load >= p->high_utilization) {
        if (!h->over_since_ms)
            h->over_since_ms = t;
    } else {
        h->over_since_ms = 0;
    }
    if (cpu_load <= p->low_utilization) {
        if (!h->under_since_ms)
            h->under_since_ms = t;
    } else {
        h->under_since_ms = 0;
    }
}

void eng_sched_host_reserve(eng_sched_host_t *h, const eng_sched_vm_t *vm)
{
    h->mem_pending_bytes += vm->mem_bytes;
    h->nvms++;
}

static uint64_t s_capacity(const eng_sched_policy_t *p,
                           const eng_sched_host_t *h)
{
    uint64_t oc = (uint64_t)p->memory_overcommit;
    return h->mem_bytes / 100 * oc + h->mem_bytes % 100 * oc / 100;
}

static uint64_t s_used(const eng_sched_host_t *h)
{
    return h->mem_committed_bytes + h->mem_pending_bytes;
}

uint64_t eng_sched_mem_avail(const eng_sched_policy_t *p,
                             const eng_sched_host_t *h)
{
    uint64_t cap = s_capacity(p, h), used = s_used(h);
    return cap > used ? cap - used : 0;
}

const char *eng_sched_hname(const eng_sched_host_t *h)
{
    return h->name && *h->name ? h->name : h->id;
}

const char *eng_sched_vname(const eng_sched_vm_t *vm)
{
    return vm->name && *vm->name ? vm->name : vm->id;
}

bool eng_sched_eq(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

/* The name of host `id` if it is in hosts[], else the id itself. */
static const char *s_name_of(const char *id, const eng_sched_host_t *hosts,
                             size_t nhosts)
{
    for (size_t i = 0; i < nhosts; i++)
        if (eng_sched_eq(hosts[i].id, id))
            return eng_sched_hname(&hosts[i]);
    return id;
}

static bool s_has_flag(const eng_sched_host_t *h, const char *flag)
{
    for (size_t i = 0; i < h->ncpu_flags; i++)
        if (h->cpu_flags[i] && strcmp(h->cpu_flags[i], flag) == 0)
            return true;
    return false;
}

/* ---- text buffers that truncate quietly ------------------------------- */

__attribute__((format(printf, 2, 3)))
static void s_add(eng_sched_buf_t *b, const char *fmt, ...)
{
    if (!b->p || b->len == 0 || b->off >= b->len - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->off = b->off + (size_t)n < b->len ? b->off + (size_t)n : b->len - 1;
}

/* ---- filters ---------------------------------------------------------- */

/* Start one refusal in the list: ", " between refusals. */
static void s_refuse(eng_sched_buf_t *b, unsigned *n)
{
    if ((*n)++)
        s_add(b, ", ");
}

static void s_filter_cpu(const eng_sched_vm_t *vm, const eng_sched_host_t *h,
                         eng_sched_buf_t *b, unsigned *n)
{
    if (h->cpu_count < vm->vcpus) {
        s_refuse(b, n);
        s_add(b, "cpu count (needs %u vCPUs, host has %u)", vm->vcpus,
              h->cpu_count);
    }
    const char *t = vm->cpu_type;
    if (t && *t) {
        char flag[ENG_NAME_LEN + 8];
        snprintf(flag, sizeof(flag), "model_%s", t);
        bool ok = (h->cpu_model && strcasecmp(h->cpu_model, t) == 0) ||
                  s_has_flag(h, flag);
        if (!ok) {
            s_refuse(b, n);
            s_add(b, "cpu type (cluster needs %s, host has %s)", t,
                  h->cpu_model && *h->cpu_model ? h->cpu_model : "unknown");
        }
    }
    unsigned missing = 0;
    for (size_t i = 0; i < vm->ncpu_flags; i++) {
        const char *f = vm->cpu_flags[i];
        if (!f || !*f || s_has_flag(h, f))
            continue;
        if (!missing++) {
            s_refuse(b, n);
            s_add(b, "cpu flags (lacks %s", f);
        } else {
            s_add(b, " %s", f);
        }
    }
    if (missing)
        s_add(b, ")");
}

static void s_filter_memory(const eng_sched_policy_t *p,
                            const eng_sched_vm_t *vm,
                            const eng_sched_host_t *h, eng_sched_buf_t *b,
                            unsigned *n)
{
    uint64_t cap = s_capacity(p, h), used = s_used(h);
    if (used <= cap && vm->mem_bytes <= cap - used)
        return;
    s_refuse(b, n);
    s_add(b, "memory (needs %llu MiB, %llu MiB free",
          (unsigned long long)(vm->mem_bytes / MIB),
          (unsigned long long)(eng_sched_mem_avail(p, h) / MIB));
    if (h->mem_pending_bytes)
        s_add(b, " with %llu MiB pending",
              (unsigned long long)(h->mem_pending_bytes / MIB));
    if (p->memory_overcommit != 100)
        s_add(b, ", overcommit %d%%", p->memory_overcommit);
    s_add(b, ")");
}

static void s_filter_affinity(const eng_sched_vm_t *vm,
                              const eng_sched_host_t *h,
                              const eng_sched_host_t *hosts, size_t nhosts,
                              eng_sched_buf_t *b, unsigned *n)
{
    for (size_t g = 0; g < vm->ngroups; g++) {
        const eng_sched_group_t *grp = &vm->groups[g];
        if (!grp->enforcing)
            continue;
        const char *gname = grp->name ? grp->name : "?";
        if (!grp->positive) {
            for (size_t m = 0; m < grp->nmembers; m++)
                if (eng_sched_eq(grp->member_hosts[m], h->id)) {
                    s_refuse(b, n);
                    s_add(b, "affinity group %s (negative): a member runs "
                          "there", gname);
                    break;
                }
            continue;
        }
        /* Positive: every running member must be on this host. */
        bool elsewhere = false;
        for (size_t m = 0; m < grp->nmembers; m++) {
            const char *mh = grp->member_hosts[m];
            if (mh && *mh && !eng_sched_eq(mh, h->id))
                elsewhere = true;
        }
        if (!elsewhere)
            continue;
        s_refuse(b, n);
        s_add(b, "affinity group %s (positive): members run on", gname);
        unsigned listed = 0;
        for (size_t m = 0; m < grp->nmembers; m++) {
            const char *mh = grp->member_hosts[m];
            if (!mh || !*mh)
                continue;
            bool seen = false;
            for (size_t k = 0; k < m; k++)
                if (eng_sched_eq(grp->member_hosts[k], mh))
                    seen = true;
            if (!seen)
                s_add(b, "%s%s", listed++ ? " and " : " ",
                      s_name_of(mh, hosts, nhosts));
        }
    }
}

/* Run every filter; the number of refusals, described in b. hosts[] only
 * lends names to the messages (may be NULL). */
unsigned eng_sched_filter(const eng_sched_policy_t *p,
                          const eng_sched_vm_t *vm, const eng_sched_host_t *h,
                          const eng_sched_host_t *hosts, size_t nhosts,
                          int64_t now_ms, eng_sched_buf_t *b)
{
    unsigned n = 0;
    if (h->status != ENG_HOST_UP) {
        s_refuse(b, &n);
        s_add(b, "not up (%s)", eng_host_status_name(h->status));
        return n;   /* the rest would be noise */
    }
    if (eng_sched_eq(vm->current_host_id, h->id)) {
        s_refuse(b, &n);
        s_add(b, "migration (the VM runs there)");
    }
    if (vm->npinned) {
        bool pinned = false;
        for (size_t i = 0; i < vm->npinned; i++)
            if (eng_sched_eq(vm->pinned_host_ids[i], h->id))
                pinned = true;
        if (!pinned) {
            s_refuse(b, &n);
            s_add(b, "pinning (pinned to");
            for (size_t i = 0; i < vm->npinned; i++)
                s_add(b, "%s%s", i ? ", " : " ", vm->pinned_host_ids[i]
                      ? s_name_of(vm->pinned_host_ids[i], hosts, nhosts)
                      : "?");
            s_add(b, ")");
        }
    }
    s_filter_cpu(vm, h, b, &n);
    s_filter_memory(p, vm, h, b, &n);
    if (eng_sched_over(p, h, now_ms)) {
        s_refuse(b, &n);
        s_add(b, "cpu load (%.0f%% >= HighUtilization %d%% for %d min)",
              h->cpu_load, p->high_utilization,
              p->cpu_overcommit_duration_min);
    }
    s_filter_affinity(vm, h, hosts, nhosts, b, &n);
    return n;
}

bool eng_sched_host_fits(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                         const eng_sched_host_t *h, int64_t now_ms,
                         char *why, size_t len)
{
    eng_sched_buf_t b = {why, len, 0};
    if (why && len)
        why[0] = '\0';
    return eng_sched_filter(p, vm, h, NULL, 0, now_ms, &b) == 0;
}

/* ---- weights ---------------------------------------------------------- */

/* Soft affinity: members of soft positive groups on h minus members of
 * soft negative groups on h. */
static int s_soft(const eng_sched_vm_t *vm, const eng_sched_host_t *h)
{
    int score = 0;
    for (size_t g = 0; g < vm->ngroups; g++) {
        const eng_sched_group_t *grp = &vm->groups[g];
        if (grp->enforcing)
            continue;
        for (size_t m = 0; m < grp->nmembers; m++)
            if (eng_sched_eq(grp->member_hosts[m], h->id))
                score += grp->positive ? 1 : -1;
    }
    return score;
}

/* Whole percent; a NaN or absurd figure from a peer stays harmless. */
static int s_pct(double load)
{
    if (!(load > 0))
        return 0;
    return load > 1000 ? 1000 : (int)(load + 0.5);
}

static int s_cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

/* < 0 if a is the better host for vm, > 0 if b is, 0 if equal. */
int eng_sched_compare(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                      const eng_sched_host_t *a, const eng_sched_host_t *b)
{
    int sa = s_soft(vm, a), sb = s_soft(vm, b);
    if (sa != sb)
        return sb - sa;
    switch (p->kind) {
    case ENG_SCHED_EVENLY_DISTRIBUTED:
        if (s_pct(a->cpu_load) != s_pct(b->cpu_load))
            return s_pct(a->cpu_load) - s_pct(b->cpu_load);
        return s_cmp_u64(eng_sched_mem_avail(p, b), eng_sched_mem_avail(p, a));
    case ENG_SCHED_POWER_SAVING: {
        bool ha = s_pct(a->cpu_load) >= p->high_utilization;
        bool hb = s_pct(b->cpu_load) >= p->high_utilization;
        if (ha != hb)
            return ha ? 1 : -1;
        bool ea = a->nvms == 0 && a->mem_pending_bytes == 0;
        bool eb = b->nvms == 0 && b->mem_pending_bytes == 0;
        if (ea != eb)
            return ea ? 1 : -1;
        if (s_pct(a->cpu_load) != s_pct(b->cpu_load))
            return s_pct(b->cpu_load) - s_pct(a->cpu_load);
        return s_cmp_u64(eng_sched_mem_avail(p, a), eng_sched_mem_avail(p, b));
    }
    default: {
        /* none: lowest share of its capacity in use (cross-multiplied). */
        long double ra = (long double)s_used(a) * s_capacity(p, b);
        long double rb = (long double)s_used(b) * s_capacity(p, a);
        return ra < rb ? -1 : ra > rb ? 1 : 0;
    }
    }
}

/* ---- placement -------------------------------------------------------- */

int eng_sched_check_vm(const eng_sched_vm_t *vm)
{
    if (!vm || !vm->id || !*vm->id)
        return CMN_ERR(CMN_ERR_INVALID, "scheduler: VM without an id");
    if ((vm->ncpu_flags && !vm->cpu_flags) ||
        (vm->npinned && !vm->pinned_host_ids) ||
        (vm->ngroups && !vm->groups))
        return CMN_ERR(CMN_ERR_INVALID, "scheduler: VM %s: a list without "
                       "items", vm->id);
    for (size_t g = 0; g < vm->ngroups; g++)
        if (vm->groups[g].nmembers && !vm->groups[g].member_hosts)
            return CMN_ERR(CMN_ERR_INVALID, "scheduler: VM %s: affinity group "
                           "without member hosts", vm->id);
    return 0;
}

int eng_sched_check_hosts(const eng_sched_host_t *hosts, size_t nhosts)
{
    if (nhosts && !hosts)
        return CMN_ERR(CMN_ERR_INVALID, "scheduler: no host list");
    for (size_t i = 0; i < nhosts; i++) {
        if (!hosts[i].id || !*hosts[i].id)
            return CMN_ERR(CMN_ERR_INVALID, "scheduler: host %zu has no id", i);
        if (hosts[i].ncpu_flags && !hosts[i].cpu_flags)
            return CMN_ERR(CMN_ERR_INVALID, "scheduler: host %s: flag list "
                           "without items", hosts[i].id);
    }
    return 0;
}

int eng_sched_select(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                     const eng_sched_host_t *hosts, size_t nhosts,
                     int64_t now_ms)
{
    if (eng_sched_policy_check(p) < 0 || eng_sched_check_vm(vm) < 0 ||
        eng_sched_check_hosts(hosts, nhosts) < 0)
        return -1;
    char msg[MSG_ROOM + 24];
    eng_sched_buf_t m = {msg, sizeof(msg), 0};
    s_add(&m, "no host can run VM %s:", eng_sched_vname(vm));
    if (nhosts == 0)
        s_add(&m, " the cluster has no hosts");
    size_t omitted = 0, listed = 0;
    int best = -1;
    for (size_t i = 0; i < nhosts; i++) {
        char why[512];
        eng_sched_buf_t w = {why, sizeof(why), 0};
        why[0] = '\0';
        if (eng_sched_filter(p, vm, &hosts[i], hosts, nhosts, now_ms,
                             &w) == 0) {
            if (best < 0 ||
                eng_sched_compare(p, vm, &hosts[i], &hosts[best]) < 0)
                best = (int)i;
            continue;
        }
        /* Keep whole host entries only; count what does not fit. */
        size_t need = strlen(eng_sched_hname(&hosts[i])) + strlen(why) + 4;
        if (m.off + need < MSG_ROOM - 40)
            s_add(&m, "%s %s: %s", listed++ ? ";" : "",
                  eng_sched_hname(&hosts[i]), why);
        else
            omitted++;
    }
    if (best >= 0) {
        CMN_DEBUG("VM %s -> host %s (%s)", eng_sched_vname(vm),
                  eng_sched_hname(&hosts[best]), eng_sched_kind_name(p->kind));
        return best;
    }
    if (omitted)
        s_add(&m, "; and %zu more host%s", omitted, omitted == 1 ? "" : "s");
    return CMN_ERR(CMN_ERR_UNAVAILABLE, "%s", msg);
}
