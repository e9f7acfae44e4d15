/* The SQLite store: cluster scheduling and migration settings, jobs,
 * affinity groups (schema version 5). Statements are prepared per call:
 * these are rare next to VM and stats writes. */
#include "eng_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store.mig");

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

/* ---- cluster settings ------------------------------------------------------ */

int
eng_store_cluster_sched_get(eng_store_t *s, const char *cluster_id,
                            eng_cluster_sched_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = s_prepare(s, "SELECT sched_policy, sched_props, "
                                 "migration_bandwidth_mbps, "
                                 "migration_max_downtime_ms FROM clusters "
                                 "WHERE id = ?1");
    if (!st)
        return -1;
    int rc = -1;
    if (eng_store_bind_text_(s, st, 1, cluster_id) == 0 &&
        eng_store_step_one_(s, st, "cluster", cluster_id) == 1) {
        eng_store_col_str_(st, 0, out->policy, sizeof(out->policy));
        eng_store_col_str_(st, 1, out->props, sizeof(out->props));
        out->bandwidth_mbps = sqlite3_column_int64(st, 2);
        out->max_downtime_ms = sqlite3_column_int64(st, 3);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int
eng_store_cluster_sched_set(eng_store_t *s, const char *cluster_id,
                            const eng_cluster_sched_t *in)
{
    sqlite3_stmt *st = s_prepare(s, "UPDATE clusters SET sched_policy = ?2, "
                                 "sched_props = ?3, "
                                 "migration_bandwidth_mbps = ?4, "
                                 "migration_max_downtime_ms = ?5 "
                                 "WHERE id = ?1");
    if (!st)
        return -1;
    int rc = -1;
    if (eng_store_bind_text_(s, st, 1, cluster_id) == 0 &&
        eng_store_bind_text_(s, st, 2, in->policy[0] ? in->policy : "none") == 0 &&
        eng_store_bind_text_(s, st, 3, in->props[0] ? in->props : "{}") == 0 &&
        eng_store_bind_i64_(s, st, 4, in->bandwidth_mbps) == 0 &&
        eng_store_bind_i64_(s, st, 5, in->max_downtime_ms) == 0)
        rc = eng_store_exec_one_(s, st, "cluster", cluster_id);
    sqlite3_finalize(st);
    return rc;
}

/* ---- jobs -------------------------------------------------------------------- */

#define JOB_COLS "id, kind, state, vm_id, source_host_id, target_host_id, " \
    "user, description, message, percent, memory_total, memory_remaining, " \
    "started_ms, ended_ms"

static void
s_job_row(sqlite3_stmt *st, eng_job_t *j)
{
    memset(j, 0, sizeof(*j));
    eng_store_col_str_(st, 0, j->id, sizeof(j->id));
    eng_store_col_str_(st, 1, j->kind, sizeof(j->kind));
    eng_store_col_str_(st, 2, j->state, sizeof(j->state));
    eng_store_col_str_(st, 3, j->vm_id, sizeof(j->vm_id));
    eng_store_col_str_(st, 4, j->source_host_id, sizeof(j->source_host_id));
    eng_store_col_str_(st, 5, j->target_host_id, sizeof(j->target_host_id));
    eng_store_col_str_(st, 6, j->user, sizeof(j->user));
    eng_store_col_str_(st, 7, j->description, sizeof(j->description));
    eng_store_col_str_(st, 8, j->message, sizeof(j->message));
    j->percent = sqlite3_column_int(st, 9);
    j->memory_total = sqlite3_column_int64(st, 10);
    j->memory_remaining = sqlite3_column_int64(st, 11);
    j->started_ms = sqlite3_column_int64(st, 12);
    j->ended_ms = sqlite3_column_int64(st, 13);
}

int
eng_store_job_put(eng_store_t *s, const eng_job_t *j)
{
    if (!j->id[0])
        return CMN_ERR(CMN_ERR_INVALID, "job needs an id");
    sqlite3_stmt *st = s_prepare(s, "INSERT OR REPLACE INTO jobs (" JOB_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                 "?9, ?10, ?11, ?12, ?13, ?14)");
    if (!st)
        return -1;
    const char *txt[] = { j->id, j->kind, j->state, j->vm_id,
                          j->source_host_id, j->target_host_id, j->user,
                          j->description, j->message };
    int rc = 0;
    for (int i = 0; i < 9 && rc == 0; i++)
        rc = eng_store_bind_text_(s, st, i + 1, txt[i]);
    if (rc == 0 &&
        (eng_store_bind_i64_(s, st, 10, j->percent) < 0 ||
         eng_store_bind_i64_(s, st, 11, j->memory_total) < 0 ||
         eng_store_bind_i64_(s, st, 12, j->memory_remaining) < 0 ||
         eng_store_bind_i64_(s, st, 13, j->started_ms) < 0 ||
         eng_store_bind_i64_(s, st, 14, j->ended_ms) < 0))
        rc = -1;
    if (rc == 0)
        rc = eng_store_exec_(s, st, "storing a job");
    sqlite3_finalize(st);
    return rc;
}

int
eng_store_job_get(eng_store_t *s, const char *id, eng_job_t *out)
{
    sqlite3_stmt *st = s_prepare(s, "SELECT " JOB_COLS " FROM jobs "
                                 "WHERE id = ?1");
    if (!st)
        return -1;
    int rc = -1;
    if (eng_store_bind_text_(s, st, 1, id) == 0 &&
        eng_store_step_one_(s, st, "job", id) == 1) {
        s_job_row(st, out);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int
eng_store_job_list(eng_store_t *s, bool only_running, size_t max,
                   eng_job_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = s_prepare(s, only_running
        ? "SELECT " JOB_COLS " FROM jobs WHERE state = 'started' "
          "ORDER BY started_ms DESC LIMIT ?1"
        : "SELECT " JOB_COLS " FROM jobs ORDER BY started_ms DESC LIMIT ?1");
    if (!st)
        return -1;
    if (eng_store_bind_i64_(s, st, 1, max ? (int64_t)max : -1) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        eng_job_t *j = eng_store_list_grow_((void **)out, &cap, *n, sizeof(**out));
        if (!j)
            break;
        s_job_row(st, j);
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        if (rc != SQLITE_ROW)
            ENG_STORE_ERR(s, "listing jobs");
        sqlite3_finalize(st);
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int64_t
eng_store_job_prune(eng_store_t *s, int64_t before_ms)
{
    sqlite3_stmt *st = s_prepare(s, "DELETE FROM jobs WHERE state != 'started' "
                                 "AND ended_ms < ?1");
    if (!st)
        return -1;
    int64_t n = -1;
    if (eng_store_bind_i64_(s, st, 1, before_ms) == 0 &&
        eng_store_exec_(s, st, "pruning jobs") == 0)
        n = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    return n;
}

/* ---- affinity groups ----------------------------------------------------------- */

static int
s_affinity_members(eng_store_t *s, eng_affinity_t *g)
{
    g->nvms = 0;
    sqlite3_stmt *st = s_prepare(s, "SELECT vm_id FROM affinity_members "
                                 "WHERE group_id = ?1 ORDER BY vm_id");
    if (!st)
        return -1;
    if (eng_store_bind_text_(s, st, 1, g->id) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->nvms < ENG_AFF_MAX_VMS)
        eng_store_col_str_(st, 0, g->vms[g->nvms++], ENG_ID_LEN);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = ENG_STORE_ERR(s, "listing the VMs of affinity group '%s'", g->name);
    sqlite3_finalize(st);
    return ret;
}

/* Insert the members of `g` (inside the caller's transaction). */
static int
s_aff_members_insert(eng_store_t *s, const eng_affinity_t *g)
{
    char what[ENG_ID_LEN + 40];
    for (size_t i = 0; i < g->nvms; i++) {
        sqlite3_stmt *st = s_prepare(s, "INSERT OR IGNORE INTO "
                                     "affinity_members (group_id, vm_id) "
                                     "VALUES (?1, ?2)");
        if (!st)
            return -1;
        snprintf(what, sizeof(what), "VM '%s' of the affinity group",
                 g->vms[i]);
        int rc = -1;
        if (eng_store_bind_text_(s, st, 1, g->id) == 0 &&
            eng_store_bind_text_(s, st, 2, g->vms[i]) == 0)
            rc = eng_store_exec_(s, st, what);
        sqlite3_finalize(st);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* After the group row (rc: how that went): insert the members, then end
 * the transaction if it is ours (commit, or roll back on any error). */
static int
s_aff_finish(eng_store_t *s, const eng_affinity_t *g, bool own_tx, int rc)
{
    if (rc == 0)
        rc = s_aff_members_insert(s, g);
    if (own_tx) {
        if (rc == 0 && eng_store_commit(s) == 0)
            return 0;
        eng_store_rollback(s);
        return -1;
    }
    return rc;
}

int
eng_store_affinity_insert(eng_store_t *s, const eng_affinity_t *g)
{
    if (!g->id[0] || !g->name[0] || !g->cluster_id[0])
        return CMN_ERR(CMN_ERR_INVALID, "affinity group needs an id, a name "
                       "and a cluster");
    bool own_tx = !s->in_tx;
    if (own_tx && eng_store_begin(s) < 0)
        return -1;
    sqlite3_stmt *st = s_prepare(s, "INSERT INTO affinity_groups (id, "
                                 "cluster_id, name, positive, enforcing, "
                                 "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    int rc = st ? 0 : -1;
    char what[ENG_NAME_LEN + 32];
    snprintf(what, sizeof(what), "affinity group '%s'", g->name);
    if (rc == 0 &&
        (eng_store_bind_text_(s, st, 1, g->id) < 0 ||
         eng_store_bind_text_(s, st, 2, g->cluster_id) < 0 ||
         eng_store_bind_text_(s, st, 3, g->name) < 0 ||
         eng_store_bind_i64_(s, st, 4, g->positive) < 0 ||
         eng_store_bind_i64_(s, st, 5, g->enforcing) < 0 ||
         eng_store_bind_i64_(s, st, 6, g->created_ms) < 0))
        rc = -1;
    if (rc == 0)
        rc = eng_store_exec_(s, st, what);
    sqlite3_finalize(st);
    return s_aff_finish(s, g, own_tx, rc);
}

#define AFF_COLS "id, cluster_id, name, positive, enforcing, created_ms"

static void
s_aff_row(sqlite3_stmt *st, eng_affinity_t *g)
{
    memset(g, 0, sizeof(*g));
    eng_store_col_str_(st, 0, g->id, sizeof(g->id));
    eng_store_col_str_(st, 1, g->cluster_id, sizeof(g->cluster_id));
    eng_store_col_str_(st, 2, g->name, sizeof(g->name));
    g->positive = sqlite3_column_int(st, 3) != 0;
    g->enforcing = sqlite3_column_int(st, 4) != 0;
    g->created_ms = sqlite3_column_int64(st, 5);
}

int
eng_store_affinity_get(eng_store_t *s, const char *id, eng_affinity_t *out)
{
    sqlite3_stmt *st = s_prepare(s, "SELECT " AFF_COLS " FROM affinity_groups "
                                 "WHERE id = ?1 OR name = ?1 LIMIT 1");
    if (!st)
        return -1;
    int rc = -1;
    if (eng_store_bind_text_(s, st, 1, id) == 0 &&
        eng_store_step_one_(s, st, "affinity group", id) == 1) {
        s_aff_row(st, out);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc == 0 ? s_affinity_members(s, out) : -1;
}

int
eng_store_affinity_list(eng_store_t *s, const char *cluster_id,
                        eng_affinity_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = s_prepare(s, "SELECT " AFF_COLS " FROM affinity_groups "
                                 "WHERE ?1 IS NULL OR cluster_id = ?1 "
                                 "ORDER BY name");
    if (!st)
        return -1;
    if (eng_store_bind_id_(s, st, 1, cluster_id ? cluster_id : "") < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        eng_affinity_t *g = eng_store_list_grow_((void **)out, &cap, *n,
                                                 sizeof(**out));
        if (!g)
            break;
        s_aff_row(st, g);
        (*n)++;
    }
    int ret = 0;
    if (rc != SQLITE_DONE) {
        if (rc != SQLITE_ROW)
            ENG_STORE_ERR(s, "listing affinity groups");
        ret = -1;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; ret == 0 && i < *n; i++)
        ret = s_affinity_members(s, &(*out)[i]);
    if (ret < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

int
eng_store_affinity_delete(eng_store_t *s, const char *id)
{
    sqlite3_stmt *st = s_prepare(s, "DELETE FROM affinity_groups WHERE id = ?1");
    if (!st)
        return -1;
    int rc = -1;
    if (eng_store_bind_text_(s, st, 1, id) == 0)
        rc = eng_store_exec_one_(s, st, "affinity group", id);
    sqlite3_finalize(st);
    return rc;
}

int
eng_store_affinity_update(eng_store_t *s, const eng_affinity_t *g)
{
    if (!g->id[0] || !g->name[0])
        return CMN_ERR(CMN_ERR_INVALID, "affinity group needs an id and a "
                       "name");
    bool own_tx = !s->in_tx;
    if (own_tx && eng_store_begin(s) < 0)
        return -1;
    char what[ENG_NAME_LEN + 32];
    snprintf(what, sizeof(what), "affinity group '%s'", g->name);
    sqlite3_stmt *st = s_prepare(s, "UPDATE affinity_groups SET name = ?2, "
                                 "positive = ?3, enforcing = ?4 "
                                 "WHERE id = ?1");
    int rc = st ? 0 : -1;
    if (rc == 0 &&
        (eng_store_bind_text_(s, st, 1, g->id) < 0 ||
         eng_store_bind_text_(s, st, 2, g->name) < 0 ||
         eng_store_bind_i64_(s, st, 3, g->positive) < 0 ||
         eng_store_bind_i64_(s, st, 4, g->enforcing) < 0))
        rc = -1;
    if (rc == 0)
        rc = eng_store_exec_(s, st, what);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = CMN_ERR(CMN_ERR_NOT_FOUND, "affinity group '%s' not found",
                     g->id);
    sqlite3_finalize(st);
    if (rc == 0) {
        st = s_prepare(s, "DELETE FROM affinity_members WHERE group_id = ?1");
        rc = st ? eng_store_bind_text_(s, st, 1, g->id) : -1;
        if (rc == 0)
            rc = eng_store_exec_(s, st, what);
        sqlite3_finalize(st);
    }
    return s_aff_finish(s, g, own_tx, rc);
}
