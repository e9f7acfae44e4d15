#!/bin/bash
# Enrollment by a one-time token: an admin creates it (herd-engine
# --enroll-token, next to the running engine), herd-agent-setup
# puts it in agent.yaml, the engine approves the host at its first hello,
# and the same token never works twice. The engine refuses a secret key
# file that others may read, and so does the agent.
. "$(dirname "$0")/lib.sh"
HELLO="$B/tests/tools/zmq_hello"
ENG_ENROLLMENT=approve
test_init
libvirt_start
engine_start
EKEY=$(engine_pubkey)

out=$("$B/herd-engine" -c "$W/engine.yaml" --show-key 2>&1) ||
    fail "herd-engine --show-key: $out"
assert_contains "$out" "$EKEY" "--show-key prints the public key"
TOKEN=$("$B/herd-engine" -c "$W/engine.yaml" --enroll-token tok-host 2>"$W/token.err") ||
    fail "herd-engine --enroll-token: $(cat "$W/token.err")"
[ -n "$TOKEN" ] || fail "no token printed"
AGT_TOKEN=$TOKEN agent_start
wait_host_up 20
assert_eq tok-host "$(jget "$(api GET "/hosts/$HOST_ID")" .name)" "host name from the token"
NEW=$(cat /proc/sys/kernel/random/uuid)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$NEW" \
      --token "$TOKEN" 2>&1)
assert_contains "$out" "code=15" "second use of the token"
assert_contains "$out" "already used" "second use of the token says why"

# Secret key files others may read stop both daemons at start.
agent_stop
chmod 644 "$W/agent/keys/agent.key"
out=$(timeout 20 "$B/herd-agent" -c "$W/agent.yaml" 2>&1); rc=$?
assert_eq 1 "$rc" "herd-agent with an open secret key"
assert_contains "$out" "$W/agent/keys/agent.key" "agent error names the file"
assert_contains "$out" "chmod 600" "agent error says the fix"
engine_stop
chmod 640 "$W/engine/keys/engine.key"
out=$(timeout 20 "$B/herd-engine" -c "$W/engine.yaml" 2>&1); rc=$?
assert_eq 1 "$rc" "herd-engine with an open secret key"
assert_contains "$out" "$W/engine/keys/engine.key" "engine error names the file"
assert_contains "$out" "chmod 600" "engine error says the fix"
test_done
