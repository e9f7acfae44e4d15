/* Engine key rotation on the agent: EngineKey pre-publication writes
 * <engine_key_file>.next and answers OK; bad keys are answered INVALID
 * and write nothing; switch_now promotes the file and makes the DEALER
 * again with the new key, keeping the session; the fallback's decision;
 * an agent that missed the switch finds the engine with the .next key and
 * promotes it. The last two use a real CURVE ROUTER on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agt_conf.h"
#include "agt_keys.h"
#include "agt_link.h"
#include "agt_link_priv.h"
#include "agt_pool.h"
#include "agt_virt.h"
#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_log.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "cmn_zmq.h"
#include "fx_agt.h"

#define HOST_ID "11112222-3333-4444-8555-6666777788aa"
#define KEYLEN (CMN_KEY_Z85_LEN + 1)

typedef struct {
    char dir[64];
    char epub[128];             /* engine_key_file */
    char enext[140];            /* engine_key_file.next */
    char apub[KEYLEN], asec[KEYLEN];    /* the agent's pair */
    char a_pub[KEYLEN], a_sec[KEYLEN];  /* engine key A (current) */
    char b_pub[KEYLEN], b_sec[KEYLEN];  /* engine key B (next) */
    struct event_base *base;
    agt_conf_t conf;
    agt_pool_t *pool;
    agt_virt_t *virt;
    agt_link_t *link;
    fx_agt_sent_t sent;             /* frames the link sent, decoded */
    uint64_t next_id;
} fx_t;

static void
set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    assert_non_null(*dst);
}

/* Key files in a fresh folder: the agent's pair and engine.pub = A. */
static fx_t *
fx_files(void)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/agt-ekey-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->epub, sizeof(f->epub), "%s/engine.pub", f->dir);
    snprintf(f->enext, sizeof(f->enext), "%s/engine.pub.next", f->dir);
    assert_int_equal(cmn_key_generate(f->apub, f->asec), 0);
    assert_int_equal(cmn_key_generate(f->a_pub, f->a_sec), 0);
    assert_int_equal(cmn_key_generate(f->b_pub, f->b_sec), 0);
    char p[128];
    snprintf(p, sizeof(p), "%s/agent.key", f->dir);
    assert_int_equal(cmn_key_write(p, f->asec, true, NULL), 0);
    snprintf(p, sizeof(p), "%s/agent.pub", f->dir);
    assert_int_equal(cmn_key_write(p, f->apub, false, NULL), 0);
    assert_int_equal(cmn_key_write(f->epub, f->a_pub, false, NULL), 0);
    cmn_err_reset();
    assert_int_equal(agt_conf_load(&f->conf, NULL), 0);
    snprintf(p, sizeof(p), "%s/agent.key", f->dir);
    set_str(&f->conf.secret_key_file, p);
    snprintf(p, sizeof(p), "%s/agent.pub", f->dir);
    set_str(&f->conf.public_key_file, p);
    set_str(&f->conf.engine_key_file, f->epub);
    f->conf.heartbeat_interval = 1;
    f->conf.request_timeout = 1;
    f->next_id = 700;
    return f;
}

/* A link with a worker pool; `hook`: frames go to f->out, else it talks
 * to a socket and has libvirt's test driver (hello, report). */
static void
fx_link(fx_t *f, bool with_pool, bool hook)
{
    f->base = event_base_new();
    assert_non_null(f->base);
    if (with_pool) {
        f->pool = agt_pool_new(f->base, 2);
        assert_non_null(f->pool);
    }
    if (!hook) {
        f->virt = agt_virt_new("test:///default", "/tmp/agt-ekey-test-images");
        assert_non_null(f->virt);
    }
    agt_link_opts_t o = { .base = f->base, .conf = &f->conf, .host_id = HOST_ID,
                          .pool = f->pool, .virt = f->virt };
    f->link = agt_link_new(&o);
    assert_non_null(f->link);
    if (hook)
        agt_link_set_send_hook(f->link, fx_agt_on_send, &f->sent);
}

static fx_t *
fx_new(bool with_pool)
{
    fx_t *f = fx_files();
    fx_link(f, with_pool, true);
    return f;
}

