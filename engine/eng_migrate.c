/* Live migration jobs: start, cancel, progress from the source agent, the
 * end (VM recorded on the target, or back to up on the source with an
 * event saying why), jobs kept in the store across engine restarts, and
 * the reconciliation hooks that keep a migrating VM from flapping. */
#include "eng_migrate.h"
#include "eng_migrate_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_ops_priv.h"
#include "eng_vmstate.h"

CMN_LOG_INIT("eng.migrate");

#define STORE_EVERY_MS 2000         /* progress written at most this often */

void eng_migrate_conf_init(eng_migrate_conf_t *c)
{
    c->max_outgoing = 2;
    c->max_incoming = 2;
    c->timeout_s = 600;
    c->stale_s = 30;
    c->balance_interval_s = 60;
    c->balance_max_moves = 2;
    c->unsafe = true;
}

static const char *s_user(const char *user)
{
    return user && *user ? user : "system";
}

/* ---- the job table ------------------------------------------------------- */

unsigned eng_mig_count(eng_migrate_t *m, const char *host_id, bool outgoing)
{
    unsigned n = 0;
    for (eng_mig_t *j = m ? m->jobs : NULL; j; j = j->next)
        if (strcmp(outgoing ? j->job.source_host_id : j->job.target_host_id,
                   host_id) == 0)
            n++;
    return n;
}

eng_mig_t *eng_mig_find_vm(eng_migrate_t *m, const char *vm_id)
{
    for (eng_mig_t *j = m ? m->jobs : NULL; j; j = j->next)
        if (strcmp(j->job.vm_id, vm_id) == 0)
            return j;
    return NULL;
}

static eng_mig_t *s_find(eng_migrate_t *m, const char *job_id)
{
    for (eng_mig_t *j = m ? m->jobs : NULL; j; j = j->next)
        if (strcasecmp(j->job.id, job_id) == 0)
            return j;
    return NULL;
}

static void s_unlink(eng_migrate_t *m, eng_mig_t *j)
{
    for (eng_mig_t **pp = &m->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            return;
        }
}

static void s_store_job(eng_ctx_t *ctx, const eng_job_t *job)
{
    if (eng_store_job_put(ctx->store, job) < 0) {
        CMN_WARN("job %s: cannot store it: %s", job->id, cmn_err_msg());
        cmn_err_reset();
    }
}

/* End job `j`: state "finished" (landed), "failed" or "aborted". The VM is
 * recorded on the target when it landed; otherwise it stays on the source
 * and, if still migrating, goes back to up. "lost" (no word from the
 * source: the outcome is not known) is stored as failed and leaves the VM
 * unknown until a report or statistics show where it runs. Frees j. */
