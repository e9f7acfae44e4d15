/* Validation, defaults and look-ups of user operations (eng_ops.c and
 * eng_ops_check.c). */
#include "eng_ops_priv.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmn_util.h"

#define MIB (UINT64_C(1) << 20)
#define TIB (UINT64_C(1) << 40)

/* ---- lookups ------------------------------------------------------------- */

int eng_ops_vm_find(eng_ctx_t *ctx, const char *ref, eng_vm_t *out)
{
    if (!ref || !*ref)
        return CMN_ERR(CMN_ERR_INVALID, "vm: no id given");
    if (cmn_uuid_valid(ref) && eng_store_vm_get(ctx->store, ref, out) == 0)
        return 0;
    cmn_err_reset();
    if (eng_store_vm_get_by_name(ctx->store, ref, out) == 0)
        return 0;
    cmn_err_reset();
    return CMN_ERR(CMN_ERR_NOT_FOUND, "vm: no VM with id or name '%s'", ref);
}

int eng_ops_host_find(eng_ctx_t *ctx, const char *ref, eng_host_t *out)
{
    if (!ref || !*ref)
        return CMN_ERR(CMN_ERR_INVALID, "host: no id given");
    if (cmn_uuid_valid(ref) && eng_store_host_get(ctx->store, ref, out) == 0)
        return 0;
    cmn_err_reset();
    if (eng_store_host_get_by_name(ctx->store, ref, out) == 0)
        return 0;
    cmn_err_reset();
    return CMN_ERR(CMN_ERR_NOT_FOUND, "host: no host with id or name '%s'",
                   ref);
}

/* ---- validation ---------------------------------------------------------- */

static bool s_ident_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool s_one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static bool s_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static int s_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "xx:xx:xx:xx:xx:xx", unicast, not all zero; lower-cased in place. */
static bool s_mac_ok(char *mac)
{
    if (strlen(mac) != 17)
        return false;
    bool zero = true;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (mac[i] != ':')
                return false;
            continue;
        }
        int v = s_hex(mac[i]);
        if (v < 0)
            return false;
        if (v)
            zero = false;
        if (mac[i] >= 'A' && mac[i] <= 'F')
            mac[i] = (char)(mac[i] + 32);
    }
    return !zero && (s_hex(mac[1]) & 1) == 0;
}

