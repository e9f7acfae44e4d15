#include "cmn_zmq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <zmq.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("rpc.zmq");

/* Messages handled per wake-up before yielding to other events; the rest is
 * picked up on the next loop iteration (event_active), so one busy peer
 * cannot starve timers and HTTP. */
#define CMN_ZSOCK_BATCH 512

struct cmn_zsock {
    void *zs;
    int type;                   /* ZMQ_ROUTER or ZMQ_DEALER */
    struct event *ev;
    char *endpoint;
    size_t max_msg;
    cmn_zsock_recv_cb cb;
    void *opaque;
    cmn_zsock_stats_t stats;
    int busy;                   /* > 0 while draining (callbacks may run) */
    bool dead;                  /* destroyed from inside a callback */
    const char *peer_key;       /* CURVE sender key during a callback */
    char peer_key_buf[CMN_ZMQ_KEY_LEN + 1];
    /* CURVE ROUTER with curve_auth: the ZAP handler (a REP socket on
     * inproc://zeromq.zap.01) that libzmq asks about every handshake. */
    void *zap;
    struct event *zap_ev;
    cmn_zsock_auth_cb auth;
    void *auth_opaque;
};

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_ZAP_DOMAIN "herd"

static bool s_zap_taken;        /* one authenticating ROUTER per process */

static pthread_mutex_t s_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static void *s_ctx;

void *
cmn_zmq_context(void)
{
    pthread_mutex_lock(&s_ctx_lock);
    if (!s_ctx) {
        s_ctx = zmq_ctx_new();
        if (!s_ctx)
            CMN_ERR_ERRNO(CMN_ERR_INTERNAL, "cannot create the ZeroMQ context");
    }
    void *ctx = s_ctx;
    pthread_mutex_unlock(&s_ctx_lock);
    return ctx;
}

void
cmn_zmq_shutdown(void)
{
    pthread_mutex_lock(&s_ctx_lock);
    void *ctx = s_ctx;
    s_ctx = NULL;
    pthread_mutex_unlock(&s_ctx_lock);
    if (ctx)
        zmq_ctx_term(ctx);
}

static void
s_free(cmn_zsock_t *s)
{
    if (s->zap_ev) {
        event_free(s->zap_ev);
        s->zap_ev = NULL;
    }
    if (s->zap) {
        zmq_close(s->zap);
        s->zap = NULL;
        pthread_mutex_lock(&s_ctx_lock);
        s_zap_taken = false;
        pthread_mutex_unlock(&s_ctx_lock);
    }
    if (s->ev) {
        event_free(s->ev);
        s->ev = NULL;
    }
    if (s->zs) {
        zmq_close(s->zs);
        s->zs = NULL;
    }
    free(s->endpoint);
    free(s);
}

/* A peer can send junk at line rate: warn on the 1st, 2nd, 4th, 8th, ...
 * dropped message, debug for the rest. */
static bool
s_warn_drop(cmn_zsock_t *s)
{
    uint64_t n = s->stats.dropped_frames;
    return (n & (n - 1)) == 0;
}

/* Receive one whole message (every frame) without blocking. Returns 1 if a
 * message was handled (delivered or dropped), 0 if none was waiting, -1 on
 * a socket error. */