static void
fx_free(fx_t *f)
{
    agt_virt_stop(f->virt);
    agt_pool_destroy(&f->pool);
    agt_link_destroy(&f->link);
    agt_virt_destroy(&f->virt);
    fx_agt_sent_clear(&f->sent);
    agt_conf_clear(&f->conf);
    if (f->base)
        event_base_free(f->base);
    const char *names[] = { "agent.key", "agent.pub", "engine.pub", "engine.pub.next" };
    char p[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
}

static void
spin(fx_t *f, int ms)
{
    for (int t = 0; t < ms; t++) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
}

static Herd__Envelope *
reply_to(fx_t *f, uint64_t id)
{
    return fx_agt_reply_to(f->base, &f->sent, id);
}

/* Feed EngineKey{key, switch_now}; the reply's result. */
static Herd__Result *
send_key(fx_t *f, const char *key, bool switch_now, int64_t when)
{
    Herd__EngineKey k = HERD__ENGINE_KEY__INIT;
    k.public_key = (char *)key;
    k.switch_now = switch_now;
    k.switch_time_ms = when;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_ENGINE_KEY;
    e.engine_key = &k;
    e.id = f->next_id++;
    size_t len;
    uint8_t *buf = cmn_rpc_encode(&e, &len);
    assert_non_null(buf);
    agt_link_handle_frame(f->link, buf, len);
    free(buf);
    Herd__Envelope *r = reply_to(f, e.id);
    assert_non_null(r);
    assert_non_null(r->result);
    return r->result;
}

/* The key in `path`, "" if the file does not exist. */
static const char *
file_key(const char *path, char out[KEYLEN])
{
    int rc = agt_keys_read_opt(path, out);
    assert_true(rc >= 0);
    if (rc == 0)
        out[0] = '\0';
    return out;
}

static void
test_prepublication_writes_next(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    char k[KEYLEN];
    Herd__Result *r = send_key(f, f->b_pub, false, 1795000000000LL);
    assert_int_equal(r->code, CMN_OK);
    assert_string_equal(file_key(f->enext, k), f->b_pub);
    assert_string_equal(file_key(f->epub, k), f->a_pub);   /* untouched */
    struct stat st;
    assert_int_equal(stat(f->enext, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    /* repeated at every hello: still OK, same file */
    r = send_key(f, f->b_pub, false, 0);
    assert_int_equal(r->code, CMN_OK);
    assert_string_equal(file_key(f->enext, k), f->b_pub);
    /* the DEALER was not touched */
    spin(f, 300);
    assert_string_equal(f->link->ekey, "");
    fx_free(f);
}

static void
expect_invalid(fx_t *f, const char *key, int64_t when, const char *frag)
{
    Herd__Result *r = send_key(f, key, false, when);
    if (r->code != CMN_ERR_INVALID || !strstr(r->message, frag))
        fail_msg("key '%s': got %s '%s', want invalid with '%s'", key,
                 cmn_code_name(r->code), r->message, frag);
}

static void
test_bad_key_is_invalid_and_writes_nothing(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    char bad[KEYLEN];
    memcpy(bad, f->b_pub, KEYLEN);
    bad[7] = '"';                       /* not in the Z85 alphabet */
    expect_invalid(f, "", 0, "engine_key.public_key: missing");
    expect_invalid(f, "abc", 0, "engine_key.public_key: 3 characters");
    expect_invalid(f, bad, 0, "engine_key.public_key: not a CURVE key");
    char longer[64];
    snprintf(longer, sizeof(longer), "%s0", f->b_pub);
    expect_invalid(f, longer, 0, "engine_key.public_key: 41 characters");
    expect_invalid(f, f->b_pub, -5, "engine_key.switch_time_ms");
    /* also with switch_now: nothing promoted */
    Herd__Result *r = send_key(f, bad, true, 0);
    assert_int_equal(r->code, CMN_ERR_INVALID);
    assert_non_null(strstr(r->message, "engine_key.public_key"));
    spin(f, 300);
    char k[KEYLEN];
    assert_string_equal(file_key(f->enext, k), "");
    assert_string_equal(file_key(f->epub, k), f->a_pub);
    fx_free(f);
}

static void
test_switch_promotes_next(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    char k[KEYLEN];
    assert_int_equal(send_key(f, f->b_pub, false, 0)->code, CMN_OK);
    assert_string_equal(file_key(f->enext, k), f->b_pub);
    Herd__Result *r = send_key(f, f->b_pub, true, 0);
    assert_int_equal(r->code, CMN_OK);
    assert_string_equal(file_key(f->epub, k), f->b_pub);
    assert_int_equal(access(f->enext, F_OK), -1);        /* .next gone */
    /* the DEALER is made again with the new key after the reply */
    spin(f, 600);
    assert_string_equal(f->link->ekey, f->b_pub);
    assert_false(f->link->ekey_next);
    fx_free(f);
}

static void
test_switch_without_prepublication(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    char k[KEYLEN], c_pub[KEYLEN], c_sec[KEYLEN];
    assert_int_equal(cmn_key_generate(c_pub, c_sec), 0);
    /* .next holds B, the engine switches to C: C wins, B is dropped */
    assert_int_equal(send_key(f, f->b_pub, false, 0)->code, CMN_OK);
    assert_int_equal(send_key(f, c_pub, true, 0)->code, CMN_OK);
    assert_string_equal(file_key(f->epub, k), c_pub);
    assert_int_equal(access(f->enext, F_OK), -1);
    /* a pre-publication of the current key writes nothing */
    assert_int_equal(send_key(f, c_pub, false, 0)->code, CMN_OK);
    assert_int_equal(access(f->enext, F_OK), -1);
    fx_free(f);
}

static void
test_refused_without_curve_or_pool(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    f->conf.curve = false;
    Herd__Result *r = send_key(f, f->b_pub, false, 0);
    assert_int_equal(r->code, CMN_ERR_UNSUPPORTED);
    assert_non_null(strstr(r->message, "CURVE"));
    fx_free(f);

    f = fx_new(false);      /* no pool: fuzzing never writes key files */
    r = send_key(f, f->b_pub, true, 0);
    assert_int_equal(r->code, CMN_ERR_UNAVAILABLE);
    assert_non_null(strstr(r->message, f->epub));
    char k[KEYLEN];
    assert_string_equal(file_key(f->epub, k), f->a_pub);
    assert_string_equal(file_key(f->enext, k), "");
    fx_free(f);
}

static void
test_write_error_names_the_file(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    /* the key folder is a regular file: nothing can be written under it */
    char blocker[128], path[160];
    snprintf(blocker, sizeof(blocker), "%s/engine.pub.next", f->dir);
    assert_int_equal(cmn_file_write_atomic(blocker, "x", 1, 0644), 0);
    snprintf(path, sizeof(path), "%s/engine.pub.next/engine.pub", f->dir);
    set_str(&f->conf.engine_key_file, path);
    Herd__Result *r = send_key(f, f->b_pub, false, 0);
    assert_int_not_equal(r->code, CMN_OK);
    assert_non_null(strstr(r->message, "engine_key: "));
    assert_non_null(strstr(r->message, blocker));
    fx_free(f);
}

static void
test_fallback_decision(void **state)
{
    (void)state;
    agt_ekey_state_t s = { .now_ms = 20000, .dealer_ms = 15000, .heard_ms = 0,
                           .timeout_ms = 10000, .have_current = true,
                           .have_next = true };
    /* heard from recently / DEALER new: stay */
    assert_false(agt_ekey_stale(&s));
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_STAY);
    s.dealer_ms = 1000;
    s.heard_ms = 12000;
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_STAY);
    /* silent for the timeout on the current key, a .next exists: next */
    s.heard_ms = 10000;
    assert_true(agt_ekey_stale(&s));
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_USE_NEXT);
    s.heard_ms = 0;
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_USE_NEXT);
    /* and back from the next key to the current one */
    s.using_next = true;
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_USE_CURRENT);
    /* no current file: stay on the next key */
    s.have_current = false;
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_STAY);
    /* no .next: nothing to try, however long the silence */
    s.using_next = false;
    s.have_current = true;
    s.have_next = false;
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_STAY);
    /* on a .next key that vanished: back to the current one */
    s.using_next = true;
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_USE_CURRENT);
    /* a clock before the DEALER's birth never counts as silence */
    s.now_ms = 500;
    assert_false(agt_ekey_stale(&s));
    assert_int_equal(agt_ekey_decide(&s), AGT_EKEY_STAY);
}

