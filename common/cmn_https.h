/* A small blocking HTTP(S) client for the command-line tools (herdctl,
 * herd-agent-setup): one request per call on a private event_base with
 * libevent's evhttp, over TLS (bufferevent_openssl, TLS 1.2+) for https://
 * URLs, bounded by a timeout. The server certificate is checked against a
 * CA file (or the system store) and the URL's host, unless the caller
 * turns verification off. A plain connect() first gives a precise reason
 * ("Connection refused") when nobody listens.
 *
 * Not for the daemons' event loops: it blocks. Binaries that use it link
 * libevent_openssl and OpenSSL (see the Makefile's LIBS_TLS). */
#ifndef CMN_HTTPS_H
#define CMN_HTTPS_H

#include <stdbool.h>
#include <stddef.h>

/* An http:// or https:// URL taken apart. */
typedef struct {
    bool tls;                   /* https:// */
    char host[256];             /* name or address (IPv6 without brackets) */
    int port;                   /* as given, else 443 (https) or 80 */
    char target[1024];          /* path and ?query, "/" if none */
    bool fragment;              /* had a #fragment (not in target) */
} cmn_url_t;

/* Take `url` apart into *u. -1 with CMN_ERR_INVALID naming the URL and
 * what is wrong (scheme, host, port, length). */
int cmn_url_parse(const char *url, cmn_url_t *u);

/* Same, naming where the URL came from in the error ("--url: 'x' has no
 * host"); `what` NULL words it as cmn_url_parse does. */
int cmn_url_parse_named(const char *url, const char *what, cmn_url_t *u);

/* One extra request header; a list of them ends with a NULL name. */
typedef struct {
    const char *name;
    const char *value;
} cmn_http_header_t;

/* How to make a request. Every pointer is the caller's and may be NULL
 * unless said otherwise. */
typedef struct {
    const char *method;                 /* GET, POST, PUT or DELETE (!NULL) */
    const cmn_http_header_t *headers;   /* besides Host and Connection */
    const char *body;                   /* sent as is, strlen(body) bytes */
    const char *content_type;           /* with a body; default JSON */
    const char *ca_file;                /* NULL or "": the system store */
    bool insecure;                      /* https: no certificate check */
    int timeout_s;                      /* connect, and the whole answer */
    size_t max_body;                    /* larger answers fail; 0: any */
    const char *untrusted_hint;         /* appended to the "not trusted"
                                           error, e.g. " (use --ca-file)" */
    const char *timeout_hint;           /* appended to the timeout error */
} cmn_http_opts_t;

/* An answer. */
typedef struct {
    int status;                 /* HTTP status */
    char *body;                 /* NUL-terminated (malloc'd; see clear) */
    size_t len;                 /* bytes of body without the NUL */
} cmn_http_resp_t;

/* Send one request to `u` and wait for the whole answer. 0 with *r filled
 * (whatever the HTTP status; free with cmn_http_resp_clear) when an HTTP
 * answer came; -1 with *r zeroed and CMN_ERR_UNAVAILABLE (cannot resolve,
 * refused, TLS failure, certificate not trusted, closed, bad answer),
 * CMN_ERR_TIMEOUT, CMN_ERR_TOO_BIG (max_body), CMN_ERR_INVALID (bad
 * method, unreadable CA file) or CMN_ERR_NOMEM; the message is the reason
 * alone (callers add the URL). */
int cmn_http_request(const cmn_url_t *u, const cmn_http_opts_t *o,
                     cmn_http_resp_t *r);

/* Free the body and zero *r. Accepts NULL and a zeroed answer. */
void cmn_http_resp_clear(cmn_http_resp_t *r);

#endif /* CMN_HTTPS_H */
