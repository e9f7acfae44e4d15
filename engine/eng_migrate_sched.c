/* The scheduler fed from the store: a cluster's hosts (status, CPUs,
 * flags, memory, VMs placed there or on their way, newest CPU load), its
 * policy, a VM's pinning and affinity groups. Used for start and
 * migration without a host, load balancing on an interval, and emptying
 * hosts for maintenance. */
#include "eng_migrate.h"
#include "eng_migrate_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_ops_priv.h"
#include "eng_vmstate.h"

CMN_LOG_INIT("eng.migrate.sched");

/* Everything the scheduler needs about one cluster, built per call. */
typedef struct {
    eng_sched_policy_t pol;
    char cpu_type[ENG_NAME_LEN];
    eng_host_t *hosts;              /* of the cluster */
    size_t nhosts;
    eng_sched_host_t *sh;           /* parallel to hosts */
    const char ***flags;            /* per host: borrowed from caps */
    bool *full;                     /* at the incoming migration limit */
    eng_vm_t *vms;                  /* every VM of the store */
    size_t nvms;
    eng_affinity_t *groups;         /* of the cluster */
    size_t ngroups;
} s_cl_t;

static void s_cl_free(s_cl_t *c)
{
    for (size_t i = 0; i < c->nhosts; i++) {
        eng_host_clear(&c->hosts[i]);
        if (c->flags)
            free(c->flags[i]);
    }
    free(c->hosts);
    free(c->sh);
    free(c->flags);
    free(c->full);
    free(c->vms);
    free(c->groups);
    memset(c, 0, sizeof(*c));
}

static uint32_t s_vcpus(const eng_vm_t *vm)
{
    uint32_t n = vm->sockets * vm->cores * vm->threads;
    return n ? n : 1;
}

/* Where a VM runs or is on its way to; NULL if it is down. */
static const char *s_vm_where(eng_ctx_t *ctx, const eng_vm_t *vm)
{
    if (!eng_vmstate_is_running(vm->status) || !vm->host_id[0])
        return NULL;
    eng_mig_t *j = eng_mig_find_vm(ctx->migrate, vm->id);
    return j ? j->job.target_host_id : vm->host_id;
}

