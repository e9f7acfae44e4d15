/* REST API authentication and users: admin@internal at first start, the
 * session cookie / Bearer / Basic check of every request (with a short
 * cache of verified Basic credentials, so that a client sending Basic on
 * every call does not pay an argon2id computation each time), the limit
 * of failed password checks per client address (auth.max_failures: past
 * it, 429 and no argon2id), the OAuth password grant, and /users with
 * /users/{id}/permissions. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "cmn_auto.h"
#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_xml.h"

CMN_LOG_INIT("rest.auth");

#define CACHE_SLOTS 64
#define CACHE_TTL_MS 60000
#define SESSION_COOKIE "JSESSIONID"

typedef struct {
    unsigned char key[crypto_generichash_BYTES];
    char user_id[ENG_ID_LEN];
    uint64_t until_mono;
} s_slot_t;

struct eng_rest_auth {
    eng_ctx_t *ctx;
    unsigned char salt[crypto_generichash_KEYBYTES];
    s_slot_t slots[CACHE_SLOTS];
    size_t next;
    eng_rest_limit_t *limit;
    /* The request whose password check the limit refused last (compared,
     * never dereferenced) and its wait, for eng_rest_auth_refuse. */
    const struct evhttp_request *refused;
    int64_t refused_wait_ms;
};

/* ---- first start -------------------------------------------------------- */

/* The admin password: configured, from its file, or a new random one
 * written to <state_dir>/admin-password (0600). */
static int
s_admin_password(eng_ctx_t *ctx, char *pw, size_t size)
{
    const eng_conf_t *c = &ctx->conf;
    if (c->admin_password && c->admin_password[0]) {
        snprintf(pw, size, "%s", c->admin_password);
        return 0;
    }
    if (c->admin_password_file && c->admin_password_file[0]) {
        size_t len = 0;
        CMN_AUTOFREE char *text = cmn_file_read(c->admin_password_file,
                                                ENG_AUTH_PASSWORD_MAX + 2,
                                                &len);
        if (!text)
            return CMN_ERR(CMN_ERR_CONFIG, "auth.admin_password_file: cannot "
                           "read %s: %s", c->admin_password_file,
                           cmn_err_msg());
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        if (len == 0 || len >= size)
            return CMN_ERR(CMN_ERR_CONFIG, "auth.admin_password_file: %s "
                           "holds no password (or one over %zu bytes)",
                           c->admin_password_file, size - 1);
        memcpy(pw, text, len + 1);
        return 0;
    }
    unsigned char raw[18];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(pw, size, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin-password", c->state_dir);
    char line[ENG_AUTH_PASSWORD_MAX + 2];
    snprintf(line, sizeof(line), "%s\n", pw);
    if (cmn_file_write_atomic(path, line, strlen(line), 0600) < 0)
        return -1;
    CMN_WARN("no auth.admin_password configured: admin@internal got a random "
             "password, written to %s (mode 0600)", path);
    return 0;
}

eng_rest_auth_t *
eng_rest_auth_new(eng_ctx_t *ctx)
{
    if (sodium_init() < 0) {
        CMN_ERR(CMN_ERR_INTERNAL, "libsodium cannot start");
        return NULL;
    }
    eng_rest_auth_t *a = calloc(1, sizeof(*a));
    if (!a) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->ctx = ctx;
    randombytes_buf(a->salt, sizeof(a->salt));
    a->limit = eng_rest_limit_new(ctx->conf.auth_max_failures,
                                  ENG_REST_LIMIT_ADDRS);
    if (!a->limit) {
        free(a);
        return NULL;
    }
    eng_user_t u;
    if (eng_store_user_get_by_name(ctx->store, ENG_AUTH_DEFAULT_ADMIN,
                                   &u) == 0) {
        sodium_memzero(&u, sizeof(u));
        return a;
    }
    if (cmn_err_code() != CMN_ERR_NOT_FOUND) {
        eng_rest_auth_destroy(&a);
        return NULL;
    }
    cmn_err_reset();
    char pw[ENG_AUTH_PASSWORD_MAX + 1];
    if (s_admin_password(ctx, pw, sizeof(pw)) < 0 ||
        eng_auth_bootstrap(ctx->store, ENG_AUTH_DEFAULT_ADMIN, pw) < 0) {
        sodium_memzero(pw, sizeof(pw));
        eng_rest_auth_destroy(&a);
        return NULL;
    }
    sodium_memzero(pw, sizeof(pw));
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_USER_ADDED, NULL, NULL, NULL,
              "User %s created at first start (SuperUser)",
              ENG_AUTH_DEFAULT_ADMIN);
    return a;
}

