/* The SQLite store: VMs (disks and NICs as JSON text columns), events and
 * the newest statistics samples. */
#include "eng_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_store_priv.h"

CMN_LOG_INIT("engine.store");

/* ---- disks and NICs as JSON ------------------------------------------------ */

static int
set_str(json_t *o, const char *key, const char *v)
{
    return json_object_set_new(o, key, json_string(v));
}

static int
disk_fill(json_t *o, const eng_vm_t *vm, int i)
{
    const eng_disk_t *d = &vm->disks[i];
    if (set_str(o, "id", d->id) < 0 ||
        json_object_set_new(o, "size_bytes",
                            json_integer((json_int_t)d->size_bytes)) < 0 ||
        set_str(o, "interface", d->interface) < 0 ||
        set_str(o, "format", d->format) < 0 ||
        json_object_set_new(o, "bootable", json_boolean(d->bootable)) < 0 ||
        set_str(o, "path", d->path) < 0)
        return -1;
    return 0;
}

static int
nic_fill(json_t *o, const eng_vm_t *vm, int i)
{
    const eng_nic_t *n = &vm->nics[i];
    if (set_str(o, "name", n->name) < 0 ||
        set_str(o, "mac", n->mac) < 0 ||
        set_str(o, "network", n->network) < 0 ||
        set_str(o, "bridge", n->bridge) < 0 ||
        set_str(o, "model", n->model) < 0)
        return -1;
    return 0;
}

/* The JSON text of `n` objects, element i filled by fill(o, vm, i); `what`
 * ("disks") and `one` ("disk") name them in errors. NULL with
 * CMN_ERR_INVALID/NOMEM recorded (a string that is not UTF-8 cannot be a
 * JSON string). */
static char *
array_dump(const eng_vm_t *vm, int n, const char *what, const char *one,
           int (*fill)(json_t *o, const eng_vm_t *vm, int i))
{
    json_t *arr = json_array();
    if (arr == NULL) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory encoding %s", what);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(arr, o) < 0 ||
            fill(o, vm, i) < 0) {
            json_decref(arr);
            CMN_ERR(CMN_ERR_INVALID, "vm '%s': %s %d cannot be encoded "
                    "(not UTF-8?)", vm->name, one, i + 1);
            return NULL;
        }
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (text == NULL)
        CMN_ERR(CMN_ERR_NOMEM, "out of memory encoding %s", what);
    return text;
}

static void
get_str(json_t *o, const char *key, char *buf, size_t size)
{
    eng_store_copy_(buf, size, json_string_value(json_object_get(o, key)));
}

/* Parse a JSON array column; NULL with CMN_ERR_DB recorded if it is not an
 * array of at most `max` objects. */
