/* REST API users and authentication: argon2id hashes, login by password
 * (wrong password and unknown user alike), bootstrap of admin@internal,
 * bearer tokens (issue, verify, expiry, revoke, password change), the role
 * matrix, and Basic/Bearer header parsing with its errors. The store
 * migration that adds users and tokens is exercised through a real file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "cmn_err.h"
#include "eng_auth.h"
#include "eng_store.h"
#include "test_helpers.h"
#include "fx_eng.h"

typedef fx_eng_store_t fx_t;

#define FAILS(expr, code, needle) do { \
        cmn_err_reset(); \
        assert_int_equal((expr), -1); \
        assert_int_equal(cmn_err_code(), (code)); \
        if (strstr(cmn_err_msg(), (needle)) == NULL) \
            fail_msg("%s: message '%s' lacks '%s'", #expr, cmn_err_msg(), \
                     (needle)); \
    } while (0)

static int
setup(void **state)
{
    return fx_eng_store_setup(state, "test_eng_auth");
}

static int
teardown(void **state)
{
    return fx_eng_store_teardown(state);
}

static void
test_hash_verify(void **state)
{
    (void)state;
    char h[ENG_PWHASH_LEN];
    OK(eng_auth_hash_password("s3cret", h));
    assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
    assert_true(eng_auth_verify_hash(h, "s3cret"));
    assert_false(eng_auth_verify_hash(h, "s3creT"));
    assert_false(eng_auth_verify_hash(h, ""));
    assert_false(eng_auth_verify_hash("garbage", "s3cret"));

    char h2[ENG_PWHASH_LEN];
    OK(eng_auth_hash_password("s3cret", h2));
    assert_string_not_equal(h, h2);     /* salted */

    FAILS(eng_auth_hash_password("", h), CMN_ERR_INVALID, "empty");
    char big[ENG_AUTH_PASSWORD_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    FAILS(eng_auth_hash_password(big, h), CMN_ERR_INVALID, "longer than");
}

static void
test_bootstrap_and_login(void **state)
{
    fx_t *fx = *state;
    eng_user_t u;
    assert_int_equal(eng_store_schema_version(fx->s),
                     eng_store_schema_latest());

    FAILS(eng_auth_bootstrap(fx->s, NULL, ""), CMN_ERR_CONFIG,
          "user admin@internal does not exist yet and no password");
    OK(eng_auth_bootstrap(fx->s, NULL, "adminpw"));
    OK(eng_store_user_get_by_name(fx->s, "admin@internal", &u));
    assert_int_equal(u.role, ENG_ROLE_SUPERUSER);
    assert_true(cmn_uuid_valid(u.id));

    /* a second start with another password keeps the first */
    OK(eng_auth_bootstrap(fx->s, "admin@internal", "other"));
    OK(eng_auth_bootstrap(fx->s, NULL, NULL));
    eng_user_t who;
    OK(eng_auth_password(fx->s, "admin@internal", "adminpw", &who));
    assert_string_equal(who.id, u.id);
    /* names compare without case */
    OK(eng_auth_password(fx->s, "Admin@Internal", "adminpw", &who));

    FAILS(eng_auth_password(fx->s, "admin@internal", "adminpW", &who),
          CMN_ERR_AUTH, "wrong user name or password");
    FAILS(eng_auth_password(fx->s, "nobody@internal", "adminpw", &who),
          CMN_ERR_AUTH, "wrong user name or password");
    FAILS(eng_auth_password(fx->s, "admin@internal", "", &who),
          CMN_ERR_AUTH, "wrong user name or password");
}

static void
test_users(void **state)
{
    fx_t *fx = *state;
    eng_user_t u;
    OK(eng_auth_user_add(fx->s, "joe@internal", "joepw", ENG_ROLE_OPERATOR,
                         &u));
    assert_int_equal(u.role, ENG_ROLE_OPERATOR);
    FAILS(eng_auth_user_add(fx->s, "JOE@internal", "x", ENG_ROLE_READONLY,
                            NULL), CMN_ERR_EXISTS, "user 'JOE@internal'");
    FAILS(eng_auth_user_add(fx->s, "bad name", "x", ENG_ROLE_READONLY, NULL),
          CMN_ERR_INVALID, "user name 'bad name'");
    FAILS(eng_auth_user_add(fx->s, "", "x", ENG_ROLE_READONLY, NULL),
          CMN_ERR_INVALID, "user name is empty");
    FAILS(eng_auth_user_add(fx->s, "a@b", "x", (eng_role_t)7, NULL),
          CMN_ERR_INVALID, "bad role");

    OK(eng_store_user_set_role(fx->s, u.id, ENG_ROLE_READONLY));
    eng_user_t got;
    OK(eng_store_user_get(fx->s, u.id, &got));
    assert_int_equal(got.role, ENG_ROLE_READONLY);

    eng_user_t *list = NULL;
    size_t n = 0;
    OK(eng_auth_user_add(fx->s, "amy@internal", "amypw", ENG_ROLE_SUPERUSER,
                         NULL));
    OK(eng_store_user_list(fx->s, &list, &n));
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "amy@internal");
    free(list);

    OK(eng_auth_user_set_password(fx->s, "joe@internal", "newpw"));
    FAILS(eng_auth_password(fx->s, "joe@internal", "joepw", NULL),
          CMN_ERR_AUTH, "wrong");
    OK(eng_auth_password(fx->s, "joe@internal", "newpw", NULL));

    OK(eng_store_user_delete(fx->s, u.id));
    FAILS(eng_store_user_delete(fx->s, u.id), CMN_ERR_NOT_FOUND, "not found");
    assert_string_equal(eng_role_name(ENG_ROLE_OPERATOR), "Operator");
    assert_int_equal(eng_role_parse("readonly"), ENG_ROLE_READONLY);
    assert_int_equal(eng_role_parse("Admin"), -1);
}