static void s_finish(eng_ctx_t *ctx, eng_mig_t *j, const char *state,
                     const char *why)
{
    eng_migrate_t *m = ctx->migrate;
    s_unlink(m, j);
    bool lost = strcmp(state, "lost") == 0;
    if (lost)
        state = "failed";
    eng_job_t *job = &j->job;
    snprintf(job->state, sizeof(job->state), "%s", state);
    snprintf(job->message, sizeof(job->message), "%s", why ? why : "");
    job->ended_ms = (int64_t)cmn_time_ms();
    bool landed = strcmp(state, "finished") == 0;
    if (landed) {
        job->percent = 100;
        job->memory_remaining = 0;
    }
    s_store_job(ctx, job);
    eng_mig_recent_t *rc = &m->recent[m->recent_next++ % ENG_MIG_RECENT];
    snprintf(rc->vm_id, sizeof(rc->vm_id), "%s", job->vm_id);
    snprintf(rc->source, sizeof(rc->source), "%s", job->source_host_id);
    snprintf(rc->target, sizeof(rc->target), "%s", job->target_host_id);
    rc->landed = landed;
    rc->ended_mono = cmn_mono_ms();
    char src[ENG_NAME_LEN], dst[ENG_NAME_LEN];
    eng_store_host_name(ctx->store, job->source_host_id, src, sizeof(src));
    eng_store_host_name(ctx->store, job->target_host_id, dst, sizeof(dst));
    eng_vm_t vm;
    if (eng_store_vm_get(ctx->store, job->vm_id, &vm) == 0) {
        char msg[ENG_DESC_LEN + 600];
        if (landed) {
            snprintf(vm.host_id, sizeof(vm.host_id), "%s", job->target_host_id);
            snprintf(msg, sizeof(msg), "migrated from host %s to host %s%s%s",
                     src, dst, why && *why ? ": " : "", why ? why : "");
            if (vm.status == ENG_VM_MIGRATING) {
                if (eng_vm_set_status(ctx, &vm, ENG_VM_UP, msg) < 0)
                    CMN_WARN("VM %s: %s", vm.name, cmn_err_msg());
            } else if (eng_store_vm_update(ctx->store, &vm) < 0) {
                CMN_WARN("VM %s: %s", vm.name, cmn_err_msg());
            }
            eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_MIGRATION_DONE,
                      job->target_host_id, vm.id, job->user,
                      "Migration of VM %s from host %s to host %s completed "
                      "(%lld ms)", vm.name, src, dst,
                      (long long)(job->ended_ms - job->started_ms));
        } else {
            snprintf(msg, sizeof(msg), "migration to host %s %s: %s", dst,
                     strcmp(state, "aborted") == 0 ? "cancelled" : "failed",
                     why && *why ? why : "no reason given");
            if (vm.status == ENG_VM_MIGRATING &&
                eng_vm_set_status(ctx, &vm, lost ? ENG_VM_UNKNOWN : ENG_VM_UP,
                                  msg) < 0)
                CMN_WARN("VM %s: %s", vm.name, cmn_err_msg());
            eng_event(ctx, strcmp(state, "aborted") == 0 ? ENG_SEV_WARNING
                      : ENG_SEV_ERROR, ENG_EV_MIGRATION_FAILED,
                      job->source_host_id, vm.id, job->user,
                      "Migration of VM %s from host %s to host %s %s; %s%s: "
                      "%s", vm.name, src, dst,
                      strcmp(state, "aborted") == 0 ? "was cancelled"
                      : "failed", lost ? "where the VM runs is unknown until "
                      "a host reports it, last seen on host " : "the VM stays "
                      "on host ", src, why && *why ? why : "no reason given");
        }
    }
    cmn_err_reset();
    if (j->cb) {
        eng_op_cb cb = j->cb;
        j->cb = NULL;
        cb(landed ? CMN_OK : CMN_ERR_STATE, why ? why : "", j->opaque);
    }
    char source[ENG_ID_LEN];
    snprintf(source, sizeof(source), "%s", job->source_host_id);
    free(j);
    eng_maint_check(ctx, source);
}

/* ---- start ----------------------------------------------------------------- */

/* The reply callback carries the job id, not the job: the job can end
 * (a DONE can overtake nothing, but a stale timer or shutdown can) before
 * the reply comes. */
typedef struct {
    eng_ctx_t *ctx;
    char job_id[ENG_ID_LEN];
    bool cancel;                    /* JobCancel reply */
    eng_op_cb cb;
    void *opaque;
} s_reply_t;

static void s_on_reply(const eng_agent_reply_t *r, void *opaque)
{
    s_reply_t *rp = opaque;
    eng_ctx_t *ctx = rp->ctx;
    eng_mig_t *j = ctx->migrate ? s_find(ctx->migrate, rp->job_id) : NULL;
    cmn_err_reset();
    if (rp->cancel) {
        if (rp->cb)
            rp->cb(r->code, r->message, rp->opaque);
        free(rp);
        return;
    }
    if (!j) {
        free(rp);
        return;
    }
    j->last_word_mono = cmn_mono_ms();
    if (r->code == CMN_OK) {
        j->accepted = true;
        if (j->cb) {
            eng_op_cb cb = j->cb;
            j->cb = NULL;
            cb(CMN_OK, "", j->opaque);
        }
    } else {
        char why[1100];
        snprintf(why, sizeof(why), "the source agent refused it: %s: %s",
                 cmn_code_name(r->code), r->message);
        eng_op_cb cb = j->cb;
        void *op = j->opaque;
        j->cb = NULL;
        s_finish(ctx, j, "failed", why);
        if (cb)
            cb(r->code, why, op);
    }
    free(rp);
}

