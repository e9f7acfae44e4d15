/* Checks and conversions of the wire messages agents send: every field is
 * validated before anything else looks at it, and statistics become the
 * oVirt-named JSON samples that eng_stats keeps. */
#include "eng_agents_priv.h"

#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("eng.agents.msg");

bool eng_agt_str_ok(const char *s, size_t max, bool may_be_empty)
{
    if (!s)
        return may_be_empty;
    if (s[0] == '\0')
        return may_be_empty;
    return cmn_str_printable(s, max, NULL);
}

#define CHECK_STR(s, max, empty_ok, what) do { \
        if (!eng_agt_str_ok((s), (max), (empty_ok))) \
            return CMN_ERR(CMN_ERR_INVALID, "%s: must be %s1..%d printable " \
                           "characters", (what), (empty_ok) ? "empty or " : "", \
                           (int)(max)); \
    } while (0)

#define CHECK_COUNT(n, max, what) do { \
        if ((n) > (max)) \
            return CMN_ERR(CMN_ERR_INVALID, "%s: %zu entries, at most %d", \
                           (what), (size_t)(n), (int)(max)); \
    } while (0)

static int s_nic_check(const Herd__Nic *n, size_t i)
{
    char what[64];
    if (!n)
        return CMN_ERR(CMN_ERR_INVALID, "hello.nics[%zu]: missing", i);
    snprintf(what, sizeof(what), "hello.nics[%zu].name", i);
    CHECK_STR(n->name, 64, false, what);
    snprintf(what, sizeof(what), "hello.nics[%zu].mac", i);
    CHECK_STR(n->mac, 64, true, what);
    snprintf(what, sizeof(what), "hello.nics[%zu].addresses", i);
    CHECK_COUNT(n->n_addresses, ENG_AGT_MAX_ADDRS, what);
    for (size_t j = 0; j < n->n_addresses; j++)
        CHECK_STR(n->addresses[j], 64, false, what);
    return 0;
}

int eng_agt_hello_check(const Herd__Hello *h, const char *identity)
{
    if (!h)
        return CMN_ERR(CMN_ERR_PROTOCOL, "hello: empty body");
    if (!h->host_id || !cmn_uuid_valid(h->host_id))
        return CMN_ERR(CMN_ERR_PROTOCOL, "hello.host_id: not a UUID");
    if (strcmp(h->host_id, identity) != 0)
        return CMN_ERR(CMN_ERR_PROTOCOL, "hello.host_id: %s differs from the "
                       "routing identity %s", h->host_id, identity);
    CHECK_STR(h->hostname, ENG_AGT_MAX_STR, false, "hello.hostname");
    CHECK_STR(h->agent_version, ENG_AGT_MAX_STR, true, "hello.agent_version");
    CHECK_STR(h->cpu_model, ENG_AGT_MAX_STR, true, "hello.cpu_model");
    CHECK_STR(h->cpu_vendor, ENG_AGT_MAX_STR, true, "hello.cpu_vendor");
    CHECK_STR(h->libvirt_version, ENG_AGT_MAX_STR, true,
              "hello.libvirt_version");
    CHECK_STR(h->hypervisor, ENG_AGT_MAX_STR, true, "hello.hypervisor");
    CHECK_STR(h->hypervisor_version, ENG_AGT_MAX_STR, true,
              "hello.hypervisor_version");
    CHECK_STR(h->libvirt_uri, ENG_AGT_MAX_PATH, true, "hello.libvirt_uri");
    CHECK_STR(h->kernel, ENG_AGT_MAX_STR, true, "hello.kernel");
    CHECK_STR(h->os_name, ENG_AGT_MAX_STR, true, "hello.os_name");
    CHECK_STR(h->images_dir, ENG_AGT_MAX_PATH, true, "hello.images_dir");
    CHECK_STR(h->host_uuid, ENG_AGT_MAX_STR, true, "hello.host_uuid");
    CHECK_COUNT(h->n_cpu_flags, ENG_AGT_MAX_FLAGS, "hello.cpu_flags");
    for (size_t i = 0; i < h->n_cpu_flags; i++)
        CHECK_STR(h->cpu_flags[i], 64, false, "hello.cpu_flags");
    CHECK_COUNT(h->n_nics, ENG_AGT_MAX_NICS, "hello.nics");
    for (size_t i = 0; i < h->n_nics; i++)
        if (s_nic_check(h->nics[i], i) < 0)
            return -1;
    if (h->cpu_count > 65536 || h->numa_nodes > 4096)
        return CMN_ERR(CMN_ERR_INVALID, "hello.cpu_count: out of range");
    /* The topology and clock are shown in the API and fed to the
     * scheduler: absurd values are refused, not rendered. */
    if (h->cpu_sockets > 65536 || h->cpu_cores > 65536 ||
        h->cpu_threads > 65536)
        return CMN_ERR(CMN_ERR_INVALID, "hello.cpu_sockets/cores/threads: "
                       "out of range (at most 65536)");
    if (h->cpu_mhz > 1000000)
        return CMN_ERR(CMN_ERR_INVALID, "hello.cpu_mhz: %u out of range",
                       h->cpu_mhz);
    if (h->stats_interval > 86400)
        return CMN_ERR(CMN_ERR_INVALID, "hello.stats_interval: %u s out of "
                       "range (at most 86400)", h->stats_interval);
    return 0;
}

