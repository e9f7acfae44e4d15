/* herdctl's HTTP client: one request per call through cmn_https (evhttp
 * over bufferevent_openssl for https:// URLs; the server certificate is
 * checked against --ca-file or the system store, and its name against the
 * URL's host, unless --insecure), bounded by --timeout. The answer's body
 * is parsed as JSON when it is JSON. */
#include "ctl_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_https.h"

void
ctl_resp_clear(ctl_resp_t *r)
{
    if (!r)
        return;
    free(r->text);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
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
    cmn_url_t u = { .tls = o->tls, .port = o->port };
    snprintf(u.host, sizeof(u.host), "%s", o->host);
    if (snprintf(u.target, sizeof(u.target), "%s", full) >=
        (int)sizeof(u.target))
        return CMN_ERR(CMN_ERR_INVALID, "request path too long");
    char hint[700];
    snprintf(hint, sizeof(hint), " (give its CA with --ca-file or "
             "$HERD_CA_FILE; it is served at https://%s:%d/ca.crt)",
             o->host, o->port);
    cmn_http_header_t hdrs[] = {
        { "Accept", "application/json" },
        { "User-Agent", "herdctl/" CTL_VERSION },
        /* no credentials: a NULL name ends the list here */
        { o->authz[0] ? "Authorization" : NULL, o->authz },
        { NULL, NULL },
    };
    cmn_http_opts_t ho = {
        .method = method, .headers = hdrs, .body = body,
        .content_type = ctype, .ca_file = o->ca_file,
        .insecure = o->insecure, .timeout_s = o->timeout_s,
        .untrusted_hint = hint, .timeout_hint = " (see --timeout)",
    };
    cmn_http_resp_t hr;
    if (cmn_http_request(&u, &ho, &hr) < 0)
        return -1;
    r->status = hr.status;
    r->text = hr.body;          /* taken over: freed by ctl_resp_clear */
    r->len = hr.len;
    r->json = json_loadb(r->text, r->len, 0, NULL);
    return 0;
}
