/* Fuzz target: engine.yaml through eng_conf_load_data() (key table,
 * ranges, enrollment mode, the paths that follow state_dir). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "eng_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        cmn_log_set_level(CMN_LOG_ERROR);
        init = true;
    }
    cmn_err_reset();
    eng_conf_t c;
    memset(&c, 0, sizeof(c));
    int rc = eng_conf_load_data(&c, "fuzz.yaml", (const char *)data, size);
    if (rc == 0 && (!c.state_dir || c.state_dir[0] != '/' || !c.database ||
                    !c.agents_key_dir || !c.agents_key_dir[0] ||
                    c.host_nonresponsive_s <= c.host_connecting_s))
        abort();            /* accepted something the checks refuse */
    if (rc < 0 && cmn_err_code() != CMN_ERR_CONFIG &&
        cmn_err_code() != CMN_ERR_NOMEM)
        abort();
    eng_conf_clear(&c);
    return 0;
}
