/* REST request bodies to records. Pure functions: no store, no server, so
 * that unit tests and the fuzz target call them directly. Every error
 * names the field (as a dotted path) and what was expected. */
#include "eng_rest_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("rest.json");

#define PATH_LEN 160

static const char *
s_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static void
s_path(char *buf, const char *parent, const char *key)
{
    int n = snprintf(buf, PATH_LEN, "%s%s%s", parent, *parent ? "." : "",
                     key);
    if (n < 0)
        buf[0] = '\0';     /* truncation is fine: it only names a field */
}

json_t *
eng_rest_str(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        copy[i] = (ch >= 0x80 || ch < 0x20) ? '?' : (char)ch;
    }
    copy[n] = '\0';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Reject keys not in `known` (NULL-terminated) or in `ignored` (read-only
 * fields of our own output, accepted so that a shown resource can be sent
 * back). */
static int
s_check_keys(const json_t *obj, const char *path, const char *const *known,
             const char *const *ignored)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(key, *k) == 0;
        for (const char *const *k = ignored; k && *k && !ok; k++)
            ok = strcmp(key, *k) == 0;
        if (ok)
            continue;
        char list[512];
        size_t off = 0;
        list[0] = '\0';
        for (const char *const *k = known; *k; k++) {
            int n = snprintf(list + off, sizeof(list) - off, "%s%s",
                             off ? ", " : "", *k);
            if (n < 0 || (size_t)n >= sizeof(list) - off)
                break;
            off += (size_t)n;
        }
        char full[PATH_LEN];
        s_path(full, path, key);
        json_t *js = eng_rest_str(full);
        int rc = CMN_ERR(CMN_ERR_INVALID, "unknown field '%s' (known: %s)",
                         js ? json_string_value(js) : "?", list);
        json_decref(js);
        return rc;
    }
    return 0;
}

static int
s_want_object(const json_t *v, const char *path)
{
    if (json_is_object(v))
        return 0;
    return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected an object, got %s",
                   path, s_type_name(v));
}

/* An unsigned integer given as a JSON number or a decimal string. */
static int
s_get_u64(const json_t *v, const char *path, uint64_t min, uint64_t max,
          uint64_t *out)
{
    uint64_t val;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return CMN_ERR(CMN_ERR_INVALID, "field '%s': %" JSON_INTEGER_FORMAT
                           " is negative", path, i);
        val = (uint64_t)i;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len == 0 || len > 20 || strspn(s, "0123456789") != len)
            return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected an integer "
                           "(number or numeric string), got a string that is "
                           "not a non-negative decimal integer", path);
        errno = 0;
        char *end = NULL;
        unsigned long long u = strtoull(s, &end, 10);
        if (errno != 0 || !end || *end != '\0')
            return CMN_ERR(CMN_ERR_INVALID, "field '%s': integer out of "
                           "range", path);
        val = u;
    } else {
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected an integer "
                       "(number or numeric string), got %s", path,
                       s_type_name(v));
    }
    if (val < min || val > max)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': %" PRIu64 " is out of "
                       "range (%" PRIu64 "..%" PRIu64 ")", path, val, min, max);
    *out = val;
    return 0;
}

static int
s_get_u32(const json_t *v, const char *path, uint32_t min, uint32_t max,
          uint32_t *out)
{
    uint64_t val;
    if (s_get_u64(v, path, min, max, &val) < 0)
        return -1;
    *out = (uint32_t)val;
    return 0;
}

/* A boolean given as true/false or "true"/"false". */
static int
s_get_bool(const json_t *v, const char *path, bool *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "true") == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, "false") == 0) {
            *out = false;
            return 0;
        }
    }
    return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected a boolean (true, "
                   "false, \"true\" or \"false\"), got %s", path,
                   s_type_name(v));
}

/* A string that fits `size` bytes with its NUL. */
static int
s_get_str(const json_t *v, const char *path, char *buf, size_t size)
{
    if (!json_is_string(v))
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected a string, got %s",
                       path, s_type_name(v));
    size_t len = json_string_length(v);
    if (len >= size)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s' is too long (%zu bytes, "
                       "at most %zu)", path, len, size - 1);
    if (strlen(json_string_value(v)) != len)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s' contains a NUL character",
                       path);
    memcpy(buf, json_string_value(v), len + 1);
    return 0;
}

