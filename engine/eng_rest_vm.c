/* REST handlers for /vms: list, create, show, update, remove, statistics
 * and actions. Every change goes through eng_ops.h; reads come from the
 * store and the in-memory statistics. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cmn_log.h"

CMN_LOG_INIT("rest.vm");

static const char *const s_vm_fields[] = {
    "name", "id", "status", "description", "memory", "cluster", "host",
    "origin", NULL };

/* A VM with the names of its host and cluster, for search: oVirt's
 * `host=` and `cluster=` take names. */
typedef struct {
    const eng_vm_t *vm;
    const char *host;
    const char *cluster;
} s_row_t;

/* Search fields of a VM row (eng_search_get_fn). */
static const char *
s_vm_get(const void *obj, const char *field, char *buf, size_t size)
{
    const s_row_t *row = obj;
    const eng_vm_t *vm = row->vm;
    if (strcmp(field, "name") == 0)
        return vm->name;
    if (strcmp(field, "id") == 0)
        return vm->id;
    if (strcmp(field, "status") == 0)
        return eng_vm_status_name(vm->status);
    if (strcmp(field, "description") == 0)
        return vm->description;
    if (strcmp(field, "memory") == 0) {
        snprintf(buf, size, "%llu", (unsigned long long)vm->memory_bytes);
        return buf;
    }
    if (strcmp(field, "cluster") == 0)
        return row->cluster;
    if (strcmp(field, "host") == 0)
        return vm->status != ENG_VM_DOWN ? row->host : "";
    if (strcmp(field, "origin") == 0)
        return vm->external ? "external" : "herd";
    return NULL;
}

static bool
s_owned(char (*owned)[ENG_ID_LEN], size_t n, const char *id)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(owned[j], id) == 0)
            return true;
    return false;
}

/* What the streaming walk over the VMs needs. */
typedef struct {
    eng_rest_call_t *call;
    eng_search_t *search;
    eng_host_t *hosts;
    size_t nh;
    eng_cluster_t *cls;
    size_t nc;
    char (*owned)[ENG_ID_LEN];
    size_t nowned;
    int64_t max;
    size_t count;
    eng_rest_lw_t *w;           /* streaming: render at once */
    eng_vm_t *keep;             /* sorting: matches kept here */
    size_t nkeep, capkeep;
} s_walk_t;

static void
s_names(const s_walk_t *wk, const eng_vm_t *vm, s_row_t *r)
{
    r->vm = vm;
    r->host = r->cluster = "";
    if (!wk->search)
        return;
    for (size_t j = 0; j < wk->nh; j++)
        if (strcmp(wk->hosts[j].id, vm->host_id) == 0)
            r->host = wk->hosts[j].name;
    for (size_t j = 0; j < wk->nc; j++)
        if (strcmp(wk->cls[j].id, vm->cluster_id) == 0)
            r->cluster = wk->cls[j].name;
}

static int
s_walk(const eng_vm_t *vm, void *opaque)
{
    s_walk_t *wk = opaque;
    if (wk->call->filter && !s_owned(wk->owned, wk->nowned, vm->id))
        return 0;
    s_row_t r;
    s_names(wk, vm, &r);
    if (!eng_search_match(wk->search, &r, s_vm_get))
        return 0;
    if (wk->w) {
        if ((int64_t)wk->count >= wk->max)
            return 1;           /* enough: stop the walk */
        wk->count++;
        return eng_rest_lw_add_vm(wk->w, vm) < 0 ? -1 : 0;
    }
    if (wk->nkeep == wk->capkeep) {
        size_t cap = wk->capkeep ? wk->capkeep * 2 : 64;
        eng_vm_t *p = realloc(wk->keep, cap * sizeof(*p));
        if (!p)
            return CMN_ERR(CMN_ERR_NOMEM, "out of memory sorting VMs");
        wk->keep = p;
        wk->capkeep = cap;
    }
    wk->keep[wk->nkeep] = *vm;
    wk->nkeep++;
    return 0;
}

/* GET /vms: without sortby the VMs are rendered as the store yields them
 * (one record in memory); with sortby the matches are kept and sorted. */
