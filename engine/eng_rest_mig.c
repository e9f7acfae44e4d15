/* REST resources of migration and scheduling: POST /vms/{id}/migrate and
 * /vms/{id}/cancelmigration, GET /jobs and /jobs/{id}, the VM's
 * "migration" progress, affinity groups under /clusters/{id}/affinitygroups
 * (list, add, show, change, remove; .../{gid}/vms adds or removes one VM),
 * and a cluster's scheduling_policy and migration settings. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_migrate.h"
#include "eng_sched.h"

CMN_LOG_INIT("eng.rest.mig");

#define JOBS_MAX 1000

/* ---- routing ------------------------------------------------------------- */

#define SEG_MAX 6

/* Split "/ovirt-engine/api/a/b/..." into at most SEG_MAX segments after the
 * base, each URL-decoded. Returns the count, or -1 if not under the base. */
static int s_segments(const char *path, char seg[SEG_MAX][ENG_NAME_LEN])
{
    size_t bl = strlen(ENG_REST_BASE);
    if (strncmp(path, ENG_REST_BASE, bl) != 0 || path[bl] != '/')
        return -1;
    const char *p = path + bl + 1;
    int n = 0;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == SEG_MAX || len == 0 || len >= ENG_NAME_LEN)
            return len == 0 && !e ? n : -1;
        char raw[ENG_NAME_LEN];
        memcpy(raw, p, len);
        raw[len] = '\0';
        char *dec = evhttp_uridecode(raw, 0, NULL);
        if (!dec)
            return -1;
        snprintf(seg[n++], ENG_NAME_LEN, "%s", dec);
        free(dec);
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

bool eng_rest_ext_route(const char *path, eng_route_t *out)
{
    char seg[SEG_MAX][ENG_NAME_LEN];
    int n = s_segments(path, seg);
    unsigned allowed = 0;
    if (n == 1 && strcmp(seg[0], "jobs") == 0)
        allowed = ENG_REST_GET;
    else if (n == 2 && strcmp(seg[0], "jobs") == 0)
        allowed = ENG_REST_GET;
    else if (n == 3 && strcmp(seg[0], "vms") == 0 &&
             strcmp(seg[2], "cancelmigration") == 0)
        allowed = ENG_REST_POST;
    else if (n == 3 && strcmp(seg[0], "clusters") == 0 &&
             strcmp(seg[2], "affinitygroups") == 0)
        allowed = ENG_REST_GET | ENG_REST_POST;
    else if (n == 4 && strcmp(seg[0], "clusters") == 0 &&
             strcmp(seg[2], "affinitygroups") == 0)
        allowed = ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE;
    else if (n == 5 && strcmp(seg[0], "clusters") == 0 &&
             strcmp(seg[2], "affinitygroups") == 0 &&
             strcmp(seg[4], "vms") == 0)
        allowed = ENG_REST_POST;
    else if (n == 6 && strcmp(seg[0], "clusters") == 0 &&
             strcmp(seg[2], "affinitygroups") == 0 &&
             strcmp(seg[4], "vms") == 0)
        allowed = ENG_REST_DELETE;
    if (!allowed)
        return false;
    memset(out, 0, sizeof(*out));
    out->kind = ENG_ROUTE_EXT;
    out->allowed = allowed;
    snprintf(out->id, sizeof(out->id), "%s", n >= 2 ? seg[1] : "");
    return true;
}

/* ---- VM actions ------------------------------------------------------------ */

void eng_rest_vm_migrate(eng_rest_call_t *call, const eng_vm_t *vm)
{
    char host_id[ENG_ID_LEN] = "", host_name[ENG_NAME_LEN] = "";
    if (eng_rest_parse_start(call->body, call->body_len, host_id,
                             host_name) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_ACTION);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    char job[ENG_ID_LEN] = "";
    if (eng_migrate_start(call->ctx, vm->id,
                          host_id[0] ? host_id : host_name, call->user.name,
                          eng_rest_pending_cb, p, job) < 0) {
        eng_rest_pending_drop(p);
        eng_rest_action_failed(call);
        return;
    }
    char href[128];
    snprintf(href, sizeof(href), ENG_REST_BASE "/jobs/%s", job);
    eng_rest_pending_set_extra(p, json_pack("{s:{s:s,s:s}}", "job", "id", job,
                                            "href", href));
    eng_rest_pending_started(call, p);
}

static void s_cancel(eng_rest_call_t *call)
{
    if (eng_rest_parse_action(call->body, call->body_len) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_ACTION);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    if (eng_migrate_cancel(call->ctx, call->route.id, call->user.name,
                           eng_rest_pending_cb, p) < 0) {
        eng_rest_pending_drop(p);
        eng_rest_action_failed(call);
        return;
    }
    eng_rest_pending_started(call, p);
}

