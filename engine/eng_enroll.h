/* Agent keys, enrollment and authorization on the engine's agent socket.
 *
 * The engine's long-term CURVE key pair lives in agents.key_dir
 * (engine.key 0600, engine.pub), made at first start. Every agent has its
 * own pair. The ZAP handler (cmn_zmq, on the loop) asks
 * eng_enroll_zap_cb() about every handshake: revoked and expired keys are
 * refused; unknown keys are let in only when agents.enrollment is not
 * "closed", and then may do nothing but say hello, which records the host
 * as pending_approval with the key's fingerprint: at most
 * agents.pending_rate new pending hosts a minute (a token bucket); a hello
 * over it is answered CMN_ERR_UNAVAILABLE ("too many new hosts; try again
 * later"), records nothing, and is counted in a warning event made at
 * most once a minute.
 *
 * Every message is attributed to a host by the CURVE key it came with,
 * never by its routing identity (under CURVE agents let the ROUTER pick a
 * routing id per connection): eng_enroll_gate() maps key -> host id, drops
 * messages of revoked, unknown and pending keys (but for hello and ping),
 * refuses a hello naming another host's id, and remembers the connection
 * (routing id) each approved host last spoke from, which is where the
 * engine's requests to that host go (eng_enroll_route()). A connection
 * that presents someone else's host id therefore never receives that
 * host's commands.
 *
 * Agent key rotation: `herd-agent-setup --new-key --token T` (a fresh
 * token from the admin) makes a new pair; its first hello approves the new
 * key and leaves the old one working for ENG_ENROLL_OVERLAP_MS (an event
 * records it). Without a token a new key for an enrolled host is refused.
 *
 * This file and eng_agents*.c are the only engine files that see protobuf
 * types. */
#ifndef ENG_ENROLL_H
#define ENG_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmn_keys.h"
#include "eng_ctx.h"

typedef struct eng_enroll eng_enroll_t;

/* How long the old key of a rotation keeps working. */
#define ENG_ENROLL_OVERLAP_MS (60 * 60 * 1000LL)

/* Enrollment policy (agents.enrollment). */
typedef enum {
    ENG_ENROLL_APPROVE = 0,     /* "approve": unknown keys go pending */
    ENG_ENROLL_CLOSED,          /* "closed": only pre-registered keys/tokens */
    ENG_ENROLL_AUTO,            /* "auto": unknown keys approved at once
                                   (tests and demos only) */
} eng_enroll_mode_t;

/* -1 if `name` is none of "approve", "closed", "auto". */
int eng_enroll_mode_parse(const char *name);

/* Load or make the engine's key pair in ctx->conf.agents_key_dir, load the
 * host keys from the store. NULL with an error recorded (a secret key file
 * readable by others is such an error). ctx is borrowed. */
eng_enroll_t *eng_enroll_new(eng_ctx_t *ctx);
void eng_enroll_destroy(eng_enroll_t **p);

/* The engine's keys (Z85, owned by en). */
const char *eng_enroll_public_key(const eng_enroll_t *en);
const char *eng_enroll_secret_key(const eng_enroll_t *en);
/* After an engine key switch (eng_enginekey.c): the keys now served. */
void eng_enroll_set_engine_keys(eng_enroll_t *en, const char *pub,
                                const char *sec);

/* cmn_zsock_auth_cb for the ROUTER (opaque: the eng_enroll_t). */
bool eng_enroll_zap_cb(const char *client_key, const char *address,
                       void *opaque);

typedef enum {
    ENG_GATE_DROP = 0,          /* log and forget the frame */
    ENG_GATE_PASS,              /* handle it as host `host` */
    ENG_GATE_REPLY,             /* send *reply back (and nothing else) */
} eng_gate_t;

/* Decide about one frame that arrived with CURVE key `key` (NULL: none) on
 * routing id `route`. PASS fills host (the key's host id). REPLY gives a
 * malloc'd frame in *reply (caller frees). Never fails otherwise. */
eng_gate_t eng_enroll_gate(eng_enroll_t *en, const char *key,
                           const uint8_t *route, size_t route_len,
                           const uint8_t *data, size_t len,
                           char host[ENG_ID_LEN], uint8_t **reply,
                           size_t *reply_len);

/* The routing id host_id's approved key last spoke from: true and *route
 * (owned by en) / *len, or false if it has not spoken since the start. */
bool eng_enroll_route(eng_enroll_t *en, const char *host_id,
                      const uint8_t **route, size_t *len);

/* Fingerprint and state of the newest key of host_id for the API: true and
 * the strings copied, false if the host has no key. */
bool eng_enroll_host_key(eng_enroll_t *en, const char *host_id,
                         char fp[CMN_KEY_FP_LEN], eng_key_state_t *state);

/* Add "curve_key": {"fingerprint", "state"} of host_id's newest key to
 * the host JSON object `host` (nothing if none, or en is NULL). */
void eng_enroll_host_json(eng_enroll_t *en, const char *host_id,
                          json_t *host);

