/* REST handlers for the API root, data centers, clusters and events. */
#include "eng_rest_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("rest.inv");

#ifndef HERD_VERSION
#define HERD_VERSION "0.1.0"
#endif

/* Created resources: 201 with Location. */
static void
s_created(eng_rest_call_t *call, const char *coll, const char *id,
          json_t *body)
{
    char loc[512];
    snprintf(loc, sizeof(loc), ENG_REST_BASE "/%s/%s", coll, id);
    evhttp_add_header(evhttp_request_get_output_headers(call->req),
                      "Location", loc);
    eng_rest_reply(call->req, 201, body);
}

void
eng_rest_handle_root(eng_rest_call_t *call)
{
    eng_ctx_t *ctx = call->ctx;
    json_t *o = json_object();
    json_object_set_new(o, "product_info", json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "name", "Herd",
        "vendor", "Herd", "version", "full_version", HERD_VERSION,
        "major", "4", "minor", "5", "build", "0", "revision", "0"));
    json_object_set_new(o, "time", json_integer((json_int_t)cmn_time_ms()));
    json_object_set_new(o, "engine_id", json_string(ctx->engine_id));
    json_object_set_new(o, "start_time", json_integer(ctx->started_ms));
    static const char *const rels[] = { "datacenters", "clusters", "hosts",
                                        "vms", "events", "users" };
    static const bool searchable[] = { true, true, true, true, true, false };
    json_t *links = json_array();
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        char href[160], rel[64];
        snprintf(href, sizeof(href), ENG_REST_BASE "/%s", rels[i]);
        json_array_append_new(links, json_pack("{s:s, s:s}", "rel", rels[i],
                                               "href", href));
        if (!searchable[i])
            continue;
        snprintf(href, sizeof(href), ENG_REST_BASE "/%s?search={query}",
                 rels[i]);
        snprintf(rel, sizeof(rel), "%s/search", rels[i]);
        json_array_append_new(links, json_pack("{s:s, s:s}", "rel", rel,
                                               "href", href));
    }
    json_object_set_new(o, "link", links);
    json_object_set_new(o, "authenticated_user", json_pack(
        "{s:s, s:s, s:s}", "id", call->user.id, "user_name", call->user.name,
        "role", eng_role_name(call->user.role)));

    eng_vm_t *vms = NULL;
    eng_host_t *hosts = NULL;
    size_t nvms = 0, nhosts = 0;
    if (eng_store_vm_list(ctx->store, &vms, &nvms) < 0 ||
        eng_store_host_list(ctx->store, &hosts, &nhosts) < 0) {
        free(vms);
        json_decref(o);
        eng_rest_reply_err(call->req);
        return;
    }
    size_t vms_up = 0, hosts_up = 0;
    for (size_t i = 0; i < nvms; i++)
        vms_up += vms[i].status != ENG_VM_DOWN;
    for (size_t i = 0; i < nhosts; i++) {
        hosts_up += hosts[i].status == ENG_HOST_UP;
        eng_host_clear(&hosts[i]);
    }
    free(vms);
    free(hosts);
    json_t *sum = json_object();
    json_t *jv = json_object(), *jh = json_object();
    eng_rest_set_num(jv, "active", (int64_t)vms_up);
    eng_rest_set_num(jv, "total", (int64_t)nvms);
    eng_rest_set_num(jh, "active", (int64_t)hosts_up);
    eng_rest_set_num(jh, "total", (int64_t)nhosts);
    json_object_set_new(sum, "vms", jv);
    json_object_set_new(sum, "hosts", jh);
    json_object_set_new(o, "summary", sum);
    eng_rest_reply_as(call->req, 200, "api", o);
}

/* ---- data centers ------------------------------------------------------- */

static const char *const s_dc_fields[] = { "name", "id", "description",
                                           "status", NULL };

static const char *
s_dc_get(const void *obj, const char *field, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    const eng_dc_t *dc = obj;
    if (strcmp(field, "name") == 0)
        return dc->name;
    if (strcmp(field, "id") == 0)
        return dc->id;
    if (strcmp(field, "description") == 0)
        return dc->description;
    if (strcmp(field, "status") == 0)
        return "up";
    return NULL;
}

/* Filter `n` records of `elem` bytes by the call's ?search= and ?max=,
 * sorted by sortby; the selected pointers go to *sel (caller frees). */
