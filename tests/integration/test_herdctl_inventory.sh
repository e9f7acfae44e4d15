#!/bin/bash
# herdctl datacenter and cluster: create a data center and a cluster in it,
# list and show them (tables and -o json, checked against the REST API),
# set the cluster's scheduling policy, its properties and its migration
# settings, rename, remove; the errors: an unknown name (1, named), bad
# arguments (2, the option named, nothing sent), removing what still holds
# something (1 with the engine's reason). An engine alone is enough: a
# host waiting for approval (a hello from zmq_hello) stands in for an
# agent's.
. "$(dirname "$0")/lib.sh"
HELLO="$B/tests/tools/zmq_hello"
ENG_ENROLLMENT=approve
test_init
[ -x "$HELLO" ] || fail "$HELLO is not built"
engine_start

# hj ARGS...: herdctl -o json that must succeed; its JSON on stdout.
hj() {
    local out rc
    out=$("$B/herdctl" --url "$HERD_URL" -o json "$@" 2>"$W/hj.err") && rc=0 || rc=$?
    [ "$rc" = 0 ] || fail "herdctl -o json $* exited $rc: $(cat "$W/hj.err")"
    printf '%s' "$out" | jq -e . >/dev/null || fail "herdctl -o json $*: not JSON: $out"
    printf '%s' "$out"
}

# ---- the defaults are visible ---------------------------------------------------
out=$(ctl datacenter list) || exit 1
assert_match "$out" '^NAME +STATUS +CLUSTERS +DESCRIPTION +ID' "datacenter list header"
assert_match "$out" $'\n''Default +up +1 ' "datacenter list: Default holds one cluster"
DEF_DC=$(jget "$(api_ok GET /datacenters/Default)" .id)
out=$(ctl clusters list) || exit 1
assert_match "$out" $'\n''Default +Default ' "cluster list: Default in data center Default"

# ---- create ------------------------------------------------------------------
out=$(ctl datacenter create dc-east --description "east wing") || exit 1
assert_contains "$out" "Data center dc-east added" "datacenter create"
dc=$(api_ok GET /datacenters/dc-east) || exit 1
DC_ID=$(jget "$dc" .id)
assert_match "$DC_ID" '^[0-9a-f-]{36}$' "new data center id"
assert_eq "east wing" "$(jget "$dc" .description)" "data center description (API)"
assert_contains "$out" "$DC_ID" "datacenter create prints the id"

j=$(hj cluster create web --datacenter dc-east --description "web tier" \
    --cpu-type "Intel Skylake Family" --overcommit 150) || exit 1
CL_ID=$(jget "$j" .id)
assert_eq web "$(jget "$j" .name)" "cluster create -o json: the API's answer"
c=$(api_ok GET "/clusters/$CL_ID") || exit 1
assert_eq "$DC_ID" "$(jget "$c" .data_center.id)" "cluster's data center (API)"
assert_eq "Intel Skylake Family" "$(jget "$c" .cpu.type)" "cluster CPU type (API)"
assert_eq 150 "$(jget "$c" .memory_policy.over_commit.percent)" "cluster overcommit (API)"
assert_eq "web tier" "$(jget "$c" .description)" "cluster description (API)"
# Without --datacenter a cluster lands in Default.
ctl cluster create spare >/dev/null || exit 1
assert_eq "$DEF_DC" "$(jget "$(api_ok GET /clusters/spare)" .data_center.id)" \
    "cluster without --datacenter"

# ---- list and show -------------------------------------------------------------
out=$(ctl datacenters list) || exit 1
assert_match "$out" $'\n''dc-east +up +1 +east wing +'"$DC_ID" "datacenter list row"
j=$(hj datacenter list) || exit 1
assert_eq "east wing" "$(jget "$j" '.data_center[] | select(.name == "dc-east") | .description')" \
    "datacenter list -o json"
out=$(ctl cluster list) || exit 1
assert_match "$out" '^NAME +DATACENTER +CPU_TYPE +OVERCOMMIT +DESCRIPTION +ID' "cluster list header"
assert_match "$out" $'\n''web +dc-east +Intel Skylake Family +150 % +web tier +'"$CL_ID" \
    "cluster list row names its data center"
j=$(hj cluster list) || exit 1
assert_eq "$DC_ID" "$(jget "$j" '.cluster[] | select(.name == "web") | .data_center.id')" \
    "cluster list -o json: data center link"
out=$(ctl datacenter show dc-east) || exit 1
assert_match "$out" 'Name: +dc-east' "datacenter show name"
assert_match "$out" 'Clusters: +web' "datacenter show lists its clusters"
out=$(ctl cluster show web) || exit 1
assert_match "$out" 'Data center: +dc-east \('"$DC_ID"'\)' "cluster show: data center"
assert_match "$out" 'Overcommit: +150 %' "cluster show: overcommit"
assert_match "$out" 'Policy: +none \(default properties\)' "cluster show: default policy"
assert_match "$out" 'Migration: +bandwidth auto, max downtime default' "cluster show: migration"
j=$(hj cluster show "$CL_ID") || exit 1
assert_eq web "$(jget "$j" .name)" "cluster show by id, -o json"
assert_eq none "$(jget "$j" .scheduling_policy.name)" "cluster show -o json: policy"

