/* Operations users ask for: VM create / update / start / actions / remove,
 * host ping. Validation and defaults live here; the agent link carries the
 * commands. Every operation records who asked and how it ended. */
#include "eng_ops_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_domxml.h"
#include "eng_migrate.h"
#include "eng_vmstate.h"

CMN_LOG_INIT("eng.ops");

#define MIB (UINT64_C(1) << 20)

static const char *s_user(const char *user)
{
    return user && *user ? user : "system";
}

const char *eng_vm_action_name(eng_vm_action_t act)
{
    static const char *names[] = {
        "stop", "shutdown", "reboot", "reset", "pause", "resume",
    };
    if ((int)act < 0 || act >= ENG_VM_ACT__LAST)
        return "unknown";
    return names[act];
}

int eng_vm_set_status(eng_ctx_t *ctx, eng_vm_t *vm, eng_vm_status_t st,
                      const char *why)
{
    if (vm->status == st)
        return 0;
    eng_vm_status_t old = vm->status;
    int64_t now = (int64_t)cmn_time_ms();
    vm->status = st;
    vm->status_time_ms = now;
    if (st == ENG_VM_DOWN) {
        vm->start_time_ms = 0;
        vm->display_port = 0;
    } else if (vm->start_time_ms == 0 && st != ENG_VM_WAIT_FOR_LAUNCH &&
               st != ENG_VM_UNKNOWN) {
        vm->start_time_ms = now;
    }
    if (eng_store_vm_update(ctx->store, vm) < 0)
        return -1;
    eng_severity_t sev = ENG_SEV_NORMAL;
    if (st == ENG_VM_UNKNOWN || st == ENG_VM_NOT_RESPONDING)
        sev = ENG_SEV_WARNING;
    eng_event(ctx, sev, ENG_EV_VM_STATUS, vm->host_id[0] ? vm->host_id : NULL,
              vm->id, NULL, "VM %s is %s (was %s)%s%s", vm->name,
              eng_vm_status_name(st), eng_vm_status_name(old),
              why ? ": " : "", why ? why : "");
    return 0;
}

int eng_vm_create(eng_ctx_t *ctx, eng_vm_t *vm, const char *user)
{
    cmn_err_reset();
    if (!vm)
        return CMN_ERR(CMN_ERR_INVALID, "vm: no spec given");
    if (!memchr(vm->id, '\0', sizeof(vm->id)))
        return CMN_ERR(CMN_ERR_INVALID, "id: too long");
    if (!vm->id[0]) {
        cmn_uuid_generate(vm->id);
    } else if (!cmn_uuid_valid(vm->id)) {
        return CMN_ERR(CMN_ERR_INVALID, "id: '%s' is not a UUID", vm->id);
    } else {
        eng_vm_t other;
        if (eng_store_vm_get(ctx->store, vm->id, &other) == 0)
            return CMN_ERR(CMN_ERR_EXISTS, "id: a VM with id %s exists",
                           vm->id);
        cmn_err_reset();
    }
    if (eng_ops_validate(ctx, vm, NULL) < 0)
        return -1;
    vm->external = false;
    vm->created_ms = (int64_t)cmn_time_ms();
    vm->status = ENG_VM_DOWN;
    vm->host_id[0] = '\0';
    vm->start_time_ms = 0;
    vm->status_time_ms = vm->created_ms;
    vm->display_port = 0;
    snprintf(vm->display_address, sizeof(vm->display_address), "127.0.0.1");
    if (eng_store_vm_insert(ctx->store, vm) < 0)
        return -1;
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_VM_ADDED, NULL, vm->id, user,
              "VM %s created by %s (%llu MiB, %u vCPUs, %d disks, %d NICs)",
              vm->name, s_user(user),
              (unsigned long long)(vm->memory_bytes / MIB),
              vm->sockets * vm->cores * vm->threads, vm->ndisks, vm->nnics);
    return 0;
}

