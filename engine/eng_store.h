/* The engine's inventory in SQLite (WAL). All SQL lives behind this header,
 * so that another database can serve later. Records are plain structs with
 * fixed-size strings; the only heap field is eng_host_t.caps (a jansson
 * object), released by eng_host_clear().
 *
 * Conventions: getters return 0 and fill *out, or -1 with CMN_ERR_NOT_FOUND
 * (or CMN_ERR_DB) recorded. Lists return a malloc'd array (caller frees; for
 * hosts call eng_host_clear on each element first) and its length.
 * Inserts fail with CMN_ERR_EXISTS on a duplicate name. Every write is one
 * transaction unless the caller holds one from eng_store_begin(). */
#ifndef ENG_STORE_H
#define ENG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmn_util.h"

#define ENG_ID_LEN (CMN_UUID_STRLEN + 1)
#define ENG_NAME_LEN 256
#define ENG_DESC_LEN 1024
#define ENG_VM_MAX_DISKS 16
#define ENG_VM_MAX_NICS 16

typedef struct eng_store eng_store_t;

/* ---- data centers and clusters (a "Default" of each is made on creation) */
typedef struct {
    char id[ENG_ID_LEN];
    char name[ENG_NAME_LEN];
    char description[ENG_DESC_LEN];
    int64_t created_ms;
} eng_dc_t;

typedef struct {
    char id[ENG_ID_LEN];
    char name[ENG_NAME_LEN];
    char description[ENG_DESC_LEN];
    char dc_id[ENG_ID_LEN];
    char cpu_type[ENG_NAME_LEN];    /* "" = any */
    int memory_overcommit;          /* percent, default 100 */
    int64_t created_ms;
} eng_cluster_t;

/* ---- hosts */
typedef enum {
    ENG_HOST_CONNECTING = 0,
    ENG_HOST_UP,
    ENG_HOST_NON_RESPONSIVE,
    ENG_HOST_MAINTENANCE,
    ENG_HOST_PENDING_APPROVAL,
    ENG_HOST_PREPARING_FOR_MAINTENANCE,
    ENG_HOST_DOWN,
    ENG_HOST__LAST
} eng_host_status_t;

/* oVirt's names: "connecting", "up", "non_responsive", "maintenance",
 * "pending_approval", "preparing_for_maintenance", "down". */
const char *eng_host_status_name(eng_host_status_t s);
int eng_host_status_parse(const char *name);    /* -1 if unknown */

typedef struct {
    char id[ENG_ID_LEN];            /* the agent's host id */
    char name[ENG_NAME_LEN];        /* defaults to the hostname */
    char cluster_id[ENG_ID_LEN];
    char address[ENG_NAME_LEN];     /* hostname or first address */
    eng_host_status_t status;
    json_t *caps;                   /* Hello, as JSON (field names of
                                       herd.proto Hello); NULL if never seen */
    int64_t last_seen_ms;
    int64_t status_time_ms;
    int64_t created_ms;
} eng_host_t;

void eng_host_clear(eng_host_t *h);   /* decref caps; safe on zeroed struct */

/* ---- VMs */
typedef enum {
    ENG_VM_DOWN = 0,
    ENG_VM_WAIT_FOR_LAUNCH,
    ENG_VM_POWERING_UP,
    ENG_VM_UP,
    ENG_VM_POWERING_DOWN,
    ENG_VM_PAUSED,
    ENG_VM_MIGRATING,
    ENG_VM_UNKNOWN,
    ENG_VM_NOT_RESPONDING,
    ENG_VM_REBOOT_IN_PROGRESS,
    ENG_VM__LAST
} eng_vm_status_t;

/* oVirt's names: "down", "wait_for_launch", "powering_up", "up",
 * "powering_down", "paused", "migrating", "unknown", "not_responding",
 * "reboot_in_progress". */
const char *eng_vm_status_name(eng_vm_status_t s);
int eng_vm_status_parse(const char *name);      /* -1 if unknown */

