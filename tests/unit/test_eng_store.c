/* The SQLite store: schema, defaults, round trips of every record kind,
 * errors a caller acts on (exists, not found), persistence across reopen,
 * refusal of a newer schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cmn_err.h"
#include "cmn_util.h"
#include "eng_store.h"
#include "test_helpers.h"
#include "fx_eng.h"

typedef fx_eng_store_t fx_t;

static int
setup(void **state)
{
    return fx_eng_store_setup(state, "test_eng_store");
}

static int
teardown(void **state)
{
    return fx_eng_store_teardown(state);
}

#define FAILS(expr, code) do { \
        cmn_err_reset(); \
        assert_int_equal((expr), -1); \
        assert_int_equal(cmn_err_code(), (code)); \
    } while (0)

static void
default_cluster(eng_store_t *s, eng_cluster_t *c)
{
    OK(eng_store_cluster_get_by_name(s, "Default", c));
}

static void
make_vm(eng_store_t *s, eng_vm_t *vm, const char *name)
{
    eng_cluster_t c;
    default_cluster(s, &c);
    memset(vm, 0, sizeof(*vm));
    cmn_uuid_generate(vm->id);
    snprintf(vm->name, sizeof(vm->name), "%s", name);
    snprintf(vm->description, sizeof(vm->description), "desc of %s 'q' \"x\"",
             name);
    snprintf(vm->cluster_id, sizeof(vm->cluster_id), "%s", c.id);
    vm->memory_bytes = 1ULL << 40;
    vm->sockets = 2;
    vm->cores = 3;
    vm->threads = 2;
    vm->ndisks = 2;
    cmn_uuid_generate(vm->disks[0].id);
    vm->disks[0].size_bytes = UINT64_MAX - 7;
    snprintf(vm->disks[0].interface, sizeof(vm->disks[0].interface), "virtio");
    snprintf(vm->disks[0].format, sizeof(vm->disks[0].format), "cow");
    vm->disks[0].bootable = true;
    snprintf(vm->disks[0].path, sizeof(vm->disks[0].path), "/img/%s.qcow2",
             vm->disks[0].id);
    cmn_uuid_generate(vm->disks[1].id);
    vm->disks[1].size_bytes = 1073741824;
    snprintf(vm->disks[1].interface, sizeof(vm->disks[1].interface), "sata");
    snprintf(vm->disks[1].format, sizeof(vm->disks[1].format), "cow");
    vm->nnics = 2;
    snprintf(vm->nics[0].name, sizeof(vm->nics[0].name), "nic1");
    snprintf(vm->nics[0].mac, sizeof(vm->nics[0].mac), "56:6f:00:11:22:33");
    snprintf(vm->nics[0].model, sizeof(vm->nics[0].model), "virtio");
    snprintf(vm->nics[1].name, sizeof(vm->nics[1].name), "nic2");
    snprintf(vm->nics[1].mac, sizeof(vm->nics[1].mac), "56:6f:00:11:22:34");
    snprintf(vm->nics[1].network, sizeof(vm->nics[1].network), "default");
    snprintf(vm->nics[1].bridge, sizeof(vm->nics[1].bridge), "br0");
    snprintf(vm->nics[1].model, sizeof(vm->nics[1].model), "e1000");
    snprintf(vm->display_type, sizeof(vm->display_type), "spice");
    vm->ha = true;
    vm->ha_priority = 50;
    cmn_uuid_generate(vm->pinned_host_id);
    vm->external = true;
    vm->created_ms = 1795000000123;
    vm->status = ENG_VM_REBOOT_IN_PROGRESS;
    cmn_uuid_generate(vm->host_id);
    vm->start_time_ms = 1795000000456;
    vm->status_time_ms = 1795000000789;
    vm->display_port = 5901;
    snprintf(vm->display_address, sizeof(vm->display_address), "127.0.0.1");
}

static void
assert_vm_equal(const eng_vm_t *a, const eng_vm_t *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->description, b->description);
    assert_string_equal(a->cluster_id, b->cluster_id);
    assert_true(a->memory_bytes == b->memory_bytes);
    assert_int_equal(a->sockets, b->sockets);
    assert_int_equal(a->cores, b->cores);
    assert_int_equal(a->threads, b->threads);
    assert_int_equal(a->ndisks, b->ndisks);
    for (int i = 0; i < a->ndisks; i++) {
        assert_string_equal(a->disks[i].id, b->disks[i].id);
        assert_true(a->disks[i].size_bytes == b->disks[i].size_bytes);
        assert_string_equal(a->disks[i].interface, b->disks[i].interface);
        assert_string_equal(a->disks[i].format, b->disks[i].format);
        assert_int_equal(a->disks[i].bootable, b->disks[i].bootable);
        assert_string_equal(a->disks[i].path, b->disks[i].path);
    }
    assert_int_equal(a->nnics, b->nnics);
    for (int i = 0; i < a->nnics; i++) {
        assert_string_equal(a->nics[i].name, b->nics[i].name);
        assert_string_equal(a->nics[i].mac, b->nics[i].mac);
        assert_string_equal(a->nics[i].network, b->nics[i].network);
        assert_string_equal(a->nics[i].bridge, b->nics[i].bridge);
        assert_string_equal(a->nics[i].model, b->nics[i].model);
    }
    assert_string_equal(a->display_type, b->display_type);
    assert_int_equal(a->ha, b->ha);
    assert_int_equal(a->ha_priority, b->ha_priority);
    assert_string_equal(a->pinned_host_id, b->pinned_host_id);
    assert_int_equal(a->external, b->external);
    assert_int_equal(a->created_ms, b->created_ms);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->host_id, b->host_id);
    assert_int_equal(a->start_time_ms, b->start_time_ms);
    assert_int_equal(a->status_time_ms, b->status_time_ms);
    assert_int_equal(a->display_port, b->display_port);
    assert_string_equal(a->display_address, b->display_address);
    /* and nothing else: both sides are zeroed before being filled */
    assert_memory_equal(a, b, sizeof(*a));
}

