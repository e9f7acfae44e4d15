/* The SQLite store: connection, schema migrations, transactions, the
 * status/severity names and the helpers eng_store_priv.h declares. Data
 * centers, clusters and hosts are in eng_store_inv.c; VMs, events and
 * statistics in eng_store_vm.c; users and API tokens in eng_store_user.c. */
#include "eng_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store");

#define BUSY_TIMEOUT_MS 5000

/* ---- names ---------------------------------------------------------------- */

static const char *const s_host_status_names[ENG_HOST__LAST] = {
    [ENG_HOST_CONNECTING] = "connecting",
    [ENG_HOST_UP] = "up",
    [ENG_HOST_NON_RESPONSIVE] = "non_responsive",
    [ENG_HOST_MAINTENANCE] = "maintenance",
    [ENG_HOST_PENDING_APPROVAL] = "pending_approval",
    [ENG_HOST_PREPARING_FOR_MAINTENANCE] = "preparing_for_maintenance",
    [ENG_HOST_DOWN] = "down",
};

static const char *const s_vm_status_names[ENG_VM__LAST] = {
    [ENG_VM_DOWN] = "down",
    [ENG_VM_WAIT_FOR_LAUNCH] = "wait_for_launch",
    [ENG_VM_POWERING_UP] = "powering_up",
    [ENG_VM_UP] = "up",
    [ENG_VM_POWERING_DOWN] = "powering_down",
    [ENG_VM_PAUSED] = "paused",
    [ENG_VM_MIGRATING] = "migrating",
    [ENG_VM_UNKNOWN] = "unknown",
    [ENG_VM_NOT_RESPONDING] = "not_responding",
    [ENG_VM_REBOOT_IN_PROGRESS] = "reboot_in_progress",
};

static const char *const s_severity_names[] = {
    [ENG_SEV_NORMAL] = "normal",
    [ENG_SEV_WARNING] = "warning",
    [ENG_SEV_ERROR] = "error",
    [ENG_SEV_ALERT] = "alert",
};

static int
name_parse(const char *const *names, int n, const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *
eng_host_status_name(eng_host_status_t s)
{
    if ((int)s < 0 || s >= ENG_HOST__LAST)
        return "invalid";
    return s_host_status_names[s];
}

int
eng_host_status_parse(const char *name)
{
    return name_parse(s_host_status_names, ENG_HOST__LAST, name);
}

const char *
eng_vm_status_name(eng_vm_status_t s)
{
    if ((int)s < 0 || s >= ENG_VM__LAST)
        return "invalid";
    return s_vm_status_names[s];
}

int
eng_vm_status_parse(const char *name)
{
    return name_parse(s_vm_status_names, ENG_VM__LAST, name);
}

const char *
eng_severity_name(eng_severity_t s)
{
    int n = (int)(sizeof(s_severity_names) / sizeof(s_severity_names[0]));
    if ((int)s < 0 || (int)s >= n)
        return "invalid";
    return s_severity_names[s];
}

int
eng_severity_parse(const char *name)
{
    int n = (int)(sizeof(s_severity_names) / sizeof(s_severity_names[0]));
    return name_parse(s_severity_names, n, name);
}

void
eng_host_clear(eng_host_t *h)
{
    if (h == NULL)
        return;
    json_decref(h->caps);
    h->caps = NULL;
}

/* ---- private helpers ------------------------------------------------------ */

int
eng_store_err_(eng_store_t *s, const char *file, int line, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (n < 0)
        what[0] = '\0';

    int ext = sqlite3_extended_errcode(s->db);
    cmn_code_t code = CMN_ERR_DB;
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = CMN_ERR_EXISTS;
    else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        code = CMN_ERR_NOT_FOUND;
    return cmn_err_set(code, 0, file, line, "%s: %s", what,
                       sqlite3_errmsg(s->db));
}

sqlite3_stmt *
eng_store_stmt_(eng_store_t *s, eng_stmt_id_t id, const char *sql)
{
    sqlite3_stmt *st = s->stmts[id];
    if (st == NULL) {
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &st, NULL);
        if (rc != SQLITE_OK) {
            ENG_STORE_ERR(s, "preparing '%.200s'", sql);
            sqlite3_finalize(st);
            return NULL;
        }
        s->stmts[id] = st;
        return st;
    }
    /* reset's result repeats the last step's error, already reported. */
    (void)sqlite3_reset(st);
    if (sqlite3_clear_bindings(st) != SQLITE_OK) {
        ENG_STORE_ERR(s, "clearing bindings");
        return NULL;
    }
    return st;
}

