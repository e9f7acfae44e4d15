#include "agt_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agt_caps.h"
#include "agt_link_conv.h"
#include "agt_link_priv.h"
#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "cmn_zmq.h"
#include "herd.pb-c.h"

CMN_LOG_INIT("agent.link");

#define AGT_VERSION "0.1.0"
#define PROBE_DELAY_MS 200              /* a new DEALER's first ping, retries */
#define PROBE_TRIES 10
#define HELLO_WARN_IVL_MS 60000         /* a refused hello: warn once a minute */

/* The struct agt_link is in agt_link_priv.h (shared with agt_link_notify.c,
 * statistics and events, agt_link_req.c, the engine's requests, and
 * agt_link_key.c, the DEALER and key rotation). */

/* ---- sending -------------------------------------------------------------- */

static int
s_send(agt_link_t *link, Herd__Envelope *env)
{
    size_t len = 0;
    CMN_AUTOFREE uint8_t *buf = cmn_rpc_encode(env, &len);
    if (!buf)
        return -1;
    if (len > (size_t)link->conf->max_message_bytes)
        return CMN_ERR(CMN_ERR_TOO_BIG, "%s message of %zu bytes exceeds "
                       "max_message_bytes %lld", cmn_rpc_body_name(env), len,
                       (long long)link->conf->max_message_bytes);
    if (link->hook) {
        link->hook(buf, len, link->hook_opaque);
        return 0;
    }
    if (!link->sock)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "not connected to the engine");
    return cmn_zsock_send(link->sock, NULL, 0, buf, len);
}

static void
s_send_notification(agt_link_t *link, Herd__Envelope *env)
{
    env->id = cmn_rpc_next_id(link->rpc);
    cmn_err_reset();
    if (s_send(link, env) < 0)
        CMN_DEBUG("cannot send %s: %s", cmn_rpc_body_name(env), cmn_err_msg());
}

static int
s_send_request(agt_link_t *link, Herd__Envelope *env, cmn_rpc_reply_cb cb)
{
    env->id = cmn_rpc_next_id(link->rpc);
    unsigned tmo = (unsigned)link->conf->request_timeout * 1000;
    if (cmn_rpc_expect(link->rpc, env->id, NULL, tmo, cb, link) < 0)
        return -1;
    if (s_send(link, env) < 0) {
        /* Not connected (the DEALER has ZMQ_IMMEDIATE): fail the request now
         * instead of waiting for its timeout. The callback runs here. */
        char msg[1100];
        snprintf(msg, sizeof(msg), "cannot send %s: %s", cmn_rpc_body_name(env),
                 cmn_err_msg());
        Herd__Result res = HERD__RESULT__INIT;
        res.code = CMN_ERR_UNAVAILABLE;
        res.message = msg;
        Herd__Envelope fail = HERD__ENVELOPE__INIT;
        fail.in_reply_to = env->id;
        fail.result = &res;
        cmn_rpc_complete(link->rpc, NULL, &fail);
    }
    return 0;
}

/* True if a reply callback's `env` is the engine's answer: not one made
 * here for a request that could not be sent (id 0), nor a timeout (NULL). */
static bool
s_from_engine(const Herd__Envelope *env)
{
    return env && env->id != 0;
}

void
agt_link_reply_env(agt_link_t *link, uint64_t request_id, cmn_code_t code,
                   const char *msg, Herd__Envelope *body_env)
{
    /* msg may be the thread's error message, which is reset below. */
    char msg_copy[1100];
    snprintf(msg_copy, sizeof(msg_copy), "%s", msg ? msg : "");
    msg = msg_copy;
    Herd__Envelope env_storage;
    Herd__Envelope *env = body_env ? body_env : &env_storage;
    Herd__Result result;
    Herd__Envelope__BodyCase bc = env == body_env ? body_env->body_case
                                                  : HERD__ENVELOPE__BODY__NOT_SET;
    void *body = env == body_env ? (void *)body_env->ping : NULL;
    cmn_rpc_init_reply(env, &result, cmn_rpc_next_id(link->rpc), request_id, code, msg);
    env->body_case = bc;
    env->ping = body;   /* every body member shares the union slot */
    if (code != CMN_OK)
        CMN_INFO("request %llu failed: %s: %s", (unsigned long long)request_id,
                 cmn_code_name(code), msg);
    cmn_err_reset();
    if (s_send(link, env) < 0)
        CMN_WARN("cannot send the reply to request %llu: %s",
                 (unsigned long long)request_id, cmn_err_msg());
}

