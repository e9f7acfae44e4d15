#include "agt_keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.keys");

#define KEY_PATH_MAX 4096

int
agt_keys_load_pair(const agt_conf_t *conf, agt_keys_t *out)
{
    memset(out, 0, sizeof(*out));
    char derived[CMN_KEY_Z85_LEN + 1];
    if (cmn_key_load_secret(conf->secret_key_file, out->secret_key) < 0 ||
        cmn_key_load_public(conf->public_key_file, out->public_key) < 0)
        goto fail;
    if (cmn_key_public_of(out->secret_key, derived) < 0 ||
        strcmp(derived, out->public_key) != 0) {
        CMN_ERR(CMN_ERR_CONFIG, "key files %s and %s are not one pair: run "
                "herd-agent-setup again", conf->secret_key_file,
                conf->public_key_file);
        goto fail;
    }
    return 0;
fail:
    agt_keys_clear(out);
    return -1;
}

int
agt_keys_load(const agt_conf_t *conf, agt_keys_t *out)
{
    if (agt_keys_load_pair(conf, out) < 0)
        return -1;
    char next_path[KEY_PATH_MAX];
    int rc = agt_keys_read_opt(conf->engine_key_file, out->engine_key);
    if (rc == 0 && agt_keys_next_path(conf, next_path, sizeof(next_path)) == 0 &&
        (rc = agt_keys_read_opt(next_path, out->engine_key)) == 1) {
        /* A switch was cut short between the two renames, or the file was
         * lost: the next key is the best guess, and the link falls back to
         * nothing else (there is no other key). */
        out->engine_key_next = true;
        CMN_WARN("engine key file %s is missing: using the engine's next key "
                 "from %s", conf->engine_key_file, next_path);
    } else if (rc == 0) {
        cmn_err_reset();
        /* Neither file: the error names engine_key_file, as before. */
        rc = cmn_key_load_public(conf->engine_key_file, out->engine_key);
    }
    if (rc < 0) {
        agt_keys_clear(out);
        return -1;
    }
    char fp[CMN_KEY_FP_LEN], efp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(out->public_key, fp);
    cmn_key_fingerprint(out->engine_key, efp);
    CMN_INFO("host key %s, engine key %s", fp, efp);
    return 0;
}

void
agt_keys_clear(agt_keys_t *k)
{
    if (k)
        sodium_memzero(k->secret_key, sizeof(k->secret_key));
}

int
agt_keys_next_path(const agt_conf_t *conf, char *out, size_t size)
{
    const char *f = conf->engine_key_file ? conf->engine_key_file : "";
    int n = snprintf(out, size, "%s%s", f, AGT_KEYS_NEXT_SUFFIX);
    if (!f[0] || n < 0 || (size_t)n >= size)
        return CMN_ERR(CMN_ERR_CONFIG, "engine_key_file '%.200s': no room for "
                       "the next key's file name", f);
    return 0;
}

int
agt_keys_read_opt(const char *path, char out[CMN_KEY_Z85_LEN + 1])
{
    out[0] = '\0';
    struct stat st;
    if (stat(path, &st) < 0 && errno == ENOENT)
        return 0;
    return cmn_key_load_public(path, out) < 0 ? -1 : 1;
}

int
agt_keys_save_next(const agt_conf_t *conf, const char *z85, bool *written)
{
    if (written)
        *written = false;
    if (!cmn_key_valid(z85))
        return CMN_ERR(CMN_ERR_INVALID, "the engine's next key is not a CURVE "
                       "key (40 Z85 characters)");
    char path[KEY_PATH_MAX];
    char have[CMN_KEY_Z85_LEN + 1];
    if (agt_keys_next_path(conf, path, sizeof(path)) < 0)
        return -1;
    /* Pre-publication is repeated at every hello: write once. An unreadable
     * current file is no reason to refuse the next key. */
    if (agt_keys_read_opt(conf->engine_key_file, have) == 1 &&
        strcmp(have, z85) == 0)
        return 0;
    cmn_err_reset();
    if (agt_keys_read_opt(path, have) == 1 && strcmp(have, z85) == 0)
        return 0;
    cmn_err_reset();
    if (cmn_key_write(path, z85, false, "Herd engine (next)") < 0)
        return -1;
    if (written)
        *written = true;
    return 0;
}

int
agt_keys_promote(const agt_conf_t *conf, const char *z85)
{
    if (!cmn_key_valid(z85))
        return CMN_ERR(CMN_ERR_INVALID, "the engine's new key is not a CURVE "
                       "key (40 Z85 characters)");
    char path[KEY_PATH_MAX];
    char next[CMN_KEY_Z85_LEN + 1], cur[CMN_KEY_Z85_LEN + 1];
    if (agt_keys_next_path(conf, path, sizeof(path)) < 0)
        return -1;
    int hn = agt_keys_read_opt(path, next);
    cmn_err_reset();    /* a damaged .next is replaced below */
    if (hn == 1 && strcmp(next, z85) == 0) {
        if (rename(path, conf->engine_key_file) < 0)
            return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot rename %s to %s", path,
                                 conf->engine_key_file);
        return 0;
    }
    int hc = agt_keys_read_opt(conf->engine_key_file, cur);
    cmn_err_reset();
    if (!(hc == 1 && strcmp(cur, z85) == 0) &&
        cmn_key_write(conf->engine_key_file, z85, false, "Herd engine") < 0)
        return -1;
    if (hn != 0 && unlink(path) < 0 && errno != ENOENT)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot remove %s", path);
    return 0;
}
