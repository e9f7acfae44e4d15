/* The local libvirt: one shared connection (reopened when libvirtd
 * restarts), domain operations, qcow2 volumes in images_dir, and lifecycle
 * events from a dedicated thread running virEventRunDefaultImpl().
 *
 * Every operation below blocks: call it on a worker (agt_pool), never on
 * the event loop. All of them are thread-safe. */
#ifndef AGT_VIRT_H
#define AGT_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "cmn_util.h"

typedef struct agt_virt agt_virt_t;

/* Same numbers as the wire's VmOpKind. */
typedef enum {
    AGT_VM_OP_START = 1,
    AGT_VM_OP_SHUTDOWN = 2,     /* ACPI, then destroy after timeout_s */
    AGT_VM_OP_DESTROY = 3,
    AGT_VM_OP_REBOOT = 4,       /* ACPI, then reset after timeout_s */
    AGT_VM_OP_RESET = 5,
    AGT_VM_OP_PAUSE = 6,
    AGT_VM_OP_RESUME = 7,
    AGT_VM_OP_UNDEFINE = 8,
    AGT_VM_OP__LAST
} agt_vm_op_t;

/* VmEvent.event for a guest reboot (libvirt's REBOOT event id). */
#define AGT_VM_EVENT_REBOOT 100

#define AGT_NAME_MAX 256

typedef struct {
    char uuid[CMN_UUID_STRLEN + 1];
    char name[AGT_NAME_MAX];
    int state;                  /* virDomainState */
    int reason;
    bool persistent;
    unsigned vcpus;
    uint64_t memory_kib;
    unsigned vnc_port;          /* 0 if none */
} agt_vm_status_t;

typedef struct {
    char uuid[CMN_UUID_STRLEN + 1];
    char name[AGT_NAME_MAX];
    int event;                  /* virDomainEventType or AGT_VM_EVENT_REBOOT */
    int detail;
    int state;                  /* virDomainGetState after the event */
    int reason;
    uint64_t timestamp_ms;
    unsigned vnc_port;
} agt_vm_event_t;

/* Called on the libvirt event thread with a malloc'd event that the callee
 * owns (must free). Must not block for long. */
typedef void (*agt_virt_event_cb)(agt_vm_event_t *ev, void *opaque);

/* Name of an op ("shutdown"); "unknown" if out of range. */
const char *agt_vm_op_name(int op);

/* A handle for `uri` (any libvirt URI, e.g. test:///default) keeping qcow2
 * volumes in `images_dir` (both copied). Does not connect yet. NULL with
 * an error recorded. */
agt_virt_t *agt_virt_new(const char *uri, const char *images_dir);

/* Close the connection, stop the event thread, free. Accepts NULL. */
void agt_virt_destroy(agt_virt_t **p);

/* Set the lifecycle event sink. Call before agt_virt_start_events(). */
void agt_virt_set_event_cb(agt_virt_t *v, agt_virt_event_cb cb, void *opaque);

/* Start the libvirt event thread. -1 with an error recorded on failure. */
int agt_virt_start_events(agt_virt_t *v);

/* Make running waits (shutdown / reboot grace periods) give up early and
 * stop the event thread (no event callback runs after this returns). */
void agt_virt_stop(agt_virt_t *v);

/* Open (or reopen after libvirtd went away) the connection. -1 with
 * CMN_ERR_LIBVIRT recorded if libvirt cannot be reached. */
int agt_virt_connect(agt_virt_t *v);

/* A new reference to the live connection, connecting if needed; the
 * caller releases it with virConnectClose(). NULL with an error recorded. */
virConnectPtr agt_virt_conn(agt_virt_t *v);

/* Increases every time a connection is (re)opened. Never blocks. */
uint64_t agt_virt_generation(agt_virt_t *v);

/* The URI, owned by v. */
const char *agt_virt_uri(const agt_virt_t *v);
const char *agt_virt_images_dir(const agt_virt_t *v);

