/* REST handlers for /hosts: list, show, statistics, NICs, ping, actions,
 * pre-registration and enrollment tokens (create, list, show, delete). */
#include "eng_rest_priv.h"
#include "eng_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cmn_log.h"
#include "eng_agents.h"
#include "eng_enroll.h"

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

/* A host with its cluster's name (oVirt's `cluster=` takes names) and
 * the VMs placed on it. */
typedef struct {
    const eng_host_t *h;
    const char *cluster;
    int active, total;
} s_hrow_t;

/* Search fields of a host row (eng_search_get_fn). */
static const char *
s_host_get(const void *obj, const char *field, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    const s_hrow_t *r = obj;
    const eng_host_t *h = r->h;
    if (strcmp(field, "name") == 0)
        return h->name;
    if (strcmp(field, "id") == 0)
        return h->id;
    if (strcmp(field, "status") == 0)
        return eng_host_status_name(h->status);
    if (strcmp(field, "address") == 0)
        return h->address;
    if (strcmp(field, "cluster") == 0)
        return r->cluster;
    return NULL;
}

typedef struct {
    s_hrow_t *rows;
    size_t n;
} s_counts_t;

/* Count VMs per host without holding them all (eng_store_vm_foreach). */
static int
s_count_vm(const eng_vm_t *vm, void *opaque)
{
    s_counts_t *c = opaque;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->rows[i].h->id, vm->host_id) != 0)
            continue;
        c->rows[i].total++;
        if (vm->status != ENG_VM_DOWN)
            c->rows[i].active++;
        break;
    }
    return 0;
}

static void
s_list(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    eng_search_t *search = NULL;
    eng_host_t *hosts = NULL;
    eng_cluster_t *cls = NULL;
    s_hrow_t *rows = NULL;
    const void **sel = NULL;
    size_t nh = 0, nc = 0, k = 0;
    int64_t max;
    if (eng_rest_query_search(call->query, s_host_fields, &search) < 0 ||
        eng_rest_query_max(call->query, INT32_MAX, INT32_MAX, &max) < 0 ||
        eng_store_host_list(s, &hosts, &nh) < 0 ||
        eng_store_cluster_list(s, &cls, &nc) < 0)
        goto fail;
    rows = calloc(nh ? nh : 1, sizeof(*rows));
    sel = calloc(nh ? nh : 1, sizeof(*sel));
    if (!rows || !sel) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nh; i++) {
        rows[i].h = &hosts[i];
        rows[i].cluster = "";
        for (size_t j = 0; j < nc; j++)
            if (strcmp(cls[j].id, hosts[i].cluster_id) == 0)
                rows[i].cluster = cls[j].name;
    }
    s_counts_t counts = { rows, nh };
    if (nh && eng_store_vm_foreach(s, s_count_vm, &counts) < 0)
        goto fail;
    for (size_t i = 0; i < nh; i++)
        if (eng_search_match(search, &rows[i], s_host_get))
            sel[k++] = &rows[i];
    if (search)
        eng_search_sort(search, sel, k, s_host_get);
    if ((int64_t)k > max)
        k = (size_t)max;
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++) {
        const s_hrow_t *r = sel[i];
        json_t *hj = eng_rest_host_json(r->h, r->active, r->total);
        eng_enroll_host_json(eng_agents_enroll(call->ctx->agents), r->h->id,
                             hj);
        json_array_append_new(list, hj);
    }
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "host", list));
    goto out;
fail:
    eng_rest_reply_err(call->req);
out:
    for (size_t i = 0; i < nh; i++)
        eng_host_clear(&hosts[i]);
    free(hosts);
    free(cls);
    free(rows);
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
    json_t *hj = eng_rest_host_json(h, active, total);
    eng_enroll_host_json(eng_agents_enroll(call->ctx->agents), h->id, hj);
    eng_rest_reply(call->req, 200, hj);
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

/* VMs on host `h` that are not down, as "a, b, c" (at most `size`). */
static int
s_running(eng_rest_call_t *call, const eng_host_t *h, char *buf, size_t size)
{
    eng_vm_t *vms = NULL;
    size_t nv = 0, off = 0;
    int count = 0;
    buf[0] = '\0';
    if (eng_store_vm_list_by_host(call->ctx->store, h->id, &vms, &nv) < 0)
        return -1;
    for (size_t i = 0; i < nv; i++) {
        if (vms[i].status == ENG_VM_DOWN)
            continue;
        count++;
        int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
                         vms[i].name);
        if (n > 0 && (size_t)n < size - off)
            off += (size_t)n;
    }
    free(vms);
    return count;
}

