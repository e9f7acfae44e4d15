/* herdctl argument parsing: sizes with binary suffixes, counts, the engine
 * URL, global options anywhere on the line, and the `vm create` body with
 * its usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "ctl_priv.h"

static void
expect_err(const char *word)
{
    if (cmn_err_code() != CMN_ERR_INVALID)
        fail_msg("expected invalid, got %s: %s", cmn_code_name(cmn_err_code()),
                 cmn_err_msg());
    if (!strstr(cmn_err_msg(), word))
        fail_msg("message '%s' does not name '%s'", cmn_err_msg(), word);
}

static void
test_sizes(void **state)
{
    (void)state;
    static const struct { const char *in; uint64_t out; } good[] = {
        { "512", 512 }, { "1K", 1024 }, { "64M", 64ull << 20 },
        { "64m", 64ull << 20 }, { "1G", 1ull << 30 }, { "2T", 2ull << 40 },
        { "1GiB", 1ull << 30 }, { "1GB", 1ull << 30 }, { "100B", 100 },
        { "67108864", 67108864 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 0;
        cmn_err_reset();
        if (ctl_parse_size(good[i].in, "--memory", &v) != 0)
            fail_msg("'%s': %s", good[i].in, cmn_err_msg());
        assert_int_equal(v, good[i].out);
    }
    static const char *const bad[] = {
        "", "lots", "1X", "1.5G", "-1G", "G", "1GX", "0", "1 G",
        "99999999999999999999", "16777216T", "1Bi",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0;
        cmn_err_reset();
        if (ctl_parse_size(bad[i], "--memory", &v) != -1)
            fail_msg("'%s' parsed as %llu", bad[i], (unsigned long long)v);
        expect_err("--memory");
    }
}

static void
test_uint(void **state)
{
    (void)state;
    uint64_t v;
    cmn_err_reset();
    assert_int_equal(ctl_parse_uint("4", "--cpus", 1, 512, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(ctl_parse_uint("many", "--cpus", 1, 512, &v), -1);
    expect_err("--cpus: 'many'");
    cmn_err_reset();
    assert_int_equal(ctl_parse_uint("0", "--cpus", 1, 512, &v), -1);
    expect_err("out of range");
    cmn_err_reset();
    assert_int_equal(ctl_parse_uint("-3", "--count", 1, 10, &v), -1);
    expect_err("--count");
}

static void
test_url(void **state)
{
    (void)state;
    ctl_opts_t o;
    memset(&o, 0, sizeof(o));
    cmn_err_reset();
    assert_int_equal(ctl_parse_url("http://127.0.0.1:8080", &o), 0);
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 8080);
    assert_string_equal(o.base, "/ovirt-engine/api");
    assert_int_equal(ctl_parse_url("http://engine/", &o), 0);
    assert_int_equal(o.port, 80);
    assert_string_equal(o.base, "/ovirt-engine/api");
    /* A URL that already names the API is not doubled; a prefix is kept. */
    assert_int_equal(ctl_parse_url("http://h:1/ovirt-engine/api/", &o), 0);
    assert_string_equal(o.base, "/ovirt-engine/api");
    assert_int_equal(ctl_parse_url("http://h:1/herd", &o), 0);
    assert_string_equal(o.base, "/herd/ovirt-engine/api");
    assert_int_equal(ctl_parse_url("https://h:1", &o), 0);
    assert_true(o.tls);
    assert_int_equal(o.port, 1);
    assert_int_equal(ctl_parse_url("https://engine", &o), 0);
    assert_int_equal(o.port, 443);
    assert_int_equal(ctl_parse_url("ftp://h:1", &o), -1);
    expect_err("https://");
    cmn_err_reset();
    assert_int_equal(ctl_parse_url("not a url", &o), -1);
    expect_err("--url");
}

/* The messages for a bad --url name the option and the URL, and say what
 * is wrong; a bad URL leaves the parsed fields alone. */
static void
test_url_bad(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *msg;
    } bad[] = {
        { "ftp://h:1", "--url: 'ftp://h:1' must start with https:// or "
          "http://" },
        { "engine:8443", "--url: 'engine:8443' must start with https://" },
        { "http://", "--url: 'http://' has no host" },
        { "http://h:1/?x=1", "--url: 'http://h:1/?x=1' must not have a "
          "query or fragment" },
        { "http://h:1/#top", "--url: 'http://h:1/#top' must not have a "
          "query or fragment" },
        { "http://h:12ab", "--url: 'http://h:12ab' is not a URL" },
        { "http://bob:pw@h:1", "--url: 'http://bob:pw@h:1' must not carry "
          "a user name" },
        { "http://h:0", "--url: 'http://h:0' has a port out of range" },
        { "", "--url: empty URL" },
    };
    ctl_opts_t o;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&o, 0, sizeof(o));
        cmn_err_reset();
        if (ctl_parse_url(bad[i].url, &o) == 0)
            fail_msg("'%s' was accepted", bad[i].url);
        expect_err(bad[i].msg);
        assert_string_equal(o.host, "");
        assert_string_equal(o.base, "");
    }
    /* Longer than o.url holds, and a path longer than the prefix may be. */
    static const struct {
        size_t len;
        const char *msg;
    } lens[] = { { 600, "--url: too long" }, { 400, "--url: path too long" } };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char url[600] = "http://h/";
        memset(url + 9, 'p', lens[i].len - 10);
        url[lens[i].len - 1] = '\0';
        cmn_err_reset();
        assert_int_equal(ctl_parse_url(url, &o), -1);
        expect_err(lens[i].msg);
    }

    /* An IPv6 address loses its brackets: connect() wants it bare. */
    cmn_err_reset();
    assert_int_equal(ctl_parse_url("https://[::1]:9443/", &o), 0);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 9443);
    assert_true(o.tls);
    assert_string_equal(o.url, "https://[::1]:9443/");
    assert_string_equal(o.base, "/ovirt-engine/api");
}