static json_t *s_strs(char **v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

static json_t *s_u64(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static const char *s_s(const char *s)
{
    return s ? s : "";
}

json_t *eng_agt_hello_caps(const Herd__Hello *h)
{
    json_t *nics = json_array();
    for (size_t i = 0; nics && i < h->n_nics; i++) {
        const Herd__Nic *n = h->nics[i];
        json_array_append_new(nics, json_pack("{s:s,s:s,s:I,s:b,s:o,s:I}",
            "name", s_s(n->name), "mac", s_s(n->mac),
            "speed_mbps", (json_int_t)n->speed_mbps, "up", n->up,
            "addresses", s_strs(n->addresses, n->n_addresses),
            "mtu", (json_int_t)n->mtu));
    }
    json_t *caps = json_object();
    if (!caps) {
        json_decref(nics);
        return NULL;
    }
    json_object_set_new(caps, "host_id", json_string(h->host_id));
    json_object_set_new(caps, "hostname", json_string(s_s(h->hostname)));
    json_object_set_new(caps, "agent_version",
                        json_string(s_s(h->agent_version)));
    json_object_set_new(caps, "cpu_model", json_string(s_s(h->cpu_model)));
    json_object_set_new(caps, "cpu_vendor", json_string(s_s(h->cpu_vendor)));
    json_object_set_new(caps, "cpu_count", json_integer(h->cpu_count));
    json_object_set_new(caps, "cpu_sockets", json_integer(h->cpu_sockets));
    json_object_set_new(caps, "cpu_cores", json_integer(h->cpu_cores));
    json_object_set_new(caps, "cpu_threads", json_integer(h->cpu_threads));
    json_object_set_new(caps, "cpu_mhz", json_integer(h->cpu_mhz));
    json_object_set_new(caps, "cpu_flags", s_strs(h->cpu_flags, h->n_cpu_flags));
    json_object_set_new(caps, "numa_nodes", json_integer(h->numa_nodes));
    json_object_set_new(caps, "memory_bytes", s_u64(h->memory_bytes));
    json_object_set_new(caps, "libvirt_version",
                        json_string(s_s(h->libvirt_version)));
    json_object_set_new(caps, "hypervisor", json_string(s_s(h->hypervisor)));
    json_object_set_new(caps, "hypervisor_version",
                        json_string(s_s(h->hypervisor_version)));
    json_object_set_new(caps, "libvirt_uri", json_string(s_s(h->libvirt_uri)));
    json_object_set_new(caps, "nics", nics);
    json_object_set_new(caps, "ksm_running", json_boolean(h->ksm_running));
    json_object_set_new(caps, "ksm_pages_shared", s_u64(h->ksm_pages_shared));
    json_object_set_new(caps, "kernel", json_string(s_s(h->kernel)));
    json_object_set_new(caps, "os_name", json_string(s_s(h->os_name)));
    json_object_set_new(caps, "kvm", json_boolean(h->kvm));
    json_object_set_new(caps, "images_dir", json_string(s_s(h->images_dir)));
    json_object_set_new(caps, "stats_interval",
                        json_integer(h->stats_interval));
    json_object_set_new(caps, "host_uuid", json_string(s_s(h->host_uuid)));
    /* Checked where it is used (eng_migrate.c): printable, "://". */
    json_object_set_new(caps, "migration_uri",
                        json_string(eng_agt_str_ok(h->migration_uri, 511, true)
                                    ? s_s(h->migration_uri) : ""));
    return caps;
}

/* ---- statistics ---------------------------------------------------------- */

static void s_stat_u(json_t *o, const char *name, uint64_t v, const char *unit,
                     const char *type)
{
    json_object_set_new(o, name, json_pack("{s:o,s:s,s:s}", "value", s_u64(v),
                                           "unit", unit, "type", type));
}

static void s_stat_d(json_t *o, const char *name, double v, const char *unit,
                     const char *type)
{
    if (v != v || v > 1e300 || v < -1e300)     /* NaN or inf from a peer */
        v = 0;
    json_object_set_new(o, name, json_pack("{s:f,s:s,s:s}", "value", v,
                                           "unit", unit, "type", type));
}

/* A device's key in a sample: its name, or "<kind><index>" if it has none. */
static const char *s_dev_key(const char *name, const char *kind, size_t i,
                             char *buf, size_t len)
{
    if (name && *name)
        return name;
    snprintf(buf, len, "%s%zu", kind, i);
    return buf;
}

static int s_nicstats_check(Herd__NicStats **v, size_t n, const char *what)
{
    CHECK_COUNT(n, ENG_AGT_MAX_NICS, what);
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            return CMN_ERR(CMN_ERR_INVALID, "%s[%zu]: missing", what, i);
        /* libvirt has no device name for some NICs (user-mode): "" */
        CHECK_STR(v[i]->name, 64, true, what);
    }
    return 0;
}

int eng_agt_host_stats_check(const Herd__HostStats *s)
{
    if (!s)
        return CMN_ERR(CMN_ERR_PROTOCOL, "host_stats: empty body");
    if (s_nicstats_check(s->nics, s->n_nics, "host_stats.nics") < 0)
        return -1;
    CHECK_COUNT(s->n_storage, ENG_AGT_MAX_STORAGE, "host_stats.storage");
    for (size_t i = 0; i < s->n_storage; i++) {
        if (!s->storage[i])
            return CMN_ERR(CMN_ERR_INVALID, "host_stats.storage: missing");
        CHECK_STR(s->storage[i]->path, ENG_AGT_MAX_PATH, false,
                  "host_stats.storage.path");
    }
    return 0;
}

static json_t *s_nic_json(const Herd__NicStats *n)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    s_stat_u(o, "network.rx.bytes", n->rx_bytes, "bytes", "counter");
    s_stat_u(o, "network.tx.bytes", n->tx_bytes, "bytes", "counter");
    s_stat_u(o, "network.rx.packets", n->rx_packets, "none", "counter");
    s_stat_u(o, "network.tx.packets", n->tx_packets, "none", "counter");
    s_stat_u(o, "network.rx.errors", n->rx_errors, "none", "counter");
    s_stat_u(o, "network.tx.errors", n->tx_errors, "none", "counter");
    s_stat_u(o, "network.rx.dropped", n->rx_dropped, "none", "counter");
    s_stat_u(o, "network.tx.dropped", n->tx_dropped, "none", "counter");
    return o;
}