static json_t *
array_load(const eng_vm_t *vm, const char *col, const char *text, int max)
{
    json_error_t jerr;
    json_t *arr = json_loads(text ? text : "[]", 0, &jerr);
    if (arr == NULL) {
        CMN_ERR(CMN_ERR_DB, "vm '%s': bad %s JSON in database: %s", vm->id,
                col, jerr.text);
        return NULL;
    }
    if (!json_is_array(arr) || json_array_size(arr) > (size_t)max) {
        CMN_ERR(CMN_ERR_DB, "vm '%s': %s in database is not an array of at "
                "most %d", vm->id, col, max);
        json_decref(arr);
        return NULL;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        if (!json_is_object(o)) {
            CMN_ERR(CMN_ERR_DB, "vm '%s': %s[%zu] in database is not an "
                    "object", vm->id, col, i);
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static int
disks_load(eng_vm_t *vm, const char *text)
{
    json_t *arr = array_load(vm, "disks", text, ENG_VM_MAX_DISKS);
    if (arr == NULL)
        return -1;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        eng_disk_t *d = &vm->disks[i];
        get_str(o, "id", d->id, sizeof(d->id));
        d->size_bytes =
            (uint64_t)json_integer_value(json_object_get(o, "size_bytes"));
        get_str(o, "interface", d->interface, sizeof(d->interface));
        get_str(o, "format", d->format, sizeof(d->format));
        d->bootable = json_is_true(json_object_get(o, "bootable"));
        get_str(o, "path", d->path, sizeof(d->path));
    }
    vm->ndisks = (int)json_array_size(arr);
    json_decref(arr);
    return 0;
}

static int
nics_load(eng_vm_t *vm, const char *text)
{
    json_t *arr = array_load(vm, "nics", text, ENG_VM_MAX_NICS);
    if (arr == NULL)
        return -1;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        eng_nic_t *n = &vm->nics[i];
        get_str(o, "name", n->name, sizeof(n->name));
        get_str(o, "mac", n->mac, sizeof(n->mac));
        get_str(o, "network", n->network, sizeof(n->network));
        get_str(o, "bridge", n->bridge, sizeof(n->bridge));
        get_str(o, "model", n->model, sizeof(n->model));
    }
    vm->nnics = (int)json_array_size(arr);
    json_decref(arr);
    return 0;
}

/* ---- VMs ------------------------------------------------------------------- */

#define VM_COLS \
    "id, name, description, cluster_id, memory_bytes, sockets, cores, " \
    "threads, disks, nics, display_type, ha, ha_priority, pinned_host_id, " \
    "external, created_ms, status, host_id, start_time_ms, status_time_ms, " \
    "display_port, display_address"

static int
vm_row(sqlite3_stmt *st, void *elem)
{
    eng_vm_t *vm = elem;
    memset(vm, 0, sizeof(*vm));
    eng_store_col_str_(st, 0, vm->id, sizeof(vm->id));
    eng_store_col_str_(st, 1, vm->name, sizeof(vm->name));
    eng_store_col_str_(st, 2, vm->description, sizeof(vm->description));
    eng_store_col_str_(st, 3, vm->cluster_id, sizeof(vm->cluster_id));
    vm->memory_bytes = (uint64_t)sqlite3_column_int64(st, 4);
    vm->sockets = (uint32_t)sqlite3_column_int64(st, 5);
    vm->cores = (uint32_t)sqlite3_column_int64(st, 6);
    vm->threads = (uint32_t)sqlite3_column_int64(st, 7);
    if (disks_load(vm, (const char *)sqlite3_column_text(st, 8)) < 0 ||
        nics_load(vm, (const char *)sqlite3_column_text(st, 9)) < 0)
        return -1;
    eng_store_col_str_(st, 10, vm->display_type, sizeof(vm->display_type));
    vm->ha = sqlite3_column_int(st, 11) != 0;
    vm->ha_priority = sqlite3_column_int(st, 12);
    eng_store_col_str_(st, 13, vm->pinned_host_id, sizeof(vm->pinned_host_id));
    vm->external = sqlite3_column_int(st, 14) != 0;
    vm->created_ms = sqlite3_column_int64(st, 15);
    const char *status = (const char *)sqlite3_column_text(st, 16);
    int sv = eng_vm_status_parse(status);
    if (sv < 0)
        return CMN_ERR(CMN_ERR_DB, "vm '%s': unknown status '%s' in database",
                       vm->id, status ? status : "");
    vm->status = (eng_vm_status_t)sv;
    eng_store_col_str_(st, 17, vm->host_id, sizeof(vm->host_id));
    vm->start_time_ms = sqlite3_column_int64(st, 18);
    vm->status_time_ms = sqlite3_column_int64(st, 19);
    vm->display_port = (uint32_t)sqlite3_column_int64(st, 20);
    eng_store_col_str_(st, 21, vm->display_address,
                       sizeof(vm->display_address));
    return 0;
}

/* Bind every column as ?1..?22 (same order as VM_COLS). */
static int
vm_bind(eng_store_t *s, sqlite3_stmt *st, const eng_vm_t *vm)
{
    if (vm->id[0] == '\0' || vm->name[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "vm needs an id and a name");
    if (vm->ndisks < 0 || vm->ndisks > ENG_VM_MAX_DISKS)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%s': %d disks (at most %d)",
                       vm->name, vm->ndisks, ENG_VM_MAX_DISKS);
    if (vm->nnics < 0 || vm->nnics > ENG_VM_MAX_NICS)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%s': %d nics (at most %d)",
                       vm->name, vm->nnics, ENG_VM_MAX_NICS);
    if ((int)vm->status < 0 || vm->status >= ENG_VM__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%s': bad status %d", vm->name,
                       (int)vm->status);
    CMN_AUTOFREE char *disks = array_dump(vm, vm->ndisks, "disks", "disk",
                                          disk_fill);
    CMN_AUTOFREE char *nics = disks ? array_dump(vm, vm->nnics, "nics", "nic",
                                                 nic_fill)
                                    : NULL;
    if (disks == NULL || nics == NULL)
        return -1;
    if (eng_store_bind_text_(s, st, 1, vm->id) < 0 ||
        eng_store_bind_text_(s, st, 2, vm->name) < 0 ||
        eng_store_bind_text_(s, st, 3, vm->description) < 0 ||
        eng_store_bind_id_(s, st, 4, vm->cluster_id) < 0 ||
        eng_store_bind_i64_(s, st, 5, (int64_t)vm->memory_bytes) < 0 ||
        eng_store_bind_i64_(s, st, 6, vm->sockets) < 0 ||
        eng_store_bind_i64_(s, st, 7, vm->cores) < 0 ||
        eng_store_bind_i64_(s, st, 8, vm->threads) < 0 ||
        eng_store_bind_text_(s, st, 9, disks) < 0 ||
        eng_store_bind_text_(s, st, 10, nics) < 0 ||
        eng_store_bind_text_(s, st, 11, vm->display_type) < 0 ||
        eng_store_bind_i64_(s, st, 12, vm->ha ? 1 : 0) < 0 ||
        eng_store_bind_i64_(s, st, 13, vm->ha_priority) < 0 ||
        eng_store_bind_id_(s, st, 14, vm->pinned_host_id) < 0 ||
        eng_store_bind_i64_(s, st, 15, vm->external ? 1 : 0) < 0 ||
        eng_store_bind_i64_(s, st, 16, vm->created_ms) < 0 ||
        eng_store_bind_text_(s, st, 17, eng_vm_status_name(vm->status)) < 0 ||
        eng_store_bind_id_(s, st, 18, vm->host_id) < 0 ||
        eng_store_bind_i64_(s, st, 19, vm->start_time_ms) < 0 ||
        eng_store_bind_i64_(s, st, 20, vm->status_time_ms) < 0 ||
        eng_store_bind_i64_(s, st, 21, vm->display_port) < 0 ||
        eng_store_bind_text_(s, st, 22, vm->display_address) < 0)
        return -1;
    return 0;
}

