/* Agent keys: the key cache, the ZAP decision, the per-message gate and
 * enrollment by hello (pending, tokens, pre-registered keys, rotation).
 * The admin actions are in eng_enroll_admin.c. See eng_enroll.h. */
#include "eng_enroll.h"
#include "eng_enroll_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <sodium.h>

#include "cmn_log.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_agents_priv.h"
#include "eng_enginekey.h"

CMN_LOG_INIT("eng.enroll");

#define RATE_REPORT_MS 60000

static const char *const s_mode_names[] = { "approve", "closed", "auto" };

int eng_enroll_mode_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, s_mode_names[i]) == 0)
            return i;
    return -1;
}

static size_t s_hash(const char *s)
{
    return cmn_str_hash(s) % KEY_BUCKETS;
}

s_key_t *eng_enroll_key_find(eng_enroll_t *en, const char *key)
{
    for (s_key_t *e = en->keys[s_hash(key)]; e; e = e->next)
        if (strcmp(e->k.public_key, key) == 0)
            return e;
    return NULL;
}

/* Cache a key row (insert or overwrite). */
static s_key_t *s_cache(eng_enroll_t *en, const eng_hostkey_t *k)
{
    s_key_t *e = eng_enroll_key_find(en, k->public_key);
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e) {
            CMN_ERR(CMN_ERR_NOMEM, "out of memory");
            return NULL;
        }
        size_t b = s_hash(k->public_key);
        e->next = en->keys[b];
        en->keys[b] = e;
    } else if (e->k.state == ENG_KEY_PENDING && en->npending > 0) {
        en->npending--;
    }
    e->k = *k;
    if (k->state == ENG_KEY_PENDING)
        en->npending++;
    return e;
}

/* Store and cache. */
int eng_enroll_key_put(eng_enroll_t *en, const eng_hostkey_t *k)
{
    if (eng_store_hostkey_put(en->ctx->store, k) < 0)
        return -1;
    return s_cache(en, k) ? 0 : -1;
}

static bool s_expired(const eng_hostkey_t *k)
{
    return k->expires_ms != 0 && (int64_t)cmn_time_ms() >= k->expires_ms;
}

/* The usable (approved, not expired) key of host_id other than `except`. */
static s_key_t *s_host_approved(eng_enroll_t *en, const char *host_id,
                                const char *except)
{
    for (size_t b = 0; b < KEY_BUCKETS; b++)
        for (s_key_t *e = en->keys[b]; e; e = e->next)
            if (e->k.state == ENG_KEY_APPROVED && !s_expired(&e->k) &&
                strcmp(e->k.host_id, host_id) == 0 &&
                (!except || strcmp(e->k.public_key, except) != 0))
                return e;
    return NULL;
}

static s_route_t *s_route_find(eng_enroll_t *en, const char *host)
{
    for (s_route_t *r = en->routes[s_hash(host)]; r; r = r->next)
        if (strcmp(r->host, host) == 0)
            return r;
    return NULL;
}

static void s_route_set(eng_enroll_t *en, const char *host,
                        const uint8_t *route, size_t len)
{
    if (!route || len == 0 || len > MAX_ROUTE)
        return;
    s_route_t *r = s_route_find(en, host);
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return;
        snprintf(r->host, sizeof(r->host), "%s", host);
        size_t b = s_hash(host);
        r->next = en->routes[b];
        en->routes[b] = r;
    }
    if (r->len != len || memcmp(r->route, route, len) != 0) {
        memcpy(r->route, route, len);
        r->len = len;
        CMN_DEBUG("host %s speaks from a new connection", host);
    }
}

void eng_enroll_route_forget(eng_enroll_t *en, const char *host)
{
    s_route_t *r = s_route_find(en, host);
    if (r)
        r->len = 0;
}

bool eng_enroll_route(eng_enroll_t *en, const char *host_id,
                      const uint8_t **route, size_t *len)
{
    s_route_t *r = en && host_id ? s_route_find(en, host_id) : NULL;
    if (!r || r->len == 0)
        return false;
    *route = r->route;
    *len = r->len;
    return true;
}

/* ---- rate of new pending hosts -------------------------------------------- */

static int64_t s_now(const eng_enroll_t *en)
{
    return en->clock ? en->clock() : (int64_t)cmn_mono_ms();
}

