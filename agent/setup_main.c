/* herd-agent-setup: host deploy. Makes this host's CURVE key pair, takes
 * the engine's public key (given on the command line, from a file, or
 * fetched from the engine's API, and confirmed by its fingerprint), and
 * writes the agent's settings into agent.yaml. Kept out of the herd-agent
 * daemon (not an agt_*.c file).
 *
 *   herd-agent-setup --engine HOST:PORT
 *                    (--engine-key Z85 | --engine-key-file F |
 *                     --fetch-key [--api-url URL] [--ca-file FILE])
 *                    [--fingerprint SHA256:...] [--yes] [--token T]
 *                    [--config FILE] [--key-dir DIR] [--new-key]
 *
 * The engine prints its key and fingerprint with `herd-engine --show-key`;
 * its public key file is <agents.key_dir>/engine.pub; its API serves both
 * at GET /ovirt-engine/services/herd-engine-key. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agt_conf.h"
#include "setup_key.h"
#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_https.h"
#include "cmn_keys.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("agent.setup");

#define DEFAULT_KEY_DIR "/etc/herd/keys"
#define CONF_MAX (1 << 20)
/* The engine's api.port when engine.yaml leaves it out (with api.tls). */
#define DEFAULT_API_PORT 8443
#define KEY_PATH "/ovirt-engine/services/herd-engine-key"
#define FETCH_TIMEOUT_S 30
#define FETCH_MAX_BODY (64 * 1024)

static void s_usage(FILE *f)
{
    fprintf(f,
        "Usage: herd-agent-setup --engine HOST:PORT\n"
        "           (--engine-key Z85 | --engine-key-file FILE |\n"
        "            --fetch-key [--api-url URL] [--ca-file FILE])\n"
        "           [--fingerprint SHA256:...] [--yes] [--token TOKEN]\n"
        "           [--config FILE] [--key-dir DIR] [--new-key]\n"
        "\n"
        "Enrolls this host with a Herd engine: makes the host's CURVE key\n"
        "pair (DIR/agent.key, mode 0600, and DIR/agent.pub), stores the\n"
        "engine's public key (DIR/engine.pub) and writes the engine address,\n"
        "key files and token into the agent configuration.\n"
        "\n"
        "  --engine ADDRESS        the engine's agent socket, HOST:PORT or\n"
        "                          tcp://HOST:PORT\n"
        "  --engine-key Z85        the engine's public key (40 characters)\n"
        "  --engine-key-file FILE  ... or read it from a file\n"
        "  --fetch-key             ... or fetch it from the engine's API\n"
        "                          (GET %s);\n"
        "                          it must be confirmed by --fingerprint or\n"
        "                          on a terminal (--yes is not enough).\n"
        "                          During an engine key rotation the next\n"
        "                          key is stored too (DIR/engine.pub.next)\n"
        "  --api-url URL           where the API is (default\n"
        "                          https://HOST:%d, HOST from --engine);\n"
        "                          http:// for an engine without TLS\n"
        "  --ca-file FILE          check the API's TLS certificate against\n"
        "                          this CA (the engine serves it at /ca.crt).\n"
        "                          Without it the certificate is not\n"
        "                          checked: the key's fingerprint, which\n"
        "                          you compare, is what secures enrollment\n"
        "  --fingerprint FP        expected fingerprint of the engine key\n"
        "                          (SHA256:..., `herd-engine --show-key`);\n"
        "                          without it (and without --yes) you are\n"
        "                          asked to compare it\n"
        "  --yes                   trust a given engine key without asking\n"
        "  --token TOKEN           one-time enrollment token: the engine\n"
        "                          approves this host at its first hello\n"
        "  --config FILE           agent configuration (default %s)\n"
        "  --key-dir DIR           where keys go (default %s)\n"
        "  --new-key               make a new key pair even if one exists\n"
        "                          (the engine must approve the new key)\n",
        KEY_PATH, DEFAULT_API_PORT, AGT_CONF_DEFAULT_PATH, DEFAULT_KEY_DIR);
}

/* Confirm the engine key by fingerprint: given, or asked on the terminal.
 * `from` is the URL a fetched key came from (NULL: given by the user). */