void
eng_rest_auth_destroy(eng_rest_auth_t **p)
{
    if (!p || !*p)
        return;
    eng_rest_limit_destroy(&(*p)->limit);
    sodium_memzero(*p, sizeof(**p));
    free(*p);
    *p = NULL;
}

void
eng_rest_auth_flush(eng_rest_auth_t *a)
{
    if (!a)
        return;
    memset(a->slots, 0, sizeof(a->slots));
}

/* ---- per request -------------------------------------------------------- */

/* The value of cookie `name` in a Cookie header into buf; false if none. */
static bool
s_cookie(const char *hdr, const char *name, char *buf, size_t size)
{
    size_t nl = strlen(name);
    for (const char *p = hdr; p && *p;) {
        p += strspn(p, " ;");
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t len = strcspn(v, ";");
            while (len > 0 && v[len - 1] == ' ')
                len--;
            if (len == 0 || len >= size)
                return false;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return true;
        }
        p = strchr(p, ';');
    }
    return false;
}

static s_slot_t *
s_cache_find(eng_rest_auth_t *a, const unsigned char *key)
{
    uint64_t now = cmn_mono_ms();
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        s_slot_t *s = &a->slots[i];
        if (s->until_mono > now &&
            sodium_memcmp(s->key, key, sizeof(s->key)) == 0)
            return s;
    }
    return NULL;
}

/* ---- failed logins per address ------------------------------------------ */

/* The client's numeric address into buf ("unknown" if libevent has none). */
static void
s_peer(struct evhttp_request *req, char *buf, size_t size)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (evcon)
        evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(buf, size, "%s", addr && *addr ? addr : "unknown");
}

/* Seconds of a wait, rounded up (Retry-After). */
static long long
s_secs(int64_t ms)
{
    return (long long)((ms + 999) / 1000);
}

/* True (with CMN_ERR_AUTH recorded and the request remembered for
 * eng_rest_auth_refuse) if `addr` is over auth.max_failures: then no
 * password is checked. */
static bool
s_over_limit(eng_rest_auth_t *a, struct evhttp_request *req,
             const char *addr, int64_t *wait_ms)
{
    int64_t wait = eng_rest_limit_wait(a->limit, addr,
                                       (int64_t)cmn_mono_ms());
    if (wait == 0)
        return false;
    CMN_ERR(CMN_ERR_AUTH, "too many failed logins from %s (auth.max_failures"
            ": %lld a minute): password checks are refused for %lld s",
            addr, (long long)a->ctx->conf.auth_max_failures, s_secs(wait));
    CMN_DEBUG("%s: password check refused for %lld s", addr, s_secs(wait));
    a->refused = req;
    a->refused_wait_ms = wait;
    if (wait_ms)
        *wait_ms = wait;
    return true;
}

/* Count a failed password check from `addr` (only a wrong name or
 * password, CMN_ERR_AUTH, counts; the recorded error is kept). The first
 * time an address goes over the limit in a minute: a warning event. */