static int
s_recv_one(cmn_zsock_t *s)
{
    zmq_msg_t part[2];
    int nparts = 0, total = 0, more = 0;
    int rc = 1;

    do {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->zs, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(&m);
            if (total == 0 && (e == EAGAIN || e == EINTR)) {
                rc = 0;
            } else {
                CMN_WARN("receive on %s failed: %s", s->endpoint, zmq_strerror(e));
                rc = total == 0 ? -1 : 1;
                s->stats.dropped_frames++;
            }
            goto out;
        }
        more = zmq_msg_more(&m);
        total++;
        if (nparts < 2) {
            zmq_msg_init(&part[nparts]);
            zmq_msg_move(&part[nparts++], &m);
        }
        zmq_msg_close(&m);
    } while (more);

    int want = s->type == ZMQ_ROUTER ? 2 : 1;
    if (total != want) {
        s->stats.dropped_frames++;
        if (s_warn_drop(s))
            CMN_WARN("%s: dropped a message of %d frames (expected %d; %llu so far)",
                     s->endpoint, total, want,
                     (unsigned long long)s->stats.dropped_frames);
        else
            CMN_DEBUG("%s: dropped a message of %d frames", s->endpoint, total);
        goto out;
    }
    zmq_msg_t *payload = &part[want - 1];
    size_t len = zmq_msg_size(payload);
    if (len > s->max_msg) {
        s->stats.dropped_frames++;
        if (s_warn_drop(s))
            CMN_WARN("%s: dropped a message of %zu bytes (limit %zu; %llu so far)",
                     s->endpoint, len, s->max_msg,
                     (unsigned long long)s->stats.dropped_frames);
        goto out;
    }
    s->stats.received++;
    if (s->cb) {
        const uint8_t *peer = NULL;
        size_t peer_len = 0;
        if (want == 2) {
            peer = zmq_msg_data(&part[0]);
            peer_len = zmq_msg_size(&part[0]);
            /* Set by the ZAP handler (or libzmq) for CURVE connections. */
            const char *uid = zmq_msg_gets(payload, "User-Id");
            if (uid && strlen(uid) == CMN_ZMQ_KEY_LEN) {
                memcpy(s->peer_key_buf, uid, CMN_ZMQ_KEY_LEN + 1);
                s->peer_key = s->peer_key_buf;
            }
        }
        s->cb(s, peer, peer_len, zmq_msg_data(payload), len, s->opaque);
        s->peer_key = NULL;
    }
out:
    for (int i = 0; i < nparts; i++)
        zmq_msg_close(&part[i]);
    return rc;
}

static bool
s_has_pollin(cmn_zsock_t *s)
{
    int events = 0;
    size_t sz = sizeof(events);
    if (zmq_getsockopt(s->zs, ZMQ_EVENTS, &events, &sz) < 0) {
        CMN_WARN("%s: ZMQ_EVENTS failed: %s", s->endpoint, zmq_strerror(errno));
        return false;
    }
    return (events & ZMQ_POLLIN) != 0;
}

/* Drain until ZMQ_EVENTS shows no POLLIN (ZMQ_FD is edge-triggered: a
 * message left behind would wait for the next, unrelated, wake-up).
 * Returns true if the socket was freed by a callback. */
static bool
s_drain(cmn_zsock_t *s)
{
    int handled = 0;
    s->busy++;
    while (!s->dead && s_has_pollin(s)) {
        if (handled >= CMN_ZSOCK_BATCH) {
            /* Continue on the next loop iteration. */
            event_active(s->ev, EV_READ, 0);
            break;
        }
        int rc = s_recv_one(s);
        if (rc <= 0)
            break;
        handled++;
    }
    s->busy--;
    if (s->dead && s->busy == 0) {
        s_free(s);
        return true;
    }
    return false;
}

static void
s_on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cmn_zsock_t *s = arg;
    if (s->busy)
        return;
    s_drain(s);
}

static int
s_setopt_int(cmn_zsock_t *s, int opt, int val, const char *name)
{
    if (zmq_setsockopt(s->zs, opt, &val, sizeof(val)) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot set %s=%d: %s", name, val,
                       zmq_strerror(errno));
    return 0;
}

#define S_SETOPT(s, opt, val) s_setopt_int((s), (opt), (val), #opt)
#define S_SETOPT_STR(s, opt, val) s_setopt_str((s), (opt), (val), #opt)

/* ---- CURVE ------------------------------------------------------------ */

static int
s_key_check(const char *key, const char *what)
{
    uint8_t bin[32];
    if (!key || strlen(key) != CMN_ZMQ_KEY_LEN || !zmq_z85_decode(bin, key))
        return CMN_ERR(CMN_ERR_INVALID, "%s is not a %d-character Z85 CURVE key",
                       what, CMN_ZMQ_KEY_LEN);
    return 0;
}

