#!/bin/bash
# The REST API over HTTPS with a real agent and guests: every collection in
# XML and JSON (the entry point and its search links), search (name=,
# status=, host=, cluster=, wildcards, and, sortby) and ?max=, events
# ?from=, cluster and data center create/update/delete, VM sub-collections,
# every VM and host action with <action> XML and JSON bodies and their state
# rules, ?async=true, and the fault paths (bodies, ids, methods, sizes).
. "$(dirname "$0")/lib.sh"
standard_setup

# xml METHOD PATH [BODY]: XML in, XML out; RESP and HTTP_STATUS.
xml() {
    local out
    out=$(mktemp "$W/xml.XXXXXX")
    if [ $# -ge 3 ]; then
        HTTP_STATUS=$(curl -s -u "admin@internal:$ADMIN_PW" -o "$out" -w '%{http_code}' \
            -X "$1" -H 'Content-Type: application/xml' -H 'Accept: application/xml' \
            --data-binary "$3" "$API$2")
    else
        HTTP_STATUS=$(curl -s -u "admin@internal:$ADMIN_PW" -o "$out" -w '%{http_code}' \
            -X "$1" "$API$2")
    fi
    RESP=$(cat "$out")
    rm -f "$out"
}
# xq XML XPATH: the string value (xmllint).
xq() { printf '%s' "$1" | xmllint --xpath "string($2)" - 2>/dev/null; }
command -v xmllint >/dev/null || fail "xmllint is not installed (libxml2-utils)"

# ---- entry point -----------------------------------------------------------
xml GET ""
assert_eq 200 "$HTTP_STATUS" "GET /api (XML)"
assert_eq Herd "$(xq "$RESP" /api/product_info/name)" "product name"
assert_eq "/ovirt-engine/api/vms?search={query}" \
    "$(xq "$RESP" '/api/link[@rel="vms/search"]/@href')" "vms/search link"
for c in vms hosts clusters datacenters events users; do
    [ -n "$(xq "$RESP" "/api/link[@rel=\"$c\"]/@href")" ] || fail "no $c link in the entry point"
done
root=$(api_ok GET "")
assert_eq "/ovirt-engine/api/hosts?search={query}" \
    "$(jget "$root" '.link[] | select(.rel == "hosts/search") | .href')" "JSON hosts/search"

# ---- collections in both forms ---------------------------------------------------
for c in vms hosts clusters datacenters events users; do
    xml GET "/$c"
    assert_eq 200 "$HTTP_STATUS" "GET /$c (XML)"
    printf '%s' "$RESP" | xmllint --noout - 2>/dev/null || fail "/$c is not XML: $RESP"
    api_call GET "/$c"
    assert_eq 200 "$HTTP_STATUS" "GET /$c (JSON)"
done
xml GET /hosts
assert_eq "$HOST_ID" "$(xq "$RESP" '/hosts/host[1]/@id')" "host id attribute"
assert_eq "/ovirt-engine/api/hosts/$HOST_ID" "$(xq "$RESP" '/hosts/host[1]/@href')" "host href"
assert_eq up "$(xq "$RESP" '/hosts/host[1]/status')" "host status in XML"
for a in activate deactivate approve; do
    [ -n "$(xq "$RESP" "/hosts/host[1]/actions/link[@rel=\"$a\"]/@href")" ] || fail "host lacks action $a"
done
xml GET /datacenters
assert_eq Default "$(xq "$RESP" '/data_centers/data_center[1]/name')" "<data_centers>"

# ---- VMs: create in XML, show in both ------------------------------------------------
xml POST /vms '<vm><name>xvm</name><memory>67108864</memory><cluster><name>Default</name></cluster><disk_attachments><disk_attachment><disk><provisioned_size>1073741824</provisioned_size></disk></disk_attachment></disk_attachments><nics><nic><name>nic1</name></nic></nics></vm>'
assert_eq 201 "$HTTP_STATUS" "create a VM from XML: $RESP"
XVM=$(xq "$RESP" /vm/@id)
assert_eq down "$(xq "$RESP" /vm/status)" "new VM status"
for l in statistics nics disk_attachments; do
    [ -n "$(xq "$RESP" "/vm/link[@rel=\"$l\"]/@href")" ] || fail "VM lacks link $l"
done
for a in start stop shutdown reboot reset suspend ticket migrate; do
    [ -n "$(xq "$RESP" "/vm/actions/link[@rel=\"$a\"]/@href")" ] || fail "VM lacks action $a"
done
api_ok POST /vms '{"name": "jvm", "memory": "67108864", "disk_attachments": {"disk_attachment": [{"disk": {"provisioned_size": "1073741824"}}]}}' >/dev/null
api_ok POST /vms '{"name": "other", "memory": "134217728"}' >/dev/null
xml GET /vms/xvm/disk_attachments
assert_eq 1073741824 "$(xq "$RESP" '/disk_attachments/disk_attachment[1]/disk/provisioned_size')" "disk_attachments sub-collection"
r=$(api_ok GET /vms/xvm/nics)
assert_eq nic1 "$(jget "$r" '.nic[0].name')" "nics sub-collection"

# ---- actions with XML and JSON bodies ---------------------------------------------------
xml POST /vms/xvm/start '<action><async>false</async></action>'
assert_eq 200 "$HTTP_STATUS" "start (XML action): $RESP"
assert_eq complete "$(xq "$RESP" /action/status)" "start answer"
wait_vm_status xvm up 30
api_call POST /vms/jvm/start '{"async": "false"}'
assert_eq complete "$(jget "$RESP" .status)" "start (JSON action): $RESP"
wait_vm_status jvm up 30
vmj=$(api_ok GET /vms/xvm)
assert_eq vnc "$(jget "$vmj" .display.type)" "display type"
assert_eq 127.0.0.1 "$(jget "$vmj" .display.address)" "display address"
[ -n "$(jget "$vmj" .display.port)" ] || fail "no display port: $vmj"
xml GET /vms/xvm
assert_eq "$(jget "$vmj" .display.port)" "$(xq "$RESP" /vm/display/port)" "display port in XML"

# search: name=, status=, host=, cluster=, wildcards, and, sortby, max
n() { json_count "$(api_ok GET "/vms?$1")" vm; }
assert_eq 2 "$(n 'search=status%3Dup')" "status=up"
assert_eq 1 "$(n 'search=status%3Ddown')" "status=down"
assert_eq 2 "$(n 'search=name%3D*vm')" "name=*vm"
assert_eq 1 "$(n 'search=name%3Dx*%20and%20status%3Dup')" "and"
hname=$(jget "$(api_ok GET "/hosts/$HOST_ID")" .name)
assert_eq 2 "$(n "search=host%3D$hname")" "host=NAME"
assert_eq 3 "$(n 'search=cluster%3DDefault')" "cluster=Default"
assert_eq 0 "$(n 'search=cluster%3Dnone')" "cluster=none"
first=$(jget "$(api_ok GET '/vms?search=sortby%20name%20desc')" '.vm[0].name')
assert_eq xvm "$first" "sortby name desc"
assert_eq 2 "$(n 'max=2')" "max=2"
assert_eq 1 "$(n 'search=sortby%20memory%20desc&max=1')" "max with sortby"
assert_eq other "$(jget "$(api_ok GET '/vms?search=sortby%20memory%20desc&max=1')" '.vm[0].name')" "sortby memory"
xml GET "/vms?search=name%3Djvm"
assert_eq jvm "$(xq "$RESP" '/vms/vm[1]/name')" "XML search"
assert_eq 1 "$(json_count "$(api_ok GET "/hosts?search=name%3D$hname")" host)" "hosts name="
assert_eq 1 "$(json_count "$(api_ok GET "/hosts?search=cluster%3DDefault%20and%20status%3Dup")" host)" "hosts cluster=NAME"
assert_eq 2 "$(jget "$(api_ok GET "/hosts/$HOST_ID")" .summary.active)" "host counts its running VMs"
assert_eq 2 "$(jget "$(api_ok GET /hosts)" ".host[0].summary.active")" "host list counts running VMs"
assert_eq 1 "$(json_count "$(api_ok GET '/clusters?search=name%3DDef*')" cluster)" "clusters search"
assert_eq 1 "$(json_count "$(api_ok GET '/datacenters?search=name%3DDefault')" data_center)" "dcs search"

# host actions: while VMs run the host does not reach maintenance (with
# live migration it waits, preparing, for them to move: here there is no
# other host; without it the answer is 409 naming them)
api_call POST "/hosts/$HOST_ID/deactivate" '{}'
case "$HTTP_STATUS" in
    409) assert_contains "$(jget "$RESP" .fault.detail)" "xvm" "deactivate names the VMs" ;;
    200) sleep 1
         assert_eq preparing_for_maintenance "$(host_status "$HOST_ID")" \
             "host with running VMs and nowhere to move them" ;;
    *) fail "deactivate with running VMs answered $HTTP_STATUS: $RESP" ;;
esac
api_call DELETE "/hosts/$HOST_ID"
assert_eq 409 "$HTTP_STATUS" "remove a host that is not in maintenance"
assert_contains "$(jget "$RESP" .detail)" "maintenance" "remove says why"
api_call POST "/hosts/$HOST_ID/approve" '{}'
assert_eq 409 "$HTTP_STATUS" "approve a host that is not pending approval"
api_ok POST "/hosts/$HOST_ID/activate" '{}' >/dev/null
wait_for host_status_is "$HOST_ID" up --timeout 10 || fail "host not up after activate"

# the console ticket
xml POST /vms/xvm/ticket '<action><ticket><expiry>300</expiry></ticket></action>'
assert_eq 200 "$HTTP_STATUS" "ticket: $RESP"
pw=$(xq "$RESP" /action/ticket/value)
assert_eq 300 "$(xq "$RESP" /action/ticket/expiry)" "ticket expiry"
[ ${#pw} = 8 ] || fail "ticket value '$pw' is not 8 characters"
virsh_ dumpxml --security-info xvm | grep -q "passwd='$pw'" ||
    fail "the guest's VNC password is not the ticket: $(virsh_ dumpxml --security-info xvm | grep graphics)"
virsh_ dumpxml --security-info xvm | grep -q "passwdValidTo=" || fail "no passwdValidTo on the guest"
api_call POST /vms/jvm/ticket '{"ticket": {"expiry": "0"}}'
assert_eq 400 "$HTTP_STATUS" "ticket expiry 0"
api_call POST /vms/other/ticket '{}'
assert_eq 409 "$HTTP_STATUS" "ticket on a down VM"
assert_eq failed "$(jget "$RESP" .status)" "ticket failure status"

# migrate: there is no other host
api_call POST /vms/xvm/migrate '{"host": {"name": "elsewhere"}}'
case "$HTTP_STATUS" in 4??|5??) ;; *) fail "migrate to an unknown host answered $HTTP_STATUS" ;; esac
assert_eq failed "$(jget "$RESP" .status)" "migrate failure status: $RESP"
xml POST /vms/xvm/migrate '<action/>'
case "$HTTP_STATUS" in 4??|5??) ;; *) fail "migrate with one host answered $HTTP_STATUS" ;; esac
[ -n "$(xq "$RESP" /action/fault/detail)" ] || fail "migrate fault in XML: $RESP"

