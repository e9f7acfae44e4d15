/* Enrollment and the per-message gate, without sockets: unknown keys go
 * pending and get nothing, approval lets them in, tokens approve at once,
 * a key never speaks for another host, revoked keys are cut off, and the
 * engine key file is checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmn_conf.h"
#include "cmn_keys.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "cmn_zmq.h"
#include "eng_agents.h"
#include "eng_agents_priv.h"
#include "eng_ctx.h"
#include "eng_enroll.h"
#include "fx_eng.h"

typedef struct {
    eng_ctx_t ctx;
    eng_enroll_t *en;
    char dir[64];
    char pub[41], sec[41];          /* an agent's pair */
    char host[ENG_ID_LEN];
} t_env_t;

static int setup(void **state)
{
    t_env_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    fx_eng_gate_conf(&t->ctx, t->dir, sizeof(t->dir), "herd-test-enroll",
                     "keys");
    fx_eng_ctx_open(&t->ctx, true);
    t->en = eng_enroll_new(&t->ctx);
    assert_non_null(t->en);
    assert_int_equal(cmn_key_generate(t->pub, t->sec), 0);
    cmn_uuid_generate(t->host);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    t_env_t *t = *state;
    eng_enroll_destroy(&t->en);
    fx_eng_ctx_close(&t->ctx);
    fx_eng_gate_remove(t->dir, "keys");
    free(t);
    return 0;
}

static uint8_t *s_stats(size_t *len)
{
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    Herd__HostStats s = HERD__HOST_STATS__INIT;
    s.timestamp_ms = 1;
    e.id = 6;
    e.body_case = HERD__ENVELOPE__BODY_HOST_STATS;
    e.host_stats = &s;
    return cmn_rpc_encode(&e, len);
}

/* Run the gate; returns its verdict, *code the reply's code (-2: none). */
static eng_gate_t s_gate(t_env_t *t, const char *key, const uint8_t *buf,
                         size_t len, char host[ENG_ID_LEN], int *code)
{
    return fx_eng_gate(t->en, key, buf, len, host, code, NULL, 0);
}

static void test_engine_key_made_and_checked(void **state)
{
    t_env_t *t = *state;
    char p[128];
    snprintf(p, sizeof(p), "%s/keys/engine.key", t->dir);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(cmn_key_valid(eng_enroll_public_key(t->en)));
    /* a second engine keeps the key */
    eng_enroll_t *again = eng_enroll_new(&t->ctx);
    assert_non_null(again);
    assert_string_equal(eng_enroll_public_key(again),
                        eng_enroll_public_key(t->en));
    eng_enroll_destroy(&again);
    /* an engine key readable by others stops the engine */
    chmod(p, 0644);
    cmn_err_reset();
    assert_null(eng_enroll_new(&t->ctx));
    assert_non_null(strstr(cmn_err_msg(), p));
    assert_non_null(strstr(cmn_err_msg(), "chmod 600"));
    chmod(p, 0600);
}

