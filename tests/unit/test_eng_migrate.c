/* The engine side of live migration against a real store (":memory:") and
 * a detached agent link (frames handed in as if from the socket): the
 * scheduler fed from the store (memory, anti-affinity, refusals per host),
 * the states a migration may start from, a job reloaded after a restart
 * ending DONE (VM on the target) or FAILED (VM stays, event says why), a
 * report from the target that shows the VM landed, late events of the old
 * copy ignored, and maintenance of an empty host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_log.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_migrate.h"
#include "eng_ops.h"
#include "fx_eng.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

typedef struct {
    eng_ctx_t ctx;
    char a[ENG_ID_LEN], b[ENG_ID_LEN];
} t_env_t;

static void s_frame(t_env_t *t, const char *host, Herd__Envelope *env)
{
    static uint64_t id = 100;
    env->id = ++id;
    size_t len, rlen;
    uint8_t *buf = cmn_rpc_encode(env, &len);
    free(eng_agents_handle(t->ctx.agents, (const uint8_t *)host, strlen(host),
                           buf, len, &rlen));
    free(buf);
}

static void s_host(t_env_t *t, char id[ENG_ID_LEN], const char *name)
{
    cmn_uuid_generate(id);
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = id;
    h.hostname = (char *)name;
    h.memory_bytes = 8 * GIB;
    h.cpu_count = 4;
    h.migration_uri = (char *)"qemu+tcp://x/system";
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    s_frame(t, id, &env);
    assert_true(eng_agents_connected(t->ctx.agents, id));
}

static int setup(void **state)
{
    t_env_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(eng_conf_load(&t->ctx.conf, NULL), 0);
    fx_eng_ctx_open(&t->ctx, true);
    t->ctx.migrate = eng_migrate_new(&t->ctx, NULL);
    assert_non_null(t->ctx.migrate);
    s_host(t, t->a, "ha");
    s_host(t, t->b, "hb");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    t_env_t *t = *state;
    eng_migrate_destroy(&t->ctx.migrate);
    fx_eng_ctx_close(&t->ctx);
    free(t);
    return 0;
}

/* A VM recorded as `st` on `host` (NULL: down nowhere). */
static void s_vm(t_env_t *t, eng_vm_t *vm, const char *name, uint64_t mem,
                 const char *host, eng_vm_status_t st)
{
    memset(vm, 0, sizeof(*vm));
    snprintf(vm->name, sizeof(vm->name), "%s", name);
    vm->memory_bytes = mem;
    assert_int_equal(eng_vm_create(&t->ctx, vm, "admin"), 0);
    if (host) {
        snprintf(vm->host_id, sizeof(vm->host_id), "%s", host);
        vm->status = st;
        assert_int_equal(eng_store_vm_update(t->ctx.store, vm), 0);
    }
}

static void s_group(t_env_t *t, const char *name, const eng_vm_t *x,
                    const eng_vm_t *y, const eng_vm_t *z)
{
    eng_affinity_t g;
    memset(&g, 0, sizeof(g));
    cmn_uuid_generate(g.id);
    snprintf(g.name, sizeof(g.name), "%s", name);
    snprintf(g.cluster_id, sizeof(g.cluster_id), "%s", x->cluster_id);
    g.enforcing = true;
    const eng_vm_t *m[] = { x, y, z };
    for (int i = 0; i < 3; i++)
        if (m[i])
            snprintf(g.vms[g.nvms++], ENG_ID_LEN, "%s", m[i]->id);
    assert_int_equal(eng_store_affinity_insert(t->ctx.store, &g), 0);
}

