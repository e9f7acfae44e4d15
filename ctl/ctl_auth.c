/* herdctl authentication and users: Basic from a password file, bearer
 * tokens kept per engine URL by `herdctl login` in ~/.config/herd/token
 * (0600), `logout`, and `user list|add|remove|grant`. */
#include "ctl_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/http.h>
#include <sodium.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_util.h"

#define CTL_DEFAULT_USER "admin@internal"
#define CTL_PW_MAX 1024
#define CTL_TOKEN_FILE_MAX (1 << 20)

const char *
ctl_token_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, len, "%s/herd/token", xdg);
    else
        snprintf(buf, len, "%s/.config/herd/token", home && *home ? home
                                                                  : ".");
    return buf;
}

/* Read a password from a file (first line). -1 with CMN_ERR_INVALID. */
static int
s_read_pw_file(const char *path, char *pw, size_t size)
{
    size_t len = 0;
    CMN_AUTOFREE char *text = cmn_file_read(path, CTL_PW_MAX + 2, &len);
    if (!text) {
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_INVALID, "cannot read the password file '%s': "
                       "%s", path, strerror(errno ? errno : EIO));
    }
    len = strcspn(text, "\r\n");
    if (len == 0 || len >= size)
        return CMN_ERR(CMN_ERR_INVALID, "the password file '%s' holds no "
                       "password on its first line", path);
    memcpy(pw, text, len);
    pw[len] = '\0';
    sodium_memzero(text, strlen(text));
    return 0;
}

/* Ask on the terminal without echo; from stdin when it is not a terminal. */
static int
s_prompt_pw(const char *prompt, char *pw, size_t size)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, noecho;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            noecho = old;
            noecho.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
        } else {
            tty = false;
        }
    }
    char *got = fgets(pw, (int)size, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return CMN_ERR(CMN_ERR_INVALID, "no password given");
    pw[strcspn(pw, "\r\n")] = '\0';
    if (!pw[0])
        return CMN_ERR(CMN_ERR_INVALID, "empty password");
    return 0;
}

/* The saved token for `url` (0 found, 1 none). */
static int
s_token_get(const char *url, char *tok, size_t size)
{
    char path[1024];
    size_t len = 0;
    CMN_AUTOFREE char *text = cmn_file_read(ctl_token_path(path, sizeof(path)),
                                            CTL_TOKEN_FILE_MAX, &len);
    if (!text) {
        cmn_err_reset();
        return 1;
    }
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char u[600], t[200];
        long long exp = 0;
        if (sscanf(line, "%599s %199s %lld", u, t, &exp) >= 2 &&
            strcmp(u, url) == 0 && strlen(t) < size) {
            snprintf(tok, size, "%s", t);
            return 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 1;
}

/* Replace the line for `url` (tok NULL: remove it). */
static int
s_token_put(const char *url, const char *tok, long long exp)
{
    char path[1024];
    ctl_token_path(path, sizeof(path));
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (cmn_mkdir_p(dir, 0700) < 0)
        return -1;
    size_t len = 0;
    CMN_AUTOFREE char *old = cmn_file_read(path, CTL_TOKEN_FILE_MAX, &len);
    cmn_err_reset();
    size_t cap = len + strlen(url) + 256;
    CMN_AUTOFREE char *out = malloc(cap);
    if (!out)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    size_t off = 0;
    for (char *line = old; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char u[600];
        if (sscanf(line, "%599s", u) == 1 && strcmp(u, url) != 0)
            off += (size_t)snprintf(out + off, cap - off, "%s\n", line);
        line = nl ? nl + 1 : NULL;
    }
    if (tok)
        off += (size_t)snprintf(out + off, cap - off, "%s %s %lld\n", url,
                                tok, exp);
    return cmn_file_write_atomic(path, out, off, 0600);
}

static int
s_basic(ctl_opts_t *o, const char *user, const char *pw)
{
    char cred[CTL_PW_MAX + 300];
    snprintf(cred, sizeof(cred), "%s:%s", user, pw);
    char b64[sizeof(cred) * 4 / 3 + 8];
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)cred,
                      strlen(cred), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(cred, sizeof(cred));
    /* The length check is the snprintf result (gcc -O1 cannot see a
     * separate strlen check and refuses to build `make asan`). */
    int n = snprintf(o->authz, sizeof(o->authz), "Basic %s", b64);
    if (n < 0 || (size_t)n >= sizeof(o->authz)) {
        o->authz[0] = '\0';
        return CMN_ERR(CMN_ERR_INVALID, "user name and password are too long");
    }
    return 0;
}

