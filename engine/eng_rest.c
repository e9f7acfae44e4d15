/* The REST API server: evhttp on the daemon's event_base, routing, body
 * limits, faults, deferred replies, and the read-only collections (root,
 * data centers, clusters, events). VMs and hosts live in eng_rest_vm.c and
 * eng_rest_host.c; JSON in eng_rest_json.c and eng_rest_render.c. */
#include "eng_rest.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_rest_priv.h"

CMN_LOG_INIT("rest");

#ifndef HERD_VERSION
#define HERD_VERSION "0.1.0"
#endif

struct eng_rest_pending {
    eng_rest_t *rest;                   /* NULL once the server is gone */
    struct evhttp_request *req;         /* NULL once libevent freed it */
    struct evhttp_connection *evcon;
    eng_pend_kind_t kind;
    eng_rest_pending_t *next;
    eng_rest_pending_t **pprev;
};

struct eng_rest {
    eng_ctx_t *ctx;
    struct evhttp *http;
    int port;
    eng_rest_pending_t *pending;
};

/* ---- replies ------------------------------------------------------------ */

void
eng_rest_reply(struct evhttp_request *req, int status, json_t *body)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        json_decref(body);
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    if (body) {
        char *text = json_dumps(body, JSON_INDENT(1) | JSON_ENSURE_ASCII);
        if (text) {
            evbuffer_add(buf, text, strlen(text));
            evbuffer_add(buf, "\n", 1);
            free(text);
        }
        json_decref(body);
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_send_reply(req, status, eng_rest_http_reason(status), buf);
    evbuffer_free(buf);
}

void
eng_rest_reply_err(struct evhttp_request *req)
{
    cmn_code_t code = cmn_err_code();
    const char *msg = cmn_err_msg();
    if (code == CMN_OK) {
        code = CMN_ERR_INTERNAL;
        msg = "internal error (no detail recorded)";
    }
    CMN_INFO("%s %s: %d %s", evhttp_request_get_command(req) == EVHTTP_REQ_GET
             ? "GET" : "request", evhttp_request_get_uri(req),
             eng_rest_http_status(code), msg);
    eng_rest_reply(req, eng_rest_http_status(code),
                   eng_rest_fault_json(code, msg));
}

/* ---- deferred replies --------------------------------------------------- */

static void
s_pending_unlink(eng_rest_pending_t *p)
{
    if (p->pprev) {
        *p->pprev = p->next;
        if (p->next)
            p->next->pprev = p->pprev;
    }
    p->next = NULL;
    p->pprev = NULL;
}

/* The connection goes away. A request still queued on it is freed by
 * libevent right after this; one already detached (the client hung up
 * first) stays ours and is freed when we answer it. */
static void
s_closecb(struct evhttp_connection *evcon, void *arg)
{
    eng_rest_t *rest = arg;
    for (eng_rest_pending_t *p = rest->pending; p; p = p->next) {
        if (p->evcon != evcon)
            continue;
        if (p->req && evhttp_request_get_connection(p->req) == evcon)
            p->req = NULL;
        p->evcon = NULL;
        CMN_DEBUG("client went away before an answer");
    }
}

eng_rest_pending_t *
eng_rest_pending_new(eng_rest_call_t *call, eng_pend_kind_t kind)
{
    eng_rest_pending_t *p = calloc(1, sizeof(*p));
    if (!p) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    eng_rest_t *rest = call->rest;
    p->rest = rest;
    p->req = call->req;
    p->kind = kind;
    p->evcon = evhttp_request_get_connection(call->req);
    if (p->evcon)
        evhttp_connection_set_closecb(p->evcon, s_closecb, rest);
    p->next = rest->pending;
    if (p->next)
        p->next->pprev = &p->next;
    rest->pending = p;
    p->pprev = &rest->pending;
    return p;
}

void
eng_rest_pending_drop(eng_rest_pending_t *p)
{
    if (!p)
        return;
    s_pending_unlink(p);
    free(p);
}

