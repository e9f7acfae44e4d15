#!/bin/bash
# Enrollment from the REST API and herdctl (agents.enrollment: approve):
# - the engine's public key is served unauthenticated at
#   /ovirt-engine/services/herd-engine-key;
# - a token made by `herdctl host token create` enrolls a new host once;
# - `herdctl host add NAME --public-key-file F` pre-registers a key: the
#   agent with it comes up without approval, under that name, while
#   another unknown key stays pending; bad bodies get faults naming the
#   field; a name that another pre-registered key (not connected yet)
#   has, and a key the engine knows, are refused with 409;
# - tokens are listed (never their text) and deleted, by a SuperUser only
#   (also to read); a deleted token enrolls nobody, not even the real
#   agent given it by herd-agent-setup --token;
# - unknown keys add at most agents.pending_rate (30) pending hosts a
#   minute; the others are told to try later, in one warning event.
. "$(dirname "$0")/lib.sh"
HELLO="$B/tests/tools/zmq_hello"
ENG_ENROLLMENT=approve
test_init
[ -x "$HELLO" ] || fail "$HELLO is not built"
libvirt_start
engine_start
EKEY=$(engine_pubkey)
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
API_USER= api_call POST /hosts/enrollmenttokens '{"name": "x"}'
assert_eq 401 "$HTTP_STATUS" "a token without credentials"
out=$(herdctl host token 2>&1); rc=$?
assert_eq 2 "$rc" "herdctl host token without create"
api_call POST /hosts/enrollmenttokens '{"expiry": 60}'
assert_eq 400 "$HTTP_STATUS" "token without a name"
assert_contains "$RESP" "name" "fault names name"

