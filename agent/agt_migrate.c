#include "agt_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libvirt/virterror.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.migrate");

#define POLL_MS 500

typedef struct agt_mig_job {
    struct agt_mig_job *next;
    agt_migrate_t *m;
    agt_mig_req_t req;
    int refs;                   /* migrate work + poll work in flight */
    uint64_t started_mono;
    struct event *timer;
    bool finished;              /* the migrate work came back */
    bool cancel_requested;
    bool timed_out;
    bool poll_inflight;
    bool abort_inflight;
    /* written by the migrate work, read in its done callback */
    int rc;
    cmn_code_t code;
    char msg[1024];
    /* written by the poll work, read in its done callback */
    bool stats_ok;
    uint64_t mem_total, mem_remaining, data_processed, elapsed_ms;
} agt_mig_job_t;

struct agt_migrate {
    struct event_base *base;
    agt_virt_t *virt;
    agt_pool_t *pool;
    unsigned max_outgoing;
    agt_mig_report_fn report;
    void *opaque;
    agt_mig_job_t *jobs;
    unsigned running;
};

/* ---- helpers ------------------------------------------------------------- */

unsigned
agt_migrate_percent(uint64_t total, uint64_t remaining)
{
    if (total == 0)
        return 0;
    if (remaining > total)
        remaining = total;
    uint64_t pct = (total - remaining) * 100 / total;
    return pct > 99 ? 99 : (unsigned)pct;
}

static const char *
s_virt_msg(void)
{
    const char *m = virGetLastErrorMessage();
    return m && *m ? m : "unknown libvirt error";
}

static agt_mig_job_t *
s_find(agt_migrate_t *m, const char *job_id)
{
    for (agt_mig_job_t *j = m->jobs; j; j = j->next)
        if (strcasecmp(j->req.job_id, job_id) == 0)
            return j;
    return NULL;
}

static agt_mig_job_t *
s_find_vm(agt_migrate_t *m, const char *vm_id)
{
    for (agt_mig_job_t *j = m->jobs; j; j = j->next)
        if (strcasecmp(j->req.vm_id, vm_id) == 0)
            return j;
    return NULL;
}

static void
s_unref(agt_mig_job_t *j)
{
    if (--j->refs > 0)
        return;
    if (j->timer)
        event_free(j->timer);
    free(j);
}

static void
s_progress_base(const agt_mig_job_t *j, agt_mig_progress_t *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->job_id, sizeof(p->job_id), "%s", j->req.job_id);
    snprintf(p->vm_id, sizeof(p->vm_id), "%s", j->req.vm_id);
    p->memory_total = j->mem_total;
    p->memory_remaining = j->mem_remaining;
    p->data_processed = j->data_processed;
    p->elapsed_ms = cmn_mono_ms() - j->started_mono;
}

/* ---- validation ---------------------------------------------------------- */

int
agt_migrate_check(const agt_mig_req_t *r)
{
    if (!cmn_uuid_valid(r->job_id))
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate.job_id: '%.64s' is not a "
                       "UUID", r->job_id);
    if (!cmn_uuid_valid(r->vm_id))
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate.vm_id: '%.64s' is not a "
                       "UUID", r->vm_id);
    if (!cmn_str_printable(r->dest_uri, AGT_MIG_URI_MAX - 1, " \"'\\") ||
        !strstr(r->dest_uri, "://"))
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate.dest_uri: '%.100s' is not "
                       "a libvirt URI (qemu+tcp://HOST/system)", r->dest_uri);
    if (r->bandwidth_mbps > AGT_MIG_MAX_BANDWIDTH_MBPS)
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate.bandwidth_mbps: %u is above "
                       "%u", r->bandwidth_mbps, AGT_MIG_MAX_BANDWIDTH_MBPS);
    if (r->max_downtime_ms > AGT_MIG_MAX_DOWNTIME_MS)
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate.max_downtime_ms: %u is "
                       "above %u", r->max_downtime_ms, AGT_MIG_MAX_DOWNTIME_MS);
    if (r->timeout_s > AGT_MIG_MAX_TIMEOUT_S)
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate.timeout_s: %u is above %u",
                       r->timeout_s, AGT_MIG_MAX_TIMEOUT_S);
    return 0;
}

