/* Inside of the REST API: the pure pieces (path routing, JSON bodies to
 * records, records to JSON) that unit tests and fuzz targets use without a
 * server, and what the handler files share. */
#ifndef ENG_REST_PRIV_H
#define ENG_REST_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmn_err.h"
#include "eng_auth.h"
#include "eng_ctx.h"
#include "eng_ops.h"
#include "eng_rest.h"
#include "eng_search.h"
#include "eng_store.h"

#define ENG_REST_BASE "/ovirt-engine/api"
#define ENG_REST_EVENTS_MAX 10000
#define ENG_REST_EVENTS_DEFAULT 100
#define ENG_REST_PING_MAX 10000
#define ENG_REST_PING_DEFAULT 10

/* Event codes of what the REST layer itself does (stable; shown in the
 * API; the others are in eng_store.h). */
enum {
    ENG_EV_HOST_ADMIN = 110,        /* activate/deactivate/approve/remove */
    ENG_EV_VM_TICKET = 220,         /* console ticket set */
    ENG_EV_DC_ADDED = 300,
    ENG_EV_DC_UPDATED = 301,
    ENG_EV_DC_REMOVED = 302,
    ENG_EV_CLUSTER_ADDED = 310,
    ENG_EV_CLUSTER_UPDATED = 311,
    ENG_EV_CLUSTER_REMOVED = 312,
    ENG_EV_USER_ADDED = 400,
    ENG_EV_USER_REMOVED = 401,
    ENG_EV_USER_ROLE = 402,
    ENG_EV_USER_LOGIN = 403,        /* a token issued */
    ENG_EV_LOGIN_LIMIT = 404,       /* an address over auth.max_failures */
};

/* ---- routing ----------------------------------------------------------- */

/* HTTP methods as bits (independent of libevent's numbering). */
enum {
    ENG_REST_GET = 1 << 0,
    ENG_REST_POST = 1 << 1,
    ENG_REST_PUT = 1 << 2,
    ENG_REST_DELETE = 1 << 3,
};

typedef enum {
    ENG_ROUTE_NONE = 0,         /* no such path: 404 */
    ENG_ROUTE_ROOT,             /* /ovirt-engine/api */
    ENG_ROUTE_DCS,              /* /datacenters */
    ENG_ROUTE_DC,               /* /datacenters/{id} */
    ENG_ROUTE_CLUSTERS,
    ENG_ROUTE_CLUSTER,
    ENG_ROUTE_HOSTS,
    ENG_ROUTE_HOST,
    ENG_ROUTE_HOST_STATS,       /* /hosts/{id}/statistics */
    ENG_ROUTE_HOST_NICS,        /* /hosts/{id}/nics */
    ENG_ROUTE_HOST_PING,        /* /hosts/{id}/ping */
    ENG_ROUTE_VMS,
    ENG_ROUTE_VM,
    ENG_ROUTE_VM_STATS,         /* /vms/{id}/statistics */
    ENG_ROUTE_VM_ACTION,        /* /vms/{id}/{action} */
    ENG_ROUTE_EVENTS,
    ENG_ROUTE_HOST_ACTION,      /* /hosts/{id}/{activate|deactivate|approve} */
    ENG_ROUTE_VM_NICS,          /* /vms/{id}/nics */
    ENG_ROUTE_VM_DISKS,         /* /vms/{id}/disk_attachments */
    ENG_ROUTE_USERS,            /* /users */
    ENG_ROUTE_USER,             /* /users/{id} */
    ENG_ROUTE_USER_PERMS,       /* /users/{id}/permissions */
    ENG_ROUTE_TOKENS,           /* /hosts/enrollmenttokens */
    ENG_ROUTE_TOKEN,            /* /hosts/enrollmenttokens/{id} */
    ENG_ROUTE_ENGINE_KEY,       /* /enginekey */
    ENG_ROUTE_ENGINE_KEY_ACTION,/* /enginekey/{rotate|switch} (id = action) */
    ENG_ROUTE_EXT,              /* eng_rest_mig.c: jobs, cancelmigration,
                                   affinity groups */
    ENG_ROUTE__LAST
} eng_route_kind_t;

