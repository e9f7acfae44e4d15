/* REST API additions of the HTTPS/users work: data center, cluster, user,
 * permission and ticket bodies, the new routes with their role kinds,
 * query parameters, and the store functions they use (data center and
 * cluster update/delete refusals, VM owners, the VM walk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "cmn_err.h"
#include "cmn_util.h"
#include "eng_auth.h"
#include "eng_rest_priv.h"
#include "eng_store.h"

#define P(s) (s), strlen(s)

static void
expect_err(cmn_code_t code, const char *frag)
{
    assert_int_equal(cmn_err_code(), code);
    if (frag && !strstr(cmn_err_msg(), frag))
        fail_msg("error '%s' lacks '%s'", cmn_err_msg(), frag);
    cmn_err_reset();
}

static void
test_bodies(void **state)
{
    (void)state;
    cmn_err_reset();
    eng_dc_t dc;
    memset(&dc, 0, sizeof(dc));
    assert_int_equal(eng_rest_parse_dc(P("{\"name\": \"dc2\", \"description\": "
                                         "\"x\"}"), false, &dc), 0);
    assert_string_equal(dc.name, "dc2");
    assert_string_equal(dc.description, "x");
    assert_int_equal(eng_rest_parse_dc(P("{\"description\": \"y\"}"), false,
                                       &dc), -1);
    expect_err(CMN_ERR_INVALID, "name");
    assert_int_equal(eng_rest_parse_dc(P("{\"name\": \"a/b\"}"), false, &dc),
                     -1);
    expect_err(CMN_ERR_INVALID, "name");
    assert_int_equal(eng_rest_parse_dc(P("{\"colour\": 1}"), true, &dc), -1);
    expect_err(CMN_ERR_INVALID, "colour");

    eng_cluster_t c;
    char ref[ENG_NAME_LEN];
    memset(&c, 0, sizeof(c));
    c.memory_overcommit = 100;
    assert_int_equal(eng_rest_parse_cluster(P(
        "{\"name\": \"c2\", \"data_center\": {\"name\": \"dc2\"}, \"cpu\": "
        "{\"type\": \"Haswell\"}, \"memory_policy\": {\"over_commit\": "
        "{\"percent\": \"150\"}}}"), false, &c, ref), 0);
    assert_string_equal(c.name, "c2");
    assert_string_equal(ref, "dc2");
    assert_string_equal(c.cpu_type, "Haswell");
    assert_int_equal(c.memory_overcommit, 150);
    assert_int_equal(eng_rest_parse_cluster(P(
        "{\"memory_policy\": {\"over_commit\": {\"percent\": 0}}}"), true, &c,
        ref), -1);
    expect_err(CMN_ERR_INVALID, "percent");
    assert_int_equal(eng_rest_parse_cluster(P("{\"name\": 5}"), false, &c,
                                            ref), -1);
    expect_err(CMN_ERR_INVALID, "name");
    assert_int_equal(eng_rest_parse_cluster(P("{\"name\": \"x\", "
                                              "\"data_center\": {}}"),
                                            false, &c, ref), -1);
    expect_err(CMN_ERR_INVALID, "data_center");

    char name[ENG_NAME_LEN], pw[64];
    int role;
    assert_int_equal(eng_rest_parse_user(P(
        "{\"user_name\": \"joe\", \"password\": \"pw\", \"role\": {\"name\": "
        "\"operator\"}}"), name, pw, sizeof(pw), &role), 0);
    assert_string_equal(name, "joe@internal");
    assert_string_equal(pw, "pw");
    assert_int_equal(role, ENG_ROLE_OPERATOR);
    assert_int_equal(eng_rest_parse_user(P("{\"user_name\": \"joe\"}"), name,
                                         pw, sizeof(pw), &role), -1);
    expect_err(CMN_ERR_INVALID, "password");
    assert_int_equal(eng_rest_parse_user(P(
        "{\"user_name\": \"joe\", \"password\": \"p\", \"role\": {\"name\": "
        "\"God\"}}"), name, pw, sizeof(pw), &role), -1);
    expect_err(CMN_ERR_INVALID, "God");

    assert_int_equal(eng_rest_parse_perm(P("{\"role\": {\"name\": "
                                           "\"ReadOnly\"}}"), &role), 0);
    assert_int_equal(role, ENG_ROLE_READONLY);
    assert_int_equal(eng_rest_parse_perm(P("{}"), &role), -1);
    expect_err(CMN_ERR_INVALID, "role");

    int64_t exp;
    assert_int_equal(eng_rest_parse_ticket(P(""), &exp), 0);
    assert_int_equal(exp, ENG_REST_TICKET_DEFAULT_S);
    assert_int_equal(eng_rest_parse_ticket(P("{\"ticket\": {\"expiry\": "
                                             "\"300\"}}"), &exp), 0);
    assert_int_equal(exp, 300);
    assert_int_equal(eng_rest_parse_ticket(P("{\"ticket\": {\"expiry\": 0}}"),
                                           &exp), -1);
    expect_err(CMN_ERR_INVALID, "expiry");
}

static void
test_routes(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        eng_route_kind_t kind;
        const char *coll, *action;
        unsigned allowed;
    } ok[] = {
        { "/ovirt-engine/api/users", ENG_ROUTE_USERS, "users", NULL,
          ENG_REST_GET | ENG_REST_POST },
        { "/ovirt-engine/api/users/joe", ENG_ROUTE_USER, "users", NULL,
          ENG_REST_GET | ENG_REST_DELETE },
        { "/ovirt-engine/api/users/joe/permissions", ENG_ROUTE_USER_PERMS,
          "users", NULL, ENG_REST_GET | ENG_REST_POST },
        { "/ovirt-engine/api/hosts/h1/deactivate", ENG_ROUTE_HOST_ACTION,
          "hosts", "deactivate", ENG_REST_POST },
        { "/ovirt-engine/api/hosts/h1/approve", ENG_ROUTE_HOST_ACTION,
          "hosts", "approve", ENG_REST_POST },
        { "/ovirt-engine/api/vms/v/ticket", ENG_ROUTE_VM_ACTION, "vms",
          "ticket", ENG_REST_POST },
        { "/ovirt-engine/api/vms/v/nics", ENG_ROUTE_VM_NICS, "vms", NULL,
          ENG_REST_GET },
        { "/ovirt-engine/api/vms/v/disk_attachments", ENG_ROUTE_VM_DISKS,
          "vms", NULL, ENG_REST_GET },
        { "/ovirt-engine/api/clusters", ENG_ROUTE_CLUSTERS, "clusters", NULL,
          ENG_REST_GET | ENG_REST_POST },
        { "/ovirt-engine/api/datacenters/d", ENG_ROUTE_DC, "datacenters",
          NULL, ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE },
        { "/ovirt-engine/api", ENG_ROUTE_ROOT, "api", NULL, ENG_REST_GET },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        eng_route_t r;
        cmn_err_reset();
        if (eng_rest_route(ok[i].path, &r) < 0)
            fail_msg("%s: %s", ok[i].path, cmn_err_msg());
        assert_int_equal(r.kind, ok[i].kind);
        assert_int_equal(r.allowed, ok[i].allowed);
        assert_string_equal(eng_rest_route_kind(&r), ok[i].coll);
        const char *a = eng_rest_route_action(&r);
        if (ok[i].action)
            assert_string_equal(a, ok[i].action);
        else
            assert_null(a);
    }
    eng_route_t r;
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts/h1/frob", &r), -1);
    expect_err(CMN_ERR_NOT_FOUND, NULL);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/users/j/perms", &r), -1);
    expect_err(CMN_ERR_NOT_FOUND, NULL);
    /* The role rule over the routes: a ReadOnly user may GET vms, not
     * deactivate hosts; an Operator may ticket VMs; only SuperUser sees
     * users. */
    assert_int_equal(eng_rest_route("/ovirt-engine/api/vms/v/ticket", &r), 0);
    assert_int_equal(eng_auth_check(ENG_ROLE_OPERATOR, "POST",
                                    eng_rest_route_kind(&r),
                                    eng_rest_route_action(&r)), 0);
    assert_int_equal(eng_auth_check(ENG_ROLE_READONLY, "POST",
                                    eng_rest_route_kind(&r),
                                    eng_rest_route_action(&r)), -1);
    expect_err(CMN_ERR_DENIED, "ticket");
    assert_int_equal(eng_rest_route("/ovirt-engine/api/users", &r), 0);
    assert_int_equal(eng_auth_check(ENG_ROLE_OPERATOR, "GET",
                                    eng_rest_route_kind(&r), NULL), -1);
    expect_err(CMN_ERR_DENIED, "users");
}