void eng_rest_vm_add_migration(eng_ctx_t *ctx, const eng_vm_t *vm, json_t *o)
{
    json_t *m = eng_migrate_vm_json(ctx, vm->id);
    if (m && json_is_object(o))
        json_object_set_new(o, "migration", m);
    else
        json_decref(m);
}

/* ---- jobs ------------------------------------------------------------------ */

static void s_jobs(eng_rest_call_t *call, const char *id)
{
    if (id && *id) {
        eng_job_t j;
        if (eng_store_job_get(call->ctx->store, id, &j) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_rest_reply(call->req, 200, eng_migrate_job_json(call->ctx, &j));
        return;
    }
    int64_t max = 0;
    if (eng_rest_query_max(call->query, JOBS_MAX, 100, &max) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_job_t *jobs = NULL;
    size_t n = 0;
    if (eng_store_job_list(call->ctx->store, false, (size_t)max, &jobs,
                           &n) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, eng_migrate_job_json(call->ctx, &jobs[i]));
    free(jobs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "job", list));
}

/* ---- affinity groups --------------------------------------------------------- */

static json_t *s_group_json(const eng_affinity_t *g)
{
    char href[256];
    snprintf(href, sizeof(href), ENG_REST_BASE "/clusters/%s/affinitygroups/%s",
             g->cluster_id, g->id);
    json_t *vms = json_array();
    for (size_t i = 0; i < g->nvms; i++) {
        char vh[128];
        snprintf(vh, sizeof(vh), ENG_REST_BASE "/vms/%s", g->vms[i]);
        json_array_append_new(vms, json_pack("{s:s,s:s}", "id", g->vms[i],
                                             "href", vh));
    }
    char ch[128];
    snprintf(ch, sizeof(ch), ENG_REST_BASE "/clusters/%s", g->cluster_id);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:{s:o}}",
                     "id", g->id, "href", href, "name", g->name,
                     "positive", g->positive ? "true" : "false",
                     "enforcing", g->enforcing ? "true" : "false",
                     "cluster", "id", g->cluster_id, "href", ch,
                     "vms", "vm", vms);
}

/* A boolean given as true/false or "true"/"false". */
static int s_bool(json_t *root, const char *key, bool *out)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = strcmp(s, "true") == 0;
        return 0;
    }
    return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected true or false", key);
}

/* The VM named by `v` ({"id"} or {"name"}; `where` names it in errors):
 * its id into `id` and its name into `name`. -1 unless it exists in `cl`. */
static int s_member(eng_rest_call_t *call, const eng_cluster_t *cl,
                    const json_t *v, const char *where, char id[ENG_ID_LEN],
                    char name[ENG_NAME_LEN])
{
    const char *ref = json_string_value(json_object_get(v, "id"));
    if (!ref)
        ref = json_string_value(json_object_get(v, "name"));
    if (!ref)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': needs an id or a name",
                       where);
    eng_vm_t vm;
    if (eng_rest_find_vm(call->ctx->store, ref, &vm) < 0)
        return -1;
    if (strcmp(vm.cluster_id, cl->id) != 0)
        return CMN_ERR(CMN_ERR_INVALID, "VM %s is not in cluster %s", vm.name,
                       cl->name);
    snprintf(id, ENG_ID_LEN, "%s", vm.id);
    snprintf(name, ENG_NAME_LEN, "%s", vm.name);
    return 0;
}

static bool s_has_vm(const eng_affinity_t *g, const char *id)
{
    for (size_t i = 0; i < g->nvms; i++)
        if (strcmp(g->vms[i], id) == 0)
            return true;
    return false;
}

/* Fields of a POST (a new group into *g) or a PUT (`update`: *g holds the
 * group and takes the fields given; "vms" replaces the members). */
