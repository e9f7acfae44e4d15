/* The schema-driven YAML loader: values, defaults, and every error path with
 * the source:line and key it names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_conf.h"
#include "cmn_err.h"
#include "cmn_log.h"

typedef struct {
    char *engine;
    char *identity;
    int64_t stats_interval;
    int64_t api_port;
    char *api_listen;
    bool kvm;
    int log_level;
    int64_t deep;
} conf_t;

static const cmn_conf_key_t s_keys[] = {
    { "engine", CMN_CONF_STR, offsetof(conf_t, engine), 0, 0, true },
    { "identity", CMN_CONF_STR, offsetof(conf_t, identity), 0, 0, false },
    { "stats_interval", CMN_CONF_INT, offsetof(conf_t, stats_interval), 1, 3600, false },
    { "api.port", CMN_CONF_INT, offsetof(conf_t, api_port), 1, 65535, false },
    { "api.listen", CMN_CONF_STR, offsetof(conf_t, api_listen), 0, 0, false },
    { "kvm", CMN_CONF_BOOL, offsetof(conf_t, kvm), 0, 0, false },
    { "log_level", CMN_CONF_LEVEL, offsetof(conf_t, log_level), 0, 0, false },
    { "a.b.c", CMN_CONF_INT, offsetof(conf_t, deep), -5, 5, false },
    { NULL, 0, 0, 0, 0, false },
};

static void
defaults(conf_t *c)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(cmn_conf_set_str(&c->identity, "default-id"), 0);
    assert_int_equal(cmn_conf_set_str(&c->api_listen, "127.0.0.1"), 0);
    c->stats_interval = 15;
    c->api_port = 8080;
    c->kvm = true;
    c->log_level = CMN_LOG_INFO;
    c->deep = 1;
}

/* Load `yaml` into fresh defaults; returns the loader's result, leaves the
 * error recorded and *c filled for the caller (who frees it). */
static int
load(conf_t *c, const char *yaml)
{
    defaults(c);
    cmn_err_reset();
    return cmn_conf_load_data("test.yaml", yaml, strlen(yaml), s_keys, c);
}

/* Expect failure with CMN_ERR_CONFIG and a message containing `want`. */
static void
expect_error(const char *yaml, const char *want)
{
    conf_t c;
    int rc = load(&c, yaml);
    if (rc != -1 || cmn_err_code() != CMN_ERR_CONFIG || !strstr(cmn_err_msg(), want))
        fail_msg("yaml:\n%s\nwanted error containing \"%s\", got rc %d code %s: %s",
                 yaml, want, rc, cmn_code_name(cmn_err_code()), cmn_err_msg());
    cmn_conf_free_strings(s_keys, &c);
    assert_null(c.engine);
}

static void
test_values_and_defaults(void **state)
{
    (void)state;
    conf_t c;
    assert_int_equal(load(&c, "engine: tcp://127.0.0.1:5555\n"
                              "stats_interval: 5\n"
                              "api:\n"
                              "  port: 9090\n"
                              "kvm: no\n"
                              "log_level: debug\n"), 0);
    assert_string_equal(c.engine, "tcp://127.0.0.1:5555");
    assert_int_equal(c.stats_interval, 5);
    assert_int_equal(c.api_port, 9090);
    assert_false(c.kvm);
    assert_int_equal(c.log_level, CMN_LOG_DEBUG);
    /* Absent keys keep their defaults. */
    assert_string_equal(c.identity, "default-id");
    assert_string_equal(c.api_listen, "127.0.0.1");
    assert_int_equal(c.deep, 1);
    cmn_conf_free_strings(s_keys, &c);
    assert_null(c.engine);
    assert_null(c.identity);
}

static void
test_nested_and_dotted_forms(void **state)
{
    (void)state;
    conf_t c;
    assert_int_equal(load(&c, "engine: e\na:\n  b:\n    c: -5\napi: {listen: '::1', port: 1}\n"),
                     0);
    assert_int_equal(c.deep, -5);
    assert_string_equal(c.api_listen, "::1");
    assert_int_equal(c.api_port, 1);
    cmn_conf_free_strings(s_keys, &c);

    /* A dotted key written flat is the same key. */
    assert_int_equal(load(&c, "engine: e\napi.port: 443\n"), 0);
    assert_int_equal(c.api_port, 443);
    cmn_conf_free_strings(s_keys, &c);
}