/* VM actions of the API; start is not an eng_vm_action_t. */
typedef enum {
    ENG_REST_ACT_START = 0,
    ENG_REST_ACT_STOP,
    ENG_REST_ACT_SHUTDOWN,
    ENG_REST_ACT_REBOOT,
    ENG_REST_ACT_RESET,
    ENG_REST_ACT_SUSPEND,
    ENG_REST_ACT_PAUSE,
    ENG_REST_ACT_RESUME,
    ENG_REST_ACT_TICKET,
    ENG_REST_ACT_MIGRATE,
    ENG_REST_ACT__LAST
} eng_rest_act_t;

/* Host actions of the API. */
typedef enum {
    ENG_REST_HACT_ACTIVATE = 0,
    ENG_REST_HACT_DEACTIVATE,
    ENG_REST_HACT_APPROVE,
    ENG_REST_HACT_REVOKE,       /* Herd: revoke the host's CURVE keys */
    ENG_REST_HACT__LAST
} eng_rest_hact_t;

typedef struct {
    eng_route_kind_t kind;
    unsigned allowed;           /* ENG_REST_* bits */
    char id[ENG_NAME_LEN];      /* the {id} segment, URL-decoded */
    eng_rest_act_t action;      /* for ENG_ROUTE_VM_ACTION */
    eng_rest_hact_t haction;    /* for ENG_ROUTE_HOST_ACTION */
} eng_route_t;

/* Route a path (without the query string; still URL-encoded). Returns 0
 * and fills *out, or -1 with CMN_ERR_NOT_FOUND naming the path (no such
 * resource) or CMN_ERR_INVALID (an id that cannot be a name or UUID). */
int eng_rest_route(const char *path, eng_route_t *out);

/* "GET, POST" for the Allow header; `buf` must hold 32 bytes. */
const char *eng_rest_allow(unsigned allowed, char *buf, size_t len);

/* Name of an action ("start", ...) and the action for a name (-1). */
const char *eng_rest_act_name(eng_rest_act_t act);
int eng_rest_act_parse(const char *name);
const char *eng_rest_hact_name(eng_rest_hact_t act);
int eng_rest_hact_parse(const char *name);

/* The collection a route belongs to, as eng_auth_check names it ("vms",
 * "hosts", "users", ..., "api" for the root), and the action it runs (NULL
 * for plain CRUD). */
const char *eng_rest_route_kind(const eng_route_t *r);
const char *eng_rest_route_action(const eng_route_t *r);

/* Value of parameter `key` in a raw query string (NULL: none), URL-decoded
 * into buf. 1 if present, 0 if absent, -1 with CMN_ERR_INVALID for a
 * malformed query string. */
int eng_rest_query_get(const char *query, const char *key, char *buf,
                       size_t size);
/* `max` (1..limit, default dflt) of a query string. */
int eng_rest_query_max(const char *query, int64_t limit, int64_t dflt,
                       int64_t *out);

/* Resolve an {id} that is a UUID or a name. 0 and *out filled, or -1 with
 * CMN_ERR_NOT_FOUND ("VM 'x' not found"). For hosts call eng_host_clear
 * on *out after use. */
int eng_rest_find_vm(eng_store_t *s, const char *ref, eng_vm_t *out);
int eng_rest_find_host(eng_store_t *s, const char *ref, eng_host_t *out);
int eng_rest_find_cluster(eng_store_t *s, const char *ref, eng_cluster_t *out);
int eng_rest_find_dc(eng_store_t *s, const char *ref, eng_dc_t *out);

/* The `search` parameter of a raw query string (may be NULL), parsed
 * (eng_search.h: "name=web* and status=up sortby name desc"), its fields
 * checked against `known`. 0 with *out = NULL when there is none; -1 with
 * CMN_ERR_INVALID naming the problem. Free *out with eng_search_destroy. */
int eng_rest_query_search(const char *query, const char *const *known,
                          eng_search_t **out);

/* ---- HTTP status and faults -------------------------------------------- */

