#include "agt_link_conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_rpc.h"
#include "cmn_util.h"

#define MAX_XML_BYTES (1u << 20)        /* domain_xml */
#define MAX_TIMEOUT_S 3600              /* shutdown / reboot grace */
#define MAX_TICKET_S 86400              /* console ticket lifetime */
#define MAX_DISK_BYTES (1ULL << 50)

/* The wire structs take char *; ours are const. protobuf-c only reads. */
#define S(x) ((char *)(x))

int
agt_conv_hello(const agt_caps_t *c, const char *host_id, const char *version,
               agt_conv_sink_fn sink, void *opaque)
{
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = S(host_id);
    h.hostname = S(c->hostname);
    h.agent_version = S(version);
    h.cpu_model = S(c->cpu_model);
    h.cpu_vendor = S(c->cpu_vendor);
    h.cpu_count = c->cpu_count;
    h.cpu_sockets = c->cpu_sockets;
    h.cpu_cores = c->cpu_cores;
    h.cpu_threads = c->cpu_threads;
    h.cpu_mhz = c->cpu_mhz;
    h.n_cpu_flags = c->ncpu_flags;
    h.cpu_flags = c->cpu_flags;
    h.numa_nodes = c->numa_nodes;
    h.memory_bytes = c->memory_bytes;
    h.libvirt_version = S(c->libvirt_version);
    h.hypervisor = S(c->hypervisor);
    h.hypervisor_version = S(c->hypervisor_version);
    h.libvirt_uri = S(c->libvirt_uri);
    h.ksm_running = c->ksm_running;
    h.ksm_pages_shared = c->ksm_pages_shared;
    h.kernel = S(c->kernel);
    h.os_name = S(c->os_name);
    h.kvm = c->kvm;
    h.images_dir = S(c->images_dir);
    h.stats_interval = c->stats_interval;
    h.host_uuid = S(c->host_uuid);
    h.migration_uri = S(c->migration_uri);
    Herd__Nic *nics = calloc(c->nnics ? c->nnics : 1, sizeof(*nics));
    Herd__Nic **nicp = calloc(c->nnics ? c->nnics : 1, sizeof(*nicp));
    if (!nics || !nicp) {
        free(nics);
        free(nicp);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory building hello");
    }
    for (size_t i = 0; i < c->nnics; i++) {
        herd__nic__init(&nics[i]);
        nics[i].name = S(c->nics[i].name);
        nics[i].mac = S(c->nics[i].mac);
        nics[i].speed_mbps = c->nics[i].speed_mbps;
        nics[i].up = c->nics[i].up;
        nics[i].mtu = c->nics[i].mtu;
        nics[i].n_addresses = c->nics[i].naddresses;
        nics[i].addresses = c->nics[i].addresses;
        nicp[i] = &nics[i];
    }
    h.n_nics = c->nnics;
    h.nics = nicp;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    int rc = sink(&env, opaque);
    free(nics);
    free(nicp);
    return rc;
}

int
agt_conv_report(const agt_vm_status_t *vms, size_t n, agt_conv_sink_fn sink,
                void *opaque)
{
    Herd__VmStatus *st = calloc(n ? n : 1, sizeof(*st));
    Herd__VmStatus **stp = calloc(n ? n : 1, sizeof(*stp));
    if (!st || !stp) {
        free(st);
        free(stp);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory building the vm_report");
    }
    for (size_t i = 0; i < n; i++) {
        herd__vm_status__init(&st[i]);
        st[i].vm_id = S(vms[i].uuid);
        st[i].name = S(vms[i].name);
        st[i].state = vms[i].state;
        st[i].reason = vms[i].reason;
        st[i].persistent = vms[i].persistent;
        st[i].vcpus = vms[i].vcpus;
        st[i].memory_kib = vms[i].memory_kib;
        st[i].vnc_port = vms[i].vnc_port;
        stp[i] = &st[i];
    }
    Herd__VmReport rep = HERD__VM_REPORT__INIT;
    rep.n_vms = n;
    rep.vms = stp;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_REPORT;
    env.vm_report = &rep;
    int rc = sink(&env, opaque);
    free(st);
    free(stp);
    return rc;
}

