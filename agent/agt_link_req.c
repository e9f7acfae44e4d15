/* The engine's requests to the agent (agt_link_request): ping, the
 * commands that run on the worker pool against libvirt (vm_create, vm_op,
 * disk_create, disk_delete, vm_ticket), live migration (agt_migrate.c) and
 * engine key rotation (agt_link_key.c). A command is validated first
 * (agt_conv_request), refused when the link has no libvirt or no pool, and
 * answered when its worker is done. SHUTDOWN and REBOOT wait out their
 * grace period on the loop (link->waiting), not on a worker. */
#include "agt_link_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agt_link_conv.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.link");

typedef struct agt_req_job {
    struct agt_req_job *next;   /* in link->waiting */
    agt_link_t *link;
    agt_req_t r;                /* the validated command */
    cmn_code_t code;
    char msg[1024];
    char *path;
    uint64_t out_size;
    uint64_t started_ms;
    /* SHUTDOWN / REBOOT: 0 ask the guest, 1 wait on the loop, 2 finish */
    int phase;
    agt_virt_watch_t *watch;
    uint64_t deadline_ms;
    struct event *timer;
} agt_req_job_t;

static const char *
s_req_name(const agt_req_job_t *j)
{
    switch (j->r.kind) {
    case AGT_REQ_VM_CREATE:
        return "vm_create";
    case AGT_REQ_VM_OP:
        return agt_vm_op_name(j->r.op);
    case AGT_REQ_DISK_CREATE:
        return "disk_create";
    case AGT_REQ_DISK_DELETE:
        return "disk_delete";
    case AGT_REQ_VM_TICKET:
        return "vm_ticket";
    }
    return "?";
}

static void
s_req_work(void *arg)
{
    agt_req_job_t *j = arg;
    agt_virt_t *v = j->link->virt;
    int rc = -1;
    switch (j->r.kind) {
    case AGT_REQ_VM_CREATE:
        rc = agt_virt_vm_create(v, j->r.target, j->r.xml, j->r.start);
        break;
    case AGT_REQ_VM_OP:
        /* The grace period of SHUTDOWN / REBOOT is waited on the loop, not
         * on this worker (see s_wait_tick). */
        if (j->phase == 0)
            rc = agt_virt_vm_op_begin(v, j->r.target, j->r.op, &j->watch);
        else
            rc = agt_virt_vm_op_finish(v, &j->watch);
        break;
    case AGT_REQ_DISK_CREATE:
        rc = agt_virt_disk_create(v, j->r.target, j->r.size, &j->path, &j->out_size);
        break;
    case AGT_REQ_DISK_DELETE:
        rc = agt_virt_disk_delete(v, j->r.target);
        break;
    case AGT_REQ_VM_TICKET:
        rc = agt_virt_vm_ticket(v, j->r.target, j->r.password, j->r.timeout_s);
        break;
    }
    if (rc < 0) {
        j->code = cmn_err_code() != CMN_OK ? cmn_err_code() : CMN_ERR_INTERNAL;
        snprintf(j->msg, sizeof(j->msg), "%s", cmn_err_msg()[0] ? cmn_err_msg()
                                                                 : "failed for no reason given");
    }
}

static void s_req_done(void *arg, bool cancelled);

static void
s_req_free(agt_req_job_t *j)
{
    if (j->timer)
        event_free(j->timer);
    if (j->watch)
        agt_virt_watch_free(j->link->virt, &j->watch);
    agt_req_clear(&j->r);
    free(j->path);
    free(j);
}

static void
s_waiting_remove(agt_link_t *link, agt_req_job_t *j)
{
    for (agt_req_job_t **pp = &link->waiting; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    j->next = NULL;
}

/* Every 100 ms of a grace period: the event came, or time is up. */
static void
s_wait_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_req_job_t *j = arg;
    agt_link_t *link = j->link;
    if (!agt_virt_watch_done(link->virt, j->watch) && cmn_mono_ms() < j->deadline_ms)
        return;
    event_free(j->timer);
    j->timer = NULL;
    s_waiting_remove(link, j);
    j->phase = 2;
    cmn_err_reset();
    if (agt_pool_submit(link->pool, s_req_work, s_req_done, j) < 0) {
        agt_link_reply(link, j->r.id, cmn_err_code(), cmn_err_msg());
        s_req_free(j);
    }
}