# suspend, resume by start, reboot, reset, shutdown, stop
api_call POST /vms/jvm/suspend '{}'
assert_eq complete "$(jget "$RESP" .status)" "suspend: $RESP"
wait_vm_status jvm paused 20
api_ok POST /vms/jvm/start '{}' >/dev/null
wait_vm_status jvm up 20
api_call POST /vms/jvm/reset '{}'
assert_eq 200 "$HTTP_STATUS" "reset: $RESP"
api_call POST /vms/jvm/reboot '{}'
assert_eq 200 "$HTTP_STATUS" "reboot: $RESP"
wait_vm_status jvm up 30
api_call POST "/vms/jvm/stop?async=true" '{}'
assert_eq 202 "$HTTP_STATUS" "stop ?async=true answers at once"
assert_eq pending "$(jget "$RESP" .status)" "async status"
wait_vm_status jvm down 20
xml POST /vms/xvm/shutdown '<action/>'
log "shutdown of a guest with no OS -> $HTTP_STATUS $(xq "$RESP" /action/status)"
xml POST /vms/xvm/stop '<action><async>false</async></action>'
wait_vm_status xvm down 20
api_call POST /vms/xvm/stop '{}'
case "$HTTP_STATUS" in 4??) ;; *) fail "stop of a down VM answered $HTTP_STATUS" ;; esac

