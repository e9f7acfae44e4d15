/* ZeroMQ on libevent. The engine binds one ROUTER; each agent connects one
 * DEALER whose routing identity is its host id. ZMQ_FD is edge-triggered:
 * the wrapper drains the socket until ZMQ_EVENTS shows no POLLIN after every
 * read callback, and after every send checks ZMQ_EVENTS and, if input waits,
 * activates the read event so the loop drains it (receive callbacks never
 * run inside cmn_zsock_send()), so no message ever stalls. A callback may
 * send, and may destroy its own socket.
 *
 * Every socket sets ZMQ_MAXMSGSIZE (a bigger frame is dropped by libzmq and
 * the peer disconnected), send/receive high-water marks, ZMQ_LINGER 0 and
 * ZMTP heartbeats. The wrapper knows nothing of what the frames carry. */
#ifndef CMN_ZMQ_H
#define CMN_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef struct cmn_zsock cmn_zsock_t;

/* Called once per received message, on the loop. For a ROUTER `peer` is the
 * sender's routing identity (peer_len bytes, not NUL-terminated); for a
 * DEALER peer is NULL and peer_len 0. `data` is valid only during the call.
 * Messages with an unexpected number of frames are logged and dropped by the
 * wrapper and never reach the callback. */
typedef void (*cmn_zsock_recv_cb)(cmn_zsock_t *sock, const uint8_t *peer,
                                  size_t peer_len, const uint8_t *data,
                                  size_t len, void *opaque);

/* CURVE keys are Z85 text of this many characters (plus a NUL). */
#define CMN_ZMQ_KEY_LEN 40

/* CURVE ROUTER: may the client with public key `client_key` (Z85) connect
 * from `address` ("127.0.0.1")? Runs on the loop during the handshake. */
typedef bool (*cmn_zsock_auth_cb)(const char *client_key, const char *address,
                                  void *opaque);

typedef struct {
    size_t max_msg_bytes;       /* ZMQ_MAXMSGSIZE; 0 means 4 MiB */
    int sndhwm, rcvhwm;         /* 0 means 10000 */
    int heartbeat_ivl_ms;       /* ZMTP heartbeat; 0 means 2000 */
    int heartbeat_timeout_ms;   /* 0 means 3 * ivl */
    int reconnect_ivl_ms;       /* DEALER: 0 means 200 */
    int reconnect_ivl_max_ms;   /* DEALER: 0 means 5000 */
    /* CURVE (all NULL: plaintext). ROUTER: curve_secret_key makes it a
     * CURVE server; with curve_auth set, only clients it accepts may
     * connect (one such ROUTER per process), else any client with a valid
     * handshake may. DEALER: curve_public_key + curve_secret_key are its
     * own pair, curve_server_key the ROUTER's public key. Copied. */
    const char *curve_public_key;
    const char *curve_secret_key;
    const char *curve_server_key;
    cmn_zsock_auth_cb curve_auth;
    void *curve_auth_opaque;
} cmn_zsock_opts_t;

/* One ZeroMQ context per process; created on first use and shared. */
void *cmn_zmq_context(void);
/* Terminate the shared context (after every socket is destroyed). */
void cmn_zmq_shutdown(void);

/* Bind a ROUTER at `endpoint` ("tcp://127.0.0.1:54321"). ZMQ_ROUTER_MANDATORY
 * is set so a send to an unknown peer fails instead of vanishing. NULL with
 * an error recorded on failure. opts may be NULL. */
cmn_zsock_t *cmn_zsock_new_router(struct event_base *base, const char *endpoint,
                                  const cmn_zsock_opts_t *opts,
                                  cmn_zsock_recv_cb cb, void *opaque);

/* Connect a DEALER to `endpoint` with routing identity `identity`. */
cmn_zsock_t *cmn_zsock_new_dealer(struct event_base *base, const char *endpoint,
                                  const char *identity,
                                  const cmn_zsock_opts_t *opts,
                                  cmn_zsock_recv_cb cb, void *opaque);

/* Send one message. ROUTER: `peer` is the routing identity to send to.
 * DEALER: peer must be NULL. Non-blocking: returns -1 with CMN_ERR_UNAVAILABLE
 * if the peer is unknown/unreachable or the queue is full (EAGAIN), another
 * code on other failures. Data is copied. */
int cmn_zsock_send(cmn_zsock_t *sock, const uint8_t *peer, size_t peer_len,
                   const void *data, size_t len);

/* The endpoint actually bound (resolves "tcp://127.0.0.1:*"); owned by sock. */
const char *cmn_zsock_endpoint(cmn_zsock_t *sock);

/* CURVE ROUTER: serve a new secret key (Z85) from now on. The bound
 * endpoint (the resolved one, same port) is unbound, ZMQ_CURVE_SECRETKEY
 * set and the endpoint bound again (EADDRINUSE retried for up to 1 s).
 * Connections made under the old key drop; peers reconnect and must know
 * the new public key. The ZAP handler and callbacks stay. 0, or -1 with an
 * error recorded (CMN_ERR_INVALID: not a key or not a ROUTER;
 * CMN_ERR_UNAVAILABLE: the endpoint could not be bound again, the socket
 * then listens nowhere). */
int cmn_zsock_rekey(cmn_zsock_t *sock, const char *secret_key);

/* Only inside a CURVE ROUTER's receive callback: the sender's public key
 * (Z85), so the caller can check that it belongs to the routing identity
 * the sender claims. NULL otherwise. Owned by sock. */
const char *cmn_zsock_peer_key(cmn_zsock_t *sock);

/* Key pairs and key files: cmn_keys.h. */

/* Counters for logs and tests. */
typedef struct {
    uint64_t received, sent, dropped_frames, send_failures;
} cmn_zsock_stats_t;
void cmn_zsock_get_stats(cmn_zsock_t *sock, cmn_zsock_stats_t *out);

/* Close the socket and free it; accepts NULL, sets *p = NULL. */
void cmn_zsock_destroy(cmn_zsock_t **p);

#endif /* CMN_ZMQ_H */
