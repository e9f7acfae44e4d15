/* auth.max_failures: the table of failed password checks per client
 * address, with explicit times. Over the limit an address is refused (and
 * told how long to wait) while others are not; refusals take nothing; the
 * bucket refills at max_failures a minute; the first failure over the
 * limit is reported once a minute; the table holds at most its capacity,
 * forgetting the oldest. Also the config key. */
#include "test_helpers.h"

#include "eng_conf.h"
#include "eng_rest_priv.h"

#define T0 1000000          /* an arbitrary monotonic start, ms */

static void
test_over_limit(void **state)
{
    (void)state;
    eng_rest_limit_t *l = eng_rest_limit_new(5, ENG_REST_LIMIT_ADDRS);
    assert_non_null(l);
    const char *a = "192.0.2.7";
    unsigned fails = 0;
    int64_t wait = 0;
    assert_int_equal(eng_rest_limit_wait(l, a, T0), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(eng_rest_limit_wait(l, a, T0), 0);
        assert_false(eng_rest_limit_fail(l, a, T0, &fails, &wait));
    }
    assert_int_equal(eng_rest_limit_wait(l, a, T0), 0);
    /* the 5th failure goes over the limit: reported, with the count */
    assert_true(eng_rest_limit_fail(l, a, T0, &fails, &wait));
    assert_int_equal(fails, 5);
    assert_int_equal(wait, 12000);              /* 5 a minute: 12 s */
    /* refused now, and for the next 12 s; asking again takes nothing */
    for (int i = 0; i < 100; i++)
        assert_true(eng_rest_limit_wait(l, a, T0 + 5 + i) > 0);
    int64_t w = eng_rest_limit_wait(l, a, T0 + 11998);
    assert_int_equal(w, 2);
    /* another address is not limited */
    assert_int_equal(eng_rest_limit_wait(l, "192.0.2.8", T0 + 10), 0);
    assert_int_equal(eng_rest_limit_wait(l, "192.0.2.70", T0 + 10), 0);
    /* one check is back after 12 s; failing it refuses again, without a
     * second report within the minute */
    assert_true(eng_rest_limit_wait(l, a, T0 + 11999) > 0);
    assert_int_equal(eng_rest_limit_wait(l, a, T0 + 12000), 0);
    assert_false(eng_rest_limit_fail(l, a, T0 + 12000, &fails, &wait));
    assert_true(eng_rest_limit_wait(l, a, T0 + 12001) > 0);
    /* a minute after the report, the next failure over the limit is
     * reported again, counting the failures since */
    assert_int_equal(eng_rest_limit_wait(l, a, T0 + 60000), 0);
    assert_false(eng_rest_limit_fail(l, a, T0 + 60000, NULL, NULL));
    assert_false(eng_rest_limit_fail(l, a, T0 + 60001, NULL, NULL));
    assert_false(eng_rest_limit_fail(l, a, T0 + 60002, NULL, NULL));
    assert_true(eng_rest_limit_fail(l, a, T0 + 60003, &fails, &wait));
    assert_int_equal(fails, 5);     /* 1 at +12 s and 4 now */
    eng_rest_limit_destroy(&l);
    assert_null(l);
    eng_rest_limit_destroy(&l);
}

static void
test_refill(void **state)
{
    (void)state;
    eng_rest_limit_t *l = eng_rest_limit_new(10, 16);
    const char *a = "2001:db8::1";
    for (int i = 0; i < 10; i++)
        eng_rest_limit_fail(l, a, T0, NULL, NULL);
    assert_true(eng_rest_limit_wait(l, a, T0) > 0);
    /* after the window every check is back: ten more failures at once */
    int n = 0;
    while (n < 20 && eng_rest_limit_wait(l, a, T0 + 60000) == 0) {
        eng_rest_limit_fail(l, a, T0 + 60000, NULL, NULL);
        n++;
    }
    assert_int_equal(n, 10);
    /* an idle hour: still ten, not more */
    n = 0;
    while (n < 20 && eng_rest_limit_wait(l, a, T0 + 3660000) == 0) {
        eng_rest_limit_fail(l, a, T0 + 3660000, NULL, NULL);
        n++;
    }
    assert_int_equal(n, 10);
    /* a clock going back refills nothing and breaks nothing */
    assert_true(eng_rest_limit_wait(l, a, T0) > 0);
    eng_rest_limit_destroy(&l);
}