static void
s_req_done(void *arg, bool cancelled)
{
    agt_req_job_t *j = arg;
    if (!cancelled && j->code == CMN_OK && j->watch && j->phase == 0) {
        agt_link_t *link = j->link;
        struct timeval tick = { .tv_sec = 0, .tv_usec = 100 * 1000 };
        j->phase = 1;
        j->deadline_ms = cmn_mono_ms() + (uint64_t)j->r.timeout_s * 1000;
        j->timer = event_new(link->base, -1, EV_PERSIST, s_wait_tick, j);
        if (j->timer && event_add(j->timer, &tick) == 0) {
            j->next = link->waiting;
            link->waiting = j;
            return;
        }
        j->code = CMN_ERR_INTERNAL;
        snprintf(j->msg, sizeof(j->msg), "cannot add a timer for the grace period");
    }
    if (!cancelled) {
        CMN_INFO("%s %s: %s (%llu ms)", s_req_name(j), j->r.target, cmn_code_name(j->code),
                 (unsigned long long)(cmn_mono_ms() - j->started_ms));
        if (j->r.kind == AGT_REQ_DISK_CREATE && j->code == CMN_OK) {
            Herd__DiskCreated dc = HERD__DISK_CREATED__INIT;
            dc.path = j->path;
            dc.size_bytes = j->out_size;
            Herd__Envelope env = HERD__ENVELOPE__INIT;
            env.body_case = HERD__ENVELOPE__BODY_DISK_CREATED;
            env.disk_created = &dc;
            agt_link_reply_env(j->link, j->r.id, CMN_OK, "", &env);
        } else {
            agt_link_reply(j->link, j->r.id, j->code, j->msg);
        }
    }
    s_req_free(j);
}

static void
s_handle_migration(agt_link_t *link, const Herd__Envelope *env)
{
    cmn_err_reset();
    if (env->body_case == HERD__ENVELOPE__BODY_VM_MIGRATE) {
        agt_mig_req_t r;
        if (agt_conv_migrate(env->vm_migrate, &r) == 0 &&
            agt_migrate_start(link->mig, &r) == 0) {
            agt_link_reply(link, env->id, CMN_OK, "");
            return;
        }
    } else {
        const char *job = env->job_cancel ? env->job_cancel->job_id : NULL;
        if (agt_migrate_cancel(link->mig, job) == 0) {
            agt_link_reply(link, env->id, CMN_OK, "");
            return;
        }
    }
    agt_link_reply(link, env->id, cmn_err_code(), cmn_err_msg());
}

void
agt_link_request(agt_link_t *link, const Herd__Envelope *env)
{
    switch (env->body_case) {
    case HERD__ENVELOPE__BODY_PING: {
        Herd__Pong pong = HERD__PONG__INIT;
        pong.sent_us = env->ping ? env->ping->sent_us : 0;
        Herd__Envelope rep = HERD__ENVELOPE__INIT;
        rep.body_case = HERD__ENVELOPE__BODY_PONG;
        rep.pong = &pong;
        agt_link_reply_env(link, env->id, CMN_OK, "", &rep);
        return;
    }
    case HERD__ENVELOPE__BODY_VM_MIGRATE:
    case HERD__ENVELOPE__BODY_JOB_CANCEL:
        s_handle_migration(link, env);
        return;
    case HERD__ENVELOPE__BODY_ENGINE_KEY:
        agt_link_key_request(link, env);
        return;
    case HERD__ENVELOPE__BODY_VM_CREATE:
    case HERD__ENVELOPE__BODY_VM_OP:
    case HERD__ENVELOPE__BODY_DISK_CREATE:
    case HERD__ENVELOPE__BODY_DISK_DELETE:
    case HERD__ENVELOPE__BODY_VM_TICKET: {
        agt_req_job_t *j = calloc(1, sizeof(*j));
        if (!j) {
            CMN_ERR(CMN_ERR_NOMEM, "out of memory");
            agt_link_reply(link, env->id, cmn_err_code(), cmn_err_msg());
            return;
        }
        if (agt_conv_request(env, &j->r) < 0) {
            agt_link_reply(link, env->id, cmn_err_code(), cmn_err_msg());
            free(j);
            return;
        }
        j->link = link;
        j->started_ms = cmn_mono_ms();
        CMN_INFO("request %llu: %s %s", (unsigned long long)j->r.id, s_req_name(j),
                 j->r.target);
        if (!link->virt || !link->pool) {
            CMN_ERR(CMN_ERR_UNAVAILABLE, "%s: libvirt is not available on this agent",
                    s_req_name(j));
        } else if (agt_pool_submit(link->pool, s_req_work, s_req_done, j) == 0) {
            return;
        }
        agt_link_reply(link, env->id, cmn_err_code(), cmn_err_msg());
        agt_req_clear(&j->r);
        free(j);
        return;
    }
    default:
        break;
    }
    CMN_ERR(CMN_ERR_UNSUPPORTED, "'%s' is not a request the agent serves",
            cmn_rpc_body_name(env));
    agt_link_reply(link, env->id, cmn_err_code(), cmn_err_msg());
}

void
agt_link_req_abandon(agt_link_t *link)
{
    while (link->waiting) {
        agt_req_job_t *j = link->waiting;
        link->waiting = j->next;
        s_req_free(j);      /* abandoned: the VM keeps its state */
    }
}