# host maintenance now that nothing runs
xml POST "/hosts/$HOST_ID/deactivate" '<action/>'
assert_eq 200 "$HTTP_STATUS" "deactivate: $RESP"
wait_for host_status_is "$HOST_ID" maintenance --timeout 5 || fail "host not in maintenance"
sleep 2
assert_eq maintenance "$(host_status "$HOST_ID")" "maintenance sticks while the agent talks"
api_call POST /vms/jvm/start '{}'
case "$HTTP_STATUS" in 4??|5??) ;; *) fail "start with the only host in maintenance answered $HTTP_STATUS" ;; esac
api_call POST "/hosts/$HOST_ID/activate" '{}'
assert_eq 200 "$HTTP_STATUS" "activate: $RESP"
wait_for host_status_is "$HOST_ID" up --timeout 10 || fail "host not up after activate"

# ---- clusters and data centers -----------------------------------------------------------
xml POST /datacenters '<data_center><name>dc2</name><description>second</description></data_center>'
assert_eq 201 "$HTTP_STATUS" "create a data center (XML): $RESP"
api_call POST /clusters '{"name": "c2", "data_center": {"name": "dc2"}, "memory_policy": {"over_commit": {"percent": "150"}}}'
assert_eq 201 "$HTTP_STATUS" "create a cluster: $RESP"
assert_eq 150 "$(jget "$RESP" .memory_policy.over_commit.percent)" "over_commit"
api_call PUT /clusters/c2 '{"description": "renamed", "cpu": {"type": "Haswell"}}'
assert_eq Haswell "$(jget "$RESP" .cpu.type)" "cluster update"
api_call DELETE /datacenters/dc2
assert_eq 409 "$HTTP_STATUS" "remove a data center that holds a cluster"
api_ok POST /vms '{"name": "inc2", "memory": "67108864", "cluster": {"name": "c2"}}' >/dev/null
api_call DELETE /clusters/c2
assert_eq 409 "$HTTP_STATUS" "remove a cluster that holds a VM"
assert_contains "$(jget "$RESP" .detail)" "VM" "cluster removal names VMs"
api_ok DELETE /vms/inc2 >/dev/null
api_ok DELETE /clusters/c2 >/dev/null
api_ok PUT /datacenters/dc2 '{"name": "dc3"}' >/dev/null
api_ok DELETE /datacenters/dc3 >/dev/null
api_call GET /datacenters/dc3
assert_eq 404 "$HTTP_STATUS" "removed data center"

