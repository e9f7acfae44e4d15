#!/bin/bash
# Enrollment from the REST API and herdctl (agents.enrollment: approve):
# - the engine's public key is served unauthenticated at
#   /ovirt-engine/services/herd-engine-key;
# - a token made by `herdctl host token create` enrolls a new host once;
# - `herdctl host add NAME --public-key-file F` pre-registers a key: the
#   agent with it comes up without approval, under that name, while
#   another unknown key stays pending; bad bodies get faults naming the
#   field.
. "$(dirname "$0")/lib.sh"
HELLO="$B/tests/tools/zmq_hello"
ENG_ENROLLMENT=approve
test_init
[ -x "$HELLO" ] || fail "$HELLO is not built"
libvirt_start
engine_start
EKEY=$(grep -v '^#' "$W/engine/keys/engine.pub")
EFP=$("$B/herd-engine" -c "$W/engine.yaml" --show-key | sed -n 's/^fingerprint: *//p')

# ---- the engine's public key, without credentials
j=$(curl -sf "$HERD_URL/ovirt-engine/services/herd-engine-key") ||
    fail "GET herd-engine-key failed"
assert_eq "$EKEY" "$(jget "$j" .public_key)" "public key served"
assert_eq "$EFP" "$(jget "$j" .fingerprint)" "fingerprint served"

# ---- a one-time token from herdctl
TOKEN=$(ctl host token create tok-api --expiry 600) || exit 1
assert_match "$TOKEN" '^[A-Za-z0-9_.:+/=-]{16,}$' "token printed"
NEW=$(cat /proc/sys/kernel/random/uuid)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$NEW" \
      --token "$TOKEN" 2>&1)
assert_contains "$out" "code=0" "first use of the token"
j=$(api_ok GET "/hosts/$NEW") || exit 1
assert_eq tok-api "$(jget "$j" .name)" "host named by the token"
assert_eq approved "$(jget "$j" .curve_key.state)" "token host's key"
NEW2=$(cat /proc/sys/kernel/random/uuid)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$NEW2" \
      --token "$TOKEN" 2>&1)
assert_contains "$out" "code=15" "second use of the token"
api_call POST /hosts/enrollmenttokens '{"name": "x", "expiry": -5}'
assert_eq 400 "$HTTP_STATUS" "negative expiry"
assert_contains "$RESP" "expiry" "fault names expiry"
api_call GET /hosts/enrollmenttokens
assert_ne 200 "$HTTP_STATUS" "GET of the tokens (not listed yet)"
API_USER= api_call POST /hosts/enrollmenttokens '{"name": "x"}'
assert_eq 401 "$HTTP_STATUS" "a token without credentials"
out=$(herdctl host token 2>&1); rc=$?
assert_eq 2 "$rc" "herdctl host token without create"
api_call POST /hosts/enrollmenttokens '{"expiry": 60}'
assert_eq 400 "$HTTP_STATUS" "token without a name"
assert_contains "$RESP" "name" "fault names name"

# ---- pre-registration with a public key
api_call POST /hosts '{"name": "pre", "curve_key": {"public_key": "short"}}'
assert_eq 400 "$HTTP_STATUS" "bad public key"
assert_contains "$RESP" "curve_key.public_key" "fault names the key field"
api_call POST /hosts '{"curve_key": {"public_key": "short"}}'
assert_eq 400 "$HTTP_STATUS" "no name"
assert_contains "$RESP" "name" "fault names name"
api_call POST /hosts '{"name": "tok-api", "curve_key": {"public_key": "'"$EKEY"'"}}'
assert_eq 409 "$HTTP_STATUS" "name of an existing host"
agent_write_conf
out=$(ctl host add pre-host --public-key-file "$W/agent/keys/agent.pub") || exit 1
assert_contains "$out" "registered" "herdctl host add"
out=$(herdctl host add pre-host2 --public-key-file "$W/agent/keys/agent.pub" 2>&1) &&
    fail "the same key registered twice: $out"
assert_contains "$out" "registered already" "second registration of a key"
agent_start
wait_host_up 20
HID=$(host_id)
j=$(api_ok GET "/hosts/$HID") || exit 1
assert_eq pre-host "$(jget "$j" .name)" "pre-registered host's name"
assert_eq approved "$(jget "$j" .curve_key.state)" "pre-registered key"
OTHER=$(cat /proc/sys/kernel/random/uuid)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$OTHER" 2>&1)
assert_contains "$out" "pending approval" "an unknown key's hello"
assert_eq pending_approval "$(host_status "$OTHER")" "the unknown key's host"
test_done
