/* REST paths to routes, ids or names to records, error codes to HTTP. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("rest.route");

#define ROUTE_MAX_SEGS 4

static const char *const s_act_names[ENG_REST_ACT__LAST] = {
    [ENG_REST_ACT_START] = "start",
    [ENG_REST_ACT_STOP] = "stop",
    [ENG_REST_ACT_SHUTDOWN] = "shutdown",
    [ENG_REST_ACT_REBOOT] = "reboot",
    [ENG_REST_ACT_RESET] = "reset",
    [ENG_REST_ACT_SUSPEND] = "suspend",
    [ENG_REST_ACT_PAUSE] = "pause",
    [ENG_REST_ACT_RESUME] = "resume",
    [ENG_REST_ACT_TICKET] = "ticket",
    [ENG_REST_ACT_MIGRATE] = "migrate",
};

static const char *const s_hact_names[ENG_REST_HACT__LAST] = {
    [ENG_REST_HACT_ACTIVATE] = "activate",
    [ENG_REST_HACT_DEACTIVATE] = "deactivate",
    [ENG_REST_HACT_APPROVE] = "approve",
    [ENG_REST_HACT_REVOKE] = "revoke",
};

const char *
eng_rest_hact_name(eng_rest_hact_t act)
{
    if ((int)act < 0 || act >= ENG_REST_HACT__LAST)
        return "unknown";
    return s_hact_names[act];
}

int
eng_rest_hact_parse(const char *name)
{
    for (int i = 0; i < ENG_REST_HACT__LAST; i++)
        if (strcmp(name, s_hact_names[i]) == 0)
            return i;
    return -1;
}

const char *
eng_rest_route_kind(const eng_route_t *r)
{
    switch (r->kind) {
    case ENG_ROUTE_DCS: case ENG_ROUTE_DC: return "datacenters";
    case ENG_ROUTE_CLUSTERS: case ENG_ROUTE_CLUSTER: return "clusters";
    case ENG_ROUTE_HOSTS: case ENG_ROUTE_HOST: case ENG_ROUTE_HOST_STATS:
    case ENG_ROUTE_HOST_NICS: case ENG_ROUTE_HOST_PING:
    case ENG_ROUTE_HOST_ACTION: case ENG_ROUTE_TOKENS:
    case ENG_ROUTE_TOKEN: return "hosts";
    case ENG_ROUTE_VMS: case ENG_ROUTE_VM: case ENG_ROUTE_VM_STATS:
    case ENG_ROUTE_VM_ACTION: case ENG_ROUTE_VM_NICS:
    case ENG_ROUTE_VM_DISKS: return "vms";
    case ENG_ROUTE_EVENTS: return "events";
    case ENG_ROUTE_USERS: case ENG_ROUTE_USER:
    case ENG_ROUTE_USER_PERMS: return "users";
    default: return "api";
    }
}

const char *
eng_rest_route_action(const eng_route_t *r)
{
    switch (r->kind) {
    case ENG_ROUTE_VM_ACTION: return eng_rest_act_name(r->action);
    case ENG_ROUTE_HOST_ACTION: return eng_rest_hact_name(r->haction);
    case ENG_ROUTE_HOST_PING: return "ping";
    default: return NULL;
    }
}

const char *
eng_rest_act_name(eng_rest_act_t act)
{
    if ((int)act < 0 || act >= ENG_REST_ACT__LAST)
        return "unknown";
    return s_act_names[act];
}

int
eng_rest_act_parse(const char *name)
{
    for (int i = 0; i < ENG_REST_ACT__LAST; i++)
        if (strcmp(name, s_act_names[i]) == 0)
            return i;
    return -1;
}

const char *
eng_rest_allow(unsigned allowed, char *buf, size_t len)
{
    static const struct { unsigned bit; const char *name; } m[] = {
        { ENG_REST_GET, "GET" }, { ENG_REST_POST, "POST" },
        { ENG_REST_PUT, "PUT" }, { ENG_REST_DELETE, "DELETE" },
    };
    size_t off = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        if (!(allowed & m[i].bit))
            continue;
        int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                         m[i].name);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    return buf;
}

/* Split `path` after the base into at most ROUTE_MAX_SEGS raw segments.
 * Returns the count, or -1 if there are too many or one is empty. */