/* ---- workers ------------------------------------------------------------- */

static virDomainPtr
s_lookup(agt_migrate_t *m, const char *vm_id, virConnectPtr *conn)
{
    *conn = agt_virt_conn(m->virt);
    if (!*conn)
        return NULL;
    virDomainPtr d = virDomainLookupByUUIDString(*conn, vm_id);
    if (!d) {
        CMN_ERR(CMN_ERR_NOT_FOUND, "no domain %s on this host: %s", vm_id,
                s_virt_msg());
        virConnectClose(*conn);
        *conn = NULL;
    }
    return d;
}

static void
s_migrate_work(void *arg)
{
    agt_mig_job_t *j = arg;
    const agt_mig_req_t *r = &j->req;
    cmn_err_reset();
    virConnectPtr conn = NULL;
    virDomainPtr d = s_lookup(j->m, r->vm_id, &conn);
    if (!d)
        goto fail;
    if (r->max_downtime_ms &&
        virDomainMigrateSetMaxDowntime(d, r->max_downtime_ms, 0) < 0)
        CMN_WARN("VM %s: cannot set the maximum downtime to %u ms: %s",
                 r->vm_id, r->max_downtime_ms, s_virt_msg());
    virTypedParameterPtr params = NULL;
    int np = 0, maxp = 0;
    if (r->bandwidth_mbps) {
        /* libvirt counts MiB/s; round up so a small limit stays a limit. */
        unsigned long long mib = ((unsigned long long)r->bandwidth_mbps *
                                  1000000ULL / 8 + 1048575) / 1048576;
        if (virTypedParamsAddULLong(&params, &np, &maxp,
                                    VIR_MIGRATE_PARAM_BANDWIDTH, mib) < 0) {
            CMN_ERR(CMN_ERR_NOMEM, "cannot build the migration parameters");
            goto fail_dom;
        }
    }
    unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER |
                     VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
    if (r->unsafe)
        flags |= VIR_MIGRATE_UNSAFE;
    if (r->copy_storage)
        flags |= VIR_MIGRATE_NON_SHARED_DISK;
    CMN_INFO("job %s: migrating VM %s to %s (bandwidth %u Mbit/s, max "
             "downtime %u ms, timeout %u s%s)", r->job_id, r->vm_id,
             r->dest_uri, r->bandwidth_mbps, r->max_downtime_ms, r->timeout_s,
             r->unsafe ? ", unsafe" : "");
    int rc = virDomainMigrateToURI3(d, r->dest_uri, params, np, flags);
    virTypedParamsFree(params, np);
    if (rc < 0) {
        CMN_ERR(CMN_ERR_LIBVIRT, "%s", s_virt_msg());
        goto fail_dom;
    }
    virDomainFree(d);
    virConnectClose(conn);
    j->rc = 0;
    return;

fail_dom:
    virDomainFree(d);
    virConnectClose(conn);
fail:
    j->rc = -1;
    j->code = cmn_err_code() != CMN_OK ? cmn_err_code() : CMN_ERR_LIBVIRT;
    snprintf(j->msg, sizeof(j->msg), "%s", cmn_err_msg()[0] ? cmn_err_msg()
             : "migration failed for no reason given");
}

static void
s_poll_work(void *arg)
{
    agt_mig_job_t *j = arg;
    j->stats_ok = false;
    cmn_err_reset();
    virConnectPtr conn = NULL;
    virDomainPtr d = s_lookup(j->m, j->req.vm_id, &conn);
    if (!d)
        return;
    if (j->req.max_downtime_ms && j->elapsed_ms == 0)
        (void)virDomainMigrateSetMaxDowntime(d, j->req.max_downtime_ms, 0);
    int type = 0;
    virTypedParameterPtr params = NULL;
    int n = 0;
    if (virDomainGetJobStats(d, &type, &params, &n, 0) == 0) {
        unsigned long long v = 0;
        if (type != VIR_DOMAIN_JOB_NONE) {
            j->stats_ok = true;
            if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_TOTAL, &v) == 1)
                j->mem_total = v;
            if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING,
                                        &v) == 1)
                j->mem_remaining = v;
            if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                        &v) == 1)
                j->data_processed = v;
            if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) == 1)
                j->elapsed_ms = v;
        }
        virTypedParamsFree(params, n);
    }
    virDomainFree(d);
    virConnectClose(conn);
}

