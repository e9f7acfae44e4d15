/* Rotation of the engine's CURVE key pair: the next pair's files, start,
 * switch, the switch timer, promotion or resumption at start. See
 * eng_enginekey.h. */
#include "eng_enginekey.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "cmn_keys.h"
#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_enroll.h"

CMN_LOG_INIT("eng.enginekey");

#define S_PATH_MAX 1024
#define S_RETRY_S 60            /* a failed switch is tried again after */

struct eng_enginekey {
    eng_ctx_t *ctx;
    eng_agents_t *agents;
    struct eng_enroll *en;
    struct event *timer;        /* the switch time (or now, window 0) */
    struct event *wait;         /* end of the wait for the hosts' answers */
    bool active;                /* a rotation is under way */
    bool asap;                  /* window 0 */
    bool switching;             /* switch_now sent, answers awaited */
    char pub[CMN_KEY_Z85_LEN + 1];
    char sec[CMN_KEY_Z85_LEN + 1];
    int64_t switch_ms;
    char user[ENG_NAME_LEN];    /* who switched ("" = the timer) */
    eng_agents_key_batch_t *batch;
    eng_enginekey_cb cb;
    void *cb_opaque;
};

/* ---- files ---------------------------------------------------------------- */

typedef struct {
    char key[S_PATH_MAX], pub[S_PATH_MAX];              /* engine.key/.pub */
    char nkey[S_PATH_MAX], npub[S_PATH_MAX], nswitch[S_PATH_MAX];
} s_paths_t;

static void s_paths(const char *dir, s_paths_t *p)
{
    snprintf(p->key, sizeof(p->key), "%s/engine.key", dir);
    snprintf(p->pub, sizeof(p->pub), "%s/engine.pub", dir);
    snprintf(p->nkey, sizeof(p->nkey), "%s/engine.next.key", dir);
    snprintf(p->npub, sizeof(p->npub), "%s/engine.next.pub", dir);
    snprintf(p->nswitch, sizeof(p->nswitch), "%s/engine.next.switch", dir);
}

static bool s_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void s_unlink(const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT)
        CMN_WARN("cannot remove %s: %s", path, strerror(errno));
}

/* The switch time in `path`: one line of Unix ms. */
int eng_enginekey_read_switch(const char *path, int64_t *out)
{
    size_t len = 0;
    char *text = cmn_file_read(path, 256, &len);
    if (!text && cmn_err_code() != CMN_ERR_TOO_BIG)
        return -1;              /* cannot read it: that error names it */
    /* strchr() would take a NUL for a blank; one inside would hide the
     * rest of the file from cmn_parse_int64. */
    while (text && len > 0 && text[len - 1] != '\0' &&
           strchr(" \t\r\n", text[len - 1]))
        text[--len] = '\0';
    int rc = text && strlen(text) == len ?
        cmn_parse_int64(text, 1, INT64_MAX / 2, "switch time", out) : -1;
    free(text);
    if (rc < 0) {
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_CONFIG, "%s: expected one line with the "
                       "switch time in Unix milliseconds (remove the "
                       "engine.next.* files to abandon the rotation)", path);
    }
    return 0;
}

/* A rotation on disk: 1 and the next pair and switch time, 0 when there
 * is none (leftovers of an interrupted start or switch are removed), -1
 * with an error recorded. */
static int s_scan(const s_paths_t *p, char pub[CMN_KEY_Z85_LEN + 1],
                  char sec[CMN_KEY_Z85_LEN + 1], int64_t *switch_ms)
{
    bool key = s_exists(p->nkey), sw = s_exists(p->nswitch);
    if (!key && !sw) {
        s_unlink(p->npub);
        return 0;
    }
    if (!sw) {
        /* The switch file is written last: the start did not finish. */
        CMN_WARN("removing %s: a rotation start that did not finish", p->nkey);
        s_unlink(p->nkey);
        s_unlink(p->npub);
        return 0;
    }
    if (!key) {
        /* The key was renamed first: the switch happened. */
        CMN_INFO("removing %s: its rotation was switched already",
                 p->nswitch);
        s_unlink(p->npub);
        s_unlink(p->nswitch);
        return 0;
    }
    if (eng_enginekey_read_switch(p->nswitch, switch_ms) < 0 ||
        cmn_key_load_secret(p->nkey, sec) < 0 ||
        cmn_key_public_of(sec, pub) < 0)
        return -1;
    char have[CMN_KEY_Z85_LEN + 1];
    if (cmn_key_load_public(p->npub, have) < 0 || strcmp(have, pub) != 0) {
        cmn_err_reset();
        if (cmn_key_write(p->npub, pub, false, "herd-engine (next)") < 0)
            return -1;
    }
    return 1;
}