static void
s_nicstats(Herd__NicStats *o, const agt_nic_stats_t *n)
{
    herd__nic_stats__init(o);
    o->name = S(n->name);
    o->rx_bytes = n->rx_bytes;
    o->tx_bytes = n->tx_bytes;
    o->rx_packets = n->rx_packets;
    o->tx_packets = n->tx_packets;
    o->rx_errors = n->rx_errors;
    o->tx_errors = n->tx_errors;
    o->rx_dropped = n->rx_dropped;
    o->tx_dropped = n->tx_dropped;
}

int
agt_conv_host_stats(const agt_sample_t *s, agt_conv_sink_fn sink, void *opaque)
{
    const agt_host_stats_t *h = &s->host;
    Herd__HostStats hs = HERD__HOST_STATS__INIT;
    hs.timestamp_ms = s->timestamp_ms;
    hs.cpu_user = h->cpu_user;
    hs.cpu_system = h->cpu_system;
    hs.cpu_idle = h->cpu_idle;
    hs.load_1 = h->load[0];
    hs.load_5 = h->load[1];
    hs.load_15 = h->load[2];
    hs.mem_total = h->mem_total;
    hs.mem_used = h->mem_used;
    hs.mem_free = h->mem_free;
    hs.mem_shared = h->mem_shared;
    hs.mem_buffers = h->mem_buffers;
    hs.mem_cached = h->mem_cached;
    hs.swap_total = h->swap_total;
    hs.swap_used = h->swap_used;
    hs.swap_free = h->swap_free;
    hs.ksm_running = h->ksm_running;
    hs.ksm_pages_shared = h->ksm_pages_shared;
    hs.ksm_pages_sharing = h->ksm_pages_sharing;
    hs.vms_running = h->vms_running;
    Herd__NicStats *ns = calloc(h->nnics ? h->nnics : 1, sizeof(*ns));
    Herd__NicStats **nsp = calloc(h->nnics ? h->nnics : 1, sizeof(*nsp));
    if (!ns || !nsp) {
        free(ns);
        free(nsp);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory building host statistics");
    }
    for (size_t i = 0; i < h->nnics; i++) {
        s_nicstats(&ns[i], &h->nics[i]);
        nsp[i] = &ns[i];
    }
    hs.n_nics = h->nnics;
    hs.nics = nsp;
    Herd__StorageStats ss = HERD__STORAGE_STATS__INIT;
    Herd__StorageStats *ssp = &ss;
    if (h->has_storage) {
        ss.path = S(h->storage_path);
        ss.total_bytes = h->storage_total;
        ss.free_bytes = h->storage_free;
        hs.n_storage = 1;
        hs.storage = &ssp;
    }
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_HOST_STATS;
    env.host_stats = &hs;
    int rc = sink(&env, opaque);
    free(ns);
    free(nsp);
    return rc;
}

