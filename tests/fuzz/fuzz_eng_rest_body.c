/* Fuzz target: REST request bodies and paths. The first byte picks the
 * parser (VM create, VM update, start, ping, other actions, path routing,
 * list search query);
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
    unsigned mode = data[0] % 7;
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
