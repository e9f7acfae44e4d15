/* Host statistics parsers over /proc contents given as strings, capability
 * parsers, and a real sample of this machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agt_caps.h"
#include "agt_stats.h"
#include "cmn_err.h"
#include "cmn_log.h"

static const char s_stat1[] =
    "cpu  100 20 50 800 30 0 0 0 0 0\n"
    "cpu0 50 10 25 400 15 0 0 0 0 0\n"
    "intr 12345\n";
static const char s_stat2[] =
    "cpu  160 40 70 960 40 10 10 0 0 0\n"
    "cpu0 80 20 35 480 20 5 5 0 0 0\n";

static void
test_cpu_percent_since_previous(void **state)
{
    (void)state;
    agt_cpu_times_t a, b;
    assert_int_equal(agt_stats_parse_cpu(s_stat1, &a), 0);
    assert_int_equal(agt_stats_parse_cpu(s_stat2, &b), 0);
    assert_int_equal(a.user, 100);
    assert_int_equal(a.idle, 800);
    assert_int_equal(b.softirq, 10);
    double u, s, i;
    agt_stats_cpu_percent(&a, &b, &u, &s, &i);
    /* deltas: user+nice 80, system+irq+softirq 40, idle+iowait 170 */
    assert_float_equal(u, 100.0 * 80 / 290, 0.01);
    assert_float_equal(s, 100.0 * 40 / 290, 0.01);
    assert_float_equal(i, 100.0 * 170 / 290, 0.01);
    /* No time passed: zeros, no division by zero. */
    agt_stats_cpu_percent(&b, &b, &u, &s, &i);
    assert_float_equal(u + s + i, 0.0, 0.0001);
    /* Counters going backwards (a reset) never give negative figures. */
    agt_stats_cpu_percent(&b, &a, &u, &s, &i);
    assert_true(u >= 0 && s >= 0 && i >= 0);
}

static void
test_cpu_bad_input(void **state)
{
    (void)state;
    agt_cpu_times_t a;
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_cpu("intr 1\n", &a), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_cpu("cpu  1 2\n", &a), -1);
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_cpu("cpu  x y z w\n", &a), -1);
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_cpu("", &a), -1);
}

static void
test_loadavg(void **state)
{
    (void)state;
    double l[3];
    assert_int_equal(agt_stats_parse_loadavg("0.52 1.25 12.00 2/345 6789\n", l), 0);
    assert_float_equal(l[0], 0.52, 1e-9);
    assert_float_equal(l[1], 1.25, 1e-9);
    assert_float_equal(l[2], 12.0, 1e-9);
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_loadavg("0.5 oops", l), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
}

static void
test_meminfo(void **state)
{
    (void)state;
    static const char mi[] =
        "MemTotal:        8000000 kB\n"
        "MemFree:         1000000 kB\n"
        "MemAvailable:    5000000 kB\n"
        "Buffers:          200000 kB\n"
        "Cached:          3000000 kB\n"
        "SwapCached:            0 kB\n"
        "Shmem:             50000 kB\n"
        "SReclaimable:     100000 kB\n"
        "SwapTotal:       2000000 kB\n"
        "SwapFree:        1500000 kB\n"
        "HugePages_Total:       0\n";
    agt_meminfo_t m;
    assert_int_equal(agt_stats_parse_meminfo(mi, &m), 0);
    assert_int_equal(m.total, 8000000ULL * 1024);
    assert_int_equal(m.free, 1000000ULL * 1024);
    assert_true(m.has_available);
    assert_int_equal(m.available, 5000000ULL * 1024);
    assert_int_equal(m.buffers, 200000ULL * 1024);
    assert_int_equal(m.cached, 3000000ULL * 1024);   /* not SwapCached */
    assert_int_equal(m.shmem, 50000ULL * 1024);
    assert_int_equal(m.swap_total, 2000000ULL * 1024);
    assert_int_equal(m.swap_free, 1500000ULL * 1024);
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_meminfo("MemFree: 1 kB\n", &m), -1);
    assert_non_null(strstr(cmn_err_msg(), "MemTotal"));
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_meminfo("MemTotal: lots\n", &m), -1);
}

static void
test_netdev(void **state)
{
    (void)state;
    static const char nd[] =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
        "    lo:  123456     100    0    0    0     0          0         0   123456     100    0    0    0     0       0          0\n"
        "  eth0: 9876543   54321    1    2    0     0          0         0  1234567   4321    3    4    0     0       0          0\n"
        "vnet12:1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n";
    agt_nic_stats_t *n = NULL;
    size_t cnt = 0;
    assert_int_equal(agt_stats_parse_netdev(nd, &n, &cnt), 0);
    assert_int_equal(cnt, 2);   /* lo skipped */
    assert_string_equal(n[0].name, "eth0");
    assert_int_equal(n[0].rx_bytes, 9876543);
    assert_int_equal(n[0].rx_packets, 54321);
    assert_int_equal(n[0].rx_errors, 1);
    assert_int_equal(n[0].rx_dropped, 2);
    assert_int_equal(n[0].tx_bytes, 1234567);
    assert_int_equal(n[0].tx_packets, 4321);
    assert_int_equal(n[0].tx_errors, 3);
    assert_int_equal(n[0].tx_dropped, 4);
    assert_string_equal(n[1].name, "vnet12");
    assert_int_equal(n[1].tx_bytes, 2000);
    free(n);
    cmn_err_reset();
    assert_int_equal(agt_stats_parse_netdev("eth0: 1 2 3\n", &n, &cnt), -1);
    assert_non_null(strstr(cmn_err_msg(), "eth0"));
    assert_null(n);
}

