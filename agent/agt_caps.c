#include "agt_caps.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("agent.caps");

#define MAX_NICS 256
#define MAX_ADDRS 64
#define MAX_FLAGS 512

/* Copy with truncation (snprintf "%s" trips -Wformat-truncation). */
static void
s_copy(char *dst, size_t dlen, const char *src)
{
    size_t n = strlen(src);
    if (n >= dlen)
        n = dlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void
agt_caps_version_str(unsigned long v, char *buf, size_t len)
{
    snprintf(buf, len, "%lu.%lu.%lu", v / 1000000, (v / 1000) % 1000, v % 1000);
}

/* Copy the value after "key\t: " on a cpuinfo line. */
static bool
s_line_value(const char *line, size_t llen, const char *key, char *out, size_t olen)
{
    size_t klen = strlen(key);
    if (llen < klen || strncmp(line, key, klen) != 0)
        return false;
    const char *p = line + klen;
    const char *end = line + llen;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != ':')
        return false;
    p++;
    while (p < end && *p == ' ')
        p++;
    size_t n = (size_t)(end - p);
    if (n >= olen)
        n = olen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static void
s_set_flags(agt_caps_t *out, const char *flags)
{
    for (size_t i = 0; i < out->ncpu_flags; i++)
        free(out->cpu_flags[i]);
    free(out->cpu_flags);
    out->cpu_flags = NULL;
    out->ncpu_flags = 0;
    out->cpu_flags = calloc(MAX_FLAGS, sizeof(char *));
    if (!out->cpu_flags)
        return;
    const char *p = flags;
    while (*p && out->ncpu_flags < MAX_FLAGS) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, " \t");
        if (n == 0)
            break;
        char *f = strndup(p, n);
        if (!f)
            break;
        out->cpu_flags[out->ncpu_flags++] = f;
        p += n;
    }
}

void
agt_caps_parse_cpuinfo(const char *buf, agt_caps_t *out)
{
    bool model = false, vendor = false, mhz = false, flags = false;
    unsigned procs = 0;
    const char *line = buf;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char val[8192];
        if (s_line_value(line, len, "processor", val, sizeof(val))) {
            procs++;
        } else if (!model && s_line_value(line, len, "model name", val, sizeof(val))) {
            s_copy(out->cpu_model, sizeof(out->cpu_model), val);
            model = true;
        } else if (!vendor && s_line_value(line, len, "vendor_id", val, sizeof(val))) {
            s_copy(out->cpu_vendor, sizeof(out->cpu_vendor), val);
            vendor = true;
        } else if (!mhz && s_line_value(line, len, "cpu MHz", val, sizeof(val))) {
            char *e;
            double d = strtod(val, &e);
            if (e != val && d > 0 && d < 1e6)
                out->cpu_mhz = (unsigned)(d + 0.5);
            mhz = true;
        } else if (!flags && s_line_value(line, len, "flags", val, sizeof(val))) {
            s_set_flags(out, val);
            flags = true;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (procs > 0)
        out->cpu_count = procs;
}

void
agt_caps_parse_meminfo_total(const char *buf, uint64_t *bytes)
{
    const char *p = strstr(buf, "MemTotal:");
    if (!p || (p != buf && p[-1] != '\n'))
        return;
    char *e;
    unsigned long long kib = strtoull(p + 9, &e, 10);
    if (e != p + 9 && kib > 0)
        *bytes = (uint64_t)kib * 1024;
}

void
agt_caps_parse_os_release(const char *buf, char *out, size_t len)
{
    const char *p = buf;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t llen = nl ? (size_t)(nl - p) : strlen(p);
        if (llen > 12 && strncmp(p, "PRETTY_NAME=", 12) == 0) {
            const char *v = p + 12;
            size_t vlen = llen - 12;
            if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
                v++;
                vlen -= 2;
            }
            if (vlen >= len)
                vlen = len - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return;
        }
        p = nl ? nl + 1 : NULL;
    }
}

/* Text of the first <tag>...</tag> between start and end. */
static bool
s_xml_text(const char *start, const char *end, const char *tag, char *out, size_t olen)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *b = strstr(start, open);
    if (!b || (end && b > end))
        return false;
    b += strlen(open);
    const char *e = strstr(b, close);
    if (!e || (end && e > end))
        return false;
    size_t n = (size_t)(e - b);
    if (n >= olen)
        n = olen - 1;
    memcpy(out, b, n);
    out[n] = '\0';
    return true;
}

/* Numeric attribute `name='N'` in the tag starting at p. */
static unsigned
s_xml_attr_uint(const char *p, const char *name)
{
    const char *end = strchr(p, '>');
    char pat[64];
    snprintf(pat, sizeof(pat), " %s=", name);
    const char *a = strstr(p, pat);
    if (!a || (end && a > end))
        return 0;
    a += strlen(pat) + 1;
    char *e;
    long v = strtol(a, &e, 10);
    return (e == a || v < 0 || v > 1000000) ? 0 : (unsigned)v;
}