json_t *eng_agt_host_stats_json(const Herd__HostStats *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    uint64_t t = s->timestamp_ms ? s->timestamp_ms : cmn_time_ms();
    json_object_set_new(o, "time_ms", s_u64(t));
    s_stat_u(o, "memory.total", s->mem_total, "bytes", "gauge");
    s_stat_u(o, "memory.used", s->mem_used, "bytes", "gauge");
    s_stat_u(o, "memory.free", s->mem_free, "bytes", "gauge");
    s_stat_u(o, "memory.shared", s->mem_shared, "bytes", "gauge");
    s_stat_u(o, "memory.buffers", s->mem_buffers, "bytes", "gauge");
    s_stat_u(o, "memory.cached", s->mem_cached, "bytes", "gauge");
    s_stat_u(o, "swap.total", s->swap_total, "bytes", "gauge");
    s_stat_u(o, "swap.used", s->swap_used, "bytes", "gauge");
    s_stat_u(o, "swap.free", s->swap_free, "bytes", "gauge");
    s_stat_d(o, "cpu.current.user", s->cpu_user, "percent", "gauge");
    s_stat_d(o, "cpu.current.system", s->cpu_system, "percent", "gauge");
    s_stat_d(o, "cpu.current.idle", s->cpu_idle, "percent", "gauge");
    s_stat_d(o, "cpu.load.avg.1m", s->load_1, "none", "gauge");
    s_stat_d(o, "cpu.load.avg.5m", s->load_5, "none", "gauge");
    s_stat_d(o, "cpu.load.avg.15m", s->load_15, "none", "gauge");
    s_stat_u(o, "ksm.running", s->ksm_running ? 1 : 0, "none", "gauge");
    s_stat_u(o, "ksm.pages.shared", s->ksm_pages_shared, "none", "gauge");
    s_stat_u(o, "ksm.pages.sharing", s->ksm_pages_sharing, "none", "gauge");
    s_stat_u(o, "vms.running", s->vms_running, "none", "gauge");
    json_t *nics = json_object();
    for (size_t i = 0; nics && i < s->n_nics; i++) {
        char key[72];
        json_object_set_new(nics, s_dev_key(s->nics[i]->name, "nic", i, key,
                                            sizeof(key)),
                            s_nic_json(s->nics[i]));
    }
    json_object_set_new(o, "nics", nics);
    json_t *st = json_object();
    for (size_t i = 0; st && i < s->n_storage; i++) {
        const Herd__StorageStats *x = s->storage[i];
        json_t *e = json_object();
        if (!e)
            continue;
        s_stat_u(e, "storage.total", x->total_bytes, "bytes", "gauge");
        s_stat_u(e, "storage.free", x->free_bytes, "bytes", "gauge");
        json_object_set_new(st, x->path, e);
    }
    json_object_set_new(o, "storage", st);
    return o;
}