int
eng_rest_parse_object(const char *body, size_t len, bool allow_empty,
                      json_t **out)
{
    *out = NULL;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
                       body[i] == '\n'))
        i++;
    if (i == len) {
        if (allow_empty)
            return 0;
        return CMN_ERR(CMN_ERR_INVALID, "the request needs a JSON body");
    }
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        json_t *js = eng_rest_str(err.text);
        int rc = CMN_ERR(CMN_ERR_INVALID, "malformed JSON at line %d, column "
                         "%d (byte %d): %s", err.line, err.column,
                         err.position, js ? json_string_value(js) : "");
        json_decref(js);
        return rc;
    }
    if (!json_is_object(root)) {
        int rc = CMN_ERR(CMN_ERR_INVALID, "the body must be a JSON object, "
                         "got %s", s_type_name(root));
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

/* {"id": ..., "name": ...} reference to a cluster or host. */
static int
s_parse_ref(const json_t *v, const char *path, char id[ENG_ID_LEN],
            char name[ENG_NAME_LEN])
{
    static const char *const known[] = { "id", "name", NULL };
    static const char *const ignored[] = { "href", NULL };
    char p[PATH_LEN];
    if (s_want_object(v, path) < 0 ||
        s_check_keys(v, path, known, ignored) < 0)
        return -1;
    json_t *jid = json_object_get(v, "id");
    json_t *jname = json_object_get(v, "name");
    if (!jid && !jname)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s' needs 'id' or 'name'",
                       path);
    if (jid) {
        s_path(p, path, "id");
        if (s_get_str(jid, p, id, ENG_ID_LEN) < 0)
            return -1;
        if (!cmn_uuid_valid(id))
            return CMN_ERR(CMN_ERR_INVALID, "field '%s': '%s' is not a UUID",
                           p, id);
    }
    if (jname) {
        s_path(p, path, "name");
        if (s_get_str(jname, p, name, ENG_NAME_LEN) < 0)
            return -1;
    }
    return 0;
}

static int
s_parse_topology(const json_t *cpu, eng_rest_vm_body_t *b)
{
    static const char *const known_cpu[] = { "topology", NULL };
    static const char *const known_topo[] = { "sockets", "cores", "threads",
                                              NULL };
    if (s_want_object(cpu, "cpu") < 0 ||
        s_check_keys(cpu, "cpu", known_cpu, NULL) < 0)
        return -1;
    json_t *topo = json_object_get(cpu, "topology");
    if (!topo)
        return 0;
    if (s_want_object(topo, "cpu.topology") < 0 ||
        s_check_keys(topo, "cpu.topology", known_topo, NULL) < 0)
        return -1;
    json_t *v;
    if ((v = json_object_get(topo, "sockets"))) {
        if (s_get_u32(v, "cpu.topology.sockets", 1, 512, &b->vm.sockets) < 0)
            return -1;
        b->set |= ENG_VMF_SOCKETS;
    }
    if ((v = json_object_get(topo, "cores"))) {
        if (s_get_u32(v, "cpu.topology.cores", 1, 512, &b->vm.cores) < 0)
            return -1;
        b->set |= ENG_VMF_CORES;
    }
    if ((v = json_object_get(topo, "threads"))) {
        if (s_get_u32(v, "cpu.topology.threads", 1, 512, &b->vm.threads) < 0)
            return -1;
        b->set |= ENG_VMF_THREADS;
    }
    return 0;
}

/* Get `key` of `parent` as an array, accepting the oVirt wrapper object
 * {"disk_attachment": [...]} at `outer`. */
static int
s_get_list(const json_t *outer, const char *outer_path, const char *inner,
           json_t **arr)
{
    static const char *const none[] = { NULL };
    char p[PATH_LEN];
    if (s_want_object(outer, outer_path) < 0)
        return -1;
    const char *known[] = { inner, NULL };
    if (s_check_keys(outer, outer_path, known, none) < 0)
        return -1;
    json_t *a = json_object_get(outer, inner);
    s_path(p, outer_path, inner);
    if (!a) {
        *arr = NULL;
        return 0;
    }
    if (!json_is_array(a))
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected an array, got "
                       "%s", p, s_type_name(a));
    *arr = a;
    return 0;
}

