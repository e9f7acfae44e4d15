/* The RPC envelope: encoding, validated decoding, and matching replies to
 * requests by id with a timeout per request. Knows the Envelope, nothing of
 * what its bodies mean. See docs/ARCHITECTURE.md for which bodies are
 * requests (always answered) and which are notifications. */
#ifndef CMN_RPC_H
#define CMN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_err.h"
#include "herd.pb-c.h"

struct event_base;

#define CMN_RPC_VERSION HERD__PROTOCOL__PROTOCOL_VERSION

/* Decode one frame (max_bytes 0 means 4 MiB). Checks the size against
 * max_bytes *before* unpacking,
 * then the version (CMN_ERR_VERSION), that id != 0, that a body is set or
 * result is present, and that result.code is a known code. Returns NULL with
 * the error recorded (CMN_ERR_TOO_BIG / CMN_ERR_PROTOCOL / CMN_ERR_VERSION).
 * On a version mismatch *id_out (if not NULL) gets the peer's id so a reply
 * can still be addressed. Free with cmn_rpc_free(). */
Herd__Envelope *cmn_rpc_decode(const uint8_t *buf, size_t len, size_t max_bytes,
                               uint64_t *id_out);
void cmn_rpc_free(Herd__Envelope *env);

/* Encode into a malloc'd buffer (caller frees); sets env->version. NULL on
 * allocation failure. */
uint8_t *cmn_rpc_encode(Herd__Envelope *env, size_t *len);

/* Fill a reply envelope answering `request_id` with code/message. `result`
 * is caller storage that env->result will point at. */
void cmn_rpc_init_reply(Herd__Envelope *env, Herd__Result *result,
                        uint64_t id, uint64_t request_id,
                        cmn_code_t code, const char *message);

/* The pending-request table. */
typedef struct cmn_rpc cmn_rpc_t;

/* Called exactly once per expected reply: with the reply envelope (the
 * callee must not free it) and code CMN_OK or the reply's result code, or
 * with env == NULL and code CMN_ERR_TIMEOUT / CMN_ERR_UNAVAILABLE when the
 * timeout fires or cmn_rpc_fail_all() is called. `message` is never NULL. */
typedef void (*cmn_rpc_reply_cb)(const Herd__Envelope *env, cmn_code_t code,
                                 const char *message, void *opaque);

cmn_rpc_t *cmn_rpc_new(struct event_base *base);
/* Fails every pending request with CMN_ERR_UNAVAILABLE, then frees.
 * Accepts NULL; sets *p = NULL. */
void cmn_rpc_destroy(cmn_rpc_t **p);

/* A fresh message id (never 0, increasing). */
uint64_t cmn_rpc_next_id(cmn_rpc_t *rpc);

/* Register a callback for the reply to request `id`, firing with
 * CMN_ERR_TIMEOUT after timeout_ms. `key` (may be NULL, copied) groups
 * requests, so that cmn_rpc_fail_key() can fail all requests sent to one
 * peer. -1 with CMN_ERR_EXISTS if `id` is already pending, or
 * CMN_ERR_UNAVAILABLE while the table is being destroyed.
 *
 * Callbacks run with their entry already removed, so they may call any
 * cmn_rpc_* function on the same table, including cmn_rpc_destroy(). */
int cmn_rpc_expect(cmn_rpc_t *rpc, uint64_t id, const char *key,
                   unsigned timeout_ms, cmn_rpc_reply_cb cb, void *opaque);

/* If env->in_reply_to matches a pending request (and, when key is not
 * NULL, that request was registered with the same key), run its callback,
 * forget it and return true. Otherwise return false (a late or stray reply). */
bool cmn_rpc_complete(cmn_rpc_t *rpc, const char *key, const Herd__Envelope *env);

/* Fail pending requests of `key` (all if NULL) with `code` and `message`. */
void cmn_rpc_fail_key(cmn_rpc_t *rpc, const char *key, cmn_code_t code,
                      const char *message);

/* Number of pending requests. */
size_t cmn_rpc_pending(cmn_rpc_t *rpc);

/* Name of the body case ("hello", "vm_op", ...) for logs; "none" if unset. */
const char *cmn_rpc_body_name(const Herd__Envelope *env);

#endif /* CMN_RPC_H */
