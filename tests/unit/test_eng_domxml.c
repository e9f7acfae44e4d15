/* Domain XML: what libvirt needs is there, strings are escaped, bad specs
 * are refused naming the field, and libvirt itself accepts the result
 * (virt-xml-validate against libvirt's schema, and a define on libvirt's
 * test driver through virsh, which parses it with libvirt's own parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cmn_util.h"
#include "eng_domxml.h"

static const eng_domxml_opts_t s_kvm = {
    .kvm = true, .firmware = "/usr/share/qemu/qboot.rom",
};

static void
base_vm(eng_vm_t *vm)
{
    memset(vm, 0, sizeof(*vm));
    snprintf(vm->id, sizeof(vm->id), "0b7d3a52-5f0e-4c55-9d1c-2f1e6c3b9a01");
    snprintf(vm->name, sizeof(vm->name), "demo");
    vm->memory_bytes = 64ULL << 20;
    vm->sockets = vm->cores = vm->threads = 1;
    snprintf(vm->display_type, sizeof(vm->display_type), "vnc");
}

static void
add_disk(eng_vm_t *vm, const char *bus, bool boot, const char *path)
{
    eng_disk_t *d = &vm->disks[vm->ndisks++];
    cmn_uuid_generate(d->id);
    snprintf(d->interface, sizeof(d->interface), "%s", bus);
    snprintf(d->format, sizeof(d->format), "cow");
    d->bootable = boot;
    d->size_bytes = 1 << 30;
    snprintf(d->path, sizeof(d->path), "%s", path);
}

static void
add_nic(eng_vm_t *vm, const char *net, const char *bridge, const char *mac,
        const char *model)
{
    eng_nic_t *n = &vm->nics[vm->nnics++];
    snprintf(n->name, sizeof(n->name), "nic%d", vm->nnics);
    snprintf(n->network, sizeof(n->network), "%s", net);
    snprintf(n->bridge, sizeof(n->bridge), "%s", bridge);
    snprintf(n->mac, sizeof(n->mac), "%s", mac);
    snprintf(n->model, sizeof(n->model), "%s", model);
}

/* A VM with every kind of device. */
static void
full_vm(eng_vm_t *vm)
{
    base_vm(vm);
    vm->sockets = 2;
    vm->cores = 3;
    vm->threads = 2;
    vm->memory_bytes = 2ULL << 30;
    add_disk(vm, "virtio", false, "/var/lib/herd-agent/images/a.qcow2");
    add_disk(vm, "virtio", true, "/var/lib/herd-agent/images/b.qcow2");
    add_disk(vm, "sata", false, "/var/lib/herd-agent/images/c.qcow2");
    add_disk(vm, "ide", false, "/var/lib/herd-agent/images/d.qcow2");
    add_nic(vm, "", "", "56:6f:00:11:22:33", "virtio");
    add_nic(vm, "default", "", "", "e1000");
    add_nic(vm, "default", "br0", "56:6f:00:11:22:35", "rtl8139");
}

static char *
build_ok(const eng_vm_t *vm, const eng_domxml_opts_t *o)
{
    cmn_err_reset();
    char *xml = eng_domxml_build(vm, o);
    if (xml == NULL)
        fail_msg("build: %s", cmn_err_msg());
    return xml;
}

static void
assert_has(const char *xml, const char *frag)
{
    if (strstr(xml, frag) == NULL)
        fail_msg("XML lacks \"%s\":\n%s", frag, xml);
}

static void
assert_lacks(const char *xml, const char *frag)
{
    if (strstr(xml, frag) != NULL)
        fail_msg("XML has \"%s\":\n%s", frag, xml);
}

/* Build fails with CMN_ERR_INVALID and a message holding `frag`. */
static void
assert_refused(const eng_vm_t *vm, const char *frag)
{
    cmn_err_reset();
    char *xml = eng_domxml_build(vm, &s_kvm);
    if (xml != NULL)
        fail_msg("built XML for a bad spec (wanted '%s'):\n%s", frag, xml);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    if (strstr(cmn_err_msg(), frag) == NULL)
        fail_msg("error '%s' lacks '%s'", cmn_err_msg(), frag);
}

