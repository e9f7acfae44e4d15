/* herd-agent-setup: host deploy. Makes this host's CURVE key pair, takes
 * the engine's public key (given on the command line or from a file, and
 * confirmed by its fingerprint), and writes the agent's settings into
 * agent.yaml. Kept out of the herd-agent daemon (not an agt_*.c file).
 *
 *   herd-agent-setup --engine HOST:PORT --engine-key Z85|--engine-key-file F
 *                    [--fingerprint SHA256:...] [--yes] [--token T]
 *                    [--config FILE] [--key-dir DIR] [--new-key]
 *
 * The engine prints its key and fingerprint with `herd-engine --show-key`;
 * its public key file is <agents.key_dir>/engine.pub. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agt_conf.h"
#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("agent.setup");

#define DEFAULT_KEY_DIR "/etc/herd/keys"
#define CONF_MAX (1 << 20)

static void s_usage(FILE *f)
{
    fprintf(f,
        "Usage: herd-agent-setup --engine HOST:PORT\n"
        "           (--engine-key Z85 | --engine-key-file FILE)\n"
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
        "  --fingerprint FP        expected fingerprint of the engine key\n"
        "                          (SHA256:..., `herd-engine --show-key`);\n"
        "                          without it (and without --yes) you are\n"
        "                          asked to compare it\n"
        "  --yes                   trust the engine key without asking\n"
        "  --token TOKEN           one-time enrollment token: the engine\n"
        "                          approves this host at its first hello\n"
        "  --config FILE           agent configuration (default %s)\n"
        "  --key-dir DIR           where keys go (default %s)\n"
        "  --new-key               make a new key pair even if one exists\n"
        "                          (the engine must approve the new key)\n",
        AGT_CONF_DEFAULT_PATH, DEFAULT_KEY_DIR);
}

/* Confirm the engine key by fingerprint: given, or asked on the terminal. */
static int s_confirm(const char *key, const char *want_fp, bool yes)
{
    char fp[CMN_KEY_FP_LEN];
    if (cmn_key_fingerprint(key, fp) < 0)
        return -1;
    if (want_fp) {
        if (strcmp(fp, want_fp) != 0)
            return CMN_ERR(CMN_ERR_DENIED, "the engine key's fingerprint is "
                           "%s, not %s: wrong key or address, refusing", fp,
                           want_fp);
        printf("engine key fingerprint %s: matches\n", fp);
        return 0;
    }
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
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *engine = NULL, *ekey = NULL, *ekey_file = NULL, *fp = NULL;
    const char *token = NULL, *conf = AGT_CONF_DEFAULT_PATH;
    const char *dir = DEFAULT_KEY_DIR;
    bool yes = false, new_key = false;
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
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    if (optind < argc || !engine || (!ekey == !ekey_file)) {
        fprintf(stderr, "herd-agent-setup: %s\n", optind < argc
                ? "unexpected argument" : !engine ? "--engine is required"
                : "give one of --engine-key and --engine-key-file");
        s_usage(stderr);
        return 2;
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
    char key[CMN_KEY_Z85_LEN + 1];
    if (ekey_file) {
        if (cmn_key_load_public(ekey_file, key) < 0)
            goto fail;
    } else if (!cmn_key_valid(ekey)) {
        fprintf(stderr, "herd-agent-setup: --engine-key: not a CURVE public "
                "key (40 Z85 characters)\n");
        return 2;
    } else {
        snprintf(key, sizeof(key), "%s", ekey);
    }
    if (s_confirm(key, fp, yes) < 0)
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