static void test_pick_memory_and_anti_affinity(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, v2, v3, huge;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_UP);
    s_vm(t, &v2, "v2", 64 * MIB, t->b, ENG_VM_UP);
    s_vm(t, &v3, "v3", 64 * MIB, NULL, ENG_VM_DOWN);
    s_vm(t, &huge, "huge", 16 * GIB, NULL, ENG_VM_DOWN);

    char out[ENG_ID_LEN] = "";
    cmn_err_reset();
    assert_int_equal(eng_migrate_pick(&t->ctx, &huge, NULL, out), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_non_null(strstr(cmn_err_msg(), "ha: memory"));
    assert_non_null(strstr(cmn_err_msg(), "hb: memory"));

    s_group(t, "apart", &v1, &v3, NULL);
    out[0] = '\0';
    cmn_err_reset();
    assert_int_equal(eng_migrate_pick(&t->ctx, &v3, NULL, out), 0);
    assert_string_equal(out, t->b);     /* v1 runs on ha */

    s_group(t, "apart2", &v2, &v3, NULL);
    out[0] = '\0';
    cmn_err_reset();
    assert_int_equal(eng_migrate_pick(&t->ctx, &v3, NULL, out), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_non_null(strstr(cmn_err_msg(), "no host can run VM v3"));
    assert_non_null(strstr(cmn_err_msg(), "affinity"));

    /* Start without a host goes through the same scheduler. */
    cmn_err_reset();
    assert_int_equal(eng_vm_start(&t->ctx, v3.id, NULL, "admin", NULL, NULL),
                     -1);
    assert_non_null(strstr(cmn_err_msg(), "affinity"));
}

static void test_migrate_refusals(void **state)
{
    t_env_t *t = *state;
    eng_vm_t down, v1, v2;
    s_vm(t, &down, "down1", 64 * MIB, NULL, ENG_VM_DOWN);
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_UP);
    s_vm(t, &v2, "v2", 64 * MIB, t->b, ENG_VM_UP);

    cmn_err_reset();
    assert_int_equal(eng_migrate_start(&t->ctx, "down1", NULL, "admin", NULL,
                                       NULL, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    cmn_err_reset();
    assert_int_equal(eng_migrate_start(&t->ctx, "nosuch", NULL, "admin", NULL,
                                       NULL, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_err_reset();
    assert_int_equal(eng_migrate_start(&t->ctx, "v1", "ha", "admin", NULL,
                                       NULL, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);

    s_group(t, "apart", &v1, &v2, NULL);
    cmn_err_reset();
    assert_int_equal(eng_migrate_start(&t->ctx, "v1", "hb", "admin", NULL,
                                       NULL, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_non_null(strstr(cmn_err_msg(), "host hb cannot run VM v1"));
    assert_non_null(strstr(cmn_err_msg(), "affinity"));

    /* The detached link cannot send: refused at once, the VM stays up. */
    eng_affinity_t *gs = NULL;
    size_t n = 0;
    assert_int_equal(eng_store_affinity_list(t->ctx.store, NULL, &gs, &n), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(eng_store_affinity_delete(t->ctx.store, gs[i].id), 0);
    free(gs);
    cmn_err_reset();
    assert_int_equal(eng_migrate_start(&t->ctx, "v1", NULL, "admin", NULL,
                                       NULL, NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    eng_vm_t got;
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "up");
    assert_null(eng_migrate_vm_json(&t->ctx, v1.id));
}

/* A job "started" in the store, as an engine that stopped mid-way left it;
 * the migration module is made again so that it reloads it. */
static void s_job(t_env_t *t, const eng_vm_t *vm, char id[ENG_ID_LEN])
{
    eng_job_t j;
    memset(&j, 0, sizeof(j));
    cmn_uuid_generate(j.id);
    snprintf(j.kind, sizeof(j.kind), "migrate");
    snprintf(j.state, sizeof(j.state), "started");
    snprintf(j.vm_id, sizeof(j.vm_id), "%s", vm->id);
    snprintf(j.source_host_id, sizeof(j.source_host_id), "%s", t->a);
    snprintf(j.target_host_id, sizeof(j.target_host_id), "%s", t->b);
    j.started_ms = (int64_t)cmn_time_ms();
    assert_int_equal(eng_store_job_put(t->ctx.store, &j), 0);
    snprintf(id, ENG_ID_LEN, "%s", j.id);
    eng_migrate_destroy(&t->ctx.migrate);
    t->ctx.migrate = eng_migrate_new(&t->ctx, NULL);
    assert_non_null(t->ctx.migrate);
}

static void s_progress(t_env_t *t, const char *host, const char *job,
                       const char *vm, Herd__JobState st, unsigned pct,
                       const char *why)
{
    Herd__JobProgress p = HERD__JOB_PROGRESS__INIT;
    Herd__Result r = HERD__RESULT__INIT;
    p.job_id = (char *)job;
    p.vm_id = (char *)vm;
    p.state = st;
    p.percent = pct;
    p.memory_total = 64 * MIB;
    p.memory_remaining = 64 * MIB * (100 - pct) / 100;
    if (why) {
        r.code = CMN_ERR_LIBVIRT;
        r.message = (char *)why;
        p.result = &r;
    }
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_JOB_PROGRESS;
    env.job_progress = &p;
    s_frame(t, host, &env);
}

static void s_event(t_env_t *t, const char *host, const eng_vm_t *vm, int ev,
                    int detail, int state)
{
    Herd__VmEvent e = HERD__VM_EVENT__INIT;
    e.vm_id = (char *)vm->id;
    e.name = (char *)vm->name;
    e.event = ev;
    e.detail = detail;
    e.state = state;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_EVENT;
    env.vm_event = &e;
    s_frame(t, host, &env);
}

static bool s_event_has(t_env_t *t, int code, const char *text)
{
    eng_event_t *ev = NULL;
    size_t n = 0;
    assert_int_equal(eng_store_event_list(t->ctx.store, 0, 0, true, &ev, &n),
                     0);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = ev[i].code == code && strstr(ev[i].description, text);
    free(ev);
    return found;
}

static void test_job_after_restart_lands(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, got;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_MIGRATING);
    char job[ENG_ID_LEN];
    s_job(t, &v1, job);

    s_progress(t, t->a, job, v1.id, HERD__JOB_STATE__JOB_STATE_RUNNING, 40,
               NULL);
    json_t *m = eng_migrate_vm_json(&t->ctx, v1.id);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "progress")), "40");
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(m, "target_host"), "id")), t->b);
    json_decref(m);

    /* The target's copy and its events while migrating change nothing. */
    s_event(t, t->b, &v1, 2 /* STARTED */, 1, 3 /* paused */);
    s_event(t, t->a, &v1, 3 /* SUSPENDED */, 1, 3);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "migrating");
    assert_string_equal(got.host_id, t->a);
    /* Progress from the wrong host is ignored. */
    s_progress(t, t->b, job, v1.id, HERD__JOB_STATE__JOB_STATE_DONE, 100, NULL);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "migrating");

    s_progress(t, t->a, job, v1.id, HERD__JOB_STATE__JOB_STATE_DONE, 100, NULL);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "up");
    assert_string_equal(got.host_id, t->b);
    eng_job_t j;
    assert_int_equal(eng_store_job_get(t->ctx.store, job, &j), 0);
    assert_string_equal(j.state, "finished");
    assert_int_equal(j.percent, 100);
    assert_true(s_event_has(t, ENG_EV_MIGRATION_DONE, "completed"));

    /* The source's stop for the migration arrives after the DONE. */
    s_event(t, t->a, &v1, 5 /* STOPPED */, 3 /* MIGRATED */, 5);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "up");
    assert_string_equal(got.host_id, t->b);
}