static void
s_list(eng_rest_call_t *call)
{
    eng_store_t *st = call->ctx->store;
    s_walk_t wk = { .call = call };
    s_row_t *rows = NULL;
    const void **sel = NULL;
    if (eng_rest_query_search(call->query, s_vm_fields, &wk.search) < 0 ||
        eng_rest_query_max(call->query, INT32_MAX, INT32_MAX, &wk.max) < 0 ||
        eng_store_host_list(st, &wk.hosts, &wk.nh) < 0 ||
        eng_store_cluster_list(st, &wk.cls, &wk.nc) < 0 ||
        (call->filter && eng_store_vm_owned(st, call->user.id, &wk.owned,
                                            &wk.nowned) < 0))
        goto fail;
    bool sorted = wk.search && wk.search->sortby;
    if (!sorted && !(wk.w = eng_rest_lw_new(call->req, "vm")))
        goto fail;
    if (eng_store_vm_foreach(st, s_walk, &wk) < 0)
        goto fail;
    if (!sorted) {
        eng_rest_lw_send(&wk.w);
        goto out;
    }
    rows = calloc(wk.nkeep ? wk.nkeep : 1, sizeof(*rows));
    sel = calloc(wk.nkeep ? wk.nkeep : 1, sizeof(*sel));
    if (!rows || !sel) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < wk.nkeep; i++) {
        s_names(&wk, &wk.keep[i], &rows[i]);
        sel[i] = &rows[i];
    }
    eng_search_sort(wk.search, sel, wk.nkeep, s_vm_get);
    size_t k = (int64_t)wk.nkeep > wk.max ? (size_t)wk.max : wk.nkeep;
    for (size_t i = 0; i < k; i++)
        sel[i] = ((const s_row_t *)sel[i])->vm;
    eng_rest_reply_list(call->req, "vm", sel, k,
                        (json_t *(*)(const void *))eng_rest_vm_json);
    goto out;
fail:
    eng_rest_lw_abort(&wk.w);
    eng_rest_reply_err(call->req);
out:
    for (size_t i = 0; i < wk.nh; i++)
        eng_host_clear(&wk.hosts[i]);
    free(wk.hosts);
    free(wk.cls);
    free(wk.owned);
    free(wk.keep);
    free(rows);
    free(sel);
    eng_search_destroy(&wk.search);
}

static void
s_create(eng_rest_call_t *call)
{
    eng_rest_vm_body_t *b = calloc(1, sizeof(*b));
    eng_vm_t *vm = calloc(1, sizeof(*vm));
    if (!b || !vm) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (eng_rest_parse_vm(call->body, call->body_len, false, b) < 0)
        goto fail;
    vm->sockets = vm->cores = vm->threads = 1;
    if (eng_rest_vm_apply(call->ctx->store, b, vm) < 0)
        goto fail;
    if (eng_vm_create(call->ctx, vm, call->user.name) < 0)
        goto fail;
    CMN_INFO("created VM %s (%s) for %s", vm->name, vm->id, call->user.name);
    if (eng_store_vm_set_owner(call->ctx->store, vm->id, call->user.id) < 0) {
        CMN_WARN("VM %s: cannot record its owner: %s", vm->name,
                 cmn_err_msg());
        cmn_err_reset();
    }
    char loc[512];
    const char *host = evhttp_find_header(
        evhttp_request_get_input_headers(call->req), "Host");
    if (host && strlen(host) < 256 && !strpbrk(host, "\r\n"))
        snprintf(loc, sizeof(loc), "http://%s" ENG_REST_BASE "/vms/%s",
                 host, vm->id);
    else
        snprintf(loc, sizeof(loc), ENG_REST_BASE "/vms/%s", vm->id);
    evhttp_add_header(evhttp_request_get_output_headers(call->req),
                      "Location", loc);
    eng_rest_reply(call->req, 201, eng_rest_vm_json(vm));
    free(b);
    free(vm);
    return;
fail:
    eng_rest_reply_err(call->req);
    free(b);
    free(vm);
}