/* Integer figures of the ping answer as strings, like every number. */
static json_t *
s_ping_json(const char *message)
{
    json_t *in = json_loads(message ? message : "", 0, NULL);
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) {
        if (json_is_integer(v))
            eng_rest_set_num(out, key, json_integer_value(v));
        else
            json_object_set(out, key, v);
    }
    json_decref(in);
    return out;
}

void
eng_rest_pending_cb(cmn_code_t code, const char *message, void *opaque)
{
    eng_rest_pending_t *p = opaque;
    struct evhttp_request *req = p->req;
    bool live = p->rest != NULL && req != NULL;
    eng_pend_kind_t kind = p->kind;
    s_pending_unlink(p);
    free(p);
    if (!live) {
        CMN_DEBUG("operation ended (%s) after its client left",
                  cmn_code_name(code));
        return;
    }
    if (code == CMN_OK) {
        json_t *body = json_pack("{s:s}", "status", "complete");
        if (kind == ENG_PEND_PING)
            json_object_set_new(body, "ping", s_ping_json(message));
        eng_rest_reply(req, 200, body);
        return;
    }
    int status = eng_rest_http_status(code);
    json_t *fault = eng_rest_fault_json(code, message);
    CMN_INFO("%s: %d %s", evhttp_request_get_uri(req), status,
             message ? message : "");
    if (kind == ENG_PEND_REMOVE) {
        eng_rest_reply(req, status, fault);
        return;
    }
    eng_rest_reply(req, status, json_pack("{s:s, s:o}", "status", "failed",
                                          "fault", fault));
}

/* ---- read-only collections --------------------------------------------- */

static void
s_root(eng_rest_call_t *call)
{
    eng_ctx_t *ctx = call->ctx;
    json_t *o = json_object();
    json_object_set_new(o, "product_info", json_pack(
        "{s:s, s:s, s:{s:s}}", "name", "Herd", "vendor", "Herd",
        "version", "full_version", HERD_VERSION));
    json_object_set_new(o, "time", json_integer((json_int_t)cmn_time_ms()));
    json_object_set_new(o, "engine_id", json_string(ctx->engine_id));
    json_object_set_new(o, "start_time", json_integer(ctx->started_ms));
    static const char *const rels[] = { "datacenters", "clusters", "hosts",
                                        "vms", "events" };
    json_t *links = json_array();
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        char href[128];
        snprintf(href, sizeof(href), ENG_REST_BASE "/%s", rels[i]);
        json_array_append_new(links, json_pack("{s:s, s:s}", "rel", rels[i],
                                               "href", href));
    }
    json_object_set_new(o, "link", links);

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
    eng_rest_reply(call->req, 200, o);
}

static void
s_dcs(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    if (call->route.kind == ENG_ROUTE_DC) {
        eng_dc_t dc;
        if (eng_rest_find_dc(s, call->route.id, &dc) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_rest_reply(call->req, 200, eng_rest_dc_json(&dc));
        return;
    }
    eng_dc_t *dcs = NULL;
    size_t n = 0;
    if (eng_store_dc_list(s, &dcs, &n) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, eng_rest_dc_json(&dcs[i]));
    free(dcs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "data_center", list));
}

static void
s_clusters(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    if (call->route.kind == ENG_ROUTE_CLUSTER) {
        eng_cluster_t c;
        if (eng_rest_find_cluster(s, call->route.id, &c) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_rest_reply(call->req, 200, eng_rest_cluster_json(&c));
        return;
    }
    eng_cluster_t *cs = NULL;
    size_t n = 0;
    if (eng_store_cluster_list(s, &cs, &n) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, eng_rest_cluster_json(&cs[i]));
    free(cs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "cluster", list));
}