/* HTTP status of an error code, as in docs/ARCHITECTURE.md. */
int eng_rest_http_status(cmn_code_t code);
/* Reason phrase of an HTTP status ("Not Found"). */
const char *eng_rest_http_reason(int status);
/* New reference: {"reason", "detail", "code"} for the code and message. */
json_t *eng_rest_fault_json(cmn_code_t code, const char *detail);

/* ---- bodies -> records ------------------------------------------------- */

/* Which fields a VM body set (for updates, which change only those). */
enum {
    ENG_VMF_NAME = 1u << 0,
    ENG_VMF_DESCRIPTION = 1u << 1,
    ENG_VMF_MEMORY = 1u << 2,
    ENG_VMF_SOCKETS = 1u << 3,
    ENG_VMF_CORES = 1u << 4,
    ENG_VMF_THREADS = 1u << 5,
    ENG_VMF_DISKS = 1u << 6,
    ENG_VMF_NICS = 1u << 7,
    ENG_VMF_DISPLAY = 1u << 8,
    ENG_VMF_HA = 1u << 9,
    ENG_VMF_HA_PRIORITY = 1u << 10,
    ENG_VMF_CLUSTER = 1u << 11,
    ENG_VMF_PIN = 1u << 12,     /* placement_policy.hosts (maybe empty) */
};

/* A parsed VM body: the fields it set, in `vm`, plus references that
 * need the store to resolve (cluster and pinned host by id or name). */
typedef struct {
    unsigned set;               /* ENG_VMF_* bits */
    eng_vm_t vm;
    char cluster_id[ENG_ID_LEN];
    char cluster_name[ENG_NAME_LEN];
    char host_id[ENG_ID_LEN];   /* pinned host, by id ... */
    char host_name[ENG_NAME_LEN];   /* ... or by name; both "" = unpin */
} eng_rest_vm_body_t;

/* Parse a VM body (create when `update` is false: name and memory
 * required; an update refuses disk and NIC changes). Pure: no store. 0 and
 * *out filled, or -1 with CMN_ERR_INVALID naming the field and what was
 * expected (or the JSON error's line, column and byte; or "too many disks"
 * past ENG_VM_MAX_DISKS) and *out zeroed. */
int eng_rest_parse_vm(const char *body, size_t len, bool update,
                      eng_rest_vm_body_t *out);

/* Copy the fields `b` set onto `vm` (the spec part) and resolve cluster
 * and pinned host through the store. -1 with CMN_ERR_NOT_FOUND naming the
 * missing cluster or host. `vm` is untouched on error. */
int eng_rest_vm_apply(eng_store_t *s, const eng_rest_vm_body_t *b,
                      eng_vm_t *vm);

/* Parse an optional start body {"host": {"id"|"name"}}; empty body or
 * "{}" gives "" refs. -1 with CMN_ERR_INVALID naming the field. */
int eng_rest_parse_start(const char *body, size_t len,
                         char host_id[ENG_ID_LEN],
                         char host_name[ENG_NAME_LEN]);

/* Check the optional body of the other actions: empty, or an object with
 * only "async"/"force" booleans (accepted, ignored). */
int eng_rest_parse_action(const char *body, size_t len);

/* Bodies of eng_rest_body.c; each -1 with CMN_ERR_INVALID naming the
 * field. Data center / cluster: fields present overwrite *dc / *c (create:
 * name required); a cluster's data center reference (id or name) goes to
 * dc_ref ("" if absent). */
int eng_rest_parse_dc(const char *body, size_t len, bool update, eng_dc_t *dc);
int eng_rest_parse_cluster(const char *body, size_t len, bool update,
                           eng_cluster_t *c, char dc_ref[ENG_NAME_LEN]);
/* POST /users: {"user_name", "password", "role": {"name"}}; a name with
 * no '@' gets "@internal"; *role -1 when not given. */
int eng_rest_parse_user(const char *body, size_t len, char name[ENG_NAME_LEN],
                        char *password, size_t pw_size, int *role);
