# shellcheck shell=bash
# Herd integration test harness. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   test_init            # work dir, cleanup trap
#   libvirt_start        # private libvirtd, exports LIBVIRT_URI
#   engine_start; agent_start; wait_host_up
#   ...assertions...
#   test_done
#
# Everything started here is recorded by pid and stopped by pid by the
# cleanup trap, also when the test fails. Daemons are started through
# $HERD_WRAP (run-tests.sh sets it to a valgrind command line when
# HERD_VALGRIND=1); a daemon that exits non-zero at stop fails the test.
#
# Knobs (environment): B (build dir, default build), HERD_KEEP=1 keeps the
# work dir, HERD_TIMEOUT_SCALE multiplies every timeout (valgrind: 10).

set -u

HERD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$HERD_ROOT/$B" ;; esac
export B
HERD_WRAP=${HERD_WRAP:-}
HERD_TIMEOUT_SCALE=${HERD_TIMEOUT_SCALE:-1}
if [ -n "$HERD_WRAP" ] && [ "$HERD_TIMEOUT_SCALE" = 1 ]; then
    HERD_TIMEOUT_SCALE=10
fi
QBOOT=${QBOOT:-/usr/share/qemu/qboot.rom}
TEST_NAME=$(basename "$0" .sh)

T_FAILED=0
T_LIBVIRT_PID=""
T_EXTRA_PIDS=""
ENGINE_PID=""
AGENT_PID=""

# ---- output ---------------------------------------------------------------

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$TEST_NAME" "$*"; }

# fail MESSAGE: print, dump daemon logs, stop everything, exit 1.
fail() {
    printf '[%s %s] FAIL: %s\n' "$(date +%H:%M:%S.%3N)" "$TEST_NAME" "$*" >&2
    T_FAILED=1
    exit 1
}

skip() {
    log "SKIP: $*"
    # shellcheck disable=SC2034  # read by callers that trap exit 77
    T_SKIPPED=1
    exit 77
}

# ---- assertions -----------------------------------------------------------

assert_eq() {   # EXPECTED ACTUAL WHAT
    [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}
assert_ne() {   # UNEXPECTED ACTUAL WHAT
    [ "$1" != "$2" ] || fail "${3:-value}: did not expect '$1'"
}
assert_contains() {     # HAYSTACK NEEDLE WHAT
    case "$1" in
        *"$2"*) ;;
        *) fail "${3:-output}: expected to contain '$2', got: $(printf '%s' "$1" | head -c 2000)" ;;
    esac
}
assert_not_contains() { # HAYSTACK NEEDLE WHAT
    case "$1" in
        *"$2"*) fail "${3:-output}: did not expect '$2' in: $(printf '%s' "$1" | head -c 2000)" ;;
        *) ;;
    esac
}
assert_match() {        # STRING ERE WHAT
    printf '%s' "$1" | grep -Eq -- "$2" ||
        fail "${3:-value}: '$(printf '%s' "$1" | head -c 500)' does not match /$2/"
}
assert_ge() {   # A B WHAT: A >= B (integers)
    [ "$1" -ge "$2" ] 2>/dev/null || fail "${3:-value}: expected >= $2, got '$1'"
}
assert_gt() {
    [ "$1" -gt "$2" ] 2>/dev/null || fail "${3:-value}: expected > $2, got '$1'"
}
assert_le() {
    [ "$1" -le "$2" ] 2>/dev/null || fail "${3:-value}: expected <= $2, got '$1'"
}
# assert_exit CODE WHAT CMD...: run CMD, check its exit status; output in $OUT.
assert_exit() {
    local want=$1 what=$2 rc
    shift 2
    OUT=$("$@" 2>&1) && rc=0 || rc=$?
    [ "$rc" = "$want" ] ||
        fail "$what: '$*' exited $rc, expected $want; output: $(printf '%s' "$OUT" | head -c 2000)"
}

# ---- timing ---------------------------------------------------------------

now_ms() { date +%s%3N; }