static int s_confirm(const char *key, const char *want_fp, bool yes,
                     const char *from)
{
    char fp[CMN_KEY_FP_LEN];
    if (cmn_key_fingerprint(key, fp) < 0)
        return -1;
    if (want_fp) {
        if (strcmp(fp, want_fp) != 0 && from)
            return CMN_ERR(CMN_ERR_DENIED, "the engine key fetched from %s "
                           "has fingerprint %s, not %s (--fingerprint): "
                           "wrong engine or address, or someone in between; "
                           "refusing, nothing written", from, fp, want_fp);
        if (strcmp(fp, want_fp) != 0)
            return CMN_ERR(CMN_ERR_DENIED, "the engine key's fingerprint is "
                           "%s, not %s: wrong key or address, refusing", fp,
                           want_fp);
        printf("engine key fingerprint %s: matches\n", fp);
        return 0;
    }
    if (from)
        printf("engine key fetched from %s\n", from);
    printf("engine key fingerprint: %s\n", fp);
    if (yes)
        return 0;
    if (!isatty(STDIN_FILENO))
        return CMN_ERR(CMN_ERR_DENIED, "cannot ask for confirmation (stdin "
                       "is not a terminal): pass --fingerprint %s after "
                       "checking it with `herd-engine --show-key` on the "
                       "engine, or --yes", fp);
    printf("Does `herd-engine --show-key` on the engine show this "
           "fingerprint? [y/N] ");
    fflush(stdout);
    char line[16] = "";
    if (!fgets(line, sizeof(line), stdin) ||
        (line[0] != 'y' && line[0] != 'Y'))
        return CMN_ERR(CMN_ERR_DENIED, "engine key not confirmed");
    return 0;
}

/* The line `key: value` for the top-level keys setup owns. */
static const char *const s_owned[] = {
    "engine", "curve", "secret_key_file", "public_key_file",
    "engine_key_file", "enrollment_token",
};

static bool s_is_owned(const char *line)
{
    if (strncmp(line, "# written by herd-agent-setup", 29) == 0)
        return true;
    for (size_t i = 0; i < sizeof(s_owned) / sizeof(s_owned[0]); i++) {
        size_t n = strlen(s_owned[i]);
        if (strncmp(line, s_owned[i], n) == 0 && line[n] == ':')
            return true;
    }
    return false;
}

/* Rewrite `path`: keep every line but the top-level keys setup owns, then
 * append them. A token makes the file private (0600). */
static int s_write_conf(const char *path, const char *engine,
                        const char *dir, const char *token)
{
    size_t len = 0;
    CMN_AUTOFREE char *old = NULL;
    struct stat st;
    if (stat(path, &st) == 0) {
        old = cmn_file_read(path, CONF_MAX, &len);
        if (!old)
            return -1;
    }
    size_t cap = len + 4096;
    CMN_AUTOFREE char *out = malloc(cap);
    if (!out)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (char *line = old; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (!s_is_owned(line)) {
            memcpy(out + n, line, ll);
            n += ll;
            if (!nl)
                out[n++] = '\n';
        }
        line += ll;
    }
    int w = snprintf(out + n, cap - n,
                     "# written by herd-agent-setup\n"
                     "engine: %s\n"
                     "curve: true\n"
                     "secret_key_file: %s/agent.key\n"
                     "public_key_file: %s/agent.pub\n"
                     "engine_key_file: %s/engine.pub\n"
                     "%s%s%s",
                     engine, dir, dir, dir, token ? "enrollment_token: " : "",
                     token ? token : "", token ? "\n" : "");
    if (w < 0 || (size_t)w >= cap - n)
        return CMN_ERR(CMN_ERR_INVALID, "configuration too long");
    n += (size_t)w;
    CMN_AUTOFREE char *dirpath = strdup(path);
    char *slash = dirpath ? strrchr(dirpath, '/') : NULL;
    if (slash && slash != dirpath) {
        *slash = '\0';
        if (cmn_mkdir_p(dirpath, 0755) < 0)
            return -1;
    }
    unsigned mode = token ? 0600 : (old ? (unsigned)(st.st_mode & 0777) : 0644);
    return cmn_file_write_atomic(path, out, n, mode);
}

/* Safe to write unquoted into YAML: printable, no blanks, no YAML
 * punctuation (':' only where `colon` allows it, as in HOST:PORT). */
static bool s_printable_arg(const char *s, size_t max, bool colon)
{
    return cmn_str_printable(s, max, colon ? " \t\"'#{}[],&*!|>%@`"
                                           : " \t\"'#:{}[],&*!|>%@`");
}

/* Re-record the error of a failed step with the URL it concerns. */
static int s_err_at(const char *what, const char *url)
{
    cmn_code_t code = cmn_err_code();
    char msg[900];
    snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
    cmn_err_reset();
    return CMN_ERR(code ? code : CMN_ERR_INTERNAL, "%s %s: %s", what, url,
                   msg);
}

/* The URL of the key endpoint from --api-url (a path to the API, as
 * herdctl takes, is allowed) or https://<host of --engine>:8443. */