static int
s_parse_disk(const json_t *da, const char *path, eng_disk_t *d,
             bool *bootable_set)
{
    static const char *const known_da[] = { "bootable", "interface", "disk",
                                            NULL };
    static const char *const ignored_da[] = { "id", "href", "active", NULL };
    static const char *const known_d[] = { "provisioned_size", "format",
                                           NULL };
    static const char *const ignored_d[] = { "id", "href", "name", NULL };
    char p[PATH_LEN], pd[PATH_LEN];
    if (s_want_object(da, path) < 0 ||
        s_check_keys(da, path, known_da, ignored_da) < 0)
        return -1;
    json_t *v;
    snprintf(d->interface, sizeof(d->interface), "virtio");
    snprintf(d->format, sizeof(d->format), "cow");
    *bootable_set = false;
    if ((v = json_object_get(da, "bootable"))) {
        s_path(p, path, "bootable");
        if (s_get_bool(v, p, &d->bootable) < 0)
            return -1;
        *bootable_set = true;
    }
    if ((v = json_object_get(da, "interface"))) {
        s_path(p, path, "interface");
        if (s_get_str(v, p, d->interface, sizeof(d->interface)) < 0)
            return -1;
    }
    json_t *disk = json_object_get(da, "disk");
    s_path(pd, path, "disk");
    if (!disk)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s' is required", pd);
    if (s_want_object(disk, pd) < 0 ||
        s_check_keys(disk, pd, known_d, ignored_d) < 0)
        return -1;
    s_path(p, pd, "provisioned_size");
    if (!(v = json_object_get(disk, "provisioned_size")))
        return CMN_ERR(CMN_ERR_INVALID, "field '%s' is required", p);
    if (s_get_u64(v, p, 1, UINT64_C(1) << 50, &d->size_bytes) < 0)
        return -1;
    if ((v = json_object_get(disk, "format"))) {
        s_path(p, pd, "format");
        if (s_get_str(v, p, d->format, sizeof(d->format)) < 0)
            return -1;
    }
    return 0;
}

static int
s_parse_disks(const json_t *v, eng_rest_vm_body_t *b)
{
    json_t *arr;
    if (s_get_list(v, "disk_attachments", "disk_attachment", &arr) < 0)
        return -1;
    b->set |= ENG_VMF_DISKS;
    b->vm.ndisks = 0;
    if (!arr)
        return 0;
    size_t n = json_array_size(arr);
    if (n > ENG_VM_MAX_DISKS)
        return CMN_ERR(CMN_ERR_INVALID, "too many disks: %zu (at most %d)",
                       n, ENG_VM_MAX_DISKS);
    bool first_explicit = false, any_bootable = false;
    for (size_t i = 0; i < n; i++) {
        char p[PATH_LEN];
        snprintf(p, sizeof(p), "disk_attachments.disk_attachment[%zu]", i);
        bool explicit_boot;
        eng_disk_t *d = &b->vm.disks[i];
        memset(d, 0, sizeof(*d));
        if (s_parse_disk(json_array_get(arr, i), p, d, &explicit_boot) < 0)
            return -1;
        if (i == 0)
            first_explicit = explicit_boot;
        any_bootable = any_bootable || d->bootable;
    }
    b->vm.ndisks = (int)n;
    if (n > 0 && !any_bootable && !first_explicit)
        b->vm.disks[0].bootable = true;
    return 0;
}