static int
s_setopt_str(cmn_zsock_t *s, int opt, const char *val, const char *name)
{
    if (zmq_setsockopt(s->zs, opt, val, strlen(val)) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "cannot set %s: %s", name, zmq_strerror(errno));
    return 0;
}

/* Answer one ZAP request (RFC 27): frames version, request id, domain,
 * address, routing id, mechanism, credentials. A REP socket must answer
 * every request, so malformed ones get a 400. */
static void
s_zap_handle(cmn_zsock_t *s)
{
    enum { MAXF = 8 };
    zmq_msg_t f[MAXF];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            if (n == 0)
                return;
            break;
        }
        more = zmq_msg_more(&m);
        if (n < MAXF) {
            zmq_msg_init(&f[n]);
            zmq_msg_move(&f[n++], &m);
        }
        zmq_msg_close(&m);
    }
    char key[CMN_ZMQ_KEY_LEN + 1] = "";
    char addr[64] = "";
    const char *status = "400", *text = "malformed request";
    bool ok_shape = n >= 7 && zmq_msg_size(&f[0]) == 3 &&
                    memcmp(zmq_msg_data(&f[0]), "1.0", 3) == 0 &&
                    zmq_msg_size(&f[5]) == 5 &&
                    memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
                    zmq_msg_size(&f[6]) == 32;
    if (ok_shape) {
        zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
        size_t alen = zmq_msg_size(&f[3]);
        if (alen >= sizeof(addr))
            alen = sizeof(addr) - 1;
        memcpy(addr, zmq_msg_data(&f[3]), alen);
        addr[alen] = '\0';
        bool ours = zmq_msg_size(&f[2]) == strlen(S_ZAP_DOMAIN) &&
                    memcmp(zmq_msg_data(&f[2]), S_ZAP_DOMAIN, strlen(S_ZAP_DOMAIN)) == 0;
        /* Another CURVE ROUTER of this process without an authoriser:
         * any client may connect, as without a ZAP handler. */
        bool allowed = !ours || !s->auth || s->auth(key, addr, s->auth_opaque);
        status = allowed ? "200" : "400";
        text = allowed ? "OK" : "key not allowed";
        if (!allowed)
            CMN_WARN("refused CURVE client %s from %s", key, addr);
        else
            CMN_DEBUG("accepted CURVE client %s from %s", key, addr);
    } else {
        CMN_WARN("malformed ZAP request of %d frames", n);
        key[0] = '\0';
    }
    /* Reply: version, request id, status, text, user id, metadata. */
    const void *rid = n >= 2 ? zmq_msg_data(&f[1]) : "";
    size_t rid_len = n >= 2 ? zmq_msg_size(&f[1]) : 0;
    const char *uid = strcmp(status, "200") == 0 ? key : "";
    if (zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, rid, rid_len, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, status, 3, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, text, strlen(text), ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, uid, strlen(uid), ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, "", 0, 0) < 0)
        CMN_WARN("cannot answer a ZAP request: %s", zmq_strerror(errno));
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void
s_zap_on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cmn_zsock_t *s = arg;
    for (int i = 0; i < CMN_ZSOCK_BATCH; i++) {
        int events = 0;
        size_t sz = sizeof(events);
        if (zmq_getsockopt(s->zap, ZMQ_EVENTS, &events, &sz) < 0 ||
            !(events & ZMQ_POLLIN))
            return;
        s_zap_handle(s);
    }
    event_active(s->zap_ev, EV_READ, 0);
}