void eng_enroll_set_clock(eng_enroll_t *en, int64_t (*now_ms)(void))
{
    en->clock = now_ms;
    eng_rate_init(&en->rate, en->ctx->conf.agents_pending_rate, s_now(en));
}

uint64_t eng_enroll_rate_refused(const eng_enroll_t *en)
{
    return en->rate_refused;
}

/* The warning event about hellos refused since the last one. */
static void s_rate_report(eng_enroll_t *en)
{
    if (en->rate_unreported == 0)
        return;
    eng_event(en->ctx, ENG_SEV_WARNING, ENG_EV_HOST_KEY_REFUSED, NULL, NULL,
              NULL, "Refused %llu %shello(s) from new hosts (latest: %s): "
              "more than %lld new hosts per minute (agents.pending_rate); "
              "they may retry", (unsigned long long)en->rate_unreported,
              en->rate_reported ? "more " : "", en->rate_last,
              (long long)en->rate.per_min);
    en->rate_unreported = 0;
    en->rate_reported = true;
    en->rate_report_ms = s_now(en);
}

static void s_rate_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_rate_report(arg);
}

/* Rate limit for drop warnings: the 1st, 2nd, 4th, 8th, ... */
static bool s_warn_now(eng_enroll_t *en)
{
    en->dropped++;
    return (en->dropped & (en->dropped - 1)) == 0;
}

/* A hello over agents.pending_rate: counted, logged (rate-limited) and
 * reported in an event now or, if one was made less than a minute ago,
 * when that minute is over. */
static void s_rate_refuse(eng_enroll_t *en, const char *host_id,
                          const char *fp)
{
    en->rate_refused++;
    en->rate_unreported++;
    snprintf(en->rate_last, sizeof(en->rate_last), "host %s, key %s",
             host_id, fp);
    if (s_warn_now(en))
        CMN_WARN("hello as host %s (key %s) refused: more than %lld new "
                 "hosts per minute (agents.pending_rate); %llu refused so "
                 "far (%llu frames dropped or refused)", host_id, fp,
                 (long long)en->rate.per_min,
                 (unsigned long long)en->rate_refused,
                 (unsigned long long)en->dropped);
    int64_t now = s_now(en);
    int64_t since = now - en->rate_report_ms;
    if (!en->rate_reported || since >= RATE_REPORT_MS || since < 0) {
        s_rate_report(en);
        return;
    }
    if (!en->rate_timer && en->ctx->base)
        en->rate_timer = evtimer_new(en->ctx->base, s_rate_timer_cb, en);
    if (en->rate_timer && !evtimer_pending(en->rate_timer, NULL)) {
        int64_t wait = RATE_REPORT_MS - since;
        struct timeval tv = { (time_t)(wait / 1000),
                              (suseconds_t)(wait % 1000) * 1000 };
        evtimer_add(en->rate_timer, &tv);
    }
}

/* ---- life ---------------------------------------------------------------- */

