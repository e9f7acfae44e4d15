#!/bin/bash
# CURVE enrollment with approval on the real engine and agent:
# - an unknown agent key is refused: its host waits in pending_approval,
#   shown with the key's fingerprint, and gets no commands or statistics;
# - after approval the host comes up and runs a VM;
# - a client without CURVE gets nothing;
# - another key presenting the host's id is refused, and the real host is
#   not disturbed (also when it copies the host's routing identity);
# - a revoked host is cut off mid-connection: its open connection carries
#   nothing from then on, and its next handshake is refused.
. "$(dirname "$0")/lib.sh"
HELLO="$B/tests/tools/zmq_hello"
ENG_ENROLLMENT=approve
test_init
[ -x "$HELLO" ] || fail "$HELLO is not built"
libvirt_start
engine_start
EKEY=$(engine_pubkey)
assert_eq 600 "$(stat -c %a "$W/engine/keys/engine.key")" "engine secret key mode"
agent_start
assert_eq 600 "$(stat -c %a "$W/agent/keys/agent.key")" "agent secret key mode"
FP=$(sed -n 's/^host key fingerprint: //p' "$W/agent-setup.log" | tail -n1)
assert_match "$FP" '^SHA256:[A-Za-z0-9+/]{43}$' "fingerprint printed by herd-agent-setup"

# ---- unknown key: pending, with its fingerprint, nothing else
wait_for test -s "$W/agent/host-id" --timeout 10 || fail "no host id"
HID=$(host_id)
wait_for host_status_is "$HID" pending_approval --timeout 15 ||
    fail "host not pending_approval: '$(host_status "$HID")'"
j=$(api_ok GET "/hosts/$HID") || exit 1
assert_eq "$FP" "$(jget "$j" '.curve_key.fingerprint')" "fingerprint in the API"
assert_eq pending "$(jget "$j" '.curve_key.state')" "key state in the API"
sleep 3
assert_eq pending_approval "$(host_status "$HID")" "status 3 s later"
st=$(api GET "/hosts/$HID/statistics")
assert_eq 0 "$(json_count "$st" statistic)" "statistics of a pending host"
api_call POST "/hosts/$HID/ping" '{"count": 1}'
assert_ne 200 "$HTTP_STATUS" "ping (a command) to a pending host"
grep -q "pending approval" "$W/agent.log" || fail "the agent was not told it is pending"

# ---- approve: the host comes up and works
api_ok POST "/hosts/$HID/approve" '{}' >/dev/null || exit 1
wait_host_up 20
j=$(api_ok GET "/hosts/$HID") || exit 1
assert_eq approved "$(jget "$j" '.curve_key.state')" "key state after approval"
vm_create_started cv
has_stats() { [ "$(json_count "$(api GET "/hosts/$HID/statistics")" statistic)" -gt 0 ]; }
wait_for has_stats --timeout 10 || fail "no statistics after approval"

# ---- a client without CURVE gets nothing
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --host-id "$HID" --identity "$HID" 2>&1)
assert_contains "$out" "no answer" "plain client"

# ---- an unknown key is refused (pending), and gets no commands
NEW=$(cat /proc/sys/kernel/random/uuid)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$NEW" 2>&1)
assert_contains "$out" "code=15" "unknown key's hello (denied)"
assert_contains "$out" "pending approval" "unknown key's hello"
assert_not_contains "$out" "request body" "unknown key's hello"
assert_eq pending_approval "$(host_status "$NEW")" "the unknown key's host"

# ---- another key presenting this host's id is refused; the host is fine
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$HID" \
      --identity "$HID" --listen 4 2>&1)
assert_contains "$out" "code=15" "impostor's hello (denied)"
assert_contains "$out" "enrolled with another key" "impostor's hello"
assert_not_contains "$out" "request body" "impostor received a command"
assert_eq up "$(host_status "$HID")" "real host after the impostor"
ctl vm stop cv >/dev/null || exit 1
wait_vm_status cv down 15
ctl vm start cv >/dev/null || exit 1
wait_vm_status cv up 30

# ---- revoke: cut off at once on the open connection
api_ok POST "/hosts/$HID/revoke" '{}' >/dev/null || exit 1
wait_for host_status_is "$HID" non_responsive --timeout 5 ||
    fail "revoked host not non_responsive: '$(host_status "$HID")'"
kill -0 "$AGENT_PID" || fail "agent died"
j=$(api_ok GET "/hosts/$HID") || exit 1
assert_eq revoked "$(jget "$j" '.curve_key.state')" "key state after revoke"
s1=$(api GET "/hosts/$HID/statistics")
sleep 4
assert_eq "$s1" "$(api GET "/hosts/$HID/statistics")" "statistics after revoke"
assert_eq non_responsive "$(host_status "$HID")" "revoked host 4 s later"
api_call POST "/vms/cv/stop" '{}'
assert_ne 200 "$HTTP_STATUS" "command to a revoked host"
assert_eq running "$(domstate cv)" "the guest keeps running"
grep -q "revoked" "$W/engine.log" || fail "engine log lacks the revocation"
# A new connection with the revoked key is refused at the handshake.
agent_stop
agent_start
wait_for grep -q "refused a connection" "$W/engine.log" --timeout 10 ||
    fail "the revoked key's handshake was not refused"
assert_eq non_responsive "$(host_status "$HID")" "revoked host after agent restart"
test_done
