/* agents.pending_rate: the token bucket on its own (explicit times), and
 * through the gate with a test clock: unknown keys add at most that many
 * pending hosts a minute, the others get "too many new hosts; try again
 * later" and leave no record, tokens and pre-registered keys are not
 * counted, and refusals make at most one warning event a minute. Also the
 * config key. */
#include "test_helpers.h"

#include <event2/event.h>

#include "cmn_conf.h"
#include "cmn_keys.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_conf.h"
#include "eng_ctx.h"
#include "eng_enroll.h"
#include "fx_eng.h"

/* ---- the bucket ---------------------------------------------------------- */

static void
test_bucket(void **state)
{
    (void)state;
    eng_rate_t r;
    eng_rate_init(&r, 30, 1000);
    for (int i = 0; i < 30; i++)
        if (!eng_rate_take(&r, 1000))
            fail_msg("take %d of 30 at once refused", i + 1);
    assert_false(eng_rate_take(&r, 1000));
    assert_false(eng_rate_take(&r, 2999));      /* 30/min: one per 2 s */
    assert_true(eng_rate_take(&r, 3000));
    assert_false(eng_rate_take(&r, 3000));
    /* a clock going back refills nothing and breaks nothing */
    assert_false(eng_rate_take(&r, 500));
    assert_false(eng_rate_take(&r, 4999));
    assert_true(eng_rate_take(&r, 5000));
    /* an idle hour refills the bucket, but only to 30 */
    int64_t t = 5000 + 3600 * 1000LL;
    int n = 0;
    while (eng_rate_take(&r, t))
        n++;
    assert_int_equal(n, 30);
    /* 0: no limit */
    eng_rate_init(&r, 0, 0);
    for (int i = 0; i < 100000; i++)
        assert_true(eng_rate_take(&r, 0));
    /* the largest rate, after a very long time: no overflow */
    eng_rate_init(&r, 100000, 0);
    n = 0;
    while (n <= 100000 && eng_rate_take(&r, 0))
        n++;
    assert_int_equal(n, 100000);
    n = 0;
    while (n <= 100000 && eng_rate_take(&r, INT64_MAX / 2))
        n++;
    assert_int_equal(n, 100000);
    /* 1 a minute */
    eng_rate_init(&r, 1, 0);
    assert_true(eng_rate_take(&r, 0));
    assert_false(eng_rate_take(&r, 59999));
    assert_true(eng_rate_take(&r, 60000));
}

static void
test_conf_key(void **state)
{
    (void)state;
    eng_conf_t c;
    OK(eng_conf_load_data(&c, "t.yaml", "", 0));
    assert_int_equal(c.agents_pending_rate, 30);
    eng_conf_clear(&c);
    const char *y = "agents:\n  pending_rate: 0\n";
    OK(eng_conf_load_data(&c, "t.yaml", y, strlen(y)));
    assert_int_equal(c.agents_pending_rate, 0);
    eng_conf_clear(&c);
    y = "agents:\n  pending_rate: -1\n";
    cmn_err_reset();
    assert_int_equal(eng_conf_load_data(&c, "t.yaml", y, strlen(y)), -1);
    assert_non_null(strstr(cmn_err_msg(), "pending_rate"));
    assert_non_null(strstr(cmn_err_msg(), "t.yaml"));
    y = "agents:\n  pending_rate: lots\n";
    cmn_err_reset();
    assert_int_equal(eng_conf_load_data(&c, "t.yaml", y, strlen(y)), -1);
    assert_non_null(strstr(cmn_err_msg(), "pending_rate"));
}

/* ---- through the gate -------------------------------------------------- */

static int64_t s_clock_ms;

static int64_t
s_clock(void)
{
    return s_clock_ms;
}

typedef fx_eng_enroll_t t_env_t;

static int
setup(void **state)
{
    t_env_t *t = fx_eng_enroll_new("herd-test-rate", 3);
    s_clock_ms = 1000000;
    eng_enroll_set_clock(t->en, s_clock);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    fx_eng_enroll_destroy(*state);
    return 0;
}

/* A hello of a new host (fresh key and host id, or `key`/`host` given)
 * through the gate: the verdict; *code and msg the reply's; host_out the
 * host id used. */
static eng_gate_t
s_hello(t_env_t *t, const char *key, const char *token, int *code,
        char *msg, size_t msg_size, char host_out[ENG_ID_LEN])
{
    char pub[41], sec[41], host[ENG_ID_LEN];
    if (!key) {
        cmn_key_generate(pub, sec);
        key = pub;
    }
    cmn_uuid_generate(host);
    size_t len;
    uint8_t *buf = fx_eng_hello(host, "node", token, &len);
    char out[ENG_ID_LEN];
    eng_gate_t g = fx_eng_gate(t->en, key, buf, len, out, code, msg,
                               msg_size);
    free(buf);
    if (host_out)
        snprintf(host_out, ENG_ID_LEN, "%s", host);
    return g;
}

