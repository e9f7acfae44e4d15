/* The ZeroMQ wrapper over real tcp sockets on 127.0.0.1, ROUTER and DEALER
 * in one process on one event_base. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_zmq.h"
#include "fx_loop.h"

#define MAX_SEEN 2048

typedef struct {
    struct event_base *base;
    cmn_zsock_t *router, *dealer;
    /* what the router saw */
    int r_count;
    char r_peer[64];
    char r_last[256];
    char r_key[CMN_ZMQ_KEY_LEN + 1];  /* CURVE key of the last sender */
    int r_seq_ok;               /* messages that arrived in order */
    /* what the dealer saw */
    int d_count;
    char d_last[256];
    int stop_at_r, stop_at_d;   /* break the loop when counts reach these */
    bool echo;                  /* router answers each message */
    int echo_failures;
    bool destroy_in_cb;         /* dealer destroys itself on first message */
} fx_t;

static void
s_copy(char *dst, size_t cap, const uint8_t *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void
on_router(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
          const uint8_t *data, size_t len, void *opaque)
{
    fx_t *fx = opaque;
    assert_non_null(peer);
    s_copy(fx->r_peer, sizeof(fx->r_peer), peer, peer_len);
    s_copy(fx->r_last, sizeof(fx->r_last), data, len);
    const char *key = cmn_zsock_peer_key(sock);
    snprintf(fx->r_key, sizeof(fx->r_key), "%s", key ? key : "");
    char want[32];
    snprintf(want, sizeof(want), "msg %d", fx->r_count);
    if (strcmp(fx->r_last, want) == 0)
        fx->r_seq_ok++;
    fx->r_count++;
    if (fx->echo) {
        char reply[300];
        int n = snprintf(reply, sizeof(reply), "echo:%s", fx->r_last);
        if (cmn_zsock_send(sock, peer, peer_len, reply, (size_t)n) < 0)
            fx->echo_failures++;
    }
    if (fx->stop_at_r && fx->r_count >= fx->stop_at_r)
        event_base_loopbreak(fx->base);
}

static void
on_dealer(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
          const uint8_t *data, size_t len, void *opaque)
{
    fx_t *fx = opaque;
    assert_null(peer);
    assert_int_equal(peer_len, 0);
    s_copy(fx->d_last, sizeof(fx->d_last), data, len);
    fx->d_count++;
    if (fx->destroy_in_cb) {
        assert_ptr_equal(sock, fx->dealer);
        cmn_zsock_destroy(&fx->dealer);
        assert_null(fx->dealer);
    }
    if (fx->stop_at_d && fx->d_count >= fx->stop_at_d)
        event_base_loopbreak(fx->base);
}

/* Run the loop until a callback breaks it or `ms` pass. */
static void
run_loop(fx_t *fx, int ms)
{
    fx_loop_run(fx->base, ms);
}

static int
setup(void **state)
{
    fx_t *fx = calloc(1, sizeof(*fx));
    fx->base = event_base_new();
    cmn_err_reset();
    cmn_zsock_opts_t opts = { .max_msg_bytes = 64 * 1024, .reconnect_ivl_ms = 20,
                              .reconnect_ivl_max_ms = 50 };
    fx->router = cmn_zsock_new_router(fx->base, "tcp://127.0.0.1:*", &opts,
                                      on_router, fx);
    assert_non_null(fx->router);
    const char *ep = cmn_zsock_endpoint(fx->router);
    assert_non_null(ep);
    assert_null(strstr(ep, "*"));
    assert_non_null(strstr(ep, "tcp://127.0.0.1:"));
    fx->dealer = cmn_zsock_new_dealer(fx->base, ep, "host-0001", &opts,
                                      on_dealer, fx);
    assert_non_null(fx->dealer);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fx_t *fx = *state;
    cmn_zsock_destroy(&fx->dealer);
    cmn_zsock_destroy(&fx->router);
    assert_null(fx->router);
    event_base_free(fx->base);
    free(fx);
    return 0;
}

/* The dealer's first sends may fail with UNAVAILABLE until the connection
 * is up (ZMQ_IMMEDIATE): retry while running the loop. */
static void
send_when_connected(fx_t *fx, const char *msg)
{
    for (int i = 0; i < 1000; i++) {
        cmn_err_reset();
        if (cmn_zsock_send(fx->dealer, NULL, 0, msg, strlen(msg)) == 0)
            return;
        assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
        run_loop(fx, 10);
    }
    fail_msg("dealer never connected");
}

static void
test_round_trip_and_identity(void **state)
{
    fx_t *fx = *state;
    fx->echo = true;
    fx->stop_at_d = 1;
    send_when_connected(fx, "msg 0");
    run_loop(fx, 5000);
    assert_int_equal(fx->r_count, 1);
    assert_string_equal(fx->r_last, "msg 0");
    assert_string_equal(fx->r_peer, "host-0001");
    assert_int_equal(fx->d_count, 1);
    assert_string_equal(fx->d_last, "echo:msg 0");
    assert_int_equal(fx->echo_failures, 0);

    cmn_zsock_stats_t st;
    cmn_zsock_get_stats(fx->router, &st);
    assert_int_equal(st.received, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.dropped_frames, 0);
}

/* Regression: ZMQ_FD is edge-triggered; a wrapper that reads one message per
 * wake-up leaves the rest of a burst stuck. */
static void
test_burst_all_arrive(void **state)
{
    fx_t *fx = *state;
    enum { N = 1000 };
    fx->stop_at_r = N;
    send_when_connected(fx, "msg 0");
    for (int i = 1; i < N; i++) {
        char m[32];
        int n = snprintf(m, sizeof(m), "msg %d", i);
        assert_int_equal(cmn_zsock_send(fx->dealer, NULL, 0, m, (size_t)n), 0);
    }
    run_loop(fx, 10000);
    assert_int_equal(fx->r_count, N);
    assert_int_equal(fx->r_seq_ok, N);
}

/* Replies in a burst too: the router echoes 1000 messages and the dealer
 * gets them all (drain after the sends done in the router's callback). */
static void
test_burst_echo(void **state)
{
    fx_t *fx = *state;
    enum { N = 1000 };
    fx->echo = true;
    fx->stop_at_d = N;
    send_when_connected(fx, "msg 0");
    for (int i = 1; i < N; i++) {
        char m[32];
        int n = snprintf(m, sizeof(m), "msg %d", i);
        assert_int_equal(cmn_zsock_send(fx->dealer, NULL, 0, m, (size_t)n), 0);
    }
    run_loop(fx, 10000);
    assert_int_equal(fx->r_count, N);
    assert_int_equal(fx->d_count, N);
    assert_string_equal(fx->d_last, "echo:msg 999");
    assert_int_equal(fx->echo_failures, 0);
}

static void
test_oversized_dropped_socket_survives(void **state)
{
    fx_t *fx = *state;
    fx->stop_at_r = 1;
    send_when_connected(fx, "msg 0");
    run_loop(fx, 5000);
    assert_int_equal(fx->r_count, 1);

    /* The sender refuses what it knows is too big... */
    size_t big = 64 * 1024 + 1;
    char *buf = calloc(1, big);
    cmn_err_reset();
    assert_int_equal(cmn_zsock_send(fx->dealer, NULL, 0, buf, big), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_TOO_BIG);

    /* ...and a peer with a bigger limit gets disconnected by the receiver's
     * ZMQ_MAXMSGSIZE; nothing reaches the callback. */
    cmn_zsock_opts_t loose = { .max_msg_bytes = 1024 * 1024 };
    fx_t other = { .base = fx->base };
    cmn_zsock_t *rogue = cmn_zsock_new_dealer(fx->base, cmn_zsock_endpoint(fx->router),
                                              "rogue", &loose, NULL, &other);
    assert_non_null(rogue);
    int sent = -1;
    for (int i = 0; i < 1000 && sent < 0; i++) {
        cmn_err_reset();
        sent = cmn_zsock_send(rogue, NULL, 0, buf, big);
        if (sent < 0)
            run_loop(fx, 10);
    }
    assert_int_equal(sent, 0);
    fx->stop_at_r = 0;
    run_loop(fx, 300);
    assert_int_equal(fx->r_count, 1);
    cmn_zsock_destroy(&rogue);
    free(buf);

    /* The router still serves the good dealer. */
    fx->stop_at_r = 2;
    send_when_connected(fx, "msg 1");
    run_loop(fx, 5000);
    assert_int_equal(fx->r_count, 2);
    assert_string_equal(fx->r_last, "msg 1");
    assert_string_equal(fx->r_peer, "host-0001");
}

/* A peer that sends multipart messages: ROUTER sees 3 frames, drops and
 * counts them, and keeps delivering well-formed messages. */
static void
test_wrong_frame_count_dropped(void **state)
{
    fx_t *fx = *state;
    void *raw = zmq_socket(cmn_zmq_context(), ZMQ_DEALER);
    assert_non_null(raw);
    int zero = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(raw, ZMQ_ROUTING_ID, "raw", 3);
    assert_int_equal(zmq_connect(raw, cmn_zsock_endpoint(fx->router)), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(zmq_send(raw, "a", 1, ZMQ_SNDMORE), 1);
        assert_int_equal(zmq_send(raw, "b", 1, 0), 1);
    }
    assert_int_equal(zmq_send(raw, "msg 0", 5, 0), 5);
    fx->stop_at_r = 1;
    run_loop(fx, 5000);
    assert_int_equal(fx->r_count, 1);
    assert_string_equal(fx->r_last, "msg 0");
    assert_string_equal(fx->r_peer, "raw");
    cmn_zsock_stats_t st;
    cmn_zsock_get_stats(fx->router, &st);
    assert_int_equal(st.dropped_frames, 3);
    assert_int_equal(st.received, 1);

    /* And a DEALER given a 2-frame message by the raw side of a ROUTER. */
    zmq_close(raw);
    raw = zmq_socket(cmn_zmq_context(), ZMQ_ROUTER);
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(zmq_bind(raw, "tcp://127.0.0.1:*"), 0);
    char ep[256];
    size_t sz = sizeof(ep);
    zmq_getsockopt(raw, ZMQ_LAST_ENDPOINT, ep, &sz);
    cmn_zsock_t *d = cmn_zsock_new_dealer(fx->base, ep, "d2", NULL, on_dealer, fx);
    assert_non_null(d);
    int sent = -1;
    for (int i = 0; i < 1000 && sent < 0; i++) {
        sent = cmn_zsock_send(d, NULL, 0, "hi", 2);
        if (sent < 0)
            run_loop(fx, 10);
    }
    assert_int_equal(sent, 0);
    char idbuf[16];
    int idlen = zmq_recv(raw, idbuf, sizeof(idbuf), 0);
    assert_int_equal(idlen, 2);
    char body[16];
    assert_int_equal(zmq_recv(raw, body, sizeof(body), 0), 2);
    zmq_send(raw, idbuf, (size_t)idlen, ZMQ_SNDMORE);
    zmq_send(raw, "x", 1, ZMQ_SNDMORE);
    zmq_send(raw, "y", 1, 0);
    zmq_send(raw, idbuf, (size_t)idlen, ZMQ_SNDMORE);
    zmq_send(raw, "ok", 2, 0);
    fx->stop_at_d = 1;
    run_loop(fx, 5000);
    assert_int_equal(fx->d_count, 1);
    assert_string_equal(fx->d_last, "ok");
    cmn_zsock_get_stats(d, &st);
    assert_int_equal(st.dropped_frames, 1);
    cmn_zsock_destroy(&d);
    zmq_close(raw);
}

static void
test_send_to_unknown_peer_unavailable(void **state)
{
    fx_t *fx = *state;
    cmn_err_reset();
    const uint8_t who[] = "nobody";
    assert_int_equal(cmn_zsock_send(fx->router, who, sizeof(who) - 1, "x", 1), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    cmn_zsock_stats_t st;
    cmn_zsock_get_stats(fx->router, &st);
    assert_int_equal(st.send_failures, 1);
}

static void
test_destroy_inside_callback(void **state)
{
    fx_t *fx = *state;
    fx->echo = true;
    fx->destroy_in_cb = true;
    send_when_connected(fx, "msg 0");
    assert_int_equal(cmn_zsock_send(fx->dealer, NULL, 0, "msg 1", 5), 0);
    fx->stop_at_d = 1;
    run_loop(fx, 5000);
    assert_int_equal(fx->d_count, 1);
    assert_null(fx->dealer);
    run_loop(fx, 100);
    assert_int_equal(fx->d_count, 1);
}

typedef struct {
    const char *allowed;
    int calls;
    char last_key[CMN_ZMQ_KEY_LEN + 1];
} auth_t;

static bool
on_auth(const char *client_key, const char *address, void *opaque)
{
    auth_t *a = opaque;
    a->calls++;
    snprintf(a->last_key, sizeof(a->last_key), "%s", client_key);
    assert_string_equal(address, "127.0.0.1");
    return strcmp(client_key, a->allowed) == 0;
}

/* Try to send for ~ms; true once a send is accepted (connection up). */
static bool
try_send(fx_t *fx, cmn_zsock_t *d, const char *msg, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        cmn_err_reset();
        if (cmn_zsock_send(d, NULL, 0, msg, strlen(msg)) == 0)
            return true;
        run_loop(fx, 10);
    }
    return false;
}

static void
test_curve_auth(void **state)
{
    fx_t *fx = *state;
    char spub[41], ssec[41], gpub[41], gsec[41], bpub[41], bsec[41], derived[41];
    assert_int_equal(cmn_key_generate(spub, ssec), 0);
    assert_int_equal(cmn_key_generate(gpub, gsec), 0);
    assert_int_equal(cmn_key_generate(bpub, bsec), 0);
    assert_int_equal(strlen(spub), CMN_ZMQ_KEY_LEN);
    assert_int_equal(cmn_key_public_of(gsec, derived), 0);
    assert_string_equal(derived, gpub);
    cmn_err_reset();
    assert_int_equal(cmn_key_public_of("short", derived), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);

    auth_t auth = { .allowed = gpub };
    cmn_zsock_opts_t ro = { .curve_secret_key = ssec, .curve_auth = on_auth,
                            .curve_auth_opaque = &auth };
    cmn_zsock_t *router = cmn_zsock_new_router(fx->base, "tcp://127.0.0.1:*", &ro,
                                               on_router, fx);
    assert_non_null(router);
    const char *ep = cmn_zsock_endpoint(router);

    /* Only one authenticating router per process. */
    cmn_err_reset();
    assert_null(cmn_zsock_new_router(fx->base, "tcp://127.0.0.1:*", &ro, NULL, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);

    /* The allowed key gets through and is reported with each message. */
    cmn_zsock_opts_t go = { .curve_public_key = gpub, .curve_secret_key = gsec,
                            .curve_server_key = spub, .reconnect_ivl_ms = 20 };
    cmn_zsock_t *good = cmn_zsock_new_dealer(fx->base, ep, "good", &go, on_dealer, fx);
    assert_non_null(good);
    assert_true(try_send(fx, good, "msg 0", 5000));
    fx->stop_at_r = 1;
    run_loop(fx, 5000);
    assert_int_equal(fx->r_count, 1);
    assert_string_equal(fx->r_peer, "good");
    assert_string_equal(fx->r_key, gpub);
    assert_true(auth.calls >= 1);

    /* Another key is refused: the handshake fails, nothing arrives. */
    cmn_zsock_opts_t bo = { .curve_public_key = bpub, .curve_secret_key = bsec,
                            .curve_server_key = spub, .reconnect_ivl_ms = 20 };
    cmn_zsock_t *bad = cmn_zsock_new_dealer(fx->base, ep, "bad", &bo, on_dealer, fx);
    assert_non_null(bad);
    fx->stop_at_r = 0;
    (void)try_send(fx, bad, "msg 1", 500);
    run_loop(fx, 100);
    assert_string_equal(auth.last_key, bpub);
    assert_int_equal(fx->r_count, 1);

    /* So is a plaintext peer. */
    cmn_zsock_t *plain = cmn_zsock_new_dealer(fx->base, ep, "plain", NULL, on_dealer, fx);
    assert_non_null(plain);
    (void)try_send(fx, plain, "msg 1", 300);
    run_loop(fx, 100);
    assert_int_equal(fx->r_count, 1);

    /* Bad keys are refused up front. */
    cmn_zsock_opts_t broken = go;
    broken.curve_server_key = "not a key";
    cmn_err_reset();
    assert_null(cmn_zsock_new_dealer(fx->base, ep, "x", &broken, NULL, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "curve_server_key"));

    cmn_zsock_destroy(&plain);
    cmn_zsock_destroy(&bad);
    cmn_zsock_destroy(&good);
    cmn_zsock_destroy(&router);

    /* The ZAP handler went with its router: a new one may be made. */
    router = cmn_zsock_new_router(fx->base, "tcp://127.0.0.1:*", &ro, NULL, NULL);
    assert_non_null(router);
    cmn_zsock_destroy(&router);
}

static void
test_bad_arguments(void **state)
{
    fx_t *fx = *state;
    cmn_err_reset();
    assert_null(cmn_zsock_new_router(fx->base, "bogus://x", NULL, NULL, NULL));
    assert_int_not_equal(cmn_err_code(), CMN_OK);
    assert_non_null(strstr(cmn_err_msg(), "bogus://x"));

    /* The port is taken by our own router. */
    cmn_err_reset();
    assert_null(cmn_zsock_new_router(fx->base, cmn_zsock_endpoint(fx->router),
                                     NULL, NULL, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);

    cmn_err_reset();
    char longid[300];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_null(cmn_zsock_new_dealer(fx->base, "tcp://127.0.0.1:1", longid, NULL,
                                     NULL, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);

    cmn_zsock_destroy(NULL);
    cmn_zsock_t *none = NULL;
    cmn_zsock_destroy(&none);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_all_arrive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_dropped_socket_survives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_frame_count_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_to_unknown_peer_unavailable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_destroy_inside_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_curve_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmn_zmq_shutdown();
    return rc;
}