static void
test_globals(void **state)
{
    (void)state;
    char *argv[] = { "herdctl", "vm", "-o", "json", "list", "--url",
                     "http://10.1.1.1:9", "--timeout=5", NULL };
    int argc = 8;
    ctl_opts_t o;
    cmn_err_reset();
    assert_int_equal(ctl_parse_globals(&argc, argv, NULL, &o), 0);
    assert_int_equal(argc, 3);
    assert_string_equal(argv[1], "vm");
    assert_string_equal(argv[2], "list");
    assert_null(argv[3]);
    assert_true(o.json);
    assert_int_equal(o.timeout_s, 5);
    assert_string_equal(o.host, "10.1.1.1");
    assert_int_equal(o.port, 9);

    char *argv2[] = { "herdctl", "host", "list", NULL };
    argc = 3;
    assert_int_equal(ctl_parse_globals(&argc, argv2, "http://e:7", &o), 0);
    assert_string_equal(o.host, "e");
    assert_int_equal(o.port, 7);
    assert_false(o.json);
    assert_int_equal(o.timeout_s, CTL_DEFAULT_TIMEOUT);
    argc = 3;
    assert_int_equal(ctl_parse_globals(&argc, argv2, NULL, &o), 0);
    assert_int_equal(o.port, 8443);
    assert_true(o.tls);

    char *argv9[] = { "herdctl", "--ca-file", "/x/ca.pem", "user", "add",
                      "joe", "--insecure", "--user=bob", "--password-file",
                      "f", NULL };
    argc = 10;
    assert_int_equal(ctl_parse_globals(&argc, argv9, NULL, &o), 0);
    assert_string_equal(o.ca_file, "/x/ca.pem");
    assert_string_equal(o.user, "bob");
    assert_true(o.insecure);
    /* --password-file belongs to the command (login, user add) */
    assert_int_equal(argc, 6);
    assert_string_equal(argv9[4], "--password-file");

    char *argv3[] = { "herdctl", "-o", "yaml", "vm", "list", NULL };
    argc = 5;
    assert_int_equal(ctl_parse_globals(&argc, argv3, NULL, &o), -1);
    expect_err("yaml");
    char *argv4[] = { "herdctl", "vm", "list", "--timeout", NULL };
    argc = 4;
    cmn_err_reset();
    assert_int_equal(ctl_parse_globals(&argc, argv4, NULL, &o), -1);
    expect_err("--timeout");
    char *argv5[] = { "herdctl", "vm", "list", NULL };
    argc = 3;
    cmn_err_reset();
    assert_int_equal(ctl_parse_globals(&argc, argv5, "ftp://x", &o), -1);
    expect_err("HERD_URL");
}

static json_t *
create(int argc, char **argv, bool *start)
{
    json_t *body = NULL;
    cmn_err_reset();
    if (ctl_vm_create_body(argc, argv, &body, start) < 0)
        return NULL;
    return body;
}

static const char *
jstr(const json_t *o, const char *path)
{
    return ctl_jstr(o, path);
}

