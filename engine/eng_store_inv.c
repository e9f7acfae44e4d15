/* The SQLite store: data centers, clusters and hosts. */
#include "eng_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store");

/* ---- data centers ---------------------------------------------------------- */

#define DC_COLS "id, name, description, created_ms"

static int
dc_row(sqlite3_stmt *st, void *elem)
{
    eng_dc_t *dc = elem;
    memset(dc, 0, sizeof(*dc));
    eng_store_col_str_(st, 0, dc->id, sizeof(dc->id));
    eng_store_col_str_(st, 1, dc->name, sizeof(dc->name));
    eng_store_col_str_(st, 2, dc->description, sizeof(dc->description));
    dc->created_ms = sqlite3_column_int64(st, 3);
    return 0;
}

int
eng_store_dc_insert(eng_store_t *s, const eng_dc_t *dc)
{
    if (dc->id[0] == '\0' || dc->name[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "data center needs an id and a name");
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_DC_INSERT,
        "INSERT INTO datacenters (" DC_COLS ") VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, dc->id) < 0 ||
        eng_store_bind_text_(s, st, 2, dc->name) < 0 ||
        eng_store_bind_text_(s, st, 3, dc->description) < 0 ||
        eng_store_bind_i64_(s, st, 4, dc->created_ms) < 0)
        return -1;
    return eng_store_exec_named_(s, st, "data center", dc->name);
}

int
eng_store_step_one_(eng_store_t *s, sqlite3_stmt *st, const char *what, const char *key)
{
    if (key == NULL)
        key = "";
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        (void)sqlite3_reset(st);
        return CMN_ERR(CMN_ERR_NOT_FOUND, "%s '%s' not found", what, key);
    }
    ENG_STORE_ERR(s, "reading %s '%s'", what, key);
    (void)sqlite3_reset(st);
    return -1;
}

int
eng_store_dc_get(eng_store_t *s, const char *id, eng_dc_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_DC_GET,
        "SELECT " DC_COLS " FROM datacenters WHERE id = ?1", "data center", id,
        dc_row, out);
}

int
eng_store_dc_get_by_name(eng_store_t *s, const char *name, eng_dc_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_DC_GET_BY_NAME,
        "SELECT " DC_COLS " FROM datacenters WHERE name = ?1", "data center",
        name, dc_row, out);
}

void *
eng_store_list_grow_(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *p = realloc(*arr, ncap * elem);
        if (p == NULL) {
            CMN_ERR(CMN_ERR_NOMEM, "out of memory listing records");
            return NULL;
        }
        *arr = p;
        *cap = ncap;
    }
    return (char *)*arr + n * elem;
}

int
eng_store_dc_list(eng_store_t *s, eng_dc_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_DC_LIST,
        "SELECT " DC_COLS " FROM datacenters ORDER BY name");
    if (st == NULL)
        return -1;
    return eng_store_list_(s, st, "listing data centers", sizeof(**out),
                           dc_row, NULL, (void **)out, n);
}

/* ---- clusters -------------------------------------------------------------- */

#define CLUSTER_COLS \
    "id, name, description, dc_id, cpu_type, memory_overcommit, created_ms"

static int
cluster_row(sqlite3_stmt *st, void *elem)
{
    eng_cluster_t *c = elem;
    memset(c, 0, sizeof(*c));
    eng_store_col_str_(st, 0, c->id, sizeof(c->id));
    eng_store_col_str_(st, 1, c->name, sizeof(c->name));
    eng_store_col_str_(st, 2, c->description, sizeof(c->description));
    eng_store_col_str_(st, 3, c->dc_id, sizeof(c->dc_id));
    eng_store_col_str_(st, 4, c->cpu_type, sizeof(c->cpu_type));
    c->memory_overcommit = sqlite3_column_int(st, 5);
    c->created_ms = sqlite3_column_int64(st, 6);
    return 0;
}

