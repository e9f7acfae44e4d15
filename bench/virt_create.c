/* virt_create: raw virDomainCreateXML on a libvirt, the baseline for a VM
 * start through the engine.
 *
 *   virt_create URI DISK.qcow2 [--count N] [--type kvm|qemu]
 *
 * Creates a transient 64 MiB, 1-vCPU qboot domain on DISK N times (each
 * destroyed before the next) and prints min, median and max of the time
 * virDomainCreateXML takes to return (the domain is running then). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libvirt/libvirt.h>

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s URI DISK.qcow2 [--count N] [--type kvm|qemu]\n",
                argv[0]);
        return 2;
    }
    const char *uri = argv[1], *disk = argv[2], *type = "kvm";
    int count = 10;
    for (int i = 3; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            count = (int)strtol(argv[++i], &end, 10);
            if (*end || count < 1 || count > 10000) {
                fprintf(stderr, "bad --count\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            type = argv[++i];
        } else {
            fprintf(stderr, "unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        fprintf(stderr, "cannot open %s\n", uri);
        return 1;
    }
    char xml[2048];
    snprintf(xml, sizeof(xml),
             "<domain type='%s'><name>bench-raw-create</name>"
             "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64' machine='pc'>hvm</type>"
             "<loader readonly='yes' type='rom'>/usr/share/qemu/qboot.rom</loader></os>"
             "<devices><disk type='file' device='disk'>"
             "<driver name='qemu' type='qcow2'/><source file='%s'/>"
             "<target dev='vda' bus='virtio'/></disk>"
             "<interface type='user'><model type='virtio'/></interface>"
             "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>"
             "</devices></domain>", type, disk);
    uint64_t *t = calloc((size_t)count, sizeof(*t));
    if (!t)
        return 1;
    for (int i = 0; i < count; i++) {
        uint64_t t0 = now_us();
        virDomainPtr d = virDomainCreateXML(conn, xml, 0);
        t[i] = now_us() - t0;
        if (!d) {
            fprintf(stderr, "virDomainCreateXML failed\n");
            virConnectClose(conn);
            return 1;
        }
        virDomainDestroy(d);
        virDomainFree(d);
    }
    qsort(t, (size_t)count, sizeof(*t), cmp_u64);
    printf("raw virDomainCreateXML (%s, 64 MiB, qboot), %d runs: "
           "min %.0f ms, median %.0f ms, max %.0f ms\n", type, count,
           t[0] / 1000.0, t[count / 2] / 1000.0, t[count - 1] / 1000.0);
    free(t);
    virConnectClose(conn);
    return 0;
}