static void
test_keys_load_takes_next_when_current_missing(void **state)
{
    (void)state;
    fx_t *f = fx_files();
    agt_keys_t k;
    assert_int_equal(agt_keys_load(&f->conf, &k), 0);
    assert_string_equal(k.engine_key, f->a_pub);
    assert_false(k.engine_key_next);
    assert_int_equal(cmn_key_write(f->enext, f->b_pub, false, NULL), 0);
    assert_int_equal(agt_keys_load(&f->conf, &k), 0);
    assert_string_equal(k.engine_key, f->a_pub);        /* current wins */
    unlink(f->epub);
    assert_int_equal(agt_keys_load(&f->conf, &k), 0);
    assert_string_equal(k.engine_key, f->b_pub);
    assert_true(k.engine_key_next);
    assert_string_equal(k.public_key, f->apub);
    unlink(f->enext);
    cmn_err_reset();
    assert_int_equal(agt_keys_load(&f->conf, &k), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), f->epub));
    agt_keys_clear(&k);
    /* promote: rename when .next holds the key */
    assert_int_equal(cmn_key_write(f->epub, f->a_pub, false, NULL), 0);
    assert_int_equal(cmn_key_write(f->enext, f->b_pub, false, NULL), 0);
    assert_int_equal(agt_keys_promote(&f->conf, f->b_pub), 0);
    char s[KEYLEN];
    assert_string_equal(file_key(f->epub, s), f->b_pub);
    assert_int_equal(access(f->enext, F_OK), -1);
    fx_free(f);
}

