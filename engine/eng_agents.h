/* The agent link: the engine's ROUTER socket, one session per host (keyed
 * by the DEALER routing identity, which is the host id), hello, VM reports
 * and reconciliation, VM events, statistics, the liveness timer, and the
 * requests the engine sends to agents. Protobuf types stay inside
 * eng_agents*.c; the rest of the engine uses the calls below. */
#ifndef ENG_AGENTS_H
#define ENG_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_err.h"
#include "eng_ctx.h"

/* Outcome of a request sent to an agent. Strings are valid only during the
 * callback. */
typedef struct {
    cmn_code_t code;            /* CMN_OK or the agent's / transport's code */
    const char *message;        /* never NULL */
    const char *disk_path;      /* disk_create: where the volume is; else "" */
    uint64_t disk_size;         /* disk_create: its size in bytes */
    uint64_t rtt_us;            /* ping: round trip in microseconds */
} eng_agent_reply_t;

/* Called exactly once per accepted request, on the loop. */
typedef void (*eng_agents_cb)(const eng_agent_reply_t *r, void *opaque);

/* VM operations (numbers of herd.VmOpKind). */
typedef enum {
    ENG_AGT_OP_START = 1,
    ENG_AGT_OP_SHUTDOWN = 2,
    ENG_AGT_OP_DESTROY = 3,
    ENG_AGT_OP_REBOOT = 4,
    ENG_AGT_OP_RESET = 5,
    ENG_AGT_OP_PAUSE = 6,
    ENG_AGT_OP_RESUME = 7,
    ENG_AGT_OP_UNDEFINE = 8,
} eng_agent_op_t;

/* Bind the ROUTER on ctx->conf.agents_listen and start the liveness timer.
 * Hosts already in the store start as connecting. NULL with an error
 * recorded if the endpoint cannot be bound. ctx is borrowed and must
 * outlive the result. */
eng_agents_t *eng_agents_new(eng_ctx_t *ctx);

/* Same without a socket, for fuzzing and tests of the message handler:
 * replies are only returned by eng_agents_handle(). */
eng_agents_t *eng_agents_new_detached(eng_ctx_t *ctx);

/* Fail every pending request (callbacks run with CMN_ERR_UNAVAILABLE),
 * close the socket, free. Accepts NULL; sets *p = NULL. */
void eng_agents_destroy(eng_agents_t **p);

/* The endpoint actually bound ("tcp://127.0.0.1:40123"); owned by agents.
 * NULL when detached. */
const char *eng_agents_endpoint(eng_agents_t *a);

/* Handle one frame as if host `identity` (id_len bytes) had sent it. Any
 * bytes are accepted. Returns the encoded reply to send back (malloc'd,
 * caller frees, *reply_len set) or NULL if none is due. */
uint8_t *eng_agents_handle(eng_agents_t *a, const uint8_t *identity,
                           size_t id_len, const uint8_t *data, size_t len,
                           size_t *reply_len);

/* Run the liveness check now (the timer does it every second). */
void eng_agents_tick(eng_agents_t *a);

/* Write dirty statistics samples to the store in one transaction. */
void eng_agents_flush_stats(eng_agents_t *a);

/* True if `host_id` has a session (said hello, not lost since). */
bool eng_agents_connected(eng_agents_t *a, const char *host_id);

/* Administrative status of a host (REST host actions): `maintenance`
 * puts it in maintenance; else it comes back, up when it has a session,
 * connecting otherwise. In memory and in the store, with an event ending
 * in `why`. -1 with CMN_ERR_NOT_FOUND if the host has no entry. */
int eng_agents_host_admin(eng_agents_t *a, const char *host_id,
                          bool maintenance, const char *why);

/* The CURVE enrollment state of the bound socket (eng_enroll.h), or NULL
 * when detached or with agents.curve: false. */
struct eng_enroll *eng_agents_enroll(eng_agents_t *a);

/* Forget `host_id`: drop its session, fail its pending requests with
 * CMN_ERR_UNAVAILABLE naming `why`, and remove it from the liveness table
 * (for a removed host or a revoked key). Its next message finds no
 * session. Nothing happens for an unknown host. */
void eng_agents_cut_off(eng_agents_t *a, const char *host_id,
                        const char *why);

