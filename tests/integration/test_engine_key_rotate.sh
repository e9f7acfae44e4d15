#!/bin/bash
# Engine CURVE key rotation with a real engine and a real agent:
# 1. rotate --window 3600: the agent gets the next key (its
#    <engine_key_file>.next holds it, the API says has_next_key, event
#    117); a second rotate is refused; switch: engine.pub is the former
#    next key, the agent's engine key file follows, the host stays (or is
#    again) up and answers a ping, no non_responsive event, event 118.
# 2. rotate --window 3 with the agent stopped after it got the next key:
#    the timer switches; the agent, started again with its old engine key
#    and the .next file, falls back to the next key, comes back, answers a
#    ping and promotes the key.
# 3. an engine restart resumes a rotation not yet due (the host gets the
#    key again at its hello) and promotes one that is due before binding.
# 4. --window 0 switches as soon as the connected host has the key.
. "$(dirname "$0")/lib.sh"
# The agent tries the other engine key after request_timeout without a
# pong: keep that short.
AGT_REQUEST_TIMEOUT=4
standard_setup
KD="$W/engine/keys"
AKEY="$W/agent/keys/engine.pub"
key_of() { grep -v '^#' "$1" 2>/dev/null | head -n1 | tr -d ' \n'; }
OLD=$(key_of "$KD/engine.pub")
assert_eq "$OLD" "$(key_of "$AKEY")" "agent's engine key before the rotation"