static int s_check_uri(const char *uri)
{
    return uri && cmn_str_printable(uri, 511, " \"'\\") && strstr(uri, "://")
           ? 0 : -1;
}

int eng_migrate_start(eng_ctx_t *ctx, const char *vm_ref, const char *host_ref,
                      const char *user, eng_op_cb cb, void *opaque,
                      char *job_id)
{
    eng_migrate_t *m = ctx->migrate;
    if (!m)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "migration is not available");
    eng_vm_t vm;
    if (eng_ops_vm_find(ctx, vm_ref, &vm) < 0)
        return -1;
    if (eng_mig_find_vm(m, vm.id) || vm.status == ENG_VM_MIGRATING)
        return CMN_ERR(CMN_ERR_STATE, "VM %s is already migrating", vm.name);
    if (vm.status != ENG_VM_UP && vm.status != ENG_VM_PAUSED)
        return CMN_ERR(CMN_ERR_STATE, "VM %s is %s: only a running VM can "
                       "migrate", vm.name, eng_vm_status_name(vm.status));
    char src[ENG_NAME_LEN], dst[ENG_NAME_LEN];
    eng_store_host_name(ctx->store, vm.host_id, src, sizeof(src));
    if (!vm.host_id[0] || !eng_agents_connected(ctx->agents, vm.host_id)) {
        /* preparing_for_maintenance is not "connected" but still talks */
        eng_host_t sh = {0};
        bool ok = vm.host_id[0] &&
                  eng_store_host_get(ctx->store, vm.host_id, &sh) == 0 &&
                  sh.status == ENG_HOST_PREPARING_FOR_MAINTENANCE;
        eng_host_clear(&sh);
        cmn_err_reset();
        if (!ok)
            return CMN_ERR(CMN_ERR_UNAVAILABLE, "VM %s: its host %s is not "
                           "up", vm.name, src);
    }
    unsigned out = eng_mig_count(m, vm.host_id, true);
    if (out >= m->conf.max_outgoing)
        return CMN_ERR(CMN_ERR_STATE, "host %s already sends %u migrations "
                       "(migration.max_outgoing %u)", src, out,
                       m->conf.max_outgoing);
    char target[ENG_ID_LEN] = "";
    if (host_ref && *host_ref) {
        eng_host_t th = {0};
        if (eng_ops_host_find(ctx, host_ref, &th) < 0)
            return -1;
        snprintf(target, sizeof(target), "%s", th.id);
        eng_host_clear(&th);
        if (strcmp(target, vm.host_id) == 0)
            return CMN_ERR(CMN_ERR_INVALID, "VM %s already runs on host %s",
                           vm.name, src);
    }
    if (eng_migrate_pick(ctx, &vm, vm.host_id, target) < 0)
        return -1;
    eng_store_host_name(ctx->store, target, dst, sizeof(dst));
    if (!eng_agents_connected(ctx->agents, target))
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "host %s is not connected", dst);

    /* The target's libvirt URI from its hello; else from its address. */
    char uri[512] = "";
    eng_host_t th = {0};
    if (eng_store_host_get(ctx->store, target, &th) == 0) {
        const char *u = json_string_value(json_object_get(th.caps,
                                                          "migration_uri"));
        if (u && *u)
            snprintf(uri, sizeof(uri), "%s", u);
        else
            snprintf(uri, sizeof(uri), "qemu+tcp://%.400s/system", th.address);
    }
    eng_host_clear(&th);
    cmn_err_reset();
    if (s_check_uri(uri) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "host %s: migration URI '%.100s' is "
                       "not usable", dst, uri);
    eng_cluster_sched_t cs;
    if (eng_store_cluster_sched_get(ctx->store, vm.cluster_id, &cs) < 0) {
        memset(&cs, 0, sizeof(cs));
        cmn_err_reset();
    }

    eng_mig_t *j = calloc(1, sizeof(*j));
    s_reply_t *rp = calloc(1, sizeof(*rp));
    if (!j || !rp) {
        free(j);
        free(rp);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    eng_job_t *job = &j->job;
    cmn_uuid_generate(job->id);
    snprintf(job->kind, sizeof(job->kind), "migrate");
    snprintf(job->state, sizeof(job->state), "started");
    snprintf(job->vm_id, sizeof(job->vm_id), "%s", vm.id);
    snprintf(job->source_host_id, sizeof(job->source_host_id), "%s",
             vm.host_id);
    snprintf(job->target_host_id, sizeof(job->target_host_id), "%s", target);
    snprintf(job->user, sizeof(job->user), "%s", s_user(user));
    snprintf(job->description, sizeof(job->description),
             "Migrating VM %s from host %s to host %s", vm.name, src, dst);
    job->started_ms = (int64_t)cmn_time_ms();
    job->memory_total = (int64_t)vm.memory_bytes;
    job->memory_remaining = (int64_t)vm.memory_bytes;
    j->cb = cb;
    j->opaque = opaque;
    j->last_word_mono = cmn_mono_ms();
    rp->ctx = ctx;
    snprintf(rp->job_id, sizeof(rp->job_id), "%s", job->id);

    if (eng_agents_vm_migrate(ctx->agents, vm.host_id, job, uri,
                              (unsigned)(cs.bandwidth_mbps > 0 ? cs.bandwidth_mbps : 0),
                              (unsigned)(cs.max_downtime_ms > 0 ? cs.max_downtime_ms : 0),
                              m->conf.timeout_s, m->conf.unsafe, s_on_reply,
                              rp) < 0) {
        free(j);
        free(rp);
        return -1;
    }
    j->next = m->jobs;
    m->jobs = j;
    s_store_job(ctx, job);
    char why[ENG_NAME_LEN * 2 + 32];
    snprintf(why, sizeof(why), "migrating from host %s to host %s", src, dst);
    if (eng_vm_set_status(ctx, &vm, ENG_VM_MIGRATING, why) < 0) {
        CMN_WARN("VM %s: %s", vm.name, cmn_err_msg());
        cmn_err_reset();
    }
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_MIGRATION_STARTED, vm.host_id,
              vm.id, job->user, "Migration of VM %s from host %s to host %s "
              "started by %s (job %s)", vm.name, src, dst, job->user, job->id);
    if (job_id)
        snprintf(job_id, ENG_ID_LEN, "%s", job->id);
    return 0;
}