static int
s_select(eng_rest_call_t *call, const char *const *fields,
         eng_search_get_fn get, void *arr, size_t n, size_t elem,
         const void ***sel, size_t *k)
{
    eng_search_t *search = NULL;
    int64_t max;
    *sel = NULL;
    *k = 0;
    if (eng_rest_query_search(call->query, fields, &search) < 0 ||
        eng_rest_query_max(call->query, INT32_MAX, INT32_MAX, &max) < 0) {
        eng_search_destroy(&search);
        return -1;
    }
    *sel = calloc(n ? n : 1, sizeof(**sel));
    if (!*sel) {
        eng_search_destroy(&search);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const void *obj = (const char *)arr + i * elem;
        if (eng_search_match(search, obj, get))
            (*sel)[(*k)++] = obj;
    }
    if (search)
        eng_search_sort(search, *sel, *k, get);
    if ((int64_t)*k > max)
        *k = (size_t)max;
    eng_search_destroy(&search);
    return 0;
}

static void
s_dc_list(eng_rest_call_t *call)
{
    eng_dc_t *dcs = NULL;
    const void **sel = NULL;
    size_t n = 0, k = 0;
    if (eng_store_dc_list(call->ctx->store, &dcs, &n) < 0 ||
        s_select(call, s_dc_fields, s_dc_get, dcs, n, sizeof(*dcs), &sel,
                 &k) < 0) {
        free(dcs);
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(list, eng_rest_dc_json(sel[i]));
    free(sel);
    free(dcs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "data_center", list));
}

void
eng_rest_handle_dcs(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    eng_dc_t dc;
    memset(&dc, 0, sizeof(dc));
    if (call->route.kind == ENG_ROUTE_DCS) {
        if (call->method != ENG_REST_POST) {
            s_dc_list(call);
            return;
        }
        if (eng_rest_parse_dc(call->body, call->body_len, false, &dc) < 0)
            goto fail;
        cmn_uuid_generate(dc.id);
        dc.created_ms = (int64_t)cmn_time_ms();
        if (eng_store_dc_insert(s, &dc) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_DC_ADDED, NULL, NULL,
                  call->user.name, "Data center %s added by %s", dc.name,
                  call->user.name);
        s_created(call, "datacenters", dc.id, eng_rest_dc_json(&dc));
        return;
    }
    if (eng_rest_find_dc(s, call->route.id, &dc) < 0)
        goto fail;
    if (call->method == ENG_REST_PUT) {
        if (eng_rest_parse_dc(call->body, call->body_len, true, &dc) < 0 ||
            eng_store_dc_update(s, &dc) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_DC_UPDATED, NULL, NULL,
                  call->user.name, "Data center %s updated by %s", dc.name,
                  call->user.name);
    } else if (call->method == ENG_REST_DELETE) {
        if (eng_store_dc_delete(s, dc.id) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_DC_REMOVED, NULL, NULL,
                  call->user.name, "Data center %s removed by %s", dc.name,
                  call->user.name);
        eng_rest_reply(call->req, 200, NULL);
        return;
    }
    eng_rest_reply(call->req, 200, eng_rest_dc_json(&dc));
    return;
fail:
    eng_rest_reply_err(call->req);
}

/* ---- clusters ----------------------------------------------------------- */

static const char *const s_cluster_fields[] = { "name", "id", "description",
    "datacenter", "cpu_type", NULL };

static const char *
s_cluster_get(const void *obj, const char *field, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    const eng_cluster_t *c = obj;
    if (strcmp(field, "name") == 0)
        return c->name;
    if (strcmp(field, "id") == 0)
        return c->id;
    if (strcmp(field, "description") == 0)
        return c->description;
    if (strcmp(field, "datacenter") == 0)
        return c->dc_id;
    if (strcmp(field, "cpu_type") == 0)
        return c->cpu_type;
    return NULL;
}

static void
s_cluster_list(eng_rest_call_t *call)
{
    eng_cluster_t *cs = NULL;
    const void **sel = NULL;
    size_t n = 0, k = 0;
    if (eng_store_cluster_list(call->ctx->store, &cs, &n) < 0 ||
        s_select(call, s_cluster_fields, s_cluster_get, cs, n, sizeof(*cs),
                 &sel, &k) < 0) {
        free(cs);
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(list, eng_rest_cluster_json(sel[i]));
    free(sel);
    free(cs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "cluster", list));
}

/* Resolve a cluster body's data center reference into c->dc_id. */
static int
s_cluster_dc(eng_store_t *s, const char *ref, eng_cluster_t *c)
{
    if (!ref[0])
        return 0;
    eng_dc_t dc;
    if (eng_rest_find_dc(s, ref, &dc) < 0)
        return -1;
    memcpy(c->dc_id, dc.id, sizeof(c->dc_id));
    return 0;
}