static void
test_query(void **state)
{
    (void)state;
    char v[16];
    int64_t max;
    cmn_err_reset();
    assert_int_equal(eng_rest_query_get("a=1&async=true", "async", v,
                                        sizeof(v)), 1);
    assert_string_equal(v, "true");
    assert_int_equal(eng_rest_query_get("a=1", "async", v, sizeof(v)), 0);
    assert_int_equal(eng_rest_query_get(NULL, "async", v, sizeof(v)), 0);
    assert_int_equal(eng_rest_query_get("async=0123456789abcdefX", "async", v,
                                        sizeof(v)), -1);
    expect_err(CMN_ERR_INVALID, "async");
    assert_int_equal(eng_rest_query_max("max=5", 100, 7, &max), 0);
    assert_int_equal(max, 5);
    assert_int_equal(eng_rest_query_max("", 100, 7, &max), 0);
    assert_int_equal(max, 7);
    assert_int_equal(eng_rest_query_max("max=-1", 100, 7, &max), 0);
    assert_int_equal(max, 100);
    assert_int_equal(eng_rest_query_max("max=0", 100, 7, &max), -1);
    expect_err(CMN_ERR_INVALID, "max");
    assert_int_equal(eng_rest_query_max("max=abc", 100, 7, &max), -1);
    expect_err(CMN_ERR_INVALID, "max");
}