typedef struct {
    char id[ENG_ID_LEN];
    uint64_t size_bytes;
    char interface[16];             /* "virtio" (vdX), "sata" (sdX), "ide" */
    char format[8];                 /* "cow" (qcow2) */
    bool bootable;
    char path[512];                 /* on the host; "" until created */
} eng_disk_t;

typedef struct {
    char name[64];                  /* "nic1" */
    char mac[18];                   /* "56:6f:xx:xx:xx:xx", generated if "" */
    char network[64];               /* libvirt network; "" = user-mode NIC */
    char bridge[64];                /* host bridge; wins over network */
    char model[16];                 /* "virtio", "e1000", "rtl8139" */
} eng_nic_t;

typedef struct {
    /* spec */
    char id[ENG_ID_LEN];
    char name[ENG_NAME_LEN];
    char description[ENG_DESC_LEN];
    char cluster_id[ENG_ID_LEN];
    uint64_t memory_bytes;
    uint32_t sockets, cores, threads;   /* vCPUs = product */
    int ndisks;
    eng_disk_t disks[ENG_VM_MAX_DISKS];
    int nnics;
    eng_nic_t nics[ENG_VM_MAX_NICS];
    char display_type[8];           /* "vnc", "spice", "none" */
    bool ha;
    int ha_priority;
    char pinned_host_id[ENG_ID_LEN];    /* "" = any host */
    bool external;                  /* found running, not made by Herd */
    int64_t created_ms;
    /* runtime */
    eng_vm_status_t status;
    char host_id[ENG_ID_LEN];       /* where it runs, or last ran */
    int64_t start_time_ms;          /* 0 when down */
    int64_t status_time_ms;
    uint32_t display_port;          /* 0 when none */
    char display_address[64];
} eng_vm_t;

/* ---- events */
typedef enum {
    ENG_SEV_NORMAL = 0,
    ENG_SEV_WARNING,
    ENG_SEV_ERROR,
    ENG_SEV_ALERT,
} eng_severity_t;

/* oVirt's names: "normal", "warning", "error", "alert". */
const char *eng_severity_name(eng_severity_t s);
int eng_severity_parse(const char *name);       /* -1 if unknown */

typedef struct {
    int64_t id;                     /* increasing */
    int64_t time_ms;
    eng_severity_t severity;
    int code;                       /* ENG_EV_* below */
    char description[ENG_DESC_LEN];
    char host_id[ENG_ID_LEN];       /* "" if none */
    char vm_id[ENG_ID_LEN];
    char user[ENG_NAME_LEN];        /* who caused it; "" for the system */
    char correlation_id[64];
} eng_event_t;

/* Event codes (stable; shown in the API). */
enum {
    ENG_EV_ENGINE_STARTED = 1,
    ENG_EV_HOST_ADDED = 100,
    ENG_EV_HOST_UP = 101,
    ENG_EV_HOST_CONNECTING = 102,
    ENG_EV_HOST_NON_RESPONSIVE = 103,
    ENG_EV_HOST_STATUS = 104,
    ENG_EV_HOST_REMOVED = 105,
    ENG_EV_VM_ADDED = 200,
    ENG_EV_VM_REMOVED = 201,
    ENG_EV_VM_STATUS = 202,         /* a status change */
    ENG_EV_VM_EXTERNAL = 203,       /* found running, recorded */
    ENG_EV_VM_COMMAND = 210,        /* a command accepted and done */
    ENG_EV_VM_COMMAND_FAILED = 211,
    ENG_EV_VM_DOWN_UNEXPECTED = 212,
};

/* ---- REST API users and their bearer tokens */
typedef enum {
    ENG_ROLE_SUPERUSER = 0,     /* everything */
    ENG_ROLE_OPERATOR,          /* reads everything, changes VMs only */
    ENG_ROLE_READONLY,          /* reads everything */
    ENG_ROLE__LAST
} eng_role_t;

