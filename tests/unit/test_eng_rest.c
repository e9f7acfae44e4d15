/* The REST API's pure pieces: VM bodies (good, unknown fields, wrong types,
 * numeric strings, limits, malformed JSON), action/ping bodies, the VM and
 * statistics JSON shapes, path routing, id-or-name look-ups against a real
 * store, and the error-code -> HTTP status table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "cmn_conf.h"
#include "cmn_err.h"
#include "cmn_util.h"
#include "eng_rest_priv.h"
#include "eng_agents.h"
#include "eng_conf.h"
#include "eng_stats.h"
#include "eng_store.h"
#include "fx_eng.h"

static int
parse(const char *body, bool update, eng_rest_vm_body_t *b)
{
    cmn_err_reset();
    return eng_rest_parse_vm(body, strlen(body), update, b);
}

/* The last error must be `code` and its message must contain `word`. */
static void
expect_err(cmn_code_t code, const char *word)
{
    if (cmn_err_code() != code)
        fail_msg("expected %s, got %s: %s", cmn_code_name(code),
                 cmn_code_name(cmn_err_code()), cmn_err_msg());
    if (!strstr(cmn_err_msg(), word))
        fail_msg("message '%s' does not name '%s'", cmn_err_msg(), word);
}

static void
test_parse_good(void **state)
{
    (void)state;
    eng_rest_vm_body_t b;
    const char *body =
        "{\"name\": \"web\", \"description\": \"front\", \"memory\": 67108864,"
        " \"cpu\": {\"topology\": {\"sockets\": 2, \"cores\": 3,"
        " \"threads\": 1}},"
        " \"cluster\": {\"name\": \"Default\"},"
        " \"placement_policy\": {\"hosts\": {\"host\": [{\"name\": \"h1\"}]}},"
        " \"disk_attachments\": {\"disk_attachment\": ["
        "   {\"interface\": \"sata\", \"disk\": {\"provisioned_size\": 1073741824}},"
        "   {\"bootable\": true, \"disk\": {\"provisioned_size\": 2048,"
        "    \"format\": \"cow\"}}]},"
        " \"nics\": {\"nic\": [{\"name\": \"eth0\", \"interface\": \"e1000\","
        "   \"mac\": {\"address\": \"56:6f:00:00:00:01\"},"
        "   \"network\": {\"name\": \"default\"}}, {}]},"
        " \"display\": {\"type\": \"spice\"},"
        " \"high_availability\": {\"enabled\": true, \"priority\": 50}}";
    assert_int_equal(parse(body, false, &b), 0);
    assert_string_equal(b.vm.name, "web");
    assert_string_equal(b.vm.description, "front");
    assert_int_equal(b.vm.memory_bytes, 67108864);
    assert_int_equal(b.vm.sockets, 2);
    assert_int_equal(b.vm.cores, 3);
    assert_int_equal(b.vm.threads, 1);
    assert_string_equal(b.cluster_name, "Default");
    assert_string_equal(b.host_name, "h1");
    assert_int_equal(b.vm.ndisks, 2);
    assert_int_equal(b.vm.disks[0].size_bytes, 1073741824);
    assert_string_equal(b.vm.disks[0].interface, "sata");
    assert_string_equal(b.vm.disks[0].format, "cow");
    /* disk 2 is explicitly bootable, so disk 1 is not made bootable */
    assert_false(b.vm.disks[0].bootable);
    assert_true(b.vm.disks[1].bootable);
    assert_int_equal(b.vm.nnics, 2);
    assert_string_equal(b.vm.nics[0].name, "eth0");
    assert_string_equal(b.vm.nics[0].model, "e1000");
    assert_string_equal(b.vm.nics[0].mac, "56:6f:00:00:00:01");
    assert_string_equal(b.vm.nics[0].network, "default");
    assert_string_equal(b.vm.nics[1].name, "nic2");     /* defaults */
    assert_string_equal(b.vm.nics[1].model, "virtio");
    assert_string_equal(b.vm.display_type, "spice");
    assert_true(b.vm.ha);
    assert_int_equal(b.vm.ha_priority, 50);
    unsigned want = ENG_VMF_NAME | ENG_VMF_DESCRIPTION | ENG_VMF_MEMORY |
                    ENG_VMF_SOCKETS | ENG_VMF_CORES | ENG_VMF_THREADS |
                    ENG_VMF_CLUSTER | ENG_VMF_PIN | ENG_VMF_DISKS |
                    ENG_VMF_NICS | ENG_VMF_DISPLAY | ENG_VMF_HA |
                    ENG_VMF_HA_PRIORITY;
    assert_int_equal(b.set, want);
}