int
agt_conv_vm_stats(uint64_t ts, const agt_vm_stats_t *vms, size_t n,
                  agt_conv_sink_fn sink, void *opaque)
{
    int rc = -1;
    size_t ndev = 0;
    for (size_t i = 0; i < n; i++)
        ndev += vms[i].ndisks + vms[i].nnics;
    Herd__VmStats *vs = calloc(n ? n : 1, sizeof(*vs));
    Herd__VmStats **vsp = calloc(n ? n : 1, sizeof(*vsp));
    Herd__DiskStats *ds = calloc(ndev ? ndev : 1, sizeof(*ds));
    Herd__DiskStats **dsp = calloc(ndev ? ndev : 1, sizeof(*dsp));
    Herd__NicStats *ns = calloc(ndev ? ndev : 1, sizeof(*ns));
    Herd__NicStats **nsp = calloc(ndev ? ndev : 1, sizeof(*nsp));
    if (!vs || !vsp || !ds || !dsp || !ns || !nsp) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory building VM statistics");
        goto out;
    }
    size_t dk = 0, nk = 0;
    for (size_t i = 0; i < n; i++) {
        const agt_vm_stats_t *v = &vms[i];
        Herd__VmStats *o = &vs[i];
        herd__vm_stats__init(o);
        o->vm_id = S(v->uuid);
        o->name = S(v->name);
        o->state = v->state;
        o->reason = v->reason;
        o->cpu_time_ns = v->cpu_time_ns;
        o->cpu_usage = v->cpu_usage;
        o->vcpus = v->vcpus;
        o->memory_kib = v->memory_kib;
        o->max_memory_kib = v->max_memory_kib;
        o->balloon_kib = v->balloon_kib;
        o->rss_kib = v->rss_kib;
        o->disks = &dsp[dk];
        o->n_disks = v->ndisks;
        for (size_t d = 0; d < v->ndisks; d++, dk++) {
            herd__disk_stats__init(&ds[dk]);
            ds[dk].name = S(v->disks[d].name);
            ds[dk].rd_bytes = v->disks[d].rd_bytes;
            ds[dk].wr_bytes = v->disks[d].wr_bytes;
            ds[dk].rd_ops = v->disks[d].rd_ops;
            ds[dk].wr_ops = v->disks[d].wr_ops;
            dsp[dk] = &ds[dk];
        }
        o->nics = &nsp[nk];
        o->n_nics = v->nnics;
        for (size_t k = 0; k < v->nnics; k++, nk++) {
            s_nicstats(&ns[nk], &v->nics[k]);
            nsp[nk] = &ns[nk];
        }
        vsp[i] = o;
    }
    Herd__VmStatsBatch b = HERD__VM_STATS_BATCH__INIT;
    b.timestamp_ms = ts;
    b.n_vms = n;
    b.vms = vsp;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_STATS;
    env.vm_stats = &b;
    rc = sink(&env, opaque);
out:
    free(vs);
    free(vsp);
    free(ds);
    free(dsp);
    free(ns);
    free(nsp);
    return rc;
}

int
agt_conv_vm_event(const agt_vm_event_t *ev, agt_conv_sink_fn sink, void *opaque)
{
    Herd__VmEvent e = HERD__VM_EVENT__INIT;
    e.vm_id = S(ev->uuid);
    e.name = S(ev->name);
    e.event = ev->event;
    e.detail = ev->detail;
    e.state = ev->state;
    e.reason = ev->reason;
    e.timestamp_ms = ev->timestamp_ms;
    e.vnc_port = ev->vnc_port;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_EVENT;
    env.vm_event = &e;
    return sink(&env, opaque);
}

/* ---- engine commands ---------------------------------------------------- */

static int
s_check_uuid(const char *field, const char *v)
{
    if (!v || !*v)
        return CMN_ERR(CMN_ERR_INVALID, "%s: missing", field);
    if (!cmn_uuid_valid(v))
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%.64s' is not a UUID", field, v);
    return 0;
}