/* Make the next pair the engine's: the secret key's rename is the point
 * of no return (s_scan treats a rotation without it as switched). */
static int s_promote_files(const s_paths_t *p, const char *pub)
{
    if (rename(p->nkey, p->key) < 0)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot rename %s to %s", p->nkey,
                             p->key);
    if (cmn_key_write(p->pub, pub, false, "herd-engine") < 0) {
        /* eng_enroll_new rewrites engine.pub from engine.key at start. */
        CMN_ERROR("cannot write %s: %s", p->pub, cmn_err_msg());
        cmn_err_reset();
    }
    s_unlink(p->npub);
    s_unlink(p->nswitch);
    return 0;
}

int eng_enginekey_promote_due(eng_ctx_t *ctx)
{
    s_paths_t p;
    s_paths(ctx->conf.agents_key_dir, &p);
    char pub[CMN_KEY_Z85_LEN + 1], sec[CMN_KEY_Z85_LEN + 1];
    int64_t when = 0;
    int r = s_scan(&p, pub, sec, &when);
    sodium_memzero(sec, sizeof(sec));
    if (r <= 0)
        return r;
    if (when > (int64_t)cmn_time_ms())
        return 0;       /* eng_enginekey_new resumes it */
    char old[CMN_KEY_Z85_LEN + 1], ofp[CMN_KEY_FP_LEN] = "(unknown)";
    char nfp[CMN_KEY_FP_LEN];
    if (cmn_key_load_public(p.pub, old) < 0 ||
        cmn_key_fingerprint(old, ofp) < 0)
        snprintf(ofp, sizeof(ofp), "(unknown)");
    cmn_err_reset();
    cmn_key_fingerprint(pub, nfp);
    if (s_promote_files(&p, pub) < 0)
        return -1;
    char iso[40];
    cmn_time_iso((uint64_t)when, iso, sizeof(iso));
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_ENGINE_KEY_ROTATED, NULL, NULL,
              NULL, "Engine key rotated: %s -> %s while the engine was down "
              "(switch time %s); hosts that missed the switch use the next "
              "key they were given, or need herd-agent-setup --fetch-key",
              ofp, nfp, iso);
    return 0;
}

/* ---- timers --------------------------------------------------------------- */

static void s_arm(struct event *ev, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
    evtimer_del(ev);
    evtimer_add(ev, &tv);
}

/* Arm the switch timer for the rotation's time. */
static void s_arm_switch(eng_enginekey_t *ek)
{
    s_arm(ek->timer, ek->switch_ms - (int64_t)cmn_time_ms());
}

static void s_done(eng_enginekey_t *ek, cmn_code_t code, const char *msg)
{
    eng_enginekey_cb cb = ek->cb;
    void *opaque = ek->cb_opaque;
    ek->cb = NULL;
    ek->cb_opaque = NULL;
    if (cb)
        cb(code, msg, opaque);
}

/* Events 119 for approved hosts without the next key; returns how many
 * have it. */
static size_t s_report_hosts(eng_enginekey_t *ek)
{
    eng_agents_key_host_t *hosts = NULL;
    size_t n = 0, have = 0;
    if (eng_agents_key_hosts(ek->agents, &hosts, &n) < 0) {
        CMN_WARN("cannot list the hosts for the key switch: %s",
                 cmn_err_msg());
        cmn_err_reset();
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (hosts[i].has_next_key) {
            have++;
            continue;
        }
        eng_event(ek->ctx, ENG_SEV_WARNING, ENG_EV_ENGINE_KEY_HOST_MISSED,
                  hosts[i].id, NULL, NULL, "Host %s did not receive the "
                  "engine's next key: run herd-agent-setup --fetch-key on "
                  "it", hosts[i].name);
    }
    free(hosts);
    return have;
}

