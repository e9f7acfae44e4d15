/* The REST API server: evhttp on the daemon's event_base over TLS
 * (bufferevent_openssl with eng_pki's context) or plain HTTP when
 * configured, authentication, routing, body limits, XML or JSON by Accept
 * and Content-Type, faults, deferred replies, and the unauthenticated
 * paths (CA certificate, OAuth token). Replies (XML or JSON, streamed
 * lists) are written by eng_rest_reply.c. Handlers live in eng_rest_vm.c,
 * eng_rest_host.c, eng_rest_inv.c and eng_rest_auth.c. */
#include "eng_rest.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_enginekey.h"
#include "eng_enroll.h"
#include "eng_pki.h"
#include "eng_rest_priv.h"
#include "eng_xml.h"

CMN_LOG_INIT("rest");

struct eng_rest_pending {
    eng_rest_t *rest;                   /* NULL once the server is gone */
    struct evhttp_request *req;         /* NULL once libevent freed it */
    struct evhttp_connection *evcon;
    eng_pend_kind_t kind;
    json_t *extra;                      /* merged into a success answer */
    eng_rest_pending_t *next;
    eng_rest_pending_t **pprev;
};

struct eng_rest {
    eng_ctx_t *ctx;
    struct evhttp *http;
    int port;
    eng_rest_pending_t *pending;
    eng_pki_t *pki;                     /* NULL without TLS */
    SSL_CTX *ssl_ctx;
    eng_rest_auth_t *auth;
};

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
eng_rest_pending_set_extra(eng_rest_pending_t *p, json_t *extra)
{
    json_decref(p->extra);
    p->extra = extra;
}

