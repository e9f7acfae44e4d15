/* herdctl argument parsing: sizes, counts, the engine URL, global options
 * and the body of `vm create`. Pure functions (tests/unit/test_ctl_args.c). */
#include "ctl_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_err.h"
#include "cmn_https.h"
#include "cmn_util.h"

int
ctl_parse_uint(const char *s, const char *what, uint64_t min, uint64_t max,
               uint64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20)
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is not a non-negative "
                       "integer", what, s ? s : "");
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || v < min || v > max)
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is out of range (%" PRIu64
                       "..%" PRIu64 ")", what, s, min, max);
    *out = v;
    return 0;
}

int
ctl_parse_size(const char *s, const char *what, uint64_t *out)
{
    if (!s || !*s)
        return CMN_ERR(CMN_ERR_INVALID, "%s: empty size", what);
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 19)
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is not a size (bytes, or a "
                       "number with K, M, G or T)", what, s);
    const char *suf = s + digits;
    unsigned shift;
    switch (toupper((unsigned char)suf[0])) {
    case '\0': shift = 0; break;
    case 'B': shift = 0; break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default:
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' has an unknown unit (use K, "
                       "M, G or T)", what, s);
    }
    /* Accept "G", "GB", "GiB" (all binary) and "B" alone. */
    if (suf[0] && suf[1]) {
        const char *rest = suf + 1;
        if (shift == 0 ||
            (strcasecmp(rest, "B") != 0 && strcasecmp(rest, "iB") != 0))
            return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' has an unknown unit "
                           "(use K, M, G or T)", what, s);
    }
    errno = 0;
    unsigned long long n = strtoull(s, NULL, 10);
    if (errno != 0 || n > (UINT64_MAX >> shift))
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is too large", what, s);
    if (n == 0)
        return CMN_ERR(CMN_ERR_INVALID, "%s: size must be above zero", what);
    *out = (uint64_t)n << shift;
    return 0;
}

int
ctl_parse_url(const char *url, ctl_opts_t *o)
{
    if (strlen(url) >= sizeof(o->url))
        return CMN_ERR(CMN_ERR_INVALID, "--url: too long");
    cmn_url_t u;
    if (cmn_url_parse_named(url, "--url", &u) < 0)
        return -1;
    if (strchr(u.target, '?') || u.fragment)
        return CMN_ERR(CMN_ERR_INVALID, "--url: '%s' must not have a query "
                       "or fragment", url);
    /* The path is a prefix (a proxy's) before the API's own path. */
    char prefix[256];
    size_t plen = strlen(u.target);
    if (plen >= sizeof(prefix))
        return CMN_ERR(CMN_ERR_INVALID, "--url: path too long");
    memcpy(prefix, u.target, plen + 1);
    while (plen > 0 && prefix[plen - 1] == '/')
        prefix[--plen] = '\0';
    size_t alen = strlen(CTL_API_PATH);
    if (plen >= alen && strcmp(prefix + plen - alen, CTL_API_PATH) == 0)
        prefix[plen - alen] = '\0';     /* the URL already names the API */
    snprintf(o->url, sizeof(o->url), "%s", url);
    snprintf(o->host, sizeof(o->host), "%s", u.host);
    o->port = u.port;
    o->tls = u.tls;
    snprintf(o->base, sizeof(o->base), "%s" CTL_API_PATH, prefix);
    return 0;
}

int
ctl_opt_value(int argc, char **argv, int *i, const char *name,
              const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return CMN_ERR(CMN_ERR_INVALID, "option %s needs a value", name);
    *val = argv[++*i];
    return 1;
}