/* "SuperUser", "Operator", "ReadOnly". */
const char *eng_role_name(eng_role_t r);
int eng_role_parse(const char *name);   /* exact or any case; -1 if unknown */

#define ENG_PWHASH_LEN 128          /* crypto_pwhash_STRBYTES */
#define ENG_TOKEN_HASH_LEN 65       /* SHA-256 as hex + NUL */

typedef struct {
    char id[ENG_ID_LEN];
    char name[ENG_NAME_LEN];        /* "admin@internal"; unique, any case */
    char hash[ENG_PWHASH_LEN];      /* crypto_pwhash_str() output */
    eng_role_t role;
    int64_t created_ms;
} eng_user_t;

typedef struct {
    char hash[ENG_TOKEN_HASH_LEN];  /* SHA-256 of the token text, hex */
    char user_id[ENG_ID_LEN];
    int64_t expires_ms;
    int64_t created_ms;
} eng_token_t;

/* ---- store */

/* Open (creating if needed) and migrate to the current schema version
 * (PRAGMA user_version). Makes the Default data center and cluster on a new
 * database. NULL with CMN_ERR_DB recorded on failure. ":memory:" works. */
eng_store_t *eng_store_open(const char *path);
void eng_store_destroy(eng_store_t **p);
int eng_store_schema_version(eng_store_t *s);
/* The schema version this code migrates to (newer files are refused). */
int eng_store_schema_latest(void);

int eng_store_begin(eng_store_t *s);
int eng_store_commit(eng_store_t *s);
void eng_store_rollback(eng_store_t *s);

int eng_store_dc_insert(eng_store_t *s, const eng_dc_t *dc);
int eng_store_dc_get(eng_store_t *s, const char *id, eng_dc_t *out);
int eng_store_dc_get_by_name(eng_store_t *s, const char *name, eng_dc_t *out);
int eng_store_dc_list(eng_store_t *s, eng_dc_t **out, size_t *n);

int eng_store_cluster_insert(eng_store_t *s, const eng_cluster_t *c);
int eng_store_cluster_get(eng_store_t *s, const char *id, eng_cluster_t *out);
int eng_store_cluster_get_by_name(eng_store_t *s, const char *name,
                                  eng_cluster_t *out);
int eng_store_cluster_list(eng_store_t *s, eng_cluster_t **out, size_t *n);

/* Insert or replace every column of the host with this id. */
int eng_store_host_put(eng_store_t *s, const eng_host_t *h);
int eng_store_host_get(eng_store_t *s, const char *id, eng_host_t *out);
int eng_store_host_get_by_name(eng_store_t *s, const char *name, eng_host_t *out);
/* For messages: the name of host `id` in buf, else the id itself ("(none)"
 * for NULL or ""); never fails (a lookup error is dropped). Returns buf. */
const char *eng_store_host_name(eng_store_t *s, const char *id, char *buf,
                                size_t len);
int eng_store_host_list(eng_store_t *s, eng_host_t **out, size_t *n);
int eng_store_host_set_status(eng_store_t *s, const char *id,
                              eng_host_status_t st, int64_t when_ms);
int eng_store_host_delete(eng_store_t *s, const char *id);

int eng_store_vm_insert(eng_store_t *s, const eng_vm_t *vm);
/* Replace the whole record with this id (spec and runtime). */
int eng_store_vm_update(eng_store_t *s, const eng_vm_t *vm);
int eng_store_vm_get(eng_store_t *s, const char *id, eng_vm_t *out);
int eng_store_vm_get_by_name(eng_store_t *s, const char *name, eng_vm_t *out);
int eng_store_vm_list(eng_store_t *s, eng_vm_t **out, size_t *n);
/* VMs whose host_id is `host_id` (any status). */
int eng_store_vm_list_by_host(eng_store_t *s, const char *host_id,
                              eng_vm_t **out, size_t *n);
