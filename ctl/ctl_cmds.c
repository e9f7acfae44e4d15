/* herdctl commands: NOUN VERB ARGS -> REST calls -> tables or JSON. */
#include "ctl_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cmn_err.h"
#include "cmn_util.h"

void
ctl_usage(FILE *fp)
{
    fputs(
"Usage: herdctl [--url URL] [-o table|json] [--timeout SECONDS]\n"
"               [--ca-file FILE | --insecure] [--user NAME] NOUN VERB [ARGS]\n"
"\n"
"  URL defaults to $HERD_URL, else " CTL_DEFAULT_URL " (" CTL_API_PATH
" is appended).\n"
"  The engine's CA: --ca-file or $HERD_CA_FILE (served at URL/ca.crt).\n"
"  Credentials: the token `herdctl login` saved for this URL; or, with\n"
"  $HERD_PASSWORD_FILE set, Basic on every call as --user (or $HERD_USER,\n"
"  default admin@internal).\n"
"\n"
"  login [--user NAME] [--password-file FILE]   (prompts without a file)\n"
"  logout\n"
"  user list\n"
"  user add NAME --role SuperUser|Operator|ReadOnly [--password-file FILE]\n"
"  user remove NAME\n"
"  user grant NAME ROLE\n"
"  host list\n"
"  host show ID|NAME\n"
"  host stats ID|NAME\n"
"  host ping ID|NAME [--count N]\n"
"  host deactivate ID|NAME [--wait]   (maintenance: its VMs migrate away)\n"
"  host activate|remove ID|NAME\n"
"  host approve|revoke ID|NAME         (a new host's key / cut a host off)\n"
"  host add NAME --public-key Z85|--public-key-file FILE  (pre-register)\n"
"  host token create NAME [--expiry SECONDS]  (one-time enrollment token)\n"
"  host token list | host token delete ID\n"
"  vm list\n"
"  vm show ID|NAME\n"
"  vm create NAME [--memory SIZE] [--cpus N | --sockets N --cores N --threads N]\n"
"                 [--disk SIZE]... [--nic [NETWORK]]... [--display vnc|spice|none]\n"
"                 [--host ID|NAME] [--cluster NAME] [--ha] [--description TEXT]\n"
"                 [--start]\n"
"  vm start ID|NAME [--host ID|NAME]\n"
"  vm stop|shutdown|reboot|reset|pause|suspend|resume|remove ID|NAME\n"
"  vm stats ID|NAME\n"
"  vm migrate ID|NAME [--host ID|NAME] [--wait|--no-wait]  (bar on a tty)\n"
"  vm cancel-migration ID|NAME\n"
"  job list\n"
"  datacenter list | datacenter show|remove ID|NAME\n"
"  datacenter create NAME [--description TEXT]\n"
"  datacenter update ID|NAME [--name NAME] [--description TEXT]\n"
"  cluster list | cluster show|remove ID|NAME\n"
"  cluster create NAME [--datacenter ID|NAME] [--description TEXT]\n"
"                 [--cpu-type TYPE] [--overcommit PERCENT]\n"
"  cluster update ID|NAME [--name NAME] [--description TEXT] [--cpu-type TYPE]\n"
"                 [--overcommit PERCENT] [--policy none|evenly_distributed|\n"
"                 power_saving] [--policy-property NAME=VALUE]...\n"
"                 [--migration-bandwidth MBPS] [--max-downtime MS]\n"
"  affinity list CLUSTER\n"
"  affinity add CLUSTER NAME [--positive|--negative] [--soft] VM...\n"
"  affinity update CLUSTER GROUP [--name N] [--positive|--negative]\n"
"                  [--soft|--hard] [--vms VM,VM...]\n"
"  affinity add-vm|remove-vm CLUSTER GROUP VM\n"
"  affinity remove CLUSTER GROUP\n"
"  engine key show | engine key rotate [--window SECONDS] | engine key switch\n"
"  event list [--max N] [--from ID]\n"
"  version\n"
"  help\n"
"\n"
"  SIZE is bytes or a number with K, M, G or T (binary: 1G = 1024M).\n"
"  --overcommit: VM memory a host may hold, in percent of its own (1..1000).\n"
"  --policy-property (kept until given again; NAME= drops it):\n"
"    HighUtilization (CPU %, 50..99, default 80), LowUtilization (0..49,\n"
"    default 20), CpuOverCommitDurationMinutes (1..1440, default 2),\n"
"    MaxFreeMemoryForOverUtilized, MinFreeMemoryForUnderUtilized (MiB).\n"
"  --migration-bandwidth 0..1000000 Mbit/s, --max-downtime 0..600000 ms\n"
"  (0: the default).\n"
"  Exit status: 0 done, 1 the engine refused, 2 bad usage, 3 engine unreachable.\n",
        fp);
}

