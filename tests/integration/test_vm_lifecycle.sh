#!/bin/bash
# Every VM action shows up as the right status in the engine and the right
# state in virsh: pause, resume, stop, start, reboot (reboot_in_progress,
# then up), reset, shutdown (no OS answers ACPI: forced off after
# vm.shutdown_timeout = 2 s).
. "$(dirname "$0")/lib.sh"
ENG_SHUTDOWN_TIMEOUT=2
ENG_REBOOT_TIMEOUT=2
standard_setup

vm_create_started lc
VM=$(vm_id lc)
domid() { virsh_ domid lc 2>/dev/null | tr -d '[:space:]'; }

gone_or_off() { local s; s=$(domstate lc); [ "$s" = "shut off" ] || [ -z "$s" ]; }

log "pause"
ctl vm pause lc >/dev/null || exit 1
wait_vm_status lc paused 5
wait_domstate lc paused 5

log "resume"
ctl vm resume lc >/dev/null || exit 1
wait_vm_status lc up 5
wait_domstate lc running 5

log "stop"
ctl vm stop lc >/dev/null || exit 1
wait_vm_status lc down 10
wait_for gone_or_off --timeout 5 || fail "virsh: lc still '$(domstate lc)' after stop"

log "start"
ctl vm start lc >/dev/null || exit 1
wait_vm_status lc up 30
wait_domstate lc running 5

log "reboot"
id1=$(domid)
recorder_start "$W/reboot.rec" vm_status lc
r=$REC_PID
ctl vm reboot lc >/dev/null || exit 1
wait_for grep -q reboot_in_progress "$W/reboot.rec" --timeout 10 ||
    fail "no reboot_in_progress after reboot; seen: $(seen_values "$W/reboot.rec")"
wait_for vm_status_is lc up --timeout 20 ||
    fail "VM not up again after reboot; seen: $(seen_values "$W/reboot.rec")"
recorder_stop "$r"
log "reboot statuses: $(seen_values "$W/reboot.rec")"
assert_not_contains "$(seen_values "$W/reboot.rec")" down "statuses during reboot"
wait_domstate lc running 5
assert_eq "$id1" "$(domid)" "domain id across a reboot (same QEMU)"

log "reset"
ctl vm reset lc >/dev/null || exit 1
sleep 0.5
wait_vm_status lc up 5
wait_domstate lc running 5
assert_eq "$id1" "$(domid)" "domain id across a reset (same QEMU)"

log "shutdown (forced after 2 s)"
recorder_start "$W/shutdown.rec" vm_status lc
r=$REC_PID
t0=$(now_ms)
herdctl vm shutdown lc >"$W/shutdown.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "herdctl vm shutdown exited $rc: $(cat "$W/shutdown.out")"
wait_vm_status lc down 20
t1=$(now_ms)
recorder_stop "$r"
log "shutdown statuses: $(seen_values "$W/shutdown.rec") in $((t1 - t0)) ms"
assert_contains "$(seen_values "$W/shutdown.rec")" powering_down "statuses during shutdown"
wait_for gone_or_off --timeout 5 || fail "virsh: lc still '$(domstate lc)' after shutdown"
[ $((t1 - t0)) -ge 1500 ] ||
    fail "shutdown took $((t1 - t0)) ms: faster than the 2 s grace period (was it forced at once?)"

# Start again after a shutdown, then the events tell the story.
ctl vm start lc >/dev/null || exit 1
wait_vm_status lc up 30
ev=$(api_ok GET "/events?max=500") || exit 1
n=$(printf '%s' "$ev" | jq --arg v "$VM" '[.event[]? | select(.vm.id == $v)] | length')
assert_ge "$n" 8 "events about VM $VM"
for word in pause resume stop reboot shutdown; do
    printf '%s' "$ev" | jq -r --arg v "$VM" '.event[]? | select(.vm.id == $v) | .description' |
        grep -qi "$word" || fail "no event about '$word' for VM $VM"
done
ctl vm stop lc >/dev/null || exit 1
wait_vm_status lc down 10
test_done
