/* Admin actions on agent keys: the key the API shows, approve, revoke,
 * forget, pre-registration, enrollment tokens and the CLI's show-key.
 * See eng_enroll.h. */
#include "eng_enroll.h"
#include "eng_enroll_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_agents_priv.h"
#include "eng_enginekey.h"

CMN_LOG_INIT("eng.enroll");

/* ---- admin actions ------------------------------------------------------- */

/* Which key the API shows: the newest; in the same millisecond the one
 * that is not on its way out. */
static bool s_newer(const eng_hostkey_t *a, const eng_hostkey_t *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms > b->created_ms;
    int ra = (a->expires_ms == 0) + (a->state != ENG_KEY_REVOKED);
    int rb = (b->expires_ms == 0) + (b->state != ENG_KEY_REVOKED);
    return ra > rb;
}

bool eng_enroll_host_key(eng_enroll_t *en, const char *host_id,
                         char fp[CMN_KEY_FP_LEN], eng_key_state_t *state)
{
    s_key_t *best = NULL;
    for (size_t b = 0; en && b < KEY_BUCKETS; b++)
        for (s_key_t *e = en->keys[b]; e; e = e->next)
            if (strcmp(e->k.host_id, host_id) == 0 &&
                (!best || s_newer(&e->k, &best->k)))
                best = e;
    if (!best)
        return false;
    snprintf(fp, CMN_KEY_FP_LEN, "%s", best->k.fingerprint);
    *state = best->k.state;
    return true;
}

static int s_host_name(eng_enroll_t *en, const char *host_id, char *out,
                       size_t n)
{
    eng_host_t h = {0};
    if (eng_store_host_get(en->ctx->store, host_id, &h) < 0)
        return -1;
    snprintf(out, n, "%s", h.name);
    eng_host_clear(&h);
    return 0;
}

void eng_enroll_host_json(eng_enroll_t *en, const char *host_id,
                          json_t *host)
{
    char fp[CMN_KEY_FP_LEN];
    eng_key_state_t st;
    if (!en || !host || !eng_enroll_host_key(en, host_id, fp, &st))
        return;
    json_object_set_new(host, "curve_key",
                        json_pack("{s:s,s:s}", "fingerprint", fp, "state",
                                  eng_key_state_name(st)));
}

int eng_enroll_approve(eng_enroll_t *en, const char *host_id,
                       const char *user)
{
    if (!en)
        return 0;
    char name[ENG_NAME_LEN];
    if (s_host_name(en, host_id, name, sizeof(name)) < 0)
        return -1;
    s_key_t *pend = NULL;
    for (size_t b = 0; b < KEY_BUCKETS; b++)
        for (s_key_t *e = en->keys[b]; e; e = e->next)
            if (e->k.state == ENG_KEY_PENDING &&
                strcmp(e->k.host_id, host_id) == 0)
                pend = e;
    if (!pend)
        return CMN_ERR(CMN_ERR_STATE, "host %s has no key waiting for "
                       "approval", name);
    eng_hostkey_t k = pend->k;
    k.state = ENG_KEY_APPROVED;
    k.approved_ms = (int64_t)cmn_time_ms();
    if (eng_enroll_key_put(en, &k) < 0)
        return -1;
    eng_store_host_set_status(en->ctx->store, host_id, ENG_HOST_CONNECTING,
                              k.approved_ms);
    eng_hostent_t *h = en->ctx->agents
                           ? eng_agents_add(en->ctx->agents, host_id) : NULL;
    if (h) {
        h->status = ENG_HOST_CONNECTING;
        h->last_seen_mono = cmn_mono_ms();
    }
    eng_event(en->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_APPROVED, host_id, NULL,
              user, "Host %s approved (key %s)", name, k.fingerprint);
    return 0;
}

