/* Host statistics (/proc, /sys, statvfs) and VM bulk statistics
 * (virConnectGetAllDomainStats). Sampling blocks: run agt_stats_sample() on
 * a worker, one call at a time per agt_stats_t. The /proc parsers work on
 * buffers so that tests need no files. */
#ifndef AGT_STATS_H
#define AGT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agt_virt.h"

typedef struct {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
} agt_cpu_times_t;

typedef struct {
    uint64_t total, free, available, buffers, cached, shmem, sreclaimable;
    uint64_t swap_total, swap_free;     /* all in bytes */
    bool has_available;
} agt_meminfo_t;

typedef struct {
    char name[64];
    uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
} agt_nic_stats_t;

typedef struct {
    char name[64];
    uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops;
} agt_disk_stats_t;

typedef struct {
    double cpu_user, cpu_system, cpu_idle;      /* percent since last sample */
    double load[3];
    uint64_t mem_total, mem_used, mem_free, mem_shared, mem_buffers, mem_cached;
    uint64_t swap_total, swap_used, swap_free;
    bool ksm_running;
    uint64_t ksm_pages_shared, ksm_pages_sharing;
    agt_nic_stats_t *nics;
    size_t nnics;
    bool has_storage;
    char storage_path[512];
    uint64_t storage_total, storage_free;
    unsigned vms_running;
} agt_host_stats_t;

typedef struct {
    char uuid[CMN_UUID_STRLEN + 1];
    char name[AGT_NAME_MAX];
    int state, reason;
    uint64_t cpu_time_ns;
    double cpu_usage;           /* percent of one host CPU since last sample */
    unsigned vcpus;
    uint64_t memory_kib, max_memory_kib, balloon_kib, rss_kib;
    agt_disk_stats_t *disks;
    size_t ndisks;
    agt_nic_stats_t *nics;
    size_t nnics;
} agt_vm_stats_t;

typedef struct {
    uint64_t timestamp_ms;
    agt_host_stats_t host;
    bool vms_ok;                /* false if libvirt could not be asked */
    agt_vm_stats_t *vms;
    size_t nvms;
} agt_sample_t;

typedef struct agt_stats agt_stats_t;

/* A sampler keeping the previous counters; `images_dir` is copied. */
agt_stats_t *agt_stats_new(const char *images_dir);
void agt_stats_destroy(agt_stats_t **p);

/* Take one sample into `out` (zeroed first). The host part never fails;
 * if libvirt fails, out->vms_ok is false and -1 is returned with the error
 * recorded. `virt` may be NULL (host part only). Clear with
 * agt_sample_clear() in every case. */
int agt_stats_sample(agt_stats_t *st, agt_virt_t *virt, agt_sample_t *out);
void agt_sample_clear(agt_sample_t *s);

/* Parsers. Each returns 0, or -1 with CMN_ERR_INVALID if the buffer does
 * not have the expected shape. */
int agt_stats_parse_cpu(const char *buf, agt_cpu_times_t *out);
/* Percentages of the time between two samples; all 0 if no time passed. */
void agt_stats_cpu_percent(const agt_cpu_times_t *prev, const agt_cpu_times_t *cur,
                           double *user, double *system, double *idle);
int agt_stats_parse_loadavg(const char *buf, double load[3]);
int agt_stats_parse_meminfo(const char *buf, agt_meminfo_t *out);
/* /proc/net/dev; *out is malloc'd (caller frees); "lo" is skipped. */
int agt_stats_parse_netdev(const char *buf, agt_nic_stats_t **out, size_t *n);

#endif /* AGT_STATS_H */