/* POST /users/{id}/permissions: {"role": {"name": "Operator"}}. */
int eng_rest_parse_perm(const char *body, size_t len, int *role);
/* Ticket action: optional {"ticket": {"expiry": seconds}}. */
#define ENG_REST_TICKET_DEFAULT_S 120
#define ENG_REST_TICKET_MAX_S 86400
int eng_rest_parse_ticket(const char *body, size_t len, int64_t *expiry_s);

/* Parse an optional ping body {"count": N}; empty gives the default. */
int eng_rest_parse_ping(const char *body, size_t len, unsigned *count);

/* Parse a JSON body that must be an object (or empty when `allow_empty`:
 * *out = NULL). -1 with CMN_ERR_INVALID giving line, column and byte. */
int eng_rest_parse_object(const char *body, size_t len, bool allow_empty,
                          json_t **out);

/* ---- records -> JSON (new references) ---------------------------------- */

json_t *eng_rest_vm_json(const eng_vm_t *vm);
struct evbuffer;
/* The same VM as compact ASCII JSON text appended to `b` (the bytes of
 * json_dumps(eng_rest_vm_json(vm), JSON_COMPACT | JSON_ENSURE_ASCII)),
 * without a tree (eng_rest_fast.c). Returns 0. */
int eng_rest_vm_json_write(const eng_vm_t *vm, struct evbuffer *b);
/* `active`/`total`: VMs running on it / placed on it. */
json_t *eng_rest_host_json(const eng_host_t *h, int active, int total);
json_t *eng_rest_host_nics_json(const eng_host_t *h);
json_t *eng_rest_dc_json(const eng_dc_t *dc);
json_t *eng_rest_cluster_json(const eng_cluster_t *c);
json_t *eng_rest_event_json(const eng_event_t *ev);
/* {"statistic": [...]} from a stats sample (may be NULL: empty list);
 * `kind` is "vm" or "host", `id` the entity id. */
json_t *eng_rest_stats_json(const json_t *sample, const char *kind,
                            const char *id);
/* {"id", "href"} of an entity under `coll` ("vms", "hosts", ...). */
json_t *eng_rest_ref_json(const char *coll, const char *id);

/* A JSON string of `s`, with bytes that are not valid UTF-8 replaced by
 * '?' (text from paths and peers). Never NULL unless out of memory. */
json_t *eng_rest_str(const char *s);

/* Set `key` to the decimal string of `v` (oVirt renders numbers as
 * strings). */
void eng_rest_set_num(json_t *obj, const char *key, int64_t v);

/* ---- server internals shared by the handler files ---------------------- */

struct evhttp_request;

typedef struct {
    eng_rest_t *rest;
    eng_ctx_t *ctx;
    struct evhttp_request *req;
    unsigned method;            /* ENG_REST_* bit */
    eng_route_t route;
    const char *query;          /* raw query string or NULL */
    const char *body;           /* request body as JSON text (an XML body
                                   is converted first; NUL-terminated) */
    size_t body_len;
    eng_user_t user;            /* who asks (authenticated) */
    bool filter;                /* "Filter: true": only the user's own VMs */
    bool async;                 /* ?async=true: answer "pending" at once */
} eng_rest_call_t;

/* Reply with `status` and `body` (stolen; NULL = empty), as XML or JSON
 * per the request's Accept header (oVirt: XML unless JSON is asked for).
 * The XML root element is inferred: a one-array object is a collection,
 * a fault, an action answer, the API root, or a resource by its href. */
void eng_rest_reply(struct evhttp_request *req, int status, json_t *body);
/* 200 with a collection {"elem": [...]} (XML <elems><elem>...) rendered
 * one item at a time, so that a long list never exists as one tree. */
void eng_rest_reply_list(struct evhttp_request *req, const char *elem,
                         const void *const *items, size_t n,
                         json_t *(*render)(const void *item));
/* The same, item by item: new (NULL with CMN_ERR_NOMEM), add (the item
 * is stolen; -1 with an error recorded), then send (200) or abort (no
 * reply). Both free the writer. */
