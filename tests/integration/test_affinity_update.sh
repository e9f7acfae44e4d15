#!/bin/bash
# Changing an affinity group: PUT /clusters/{id}/affinitygroups/{gid}
# (name, positive, enforcing, the VM list replaced), POST .../{gid}/vms and
# DELETE .../{gid}/vms/{vm} (one VM), and herdctl affinity update|add-vm|
# remove-vm, each checked against GET; refusals (unknown VM named, a name
# taken, an unknown field, a VM added twice or removed when not a member)
# leave the group as it was; events name the user. An engine alone is
# enough (VMs are created down); that the scheduler follows the change at
# the next decision is proved by test_eng_migrate
# (test_affinity_update_next_pick).
. "$(dirname "$0")/lib.sh"
test_init
engine_start

for v in a1 a2 a3; do
    api_ok POST /vms "{\"name\": \"$v\", \"memory\": \"67108864\"}" >/dev/null
done
A1=$(vm_id a1)
A2=$(vm_id a2)
A3=$(vm_id a3)
G=/clusters/Default/affinitygroups

# members GROUP: the group's member VM ids, sorted, space separated.
members() {
    jget "$(api_ok GET "$G/$1")" '[.vms.vm[].id] | sort | join(" ")'
}
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

ctl affinity add Default pair --positive --soft a1 a2 >/dev/null || exit 1
GID=$(jget "$(api_ok GET "$G/pair")" .id)
assert_match "$GID" '^[0-9a-f-]{36}$' "group id"

# ---- PUT ---------------------------------------------------------------------
j=$(api_ok PUT "$G/$GID" '{"positive": false, "enforcing": "true",
    "vms": {"vm": [{"name": "a2"}, {"id": "'"$A3"'"}]}}') || exit 1
assert_eq false "$(jget "$j" .positive)" "PUT answer: positive"
j=$(api_ok GET "$G/$GID") || exit 1
assert_eq pair "$(jget "$j" .name)" "name kept when not given"
assert_eq false "$(jget "$j" .positive)" "positive after PUT"
assert_eq true "$(jget "$j" .enforcing)" "enforcing after PUT"
assert_eq "$(sorted "$A2" "$A3")" "$(members "$GID")" "members replaced by PUT"

api_ok PUT "$G/pair" '{"name": "apart"}' >/dev/null || exit 1
assert_eq apart "$(jget "$(api_ok GET "$G/$GID")" .name)" "renamed by PUT (group named by name)"
assert_eq "$(sorted "$A2" "$A3")" "$(members "$GID")" "members kept when vms not given"

# Refusals name what is wrong and change nothing.
api_ok POST "$G" '{"name": "taken"}' >/dev/null || exit 1
api_call PUT "$G/$GID" '{"name": "taken"}'
assert_eq 409 "$HTTP_STATUS" "rename to a taken name"
api_call PUT "$G/$GID" '{"positive": true, "vms": {"vm": [{"name": "a1"}, {"name": "ghost"}]}}'
assert_eq 404 "$HTTP_STATUS" "PUT with an unknown VM"
assert_contains "$RESP" ghost "the unknown VM is named"
api_call PUT "$G/$GID" '{"colour": "red"}'
assert_eq 400 "$HTTP_STATUS" "PUT with an unknown field"
assert_contains "$RESP" colour "the unknown field is named"
api_call PUT "$G/$GID" '{"positive": "maybe"}'
assert_eq 400 "$HTTP_STATUS" "PUT with a bad boolean"
api_call PUT "$G/nosuch" '{"positive": true}'
assert_eq 404 "$HTTP_STATUS" "PUT of an unknown group"
j=$(api_ok GET "$G/$GID") || exit 1
assert_eq "apart false" "$(jget "$j" .name) $(jget "$j" .positive)" "refused PUTs changed nothing"
assert_eq "$(sorted "$A2" "$A3")" "$(members "$GID")" "refused PUTs kept the members"