static double s_num(json_t *sample, const char *key)
{
    json_t *v = json_object_get(json_object_get(sample, key), "value");
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static int s_policy(eng_ctx_t *ctx, const eng_cluster_t *cl,
                    eng_sched_policy_t *pol)
{
    eng_cluster_sched_t cs;
    if (eng_store_cluster_sched_get(ctx->store, cl->id, &cs) < 0)
        return -1;
    int kind = eng_sched_kind_parse(cs.policy);
    eng_sched_policy_init(pol, kind < 0 ? ENG_SCHED_NONE
                                        : (eng_sched_kind_t)kind);
    pol->memory_overcommit = cl->memory_overcommit > 0 ? cl->memory_overcommit
                                                       : 100;
    json_t *props = json_loads(cs.props, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) {
        const char *txt = json_string_value(v);
        char buf[32];
        if (!txt && json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
            txt = buf;
        }
        if (txt && eng_sched_policy_set(pol, k, txt) < 0) {
            CMN_WARN("cluster %s: scheduling property %s ignored: %s",
                     cl->name, k, cmn_err_msg());
            cmn_err_reset();
        }
    }
    json_decref(props);
    return 0;
}

static int s_cl_load(eng_ctx_t *ctx, const char *cluster_id, s_cl_t *c)
{
    memset(c, 0, sizeof(*c));
    eng_cluster_t cl;
    if (eng_store_cluster_get(ctx->store, cluster_id, &cl) < 0 ||
        s_policy(ctx, &cl, &c->pol) < 0)
        return -1;
    snprintf(c->cpu_type, sizeof(c->cpu_type), "%s", cl.cpu_type);
    eng_host_t *all = NULL;
    size_t n = 0;
    if (eng_store_host_list(ctx->store, &all, &n) < 0)
        return -1;
    c->hosts = calloc(n ? n : 1, sizeof(*c->hosts));
    c->sh = calloc(n ? n : 1, sizeof(*c->sh));
    c->flags = calloc(n ? n : 1, sizeof(*c->flags));
    c->full = calloc(n ? n : 1, sizeof(*c->full));
    if (!c->hosts || !c->sh || !c->flags || !c->full) {
        for (size_t i = 0; i < n; i++)
            eng_host_clear(&all[i]);
        free(all);
        s_cl_free(c);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].cluster_id, cluster_id) == 0)
            c->hosts[c->nhosts++] = all[i];
        else
            eng_host_clear(&all[i]);
    }
    free(all);
    if (eng_store_vm_list(ctx->store, &c->vms, &c->nvms) < 0 ||
        eng_store_affinity_list(ctx->store, cluster_id, &c->groups,
                                &c->ngroups) < 0) {
        s_cl_free(c);
        return -1;
    }
    int64_t now = (int64_t)cmn_time_ms();
    eng_migrate_t *m = ctx->migrate;
    for (size_t i = 0; i < c->nhosts; i++) {
        eng_host_t *h = &c->hosts[i];
        eng_sched_host_t *s = &c->sh[i];
        s->id = h->id;
        s->name = h->name;
        s->status = h->status;
        if (h->status == ENG_HOST_UP && !eng_agents_connected(ctx->agents, h->id))
            s->status = ENG_HOST_CONNECTING;
        s->cpu_count = (uint32_t)json_integer_value(json_object_get(h->caps,
                                                                   "cpu_count"));
        if (s->cpu_count == 0)
            s->cpu_count = 1024;    /* not reported: do not refuse on it */
        s->cpu_model = json_string_value(json_object_get(h->caps, "cpu_model"));
        json_t *fl = json_object_get(h->caps, "cpu_flags");
        size_t nf = json_array_size(fl);
        c->flags[i] = calloc(nf ? nf : 1, sizeof(const char *));
        for (size_t k = 0; c->flags[i] && k < nf; k++)
            c->flags[i][k] = json_string_value(json_array_get(fl, k));
        s->ncpu_flags = c->flags[i] ? nf : 0;
        s->cpu_flags = (const char *const *)c->flags[i];
        s->mem_bytes = (uint64_t)json_integer_value(json_object_get(h->caps,
                                                                   "memory_bytes"));
        json_t *smp = eng_stats_get(ctx->stats, h->id);
        double load = s_num(smp, "cpu.current.user") +
                      s_num(smp, "cpu.current.system");
        json_t *tr = json_object_get(m ? m->track : NULL, h->id);
        s->over_since_ms = json_integer_value(json_array_get(tr, 0));
        s->under_since_ms = json_integer_value(json_array_get(tr, 1));
        eng_sched_host_track(s, &c->pol, load, now);
        if (m)
            json_object_set_new(m->track, h->id, json_pack("[I,I]",
                (json_int_t)s->over_since_ms, (json_int_t)s->under_since_ms));
        c->full[i] = m && eng_mig_count(m, h->id, false) >= m->conf.max_incoming;
    }
    /* Memory: VMs running there count as committed (a VM leaving still
     * uses its source), VMs on their way as pending at the target. */
    for (size_t v = 0; v < c->nvms; v++) {
        const eng_vm_t *vm = &c->vms[v];
        if (!eng_vmstate_is_running(vm->status))
            continue;
        eng_mig_t *j = eng_mig_find_vm(m, vm->id);
        for (size_t i = 0; i < c->nhosts; i++) {
            eng_sched_host_t *s = &c->sh[i];
            if (strcmp(vm->host_id, s->id) == 0) {
                bool starting = vm->status == ENG_VM_WAIT_FOR_LAUNCH ||
                                vm->status == ENG_VM_POWERING_UP;
                if (starting)
                    s->mem_pending_bytes += vm->memory_bytes;
                else
                    s->mem_committed_bytes += vm->memory_bytes;
                if (!j)
                    s->nvms++;
            }
            if (j && strcmp(j->job.target_host_id, s->id) == 0) {
                s->mem_pending_bytes += vm->memory_bytes;
                s->nvms++;
            }
        }
    }
    return 0;
}

