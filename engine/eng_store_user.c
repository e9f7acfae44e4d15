/* The SQLite store: REST API users, their roles and bearer tokens (stored
 * only as hashes). Hashing and checking live in eng_auth.c. */
#include "eng_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store");

static const char *const s_role_names[ENG_ROLE__LAST] = {
    [ENG_ROLE_SUPERUSER] = "SuperUser",
    [ENG_ROLE_OPERATOR] = "Operator",
    [ENG_ROLE_READONLY] = "ReadOnly",
};

const char *
eng_role_name(eng_role_t r)
{
    if ((int)r < 0 || r >= ENG_ROLE__LAST)
        return "invalid";
    return s_role_names[r];
}

int
eng_role_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < ENG_ROLE__LAST; i++)
        if (strcasecmp(s_role_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- users ----------------------------------------------------------------- */

#define USER_COLS "id, name, hash, role, created_ms"

static int
user_row(sqlite3_stmt *st, void *elem)
{
    eng_user_t *u = elem;
    memset(u, 0, sizeof(*u));
    eng_store_col_str_(st, 0, u->id, sizeof(u->id));
    eng_store_col_str_(st, 1, u->name, sizeof(u->name));
    eng_store_col_str_(st, 2, u->hash, sizeof(u->hash));
    const char *role = (const char *)sqlite3_column_text(st, 3);
    int r = eng_role_parse(role);
    if (r < 0)
        return CMN_ERR(CMN_ERR_DB, "user '%s': unknown role '%s' in database",
                       u->name, role ? role : "");
    u->role = (eng_role_t)r;
    u->created_ms = sqlite3_column_int64(st, 4);
    return 0;
}

int
eng_store_user_insert(eng_store_t *s, const eng_user_t *u)
{
    if (u->id[0] == '\0' || u->name[0] == '\0' || u->hash[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "user needs an id, a name and a hash");
    if (eng_role_parse(eng_role_name(u->role)) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "user '%s': bad role %d", u->name,
                       (int)u->role);
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_USER_INSERT,
        "INSERT INTO users (" USER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, u->id) < 0 ||
        eng_store_bind_text_(s, st, 2, u->name) < 0 ||
        eng_store_bind_text_(s, st, 3, u->hash) < 0 ||
        eng_store_bind_text_(s, st, 4, eng_role_name(u->role)) < 0 ||
        eng_store_bind_i64_(s, st, 5, u->created_ms) < 0)
        return -1;
    return eng_store_exec_named_(s, st, "user", u->name);
}

int
eng_store_user_get(eng_store_t *s, const char *id, eng_user_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_USER_GET,
        "SELECT " USER_COLS " FROM users WHERE id = ?1", "user", id, user_row,
        out);
}

int
eng_store_user_get_by_name(eng_store_t *s, const char *name, eng_user_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_USER_GET_BY_NAME,
        "SELECT " USER_COLS " FROM users WHERE name = ?1", "user", name,
        user_row, out);
}

int
eng_store_user_list(eng_store_t *s, eng_user_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_USER_LIST,
        "SELECT " USER_COLS " FROM users ORDER BY name");
    if (st == NULL)
        return -1;
    return eng_store_list_(s, st, "listing users", sizeof(**out), user_row,
                           NULL, (void **)out, n);
}

int
eng_store_user_set_hash(eng_store_t *s, const char *id, const char *hash)
{
    if (hash == NULL || hash[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "user '%s': empty password hash",
                       id ? id : "");
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_USER_SET_HASH,
        "UPDATE users SET hash = ?2 WHERE id = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, id) < 0 ||
        eng_store_bind_text_(s, st, 2, hash) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "user", id);
}

int
eng_store_user_set_role(eng_store_t *s, const char *id, eng_role_t role)
{
    if (eng_role_parse(eng_role_name(role)) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "user '%s': bad role %d",
                       id ? id : "", (int)role);
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_USER_SET_ROLE,
        "UPDATE users SET role = ?2 WHERE id = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, id) < 0 ||
        eng_store_bind_text_(s, st, 2, eng_role_name(role)) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "user", id);
}

int
eng_store_user_delete(eng_store_t *s, const char *id)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_USER_DELETE,
        "DELETE FROM users WHERE id = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, id) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "user", id);
}

/* ---- tokens ---------------------------------------------------------------- */

int
eng_store_token_insert(eng_store_t *s, const eng_token_t *t)
{
    if (t->hash[0] == '\0' || t->user_id[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "token needs a hash and a user");
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_TOKEN_INSERT,
        "INSERT INTO tokens (hash, user_id, expires_ms, created_ms) "
        "VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, t->hash) < 0 ||
        eng_store_bind_text_(s, st, 2, t->user_id) < 0 ||
        eng_store_bind_i64_(s, st, 3, t->expires_ms) < 0 ||
        eng_store_bind_i64_(s, st, 4, t->created_ms) < 0)
        return -1;
    return eng_store_exec_named_(s, st, "token of user", t->user_id);
}

int
eng_store_token_get(eng_store_t *s, const char *hash, eng_token_t *out)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_TOKEN_GET,
        "SELECT hash, user_id, expires_ms, created_ms FROM tokens "
        "WHERE hash = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, hash) < 0)
        return -1;
    /* The key is a hash of a secret: not worth showing in the message. */
    if (eng_store_step_one_(s, st, "token", "") < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    eng_store_col_str_(st, 0, out->hash, sizeof(out->hash));
    eng_store_col_str_(st, 1, out->user_id, sizeof(out->user_id));
    out->expires_ms = sqlite3_column_int64(st, 2);
    out->created_ms = sqlite3_column_int64(st, 3);
    (void)sqlite3_reset(st);
    return 0;
}

int
eng_store_token_delete(eng_store_t *s, const char *hash)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_TOKEN_DELETE,
        "DELETE FROM tokens WHERE hash = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, hash) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "token", "");
}

static int64_t
delete_many(eng_store_t *s, sqlite3_stmt *st, const char *what)
{
    if (eng_store_exec_(s, st, what) < 0)
        return -1;
    return (int64_t)sqlite3_changes(s->db);
}

int64_t
eng_store_token_delete_user(eng_store_t *s, const char *user_id)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_TOKEN_DELETE_USER,
        "DELETE FROM tokens WHERE user_id = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, user_id) < 0)
        return -1;
    return delete_many(s, st, "deleting a user's tokens");
}

int64_t
eng_store_token_prune(eng_store_t *s, int64_t now_ms)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_TOKEN_PRUNE,
        "DELETE FROM tokens WHERE expires_ms <= ?1");
    if (st == NULL || eng_store_bind_i64_(s, st, 1, now_ms) < 0)
        return -1;
    return delete_many(s, st, "pruning expired tokens");
}
