/* cmn_zsock_rekey over real tcp sockets on 127.0.0.1: after a CURVE ROUTER
 * changes its secret key, a DEALER that knows only the old server key can
 * no longer talk to it (its connection drops and its handshakes fail), one
 * that knows the new key can, on the same endpoint. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_zmq.h"
#include "fx_loop.h"

typedef struct {
    struct event_base *base;
    cmn_zsock_t *router, *old_dealer, *new_dealer;
    char spub[41], ssec[41];        /* the router's first pair */
    char npub[41], nsec[41];        /* its next pair */
    char cpub[41], csec[41];        /* the clients' pair */
    int r_count;                    /* messages the router received */
    char r_last[64];
    int old_count, new_count;       /* echoes each dealer received */
    int stop_r, stop_old, stop_new; /* break the loop at these counts */
} fx_t;

static void
on_router(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
          const uint8_t *data, size_t len, void *opaque)
{
    fx_t *fx = opaque;
    size_t n = len < sizeof(fx->r_last) - 1 ? len : sizeof(fx->r_last) - 1;
    memcpy(fx->r_last, data, n);
    fx->r_last[n] = '\0';
    fx->r_count++;
    cmn_zsock_send(sock, peer, peer_len, data, len);
    if (fx->stop_r && fx->r_count >= fx->stop_r)
        event_base_loopbreak(fx->base);
}

static void
on_old(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
       const uint8_t *data, size_t len, void *opaque)
{
    (void)sock, (void)peer, (void)peer_len, (void)data, (void)len;
    fx_t *fx = opaque;
    fx->old_count++;
    if (fx->stop_old && fx->old_count >= fx->stop_old)
        event_base_loopbreak(fx->base);
}

static void
on_new(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
       const uint8_t *data, size_t len, void *opaque)
{
    (void)sock, (void)peer, (void)peer_len, (void)data, (void)len;
    fx_t *fx = opaque;
    fx->new_count++;
    if (fx->stop_new && fx->new_count >= fx->stop_new)
        event_base_loopbreak(fx->base);
}

static void
run_loop(fx_t *fx, int ms)
{
    fx_loop_run(fx->base, ms);
}

static cmn_zsock_t *
s_dealer(fx_t *fx, const char *server_key, cmn_zsock_recv_cb cb)
{
    cmn_zsock_opts_t o = { .curve_public_key = fx->cpub,
                           .curve_secret_key = fx->csec,
                           .curve_server_key = server_key,
                           .reconnect_ivl_ms = 20,
                           .reconnect_ivl_max_ms = 100 };
    cmn_err_reset();
    cmn_zsock_t *d = cmn_zsock_new_dealer(fx->base,
                                          cmn_zsock_endpoint(fx->router),
                                          NULL, &o, cb, fx);
    if (!d)
        fail_msg("dealer: %s", cmn_err_msg());
    return d;
}

/* Send `msg` from d every 50 ms (a DEALER with ZMQ_IMMEDIATE refuses to
 * queue while it has no connection) until the loop is broken or ms pass. */
typedef struct {
    fx_t *fx;
    cmn_zsock_t *d;
    const char *msg;
    int sent;
} s_sender_t;

static void
on_send_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    s_sender_t *s = arg;
    if (cmn_zsock_send(s->d, NULL, 0, s->msg, strlen(s->msg)) == 0)
        s->sent++;
    cmn_err_reset();
}

static void
run_sending(fx_t *fx, cmn_zsock_t *d, const char *msg, int ms, int *sent)
{
    s_sender_t s = { fx, d, msg, 0 };
    struct event *t = event_new(fx->base, -1, EV_PERSIST, on_send_tick, &s);
    struct timeval tv = { 0, 50 * 1000 };
    event_add(t, &tv);
    on_send_tick(-1, 0, &s);
    run_loop(fx, ms);
    event_free(t);
    if (sent)
        *sent = s.sent;
}