static void
test_vm_create_body(void **state)
{
    (void)state;
    bool start;
    char *a1[] = { "web", "--memory", "64M", "--cpus", "2", "--disk", "1G",
                   "--disk=2G", "--nic", "--nic", "ovirtmgmt", "--display",
                   "spice", "--host", "h1", "--cluster", "Default", "--ha",
                   "--description", "front end", "--start" };
    json_t *b = create(21, a1, &start);
    if (!b)
        fail_msg("%s", cmn_err_msg());
    assert_true(start);
    assert_string_equal(jstr(b, "name"), "web");
    assert_string_equal(jstr(b, "memory"), "67108864");
    assert_string_equal(jstr(b, "cpu.topology.sockets"), "2");
    assert_string_equal(jstr(b, "cpu.topology.cores"), "1");
    assert_string_equal(jstr(b, "display.type"), "spice");
    assert_string_equal(jstr(b, "cluster.name"), "Default");
    assert_string_equal(jstr(b, "high_availability.enabled"), "true");
    assert_string_equal(jstr(b, "description"), "front end");
    json_t *disks = json_object_get(json_object_get(b, "disk_attachments"),
                                    "disk_attachment");
    assert_int_equal(json_array_size(disks), 2);
    assert_string_equal(jstr(json_array_get(disks, 0), "disk.provisioned_size"),
                        "1073741824");
    assert_string_equal(jstr(json_array_get(disks, 0), "bootable"), "true");
    assert_string_equal(jstr(json_array_get(disks, 1), "bootable"), "false");
    json_t *nics = json_object_get(json_object_get(b, "nics"), "nic");
    assert_int_equal(json_array_size(nics), 2);
    assert_string_equal(jstr(json_array_get(nics, 0), "network.name"), "");
    assert_string_equal(jstr(json_array_get(nics, 1), "network.name"),
                        "ovirtmgmt");
    assert_string_equal(jstr(json_array_get(nics, 1), "name"), "nic2");
    json_t *host = json_array_get(json_object_get(json_object_get(
        json_object_get(b, "placement_policy"), "hosts"), "host"), 0);
    assert_string_equal(jstr(host, "name"), "h1");
    json_decref(b);

    /* Host by UUID goes as id; explicit topology; default memory 1 GiB. */
    char *a2[] = { "db", "--sockets", "2", "--cores", "4",
                   "--host", "11111111-2222-4333-8444-555555555555" };
    b = create(7, a2, &start);
    assert_non_null(b);
    assert_false(start);
    assert_string_equal(jstr(b, "memory"), "1073741824");
    assert_string_equal(jstr(b, "cpu.topology.sockets"), "2");
    assert_string_equal(jstr(b, "cpu.topology.cores"), "4");
    assert_string_equal(jstr(b, "cpu.topology.threads"), "1");
    host = json_array_get(json_object_get(json_object_get(
        json_object_get(b, "placement_policy"), "hosts"), "host"), 0);
    assert_string_equal(jstr(host, "id"), "11111111-2222-4333-8444-555555555555");
    json_decref(b);
}

static void
test_vm_create_errors(void **state)
{
    (void)state;
    bool start;
    char *a1[] = { "--memory", "64M" };
    assert_null(create(2, a1, &start));
    expect_err("missing the VM name");
    char *a2[] = { "x", "--memory", "lots" };
    assert_null(create(3, a2, &start));
    expect_err("--memory: 'lots'");
    char *a3[] = { "x", "--cpus", "many" };
    assert_null(create(3, a3, &start));
    expect_err("--cpus");
    char *a4[] = { "x", "--bogus" };
    assert_null(create(2, a4, &start));
    expect_err("'--bogus'");
    char *a5[] = { "x", "y" };
    assert_null(create(2, a5, &start));
    expect_err("'y'");
    char *a6[] = { "x", "--cpus", "2", "--cores", "2" };
    assert_null(create(5, a6, &start));
    expect_err("not both");
    char *a7[] = { "x", "--display", "rdp" };
    assert_null(create(3, a7, &start));
    expect_err("rdp");
    char *a8[] = { "x", "--memory" };
    assert_null(create(2, a8, &start));
    expect_err("--memory needs a value");
    char *a9[] = { "x", "--disk", "0" };
    assert_null(create(3, a9, &start));
    expect_err("--disk");
}

static void
test_table_and_json(void **state)
{
    (void)state;
    static const char *const cols[] = { "NAME", "ID" };
    ctl_table_t *t = ctl_table_new(2, cols);
    assert_non_null(t);
    const char *r1[] = { "a-long-name", "1" };
    const char *r2[] = { "b", NULL };
    assert_int_equal(ctl_table_add(t, r1), 0);
    assert_int_equal(ctl_table_add(t, r2), 0);
    char buf[256] = "";
    FILE *fp = fmemopen(buf, sizeof(buf), "w");
    ctl_table_print(t, fp);
    fclose(fp);
    assert_string_equal(buf, "NAME         ID\na-long-name  1\nb            \n");
    ctl_table_destroy(&t);
    assert_null(t);

    json_t *j = json_loads("{\"a\": {\"b\": \"7\", \"n\": 9, \"t\": true}}", 0,
                           NULL);
    assert_string_equal(ctl_jstr(j, "a.b"), "7");
    assert_int_equal(ctl_jint(j, "a.b"), 7);
    assert_int_equal(ctl_jint(j, "a.n"), 9);
    assert_string_equal(ctl_jstr(j, "a.t"), "true");
    assert_string_equal(ctl_jstr(j, "a.missing.x"), "");
    assert_string_equal(ctl_jstr(NULL, "a"), "");
    json_decref(j);
    char seg[64];
    assert_string_equal(ctl_seg("my vm/1", seg, sizeof(seg)), "my%20vm%2F1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_url_bad),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_vm_create_body),
        cmocka_unit_test(test_vm_create_errors),
        cmocka_unit_test(test_table_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