static void
test_bool_spellings(void **state)
{
    (void)state;
    const char *t[] = { "true", "yes", "on", "True", "YES" };
    const char *f[] = { "false", "no", "off", "False" };
    char buf[64];
    conf_t c;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        snprintf(buf, sizeof(buf), "engine: e\nkvm: %s\n", t[i]);
        assert_int_equal(load(&c, buf), 0);
        assert_true(c.kvm);
        cmn_conf_free_strings(s_keys, &c);
    }
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        snprintf(buf, sizeof(buf), "engine: e\nkvm: %s\n", f[i]);
        assert_int_equal(load(&c, buf), 0);
        assert_false(c.kvm);
        cmn_conf_free_strings(s_keys, &c);
    }
}

static void
test_bad_yaml_syntax_names_line(void **state)
{
    (void)state;
    expect_error("engine: e\nstats_interval: 5\napi: [1, 2\n", "test.yaml:");
    expect_error("engine: e\nstats_interval: 5\napi: [1, 2\n", "invalid YAML");
    expect_error("engine: e\n  bad indent: x\n", "test.yaml:2:");
    expect_error("engine: \"unterminated\n", "invalid YAML");
    expect_error("engine: *nosuchanchor\n", "invalid YAML");
}

static void
test_unknown_key(void **state)
{
    (void)state;
    expect_error("engine: e\n\nengin: x\n", "test.yaml:3: unknown key 'engin'");
    expect_error("engine: e\nengin: x\n", "known: engine, identity, stats_interval, "
                                          "api, kvm, log_level, a");
    expect_error("engine: e\napi:\n  prot: 1\n", "test.yaml:3: unknown key 'api.prot'");
    expect_error("engine: e\napi:\n  prot: 1\n", "known: api.port, api.listen");
    expect_error("engine: e\na: {b: {d: 1}}\n", "unknown key 'a.b.d'");
    expect_error("engine: e\n? [1, 2]\n: x\n", "test.yaml:2: a key must be");
}

static void
test_wrong_type(void **state)
{
    (void)state;
    expect_error("engine: e\nstats_interval: fast\n",
                 "test.yaml:2: key 'stats_interval': 'fast' is not an integer");
    expect_error("engine: e\nstats_interval: 1.5\n", "is not an integer");
    expect_error("engine: e\nstats_interval: 0x10\n", "is not an integer");
    expect_error("engine: e\nstats_interval: ''\n", "is not an integer");
    expect_error("engine: e\nkvm: maybe\n", "test.yaml:2: key 'kvm': 'maybe' is not a boolean");
    expect_error("engine: e\nlog_level: loud\n",
                 "test.yaml:2: key 'log_level': 'loud' is not a log level");
    expect_error("engine: [a, b]\n", "test.yaml:1: key 'engine': expected a single value, "
                                     "got a list");
    expect_error("engine:\n  x: 1\n", "key 'engine': expected a single value, got a mapping");
    expect_error("engine: e\napi: 8080\n", "test.yaml:2: key 'api': expected a mapping");
    expect_error("engine:\n", "key 'engine': no value");
    expect_error("engine: ~\n", "key 'engine': no value");
    expect_error("- engine\n", "test.yaml:1: expected a mapping of keys at the top");
    expect_error("just a string\n", "expected a mapping of keys at the top, got a scalar");
}

static void
test_out_of_range(void **state)
{
    (void)state;
    expect_error("engine: e\nstats_interval: 0\n",
                 "test.yaml:2: key 'stats_interval': 0 is below the minimum 1");
    expect_error("engine: e\nstats_interval: 3601\n",
                 "key 'stats_interval': 3601 is above the maximum 3600");
    expect_error("engine: e\napi:\n  port: 70000\n",
                 "test.yaml:3: key 'api.port': 70000 is above the maximum 65535");
    expect_error("engine: e\nstats_interval: 99999999999999999999999\n",
                 "is above the maximum");
    expect_error("engine: e\nstats_interval: -99999999999999999999999\n",
                 "is below the minimum");
    expect_error("engine: e\na: {b: {c: -6}}\n", "key 'a.b.c': -6 is below the minimum -5");
}

static void
test_missing_required(void **state)
{
    (void)state;
    expect_error("stats_interval: 5\n", "test.yaml: key 'engine': required but missing");
    expect_error("", "key 'engine': required but missing");
    expect_error("# only a comment\n", "key 'engine': required but missing");
}

static void
test_duplicates(void **state)
{
    (void)state;
    expect_error("engine: a\nengine: b\n",
                 "test.yaml:2: key 'engine': duplicate (first at line 1)");
    expect_error("engine: a\napi:\n  port: 1\napi:\n  listen: x\n",
                 "test.yaml:4: key 'api': duplicate (first at line 2)");
    expect_error("engine: a\napi.port: 1\napi:\n  port: 2\n",
                 "test.yaml:4: key 'api.port': duplicate (first at line 2)");
}