static void s_mac_generate(char out[18])
{
    uint8_t b[4];
    randombytes_buf(b, sizeof(b));
    snprintf(out, 18, "56:6f:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
}

static int s_validate_disks(eng_vm_t *vm)
{
    static const char *const ifaces[] = { "virtio", "sata", "ide", NULL };
    if (vm->ndisks < 0 || vm->ndisks > ENG_VM_MAX_DISKS)
        return CMN_ERR(CMN_ERR_INVALID, "disks: %d disks, at most %d",
                       vm->ndisks, ENG_VM_MAX_DISKS);
    bool boot = false;
    for (int i = 0; i < vm->ndisks; i++) {
        eng_disk_t *d = &vm->disks[i];
        if (!s_terminated(d->id, sizeof(d->id)) ||
            !s_terminated(d->interface, sizeof(d->interface)) ||
            !s_terminated(d->format, sizeof(d->format)) ||
            !s_terminated(d->path, sizeof(d->path)))
            return CMN_ERR(CMN_ERR_INVALID, "disks[%d]: a field is too long",
                           i);
        if (!d->id[0])
            cmn_uuid_generate(d->id);
        else if (!cmn_uuid_valid(d->id))
            return CMN_ERR(CMN_ERR_INVALID, "disks[%d].id: '%s' is not a UUID",
                           i, d->id);
        for (int j = 0; j < i; j++)
            if (strcasecmp(vm->disks[j].id, d->id) == 0)
                return CMN_ERR(CMN_ERR_INVALID, "disks[%d].id: duplicate %s",
                               i, d->id);
        if (d->size_bytes < MIB || d->size_bytes > 64 * TIB)
            return CMN_ERR(CMN_ERR_INVALID, "disks[%d].provisioned_size: %llu "
                           "bytes is outside 1 MiB..64 TiB", i,
                           (unsigned long long)d->size_bytes);
        if (!d->interface[0])
            snprintf(d->interface, sizeof(d->interface), "virtio");
        if (!s_one_of(d->interface, ifaces))
            return CMN_ERR(CMN_ERR_INVALID, "disks[%d].interface: '%s' is not "
                           "virtio, sata or ide", i, d->interface);
        if (!d->format[0])
            snprintf(d->format, sizeof(d->format), "cow");
        if (strcmp(d->format, "cow") != 0)
            return CMN_ERR(CMN_ERR_INVALID, "disks[%d].format: '%s' is not "
                           "supported (cow)", i, d->format);
        if (d->path[0] && !cmn_str_printable(d->path, sizeof(d->path) - 1,
                                             "'\"<>&"))
            return CMN_ERR(CMN_ERR_INVALID, "disks[%d].path: not a usable "
                           "path", i);
        boot = boot || d->bootable;
    }
    if (!boot && vm->ndisks > 0)
        vm->disks[0].bootable = true;
    return 0;
}

static int s_validate_nics(eng_vm_t *vm)
{
    static const char *const models[] = { "virtio", "e1000", "rtl8139", NULL };
    if (vm->nnics < 0 || vm->nnics > ENG_VM_MAX_NICS)
        return CMN_ERR(CMN_ERR_INVALID, "nics: %d NICs, at most %d",
                       vm->nnics, ENG_VM_MAX_NICS);
    for (int i = 0; i < vm->nnics; i++) {
        eng_nic_t *n = &vm->nics[i];
        if (!s_terminated(n->name, sizeof(n->name)) ||
            !s_terminated(n->mac, sizeof(n->mac)) ||
            !s_terminated(n->network, sizeof(n->network)) ||
            !s_terminated(n->bridge, sizeof(n->bridge)) ||
            !s_terminated(n->model, sizeof(n->model)))
            return CMN_ERR(CMN_ERR_INVALID, "nics[%d]: a field is too long", i);
        if (!n->name[0])
            snprintf(n->name, sizeof(n->name), "nic%d", i + 1);
        if (!s_ident_ok(n->name, sizeof(n->name) - 1))
            return CMN_ERR(CMN_ERR_INVALID, "nics[%d].name: '%s' must be "
                           "characters of A-Z a-z 0-9 . _ -", i, n->name);
        for (int j = 0; j < i; j++)
            if (strcmp(vm->nics[j].name, n->name) == 0)
                return CMN_ERR(CMN_ERR_INVALID, "nics[%d].name: duplicate "
                               "'%s'", i, n->name);
        if (!n->model[0])
            snprintf(n->model, sizeof(n->model), "virtio");
        if (!s_one_of(n->model, models))
            return CMN_ERR(CMN_ERR_INVALID, "nics[%d].interface: '%s' is not "
                           "virtio, e1000 or rtl8139", i, n->model);
        if (!n->mac[0])
            s_mac_generate(n->mac);
        else if (!s_mac_ok(n->mac))
            return CMN_ERR(CMN_ERR_INVALID, "nics[%d].mac: '%s' is not a "
                           "unicast MAC address", i, n->mac);
        if (n->network[0] && !s_ident_ok(n->network, sizeof(n->network) - 1))
            return CMN_ERR(CMN_ERR_INVALID, "nics[%d].network: '%s' must be "
                           "characters of A-Z a-z 0-9 . _ -", i, n->network);
        if (n->bridge[0] && !s_ident_ok(n->bridge, 15))
            return CMN_ERR(CMN_ERR_INVALID, "nics[%d].bridge: '%s' must be 1..15"
                           " characters of A-Z a-z 0-9 . _ -", i, n->bridge);
    }
    return 0;
}

/* Check `vm` and fill defaults. self_id: the VM being updated, or NULL. */
int eng_ops_validate(eng_ctx_t *ctx, eng_vm_t *vm, const char *self_id)
{
    static const char *const displays[] = { "vnc", "spice", "none", NULL };
    if (!s_terminated(vm->name, sizeof(vm->name)) ||
        !s_ident_ok(vm->name, 255))
        return CMN_ERR(CMN_ERR_INVALID, "name: must be 1..255 characters of "
                       "A-Z a-z 0-9 . _ -");
    if (!s_terminated(vm->description, sizeof(vm->description)))
        return CMN_ERR(CMN_ERR_INVALID, "description: longer than %d bytes",
                       ENG_DESC_LEN - 1);
    for (const char *p = vm->description; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
            return CMN_ERR(CMN_ERR_INVALID, "description: control characters"
                           " are not allowed");
    if (vm->memory_bytes < 16 * MIB || vm->memory_bytes > 16 * TIB)
        return CMN_ERR(CMN_ERR_INVALID, "memory: %llu bytes is outside "
                       "16 MiB..16 TiB", (unsigned long long)vm->memory_bytes);
    if (!vm->sockets)
        vm->sockets = 1;
    if (!vm->cores)
        vm->cores = 1;
    if (!vm->threads)
        vm->threads = 1;
    uint64_t vcpus = (uint64_t)vm->sockets * vm->cores * vm->threads;
    if (vm->sockets > 512 || vm->cores > 512 || vm->threads > 512 ||
        vcpus > 512)
        return CMN_ERR(CMN_ERR_INVALID, "cpu.topology: %llu vCPUs, must be "
                       "1..512", (unsigned long long)vcpus);
    if (!s_terminated(vm->cluster_id, sizeof(vm->cluster_id)) ||
        !s_terminated(vm->pinned_host_id, sizeof(vm->pinned_host_id)) ||
        !s_terminated(vm->display_type, sizeof(vm->display_type)))
        return CMN_ERR(CMN_ERR_INVALID, "vm: a field is too long");
    eng_cluster_t cl;
    const char *cref = vm->cluster_id[0] ? vm->cluster_id : "Default";
    if (!(cmn_uuid_valid(cref) &&
          eng_store_cluster_get(ctx->store, cref, &cl) == 0)) {
        cmn_err_reset();
        if (eng_store_cluster_get_by_name(ctx->store, cref, &cl) < 0) {
            cmn_err_reset();
            return CMN_ERR(CMN_ERR_INVALID, "cluster: no cluster '%s'", cref);
        }
    }
    snprintf(vm->cluster_id, sizeof(vm->cluster_id), "%s", cl.id);
    if (s_validate_disks(vm) < 0 || s_validate_nics(vm) < 0)
        return -1;
    if (!vm->display_type[0])
        snprintf(vm->display_type, sizeof(vm->display_type), "vnc");
    if (!s_one_of(vm->display_type, displays))
        return CMN_ERR(CMN_ERR_INVALID, "display.type: '%s' is not vnc, spice"
                       " or none", vm->display_type);
    if (vm->ha_priority < 0 || vm->ha_priority > 100)
        return CMN_ERR(CMN_ERR_INVALID, "high_availability.priority: %d is "
                       "outside 0..100", vm->ha_priority);
    if (vm->pinned_host_id[0]) {
        eng_host_t h = {0};
        if (eng_ops_host_find(ctx, vm->pinned_host_id, &h) < 0) {
            cmn_err_reset();
            return CMN_ERR(CMN_ERR_INVALID, "placement_policy.hosts: no host "
                           "'%s'", vm->pinned_host_id);
        }
        snprintf(vm->pinned_host_id, sizeof(vm->pinned_host_id), "%s", h.id);
        eng_host_clear(&h);
    }
    eng_vm_t other;
    if (eng_store_vm_get_by_name(ctx->store, vm->name, &other) == 0 &&
        (!self_id || strcmp(other.id, self_id) != 0))
        return CMN_ERR(CMN_ERR_EXISTS, "name: a VM named '%s' already exists",
                       vm->name);
    cmn_err_reset();
    return 0;
}

