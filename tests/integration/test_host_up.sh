#!/bin/bash
# A host comes Up in the engine with the capabilities a user can check
# against the machine: hostname, CPU count (nproc), memory (/proc/meminfo)
# and the libvirt version (virsh version).
. "$(dirname "$0")/lib.sh"
standard_setup

j=$(api_ok GET "/hosts/$HOST_ID") || exit 1
log "host: $(printf '%s' "$j" | head -c 3000)"
[ "$(jget "$j" '.host | type')" = array ] && j=$(printf '%s' "$j" | jq -c '.host[0]')
assert_eq "$HOST_ID" "$(jget "$j" .id)" "host id"
assert_eq up "$(jget "$j" .status)" "host status"

# The host list has exactly this host.
l=$(api_ok GET /hosts) || exit 1
assert_eq 1 "$(json_count "$l" host)" "number of hosts in GET /hosts"
assert_eq "$HOST_ID" "$(jget "$l" '.host[0].id')" "GET /hosts id"

# Hostname: the engine names the host after it, or reports it as address.
hn=$(hostname)
case " $(jget "$j" .name) $(jget "$j" .address) $(jget "$j" '.caps.hostname // .hello.hostname // .hostname') " in
    *" $hn "*|*" $hn."*) ;;
    *) fail "hostname '$hn' is neither the host's name '$(jget "$j" .name)' nor its address '$(jget "$j" .address)'" ;;
esac

# CPU count: a count field, or sockets * cores * threads.
cpus=$(first_num "$j" .cpu_count .cpu.count .caps.cpu_count \
    '.hardware_information.cpu_count' \
    '((.cpu.topology.sockets|tonumber) * (.cpu.topology.cores|tonumber) * (.cpu.topology.threads|tonumber))')
assert_eq "$(nproc)" "$cpus" "host CPU count (nproc)"

# Memory: bytes, equal to MemTotal (within 1 MiB: libvirt and /proc agree).
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
mem=$(first_num "$j" .memory .memory_bytes .caps.memory_bytes .max_scheduling_memory)
[ -n "$mem" ] || fail "host JSON has no memory figure"
diff=$(( mem - mem_kib * 1024 )); diff=${diff#-}
[ "$diff" -le 1048576 ] ||
    fail "host memory $mem bytes differs from /proc/meminfo MemTotal $((mem_kib * 1024)) bytes"

# libvirt version as virsh reports the library.
lv=$(virsh_ version | awk '/Using library:/ {print $NF}')
lvj=$(jget "$j" '.libvirt_version.full_version // .libvirt_version // .caps.libvirt_version')
if [ -z "$lvj" ]; then
    lvj=$(jget "$j" '"\(.libvirt_version.major).\(.libvirt_version.minor).\(.libvirt_version.build)"')
fi
assert_contains "$lvj" "$lv" "host libvirt version (virsh: $lv)"

# herdctl shows the same host as up.
out=$(ctl host list) || exit 1
assert_contains "$out" "up" "herdctl host list"
out=$(ctl host show "$HOST_ID") || exit 1
assert_contains "$out" "$HOST_ID" "herdctl host show"

# An engine event says the host came up.
ev=$(api_ok GET "/events?max=100") || exit 1
n=$(printf '%s' "$ev" | jq --arg h "$HOST_ID" '[.event[]? | select(.host.id == $h or (.description | test("up"; "i")))] | length')
assert_gt "$n" 0 "events about host $HOST_ID"

test_done
