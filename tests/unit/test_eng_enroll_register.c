/* Pre-registration (eng_enroll_register) refuses a key the engine knows in
 * any state and a name another not-yet-connected pre-registered key has,
 * naming the fingerprint / the name; enrollment tokens made through
 * eng_enroll have an id and a creator, and a deleted token enrolls nobody
 * (an event names it and the user). */
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

typedef fx_eng_enroll_t t_env_t;

static int
setup(void **state)
{
    t_env_t *t = fx_eng_enroll_new("herd-test-prereg", 0);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    fx_eng_enroll_destroy(*state);
    return 0;
}

/* Hello of host `host` with `key` (and `token`, may be NULL): the reply's
 * code, or -2 if the frame passed, -1 if it was dropped. */
static int
s_hello(t_env_t *t, const char *key, const char *host, const char *token)
{
    size_t len;
    uint8_t *buf = fx_eng_hello(host, "node", token, &len);
    char out[ENG_ID_LEN];
    int code;
    eng_gate_t g = fx_eng_gate(t->en, key, buf, len, out, &code, NULL, 0);
    free(buf);
    if (code == -2 && g != ENG_GATE_PASS)
        code = -1;
    return code;
}

/* eng_enroll_register fails with CMN_ERR_EXISTS and a message holding
 * every fragment (NULL-terminated). */
static void
s_refused(t_env_t *t, const char *key, const char *name, ...)
{
    cmn_err_reset();
    assert_int_equal(eng_enroll_register(t->en, key, name, "admin"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);
    va_list ap;
    va_start(ap, name);
    test_err_has_all(ap);
    va_end(ap);
}

static void
test_known_keys_refused(void **state)
{
    t_env_t *t = *state;
    char k1[41], k2[41], k3[41], k4[41], sec[41];
    char fp1[CMN_KEY_FP_LEN], fp2[CMN_KEY_FP_LEN], fp3[CMN_KEY_FP_LEN];
    char fp4[CMN_KEY_FP_LEN];
    cmn_key_generate(k1, sec);
    cmn_key_generate(k2, sec);
    cmn_key_generate(k3, sec);
    cmn_key_generate(k4, sec);
    cmn_key_fingerprint(k1, fp1);
    cmn_key_fingerprint(k2, fp2);
    cmn_key_fingerprint(k3, fp3);
    cmn_key_fingerprint(k4, fp4);
    char h2[ENG_ID_LEN], h3[ENG_ID_LEN], h4[ENG_ID_LEN];
    cmn_uuid_generate(h2);
    cmn_uuid_generate(h3);
    cmn_uuid_generate(h4);

    /* approved, not connected yet */
    OK(eng_enroll_register(t->en, k1, "node-1", "admin"));
    s_refused(t, k1, "other", fp1, "registered already", "node-1",
              "not connected", NULL);
    /* pending (an unknown key said hello) */
    assert_int_equal(s_hello(t, k2, h2, NULL), CMN_ERR_DENIED);
    s_refused(t, k2, "node-2", fp2, "pending approval", h2, NULL);
    /* the pending host stays pending: registering did not approve it */
    char fp[CMN_KEY_FP_LEN];
    eng_key_state_t ks;
    assert_true(eng_enroll_host_key(t->en, h2, fp, &ks));
    assert_int_equal(ks, ENG_KEY_PENDING);
    /* approved and bound to a host */
    OK(eng_enroll_register(t->en, k3, "node-3", "admin"));
    assert_int_equal(s_hello(t, k3, h3, NULL), -2);
    s_refused(t, k3, "node-3b", fp3, "registered already", "node-3", h3,
              NULL);
    /* revoked */
    OK(eng_enroll_register(t->en, k4, "node-4", "admin"));
    assert_int_equal(s_hello(t, k4, h4, NULL), -2);
    OK(eng_enroll_revoke(t->en, h4, "admin"));
    s_refused(t, k4, "node-4b", fp4, "revoked", NULL);
}

static void
test_names_of_unconnected_keys(void **state)
{
    t_env_t *t = *state;
    char k1[41], k2[41], k3[41], sec[41], fp1[CMN_KEY_FP_LEN];
    cmn_key_generate(k1, sec);
    cmn_key_generate(k2, sec);
    cmn_key_generate(k3, sec);
    cmn_key_fingerprint(k1, fp1);
    OK(eng_enroll_register(t->en, k1, "rack1", "admin"));
    s_refused(t, k2, "rack1", "'rack1'", fp1, "not connected", NULL);
    /* names compare exactly, as host names do */
    OK(eng_enroll_register(t->en, k2, "rack1-b", "admin"));
    /* once k1's host connected, its name belongs to a host (which the API
     * checks) and no longer to a waiting key */
    char h1[ENG_ID_LEN];
    cmn_uuid_generate(h1);
    assert_int_equal(s_hello(t, k1, h1, NULL), -2);
    eng_host_t h = {0};
    OK(eng_store_host_get(t->ctx.store, h1, &h));
    assert_string_equal(h.name, "rack1");
    eng_host_clear(&h);
    OK(eng_enroll_register(t->en, k3, "rack1", "admin"));
    /* no name: never a clash */
    char k4[41], k5[41];
    cmn_key_generate(k4, sec);
    cmn_key_generate(k5, sec);
    OK(eng_enroll_register(t->en, k4, "", "admin"));
    OK(eng_enroll_register(t->en, k5, "", "admin"));
}

static void
test_token_delete(void **state)
{
    t_env_t *t = *state;
    char id[ENG_ID_LEN];
    char *tok = eng_enroll_token_make(t->en, "tok-node", 600,
                                      "admin@internal", id);
    assert_non_null(tok);
    assert_true(cmn_uuid_valid(id));
    eng_enroll_token_t got;
    OK(eng_store_enroll_token_get(t->ctx.store, id, (int64_t)cmn_time_ms(),
                                  &got));
    assert_string_equal(got.name, "tok-node");
    assert_string_equal(got.created_by, "admin@internal");
    assert_true(got.expires_ms - got.created_ms == 600000);

    OK(eng_enroll_token_delete(&t->ctx, id, "admin@internal"));
    cmn_err_reset();
    assert_int_equal(eng_enroll_token_delete(&t->ctx, id, "admin@internal"),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    assert_non_null(strstr(cmn_err_msg(), id));
    /* the deleted token enrolls nobody, and leaves no host */
    char k[41], sec[41], host[ENG_ID_LEN];
    cmn_key_generate(k, sec);
    cmn_uuid_generate(host);
    assert_int_equal(s_hello(t, k, host, tok), CMN_ERR_DENIED);
    eng_host_t h = {0};
    cmn_err_reset();
    assert_int_equal(eng_store_host_get(t->ctx.store, host, &h), -1);
    eng_host_clear(&h);
    /* the event names the token and who deleted it */
    eng_event_t *evs = NULL;
    size_t n = 0;
    OK(eng_store_event_list(t->ctx.store, 0, 0, false, &evs, &n));
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(evs[i].description, id) &&
            strstr(evs[i].description, "deleted by admin@internal")) {
            found++;
            assert_string_equal(evs[i].user, "admin@internal");
        }
    free(evs);
    assert_int_equal(found, 1);
    free(tok);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_known_keys_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_names_of_unconnected_keys,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_delete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
