/* /ovirt-engine/api/enginekey: the engine's CURVE key and its rotation. */
#include "eng_rest_priv.h"

#include "cmn_err.h"

void
eng_rest_handle_enginekey(eng_rest_call_t *call)
{
    CMN_ERR(CMN_ERR_UNSUPPORTED, "engine key rotation is not done yet");
    eng_rest_reply_err(call->req);
}