static void
test_parse_numeric_strings(void **state)
{
    (void)state;
    eng_rest_vm_body_t b;
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": \"134217728\","
                           " \"cpu\": {\"topology\": {\"sockets\": \"4\"}},"
                           " \"high_availability\": {\"enabled\": \"true\","
                           " \"priority\": \"7\"},"
                           " \"disk_attachments\": {\"disk_attachment\": [{"
                           "\"bootable\": \"false\", \"disk\": "
                           "{\"provisioned_size\": \"1024\"}}]}}",
                           false, &b), 0);
    assert_int_equal(b.vm.memory_bytes, 134217728);
    assert_int_equal(b.vm.sockets, 4);
    assert_true(b.vm.ha);
    assert_int_equal(b.vm.ha_priority, 7);
    assert_int_equal(b.vm.disks[0].size_bytes, 1024);
    assert_false(b.vm.disks[0].bootable);     /* explicit false is kept */
    /* Without any bootable flag, the first disk boots. */
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"disk_attachments\":"
                           " {\"disk_attachment\": [{\"disk\": "
                           "{\"provisioned_size\": 1}}, {\"disk\": "
                           "{\"provisioned_size\": 1}}]}}", false, &b), 0);
    assert_true(b.vm.disks[0].bootable);
    assert_false(b.vm.disks[1].bootable);
}

static void
test_parse_unknown_field(void **state)
{
    (void)state;
    eng_rest_vm_body_t b;
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"colour\": 1}",
                           false, &b), -1);
    expect_err(CMN_ERR_INVALID, "'colour'");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"cpu\": "
                           "{\"topology\": {\"sockts\": 1}}}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "cpu.topology.sockts");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"nics\": {\"nic\":"
                           " [{\"name\": \"n\", \"modle\": \"x\"}]}}", false,
                           &b), -1);
    expect_err(CMN_ERR_INVALID, "nics.nic[0].modle");
    /* Nothing half-filled is left behind on error. */
    assert_string_equal(b.vm.name, "");
    /* Read-only fields of a shown VM are accepted. */
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"id\": \"x\","
                           " \"status\": \"up\", \"href\": \"/x\"}", false, &b),
                     0);
}

static void
test_parse_wrong_type(void **state)
{
    (void)state;
    eng_rest_vm_body_t b;
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": \"a lot\"}", false,
                           &b), -1);
    expect_err(CMN_ERR_INVALID, "'memory'");
    expect_err(CMN_ERR_INVALID, "integer");
    assert_int_equal(parse("{\"name\": 5, \"memory\": 1}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "field 'name': expected a string");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": -1}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "memory");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1.5}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "decimal");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, "
                           "\"high_availability\": {\"enabled\": \"yes\"}}",
                           false, &b), -1);
    expect_err(CMN_ERR_INVALID, "high_availability.enabled");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"cpu\": "
                           "{\"topology\": {\"cores\": 0}}}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "cpu.topology.cores");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"nics\": "
                           "{\"nic\": {}}}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "nics.nic");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": 1, \"cluster\": "
                           "{\"id\": \"not-a-uuid\"}}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "cluster.id");
}

