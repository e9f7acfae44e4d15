#!/bin/bash
# Herd multi-host test bed: N "hosts" on one machine, each its own network,
# mount, UTS and PID namespace with its own libvirtd and virtlogd, plus an
# engine network namespace, all joined by veth pairs to a bridge that lives
# in a namespace of its own.
#
#   testbed.sh up N [DIR]        bring up N hosts and the engine namespace
#   testbed.sh down [DIR]        tear everything down by pid (idempotent)
#   testbed.sh status [DIR]      what runs, what answers
#   testbed.sh exec HOST CMD...  run CMD inside h1..hN, engine or bridge
#   testbed.sh addr HOST         print a member's address
#   testbed.sh start-agents [HOST...] / stop-agents [HOST...]
#   testbed.sh start-engine / stop-engine
#
# DIR is $TESTBED_DIR, else <repo>/build/testbed (the commands that take no
# DIR argument use the same default). Everything that `down` needs (pids
# with their start times, namespace names) is appended to DIR/state as it is
# created, so `down` cleans up after a failed `up` or a killed test too.
#
# The network rule: the private /24 exists only inside the namespaces; the
# root namespace has no address or route in it, and every client (virsh,
# agents, engine, curl, herdctl) runs inside a namespace (`exec`).
#
# Knobs: B (build dir with herd-agent/herd-engine, default build),
# TB_LIBVIRT_LOG ("3:file:..." level for libvirtd.log, default 3),
# TB_STOP_TIMEOUT (seconds before SIGKILL, default 5).

set -u

