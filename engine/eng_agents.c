/* The agent link: ROUTER socket, sessions, dispatch of what agents send,
 * liveness, and the requests the engine sends to agents. */
#include "eng_agents.h"
#include "eng_agents_priv.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_migrate_priv.h"
#include "eng_enginekey.h"
#include "eng_enroll.h"
#include "eng_ops.h"
#include "eng_vmstate.h"

CMN_LOG_INIT("eng.agents");

#define STATS_FLUSH_MS 5000

/* ---- host table ---------------------------------------------------------- */

static size_t s_hash(const char *s)
{
    return cmn_str_hash(s) % ENG_AGT_BUCKETS;
}

eng_hostent_t *eng_agents_find(eng_agents_t *a, const char *host_id)
{
    for (eng_hostent_t *e = a->buckets[s_hash(host_id)]; e; e = e->next)
        if (strcmp(e->id, host_id) == 0)
            return e;
    return NULL;
}

static eng_hostent_t *s_add(eng_agents_t *a, const char *host_id)
{
    eng_hostent_t *e = eng_agents_find(a, host_id);
    if (e)
        return e;
    e = calloc(1, sizeof(*e));
    if (!e) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(e->id, sizeof(e->id), "%s", host_id);
    e->status = ENG_HOST_CONNECTING;
    e->last_seen_mono = cmn_mono_ms();
    size_t b = s_hash(host_id);
    e->next = a->buckets[b];
    a->buckets[b] = e;
    a->nhosts++;
    return e;
}

eng_hostent_t *eng_agents_add(eng_agents_t *a, const char *host_id)
{
    return s_add(a, host_id);
}

struct eng_enroll *eng_agents_enroll(eng_agents_t *a)
{
    return a ? a->enroll : NULL;
}

bool eng_agents_connected(eng_agents_t *a, const char *host_id)
{
    if (!a || !host_id)
        return false;
    eng_hostent_t *e = eng_agents_find(a, host_id);
    return e && e->session;
}

/* Change a host's status in memory and the store, with an event. */
static void s_host_status(eng_agents_t *a, eng_hostent_t *e,
                          eng_host_status_t st, int code,
                          eng_severity_t sev, const char *why)
{
    if (e->status == st)
        return;
    eng_host_status_t old = e->status;
    e->status = st;
    if (eng_store_host_set_status(a->ctx->store, e->id, st, cmn_time_ms()) < 0)
        CMN_WARN("host %s: cannot store status %s: %s", e->id,
                 eng_host_status_name(st), cmn_err_msg());
    eng_host_t h = {0};
    const char *name = e->id;
    if (eng_store_host_get(a->ctx->store, e->id, &h) == 0)
        name = h.name;
    eng_event(a->ctx, sev, code, e->id, NULL, NULL,
              "Host %s is %s (was %s)%s%s", name, eng_host_status_name(st),
              eng_host_status_name(old), why ? ": " : "", why ? why : "");
    eng_host_clear(&h);
}

int eng_agents_host_admin(eng_agents_t *a, const char *host_id,
                          bool maintenance, const char *why)
{
    eng_hostent_t *e = eng_agents_find(a, host_id);
    if (!e)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "host '%s' not found", host_id);
    eng_host_status_t st = maintenance ? ENG_HOST_MAINTENANCE :
                           e->session ? ENG_HOST_UP : ENG_HOST_CONNECTING;
    if (!maintenance)
        e->last_seen_mono = cmn_mono_ms();  /* liveness starts now */
    /* Others may have moved the host in the store alone (maintenance
     * preparation): start from the stored status so the change is made. */
    eng_host_t h = {0};
    if (eng_store_host_get(a->ctx->store, host_id, &h) == 0)
        e->status = h.status;
    eng_host_clear(&h);
    cmn_err_reset();
    s_host_status(a, e, st, ENG_EV_HOST_STATUS, ENG_SEV_NORMAL, why);
    return 0;
}

