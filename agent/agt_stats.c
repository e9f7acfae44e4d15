#include "agt_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("agent.stats");

#define MAX_NICS 1024
#define MAX_DEVS 256

typedef struct {
    char uuid[CMN_UUID_STRLEN + 1];
    uint64_t cpu_time_ns;
    uint64_t mono_ns;
} agt_prev_vm_t;

struct agt_stats {
    char *images_dir;
    bool have_cpu;
    agt_cpu_times_t prev_cpu;
    agt_prev_vm_t *prev_vms;        /* sorted by uuid */
    size_t nprev_vms;
};

static void
s_copy(char *dst, size_t dlen, const char *src)
{
    size_t n = strlen(src);
    if (n >= dlen)
        n = dlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- parsers --------------------------------------------------------------- */

int
agt_stats_parse_cpu(const char *buf, agt_cpu_times_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = buf;
    while (p && strncmp(p, "cpu ", 4) != 0) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return CMN_ERR(CMN_ERR_INVALID, "/proc/stat: no 'cpu' line");
    uint64_t *f[] = { &out->user, &out->nice, &out->system, &out->idle,
                      &out->iowait, &out->irq, &out->softirq, &out->steal };
    p += 4;
    int got = 0;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        while (*p == ' ')
            p++;
        if (*p == '\n' || *p == '\0')
            break;
        char *e;
        errno = 0;
        unsigned long long v = strtoull(p, &e, 10);
        if (e == p || errno)
            return CMN_ERR(CMN_ERR_INVALID, "/proc/stat: bad number in the 'cpu' line");
        *f[i] = v;
        p = e;
        got++;
    }
    if (got < 4)
        return CMN_ERR(CMN_ERR_INVALID, "/proc/stat: 'cpu' line has %d fields, "
                       "want at least 4", got);
    return 0;
}

void
agt_stats_cpu_percent(const agt_cpu_times_t *prev, const agt_cpu_times_t *cur,
                      double *user, double *system, double *idle)
{
    #define D(f) (cur->f >= prev->f ? (double)(cur->f - prev->f) : 0.0)
    double u = D(user) + D(nice);
    double s = D(system) + D(irq) + D(softirq);
    double i = D(idle) + D(iowait);
    double total = u + s + i + D(steal);
    #undef D
    if (total <= 0) {
        *user = *system = *idle = 0;
        return;
    }
    *user = 100.0 * u / total;
    *system = 100.0 * s / total;
    *idle = 100.0 * i / total;
}

int
agt_stats_parse_loadavg(const char *buf, double load[3])
{
    const char *p = buf;
    for (int i = 0; i < 3; i++) {
        char *e;
        double d = strtod(p, &e);
        if (e == p || d < 0)
            return CMN_ERR(CMN_ERR_INVALID, "/proc/loadavg: field %d is not a number",
                           i + 1);
        load[i] = d;
        p = e;
    }
    return 0;
}

int
agt_stats_parse_meminfo(const char *buf, agt_meminfo_t *out)
{
    memset(out, 0, sizeof(*out));
    static const struct { const char *key; size_t off; } keys[] = {
        { "MemTotal:", offsetof(agt_meminfo_t, total) },
        { "MemFree:", offsetof(agt_meminfo_t, free) },
        { "MemAvailable:", offsetof(agt_meminfo_t, available) },
        { "Buffers:", offsetof(agt_meminfo_t, buffers) },
        { "Cached:", offsetof(agt_meminfo_t, cached) },
        { "Shmem:", offsetof(agt_meminfo_t, shmem) },
        { "SReclaimable:", offsetof(agt_meminfo_t, sreclaimable) },
        { "SwapTotal:", offsetof(agt_meminfo_t, swap_total) },
        { "SwapFree:", offsetof(agt_meminfo_t, swap_free) },
    };
    bool have_total = false;
    const char *p = buf;
    while (p && *p) {
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            size_t kl = strlen(keys[k].key);
            if (strncmp(p, keys[k].key, kl) != 0)
                continue;
            char *e;
            errno = 0;
            unsigned long long v = strtoull(p + kl, &e, 10);
            if (e == p + kl || errno)
                return CMN_ERR(CMN_ERR_INVALID, "/proc/meminfo: bad value for %s",
                               keys[k].key);
            while (*e == ' ')
                e++;
            uint64_t mult = strncmp(e, "kB", 2) == 0 ? 1024 : 1;
            *(uint64_t *)((char *)out + keys[k].off) = (uint64_t)v * mult;
            if (k == 0)
                have_total = true;
            if (k == 2)
                out->has_available = true;
            break;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!have_total)
        return CMN_ERR(CMN_ERR_INVALID, "/proc/meminfo: no MemTotal");
    return 0;
}