# ---- events: from, max, search ---------------------------------------------------------
ev=$(api_ok GET "/events?max=5")
assert_eq 5 "$(json_count "$ev" event)" "events max=5"
top=$(jget "$ev" '.event[0].id')
older=$(jget "$ev" '.event[4].id')
since=$(api_ok GET "/events?from=$older")
assert_eq 4 "$(json_count "$since" event)" "events from=ID (newer than ID)"
assert_eq "$top" "$(jget "$since" '.event[0].id')" "events from: newest first"
errs=$(api_ok GET "/events?search=severity%3Dnormal%20and%20user%3Dadmin*&max=3")
assert_eq 3 "$(json_count "$errs" event)" "events search"
xml GET "/events?max=2"
assert_eq 2 "$(printf '%s' "$RESP" | xmllint --xpath 'count(/events/event)' -)" "XML events"

# ---- faults ---------------------------------------------------------------------------
xml POST /vms '<vm><name>bad</name><memory>64</vm>'
assert_eq 400 "$HTTP_STATUS" "malformed XML"
assert_eq "Bad Request" "$(xq "$RESP" /fault/reason)" "XML fault reason"
[ -n "$(xq "$RESP" /fault/detail)" ] || fail "XML fault without detail"
xml POST /vms '<!DOCTYPE vm [<!ENTITY x "y">]><vm><name>&x;</name></vm>'
assert_eq 400 "$HTTP_STATUS" "XML with a DTD"
xml POST /vms '<vm><name>bad</name><memory>67108864</memory><colour>red</colour></vm>'
assert_eq 400 "$HTTP_STATUS" "XML unknown field"
assert_contains "$(xq "$RESP" /fault/detail)" "colour" "XML unknown field named"
api_call POST /clusters '{"name": 5}'
assert_eq 400 "$HTTP_STATUS" "cluster name of the wrong type"
api_call POST /clusters '{"name": "c9", "data_center": {"name": "nowhere"}}'
assert_eq 404 "$HTTP_STATUS" "cluster in an unknown data center"
api_call GET "/vms?max=abc"
assert_eq 400 "$HTTP_STATUS" "max=abc"
api_call GET "/vms?search=name%3D%22unterminated"
assert_eq 400 "$HTTP_STATUS" "bad search"
api_call GET "/hosts?search=colour%3Dred"
assert_eq 400 "$HTTP_STATUS" "unknown search field"
api_call GET "/vms/%00x"
case "$HTTP_STATUS" in 400|404) ;; *) fail "NUL in an id answered $HTTP_STATUS" ;; esac
api_call PATCH /vms
assert_eq 405 "$HTTP_STATUS" "PATCH"
api_call POST "/hosts/$HOST_ID/deactivate?async=maybe" '{}'
assert_eq 400 "$HTTP_STATUS" "async=maybe"
api_call POST /vms/xvm/start '{"bogus": true}'
assert_eq 400 "$HTTP_STATUS" "start with an unknown field"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$W/big.xml"
code=$(curl -s -u "admin@internal:$ADMIN_PW" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/xml' --data-binary @"$W/big.xml" "$API/vms")
assert_eq 413 "$code" "1.1 MB XML body"
kill -0 "$ENGINE_PID" || fail "herd-engine died"
test_done