/* Query parameter `key` as an integer in [min, max], or `dflt` if absent. */
static int
s_query_int(struct evkeyvalq *q, const char *key, int64_t min, int64_t max,
            int64_t dflt, int64_t *out)
{
    const char *v = evhttp_find_header(q, key);
    *out = dflt;
    if (!v)
        return 0;
    char what[64];
    snprintf(what, sizeof(what), "query parameter '%s'", key);
    return cmn_parse_int64(v, min, max, what, out);
}

static void
s_events(eng_rest_call_t *call)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (call->query && evhttp_parse_query_str(call->query, &q) < 0) {
        CMN_ERR(CMN_ERR_INVALID, "malformed query string");
        eng_rest_reply_err(call->req);
        return;
    }
    int64_t max, from;
    if (s_query_int(&q, "max", 1, ENG_REST_EVENTS_MAX, ENG_REST_EVENTS_DEFAULT,
                    &max) < 0 ||
        s_query_int(&q, "from", 0, INT64_MAX, 0, &from) < 0) {
        evhttp_clear_headers(&q);
        eng_rest_reply_err(call->req);
        return;
    }
    evhttp_clear_headers(&q);
    eng_event_t *evs = NULL;
    size_t n = 0;
    if (eng_store_event_list(call->ctx->store, from, (size_t)max, true, &evs,
                             &n) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, eng_rest_event_json(&evs[i]));
    free(evs);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "event", list));
}

/* ---- dispatch ----------------------------------------------------------- */

static unsigned
s_method_bit(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD: return ENG_REST_GET;
    case EVHTTP_REQ_POST: return ENG_REST_POST;
    case EVHTTP_REQ_PUT: return ENG_REST_PUT;
    case EVHTTP_REQ_DELETE: return ENG_REST_DELETE;
    default: return 0;
    }
}

static void
s_dispatch(eng_rest_call_t *call)
{
    switch (call->route.kind) {
    case ENG_ROUTE_ROOT: s_root(call); break;
    case ENG_ROUTE_DCS:
    case ENG_ROUTE_DC: s_dcs(call); break;
    case ENG_ROUTE_CLUSTERS:
    case ENG_ROUTE_CLUSTER: s_clusters(call); break;
    case ENG_ROUTE_EVENTS: s_events(call); break;
    case ENG_ROUTE_HOSTS:
    case ENG_ROUTE_HOST:
    case ENG_ROUTE_HOST_STATS:
    case ENG_ROUTE_HOST_NICS:
    case ENG_ROUTE_HOST_PING: eng_rest_handle_hosts(call); break;
    case ENG_ROUTE_VMS:
    case ENG_ROUTE_VM:
    case ENG_ROUTE_VM_STATS:
    case ENG_ROUTE_VM_ACTION: eng_rest_handle_vms(call); break;
    default:
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such path");
        eng_rest_reply_err(call->req);
        break;
    }
}

static void
s_gencb(struct evhttp_request *req, void *arg)
{
    eng_rest_t *rest = arg;
    cmn_err_reset();
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path) {
        CMN_ERR(CMN_ERR_INVALID, "malformed request URI");
        eng_rest_reply_err(req);
        return;
    }
    eng_rest_call_t call = {
        .rest = rest, .ctx = rest->ctx, .req = req,
        .method = s_method_bit(evhttp_request_get_command(req)),
        .query = evhttp_uri_get_query(uri),
    };
    if (eng_rest_route(path, &call.route) < 0) {
        eng_rest_reply_err(req);
        return;
    }
    if (!(call.method & call.route.allowed)) {
        char allow[64];
        eng_rest_allow(call.route.allowed, allow, sizeof(allow));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          allow);
        char detail[160];
        snprintf(detail, sizeof(detail), "method not allowed on this path "
                 "(allowed: %s)", allow);
        json_t *f = eng_rest_fault_json(CMN_ERR_INVALID, detail);
        json_object_set_new(f, "reason", json_string("Method Not Allowed"));
        json_object_set_new(f, "code", json_string("method_not_allowed"));
        eng_rest_reply(req, 405, f);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = in ? evbuffer_get_length(in) : 0;
    if ((int64_t)len > rest->ctx->conf.api_max_body) {
        CMN_ERR(CMN_ERR_TOO_BIG, "request body of %zu bytes is over the "
                "limit of %" PRId64 " bytes", len,
                rest->ctx->conf.api_max_body);
        eng_rest_reply_err(req);
        return;
    }
    char *body = malloc(len + 1);
    if (!body) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory for the request body");
        eng_rest_reply_err(req);
        return;
    }
    if (len > 0)
        evbuffer_copyout(in, body, len);
    body[len] = '\0';
    call.body = body;
    call.body_len = len;
    CMN_DEBUG("%s %s (%zu bytes)", evhttp_request_get_command(req) ==
              EVHTTP_REQ_GET ? "GET" : "call", evhttp_request_get_uri(req), len);
    s_dispatch(&call);
    free(body);
}

