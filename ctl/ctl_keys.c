/* herdctl host approve|revoke|add|token create|list|delete: the engine's
 * enrollment actions on hosts' CURVE keys and one-time enrollment tokens
 * (see README, "Adding a host"). */
#include "ctl_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* A public key file (herd-agent-setup's agent.pub: '#' comment lines and
 * one line of Z85): its first word into buf. 0, or a usage error. */
static int
s_read_key_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "herdctl: --public-key-file %s: %s\n", path,
                strerror(errno));
        return CTL_EXIT_USAGE;
    }
    char line[256];
    int lines = 0;
    while (lines++ < 64 && fgets(line, sizeof(line), f)) {
        size_t a = 0, b;
        while (line[a] && isspace((unsigned char)line[a]))
            a++;
        if (!line[a] || line[a] == '#')
            continue;
        b = a;
        while (line[b] && !isspace((unsigned char)line[b]))
            b++;
        if (b - a >= size)
            break;
        memcpy(buf, line + a, b - a);
        buf[b - a] = '\0';
        fclose(f);
        return 0;
    }
    fclose(f);
    fprintf(stderr, "herdctl: --public-key-file %s: no public key (40 Z85 "
            "characters) in it\n", path);
    return CTL_EXIT_USAGE;
}

/* host add NAME --public-key Z85 | --public-key-file FILE */
static int
s_add(const ctl_opts_t *o, int argc, char **argv)
{
    int rc = ctl_need_id(argc, argv, "host add");
    if (rc)
        return rc;
    const char *key = NULL, *file = NULL;
    const ctl_opt_t opts[] = { { "--public-key", &key },
                               { "--public-key-file", &file },
                               { NULL, NULL } };
    if ((rc = ctl_parse_opts(argc, argv, 1, "host add", opts)))
        return rc;
    if (!key == !file)
        return ctl_usage_error("host add: give exactly one of --public-key "
                               "Z85 and --public-key-file FILE");
    char buf[128];
    if (file) {
        if ((rc = s_read_key_file(file, buf, sizeof(buf))))
            return rc;
        key = buf;
    }
    json_t *body = json_pack("{s:s,s:{s:s}}", "name", argv[0], "curve_key",
                             "public_key", key);
    json_t *j = NULL;
    rc = ctl_send(o, "POST", "/hosts", body, &j);
    if (rc || !j)
        return rc;
    printf("Host %s registered (key %s); it is taken in at its first "
           "hello\n", argv[0], ctl_jstr(j, "curve_key.fingerprint"));
    json_decref(j);
    return 0;
}

static void
s_token_row(ctl_table_t *t, const json_t *e, const void *ctx)
{
    (void)ctx;
    char created[40], expires[40];
    ctl_time_local(ctl_jint(e, "created"), created, sizeof(created));
    int64_t exp = ctl_jint(e, "expiry_time");
    if (exp > 0)
        ctl_time_local(exp, expires, sizeof(expires));
    else
        snprintf(expires, sizeof(expires), "never");
    const char *row[] = { ctl_jstr(e, "id"), ctl_jstr(e, "name"), created,
                          expires };
    ctl_table_add(t, row);
}

/* host token list: the tokens that can still enroll a host. */
static int
s_token_list(const ctl_opts_t *o, int argc, char **argv)
{
    int rc = ctl_extra(argc, argv, 0, "host token list");
    if (rc)
        return rc;
    static const char *const cols[] = { "ID", "NAME", "CREATED", "EXPIRES" };
    return ctl_list(o, "/hosts/enrollmenttokens", "enrollment_token", 4, cols,
                    s_token_row);
}

/* host token delete ID */
static int
s_token_delete(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc < 1 || !argv[0][0] || argv[0][0] == '-')
        return ctl_usage_error("host token delete: missing ID (see 'host "
                               "token list')");
    int rc = ctl_extra(argc, argv, 1, "host token delete");
    if (rc)
        return rc;
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/hosts/enrollmenttokens/%s",
             ctl_seg(argv[0], seg, sizeof(seg)));
    json_t *j = NULL;
    if ((rc = ctl_send(o, "DELETE", path, NULL, &j)) || !j)
        return rc;
    printf("Enrollment token %s deleted; it can no longer enroll a host\n",
           argv[0]);
    json_decref(j);
    return 0;
}

/* host token create NAME [--expiry SECONDS] | list | delete ID */
static int
s_token(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return s_token_list(o, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "delete") == 0)
        return s_token_delete(o, argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "create") != 0)
        return ctl_usage_error("host token: expected 'create NAME "
                               "[--expiry SECONDS]', 'list' or 'delete ID'");
    argc--;
    argv++;
    int rc = ctl_need_id(argc, argv, "host token create");
    if (rc)
        return rc;
    const char *exp = NULL;
    const ctl_opt_t opts[] = { { "--expiry", &exp }, { NULL, NULL } };
    if ((rc = ctl_parse_opts(argc, argv, 1, "host token create", opts)))
        return rc;
    json_t *body = json_pack("{s:s}", "name", argv[0]);
    if (exp) {
        uint64_t s = 0;
        if (ctl_parse_uint(exp, "--expiry", 1, 366 * 86400, &s) < 0) {
            json_decref(body);
            return ctl_usage_error("host token create: --expiry: expected "
                                   "seconds 1..%d", 366 * 86400);
        }
        json_object_set_new(body, "expiry", json_integer((json_int_t)s));
    }
    json_t *j = NULL;
    rc = ctl_send(o, "POST", "/hosts/enrollmenttokens", body, &j);
    if (rc || !j)
        return rc;
    printf("%s\n", ctl_jstr(j, "token"));
    json_decref(j);
    return 0;
}

int ctl_key_host_cmd(const ctl_opts_t *o, const char *verb, int argc,
                     char **argv)
{
    if (strcmp(verb, "add") == 0)
        return s_add(o, argc, argv);
    if (strcmp(verb, "token") == 0)
        return s_token(o, argc, argv);
    bool approve = strcmp(verb, "approve") == 0;
    bool revoke = strcmp(verb, "revoke") == 0;
    if (!approve && !revoke)
        return -1;
    char cmd[40];
    snprintf(cmd, sizeof(cmd), "host %s", verb);
    int rc = ctl_need_id(argc, argv, cmd);
    if (rc || (rc = ctl_extra(argc, argv, 1, cmd)))
        return rc;
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/hosts/%s/%s",
             ctl_seg(argv[0], seg, sizeof(seg)), verb);
    json_t *j = NULL;
    rc = ctl_send(o, "POST", path, json_object(), &j);
    if (rc || !j)
        return rc;
    printf("Host %s: %s\n", argv[0], approve
           ? "approved; it is taken in at its next hello"
           : "key revoked, host cut off");
    json_decref(j);
    return 0;
}
