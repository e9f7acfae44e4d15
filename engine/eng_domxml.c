/* libvirt domain XML from a VM spec. Everything the XML holds is checked
 * first, so a bad spec is an error naming the field, never XML that libvirt
 * rejects with a less helpful message (or, worse, accepts differently). */
#include "eng_domxml.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("engine.domxml");

/* The namespace of Herd's <metadata> element: a domain holding
 * <herd:vm xmlns:herd=ENG_DOMXML_NS><herd:id>UUID</herd:id></herd:vm> was
 * defined by Herd. */
#define ENG_DOMXML_NS "https://herd.dev/xmlns/libvirt/vm/1.0"

#define MIN_MEMORY (1ULL << 20)             /* 1 MiB */
#define MAX_MEMORY (16ULL << 40)            /* 16 TiB */
#define MAX_VCPUS 4096

/* ---- checks ---------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s, or 0 if it is not valid UTF-8 or is a
 * character XML 1.0 cannot carry (C0 controls but tab, LF and CR). */
static size_t
xml_char_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    size_t n;
    unsigned cp;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp == 0xfffe || cp == 0xffff)
        return 0;
    return n;
}

/* 0 if `s` can be written into XML; else CMN_ERR_INVALID naming `what`. */
static int
check_text(const eng_vm_t *vm, const char *what, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        size_t n = xml_char_len(p);
        if (n == 0)
            return CMN_ERR(CMN_ERR_INVALID,
                           "vm '%.64s': %s holds a control character or is "
                           "not valid UTF-8 (at byte %zu)", vm->name, what,
                           (size_t)(p - (const unsigned char *)s));
        p += n;
    }
    return 0;
}

static bool
one_of(const char *s, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool
mac_valid(const char *mac)
{
    if (strlen(mac) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
            return false;
    }
    /* a unicast address: the low bit of the first octet is 0 */
    unsigned first = (unsigned)strtoul(mac, NULL, 16);
    return (first & 1) == 0;
}

static const char *const s_buses[] = {"virtio", "sata", "ide", NULL};
static const char *const s_models[] = {"virtio", "e1000", "e1000e", "rtl8139",
                                       NULL};

static int
check_disk(const eng_vm_t *vm, int i)
{
    const eng_disk_t *d = &vm->disks[i];
    char what[64];
    if (d->path[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': disk %d (%.40s) has no "
                       "path yet", vm->name, i + 1, d->id);
    if (d->path[0] != '/')
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': disk %d path '%.200s' is "
                       "not absolute", vm->name, i + 1, d->path);
    snprintf(what, sizeof(what), "disk %d path", i + 1);
    if (check_text(vm, what, d->path) < 0)
        return -1;
    if (d->interface[0] != '\0' && !one_of(d->interface, s_buses))
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': disk %d interface "
                       "'%.16s' is not virtio, sata or ide", vm->name, i + 1,
                       d->interface);
    if (d->format[0] != '\0' && strcmp(d->format, "cow") != 0 &&
        strcmp(d->format, "raw") != 0)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': disk %d format '%.8s' is "
                       "not cow or raw", vm->name, i + 1, d->format);
    return 0;
}

static int
check_nic(const eng_vm_t *vm, int i)
{
    const eng_nic_t *n = &vm->nics[i];
    char what[64];
    if (n->mac[0] != '\0' && !mac_valid(n->mac))
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': nic %d mac '%.18s' is not "
                       "a unicast MAC address (xx:xx:xx:xx:xx:xx)", vm->name,
                       i + 1, n->mac);
    if (n->model[0] != '\0' && !one_of(n->model, s_models))
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': nic %d model '%.16s' is "
                       "not virtio, e1000, e1000e or rtl8139", vm->name, i + 1,
                       n->model);
    snprintf(what, sizeof(what), "nic %d network", i + 1);
    if (check_text(vm, what, n->network) < 0)
        return -1;
    if (strchr(n->network, '/') != NULL)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': nic %d network '%.64s' "
                       "may not contain '/'", vm->name, i + 1, n->network);
    /* a Linux interface name, as libvirt's schema (deviceName) wants it */
    size_t blen = strlen(n->bridge);
    if (blen > 15 ||
        strspn(n->bridge, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789_.-") != blen)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': nic %d bridge '%.64s' is "
                       "not an interface name (at most 15 of A-Z a-z 0-9 _ . -)",
                       vm->name, i + 1, n->bridge);
    return 0;
}

