#!/bin/bash
# Live migration figures in a 3-host test bed (tests/testbed/testbed.sh),
# printed, nothing asserted:
#   (a) engine-driven migration of a 64 MiB guest (herdctl vm migrate
#       --wait: REST call until the job ends), median of BENCH_MIGRATIONS
#       alternating h1 <-> h2, next to a raw `virsh migrate --live --p2p`
#       of an equal guest between the same libvirtds in the same run;
#   (b) time to empty a host of BENCH_EMPTY_VMS (10) guests: host deactivate
#       until maintenance (the engine migrates 2 at a time per host).
# Needs root, /dev/kvm, jq and the built daemons ($B, default build).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$ROOT/$B" ;; esac
export B
TB="$ROOT/tests/testbed/testbed.sh"
N=${BENCH_MIGRATIONS:-10}
NVM=${BENCH_EMPTY_VMS:-10}
log() { printf '[%s bench/migrate] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }
for f in herd-engine herd-agent herdctl; do
    [ -x "$B/$f" ] || { echo "bench/migrate: $B/$f is not built" >&2; exit 1; }
done

TESTBED_DIR=$(mktemp -d "$B/testbed-bench.XXXXXX")
export TESTBED_DIR
trap '"$TB" down >/dev/null 2>&1; rm -rf "$TESTBED_DIR"' EXIT
"$TB" up 3 >/dev/null 2>&1 || { echo "bench/migrate: testbed up failed" >&2; exit 1; }
PW="bench-$RANDOM$RANDOM"
printf '%s\n' "$PW" >"$TESTBED_DIR/engine/admin.pw"
sed -i 's/^  port: \(.*\)$/  port: \1\n  tls: false/' "$TESTBED_DIR/engine/engine.yaml"
cat >>"$TESTBED_DIR/engine/engine.yaml" <<EOF
auth:
  admin_password_file: $TESTBED_DIR/engine/admin.pw
scheduling:
  balance_interval: 2
EOF
for i in 1 2 3; do
    echo "migration_uri: qemu+tcp://$("$TB" addr h$i)/system" >>"$TESTBED_DIR/h$i/agent.yaml"
done
"$TB" start-engine >/dev/null 2>&1 || { echo "bench/migrate: cannot start the engine" >&2; exit 1; }
for try in $(seq 20); do     # the agents need the engine's key, written once it runs
    "$TB" start-agents >/dev/null 2>&1 && break
    [ "$try" = 20 ] && { echo "bench/migrate: cannot start the agents" >&2; exit 1; }
    sleep 0.25
done

api() {
    "$TB" exec engine curl -s -m 60 -u "admin@internal:$PW" -X "$1" \
        -H 'Content-Type: application/json' -H 'Accept: application/json' \
        ${3:+-d "$3"} "http://127.0.0.1:8080/ovirt-engine/api$2"
}
ctl() {
    "$TB" exec engine env HERD_PASSWORD_FILE="$TESTBED_DIR/engine/admin.pw" \
        "$B/herdctl" --url http://127.0.0.1:8080 "$@"
}
jv() { printf '%s' "$1" | jq -r "($2) // empty" 2>/dev/null; }
until [ "$(jv "$(api GET /hosts)" '[.host[] | select(.status == "up")] | length')" = 3 ]; do
    sleep 0.2
done
declare -A HN
for i in 1 2 3; do HN[h$i]=$("$TB" exec h$i hostname); done
startvm() {     # startvm NAME HOST
    api POST /vms "{\"name\": \"$1\", \"memory\": \"67108864\"}" >/dev/null
    api POST "/vms/$1/start" "{\"host\": {\"name\": \"${HN[$2]}\"}}" >/dev/null
    until [ "$(jv "$(api GET "/vms/$1")" .status)" = up ]; do sleep 0.1; done
}

# ---- (a) one guest, engine-driven vs raw virsh -----------------------------------
startvm bm1 h1
sleep 1
eng=() lv=()
to=h2
for ((k = 0; k < N; k++)); do
    t0=$(now_ms)
    ctl vm migrate bm1 --host "${HN[$to]}" --wait >/dev/null 2>&1 ||
        log "engine migration $k to $to failed"
    eng+=($(( $(now_ms) - t0 )))
    [ "$to" = h2 ] && to=h1 || to=h2
done
libvirt_ms=$(jv "$(api GET "/jobs?max=$N")" '[.job[] | select(.status == "finished") | (.end_time - .start_time)] | sort | .[(length / 2 | floor)]')

cat >"$TESTBED_DIR/raw.xml" <<'EOF'
<domain type='kvm'><name>raw1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
      <loader readonly='yes' type='rom'>/usr/share/qemu/qboot.rom</loader></os>
  <devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>
EOF
"$TB" exec h1 virsh define "$TESTBED_DIR/raw.xml" >/dev/null
"$TB" exec h1 virsh start raw1 >/dev/null
sleep 1
from=h1
to=h2
for ((k = 0; k < N; k++)); do
    t0=$(now_ms)
    "$TB" exec "$from" sh -c "virsh migrate --live --p2p --unsafe --persistent \
        --undefinesource raw1 qemu+tcp://\$TB_${to^^}_ADDR/system" >/dev/null 2>&1 ||
        log "virsh migration $k $from -> $to failed"
    lv+=($(( $(now_ms) - t0 )))
    t=$from; from=$to; to=$t
done
printf '>>> (a) engine-driven migration, 64 MiB guest, %d runs: median %s ms wall (herdctl --wait), libvirt job median %s ms; all: %s\n' \
    "$N" "$(printf '%s\n' "${eng[@]}" | median)" "${libvirt_ms:-n/a}" "${eng[*]}"
printf '>>> (a) raw virsh migrate --live --p2p, same hosts, %d runs: median %s ms wall; all: %s\n' \
    "$N" "$(printf '%s\n' "${lv[@]}" | median)" "${lv[*]}"

# ---- (b) empty a host of NVM guests ----------------------------------------------
for ((k = 1; k <= NVM; k++)); do startvm "e$k" h3; done
sleep 1
t0=$(now_ms)
ctl host deactivate "${HN[h3]}" --wait >/dev/null 2>&1 || log "deactivate failed"
t1=$(now_ms)
left=$("$TB" exec h3 virsh list --name | grep -c .)
printf '>>> (b) host deactivate -> maintenance with %d guests of 64 MiB (2 outgoing at a time): %s ms; %s left on the host\n' \
    "$NVM" "$((t1 - t0))" "$left"