static int s_parse_group(eng_rest_call_t *call, const eng_cluster_t *cl,
                         bool update, eng_affinity_t *g)
{
    json_t *root = NULL;
    if (eng_rest_parse_object(call->body, call->body_len, false, &root) < 0)
        return -1;
    int rc = -1;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (strcmp(k, "name") && strcmp(k, "positive") &&
            strcmp(k, "enforcing") && strcmp(k, "vms") &&
            strcmp(k, "description")) {
            CMN_ERR(CMN_ERR_INVALID, "unknown field '%s' (known: name, "
                    "positive, enforcing, vms)", k);
            goto out;
        }
    }
    if (!update) {
        memset(g, 0, sizeof(*g));
        g->positive = false;
        g->enforcing = true;
    }
    json_t *jn = json_object_get(root, "name");
    const char *name = json_string_value(jn);
    if ((jn || !update) &&
        (!name || !cmn_str_printable(name, ENG_NAME_LEN - 1, "/"))) {
        CMN_ERR(CMN_ERR_INVALID, "field 'name' is %s: 1..%d printable "
                "characters without '/'", update ? "bad" : "required",
                ENG_NAME_LEN - 1);
        goto out;
    }
    if (name)
        snprintf(g->name, sizeof(g->name), "%s", name);
    if (s_bool(root, "positive", &g->positive) < 0 ||
        s_bool(root, "enforcing", &g->enforcing) < 0)
        goto out;
    json_t *vms = json_object_get(root, "vms");
    json_t *arr = json_is_object(vms) ? json_object_get(vms, "vm") : vms;
    if (vms && !json_is_array(arr)) {
        CMN_ERR(CMN_ERR_INVALID, "field 'vms': expected {\"vm\": [{\"id\"} "
                "or {\"name\"}, ...]}");
        goto out;
    }
    if (vms)
        g->nvms = 0;
    size_t i;
    json_array_foreach(arr, i, v) {
        char where[48], id[ENG_ID_LEN], vname[ENG_NAME_LEN];
        snprintf(where, sizeof(where), "vms.vm[%zu]", i);
        if (s_member(call, cl, v, where, id, vname) < 0)
            goto out;
        if (s_has_vm(g, id))
            continue;
        if (g->nvms >= ENG_AFF_MAX_VMS) {
            CMN_ERR(CMN_ERR_INVALID, "field 'vms': at most %d VMs",
                    ENG_AFF_MAX_VMS);
            goto out;
        }
        snprintf(g->vms[g->nvms++], ENG_ID_LEN, "%s", id);
    }
    if (!update) {
        cmn_uuid_generate(g->id);
        snprintf(g->cluster_id, sizeof(g->cluster_id), "%s", cl->id);
        g->created_ms = (int64_t)cmn_time_ms();
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* Store `g` and answer with it as stored (`code`); -1 if the store refused
 * (nothing answered). */
static int s_group_save(eng_rest_call_t *call, eng_affinity_t *g, int code)
{
    if (eng_store_affinity_update(call->ctx->store, g) < 0 ||
        eng_store_affinity_get(call->ctx->store, g->id, g) < 0)
        return -1;
    eng_rest_reply(call->req, code, s_group_json(g));
    return 0;
}

/* POST .../affinitygroups/{gid}/vms ({"id"|"name"}) and DELETE
 * .../vms/{vm}: one member more or less. */
static int s_group_member(eng_rest_call_t *call, const eng_cluster_t *cl,
                          eng_affinity_t *g, const char *vmref)
{
    char id[ENG_ID_LEN], name[ENG_NAME_LEN];
    bool add = call->method == ENG_REST_POST;
    if (add) {
        json_t *root = NULL;
        if (eng_rest_parse_object(call->body, call->body_len, false,
                                  &root) < 0)
            return -1;
        int rc = s_member(call, cl, root, "vm", id, name);
        json_decref(root);
        if (rc < 0)
            return -1;
        if (s_has_vm(g, id))
            return CMN_ERR(CMN_ERR_EXISTS, "VM %s is already in affinity "
                           "group %s", name, g->name);
        if (g->nvms >= ENG_AFF_MAX_VMS)
            return CMN_ERR(CMN_ERR_INVALID, "affinity group %s has %d VMs, "
                           "the most it may have", g->name, ENG_AFF_MAX_VMS);
        snprintf(g->vms[g->nvms++], ENG_ID_LEN, "%s", id);
    } else {
        eng_vm_t vm;
        if (eng_rest_find_vm(call->ctx->store, vmref, &vm) < 0)
            return -1;
        snprintf(name, sizeof(name), "%s", vm.name);
        size_t i = 0;
        while (i < g->nvms && strcmp(g->vms[i], vm.id) != 0)
            i++;
        if (i == g->nvms)
            return CMN_ERR(CMN_ERR_NOT_FOUND, "VM %s is not in affinity "
                           "group %s", vm.name, g->name);
        memmove(g->vms[i], g->vms[i + 1],
                (g->nvms - i - 1) * sizeof(g->vms[0]));
        g->nvms--;
    }
    if (s_group_save(call, g, add ? 201 : 200) < 0)
        return -1;
    eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_AFFINITY, NULL, NULL,
              call->user.name, "VM %s %s affinity group %s of cluster %s by "
              "%s", name, add ? "added to" : "removed from", g->name,
              cl->name, call->user.name);
    return 0;
}

