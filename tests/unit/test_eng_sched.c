/* The scheduler on plain structs: every filter's refusal as the user reads
 * it, each policy's choice, affinity, overcommit, pending placements, the
 * no-host message, and the load-balancing proposals of both policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmn_err.h"
#include "eng_sched.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define MIN_MS (60 * 1000)
#define NOW (100 * MIN_MS)

static const char *const s_flags[] = {"vmx", "sse4_2", "avx2"};

static eng_sched_host_t host(const char *id, uint64_t mem_gib, double load)
{
    return (eng_sched_host_t){
        .id = id, .name = id, .status = ENG_HOST_UP, .cpu_count = 8,
        .cpu_model = "Haswell", .ncpu_flags = 3, .cpu_flags = s_flags,
        .mem_bytes = mem_gib * GIB, .cpu_load = load,
    };
}

static eng_sched_vm_t vm(const char *name, uint64_t mem_mib, uint32_t vcpus)
{
    return (eng_sched_vm_t){
        .id = name, .name = name, .mem_bytes = mem_mib * MIB, .vcpus = vcpus,
    };
}

static eng_sched_policy_t policy(eng_sched_kind_t kind)
{
    eng_sched_policy_t p;
    eng_sched_policy_init(&p, kind);
    return p;
}

/* The one refusal text of `h` for `v`, "" if it fits. */
static const char *why(const eng_sched_policy_t *p, const eng_sched_vm_t *v,
                       const eng_sched_host_t *h)
{
    static char buf[512];
    bool fits = eng_sched_host_fits(p, v, h, NOW, buf, sizeof(buf));
    assert_true(fits == (buf[0] == '\0'));
    return buf;
}

static int pick(const eng_sched_policy_t *p, const eng_sched_vm_t *v,
                const eng_sched_host_t *hs, size_t n)
{
    cmn_err_reset();
    return eng_sched_select(p, v, hs, n, NOW);
}

/* ---- policy parameters ------------------------------------------------ */