/* The scheduler's view of a VM: its needs, pinning and groups. The
 * returned arrays are malloc'd into *mem (free it). */
typedef struct {
    eng_sched_vm_t v;
    const char *pinned[1];
    eng_sched_group_t g[32];
    const char **hosts[32];
    const char **ids[32];
} s_vmin_t;

static void s_vmin_free(s_vmin_t *in)
{
    for (size_t i = 0; i < in->v.ngroups; i++) {
        free(in->hosts[i]);
        free(in->ids[i]);
    }
}

static void s_vmin(eng_ctx_t *ctx, const s_cl_t *c, const eng_vm_t *vm,
                   const char *source, s_vmin_t *in)
{
    memset(in, 0, sizeof(*in));
    in->v.id = vm->id;
    in->v.name = vm->name;
    in->v.mem_bytes = vm->memory_bytes;
    in->v.vcpus = s_vcpus(vm);
    in->v.cpu_type = c->cpu_type;
    if (vm->pinned_host_id[0]) {
        in->pinned[0] = vm->pinned_host_id;
        in->v.npinned = 1;
        in->v.pinned_host_ids = in->pinned;
    }
    in->v.current_host_id = source;
    size_t ng = 0;
    for (size_t g = 0; g < c->ngroups && ng < 32; g++) {
        const eng_affinity_t *grp = &c->groups[g];
        bool member = false;
        for (size_t k = 0; k < grp->nvms; k++)
            if (strcmp(grp->vms[k], vm->id) == 0)
                member = true;
        if (!member)
            continue;
        const char **hosts = calloc(grp->nvms ? grp->nvms : 1, sizeof(*hosts));
        const char **ids = calloc(grp->nvms ? grp->nvms : 1, sizeof(*ids));
        if (!hosts || !ids) {
            free(hosts);
            free(ids);
            continue;
        }
        size_t nm = 0;
        for (size_t k = 0; k < grp->nvms; k++) {
            if (strcmp(grp->vms[k], vm->id) == 0)
                continue;
            const char *where = NULL;
            for (size_t v = 0; v < c->nvms; v++)
                if (strcmp(c->vms[v].id, grp->vms[k]) == 0)
                    where = s_vm_where(ctx, &c->vms[v]);
            ids[nm] = grp->vms[k];
            hosts[nm++] = where ? where : "";
        }
        in->g[ng].name = grp->name;
        in->g[ng].positive = grp->positive;
        in->g[ng].enforcing = grp->enforcing;
        in->g[ng].nmembers = nm;
        in->g[ng].member_hosts = hosts;
        in->g[ng].member_ids = ids;
        in->hosts[ng] = hosts;
        in->ids[ng] = ids;
        ng++;
    }
    in->v.ngroups = ng;
    in->v.groups = in->g;
}

