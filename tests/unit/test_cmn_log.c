/* Logging: level names, category filters and their errors, log file output,
 * and the error object. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("test.log");

static int s_evaluated;

static int
count_eval(void)
{
    return ++s_evaluated;
}

static void
test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(cmn_log_level_parse("error"), CMN_LOG_ERROR);
    assert_int_equal(cmn_log_level_parse("warn"), CMN_LOG_WARN);
    assert_int_equal(cmn_log_level_parse("warning"), CMN_LOG_WARN);
    assert_int_equal(cmn_log_level_parse("info"), CMN_LOG_INFO);
    assert_int_equal(cmn_log_level_parse("debug"), CMN_LOG_DEBUG);
    assert_int_equal(cmn_log_level_parse("DEBUG"), -1);
    assert_int_equal(cmn_log_level_parse(""), -1);
    assert_int_equal(cmn_log_level_parse(NULL), -1);
}

static void
test_filters(void **state)
{
    (void)state;
    cmn_log_cat_t rpc = { "rpc.zmq", -1, 0 };
    cmn_log_cat_t store = { "store", -1, 0 };
    cmn_log_cat_t other = { "agent.virt", -1, 0 };

    cmn_log_set_level(CMN_LOG_INFO);
    assert_int_equal(cmn_log_set_filters(""), 0);
    assert_true(cmn_log_enabled(&rpc, CMN_LOG_INFO));
    assert_false(cmn_log_enabled(&rpc, CMN_LOG_DEBUG));

    cmn_err_reset();
    assert_int_equal(cmn_log_set_filters("rpc.*:debug,store:warn"), 0);
    assert_true(cmn_log_enabled(&rpc, CMN_LOG_DEBUG));
    assert_false(cmn_log_enabled(&store, CMN_LOG_INFO));
    assert_true(cmn_log_enabled(&store, CMN_LOG_WARN));
    assert_true(cmn_log_enabled(&other, CMN_LOG_INFO));
    assert_false(cmn_log_enabled(&other, CMN_LOG_DEBUG));

    /* The last matching filter wins. */
    assert_int_equal(cmn_log_set_filters("rpc.*:debug,rpc.zmq:error"), 0);
    assert_false(cmn_log_enabled(&rpc, CMN_LOG_WARN));
    assert_true(cmn_log_enabled(&rpc, CMN_LOG_ERROR));

    /* The default level moves categories without a filter. */
    cmn_log_set_level(CMN_LOG_ERROR);
    assert_false(cmn_log_enabled(&other, CMN_LOG_WARN));
    cmn_log_set_level(CMN_LOG_INFO);
    assert_int_equal(cmn_log_set_filters(NULL), 0);
}

static void
test_filter_errors_keep_previous(void **state)
{
    (void)state;
    cmn_log_cat_t rpc = { "rpc.zmq", -1, 0 };
    cmn_log_set_level(CMN_LOG_INFO);
    assert_int_equal(cmn_log_set_filters("rpc.*:debug"), 0);

    struct { const char *in, *want; } bad[] = {
        { "rpc", "'rpc' is not CATEGORY:LEVEL" },
        { ":debug", "':debug' is not CATEGORY:LEVEL" },
        { "rpc:", "has no valid level" },
        { "rpc:loud", "level 'loud' is not" },
        { "store:warn,rpc:verbose", "'rpc:verbose'" },
        { "rpc:debugdebugdebugdebug", "has no valid level" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cmn_err_reset();
        assert_int_equal(cmn_log_set_filters(bad[i].in), -1);
        assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
        if (!strstr(cmn_err_msg(), bad[i].want))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, cmn_err_msg(),
                     bad[i].want);
        /* The previous filters still apply. */
        assert_true(cmn_log_enabled(&rpc, CMN_LOG_DEBUG));
    }

    char many[2048] = "";
    size_t used = 0;
    for (int i = 0; i < 40; i++)
        used += (size_t)snprintf(many + used, sizeof(many) - used, "c%d:info,", i);
    cmn_err_reset();
    assert_int_equal(cmn_log_set_filters(many), -1);
    assert_non_null(strstr(cmn_err_msg(), "more than"));

    char longcat[200];
    memset(longcat, 'x', 100);
    snprintf(longcat + 100, sizeof(longcat) - 100, ":info");
    cmn_err_reset();
    assert_int_equal(cmn_log_set_filters(longcat), -1);
    assert_non_null(strstr(cmn_err_msg(), "too long"));
    assert_int_equal(cmn_log_set_filters(""), 0);
}

static void
test_log_file_and_lazy_arguments(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cmn_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    cmn_log_set_level(CMN_LOG_INFO);
    assert_int_equal(cmn_log_set_filters(""), 0);
    cmn_log_set_ident("herd-test");
    assert_int_equal(cmn_log_set_file(path), 0);

    s_evaluated = 0;
    CMN_INFO("hello %d\nsecond line", 42);
    CMN_DEBUG("not wanted %d", count_eval());
    assert_int_equal(s_evaluated, 0);           /* arguments not evaluated */
    CMN_WARN("warned %d", count_eval());
    assert_int_equal(s_evaluated, 1);

    assert_int_equal(cmn_log_set_file(NULL), 0);
    cmn_log_set_ident(NULL);

    size_t len;
    char *text = cmn_file_read(path, 1 << 16, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "herd-test info test.log: hello 42 second line\n"));
    assert_non_null(strstr(text, "herd-test warn test.log: warned 1\n"));
    assert_null(strstr(text, "not wanted"));
    free(text);
    unlink(path);

    cmn_err_reset();
    assert_int_equal(cmn_log_set_file("/nonexistent-dir/x.log"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_IO);
    assert_non_null(strstr(cmn_err_msg(), "/nonexistent-dir/x.log"));
}

static int
fail_twice(void)
{
    CMN_ERR(CMN_ERR_NOT_FOUND, "first %s", "error");
    errno = ENOENT;
    return CMN_ERR_ERRNO(CMN_ERR_IO, "second");
}

static void
test_error_object(void **state)
{
    (void)state;
    cmn_err_reset();
    assert_null(cmn_err_last());
    assert_int_equal(cmn_err_code(), CMN_OK);
    assert_string_equal(cmn_err_msg(), "");

    assert_int_equal(fail_twice(), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);     /* first wins */
    assert_string_equal(cmn_err_msg(), "first error");
    assert_non_null(cmn_err_last()->file);
    assert_true(cmn_err_last()->line > 0);

    cmn_err_reset();
    errno = ENOENT;
    CMN_ERR_ERRNO(CMN_ERR_IO, "open %s", "x");
    assert_int_equal(cmn_err_last()->sys_errno, ENOENT);
    assert_string_equal(cmn_err_msg(), "open x: No such file or directory");

    assert_string_equal(cmn_code_name(CMN_ERR_NOT_FOUND), "not_found");
    assert_string_equal(cmn_code_name(CMN_OK), "ok");
    assert_string_equal(cmn_code_name((cmn_code_t)999), "unknown");
    assert_true(cmn_code_valid(CMN_ERR_AUTH));
    assert_false(cmn_code_valid(CMN_ERR__LAST));
    assert_false(cmn_code_valid(-1));
    for (int c = 0; c < CMN_ERR__LAST; c++)
        assert_string_not_equal(cmn_code_name((cmn_code_t)c), "unknown");
    cmn_err_reset();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_filter_errors_keep_previous),
        cmocka_unit_test(test_log_file_and_lazy_arguments),
        cmocka_unit_test(test_error_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