static void test_policy_params(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    assert_int_equal(p.high_utilization, 80);
    assert_int_equal(p.low_utilization, 20);
    assert_int_equal(p.cpu_overcommit_duration_min, 2);
    assert_int_equal(p.memory_overcommit, 100);
    assert_int_equal(p.max_free_mem_over_mb, 0);
    assert_int_equal(eng_sched_policy_check(&p), 0);

    assert_int_equal(eng_sched_policy_set(&p, "HighUtilization", "90"), 0);
    assert_int_equal(eng_sched_policy_set(&p, "LowUtilization", "10"), 0);
    assert_int_equal(eng_sched_policy_set(&p, "CpuOverCommitDurationMinutes",
                                          "5"), 0);
    assert_int_equal(eng_sched_policy_set(&p, "MaxFreeMemoryForOverUtilized",
                                          "1024"), 0);
    assert_int_equal(eng_sched_policy_set(&p, "MinFreeMemoryForUnderUtilized",
                                          "4096"), 0);
    assert_int_equal(p.high_utilization, 90);
    assert_int_equal(p.low_utilization, 10);
    assert_int_equal(p.cpu_overcommit_duration_min, 5);
    assert_int_equal(p.max_free_mem_over_mb, 1024);
    assert_int_equal(p.min_free_mem_under_mb, 4096);

    cmn_err_reset();
    assert_int_equal(eng_sched_policy_set(&p, "HighUtilization", "40"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "HighUtilization"));
    assert_int_equal(p.high_utilization, 90);
    cmn_err_reset();
    assert_int_equal(eng_sched_policy_set(&p, "LowUtilization", "12x"), -1);
    assert_non_null(strstr(cmn_err_msg(), "LowUtilization"));
    cmn_err_reset();
    assert_int_equal(eng_sched_policy_set(&p, "HighUtilisation", "85"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(),
                           "unknown parameter 'HighUtilisation'"));
    cmn_err_reset();
    assert_int_equal(eng_sched_policy_set(&p, "HostsInReserve", "1"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNSUPPORTED);
    assert_non_null(strstr(cmn_err_msg(), "HostsInReserve is not supported"));

    p.memory_overcommit = 0;
    cmn_err_reset();
    assert_int_equal(eng_sched_policy_check(&p), -1);
    assert_non_null(strstr(cmn_err_msg(), "memory_overcommit"));

    assert_int_equal(eng_sched_kind_parse("none"), ENG_SCHED_NONE);
    assert_int_equal(eng_sched_kind_parse("Evenly_Distributed"),
                     ENG_SCHED_EVENLY_DISTRIBUTED);
    assert_int_equal(eng_sched_kind_parse("power_saving"),
                     ENG_SCHED_POWER_SAVING);
    assert_int_equal(eng_sched_kind_parse("vm_evenly"), -1);
    assert_int_equal(eng_sched_kind_parse(NULL), -1);
    assert_string_equal(eng_sched_kind_name(ENG_SCHED_POWER_SAVING),
                        "power_saving");
}

/* ---- filters ---------------------------------------------------------- */

static void test_filter_up(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_vm_t v = vm("web1", 512, 1);
    eng_sched_host_t h = host("h1", 8, 0);
    assert_string_equal(why(&p, &v, &h), "");
    h.status = ENG_HOST_NON_RESPONSIVE;
    assert_string_equal(why(&p, &v, &h), "not up (non_responsive)");
    h.status = ENG_HOST_MAINTENANCE;
    assert_string_equal(why(&p, &v, &h), "not up (maintenance)");
}

static void test_filter_memory_and_overcommit(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_vm_t v = vm("web1", 2048, 1);
    eng_sched_host_t h = host("h1", 4, 0);
    h.mem_committed_bytes = 3584 * MIB;
    assert_string_equal(why(&p, &v, &h),
                        "memory (needs 2048 MiB, 512 MiB free)");
    /* exactly full fits */
    h.mem_committed_bytes = 2048 * MIB;
    assert_string_equal(why(&p, &v, &h), "");
    h.mem_committed_bytes = 2049 * MIB;
    assert_string_equal(why(&p, &v, &h),
                        "memory (needs 2048 MiB, 2047 MiB free)");
    /* 150 %: 6 GiB schedulable */
    h.mem_committed_bytes = 3584 * MIB;
    p.memory_overcommit = 150;
    assert_string_equal(why(&p, &v, &h), "");
    h.mem_committed_bytes = 5 * GIB;
    assert_string_equal(why(&p, &v, &h),
                        "memory (needs 2048 MiB, 1024 MiB free, "
                        "overcommit 150%)");
    /* committed beyond capacity (overcommit lowered) */
    p.memory_overcommit = 50;
    assert_string_equal(why(&p, &v, &h),
                        "memory (needs 2048 MiB, 0 MiB free, overcommit 50%)");
}

static void test_pending_counted(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_vm_t v = vm("web1", 2048, 1);
    eng_sched_host_t h = host("h1", 4, 0);
    h.mem_committed_bytes = 1 * GIB;
    h.mem_pending_bytes = 2 * GIB;
    assert_string_equal(why(&p, &v, &h),
                        "memory (needs 2048 MiB, 1024 MiB free with "
                        "2048 MiB pending)");

    /* Placing in a row: each placement is reserved before the next. */
    eng_sched_host_t hs[2] = {host("h1", 4, 0), host("h2", 4, 0)};
    int count[2] = {0, 0};
    eng_sched_vm_t w = vm("w", 1536, 1);
    for (int i = 0; i < 4; i++) {
        int k = pick(&p, &w, hs, 2);
        assert_true(k == 0 || k == 1);
        count[k]++;
        eng_sched_host_reserve(&hs[k], &w);
    }
    assert_int_equal(count[0], 2);
    assert_int_equal(count[1], 2);
    assert_int_equal(hs[0].nvms, 2);
    assert_int_equal(hs[0].mem_pending_bytes, 3 * GIB);
    assert_int_equal(pick(&p, &w, hs, 2), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_string_equal(cmn_err_msg(),
                        "no host can run VM w: "
                        "h1: memory (needs 1536 MiB, 1024 MiB free with "
                        "3072 MiB pending); "
                        "h2: memory (needs 1536 MiB, 1024 MiB free with "
                        "3072 MiB pending)");
}

static void test_filter_cpu(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_host_t h = host("h1", 8, 0);
    h.cpu_count = 2;
    eng_sched_vm_t v = vm("web1", 512, 4);
    assert_string_equal(why(&p, &v, &h),
                        "cpu count (needs 4 vCPUs, host has 2)");
    v.vcpus = 2;
    assert_string_equal(why(&p, &v, &h), "");

    const char *const need[] = {"avx2", "avx512f", "sgx"};
    v.ncpu_flags = 3;
    v.cpu_flags = need;
    assert_string_equal(why(&p, &v, &h), "cpu flags (lacks avx512f sgx)");
    v.ncpu_flags = 1;
    assert_string_equal(why(&p, &v, &h), "");

    v.cpu_type = "Skylake-Client";
    assert_string_equal(why(&p, &v, &h),
                        "cpu type (cluster needs Skylake-Client, host has "
                        "Haswell)");
    h.cpu_model = "skylake-client";
    assert_string_equal(why(&p, &v, &h), "");
    const char *const vdsm_style[] = {"avx2", "model_Skylake-Client"};
    h.cpu_model = NULL;
    h.cpu_flags = vdsm_style;
    h.ncpu_flags = 2;
    assert_string_equal(why(&p, &v, &h), "");
    v.cpu_type = "";
    h.ncpu_flags = 0;
    assert_string_equal(why(&p, &v, &h), "cpu flags (lacks avx2)");

    /* several refusals at once, in filter order */
    h.cpu_count = 1;
    h.mem_bytes = 256 * MIB;
    assert_string_equal(why(&p, &v, &h),
                        "cpu count (needs 2 vCPUs, host has 1), "
                        "cpu flags (lacks avx2), "
                        "memory (needs 512 MiB, 256 MiB free)");
}

static void test_filter_pinning_and_migration(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_host_t hs[3] = {host("h1", 8, 0), host("h2", 8, 50),
                              host("h3", 8, 60)};
    hs[1].name = "host-two";
    const char *const pins[] = {"h2", "h3"};
    eng_sched_vm_t v = vm("db", 1024, 1);
    v.npinned = 2;
    v.pinned_host_ids = pins;
    /* h1 is the least loaded but the VM is pinned elsewhere */
    assert_int_equal(pick(&p, &v, hs, 3), 1);
    assert_string_equal(why(&p, &v, &hs[0]), "pinning (pinned to h2, h3)");

    /* migration: never onto the host it runs on */
    v.current_host_id = "h2";
    assert_int_equal(pick(&p, &v, hs, 3), 2);
    assert_string_equal(why(&p, &v, &hs[1]), "migration (the VM runs there)");
    v.npinned = 1;
    assert_int_equal(pick(&p, &v, hs, 3), -1);
    assert_string_equal(cmn_err_msg(),
                        "no host can run VM db: "
                        "h1: pinning (pinned to host-two); "
                        "host-two: migration (the VM runs there); "
                        "h3: pinning (pinned to host-two)");
}

static void test_filter_cpu_overload(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_vm_t v = vm("web1", 512, 1);
    eng_sched_host_t h = host("h1", 8, 0);
    eng_sched_host_track(&h, &p, 95, NOW - 3 * MIN_MS);
    assert_true(h.over_since_ms == NOW - 3 * MIN_MS);
    assert_true(h.under_since_ms == 0);
    eng_sched_host_track(&h, &p, 93, NOW);      /* still over: since kept */
    assert_true(h.over_since_ms == NOW - 3 * MIN_MS);
    assert_string_equal(why(&p, &v, &h),
                        "cpu load (93% >= HighUtilization 80% for 2 min)");
    /* over for less than CpuOverCommitDurationMinutes: fine */
    h.over_since_ms = NOW - MIN_MS;
    assert_string_equal(why(&p, &v, &h), "");
    /* dropping below resets it */
    eng_sched_host_track(&h, &p, 50, NOW);
    assert_true(h.over_since_ms == 0);
    eng_sched_host_track(&h, &p, 10, NOW);
    assert_true(h.under_since_ms == NOW);
    assert_string_equal(why(&p, &v, &h), "");
}

/* ---- affinity --------------------------------------------------------- */

/* Two VMs in an enforcing negative group never land together, whatever
 * the policy or the order of the hosts. */
static void test_anti_affinity(void **state)
{
    (void)state;
    for (int kind = 0; kind < ENG_SCHED__LAST; kind++) {
        for (int order = 0; order < 2; order++) {
            eng_sched_policy_t p = policy((eng_sched_kind_t)kind);
            eng_sched_host_t hs[2] = {host("h1", 8, 30), host("h2", 8, 30)};
            if (order) {
                hs[0] = host("h2", 8, 30);
                hs[1] = host("h1", 8, 30);
            }
            const char *a_host = NULL, *b_host = NULL;
            eng_sched_group_t ga = {.name = "apart", .positive = false,
                                    .enforcing = true, .nmembers = 1,
                                    .member_hosts = &b_host};
            eng_sched_group_t gb = ga;
            gb.member_hosts = &a_host;
            eng_sched_vm_t a = vm("a", 1024, 1), b = vm("b", 1024, 1);
            a.ngroups = b.ngroups = 1;
            a.groups = &ga;
            b.groups = &gb;
            int ia = pick(&p, &a, hs, 2);
            assert_true(ia >= 0);
            a_host = hs[ia].id;
            eng_sched_host_reserve(&hs[ia], &a);
            int ib = pick(&p, &b, hs, 2);
            assert_true(ib >= 0);
            b_host = hs[ib].id;
            assert_string_not_equal(a_host, b_host);
            /* with only a's host left, b is refused and told why */
            assert_int_equal(pick(&p, &b, &hs[ia], 1), -1);
            char want[200];
            snprintf(want, sizeof(want), "no host can run VM b: %s: affinity "
                     "group apart (negative): a member runs there", a_host);
            assert_string_equal(cmn_err_msg(), want);
        }
    }
}

static void test_affinity_positive(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_host_t hs[3] = {host("h1", 8, 5), host("h2", 8, 70),
                              host("h3", 8, 40)};
    const char *members[] = {"h2", NULL, ""};
    eng_sched_group_t g = {.name = "together", .positive = true,
                           .enforcing = true, .nmembers = 3,
                           .member_hosts = members};
    eng_sched_vm_t v = vm("app", 1024, 1);
    v.ngroups = 1;
    v.groups = &g;
    assert_int_equal(pick(&p, &v, hs, 3), 1);
    assert_string_equal(why(&p, &v, &hs[0]), "affinity group together "
                        "(positive): members run on h2");
    /* members already split over two hosts: nowhere satisfies it */
    members[1] = "h3";
    assert_int_equal(pick(&p, &v, hs, 3), -1);
    assert_string_equal(cmn_err_msg(),
                        "no host can run VM app: "
                        "h1: affinity group together (positive): members run "
                        "on h2 and h3; "
                        "h2: affinity group together (positive): members run "
                        "on h2 and h3; "
                        "h3: affinity group together (positive): members run "
                        "on h2 and h3");
    /* no member running: no constraint */
    members[0] = members[1] = NULL;
    assert_int_equal(pick(&p, &v, hs, 3), 0);
}

/* Non-enforcing groups weigh before the policy but never refuse. */
static void test_affinity_soft(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_host_t hs[3] = {host("h1", 8, 5), host("h2", 8, 70),
                              host("h3", 8, 40)};
    const char *members[] = {"h2"};
    eng_sched_group_t g = {.name = "soft", .positive = true,
                           .enforcing = false, .nmembers = 1,
                           .member_hosts = members};
    eng_sched_vm_t v = vm("app", 1024, 1);
    v.ngroups = 1;
    v.groups = &g;
    assert_int_equal(pick(&p, &v, hs, 3), 1);
    g.positive = false;
    members[0] = "h1";
    assert_int_equal(pick(&p, &v, hs, 3), 2);    /* h3: next least loaded */
    assert_string_equal(why(&p, &v, &hs[0]), "");
    assert_int_equal(pick(&p, &v, hs, 1), 0);    /* only h1: still allowed */
}

/* ---- policies --------------------------------------------------------- */

static void test_policy_none(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_vm_t v = vm("x", 512, 1);
    /* lowest committed share: h2 (1/4) over h1 (4/8) though h1 has more
     * free bytes; CPU load plays no part */
    eng_sched_host_t hs[3] = {host("h1", 8, 0), host("h2", 4, 90),
                              host("h3", 16, 0)};
    hs[0].mem_committed_bytes = 4 * GIB;
    hs[1].mem_committed_bytes = 1 * GIB;
    hs[2].mem_committed_bytes = 6 * GIB;
    hs[2].mem_pending_bytes = 4 * GIB;          /* 10/16 with pending */
    assert_int_equal(pick(&p, &v, hs, 3), 1);
    /* ties: first in the list */
    eng_sched_host_t eq[2] = {host("a", 8, 50), host("b", 8, 0)};
    assert_int_equal(pick(&p, &v, eq, 2), 0);
}

static void test_policy_evenly(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_vm_t v = vm("x", 512, 1);
    eng_sched_host_t hs[3] = {host("h1", 8, 50), host("h2", 8, 10.2),
                              host("h3", 8, 9.9)};
    hs[1].mem_committed_bytes = 1 * GIB;
    hs[2].mem_committed_bytes = 6 * GIB;
    /* h2 and h3 both at 10 %: the one with more free memory */
    assert_int_equal(pick(&p, &v, hs, 3), 1);
    hs[2].cpu_load = 3;
    assert_int_equal(pick(&p, &v, hs, 3), 2);
}

static void test_policy_power_saving(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_POWER_SAVING);
    eng_sched_vm_t v = vm("x", 512, 1);
    eng_sched_host_t hs[4] = {host("h1", 8, 30), host("h2", 8, 60),
                              host("h3", 8, 0), host("h4", 8, 85)};
    hs[0].nvms = 2;
    hs[1].nvms = 3;
    hs[3].nvms = 6;     /* above HighUtilization, not yet long enough */
    /* the most loaded host below HighUtilization */
    assert_int_equal(pick(&p, &v, hs, 4), 1);
    hs[1].status = ENG_HOST_MAINTENANCE;
    assert_int_equal(pick(&p, &v, hs, 4), 0);
    /* an empty host is the last resort below HighUtilization */
    hs[0].status = ENG_HOST_MAINTENANCE;
    assert_int_equal(pick(&p, &v, hs, 4), 2);
    /* an empty host with a VM on its way is no longer empty */
    hs[0].status = ENG_HOST_UP;
    hs[0].nvms = 0;
    hs[0].cpu_load = 0;
    hs[2].mem_pending_bytes = GIB;
    assert_int_equal(pick(&p, &v, hs, 4), 2);
    /* equal load: the fuller host */
    eng_sched_host_t eq[2] = {host("a", 8, 40), host("b", 8, 40)};
    eq[0].nvms = eq[1].nvms = 1;
    eq[1].mem_committed_bytes = 2 * GIB;
    assert_int_equal(pick(&p, &v, eq, 2), 1);
}

/* ---- the no-host answer ----------------------------------------------- */

static void test_no_host_message(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_vm_t v = vm("web1", 2048, 4);
    eng_sched_host_t hs[3] = {host("h1", 4, 0), host("h2", 64, 0),
                              host("h3", 1, 0)};
    hs[0].mem_committed_bytes = 3584 * MIB;
    hs[1].status = ENG_HOST_NON_RESPONSIVE;
    hs[2].cpu_count = 2;
    assert_int_equal(pick(&p, &v, hs, 3), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_string_equal(cmn_err_msg(),
                        "no host can run VM web1: "
                        "h1: memory (needs 2048 MiB, 512 MiB free); "
                        "h2: not up (non_responsive); "
                        "h3: cpu count (needs 4 vCPUs, host has 2), "
                        "memory (needs 2048 MiB, 1024 MiB free)");

    assert_int_equal(pick(&p, &v, NULL, 0), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_string_equal(cmn_err_msg(),
                        "no host can run VM web1: the cluster has no hosts");

    /* many hosts: whole entries only, and how many were left out */
    eng_sched_host_t many[60];
    char ids[60][16];
    for (int i = 0; i < 60; i++) {
        snprintf(ids[i], sizeof(ids[i]), "host%02d", i);
        many[i] = host(ids[i], 8, 0);
        many[i].status = ENG_HOST_CONNECTING;
    }
    assert_int_equal(pick(&p, &v, many, 60), -1);
    const char *m = cmn_err_msg();
    assert_true(strlen(m) < 1000);
    assert_non_null(strstr(m, "host00: not up (connecting); host01:"));
    const char *more = strstr(m, "; and ");
    assert_non_null(more);
    int listed = 0;
    for (const char *s = m; (s = strstr(s, "not up")); s++)
        listed++;
    char tail[64];
    snprintf(tail, sizeof(tail), "; and %d more hosts", 60 - listed);
    assert_string_equal(more, tail);
}

static void test_bad_input(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_NONE);
    eng_sched_host_t h = host("h1", 8, 0);
    eng_sched_vm_t v = vm(NULL, 512, 1);
    assert_int_equal(pick(&p, &v, &h, 1), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    v.id = "x";
    h.id = NULL;
    assert_int_equal(pick(&p, &v, &h, 1), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    h.id = "h1";
    p.high_utilization = 120;
    assert_int_equal(pick(&p, &v, &h, 1), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "HighUtilization"));
    /* a NaN or absurd load from a peer neither crashes nor wins */
    eng_sched_policy_t e = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_host_t odd[3] = {host("h1", 8, NAN), host("h2", 8, 1e300),
                               host("h3", 8, -5)};
    odd[2].mem_committed_bytes = GIB;
    assert_int_equal(pick(&e, &v, odd, 3), 0);
    p = policy(ENG_SCHED_NONE);
    eng_sched_running_t r = {.vm = v, .host = 3, .migratable = true};
    eng_sched_move_t out[1];
    cmn_err_reset();
    assert_int_equal(eng_sched_balance(&p, &h, 1, &r, 1, NOW, 1, out), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
}

/* ---- load balancing --------------------------------------------------- */

static eng_sched_running_t running(const char *id, uint64_t mem_mib,
                                   size_t on, double load)
{
    return (eng_sched_running_t){.vm = vm(id, mem_mib, 1), .host = on,
                                 .cpu_load = load, .migratable = true};
}

static eng_sched_host_t over(const char *id, double load, unsigned nvms)
{
    eng_sched_host_t h = host(id, 32, load);
    h.nvms = nvms;
    h.over_since_ms = load >= 80 ? NOW - 5 * MIN_MS : 0;
    h.under_since_ms = load <= 20 ? NOW - 5 * MIN_MS : 0;
    return h;
}

static void test_balance_evenly_cpu(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    /* h1 over 80 % for 5 min; h2 under min(64, 70); h3 not under */
    eng_sched_host_t hs[3] = {over("h1", 90, 3), over("h2", 20, 1),
                              over("h3", 70, 1)};
    eng_sched_running_t vms[] = {
        running("a", 1024, 0, 30), running("b", 1024, 0, 10),
        running("c", 1024, 0, 40), running("d", 1024, 1, 5),
        running("e", 1024, 2, 5),
    };
    eng_sched_move_t out[5];
    cmn_err_reset();
    /* least-CPU VM first, until h1 is below 80 %: b (90 -> 80), a (-> 50) */
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 2);
    assert_string_equal(out[0].vm_id, "b");
    assert_string_equal(out[0].from_id, "h1");
    assert_string_equal(out[0].to_id, "h2");
    assert_int_equal(out[0].vm, 1);
    assert_int_equal(out[0].from, 0);
    assert_int_equal(out[0].to, 1);
    assert_string_equal(out[1].vm_id, "a");
    assert_string_equal(out[1].to_id, "h2");
    /* at most max */
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 1, out), 1);
    assert_string_equal(out[0].vm_id, "b");
    /* the caller's hosts are not touched */
    assert_true(hs[0].cpu_load == 90 && hs[1].mem_pending_bytes == 0);

    /* never a move the filters refuse: b needs more memory than h2 has */
    hs[1].mem_committed_bytes = 31 * GIB;
    vms[0].vm.mem_bytes = 512 * MIB;
    vms[2].vm.mem_bytes = 512 * MIB;
    vms[1].vm.mem_bytes = 2 * GIB;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 1);
    assert_string_equal(out[0].vm_id, "a");
    char w[256];
    eng_sched_vm_t b = vms[1].vm;
    b.current_host_id = "h1";
    assert_false(eng_sched_host_fits(&p, &b, &hs[1], NOW, w, sizeof(w)));
    hs[1].mem_committed_bytes = 0;
    /* not over for CpuOverCommitDurationMinutes yet: nothing */
    hs[0].over_since_ms = NOW - MIN_MS;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 0);
    hs[0].over_since_ms = NOW - 5 * MIN_MS;
    /* a VM that may not move stays */
    vms[0].migratable = vms[1].migratable = false;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 1);
    assert_string_equal(out[0].vm_id, "c");
    /* a move that would push the target to HighUtilization is not made:
     * c (40 %) onto h2 at 45 % would make it 85 % */
    hs[1].cpu_load = 45;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 0);
    /* CPU counts scale the VM's share: on a 16-CPU h2 it adds 20 % */
    hs[1].cpu_count = 16;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 1);
    assert_string_equal(out[0].vm_id, "c");
    hs[1].cpu_count = 8;
    hs[1].cpu_load = 20;
    /* none never balances */
    p.kind = ENG_SCHED_NONE;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 5, NOW, 5, out), 0);
}