static void
s_update(eng_rest_call_t *call, eng_vm_t *vm)
{
    eng_rest_vm_body_t *b = calloc(1, sizeof(*b));
    if (!b) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (eng_rest_parse_vm(call->body, call->body_len, true, b) < 0 ||
        eng_rest_vm_apply(call->ctx->store, b, vm) < 0 ||
        eng_vm_update(call->ctx, vm, call->user.name) < 0)
        goto fail;
    free(b);
    /* Show what was stored (the operation may have normalised fields). */
    char id[ENG_ID_LEN];
    memcpy(id, vm->id, sizeof(id));
    if (eng_store_vm_get(call->ctx->store, id, vm) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_reply(call->req, 200, eng_rest_vm_json(vm));
    return;
fail:
    free(b);
    eng_rest_reply_err(call->req);
}

static void
s_remove(eng_rest_call_t *call, const eng_vm_t *vm)
{
    if (eng_rest_parse_action(call->body, call->body_len) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_REMOVE);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    if (eng_vm_remove(call->ctx, vm->id, call->user.name, eng_rest_pending_cb,
                      p) < 0) {
        eng_rest_pending_drop(p);
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_started(call, p);
}

static void
s_action(eng_rest_call_t *call, const eng_vm_t *vm)
{
    eng_rest_act_t act = call->route.action;
    char host_id[ENG_ID_LEN] = "", host_name[ENG_NAME_LEN] = "";
    if (act == ENG_REST_ACT_START) {
        if (eng_rest_parse_start(call->body, call->body_len, host_id,
                                 host_name) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        if (host_id[0] || host_name[0]) {
            eng_host_t h;
            memset(&h, 0, sizeof(h));
            if (eng_rest_find_host(call->ctx->store,
                                   host_id[0] ? host_id : host_name, &h) < 0) {
                eng_rest_reply_err(call->req);
                return;
            }
            memcpy(host_id, h.id, sizeof(host_id));
            eng_host_clear(&h);
        }
    } else if (act == ENG_REST_ACT_TICKET) {
        eng_rest_vm_ticket(call, vm);
        return;
    } else if (act == ENG_REST_ACT_MIGRATE) {
        eng_rest_vm_migrate(call, vm);
        return;
    } else if (eng_rest_parse_action(call->body, call->body_len) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_ACTION);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    int rc;
    eng_vm_action_t op = ENG_VM_ACT_STOP;
    switch (act) {
    case ENG_REST_ACT_START:
        rc = eng_vm_start(call->ctx, vm->id, host_id[0] ? host_id : NULL,
                          call->user.name, eng_rest_pending_cb, p);
        break;
    case ENG_REST_ACT_STOP: op = ENG_VM_ACT_STOP; goto act;
    case ENG_REST_ACT_SHUTDOWN: op = ENG_VM_ACT_SHUTDOWN; goto act;
    case ENG_REST_ACT_REBOOT: op = ENG_VM_ACT_REBOOT; goto act;
    case ENG_REST_ACT_RESET: op = ENG_VM_ACT_RESET; goto act;
    case ENG_REST_ACT_SUSPEND:
    case ENG_REST_ACT_PAUSE: op = ENG_VM_ACT_PAUSE; goto act;
    case ENG_REST_ACT_RESUME: op = ENG_VM_ACT_RESUME; goto act;
    act:
        rc = eng_vm_action(call->ctx, vm->id, op, call->user.name,
                           eng_rest_pending_cb, p);
        break;
    default:
        rc = CMN_ERR(CMN_ERR_NOT_FOUND, "no such action");
        break;
    }
    if (rc < 0) {
        eng_rest_pending_drop(p);
        eng_rest_action_failed(call);
        return;
    }
    /* Answered by eng_rest_pending_cb (p may already be gone), or now with
     * "pending" under ?async=true. */
    eng_rest_pending_started(call, p);
}

/* With "Filter: true" a VM the user does not own does not exist. */
static int
s_not_owner(eng_rest_call_t *call, const eng_vm_t *vm)
{
    char (*owned)[ENG_ID_LEN] = NULL;
    size_t n = 0;
    if (eng_store_vm_owned(call->ctx->store, call->user.id, &owned, &n) < 0)
        return -1;
    bool mine = s_owned(owned, n, vm->id);
    free(owned);
    if (mine)
        return 0;
    return CMN_ERR(CMN_ERR_NOT_FOUND, "VM '%s' not found", call->route.id);
}

void
eng_rest_handle_vms(eng_rest_call_t *call)
{
    if (call->route.kind == ENG_ROUTE_VMS) {
        if (call->method == ENG_REST_POST)
            s_create(call);
        else
            s_list(call);
        return;
    }
    eng_vm_t *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        eng_rest_reply_err(call->req);
        return;
    }
    if (eng_rest_find_vm(call->ctx->store, call->route.id, vm) < 0 ||
        (call->filter && s_not_owner(call, vm) < 0)) {
        eng_rest_reply_err(call->req);
        free(vm);
        return;
    }
    switch (call->route.kind) {
    case ENG_ROUTE_VM:
        if (call->method == ENG_REST_PUT)
            s_update(call, vm);
        else if (call->method == ENG_REST_DELETE)
            s_remove(call, vm);
        else {
            json_t *o = eng_rest_vm_json(vm);
            eng_rest_vm_add_migration(call->ctx, vm, o);
            eng_rest_reply(call->req, 200, o);
        }
        break;
    case ENG_ROUTE_VM_STATS:
        eng_rest_reply(call->req, 200, eng_rest_stats_json(
            eng_stats_get(call->ctx->stats, vm->id), "vm", vm->id));
        break;
    case ENG_ROUTE_VM_ACTION:
        s_action(call, vm);
        break;
    case ENG_ROUTE_VM_NICS:
    case ENG_ROUTE_VM_DISKS: {
        json_t *full = eng_rest_vm_json(vm);
        const char *outer = call->route.kind == ENG_ROUTE_VM_NICS
                            ? "nics" : "disk_attachments";
        json_t *coll = json_incref(json_object_get(full, outer));
        json_decref(full);
        eng_rest_reply(call->req, 200, coll ? coll : json_object());
        break;
    }
    default:
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such path");
        eng_rest_reply_err(call->req);
        break;
    }
    free(vm);
}