/* ---- a real CURVE ROUTER playing the engine ------------------------------ */

typedef struct {
    cmn_zsock_t *sock;
    uint8_t peer[256];
    size_t peer_len;
    unsigned pings, hellos;
    uint64_t key_reply_to;      /* EngineKey request id we sent */
    int key_code;               /* its reply's code, -1 none yet */
} router_t;

static void
r_answer(router_t *r, const Herd__Envelope *req, Herd__Envelope *rep)
{
    Herd__Result res;
    Herd__Envelope__BodyCase bc = rep->body_case;
    void *body = (void *)rep->pong;     /* the bodies share one union slot */
    cmn_rpc_init_reply(rep, &res, 9000 + req->id, req->id, CMN_OK, "");
    rep->body_case = bc;
    rep->pong = body;
    size_t len;
    uint8_t *buf = cmn_rpc_encode(rep, &len);
    assert_non_null(buf);
    cmn_zsock_send(r->sock, r->peer, r->peer_len, buf, len);
    free(buf);
}

static void
on_router(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
          const uint8_t *data, size_t len, void *opaque)
{
    (void)sock;
    router_t *r = opaque;
    if (peer_len <= sizeof(r->peer)) {
        memcpy(r->peer, peer, peer_len);
        r->peer_len = peer_len;
    }
    Herd__Envelope *env = cmn_rpc_decode(data, len, 0, NULL);
    if (!env)
        return;
    if (env->in_reply_to && env->in_reply_to == r->key_reply_to) {
        r->key_code = env->result ? env->result->code : -2;
    } else if (env->body_case == HERD__ENVELOPE__BODY_PING) {
        r->pings++;
        Herd__Pong pong = HERD__PONG__INIT;
        pong.engine_id = "engine-1";
        Herd__Envelope rep = HERD__ENVELOPE__INIT;
        rep.body_case = HERD__ENVELOPE__BODY_PONG;
        rep.pong = &pong;
        r_answer(r, env, &rep);
    } else if (env->body_case == HERD__ENVELOPE__BODY_HELLO) {
        r->hellos++;
        Herd__HelloAck ack = HERD__HELLO_ACK__INIT;
        ack.engine_id = "engine-1";
        ack.host_name = "h1";
        Herd__Envelope rep = HERD__ENVELOPE__INIT;
        rep.body_case = HERD__ENVELOPE__BODY_HELLO_ACK;
        rep.hello_ack = &ack;
        r_answer(r, env, &rep);
    } else if (env->body_case == HERD__ENVELOPE__BODY_VM_REPORT) {
        Herd__Envelope rep = HERD__ENVELOPE__INIT;
        r_answer(r, env, &rep);
    }
    cmn_rpc_free(env);
}

