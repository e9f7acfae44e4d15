/* herdctl datacenter/cluster bodies: the options each form takes and
 * where they go in the oVirt body, the usage errors naming the option, and
 * the merge of --policy-property with the cluster's current properties. */
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

/* Build the body of `form` from a NULL-terminated argument list; the body
 * as compact sorted JSON (caller frees), or NULL with the error kept. */
static char *
body_of(ctl_inv_form_t form, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, form);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    json_t *b = NULL;
    cmn_err_reset();
    if (ctl_inv_body(form, argc, argv, &b) < 0) {
        assert_null(b);
        return NULL;
    }
    char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    return s;
}

static void
expect_body(char *got, const char *want)
{
    if (!got)
        fail_msg("refused: %s", cmn_err_msg());
    if (strcmp(got, want) != 0)
        fail_msg("body\n  %s\nexpected\n  %s", got, want);
    free(got);
}

static void
expect_err(char *got, const char *word)
{
    if (got)
        fail_msg("accepted: %s", got);
    if (cmn_err_code() != CMN_ERR_INVALID)
        fail_msg("expected invalid, got %s: %s", cmn_code_name(cmn_err_code()),
                 cmn_err_msg());
    if (!strstr(cmn_err_msg(), word))
        fail_msg("message '%s' does not name '%s'", cmn_err_msg(), word);
}

static void
test_dc_bodies(void **state)
{
    (void)state;
    expect_body(body_of(CTL_DC_CREATE, "east", NULL), "{\"name\":\"east\"}");
    expect_body(body_of(CTL_DC_CREATE, "east", "--description", "a b", NULL),
                "{\"description\":\"a b\",\"name\":\"east\"}");
    expect_body(body_of(CTL_DC_UPDATE, "east", "--name=west", NULL),
                "{\"name\":\"west\"}");
    /* An empty description clears it; a later option wins. */
    expect_body(body_of(CTL_DC_UPDATE, "east", "--description", "x",
                        "--description", "", NULL),
                "{\"description\":\"\"}");
}

static void
test_cluster_bodies(void **state)
{
    (void)state;
    expect_body(body_of(CTL_CLUSTER_CREATE, "web", "--datacenter", "east",
                        "--cpu-type", "Intel Skylake Family",
                        "--overcommit", "150", NULL),
                "{\"cpu\":{\"type\":\"Intel Skylake Family\"},"
                "\"data_center\":{\"name\":\"east\"},"
                "\"memory_policy\":{\"over_commit\":{\"percent\":150}},"
                "\"name\":\"web\"}");
    expect_body(body_of(CTL_CLUSTER_CREATE, "web", "--datacenter",
                        "8b1c6f0e-2f43-4f6c-9d2a-0a1b2c3d4e5f", NULL),
                "{\"data_center\":{\"id\":"
                "\"8b1c6f0e-2f43-4f6c-9d2a-0a1b2c3d4e5f\"},\"name\":\"web\"}");
    expect_body(body_of(CTL_CLUSTER_UPDATE, "web", "--policy",
                        "Evenly_Distributed", "--policy-property",
                        "HighUtilization=70", "--policy-property",
                        "LowUtilization=", "--migration-bandwidth", "500",
                        "--max-downtime", "300", NULL),
                "{\"migration\":{\"bandwidth\":{\"custom_value\":500},"
                "\"max_downtime\":300},\"scheduling_policy\":{\"name\":"
                "\"evenly_distributed\",\"properties\":{\"property\":["
                "{\"name\":\"HighUtilization\",\"value\":\"70\"},"
                "{\"name\":\"LowUtilization\",\"value\":\"\"}]}}}");
    expect_body(body_of(CTL_CLUSTER_UPDATE, "web", "--migration-bandwidth",
                        "0", NULL),
                "{\"migration\":{\"bandwidth\":{\"custom_value\":0}}}");
}