static int s_revoke_all(eng_enroll_t *en, const char *host_id)
{
    int n = 0;
    for (size_t b = 0; b < KEY_BUCKETS; b++)
        for (s_key_t *e = en->keys[b]; e; e = e->next)
            if (strcmp(e->k.host_id, host_id) == 0 &&
                e->k.state != ENG_KEY_REVOKED) {
                eng_hostkey_t k = e->k;
                k.state = ENG_KEY_REVOKED;
                if (eng_enroll_key_put(en, &k) < 0)
                    return -1;
                n++;
            }
    eng_enroll_route_forget(en, host_id);
    return n;
}

/* End the host's session now: requests fail, its VMs become unknown, the
 * host non_responsive (a removed host has no record left to change). */
static void s_cut_off(eng_enroll_t *en, const char *host_id, const char *why)
{
    eng_agents_t *a = en->ctx->agents;
    if (!a)
        return;
    eng_agents_cut_off(a, host_id, why);
    eng_host_t h = {0};
    if (eng_store_host_get(en->ctx->store, host_id, &h) == 0) {
        eng_store_host_set_status(en->ctx->store, host_id,
                                  ENG_HOST_NON_RESPONSIVE,
                                  (int64_t)cmn_time_ms());
        eng_agt_host_lost_vms(a, host_id);
    }
    eng_host_clear(&h);
    cmn_err_reset();
}

int eng_enroll_revoke(eng_enroll_t *en, const char *host_id,
                      const char *user)
{
    if (!en)
        return CMN_ERR(CMN_ERR_UNSUPPORTED, "agent links are not "
                       "authenticated (agents.curve: false): nothing to "
                       "revoke");
    char name[ENG_NAME_LEN];
    if (s_host_name(en, host_id, name, sizeof(name)) < 0)
        return -1;
    int n = s_revoke_all(en, host_id);
    if (n < 0)
        return -1;
    if (n == 0)
        return CMN_ERR(CMN_ERR_STATE, "host %s has no key to revoke", name);
    s_cut_off(en, host_id, "its key was revoked");
    eng_event(en->ctx, ENG_SEV_WARNING, ENG_EV_HOST_KEY_REVOKED, host_id,
              NULL, user, "Host %s: key revoked, host cut off", name);
    return 0;
}

int eng_enroll_forget(eng_enroll_t *en, const char *host_id,
                      const char *user)
{
    (void)user;
    if (!en)
        return 0;
    if (s_revoke_all(en, host_id) < 0)
        return -1;
    s_cut_off(en, host_id, "host removed");
    return 0;
}

/* Why a known key cannot be pre-registered (CMN_ERR_EXISTS, -1). */
static int s_known_key(eng_enroll_t *en, const eng_hostkey_t *k)
{
    char host[ENG_NAME_LEN + ENG_ID_LEN + 16] = "";
    char name[ENG_NAME_LEN];
    if (k->host_id[0]) {
        if (s_host_name(en, k->host_id, name, sizeof(name)) == 0)
            snprintf(host, sizeof(host), "host %s (%s)", name, k->host_id);
        else
            snprintf(host, sizeof(host), "host id %s", k->host_id);
        cmn_err_reset();
    }
    switch (k->state) {
    case ENG_KEY_REVOKED:
        return CMN_ERR(CMN_ERR_EXISTS, "key %s is known already and was "
                       "revoked; make a new key pair on the host "
                       "(herd-agent-setup)", k->fingerprint);
    case ENG_KEY_PENDING:
        return CMN_ERR(CMN_ERR_EXISTS, "key %s is known already: %s is "
                       "pending approval with it; approve that host instead "
                       "(POST /hosts/{id}/approve)", k->fingerprint, host);
    default:
        if (k->host_id[0])
            return CMN_ERR(CMN_ERR_EXISTS, "key %s is registered already: it "
                           "is the key of %s", k->fingerprint, host);
        return CMN_ERR(CMN_ERR_EXISTS, "key %s is registered already%s%s; "
                       "it has not connected yet", k->fingerprint,
                       k->name[0] ? " as " : "", k->name);
    }
}