/* ---- tests ------------------------------------------------------------- */

static void
test_new_database_defaults(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(eng_store_schema_version(fx->s), eng_store_schema_latest());
    assert_true(eng_store_schema_latest() >= 1);

    eng_dc_t dc;
    OK(eng_store_dc_get_by_name(fx->s, "Default", &dc));
    assert_true(cmn_uuid_valid(dc.id));
    assert_true(dc.created_ms > 0);
    eng_dc_t dc2;
    OK(eng_store_dc_get(fx->s, dc.id, &dc2));
    assert_string_equal(dc2.name, "Default");

    eng_cluster_t c;
    default_cluster(fx->s, &c);
    assert_true(cmn_uuid_valid(c.id));
    assert_string_not_equal(c.id, dc.id);
    assert_string_equal(c.dc_id, dc.id);
    assert_int_equal(c.memory_overcommit, 100);
    assert_string_equal(c.cpu_type, "");

    eng_dc_t *dcs;
    eng_cluster_t *cs;
    size_t n;
    OK(eng_store_dc_list(fx->s, &dcs, &n));
    assert_int_equal(n, 1);
    free(dcs);
    OK(eng_store_cluster_list(fx->s, &cs, &n));
    assert_int_equal(n, 1);
    assert_string_equal(cs[0].id, c.id);
    free(cs);

    /* the file is in WAL mode with foreign keys enforced */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void
test_dc_cluster_insert(void **state)
{
    fx_t *fx = *state;
    eng_dc_t dc = {0};
    cmn_uuid_generate(dc.id);
    snprintf(dc.name, sizeof(dc.name), "east");
    dc.created_ms = 42;
    OK(eng_store_dc_insert(fx->s, &dc));
    eng_dc_t got;
    OK(eng_store_dc_get_by_name(fx->s, "east", &got));
    assert_memory_equal(&got, &dc, sizeof(dc));

    eng_dc_t dup = dc;
    cmn_uuid_generate(dup.id);
    FAILS(eng_store_dc_insert(fx->s, &dup), CMN_ERR_EXISTS);

    eng_cluster_t c = {0};
    cmn_uuid_generate(c.id);
    snprintf(c.name, sizeof(c.name), "east-1");
    snprintf(c.dc_id, sizeof(c.dc_id), "%s", dc.id);
    snprintf(c.cpu_type, sizeof(c.cpu_type), "Intel Skylake");
    c.memory_overcommit = 150;
    c.created_ms = 43;
    OK(eng_store_cluster_insert(fx->s, &c));
    eng_cluster_t cg;
    OK(eng_store_cluster_get(fx->s, c.id, &cg));
    assert_memory_equal(&cg, &c, sizeof(c));
    FAILS(eng_store_cluster_insert(fx->s, &c), CMN_ERR_EXISTS);

    /* a cluster in a data center that does not exist */
    eng_cluster_t orphan = c;
    cmn_uuid_generate(orphan.id);
    snprintf(orphan.name, sizeof(orphan.name), "orphan");
    cmn_uuid_generate(orphan.dc_id);
    FAILS(eng_store_cluster_insert(fx->s, &orphan), CMN_ERR_NOT_FOUND);

    FAILS(eng_store_cluster_get_by_name(fx->s, "nope", &cg), CMN_ERR_NOT_FOUND);
    assert_non_null(strstr(cmn_err_msg(), "nope"));
    FAILS(eng_store_dc_get(fx->s, "nope", &got), CMN_ERR_NOT_FOUND);
}

static void
test_vm_round_trip(void **state)
{
    fx_t *fx = *state;
    eng_vm_t vm, got;
    make_vm(fx->s, &vm, "web-1");
    OK(eng_store_vm_insert(fx->s, &vm));
    OK(eng_store_vm_get(fx->s, vm.id, &got));
    assert_vm_equal(&vm, &got);
    OK(eng_store_vm_get_by_name(fx->s, "web-1", &got));
    assert_vm_equal(&vm, &got);

    /* update: change every kind of field, including fewer disks */
    vm.status = ENG_VM_UP;
    vm.memory_bytes = 64 << 20;
    vm.ndisks = 1;
    memset(&vm.disks[1], 0, sizeof(vm.disks[1]));
    vm.nnics = 0;
    memset(vm.nics, 0, sizeof(vm.nics));
    memset(vm.host_id, 0, sizeof(vm.host_id));
    memset(vm.pinned_host_id, 0, sizeof(vm.pinned_host_id));
    vm.ha = false;
    vm.external = false;
    memset(vm.name, 0, sizeof(vm.name));
    snprintf(vm.name, sizeof(vm.name), "web-renamed");
    OK(eng_store_vm_update(fx->s, &vm));
    OK(eng_store_vm_get(fx->s, vm.id, &got));
    assert_vm_equal(&vm, &got);
    FAILS(eng_store_vm_get_by_name(fx->s, "web-1", &got), CMN_ERR_NOT_FOUND);

    /* every status survives */
    for (int st = 0; st < ENG_VM__LAST; st++) {
        vm.status = (eng_vm_status_t)st;
        OK(eng_store_vm_update(fx->s, &vm));
        OK(eng_store_vm_get(fx->s, vm.id, &got));
        assert_int_equal(got.status, st);
    }

    eng_vm_t ghost;
    make_vm(fx->s, &ghost, "ghost");
    FAILS(eng_store_vm_update(fx->s, &ghost), CMN_ERR_NOT_FOUND);

    OK(eng_store_vm_delete(fx->s, vm.id));
    FAILS(eng_store_vm_get(fx->s, vm.id, &got), CMN_ERR_NOT_FOUND);
    FAILS(eng_store_vm_delete(fx->s, vm.id), CMN_ERR_NOT_FOUND);
}

static void
test_vm_errors(void **state)
{
    fx_t *fx = *state;
    eng_vm_t a, b;
    make_vm(fx->s, &a, "dup");
    OK(eng_store_vm_insert(fx->s, &a));
    make_vm(fx->s, &b, "dup");
    FAILS(eng_store_vm_insert(fx->s, &b), CMN_ERR_EXISTS);
    assert_non_null(strstr(cmn_err_msg(), "dup"));
    FAILS(eng_store_vm_insert(fx->s, &a), CMN_ERR_EXISTS);   /* same id */

    /* renaming onto another VM's name */
    snprintf(b.name, sizeof(b.name), "other");
    OK(eng_store_vm_insert(fx->s, &b));
    snprintf(b.name, sizeof(b.name), "dup");
    FAILS(eng_store_vm_update(fx->s, &b), CMN_ERR_EXISTS);

    /* unknown cluster */
    eng_vm_t c;
    make_vm(fx->s, &c, "lost");
    cmn_uuid_generate(c.cluster_id);
    FAILS(eng_store_vm_insert(fx->s, &c), CMN_ERR_NOT_FOUND);

    /* impossible counts and strings that are not UTF-8 */
    make_vm(fx->s, &c, "bad");
    c.ndisks = ENG_VM_MAX_DISKS + 1;
    FAILS(eng_store_vm_insert(fx->s, &c), CMN_ERR_INVALID);
    c.ndisks = 1;
    c.nnics = -1;
    FAILS(eng_store_vm_insert(fx->s, &c), CMN_ERR_INVALID);
    c.nnics = 1;
    c.nics[0].name[0] = (char)0xff;
    FAILS(eng_store_vm_insert(fx->s, &c), CMN_ERR_INVALID);
    c.nics[0].name[0] = 'n';
    c.status = ENG_VM__LAST;
    FAILS(eng_store_vm_insert(fx->s, &c), CMN_ERR_INVALID);
    c.name[0] = '\0';
    c.status = ENG_VM_DOWN;
    FAILS(eng_store_vm_insert(fx->s, &c), CMN_ERR_INVALID);
}

static void
test_vm_list_by_host(void **state)
{
    fx_t *fx = *state;
    char h1[ENG_ID_LEN], h2[ENG_ID_LEN];
    cmn_uuid_generate(h1);
    cmn_uuid_generate(h2);
    const char *names[] = {"c", "a", "b", "d"};
    const char *hosts[] = {h1, h2, h1, ""};
    for (int i = 0; i < 4; i++) {
        eng_vm_t vm;
        make_vm(fx->s, &vm, names[i]);
        snprintf(vm.host_id, sizeof(vm.host_id), "%s", hosts[i]);
        OK(eng_store_vm_insert(fx->s, &vm));
    }
    eng_vm_t *vms;
    size_t n;
    OK(eng_store_vm_list(fx->s, &vms, &n));
    assert_int_equal(n, 4);
    assert_string_equal(vms[0].name, "a");
    assert_string_equal(vms[3].name, "d");
    assert_string_equal(vms[3].host_id, "");
    free(vms);

    OK(eng_store_vm_list_by_host(fx->s, h1, &vms, &n));
    assert_int_equal(n, 2);
    assert_string_equal(vms[0].name, "b");
    assert_string_equal(vms[1].name, "c");
    assert_string_equal(vms[0].host_id, h1);
    free(vms);
    OK(eng_store_vm_list_by_host(fx->s, h2, &vms, &n));
    assert_int_equal(n, 1);
    free(vms);
    char h3[ENG_ID_LEN];
    cmn_uuid_generate(h3);
    OK(eng_store_vm_list_by_host(fx->s, h3, &vms, &n));
    assert_int_equal(n, 0);
    free(vms);
}

static void
test_hosts(void **state)
{
    fx_t *fx = *state;
    eng_cluster_t c;
    default_cluster(fx->s, &c);
    eng_host_t h = {0};
    cmn_uuid_generate(h.id);
    snprintf(h.name, sizeof(h.name), "kvm1");
    snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", c.id);
    snprintf(h.address, sizeof(h.address), "kvm1.example.org");
    h.status = ENG_HOST_UP;
    h.caps = json_pack("{s:s, s:i, s:[s,s], s:b, s:I}", "cpu_model", "Skylake",
                       "cpu_count", 8, "cpu_flags", "vmx", "sse4_2", "kvm", 1,
                       "memory_bytes", (json_int_t)17179869184LL);
    assert_non_null(h.caps);
    h.last_seen_ms = 10;
    h.status_time_ms = 11;
    h.created_ms = 12;
    OK(eng_store_host_put(fx->s, &h));

    eng_host_t got;
    OK(eng_store_host_get(fx->s, h.id, &got));
    assert_string_equal(got.name, "kvm1");
    assert_string_equal(got.cluster_id, c.id);
    assert_string_equal(got.address, "kvm1.example.org");
    assert_int_equal(got.status, ENG_HOST_UP);
    assert_true(json_equal(got.caps, h.caps));
    assert_int_equal(got.last_seen_ms, 10);
    assert_int_equal(got.status_time_ms, 11);
    assert_int_equal(got.created_ms, 12);
    eng_host_clear(&got);
    assert_null(got.caps);

    /* put again replaces every column; caps may go away */
    snprintf(h.name, sizeof(h.name), "kvm1-renamed");
    h.status = ENG_HOST_MAINTENANCE;
    json_decref(h.caps);
    h.caps = NULL;
    h.last_seen_ms = 20;
    OK(eng_store_host_put(fx->s, &h));
    OK(eng_store_host_get_by_name(fx->s, "kvm1-renamed", &got));
    assert_string_equal(got.id, h.id);
    assert_int_equal(got.status, ENG_HOST_MAINTENANCE);
    assert_null(got.caps);
    assert_int_equal(got.last_seen_ms, 20);
    eng_host_clear(&got);

    OK(eng_store_host_set_status(fx->s, h.id, ENG_HOST_NON_RESPONSIVE, 99));
    OK(eng_store_host_get(fx->s, h.id, &got));
    assert_int_equal(got.status, ENG_HOST_NON_RESPONSIVE);
    assert_int_equal(got.status_time_ms, 99);
    eng_host_clear(&got);

    /* a second host may not take the first one's name */
    eng_host_t h2 = h;
    cmn_uuid_generate(h2.id);
    FAILS(eng_store_host_put(fx->s, &h2), CMN_ERR_EXISTS);
    snprintf(h2.name, sizeof(h2.name), "kvm0");
    h2.cluster_id[0] = '\0';    /* not yet in a cluster */
    OK(eng_store_host_put(fx->s, &h2));

    eng_host_t *hosts;
    size_t n;
    OK(eng_store_host_list(fx->s, &hosts, &n));
    assert_int_equal(n, 2);
    assert_string_equal(hosts[0].name, "kvm0");
    assert_string_equal(hosts[0].cluster_id, "");
    for (size_t i = 0; i < n; i++)
        eng_host_clear(&hosts[i]);
    free(hosts);

    OK(eng_store_host_delete(fx->s, h.id));
    FAILS(eng_store_host_get(fx->s, h.id, &got), CMN_ERR_NOT_FOUND);
    FAILS(eng_store_host_delete(fx->s, h.id), CMN_ERR_NOT_FOUND);
    FAILS(eng_store_host_set_status(fx->s, h.id, ENG_HOST_UP, 1),
          CMN_ERR_NOT_FOUND);
}

static void
add_event(eng_store_t *s, int64_t time_ms, int code, eng_event_t *out)
{
    eng_event_t ev = {0};
    ev.time_ms = time_ms;
    ev.severity = ENG_SEV_WARNING;
    ev.code = code;
    snprintf(ev.description, sizeof(ev.description), "event %d", code);
    snprintf(ev.host_id, sizeof(ev.host_id), "h");
    snprintf(ev.vm_id, sizeof(ev.vm_id), "v");
    snprintf(ev.user, sizeof(ev.user), "admin@internal");
    snprintf(ev.correlation_id, sizeof(ev.correlation_id), "corr-%d", code);
    OK(eng_store_event_add(s, &ev));
    if (out != NULL)
        *out = ev;
}

static void
test_events(void **state)
{
    fx_t *fx = *state;
    eng_event_t first;
    add_event(fx->s, 1000, 1, &first);
    assert_true(first.id > 0);
    for (int i = 2; i <= 5; i++)
        add_event(fx->s, 1000 * i, i, NULL);

    eng_event_t *evs;
    size_t n;
    OK(eng_store_event_list(fx->s, 0, 0, false, &evs, &n));
    assert_int_equal(n, 5);
    assert_int_equal(evs[0].id, first.id);
    assert_int_equal(evs[0].code, 1);
    assert_int_equal(evs[0].time_ms, 1000);
    assert_int_equal(evs[0].severity, ENG_SEV_WARNING);
    assert_string_equal(evs[0].description, "event 1");
    assert_string_equal(evs[0].host_id, "h");
    assert_string_equal(evs[0].vm_id, "v");
    assert_string_equal(evs[0].user, "admin@internal");
    assert_string_equal(evs[0].correlation_id, "corr-1");
    for (size_t i = 1; i < n; i++)
        assert_true(evs[i].id > evs[i - 1].id);
    int64_t third = evs[2].id;
    free(evs);

    OK(eng_store_event_list(fx->s, third, 0, false, &evs, &n));
    assert_int_equal(n, 2);
    assert_int_equal(evs[0].code, 4);
    free(evs);
    OK(eng_store_event_list(fx->s, 0, 2, false, &evs, &n));
    assert_int_equal(n, 2);
    assert_int_equal(evs[1].code, 2);
    free(evs);
    OK(eng_store_event_list(fx->s, 0, 2, true, &evs, &n));
    assert_int_equal(n, 2);
    assert_int_equal(evs[0].code, 5);
    assert_int_equal(evs[1].code, 4);
    free(evs);
    OK(eng_store_event_list(fx->s, third, 10, true, &evs, &n));
    assert_int_equal(n, 2);
    assert_int_equal(evs[0].code, 5);
    free(evs);

    /* a zero time is filled with now */
    eng_event_t now = {0};
    now.code = 9;
    uint64_t before = cmn_time_ms();
    OK(eng_store_event_add(fx->s, &now));
    assert_true(now.time_ms >= (int64_t)before);

    cmn_err_reset();
    assert_int_equal(eng_store_event_prune(fx->s, 3000), 2);
    OK(eng_store_event_list(fx->s, 0, 0, false, &evs, &n));
    assert_int_equal(n, 4);
    assert_int_equal(evs[0].code, 3);
    free(evs);

    /* keep_days: everything but the fresh one is decades old */
    assert_int_equal(eng_store_event_prune_days(fx->s, 30,
                                                (int64_t)cmn_time_ms()), 3);
    assert_int_equal(eng_store_event_prune_days(fx->s, 0, 0), 0);
    OK(eng_store_event_list(fx->s, 0, 0, false, &evs, &n));
    assert_int_equal(n, 1);
    assert_int_equal(evs[0].code, 9);
    free(evs);

    /* ids never come back after a prune (AUTOINCREMENT) */
    eng_event_t later;
    add_event(fx->s, 1, 10, &later);
    assert_true(later.id > now.id);
}

static void
test_stats(void **state)
{
    fx_t *fx = *state;
    int64_t t = 0;
    cmn_err_reset();
    assert_null(eng_store_stats_get(fx->s, "vm", "x", &t));
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);

    OK(eng_store_stats_put(fx->s, "vm", "x", 5, "{\"a\":1}"));
    OK(eng_store_stats_put(fx->s, "host", "x", 6, "{\"b\":2}"));
    char *j = eng_store_stats_get(fx->s, "vm", "x", &t);
    assert_non_null(j);
    assert_string_equal(j, "{\"a\":1}");
    assert_int_equal(t, 5);
    free(j);
    OK(eng_store_stats_put(fx->s, "vm", "x", 7, "{\"a\":3}"));
    j = eng_store_stats_get(fx->s, "vm", "x", &t);
    assert_string_equal(j, "{\"a\":3}");
    assert_int_equal(t, 7);
    free(j);
    j = eng_store_stats_get(fx->s, "host", "x", NULL);
    assert_string_equal(j, "{\"b\":2}");
    free(j);
}