int eng_migrate_pick(eng_ctx_t *ctx, const eng_vm_t *vm, const char *source,
                     char out[ENG_ID_LEN])
{
    s_cl_t c;
    if (s_cl_load(ctx, vm->cluster_id, &c) < 0)
        return -1;
    s_vmin_t in;
    s_vmin(ctx, &c, vm, source && *source ? source : NULL, &in);
    int64_t now = (int64_t)cmn_time_ms();
    int rc = -1;
    if (out[0]) {
        /* A target the user named: it must pass the filters too. */
        size_t i;
        for (i = 0; i < c.nhosts; i++)
            if (strcmp(c.hosts[i].id, out) == 0)
                break;
        char why[1024] = "";
        if (i == c.nhosts)
            CMN_ERR(CMN_ERR_INVALID, "host %s is not in the cluster of VM %s",
                    out, vm->name);
        else if (c.full[i])
            CMN_ERR(CMN_ERR_STATE, "host %s already receives %u migrations "
                    "(migration.max_incoming)", c.hosts[i].name,
                    ctx->migrate->conf.max_incoming);
        else if (!eng_sched_host_fits(&c.pol, &in.v, &c.sh[i], now, why,
                                      sizeof(why)))
            CMN_ERR(CMN_ERR_UNAVAILABLE, "host %s cannot run VM %s: %s",
                    c.hosts[i].name, vm->name, why);
        else
            rc = 0;
    } else {
        /* Hosts at their incoming limit are left out and named. */
        eng_sched_host_t *cand = calloc(c.nhosts ? c.nhosts : 1, sizeof(*cand));
        size_t nc = 0;
        char full[512] = "";
        size_t fl = 0;
        for (size_t i = 0; cand && i < c.nhosts; i++) {
            if (c.full[i]) {
                if (fl < sizeof(full))
                    fl += (size_t)snprintf(full + fl, sizeof(full) - fl,
                                           "; %s: receives %u migrations "
                                           "already", c.hosts[i].name,
                                           ctx->migrate->conf.max_incoming);
                continue;
            }
            cand[nc++] = c.sh[i];
        }
        int idx = cand ? eng_sched_select(&c.pol, &in.v, cand, nc, now) : -1;
        if (idx >= 0) {
            snprintf(out, ENG_ID_LEN, "%s", cand[idx].id);
            rc = 0;
        } else if (nc == 0 && c.nhosts > 0 && full[0]) {
            cmn_err_reset();
            CMN_ERR(CMN_ERR_UNAVAILABLE, "no host can run VM %s%s", vm->name,
                    full);
        } else if (full[0] && cmn_err_code() == CMN_ERR_UNAVAILABLE) {
            char msg[1100];
            snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
            cmn_err_reset();
            CMN_ERR(CMN_ERR_UNAVAILABLE, "%s%s", msg, full);
        } else if (c.nhosts == 0) {
            cmn_err_reset();
            CMN_ERR(CMN_ERR_UNAVAILABLE, "no host can run VM %s: no host is "
                    "up (its cluster has none)", vm->name);
        }
        free(cand);
    }
    s_vmin_free(&in);
    s_cl_free(&c);
    return rc;
}

/* ---- load balancing --------------------------------------------------------- */