int eng_migrate_cancel(eng_ctx_t *ctx, const char *vm_ref, const char *user,
                       eng_op_cb cb, void *opaque)
{
    eng_vm_t vm;
    if (eng_ops_vm_find(ctx, vm_ref, &vm) < 0)
        return -1;
    eng_mig_t *j = eng_mig_find_vm(ctx->migrate, vm.id);
    if (!j)
        return CMN_ERR(CMN_ERR_STATE, "VM %s is not migrating", vm.name);
    s_reply_t *rp = calloc(1, sizeof(*rp));
    if (!rp)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    rp->ctx = ctx;
    rp->cancel = true;
    rp->cb = cb;
    rp->opaque = opaque;
    snprintf(rp->job_id, sizeof(rp->job_id), "%s", j->job.id);
    if (eng_agents_job_cancel(ctx->agents, j->job.source_host_id, j->job.id,
                              s_on_reply, rp) < 0) {
        free(rp);
        return -1;
    }
    j->cancel_sent = true;
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_VM_COMMAND, j->job.source_host_id,
              vm.id, s_user(user), "VM %s: cancelmigration requested by %s",
              vm.name, s_user(user));
    return 0;
}

/* ---- progress ---------------------------------------------------------------- */

void eng_migrate_on_progress(eng_ctx_t *ctx, const char *host_id,
                             const eng_mig_progress_t *p)
{
    eng_mig_t *j = s_find(ctx->migrate, p->job_id);
    if (!j) {
        CMN_DEBUG("progress of unknown job %s from host %s", p->job_id,
                  host_id);
        return;
    }
    if (strcmp(j->job.source_host_id, host_id) != 0 ||
        strcasecmp(j->job.vm_id, p->vm_id) != 0) {
        CMN_WARN("job %s: progress from host %s about VM %s ignored (the "
                 "job moves VM %s from host %s)", p->job_id, host_id,
                 p->vm_id, j->job.vm_id, j->job.source_host_id);
        return;
    }
    j->last_word_mono = cmn_mono_ms();
    j->accepted = true;
    if (p->memory_total) {
        j->job.memory_total = (int64_t)p->memory_total;
        j->job.memory_remaining = (int64_t)p->memory_remaining;
    }
    switch (p->state) {
    case 1:
        j->job.percent = (int)p->percent;
        if (j->last_word_mono - j->last_store_mono >= STORE_EVERY_MS) {
            j->last_store_mono = j->last_word_mono;
            s_store_job(ctx, &j->job);
        }
        return;
    case 2: {
        char why[128] = "";
        if (p->elapsed_ms)
            snprintf(why, sizeof(why), "libvirt's job took %llu ms",
                     (unsigned long long)p->elapsed_ms);
        s_finish(ctx, j, "finished", why);
        return;
    }
    case 4:
        s_finish(ctx, j, "aborted", p->message && *p->message ? p->message
                 : "cancelled");
        return;
    default:
        s_finish(ctx, j, "failed", p->message && *p->message ? p->message
                 : "the source agent gave no reason");
        return;
    }
}