# Newest event id (to look only at later events).
last_event_id() { jget "$(api GET '/events?max=1')" '.event[0].id'; }
# events_since ID CODE [HOST]: how many events with CODE after ID.
events_since() {
    local host_filter=true
    [ -n "${3:-}" ] && host_filter=".host.id == \"$3\""
    api GET '/events?max=1000' |
        jq -r --arg c "$2" --argjson after "$1" \
            "[.event[] | select((.id | tonumber) > \$after and .code == \$c and ($host_filter))] | length"
}
has_next() {
    [ "$(jget "$(api GET /enginekey)" \
        ".rotation.hosts[] | select(.id == \"$HOST_ID\") | .has_next_key")" = true ]
}
agent_has() { [ "$(key_of "$1")" = "$2" ]; }

# ---- 1. rotation with the agent connected, switched by hand
E0=$(last_event_id)
out=$(ctl engine key rotate --window 3600) || exit 1
assert_contains "$out" "rotation started" "herdctl engine key rotate"
NEXT=$(key_of "$KD/engine.next.pub")
assert_eq 40 "${#NEXT}" "length of the key in engine.next.pub"
assert_ne "$OLD" "$NEXT" "next key"
assert_eq 600 "$(stat -c %a "$KD/engine.next.key")" "engine.next.key mode"
assert_eq 644 "$(stat -c %a "$KD/engine.next.pub")" "engine.next.pub mode"
[ -s "$KD/engine.next.switch" ] || fail "no engine.next.switch"
assert_eq 1 "$(events_since "$E0" 116)" "event 116 (rotation started)"

wait_for has_next --timeout 10 || fail "host never had the next key: $(api GET /enginekey)"
wait_for agent_has "$AKEY.next" "$NEXT" --timeout 10 ||
    fail "agent's $AKEY.next does not hold the next key: '$(key_of "$AKEY.next")'"
assert_eq "$OLD" "$(key_of "$AKEY")" "agent's current engine key before the switch"
assert_eq 1 "$(events_since "$E0" 117 "$HOST_ID")" "event 117 (host has the next key)"

j=$(api_ok GET /enginekey) || exit 1
assert_eq "$OLD" "$(jget "$j" .public_key)" "GET /enginekey public_key"
assert_eq "$NEXT" "$(jget "$j" .rotation.next_public_key)" "GET /enginekey next key"
NFP=$(jget "$j" .rotation.next_fingerprint)
assert_match "$NFP" '^SHA256:' "next fingerprint"
out=$(ctl engine key show) || exit 1
assert_contains "$out" "$NFP" "engine key show: next fingerprint"
assert_contains "$out" "HAS NEXT KEY" "engine key show: host table"
assert_match "$out" "$HOST_ID +yes" "engine key show: host has the key"
out=$(ctl -o json engine key show) || exit 1
assert_eq "$NEXT" "$(jget "$out" .rotation.next_public_key)" "engine key show -o json"
# The unauthenticated key endpoint and --show-key name the next key too.
k=$(curl -sf "$HERD_URL/ovirt-engine/services/herd-engine-key") || fail "herd-engine-key"
assert_eq "$NEXT" "$(jget "$k" .next_public_key)" "herd-engine-key next_public_key"
assert_eq "$NFP" "$(jget "$k" .next_fingerprint)" "herd-engine-key next_fingerprint"
out=$("$B/herd-engine" -c "$W/engine.yaml" --show-key 2>&1) || fail "--show-key: $out"
assert_contains "$out" "$NEXT" "herd-engine --show-key prints the next key"

# XML (oVirt's default) renders the same tree.
x=$(curl -sf -u "admin@internal:$ADMIN_PW" "$API/enginekey") || fail "GET /enginekey as XML"
assert_contains "$x" "<engine_key" "XML root"
assert_contains "$x" "<next_public_key>" "XML next key"
assert_contains "$x" "<has_next_key>true</has_next_key>" "XML has_next_key"
# Any user reads the key; only SuperUser rotates or switches.
printf 'reader-pw\n' >"$W/reader.pw"
ctl user add reader --role ReadOnly --password-file "$W/reader.pw" >/dev/null || exit 1
API_USER=reader@internal API_PW=reader-pw api_call GET /enginekey
assert_eq 200 "$HTTP_STATUS" "ReadOnly reads /enginekey"
API_USER=reader@internal API_PW=reader-pw api_call POST /enginekey/switch '{}'
assert_eq 403 "$HTTP_STATUS" "ReadOnly switches the engine key"
API_USER= api_call GET /enginekey
assert_eq 401 "$HTTP_STATUS" "/enginekey without credentials"

# A second rotation is refused, naming the switch time.
assert_exit 1 "second rotate" "$B/herdctl" --url "$HERD_URL" engine key rotate
assert_contains "$OUT" "under way" "second rotate"
api_call POST /enginekey/rotate '{"window": 5, "colour": "red"}'
assert_eq 400 "$HTTP_STATUS" "unknown member in the rotate body"
assert_contains "$RESP" "colour" "unknown member named"
api_call POST /enginekey/rotate '{"window": 2678401}'
assert_eq 400 "$HTTP_STATUS" "window over 31 days"
assert_contains "$RESP" "window" "fault names the window"
x=$(curl -s -u "admin@internal:$ADMIN_PW" -H 'Content-Type: application/xml' \
    --data-binary '<action><window>5</window><colour>red</colour></action>' \
    "$API/enginekey/rotate")
assert_contains "$x" "colour" "XML rotate body: unknown member named"
assert_exit 2 "rotate --window abc" "$B/herdctl" --url "$HERD_URL" engine key rotate --window abc
assert_exit 2 "engine key frob" "$B/herdctl" --url "$HERD_URL" engine key frob

# A guest runs across the switch: it must not notice.
ctl vm create rotvm --memory 64M --cpus 1 --disk 1G --start >/dev/null || exit 1
wait_vm_status rotvm up 30
wait_domstate rotvm running 10
QPID=$(cat "$LIBVIRT_DIR/run/qemu/rotvm.pid" 2>/dev/null)
[ -n "$QPID" ] && kill -0 "$QPID" || fail "no QEMU process for rotvm"

E1=$(last_event_id)
out=$(ctl engine key switch) || exit 1
assert_contains "$out" "$NFP" "herdctl engine key switch"
assert_eq "$NEXT" "$(key_of "$KD/engine.pub")" "engine.pub after the switch"
[ -e "$KD/engine.next.key" ] && fail "engine.next.key left after the switch"
[ -e "$KD/engine.next.switch" ] && fail "engine.next.switch left after the switch"
assert_eq "" "$(jget "$(api GET /enginekey)" .rotation)" "no rotation after the switch"
wait_for agent_has "$AKEY" "$NEXT" --timeout 10 ||
    fail "agent's engine key file not the new key: '$(key_of "$AKEY")'"
wait_for host_status_is "$HOST_ID" up --timeout 10 ||
    fail "host not up after the switch: '$(host_status "$HOST_ID")'"
# Requests go to the connection the host last spoke from: the new one is
# known from the agent's first message on it (its next ping, <= 1 s).
pinged() { "$B/herdctl" --url "$HERD_URL" host ping "$HOST_ID" --count 1; }
wait_for pinged --timeout 5 || fail "host ping after the switch: $(pinged 2>&1)"
sleep 2
assert_eq up "$(host_status "$HOST_ID")" "host 2 s after the switch"
ctl host ping "$HOST_ID" --count 1 >/dev/null || exit 1
assert_eq 0 "$(events_since "$E1" 103 "$HOST_ID")" "non_responsive events since the switch"
assert_eq 1 "$(events_since "$E1" 118)" "event 118 (rotated)"
assert_eq 0 "$(events_since "$E1" 119)" "event 119 (a host missed the key)"
d=$(api GET '/events?max=100' | jq -r '[.event[] | select(.code == "118")][0].description')
assert_contains "$d" "1 host has the new key" "event 118 text"
# The guest kept running (same QEMU), the engine still has it up, and
# commands reach it over the new key.
kill -0 "$QPID" 2>/dev/null || fail "rotvm's QEMU ($QPID) is gone after the switch"
assert_eq running "$(domstate rotvm)" "virsh: rotvm after the switch"
assert_eq up "$(vm_status rotvm)" "engine: rotvm after the switch"
ctl vm stop rotvm >/dev/null || exit 1
wait_vm_status rotvm down 30
wait_domstate rotvm "shut off" 10
log "scenario 1 passed: switched by hand, host and guest stayed"

# ---- 2. the agent is down at the switch; it comes back by its .next key
E2=$(last_event_id)
out=$(ctl engine key rotate --window 3) || exit 1
NEXT2=$(key_of "$KD/engine.next.pub")
assert_ne "$NEXT" "$NEXT2" "second rotation's key"
wait_for agent_has "$AKEY.next" "$NEXT2" --timeout 10 ||
    fail "agent did not get the second next key"
agent_stop
switched() { [ "$(key_of "$KD/engine.pub")" = "$NEXT2" ]; }
wait_for switched --timeout 15 || fail "the timer did not switch the key"
assert_eq 1 "$(events_since "$E2" 118)" "event 118 (switched by the timer)"
assert_eq "$NEXT" "$(key_of "$AKEY")" "stopped agent still has the old key"
# Start the agent again as it was (herd-agent-setup would copy engine.pub).
$HERD_WRAP "$B/herd-agent" -c "$W/agent.yaml" >>"$W/agent.log" 2>&1 &
AGENT_PID=$!
log "agent restarted (pid $AGENT_PID) with its old engine key and $AKEY.next"
wait_for pinged --timeout 40 ||
    fail "host did not come back after the switch (status '$(host_status "$HOST_ID")')"
wait_for host_status_is "$HOST_ID" up --timeout 10 ||
    fail "host not up: '$(host_status "$HOST_ID")'"
wait_for agent_has "$AKEY" "$NEXT2" --timeout 10 ||
    fail "agent did not promote the next key: '$(key_of "$AKEY")'"
log "scenario 2 passed: the agent fell back to the next key"

# ---- 3. engine restarts: a rotation not yet due is resumed (the host gets
# the key again at its hello), one due is promoted before the engine binds
ctl engine key rotate --window 3600 >/dev/null || exit 1
NEXT3=$(key_of "$KD/engine.next.pub")
SW3=$(cat "$KD/engine.next.switch")
wait_for agent_has "$AKEY.next" "$NEXT3" --timeout 10 || fail "agent did not get the third next key"
engine_stop
engine_start
assert_eq "$NEXT2" "$(key_of "$KD/engine.pub")" "engine key after a restart before the switch time"
j=$(api_ok GET /enginekey) || exit 1
assert_eq "$NEXT3" "$(jget "$j" .rotation.next_public_key)" "rotation resumed after a restart"
assert_eq "$SW3" "$(jget "$j" .rotation.switch_time)" "switch time kept over a restart"
wait_for has_next --timeout 20 || fail "host did not get the next key again after the restart: $(api GET /enginekey)"
E3=$(last_event_id)
engine_stop
printf '%s\n' $(( $(now_ms) - 1000 )) >"$KD/engine.next.switch"
engine_start
assert_eq "$NEXT3" "$(key_of "$KD/engine.pub")" "engine key promoted at start"
[ -e "$KD/engine.next.key" ] && fail "engine.next.key left after the promotion at start"
d=$(api GET '/events?max=100' | jq -r --argjson after "$E3" \
    '[.event[] | select((.id | tonumber) > $after and .code == "118")][0].description')
assert_contains "$d" "while the engine was down" "event 118 of a promotion at start"
wait_for pinged --timeout 40 ||
    fail "host did not come back after the promotion at start (status '$(host_status "$HOST_ID")')"
wait_for agent_has "$AKEY" "$NEXT3" --timeout 10 ||
    fail "agent did not promote the key: '$(key_of "$AKEY")'"
log "scenario 3 passed: resumed, then promoted at start"

# ---- 4. window 0: switched as soon as the connected host has the key
wait_for host_status_is "$HOST_ID" up --timeout 10 || fail "host not up before scenario 4"
E4=$(last_event_id)
# (The switch may be over before herdctl returns: the key from its answer.)
j=$(ctl -o json engine key rotate --window 0) || exit 1
NEXT4=$(jget "$j" .rotation.next_public_key)
assert_eq 40 "${#NEXT4}" "next key in the answer of rotate --window 0"
switched4() { [ "$(key_of "$KD/engine.pub")" = "$NEXT4" ]; }
wait_for switched4 --timeout 10 || fail "window 0 did not switch within 10 s"
wait_for pinged --timeout 10 || fail "host ping after the window-0 switch"
wait_for agent_has "$AKEY" "$NEXT4" --timeout 10 || fail "agent key after the window-0 switch"
assert_eq 0 "$(events_since "$E4" 103 "$HOST_ID")" "non_responsive events in scenario 4"
assert_eq 0 "$(events_since "$E4" 119)" "hosts that missed the window-0 key"
log "scenario 4 passed: window 0"
test_done