int
ctl_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("herdctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nUsage: herdctl [--url URL] [-o table|json] NOUN VERB [ARGS]\n"
          "  (nouns: host, vm, datacenter, cluster, affinity, job, event, "
          "engine, user,\n   login, logout, version)\n"
          "Try 'herdctl help' for every command.\n", stderr);
    return CTL_EXIT_USAGE;
}

const char *
ctl_seg(const char *s, char *buf, size_t len)
{
    char *enc = evhttp_uriencode(s, -1, 0);
    snprintf(buf, len, "%s", enc ? enc : "");
    free(enc);
    return buf;
}

/* One call; prints faults and connection errors; returns the exit code.
 * On success *out (if not NULL) gets the answer (new reference). */
int
ctl_call(const ctl_opts_t *o, const char *method, const char *path,
       const json_t *body, json_t **out)
{
    if (out)
        *out = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    ctl_resp_t r;
    cmn_err_reset();
    int rc = ctl_http(o, method, path, text, &r);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "herdctl: cannot reach the engine at %s: %s\n",
                o->url, cmn_err_msg());
        return CTL_EXIT_UNREACHABLE;
    }
    if (r.status >= 400) {
        const char *detail = ctl_jstr(r.json, "fault.detail");
        if (!*detail)
            detail = ctl_jstr(r.json, "detail");
        if (*detail)
            fprintf(stderr, "herdctl: %s\n", detail);
        else
            fprintf(stderr, "herdctl: the engine answered HTTP %d%s%.200s\n",
                    r.status, r.len ? ": " : "", r.text ? r.text : "");
        ctl_resp_clear(&r);
        return CTL_EXIT_FAULT;
    }
    if (out) {
        *out = r.json ? json_incref(r.json) : json_object();
    }
    ctl_resp_clear(&r);
    return CTL_EXIT_OK;
}