static void
test_transactions(void **state)
{
    fx_t *fx = *state;
    eng_vm_t a, b, got;
    make_vm(fx->s, &a, "tx-a");
    make_vm(fx->s, &b, "tx-b");
    OK(eng_store_begin(fx->s));
    FAILS(eng_store_begin(fx->s), CMN_ERR_STATE);
    OK(eng_store_vm_insert(fx->s, &a));
    eng_store_rollback(fx->s);
    FAILS(eng_store_vm_get(fx->s, a.id, &got), CMN_ERR_NOT_FOUND);

    OK(eng_store_begin(fx->s));
    OK(eng_store_vm_insert(fx->s, &a));
    OK(eng_store_vm_insert(fx->s, &b));
    OK(eng_store_commit(fx->s));
    OK(eng_store_vm_get(fx->s, b.id, &got));
    FAILS(eng_store_commit(fx->s), CMN_ERR_STATE);
    eng_store_rollback(fx->s);      /* harmless without a transaction */
}

static void
test_reopen_keeps_data(void **state)
{
    fx_t *fx = *state;
    eng_vm_t vm, got;
    make_vm(fx->s, &vm, "persist");
    OK(eng_store_vm_insert(fx->s, &vm));
    eng_event_t ev;
    add_event(fx->s, 5, 77, &ev);
    eng_dc_t dc;
    OK(eng_store_dc_get_by_name(fx->s, "Default", &dc));
    eng_store_destroy(&fx->s);

    cmn_err_reset();
    fx->s = eng_store_open(fx->path);
    if (fx->s == NULL)
        fail_msg("reopen: %s", cmn_err_msg());
    OK(eng_store_vm_get(fx->s, vm.id, &got));
    assert_vm_equal(&vm, &got);
    /* migrations did not run again: still one Default, same id */
    eng_dc_t *dcs;
    size_t n;
    OK(eng_store_dc_list(fx->s, &dcs, &n));
    assert_int_equal(n, 1);
    assert_string_equal(dcs[0].id, dc.id);
    free(dcs);
    eng_event_t *evs;
    OK(eng_store_event_list(fx->s, 0, 0, false, &evs, &n));
    assert_int_equal(n, 1);
    assert_int_equal(evs[0].id, ev.id);
    free(evs);
    assert_int_equal(eng_store_schema_version(fx->s), eng_store_schema_latest());
}

