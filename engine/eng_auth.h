/* REST API users and authentication: argon2id password hashes (libsodium),
 * bearer tokens (random, stored hashed, expiring, revocable), Basic and
 * Bearer header parsing, and the role -> permission rule.
 *
 * Failures to authenticate are CMN_ERR_AUTH (HTTP 401) with one message for
 * an unknown user and a wrong password, so that callers cannot tell which;
 * refusals by role are CMN_ERR_DENIED (HTTP 403). */
#ifndef ENG_AUTH_H
#define ENG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "eng_store.h"

#define ENG_AUTH_PASSWORD_MAX 1024      /* bytes */
#define ENG_AUTH_TOKEN_LEN 44           /* 43 base64url chars + NUL */
#define ENG_AUTH_DEFAULT_ADMIN "admin@internal"

/* Hash `password` with argon2id at libsodium's interactive limits into
 * `out` (ENG_PWHASH_LEN bytes, NUL-terminated). -1 with CMN_ERR_INVALID
 * (empty or too long) or CMN_ERR_NOMEM recorded. */
int eng_auth_hash_password(const char *password, char out[ENG_PWHASH_LEN]);

/* True if `password` matches `hash` (a crypto_pwhash_str string). */
bool eng_auth_verify_hash(const char *hash, const char *password);

/* Add a user. `name` is 1..255 printable characters without blanks, ':'
 * or '/' ("joe@internal"); the password is hashed here. -1 with
 * CMN_ERR_INVALID, CMN_ERR_EXISTS or a store error recorded. `out` (may be
 * NULL) gets the new record. */
int eng_auth_user_add(eng_store_t *s, const char *name, const char *password,
                      eng_role_t role, eng_user_t *out);

/* Replace a user's password (by name). Its tokens are revoked. */
int eng_auth_user_set_password(eng_store_t *s, const char *name,
                               const char *password);

/* First start: make `user` (NULL: admin@internal) a SuperUser with
 * `password` unless it exists already (then nothing changes and 0 is
 * returned). A missing or empty password for a user that must be created
 * is CMN_ERR_CONFIG naming the user. */
int eng_auth_bootstrap(eng_store_t *s, const char *user, const char *password);

/* Check a user name and password. 0 and *out filled, or -1 with CMN_ERR_AUTH
 * ("wrong user name or password") for an unknown user or a wrong password:
 * both take one argon2id computation, so timing does not tell them apart.
 * A hash made with older limits is upgraded on success. */
int eng_auth_password(eng_store_t *s, const char *name, const char *password,
                      eng_user_t *out);

/* Issue a bearer token for user `user_id` valid for `lifetime_ms` from
 * `now_ms` (0: the current time). The token text (base64url of 32 random
 * bytes) goes to `token` (ENG_AUTH_TOKEN_LEN bytes); only its SHA-256 is
 * stored. *expires_ms (may be NULL) gets the expiry. */
int eng_auth_token_issue(eng_store_t *s, const char *user_id,
                         int64_t lifetime_ms, int64_t now_ms,
                         char token[ENG_AUTH_TOKEN_LEN], int64_t *expires_ms);

/* Check a bearer token at `now_ms` (0: the current time): 0 and the user
 * in *out, or -1 with CMN_ERR_AUTH for a malformed, unknown, revoked or
 * expired token (an expired one is deleted). */
int eng_auth_token_verify(eng_store_t *s, const char *token, int64_t now_ms,
                          eng_user_t *out);

/* Revoke a token (logout). CMN_ERR_NOT_FOUND if it is not known. */
int eng_auth_token_revoke(eng_store_t *s, const char *token);

/* Parse an Authorization header "Basic <base64 of user:password>" (scheme in
 * any case). 0 with the parts copied into the buffers, or -1 with CMN_ERR_AUTH
 * saying what is wrong (other scheme, bad base64, no ':', empty user, NUL
 * bytes, too long). */
int eng_auth_basic_parse(const char *header, char *user, size_t user_size,
                         char *password, size_t password_size);

/* Parse "Bearer <token>" into `token` (ENG_AUTH_TOKEN_LEN bytes); -1 with
 * CMN_ERR_AUTH if the header is not that. */
int eng_auth_bearer_parse(const char *header, char token[ENG_AUTH_TOKEN_LEN]);

/* Authenticate one request from its Authorization header (NULL if
 * absent): "Bearer <token>" is checked with eng_auth_token_verify at
 * `now_ms` (0: now), "Basic ..." with eng_auth_password. 0 and the user in
 * *out, or -1 with CMN_ERR_AUTH ("authentication required" when there is
 * no header; the REST layer answers 401 with WWW-Authenticate: Basic
 * realm="RESTAPI"). */
int eng_auth_request(eng_store_t *s, const char *authorization, int64_t now_ms,
                     eng_user_t *out);

/* May a user with `role` do `method` (GET, HEAD, POST, PUT, DELETE) on a
 * resource of `kind` (the collection name: "vms", "hosts", "clusters",
 * "datacenters", "events", "users", ...) with `action` (NULL or "" for
 * plain CRUD, else the action name: "start", "ticket")? 0 if allowed, else
 * -1 with CMN_ERR_DENIED and a message naming the role and what it may
 * not do.
 *   SuperUser: everything.
 *   Operator: reads everything but users; writes and actions on vms only.
 *   ReadOnly: reads everything but users. */
int eng_auth_check(eng_role_t role, const char *method, const char *kind,
                   const char *action);

#endif /* ENG_AUTH_H */