/* A CURVE ROUTER with secret key `sec` at `endpoint`; binding again the
 * port another one just left may take a moment. */
static router_t *
router_new(fx_t *f, const char *endpoint, const char *sec)
{
    router_t *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->key_code = -1;
    cmn_zsock_opts_t zo = { 0 };
    zo.curve_secret_key = sec;
    for (int i = 0; i < 100 && !r->sock; i++) {
        cmn_err_reset();
        r->sock = cmn_zsock_new_router(f->base, endpoint, &zo, on_router, r);
        if (!r->sock)
            usleep(20000);
    }
    assert_non_null(r->sock);
    return r;
}

static void
router_free(router_t **r)
{
    cmn_zsock_destroy(&(*r)->sock);
    free(*r);
    *r = NULL;
}

/* Run the loop until cond(f, r) or `ms` pass. */
static bool
spin_until(fx_t *f, router_t *r, bool (*cond)(fx_t *, router_t *), int ms)
{
    for (int t = 0; t < ms / 5; t++) {
        if (cond(f, r))
            return true;
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        usleep(5000);
    }
    return cond(f, r);
}

static bool
c_session(fx_t *f, router_t *r)
{
    return agt_link_has_session(f->link) && r->pings > 0;
}

static bool
c_pinged(fx_t *f, router_t *r)
{
    (void)f;
    return r->pings > 0;
}

static bool
c_key_answered(fx_t *f, router_t *r)
{
    (void)f;
    return r->key_code != -1;
}

static bool
c_promoted(fx_t *f, router_t *r)
{
    (void)r;
    char k[KEYLEN];
    return agt_keys_read_opt(f->epub, k) == 1 && strcmp(k, f->b_pub) == 0 &&
           access(f->enext, F_OK) < 0 && !f->link->promote_inflight;
}

/* Send EngineKey{key, switch_now} from the router; wait for its answer. */
static void
router_send_key(fx_t *f, router_t *r, const char *key, bool switch_now, uint64_t id)
{
    Herd__EngineKey k = HERD__ENGINE_KEY__INIT;
    k.public_key = (char *)key;
    k.switch_now = switch_now;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_ENGINE_KEY;
    e.engine_key = &k;
    e.id = id;
    r->key_reply_to = id;
    r->key_code = -1;
    size_t len;
    uint8_t *buf = cmn_rpc_encode(&e, &len);
    assert_non_null(buf);
    assert_int_equal(cmn_zsock_send(r->sock, r->peer, r->peer_len, buf, len), 0);
    free(buf);
    if (!spin_until(f, r, c_key_answered, 5000))
        fail_msg("no answer to EngineKey %llu", (unsigned long long)id);
    assert_int_equal(r->key_code, CMN_OK);
}

/* A link with libvirt's test driver and a pool, started against a CURVE
 * ROUTER with engine key A on a free port (its endpoint in ep), with a
 * session. */
static router_t *
fx_session(fx_t *f, char ep[128])
{
    fx_link(f, true, false);
    router_t *ra = router_new(f, "tcp://127.0.0.1:*", f->a_sec);
    snprintf(ep, 128, "%s", cmn_zsock_endpoint(ra->sock));
    set_str(&f->conf.engine, ep);
    assert_int_equal(agt_link_start(f->link), 0);
    assert_true(spin_until(f, ra, c_session, 8000));
    assert_string_equal(f->link->ekey, f->a_pub);
    return ra;
}

