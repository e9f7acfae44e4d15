#!/bin/bash
# An existing oVirt client, libgovirt (tests/tools/govirt_client.c), against
# a real engine over HTTPS with the engine's CA: it lists the VMs, reads a
# VM's state and display, starts it, gets a console ticket (checked on the
# guest through virsh) and stops it.
. "$(dirname "$0")/lib.sh"
TOOL="$B/tests/tools/govirt_client"
[ -x "$TOOL" ] || fail "$TOOL is not built (libgovirt-dev, scripts/deps.sh)"
standard_setup

ctl vm create gv1 --memory 64M --cpus 1 --disk 1G >/dev/null
ctl vm create gv2 --memory 64M --cpus 1 >/dev/null
# oVirt 4 clients log in through SSO and hand libgovirt the token.
tok=$(curl -s --data-urlencode grant_type=password --data-urlencode scope=ovirt-app-api \
    --data-urlencode username=admin@internal --data-urlencode "password=$ADMIN_PW" \
    "https://127.0.0.1:$API_PORT/ovirt-engine/sso/oauth/token" | jq -r .access_token)
[ -n "$tok" ] && [ "$tok" != null ] || fail "no SSO token"
printf '%s\n' "$tok" >"$W/token"
out=$("$TOOL" "127.0.0.1:$API_PORT" "$W/token" "$W/engine/pki/ca.pem" gv1 \
      2>"$W/govirt.err") ||
    fail "govirt_client failed: $(cat "$W/govirt.err") / output: $out"
log "libgovirt said: $(printf '%s' "$out" | tr '\n' ';')"
assert_contains "$out" "vms: 2" "libgovirt lists the VMs"
assert_contains "$out" "vm: gv1" "VM gv1 listed"
assert_contains "$out" "vm: gv2" "VM gv2 listed"
assert_contains "$out" "id: $(vm_id gv1)" "VM id"
assert_eq down "$(printf '%s\n' "$out" | sed -n 's/^state: //p' | head -n1)" "first state"
assert_contains "$out" "start: ok" "start"
assert_contains "$out" "state: up" "state after start"
disp=$(printf '%s\n' "$out" | sed -n 's/^display: //p' | head -n1)
assert_match "$disp" '^vnc 127\.0\.0\.1 [0-9]+$' "display (type, address, port)"
ticket=$(printf '%s\n' "$out" | sed -n 's/^ticket: //p' | tail -n1)
pw=${ticket%% *}
[ ${#pw} = 8 ] || fail "no 8-character ticket from libgovirt: '$ticket'"
assert_contains "$out" "stop: ok" "stop"
assert_eq down "$(printf '%s\n' "$out" | sed -n 's/^state: //p' | tail -n1)" "state after stop"
assert_eq down "$(vm_status gv1)" "the engine agrees"
ev=$(events_json 50)
printf '%s' "$ev" | jq -e '.event[] | select(.user.name == "admin@internal" and (.description | test("ticket")))' \
    >/dev/null || fail "no ticket event by admin@internal"
test_done
