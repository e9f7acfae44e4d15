/* herdctl inventory: data centers and clusters (list, show, create,
 * update, remove), a cluster's scheduling policy and migration settings.
 * The bodies are built by pure functions (tests/unit/test_ctl_inv.c). */
#include "ctl_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_err.h"
#include "cmn_util.h"

/* ---- bodies (pure) ------------------------------------------------------- */

/* Which forms take an option (bit per ctl_inv_form_t). */
#define F(x) (1u << (x))
#define F_DC (F(CTL_DC_CREATE) | F(CTL_DC_UPDATE))
#define F_CL (F(CTL_CLUSTER_CREATE) | F(CTL_CLUSTER_UPDATE))
#define F_UPD (F(CTL_DC_UPDATE) | F(CTL_CLUSTER_UPDATE))

typedef enum {
    S_TEXT,                     /* a string, may be empty */
    S_NAME,                     /* a string, not empty */
    S_REF,                      /* {"id": X} or {"name": X} */
    S_INT,                      /* an integer in [min, max] */
    S_POLICY,                   /* none | evenly_distributed | power_saving */
    S_PROP,                     /* NAME=VALUE, appended to a list */
} s_kind_t;

static const struct {
    const char *opt;
    const char *path;           /* dotted place in the body */
    s_kind_t kind;
    unsigned forms;
    uint64_t min, max;
} s_opts[] = {
    { "--name", "name", S_NAME, F_UPD, 0, 0 },
    { "--description", "description", S_TEXT, F_DC | F_CL, 0, 0 },
    { "--datacenter", "data_center", S_REF, F(CTL_CLUSTER_CREATE), 0, 0 },
    { "--cpu-type", "cpu.type", S_TEXT, F_CL, 0, 0 },
    { "--overcommit", "memory_policy.over_commit.percent", S_INT, F_CL, 1,
      1000 },
    { "--policy", "scheduling_policy.name", S_POLICY,
      F(CTL_CLUSTER_UPDATE), 0, 0 },
    { "--policy-property", "scheduling_policy.properties.property", S_PROP,
      F(CTL_CLUSTER_UPDATE), 0, 0 },
    { "--migration-bandwidth", "migration.bandwidth.custom_value", S_INT,
      F(CTL_CLUSTER_UPDATE), 0, 1000000 },
    { "--max-downtime", "migration.max_downtime", S_INT,
      F(CTL_CLUSTER_UPDATE), 0, 600000 },
};

#define NOPTS (sizeof(s_opts) / sizeof(s_opts[0]))

static const char *const s_policies[] = { "none", "evenly_distributed",
                                          "power_saving", NULL };

static const char *
s_form_cmd(ctl_inv_form_t form)
{
    switch (form) {
    case CTL_DC_CREATE: return "datacenter create";
    case CTL_DC_UPDATE: return "datacenter update";
    case CTL_CLUSTER_CREATE: return "cluster create";
    default: return "cluster update";
    }
}

/* The object at dotted `path` under `root` (made if missing), its last key
 * in *leaf. */
static json_t *
s_parent(json_t *root, const char *path, const char **leaf)
{
    char key[64];
    const char *dot;
    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        json_t *next = json_object_get(root, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(root, key, next);
        }
        root = next;
        path = dot + 1;
    }
    *leaf = path;
    return root;
}

/* A JSON string of `v`, or NULL with CMN_ERR_INVALID naming `opt`. */
static json_t *
s_text(const char *opt, const char *v, bool nonempty)
{
    json_t *j = json_string(v);
    if (!j)
        CMN_ERR(CMN_ERR_INVALID, "%s: not valid UTF-8", opt);
    else if (nonempty && !*v) {
        json_decref(j);
        j = NULL;
        CMN_ERR(CMN_ERR_INVALID, "%s: must not be empty", opt);
    }
    return j;
}