void eng_agents_cut_off(eng_agents_t *a, const char *host_id,
                        const char *why)
{
    if (!a || !host_id)
        return;
    size_t b = s_hash(host_id);
    for (eng_hostent_t **pp = &a->buckets[b]; *pp; pp = &(*pp)->next) {
        eng_hostent_t *e = *pp;
        if (strcmp(e->id, host_id) != 0)
            continue;
        *pp = e->next;
        a->nhosts--;
        CMN_INFO("host %s cut off: %s", host_id, why ? why : "");
        cmn_rpc_fail_key(a->rpc, host_id, CMN_ERR_UNAVAILABLE,
                         why ? why : "host cut off");
        json_object_del(a->dirty, host_id);
        free(e);
        return;
    }
}

/* Any message from a host with a session: it is alive. */
static void s_touch(eng_agents_t *a, eng_hostent_t *e)
{
    e->last_seen_mono = cmn_mono_ms();
    if (e->session && e->status == ENG_HOST_CONNECTING)
        s_host_status(a, e, ENG_HOST_UP, ENG_EV_HOST_UP, ENG_SEV_NORMAL,
                      "messages resumed");
}

static void s_host_lost(eng_agents_t *a, eng_hostent_t *e, const char *why)
{
    bool had = e->session;
    e->session = false;
    s_host_status(a, e, ENG_HOST_NON_RESPONSIVE, ENG_EV_HOST_NON_RESPONSIVE,
                  ENG_SEV_ERROR, why);
    eng_agt_host_lost_vms(a, e->id);
    if (had)
        cmn_rpc_fail_key(a->rpc, e->id, CMN_ERR_UNAVAILABLE,
                         "host is non responsive");
}

void eng_agents_tick(eng_agents_t *a)
{
    uint64_t now = cmn_mono_ms();
    uint64_t conn_ms = (uint64_t)a->ctx->conf.host_connecting_s * 1000;
    uint64_t lost_ms = (uint64_t)a->ctx->conf.host_nonresponsive_s * 1000;
    for (size_t b = 0; b < ENG_AGT_BUCKETS; b++) {
        for (eng_hostent_t *e = a->buckets[b]; e; e = e->next) {
            if (e->status != ENG_HOST_UP && e->status != ENG_HOST_CONNECTING)
                continue;
            uint64_t idle = now - e->last_seen_mono;
            char why[96];
            if (idle >= lost_ms) {
                cmn_err_reset();
                snprintf(why, sizeof(why), "no message for %llu s",
                         (unsigned long long)(idle / 1000));
                s_host_lost(a, e, why);
            } else if (idle >= conn_ms && e->status == ENG_HOST_UP) {
                cmn_err_reset();
                snprintf(why, sizeof(why), "no message for %llu s",
                         (unsigned long long)(idle / 1000));
                s_host_status(a, e, ENG_HOST_CONNECTING,
                              ENG_EV_HOST_CONNECTING, ENG_SEV_WARNING, why);
            }
        }
    }
    if (now - a->last_flush_mono >= STATS_FLUSH_MS)
        eng_agents_flush_stats(a);
}

void eng_agents_flush_stats(eng_agents_t *a)
{
    a->last_flush_mono = cmn_mono_ms();
    if (json_object_size(a->dirty) == 0)
        return;
    cmn_err_reset();
    eng_store_t *st = a->ctx->store;
    if (eng_store_begin(st) < 0) {
        CMN_WARN("stats flush: %s", cmn_err_msg());
        return;
    }
    const char *id;
    json_t *kind;
    size_t n = 0;
    json_object_foreach(a->dirty, id, kind) {
        json_t *s = eng_stats_get(a->ctx->stats, id);
        if (!s)
            continue;
        char *txt = json_dumps(s, JSON_COMPACT);
        if (!txt)
            continue;
        json_int_t t = json_integer_value(json_object_get(s, "time_ms"));
        if (eng_store_stats_put(st, json_string_value(kind), id, t, txt) < 0)
            CMN_WARN("stats flush %s: %s", id, cmn_err_msg());
        else
            n++;
        free(txt);
    }
    if (eng_store_commit(st) < 0) {
        CMN_WARN("stats flush: %s", cmn_err_msg());
        eng_store_rollback(st);
    }
    json_object_clear(a->dirty);
    CMN_DEBUG("flushed %zu statistics samples", n);
}