/* Admin actions; 0, or -1 with an error recorded (CMN_ERR_NOT_FOUND,
 * CMN_ERR_STATE, CMN_ERR_INVALID). `user` (may be NULL) goes in the event.
 *
 * approve: the host's pending key(s) become approved; the host leaves
 * pending_approval and is accepted at its next hello.
 * revoke: every key of the host is revoked; its session ends now, its
 * messages are dropped from now on, also on the open connection, and its
 * handshakes refused.
 * register: pre-register a public key (Z85), approved, for a host not yet
 * seen; `name` (may be "") names it at its first hello. CMN_ERR_EXISTS
 * naming the fingerprint if the key is known in any state, or naming the
 * name if another pre-registered key that has not said hello yet has it.
 * forget: the host was removed: its keys are revoked.
 * With en NULL (agents.curve: false) approve and forget do nothing and
 * return 0; the others fail with CMN_ERR_UNSUPPORTED. */
int eng_enroll_approve(eng_enroll_t *en, const char *host_id,
                       const char *user);
int eng_enroll_revoke(eng_enroll_t *en, const char *host_id,
                      const char *user);
int eng_enroll_register(eng_enroll_t *en, const char *public_key,
                        const char *name, const char *user);
int eng_enroll_forget(eng_enroll_t *en, const char *host_id,
                      const char *user);

/* A new one-time enrollment token valid for lifetime_s seconds (0: no
 * expiry); the hello that presents it is approved at once. Returns the
 * token text (malloc'd, caller frees; only its hash is stored) or NULL. */
char *eng_enroll_token_create(eng_enroll_t *en, const char *name,
                              int64_t lifetime_s, const char *user);
/* The same, also giving the token's id (what the API lists and deletes it
 * by) in id_out (may be NULL); `user` (may be NULL) is stored as its
 * creator. */
char *eng_enroll_token_make(eng_enroll_t *en, const char *name,
                            int64_t lifetime_s, const char *user,
                            char id_out[ENG_ID_LEN]);
/* The stored form of a token text: SHA-256 as hex. */
void eng_enroll_token_hash(const char *token, char out[ENG_TOKEN_HASH_LEN]);
/* Make a token and store it in `store` (no event): the text (malloc'd) and
 * its id in id_out (may be NULL), or NULL with CMN_ERR_INVALID naming a
 * bad name or lifetime (0 .. 366 days). `user` (may be NULL) is kept. */
char *eng_enroll_token_store(eng_store_t *store, const char *name,
                             int64_t lifetime_s, const char *user,
                             char id_out[ENG_ID_LEN]);
/* Remove tokens used or expired more than ENG_ENROLL_TOKEN_KEEP_MS ago
 * (housekeeping at start and after each new token): a failure is logged,
 * never returned. */
void eng_enroll_token_prune(eng_store_t *store, int64_t now_ms);
/* Revoke (delete) the token `id`: it can no longer enroll; an event names
 * it and `user`. Works whether or not agents.curve is on (ctx->store).
 * 0, or -1 with CMN_ERR_NOT_FOUND naming the id. */
int eng_enroll_token_delete(eng_ctx_t *ctx, const char *id, const char *user);

/* Rate of new pending hosts (agents.pending_rate): a token bucket of
 * per_min a minute holding at most per_min (0: no limit). Times are the
 * caller's milliseconds (monotonic); a clock going back refills nothing. */
typedef struct {
    int64_t per_min;
    int64_t level;              /* in 1/60000 of a hello */
    int64_t last_ms;
} eng_rate_t;

/* Full bucket at now_ms. */
void eng_rate_init(eng_rate_t *r, int64_t per_min, int64_t now_ms);
/* true and one taken if the bucket holds one at now_ms; false if not. */
bool eng_rate_take(eng_rate_t *r, int64_t now_ms);

/* For tests: the clock (monotonic ms) of the pending-host rate limit and
 * of its summary events; NULL: cmn_mono_ms. Refills the bucket. */
void eng_enroll_set_clock(eng_enroll_t *en, int64_t (*now_ms)(void));
/* Hellos refused by the rate limit since the start. */
uint64_t eng_enroll_rate_refused(const eng_enroll_t *en);

/* Command-line helpers of herd-engine (work next to a running engine):
 * print the engine's public key and fingerprint (--show-key), or create
 * an enrollment token and print it (--enroll-token NAME; lifetime_s 0 =
 * no expiry). 0, or -1 with an error recorded. */
int eng_enroll_cli_show_key(const eng_conf_t *conf);
int eng_enroll_cli_token(const eng_conf_t *conf, const char *name,
                         int64_t lifetime_s);

/* Event codes of this module (stable, shown in the API). */
enum {
    ENG_EV_HOST_PENDING = 109,      /* unknown key said hello (was 110,
                                       which ENG_EV_HOST_ADMIN also is) */
    ENG_EV_HOST_APPROVED = 111,
    ENG_EV_HOST_KEY_REVOKED = 112,  /* also: enrollment token deleted */
    ENG_EV_HOST_KEY_REFUSED = 113,  /* impostor, revoked key, bad token;
                                       new hosts over agents.pending_rate */
    ENG_EV_HOST_KEY_REGISTERED = 114,   /* also: enrollment token made */
    ENG_EV_HOST_KEY_ROTATED = 115,
};

#endif /* ENG_ENROLL_H */