static int
s_zap_start(cmn_zsock_t *s, struct event_base *base, const cmn_zsock_opts_t *o)
{
    pthread_mutex_lock(&s_ctx_lock);
    bool taken = s_zap_taken;
    s_zap_taken = true;
    pthread_mutex_unlock(&s_ctx_lock);
    if (taken)
        return CMN_ERR(CMN_ERR_EXISTS, "another authenticating CURVE ROUTER "
                       "exists in this process");
    s->auth = o->curve_auth;
    s->auth_opaque = o->curve_auth_opaque;
    s->zap = zmq_socket(cmn_zmq_context(), ZMQ_REP);
    if (!s->zap) {
        pthread_mutex_lock(&s_ctx_lock);
        s_zap_taken = false;
        pthread_mutex_unlock(&s_ctx_lock);
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot create the ZAP socket: %s",
                       zmq_strerror(errno));
    }
    int zero = 0;
    zmq_setsockopt(s->zap, ZMQ_LINGER, &zero, sizeof(zero));
    /* A previous handler's inproc name is released only when libzmq's
     * reaper thread has closed it: retry briefly. */
    int rc;
    for (int i = 0; (rc = zmq_bind(s->zap, S_ZAP_ENDPOINT)) < 0 && errno == EADDRINUSE &&
                    i < 100; i++)
        nanosleep(&(struct timespec){ 0, 2 * 1000 * 1000 }, NULL);
    if (rc < 0)
        return CMN_ERR(CMN_ERR_EXISTS, "cannot bind the ZAP handler: %s",
                       zmq_strerror(errno));
    int fd = -1;
    size_t sz = sizeof(fd);
    if (zmq_getsockopt(s->zap, ZMQ_FD, &fd, &sz) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot get the ZAP socket's fd");
    s->zap_ev = event_new(base, fd, EV_READ | EV_PERSIST, s_zap_on_event, s);
    if (!s->zap_ev || event_add(s->zap_ev, NULL) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot watch the ZAP socket");
    return S_SETOPT_STR(s, ZMQ_ZAP_DOMAIN, S_ZAP_DOMAIN);
}

static int
s_setup_curve(cmn_zsock_t *s, struct event_base *base, const cmn_zsock_opts_t *o)
{
    if (!o->curve_secret_key && !o->curve_public_key && !o->curve_server_key) {
        if (o->curve_auth)
            return CMN_ERR(CMN_ERR_INVALID, "curve_auth without curve_secret_key");
        return 0;
    }
    if (!zmq_has("curve"))
        return CMN_ERR(CMN_ERR_UNSUPPORTED, "this libzmq has no CURVE support");
    if (s_key_check(o->curve_secret_key, "curve_secret_key") < 0)
        return -1;
    if (s->type == ZMQ_ROUTER) {
        if (o->curve_auth && s_zap_start(s, base, o) < 0)
            return -1;
        if (S_SETOPT(s, ZMQ_CURVE_SERVER, 1) < 0 ||
            S_SETOPT_STR(s, ZMQ_CURVE_SECRETKEY, o->curve_secret_key) < 0)
            return -1;
        return 0;
    }
    if (s_key_check(o->curve_public_key, "curve_public_key") < 0 ||
        s_key_check(o->curve_server_key, "curve_server_key") < 0)
        return -1;
    if (S_SETOPT_STR(s, ZMQ_CURVE_SERVERKEY, o->curve_server_key) < 0 ||
        S_SETOPT_STR(s, ZMQ_CURVE_PUBLICKEY, o->curve_public_key) < 0 ||
        S_SETOPT_STR(s, ZMQ_CURVE_SECRETKEY, o->curve_secret_key) < 0)
        return -1;
    return 0;
}

const char *
cmn_zsock_peer_key(cmn_zsock_t *s)
{
    return s ? s->peer_key : NULL;
}



static cmn_zsock_t *
s_new(struct event_base *base, int type, const cmn_zsock_opts_t *opts,
      cmn_zsock_recv_cb cb, void *opaque)
{
    cmn_zsock_opts_t o = { 0 };
    if (opts)
        o = *opts;
    if (o.max_msg_bytes == 0)
        o.max_msg_bytes = 4u * 1024 * 1024;
    if (o.sndhwm <= 0)
        o.sndhwm = 10000;
    if (o.rcvhwm <= 0)
        o.rcvhwm = 10000;
    if (o.heartbeat_ivl_ms <= 0)
        o.heartbeat_ivl_ms = 2000;
    if (o.heartbeat_timeout_ms <= 0)
        o.heartbeat_timeout_ms = 3 * o.heartbeat_ivl_ms;
    if (o.reconnect_ivl_ms <= 0)
        o.reconnect_ivl_ms = 200;
    if (o.reconnect_ivl_max_ms <= 0)
        o.reconnect_ivl_max_ms = 5000;
    if (o.reconnect_ivl_max_ms < o.reconnect_ivl_ms)
        o.reconnect_ivl_max_ms = o.reconnect_ivl_ms;

    if (!base) {
        CMN_ERR(CMN_ERR_INTERNAL, "no event base for the ZeroMQ socket");
        return NULL;
    }
    void *ctx = cmn_zmq_context();
    if (!ctx)
        return NULL;
    cmn_zsock_t *s = calloc(1, sizeof(*s));
    if (!s) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->type = type;
    s->cb = cb;
    s->opaque = opaque;
    s->max_msg = o.max_msg_bytes;
    s->zs = zmq_socket(ctx, type);
    if (!s->zs) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot create a ZeroMQ socket: %s",
                zmq_strerror(errno));
        goto err;
    }
    int64_t maxsz = (int64_t)o.max_msg_bytes;
    if (zmq_setsockopt(s->zs, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz)) < 0) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot set ZMQ_MAXMSGSIZE: %s", zmq_strerror(errno));
        goto err;
    }
    /* ZMQ_HEARTBEAT_TTL has a resolution of 100 ms and a maximum of
     * 6553599 ms. */
    int ttl = o.heartbeat_timeout_ms > 6553599 ? 6553599 : o.heartbeat_timeout_ms;
    if (S_SETOPT(s, ZMQ_LINGER, 0) < 0 ||
        S_SETOPT(s, ZMQ_SNDHWM, o.sndhwm) < 0 ||
        S_SETOPT(s, ZMQ_RCVHWM, o.rcvhwm) < 0 ||
        S_SETOPT(s, ZMQ_HEARTBEAT_IVL, o.heartbeat_ivl_ms) < 0 ||
        S_SETOPT(s, ZMQ_HEARTBEAT_TIMEOUT, o.heartbeat_timeout_ms) < 0 ||
        S_SETOPT(s, ZMQ_HEARTBEAT_TTL, ttl) < 0)
        goto err;
    if (type == ZMQ_ROUTER) {
        /* MANDATORY: a send to an unknown peer fails (EHOSTUNREACH) rather
         * than vanishing. HANDOVER: an agent that reconnects with the same
         * identity before its old connection timed out takes the identity
         * over instead of being ignored. */
        if (S_SETOPT(s, ZMQ_ROUTER_MANDATORY, 1) < 0 ||
            S_SETOPT(s, ZMQ_ROUTER_HANDOVER, 1) < 0)
            goto err;
    } else {
        if (S_SETOPT(s, ZMQ_RECONNECT_IVL, o.reconnect_ivl_ms) < 0 ||
            S_SETOPT(s, ZMQ_RECONNECT_IVL_MAX, o.reconnect_ivl_max_ms) < 0 ||
            S_SETOPT(s, ZMQ_IMMEDIATE, 1) < 0)
            goto err;
    }
    if (s_setup_curve(s, base, &o) < 0)
        goto err;
    return s;