int eng_store_vm_delete(eng_store_t *s, const char *id);

/* Append an event (fills ev->id and, if 0, ev->time_ms). */
int eng_store_event_add(eng_store_t *s, eng_event_t *ev);
/* Events with id > after_id (all if 0), oldest first, at most max (0 = all).
 * With newest_first the newest `max` events, newest first. */
int eng_store_event_list(eng_store_t *s, int64_t after_id, size_t max,
                         bool newest_first, eng_event_t **out, size_t *n);
/* Delete events older than `before_ms`; returns how many or -1. */
int64_t eng_store_event_prune(eng_store_t *s, int64_t before_ms);
/* Delete events older than `keep_days` days before `now_ms` (keep_days <= 0
 * keeps everything and returns 0); returns how many or -1. */
int64_t eng_store_event_prune_days(eng_store_t *s, int64_t keep_days,
                                   int64_t now_ms);

/* Newest statistics sample of an entity, as JSON text (kind "host"/"vm"). */
int eng_store_stats_put(eng_store_t *s, const char *kind, const char *id,
                        int64_t time_ms, const char *json);
/* malloc'd JSON text or NULL with CMN_ERR_NOT_FOUND. */
char *eng_store_stats_get(eng_store_t *s, const char *kind, const char *id,
                          int64_t *time_ms);

/* Users: insert fails with CMN_ERR_EXISTS on a duplicate name (any case).
 * Deleting a user deletes its tokens. */
int eng_store_user_insert(eng_store_t *s, const eng_user_t *u);
int eng_store_user_get(eng_store_t *s, const char *id, eng_user_t *out);
int eng_store_user_get_by_name(eng_store_t *s, const char *name,
                               eng_user_t *out);
int eng_store_user_list(eng_store_t *s, eng_user_t **out, size_t *n);
int eng_store_user_set_hash(eng_store_t *s, const char *id, const char *hash);
int eng_store_user_set_role(eng_store_t *s, const char *id, eng_role_t role);
int eng_store_user_delete(eng_store_t *s, const char *id);

/* Tokens, keyed by hash. Insert fails with CMN_ERR_NOT_FOUND if the user
 * does not exist. */
int eng_store_token_insert(eng_store_t *s, const eng_token_t *t);
int eng_store_token_get(eng_store_t *s, const char *hash, eng_token_t *out);
int eng_store_token_delete(eng_store_t *s, const char *hash);
/* Delete every token of a user; returns how many or -1. */
int64_t eng_store_token_delete_user(eng_store_t *s, const char *user_id);
/* Delete tokens with expires_ms <= now_ms; returns how many or -1. */
int64_t eng_store_token_prune(eng_store_t *s, int64_t now_ms);

/* ---- additions for the REST API (eng_store_rest.c) */

/* Update name and description of a data center (by id). */
int eng_store_dc_update(eng_store_t *s, const eng_dc_t *dc);
/* Delete a data center; CMN_ERR_STATE naming how many clusters it still
 * holds. */
int eng_store_dc_delete(eng_store_t *s, const char *id);
/* Update every column of a cluster but id and created_ms. */
int eng_store_cluster_update(eng_store_t *s, const eng_cluster_t *c);
/* Delete a cluster; CMN_ERR_STATE naming how many hosts and VMs it still
 * holds. */
int eng_store_cluster_delete(eng_store_t *s, const char *id);
/* Call fn for every VM, by name, with a record valid during the call
 * (one record in memory however many VMs there are); fn returning non-zero
 * stops the walk and is returned. -1 with the store's error recorded. */
int eng_store_vm_foreach(eng_store_t *s,
                         int (*fn)(const eng_vm_t *vm, void *opaque),
                         void *opaque);
/* Record who created a VM (user_id "" clears it). */
int eng_store_vm_set_owner(eng_store_t *s, const char *vm_id,
                           const char *user_id);