static int
setup(void **state)
{
    fx_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->base = event_base_new();
    assert_int_equal(cmn_key_generate(fx->spub, fx->ssec), 0);
    assert_int_equal(cmn_key_generate(fx->npub, fx->nsec), 0);
    assert_int_equal(cmn_key_generate(fx->cpub, fx->csec), 0);
    cmn_zsock_opts_t ro = { .curve_secret_key = fx->ssec };
    cmn_err_reset();
    fx->router = cmn_zsock_new_router(fx->base, "tcp://127.0.0.1:*", &ro,
                                      on_router, fx);
    if (!fx->router)
        fail_msg("router: %s", cmn_err_msg());
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fx_t *fx = *state;
    cmn_zsock_destroy(&fx->old_dealer);
    cmn_zsock_destroy(&fx->new_dealer);
    cmn_zsock_destroy(&fx->router);
    event_base_free(fx->base);
    free(fx);
    return 0;
}

static void
test_old_key_cut_new_key_works(void **state)
{
    fx_t *fx = *state;
    char endpoint[256];
    snprintf(endpoint, sizeof(endpoint), "%s", cmn_zsock_endpoint(fx->router));

    /* Before: the old key talks. */
    fx->old_dealer = s_dealer(fx, fx->spub, on_old);
    fx->stop_old = 1;
    run_sending(fx, fx->old_dealer, "before", 5000, NULL);
    assert_int_equal(fx->old_count, 1);
    assert_string_equal(fx->r_last, "before");

    cmn_err_reset();
    if (cmn_zsock_rekey(fx->router, fx->nsec) < 0)
        fail_msg("rekey: %s", cmn_err_msg());
    assert_string_equal(cmn_zsock_endpoint(fx->router), endpoint);

    /* After: the old key's connection is gone and it cannot make another:
     * nothing it sends for 1.5 s reaches the router. */
    int r_before = fx->r_count, old_before = fx->old_count;
    fx->stop_old = 0;
    fx->stop_r = 0;
    int sent = 0;
    run_sending(fx, fx->old_dealer, "old-after", 1500, &sent);
    assert_int_equal(fx->r_count, r_before);
    assert_int_equal(fx->old_count, old_before);
    assert_string_equal(fx->r_last, "before");

    /* The new key talks, on the same endpoint. */
    fx->new_dealer = s_dealer(fx, fx->npub, on_new);
    fx->stop_new = 1;
    run_sending(fx, fx->new_dealer, "new", 5000, NULL);
    assert_int_equal(fx->new_count, 1);
    assert_string_equal(fx->r_last, "new");
    assert_int_equal(fx->r_count, r_before + 1);

    /* And the old key still does not. */
    fx->stop_new = 0;
    run_sending(fx, fx->old_dealer, "old-again", 500, NULL);
    assert_string_equal(fx->r_last, "new");
    assert_int_equal(fx->old_count, old_before);
}

static void
test_rekey_twice_back_to_first(void **state)
{
    fx_t *fx = *state;
    cmn_err_reset();
    assert_int_equal(cmn_zsock_rekey(fx->router, fx->nsec), 0);
    assert_int_equal(cmn_zsock_rekey(fx->router, fx->ssec), 0);
    fx->old_dealer = s_dealer(fx, fx->spub, on_old);
    fx->stop_old = 1;
    run_sending(fx, fx->old_dealer, "first", 5000, NULL);
    assert_int_equal(fx->old_count, 1);
}

static void
test_rekey_refuses_bad_input(void **state)
{
    fx_t *fx = *state;
    cmn_err_reset();
    assert_int_equal(cmn_zsock_rekey(fx->router, "not a key"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "curve_secret_key"));
    cmn_err_reset();
    assert_int_equal(cmn_zsock_rekey(NULL, fx->nsec), -1);
    cmn_err_reset();
    fx->old_dealer = s_dealer(fx, fx->spub, on_old);
    cmn_err_reset();
    assert_int_equal(cmn_zsock_rekey(fx->old_dealer, fx->nsec), -1);
    assert_non_null(strstr(cmn_err_msg(), "ROUTER"));
    /* The router still serves its key. */
    fx->stop_old = 1;
    run_sending(fx, fx->old_dealer, "still", 5000, NULL);
    assert_int_equal(fx->old_count, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_old_key_cut_new_key_works, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rekey_twice_back_to_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rekey_refuses_bad_input, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