static void
test_parse_required_and_malformed(void **state)
{
    (void)state;
    eng_rest_vm_body_t b;
    assert_int_equal(parse("{\"memory\": 1}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "'name'");
    assert_int_equal(parse("{\"name\": \"a\"}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "'memory'");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": ", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "malformed JSON at line 1");
    assert_int_equal(parse("{\"name\": \"a\",\n \"memory\": 1} junk", false,
                           &b), -1);
    expect_err(CMN_ERR_INVALID, "line 2");
    assert_int_equal(parse("[1]", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "JSON object");
    assert_int_equal(parse("", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "body");
    assert_int_equal(parse("{\"name\": \"a\", \"name\": \"b\", \"memory\": 1}",
                           false, &b), -1);
    expect_err(CMN_ERR_INVALID, "duplicate");
    /* An update needs neither, and refuses disk changes. */
    assert_int_equal(parse("{\"description\": \"d\"}", true, &b), 0);
    assert_int_equal(b.set, ENG_VMF_DESCRIPTION);
    assert_int_equal(parse("{\"disk_attachments\": {}}", true, &b), -1);
    expect_err(CMN_ERR_INVALID, "disk_attachments");
}

static void
test_parse_limits(void **state)
{
    (void)state;
    eng_rest_vm_body_t b;
    char body[8192];
    int n = snprintf(body, sizeof(body), "{\"name\": \"a\", \"memory\": 1, "
                     "\"disk_attachments\": {\"disk_attachment\": [");
    for (int i = 0; i < ENG_VM_MAX_DISKS + 1; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n,
                      "%s{\"disk\": {\"provisioned_size\": 1}}", i ? "," : "");
    snprintf(body + n, sizeof(body) - (size_t)n, "]}}");
    assert_int_equal(parse(body, false, &b), -1);
    expect_err(CMN_ERR_INVALID, "too many disks: 17");
    char name[400];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(body, sizeof(body), "{\"name\": \"%s\", \"memory\": 1}", name);
    assert_int_equal(parse(body, false, &b), -1);
    expect_err(CMN_ERR_INVALID, "too long");
    assert_int_equal(parse("{\"name\": \"a\", \"memory\": "
                           "\"99999999999999999999999\"}", false, &b), -1);
    expect_err(CMN_ERR_INVALID, "memory");
    assert_int_equal(parse("{\"name\": \"a\\u0000b\", \"memory\": 1}", false,
                           &b), -1);
}

static void
test_parse_start_ping_action(void **state)
{
    (void)state;
    char id[ENG_ID_LEN], name[ENG_NAME_LEN];
    cmn_err_reset();
    assert_int_equal(eng_rest_parse_start("", 0, id, name), 0);
    assert_string_equal(id, "");
    const char *b = "{\"host\": {\"name\": \"h1\"}}";
    assert_int_equal(eng_rest_parse_start(b, strlen(b), id, name), 0);
    assert_string_equal(name, "h1");
    b = "{\"host\": {\"id\": \"nope\"}}";
    assert_int_equal(eng_rest_parse_start(b, strlen(b), id, name), -1);
    expect_err(CMN_ERR_INVALID, "host.id");
    cmn_err_reset();
    b = "{\"hots\": {}}";
    assert_int_equal(eng_rest_parse_start(b, strlen(b), id, name), -1);
    expect_err(CMN_ERR_INVALID, "hots");

    unsigned count;
    cmn_err_reset();
    assert_int_equal(eng_rest_parse_ping("", 0, &count), 0);
    assert_int_equal(count, ENG_REST_PING_DEFAULT);
    b = "{\"count\": \"250\"}";
    assert_int_equal(eng_rest_parse_ping(b, strlen(b), &count), 0);
    assert_int_equal(count, 250);
    b = "{\"count\": 0}";
    assert_int_equal(eng_rest_parse_ping(b, strlen(b), &count), -1);
    expect_err(CMN_ERR_INVALID, "count");
    cmn_err_reset();
    b = "{\"count\": 10001}";
    assert_int_equal(eng_rest_parse_ping(b, strlen(b), &count), -1);

    cmn_err_reset();
    assert_int_equal(eng_rest_parse_action("{}", 2), 0);
    b = "{\"async\": false}";
    assert_int_equal(eng_rest_parse_action(b, strlen(b)), 0);
    b = "{\"force\": 3}";
    assert_int_equal(eng_rest_parse_action(b, strlen(b)), -1);
    expect_err(CMN_ERR_INVALID, "force");
}

static const json_t *
jpath(const json_t *o, const char *a, const char *b, const char *c)
{
    o = json_object_get(o, a);
    if (b)
        o = json_object_get(o, b);
    if (c)
        o = json_object_get(o, c);
    return o;
}

static void
test_render_vm(void **state)
{
    (void)state;
    eng_vm_t vm;
    memset(&vm, 0, sizeof(vm));
    snprintf(vm.id, sizeof(vm.id), "11111111-2222-4333-8444-555555555555");
    snprintf(vm.name, sizeof(vm.name), "demo");
    snprintf(vm.cluster_id, sizeof(vm.cluster_id),
             "99999999-2222-4333-8444-555555555555");
    snprintf(vm.host_id, sizeof(vm.host_id),
             "88888888-2222-4333-8444-555555555555");
    vm.memory_bytes = 67108864;
    vm.sockets = 2;
    vm.cores = vm.threads = 1;
    vm.status = ENG_VM_UP;
    vm.start_time_ms = 1795000000000;
    vm.created_ms = 1794000000000;
    vm.display_port = 5900;
    snprintf(vm.display_address, sizeof(vm.display_address), "127.0.0.1");
    snprintf(vm.display_type, sizeof(vm.display_type), "vnc");
    vm.ndisks = 1;
    snprintf(vm.disks[0].id, sizeof(vm.disks[0].id), "d1");
    vm.disks[0].size_bytes = 1073741824;
    vm.disks[0].bootable = true;
    snprintf(vm.disks[0].interface, sizeof(vm.disks[0].interface), "virtio");
    snprintf(vm.disks[0].format, sizeof(vm.disks[0].format), "cow");
    vm.nnics = 1;
    snprintf(vm.nics[0].name, sizeof(vm.nics[0].name), "nic1");
    snprintf(vm.nics[0].mac, sizeof(vm.nics[0].mac), "56:6f:00:00:00:01");
    snprintf(vm.nics[0].model, sizeof(vm.nics[0].model), "virtio");

    json_t *j = eng_rest_vm_json(&vm);
    assert_non_null(j);
    assert_string_equal(json_string_value(jpath(j, "id", NULL, NULL)), vm.id);
    assert_string_equal(json_string_value(jpath(j, "href", NULL, NULL)),
        "/ovirt-engine/api/vms/11111111-2222-4333-8444-555555555555");
    assert_string_equal(json_string_value(jpath(j, "status", NULL, NULL)), "up");
    assert_string_equal(json_string_value(jpath(j, "memory", NULL, NULL)),
                        "67108864");
    assert_string_equal(json_string_value(jpath(j, "cpu", "topology",
                                                "sockets")), "2");
    assert_string_equal(json_string_value(jpath(j, "host", "id", NULL)),
                        vm.host_id);
    assert_string_equal(json_string_value(jpath(j, "cluster", "href", NULL)),
        "/ovirt-engine/api/clusters/99999999-2222-4333-8444-555555555555");
    assert_string_equal(json_string_value(jpath(j, "display", "port", NULL)),
                        "5900");
    assert_string_equal(json_string_value(jpath(j, "high_availability",
                                                "enabled", NULL)), "false");
    assert_true(json_is_integer(jpath(j, "start_time", NULL, NULL)));
    const json_t *da = json_array_get(jpath(j, "disk_attachments",
                                            "disk_attachment", NULL), 0);
    assert_string_equal(json_string_value(jpath(da, "bootable", NULL, NULL)),
                        "true");
    assert_string_equal(json_string_value(jpath(da, "disk", "provisioned_size",
                                                NULL)), "1073741824");
    const json_t *nic = json_array_get(jpath(j, "nics", "nic", NULL), 0);
    assert_string_equal(json_string_value(jpath(nic, "mac", "address", NULL)),
                        "56:6f:00:00:00:01");
    const json_t *acts = jpath(j, "actions", "link", NULL);
    assert_int_equal(json_array_size(acts), ENG_REST_ACT__LAST);
    assert_string_equal(json_string_value(jpath(json_array_get(acts, 0), "rel",
                                                NULL, NULL)), "start");
    assert_string_equal(json_string_value(jpath(json_array_get(acts, 0), "href",
                                                NULL, NULL)),
        "/ovirt-engine/api/vms/11111111-2222-4333-8444-555555555555/start");
    const json_t *links = jpath(j, "link", NULL, NULL);
    assert_string_equal(json_string_value(jpath(json_array_get(links, 0), "rel",
                                                NULL, NULL)), "statistics");
    json_decref(j);

    /* A down VM shows no host even if it last ran somewhere. */
    vm.status = ENG_VM_DOWN;
    j = eng_rest_vm_json(&vm);
    assert_null(json_object_get(j, "host"));
    json_decref(j);
}

static void
test_render_stats(void **state)
{
    (void)state;
    json_t *sample = json_pack("{s:{s:I, s:s, s:s}, s:{s:f, s:s, s:s}, s:I}",
                               "memory.used", "value", (json_int_t)1024,
                               "unit", "bytes", "type", "gauge",
                               "cpu.current.user", "value", 1.5,
                               "unit", "percent", "type", "gauge",
                               "time_ms", (json_int_t)5);
    json_t *j = eng_rest_stats_json(sample, "vm", "vm-1");
    const json_t *list = json_object_get(j, "statistic");
    assert_int_equal(json_array_size(list), 2);     /* time_ms is no statistic */
    const json_t *s0 = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "name")),
                        "memory.used");
    assert_string_equal(json_string_value(json_object_get(s0, "kind")), "gauge");
    assert_string_equal(json_string_value(json_object_get(s0, "type")),
                        "integer");
    assert_string_equal(json_string_value(json_object_get(s0, "unit")), "bytes");
    assert_true(cmn_uuid_valid(json_string_value(json_object_get(s0, "id"))));
    const json_t *d = json_object_get(json_array_get(
        jpath(s0, "values", "value", NULL), 0), "datum");
    assert_int_equal(json_integer_value(d), 1024);
    assert_string_equal(json_string_value(jpath(s0, "vm", "id", NULL)), "vm-1");
    const json_t *s1 = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(s1, "type")),
                        "decimal");
    json_decref(j);
    json_decref(sample);
    j = eng_rest_stats_json(NULL, "host", "h");
    assert_int_equal(json_array_size(json_object_get(j, "statistic")), 0);
    json_decref(j);
}

static void
test_route(void **state)
{
    (void)state;
    eng_route_t r;
    cmn_err_reset();
    assert_int_equal(eng_rest_route("/ovirt-engine/api", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_ROOT);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_ROOT);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/vms", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_VMS);
    assert_int_equal(r.allowed, ENG_REST_GET | ENG_REST_POST);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/vms/my%20vm", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_VM);
    assert_string_equal(r.id, "my vm");
    assert_int_equal(r.allowed, ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/vms/web/suspend", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_VM_ACTION);
    assert_int_equal(r.action, ENG_REST_ACT_SUSPEND);
    assert_int_equal(r.allowed, ENG_REST_POST);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/vms/web/statistics", &r),
                     0);
    assert_int_equal(r.kind, ENG_ROUTE_VM_STATS);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts/h1/ping", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_HOST_PING);
    assert_string_equal(r.id, "h1");
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts/h1/nics", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_HOST_NICS);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/datacenters/Default",
                                    &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_DC);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/events", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_EVENTS);

    static const char *const bad[] = {
        "/", "/ovirt-engine", "/ovirt-engine/apix", "/ovirt-engine/api/frob",
        "/ovirt-engine/api/vms/web/frobnicate", "/ovirt-engine/api/vms//start",
        "/ovirt-engine/api/events/1", "/ovirt-engine/api/hosts/h1/start",
        "/ovirt-engine/api/vms/a/b/c/d", "/ovirt-engine/api/vms/a%00b",
        "/ovirt-engine/api/vms/web/ping",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cmn_err_reset();
        if (eng_rest_route(bad[i], &r) != -1)
            fail_msg("'%s' routed to %d", bad[i], r.kind);
        assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    }
    char allow[32];
    assert_string_equal(eng_rest_allow(ENG_REST_GET | ENG_REST_PUT |
                                       ENG_REST_DELETE, allow, sizeof(allow)),
                        "GET, PUT, DELETE");
}

