#include "setup_key.h"

#include <string.h>

#include <jansson.h>

#include "cmn_err.h"

/* `s` for a message: at most len - 1 characters, anything not printable
 * ASCII shown as '?' (the text comes from the network). */
static const char *s_clip(const char *s, size_t slen, char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; s && i < slen && s[i] && n + 1 < len; i++)
        buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[n] = '\0';
    return buf;
}

/* The key member `name` of the answer into out (absent or null: *out
 * stays ""), checked to be a CURVE key and, when the answer names its
 * fingerprint (`fp_name`), to have that one. */
static int s_answer_key(const json_t *j, const char *name,
                        const char *fp_name, const char *url,
                        char out[CMN_KEY_Z85_LEN + 1])
{
    out[0] = '\0';
    const json_t *v = json_object_get(j, name);
    if (!v || json_is_null(v))
        return 0;
    char clip[64], clip2[64];
    const char *k = json_string_value(v);
    if (!k || !cmn_key_valid(k))
        return CMN_ERR(CMN_ERR_PROTOCOL, "the answer of %s: %s '%s' is not a "
                       "CURVE public key (40 Z85 characters)", url, name,
                       k ? s_clip(k, strlen(k), clip, sizeof(clip)) : "(not a string)");
    snprintf(out, CMN_KEY_Z85_LEN + 1, "%s", k);
    char fp[CMN_KEY_FP_LEN];
    const char *said = json_string_value(json_object_get(j, fp_name));
    if (cmn_key_fingerprint(out, fp) < 0)
        return -1;
    if (said && strcmp(said, fp) != 0)
        return CMN_ERR(CMN_ERR_PROTOCOL, "the answer of %s is inconsistent: "
                       "%s '%s' is not the fingerprint of its %s (%s)", url,
                       fp_name, s_clip(said, strlen(said), clip2, sizeof(clip2)), name, fp);
    return 0;
}

int agt_setup_key_answer(int status, const char *body, size_t len,
                         const char *url, char key[CMN_KEY_Z85_LEN + 1],
                         char next[CMN_KEY_Z85_LEN + 1])
{
    key[0] = next[0] = '\0';
    json_error_t jerr;
    json_t *j = json_loadb(body ? body : "", body ? len : 0, 0, &jerr);
    int rc = -1;
    char clip[200];
    if (status != 200) {
        const char *d = json_string_value(json_object_get(j, "detail"));
        CMN_ERR(CMN_ERR_UNAVAILABLE, "cannot fetch the engine key from %s: "
                "the engine answered HTTP %d%s%s", url, status,
                d || len ? ": " : "",
                d ? s_clip(d, strlen(d), clip, sizeof(clip))
                  : s_clip(body, len, clip, sizeof(clip)));
    } else if (!json_is_object(j)) {
        CMN_ERR(CMN_ERR_PROTOCOL, "the answer of %s is not a JSON object%s%s",
                url, j ? "" : ": ", j ? "" : jerr.text);
    } else if (s_answer_key(j, "public_key", "fingerprint", url, key) < 0 ||
               s_answer_key(j, "next_public_key", "next_fingerprint", url,
                            next) < 0) {
        /* recorded */
    } else if (!key[0]) {
        CMN_ERR(CMN_ERR_PROTOCOL, "the answer of %s has no public_key", url);
    } else {
        rc = 0;
    }
    if (rc < 0)
        key[0] = next[0] = '\0';
    json_decref(j);
    return rc;
}
