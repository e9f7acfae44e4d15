/* Fuzz target: REST request bodies, paths and query strings. The first
 * byte picks the parser: below 0x80, byte % 7 (VM create, VM update, start,
 * ping, other actions, path routing, list search query); from 0x80,
 * 7 + byte % 5 (data center, cluster, user, permission + ticket, query
 * parameters max/from/async/search + the route's kind and action);
 * the rest is the body or path. A parsed VM is rendered back to JSON, which
 * must succeed, and its strings must be terminated within their fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "eng_rest_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_check_vm(const eng_rest_vm_body_t *b)
{
    const eng_vm_t *vm = &b->vm;
    if (memchr(vm->name, '\0', sizeof(vm->name)) == NULL ||
        memchr(vm->description, '\0', sizeof(vm->description)) == NULL ||
        memchr(vm->display_type, '\0', sizeof(vm->display_type)) == NULL ||
        memchr(b->cluster_name, '\0', sizeof(b->cluster_name)) == NULL ||
        memchr(b->host_name, '\0', sizeof(b->host_name)) == NULL ||
        vm->ndisks < 0 || vm->ndisks > ENG_VM_MAX_DISKS ||
        vm->nnics < 0 || vm->nnics > ENG_VM_MAX_NICS)
        abort();
    for (int i = 0; i < vm->ndisks; i++)
        if (memchr(vm->disks[i].interface, '\0',
                   sizeof(vm->disks[i].interface)) == NULL ||
            vm->disks[i].size_bytes == 0)
            abort();
    json_t *j = eng_rest_vm_json(vm);
    if (!j)
        abort();
    char *text = json_dumps(j, 0);
    if (!text)
        abort();
    free(text);
    json_decref(j);
}

/* Search fields of a fake object that is just a name. */
static const char *
s_get(const void *obj, const char *field, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    if (strcmp(field, "name") == 0)
        return obj;
    return strcmp(field, "status") == 0 ? "up" : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] < 0x80 ? data[0] % 7u : 7u + data[0] % 5u;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    cmn_err_reset();
    switch (mode) {
    case 0:
    case 1: {
        eng_rest_vm_body_t *b = malloc(sizeof(*b));
        if (!b)
            return 0;
        if (eng_rest_parse_vm(body, len, mode == 1, b) == 0)
            s_check_vm(b);
        else if (cmn_err_code() == CMN_OK)
            abort();        /* a failure must say why */
        free(b);
        break;
    }
    case 2: {
        char id[ENG_ID_LEN], name[ENG_NAME_LEN];
        if (eng_rest_parse_start(body, len, id, name) == 0 &&
            (!memchr(id, '\0', sizeof(id)) || !memchr(name, '\0', sizeof(name))))
            abort();
        break;
    }
    case 3: {
        unsigned count;
        if (eng_rest_parse_ping(body, len, &count) == 0 &&
            (count < 1 || count > ENG_REST_PING_MAX))
            abort();
        break;
    }
    case 4:
        (void)eng_rest_parse_action(body, len);
        break;
    case 6: {
        char *q = malloc(len + 1);
        if (!q)
            return 0;
        memcpy(q, body, len);
        q[len] = '\0';
        static const char *const known[] = { "name", "status", NULL };
        eng_search_t *sq = NULL;
        if (eng_rest_query_search(q, known, &sq) == 0 && sq) {
            static const char *const names[] = { "web1", "db" };
            const void *objs[] = { names[0], names[1] };
            eng_search_sort(sq, objs, 2, s_get);
            (void)eng_search_match(sq, names[0], s_get);
        }
        eng_search_destroy(&sq);
        free(q);
        break;
    }
    case 7: {
        eng_dc_t dc;
        memset(&dc, 0, sizeof(dc));
        if (eng_rest_parse_dc(body, len, len % 2, &dc) == 0 &&
            (!memchr(dc.name, '\0', sizeof(dc.name)) ||
             !memchr(dc.description, '\0', sizeof(dc.description))))
            abort();
        else if (cmn_err_code() == CMN_OK && !dc.name[0] && len % 2 == 0)
            abort();
        break;
    }
    case 8: {
        eng_cluster_t c;
        char ref[ENG_NAME_LEN];
        memset(&c, 0, sizeof(c));
        if (eng_rest_parse_cluster(body, len, len % 2, &c, ref) == 0 &&
            (!memchr(c.name, '\0', sizeof(c.name)) ||
             !memchr(c.cpu_type, '\0', sizeof(c.cpu_type)) ||
             !memchr(ref, '\0', ENG_NAME_LEN)))
            abort();
        break;
    }
    case 9: {
        char name[ENG_NAME_LEN], pw[1025];
        int role;
        if (eng_rest_parse_user(body, len, name, pw, sizeof(pw), &role) == 0 &&
            (!name[0] || !pw[0] || !strchr(name, '@') ||
             role >= ENG_ROLE__LAST))
            abort();
        break;
    }
    case 10: {
        int role;
        int64_t expiry;
        if (eng_rest_parse_perm(body, len, &role) == 0 &&
            (role < 0 || role >= ENG_ROLE__LAST))
            abort();
        cmn_err_reset();
        if (eng_rest_parse_ticket(body, len, &expiry) == 0 &&
            (expiry < 1 || expiry > ENG_REST_TICKET_MAX_S))
            abort();
        break;
    }
    case 11: {
        /* a query string, then (after a NUL or the end) a path */
        char *q = malloc(len + 1);
        if (!q)
            return 0;
        memcpy(q, body, len);
        q[len] = '\0';
        char v[64];
        int64_t max;
        int have = eng_rest_query_get(q, "async", v, sizeof(v));
        if (have == 1 && !memchr(v, '\0', sizeof(v)))
            abort();
        cmn_err_reset();
        if (eng_rest_query_max(q, 1000, 10, &max) == 0 &&
            (max < 1 || max > 1000))
            abort();
        cmn_err_reset();
        static const char *const known[] = { "name", "host", "cluster",
                                             "status", NULL };
        eng_search_t *sq = NULL;
        (void)eng_rest_query_search(q, known, &sq);
        eng_search_destroy(&sq);
        size_t ql = strlen(q);
        if (ql < len) {
            eng_route_t r;
            if (eng_rest_route(q + ql + 1, &r) == 0) {
                const char *k = eng_rest_route_kind(&r);
                const char *a = eng_rest_route_action(&r);
                if (!k || (a && !*a))
                    abort();
            }
        }
        free(q);
        break;
    }
    default: {
        char *path = malloc(len + 1);
        if (!path)
            return 0;
        memcpy(path, body, len);
        path[len] = '\0';
        eng_route_t r;
        if (eng_rest_route(path, &r) == 0 &&
            (r.kind <= ENG_ROUTE_NONE || r.kind >= ENG_ROUTE__LAST ||
             r.allowed == 0 || !memchr(r.id, '\0', sizeof(r.id))))
            abort();
        json_t *f = eng_rest_fault_json(cmn_err_code(), cmn_err_msg());
        if (!f)
            abort();
        json_decref(f);
        free(path);
        break;
    }
    }
    return 0;
}
