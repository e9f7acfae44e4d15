/* Load balancing: the moves that bring over-utilized hosts down (CPU,
 * then memory) and, for power_saving, empty under-utilized ones, judged
 * by the filters and weights of eng_sched.c. See eng_sched.h. */
#include "eng_sched.h"
#include "eng_sched_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("eng.sched");

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
                if (c->to[j] != SIZE_MAX && eng_sched_eq(c->vms[j].vm.id, mid))
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
        eng_sched_buf_t none = {NULL, 0, 0};
        if (eng_sched_filter(c->p, &vm, h, c->w, c->nhosts, c->now_ms, &none))
            continue;
        if (h->cpu_load + s_load_on(c, vi, d) >= c->p->high_utilization)
            continue;
        uint64_t fr = eng_sched_mem_avail(c->p, h);
        if (mem_floor && (fr < vm.mem_bytes || fr - vm.mem_bytes < mem_floor))
            continue;
        if (best == SIZE_MAX ||
            eng_sched_compare(c->p, &vm, h, &c->w[best]) < 0)
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
            eng_sched_over(c->p, h, c->now_ms))
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
        bool src = up && eng_sched_mem_avail(c->p, h) < over && h->nvms > 1;
        allowed[i] = up && !src && eng_sched_mem_avail(c->p, h) > under;
        if (src)
            ord[ns++] = i;
    }
    for (size_t i = 1; i < ns; i++)
        for (size_t j = i;
             j > 0 && eng_sched_mem_avail(c->p, &c->w[ord[j]]) <
                      eng_sched_mem_avail(c->p, &c->w[ord[j - 1]]); j--) {
            size_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    for (size_t k = 0; k < ns; k++) {
        size_t s = ord[k];
        while (c->n < max && eng_sched_mem_avail(c->p, &c->w[s]) < over &&
               c->w[s].nvms > 1)
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
            eng_sched_under(c->p, h, c->now_ms))
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
                      eng_sched_hname(&c->hosts[s]));
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
    if (eng_sched_policy_check(p) < 0 ||
        eng_sched_check_hosts(hosts, nhosts) < 0)
        return -1;
    if ((nvms && !vms) || (max && !out))
        return CMN_ERR(CMN_ERR_INVALID, "scheduler: no VM list or no room "
                       "for moves");
    for (size_t i = 0; i < nvms; i++) {
        if (eng_sched_check_vm(&vms[i].vm) < 0)
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
                  eng_sched_vname(&vms[out[i].vm].vm),
                  eng_sched_hname(&hosts[out[i].from]),
                  eng_sched_hname(&hosts[out[i].to]));
    return (int)n;
}
