#include "cmn_zmq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
};

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
        if (nparts < 2)
            part[nparts++] = m;
        else
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
        }
        s->cb(s, peer, peer_len, zmq_msg_data(payload), len, s->opaque);
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
    if (peer && zmq_send(s->zs, peer, peer_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc == 0 && zmq_send(s->zs, data, len, ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc < 0) {
        int e = errno;
        s->stats.send_failures++;
        if (e == EHOSTUNREACH)
            CMN_ERR(CMN_ERR_UNAVAILABLE, "peer '%.*s' is not connected",
                    (int)peer_len, peer ? (const char *)peer : "");
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