static void
test_switch_now_on_a_real_socket(void **state)
{
    (void)state;
    fx_t *f = fx_files();
    char ep[128];
    router_t *ra = fx_session(f, ep);
    /* the engine: pre-publication, then the switch */
    router_send_key(f, ra, f->b_pub, false, 100);
    router_send_key(f, ra, f->b_pub, true, 101);
    char k[KEYLEN];
    assert_string_equal(file_key(f->epub, k), f->b_pub);
    /* the engine re-binds the same endpoint with the new key */
    spin(f, 400);
    router_free(&ra);
    router_t *rb = router_new(f, ep, f->b_sec);
    if (!spin_until(f, rb, c_pinged, 10000))
        fail_msg("the agent did not reach the engine's new key");
    assert_string_equal(f->link->ekey, f->b_pub);
    /* the session went on: no new hello */
    assert_true(agt_link_has_session(f->link));
    spin(f, 300);
    assert_int_equal(rb->hellos, 0);
    router_free(&rb);
    fx_free(f);
}

/* The engine learns a new connection from the agent's first message on
 * it: a DEALER made again after the switch pings at once, without waiting
 * for the heartbeat (stopped here), retrying while the engine is not there
 * yet, and stops once it has a pong. */
static void
test_new_dealer_pings_soon(void **state)
{
    (void)state;
    fx_t *f = fx_files();
    f->conf.request_timeout = 5;
    char ep[128];
    router_t *ra = fx_session(f, ep);
    /* no heartbeat from now on: every later ping is the new DEALER's own */
    assert_int_equal(event_del(f->link->ping_timer), 0);
    spin(f, 300);

    router_send_key(f, ra, f->b_pub, true, 100);
    /* the old engine stays for 700 ms: the new DEALER (made 200 ms after
     * the answer) cannot connect at first */
    spin(f, 700);
    router_free(&ra);
    router_t *rb = router_new(f, ep, f->b_sec);
    uint64_t t0 = cmn_mono_ms();
    if (!spin_until(f, rb, c_pinged, 1500))
        fail_msg("no ping on the new engine link within 1.5 s");
    uint64_t took = cmn_mono_ms() - t0;
    assert_string_equal(f->link->ekey, f->b_pub);
    /* one ping was enough: no more once the pong came */
    spin(f, 1200);
    if (rb->pings != 1)
        fail_msg("%u pings on the new link (first after %llu ms), want 1",
                 rb->pings, (unsigned long long)took);
    assert_int_equal(f->link->probe_left, 0);
    assert_true(agt_link_has_session(f->link));
    assert_int_equal(rb->hellos, 0);
    router_free(&rb);
    fx_free(f);
}

static void
test_fallback_finds_the_next_key(void **state)
{
    (void)state;
    fx_t *f = fx_files();
    /* the agent has A current and B next; the engine switched to B while
     * the agent was away */
    assert_int_equal(cmn_key_write(f->enext, f->b_pub, false, NULL), 0);
    fx_link(f, true, false);
    router_t *rb = router_new(f, "tcp://127.0.0.1:*", f->b_sec);
    set_str(&f->conf.engine, cmn_zsock_endpoint(rb->sock));
    assert_int_equal(agt_link_start(f->link), 0);
    assert_string_equal(f->link->ekey, f->a_pub);
    assert_false(f->link->ekey_next);
    /* silent for 3 heartbeats (1 s each): the agent tries B */
    if (!spin_until(f, rb, c_promoted, 10000))
        fail_msg("engine_key_file was not promoted to the next key");
    assert_true(rb->pings + rb->hellos > 0);
    assert_string_equal(f->link->ekey, f->b_pub);
    assert_false(f->link->ekey_next);
    router_free(&rb);
    fx_free(f);
}

int
main(void)
{
    cmn_log_set_level(getenv("TEST_DEBUG") ? CMN_LOG_DEBUG : CMN_LOG_ERROR);
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepublication_writes_next),
        cmocka_unit_test(test_bad_key_is_invalid_and_writes_nothing),
        cmocka_unit_test(test_switch_promotes_next),
        cmocka_unit_test(test_switch_without_prepublication),
        cmocka_unit_test(test_refused_without_curve_or_pool),
        cmocka_unit_test(test_write_error_names_the_file),
        cmocka_unit_test(test_fallback_decision),
        cmocka_unit_test(test_keys_load_takes_next_when_current_missing),
        cmocka_unit_test(test_switch_now_on_a_real_socket),
        cmocka_unit_test(test_fallback_finds_the_next_key),
        cmocka_unit_test(test_new_dealer_pings_soon),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0)        /* a failed test may leave a socket open */
        cmn_zmq_shutdown();
    return rc;
}