/* Events whose description holds `frag`; the newest one's text in last. */
static int
s_events(t_env_t *t, const char *frag, char *last, size_t size)
{
    eng_event_t *evs = NULL;
    size_t n = 0;
    OK(eng_store_event_list(t->ctx.store, 0, 0, false, &evs, &n));
    int count = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(evs[i].description, frag)) {
            count++;
            if (last)
                snprintf(last, size, "%s", evs[i].description);
            assert_int_equal(evs[i].code, ENG_EV_HOST_KEY_REFUSED);
            assert_int_equal(evs[i].severity, ENG_SEV_WARNING);
        }
    free(evs);
    return count;
}

static bool
s_host_exists(t_env_t *t, const char *id)
{
    eng_host_t h = {0};
    bool ok = eng_store_host_get(t->ctx.store, id, &h) == 0;
    eng_host_clear(&h);
    cmn_err_reset();
    return ok;
}

static void
test_gate_rate(void **state)
{
    t_env_t *t = *state;
    int code;
    char msg[256], host[ENG_ID_LEN], ev[1024];
    /* 3 at once go pending */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s_hello(t, NULL, NULL, &code, msg, sizeof(msg),
                                 host), ENG_GATE_REPLY);
        assert_int_equal(code, CMN_ERR_DENIED);
        assert_non_null(strstr(msg, "pending approval"));
        assert_true(s_host_exists(t, host));
    }
    /* the 4th (and many more) are told to retry, and leave no host */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(s_hello(t, NULL, NULL, &code, msg, sizeof(msg),
                                 host), ENG_GATE_REPLY);
        assert_int_equal(code, CMN_ERR_UNAVAILABLE);
        assert_string_equal(msg, "too many new hosts; try again later");
        assert_false(s_host_exists(t, host));
        s_clock_ms += 100;                  /* 5 s in all */
    }
    assert_int_equal(eng_enroll_rate_refused(t->en), 50);
    /* one warning event so far (the first refusal), naming the setting */
    assert_int_equal(s_events(t, "agents.pending_rate", ev, sizeof(ev)), 1);
    assert_non_null(strstr(ev, "more than 3 new hosts per minute"));
    /* 3 a minute is one per 20 s: at 20 s after the bucket emptied, one */
    s_clock_ms += 15000;
    assert_int_equal(s_hello(t, NULL, NULL, &code, msg, sizeof(msg), host),
                     ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_DENIED);
    assert_true(s_host_exists(t, host));
    assert_int_equal(s_hello(t, NULL, NULL, &code, NULL, 0, host),
                     ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_UNAVAILABLE);
    /* a token and a pre-registered key are not held back */
    char *tok = eng_enroll_token_create(t->en, "with-token", 60, "admin");
    assert_non_null(tok);
    assert_int_equal(s_hello(t, NULL, tok, &code, NULL, 0, host),
                     ENG_GATE_PASS);
    free(tok);
    char pub[41], sec[41];
    cmn_key_generate(pub, sec);
    OK(eng_enroll_register(t->en, pub, "prereg", "admin"));
    assert_int_equal(s_hello(t, pub, NULL, &code, NULL, 0, host),
                     ENG_GATE_PASS);
    /* still within the minute of the first event: no second one */
    assert_int_equal(s_events(t, "agents.pending_rate", NULL, 0), 1);
    /* a minute after it, the next refusal makes the summary of all those
     * since (the timer that would have made it earlier never runs here):
     * 49 + 1 + this one */
    s_clock_ms += 60000;
    for (int i = 0; i < 3; i++)
        s_hello(t, NULL, NULL, &code, NULL, 0, host);   /* bucket refilled */
    assert_int_equal(s_hello(t, NULL, NULL, &code, NULL, 0, host),
                     ENG_GATE_REPLY);
    assert_int_equal(code, CMN_ERR_UNAVAILABLE);
    assert_int_equal(s_events(t, "agents.pending_rate", ev, sizeof(ev)), 2);
    assert_non_null(strstr(ev, "Refused 51 more hello(s)"));
    assert_int_equal(eng_enroll_rate_refused(t->en), 52);
}

/* agents.pending_rate: 0 lets every unknown key go pending (up to the
 * 1000 pending hosts cap). */
static void
test_gate_unlimited(void **state)
{
    t_env_t *t = *state;
    eng_enroll_destroy(&t->en);
    t->ctx.conf.agents_pending_rate = 0;
    t->en = eng_enroll_new(&t->ctx);
    assert_non_null(t->en);
    eng_enroll_set_clock(t->en, s_clock);
    int code;
    for (int i = 0; i < 40; i++) {
        s_hello(t, NULL, NULL, &code, NULL, 0, NULL);
        assert_int_equal(code, CMN_ERR_DENIED);
    }
    assert_int_equal(eng_enroll_rate_refused(t->en), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_conf_key),
        cmocka_unit_test_setup_teardown(test_gate_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_unlimited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