void
eng_rest_pending_drop(eng_rest_pending_t *p)
{
    if (!p)
        return;
    json_decref(p->extra);
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
    json_t *extra = p->extra;
    s_pending_unlink(p);
    free(p);
    if (!live) {
        json_decref(extra);
        CMN_DEBUG("operation ended (%s) after its client left",
                  cmn_code_name(code));
        return;
    }
    if (code == CMN_OK) {
        json_t *body = json_pack("{s:s}", "status", "complete");
        if (extra)
            json_object_update(body, extra);
        json_decref(extra);
        if (kind == ENG_PEND_PING)
            json_object_set_new(body, "ping", s_ping_json(message));
        eng_rest_reply(req, 200, body);
        return;
    }
    json_decref(extra);
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

void
eng_rest_pending_started(eng_rest_call_t *call, eng_rest_pending_t *p)
{
    if (!call->async)
        return;
    eng_rest_pending_t *q;
    for (q = call->rest->pending; q && q != p; q = q->next)
        ;
    if (!q || q->req != call->req)
        return;             /* already answered */
    q->req = NULL;          /* the outcome is only logged now */
    eng_rest_reply(call->req, 202, json_pack("{s:s}", "status", "pending"));
}

void
eng_rest_action_failed(eng_rest_call_t *call)
{
    cmn_code_t code = cmn_err_code();
    if (code == CMN_OK)
        code = CMN_ERR_INTERNAL;
    const char *msg = cmn_err_msg();
    CMN_INFO("%s: %d %s", evhttp_request_get_uri(call->req),
             eng_rest_http_status(code), msg);
    eng_rest_reply_as(call->req, eng_rest_http_status(code), "action",
                      json_pack("{s:s, s:o}", "status", "failed", "fault",
                                eng_rest_fault_json(code, msg)));
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

static const char *
s_method_name(unsigned bit)
{
    switch (bit) {
    case ENG_REST_GET: return "GET";
    case ENG_REST_POST: return "POST";
    case ENG_REST_PUT: return "PUT";
    case ENG_REST_DELETE: return "DELETE";
    default: return "OTHER";
    }
}

static void
s_dispatch(eng_rest_call_t *call)
{
    switch (call->route.kind) {
    case ENG_ROUTE_ROOT: eng_rest_handle_root(call); break;
    case ENG_ROUTE_DCS:
    case ENG_ROUTE_DC: eng_rest_handle_dcs(call); break;
    case ENG_ROUTE_CLUSTERS:
    case ENG_ROUTE_CLUSTER: eng_rest_handle_clusters(call); break;
    case ENG_ROUTE_EVENTS: eng_rest_handle_events(call); break;
    case ENG_ROUTE_HOSTS:
    case ENG_ROUTE_HOST:
    case ENG_ROUTE_HOST_STATS:
    case ENG_ROUTE_HOST_NICS:
    case ENG_ROUTE_HOST_ACTION:
    case ENG_ROUTE_TOKENS:
    case ENG_ROUTE_TOKEN:
    case ENG_ROUTE_HOST_PING: eng_rest_handle_hosts(call); break;
    case ENG_ROUTE_ENGINE_KEY:
    case ENG_ROUTE_ENGINE_KEY_ACTION: eng_rest_handle_enginekey(call); break;
    case ENG_ROUTE_VMS:
    case ENG_ROUTE_VM:
    case ENG_ROUTE_VM_STATS:
    case ENG_ROUTE_VM_NICS:
    case ENG_ROUTE_VM_DISKS:
    case ENG_ROUTE_VM_ACTION: eng_rest_handle_vms(call); break;
    case ENG_ROUTE_USERS:
    case ENG_ROUTE_USER:
    case ENG_ROUTE_USER_PERMS: eng_rest_handle_users(call); break;
    case ENG_ROUTE_EXT: eng_rest_handle_ext(call); break;
    default:
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such path");
        eng_rest_reply_err(call->req);
        break;
    }
}

/* The CA certificate, unauthenticated: /ca.crt and oVirt's pki-resource. */
static bool
s_ca_path(eng_rest_t *rest, struct evhttp_request *req, const char *path,
          const char *query)
{
    bool ovirt = strcmp(path, "/ovirt-engine/services/pki-resource") == 0;
    if (strcmp(path, "/ca.crt") != 0 && !ovirt)
        return false;
    if (ovirt) {
        char res[64], fmt[64];
        if (eng_rest_query_get(query, "resource", res, sizeof(res)) < 0 ||
            eng_rest_query_get(query, "format", fmt, sizeof(fmt)) < 0) {
            eng_rest_reply_err(req);
            return true;
        }
        if (strcmp(res, "ca-certificate") != 0 ||
            (fmt[0] && strcmp(fmt, "X509-PEM-CA") != 0)) {
            CMN_ERR(CMN_ERR_NOT_FOUND, "only resource=ca-certificate with "
                    "format=X509-PEM-CA is served");
            eng_rest_reply_err(req);
            return true;
        }
    }
    if (!rest->pki) {
        CMN_ERR(CMN_ERR_NOT_FOUND, "the engine serves plain HTTP (api.tls is "
                "false): there is no CA certificate");
        eng_rest_reply_err(req);
        return true;
    }
    const char *pem = eng_pki_ca_pem(rest->pki);
    eng_rest_send(req, 200, ovirt ? "application/x-x509-ca-cert" : "text/plain",
           pem, strlen(pem));
    return true;
}

/* The engine's CURVE public key, unauthenticated (public information):
 * GET /ovirt-engine/services/herd-engine-key answers {"public_key",
 * "fingerprint"}; herd-agent-setup --fetch-key reads it. */
static bool
s_key_path(eng_rest_t *rest, struct evhttp_request *req, const char *path)
{
    if (strcmp(path, "/ovirt-engine/services/herd-engine-key") != 0)
        return false;
    eng_enroll_t *en = eng_agents_enroll(rest->ctx->agents);
    char fp[CMN_KEY_FP_LEN];
    if (!en || cmn_key_fingerprint(eng_enroll_public_key(en), fp) < 0) {
        if (!en)
            CMN_ERR(CMN_ERR_NOT_FOUND, "agents.curve is false: the engine "
                    "has no CURVE key");
        eng_rest_reply_err(req);
        return true;
    }
    /* JSON whatever the Accept header says: a tool's format, not oVirt's. */
    json_t *j = json_pack("{s:s,s:s}", "public_key", eng_enroll_public_key(en),
                          "fingerprint", fp);
    /* During a rotation the next key too: herd-agent-setup --fetch-key
     * can then write it next to the current one. */
    const char *next = eng_enginekey_next_public(
        eng_agents_enginekey(rest->ctx->agents));
    char nfp[CMN_KEY_FP_LEN];
    if (j && next && cmn_key_fingerprint(next, nfp) == 0) {
        json_object_set_new(j, "next_public_key", json_string(next));
        json_object_set_new(j, "next_fingerprint", json_string(nfp));
    }
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!text) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        eng_rest_reply_err(req);
        return true;
    }
    eng_rest_send(req, 200, "application/json", text, strlen(text));
    free(text);
    return true;
}