void
agt_caps_parse_capabilities(const char *xml, agt_caps_t *out)
{
    const char *host = strstr(xml, "<host>");
    if (!host)
        return;
    const char *host_end = strstr(host, "</host>");
    char buf[256];
    if (s_xml_text(host, host_end, "uuid", buf, sizeof(buf)))
        s_copy(out->host_uuid, sizeof(out->host_uuid), buf);
    const char *cpu = strstr(host, "<cpu>");
    if (cpu && (!host_end || cpu < host_end)) {
        const char *cpu_end = strstr(cpu, "</cpu>");
        if (s_xml_text(cpu, cpu_end, "model", buf, sizeof(buf)) && buf[0])
            s_copy(out->cpu_model, sizeof(out->cpu_model), buf);
        if (s_xml_text(cpu, cpu_end, "vendor", buf, sizeof(buf)) && buf[0])
            s_copy(out->cpu_vendor, sizeof(out->cpu_vendor), buf);
        const char *topo = strstr(cpu, "<topology");
        if (topo && (!cpu_end || topo < cpu_end)) {
            unsigned s = s_xml_attr_uint(topo, "sockets");
            unsigned c = s_xml_attr_uint(topo, "cores");
            unsigned t = s_xml_attr_uint(topo, "threads");
            if (s)
                out->cpu_sockets = s;
            if (c)
                out->cpu_cores = c;
            if (t)
                out->cpu_threads = t;
        }
    }
    const char *cells = strstr(host, "<cells ");
    if (cells && (!host_end || cells < host_end)) {
        unsigned n = s_xml_attr_uint(cells, "num");
        if (n)
            out->numa_nodes = n;
    }
}

static bool
s_read_small(const char *path, char *buf, size_t len)
{
    CMN_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, len - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return true;
}

static uint64_t
s_read_u64(const char *path, bool *ok)
{
    char buf[64];
    *ok = false;
    if (!s_read_small(path, buf, sizeof(buf)))
        return 0;
    char *e;
    errno = 0;
    long long v = strtoll(buf, &e, 10);
    if (e == buf || errno || v < 0)
        return 0;
    *ok = true;
    return (uint64_t)v;
}

static agt_nic_t *
s_nic_get(agt_caps_t *out, const char *name)
{
    for (size_t i = 0; i < out->nnics; i++)
        if (strcmp(out->nics[i].name, name) == 0)
            return &out->nics[i];
    if (out->nnics >= MAX_NICS)
        return NULL;
    agt_nic_t *n = &out->nics[out->nnics++];
    memset(n, 0, sizeof(*n));
    s_copy(n->name, sizeof(n->name), name);
    n->addresses = calloc(MAX_ADDRS, sizeof(char *));
    return n;
}

static int
s_prefix_len(const struct sockaddr *mask)
{
    if (!mask)
        return 0;
    const unsigned char *b;
    size_t len;
    if (mask->sa_family == AF_INET) {
        b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)mask)->sin_addr;
        len = 4;
    } else if (mask->sa_family == AF_INET6) {
        b = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)mask)->sin6_addr;
        len = 16;
    } else {
        return 0;
    }
    int bits = 0;
    for (size_t i = 0; i < len; i++)
        bits += __builtin_popcount(b[i]);
    return bits;
}

static void
s_collect_nics(agt_caps_t *out)
{
    out->nics = calloc(MAX_NICS, sizeof(agt_nic_t));
    if (!out->nics)
        return;
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0) {
        CMN_WARN("getifaddrs: %s", strerror(errno));
        return;
    }
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_name || strcmp(i->ifa_name, "lo") == 0)
            continue;
        agt_nic_t *n = s_nic_get(out, i->ifa_name);
        if (!n)
            continue;
        n->up = (i->ifa_flags & IFF_UP) != 0;
        if (!i->ifa_addr || !n->addresses || n->naddresses >= MAX_ADDRS)
            continue;
        int fam = i->ifa_addr->sa_family;
        if (fam != AF_INET && fam != AF_INET6)
            continue;
        char ip[INET6_ADDRSTRLEN];
        const void *src = fam == AF_INET
            ? (const void *)&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr
            : (const void *)&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
        if (!inet_ntop(fam, src, ip, sizeof(ip)))
            continue;
        char *a = NULL;
        if (asprintf(&a, "%s/%d", ip, s_prefix_len(i->ifa_netmask)) >= 0)
            n->addresses[n->naddresses++] = a;
    }
    freeifaddrs(ifs);
    for (size_t k = 0; k < out->nnics; k++) {
        agt_nic_t *n = &out->nics[k];
        char path[256], buf[64];
        bool ok;
        snprintf(path, sizeof(path), "/sys/class/net/%s/address", n->name);
        if (s_read_small(path, buf, sizeof(buf)))
            s_copy(n->mac, sizeof(n->mac), buf);
        snprintf(path, sizeof(path), "/sys/class/net/%s/speed", n->name);
        uint64_t sp = s_read_u64(path, &ok);
        n->speed_mbps = ok && sp < 10000000 ? (unsigned)sp : 0;
        snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", n->name);
        uint64_t mtu = s_read_u64(path, &ok);
        n->mtu = ok && mtu < 1000000 ? (unsigned)mtu : 0;
    }
}