static int
s_split(const char *p, char segs[ROUTE_MAX_SEGS][ENG_NAME_LEN * 3])
{
    int n = 0;
    while (*p == '/') {
        p++;
        if (*p == '\0')
            break;      /* one trailing slash is fine */
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || n == ROUTE_MAX_SEGS || len >= ENG_NAME_LEN * 3)
            return -1;
        memcpy(segs[n], p, len);
        segs[n][len] = '\0';
        n++;
        p += len;
    }
    if (*p != '\0')
        return -1;
    return n;
}

static int
s_decode_id(const char *raw, char out[ENG_NAME_LEN])
{
    size_t size = 0;
    char *dec = evhttp_uridecode(raw, 0, &size);
    if (!dec)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory decoding a path");
    if (size == 0 || size >= ENG_NAME_LEN || strlen(dec) != size) {
        free(dec);
        return CMN_ERR(CMN_ERR_NOT_FOUND,
                       "'%s' is not a valid id or name", raw);
    }
    memcpy(out, dec, size + 1);
    free(dec);
    return 0;
}

int
eng_rest_route(const char *path, eng_route_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t blen = strlen(ENG_REST_BASE);
    if (!path || strncmp(path, ENG_REST_BASE, blen) != 0 ||
        (path[blen] != '\0' && path[blen] != '/'))
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no such path '%s' (the API is "
                       "under " ENG_REST_BASE ")", path ? path : "");
    char segs[ROUTE_MAX_SEGS][ENG_NAME_LEN * 3];
    int n = s_split(path + blen, segs);
    if (n < 0)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no such path '%s'", path);
    if (n == 0) {
        out->kind = ENG_ROUTE_ROOT;
        out->allowed = ENG_REST_GET;
        return 0;
    }
    /* The engine's CURVE key and its rotation (a Herd extension). */
    if (strcmp(segs[0], "enginekey") == 0) {
        if (n == 1) {
            out->kind = ENG_ROUTE_ENGINE_KEY;
            out->allowed = ENG_REST_GET;
            return 0;
        }
        if (n == 2 && (strcmp(segs[1], "rotate") == 0 ||
                       strcmp(segs[1], "switch") == 0)) {
            out->kind = ENG_ROUTE_ENGINE_KEY_ACTION;
            out->allowed = ENG_REST_POST;
            memcpy(out->id, segs[1], strlen(segs[1]) + 1);
            return 0;
        }
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no such path '%s'", path);
    }
    /* Enrollment tokens (eng_rest_host.c). */
    if (strcmp(segs[0], "hosts") == 0 && n >= 2 &&
        strcmp(segs[1], "enrollmenttokens") == 0) {
        if (n == 2) {
            out->kind = ENG_ROUTE_TOKENS;
            out->allowed = ENG_REST_GET | ENG_REST_POST;
            return 0;
        }
        if (n == 3) {
            if (s_decode_id(segs[2], out->id) < 0)
                return -1;
            out->kind = ENG_ROUTE_TOKEN;
            out->allowed = ENG_REST_GET | ENG_REST_DELETE;
            return 0;
        }
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no such path '%s'", path);
    }
    static const struct {
        const char *name;
        eng_route_kind_t coll, one;
        unsigned coll_allowed, one_allowed;
    } colls[] = {
        { "datacenters", ENG_ROUTE_DCS, ENG_ROUTE_DC,
          ENG_REST_GET | ENG_REST_POST,
          ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE },
        { "clusters", ENG_ROUTE_CLUSTERS, ENG_ROUTE_CLUSTER,
          ENG_REST_GET | ENG_REST_POST,
          ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE },
        { "hosts", ENG_ROUTE_HOSTS, ENG_ROUTE_HOST,
          ENG_REST_GET | ENG_REST_POST, ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE },
        { "users", ENG_ROUTE_USERS, ENG_ROUTE_USER,
          ENG_REST_GET | ENG_REST_POST, ENG_REST_GET | ENG_REST_DELETE },
        { "vms", ENG_ROUTE_VMS, ENG_ROUTE_VM, ENG_REST_GET | ENG_REST_POST,
          ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE },
        { "events", ENG_ROUTE_EVENTS, ENG_ROUTE_NONE, ENG_REST_GET, 0 },
    };
    size_t c;
    for (c = 0; c < sizeof(colls) / sizeof(colls[0]); c++)
        if (strcmp(segs[0], colls[c].name) == 0)
            break;
    if (c == sizeof(colls) / sizeof(colls[0]))
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no such collection '%s'", segs[0]);
    if (n == 1) {
        out->kind = colls[c].coll;
        out->allowed = colls[c].coll_allowed;
        return 0;
    }
    if (colls[c].one == ENG_ROUTE_NONE)
        return CMN_ERR(CMN_ERR_NOT_FOUND, "no such path '%s'", path);
    if (s_decode_id(segs[1], out->id) < 0)
        return -1;
    if (n == 2) {
        out->kind = colls[c].one;
        out->allowed = colls[c].one_allowed;
        return 0;
    }
    /* Fixed sub-resources of one resource: /{coll}/{id}/{name}. */
    static const struct {
        eng_route_kind_t parent;
        const char *name;
        eng_route_kind_t kind;
        unsigned allowed;
    } subs[] = {
        { ENG_ROUTE_HOST, "statistics", ENG_ROUTE_HOST_STATS, ENG_REST_GET },
        { ENG_ROUTE_HOST, "nics", ENG_ROUTE_HOST_NICS, ENG_REST_GET },
        { ENG_ROUTE_HOST, "ping", ENG_ROUTE_HOST_PING, ENG_REST_POST },
        { ENG_ROUTE_USER, "permissions", ENG_ROUTE_USER_PERMS,
          ENG_REST_GET | ENG_REST_POST },
        { ENG_ROUTE_VM, "statistics", ENG_ROUTE_VM_STATS, ENG_REST_GET },
        { ENG_ROUTE_VM, "nics", ENG_ROUTE_VM_NICS, ENG_REST_GET },
        { ENG_ROUTE_VM, "disk_attachments", ENG_ROUTE_VM_DISKS, ENG_REST_GET },
    };
    if (n == 3) {
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
            if (subs[i].parent == colls[c].one &&
                strcmp(segs[2], subs[i].name) == 0) {
                out->kind = subs[i].kind;
                out->allowed = subs[i].allowed;
                return 0;
            }
        }
        int act = -1;
        if (colls[c].one == ENG_ROUTE_HOST &&
            (act = eng_rest_hact_parse(segs[2])) >= 0) {
            out->kind = ENG_ROUTE_HOST_ACTION;
            out->allowed = ENG_REST_POST;
            out->haction = (eng_rest_hact_t)act;
            return 0;
        }
        if (colls[c].one == ENG_ROUTE_VM &&
            (act = eng_rest_act_parse(segs[2])) >= 0) {
            out->kind = ENG_ROUTE_VM_ACTION;
            out->allowed = ENG_REST_POST;
            out->action = (eng_rest_act_t)act;
            return 0;
        }
    }
    memset(out, 0, sizeof(*out));
    return CMN_ERR(CMN_ERR_NOT_FOUND, "no such path '%s'", path);
}