int
ctl_auth_setup(ctl_opts_t *o)
{
    o->authz[0] = '\0';
    const char *user = o->user[0] ? o->user : CTL_DEFAULT_USER;
    if (o->password_file[0]) {
        char pw[CTL_PW_MAX + 1];
        if (s_read_pw_file(o->password_file, pw, sizeof(pw)) < 0)
            return -1;
        int rc = s_basic(o, user, pw);
        sodium_memzero(pw, sizeof(pw));
        return rc;
    }
    char tok[200];
    if (s_token_get(o->url, tok, sizeof(tok)) == 0)
        snprintf(o->authz, sizeof(o->authz), "Bearer %s", tok);
    return 0;
}

int
ctl_login_cmd(ctl_opts_t *o, int argc, char **argv)
{
    const char *user = o->user[0] ? o->user : CTL_DEFAULT_USER;
    const char *pwfile = o->password_file[0] ? o->password_file : NULL;
    const ctl_opt_t opts[] = { { "--user", &user },
                               { "--password-file", &pwfile },
                               { NULL, NULL } };
    int rc = ctl_parse_opts(argc, argv, 0, "login", opts);
    if (rc)
        return rc;
    char pw[CTL_PW_MAX + 1];
    if ((pwfile ? s_read_pw_file(pwfile, pw, sizeof(pw))
                : s_prompt_pw("Password: ", pw, sizeof(pw))) < 0) {
        fprintf(stderr, "herdctl: %s\n", cmn_err_msg());
        return CTL_EXIT_USAGE;
    }
    char *eu = evhttp_encode_uri(user), *ep = evhttp_encode_uri(pw);
    sodium_memzero(pw, sizeof(pw));
    size_t blen = (eu ? strlen(eu) : 0) + (ep ? strlen(ep) : 0) + 128;
    char *body = malloc(blen);
    if (!eu || !ep || !body) {
        free(eu);
        free(ep);
        free(body);
        fprintf(stderr, "herdctl: out of memory\n");
        return CTL_EXIT_FAULT;
    }
    snprintf(body, blen, "grant_type=password&scope=ovirt-app-api&"
             "username=%s&password=%s", eu, ep);
    free(eu);
    sodium_memzero(ep, strlen(ep));
    free(ep);
    /* the SSO path sits beside the API base */
    char path[600];
    size_t blen2 = strlen(o->base) - strlen(CTL_API_PATH);
    snprintf(path, sizeof(path), "%.*s/ovirt-engine/sso/oauth/token",
             (int)blen2, o->base);
    o->authz[0] = '\0';
    ctl_resp_t r;
    cmn_err_reset();
    rc = ctl_http_raw(o, "POST", path, body,
                      "application/x-www-form-urlencoded", &r);
    sodium_memzero(body, strlen(body));
    free(body);
    if (rc < 0) {
        fprintf(stderr, "herdctl: cannot reach the engine at %s: %s\n",
                o->url, cmn_err_msg());
        return CTL_EXIT_UNREACHABLE;
    }
    const char *tok = ctl_jstr(r.json, "access_token");
    if (r.status != 200 || !*tok) {
        const char *err = ctl_jstr(r.json, "error");
        fprintf(stderr, "herdctl: login failed: %s\n",
                *err ? err : "the engine answered without a token");
        ctl_resp_clear(&r);
        return CTL_EXIT_FAULT;
    }
    long long life = ctl_jint(r.json, "expires_in");
    if (s_token_put(o->url, tok, (long long)cmn_time_ms() + life * 1000) < 0) {
        fprintf(stderr, "herdctl: cannot save the token: %s\n", cmn_err_msg());
        ctl_resp_clear(&r);
        return CTL_EXIT_FAULT;
    }
    char tp[1024];
    printf("Logged in to %s as %s; the token is valid for %lld s (kept in "
           "%s)\n", o->url, user, life, ctl_token_path(tp, sizeof(tp)));
    ctl_resp_clear(&r);
    return CTL_EXIT_OK;
}

