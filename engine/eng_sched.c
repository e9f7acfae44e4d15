#include "eng_sched.h"

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

#define MIB (1024ULL * 1024ULL)
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

static bool s_over(const eng_sched_policy_t *p, const eng_sched_host_t *h,
                   int64_t now_ms)
{
    int64_t dur = (int64_t)p->cpu_overcommit_duration_min * 60000;
    return h->cpu_load >= p->high_utilization && h->over_since_ms > 0 &&
           now_ms - h->over_since_ms >= dur;
}

static bool s_under(const eng_sched_policy_t *p, const eng_sched_host_t *h,
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

static uint64_t s_free(const eng_sched_policy_t *p, const eng_sched_host_t *h)
{
    uint64_t cap = s_capacity(p, h), used = s_used(h);
    return cap > used ? cap - used : 0;
}

static const char *s_hname(const eng_sched_host_t *h)
{
    return h->name && *h->name ? h->name : h->id;
}

static const char *s_vname(const eng_sched_vm_t *vm)
{
    return vm->name && *vm->name ? vm->name : vm->id;
}

static bool s_eq(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

/* The name of host `id` if it is in hosts[], else the id itself. */
static const char *s_name_of(const char *id, const eng_sched_host_t *hosts,
                             size_t nhosts)
{
    for (size_t i = 0; i < nhosts; i++)
        if (s_eq(hosts[i].id, id))
            return s_hname(&hosts[i]);
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

typedef struct {
    char *p;
    size_t len, off;
} s_buf_t;

__attribute__((format(printf, 2, 3)))
static void s_add(s_buf_t *b, const char *fmt, ...)
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
static void s_refuse(s_buf_t *b, unsigned *n)
{
    if ((*n)++)
        s_add(b, ", ");
}

static void s_filter_cpu(const eng_sched_vm_t *vm, const eng_sched_host_t *h,
                         s_buf_t *b, unsigned *n)
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
                            const eng_sched_host_t *h, s_buf_t *b,
                            unsigned *n)
{
    uint64_t cap = s_capacity(p, h), used = s_used(h);
    if (used <= cap && vm->mem_bytes <= cap - used)
        return;
    s_refuse(b, n);
    s_add(b, "memory (needs %llu MiB, %llu MiB free",
          (unsigned long long)(vm->mem_bytes / MIB),
          (unsigned long long)(s_free(p, h) / MIB));
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
                              s_buf_t *b, unsigned *n)
{
    for (size_t g = 0; g < vm->ngroups; g++) {
        const eng_sched_group_t *grp = &vm->groups[g];
        if (!grp->enforcing)
            continue;
        const char *gname = grp->name ? grp->name : "?";
        if (!grp->positive) {
            for (size_t m = 0; m < grp->nmembers; m++)
                if (s_eq(grp->member_hosts[m], h->id)) {
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
            if (mh && *mh && !s_eq(mh, h->id))
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
                if (s_eq(grp->member_hosts[k], mh))
                    seen = true;
            if (!seen)
                s_add(b, "%s%s", listed++ ? " and " : " ",
                      s_name_of(mh, hosts, nhosts));
        }
    }
}

/* Run every filter; the number of refusals, described in b. hosts[] only
 * lends names to the messages (may be NULL). */
static unsigned s_filter(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                         const eng_sched_host_t *h,
                         const eng_sched_host_t *hosts, size_t nhosts,
                         int64_t now_ms, s_buf_t *b)
{
    unsigned n = 0;
    if (h->status != ENG_HOST_UP) {
        s_refuse(b, &n);
        s_add(b, "not up (%s)", eng_host_status_name(h->status));
        return n;   /* the rest would be noise */
    }
    if (s_eq(vm->current_host_id, h->id)) {
        s_refuse(b, &n);
        s_add(b, "migration (the VM runs there)");
    }
    if (vm->npinned) {
        bool pinned = false;
        for (size_t i = 0; i < vm->npinned; i++)
            if (s_eq(vm->pinned_host_ids[i], h->id))
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
    if (s_over(p, h, now_ms)) {
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
    s_buf_t b = {why, len, 0};
    if (why && len)
        why[0] = '\0';
    return s_filter(p, vm, h, NULL, 0, now_ms, &b) == 0;
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
            if (s_eq(grp->member_hosts[m], h->id))
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
static int s_compare(const eng_sched_policy_t *p, const eng_sched_vm_t *vm,
                     const eng_sched_host_t *a, const eng_sched_host_t *b)
{
    int sa = s_soft(vm, a), sb = s_soft(vm, b);
    if (sa != sb)
        return sb - sa;
    switch (p->kind) {
    case ENG_SCHED_EVENLY_DISTRIBUTED:
        if (s_pct(a->cpu_load) != s_pct(b->cpu_load))
            return s_pct(a->cpu_load) - s_pct(b->cpu_load);
        return s_cmp_u64(s_free(p, b), s_free(p, a));
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
        return s_cmp_u64(s_free(p, a), s_free(p, b));
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

static int s_check_vm(const eng_sched_vm_t *vm)
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

static int s_check_hosts(const eng_sched_host_t *hosts, size_t nhosts)
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
    if (eng_sched_policy_check(p) < 0 || s_check_vm(vm) < 0 ||
        s_check_hosts(hosts, nhosts) < 0)
        return -1;
    char msg[MSG_ROOM + 24];
    s_buf_t m = {msg, sizeof(msg), 0};
    s_add(&m, "no host can run VM %s:", s_vname(vm));
    if (nhosts == 0)
        s_add(&m, " the cluster has no hosts");
    size_t omitted = 0, listed = 0;
    int best = -1;
    for (size_t i = 0; i < nhosts; i++) {
        char why[512];
        s_buf_t w = {why, sizeof(why), 0};
        why[0] = '\0';
        if (s_filter(p, vm, &hosts[i], hosts, nhosts, now_ms, &w) == 0) {
            if (best < 0 || s_compare(p, vm, &hosts[i], &hosts[best]) < 0)
                best = (int)i;
            continue;
        }
        /* Keep whole host entries only; count what does not fit. */
        size_t need = strlen(s_hname(&hosts[i])) + strlen(why) + 4;
        if (m.off + need < MSG_ROOM - 40)
            s_add(&m, "%s %s: %s", listed++ ? ";" : "", s_hname(&hosts[i]),
                  why);
        else
            omitted++;
    }
    if (best >= 0) {
        CMN_DEBUG("VM %s -> host %s (%s)", s_vname(vm), s_hname(&hosts[best]),
                  eng_sched_kind_name(p->kind));
        return best;
    }
    if (omitted)
        s_add(&m, "; and %zu more host%s", omitted, omitted == 1 ? "" : "s");
    return CMN_ERR(CMN_ERR_UNAVAILABLE, "%s", msg);
}

/* ---- load balancing --------------------------------------------------- */

typedef struct {
    const eng_sched_policy_t *p;
    const eng_sched_host_t *hosts;  /* the caller's, for ids */
    eng_sched_host_t *w;            /* working copies, moves applied */
    size_t nhosts;
    const eng_sched_running_t *vms;
    size_t nvms;
    size_t *to;                     /* per VM: new host, or SIZE_MAX */
    bool *received;                 /* per host: got a VM this round */
    eng_sched_move_t *mv;           /* proposed, up to nvms */
    size_t n;
    int64_t now_ms;
    bool nomem;                     /* out of memory, recorded */
} s_bal_t;

/* The VM as it stands after the moves so far: current host set, affinity
 * member hosts following proposed moves. *tmp and *hosts_tmp are malloc'd
 * and freed by the caller. */
static int s_vm_now(s_bal_t *c, size_t vi, eng_sched_vm_t *out,
                    eng_sched_group_t **tmp, const char ***hosts_tmp)
{
    const eng_sched_running_t *r = &c->vms[vi];
    *out = r->vm;
    out->current_host_id = c->hosts[r->host].id;
    *tmp = NULL;
    *hosts_tmp = NULL;
    if (!r->vm.ngroups)
        return 0;
    size_t total = 0;
    for (size_t g = 0; g < r->vm.ngroups; g++)
        total += r->vm.groups[g].nmembers;
    *tmp = calloc(r->vm.ngroups, sizeof(**tmp));
    *hosts_tmp = calloc(total ? total : 1, sizeof(**hosts_tmp));
    if (!*tmp || !*hosts_tmp) {
        c->nomem = true;
        return CMN_ERR(CMN_ERR_NOMEM, "scheduler: out of memory");
    }
    size_t k = 0;
    for (size_t g = 0; g < r->vm.ngroups; g++) {
        const eng_sched_group_t *grp = &r->vm.groups[g];
        (*tmp)[g] = *grp;
        (*tmp)[g].member_hosts = *hosts_tmp + k;
        for (size_t m = 0; m < grp->nmembers; m++, k++) {
            (*hosts_tmp)[k] = grp->member_hosts[m];
            const char *mid = grp->member_ids ? grp->member_ids[m] : NULL;
            for (size_t j = 0; mid && j < c->nvms; j++)
                if (c->to[j] != SIZE_MAX && s_eq(c->vms[j].vm.id, mid))
                    (*hosts_tmp)[k] = c->hosts[c->to[j]].id;
        }
    }
    out->groups = *tmp;
    return 0;
}

static double s_load_on(const s_bal_t *c, size_t vi, size_t dst)
{
    const eng_sched_running_t *r = &c->vms[vi];
    uint32_t src_cpus = c->w[r->host].cpu_count;
    uint32_t dst_cpus = c->w[dst].cpu_count;
    if (!dst_cpus)
        return 100.0;
    return r->cpu_load * (src_cpus ? src_cpus : 1) / dst_cpus;
}

/* The best allowed target for VM vi, or SIZE_MAX (also on NOMEM, recorded).
 * mem_floor: a target must keep at least this much free memory. */
static size_t s_target(s_bal_t *c, size_t vi, const bool *allowed,
                       uint64_t mem_floor)
{
    eng_sched_vm_t vm;
    CMN_AUTOFREE eng_sched_group_t *tmp = NULL;
    CMN_AUTOFREE const char **hosts_tmp = NULL;
    if (s_vm_now(c, vi, &vm, &tmp, &hosts_tmp) < 0)
        return SIZE_MAX;
    size_t best = SIZE_MAX;
    for (size_t d = 0; d < c->nhosts; d++) {
        if (!allowed[d] || d == c->vms[vi].host)
            continue;
        const eng_sched_host_t *h = &c->w[d];
        s_buf_t none = {NULL, 0, 0};
        if (s_filter(c->p, &vm, h, c->w, c->nhosts, c->now_ms, &none))
            continue;
        if (h->cpu_load + s_load_on(c, vi, d) >= c->p->high_utilization)
            continue;
        uint64_t fr = s_free(c->p, h);
        if (mem_floor && (fr < vm.mem_bytes || fr - vm.mem_bytes < mem_floor))
            continue;
        if (best == SIZE_MAX || s_compare(c->p, &vm, h, &c->w[best]) < 0)
            best = d;
    }
    return best;
}

static void s_apply(s_bal_t *c, size_t vi, size_t to)
{
    const eng_sched_running_t *r = &c->vms[vi];
    eng_sched_host_t *src = &c->w[r->host], *dst = &c->w[to];
    uint64_t mem = r->vm.mem_bytes;
    dst->cpu_load += s_load_on(c, vi, to);
    src->cpu_load = src->cpu_load > r->cpu_load ? src->cpu_load - r->cpu_load
                                                : 0.0;
    src->mem_committed_bytes = src->mem_committed_bytes > mem
                                   ? src->mem_committed_bytes - mem : 0;
    if (src->nvms)
        src->nvms--;
    dst->mem_pending_bytes += mem;
    dst->nvms++;
    c->received[to] = true;
    c->to[vi] = to;
    c->mv[c->n++] = (eng_sched_move_t){
        .vm = vi, .from = r->host, .to = to, .vm_id = r->vm.id,
        .from_id = c->hosts[r->host].id, .to_id = c->hosts[to].id,
    };
}

/* Move one VM off host s (the one using least CPU that has a target).
 * Returns the VM's index, or SIZE_MAX if none can move. */
static size_t s_move_one(s_bal_t *c, size_t s, const bool *allowed,
                         uint64_t mem_floor)
{
    bool *tried = calloc(c->nvms ? c->nvms : 1, sizeof(bool));
    if (!tried) {
        c->nomem = true;
        CMN_ERR(CMN_ERR_NOMEM, "scheduler: out of memory");
        return SIZE_MAX;
    }
    size_t moved = SIZE_MAX;
    for (;;) {
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < c->nvms; i++) {
            const eng_sched_running_t *r = &c->vms[i];
            if (r->host != s || !r->migratable || c->to[i] != SIZE_MAX ||
                tried[i])
                continue;
            if (pick == SIZE_MAX || r->cpu_load < c->vms[pick].cpu_load)
                pick = i;
        }
        if (pick == SIZE_MAX)
            break;
        tried[pick] = true;
        size_t to = s_target(c, pick, allowed, mem_floor);
        if (to != SIZE_MAX) {
            s_apply(c, pick, to);
            moved = pick;
            break;
        }
    }
    free(tried);
    return moved;
}

static int s_dest_threshold(const eng_sched_policy_t *p)
{
    int a = p->high_utilization * 80 / 100, b = p->high_utilization - 10;
    return a < b ? a : b;
}

/* Hosts over HighUtilization for long enough shed VMs to hosts below the
 * destination threshold. */
static void s_balance_cpu(s_bal_t *c, size_t max, bool *allowed, size_t *ord)
{
    size_t ns = 0;
    for (size_t i = 0; i < c->nhosts; i++) {
        const eng_sched_host_t *h = &c->w[i];
        allowed[i] = h->status == ENG_HOST_UP &&
                     h->cpu_load < s_dest_threshold(c->p);
        if (h->status == ENG_HOST_UP && h->nvms > 0 &&
            s_over(c->p, h, c->now_ms))
            ord[ns++] = i;
    }
    /* Most loaded first (insertion sort: clusters are small). */
    for (size_t i = 1; i < ns; i++)
        for (size_t j = i; j > 0 && c->w[ord[j]].cpu_load >
                                    c->w[ord[j - 1]].cpu_load; j--) {
            size_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    for (size_t k = 0; k < ns; k++) {
        size_t s = ord[k];
        while (c->n < max && c->w[s].cpu_load >= c->p->high_utilization) {
            size_t vi = s_move_one(c, s, allowed, 0);
            /* A VM that used no CPU tells nothing: one per host and round. */
            if (vi == SIZE_MAX || c->vms[vi].cpu_load <= 0)
                break;
        }
    }
}

/* Hosts with less free memory than MaxFreeMemoryForOverUtilized (and more
 * than one VM) send VMs to hosts with more than
 * MinFreeMemoryForUnderUtilized free, which must stay above the first. */
static void s_balance_mem(s_bal_t *c, size_t max, bool *allowed, size_t *ord)
{
    uint64_t over = (uint64_t)c->p->max_free_mem_over_mb * MIB;
    uint64_t under = (uint64_t)c->p->min_free_mem_under_mb * MIB;
    if (!over)
        return;
    size_t ns = 0;
    for (size_t i = 0; i < c->nhosts; i++) {
        const eng_sched_host_t *h = &c->w[i];
        bool up = h->status == ENG_HOST_UP;
        bool src = up && s_free(c->p, h) < over && h->nvms > 1;
        allowed[i] = up && !src && s_free(c->p, h) > under;
        if (src)
            ord[ns++] = i;
    }
    for (size_t i = 1; i < ns; i++)
        for (size_t j = i; j > 0 && s_free(c->p, &c->w[ord[j]]) <
                                    s_free(c->p, &c->w[ord[j - 1]]); j--) {
            size_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    for (size_t k = 0; k < ns; k++) {
        size_t s = ord[k];
        while (c->n < max && s_free(c->p, &c->w[s]) < over && c->w[s].nvms > 1)
            if (s_move_one(c, s, allowed, over) == SIZE_MAX)
                break;
    }
}

/* power_saving: empty hosts under LowUtilization for long enough, fewest VMs
 * first, all of a host's VMs or none. */
static int s_balance_empty(s_bal_t *c, size_t max, bool *allowed, size_t *ord)
{
    size_t ns = 0;
    for (size_t i = 0; i < c->nhosts; i++) {
        const eng_sched_host_t *h = &c->w[i];
        if (h->status == ENG_HOST_UP && h->nvms > 0 &&
            h->mem_pending_bytes == 0 && !c->received[i] &&
            s_under(c->p, h, c->now_ms))
            ord[ns++] = i;
    }
    for (size_t i = 1; i < ns; i++)
        for (size_t j = i; j > 0; j--) {
            const eng_sched_host_t *a = &c->w[ord[j]], *b = &c->w[ord[j - 1]];
            if (a->nvms > b->nvms ||
                (a->nvms == b->nvms && a->cpu_load >= b->cpu_load))
                break;
            size_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    bool *emptying = calloc(c->nhosts, sizeof(bool));
    eng_sched_host_t *save = malloc(c->nhosts * sizeof(*save));
    bool *save_recv = malloc(c->nhosts * sizeof(bool));
    size_t *save_to = malloc((c->nvms ? c->nvms : 1) * sizeof(size_t));
    int rc = 0;
    if (!emptying || !save || !save_recv || !save_to) {
        rc = CMN_ERR(CMN_ERR_NOMEM, "scheduler: out of memory");
        goto free_all;
    }
    for (size_t k = 0; k < ns && c->n < max; k++) {
        size_t s = ord[k];
        if (c->received[s])
            continue;
        emptying[s] = true;
        for (size_t i = 0; i < c->nhosts; i++)
            allowed[i] = c->w[i].status == ENG_HOST_UP && !emptying[i] &&
                         c->w[i].cpu_load < s_dest_threshold(c->p);
        memcpy(save, c->w, c->nhosts * sizeof(*save));
        memcpy(save_recv, c->received, c->nhosts * sizeof(bool));
        memcpy(save_to, c->to, c->nvms * sizeof(size_t));
        size_t save_n = c->n;
        bool all = true;
        for (size_t i = 0; i < c->nvms && all; i++) {
            if (c->vms[i].host != s || c->to[i] != SIZE_MAX)
                continue;
            if (!c->vms[i].migratable) {
                all = false;
                break;
            }
            size_t to = s_target(c, i, allowed, 0);
            if (to == SIZE_MAX)
                all = false;
            else
                s_apply(c, i, to);
        }
        if (c->nomem) {
            rc = -1;
            goto free_all;
        }
        if (!all) {
            CMN_DEBUG("host %s stays: not all of its VMs can move",
                      s_hname(&c->hosts[s]));
            memcpy(c->w, save, c->nhosts * sizeof(*save));
            memcpy(c->received, save_recv, c->nhosts * sizeof(bool));
            memcpy(c->to, save_to, c->nvms * sizeof(size_t));
            c->n = save_n;
            emptying[s] = false;
        }
    }
free_all:
    free(emptying);
    free(save);
    free(save_recv);
    free(save_to);
    return rc;
}

int eng_sched_balance(const eng_sched_policy_t *p,
                      const eng_sched_host_t *hosts, size_t nhosts,
                      const eng_sched_running_t *vms, size_t nvms,
                      int64_t now_ms, size_t max, eng_sched_move_t *out)
{
    if (eng_sched_policy_check(p) < 0 || s_check_hosts(hosts, nhosts) < 0)
        return -1;
    if ((nvms && !vms) || (max && !out))
        return CMN_ERR(CMN_ERR_INVALID, "scheduler: no VM list or no room "
                       "for moves");
    for (size_t i = 0; i < nvms; i++) {
        if (s_check_vm(&vms[i].vm) < 0)
            return -1;
        if (vms[i].host >= nhosts)
            return CMN_ERR(CMN_ERR_INVALID, "scheduler: VM %s runs on host "
                           "index %zu of %zu", vms[i].vm.id, vms[i].host,
                           nhosts);
    }
    if (p->kind == ENG_SCHED_NONE || nhosts < 2 || nvms == 0 || max == 0)
        return 0;

    s_bal_t c = {
        .p = p, .hosts = hosts, .nhosts = nhosts, .vms = vms, .nvms = nvms,
        .now_ms = now_ms,
    };
    CMN_AUTOFREE eng_sched_host_t *w = malloc(nhosts * sizeof(*w));
    CMN_AUTOFREE size_t *to = malloc(nvms * sizeof(*to));
    CMN_AUTOFREE bool *received = calloc(nhosts, sizeof(bool));
    CMN_AUTOFREE eng_sched_move_t *mv = calloc(nvms, sizeof(*mv));
    CMN_AUTOFREE bool *allowed = calloc(nhosts, sizeof(bool));
    CMN_AUTOFREE size_t *ord = calloc(nhosts, sizeof(size_t));
    if (!w || !to || !received || !mv || !allowed || !ord)
        return CMN_ERR(CMN_ERR_NOMEM, "scheduler: out of memory");
    memcpy(w, hosts, nhosts * sizeof(*w));
    for (size_t i = 0; i < nvms; i++)
        to[i] = SIZE_MAX;
    c.w = w;
    c.to = to;
    c.received = received;
    c.mv = mv;

    /* max bounds the moves; a round never moves a VM twice. */
    size_t room = max < nvms ? max : nvms;
    s_balance_cpu(&c, room, allowed, ord);
    s_balance_mem(&c, room, allowed, ord);
    if (p->kind == ENG_SCHED_POWER_SAVING &&
        s_balance_empty(&c, room, allowed, ord) < 0)
        return -1;
    if (c.nomem)
        return -1;
    size_t n = c.n < max ? c.n : max;
    memcpy(out, mv, n * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        CMN_DEBUG("balance (%s): VM %s %s -> %s", eng_sched_kind_name(p->kind),
                  s_vname(&vms[out[i].vm].vm), s_hname(&hosts[out[i].from]),
                  s_hname(&hosts[out[i].to]));
    return (int)n;
}