/* The look-up of an {id}: by id if it looks like a UUID, then by name. */
#define FIND_BODY(what, by_id, by_name)                                     \
    do {                                                                    \
        if (!ref || !*ref)                                                  \
            return CMN_ERR(CMN_ERR_NOT_FOUND, what " '' not found");         \
        if (cmn_uuid_valid(ref)) {                                          \
            if (by_id(s, ref, out) == 0)                                    \
                return 0;                                                   \
            if (cmn_err_code() != CMN_ERR_NOT_FOUND)                        \
                return -1;                                                  \
            cmn_err_reset();                                                \
        }                                                                   \
        if (by_name(s, ref, out) == 0)                                      \
            return 0;                                                       \
        if (cmn_err_code() != CMN_ERR_NOT_FOUND)                            \
            return -1;                                                      \
        cmn_err_reset();                                                    \
        return CMN_ERR(CMN_ERR_NOT_FOUND, what " '%s' not found", ref);      \
    } while (0)

int
eng_rest_find_vm(eng_store_t *s, const char *ref, eng_vm_t *out)
{
    FIND_BODY("VM", eng_store_vm_get, eng_store_vm_get_by_name);
}

int
eng_rest_find_host(eng_store_t *s, const char *ref, eng_host_t *out)
{
    FIND_BODY("host", eng_store_host_get, eng_store_host_get_by_name);
}