void
ctl_kv(const char *key, const char *fmt, ...)
{
    char k[64];
    snprintf(k, sizeof(k), "%s:", key);
    printf("%-16s", k);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

int
ctl_need_id(int argc, char **argv, const char *cmd)
{
    if (argc < 1 || !argv[0][0] || argv[0][0] == '-')
        return ctl_usage_error("%s: missing ID or NAME", cmd);
    return 0;
}

int
ctl_extra(int argc, char **argv, int from, const char *cmd)
{
    if (argc > from)
        return ctl_usage_error("%s: unexpected argument '%s'", cmd,
                               argv[from]);
    return 0;
}

int
ctl_parse_opts(int argc, char **argv, int from, const char *cmd,
               const ctl_opt_t *opts)
{
    for (int i = from; i < argc; i++) {
        int r = 0;
        for (size_t k = 0; opts[k].name != NULL && r == 0; k++) {
            const char *v;
            if ((r = ctl_opt_value(argc, argv, &i, opts[k].name, &v)) < 0)
                return ctl_usage_error("%s", cmn_err_msg());
            if (r > 0)
                *opts[k].val = v;
        }
        if (r == 0)
            return ctl_usage_error("%s: unexpected argument '%s'", cmd,
                                   argv[i]);
    }
    return 0;
}

int
ctl_send(const ctl_opts_t *o, const char *method, const char *path,
         json_t *body, json_t **out)
{
    *out = NULL;
    int rc = ctl_call(o, method, path, body, out);
    json_decref(body);
    if (rc == 0 && o->json) {
        ctl_print_json(*out);
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int
ctl_get(const ctl_opts_t *o, const char *path, json_t **out)
{
    return ctl_send(o, "GET", path, NULL, out);
}

void
ctl_print_rows(const json_t *arr, size_t ncols, const char *const *cols,
               ctl_row_fn row, const void *ctx)
{
    ctl_table_t *t = ctl_table_new(ncols, cols);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
        row(t, e, ctx);
    ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
}

int
ctl_list_ref(const ctl_opts_t *o, const char *path, const char *key,
             size_t ncols, const char *const *cols, ctl_row_fn row,
             const char *ref_path)
{
    json_t *j, *ref = NULL;
    int rc = ctl_get(o, path, &j);
    if (rc || j == NULL)
        return rc;
    if (ref_path && (rc = ctl_call(o, "GET", ref_path, NULL, &ref))) {
        json_decref(j);
        return rc;
    }
    ctl_print_rows(json_object_get(j, key), ncols, cols, row, ref);
    json_decref(ref);
    json_decref(j);
    return 0;
}

int
ctl_list(const ctl_opts_t *o, const char *path, const char *key,
         size_t ncols, const char *const *cols, ctl_row_fn row)
{
    return ctl_list_ref(o, path, key, ncols, cols, row, NULL);
}

const char *
ctl_item_path(char *buf, size_t len, const char *coll, const char *id)
{
    char seg[768];
    if (id)
        snprintf(buf, len, "/%s/%s", coll, ctl_seg(id, seg, sizeof(seg)));
    else
        snprintf(buf, len, "/%s", coll);
    return buf;
}

const char *
ctl_name_of(const json_t *coll, const char *key, const char *id)
{
    size_t i;
    json_t *e;
    if (!*id)
        return "";
    json_array_foreach(json_object_get(coll, key), i, e)
        if (strcmp(ctl_jstr(e, "id"), id) == 0)
            return ctl_jstr(e, "name");
    return id;
}

/* ---- hosts ------------------------------------------------------------- */

static void
s_host_row(ctl_table_t *t, const json_t *h, const void *ctx)
{
    (void)ctx;
    char cpus[16], mem[32], vms[32];
    int64_t n = ctl_jint(h, "cpu_count");
    if (n == 0)
        n = ctl_jint(h, "cpu.topology.sockets") *
            ctl_jint(h, "cpu.topology.cores") *
            ctl_jint(h, "cpu.topology.threads");
    snprintf(cpus, sizeof(cpus), "%" PRId64, n);
    snprintf(mem, sizeof(mem), "%" PRId64 " MiB",
             ctl_jint(h, "memory") >> 20);
    snprintf(vms, sizeof(vms), "%" PRId64 "/%" PRId64,
             ctl_jint(h, "summary.active"), ctl_jint(h, "summary.total"));
    const char *row[] = { ctl_jstr(h, "name"), ctl_jstr(h, "status"),
                          ctl_jstr(h, "address"), cpus, mem, vms,
                          ctl_jstr(h, "id") };
    ctl_table_add(t, row);
}

static int
s_host_list(const ctl_opts_t *o)
{
    static const char *const cols[] = { "NAME", "STATUS", "ADDRESS", "CPUS",
                                        "MEMORY", "VMS", "ID" };
    return ctl_list(o, "/hosts", "host", 7, cols, s_host_row);
}

static int
s_host_show(const ctl_opts_t *o, const char *id)
{
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/hosts/%s", ctl_seg(id, seg, sizeof(seg)));
    json_t *h;
    int rc = ctl_get(o, path, &h);
    if (rc || h == NULL)
        return rc;
    ctl_kv("Name", "%s", ctl_jstr(h, "name"));
    ctl_kv("ID", "%s", ctl_jstr(h, "id"));
    ctl_kv("Status", "%s", ctl_jstr(h, "status"));
    if (json_object_get(h, "curve_key"))
        ctl_kv("Key", "%s (%s)", ctl_jstr(h, "curve_key.fingerprint"),
               ctl_jstr(h, "curve_key.state"));
    ctl_kv("Address", "%s", ctl_jstr(h, "address"));
    ctl_kv("Cluster", "%s", ctl_jstr(h, "cluster.id"));
    ctl_kv("CPU", "%s, %s MHz", ctl_jstr(h, "cpu.name"),
         ctl_jstr(h, "cpu.speed"));
    ctl_kv("Topology", "%s sockets, %s cores, %s threads",
         ctl_jstr(h, "cpu.topology.sockets"), ctl_jstr(h, "cpu.topology.cores"),
         ctl_jstr(h, "cpu.topology.threads"));
    ctl_kv("Memory", "%" PRId64 " MiB", ctl_jint(h, "memory") >> 20);
    ctl_kv("KVM", "%s", ctl_jstr(h, "kvm"));
    ctl_kv("KSM", "%s", ctl_jstr(h, "ksm.enabled"));
    ctl_kv("OS", "%s", ctl_jstr(h, "os.type"));
    ctl_kv("Kernel", "%s", ctl_jstr(h, "os.version.full_version"));
    ctl_kv("libvirt", "%s", ctl_jstr(h, "libvirt_version.full_version"));
    ctl_kv("Agent", "%s", ctl_jstr(h, "version.full_version"));
    ctl_kv("VMs", "%s running, %s placed", ctl_jstr(h, "summary.active"),
         ctl_jstr(h, "summary.total"));
    json_decref(h);
    return 0;
}

static void
s_stat_row(ctl_table_t *t, const json_t *s, const void *ctx)
{
    (void)ctx;
    json_t *d = json_object_get(json_array_get(json_object_get(
        json_object_get(s, "values"), "value"), 0), "datum");
    char val[64] = "";
    if (json_is_integer(d))
        snprintf(val, sizeof(val), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(d));
    else if (json_is_real(d))
        snprintf(val, sizeof(val), "%.2f", json_real_value(d));
    else if (json_is_string(d))
        snprintf(val, sizeof(val), "%s", json_string_value(d));
    const char *row[] = { ctl_jstr(s, "name"), val, ctl_jstr(s, "unit"),
                          ctl_jstr(s, "kind") };
    ctl_table_add(t, row);
}

int
ctl_stats(const ctl_opts_t *o, const char *coll, const char *id)
{
    static const char *const cols[] = { "NAME", "VALUE", "UNIT", "KIND" };
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/%s/%s/statistics", coll,
             ctl_seg(id, seg, sizeof(seg)));
    return ctl_list(o, path, "statistic", 4, cols, s_stat_row);
}

static int
s_host_ping(const ctl_opts_t *o, int argc, char **argv)
{
    const char *id = argv[0], *v = NULL;
    json_t *body = NULL;
    cmn_err_reset();
    for (int i = 1; i < argc; i++) {
        int r = ctl_opt_value(argc, argv, &i, "--count", &v);
        uint64_t n;
        if (r < 0)
            return ctl_usage_error("%s", cmn_err_msg());
        if (r == 0)
            return ctl_usage_error("host ping: unexpected argument '%s'",
                                   argv[i]);
        if (ctl_parse_uint(v, "--count", 1, 10000, &n) < 0)
            return ctl_usage_error("%s", cmn_err_msg());
        json_decref(body);
        body = json_pack("{s:I}", "count", (json_int_t)n);
    }
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/hosts/%s/ping",
             ctl_seg(id, seg, sizeof(seg)));
    json_t *j = NULL;
    int rc = ctl_send(o, "POST", path, body ? body : json_object(), &j);
    if (rc || !j)
        return rc;
    static const char *const cols[] = { "COUNT", "MIN_US", "MEDIAN_US",
                                        "P99_US", "MAX_US" };
    ctl_table_t *t = ctl_table_new(5, cols);
    json_t *p = json_object_get(j, "ping");
    char f[5][32];
    const char *keys[] = { "count", "min_us", "median_us", "p99_us",
                           "max_us" };
    const char *row[5];
    for (int k = 0; k < 5; k++) {
        snprintf(f[k], sizeof(f[k]), "%" PRId64, ctl_jint(p, keys[k]));
        row[k] = f[k];
    }
    ctl_table_add(t, row);
    ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    json_decref(j);
    return 0;
}

static int
s_host(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc < 1)
        return ctl_usage_error("host: missing a verb (list, show, stats, "
                               "ping)");
    const char *verb = argv[0];
    argc--;
    argv++;
    int rc;
    if (strcmp(verb, "list") == 0) {
        if ((rc = ctl_extra(argc, argv, 0, "host list")))
            return rc;
        return s_host_list(o);
    }
    if (strcmp(verb, "show") == 0 || strcmp(verb, "stats") == 0 ||
        strcmp(verb, "ping") == 0) {
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "host %s", verb);
        if ((rc = ctl_need_id(argc, argv, cmd)))
            return rc;
        if (strcmp(verb, "ping") == 0)
            return s_host_ping(o, argc, argv);
        if ((rc = ctl_extra(argc, argv, 1, cmd)))
            return rc;
        if (strcmp(verb, "show") == 0)
            return s_host_show(o, argv[0]);
        return ctl_stats(o, "hosts", argv[0]);
    }
    if ((rc = ctl_mig_host_cmd(o, verb, argc, argv)) >= 0)
        return rc;
    if ((rc = ctl_key_host_cmd(o, verb, argc, argv)) >= 0)
        return rc;
    return ctl_usage_error("host: unknown verb '%s' (list, show, stats, ping, "
                           "deactivate, activate, remove, approve, revoke, add, "
                           "token)", verb);
}