int eng_agt_vm_stats_check(const Herd__VmStats *v)
{
    if (!v)
        return CMN_ERR(CMN_ERR_INVALID, "vm_stats.vms: missing entry");
    if (!v->vm_id || !cmn_uuid_valid(v->vm_id))
        return CMN_ERR(CMN_ERR_INVALID, "vm_stats.vm_id: not a UUID");
    CHECK_STR(v->name, ENG_AGT_MAX_STR, true, "vm_stats.name");
    if (v->state < 0 || v->state > 7)
        return CMN_ERR(CMN_ERR_INVALID, "vm_stats.state: %d out of range",
                       (int)v->state);
    if (v->vcpus > 4096)
        return CMN_ERR(CMN_ERR_INVALID, "vm_stats.vcpus: %u out of range",
                       v->vcpus);
    CHECK_COUNT(v->n_disks, ENG_AGT_MAX_VM_DEVS, "vm_stats.disks");
    for (size_t i = 0; i < v->n_disks; i++) {
        if (!v->disks[i])
            return CMN_ERR(CMN_ERR_INVALID, "vm_stats.disks: missing entry");
        CHECK_STR(v->disks[i]->name, 64, true, "vm_stats.disks.name");
    }
    CHECK_COUNT(v->n_nics, ENG_AGT_MAX_VM_DEVS, "vm_stats.nics");
    return s_nicstats_check(v->nics, v->n_nics, "vm_stats.nics");
}

