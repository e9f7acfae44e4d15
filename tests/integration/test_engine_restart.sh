#!/bin/bash
# An engine restart keeps the inventory (hosts, VMs, events); the running
# guest is untouched (same QEMU in virsh) and is `up` again once the agent
# has reconnected.
. "$(dirname "$0")/lib.sh"
standard_setup

vm_create_started keep
VM=$(vm_id keep)
ctl vm create idle --memory 64M --cpus 1 >/dev/null || exit 1
domid1=$(virsh_ domid keep | tr -d '[:space:]')

hosts1=$(api_ok GET /hosts | jq -r '[.host[].id] | sort | join(",")') || exit 1
vms1=$(api_ok GET /vms | jq -r '[.vm[] | "\(.id)=\(.name)"] | sort | join(",")') || exit 1
ev1=$(api_ok GET "/events?max=10000") || exit 1
nev1=$(json_count "$ev1" event)
evids1=$(printf '%s' "$ev1" | jq -r '[.event[].id] | sort | join(",")')

engine_stop
log "engine stopped"
sleep 2
assert_eq running "$(domstate keep)" "virsh state with the engine stopped"
kill -0 "$AGENT_PID" || fail "agent died while the engine was down"

engine_start
hosts2=$(api_ok GET /hosts | jq -r '[.host[].id] | sort | join(",")') || exit 1
vms2=$(api_ok GET /vms | jq -r '[.vm[] | "\(.id)=\(.name)"] | sort | join(",")') || exit 1
assert_eq "$hosts1" "$hosts2" "hosts after an engine restart"
assert_eq "$vms1" "$vms2" "VMs after an engine restart"
ev2=$(api_ok GET "/events?max=10000") || exit 1
missing=$(comm -23 <(tr ',' '\n' <<<"$evids1" | sort) \
                   <(printf '%s' "$ev2" | jq -r '.event[].id' | sort) | head -5)
[ -z "$missing" ] || fail "events lost over the restart (ids $missing; had $nev1)"

wait_host_up 30
wait_vm_status keep up 20
assert_eq "$HOST_ID" "$(jget "$(api_ok GET "/vms/$VM")" .host.id)" "host of the VM"
assert_eq down "$(vm_status idle)" "never-started VM after restart"
assert_eq running "$(domstate keep)" "virsh state after the restart"
assert_eq "$domid1" "$(virsh_ domid keep | tr -d '[:space:]')" \
    "domain id (the same QEMU, not restarted)"

# The new engine still drives the VM.
ctl vm pause keep >/dev/null || exit 1
wait_vm_status keep paused 5
wait_domstate keep paused 5
ctl vm resume keep >/dev/null || exit 1
wait_vm_status keep up 5
test_done
