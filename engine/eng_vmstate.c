#include "eng_vmstate.h"

bool eng_vmstate_state_valid(int state)
{
    return state >= ENG_LV_NOSTATE && state <= ENG_LV_STATE_MAX;
}

bool eng_vmstate_event_valid(int event)
{
    return (event >= ENG_LV_EV_DEFINED && event <= ENG_LV_EV_MAX) ||
           event == ENG_LV_EV_REBOOT;
}

bool eng_vmstate_is_active(int state)
{
    switch (state) {
    case ENG_LV_RUNNING:
    case ENG_LV_BLOCKED:
    case ENG_LV_PAUSED:
    case ENG_LV_SHUTDOWN:
    case ENG_LV_PMSUSPENDED:
        return true;
    default:
        return false;
    }
}

bool eng_vmstate_is_running(eng_vm_status_t st)
{
    return st != ENG_VM_DOWN;
}

eng_vm_status_t eng_vmstate_from_state(int state, int reason,
                                       eng_vm_status_t cur)
{
    (void)reason;
    switch (state) {
    case ENG_LV_RUNNING:
    case ENG_LV_BLOCKED:
        /* A command in flight owns the status until its event comes. */
        if (cur == ENG_VM_POWERING_DOWN || cur == ENG_VM_REBOOT_IN_PROGRESS ||
            cur == ENG_VM_MIGRATING)
            return cur;
        return ENG_VM_UP;
    case ENG_LV_PAUSED:
    case ENG_LV_PMSUSPENDED:
        if (cur == ENG_VM_MIGRATING)
            return cur;
        return ENG_VM_PAUSED;
    case ENG_LV_SHUTDOWN:
        return ENG_VM_POWERING_DOWN;
    case ENG_LV_SHUTOFF:
    case ENG_LV_CRASHED:
        return ENG_VM_DOWN;
    default:
        /* NOSTATE or garbage: libvirt does not know; keep ours. */
        return cur;
    }
}

eng_vm_status_t eng_vmstate_on_event(int event, int detail, int state,
                                     int reason, eng_vm_status_t cur)
{
    (void)detail;
    switch (event) {
    case ENG_LV_EV_STARTED:
    case ENG_LV_EV_RESUMED:
    case ENG_LV_EV_REBOOT:
        return ENG_VM_UP;
    case ENG_LV_EV_SUSPENDED:
    case ENG_LV_EV_PMSUSPENDED:
        return ENG_VM_PAUSED;
    case ENG_LV_EV_STOPPED:
        return ENG_VM_DOWN;
    case ENG_LV_EV_SHUTDOWN:
        if (state == ENG_LV_SHUTOFF || state == ENG_LV_CRASHED)
            return ENG_VM_DOWN;
        return ENG_VM_POWERING_DOWN;
    case ENG_LV_EV_CRASHED:
        if (state == ENG_LV_PAUSED)
            return ENG_VM_PAUSED;
        if (state == ENG_LV_RUNNING || state == ENG_LV_BLOCKED)
            return cur;
        return ENG_VM_DOWN;
    case ENG_LV_EV_DEFINED:
    case ENG_LV_EV_UNDEFINED:
        return cur;
    default:
        return eng_vmstate_from_state(state, reason, cur);
    }
}

eng_vm_status_t eng_vmstate_on_create_ok(eng_vm_status_t cur)
{
    return cur == ENG_VM_WAIT_FOR_LAUNCH ? ENG_VM_POWERING_UP : cur;
}

eng_vm_status_t eng_vmstate_on_host_lost(eng_vm_status_t cur)
{
    return cur == ENG_VM_DOWN ? ENG_VM_DOWN : ENG_VM_UNKNOWN;
}
