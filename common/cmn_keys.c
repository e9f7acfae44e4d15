#include "cmn_keys.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>
#include <zmq.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("common.keys");

#define KEY_FILE_MAX 4096

static const char s_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";

bool
cmn_key_valid(const char *s)
{
    if (!s || strlen(s) != CMN_KEY_Z85_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr(s_z85, *p))
            return false;
    uint8_t raw[32];
    return zmq_z85_decode(raw, s) != NULL;
}

int
cmn_key_fingerprint(const char *z85, char fp[CMN_KEY_FP_LEN])
{
    fp[0] = '\0';
    uint8_t raw[32];
    if (!cmn_key_valid(z85) || !zmq_z85_decode(raw, z85))
        return CMN_ERR(CMN_ERR_INVALID, "not a CURVE key (40 Z85 characters)");
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, raw, sizeof(raw));
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    memcpy(fp, "SHA256:", 7);
    memcpy(fp + 7, b64, CMN_KEY_FP_LEN - 8);   /* 43 characters */
    fp[CMN_KEY_FP_LEN - 1] = '\0';
    return 0;
}

int
cmn_key_generate(char pub[CMN_KEY_Z85_LEN + 1], char sec[CMN_KEY_Z85_LEN + 1])
{
    if (zmq_curve_keypair(pub, sec) < 0)
        return CMN_ERR(CMN_ERR_UNSUPPORTED, "cannot make a CURVE key pair: %s "
                       "(libzmq built without CURVE?)", zmq_strerror(errno));
    return 0;
}

int
cmn_key_public_of(const char *sec, char pub[CMN_KEY_Z85_LEN + 1])
{
    if (!cmn_key_valid(sec) || zmq_curve_public(pub, sec) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "not a CURVE secret key");
    return 0;
}

/* The key line of a key file's text, or -1 naming `path`. */
static int
s_parse(const char *path, char *buf, char out[CMN_KEY_Z85_LEN + 1])
{
    char *next = buf;
    while (next) {
        char *line = next;
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        next = nl ? nl + 1 : NULL;
        while (*line == ' ' || *line == '\t')
            line++;
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
                         line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (!cmn_key_valid(line))
            return CMN_ERR(CMN_ERR_CONFIG, "key file %s: '%.60s' is not a "
                           "CURVE key (40 Z85 characters)", path, line);
        memcpy(out, line, CMN_KEY_Z85_LEN + 1);
        return 0;
    }
    return CMN_ERR(CMN_ERR_CONFIG, "key file %s holds no key", path);
}

static int
s_load(const char *path, bool secret, char out[CMN_KEY_Z85_LEN + 1])
{
    out[0] = '\0';
    if (!path || !*path)
        return CMN_ERR(CMN_ERR_CONFIG, "no key file named");
    struct stat st;
    if (stat(path, &st) < 0)
        return CMN_ERR_ERRNO(CMN_ERR_CONFIG, "key file %s", path);
    if (!S_ISREG(st.st_mode))
        return CMN_ERR(CMN_ERR_CONFIG, "key file %s is not a regular file",
                       path);
    if (secret && (st.st_mode & 077))
        return CMN_ERR(CMN_ERR_CONFIG, "secret key file %s has mode %04o: "
                       "group or others may read it; refusing to use it. "
                       "Fix: chmod 600 %s (and make a new key pair if others "
                       "may have read it)", path,
                       (unsigned)(st.st_mode & 07777), path);
    size_t len = 0;
    CMN_AUTOFREE char *buf = cmn_file_read(path, KEY_FILE_MAX, &len);
    if (!buf)
        return -1;
    int rc = s_parse(path, buf, out);
    sodium_memzero(buf, len);
    return rc;
}

int
cmn_key_load_public(const char *path, char out[CMN_KEY_Z85_LEN + 1])
{
    return s_load(path, false, out);
}

int
cmn_key_load_secret(const char *path, char out[CMN_KEY_Z85_LEN + 1])
{
    return s_load(path, true, out);
}

int
cmn_key_write(const char *path, const char *z85, bool secret,
              const char *comment)
{
    if (!cmn_key_valid(z85))
        return CMN_ERR(CMN_ERR_INVALID, "not a CURVE key");
    CMN_AUTOFREE char *dir = strdup(path);
    if (!dir)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (cmn_mkdir_p(dir, 0700) < 0)
            return -1;
    }
    char text[512];
    int n = snprintf(text, sizeof(text), "# %s %s key (Z85)\n%s%s\n",
                     comment ? comment : "Herd CURVE",
                     secret ? "secret" : "public",
                     secret ? "# keep private: mode 0600\n" : "", z85);
    if (n < 0 || (size_t)n >= sizeof(text))
        return CMN_ERR(CMN_ERR_INVALID, "key comment too long");
    int rc = cmn_file_write_atomic(path, text, (size_t)n, secret ? 0600 : 0644);
    sodium_memzero(text, sizeof(text));
    return rc;
}

int
cmn_key_ensure_pair(const char *sec_path, const char *pub_path,
                    const char *comment, char pub[CMN_KEY_Z85_LEN + 1],
                    char sec[CMN_KEY_Z85_LEN + 1], bool *created)
{
    if (created)
        *created = false;
    struct stat st;
    if (stat(sec_path, &st) < 0) {
        if (errno != ENOENT)
            return CMN_ERR_ERRNO(CMN_ERR_CONFIG, "key file %s", sec_path);
        if (stat(pub_path, &st) == 0)
            return CMN_ERR(CMN_ERR_CONFIG, "public key %s exists but its "
                           "secret key %s does not: restore it, or remove "
                           "both to make a new pair", pub_path, sec_path);
        if (cmn_key_generate(pub, sec) < 0 ||
            cmn_key_write(sec_path, sec, true, comment) < 0 ||
            cmn_key_write(pub_path, pub, false, comment) < 0)
            return -1;
        if (created)
            *created = true;
        CMN_INFO("new CURVE key pair: %s, %s", sec_path, pub_path);
        return 0;
    }
    if (cmn_key_load_secret(sec_path, sec) < 0 ||
        cmn_key_public_of(sec, pub) < 0)
        return -1;
    char have[CMN_KEY_Z85_LEN + 1];
    if (cmn_key_load_public(pub_path, have) < 0 || strcmp(have, pub) != 0) {
        cmn_err_reset();
        CMN_WARN("public key %s missing or not the pair of %s: rewritten",
                 pub_path, sec_path);
        if (cmn_key_write(pub_path, pub, false, comment) < 0)
            return -1;
    }
    return 0;
}