static void test_job_failed_vm_stays(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, got;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_MIGRATING);
    char job[ENG_ID_LEN];
    s_job(t, &v1, job);
    s_progress(t, t->a, job, v1.id, HERD__JOB_STATE__JOB_STATE_FAILED, 30,
               "internal error: client socket is closed");
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "up");
    assert_string_equal(got.host_id, t->a);
    eng_job_t j;
    assert_int_equal(eng_store_job_get(t->ctx.store, job, &j), 0);
    assert_string_equal(j.state, "failed");
    assert_true(s_event_has(t, ENG_EV_MIGRATION_FAILED,
                            "client socket is closed"));
    assert_null(eng_migrate_vm_json(&t->ctx, v1.id));
    /* Ended jobs are pruned with age; running ones never. */
    char job2[ENG_ID_LEN];
    s_job(t, &v1, job2);
    assert_int_equal(eng_store_job_prune(t->ctx.store,
                                         (int64_t)cmn_time_ms() + 1000), 1);
    assert_int_equal(eng_store_job_get(t->ctx.store, job, &j), -1);
    assert_int_equal(eng_store_job_get(t->ctx.store, job2, &j), 0);
}

static void test_report_from_target_lands(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, got;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_MIGRATING);
    char job[ENG_ID_LEN];
    s_job(t, &v1, job);
    Herd__VmStatus vs = HERD__VM_STATUS__INIT;
    vs.vm_id = v1.id;
    vs.name = v1.name;
    Herd__VmStatus *list[] = { &vs };
    Herd__VmReport r = HERD__VM_REPORT__INIT;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_REPORT;
    env.vm_report = &r;

    /* The source lists nothing (it moved) and the target has it paused
     * (incoming): still migrating. */
    s_frame(t, t->a, &env);
    vs.state = 3;
    r.n_vms = 1;
    r.vms = list;
    s_frame(t, t->b, &env);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "migrating");

    /* Running on the target: it landed while nobody told the engine. */
    vs.state = 1;
    s_frame(t, t->b, &env);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "up");
    assert_string_equal(got.host_id, t->b);
    eng_job_t j;
    assert_int_equal(eng_store_job_get(t->ctx.store, job, &j), 0);
    assert_string_equal(j.state, "finished");
}

