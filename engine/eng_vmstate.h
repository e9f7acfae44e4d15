/* libvirt domain state and lifecycle events -> oVirt VM status. Pure
 * functions with no state of their own, so tests can walk every row of the
 * status table in docs/ARCHITECTURE.md. The numbers are libvirt's
 * (virDomainState, virDomainEventType) as carried on the wire; they are
 * mirrored here so the engine does not depend on libvirt headers. */
#ifndef ENG_VMSTATE_H
#define ENG_VMSTATE_H

#include <stdbool.h>

#include "eng_store.h"

/* virDomainState */
enum {
    ENG_LV_NOSTATE = 0,
    ENG_LV_RUNNING = 1,
    ENG_LV_BLOCKED = 2,
    ENG_LV_PAUSED = 3,
    ENG_LV_SHUTDOWN = 4,        /* being shut down */
    ENG_LV_SHUTOFF = 5,
    ENG_LV_CRASHED = 6,
    ENG_LV_PMSUSPENDED = 7,
    ENG_LV_STATE_MAX = 7,
};

/* virDomainEventType, plus REBOOT (100) from the reboot callback. */
enum {
    ENG_LV_EV_DEFINED = 0,
    ENG_LV_EV_UNDEFINED = 1,
    ENG_LV_EV_STARTED = 2,
    ENG_LV_EV_SUSPENDED = 3,
    ENG_LV_EV_RESUMED = 4,
    ENG_LV_EV_STOPPED = 5,
    ENG_LV_EV_SHUTDOWN = 6,
    ENG_LV_EV_PMSUSPENDED = 7,
    ENG_LV_EV_CRASHED = 8,
    ENG_LV_EV_MAX = 8,
    ENG_LV_EV_REBOOT = 100,
};

/* True if `state` is a virDomainState number we know. */
bool eng_vmstate_state_valid(int state);
/* True if `event` is a virDomainEventType number we know (or REBOOT). */
bool eng_vmstate_event_valid(int event);

/* True if libvirt `state` means a QEMU process exists (running, blocked,
 * paused, being shut down, pm-suspended). */
bool eng_vmstate_is_active(int state);

/* New status from a state seen in a full report (vm_report) or a stats
 * sample: running -> up, paused -> paused, shutoff/crashed -> down. A VM
 * the engine is shutting down or rebooting keeps that status while libvirt
 * still says running; a migrating VM keeps migrating while active. */
eng_vm_status_t eng_vmstate_from_state(int state, int reason,
                                       eng_vm_status_t cur);

/* New status after a lifecycle event (vm_event): STARTED / RESUMED /
 * REBOOT -> up, SUSPENDED / PMSUSPENDED -> paused, STOPPED -> down,
 * SHUTDOWN -> powering_down (down if libvirt already says shut off),
 * CRASHED -> from the state after it; DEFINED / UNDEFINED leave it. */
eng_vm_status_t eng_vmstate_on_event(int event, int detail, int state,
                                     int reason, eng_vm_status_t cur);

/* Status after the agent answered vm_create OK: powering_up if the VM is
 * still wait_for_launch, else unchanged (a STARTED event may have won). */
eng_vm_status_t eng_vmstate_on_create_ok(eng_vm_status_t cur);

/* Status of a VM whose host went non_responsive: unknown unless down. */
eng_vm_status_t eng_vmstate_on_host_lost(eng_vm_status_t cur);

/* True for statuses in which a QEMU process is believed to exist or be
 * on its way (everything but down). */
bool eng_vmstate_is_running(eng_vm_status_t st);

#endif /* ENG_VMSTATE_H */