static void
s_host_action(eng_rest_call_t *call, const eng_host_t *h)
{
    char why[ENG_NAME_LEN + 64];
    if (eng_rest_parse_action(call->body, call->body_len) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_hact_t act = call->route.haction;
    snprintf(why, sizeof(why), "%s by %s", eng_rest_hact_name(act),
             call->user.name);
    /* With migration: deactivate empties the host first (eng_migrate.h). */
    if (call->ctx->migrate && (act == ENG_REST_HACT_DEACTIVATE ||
                               act == ENG_REST_HACT_ACTIVATE)) {
        if ((act == ENG_REST_HACT_DEACTIVATE
             ? eng_maint_deactivate(call->ctx, h->id, call->user.name)
             : eng_maint_activate(call->ctx, h->id, call->user.name)) < 0)
            goto fail;
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_ADMIN, h->id, NULL,
                  call->user.name, "Host %s: %s", h->name, why);
        eng_rest_reply_as(call->req, 200, "action",
                          json_pack("{s:s}", "status", "complete"));
        return;
    }
    bool maint = false;
    switch (act) {
    case ENG_REST_HACT_DEACTIVATE: {
        char names[1024];
        int n = s_running(call, h, names, sizeof(names));
        if (n < 0)
            goto fail;
        if (n > 0) {
            CMN_ERR(CMN_ERR_STATE, "host %s still runs %d VM(s): %s; stop or "
                    "move them first", h->name, n, names);
            goto fail;
        }
        if (h->status == ENG_HOST_MAINTENANCE) {
            CMN_ERR(CMN_ERR_STATE, "host %s is already in maintenance",
                    h->name);
            goto fail;
        }
        maint = true;
        break;
    }
    case ENG_REST_HACT_ACTIVATE:
        if (h->status != ENG_HOST_MAINTENANCE) {
            CMN_ERR(CMN_ERR_STATE, "host %s is %s: only a host in "
                    "maintenance can be activated", h->name,
                    eng_host_status_name(h->status));
            goto fail;
        }
        break;
    case ENG_REST_HACT_APPROVE:
        if (h->status != ENG_HOST_PENDING_APPROVAL) {
            CMN_ERR(CMN_ERR_STATE, "host %s is %s: only a host pending "
                    "approval can be approved", h->name,
                    eng_host_status_name(h->status));
            goto fail;
        }
        if (eng_enroll_approve(eng_agents_enroll(call->ctx->agents), h->id,
                               call->user.name) < 0)
            goto fail;
        break;
    case ENG_REST_HACT_REVOKE:
        /* Cut off now (eng_enroll.c sets the host non_responsive). */
        if (eng_enroll_revoke(eng_agents_enroll(call->ctx->agents), h->id,
                              call->user.name) < 0)
            goto fail;
        eng_rest_reply_as(call->req, 200, "action",
                          json_pack("{s:s}", "status", "complete"));
        return;
    default:
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such action");
        goto fail;
    }
    if (eng_agents_host_admin(call->ctx->agents, h->id, maint, why) < 0)
        goto fail;
    eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_ADMIN, h->id, NULL,
              call->user.name, "Host %s: %s", h->name, why);
    eng_rest_reply_as(call->req, 200, "action",
                      json_pack("{s:s}", "status", "complete"));
    return;
fail:
    eng_rest_action_failed(call);
}

static void
s_remove(eng_rest_call_t *call, const eng_host_t *h)
{
    if (h->status != ENG_HOST_MAINTENANCE) {
        CMN_ERR(CMN_ERR_STATE, "host %s is %s: put it in maintenance "
                "(deactivate) before removing it", h->name,
                eng_host_status_name(h->status));
        eng_rest_reply_err(call->req);
        return;
    }
    if (eng_store_host_delete(call->ctx->store, h->id) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    /* Its keys stay in the store, revoked: a removed host cannot come
     * back with them. */
    eng_enroll_forget(eng_agents_enroll(call->ctx->agents), h->id,
                      call->user.name);
    eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_REMOVED, NULL, NULL,
              call->user.name, "Host %s (%s) removed by %s", h->name, h->id,
              call->user.name);
    eng_rest_reply(call->req, 200, NULL);
}