static void
test_tokens(void **state)
{
    fx_t *fx = *state;
    eng_user_t u, who;
    OK(eng_auth_user_add(fx->s, "joe@internal", "joepw", ENG_ROLE_OPERATOR,
                         &u));
    char tok[ENG_AUTH_TOKEN_LEN], tok2[ENG_AUTH_TOKEN_LEN];
    int64_t exp = 0, now = 1000000;
    OK(eng_auth_token_issue(fx->s, u.id, 60000, now, tok, &exp));
    assert_int_equal(strlen(tok), ENG_AUTH_TOKEN_LEN - 1);
    assert_int_equal(exp, now + 60000);
    OK(eng_auth_token_issue(fx->s, u.id, 60000, now, tok2, NULL));
    assert_string_not_equal(tok, tok2);

    OK(eng_auth_token_verify(fx->s, tok, now + 59999, &who));
    assert_string_equal(who.name, "joe@internal");
    assert_int_equal(who.role, ENG_ROLE_OPERATOR);

    /* stored hashed: the token text is nowhere in the database file */
    eng_token_t t;
    FAILS(eng_store_token_get(fx->s, tok, &t), CMN_ERR_NOT_FOUND, "token");

    /* a token one character off is unknown */
    char other[ENG_AUTH_TOKEN_LEN];
    memcpy(other, tok, sizeof(other));
    other[0] = other[0] == 'A' ? 'B' : 'A';
    FAILS(eng_auth_token_verify(fx->s, other, now, &who), CMN_ERR_AUTH,
          "unknown or revoked");
    FAILS(eng_auth_token_verify(fx->s, "short", now, &who), CMN_ERR_AUTH,
          "malformed");
    FAILS(eng_auth_token_verify(fx->s, NULL, now, &who), CMN_ERR_AUTH,
          "malformed");

    /* expiry: refused, then gone */
    FAILS(eng_auth_token_verify(fx->s, tok, now + 60000, &who), CMN_ERR_AUTH,
          "expired");
    FAILS(eng_auth_token_verify(fx->s, tok, now, &who), CMN_ERR_AUTH,
          "unknown or revoked");

    /* revoke */
    OK(eng_auth_token_verify(fx->s, tok2, now, &who));
    OK(eng_auth_token_revoke(fx->s, tok2));
    FAILS(eng_auth_token_verify(fx->s, tok2, now, &who), CMN_ERR_AUTH,
          "unknown or revoked");
    FAILS(eng_auth_token_revoke(fx->s, tok2), CMN_ERR_NOT_FOUND, "not found");

    /* a password change revokes every token of the user */
    OK(eng_auth_token_issue(fx->s, u.id, 60000, now, tok, NULL));
    OK(eng_auth_user_set_password(fx->s, "joe@internal", "newpw"));
    FAILS(eng_auth_token_verify(fx->s, tok, now, &who), CMN_ERR_AUTH,
          "unknown or revoked");

    /* prune; deleting a user deletes its tokens */
    OK(eng_auth_token_issue(fx->s, u.id, 10, now, tok, NULL));
    OK(eng_auth_token_issue(fx->s, u.id, 100000, now, tok2, NULL));
    cmn_err_reset();
    assert_int_equal(eng_store_token_prune(fx->s, now + 10), 1);
    OK(eng_store_user_delete(fx->s, u.id));
    FAILS(eng_auth_token_verify(fx->s, tok2, now, &who), CMN_ERR_AUTH,
          "unknown or revoked");

    FAILS(eng_auth_token_issue(fx->s, "no-such-user", 1000, now, tok, NULL),
          CMN_ERR_NOT_FOUND, "token of user 'no-such-user'");
    FAILS(eng_auth_token_issue(fx->s, u.id, 0, now, tok, NULL),
          CMN_ERR_INVALID, "lifetime");
}

