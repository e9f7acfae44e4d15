/* The engine link's DEALER and the engine's CURVE key rotation (agent side).
 *
 * Pre-publication (EngineKey, switch_now false): the key is validated and
 * written to <engine_key_file>.next, then answered. Switch (switch_now
 * true): the key becomes engine_key_file, the reply goes out on the old
 * DEALER, and REKEY_DELAY_MS later the DEALER is made again with the new
 * server key and pings soon after (agt_link_probe), so that the engine
 * learns the new connection; the session, timers, waiting jobs and the
 * table of pending requests stay (requests in flight may time out). Key
 * files are written on the worker pool (fsync), one job at a time
 * (key_lock).
 *
 * Fallback for an agent that missed the switch: while a .next file exists
 * and nothing came from the engine for request_timeout on this DEALER, it
 * is made again with the other key, alternating every request_timeout.
 * The first frame on a DEALER made with the .next key shows the engine
 * holds that key: the file is promoted (renamed over engine_key_file). */
#include "agt_link_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agt_keys.h"
#include "agt_link_conv.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.link.key");

/* After the switch reply: time for the old DEALER to hand it to the
 * kernel (ZMQ_LINGER is 0: closing drops what is still queued). */
#define REKEY_DELAY_MS 200
#define PATH_LEN 4096

/* The fingerprint of `z85`, or "(none)" when it is not a key. */
static const char *
s_fp(const char *z85, char fp[CMN_KEY_FP_LEN])
{
    if (!z85 || !z85[0] || cmn_key_fingerprint(z85, fp) < 0) {
        cmn_err_reset();
        snprintf(fp, CMN_KEY_FP_LEN, "(none)");
    }
    return fp;
}

