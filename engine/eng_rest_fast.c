/* A VM as compact JSON text written straight into a buffer: the same bytes
 * as json_dumps(eng_rest_vm_json(vm), JSON_COMPACT | JSON_ENSURE_ASCII)
 * (tests/unit/test_eng_rest_api.c compares them), without building a tree,
 * for long VM lists where the tree and its dump cost most of the time. */
#include "eng_rest_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cmn_log.h"

CMN_LOG_INIT("rest.fast");

#define LIT(b, lit) evbuffer_add((b), (lit), sizeof(lit) - 1)

/* A JSON string: printable ASCII is escaped here; anything else takes
 * the path of the tree (eng_rest_str and jansson's escaping). */
static void
s_str(struct evbuffer *b, const char *s)
{
    if (!s)
        s = "";
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            break;
    if (*p) {
        json_t *j = eng_rest_str(s);
        char *t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT |
                                    JSON_ENSURE_ASCII) : NULL;
        evbuffer_add(b, t ? t : "\"\"", t ? strlen(t) : 2);
        free(t);
        json_decref(j);
        return;
    }
    LIT(b, "\"");
    const char *run = s;
    for (const char *c = s; *c; c++) {
        if (*c != '"' && *c != '\\')
            continue;
        evbuffer_add(b, run, (size_t)(c - run));
        evbuffer_add(b, *c == '"' ? "\\\"" : "\\\\", 2);
        run = c + 1;
    }
    evbuffer_add(b, run, strlen(run));
    LIT(b, "\"");
}

/* "key": */
static void
s_key(struct evbuffer *b, const char *key, bool first)
{
    evbuffer_add_printf(b, "%s\"%s\":", first ? "" : ",", key);
}

static void
s_kstr(struct evbuffer *b, const char *key, const char *v, bool first)
{
    s_key(b, key, first);
    s_str(b, v);
}

static void
s_knum(struct evbuffer *b, const char *key, int64_t v, bool first)
{
    evbuffer_add_printf(b, "%s\"%s\":\"%" PRId64 "\"", first ? "" : ",",
                        key, v);
}

/* {"id", "href"} of coll/id. */
static void
s_ref(struct evbuffer *b, const char *key, const char *coll, const char *id)
{
    char href[512];
    s_key(b, key, false);
    LIT(b, "{");
    s_kstr(b, "id", id, true);
    snprintf(href, sizeof(href), ENG_REST_BASE "/%s/%s", coll, id);
    s_kstr(b, "href", href, false);
    LIT(b, "}");
}

static void
s_link(struct evbuffer *b, const char *rel, const char *id, bool first)
{
    char href[512];
    snprintf(href, sizeof(href), ENG_REST_BASE "/vms/%s/%s", id, rel);
    evbuffer_add(b, first ? "{" : ",{", first ? 1 : 2);
    s_kstr(b, "rel", rel, true);
    s_kstr(b, "href", href, false);
    LIT(b, "}");
}

int
eng_rest_vm_json_write(const eng_vm_t *vm, struct evbuffer *b)
{
    char href[512];
    LIT(b, "{");
    s_kstr(b, "id", vm->id, true);
    snprintf(href, sizeof(href), ENG_REST_BASE "/vms/%s", vm->id);
    s_kstr(b, "href", href, false);
    s_kstr(b, "name", vm->name, false);
    s_kstr(b, "description", vm->description, false);
    s_kstr(b, "status", eng_vm_status_name(vm->status), false);
    s_kstr(b, "origin", vm->external ? "external" : "herd", false);
    s_knum(b, "memory", (int64_t)vm->memory_bytes, false);
    s_key(b, "cpu", false);
    LIT(b, "{\"topology\":{");
    s_knum(b, "sockets", vm->sockets, true);
    s_knum(b, "cores", vm->cores, false);
    s_knum(b, "threads", vm->threads, false);
    LIT(b, "}}");
    if (vm->cluster_id[0])
        s_ref(b, "cluster", "clusters", vm->cluster_id);
    if (vm->host_id[0] && vm->status != ENG_VM_DOWN)
        s_ref(b, "host", "hosts", vm->host_id);
    if (vm->pinned_host_id[0]) {
        s_key(b, "placement_policy", false);
        LIT(b, "{");
        s_kstr(b, "affinity", "pinned", true);
        LIT(b, ",\"hosts\":{\"host\":[{");
        s_kstr(b, "id", vm->pinned_host_id, true);
        snprintf(href, sizeof(href), ENG_REST_BASE "/hosts/%s",
                 vm->pinned_host_id);
        s_kstr(b, "href", href, false);
        LIT(b, "}]}}");
    }
    s_key(b, "display", false);
    LIT(b, "{");
    s_kstr(b, "type", vm->display_type[0] ? vm->display_type : "none", true);
    if (vm->display_port > 0) {
        s_kstr(b, "address", vm->display_address, false);
        s_knum(b, "port", vm->display_port, false);
    }
    LIT(b, "}");
    s_key(b, "high_availability", false);
    LIT(b, "{");
    s_kstr(b, "enabled", vm->ha ? "true" : "false", true);
    s_knum(b, "priority", vm->ha_priority, false);
    LIT(b, "}");
    if (vm->start_time_ms > 0)
        evbuffer_add_printf(b, ",\"start_time\":%" PRId64, vm->start_time_ms);
    evbuffer_add_printf(b, ",\"creation_time\":%" PRId64, vm->created_ms);

    LIT(b, ",\"disk_attachments\":{\"disk_attachment\":[");
    for (int i = 0; i < vm->ndisks && i < ENG_VM_MAX_DISKS; i++) {
        const eng_disk_t *d = &vm->disks[i];
        evbuffer_add(b, i ? ",{" : "{", i ? 2 : 1);
        s_kstr(b, "id", d->id, true);
        s_kstr(b, "bootable", d->bootable ? "true" : "false", false);
        s_kstr(b, "interface", d->interface, false);
        s_key(b, "disk", false);
        LIT(b, "{");
        s_kstr(b, "id", d->id, true);
        s_knum(b, "provisioned_size", (int64_t)d->size_bytes, false);
        s_kstr(b, "format", d->format, false);
        LIT(b, "}}");
    }
    LIT(b, "]}");
    LIT(b, ",\"nics\":{\"nic\":[");
    for (int i = 0; i < vm->nnics && i < ENG_VM_MAX_NICS; i++) {
        const eng_nic_t *n = &vm->nics[i];
        evbuffer_add(b, i ? ",{" : "{", i ? 2 : 1);
        s_kstr(b, "name", n->name, true);
        s_kstr(b, "interface", n->model, false);
        LIT(b, ",\"mac\":{");
        s_kstr(b, "address", n->mac, true);
        LIT(b, "},\"network\":{");
        s_kstr(b, "name", n->network, true);
        LIT(b, "}}");
    }
    LIT(b, "]}");
    LIT(b, ",\"actions\":{\"link\":[");
    for (int a = 0; a < ENG_REST_ACT__LAST; a++)
        s_link(b, eng_rest_act_name((eng_rest_act_t)a), vm->id, a == 0);
    LIT(b, "]},\"link\":[");
    s_link(b, "statistics", vm->id, true);
    s_link(b, "nics", vm->id, false);
    s_link(b, "disk_attachments", vm->id, false);
    LIT(b, "]}");
    return 0;
}