static void test_unknown_key_goes_pending(void **state)
{
    t_env_t *t = *state;
    char host[ENG_ID_LEN];
    int code;
    size_t len;
    uint8_t *stats = s_stats(&len);
    /* before any hello: nothing passes */
    assert_true(eng_enroll_zap_cb(t->pub, "127.0.0.1", t->en));
    assert_int_equal(s_gate(t, t->pub, stats, len, host, &code),
                     ENG_GATE_DROP);
    size_t hl;
    uint8_t *hello = fx_eng_hello(t->host, "node1", NULL, &hl);
    assert_int_equal(s_gate(t, t->pub, hello, hl, host, &code),
                     ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_DENIED);
    eng_host_t h = {0};
    assert_int_equal(eng_store_host_get(t->ctx.store, t->host, &h), 0);
    assert_int_equal(h.status, ENG_HOST_PENDING_APPROVAL);
    eng_host_clear(&h);
    char fp[CMN_KEY_FP_LEN], want[CMN_KEY_FP_LEN];
    eng_key_state_t ks;
    assert_true(eng_enroll_host_key(t->en, t->host, fp, &ks));
    cmn_key_fingerprint(t->pub, want);
    assert_string_equal(fp, want);
    assert_int_equal(ks, ENG_KEY_PENDING);
    /* pending: still nothing but refusals, and no route for commands */
    assert_int_equal(s_gate(t, t->pub, stats, len, host, &code),
                     ENG_GATE_DROP);
    assert_int_equal(s_gate(t, t->pub, hello, hl, host, &code),
                     ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_DENIED);
    const uint8_t *route;
    size_t rl;
    assert_false(eng_enroll_route(t->en, t->host, &route, &rl));
    /* approved: hello and stats pass as this host, from this route */
    assert_int_equal(eng_enroll_approve(t->en, t->host, "admin"), 0);
    assert_int_equal(s_gate(t, t->pub, hello, hl, host, &code),
                     ENG_GATE_PASS);
    assert_string_equal(host, t->host);
    assert_int_equal(s_gate(t, t->pub, stats, len, host, &code),
                     ENG_GATE_PASS);
    assert_true(eng_enroll_route(t->en, t->host, &route, &rl));
    assert_int_equal(rl, 2);
    assert_memory_equal(route, "r1", 2);
    /* approving twice is a state error */
    cmn_err_reset();
    assert_int_equal(eng_enroll_approve(t->en, t->host, "admin"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    free(hello);
    free(stats);
}

static void test_no_speaking_for_another_host(void **state)
{
    t_env_t *t = *state;
    char host[ENG_ID_LEN];
    int code;
    size_t hl;
    uint8_t *hello = fx_eng_hello(t->host, "node1", NULL, &hl);
    s_gate(t, t->pub, hello, hl, host, &code);
    assert_int_equal(eng_enroll_approve(t->en, t->host, NULL), 0);
    /* another, unknown key claims the approved host id */
    char pub2[41], sec2[41];
    cmn_key_generate(pub2, sec2);
    assert_int_equal(s_gate(t, pub2, hello, hl, host, &code), ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_DENIED);
    eng_key_state_t ks;
    char fp[CMN_KEY_FP_LEN], want[CMN_KEY_FP_LEN];
    assert_true(eng_enroll_host_key(t->en, t->host, fp, &ks));
    cmn_key_fingerprint(t->pub, want);
    assert_string_equal(fp, want);          /* not replaced by the impostor */
    /* the approved key claiming another host id passes only as itself: the
     * hello check then refuses the foreign host_id */
    char other[ENG_ID_LEN];
    cmn_uuid_generate(other);
    size_t ol;
    uint8_t *foreign = fx_eng_hello(other, "node1", NULL, &ol);
    assert_int_equal(s_gate(t, t->pub, foreign, ol, host, &code),
                     ENG_GATE_PASS);
    assert_string_equal(host, t->host);
    free(foreign);
    free(hello);
}

static void test_revoked_key_cut_off(void **state)
{
    t_env_t *t = *state;
    char host[ENG_ID_LEN];
    int code;
    size_t hl, sl;
    uint8_t *hello = fx_eng_hello(t->host, "node1", NULL, &hl);
    uint8_t *stats = s_stats(&sl);
    s_gate(t, t->pub, hello, hl, host, &code);
    assert_int_equal(eng_enroll_approve(t->en, t->host, NULL), 0);
    assert_int_equal(s_gate(t, t->pub, stats, sl, host, &code),
                     ENG_GATE_PASS);
    assert_int_equal(eng_enroll_revoke(t->en, t->host, "admin"), 0);
    assert_int_equal(s_gate(t, t->pub, stats, sl, host, &code),
                     ENG_GATE_DROP);
    assert_int_equal(s_gate(t, t->pub, hello, hl, host, &code),
                     ENG_GATE_DROP);
    assert_false(eng_enroll_zap_cb(t->pub, "127.0.0.1", t->en));
    const uint8_t *route;
    size_t rl;
    assert_false(eng_enroll_route(t->en, t->host, &route, &rl));
    /* the revocation survives a restart */
    eng_enroll_t *again = eng_enroll_new(&t->ctx);
    assert_false(eng_enroll_zap_cb(t->pub, "127.0.0.1", again));
    eng_enroll_destroy(&again);
    free(hello);
    free(stats);
}

static void test_token_and_preregistration(void **state)
{
    t_env_t *t = *state;
    char host[ENG_ID_LEN];
    int code;
    char *tok = eng_enroll_token_create(t->en, "rack1-node", 600, "admin");
    assert_non_null(tok);
    size_t hl;
    uint8_t *hello = fx_eng_hello(t->host, "node1", tok, &hl);
    assert_int_equal(s_gate(t, t->pub, hello, hl, host, &code),
                     ENG_GATE_PASS);
    assert_string_equal(host, t->host);
    eng_host_t h = {0};
    assert_int_equal(eng_store_host_get(t->ctx.store, t->host, &h), 0);
    assert_string_equal(h.name, "rack1-node");
    eng_host_clear(&h);
    /* one time only */
    char pub2[41], sec2[41], host2[ENG_ID_LEN];
    cmn_key_generate(pub2, sec2);
    cmn_uuid_generate(host2);
    size_t h2l;
    uint8_t *hello2 = fx_eng_hello(host2, "node1", tok, &h2l);
    assert_int_equal(s_gate(t, pub2, hello2, h2l, host, &code),
                     ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_DENIED);
    /* pre-registered key: approved at its first hello */
    assert_int_equal(eng_enroll_register(t->en, pub2, "prereg", "admin"), 0);
    cmn_err_reset();
    assert_int_equal(eng_enroll_register(t->en, pub2, "x", "admin"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);
    cmn_err_reset();
    assert_int_equal(eng_enroll_register(t->en, "junk", "x", "admin"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    size_t h3l;
    uint8_t *hello3 = fx_eng_hello(host2, "node1", NULL, &h3l);
    assert_int_equal(s_gate(t, pub2, hello3, h3l, host, &code),
                     ENG_GATE_PASS);
    assert_string_equal(host, host2);
    assert_int_equal(eng_store_host_get(t->ctx.store, host2, &h), 0);
    assert_string_equal(h.name, "prereg");
    eng_host_clear(&h);
    /* rotation: a new key for t->host with a fresh token; the old key
     * keeps working for the overlap window */
    char npub[41], nsec[41];
    cmn_key_generate(npub, nsec);
    size_t h4l;
    uint8_t *hello4 = fx_eng_hello(t->host, "node1", NULL, &h4l);
    assert_int_equal(s_gate(t, npub, hello4, h4l, host, &code),
                     ENG_GATE_REPLY);                /* no token: refused */
    assert_int_equal(code, CMN_ERR_DENIED);
    free(hello4);
    char *tok2 = eng_enroll_token_create(t->en, "", 60, "admin");
    hello4 = fx_eng_hello(t->host, "node1", tok2, &h4l);
    assert_int_equal(s_gate(t, npub, hello4, h4l, host, &code),
                     ENG_GATE_PASS);
    assert_string_equal(host, t->host);
    char fp[CMN_KEY_FP_LEN], want[CMN_KEY_FP_LEN];
    eng_key_state_t ks;
    assert_true(eng_enroll_host_key(t->en, t->host, fp, &ks));
    cmn_key_fingerprint(npub, want);
    assert_string_equal(fp, want);
    assert_int_equal(s_gate(t, t->pub, hello, hl, host, &code),
                     ENG_GATE_PASS);                 /* overlap */
    assert_true(eng_enroll_zap_cb(t->pub, "127.0.0.1", t->en));
    free(hello4);
    free(tok2);
    free(hello3);
    free(hello2);
    free(hello);
    free(tok);
}

/* Fields of a hello are checked before anything is stored: ranges of
 * numbers, lengths of strings, counts of lists. */
static void test_hello_fields_checked(void **state)
{
    (void)state;
    char id[ENG_ID_LEN];
    cmn_uuid_generate(id);
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = id;
    h.hostname = "node1";
    assert_int_equal(eng_agt_hello_check(&h, id), 0);
    struct { uint32_t *field; uint32_t bad; const char *name; } nums[] = {
        { &h.cpu_count, 70000, "cpu_count" },
        { &h.cpu_sockets, 70000, "cpu_sockets" },
        { &h.cpu_threads, UINT32_MAX, "threads" },
        { &h.cpu_mhz, 5000000, "cpu_mhz" },
        { &h.stats_interval, 100000, "stats_interval" },
        { &h.numa_nodes, 5000, "cpu_count" },
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        uint32_t keep = *nums[i].field;
        *nums[i].field = nums[i].bad;
        cmn_err_reset();
        assert_int_equal(eng_agt_hello_check(&h, id), -1);
        if (!strstr(cmn_err_msg(), nums[i].name))
            fail_msg("error '%s' lacks '%s'", cmn_err_msg(), nums[i].name);
        *nums[i].field = keep;
    }
    char big[300];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    h.hostname = big;
    cmn_err_reset();
    assert_int_equal(eng_agt_hello_check(&h, id), -1);
    h.hostname = "bad\nname";
    assert_int_equal(eng_agt_hello_check(&h, id), -1);
    h.hostname = "node1";
    char *flags[1025];
    for (size_t i = 0; i < 1025; i++)
        flags[i] = "vmx";
    h.cpu_flags = flags;
    h.n_cpu_flags = 1025;
    cmn_err_reset();
    assert_int_equal(eng_agt_hello_check(&h, id), -1);
    assert_non_null(strstr(cmn_err_msg(), "cpu_flags"));
    h.n_cpu_flags = 2;
    assert_int_equal(eng_agt_hello_check(&h, id), 0);
    Herd__Nic nic = HERD__NIC__INIT;
    Herd__Nic *nics[1] = { &nic };
    h.nics = nics;
    h.n_nics = 1;
    nic.name = "";              /* a NIC must have a name */
    cmn_err_reset();
    assert_int_equal(eng_agt_hello_check(&h, id), -1);
    assert_non_null(strstr(cmn_err_msg(), "nics[0]"));
    nic.name = "eth0";
    char *addrs[65];
    for (size_t i = 0; i < 65; i++)
        addrs[i] = "10.0.0.1/24";
    nic.addresses = addrs;
    nic.n_addresses = 65;       /* nested count */
    cmn_err_reset();
    assert_int_equal(eng_agt_hello_check(&h, id), -1);
    nic.n_addresses = 1;
    assert_int_equal(eng_agt_hello_check(&h, id), 0);
    /* another host's id than the sender's */
    char other[ENG_ID_LEN];
    cmn_uuid_generate(other);
    cmn_err_reset();
    assert_int_equal(eng_agt_hello_check(&h, other), -1);
}

static void test_garbage_from_unknown_keys(void **state)
{
    t_env_t *t = *state;
    char host[ENG_ID_LEN];
    int code;
    uint8_t junk[512];
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(i % (int)sizeof(junk));
        for (size_t j = 0; j < n; j++)
            junk[j] = (uint8_t)(i * 31 + j * 7);
        eng_gate_t g = s_gate(t, t->pub, junk, n, host, &code);
        assert_true(g == ENG_GATE_DROP || g == ENG_GATE_REPLY);
    }
    assert_int_equal(s_gate(t, NULL, junk, 10, host, &code), ENG_GATE_DROP);
    assert_int_equal(s_gate(t, "short", junk, 10, host, &code),
                     ENG_GATE_DROP);
    eng_host_t *hosts = NULL;
    size_t n = 0;
    assert_int_equal(eng_store_host_list(t->ctx.store, &hosts, &n), 0);
    assert_int_equal(n, 0);
    free(hosts);
}

/* ---- over real sockets: CURVE ROUTER with the ZAP handler ------------- */

typedef struct {
    struct event_base *base;
    Herd__Envelope *reply;
} t_sock_t;

static void s_recv(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
                   const uint8_t *data, size_t len, void *opaque)
{
    (void)sock;
    (void)peer;
    (void)peer_len;
    t_sock_t *t = opaque;
    cmn_rpc_free(t->reply);
    t->reply = cmn_rpc_decode(data, len, 0, NULL);
    event_base_loopbreak(t->base);
}

/* Send a ping (or hello) until a reply comes or ~ms pass. */
static bool s_ask(t_sock_t *t, cmn_zsock_t *d, const uint8_t *buf,
                  size_t len, int ms)
{
    cmn_rpc_free(t->reply);
    t->reply = NULL;
    for (int i = 0; i < ms / 100 && !t->reply; i++) {
        cmn_err_reset();
        cmn_zsock_send(d, NULL, 0, buf, len);
        struct timeval tv = { 0, 100000 };
        event_base_loopexit(t->base, &tv);
        event_base_dispatch(t->base);
    }
    return t->reply != NULL;
}

static void test_curve_socket(void **state)
{
    t_env_t *t = *state;
    /* the gate-only enroll of setup() is replaced by the socket's own */
    eng_enroll_destroy(&t->en);
    eng_agents_destroy(&t->ctx.agents);
    t->ctx.conf.agents_curve = true;
    cmn_conf_set_str(&t->ctx.conf.agents_enrollment, "auto");
    cmn_conf_set_str(&t->ctx.conf.agents_listen, "tcp://127.0.0.1:*");
    t->ctx.agents = eng_agents_new(&t->ctx);
    assert_non_null(t->ctx.agents);
    eng_enroll_t *en = eng_agents_enroll(t->ctx.agents);
    assert_non_null(en);
    const char *ep = eng_agents_endpoint(t->ctx.agents);
    t_sock_t ts = { .base = t->ctx.base };

    cmn_zsock_opts_t o = { .curve_public_key = t->pub,
                           .curve_secret_key = t->sec,
                           .curve_server_key = eng_enroll_public_key(en) };
    cmn_zsock_t *good = cmn_zsock_new_dealer(t->ctx.base, ep, NULL, &o,
                                             s_recv, &ts);
    assert_non_null(good);
    size_t hl;
    uint8_t *hello = fx_eng_hello(t->host, "node1", NULL, &hl);
    assert_true(s_ask(&ts, good, hello, hl, 5000));
    assert_int_equal(ts.reply->result->code, CMN_OK);
    assert_int_equal(ts.reply->body_case, HERD__ENVELOPE__BODY_HELLO_ACK);
    assert_true(eng_agents_connected(t->ctx.agents, t->host));

    /* without CURVE: nothing comes back */
    cmn_zsock_t *plain = cmn_zsock_new_dealer(t->ctx.base, ep, t->host, NULL,
                                              s_recv, &ts);
    assert_non_null(plain);
    assert_false(s_ask(&ts, plain, hello, hl, 1000));
    cmn_zsock_destroy(&plain);

    /* with the wrong server key: nothing either */
    char wpub[41], wsec[41];
    cmn_key_generate(wpub, wsec);
    cmn_zsock_opts_t wo = o;
    wo.curve_server_key = wpub;
    cmn_zsock_t *wrong = cmn_zsock_new_dealer(t->ctx.base, ep, NULL, &wo,
                                              s_recv, &ts);
    assert_non_null(wrong);
    assert_false(s_ask(&ts, wrong, hello, hl, 1000));
    cmn_zsock_destroy(&wrong);

    /* revoked: the open connection gets nothing more, the host is lost */
    assert_int_equal(eng_enroll_revoke(en, t->host, "test"), 0);
    assert_false(eng_agents_connected(t->ctx.agents, t->host));
    assert_false(s_ask(&ts, good, hello, hl, 1000));
    cmn_zsock_destroy(&good);
    cmn_rpc_free(ts.reply);
    free(hello);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_key_made_and_checked,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_goes_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_speaking_for_another_host,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_key_cut_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_and_preregistration, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_from_unknown_keys, setup,
                                        teardown),
        cmocka_unit_test(test_hello_fields_checked),
        cmocka_unit_test_setup_teardown(test_curve_socket, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmn_zmq_shutdown();
    return rc;
}