/* The body value of option k given `v`; NULL with the error recorded. */
static json_t *
s_value(size_t k, const char *v)
{
    const char *opt = s_opts[k].opt;
    switch (s_opts[k].kind) {
    case S_TEXT:
    case S_NAME:
        return s_text(opt, v, s_opts[k].kind == S_NAME);
    case S_REF: {
        json_t *ref = s_text(opt, v, true);
        return ref ? json_pack("{s:o}", cmn_uuid_valid(v) ? "id" : "name",
                               ref) : NULL;
    }
    case S_INT: {
        uint64_t n;
        if (ctl_parse_uint(v, opt, s_opts[k].min, s_opts[k].max, &n) < 0)
            return NULL;
        return json_integer((json_int_t)n);
    }
    case S_POLICY:
        for (size_t i = 0; s_policies[i]; i++)
            if (strcasecmp(v, s_policies[i]) == 0)
                return json_string(s_policies[i]);
        CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is not a scheduling policy (none, "
                "evenly_distributed or power_saving)", opt, v);
        return NULL;
    default: {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v) {
            CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is not NAME=VALUE", opt, v);
            return NULL;
        }
        json_t *name = json_stringn(v, (size_t)(eq - v));
        json_t *val = s_text(opt, eq + 1, false);
        if (!name || !val) {
            json_decref(name);
            json_decref(val);
            if (!name)
                CMN_ERR(CMN_ERR_INVALID, "%s: not valid UTF-8", opt);
            return NULL;
        }
        return json_pack("{s:o, s:o}", "name", name, "value", val);
    }
    }
}

int
ctl_inv_body(ctl_inv_form_t form, int argc, char **argv, json_t **body)
{
    const char *cmd = s_form_cmd(form);
    bool update = form == CTL_DC_UPDATE || form == CTL_CLUSTER_UPDATE;
    *body = NULL;
    if (argc < 1 || !argv[0][0] || argv[0][0] == '-')
        return CMN_ERR(CMN_ERR_INVALID, "%s: missing the %s", cmd,
                       update ? "ID or NAME" : "NAME");
    json_t *b = json_object();
    if (!update) {
        json_t *name = s_text("NAME", argv[0], true);
        if (!name)
            goto fail;
        json_object_set_new(b, "name", name);
    }
    for (int i = 1; i < argc; i++) {
        size_t k;
        const char *v = NULL;
        int r = 0;
        for (k = 0; k < NOPTS; k++) {
            if (!(s_opts[k].forms & F(form)))
                continue;
            if ((r = ctl_opt_value(argc, argv, &i, s_opts[k].opt, &v)) != 0)
                break;
        }
        if (r < 0)
            goto fail;
        if (k == NOPTS) {
            CMN_ERR(CMN_ERR_INVALID, "%s: %s '%s'", cmd, argv[i][0] == '-'
                    ? "unknown option" : "unexpected argument", argv[i]);
            goto fail;
        }
        json_t *val = s_value(k, v);
        if (!val)
            goto fail;
        const char *leaf;
        json_t *parent = s_parent(b, s_opts[k].path, &leaf);
        if (s_opts[k].kind == S_PROP) {
            json_t *list = json_object_get(parent, leaf);
            if (!list) {
                list = json_array();
                json_object_set_new(parent, leaf, list);
            }
            json_array_append_new(list, val);
        } else {
            json_object_set_new(parent, leaf, val);     /* a later one wins */
        }
    }
    if (update && json_object_size(b) == 0) {
        CMN_ERR(CMN_ERR_INVALID, "%s: nothing to change (see herdctl help)",
                cmd);
        goto fail;
    }
    *body = b;
    return 0;
fail:
    json_decref(b);
    return -1;
}

/* Index of property `name` in the oVirt list `props`, or -1. */
static int
s_prop_find(const json_t *props, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
        if (strcmp(ctl_jstr(p, "name"), name) == 0)
            return (int)i;
    return -1;
}