/* Define the domain from `xml` (whose <uuid> must equal `uuid`) and, if
 * `start`, start it (resuming it if paused; running already is fine).
 * -1 with CMN_ERR_INVALID / CMN_ERR_LIBVIRT / ... recorded. */
int agt_virt_vm_create(agt_virt_t *v, const char *uuid, const char *xml,
                       bool start);

/* Run `op` on domain `uuid`, waiting on this thread: timeout_s is the grace
 * period of SHUTDOWN and REBOOT. NOT_FOUND if no such domain, STATE if the domain's state does not
 * allow it, LIBVIRT for other libvirt failures. */
int agt_virt_vm_op(agt_virt_t *v, const char *uuid, agt_vm_op_t op,
                   unsigned timeout_s);

/* SHUTDOWN and REBOOT without holding a thread for the grace period:
 * _begin() asks the guest (ACPI) and returns a watch in *watch that sees
 * the domain's STOPPED / REBOOT event; once agt_virt_watch_done() or the
 * grace period is over, _finish() forces it (destroy / reset) unless the
 * event came, and frees the watch. Other ops run fully in _begin() and
 * leave *watch NULL, as does a SHUTDOWN of a domain that is off or an ACPI
 * request that failed (then forced at once). */
typedef struct agt_virt_watch agt_virt_watch_t;
int agt_virt_vm_op_begin(agt_virt_t *v, const char *uuid, agt_vm_op_t op,
                         agt_virt_watch_t **watch);
int agt_virt_vm_op_finish(agt_virt_t *v, agt_virt_watch_t **watch);
/* True once the awaited event was seen. Never blocks for long. */
bool agt_virt_watch_done(agt_virt_t *v, agt_virt_watch_t *w);
/* Forget a watch without forcing anything. Accepts NULL; sets *p = NULL. */
void agt_virt_watch_free(agt_virt_t *v, agt_virt_watch_t **p);

/* Set a VNC password valid for expiry_s seconds on running domain `uuid`
 * (agt_virt_ticket.c). NOT_FOUND, STATE (not running), UNSUPPORTED (no VNC
 * console) or LIBVIRT recorded on failure. */
int agt_virt_vm_ticket(agt_virt_t *v, const char *uuid, const char *password,
                       unsigned expiry_s);

/* Every domain libvirt knows. *out is malloc'd (caller frees), may be NULL
 * when *n is 0. -1 with an error recorded. */
int agt_virt_list(agt_virt_t *v, agt_vm_status_t **out, size_t *n);

/* Status of one domain: 0, or -1 with NOT_FOUND / LIBVIRT recorded. */
int agt_virt_vm_status(agt_virt_t *v, const char *uuid, agt_vm_status_t *out);

/* Create images_dir/<disk_id>.qcow2 of `size_bytes` (rounded up to 512)
 * with qemu-img. An existing file of the same size is success; of another
 * size CMN_ERR_EXISTS. *path_out (malloc'd, caller frees) gets the path,
 * *size_out the virtual size. */
int agt_virt_disk_create(agt_virt_t *v, const char *disk_id,
                         uint64_t size_bytes, char **path_out,
                         uint64_t *size_out);

/* Delete images_dir/<disk_id>.qcow2; a missing file is success. */
int agt_virt_disk_delete(agt_virt_t *v, const char *disk_id);

/* Helpers over strings, exposed for tests. */
/* The VNC port in a domain XML, 0 if none or not allocated. */
unsigned agt_virt_xml_vnc_port(const char *xml);
/* True if the first <uuid> of `xml` equals `uuid` (dashes and case ignored). */
bool agt_virt_xml_uuid_matches(const char *xml, const char *uuid);
/* Virtual size from the first bytes of a qcow2 file; -1 if not qcow2. */
int agt_virt_qcow2_size(const uint8_t *hdr, size_t len, uint64_t *size);

#endif /* AGT_VIRT_H */
