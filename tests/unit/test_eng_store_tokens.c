/* One-time enrollment tokens in the store: ids and creators, the list of
 * tokens that can still enroll (never their hash), one by id, deletion,
 * consumption by hash (a used or expired token's row kept 7 days, then
 * pruned), and the migration that gives tokens of older databases an id. */
#include "test_helpers.h"

#include <sqlite3.h>

#include "cmn_util.h"
#include "eng_enroll.h"
#include "eng_store.h"
#include "fx_eng.h"

typedef fx_eng_store_t fx_t;

static int
setup(void **state)
{
    return fx_eng_store_setup(state, "herd-test-tokens");
}

static int
teardown(void **state)
{
    return fx_eng_store_teardown(state);
}

/* A token row named `name`, made at `created`, expiring at `expires`. */
static void
make(eng_store_t *s, eng_enroll_token_t *t, const char *name,
     int64_t created, int64_t expires, const char *by)
{
    memset(t, 0, sizeof(*t));
    cmn_uuid_generate(t->id);
    /* a fake hash, unique per name */
    snprintf(t->hash, sizeof(t->hash), "%064zx", strlen(name) * 7919 +
             (size_t)name[0]);
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->created_by, sizeof(t->created_by), "%s", by);
    t->created_ms = created;
    t->expires_ms = expires;
    OK(eng_store_enroll_token_insert(s, t));
}

static void
test_list_get_delete(void **state)
{
    fx_t *fx = *state;
    eng_enroll_token_t a, b, c, got;
    make(fx->s, &a, "node-a", 1000, 0, "admin@internal");
    make(fx->s, &b, "node-bb", 2000, 50000, "");
    make(fx->s, &c, "node-ccc", 3000, 9000, "ops@internal");  /* expires */

    eng_enroll_token_t *list = NULL;
    size_t n = 0;
    OK(eng_store_enroll_token_list(fx->s, 10000, &list, &n));
    assert_int_equal(n, 2);                 /* c has expired at 10000 */
    assert_string_equal(list[0].id, a.id);  /* oldest first */
    assert_string_equal(list[0].name, "node-a");
    assert_string_equal(list[0].created_by, "admin@internal");
    assert_int_equal(list[0].created_ms, 1000);
    assert_int_equal(list[0].expires_ms, 0);
    assert_string_equal(list[1].id, b.id);
    assert_int_equal(list[1].expires_ms, 50000);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(list[i].hash, "");  /* never handed out */
    free(list);
    /* before c's expiry all three */
    OK(eng_store_enroll_token_list(fx->s, 8999, &list, &n));
    assert_int_equal(n, 3);
    free(list);

    OK(eng_store_enroll_token_get(fx->s, b.id, 10000, &got));
    assert_string_equal(got.name, "node-bb");
    assert_string_equal(got.hash, "");
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_get(fx->s, c.id, 10000, &got),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    assert_non_null(strstr(cmn_err_msg(), c.id));
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_get(fx->s, "nope", 0, &got), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    assert_non_null(strstr(cmn_err_msg(), "'nope'"));

    /* delete: gone from the list, and it can no longer be taken */
    OK(eng_store_enroll_token_delete(fx->s, a.id, &got));
    assert_string_equal(got.name, "node-a");
    OK(eng_store_enroll_token_list(fx->s, 10000, &list, &n));
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, b.id);
    free(list);
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_take(fx->s, a.hash, 10000, &got),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_delete(fx->s, a.id, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    assert_non_null(strstr(cmn_err_msg(), a.id));
    /* an expired token can still be deleted (it is no use to anyone) */
    OK(eng_store_enroll_token_delete(fx->s, c.id, NULL));

    /* take by hash hands out id and creator, once */
    OK(eng_store_enroll_token_take(fx->s, b.hash, 10000, &got));
    assert_string_equal(got.id, b.id);
    assert_string_equal(got.name, "node-bb");
    OK(eng_store_enroll_token_list(fx->s, 10000, &list, &n));
    assert_int_equal(n, 0);
    free(list);
}

