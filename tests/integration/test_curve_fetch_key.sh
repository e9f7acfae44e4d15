#!/bin/bash
# herd-agent-setup --fetch-key: the engine's CURVE public key fetched from
# GET /ovirt-engine/services/herd-engine-key and confirmed by fingerprint.
# - the right fingerprint: keys (secret 0600) and agent.yaml written, the
#   agent (set up this way) connects and its host comes up; over HTTPS
#   without a CA (not checked) and with --ca-file (checked);
# - a wrong fingerprint, no --fingerprint without a terminal, an engine
#   that is not there, an untrusted certificate, an HTTP error, an answer
#   that is not JSON or holds no key: exit 1, a message naming what and the
#   URL, and nothing written;
# - during an engine key rotation the next key goes to engine.pub.next
#   (0644), only once the current key is confirmed; a later fetch without
#   one removes it (a plain http:// server stands in for the engine, for
#   bad answers too; then the real engine's rotation).
. "$(dirname "$0")/lib.sh"
SETUP="$B/herd-agent-setup"
test_init
[ -x "$SETUP" ] || fail "$SETUP is not built"
libvirt_start
engine_start
KEYPATH=/ovirt-engine/services/herd-engine-key
KEYURL="$HERD_URL$KEYPATH"
CA="$W/engine/pki/ca.pem"

ans=$(curl -sf "$KEYURL") || fail "GET $KEYURL failed"
FP=$(jget "$ans" .fingerprint)
EKEY=$(engine_pubkey)
assert_eq "$EKEY" "$(jget "$ans" .public_key)" "the endpoint serves engine.pub"
show=$("$B/herd-engine" -c "$W/engine.yaml" --show-key 2>&1) ||
    fail "herd-engine --show-key: $show"
assert_contains "$show" "$FP" "--show-key prints the fingerprint the API serves"
WRONG="SHA256:$(printf 'A%.0s' $(seq 43))"

# fetch DIR ARGS...: herd-agent-setup --fetch-key into DIR (config and
# keys), stdin not a terminal; exit status and output as assert_exit.
fetch() {
    local d=$1
    shift
    "$SETUP" --engine "127.0.0.1:$ZMQ_PORT" --fetch-key \
        --config "$d/agent.yaml" --key-dir "$d/keys" "$@" </dev/null
}
# nothing_in DIR WHAT: DIR exists and is empty.
nothing_in() {
    [ -d "$1" ] || fail "$2: $1 is gone"
    assert_eq "" "$(ls -A "$1")" "$2: files written in $1"
}

# ---- (b) a wrong fingerprint: refused, both fingerprints named ------------
T="$W/wrong"; mkdir -p "$T"
assert_exit 1 "wrong fingerprint" fetch "$T" --api-url "$HERD_URL" --fingerprint "$WRONG"
assert_contains "$OUT" "$FP" "mismatch names the engine key's fingerprint"
assert_contains "$OUT" "$WRONG" "mismatch names the given fingerprint"
assert_contains "$OUT" "$KEYURL" "mismatch names the URL"
nothing_in "$T" "wrong fingerprint"

# ---- (c) no --fingerprint and no terminal: refused before fetching --------
assert_exit 1 "no fingerprint, stdin not a tty" fetch "$T" --api-url "$HERD_URL"
assert_contains "$OUT" "--fingerprint" "the refusal says how to confirm"
assert_exit 1 "--yes instead of a fingerprint" fetch "$T" --api-url "$HERD_URL" --yes
assert_contains "$OUT" "--yes does not confirm" "--yes is not enough"
nothing_in "$T" "no fingerprint"
# On a terminal the user compares the fingerprint: "n" writes nothing.
command -v script >/dev/null || fail "script (util-linux) is not installed"
Y="$W/tty"; mkdir -p "$Y"
tty_cmd=$(printf '%q ' "$SETUP" --engine "127.0.0.1:$ZMQ_PORT" --fetch-key \
          --api-url "$HERD_URL" --config "$Y/agent.yaml" --key-dir "$Y/keys")
out=$(printf 'n\n' | script -qec "$tty_cmd" /dev/null) &&
    fail "answering n on the terminal was accepted: $out"
assert_contains "$out" "$FP" "the terminal prompt shows the fingerprint"
assert_contains "$out" "not confirmed" "answering n"
nothing_in "$Y" "answering n"
out=$(printf 'y\n' | script -qec "$tty_cmd" /dev/null) ||
    fail "answering y on the terminal: $out"
assert_eq "$EKEY" "$(grep -v '^#' "$Y/keys/engine.pub")" "engine.pub after answering y"
# Usage errors stay usage errors.
assert_exit 2 "--fetch-key with --engine-key" fetch "$T" --engine-key "$EKEY" --fingerprint "$FP"
assert_exit 2 "--api-url without --fetch-key" "$SETUP" --engine "127.0.0.1:$ZMQ_PORT" \
    --engine-key "$EKEY" --api-url "$HERD_URL" --config "$T/agent.yaml" --key-dir "$T/keys"