static void
test_search(void **state)
{
    (void)state;
    static const char *const known[] = { "name", "status", NULL };
    eng_search_t *q = NULL;
    cmn_err_reset();
    assert_int_equal(eng_rest_query_search(NULL, known, &q), 0);
    assert_null(q);
    assert_int_equal(eng_rest_query_search("max=5", known, &q), 0);
    assert_null(q);
    assert_int_equal(eng_rest_query_search("search=name%3Dweb*%20and%20"
                                           "status%3Dup&max=5", known, &q), 0);
    assert_non_null(q);
    assert_int_equal(q->nterms, 2);
    eng_search_destroy(&q);
    assert_int_equal(eng_rest_query_search("search=colour%3Dblue", known, &q),
                     -1);
    assert_null(q);
    expect_err(CMN_ERR_INVALID, "colour");
}

static void
test_find_names_and_ids(void **state)
{
    (void)state;
    cmn_err_reset();
    eng_store_t *s = eng_store_open(":memory:");
    assert_non_null(s);
    eng_cluster_t c;
    assert_int_equal(eng_rest_find_cluster(s, "Default", &c), 0);
    eng_cluster_t c2;
    assert_int_equal(eng_rest_find_cluster(s, c.id, &c2), 0);
    assert_string_equal(c2.name, "Default");

    eng_vm_t vm, got;
    memset(&vm, 0, sizeof(vm));
    cmn_uuid_generate(vm.id);
    snprintf(vm.name, sizeof(vm.name), "web");
    memcpy(vm.cluster_id, c.id, sizeof(vm.cluster_id));
    vm.memory_bytes = 67108864;
    vm.sockets = vm.cores = vm.threads = 1;
    assert_int_equal(eng_store_vm_insert(s, &vm), 0);
    /* A VM whose name looks like a UUID is still found by that name. */
    eng_vm_t vm2 = vm;
    cmn_uuid_generate(vm2.id);
    snprintf(vm2.name, sizeof(vm2.name), "00000000-0000-4000-8000-000000000000");
    assert_int_equal(eng_store_vm_insert(s, &vm2), 0);

    cmn_err_reset();
    assert_int_equal(eng_rest_find_vm(s, "web", &got), 0);
    assert_string_equal(got.id, vm.id);
    assert_int_equal(eng_rest_find_vm(s, vm.id, &got), 0);
    assert_string_equal(got.name, "web");
    assert_int_equal(eng_rest_find_vm(s, vm2.name, &got), 0);
    assert_string_equal(got.id, vm2.id);
    assert_int_equal(eng_rest_find_vm(s, "nope", &got), -1);
    expect_err(CMN_ERR_NOT_FOUND, "VM 'nope' not found");
    cmn_err_reset();
    assert_int_equal(eng_rest_find_vm(s, "11111111-1111-4111-8111-111111111111",
                                      &got), -1);
    expect_err(CMN_ERR_NOT_FOUND, "11111111-1111-4111-8111-111111111111");

    /* Apply resolves the cluster by name and refuses unknown hosts. */
    eng_rest_vm_body_t b;
    assert_int_equal(parse("{\"name\": \"n\", \"memory\": 1, \"cluster\": "
                           "{\"name\": \"Default\"}}", false, &b), 0);
    eng_vm_t target;
    memset(&target, 0, sizeof(target));
    assert_int_equal(eng_rest_vm_apply(s, &b, &target), 0);
    assert_string_equal(target.cluster_id, c.id);
    assert_string_equal(target.name, "n");
    assert_int_equal(parse("{\"name\": \"n\", \"memory\": 1, \"placement_policy\":"
                           " {\"hosts\": {\"host\": [{\"name\": \"h9\"}]}}}",
                           false, &b), 0);
    memset(&target, 0, sizeof(target));
    assert_int_equal(eng_rest_vm_apply(s, &b, &target), -1);
    expect_err(CMN_ERR_NOT_FOUND, "host 'h9'");
    assert_string_equal(target.name, "");     /* untouched on error */
    eng_store_destroy(&s);
}

