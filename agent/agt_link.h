/* The engine link: one DEALER (identity = host id) to the engine; hello,
 * full VM report, pings and reconnect, periodic statistics and VM events
 * (agt_link_notify.c), the dispatch of the engine's commands to the worker
 * pool (agt_link_req.c), and the engine's key rotation (agt_link_key.c).
 * agt_link*.c and agt_link_conv.c are the only agent files that know the
 * protobuf types. */
#ifndef AGT_LINK_H
#define AGT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agt_conf.h"
#include "agt_pool.h"
#include "agt_stats.h"
#include "agt_virt.h"

struct event_base;

typedef struct agt_link agt_link_t;

typedef struct {
    struct event_base *base;
    const agt_conf_t *conf;     /* borrowed; must outlive the link */
    const char *host_id;        /* copied */
    agt_virt_t *virt;           /* borrowed; NULL: libvirt work is refused */
    agt_pool_t *pool;           /* borrowed; NULL: same */
    agt_stats_t *stats;         /* borrowed; NULL: no statistics */
} agt_link_opts_t;

/* Where frames go instead of the socket (tests, fuzzing). `data` is only
 * valid during the call. */
typedef void (*agt_link_send_fn)(const uint8_t *data, size_t len, void *opaque);

/* A link that is not connected yet. Registers for virt's events when virt
 * and pool are given. NULL with an error recorded. */
agt_link_t *agt_link_new(const agt_link_opts_t *opts);

/* Connect the DEALER to conf->engine, start the ping and statistics timers
 * and send hello. -1 with an error recorded. */
int agt_link_start(agt_link_t *link);

/* Send every frame to `fn` instead of a socket (call before anything is
 * sent; agt_link_start() is then not needed). */
void agt_link_set_send_hook(agt_link_t *link, agt_link_send_fn fn, void *opaque);

/* Handle one frame from the engine: decode (size limit first), validate,
 * dispatch. Replies are sent now (bad requests, ping) or when the worker
 * is done. Never fails: bad frames are logged and dropped or answered. */
void agt_link_handle_frame(agt_link_t *link, const uint8_t *data, size_t len);

/* True while the engine holds a session for us (hello accepted). */
bool agt_link_has_session(const agt_link_t *link);

/* Abort outgoing live migrations (agent shutdown, before the pool is
 * destroyed). Accepts NULL. */
void agt_link_abort_jobs(agt_link_t *link);

/* Stop timers, fail pending requests, close the socket, free. The pool
 * must be destroyed first (its completions refer to the link). Accepts
 * NULL; sets *p = NULL. */
void agt_link_destroy(agt_link_t **p);

#endif /* AGT_LINK_H */
