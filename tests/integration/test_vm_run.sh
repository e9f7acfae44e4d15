#!/bin/bash
# A KVM guest made with herdctl (64 MiB, 1 vCPU, 1 GiB qcow2, NIC, no OS,
# qboot) really runs: virsh agrees with the engine, and its statistics
# reach the REST API.
. "$(dirname "$0")/lib.sh"
standard_setup

out=$(ctl vm create itvm --memory 64M --cpus 1 --disk 1G --nic --start) || exit 1
log "herdctl vm create: $out"
wait_vm_status itvm up 30
VM=$(vm_id itvm)
[ -n "$VM" ] || fail "no id for VM itvm"

# virsh: running, same UUID, 64 MiB, 1 vCPU, KVM, qboot, qcow2 1 GiB.
wait_domstate itvm running 10
assert_contains "$(virsh_ list --name)" itvm "virsh list"
assert_eq "$VM" "$(virsh_ domuuid itvm | tr -d '[:space:]')" "domain UUID = VM id"
info=$(virsh_ dominfo itvm)
assert_match "$info" 'Max memory: +65536 KiB' "virsh dominfo memory"
assert_match "$info" 'CPU\(s\): +1$' "virsh dominfo vCPUs"
xml=$(virsh_ dumpxml itvm)
if have_kvm; then
    assert_contains "$xml" "<domain type='kvm'" "domain type on a host with /dev/kvm"
fi
assert_contains "$xml" "qboot.rom" "qboot loader"
disk=$(virsh_ domblklist itvm | awk '$1 == "vda" || $1 ~ /^[sv]d[a-z]$/ {print $2; exit}')
[ -n "$disk" ] && [ -f "$disk" ] || fail "guest disk '$disk' is not a file (domblklist: $(virsh_ domblklist itvm))"
qi=$(qemu-img info -U --output=json "$disk")
assert_eq qcow2 "$(jget "$qi" .format)" "disk format"
assert_eq 1073741824 "$(jget "$qi" '."virtual-size"')" "disk virtual size"
assert_match "$xml" "<interface type=" "guest NIC"
# A real QEMU process with KVM acceleration.
pid=$(cat "$LIBVIRT_DIR/run/qemu/itvm.pid" 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" || fail "no QEMU process for itvm (pidfile $LIBVIRT_DIR/run/qemu/itvm.pid)"
if have_kvm; then
    assert_contains "$(tr '\0' ' ' </proc/$pid/cmdline)" "accel kvm" "QEMU command line"
fi

# The engine agrees.
j=$(api_ok GET "/vms/$VM") || exit 1
assert_eq up "$(jget "$j" .status)" "engine status"
assert_eq "$HOST_ID" "$(jget "$j" .host.id)" "engine host of the VM"
assert_eq 67108864 "$(jget "$j" .memory)" "engine memory"
out=$(ctl vm list) || exit 1
assert_contains "$out" itvm "herdctl vm list"
assert_contains "$out" up "herdctl vm list"

# Statistics show up (the agent samples every second).
has_stats() {
    local s
    api_call GET "/vms/$VM/statistics"; s=$RESP
    [ "$HTTP_STATUS" = 200 ] && [ "$(json_count "$s" statistic)" -gt 0 ]
}
wait_for has_stats --timeout 10 ||
    fail "no VM statistics within 10 s: $(api GET "/vms/$VM/statistics")"
s=$(api_ok GET "/vms/$VM/statistics") || exit 1
log "VM statistics: $(printf '%s' "$s" | jq -c '[.statistic[] | {name, v: (.values.value[0].datum // .value // null)}]' 2>/dev/null | head -c 2000)"
names=$(printf '%s' "$s" | jq -r '.statistic[].name')
assert_match "$names" 'cpu' "VM statistic names"
assert_match "$names" 'memory' "VM statistic names"
out=$(ctl vm stats itvm) || exit 1
assert_contains "$out" cpu "herdctl vm stats"

hs=$(api_ok GET "/hosts/$HOST_ID/statistics") || exit 1
assert_gt "$(json_count "$hs" statistic)" 0 "host statistics count"
out=$(ctl host stats "$HOST_ID") || exit 1
assert_contains "$out" memory "herdctl host stats"

test_done