/* ---- reconciliation hooks ------------------------------------------------------ */

/* The host a VM left (landed) or failed to reach in a migration that ended
 * less than ENG_MIG_RECENT_MS ago; NULL if none. */
static const eng_mig_recent_t *s_recent(eng_migrate_t *m, const char *vm_id)
{
    const eng_mig_recent_t *best = NULL;
    uint64_t now = cmn_mono_ms();
    for (size_t i = 0; m && i < ENG_MIG_RECENT; i++) {
        const eng_mig_recent_t *r = &m->recent[i];
        if (r->ended_mono && now - r->ended_mono < ENG_MIG_RECENT_MS &&
            strcmp(r->vm_id, vm_id) == 0 &&
            (!best || r->ended_mono > best->ended_mono))
            best = r;
    }
    return best;
}

/* The copy on the host a VM has just left, or on the target of a
 * migration that has just failed: what it says is old news. */
static bool s_old_copy(eng_migrate_t *m, const char *vm_id,
                       const char *host_id)
{
    const eng_mig_recent_t *r = s_recent(m, vm_id);
    if (!r)
        return false;
    return strcmp(host_id, r->landed ? r->source : r->target) == 0;
}

bool eng_migrate_on_vm_event(eng_ctx_t *ctx, const eng_vm_t *vm,
                             const char *host_id, int event, int detail)
{
    eng_mig_t *j = eng_mig_find_vm(ctx->migrate, vm->id);
    if (!j) {
        /* Events the source sent before its DONE may come after it. */
        if (s_old_copy(ctx->migrate, vm->id, host_id) &&
            event != ENG_LV_EV_CRASHED)
            return true;
        return false;           /* a stale status: let the event decide */
    }
    if (strcmp(host_id, j->job.target_host_id) == 0) {
        /* Resumed after the migration on the target: it landed. Only for
         * a job that outlived an engine restart, whose DONE may be lost:
         * otherwise the source's DONE comes once libvirt there is done
         * too (starting the next migration back before that fails). */
        if (j->from_store && event == ENG_LV_EV_RESUMED &&
            detail == 1 /* MIGRATED */)
            s_finish(ctx, j, "finished", "the target reports it resumed");
        return true;            /* the incoming copy: DONE will tell */
    }
    if (strcmp(host_id, j->job.source_host_id) != 0)
        return false;
    /* The source: its suspend and stop for the migration are expected.
     * A crash or a destroy there is the end of the VM. */
    if (event == ENG_LV_EV_CRASHED ||
        (event == ENG_LV_EV_STOPPED && detail != 3 /* MIGRATED */))
        return false;
    return true;
}