static void
test_tokens_survive_reopen(void **state)
{
    fx_t *fx = *state;
    eng_user_t u;
    char tok[ENG_AUTH_TOKEN_LEN];
    OK(eng_auth_bootstrap(fx->s, NULL, "pw"));
    OK(eng_store_user_get_by_name(fx->s, "admin@internal", &u));
    OK(eng_auth_token_issue(fx->s, u.id, 3600000, 0, tok, NULL));
    eng_store_destroy(&fx->s);
    cmn_err_reset();
    fx->s = eng_store_open(fx->path);
    assert_non_null(fx->s);
    OK(eng_auth_token_verify(fx->s, tok, 0, &u));
    assert_string_equal(u.name, "admin@internal");
}

static void
basic(const char *raw, char *hdr, size_t size)
{
    int n = snprintf(hdr, size, "Basic ");
    sodium_bin2base64(hdr + n, size - (size_t)n, (const unsigned char *)raw,
                      strlen(raw), sodium_base64_VARIANT_ORIGINAL);
}

static void
test_request(void **state)
{
    fx_t *fx = *state;
    eng_user_t u, who;
    char hdr[256], tok[ENG_AUTH_TOKEN_LEN];
    OK(eng_auth_user_add(fx->s, "ro@internal", "ropw", ENG_ROLE_READONLY, &u));

    basic("ro@internal:ropw", hdr, sizeof(hdr));
    OK(eng_auth_request(fx->s, hdr, 0, &who));
    assert_string_equal(who.id, u.id);
    assert_int_equal(who.role, ENG_ROLE_READONLY);
    basic("ro@internal:nope", hdr, sizeof(hdr));
    FAILS(eng_auth_request(fx->s, hdr, 0, &who), CMN_ERR_AUTH,
          "wrong user name or password");

    OK(eng_auth_token_issue(fx->s, u.id, 60000, 0, tok, NULL));
    snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
    OK(eng_auth_request(fx->s, hdr, 0, &who));
    assert_string_equal(who.name, "ro@internal");

    FAILS(eng_auth_request(fx->s, NULL, 0, &who), CMN_ERR_AUTH,
          "authentication required");
    FAILS(eng_auth_request(fx->s, "Digest x", 0, &who), CMN_ERR_AUTH,
          "use Basic or Bearer");
    FAILS(eng_auth_request(fx->s, "Bearer nope", 0, &who), CMN_ERR_AUTH,
          "malformed bearer token");
}

static void
test_basic_parse(void **state)
{
    (void)state;
    char hdr[4096], user[ENG_NAME_LEN], pw[ENG_AUTH_PASSWORD_MAX + 1];
    assert_int_equal(sodium_init() >= 0, 1);

    basic("admin@internal:pa:ss word", hdr, sizeof(hdr));
    OK(eng_auth_basic_parse(hdr, user, sizeof(user), pw, sizeof(pw)));
    assert_string_equal(user, "admin@internal");
    assert_string_equal(pw, "pa:ss word");      /* first ':' splits */

    OK(eng_auth_basic_parse("basic   YTpi", user, sizeof(user), pw,
                            sizeof(pw)));
    assert_string_equal(user, "a");
    assert_string_equal(pw, "b");
    OK(eng_auth_basic_parse("Basic YTo=", user, sizeof(user), pw, sizeof(pw)));
    assert_string_equal(pw, "");
    /* without padding ("a:bc") */
    OK(eng_auth_basic_parse("Basic YTpiYw", user, sizeof(user), pw,
                            sizeof(pw)));
    assert_string_equal(pw, "bc");

    FAILS(eng_auth_basic_parse(NULL, user, sizeof(user), pw, sizeof(pw)),
          CMN_ERR_AUTH, "no Authorization header");
    FAILS(eng_auth_basic_parse("Bearer abc", user, sizeof(user), pw,
                               sizeof(pw)), CMN_ERR_AUTH, "not 'Basic");
    FAILS(eng_auth_basic_parse("BasicYTpi", user, sizeof(user), pw,
                               sizeof(pw)), CMN_ERR_AUTH, "not 'Basic");
    FAILS(eng_auth_basic_parse("Basic ", user, sizeof(user), pw, sizeof(pw)),
          CMN_ERR_AUTH, "empty");
    FAILS(eng_auth_basic_parse("Basic !!!!", user, sizeof(user), pw,
                               sizeof(pw)), CMN_ERR_AUTH, "not valid base64");
    basic("nocolon", hdr, sizeof(hdr));
    FAILS(eng_auth_basic_parse(hdr, user, sizeof(user), pw, sizeof(pw)),
          CMN_ERR_AUTH, "no ':'");
    basic(":pw", hdr, sizeof(hdr));
    FAILS(eng_auth_basic_parse(hdr, user, sizeof(user), pw, sizeof(pw)),
          CMN_ERR_AUTH, "empty user name");
    FAILS(eng_auth_basic_parse("Basic YQBiOmM=", user, sizeof(user), pw,
                               sizeof(pw)), CMN_ERR_AUTH, "NUL byte");
    basic("averyveryverylongname:pw", hdr, sizeof(hdr));
    FAILS(eng_auth_basic_parse(hdr, user, 8, pw, sizeof(pw)), CMN_ERR_AUTH,
          "too long");
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[1] = ':';
    basic(big, hdr, sizeof(hdr));
    FAILS(eng_auth_basic_parse(hdr, user, sizeof(user), pw, sizeof(pw)),
          CMN_ERR_AUTH, "too long");
}