int
ctl_parse_globals(int *argc, char **argv, const char *env_url, ctl_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_s = CTL_DEFAULT_TIMEOUT;
    const char *url = env_url && *env_url ? env_url : CTL_DEFAULT_URL;
    bool url_given = false;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--") == 0) {
            /* Everything after -- is left alone. */
            for (; i < *argc; i++)
                argv[out++] = argv[i];
            break;
        }
        if ((r = ctl_opt_value(*argc, argv, &i, "--url", &v)) != 0) {
            if (r < 0)
                return -1;
            url = v;
            url_given = true;
            continue;
        }
        if ((r = ctl_opt_value(*argc, argv, &i, "--output", &v)) != 0 ||
            (r = ctl_opt_value(*argc, argv, &i, "-o", &v)) != 0) {
            if (r < 0)
                return -1;
            if (strcmp(v, "json") == 0)
                o->json = true;
            else if (strcmp(v, "table") == 0)
                o->json = false;
            else
                return CMN_ERR(CMN_ERR_INVALID, "-o: '%s' is not an output "
                               "format (table or json)", v);
            continue;
        }
        static const struct { const char *name; size_t off, size; } sopts[] = {
            { "--ca-file", offsetof(ctl_opts_t, ca_file),
              sizeof(((ctl_opts_t *)0)->ca_file) },
            { "--user", offsetof(ctl_opts_t, user),
              sizeof(((ctl_opts_t *)0)->user) },
        };
        size_t k;
        for (k = 0; k < sizeof(sopts) / sizeof(sopts[0]); k++) {
            if ((r = ctl_opt_value(*argc, argv, &i, sopts[k].name, &v)) == 0)
                continue;
            if (r < 0)
                return -1;
            if (strlen(v) >= sopts[k].size || !*v)
                return CMN_ERR(CMN_ERR_INVALID, "%s: empty or too long",
                               sopts[k].name);
            snprintf((char *)o + sopts[k].off, sopts[k].size, "%s", v);
            break;
        }
        if (k < sizeof(sopts) / sizeof(sopts[0]))
            continue;
        if (strcmp(argv[i], "--insecure") == 0 || strcmp(argv[i], "-k") == 0) {
            o->insecure = true;
            continue;
        }
        if ((r = ctl_opt_value(*argc, argv, &i, "--timeout", &v)) != 0) {
            uint64_t t;
            if (r < 0 || ctl_parse_uint(v, "--timeout", 1, 86400, &t) < 0)
                return -1;
            o->timeout_s = (int)t;
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    if (ctl_parse_url(url, o) < 0) {
        if (!url_given && env_url && *env_url) {
            cmn_err_reset();
            return CMN_ERR(CMN_ERR_INVALID, "$HERD_URL: '%s' is not an "
                           "https:// or http:// URL", env_url);
        }
        return -1;
    }
    return 0;
}

/* {"id": X} if X is a UUID, else {"name": X}. */
static json_t *
s_ref(const char *x)
{
    return json_pack("{s:s}", cmn_uuid_valid(x) ? "id" : "name", x);
}

static int
s_count_opt(const char *v, const char *what, uint64_t *out)
{
    return ctl_parse_uint(v, what, 1, 512, out);
}