static void
s_failed(eng_rest_auth_t *a, const char *addr)
{
    if (cmn_err_code() != CMN_ERR_AUTH)
        return;
    unsigned fails = 0;
    int64_t wait = 0;
    if (eng_rest_limit_fail(a->limit, addr, (int64_t)cmn_mono_ms(), &fails,
                            &wait))
        eng_event(a->ctx, ENG_SEV_WARNING, ENG_EV_LOGIN_LIMIT, NULL, NULL,
                  NULL, "%u failed logins from %s; password checks refused "
                  "for %lld s", fails, addr, s_secs(wait));
}

/* Send `text` with `status` and its reason phrase `reason` (the shared
 * eng_rest_http_reason does not know 429). */
static void
s_send_reason(struct evhttp_request *req, int status, const char *reason,
              const char *ctype, const char *text)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    if (text)
        evbuffer_add(buf, text, strlen(text));
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, status, reason, buf);
    evbuffer_free(buf);
}

static void
s_retry_after(struct evhttp_request *req, int64_t wait_ms)
{
    char secs[32];
    snprintf(secs, sizeof(secs), "%lld", s_secs(wait_ms));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      secs);
}

void
eng_rest_auth_refuse(eng_rest_call_t *call)
{
    eng_rest_auth_t *a = eng_rest_get_auth(call->rest);
    struct evhttp_request *req = call->req;
    if (!a || a->refused != req) {
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "WWW-Authenticate", "Basic realm=\"RESTAPI\"");
        eng_rest_reply_err(req);
        return;
    }
    /* Not logged above debug (s_over_limit): a refusal costs the client
     * nothing, so it may come at any rate. */
    a->refused = NULL;
    s_retry_after(req, a->refused_wait_ms);
    json_t *f = json_pack("{s:s, s:o, s:s}", "reason", "Too Many Requests",
                          "detail", eng_rest_str(cmn_err_msg()),
                          "code", "too_many_requests");
    char *text = NULL;
    bool xml = eng_rest_want_xml(req);
    if (f)
        text = xml ? eng_xml_render(f, "fault")
                   : json_dumps(f, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(f);
    s_send_reason(req, 429, "Too Many Requests",
                  xml ? "application/xml" : "application/json", text);
    free(text);
}

/* A new session token for the user, as a cookie on the reply. */
static void
s_new_session(eng_rest_call_t *call)
{
    char token[ENG_AUTH_TOKEN_LEN];
    if (eng_auth_token_issue(call->ctx->store, call->user.id,
                             call->ctx->conf.token_lifetime_s * 1000, 0,
                             token, NULL) < 0) {
        CMN_WARN("cannot open a session for %s: %s", call->user.name,
                 cmn_err_msg());
        cmn_err_reset();
        return;
    }
    char cookie[256];
    snprintf(cookie, sizeof(cookie), SESSION_COOKIE "=%s; Path=/ovirt-engine"
             "/api; HttpOnly%s", token,
             call->ctx->conf.api_tls ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(call->req),
                      "Set-Cookie", cookie);
    sodium_memzero(token, sizeof(token));
}