/* An XML body becomes the same JSON tree (as text) the parsers read. */
static int
s_xml_body(eng_rest_call_t *call, char **body)
{
    const char *ct = evhttp_find_header(
        evhttp_request_get_input_headers(call->req), "Content-Type");
    if (!ct || !strcasestr(ct, "xml") || call->body_len == 0)
        return 0;
    size_t i = 0;
    while (i < call->body_len && strchr(" \t\r\n", (*body)[i]))
        i++;
    if (i == call->body_len)
        return 0;
    json_t *tree = eng_xml_parse(*body, call->body_len,
                                 (size_t)call->ctx->conf.api_max_body, NULL, 0);
    if (!tree)
        return -1;
    char *text = json_dumps(tree, JSON_COMPACT);
    json_decref(tree);
    if (!text)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory converting XML");
    free(*body);
    *body = text;
    call->body = text;
    call->body_len = strlen(text);
    return 0;
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
    if (call.method == ENG_REST_GET &&
        (s_ca_path(rest, req, path, call.query) ||
         s_key_path(rest, req, path)))
        return;
    bool sso = strcmp(path, "/ovirt-engine/sso/oauth/token") == 0;
    if (!sso && !eng_rest_ext_route(path, &call.route) &&
        eng_rest_route(path, &call.route) < 0) {
        eng_rest_reply_err(req);
        return;
    }
    if (sso)
        call.route.allowed = ENG_REST_POST;
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
    CMN_DEBUG("%s %s (%zu bytes)", s_method_name(call.method),
              evhttp_request_get_uri(req), len);
    if (sso) {
        eng_rest_handle_sso(&call);
        free(body);
        return;
    }
    if (eng_rest_authenticate(&call) < 0) {
        eng_rest_auth_refuse(&call);
        free(body);
        return;
    }
    if (eng_auth_check(call.user.role, s_method_name(call.method),
                       eng_rest_route_kind(&call.route),
                       eng_rest_route_action(&call.route)) < 0) {
        eng_rest_reply_err(req);
        free(body);
        return;
    }
    struct evkeyvalq *ih = evhttp_request_get_input_headers(req);
    const char *filter = evhttp_find_header(ih, "Filter");
    call.filter = filter && strcasecmp(filter, "true") == 0;
    char async[16];
    int have = eng_rest_query_get(call.query, "async", async, sizeof(async));
    if (have < 0 || (have == 1 && strcmp(async, "true") != 0 &&
                     strcmp(async, "false") != 0)) {
        if (have == 1)
            CMN_ERR(CMN_ERR_INVALID, "query parameter 'async': expected true "
                    "or false");
        eng_rest_reply_err(req);
        free(body);
        return;
    }
    call.async = have == 1 && strcmp(async, "true") == 0;
    if (s_xml_body(&call, &body) < 0) {
        eng_rest_reply_err(req);
        free(body);
        return;
    }
    s_dispatch(&call);
    free(body);
}

/* ---- lifecycle ---------------------------------------------------------- */

static struct bufferevent *
s_bevcb(struct event_base *base, void *arg)
{
    eng_rest_t *rest = arg;
    SSL *ssl = SSL_new(rest->ssl_ctx);
    if (!ssl) {
        CMN_WARN("cannot make a TLS session for a new connection");
        return NULL;
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev)
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* The CA and server certificate (made at first start) and the TLS
 * context. */
static int
s_tls_setup(eng_rest_t *rest)
{
    const eng_conf_t *conf = &rest->ctx->conf;
    char names_buf[4096];
    const char *names[ENG_PKI_MAX_NAMES + 1];
    size_t n = 0;
    snprintf(names_buf, sizeof(names_buf), "%s",
             conf->api_server_names ? conf->api_server_names : "");
    for (char *tok = names_buf; *tok;) {
        size_t skip = strspn(tok, ", ");
        tok += skip;
        if (!*tok)
            break;
        size_t len = strcspn(tok, ", ");
        if (n == ENG_PKI_MAX_NAMES - 1)
            return CMN_ERR(CMN_ERR_CONFIG, "api.server_names: more than %d "
                           "names", ENG_PKI_MAX_NAMES - 1);
        names[n++] = tok;
        if (!tok[len])
            break;
        tok[len] = '\0';
        tok += len + 1;
    }
    if (conf->api_listen && conf->api_listen[0])
        names[n++] = conf->api_listen;
    names[n] = NULL;
    eng_pki_opts_t opts = { .dir = conf->api_pki_dir, .names = names };
    rest->pki = eng_pki_open(&opts);
    if (!rest->pki)
        return -1;
    rest->ssl_ctx = eng_pki_server_ctx(rest->pki);
    if (!rest->ssl_ctx)
        return -1;
    evhttp_set_bevcb(rest->http, s_bevcb, rest);
    return 0;
}

static void
s_free(eng_rest_t *rest)
{
    if (rest->http)
        evhttp_free(rest->http);
    if (rest->ssl_ctx)
        SSL_CTX_free(rest->ssl_ctx);
    eng_pki_destroy(&rest->pki);
    eng_rest_auth_destroy(&rest->auth);
    free(rest);
}

eng_rest_auth_t *
eng_rest_get_auth(eng_rest_t *rest)
{
    return rest->auth;
}

eng_rest_t *
eng_rest_new(eng_ctx_t *ctx)
{
    eng_rest_t *rest = calloc(1, sizeof(*rest));
    if (!rest) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rest->ctx = ctx;
    rest->auth = eng_rest_auth_new(ctx);
    if (!rest->auth) {
        s_free(rest);
        return NULL;
    }
    rest->http = evhttp_new(ctx->base);
    if (!rest->http) {
        CMN_ERR(CMN_ERR_NOMEM, "cannot create the HTTP server");
        s_free(rest);
        return NULL;
    }
    if (ctx->conf.api_tls && s_tls_setup(rest) < 0) {
        s_free(rest);
        return NULL;
    }
    evhttp_set_allowed_methods(rest->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                               EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                               EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                               EVHTTP_REQ_PATCH);
    /* Bodies a little over the limit get our 413 fault; libevent itself
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
        s_free(rest);
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
    CMN_INFO("REST API on %s://%s:%d" ENG_REST_BASE "%s",
             rest->pki ? "https" : "http", addr, rest->port,
             rest->pki ? "" : " (plain HTTP: api.tls is false)");
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
    s_free(rest);
    *p = NULL;
}