static void
test_http_status(void **state)
{
    (void)state;
    assert_int_equal(eng_rest_http_status(CMN_ERR_INVALID), 400);
    assert_int_equal(eng_rest_http_status(CMN_ERR_PROTOCOL), 400);
    assert_int_equal(eng_rest_http_status(CMN_ERR_VERSION), 400);
    assert_int_equal(eng_rest_http_status(CMN_ERR_AUTH), 401);
    assert_int_equal(eng_rest_http_status(CMN_ERR_DENIED), 403);
    assert_int_equal(eng_rest_http_status(CMN_ERR_NOT_FOUND), 404);
    assert_int_equal(eng_rest_http_status(CMN_ERR_EXISTS), 409);
    assert_int_equal(eng_rest_http_status(CMN_ERR_STATE), 409);
    assert_int_equal(eng_rest_http_status(CMN_ERR_TOO_BIG), 413);
    assert_int_equal(eng_rest_http_status(CMN_ERR_UNSUPPORTED), 501);
    assert_int_equal(eng_rest_http_status(CMN_ERR_UNAVAILABLE), 503);
    assert_int_equal(eng_rest_http_status(CMN_ERR_NO_SESSION), 503);
    assert_int_equal(eng_rest_http_status(CMN_ERR_TIMEOUT), 504);
    assert_int_equal(eng_rest_http_status(CMN_ERR_DB), 500);
    json_t *f = eng_rest_fault_json(CMN_ERR_STATE, "VM x is up");
    assert_string_equal(json_string_value(json_object_get(f, "reason")),
                        "Conflict");
    assert_string_equal(json_string_value(json_object_get(f, "detail")),
                        "VM x is up");
    json_decref(f);
    /* Bytes that are not UTF-8 cannot break the fault. */
    f = eng_rest_fault_json(CMN_ERR_NOT_FOUND, "VM '\xff\xfe' not found");
    assert_non_null(json_object_get(f, "detail"));
    json_decref(f);
}