int
eng_store_cluster_insert(eng_store_t *s, const eng_cluster_t *c)
{
    if (c->id[0] == '\0' || c->name[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "cluster needs an id and a name");
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_CLUSTER_INSERT,
        "INSERT INTO clusters (" CLUSTER_COLS ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, c->id) < 0 ||
        eng_store_bind_text_(s, st, 2, c->name) < 0 ||
        eng_store_bind_text_(s, st, 3, c->description) < 0 ||
        eng_store_bind_id_(s, st, 4, c->dc_id) < 0 ||
        eng_store_bind_text_(s, st, 5, c->cpu_type) < 0 ||
        eng_store_bind_i64_(s, st, 6, c->memory_overcommit) < 0 ||
        eng_store_bind_i64_(s, st, 7, c->created_ms) < 0)
        return -1;
    return eng_store_exec_named_(s, st, "cluster", c->name);
}

int
eng_store_cluster_get(eng_store_t *s, const char *id, eng_cluster_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_CLUSTER_GET,
        "SELECT " CLUSTER_COLS " FROM clusters WHERE id = ?1", "cluster", id,
        cluster_row, out);
}

int
eng_store_cluster_get_by_name(eng_store_t *s, const char *name,
                              eng_cluster_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_CLUSTER_GET_BY_NAME,
        "SELECT " CLUSTER_COLS " FROM clusters WHERE name = ?1", "cluster",
        name, cluster_row, out);
}

int
eng_store_cluster_list(eng_store_t *s, eng_cluster_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_CLUSTER_LIST,
        "SELECT " CLUSTER_COLS " FROM clusters ORDER BY name");
    if (st == NULL)
        return -1;
    return eng_store_list_(s, st, "listing clusters", sizeof(**out),
                           cluster_row, NULL, (void **)out, n);
}

/* ---- hosts ----------------------------------------------------------------- */

#define HOST_COLS \
    "id, name, cluster_id, address, status, caps, last_seen_ms, " \
    "status_time_ms, created_ms"

static int
host_row(sqlite3_stmt *st, void *elem)
{
    eng_host_t *h = elem;
    memset(h, 0, sizeof(*h));
    eng_store_col_str_(st, 0, h->id, sizeof(h->id));
    eng_store_col_str_(st, 1, h->name, sizeof(h->name));
    eng_store_col_str_(st, 2, h->cluster_id, sizeof(h->cluster_id));
    eng_store_col_str_(st, 3, h->address, sizeof(h->address));
    const char *status = (const char *)sqlite3_column_text(st, 4);
    int sv = eng_host_status_parse(status);
    if (sv < 0)
        return CMN_ERR(CMN_ERR_DB, "host '%s': unknown status '%s' in database",
                       h->id, status ? status : "");
    h->status = (eng_host_status_t)sv;
    const char *caps = (const char *)sqlite3_column_text(st, 5);
    if (caps != NULL) {
        json_error_t jerr;
        h->caps = json_loads(caps, JSON_REJECT_DUPLICATES, &jerr);
        if (h->caps == NULL)
            return CMN_ERR(CMN_ERR_DB, "host '%s': bad caps JSON in database: %s",
                           h->id, jerr.text);
    }
    h->last_seen_ms = sqlite3_column_int64(st, 6);
    h->status_time_ms = sqlite3_column_int64(st, 7);
    h->created_ms = sqlite3_column_int64(st, 8);
    return 0;
}

