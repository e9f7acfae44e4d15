/* REST API users and authentication: password hashing with libsodium's
 * argon2id, bearer tokens stored as SHA-256, header parsing, roles. */
#include "eng_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("engine.auth");

#define TOKEN_BYTES 32
#define WRONG_CREDENTIALS "wrong user name or password"

/* libsodium must be initialised before its random numbers and hashes;
 * sodium_init is idempotent and thread-safe. */
static int
sodium_ready(void)
{
    if (sodium_init() < 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "libsodium cannot initialise");
    return 0;
}

static int
check_password(const char *password)
{
    if (password == NULL || password[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "password is empty");
    if (strlen(password) > ENG_AUTH_PASSWORD_MAX)
        return CMN_ERR(CMN_ERR_INVALID, "password is longer than %d bytes",
                       ENG_AUTH_PASSWORD_MAX);
    return 0;
}

int
eng_auth_hash_password(const char *password, char out[ENG_PWHASH_LEN])
{
    _Static_assert(ENG_PWHASH_LEN >= crypto_pwhash_STRBYTES,
                   "ENG_PWHASH_LEN too small for crypto_pwhash_str");
    if (sodium_ready() < 0 || check_password(password) < 0)
        return -1;
    if (crypto_pwhash_str_alg(out, password, strlen(password),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory hashing a password "
                       "(argon2id needs %zu MiB)",
                       (size_t)(crypto_pwhash_MEMLIMIT_INTERACTIVE >> 20));
    return 0;
}

bool
eng_auth_verify_hash(const char *hash, const char *password)
{
    if (hash == NULL || password == NULL || sodium_init() < 0)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static int
check_name(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "user name is empty");
    if (!cmn_str_printable(name, ENG_NAME_LEN - 1, " :/\\\"'"))
        return CMN_ERR(CMN_ERR_INVALID, "user name '%.64s' must be 1..%d "
                       "printable characters without blanks, quotes, ':', "
                       "'/' or '\\'", name, ENG_NAME_LEN - 1);
    return 0;
}

int
eng_auth_user_add(eng_store_t *s, const char *name, const char *password,
                  eng_role_t role, eng_user_t *out)
{
    eng_user_t u = {0};
    if (check_name(name) < 0)
        return -1;
    if (eng_role_parse(eng_role_name(role)) < 0)
        return CMN_ERR(CMN_ERR_INVALID, "user '%s': bad role %d", name,
                       (int)role);
    if (eng_auth_hash_password(password, u.hash) < 0)
        return -1;
    cmn_uuid_generate(u.id);
    snprintf(u.name, sizeof(u.name), "%s", name);
    u.role = role;
    u.created_ms = (int64_t)cmn_time_ms();
    if (eng_store_user_insert(s, &u) < 0)
        return -1;
    CMN_INFO("user %s added with role %s", u.name, eng_role_name(role));
    if (out != NULL)
        *out = u;
    return 0;
}

int
eng_auth_user_set_password(eng_store_t *s, const char *name,
                           const char *password)
{
    eng_user_t u;
    char hash[ENG_PWHASH_LEN];
    if (eng_store_user_get_by_name(s, name, &u) < 0 ||
        eng_auth_hash_password(password, hash) < 0)
        return -1;
    if (eng_store_begin(s) < 0)
        return -1;
    if (eng_store_user_set_hash(s, u.id, hash) < 0 ||
        eng_store_token_delete_user(s, u.id) < 0 ||
        eng_store_commit(s) < 0) {
        eng_store_rollback(s);
        return -1;
    }
    sodium_memzero(hash, sizeof(hash));
    CMN_INFO("user %s: password changed, tokens revoked", u.name);
    return 0;
}

int
eng_auth_bootstrap(eng_store_t *s, const char *user, const char *password)
{
    eng_user_t u;
    if (user == NULL || user[0] == '\0')
        user = ENG_AUTH_DEFAULT_ADMIN;
    if (eng_store_user_get_by_name(s, user, &u) == 0) {
        CMN_DEBUG("user %s exists; its password is kept", user);
        return 0;
    }
    if (cmn_err_code() != CMN_ERR_NOT_FOUND)
        return -1;
    cmn_err_reset();
    if (password == NULL || password[0] == '\0')
        return CMN_ERR(CMN_ERR_CONFIG, "user %s does not exist yet and no "
                       "password is configured for it", user);
    if (eng_auth_user_add(s, user, password, ENG_ROLE_SUPERUSER, NULL) < 0)
        return -1;
    CMN_INFO("first start: user %s created as SuperUser", user);
    return 0;
}

int
eng_auth_password(eng_store_t *s, const char *name, const char *password,
                  eng_user_t *out)
{
    if (sodium_ready() < 0)
        return -1;
    if (name == NULL || password == NULL ||
        strlen(password) > ENG_AUTH_PASSWORD_MAX)
        return CMN_ERR(CMN_ERR_AUTH, WRONG_CREDENTIALS);
    eng_user_t u;
    if (eng_store_user_get_by_name(s, name, &u) < 0) {
        if (cmn_err_code() != CMN_ERR_NOT_FOUND)
            return -1;
        cmn_err_reset();
        /* Spend what a verification costs so that an unknown user cannot
         * be told from a wrong password by the time of the answer. */
        char dummy[ENG_PWHASH_LEN];
        if (crypto_pwhash_str_alg(dummy, password, strlen(password),
                                  crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
            CMN_DEBUG("out of memory for the unknown-user hash");
        CMN_DEBUG("login as unknown user '%.64s' refused", name);
        return CMN_ERR(CMN_ERR_AUTH, WRONG_CREDENTIALS);
    }
    if (crypto_pwhash_str_verify(u.hash, password, strlen(password)) != 0) {
        CMN_INFO("login as %s refused: wrong password", u.name);
        return CMN_ERR(CMN_ERR_AUTH, WRONG_CREDENTIALS);
    }
    if (crypto_pwhash_str_needs_rehash(u.hash,
                                       crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        char hash[ENG_PWHASH_LEN];
        if (eng_auth_hash_password(password, hash) == 0 &&
            eng_store_user_set_hash(s, u.id, hash) == 0)
            memcpy(u.hash, hash, sizeof(u.hash));
        else
            CMN_WARN("user %s: cannot upgrade password hash: %s", u.name,
                     cmn_err_msg());
        cmn_err_reset();
    }
    if (out != NULL)
        *out = u;
    return 0;
}

/* ---- tokens ---------------------------------------------------------------- */

/* SHA-256 of the token text, as lower-case hex. */
static void
token_hash(const char *token, char out[ENG_TOKEN_HASH_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    _Static_assert(ENG_TOKEN_HASH_LEN == 2 * crypto_hash_sha256_BYTES + 1,
                   "token hash size");
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, ENG_TOKEN_HASH_LEN, h, sizeof(h));
}

static bool
token_well_formed(const char *token)
{
    if (token == NULL)
        return false;
    size_t n = strlen(token);
    if (n != ENG_AUTH_TOKEN_LEN - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

int
eng_auth_token_issue(eng_store_t *s, const char *user_id, int64_t lifetime_ms,
                     int64_t now_ms, char token[ENG_AUTH_TOKEN_LEN],
                     int64_t *expires_ms)
{
    _Static_assert(ENG_AUTH_TOKEN_LEN ==
                   sodium_base64_ENCODED_LEN(TOKEN_BYTES,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                   "token text size");
    if (sodium_ready() < 0)
        return -1;
    if (lifetime_ms <= 0)
        return CMN_ERR(CMN_ERR_INVALID, "token lifetime must be positive");
    if (now_ms == 0)
        now_ms = (int64_t)cmn_time_ms();
    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, ENG_AUTH_TOKEN_LEN, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    eng_token_t t = {0};
    token_hash(token, t.hash);
    snprintf(t.user_id, sizeof(t.user_id), "%s", user_id ? user_id : "");
    t.created_ms = now_ms;
    t.expires_ms = now_ms + lifetime_ms;
    if (eng_store_token_insert(s, &t) < 0) {
        sodium_memzero(token, ENG_AUTH_TOKEN_LEN);
        return -1;
    }
    if (expires_ms != NULL)
        *expires_ms = t.expires_ms;
    return 0;
}

int
eng_auth_token_verify(eng_store_t *s, const char *token, int64_t now_ms,
                      eng_user_t *out)
{
    if (sodium_ready() < 0)
        return -1;
    if (!token_well_formed(token))
        return CMN_ERR(CMN_ERR_AUTH, "malformed bearer token");
    if (now_ms == 0)
        now_ms = (int64_t)cmn_time_ms();
    eng_token_t t;
    token_hash(token, t.hash);
    if (eng_store_token_get(s, t.hash, &t) < 0) {
        if (cmn_err_code() != CMN_ERR_NOT_FOUND)
            return -1;
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_AUTH, "unknown or revoked token; log in again");
    }
    if (t.expires_ms <= now_ms) {
        if (eng_store_token_delete(s, t.hash) < 0)
            CMN_WARN("cannot delete an expired token: %s", cmn_err_msg());
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_AUTH, "token expired; log in again");
    }
    eng_user_t u;
    if (eng_store_user_get(s, t.user_id, &u) < 0) {
        if (cmn_err_code() != CMN_ERR_NOT_FOUND)
            return -1;
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_AUTH, "the token's user no longer exists");
    }
    if (out != NULL)
        *out = u;
    return 0;
}

int
eng_auth_token_revoke(eng_store_t *s, const char *token)
{
    if (sodium_ready() < 0)
        return -1;
    if (!token_well_formed(token))
        return CMN_ERR(CMN_ERR_NOT_FOUND, "malformed token");
    char hash[ENG_TOKEN_HASH_LEN];
    token_hash(token, hash);
    return eng_store_token_delete(s, hash);
}

/* ---- headers --------------------------------------------------------------- */

/* Skip `scheme` (any case) and the blanks after it; NULL if absent. */
static const char *
after_scheme(const char *header, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(header, scheme, n) != 0 ||
        (header[n] != ' ' && header[n] != '\t'))
        return NULL;
    header += n;
    while (*header == ' ' || *header == '\t')
        header++;
    return header;
}

int
eng_auth_basic_parse(const char *header, char *user, size_t user_size,
                     char *password, size_t password_size)
{
    if (sodium_ready() < 0)
        return -1;
    if (header == NULL || header[0] == '\0')
        return CMN_ERR(CMN_ERR_AUTH, "no Authorization header");
    const char *b64 = after_scheme(header, "Basic");
    if (b64 == NULL)
        return CMN_ERR(CMN_ERR_AUTH, "Authorization header is not 'Basic "
                       "<credentials>'");
    size_t len = strlen(b64);
    while (len > 0 && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
        len--;
    if (len == 0)
        return CMN_ERR(CMN_ERR_AUTH, "Basic credentials are empty");
    unsigned char bin[ENG_NAME_LEN + ENG_AUTH_PASSWORD_MAX + 2];
    size_t blen = 0;
    if (len > sodium_base64_ENCODED_LEN(sizeof(bin) - 1,
                                        sodium_base64_VARIANT_ORIGINAL))
        return CMN_ERR(CMN_ERR_AUTH, "Basic credentials are too long");
    const char *end = NULL;
    if (sodium_base642bin(bin, sizeof(bin) - 1, b64, len, NULL, &blen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != b64 + len) {
        /* some clients leave the padding out */
        if (sodium_base642bin(bin, sizeof(bin) - 1, b64, len, NULL, &blen,
                              &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)
            != 0 || end != b64 + len)
            return CMN_ERR(CMN_ERR_AUTH, "Basic credentials are not valid "
                           "base64");
    }
    bin[blen] = '\0';
    int rc = -1;
    if (memchr(bin, '\0', blen) != NULL) {
        CMN_ERR(CMN_ERR_AUTH, "Basic credentials hold a NUL byte");
        goto out;
    }
    char *colon = strchr((char *)bin, ':');
    if (colon == NULL) {
        CMN_ERR(CMN_ERR_AUTH, "Basic credentials are not 'user:password' "
                "(no ':')");
        goto out;
    }
    *colon = '\0';
    const char *u = (const char *)bin, *p = colon + 1;
    if (u[0] == '\0') {
        CMN_ERR(CMN_ERR_AUTH, "Basic credentials have an empty user name");
        goto out;
    }
    if (strlen(u) >= user_size || strlen(p) >= password_size) {
        CMN_ERR(CMN_ERR_AUTH, "Basic credentials: user name or password too "
                "long");
        goto out;
    }
    memcpy(user, u, strlen(u) + 1);
    memcpy(password, p, strlen(p) + 1);
    rc = 0;
out:
    sodium_memzero(bin, sizeof(bin));
    return rc;
}

int
eng_auth_bearer_parse(const char *header, char token[ENG_AUTH_TOKEN_LEN])
{
    if (header == NULL || header[0] == '\0')
        return CMN_ERR(CMN_ERR_AUTH, "no Authorization header");
    const char *t = after_scheme(header, "Bearer");
    if (t == NULL)
        return CMN_ERR(CMN_ERR_AUTH, "Authorization header is not 'Bearer "
                       "<token>'");
    size_t len = strlen(t);
    while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
        len--;
    if (len != ENG_AUTH_TOKEN_LEN - 1)
        return CMN_ERR(CMN_ERR_AUTH, "malformed bearer token");
    memcpy(token, t, len);
    token[len] = '\0';
    if (!token_well_formed(token))
        return CMN_ERR(CMN_ERR_AUTH, "malformed bearer token");
    return 0;
}

int
eng_auth_request(eng_store_t *s, const char *authorization, int64_t now_ms,
                 eng_user_t *out)
{
    if (authorization == NULL || authorization[0] == '\0')
        return CMN_ERR(CMN_ERR_AUTH, "authentication required");
    if (after_scheme(authorization, "Bearer") != NULL) {
        char token[ENG_AUTH_TOKEN_LEN];
        if (eng_auth_bearer_parse(authorization, token) < 0)
            return -1;
        return eng_auth_token_verify(s, token, now_ms, out);
    }
    if (after_scheme(authorization, "Basic") == NULL)
        return CMN_ERR(CMN_ERR_AUTH, "unsupported Authorization scheme; use "
                       "Basic or Bearer");
    char user[ENG_NAME_LEN], password[ENG_AUTH_PASSWORD_MAX + 1];
    int rc = eng_auth_basic_parse(authorization, user, sizeof(user), password,
                                  sizeof(password));
    if (rc == 0)
        rc = eng_auth_password(s, user, password, out);
    sodium_memzero(password, sizeof(password));
    return rc;
}

/* ---- roles ----------------------------------------------------------------- */

int
eng_auth_check(eng_role_t role, const char *method, const char *kind,
               const char *action)
{
    if (method == NULL)
        method = "";
    if (kind == NULL)
        kind = "";
    bool has_action = action != NULL && action[0] != '\0';
    bool read = !has_action && (strcmp(method, "GET") == 0 ||
                                strcmp(method, "HEAD") == 0);
    switch (role) {
    case ENG_ROLE_SUPERUSER:
        return 0;
    case ENG_ROLE_OPERATOR:
    case ENG_ROLE_READONLY:
        if (strcmp(kind, "users") == 0)
            return CMN_ERR(CMN_ERR_DENIED, "role %s may not see or change "
                           "users (SuperUser only)", eng_role_name(role));
        if (read)
            return 0;
        if (role == ENG_ROLE_OPERATOR && strcmp(kind, "vms") == 0)
            return 0;
        break;
    default:
        return CMN_ERR(CMN_ERR_DENIED, "unknown role %d", (int)role);
    }
    if (has_action)
        return CMN_ERR(CMN_ERR_DENIED, "role %s may not run action '%s' on "
                       "%s%s", eng_role_name(role), action, kind,
                       role == ENG_ROLE_OPERATOR ? " (Operator: VMs only)" :
                       " (ReadOnly)");
    return CMN_ERR(CMN_ERR_DENIED, "role %s may not %s %s%s",
                   eng_role_name(role), method, kind,
                   role == ENG_ROLE_OPERATOR ? " (Operator: VMs only)" :
                   " (ReadOnly)");
}