# ---- one VM: POST/DELETE .../vms ----------------------------------------------------
api_call POST "$G/$GID/vms" '{"name": "a1"}'
assert_eq 201 "$HTTP_STATUS" "POST .../vms"
assert_eq "$(sorted "$A1" "$A2" "$A3")" "$(members "$GID")" "a1 added"
api_call POST "$G/$GID/vms" "{\"id\": \"$A1\"}"
assert_eq 409 "$HTTP_STATUS" "a VM added twice"
assert_contains "$RESP" "already in affinity group apart" "the refusal says why"
api_call POST "$G/$GID/vms" '{"name": "ghost"}'
assert_eq 404 "$HTTP_STATUS" "POST .../vms of an unknown VM"
api_call DELETE "$G/$GID/vms/$A2"
assert_eq 200 "$HTTP_STATUS" "DELETE .../vms/{id}"
api_call DELETE "$G/$GID/vms/a3"
assert_eq 200 "$HTTP_STATUS" "DELETE .../vms/{name}"
assert_eq "$A1" "$(members "$GID")" "a2 and a3 removed"
api_call DELETE "$G/$GID/vms/a3"
assert_eq 404 "$HTTP_STATUS" "removing a VM that is not a member"
assert_contains "$RESP" "not in affinity group apart" "the refusal says why"

# ---- herdctl ------------------------------------------------------------------------
out=$(ctl affinity update Default apart --name split --positive --hard --vms a2,"$A3") || exit 1
assert_contains "$out" "Affinity group split updated: positive, hard, 2 VMs" "affinity update output"
j=$(api_ok GET "$G/$GID") || exit 1
assert_eq "split true true" "$(jget "$j" .name) $(jget "$j" .positive) $(jget "$j" .enforcing)" \
    "affinity update (API)"
assert_eq "$(sorted "$A2" "$A3")" "$(members "$GID")" "affinity update --vms (API)"
ctl affinity update Default split --negative --soft >/dev/null || exit 1
j=$(api_ok GET "$G/$GID") || exit 1
assert_eq "false false" "$(jget "$j" .positive) $(jget "$j" .enforcing)" "--negative --soft (API)"
out=$(ctl affinity add-vm Default split a1) || exit 1
assert_contains "$out" "VM a1 added to affinity group split" "affinity add-vm output"
out=$(ctl affinity remove-vm Default split a2) || exit 1
assert_contains "$out" "VM a2 removed from affinity group split" "affinity remove-vm output"
assert_eq "$(sorted "$A1" "$A3")" "$(members "$GID")" "add-vm and remove-vm (API)"
out=$(ctl affinity list Default) || exit 1
assert_match "$out" $'\n''split +false +false +2' "affinity list row after the changes"
ctl affinity update Default split --vms "" >/dev/null || exit 1
assert_eq "" "$(members "$GID")" "--vms '' empties the group"

assert_exit 1 "update naming an unknown VM" herdctl affinity update Default split --vms a1,ghost
assert_contains "$OUT" ghost "herdctl names the unknown VM"
assert_exit 2 "update without a change" herdctl affinity update Default split
assert_contains "$OUT" "nothing to change" "usage error says why"
assert_exit 2 "update with an unknown option" herdctl affinity update Default split --colour
assert_contains "$OUT" "--colour" "usage error names the option"
assert_exit 2 "update --name without a value" herdctl affinity update Default split --name
assert_exit 2 "add-vm without a VM" herdctl affinity add-vm Default split
assert_exit 1 "remove-vm of a non-member" herdctl affinity remove-vm Default split a2
assert_contains "$OUT" "not in affinity group split" "herdctl shows the engine's reason"

# ---- events name the user ------------------------------------------------------------
ev=$(events_json 200)
for want in "Affinity group apart of cluster Default updated by admin@internal" \
            "VM a1 added to affinity group apart of cluster Default by admin@internal" \
            "VM a2 removed from affinity group split of cluster Default by admin@internal"; do
    printf '%s' "$ev" | jq -e --arg w "$want" '.event[] | select(.description | contains($w))' \
        >/dev/null || fail "no event '$want'"
done
log "ok - PUT, POST/DELETE .../vms, herdctl affinity update|add-vm|remove-vm"
test_done