bool eng_migrate_on_report_vm(eng_ctx_t *ctx, const eng_vm_t *vm,
                              const char *host_id, bool present, int state,
                              int reason)
{
    (void)reason;
    eng_mig_t *j = eng_mig_find_vm(ctx->migrate, vm->id);
    if (!j) {
        /* A report listed before the end: the old copy, or the new host
         * not having it yet. */
        const eng_mig_recent_t *r = s_recent(ctx->migrate, vm->id);
        if (!r)
            return false;
        if (s_old_copy(ctx->migrate, vm->id, host_id))
            return true;
        if (!present && strcmp(host_id, r->landed ? r->target : r->source) == 0)
            return true;
        return false;
    }
    if (strcmp(host_id, j->job.target_host_id) == 0) {
        /* Running (not paused for the incoming migration) on the target:
         * it landed, and the DONE was lost (engine restart). */
        if (present && state == ENG_LV_RUNNING)
            s_finish(ctx, j, "finished", "found running on the target");
        return true;
    }
    if (strcmp(host_id, j->job.source_host_id) == 0)
        return true;            /* the source's copy: the job decides */
    return false;
}

/* ---- JSON ---------------------------------------------------------------------- */

static json_t *s_ref(eng_ctx_t *ctx, const char *coll, const char *id)
{
    char href[160];
    snprintf(href, sizeof(href), "/ovirt-engine/api/%s/%s", coll, id);
    json_t *o = json_pack("{s:s,s:s}", "id", id, "href", href);
    if (o && strcmp(coll, "hosts") == 0) {
        char name[ENG_NAME_LEN];
        json_object_set_new(o, "name", json_string(
            eng_store_host_name(ctx->store, id, name, sizeof(name))));
    }
    return o;
}

static json_t *s_num(int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return json_string(buf);
}

json_t *eng_migrate_vm_json(eng_ctx_t *ctx, const char *vm_id)
{
    eng_mig_t *j = eng_mig_find_vm(ctx->migrate, vm_id);
    if (!j)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "progress", s_num(j->job.percent));
    json_object_set_new(o, "memory_remaining", s_num(j->job.memory_remaining));
    json_object_set_new(o, "memory_total", s_num(j->job.memory_total));
    json_object_set_new(o, "source_host", s_ref(ctx, "hosts",
                                                j->job.source_host_id));
    json_object_set_new(o, "target_host", s_ref(ctx, "hosts",
                                                j->job.target_host_id));
    json_object_set_new(o, "job", s_ref(ctx, "jobs", j->job.id));
    return o;
}

json_t *eng_migrate_job_json(eng_ctx_t *ctx, const eng_job_t *job)
{
    const eng_job_t *jb = job;
    eng_mig_t *live = s_find(ctx->migrate, job->id);
    if (live)
        jb = &live->job;
    json_t *o = s_ref(ctx, "jobs", jb->id);
    json_object_set_new(o, "description", json_string(jb->description));
    json_object_set_new(o, "status", json_string(jb->state));
    json_object_set_new(o, "kind", json_string(jb->kind));
    json_object_set_new(o, "start_time", json_integer(jb->started_ms));
    if (jb->ended_ms)
        json_object_set_new(o, "end_time", json_integer(jb->ended_ms));
    json_object_set_new(o, "progress", s_num(jb->percent));
    json_object_set_new(o, "memory_remaining", s_num(jb->memory_remaining));
    json_object_set_new(o, "memory_total", s_num(jb->memory_total));
    json_object_set_new(o, "vm", s_ref(ctx, "vms", jb->vm_id));
    json_object_set_new(o, "source_host", s_ref(ctx, "hosts",
                                                jb->source_host_id));
    json_object_set_new(o, "target_host", s_ref(ctx, "hosts",
                                                jb->target_host_id));
    json_object_set_new(o, "owner", json_pack("{s:s}", "user_name", jb->user));
    if (jb->message[0])
        json_object_set_new(o, "message", json_string(jb->message));
    return o;
}

/* ---- timers ---------------------------------------------------------------------- */