eng_enroll_t *eng_enroll_new(eng_ctx_t *ctx)
{
    eng_enroll_t *en = calloc(1, sizeof(*en));
    if (!en) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    en->ctx = ctx;
    en->next_id = UINT64_C(1) << 62;
    int m = eng_enroll_mode_parse(ctx->conf.agents_enrollment);
    en->mode = m < 0 ? ENG_ENROLL_APPROVE : (eng_enroll_mode_t)m;
    eng_rate_init(&en->rate, ctx->conf.agents_pending_rate, s_now(en));
    const char *dir = ctx->conf.agents_key_dir;
    char sp[1024], pp[1024];
    snprintf(sp, sizeof(sp), "%s/engine.key", dir);
    snprintf(pp, sizeof(pp), "%s/engine.pub", dir);
    bool created = false;
    if (cmn_key_ensure_pair(sp, pp, "herd-engine", en->pub, en->sec,
                            &created) < 0)
        goto fail;
    char fp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(en->pub, fp);
    CMN_INFO("engine CURVE key %s (%s)%s", pp, fp,
             created ? ", made now" : "");
    eng_hostkey_t *keys = NULL;
    size_t n = 0;
    eng_enroll_token_prune(ctx->store, (int64_t)cmn_time_ms());
    if (eng_store_hostkey_list(ctx->store, NULL, &keys, &n) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        s_cache(en, &keys[i]);
    free(keys);
    CMN_INFO("%zu agent keys known (%zu pending); enrollment: %s", n,
             en->npending, s_mode_names[en->mode]);
    if (en->mode == ENG_ENROLL_APPROVE && en->rate.per_min > 0)
        CMN_DEBUG("new pending hosts: at most %lld per minute",
                  (long long)en->rate.per_min);
    return en;
fail:
    eng_enroll_destroy(&en);
    return NULL;
}

void eng_enroll_destroy(eng_enroll_t **p)
{
    if (!p || !*p)
        return;
    eng_enroll_t *en = *p;
    *p = NULL;
    if (en->rate_timer)
        event_free(en->rate_timer);
    for (size_t b = 0; b < KEY_BUCKETS; b++) {
        for (s_key_t *e = en->keys[b], *n; e; e = n) {
            n = e->next;
            free(e);
        }
        for (s_route_t *r = en->routes[b], *n; r; r = n) {
            n = r->next;
            free(r);
        }
    }
    sodium_memzero(en->sec, sizeof(en->sec));
    free(en);
}

const char *eng_enroll_public_key(const eng_enroll_t *en)
{
    return en->pub;
}

const char *eng_enroll_secret_key(const eng_enroll_t *en)
{
    return en->sec;
}

void eng_enroll_set_engine_keys(eng_enroll_t *en, const char *pub,
                                const char *sec)
{
    snprintf(en->pub, sizeof(en->pub), "%s", pub);
    snprintf(en->sec, sizeof(en->sec), "%s", sec);
}

/* ---- ZAP ----------------------------------------------------------------- */

bool eng_enroll_zap_cb(const char *client_key, const char *address,
                       void *opaque)
{
    eng_enroll_t *en = opaque;
    s_key_t *e = client_key ? eng_enroll_key_find(en, client_key) : NULL;
    if (!e) {
        if (en->mode == ENG_ENROLL_CLOSED) {
            CMN_WARN("refused a connection from %s: unknown key (enrollment "
                     "is closed)", address ? address : "?");
            return false;
        }
        return true;
    }
    if (e->k.state == ENG_KEY_REVOKED || s_expired(&e->k)) {
        CMN_WARN("refused a connection from %s: key %s of host %s is %s",
                 address ? address : "?", e->k.fingerprint, e->k.host_id,
                 e->k.state == ENG_KEY_REVOKED ? "revoked" : "expired");
        return false;
    }
    return true;
}

/* ---- the gate ------------------------------------------------------------ */

static uint8_t *s_reply(eng_enroll_t *en, Herd__Envelope *env, uint64_t req,
                        cmn_code_t code, const char *msg, size_t *len)
{
    Herd__Result res = HERD__RESULT__INIT;
    Herd__Envelope body = *env;
    cmn_rpc_init_reply(env, &res, en->next_id++, req, code, msg);
    env->body_case = body.body_case;
    env->pong = body.pong;
    return cmn_rpc_encode(env, len);
}

static eng_gate_t s_deny(eng_enroll_t *en, uint64_t req, cmn_code_t code,
                         const char *msg, uint8_t **reply, size_t *len)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    *reply = s_reply(en, &env, req, code, msg, len);
    return *reply ? ENG_GATE_REPLY : ENG_GATE_DROP;
}

/* Pong with need_hello: keeps a pending agent saying hello, so that it is
 * taken in soon after approval. */
static eng_gate_t s_pong(eng_enroll_t *en, const Herd__Envelope *req,
                         uint8_t **reply, size_t *len)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Pong pong = HERD__PONG__INIT;
    pong.sent_us = req->ping ? req->ping->sent_us : 0;
    pong.engine_id = en->ctx->engine_id;
    pong.need_hello = true;
    env.body_case = HERD__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    *reply = s_reply(en, &env, req->id, CMN_OK, "", len);
    return *reply ? ENG_GATE_REPLY : ENG_GATE_DROP;
}

/* The host record of a host not yet approved (or named at
 * pre-registration): made if missing, status `st`. */