static void
test_future_schema_refused(void **state)
{
    fx_t *fx = *state;
    eng_store_destroy(&fx->s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
             eng_store_schema_latest() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    cmn_err_reset();
    assert_null(eng_store_open(fx->path));
    assert_int_equal(cmn_err_code(), CMN_ERR_DB);
    assert_non_null(strstr(cmn_err_msg(), "newer"));
    assert_non_null(strstr(cmn_err_msg(), fx->path));
}

static void
test_not_a_database(void **state)
{
    fx_t *fx = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not sqlite ", f);
    fclose(f);
    cmn_err_reset();
    assert_null(eng_store_open(path));
    assert_int_equal(cmn_err_code(), CMN_ERR_DB);
    assert_non_null(strstr(cmn_err_msg(), "not a database"));
    unlink(path);

    cmn_err_reset();
    assert_null(eng_store_open("/nonexistent-dir/x/engine.db"));
    assert_int_equal(cmn_err_code(), CMN_ERR_DB);
}

static void
test_memory_database(void **state)
{
    (void)state;
    cmn_err_reset();
    eng_store_t *s = eng_store_open(":memory:");
    assert_non_null(s);
    eng_cluster_t c;
    default_cluster(s, &c);
    eng_store_destroy(&s);
    eng_store_destroy(&s);      /* NULL is fine */
}

static void
test_names(void **state)
{
    (void)state;
    const char *hs[] = {"connecting", "up", "non_responsive", "maintenance",
                        "pending_approval", "preparing_for_maintenance",
                        "down"};
    for (int i = 0; i < ENG_HOST__LAST; i++) {
        assert_string_equal(eng_host_status_name((eng_host_status_t)i), hs[i]);
        assert_int_equal(eng_host_status_parse(hs[i]), i);
    }
    const char *vs[] = {"down", "wait_for_launch", "powering_up", "up",
                        "powering_down", "paused", "migrating", "unknown",
                        "not_responding", "reboot_in_progress"};
    for (int i = 0; i < ENG_VM__LAST; i++) {
        assert_string_equal(eng_vm_status_name((eng_vm_status_t)i), vs[i]);
        assert_int_equal(eng_vm_status_parse(vs[i]), i);
    }
    assert_string_equal(eng_severity_name(ENG_SEV_NORMAL), "normal");
    assert_string_equal(eng_severity_name(ENG_SEV_WARNING), "warning");
    assert_string_equal(eng_severity_name(ENG_SEV_ERROR), "error");
    assert_string_equal(eng_severity_name(ENG_SEV_ALERT), "alert");
    assert_int_equal(eng_severity_parse("alert"), ENG_SEV_ALERT);
    assert_int_equal(eng_host_status_parse("Up"), -1);
    assert_int_equal(eng_vm_status_parse(""), -1);
    assert_int_equal(eng_vm_status_parse(NULL), -1);
    assert_string_equal(eng_vm_status_name(ENG_VM__LAST), "invalid");
    assert_string_equal(eng_host_status_name((eng_host_status_t)-1), "invalid");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_database_defaults, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dc_cluster_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vm_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vm_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vm_list_by_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_future_schema_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test(test_memory_database),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
