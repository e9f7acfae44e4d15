/* Conversion between the agent's own structs and wire envelopes, for
 * agt_link.c: together they are the only agent files that know the
 * protobuf types. Commands are validated into agt_req_t. Each builder of
 * an outgoing message makes the envelope, hands it to `sink`
 * (which sends it; the envelope and everything it points at live only
 * during the call) and frees what it built. Each returns what sink
 * returned, or -1 with CMN_ERR_NOMEM recorded (sink not called). */
#ifndef AGT_LINK_CONV_H
#define AGT_LINK_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agt_caps.h"
#include "agt_migrate.h"
#include "agt_stats.h"
#include "agt_virt.h"
#include "cmn_keys.h"
#include "herd.pb-c.h"

/* A command from the engine, validated. */
typedef enum {
    AGT_REQ_VM_CREATE,
    AGT_REQ_VM_OP,
    AGT_REQ_DISK_CREATE,
    AGT_REQ_DISK_DELETE,
    AGT_REQ_VM_TICKET,
} agt_req_kind_t;

typedef struct {
    agt_req_kind_t kind;
    uint64_t id;                        /* the request's message id */
    char target[CMN_UUID_STRLEN + 1];   /* vm_id or disk_id, lower case */
    char *xml;                          /* VM_CREATE: malloc'd domain XML */
    bool start;                         /* VM_CREATE */
    agt_vm_op_t op;                     /* VM_OP */
    unsigned timeout_s;                 /* VM_OP: SHUTDOWN / REBOOT grace */
    uint64_t size;                      /* DISK_CREATE: bytes */
    char password[65];                  /* VM_TICKET; timeout_s = expiry */
} agt_req_t;

/* Validate a command envelope (every field, before any use) into `out`.
 * 0, or -1 with CMN_ERR_INVALID naming the field ("vm_op.vm_id: 'x' is not
 * a UUID"), CMN_ERR_UNSUPPORTED if the body is not a command. Release
 * with agt_req_clear(). */
int agt_conv_request(const Herd__Envelope *env, agt_req_t *out);
void agt_req_clear(agt_req_t *r);

typedef int (*agt_conv_sink_fn)(Herd__Envelope *env, void *opaque);

/* Hello from the capabilities. */
int agt_conv_hello(const agt_caps_t *c, const char *host_id, const char *version,
                   agt_conv_sink_fn sink, void *opaque);

/* VmReport of every domain in vms[0..n). */
int agt_conv_report(const agt_vm_status_t *vms, size_t n, agt_conv_sink_fn sink,
                    void *opaque);

/* HostStats of a sample. */
int agt_conv_host_stats(const agt_sample_t *s, agt_conv_sink_fn sink, void *opaque);

/* One VmStatsBatch for vms[0..n) taken at ts. */
int agt_conv_vm_stats(uint64_t ts, const agt_vm_stats_t *vms, size_t n,
                      agt_conv_sink_fn sink, void *opaque);

/* VmEvent. */
int agt_conv_vm_event(const agt_vm_event_t *ev, agt_conv_sink_fn sink, void *opaque);

/* VmMigrate -> agt_mig_req_t, every field checked (agt_migrate_check).
 * 0, or -1 with CMN_ERR_INVALID naming the field. */
int agt_conv_migrate(const Herd__VmMigrate *m, agt_mig_req_t *out);

/* JobProgress notification. */
int agt_conv_job_progress(const agt_mig_progress_t *p, agt_conv_sink_fn sink,
                          void *opaque);

/* EngineKey (engine key rotation), validated. */
typedef struct {
    uint64_t id;                                /* the request's message id */
    char public_key[CMN_KEY_Z85_LEN + 1];       /* Z85 */
    bool switch_now;            /* false: pre-publication of the next key */
    int64_t switch_time_ms;     /* planned switch (Unix ms), 0 = unknown */
} agt_ekey_req_t;

/* EngineKey -> agt_ekey_req_t (the envelope's id into out->id). 0, or -1
 * with CMN_ERR_INVALID naming the field ("engine_key.public_key: ..."). */
int agt_conv_engine_key(const Herd__Envelope *env, agt_ekey_req_t *out);

#endif /* AGT_LINK_CONV_H */