static int
s_parse_nic(const json_t *jn, const char *path, eng_nic_t *nic, size_t idx)
{
    static const char *const known[] = { "name", "interface", "mac",
                                         "network", NULL };
    static const char *const ignored[] = { "id", "href", NULL };
    static const char *const known_mac[] = { "address", NULL };
    static const char *const known_net[] = { "name", NULL };
    static const char *const ignored_net[] = { "id", "href", NULL };
    char p[PATH_LEN], q[PATH_LEN];
    if (s_want_object(jn, path) < 0 ||
        s_check_keys(jn, path, known, ignored) < 0)
        return -1;
    json_t *v;
    snprintf(nic->name, sizeof(nic->name), "nic%zu", idx + 1);
    snprintf(nic->model, sizeof(nic->model), "virtio");
    if ((v = json_object_get(jn, "name"))) {
        s_path(p, path, "name");
        if (s_get_str(v, p, nic->name, sizeof(nic->name)) < 0)
            return -1;
    }
    if ((v = json_object_get(jn, "interface"))) {
        s_path(p, path, "interface");
        if (s_get_str(v, p, nic->model, sizeof(nic->model)) < 0)
            return -1;
    }
    if ((v = json_object_get(jn, "mac"))) {
        s_path(p, path, "mac");
        if (s_want_object(v, p) < 0 || s_check_keys(v, p, known_mac, NULL) < 0)
            return -1;
        json_t *a = json_object_get(v, "address");
        if (a) {
            s_path(q, p, "address");
            if (s_get_str(a, q, nic->mac, sizeof(nic->mac)) < 0)
                return -1;
        }
    }
    if ((v = json_object_get(jn, "network"))) {
        s_path(p, path, "network");
        if (s_want_object(v, p) < 0 ||
            s_check_keys(v, p, known_net, ignored_net) < 0)
            return -1;
        json_t *a = json_object_get(v, "name");
        if (a) {
            s_path(q, p, "name");
            if (s_get_str(a, q, nic->network, sizeof(nic->network)) < 0)
                return -1;
        }
    }
    return 0;
}

static int
s_parse_nics(const json_t *v, eng_rest_vm_body_t *b)
{
    json_t *arr;
    if (s_get_list(v, "nics", "nic", &arr) < 0)
        return -1;
    b->set |= ENG_VMF_NICS;
    b->vm.nnics = 0;
    if (!arr)
        return 0;
    size_t n = json_array_size(arr);
    if (n > ENG_VM_MAX_NICS)
        return CMN_ERR(CMN_ERR_INVALID, "too many NICs: %zu (at most %d)",
                       n, ENG_VM_MAX_NICS);
    for (size_t i = 0; i < n; i++) {
        char p[PATH_LEN];
        snprintf(p, sizeof(p), "nics.nic[%zu]", i);
        memset(&b->vm.nics[i], 0, sizeof(b->vm.nics[i]));
        if (s_parse_nic(json_array_get(arr, i), p, &b->vm.nics[i], i) < 0)
            return -1;
    }
    b->vm.nnics = (int)n;
    return 0;
}

static int
s_parse_placement(const json_t *v, eng_rest_vm_body_t *b)
{
    static const char *const known[] = { "hosts", NULL };
    static const char *const ignored[] = { "affinity", NULL };
    if (s_want_object(v, "placement_policy") < 0 ||
        s_check_keys(v, "placement_policy", known, ignored) < 0)
        return -1;
    b->set |= ENG_VMF_PIN;
    json_t *hosts = json_object_get(v, "hosts");
    if (!hosts)
        return 0;
    json_t *arr;
    if (s_get_list(hosts, "placement_policy.hosts", "host", &arr) < 0)
        return -1;
    if (!arr || json_array_size(arr) == 0)
        return 0;
    if (json_array_size(arr) > 1)
        return CMN_ERR(CMN_ERR_INVALID, "field 'placement_policy.hosts.host': "
                       "%zu hosts given; a VM can be pinned to one host",
                       json_array_size(arr));
    return s_parse_ref(json_array_get(arr, 0), "placement_policy.hosts.host[0]",
                       b->host_id, b->host_name);
}

static int
s_parse_misc(const json_t *root, eng_rest_vm_body_t *b)
{
    json_t *v;
    if ((v = json_object_get(root, "display"))) {
        static const char *const known[] = { "type", NULL };
        static const char *const ignored[] = { "address", "port", NULL };
        if (s_want_object(v, "display") < 0 ||
            s_check_keys(v, "display", known, ignored) < 0)
            return -1;
        json_t *t = json_object_get(v, "type");
        if (t) {
            if (s_get_str(t, "display.type", b->vm.display_type,
                          sizeof(b->vm.display_type)) < 0)
                return -1;
            b->set |= ENG_VMF_DISPLAY;
        }
    }
    if ((v = json_object_get(root, "high_availability"))) {
        static const char *const known[] = { "enabled", "priority", NULL };
        if (s_want_object(v, "high_availability") < 0 ||
            s_check_keys(v, "high_availability", known, NULL) < 0)
            return -1;
        json_t *e = json_object_get(v, "enabled");
        if (e) {
            if (s_get_bool(e, "high_availability.enabled", &b->vm.ha) < 0)
                return -1;
            b->set |= ENG_VMF_HA;
        }
        json_t *pr = json_object_get(v, "priority");
        if (pr) {
            uint32_t prio;
            if (s_get_u32(pr, "high_availability.priority", 0, 1000000,
                          &prio) < 0)
                return -1;
            b->vm.ha_priority = (int)prio;
            b->set |= ENG_VMF_HA_PRIORITY;
        }
    }
    return 0;
}