static void test_balance_evenly_memory(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_host_t hs[2] = {host("h1", 8, 30), host("h2", 8, 30)};
    hs[0].mem_committed_bytes = 7680 * MIB;     /* 512 MiB free */
    hs[0].nvms = 3;
    hs[1].mem_committed_bytes = 2 * GIB;
    hs[1].nvms = 1;
    eng_sched_running_t vms[] = {
        running("a", 2560, 0, 5), running("b", 2560, 0, 3),
        running("c", 2560, 0, 4), running("d", 2048, 1, 5),
    };
    eng_sched_move_t out[4];
    cmn_err_reset();
    /* MaxFreeMemoryForOverUtilized unset: no memory balancing */
    assert_int_equal(eng_sched_balance(&p, hs, 2, vms, 4, NOW, 4, out), 0);
    assert_int_equal(eng_sched_policy_set(&p, "MaxFreeMemoryForOverUtilized",
                                          "1024"), 0);
    /* one VM frees enough (512 MiB + 2560 MiB >= 1024 MiB) */
    assert_int_equal(eng_sched_balance(&p, hs, 2, vms, 4, NOW, 4, out), 1);
    assert_string_equal(out[0].vm_id, "b");
    assert_string_equal(out[0].to_id, "h2");
    /* the target must keep MaxFreeMemoryForOverUtilized free after it */
    hs[1].mem_committed_bytes = 5 * GIB;        /* 3 GiB free: 512 after */
    assert_int_equal(eng_sched_balance(&p, hs, 2, vms, 4, NOW, 4, out), 0);
    hs[1].mem_committed_bytes = 2 * GIB;
    /* MinFreeMemoryForUnderUtilized: h2's 6 GiB free is not enough */
    assert_int_equal(eng_sched_policy_set(&p, "MinFreeMemoryForUnderUtilized",
                                          "8192"), 0);
    assert_int_equal(eng_sched_balance(&p, hs, 2, vms, 4, NOW, 4, out), 0);
    /* a host with one VM is never a memory source */
    p.min_free_mem_under_mb = 0;
    hs[0].nvms = 1;
    assert_int_equal(eng_sched_balance(&p, hs, 2, vms, 4, NOW, 4, out), 0);
}