/* ---- the server on a real event_base, with a real store and agents ------ */

typedef struct {
    eng_ctx_t ctx;
    int port;
    int status;
    char location[512];
    char allow[64];
    json_t *json;
} srv_t;

static void
srv_done(struct evhttp_request *req, void *arg)
{
    srv_t *t = arg;
    t->status = req ? evhttp_request_get_response_code(req) : -1;
    t->location[0] = t->allow[0] = '\0';
    json_decref(t->json);
    t->json = NULL;
    if (req) {
        struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        const char *v = evhttp_find_header(h, "Location");
        snprintf(t->location, sizeof(t->location), "%s", v ? v : "");
        v = evhttp_find_header(h, "Allow");
        snprintf(t->allow, sizeof(t->allow), "%s", v ? v : "");
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        char *text = malloc(len + 1);
        evbuffer_copyout(in, text, len);
        text[len] = '\0';
        t->json = json_loads(text, 0, NULL);
        free(text);
    }
    event_base_loopbreak(t->ctx.base);
}

/* One request to our own server, served by the same loop. */
static int
srv_call(srv_t *t, enum evhttp_cmd_type cmd, const char *path,
         const char *body)
{
    struct evhttp_connection *c =
        evhttp_connection_base_new(t->ctx.base, NULL, "127.0.0.1",
                                   (unsigned short)t->port);
    assert_non_null(c);
    struct evhttp_request *req = evhttp_request_new(srv_done, t);
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "Host", "test.local");
    evhttp_add_header(oh, "Accept", "application/json");
    /* admin@internal:secret */
    evhttp_add_header(oh, "Authorization",
                      "Basic YWRtaW5AaW50ZXJuYWw6c2VjcmV0");
    if (body)
        evbuffer_add(evhttp_request_get_output_buffer(req), body,
                     strlen(body));
    t->status = 0;
    assert_int_equal(evhttp_make_request(c, req, cmd, path), 0);
    event_base_dispatch(t->ctx.base);
    evhttp_connection_free(c);
    return t->status;
}

