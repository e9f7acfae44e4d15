/* Inside the engine link, shared by agt_link.c (sending, hello, report,
 * heartbeat, frames in), agt_link_notify.c (statistics, events, migration
 * progress), agt_link_req.c (the engine's requests) and agt_link_key.c
 * (the DEALER and engine key rotation), and read by unit tests. Not for
 * other agent files. */
#ifndef AGT_LINK_PRIV_H
#define AGT_LINK_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agt_link.h"
#include "agt_migrate.h"
#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "cmn_zmq.h"

struct event;
struct agt_req_job;

/* A warning that would repeat every heartbeat: logged the first time (and
 * when its code changes), then at most once per interval with the count. */
typedef struct {
    bool active;            /* it happened since the last reset */
    int code;               /* the last occurrence's code */
    unsigned count;         /* occurrences since the last one logged */
    unsigned total;         /* occurrences since the reset */
    uint64_t logged_ms;     /* when the last one was logged (monotonic) */
} agt_warn_limit_t;

/* agt_link.c: count one occurrence of `code` at now_ms. True if it is to
 * be logged now, *count set to the occurrences since the last one logged
 * (this one included; 1 the first time). */
bool agt_warn_limit_hit(agt_warn_limit_t *w, int code, uint64_t now_ms,
                        uint64_t interval_ms, unsigned *count);
/* agt_link.c: it stopped: the occurrences since the last reset; clears. */
unsigned agt_warn_limit_reset(agt_warn_limit_t *w);

struct agt_link {
    struct event_base *base;
    const agt_conf_t *conf;
    char host_id[CMN_UUID_STRLEN + 1];
    agt_virt_t *virt;
    agt_pool_t *pool;
    agt_stats_t *stats;
    cmn_zsock_t *sock;
    cmn_rpc_t *rpc;
    agt_link_send_fn hook;
    void *hook_opaque;
    struct event *ping_timer;
    struct event *stats_timer;
    struct event *kick_timer;   /* first hello, once connected */
    struct event *probe_timer;  /* first ping on a new DEALER (agt_link_probe) */
    unsigned probe_left;        /* ... pings it may still try */
    bool probe_inflight;        /* ... one was sent, no answer yet */
    bool closing;
    bool session;           /* engine accepted our hello */
    bool hello_inflight;
    bool report_needed;
    bool report_inflight;
    bool stats_inflight;
    bool link_up;           /* last ping answered */
    uint64_t virt_gen;      /* libvirt connection the last report saw */
    uint64_t hello_ms;      /* when the last hello started (monotonic) */
    unsigned report_failures; /* in a row: warn on the first only */
    agt_warn_limit_t hello_refusals;  /* the engine's errors to our hello */
    struct agt_req_job *waiting;  /* shutdowns / reboots in their grace period */
    agt_migrate_t *mig;     /* outgoing live migrations (agt_migrate.c) */
    char engine_id[128];

    /* The DEALER's engine key and its rotation (agt_link_key.c). */
    char ekey[CMN_KEY_Z85_LEN + 1]; /* server key the DEALER was made with */
    bool ekey_next;         /* ... taken from <engine_key_file>.next */
    uint64_t dealer_ms;     /* when the DEALER was (re)made (monotonic) */
    uint64_t heard_ms;      /* last frame the engine sent on it, 0: none */
    struct event *rekey_timer;      /* switch_now: re-make the DEALER */
    char rekey_key[CMN_KEY_Z85_LEN + 1];
    bool promote_inflight;  /* a pong-time promotion runs on the pool */
    unsigned promote_failures;
    pthread_mutex_t key_lock;       /* key files: one writer at a time */
};

/* agt_link.c: answer request `id` with `code` and `msg` (result only).
 * msg may be the thread's error message. A send failure is logged. */
void agt_link_reply(agt_link_t *link, uint64_t id, cmn_code_t code,
                    const char *msg);

/* agt_link.c: the same with a body: body_env (borrowed) holds it and is
 * filled in as the reply; NULL: result only. */
void agt_link_reply_env(agt_link_t *link, uint64_t id, cmn_code_t code,
                        const char *msg, Herd__Envelope *body_env);

