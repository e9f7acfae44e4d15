/* CURVE key files: validity, fingerprints, modes refused, pairs kept. */
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
#include "cmn_keys.h"
#include "cmn_util.h"

static char s_dir[256];

static int
setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof(s_dir), "/tmp/herd-test-keys.XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s/keys", s_dir);
    const char *files[] = { "a.key", "a.pub", "keys/b.key", "keys/b.pub",
                            "bad.key", "open.key", "junk.pub" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", s_dir, files[i]);
        unlink(p);
    }
    rmdir(cmd);
    rmdir(s_dir);
    return 0;
}

static void
test_valid_and_fingerprint(void **state)
{
    (void)state;
    char pub[41], sec[41], pub2[41], fp[CMN_KEY_FP_LEN], fp2[CMN_KEY_FP_LEN];
    assert_int_equal(cmn_key_generate(pub, sec), 0);
    assert_true(cmn_key_valid(pub));
    assert_true(cmn_key_valid(sec));
    assert_int_equal(cmn_key_public_of(sec, pub2), 0);
    assert_string_equal(pub, pub2);
    assert_false(cmn_key_valid(NULL));
    assert_false(cmn_key_valid(""));
    assert_false(cmn_key_valid("short"));
    char bad[41];
    memcpy(bad, pub, 41);
    bad[5] = '"';               /* not in the Z85 alphabet */
    assert_false(cmn_key_valid(bad));
    assert_int_equal(cmn_key_fingerprint(pub, fp), 0);
    assert_int_equal(strlen(fp), 50);
    assert_memory_equal(fp, "SHA256:", 7);
    assert_int_equal(cmn_key_fingerprint(pub, fp2), 0);
    assert_string_equal(fp, fp2);
    assert_int_equal(cmn_key_fingerprint(sec, fp2), 0);
    assert_string_not_equal(fp, fp2);
    cmn_err_reset();
    assert_int_equal(cmn_key_fingerprint("nope", fp), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    /* A known vector: the all-zero key "0000...0" (Z85 of 32 zero bytes). */
    assert_int_equal(cmn_key_fingerprint(
        "0000000000000000000000000000000000000000", fp), 0);
    /* sha256 of 32 zero bytes = 66687aad...; base64 "ZmZ6rdaP..." */
    assert_memory_equal(fp, "SHA256:Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU",
                        50);
}

static void
test_secret_mode_refused(void **state)
{
    (void)state;
    char pub[41], sec[41], p[512], out[41];
    assert_int_equal(cmn_key_generate(pub, sec), 0);
    snprintf(p, sizeof(p), "%s/open.key", s_dir);
    assert_int_equal(cmn_key_write(p, sec, true, "test"), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cmn_key_load_secret(p, out), 0);
    assert_string_equal(out, sec);
    chmod(p, 0640);
    cmn_err_reset();
    assert_int_equal(cmn_key_load_secret(p, out), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), p));
    assert_non_null(strstr(cmn_err_msg(), "chmod 600"));
    assert_non_null(strstr(cmn_err_msg(), "0640"));
    chmod(p, 0604);
    cmn_err_reset();
    assert_int_equal(cmn_key_load_secret(p, out), -1);
    chmod(p, 0400);
    cmn_err_reset();
    assert_int_equal(cmn_key_load_secret(p, out), 0);
    /* public keys may be world-readable */
    snprintf(p, sizeof(p), "%s/a.pub", s_dir);
    assert_int_equal(cmn_key_write(p, pub, false, NULL), 0);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(cmn_key_load_public(p, out), 0);
    assert_string_equal(out, pub);
}

static void
test_bad_files(void **state)
{
    (void)state;
    char p[512], out[41];
    snprintf(p, sizeof(p), "%s/junk.pub", s_dir);
    const char *junk = "# comment\n\nnot a key at all\n";
    assert_int_equal(cmn_file_write_atomic(p, junk, strlen(junk), 0644), 0);
    cmn_err_reset();
    assert_int_equal(cmn_key_load_public(p, out), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), p));
    const char *empty = "# only a comment\n";
    assert_int_equal(cmn_file_write_atomic(p, empty, strlen(empty), 0644), 0);
    cmn_err_reset();
    assert_int_equal(cmn_key_load_public(p, out), -1);
    assert_non_null(strstr(cmn_err_msg(), "holds no key"));
    snprintf(p, sizeof(p), "%s/missing.pub", s_dir);
    cmn_err_reset();
    assert_int_equal(cmn_key_load_public(p, out), -1);
    assert_non_null(strstr(cmn_err_msg(), p));
    cmn_err_reset();
    assert_int_equal(cmn_key_load_public(s_dir, out), -1);  /* a folder */
}

static void
test_ensure_pair(void **state)
{
    (void)state;
    char sp[512], pp[512], pub[41], sec[41], pub2[41], sec2[41];
    snprintf(sp, sizeof(sp), "%s/keys/b.key", s_dir);
    snprintf(pp, sizeof(pp), "%s/keys/b.pub", s_dir);
    bool created = false;
    assert_int_equal(cmn_key_ensure_pair(sp, pp, "engine", pub, sec, &created), 0);
    assert_true(created);
    struct stat st;
    char d[512];
    snprintf(d, sizeof(d), "%s/keys", s_dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(cmn_key_ensure_pair(sp, pp, "engine", pub2, sec2, &created), 0);
    assert_false(created);
    assert_string_equal(pub, pub2);
    assert_string_equal(sec, sec2);
    /* a lost public key is rewritten from the secret one */
    unlink(pp);
    assert_int_equal(cmn_key_ensure_pair(sp, pp, "engine", pub2, sec2, &created), 0);
    assert_false(created);
    char out[41];
    assert_int_equal(cmn_key_load_public(pp, out), 0);
    assert_string_equal(out, pub);
    /* an open secret key is an error, never replaced */
    chmod(sp, 0644);
    cmn_err_reset();
    assert_int_equal(cmn_key_ensure_pair(sp, pp, "engine", pub2, sec2, &created), -1);
    assert_non_null(strstr(cmn_err_msg(), "chmod 600"));
    chmod(sp, 0600);
    /* a public key without its secret key is an error */
    unlink(sp);
    cmn_err_reset();
    assert_int_equal(cmn_key_ensure_pair(sp, pp, "engine", pub2, sec2, &created), -1);
    assert_non_null(strstr(cmn_err_msg(), sp));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_fingerprint),
        cmocka_unit_test(test_secret_mode_refused),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_ensure_pair),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