int eng_vm_update(eng_ctx_t *ctx, const eng_vm_t *vm, const char *user)
{
    cmn_err_reset();
    if (!vm)
        return CMN_ERR(CMN_ERR_INVALID, "vm: no spec given");
    eng_vm_t cur;
    if (eng_ops_vm_find(ctx, vm->id, &cur) < 0)
        return -1;
    if (cur.status != ENG_VM_DOWN)
        return CMN_ERR(CMN_ERR_STATE, "VM %s is %s: only a down VM can be "
                       "updated", cur.name, eng_vm_status_name(cur.status));
    eng_vm_t next = *vm;
    snprintf(next.id, sizeof(next.id), "%s", cur.id);
    /* Disks already made keep their files. */
    for (int i = 0; i < next.ndisks && i < ENG_VM_MAX_DISKS; i++)
        for (int j = 0; j < cur.ndisks; j++)
            if (!next.disks[i].path[0] &&
                strcasecmp(next.disks[i].id, cur.disks[j].id) == 0)
                memcpy(next.disks[i].path, cur.disks[j].path,
                       sizeof(next.disks[i].path));
    if (eng_ops_validate(ctx, &next, cur.id) < 0)
        return -1;
    next.external = cur.external;
    next.created_ms = cur.created_ms;
    next.status = cur.status;
    memcpy(next.host_id, cur.host_id, sizeof(next.host_id));
    next.start_time_ms = cur.start_time_ms;
    next.status_time_ms = cur.status_time_ms;
    next.display_port = cur.display_port;
    memcpy(next.display_address, cur.display_address,
           sizeof(next.display_address));
    if (eng_store_vm_update(ctx->store, &next) < 0)
        return -1;
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_VM_COMMAND, NULL, next.id, user,
              "VM %s updated by %s", next.name, s_user(user));
    return 0;
}

/* ---- jobs: operations that wait on an agent ------------------------------ */

typedef struct {
    eng_ctx_t *ctx;
    char vm_id[ENG_ID_LEN];
    char host_id[ENG_ID_LEN];
    char user[ENG_NAME_LEN];
    char what[32];                  /* "start", "stop", "remove", ... */
    eng_op_cb cb;
    void *opaque;
    int disk;                       /* next disk to look at */
    eng_vm_action_t act;
    eng_vm_status_t prev;           /* restored if an action fails */
    eng_vm_status_t interim;        /* set while an action runs */
    unsigned count, done;           /* ping */
    uint64_t *rtt;
    cmn_code_t code;                /* deferred outcome */
    char msg[512];
} s_job_t;

static s_job_t *s_job_new(eng_ctx_t *ctx, const char *vm_id, const char *what,
                          const char *user, eng_op_cb cb, void *opaque)
{
    s_job_t *j = calloc(1, sizeof(*j));
    if (!j) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    j->ctx = ctx;
    snprintf(j->vm_id, sizeof(j->vm_id), "%s", vm_id ? vm_id : "");
    snprintf(j->what, sizeof(j->what), "%s", what);
    snprintf(j->user, sizeof(j->user), "%s", s_user(user));
    j->cb = cb;
    j->opaque = opaque;
    return j;
}

static void s_job_finish(s_job_t *j, cmn_code_t code, const char *msg)
{
    if (j->cb)
        j->cb(code, msg ? msg : "", j->opaque);
    free(j->rtt);
    free(j);
}

static void s_deferred_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    s_job_t *j = opaque;
    s_job_finish(j, j->code, j->msg);
}

/* Finish on the next loop turn (for operations done synchronously). */
static void s_job_defer(s_job_t *j, cmn_code_t code, const char *msg)
{
    j->code = code;
    snprintf(j->msg, sizeof(j->msg), "%s", msg ? msg : "");
    struct timeval tv = { 0, 0 };
    if (event_base_once(j->ctx->base, -1, EV_TIMEOUT, s_deferred_cb, j,
                        &tv) < 0)
        s_job_finish(j, code, msg);
}

