/* Fuzz target: one frame from a peer through cmn_rpc_decode(). Every
 * failure must record an error; a frame that decodes must re-encode to
 * exactly get_packed_size() bytes, and the re-encoding must not crash the
 * decoder. It need not decode again: libprotobuf-c 1.4.1 accepts an unknown
 * field numbered 0 when its tag varint is written non-minimally ("81 00")
 * but rejects the minimal form it writes back (found by this target;
 * harmless to Herd, which never forwards a decoded envelope). When it does
 * decode, the id, reply id, body and result must survive. */
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
    size_t want = herd__envelope__get_packed_size(env);
    uint8_t *buf = cmn_rpc_encode(env, &len);
    if (!buf || len != want)
        abort();
    cmn_err_reset();
    Herd__Envelope *again = cmn_rpc_decode(buf, len, 0, NULL);
    if (again && (again->id != env->id || again->in_reply_to != env->in_reply_to ||
                  again->body_case != env->body_case ||
                  (!again->result != !env->result)))
        abort();
    cmn_rpc_free(again);
    free(buf);
    cmn_rpc_free(env);
    return 0;
}