static void s_timer_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    eng_agents_tick(opaque);
}

/* ---- replies ------------------------------------------------------------- */

static uint8_t *s_reply(eng_agents_t *a, Herd__Envelope *env, uint64_t req_id,
                        cmn_code_t code, const char *msg, size_t *reply_len)
{
    Herd__Result res = HERD__RESULT__INIT;
    Herd__Envelope body = *env;     /* init_reply clears the body */
    cmn_rpc_init_reply(env, &res, cmn_rpc_next_id(a->rpc), req_id, code,
                       msg ? msg : "");
    env->body_case = body.body_case;
    env->hello_ack = body.hello_ack;    /* the oneof: copies any member */
    uint8_t *buf = cmn_rpc_encode(env, reply_len);
    if (!buf)
        CMN_ERROR("cannot encode a reply to %llu", (unsigned long long)req_id);
    return buf;
}

static uint8_t *s_reply_code(eng_agents_t *a, uint64_t req_id, cmn_code_t code,
                             const char *msg, size_t *reply_len)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    return s_reply(a, &env, req_id, code, msg, reply_len);
}

/* Reply with the recorded error. */
static uint8_t *s_reply_err(eng_agents_t *a, uint64_t req_id,
                            size_t *reply_len)
{
    cmn_code_t c = cmn_err_code();
    return s_reply_code(a, req_id, c == CMN_OK ? CMN_ERR_INTERNAL : c,
                        cmn_err_msg(), reply_len);
}

/* ---- hello --------------------------------------------------------------- */

/* True if another host than host_id is called `name`. */
static bool s_name_taken(eng_agents_t *a, const char *name, const char *host_id)
{
    eng_host_t other = {0};
    bool taken = eng_store_host_get_by_name(a->ctx->store, name, &other) == 0 &&
                 strcasecmp(other.id, host_id) != 0;
    eng_host_clear(&other);
    cmn_err_reset();
    return taken;
}

/* The hostname, else hostname-<first 8 of the id>, else hostname-<id>: host
 * ids are unique, so the last is always free. */
static void s_pick_name(eng_agents_t *a, const char *host_id,
                        const char *hostname, char *out, size_t len)
{
    snprintf(out, len, "%s", hostname);
    if (!s_name_taken(a, out, host_id))
        return;
    snprintf(out, len, "%.200s-%.8s", hostname, host_id);
    if (!s_name_taken(a, out, host_id))
        return;
    snprintf(out, len, "%.200s-%s", hostname, host_id);
}

