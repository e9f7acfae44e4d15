#!/bin/bash
# `virsh destroy` behind the engine's back: the engine shows the VM down
# within 1 s (the agent pushes libvirt's event at once) and records an event.
. "$(dirname "$0")/lib.sh"
standard_setup

vm_create_started ext
VM=$(vm_id ext)
last=$(jget "$(api_ok GET '/events?max=1')" '.event[0].id')
last=${last:-0}

t0=$(now_ms)
virsh_ destroy ext >/dev/null || fail "virsh destroy failed"
t1=$(now_ms)
limit=$(( 1000 * HERD_TIMEOUT_SCALE ))
while :; do
    st=$(vm_status ext)
    [ "$st" = down ] && break
    [ $(( $(now_ms) - t1 )) -gt "$limit" ] &&
        fail "VM still '$st' in the engine $limit ms after virsh destroy returned"
    sleep 0.05
done
log "down in the engine $(( $(now_ms) - t1 )) ms after virsh destroy returned (destroy took $((t1 - t0)) ms)"

ev=$(api_ok GET "/events?max=100") || exit 1
n=$(printf '%s' "$ev" | jq --arg v "$VM" --argjson l "$last" \
    '[.event[]? | select(.vm.id == $v and ((.id|tonumber) > $l))] | length')
assert_gt "$n" 0 "new events about VM $VM after the destroy"
printf '%s' "$ev" | jq -r --arg v "$VM" '.event[]? | select(.vm.id == $v) | .description' |
    grep -qi down || fail "no event saying VM $VM went down: $(printf '%s' "$ev" | jq -c '.event[:5]')"

# It stays down (no restart behind the user's back), and can start again.
sleep 2
assert_eq down "$(vm_status ext)" "status 2 s after the destroy"
ctl vm start ext >/dev/null || exit 1
wait_vm_status ext up 30
wait_domstate ext running 5
test_done
