#!/bin/bash
# Test of the multi-host test bed (tests/testbed/testbed.sh):
#   A. 3 hosts: own hostname, own libvirtd (and host UUID), libvirt reachable
#      across the bridge, a 64 MiB KVM guest live-migrated h1 -> h2 -> h1;
#      then teardown leaves no namespace, process or mount behind.
#   B. teardown after a "failed test": a running guest and stray processes
#      in a host and in the engine namespace are all cleaned up by `down`.
#   C. `up` killed half-way: `down` still cleans up whatever it had made.
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
#
# Needs root. Every client runs inside the test bed's namespaces; the root
# namespace never talks to the test bed's addresses.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TB="$HERE/testbed.sh"
B=${B:-build}
case "$B" in /*) ;; *) B="$ROOT/$B" ;; esac
export B
QBOOT=/usr/share/qemu/qboot.rom
VM=tbvm

PASSED=0
FAILED=0
DIRS=()

log() { printf '[%s test_testbed] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
now_ms() { date +%s%3N; }
ok() { PASSED=$((PASSED + 1)); log "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); log "FAIL - $*"; }
# check WHAT CMD...: pass if CMD succeeds.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$what"; else bad "$what: $(printf '%s' "$out" | tail -n 5)"; fi
}
# check_eq WHAT EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}

cleanup() {
    local d
    for d in "${DIRS[@]}"; do
        TESTBED_DIR=$d "$TB" down >/dev/null 2>&1
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# new_dir: a fresh test bed dir of our own (parallel runs never share one).
new_dir() {
    mkdir -p "$ROOT/build"
    TESTBED_DIR=$(mktemp -d "$ROOT/build/testbed-test.XXXXXX")
    export TESTBED_DIR
    DIRS+=("$TESTBED_DIR")
}

tb() { "$TB" "$@"; }
tbx() { "$TB" exec "$@"; }
# state KEY: a value from the current test bed's state (or state.down).
state() {
    local f="$TESTBED_DIR/state"
    [ -f "$f" ] || f="$TESTBED_DIR/state.down"
    # shellcheck disable=SC1090
    (. "$f" 2>/dev/null; eval "printf '%s' \"\${$1:-}\"")
}

# stat_of PID: "STATE STARTTIME"; proc_alive PID START: running, not a zombie.
stat_of() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    printf '%s %s\n' "$1" "${20}"
}
proc_alive() {
    local st
    st=$(stat_of "$1") || return 1
    [ "${st% *}" != Z ] && [ "${st#* }" = "$2" ]
}
proc_exists() {     # also as a zombie
    local st
    st=$(stat_of "$1") || return 1
    [ "${st#* }" = "$2" ]
}

# snapshot_pids: "PID:START" of every process in the test bed's namespaces
# plus every pid recorded in its state.
snapshot_pids() {
    local ns p st k prefix
    prefix=$(state TB_PREFIX)
    for ns in $( [ -n "$prefix" ] && ip netns list | awk '{print $1}' | grep -F "$prefix-"); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            st=$(stat_of "$p") && printf '%s:%s\n' "$p" "${st#* }"
        done
    done
    for k in $(sed -n 's/^\([A-Z0-9_]*\(_INIT\|_UNSHARE\|_PID\|_NSENTER\)\)=.*/\1/p' \
               "$TESTBED_DIR/state" 2>/dev/null | sort -u); do
        p=$(state "$k")
        [ -n "$p" ] && printf '%s:%s\n' "$p" "$(state "${k}_ST")"
    done
}

# check_nothing_left WHAT PIDS: no namespace with the run's prefix, no live
# process from PIDS, no mount naming the prefix; zombies must be reaped soon.
check_nothing_left() {
    local what=$1 pids=$2 prefix left p deadline
    prefix=$(state TB_PREFIX)
    if [ -z "$prefix" ]; then
        ok "$what: nothing was recorded, nothing to check"
        return
    fi
    left=$(ip netns list | awk '{print $1}' | grep -F "$prefix-")
    check_eq "$what: no namespace named $prefix-* left" "" "$(echo $left)"
    left=""
    for p in $pids; do
        proc_alive "${p%:*}" "${p#*:}" && left="$left ${p%:*}($(cat /proc/${p%:*}/comm 2>/dev/null))"
    done
    check_eq "$what: none of the $(echo "$pids" | wc -w) test bed processes alive" "" "$left"
    # Exited processes whose parent left are reaped by PID 1, which can be slow.
    deadline=$(( $(now_ms) + 10000 ))
    while :; do
        left=""
        for p in $pids; do
            proc_exists "${p%:*}" "${p#*:}" && left="$left ${p%:*}"
        done
        [ -z "$left" ] && break
        [ "$(now_ms)" -ge "$deadline" ] && break
        sleep 0.1
    done
    check_eq "$what: every exited process reaped within 10 s" "" "$left"
    left=$(grep -F "$prefix" /proc/self/mounts)
    check_eq "$what: no mount left in the root namespace" "" "$left"
}