static void test_balance_power_saving(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_POWER_SAVING);
    /* h1 and h3 under 20 % for 5 min; h2 busy enough to keep */
    eng_sched_host_t hs[3] = {over("h1", 5, 1), over("h2", 40, 3),
                              over("h3", 10, 2)};
    eng_sched_running_t vms[] = {
        running("a", 1024, 0, 5), running("b", 1024, 1, 10),
        running("c", 1024, 1, 10), running("d", 1024, 1, 20),
        running("e", 1024, 2, 4), running("f", 1024, 2, 6),
    };
    eng_sched_move_t out[6];
    cmn_err_reset();
    /* fewest VMs first: h1's a, then h3's e and f, all onto h2 */
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 6, NOW, 6, out), 3);
    assert_string_equal(out[0].vm_id, "a");
    assert_string_equal(out[0].to_id, "h2");
    assert_string_equal(out[1].vm_id, "e");
    assert_string_equal(out[1].from_id, "h3");
    assert_string_equal(out[1].to_id, "h2");
    assert_string_equal(out[2].vm_id, "f");
    assert_string_equal(out[2].to_id, "h2");
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 6, NOW, 2, out), 2);

    /* evenly_distributed leaves under-used hosts alone */
    eng_sched_policy_t e = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    assert_int_equal(eng_sched_balance(&e, hs, 3, vms, 6, NOW, 6, out), 0);

    /* all of a host's VMs or none: a cannot move, so h1 stays as it is
     * and h3 is emptied onto h2 */
    vms[0].migratable = false;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 6, NOW, 6, out), 2);
    assert_string_equal(out[0].vm_id, "e");
    assert_string_equal(out[1].vm_id, "f");
    assert_string_equal(out[1].to_id, "h2");
    vms[0].migratable = true;

    /* f does not fit on h2 nor h1: h3 keeps both its VMs */
    vms[5].vm.mem_bytes = 40 * GIB;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 6, NOW, 6, out), 1);
    assert_string_equal(out[0].vm_id, "a");
    vms[5].vm.mem_bytes = GIB;

    /* the target must stay below HighUtilization: h2 at 75 % cannot take
     * them (and is above the destination threshold anyway), so the idle
     * hosts consolidate onto each other: h1's a goes to h3 */
    hs[1].cpu_load = 75;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 6, NOW, 6, out), 1);
    assert_string_equal(out[0].vm_id, "a");
    assert_string_equal(out[0].to_id, "h3");

    /* over-used hosts shed load too, onto the busiest host with room */
    eng_sched_host_t hs2[3] = {over("h1", 90, 2), over("h2", 50, 1),
                               over("h3", 30, 1)};
    eng_sched_running_t vms2[] = {
        running("a", 1024, 0, 20), running("b", 1024, 0, 70),
        running("c", 1024, 1, 50), running("d", 1024, 2, 30),
    };
    assert_int_equal(eng_sched_balance(&p, hs2, 3, vms2, 4, NOW, 4, out), 1);
    assert_string_equal(out[0].vm_id, "a");
    assert_string_equal(out[0].to_id, "h2");
}