int
ctl_inv_sched_merge(json_t *body, const json_t *cur)
{
    json_t *sp = json_object_get(body, "scheduling_policy");
    if (!sp)
        return 0;
    if (!json_object_get(sp, "name")) {
        const char *name = ctl_jstr(cur, "scheduling_policy.name");
        json_object_set_new(sp, "name", json_string(*name ? name : "none"));
    }
    json_t *cprops = json_object_get(json_object_get(json_object_get(
        cur, "scheduling_policy"), "properties"), "property");
    json_t *given = json_object_get(json_object_get(sp, "properties"),
                                    "property");
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(cprops, i, p)
        if (s_prop_find(given, ctl_jstr(p, "name")) < 0)
            json_array_append(out, p);
    json_array_foreach(given, i, p) {
        int at = s_prop_find(out, ctl_jstr(p, "name"));
        if (at >= 0)            /* given twice: the later one wins */
            json_array_remove(out, (size_t)at);
        json_array_append(out, p);
    }
    /* NAME= (an empty value) drops the property. */
    for (i = json_array_size(out); i-- > 0;)
        if (!*ctl_jstr(json_array_get(out, i), "value"))
            json_array_remove(out, i);
    return json_object_set_new(sp, "properties",
                               json_pack("{s:o}", "property", out)) == 0
           ? 0 : CMN_ERR(CMN_ERR_NOMEM, "out of memory");
}

/* ---- commands ------------------------------------------------------------ */

/* One data center or cluster noun. */
typedef struct {
    const char *noun;           /* "datacenter" */
    const char *title;          /* "Data center" */
    const char *coll;           /* "datacenters" */
    ctl_inv_form_t create, update;
} s_noun_t;

static const s_noun_t s_dc = { "datacenter", "Data center", "datacenters",
                               CTL_DC_CREATE, CTL_DC_UPDATE };
static const s_noun_t s_cluster = { "cluster", "Cluster", "clusters",
                                    CTL_CLUSTER_CREATE, CTL_CLUSTER_UPDATE };

/* GET `path` quietly: the answer, or NULL (also on a fault). */
static json_t *
s_fetch(const ctl_opts_t *o, const char *path)
{
    ctl_resp_t r;
    cmn_err_reset();
    if (ctl_http(o, "GET", path, NULL, &r) < 0)
        return NULL;
    json_t *j = r.status < 400 && r.json ? json_incref(r.json) : NULL;
    ctl_resp_clear(&r);
    return j;
}

static void
s_dc_row(ctl_table_t *t, const json_t *dc, const void *ctx)
{
    char n[16];
    size_t i, count = 0;
    json_t *c;
    json_array_foreach(json_object_get(ctx, "cluster"), i, c)
        count += strcmp(ctl_jstr(c, "data_center.id"), ctl_jstr(dc, "id")) == 0;
    snprintf(n, sizeof(n), "%zu", count);
    const char *row[] = { ctl_jstr(dc, "name"), ctl_jstr(dc, "status"), n,
                          ctl_jstr(dc, "description"), ctl_jstr(dc, "id") };
    ctl_table_add(t, row);
}

static void
s_cluster_row(ctl_table_t *t, const json_t *c, const void *ctx)
{
    char pct[16];
    snprintf(pct, sizeof(pct), "%" PRId64 " %%",
             ctl_jint(c, "memory_policy.over_commit.percent"));
    const char *row[] = { ctl_jstr(c, "name"),
                          ctl_name_of(ctx, "data_center",
                                      ctl_jstr(c, "data_center.id")),
                          ctl_jstr(c, "cpu.type"), pct,
                          ctl_jstr(c, "description"), ctl_jstr(c, "id") };
    ctl_table_add(t, row);
}