static void
test_unlimited(void **state)
{
    (void)state;
    eng_rest_limit_t *l = eng_rest_limit_new(0, ENG_REST_LIMIT_ADDRS);
    assert_non_null(l);
    for (int i = 0; i < 1000; i++) {
        assert_false(eng_rest_limit_fail(l, "192.0.2.1", T0, NULL, NULL));
        assert_int_equal(eng_rest_limit_wait(l, "192.0.2.1", T0), 0);
    }
    assert_int_equal(eng_rest_limit_count(l), 0);
    eng_rest_limit_destroy(&l);
    /* NULL table or address: nothing limited, nothing crashes */
    assert_int_equal(eng_rest_limit_wait(NULL, "192.0.2.1", T0), 0);
    assert_false(eng_rest_limit_fail(NULL, "192.0.2.1", T0, NULL, NULL));
}

static void
s_addr(char *buf, size_t size, unsigned i)
{
    snprintf(buf, size, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
             i & 255);
}

static void
test_eviction(void **state)
{
    (void)state;
    eng_rest_limit_t *l = eng_rest_limit_new(1, ENG_REST_LIMIT_ADDRS);
    char addr[ENG_REST_ADDR_LEN];
    /* 5000 addresses fail once each (1 a minute: each goes over) */
    for (unsigned i = 0; i < 5000; i++) {
        s_addr(addr, sizeof(addr), i);
        assert_true(eng_rest_limit_fail(l, addr, T0 + i, NULL, NULL));
        assert_true(eng_rest_limit_count(l) <= ENG_REST_LIMIT_ADDRS);
    }
    assert_int_equal(eng_rest_limit_count(l), ENG_REST_LIMIT_ADDRS);
    /* the oldest were forgotten, the newest are still refused */
    s_addr(addr, sizeof(addr), 0);
    assert_int_equal(eng_rest_limit_wait(l, addr, T0 + 5000), 0);
    s_addr(addr, sizeof(addr), 5000 - ENG_REST_LIMIT_ADDRS - 1);
    assert_int_equal(eng_rest_limit_wait(l, addr, T0 + 5000), 0);
    s_addr(addr, sizeof(addr), 5000 - ENG_REST_LIMIT_ADDRS);
    assert_true(eng_rest_limit_wait(l, addr, T0 + 5000) > 0);
    s_addr(addr, sizeof(addr), 4999);
    assert_true(eng_rest_limit_wait(l, addr, T0 + 5000) > 0);
    eng_rest_limit_destroy(&l);

    /* a small table forgets the address whose last failure is oldest */
    l = eng_rest_limit_new(1, 3);
    eng_rest_limit_fail(l, "a", T0, NULL, NULL);
    eng_rest_limit_fail(l, "b", T0 + 1000, NULL, NULL);
    eng_rest_limit_fail(l, "c", T0 + 2000, NULL, NULL);
    assert_true(eng_rest_limit_wait(l, "a", T0 + 2000) > 0);
    eng_rest_limit_fail(l, "d", T0 + 3000, NULL, NULL);
    assert_int_equal(eng_rest_limit_count(l), 3);
    assert_int_equal(eng_rest_limit_wait(l, "a", T0 + 3000), 0);
    assert_true(eng_rest_limit_wait(l, "b", T0 + 3000) > 0);
    assert_true(eng_rest_limit_wait(l, "c", T0 + 3000) > 0);
    assert_true(eng_rest_limit_wait(l, "d", T0 + 3000) > 0);
    eng_rest_limit_destroy(&l);
}

static void
test_long_address(void **state)
{
    (void)state;
    eng_rest_limit_t *l = eng_rest_limit_new(1, 4);
    char a[200];
    memset(a, 'f', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    assert_true(eng_rest_limit_fail(l, a, T0, NULL, NULL));
    assert_true(eng_rest_limit_wait(l, a, T0) > 0);
    eng_rest_limit_destroy(&l);
}

static void
test_conf_key(void **state)
{
    (void)state;
    eng_conf_t c;
    OK(eng_conf_load_data(&c, "t.yaml", "", 0));
    assert_int_equal(c.auth_max_failures, 10);
    eng_conf_clear(&c);
    const char *y = "auth:\n  max_failures: 0\n";
    OK(eng_conf_load_data(&c, "t.yaml", y, strlen(y)));
    assert_int_equal(c.auth_max_failures, 0);
    eng_conf_clear(&c);
    y = "auth:\n  max_failures: -1\n";
    cmn_err_reset();
    assert_int_equal(eng_conf_load_data(&c, "t.yaml", y, strlen(y)), -1);
    assert_non_null(strstr(cmn_err_msg(), "auth.max_failures"));
    y = "auth:\n  max_failures: lots\n";
    cmn_err_reset();
    assert_int_equal(eng_conf_load_data(&c, "t.yaml", y, strlen(y)), -1);
    assert_non_null(strstr(cmn_err_msg(), "max_failures"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_over_limit),
        cmocka_unit_test(test_refill),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_long_address),
        cmocka_unit_test(test_conf_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