static int
s_count_cb(const eng_vm_t *vm, void *opaque)
{
    (void)vm;
    int *n = opaque;
    return ++*n == 2 ? 7 : 0;   /* stop at the second */
}

static void
test_store_additions(void **state)
{
    (void)state;
    cmn_err_reset();
    eng_store_t *s = eng_store_open(":memory:");
    assert_non_null(s);
    eng_dc_t dc = {0};
    eng_cluster_t c = {0};
    cmn_uuid_generate(dc.id);
    snprintf(dc.name, sizeof(dc.name), "dc2");
    assert_int_equal(eng_store_dc_insert(s, &dc), 0);
    cmn_uuid_generate(c.id);
    snprintf(c.name, sizeof(c.name), "c2");
    memcpy(c.dc_id, dc.id, sizeof(c.dc_id));
    c.memory_overcommit = 100;
    assert_int_equal(eng_store_cluster_insert(s, &c), 0);
    /* a data center with a cluster cannot go */
    assert_int_equal(eng_store_dc_delete(s, dc.id), -1);
    expect_err(CMN_ERR_STATE, "cluster");
    snprintf(dc.name, sizeof(dc.name), "dc3");
    assert_int_equal(eng_store_dc_update(s, &dc), 0);
    eng_dc_t got;
    assert_int_equal(eng_store_dc_get_by_name(s, "dc3", &got), 0);
    /* a cluster with a VM cannot go */
    eng_vm_t vm = {0};
    cmn_uuid_generate(vm.id);
    snprintf(vm.name, sizeof(vm.name), "v1");
    memcpy(vm.cluster_id, c.id, sizeof(vm.cluster_id));
    vm.memory_bytes = 64 << 20;
    vm.sockets = vm.cores = vm.threads = 1;
    snprintf(vm.display_type, sizeof(vm.display_type), "vnc");
    assert_int_equal(eng_store_vm_insert(s, &vm), 0);
    assert_int_equal(eng_store_cluster_delete(s, c.id), -1);
    expect_err(CMN_ERR_STATE, "VM");
    /* owners */
    char owner[ENG_ID_LEN];
    cmn_uuid_generate(owner);
    assert_int_equal(eng_store_vm_set_owner(s, vm.id, owner), 0);
    char (*ids)[ENG_ID_LEN] = NULL;
    size_t n = 0;
    assert_int_equal(eng_store_vm_owned(s, owner, &ids, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], vm.id);
    free(ids);
    assert_int_equal(eng_store_vm_owned(s, "nobody", &ids, &n), 0);
    assert_int_equal(n, 0);
    free(ids);
    assert_int_equal(eng_store_vm_set_owner(s, "no-such-vm", owner), -1);
    expect_err(CMN_ERR_NOT_FOUND, NULL);
    /* the walk, stopped early by the callback's value */
    eng_vm_t vm2 = vm;
    cmn_uuid_generate(vm2.id);
    snprintf(vm2.name, sizeof(vm2.name), "v2");
    eng_vm_t vm3 = vm2;
    cmn_uuid_generate(vm3.id);
    snprintf(vm3.name, sizeof(vm3.name), "v3");
    assert_int_equal(eng_store_vm_insert(s, &vm2), 0);
    assert_int_equal(eng_store_vm_insert(s, &vm3), 0);
    int count = 0;
    assert_int_equal(eng_store_vm_foreach(s, s_count_cb, &count), 7);
    assert_int_equal(count, 2);
    /* empty again: the cluster, then the data center go */
    assert_int_equal(eng_store_vm_delete(s, vm.id), 0);
    assert_int_equal(eng_store_vm_delete(s, vm2.id), 0);
    assert_int_equal(eng_store_vm_delete(s, vm3.id), 0);
    snprintf(c.description, sizeof(c.description), "d");
    assert_int_equal(eng_store_cluster_update(s, &c), 0);
    assert_int_equal(eng_store_cluster_delete(s, c.id), 0);
    assert_int_equal(eng_store_dc_delete(s, dc.id), 0);
    assert_int_equal(eng_store_dc_delete(s, dc.id), -1);
    expect_err(CMN_ERR_NOT_FOUND, NULL);
    eng_store_destroy(&s);
}

