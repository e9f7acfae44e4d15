/* Engine key rotation without sockets (detached agent link): a start
 * writes the next pair (0600/0644) and the switch file, a second start and
 * bad windows are refused, a switch promotes the files and the served key,
 * window 0 switches at once when no host is connected, and at start a due
 * rotation is promoted, one not yet due resumed, leftovers cleaned up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmn_conf.h"
#include "cmn_keys.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_ctx.h"
#include "eng_enginekey.h"
#include "eng_enroll.h"
#include "test_helpers.h"
#include "fx_eng.h"
#include "fx_loop.h"

typedef struct {
    eng_ctx_t ctx;
    eng_enroll_t *en;
    eng_enginekey_t *ek;
    char dir[64];
    char kd[128];
    char host[ENG_ID_LEN];          /* an approved host, never connected */
    int cb_calls;
    cmn_code_t cb_code;
} t_env_t;

static void s_path(t_env_t *t, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", t->kd, name);
}

static bool s_exists(t_env_t *t, const char *name)
{
    char p[256];
    struct stat st;
    s_path(t, name, p, sizeof(p));
    return stat(p, &st) == 0;
}

static unsigned s_mode(t_env_t *t, const char *name)
{
    char p[256];
    struct stat st;
    s_path(t, name, p, sizeof(p));
    assert_int_equal(stat(p, &st), 0);
    return st.st_mode & 0777;
}

static void s_load_pub(t_env_t *t, const char *name, char out[41])
{
    char p[256];
    s_path(t, name, p, sizeof(p));
    OK(cmn_key_load_public(p, out));
}

static void s_start_engine(t_env_t *t)
{
    cmn_err_reset();
    t->en = eng_enroll_new(&t->ctx);
    if (!t->en)
        fail_msg("eng_enroll_new: %s", cmn_err_msg());
    t->ek = eng_enginekey_new(&t->ctx, t->ctx.agents, t->en);
    if (!t->ek)
        fail_msg("eng_enginekey_new: %s", cmn_err_msg());
}

static void s_stop_engine(t_env_t *t)
{
    eng_enginekey_destroy(&t->ek);
    eng_enroll_destroy(&t->en);
}

/* An approved key bound to a host record (as after enrollment). */
static void s_add_host(t_env_t *t)
{
    cmn_uuid_generate(t->host);
    eng_cluster_t cl;
    OK(eng_store_cluster_get_by_name(t->ctx.store, "Default", &cl));
    eng_host_t h = {0};
    snprintf(h.id, sizeof(h.id), "%s", t->host);
    snprintf(h.name, sizeof(h.name), "node-a");
    snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", cl.id);
    h.status = ENG_HOST_CONNECTING;
    OK(eng_store_host_put(t->ctx.store, &h));
    eng_hostkey_t k = {0};
    char sec[41];
    OK(cmn_key_generate(k.public_key, sec));
    cmn_key_fingerprint(k.public_key, k.fingerprint);
    snprintf(k.host_id, sizeof(k.host_id), "%s", t->host);
    k.state = ENG_KEY_APPROVED;
    k.created_ms = (int64_t)cmn_time_ms();
    OK(eng_store_hostkey_put(t->ctx.store, &k));
}

static int setup(void **state)
{
    t_env_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/herd-test-enginekey.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->kd, sizeof(t->kd), "%s/keys", t->dir);
    assert_int_equal(eng_conf_load(&t->ctx.conf, NULL), 0);
    cmn_conf_set_str(&t->ctx.conf.agents_key_dir, t->kd);
    fx_eng_ctx_open(&t->ctx, true);
    s_add_host(t);
    s_start_engine(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    t_env_t *t = *state;
    s_stop_engine(t);
    fx_eng_ctx_close(&t->ctx);
    fx_eng_gate_remove(t->dir, "keys");
    free(t);
    return 0;
}

/* How many stored events have `code`; the newest one's text in desc. */
static int s_events(t_env_t *t, int code, char *desc, size_t len)
{
    eng_event_t *ev = NULL;
    size_t n = 0;
    OK(eng_store_event_list(t->ctx.store, 0, 0, false, &ev, &n));
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].code != code)
            continue;
        count++;
        if (desc)
            snprintf(desc, len, "%s", ev[i].description);
    }
    free(ev);
    return count;
}

static void on_switched(cmn_code_t code, const char *message, void *opaque)
{
    (void)message;
    t_env_t *t = opaque;
    t->cb_calls++;
    t->cb_code = code;
    event_base_loopbreak(t->ctx.base);
}

