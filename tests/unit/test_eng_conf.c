/* engine.yaml: defaults, the shipped file, and errors that name file:line
 * and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_conf.h"     /* after <stddef.h>: it needs size_t */
#include "test_helpers.h"

static int
load(eng_conf_t *c, const char *yaml)
{
    cmn_err_reset();
    return eng_conf_load_data(c, "test.yaml", yaml, strlen(yaml));
}

/* Loading `yaml` fails with CMN_ERR_CONFIG and a message holding every
 * one of the NULL-terminated fragments. */
static void
assert_load_fails(const char *yaml, ...)
{
    eng_conf_t c;
    assert_int_equal(load(&c, yaml), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    va_list ap;
    va_start(ap, yaml);
    test_err_has_all(ap);
    va_end(ap);
    eng_conf_clear(&c);     /* safe after a failure */
}

static void
assert_defaults(const eng_conf_t *c)
{
    assert_string_equal(c->state_dir, "/var/lib/herd-engine");
    assert_string_equal(c->database, "/var/lib/herd-engine/engine.db");
    assert_int_equal(c->log_level, CMN_LOG_INFO);
    assert_string_equal(c->log_filters, "");
    assert_string_equal(c->log_file, "");
    assert_string_equal(c->agents_listen, "tcp://0.0.0.0:54321");
    assert_int_equal(c->agents_max_message, 4 << 20);
    assert_int_equal(c->host_connecting_s, 6);
    assert_int_equal(c->host_nonresponsive_s, 20);
    assert_int_equal(c->request_timeout_s, 60);
    assert_true(c->agents_curve);
    assert_string_equal(c->agents_key_dir, "/var/lib/herd-engine/keys");
    assert_string_equal(c->agents_enrollment, "approve");
    assert_string_equal(c->api_listen, "127.0.0.1");
    assert_int_equal(c->api_port, 8443);
    assert_int_equal(c->api_max_body, 1 << 20);
    assert_true(c->api_tls);
    assert_string_equal(c->api_pki_dir, "/var/lib/herd-engine/pki");
    assert_string_equal(c->api_server_names, "");
    assert_string_equal(c->admin_password, "");
    assert_string_equal(c->admin_password_file, "");
    assert_int_equal(c->token_lifetime_s, 1800);
    assert_int_equal(c->vm_shutdown_timeout_s, 120);
    assert_int_equal(c->vm_reboot_timeout_s, 60);
    assert_string_equal(c->vm_firmware, "/usr/share/qemu/qboot.rom");
    assert_int_equal(c->events_keep_days, 30);
}

static void
test_defaults(void **state)
{
    (void)state;
    eng_conf_t c;
    cmn_err_reset();
    assert_int_equal(eng_conf_load(&c, NULL), 0);
    assert_defaults(&c);
    eng_conf_clear(&c);
    assert_null(c.state_dir);
    assert_null(c.database);
    eng_conf_clear(&c);     /* twice is fine */

    assert_int_equal(load(&c, ""), 0);
    assert_defaults(&c);
    eng_conf_clear(&c);
}

/* The shipped conf/engine.yaml parses and says exactly the defaults. */
static void
test_shipped_file_is_the_defaults(void **state)
{
    (void)state;
    eng_conf_t c;
    cmn_err_reset();
    if (eng_conf_load(&c, "conf/engine.yaml") < 0)
        fail_msg("conf/engine.yaml: %s", cmn_err_msg());
    assert_defaults(&c);
    eng_conf_clear(&c);
}

static void
test_every_key(void **state)
{
    (void)state;
    eng_conf_t c;
    const char *yaml =
        "state_dir: /srv/herd\n"
        "database: /data/herd.db\n"
        "log:\n"
        "  level: debug\n"
        "  filters: \"engine.*:debug\"\n"
        "  file: /var/log/herd/engine.log\n"
        "agents:\n"
        "  listen: tcp://127.0.0.1:6000\n"
        "  max_message_bytes: 65536\n"
        "  connecting_after: 3\n"
        "  nonresponsive_after: 9\n"
        "  request_timeout: 5\n"
        "api:\n"
        "  listen: 0.0.0.0\n"
        "  port: 0\n"
        "  max_body_bytes: 2048\n"
        "  tls: false\n"
        "  pki_dir: /srv/pki\n"
        "  server_names: \"engine.lab,10.0.0.1\"\n"
        "auth:\n"
        "  admin_password_file: /etc/herd/admin.pw\n"
        "  token_lifetime: 2\n"
        "vm:\n"
        "  shutdown_timeout: 7\n"
        "  reboot_timeout: 8\n"
        "  firmware: \"\"\n"
        "events:\n"
        "  keep_days: 0\n";
    if (load(&c, yaml) < 0)
        fail_msg("%s", cmn_err_msg());
    assert_string_equal(c.state_dir, "/srv/herd");
    assert_string_equal(c.database, "/data/herd.db");
    assert_int_equal(c.log_level, CMN_LOG_DEBUG);
    assert_string_equal(c.log_filters, "engine.*:debug");
    assert_string_equal(c.log_file, "/var/log/herd/engine.log");
    assert_string_equal(c.agents_listen, "tcp://127.0.0.1:6000");
    assert_int_equal(c.agents_max_message, 65536);
    assert_int_equal(c.host_connecting_s, 3);
    assert_int_equal(c.host_nonresponsive_s, 9);
    assert_int_equal(c.request_timeout_s, 5);
    assert_string_equal(c.api_listen, "0.0.0.0");
    assert_int_equal(c.api_port, 0);
    assert_int_equal(c.api_max_body, 2048);
    assert_false(c.api_tls);
    assert_string_equal(c.api_pki_dir, "/srv/pki");
    assert_string_equal(c.api_server_names, "engine.lab,10.0.0.1");
    assert_string_equal(c.admin_password, "");
    assert_string_equal(c.admin_password_file, "/etc/herd/admin.pw");
    assert_int_equal(c.token_lifetime_s, 2);
    assert_int_equal(c.vm_shutdown_timeout_s, 7);
    assert_int_equal(c.vm_reboot_timeout_s, 8);
    assert_string_equal(c.vm_firmware, "");
    assert_int_equal(c.events_keep_days, 0);
    eng_conf_clear(&c);
}

static void
test_port_follows_tls(void **state)
{
    (void)state;
    eng_conf_t c;
    assert_int_equal(load(&c, "api:\n  tls: false\n"), 0);
    assert_int_equal(c.api_port, 8080);
    eng_conf_clear(&c);
    assert_int_equal(load(&c, "api:\n  tls: true\n"), 0);
    assert_int_equal(c.api_port, 8443);
    eng_conf_clear(&c);
    assert_int_equal(load(&c, "api:\n  tls: false\n  port: 9000\n"), 0);
    assert_int_equal(c.api_port, 9000);
    eng_conf_clear(&c);
    assert_int_equal(load(&c, "state_dir: /tmp/z/\n"), 0);
    assert_string_equal(c.api_pki_dir, "/tmp/z/pki");
    eng_conf_clear(&c);
    assert_load_fails("auth:\n  admin_password: a\n"
                      "  admin_password_file: /b\n", "auth.admin_password",
                      "not both", NULL);
    assert_load_fails("auth:\n  token_lifetime: 0\n", "auth.token_lifetime",
                      NULL);
    assert_load_fails("api:\n  tls: maybe\n", "api.tls", NULL);
}

static void
test_database_follows_state_dir(void **state)
{
    (void)state;
    eng_conf_t c;
    assert_int_equal(load(&c, "state_dir: /tmp/x\n"), 0);
    assert_string_equal(c.database, "/tmp/x/engine.db");
    eng_conf_clear(&c);
    assert_int_equal(load(&c, "state_dir: /tmp/y/\ndatabase: \"\"\n"), 0);
    assert_string_equal(c.database, "/tmp/y/engine.db");
    eng_conf_clear(&c);
}

static void
test_agent_keys(void **state)
{
    (void)state;
    eng_conf_t c;
    assert_int_equal(load(&c, "state_dir: /tmp/x/\nagents:\n  curve: false\n"
                              "  enrollment: auto\n"), 0);
    assert_false(c.agents_curve);
    assert_string_equal(c.agents_key_dir, "/tmp/x/keys");
    assert_string_equal(c.agents_enrollment, "auto");
    eng_conf_clear(&c);
    assert_int_equal(load(&c, "agents:\n  key_dir: /etc/herd/keys\n"
                              "  enrollment: closed\n"), 0);
    assert_string_equal(c.agents_key_dir, "/etc/herd/keys");
    eng_conf_clear(&c);
    assert_load_fails("agents:\n  enrollment: open\n", "agents.enrollment",
                      "approve, closed, auto", NULL);
    assert_load_fails("agents:\n  curve: maybe\n", "agents.curve", NULL);
}

static void
test_bad_yaml_names_file_and_line(void **state)
{
    (void)state;
    assert_load_fails("api:\n  port: 80\n  listen: [1, 2\n", "test.yaml:", NULL);
    assert_load_fails("state_dir: /x\nagents:\n  listen: tcp://a:1\n"
                      "   bad indent: 1\n", "test.yaml:4", NULL);
    assert_load_fails("- a\n- b\n", "test.yaml:1", "mapping", NULL);
}

static void
test_unknown_key(void **state)
{
    (void)state;
    assert_load_fails("state_dir: /x\napi:\n  prot: 8080\n", "test.yaml:3",
                      "api.prot", NULL);
    assert_load_fails("databse: /x\n", "test.yaml:1", "databse", NULL);
}

static void
test_out_of_range(void **state)
{
    (void)state;
    assert_load_fails("api:\n  port: 65536\n", "test.yaml:2", "api.port",
                      "maximum 65535", NULL);
    assert_load_fails("api:\n  port: -1\n", "test.yaml:2", "api.port", NULL);
    assert_load_fails("api:\n  port: http\n", "api.port", "not an integer",
                      NULL);
    assert_load_fails("agents:\n  connecting_after: 0\n",
                      "agents.connecting_after", "minimum 1", NULL);
    assert_load_fails("agents:\n  max_message_bytes: 10\n",
                      "agents.max_message_bytes", NULL);
    assert_load_fails("events:\n  keep_days: 100000\n", "events.keep_days",
                      NULL);
    assert_load_fails("log:\n  level: loud\n", "test.yaml:2", "log.level",
                      NULL);
    /* checks across keys name the key and the source */
    assert_load_fails("agents:\n  connecting_after: 30\n"
                      "  nonresponsive_after: 20\n",
                      "test.yaml", "agents.nonresponsive_after", NULL);
    assert_load_fails("state_dir: relative/dir\n", "test.yaml", "state_dir",
                      "absolute", NULL);
    assert_load_fails("agents:\n  listen: 127.0.0.1:5\n", "agents.listen",
                      NULL);
    assert_load_fails("api:\n  listen: \"\"\n", "api.listen", "empty", NULL);
    assert_load_fails("state_dir:\n", "test.yaml:1", "state_dir", NULL);
}

static void
test_missing_file(void **state)
{
    (void)state;
    eng_conf_t c;
    cmn_err_reset();
    assert_int_equal(eng_conf_load(&c, "/nonexistent/engine.yaml"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), "/nonexistent/engine.yaml"));
    eng_conf_clear(&c);

    /* a real file with an error names its path and line */
    char path[] = "/tmp/test_eng_conf.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yaml = "api:\n  port: 8080\n\nvm:\n  reboot_timeout: 0\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    cmn_err_reset();
    assert_int_equal(eng_conf_load(&c, path), -1);
    char want[64];
    snprintf(want, sizeof(want), "%s:5", path);
    if (strstr(cmn_err_msg(), want) == NULL)
        fail_msg("error '%s' lacks '%s'", cmn_err_msg(), want);
    unlink(path);
    eng_conf_clear(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shipped_file_is_the_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_database_follows_state_dir),
        cmocka_unit_test(test_port_follows_tls),
        cmocka_unit_test(test_agent_keys),
        cmocka_unit_test(test_bad_yaml_names_file_and_line),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