/* Requests to the agent of `host_id`. Each returns 0 and later calls `cb`
 * exactly once (reply, CMN_ERR_TIMEOUT after the request timeout, or
 * CMN_ERR_UNAVAILABLE when the host is lost or the engine stops); or -1
 * with CMN_ERR_UNAVAILABLE recorded (no session, send failed) and never
 * calls cb. Strings are copied. `extra_timeout_s` is added to
 * agents.request_timeout for operations that wait on the guest. */
int eng_agents_vm_create(eng_agents_t *a, const char *host_id,
                         const char *vm_id, const char *domain_xml,
                         bool start, eng_agents_cb cb, void *opaque);
int eng_agents_vm_op(eng_agents_t *a, const char *host_id, const char *vm_id,
                     eng_agent_op_t op, unsigned timeout_s,
                     eng_agents_cb cb, void *opaque);
/* Set a console password valid for expiry_s seconds on a running VM. */
int eng_agents_vm_ticket(eng_agents_t *a, const char *host_id,
                         const char *vm_id, const char *password,
                         unsigned expiry_s, eng_agents_cb cb, void *opaque);
int eng_agents_disk_create(eng_agents_t *a, const char *host_id,
                           const char *disk_id, uint64_t size_bytes,
                           eng_agents_cb cb, void *opaque);
int eng_agents_disk_delete(eng_agents_t *a, const char *host_id,
                           const char *disk_id, eng_agents_cb cb,
                           void *opaque);
int eng_agents_ping(eng_agents_t *a, const char *host_id, eng_agents_cb cb,
                    void *opaque);

/* ---- engine key rotation (eng_agents_key.c; eng_enginekey.h) ---------- */

/* The rotation state of the bound socket, or NULL when detached or with
 * agents.curve: false. */
struct eng_enginekey *eng_agents_enginekey(eng_agents_t *a);

/* EngineKey{public_key, switch_now, switch_time_ms} to host_id's agent:
 * a typed request like those above. */
int eng_agents_engine_key(eng_agents_t *a, const char *host_id,
                          const char *public_key, bool switch_now,
                          int64_t switch_ms, eng_agents_cb cb, void *opaque);

/* A new rotation (or one resumed at start): every host's "has the next
 * key" is forgotten. */
void eng_agents_key_begin(eng_agents_t *a);
/* The rotation ended (switched): later answers about it are ignored. */
void eng_agents_key_end(eng_agents_t *a);

/* Called once when every agent of a batch has answered. */
typedef void (*eng_agents_key_done_cb)(void *opaque);
typedef struct eng_agents_key_batch eng_agents_key_batch_t;

/* Send the next key to every host with a session. Each OK marks the host
 * as having it (first time: event 117) and tells the rotation
 * (eng_enginekey_host_ready); an error is a warning event 117. With
 * `done`, a batch is returned whose done(opaque) is called on the loop
 * once every host sent to has answered, failed or timed out; NULL when
 * nothing was sent (done is then never called). */
eng_agents_key_batch_t *eng_agents_key_publish_all(eng_agents_t *a,
                                                   const char *public_key,
                                                   bool switch_now,
                                                   int64_t switch_ms,
                                                   eng_agents_key_done_cb done,
                                                   void *opaque);
/* The batch's done is never called (the batch frees itself later). */
void eng_agents_key_batch_cancel(eng_agents_key_batch_t *b);

/* At a hello during a rotation: send the next key to host_id soon (on
 * the loop, after the hello is answered). */
void eng_agents_key_on_hello(eng_agents_t *a, const char *host_id);

/* True if every host with a session has confirmed the next key. */
bool eng_agents_key_all_ready(eng_agents_t *a);

/* Approved hosts (an approved, unexpired key bound to a host id) and
 * whether each confirmed the next key of the current rotation. */
typedef struct {
    char id[ENG_ID_LEN];
    char name[ENG_NAME_LEN];
    bool has_next_key;
} eng_agents_key_host_t;
/* 0 and *out (malloc'd, caller frees) / *n, or -1 with an error recorded. */
int eng_agents_key_hosts(eng_agents_t *a, eng_agents_key_host_t **out,
                         size_t *n);

/* Serve a new CURVE secret key on the ROUTER (cmn_zsock_rekey): agents'
 * connections drop and come back with the new server key. 0 when
 * detached; -1 with an error recorded. */
int eng_agents_rekey(eng_agents_t *a, const char *secret_key);

#endif /* ENG_AGENTS_H */