/* The hosts answered (or the wait ended): promote and re-bind. */
static void s_finish(eng_enginekey_t *ek)
{
    cmn_err_reset();
    eng_agents_key_batch_cancel(ek->batch);
    ek->batch = NULL;
    ek->switching = false;
    s_paths_t p;
    s_paths(ek->ctx->conf.agents_key_dir, &p);
    char ofp[CMN_KEY_FP_LEN] = "(unknown)", nfp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(eng_enroll_public_key(ek->en), ofp);
    cmn_key_fingerprint(ek->pub, nfp);
    const char *user = ek->user[0] ? ek->user : NULL;
    if (s_promote_files(&p, ek->pub) < 0) {
        char msg[1100];
        snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
        cmn_code_t code = cmn_err_code();
        eng_event(ek->ctx, ENG_SEV_ERROR, ENG_EV_ENGINE_KEY_ROTATED, NULL,
                  NULL, user, "Engine key switch failed (tried again in %d "
                  "s): %s", S_RETRY_S, msg);
        s_arm(ek->timer, S_RETRY_S * 1000);
        s_done(ek, code, msg);
        return;
    }
    eng_enroll_set_engine_keys(ek->en, ek->pub, ek->sec);
    cmn_code_t code = CMN_OK;
    char msg[1100] = "";
    if (eng_agents_rekey(ek->agents, ek->sec) < 0) {
        code = cmn_err_code();
        snprintf(msg, sizeof(msg), "the agent socket could not serve the new "
                 "key: %s", cmn_err_msg());
        eng_event(ek->ctx, ENG_SEV_ERROR, ENG_EV_ENGINE_KEY_ROTATED, NULL,
                  NULL, user, "Engine key switch: %s (restart herd-engine)",
                  msg);
        cmn_err_reset();
    }
    size_t have = s_report_hosts(ek);
    eng_event(ek->ctx, ENG_SEV_NORMAL, ENG_EV_ENGINE_KEY_ROTATED, NULL, NULL,
              user, "Engine key rotated: %s -> %s; %zu host%s the new key",
              ofp, nfp, have, have == 1 ? " has" : "s have");
    ek->active = false;
    ek->asap = false;
    ek->switch_ms = 0;
    evtimer_del(ek->timer);
    eng_agents_key_end(ek->agents);
    sodium_memzero(ek->sec, sizeof(ek->sec));
    ek->pub[0] = '\0';
    s_done(ek, code, code == CMN_OK ? "" : msg);
}

static void s_wait_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    eng_enginekey_t *ek = opaque;
    if (ek->switching)
        s_finish(ek);
}

/* Every host answered the switch: finish on the loop (not inside the
 * answer's callback, which runs inside the socket's receive callback). */
static void s_batch_done(void *opaque)
{
    eng_enginekey_t *ek = opaque;
    ek->batch = NULL;
    s_arm(ek->wait, 0);
}

static void s_begin_switch(eng_enginekey_t *ek, const char *user,
                           eng_enginekey_cb cb, void *opaque)
{
    ek->switching = true;
    snprintf(ek->user, sizeof(ek->user), "%s", user ? user : "");
    ek->cb = cb;
    ek->cb_opaque = opaque;
    evtimer_del(ek->timer);
    CMN_INFO("engine key switch %s%s: telling the hosts", user ? "by " : "",
             user ? user : (int64_t)cmn_time_ms() >= ek->switch_ms
                               ? "(switch time reached)"
                               : "(every connected host has the next key)");
    ek->batch = eng_agents_key_publish_all(ek->agents, ek->pub, true,
                                           (int64_t)cmn_time_ms(),
                                           s_batch_done, ek);
    cmn_err_reset();
    s_arm(ek->wait, ek->batch ? ENG_ENGINEKEY_SWITCH_WAIT_MS : 0);
}

static void s_timer_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    eng_enginekey_t *ek = opaque;
    if (ek->active && !ek->switching)
        s_begin_switch(ek, NULL, NULL, NULL);
}

/* ---- life ----------------------------------------------------------------- */