# ---- scheduling policy and migration ----------------------------------------------
out=$(ctl cluster update web --policy evenly_distributed \
      --policy-property HighUtilization=70 --migration-bandwidth 500) || exit 1
assert_contains "$out" "Cluster web updated" "cluster update"
c=$(api_ok GET "/clusters/$CL_ID") || exit 1
assert_eq evenly_distributed "$(jget "$c" .scheduling_policy.name)" "policy (API)"
assert_eq 70 "$(jget "$c" '.scheduling_policy.properties.property[] | select(.name == "HighUtilization") | .value')" \
    "HighUtilization (API)"
assert_eq 500 "$(jget "$c" .migration.bandwidth.custom_value)" "migration bandwidth (API)"
assert_eq custom "$(jget "$c" .migration.bandwidth.assignment_method)" "bandwidth assignment"
assert_eq 150 "$(jget "$c" .memory_policy.over_commit.percent)" "overcommit kept by update"
# A property alone keeps the policy and the other properties.
ctl cluster update web --policy-property CpuOverCommitDurationMinutes=5 \
    --max-downtime 300 >/dev/null || exit 1
c=$(api_ok GET "/clusters/$CL_ID") || exit 1
assert_eq evenly_distributed "$(jget "$c" .scheduling_policy.name)" "policy kept"
assert_eq "CpuOverCommitDurationMinutes=5,HighUtilization=70" \
    "$(jget "$c" '[.scheduling_policy.properties.property[] | "\(.name)=\(.value)"] | sort | join(",")')" \
    "properties merged"
assert_eq 500 "$(jget "$c" .migration.bandwidth.custom_value)" "bandwidth kept"
assert_eq 300 "$(jget "$c" .migration.max_downtime)" "max downtime (API)"
out=$(ctl cluster show web) || exit 1
assert_match "$out" 'Policy: +evenly_distributed \((HighUtilization=70, CpuOverCommitDurationMinutes=5|CpuOverCommitDurationMinutes=5, HighUtilization=70)\)' \
    "cluster show: policy and properties"
assert_match "$out" 'Migration: +bandwidth 500 Mbit/s, max downtime 300 ms' "cluster show: migration settings"
# NAME= drops a property; the engine checks names and ranges (exit 1, named).
ctl cluster update web --policy-property CpuOverCommitDurationMinutes= >/dev/null || exit 1
c=$(api_ok GET "/clusters/$CL_ID") || exit 1
assert_eq "HighUtilization=70" \
    "$(jget "$c" '[.scheduling_policy.properties.property[] | "\(.name)=\(.value)"] | join(",")')" \
    "property dropped"
assert_exit 1 "unknown policy property" herdctl cluster update web --policy-property Bogus=1
assert_contains "$OUT" "Bogus" "the engine names the unknown property"
assert_exit 1 "property out of range" herdctl cluster update web --policy-property HighUtilization=20
assert_contains "$OUT" "HighUtilization" "the engine names the property out of range"

# ---- rename --------------------------------------------------------------------
out=$(ctl cluster update web --name frontend --description "front tier") || exit 1
c=$(api_ok GET "/clusters/$CL_ID") || exit 1
assert_eq frontend "$(jget "$c" .name)" "cluster renamed (API)"
assert_eq "front tier" "$(jget "$c" .description)" "cluster description updated"
assert_eq "$DC_ID" "$(jget "$c" .data_center.id)" "data center kept by rename"
assert_eq evenly_distributed "$(jget "$c" .scheduling_policy.name)" "policy kept by rename"
ctl datacenter update "$DC_ID" --name dc-west >/dev/null || exit 1
assert_eq dc-west "$(jget "$(api_ok GET "/datacenters/$DC_ID")" .name)" "data center renamed"
assert_eq "east wing" "$(jget "$(api_ok GET "/datacenters/$DC_ID")" .description)" \
    "description kept by rename"
out=$(ctl cluster list) || exit 1
assert_match "$out" $'\n''frontend +dc-west ' "cluster list after the renames"
api_call GET /clusters/web
assert_eq 404 "$HTTP_STATUS" "old cluster name"

# ---- errors: the engine's (1) ---------------------------------------------------------
for cmd in "datacenter show no-such-dc" "datacenter update no-such-dc --name x" \
           "datacenter remove no-such-dc" "cluster show no-such-cl" \
           "cluster update no-such-cl --overcommit 120" "cluster remove no-such-cl"; do
    # shellcheck disable=SC2086
    assert_exit 1 "herdctl $cmd" herdctl $cmd
    assert_contains "$OUT" "no-such-" "herdctl $cmd names it"
    assert_contains "$OUT" "not found" "herdctl $cmd says why"
