/* agent.yaml: defaults, the shipped conf/agent.yaml, and errors that name
 * file:line and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agt_conf.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "test_helpers.h"

static int
load(agt_conf_t *c, const char *yaml)
{
    cmn_err_reset();
    return agt_conf_load_data(c, "agent.yaml", yaml, strlen(yaml));
}

/* Loading `yaml` fails with CMN_ERR_CONFIG and a message holding every one
 * of the NULL-terminated fragments. */
static void
assert_load_fails(const char *yaml, ...)
{
    agt_conf_t c;
    assert_int_equal(load(&c, yaml), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    va_list ap;
    va_start(ap, yaml);
    test_err_has_all(ap);
    va_end(ap);
    agt_conf_clear(&c);
}

static void
assert_defaults(const agt_conf_t *c)
{
    assert_string_equal(c->engine, "tcp://127.0.0.1:54321");
    assert_string_equal(c->host_id_file, "/var/lib/herd-agent/host-id");
    assert_string_equal(c->libvirt_uri, "qemu:///system");
    assert_string_equal(c->images_dir, "/var/lib/herd-agent/images");
    assert_int_equal(c->stats_interval, 15);
    assert_int_equal(c->heartbeat_interval, 2);
    assert_int_equal(c->request_timeout, 10);
    assert_int_equal(c->workers, 4);
    assert_int_equal(c->max_message_bytes, 4194304);
    assert_int_equal(c->log_level, CMN_LOG_INFO);
    assert_string_equal(c->log_filters, "");
    assert_string_equal(c->log_file, "");
    assert_true(c->curve);
    assert_string_equal(c->secret_key_file, "/etc/herd/keys/agent.key");
    assert_string_equal(c->public_key_file, "/etc/herd/keys/agent.pub");
    assert_string_equal(c->engine_key_file, "/etc/herd/keys/engine.pub");
    assert_string_equal(c->enrollment_token, "");
}

static void
test_curve_keys(void **state)
{
    (void)state;
    agt_conf_t c;
    assert_int_equal(load(&c, "curve: false\nsecret_key_file: \"\"\n"), 0);
    assert_false(c.curve);
    agt_conf_clear(&c);
    assert_int_equal(load(&c, "secret_key_file: /k/a.key\n"
                              "enrollment_token: abc\n"), 0);
    assert_string_equal(c.secret_key_file, "/k/a.key");
    assert_string_equal(c.enrollment_token, "abc");
    agt_conf_clear(&c);
    assert_load_fails("engine_key_file: \"\"\n", "engine_key_file",
                      "herd-agent-setup", NULL);
    assert_load_fails("curve: 3\n", "curve", NULL);
}

static void
test_defaults_without_file(void **state)
{
    (void)state;
    agt_conf_t c;
    cmn_err_reset();
    assert_int_equal(agt_conf_load(&c, NULL), 0);
    assert_defaults(&c);
    agt_conf_clear(&c);
}

static void
test_defaults_from_comment_only_file(void **state)
{
    (void)state;
    agt_conf_t c;
    assert_int_equal(load(&c, "# nothing set\n"), 0);
    assert_defaults(&c);
    agt_conf_clear(&c);
}

/* The shipped file states the defaults. */
static void
test_shipped_file_is_the_defaults(void **state)
{
    (void)state;
    agt_conf_t c;
    cmn_err_reset();
    const char *path = getenv("HERD_ROOT") ? NULL : "conf/agent.yaml";
    char buf[512];
    if (!path) {
        snprintf(buf, sizeof(buf), "%s/conf/agent.yaml", getenv("HERD_ROOT"));
        path = buf;
    }
    if (access(path, R_OK) != 0)
        skip();
    if (agt_conf_load(&c, path) != 0)
        fail_msg("%s: %s", path, cmn_err_msg());
    assert_defaults(&c);
    agt_conf_clear(&c);
}

static void
test_every_key(void **state)
{
    (void)state;
    agt_conf_t c;
    const char *yaml =
        "engine: tcp://10.0.0.1:1234\n"
        "host_id_file: /tmp/hid\n"
        "libvirt_uri: test:///default\n"
        "images_dir: /srv/images\n"
        "stats_interval: 1\n"
        "heartbeat_interval: 60\n"
        "request_timeout: 600\n"
        "workers: 32\n"
        "max_message_bytes: 65536\n"
        "log:\n"
        "  level: debug\n"
        "  filters: \"agent.*:warn\"\n"
        "  file: /tmp/agent.log\n";
    if (load(&c, yaml) != 0)
        fail_msg("%s", cmn_err_msg());
    assert_string_equal(c.engine, "tcp://10.0.0.1:1234");
    assert_string_equal(c.host_id_file, "/tmp/hid");
    assert_string_equal(c.libvirt_uri, "test:///default");
    assert_string_equal(c.images_dir, "/srv/images");
    assert_int_equal(c.stats_interval, 1);
    assert_int_equal(c.heartbeat_interval, 60);
    assert_int_equal(c.request_timeout, 600);
    assert_int_equal(c.workers, 32);
    assert_int_equal(c.max_message_bytes, 65536);
    assert_int_equal(c.log_level, CMN_LOG_DEBUG);
    assert_string_equal(c.log_filters, "agent.*:warn");
    assert_string_equal(c.log_file, "/tmp/agent.log");
    agt_conf_clear(&c);
}

/* A URI with a query string (private libvirtd socket) is taken as is. */
static void
test_libvirt_uri_with_socket(void **state)
{
    (void)state;
    agt_conf_t c;
    assert_int_equal(load(&c, "libvirt_uri: qemu:///system?socket=/tmp/x/libvirt-sock\n"), 0);
    assert_string_equal(c.libvirt_uri, "qemu:///system?socket=/tmp/x/libvirt-sock");
    agt_conf_clear(&c);
}

static void
test_errors_name_file_line_key(void **state)
{
    (void)state;
    assert_load_fails("engine: tcp://x:1\nstats_interval: 0\n",
                      "agent.yaml:2", "stats_interval", NULL);
    assert_load_fails("stats_interval: 3601\n", "agent.yaml:1", "stats_interval", NULL);
    assert_load_fails("\n\nheartbeat_interval: 61\n", "agent.yaml:3",
                      "heartbeat_interval", NULL);
    assert_load_fails("heartbeat_interval: 0\n", "agent.yaml:1", "heartbeat_interval", NULL);
    assert_load_fails("request_timeout: 601\n", "agent.yaml:1", "request_timeout", NULL);
    assert_load_fails("request_timeout: 0\n", "agent.yaml:1", "request_timeout", NULL);
    assert_load_fails("workers: 0\n", "agent.yaml:1", "workers", NULL);
    assert_load_fails("workers: 33\n", "agent.yaml:1", "workers", NULL);
    assert_load_fails("workers: many\n", "agent.yaml:1", "workers", NULL);
    assert_load_fails("max_message_bytes: 10\n", "agent.yaml:1", "max_message_bytes", NULL);
    assert_load_fails("engin: tcp://x:1\n", "agent.yaml:1", "engin", NULL);
    assert_load_fails("log:\n  level: loud\n", "agent.yaml:2", "log.level", NULL);
    assert_load_fails("log:\n  colour: red\n", "agent.yaml:2", "colour", NULL);
    assert_load_fails("stats_interval: [1, 2]\n", "agent.yaml:1", "stats_interval", NULL);
}

/* Checks the schema cannot make still name the source and the key. */
static void
test_value_checks_name_key(void **state)
{
    (void)state;
    assert_load_fails("engine: \"\"\n", "agent.yaml", "'engine'", "empty", NULL);
    assert_load_fails("engine: localhost\n", "agent.yaml", "'engine'", NULL);
    assert_load_fails("images_dir: images\n", "agent.yaml", "'images_dir'", "absolute", NULL);
    assert_load_fails("host_id_file: \"\"\n", "agent.yaml", "'host_id_file'", NULL);
    assert_load_fails("libvirt_uri: \"\"\n", "agent.yaml", "'libvirt_uri'", NULL);
}

static void
test_missing_file_names_path(void **state)
{
    (void)state;
    agt_conf_t c;
    cmn_err_reset();
    assert_int_equal(agt_conf_load(&c, "/nonexistent/agent.yaml"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), "/nonexistent/agent.yaml"));
    agt_conf_clear(&c);
}

int
main(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_file),
        cmocka_unit_test(test_defaults_from_comment_only_file),
        cmocka_unit_test(test_shipped_file_is_the_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_curve_keys),
        cmocka_unit_test(test_libvirt_uri_with_socket),
        cmocka_unit_test(test_errors_name_file_line_key),
        cmocka_unit_test(test_value_checks_name_key),
        cmocka_unit_test(test_missing_file_names_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