err:
    s_free(s);
    return NULL;
}

static int
s_attach(cmn_zsock_t *s, struct event_base *base)
{
    int fd = -1;
    size_t sz = sizeof(fd);
    if (zmq_getsockopt(s->zs, ZMQ_FD, &fd, &sz) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot get ZMQ_FD: %s", zmq_strerror(errno));
    s->ev = event_new(base, fd, EV_READ | EV_PERSIST, s_on_event, s);
    if (!s->ev || event_add(s->ev, NULL) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot watch the ZeroMQ socket");
    /* Messages may already be queued (the FD edge is gone): look once. */
    event_active(s->ev, EV_READ, 0);
    return 0;
}

cmn_zsock_t *
cmn_zsock_new_router(struct event_base *base, const char *endpoint,
                     const cmn_zsock_opts_t *opts, cmn_zsock_recv_cb cb,
                     void *opaque)
{
    if (!endpoint || !*endpoint) {
        CMN_ERR(CMN_ERR_INVALID, "no endpoint to bind");
        return NULL;
    }
    cmn_zsock_t *s = s_new(base, ZMQ_ROUTER, opts, cb, opaque);
    if (!s)
        return NULL;
    if (zmq_bind(s->zs, endpoint) < 0) {
        int e = errno;
        CMN_ERR(e == EADDRINUSE ? CMN_ERR_UNAVAILABLE : CMN_ERR_INVALID,
                "cannot bind '%s': %s", endpoint, zmq_strerror(e));
        goto err;
    }
    char last[1024];
    size_t sz = sizeof(last);
    if (zmq_getsockopt(s->zs, ZMQ_LAST_ENDPOINT, last, &sz) < 0 || sz == 0) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot read the bound endpoint of '%s'", endpoint);
        goto err;
    }
    last[sizeof(last) - 1] = '\0';
    s->endpoint = strdup(last);
    if (!s->endpoint) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto err;
    }
    if (s_attach(s, base) < 0)
        goto err;
    CMN_INFO("router bound at %s", s->endpoint);
    return s;
err:
    s_free(s);
    return NULL;
}