/* PUT: name, description-less hosts take a new name and cluster. */
static void
s_update(eng_rest_call_t *call, eng_host_t *h)
{
    static const char *const known[] = { "name", "cluster", "id", "href",
        "address", "status", NULL };
    json_t *root = NULL;
    if (eng_rest_parse_object(call->body, call->body_len, false, &root) < 0)
        goto fail;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok) {
            CMN_ERR(CMN_ERR_INVALID, "unknown field '%s' (known: name, "
                    "cluster)", key);
            goto fail;
        }
    }
    v = json_object_get(root, "name");
    if (v) {
        if (!json_is_string(v) ||
            !cmn_str_printable(json_string_value(v), ENG_NAME_LEN - 1, "/")) {
            CMN_ERR(CMN_ERR_INVALID, "field 'name': expected a name (1..255 "
                    "printable characters, no '/')");
            goto fail;
        }
        snprintf(h->name, sizeof(h->name), "%s", json_string_value(v));
    }
    v = json_object_get(root, "cluster");
    if (v) {
        json_t *id = json_object_get(v, "id"), *nm = json_object_get(v, "name");
        const char *ref = json_is_string(id) ? json_string_value(id) :
                          json_is_string(nm) ? json_string_value(nm) : NULL;
        eng_cluster_t c;
        if (!ref) {
            CMN_ERR(CMN_ERR_INVALID, "field 'cluster': expected {\"id\"} or "
                    "{\"name\"}");
            goto fail;
        }
        if (eng_rest_find_cluster(call->ctx->store, ref, &c) < 0)
            goto fail;
        memcpy(h->cluster_id, c.id, sizeof(h->cluster_id));
    }
    if (eng_store_host_put(call->ctx->store, h) < 0)
        goto fail;
    json_decref(root);
    s_show(call, h);
    return;
fail:
    json_decref(root);
    eng_rest_reply_err(call->req);
}

/* A body member that must be a string of 1..size-1 printable characters
 * (0), absent (1, *buf ""), or -1 with CMN_ERR_INVALID naming `field`. */
static int
s_body_str(const json_t *o, const char *key, const char *field, char *buf,
           size_t size)
{
    buf[0] = '\0';
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 1;
    const char *str = json_string_value(v);
    if (!str || !*str || strlen(str) >= size ||
        !cmn_str_printable(str, size - 1, NULL))
        return CMN_ERR(CMN_ERR_INVALID, "%s: expected a string of 1..%zu "
                       "printable characters", field, size - 1);
    memcpy(buf, str, strlen(str) + 1);
    return 0;
}

/* Only the keys in `known` may appear in o; -1 naming the first other. */
static int
s_body_keys(const json_t *o, const char *where, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], k) != 0)
            i++;
        if (!known[i])
            return CMN_ERR(CMN_ERR_INVALID, "%s%s'%s': unknown field", where,
                           *where ? ": " : "", k);
    }
    return 0;
}

#define TOKEN_DEFAULT_S 86400
#define TOKEN_MAX_S (366 * 86400)

/* POST /hosts/enrollmenttokens {"name", "expiry": seconds}: a one-time
 * enrollment token, answered once (only its hash is kept). */
static void
s_token_create(eng_rest_call_t *call)
{
    static const char *const known[] = { "name", "expiry", NULL };
    json_t *root = NULL;
    char name[ENG_NAME_LEN];
    json_int_t expiry = TOKEN_DEFAULT_S;
    if (eng_rest_parse_object(call->body, call->body_len, false, &root) < 0)
        goto fail;
    if (s_body_keys(root, "", known) < 0)
        goto fail;
    int have = s_body_str(root, "name", "name", name, sizeof(name));
    if (have < 0)
        goto fail;
    if (have == 1) {
        CMN_ERR(CMN_ERR_INVALID, "name: required (the host the token is "
                "for)");
        goto fail;
    }
    const json_t *e = json_object_get(root, "expiry");
    if (e) {
        if (!json_is_integer(e) || json_integer_value(e) < 1 ||
            json_integer_value(e) > TOKEN_MAX_S) {
            CMN_ERR(CMN_ERR_INVALID, "expiry: expected whole seconds "
                    "1..%d", TOKEN_MAX_S);
            goto fail;
        }
        expiry = json_integer_value(e);
    }
    char id[ENG_ID_LEN];
    char *tok = eng_enroll_token_make(eng_agents_enroll(call->ctx->agents),
                                      name, (int64_t)expiry, call->user.name,
                                      id);
    if (!tok)
        goto fail;
    json_t *out = json_pack("{s:s,s:s,s:s,s:I}", "id", id, "name", name,
                            "token", tok, "expiry", expiry);
    free(tok);
    json_decref(root);
    eng_rest_reply_as(call->req, 201, "enrollment_token", out);
    return;
fail:
    json_decref(root);
    eng_rest_reply_err(call->req);
}

/* A token as the API shows it: never its text nor its hash. */
static json_t *
s_token_json(const eng_enroll_token_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(t->id));
    json_object_set_new(o, "href", json_sprintf(ENG_REST_BASE
                        "/hosts/enrollmenttokens/%s", t->id));
    json_object_set_new(o, "name", eng_rest_str(t->name));
    json_object_set_new(o, "created", json_integer(t->created_ms));
    if (t->expires_ms)
        json_object_set_new(o, "expiry_time", json_integer(t->expires_ms));
    if (t->created_by[0])
        json_object_set_new(o, "created_by", eng_rest_str(t->created_by));
    return o;
}