/* Outcome event of a VM command, then the caller's callback. */
static void s_vm_outcome(s_job_t *j, const char *vm_name, cmn_code_t code,
                         const char *msg)
{
    if (code == CMN_OK)
        eng_event(j->ctx, ENG_SEV_NORMAL, ENG_EV_VM_COMMAND,
                  j->host_id[0] ? j->host_id : NULL, j->vm_id, j->user,
                  "VM %s: %s by %s done", vm_name, j->what, j->user);
    else
        eng_event(j->ctx, ENG_SEV_ERROR, ENG_EV_VM_COMMAND_FAILED,
                  j->host_id[0] ? j->host_id : NULL, j->vm_id, j->user,
                  "VM %s: %s by %s failed: %s (%s)", vm_name, j->what,
                  j->user, msg, cmn_code_name(code));
    s_job_finish(j, code, msg);
}

static void s_accepted(eng_ctx_t *ctx, const eng_vm_t *vm, const char *host,
                       const char *what, const char *user)
{
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_VM_COMMAND, host, vm->id, user,
              "VM %s: %s requested by %s", vm->name, what, s_user(user));
}

/* ---- start --------------------------------------------------------------- */

/* Where to start `vm`: `want` (id or name), else what the scheduler picks
 * in its cluster (pinning, memory, CPUs, affinity, the cluster's policy;
 * eng_migrate_sched.c). */
static int s_pick_host(eng_ctx_t *ctx, const eng_vm_t *vm, const char *want,
                       char out[ENG_ID_LEN])
{
    if (!(want && *want)) {
        out[0] = '\0';
        return eng_migrate_pick(ctx, vm, NULL, out);
    }
    eng_host_t h = {0};
    if (eng_ops_host_find(ctx, want, &h) < 0)
        return -1;
    bool up = h.status == ENG_HOST_UP &&
              eng_agents_connected(ctx->agents, h.id);
    snprintf(out, ENG_ID_LEN, "%s", h.id);
    int rc = up ? 0 : CMN_ERR(CMN_ERR_UNAVAILABLE, "host %s is %s, not up",
                              h.name, eng_host_status_name(h.status));
    eng_host_clear(&h);
    (void)vm;
    return rc;
}

static int s_start_step(s_job_t *j);

static void s_start_failed(s_job_t *j, cmn_code_t code, const char *msg)
{
    eng_vm_t vm;
    char name[ENG_NAME_LEN];
    snprintf(name, sizeof(name), "%s", j->vm_id);
    cmn_err_reset();
    if (eng_store_vm_get(j->ctx->store, j->vm_id, &vm) == 0) {
        snprintf(name, sizeof(name), "%s", vm.name);
        if (vm.status == ENG_VM_WAIT_FOR_LAUNCH ||
            vm.status == ENG_VM_POWERING_UP) {
            char why[600];
            snprintf(why, sizeof(why), "start failed: %s", msg);
            eng_vm_set_status(j->ctx, &vm, ENG_VM_DOWN, why);
        }
    }
    s_vm_outcome(j, name, code == CMN_OK ? CMN_ERR_INTERNAL : code, msg);
}

static void s_on_created(const eng_agent_reply_t *r, void *opaque)
{
    s_job_t *j = opaque;
    cmn_err_reset();
    if (r->code != CMN_OK) {
        s_start_failed(j, r->code, r->message);
        return;
    }
    eng_vm_t vm;
    if (eng_store_vm_get(j->ctx->store, j->vm_id, &vm) < 0) {
        s_vm_outcome(j, j->vm_id, CMN_ERR_NOT_FOUND,
                     "the VM was removed while starting");
        return;
    }
    eng_vm_set_status(j->ctx, &vm, eng_vmstate_on_create_ok(vm.status),
                      "the agent launched it");
    s_vm_outcome(j, vm.name, CMN_OK, "");
}