static void s_run(t_env_t *t, int ms)
{
    fx_loop_run(t->ctx.base, ms);
}

static void test_start_writes_files(void **state)
{
    t_env_t *t = *state;
    assert_false(eng_enginekey_active(t->ek));
    int64_t before = (int64_t)cmn_time_ms();
    OK(eng_enginekey_start(t->ek, 3600, "admin@internal"));
    assert_true(eng_enginekey_active(t->ek));
    assert_int_equal(s_mode(t, "engine.next.key"), 0600);
    assert_int_equal(s_mode(t, "engine.next.pub"), 0644);
    char npub[41], cur[41];
    s_load_pub(t, "engine.next.pub", npub);
    s_load_pub(t, "engine.pub", cur);
    assert_string_equal(eng_enginekey_next_public(t->ek), npub);
    assert_string_not_equal(npub, cur);
    /* The switch file: one line, Unix ms, window from now. */
    char p[256];
    s_path(t, "engine.next.switch", p, sizeof(p));
    size_t len = 0;
    char *text = cmn_file_read(p, 100, &len);
    assert_non_null(text);
    int64_t when = 0;
    text[strcspn(text, "\n")] = '\0';
    OK(cmn_parse_int64(text, 1, INT64_MAX, "switch", &when));
    free(text);
    assert_true(when >= before + 3600000 && when <= before + 3605000);
    assert_int_equal(eng_enginekey_switch_time(t->ek), when);
    /* The served key is still the old one. */
    assert_string_equal(eng_enroll_public_key(t->en), cur);
    char desc[1100];
    assert_int_equal(s_events(t, ENG_EV_ENGINE_KEY_ROTATION, desc,
                              sizeof(desc)), 1);
    assert_non_null(strstr(desc, "admin@internal"));
    char fp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(npub, fp);
    assert_non_null(strstr(desc, fp));
    /* The API's view: rotation with the approved host, not ready. */
    json_t *j = eng_enginekey_json(t->ek);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "public_key")),
                        cur);
    json_t *r = json_object_get(j, "rotation");
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r,
                        "next_public_key")), npub);
    assert_string_equal(json_string_value(json_object_get(r,
                        "next_fingerprint")), fp);
    assert_int_equal(json_integer_value(json_object_get(r, "switch_time")),
                     when);
    json_t *hosts = json_object_get(r, "hosts");
    assert_int_equal(json_array_size(hosts), 1);
    json_t *h = json_array_get(hosts, 0);
    assert_string_equal(json_string_value(json_object_get(h, "id")), t->host);
    assert_string_equal(json_string_value(json_object_get(h, "name")),
                        "node-a");
    assert_true(json_is_false(json_object_get(h, "has_next_key")));
    json_decref(j);
}

