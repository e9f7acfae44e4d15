#!/bin/bash
# A host whose agent is SIGKILLed goes connecting, then non_responsive, and
# its running VM becomes unknown (never down: nobody confirmed it stopped).
# A new agent brings both back up. agents.connecting_after = 2 s,
# nonresponsive_after = 5 s here.
. "$(dirname "$0")/lib.sh"
ENG_CONNECTING_AFTER=2
ENG_NONRESPONSIVE_AFTER=5
standard_setup

vm_create_started nr
recorder_start "$W/host.rec" host_status "$HOST_ID"
rh=$REC_PID
recorder_start "$W/vm.rec" vm_status nr
rv=$REC_PID

agent_kill
t0=$(now_ms)
log "agent killed"
wait_for host_status_is "$HOST_ID" connecting --timeout 10 ||
    fail "host not connecting within 10 s; seen $(seen_values "$W/host.rec")"
log "connecting after $(( $(now_ms) - t0 )) ms"
wait_for host_status_is "$HOST_ID" non_responsive --timeout 15 ||
    fail "host not non_responsive within 15 s; seen $(seen_values "$W/host.rec")"
log "non_responsive after $(( $(now_ms) - t0 )) ms"
wait_vm_status nr unknown 5
sleep 2
recorder_stop "$rh"
recorder_stop "$rv"
hs=$(seen_values "$W/host.rec")
vs=$(seen_values "$W/vm.rec")
log "host: $hs"
log "vm: $vs"
assert_match "$hs" "^up -> connecting -> non_responsive$" "host status sequence"
assert_not_contains "$vs" "down" "VM statuses while its host was unreachable"
assert_eq unknown "$(vm_status nr)" "VM status with the host non_responsive"
assert_eq running "$(domstate nr)" "virsh: the guest itself still runs"

ev=$(api_ok GET "/events?max=200") || exit 1
printf '%s' "$ev" | jq -r '.event[]?.description' | grep -qi "non.responsive" ||
    fail "no event about the host becoming non-responsive"

agent_start
wait_host_up 30
wait_vm_status nr up 20
test_done