/* GET /hosts/enrollmenttokens[/{id}], DELETE /hosts/enrollmenttokens/{id}:
 * SuperUser only, also to read (the generic role check lets every role
 * read). Lists only tokens that can still enroll. */
static void
s_tokens(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    int64_t now = (int64_t)cmn_time_ms();
    if (call->user.role != ENG_ROLE_SUPERUSER) {
        CMN_ERR(CMN_ERR_DENIED, "role %s may not see or change enrollment "
                "tokens (SuperUser only)", eng_role_name(call->user.role));
        eng_rest_reply_err(call->req);
        return;
    }
    if (call->route.kind == ENG_ROUTE_TOKENS) {
        eng_enroll_token_t *t = NULL;
        size_t n = 0;
        if (eng_store_enroll_token_list(s, now, &t, &n) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, s_token_json(&t[i]));
        free(t);
        eng_rest_reply(call->req, 200,
                       json_pack("{s:o}", "enrollment_token", list));
        return;
    }
    if (call->method == ENG_REST_DELETE) {
        if (eng_enroll_token_delete(call->ctx, call->route.id,
                                    call->user.name) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_rest_reply(call->req, 200, NULL);
        return;
    }
    eng_enroll_token_t t;
    if (eng_store_enroll_token_get(s, call->route.id, now, &t) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_reply_as(call->req, 200, "enrollment_token", s_token_json(&t));
}

/* POST /hosts {"name", "curve_key": {"public_key": Z85}}: pre-register a
 * host's key, approved; the host appears at its first hello with it. */
static void
s_register(eng_rest_call_t *call)
{
    static const char *const known[] = { "name", "curve_key", NULL };
    static const char *const kknown[] = { "public_key", NULL };
    json_t *root = NULL;
    char name[ENG_NAME_LEN], key[CMN_KEY_Z85_LEN + 8];
    if (eng_rest_parse_object(call->body, call->body_len, false, &root) < 0 ||
        s_body_keys(root, "", known) < 0)
        goto fail;
    int have = s_body_str(root, "name", "name", name, sizeof(name));
    if (have < 0)
        goto fail;
    if (have == 1) {
        CMN_ERR(CMN_ERR_INVALID, "name: required");
        goto fail;
    }
    const json_t *ck = json_object_get(root, "curve_key");
    if (!json_is_object(ck)) {
        CMN_ERR(CMN_ERR_INVALID, "curve_key: required, an object "
                "{\"public_key\": Z85} (adding hosts otherwise: run "
                "herd-agent-setup on the host)");
        goto fail;
    }
    if (s_body_keys(ck, "curve_key", kknown) < 0 ||
        (have = s_body_str(ck, "public_key", "curve_key.public_key", key,
                           sizeof(key))) < 0)
        goto fail;
    if (have == 1 || !cmn_key_valid(key)) {
        CMN_ERR(CMN_ERR_INVALID, "curve_key.public_key: expected a CURVE "
                "public key (40 Z85 characters)");
        goto fail;
    }
    eng_host_t h;
    memset(&h, 0, sizeof(h));
    if (eng_rest_find_host(call->ctx->store, name, &h) == 0) {
        eng_host_clear(&h);
        CMN_ERR(CMN_ERR_EXISTS, "name: a host named '%s' exists already",
                name);
        goto fail;
    }
    cmn_err_reset();
    if (eng_enroll_register(eng_agents_enroll(call->ctx->agents), key, name,
                            call->user.name) < 0)
        goto fail;
    char fp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(key, fp);
    json_t *out = json_pack("{s:s,s:s,s:{s:s,s:s}}", "name", name,
                            "status", "registered", "curve_key",
                            "fingerprint", fp, "state", "approved");
    json_decref(root);
    eng_rest_reply_as(call->req, 201, "host", out);
    return;
fail:
    json_decref(root);
    eng_rest_reply_err(call->req);
}

void
eng_rest_handle_hosts(eng_rest_call_t *call)
{
    if (call->route.kind == ENG_ROUTE_HOSTS) {
        if (call->method == ENG_REST_POST)
            s_register(call);
        else
            s_list(call);
        return;
    }
    if (call->route.kind == ENG_ROUTE_TOKENS &&
        call->method == ENG_REST_POST) {
        s_token_create(call);
        return;
    }
    if (call->route.kind == ENG_ROUTE_TOKENS ||
        call->route.kind == ENG_ROUTE_TOKEN) {
        s_tokens(call);
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
        if (call->method == ENG_REST_DELETE)
            s_remove(call, &h);
        else if (call->method == ENG_REST_PUT)
            s_update(call, &h);
        else
            s_show(call, &h);
        break;
    case ENG_ROUTE_HOST_ACTION:
        s_host_action(call, &h);
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