/* GET/POST .../affinitygroups, GET/PUT/DELETE .../{gid}, and with `vms`
 * POST .../{gid}/vms and DELETE .../{gid}/vms/{vmref}. */
static void s_affinity(eng_rest_call_t *call, const char *gid, bool vms,
                       const char *vmref)
{
    eng_cluster_t cl;
    if (eng_rest_find_cluster(call->ctx->store, call->route.id, &cl) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_store_t *s = call->ctx->store;
    if (gid && *gid) {
        eng_affinity_t g;
        if (eng_store_affinity_get(s, gid, &g) < 0 ||
            strcmp(g.cluster_id, cl.id) != 0) {
            cmn_err_reset();
            CMN_ERR(CMN_ERR_NOT_FOUND, "affinity group '%s' not found in "
                    "cluster %s", gid, cl.name);
            eng_rest_reply_err(call->req);
            return;
        }
        if (vms) {
            if (s_group_member(call, &cl, &g, vmref) < 0)
                eng_rest_reply_err(call->req);
            return;
        }
        if (call->method == ENG_REST_PUT) {
            if (s_parse_group(call, &cl, true, &g) < 0 ||
                s_group_save(call, &g, 200) < 0) {
                eng_rest_reply_err(call->req);
                return;
            }
            eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_AFFINITY, NULL, NULL,
                      call->user.name, "Affinity group %s of cluster %s "
                      "updated by %s (%s, %s, %zu VMs)", g.name, cl.name,
                      call->user.name, g.positive ? "positive" : "negative",
                      g.enforcing ? "enforcing" : "soft", g.nvms);
            return;
        }
        if (call->method == ENG_REST_DELETE) {
            if (eng_store_affinity_delete(s, g.id) < 0) {
                eng_rest_reply_err(call->req);
                return;
            }
            eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_AFFINITY, NULL, NULL,
                      call->user.name, "Affinity group %s of cluster %s "
                      "removed by %s", g.name, cl.name, call->user.name);
            eng_rest_reply(call->req, 200, NULL);
            return;
        }
        eng_rest_reply(call->req, 200, s_group_json(&g));
        return;
    }
    if (call->method == ENG_REST_POST) {
        eng_affinity_t g;
        if (s_parse_group(call, &cl, false, &g) < 0 ||
            eng_store_affinity_insert(s, &g) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_AFFINITY, NULL, NULL,
                  call->user.name, "Affinity group %s (%s, %s, %zu VMs) added "
                  "to cluster %s by %s", g.name, g.positive ? "positive"
                  : "negative", g.enforcing ? "enforcing" : "soft", g.nvms,
                  cl.name, call->user.name);
        eng_rest_reply(call->req, 201, s_group_json(&g));
        return;
    }
    eng_affinity_t *gs = NULL;
    size_t n = 0;
    if (eng_store_affinity_list(s, cl.id, &gs, &n) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, s_group_json(&gs[i]));
    free(gs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "affinity_group", list));
}

void eng_rest_handle_ext(eng_rest_call_t *call)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(call->req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    char seg[SEG_MAX][ENG_NAME_LEN];
    int n = path ? s_segments(path, seg) : -1;
    if (n >= 1 && strcmp(seg[0], "jobs") == 0)
        s_jobs(call, n == 2 ? seg[1] : NULL);
    else if (n == 3 && strcmp(seg[0], "vms") == 0)
        s_cancel(call);
    else if (n >= 3 && strcmp(seg[0], "clusters") == 0)
        s_affinity(call, n >= 4 ? seg[3] : NULL, n >= 5,
                   n == 6 ? seg[5] : NULL);
    else {
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such path");
        eng_rest_reply_err(call->req);
    }
}

/* ---- cluster scheduling and migration settings -------------------------------- */

