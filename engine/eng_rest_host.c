/* REST handlers for /hosts: list, show, statistics, NICs and ping. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cmn_log.h"

CMN_LOG_INIT("rest.host");

/* VMs placed on `host_id` (total) and those of them not down (active). */
static void
s_count(const eng_vm_t *vms, size_t n, const char *host_id, int *active,
        int *total)
{
    *active = *total = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(vms[i].host_id, host_id) != 0)
            continue;
        (*total)++;
        if (vms[i].status != ENG_VM_DOWN)
            (*active)++;
    }
}

static const char *const s_host_fields[] = {
    "name", "id", "status", "address", "cluster", NULL };

/* Search fields of a host (eng_search_get_fn). */
static const char *
s_host_get(const void *obj, const char *field, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    const eng_host_t *h = obj;
    if (strcmp(field, "name") == 0)
        return h->name;
    if (strcmp(field, "id") == 0)
        return h->id;
    if (strcmp(field, "status") == 0)
        return eng_host_status_name(h->status);
    if (strcmp(field, "address") == 0)
        return h->address;
    if (strcmp(field, "cluster") == 0)
        return h->cluster_id;
    return NULL;
}

static void
s_list(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    eng_search_t *search = NULL;
    if (eng_rest_query_search(call->query, s_host_fields, &search) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_host_t *hosts = NULL;
    eng_vm_t *vms = NULL;
    const void **sel = NULL;
    size_t nh = 0, nv = 0, k = 0;
    if (eng_store_host_list(s, &hosts, &nh) < 0 ||
        eng_store_vm_list(s, &vms, &nv) < 0 ||
        !(sel = calloc(nh ? nh : 1, sizeof(*sel)))) {
        if (cmn_err_code() == CMN_OK)
            CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        eng_rest_reply_err(call->req);
        goto out;
    }
    for (size_t i = 0; i < nh; i++)
        if (eng_search_match(search, &hosts[i], s_host_get))
            sel[k++] = &hosts[i];
    if (search)
        eng_search_sort(search, sel, k, s_host_get);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++) {
        const eng_host_t *h = sel[i];
        int active, total;
        s_count(vms, nv, h->id, &active, &total);
        json_array_append_new(list, eng_rest_host_json(h, active, total));
    }
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "host", list));
out:
    for (size_t i = 0; i < nh; i++)
        eng_host_clear(&hosts[i]);
    free(hosts);
    free(vms);
    free(sel);
    eng_search_destroy(&search);
}

static void
s_show(eng_rest_call_t *call, const eng_host_t *h)
{
    eng_vm_t *vms = NULL;
    size_t nv = 0;
    if (eng_store_vm_list_by_host(call->ctx->store, h->id, &vms, &nv) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    int active, total;
    s_count(vms, nv, h->id, &active, &total);
    free(vms);
    eng_rest_reply(call->req, 200, eng_rest_host_json(h, active, total));
}

static void
s_ping(eng_rest_call_t *call, const eng_host_t *h)
{
    unsigned count;
    if (eng_rest_parse_ping(call->body, call->body_len, &count) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_PING);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    if (eng_host_ping(call->ctx, h->id, count, eng_rest_pending_cb, p) < 0) {
        eng_rest_pending_drop(p);
        cmn_code_t code = cmn_err_code();
        if (code == CMN_OK)
            code = CMN_ERR_INTERNAL;
        eng_rest_reply(call->req, eng_rest_http_status(code),
                       json_pack("{s:s, s:o}", "status", "failed", "fault",
                                 eng_rest_fault_json(code, cmn_err_msg())));
    }
    /* else: answered by eng_rest_pending_cb; p may already be gone. */
}

void
eng_rest_handle_hosts(eng_rest_call_t *call)
{
    if (call->route.kind == ENG_ROUTE_HOSTS) {
        s_list(call);
        return;
    }
    eng_host_t h;
    memset(&h, 0, sizeof(h));
    if (eng_rest_find_host(call->ctx->store, call->route.id, &h) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    switch (call->route.kind) {
    case ENG_ROUTE_HOST:
        s_show(call, &h);
        break;
    case ENG_ROUTE_HOST_STATS:
        eng_rest_reply(call->req, 200, eng_rest_stats_json(
            eng_stats_get(call->ctx->stats, h.id), "host", h.id));
        break;
    case ENG_ROUTE_HOST_NICS:
        eng_rest_reply(call->req, 200, eng_rest_host_nics_json(&h));
        break;
    case ENG_ROUTE_HOST_PING:
        s_ping(call, &h);
        break;
    default:
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such path");
        eng_rest_reply_err(call->req);
        break;
    }
    eng_host_clear(&h);
}
