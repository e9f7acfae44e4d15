/* One-time enrollment tokens (made, stored as their SHA-256, listed by the
 * API, deleted) and the token bucket of agents.pending_rate. The hello
 * that presents a token is handled in eng_enroll.c. See eng_enroll.h. */
#include "eng_enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("eng.enroll");

/* ---- rate of new pending hosts -------------------------------------------- */

#define RATE_UNIT 60000         /* one hello, in the bucket's units */

void eng_rate_init(eng_rate_t *r, int64_t per_min, int64_t now_ms)
{
    r->per_min = per_min > 0 ? per_min : 0;
    r->level = r->per_min * RATE_UNIT;
    r->last_ms = now_ms;
}

bool eng_rate_take(eng_rate_t *r, int64_t now_ms)
{
    if (r->per_min <= 0)
        return true;
    int64_t cap = r->per_min * RATE_UNIT;
    if (now_ms > r->last_ms) {
        /* A minute refills the bucket: no need to count further (nor to
         * risk overflow on a long idle time). */
        int64_t dt = now_ms - r->last_ms;
        if (dt > RATE_UNIT)
            dt = RATE_UNIT;
        r->level += dt * r->per_min;
        if (r->level > cap)
            r->level = cap;
        r->last_ms = now_ms;
    }
    if (r->level < RATE_UNIT)
        return false;
    r->level -= RATE_UNIT;
    return true;
}

/* ---- tokens ---------------------------------------------------------------- */

void eng_enroll_token_hash(const char *token, char out[ENG_TOKEN_HASH_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, ENG_TOKEN_HASH_LEN, h, sizeof(h));
}

void eng_enroll_token_prune(eng_store_t *store, int64_t now_ms)
{
    int64_t n = eng_store_enroll_token_prune(store, now_ms);
    if (n < 0) {
        /* Only housekeeping: what the caller did stands. */
        CMN_WARN("cannot remove old enrollment tokens: %s", cmn_err_msg());
        cmn_err_reset();
    } else if (n > 0) {
        CMN_INFO("removed %lld enrollment token(s) used or expired more "
                 "than 7 days ago", (long long)n);
    }
}

char *eng_enroll_token_store(eng_store_t *store, const char *name,
                             int64_t lifetime_s, const char *user,
                             char id_out[ENG_ID_LEN])
{
    if (name && *name && !cmn_str_printable(name, ENG_NAME_LEN - 1, NULL)) {
        CMN_ERR(CMN_ERR_INVALID, "name: must be 1..%d printable characters",
                ENG_NAME_LEN - 1);
        return NULL;
    }
    if (lifetime_s < 0 || lifetime_s > 366LL * 86400) {
        CMN_ERR(CMN_ERR_INVALID, "lifetime: 0 .. 31622400 seconds");
        return NULL;
    }
    unsigned char raw[24];
    randombytes_buf(raw, sizeof(raw));
    char *tok = malloc(64);
    if (!tok) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sodium_bin2base64(tok, 64, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    eng_enroll_token_t t = {0};
    cmn_uuid_generate(t.id);
    eng_enroll_token_hash(tok, t.hash);
    snprintf(t.name, sizeof(t.name), "%s", name ? name : "");
    snprintf(t.created_by, sizeof(t.created_by), "%s", user ? user : "");
    t.created_ms = (int64_t)cmn_time_ms();
    t.expires_ms = lifetime_s ? t.created_ms + lifetime_s * 1000 : 0;
    if (eng_store_enroll_token_insert(store, &t) < 0) {
        sodium_memzero(tok, 64);
        free(tok);
        return NULL;
    }
    if (id_out)
        snprintf(id_out, ENG_ID_LEN, "%s", t.id);
    eng_enroll_token_prune(store, t.created_ms);
    return tok;
}

int eng_enroll_token_delete(eng_ctx_t *ctx, const char *id, const char *user)
{
    eng_enroll_token_t t;
    if (eng_store_enroll_token_delete(ctx->store, id, &t) < 0)
        return -1;
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_HOST_KEY_REVOKED, NULL, NULL, user,
              "Enrollment token %s%s%s deleted by %s: it can no longer "
              "enroll a host", t.id, t.name[0] ? " for " : "", t.name,
              user && *user ? user : "(unknown)");
    return 0;
}

int eng_enroll_cli_token(const eng_conf_t *conf, const char *name,
                         int64_t lifetime_s)
{
    eng_store_t *st = eng_store_open(conf->database);
    if (!st)
        return -1;
    char id[ENG_ID_LEN];
    char *tok = eng_enroll_token_store(st, name, lifetime_s, NULL, id);
    if (tok) {
        eng_event_t ev = { .severity = ENG_SEV_NORMAL,
                           .code = ENG_EV_HOST_KEY_REGISTERED };
        snprintf(ev.description, sizeof(ev.description), "Enrollment token "
                 "%s created%s%s (herd-engine --enroll-token)", id,
                 name && *name ? " for " : "", name ? name : "");
        eng_store_event_add(st, &ev);
        printf("%s\n", tok);
    }
    eng_store_destroy(&st);
    int rc = tok ? 0 : -1;
    free(tok);
    return rc;
}