static void
test_errors(void **state)
{
    (void)state;
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--overcommit", "lots",
                       NULL), "--overcommit");
    expect_err(body_of(CTL_CLUSTER_CREATE, "web", "--overcommit", "0", NULL),
               "--overcommit");
    expect_err(body_of(CTL_CLUSTER_CREATE, "web", "--overcommit", "1001",
                       NULL), "--overcommit");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--policy", "fastest",
                       NULL), "--policy");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--policy-property",
                       "HighUtilization", NULL), "--policy-property");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--policy-property",
                       "=70", NULL), "--policy-property");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--migration-bandwidth",
                       "1000001", NULL), "--migration-bandwidth");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--max-downtime", "-1",
                       NULL), "--max-downtime");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--cpu-type", NULL),
               "--cpu-type");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--name", "", NULL),
               "--name");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--name", "\xff", NULL),
               "--name");
    /* Options of other forms are unknown here. */
    expect_err(body_of(CTL_CLUSTER_CREATE, "web", "--policy", "none", NULL),
               "unknown option '--policy'");
    expect_err(body_of(CTL_CLUSTER_CREATE, "web", "--name", "x", NULL),
               "--name");
    expect_err(body_of(CTL_CLUSTER_UPDATE, "web", "--datacenter", "x", NULL),
               "--datacenter");
    expect_err(body_of(CTL_DC_CREATE, "east", "--cpu-type", "x", NULL),
               "--cpu-type");
    expect_err(body_of(CTL_DC_UPDATE, "east", "extra", NULL),
               "unexpected argument 'extra'");
    expect_err(body_of(CTL_DC_UPDATE, "east", NULL), "nothing to change");
    expect_err(body_of(CTL_DC_CREATE, NULL), "datacenter create: missing");
    expect_err(body_of(CTL_CLUSTER_CREATE, "--overcommit", "5", NULL),
               "cluster create: missing the NAME");
}

/* Merge `given` (an update body) with the cluster `cur`; the properties as
 * "A=1,B=2" in order, and the policy name. */
static void
merge(const char *given, const char *cur, const char *want_name,
      const char *want_props)
{
    json_t *b = json_loads(given, 0, NULL), *c = json_loads(cur, 0, NULL);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(ctl_inv_sched_merge(b, c), 0);
    assert_string_equal(ctl_jstr(b, "scheduling_policy.name"), want_name);
    char got[256] = "";
    size_t off = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(json_object_get(
        b, "scheduling_policy"), "properties"), "property"), i, p)
        off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s=%s",
                                off ? "," : "", ctl_jstr(p, "name"),
                                ctl_jstr(p, "value"));
    assert_string_equal(got, want_props);
    json_decref(b);
    json_decref(c);
}

static void
test_merge(void **state)
{
    (void)state;
    const char *cur = "{\"name\": \"web\", \"scheduling_policy\": {\"name\": "
        "\"power_saving\", \"properties\": {\"property\": ["
        "{\"name\": \"HighUtilization\", \"value\": \"70\"},"
        "{\"name\": \"LowUtilization\", \"value\": \"10\"}]}}}";
    /* A property alone: the current name and the other properties stay. */
    merge("{\"scheduling_policy\": {\"properties\": {\"property\": ["
          "{\"name\": \"HighUtilization\", \"value\": \"90\"}]}}}", cur,
          "power_saving", "LowUtilization=10,HighUtilization=90");
    /* A new policy keeps the properties; NAME= drops one. */
    merge("{\"scheduling_policy\": {\"name\": \"evenly_distributed\", "
          "\"properties\": {\"property\": [{\"name\": \"LowUtilization\", "
          "\"value\": \"\"}]}}}", cur, "evenly_distributed",
          "HighUtilization=70");
    merge("{\"scheduling_policy\": {\"name\": \"none\"}}", cur, "none",
          "HighUtilization=70,LowUtilization=10");
    /* Given twice: the later one. No current policy: none. */
    merge("{\"scheduling_policy\": {\"properties\": {\"property\": ["
          "{\"name\": \"HighUtilization\", \"value\": \"60\"},"
          "{\"name\": \"HighUtilization\", \"value\": \"65\"}]}}}",
          "{\"name\": \"x\"}", "none", "HighUtilization=65");
    /* No scheduling_policy in the body: nothing is added. */
    json_t *b = json_pack("{s:s}", "name", "new"), *c = json_loads(cur, 0,
                                                                   NULL);
    assert_int_equal(ctl_inv_sched_merge(b, c), 0);
    assert_null(json_object_get(b, "scheduling_policy"));
    json_decref(b);
    json_decref(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dc_bodies),
        cmocka_unit_test(test_cluster_bodies),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
