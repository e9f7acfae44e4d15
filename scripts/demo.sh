#!/bin/bash
# Herd demo: an engine, an agent on the local libvirt and one small VM.
#
#   B=build scripts/demo.sh start    (make demo)
#   B=build scripts/demo.sh stop     (make demo-stop)
#
# State lives in ./demo/. If no libvirtd answers on qemu:///system, `start`
# starts virtlogd and libvirtd itself (pidfiles in demo/) and `stop` stops
# them again; a libvirtd that was already running is left alone. Both
# commands are idempotent.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$ROOT/$B" ;; esac
D="$ROOT/demo"
URI="qemu:///system"
IMAGES=/var/lib/libvirt/images/herd-demo
VM=demo

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_free() { ! ss -Htln 2>/dev/null | awk '{print $4}' | grep -q ":$1\$"; }

pick_port() {   # PREFERRED
    local p=$1
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}

libvirt_answers() { timeout 10 virsh -q -c "$URI" version >/dev/null 2>&1; }

wait_for() {    # SECONDS CMD...
    local t=$(( $1 * 10 ))
    shift
    while [ "$t" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        t=$((t - 1))
    done
    return 1
}

ctl() { HERD_PASSWORD_FILE="$D/admin.pw" "$B/herdctl" --url "$URL" "$@"; }
api() {
    if [ -s "$D/admin.pw" ]; then
        curl -sf -H "Accept: application/json" -u "admin@internal:$(cat "$D/admin.pw")" "$URL/ovirt-engine/api$1"
    else
        curl -sf -H "Accept: application/json" "$URL/ovirt-engine/api$1"
    fi
}
host_up() { api /hosts | jq -e '.host[]? | select(.status == "up")' >/dev/null; }
vm_status() { api "/vms/$VM" | jq -r '.status // empty'; }
vm_is() { [ "$(vm_status)" = "$1" ]; }

stop_pid() {    # PIDFILE NAME
    local f=$1 name=$2 pid
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name did not stop in 15 s; killing it"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$f"
}

print_usage_hints() {
    local B=${B#"$ROOT"/}
    cat <<EOF

Herd demo is running (state and logs in $D/):
  engine  pid $(cat "$D/engine.pid")  API $URL/ovirt-engine/api  (log demo/engine.log)
  agent   pid $(cat "$D/agent.pid")  libvirt $URI  (log demo/agent.log)

Look at it (admin@internal's password is in demo/admin.pw):
  export HERD_URL=$URL HERD_PASSWORD_FILE=$D/admin.pw
  $B/herdctl --url $URL host list
  $B/herdctl --url $URL host stats $(api /hosts | jq -r '.host[0].name // "HOST"')
  $B/herdctl --url $URL vm list
  $B/herdctl --url $URL vm show $VM
  $B/herdctl --url $URL vm stats $VM
  $B/herdctl --url $URL event list
  curl -s -H "Accept: application/json" -u "admin@internal:\$(cat demo/admin.pw)" $URL/ovirt-engine/api/vms | jq .
  virsh -c $URI list

Stop it:  make demo-stop   (or B=$B scripts/demo.sh stop)
EOF
}

# write_engine_conf API_PORT ZMQ_PORT full|plain: demo/engine.yaml. The
# API is plain HTTP on 127.0.0.1 with admin@internal's password in
# demo/admin.pw ("plain" leaves out the TLS and auth keys).
write_engine_conf() {
    {
        cat <<EOF
state_dir: $D/engine
database: $D/engine/engine.db
log:
  level: info
agents:
  listen: tcp://127.0.0.1:$2
  # The demo's own agent is approved at its first hello; a real engine
  # keeps "approve" (new hosts wait for POST /hosts/{id}/approve).
  enrollment: auto
api:
  listen: 127.0.0.1
  port: $1
EOF
        if [ "$3" = full ]; then
            printf '  tls: false\nauth:\n  admin_password_file: %s\n' "$D/admin.pw"
        fi
        cat <<EOF
vm:
  shutdown_timeout: 10
  firmware: /usr/share/qemu/qboot.rom
EOF
    } >"$D/engine.yaml"
}

start() {
    local bin kvm=qemu
    for bin in herd-engine herd-agent herdctl herd-agent-setup; do
        [ -x "$B/$bin" ] || die "$B/$bin is not built (run make)"
    done
    command -v jq >/dev/null || die "jq is missing (make deps)"
    mkdir -p "$D"
    if [ -s "$D/url" ]; then URL=$(cat "$D/url"); fi

    if alive "$D/engine.pid" && alive "$D/agent.pid" && [ -n "${URL:-}" ] &&
       vm_is up; then
        say "already running"
        print_usage_hints
        return 0
    fi

    # libvirt: use a running one, else start our own.
    if alive "$D/libvirtd.pid" && libvirt_answers; then
        say "using the libvirtd the demo started before (pid $(cat "$D/libvirtd.pid"))"
    elif libvirt_answers; then
        say "using the libvirtd already answering on $URI (left running at stop)"
        touch "$D/libvirt-was-running"
    else
        [ "$(id -u)" = 0 ] || die "no libvirtd answers on $URI and starting one needs root"
        say "no libvirtd answers on $URI: starting virtlogd and libvirtd"
        mkdir -p /var/log/libvirt /run/libvirt
        if ! alive "$D/virtlogd.pid"; then
            virtlogd -d -p "$D/virtlogd.pid" || die "virtlogd did not start"
        fi
        if ! alive "$D/libvirtd.pid"; then
            libvirtd -d -p "$D/libvirtd.pid" || die "libvirtd did not start"
        fi
        wait_for 30 libvirt_answers || die "libvirtd started but does not answer on $URI"
    fi
    if [ -c /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null; then
        kvm=kvm
        say "/dev/kvm works: guests use KVM"
    else
        say "/dev/kvm is not usable: guests use QEMU emulation (slow)"
    fi

    # Engine.
    if ! alive "$D/engine.pid"; then
        local api_port zmq_port
        api_port=$(pick_port 8080)
        zmq_port=$(pick_port 54321)
        [ "$api_port" = 8080 ] || say "port 8080 is taken: API on $api_port"
        mkdir -p "$D/engine"
        if [ ! -s "$D/admin.pw" ]; then
            (umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$D/admin.pw")
        fi
        write_engine_conf "$api_port" "$zmq_port" full
        local err
        if ! err=$("$B/herd-engine" -c "$D/engine.yaml" --check-config 2>&1); then
            # An engine without HTTPS/auth settings: the plain config.
            write_engine_conf "$api_port" "$zmq_port" plain
            err=$("$B/herd-engine" -c "$D/engine.yaml" --check-config 2>&1) ||
                die "the demo's engine.yaml is refused: $err"
        fi
        echo "http://127.0.0.1:$api_port" >"$D/url"
        echo "tcp://127.0.0.1:$zmq_port" >"$D/agents-endpoint"
        setsid "$B/herd-engine" -c "$D/engine.yaml" >>"$D/engine.log" 2>&1 </dev/null &
        echo $! >"$D/engine.pid"
        say "started herd-engine (pid $!)"
    fi
    URL=$(cat "$D/url")
    wait_for 15 api "" || {
        tail -n 20 "$D/engine.log" >&2
        die "the engine API does not answer on $URL (log: demo/engine.log)"
    }

    # Agent.
    if ! alive "$D/agent.pid"; then
        mkdir -p "$IMAGES"
        cat >"$D/agent.yaml" <<EOF
engine: $(cat "$D/agents-endpoint")
host_id_file: $D/host-id
libvirt_uri: $URI
images_dir: $IMAGES
stats_interval: 5
heartbeat_interval: 2
log:
  level: info
EOF
        # The host's CURVE keys and the engine's public key, as on a real
        # host (herd-agent-setup --engine ... --fingerprint ...).
        "$B/herd-agent-setup" --engine "$(sed 's#^tcp://##' "$D/agents-endpoint")" \
            --engine-key-file "$D/engine/keys/engine.pub" --yes \
            --config "$D/agent.yaml" --key-dir "$D/keys" >>"$D/agent.log" 2>&1 ||
            die "herd-agent-setup failed (demo/agent.log)"
        setsid "$B/herd-agent" -c "$D/agent.yaml" >>"$D/agent.log" 2>&1 </dev/null &
        echo $! >"$D/agent.pid"
        say "started herd-agent (pid $!)"
    fi
    say "waiting for the host to be up"
    wait_for 30 host_up || {
        tail -n 20 "$D/agent.log" >&2
        die "the host did not come up in 30 s (logs: demo/engine.log, demo/agent.log)"
    }

    # The demo VM.
    local st
    st=$(vm_status)
    if [ -z "$st" ]; then
        say "creating VM '$VM' (64 MiB, 1 vCPU, 1 GiB qcow2 disk, qboot, $kvm)"
        ctl vm create "$VM" --memory 64M --cpus 1 --disk 1G --nic --start ||
            die "herdctl vm create failed"
    elif [ "$st" != up ]; then
        say "starting VM '$VM' (was $st)"
        ctl vm start "$VM" || die "herdctl vm start failed"
    fi
    wait_for 60 vm_is up || die "VM '$VM' is not up after 60 s (status '$(vm_status)')"
    api "/vms/$VM" | jq -r '.id' >"$D/vm-id"
    say "VM '$VM' is up"
    print_usage_hints
}

stop() {
    local id="" st
    [ -d "$D" ] || { say "nothing to stop (no $D)"; return 0; }
    [ -s "$D/url" ] && URL=$(cat "$D/url")
    [ -s "$D/vm-id" ] && id=$(cat "$D/vm-id")

    # The VM, through the engine while it runs.
    if [ -n "${URL:-}" ] && alive "$D/engine.pid" && api "" >/dev/null 2>&1; then
        st=$(vm_status)
        if [ -n "$st" ]; then
            [ -z "$id" ] && id=$(api "/vms/$VM" | jq -r '.id // empty')
            if [ "$st" != down ]; then
                say "stopping VM '$VM'"
                ctl vm stop "$VM" >/dev/null || say "herdctl vm stop failed"
                wait_for 20 vm_is down
            fi
            say "removing VM '$VM'"
            ctl vm remove "$VM" >/dev/null || say "herdctl vm remove failed"
        fi
    fi
    # Whatever is left of the domain goes directly through libvirt.
    if [ -n "$id" ] && libvirt_answers; then
        if virsh -q -c "$URI" dominfo "$id" >/dev/null 2>&1; then
            say "destroying and undefining domain $id"
            virsh -q -c "$URI" destroy "$id" >/dev/null 2>&1
            virsh -q -c "$URI" undefine "$id" --nvram >/dev/null 2>&1 ||
                virsh -q -c "$URI" undefine "$id" >/dev/null 2>&1
        fi
    fi
    rm -f "$D/vm-id"

    stop_pid "$D/agent.pid" herd-agent
    stop_pid "$D/engine.pid" herd-engine
    rm -f "$IMAGES"/*.qcow2 2>/dev/null
    rmdir "$IMAGES" 2>/dev/null

    if [ -s "$D/libvirtd.pid" ] || [ -s "$D/virtlogd.pid" ]; then
        stop_pid "$D/libvirtd.pid" libvirtd
        stop_pid "$D/virtlogd.pid" virtlogd
    elif [ -e "$D/libvirt-was-running" ]; then
        say "leaving the libvirtd that was already running alone"
        rm -f "$D/libvirt-was-running"
    fi
    say "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: B=build $0 start|stop" >&2; exit 2 ;;
esac