/* ---- events -------------------------------------------------------------- */

static void
s_event_row(ctl_table_t *t, const json_t *e, const void *ctx)
{
    (void)ctx;
    char when[40];
    ctl_time_local(ctl_jint(e, "time"), when, sizeof(when));
    const char *row[] = { ctl_jstr(e, "id"), when, ctl_jstr(e, "severity"),
                          ctl_jstr(e, "description") };
    ctl_table_add(t, row);
}

static int
s_event(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "list") != 0)
        return ctl_usage_error("event: %s '%s' (only: event list)",
                               argc < 1 ? "missing a verb" : "unknown verb",
                               argc < 1 ? "" : argv[0]);
    uint64_t max = 0, from = 0;
    bool have_max = false, have_from = false;
    cmn_err_reset();
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = ctl_opt_value(argc, argv, &i, "--max", &v)) != 0) {
            if (r < 0 || ctl_parse_uint(v, "--max", 1, 10000, &max) < 0)
                return ctl_usage_error("%s", cmn_err_msg());
            have_max = true;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--from", &v)) != 0) {
            if (r < 0 || ctl_parse_uint(v, "--from", 0, INT64_MAX, &from) < 0)
                return ctl_usage_error("%s", cmn_err_msg());
            have_from = true;
        } else {
            return ctl_usage_error("event list: unexpected argument '%s'",
                                   argv[i]);
        }
    }
    char path[128];
    int n = snprintf(path, sizeof(path), "/events");
    if (have_max)
        n += snprintf(path + n, sizeof(path) - (size_t)n, "?max=%" PRIu64,
                      max);
    if (have_from)
        snprintf(path + n, sizeof(path) - (size_t)n, "%sfrom=%" PRIu64,
                 have_max ? "&" : "?", from);
    static const char *const cols[] = { "ID", "TIME", "SEVERITY",
                                        "DESCRIPTION" };
    return ctl_list(o, path, "event", 4, cols, s_event_row);
}