static void s_on_disk(const eng_agent_reply_t *r, void *opaque)
{
    s_job_t *j = opaque;
    cmn_err_reset();
    if (r->code != CMN_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "disk creation failed: %s", r->message);
        s_start_failed(j, r->code, msg);
        return;
    }
    eng_vm_t vm;
    if (eng_store_vm_get(j->ctx->store, j->vm_id, &vm) < 0 ||
        j->disk >= vm.ndisks) {
        s_start_failed(j, CMN_ERR_NOT_FOUND, "the VM changed while starting");
        return;
    }
    snprintf(vm.disks[j->disk].path, sizeof(vm.disks[j->disk].path), "%s",
             r->disk_path);
    if (eng_store_vm_update(j->ctx->store, &vm) < 0) {
        s_start_failed(j, cmn_err_code(), cmn_err_msg());
        return;
    }
    j->disk++;
    if (s_start_step(j) < 0)
        s_start_failed(j, cmn_err_code(), cmn_err_msg());
}

/* Next step of a start: create a missing disk, else send the domain. */
static int s_start_step(s_job_t *j)
{
    eng_ctx_t *ctx = j->ctx;
    eng_vm_t vm;
    if (eng_store_vm_get(ctx->store, j->vm_id, &vm) < 0)
        return -1;
    for (; j->disk < vm.ndisks; j->disk++) {
        const eng_disk_t *d = &vm.disks[j->disk];
        if (!d->path[0])
            return eng_agents_disk_create(ctx->agents, j->host_id, d->id,
                                          d->size_bytes, s_on_disk, j);
    }
    eng_host_t h = {0};
    if (eng_store_host_get(ctx->store, j->host_id, &h) < 0)
        return -1;
    eng_domxml_opts_t opts = {
        .kvm = json_is_true(json_object_get(h.caps, "kvm")),
        .firmware = ctx->conf.vm_firmware && ctx->conf.vm_firmware[0]
                        ? ctx->conf.vm_firmware : NULL,
    };
    char *xml = eng_domxml_build(&vm, &opts);
    eng_host_clear(&h);
    if (!xml)
        return -1;
    int rc = eng_agents_vm_create(ctx->agents, j->host_id, vm.id, xml, true,
                                  s_on_created, j);
    free(xml);
    return rc;
}

int eng_vm_start(eng_ctx_t *ctx, const char *vm_id, const char *host_id,
                 const char *user, eng_op_cb cb, void *opaque)
{
    cmn_err_reset();
    eng_vm_t vm;
    if (eng_ops_vm_find(ctx, vm_id, &vm) < 0)
        return -1;
    if (vm.status == ENG_VM_PAUSED)
        return eng_vm_action(ctx, vm.id, ENG_VM_ACT_RESUME, user, cb, opaque);
    if (vm.status != ENG_VM_DOWN)
        return CMN_ERR(CMN_ERR_STATE, "VM %s is %s: only a down VM can be "
                       "started", vm.name, eng_vm_status_name(vm.status));
    char host[ENG_ID_LEN] = "";
    if (s_pick_host(ctx, &vm, host_id, host) < 0)
        return -1;
    s_job_t *j = s_job_new(ctx, vm.id, "start", user, cb, opaque);
    if (!j)
        return -1;
    snprintf(j->host_id, sizeof(j->host_id), "%s", host);
    snprintf(vm.host_id, sizeof(vm.host_id), "%s", host);
    s_accepted(ctx, &vm, host, "start", user);
    if (eng_vm_set_status(ctx, &vm, ENG_VM_WAIT_FOR_LAUNCH,
                          "start accepted") < 0 ||
        s_start_step(j) < 0) {
        cmn_code_t code = cmn_err_code();
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
        j->cb = NULL;                   /* the caller hears it from -1 */
        s_start_failed(j, code, msg);
        cmn_err_reset();                /* the outcome's own bookkeeping */
        return cmn_err_set(code, 0, __FILE__, __LINE__, "%s", msg);
    }
    return 0;
}

/* ---- actions ------------------------------------------------------------- */

