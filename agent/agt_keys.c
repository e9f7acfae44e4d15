#include "agt_keys.h"

#include <string.h>

#include <sodium.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.keys");

int
agt_keys_load(const agt_conf_t *conf, agt_keys_t *out)
{
    memset(out, 0, sizeof(*out));
    char derived[CMN_KEY_Z85_LEN + 1];
    if (cmn_key_load_secret(conf->secret_key_file, out->secret_key) < 0 ||
        cmn_key_load_public(conf->public_key_file, out->public_key) < 0 ||
        cmn_key_load_public(conf->engine_key_file, out->engine_key) < 0)
        goto fail;
    if (cmn_key_public_of(out->secret_key, derived) < 0 ||
        strcmp(derived, out->public_key) != 0) {
        CMN_ERR(CMN_ERR_CONFIG, "key files %s and %s are not one pair: run "
                "herd-agent-setup again", conf->secret_key_file,
                conf->public_key_file);
        goto fail;
    }
    char fp[CMN_KEY_FP_LEN], efp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(out->public_key, fp);
    cmn_key_fingerprint(out->engine_key, efp);
    CMN_INFO("host key %s, engine key %s", fp, efp);
    return 0;
fail:
    agt_keys_clear(out);
    return -1;
}

void
agt_keys_clear(agt_keys_t *k)
{
    if (k)
        sodium_memzero(k->secret_key, sizeof(k->secret_key));
}