static int s_key_url(const char *api_url, const char *endpoint,
                     cmn_url_t *u, char *shown, size_t len)
{
    char derived[600];
    const char *what = api_url ? "--api-url" : "the API URL from --engine";
    if (!api_url) {
        const char *host = endpoint + 6;        /* after tcp:// */
        const char *colon = strrchr(host, ':');
        snprintf(derived, sizeof(derived), "https://%.*s:%d",
                 (int)(colon - host), host, DEFAULT_API_PORT);
        api_url = derived;
    }
    if (cmn_url_parse(api_url, u) < 0)
        return s_err_at(what, api_url);
    if (strchr(u->target, '?'))
        return CMN_ERR(CMN_ERR_INVALID, "--api-url '%s': a query has no "
                       "place here", api_url);
    size_t n = strlen(u->target);
    while (n > 0 && u->target[n - 1] == '/')
        u->target[--n] = '\0';
    const char *api = "/ovirt-engine/api";
    if (n >= strlen(api) && strcmp(u->target + n - strlen(api), api) == 0)
        u->target[n - strlen(api)] = '\0';
    char prefix[sizeof(u->target)];
    snprintf(prefix, sizeof(prefix), "%s", u->target);
    if (snprintf(u->target, sizeof(u->target), "%s" KEY_PATH, prefix) >=
        (int)sizeof(u->target))
        return CMN_ERR(CMN_ERR_INVALID, "--api-url '%s': too long", api_url);
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(shown, len, "%s://%s%s%s:%d%s", u->tls ? "https" : "http",
             v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->target);
    return 0;
}

/* After a confirmed fetch: the engine's next key (during its key
 * rotation) at <ep>.next, 0644, which the agent trusts as well; none: a
 * .next left from an earlier rotation goes, as the engine has no next key.
 * -1 with an error naming the file. */
static int s_write_next(const char *ep, const char *next)
{
    char np[600];
    snprintf(np, sizeof(np), "%s.next", ep);
    if (next[0]) {
        if (cmn_key_write(np, next, false, "herd-engine next key") < 0)
            return -1;
        char fp[CMN_KEY_FP_LEN];
        cmn_key_fingerprint(next, fp);
        printf("engine key rotation under way: next key %s written to %s\n",
               fp, np);
        return 0;
    }
    if (unlink(np) < 0 && errno != ENOENT)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot remove the stale %s", np);
    return 0;
}

/* GET the engine key (and the next one, during a rotation) from the API.
 * Writes nothing; -1 with an error naming what was wrong and the URL. */