void
agt_link_reply(agt_link_t *link, uint64_t id, cmn_code_t code, const char *msg)
{
    agt_link_reply_env(link, id, code, msg, NULL);
}

/* ---- hello and the full report ------------------------------------------- */

static void s_hello_start(agt_link_t *link);
static void s_report_start(agt_link_t *link);
static void s_on_hello_reply(const Herd__Envelope *env, cmn_code_t code,
                             const char *message, void *opaque);
static void s_on_report_reply(const Herd__Envelope *env, cmn_code_t code,
                              const char *message, void *opaque);

/* Sinks for agt_link_conv.c. */
int
agt_link_notify(Herd__Envelope *env, void *opaque)
{
    s_send_notification(opaque, env);
    return 0;
}

static int
s_sink_hello(Herd__Envelope *env, void *opaque)
{
    agt_link_t *link = opaque;
    /* A one-time enrollment token: the engine only looks at it while it
     * does not know our key. */
    if (env->hello && link->conf->enrollment_token &&
        link->conf->enrollment_token[0])
        env->hello->enrollment_token = link->conf->enrollment_token;
    return s_send_request(opaque, env, s_on_hello_reply);
}

static int
s_sink_report(Herd__Envelope *env, void *opaque)
{
    return s_send_request(opaque, env, s_on_report_reply);
}

static void
s_lost_session(agt_link_t *link, const char *why)
{
    if (link->session)
        CMN_WARN("engine session lost (%s); sending hello again", why);
    link->session = false;
    link->report_needed = true;
    s_hello_start(link);
}

bool
agt_warn_limit_hit(agt_warn_limit_t *w, int code, uint64_t now_ms,
                   uint64_t interval_ms, unsigned *count)
{
    w->total++;
    if (!w->active || w->code != code) {
        w->active = true;
        w->code = code;
        w->count = 0;
        w->logged_ms = now_ms;
        *count = 1;
        return true;
    }
    w->count++;
    if (now_ms < w->logged_ms || now_ms - w->logged_ms < interval_ms)
        return false;
    *count = w->count;
    w->count = 0;
    w->logged_ms = now_ms;
    return true;
}

unsigned
agt_warn_limit_reset(agt_warn_limit_t *w)
{
    unsigned total = w->total;
    memset(w, 0, sizeof(*w));
    return total;
}

/* The engine answered hello with an error (pending approval: denied; the
 * new-host rate limit: unavailable; ...). The agent asks again every
 * heartbeat: warn the first time, then once a minute with the count. */
static void
s_hello_refused(agt_link_t *link, cmn_code_t code, const char *message)
{
    unsigned n = 0;
    uint64_t now = cmn_mono_ms();
    uint64_t last = link->hello_refusals.logged_ms;
    if (!agt_warn_limit_hit(&link->hello_refusals, (int)code, now,
                            HELLO_WARN_IVL_MS, &n))
        CMN_DEBUG("engine refused hello: %s: %s", cmn_code_name(code), message);
    else if (n == 1)
        CMN_WARN("engine refused hello: %s: %s (asking again every heartbeat; "
                 "logged once a minute while it lasts)", cmn_code_name(code),
                 message);
    else
        CMN_WARN("engine refused hello %u more times in %llus: %s: %s", n,
                 (unsigned long long)((now - last) / 1000), cmn_code_name(code),
                 message);
}