eng_enginekey_t *eng_enginekey_new(eng_ctx_t *ctx, eng_agents_t *agents,
                                   struct eng_enroll *en)
{
    eng_enginekey_t *ek = calloc(1, sizeof(*ek));
    if (!ek) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ek->ctx = ctx;
    ek->agents = agents;
    ek->en = en;
    ek->timer = evtimer_new(ctx->base, s_timer_cb, ek);
    ek->wait = evtimer_new(ctx->base, s_wait_cb, ek);
    if (!ek->timer || !ek->wait) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot make the key rotation timers");
        goto fail;
    }
    s_paths_t p;
    s_paths(ctx->conf.agents_key_dir, &p);
    int r = s_scan(&p, ek->pub, ek->sec, &ek->switch_ms);
    if (r < 0)
        goto fail;
    if (r == 1) {
        ek->active = true;
        eng_agents_key_begin(agents);
        s_arm_switch(ek);
        char fp[CMN_KEY_FP_LEN], iso[40];
        cmn_key_fingerprint(ek->pub, fp);
        cmn_time_iso((uint64_t)ek->switch_ms, iso, sizeof(iso));
        CMN_INFO("engine key rotation resumed: next key %s, switch at %s",
                 fp, iso);
    }
    return ek;
fail:
    eng_enginekey_destroy(&ek);
    return NULL;
}

void eng_enginekey_destroy(eng_enginekey_t **pp)
{
    if (!pp || !*pp)
        return;
    eng_enginekey_t *ek = *pp;
    *pp = NULL;
    eng_agents_key_batch_cancel(ek->batch);
    if (ek->timer)
        event_free(ek->timer);
    if (ek->wait)
        event_free(ek->wait);
    s_done(ek, CMN_ERR_UNAVAILABLE, "the engine is stopping; the switch "
           "happens at its next start");
    sodium_memzero(ek->sec, sizeof(ek->sec));
    free(ek);
}

/* ---- actions -------------------------------------------------------------- */

int eng_enginekey_start(eng_enginekey_t *ek, int64_t window_s,
                        const char *user)
{
    if (window_s < 0 || window_s > ENG_ENGINEKEY_WINDOW_MAX_S)
        return CMN_ERR(CMN_ERR_INVALID, "window: expected whole seconds "
                       "0..%d (31 days), got %" PRId64,
                       ENG_ENGINEKEY_WINDOW_MAX_S, window_s);
    char iso[40];
    if (ek->active) {
        cmn_time_iso((uint64_t)ek->switch_ms, iso, sizeof(iso));
        return CMN_ERR(CMN_ERR_STATE, "an engine key rotation is under way "
                       "already: it switches at %s%s", iso, ek->switching
                       ? " (switching now)" : " (POST /enginekey/switch "
                       "switches now)");
    }
    s_paths_t p;
    s_paths(ek->ctx->conf.agents_key_dir, &p);
    char pub[CMN_KEY_Z85_LEN + 1], sec[CMN_KEY_Z85_LEN + 1];
    if (cmn_key_generate(pub, sec) < 0)
        return -1;
    int64_t now = (int64_t)cmn_time_ms();
    int64_t wait_s = window_s ? window_s : ENG_ENGINEKEY_ASAP_MAX_S;
    int64_t when = now + wait_s * 1000;
    char line[32];
    int n = snprintf(line, sizeof(line), "%" PRId64 "\n", when);
    /* The switch file last: it makes the rotation real (s_scan). */
    if (cmn_key_write(p.nkey, sec, true, "herd-engine (next)") < 0 ||
        cmn_key_write(p.npub, pub, false, "herd-engine (next)") < 0 ||
        cmn_file_write_atomic(p.nswitch, line, (size_t)n, 0644) < 0) {
        sodium_memzero(sec, sizeof(sec));
        s_unlink(p.nswitch);
        s_unlink(p.nkey);
        s_unlink(p.npub);
        return -1;
    }
    memcpy(ek->pub, pub, sizeof(pub));
    memcpy(ek->sec, sec, sizeof(sec));
    sodium_memzero(sec, sizeof(sec));
    ek->switch_ms = when;
    ek->active = true;
    ek->asap = window_s == 0;
    eng_agents_key_begin(ek->agents);
    s_arm_switch(ek);
    char fp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(pub, fp);
    cmn_time_iso((uint64_t)when, iso, sizeof(iso));
    eng_event(ek->ctx, ENG_SEV_NORMAL, ENG_EV_ENGINE_KEY_ROTATION, NULL, NULL,
              user, "Engine key rotation started by %s: next key %s, switch "
              "at %s%s", user && *user ? user : "the engine", fp, iso,
              ek->asap ? " at the latest (as soon as every connected host "
              "has the key)" : "");
    eng_agents_key_publish_all(ek->agents, ek->pub, false, when, NULL, NULL);
    cmn_err_reset();
    eng_enginekey_host_ready(ek);
    return 0;
}