static int
s_list(const ctl_opts_t *o, const s_noun_t *n)
{
    static const char *const dc_cols[] = { "NAME", "STATUS", "CLUSTERS",
                                           "DESCRIPTION", "ID" };
    static const char *const cl_cols[] = { "NAME", "DATACENTER", "CPU_TYPE",
                                           "OVERCOMMIT", "DESCRIPTION", "ID" };
    if (n == &s_dc)
        return ctl_list_ref(o, "/datacenters", "data_center", 5, dc_cols,
                            s_dc_row, "/clusters");
    return ctl_list_ref(o, "/clusters", "cluster", 6, cl_cols, s_cluster_row,
                        "/datacenters");
}

/* Append "SEP TEXT" to the list in buf (at *off; nothing once full). */
static void
s_append(char *buf, size_t size, size_t *off, const char *a, const char *b)
{
    if (*off >= size)
        return;
    int w = snprintf(buf + *off, size - *off, "%s%s%s%s", *off ? ", " : "",
                     a, *b ? "=" : "", b);
    *off += w > 0 ? (size_t)w : 0;
}

static void
s_show_dc(const ctl_opts_t *o, const json_t *dc)
{
    char when[40], names[1024] = "";
    ctl_kv("Name", "%s", ctl_jstr(dc, "name"));
    ctl_kv("ID", "%s", ctl_jstr(dc, "id"));
    ctl_kv("Status", "%s", ctl_jstr(dc, "status"));
    ctl_kv("Description", "%s", ctl_jstr(dc, "description"));
    ctl_time_local(ctl_jint(dc, "creation_time"), when, sizeof(when));
    ctl_kv("Created", "%s", when);
    json_t *cl = s_fetch(o, "/clusters");
    size_t off = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(cl, "cluster"), i, c)
        if (strcmp(ctl_jstr(c, "data_center.id"), ctl_jstr(dc, "id")) == 0)
            s_append(names, sizeof(names), &off, ctl_jstr(c, "name"), "");
    ctl_kv("Clusters", "%s", cl ? (off ? names : "(none)") : "?");
    json_decref(cl);
}

static void
s_show_cluster(const ctl_opts_t *o, const json_t *c)
{
    char when[40], path[1024], props[1024] = "", bw[32], dt[32];
    ctl_kv("Name", "%s", ctl_jstr(c, "name"));
    ctl_kv("ID", "%s", ctl_jstr(c, "id"));
    ctl_kv("Description", "%s", ctl_jstr(c, "description"));
    const char *dc_id = ctl_jstr(c, "data_center.id");
    json_t *dc = *dc_id ? s_fetch(o, ctl_item_path(path, sizeof(path),
                                                   "datacenters", dc_id))
                        : NULL;
    ctl_kv("Data center", "%s (%s)", dc ? ctl_jstr(dc, "name") : "?", dc_id);
    json_decref(dc);
    ctl_kv("CPU type", "%s", ctl_jstr(c, "cpu.type"));
    ctl_kv("Overcommit", "%" PRId64 " %% of host memory",
           ctl_jint(c, "memory_policy.over_commit.percent"));
    size_t off = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(json_object_get(
        c, "scheduling_policy"), "properties"), "property"), i, p)
        s_append(props, sizeof(props), &off, ctl_jstr(p, "name"),
                 ctl_jstr(p, "value"));
    ctl_kv("Policy", "%s (%s)", ctl_jstr(c, "scheduling_policy.name"),
           off ? props : "default properties");
    /* 0: the agent's defaults (libvirt's bandwidth, its max downtime). */
    int64_t v = ctl_jint(c, "migration.bandwidth.custom_value");
    if (v > 0)
        snprintf(bw, sizeof(bw), "%" PRId64 " Mbit/s", v);
    else
        snprintf(bw, sizeof(bw), "auto");
    v = ctl_jint(c, "migration.max_downtime");
    if (v > 0)
        snprintf(dt, sizeof(dt), "%" PRId64 " ms", v);
    else
        snprintf(dt, sizeof(dt), "default");
    ctl_kv("Migration", "bandwidth %s, max downtime %s", bw, dt);
    ctl_time_local(ctl_jint(c, "creation_time"), when, sizeof(when));
    ctl_kv("Created", "%s", when);
}