int
eng_rest_authenticate(eng_rest_call_t *call)
{
    eng_rest_auth_t *a = eng_rest_get_auth(call->rest);
    eng_store_t *s = call->ctx->store;
    struct evkeyvalq *h = evhttp_request_get_input_headers(call->req);
    const char *cookies = evhttp_find_header(h, "Cookie");
    const char *authz = evhttp_find_header(h, "Authorization");
    const char *prefer = evhttp_find_header(h, "Prefer");
    char tok[ENG_AUTH_TOKEN_LEN + 8];
    memset(&call->user, 0, sizeof(call->user));
    a->refused = NULL;
    if (cookies && s_cookie(cookies, SESSION_COOKIE, tok, sizeof(tok))) {
        if (eng_auth_token_verify(s, tok, 0, &call->user) == 0)
            return 0;
        if (!authz)
            return CMN_ERR(CMN_ERR_AUTH, "the session has expired or was "
                           "closed: log in again");
        cmn_err_reset();
    }
    bool basic = authz && strncasecmp(authz, "basic ", 6) == 0;
    unsigned char key[crypto_generichash_BYTES];
    if (basic) {
        crypto_generichash(key, sizeof(key), (const unsigned char *)authz,
                           strlen(authz), a->salt, sizeof(a->salt));
        s_slot_t *slot = s_cache_find(a, key);
        if (slot && eng_store_user_get(s, slot->user_id, &call->user) == 0)
            goto ok;
        cmn_err_reset();
    }
    /* Only Basic costs an argon2id check here (a bearer token is a hash
     * look-up): that is what the limit per address is for. */
    char addr[ENG_REST_ADDR_LEN];
    if (basic) {
        s_peer(call->req, addr, sizeof(addr));
        if (s_over_limit(a, call->req, addr, NULL))
            return -1;
    }
    if (eng_auth_request(s, authz, 0, &call->user) < 0) {
        if (basic)
            s_failed(a, addr);
        return -1;
    }
    if (basic) {
        s_slot_t *slot = &a->slots[a->next++ % CACHE_SLOTS];
        memcpy(slot->key, key, sizeof(key));
        memcpy(slot->user_id, call->user.id, sizeof(slot->user_id));
        slot->until_mono = cmn_mono_ms() + CACHE_TTL_MS;
    }
ok:
    if (basic && prefer && strcasestr(prefer, "persistent-auth"))
        s_new_session(call);
    sodium_memzero(call->user.hash, sizeof(call->user.hash));
    return 0;
}

/* ---- OAuth password grant ------------------------------------------------ */

static void
s_sso_reply(struct evhttp_request *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct evbuffer *buf = evbuffer_new();
    if (text && buf)
        evbuffer_add(buf, text, strlen(text));
    free(text);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, status, eng_rest_http_reason(status), buf);
    if (buf)
        evbuffer_free(buf);
}

static void
s_sso_error(struct evhttp_request *req, int status, const char *code,
            const char *msg)
{
    CMN_INFO("oauth token: %d %s: %s", status, code, msg);
    s_sso_reply(req, status, json_pack("{s:s, s:o}", "error_code", code,
                                       "error", eng_rest_str(msg)));
}

void
eng_rest_handle_sso(eng_rest_call_t *call)
{
    /* Form fields from the body (oVirt SDKs), or from the query string. */
    const char *form = call->body_len ? call->body : call->query;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (!form || memchr(call->body, '\0', call->body_len) ||
        evhttp_parse_query_str(form, &q) < 0) {
        s_sso_error(call->req, 400, "invalid_request", "the body must be "
                    "form-encoded: grant_type=password&username=..&"
                    "password=..&scope=ovirt-app-api");
        return;
    }
    const char *grant = evhttp_find_header(&q, "grant_type");
    const char *user = evhttp_find_header(&q, "username");
    const char *pw = evhttp_find_header(&q, "password");
    const char *scope = evhttp_find_header(&q, "scope");
    if (!grant || strcmp(grant, "password") != 0) {
        s_sso_error(call->req, 400, "unsupported_grant_type", "only "
                    "grant_type=password is supported");
        goto out;
    }
    if (!user || !*user || !pw) {
        s_sso_error(call->req, 400, "invalid_request", "username and "
                    "password are required");
        goto out;
    }
    if (scope && *scope && !strstr(scope, "ovirt-app-api")) {
        s_sso_error(call->req, 400, "invalid_scope", "scope must include "
                    "ovirt-app-api");
        goto out;
    }
    char name[ENG_NAME_LEN + 16];
    snprintf(name, sizeof(name), "%s%s", user,
             strchr(user, '@') ? "" : "@internal");
    eng_rest_auth_t *a = eng_rest_get_auth(call->rest);
    char addr[ENG_REST_ADDR_LEN];
    s_peer(call->req, addr, sizeof(addr));
    int64_t wait = 0;
    if (s_over_limit(a, call->req, addr, &wait)) {
        a->refused = NULL;
        s_retry_after(call->req, wait);
        json_t *body = json_pack("{s:s, s:o}", "error_code",
                                 "too_many_requests", "error",
                                 eng_rest_str(cmn_err_msg()));
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        s_send_reason(call->req, 429, "Too Many Requests",
                      "application/json", text);
        free(text);
        goto out;
    }
    eng_user_t u;
    if (eng_auth_password(call->ctx->store, name, pw, &u) < 0) {
        s_failed(a, addr);
        char msg[ENG_NAME_LEN + 1200];
        snprintf(msg, sizeof(msg), "Cannot authenticate user '%.255s': %s",
                 name, cmn_err_msg());
        s_sso_error(call->req, 401, "access_denied", msg);
        goto out;
    }
    char token[ENG_AUTH_TOKEN_LEN];
    int64_t expires = 0;
    int64_t life = call->ctx->conf.token_lifetime_s;
    if (eng_auth_token_issue(call->ctx->store, u.id, life * 1000, 0, token,
                             &expires) < 0) {
        s_sso_error(call->req, 500, "server_error", cmn_err_msg());
        goto out;
    }
    eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_USER_LOGIN, NULL, NULL,
              u.name, "User %s logged in (token for %lld s)", u.name,
              (long long)life);
    char exp[32];
    snprintf(exp, sizeof(exp), "%lld", (long long)expires);
    s_sso_reply(call->req, 200, json_pack(
        "{s:s, s:s, s:s, s:s, s:I}", "access_token", token,
        "scope", "ovirt-app-api", "exp", exp, "token_type", "Bearer",
        "expires_in", (json_int_t)life));
    sodium_memzero(token, sizeof(token));
    sodium_memzero(&u, sizeof(u));