/* ---- lifecycle ---------------------------------------------------------- */

eng_rest_t *
eng_rest_new(eng_ctx_t *ctx)
{
    eng_rest_t *rest = calloc(1, sizeof(*rest));
    if (!rest) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rest->ctx = ctx;
    rest->http = evhttp_new(ctx->base);
    if (!rest->http) {
        CMN_ERR(CMN_ERR_NOMEM, "cannot create the HTTP server");
        free(rest);
        return NULL;
    }
    evhttp_set_allowed_methods(rest->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                               EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                               EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                               EVHTTP_REQ_PATCH);
    /* Bodies a little over the limit get our JSON 413; libevent itself
     * refuses (with its own 413) anything far bigger, before reading it. */
    int64_t max = ctx->conf.api_max_body > 0 ? ctx->conf.api_max_body : 1 << 20;
    int64_t hard = max * 2 > max + 65536 ? max * 2 : max + 65536;
    evhttp_set_max_body_size(rest->http, (ev_ssize_t)hard);
    evhttp_set_max_headers_size(rest->http, 64 * 1024);
    /* Actions answer when the agent is done: never time a client out
     * sooner than the longest operation (a shutdown, then the agent's
     * reply). */
    int64_t tmo = ctx->conf.vm_shutdown_timeout_s + ctx->conf.request_timeout_s
                  + 30;
    if (tmo < 120)
        tmo = 120;
    if (tmo > 86400)
        tmo = 86400;
    evhttp_set_timeout(rest->http, (int)tmo);
    evhttp_set_gencb(rest->http, s_gencb, rest);
    const char *addr = ctx->conf.api_listen ? ctx->conf.api_listen
                                            : "127.0.0.1";
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(rest->http, addr,
                                       (ev_uint16_t)ctx->conf.api_port);
    if (!bs) {
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot bind the REST API to %s:%" PRId64,
                      addr, ctx->conf.api_port);
        evhttp_free(rest->http);
        free(rest);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            rest->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            rest->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    CMN_INFO("REST API on http://%s:%d" ENG_REST_BASE, addr, rest->port);
    return rest;
}

int
eng_rest_port(const eng_rest_t *rest)
{
    return rest ? rest->port : -1;
}

void
eng_rest_destroy(eng_rest_t **p)
{
    if (!p || !*p)
        return;
    eng_rest_t *rest = *p;
    /* Answer every waiting client now; their operations' callbacks may
     * still fire later and then only free the pending record. */
    while (rest->pending) {
        eng_rest_pending_t *pd = rest->pending;
        s_pending_unlink(pd);
        struct evhttp_request *req = pd->req;
        pd->rest = NULL;
        pd->req = NULL;
        if (req)
            eng_rest_reply(req, 503, eng_rest_fault_json(CMN_ERR_UNAVAILABLE,
                           "the engine is shutting down"));
    }
    evhttp_free(rest->http);
    free(rest);
    *p = NULL;
}