static void s_tick(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    eng_ctx_t *ctx = opaque;
    eng_migrate_t *m = ctx->migrate;
    uint64_t now = cmn_mono_ms();
    uint64_t stale = (uint64_t)m->conf.stale_s * 1000;
    /* Ended jobs live as long as events (events.keep_days), checked hourly. */
    if (ctx->conf.events_keep_days > 0 &&
        (!m->last_prune_mono || now - m->last_prune_mono >= 3600 * 1000)) {
        m->last_prune_mono = now;
        int64_t keep_ms = ctx->conf.events_keep_days * 86400 * 1000;
        if (eng_store_job_prune(ctx->store, (int64_t)cmn_time_ms() - keep_ms) < 0) {
            CMN_WARN("cannot prune old jobs: %s", cmn_err_msg());
            cmn_err_reset();
        }
    }
    eng_mig_t *next;
    for (eng_mig_t *j = m->jobs; j; j = next) {
        next = j->next;
        /* Not accepted yet: the request's own timeout answers. */
        if (!j->accepted && !j->from_store)
            continue;
        if (now - j->last_word_mono < stale)
            continue;
        cmn_err_reset();
        char src[ENG_NAME_LEN], why[ENG_NAME_LEN + 64];
        snprintf(why, sizeof(why), "no word from host %s for %u s",
                 eng_store_host_name(ctx->store, j->job.source_host_id, src, sizeof(src)),
                 m->conf.stale_s);
        s_finish(ctx, j, "lost", why);
    }
}

static void s_balance_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    cmn_err_reset();
    eng_migrate_balance_now(opaque);
}

eng_migrate_t *eng_migrate_new(eng_ctx_t *ctx, const eng_migrate_conf_t *conf)
{
    eng_migrate_t *m = calloc(1, sizeof(*m));
    if (!m) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    m->ctx = ctx;
    if (conf)
        m->conf = *conf;
    else
        eng_migrate_conf_init(&m->conf);
    if (m->conf.max_outgoing == 0)
        m->conf.max_outgoing = 1;
    if (m->conf.max_incoming == 0)
        m->conf.max_incoming = 1;
    if (m->conf.stale_s == 0)
        m->conf.stale_s = 30;
    m->track = json_object();
    /* Jobs that were running when the engine stopped go on. */
    eng_job_t *jobs = NULL;
    size_t n = 0;
    if (eng_store_job_list(ctx->store, true, 0, &jobs, &n) < 0) {
        CMN_WARN("cannot load running jobs: %s", cmn_err_msg());
        cmn_err_reset();
    }
    for (size_t i = 0; i < n; i++) {
        eng_mig_t *j = calloc(1, sizeof(*j));
        if (!j)
            break;
        j->job = jobs[i];
        j->from_store = true;
        j->accepted = true;
        j->last_word_mono = cmn_mono_ms();
        j->next = m->jobs;
        m->jobs = j;
        CMN_INFO("job %s (%s) goes on after the restart", j->job.id,
                 j->job.description);
    }
    free(jobs);
    if (ctx->base) {
        struct timeval one = { .tv_sec = 1 };
        struct timeval bal = { .tv_sec = m->conf.balance_interval_s
                                         ? m->conf.balance_interval_s : 60 };
        m->tick = event_new(ctx->base, -1, EV_PERSIST, s_tick, ctx);
        m->balance = event_new(ctx->base, -1, EV_PERSIST, s_balance_cb, ctx);
        if (!m->tick || !m->balance || event_add(m->tick, &one) < 0 ||
            event_add(m->balance, &bal) < 0) {
            eng_migrate_destroy(&m);
            CMN_ERR(CMN_ERR_INTERNAL, "cannot add the migration timers");
            return NULL;
        }
    }
    return m;
}

void eng_migrate_destroy(eng_migrate_t **p)
{
    if (!p || !*p)
        return;
    eng_migrate_t *m = *p;
    *p = NULL;
    if (m->tick)
        event_free(m->tick);
    if (m->balance)
        event_free(m->balance);
    while (m->jobs) {
        eng_mig_t *j = m->jobs;
        m->jobs = j->next;
        if (j->cb)
            j->cb(CMN_ERR_UNAVAILABLE, "the engine is stopping", j->opaque);
        free(j);
    }
    json_decref(m->track);
    free(m);
}