out:
    evhttp_clear_headers(&q);
}

/* ---- users and permissions ---------------------------------------------- */

static json_t *
s_user_json(const eng_user_t *u)
{
    char href[160], perms[200];
    snprintf(href, sizeof(href), ENG_REST_BASE "/users/%s", u->id);
    snprintf(perms, sizeof(perms), "%s/permissions", href);
    char local[ENG_NAME_LEN];
    snprintf(local, sizeof(local), "%s", u->name);
    char *at = strrchr(local, '@');
    const char *domain = at ? at + 1 : "internal";
    if (at)
        *at = '\0';
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s}, s:{s:s}}",
        "id", u->id, "href", href, "name", eng_rest_str(local),
        "user_name", eng_rest_str(u->name), "principal", eng_rest_str(local),
        "domain", "name", domain, "role", "name", eng_role_name(u->role));
    json_object_set_new(o, "creation_time", json_integer(u->created_ms));
    json_object_set_new(o, "link", json_pack("[{s:s, s:s}]", "rel",
                                             "permissions", "href", perms));
    return o;
}

static json_t *
s_perm_json(const eng_user_t *u)
{
    char href[300], uhref[160];
    snprintf(uhref, sizeof(uhref), ENG_REST_BASE "/users/%s", u->id);
    snprintf(href, sizeof(href), "%s/permissions/%s", uhref, u->id);
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "id", u->id,
                     "href", href, "role", "id", eng_role_name(u->role),
                     "name", eng_role_name(u->role), "user", "id", u->id,
                     "href", uhref);
}

/* A user by id or name ("joe" means joe@internal). */
static int
s_find_user(eng_store_t *s, const char *ref, eng_user_t *out)
{
    if (cmn_uuid_valid(ref)) {
        if (eng_store_user_get(s, ref, out) == 0)
            return 0;
        if (cmn_err_code() != CMN_ERR_NOT_FOUND)
            return -1;
        cmn_err_reset();
    }
    char name[ENG_NAME_LEN + 16];
    snprintf(name, sizeof(name), "%s%s", ref,
             strchr(ref, '@') ? "" : "@internal");
    if (eng_store_user_get_by_name(s, name, out) == 0)
        return 0;
    if (cmn_err_code() != CMN_ERR_NOT_FOUND)
        return -1;
    cmn_err_reset();
    return CMN_ERR(CMN_ERR_NOT_FOUND, "user '%s' not found", ref);
}