done
assert_exit 1 "cluster in an unknown data center" herdctl cluster create c2 --datacenter no-such-dc
assert_contains "$OUT" "no-such-dc" "unknown --datacenter named"
assert_exit 1 "duplicate data center" herdctl datacenter create dc-west
assert_exit 1 "duplicate cluster" herdctl cluster create frontend
assert_exit 1 "remove Default data center" herdctl datacenter remove Default
assert_contains "$OUT" "data center 'Default' still holds 2 cluster(s)" "the engine's reason (Default holds Default and spare)"
# A cluster holding a host: an unknown key's host (pending approval)
# moved into it.
HID=$(cat /proc/sys/kernel/random/uuid)
EKEY=$(engine_pubkey)
out=$("$HELLO" "tcp://127.0.0.1:$ZMQ_PORT" --engine-key "$EKEY" --host-id "$HID" 2>&1)
assert_contains "$out" "pending approval" "a host appears"
api_ok PUT "/hosts/$HID" '{"cluster": {"name": "frontend"}}' >/dev/null
assert_exit 1 "remove a cluster with a host" herdctl cluster remove frontend
assert_contains "$OUT" "cluster 'frontend' still holds 1 host(s)" "the engine's reason for the cluster"
api_call GET "/clusters/$CL_ID"
assert_eq 200 "$HTTP_STATUS" "the cluster is still there"
assert_exit 1 "remove a data center with a cluster" herdctl datacenter remove dc-west
assert_contains "$OUT" "cluster(s)" "the engine's reason for the data center"
api_ok PUT "/hosts/$HID" '{"cluster": {"name": "Default"}}' >/dev/null

# ---- errors: bad arguments (2), nothing sent ---------------------------------------------
before=$(api_ok GET /clusters) || exit 1
assert_exit 2 "bad --overcommit" herdctl cluster update frontend --overcommit lots
assert_contains "$OUT" "--overcommit" "names --overcommit"
assert_exit 2 "--overcommit out of range" herdctl cluster create c3 --overcommit 0
assert_contains "$OUT" "--overcommit" "names --overcommit (range)"
assert_exit 2 "bad --policy" herdctl cluster update frontend --policy fastest
assert_contains "$OUT" "--policy" "names --policy"
assert_exit 2 "bad --policy-property" herdctl cluster update frontend --policy-property HighUtilization
assert_contains "$OUT" "--policy-property" "names --policy-property"
assert_exit 2 "bad --migration-bandwidth" herdctl cluster update frontend --migration-bandwidth -5
assert_contains "$OUT" "--migration-bandwidth" "names --migration-bandwidth"
assert_exit 2 "bad --max-downtime" herdctl cluster update frontend --max-downtime 1s
assert_contains "$OUT" "--max-downtime" "names --max-downtime"
assert_exit 2 "missing value" herdctl cluster update frontend --cpu-type
assert_contains "$OUT" "--cpu-type" "names the option without a value"
assert_exit 2 "policy on create" herdctl cluster create c4 --policy none
assert_contains "$OUT" "--policy" "create does not take --policy"
assert_exit 2 "unknown option" herdctl datacenter create d2 --cpu-type x
assert_contains "$OUT" "--cpu-type" "datacenter create names the unknown option"
assert_exit 2 "update with nothing" herdctl cluster update frontend
assert_contains "$OUT" "nothing to change" "update without options"
assert_exit 2 "empty --name" herdctl datacenter update dc-west --name ""
assert_exit 2 "create without a name" herdctl cluster create
assert_exit 2 "show without a name" herdctl datacenter show
assert_exit 2 "extra argument" herdctl cluster remove frontend spare
assert_exit 2 "unknown verb" herdctl cluster frobnicate
assert_exit 2 "no verb" herdctl datacenter
after=$(api_ok GET /clusters) || exit 1
assert_eq "$before" "$after" "clusters after the bad-usage calls"
assert_exit 2 "unknown noun" herdctl frobnicate list
assert_contains "$OUT" "datacenter, cluster" "the noun list names the new nouns"
out=$(ctl help) || exit 1
assert_contains "$out" "HighUtilization" "help names the policy properties"
assert_contains "$out" "cluster update ID|NAME" "help shows cluster update"

# ---- remove ------------------------------------------------------------------------
j=$(hj cluster remove frontend) || exit 1
api_call GET "/clusters/$CL_ID"
assert_eq 404 "$HTTP_STATUS" "cluster removed"
out=$(ctl datacenter remove dc-west) || exit 1
assert_contains "$out" "Data center dc-west removed" "datacenter remove"
api_call GET "/datacenters/$DC_ID"
assert_eq 404 "$HTTP_STATUS" "data center removed"
ctl cluster remove spare >/dev/null || exit 1
out=$(ctl datacenter list) || exit 1
assert_not_contains "$out" "dc-west" "datacenter list after the removal"
assert_match "$out" $'\n''Default +up +1 ' "Default is back to one cluster"

test_done
