#!/bin/bash
# Garbage on the engine's agent socket (random bytes, truncated envelopes,
# wrong versions, 16 MiB frames, raw TCP junk, a fake host with absurd
# reports) neither crashes the engine nor disturbs the real agent: VM
# operations still succeed and statistics still update.
. "$(dirname "$0")/lib.sh"
standard_setup
GARBAGE="$B/tests/tools/zmq_garbage"
[ -x "$GARBAGE" ] || fail "$GARBAGE is not built"

vm_create_started gb
VM=$(vm_id gb)
# The engine speaks CURVE: the garbage clients get fresh keys so their
# frames get past the handshake (test_curve_garbage.sh adds plain ones).
HERD_ENGINE_KEY=$(grep -v '^#' "$W/engine/keys/engine.pub")
export HERD_ENGINE_KEY

for seed in 1 2 3; do
    log "zmq_garbage round $seed"
    timeout 120 "$GARBAGE" "tcp://127.0.0.1:$ZMQ_PORT" --rounds 300 --seed "$seed" \
        >"$W/garbage-$seed.log" 2>&1
    rc=$?
    tail -n 3 "$W/garbage-$seed.log"
    kill -0 "$ENGINE_PID" 2>/dev/null || fail "herd-engine died during garbage round $seed"
    [ "$rc" = 0 ] || fail "zmq_garbage round $seed: engine did not answer a ping afterwards (exit $rc): $(tail -n 5 "$W/garbage-$seed.log")"
done

# The real host and VM are untouched.
assert_eq up "$(host_status "$HOST_ID")" "real host status"
assert_eq up "$(vm_status gb)" "VM status"
assert_eq running "$(domstate gb)" "virsh state"
out=$(api_ok GET /hosts/"$HOST_ID") || exit 1

# Statistics keep coming: the host sample changes over a few intervals.
s1=$(api_ok GET "/hosts/$HOST_ID/statistics") || exit 1
changed() { [ "$(api GET "/hosts/$HOST_ID/statistics")" != "$s1" ]; }
wait_for changed --timeout 6 || fail "host statistics did not change in 6 s after the garbage"
v1=$(api_ok GET "/vms/$VM/statistics") || exit 1
assert_gt "$(json_count "$v1" statistic)" 0 "VM statistics after the garbage"

# Operations still go through the real agent.
ctl vm pause gb >/dev/null || exit 1
wait_vm_status gb paused 5
wait_domstate gb paused 5
ctl vm resume gb >/dev/null || exit 1
wait_vm_status gb up 5
ctl vm stop gb >/dev/null || exit 1
wait_vm_status gb down 10
ctl vm start gb >/dev/null || exit 1
wait_vm_status gb up 30
wait_domstate gb running 5
ping=$(api_ok POST "/hosts/$HOST_ID/ping" '{"count": 10}') || exit 1
log "ping after garbage: $ping"

kill -0 "$ENGINE_PID" || fail "herd-engine died"
kill -0 "$AGENT_PID" || fail "herd-agent died"
test_done