int eng_enroll_register(eng_enroll_t *en, const char *public_key,
                        const char *name, const char *user)
{
    if (!en)
        return CMN_ERR(CMN_ERR_UNSUPPORTED, "agents.curve is false");
    if (!cmn_key_valid(public_key))
        return CMN_ERR(CMN_ERR_INVALID, "public key: not a CURVE key (40 Z85 "
                       "characters)");
    if (name && *name && !cmn_str_printable(name, ENG_NAME_LEN - 1, NULL))
        return CMN_ERR(CMN_ERR_INVALID, "name: must be 1..%d printable "
                       "characters", ENG_NAME_LEN - 1);
    s_key_t *e = eng_enroll_key_find(en, public_key);
    if (e)
        return s_known_key(en, &e->k);
    for (size_t b = 0; name && *name && b < KEY_BUCKETS; b++)
        for (s_key_t *o = en->keys[b]; o; o = o->next)
            if (o->k.state == ENG_KEY_APPROVED && !o->k.host_id[0] &&
                strcmp(o->k.name, name) == 0)
                return CMN_ERR(CMN_ERR_EXISTS, "name: '%s' is pre-registered "
                               "already, for key %s, which has not "
                               "connected yet", name, o->k.fingerprint);
    eng_hostkey_t k = {0};
    snprintf(k.public_key, sizeof(k.public_key), "%s", public_key);
    cmn_key_fingerprint(public_key, k.fingerprint);
    snprintf(k.name, sizeof(k.name), "%s", name ? name : "");
    k.state = ENG_KEY_APPROVED;
    k.created_ms = (int64_t)cmn_time_ms();
    k.approved_ms = k.created_ms;
    if (eng_enroll_key_put(en, &k) < 0)
        return -1;
    eng_event(en->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_KEY_REGISTERED, NULL,
              NULL, user, "Host key %s registered%s%s", k.fingerprint,
              k.name[0] ? " for " : "", k.name);
    return 0;
}

char *eng_enroll_token_make(eng_enroll_t *en, const char *name,
                            int64_t lifetime_s, const char *user,
                            char id_out[ENG_ID_LEN])
{
    if (!en) {
        CMN_ERR(CMN_ERR_UNSUPPORTED, "agents.curve is false");
        return NULL;
    }
    char id[ENG_ID_LEN];
    char *tok = eng_enroll_token_store(en->ctx->store, name, lifetime_s,
                                      user, id);
    if (!tok)
        return NULL;
    eng_event(en->ctx, ENG_SEV_NORMAL, ENG_EV_HOST_KEY_REGISTERED, NULL,
              NULL, user, "Enrollment token %s created%s%s", id,
              name && *name ? " for " : "", name ? name : "");
    if (id_out)
        snprintf(id_out, ENG_ID_LEN, "%s", id);
    return tok;
}

char *eng_enroll_token_create(eng_enroll_t *en, const char *name,
                              int64_t lifetime_s, const char *user)
{
    return eng_enroll_token_make(en, name, lifetime_s, user, NULL);
}

int eng_enroll_cli_show_key(const eng_conf_t *conf)
{
    char p[1024], key[CMN_KEY_Z85_LEN + 1], fp[CMN_KEY_FP_LEN];
    snprintf(p, sizeof(p), "%s/engine.pub", conf->agents_key_dir);
    if (cmn_key_load_public(p, key) < 0 || cmn_key_fingerprint(key, fp) < 0) {
        char msg[1100];
        snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_CONFIG, "%s (herd-engine makes its key pair "
                       "at its first start)", msg);
    }
    printf("engine public key:  %s\nfingerprint:        %s\nkey file:           "
           "%s\n", key, fp, p);
    /* A rotation under way: its next key and switch time. */
    return eng_enginekey_cli_show(conf->agents_key_dir);
}