static void
test_bearer_parse(void **state)
{
    (void)state;
    char tok[ENG_AUTH_TOKEN_LEN];
    const char *good = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "Bearer %s", good);
    OK(eng_auth_bearer_parse(hdr, tok));
    assert_string_equal(tok, good);
    snprintf(hdr, sizeof(hdr), "bearer  %s ", good);
    OK(eng_auth_bearer_parse(hdr, tok));
    FAILS(eng_auth_bearer_parse("Bearer short", tok), CMN_ERR_AUTH,
          "malformed");
    snprintf(hdr, sizeof(hdr), "Bearer %.42s=", good);
    FAILS(eng_auth_bearer_parse(hdr, tok), CMN_ERR_AUTH, "malformed");
    FAILS(eng_auth_bearer_parse("Basic YTpi", tok), CMN_ERR_AUTH,
          "not 'Bearer");
}

static void
test_role_matrix(void **state)
{
    (void)state;
    static const char *const kinds[] = {
        "vms", "hosts", "clusters", "datacenters", "events", "users",
    };
    static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
    for (size_t k = 0; k < 6; k++) {
        for (size_t m = 0; m < 4; m++) {
            const char *kind = kinds[k], *meth = methods[m];
            bool get = strcmp(meth, "GET") == 0;
            bool users = strcmp(kind, "users") == 0;
            bool vms = strcmp(kind, "vms") == 0;
            cmn_err_reset();
            assert_int_equal(eng_auth_check(ENG_ROLE_SUPERUSER, meth, kind,
                                            NULL), 0);
            cmn_err_reset();
            int rc = eng_auth_check(ENG_ROLE_OPERATOR, meth, kind, NULL);
            if (rc != ((get && !users) || vms ? 0 : -1))
                fail_msg("Operator %s %s: %d", meth, kind, rc);
            if (rc < 0)
                assert_int_equal(cmn_err_code(), CMN_ERR_DENIED);
            cmn_err_reset();
            rc = eng_auth_check(ENG_ROLE_READONLY, meth, kind, NULL);
            if (rc != (get && !users ? 0 : -1))
                fail_msg("ReadOnly %s %s: %d", meth, kind, rc);
            if (rc < 0)
                assert_int_equal(cmn_err_code(), CMN_ERR_DENIED);
        }
    }
    OK(eng_auth_check(ENG_ROLE_OPERATOR, "POST", "vms", "start"));
    OK(eng_auth_check(ENG_ROLE_SUPERUSER, "POST", "hosts", "activate"));
    OK(eng_auth_check(ENG_ROLE_READONLY, "HEAD", "hosts", NULL));
    FAILS(eng_auth_check(ENG_ROLE_OPERATOR, "POST", "hosts", "activate"),
          CMN_ERR_DENIED, "role Operator may not run action 'activate' on "
          "hosts (Operator: VMs only)");
    FAILS(eng_auth_check(ENG_ROLE_READONLY, "POST", "vms", "start"),
          CMN_ERR_DENIED, "role ReadOnly may not run action 'start' on vms");
    FAILS(eng_auth_check(ENG_ROLE_READONLY, "DELETE", "vms", NULL),
          CMN_ERR_DENIED, "role ReadOnly may not DELETE vms");
    FAILS(eng_auth_check(ENG_ROLE_OPERATOR, "GET", "users", NULL),
          CMN_ERR_DENIED, "SuperUser only");
    FAILS(eng_auth_check((eng_role_t)9, "GET", "vms", NULL), CMN_ERR_DENIED,
          "unknown role");
    FAILS(eng_auth_check(ENG_ROLE_READONLY, "PATCH", "vms", NULL),
          CMN_ERR_DENIED, "may not PATCH");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test_setup_teardown(test_bootstrap_and_login, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_survive_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request, setup, teardown),
        cmocka_unit_test(test_basic_parse),
        cmocka_unit_test(test_bearer_parse),
        cmocka_unit_test(test_role_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
