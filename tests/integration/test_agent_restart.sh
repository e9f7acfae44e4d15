#!/bin/bash
# An agent restart reconciles: a running Herd VM stays up; a Herd VM
# destroyed while the agent was down becomes down; a domain started with
# virsh meanwhile is recorded as an external VM and left running.
. "$(dirname "$0")/lib.sh"
standard_setup

vm_create_started stay
vm_create_started victim
STAY=$(vm_id stay)
VICTIM=$(vm_id victim)
domid1=$(virsh_ domid stay | tr -d '[:space:]')

agent_stop
log "agent stopped"
virsh_ destroy victim >/dev/null || fail "virsh destroy victim"
make_disk "$W/outsider.qcow2" 64M
raw_domain_xml outsider "$W/outsider.qcow2" >"$W/outsider.xml"
virsh_ create "$W/outsider.xml" >/dev/null || fail "virsh create outsider"
OUTSIDER=$(virsh_ domuuid outsider | tr -d '[:space:]')

agent_start
wait_host_up 30
wait_vm_status stay up 20
wait_vm_status victim down 20

# The outsider is now in the inventory, external, running, not killed.
wait_for vm_status_is outsider up --timeout 20 ||
    fail "external domain 'outsider' not listed as up: $(api GET /vms | jq -c '[.vm[]? | {name, status, origin}]')"
j=$(api_ok GET /vms/outsider) || exit 1
assert_eq external "$(jget "$j" .origin)" "origin of the outsider"
assert_eq "$OUTSIDER" "$(jget "$j" .id)" "outsider's id = its domain UUID"
assert_eq "$HOST_ID" "$(jget "$j" .host.id)" "outsider's host"
sleep 3
assert_eq running "$(domstate outsider)" "virsh state of the outsider 3 s later"
assert_eq running "$(domstate stay)" "virsh state of stay"
assert_eq "$domid1" "$(virsh_ domid stay | tr -d '[:space:]')" "stay's domain id (same QEMU)"
assert_eq up "$(vm_status stay)" "stay after 3 s"
assert_eq down "$(vm_status victim)" "victim after 3 s"

ev=$(api_ok GET "/events?max=500") || exit 1
n=$(printf '%s' "$ev" | jq --arg v "$OUTSIDER" '[.event[]? | select(.vm.id == $v)] | length')
assert_gt "$n" 0 "events about the external VM"

# The victim can be started again by the engine.
ctl vm start victim >/dev/null || exit 1
wait_vm_status victim up 30
wait_domstate victim running 5
test_done
