/* Outgoing live migrations on what libvirt's test driver allows: request
 * validation, cancel of an unknown job, the outgoing limit, the percent
 * figure, and a migration the test driver refuses ending FAILED with
 * libvirt's message (the VM stays where it was). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agt_migrate.h"
#include "agt_pool.h"
#include "agt_virt.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

#define JOB "5b0e7c55-3a55-4a44-8f4e-0c9a2a1b0001"
#define JOB2 "5b0e7c55-3a55-4a44-8f4e-0c9a2a1b0002"
/* test:///default's one domain, "test". */
#define TEST_VM "6695eb01-f6a4-8304-79aa-97f2502e193f"

typedef struct {
    struct event_base *base;
    agt_virt_t *virt;
    agt_pool_t *pool;
    agt_migrate_t *mig;
    int nreports;
    agt_mig_progress_t last;
} fx_t;

static void
on_report(const agt_mig_progress_t *p, void *opaque)
{
    fx_t *f = opaque;
    f->nreports++;
    f->last = *p;
}

static fx_t *
fx_new(unsigned limit)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    f->virt = agt_virt_new("test:///default", "/tmp");
    f->pool = agt_pool_new(f->base, 2);
    assert_non_null(f->virt);
    assert_non_null(f->pool);
    f->mig = agt_migrate_new(f->base, f->virt, f->pool, limit, on_report, f);
    assert_non_null(f->mig);
    return f;
}

static void
fx_free(fx_t *f)
{
    agt_pool_destroy(&f->pool);
    agt_migrate_destroy(&f->mig);
    agt_virt_destroy(&f->virt);
    event_base_free(f->base);
    free(f);
}

static void
req_init(agt_mig_req_t *r, const char *job, const char *vm)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->job_id, sizeof(r->job_id), "%s", job);
    snprintf(r->vm_id, sizeof(r->vm_id), "%s", vm);
    snprintf(r->dest_uri, sizeof(r->dest_uri), "qemu+tcp://10.99.0.2/system");
}

static void
test_validation(void **state)
{
    (void)state;
    agt_mig_req_t r;
    req_init(&r, JOB, TEST_VM);
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), 0);

    req_init(&r, "not-a-uuid", TEST_VM);
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "vm_migrate.job_id"));

    req_init(&r, JOB, "");
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);
    assert_non_null(strstr(cmn_err_msg(), "vm_migrate.vm_id"));

    req_init(&r, JOB, TEST_VM);
    snprintf(r.dest_uri, sizeof(r.dest_uri), "somewhere");
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);
    assert_non_null(strstr(cmn_err_msg(), "vm_migrate.dest_uri"));

    req_init(&r, JOB, TEST_VM);
    snprintf(r.dest_uri, sizeof(r.dest_uri), "qemu+tcp://a b/system");
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);

    req_init(&r, JOB, TEST_VM);
    r.timeout_s = AGT_MIG_MAX_TIMEOUT_S + 1;
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);
    assert_non_null(strstr(cmn_err_msg(), "timeout_s"));

    req_init(&r, JOB, TEST_VM);
    r.bandwidth_mbps = AGT_MIG_MAX_BANDWIDTH_MBPS + 1;
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);
    assert_non_null(strstr(cmn_err_msg(), "bandwidth_mbps"));

    req_init(&r, JOB, TEST_VM);
    r.max_downtime_ms = AGT_MIG_MAX_DOWNTIME_MS + 1;
    cmn_err_reset();
    assert_int_equal(agt_migrate_check(&r), -1);
    assert_non_null(strstr(cmn_err_msg(), "max_downtime_ms"));
}

static void
test_cancel_unknown_job(void **state)
{
    (void)state;
    fx_t *f = fx_new(2);
    cmn_err_reset();
    assert_int_equal(agt_migrate_cancel(f->mig, JOB), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_err_reset();
    assert_int_equal(agt_migrate_cancel(f->mig, "x"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    cmn_err_reset();
    assert_int_equal(agt_migrate_cancel(f->mig, NULL), -1);
    assert_int_equal(f->nreports, 0);
    fx_free(f);
}

static void
test_percent(void **state)
{
    (void)state;
    assert_int_equal(agt_migrate_percent(0, 0), 0);
    assert_int_equal(agt_migrate_percent(100, 100), 0);
    assert_int_equal(agt_migrate_percent(100, 55), 45);
    assert_int_equal(agt_migrate_percent(100, 0), 99);     /* not done yet */
    assert_int_equal(agt_migrate_percent(100, 500), 0);
}

static void
run_until_report(fx_t *f, int n)
{
    uint64_t until = cmn_mono_ms() + 10000;
    while (f->nreports < n && cmn_mono_ms() < until)
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* The test driver cannot migrate: the job ends FAILED with libvirt's words,
 * and the domain is still defined and running here. */
static void
test_refused_migration_fails_and_vm_stays(void **state)
{
    (void)state;
    fx_t *f = fx_new(1);
    agt_mig_req_t r;
    req_init(&r, JOB, TEST_VM);
    snprintf(r.dest_uri, sizeof(r.dest_uri), "test:///default");
    cmn_err_reset();
    assert_int_equal(agt_migrate_start(f->mig, &r), 0);
    assert_int_equal(agt_migrate_running(f->mig), 1);

    /* Same VM again, or over the limit of 1: refused at once. */
    agt_mig_req_t r2;
    req_init(&r2, JOB2, TEST_VM);
    cmn_err_reset();
    assert_int_equal(agt_migrate_start(f->mig, &r2), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    cmn_err_reset();
    assert_int_equal(agt_migrate_start(f->mig, &r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);

    run_until_report(f, 1);
    assert_true(f->nreports >= 1);
    assert_string_equal(f->last.job_id, JOB);
    assert_string_equal(f->last.vm_id, TEST_VM);
    assert_int_equal(f->last.state, AGT_JOB_FAILED);
    assert_true(f->last.message[0] != '\0');
    assert_int_not_equal(f->last.code, 0);
    assert_int_equal(agt_migrate_running(f->mig), 0);

    agt_vm_status_t st;
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_status(f->virt, TEST_VM, &st), 0);
    assert_int_equal(st.state, 1);      /* VIR_DOMAIN_RUNNING */

    /* An unknown VM fails with not_found. */
    req_init(&r, JOB2, "00000000-0000-4000-8000-000000000000");
    cmn_err_reset();
    assert_int_equal(agt_migrate_start(f->mig, &r), 0);
    run_until_report(f, 2);
    assert_int_equal(f->last.state, AGT_JOB_FAILED);
    assert_int_equal(f->last.code, CMN_ERR_NOT_FOUND);
    fx_free(f);
}

static void
test_no_libvirt(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    fx_t f = { 0 };
    agt_migrate_t *m = agt_migrate_new(base, NULL, NULL, 2, on_report, &f);
    assert_non_null(m);
    agt_mig_req_t r;
    req_init(&r, JOB, TEST_VM);
    cmn_err_reset();
    assert_int_equal(agt_migrate_start(m, &r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    agt_migrate_destroy(&m);
    assert_null(m);
    assert_int_equal(f.nreports, 0);
    event_base_free(base);
}

int
main(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_cancel_unknown_job),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_refused_migration_fails_and_vm_stays),
        cmocka_unit_test(test_no_libvirt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