static void
s_on_hello_reply(const Herd__Envelope *env, cmn_code_t code, const char *message,
                 void *opaque)
{
    agt_link_t *link = opaque;
    link->hello_inflight = false;
    if (link->closing)
        return;
    if (!s_from_engine(env)) {     /* retried on the next heartbeat */
        CMN_DEBUG("hello: %s: %s", cmn_code_name(code), message);
        return;
    }
    if (code != CMN_OK) {
        s_hello_refused(link, code, message);
        return;     /* retried on the next heartbeat */
    }
    if (env->body_case != HERD__ENVELOPE__BODY_HELLO_ACK || !env->hello_ack) {
        s_hello_refused(link, CMN_ERR_PROTOCOL, "the reply has no hello_ack");
        return;
    }
    const char *eid = env->hello_ack->engine_id ? env->hello_ack->engine_id : "";
    snprintf(link->engine_id, sizeof(link->engine_id), "%s", eid);
    link->session = true;
    link->link_up = true;
    link->report_needed = true;
    unsigned refused = agt_warn_limit_reset(&link->hello_refusals);
    char after[64] = "";
    if (refused > 0)
        snprintf(after, sizeof(after), " after %u refusals", refused);
    CMN_INFO("engine %s accepted hello (host name '%s')%s", link->engine_id,
             env->hello_ack->host_name ? env->hello_ack->host_name : "", after);
    s_report_start(link);
}

typedef struct {
    agt_link_t *link;
    agt_caps_t caps;
    int rc;
    char err[1024];
} agt_hello_job_t;

static void
s_hello_work(void *arg)
{
    agt_hello_job_t *j = arg;
    j->rc = agt_caps_collect(j->link->virt, (unsigned)j->link->conf->stats_interval,
                             &j->caps);
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", cmn_err_msg());
}

static void
s_hello_done(void *arg, bool cancelled)
{
    agt_hello_job_t *j = arg;
    agt_link_t *link = j->link;
    if (cancelled) {
        agt_caps_clear(&j->caps);
        free(j);
        return;
    }
    if (j->rc < 0)
        CMN_WARN("capabilities incomplete: %s", j->err);
    if (link->conf->migration_uri && link->conf->migration_uri[0])
        snprintf(j->caps.migration_uri, sizeof(j->caps.migration_uri), "%s",
                 link->conf->migration_uri);
    else if (j->caps.hostname[0])
        snprintf(j->caps.migration_uri, sizeof(j->caps.migration_uri),
                 "qemu+tcp://%.400s/system", j->caps.hostname);
    cmn_err_reset();
    if (agt_conv_hello(&j->caps, link->host_id, AGT_VERSION, s_sink_hello, link) < 0) {
        CMN_WARN("cannot send hello: %s", cmn_err_msg());
        link->hello_inflight = false;
    } else {
        CMN_DEBUG("hello sent to %s as host %s", link->conf->engine, link->host_id);
    }
    agt_caps_clear(&j->caps);
    free(j);
}

static void
s_hello_start(agt_link_t *link)
{
    if (link->hello_inflight || link->closing || !link->pool)
        return;
    /* At most one hello a second; the heartbeat retries. */
    uint64_t now = cmn_mono_ms();
    if (link->hello_ms && now - link->hello_ms < 1000)
        return;
    link->hello_ms = now;
    agt_hello_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->link = link;
    link->hello_inflight = true;
    if (agt_pool_submit(link->pool, s_hello_work, s_hello_done, j) < 0) {
        link->hello_inflight = false;
        free(j);
    }
}

static void
s_on_report_reply(const Herd__Envelope *env, cmn_code_t code, const char *message,
                  void *opaque)
{
    (void)env;
    agt_link_t *link = opaque;
    link->report_inflight = false;
    if (link->closing)
        return;
    if (code != CMN_OK) {
        CMN_WARN("vm_report not accepted: %s: %s", cmn_code_name(code), message);
        link->report_needed = true;
        return;
    }
    CMN_DEBUG("vm_report accepted");
}

typedef struct {
    agt_link_t *link;
    agt_vm_status_t *vms;
    size_t n;
    uint64_t gen;
    int rc;
    char err[1024];
} agt_report_job_t;

static void
s_report_work(void *arg)
{
    agt_report_job_t *j = arg;
    /* An agent made without libvirt (virt NULL) runs no domains: its
     * report is empty, which is true and not a failure. */
    if (!j->link->virt)
        return;
    j->rc = agt_virt_list(j->link->virt, &j->vms, &j->n);
    j->gen = agt_virt_generation(j->link->virt);
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", cmn_err_msg());
}