typedef struct eng_rest_lw eng_rest_lw_t;
eng_rest_lw_t *eng_rest_lw_new(struct evhttp_request *req, const char *elem);
int eng_rest_lw_add(eng_rest_lw_t *w, json_t *item);
void eng_rest_lw_send(eng_rest_lw_t **w);
/* Add a VM: written straight as JSON text (eng_rest_vm_json_write), or
 * through its tree for XML. -1 with an error recorded. */
int eng_rest_lw_add_vm(eng_rest_lw_t *w, const eng_vm_t *vm);
void eng_rest_lw_abort(eng_rest_lw_t **w);
/* Same with an explicit XML root element name. */
void eng_rest_reply_as(struct evhttp_request *req, int status,
                       const char *name, json_t *body);
/* True if the request wants XML (Accept). */
bool eng_rest_want_xml(struct evhttp_request *req);
/* Reply with the fault of the recorded error (or `code`/`detail` if none). */
void eng_rest_reply_err(struct evhttp_request *req);
/* Send `len` bytes of `text` (borrowed; NULL = no body) with `status` and
 * Content-Type `ctype` (NULL = none); out of memory answers 500. */
void eng_rest_send(struct evhttp_request *req, int status, const char *ctype,
                   const char *text, size_t len);

/* A request answered later, when an operation's callback fires. */
typedef struct eng_rest_pending eng_rest_pending_t;
typedef enum {
    ENG_PEND_ACTION,            /* {"status": "complete"} */
    ENG_PEND_REMOVE,            /* 200, empty object */
    ENG_PEND_PING,              /* {"status", "ping"} */
} eng_pend_kind_t;

/* Register `call`'s request as waiting; NULL with CMN_ERR_NOMEM. */
eng_rest_pending_t *eng_rest_pending_new(eng_rest_call_t *call,
                                         eng_pend_kind_t kind);
/* Members (stolen) merged into the success answer. */
void eng_rest_pending_set_extra(eng_rest_pending_t *p, json_t *extra);
/* Undo eng_rest_pending_new when the operation did not begin. */
void eng_rest_pending_drop(eng_rest_pending_t *p);
/* The eng_op_cb to pass with the pending as opaque. */
void eng_rest_pending_cb(cmn_code_t code, const char *message, void *opaque);
/* After an operation began: with call->async, answer 202 "pending" now
 * (the outcome is then only logged and in the event log). */
void eng_rest_pending_started(eng_rest_call_t *call, eng_rest_pending_t *p);
/* An action that could not begin: {"status": "failed", "fault"} with the
 * HTTP status of the recorded error. */
void eng_rest_action_failed(eng_rest_call_t *call);

/* Handlers (eng_rest_vm.c, eng_rest_host.c, eng_rest_inv.c,
 * eng_rest_auth.c). */
void eng_rest_handle_vms(eng_rest_call_t *call);
void eng_rest_handle_hosts(eng_rest_call_t *call);
void eng_rest_handle_root(eng_rest_call_t *call);
/* POST /vms/{id}/ticket (eng_rest_ticket.c). */
void eng_rest_vm_ticket(eng_rest_call_t *call, const eng_vm_t *vm);
void eng_rest_handle_dcs(eng_rest_call_t *call);
void eng_rest_handle_clusters(eng_rest_call_t *call);
void eng_rest_handle_events(eng_rest_call_t *call);
void eng_rest_handle_users(eng_rest_call_t *call);
/* Migration and scheduling (eng_rest_mig.c). eng_rest_ext_route: true
 * and *out filled (kind ENG_ROUTE_EXT) for /jobs[/{id}],
 * /vms/{id}/cancelmigration, /clusters/{id}/affinitygroups[/{id}
 * [/vms[/{vm}]]]. */
bool eng_rest_ext_route(const char *path, eng_route_t *out);
void eng_rest_handle_ext(eng_rest_call_t *call);
/* POST /vms/{id}/migrate with an optional {"host": {"id"|"name"}}. */
void eng_rest_vm_migrate(eng_rest_call_t *call, const eng_vm_t *vm);
/* Add "migration": {progress, target_host, memory_remaining, job} to a
 * VM's JSON while it migrates. */
