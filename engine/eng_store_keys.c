/* The SQLite store: agents' CURVE public keys (pending, approved, revoked,
 * rotations with an overlap) and one-time enrollment tokens (stored only as
 * their SHA-256). The rules live in eng_enroll.c. Statements are prepared
 * per call: these run on handshakes and admin actions, not per message.
 *
 * A used token keeps its row (used_ms: the time of use), and an expired
 * one keeps its row, for ENG_ENROLL_TOKEN_KEEP_MS: a late attempt is told
 * "already used" or "expired" rather than "unknown".
 * eng_store_enroll_token_prune removes them after that. Used rows are not
 * listed, got, deleted by id or handed out. */
#include "eng_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store");

static const char *const s_key_state_names[ENG_KEY__LAST] = {
    [ENG_KEY_PENDING] = "pending",
    [ENG_KEY_APPROVED] = "approved",
    [ENG_KEY_REVOKED] = "revoked",
};

const char *
eng_key_state_name(eng_key_state_t st)
{
    if ((int)st < 0 || st >= ENG_KEY__LAST)
        return "invalid";
    return s_key_state_names[st];
}

int
eng_key_state_parse(const char *name)
{
    for (int i = 0; name && i < ENG_KEY__LAST; i++)
        if (strcmp(s_key_state_names[i], name) == 0)
            return i;
    return -1;
}

static sqlite3_stmt *
s_prep(eng_store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ENG_STORE_ERR(s, "prepare");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Step a write to SQLITE_DONE and finalize. */
static int
s_done(eng_store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc != SQLITE_DONE)
        ret = ENG_STORE_ERR(s, "%s", what);
    sqlite3_finalize(st);
    return ret;
}

#define KEY_COLS "public_key, fingerprint, host_id, name, state, " \
                 "rotated_from, expires_ms, created_ms, approved_ms"

/* eng_store_list_ over `st`, a statement of our own (NULL: its prepare
 * failed, error recorded), which is finalized after. */
static int
s_list(eng_store_t *s, sqlite3_stmt *st, const char *what, size_t elem_size,
       eng_store_row_fn row, void **out, size_t *n)
{
    if (!st)
        return -1;
    int ret = eng_store_list_(s, st, what, elem_size, row, NULL, out, n);
    sqlite3_finalize(st);
    return ret;
}

/* An eng_store_row_fn filling an eng_hostkey_t. */
static int
s_key_row(sqlite3_stmt *st, void *elem)
{
    eng_hostkey_t *k = elem;
    memset(k, 0, sizeof(*k));
    eng_store_col_str_(st, 0, k->public_key, sizeof(k->public_key));
    eng_store_col_str_(st, 1, k->fingerprint, sizeof(k->fingerprint));
    eng_store_col_str_(st, 2, k->host_id, sizeof(k->host_id));
    eng_store_col_str_(st, 3, k->name, sizeof(k->name));
    const char *state = (const char *)sqlite3_column_text(st, 4);
    int v = eng_key_state_parse(state);
    if (v < 0)
        return CMN_ERR(CMN_ERR_DB, "host key %s: unknown state '%s' in "
                       "database", k->fingerprint, state ? state : "");
    k->state = (eng_key_state_t)v;
    eng_store_col_str_(st, 5, k->rotated_from, sizeof(k->rotated_from));
    k->expires_ms = sqlite3_column_int64(st, 6);
    k->created_ms = sqlite3_column_int64(st, 7);
    k->approved_ms = sqlite3_column_int64(st, 8);
    return 0;
}