static int
check_vm(const eng_vm_t *vm, const eng_domxml_opts_t *opts)
{
    if (vm->name[0] == '\0')
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.40s' has no name", vm->id);
    if (check_text(vm, "name", vm->name) < 0)
        return -1;
    /* libvirt refuses '/' and newlines in domain names */
    if (strpbrk(vm->name, "/\n\r\t") != NULL)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': name may not contain '/' "
                       "or line breaks", vm->name);
    if (!cmn_uuid_valid(vm->id))
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': id '%.40s' is not a UUID",
                       vm->name, vm->id);
    if (check_text(vm, "description", vm->description) < 0)
        return -1;
    if (vm->memory_bytes < MIN_MEMORY || vm->memory_bytes > MAX_MEMORY)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': memory %llu bytes is "
                       "outside 1 MiB .. 16 TiB", vm->name,
                       (unsigned long long)vm->memory_bytes);
    if (vm->sockets < 1 || vm->cores < 1 || vm->threads < 1)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': CPU topology %u/%u/%u "
                       "(sockets/cores/threads) needs at least 1 of each",
                       vm->name, vm->sockets, vm->cores, vm->threads);
    uint64_t vcpus = (uint64_t)vm->sockets * vm->cores * vm->threads;
    if (vm->sockets > MAX_VCPUS || vm->cores > MAX_VCPUS ||
        vm->threads > MAX_VCPUS || vcpus > MAX_VCPUS)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': %u*%u*%u vCPUs is more "
                       "than %d", vm->name, vm->sockets, vm->cores,
                       vm->threads, MAX_VCPUS);
    if (vm->ndisks < 0 || vm->ndisks > ENG_VM_MAX_DISKS)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': %d disks (0 .. %d)",
                       vm->name, vm->ndisks, ENG_VM_MAX_DISKS);
    if (vm->nnics < 0 || vm->nnics > ENG_VM_MAX_NICS)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': %d nics (0 .. %d)",
                       vm->name, vm->nnics, ENG_VM_MAX_NICS);
    int nide = 0;
    for (int i = 0; i < vm->ndisks; i++) {
        if (check_disk(vm, i) < 0)
            return -1;
        if (strcmp(vm->disks[i].interface, "ide") == 0 && ++nide > 4)
            return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': more than 4 ide "
                           "disks", vm->name);
    }
    for (int i = 0; i < vm->nnics; i++)
        if (check_nic(vm, i) < 0)
            return -1;
    const char *dt = vm->display_type;
    if (dt[0] != '\0' && strcmp(dt, "vnc") != 0 && strcmp(dt, "spice") != 0 &&
        strcmp(dt, "none") != 0)
        return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': display type '%.8s' is "
                       "not vnc, spice or none", vm->name, dt);
    if (opts != NULL) {
        if (opts->firmware != NULL &&
            check_text(vm, "firmware path", opts->firmware) < 0)
            return -1;
        if (opts->machine != NULL &&
            (opts->machine[0] == '\0' ||
             check_text(vm, "machine type", opts->machine) < 0))
            return CMN_ERR(CMN_ERR_INVALID, "vm '%.64s': bad machine type",
                           vm->name);
        if (opts->emulator != NULL &&
            check_text(vm, "emulator path", opts->emulator) < 0)
            return -1;
    }
    return 0;
}

/* ---- writing --------------------------------------------------------------- */

