/* The in-memory table of newest statistics samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "eng_stats.h"

static json_t *
sample(double used)
{
    return json_pack("{s:{s:f, s:s, s:s}, s:I}", "memory.used", "value", used,
                     "unit", "bytes", "type", "gauge", "time_ms",
                     (json_int_t)1795000000000LL);
}

static double
used_of(json_t *s)
{
    return json_real_value(json_object_get(json_object_get(s, "memory.used"),
                                           "value"));
}

static void
test_put_get_replace_remove(void **state)
{
    (void)state;
    eng_stats_t *st = eng_stats_new();
    assert_non_null(st);
    assert_null(eng_stats_get(st, "vm-1"));

    eng_stats_put(st, "vm-1", sample(1.0));
    eng_stats_put(st, "vm-2", sample(2.0));
    assert_true(used_of(eng_stats_get(st, "vm-1")) == 1.0);
    assert_true(used_of(eng_stats_get(st, "vm-2")) == 2.0);

    /* a caller may keep a sample past the next put with a reference */
    json_t *kept = json_incref(eng_stats_get(st, "vm-1"));
    eng_stats_put(st, "vm-1", sample(3.0));
    assert_true(used_of(eng_stats_get(st, "vm-1")) == 3.0);
    assert_true(used_of(kept) == 1.0);
    json_decref(kept);

    eng_stats_remove(st, "vm-1");
    assert_null(eng_stats_get(st, "vm-1"));
    eng_stats_remove(st, "vm-1");           /* absent: fine */
    assert_non_null(eng_stats_get(st, "vm-2"));

    /* bad arguments are dropped without leaking (valgrind checks) */
    eng_stats_put(st, NULL, sample(4.0));
    eng_stats_put(st, "bad-\xff-id", sample(5.0));
    eng_stats_put(st, "vm-3", NULL);
    assert_null(eng_stats_get(st, "vm-3"));
    assert_null(eng_stats_get(st, NULL));

    eng_stats_destroy(&st);
    assert_null(st);
    eng_stats_destroy(&st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
