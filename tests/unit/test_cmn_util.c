/* ids, time, integer parsing, files, printable strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmn_err.h"
#include "cmn_util.h"

static void
test_uuid(void **state)
{
    (void)state;
    char a[CMN_UUID_STRLEN + 1], b[CMN_UUID_STRLEN + 1];
    cmn_uuid_generate(a);
    cmn_uuid_generate(b);
    assert_int_equal(strlen(a), 36);
    assert_true(cmn_uuid_valid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');                       /* version 4 */
    assert_non_null(strchr("89ab", a[19]));             /* variant */
    for (int i = 0; i < 36; i++)
        assert_true(a[i] == '-' || (a[i] >= '0' && a[i] <= '9') ||
                    (a[i] >= 'a' && a[i] <= 'f'));

    assert_true(cmn_uuid_valid("0B7C8A52-7F43-4F4E-9B1A-3D2F6C1E9A01"));
    assert_false(cmn_uuid_valid(NULL));
    assert_false(cmn_uuid_valid(""));
    assert_false(cmn_uuid_valid("0b7c8a52-7f43-4f4e-9b1a-3d2f6c1e9a0"));
    assert_false(cmn_uuid_valid("0b7c8a52-7f43-4f4e-9b1a-3d2f6c1e9a011"));
    assert_false(cmn_uuid_valid("0b7c8a52x7f43-4f4e-9b1a-3d2f6c1e9a01"));
    assert_false(cmn_uuid_valid("0b7c8a52-7f43-4f4e-9b1a-3d2f6c1e9g01"));
    assert_false(cmn_uuid_valid("../../etc/passwd-aaaaaaaaaaaaaaaaaaa"));
}

static void
test_time(void **state)
{
    (void)state;
    uint64_t ms = cmn_time_ms();
    assert_true(ms > 1700000000000ull);
    uint64_t m1 = cmn_mono_us();
    uint64_t m2 = cmn_mono_us();
    assert_true(m2 >= m1);
    assert_true(cmn_time_us() / 1000 >= ms);
    assert_true(cmn_mono_ms() <= cmn_mono_us() / 1000 + 1);

    char buf[32];
    cmn_time_iso(1795000000123ull, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-18T11:06:40.123Z");
    cmn_time_iso(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void
test_parse_int64(void **state)
{
    (void)state;
    int64_t v = 0;
    cmn_err_reset();
    assert_int_equal(cmn_parse_int64("42", 0, 100, "count", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cmn_parse_int64("-7", -10, 10, "x", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(cmn_parse_int64("9223372036854775807", INT64_MIN, INT64_MAX,
                                     "x", &v), 0);
    assert_int_equal(v, INT64_MAX);

    const char *bad[] = { "", "abc", "12abc", " 1", "1 ", "0x10", "1.5",
                          "99999999999999999999", "101", "-1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cmn_err_reset();
        v = 5;
        assert_int_equal(cmn_parse_int64(bad[i], 0, 100, "count", &v), -1);
        assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
        assert_non_null(strstr(cmn_err_msg(), "count"));
        assert_int_equal(v, 5);
    }
    cmn_err_reset();
    assert_int_equal(cmn_parse_int64(NULL, 0, 1, "n", &v), -1);
}

static void
test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_cmn_util_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[256], path[300];
    snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
    cmn_err_reset();
    assert_int_equal(cmn_mkdir_p(sub, 0750), 0);
    assert_int_equal(cmn_mkdir_p(sub, 0750), 0);        /* exists: fine */
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    snprintf(path, sizeof(path), "%s/file", sub);
    assert_int_equal(cmn_file_write_atomic(path, "hello\n", 6, 0600), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cmn_file_write_atomic(path, "bye", 3, 0644), 0);

    size_t len = 0;
    char *got = cmn_file_read(path, 100, &len);
    assert_non_null(got);
    assert_int_equal(len, 3);
    assert_string_equal(got, "bye");
    free(got);

    /* Too big. */
    cmn_err_reset();
    assert_null(cmn_file_read(path, 2, &len));
    assert_int_equal(cmn_err_code(), CMN_ERR_TOO_BIG);

    /* A regular file in the way of mkdir -p. */
    char blocked[320];
    snprintf(blocked, sizeof(blocked), "%s/x", path);
    cmn_err_reset();
    assert_int_equal(cmn_mkdir_p(blocked, 0750), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_IO);

    /* Missing file names the path. */
    unlink(path);
    cmn_err_reset();
    assert_null(cmn_file_read(path, 100, &len));
    assert_int_equal(cmn_err_code(), CMN_ERR_IO);
    assert_non_null(strstr(cmn_err_msg(), path));
    assert_int_equal(cmn_err_last()->sys_errno, 2);

    /* Writing into a missing folder fails and leaves nothing behind. */
    char nowhere[320];
    snprintf(nowhere, sizeof(nowhere), "%s/missing/file", dir);
    cmn_err_reset();
    assert_int_equal(cmn_file_write_atomic(nowhere, "x", 1, 0600), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_IO);

    /* /proc files report size 0 but have content. */
    got = cmn_file_read("/proc/self/status", 1 << 20, &len);
    assert_non_null(got);
    assert_true(len > 0);
    free(got);

    char rm_path[64];
    snprintf(rm_path, sizeof(rm_path), "%s/a/b/c", dir);
    rmdir(rm_path);
    snprintf(rm_path, sizeof(rm_path), "%s/a/b", dir);
    rmdir(rm_path);
    snprintf(rm_path, sizeof(rm_path), "%s/a", dir);
    rmdir(rm_path);
    rmdir(dir);
}

static void
test_printable(void **state)
{
    (void)state;
    assert_true(cmn_str_printable("vm-01", 64, NULL));
    assert_true(cmn_str_printable("a b", 3, NULL));
    assert_false(cmn_str_printable("abcd", 3, NULL));
    assert_false(cmn_str_printable("", 10, NULL));
    assert_false(cmn_str_printable(NULL, 10, NULL));
    assert_false(cmn_str_printable("tab\there", 64, NULL));
    assert_false(cmn_str_printable("new\nline", 64, NULL));
    assert_false(cmn_str_printable("caf\xc3\xa9", 64, NULL));
    assert_false(cmn_str_printable("a/b", 64, "/"));
    assert_true(cmn_str_printable("a.b", 64, "/"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
