/* The VM status table of docs/ARCHITECTURE.md, row by row, against the
 * pure mapping in engine/eng_vmstate.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eng_vmstate.h"

#define ST(s) eng_vm_status_name(s)
#define EXPECT(got, want) assert_string_equal(ST(got), ST(want))

/* agent answered vm_create OK (if still wait_for_launch) -> powering_up */
static void test_create_ok(void **state)
{
    (void)state;
    EXPECT(eng_vmstate_on_create_ok(ENG_VM_WAIT_FOR_LAUNCH),
           ENG_VM_POWERING_UP);
    /* a STARTED event that came first wins */
    EXPECT(eng_vmstate_on_create_ok(ENG_VM_UP), ENG_VM_UP);
    EXPECT(eng_vmstate_on_create_ok(ENG_VM_DOWN), ENG_VM_DOWN);
}

/* libvirt running (event STARTED / RESUMED, or report/stats running) -> up */
static void test_running_is_up(void **state)
{
    (void)state;
    const eng_vm_status_t from[] = {
        ENG_VM_DOWN, ENG_VM_WAIT_FOR_LAUNCH, ENG_VM_POWERING_UP,
        ENG_VM_UNKNOWN, ENG_VM_PAUSED, ENG_VM_UP,
    };
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        EXPECT(eng_vmstate_on_event(ENG_LV_EV_STARTED, 0, ENG_LV_RUNNING, 1,
                                    from[i]), ENG_VM_UP);
        EXPECT(eng_vmstate_on_event(ENG_LV_EV_RESUMED, 0, ENG_LV_RUNNING, 1,
                                    from[i]), ENG_VM_UP);
        EXPECT(eng_vmstate_from_state(ENG_LV_RUNNING, 1, from[i]), ENG_VM_UP);
        EXPECT(eng_vmstate_from_state(ENG_LV_BLOCKED, 1, from[i]), ENG_VM_UP);
    }
}

/* shutdown accepted -> powering_down; it stays while libvirt says running */
static void test_powering_down_kept(void **state)
{
    (void)state;
    EXPECT(eng_vmstate_from_state(ENG_LV_RUNNING, 1, ENG_VM_POWERING_DOWN),
           ENG_VM_POWERING_DOWN);
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_SHUTDOWN, 0, ENG_LV_SHUTDOWN, 1,
                                ENG_VM_UP), ENG_VM_POWERING_DOWN);
    EXPECT(eng_vmstate_from_state(ENG_LV_SHUTDOWN, 1, ENG_VM_UP),
           ENG_VM_POWERING_DOWN);
}

/* reboot accepted -> reboot_in_progress; REBOOT event -> up */
static void test_reboot(void **state)
{
    (void)state;
    EXPECT(eng_vmstate_from_state(ENG_LV_RUNNING, 1,
                                  ENG_VM_REBOOT_IN_PROGRESS),
           ENG_VM_REBOOT_IN_PROGRESS);
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_REBOOT, 0, ENG_LV_RUNNING, 1,
                                ENG_VM_REBOOT_IN_PROGRESS), ENG_VM_UP);
}

/* libvirt paused -> paused */
static void test_paused(void **state)
{
    (void)state;
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_SUSPENDED, 0, ENG_LV_PAUSED, 1,
                                ENG_VM_UP), ENG_VM_PAUSED);
    EXPECT(eng_vmstate_from_state(ENG_LV_PAUSED, 1, ENG_VM_UP),
           ENG_VM_PAUSED);
    EXPECT(eng_vmstate_from_state(ENG_LV_PAUSED, 1, ENG_VM_DOWN),
           ENG_VM_PAUSED);
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_PMSUSPENDED, 0, ENG_LV_PMSUSPENDED,
                                1, ENG_VM_UP), ENG_VM_PAUSED);
}

/* libvirt shutoff / crashed -> down (destroy: STOPPED/DESTROYED) */
static void test_shutoff_is_down(void **state)
{
    (void)state;
    const eng_vm_status_t from[] = {
        ENG_VM_UP, ENG_VM_POWERING_DOWN, ENG_VM_PAUSED, ENG_VM_POWERING_UP,
        ENG_VM_REBOOT_IN_PROGRESS, ENG_VM_UNKNOWN, ENG_VM_WAIT_FOR_LAUNCH,
    };
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        for (int detail = 0; detail <= 6; detail++)
            EXPECT(eng_vmstate_on_event(ENG_LV_EV_STOPPED, detail,
                                        ENG_LV_SHUTOFF, detail, from[i]),
                   ENG_VM_DOWN);
        EXPECT(eng_vmstate_from_state(ENG_LV_SHUTOFF, 1, from[i]),
               ENG_VM_DOWN);
        EXPECT(eng_vmstate_from_state(ENG_LV_CRASHED, 1, from[i]),
               ENG_VM_DOWN);
        EXPECT(eng_vmstate_on_event(ENG_LV_EV_CRASHED, 0, ENG_LV_CRASHED, 1,
                                    from[i]), ENG_VM_DOWN);
    }
    /* guest finished its shutdown and libvirt already says shut off */
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_SHUTDOWN, 0, ENG_LV_SHUTOFF, 1,
                                ENG_VM_POWERING_DOWN), ENG_VM_DOWN);
}

/* host non_responsive -> unknown (for every VM on it that was not down) */
static void test_host_lost(void **state)
{
    (void)state;
    for (int s = 0; s < ENG_VM__LAST; s++) {
        eng_vm_status_t want = s == ENG_VM_DOWN ? ENG_VM_DOWN : ENG_VM_UNKNOWN;
        EXPECT(eng_vmstate_on_host_lost((eng_vm_status_t)s), want);
    }
}

/* define / undefine change nothing; unknown states keep ours */
static void test_no_change(void **state)
{
    (void)state;
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_DEFINED, 0, ENG_LV_SHUTOFF, 0,
                                ENG_VM_UP), ENG_VM_UP);
    EXPECT(eng_vmstate_on_event(ENG_LV_EV_UNDEFINED, 0, ENG_LV_SHUTOFF, 0,
                                ENG_VM_DOWN), ENG_VM_DOWN);
    EXPECT(eng_vmstate_from_state(ENG_LV_NOSTATE, 0, ENG_VM_UP), ENG_VM_UP);
    EXPECT(eng_vmstate_from_state(99, 0, ENG_VM_PAUSED), ENG_VM_PAUSED);
    assert_false(eng_vmstate_state_valid(8));
    assert_false(eng_vmstate_event_valid(9));
    assert_true(eng_vmstate_event_valid(ENG_LV_EV_REBOOT));
    assert_true(eng_vmstate_is_active(ENG_LV_PAUSED));
    assert_false(eng_vmstate_is_active(ENG_LV_SHUTOFF));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_ok),
        cmocka_unit_test(test_running_is_up),
        cmocka_unit_test(test_powering_down_kept),
        cmocka_unit_test(test_reboot),
        cmocka_unit_test(test_paused),
        cmocka_unit_test(test_shutoff_is_down),
        cmocka_unit_test(test_host_lost),
        cmocka_unit_test(test_no_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