/* Ids of the VMs owned by `user_id`: a malloc'd array of ENG_ID_LEN
 * strings (caller frees) and its length. */
int eng_store_vm_owned(eng_store_t *s, const char *user_id,
                       char (**ids)[ENG_ID_LEN], size_t *n);

/* ---- migration and scheduling (eng_store_mig.c) */

/* A cluster's scheduling policy and migration settings (columns of
 * clusters added by schema version 5). */
typedef struct {
    char policy[32];                /* "none", "evenly_distributed", ... */
    char props[1024];               /* JSON object: oVirt name -> text */
    int64_t bandwidth_mbps;         /* migration bandwidth, 0 = unlimited */
    int64_t max_downtime_ms;        /* 0 = libvirt's default */
} eng_cluster_sched_t;

int eng_store_cluster_sched_get(eng_store_t *s, const char *cluster_id,
                                eng_cluster_sched_t *out);
int eng_store_cluster_sched_set(eng_store_t *s, const char *cluster_id,
                                const eng_cluster_sched_t *in);

/* A long operation (a live migration) that survives engine restarts. */
typedef struct {
    char id[ENG_ID_LEN];
    char kind[16];                  /* "migrate" */
    char state[16];                 /* "started", "finished", "failed",
                                       "aborted" (oVirt's job statuses) */
    char vm_id[ENG_ID_LEN];
    char source_host_id[ENG_ID_LEN];
    char target_host_id[ENG_ID_LEN];
    char user[ENG_NAME_LEN];
    char description[ENG_DESC_LEN];
    char message[ENG_DESC_LEN];     /* why it ended, "" while running */
    int percent;
    int64_t memory_total;
    int64_t memory_remaining;
    int64_t started_ms;
    int64_t ended_ms;               /* 0 while running */
} eng_job_t;

/* Insert or replace the job with this id. */
int eng_store_job_put(eng_store_t *s, const eng_job_t *j);
int eng_store_job_get(eng_store_t *s, const char *id, eng_job_t *out);
/* Newest first, at most max (0 = all); only_running: state "started". */
int eng_store_job_list(eng_store_t *s, bool only_running, size_t max,
                       eng_job_t **out, size_t *n);
/* Delete ended jobs that ended before `before_ms`; how many, or -1. */
int64_t eng_store_job_prune(eng_store_t *s, int64_t before_ms);

/* Affinity groups of a cluster; members are VM ids. */
#define ENG_AFF_MAX_VMS 64
typedef struct {
    char id[ENG_ID_LEN];
    char cluster_id[ENG_ID_LEN];
    char name[ENG_NAME_LEN];
    bool positive;                  /* true: together, false: apart */
    bool enforcing;                 /* true: a filter, false: a weight */
    size_t nvms;
    char vms[ENG_AFF_MAX_VMS][ENG_ID_LEN];
    int64_t created_ms;
} eng_affinity_t;

/* Insert a group with its members (CMN_ERR_EXISTS on a duplicate name in
 * the cluster, CMN_ERR_NOT_FOUND for an unknown VM). */
int eng_store_affinity_insert(eng_store_t *s, const eng_affinity_t *g);
int eng_store_affinity_get(eng_store_t *s, const char *id,
                           eng_affinity_t *out);
/* Groups of a cluster (cluster_id NULL: all), by name. */
int eng_store_affinity_list(eng_store_t *s, const char *cluster_id,
                            eng_affinity_t **out, size_t *n);
int eng_store_affinity_delete(eng_store_t *s, const char *id);
/* Set the name, positive and enforcing of group g->id and replace its
 * members with g->vms, in one transaction (CMN_ERR_NOT_FOUND for an unknown
 * group or VM, CMN_ERR_EXISTS for a name taken in the cluster; nothing
 * changes on error). */
int eng_store_affinity_update(eng_store_t *s, const eng_affinity_t *g);