static void
test_cpuinfo_and_os_release(void **state)
{
    (void)state;
    static const char ci[] =
        "processor\t: 0\n"
        "vendor_id\t: GenuineIntel\n"
        "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n"
        "cpu MHz\t\t: 2399.998\n"
        "flags\t\t: fpu vme de pse vmx\n"
        "\n"
        "processor\t: 1\n"
        "vendor_id\t: GenuineIntel\n"
        "flags\t\t: fpu other\n";
    agt_caps_t c;
    memset(&c, 0, sizeof(c));
    agt_caps_parse_cpuinfo(ci, &c);
    assert_int_equal(c.cpu_count, 2);
    assert_string_equal(c.cpu_vendor, "GenuineIntel");
    assert_string_equal(c.cpu_model, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
    assert_int_equal(c.cpu_mhz, 2400);
    assert_int_equal(c.ncpu_flags, 5);
    assert_string_equal(c.cpu_flags[0], "fpu");
    assert_string_equal(c.cpu_flags[4], "vmx");
    agt_caps_clear(&c);

    uint64_t mem = 0;
    agt_caps_parse_meminfo_total("MemTotal:       24684096 kB\nMemFree: 1 kB\n", &mem);
    assert_int_equal(mem, 24684096ULL * 1024);
    agt_caps_parse_meminfo_total("SwapTotal: 5 kB\n", &mem);     /* absent: unchanged */
    assert_int_equal(mem, 24684096ULL * 1024);

    char os[64] = "";
    agt_caps_parse_os_release("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
                              os, sizeof(os));
    assert_string_equal(os, "Debian GNU/Linux 12 (bookworm)");
    agt_caps_parse_os_release("PRETTY_NAME=Plain\n", os, sizeof(os));
    assert_string_equal(os, "Plain");
}

static void
test_capabilities_xml(void **state)
{
    (void)state;
    static const char xml[] =
        "<capabilities>\n  <host>\n    <uuid>4c4c4544-0000-1111-2222-333344445555</uuid>\n"
        "    <cpu>\n      <arch>x86_64</arch>\n      <model>Skylake-Client-IBRS</model>\n"
        "      <vendor>Intel</vendor>\n"
        "      <topology sockets='2' dies='1' cores='4' threads='2'/>\n"
        "      <feature name='ds'/>\n    </cpu>\n"
        "    <topology>\n      <cells num='2'>\n      </cells>\n    </topology>\n"
        "  </host>\n  <guest><arch name='x86_64'><model>not-this</model></arch></guest>\n"
        "</capabilities>\n";
    agt_caps_t c;
    memset(&c, 0, sizeof(c));
    agt_caps_parse_capabilities(xml, &c);
    assert_string_equal(c.host_uuid, "4c4c4544-0000-1111-2222-333344445555");
    assert_string_equal(c.cpu_model, "Skylake-Client-IBRS");
    assert_string_equal(c.cpu_vendor, "Intel");
    assert_int_equal(c.cpu_sockets, 2);
    assert_int_equal(c.cpu_cores, 4);
    assert_int_equal(c.cpu_threads, 2);
    assert_int_equal(c.numa_nodes, 2);
    /* Garbage changes nothing and does not crash. */
    agt_caps_parse_capabilities("<host><cpu><topology sockets='", &c);
    agt_caps_parse_capabilities("", &c);
    assert_int_equal(c.cpu_sockets, 2);

    char v[32];
    agt_caps_version_str(9000000, v, sizeof(v));
    assert_string_equal(v, "9.0.0");
    agt_caps_version_str(7002022, v, sizeof(v));
    assert_string_equal(v, "7.2.22");
}

/* A real sample of this machine, without libvirt: every field a user
 * would look at is plausible. */
static void
test_sample_this_host(void **state)
{
    (void)state;
    agt_stats_t *st = agt_stats_new("/tmp");
    assert_non_null(st);
    agt_sample_t s;
    assert_int_equal(agt_stats_sample(st, NULL, &s), 0);
    assert_true(s.timestamp_ms > 0);
    assert_true(s.host.mem_total > 0);
    assert_true(s.host.mem_used <= s.host.mem_total);
    assert_true(s.host.has_storage);
    assert_string_equal(s.host.storage_path, "/tmp");
    assert_true(s.host.storage_total >= s.host.storage_free);
    double sum = s.host.cpu_user + s.host.cpu_system + s.host.cpu_idle;
    assert_true(sum > 0 && sum <= 100.01);
    agt_sample_clear(&s);
    agt_stats_destroy(&st);
    assert_null(st);
}

int
main(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_percent_since_previous),
        cmocka_unit_test(test_cpu_bad_input),
        cmocka_unit_test(test_loadavg),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_netdev),
        cmocka_unit_test(test_cpuinfo_and_os_release),
        cmocka_unit_test(test_capabilities_xml),
        cmocka_unit_test(test_sample_this_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
