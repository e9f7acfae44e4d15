/* POST /vms/{id}/ticket: a one-time VNC password with an expiry, set on the
 * running guest by its host's agent (VmTicket). The answer carries it:
 * {"status": "complete", "ticket": {"value", "expiry"}}. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmn_log.h"
#include "eng_agents.h"

CMN_LOG_INIT("rest.ticket");

/* VNC authentication uses 8 characters of a password. */
#define TICKET_LEN 8

static void
s_ticket_cb(const eng_agent_reply_t *r, void *opaque)
{
    eng_rest_pending_cb(r->code, r->message, opaque);
}

void
eng_rest_vm_ticket(eng_rest_call_t *call, const eng_vm_t *vm)
{
    int64_t expiry;
    if (eng_rest_parse_ticket(call->body, call->body_len, &expiry) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    if (vm->status == ENG_VM_DOWN || vm->status == ENG_VM_WAIT_FOR_LAUNCH ||
        vm->status == ENG_VM_UNKNOWN || !vm->host_id[0]) {
        CMN_ERR(CMN_ERR_STATE, "VM %s is %s: a console ticket needs a "
                "running guest", vm->name, eng_vm_status_name(vm->status));
        eng_rest_action_failed(call);
        return;
    }
    if (strcmp(vm->display_type, "vnc") != 0) {
        CMN_ERR(CMN_ERR_UNSUPPORTED, "VM %s has display '%s': tickets are "
                "set on VNC consoles only", vm->name, vm->display_type);
        eng_rest_action_failed(call);
        return;
    }
    unsigned char raw[6];
    char pw[TICKET_LEN + 4];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    pw[TICKET_LEN] = '\0';
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_ACTION);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *ticket = json_object();
    json_object_set_new(ticket, "value", json_string(pw));
    eng_rest_set_num(ticket, "expiry", expiry);
    eng_rest_pending_set_extra(p, json_pack("{s:o}", "ticket", ticket));
    if (eng_agents_vm_ticket(call->ctx->agents, vm->host_id, vm->id, pw,
                             (unsigned)expiry, s_ticket_cb, p) < 0) {
        eng_rest_pending_drop(p);
        sodium_memzero(pw, sizeof(pw));
        eng_rest_action_failed(call);
        return;
    }
    sodium_memzero(pw, sizeof(pw));
    eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_VM_TICKET, vm->host_id,
              vm->id, call->user.name, "VM %s: console ticket (%lld s) "
              "requested by %s", vm->name, (long long)expiry,
              call->user.name);
    /* ?async=true would answer without the ticket: always wait. */
}