static int s_fetch_key(const char *api_url, const char *ca_file,
                       const char *endpoint, char key[CMN_KEY_Z85_LEN + 1],
                       char next[CMN_KEY_Z85_LEN + 1], char *shown,
                       size_t len)
{
    cmn_url_t u;
    if (s_key_url(api_url, endpoint, &u, shown, len) < 0)
        return -1;
    char hint[700];
    snprintf(hint, sizeof(hint), " (--ca-file %s is not the CA of this "
             "engine? It serves its CA at %s://%s:%d/ca.crt)",
             ca_file ? ca_file : "", u.tls ? "https" : "http", u.host, u.port);
    static const cmn_http_header_t hdrs[] = {
        { "Accept", "application/json" },
        { "User-Agent", "herd-agent-setup" },
        { NULL, NULL },
    };
    cmn_http_opts_t o = {
        .method = "GET", .headers = hdrs, .ca_file = ca_file,
        .insecure = !ca_file, .timeout_s = FETCH_TIMEOUT_S,
        .max_body = FETCH_MAX_BODY, .untrusted_hint = hint,
    };
    cmn_http_resp_t r;
    if (cmn_http_request(&u, &o, &r) < 0)
        return s_err_at("cannot fetch the engine key from", shown);
    int rc = agt_setup_key_answer(r.status, r.body, r.len, shown, key, next);
    cmn_http_resp_clear(&r);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "engine", required_argument, NULL, 'e' },
        { "engine-key", required_argument, NULL, 'k' },
        { "engine-key-file", required_argument, NULL, 'K' },
        { "fingerprint", required_argument, NULL, 'f' },
        { "yes", no_argument, NULL, 'y' },
        { "token", required_argument, NULL, 't' },
        { "config", required_argument, NULL, 'c' },
        { "key-dir", required_argument, NULL, 'd' },
        { "new-key", no_argument, NULL, 'n' },
        { "fetch-key", no_argument, NULL, 'F' },
        { "api-url", required_argument, NULL, 'u' },
        { "ca-file", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *engine = NULL, *ekey = NULL, *ekey_file = NULL, *fp = NULL;
    const char *token = NULL, *conf = AGT_CONF_DEFAULT_PATH;
    const char *dir = DEFAULT_KEY_DIR, *api_url = NULL, *ca_file = NULL;
    bool yes = false, new_key = false, fetch = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': engine = optarg; break;
        case 'k': ekey = optarg; break;
        case 'K': ekey_file = optarg; break;
        case 'f': fp = optarg; break;
        case 'y': yes = true; break;
        case 't': token = optarg; break;
        case 'c': conf = optarg; break;
        case 'd': dir = optarg; break;
        case 'n': new_key = true; break;
        case 'F': fetch = true; break;
        case 'u': api_url = optarg; break;
        case 'C': ca_file = optarg; break;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    int sources = !!ekey + !!ekey_file + fetch;
    if (optind < argc || !engine || sources != 1 ||
        (!fetch && (api_url || ca_file))) {
        fprintf(stderr, "herd-agent-setup: %s\n", optind < argc
                ? "unexpected argument" : !engine ? "--engine is required"
                : sources != 1 ? "give one of --engine-key, --engine-key-file "
                                 "and --fetch-key"
                : "--api-url and --ca-file go with --fetch-key");
        s_usage(stderr);
        return 2;
    }
    if (fetch && !fp && (yes || !isatty(STDIN_FILENO))) {
        /* Checked before fetching: a key from the network is only as good
         * as the fingerprint the user compares it with. */
        fprintf(stderr, "herd-agent-setup: a fetched engine key must be "
                "confirmed: pass --fingerprint SHA256:... as `herd-engine "
                "--show-key` prints it on the engine, or run on a terminal "
                "to compare it%s; nothing written\n",
                yes ? " (--yes does not confirm a fetched key)" : "");
        return 1;
    }
    cmn_log_set_ident("herd-agent-setup");
    cmn_err_reset();
    char endpoint[512];
    if (strstr(engine, "://"))
        snprintf(endpoint, sizeof(endpoint), "%s", engine);
    else
        snprintf(endpoint, sizeof(endpoint), "tcp://%s", engine);
    if (!s_printable_arg(endpoint + 6, 400, true) || !strchr(endpoint + 6, ':')) {
        fprintf(stderr, "herd-agent-setup: --engine '%s': expected HOST:PORT "
                "or tcp://HOST:PORT\n", engine);
        return 2;
    }
    if (token && !s_printable_arg(token, 256, false)) {
        fprintf(stderr, "herd-agent-setup: --token: 1..256 characters "
                "without blanks or YAML punctuation\n");
        return 2;
    }
    if (dir[0] != '/' || !s_printable_arg(dir, 400, false)) {
        fprintf(stderr, "herd-agent-setup: --key-dir '%s': an absolute path "
                "without blanks\n", dir);
        return 2;
    }
    char key[CMN_KEY_Z85_LEN + 1], next[CMN_KEY_Z85_LEN + 1] = "";
    char from[1400];
    if (fetch) {
        if (s_fetch_key(api_url, ca_file, endpoint, key, next, from,
                        sizeof(from)) < 0)
            goto fail;
    } else if (ekey_file) {
        if (cmn_key_load_public(ekey_file, key) < 0)
            goto fail;
    } else if (!cmn_key_valid(ekey)) {
        fprintf(stderr, "herd-agent-setup: --engine-key: not a CURVE public "
                "key (40 Z85 characters)\n");
        return 2;
    } else {
        snprintf(key, sizeof(key), "%s", ekey);
    }
    if (s_confirm(key, fp, yes, fetch ? from : NULL) < 0)
        goto fail;

    char sp[512], pp[512], ep[512];
    snprintf(sp, sizeof(sp), "%s/agent.key", dir);
    snprintf(pp, sizeof(pp), "%s/agent.pub", dir);
    snprintf(ep, sizeof(ep), "%s/engine.pub", dir);
    if (new_key) {
        unlink(sp);
        unlink(pp);
    }
    char pub[CMN_KEY_Z85_LEN + 1], sec[CMN_KEY_Z85_LEN + 1];
    bool created = false;
    if (cmn_key_ensure_pair(sp, pp, "herd-agent", pub, sec, &created) < 0 ||
        cmn_key_write(ep, key, false, "herd-engine") < 0 ||
        (fetch && s_write_next(ep, next) < 0) ||
        s_write_conf(conf, endpoint, dir, token) < 0)
        goto fail;
    char afp[CMN_KEY_FP_LEN];
    cmn_key_fingerprint(pub, afp);
    agt_conf_t check;
    if (agt_conf_load(&check, conf) < 0) {
        agt_conf_clear(&check);
        goto fail;
    }
    agt_conf_clear(&check);
    printf("%s key pair: %s (0600), %s\n", created ? "new" : "kept", sp, pp);
    printf("host key fingerprint: %s\n", afp);
    printf("configuration written: %s\n", conf);
    printf("%s\n", token
           ? "the engine approves this host at its first hello (token)"
           : "after herd-agent starts, approve the host on the engine "
             "(herdctl host approve NAME) once its fingerprint matches the "
             "one above");
    return 0;
fail:
    fprintf(stderr, "herd-agent-setup: %s\n", cmn_err_msg());
    return 1;
}
