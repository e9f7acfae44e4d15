/* Reconciliation of VM state from what agents report: full reports after
 * hello, lifecycle events, and the state carried in statistics. The agents
 * are the truth about what runs; the store is brought in line, and
 * domains the store does not know are recorded as external VMs, never
 * touched. */
#include "eng_agents_priv.h"

#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_migrate.h"
#include "eng_ops.h"
#include "eng_vmstate.h"

CMN_LOG_INIT("eng.agents.vm");

/* A stats sample taken before a status change may arrive after it; only
 * trust stats for VMs whose status has been stable this long. */
#define STATS_TRUST_AFTER_MS 10000

static const char *s_event_name(int ev)
{
    static const char *names[] = {
        "defined", "undefined", "started", "suspended", "resumed",
        "stopped", "shutdown", "pmsuspended", "crashed",
    };
    if (ev == 100)
        return "reboot";
    if (ev >= 0 && ev < (int)(sizeof(names) / sizeof(names[0])))
        return names[ev];
    return "event";
}

static const char *s_stopped_detail(int detail)
{
    static const char *names[] = {
        "shut down", "destroyed", "crashed", "migrated", "saved", "failed",
        "from snapshot",
    };
    if (detail >= 0 && detail < (int)(sizeof(names) / sizeof(names[0])))
        return names[detail];
    return "stopped";
}

/* Record a domain the store does not know, as found on `host_id`. */
static int s_record_external(eng_agents_t *a, const char *host_id,
                             const char *vm_id, const char *name, int state,
                             int reason, uint32_t vcpus, uint64_t memory_kib,
                             uint32_t vnc_port)
{
    eng_ctx_t *ctx = a->ctx;
    eng_vm_t vm;
    memset(&vm, 0, sizeof(vm));
    eng_cluster_t cl;
    if (eng_store_cluster_get_by_name(ctx->store, "Default", &cl) < 0)
        return -1;
    snprintf(vm.id, sizeof(vm.id), "%s", vm_id);
    snprintf(vm.name, sizeof(vm.name), "%s", name && *name ? name : vm_id);
    eng_vm_t other;
    if (eng_store_vm_get_by_name(ctx->store, vm.name, &other) == 0) {
        char base[ENG_NAME_LEN];
        snprintf(base, sizeof(base), "%s", vm.name);
        snprintf(vm.name, sizeof(vm.name), "%.200s-%.8s", base, vm_id);
        if (eng_store_vm_get_by_name(ctx->store, vm.name, &other) == 0)
            snprintf(vm.name, sizeof(vm.name), "%s", vm_id);
    }
    cmn_err_reset();
    snprintf(vm.cluster_id, sizeof(vm.cluster_id), "%s", cl.id);
    vm.memory_bytes = memory_kib * 1024;
    vm.sockets = vcpus ? vcpus : 1;
    vm.cores = 1;
    vm.threads = 1;
    snprintf(vm.display_type, sizeof(vm.display_type), "%s",
             vnc_port ? "vnc" : "none");
    snprintf(vm.display_address, sizeof(vm.display_address), "127.0.0.1");
    vm.external = true;
    int64_t now = (int64_t)cmn_time_ms();
    vm.created_ms = now;
    vm.status = eng_vmstate_from_state(state, reason, ENG_VM_DOWN);
    vm.status_time_ms = now;
    snprintf(vm.host_id, sizeof(vm.host_id), "%s", host_id);
    if (eng_vmstate_is_active(state)) {
        vm.start_time_ms = now;
        vm.display_port = vnc_port;
    }
    if (eng_store_vm_insert(ctx->store, &vm) < 0)
        return -1;
    char hn[ENG_NAME_LEN];
    eng_event(ctx, ENG_SEV_WARNING, ENG_EV_VM_EXTERNAL, host_id, vm.id, NULL,
              "VM %s found on host %s (%s), recorded as external",
              vm.name, eng_store_host_name(a->ctx->store, host_id, hn, sizeof(hn)),
              eng_vm_status_name(vm.status));
    return 0;
}

void eng_agt_host_lost_vms(eng_agents_t *a, const char *host_id)
{
    eng_vm_t *vms = NULL;
    size_t n = 0;
    if (eng_store_vm_list_by_host(a->ctx->store, host_id, &vms, &n) < 0) {
        CMN_WARN("host %s: cannot list its VMs: %s", host_id, cmn_err_msg());
        return;
    }
    for (size_t i = 0; i < n; i++) {
        eng_vm_status_t st = eng_vmstate_on_host_lost(vms[i].status);
        if (st != vms[i].status &&
            eng_vm_set_status(a->ctx, &vms[i], st,
                              "its host is non responsive") < 0)
            CMN_WARN("VM %s: %s", vms[i].name, cmn_err_msg());
    }
    free(vms);
}