static void
s_report_done(void *arg, bool cancelled)
{
    agt_report_job_t *j = arg;
    agt_link_t *link = j->link;
    if (cancelled)
        goto out;
    if (j->rc < 0) {
        /* Never send an empty report for a failure: the engine would take
         * every VM of this host for down. Retried on the next heartbeat. */
        if (link->report_failures++ == 0)
            CMN_WARN("cannot list domains for the vm_report (retrying every "
                     "heartbeat): %s", j->err);
        else
            CMN_DEBUG("cannot list domains for the vm_report: %s", j->err);
        link->report_inflight = false;
        link->report_needed = true;
        goto out;
    }
    cmn_err_reset();
    if (agt_conv_report(j->vms, j->n, s_sink_report, link) < 0) {
        CMN_WARN("cannot send vm_report: %s", cmn_err_msg());
        link->report_inflight = false;
        link->report_needed = true;
    } else {
        link->virt_gen = j->gen;
        link->report_failures = 0;
        CMN_INFO("vm_report sent: %zu domains", j->n);
    }
out:
    free(j->vms);
    free(j);
}

static void
s_report_start(agt_link_t *link)
{
    if (link->report_inflight || link->closing || !link->session || !link->pool)
        return;
    agt_report_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->link = link;
    link->report_needed = false;
    link->report_inflight = true;
    if (agt_pool_submit(link->pool, s_report_work, s_report_done, j) < 0) {
        link->report_inflight = false;
        link->report_needed = true;
        free(j);
    }
}

/* ---- heartbeat ------------------------------------------------------------ */

/* A ping request, its reply to `cb`. -1 with an error recorded if it could
 * not even be registered (a failed send calls cb at once instead). */
static int
s_send_ping(agt_link_t *link, cmn_rpc_reply_cb cb)
{
    Herd__Ping ping = HERD__PING__INIT;
    ping.sent_us = cmn_time_us();
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &ping;
    return s_send_request(link, &env, cb);
}

static void
s_on_pong(const Herd__Envelope *env, cmn_code_t code, const char *message,
          void *opaque)
{
    agt_link_t *link = opaque;
    if (link->closing)
        return;
    if (code == CMN_ERR_TIMEOUT || code == CMN_ERR_UNAVAILABLE) {
        if (link->link_up)
            CMN_WARN("engine link down: no pong within %llds",
                     (long long)link->conf->request_timeout);
        link->link_up = false;
        return;
    }
    if (!link->link_up) {
        CMN_INFO("engine link up");
        link->link_up = true;
        /* Events may have been lost while it was down: send a snapshot. */
        link->report_needed = true;
    }
    if (code == CMN_ERR_NO_SESSION) {
        s_lost_session(link, "ping answered no_session");
        return;
    }
    if (code != CMN_OK || !env || env->body_case != HERD__ENVELOPE__BODY_PONG ||
        !env->pong) {
        CMN_WARN("bad pong: %s: %s", cmn_code_name(code), message);
        return;
    }
    const char *eid = env->pong->engine_id ? env->pong->engine_id : "";
    if (env->pong->need_hello) {
        s_lost_session(link, "engine asks for hello");
    } else if (link->session && eid[0] && strcmp(eid, link->engine_id) != 0) {
        char why[200];
        snprintf(why, sizeof(why), "engine restarted as %.100s", eid);
        s_lost_session(link, why);
    } else if (link->session && link->report_needed) {
        s_report_start(link);
    }
}

static void
s_on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_link_t *link = arg;
    cmn_err_reset();
    agt_link_key_tick(link);
    cmn_err_reset();
    if (!link->session) {
        s_hello_start(link);
    } else if (link->virt && agt_virt_generation(link->virt) != link->virt_gen) {
        link->report_needed = true;     /* libvirt reconnected */
    }
    if (link->session && link->report_needed && link->link_up)
        s_report_start(link);
    if (s_send_ping(link, s_on_pong) < 0)
        CMN_WARN("cannot send ping: %s", cmn_err_msg());
}