int
agt_stats_parse_netdev(const char *buf, agt_nic_stats_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    agt_nic_stats_t *arr = calloc(MAX_NICS, sizeof(*arr));
    if (!arr)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    size_t k = 0;
    const char *p = buf;
    while (p && *p && k < MAX_NICS) {
        const char *nl = strchr(p, '\n');
        const char *colon = strchr(p, ':');
        if (colon && (!nl || colon < nl)) {
            const char *b = p;
            while (*b == ' ')
                b++;
            size_t nlen = (size_t)(colon - b);
            if (nlen > 0 && nlen < sizeof(arr[k].name)) {
                agt_nic_stats_t *s = &arr[k];
                memcpy(s->name, b, nlen);
                s->name[nlen] = '\0';
                uint64_t v[16] = { 0 };
                const char *q = colon + 1;
                int got = 0;
                for (; got < 16; got++) {
                    char *e;
                    unsigned long long x = strtoull(q, &e, 10);
                    if (e == q || (nl && e > nl))
                        break;
                    v[got] = x;
                    q = e;
                }
                if (got < 16) {
                    CMN_ERR(CMN_ERR_INVALID, "/proc/net/dev: '%s' has %d fields, want 16",
                            s->name, got);
                    free(arr);      /* after the message: s points into arr */
                    return -1;
                }
                s->rx_bytes = v[0];
                s->rx_packets = v[1];
                s->rx_errors = v[2];
                s->rx_dropped = v[3];
                s->tx_bytes = v[8];
                s->tx_packets = v[9];
                s->tx_errors = v[10];
                s->tx_dropped = v[11];
                if (strcmp(s->name, "lo") != 0)
                    k++;
                else
                    memset(s, 0, sizeof(*s));
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    *out = arr;
    *n = k;
    return 0;
}

/* ---- sampling ------------------------------------------------------------- */

agt_stats_t *
agt_stats_new(const char *images_dir)
{
    agt_stats_t *st = calloc(1, sizeof(*st));
    if (!st || !(st->images_dir = strdup(images_dir ? images_dir : ""))) {
        free(st);
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return st;
}

void
agt_stats_destroy(agt_stats_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->images_dir);
    free((*p)->prev_vms);
    free(*p);
    *p = NULL;
}

static uint64_t
s_read_u64(const char *path)
{
    char buf[64];
    CMN_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    if (r <= 0)
        return 0;
    buf[r] = '\0';
    return strtoull(buf, NULL, 10);
}

static void
s_host(agt_stats_t *st, agt_host_stats_t *h)
{
    size_t len;
    CMN_AUTOFREE char *stat = cmn_file_read("/proc/stat", 4 << 20, &len);
    agt_cpu_times_t cur;
    if (stat && agt_stats_parse_cpu(stat, &cur) == 0) {
        agt_cpu_times_t zero = { 0 };
        agt_stats_cpu_percent(st->have_cpu ? &st->prev_cpu : &zero, &cur,
                              &h->cpu_user, &h->cpu_system, &h->cpu_idle);
        st->prev_cpu = cur;
        st->have_cpu = true;
    }
    CMN_AUTOFREE char *la = cmn_file_read("/proc/loadavg", 4096, &len);
    if (la)
        agt_stats_parse_loadavg(la, h->load);
    CMN_AUTOFREE char *mi = cmn_file_read("/proc/meminfo", 1 << 20, &len);
    agt_meminfo_t m;
    if (mi && agt_stats_parse_meminfo(mi, &m) == 0) {
        h->mem_total = m.total;
        h->mem_free = m.free;
        h->mem_shared = m.shmem;
        h->mem_buffers = m.buffers;
        h->mem_cached = m.cached + m.sreclaimable;
        uint64_t avail = m.has_available ? m.available
                                         : m.free + m.buffers + h->mem_cached;
        h->mem_used = m.total > avail ? m.total - avail : 0;
        h->swap_total = m.swap_total;
        h->swap_free = m.swap_free;
        h->swap_used = m.swap_total > m.swap_free ? m.swap_total - m.swap_free : 0;
    }
    h->ksm_running = s_read_u64("/sys/kernel/mm/ksm/run") == 1;
    h->ksm_pages_shared = s_read_u64("/sys/kernel/mm/ksm/pages_shared");
    h->ksm_pages_sharing = s_read_u64("/sys/kernel/mm/ksm/pages_sharing");
    CMN_AUTOFREE char *nd = cmn_file_read("/proc/net/dev", 4 << 20, &len);
    if (nd)
        agt_stats_parse_netdev(nd, &h->nics, &h->nnics);
    struct statvfs sv;
    if (st->images_dir[0] && statvfs(st->images_dir, &sv) == 0) {
        h->has_storage = true;
        s_copy(h->storage_path, sizeof(h->storage_path), st->images_dir);
        h->storage_total = (uint64_t)sv.f_blocks * sv.f_frsize;
        h->storage_free = (uint64_t)sv.f_bavail * sv.f_frsize;
    }
    cmn_err_reset();    /* host parts are best effort */
}

static uint64_t
s_ull(virTypedParameterPtr p, int n, const char *name)
{
    unsigned long long v = 0;
    if (virTypedParamsGetULLong(p, n, name, &v) != 1)
        return 0;
    return v;
}

static unsigned
s_uint(virTypedParameterPtr p, int n, const char *name)
{
    unsigned v = 0;
    if (virTypedParamsGetUInt(p, n, name, &v) != 1)
        return 0;
    return v;
}

static void
s_vm(virDomainStatsRecordPtr r, agt_vm_stats_t *vm)
{
    virTypedParameterPtr p = r->params;
    int n = r->nparams;
    if (virDomainGetUUIDString(r->dom, vm->uuid) < 0)
        virResetLastError();
    const char *name = virDomainGetName(r->dom);
    s_copy(vm->name, sizeof(vm->name), name ? name : "");
    virTypedParamsGetInt(p, n, "state.state", &vm->state);
    virTypedParamsGetInt(p, n, "state.reason", &vm->reason);
    vm->cpu_time_ns = s_ull(p, n, "cpu.time");
    vm->vcpus = s_uint(p, n, "vcpu.current");
    vm->balloon_kib = s_ull(p, n, "balloon.current");
    vm->memory_kib = vm->balloon_kib;
    vm->max_memory_kib = s_ull(p, n, "balloon.maximum");
    vm->rss_kib = s_ull(p, n, "balloon.rss");
    char key[64];
    unsigned nn = s_uint(p, n, "net.count");
    if (nn > MAX_DEVS)
        nn = MAX_DEVS;
    if (nn && (vm->nics = calloc(nn, sizeof(*vm->nics)))) {
        for (unsigned i = 0; i < nn; i++) {
            agt_nic_stats_t *s = &vm->nics[vm->nnics++];
            const char *nm = NULL;
            snprintf(key, sizeof(key), "net.%u.name", i);
            virTypedParamsGetString(p, n, key, &nm);
            s_copy(s->name, sizeof(s->name), nm ? nm : "");
            #define NET(f, k) snprintf(key, sizeof(key), "net.%u." k, i); s->f = s_ull(p, n, key)
            NET(rx_bytes, "rx.bytes"); NET(rx_packets, "rx.pkts");
            NET(rx_errors, "rx.errs"); NET(rx_dropped, "rx.drop");
            NET(tx_bytes, "tx.bytes"); NET(tx_packets, "tx.pkts");
            NET(tx_errors, "tx.errs"); NET(tx_dropped, "tx.drop");
            #undef NET
        }
    }
    unsigned nb = s_uint(p, n, "block.count");
    if (nb > MAX_DEVS)
        nb = MAX_DEVS;
    if (nb && (vm->disks = calloc(nb, sizeof(*vm->disks)))) {
        for (unsigned i = 0; i < nb; i++) {
            agt_disk_stats_t *s = &vm->disks[vm->ndisks++];
            const char *nm = NULL;
            snprintf(key, sizeof(key), "block.%u.name", i);
            virTypedParamsGetString(p, n, key, &nm);
            s_copy(s->name, sizeof(s->name), nm ? nm : "");
            #define BLK(f, k) snprintf(key, sizeof(key), "block.%u." k, i); s->f = s_ull(p, n, key)
            BLK(rd_bytes, "rd.bytes"); BLK(wr_bytes, "wr.bytes");
            BLK(rd_ops, "rd.reqs"); BLK(wr_ops, "wr.reqs");
            #undef BLK
        }
    }
    virResetLastError();
}

static int
s_prev_cmp(const void *a, const void *b)
{
    return strcmp(((const agt_prev_vm_t *)a)->uuid, ((const agt_prev_vm_t *)b)->uuid);
}

/* CPU usage from the delta against the previous sample, then remember. */
static void
s_cpu_usage(agt_stats_t *st, agt_vm_stats_t *vms, size_t n, uint64_t now_ns)
{
    agt_prev_vm_t *next = calloc(n ? n : 1, sizeof(*next));
    for (size_t i = 0; i < n; i++) {
        agt_prev_vm_t key = { .cpu_time_ns = 0 };
        s_copy(key.uuid, sizeof(key.uuid), vms[i].uuid);
        agt_prev_vm_t *prev = st->prev_vms
            ? bsearch(&key, st->prev_vms, st->nprev_vms, sizeof(key), s_prev_cmp)
            : NULL;
        if (prev && now_ns > prev->mono_ns && vms[i].cpu_time_ns >= prev->cpu_time_ns)
            vms[i].cpu_usage = 100.0 * (double)(vms[i].cpu_time_ns - prev->cpu_time_ns) /
                               (double)(now_ns - prev->mono_ns);
        if (next) {
            next[i] = key;
            next[i].cpu_time_ns = vms[i].cpu_time_ns;
            next[i].mono_ns = now_ns;
        }
    }
    free(st->prev_vms);
    st->prev_vms = next;
    st->nprev_vms = next ? n : 0;
    if (next)
        qsort(next, n, sizeof(*next), s_prev_cmp);
}

int
agt_stats_sample(agt_stats_t *st, agt_virt_t *virt, agt_sample_t *out)
{
    memset(out, 0, sizeof(*out));
    out->timestamp_ms = cmn_time_ms();
    s_host(st, &out->host);
    if (!virt)
        return 0;
    virConnectPtr c = agt_virt_conn(virt);
    if (!c)
        return -1;
    unsigned groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                      VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                      VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
    virDomainStatsRecordPtr *recs = NULL;
    int n = virConnectGetAllDomainStats(c, groups, &recs, 0);
    uint64_t now_ns = cmn_mono_us() * 1000;
    if (n < 0) {
        int rc = CMN_ERR(CMN_ERR_LIBVIRT, "virConnectGetAllDomainStats: %s",
                         virGetLastErrorMessage());
        virConnectClose(c);
        return rc;
    }
    out->vms = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->vms));
    if (out->vms) {
        for (int i = 0; i < n; i++) {
            s_vm(recs[i], &out->vms[i]);
            if (out->vms[i].state == VIR_DOMAIN_RUNNING)
                out->host.vms_running++;
        }
        out->nvms = (size_t)n;
        s_cpu_usage(st, out->vms, out->nvms, now_ns);
        out->vms_ok = true;
    }
    virDomainStatsRecordListFree(recs);
    virConnectClose(c);
    return out->vms_ok ? 0 : CMN_ERR(CMN_ERR_NOMEM, "out of memory");
}

void
agt_sample_clear(agt_sample_t *s)
{
    free(s->host.nics);
    for (size_t i = 0; i < s->nvms; i++) {
        free(s->vms[i].disks);
        free(s->vms[i].nics);
    }
    free(s->vms);
    memset(s, 0, sizeof(*s));
}