static bool s_act_allowed(eng_vm_action_t act, eng_vm_status_t st)
{
    switch (act) {
    case ENG_VM_ACT_STOP:
        return st != ENG_VM_DOWN;
    case ENG_VM_ACT_SHUTDOWN:
    case ENG_VM_ACT_RESET:
        return st == ENG_VM_UP || st == ENG_VM_POWERING_UP ||
               st == ENG_VM_REBOOT_IN_PROGRESS || st == ENG_VM_POWERING_DOWN ||
               (act == ENG_VM_ACT_RESET && st == ENG_VM_PAUSED);
    case ENG_VM_ACT_REBOOT:
    case ENG_VM_ACT_PAUSE:
        return st == ENG_VM_UP || st == ENG_VM_POWERING_UP;
    case ENG_VM_ACT_RESUME:
        return st == ENG_VM_PAUSED;
    default:
        return false;
    }
}

static void s_on_action(const eng_agent_reply_t *r, void *opaque)
{
    s_job_t *j = opaque;
    cmn_err_reset();
    eng_vm_t vm;
    if (eng_store_vm_get(j->ctx->store, j->vm_id, &vm) < 0) {
        s_vm_outcome(j, j->vm_id, r->code, r->message);
        return;
    }
    if (r->code != CMN_OK) {
        if (j->interim != ENG_VM__LAST && vm.status == j->interim)
            eng_vm_set_status(j->ctx, &vm, j->prev, "command failed");
        s_vm_outcome(j, vm.name, r->code, r->message);
        return;
    }
    eng_vm_status_t st = vm.status;
    switch (j->act) {
    case ENG_VM_ACT_STOP:
        st = ENG_VM_DOWN;
        break;
    case ENG_VM_ACT_PAUSE:
        st = ENG_VM_PAUSED;
        break;
    case ENG_VM_ACT_RESUME:
        st = ENG_VM_UP;
        break;
    case ENG_VM_ACT_REBOOT:
        if (st == ENG_VM_REBOOT_IN_PROGRESS)
            st = ENG_VM_UP;
        break;
    default:
        break;
    }
    if (st != vm.status && vm.status != ENG_VM_DOWN)
        eng_vm_set_status(j->ctx, &vm, st, j->what);
    s_vm_outcome(j, vm.name, CMN_OK, "");
}

int eng_vm_action(eng_ctx_t *ctx, const char *vm_id, eng_vm_action_t act,
                  const char *user, eng_op_cb cb, void *opaque)
{
    static const eng_agent_op_t ops[] = {
        [ENG_VM_ACT_STOP] = ENG_AGT_OP_DESTROY,
        [ENG_VM_ACT_SHUTDOWN] = ENG_AGT_OP_SHUTDOWN,
        [ENG_VM_ACT_REBOOT] = ENG_AGT_OP_REBOOT,
        [ENG_VM_ACT_RESET] = ENG_AGT_OP_RESET,
        [ENG_VM_ACT_PAUSE] = ENG_AGT_OP_PAUSE,
        [ENG_VM_ACT_RESUME] = ENG_AGT_OP_RESUME,
    };
    cmn_err_reset();
    if ((int)act < 0 || act >= ENG_VM_ACT__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "action: unknown action %d", (int)act);
    eng_vm_t vm;
    if (eng_ops_vm_find(ctx, vm_id, &vm) < 0)
        return -1;
    const char *what = eng_vm_action_name(act);
    if (!s_act_allowed(act, vm.status))
        return CMN_ERR(CMN_ERR_STATE, "VM %s is %s: cannot %s it", vm.name,
                       eng_vm_status_name(vm.status), what);
    if (!vm.host_id[0] || !eng_agents_connected(ctx->agents, vm.host_id))
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "VM %s: its host is not up",
                       vm.name);
    unsigned timeout = 0;
    eng_vm_status_t interim = ENG_VM__LAST;
    if (act == ENG_VM_ACT_SHUTDOWN) {
        timeout = (unsigned)ctx->conf.vm_shutdown_timeout_s;
        interim = ENG_VM_POWERING_DOWN;
    } else if (act == ENG_VM_ACT_REBOOT) {
        timeout = (unsigned)ctx->conf.vm_reboot_timeout_s;
        interim = ENG_VM_REBOOT_IN_PROGRESS;
    }
    s_job_t *j = s_job_new(ctx, vm.id, what, user, cb, opaque);
    if (!j)
        return -1;
    snprintf(j->host_id, sizeof(j->host_id), "%s", vm.host_id);
    j->act = act;
    j->prev = vm.status;
    j->interim = interim;
    if (eng_agents_vm_op(ctx->agents, vm.host_id, vm.id, ops[act], timeout,
                         s_on_action, j) < 0) {
        free(j);
        return -1;
    }
    s_accepted(ctx, &vm, vm.host_id, what, user);
    if (interim != ENG_VM__LAST) {
        char why[64];
        snprintf(why, sizeof(why), "%s accepted", what);
        eng_vm_set_status(ctx, &vm, interim, why);
    }
    return 0;
}