int
eng_rest_find_cluster(eng_store_t *s, const char *ref, eng_cluster_t *out)
{
    FIND_BODY("cluster", eng_store_cluster_get, eng_store_cluster_get_by_name);
}

int
eng_rest_find_dc(eng_store_t *s, const char *ref, eng_dc_t *out)
{
    FIND_BODY("data center", eng_store_dc_get, eng_store_dc_get_by_name);
}

int
eng_rest_http_status(cmn_code_t code)
{
    switch (code) {
    case CMN_OK: return 200;
    case CMN_ERR_INVALID:
    case CMN_ERR_PROTOCOL:
    case CMN_ERR_VERSION: return 400;
    case CMN_ERR_AUTH: return 401;
    case CMN_ERR_DENIED: return 403;
    case CMN_ERR_NOT_FOUND: return 404;
    case CMN_ERR_EXISTS:
    case CMN_ERR_STATE: return 409;
    case CMN_ERR_TOO_BIG: return 413;
    case CMN_ERR_UNSUPPORTED: return 501;
    case CMN_ERR_UNAVAILABLE:
    case CMN_ERR_NO_SESSION: return 503;
    case CMN_ERR_TIMEOUT: return 504;
    default: return 500;
    }
}

const char *
eng_rest_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
    }
}

json_t *
eng_rest_fault_json(cmn_code_t code, const char *detail)
{
    if (code == CMN_OK)
        code = CMN_ERR_INTERNAL;
    if (!detail || !*detail)
        detail = cmn_code_name(code);
    CMN_DEBUG("fault %s: %s", cmn_code_name(code), detail);
    json_t *f = json_object();
    json_object_set_new(f, "reason", json_string(
        eng_rest_http_reason(eng_rest_http_status(code))));
    json_object_set_new(f, "detail", eng_rest_str(detail));
    json_object_set_new(f, "code", json_string(cmn_code_name(code)));
    return f;
}

int
eng_rest_query_get(const char *query, const char *key, char *buf,
                   size_t size)
{
    if (size)
        buf[0] = '\0';
    if (!query || !*query)
        return 0;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (evhttp_parse_query_str(query, &q) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "malformed query string");
    const char *v = evhttp_find_header(&q, key);
    int rc = 0;
    if (v) {
        if (strlen(v) >= size)
            rc = CMN_ERR(CMN_ERR_INVALID, "query parameter '%s' is too long",
                         key);
        else {
            snprintf(buf, size, "%s", v);
            rc = 1;
        }
    }
    evhttp_clear_headers(&q);
    return rc;
}

int
eng_rest_query_max(const char *query, int64_t limit, int64_t dflt,
                   int64_t *out)
{
    char v[32];
    *out = dflt;
    int rc = eng_rest_query_get(query, "max", v, sizeof(v));
    if (rc <= 0)
        return rc;
    if (strcmp(v, "-1") == 0) {     /* oVirt: -1 is no limit */
        *out = limit;
        return 0;
    }
    return cmn_parse_int64(v, 1, limit, "query parameter 'max'", out);
}

int
eng_rest_query_search(const char *query, const char *const *known,
                      eng_search_t **out)
{
    *out = NULL;
    if (!query || !*query)
        return 0;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (evhttp_parse_query_str(query, &q) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "malformed query string");
    const char *text = evhttp_find_header(&q, "search");
    int rc = 0;
    if (text) {
        eng_search_t *s = eng_search_parse(text);
        if (!s || eng_search_check_fields(s, known) < 0) {
            eng_search_destroy(&s);
            rc = -1;
        } else {
            *out = s;
        }
    }
    evhttp_clear_headers(&q);
    return rc;
}
