/* Fuzz target: one frame from a peer through cmn_rpc_decode(). A frame that
 * decodes must re-encode, and the re-encoding must decode to the same id,
 * reply id and body case. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cmn_err_reset();
    uint64_t id = 0;
    Herd__Envelope *env = cmn_rpc_decode(data, size, 64 * 1024, &id);
    if (!env) {
        /* Every failure records an error. */
        if (cmn_err_code() == CMN_OK)
            abort();
        return 0;
    }
    if (id != env->id || env->id == 0)
        abort();
    (void)cmn_rpc_body_name(env);

    size_t len = 0;
    uint8_t *buf = cmn_rpc_encode(env, &len);
    if (!buf)
        abort();
    cmn_err_reset();
    Herd__Envelope *again = cmn_rpc_decode(buf, len, 0, NULL);
    if (!again || again->id != env->id || again->in_reply_to != env->in_reply_to ||
        again->body_case != env->body_case || (!again->result != !env->result))
        abort();
    cmn_rpc_free(again);
    free(buf);
    cmn_rpc_free(env);
    return 0;
}
