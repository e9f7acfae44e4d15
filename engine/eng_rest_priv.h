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
#include "eng_ctx.h"
#include "eng_ops.h"
#include "eng_rest.h"
#include "eng_search.h"
#include "eng_store.h"

#define ENG_REST_BASE "/ovirt-engine/api"
#define ENG_REST_USER "admin@internal"
#define ENG_REST_EVENTS_MAX 10000
#define ENG_REST_EVENTS_DEFAULT 100
#define ENG_REST_PING_MAX 10000
#define ENG_REST_PING_DEFAULT 10

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
    ENG_REST_ACT__LAST
} eng_rest_act_t;

typedef struct {
    eng_route_kind_t kind;
    unsigned allowed;           /* ENG_REST_* bits */
    char id[ENG_NAME_LEN];      /* the {id} segment, URL-decoded */
    eng_rest_act_t action;      /* for ENG_ROUTE_VM_ACTION */
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

/* Parse an optional ping body {"count": N}; empty gives the default. */
int eng_rest_parse_ping(const char *body, size_t len, unsigned *count);

/* Parse a JSON body that must be an object (or empty when `allow_empty`:
 * *out = NULL). -1 with CMN_ERR_INVALID giving line, column and byte. */
int eng_rest_parse_object(const char *body, size_t len, bool allow_empty,
                          json_t **out);

/* ---- records -> JSON (new references) ---------------------------------- */

json_t *eng_rest_vm_json(const eng_vm_t *vm);
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
    const char *body;           /* request body (NUL-terminated) */
    size_t body_len;
} eng_rest_call_t;

/* Reply with `status` and `body` (stolen; NULL = empty). */
void eng_rest_reply(struct evhttp_request *req, int status, json_t *body);
/* Reply with the fault of the recorded error (or `code`/`detail` if none). */
void eng_rest_reply_err(struct evhttp_request *req);

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
/* Undo eng_rest_pending_new when the operation did not begin. */
void eng_rest_pending_drop(eng_rest_pending_t *p);
/* The eng_op_cb to pass with the pending as opaque. */
void eng_rest_pending_cb(cmn_code_t code, const char *message, void *opaque);

/* Handlers (eng_rest_vm.c, eng_rest_host.c). */
void eng_rest_handle_vms(eng_rest_call_t *call);
void eng_rest_handle_hosts(eng_rest_call_t *call);

#endif /* ENG_REST_PRIV_H */