int
ctl_logout_cmd(ctl_opts_t *o, int argc, char **argv)
{
    int rc = ctl_extra(argc, argv, 0, "logout");
    if (rc)
        return rc;
    if (s_token_put(o->url, NULL, 0) < 0) {
        fprintf(stderr, "herdctl: %s\n", cmn_err_msg());
        return CTL_EXIT_FAULT;
    }
    printf("Logged out of %s\n", o->url);
    return CTL_EXIT_OK;
}

/* ---- users ---------------------------------------------------------------- */

static void
s_user_row(ctl_table_t *t, const json_t *u, const void *ctx)
{
    (void)ctx;
    const char *row[] = { ctl_jstr(u, "user_name"), ctl_jstr(u, "role.name"),
                          ctl_jstr(u, "id") };
    ctl_table_add(t, row);
}

static int
s_user_list(const ctl_opts_t *o)
{
    static const char *const cols[] = { "NAME", "ROLE", "ID" };
    return ctl_list(o, "/users", "user", 3, cols, s_user_row);
}

static int
s_user_add(const ctl_opts_t *o, int argc, char **argv)
{
    if (ctl_need_id(argc, argv, "user add"))
        return CTL_EXIT_USAGE;
    const char *role = NULL, *pwfile = NULL;
    const ctl_opt_t opts[] = { { "--role", &role },
                               { "--password-file", &pwfile },
                               { NULL, NULL } };
    int rc = ctl_parse_opts(argc, argv, 1, "user add", opts);
    if (rc)
        return rc;
    if (!role)
        return ctl_usage_error("user add: --role SuperUser|Operator|ReadOnly "
                               "is required");
    char pw[CTL_PW_MAX + 1];
    if ((pwfile ? s_read_pw_file(pwfile, pw, sizeof(pw))
                : s_prompt_pw("Password of the new user: ", pw,
                              sizeof(pw))) < 0) {
        fprintf(stderr, "herdctl: %s\n", cmn_err_msg());
        return CTL_EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "user_name", argv[0],
                             "password", pw, "role", "name", role);
    sodium_memzero(pw, sizeof(pw));
    json_t *j = NULL;
    rc = ctl_send(o, "POST", "/users", body, &j);
    if (rc || !j)
        return rc;
    printf("User %s added as %s (%s)\n", ctl_jstr(j, "user_name"),
           ctl_jstr(j, "role.name"), ctl_jstr(j, "id"));
    json_decref(j);
    return 0;
}

int
ctl_user_cmd(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc < 1)
        return ctl_usage_error("user: missing a verb (list, add, remove, "
                               "grant)");
    const char *verb = argv[0];
    char seg[800], path[1024];
    if (strcmp(verb, "list") == 0) {
        int rc = ctl_extra(argc - 1, argv + 1, 0, "user list");
        return rc ? rc : s_user_list(o);
    }
    if (strcmp(verb, "add") == 0)
        return s_user_add(o, argc - 1, argv + 1);
    if (strcmp(verb, "remove") == 0) {
        int rc = ctl_need_id(argc - 1, argv + 1, "user remove");
        if (!rc)
            rc = ctl_extra(argc - 1, argv + 1, 1, "user remove");
        if (rc)
            return rc;
        snprintf(path, sizeof(path), "/users/%s",
                 ctl_seg(argv[1], seg, sizeof(seg)));
        rc = ctl_call(o, "DELETE", path, NULL, NULL);
        if (rc == 0 && !o->json)
            printf("User %s removed\n", argv[1]);
        return rc;
    }
    if (strcmp(verb, "grant") == 0) {
        if (argc != 3)
            return ctl_usage_error("user grant: expected NAME ROLE");
        snprintf(path, sizeof(path), "/users/%s/permissions",
                 ctl_seg(argv[1], seg, sizeof(seg)));
        json_t *body = json_pack("{s:{s:s}}", "role", "name", argv[2]);
        json_t *j = NULL;
        int rc = ctl_send(o, "POST", path, body, &j);
        if (rc || !j)
            return rc;
        printf("User %s now has role %s\n", argv[1],
               ctl_jstr(j, "role.name"));
        json_decref(j);
        return 0;
    }
    return ctl_usage_error("user: unknown verb '%s' (list, add, remove, "
                           "grant)", verb);
}
