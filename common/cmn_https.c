/* A small blocking HTTP(S) client (see cmn_https.h); moved here from
 * herdctl's ctl_http.c so herd-agent-setup can fetch the engine key with
 * the same code. */
#include "cmn_https.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("common.https");

typedef struct {
    struct event_base *base;
    SSL *ssl;
    cmn_http_resp_t *resp;
    bool done;
    bool timed_out;
    bool too_big;
    char err[256];
} s_state_t;

void
cmn_http_resp_clear(cmn_http_resp_t *r)
{
    if (!r)
        return;
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* Record why `url` is refused: "what: 'url' reason", or "URL 'url' reason"
 * without a `what`. Returns -1. */
static int
s_url_bad(const char *what, const char *url, const char *reason)
{
    if (what)
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' %s", what, url, reason);
    return CMN_ERR(CMN_ERR_INVALID, "URL '%s' %s", url, reason);
}

int
cmn_url_parse_named(const char *url, const char *what, cmn_url_t *u)
{
    memset(u, 0, sizeof(*u));
    if (!url || !*url)
        return what ? CMN_ERR(CMN_ERR_INVALID, "%s: empty URL", what)
                    : CMN_ERR(CMN_ERR_INVALID, "empty URL");
    if (strlen(url) >= sizeof(u->target))
        return CMN_ERR(CMN_ERR_INVALID, "%s%sURL '%.60s...' is too long",
                       what ? what : "", what ? ": " : "", url);
    struct evhttp_uri *e = evhttp_uri_parse(url);
    if (!e)
        return what ? CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is not a URL", what,
                              url)
                    : CMN_ERR(CMN_ERR_INVALID, "'%s' is not a URL", url);
    int rc = -1;
    const char *scheme = evhttp_uri_get_scheme(e);
    const char *host = evhttp_uri_get_host(e);
    const char *path = evhttp_uri_get_path(e);
    const char *query = evhttp_uri_get_query(e);
    int port = evhttp_uri_get_port(e);
    if (!scheme || (strcasecmp(scheme, "http") != 0 &&
                    strcasecmp(scheme, "https") != 0)) {
        s_url_bad(what, url, "must start with https:// or http://");
        goto out;
    }
    u->tls = strcasecmp(scheme, "https") == 0;
    size_t hl = host ? strlen(host) : 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host++;             /* an IPv6 address: connect() wants it bare */
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(u->host)) {
        s_url_bad(what, url, "has no host");
        goto out;
    }
    if (evhttp_uri_get_userinfo(e)) {
        s_url_bad(what, url, "must not carry a user name");
        goto out;
    }
    if (port == 0 || port > 65535) {
        s_url_bad(what, url, "has a port out of range");
        goto out;
    }
    memcpy(u->host, host, hl);
    u->host[hl] = '\0';
    u->port = port > 0 ? port : u->tls ? 443 : 80;
    snprintf(u->target, sizeof(u->target), "%s%s%s",
             path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    u->fragment = evhttp_uri_get_fragment(e) != NULL;
    rc = 0;
out:
    evhttp_uri_free(e);
    return rc;
}

int
cmn_url_parse(const char *url, cmn_url_t *u)
{
    return cmn_url_parse_named(url, NULL, u);
}

/* Connect once with a timeout, to tell "refused" from "no route". */
static int
s_probe(const cmn_url_t *u, int timeout_s)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", u->port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(u->host, port, &hints, &ai);
    if (gai != 0)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot resolve '%s': %s",
                       u->host, gai_strerror(gai));
    int err = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
                        SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            rc = poll(&pfd, 1, timeout_s * 1000);
            if (rc == 0) {
                err = ETIMEDOUT;
                rc = -1;
            } else if (rc > 0) {
                socklen_t sl = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
                    err = errno;
                rc = err ? -1 : 0;
            } else {
                err = errno;
            }
        } else if (rc < 0) {
            err = errno;
        }
        close(fd);
        if (rc == 0) {
            freeaddrinfo(ai);
            return 0;
        }
    }
    freeaddrinfo(ai);
    return CMN_ERR(CMN_ERR_UNAVAILABLE, "%s", strerror(err ? err : EIO));
}