TB_SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERD_ROOT=$(cd "$(dirname "$TB_SELF")/../.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$HERD_ROOT/$B" ;; esac
TB_AGENTS_PORT=54321
TB_API_PORT=8080
TB_STOP_TIMEOUT=${TB_STOP_TIMEOUT:-5}
TB_MAX_HOSTS=50
# QEMU capabilities probed by libvirtd (~1 s per host) are kept here between
# runs and copied into each host's /var/cache/libvirt at start.
TB_CACHE=${TB_CACHE:-$HERD_ROOT/build/testbed-cache/qemu-capabilities}

tb_log() { printf '[%s testbed] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
tb_die() { tb_log "error: $*"; exit 1; }
tb_now_ms() { date +%s%3N; }

# tb_set_dir [DIR]: DIR (absolute) from the argument, $TESTBED_DIR or default.
tb_set_dir() {
    DIR=${1:-${TESTBED_DIR:-$HERD_ROOT/build/testbed}}
    case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
    DIR=${DIR%/}
    STATE="$DIR/state"
}

# tb_lock: one up/down/start/stop at a time per DIR (fd 9 holds the lock;
# everything started in the background gets 9<&- so it never inherits it).
tb_lock() {
    mkdir -p "$DIR" || tb_die "cannot create $DIR"
    exec 9<"$DIR" || tb_die "cannot open $DIR"
    flock -w 120 9 || tb_die "$DIR stays locked by another testbed.sh for 120 s"
}

# ---- state ----------------------------------------------------------------

# tb_rec KEY VALUE: append to DIR/state at once (later lines win when sourced).
tb_rec() {
    printf '%s=%q\n' "$1" "$2" >>"$STATE"
    printf -v "$1" '%s' "$2"
}

tb_load() {
    [ -f "$STATE" ] || return 1
    # shellcheck disable=SC1090
    . "$STATE"
}

# tb_stat PID: "STATE STARTTIME" of a process, fails if there is none.
tb_stat() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    printf '%s %s\n' "$1" "${20}"
}

# tb_rec_pid KEY PID: record PID and its start time, so that a recycled pid
# is never mistaken for ours.
tb_rec_pid() {
    local st
    st=$(tb_stat "$2") || st="? ?"
    tb_rec "$1" "$2"
    tb_rec "${1}_ST" "${st#* }"
}

# tb_alive PID START: PID is the process we recorded and not a zombie.
tb_alive() {
    local st
    [ -n "$1" ] || return 1
    st=$(tb_stat "$1") || return 1
    [ "${st% *}" != Z ] && [ "${st#* }" = "$2" ]
}

# tb_pid_of KEY: echo "PID START" recorded under KEY ("" if none).
tb_pid_of() {
    local p s sv="${1}_ST"
    p=${!1:-}
    s=${!sv:-}
    [ -n "$p" ] && printf '%s %s\n' "$p" "$s"
}

# tb_stop_pids TIMEOUT KEY...: SIGTERM every recorded process that is still
# ours, wait up to TIMEOUT s for all, then SIGKILL the rest.
tb_stop_pids() {
    local timeout=$1 k pid st left deadline
    shift
    local -a live=()
    for k in "$@"; do
        read -r pid st <<<"$(tb_pid_of "$k")"
        [ -n "${pid:-}" ] || continue
        if tb_alive "$pid" "$st"; then
            kill -TERM "$pid" 2>/dev/null
            live+=("$pid:$st")
        fi
    done
    [ ${#live[@]} -gt 0 ] || return 0
    deadline=$(( $(tb_now_ms) + timeout * 1000 ))
    while :; do
        left=()
        for k in "${live[@]}"; do
            tb_alive "${k%:*}" "${k#*:}" && left+=("$k")
        done
        [ ${#left[@]} -eq 0 ] && return 0
        [ "$(tb_now_ms)" -ge "$deadline" ] && break
        sleep 0.05
    done
    for k in "${left[@]}"; do
        tb_log "pid ${k%:*} ignored SIGTERM for ${timeout}s: SIGKILL"
        kill -KILL "${k%:*}" 2>/dev/null
    done
    deadline=$(( $(tb_now_ms) + 3000 ))
    for k in "${left[@]}"; do
        while tb_alive "${k%:*}" "${k#*:}" && [ "$(tb_now_ms)" -lt "$deadline" ]; do
            sleep 0.05
        done
    done
    return 0
}

tb_ns_exists() { [ -e "/run/netns/$1" ]; }

# ---- members --------------------------------------------------------------

# tb_member NAME: set M_KIND (host|engine|bridge), M_I, M_NS, M_ADDR.
tb_member() {
    local n=$1
    case "$n" in
        engine|e) M_KIND=engine; M_I=0; M_NS=$NS_ENGINE; M_ADDR=$ENGINE_ADDR ;;
        bridge|br) M_KIND=bridge; M_I=0; M_NS=$NS_BR; M_ADDR="" ;;
        h[0-9]*|[0-9]*)
            M_I=${n#h}
            case "$M_I" in ''|*[!0-9]*) tb_die "unknown member '$n' (h1..h$TB_HOSTS, engine, bridge)" ;; esac
            [ "$M_I" -ge 1 ] && [ "$M_I" -le "$TB_HOSTS" ] ||
                tb_die "no host '$n' in $DIR (it has h1..h$TB_HOSTS)"
            M_KIND=host
            local v="H${M_I}_NS"; M_NS=${!v:-}
            v="H${M_I}_ADDR"; M_ADDR=${!v:-}
            ;;
        *) tb_die "unknown member '$n' (h1..h$TB_HOSTS, engine, bridge)" ;;
    esac
}

tb_hostname() { printf 'tb%s-h%s' "$TB_ID" "$1"; }

# tb_env: variables every command run by `exec` sees.
tb_env() {
    local i v
    TB_ENV=(TB_DIR="$DIR" TB_ID="$TB_ID" TB_HOSTS="$TB_HOSTS"
            TB_ENGINE_ADDR="$ENGINE_ADDR"
            HERD_URL="http://127.0.0.1:$TB_API_PORT")
    for ((i = 1; i <= TB_HOSTS; i++)); do
        v="H${i}_ADDR"
        TB_ENV+=("TB_H${i}_ADDR=${!v:-}")
    done
}

# tb_engine_wrap: TB_ENGINE_WRAP, a command prefix that runs its command in
# the engine's network namespace with the test bed's /etc/hosts and
# resolv.conf (in a private mount namespace). Every step execs, so the pid
# of the prefix is the pid of the command.
tb_engine_wrap() {
    TB_ENGINE_WRAP=(nsenter --net="/run/netns/$NS_ENGINE" --
        unshare -m --propagation slave --
        sh -c 'mount --bind "$0/hosts" /etc/hosts &&
               mount --bind "$0/resolv.conf" /etc/resolv.conf && exec "$@"' "$DIR")
}

# tb_enter MEMBER CMD...: exec CMD inside MEMBER's namespaces.
tb_enter() {
    local pid st v
    tb_member "$1"
    shift
    [ $# -gt 0 ] || tb_die "exec: no command"
    tb_env
    case "$M_KIND" in
        host)
            v="H${M_I}_INIT"
            read -r pid st <<<"$(tb_pid_of "$v")"
            tb_alive "${pid:-}" "${st:-}" || tb_die "host h$M_I is not running (init pid ${pid:-none})"
            exec nsenter -t "$pid" -n -m -u -p --wd="$PWD" -- \
                env "${TB_ENV[@]}" TB_HOST="h$M_I" TB_ADDR="$M_ADDR" \
                LIBVIRT_DEFAULT_URI=qemu:///system "$@"
            ;;
        engine)
            tb_ns_exists "$M_NS" || tb_die "namespace $M_NS does not exist"
            tb_engine_wrap
            exec "${TB_ENGINE_WRAP[@]}" \
                env "${TB_ENV[@]}" TB_HOST="$M_KIND" TB_ADDR="$M_ADDR" "$@"
            ;;
        *)
            tb_ns_exists "$M_NS" || tb_die "namespace $M_NS does not exist"
            exec nsenter --net="/run/netns/$M_NS" -- \
                env "${TB_ENV[@]}" TB_HOST="$M_KIND" TB_ADDR="$M_ADDR" "$@"
            ;;
    esac
}

