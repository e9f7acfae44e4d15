/* Records to oVirt v4 JSON. Numbers are strings, as oVirt renders them;
 * times are milliseconds since the epoch (JSON numbers). Pure functions. */
#include "eng_rest_priv.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"

CMN_LOG_INIT("rest.render");

void
eng_rest_set_num(json_t *obj, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    json_object_set_new(obj, key, json_string(buf));
}

static void
s_set_str(json_t *obj, const char *key, const char *v)
{
    json_object_set_new(obj, key, eng_rest_str(v));
}

static void
s_set_bool(json_t *obj, const char *key, bool v)
{
    json_object_set_new(obj, key, json_string(v ? "true" : "false"));
}

static json_t *
s_href(const char *coll, const char *id, const char *sub)
{
    char buf[512];
    snprintf(buf, sizeof(buf), ENG_REST_BASE "/%s%s%s%s%s", coll,
             id ? "/" : "", id ? id : "", sub ? "/" : "", sub ? sub : "");
    return eng_rest_str(buf);
}

json_t *
eng_rest_ref_json(const char *coll, const char *id)
{
    json_t *o = json_object();
    s_set_str(o, "id", id);
    json_object_set_new(o, "href", s_href(coll, id, NULL));
    return o;
}

static json_t *
s_link(const char *rel, const char *coll, const char *id)
{
    json_t *o = json_object();
    s_set_str(o, "rel", rel);
    json_object_set_new(o, "href", s_href(coll, id, rel));
    return o;
}

json_t *
eng_rest_vm_json(const eng_vm_t *vm)
{
    json_t *o = json_object();
    s_set_str(o, "id", vm->id);
    json_object_set_new(o, "href", s_href("vms", vm->id, NULL));
    s_set_str(o, "name", vm->name);
    s_set_str(o, "description", vm->description);
    s_set_str(o, "status", eng_vm_status_name(vm->status));
    s_set_str(o, "origin", vm->external ? "external" : "herd");
    eng_rest_set_num(o, "memory", (int64_t)vm->memory_bytes);
    json_t *topo = json_object();
    eng_rest_set_num(topo, "sockets", vm->sockets);
    eng_rest_set_num(topo, "cores", vm->cores);
    eng_rest_set_num(topo, "threads", vm->threads);
    json_object_set_new(o, "cpu", json_pack("{s:o}", "topology", topo));
    if (vm->cluster_id[0])
        json_object_set_new(o, "cluster",
                            eng_rest_ref_json("clusters", vm->cluster_id));
    if (vm->host_id[0] && vm->status != ENG_VM_DOWN)
        json_object_set_new(o, "host", eng_rest_ref_json("hosts", vm->host_id));
    if (vm->pinned_host_id[0]) {
        json_t *hosts = json_array();
        json_array_append_new(hosts, eng_rest_ref_json("hosts",
                                                       vm->pinned_host_id));
        json_object_set_new(o, "placement_policy",
                            json_pack("{s:s, s:{s:o}}", "affinity", "pinned",
                                      "hosts", "host", hosts));
    }
    json_t *disp = json_object();
    s_set_str(disp, "type", vm->display_type[0] ? vm->display_type : "none");
    if (vm->display_port > 0) {
        s_set_str(disp, "address", vm->display_address);
        eng_rest_set_num(disp, "port", vm->display_port);
    }
    json_object_set_new(o, "display", disp);
    json_t *ha = json_object();
    s_set_bool(ha, "enabled", vm->ha);
    eng_rest_set_num(ha, "priority", vm->ha_priority);
    json_object_set_new(o, "high_availability", ha);
    if (vm->start_time_ms > 0)
        json_object_set_new(o, "start_time", json_integer(vm->start_time_ms));
    json_object_set_new(o, "creation_time", json_integer(vm->created_ms));

    json_t *das = json_array();
    for (int i = 0; i < vm->ndisks && i < ENG_VM_MAX_DISKS; i++) {
        const eng_disk_t *d = &vm->disks[i];
        json_t *da = json_object();
        s_set_str(da, "id", d->id);
        s_set_bool(da, "bootable", d->bootable);
        s_set_str(da, "interface", d->interface);
        json_t *disk = json_object();
        s_set_str(disk, "id", d->id);
        eng_rest_set_num(disk, "provisioned_size", (int64_t)d->size_bytes);
        s_set_str(disk, "format", d->format);
        json_object_set_new(da, "disk", disk);
        json_array_append_new(das, da);
    }
    json_object_set_new(o, "disk_attachments",
                        json_pack("{s:o}", "disk_attachment", das));
    json_t *nics = json_array();
    for (int i = 0; i < vm->nnics && i < ENG_VM_MAX_NICS; i++) {
        const eng_nic_t *n = &vm->nics[i];
        json_t *jn = json_object();
        s_set_str(jn, "name", n->name);
        s_set_str(jn, "interface", n->model);
        json_object_set_new(jn, "mac", json_pack("{s:o}", "address",
                                                 eng_rest_str(n->mac)));
        json_object_set_new(jn, "network", json_pack("{s:o}", "name",
                                                     eng_rest_str(n->network)));
        json_array_append_new(nics, jn);
    }
    json_object_set_new(o, "nics", json_pack("{s:o}", "nic", nics));

    json_t *acts = json_array();
    for (int a = 0; a < ENG_REST_ACT__LAST; a++)
        json_array_append_new(acts, s_link(eng_rest_act_name((eng_rest_act_t)a),
                                           "vms", vm->id));
    json_object_set_new(o, "actions", json_pack("{s:o}", "link", acts));
    json_t *links = json_array();
    json_array_append_new(links, s_link("statistics", "vms", vm->id));
    json_array_append_new(links, s_link("nics", "vms", vm->id));
    json_array_append_new(links, s_link("disk_attachments", "vms", vm->id));
    json_object_set_new(o, "link", links);
    return o;
}

