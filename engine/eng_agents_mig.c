/* The wire side of live migration: VmMigrate and JobCancel requests to the
 * source agent, and the JobProgress notifications it sends, checked field
 * by field before eng_migrate.c sees them. */
#include "eng_agents_priv.h"
#include "eng_migrate_priv.h"

#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("eng.agents.mig");

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
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

int eng_agents_job_cancel(eng_agents_t *a, const char *host_id,
                          const char *job_id, eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__JobCancel m = HERD__JOB_CANCEL__INIT;
    m.job_id = (char *)job_id;
    env.body_case = HERD__ENVELOPE__BODY_JOB_CANCEL;
    env.job_cancel = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
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