# ---- up -------------------------------------------------------------------

tb_write_libvirt_conf() {    # I ADDR: per-host copy of /etc/libvirt
    local i=$1 addr=$2 hd="$DIR/h$1" k
    cp -a /etc/libvirt "$hd/etc" || return 1
    # No autostarted networks or guests: they would belong to the machine.
    rm -rf "$hd/etc/qemu/networks/autostart" "$hd/etc/qemu/autostart" \
        "$hd/etc/storage/autostart"
    find "$hd/etc/qemu" -maxdepth 1 -name '*.xml' -delete
    for k in host_uuid listen_tcp listen_tls auth_tcp listen_addr \
             log_outputs log_filters; do
        sed -i "s/^[[:space:]]*${k}[[:space:]]*=/#&/" "$hd/etc/libvirtd.conf"
    done
    for k in cgroup_controllers user group dynamic_ownership remember_owner \
             security_driver migration_address migration_host; do
        sed -i "s/^[[:space:]]*${k}[[:space:]]*=/#&/" "$hd/etc/qemu.conf"
    done
    cat >>"$hd/etc/libvirtd.conf" <<EOF

# herd test bed, host h$i
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
listen_tcp = 1
listen_tls = 0
auth_tcp = "none"
listen_addr = "$addr"
log_outputs = "${TB_LIBVIRT_LOG:-3}:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >>"$hd/etc/qemu.conf" <<EOF

# herd test bed, host h$i: root-owned guests, no cgroups (two hosts would
# share one absolute cgroup and trip migration over it), no security driver.
cgroup_controllers = [ ]
user = "+0"
group = "+0"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
migration_address = "$addr"
migration_host = "$addr"
EOF
}

tb_write_herd_conf() {
    local i
    mkdir -p "$DIR/engine/state" || return 1
    cat >"$DIR/engine/engine.yaml" <<EOF
# herd-engine in the test bed's engine namespace ($NS_ENGINE).
# The API listens on the loopback of that namespace: run clients with
# "testbed.sh exec engine curl ..." (HERD_URL is set there).
state_dir: $DIR/engine/state
database: $DIR/engine/state/engine.db
agents:
  listen: tcp://$ENGINE_ADDR:$TB_AGENTS_PORT
  # CURVE keys of new hosts are approved at once (test bed only).
  enrollment: auto
api:
  listen: 127.0.0.1
  port: $TB_API_PORT
vm:
  firmware: /usr/share/qemu/qboot.rom
EOF
    for ((i = 1; i <= TB_HOSTS; i++)); do
        cat >"$DIR/h$i/agent.yaml" <<EOF
# herd-agent for test bed host h$i ($(tb_hostname "$i")); runs inside it.
engine: tcp://$ENGINE_ADDR:$TB_AGENTS_PORT
libvirt_uri: qemu:///system
host_id_file: $DIR/h$i/host-id
images_dir: $DIR/h$i/images
stats_interval: 2
EOF
    done
}

# tb_link NS I_NAME: veth "eth0" in NS, peer I_NAME in the bridge namespace.
tb_link() {
    local ns=$1 peer=$2 addr=$3
    ip -n "$ns" link set lo up &&
    ip -n "$ns" link add eth0 type veth peer name "$peer" netns "$NS_BR" &&
    ip -n "$ns" addr add "$addr/24" dev eth0 &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$NS_BR" link set "$peer" master br0 up
}