int
eng_store_host_put(eng_store_t *s, const eng_host_t *h)
{
    if (h->id[0] == '\0' || h->name[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "host needs an id and a name");
    if ((int)h->status < 0 || h->status >= ENG_HOST__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "host '%s': bad status %d", h->name,
                       (int)h->status);
    char *caps = NULL;
    if (h->caps != NULL) {
        caps = json_dumps(h->caps, JSON_COMPACT | JSON_ENCODE_ANY);
        if (caps == NULL)
            return CMN_ERR(CMN_ERR_INVALID, "host '%s': caps cannot be encoded",
                           h->name);
    }
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_HOST_PUT,
        "INSERT INTO hosts (" HOST_COLS ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
        "cluster_id = excluded.cluster_id, address = excluded.address, "
        "status = excluded.status, caps = excluded.caps, "
        "last_seen_ms = excluded.last_seen_ms, "
        "status_time_ms = excluded.status_time_ms, "
        "created_ms = excluded.created_ms");
    int ret = -1;
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, h->id) < 0 ||
        eng_store_bind_text_(s, st, 2, h->name) < 0 ||
        eng_store_bind_id_(s, st, 3, h->cluster_id) < 0 ||
        eng_store_bind_text_(s, st, 4, h->address) < 0 ||
        eng_store_bind_text_(s, st, 5, eng_host_status_name(h->status)) < 0 ||
        (caps ? eng_store_bind_text_(s, st, 6, caps)
              : eng_store_bind_id_(s, st, 6, NULL)) < 0 ||
        eng_store_bind_i64_(s, st, 7, h->last_seen_ms) < 0 ||
        eng_store_bind_i64_(s, st, 8, h->status_time_ms) < 0 ||
        eng_store_bind_i64_(s, st, 9, h->created_ms) < 0)
        goto out;
    ret = eng_store_exec_named_(s, st, "host", h->name);
out:
    free(caps);
    return ret;
}

static int
host_get(eng_store_t *s, eng_stmt_id_t id, const char *sql, const char *key,
         eng_host_t *out)
{
    /* Zeroed first, so clearing after any failure is safe. */
    memset(out, 0, sizeof(*out));
    int rc = eng_store_get_one_(s, id, sql, "host", key, host_row, out);
    if (rc < 0)
        eng_host_clear(out);
    return rc;
}

static void
host_clear(void *elem)
{
    eng_host_clear(elem);
}

int
eng_store_host_get(eng_store_t *s, const char *id, eng_host_t *out)
{
    return host_get(s, ENG_STMT_HOST_GET,
                    "SELECT " HOST_COLS " FROM hosts WHERE id = ?1", id, out);
}

int
eng_store_host_get_by_name(eng_store_t *s, const char *name, eng_host_t *out)
{
    return host_get(s, ENG_STMT_HOST_GET_BY_NAME,
                    "SELECT " HOST_COLS " FROM hosts WHERE name = ?1", name, out);
}

const char *
eng_store_host_name(eng_store_t *s, const char *id, char *buf, size_t len)
{
    eng_host_t h = {0};
    if (id && *id && eng_store_host_get(s, id, &h) == 0)
        snprintf(buf, len, "%s", h.name);
    else
        snprintf(buf, len, "%s", id && *id ? id : "(none)");
    eng_host_clear(&h);
    cmn_err_reset();
    return buf;
}

int
eng_store_host_list(eng_store_t *s, eng_host_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_HOST_LIST,
        "SELECT " HOST_COLS " FROM hosts ORDER BY name");
    if (st == NULL)
        return -1;
    return eng_store_list_(s, st, "listing hosts", sizeof(**out), host_row,
                           host_clear, (void **)out, n);
}

int
eng_store_exec_one_(eng_store_t *s, sqlite3_stmt *st, const char *what, const char *id)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s '%s'", what, id);
    if (eng_store_exec_(s, st, buf) < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "%s '%s' not found", what, id);
    return 0;
}

int
eng_store_host_set_status(eng_store_t *s, const char *id,
                          eng_host_status_t status, int64_t when_ms)
{
    if ((int)status < 0 || status >= ENG_HOST__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "host '%s': bad status %d", id,
                       (int)status);
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_HOST_SET_STATUS,
        "UPDATE hosts SET status = ?2, status_time_ms = ?3 WHERE id = ?1");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, id) < 0 ||
        eng_store_bind_text_(s, st, 2, eng_host_status_name(status)) < 0 ||
        eng_store_bind_i64_(s, st, 3, when_ms) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "host", id);
}

int
eng_store_host_delete(eng_store_t *s, const char *id)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_HOST_DELETE,
                                       "DELETE FROM hosts WHERE id = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, id) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "host", id);
}