static int
srv_setup(void **state)
{
    srv_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    cmn_err_reset();
    assert_int_equal(eng_conf_load(&t->ctx.conf, NULL), 0);
    t->ctx.conf.agents_curve = false;   /* no key files under /var/lib */
    cmn_conf_set_str(&t->ctx.conf.agents_listen, "tcp://127.0.0.1:*");
    t->ctx.conf.api_port = 0;
    t->ctx.conf.api_max_body = 4096;
    t->ctx.conf.api_tls = false;
    cmn_conf_set_str(&t->ctx.conf.admin_password, "secret");
    fx_eng_ctx_open(&t->ctx, false);
    t->ctx.rest = eng_rest_new(&t->ctx);
    if (!t->ctx.rest)
        fail_msg("eng_rest_new: %s", cmn_err_msg());
    t->port = eng_rest_port(t->ctx.rest);
    assert_true(t->port > 0);
    *state = t;
    return 0;
}

static int
srv_teardown(void **state)
{
    srv_t *t = *state;
    json_decref(t->json);
    eng_rest_destroy(&t->ctx.rest);
    assert_null(t->ctx.rest);
    fx_eng_ctx_close(&t->ctx);
    free(t);
    return 0;
}

static const char *
jget(const json_t *o, const char *a, const char *b)
{
    o = json_object_get(o, a);
    if (b)
        o = json_object_get(o, b);
    return json_is_string(o) ? json_string_value(o) : "";
}

