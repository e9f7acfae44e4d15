#!/bin/bash
# REST benchmark: requests per second and latency percentiles (p50, p99)
# of listing all VMs (GET /ovirt-engine/api/vms, JSON, over HTTPS with a
# bearer token) with 1,000 and with 100,000 VMs in the store. Prints the
# figures; asserts nothing.
#
# VMs are inserted straight into the engine's SQLite file (schema made by a
# first engine start) so that populating takes seconds. Load from wrk(1).
# REST_BENCH_SIZES ("1000 100000"), REST_BENCH_SECONDS (10; at least 30
# for lists over 10,000 VMs) and REST_BENCH_CONNS (4; 1 for lists over
# 10,000 VMs, which take seconds each on the engine's one loop) tune it;
# REST_BENCH_XML=1 also measures XML.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
export B
SIZES=${REST_BENCH_SIZES:-"1000 100000"}
SECS=${REST_BENCH_SECONDS:-10}
CONNS=${REST_BENCH_CONNS:-4}
command -v wrk >/dev/null || { echo "rest_list: wrk is not installed (scripts/deps.sh)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "rest_list: sqlite3 is not installed" >&2; exit 1; }

# shellcheck source=../tests/integration/lib.sh
. tests/integration/lib.sh
TEST_NAME=rest_list
ENG_LOG_LEVEL=warn
ENG_TOKEN_LIFETIME=86400
test_init
RESULTS=()

populate() {    # N: exactly N VMs named bench-NNNNNN
    sqlite3 "$W/engine/engine.db" <<SQL
PRAGMA journal_mode = WAL;
DELETE FROM vms;
INSERT INTO vms (id, name, description, cluster_id, memory_bytes, sockets,
                 cores, threads, disks, nics, display_type, ha, ha_priority,
                 pinned_host_id, external, created_ms, status, host_id,
                 start_time_ms, status_time_ms, display_port, display_address)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
SELECT printf('%08x-0000-4000-8000-%012x', i, i), printf('bench-%06d', i),
       'benchmark VM', (SELECT id FROM clusters WHERE name = 'Default'),
       67108864, 1, 1, 1,
       '[{"id":"' || printf('%08x-0000-4000-9000-%012x', i, i) ||
       '","size_bytes":1073741824,"interface":"virtio","format":"cow","bootable":true,"path":""}]',
       '[{"name":"nic1","mac":"56:6f:00:00:00:01","network":"","bridge":"","model":"virtio"}]',
       'vnc', 0, 0, NULL, 0, 0, 'down', NULL, 0, 0, 0, ''
FROM n;
SQL
}

engine_start
engine_stop
for n in $SIZES; do
    populate "$n" || fail "cannot populate $n VMs"
    engine_start
    tok=$(curl -s --data-urlencode grant_type=password --data-urlencode scope=ovirt-app-api \
        --data-urlencode username=admin@internal --data-urlencode "password=$ADMIN_PW" \
        "$HERD_URL/ovirt-engine/sso/oauth/token" | jq -r .access_token)
    got=$(curl -s -H "Authorization: Bearer $tok" -H 'Accept: application/json' "$API/vms" |
          jq '.vm | length')
    [ "$got" = "$n" ] || fail "GET /vms listed $got VMs, expected $n"
    formats="json"
    [ "${REST_BENCH_XML:-0}" = 1 ] && formats="json xml"
    conns=$CONNS secs=$SECS
    if [ "$n" -gt 10000 ]; then
        conns=1
        [ "$secs" -lt 30 ] && secs=30
    fi
    for fmt in $formats; do
        bytes=$(curl -s -H "Authorization: Bearer $tok" -H "Accept: application/$fmt" "$API/vms" | wc -c)
        out=$(wrk -t 1 -c "$conns" -d "${secs}s" --timeout 120s --latency \
            -H "Authorization: Bearer $tok" -H "Accept: application/$fmt" "$API/vms" 2>&1)
        rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {print $2}')
        p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
        p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
        reqs=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
        line=$(printf 'GET /vms %-4s %7d VMs (%s bytes): %8s req/s  p50 %8s  p99 %8s  (%s requests, %d connections, %d s)' \
            "$fmt" "$n" "$bytes" "$rps" "$p50" "$p99" "$reqs" "$conns" "$secs")
        RESULTS+=("$line")
        printf '>>> %s\n' "$line"
    done
    engine_stop
done
echo
echo "REST list benchmark (HTTPS, bearer token, wrk):"
for r in "${RESULTS[@]}"; do echo "  $r"; done
test_done