/* Capability values may arrive as numbers or strings (protobuf's JSON
 * mapping renders 64-bit integers as strings). */
static int64_t
s_caps_int(const json_t *caps, const char *key)
{
    json_t *v = caps ? json_object_get(caps, key) : NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_true(v))
        return 1;
    if (json_is_string(v)) {
        char *end = NULL;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (end && *end == '\0')
            return n;
    }
    return 0;
}

static const char *
s_caps_str(const json_t *caps, const char *key)
{
    json_t *v = caps ? json_object_get(caps, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

static bool
s_caps_bool(const json_t *caps, const char *key)
{
    json_t *v = caps ? json_object_get(caps, key) : NULL;
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return s_caps_int(caps, key) != 0;
}

json_t *
eng_rest_host_json(const eng_host_t *h, int active, int total)
{
    const json_t *caps = h->caps;
    json_t *o = json_object();
    s_set_str(o, "id", h->id);
    json_object_set_new(o, "href", s_href("hosts", h->id, NULL));
    s_set_str(o, "name", h->name);
    s_set_str(o, "address", h->address);
    s_set_str(o, "status", eng_host_status_name(h->status));
    if (h->cluster_id[0])
        json_object_set_new(o, "cluster",
                            eng_rest_ref_json("clusters", h->cluster_id));
    json_t *cpu = json_object();
    s_set_str(cpu, "name", s_caps_str(caps, "cpu_model"));
    eng_rest_set_num(cpu, "speed", s_caps_int(caps, "cpu_mhz"));
    json_t *topo = json_object();
    eng_rest_set_num(topo, "sockets", s_caps_int(caps, "cpu_sockets"));
    eng_rest_set_num(topo, "cores", s_caps_int(caps, "cpu_cores"));
    eng_rest_set_num(topo, "threads", s_caps_int(caps, "cpu_threads"));
    json_object_set_new(cpu, "topology", topo);
    json_object_set_new(o, "cpu", cpu);
    eng_rest_set_num(o, "memory", s_caps_int(caps, "memory_bytes"));
    json_object_set_new(o, "libvirt_version", json_pack("{s:o}",
        "full_version", eng_rest_str(s_caps_str(caps, "libvirt_version"))));
    json_object_set_new(o, "version", json_pack("{s:o}",
        "full_version", eng_rest_str(s_caps_str(caps, "agent_version"))));
    json_object_set_new(o, "os", json_pack("{s:o, s:{s:o}}",
        "type", eng_rest_str(s_caps_str(caps, "os_name")),
        "version", "full_version", eng_rest_str(s_caps_str(caps, "kernel"))));
    json_t *ksm = json_object();
    s_set_bool(ksm, "enabled", s_caps_bool(caps, "ksm_running"));
    json_object_set_new(o, "ksm", ksm);
    json_t *sum = json_object();
    eng_rest_set_num(sum, "active", active);
    eng_rest_set_num(sum, "total", total);
    json_object_set_new(o, "summary", sum);
    s_set_bool(o, "kvm", s_caps_bool(caps, "kvm"));
    eng_rest_set_num(o, "cpu_count", s_caps_int(caps, "cpu_count"));
    if (h->last_seen_ms > 0)
        json_object_set_new(o, "last_seen", json_integer(h->last_seen_ms));
    json_t *acts = json_array();
    for (int a = 0; a < ENG_REST_HACT__LAST; a++)
        json_array_append_new(acts, s_link(
            eng_rest_hact_name((eng_rest_hact_t)a), "hosts", h->id));
    json_array_append_new(acts, s_link("ping", "hosts", h->id));
    json_object_set_new(o, "actions", json_pack("{s:o}", "link", acts));
    json_t *links = json_array();
    json_array_append_new(links, s_link("statistics", "hosts", h->id));
    json_array_append_new(links, s_link("nics", "hosts", h->id));
    json_object_set_new(o, "link", links);
    return o;
}

/* "10.0.0.1/24" -> address and dotted netmask; false if not IPv4. */
static bool
s_split_cidr(const char *cidr, char addr[64], char mask[32])
{
    const char *slash = strchr(cidr, '/');
    size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (alen == 0 || alen >= 64)
        return false;
    memcpy(addr, cidr, alen);
    addr[alen] = '\0';
    struct in_addr in;
    if (inet_pton(AF_INET, addr, &in) != 1)
        return false;
    long prefix = 32;
    if (slash) {
        char *end = NULL;
        prefix = strtol(slash + 1, &end, 10);
        if (!end || *end != '\0' || prefix < 0 || prefix > 32)
            return false;
    }
    uint32_t m = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    snprintf(mask, 32, "%u.%u.%u.%u", (m >> 24) & 255, (m >> 16) & 255,
             (m >> 8) & 255, m & 255);
    return true;
}

json_t *
eng_rest_host_nics_json(const eng_host_t *h)
{
    json_t *list = json_array();
    json_t *nics = h->caps ? json_object_get(h->caps, "nics") : NULL;
    size_t i;
    json_t *n;
    json_array_foreach(nics, i, n) {
        if (!json_is_object(n))
            continue;
        json_t *o = json_object();
        s_set_str(o, "name", s_caps_str(n, "name"));
        json_object_set_new(o, "mac", json_pack("{s:o}", "address",
                                                eng_rest_str(s_caps_str(n, "mac"))));
        eng_rest_set_num(o, "speed",
                         s_caps_int(n, "speed_mbps") * 1000 * 1000);
        s_set_str(o, "status", s_caps_bool(n, "up") ? "up" : "down");
        eng_rest_set_num(o, "mtu", s_caps_int(n, "mtu"));
        json_t *addrs = json_object_get(n, "addresses");
        size_t j;
        json_t *a;
        json_array_foreach(addrs, j, a) {
            char addr[64], mask[32];
            if (json_is_string(a) &&
                s_split_cidr(json_string_value(a), addr, mask)) {
                json_object_set_new(o, "ip", json_pack("{s:s, s:s, s:s}",
                    "address", addr, "netmask", mask, "version", "v4"));
                break;
            }
        }
        json_array_append_new(list, o);
    }
    return json_pack("{s:o}", "host_nic", list);
}

json_t *
eng_rest_dc_json(const eng_dc_t *dc)
{
    json_t *o = json_object();
    s_set_str(o, "id", dc->id);
    json_object_set_new(o, "href", s_href("datacenters", dc->id, NULL));
    s_set_str(o, "name", dc->name);
    s_set_str(o, "description", dc->description);
    s_set_str(o, "status", "up");
    s_set_bool(o, "local", false);
    json_object_set_new(o, "creation_time", json_integer(dc->created_ms));
    return o;
}

json_t *
eng_rest_cluster_json(const eng_cluster_t *c)
{
    json_t *o = json_object();
    s_set_str(o, "id", c->id);
    json_object_set_new(o, "href", s_href("clusters", c->id, NULL));
    s_set_str(o, "name", c->name);
    s_set_str(o, "description", c->description);
    if (c->dc_id[0])
        json_object_set_new(o, "data_center",
                            eng_rest_ref_json("datacenters", c->dc_id));
    json_object_set_new(o, "cpu", json_pack("{s:o}", "type",
                                            eng_rest_str(c->cpu_type)));
    json_t *oc = json_object();
    eng_rest_set_num(oc, "percent", c->memory_overcommit);
    json_object_set_new(o, "memory_policy", json_pack("{s:o}", "over_commit",
                                                      oc));
    json_object_set_new(o, "creation_time", json_integer(c->created_ms));
    return o;
}

json_t *
eng_rest_event_json(const eng_event_t *ev)
{
    json_t *o = json_object();
    char id[32];
    snprintf(id, sizeof(id), "%" PRId64, ev->id);
    s_set_str(o, "id", id);
    json_object_set_new(o, "href", s_href("events", id, NULL));
    eng_rest_set_num(o, "code", ev->code);
    s_set_str(o, "description", ev->description);
    s_set_str(o, "severity", eng_severity_name(ev->severity));
    json_object_set_new(o, "time", json_integer(ev->time_ms));
    s_set_str(o, "origin", "herd");
    if (ev->host_id[0])
        json_object_set_new(o, "host", eng_rest_ref_json("hosts", ev->host_id));
    if (ev->vm_id[0])
        json_object_set_new(o, "vm", eng_rest_ref_json("vms", ev->vm_id));
    if (ev->user[0])
        json_object_set_new(o, "user", json_pack("{s:o}", "name",
                                                 eng_rest_str(ev->user)));
    if (ev->correlation_id[0])
        s_set_str(o, "correlation_id", ev->correlation_id);
    return o;
}

/* A stable UUID-shaped id for one statistic of one entity. */
static void
s_stat_id(const char *entity, const char *name, char out[ENG_ID_LEN])
{
    uint64_t h1 = UINT64_C(1469598103934665603), h2 = UINT64_C(0x9e3779b97f4a7c15);
    for (const char *p = entity; *p; p++) {
        h1 = (h1 ^ (unsigned char)*p) * UINT64_C(1099511628211);
        h2 = (h2 ^ (unsigned char)*p) * UINT64_C(0x100000001b3) + 7;
    }
    for (const char *p = name; *p; p++) {
        h1 = (h1 ^ (unsigned char)*p) * UINT64_C(1099511628211);
        h2 = (h2 ^ (unsigned char)*p) * UINT64_C(0x100000001b3) + 7;
    }
    snprintf(out, ENG_ID_LEN, "%08x-%04x-5%03x-%04x-%012" PRIx64,
             (unsigned)(h1 >> 32), (unsigned)((h1 >> 16) & 0xffff),
             (unsigned)(h1 & 0xfff),
             (unsigned)(0x8000 | ((h2 >> 48) & 0x3fff)),
             h2 & UINT64_C(0xffffffffffff));
}

static const char *
s_stat_desc(const char *name)
{
    static const struct { const char *name, *desc; } d[] = {
        { "memory.total", "Total memory" },
        { "memory.used", "Memory used" },
        { "memory.free", "Memory free" },
        { "memory.shared", "Shared memory" },
        { "memory.buffers", "I/O buffers" },
        { "memory.cached", "OS caches" },
        { "swap.total", "Total swap" },
        { "swap.used", "Swap used" },
        { "swap.free", "Swap free" },
        { "cpu.current.user", "User CPU usage" },
        { "cpu.current.system", "System CPU usage" },
        { "cpu.current.idle", "Idle CPU" },
        { "cpu.current.guest", "CPU used by the guest" },
        { "cpu.current.total", "Total CPU usage" },
        { "cpu.load.avg.1m", "CPU load average (1 minute)" },
        { "cpu.load.avg.5m", "CPU load average (5 minutes)" },
        { "cpu.load.avg.15m", "CPU load average (15 minutes)" },
        { "ksm.cpu.current", "KSM" },
        { "disks.usage", "Disk usage" },
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        if (strcmp(d[i].name, name) == 0)
            return d[i].desc;
    return name;
}

json_t *
eng_rest_stats_json(const json_t *sample, const char *kind, const char *id)
{
    json_t *list = json_array();
    const char *coll = strcmp(kind, "host") == 0 ? "hosts" : "vms";
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)sample, key, v) {
        if (!json_is_object(v))
            continue;
        json_t *val = json_object_get(v, "value");
        if (!json_is_number(val))
            continue;
        const char *unit = s_caps_str(v, "unit");
        const char *type = s_caps_str(v, "type");
        char sid[ENG_ID_LEN];
        s_stat_id(id, key, sid);
        json_t *o = json_object();
        s_set_str(o, "id", sid);
        char sub[64];
        snprintf(sub, sizeof(sub), "statistics/%s", sid);
        json_object_set_new(o, "href", s_href(coll, id, sub));
        s_set_str(o, "name", key);
        s_set_str(o, "description", s_stat_desc(key));
        s_set_str(o, "kind", strcmp(type, "counter") == 0 ? "counter"
                                                         : "gauge");
        s_set_str(o, "type", json_is_integer(val) ? "integer" : "decimal");
        s_set_str(o, "unit", unit[0] ? unit : "none");
        json_t *datum = json_pack("{s:O}", "datum", val);
        json_object_set_new(o, "values", json_pack("{s:[o]}", "value", datum));
        json_object_set_new(o, kind, eng_rest_ref_json(coll, id));
        json_array_append_new(list, o);
    }
    return json_pack("{s:o}", "statistic", list);
}