static int
s_show(const ctl_opts_t *o, const s_noun_t *n, const char *id)
{
    char path[1024];
    json_t *j;
    int rc = ctl_get(o, ctl_item_path(path, sizeof(path), n->coll, id), &j);
    if (rc || j == NULL)
        return rc;
    if (n == &s_dc)
        s_show_dc(o, j);
    else
        s_show_cluster(o, j);
    json_decref(j);
    return 0;
}

/* create, update or remove; `verb` says which. */
static int
s_write(const ctl_opts_t *o, const s_noun_t *n, const char *verb, int argc,
        char **argv)
{
    char path[1024], cmd[40];
    snprintf(cmd, sizeof(cmd), "%s %s", n->noun, verb);
    bool create = strcmp(verb, "create") == 0;
    bool remove = strcmp(verb, "remove") == 0;
    json_t *body = NULL, *j = NULL;
    int rc;
    cmn_err_reset();
    if (remove) {
        if ((rc = ctl_need_id(argc, argv, cmd)) ||
            (rc = ctl_extra(argc, argv, 1, cmd)))
            return rc;
    } else if (ctl_inv_body(create ? n->create : n->update, argc, argv,
                            &body) < 0) {
        return ctl_usage_error("%s", cmn_err_msg());
    }
    ctl_item_path(path, sizeof(path), n->coll, create ? NULL : argv[0]);
    if (json_object_get(body, "scheduling_policy")) {
        /* Keep the properties not given again (PUT replaces them all). */
        if ((rc = ctl_call(o, "GET", path, NULL, &j))) {
            json_decref(body);
            return rc;
        }
        ctl_inv_sched_merge(body, j);
        json_decref(j);
    }
    rc = ctl_send(o, create ? "POST" : remove ? "DELETE" : "PUT", path, body,
                  &j);
    if (rc || !j)
        return rc;
    if (create)
        printf("%s %s added (id %s)\n", n->title, ctl_jstr(j, "name"),
               ctl_jstr(j, "id"));
    else
        printf("%s %s %s\n", n->title, argv[0], remove ? "removed"
                                                       : "updated");
    json_decref(j);
    return 0;
}

static int
s_cmd(const ctl_opts_t *o, const s_noun_t *n, int argc, char **argv)
{
    if (argc < 1)
        return ctl_usage_error("%s: missing a verb (list, show, create, "
                               "update, remove)", n->noun);
    const char *verb = argv[0];
    char cmd[40];
    snprintf(cmd, sizeof(cmd), "%s %s", n->noun, verb);
    argc--;
    argv++;
    int rc;
    if (strcmp(verb, "list") == 0) {
        if ((rc = ctl_extra(argc, argv, 0, cmd)))
            return rc;
        return s_list(o, n);
    }
    if (strcmp(verb, "show") == 0) {
        if ((rc = ctl_need_id(argc, argv, cmd)) ||
            (rc = ctl_extra(argc, argv, 1, cmd)))
            return rc;
        return s_show(o, n, argv[0]);
    }
    if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0 ||
        strcmp(verb, "remove") == 0)
        return s_write(o, n, verb, argc, argv);
    return ctl_usage_error("%s: unknown verb '%s' (list, show, create, "
                           "update, remove)", n->noun, verb);
}

int
ctl_inv_cmd(const ctl_opts_t *o, const char *noun, int argc, char **argv)
{
    if (strcmp(noun, "datacenter") == 0 || strcmp(noun, "datacenters") == 0)
        return s_cmd(o, &s_dc, argc, argv);
    if (strcmp(noun, "cluster") == 0 || strcmp(noun, "clusters") == 0)
        return s_cmd(o, &s_cluster, argc, argv);
    return -1;
}