nothing_in "$T" "usage errors"

# ---- (d) nobody there: refused connection, named with the URL -------------
port=$(free_port)
assert_exit 1 "closed port" fetch "$T" --api-url "https://127.0.0.1:$port" --fingerprint "$FP"
assert_contains "$OUT" "https://127.0.0.1:$port$KEYPATH" "unreachable: the URL"
assert_contains "$OUT" "refused" "unreachable: why"
# Without --api-url the URL is https://<host of --engine>:8443; whatever
# answers there (nothing, or some other engine) is not this key.
assert_exit 1 "derived URL" "$SETUP" --engine "127.0.0.1:$port" --fetch-key \
    --fingerprint "$WRONG" --config "$T/agent.yaml" --key-dir "$T/keys" </dev/null
assert_contains "$OUT" "https://127.0.0.1:8443$KEYPATH" "URL derived from --engine"
nothing_in "$T" "unreachable engine"

# ---- TLS and HTTP failures --------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca \
    -keyout "$W/other-ca.key" -out "$W/other-ca.pem" >/dev/null 2>&1 ||
    fail "openssl could not make a CA"
assert_exit 1 "another CA" fetch "$T" --api-url "$HERD_URL" --ca-file "$W/other-ca.pem" \
    --fingerprint "$FP"
assert_contains "$OUT" "not trusted" "untrusted certificate"
assert_contains "$OUT" "$KEYURL" "untrusted certificate: the URL"
assert_exit 1 "missing CA file" fetch "$T" --api-url "$HERD_URL" --ca-file "$W/no-such.pem" \
    --fingerprint "$FP"
assert_contains "$OUT" "$W/no-such.pem" "missing CA file named"
assert_exit 1 "plain HTTP to the TLS port" fetch "$T" \
    --api-url "http://127.0.0.1:$API_PORT" --fingerprint "$FP"
assert_contains "$OUT" "http://127.0.0.1:$API_PORT$KEYPATH" "plain HTTP: the URL"
assert_exit 1 "HTTP 404" fetch "$T" --api-url "$HERD_URL/nowhere" --fingerprint "$FP"
assert_contains "$OUT" "HTTP 404" "the status"
assert_contains "$OUT" "$HERD_URL/nowhere$KEYPATH" "HTTP 404: the URL"
nothing_in "$T" "TLS and HTTP failures"

# ---- (a) the right fingerprint, over HTTPS with the engine's CA -----------
C="$W/checked"; mkdir -p "$C"
assert_exit 0 "--ca-file and the right fingerprint" fetch "$C" --api-url "$HERD_URL/ovirt-engine/api" \
    --ca-file "$CA" --fingerprint "$FP"
assert_contains "$OUT" "$FP: matches" "confirmation"
assert_eq "$EKEY" "$(grep -v '^#' "$C/keys/engine.pub")" "engine.pub written"
assert_eq 600 "$(stat -c %a "$C/keys/agent.key")" "secret key mode"
[ -e "$C/keys/engine.pub.next" ] && fail "engine.pub.next without a rotation"

# ... and the agent itself set up this way, without a CA: the host comes up.
agent_setup() {
    "$SETUP" --engine "127.0.0.1:$ZMQ_PORT" --fetch-key --api-url "$HERD_URL" \
        --fingerprint "$FP" --config "$W/agent.yaml" --key-dir "$W/agent/keys" \
        </dev/null >>"$W/agent-setup.log" 2>&1 ||
        fail "herd-agent-setup --fetch-key failed: $(tail -n 5 "$W/agent-setup.log")"
}
agent_start
conf=$(cat "$W/agent.yaml")
assert_contains "$conf" "engine: tcp://127.0.0.1:$ZMQ_PORT" "agent.yaml: engine"
assert_contains "$conf" "curve: true" "agent.yaml: curve"
assert_contains "$conf" "engine_key_file: $W/agent/keys/engine.pub" "agent.yaml: engine key"
assert_contains "$conf" "libvirt_uri: $LIBVIRT_URI" "agent.yaml: the rest is kept"
assert_eq 600 "$(stat -c %a "$W/agent/keys/agent.key")" "agent secret key mode"
assert_eq "$EKEY" "$(grep -v '^#' "$W/agent/keys/engine.pub")" "agent's engine.pub"
wait_host_up 30
AFP=$(sed -n 's/^host key fingerprint: //p' "$W/agent-setup.log" | tail -n1)
assert_eq "$AFP" "$(jget "$(api GET "/hosts/$HOST_ID")" .curve_key.fingerprint)" \
    "the host's key in the API is the one setup made"