/* agt_link.c: a new DEALER was made (engine key switch or fallback): ping
 * the engine soon so that it learns the new connection before the next
 * heartbeat; retried at short intervals while the connection is not up,
 * until a frame arrives on it (bounded). */
void agt_link_probe(agt_link_t *link);

/* agt_link.c: the DEALER's receive callback (opaque = the link). */
void agt_link_on_frame(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
                       const uint8_t *data, size_t len, void *opaque);

/* agt_link.c: send a notification (an agt_conv sink; opaque = the link).
 * Always 0: a send failure is logged at debug. */
int agt_link_notify(Herd__Envelope *env, void *opaque);

/* ---- agt_link_notify.c ------------------------------------------------- */

/* Every stats_interval: sample on the pool and send host_stats and
 * vm_stats (skipped while the previous sample runs, or without stats or
 * pool). */
void agt_link_stats_tick(agt_link_t *link);

/* agt_virt's event callback (libvirt's event thread; opaque = the link):
 * the event goes to the loop and out as vm_event. Takes ev. */
void agt_link_virt_event(agt_vm_event_t *ev, void *opaque);

/* agt_migrate's progress callback (opaque = the link): job_progress. */
void agt_link_mig_report(const agt_mig_progress_t *p, void *opaque);

/* ---- agt_link_req.c ---------------------------------------------------- */

/* A request from the engine (not a reply): answered at once (ping, bad or
 * refused requests) or when its work is done. Never fails. */
void agt_link_request(agt_link_t *link, const Herd__Envelope *env);

/* agt_link_destroy: free the jobs waiting out a grace period without an
 * answer (their VMs keep their state). */
void agt_link_req_abandon(agt_link_t *link);

/* ---- agt_link_key.c ---------------------------------------------------- */

/* Set up / tear down the rotation state (agt_link_new / _destroy). */
int agt_link_key_init(agt_link_t *link);
void agt_link_key_fini(agt_link_t *link);

/* Make the DEALER to conf->engine with server key `server_key` (NULL: the
 * engine key files, see agt_keys_load), replacing the one there is; on
 * failure the old DEALER stays. `is_next`: server_key is the .next key.
 * With a send hook no socket is made (tests). -1 with an error recorded. */
int agt_link_dealer_open(agt_link_t *link, const char *server_key, bool is_next);

/* An EngineKey request from the engine: validated, then the key files are
 * written on the pool and the reply sent; switch_now also re-makes the
 * DEALER with the new key shortly after the reply. */
void agt_link_key_request(agt_link_t *link, const Herd__Envelope *env);

/* A frame arrived on the DEALER: the handshake with its key worked. */
void agt_link_key_heard(agt_link_t *link);

/* Every heartbeat: the fallback of engine key rotation (below). */
void agt_link_key_tick(agt_link_t *link);

/* The fallback decision, a pure function. An agent that missed the switch
 * message but holds <engine_key_file>.next: no frame from the engine for
 * timeout_ms on this DEALER -> re-make it with the other key, and again
 * every timeout_ms after. */
typedef struct {
    uint64_t now_ms;        /* monotonic */
    uint64_t dealer_ms;     /* when the DEALER was made */
    uint64_t heard_ms;      /* last frame received on it, 0: none */
    uint64_t timeout_ms;    /* request_timeout */
    bool using_next;        /* the DEALER uses the .next key */
    bool have_current;      /* engine_key_file holds a key */
    bool have_next;         /* .next holds a key other than the current */
} agt_ekey_state_t;

typedef enum {
    AGT_EKEY_STAY,          /* keep the DEALER */
    AGT_EKEY_USE_CURRENT,   /* re-make it with engine_key_file's key */
    AGT_EKEY_USE_NEXT,      /* re-make it with the .next key */
} agt_ekey_choice_t;

/* True if nothing came from the engine for timeout_ms on this DEALER. */
bool agt_ekey_stale(const agt_ekey_state_t *s);
agt_ekey_choice_t agt_ekey_decide(const agt_ekey_state_t *s);

#endif /* AGT_LINK_PRIV_H */