/* ---- remove -------------------------------------------------------------- */

static void s_remove_record(s_job_t *j, const char *warning)
{
    eng_ctx_t *ctx = j->ctx;
    eng_vm_t vm;
    if (eng_store_vm_get(ctx->store, j->vm_id, &vm) < 0 ||
        eng_store_vm_delete(ctx->store, j->vm_id) < 0) {
        s_vm_outcome(j, j->vm_id, cmn_err_code(), cmn_err_msg());
        return;
    }
    eng_stats_remove(ctx->stats, vm.id);
    if (warning)
        eng_event(ctx, ENG_SEV_WARNING, ENG_EV_VM_REMOVED,
                  vm.host_id[0] ? vm.host_id : NULL, vm.id, j->user,
                  "VM %s removed by %s; %s", vm.name, j->user, warning);
    else
        eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_VM_REMOVED,
                  vm.host_id[0] ? vm.host_id : NULL, vm.id, j->user,
                  "VM %s removed by %s", vm.name, j->user);
    j->code = CMN_OK;
}

static void s_remove_next(s_job_t *j);

static void s_on_disk_deleted(const eng_agent_reply_t *r, void *opaque)
{
    s_job_t *j = opaque;
    cmn_err_reset();
    if (r->code != CMN_OK && r->code != CMN_ERR_NOT_FOUND)
        eng_event(j->ctx, ENG_SEV_WARNING, ENG_EV_VM_COMMAND_FAILED,
                  j->host_id, j->vm_id, j->user,
                  "a disk of VM %s was not deleted: %s", j->vm_id, r->message);
    j->disk++;
    s_remove_next(j);
}

/* Delete the next disk file, or when none is left the record. */
static void s_remove_next(s_job_t *j)
{
    eng_vm_t vm;
    if (eng_store_vm_get(j->ctx->store, j->vm_id, &vm) < 0) {
        s_vm_outcome(j, j->vm_id, cmn_err_code(), cmn_err_msg());
        return;
    }
    for (; j->disk < vm.ndisks; j->disk++) {
        if (!vm.disks[j->disk].path[0])
            continue;
        if (eng_agents_disk_delete(j->ctx->agents, j->host_id,
                                   vm.disks[j->disk].id, s_on_disk_deleted,
                                   j) == 0)
            return;
        eng_event(j->ctx, ENG_SEV_WARNING, ENG_EV_VM_COMMAND_FAILED,
                  j->host_id, vm.id, j->user, "disk %s of VM %s was not "
                  "deleted: %s", vm.disks[j->disk].id, vm.name, cmn_err_msg());
        cmn_err_reset();
    }
    s_remove_record(j, NULL);
    if (j->code == CMN_OK)
        s_job_finish(j, CMN_OK, "");
}

static void s_on_undefined(const eng_agent_reply_t *r, void *opaque)
{
    s_job_t *j = opaque;
    cmn_err_reset();
    if (r->code != CMN_OK && r->code != CMN_ERR_NOT_FOUND) {
        s_vm_outcome(j, j->vm_id, r->code, r->message);
        return;
    }
    j->disk = 0;
    s_remove_next(j);
}