int
eng_store_vm_insert(eng_store_t *s, const eng_vm_t *vm)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_VM_INSERT,
        "INSERT INTO vms (" VM_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
        "?22)");
    if (st == NULL || vm_bind(s, st, vm) < 0)
        return -1;
    return eng_store_exec_named_(s, st, "vm", vm->name);
}

int
eng_store_vm_update(eng_store_t *s, const eng_vm_t *vm)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_VM_UPDATE,
        "UPDATE vms SET name = ?2, description = ?3, cluster_id = ?4, "
        "memory_bytes = ?5, sockets = ?6, cores = ?7, threads = ?8, "
        "disks = ?9, nics = ?10, display_type = ?11, ha = ?12, "
        "ha_priority = ?13, pinned_host_id = ?14, external = ?15, "
        "created_ms = ?16, status = ?17, host_id = ?18, start_time_ms = ?19, "
        "status_time_ms = ?20, display_port = ?21, display_address = ?22 "
        "WHERE id = ?1");
    if (st == NULL || vm_bind(s, st, vm) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "vm", vm->id);
}

int
eng_store_vm_get(eng_store_t *s, const char *id, eng_vm_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_VM_GET,
        "SELECT " VM_COLS " FROM vms WHERE id = ?1", "vm", id, vm_row, out);
}

int
eng_store_vm_get_by_name(eng_store_t *s, const char *name, eng_vm_t *out)
{
    return eng_store_get_one_(s, ENG_STMT_VM_GET_BY_NAME,
        "SELECT " VM_COLS " FROM vms WHERE name = ?1", "vm", name, vm_row,
        out);
}