int
eng_rest_parse_vm(const char *body, size_t len, bool update,
                  eng_rest_vm_body_t *out)
{
    static const char *const known[] = {
        "name", "description", "memory", "cpu", "cluster", "placement_policy",
        "disk_attachments", "nics", "display", "high_availability", NULL };
    /* Read-only fields of a shown VM, accepted and ignored. */
    static const char *const ignored[] = {
        "id", "href", "status", "origin", "host", "start_time",
        "creation_time", "actions", "link", NULL };
    memset(out, 0, sizeof(*out));
    json_t *root = NULL;
    if (eng_rest_parse_object(body, len, false, &root) < 0)
        return -1;
    int rc = -1;
    json_t *v;
    if (s_check_keys(root, "", known, ignored) < 0)
        goto out;
    if ((v = json_object_get(root, "name"))) {
        if (s_get_str(v, "name", out->vm.name, sizeof(out->vm.name)) < 0)
            goto out;
        if (out->vm.name[0] == '\0') {
            CMN_ERR(CMN_ERR_INVALID, "field 'name' is empty");
            goto out;
        }
        out->set |= ENG_VMF_NAME;
    } else if (!update) {
        CMN_ERR(CMN_ERR_INVALID, "field 'name' is required");
        goto out;
    }
    if ((v = json_object_get(root, "description"))) {
        if (s_get_str(v, "description", out->vm.description,
                      sizeof(out->vm.description)) < 0)
            goto out;
        out->set |= ENG_VMF_DESCRIPTION;
    }
    if ((v = json_object_get(root, "memory"))) {
        if (s_get_u64(v, "memory", 1, UINT64_C(1) << 50,
                      &out->vm.memory_bytes) < 0)
            goto out;
        out->set |= ENG_VMF_MEMORY;
    } else if (!update) {
        CMN_ERR(CMN_ERR_INVALID, "field 'memory' is required");
        goto out;
    }
    if ((v = json_object_get(root, "cpu")) && s_parse_topology(v, out) < 0)
        goto out;
    if ((v = json_object_get(root, "cluster"))) {
        if (s_parse_ref(v, "cluster", out->cluster_id, out->cluster_name) < 0)
            goto out;
        out->set |= ENG_VMF_CLUSTER;
    }
    if ((v = json_object_get(root, "placement_policy")) &&
        s_parse_placement(v, out) < 0)
        goto out;
    if ((v = json_object_get(root, "disk_attachments"))) {
        if (update) {
            CMN_ERR(CMN_ERR_INVALID, "field 'disk_attachments' cannot be "
                    "changed by an update");
            goto out;
        }
        if (s_parse_disks(v, out) < 0)
            goto out;
    }
    if ((v = json_object_get(root, "nics"))) {
        if (update) {
            CMN_ERR(CMN_ERR_INVALID, "field 'nics' cannot be changed by an "
                    "update");
            goto out;
        }
        if (s_parse_nics(v, out) < 0)
            goto out;
    }
    if (s_parse_misc(root, out) < 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

int
eng_rest_vm_apply(eng_store_t *s, const eng_rest_vm_body_t *b, eng_vm_t *vm)
{
    eng_vm_t next = *vm;
    const eng_vm_t *in = &b->vm;
    if (b->set & ENG_VMF_NAME)
        memcpy(next.name, in->name, sizeof(next.name));
    if (b->set & ENG_VMF_DESCRIPTION)
        memcpy(next.description, in->description, sizeof(next.description));
    if (b->set & ENG_VMF_MEMORY)
        next.memory_bytes = in->memory_bytes;
    if (b->set & ENG_VMF_SOCKETS)
        next.sockets = in->sockets;
    if (b->set & ENG_VMF_CORES)
        next.cores = in->cores;
    if (b->set & ENG_VMF_THREADS)
        next.threads = in->threads;
    if (b->set & ENG_VMF_DISKS) {
        next.ndisks = in->ndisks;
        memcpy(next.disks, in->disks, sizeof(next.disks));
    }
    if (b->set & ENG_VMF_NICS) {
        next.nnics = in->nnics;
        memcpy(next.nics, in->nics, sizeof(next.nics));
    }
    if (b->set & ENG_VMF_DISPLAY)
        memcpy(next.display_type, in->display_type, sizeof(next.display_type));
    if (b->set & ENG_VMF_HA)
        next.ha = in->ha;
    if (b->set & ENG_VMF_HA_PRIORITY)
        next.ha_priority = in->ha_priority;
    if (b->set & ENG_VMF_CLUSTER) {
        eng_cluster_t c;
        const char *ref = b->cluster_id[0] ? b->cluster_id : b->cluster_name;
        if (eng_rest_find_cluster(s, ref, &c) < 0)
            return -1;
        if (b->cluster_id[0] && b->cluster_name[0] &&
            strcmp(c.name, b->cluster_name) != 0)
            return CMN_ERR(CMN_ERR_INVALID, "field 'cluster': id %s is "
                           "cluster '%s', not '%s'", c.id, c.name,
                           b->cluster_name);
        memcpy(next.cluster_id, c.id, sizeof(next.cluster_id));
    }
    if (b->set & ENG_VMF_PIN) {
        next.pinned_host_id[0] = '\0';
        if (b->host_id[0] || b->host_name[0]) {
            eng_host_t h;
            memset(&h, 0, sizeof(h));
            const char *ref = b->host_id[0] ? b->host_id : b->host_name;
            if (eng_rest_find_host(s, ref, &h) < 0)
                return -1;
            memcpy(next.pinned_host_id, h.id, sizeof(next.pinned_host_id));
            eng_host_clear(&h);
        }
    }
    *vm = next;
    return 0;
}

int
eng_rest_parse_start(const char *body, size_t len, char host_id[ENG_ID_LEN],
                     char host_name[ENG_NAME_LEN])
{
    static const char *const known[] = { "host", NULL };
    static const char *const ignored[] = { "async", "pause", NULL };
    host_id[0] = '\0';
    host_name[0] = '\0';
    json_t *root = NULL;
    if (eng_rest_parse_object(body, len, true, &root) < 0)
        return -1;
    if (!root)
        return 0;
    int rc = -1;
    json_t *v;
    if (s_check_keys(root, "", known, ignored) < 0)
        goto out;
    if ((v = json_object_get(root, "host")) &&
        s_parse_ref(v, "host", host_id, host_name) < 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc < 0) {
        host_id[0] = '\0';
        host_name[0] = '\0';
    }
    return rc;
}

int
eng_rest_parse_ping(const char *body, size_t len, unsigned *count)
{
    static const char *const known[] = { "count", NULL };
    *count = ENG_REST_PING_DEFAULT;
    json_t *root = NULL;
    if (eng_rest_parse_object(body, len, true, &root) < 0)
        return -1;
    if (!root)
        return 0;
    int rc = -1;
    json_t *v;
    uint32_t n;
    if (s_check_keys(root, "", known, NULL) < 0)
        goto out;
    if ((v = json_object_get(root, "count"))) {
        if (s_get_u32(v, "count", 1, ENG_REST_PING_MAX, &n) < 0)
            goto out;
        *count = n;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int
eng_rest_parse_action(const char *body, size_t len)
{
    static const char *const known[] = { "async", "force", NULL };
    json_t *root = NULL;
    if (eng_rest_parse_object(body, len, true, &root) < 0)
        return -1;
    if (!root)
        return 0;
    int rc = s_check_keys(root, "", known, NULL);
    json_t *v;
    bool ignored;
    if (rc == 0 && (v = json_object_get(root, "async")))
        rc = s_get_bool(v, "async", &ignored);
    if (rc == 0 && (v = json_object_get(root, "force")))
        rc = s_get_bool(v, "force", &ignored);
    json_decref(root);
    return rc;
}