int eng_enginekey_switch(eng_enginekey_t *ek, const char *user,
                         eng_enginekey_cb cb, void *opaque)
{
    if (!ek->active)
        return CMN_ERR(CMN_ERR_STATE, "no engine key rotation is under way "
                       "(POST /enginekey/rotate starts one)");
    if (ek->switching)
        return CMN_ERR(CMN_ERR_STATE, "the engine key is being switched "
                       "already");
    s_begin_switch(ek, user, cb, opaque);
    return 0;
}

void eng_enginekey_host_ready(eng_enginekey_t *ek)
{
    if (ek && ek->active && ek->asap && !ek->switching &&
        eng_agents_key_all_ready(ek->agents)) {
        CMN_INFO("every connected host has the engine's next key: "
                 "switching");
        s_arm(ek->timer, 0);
    }
}

bool eng_enginekey_active(const eng_enginekey_t *ek)
{
    return ek && ek->active;
}

const char *eng_enginekey_next_public(const eng_enginekey_t *ek)
{
    return ek && ek->active ? ek->pub : NULL;
}

int64_t eng_enginekey_switch_time(const eng_enginekey_t *ek)
{
    return ek && ek->active ? ek->switch_ms : 0;
}

/* ---- showing it ------------------------------------------------------------ */

json_t *eng_enginekey_json(eng_enginekey_t *ek)
{
    const char *cur = eng_enroll_public_key(ek->en);
    char fp[CMN_KEY_FP_LEN] = "";
    cmn_key_fingerprint(cur, fp);
    json_t *j = json_pack("{s:s,s:s}", "public_key", cur, "fingerprint", fp);
    if (!j || !ek->active)
        goto out;
    eng_agents_key_host_t *hosts = NULL;
    size_t n = 0;
    if (eng_agents_key_hosts(ek->agents, &hosts, &n) < 0) {
        json_decref(j);
        return NULL;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "id",
                                             hosts[i].id, "name",
                                             hosts[i].name, "has_next_key",
                                             hosts[i].has_next_key));
    free(hosts);
    cmn_key_fingerprint(ek->pub, fp);
    json_object_set_new(j, "rotation",
                        json_pack("{s:s,s:s,s:I,s:b,s:o}", "next_public_key",
                                  ek->pub, "next_fingerprint", fp,
                                  "switch_time", (json_int_t)ek->switch_ms,
                                  "switching", ek->switching, "hosts",
                                  arr ? arr : json_array()));
out:
    if (!j)
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    return j;
}

int eng_enginekey_cli_show(const char *key_dir)
{
    s_paths_t p;
    s_paths(key_dir, &p);
    if (!s_exists(p.nkey) || !s_exists(p.nswitch))
        return 0;
    char pub[CMN_KEY_Z85_LEN + 1], fp[CMN_KEY_FP_LEN], iso[40];
    int64_t when = 0;
    if (cmn_key_load_public(p.npub, pub) < 0 ||
        cmn_key_fingerprint(pub, fp) < 0 ||
        eng_enginekey_read_switch(p.nswitch, &when) < 0)
        return -1;
    cmn_time_iso((uint64_t)when, iso, sizeof(iso));
    printf("next public key:    %s\nnext fingerprint:   %s\nswitch at:          "
           "%s%s\n", pub, fp, iso,
           when <= (int64_t)cmn_time_ms() ? " (due: at the engine's next "
           "start at the latest)" : "");
    return 0;
}