void eng_rest_vm_add_migration(eng_ctx_t *ctx, const eng_vm_t *vm, json_t *o);
/* A cluster body's scheduling_policy {name, properties: {property: [{name,
 * value}]}} and migration {bandwidth: {custom_value} (Mbit/s),
 * max_downtime (ms)}, stored for cluster_id. -1 with CMN_ERR_INVALID. */
int eng_rest_cluster_sched_apply(eng_rest_call_t *call, const char *cluster_id);
/* eng_rest_cluster_json plus those two members. New reference. */
json_t *eng_rest_cluster_sched_json(eng_ctx_t *ctx, const eng_cluster_t *c);
/* /enginekey[/{rotate|switch}] (eng_rest_enginekey.c). */
void eng_rest_handle_enginekey(eng_rest_call_t *call);
/* POST /ovirt-engine/sso/oauth/token (form body; answers JSON always). */
void eng_rest_handle_sso(eng_rest_call_t *call);

/* ---- authentication (eng_rest_auth.c) ---------------------------------- */

typedef struct eng_rest_auth eng_rest_auth_t;

/* Create admin@internal at first start (password from the config, its
 * file, or a random one written to <state_dir>/admin-password) and the
 * Basic credential cache. NULL with an error recorded. */
eng_rest_auth_t *eng_rest_auth_new(eng_ctx_t *ctx);
void eng_rest_auth_destroy(eng_rest_auth_t **p);
/* Forget cached Basic credentials (after a user change). */
void eng_rest_auth_flush(eng_rest_auth_t *a);
/* The auth state of the server (eng_rest.c). */
eng_rest_auth_t *eng_rest_get_auth(eng_rest_t *rest);
/* Authenticate `call` (session cookie, Bearer or Basic); with "Prefer:
 * persistent-auth" a Basic login gets a session cookie. 0 with call->user
 * set, or -1 with CMN_ERR_AUTH recorded. */
int eng_rest_authenticate(eng_rest_call_t *call);
/* Answer a request eng_rest_authenticate refused: 429 Too Many Requests
 * with Retry-After and a fault when its password check was refused by
 * auth.max_failures, else 401 with WWW-Authenticate: Basic
 * realm="RESTAPI" and the fault of the recorded error. */
void eng_rest_auth_refuse(eng_rest_call_t *call);

/* ---- failed logins per client address (eng_rest_limit.c) ---------------- */

#define ENG_REST_ADDR_LEN 64            /* a numeric address, NUL included */
#define ENG_REST_LIMIT_ADDRS 4096       /* addresses the table holds */

typedef struct eng_rest_limit eng_rest_limit_t;

/* A limit of `per_min` failed password checks per address a minute (a
 * token bucket per address; 0: no limit), holding at most `capacity`
 * addresses (past that, one idle for a minute or else the one whose last
 * failure is the oldest is forgotten). NULL with CMN_ERR_NOMEM. */
eng_rest_limit_t *eng_rest_limit_new(int64_t per_min, size_t capacity);
/* Free the table (NULL is fine) and set *p to NULL. */
void eng_rest_limit_destroy(eng_rest_limit_t **p);
/* 0 if `addr` (borrowed) may have a password checked at `now_ms`
 * (monotonic ms); else the milliseconds until it may (at least 1). */
int64_t eng_rest_limit_wait(const eng_rest_limit_t *l, const char *addr,
                            int64_t now_ms);
/* Count a failed password check from `addr` at `now_ms`. true when it
 * leaves the address over the limit and the address was not reported in
 * the last minute: *fails (may be NULL) gets the failures since its last
 * report, *wait_ms (may be NULL) the wait; the caller reports it. */
bool eng_rest_limit_fail(eng_rest_limit_t *l, const char *addr,
                         int64_t now_ms, unsigned *fails, int64_t *wait_ms);
/* Addresses in the table (for tests). */
size_t eng_rest_limit_count(const eng_rest_limit_t *l);

#endif /* ENG_REST_PRIV_H */
