/* What users can ask of the engine: the operations the REST API (and so
 * herdctl) calls. Validation happens here, not in the REST layer. Each
 * function returns -1 at once, with the error recorded (CMN_ERR_INVALID,
 * CMN_ERR_NOT_FOUND, CMN_ERR_STATE, CMN_ERR_UNAVAILABLE...), if the operation
 * cannot begin; otherwise 0, and asynchronous ones later call `cb` exactly
 * once on the loop with the outcome (after the agent answered). Every
 * operation and its outcome is an event naming `user`. */
#ifndef ENG_OPS_H
#define ENG_OPS_H

#include "cmn_err.h"
#include "eng_ctx.h"

typedef void (*eng_op_cb)(cmn_code_t code, const char *message, void *opaque);

typedef enum {
    ENG_VM_ACT_STOP = 0,        /* power off */
    ENG_VM_ACT_SHUTDOWN,        /* ACPI, forced after vm.shutdown_timeout */
    ENG_VM_ACT_REBOOT,          /* ACPI, reset after vm.reboot_timeout */
    ENG_VM_ACT_RESET,
    ENG_VM_ACT_PAUSE,
    ENG_VM_ACT_RESUME,
    ENG_VM_ACT__LAST
} eng_vm_action_t;

/* Validate the spec (name unique and sane, memory >= 16 MiB, vCPUs 1..512,
 * cluster exists, disk sizes, NIC models...), fill defaults (id, cluster
 * Default, MACs, disk ids, display vnc) and insert it, status down. On
 * success `vm` holds the stored record. Synchronous. */
int eng_vm_create(eng_ctx_t *ctx, eng_vm_t *vm, const char *user);

/* Update the spec of a down VM (name, description, memory, CPU, HA...). */
int eng_vm_update(eng_ctx_t *ctx, const eng_vm_t *vm, const char *user);

/* Start a down VM on `host_id` (NULL: the pinned host, else the Up host
 * with most free memory). Creates missing disks, sends the domain XML.
 * Also resumes a paused VM. */
int eng_vm_start(eng_ctx_t *ctx, const char *vm_id, const char *host_id,
                 const char *user, eng_op_cb cb, void *opaque);

int eng_vm_action(eng_ctx_t *ctx, const char *vm_id, eng_vm_action_t act,
                  const char *user, eng_op_cb cb, void *opaque);

/* Remove a down VM: undefine it and delete its disks on its last host (if
 * that host is Up), then delete the record. */
int eng_vm_remove(eng_ctx_t *ctx, const char *vm_id, const char *user,
                  eng_op_cb cb, void *opaque);

/* Host ping: `count` sequential engine->agent pings; cb's message is a JSON
 * text {"count":N,"min_us":..,"median_us":..,"p99_us":..,"max_us":..}. */
int eng_host_ping(eng_ctx_t *ctx, const char *host_id, unsigned count,
                  eng_op_cb cb, void *opaque);

/* Set vm->status to `st` (status time, start time and display port
 * follow), write the whole record and record an ENG_EV_VM_STATUS event
 * ending with `why` (may be NULL). Nothing happens if the status is
 * unchanged. -1 with the store's error recorded. vm is the caller's. */
int eng_vm_set_status(eng_ctx_t *ctx, eng_vm_t *vm, eng_vm_status_t st,
                      const char *why);

/* Name of an action as in the REST API ("stop", "shutdown", ...). */
const char *eng_vm_action_name(eng_vm_action_t act);

#endif /* ENG_OPS_H */