static void
test_insert_without_id(void **state)
{
    fx_t *fx = *state;
    eng_enroll_token_t t = {0}, *list = NULL;
    snprintf(t.hash, sizeof(t.hash), "%064d", 1);
    snprintf(t.name, sizeof(t.name), "x");
    OK(eng_store_enroll_token_insert(fx->s, &t));
    size_t n = 0;
    OK(eng_store_enroll_token_list(fx->s, 0, &list, &n));
    assert_int_equal(n, 1);
    assert_true(cmn_uuid_valid(list[0].id));
    free(list);
    /* the same hash twice is refused */
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_insert(fx->s, &t), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);
}

#define DAY_MS (86400LL * 1000)

/* take() of `hash` at now_ms fails with NOT_FOUND saying `why`. */
static void
refused(eng_store_t *s, const char *hash, int64_t now_ms, const char *why)
{
    eng_enroll_token_t got;
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_take(s, hash, now_ms, &got), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    if (!strstr(cmn_err_msg(), why))
        fail_msg("take at %lld: '%s' lacks '%s'", (long long)now_ms,
                 cmn_err_msg(), why);
    assert_string_equal(got.id, "");
}

/* A used or expired token keeps its row for 7 days, so a late attempt is
 * told why; pruning after that removes it, and only it. */
static void
test_used_expired_kept_then_pruned(void **state)
{
    fx_t *fx = *state;
    eng_enroll_token_t old_exp, new_exp, never, later, used_old, used_new;
    eng_enroll_token_t got, *list = NULL;
    size_t n = 0;
    make(fx->s, &old_exp, "a", 1, 1 * DAY_MS, "");
    make(fx->s, &new_exp, "bb", 2, 5 * DAY_MS, "");
    make(fx->s, &never, "ccc", 3, 0, "");
    make(fx->s, &later, "dddd", 4, 30 * DAY_MS, "");
    make(fx->s, &used_old, "eeeee", 5, 0, "");
    make(fx->s, &used_new, "ffffff", 6, 30 * DAY_MS, "");

    OK(eng_store_enroll_token_take(fx->s, used_old.hash, 1 * DAY_MS, &got));
    assert_string_equal(got.id, used_old.id);
    OK(eng_store_enroll_token_take(fx->s, used_new.hash, 5 * DAY_MS, &got));
    assert_string_equal(got.name, "ffffff");

    /* The precise refusals, and used tokens are nowhere to be seen. */
    refused(fx->s, used_old.hash, 1 * DAY_MS + 5, "already used");
    refused(fx->s, used_new.hash, 6 * DAY_MS, "already used");
    refused(fx->s, old_exp.hash, 2 * DAY_MS, "expired");
    refused(fx->s, old_exp.hash, 2 * DAY_MS, "expired");  /* still there */
    refused(fx->s, "no-such-hash", 2 * DAY_MS, "not found");
    OK(eng_store_enroll_token_list(fx->s, 6 * DAY_MS, &list, &n));
    assert_int_equal(n, 2);                             /* never, later */
    assert_string_equal(list[0].id, never.id);
    assert_string_equal(list[1].id, later.id);
    free(list);
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_get(fx->s, used_new.id,
                                                6 * DAY_MS, &got), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_err_reset();
    assert_int_equal(eng_store_enroll_token_delete(fx->s, used_new.id, NULL),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);

    /* Exactly 7 days after day 1: nothing goes yet. */
    assert_int_equal(eng_store_enroll_token_prune(fx->s, 8 * DAY_MS), 0);
    refused(fx->s, old_exp.hash, 8 * DAY_MS, "expired");
    refused(fx->s, used_old.hash, 8 * DAY_MS, "already used");
    /* A millisecond later the two of day 1 go, nothing else. */
    assert_int_equal(eng_store_enroll_token_prune(fx->s, 8 * DAY_MS + 1), 2);
    refused(fx->s, old_exp.hash, 8 * DAY_MS + 1, "not found");
    refused(fx->s, used_old.hash, 8 * DAY_MS + 1, "not found");
    refused(fx->s, new_exp.hash, 8 * DAY_MS + 1, "expired");
    refused(fx->s, used_new.hash, 8 * DAY_MS + 1, "already used");
    OK(eng_store_enroll_token_list(fx->s, 8 * DAY_MS + 1, &list, &n));
    assert_int_equal(n, 2);
    free(list);
    /* Seven days after day 5 the rest of the used and expired go; a
     * token that never expires, unused, stays for good. */
    assert_int_equal(eng_store_enroll_token_prune(fx->s, 12 * DAY_MS + 1),
                     2);
    refused(fx->s, new_exp.hash, 12 * DAY_MS + 1, "not found");
    refused(fx->s, used_new.hash, 12 * DAY_MS + 1, "not found");
    assert_int_equal(eng_store_enroll_token_prune(fx->s, 400 * DAY_MS), 1);
    OK(eng_store_enroll_token_get(fx->s, never.id, 400 * DAY_MS, &got));
    OK(eng_store_enroll_token_take(fx->s, never.hash, 400 * DAY_MS, &got));
}

