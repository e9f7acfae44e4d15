/* Fuzz target: herd-agent-setup --fetch-key's check of the engine's answer
 * (agt_setup_key_answer). The first byte picks the HTTP status (mostly
 * 200), the rest is the body, handed over without a terminating NUL. A
 * success must give a valid CURVE key and a next key that is empty or
 * valid; a failure must leave both empty and say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_keys.h"
#include "setup_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > (1u << 16))
        return 0;
    static const int statuses[] = { 404, 500, 401, 302 };
    int status = data[0] < 0xf0 ? 200 : statuses[data[0] & 3];
    size_t len = size - 1;
    /* An exact-size copy, so reading past the body is caught by ASan. */
    char *body = malloc(len ? len : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, len);
    char key[CMN_KEY_Z85_LEN + 1], next[CMN_KEY_Z85_LEN + 1];
    cmn_err_reset();
    int rc = agt_setup_key_answer(status, body, len,
                                  "https://127.0.0.1:8443/x", key, next);
    if (rc == 0) {
        if (status != 200 || !cmn_key_valid(key) ||
            (next[0] && !cmn_key_valid(next)))
            abort();
    } else {
        if (rc != -1 || key[0] || next[0] || cmn_err_code() == CMN_OK ||
            !strstr(cmn_err_msg(), "https://127.0.0.1:8443/x"))
            abort();
    }
    free(body);
    return 0;
}