int
agt_conv_request(const Herd__Envelope *env, agt_req_t *out)
{
    agt_req_t j;
    memset(&j, 0, sizeof(j));
    memset(out, 0, sizeof(*out));
    j.id = env->id;
    const char *id = NULL;
    switch (env->body_case) {
    case HERD__ENVELOPE__BODY_VM_CREATE: {
        const Herd__VmCreate *m = env->vm_create;
        if (!m) {
            CMN_ERR(CMN_ERR_INVALID, "vm_create: missing");
            return -1;
        }
        if (s_check_uuid("vm_create.vm_id", m->vm_id) < 0)
            return -1;
        size_t xl = m->domain_xml ? strlen(m->domain_xml) : 0;
        if (xl == 0) {
            CMN_ERR(CMN_ERR_INVALID, "vm_create.domain_xml: missing");
            return -1;
        }
        if (xl > MAX_XML_BYTES) {
            CMN_ERR(CMN_ERR_INVALID, "vm_create.domain_xml: %zu bytes is more "
                    "than the limit %u", xl, MAX_XML_BYTES);
            return -1;
        }
        if (strncmp(m->domain_xml, "<domain", 7) != 0) {
            CMN_ERR(CMN_ERR_INVALID, "vm_create.domain_xml: does not start with <domain");
            return -1;
        }
        if (!agt_virt_xml_uuid_matches(m->domain_xml, m->vm_id)) {
            CMN_ERR(CMN_ERR_INVALID, "vm_create.domain_xml: its <uuid> is missing or "
                    "differs from vm_id %s", m->vm_id);
            return -1;
        }
        j.kind = AGT_REQ_VM_CREATE;
        j.start = m->start;
        id = m->vm_id;
        break;
    }
    case HERD__ENVELOPE__BODY_VM_OP: {
        const Herd__VmOp *m = env->vm_op;
        if (!m) {
            CMN_ERR(CMN_ERR_INVALID, "vm_op: missing");
            return -1;
        }
        if (s_check_uuid("vm_op.vm_id", m->vm_id) < 0)
            return -1;
        if ((int)m->op <= 0 || (int)m->op >= AGT_VM_OP__LAST) {
            CMN_ERR(CMN_ERR_INVALID, "vm_op.op: %d is not an operation (1..%d)",
                    (int)m->op, AGT_VM_OP__LAST - 1);
            return -1;
        }
        if (m->timeout_s > MAX_TIMEOUT_S) {
            CMN_ERR(CMN_ERR_INVALID, "vm_op.timeout_s: %u is more than %u",
                    m->timeout_s, MAX_TIMEOUT_S);
            return -1;
        }
        j.kind = AGT_REQ_VM_OP;
        j.op = (agt_vm_op_t)m->op;
        j.timeout_s = m->timeout_s;
        id = m->vm_id;
        break;
    }
    case HERD__ENVELOPE__BODY_DISK_CREATE: {
        const Herd__DiskCreate *m = env->disk_create;
        if (!m) {
            CMN_ERR(CMN_ERR_INVALID, "disk_create: missing");
            return -1;
        }
        if (s_check_uuid("disk_create.disk_id", m->disk_id) < 0)
            return -1;
        if (m->size_bytes == 0 || m->size_bytes > MAX_DISK_BYTES) {
            CMN_ERR(CMN_ERR_INVALID, "disk_create.size_bytes: %llu is not in 1..%llu",
                    (unsigned long long)m->size_bytes, (unsigned long long)MAX_DISK_BYTES);
            return -1;
        }
        j.kind = AGT_REQ_DISK_CREATE;
        j.size = m->size_bytes;
        id = m->disk_id;
        break;
    }
    case HERD__ENVELOPE__BODY_DISK_DELETE: {
        const Herd__DiskDelete *m = env->disk_delete;
        if (!m) {
            CMN_ERR(CMN_ERR_INVALID, "disk_delete: missing");
            return -1;
        }
        if (s_check_uuid("disk_delete.disk_id", m->disk_id) < 0)
            return -1;
        j.kind = AGT_REQ_DISK_DELETE;
        id = m->disk_id;
        break;
    }
    case HERD__ENVELOPE__BODY_VM_TICKET: {
        const Herd__VmTicket *m = env->vm_ticket;
        if (!m) {
            CMN_ERR(CMN_ERR_INVALID, "vm_ticket: missing");
            return -1;
        }
        if (s_check_uuid("vm_ticket.vm_id", m->vm_id) < 0)
            return -1;
        size_t pl = m->password ? strlen(m->password) : 0;
        if (pl == 0 || pl >= sizeof(j.password) ||
            strspn(m->password, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                   "qrstuvwxyz0123456789-_.") != pl) {
            CMN_ERR(CMN_ERR_INVALID, "vm_ticket.password: 1..%zu characters "
                    "of A-Z a-z 0-9 - _ .", sizeof(j.password) - 1);
            return -1;
        }
        if (m->expiry_s == 0 || m->expiry_s > MAX_TICKET_S) {
            CMN_ERR(CMN_ERR_INVALID, "vm_ticket.expiry_s: %u is not in 1..%u",
                    m->expiry_s, MAX_TICKET_S);
            return -1;
        }
        j.kind = AGT_REQ_VM_TICKET;
        j.timeout_s = m->expiry_s;
        memcpy(j.password, m->password, pl + 1);
        id = m->vm_id;
        break;
    }
    default:
        return CMN_ERR(CMN_ERR_UNSUPPORTED, "'%s' is not a command",
                       cmn_rpc_body_name(env));
    }
    snprintf(j.target, sizeof(j.target), "%s", id);
    for (char *c = j.target; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    if (j.kind == AGT_REQ_VM_CREATE && !(j.xml = strdup(env->vm_create->domain_xml)))
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    *out = j;
    return 0;
}

void
agt_req_clear(agt_req_t *r)
{
    free(r->xml);
    r->xml = NULL;
    memset(r->password, 0, sizeof(r->password));
}

/* ---- engine key rotation ---------------------------------------------- */

int
agt_conv_engine_key(const Herd__Envelope *env, agt_ekey_req_t *out)
{
    memset(out, 0, sizeof(*out));
    out->id = env->id;
    const Herd__EngineKey *m = env->engine_key;
    if (!m)
        return CMN_ERR(CMN_ERR_INVALID, "engine_key: missing");
    const char *k = m->public_key ? m->public_key : "";
    size_t kl = strlen(k);
    if (kl == 0)
        return CMN_ERR(CMN_ERR_INVALID, "engine_key.public_key: missing");
    if (kl != CMN_KEY_Z85_LEN)
        return CMN_ERR(CMN_ERR_INVALID, "engine_key.public_key: %zu characters; "
                       "a CURVE public key is %d Z85 characters", kl,
                       CMN_KEY_Z85_LEN);
    if (!cmn_key_valid(k))
        return CMN_ERR(CMN_ERR_INVALID, "engine_key.public_key: not a CURVE "
                       "key (characters outside the Z85 alphabet)");
    if (m->switch_time_ms < 0)
        return CMN_ERR(CMN_ERR_INVALID, "engine_key.switch_time_ms: %lld is "
                       "negative", (long long)m->switch_time_ms);
    memcpy(out->public_key, k, CMN_KEY_Z85_LEN + 1);
    out->switch_now = m->switch_now;
    out->switch_time_ms = m->switch_time_ms;
    return 0;
}

/* ---- live migration ---------------------------------------------------- */

static int
s_copy_field(char *dst, size_t size, const char *src, const char *what)
{
    src = src ? src : "";
    if (strlen(src) >= size)
        return CMN_ERR(CMN_ERR_INVALID, "%s: longer than %zu bytes", what,
                       size - 1);
    snprintf(dst, size, "%s", src);
    return 0;
}

int
agt_conv_migrate(const Herd__VmMigrate *m, agt_mig_req_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!m)
        return CMN_ERR(CMN_ERR_INVALID, "vm_migrate: empty body");
    if (s_copy_field(out->job_id, sizeof(out->job_id), m->job_id,
                     "vm_migrate.job_id") < 0 ||
        s_copy_field(out->vm_id, sizeof(out->vm_id), m->vm_id,
                     "vm_migrate.vm_id") < 0 ||
        s_copy_field(out->dest_uri, sizeof(out->dest_uri), m->dest_uri,
                     "vm_migrate.dest_uri") < 0)
        return -1;
    for (char *c = out->vm_id; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
    out->bandwidth_mbps = m->bandwidth_mbps;
    out->max_downtime_ms = m->max_downtime_ms;
    out->timeout_s = m->timeout_s;
    out->unsafe = m->unsafe;
    out->copy_storage = m->copy_storage;
    return agt_migrate_check(out);
}

int
agt_conv_job_progress(const agt_mig_progress_t *p, agt_conv_sink_fn sink,
                      void *opaque)
{
    Herd__JobProgress jp = HERD__JOB_PROGRESS__INIT;
    Herd__Result res = HERD__RESULT__INIT;
    jp.job_id = S(p->job_id);
    jp.vm_id = S(p->vm_id);
    jp.state = (Herd__JobState)p->state;
    jp.percent = p->percent;
    jp.memory_total = p->memory_total;
    jp.memory_remaining = p->memory_remaining;
    jp.data_processed = p->data_processed;
    jp.elapsed_ms = p->elapsed_ms;
    jp.downtime_ms = p->downtime_ms;
    if (p->state != AGT_JOB_RUNNING && p->state != AGT_JOB_DONE) {
        res.code = p->code;
        res.message = S(p->message);
        jp.result = &res;
    }
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_JOB_PROGRESS;
    env.job_progress = &jp;
    return sink(&env, opaque);
}
