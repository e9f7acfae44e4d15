/* herdctl datacenter/cluster bodies: the options each form takes and
 * where they go in the oVirt body, the usage errors naming the option, and
 * the merge of --policy-property with the cluster's current properties. */
#include "ctl_priv.h"
#include "test_helpers.h"

/* The body of `form` from `args` (NULL-terminated) as compact sorted JSON
 * (caller frees), or NULL with the error kept. */
static char *
body_argv(ctl_inv_form_t form, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] && argc < 31) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
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

/* body_argv of a NULL-terminated argument list. */
static char *
body_of(ctl_inv_form_t form, ...)
{
    const char *args[32];
    size_t n = 0;
    va_list ap;
    va_start(ap, form);
    while (n < 31 && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    return body_argv(form, args);
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
    static const struct {
        ctl_inv_form_t form;
        const char *args[5];
        const char *word;       /* the message names it */
    } bad[] = {
        { CTL_CLUSTER_UPDATE, { "web", "--overcommit", "lots" },
          "--overcommit" },
        { CTL_CLUSTER_CREATE, { "web", "--overcommit", "0" }, "--overcommit" },
        { CTL_CLUSTER_CREATE, { "web", "--overcommit", "1001" },
          "--overcommit" },
        { CTL_CLUSTER_UPDATE, { "web", "--policy", "fastest" }, "--policy" },
        { CTL_CLUSTER_UPDATE, { "web", "--policy-property", "HighUtilization" },
          "--policy-property" },
        { CTL_CLUSTER_UPDATE, { "web", "--policy-property", "=70" },
          "--policy-property" },
        { CTL_CLUSTER_UPDATE, { "web", "--migration-bandwidth", "1000001" },
          "--migration-bandwidth" },
        { CTL_CLUSTER_UPDATE, { "web", "--max-downtime", "-1" },
          "--max-downtime" },
        { CTL_CLUSTER_UPDATE, { "web", "--cpu-type" }, "--cpu-type" },
        { CTL_CLUSTER_UPDATE, { "web", "--name", "" }, "--name" },
        { CTL_CLUSTER_UPDATE, { "web", "--name", "\xff" }, "--name" },
        /* Options of other forms are unknown here. */
        { CTL_CLUSTER_CREATE, { "web", "--policy", "none" },
          "unknown option '--policy'" },
        { CTL_CLUSTER_CREATE, { "web", "--name", "x" }, "--name" },
        { CTL_CLUSTER_UPDATE, { "web", "--datacenter", "x" }, "--datacenter" },
        { CTL_DC_CREATE, { "east", "--cpu-type", "x" }, "--cpu-type" },
        { CTL_DC_UPDATE, { "east", "extra" }, "unexpected argument 'extra'" },
        { CTL_DC_UPDATE, { "east" }, "nothing to change" },
        { CTL_DC_CREATE, { NULL }, "datacenter create: missing" },
        { CTL_CLUSTER_CREATE, { "--overcommit", "5" },
          "cluster create: missing the NAME" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *got = body_argv(bad[i].form, bad[i].args);
        if (got)
            fail_msg("case %zu accepted: %s", i, got);
        assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
        if (!strstr(cmn_err_msg(), bad[i].word))
            fail_msg("case %zu: '%s' does not name '%s'", i, cmn_err_msg(),
                     bad[i].word);
    }
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
    OK(ctl_inv_sched_merge(b, c));
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
    OK(ctl_inv_sched_merge(b, c));
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