/* Run argv, collecting stdout+stderr into out; returns the exit status, or
 * -1 if it did not exit normally. */
static int
run(char *const argv[], char *out, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(fds[0], out + used, size - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool
have(const char *prog)
{
    char out[256];
    char *argv[] = {"sh", "-c", NULL, NULL};
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "command -v %s", prog);
    argv[2] = cmd;
    return run(argv, out, sizeof(out)) == 0;
}

/* libvirt accepts `xml`: its schema validates it and its test driver
 * defines it; dominfo then shows `name` (so escaping round-trips). */
static void
assert_libvirt_accepts(const char *xml, const char *name)
{
    if (!have("virt-xml-validate") || !have("virsh"))
        skip();
    char path[] = "/tmp/test_eng_domxml.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
    close(fd);

    char out[8192];
    char *val[] = {"virt-xml-validate", path, "domain", NULL};
    int rc = run(val, out, sizeof(out));
    if (rc != 0) {
        unlink(path);
        fail_msg("virt-xml-validate exit %d: %s\n%s", rc, out, xml);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "define %s; dominfo 0b7d3a52-5f0e-4c55-9d1c-"
             "2f1e6c3b9a01", path);
    char *def[] = {"virsh", "-q", "-c", "test:///default", cmd, NULL};
    rc = run(def, out, sizeof(out));
    unlink(path);
    if (rc != 0)
        fail_msg("virsh define on test:///default exit %d: %s\n%s", rc, out,
                 xml);
    char want[300];
    snprintf(want, sizeof(want), "Name:           %s\n", name);
    if (strstr(out, want) == NULL)
        fail_msg("dominfo lacks '%s':\n%s", want, out);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_full_vm(void **state)
{
    (void)state;
    eng_vm_t vm;
    full_vm(&vm);
    char *xml = build_ok(&vm, &s_kvm);
    assert_has(xml, "<domain type='kvm'>");
    assert_has(xml, "<name>demo</name>");
    assert_has(xml, "<uuid>0b7d3a52-5f0e-4c55-9d1c-2f1e6c3b9a01</uuid>");
    assert_has(xml, "<memory unit='KiB'>2097152</memory>");
    assert_has(xml, "<vcpu placement='static'>12</vcpu>");
    assert_has(xml, "sockets='2'");
    assert_has(xml, "cores='3'");
    assert_has(xml, "threads='2'");
    assert_has(xml, "machine='pc'>hvm</type>");
    assert_has(xml, "<loader readonly='yes' type='rom'>"
                    "/usr/share/qemu/qboot.rom</loader>");
    assert_has(xml, "<acpi/>");
    assert_has(xml, "<on_poweroff>destroy</on_poweroff>");
    assert_has(xml, "<on_reboot>restart</on_reboot>");
    assert_has(xml, "<on_crash>destroy</on_crash>");
    assert_has(xml, "<driver name='qemu' type='qcow2'/>");
    assert_has(xml, "<source file='/var/lib/herd-agent/images/a.qcow2'/>\n"
                    "      <target dev='vda' bus='virtio'/>");
    assert_has(xml, "<source file='/var/lib/herd-agent/images/b.qcow2'/>\n"
                    "      <target dev='vdb' bus='virtio'/>");
    assert_has(xml, "<target dev='sda' bus='sata'/>");
    assert_has(xml, "<target dev='hda' bus='ide'/>");
    /* only the bootable disk has a boot order */
    const char *boot = strstr(xml, "<boot order='1'/>");
    assert_non_null(boot);
    assert_null(strstr(boot + 1, "<boot order="));
    assert_true(boot > strstr(xml, "dev='vdb'"));
    assert_true(boot < strstr(xml, "dev='sda'"));
    assert_has(xml, "<interface type='user'>\n"
                    "      <mac address='56:6f:00:11:22:33'/>\n"
                    "      <model type='virtio'/>");
    assert_has(xml, "<interface type='network'>\n"
                    "      <source network='default'/>\n"
                    "      <model type='e1000'/>");
    /* a bridge wins over a network */
    assert_has(xml, "<interface type='bridge'>\n"
                    "      <source bridge='br0'/>\n"
                    "      <mac address='56:6f:00:11:22:35'/>");
    assert_has(xml, "<graphics type='vnc' autoport='yes' listen='127.0.0.1'");
    /* locked until a console ticket (expired random password) */
    assert_has(xml, "passwdValidTo='1970-01-01T00:00:01'>");
    assert_has(xml, "<serial type='pty'>");
    assert_has(xml, "<console type='pty'>");
    assert_has(xml, "<memballoon model='virtio'/>");
    assert_has(xml, "<herd:id>0b7d3a52-5f0e-4c55-9d1c-2f1e6c3b9a01</herd:id>");
    assert_has(xml, "xmlns:herd=");
    assert_lacks(xml, "<emulator>");
    assert_libvirt_accepts(xml, "demo");
    free(xml);
}

static void
test_options(void **state)
{
    (void)state;
    eng_vm_t vm;
    base_vm(&vm);
    vm.memory_bytes = (1ULL << 20) + 1;     /* rounds up to whole KiB */
    snprintf(vm.display_type, sizeof(vm.display_type), "spice");
    eng_domxml_opts_t o = {.kvm = false, .machine = "q35",
                           .emulator = "/usr/bin/qemu-system-x86_64"};
    char *xml = build_ok(&vm, &o);
    assert_has(xml, "<domain type='qemu'>");
    assert_has(xml, "machine='q35'>hvm</type>");
    assert_has(xml, "<memory unit='KiB'>1025</memory>");
    assert_has(xml, "<emulator>/usr/bin/qemu-system-x86_64</emulator>");
    assert_has(xml, "<graphics type='spice' autoport='yes'");
    assert_lacks(xml, "<loader");
    assert_lacks(xml, "<disk");
    assert_lacks(xml, "<interface");
    assert_libvirt_accepts(xml, "demo");
    free(xml);

    /* no options at all; an empty firmware means the default BIOS */
    snprintf(vm.display_type, sizeof(vm.display_type), "none");
    xml = build_ok(&vm, NULL);
    assert_has(xml, "<domain type='qemu'>");
    assert_has(xml, "machine='pc'");
    assert_lacks(xml, "<graphics");
    assert_lacks(xml, "<loader");
    free(xml);
    o = (eng_domxml_opts_t){.kvm = true, .firmware = ""};
    xml = build_ok(&vm, &o);
    assert_lacks(xml, "<loader");
    free(xml);

    /* an empty display type means VNC */
    vm.display_type[0] = '\0';
    xml = build_ok(&vm, &s_kvm);
    assert_has(xml, "<graphics type='vnc'");
    free(xml);
}

static void
test_escaping(void **state)
{
    (void)state;
    eng_vm_t vm;
    base_vm(&vm);
    snprintf(vm.name, sizeof(vm.name), "a<b&\"c");
    snprintf(vm.description, sizeof(vm.description),
             "</description><evil attr='x'/> & more\nline 2 \xc3\xa9");
    add_disk(&vm, "virtio", true, "/img/it's <here> & \"there\".qcow2");
    add_nic(&vm, "net'<0>", "", "", "");
    char *xml = build_ok(&vm, &s_kvm);
    assert_has(xml, "<name>a&lt;b&amp;&quot;c</name>");
    assert_has(xml, "&lt;/description&gt;&lt;evil attr=&apos;x&apos;/&gt; "
                    "&amp; more\nline 2 \xc3\xa9</description>");
    assert_has(xml, "<source file='/img/it&apos;s &lt;here&gt; &amp; "
                    "&quot;there&quot;.qcow2'/>");
    assert_has(xml, "<source network='net&apos;&lt;0&gt;'/>");
    assert_lacks(xml, "a<b");
    assert_lacks(xml, "<evil");
    assert_libvirt_accepts(xml, "a<b&\"c");
    free(xml);
}

static void
test_refused(void **state)
{
    (void)state;
    eng_vm_t vm;

    cmn_err_reset();
    assert_null(eng_domxml_build(NULL, &s_kvm));
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);

    base_vm(&vm);
    add_disk(&vm, "virtio", true, "/img/a.qcow2");
    add_disk(&vm, "virtio", false, "");
    assert_refused(&vm, "disk 2");
    vm.disks[1].path[0] = 'x';
    assert_refused(&vm, "not absolute");

    base_vm(&vm);
    add_disk(&vm, "scsi", true, "/img/a.qcow2");
    assert_refused(&vm, "interface 'scsi'");
    base_vm(&vm);
    add_disk(&vm, "virtio", true, "/img/a.qcow2");
    snprintf(vm.disks[0].format, sizeof(vm.disks[0].format), "vmdk");
    assert_refused(&vm, "format 'vmdk'");
    base_vm(&vm);
    for (int i = 0; i < 5; i++)
        add_disk(&vm, "ide", false, "/img/a.qcow2");
    assert_refused(&vm, "ide");

    base_vm(&vm);
    vm.memory_bytes = 0;
    assert_refused(&vm, "memory");
    vm.memory_bytes = UINT64_MAX;
    assert_refused(&vm, "memory");

    base_vm(&vm);
    vm.cores = 0;
    assert_refused(&vm, "topology");
    vm.cores = 100000;
    assert_refused(&vm, "vCPUs");
    vm.cores = 64;
    vm.sockets = 64;
    vm.threads = 64;
    assert_refused(&vm, "vCPUs");

    base_vm(&vm);
    snprintf(vm.id, sizeof(vm.id), "not-a-uuid");
    assert_refused(&vm, "not a UUID");
    base_vm(&vm);
    vm.name[0] = '\0';
    assert_refused(&vm, "no name");
    snprintf(vm.name, sizeof(vm.name), "a/b");
    assert_refused(&vm, "'/'");
    snprintf(vm.name, sizeof(vm.name), "bell\a");
    assert_refused(&vm, "name");
    snprintf(vm.name, sizeof(vm.name), "bad\xff\xfe");
    assert_refused(&vm, "UTF-8");
    base_vm(&vm);
    snprintf(vm.description, sizeof(vm.description), "\xed\xa0\x80");
    assert_refused(&vm, "description");   /* a UTF-16 surrogate */

    base_vm(&vm);
    add_nic(&vm, "", "", "56:6f:00:11:22", "virtio");
    assert_refused(&vm, "mac");
    base_vm(&vm);
    add_nic(&vm, "", "", "57:6f:00:11:22:33", "virtio");  /* multicast */
    assert_refused(&vm, "mac");
    base_vm(&vm);
    add_nic(&vm, "", "", "56:6f:00:11:22:3g", "virtio");
    assert_refused(&vm, "mac");
    base_vm(&vm);
    add_nic(&vm, "", "br'0", "", "virtio");
    assert_refused(&vm, "bridge");
    base_vm(&vm);
    add_nic(&vm, "", "bridge-name-too-long", "", "virtio");
    assert_refused(&vm, "bridge");
    base_vm(&vm);
    add_nic(&vm, "a/b", "", "", "virtio");
    assert_refused(&vm, "network");
    base_vm(&vm);
    add_nic(&vm, "", "", "", "ne2k'");
    assert_refused(&vm, "model");

    base_vm(&vm);
    snprintf(vm.display_type, sizeof(vm.display_type), "rdp");
    assert_refused(&vm, "display type 'rdp'");
    base_vm(&vm);
    vm.ndisks = ENG_VM_MAX_DISKS + 1;
    assert_refused(&vm, "disks");
    base_vm(&vm);
    vm.nnics = -1;
    assert_refused(&vm, "nics");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_vm),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