/* Write `s` XML-escaped (already checked by check_text). */
static void
put_esc(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

static void
put_disk(FILE *f, const eng_disk_t *d, int *counts, int *boot)
{
    /* counts: next letter for virtio, sata, ide */
    const char *bus = d->interface[0] ? d->interface : "virtio";
    int b = strcmp(bus, "sata") == 0 ? 1 : strcmp(bus, "ide") == 0 ? 2 : 0;
    static const char *const prefix[] = {"vd", "sd", "hd"};
    const char *format = strcmp(d->format, "raw") == 0 ? "raw" : "qcow2";

    fputs("    <disk type='file' device='disk'>\n", f);
    fprintf(f, "      <driver name='qemu' type='%s'/>\n", format);
    fputs("      <source file='", f);
    put_esc(f, d->path);
    fputs("'/>\n", f);
    fprintf(f, "      <target dev='%s%c' bus='%s'/>\n", prefix[b],
            'a' + counts[b]++, bus);
    if (d->id[0] != '\0') {
        fputs("      <serial>", f);
        /* serials are at most 20 characters for virtio-blk */
        char serial[21];
        snprintf(serial, sizeof(serial), "%s", d->id);
        put_esc(f, serial);
        fputs("</serial>\n", f);
    }
    if (d->bootable)
        fprintf(f, "      <boot order='%d'/>\n", ++*boot);
    fputs("    </disk>\n", f);
}

static void
put_nic(FILE *f, const eng_nic_t *n)
{
    if (n->bridge[0] != '\0') {
        fputs("    <interface type='bridge'>\n      <source bridge='", f);
        put_esc(f, n->bridge);
        fputs("'/>\n", f);
    } else if (n->network[0] != '\0') {
        fputs("    <interface type='network'>\n      <source network='", f);
        put_esc(f, n->network);
        fputs("'/>\n", f);
    } else {
        fputs("    <interface type='user'>\n", f);
    }
    if (n->mac[0] != '\0')
        fprintf(f, "      <mac address='%s'/>\n", n->mac);
    fprintf(f, "      <model type='%s'/>\n",
            n->model[0] != '\0' ? n->model : "virtio");
    fputs("    </interface>\n", f);
}

/* A VNC console starts with a random password that has already expired,
 * as oVirt does: QEMU then enables password authentication, the console
 * is locked, and a ticket (REST /vms/{id}/ticket) opens it for a while.
 * Without a password at start QEMU refuses to set one later. */
static void
put_graphics(FILE *f, const char *type)
{
    char pw[CMN_UUID_STRLEN + 1];
    cmn_uuid_generate(pw);
    pw[8] = '\0';
    bool vnc = strcmp(type, "vnc") == 0;
    fprintf(f, "    <graphics type='%s' autoport='yes' listen='127.0.0.1'%s%s%s>\n"
               "      <listen type='address' address='127.0.0.1'/>\n"
               "    </graphics>\n", type, vnc ? " passwd='" : "",
            vnc ? pw : "", vnc ? "' passwdValidTo='1970-01-01T00:00:01'" : "");
}

char *
eng_domxml_build(const eng_vm_t *vm, const eng_domxml_opts_t *opts)
{
    if (vm == NULL) {
        CMN_ERR(CMN_ERR_INVALID, "no VM given for the domain XML");
        return NULL;
    }
    if (check_vm(vm, opts) < 0)
        return NULL;
    eng_domxml_opts_t o = {0};
    if (opts != NULL)
        o = *opts;

    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);
    if (f == NULL) {
        CMN_ERR_ERRNO(CMN_ERR_NOMEM, "vm '%.64s': building domain XML",
                      vm->name);
        return NULL;
    }
    unsigned long long kib = (vm->memory_bytes + 1023) / 1024;
    uint64_t vcpus = (uint64_t)vm->sockets * vm->cores * vm->threads;

    fprintf(f, "<domain type='%s'>\n", o.kvm ? "kvm" : "qemu");
    fputs("  <name>", f);
    put_esc(f, vm->name);
    fprintf(f, "</name>\n  <uuid>%s</uuid>\n", vm->id);
    if (vm->description[0] != '\0') {
        fputs("  <description>", f);
        put_esc(f, vm->description);
        fputs("</description>\n", f);
    }
    fprintf(f, "  <metadata>\n"
               "    <herd:vm xmlns:herd='%s'>\n"
               "      <herd:id>%s</herd:id>\n"
               "    </herd:vm>\n"
               "  </metadata>\n", ENG_DOMXML_NS, vm->id);
    fprintf(f, "  <memory unit='KiB'>%llu</memory>\n"
               "  <currentMemory unit='KiB'>%llu</currentMemory>\n"
               "  <vcpu placement='static'>%llu</vcpu>\n", kib, kib,
            (unsigned long long)vcpus);
    fputs("  <os>\n    <type arch='x86_64' machine='", f);
    put_esc(f, o.machine != NULL ? o.machine : "pc");
    fputs("'>hvm</type>\n", f);
    if (o.firmware != NULL && o.firmware[0] != '\0') {
        fputs("    <loader readonly='yes' type='rom'>", f);
        put_esc(f, o.firmware);
        fputs("</loader>\n", f);
    }
    fputs("  </os>\n  <features>\n    <acpi/>\n  </features>\n", f);
    fprintf(f, "  <cpu>\n    <topology sockets='%u' dies='1' cores='%u' "
               "threads='%u'/>\n  </cpu>\n", vm->sockets, vm->cores,
            vm->threads);
    fputs("  <clock offset='utc'/>\n"
          "  <on_poweroff>destroy</on_poweroff>\n"
          "  <on_reboot>restart</on_reboot>\n"
          "  <on_crash>destroy</on_crash>\n"
          "  <devices>\n", f);
    if (o.emulator != NULL && o.emulator[0] != '\0') {
        fputs("    <emulator>", f);
        put_esc(f, o.emulator);
        fputs("</emulator>\n", f);
    }
    int counts[3] = {0, 0, 0}, boot = 0;
    for (int i = 0; i < vm->ndisks; i++)
        put_disk(f, &vm->disks[i], counts, &boot);
    for (int i = 0; i < vm->nnics; i++)
        put_nic(f, &vm->nics[i]);
    if (strcmp(vm->display_type, "spice") == 0)
        put_graphics(f, "spice");
    else if (strcmp(vm->display_type, "none") != 0)
        put_graphics(f, "vnc");
    fputs("    <serial type='pty'>\n"
          "      <target port='0'/>\n"
          "    </serial>\n"
          "    <console type='pty'>\n"
          "      <target type='serial' port='0'/>\n"
          "    </console>\n"
          "    <memballoon model='virtio'/>\n"
          "  </devices>\n"
          "</domain>\n", f);

    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed || xml == NULL) {
        free(xml);
        CMN_ERR(CMN_ERR_NOMEM, "vm '%.64s': out of memory building domain "
                "XML", vm->name);
        return NULL;
    }
    return xml;
}
