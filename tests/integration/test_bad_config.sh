#!/bin/bash
# Bad config files (unknown key, wrong type, bad YAML) make both daemons
# exit 1 with an error naming the file, the line and the key, both with
# --check-config and at a normal start; a good file passes --check-config.
. "$(dirname "$0")/lib.sh"
test_init
ZMQ_PORT=$(free_port)
API_PORT=$(free_port)
LIBVIRT_URI="test:///default"

# check_bad DAEMON FILE LINE KEY: both modes exit 1 naming FILE:LINE and KEY.
check_bad() {
    local d=$1 f=$2 line=$3 key=$4 mode rc out
    for mode in --check-config ""; do
        # shellcheck disable=SC2086
        out=$(timeout 20 $HERD_WRAP "$B/$d" -c "$f" $mode 2>&1)
        rc=$?
        [ "$rc" = 124 ] && fail "$d -c $f $mode did not exit within 20 s with a bad config"
        [ "$rc" = 1 ] || fail "$d -c $f $mode exited $rc, expected 1; output: $out"
        assert_contains "$out" "$f:$line" "$d $mode error (file:line)"
        [ -n "$key" ] && assert_contains "$out" "$key" "$d $mode error (key)"
        log "$d ${mode:-start}: $(printf '%s' "$out" | grep -m1 "$f")"
    done
}

# ---- engine
engine_write_conf
out=$(timeout 20 "$B/herd-engine" -c "$W/engine.yaml" --check-config 2>&1)
rc=$?
[ "$rc" = 0 ] || fail "herd-engine --check-config on a good file exited $rc: $out"

f="$W/eng-unknown.yaml"
printf 'log:\n  level: info\napi:\n  listen: 127.0.0.1\n  prot: 8080\n' >"$f"
check_bad herd-engine "$f" 5 prot

f="$W/eng-type.yaml"
printf 'api:\n  listen: 127.0.0.1\n  port: eighty\n' >"$f"
check_bad herd-engine "$f" 3 port

f="$W/eng-range.yaml"
printf 'vm:\n  shutdown_timeout: -5\n' >"$f"
check_bad herd-engine "$f" 2 shutdown_timeout

f="$W/eng-yaml.yaml"
printf 'log:\n  level: info\napi: [unclosed\n  port: 1\n' >"$f"
check_bad herd-engine "$f" "" ""
out=$("$B/herd-engine" -c "$f" --check-config 2>&1)
assert_match "$out" "$f:[0-9]+" "herd-engine bad-YAML error names a line"

f="$W/missing.yaml"
out=$(timeout 20 "$B/herd-engine" -c "$f" --check-config 2>&1)
rc=$?
assert_eq 1 "$rc" "herd-engine exit status with a missing config file"
assert_contains "$out" "$f" "herd-engine missing-file error"

# ---- agent
agent_write_conf
out=$(timeout 20 "$B/herd-agent" -c "$W/agent.yaml" --check-config 2>&1)
rc=$?
[ "$rc" = 0 ] || fail "herd-agent --check-config on a good file exited $rc: $out"

f="$W/agt-unknown.yaml"
printf 'engine: tcp://127.0.0.1:%s\nengin: tcp://127.0.0.1:1\n' "$ZMQ_PORT" >"$f"
check_bad herd-agent "$f" 2 engin

f="$W/agt-type.yaml"
printf 'engine: tcp://127.0.0.1:%s\nstats_interval: often\n' "$ZMQ_PORT" >"$f"
check_bad herd-agent "$f" 2 stats_interval

f="$W/agt-nested.yaml"
printf 'engine: tcp://127.0.0.1:%s\nlog:\n  levle: debug\n' "$ZMQ_PORT" >"$f"
check_bad herd-agent "$f" 3 levle

f="$W/agt-yaml.yaml"
printf 'engine: "tcp://127.0.0.1:1\nworkers: 2\n' >"$f"
check_bad herd-agent "$f" "" ""
out=$("$B/herd-agent" -c "$f" --check-config 2>&1)
assert_match "$out" "$f:[0-9]+" "herd-agent bad-YAML error names a line"

test_done