/* ---- the first ping on a new DEALER ---------------------------------------- *
 * The engine learns a connection from the first message on it: until then
 * its requests to this host fail as not connected. A new DEALER (engine key
 * switch, fallback) pings PROBE_DELAY_MS after it was made instead of
 * waiting for the heartbeat. Sends fail at once while the connection is not
 * up (ZMQ_IMMEDIATE), so it tries again every PROBE_DELAY_MS, one ping in
 * flight at a time, PROBE_TRIES at most, until a frame comes on it. */

static void
s_on_probe_pong(const Herd__Envelope *env, cmn_code_t code, const char *message,
                void *opaque)
{
    agt_link_t *link = opaque;
    link->probe_inflight = false;
    if (link->closing)
        return;
    if (code == CMN_ERR_UNAVAILABLE && !s_from_engine(env)) {
        /* Not sent (the connection is not up yet): the timer tries again. */
        CMN_DEBUG("first ping on the new engine link: %s", message);
        return;
    }
    if (code == CMN_OK)
        link->probe_left = 0;
    s_on_pong(env, code, message, opaque);
}

static void
s_on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_link_t *link = arg;
    if (link->closing || link->probe_left == 0 || link->heard_ms >= link->dealer_ms)
        return;     /* given up, or the engine has spoken on this DEALER */
    if (!link->probe_inflight) {
        link->probe_left--;
        link->probe_inflight = true;
        cmn_err_reset();
        if (s_send_ping(link, s_on_probe_pong) < 0) {
            link->probe_inflight = false;
            CMN_DEBUG("cannot send the first ping: %s", cmn_err_msg());
        }
    }
    if (link->probe_left > 0 && !link->closing) {
        struct timeval tv = { .tv_sec = 0, .tv_usec = PROBE_DELAY_MS * 1000 };
        evtimer_add(link->probe_timer, &tv);
    }
}

void
agt_link_probe(agt_link_t *link)
{
    if (link->closing)
        return;
    if (!link->probe_timer)
        link->probe_timer = evtimer_new(link->base, s_on_probe_timer, link);
    struct timeval tv = { .tv_sec = 0, .tv_usec = PROBE_DELAY_MS * 1000 };
    if (!link->probe_timer || evtimer_add(link->probe_timer, &tv) < 0) {
        CMN_WARN("cannot add a timer: the engine learns the new link at the "
                 "next heartbeat");
        return;
    }
    link->probe_left = PROBE_TRIES;
    link->probe_inflight = false;   /* a ping on the old DEALER gets no pong */
}

static void
s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_link_t *link = arg;
    cmn_err_reset();
    if (!link->session)
        s_hello_start(link);
}

static void
s_on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_link_stats_tick(arg);
}

/* ---- frames from the engine ------------------------------------------------- */

void
agt_link_handle_frame(agt_link_t *link, const uint8_t *data, size_t len)
{
    cmn_err_reset();
    uint64_t id = 0;
    Herd__Envelope *env = cmn_rpc_decode(data, len, (size_t)link->conf->max_message_bytes,
                                         &id);
    if (!env) {
        if (cmn_err_code() == CMN_ERR_VERSION && id != 0) {
            char msg[1100];
            snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
            agt_link_reply(link, id, CMN_ERR_VERSION, msg);
        } else {
            CMN_WARN("dropped a frame of %zu bytes from the engine: %s", len,
                     cmn_err_msg());
        }
        return;
    }
    if (env->in_reply_to != 0) {
        if (env->result && env->result->code == CMN_ERR_NO_SESSION &&
            env->body_case != HERD__ENVELOPE__BODY_PONG) {
            /* Complete first so the request's own callback sees it. */
            cmn_rpc_complete(link->rpc, NULL, env);
            s_lost_session(link, "engine answered no_session");
        } else if (!cmn_rpc_complete(link->rpc, NULL, env)) {
            CMN_DEBUG("late or stray reply to %llu dropped",
                      (unsigned long long)env->in_reply_to);
        }
    } else if (!env->result || env->body_case != HERD__ENVELOPE__BODY__NOT_SET) {
        agt_link_request(link, env);
    } else {
        CMN_WARN("dropped envelope %llu: a result without in_reply_to",
                 (unsigned long long)env->id);
    }
    cmn_rpc_free(env);
}