/* Collect the rows of a bound statement. */
static int
vm_collect(eng_store_t *s, sqlite3_stmt *st, eng_vm_t **out, size_t *n)
{
    return eng_store_list_(s, st, "listing vms", sizeof(**out), vm_row, NULL,
                           (void **)out, n);
}

int
eng_store_vm_list(eng_store_t *s, eng_vm_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_VM_LIST,
        "SELECT " VM_COLS " FROM vms ORDER BY name");
    if (st == NULL)
        return -1;
    return vm_collect(s, st, out, n);
}

int
eng_store_vm_foreach(eng_store_t *s,
                     int (*fn)(const eng_vm_t *vm, void *opaque),
                     void *opaque)
{
    /* Not the cached statement: fn may call back into the store. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT " VM_COLS " FROM vms ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return ENG_STORE_ERR(s, "listing vms");
    eng_vm_t *vm = malloc(sizeof(*vm));
    int rc, out = 0;
    if (vm == NULL) {
        sqlite3_finalize(st);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory listing vms");
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_row(st, vm) < 0) {
            out = -1;
            break;
        }
        if ((out = fn(vm, opaque)) != 0)
            break;
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = ENG_STORE_ERR(s, "listing vms");
    sqlite3_finalize(st);
    free(vm);
    return out;
}

int
eng_store_vm_list_by_host(eng_store_t *s, const char *host_id, eng_vm_t **out,
                          size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_VM_LIST_BY_HOST,
        "SELECT " VM_COLS " FROM vms WHERE host_id = ?1 ORDER BY name");
    if (st == NULL || eng_store_bind_text_(s, st, 1, host_id) < 0)
        return -1;
    return vm_collect(s, st, out, n);
}

int
eng_store_vm_delete(eng_store_t *s, const char *id)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_VM_DELETE,
                                       "DELETE FROM vms WHERE id = ?1");
    if (st == NULL || eng_store_bind_text_(s, st, 1, id) < 0)
        return -1;
    return eng_store_exec_one_(s, st, "vm", id);
}

/* ---- events ---------------------------------------------------------------- */

#define EVENT_COLS \
    "id, time_ms, severity, code, description, host_id, vm_id, user, " \
    "correlation_id"

int
eng_store_event_add(eng_store_t *s, eng_event_t *ev)
{
    const char *sev = eng_severity_name(ev->severity);
    if (eng_severity_parse(sev) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "event: bad severity %d",
                       (int)ev->severity);
    if (ev->time_ms == 0)
        ev->time_ms = (int64_t)cmn_time_ms();
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_EVENT_ADD,
        "INSERT INTO events (time_ms, severity, code, description, host_id, "
        "vm_id, user, correlation_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (st == NULL ||
        eng_store_bind_i64_(s, st, 1, ev->time_ms) < 0 ||
        eng_store_bind_text_(s, st, 2, sev) < 0 ||
        eng_store_bind_i64_(s, st, 3, ev->code) < 0 ||
        eng_store_bind_text_(s, st, 4, ev->description) < 0 ||
        eng_store_bind_text_(s, st, 5, ev->host_id) < 0 ||
        eng_store_bind_text_(s, st, 6, ev->vm_id) < 0 ||
        eng_store_bind_text_(s, st, 7, ev->user) < 0 ||
        eng_store_bind_text_(s, st, 8, ev->correlation_id) < 0)
        return -1;
    if (eng_store_exec_(s, st, "adding event") < 0)
        return -1;
    ev->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int
event_row(sqlite3_stmt *st, void *elem)
{
    eng_event_t *ev = elem;
    memset(ev, 0, sizeof(*ev));
    ev->id = sqlite3_column_int64(st, 0);
    ev->time_ms = sqlite3_column_int64(st, 1);
    const char *sev = (const char *)sqlite3_column_text(st, 2);
    int sv = eng_severity_parse(sev);
    if (sv < 0)
        return CMN_ERR(CMN_ERR_DB, "event %lld: unknown severity '%s' in "
                       "database", (long long)ev->id, sev ? sev : "");
    ev->severity = (eng_severity_t)sv;
    ev->code = sqlite3_column_int(st, 3);
    eng_store_col_str_(st, 4, ev->description, sizeof(ev->description));
    eng_store_col_str_(st, 5, ev->host_id, sizeof(ev->host_id));
    eng_store_col_str_(st, 6, ev->vm_id, sizeof(ev->vm_id));
    eng_store_col_str_(st, 7, ev->user, sizeof(ev->user));
    eng_store_col_str_(st, 8, ev->correlation_id, sizeof(ev->correlation_id));
    return 0;
}

int
eng_store_event_list(eng_store_t *s, int64_t after_id, size_t max,
                     bool newest_first, eng_event_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = newest_first
        ? eng_store_stmt_(s, ENG_STMT_EVENT_LIST_DESC,
                          "SELECT " EVENT_COLS " FROM events WHERE id > ?1 "
                          "ORDER BY id DESC LIMIT ?2")
        : eng_store_stmt_(s, ENG_STMT_EVENT_LIST_ASC,
                          "SELECT " EVENT_COLS " FROM events WHERE id > ?1 "
                          "ORDER BY id ASC LIMIT ?2");
    /* LIMIT -1 is no limit. */
    int64_t limit = (max == 0 || max > (size_t)INT64_MAX) ? -1 : (int64_t)max;
    if (st == NULL ||
        eng_store_bind_i64_(s, st, 1, after_id) < 0 ||
        eng_store_bind_i64_(s, st, 2, limit) < 0)
        return -1;
    return eng_store_list_(s, st, "listing events", sizeof(**out), event_row,
                           NULL, (void **)out, n);
}

int64_t
eng_store_event_prune(eng_store_t *s, int64_t before_ms)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_EVENT_PRUNE,
        "DELETE FROM events WHERE time_ms < ?1");
    if (st == NULL || eng_store_bind_i64_(s, st, 1, before_ms) < 0 ||
        eng_store_exec_(s, st, "pruning events") < 0)
        return -1;
    int64_t n = sqlite3_changes64(s->db);
    if (n > 0)
        CMN_DEBUG("pruned %lld events older than %lld ms", (long long)n,
                 (long long)before_ms);
    return n;
}