/* The target's RESUMED (migrated) event ends the job as landed even when
 * the source's DONE never comes. */
static void test_target_resumed_lands(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, got;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_MIGRATING);
    char job[ENG_ID_LEN];
    s_job(t, &v1, job);
    s_event(t, t->b, &v1, 4 /* RESUMED */, 1 /* MIGRATED */, 1);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "up");
    assert_string_equal(got.host_id, t->b);
    eng_job_t j;
    assert_int_equal(eng_store_job_get(t->ctx.store, job, &j), 0);
    assert_string_equal(j.state, "finished");
    /* The DONE that follows finds no job: nothing changes. */
    s_progress(t, t->a, job, v1.id, HERD__JOB_STATE__JOB_STATE_DONE, 100, NULL);
    assert_int_equal(eng_store_vm_get(t->ctx.store, v1.id, &got), 0);
    assert_string_equal(got.host_id, t->b);
}

static void test_maintenance(void **state)
{
    t_env_t *t = *state;
    eng_host_t h;
    cmn_err_reset();
    assert_int_equal(eng_maint_deactivate(&t->ctx, "hb", "admin"), 0);
    assert_int_equal(eng_store_host_get(t->ctx.store, t->b, &h), 0);
    assert_string_equal(eng_host_status_name(h.status), "maintenance");
    eng_host_clear(&h);
    assert_int_equal(eng_maint_activate(&t->ctx, "hb", "admin"), 0);
    assert_int_equal(eng_store_host_get(t->ctx.store, t->b, &h), 0);
    assert_string_equal(eng_host_status_name(h.status), "up");
    eng_host_clear(&h);

    /* A VM that cannot move (the link cannot send) keeps the host
     * preparing, with an event naming it. */
    eng_vm_t v1;
    s_vm(t, &v1, "stuck", 64 * MIB, t->a, ENG_VM_UP);
    assert_int_equal(eng_maint_deactivate(&t->ctx, "ha", "admin"), 0);
    assert_int_equal(eng_store_host_get(t->ctx.store, t->a, &h), 0);
    assert_string_equal(eng_host_status_name(h.status),
                        "preparing_for_maintenance");
    eng_host_clear(&h);
    assert_true(s_event_has(t, ENG_EV_MAINTENANCE, "VM stuck cannot move"));
    cmn_err_reset();
    assert_int_equal(eng_maint_activate(&t->ctx, "ha", "admin"), 0);
    assert_int_equal(eng_maint_activate(&t->ctx, "nosuch", "admin"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
}

/* evenly_distributed with the memory thresholds: a host short of free
 * memory with two VMs sends one to the host with plenty; the move is an
 * event (the detached link then cannot start it: another event). */
static void test_balance_by_memory(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, v2;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_UP);
    s_vm(t, &v2, "v2", 64 * MIB, t->a, ENG_VM_UP);
    eng_cluster_sched_t cs;
    assert_int_equal(eng_store_cluster_sched_get(t->ctx.store, v1.cluster_id,
                                                 &cs), 0);
    assert_int_equal(eng_migrate_balance_now(&t->ctx), 0);     /* none */
    assert_false(s_event_has(t, ENG_EV_BALANCE_MOVE, "moves VM"));
    snprintf(cs.policy, sizeof(cs.policy), "evenly_distributed");
    snprintf(cs.props, sizeof(cs.props), "{\"MaxFreeMemoryForOverUtilized\": "
             "\"8100\", \"MinFreeMemoryForUnderUtilized\": \"8150\"}");
    assert_int_equal(eng_store_cluster_sched_set(t->ctx.store, v1.cluster_id,
                                                 &cs), 0);
    assert_int_equal(eng_migrate_balance_now(&t->ctx), 0);
    assert_true(s_event_has(t, ENG_EV_BALANCE_MOVE,
                            "Load balancing (evenly_distributed) moves VM"));
    assert_true(s_event_has(t, ENG_EV_BALANCE_MOVE, "to host hb"));
}

/* A group changed in the store rules the next decision: together on the
 * host of v1, then (made negative) apart from it, then (v2 added) nowhere;
 * a refused update (name taken, unknown VM) changes nothing. */
static void test_affinity_update_next_pick(void **state)
{
    t_env_t *t = *state;
    eng_vm_t v1, v2, v3;
    s_vm(t, &v1, "v1", 64 * MIB, t->a, ENG_VM_UP);
    s_vm(t, &v2, "v2", 64 * MIB, t->b, ENG_VM_UP);
    s_vm(t, &v3, "v3", 64 * MIB, NULL, ENG_VM_DOWN);
    s_group(t, "other", &v2, NULL, NULL);
    eng_affinity_t g;
    memset(&g, 0, sizeof(g));
    cmn_uuid_generate(g.id);
    snprintf(g.name, sizeof(g.name), "pair");
    snprintf(g.cluster_id, sizeof(g.cluster_id), "%s", v1.cluster_id);
    g.positive = true;
    g.enforcing = true;
    g.nvms = 2;
    snprintf(g.vms[0], ENG_ID_LEN, "%s", v1.id);
    snprintf(g.vms[1], ENG_ID_LEN, "%s", v3.id);
    assert_int_equal(eng_store_affinity_insert(t->ctx.store, &g), 0);

    char out[ENG_ID_LEN] = "";
    cmn_err_reset();
    assert_int_equal(eng_migrate_pick(&t->ctx, &v3, NULL, out), 0);
    assert_string_equal(out, t->a);     /* together with v1 */

    g.positive = false;
    assert_int_equal(eng_store_affinity_update(t->ctx.store, &g), 0);
    out[0] = '\0';
    assert_int_equal(eng_migrate_pick(&t->ctx, &v3, NULL, out), 0);
    assert_string_equal(out, t->b);     /* apart from v1 */

    snprintf(g.vms[g.nvms++], ENG_ID_LEN, "%s", v2.id);
    snprintf(g.name, sizeof(g.name), "trio");
    assert_int_equal(eng_store_affinity_update(t->ctx.store, &g), 0);
    cmn_err_reset();
    assert_int_equal(eng_migrate_pick(&t->ctx, &v3, NULL, out), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_non_null(strstr(cmn_err_msg(), "affinity"));

    eng_affinity_t bad = g;
    snprintf(bad.name, sizeof(bad.name), "other");
    bad.nvms = 0;
    cmn_err_reset();
    assert_int_equal(eng_store_affinity_update(t->ctx.store, &bad), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);
    bad = g;
    cmn_uuid_generate(bad.vms[0]);
    bad.positive = true;
    cmn_err_reset();
    assert_int_equal(eng_store_affinity_update(t->ctx.store, &bad), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_uuid_generate(bad.id);
    cmn_err_reset();
    assert_int_equal(eng_store_affinity_update(t->ctx.store, &bad), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);

    eng_affinity_t got;
    assert_int_equal(eng_store_affinity_get(t->ctx.store, g.id, &got), 0);
    assert_string_equal(got.name, "trio");
    assert_false(got.positive);
    assert_true(got.enforcing);
    assert_int_equal(got.nvms, 3);
}

int main(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pick_memory_and_anti_affinity,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_affinity_update_next_pick,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_refusals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_job_after_restart_lands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_job_failed_vm_stays, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_from_target_lands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_target_resumed_lands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_maintenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_balance_by_memory, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
