#!/bin/bash
# auth.max_failures (5 here): failed password checks per client address a
# minute. 5 wrong Basic passwords get 401; then every request from that
# address that needs a password check (Basic not verified in the last
# minute, the OAuth password grant) gets 429 with Retry-After and a fault
# naming the limit, and no argon2id runs (the engine logs each wrong
# password it checks: still 5); a bearer token, a session cookie and Basic
# credentials verified before still work; one warning event; after the
# Retry-After wait one check is back (a right password works, the next
# wrong one is refused again, with no second event within the minute).
. "$(dirname "$0")/lib.sh"
test_init
# lib.sh writes engine.yaml from ENG_* variables and has none for this key:
# wrap its writer and add the key under auth:.
eval "$(declare -f engine_write_conf | sed '1s/^engine_write_conf/t_lib_write_conf/')"
engine_write_conf() {
    t_lib_write_conf
    sed -i 's/^auth:$/auth:\n  max_failures: 5/' "$W/engine.yaml"
}
engine_start
grep -q '^  max_failures: 5$' "$W/engine.yaml" || fail "no auth.max_failures in $W/engine.yaml"
BASE="https://127.0.0.1:$API_PORT"
SSO="$BASE/ovirt-engine/sso/oauth/token"

# sso USER PASSWORD: the OAuth password grant; sets RESP, HTTP_STATUS, HDRS.
sso() {
    local out hdrs
    out=$(mktemp "$W/curl.XXXXXX")
    hdrs=$(mktemp "$W/curl.XXXXXX")
    HTTP_STATUS=$(curl -s -o "$out" -D "$hdrs" -w '%{http_code}' \
        --data-urlencode grant_type=password --data-urlencode scope=ovirt-app-api \
        --data-urlencode "username=$1" --data-urlencode "password=$2" "$SSO")
    RESP=$(cat "$out")
    HDRS=$(tr -d '\r' <"$hdrs")
    rm -f "$out" "$hdrs"
}
# basic USER PASSWORD [CURL ARGS]: GET /vms with Basic; sets RESP,
# HTTP_STATUS, HDRS (JSON unless the arguments say otherwise).
basic() {
    local user=$1 pw=$2 out hdrs
    shift 2
    out=$(mktemp "$W/curl.XXXXXX")
    hdrs=$(mktemp "$W/curl.XXXXXX")
    HTTP_STATUS=$(curl -s -o "$out" -D "$hdrs" -w '%{http_code}' -u "$user:$pw" \
        -H 'Accept: application/json' "$@" "$API/vms")
    RESP=$(cat "$out")
    HDRS=$(tr -d '\r' <"$hdrs")
    rm -f "$out" "$hdrs"
}
retry_after() { printf '%s\n' "$HDRS" | sed -n 's/^Retry-After: *//Ip' | head -n1; }
# Wrong passwords the engine checked (eng_auth logs each one).
checked() { grep -c "refused: wrong password" "$W/engine.log"; }

# ---- before: a token, a session, a second user --------------------------------
sso admin@internal "$ADMIN_PW"
assert_eq 200 "$HTTP_STATUS" "OAuth grant: $RESP"
TOKEN=$(jget "$RESP" .access_token)
[ -n "$TOKEN" ] || fail "no access_token: $RESP"
hdr=$(curl -s -D - -o /dev/null -u "admin@internal:$ADMIN_PW" -H 'Prefer: persistent-auth' "$API")
cookie=$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^Set-Cookie: \(JSESSIONID=[^;]*\).*/\1/p')
[ -n "$cookie" ] || fail "no session cookie: $hdr"
printf 'oper-pw\n' >"$W/oper.pw"
ctl user add oper --role Operator --password-file "$W/oper.pw" >/dev/null
basic admin@internal "$ADMIN_PW"
assert_eq 200 "$HTTP_STATUS" "admin over Basic (verified, cached)"
base_checked=$(checked)

# ---- 5 wrong passwords: 401 ----------------------------------------------------
for i in 1 2 3 4 5; do
    basic admin@internal "wrong-$i"
    assert_eq 401 "$HTTP_STATUS" "wrong password $i"
    assert_contains "$RESP" "wrong user name or password" "wrong password $i detail"
done
assert_eq $((base_checked + 5)) "$(checked)" "5 wrong passwords checked"