static int s_host_record(eng_enroll_t *en, const char *host_id,
                         const Herd__Hello *h, const char *name,
                         eng_host_status_t st)
{
    eng_store_t *store = en->ctx->store;
    eng_host_t rec = {0};
    bool existed = eng_store_host_get(store, host_id, &rec) == 0;
    cmn_err_reset();
    int64_t now = (int64_t)cmn_time_ms();
    if (!existed) {
        eng_cluster_t cl;
        if (eng_store_cluster_get_by_name(store, "Default", &cl) < 0)
            return -1;
        snprintf(rec.id, sizeof(rec.id), "%s", host_id);
        snprintf(rec.cluster_id, sizeof(rec.cluster_id), "%s", cl.id);
        const char *want = name && *name ? name : h->hostname;
        eng_host_t other = {0};
        snprintf(rec.name, sizeof(rec.name), "%s", want);
        if (eng_store_host_get_by_name(store, rec.name, &other) == 0)
            snprintf(rec.name, sizeof(rec.name), "%.200s-%s", want, host_id);
        eng_host_clear(&other);
        cmn_err_reset();
        rec.created_ms = now;
        snprintf(rec.address, sizeof(rec.address), "%s", h->hostname);
    }
    if (!existed || rec.status != st)
        rec.status_time_ms = now;
    rec.status = st;
    rec.last_seen_ms = now;
    if (!rec.caps)
        rec.caps = eng_agt_hello_caps(h);
    int rc = eng_store_host_put(store, &rec);
    eng_host_clear(&rec);
    if (rc == 0) {
        eng_hostent_t *e = en->ctx->agents
                               ? eng_agents_add(en->ctx->agents, host_id)
                               : NULL;
        if (e)
            e->status = st;
    }
    return rc;
}

/* A host that has an approved key presents a new one with a valid token:
 * the new key is approved, the old one keeps working for the overlap
 * window (so a second agent process or a slow restart is not cut off),
 * then the gate and the ZAP handler refuse it. */
static eng_gate_t s_rotate(eng_enroll_t *en, s_key_t *cur, eng_hostkey_t *k,
                           const char *host_id, char host[ENG_ID_LEN])
{
    eng_hostkey_t old = cur->k;
    k->state = ENG_KEY_APPROVED;
    k->approved_ms = k->created_ms;
    k->name[0] = '\0';
    snprintf(k->rotated_from, sizeof(k->rotated_from), "%s", old.public_key);
    old.expires_ms = k->created_ms + ENG_ENROLL_OVERLAP_MS;
    if (eng_enroll_key_put(en, k) < 0 || eng_enroll_key_put(en, &old) < 0) {
        CMN_ERROR("cannot rotate the key of host %s: %s", host_id,
                  cmn_err_msg());
        return ENG_GATE_DROP;
    }
    eng_event(en->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_KEY_ROTATED, host_id, NULL,
              NULL, "Host %s: key rotated from %s to %s (enrollment token); "
              "the old key works for %d more minutes", host_id,
              old.fingerprint, k->fingerprint,
              (int)(ENG_ENROLL_OVERLAP_MS / 60000));
    snprintf(host, ENG_ID_LEN, "%s", host_id);
    return ENG_GATE_PASS;
}