static int s_balance_cluster(eng_ctx_t *ctx, const eng_cluster_t *cl)
{
    s_cl_t c;
    if (s_cl_load(ctx, cl->id, &c) < 0)
        return -1;
    int started = 0;
    if (c.pol.kind == ENG_SCHED_NONE || c.nhosts < 2)
        goto out;
    eng_sched_running_t *run = calloc(c.nvms ? c.nvms : 1, sizeof(*run));
    s_vmin_t *ins = calloc(c.nvms ? c.nvms : 1, sizeof(*ins));
    size_t nr = 0;
    for (size_t v = 0; run && ins && v < c.nvms; v++) {
        const eng_vm_t *vm = &c.vms[v];
        if (vm->status != ENG_VM_UP || strcmp(vm->cluster_id, cl->id) != 0)
            continue;
        size_t h;
        for (h = 0; h < c.nhosts; h++)
            if (strcmp(c.hosts[h].id, vm->host_id) == 0)
                break;
        if (h == c.nhosts)
            continue;
        s_vmin(ctx, &c, vm, NULL, &ins[nr]);
        run[nr].vm = ins[nr].v;
        run[nr].host = h;
        json_t *smp = eng_stats_get(ctx->stats, vm->id);
        double l = s_num(smp, "cpu.current.total") * s_vcpus(vm);
        run[nr].cpu_load = c.sh[h].cpu_count ? l / c.sh[h].cpu_count : l;
        run[nr].migratable = !vm->pinned_host_id[0] &&
                             !eng_mig_find_vm(ctx->migrate, vm->id);
        nr++;
    }
    size_t max = ctx->migrate->conf.balance_max_moves;
    eng_sched_move_t *moves = calloc(max ? max : 1, sizeof(*moves));
    int64_t now = (int64_t)cmn_time_ms();
    int n = run && ins && moves && max
            ? eng_sched_balance(&c.pol, c.sh, c.nhosts, run, nr, now, max, moves)
            : 0;
    for (int i = 0; i < n; i++) {
        const eng_vm_t *vm = NULL;
        for (size_t v = 0; v < c.nvms; v++)
            if (strcmp(c.vms[v].id, moves[i].vm_id) == 0)
                vm = &c.vms[v];
        if (!vm)
            continue;
        eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_BALANCE_MOVE, moves[i].from_id,
                  vm->id, NULL, "Load balancing (%s) moves VM %s from host "
                  "%s to host %s", eng_sched_kind_name(c.pol.kind), vm->name,
                  c.hosts[moves[i].from].name, c.hosts[moves[i].to].name);
        cmn_err_reset();
        if (eng_migrate_start(ctx, vm->id, moves[i].to_id, NULL, NULL, NULL,
                              NULL) == 0)
            started++;
        else
            eng_event(ctx, ENG_SEV_WARNING, ENG_EV_BALANCE_MOVE,
                      moves[i].from_id, vm->id, NULL, "Load balancing could "
                      "not move VM %s: %s", vm->name, cmn_err_msg());
    }
    for (size_t i = 0; ins && i < nr; i++)
        s_vmin_free(&ins[i]);
    free(moves);
    free(run);
    free(ins);
out:
    s_cl_free(&c);
    return started;
}

/* ---- maintenance ------------------------------------------------------------- */

static int s_host_status(eng_ctx_t *ctx, eng_host_t *h, eng_host_status_t st,
                         const char *why)
{
    if (st == ENG_HOST_MAINTENANCE || st == ENG_HOST_UP)
        return eng_agents_host_admin(ctx->agents, h->id,
                                     st == ENG_HOST_MAINTENANCE, why);
    eng_host_status_t old = h->status;
    if (eng_store_host_set_status(ctx->store, h->id, st, cmn_time_ms()) < 0)
        return -1;
    h->status = st;
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_HOST_STATUS, h->id, NULL, NULL,
              "Host %s is %s (was %s)%s%s", h->name, eng_host_status_name(st),
              eng_host_status_name(old), why ? ": " : "", why ? why : "");
    return 0;
}

/* Move what still runs on a host preparing for maintenance; reach
 * maintenance when nothing is left. Returns migrations started. */
static int s_maint_step(eng_ctx_t *ctx, eng_host_t *h, bool report)
{
    eng_vm_t *vms = NULL;
    size_t n = 0;
    if (eng_store_vm_list_by_host(ctx->store, h->id, &vms, &n) < 0)
        return -1;
    int left = 0, started = 0;
    for (size_t i = 0; i < n; i++) {
        eng_vm_t *vm = &vms[i];
        if (vm->status == ENG_VM_DOWN)
            continue;
        left++;
        if (eng_mig_find_vm(ctx->migrate, vm->id))
            continue;
        cmn_err_reset();
        if (eng_migrate_start(ctx, vm->id, NULL, NULL, NULL, NULL, NULL) == 0) {
            started++;
        } else if (report || cmn_err_code() != CMN_ERR_STATE) {
            eng_event(ctx, ENG_SEV_WARNING, ENG_EV_MAINTENANCE, h->id, vm->id,
                      NULL, "Host %s stays preparing for maintenance: VM %s "
                      "cannot move: %s", h->name, vm->name, cmn_err_msg());
        }
    }
    free(vms);
    cmn_err_reset();
    if (left == 0)
        s_host_status(ctx, h, ENG_HOST_MAINTENANCE, "no VM left on it");
    return started;
}