static void
test_multiple_documents_rejected(void **state)
{
    (void)state;
    expect_error("engine: a\n---\nengine: b\n", "more than one YAML document");
}

static void
test_error_keeps_struct_freeable(void **state)
{
    (void)state;
    conf_t c;
    /* engine is set before the error on line 3. */
    assert_int_equal(load(&c, "engine: set\nidentity: new\nkvm: perhaps\n"), -1);
    assert_string_equal(c.engine, "set");
    cmn_conf_free_strings(s_keys, &c);
    assert_null(c.engine);
    assert_null(c.identity);
    assert_null(c.api_listen);
}

static void
test_nul_byte_and_size_limit(void **state)
{
    (void)state;
    conf_t c;
    defaults(&c);
    cmn_err_reset();
    const char yaml[] = "engine: a\0b\n";
    assert_int_equal(cmn_conf_load_data("nul.yaml", yaml, sizeof(yaml) - 1, s_keys, &c),
                     -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), "nul.yaml"));
    cmn_conf_free_strings(s_keys, &c);

    size_t big = 1024 * 1024 + 1;
    char *buf = malloc(big);
    memset(buf, '#', big);
    defaults(&c);
    cmn_err_reset();
    assert_int_equal(cmn_conf_load_data("big.yaml", buf, big, s_keys, &c), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), "big.yaml"));
    cmn_conf_free_strings(s_keys, &c);
    free(buf);
}

/* Regression: libyaml's scanner is quadratic in flow nesting, so a 1 MiB
 * "[[[[..." took over ten minutes to fail. Now refused at depth 65. */
static void
test_deep_nesting_refused_fast(void **state)
{
    (void)state;
    size_t n = 1024 * 1024 - 16;
    char *buf = malloc(n + 1);
    memcpy(buf, "engine: e\na: ", 13);
    memset(buf + 13, '[', n - 13);
    buf[n] = '\0';
    expect_error(buf, "test.yaml:2: nested deeper than 64 levels");
    for (size_t i = 13; i < n; i++)
        buf[i] = "{a: "[(i - 13) % 4];
    expect_error(buf, "nested deeper than 64 levels");
    free(buf);
}

static void
test_aliases(void **state)
{
    (void)state;
    conf_t c;
    assert_int_equal(load(&c, "engine: &e tcp://x\nidentity: *e\n"), 0);
    assert_string_equal(c.identity, "tcp://x");
    cmn_conf_free_strings(s_keys, &c);

    char *buf = malloc(64 * 1024);
    size_t used = (size_t)snprintf(buf, 64 * 1024, "engine: e\nx: [");
    for (int i = 0; i < 300; i++)
        used += (size_t)snprintf(buf + used, 64 * 1024 - used, "&a%d 1, ", i);
    snprintf(buf + used, 64 * 1024 - used, "]\n");
    expect_error(buf, "more than 256 anchors and aliases");
    free(buf);
}

static void
test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cmn_conf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yaml = "engine: tcp://x:1\nstats_interval: 2\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);

    conf_t c;
    defaults(&c);
    cmn_err_reset();
    assert_int_equal(cmn_conf_load_file(path, s_keys, &c), 0);
    assert_string_equal(c.engine, "tcp://x:1");
    assert_int_equal(c.stats_interval, 2);
    cmn_conf_free_strings(s_keys, &c);

    /* Errors name the file. */
    FILE *f = fopen(path, "w");
    fputs("engine: e\nstats_interval: 0\n", f);
    fclose(f);
    defaults(&c);
    cmn_err_reset();
    assert_int_equal(cmn_conf_load_file(path, s_keys, &c), -1);
    char want[128];
    snprintf(want, sizeof(want), "%s:2: key 'stats_interval'", path);
    assert_non_null(strstr(cmn_err_msg(), want));
    cmn_conf_free_strings(s_keys, &c);
    unlink(path);

    /* A missing file: CONFIG, naming the path and errno. */
    defaults(&c);
    cmn_err_reset();
    assert_int_equal(cmn_conf_load_file(path, s_keys, &c), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), path));
    assert_non_null(strstr(cmn_err_msg(), "No such file"));
    cmn_conf_free_strings(s_keys, &c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_defaults),
        cmocka_unit_test(test_nested_and_dotted_forms),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_bad_yaml_syntax_names_line),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_multiple_documents_rejected),
        cmocka_unit_test(test_error_keeps_struct_freeable),
        cmocka_unit_test(test_nul_byte_and_size_limit),
        cmocka_unit_test(test_deep_nesting_refused_fast),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
