#!/bin/bash
# REST faults: malformed JSON -> 400 naming the problem, unknown field ->
# 400 naming it, wrong types -> 400, unknown VM -> 404, unknown path -> 404;
# the inventory is unchanged afterwards.
. "$(dirname "$0")/lib.sh"
test_init
engine_start

api_call POST /vms '{"name": "keep", "memory": "67108864"}'
assert_eq 201 "$HTTP_STATUS" "POST /vms status"
snapshot() { api_ok GET /vms | jq -S '[.vm[] | del(.status_time, .start_time, .stop_time)]'; }
before=$(snapshot) || exit 1
hosts_before=$(api_ok GET /hosts) || exit 1

# expect_fault STATUS WHAT WORD METHOD PATH [BODY]
expect_fault() {
    local want=$1 what=$2 word=$3 r
    shift 3
    api_call "$@"; r=$RESP
    [ "$HTTP_STATUS" = "$want" ] ||
        fail "$what: $1 $2 answered $HTTP_STATUS, expected $want: $r"
    printf '%s' "$r" | jq -e . >/dev/null 2>&1 || fail "$what: fault is not JSON: $r"
    local text
    text=$(jget "$r" '[.reason, .detail, .fault.reason, .fault.detail] | map(select(. != null)) | join(" | ")')
    [ -n "$text" ] || fail "$what: fault without reason/detail: $r"
    [ -z "$word" ] || printf '%s' "$text" | grep -qi -- "$word" ||
        fail "$what: fault '$text' does not name '$word'"
    log "$what -> $HTTP_STATUS: $text"
}

expect_fault 400 "malformed JSON" "json" POST /vms '{"name": "bad", "memory": '
expect_fault 400 "not an object" "" POST /vms '[1, 2, 3]'
expect_fault 400 "trailing garbage" "" POST /vms '{"name": "x", "memory": "67108864"} xyz'
expect_fault 400 "empty body" "" POST /vms ''
expect_fault 400 "unknown field" "colour" POST /vms '{"name": "x2", "memory": "67108864", "colour": "blue"}'
expect_fault 400 "unknown nested field" "sockts" POST /vms \
    '{"name": "x3", "memory": "67108864", "cpu": {"topology": {"sockts": "1"}}}'
expect_fault 400 "wrong type" "memory" POST /vms '{"name": "x4", "memory": "a lot"}'
expect_fault 400 "missing name" "name" POST /vms '{"memory": "67108864"}'
expect_fault 400 "negative memory" "memory" POST /vms '{"name": "x5", "memory": -1}'
expect_fault 409 "duplicate name" "keep" POST /vms '{"name": "keep", "memory": "67108864"}'
expect_fault 404 "unknown VM" "no-such-vm" GET /vms/no-such-vm
expect_fault 404 "unknown VM by UUID" "" GET /vms/00000000-0000-0000-0000-000000000000
expect_fault 404 "action on unknown VM" "" POST /vms/no-such-vm/start '{}'
expect_fault 404 "delete unknown VM" "" DELETE /vms/no-such-vm
expect_fault 404 "stats of unknown VM" "" GET /vms/no-such-vm/statistics
expect_fault 404 "unknown host" "" GET /hosts/no-such-host
expect_fault 404 "unknown path" "" GET /frobnicators
expect_fault 404 "unknown action" "" POST /vms/keep/frobnicate '{}'
expect_fault 400 "update with bad JSON" "" PUT /vms/keep '{"memory": '
expect_fault 400 "update with unknown field" "colour" PUT /vms/keep '{"colour": "red"}'
expect_fault 400 "bad events max" "max" GET "/events?max=banana"
api_call POST /vms/keep/start '{}'; r=$RESP
case "$HTTP_STATUS" in
    4??|5??) log "start with no host -> $HTTP_STATUS: $r" ;;
    *) fail "start with no host answered $HTTP_STATUS: $r" ;;
esac
# Oversized body (api.max_body_bytes default 1 MiB): refused, engine alive.
head -c 3000000 /dev/zero | tr '\0' 'a' >"$W/big.json"
code=$(curl -s -o "$W/big.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$W/big.json" "$API/vms")
case "$code" in 4??) ;; *) fail "3 MB body answered $code: $(head -c 300 "$W/big.out")" ;; esac
log "3 MB body -> $code"

after=$(snapshot) || exit 1
[ "$before" = "$after" ] || fail "VM inventory changed: before $before after $after"
hosts_after=$(api_ok GET /hosts) || exit 1
assert_eq "$hosts_before" "$hosts_after" "hosts after the faults"
kill -0 "$ENGINE_PID" || fail "herd-engine died"
test_done