static void
s_error_cb(enum evhttp_request_error e, void *arg)
{
    s_state_t *st = arg;
    const char *why;
    switch (e) {
    case EVREQ_HTTP_TIMEOUT: why = "timed out"; break;
    case EVREQ_HTTP_EOF: why = "the connection was closed"; break;
    case EVREQ_HTTP_INVALID_HEADER: why = "invalid answer"; break;
    case EVREQ_HTTP_BUFFER_ERROR: why = "connection error"; break;
    case EVREQ_HTTP_REQUEST_CANCEL: why = "request cancelled"; break;
    case EVREQ_HTTP_DATA_TOO_LONG: why = "answer too long"; break;
    default: why = "connection error"; break;
    }
    if (e == EVREQ_HTTP_DATA_TOO_LONG)
        st->too_big = true;
    if (!st->err[0])
        snprintf(st->err, sizeof(st->err), "%s", why);
}

static void
s_done_cb(struct evhttp_request *req, void *arg)
{
    s_state_t *st = arg;
    st->done = true;
    event_base_loopexit(st->base, NULL);
    if (!req || evhttp_request_get_response_code(req) == 0) {
        if (!st->err[0])
            snprintf(st->err, sizeof(st->err), "no answer");
        return;
    }
    cmn_http_resp_t *r = st->resp;
    r->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = in ? evbuffer_get_length(in) : 0;
    r->body = malloc(len + 1);
    if (!r->body) {
        snprintf(st->err, sizeof(st->err), "out of memory");
        return;
    }
    if (len)
        evbuffer_copyout(in, r->body, len);
    r->body[len] = '\0';
    r->len = len;
}

static void
s_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_state_t *st = arg;
    st->timed_out = true;
    event_base_loopbreak(st->base);
}

/* A client TLS context: TLS 1.2+, peer verification against the CA file
 * (or the system store) unless insecure. NULL with an error recorded. */
static SSL_CTX *
s_tls_ctx(const cmn_http_opts_t *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (o->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    bool ca = o->ca_file && o->ca_file[0];
    if (ca && access(o->ca_file, R_OK) < 0) {
        CMN_ERR_ERRNO(CMN_ERR_INVALID, "cannot read the CA file '%s'",
                      o->ca_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    int ok = ca ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
                : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        const char *why = e ? ERR_reason_error_string(e) : NULL;
        CMN_ERR(CMN_ERR_INVALID, "cannot load the CA file '%s': %s",
                ca ? o->ca_file : "(system store)",
                why ? why : "no PEM certificate in it");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* A TLS session for `u`: SNI for names, and (verifying) the name or
 * address the certificate must carry. NULL with an error recorded. */
static SSL *
s_tls_session(SSL_CTX *ctx, const cmn_url_t *u, bool insecure)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot create a TLS session");
        return NULL;
    }
    unsigned char addr[16];
    bool ip = inet_pton(AF_INET, u->host, addr) == 1 ||
              inet_pton(AF_INET6, u->host, addr) == 1;
    if (!ip)
        SSL_set_tlsext_host_name(ssl, u->host);
    if (!insecure) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        int rc = ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, u->host)
                    : X509_VERIFY_PARAM_set1_host(vp, u->host, 0);
        if (rc != 1) {
            SSL_free(ssl);
            CMN_ERR(CMN_ERR_INTERNAL, "cannot set the expected name '%s'",
                    u->host);
            return NULL;
        }
    }
    return ssl;
}

static int
s_method(const char *method, enum evhttp_cmd_type *cmd)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type cmd;
    } m[] = {
        { "GET", EVHTTP_REQ_GET }, { "POST", EVHTTP_REQ_POST },
        { "PUT", EVHTTP_REQ_PUT }, { "DELETE", EVHTTP_REQ_DELETE },
    };
    for (size_t i = 0; method && i < sizeof(m) / sizeof(m[0]); i++) {
        if (strcmp(method, m[i].name) == 0) {
            *cmd = m[i].cmd;
            return 0;
        }
    }
    return CMN_ERR(CMN_ERR_INVALID, "unknown HTTP method %s",
                   method ? method : "(none)");
}

/* The request with its headers and body; NULL with an error recorded. */
static struct evhttp_request *
s_make_req(const cmn_url_t *u, const cmn_http_opts_t *o, s_state_t *st)
{
    struct evhttp_request *req = evhttp_request_new(s_done_cb, st);
    if (!req) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    evhttp_request_set_error_cb(req, s_error_cb);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char hosthdr[300];
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(hosthdr, sizeof(hosthdr), "%s%s%s:%d", v6 ? "[" : "", u->host,
             v6 ? "]" : "", u->port);
    evhttp_add_header(h, "Host", hosthdr);
    evhttp_add_header(h, "Connection", "close");
    for (const cmn_http_header_t *x = o->headers; x && x->name; x++)
        evhttp_add_header(h, x->name, x->value ? x->value : "");
    if (o->body) {
        evhttp_add_header(h, "Content-Type", o->content_type
                          ? o->content_type : "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), o->body,
                     strlen(o->body));
    }
    return req;
}