static void
s_abort_work(void *arg)
{
    agt_mig_job_t *j = arg;
    cmn_err_reset();
    virConnectPtr conn = NULL;
    virDomainPtr d = s_lookup(j->m, j->req.vm_id, &conn);
    if (!d)
        return;
    if (virDomainAbortJob(d) < 0)
        CMN_WARN("job %s: cannot abort libvirt's job: %s", j->req.job_id,
                 s_virt_msg());
    virDomainFree(d);
    virConnectClose(conn);
}

/* ---- loop side ----------------------------------------------------------- */

static void
s_abort_done(void *arg, bool cancelled)
{
    (void)cancelled;
    agt_mig_job_t *j = arg;
    j->abort_inflight = false;
    s_unref(j);
}

static void
s_abort(agt_mig_job_t *j)
{
    if (j->abort_inflight || j->finished)
        return;
    j->abort_inflight = true;
    j->refs++;
    if (agt_pool_submit(j->m->pool, s_abort_work, s_abort_done, j) < 0) {
        j->abort_inflight = false;
        j->refs--;
    }
}

static void
s_poll_done(void *arg, bool cancelled)
{
    agt_mig_job_t *j = arg;
    j->poll_inflight = false;
    if (!cancelled && !j->finished && j->stats_ok) {
        agt_mig_progress_t p;
        s_progress_base(j, &p);
        p.state = AGT_JOB_RUNNING;
        p.percent = agt_migrate_percent(j->mem_total, j->mem_remaining);
        j->m->report(&p, j->m->opaque);
    }
    s_unref(j);
}

static void
s_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_mig_job_t *j = arg;
    if (j->finished)
        return;
    uint64_t elapsed = cmn_mono_ms() - j->started_mono;
    if (j->req.timeout_s && !j->timed_out &&
        elapsed >= (uint64_t)j->req.timeout_s * 1000) {
        CMN_WARN("job %s: timed out after %u s, aborting", j->req.job_id,
                 j->req.timeout_s);
        j->timed_out = true;
        s_abort(j);
    }
    if (j->poll_inflight)
        return;
    j->poll_inflight = true;
    j->refs++;
    if (agt_pool_submit(j->m->pool, s_poll_work, s_poll_done, j) < 0) {
        j->poll_inflight = false;
        j->refs--;
    }
}