# ---- a stand-in engine over plain HTTP: rotation, bad answers ---------------
command -v python3 >/dev/null || fail "python3 is not installed"
S="$W/fake"
NEXT='rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'     # a valid Z85 key
mkdir -p "$S/rot$KEYPATH" "$S/nojson$KEYPATH" "$S/badkey$KEYPATH" "$S/nokey$KEYPATH"
rmdir "$S/rot$KEYPATH" "$S/nojson$KEYPATH" "$S/badkey$KEYPATH" "$S/nokey$KEYPATH"
jq -n --arg k "$EKEY" --arg f "$FP" --arg n "$NEXT" \
    '{public_key: $k, fingerprint: $f, next_public_key: $n}' >"$S/rot$KEYPATH"
echo 'this is not JSON' >"$S/nojson$KEYPATH"
echo '{"public_key": "too-short", "fingerprint": "x"}' >"$S/badkey$KEYPATH"
echo '{"fingerprint": "x"}' >"$S/nokey$KEYPATH"
hport=$(free_port)
python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$S" \
    >"$W/http.log" 2>&1 &
T_EXTRA_PIDS="$T_EXTRA_PIDS $!"
HTTP="http://127.0.0.1:$hport"
wait_for curl -sf "$HTTP/rot$KEYPATH" || fail "the stand-in HTTP server did not start"

assert_exit 1 "answer not JSON" fetch "$T" --api-url "$HTTP/nojson" --fingerprint "$FP"
assert_contains "$OUT" "not a JSON object" "not JSON"
assert_contains "$OUT" "$HTTP/nojson$KEYPATH" "not JSON: the URL"
assert_exit 1 "not a key" fetch "$T" --api-url "$HTTP/badkey" --fingerprint "$FP"
assert_contains "$OUT" "not a CURVE public key" "bad key"
assert_contains "$OUT" "$HTTP/badkey$KEYPATH" "bad key: the URL"
assert_exit 1 "no key" fetch "$T" --api-url "$HTTP/nokey" --fingerprint "$FP"
assert_contains "$OUT" "no public_key" "no key"
# A rotation's next key is written only after the current one is confirmed.
assert_exit 1 "rotation, wrong fingerprint" fetch "$T" --api-url "$HTTP/rot" --fingerprint "$WRONG"
nothing_in "$T" "bad answers"

R="$W/rot"; mkdir -p "$R"
assert_exit 0 "rotation" fetch "$R" --api-url "$HTTP/rot" --fingerprint "$FP"
assert_contains "$OUT" "next key" "the next key is reported"
assert_eq "$NEXT" "$(grep -v '^#' "$R/keys/engine.pub.next")" "engine.pub.next"
assert_eq 644 "$(stat -c %a "$R/keys/engine.pub.next")" "engine.pub.next mode"
assert_eq "$EKEY" "$(grep -v '^#' "$R/keys/engine.pub")" "engine.pub during a rotation"
# The real engine has no rotation: fetching from it again drops the stale
# next key and keeps the host's key pair.
pub=$(cat "$R/keys/agent.pub")
assert_exit 0 "fetch again after the rotation" fetch "$R" --api-url "$HERD_URL" --fingerprint "$FP"
[ -e "$R/keys/engine.pub.next" ] && fail "stale engine.pub.next kept"
assert_eq "$pub" "$(cat "$R/keys/agent.pub")" "key pair kept"

# ---- the real engine during its key rotation --------------------------------
ctl engine key rotate --window 3600 >/dev/null || exit 1
ENEXT=$(grep -v '^#' "$W/engine/keys/engine.next.pub")
ans=$(curl -sf "$KEYURL") || fail "GET $KEYURL during the rotation failed"
assert_eq "$ENEXT" "$(jget "$ans" .next_public_key)" "the endpoint serves the next key"
E="$W/rotating"; mkdir -p "$E"
assert_exit 1 "rotation, wrong fingerprint (real engine)" fetch "$E" --api-url "$HERD_URL" \
    --fingerprint "$WRONG"
nothing_in "$E" "rotation, wrong fingerprint"
assert_exit 0 "rotation (real engine)" fetch "$E" --api-url "$HERD_URL" --fingerprint "$FP"
assert_contains "$OUT" "$(jget "$ans" .next_fingerprint)" "the next key's fingerprint is shown"
assert_eq "$EKEY" "$(grep -v '^#' "$E/keys/engine.pub")" "engine.pub during the rotation"
assert_eq "$ENEXT" "$(grep -v '^#' "$E/keys/engine.pub.next")" "engine.pub.next from the engine"
assert_eq 644 "$(stat -c %a "$E/keys/engine.pub.next")" "engine.pub.next mode (real engine)"

test_done