/* Moves follow one another: an enforcing negative group sees the member
 * that an earlier proposal moves. */
static void test_balance_affinity(void **state)
{
    (void)state;
    eng_sched_policy_t p = policy(ENG_SCHED_EVENLY_DISTRIBUTED);
    eng_sched_host_t hs[3] = {over("h1", 95, 1), over("h2", 10, 0),
                              over("h3", 90, 1)};
    const char *ids_a[] = {"c"}, *ids_c[] = {"a"};
    const char *hosts_a[] = {"h3"}, *hosts_c[] = {"h1"};
    eng_sched_group_t ga = {.name = "apart", .positive = false,
                            .enforcing = true, .nmembers = 1,
                            .member_hosts = hosts_a, .member_ids = ids_a};
    eng_sched_group_t gc = ga;
    gc.member_hosts = hosts_c;
    gc.member_ids = ids_c;
    eng_sched_running_t vms[] = {running("a", 1024, 0, 30),
                                 running("c", 1024, 2, 30)};
    vms[0].vm.ngroups = vms[1].vm.ngroups = 1;
    vms[0].vm.groups = &ga;
    vms[1].vm.groups = &gc;
    eng_sched_move_t out[2];
    cmn_err_reset();
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 2, NOW, 2, out), 1);
    assert_string_equal(out[0].vm_id, "a");
    assert_string_equal(out[0].to_id, "h2");
    /* without member ids the second move cannot be seen: both would go */
    ga.member_ids = gc.member_ids = NULL;
    assert_int_equal(eng_sched_balance(&p, hs, 3, vms, 2, NOW, 2, out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_params),
        cmocka_unit_test(test_filter_up),
        cmocka_unit_test(test_filter_memory_and_overcommit),
        cmocka_unit_test(test_pending_counted),
        cmocka_unit_test(test_filter_cpu),
        cmocka_unit_test(test_filter_pinning_and_migration),
        cmocka_unit_test(test_filter_cpu_overload),
        cmocka_unit_test(test_anti_affinity),
        cmocka_unit_test(test_affinity_positive),
        cmocka_unit_test(test_affinity_soft),
        cmocka_unit_test(test_policy_none),
        cmocka_unit_test(test_policy_evenly),
        cmocka_unit_test(test_policy_power_saving),
        cmocka_unit_test(test_no_host_message),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_balance_evenly_cpu),
        cmocka_unit_test(test_balance_evenly_memory),
        cmocka_unit_test(test_balance_power_saving),
        cmocka_unit_test(test_balance_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
