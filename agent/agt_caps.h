/* The host's capabilities for Hello: CPU, NUMA, memory, versions, NICs,
 * KSM, kernel, OS, KVM. Collection blocks (libvirt, /proc, /sys): run it on
 * a worker. */
#ifndef AGT_CAPS_H
#define AGT_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agt_virt.h"

typedef struct {
    char name[64];
    char mac[32];
    unsigned speed_mbps;        /* 0 if unknown */
    bool up;
    unsigned mtu;
    char **addresses;           /* "addr/prefix", malloc'd */
    size_t naddresses;
} agt_nic_t;

typedef struct {
    char hostname[256];
    char cpu_model[128];
    char cpu_vendor[64];
    unsigned cpu_count, cpu_sockets, cpu_cores, cpu_threads, cpu_mhz;
    char **cpu_flags;           /* malloc'd array of malloc'd strings */
    size_t ncpu_flags;
    unsigned numa_nodes;
    uint64_t memory_bytes;
    char libvirt_version[32];   /* "9.0.0" */
    char hypervisor[32];        /* "QEMU" */
    char hypervisor_version[32];
    char libvirt_uri[512];
    agt_nic_t *nics;
    size_t nnics;
    bool ksm_running;
    uint64_t ksm_pages_shared;
    char kernel[128];
    char os_name[256];
    bool kvm;
    char images_dir[512];
    unsigned stats_interval;
    char host_uuid[64];
    char migration_uri[512];    /* filled by the link from agent.yaml */
} agt_caps_t;

/* Fill `out` (zeroed first). libvirt failures are recorded as an error and
 * returned as -1 but what could be read without libvirt is still filled;
 * release with agt_caps_clear() in every case. */
int agt_caps_collect(agt_virt_t *virt, unsigned stats_interval, agt_caps_t *out);

void agt_caps_clear(agt_caps_t *caps);

/* "9000000" style version number to "9.0.0". */
void agt_caps_version_str(unsigned long v, char *buf, size_t len);

/* Parsers over buffers, for tests. */
/* From /proc/cpuinfo: first model name, vendor_id, cpu MHz, flags, and the
 * number of "processor" lines. Missing fields stay as they are. */
void agt_caps_parse_cpuinfo(const char *buf, agt_caps_t *out);
/* MemTotal of /proc/meminfo in bytes into *bytes (unchanged if absent). */
void agt_caps_parse_meminfo_total(const char *buf, uint64_t *bytes);
/* PRETTY_NAME from /etc/os-release (quotes removed) into out. */
void agt_caps_parse_os_release(const char *buf, char *out, size_t len);
/* From virConnectGetCapabilities XML: host uuid, cpu model, vendor,
 * topology, NUMA cell count. Missing fields stay as they are. */
void agt_caps_parse_capabilities(const char *xml, agt_caps_t *out);

#endif /* AGT_CAPS_H */