int
agt_link_key_init(agt_link_t *link)
{
    if (pthread_mutex_init(&link->key_lock, NULL) != 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot create the key file lock");
    return 0;
}

void
agt_link_key_fini(agt_link_t *link)
{
    if (link->rekey_timer)
        event_free(link->rekey_timer);
    link->rekey_timer = NULL;
    pthread_mutex_destroy(&link->key_lock);
}

/* ---- the DEALER -------------------------------------------------------- */

int
agt_link_dealer_open(agt_link_t *link, const char *server_key, bool is_next)
{
    const agt_conf_t *conf = link->conf;
    cmn_zsock_opts_t zo = { 0 };
    zo.max_msg_bytes = (size_t)conf->max_message_bytes;
    zo.heartbeat_ivl_ms = (int)conf->heartbeat_interval * 1000;
    /* CURVE: the engine knows us by our key and lets its ROUTER pick the
     * routing id, so no peer can take over ours; the handshake succeeds
     * only with the holder of the engine key's secret. Plain (curve:
     * false): the routing id is the host id. */
    agt_keys_t keys;
    memset(&keys, 0, sizeof(keys));
    char ekey[CMN_KEY_Z85_LEN + 1] = "";
    const char *ident = link->host_id;
    if (conf->curve) {
        if (server_key && !cmn_key_valid(server_key))
            return CMN_ERR(CMN_ERR_INVALID, "engine key: not a CURVE key");
        int rc = server_key ? agt_keys_load_pair(conf, &keys)
                            : agt_keys_load(conf, &keys);
        if (rc < 0)
            return -1;
        if (server_key) {
            snprintf(ekey, sizeof(ekey), "%s", server_key);
        } else {
            snprintf(ekey, sizeof(ekey), "%s", keys.engine_key);
            is_next = keys.engine_key_next;
        }
        zo.curve_public_key = keys.public_key;
        zo.curve_secret_key = keys.secret_key;
        zo.curve_server_key = ekey;
        ident = NULL;
    }
    cmn_zsock_t *sock = NULL;
    if (!link->hook)
        sock = cmn_zsock_new_dealer(link->base, conf->engine, ident, &zo,
                                    agt_link_on_frame, link);
    agt_keys_clear(&keys);
    if (!link->hook) {
        if (!sock)
            return -1;
        cmn_zsock_destroy(&link->sock);
        link->sock = sock;
    }
    memcpy(link->ekey, ekey, sizeof(ekey));
    link->ekey_next = conf->curve && is_next;
    link->dealer_ms = cmn_mono_ms();
    link->heard_ms = 0;
    return 0;
}

static void
s_on_rekey(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agt_link_t *link = arg;
    if (link->closing)
        return;
    char ofp[CMN_KEY_FP_LEN], nfp[CMN_KEY_FP_LEN];
    s_fp(link->ekey, ofp);
    s_fp(link->rekey_key, nfp);
    cmn_err_reset();
    if (agt_link_dealer_open(link, link->rekey_key, false) < 0) {
        /* The old DEALER stays; its key no longer opens the engine. */
        CMN_ERROR("cannot make the engine link with engine key %s: %s; "
                  "retrying in %llds", nfp, cmn_err_msg(),
                  (long long)link->conf->request_timeout);
        struct timeval tv = { .tv_sec = link->conf->request_timeout };
        evtimer_add(link->rekey_timer, &tv);
        return;
    }
    CMN_INFO("engine link made again with engine key %s (was %s)", nfp, ofp);
    agt_link_probe(link);
}

/* ---- key file jobs on the pool ------------------------------------------ */

typedef enum {
    EKEY_SAVE_NEXT,     /* pre-publication */
    EKEY_SWITCH,        /* switch_now */
    EKEY_PROMOTE,       /* a frame came on a DEALER using the .next key */
} ekey_job_kind_t;

typedef struct {
    agt_link_t *link;
    ekey_job_kind_t kind;
    agt_ekey_req_t r;
    int rc;
    cmn_code_t code;
    bool written;
    char msg[1100];
} ekey_job_t;

static void
s_ekey_work(void *arg)
{
    ekey_job_t *j = arg;
    const agt_conf_t *conf = j->link->conf;
    cmn_err_reset();
    pthread_mutex_lock(&j->link->key_lock);
    if (j->kind == EKEY_SAVE_NEXT)
        j->rc = agt_keys_save_next(conf, j->r.public_key, &j->written);
    else
        j->rc = agt_keys_promote(conf, j->r.public_key);
    pthread_mutex_unlock(&j->link->key_lock);
    if (j->rc < 0) {
        j->code = cmn_err_code() != CMN_OK ? cmn_err_code() : CMN_ERR_INTERNAL;
        snprintf(j->msg, sizeof(j->msg), "engine_key: %s", cmn_err_msg());
    }
}

static void
s_switch_done(agt_link_t *link, const ekey_job_t *j)
{
    char ofp[CMN_KEY_FP_LEN], nfp[CMN_KEY_FP_LEN];
    s_fp(link->ekey, ofp);
    s_fp(j->r.public_key, nfp);
    CMN_INFO("engine key switch: %s -> %s (%s holds the new key)", ofp, nfp,
             link->conf->engine_key_file);
    if (!link->hook && !link->sock)
        return;     /* not started: agt_link_start() reads the files */
    if (strcmp(link->ekey, j->r.public_key) == 0) {
        link->ekey_next = false;
        return;     /* the DEALER uses it already (fallback, or a repeat) */
    }
    memcpy(link->rekey_key, j->r.public_key, sizeof(link->rekey_key));
    if (!link->rekey_timer)
        link->rekey_timer = evtimer_new(link->base, s_on_rekey, link);
    struct timeval tv = { .tv_sec = 0, .tv_usec = REKEY_DELAY_MS * 1000 };
    if (!link->rekey_timer || evtimer_add(link->rekey_timer, &tv) < 0) {
        CMN_ERROR("cannot add a timer: making the engine link now");
        s_on_rekey(-1, 0, link);
    }
}

static void
s_promote_done(agt_link_t *link, const ekey_job_t *j)
{
    char nfp[CMN_KEY_FP_LEN];
    s_fp(j->r.public_key, nfp);
    link->promote_inflight = false;
    if (j->rc < 0) {
        if (link->promote_failures++ == 0)
            CMN_WARN("the engine answers with its next key %s, but it cannot "
                     "be made the current one: %s", nfp, j->msg);
        else
            CMN_DEBUG("promoting the engine key %s: %s", nfp, j->msg);
        return;
    }
    link->promote_failures = 0;
    if (strcmp(link->ekey, j->r.public_key) == 0)
        link->ekey_next = false;
    CMN_INFO("the engine answers with its next key %s: it is now the engine "
             "key (%s)", nfp, link->conf->engine_key_file);
}

static void
s_ekey_done(void *arg, bool cancelled)
{
    ekey_job_t *j = arg;
    agt_link_t *link = j->link;
    if (cancelled || link->closing) {
        free(j);
        return;
    }
    if (j->kind == EKEY_PROMOTE) {
        s_promote_done(link, j);
        free(j);
        return;
    }
    if (j->rc < 0) {
        agt_link_reply(link, j->r.id, j->code, j->msg);
        free(j);
        return;
    }
    /* The reply goes out on the DEALER that carried the request, before a
     * switch makes a new one. */
    agt_link_reply(link, j->r.id, CMN_OK, "");
    if (j->kind == EKEY_SWITCH) {
        s_switch_done(link, j);
    } else if (j->written) {
        char fp[CMN_KEY_FP_LEN], when[40] = "not given";
        if (j->r.switch_time_ms > 0)
            cmn_time_iso((uint64_t)j->r.switch_time_ms, when, sizeof(when));
        CMN_INFO("the engine's next key %s saved to %s%s (switch planned: %s)",
                 s_fp(j->r.public_key, fp), link->conf->engine_key_file,
                 AGT_KEYS_NEXT_SUFFIX, when);
    }
    free(j);
}

static int
s_submit(agt_link_t *link, ekey_job_kind_t kind, const agt_ekey_req_t *r)
{
    ekey_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    j->link = link;
    j->kind = kind;
    j->r = *r;
    if (agt_pool_submit(link->pool, s_ekey_work, s_ekey_done, j) < 0) {
        free(j);
        return -1;
    }
    return 0;
}

void
agt_link_key_request(agt_link_t *link, const Herd__Envelope *env)
{
    cmn_err_reset();
    agt_ekey_req_t r;
    if (agt_conv_engine_key(env, &r) < 0)
        goto fail;
    char fp[CMN_KEY_FP_LEN];
    CMN_INFO("request %llu: engine_key %s%s", (unsigned long long)r.id,
             s_fp(r.public_key, fp), r.switch_now ? " (switch now)" : "");
    if (!link->conf->curve) {
        CMN_ERR(CMN_ERR_UNSUPPORTED, "engine_key: this agent does not use CURVE "
                "(curve: false in its configuration)");
        goto fail;
    }
    /* Without a pool (fuzzing) no key file is ever written. */
    if (!link->pool) {
        CMN_ERR(CMN_ERR_UNAVAILABLE, "engine_key: the agent has no worker pool "
                "to write %s", link->conf->engine_key_file);
        goto fail;
    }
    if (s_submit(link, r.switch_now ? EKEY_SWITCH : EKEY_SAVE_NEXT, &r) == 0)
        return;
fail:
    agt_link_reply(link, env->id, cmn_err_code(), cmn_err_msg());
}

/* ---- fallback ------------------------------------------------------------- */

void
agt_link_key_heard(agt_link_t *link)
{
    link->heard_ms = cmn_mono_ms();
    if (!link->ekey_next || link->promote_inflight || link->closing || !link->pool)
        return;
    agt_ekey_req_t r;
    memset(&r, 0, sizeof(r));
    memcpy(r.public_key, link->ekey, sizeof(r.public_key));
    cmn_err_reset();
    if (s_submit(link, EKEY_PROMOTE, &r) == 0)
        link->promote_inflight = true;
    else
        CMN_DEBUG("cannot promote the engine's next key now: %s", cmn_err_msg());
}

bool
agt_ekey_stale(const agt_ekey_state_t *s)
{
    uint64_t last = s->heard_ms > s->dealer_ms ? s->heard_ms : s->dealer_ms;
    return s->now_ms >= last && s->now_ms - last >= s->timeout_ms;
}

agt_ekey_choice_t
agt_ekey_decide(const agt_ekey_state_t *s)
{
    if (!agt_ekey_stale(s))
        return AGT_EKEY_STAY;
    if (s->using_next)
        return s->have_current ? AGT_EKEY_USE_CURRENT : AGT_EKEY_STAY;
    return s->have_next ? AGT_EKEY_USE_NEXT : AGT_EKEY_STAY;
}

/* How long the engine may be silent before the other key is tried:
 * request_timeout, but at least three heartbeats (time for a new DEALER to
 * connect and be answered). */
static uint64_t
s_silence_ms(const agt_conf_t *conf)
{
    int64_t s = conf->request_timeout;
    if (s < 3 * conf->heartbeat_interval)
        s = 3 * conf->heartbeat_interval;
    return (uint64_t)s * 1000;
}

void
agt_link_key_tick(agt_link_t *link)
{
    if (!link->sock || !link->conf->curve || link->closing ||
        (link->rekey_timer && evtimer_pending(link->rekey_timer, NULL)))
        return;
    agt_ekey_state_t s = {
        .now_ms = cmn_mono_ms(),
        .dealer_ms = link->dealer_ms,
        .heard_ms = link->heard_ms,
        .timeout_ms = s_silence_ms(link->conf),
        .using_next = link->ekey_next,
    };
    if (!agt_ekey_stale(&s))
        return;     /* the usual case: no file is read */
    char cur[CMN_KEY_Z85_LEN + 1], next[CMN_KEY_Z85_LEN + 1], path[PATH_LEN];
    int hc = agt_keys_read_opt(link->conf->engine_key_file, cur);
    int hn = agt_keys_next_path(link->conf, path, sizeof(path)) == 0
                 ? agt_keys_read_opt(path, next) : -1;
    cmn_err_reset();
    s.have_current = hc == 1;
    s.have_next = hn == 1 && (hc != 1 || strcmp(cur, next) != 0);
    agt_ekey_choice_t c = agt_ekey_decide(&s);
    if (c == AGT_EKEY_STAY)
        return;
    bool to_next = c == AGT_EKEY_USE_NEXT;
    const char *key = to_next ? next : cur;
    char ofp[CMN_KEY_FP_LEN], nfp[CMN_KEY_FP_LEN];
    CMN_WARN("no word from the engine for %llus with engine key %s: trying %s "
             "key %s", (unsigned long long)(s.timeout_ms / 1000), s_fp(link->ekey, ofp),
             to_next ? "its next" : "the current", s_fp(key, nfp));
    if (agt_link_dealer_open(link, key, to_next) < 0) {
        CMN_WARN("cannot make the engine link again: %s", cmn_err_msg());
        link->dealer_ms = s.now_ms;     /* try again after another timeout */
        return;
    }
    agt_link_probe(link);
}