/* The direct JSON writer gives the bytes of the tree's dump. */
static void
s_same_json(const eng_vm_t *vm)
{
    json_t *j = eng_rest_vm_json(vm);
    char *want = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(j);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(eng_rest_vm_json_write(vm, b), 0);
    size_t len = evbuffer_get_length(b);
    char *got = calloc(1, len + 1);
    evbuffer_copyout(b, got, len);
    evbuffer_free(b);
    if (strcmp(want, got) != 0)
        fail_msg("direct JSON differs:\n tree:   %s\n direct: %s", want, got);
    free(want);
    free(got);
}

static void
test_vm_json_write(void **state)
{
    (void)state;
    eng_vm_t *vm = calloc(1, sizeof(*vm));
    assert_non_null(vm);
    s_same_json(vm);                    /* all empty */
    cmn_uuid_generate(vm->id);
    snprintf(vm->name, sizeof(vm->name), "web \"1\" \\ x");
    snprintf(vm->description, sizeof(vm->description),
             "caf\xc3\xa9 \xff bad utf-8, tab\t and \xf0\x9f\x90\x91");
    cmn_uuid_generate(vm->cluster_id);
    cmn_uuid_generate(vm->host_id);
    cmn_uuid_generate(vm->pinned_host_id);
    vm->memory_bytes = 64ULL << 30;
    vm->sockets = 2;
    vm->cores = 4;
    vm->threads = 1;
    vm->status = ENG_VM_UP;
    vm->external = true;
    vm->ha = true;
    vm->ha_priority = 50;
    vm->start_time_ms = 1795000000123;
    vm->created_ms = 1795000000000;
    snprintf(vm->display_type, sizeof(vm->display_type), "vnc");
    vm->display_port = 5901;
    snprintf(vm->display_address, sizeof(vm->display_address), "127.0.0.1");
    vm->ndisks = 2;
    for (int i = 0; i < 2; i++) {
        cmn_uuid_generate(vm->disks[i].id);
        vm->disks[i].size_bytes = 1ULL << (30 + i);
        snprintf(vm->disks[i].interface, sizeof(vm->disks[i].interface),
                 "virtio");
        snprintf(vm->disks[i].format, sizeof(vm->disks[i].format), "cow");
        vm->disks[i].bootable = i == 0;
    }
    vm->nnics = 1;
    snprintf(vm->nics[0].name, sizeof(vm->nics[0].name), "nic1");
    snprintf(vm->nics[0].mac, sizeof(vm->nics[0].mac), "56:6f:00:00:00:01");
    snprintf(vm->nics[0].model, sizeof(vm->nics[0].model), "virtio");
    snprintf(vm->nics[0].network, sizeof(vm->nics[0].network), "default");
    s_same_json(vm);
    vm->status = ENG_VM_DOWN;           /* no host shown */
    vm->pinned_host_id[0] = '\0';
    vm->display_port = 0;
    vm->start_time_ms = 0;
    vm->display_type[0] = '\0';
    s_same_json(vm);
    free(vm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_store_additions),
        cmocka_unit_test(test_vm_json_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