cmn_zsock_t *
cmn_zsock_new_dealer(struct event_base *base, const char *endpoint,
                     const char *identity, const cmn_zsock_opts_t *opts,
                     cmn_zsock_recv_cb cb, void *opaque)
{
    if (!endpoint || !*endpoint) {
        CMN_ERR(CMN_ERR_INVALID, "no endpoint to connect to");
        return NULL;
    }
    size_t idlen = identity ? strlen(identity) : 0;
    if (identity && (idlen == 0 || idlen > 255)) {
        CMN_ERR(CMN_ERR_INVALID, "routing identity must be 1..255 bytes, got %zu",
                idlen);
        return NULL;
    }
    cmn_zsock_t *s = s_new(base, ZMQ_DEALER, opts, cb, opaque);
    if (!s)
        return NULL;
    if (identity && zmq_setsockopt(s->zs, ZMQ_ROUTING_ID, identity, idlen) < 0) {
        CMN_ERR(CMN_ERR_INVALID, "cannot set routing identity '%s': %s", identity,
                zmq_strerror(errno));
        goto err;
    }
    if (zmq_connect(s->zs, endpoint) < 0) {
        CMN_ERR(CMN_ERR_INVALID, "cannot connect to '%s': %s", endpoint,
                zmq_strerror(errno));
        goto err;
    }
    s->endpoint = strdup(endpoint);
    if (!s->endpoint) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto err;
    }
    if (s_attach(s, base) < 0)
        goto err;
    CMN_INFO("dealer connecting to %s", s->endpoint);
    return s;
err:
    s_free(s);
    return NULL;
}

/* A routing identity for messages: 'text' when printable, else hex (the
 * ids a ROUTER picks itself start with a zero byte). */