/* ---- full report --------------------------------------------------------- */

static int s_report_apply(eng_agents_t *a, const char *host_id,
                          const Herd__VmReport *r, json_t *seen)
{
    eng_ctx_t *ctx = a->ctx;
    char why[ENG_NAME_LEN + 64];
    char hn[ENG_NAME_LEN];
    eng_store_host_name(a->ctx->store, host_id, hn, sizeof(hn));

    /* VMs the store places here that the report lacks or has shut off. */
    eng_vm_t *vms = NULL;
    size_t n = 0;
    if (eng_store_vm_list_by_host(ctx->store, host_id, &vms, &n) < 0)
        return -1;
    snprintf(why, sizeof(why), "not running on host %s (full report)", hn);
    for (size_t i = 0; i < n; i++) {
        json_t *st = json_object_get(seen, vms[i].id);
        if (vms[i].status == ENG_VM_DOWN)
            continue;
        if (st && eng_vmstate_is_active((int)json_integer_value(st)))
            continue;
        if (eng_migrate_on_report_vm(ctx, &vms[i], host_id, st != NULL,
                                     st ? (int)json_integer_value(st) : 0, 0))
            continue;       /* the migration job decides */
        if (eng_vm_set_status(ctx, &vms[i], ENG_VM_DOWN, why) < 0) {
            free(vms);
            return -1;
        }
    }
    free(vms);

    snprintf(why, sizeof(why), "full report from host %s", hn);
    for (size_t i = 0; i < r->n_vms; i++) {
        const Herd__VmStatus *v = r->vms[i];
        eng_vm_t vm;
        if (eng_store_vm_get(ctx->store, v->vm_id, &vm) < 0) {
            cmn_err_reset();
            if (s_record_external(a, host_id, v->vm_id, v->name, v->state,
                                  v->reason, v->vcpus, v->memory_kib,
                                  v->vnc_port) < 0)
                return -1;
            continue;
        }
        if (eng_migrate_on_report_vm(ctx, &vm, host_id, true, v->state,
                                     v->reason))
            continue;           /* the migration job decides */
        bool active = eng_vmstate_is_active(v->state);
        bool changed = false;
        if (strcmp(vm.host_id, host_id) != 0) {
            if (!active)
                continue;       /* a defined, shut-off copy: not ours */
            eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_VM_STATUS, host_id, vm.id,
                      NULL, "VM %s runs on host %s", vm.name, hn);
            snprintf(vm.host_id, sizeof(vm.host_id), "%s", host_id);
            changed = true;
        }
        if (active && v->vnc_port && vm.display_port != v->vnc_port) {
            vm.display_port = v->vnc_port;
            changed = true;
        }
        eng_vm_status_t st = eng_vmstate_from_state(v->state, v->reason,
                                                    vm.status);
        if (st != vm.status) {
            if (eng_vm_set_status(ctx, &vm, st, why) < 0)
                return -1;
        } else if (changed && eng_store_vm_update(ctx->store, &vm) < 0) {
            return -1;
        }
    }
    return 0;
}

int eng_agt_on_report(eng_agents_t *a, const char *host_id,
                      const Herd__VmReport *r)
{
    if (!r)
        return CMN_ERR(CMN_ERR_PROTOCOL, "vm_report: empty body");
    if (r->n_vms > ENG_AGT_MAX_VMS)
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.vms: %zu entries, at most "
                       "%d", r->n_vms, ENG_AGT_MAX_VMS);
    json_t *seen = json_object();
    if (!seen)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < r->n_vms; i++) {
        if (eng_agt_vm_status_check(r->vms[i]) < 0) {
            json_decref(seen);
            return -1;
        }
        json_object_set_new(seen, r->vms[i]->vm_id,
                            json_integer(r->vms[i]->state));
    }
    if (eng_store_begin(a->ctx->store) < 0) {
        json_decref(seen);
        return -1;
    }
    int rc = s_report_apply(a, host_id, r, seen);
    json_decref(seen);
    if (rc < 0 || eng_store_commit(a->ctx->store) < 0) {
        eng_store_rollback(a->ctx->store);
        return -1;
    }
    CMN_INFO("host %s: reconciled a report of %zu domains", host_id, r->n_vms);
    return 0;
}

/* ---- events -------------------------------------------------------------- */