/* Why no answer came: the certificate, TLS, or what evhttp said. */
static void
s_no_answer(const cmn_url_t *u, const cmn_http_opts_t *o,
            const s_state_t *st, struct bufferevent *bev)
{
    long v = st->ssl ? SSL_get_verify_result(st->ssl) : X509_V_OK;
    unsigned long tls_err = bev ? bufferevent_get_openssl_error(bev) : 0;
    if (v != X509_V_OK)
        CMN_ERR(CMN_ERR_UNAVAILABLE, "the TLS certificate of %s:%d is not "
                "trusted: %s%s", u->host, u->port,
                X509_verify_cert_error_string(v),
                o->untrusted_hint ? o->untrusted_hint : "");
    else if (tls_err)
        CMN_ERR(CMN_ERR_UNAVAILABLE, "TLS error: %s",
                ERR_reason_error_string(tls_err));
    else if (st->too_big)
        CMN_ERR(CMN_ERR_TOO_BIG, "the answer is larger than %zu bytes",
                o->max_body);
    else
        CMN_ERR(CMN_ERR_UNAVAILABLE, "%s", st->err[0] ? st->err
                                                      : "no answer");
}

int
cmn_http_request(const cmn_url_t *u, const cmn_http_opts_t *o,
                 cmn_http_resp_t *r)
{
    memset(r, 0, sizeof(*r));
    enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
    if (s_method(o->method, &cmd) < 0)
        return -1;
    int tmo = o->timeout_s > 0 ? o->timeout_s : 30;
    if (s_probe(u, tmo) < 0)
        return -1;
    s_state_t st = { .resp = r };
    int rc = -1;
    struct evhttp_connection *evcon = NULL;
    struct event *timer = NULL;
    struct bufferevent *bev = NULL;
    SSL_CTX *tls = NULL;
    if (u->tls && !(tls = s_tls_ctx(o)))
        return -1;
    st.base = event_base_new();
    if (!st.base) {
        SSL_CTX_free(tls);
        return CMN_ERR(CMN_ERR_NOMEM, "cannot create an event loop");
    }
    if (tls) {
        st.ssl = s_tls_session(tls, u, o->insecure);
        if (!st.ssl)
            goto out;
        bev = bufferevent_openssl_socket_new(st.base, -1, st.ssl,
                                             BUFFEREVENT_SSL_CONNECTING,
                                             BEV_OPT_CLOSE_ON_FREE |
                                             BEV_OPT_DEFER_CALLBACKS);
        if (!bev) {
            CMN_ERR(CMN_ERR_INTERNAL, "cannot create a TLS connection");
            goto out;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    }
    evcon = evhttp_connection_base_bufferevent_new(st.base, NULL, bev,
                                                   u->host,
                                                   (unsigned short)u->port);
    if (!evcon) {
        CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot create a connection");
        goto out;
    }
    evhttp_connection_set_timeout(evcon, tmo);
    if (o->max_body)
        evhttp_connection_set_max_body_size(evcon, (ev_ssize_t)o->max_body);
    struct evhttp_request *req = s_make_req(u, o, &st);
    if (!req)
        goto out;
    if (evhttp_make_request(evcon, req, cmd, u->target) < 0) {
        /* libevent frees the request on failure */
        CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot send the request");
        goto out;
    }
    CMN_DEBUG("%s %s://%s:%d%s", o->method, u->tls ? "https" : "http",
              u->host, u->port, u->target);
    timer = evtimer_new(st.base, s_timeout_cb, &st);
    struct timeval tv = { .tv_sec = tmo };
    if (timer)
        evtimer_add(timer, &tv);
    event_base_dispatch(st.base);
    if (st.timed_out) {
        CMN_ERR(CMN_ERR_TIMEOUT, "no answer within %d s%s", tmo,
                o->timeout_hint ? o->timeout_hint : "");
        goto out;
    }
    if (!st.done || r->status == 0 || !r->body) {
        s_no_answer(u, o, &st, bev);
        goto out;
    }
    rc = 0;
out:
    if (timer)
        event_free(timer);
    if (evcon)
        evhttp_connection_free(evcon);
    else if (bev)
        bufferevent_free(bev);
    else if (st.ssl)
        SSL_free(st.ssl);
    event_base_free(st.base);
    SSL_CTX_free(tls);
    if (rc < 0)
        cmn_http_resp_clear(r);
    return rc;
}