static void
s_collect_local(agt_caps_t *out)
{
    if (gethostname(out->hostname, sizeof(out->hostname) - 1) < 0)
        out->hostname[0] = '\0';
    struct utsname u;
    if (uname(&u) == 0)
        s_copy(out->kernel, sizeof(out->kernel), u.release);
    size_t len;
    CMN_AUTOFREE char *cpuinfo = cmn_file_read("/proc/cpuinfo", 16 << 20, &len);
    if (cpuinfo)
        agt_caps_parse_cpuinfo(cpuinfo, out);
    cmn_err_reset();
    CMN_AUTOFREE char *osr = cmn_file_read("/etc/os-release", 64 << 10, &len);
    if (!osr)
        osr = cmn_file_read("/usr/lib/os-release", 64 << 10, &len);
    if (osr)
        agt_caps_parse_os_release(osr, out->os_name, sizeof(out->os_name));
    cmn_err_reset();
    CMN_AUTOFREE char *mi = cmn_file_read("/proc/meminfo", 1 << 20, &len);
    if (mi)
        agt_caps_parse_meminfo_total(mi, &out->memory_bytes);
    cmn_err_reset();
    bool ok;
    out->ksm_running = s_read_u64("/sys/kernel/mm/ksm/run", &ok) == 1;
    out->ksm_pages_shared = s_read_u64("/sys/kernel/mm/ksm/pages_shared", &ok);
    int kfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    out->kvm = kfd >= 0;
    if (kfd >= 0)
        close(kfd);
    s_collect_nics(out);
}

int
agt_caps_collect(agt_virt_t *virt, unsigned stats_interval, agt_caps_t *out)
{
    memset(out, 0, sizeof(*out));
    out->stats_interval = stats_interval;
    if (virt) {
        s_copy(out->libvirt_uri, sizeof(out->libvirt_uri), agt_virt_uri(virt));
        snprintf(out->images_dir, sizeof(out->images_dir), "%s",
                 agt_virt_images_dir(virt));
    }
    s_collect_local(out);
    virConnectPtr c = agt_virt_conn(virt);
    if (!c)
        return -1;
    int rc = 0;
    unsigned long ver = 0;
    if (virConnectGetLibVersion(c, &ver) == 0)
        agt_caps_version_str(ver, out->libvirt_version, sizeof(out->libvirt_version));
    if (virConnectGetVersion(c, &ver) == 0)
        agt_caps_version_str(ver, out->hypervisor_version, sizeof(out->hypervisor_version));
    const char *type = virConnectGetType(c);
    if (type)
        s_copy(out->hypervisor, sizeof(out->hypervisor), type);
    virNodeInfo ni;
    if (virNodeGetInfo(c, &ni) == 0) {
        /* libvirt's figure can be smaller than the machine's (it reads the
         * NUMA cells); /proc/meminfo of this host wins when readable. */
        if (!out->memory_bytes)
            out->memory_bytes = (uint64_t)ni.memory * 1024;
        if (!out->cpu_count)
            out->cpu_count = ni.cpus;
        out->cpu_sockets = ni.sockets * (ni.nodes ? ni.nodes : 1);
        out->cpu_cores = ni.cores;
        out->cpu_threads = ni.threads;
        out->numa_nodes = ni.nodes;
        if (!out->cpu_mhz)
            out->cpu_mhz = ni.mhz;
    } else {
        rc = CMN_ERR(CMN_ERR_LIBVIRT, "virNodeGetInfo: %s", virGetLastErrorMessage());
    }
    char *xml = virConnectGetCapabilities(c);
    if (xml) {
        agt_caps_parse_capabilities(xml, out);
        free(xml);
    } else if (rc == 0) {
        rc = CMN_ERR(CMN_ERR_LIBVIRT, "virConnectGetCapabilities: %s",
                     virGetLastErrorMessage());
    }
    virResetLastError();
    virConnectClose(c);
    return rc;
}

void
agt_caps_clear(agt_caps_t *caps)
{
    for (size_t i = 0; i < caps->ncpu_flags; i++)
        free(caps->cpu_flags[i]);
    free(caps->cpu_flags);
    for (size_t i = 0; i < caps->nnics; i++) {
        for (size_t j = 0; j < caps->nics[i].naddresses; j++)
            free(caps->nics[i].addresses[j]);
        free(caps->nics[i].addresses);
    }
    free(caps->nics);
    memset(caps, 0, sizeof(*caps));
}