int64_t
eng_store_event_prune_days(eng_store_t *s, int64_t keep_days, int64_t now_ms)
{
    if (keep_days <= 0)
        return 0;
    return eng_store_event_prune(s, now_ms - keep_days * 86400000LL);
}

/* ---- newest statistics ----------------------------------------------------- */

int
eng_store_stats_put(eng_store_t *s, const char *kind, const char *id,
                    int64_t time_ms, const char *json)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_STATS_PUT,
        "INSERT INTO stats_latest (kind, id, time_ms, json) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(kind, id) DO UPDATE SET "
        "time_ms = excluded.time_ms, json = excluded.json");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, kind) < 0 ||
        eng_store_bind_text_(s, st, 2, id) < 0 ||
        eng_store_bind_i64_(s, st, 3, time_ms) < 0 ||
        eng_store_bind_text_(s, st, 4, json) < 0)
        return -1;
    return eng_store_exec_(s, st, "storing statistics");
}

char *
eng_store_stats_get(eng_store_t *s, const char *kind, const char *id,
                    int64_t *time_ms)
{
    sqlite3_stmt *st = eng_store_stmt_(s, ENG_STMT_STATS_GET,
        "SELECT time_ms, json FROM stats_latest WHERE kind = ?1 AND id = ?2");
    if (st == NULL ||
        eng_store_bind_text_(s, st, 1, kind) < 0 ||
        eng_store_bind_text_(s, st, 2, id) < 0)
        return NULL;
    char what[32];
    snprintf(what, sizeof(what), "statistics of %.16s", kind ? kind : "");
    if (eng_store_step_one_(s, st, what, id) < 0)
        return NULL;
    if (time_ms != NULL)
        *time_ms = sqlite3_column_int64(st, 0);
    const char *text = (const char *)sqlite3_column_text(st, 1);
    char *copy = strdup(text ? text : "");
    (void)sqlite3_reset(st);
    if (copy == NULL)
        CMN_ERR(CMN_ERR_NOMEM, "out of memory reading statistics");
    return copy;
}