static uint8_t *s_on_hello(eng_agents_t *a, const char *host_id,
                           const Herd__Envelope *req, size_t *reply_len)
{
    const Herd__Hello *h = req->hello;
    if (eng_agt_hello_check(h, host_id) < 0) {
        CMN_WARN("host %s: hello refused: %s", host_id, cmn_err_msg());
        return s_reply_err(a, req->id, reply_len);
    }
    eng_ctx_t *ctx = a->ctx;
    eng_host_t rec = {0};
    bool existed = eng_store_host_get(ctx->store, host_id, &rec) == 0;
    cmn_err_reset();
    eng_host_status_t old = existed ? rec.status : ENG_HOST_CONNECTING;
    int64_t now = (int64_t)cmn_time_ms();
    if (!existed) {
        eng_cluster_t cl;
        if (eng_store_cluster_get_by_name(ctx->store, "Default", &cl) < 0) {
            CMN_ERROR("hello from %s: no Default cluster: %s", host_id,
                      cmn_err_msg());
            return s_reply_err(a, req->id, reply_len);
        }
        snprintf(rec.id, sizeof(rec.id), "%s", host_id);
        s_pick_name(a, host_id, h->hostname, rec.name, sizeof(rec.name));
        snprintf(rec.cluster_id, sizeof(rec.cluster_id), "%s", cl.id);
        rec.created_ms = now;
    }
    json_decref(rec.caps);
    rec.caps = eng_agt_hello_caps(h);
    snprintf(rec.address, sizeof(rec.address), "%s", h->hostname);
    /* An administrator's maintenance outlives reconnects. */
    bool maint = existed && (rec.status == ENG_HOST_MAINTENANCE ||
                             rec.status == ENG_HOST_PREPARING_FOR_MAINTENANCE);
    rec.status = maint ? rec.status : ENG_HOST_UP;
    rec.last_seen_ms = now;
    if (rec.status != old || !existed)
        rec.status_time_ms = now;
    if (eng_store_host_put(ctx->store, &rec) < 0) {
        CMN_ERROR("hello from %s: cannot store the host: %s", host_id,
                  cmn_err_msg());
        eng_host_clear(&rec);
        return s_reply_err(a, req->id, reply_len);
    }
    if (!existed)
        eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_HOST_ADDED, rec.id, NULL, NULL,
                  "Host %s (%s) added", rec.name, h->hostname);
    eng_hostent_t *e = s_add(a, rec.id);
    if (!e) {
        eng_host_clear(&rec);
        return s_reply_err(a, req->id, reply_len);
    }
    e->session = true;
    e->last_seen_mono = cmn_mono_ms();
    e->status = rec.status;
    if (maint)
        CMN_INFO("host %s (%s) said hello; it stays in maintenance",
                 rec.name, rec.id);
    else if (old != ENG_HOST_UP || !existed)
        eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_HOST_UP, rec.id, NULL, NULL,
                  "Host %s is up (agent %s, libvirt %s, %s %s)", rec.name,
                  h->agent_version, h->libvirt_version, h->hypervisor,
                  h->hypervisor_version);
    else
        CMN_INFO("host %s (%s) said hello again", rec.name, rec.id);
    /* During an engine key rotation every hello gets the next key. */
    eng_agents_key_on_hello(a, rec.id);

    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__HelloAck ack = HERD__HELLO_ACK__INIT;
    ack.engine_id = ctx->engine_id;
    ack.host_name = rec.name;
    env.body_case = HERD__ENVELOPE__BODY_HELLO_ACK;
    env.hello_ack = &ack;
    uint8_t *out = s_reply(a, &env, req->id, CMN_OK, "", reply_len);
    eng_host_clear(&rec);
    return out;
}

/* ---- dispatch ------------------------------------------------------------ */

/* The routing identity as a host id: exactly a UUID, else false. */
static bool s_identity(const uint8_t *id, size_t len, char out[ENG_ID_LEN])
{
    out[0] = '\0';
    if (!id || len != CMN_UUID_STRLEN)
        return false;
    memcpy(out, id, len);
    out[len] = '\0';
    return cmn_uuid_valid(out);
}

static bool s_is_request_body(int body)
{
    switch (body) {
    case HERD__ENVELOPE__BODY_HELLO:
    case HERD__ENVELOPE__BODY_VM_REPORT:
    case HERD__ENVELOPE__BODY_PING:
    case HERD__ENVELOPE__BODY_VM_CREATE:
    case HERD__ENVELOPE__BODY_VM_OP:
    case HERD__ENVELOPE__BODY_DISK_CREATE:
    case HERD__ENVELOPE__BODY_DISK_DELETE:
    case HERD__ENVELOPE__BODY_VM_MIGRATE:
    case HERD__ENVELOPE__BODY_JOB_CANCEL:
    case HERD__ENVELOPE__BODY_ENGINE_KEY:
        return true;
    default:
        return false;
    }
}