/* Making a token removes those used or expired more than 7 days ago. */
static void
test_create_prunes(void **state)
{
    fx_t *fx = *state;
    int64_t now = (int64_t)cmn_time_ms();
    eng_enroll_token_t stale, fresh, got;
    make(fx->s, &stale, "stale", now - 9 * DAY_MS, now - 8 * DAY_MS, "");
    make(fx->s, &fresh, "fresh-one", now - 9 * DAY_MS, now - 6 * DAY_MS, "");
    refused(fx->s, stale.hash, now, "expired");
    char id[ENG_ID_LEN];
    cmn_err_reset();
    char *tok = eng_enroll_token_store(fx->s, "new", 3600, "admin", id);
    if (!tok)
        fail_msg("token: %s", cmn_err_msg());
    refused(fx->s, stale.hash, now, "not found");
    refused(fx->s, fresh.hash, now, "expired");
    char hash[ENG_TOKEN_HASH_LEN];
    eng_enroll_token_hash(tok, hash);
    free(tok);
    OK(eng_store_enroll_token_take(fx->s, hash, now, &got));
    assert_string_equal(got.id, id);
}

static void
exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

/* A database of schema version 6 (tokens without id and created_by) with
 * tokens in it: the migration gives each a distinct UUID. */
static void
test_migration_gives_ids(void **state)
{
    fx_t *fx = *state;
    eng_store_destroy(&fx->s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    exec(db, "DROP INDEX enroll_tokens_id;"
             "ALTER TABLE enroll_tokens DROP COLUMN id;"
             "ALTER TABLE enroll_tokens DROP COLUMN created_by;"
             "ALTER TABLE enroll_tokens DROP COLUMN used_ms;"
             "INSERT INTO enroll_tokens (hash, name, expires_ms, created_ms) "
             "VALUES ('h1', 'old-1', 0, 5), ('h2', 'old-2', 0, 6);"
             "PRAGMA user_version = 6;");
    sqlite3_close(db);
    cmn_err_reset();
    fx->s = eng_store_open(fx->path);
    if (!fx->s)
        fail_msg("reopen: %s", cmn_err_msg());
    assert_int_equal(eng_store_schema_version(fx->s),
                     eng_store_schema_latest());
    eng_enroll_token_t *list = NULL;
    size_t n = 0;
    OK(eng_store_enroll_token_list(fx->s, 100, &list, &n));
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "old-1");
    assert_true(cmn_uuid_valid(list[0].id));
    assert_true(cmn_uuid_valid(list[1].id));
    assert_string_not_equal(list[0].id, list[1].id);
    assert_string_equal(list[0].created_by, "");
    char id[ENG_ID_LEN];
    snprintf(id, sizeof(id), "%s", list[1].id);
    free(list);
    OK(eng_store_enroll_token_delete(fx->s, id, NULL));
    eng_enroll_token_t got;
    OK(eng_store_enroll_token_take(fx->s, "h1", 100, &got));
    assert_string_equal(got.name, "old-1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_get_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_insert_without_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migration_gives_ids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_used_expired_kept_then_pruned,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_prunes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