void
eng_rest_handle_clusters(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    eng_cluster_t c;
    char dc_ref[ENG_NAME_LEN];
    memset(&c, 0, sizeof(c));
    if (call->route.kind == ENG_ROUTE_CLUSTERS) {
        if (call->method != ENG_REST_POST) {
            s_cluster_list(call);
            return;
        }
        c.memory_overcommit = 100;
        if (eng_rest_parse_cluster(call->body, call->body_len, false, &c,
                                   dc_ref) < 0 ||
            s_cluster_dc(s, dc_ref[0] ? dc_ref : "Default", &c) < 0)
            goto fail;
        cmn_uuid_generate(c.id);
        c.created_ms = (int64_t)cmn_time_ms();
        if (eng_store_cluster_insert(s, &c) < 0 ||
            eng_rest_cluster_sched_apply(call, c.id) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_CLUSTER_ADDED, NULL, NULL,
                  call->user.name, "Cluster %s added by %s", c.name,
                  call->user.name);
        s_created(call, "clusters", c.id,
                  eng_rest_cluster_sched_json(call->ctx, &c));
        return;
    }
    if (eng_rest_find_cluster(s, call->route.id, &c) < 0)
        goto fail;
    if (call->method == ENG_REST_PUT) {
        if (eng_rest_parse_cluster(call->body, call->body_len, true, &c,
                                   dc_ref) < 0 ||
            s_cluster_dc(s, dc_ref, &c) < 0 ||
            eng_store_cluster_update(s, &c) < 0 ||
            eng_rest_cluster_sched_apply(call, c.id) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_CLUSTER_UPDATED, NULL,
                  NULL, call->user.name, "Cluster %s updated by %s", c.name,
                  call->user.name);
    } else if (call->method == ENG_REST_DELETE) {
        if (eng_store_cluster_delete(s, c.id) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_CLUSTER_REMOVED, NULL,
                  NULL, call->user.name, "Cluster %s removed by %s", c.name,
                  call->user.name);
        eng_rest_reply(call->req, 200, NULL);
        return;
    }
    eng_rest_reply(call->req, 200, eng_rest_cluster_sched_json(call->ctx, &c));
    return;
fail:
    eng_rest_reply_err(call->req);
}

/* ---- events ------------------------------------------------------------- */

static const char *const s_event_fields[] = { "id", "severity", "code",
    "host", "vm", "user", "description", "time", NULL };

static const char *
s_event_get(const void *obj, const char *field, char *buf, size_t size)
{
    const eng_event_t *ev = obj;
    if (strcmp(field, "id") == 0) {
        snprintf(buf, size, "%" PRId64, ev->id);
        return buf;
    }
    if (strcmp(field, "severity") == 0)
        return eng_severity_name(ev->severity);
    if (strcmp(field, "code") == 0) {
        snprintf(buf, size, "%d", ev->code);
        return buf;
    }
    if (strcmp(field, "time") == 0) {
        snprintf(buf, size, "%" PRId64, ev->time_ms);
        return buf;
    }
    if (strcmp(field, "host") == 0)
        return ev->host_id;
    if (strcmp(field, "vm") == 0)
        return ev->vm_id;
    if (strcmp(field, "user") == 0)
        return ev->user;
    if (strcmp(field, "description") == 0)
        return ev->description;
    return NULL;
}

void
eng_rest_handle_events(eng_rest_call_t *call)
{
    int64_t max, from = 0;
    char v[32];
    int have = eng_rest_query_get(call->query, "from", v, sizeof(v));
    eng_search_t *search = NULL;
    if (have < 0 ||
        (have == 1 && cmn_parse_int64(v, 0, INT64_MAX, "query parameter "
                                      "'from'", &from) < 0) ||
        eng_rest_query_max(call->query, ENG_REST_EVENTS_MAX,
                           ENG_REST_EVENTS_DEFAULT, &max) < 0 ||
        eng_rest_query_search(call->query, s_event_fields, &search) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_event_t *evs = NULL;
    size_t n = 0;
    /* With a search, look through the newest ENG_REST_EVENTS_MAX. */
    size_t fetch = search ? ENG_REST_EVENTS_MAX : (size_t)max;
    if (eng_store_event_list(call->ctx->store, from, fetch, true, &evs,
                             &n) < 0) {
        eng_search_destroy(&search);
        eng_rest_reply_err(call->req);
        return;
    }
    const void **sel = calloc(n ? n : 1, sizeof(*sel));
    size_t k = 0;
    for (size_t i = 0; sel && i < n; i++)
        if (eng_search_match(search, &evs[i], s_event_get))
            sel[k++] = &evs[i];
    if (sel && search)
        eng_search_sort(search, sel, k, s_event_get);
    json_t *list = json_array();
    for (size_t i = 0; sel && i < k && (int64_t)i < max; i++)
        json_array_append_new(list, eng_rest_event_json(sel[i]));
    free(sel);
    free(evs);
    eng_search_destroy(&search);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "event", list));
}