static uint8_t *s_dispatch(eng_agents_t *a, const char *host,
                           eng_hostent_t *e, const Herd__Envelope *env,
                           size_t *reply_len)
{
    bool session = e && e->session;
    switch (env->body_case) {
    case HERD__ENVELOPE__BODY_HELLO:
        return s_on_hello(a, host, env, reply_len);
    case HERD__ENVELOPE__BODY_PING: {
        Herd__Envelope r = HERD__ENVELOPE__INIT;
        Herd__Pong pong = HERD__PONG__INIT;
        pong.sent_us = env->ping ? env->ping->sent_us : 0;
        pong.engine_id = a->ctx->engine_id;
        pong.need_hello = !session;
        r.body_case = HERD__ENVELOPE__BODY_PONG;
        r.pong = &pong;
        return s_reply(a, &r, env->id, CMN_OK, "", reply_len);
    }
    case HERD__ENVELOPE__BODY_VM_REPORT:
        if (!session)
            return s_reply_code(a, env->id, CMN_ERR_NO_SESSION,
                                "no session: send hello first", reply_len);
        if (eng_agt_on_report(a, host, env->vm_report) < 0) {
            CMN_WARN("host %s: vm_report refused: %s", host, cmn_err_msg());
            return s_reply_err(a, env->id, reply_len);
        }
        return s_reply_code(a, env->id, CMN_OK, "", reply_len);
    case HERD__ENVELOPE__BODY_HOST_STATS:
    case HERD__ENVELOPE__BODY_VM_STATS:
    case HERD__ENVELOPE__BODY_VM_EVENT:
    case HERD__ENVELOPE__BODY_JOB_PROGRESS:
        break;
    default:
        if (s_is_request_body(env->body_case))
            return s_reply_code(a, env->id, CMN_ERR_PROTOCOL,
                                "the engine does not accept this request",
                                reply_len);
        CMN_WARN("host %s: dropped an unexpected %s", host,
                 cmn_rpc_body_name(env));
        return NULL;
    }

    /* Notifications. */
    if (!session) {
        CMN_DEBUG("host %s: dropped %s: no session", host,
                  cmn_rpc_body_name(env));
        return NULL;
    }
    int rc = 0;
    if (env->body_case == HERD__ENVELOPE__BODY_HOST_STATS) {
        if (eng_agt_host_stats_check(env->host_stats) < 0) {
            rc = -1;
        } else {
            json_t *s = eng_agt_host_stats_json(env->host_stats);
            if (s) {
                eng_stats_put(a->ctx->stats, e->id, s);
                json_object_set_new(a->dirty, e->id, json_string("host"));
            }
        }
    } else if (env->body_case == HERD__ENVELOPE__BODY_VM_STATS) {
        rc = eng_agt_on_vm_stats(a, e->id, env->vm_stats);
    } else if (env->body_case == HERD__ENVELOPE__BODY_JOB_PROGRESS) {
        rc = eng_agt_on_job_progress(a, e->id, env->job_progress);
    } else {
        rc = eng_agt_on_vm_event(a, e->id, env->vm_event);
    }
    if (rc < 0)
        CMN_WARN("host %s: dropped %s: %s", host, cmn_rpc_body_name(env),
                 cmn_err_msg());
    return NULL;
}

/* True if a frame (already known to unpack) is itself a reply: version
 * errors are answered only for requests, so two peers of different
 * versions never bounce errors at each other. */
static bool s_is_reply(const uint8_t *data, size_t len)
{
    Herd__Envelope *env = herd__envelope__unpack(NULL, len, data);
    if (!env)
        return true;
    bool reply = env->in_reply_to != 0 || env->result != NULL;
    herd__envelope__free_unpacked(env, NULL);
    return reply;
}