/* Hello with a key the engine has never seen. */
static eng_gate_t s_hello_unknown(eng_enroll_t *en, const char *key,
                                  const Herd__Envelope *env,
                                  char host[ENG_ID_LEN], uint8_t **reply,
                                  size_t *len)
{
    const Herd__Hello *h = env->hello;
    char fp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(key, fp);
    if (!h || !h->host_id || eng_agt_hello_check(h, h->host_id) < 0) {
        CMN_WARN("hello from unknown key %s refused: %s", fp, cmn_err_msg());
        return s_deny(en, env->id, CMN_ERR_PROTOCOL, cmn_err_msg(), reply,
                      len);
    }
    char msg[256];
    s_key_t *cur = s_host_approved(en, h->host_id, key);
    const char *token = h->enrollment_token;
    if (cur && !(token && *token)) {
        CMN_WARN("hello as host %s refused: that host id is enrolled with "
                 "another key (this one: %s)", h->host_id, fp);
        snprintf(msg, sizeof(msg), "host id %s is enrolled with another key",
                 h->host_id);
        return s_deny(en, env->id, CMN_ERR_DENIED, msg, reply, len);
    }
    eng_hostkey_t k = {0};
    snprintf(k.public_key, sizeof(k.public_key), "%s", key);
    snprintf(k.fingerprint, sizeof(k.fingerprint), "%s", fp);
    snprintf(k.host_id, sizeof(k.host_id), "%s", h->host_id);
    k.created_ms = (int64_t)cmn_time_ms();
    k.state = ENG_KEY_PENDING;
    const char *how = NULL;
    if (token && *token) {
        char hash[ENG_TOKEN_HASH_LEN];
        eng_enroll_token_t t;
        eng_enroll_token_hash(token, hash);
        if (strlen(token) > 256 ||
            eng_store_enroll_token_take(en->ctx->store, hash, k.created_ms,
                                        &t) < 0) {
            /* The store says which: not found, already used, expired. */
            snprintf(msg, sizeof(msg), "%s", strlen(token) > 256
                     ? "enrollment token too long" : cmn_err_msg());
            cmn_err_reset();
            CMN_WARN("hello as host %s (key %s) refused: %s", h->host_id, fp,
                     msg);
            return s_deny(en, env->id, CMN_ERR_DENIED, msg, reply, len);
        }
        snprintf(k.name, sizeof(k.name), "%s", t.name);
        how = "an enrollment token";
        if (cur)
            return s_rotate(en, cur, &k, h->host_id, host);
    } else if (en->mode == ENG_ENROLL_AUTO) {
        how = "agents.enrollment: auto";
    } else if (en->mode == ENG_ENROLL_CLOSED) {
        return s_deny(en, env->id, CMN_ERR_DENIED, "unknown key and "
                      "enrollment is closed", reply, len);
    } else if (en->npending >= 1000) {
        if (s_warn_now(en))
            CMN_WARN("hello as host %s (key %s) refused: 1000 hosts pending "
                     "approval already (%llu dropped or refused)", h->host_id,
                     fp, (unsigned long long)en->dropped);
        return s_deny(en, env->id, CMN_ERR_UNAVAILABLE, "too many hosts "
                      "pending approval", reply, len);
    } else if (!eng_rate_take(&en->rate, s_now(en))) {
        s_rate_refuse(en, h->host_id, fp);
        return s_deny(en, env->id, CMN_ERR_UNAVAILABLE, "too many new hosts; "
                      "try again later", reply, len);
    }
    /* One pending key per host: a newer one (setup run again) replaces it;
     * the admin approves by the fingerprint shown. */
    for (size_t b = 0; b < KEY_BUCKETS; b++)
        for (s_key_t *e = en->keys[b]; e; e = e->next)
            if (e->k.state == ENG_KEY_PENDING &&
                strcmp(e->k.host_id, h->host_id) == 0) {
                eng_hostkey_t old = e->k;
                old.state = ENG_KEY_REVOKED;
                eng_enroll_key_put(en, &old);
            }
    if (how) {
        k.state = ENG_KEY_APPROVED;
        k.approved_ms = k.created_ms;
        if (eng_enroll_key_put(en, &k) < 0 ||
            (k.name[0] && s_host_record(en, h->host_id, h, k.name,
                                        ENG_HOST_CONNECTING) < 0)) {
            CMN_ERROR("cannot enroll host %s: %s", h->host_id, cmn_err_msg());
            return s_deny(en, env->id, CMN_ERR_DB, "cannot store the key",
                          reply, len);
        }
        eng_event(en->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_APPROVED, h->host_id,
                  NULL, NULL, "Host %s (%s) enrolled with key %s by %s",
                  h->hostname, h->host_id, fp, how);
        snprintf(host, ENG_ID_LEN, "%s", h->host_id);
        return ENG_GATE_PASS;
    }
    if (eng_enroll_key_put(en, &k) < 0 ||
        s_host_record(en, h->host_id, h, NULL,
                      ENG_HOST_PENDING_APPROVAL) < 0) {
        CMN_ERROR("cannot record pending host %s: %s", h->host_id,
                  cmn_err_msg());
        return s_deny(en, env->id, CMN_ERR_DB, "cannot store the key", reply,
                      len);
    }
    eng_event(en->ctx, ENG_SEV_WARNING, ENG_EV_HOST_PENDING, h->host_id, NULL,
              NULL, "Host %s (%s) asks to join with key %s: pending approval",
              h->hostname, h->host_id, fp);
    snprintf(msg, sizeof(msg), "host %s is pending approval (key %s)",
             h->host_id, fp);
    return s_deny(en, env->id, CMN_ERR_DENIED, msg, reply, len);
}