int eng_vm_remove(eng_ctx_t *ctx, const char *vm_id, const char *user,
                  eng_op_cb cb, void *opaque)
{
    cmn_err_reset();
    eng_vm_t vm;
    if (eng_ops_vm_find(ctx, vm_id, &vm) < 0)
        return -1;
    if (vm.status != ENG_VM_DOWN)
        return CMN_ERR(CMN_ERR_STATE, "VM %s is %s: only a down VM can be "
                       "removed", vm.name, eng_vm_status_name(vm.status));
    s_job_t *j = s_job_new(ctx, vm.id, "remove", user, cb, opaque);
    if (!j)
        return -1;
    snprintf(j->host_id, sizeof(j->host_id), "%s", vm.host_id);
    s_accepted(ctx, &vm, vm.host_id[0] ? vm.host_id : NULL, "remove", user);
    if (vm.host_id[0] && eng_agents_connected(ctx->agents, vm.host_id)) {
        if (eng_agents_vm_op(ctx->agents, vm.host_id, vm.id,
                             ENG_AGT_OP_UNDEFINE, 0, s_on_undefined, j) == 0)
            return 0;
        cmn_err_reset();
    }
    bool files = vm.host_id[0] != '\0';
    for (int i = 0; i < vm.ndisks; i++)
        files = files || vm.disks[i].path[0];
    s_remove_record(j, files ? "its domain and disk files were left on its "
                               "host, which is not up" : NULL);
    if (j->code != CMN_OK) {
        free(j);
        return -1;
    }
    s_job_defer(j, CMN_OK, "");
    return 0;
}

/* ---- host ping ----------------------------------------------------------- */

static int s_cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static void s_on_pong(const eng_agent_reply_t *r, void *opaque)
{
    s_job_t *j = opaque;
    cmn_err_reset();
    if (r->code != CMN_OK) {
        s_job_finish(j, r->code, r->message);
        return;
    }
    j->rtt[j->done++] = r->rtt_us;
    if (j->done < j->count) {
        if (eng_agents_ping(j->ctx->agents, j->host_id, s_on_pong, j) < 0)
            s_job_finish(j, cmn_err_code(), cmn_err_msg());
        return;
    }
    unsigned n = j->count;
    qsort(j->rtt, n, sizeof(j->rtt[0]), s_cmp_u64);
    size_t p99 = ((size_t)n * 99 + 99) / 100;
    p99 = p99 ? p99 - 1 : 0;
    if (p99 >= n)
        p99 = n - 1;
    char out[256];
    snprintf(out, sizeof(out), "{\"count\":%u,\"min_us\":%llu,\"median_us\":"
             "%llu,\"p99_us\":%llu,\"max_us\":%llu}", n,
             (unsigned long long)j->rtt[0], (unsigned long long)j->rtt[n / 2],
             (unsigned long long)j->rtt[p99],
             (unsigned long long)j->rtt[n - 1]);
    s_job_finish(j, CMN_OK, out);
}

int eng_host_ping(eng_ctx_t *ctx, const char *host_id, unsigned count,
                  eng_op_cb cb, void *opaque)
{
    cmn_err_reset();
    if (count < 1 || count > 100000)
        return CMN_ERR(CMN_ERR_INVALID, "count: %u is outside 1..100000",
                       count);
    eng_host_t h = {0};
    if (eng_ops_host_find(ctx, host_id, &h) < 0)
        return -1;
    char id[ENG_ID_LEN];
    snprintf(id, sizeof(id), "%s", h.id);
    eng_host_clear(&h);
    if (!eng_agents_connected(ctx->agents, id))
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "host %s is not up", host_id);
    s_job_t *j = s_job_new(ctx, NULL, "ping", NULL, cb, opaque);
    if (!j)
        return -1;
    snprintf(j->host_id, sizeof(j->host_id), "%s", id);
    j->count = count;
    j->rtt = calloc(count, sizeof(*j->rtt));
    if (!j->rtt || eng_agents_ping(ctx->agents, id, s_on_pong, j) < 0) {
        if (!j->rtt)
            CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        free(j->rtt);
        free(j);
        return -1;
    }
    return 0;
}