# ---- listing and deleting tokens
j=$(ctl -o json host token create tok-a --expiry 600) || exit 1
TOK_A=$(jget "$j" .token)
ID_A=$(jget "$j" .id)
assert_match "$ID_A" '^[0-9a-f-]{36}$' "token id answered at creation"
j=$(ctl -o json host token create tok-b) || exit 1
TOK_B=$(jget "$j" .token)
ID_B=$(jget "$j" .id)
HASH_A=$(printf '%s' "$TOK_A" | sha256sum | cut -d' ' -f1)
list=$(api_ok GET /hosts/enrollmenttokens) || exit 1
assert_eq 2 "$(json_count "$list" enrollment_token)" "two unused tokens listed (the used one is not)"
assert_eq "tok-a tok-b" "$(jget "$list" '[.enrollment_token[].name] | sort | join(" ")')" "names listed"
assert_not_contains "$list" "$TOK_A" "the list holds no token text"
assert_not_contains "$list" "$TOK_B" "the list holds no token text (2)"
assert_not_contains "$list" "$HASH_A" "the list holds no token hash"
assert_eq "" "$(jget "$list" '.enrollment_token[] | .token // .hash')" "no token or hash member"
a=$(jget "$list" ".enrollment_token[] | select(.id == \"$ID_A\")")
assert_eq tok-a "$(jget "$a" .name)" "token listed by id"
assert_eq admin@internal "$(jget "$a" .created_by)" "token creator"
now=$(now_ms)
assert_le "$(jget "$a" .created)" "$now" "created in ms"
assert_gt "$(jget "$a" .created)" $((now - 600000)) "created in ms (recent)"
assert_eq 600000 $(( $(jget "$a" .expiry_time) - $(jget "$a" .created) )) "expiry_time = created + 600 s"
j=$(api_ok GET "/hosts/enrollmenttokens/$ID_B") || exit 1
assert_eq tok-b "$(jget "$j" .name)" "GET one token"
assert_not_contains "$j" "$TOK_B" "one token without its text"
out=$(ctl host token list) || exit 1
assert_contains "$out" "ID" "herdctl host token list: header"
assert_contains "$out" "EXPIRES" "herdctl host token list: header (2)"
assert_contains "$out" "$ID_A" "herdctl host token list: id"
assert_contains "$out" "tok-b" "herdctl host token list: name"
assert_not_contains "$out" "$TOK_A" "herdctl host token list: no text"
# Only a SuperUser sees or deletes tokens.
printf 'reader-pw\n' >"$W/reader.pw"
printf 'oper-pw\n' >"$W/oper.pw"
ctl user add reader --role ReadOnly --password-file "$W/reader.pw" >/dev/null || exit 1
ctl user add oper --role Operator --password-file "$W/oper.pw" >/dev/null || exit 1
API_USER=reader@internal API_PW=reader-pw api_call GET /hosts/enrollmenttokens
assert_eq 403 "$HTTP_STATUS" "ReadOnly lists tokens"
assert_contains "$RESP" "SuperUser" "the refusal says who may"
assert_not_contains "$RESP" "tok-a" "ReadOnly sees no token"
API_USER=oper@internal API_PW=oper-pw api_call GET /hosts/enrollmenttokens
assert_eq 403 "$HTTP_STATUS" "Operator lists tokens"
API_USER=oper@internal API_PW=oper-pw api_call GET "/hosts/enrollmenttokens/$ID_A"
assert_eq 403 "$HTTP_STATUS" "Operator reads a token"
API_USER=oper@internal API_PW=oper-pw api_call DELETE "/hosts/enrollmenttokens/$ID_A"
assert_eq 403 "$HTTP_STATUS" "Operator deletes a token"
API_USER=reader@internal API_PW=reader-pw api_call POST /hosts/enrollmenttokens '{"name": "ro"}'
assert_eq 403 "$HTTP_STATUS" "ReadOnly creates a token"
# Delete one: the list shows the other; the deleted one enrolls nobody.
out=$(ctl host token delete "$ID_A") || exit 1
assert_contains "$out" "deleted" "herdctl host token delete"
list=$(api_ok GET /hosts/enrollmenttokens) || exit 1
assert_eq 1 "$(json_count "$list" enrollment_token)" "one token left"
assert_eq tok-b "$(jget "$list" '.enrollment_token[0].name')" "the other token is left"
out=$(herdctl -o json host token list) || fail "herdctl -o json host token list: $out"
assert_eq "$ID_B" "$(jget "$out" '.enrollment_token[0].id')" "herdctl -o json host token list"
api_call DELETE "/hosts/enrollmenttokens/$ID_A"
assert_eq 404 "$HTTP_STATUS" "deleting a deleted token"
assert_contains "$RESP" "$ID_A" "404 names the token"
api_call GET "/hosts/enrollmenttokens/$ID_A"
assert_eq 404 "$HTTP_STATUS" "GET of a deleted token"
out=$(herdctl host token delete no-such-token 2>&1); rc=$?
assert_eq 1 "$rc" "herdctl host token delete of an unknown id"
assert_contains "$out" "no-such-token" "the error names the id"
out=$(herdctl host token delete 2>&1); rc=$?
assert_eq 2 "$rc" "herdctl host token delete without an id"
ev=$(api_ok GET "/events?max=50") || exit 1
assert_contains "$(jget "$ev" "[.event[] | select(.description | contains(\"$ID_A\"))] | map(.description) | join(\"; \")")" \
    "deleted by admin@internal" "deletion event names the token and the user"
DEL=$(cat /proc/sys/kernel/random/uuid)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$DEL" \
      --token "$TOK_A" 2>&1)
assert_contains "$out" "code=15" "a hello with the deleted token"
assert_contains "$out" "token" "the refusal speaks of the token"
api_call GET "/hosts/$DEL"
assert_eq 404 "$HTTP_STATUS" "no host from the deleted token"
# The real agent, set up with the deleted token, is refused too.
AGT_TOKEN=$TOK_A agent_start
wait_for grep -q "refused hello.*enrollment token" "$W/agent.log" --timeout 15 ||
    fail "agent with the deleted token: no refusal in its log"
wait_for test -s "$W/agent/host-id" --timeout 5 || fail "no host id"
api_call GET "/hosts/$(host_id)"
assert_eq 404 "$HTTP_STATUS" "the agent with the deleted token is no host"
agent_stop

# ---- pre-registration with a public key
api_call POST /hosts '{"name": "pre", "curve_key": {"public_key": "short"}}'
assert_eq 400 "$HTTP_STATUS" "bad public key"
assert_contains "$RESP" "curve_key.public_key" "fault names the key field"
api_call POST /hosts '{"curve_key": {"public_key": "short"}}'
assert_eq 400 "$HTTP_STATUS" "no name"
assert_contains "$RESP" "name" "fault names name"
api_call POST /hosts '{"name": "tok-api", "curve_key": {"public_key": "'"$EKEY"'"}}'
assert_eq 409 "$HTTP_STATUS" "name of an existing host"
# Keys made by zmq_hello (printed; nothing listens on that port).
newkey() {
    "$HELLO" "tcp://127.0.0.1:$(free_port)" --engine-key "$EKEY" \
        --host-id "$(cat /proc/sys/kernel/random/uuid)" --listen 1 |
        sed -n 's/^key //p'
}
K1=$(newkey)
K2=$(newkey)
assert_match "$K1" '^.{40}$' "a fresh key"
api_call POST /hosts '{"name": "dup", "curve_key": {"public_key": "'"$K1"'"}}'
assert_eq 201 "$HTTP_STATUS" "pre-registration: $RESP"
FP1=$(jget "$RESP" .curve_key.fingerprint)
api_call POST /hosts '{"name": "dup", "curve_key": {"public_key": "'"$K2"'"}}'
assert_eq 409 "$HTTP_STATUS" "the name of another pre-registered key"
assert_contains "$RESP" "dup" "409 names the name"
assert_contains "$RESP" "$FP1" "409 names the key that has it"
api_call POST /hosts '{"name": "dup2", "curve_key": {"public_key": "'"$K1"'"}}'
assert_eq 409 "$HTTP_STATUS" "a registered key again"
assert_contains "$RESP" "$FP1" "409 names the key's fingerprint"
out=$(herdctl host add dup --public-key "$K2" 2>&1); rc=$?
assert_eq 1 "$rc" "herdctl host add with a taken name"
assert_contains "$out" "dup" "herdctl names the name"
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
OKEY=$(printf '%s\n' "$out" | sed -n 's/^key //p')
api_call POST /hosts '{"name": "other", "curve_key": {"public_key": "'"$OKEY"'"}}'
assert_eq 409 "$HTTP_STATUS" "pre-registration of a pending key"
assert_contains "$RESP" "pending approval" "409 says the key is pending"
api_call POST /hosts '{"name": "self", "curve_key": {"public_key": "'"$(grep -v '^#' "$W/agent/keys/agent.pub")"'"}}'
assert_eq 409 "$HTTP_STATUS" "pre-registration of a connected host's key"
assert_contains "$RESP" "pre-host" "409 names the host that has the key"

# ---- new pending hosts: at most agents.pending_rate (30) a minute. One is
# pending already; 34 more unknown keys at once: some are told to retry.
flood=""
for i in $(seq 1 34); do
    "$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" \
        --host-id "$(cat /proc/sys/kernel/random/uuid)" >"$W/flood.$i" 2>&1 &
    flood="$flood $!"
done
# shellcheck disable=SC2086
wait $flood
refused=$(cat "$W"/flood.* | grep -c "code=14 message=too many new hosts; try again later")
pending=$(cat "$W"/flood.* | grep -c "pending approval")
assert_ge "$refused" 3 "hellos over the rate refused ($pending went pending)"
assert_eq 34 $((refused + pending)) "every hello answered"
hosts=$(api_ok GET /hosts) || exit 1
assert_eq $((pending + 1)) "$(jget "$hosts" '[.host[] | select(.status == "pending_approval")] | length')" \
    "no host record for a refused hello"
ev=$(api_ok GET "/events?max=200") || exit 1
assert_eq 1 "$(jget "$ev" '[.event[] | select(.description | contains("agents.pending_rate"))] | length')" \
    "one warning event for the refusals"
assert_contains "$(cat "$W/engine.log")" "more than 30 new hosts per minute" "the engine log says why"
test_done