tb_up() {
    local n=$1 i ns addr pid kids t0 t1 deadline pending v st
    case "$n" in ''|*[!0-9]*) tb_die "up: N must be a number, got '$n'" ;; esac
    [ "$n" -ge 1 ] && [ "$n" -le $TB_MAX_HOSTS ] || tb_die "up: N must be 1..$TB_MAX_HOSTS"
    [ "$(id -u)" = 0 ] || tb_die "up: needs root (network namespaces)"
    for v in ip nsenter unshare tini libvirtd virtlogd virsh; do
        command -v "$v" >/dev/null || tb_die "up: '$v' is not installed"
    done
    if [ -d "$DIR" ] && [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/.herd-testbed" ]; then
        tb_die "$DIR exists, is not empty and is not a test bed dir: refusing to wipe it"
    fi
    tb_lock
    if [ -f "$STATE" ]; then
        tb_load
        for ((i = 1; i <= ${TB_HOSTS:-0}; i++)); do
            read -r pid st <<<"$(tb_pid_of "H${i}_INIT")"
            tb_alive "${pid:-}" "${st:-}" &&
                tb_die "a test bed is up in $DIR (h$i runs): 'testbed.sh down' first"
        done
        tb_log "stale state in $DIR: cleaning it up first"
        (tb_down) || true
    fi
    find "$DIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} + &&
        touch "$DIR/.herd-testbed" || tb_die "cannot prepare $DIR"
    t0=$(tb_now_ms)

    tb_rec TB_DIR "$DIR"
    tb_rec TB_ID "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
    tb_rec TB_PREFIX "herd-tb-$TB_ID"
    # 10.213.X.0/24, X from the run id; it exists only in our namespaces.
    tb_rec TB_NET "10.213.$(( 16#${TB_ID:0:2} ))"
    tb_rec TB_HOSTS "$n"
    tb_rec TB_CACHE "$TB_CACHE"
    tb_rec ENGINE_ADDR "$TB_NET.2"
    # Which cgroup hierarchies to mount again inside each host.
    awk '$3 == "cgroup" || $3 == "cgroup2" { print $2, $3, $4 }' \
        /proc/self/mounts >"$DIR/cgroups"
    {
        echo "127.0.0.1 localhost"
        echo "$ENGINE_ADDR engine"
        for ((i = 1; i <= n; i++)); do
            echo "$TB_NET.$((10 + i)) $(tb_hostname "$i") h$i"
        done
    } >"$DIR/hosts"
    printf '# herd test bed: no DNS inside the test bed\nnameserver 127.0.0.1\n' \
        >"$DIR/resolv.conf"

    # Network: bridge namespace first, then the engine's, then the hosts'.
    tb_rec NS_BR "$TB_PREFIX-br"
    ip netns add "$NS_BR" || tb_fail_up "ip netns add $NS_BR"
    ip -n "$NS_BR" link set lo up &&
    ip -n "$NS_BR" link add br0 type bridge &&
    ip -n "$NS_BR" link set br0 up || tb_fail_up "bridge in $NS_BR"
    tb_rec NS_ENGINE "$TB_PREFIX-engine"
    ip netns add "$NS_ENGINE" || tb_fail_up "ip netns add $NS_ENGINE"
    tb_link "$NS_ENGINE" en "$ENGINE_ADDR" || tb_fail_up "link of $NS_ENGINE"
    mkdir -p "$DIR/engine"
    for ((i = 1; i <= n; i++)); do
        ns="$TB_PREFIX-h$i"
        addr="$TB_NET.$((10 + i))"
        tb_rec "H${i}_NS" "$ns"
        tb_rec "H${i}_ADDR" "$addr"
        ip netns add "$ns" || tb_fail_up "ip netns add $ns"
        tb_link "$ns" "h$i" "$addr" || tb_fail_up "link of $ns"
        mkdir -p "$DIR/h$i/run" "$DIR/h$i/log" "$DIR/h$i/images" ||
            tb_fail_up "mkdir $DIR/h$i"
        tb_write_libvirt_conf "$i" "$addr" || tb_fail_up "libvirt config of h$i"
    done
    tb_write_herd_conf || tb_fail_up "herd configs"

    # Hosts: tini is the init of each PID namespace; its child runs
    # `_host-init` (mounts, daemons, then waits).
    for ((i = 1; i <= n; i++)); do
        v="H${i}_NS"
        ip netns exec "${!v}" unshare -m -u -p -f --mount-proc \
            --propagation slave tini -s -- "$TB_SELF" _host-init "$DIR" "$i" \
            </dev/null >"$DIR/h$i/init.log" 2>&1 9<&- &
        pid=$!
        tb_rec_pid "H${i}_UNSHARE" "$pid"
    done
    # The init is the child of unshare; record it as soon as it exists.
    deadline=$(( $(tb_now_ms) + 10000 ))
    for ((i = 1; i <= n; i++)); do
        v="H${i}_UNSHARE"
        pid=${!v}
        kids=""
        while [ -z "$kids" ]; do
            kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
            [ -n "$kids" ] && break
            kill -0 "$pid" 2>/dev/null || tb_fail_up "h$i: unshare exited: $(tail -n 5 "$DIR/h$i/init.log")"
            [ "$(tb_now_ms)" -ge "$deadline" ] && tb_fail_up "h$i: no init after 10 s"
            sleep 0.01
        done
        set -- $kids
        tb_rec_pid "H${i}_INIT" "$1"
    done
    # Ready when each host's own libvirtd answers inside it.
    deadline=$(( $(tb_now_ms) + 30000 ))
    pending=$(seq 1 "$n")
    while [ -n "$pending" ]; do
        local still=""
        for i in $pending; do
            if [ -e "$DIR/h$i/failed" ]; then
                tb_fail_up "h$i: $(cat "$DIR/h$i/failed"); $(tail -n 5 "$DIR/h$i/init.log")"
            fi
            read -r pid st <<<"$(tb_pid_of "H${i}_INIT")"
            tb_alive "$pid" "$st" ||
                tb_fail_up "h$i: init exited: $(tail -n 5 "$DIR/h$i/init.log")"
            if [ -e "$DIR/h$i/ready" ] &&
               timeout 10 nsenter -t "$pid" -n -m -u -p -- \
                   virsh -q -c qemu:///system hostname >/dev/null 2>&1; then
                continue
            fi
            still="$still $i"
        done
        pending=$still
        [ -z "$pending" ] && break
        [ "$(tb_now_ms)" -ge "$deadline" ] &&
            tb_fail_up "libvirtd did not answer within 30 s on:$pending"
        sleep 0.05
    done
    # First run on this machine: probe QEMU on every host now (in parallel,
    # ~1 s) and keep the result, so later runs start with a warm cache.
    if ! ls "$TB_CACHE"/*.xml >/dev/null 2>&1; then
        local -a warm=()
        for ((i = 1; i <= n; i++)); do
            read -r pid st <<<"$(tb_pid_of "H${i}_INIT")"
            timeout 60 nsenter -t "$pid" -n -m -u -p -- \
                virsh -q -c qemu:///system capabilities >/dev/null 2>&1 9<&- &
            warm+=($!)
        done
        wait "${warm[@]}"
        tb_save_caps
    fi
    t1=$(tb_now_ms)
    tb_rec TB_UP_MS "$((t1 - t0))"
    tb_log "up: $n hosts in $((t1 - t0)) ms; net $TB_NET.0/24, engine $ENGINE_ADDR, dir $DIR"
    for ((i = 1; i <= n; i++)); do
        v="H${i}_ADDR"
        tb_log "  h$i $(tb_hostname "$i") ${!v}"
    done
}

tb_fail_up() {
    tb_log "up failed: $*"
    tb_log "cleaning up (logs kept in $DIR)"
    (tb_down) || true
    exit 1
}

# tb_save_caps: copy h1's QEMU capabilities cache to $TB_CACHE when it
# differs (libvirt itself re-probes when QEMU or libvirt changed).
tb_save_caps() {
    local pid st f src
    read -r pid st <<<"$(tb_pid_of H1_INIT)"
    tb_alive "${pid:-}" "${st:-}" || return 0
    src="/proc/$pid/root/var/cache/libvirt/qemu/capabilities"
    for f in "$src"/*.xml; do
        [ -f "$f" ] || continue
        cmp -s "$f" "$TB_CACHE/${f##*/}" && continue
        mkdir -p "$TB_CACHE" &&
            cp "$f" "$TB_CACHE/.${f##*/}.$$" &&
            mv -f "$TB_CACHE/.${f##*/}.$$" "$TB_CACHE/${f##*/}"
    done
}

