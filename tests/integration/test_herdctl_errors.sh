#!/bin/bash
# herdctl exit codes: 1 with the engine's message when the engine answers
# with a fault (unknown VM), 2 for bad usage, 3 when the engine cannot be
# reached.
. "$(dirname "$0")/lib.sh"
test_init
engine_start

# 1: the engine's fault, shown to the user.
api_call GET /vms/no-such-vm; detail=$RESP
assert_eq 404 "$HTTP_STATUS" "GET /vms/no-such-vm"
msg=$(jget "$detail" '.detail // .fault.detail // .reason')
[ -n "$msg" ] || fail "the engine's 404 has no reason/detail: $detail"
for cmd in "vm show no-such-vm" "vm start no-such-vm" "vm stop no-such-vm" \
           "vm remove no-such-vm" "vm stats no-such-vm" "host show no-such-host"; do
    # shellcheck disable=SC2086
    assert_exit 1 "herdctl $cmd" herdctl $cmd
    assert_contains "$OUT" "no-such-" "herdctl $cmd message"
done
assert_exit 1 "herdctl vm show" herdctl vm show no-such-vm
assert_contains "$OUT" "$msg" "herdctl shows the engine's message"
# Creating a duplicate is a fault from the engine, too.
ctl vm create dup --memory 64M --cpus 1 >/dev/null || exit 1
assert_exit 1 "duplicate create" herdctl vm create dup --memory 64M --cpus 1
assert_exit 1 "too little memory" herdctl vm create tiny --memory 1M --cpus 1
assert_exit 0 "json list" herdctl -o json vm list
printf '%s' "$OUT" | jq . >/dev/null || fail "herdctl -o json vm list is not JSON: $OUT"

# 2: bad usage, nothing sent.
assert_exit 2 "no arguments" herdctl
assert_exit 2 "unknown noun" herdctl frobnicate list
assert_exit 2 "unknown verb" herdctl vm frobnicate
assert_exit 2 "create without a name" herdctl vm create
assert_exit 2 "bad memory size" herdctl vm create x --memory lots --cpus 1
assert_exit 2 "bad cpu count" herdctl vm create x --memory 64M --cpus many
assert_exit 2 "unknown option" herdctl vm list --bogus
assert_exit 2 "bad output format" herdctl -o yaml vm list
assert_exit 2 "start without a VM" herdctl vm start
[ -n "$OUT" ] || fail "herdctl printed nothing on bad usage"
n=$(api_ok GET /vms | jq '.vm | length') || exit 1
assert_eq 1 "$n" "VMs after the bad-usage calls (only 'dup')"

# 3: nobody listens there.
port=$(free_port)
assert_exit 3 "unreachable engine" "$B/herdctl" --url "http://127.0.0.1:$port" vm list
[ -n "$OUT" ] || fail "herdctl printed nothing when the engine is unreachable"
assert_exit 3 "unreachable engine (HERD_URL)" env HERD_URL="http://127.0.0.1:$port" "$B/herdctl" host list

test_done
