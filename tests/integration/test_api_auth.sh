#!/bin/bash
# REST API authentication and roles through real HTTPS: the CA at /ca.crt
# and pki-resource without credentials, certificate checked by curl and
# herdctl, 401 with the Basic challenge, the OAuth password grant, bearer
# tokens and their expiry (auth.token_lifetime 2 s), Prefer: persistent-auth
# sessions, users and grants, role denials (ReadOnly, Operator), Filter:
# true, who-did-what in the event log, plain HTTP refused on the TLS port.
. "$(dirname "$0")/lib.sh"
test_init
ENG_TOKEN_LIFETIME=2
engine_start
BASE="https://127.0.0.1:$API_PORT"
CA="$W/engine/pki/ca.pem"

# ---- TLS and the CA -------------------------------------------------------
[ -s "$CA" ] || fail "no CA file at $CA"
ca=$(curl -s --cacert "$CA" "$BASE/ca.crt")
assert_contains "$ca" "BEGIN CERTIFICATE" "/ca.crt"
assert_eq "$(cat "$CA")" "$ca" "/ca.crt is the engine's CA"
ca2=$(curl -s --cacert "$CA" "$BASE/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA")
assert_eq "$ca" "$ca2" "pki-resource"
openssl x509 -in "$CA" -noout -subject >/dev/null || fail "CA is not a certificate"
# Trusting only the system store fails: the certificate is checked.
code=$(CURL_CA_BUNDLE= curl -s -o /dev/null -w '%{http_code}' --capath /nonexistent \
    --cacert /dev/null "$BASE/ca.crt" 2>/dev/null) || true
assert_eq 000 "$code" "curl without the engine CA"
assert_exit 3 "herdctl without the CA" env HERD_CA_FILE= "$B/herdctl" --url "$BASE" vm list
assert_contains "$OUT" "not trusted" "herdctl names the certificate problem"
assert_exit 0 "herdctl --insecure" env HERD_CA_FILE= "$B/herdctl" --url "$BASE" --insecure vm list
# The server certificate names 127.0.0.1 and localhost.
curl -sf -u "admin@internal:$ADMIN_PW" -o /dev/null "https://localhost:$API_PORT/ovirt-engine/api" ||
    fail "https://localhost is not accepted by the certificate"
# Plain HTTP on the TLS port gets no answer.
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/ovirt-engine/api") || true
assert_ne 200 "$code" "plain HTTP on the HTTPS port"

# ---- Basic and the challenge ------------------------------------------------
hdr=$(curl -s -D - -o /dev/null "$BASE/ovirt-engine/api")
assert_contains "$hdr" " 401" "no credentials"
assert_contains "$hdr" 'WWW-Authenticate: Basic realm="RESTAPI"' "challenge"
API_USER= api_call GET /vms
assert_eq 401 "$HTTP_STATUS" "no credentials (JSON)"
assert_eq Unauthorized "$(jget "$RESP" .reason)" "401 reason"
API_PW=wrong api_call GET /vms
assert_eq 401 "$HTTP_STATUS" "wrong password"
assert_contains "$RESP" "wrong user name or password" "wrong password detail"
API_USER=nobody@internal api_call GET /vms
assert_eq 401 "$HTTP_STATUS" "unknown user"
xml=$(curl -s "$BASE/ovirt-engine/api")
assert_contains "$xml" "<fault><reason>Unauthorized</reason>" "XML fault by default"

# ---- OAuth password grant ---------------------------------------------------
tok_json=$(curl -s -H 'Accept: application/json' \
    --data-urlencode grant_type=password --data-urlencode scope=ovirt-app-api \
    --data-urlencode username=admin@internal --data-urlencode "password=$ADMIN_PW" \
    "$BASE/ovirt-engine/sso/oauth/token")
TOKEN=$(jget "$tok_json" .access_token)
[ -n "$TOKEN" ] || fail "no access_token: $tok_json"
assert_eq Bearer "$(jget "$tok_json" .token_type)" "token_type"
assert_eq 2 "$(jget "$tok_json" .expires_in)" "expires_in follows auth.token_lifetime"
bad=$(curl -s -w ' %{http_code}' -d 'grant_type=password&username=admin%40internal&password=nope&scope=ovirt-app-api' \
    "$BASE/ovirt-engine/sso/oauth/token")
assert_contains "$bad" '"error_code":"access_denied"' "bad password: oVirt error JSON"
assert_contains "$bad" " 401" "bad password status"
bad=$(curl -s -d 'grant_type=client_credentials' "$BASE/ovirt-engine/sso/oauth/token")
assert_contains "$bad" "unsupported_grant_type" "other grant types"
bearer() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Accept: application/json' "$API/vms"; }
assert_eq 200 "$(bearer "$TOKEN")" "bearer token"
assert_eq 401 "$(bearer "x$TOKEN")" "forged token"
sleep 2.5
assert_eq 401 "$(bearer "$TOKEN")" "token after auth.token_lifetime"
log "bearer token expired after 2 s"

# ---- sessions (Prefer: persistent-auth) ---------------------------------------
hdr=$(curl -s -D - -o /dev/null -u "admin@internal:$ADMIN_PW" -H 'Prefer: persistent-auth' "$API")
cookie=$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^Set-Cookie: \(JSESSIONID=[^;]*\).*/\1/p')
[ -n "$cookie" ] || fail "no session cookie: $hdr"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "$API/hosts")
assert_eq 200 "$code" "request with the session cookie only"
sleep 2.5
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "$API/hosts")
assert_eq 401 "$code" "expired session"

