/* The SQLite store: what the REST API added (data center and cluster
 * updates and removal, VM owners). Rare calls: statements are prepared per
 * call rather than cached. */
#include "eng_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store");

static sqlite3_stmt *
s_prepare(eng_store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ENG_STORE_ERR(s, "preparing a statement");
        return NULL;
    }
    return st;
}

/* Run `sql` with text parameters (NULL-terminated after `n` of them);
 * `one`: exactly one row must change. */
static int
s_exec(eng_store_t *s, const char *sql, const char *what, const char *key,
       bool one, int n, const char *const *vals)
{
    sqlite3_stmt *st = s_prepare(s, sql);
    if (!st)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = eng_store_bind_id_(s, st, i + 1, vals[i]);
    if (rc == 0)
        rc = one ? eng_store_exec_one_(s, st, what, key)
                 : eng_store_exec_(s, st, what);
    sqlite3_finalize(st);
    return rc;
}

/* COUNT(*) of `sql` with one text parameter; -1 on error. With `name`
 * (may be NULL), the text of the second column goes there (for messages
 * that name the record rather than its id). */
static int64_t
s_count(eng_store_t *s, const char *sql, const char *key, char *name,
        size_t name_size)
{
    sqlite3_stmt *st = s_prepare(s, sql);
    if (!st)
        return -1;
    int64_t n = -1;
    if (eng_store_bind_text_(s, st, 1, key) == 0) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
            if (name)
                eng_store_col_str_(st, 1, name, name_size);
        } else {
            ENG_STORE_ERR(s, "counting");
        }
    }
    sqlite3_finalize(st);
    return n;
}

int
eng_store_dc_update(eng_store_t *s, const eng_dc_t *dc)
{
    const char *v[] = { dc->id, dc->name, dc->description };
    char what[ENG_NAME_LEN + 32];
    snprintf(what, sizeof(what), "data center '%s'", dc->name);
    sqlite3_stmt *st = s_prepare(s, "UPDATE datacenters SET name = ?2, "
                                 "description = ?3 WHERE id = ?1");
    if (!st)
        return -1;
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = eng_store_bind_text_(s, st, i + 1, v[i]);
    if (rc == 0)
        rc = eng_store_exec_one_(s, st, what, dc->id);
    sqlite3_finalize(st);
    return rc;
}

int
eng_store_dc_delete(eng_store_t *s, const char *id)
{
    char name[ENG_NAME_LEN] = "";
    int64_t n = s_count(s, "SELECT COUNT(*), (SELECT name FROM datacenters "
                        "WHERE id = ?1) FROM clusters WHERE dc_id = ?1", id,
                        name, sizeof(name));
    if (n < 0)
        return -1;
    if (n > 0)
        return CMN_ERR(CMN_ERR_STATE, "data center '%s' still holds %lld "
                       "cluster(s): remove them first", name[0] ? name : id,
                       (long long)n);
    const char *v[] = { id };
    return s_exec(s, "DELETE FROM datacenters WHERE id = ?1", "data center",
                  id, true, 1, v);
}

int
eng_store_cluster_update(eng_store_t *s, const eng_cluster_t *c)
{
    sqlite3_stmt *st = s_prepare(s, "UPDATE clusters SET name = ?2, "
                                 "description = ?3, dc_id = ?4, cpu_type = ?5,"
                                 " memory_overcommit = ?6 WHERE id = ?1");
    if (!st)
        return -1;
    char what[ENG_NAME_LEN + 32];
    snprintf(what, sizeof(what), "cluster '%s'", c->name);
    int rc = 0;
    if (eng_store_bind_text_(s, st, 1, c->id) < 0 ||
        eng_store_bind_text_(s, st, 2, c->name) < 0 ||
        eng_store_bind_text_(s, st, 3, c->description) < 0 ||
        eng_store_bind_id_(s, st, 4, c->dc_id) < 0 ||
        eng_store_bind_text_(s, st, 5, c->cpu_type) < 0 ||
        eng_store_bind_i64_(s, st, 6, c->memory_overcommit) < 0)
        rc = -1;
    if (rc == 0)
        rc = eng_store_exec_one_(s, st, what, c->id);
    sqlite3_finalize(st);
    return rc;
}

int
eng_store_cluster_delete(eng_store_t *s, const char *id)
{
    char name[ENG_NAME_LEN] = "";
    int64_t nh = s_count(s, "SELECT COUNT(*), (SELECT name FROM clusters "
                         "WHERE id = ?1) FROM hosts WHERE cluster_id = ?1",
                         id, name, sizeof(name));
    int64_t nv = nh < 0 ? -1 :
        s_count(s, "SELECT COUNT(*) FROM vms WHERE cluster_id = ?1", id,
                NULL, 0);
    if (nh < 0 || nv < 0)
        return -1;
    if (nh > 0 || nv > 0)
        return CMN_ERR(CMN_ERR_STATE, "cluster '%s' still holds %lld host(s) "
                       "and %lld VM(s): move or remove them first",
                       name[0] ? name : id, (long long)nh, (long long)nv);
    const char *v[] = { id };
    return s_exec(s, "DELETE FROM clusters WHERE id = ?1", "cluster", id,
                  true, 1, v);
}

int
eng_store_vm_set_owner(eng_store_t *s, const char *vm_id, const char *user_id)
{
    const char *v[] = { vm_id, user_id ? user_id : "" };
    return s_exec(s, "UPDATE vms SET owner_id = ?2 WHERE id = ?1", "VM",
                  vm_id, true, 2, v);
}

int
eng_store_vm_owned(eng_store_t *s, const char *user_id,
                   char (**ids)[ENG_ID_LEN], size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = s_prepare(s, "SELECT id FROM vms WHERE owner_id = ?1");
    if (!st)
        return -1;
    if (eng_store_bind_text_(s, st, 1, user_id) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char (*slot)[ENG_ID_LEN] = eng_store_list_grow_((void **)ids, &cap,
                                                        *n, ENG_ID_LEN);
        if (!slot) {
            sqlite3_finalize(st);
            free(*ids);
            *ids = NULL;
            *n = 0;
            return -1;
        }
        eng_store_col_str_(st, 0, *slot, ENG_ID_LEN);
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        ENG_STORE_ERR(s, "listing the VMs of user '%s'", user_id);
        sqlite3_finalize(st);
        free(*ids);
        *ids = NULL;
        *n = 0;
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}
