/* Inside of the agent link, shared by eng_agents.c (socket, sessions,
 * liveness, requests), eng_agents_msg.c (checks and conversions of wire
 * messages) and eng_agents_vm.c (reconciliation of VM state). Not for the
 * rest of the engine. */
#ifndef ENG_AGENTS_PRIV_H
#define ENG_AGENTS_PRIV_H

#include <jansson.h>

#include "cmn_rpc.h"
#include "cmn_zmq.h"
#include "eng_agents.h"

/* Bounds on what a peer may send (beyond the frame size limit). */
#define ENG_AGT_MAX_STR 255         /* names, versions, models */
#define ENG_AGT_MAX_PATH 511
#define ENG_AGT_MAX_FLAGS 1024
#define ENG_AGT_MAX_NICS 256
#define ENG_AGT_MAX_ADDRS 64
#define ENG_AGT_MAX_STORAGE 64
#define ENG_AGT_MAX_VMS 20000
#define ENG_AGT_MAX_VM_DEVS 64      /* disks / NICs per VM in stats */

/* One host the engine knows: from the store at start, or from a hello. */
typedef struct eng_hostent {
    char id[ENG_ID_LEN];
    bool session;                   /* accepted hello, not lost since */
    eng_host_status_t status;       /* mirror of the store's */
    uint64_t last_seen_mono;        /* ms, cmn_mono_ms() */
    uint64_t key_gen;               /* engine key rotation it confirmed */
    bool key_push;                  /* send it the next engine key soon */
    struct eng_hostent *next;       /* hash chain */
} eng_hostent_t;

#define ENG_AGT_BUCKETS 4096

struct eng_agents {
    eng_ctx_t *ctx;
    cmn_zsock_t *sock;              /* NULL when detached */
    struct eng_enroll *enroll;      /* CURVE keys and enrollment (eng_enroll.h);
                                       NULL when detached or plain */
    cmn_rpc_t *rpc;
    struct event *timer;
    size_t max_msg;
    eng_hostent_t *buckets[ENG_AGT_BUCKETS];
    size_t nhosts;
    json_t *dirty;                  /* id -> "host" / "vm": stats to flush */
    uint64_t last_flush_mono;
    /* Engine key rotation (eng_enginekey.h, eng_agents_key.c); NULL when
     * detached or plain. */
    struct eng_enginekey *ekey;
    uint64_t key_gen;               /* current rotation; hosts that have
                                       its key carry the same number */
    struct event *key_push_ev;      /* sends to hosts with key_push */
};

/* eng_agents.c */
eng_hostent_t *eng_agents_find(eng_agents_t *a, const char *host_id);
/* The entry of host_id, made (status connecting) if missing; NULL with
 * CMN_ERR_NOMEM. */
eng_hostent_t *eng_agents_add(eng_agents_t *a, const char *host_id);

/* Send a request envelope (body set by the caller; id set here) to the
 * agent of `host_id` and call cb exactly once with its reply, as the
 * typed eng_agents_* requests do. -1 with CMN_ERR_UNAVAILABLE if the host
 * has no session or the send fails (cb is then never called). For
 * conversion files that add requests (eng_agents_*.c). */
int eng_agents_request_(eng_agents_t *a, const char *host_id,
                        Herd__Envelope *env, unsigned extra_timeout_s,
                        eng_agents_cb cb, void *opaque);

/* eng_agents_msg.c: checks return 0, or -1 with CMN_ERR_PROTOCOL /
 * CMN_ERR_INVALID recorded naming the field. Conversions return a new
 * reference (NULL only on allocation failure). */
bool eng_agt_str_ok(const char *s, size_t max, bool may_be_empty);
int eng_agt_hello_check(const Herd__Hello *h, const char *identity);
json_t *eng_agt_hello_caps(const Herd__Hello *h);
int eng_agt_host_stats_check(const Herd__HostStats *s);
json_t *eng_agt_host_stats_json(const Herd__HostStats *s);
int eng_agt_vm_stats_check(const Herd__VmStats *v);
json_t *eng_agt_vm_stats_json(const Herd__VmStats *v, uint64_t time_ms);
int eng_agt_vm_status_check(const Herd__VmStatus *v);
int eng_agt_vm_event_check(const Herd__VmEvent *e);

/* eng_agents_vm.c: reconciliation. Each returns 0, or -1 with an error
 * recorded (the message is then answered with it or dropped). */
int eng_agt_on_report(eng_agents_t *a, const char *host_id,
                      const Herd__VmReport *r);
int eng_agt_on_vm_event(eng_agents_t *a, const char *host_id,
                        const Herd__VmEvent *e);
int eng_agt_on_vm_stats(eng_agents_t *a, const char *host_id,
                        const Herd__VmStatsBatch *b);
/* eng_agents_mig.c: a job_progress notification from `host_id`. */
int eng_agt_on_job_progress(eng_agents_t *a, const char *host_id,
                            const Herd__JobProgress *p);
/* Every VM on `host_id` that is not down becomes unknown. */
void eng_agt_host_lost_vms(eng_agents_t *a, const char *host_id);

#endif /* ENG_AGENTS_PRIV_H */