uint8_t *eng_agents_handle(eng_agents_t *a, const uint8_t *identity,
                           size_t id_len, const uint8_t *data, size_t len,
                           size_t *reply_len)
{
    cmn_err_reset();
    *reply_len = 0;
    char host[ENG_ID_LEN];
    bool ident_ok = s_identity(identity, id_len, host);
    const char *who = ident_ok ? host : "(bad identity)";
    uint64_t req_id = 0;
    Herd__Envelope *env = cmn_rpc_decode(data, len, a->max_msg, &req_id);
    if (!env) {
        CMN_WARN("host %s: dropped a frame of %zu bytes: %s", who, len,
                 cmn_err_msg());
        if (cmn_err_code() == CMN_ERR_VERSION && req_id != 0 &&
            !s_is_reply(data, len))
            return s_reply_code(a, req_id, CMN_ERR_VERSION,
                                "protocol version not supported", reply_len);
        return NULL;
    }
    uint8_t *out = NULL;
    if (!ident_ok) {
        CMN_WARN("dropped %s: the routing identity is not a host id",
                 cmn_rpc_body_name(env));
        if (env->in_reply_to == 0 && s_is_request_body(env->body_case))
            out = s_reply_code(a, env->id, CMN_ERR_PROTOCOL,
                               "the routing identity must be the host id",
                               reply_len);
        cmn_rpc_free(env);
        return out;
    }
    eng_hostent_t *e = eng_agents_find(a, host);
    if (e && e->session)
        s_touch(a, e);
    if (env->in_reply_to != 0) {
        if (!cmn_rpc_complete(a->rpc, e ? e->id : host, env))
            CMN_DEBUG("host %s: late or stray reply to %llu", host,
                      (unsigned long long)env->in_reply_to);
    } else {
        out = s_dispatch(a, host, e, env, reply_len);
    }
    cmn_rpc_free(env);
    return out;
}

static void s_on_frame(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
                       const uint8_t *data, size_t len, void *opaque)
{
    eng_agents_t *a = opaque;
    size_t rlen = 0;
    uint8_t *reply = NULL;
    if (a->enroll) {
        /* CURVE: the sender is the host its key belongs to, whatever its
         * routing id; unknown, pending and revoked keys stop here. */
        char host[ENG_ID_LEN];
        eng_gate_t g = eng_enroll_gate(a->enroll, cmn_zsock_peer_key(sock),
                                       peer, peer_len, data, len, host,
                                       &reply, &rlen);
        if (g == ENG_GATE_PASS)
            reply = eng_agents_handle(a, (const uint8_t *)host, strlen(host),
                                      data, len, &rlen);
    } else {
        reply = eng_agents_handle(a, peer, peer_len, data, len, &rlen);
    }
    if (!reply)
        return;
    cmn_err_reset();
    if (cmn_zsock_send(sock, peer, peer_len, reply, rlen) < 0)
        CMN_WARN("cannot send a reply: %s", cmn_err_msg());
    free(reply);
}

/* ---- requests to agents -------------------------------------------------- */

typedef struct {
    eng_agents_cb cb;
    void *opaque;
    int body;               /* body case of the request */
    uint64_t sent_us;
} s_req_t;

static void s_req_done(const Herd__Envelope *env, cmn_code_t code,
                       const char *message, void *opaque)
{
    s_req_t *rq = opaque;
    eng_agent_reply_t r = {
        .code = code, .message = message ? message : "", .disk_path = "",
        .rtt_us = cmn_mono_us() - rq->sent_us,
    };
    if (code == CMN_OK && rq->body == HERD__ENVELOPE__BODY_DISK_CREATE) {
        const Herd__DiskCreated *dc =
            env && env->body_case == HERD__ENVELOPE__BODY_DISK_CREATED
                ? env->disk_created : NULL;
        if (!dc || !eng_agt_str_ok(dc->path, ENG_AGT_MAX_PATH, false)) {
            r.code = CMN_ERR_PROTOCOL;
            r.message = "disk_create reply lacks a valid disk_created.path";
        } else {
            r.disk_path = dc->path;
            r.disk_size = dc->size_bytes;
        }
    }
    if (code == CMN_OK && rq->body == HERD__ENVELOPE__BODY_PING &&
        !(env && env->body_case == HERD__ENVELOPE__BODY_PONG)) {
        r.code = CMN_ERR_PROTOCOL;
        r.message = "ping reply lacks a pong";
    }
    rq->cb(&r, rq->opaque);
    free(rq);
}