int eng_agt_on_vm_event(eng_agents_t *a, const char *host_id,
                        const Herd__VmEvent *e)
{
    if (eng_agt_vm_event_check(e) < 0)
        return -1;
    eng_ctx_t *ctx = a->ctx;
    eng_vm_t vm;
    if (eng_store_vm_get(ctx->store, e->vm_id, &vm) < 0) {
        cmn_err_reset();
        CMN_DEBUG("host %s: %s event for unknown domain %s (%s)", host_id,
                  s_event_name(e->event), e->vm_id, e->name);
        return 0;
    }
    /* Both copies of a migrating VM send events: the job decides. */
    if (eng_migrate_on_vm_event(ctx, &vm, host_id, e->event, e->detail))
        return 0;
    eng_vm_status_t st = eng_vmstate_on_event(e->event, e->detail, e->state,
                                              e->reason, vm.status);
    bool changed = false;
    if (strcmp(vm.host_id, host_id) != 0) {
        if (st != ENG_VM_UP && st != ENG_VM_PAUSED) {
            CMN_DEBUG("VM %s: ignoring %s from host %s, it runs on %s",
                      vm.name, s_event_name(e->event), host_id, vm.host_id);
            return 0;
        }
        snprintf(vm.host_id, sizeof(vm.host_id), "%s", host_id);
        changed = true;
    }
    if (eng_vmstate_is_active(e->state) && e->vnc_port &&
        vm.display_port != e->vnc_port) {
        vm.display_port = e->vnc_port;
        changed = true;
    }
    char why[128];
    if (e->event == 5)
        snprintf(why, sizeof(why), "libvirt: %s", s_stopped_detail(e->detail));
    else
        snprintf(why, sizeof(why), "libvirt: %s", s_event_name(e->event));
    if (st != vm.status)
        return eng_vm_set_status(ctx, &vm, st, why);
    if (changed)
        return eng_store_vm_update(ctx->store, &vm);
    return 0;
}

/* ---- statistics ---------------------------------------------------------- */

int eng_agt_on_vm_stats(eng_agents_t *a, const char *host_id,
                        const Herd__VmStatsBatch *b)
{
    if (!b)
        return CMN_ERR(CMN_ERR_PROTOCOL, "vm_stats: empty body");
    if (b->n_vms > ENG_AGT_MAX_VMS)
        return CMN_ERR(CMN_ERR_INVALID, "vm_stats.vms: %zu entries, at most %d",
                       b->n_vms, ENG_AGT_MAX_VMS);
    for (size_t i = 0; i < b->n_vms; i++)
        if (eng_agt_vm_stats_check(b->vms[i]) < 0)
            return -1;
    eng_ctx_t *ctx = a->ctx;
    int64_t now = (int64_t)cmn_time_ms();
    for (size_t i = 0; i < b->n_vms; i++) {
        const Herd__VmStats *v = b->vms[i];
        bool active = eng_vmstate_is_active(v->state);
        eng_vm_t vm;
        if (eng_store_vm_get(ctx->store, v->vm_id, &vm) < 0) {
            cmn_err_reset();
            if (!active)
                continue;
            if (s_record_external(a, host_id, v->vm_id, v->name, v->state,
                                  v->reason, v->vcpus,
                                  v->max_memory_kib ? v->max_memory_kib
                                                    : v->memory_kib,
                                  0) < 0) {
                CMN_WARN("host %s: cannot record VM %s: %s", host_id,
                         v->vm_id, cmn_err_msg());
                cmn_err_reset();
                continue;
            }
            if (eng_store_vm_get(ctx->store, v->vm_id, &vm) < 0) {
                cmn_err_reset();
                continue;
            }
        }
        bool here = strcmp(vm.host_id, host_id) == 0;
        bool lost = vm.status == ENG_VM_DOWN || vm.status == ENG_VM_UNKNOWN;
        if (active && lost && now - vm.status_time_ms >= STATS_TRUST_AFTER_MS) {
            if (!here)
                snprintf(vm.host_id, sizeof(vm.host_id), "%s", host_id);
            here = true;
            eng_vm_status_t st = eng_vmstate_from_state(v->state, v->reason,
                                                        vm.status);
            if (eng_vm_set_status(ctx, &vm, st, "running per statistics") < 0) {
                CMN_WARN("VM %s: %s", vm.name, cmn_err_msg());
                cmn_err_reset();
            }
        }
        if (!here)
            continue;
        json_t *s = eng_agt_vm_stats_json(v, b->timestamp_ms);
        if (s) {
            eng_stats_put(ctx->stats, vm.id, s);
            json_object_set_new(a->dirty, vm.id, json_string("vm"));
        }
    }
    return 0;
}