/* ---- agents' CURVE keys and enrollment tokens (eng_store_keys.c) */
typedef enum {
    ENG_KEY_PENDING = 0,        /* seen, waiting for an admin */
    ENG_KEY_APPROVED,
    ENG_KEY_REVOKED,            /* refused at the handshake and per message */
    ENG_KEY__LAST
} eng_key_state_t;

/* "pending", "approved", "revoked". */
const char *eng_key_state_name(eng_key_state_t st);
int eng_key_state_parse(const char *name);      /* -1 if unknown */

typedef struct {
    char public_key[41];            /* Z85, the primary key */
    char fingerprint[51];           /* "SHA256:<base64>" */
    char host_id[ENG_ID_LEN];       /* "" until the key first says hello */
    char name[ENG_NAME_LEN];        /* name given at pre-registration */
    eng_key_state_t state;
    char rotated_from[41];          /* the key this one replaced, "" */
    int64_t expires_ms;             /* 0 = never; set on a rotated-out key */
    int64_t created_ms;
    int64_t approved_ms;
} eng_hostkey_t;

typedef struct {
    char id[ENG_ID_LEN];            /* UUID: what the API shows and deletes */
    char hash[ENG_TOKEN_HASH_LEN];  /* SHA-256 of the token text, hex */
    char name[ENG_NAME_LEN];        /* host name to give, "" = hostname */
    int64_t expires_ms;             /* 0 = never */
    int64_t created_ms;
    char created_by[ENG_NAME_LEN];  /* user name, "" = not recorded */
} eng_enroll_token_t;

/* Insert or replace the key row. */
int eng_store_hostkey_put(eng_store_t *s, const eng_hostkey_t *k);
int eng_store_hostkey_get(eng_store_t *s, const char *public_key,
                          eng_hostkey_t *out);
/* Keys of `host_id` (all if NULL), oldest first; caller frees *out. */
int eng_store_hostkey_list(eng_store_t *s, const char *host_id,
                           eng_hostkey_t **out, size_t *n);
int eng_store_hostkey_delete_host(eng_store_t *s, const char *host_id);
/* Insert a token; t->id "" gets a new UUID (written back only to the
 * stored row: pass a token with its id set to know it). */
int eng_store_enroll_token_insert(eng_store_t *s, const eng_enroll_token_t *t);
/* Tokens still usable at now_ms (neither expired nor used), oldest
 * first; caller frees *out (never holds the hash: it is left ""). */
int eng_store_enroll_token_list(eng_store_t *s, int64_t now_ms,
                                eng_enroll_token_t **out, size_t *n);
/* One token by id, if usable at now_ms: 0 and *out (hash left ""), or -1
 * with CMN_ERR_NOT_FOUND naming the id (absent, used or expired). */
int eng_store_enroll_token_get(eng_store_t *s, const char *id, int64_t now_ms,
                               eng_enroll_token_t *out);
/* Delete a token by id (expired or not, never used): 0 and *out (may be
 * NULL) as it was (hash left ""), or -1 with CMN_ERR_NOT_FOUND naming the
 * id. */
int eng_store_enroll_token_delete(eng_store_t *s, const char *id,
                                  eng_enroll_token_t *out);
/* Consume a token usable at now_ms: 0 and *out; its row stays, marked
 * used, until eng_store_enroll_token_prune. -1 (*out zeroed) with
 * CMN_ERR_NOT_FOUND saying "not found", "expired" or "already used". */
int eng_store_enroll_token_take(eng_store_t *s, const char *hash,
                                int64_t now_ms, eng_enroll_token_t *out);
/* How long a used or expired token's row is kept (7 days). */
#define ENG_ENROLL_TOKEN_KEEP_MS (7LL * 86400 * 1000)
/* Delete the tokens that expired, or were used, more than
 * ENG_ENROLL_TOKEN_KEEP_MS before now_ms; returns how many or -1. */
int64_t eng_store_enroll_token_prune(eng_store_t *s, int64_t now_ms);

#endif /* ENG_STORE_H */