void
agt_link_on_frame(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
                  const uint8_t *data, size_t len, void *opaque)
{
    (void)sock;
    (void)peer;
    (void)peer_len;
    agt_link_key_heard(opaque);
    agt_link_handle_frame(opaque, data, len);
}

/* ---- lifecycle -------------------------------------------------------------- */

agt_link_t *
agt_link_new(const agt_link_opts_t *o)
{
    if (!o->host_id || !cmn_uuid_valid(o->host_id)) {
        CMN_ERR(CMN_ERR_INVALID, "host id '%s' is not a UUID",
                o->host_id ? o->host_id : "");
        return NULL;
    }
    agt_link_t *link = calloc(1, sizeof(*link));
    if (!link) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    link->base = o->base;
    link->conf = o->conf;
    snprintf(link->host_id, sizeof(link->host_id), "%s", o->host_id);
    link->virt = o->virt;
    link->pool = o->pool;
    link->stats = o->stats;
    link->report_needed = true;
    if (agt_link_key_init(link) < 0) {
        free(link);
        return NULL;
    }
    link->rpc = cmn_rpc_new(o->base);
    if (!link->rpc) {
        agt_link_key_fini(link);
        free(link);
        return NULL;
    }
    if (link->virt && link->pool)
        agt_virt_set_event_cb(link->virt, agt_link_virt_event, link);
    int64_t maxmig = link->conf->max_outgoing_migrations;
    link->mig = agt_migrate_new(o->base, link->virt, link->pool,
                                maxmig > 0 ? (unsigned)maxmig : 2, agt_link_mig_report,
                                link);
    if (!link->mig) {
        cmn_rpc_destroy(&link->rpc);
        agt_link_key_fini(link);
        free(link);
        return NULL;
    }
    return link;
}

void
agt_link_set_send_hook(agt_link_t *link, agt_link_send_fn fn, void *opaque)
{
    link->hook = fn;
    link->hook_opaque = opaque;
}

bool
agt_link_has_session(const agt_link_t *link)
{
    return link->session;
}

int
agt_link_start(agt_link_t *link)
{
    if (!link->hook && agt_link_dealer_open(link, NULL, false) < 0)
        return -1;
    struct timeval hb = { .tv_sec = link->conf->heartbeat_interval };
    struct timeval si = { .tv_sec = link->conf->stats_interval };
    link->ping_timer = event_new(link->base, -1, EV_PERSIST, s_on_ping_timer, link);
    link->stats_timer = event_new(link->base, -1, EV_PERSIST, s_on_stats_timer, link);
    if (!link->ping_timer || !link->stats_timer || event_add(link->ping_timer, &hb) < 0 ||
        event_add(link->stats_timer, &si) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot add the link timers");
    CMN_INFO("connecting to the engine at %s as host %s", link->conf->engine,
             link->host_id);
    /* The DEALER drops what is sent before the connection is up: give it a
     * moment before the first hello (the heartbeat retries anyway). */
    struct timeval kick = { .tv_sec = 0, .tv_usec = link->hook ? 0 : 200 * 1000 };
    link->kick_timer = evtimer_new(link->base, s_on_kick, link);
    if (!link->kick_timer || evtimer_add(link->kick_timer, &kick) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot add the link timers");
    return 0;
}

void
agt_link_abort_jobs(agt_link_t *link)
{
    if (link)
        agt_migrate_abort_all(link->mig);
}

void
agt_link_destroy(agt_link_t **p)
{
    if (!p || !*p)
        return;
    agt_link_t *link = *p;
    *p = NULL;
    link->closing = true;
    agt_link_req_abandon(link);
    if (link->ping_timer)
        event_free(link->ping_timer);
    if (link->stats_timer)
        event_free(link->stats_timer);
    if (link->kick_timer)
        event_free(link->kick_timer);
    if (link->probe_timer)
        event_free(link->probe_timer);
    agt_migrate_destroy(&link->mig);
    cmn_rpc_destroy(&link->rpc);
    cmn_zsock_destroy(&link->sock);
    agt_link_key_fini(link);
    free(link);
}
