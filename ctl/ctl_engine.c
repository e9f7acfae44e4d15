/* herdctl engine key show|rotate|switch: the engine's CURVE key and its
 * rotation (GET /enginekey, POST /enginekey/rotate, /enginekey/switch). */
#include "ctl_priv.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define S_WINDOW_MAX 2678400        /* 31 days, as the engine allows */

static void s_line(const char *key, const char *val)
{
    char k[64];
    snprintf(k, sizeof(k), "%s:", key);
    printf("%-18s%s\n", k, val);
}

static void s_host_row(ctl_table_t *t, const json_t *h, const void *ctx)
{
    (void)ctx;
    const json_t *has = json_object_get(h, "has_next_key");
    const char *cells[] = { ctl_jstr(h, "name"), ctl_jstr(h, "id"),
                            json_is_true(has) ? "yes" : "no" };
    ctl_table_add(t, cells);
}

/* The answer of GET /enginekey (also of rotate), as text. */
static void s_print(const json_t *j)
{
    s_line("Public key", ctl_jstr(j, "public_key"));
    s_line("Fingerprint", ctl_jstr(j, "fingerprint"));
    const json_t *r = json_object_get(j, "rotation");
    if (!json_is_object(r)) {
        s_line("Rotation", "none");
        return;
    }
    char when[64];
    ctl_time_local(ctl_jint(r, "switch_time"), when, sizeof(when));
    s_line("Next public key", ctl_jstr(r, "next_public_key"));
    s_line("Next fingerprint", ctl_jstr(r, "next_fingerprint"));
    s_line("Switch at", when);
    const json_t *hosts = json_object_get(r, "hosts");
    if (json_array_size(hosts) == 0) {
        s_line("Hosts", "none approved");
        return;
    }
    putchar('\n');
    static const char *const cols[] = { "HOST", "ID", "HAS NEXT KEY" };
    ctl_print_rows(hosts, 3, cols, s_host_row, NULL);
}

static int s_show(const ctl_opts_t *o, int argc, char **argv)
{
    int rc = ctl_extra(argc, argv, 0, "engine key show");
    if (rc)
        return rc;
    json_t *j = NULL;
    rc = ctl_get(o, "/enginekey", &j);
    if (rc || !j)
        return rc;
    s_print(j);
    json_decref(j);
    return 0;
}

static int s_rotate(const ctl_opts_t *o, int argc, char **argv)
{
    const char *win = NULL;
    const ctl_opt_t opts[] = { { "--window", &win }, { NULL, NULL } };
    int rc = ctl_parse_opts(argc, argv, 0, "engine key rotate", opts);
    if (rc)
        return rc;
    json_t *body = json_object();
    if (win) {
        uint64_t s = 0;
        if (ctl_parse_uint(win, "--window", 0, S_WINDOW_MAX, &s) < 0) {
            json_decref(body);
            return ctl_usage_error("engine key rotate: --window: expected "
                                   "seconds 0..%d (0 = as soon as every "
                                   "connected host has the next key)",
                                   S_WINDOW_MAX);
        }
        json_object_set_new(body, "window", json_integer((json_int_t)s));
    }
    json_t *j = NULL;
    rc = ctl_send(o, "POST", "/enginekey/rotate", body, &j);
    if (rc || !j)
        return rc;
    char when[64];
    ctl_time_local(ctl_jint(j, "rotation.switch_time"), when, sizeof(when));
    printf("Engine key rotation started: next key %s, switch at %s\n",
           ctl_jstr(j, "rotation.next_fingerprint"), when);
    json_decref(j);
    return 0;
}

static int s_switch(const ctl_opts_t *o, int argc, char **argv)
{
    int rc = ctl_extra(argc, argv, 0, "engine key switch");
    if (rc)
        return rc;
    json_t *j = NULL;
    rc = ctl_send(o, "POST", "/enginekey/switch", json_object(), &j);
    if (rc || !j)
        return rc;
    printf("Engine key switched: the engine now uses %s\n",
           ctl_jstr(j, "fingerprint"));
    json_decref(j);
    return 0;
}

int
ctl_engine_cmd(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "key") != 0)
        return ctl_usage_error("engine: expected 'key show', 'key rotate "
                               "[--window SECONDS]' or 'key switch'");
    const char *verb = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(verb, "show") == 0)
        return s_show(o, argc, argv);
    if (strcmp(verb, "rotate") == 0)
        return s_rotate(o, argc, argv);
    if (strcmp(verb, "switch") == 0)
        return s_switch(o, argc, argv);
    return ctl_usage_error("engine key: unknown verb '%s' (show, rotate, "
                           "switch)", verb);
}