int eng_rest_cluster_sched_apply(eng_rest_call_t *call, const char *cluster_id)
{
    json_t *root = NULL;
    if (eng_rest_parse_object(call->body, call->body_len, true, &root) < 0)
        return -1;
    if (!root)
        return 0;
    eng_cluster_sched_t cs;
    int rc = -1;
    if (eng_store_cluster_sched_get(call->ctx->store, cluster_id, &cs) < 0)
        goto out;
    json_t *sp = json_object_get(root, "scheduling_policy");
    if (sp) {
        const char *name = json_string_value(json_object_get(sp, "name"));
        int kind = name ? eng_sched_kind_parse(name) : -1;
        if (!json_is_object(sp) || kind < 0) {
            CMN_ERR(CMN_ERR_INVALID, "field 'scheduling_policy.name': expected "
                    "none, evenly_distributed or power_saving");
            goto out;
        }
        snprintf(cs.policy, sizeof(cs.policy), "%s",
                 eng_sched_kind_name((eng_sched_kind_t)kind));
        /* Properties: {"property": [{"name", "value"}]}, oVirt's shape. */
        json_t *props = json_object_get(json_object_get(sp, "properties"),
                                        "property");
        json_t *out = json_object();
        eng_sched_policy_t pol;
        eng_sched_policy_init(&pol, (eng_sched_kind_t)kind);
        size_t i;
        json_t *pv;
        json_array_foreach(props, i, pv) {
            const char *k = json_string_value(json_object_get(pv, "name"));
            const char *v = json_string_value(json_object_get(pv, "value"));
            if (!k || !v || eng_sched_policy_set(&pol, k, v) < 0) {
                if (!k || !v)
                    CMN_ERR(CMN_ERR_INVALID, "field 'scheduling_policy."
                            "properties.property[%zu]': needs a name and a "
                            "value (strings)", i);
                json_decref(out);
                goto out;
            }
            json_object_set_new(out, k, json_string(v));
        }
        char *txt = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        if (!txt || strlen(txt) >= sizeof(cs.props)) {
            free(txt);
            CMN_ERR(CMN_ERR_INVALID, "field 'scheduling_policy.properties': "
                    "too long");
            goto out;
        }
        snprintf(cs.props, sizeof(cs.props), "%s", txt);
        free(txt);
    }
    json_t *mig = json_object_get(root, "migration");
    if (mig) {
        json_t *bw = json_object_get(json_object_get(mig, "bandwidth"),
                                     "custom_value");
        json_t *dt = json_object_get(mig, "max_downtime");
        int64_t v;
        char buf[32];
        if (bw) {
            const char *t = json_string_value(bw);
            if (!t && json_is_integer(bw)) {
                snprintf(buf, sizeof(buf), "%lld",
                         (long long)json_integer_value(bw));
                t = buf;
            }
            if (!t || cmn_parse_int64(t, 0, 1000000,
                                      "migration.bandwidth.custom_value "
                                      "(Mbit/s)", &v) < 0) {
                if (!t)
                    CMN_ERR(CMN_ERR_INVALID, "field 'migration.bandwidth."
                            "custom_value': expected a number of Mbit/s");
                goto out;
            }
            cs.bandwidth_mbps = v;
        }
        if (dt) {
            const char *t = json_string_value(dt);
            if (!t && json_is_integer(dt)) {
                snprintf(buf, sizeof(buf), "%lld",
                         (long long)json_integer_value(dt));
                t = buf;
            }
            if (!t || cmn_parse_int64(t, 0, 600000, "migration.max_downtime "
                                      "(ms)", &v) < 0) {
                if (!t)
                    CMN_ERR(CMN_ERR_INVALID, "field 'migration.max_downtime':"
                            " expected a number of milliseconds");
                goto out;
            }
            cs.max_downtime_ms = v;
        }
    }
    rc = eng_store_cluster_sched_set(call->ctx->store, cluster_id, &cs);
out:
    json_decref(root);
    return rc;
}

json_t *eng_rest_cluster_sched_json(eng_ctx_t *ctx, const eng_cluster_t *c)
{
    json_t *o = eng_rest_cluster_json(c);
    eng_cluster_sched_t cs;
    if (!o || eng_store_cluster_sched_get(ctx->store, c->id, &cs) < 0) {
        cmn_err_reset();
        return o;
    }
    json_t *props = json_loads(cs.props, 0, NULL);
    json_t *plist = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v)
        json_array_append_new(plist, json_pack("{s:s,s:s}", "name", k,
            "value", json_is_string(v) ? json_string_value(v) : ""));
    json_decref(props);
    json_object_set_new(o, "scheduling_policy", json_pack("{s:s,s:{s:o}}",
        "name", cs.policy, "properties", "property", plist));
    char bw[32], dt[32];
    snprintf(bw, sizeof(bw), "%lld", (long long)cs.bandwidth_mbps);
    snprintf(dt, sizeof(dt), "%lld", (long long)cs.max_downtime_ms);
    json_object_set_new(o, "migration", json_pack("{s:{s:s,s:s},s:s}",
        "bandwidth", "assignment_method", cs.bandwidth_mbps ? "custom"
        : "auto", "custom_value", bw, "max_downtime", dt));
    return o;
}