static void
s_users_list(eng_rest_call_t *call)
{
    eng_user_t *us = NULL;
    size_t n = 0;
    int64_t max;
    if (eng_rest_query_max(call->query, INT32_MAX, INT32_MAX, &max) < 0 ||
        eng_store_user_list(call->ctx->store, &us, &n) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n && (int64_t)i < max; i++)
        json_array_append_new(list, s_user_json(&us[i]));
    sodium_memzero(us, n * sizeof(*us));
    free(us);
    eng_rest_reply(call->req, 200, json_pack("{s:o}", "user", list));
}

static void
s_user_add(eng_rest_call_t *call)
{
    char name[ENG_NAME_LEN];
    char pw[ENG_AUTH_PASSWORD_MAX + 1];
    int role;
    eng_user_t u;
    if (eng_rest_parse_user(call->body, call->body_len, name, pw, sizeof(pw),
                            &role) < 0 ||
        eng_auth_user_add(call->ctx->store, name, pw,
                          role < 0 ? ENG_ROLE_READONLY : (eng_role_t)role,
                          &u) < 0) {
        sodium_memzero(pw, sizeof(pw));
        eng_rest_reply_err(call->req);
        return;
    }
    sodium_memzero(pw, sizeof(pw));
    eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_USER_ADDED, NULL, NULL,
              call->user.name, "User %s added as %s by %s", u.name,
              eng_role_name(u.role), call->user.name);
    char loc[160];
    snprintf(loc, sizeof(loc), ENG_REST_BASE "/users/%s", u.id);
    evhttp_add_header(evhttp_request_get_output_headers(call->req),
                      "Location", loc);
    eng_rest_reply(call->req, 201, s_user_json(&u));
}

void
eng_rest_handle_users(eng_rest_call_t *call)
{
    eng_store_t *s = call->ctx->store;
    eng_rest_auth_t *a = eng_rest_get_auth(call->rest);
    if (call->route.kind == ENG_ROUTE_USERS) {
        if (call->method == ENG_REST_POST)
            s_user_add(call);
        else
            s_users_list(call);
        return;
    }
    eng_user_t u;
    if (s_find_user(s, call->route.id, &u) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    if (call->route.kind == ENG_ROUTE_USER) {
        if (call->method != ENG_REST_DELETE) {
            eng_rest_reply(call->req, 200, s_user_json(&u));
            return;
        }
        if (strcmp(u.id, call->user.id) == 0) {
            CMN_ERR(CMN_ERR_STATE, "user %s cannot remove itself", u.name);
            eng_rest_reply_err(call->req);
            return;
        }
        if (eng_store_user_delete(s, u.id) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_rest_auth_flush(a);
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_USER_REMOVED, NULL, NULL,
                  call->user.name, "User %s removed by %s", u.name,
                  call->user.name);
        eng_rest_reply(call->req, 200, NULL);
        return;
    }
    /* /users/{id}/permissions: Herd gives each user one role; a grant
     * replaces it. */
    if (call->method == ENG_REST_POST) {
        int role;
        if (eng_rest_parse_perm(call->body, call->body_len, &role) < 0 ||
            eng_store_user_set_role(s, u.id, (eng_role_t)role) < 0) {
            eng_rest_reply_err(call->req);
            return;
        }
        eng_rest_auth_flush(a);
        eng_event(call->ctx, ENG_SEV_NORMAL, ENG_EV_USER_ROLE, NULL, NULL,
                  call->user.name, "User %s granted role %s (was %s) by %s",
                  u.name, eng_role_name((eng_role_t)role),
                  eng_role_name(u.role), call->user.name);
        u.role = (eng_role_t)role;
        eng_rest_reply(call->req, 201, s_perm_json(&u));
        return;
    }
    eng_rest_reply(call->req, 200, json_pack("{s:[o]}", "permission",
                                             s_perm_json(&u)));
}