# ---- inside a host (tini's child) -----------------------------------------

tb_host_init() {
    DIR=$1
    local i=$2 hd="$1/h$2" d
    STATE="$DIR/state"
    tb_load || { echo "no state in $DIR" >&2; exit 1; }
    fail() { echo "$*" >"$hd/failed"; echo "h$i: $*" >&2; exit 1; }
    hostname "$(tb_hostname "$i")" || fail "hostname"
    # `ip netns exec` mounted a fresh /sys: the cgroup hierarchies are gone.
    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup || fail "tmpfs on /sys/fs/cgroup"
    while read -r d t o; do
        mkdir -p "$d" && mount -t "$t" -o "$o" "$t" "$d" || fail "mount $t $d ($o)"
    done <"$DIR/cgroups"
    for d in /run/libvirt /var/log/libvirt /etc/libvirt /var/lib/libvirt \
             /var/cache/libvirt; do
        mkdir -p "$d" || fail "mkdir $d"
    done
    mount --bind "$hd/run" /run/libvirt || fail "bind /run/libvirt"
    mount --bind "$hd/log" /var/log/libvirt || fail "bind /var/log/libvirt"
    mount --bind "$hd/etc" /etc/libvirt || fail "bind /etc/libvirt"
    mount -t tmpfs -o mode=755 tmpfs /var/lib/libvirt || fail "tmpfs /var/lib/libvirt"
    mount -t tmpfs -o mode=755 tmpfs /var/cache/libvirt || fail "tmpfs /var/cache/libvirt"
    mkdir -p /var/lib/libvirt/images /var/lib/libvirt/qemu /var/lib/libvirt/boot
    if ls "$TB_CACHE"/*.xml >/dev/null 2>&1; then
        mkdir -p /var/cache/libvirt/qemu/capabilities &&
            cp "$TB_CACHE"/*.xml /var/cache/libvirt/qemu/capabilities/
    fi
    mount --bind "$DIR/hosts" /etc/hosts || fail "bind /etc/hosts"
    mount --bind "$DIR/resolv.conf" /etc/resolv.conf || fail "bind /etc/resolv.conf"

    stop() {
        local f p n
        for f in /run/libvirt/libvirtd.pid /run/libvirt/virtlogd.pid; do
            [ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
        done
        for ((n = 0; n < 40; n++)); do
            p=0
            for f in /run/libvirt/libvirtd.pid /run/libvirt/virtlogd.pid; do
                [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && p=1
            done
            [ $p = 0 ] && break
            sleep 0.05
        done
        # Whatever is left (QEMU, a stuck daemon) dies with this PID
        # namespace when its init, tini, exits after us.
        exit 0
    }
    trap stop TERM INT
    virtlogd -d -p /run/libvirt/virtlogd.pid || fail "virtlogd did not start"
    libvirtd -d --listen -p /run/libvirt/libvirtd.pid || fail "libvirtd did not start"
    : >"$hd/ready"
    sleep infinity &
    wait
}

# ---- herd daemons -----------------------------------------------------------

# tb_hosts_arg [HOST...]: host numbers named, or all.
tb_hosts_arg() {
    local h
    if [ $# -eq 0 ]; then
        seq 1 "$TB_HOSTS"
        return
    fi
    for h in "$@"; do
        tb_member "$h"
        [ "$M_KIND" = host ] || tb_die "'$h' is not a host"
        echo "$M_I"
    done
}

tb_start_agents() {
    local i pid st npid kids deadline v
    [ -x "$B/herd-agent" ] || tb_die "start-agents: $B/herd-agent is not built (make $B/herd-agent)"
    for i in $(tb_hosts_arg "$@"); do
        read -r pid st <<<"$(tb_pid_of "AGENT${i}_PID")"
        if tb_alive "${pid:-}" "${st:-}"; then
            tb_log "h$i: agent already runs (pid $pid)"
            continue
        fi
        read -r pid st <<<"$(tb_pid_of "H${i}_INIT")"
        tb_alive "${pid:-}" "${st:-}" || tb_die "host h$i is not running"
        # The host's CURVE keys, from the running engine's public key.
        if [ ! -s "$DIR/h$i/keys/agent.key" ]; then
            [ -s "$DIR/engine/state/keys/engine.pub" ] ||
                tb_die "start-agents: no engine key yet (start-engine first)"
            "$B/herd-agent-setup" --engine "$ENGINE_ADDR:$TB_AGENTS_PORT" \
                --engine-key-file "$DIR/engine/state/keys/engine.pub" --yes \
                --config "$DIR/h$i/agent.yaml" --key-dir "$DIR/h$i/keys" \
                >>"$DIR/h$i/agent.log" 2>&1 ||
                tb_die "h$i: herd-agent-setup failed (see $DIR/h$i/agent.log)"
        fi
        tb_env
        nsenter -t "$pid" -n -m -u -p --wd="$DIR/h$i" -- \
            env "${TB_ENV[@]}" TB_HOST="h$i" "$B/herd-agent" -c "$DIR/h$i/agent.yaml" \
            </dev/null >>"$DIR/h$i/agent.log" 2>&1 9<&- &
        npid=$!
        # nsenter forks to enter the PID namespace: the agent is its child.
        deadline=$(( $(tb_now_ms) + 5000 ))
        kids=""
        while [ -z "$kids" ] && [ "$(tb_now_ms)" -lt "$deadline" ]; do
            kids=$(cat "/proc/$npid/task/$npid/children" 2>/dev/null)
            kill -0 "$npid" 2>/dev/null || break
            [ -z "$kids" ] && sleep 0.01
        done
        tb_rec_pid "AGENT${i}_NSENTER" "$npid"
        if [ -n "$kids" ]; then
            # shellcheck disable=SC2086
            set -- $kids
            tb_rec_pid "AGENT${i}_PID" "$1"
        fi
        sleep 0.2
        v="AGENT${i}_PID"
        read -r pid st <<<"$(tb_pid_of "$v")"
        tb_alive "${pid:-}" "${st:-}" ||
            tb_die "h$i: herd-agent exited at start-up: $(tail -n 10 "$DIR/h$i/agent.log")"
        tb_log "h$i: herd-agent pid $pid (log $DIR/h$i/agent.log)"
    done
}

tb_stop_agents() {
    local i keys=()
    for i in $(tb_hosts_arg "$@"); do
        keys+=("AGENT${i}_PID")
    done
    tb_stop_pids "$TB_STOP_TIMEOUT" "${keys[@]}"
    keys=()
    for i in $(tb_hosts_arg "$@"); do
        keys+=("AGENT${i}_NSENTER")
    done
    tb_stop_pids 2 "${keys[@]}"
}

tb_start_engine() {
    local pid st
    [ -x "$B/herd-engine" ] || tb_die "start-engine: $B/herd-engine is not built (make $B/herd-engine)"
    read -r pid st <<<"$(tb_pid_of ENGINE_PID)"
    if tb_alive "${pid:-}" "${st:-}"; then
        tb_log "engine already runs (pid $pid)"
        return 0
    fi
    tb_ns_exists "$NS_ENGINE" || tb_die "namespace $NS_ENGINE does not exist"
    tb_env
    # Entering network and mount namespaces needs no fork: $! is the engine.
    tb_engine_wrap
    (cd "$DIR/engine" && exec "${TB_ENGINE_WRAP[@]}" \
        env "${TB_ENV[@]}" TB_HOST=engine "$B/herd-engine" -c "$DIR/engine/engine.yaml" \
        </dev/null >>"$DIR/engine/engine.log" 2>&1) 9<&- &
    pid=$!
    tb_rec_pid ENGINE_PID "$pid"
    sleep 0.3
    read -r pid st <<<"$(tb_pid_of ENGINE_PID)"
    tb_alive "$pid" "$st" ||
        tb_die "herd-engine exited at start-up: $(tail -n 10 "$DIR/engine/engine.log")"
    tb_log "herd-engine pid $pid (api 127.0.0.1:$TB_API_PORT and agents $ENGINE_ADDR:$TB_AGENTS_PORT in $NS_ENGINE; log $DIR/engine/engine.log)"
}

tb_stop_engine() { tb_stop_pids "$TB_STOP_TIMEOUT" ENGINE_PID; }

# ---- down -------------------------------------------------------------------

tb_down() {
    local i keys=() ns pids p t0 v left
    if ! tb_load; then
        tb_log "down: nothing recorded in $DIR"
        return 0
    fi
    t0=$(tb_now_ms)
    TB_HOSTS=${TB_HOSTS:-0}
    # Herd daemons first, so they see their libvirtd/engine go away last.
    keys=(ENGINE_PID)
    for ((i = 1; i <= TB_HOSTS; i++)); do keys+=("AGENT${i}_PID"); done
    tb_stop_pids "$TB_STOP_TIMEOUT" "${keys[@]}"
    keys=()
    for ((i = 1; i <= TB_HOSTS; i++)); do keys+=("AGENT${i}_NSENTER"); done
    tb_stop_pids 2 "${keys[@]}"
    tb_save_caps
    # Hosts: SIGTERM to each init (tini) reaches _host-init, which stops
    # libvirtd and virtlogd by pidfile; when tini exits, the kernel kills
    # whatever else is left in that PID namespace (QEMU, `exec` leftovers).
    keys=()
    for ((i = 1; i <= TB_HOSTS; i++)); do keys+=("H${i}_INIT"); done
    tb_stop_pids "$TB_STOP_TIMEOUT" "${keys[@]}"
    keys=()
    for ((i = 1; i <= TB_HOSTS; i++)); do keys+=("H${i}_UNSHARE"); done
    tb_stop_pids 2 "${keys[@]}"
    # Anything still inside one of our network namespaces was started in
    # it by us or a test (`exec engine ...`): kill it by pid, then delete.
    local -a all_ns=()
    [ -n "${NS_ENGINE:-}" ] && all_ns+=("$NS_ENGINE")
    for ((i = 1; i <= TB_HOSTS; i++)); do
        v="H${i}_NS"
        [ -n "${!v:-}" ] && all_ns+=("${!v}")
    done
    [ -n "${NS_BR:-}" ] && all_ns+=("$NS_BR")
    for ns in "${all_ns[@]}"; do
        tb_ns_exists "$ns" || continue
        pids=$(ip netns pids "$ns" 2>/dev/null)
        if [ -n "$pids" ]; then
            tb_log "down: killing leftover processes in $ns: $(echo $pids)"
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null
        fi
    done
    if [ -n "${NS_BR:-}" ] && tb_ns_exists "$NS_BR"; then
        ip -n "$NS_BR" link del en 2>/dev/null
        for ((i = 1; i <= TB_HOSTS; i++)); do
            ip -n "$NS_BR" link del "h$i" 2>/dev/null
        done
    fi
    left=""
    for ns in "${all_ns[@]}"; do
        tb_ns_exists "$ns" || continue
        ip netns del "$ns" 2>/dev/null || left="$left $ns"
    done
    mv -f "$STATE" "$STATE.down"
    rm -f "$DIR"/h*/ready "$DIR"/h*/failed
    [ -n "$left" ] && tb_log "down: could not delete namespaces:$left"
    tb_log "down: done in $(( $(tb_now_ms) - t0 )) ms (logs kept in $DIR)"
    [ -z "$left" ]
}