int
eng_store_hostkey_put(eng_store_t *s, const eng_hostkey_t *k)
{
    sqlite3_stmt *st = s_prep(s,
        "INSERT OR REPLACE INTO host_keys (" KEY_COLS ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, k->public_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, k->fingerprint, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, k->host_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, k->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, eng_key_state_name(k->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, k->rotated_from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, k->expires_ms);
    sqlite3_bind_int64(st, 8, k->created_ms);
    sqlite3_bind_int64(st, 9, k->approved_ms);
    return s_done(s, st, "store host key");
}

int
eng_store_hostkey_get(eng_store_t *s, const char *public_key,
                      eng_hostkey_t *out)
{
    sqlite3_stmt *st = s_prep(s, "SELECT " KEY_COLS " FROM host_keys "
                                 "WHERE public_key = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, public_key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW)
        ret = s_key_row(st, out);
    else if (rc == SQLITE_DONE)
        ret = CMN_ERR(CMN_ERR_NOT_FOUND, "host key not found");
    else
        ret = ENG_STORE_ERR(s, "read host key");
    sqlite3_finalize(st);
    return ret;
}

int
eng_store_hostkey_list(eng_store_t *s, const char *host_id,
                       eng_hostkey_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = s_prep(s, host_id
        ? "SELECT " KEY_COLS " FROM host_keys WHERE host_id = ?1 "
          "ORDER BY created_ms"
        : "SELECT " KEY_COLS " FROM host_keys ORDER BY created_ms");
    if (st && host_id)
        sqlite3_bind_text(st, 1, host_id, -1, SQLITE_TRANSIENT);
    return s_list(s, st, "list host keys", sizeof(**out), s_key_row,
                  (void **)out, n);
}

int
eng_store_hostkey_delete_host(eng_store_t *s, const char *host_id)
{
    sqlite3_stmt *st = s_prep(s, "DELETE FROM host_keys WHERE host_id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, host_id, -1, SQLITE_TRANSIENT);
    return s_done(s, st, "delete host keys");
}

int
eng_store_enroll_token_insert(eng_store_t *s, const eng_enroll_token_t *t)
{
    char id[ENG_ID_LEN];
    if (t->id[0])
        snprintf(id, sizeof(id), "%s", t->id);
    else
        cmn_uuid_generate(id);
    sqlite3_stmt *st = s_prep(s,
        "INSERT INTO enroll_tokens (hash, name, expires_ms, created_ms, id, "
        "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, t->expires_ms);
    sqlite3_bind_int64(st, 4, t->created_ms);
    sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, t->created_by, -1, SQLITE_TRANSIENT);
    return s_done(s, st, "store enrollment token");
}

/* Columns shown by the API; never the hash. */
#define TOKEN_COLS "id, name, expires_ms, created_ms, created_by"
#define TOKEN_UNUSED "used_ms = 0"
#define TOKEN_USABLE "(" TOKEN_UNUSED " AND (expires_ms = 0 OR expires_ms > ?1))"

/* An eng_store_row_fn filling an eng_enroll_token_t (never fails). */
static int
s_token_row(sqlite3_stmt *st, void *elem)
{
    eng_enroll_token_t *t = elem;
    memset(t, 0, sizeof(*t));
    eng_store_col_str_(st, 0, t->id, sizeof(t->id));
    eng_store_col_str_(st, 1, t->name, sizeof(t->name));
    t->expires_ms = sqlite3_column_int64(st, 2);
    t->created_ms = sqlite3_column_int64(st, 3);
    eng_store_col_str_(st, 4, t->created_by, sizeof(t->created_by));
    return 0;
}

int
eng_store_enroll_token_list(eng_store_t *s, int64_t now_ms,
                            eng_enroll_token_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = s_prep(s, "SELECT " TOKEN_COLS " FROM enroll_tokens "
                                 "WHERE " TOKEN_USABLE " "
                                 "ORDER BY created_ms, id");
    if (st)
        sqlite3_bind_int64(st, 1, now_ms);
    return s_list(s, st, "list enrollment tokens", sizeof(**out),
                  s_token_row, (void **)out, n);
}

int
eng_store_enroll_token_get(eng_store_t *s, const char *id, int64_t now_ms,
                           eng_enroll_token_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = s_prep(s, "SELECT " TOKEN_COLS " FROM enroll_tokens "
                                 "WHERE id = ?2 AND " TOKEN_USABLE);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW)
        s_token_row(st, out);
    else if (rc == SQLITE_DONE)
        ret = CMN_ERR(CMN_ERR_NOT_FOUND, "enrollment token '%s' not found "
                      "(never made, used, expired or deleted)", id);
    else
        ret = ENG_STORE_ERR(s, "read enrollment token %s", id);
    sqlite3_finalize(st);
    return ret;
}

int
eng_store_enroll_token_delete(eng_store_t *s, const char *id,
                              eng_enroll_token_t *out)
{
    eng_enroll_token_t t;
    memset(&t, 0, sizeof(t));
    sqlite3_stmt *st = s_prep(s, "SELECT " TOKEN_COLS " FROM enroll_tokens "
                                 "WHERE id = ?1 AND " TOKEN_UNUSED);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s_token_row(st, &t);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "enrollment token '%s' not found "
                       "(never made, used or deleted)", id);
    if (rc != SQLITE_ROW)
        return ENG_STORE_ERR(s, "read enrollment token %s", id);
    st = s_prep(s, "DELETE FROM enroll_tokens WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (s_done(s, st, "delete enrollment token") < 0)
        return -1;
    if (out)
        *out = t;
    return 0;
}

int
eng_store_enroll_token_take(eng_store_t *s, const char *hash, int64_t now_ms,
                            eng_enroll_token_t *out)
{
    memset(out, 0, sizeof(*out));
    int64_t used = 0;
    sqlite3_stmt *st = s_prep(s, "SELECT hash, name, expires_ms, created_ms, "
                                 "id, created_by, used_ms FROM enroll_tokens "
                                 "WHERE hash = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        eng_store_col_str_(st, 0, out->hash, sizeof(out->hash));
        eng_store_col_str_(st, 1, out->name, sizeof(out->name));
        out->expires_ms = sqlite3_column_int64(st, 2);
        out->created_ms = sqlite3_column_int64(st, 3);
        eng_store_col_str_(st, 4, out->id, sizeof(out->id));
        eng_store_col_str_(st, 5, out->created_by, sizeof(out->created_by));
        used = sqlite3_column_int64(st, 6);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "enrollment token not found");
    if (rc != SQLITE_ROW)
        return ENG_STORE_ERR(s, "read enrollment token");
    int64_t expires = out->expires_ms;
    if (used != 0 || (expires != 0 && expires <= now_ms)) {
        memset(out, 0, sizeof(*out));
        return CMN_ERR(CMN_ERR_NOT_FOUND, "enrollment token %s",
                       used != 0 ? "already used" : "expired");
    }
    /* Used: the row stays (see the top of the file), marked with the time
     * of use (never 0, which means unused). */
    st = s_prep(s, "UPDATE enroll_tokens SET used_ms = ?2 WHERE hash = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms > 0 ? now_ms : 1);
    if (s_done(s, st, "consume enrollment token") < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

int64_t
eng_store_enroll_token_prune(eng_store_t *s, int64_t now_ms)
{
    sqlite3_stmt *st = s_prep(s,
        "DELETE FROM enroll_tokens WHERE (used_ms != 0 AND used_ms < ?1) OR "
        "(expires_ms != 0 AND expires_ms < ?1)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms - ENG_ENROLL_TOKEN_KEEP_MS);
    if (s_done(s, st, "prune enrollment tokens") < 0)
        return -1;
    return (int64_t)sqlite3_changes(s->db);
}
