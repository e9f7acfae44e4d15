/* Fuzz target: agent.yaml through agt_conf_load_data(), the loader the
 * daemon and herd-agent-setup use (key table, ranges, the checks across
 * keys: endpoint, paths, CURVE key files, token length). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "agt_conf.h"
#include "cmn_err.h"
#include "cmn_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        cmn_log_set_level(CMN_LOG_ERROR);
        init = true;
    }
    cmn_err_reset();
    agt_conf_t c;
    int rc = agt_conf_load_data(&c, "fuzz.yaml", (const char *)data, size);
    if (rc == 0 && (!c.engine || !c.images_dir || c.images_dir[0] != '/' ||
                    c.stats_interval < 1 || c.stats_interval > 3600))
        abort();            /* accepted something the checks refuse */
    if (rc < 0 && cmn_err_code() != CMN_ERR_CONFIG &&
        cmn_err_code() != CMN_ERR_NOMEM)
        abort();            /* errors must be config errors */
    agt_conf_clear(&c);
    return 0;
}