static const char *
s_peer_name(const uint8_t *peer, size_t len, char *buf, size_t size)
{
    bool text = len > 0;
    for (size_t i = 0; i < len && text; i++)
        text = peer[i] >= 0x20 && peer[i] < 0x7f;
    if (text) {
        snprintf(buf, size, "'%.*s'", (int)len, (const char *)peer);
        return buf;
    }
    size_t n = snprintf(buf, size, "0x");
    for (size_t i = 0; i < len && n + 3 <= size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%02x", peer[i]);
    return buf;
}

int
cmn_zsock_send(cmn_zsock_t *s, const uint8_t *peer, size_t peer_len,
               const void *data, size_t len)
{
    if (!s || s->dead)
        return CMN_ERR(CMN_ERR_INTERNAL, "send on a closed socket");
    if ((s->type == ZMQ_ROUTER) != (peer != NULL) ||
        (peer && (peer_len == 0 || peer_len > 255)))
        return CMN_ERR(CMN_ERR_INTERNAL, "send: a ROUTER needs a peer identity, "
                       "a DEALER none");
    if (len > s->max_msg) {
        s->stats.send_failures++;
        return CMN_ERR(CMN_ERR_TOO_BIG, "message of %zu bytes exceeds the limit %zu",
                       len, s->max_msg);
    }
    int rc = 0;
    char pname[2 * 255 + 8];
    if (peer && zmq_send(s->zs, peer, peer_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc == 0 && zmq_send(s->zs, data, len, ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc < 0) {
        int e = errno;
        s->stats.send_failures++;
        if (e == EHOSTUNREACH)
            CMN_ERR(CMN_ERR_UNAVAILABLE, "peer %s is not connected",
                    s_peer_name(peer, peer_len, pname, sizeof(pname)));
        else if (e == EAGAIN)
            CMN_ERR(CMN_ERR_UNAVAILABLE, "%s: %s", s->endpoint,
                    peer ? "queue to peer is full" :
                           "not connected or queue full");
        else
            CMN_ERR(CMN_ERR_IO, "send on %s failed: %s", s->endpoint, zmq_strerror(e));
    } else {
        s->stats.sent++;
    }
    /* A send can consume the FD's edge (libzmq processes commands, maybe
     * incoming ones): if input is waiting, make the loop drain it. Not
     * drained here so that no receive callback runs inside the caller's
     * send (it may not have registered its reply handler yet). */
    if (!s->busy && s_has_pollin(s))
        event_active(s->ev, EV_READ, 0);
    return rc;
}

int
cmn_zsock_rekey(cmn_zsock_t *s, const char *secret_key)
{
    if (!s || s->dead || s->type != ZMQ_ROUTER || !s->endpoint)
        return CMN_ERR(CMN_ERR_INVALID, "rekey: only a bound ROUTER can "
                       "change its CURVE key");
    if (s_key_check(secret_key, "curve_secret_key") < 0)
        return -1;
    if (!zmq_has("curve"))
        return CMN_ERR(CMN_ERR_UNSUPPORTED, "this libzmq has no CURVE support");
    /* Options are copied into a listener when it is bound: the new key
     * takes effect for the listener made below. */
    if (S_SETOPT(s, ZMQ_CURVE_SERVER, 1) < 0 ||
        S_SETOPT_STR(s, ZMQ_CURVE_SECRETKEY, secret_key) < 0)
        return -1;
    /* Unbinding ends the listener and the connections it accepted. */
    if (zmq_unbind(s->zs, s->endpoint) < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "rekey: cannot unbind '%s': %s",
                       s->endpoint, zmq_strerror(errno));
    /* libzmq's I/O thread closes the old listening socket asynchronously. */
    int rc, e = 0;
    for (int i = 0; i < 100; i++) {
        rc = zmq_bind(s->zs, s->endpoint);
        e = errno;
        if (rc == 0 || e != EADDRINUSE)
            break;
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
    if (rc < 0)
        return CMN_ERR(e == EADDRINUSE ? CMN_ERR_UNAVAILABLE : CMN_ERR_INVALID,
                       "rekey: cannot bind '%s' again: %s", s->endpoint,
                       zmq_strerror(e));
    CMN_INFO("router at %s serves a new CURVE key", s->endpoint);
    return 0;
}

const char *
cmn_zsock_endpoint(cmn_zsock_t *s)
{
    return s ? s->endpoint : NULL;
}

void
cmn_zsock_get_stats(cmn_zsock_t *s, cmn_zsock_stats_t *out)
{
    if (!out)
        return;
    if (!s) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = s->stats;
}

void
cmn_zsock_destroy(cmn_zsock_t **p)
{
    if (!p || !*p)
        return;
    cmn_zsock_t *s = *p;
    *p = NULL;
    if (s->busy) {
        /* Called from this socket's own receive callback: stop watching and
         * let s_drain() free it when the callback returns. */
        s->dead = true;
        if (s->ev)
            event_del(s->ev);
        return;
    }
    s_free(s);
}
