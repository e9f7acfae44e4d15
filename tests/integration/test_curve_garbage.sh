#!/bin/bash
# 10,000+ garbage, truncated and oversized frames at the CURVE engine, from
# plain ZeroMQ clients and raw TCP (refused at the handshake) and from CURVE
# clients with fresh, unknown keys (which get past the handshake and hit
# the enrollment gate), while a real agent works: its VM, statistics and
# commands are unaffected, and no garbage client became a host.
. "$(dirname "$0")/lib.sh"
ENG_ENROLLMENT=approve      # unknown keys wait for an admin
test_init
libvirt_start
engine_start
agent_start
wait_for test -s "$W/agent/host-id" --timeout 10 || fail "no host id"
wait_for host_status_is "$(host_id)" pending_approval --timeout 15 ||
    fail "host not pending_approval"
api_ok POST "/hosts/$(host_id)/approve" '{}' >/dev/null || exit 1
wait_host_up 20
GARBAGE="$B/tests/tools/zmq_garbage"
[ -x "$GARBAGE" ] || fail "$GARBAGE is not built"
EKEY=$(engine_pubkey)

vm_create_started gc
hosts_before=$(json_count "$(api GET /hosts)" host)
total=0
for mode in curve plain curve; do
    key=""
    [ "$mode" = curve ] && key=$EKEY
    log "zmq_garbage ($mode)"
    HERD_ENGINE_KEY=$key timeout 180 "$GARBAGE" "tcp://127.0.0.1:$ZMQ_PORT" \
        --rounds 700 --seed "$RANDOM" >"$W/garbage-$mode.log" 2>&1
    rc=$?
    tail -n 2 "$W/garbage-$mode.log"
    kill -0 "$ENGINE_PID" 2>/dev/null || fail "herd-engine died ($mode garbage)"
    n=$(sed -n 's/^sent \([0-9]*\) frames.*/\1/p' "$W/garbage-$mode.log")
    total=$(( total + ${n:-0} ))
    if [ "$mode" = curve ]; then
        # An unknown CURVE key is answered (pong need_hello) and nothing else.
        [ "$rc" = 0 ] || fail "engine stopped answering CURVE clients: $(tail -n 3 "$W/garbage-$mode.log")"
    else
        # A plain client never gets an answer.
        [ "$rc" = 1 ] || fail "a plain client got an answer (exit $rc)"
        assert_contains "$(cat "$W/garbage-$mode.log")" "no pong" "plain client"
    fi
done
log "$total frames sent"
assert_ge "$total" 10000 "garbage frames sent"

assert_eq up "$(host_status "$HOST_ID")" "real host status"
assert_eq up "$(vm_status gc)" "VM status"
assert_eq running "$(domstate gc)" "virsh state"
s1=$(api_ok GET "/hosts/$HOST_ID/statistics") || exit 1
changed() { [ "$(api GET "/hosts/$HOST_ID/statistics")" != "$s1" ]; }
wait_for changed --timeout 6 || fail "host statistics stopped after the garbage"
# Garbage clients with valid-looking hellos wait in pending_approval at
# most; none is up, none took the real host's place.
up=$(api GET /hosts | jq -r '[.host[]? | select(.status == "up")] | length')
assert_eq 1 "$up" "hosts up after the garbage"
log "hosts: $hosts_before before, $(json_count "$(api GET /hosts)" host) after"
ctl vm stop gc >/dev/null || exit 1
wait_vm_status gc down 15
ctl vm start gc >/dev/null || exit 1
wait_vm_status gc up 30
wait_domstate gc running 5
kill -0 "$ENGINE_PID" || fail "herd-engine died"
kill -0 "$AGENT_PID" || fail "herd-agent died"
test_done