static int
s_version(const ctl_opts_t *o)
{
    json_t *j;
    int rc = ctl_call(o, "GET", "", NULL, &j);
    if (o->json) {
        json_t *out = json_pack("{s:s, s:O?}", "herdctl", CTL_VERSION,
                                "engine", j ? json_object_get(j,
                                                              "product_info")
                                            : NULL);
        ctl_print_json(out);
        json_decref(out);
    } else {
        printf("herdctl %s\n", CTL_VERSION);
        if (j)
            printf("engine  %s %s at %s\n", ctl_jstr(j, "product_info.name"),
                   ctl_jstr(j, "product_info.version.full_version"), o->url);
    }
    json_decref(j);
    return rc;
}

int
ctl_run(const ctl_opts_t *oin, int argc, char **argv)
{
    ctl_opts_t opts = *oin, *o = &opts;
    if (argc < 1)
        return ctl_usage_error("missing a command");
    const char *noun = argv[0];
    if (strcmp(noun, "help") == 0 || strcmp(noun, "--help") == 0 ||
        strcmp(noun, "-h") == 0) {
        ctl_usage(stdout);
        return 0;
    }
    if (strcmp(noun, "login") == 0)
        return ctl_login_cmd(o, argc - 1, argv + 1);
    if (strcmp(noun, "logout") == 0)
        return ctl_logout_cmd(o, argc - 1, argv + 1);
    if (!o->authz[0] && ctl_auth_setup(o) < 0) {
        fprintf(stderr, "herdctl: %s\n", cmn_err_msg());
        return CTL_EXIT_USAGE;
    }
    if (strcmp(noun, "user") == 0 || strcmp(noun, "users") == 0)
        return ctl_user_cmd(o, argc - 1, argv + 1);
    if (strcmp(noun, "version") == 0 || strcmp(noun, "--version") == 0) {
        int rc = ctl_extra(argc - 1, argv + 1, 0, "version");
        return rc ? rc : s_version(o);
    }
    if (strcmp(noun, "host") == 0 || strcmp(noun, "hosts") == 0)
        return s_host(o, argc - 1, argv + 1);
    if (strcmp(noun, "vm") == 0 || strcmp(noun, "vms") == 0)
        return ctl_vm_cmd(o, argc - 1, argv + 1);
    if (strcmp(noun, "event") == 0 || strcmp(noun, "events") == 0)
        return s_event(o, argc - 1, argv + 1);
    if (strcmp(noun, "job") == 0 || strcmp(noun, "jobs") == 0)
        return ctl_job_cmd(o, argc - 1, argv + 1);
    int rc = ctl_inv_cmd(o, noun, argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    if (strcmp(noun, "affinity") == 0)
        return ctl_affinity_cmd(o, argc - 1, argv + 1);
    if (strcmp(noun, "engine") == 0)
        return ctl_engine_cmd(o, argc - 1, argv + 1);
    return ctl_usage_error("unknown command '%s' (host, vm, datacenter, "
                           "cluster, event, job, affinity, engine, user, "
                           "login, logout, version, help)", noun);
}