int eng_agents_request_(eng_agents_t *a, const char *host_id,
                        Herd__Envelope *env, unsigned extra_timeout_s,
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
    s_req_t *rq = calloc(1, sizeof(*rq));
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
    rq->body = env->body_case;
    rq->sent_us = cmn_mono_us();
    unsigned timeout_s = (unsigned)a->ctx->conf.request_timeout_s +
                         extra_timeout_s;
    if (cmn_rpc_expect(a->rpc, env->id, e->id, timeout_s * 1000u, s_req_done,
                       rq) < 0) {
        free(rq);
        return -1;
    }
    CMN_DEBUG("sent %s %llu to %s", cmn_rpc_body_name(env),
              (unsigned long long)env->id, e->id);
    return 0;
}

int eng_agents_vm_create(eng_agents_t *a, const char *host_id,
                         const char *vm_id, const char *domain_xml,
                         bool start, eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__VmCreate m = HERD__VM_CREATE__INIT;
    m.vm_id = (char *)vm_id;
    m.domain_xml = (char *)domain_xml;
    m.start = start;
    env.body_case = HERD__ENVELOPE__BODY_VM_CREATE;
    env.vm_create = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

int eng_agents_vm_op(eng_agents_t *a, const char *host_id, const char *vm_id,
                     eng_agent_op_t op, unsigned timeout_s,
                     eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__VmOp m = HERD__VM_OP__INIT;
    m.vm_id = (char *)vm_id;
    m.op = (Herd__VmOpKind)op;
    m.timeout_s = timeout_s;
    env.body_case = HERD__ENVELOPE__BODY_VM_OP;
    env.vm_op = &m;
    return eng_agents_request_(a, host_id, &env, timeout_s, cb, opaque);
}

int eng_agents_vm_ticket(eng_agents_t *a, const char *host_id,
                         const char *vm_id, const char *password,
                         unsigned expiry_s, eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__VmTicket m = HERD__VM_TICKET__INIT;
    m.vm_id = (char *)vm_id;
    m.password = (char *)password;
    m.expiry_s = expiry_s;
    env.body_case = HERD__ENVELOPE__BODY_VM_TICKET;
    env.vm_ticket = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

int eng_agents_disk_create(eng_agents_t *a, const char *host_id,
                           const char *disk_id, uint64_t size_bytes,
                           eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__DiskCreate m = HERD__DISK_CREATE__INIT;
    m.disk_id = (char *)disk_id;
    m.size_bytes = size_bytes;
    env.body_case = HERD__ENVELOPE__BODY_DISK_CREATE;
    env.disk_create = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

int eng_agents_disk_delete(eng_agents_t *a, const char *host_id,
                           const char *disk_id, eng_agents_cb cb,
                           void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__DiskDelete m = HERD__DISK_DELETE__INIT;
    m.disk_id = (char *)disk_id;
    env.body_case = HERD__ENVELOPE__BODY_DISK_DELETE;
    env.disk_delete = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

int eng_agents_ping(eng_agents_t *a, const char *host_id, eng_agents_cb cb,
                    void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Ping m = HERD__PING__INIT;
    m.sent_us = cmn_mono_us();
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

/* ---- life ---------------------------------------------------------------- */

/* Hosts the store knows start as connecting until they say hello. */
static int s_load_hosts(eng_agents_t *a)
{
    eng_host_t *hosts = NULL;
    size_t n = 0;
    if (eng_store_host_list(a->ctx->store, &hosts, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        eng_hostent_t *e = s_add(a, hosts[i].id);
        if (e) {
            e->status = hosts[i].status;
            if (e->status == ENG_HOST_UP ||
                e->status == ENG_HOST_NON_RESPONSIVE)
                s_host_status(a, e, ENG_HOST_CONNECTING,
                              ENG_EV_HOST_CONNECTING, ENG_SEV_NORMAL,
                              "engine started, waiting for the agent");
        }
        eng_host_clear(&hosts[i]);
    }
    free(hosts);
    return 0;
}

static eng_agents_t *s_new(eng_ctx_t *ctx, bool bind)
{
    eng_agents_t *a = calloc(1, sizeof(*a));
    if (!a) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->ctx = ctx;
    a->max_msg = ctx->conf.agents_max_message > 0
                     ? (size_t)ctx->conf.agents_max_message : 4u << 20;
    a->dirty = json_object();
    a->rpc = cmn_rpc_new(ctx->base);
    a->last_flush_mono = cmn_mono_ms();
    if (!a->dirty || !a->rpc)
        goto fail;
    if (s_load_hosts(a) < 0)
        goto fail;
    if (bind) {
        cmn_zsock_opts_t opts = { .max_msg_bytes = a->max_msg };
        if (ctx->conf.agents_curve) {
            /* A due key rotation is promoted before the key is loaded. */
            if (eng_enginekey_promote_due(ctx) < 0)
                goto fail;
            a->enroll = eng_enroll_new(ctx);
            if (!a->enroll)
                goto fail;
            opts.curve_secret_key = eng_enroll_secret_key(a->enroll);
            opts.curve_auth = eng_enroll_zap_cb;
            opts.curve_auth_opaque = a->enroll;
        }
        a->sock = cmn_zsock_new_router(ctx->base, ctx->conf.agents_listen,
                                       &opts, s_on_frame, a);
        if (!a->sock)
            goto fail;
        if (a->enroll) {
            a->ekey = eng_enginekey_new(ctx, a, a->enroll);
            if (!a->ekey)
                goto fail;
        }
        a->timer = event_new(ctx->base, -1, EV_PERSIST, s_timer_cb, a);
        struct timeval tv = { 1, 0 };
        if (!a->timer || event_add(a->timer, &tv) < 0) {
            CMN_ERR(CMN_ERR_INTERNAL, "cannot start the liveness timer");
            goto fail;
        }
        CMN_INFO("agents: listening on %s", cmn_zsock_endpoint(a->sock));
    }
    return a;
fail:
    eng_agents_destroy(&a);
    return NULL;
}

eng_agents_t *eng_agents_new(eng_ctx_t *ctx)
{
    return s_new(ctx, true);
}

eng_agents_t *eng_agents_new_detached(eng_ctx_t *ctx)
{
    return s_new(ctx, false);
}

const char *eng_agents_endpoint(eng_agents_t *a)
{
    return a && a->sock ? cmn_zsock_endpoint(a->sock) : NULL;
}

void eng_agents_destroy(eng_agents_t **p)
{
    if (!p || !*p)
        return;
    eng_agents_t *a = *p;
    *p = NULL;
    if (a->timer)
        event_free(a->timer);
    /* Before the pending callbacks: answers about the key rotation then
     * change nothing, and a switch waiting for them is dropped. */
    eng_enginekey_destroy(&a->ekey);
    if (a->key_push_ev)
        event_free(a->key_push_ev);
    /* Pending callbacks run here, while the host table still exists. */
    cmn_rpc_destroy(&a->rpc);
    if (a->dirty && a->ctx->store)
        eng_agents_flush_stats(a);
    cmn_zsock_destroy(&a->sock);
    eng_enroll_destroy(&a->enroll);
    for (size_t b = 0; b < ENG_AGT_BUCKETS; b++) {
        eng_hostent_t *e = a->buckets[b];
        while (e) {
            eng_hostent_t *next = e->next;
            free(e);
            e = next;
        }
    }
    json_decref(a->dirty);
    free(a);
}