# wait_for CMD... [--timeout S]: poll CMD every 0.1 s until it succeeds.
# Returns 1 on timeout (callers usually `|| fail ...`).
wait_for() {
    local timeout=10 args=() deadline
    while [ $# -gt 0 ]; do
        if [ "$1" = "--timeout" ]; then timeout=$2; shift 2; continue; fi
        args+=("$1"); shift
    done
    timeout=$(awk -v t="$timeout" -v s="$HERD_TIMEOUT_SCALE" 'BEGIN{print int(t*s*1000)}')
    deadline=$(( $(now_ms) + timeout ))
    while :; do
        "${args[@]}" >/dev/null 2>&1 && return 0
        [ "$(now_ms)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# ---- ports ----------------------------------------------------------------

T_PORT_LO=10000
T_PORT_HI=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
[ "${T_PORT_HI:-0}" -gt 12000 ] 2>/dev/null || T_PORT_HI=32768

# free_port: a TCP port on 127.0.0.1 nobody listens on.
free_port() {
    local p used
    used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    while :; do
        # Below the kernel's ephemeral range (ip_local_port_range), so an
        # outgoing connection elsewhere cannot take it before we bind.
        p=$(( T_PORT_LO + (RANDOM * 32768 + RANDOM) % (T_PORT_HI - T_PORT_LO) ))
        printf '%s\n' "$used" | grep -qx "$p" && continue
        case " ${T_PORTS:-} " in *" $p "*) continue ;; esac
        T_PORTS="${T_PORTS:-} $p"
        echo "$p"
        return
    done
}

# ---- setup and cleanup ----------------------------------------------------

# test_init: make the work dir ($W), install the cleanup trap.
test_init() {
    local bin
    for bin in herd-engine herd-agent herdctl; do
        [ -x "$B/$bin" ] || fail "$B/$bin is not built"
    done
    command -v jq >/dev/null || fail "jq is not installed (scripts/deps.sh)"
    W=$(mktemp -d "${TMPDIR:-/tmp}/herd-$TEST_NAME.XXXXXX")
    chmod 755 "$W"
    export W
    trap t_cleanup EXIT
    trap 'T_FAILED=1; exit 130' INT TERM
    log "work dir $W"
}

# Stop everything by pid. Runs on every exit.
t_cleanup() {
    local rc=$? p
    trap - EXIT
    [ "$rc" != 0 ] && [ "$rc" != 77 ] && T_FAILED=1
    for p in $T_EXTRA_PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    [ -n "$AGENT_PID" ] && agent_stop --quiet
    [ -n "$ENGINE_PID" ] && engine_stop --quiet
    [ -n "$T_LIBVIRT_PID" ] && libvirt_stop
    if [ "$T_FAILED" = 1 ]; then
        t_dump_logs
        log "FAILED (work dir kept: $W)"
        [ "$rc" = 0 ] && rc=1
    elif [ "${HERD_KEEP:-0}" = 1 ]; then
        log "work dir kept: $W"
    elif [ -n "${W:-}" ]; then
        rm -rf "$W"
    fi
    exit "$rc"
}

t_dump_logs() {
    local f
    for f in "$W"/engine.log "$W"/agent.log "$W"/libvirt/log/libvirtd.log; do
        [ -s "$f" ] || continue
        echo "---- last 60 lines of $f"
        tail -n 60 "$f"
    done
}

# test_done: the success line; the trap cleans up (a failing stop still fails).
test_done() {
    [ -n "$AGENT_PID" ] && agent_stop
    [ -n "$ENGINE_PID" ] && engine_stop
    log "PASS"
    exit 0
}

# ---- private libvirtd -------------------------------------------------------

# have_kvm: /dev/kvm usable (open read-write works).
have_kvm() {
    [ -c /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null
}

# libvirt_start [DIR]: a private libvirtd in its own mount namespace under
# `tini -s`, its sockets in DIR/run. Exports LIBVIRT_URI and VIRSH.
libvirt_start() {
    local d=${1:-$W/libvirt}
    command -v tini >/dev/null || fail "tini is not installed"
    command -v libvirtd >/dev/null || fail "libvirtd is not installed"
    mkdir -p "$d"/run "$d"/lib "$d"/log "$d"/cache
    LIBVIRT_DIR=$d
    # A copy of /etc/libvirt: root-owned guests, no cgroups or security
    # driver, no autostarted networks (they would touch the host's network).
    rm -rf "${d:?}/etc"
    cp -a /etc/libvirt "$d/etc"
    rm -rf "$d/etc/qemu/networks/autostart" "$d/etc/qemu/autostart"
    cat >>"$d/etc/qemu.conf" <<'EOF'

# herd integration tests
user = "+0"
group = "+0"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
EOF
    # Each private libvirtd allocates display ports on its own and cannot
    # see guests of another libvirtd on this machine (a demo, a parallel
    # run): give every test its own range so QEMU never finds its VNC port
    # taken.
    local vnc_lo=$((5910 + (RANDOM % 500) * 100))
    cat >>"$d/etc/qemu.conf" <<EOF
remote_display_port_min = $vnc_lo
remote_display_port_max = $((vnc_lo + 99))
EOF
    cat >>"$d/etc/libvirtd.conf" <<EOF

# herd integration tests
log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
log_filters = "3:remote 4:event 3:util.json 3:rpc 1:qemu.qemu_process"
EOF
    cat >"$d/init.sh" <<EOF
#!/bin/bash
# Runs inside the private mount namespace, under tini -s.
set -e
mount --bind "$d/run" /run/libvirt 2>/dev/null || { mkdir -p /run/libvirt; mount --bind "$d/run" /run/libvirt; }
mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
mount --bind "$d/lib" /var/lib/libvirt
mount --bind "$d/log" /var/log/libvirt
mount --bind "$d/cache" /var/cache/libvirt
mount --bind "$d/etc" /etc/libvirt
set +e
stop() {
    # The keeper sleep would outlive us (reparented to init): stop it.
    [ -n "\${keeper:-}" ] && kill -TERM "\$keeper" 2>/dev/null
    # Guests first: libvirtd leaves them running when it exits, and they
    # would outlive the test.
    for f in /run/libvirt/qemu/*.pid; do
        [ -s "\$f" ] || continue
        q=\$(cat "\$f")
        grep -q qemu "/proc/\$q/cmdline" 2>/dev/null && kill -KILL "\$q"
    done
    for f in /run/libvirt/libvirtd.pid /run/libvirt/virtlogd.pid; do
        [ -s "\$f" ] && kill -TERM "\$(cat "\$f")" 2>/dev/null
    done
    for i in \$(seq 100); do
        alive=0
        for f in /run/libvirt/libvirtd.pid /run/libvirt/virtlogd.pid; do
            [ -s "\$f" ] && kill -0 "\$(cat "\$f")" 2>/dev/null && alive=1
        done
        [ \$alive = 0 ] && break
        sleep 0.1
    done
    for f in /run/libvirt/libvirtd.pid /run/libvirt/virtlogd.pid; do
        [ -s "\$f" ] && kill -KILL "\$(cat "\$f")" 2>/dev/null
    done
    exit 0
}
trap stop TERM INT
${HERD_LIBVIRT_WRAP:-} virtlogd -d -p /run/libvirt/virtlogd.pid
${HERD_LIBVIRT_WRAP:-} libvirtd -d -p /run/libvirt/libvirtd.pid
sleep infinity &
keeper=\$!
wait
EOF
    chmod +x "$d/init.sh"
    unshare -m --propagation private tini -s -- "$d/init.sh" \
        >"$d/init.log" 2>&1 &
    T_LIBVIRT_PID=$!
    export LIBVIRT_URI="qemu:///system?socket=$d/run/libvirt-sock"
    VIRSH=(virsh -q -c "$LIBVIRT_URI")
    wait_for "${VIRSH[@]}" version --timeout 30 ||
        fail "private libvirtd did not answer on $LIBVIRT_URI within 30 s: $(cat "$d/init.log")"
    log "libvirtd up (tini pid $T_LIBVIRT_PID, $LIBVIRT_URI)"
}

virsh_() { "${VIRSH[@]}" "$@"; }

# libvirt_stop: destroy leftover guests, stop libvirtd and virtlogd, any
# QEMU left is killed by pid (children of tini).
libvirt_stop() {
    local dom p i
    [ -n "$T_LIBVIRT_PID" ] || return 0
    for dom in $(timeout 10 virsh -q -c "$LIBVIRT_URI" list --name 2>/dev/null); do
        timeout 10 virsh -q -c "$LIBVIRT_URI" destroy "$dom" >/dev/null 2>&1
    done
    # Our init script is tini's child; SIGTERM to tini is forwarded to it.
    kill -TERM "$T_LIBVIRT_PID" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$T_LIBVIRT_PID" 2>/dev/null || break
        sleep 0.1
    done
    # Leftover QEMUs were reparented to tini (subreaper), or to init if tini
    # is gone already: kill them by pid (pidfiles, then tini's children).
    for p in "$LIBVIRT_DIR"/run/qemu/*.pid; do
        [ -s "$p" ] || continue
        i=$(cat "$p")
        grep -q qemu "/proc/$i/cmdline" 2>/dev/null && kill -KILL "$i"
    done
    for p in $(ps -o pid= --ppid "$T_LIBVIRT_PID" 2>/dev/null); do
        kill -KILL "$p" 2>/dev/null
    done
    kill -KILL "$T_LIBVIRT_PID" 2>/dev/null
    wait "$T_LIBVIRT_PID" 2>/dev/null
    T_LIBVIRT_PID=""
}

# domstate NAME_OR_UUID: the libvirt state word ("running", "shut off", ...).
domstate() { "${VIRSH[@]}" domstate "$1" 2>/dev/null | head -n1; }

# make_disk PATH SIZE: an empty qcow2.
make_disk() { qemu-img create -q -f qcow2 "$1" "$2"; }

# define_raw_domain NAME DISK: a domain XML like Herd's (qboot, no OS).
raw_domain_xml() {
    local name=$1 disk=$2 type=qemu
    have_kvm && type=kvm
    cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
      <loader readonly='yes' type='rom'>$QBOOT</loader></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
EOF
}

# ---- engine -----------------------------------------------------------------

# engine_write_conf: $W/engine.yaml from ENG_* variables.
engine_write_conf() {
    mkdir -p "$W/engine"
    cat >"$W/engine.yaml" <<EOF
state_dir: $W/engine
database: $W/engine/engine.db
log:
  level: ${ENG_LOG_LEVEL:-debug}
agents:
  listen: tcp://127.0.0.1:$ZMQ_PORT
  connecting_after: ${ENG_CONNECTING_AFTER:-6}
  nonresponsive_after: ${ENG_NONRESPONSIVE_AFTER:-20}
  curve: ${ENG_CURVE:-true}
  enrollment: ${ENG_ENROLLMENT:-auto}
api:
  listen: 127.0.0.1
  port: $API_PORT
  tls: ${ENG_API_TLS:-true}
auth:
  admin_password_file: $W/admin.pw
  token_lifetime: ${ENG_TOKEN_LIFETIME:-1800}
vm:
  shutdown_timeout: ${ENG_SHUTDOWN_TIMEOUT:-10}
  reboot_timeout: ${ENG_REBOOT_TIMEOUT:-10}
  firmware: $QBOOT
EOF
}

# engine_pubkey: the engine's CURVE public key (Z85) from its key folder.
engine_pubkey() { grep -v '^#' "$W/engine/keys/engine.pub"; }

# engine_start: ports picked once per test (kept over restarts), config
# written, daemon started, waits until the API answers.
engine_start() {
    local attempt picked=0 rc
    if [ -z "${ZMQ_PORT:-}" ] || [ -z "${API_PORT:-}" ]; then
        picked=1
    fi
    for attempt in 1 2 3; do
        if [ $picked = 1 ]; then
            ZMQ_PORT=$(free_port)
            API_PORT=$(free_port)
            while [ "$API_PORT" = "$ZMQ_PORT" ]; do API_PORT=$(free_port); done
        fi
        t_engine_launch
        if wait_for t_engine_answers --timeout 15; then
            kill -0 "$ENGINE_PID" 2>/dev/null && break
        elif kill -0 "$ENGINE_PID" 2>/dev/null; then
            fail "herd-engine API did not answer on $API within 15 s"
        fi
        wait "$ENGINE_PID"
        rc=$?
        ENGINE_PID=""
        # Another process took a port between our check and the bind: retry
        # with fresh ports (only when this test picked them).
        if [ $picked = 1 ] && [ $attempt -lt 3 ] &&
           tail -n 5 "$W/engine.log" | grep -q "Address already in use"; then
            log "engine: a port was taken meanwhile; retrying with others"
            continue
        fi
        fail "herd-engine exited ($rc) at start-up: $(tail -n 20 "$W/engine.log")"
    done
    log "engine up (pid $ENGINE_PID, api $API_PORT, agents $ZMQ_PORT)"
}

# The engine process runs and its API answers (for wait_for; stops polling
# early by failing fast when the process is gone).
t_engine_answers() {
    kill -0 "$ENGINE_PID" 2>/dev/null || return 0
    curl -sf -o /dev/null -u "admin@internal:$ADMIN_PW" "$API"
}

t_engine_launch() {
    # HTTPS with the engine's own CA unless ENG_API_TLS=false; curl and
    # herdctl trust that CA and log in as admin@internal (ADMIN_PW).
    ADMIN_PW=${ENG_ADMIN_PASSWORD:-herd-test-admin}
    printf '%s\n' "$ADMIN_PW" >"$W/admin.pw"
    export HERD_PASSWORD_FILE="$W/admin.pw"
    if [ "${ENG_API_TLS:-true}" = true ]; then
        export HERD_URL="https://127.0.0.1:$API_PORT"
        export HERD_CA_FILE="$W/engine/pki/ca.pem" CURL_CA_BUNDLE="$W/engine/pki/ca.pem"
    else
        export HERD_URL="http://127.0.0.1:$API_PORT"
    fi
    API="$HERD_URL/ovirt-engine/api"
    engine_write_conf
    # shellcheck disable=SC2086
    $HERD_WRAP "$B/herd-engine" -c "$W/engine.yaml" >>"$W/engine.log" 2>&1 &
    ENGINE_PID=$!
}

# t_stop_pid PID NAME [--quiet] [--kill]: SIGTERM (or SIGKILL), wait, check rc.
t_stop_pid() {
    local pid=$1 name=$2 quiet=0 sig=TERM rc i limit
    shift 2
    for a in "$@"; do
        [ "$a" = --quiet ] && quiet=1
        [ "$a" = --kill ] && sig=KILL
    done
    kill -"$sig" "$pid" 2>/dev/null
    limit=$(( 150 * HERD_TIMEOUT_SCALE ))
    for ((i = 0; i < limit; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        [ $quiet = 1 ] || fail "$name (pid $pid) did not exit within $((limit / 10)) s of SIGTERM"
        return 1
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    [ "$sig" = KILL ] && return 0
    if [ "$rc" != 0 ]; then
        if [ $quiet = 1 ]; then
            log "$name (pid $pid) exited with status $rc"
            T_FAILED=1
        else
            [ "$rc" = 99 ] && fail "$name: valgrind reported errors (exit 99)"
            fail "$name (pid $pid) exited with status $rc after SIGTERM"
        fi
    fi
    return 0
}

engine_stop() {
    local pid=$ENGINE_PID
    [ -n "$pid" ] || return 0
    ENGINE_PID=""
    t_stop_pid "$pid" herd-engine "$@"
}

# engine_kill: SIGKILL the engine (no exit status check).
engine_kill() {
    local pid=$ENGINE_PID
    ENGINE_PID=""
    t_stop_pid "$pid" herd-engine --kill
}

# ---- agent ------------------------------------------------------------------

agent_write_conf() {
    mkdir -p "$W/agent" "$W/images"
    cat >"$W/agent.yaml" <<EOF
engine: tcp://127.0.0.1:$ZMQ_PORT
host_id_file: $W/agent/host-id
libvirt_uri: $LIBVIRT_URI
images_dir: $W/images
stats_interval: ${AGT_STATS_INTERVAL:-1}
heartbeat_interval: ${AGT_HEARTBEAT_INTERVAL:-1}
request_timeout: ${AGT_REQUEST_TIMEOUT:-30}
workers: ${AGT_WORKERS:-4}
log:
  level: ${AGT_LOG_LEVEL:-debug}
EOF
    agent_setup
}

# agent_setup: the host's keys and the CURVE settings in agent.yaml, made
# by the real herd-agent-setup from the engine's public key (once the
# engine has made it). ENG_CURVE=false: plain ZeroMQ. AGT_TOKEN: a one-time
# enrollment token. The engine's agents.enrollment is "auto" unless a test
# sets ENG_ENROLLMENT (approve, closed).
agent_setup() {
    if [ "${ENG_CURVE:-true}" = false ]; then
        echo "curve: false" >>"$W/agent.yaml"
        return 0
    fi
    [ -s "$W/engine/keys/engine.pub" ] || return 0
    local args=(--engine "127.0.0.1:$ZMQ_PORT"
                --engine-key-file "$W/engine/keys/engine.pub" --yes
                --config "$W/agent.yaml" --key-dir "$W/agent/keys")
    [ -n "${AGT_TOKEN:-}" ] && args+=(--token "$AGT_TOKEN")
    "$B/herd-agent-setup" "${args[@]}" >>"$W/agent-setup.log" 2>&1 ||
        fail "herd-agent-setup failed: $(tail -n 5 "$W/agent-setup.log")"
}

agent_start() {
    agent_write_conf
    # shellcheck disable=SC2086
    $HERD_WRAP "$B/herd-agent" -c "$W/agent.yaml" >>"$W/agent.log" 2>&1 &
    AGENT_PID=$!
    sleep 0.2
    kill -0 "$AGENT_PID" 2>/dev/null || {
        wait "$AGENT_PID"; local rc=$?; AGENT_PID=""
        fail "herd-agent exited ($rc) at start-up: $(tail -n 20 "$W/agent.log")"
    }
    log "agent started (pid $AGENT_PID)"
}

agent_stop() {
    local pid=$AGENT_PID
    [ -n "$pid" ] || return 0
    AGENT_PID=""
    t_stop_pid "$pid" herd-agent "$@"
}

agent_kill() {
    local pid=$AGENT_PID
    AGENT_PID=""
    t_stop_pid "$pid" herd-agent --kill
}

# host_id: the agent's host id (from its host_id_file).
host_id() { tr -d ' \n' <"$W/agent/host-id" 2>/dev/null; }

# ---- REST and herdctl ----------------------------------------------------

# api_call METHOD PATH [BODY]: sets RESP (the body) and HTTP_STATUS. Call it
# directly, not in $(...), or the status is lost with the subshell.
api_call() {
    local method=$1 path=$2 body=${3-} out
    out=$(mktemp "$W/curl.XXXXXX")
    # API_USER= (empty) sends no credentials; API_USER/API_PW another user.
    local auth=(-u "${API_USER-admin@internal}:${API_PW:-$ADMIN_PW}")
    [ -z "${API_USER-x}" ] && auth=()
    if [ $# -ge 3 ]; then
        HTTP_STATUS=$(curl -s "${auth[@]}" -o "$out" -w '%{http_code}' -X "$method" \
            -H 'Content-Type: application/json' -H 'Accept: application/json' \
            --data-binary "$body" "$API$path")
    else
        HTTP_STATUS=$(curl -s "${auth[@]}" -o "$out" -w '%{http_code}' -X "$method" \
            -H 'Accept: application/json' "$API$path")
    fi
    RESP=$(cat "$out")
    rm -f "$out"
}

# api METHOD PATH [BODY]: the body on stdout (status ignored).
api() { api_call "$@"; printf '%s' "$RESP"; }

# api_ok METHOD PATH [BODY]: like api but fails the test on a non-2xx status.
api_ok() {
    api_call "$@"
    case "$HTTP_STATUS" in
        2??) printf '%s' "$RESP" ;;
        *) fail "$1 $2 answered $HTTP_STATUS: $RESP" ;;
    esac
}

# jget JSON FILTER: jq -r on a string ("" when absent or null).
jget() { printf '%s' "$1" | jq -r "($2) // empty" 2>/dev/null; }

# herdctl ARGS...: the real CLI against this test's engine.
herdctl() { "$B/herdctl" --url "$HERD_URL" "$@"; }

# ctl ARGS...: herdctl that must succeed (output on stdout).
ctl() {
    local out rc
    out=$("$B/herdctl" --url "$HERD_URL" "$@" 2>&1) && rc=0 || rc=$?
    [ "$rc" = 0 ] || fail "herdctl $* exited $rc: $out"
    printf '%s\n' "$out"
}

# ---- inventory helpers --------------------------------------------------

host_json() { api GET "/hosts/$1"; }
host_status() {
    api_call GET "/hosts/$1"
    [ "$HTTP_STATUS" = 200 ] || return 0
    jget "$RESP" '.status // .host[0].status'
}
vm_json() { api GET "/vms/$1"; }
vm_status() {
    api_call GET "/vms/$1"
    [ "$HTTP_STATUS" = 200 ] || { echo "http-$HTTP_STATUS"; return 0; }
    jget "$RESP" '.status // .vm[0].status'
}
vm_id() { jget "$(api GET "/vms/$1")" '.id // .vm[0].id'; }

host_status_is() { [ "$(host_status "$1")" = "$2" ]; }
vm_status_is() { [ "$(vm_status "$1")" = "$2" ]; }
domstate_is() { [ "$(domstate "$1")" = "$2" ]; }

# wait_host_up [TIMEOUT]: the agent's host shows up and is "up".
wait_host_up() {
    local t=${1:-20}
    wait_for test -s "$W/agent/host-id" --timeout "$t" ||
        fail "agent wrote no host id to $W/agent/host-id within $t s"
    HOST_ID=$(host_id)
    wait_for host_status_is "$HOST_ID" up --timeout "$t" ||
        fail "host $HOST_ID not up within $t s (status '$(host_status "$HOST_ID")')"
    log "host $HOST_ID up"
}

# wait_vm_status VM STATUS [TIMEOUT]
wait_vm_status() {
    local t=${3:-20}
    wait_for vm_status_is "$1" "$2" --timeout "$t" ||
        fail "VM $1 not '$2' within $t s (status '$(vm_status "$1")')"
}

# wait_domstate VM STATE [TIMEOUT]
wait_domstate() {
    local t=${3:-20}
    wait_for domstate_is "$1" "$2" --timeout "$t" ||
        fail "virsh: domain $1 not '$2' within $t s (state '$(domstate "$1")')"
}

# vm_create_started NAME: herdctl create+start a 64 MiB 1-vCPU VM with a 1 GiB
# qcow2 disk and a NIC; waits for "up" in the engine and running in virsh.
vm_create_started() {
    local name=$1
    ctl vm create "$name" --memory 64M --cpus 1 --disk 1G --nic --start >/dev/null
    wait_vm_status "$name" up 30
    wait_domstate "$name" running 10
}

# events_json [MAX]: newest first.
events_json() { api GET "/events?max=${1:-500}"; }

# ---- status recorders ---------------------------------------------------

# recorder_start FILE CMD...: run CMD every 50 ms in the background, each
# output line prefixed with the time in ms, into FILE. Sets REC_PID.
recorder_start() {
    local f=$1
    shift
    (
        trap 'exit 0' TERM
        while :; do
            printf '%s %s\n' "$(now_ms)" "$("$@" 2>/dev/null)"
            sleep 0.05
        done
    ) >"$f" 2>/dev/null &
    REC_PID=$!
    T_EXTRA_PIDS="$T_EXTRA_PIDS $REC_PID"
}

recorder_stop() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    T_EXTRA_PIDS=$(printf '%s' "$T_EXTRA_PIDS" | sed "s/ $1\b//")
    return 0
}

# seen_values FILE: the distinct values a recorder saw, in order, one line.
seen_values() { awk '{ $1=""; sub(/^ /, ""); if ($0 != last) { printf "%s%s", sep, $0; sep=" -> " } last=$0 }' "$1"; }

# json_count JSON KEY: length of the array .KEY (0 if absent).
json_count() { printf '%s' "$1" | jq -r "(.$2 // []) | length" 2>/dev/null || echo 0; }

# first_num JSON FILTER...: the first filter giving a number.
first_num() {
    local j=$1 f v
    shift
    for f in "$@"; do
        v=$(printf '%s' "$j" | jq -r "($f) // empty | tostring" 2>/dev/null | head -n1)
        case "$v" in ''|*[!0-9.]*) continue ;; esac
        echo "${v%%.*}"
        return 0
    done
    echo ""
}

# standard_setup: libvirtd, engine, agent, host up.
standard_setup() {
    test_init
    libvirt_start
    engine_start
    agent_start
    wait_host_up 30
}
