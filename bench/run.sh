#!/bin/bash
# Herd benchmarks (make bench): figures printed next to raw baselines on the
# same machine; nothing is asserted.
#
#  (a) engine -> agent ping round trip (POST /hosts/{id}/ping, 1000 pings)
#      next to a raw ZeroMQ DEALER/ROUTER round trip (bench/zmq_rtt.c);
#  (b) VM start through the engine (API call until "up", median of 10) next
#      to raw virDomainCreateXML on the same libvirtd (bench/virt_create.c);
#  (c) agent RSS and CPU time per stats interval with 20 running guests
#      (stats_interval 1 s, /proc/PID/stat and status over 20 intervals).
#
# Uses the integration harness: a private libvirtd, a real engine and agent.
# BENCH_GUESTS (20), BENCH_STARTS (10), BENCH_INTERVALS (20) tune it.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
export B
GUESTS=${BENCH_GUESTS:-20}
STARTS=${BENCH_STARTS:-10}
INTERVALS=${BENCH_INTERVALS:-20}
for t in bench/zmq_rtt bench/virt_create; do
    [ -x "$B/$t" ] || { echo "bench: $B/$t is not built (make all)" >&2; exit 1; }
done

# shellcheck source=../tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck disable=SC2034  # read by lib.sh
TEST_NAME=bench
# shellcheck disable=SC2034
ENG_LOG_LEVEL=info
# shellcheck disable=SC2034
AGT_LOG_LEVEL=info
# shellcheck disable=SC2034
AGT_STATS_INTERVAL=1
RESULTS=()
result() { RESULTS+=("$*"); printf '>>> %s\n' "$*"; }

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }

test_init
libvirt_start
engine_start
agent_start
wait_host_up 30
KIND=qemu
have_kvm && KIND=kvm

# ---- (a) ping -------------------------------------------------------------
log "(a) engine -> agent ping, 1000 round trips"
api_call POST "/hosts/$HOST_ID/ping" '{"count": 1000}'; p=$RESP
if [ "$HTTP_STATUS" = 200 ]; then
    result "(a) engine->agent ping via REST, 1000: $(printf '%s' "$p" | jq -c . 2>/dev/null || echo "$p")"
else
    result "(a) engine->agent ping via REST failed ($HTTP_STATUS): $p"
fi
out=$(herdctl host ping "$HOST_ID" --count 1000 2>&1) &&
    result "(a) herdctl host ping --count 1000: $(printf '%s' "$out" | tr '\n' ' ')"
# A ping Envelope is ~20 bytes on the wire: compare at that size (and 200).
raw_port=$(free_port)
result "(a) raw: $("$B/bench/zmq_rtt" --count 1000 --size 20 --endpoint "tcp://127.0.0.1:$raw_port")"
raw_port=$(free_port)
result "(a) raw: $("$B/bench/zmq_rtt" --count 1000 --size 200 --endpoint "tcp://127.0.0.1:$raw_port")"

# ---- (b) VM start ------------------------------------------------------------
log "(b) VM start through the engine, $STARTS times"
ctl vm create bstart --memory 64M --cpus 1 --disk 1G --nic >/dev/null || exit 1
times=()
for i in $(seq "$STARTS"); do
    t0=$(now_ms)
    api_call POST /vms/bstart/start '{}'
    [ "$HTTP_STATUS" = 200 ] || fail "start answered $HTTP_STATUS"
    while [ "$(vm_status bstart)" != up ]; do
        [ $(( $(now_ms) - t0 )) -gt 60000 ] && fail "bstart not up in 60 s"
        sleep 0.005
    done
    times+=($(( $(now_ms) - t0 )))
    api_call POST /vms/bstart/stop '{}'
    wait_vm_status bstart down 20
done
med=$(printf '%s\n' "${times[@]}" | median)
result "(b) VM start via engine ($KIND, 64 MiB, qboot): median ${med} ms of $STARTS (all: ${times[*]} ms)"
make_disk "$W/raw.qcow2" 1G
result "(b) raw: $("$B/bench/virt_create" "$LIBVIRT_URI" "$W/raw.qcow2" --count "$STARTS" --type "$KIND")"

# ---- (c) agent cost with many guests ----------------------------------------
log "(c) $GUESTS guests, stats every 1 s"
pids=()
for i in $(seq "$GUESTS"); do
    herdctl vm create "g$i" --memory 64M --cpus 1 --disk 1G --nic --start >/dev/null 2>&1 &
    pids+=($!)
    # A few at a time: creation is not what is measured here. (Wait for
    # these pids only: a bare `wait` would wait for the daemons too.)
    if [ $((i % 4)) = 0 ]; then wait "${pids[@]}"; pids=(); fi
done
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
for i in $(seq "$GUESTS"); do
    wait_vm_status "g$i" up 60
done
running=$(virsh_ list --name | grep -c '^g')
log "$running guests running"
sleep 3
clk=$(getconf CLK_TCK)
# CPU time in ns of every thread of a process (schedstat: finer than the
# 10 ms ticks of /proc/PID/stat). Threads that ended meanwhile are missed;
# the agent's threads live as long as it does.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d", s}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$AGENT_PID/status"; }
LVPID=$(cat "$LIBVIRT_DIR/run/libvirtd.pid")
lv_ticks() { awk '{print $14 + $15}' "/proc/$LVPID/stat"; }
c0=$(cpu_ticks); l0=$(lv_ticks); n0=$(cpu_ns "$AGENT_PID"); t0=$(now_ms)
rss_max=0; rss_sum=0
for i in $(seq "$INTERVALS"); do
    sleep 1
    r=$(rss_kib); rss_sum=$((rss_sum + r)); [ "$r" -gt "$rss_max" ] && rss_max=$r
done
c1=$(cpu_ticks); l1=$(lv_ticks); n1=$(cpu_ns "$AGENT_PID"); t1=$(now_ms)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1000}')
cpu_ms=$(( (c1 - c0) * 1000 / clk ))
per=$(awk -v c="$cpu_ms" -v s="$secs" 'BEGIN{printf "%.1f", c/s}')
pct=$(awk -v c="$cpu_ms" -v s="$secs" 'BEGIN{printf "%.2f", c/(s*10)}')
ns_ms=$(awk -v a="$n0" -v b="$n1" 'BEGIN{printf "%.1f", (b-a)/1e6}')
ns_per=$(awk -v a="$n0" -v b="$n1" -v s="$secs" 'BEGIN{printf "%.2f", (b-a)/1e6/s}')
result "(c) agent CPU by schedstat (ns resolution): ${ns_ms} ms in ${secs} s = ${ns_per} ms per interval"
result "(c) agent with $running guests, stats_interval 1 s, ${secs} s: CPU ${cpu_ms} ms total = ${per} ms per interval (${pct}% of one CPU); RSS avg $((rss_sum / INTERVALS)) KiB, max ${rss_max} KiB"
lv_ms=$(( (l1 - l0) * 1000 / clk ))
result "(c) libvirtd CPU at the same time (answering the agent's bulk stats): ${lv_ms} ms = $(awk -v c="$lv_ms" -v s="$secs" 'BEGIN{printf "%.1f", c/s}') ms per interval"
eng_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$ENGINE_PID/status")
result "(c) engine RSS at the same time: ${eng_rss} KiB"

echo
echo "==== Herd benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $KIND)"
printf '%s\n' "${RESULTS[@]}"
test_done