int
eng_store_exec_(eng_store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ENG_STORE_ERR(s, "%s", what);
        (void)sqlite3_reset(st);
        return -1;
    }
    (void)sqlite3_reset(st);
    return 0;
}

int
eng_store_exec_named_(eng_store_t *s, sqlite3_stmt *st, const char *what,
                      const char *name)
{
    char buf[ENG_NAME_LEN + 32];
    snprintf(buf, sizeof(buf), "%s '%s'", what, name);
    return eng_store_exec_(s, st, buf);
}

int
eng_store_list_(eng_store_t *s, sqlite3_stmt *st, const char *what,
                size_t elem_size, eng_store_row_fn row,
                void (*clear)(void *elem), void **out, size_t *n)
{
    void *arr = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *e = eng_store_list_grow_(&arr, &cap, cnt, elem_size);
        if (e == NULL)
            goto fail;
        if (row(st, e) < 0) {
            if (clear != NULL)
                clear(e);
            goto fail;
        }
        cnt++;
    }
    if (rc != SQLITE_DONE) {
        ENG_STORE_ERR(s, "%s", what);
        goto fail;
    }
    (void)sqlite3_reset(st);
    *out = arr;
    *n = cnt;
    return 0;
fail:
    (void)sqlite3_reset(st);
    for (size_t i = 0; clear != NULL && i < cnt; i++)
        clear((char *)arr + i * elem_size);
    free(arr);
    return -1;
}

int
eng_store_get_one_(eng_store_t *s, eng_stmt_id_t id, const char *sql,
                   const char *what, const char *key, eng_store_row_fn row,
                   void *out)
{
    sqlite3_stmt *st = eng_store_stmt_(s, id, sql);
    if (st == NULL || eng_store_bind_text_(s, st, 1, key) < 0)
        return -1;
    if (eng_store_step_one_(s, st, what, key) < 0)
        return -1;
    int rc = row(st, out);
    (void)sqlite3_reset(st);
    return rc;
}