domain_xml() {
    local type=qemu
    [ -c /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null && type=kvm
    cat <<EOF
<domain type='$type'>
  <name>$VM</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
      <loader readonly='yes' type='rom'>$QBOOT</loader></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/$VM.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF
}

# domstate HOST: the guest's state on HOST ("" if HOST has no such domain).
domstate() { tbx "$1" virsh -q domstate "$VM" 2>/dev/null | head -n1; }
domains() { tbx "$1" virsh -q list --all --name 2>/dev/null | grep -v '^$' | tr '\n' ' '; }

# migrate FROM TO: live migration run inside FROM; prints wall ms.
migrate() {
    local from=$1 to=$2 to_addr t0 t1 out
    to_addr=$(tb addr "$to")
    t0=$(now_ms)
    if out=$(tbx "$from" virsh migrate --live --p2p --unsafe --persistent \
                --undefinesource "$VM" "qemu+tcp://$to_addr/system" 2>&1); then
        t1=$(now_ms)
        ok "live migration $from -> $to ($((t1 - t0)) ms wall)"
        MIG_TIMES="${MIG_TIMES:-} $from->$to:$((t1 - t0))ms"
    else
        bad "live migration $from -> $to: $out"
        return 1
    fi
    check_eq "guest runs on $to after migration" running "$(domstate "$to")"
    check_eq "guest is gone from $from after migration" "" "$(domains "$from")"
}

if [ "$(id -u)" != 0 ]; then
    log "SKIP: needs root (network namespaces)"
    echo "0 passed, 0 failed"
    exit 77
fi

# ---- A. three hosts and live migration ------------------------------------
log "A. up 3, libvirt on every host, live migration h1 -> h2 -> h1"
new_dir
t0=$(now_ms)
if tb up 3; then
    ok "up 3 ($(( $(now_ms) - t0 )) ms)"
else
    bad "up 3 failed"
fi
ID=$(state TB_ID)
NET=$(state TB_NET)
names=""
for i in 1 2 3; do
    h=$(tbx "h$i" hostname 2>&1)
    check_eq "h$i has its own hostname" "tb$ID-h$i" "$h"
    names="$names $h"
    h=$(tbx "h$i" virsh -q -c qemu:///system hostname 2>&1 | head -n1)
    check_eq "h$i's own libvirtd answers inside it" "tb$ID-h$i" "$h"
done
check_eq "three distinct hostnames" 3 "$(echo $names | tr ' ' '\n' | sort -u | wc -l)"
uuids=""
for i in 1 2 3; do
    uuids="$uuids $(tbx "h$i" virsh -q capabilities 2>/dev/null |
        sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -n1)"
done
check_eq "three distinct libvirt host UUIDs" 3 "$(echo $uuids | tr ' ' '\n' | sort -u | grep -c .)"
for pair in "1 2" "2 3" "3 1"; do
    set -- $pair
    a=$(tb addr "h$2")
    h=$(tbx "h$1" virsh -q -c "qemu+tcp://$a/system" hostname 2>&1 | head -n1)
    check_eq "h$1 reaches h$2's libvirtd over the bridge ($a)" "tb$ID-h$2" "$h"
done
check "engine namespace reaches h1's libvirt port" \
    tbx engine bash -c 'exec 3<>/dev/tcp/$TB_H1_ADDR/16509'
check_eq "root namespace has no address in $NET.0/24" "" \
    "$(ip -4 -o addr show | grep -F " $NET.")"
check_eq "root namespace has no route to $NET.0/24" "" \
    "$(ip -4 route show | grep -F "$NET.")"

domain_xml >"$TESTBED_DIR/$VM.xml"
for h in h1 h2; do
    check "empty qcow2 at the same path on $h" \
        tbx "$h" qemu-img create -q -f qcow2 "/var/lib/libvirt/images/$VM.qcow2" 1G
done
check "define the guest on h1" tbx h1 virsh -q define "$TESTBED_DIR/$VM.xml"
check "start the guest on h1" tbx h1 virsh -q start "$VM"
check_eq "guest runs on h1" running "$(domstate h1)"
check_eq "h2 has no guest yet" "" "$(domains h2)"
if migrate h1 h2; then
    migrate h2 h1
fi
check_eq "guest runs on h1 again" running "$(domstate h1)"

# With the Herd daemons built: engine and agents in the test bed, the agents
# reach the engine across the bridge, the API answers inside the engine ns.
hosts_up() {
    tbx engine sh -c 'curl -s -m 5 "$HERD_URL/ovirt-engine/api/hosts"' 2>/dev/null |
        grep -Ec '"status": *"up"'
}
if [ -x "$B/herd-engine" ] && [ -x "$B/herd-agent" ] && [ "${TB_WITH_HERD:-1}" = 1 ]; then
    check "start-engine ($B/herd-engine)" tb start-engine
    check "start-agents ($B/herd-agent on h1..h3)" tb start-agents
    deadline=$(( $(now_ms) + 20000 ))
    while [ "$(hosts_up)" != 3 ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.2; done
    check_eq "the engine reports the 3 hosts up (API inside the engine ns)" 3 "$(hosts_up)"
else
    log "skip: herd-engine/herd-agent not built in $B (or TB_WITH_HERD=0)"
fi

pids=$(snapshot_pids)
t0=$(now_ms)
if tb down; then ok "down ($(( $(now_ms) - t0 )) ms)"; else bad "down failed"; fi
check_nothing_left "A" "$pids"
check "a second down is a harmless no-op" tb down
A_DIR=$TESTBED_DIR

# ---- B. teardown after a failed test ----------------------------------------
log "B. down cleans up a running guest and stray processes"
new_dir
check "up 2" tb up 2
domain_xml >"$TESTBED_DIR/$VM.xml"
tbx h2 qemu-img create -q -f qcow2 "/var/lib/libvirt/images/$VM.qcow2" 1G
tbx h2 virsh -q define "$TESTBED_DIR/$VM.xml" >/dev/null 2>&1
check "start a guest on h2" tbx h2 virsh -q start "$VM"
# Stray processes as a crashed test would leave them.
tbx engine sleep 600 </dev/null >/dev/null 2>&1 &
tbx h1 sleep 600 </dev/null >/dev/null 2>&1 &
tbx h2 sh -c 'sleep 600 & sleep 600' </dev/null >/dev/null 2>&1 &
sleep 0.3
pids=$(snapshot_pids)
check_eq "stray processes are in the snapshot" yes \
    "$( [ "$(echo "$pids" | wc -w)" -ge 10 ] && echo yes || echo "no: $pids")"
t0=$(now_ms)
if tb down; then ok "down with a running guest and strays ($(( $(now_ms) - t0 )) ms)"; else bad "down failed"; fi
check_nothing_left "B" "$pids"
wait 2>/dev/null

# ---- C. up killed half-way ------------------------------------------------------
log "C. up killed half-way, then down"
for delay in 0.02 0.08 0.15; do
    new_dir
    # Run testbed.sh itself in the background (not through a shell
    # function, whose subshell would be killed instead of `up`).
    "$TB" up 3 >"$TESTBED_DIR.up.log" 2>&1 &
    upid=$!
    sleep "$delay"
    kill -KILL "$upid" 2>/dev/null
    wait "$upid" 2>/dev/null
    sleep 0.2
    pids=$(snapshot_pids)
    check "down after up was killed at ${delay}s" tb down
    check_nothing_left "C@${delay}s" "$pids"
done

# ---- summary ------------------------------------------------------------------------
log "timings: up 3 hosts $(TESTBED_DIR=$A_DIR state TB_UP_MS) ms (inside testbed.sh);" \
    "migrations:${MIG_TIMES:- none}"
if [ "$FAILED" = 0 ]; then
    for d in "${DIRS[@]}"; do rm -rf "$d" "$d.up.log"; done
    DIRS=()
else
    log "test bed dirs kept for inspection: ${DIRS[*]}"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