# ---- status -------------------------------------------------------------------

tb_status() {
    local i v pid st ns a lv ag
    tb_load || { echo "no test bed in $DIR"; return 1; }
    echo "test bed $TB_ID in $DIR: net $TB_NET.0/24, $TB_HOSTS hosts"
    tb_ns_exists "$NS_ENGINE" && ns=ok || ns=missing
    read -r pid st <<<"$(tb_pid_of ENGINE_PID)"
    if tb_alive "${pid:-}" "${st:-}"; then a="herd-engine pid $pid"; else a="no herd-engine"; fi
    printf '  %-7s %-24s %-14s ns %-7s %s\n' engine "$NS_ENGINE" "$ENGINE_ADDR" "$ns" "$a"
    for ((i = 1; i <= TB_HOSTS; i++)); do
        v="H${i}_NS"; ns=${!v}
        v="H${i}_ADDR"; a=${!v}
        read -r pid st <<<"$(tb_pid_of "H${i}_INIT")"
        if tb_alive "${pid:-}" "${st:-}"; then
            lv=$(timeout 5 nsenter -t "$pid" -n -m -u -p -- \
                virsh -q -c qemu:///system hostname 2>/dev/null) &&
                lv="libvirtd ok ($lv)" || lv="libvirtd NOT answering"
            lv="init $pid, $lv"
        else
            lv="DOWN"
        fi
        read -r pid st <<<"$(tb_pid_of "AGENT${i}_PID")"
        if tb_alive "${pid:-}" "${st:-}"; then ag=", herd-agent pid $pid"; else ag=""; fi
        printf '  %-7s %-24s %-14s %s%s\n' "h$i" "$ns" "$a" "$lv" "$ag"
    done
}

# ---- main -----------------------------------------------------------------------

usage() {
    sed -n '2,/^$/p' "$TB_SELF" | sed 's/^# \{0,1\}//'
    exit 2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    up)
        [ $# -ge 1 ] || usage
        tb_set_dir "${2:-}"
        tb_up "$1"
        ;;
    down)
        tb_set_dir "${1:-}"
        [ -d "$DIR" ] && tb_lock
        tb_down
        ;;
    status)
        tb_set_dir "${1:-}"
        tb_status
        ;;
    exec)
        [ $# -ge 2 ] || usage
        tb_set_dir
        tb_load || tb_die "no test bed in $DIR"
        tb_enter "$@"
        ;;
    addr)
        [ $# -eq 1 ] || usage
        tb_set_dir
        tb_load || tb_die "no test bed in $DIR"
        tb_member "$1"
        [ -n "$M_ADDR" ] || tb_die "$1 has no address"
        echo "$M_ADDR"
        ;;
    start-agents|stop-agents|start-engine|stop-engine)
        tb_set_dir
        [ -d "$DIR" ] && tb_lock
        tb_load || tb_die "no test bed in $DIR"
        case "$cmd" in
            start-agents) tb_start_agents "$@" ;;
            stop-agents) tb_stop_agents "$@" ;;
            start-engine) tb_start_engine ;;
            stop-engine) tb_stop_engine ;;
        esac
        ;;
    _host-init)
        tb_host_init "$@"
        ;;
    -h|--help|help|'') usage ;;
    *) tb_log "unknown command '$cmd'"; usage ;;
esac