eng_gate_t eng_enroll_gate(eng_enroll_t *en, const char *key,
                           const uint8_t *route, size_t route_len,
                           const uint8_t *data, size_t len,
                           char host[ENG_ID_LEN], uint8_t **reply,
                           size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    host[0] = '\0';
    if (!key || !cmn_key_valid(key)) {
        if (s_warn_now(en))
            CMN_WARN("dropped a frame without a CURVE key (%llu dropped)",
                     (unsigned long long)en->dropped);
        return ENG_GATE_DROP;
    }
    s_key_t *e = eng_enroll_key_find(en, key);
    if (e && e->k.state == ENG_KEY_APPROVED && e->k.host_id[0] &&
        !s_expired(&e->k)) {
        /* The common case, without decoding: the key says who it is. A
         * hello naming another host id fails eng_agt_hello_check(). */
        snprintf(host, ENG_ID_LEN, "%s", e->k.host_id);
        s_route_set(en, host, route, route_len);
        return ENG_GATE_PASS;
    }
    if (e && (e->k.state == ENG_KEY_REVOKED || s_expired(&e->k))) {
        if (s_warn_now(en))
            CMN_WARN("dropped a frame from host %s: its key %s is revoked or "
                     "expired (%llu dropped)", e->k.host_id, e->k.fingerprint,
                     (unsigned long long)en->dropped);
        return ENG_GATE_DROP;
    }
    /* Unknown, pending, or approved but not yet bound to a host id: only
     * hello (and ping) are looked at. */
    cmn_err_reset();
    Herd__Envelope *env = cmn_rpc_decode(data, len, 0, NULL);
    if (!env)
        return ENG_GATE_DROP;
    eng_gate_t g = ENG_GATE_DROP;
    if (env->in_reply_to != 0) {
        g = ENG_GATE_DROP;
    } else if (!e && env->body_case == HERD__ENVELOPE__BODY_HELLO) {
        g = s_hello_unknown(en, key, env, host, reply, reply_len);
        if (g == ENG_GATE_PASS)
            s_route_set(en, host, route, route_len);
    } else if (e && e->k.state == ENG_KEY_PENDING &&
               env->body_case == HERD__ENVELOPE__BODY_HELLO) {
        char msg[256];
        snprintf(msg, sizeof(msg), "host %s is pending approval (key %s)",
                 e->k.host_id, e->k.fingerprint);
        g = s_deny(en, env->id, CMN_ERR_DENIED, msg, reply, reply_len);
    } else if (e && e->k.state == ENG_KEY_PENDING &&
               env->body_case == HERD__ENVELOPE__BODY_PING) {
        g = s_pong(en, env, reply, reply_len);
    } else if (e && e->k.state == ENG_KEY_APPROVED &&
               env->body_case == HERD__ENVELOPE__BODY_HELLO) {
        /* Pre-registered key: bound to the host id of its first hello. */
        const Herd__Hello *h = env->hello;
        if (!h || !h->host_id || eng_agt_hello_check(h, h->host_id) < 0) {
            g = s_deny(en, env->id, CMN_ERR_PROTOCOL, cmn_err_msg(), reply,
                       reply_len);
        } else if (s_host_approved(en, h->host_id, key)) {
            g = s_deny(en, env->id, CMN_ERR_DENIED, "that host id is "
                       "enrolled with another key", reply, reply_len);
        } else {
            eng_hostkey_t k = e->k;
            snprintf(k.host_id, sizeof(k.host_id), "%s", h->host_id);
            if (eng_enroll_key_put(en, &k) < 0 ||
                (k.name[0] && s_host_record(en, h->host_id, h, k.name,
                                            ENG_HOST_CONNECTING) < 0)) {
                g = s_deny(en, env->id, CMN_ERR_DB, "cannot store the key",
                           reply, reply_len);
            } else {
                snprintf(host, ENG_ID_LEN, "%s", h->host_id);
                s_route_set(en, host, route, route_len);
                g = ENG_GATE_PASS;
            }
        }
    } else if (env->body_case == HERD__ENVELOPE__BODY_PING) {
        g = s_pong(en, env, reply, reply_len);
    } else {
        if (s_warn_now(en))
            CMN_WARN("dropped %s from key %s: not enrolled (%llu dropped)",
                     cmn_rpc_body_name(env),
                     e ? e->k.fingerprint : "(unknown)",
                     (unsigned long long)en->dropped);
    }
    cmn_rpc_free(env);
    return g;
}