json_t *eng_agt_vm_stats_json(const Herd__VmStats *v, uint64_t time_ms)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "time_ms", s_u64(time_ms ? time_ms : cmn_time_ms()));
    uint64_t installed = (v->max_memory_kib ? v->max_memory_kib
                                            : v->memory_kib) * 1024;
    uint64_t used = (v->rss_kib ? v->rss_kib : v->balloon_kib) * 1024;
    if (used > installed)
        used = installed;
    uint32_t vcpus = v->vcpus ? v->vcpus : 1;
    s_stat_u(o, "memory.installed", installed, "bytes", "gauge");
    s_stat_u(o, "memory.used", used, "bytes", "gauge");
    s_stat_u(o, "memory.free", installed - used, "bytes", "gauge");
    s_stat_u(o, "memory.buffered", 0, "bytes", "gauge");
    s_stat_d(o, "cpu.current.guest", v->cpu_usage / vcpus, "percent", "gauge");
    s_stat_d(o, "cpu.current.hypervisor", 0, "percent", "gauge");
    s_stat_d(o, "cpu.current.total", v->cpu_usage / vcpus, "percent", "gauge");
    s_stat_u(o, "cpu.time", v->cpu_time_ns, "none", "counter");
    s_stat_u(o, "cpu.vcpus", v->vcpus, "none", "gauge");
    s_stat_u(o, "state", (uint64_t)v->state, "none", "gauge");
    uint64_t rb = 0, wb = 0, ro = 0, wo = 0;
    json_t *disks = json_object();
    for (size_t i = 0; i < v->n_disks; i++) {
        const Herd__DiskStats *d = v->disks[i];
        rb += d->rd_bytes;
        wb += d->wr_bytes;
        ro += d->rd_ops;
        wo += d->wr_ops;
        json_t *e = json_object();
        if (!e || !disks) {
            json_decref(e);
            continue;
        }
        s_stat_u(e, "disk.read.bytes", d->rd_bytes, "bytes", "counter");
        s_stat_u(e, "disk.write.bytes", d->wr_bytes, "bytes", "counter");
        s_stat_u(e, "disk.read.ops", d->rd_ops, "none", "counter");
        s_stat_u(e, "disk.write.ops", d->wr_ops, "none", "counter");
        char key[72];
        json_object_set_new(disks, s_dev_key(d->name, "disk", i, key,
                                             sizeof(key)), e);
    }
    s_stat_u(o, "disks.read.bytes", rb, "bytes", "counter");
    s_stat_u(o, "disks.write.bytes", wb, "bytes", "counter");
    s_stat_u(o, "disks.read.ops", ro, "none", "counter");
    s_stat_u(o, "disks.write.ops", wo, "none", "counter");
    json_object_set_new(o, "disks", disks);
    Herd__NicStats sum = HERD__NIC_STATS__INIT;
    json_t *nics = json_object();
    for (size_t i = 0; i < v->n_nics; i++) {
        const Herd__NicStats *n = v->nics[i];
        sum.rx_bytes += n->rx_bytes;
        sum.tx_bytes += n->tx_bytes;
        sum.rx_packets += n->rx_packets;
        sum.tx_packets += n->tx_packets;
        sum.rx_errors += n->rx_errors;
        sum.tx_errors += n->tx_errors;
        sum.rx_dropped += n->rx_dropped;
        sum.tx_dropped += n->tx_dropped;
        char key[72];
        if (nics)
            json_object_set_new(nics, s_dev_key(n->name, "nic", i, key,
                                                sizeof(key)), s_nic_json(n));
    }
    json_t *tot = s_nic_json(&sum);
    if (tot) {
        json_object_update(o, tot);
        json_decref(tot);
    }
    json_object_set_new(o, "nics", nics);
    return o;
}

int eng_agt_vm_status_check(const Herd__VmStatus *v)
{
    if (!v)
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.vms: missing entry");
    if (!v->vm_id || !cmn_uuid_valid(v->vm_id))
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.vm_id: not a UUID");
    CHECK_STR(v->name, ENG_AGT_MAX_STR, false, "vm_report.name");
    if (v->state < 0 || v->state > 7)
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.state: %d out of range",
                       (int)v->state);
    if (v->vcpus > 4096)
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.vcpus: %u out of range",
                       v->vcpus);
    if (v->memory_kib > (UINT64_C(1) << 40))
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.memory_kib: out of range");
    if (v->vnc_port > 65535)
        return CMN_ERR(CMN_ERR_INVALID, "vm_report.vnc_port: out of range");
    return 0;
}

int eng_agt_vm_event_check(const Herd__VmEvent *e)
{
    if (!e)
        return CMN_ERR(CMN_ERR_PROTOCOL, "vm_event: empty body");
    if (!e->vm_id || !cmn_uuid_valid(e->vm_id))
        return CMN_ERR(CMN_ERR_INVALID, "vm_event.vm_id: not a UUID");
    CHECK_STR(e->name, ENG_AGT_MAX_STR, true, "vm_event.name");
    if (!((e->event >= 0 && e->event <= 8) || e->event == 100))
        return CMN_ERR(CMN_ERR_INVALID, "vm_event.event: %d unknown",
                       (int)e->event);
    if (e->state < 0 || e->state > 7)
        return CMN_ERR(CMN_ERR_INVALID, "vm_event.state: %d out of range",
                       (int)e->state);
    if (e->vnc_port > 65535)
        return CMN_ERR(CMN_ERR_INVALID, "vm_event.vnc_port: out of range");
    return 0;
}