static void
test_server(void **state)
{
    srv_t *t = *state;
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api", NULL),
                     200);
    assert_string_equal(jget(t->json, "product_info", "name"), "Herd");

    /* Create: 201, Location, the stored VM. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_POST, "/ovirt-engine/api/vms",
                              "{\"name\": \"web\", \"memory\": \"67108864\","
                              " \"cluster\": {\"name\": \"Default\"}}"), 201);
    char id[ENG_ID_LEN];
    snprintf(id, sizeof(id), "%s", jget(t->json, "id", NULL));
    assert_true(cmn_uuid_valid(id));
    char want[256];
    snprintf(want, sizeof(want), "http://test.local/ovirt-engine/api/vms/%s",
             id);
    assert_string_equal(t->location, want);
    assert_string_equal(jget(t->json, "status", NULL), "down");

    /* By name and by id. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api/vms/web",
                              NULL), 200);
    assert_string_equal(jget(t->json, "id", NULL), id);
    char path[256];
    snprintf(path, sizeof(path), "/ovirt-engine/api/vms/%s", id);
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, path, NULL), 200);
    assert_string_equal(jget(t->json, "name", NULL), "web");
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api/vms", NULL),
                     200);
    assert_int_equal(json_array_size(json_object_get(t->json, "vm")), 1);
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET,
                              "/ovirt-engine/api/vms?search=name%3Ddb*", NULL),
                     200);
    assert_int_equal(json_array_size(json_object_get(t->json, "vm")), 0);
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET,
                              "/ovirt-engine/api/vms?search=name%3DW*%20and%20"
                              "status%3Ddown", NULL), 200);
    assert_int_equal(json_array_size(json_object_get(t->json, "vm")), 1);
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET,
                              "/ovirt-engine/api/vms?search=colour%3Dred", NULL),
                     400);
    assert_non_null(strstr(jget(t->json, "detail", NULL), "colour"));

    /* Update changes only what the body names. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_PUT, "/ovirt-engine/api/vms/web",
                              "{\"description\": \"front\"}"), 200);
    assert_string_equal(jget(t->json, "description", NULL), "front");
    assert_string_equal(jget(t->json, "memory", NULL), "67108864");

    /* Faults. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api/vms/nope",
                              NULL), 404);
    assert_non_null(strstr(jget(t->json, "detail", NULL), "nope"));
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api/frob",
                              NULL), 404);
    assert_int_equal(srv_call(t, EVHTTP_REQ_DELETE, "/ovirt-engine/api/vms",
                              NULL), 405);
    assert_string_equal(t->allow, "GET, POST");
    assert_int_equal(srv_call(t, EVHTTP_REQ_POST, "/ovirt-engine/api/vms",
                              "{\"name\": \"x\", \"memory\": 67108864, "
                              "\"colour\": 1}"), 400);
    assert_non_null(strstr(jget(t->json, "detail", NULL), "colour"));
    assert_int_equal(srv_call(t, EVHTTP_REQ_POST, "/ovirt-engine/api/vms",
                              "{\"name\": \"web\", \"memory\": 67108864}"),
                     409);
    char big[6000];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(srv_call(t, EVHTTP_REQ_POST, "/ovirt-engine/api/vms",
                              big), 413);
    assert_string_equal(jget(t->json, "code", NULL), "too_big");
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET,
                              "/ovirt-engine/api/events?max=0", NULL), 400);
    assert_non_null(strstr(jget(t->json, "detail", NULL), "max"));

    /* Start with no host: the action answer shape, 503. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_POST,
                              "/ovirt-engine/api/vms/web/start", "{}"), 503);
    assert_string_equal(jget(t->json, "status", NULL), "failed");
    assert_non_null(strstr(jget(t->json, "fault", "detail"), "no host"));

    /* Events name the user; newest first. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET,
                              "/ovirt-engine/api/events?max=1", NULL), 200);
    json_t *ev = json_array_get(json_object_get(t->json, "event"), 0);
    assert_non_null(ev);
    assert_string_equal(jget(ev, "user", "name"), "admin@internal");

    /* Remove answers when the operation is done; the VM is gone. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_DELETE, "/ovirt-engine/api/vms/web",
                              NULL), 200);
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api/vms/web",
                              NULL), 404);
    /* Nothing was half made by the refused calls. */
    assert_int_equal(srv_call(t, EVHTTP_REQ_GET, "/ovirt-engine/api/vms", NULL),
                     200);
    assert_int_equal(json_array_size(json_object_get(t->json, "vm")), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_numeric_strings),
        cmocka_unit_test(test_parse_unknown_field),
        cmocka_unit_test(test_parse_wrong_type),
        cmocka_unit_test(test_parse_required_and_malformed),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_start_ping_action),
        cmocka_unit_test(test_render_vm),
        cmocka_unit_test(test_render_stats),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_find_names_and_ids),
        cmocka_unit_test(test_http_status),
        cmocka_unit_test_setup_teardown(test_server, srv_setup, srv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