void
eng_store_copy_(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return;
    if (src == NULL)
        src = "";
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void
eng_store_col_str_(sqlite3_stmt *st, int col, char *buf, size_t size)
{
    eng_store_copy_(buf, size, (const char *)sqlite3_column_text(st, col));
}

static int
bind_check(eng_store_t *s, int rc, int idx)
{
    if (rc != SQLITE_OK)
        return ENG_STORE_ERR(s, "binding parameter %d", idx);
    return 0;
}

int
eng_store_bind_text_(eng_store_t *s, sqlite3_stmt *st, int idx, const char *v)
{
    return bind_check(s, sqlite3_bind_text(st, idx, v ? v : "", -1,
                                           SQLITE_TRANSIENT), idx);
}

int
eng_store_bind_id_(eng_store_t *s, sqlite3_stmt *st, int idx, const char *v)
{
    if (v == NULL || v[0] == '\0')
        return bind_check(s, sqlite3_bind_null(st, idx), idx);
    return eng_store_bind_text_(s, st, idx, v);
}

int
eng_store_bind_i64_(eng_store_t *s, sqlite3_stmt *st, int idx, int64_t v)
{
    return bind_check(s, sqlite3_bind_int64(st, idx, v), idx);
}

/* Run SQL text that has no parameters and no wanted rows (DDL, pragmas). */
static int
exec_sql(eng_store_t *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        CMN_ERR(CMN_ERR_DB, "%s: %s: %s", s->path, what,
                msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* One integer from a parameterless query (pragmas). */
static int
query_int(eng_store_t *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        CMN_ERR(CMN_ERR_DB, "%s: %s: %s", s->path, sql, sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        CMN_ERR(CMN_ERR_DB, "%s: %s: %s", s->path, sql,
                rc == SQLITE_DONE ? "no result" : sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* ---- schema ---------------------------------------------------------------- */

static int make_defaults(eng_store_t *s);

typedef struct {
    const char *sql;
    int (*after)(eng_store_t *s);   /* data steps, in the same transaction */
} migration_t;

/* Step i brings the schema from version i to i + 1. Append only: never edit
 * a step that has shipped. */
static const migration_t s_migrations[] = {
    {
        "CREATE TABLE datacenters ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL UNIQUE,"
        "  description TEXT NOT NULL DEFAULT '',"
        "  created_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE clusters ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL UNIQUE,"
        "  description TEXT NOT NULL DEFAULT '',"
        "  dc_id TEXT REFERENCES datacenters(id),"
        "  cpu_type TEXT NOT NULL DEFAULT '',"
        "  memory_overcommit INTEGER NOT NULL DEFAULT 100,"
        "  created_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE hosts ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL UNIQUE,"
        "  cluster_id TEXT REFERENCES clusters(id),"
        "  address TEXT NOT NULL DEFAULT '',"
        "  status TEXT NOT NULL,"
        "  caps TEXT,"
        "  last_seen_ms INTEGER NOT NULL DEFAULT 0,"
        "  status_time_ms INTEGER NOT NULL DEFAULT 0,"
        "  created_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE vms ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL UNIQUE,"
        "  description TEXT NOT NULL DEFAULT '',"
        "  cluster_id TEXT REFERENCES clusters(id),"
        "  memory_bytes INTEGER NOT NULL,"
        "  sockets INTEGER NOT NULL,"
        "  cores INTEGER NOT NULL,"
        "  threads INTEGER NOT NULL,"
        "  disks TEXT NOT NULL DEFAULT '[]',"
        "  nics TEXT NOT NULL DEFAULT '[]',"
        "  display_type TEXT NOT NULL DEFAULT 'vnc',"
        "  ha INTEGER NOT NULL DEFAULT 0,"
        "  ha_priority INTEGER NOT NULL DEFAULT 0,"
        "  pinned_host_id TEXT,"
        "  external INTEGER NOT NULL DEFAULT 0,"
        "  created_ms INTEGER NOT NULL DEFAULT 0,"
        "  status TEXT NOT NULL,"
        "  host_id TEXT,"
        "  start_time_ms INTEGER NOT NULL DEFAULT 0,"
        "  status_time_ms INTEGER NOT NULL DEFAULT 0,"
        "  display_port INTEGER NOT NULL DEFAULT 0,"
        "  display_address TEXT NOT NULL DEFAULT '');"
        "CREATE TABLE events ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  time_ms INTEGER NOT NULL,"
        "  severity TEXT NOT NULL,"
        "  code INTEGER NOT NULL,"
        "  description TEXT NOT NULL DEFAULT '',"
        "  host_id TEXT NOT NULL DEFAULT '',"
        "  vm_id TEXT NOT NULL DEFAULT '',"
        "  user TEXT NOT NULL DEFAULT '',"
        "  correlation_id TEXT NOT NULL DEFAULT '');"
        "CREATE INDEX events_time ON events(time_ms);"
        "CREATE TABLE stats_latest ("
        "  kind TEXT NOT NULL,"
        "  id TEXT NOT NULL,"
        "  time_ms INTEGER NOT NULL,"
        "  json TEXT NOT NULL,"
        "  PRIMARY KEY (kind, id)) WITHOUT ROWID;",
        make_defaults,
    },
    {
        /* eng_store_vm_list_by_host runs on every full report of a host. */
        "CREATE INDEX vms_host ON vms(host_id);",
        NULL,
    },
    {
        /* REST API users (argon2id hashes in libsodium's string form) and
         * bearer tokens, stored only as their SHA-256 (hex). User names
         * compare without case: "Admin@internal" is admin@internal. */
        "CREATE TABLE users ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
        "  hash TEXT NOT NULL,"
        "  role TEXT NOT NULL,"
        "  created_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE tokens ("
        "  hash TEXT PRIMARY KEY NOT NULL,"
        "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  expires_ms INTEGER NOT NULL,"
        "  created_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
        "CREATE INDEX tokens_user ON tokens(user_id);"
        "CREATE INDEX tokens_expires ON tokens(expires_ms);",
        NULL,
    },
    {
        /* Who created a VM (a users.id; NULL for external VMs and VMs
         * made before users existed): the REST API's `Filter: true`. */
        "ALTER TABLE vms ADD COLUMN owner_id TEXT;"
        "CREATE INDEX vms_owner ON vms(owner_id);",
        NULL,
    },
    {
        /* Migration and scheduling (eng_store_mig.c): a cluster's policy,
         * its parameters (JSON object of oVirt's names -> text), migration
         * bandwidth (Mbit/s, 0 = unlimited) and maximum downtime (ms, 0 =
         * libvirt's default); jobs (live migrations) that survive an
         * engine restart; affinity groups and their VMs. */
        "ALTER TABLE clusters ADD COLUMN sched_policy TEXT NOT NULL "
        "  DEFAULT 'none';"
        "ALTER TABLE clusters ADD COLUMN sched_props TEXT NOT NULL "
        "  DEFAULT '{}';"
        "ALTER TABLE clusters ADD COLUMN migration_bandwidth_mbps INTEGER "
        "  NOT NULL DEFAULT 0;"
        "ALTER TABLE clusters ADD COLUMN migration_max_downtime_ms INTEGER "
        "  NOT NULL DEFAULT 0;"
        "CREATE TABLE jobs ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  kind TEXT NOT NULL,"
        "  state TEXT NOT NULL,"
        "  vm_id TEXT NOT NULL DEFAULT '',"
        "  source_host_id TEXT NOT NULL DEFAULT '',"
        "  target_host_id TEXT NOT NULL DEFAULT '',"
        "  user TEXT NOT NULL DEFAULT '',"
        "  description TEXT NOT NULL DEFAULT '',"
        "  message TEXT NOT NULL DEFAULT '',"
        "  percent INTEGER NOT NULL DEFAULT 0,"
        "  memory_total INTEGER NOT NULL DEFAULT 0,"
        "  memory_remaining INTEGER NOT NULL DEFAULT 0,"
        "  started_ms INTEGER NOT NULL DEFAULT 0,"
        "  ended_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX jobs_state ON jobs(state);"
        "CREATE TABLE affinity_groups ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,"
        "  name TEXT NOT NULL,"
        "  positive INTEGER NOT NULL DEFAULT 0,"
        "  enforcing INTEGER NOT NULL DEFAULT 1,"
        "  created_ms INTEGER NOT NULL DEFAULT 0,"
        "  UNIQUE (cluster_id, name));"
        "CREATE TABLE affinity_members ("
        "  group_id TEXT NOT NULL REFERENCES affinity_groups(id) "
        "    ON DELETE CASCADE,"
        "  vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
        "  PRIMARY KEY (group_id, vm_id)) WITHOUT ROWID;"
        "CREATE INDEX affinity_members_vm ON affinity_members(vm_id);",
        NULL,
    },
    {
        /* Agents' CURVE public keys (eng_store_keys.c): pending until an
         * admin approves, revoked keys kept so they stay refused; the old
         * key of a rotation keeps working until expires_ms. One-time
         * enrollment tokens, stored only as their SHA-256 (hex). */
        "CREATE TABLE host_keys ("
        "  public_key TEXT PRIMARY KEY NOT NULL,"
        "  fingerprint TEXT NOT NULL,"
        "  host_id TEXT NOT NULL DEFAULT '',"
        "  name TEXT NOT NULL DEFAULT '',"
        "  state TEXT NOT NULL,"
        "  rotated_from TEXT NOT NULL DEFAULT '',"
        "  expires_ms INTEGER NOT NULL DEFAULT 0,"
        "  created_ms INTEGER NOT NULL DEFAULT 0,"
        "  approved_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
        "CREATE INDEX host_keys_host ON host_keys(host_id);"
        "CREATE TABLE enroll_tokens ("
        "  hash TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL DEFAULT '',"
        "  expires_ms INTEGER NOT NULL DEFAULT 0,"
        "  created_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",
        NULL,
    },
    {
        /* Enrollment tokens get an id (a UUID, for the API to list and
         * delete them by; rows of older versions get one here) and who
         * made them. */
        "ALTER TABLE enroll_tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE enroll_tokens ADD COLUMN created_by TEXT NOT NULL "
        "  DEFAULT '';"
        "UPDATE enroll_tokens SET id = lower(hex(randomblob(4)) || '-' ||"
        "  hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) ||"
        "  '-' || substr('89ab', 1 + abs(random() % 4), 1) ||"
        "  substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));"
        "CREATE UNIQUE INDEX enroll_tokens_id ON enroll_tokens(id);",
        NULL,
    },
    {
        /* A used token keeps its row for a while (eng_store_keys.c),
         * marked with the time of use. */
        "ALTER TABLE enroll_tokens ADD COLUMN used_ms INTEGER NOT NULL "
        "  DEFAULT 0;",
        NULL,
    },
};

#define SCHEMA_VERSION \
    ((int)(sizeof(s_migrations) / sizeof(s_migrations[0])))

static int
make_defaults(eng_store_t *s)
{
    eng_dc_t dc = {0};
    cmn_uuid_generate(dc.id);
    eng_store_copy_(dc.name, sizeof(dc.name), "Default");
    eng_store_copy_(dc.description, sizeof(dc.description),
                    "The default Data Center");
    dc.created_ms = (int64_t)cmn_time_ms();
    if (eng_store_dc_insert(s, &dc) < 0)
        return -1;

    eng_cluster_t c = {0};
    cmn_uuid_generate(c.id);
    eng_store_copy_(c.name, sizeof(c.name), "Default");
    eng_store_copy_(c.description, sizeof(c.description),
                    "The default server cluster");
    eng_store_copy_(c.dc_id, sizeof(c.dc_id), dc.id);
    c.memory_overcommit = 100;
    c.created_ms = dc.created_ms;
    return eng_store_cluster_insert(s, &c);
}

/* Apply step `i` in one transaction; the version is re-read inside it so
 * that two processes opening a new file at once don't both apply it. */
static int
migrate_step(eng_store_t *s, int i)
{
    char what[64];
    snprintf(what, sizeof(what), "schema migration to version %d", i + 1);
    if (exec_sql(s, "BEGIN IMMEDIATE", what) < 0)
        return -1;
    int64_t cur = 0;
    if (query_int(s, "PRAGMA user_version", &cur) < 0)
        goto rollback;
    if (cur > i) {
        /* someone else did it meanwhile */
        return exec_sql(s, "COMMIT", what);
    }
    if (exec_sql(s, s_migrations[i].sql, what) < 0)
        goto rollback;
    if (s_migrations[i].after != NULL && s_migrations[i].after(s) < 0)
        goto rollback;
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", i + 1);
    if (exec_sql(s, pragma, what) < 0 || exec_sql(s, "COMMIT", what) < 0)
        goto rollback;
    CMN_DEBUG("%s: schema migrated to version %d", s->path, i + 1);
    return 0;

rollback:
    (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int
migrate(eng_store_t *s)
{
    int64_t version = 0;
    if (query_int(s, "PRAGMA user_version", &version) < 0)
        return -1;
    if (version > SCHEMA_VERSION) {
        return CMN_ERR(CMN_ERR_DB,
                       "%s: database schema version %lld is newer than this "
                       "herd-engine knows (%d); use a newer herd-engine",
                       s->path, (long long)version, SCHEMA_VERSION);
    }
    if (version < 0)
        return CMN_ERR(CMN_ERR_DB, "%s: bad schema version %lld", s->path,
                       (long long)version);
    for (int i = (int)version; i < SCHEMA_VERSION; i++)
        if (migrate_step(s, i) < 0)
            return -1;
    if (version < SCHEMA_VERSION)
        CMN_INFO("%s: schema version %lld -> %d", s->path, (long long)version,
                 SCHEMA_VERSION);
    return 0;
}

/* ---- connection ------------------------------------------------------------ */

eng_store_t *
eng_store_open(const char *path)
{
    if (path == NULL || path[0] == '\0') {
        CMN_ERR(CMN_ERR_DB, "no database path given");
        return NULL;
    }
    eng_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        CMN_ERR(CMN_ERR_NOMEM, "out of memory opening %s", path);
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        CMN_ERR(CMN_ERR_DB, "%s: cannot open database: %s", path,
                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    if (sqlite3_extended_result_codes(s->db, 1) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
        CMN_ERR(CMN_ERR_DB, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* Reading the schema version first also tells "not a database". */
    int64_t fk = 0;
    if (query_int(s, "PRAGMA user_version", &fk) < 0 ||
        exec_sql(s, "PRAGMA foreign_keys = ON", "enabling foreign keys") < 0 ||
        query_int(s, "PRAGMA foreign_keys", &fk) < 0)
        goto fail;
    if (fk != 1) {
        CMN_ERR(CMN_ERR_DB, "%s: this SQLite cannot enforce foreign keys", path);
        goto fail;
    }
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        CMN_ERR(CMN_ERR_DB, "%s: setting WAL mode: %s", path,
                sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0))
        CMN_WARN("%s: journal mode is %s, not wal", path, mode ? mode : "?");
    sqlite3_finalize(st);
    /* NORMAL is durable across application crashes in WAL mode; a power
     * loss may lose the last transactions, never corrupt the file. */
    if (exec_sql(s, "PRAGMA synchronous = NORMAL", "setting synchronous") < 0)
        goto fail;
    if (migrate(s) < 0)
        goto fail;
    CMN_DEBUG("%s: open, schema version %d", path, SCHEMA_VERSION);
    return s;

fail:
    eng_store_destroy(&s);
    return NULL;
}

void
eng_store_destroy(eng_store_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    eng_store_t *s = *p;
    for (int i = 0; i < ENG_STMT__LAST; i++)
        sqlite3_finalize(s->stmts[i]);
    if (s->db != NULL) {
        int rc = sqlite3_close(s->db);
        if (rc != SQLITE_OK)
            CMN_WARN("%s: close: %s", s->path, sqlite3_errstr(rc));
    }
    free(s->path);
    free(s);
    *p = NULL;
}

int
eng_store_schema_version(eng_store_t *s)
{
    int64_t v = 0;
    if (query_int(s, "PRAGMA user_version", &v) < 0)
        return -1;
    return (int)v;
}

int
eng_store_schema_latest(void)
{
    return SCHEMA_VERSION;
}

/* ---- transactions ---------------------------------------------------------- */

int
eng_store_begin(eng_store_t *s)
{
    if (s->in_tx)
        return CMN_ERR(CMN_ERR_STATE, "a store transaction is already open");
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_BEGIN, "BEGIN IMMEDIATE");
    if (st == NULL || eng_store_exec_(s, st, "begin") < 0)
        return -1;
    s->in_tx = true;
    return 0;
}

int
eng_store_commit(eng_store_t *s)
{
    if (!s->in_tx)
        return CMN_ERR(CMN_ERR_STATE, "no store transaction is open");
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_COMMIT, "COMMIT");
    if (st == NULL || eng_store_exec_(s, st, "commit") < 0) {
        eng_store_rollback(s);
        return -1;
    }
    s->in_tx = false;
    return 0;
}

void
eng_store_rollback(eng_store_t *s)
{
    if (!s->in_tx)
        return;
    s->in_tx = false;
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_ROLLBACK, "ROLLBACK");
        if (st == NULL || eng_store_exec_(s, st, "rollback") < 0)
            CMN_WARN("%s: rollback failed: %s", s->path, sqlite3_errmsg(s->db));
    }
}