static void test_second_start_refused(void **state)
{
    t_env_t *t = *state;
    OK(eng_enginekey_start(t->ek, 600, NULL));
    char npub[41];
    s_load_pub(t, "engine.next.pub", npub);
    cmn_err_reset();
    assert_int_equal(eng_enginekey_start(t->ek, 600, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    assert_non_null(strstr(cmn_err_msg(), "under way"));
    assert_non_null(strstr(cmn_err_msg(), "switches at"));
    /* Nothing changed on disk. */
    char again[41];
    s_load_pub(t, "engine.next.pub", again);
    assert_string_equal(again, npub);
}

static void test_bad_window_refused(void **state)
{
    t_env_t *t = *state;
    const int64_t bad[] = { -1, ENG_ENGINEKEY_WINDOW_MAX_S + 1, INT64_MAX };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cmn_err_reset();
        assert_int_equal(eng_enginekey_start(t->ek, bad[i], NULL), -1);
        assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
        assert_non_null(strstr(cmn_err_msg(), "window"));
    }
    assert_false(eng_enginekey_active(t->ek));
    assert_false(s_exists(t, "engine.next.key"));
    assert_false(s_exists(t, "engine.next.switch"));
    OK(eng_enginekey_start(t->ek, ENG_ENGINEKEY_WINDOW_MAX_S, NULL));
}

static void test_switch_promotes(void **state)
{
    t_env_t *t = *state;
    cmn_err_reset();
    assert_int_equal(eng_enginekey_switch(t->ek, "admin", on_switched, t),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    assert_int_equal(t->cb_calls, 0);
    char old[41], npub[41];
    s_load_pub(t, "engine.pub", old);
    OK(eng_enginekey_start(t->ek, 3600, NULL));
    s_load_pub(t, "engine.next.pub", npub);
    OK(eng_enginekey_switch(t->ek, "admin", on_switched, t));
    assert_int_equal(t->cb_calls, 0);       /* never inside the call */
    cmn_err_reset();
    assert_int_equal(eng_enginekey_switch(t->ek, "admin", on_switched, t),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    s_run(t, 5000);
    assert_int_equal(t->cb_calls, 1);
    assert_int_equal(t->cb_code, CMN_OK);
    char cur[41];
    s_load_pub(t, "engine.pub", cur);
    assert_string_equal(cur, npub);
    assert_string_equal(eng_enroll_public_key(t->en), npub);
    assert_int_equal(s_mode(t, "engine.key"), 0600);
    assert_false(s_exists(t, "engine.next.key"));
    assert_false(s_exists(t, "engine.next.pub"));
    assert_false(s_exists(t, "engine.next.switch"));
    assert_false(eng_enginekey_active(t->ek));
    assert_null(eng_enginekey_next_public(t->ek));
    char desc[1100], ofp[CMN_KEY_FP_LEN], nfp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(old, ofp);
    cmn_key_fingerprint(npub, nfp);
    assert_int_equal(s_events(t, ENG_EV_ENGINE_KEY_ROTATED, desc,
                              sizeof(desc)), 1);
    assert_non_null(strstr(desc, ofp));
    assert_non_null(strstr(desc, nfp));
    assert_non_null(strstr(desc, "0 hosts have the new key"));
    /* The approved host never confirmed. */
    assert_int_equal(s_events(t, ENG_EV_ENGINE_KEY_HOST_MISSED, desc,
                              sizeof(desc)), 1);
    assert_non_null(strstr(desc, "node-a"));
    assert_non_null(strstr(desc, "--fetch-key"));
    json_t *j = eng_enginekey_json(t->ek);
    assert_null(json_object_get(j, "rotation"));
    assert_string_equal(json_string_value(json_object_get(j, "public_key")),
                        npub);
    json_decref(j);
    /* A restarted engine serves the new key. */
    s_stop_engine(t);
    s_start_engine(t);
    assert_string_equal(eng_enroll_public_key(t->en), npub);
    assert_false(eng_enginekey_active(t->ek));
    /* And another rotation can start. */
    OK(eng_enginekey_start(t->ek, 60, NULL));
}

static void test_window_zero_switches_without_hosts(void **state)
{
    t_env_t *t = *state;
    OK(eng_enginekey_start(t->ek, 0, NULL));
    int64_t when = eng_enginekey_switch_time(t->ek);
    int64_t now = (int64_t)cmn_time_ms();
    assert_true(when > now && when <= now + ENG_ENGINEKEY_ASAP_MAX_S * 1000);
    char npub[41];
    s_load_pub(t, "engine.next.pub", npub);
    s_run(t, 1000);
    assert_false(eng_enginekey_active(t->ek));
    assert_string_equal(eng_enroll_public_key(t->en), npub);
    assert_int_equal(s_events(t, ENG_EV_ENGINE_KEY_ROTATED, NULL, 0), 1);
}

static void test_timer_switches(void **state)
{
    t_env_t *t = *state;
    OK(eng_enginekey_start(t->ek, 1, NULL));
    char npub[41];
    s_load_pub(t, "engine.next.pub", npub);
    s_run(t, 400);
    assert_true(eng_enginekey_active(t->ek));
    s_run(t, 1500);
    assert_false(eng_enginekey_active(t->ek));
    char cur[41];
    s_load_pub(t, "engine.pub", cur);
    assert_string_equal(cur, npub);
}

/* Next files as a rotation started by a previous run left them. */
static void s_write_next(t_env_t *t, int64_t when, char pub[41], bool key,
                         bool sw)
{
    char sec[41], p[256];
    OK(cmn_key_generate(pub, sec));
    if (key) {
        s_path(t, "engine.next.key", p, sizeof(p));
        OK(cmn_key_write(p, sec, true, NULL));
        s_path(t, "engine.next.pub", p, sizeof(p));
        OK(cmn_key_write(p, pub, false, NULL));
    }
    if (sw) {
        char line[32];
        int n = snprintf(line, sizeof(line), "%" PRId64 "\n", when);
        s_path(t, "engine.next.switch", p, sizeof(p));
        OK(cmn_file_write_atomic(p, line, (size_t)n, 0644));
    }
}

static void test_startup_promotes_due(void **state)
{
    t_env_t *t = *state;
    s_stop_engine(t);
    char npub[41], old[41];
    s_load_pub(t, "engine.pub", old);
    s_write_next(t, (int64_t)cmn_time_ms() - 1000, npub, true, true);
    OK(eng_enginekey_promote_due(&t->ctx));
    assert_false(s_exists(t, "engine.next.key"));
    assert_false(s_exists(t, "engine.next.switch"));
    s_start_engine(t);
    assert_string_equal(eng_enroll_public_key(t->en), npub);
    assert_false(eng_enginekey_active(t->ek));
    char desc[1100], ofp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(old, ofp);
    assert_int_equal(s_events(t, ENG_EV_ENGINE_KEY_ROTATED, desc,
                              sizeof(desc)), 1);
    assert_non_null(strstr(desc, "while the engine was down"));
    assert_non_null(strstr(desc, ofp));
}

static void test_startup_resumes(void **state)
{
    t_env_t *t = *state;
    s_stop_engine(t);
    char npub[41], old[41];
    s_load_pub(t, "engine.pub", old);
    int64_t when = (int64_t)cmn_time_ms() + 3600000;
    s_write_next(t, when, npub, true, true);
    /* engine.next.pub lost: made again from the secret key. */
    char p[256];
    s_path(t, "engine.next.pub", p, sizeof(p));
    unlink(p);
    OK(eng_enginekey_promote_due(&t->ctx));
    assert_true(s_exists(t, "engine.next.key"));
    s_start_engine(t);
    assert_string_equal(eng_enroll_public_key(t->en), old);
    assert_true(eng_enginekey_active(t->ek));
    assert_string_equal(eng_enginekey_next_public(t->ek), npub);
    assert_int_equal(eng_enginekey_switch_time(t->ek), when);
    char again[41];
    s_load_pub(t, "engine.next.pub", again);
    assert_string_equal(again, npub);
    assert_int_equal(s_events(t, ENG_EV_ENGINE_KEY_ROTATED, NULL, 0), 0);
}

static void test_startup_cleans_leftovers(void **state)
{
    t_env_t *t = *state;
    s_stop_engine(t);
    char npub[41], old[41];
    s_load_pub(t, "engine.pub", old);
    /* A start that did not write its switch file. */
    s_write_next(t, 0, npub, true, false);
    OK(eng_enginekey_promote_due(&t->ctx));
    assert_false(s_exists(t, "engine.next.key"));
    assert_false(s_exists(t, "engine.next.pub"));
    /* A switch that renamed the key but did not remove the switch file. */
    s_write_next(t, (int64_t)cmn_time_ms() + 60000, npub, false, true);
    OK(eng_enginekey_promote_due(&t->ctx));
    assert_false(s_exists(t, "engine.next.switch"));
    s_start_engine(t);
    assert_false(eng_enginekey_active(t->ek));
    assert_string_equal(eng_enroll_public_key(t->en), old);
}

static void test_bad_switch_file_refused(void **state)
{
    t_env_t *t = *state;
    s_stop_engine(t);
    char npub[41], p[256];
    s_write_next(t, 0, npub, true, false);
    s_path(t, "engine.next.switch", p, sizeof(p));
    OK(cmn_file_write_atomic(p, "soon\n", 5, 0644));
    cmn_err_reset();
    assert_int_equal(eng_enginekey_promote_due(&t->ctx), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), p));
    /* A next key others may read is refused like engine.key. */
    OK(cmn_file_write_atomic(p, "1\n", 2, 0644));
    s_path(t, "engine.next.key", p, sizeof(p));
    assert_int_equal(chmod(p, 0644), 0);
    cmn_err_reset();
    assert_int_equal(eng_enginekey_promote_due(&t->ctx), -1);
    assert_non_null(strstr(cmn_err_msg(), "chmod 600"));
    assert_int_equal(chmod(p, 0600), 0);
    s_start_engine(t);
}

static void test_stop_during_switch_answers(void **state)
{
    t_env_t *t = *state;
    OK(eng_enginekey_start(t->ek, 3600, NULL));
    OK(eng_enginekey_switch(t->ek, "admin", on_switched, t));
    eng_enginekey_destroy(&t->ek);
    assert_int_equal(t->cb_calls, 1);
    assert_int_equal(t->cb_code, CMN_ERR_UNAVAILABLE);
    /* The files stay: the next start resumes the rotation. */
    assert_true(s_exists(t, "engine.next.key"));
    assert_true(s_exists(t, "engine.next.switch"));
    s_stop_engine(t);
    s_start_engine(t);
    assert_true(eng_enginekey_active(t->ek));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_writes_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_second_start_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_window_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_switch_promotes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_window_zero_switches_without_hosts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_switches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_startup_promotes_due, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_startup_resumes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_startup_cleans_leftovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_switch_file_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_during_switch_answers,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