static void
s_migrate_done(void *arg, bool cancelled)
{
    agt_mig_job_t *j = arg;
    agt_migrate_t *m = j->m;
    j->finished = true;
    for (agt_mig_job_t **pp = &m->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    m->running--;
    if (j->timer)
        event_del(j->timer);
    if (!cancelled) {
        agt_mig_progress_t p;
        s_progress_base(j, &p);
        if (j->rc == 0) {
            p.state = AGT_JOB_DONE;
            p.percent = 100;
            p.memory_remaining = 0;
        } else if (j->timed_out) {
            p.state = AGT_JOB_FAILED;
            p.code = CMN_ERR_TIMEOUT;
            snprintf(p.message, sizeof(p.message), "timed out after %u s "
                     "(libvirt: %.900s)", j->req.timeout_s, j->msg);
        } else if (j->cancel_requested) {
            p.state = AGT_JOB_CANCELLED;
            p.code = CMN_ERR_STATE;
            snprintf(p.message, sizeof(p.message), "cancelled (libvirt: "
                     "%.900s)", j->msg);
        } else {
            p.state = AGT_JOB_FAILED;
            p.code = j->code;
            snprintf(p.message, sizeof(p.message), "%s", j->msg);
        }
        CMN_INFO("job %s: VM %s %s after %llu ms%s%s", j->req.job_id,
                 j->req.vm_id, p.state == AGT_JOB_DONE ? "migrated"
                 : p.state == AGT_JOB_CANCELLED ? "cancelled" : "failed",
                 (unsigned long long)p.elapsed_ms, p.message[0] ? ": " : "",
                 p.message);
        m->report(&p, m->opaque);
    }
    s_unref(j);
}

/* ---- API ------------------------------------------------------------------ */

agt_migrate_t *
agt_migrate_new(struct event_base *base, agt_virt_t *virt, agt_pool_t *pool,
                unsigned max_outgoing, agt_mig_report_fn report, void *opaque)
{
    if (!report || max_outgoing == 0) {
        CMN_ERR(CMN_ERR_INVALID, "migration runner needs a report callback "
                "and a limit of at least 1");
        return NULL;
    }
    agt_migrate_t *m = calloc(1, sizeof(*m));
    if (!m) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    m->base = base;
    m->virt = virt;
    m->pool = pool;
    m->max_outgoing = max_outgoing;
    m->report = report;
    m->opaque = opaque;
    return m;
}

void
agt_migrate_destroy(agt_migrate_t **p)
{
    if (!p || !*p)
        return;
    agt_migrate_t *m = *p;
    *p = NULL;
    /* The pool is gone, so every done callback has run; anything left was
     * never submitted. */
    while (m->jobs) {
        agt_mig_job_t *j = m->jobs;
        m->jobs = j->next;
        if (j->timer)
            event_free(j->timer);
        free(j);
    }
    free(m);
}

int
agt_migrate_start(agt_migrate_t *m, const agt_mig_req_t *r)
{
    if (agt_migrate_check(r) < 0)
        return -1;
    if (!m || !m->virt || !m->pool)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "vm_migrate: libvirt is not "
                       "available on this agent");
    if (s_find(m, r->job_id))
        return CMN_ERR(CMN_ERR_EXISTS, "job %s is already running",
                       r->job_id);
    if (s_find_vm(m, r->vm_id))
        return CMN_ERR(CMN_ERR_STATE, "VM %s is already migrating", r->vm_id);
    if (m->running >= m->max_outgoing)
        return CMN_ERR(CMN_ERR_STATE, "this host already runs %u outgoing "
                       "migrations (limit %u)", m->running, m->max_outgoing);
    agt_mig_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    j->m = m;
    j->req = *r;
    j->refs = 1;
    j->started_mono = cmn_mono_ms();
    struct timeval tv = { .tv_sec = 0, .tv_usec = POLL_MS * 1000 };
    j->timer = event_new(m->base, -1, EV_PERSIST, s_tick, j);
    if (!j->timer || event_add(j->timer, &tv) < 0) {
        if (j->timer)
            event_free(j->timer);
        free(j);
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot add the progress timer");
    }
    if (agt_pool_submit(m->pool, s_migrate_work, s_migrate_done, j) < 0) {
        event_free(j->timer);
        free(j);
        return -1;
    }
    j->next = m->jobs;
    m->jobs = j;
    m->running++;
    return 0;
}

int
agt_migrate_cancel(agt_migrate_t *m, const char *job_id)
{
    if (!job_id || !cmn_uuid_valid(job_id))
        return CMN_ERR(CMN_ERR_INVALID, "job_cancel.job_id: '%.64s' is not a "
                       "UUID", job_id ? job_id : "");
    agt_mig_job_t *j = m ? s_find(m, job_id) : NULL;
    if (!j)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no job %s runs on this host",
                       job_id);
    CMN_INFO("job %s: cancel requested", job_id);
    j->cancel_requested = true;
    s_abort(j);
    return 0;
}

void
agt_migrate_abort_all(agt_migrate_t *m)
{
    for (agt_mig_job_t *j = m ? m->jobs : NULL; j; j = j->next) {
        if (j->finished)
            continue;
        CMN_WARN("job %s: aborting the migration of VM %s (agent stopping)",
                 j->req.job_id, j->req.vm_id);
        j->cancel_requested = true;
        s_abort_work(j);
    }
}

unsigned
agt_migrate_running(const agt_migrate_t *m)
{
    return m ? m->running : 0;
}