int
ctl_vm_create_body(int argc, char **argv, json_t **body, bool *start)
{
    const char *name = NULL;
    uint64_t memory = UINT64_C(1) << 30;
    uint64_t cpus = 0, sockets = 0, cores = 0, threads = 0;
    const char *display = NULL, *host = NULL, *cluster = NULL, *desc = NULL;
    bool ha = false;
    json_t *disks = json_array(), *nics = json_array();
    *body = NULL;
    *start = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r = 0;
        if ((r = ctl_opt_value(argc, argv, &i, "--memory", &v)) != 0) {
            if (r < 0 || ctl_parse_size(v, "--memory", &memory) < 0)
                goto fail;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--cpus", &v)) != 0) {
            if (r < 0 || s_count_opt(v, "--cpus", &cpus) < 0)
                goto fail;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--sockets", &v)) != 0) {
            if (r < 0 || s_count_opt(v, "--sockets", &sockets) < 0)
                goto fail;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--cores", &v)) != 0) {
            if (r < 0 || s_count_opt(v, "--cores", &cores) < 0)
                goto fail;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || s_count_opt(v, "--threads", &threads) < 0)
                goto fail;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--disk", &v)) != 0) {
            uint64_t size;
            if (r < 0 || ctl_parse_size(v, "--disk", &size) < 0)
                goto fail;
            char sz[32];
            snprintf(sz, sizeof(sz), "%" PRIu64, size);
            json_array_append_new(disks, json_pack(
                "{s:s, s:s, s:{s:s, s:s}}", "bootable",
                json_array_size(disks) == 0 ? "true" : "false",
                "interface", "virtio", "disk", "provisioned_size", sz,
                "format", "cow"));
        } else if (strncmp(a, "--nic", 5) == 0 &&
                   (a[5] == '\0' || a[5] == '=')) {
            /* --nic, --nic=NET, or --nic NET (NET not starting with -). */
            const char *net = a[5] == '=' ? a + 6 : NULL;
            if (!net && i + 1 < argc && argv[i + 1][0] != '-' && name)
                net = argv[++i];
            json_t *nic = json_object();
            char nname[32];
            snprintf(nname, sizeof(nname), "nic%zu", json_array_size(nics) + 1);
            json_object_set_new(nic, "name", json_string(nname));
            json_object_set_new(nic, "interface", json_string("virtio"));
            if (net && *net) {
                json_t *jn = json_string(net);
                if (!jn) {
                    json_decref(nic);
                    CMN_ERR(CMN_ERR_INVALID, "--nic: network name is not "
                            "valid UTF-8");
                    goto fail;
                }
                json_object_set_new(nic, "network", json_pack("{s:o}", "name",
                                                              jn));
            }
            json_array_append_new(nics, nic);
        } else if ((r = ctl_opt_value(argc, argv, &i, "--display", &v)) != 0) {
            if (r < 0)
                goto fail;
            if (strcmp(v, "vnc") != 0 && strcmp(v, "spice") != 0 &&
                strcmp(v, "none") != 0) {
                CMN_ERR(CMN_ERR_INVALID, "--display: '%s' is not vnc, spice "
                        "or none", v);
                goto fail;
            }
            display = v;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--host", &v)) != 0) {
            if (r < 0)
                goto fail;
            host = v;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--cluster", &v)) != 0) {
            if (r < 0)
                goto fail;
            cluster = v;
        } else if ((r = ctl_opt_value(argc, argv, &i, "--description",
                                      &v)) != 0) {
            if (r < 0)
                goto fail;
            desc = v;
        } else if (strcmp(a, "--ha") == 0) {
            ha = true;
        } else if (strcmp(a, "--start") == 0) {
            *start = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            CMN_ERR(CMN_ERR_INVALID, "vm create: unknown option '%s'", a);
            goto fail;
        } else if (!name) {
            name = a;
        } else {
            CMN_ERR(CMN_ERR_INVALID, "vm create: unexpected argument '%s' "
                    "(the VM name is '%s')", a, name);
            goto fail;
        }
    }
    if (!name || !*name) {
        CMN_ERR(CMN_ERR_INVALID, "vm create: missing the VM name");
        goto fail;
    }
    if (cpus && (sockets || cores || threads)) {
        CMN_ERR(CMN_ERR_INVALID, "vm create: give --cpus or --sockets/"
                "--cores/--threads, not both");
        goto fail;
    }
    if (cpus)
        sockets = cpus;
    json_t *b = json_object();
    json_t *jname = json_string(name);
    if (!jname) {
        json_decref(b);
        CMN_ERR(CMN_ERR_INVALID, "vm create: the name is not valid UTF-8");
        goto fail;
    }
    json_object_set_new(b, "name", jname);
    char mem[32];
    snprintf(mem, sizeof(mem), "%" PRIu64, memory);
    json_object_set_new(b, "memory", json_string(mem));
    if (sockets || cores || threads) {
        json_t *topo = json_object();
        char n[24];
        snprintf(n, sizeof(n), "%" PRIu64, sockets ? sockets : 1);
        json_object_set_new(topo, "sockets", json_string(n));
        snprintf(n, sizeof(n), "%" PRIu64, cores ? cores : 1);
        json_object_set_new(topo, "cores", json_string(n));
        snprintf(n, sizeof(n), "%" PRIu64, threads ? threads : 1);
        json_object_set_new(topo, "threads", json_string(n));
        json_object_set_new(b, "cpu", json_pack("{s:o}", "topology", topo));
    }
    if (desc) {
        json_t *jd = json_string(desc);
        if (!jd) {
            json_decref(b);
            CMN_ERR(CMN_ERR_INVALID, "--description: not valid UTF-8");
            goto fail;
        }
        json_object_set_new(b, "description", jd);
    }
    if (cluster)
        json_object_set_new(b, "cluster", s_ref(cluster));
    if (host)
        json_object_set_new(b, "placement_policy", json_pack(
            "{s:{s:[o]}}", "hosts", "host", s_ref(host)));
    if (display)
        json_object_set_new(b, "display", json_pack("{s:s}", "type", display));
    if (ha)
        json_object_set_new(b, "high_availability",
                            json_pack("{s:s}", "enabled", "true"));
    json_object_set_new(b, "disk_attachments",
                        json_pack("{s:o}", "disk_attachment", disks));
    json_object_set_new(b, "nics", json_pack("{s:o}", "nic", nics));
    if (!json_object_get(b, "name")) {
        json_decref(b);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    *body = b;
    return 0;
fail:
    json_decref(disks);
    json_decref(nics);
    return -1;
}