void eng_maint_check(eng_ctx_t *ctx, const char *host_id)
{
    eng_host_t h = {0};
    if (eng_store_host_get(ctx->store, host_id, &h) == 0 &&
        h.status == ENG_HOST_PREPARING_FOR_MAINTENANCE)
        s_maint_step(ctx, &h, false);
    eng_host_clear(&h);
    cmn_err_reset();
}

int eng_maint_deactivate(eng_ctx_t *ctx, const char *host_ref,
                         const char *user)
{
    eng_host_t h = {0};
    if (eng_ops_host_find(ctx, host_ref, &h) < 0)
        return -1;
    int rc = 0;
    switch (h.status) {
    case ENG_HOST_MAINTENANCE:
        break;
    case ENG_HOST_PREPARING_FOR_MAINTENANCE:
        s_maint_step(ctx, &h, true);
        break;
    case ENG_HOST_UP:
    case ENG_HOST_NON_RESPONSIVE:
    case ENG_HOST_CONNECTING:
    case ENG_HOST_DOWN: {
        char why[ENG_NAME_LEN + 32];
        snprintf(why, sizeof(why), "deactivated by %s",
                 user && *user ? user : "system");
        bool up = h.status == ENG_HOST_UP;
        rc = s_host_status(ctx, &h, up ? ENG_HOST_PREPARING_FOR_MAINTENANCE
                                       : ENG_HOST_MAINTENANCE, why);
        if (rc == 0 && up)
            s_maint_step(ctx, &h, true);
        break;
    }
    default:
        rc = CMN_ERR(CMN_ERR_STATE, "host %s is %s: it cannot be "
                     "deactivated", h.name, eng_host_status_name(h.status));
        break;
    }
    eng_host_clear(&h);
    return rc;
}

int eng_maint_activate(eng_ctx_t *ctx, const char *host_ref, const char *user)
{
    eng_host_t h = {0};
    if (eng_ops_host_find(ctx, host_ref, &h) < 0)
        return -1;
    int rc = 0;
    if (h.status == ENG_HOST_MAINTENANCE ||
        h.status == ENG_HOST_PREPARING_FOR_MAINTENANCE) {
        char why[ENG_NAME_LEN + 32];
        snprintf(why, sizeof(why), "activated by %s",
                 user && *user ? user : "system");
        rc = s_host_status(ctx, &h, ENG_HOST_UP, why);
    } else if (h.status != ENG_HOST_UP) {
        rc = CMN_ERR(CMN_ERR_STATE, "host %s is %s: only a host in "
                     "maintenance can be activated", h.name,
                     eng_host_status_name(h.status));
    }
    eng_host_clear(&h);
    return rc;
}

int eng_migrate_balance_now(eng_ctx_t *ctx)
{
    int started = 0;
    eng_host_t *hosts = NULL;
    size_t n = 0;
    if (eng_store_host_list(ctx->store, &hosts, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (hosts[i].status == ENG_HOST_PREPARING_FOR_MAINTENANCE) {
                int s = s_maint_step(ctx, &hosts[i], true);
                started += s > 0 ? s : 0;
            }
            eng_host_clear(&hosts[i]);
        }
        free(hosts);
    }
    eng_cluster_t *cls = NULL;
    if (eng_store_cluster_list(ctx->store, &cls, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            cmn_err_reset();
            int s = s_balance_cluster(ctx, &cls[i]);
            if (s < 0)
                CMN_WARN("cluster %s: load balancing: %s", cls[i].name,
                         cmn_err_msg());
            else
                started += s;
        }
        free(cls);
    }
    cmn_err_reset();
    return started;
}