# ---- over the limit: 429 without a check ----------------------------------------
basic admin@internal wrong-6
assert_eq 429 "$HTTP_STATUS" "6th wrong password"
detail=$(jget "$RESP" .detail)
assert_contains "$detail" "auth.max_failures" "the fault names the key"
assert_contains "$detail" "5 a minute" "the fault names the limit"
assert_contains "$detail" "127.0.0.1" "the fault names the address"
assert_eq "Too Many Requests" "$(jget "$RESP" .reason)" "429 reason"
ra=$(retry_after)
assert_match "$ra" '^[0-9]+$' "Retry-After: $HDRS"
assert_ge "$ra" 1 "Retry-After"
assert_le "$ra" 12 "Retry-After (5 a minute: one check every 12 s)"
assert_contains "$HDRS" "HTTP/1.1 429 Too Many Requests" "status line"
assert_not_contains "$HDRS" "WWW-Authenticate" "no Basic challenge on 429"
xml=$(curl -s -u admin@internal:wrong-7 "$API/vms")
assert_contains "$xml" "<fault><reason>Too Many Requests</reason>" "XML fault"
# a right password over Basic needs a check too (oper was never verified)
basic oper@internal oper-pw
assert_eq 429 "$HTTP_STATUS" "right password over Basic, not cached"
assert_contains "$(jget "$RESP" .detail)" "auth.max_failures" "right password: detail"
# so does the OAuth grant, right password or not
sso admin@internal "$ADMIN_PW"
assert_eq 429 "$HTTP_STATUS" "OAuth grant over the limit: $RESP"
assert_eq too_many_requests "$(jget "$RESP" .error_code)" "OAuth error_code"
assert_contains "$(jget "$RESP" .error)" "auth.max_failures" "OAuth error names the key"
ra=$(retry_after)
assert_match "$ra" '^[0-9]+$' "OAuth Retry-After: $HDRS"
assert_le "$ra" 12 "OAuth Retry-After"
sso admin@internal wrong
assert_eq 429 "$HTTP_STATUS" "OAuth grant with a wrong password over the limit"
assert_eq $((base_checked + 5)) "$(checked)" "no password checked over the limit"
# what needs no password check still works from this address
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$API/vms")
assert_eq 200 "$code" "bearer token obtained before"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "$API/hosts")
assert_eq 200 "$code" "session cookie obtained before"
basic admin@internal "$ADMIN_PW"
assert_eq 200 "$HTTP_STATUS" "Basic verified before (cached)"
assert_exit 0 "herdctl with the saved credentials (cached Basic)" herdctl vm list

# ---- the event ---------------------------------------------------------------
ev=$(events_json 100)
lim=$(printf '%s' "$ev" | jq -c '[.event[] | select(.description | test("failed logins from"))]')
assert_eq 1 "$(printf '%s' "$lim" | jq length)" "one login-limit event: $lim"
# 12 s less what refilled while the 5 checks ran (slow under valgrind)
assert_match "$(jget "$lim" '.[0].description')" \
    '^5 failed logins from 127\.0\.0\.1; password checks refused for (1[0-2]|[1-9]) s$' "event text"
assert_eq warning "$(jget "$lim" '.[0].severity')" "event severity"
assert_eq 404 "$(jget "$lim" '.[0].code')" "event code"
grep -q "5 failed logins from 127.0.0.1" "$W/engine.log" || fail "no warning in the log"

# ---- after the wait: one check back --------------------------------------------
sleep $((ra + 1))
basic oper@internal oper-pw
assert_eq 200 "$HTTP_STATUS" "right password after Retry-After"
sso admin@internal "$ADMIN_PW"
assert_eq 200 "$HTTP_STATUS" "OAuth grant after Retry-After (a success takes nothing)"
basic admin@internal wrong-8
assert_eq 401 "$HTTP_STATUS" "one wrong password after Retry-After"
basic admin@internal wrong-9
assert_eq 429 "$HTTP_STATUS" "and the next is refused again"
assert_contains "$(jget "$RESP" .detail)" "auth.max_failures" "refused again: detail"
assert_eq $((base_checked + 6)) "$(checked)" "one more password checked"
ev=$(events_json 100)
assert_eq 1 "$(printf '%s' "$ev" | jq '[.event[] | select(.description | test("failed logins from"))] | length')" \
    "no second event within the minute"
test_done
