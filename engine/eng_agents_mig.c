/* The wire side of live migration: VmMigrate and JobCancel requests to the
 * source agent, and the JobProgress notifications it sends, checked field
 * by field before eng_migrate.c sees them. */
#include "eng_agents_priv.h"
#include "eng_migrate_priv.h"

#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_enroll.h"

CMN_LOG_INIT("eng.agents.mig");

/* Requests of this file: the reply carries only a result. */
typedef struct {
    eng_agents_cb cb;
    void *opaque;
} s_mreq_t;

static void s_mreq_done(const Herd__Envelope *env, cmn_code_t code,
                        const char *message, void *opaque)
{
    (void)env;
    s_mreq_t *rq = opaque;
    eng_agent_reply_t r = { .code = code, .message = message ? message : "",
                            .disk_path = "" };
    rq->cb(&r, rq->opaque);
    free(rq);
}

static int s_mrequest(eng_agents_t *a, const char *host_id, Herd__Envelope *env,
                      eng_agents_cb cb, void *opaque)
{
    eng_hostent_t *e = host_id ? eng_agents_find(a, host_id) : NULL;
    if (!e || !e->session)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "host %s is not connected",
                       host_id ? host_id : "(none)");
    if (!a->sock)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "the agent link has no socket");
    /* CURVE: to the connection the host's key last spoke from. */
    const uint8_t *route = (const uint8_t *)e->id;
    size_t route_len = strlen(e->id);
    if (a->enroll && !eng_enroll_route(a->enroll, e->id, &route, &route_len))
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "host %s has no authenticated "
                       "connection", e->id);
    s_mreq_t *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    env->id = cmn_rpc_next_id(a->rpc);
    size_t len = 0;
    uint8_t *buf = cmn_rpc_encode(env, &len);
    if (!buf) {
        free(rq);
        return CMN_ERR(CMN_ERR_NOMEM, "cannot encode %s",
                       cmn_rpc_body_name(env));
    }
    int rc = cmn_zsock_send(a->sock, route, route_len, buf, len);
    free(buf);
    if (rc < 0) {
        free(rq);
        return -1;
    }
    rq->cb = cb;
    rq->opaque = opaque;
    unsigned timeout_ms = (unsigned)a->ctx->conf.request_timeout_s * 1000u;
    if (cmn_rpc_expect(a->rpc, env->id, e->id, timeout_ms, s_mreq_done,
                       rq) < 0) {
        free(rq);
        return -1;
    }
    CMN_DEBUG("sent %s %llu to %s", cmn_rpc_body_name(env),
              (unsigned long long)env->id, e->id);
    return 0;
}

int eng_agents_vm_migrate(eng_agents_t *a, const char *host_id,
                          const eng_job_t *job, const char *dest_uri,
                          unsigned bandwidth_mbps, unsigned max_downtime_ms,
                          unsigned timeout_s, bool unsafe, eng_agents_cb cb,
                          void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__VmMigrate m = HERD__VM_MIGRATE__INIT;
    m.job_id = (char *)job->id;
    m.vm_id = (char *)job->vm_id;
    m.dest_uri = (char *)dest_uri;
    m.bandwidth_mbps = bandwidth_mbps;
    m.max_downtime_ms = max_downtime_ms;
    m.timeout_s = timeout_s;
    m.unsafe = unsafe;
    env.body_case = HERD__ENVELOPE__BODY_VM_MIGRATE;
    env.vm_migrate = &m;
    return s_mrequest(a, host_id, &env, cb, opaque);
}

int eng_agents_job_cancel(eng_agents_t *a, const char *host_id,
                          const char *job_id, eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__JobCancel m = HERD__JOB_CANCEL__INIT;
    m.job_id = (char *)job_id;
    env.body_case = HERD__ENVELOPE__BODY_JOB_CANCEL;
    env.job_cancel = &m;
    return s_mrequest(a, host_id, &env, cb, opaque);
}

int eng_agt_on_job_progress(eng_agents_t *a, const char *host_id,
                            const Herd__JobProgress *p)
{
    if (!p)
        return CMN_ERR(CMN_ERR_PROTOCOL, "job_progress: empty body");
    if (!p->job_id || !cmn_uuid_valid(p->job_id))
        return CMN_ERR(CMN_ERR_INVALID, "job_progress.job_id: not a UUID");
    if (!p->vm_id || !cmn_uuid_valid(p->vm_id))
        return CMN_ERR(CMN_ERR_INVALID, "job_progress.vm_id: not a UUID");
    if (p->state < HERD__JOB_STATE__JOB_STATE_RUNNING ||
        p->state > HERD__JOB_STATE__JOB_STATE_CANCELLED)
        return CMN_ERR(CMN_ERR_INVALID, "job_progress.state: %d is not a job "
                       "state", (int)p->state);
    if (p->percent > 100)
        return CMN_ERR(CMN_ERR_INVALID, "job_progress.percent: %u is above "
                       "100", p->percent);
    const char *msg = "";
    int code = 0;
    if (p->result) {
        if (!cmn_code_valid(p->result->code))
            return CMN_ERR(CMN_ERR_INVALID, "job_progress.result.code: %d is "
                           "not a known code", p->result->code);
        if (p->result->message &&
            !eng_agt_str_ok(p->result->message, 1023, true))
            return CMN_ERR(CMN_ERR_INVALID, "job_progress.result.message: "
                           "must be at most 1023 printable characters");
        code = p->result->code;
        msg = p->result->message ? p->result->message : "";
    }
    eng_mig_progress_t e = {
        .job_id = p->job_id, .vm_id = p->vm_id, .state = (int)p->state,
        .percent = p->percent, .memory_total = p->memory_total,
        .memory_remaining = p->memory_remaining,
        .data_processed = p->data_processed, .elapsed_ms = p->elapsed_ms,
        .downtime_ms = p->downtime_ms, .code = code, .message = msg,
    };
    eng_migrate_on_progress(a->ctx, host_id, &e);
    return 0;
}
