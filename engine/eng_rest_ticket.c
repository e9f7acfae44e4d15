/* POST /vms/{id}/ticket: a one-time VNC password with an expiry, set on the
 * running guest by its host's agent. Stub until the wire message lands. */
#include "eng_rest_priv.h"

#include "cmn_log.h"

CMN_LOG_INIT("rest.ticket");

void
eng_rest_vm_ticket(eng_rest_call_t *call, const eng_vm_t *vm)
{
    int64_t expiry;
    if (eng_rest_parse_ticket(call->body, call->body_len, &expiry) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    (void)vm;
    CMN_ERR(CMN_ERR_UNSUPPORTED, "console tickets are not supported yet");
    eng_rest_action_failed(call);
}
