/* herdctl's HTTP client: one request per call on a private event_base with
 * libevent's evhttp, over TLS (bufferevent_openssl; the server certificate
 * is checked against --ca-file or the system store, and its name against
 * the URL's host, unless --insecure) for https:// URLs, bounded by
 * --timeout. A plain connect() first gives a precise reason ("Connection
 * refused") when the engine is not there. */
#include "ctl_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

typedef struct {
    struct event_base *base;
    SSL *ssl;
    ctl_resp_t *resp;
    bool done;
    bool timed_out;
    char err[256];
} s_state_t;

void
ctl_resp_clear(ctl_resp_t *r)
{
    if (!r)
        return;
    free(r->text);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* Connect once with a timeout, to tell "refused" from "no route". */
static int
s_probe(const ctl_opts_t *o)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", o->port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(o->host, port, &hints, &ai);
    if (gai != 0)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot resolve '%s': %s",
                       o->host, gai_strerror(gai));
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
            rc = poll(&pfd, 1, o->timeout_s * 1000);
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
    ctl_resp_t *r = st->resp;
    r->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = in ? evbuffer_get_length(in) : 0;
    r->text = malloc(len + 1);
    if (!r->text) {
        snprintf(st->err, sizeof(st->err), "out of memory");
        return;
    }
    if (len)
        evbuffer_copyout(in, r->text, len);
    r->text[len] = '\0';
    r->len = len;
    r->json = json_loadb(r->text, len, 0, NULL);
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
s_tls_ctx(const ctl_opts_t *o)
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
    int ok = o->ca_file[0]
             ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
             : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        CMN_ERR(CMN_ERR_INVALID, "cannot load the CA file '%s': %s",
                o->ca_file, e ? ERR_reason_error_string(e) : "unknown error");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static SSL *
s_tls_session(SSL_CTX *ctx, const ctl_opts_t *o)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot create a TLS session");
        return NULL;
    }
    unsigned char addr[16];
    bool ip = inet_pton(AF_INET, o->host, addr) == 1 ||
              inet_pton(AF_INET6, o->host, addr) == 1;
    if (!ip)
        SSL_set_tlsext_host_name(ssl, o->host);
    if (!o->insecure) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        int rc = ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, o->host)
                    : X509_VERIFY_PARAM_set1_host(vp, o->host, 0);
        if (rc != 1) {
            SSL_free(ssl);
            CMN_ERR(CMN_ERR_INTERNAL, "cannot set the expected name '%s'",
                    o->host);
            return NULL;
        }
    }
    return ssl;
}

int
ctl_http(const ctl_opts_t *o, const char *method, const char *path,
         const char *body, ctl_resp_t *r)
{
    char full[1536];
    snprintf(full, sizeof(full), "%s%s", o->base, path);
    return ctl_http_raw(o, method, full, body, body ? "application/json"
                                                    : NULL, r);
}

int
ctl_http_raw(const ctl_opts_t *o, const char *method, const char *full,
             const char *body, const char *ctype, ctl_resp_t *r)
{
    memset(r, 0, sizeof(*r));
    if (s_probe(o) < 0)
        return -1;
    enum evhttp_cmd_type cmd;
    if (strcmp(method, "GET") == 0)
        cmd = EVHTTP_REQ_GET;
    else if (strcmp(method, "POST") == 0)
        cmd = EVHTTP_REQ_POST;
    else if (strcmp(method, "PUT") == 0)
        cmd = EVHTTP_REQ_PUT;
    else if (strcmp(method, "DELETE") == 0)
        cmd = EVHTTP_REQ_DELETE;
    else
        return CMN_ERR(CMN_ERR_INTERNAL, "unknown method %s", method);

    s_state_t st = { .resp = r };
    int rc = -1;
    struct evhttp_connection *evcon = NULL;
    struct event *timer = NULL;
    SSL_CTX *tls = NULL;
    if (o->tls && !(tls = s_tls_ctx(o)))
        return -1;
    st.base = event_base_new();
    if (!st.base) {
        SSL_CTX_free(tls);
        return CMN_ERR(CMN_ERR_NOMEM, "cannot create an event loop");
    }
    struct bufferevent *bev = NULL;
    if (tls) {
        st.ssl = s_tls_session(tls, o);
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
                                                   o->host,
                                                   (unsigned short)o->port);
    if (!evcon) {
        CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot create a connection");
        goto out;
    }
    evhttp_connection_set_timeout(evcon, o->timeout_s);
    struct evhttp_request *req = evhttp_request_new(s_done_cb, &st);
    if (!req) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        goto out;
    }
    evhttp_request_set_error_cb(req, s_error_cb);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char hosthdr[300];
    snprintf(hosthdr, sizeof(hosthdr), "%s:%d", o->host, o->port);
    evhttp_add_header(h, "Host", hosthdr);
    evhttp_add_header(h, "Accept", "application/json");
    evhttp_add_header(h, "Connection", "close");
    evhttp_add_header(h, "User-Agent", "herdctl/" CTL_VERSION);
    if (o->authz[0])
        evhttp_add_header(h, "Authorization", o->authz);
    if (body) {
        evhttp_add_header(h, "Content-Type", ctype ? ctype
                                                   : "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), body,
                     strlen(body));
    }
    if (evhttp_make_request(evcon, req, cmd, full) < 0) {
        /* libevent frees the request on failure */
        CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot send the request");
        goto out;
    }
    timer = evtimer_new(st.base, s_timeout_cb, &st);
    struct timeval tv = { .tv_sec = o->timeout_s };
    if (timer)
        evtimer_add(timer, &tv);
    event_base_dispatch(st.base);
    if (st.timed_out) {
        CMN_ERR(CMN_ERR_TIMEOUT, "no answer within %d s (see --timeout)",
                o->timeout_s);
        goto out;
    }
    if (!st.done || r->status == 0 || !r->text) {
        long v = st.ssl ? SSL_get_verify_result(st.ssl) : X509_V_OK;
        if (v != X509_V_OK)
            CMN_ERR(CMN_ERR_UNAVAILABLE, "the engine's TLS certificate is "
                    "not trusted: %s (give its CA with --ca-file or "
                    "$HERD_CA_FILE; it is served at %s://%s:%d/ca.crt)",
                    X509_verify_cert_error_string(v), "https", o->host,
                    o->port);
        else if (bev && bufferevent_get_openssl_error(bev))
            CMN_ERR(CMN_ERR_UNAVAILABLE, "TLS error: %s",
                    ERR_reason_error_string(bufferevent_get_openssl_error(
                        bev)));
        else
            CMN_ERR(CMN_ERR_UNAVAILABLE, "%s", st.err[0] ? st.err
                                                         : "no answer");
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
    if (rc < 0) {
        free(r->text);
        json_decref(r->json);
        memset(r, 0, sizeof(*r));
    }
    return rc;
}