# ---- herdctl login -------------------------------------------------------------
export HOME="$W/home"
mkdir -p "$HOME"
unset HERD_PASSWORD_FILE
assert_exit 1 "herdctl without credentials" "$B/herdctl" vm list
assert_contains "$OUT" "authentication required" "herdctl says why"
assert_exit 0 "herdctl login" "$B/herdctl" login --password-file "$W/admin.pw"
assert_contains "$OUT" "Logged in" "login message"
[ "$(stat -c %a "$HOME/.config/herd/token")" = 600 ] || fail "token file is not 0600"
assert_exit 0 "herdctl with the saved token" "$B/herdctl" vm list
printf 'wrong\n' >"$W/wrong.pw"
assert_exit 1 "herdctl login with a wrong password" "$B/herdctl" login --password-file "$W/wrong.pw"
export HERD_PASSWORD_FILE="$W/admin.pw"

# ---- users and roles ---------------------------------------------------------
printf 'reader-pw\n' >"$W/reader.pw"
printf 'oper-pw\n' >"$W/oper.pw"
ctl user add reader --role ReadOnly --password-file "$W/reader.pw" >/dev/null
ctl user add oper@internal --role Operator --password-file "$W/oper.pw" >/dev/null
out=$(ctl user list)
assert_contains "$out" "reader@internal" "user list"
assert_contains "$out" "Operator" "user list roles"
assert_exit 1 "duplicate user" herdctl user add reader --role ReadOnly --password-file "$W/reader.pw"
assert_exit 2 "user add without a role" herdctl user add x --password-file "$W/reader.pw"
assert_exit 1 "unknown role" herdctl user add x --role God --password-file "$W/reader.pw"
assert_contains "$OUT" "God" "unknown role named"
users=$(api_ok GET /users)
assert_eq 3 "$(json_count "$users" user)" "three users"
perms=$(api_ok GET /users/reader/permissions)
assert_eq ReadOnly "$(jget "$perms" '.permission[0].role.name')" "reader's permission"

# ReadOnly: reads, no writes, no users.
export API_USER=reader@internal API_PW=reader-pw
api_call GET /vms; assert_eq 200 "$HTTP_STATUS" "ReadOnly reads VMs"
api_call GET /hosts; assert_eq 200 "$HTTP_STATUS" "ReadOnly reads hosts"
api_call POST /vms '{"name": "ro-vm", "memory": "67108864"}'
assert_eq 403 "$HTTP_STATUS" "ReadOnly creates a VM"
assert_contains "$(jget "$RESP" .detail)" "ReadOnly" "denial names the role"
api_call GET /users; assert_eq 403 "$HTTP_STATUS" "ReadOnly lists users"
api_call POST /clusters '{"name": "ro-c"}'; assert_eq 403 "$HTTP_STATUS" "ReadOnly adds a cluster"
# Operator: VMs yes, the rest no.
export API_USER=oper@internal API_PW=oper-pw
api_call POST /vms '{"name": "oper-vm", "memory": "67108864"}'
assert_eq 201 "$HTTP_STATUS" "Operator creates a VM: $RESP"
api_call PUT /vms/oper-vm '{"description": "mine"}'
assert_eq 200 "$HTTP_STATUS" "Operator updates a VM"
api_call POST /datacenters '{"name": "op-dc"}'
assert_eq 403 "$HTTP_STATUS" "Operator adds a data center"
assert_contains "$(jget "$RESP" .detail)" "Operator" "Operator denial"
api_call POST /users '{"user_name": "x", "password": "y"}'
assert_eq 403 "$HTTP_STATUS" "Operator adds a user"
# Filter: true shows only the VMs the user created.
unset API_USER API_PW
api_ok POST /vms '{"name": "admin-vm", "memory": "67108864"}' >/dev/null
all=$(curl -s -u oper@internal:oper-pw -H 'Accept: application/json' "$API/vms")
mine=$(curl -s -u oper@internal:oper-pw -H 'Accept: application/json' -H 'Filter: true' "$API/vms")
assert_eq 2 "$(json_count "$all" vm)" "Operator sees every VM without Filter"
assert_eq 1 "$(json_count "$mine" vm)" "Filter: true"
assert_eq oper-vm "$(jget "$mine" '.vm[0].name')" "Filter: true shows the user's VM"
code=$(curl -s -o /dev/null -w '%{http_code}' -u oper@internal:oper-pw -H 'Filter: true' "$API/vms/admin-vm")
assert_eq 404 "$code" "Filter: true hides other VMs"

# Grants change what a user may do at once.
ctl user grant reader Operator >/dev/null
API_USER=reader@internal API_PW=reader-pw api_call PUT /vms/oper-vm '{"description": "by reader"}'
assert_eq 200 "$HTTP_STATUS" "granted Operator"
ctl user remove reader >/dev/null
API_USER=reader@internal API_PW=reader-pw api_call GET /vms
assert_eq 401 "$HTTP_STATUS" "removed user"
api_call DELETE /users/admin@internal
assert_eq 409 "$HTTP_STATUS" "admin removes itself"

# Who did what.
ev=$(events_json 100)
printf '%s' "$ev" | jq -e '.event[] | select(.user.name == "oper@internal" and (.description | test("oper-vm")))' \
    >/dev/null || fail "no event by oper@internal about oper-vm: $(printf '%s' "$ev" | head -c 1500)"
printf '%s' "$ev" | jq -e '.event[] | select(.description | test("reader@internal removed by admin@internal"))' \
    >/dev/null || fail "no event for the user removal"
search=$(api_ok GET "/events?search=user%3Doper%40internal")
[ "$(json_count "$search" event)" -ge 1 ] || fail "events?search=user=oper@internal found nothing"
test_done
