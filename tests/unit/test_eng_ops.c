/* User operations against a real store (":memory:") and event loop:
 * validation errors name the field, defaults are filled, state rules hold,
 * and a start with no host up is refused as unavailable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_rpc.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_ops.h"
#include "fx_eng.h"

#define MIB (UINT64_C(1) << 20)

typedef struct {
    eng_ctx_t ctx;
    int calls;
    cmn_code_t code;
} t_env_t;

static int setup(void **state)
{
    t_env_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(eng_conf_load(&t->ctx.conf, NULL), 0);
    fx_eng_ctx_open(&t->ctx, true);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    t_env_t *t = *state;
    fx_eng_ctx_close(&t->ctx);
    free(t);
    return 0;
}

static void s_spec(eng_vm_t *vm, const char *name)
{
    memset(vm, 0, sizeof(*vm));
    snprintf(vm->name, sizeof(vm->name), "%s", name);
    vm->memory_bytes = 64 * MIB;
    vm->ndisks = 1;
    vm->disks[0].size_bytes = 1024 * MIB;
    vm->nnics = 1;
}

/* Create must fail with `code` and a message naming `field`. */
static void s_create_fails(t_env_t *t, eng_vm_t *vm, cmn_code_t code,
                           const char *field)
{
    assert_int_equal(eng_vm_create(&t->ctx, vm, "admin"), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), cmn_code_name(code));
    if (!strstr(cmn_err_msg(), field))
        fail_msg("error '%s' does not name '%s'", cmn_err_msg(), field);
}

static void test_create_defaults(void **state)
{
    t_env_t *t = *state;
    eng_vm_t vm;
    s_spec(&vm, "demo-1");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    assert_true(cmn_uuid_valid(vm.id));
    eng_cluster_t cl;
    assert_int_equal(eng_store_cluster_get_by_name(t->ctx.store, "Default",
                                                   &cl), 0);
    eng_vm_t got;
    assert_int_equal(eng_store_vm_get(t->ctx.store, vm.id, &got), 0);
    assert_string_equal(got.name, "demo-1");
    assert_string_equal(got.cluster_id, cl.id);
    assert_string_equal(eng_vm_status_name(got.status), "down");
    assert_int_equal(got.sockets * got.cores * got.threads, 1);
    assert_string_equal(got.display_type, "vnc");
    assert_true(cmn_uuid_valid(got.disks[0].id));
    assert_string_equal(got.disks[0].interface, "virtio");
    assert_string_equal(got.disks[0].format, "cow");
    assert_true(got.disks[0].bootable);
    assert_string_equal(got.nics[0].name, "nic1");
    assert_string_equal(got.nics[0].model, "virtio");
    assert_int_equal(strlen(got.nics[0].mac), 17);
    assert_memory_equal(got.nics[0].mac, "56:6f:", 6);
    assert_false(got.external);

    /* the event log says who did it */
    eng_event_t *ev = NULL;
    size_t n = 0;
    assert_int_equal(eng_store_event_list(t->ctx.store, 0, 0, false, &ev, &n),
                     0);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found = found || (ev[i].code == ENG_EV_VM_ADDED &&
                          strcmp(ev[i].user, "admin") == 0 &&
                          strcmp(ev[i].vm_id, vm.id) == 0);
    free(ev);
    assert_true(found);
}

static void test_create_validation(void **state)
{
    t_env_t *t = *state;
    eng_vm_t vm;
    s_spec(&vm, "bad name!");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "name");
    s_spec(&vm, "");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "name");
    s_spec(&vm, "m");
    vm.memory_bytes = 8 * MIB;
    s_create_fails(t, &vm, CMN_ERR_INVALID, "memory");
    s_spec(&vm, "c");
    vm.sockets = 2;
    vm.cores = 257;
    s_create_fails(t, &vm, CMN_ERR_INVALID, "cpu");
    s_spec(&vm, "d");
    vm.disks[0].size_bytes = 1000;
    s_create_fails(t, &vm, CMN_ERR_INVALID, "disks[0]");
    s_spec(&vm, "d");
    snprintf(vm.disks[0].interface, sizeof(vm.disks[0].interface), "scsi");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "interface");
    s_spec(&vm, "n");
    snprintf(vm.nics[0].model, sizeof(vm.nics[0].model), "ne2k");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "nics[0]");
    s_spec(&vm, "n");
    snprintf(vm.nics[0].mac, sizeof(vm.nics[0].mac), "01:00:5e:00:00:01");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "mac");
    s_spec(&vm, "v");
    snprintf(vm.display_type, sizeof(vm.display_type), "rdp");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "display");
    s_spec(&vm, "cl");
    snprintf(vm.cluster_id, sizeof(vm.cluster_id), "nosuch");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "cluster");
    s_spec(&vm, "p");
    snprintf(vm.pinned_host_id, sizeof(vm.pinned_host_id), "nosuchhost");
    s_create_fails(t, &vm, CMN_ERR_INVALID, "placement_policy");

    s_spec(&vm, "twin");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    s_spec(&vm, "twin");
    s_create_fails(t, &vm, CMN_ERR_EXISTS, "name");

    /* a valid MAC given by the user is kept (lower-cased) */
    s_spec(&vm, "mac-ok");
    snprintf(vm.nics[0].mac, sizeof(vm.nics[0].mac), "52:54:00:AB:CD:EF");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    assert_string_equal(vm.nics[0].mac, "52:54:00:ab:cd:ef");
}

static void test_start_no_host(void **state)
{
    t_env_t *t = *state;
    eng_vm_t vm;
    s_spec(&vm, "lonely");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    assert_int_equal(eng_vm_start(&t->ctx, vm.id, NULL, "admin", NULL, NULL),
                     -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "unavailable");
    assert_non_null(strstr(cmn_err_msg(), "no host is up"));
    eng_vm_t got;
    assert_int_equal(eng_store_vm_get(t->ctx.store, vm.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "down");
    /* by name works too */
    assert_int_equal(eng_vm_start(&t->ctx, "lonely", NULL, "admin", NULL,
                                  NULL), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "unavailable");
    assert_int_equal(eng_vm_start(&t->ctx, "nosuch", NULL, "admin", NULL,
                                  NULL), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "not_found");
}

/* A host says hello (and optionally reports free memory) through the
 * agent message handler, as if over the socket. */
static void s_host(t_env_t *t, char id[ENG_ID_LEN], const char *name,
                   uint64_t mem, uint64_t free_mem)
{
    cmn_uuid_generate(id);
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = id;
    h.hostname = (char *)name;
    h.memory_bytes = mem;
    env.id = 1;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    size_t len, rlen;
    uint8_t *buf = cmn_rpc_encode(&env, &len);
    free(eng_agents_handle(t->ctx.agents, (uint8_t *)id, strlen(id), buf, len,
                           &rlen));
    free(buf);
    assert_true(eng_agents_connected(t->ctx.agents, id));
    if (!free_mem)
        return;
    Herd__HostStats hs = HERD__HOST_STATS__INIT;
    hs.mem_total = mem;
    hs.mem_free = free_mem;
    Herd__Envelope e2 = HERD__ENVELOPE__INIT;
    e2.id = 2;
    e2.body_case = HERD__ENVELOPE__BODY_HOST_STATS;
    e2.host_stats = &hs;
    buf = cmn_rpc_encode(&e2, &len);
    assert_null(eng_agents_handle(t->ctx.agents, (uint8_t *)id, strlen(id),
                                  buf, len, &rlen));
    free(buf);
}

/* The host of the newest start-failed event of `vm_id`. */
static void s_failed_start_host(t_env_t *t, const char *vm_id,
                                char out[ENG_ID_LEN])
{
    eng_event_t *ev = NULL;
    size_t n = 0;
    assert_int_equal(eng_store_event_list(t->ctx.store, 0, 0, true, &ev, &n),
                     0);
    out[0] = '\0';
    for (size_t i = 0; i < n && !out[0]; i++)
        if (ev[i].code == ENG_EV_VM_COMMAND_FAILED &&
            strcmp(ev[i].vm_id, vm_id) == 0)
            memcpy(out, ev[i].host_id, ENG_ID_LEN);
    free(ev);
}

/* The Up host with most free memory is chosen; a pinned host wins. The
 * detached agent link cannot send, so each start then fails: the VM goes
 * back down and the failure event names the chosen host. */
static void test_start_host_choice(void **state)
{
    t_env_t *t = *state;
    char small[ENG_ID_LEN], big[ENG_ID_LEN], host[ENG_ID_LEN];
    s_host(t, small, "small", UINT64_C(8) << 30, UINT64_C(1) << 30);
    s_host(t, big, "big", UINT64_C(8) << 30, UINT64_C(6) << 30);
    eng_vm_t vm;
    s_spec(&vm, "placed");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    assert_int_equal(eng_vm_start(&t->ctx, vm.id, NULL, "admin", NULL, NULL),
                     -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "unavailable");
    s_failed_start_host(t, vm.id, host);
    assert_string_equal(host, big);
    eng_vm_t got;
    assert_int_equal(eng_store_vm_get(t->ctx.store, vm.id, &got), 0);
    assert_string_equal(eng_vm_status_name(got.status), "down");

    s_spec(&vm, "pinned");
    snprintf(vm.pinned_host_id, sizeof(vm.pinned_host_id), "small");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    assert_string_equal(vm.pinned_host_id, small);
    assert_int_equal(eng_vm_start(&t->ctx, vm.id, NULL, "admin", NULL, NULL),
                     -1);
    s_failed_start_host(t, vm.id, host);
    assert_string_equal(host, small);
}

static void test_update_rules(void **state)
{
    t_env_t *t = *state;
    eng_vm_t vm;
    s_spec(&vm, "upd");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    eng_vm_t next = vm;
    next.memory_bytes = 128 * MIB;
    assert_int_equal(eng_vm_update(&t->ctx, &next, "admin"), 0);
    eng_vm_t got;
    assert_int_equal(eng_store_vm_get(t->ctx.store, vm.id, &got), 0);
    assert_int_equal(got.memory_bytes, 128 * MIB);

    got.status = ENG_VM_UP;
    assert_int_equal(eng_store_vm_update(t->ctx.store, &got), 0);
    next.memory_bytes = 256 * MIB;
    assert_int_equal(eng_vm_update(&t->ctx, &next, "admin"), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "state");
    /* and running VMs cannot be removed or started */
    assert_int_equal(eng_vm_remove(&t->ctx, vm.id, "admin", NULL, NULL), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "state");
    assert_int_equal(eng_vm_start(&t->ctx, vm.id, NULL, "admin", NULL, NULL),
                     -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "state");
    /* a down VM cannot be paused; an up one whose host is gone: unavailable */
    assert_int_equal(eng_vm_action(&t->ctx, vm.id, ENG_VM_ACT_RESUME, "admin",
                                   NULL, NULL), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "state");
    assert_int_equal(eng_vm_action(&t->ctx, vm.id, ENG_VM_ACT_STOP, "admin",
                                   NULL, NULL), -1);
    assert_string_equal(cmn_code_name(cmn_err_code()), "unavailable");
}

static void s_done(cmn_code_t code, const char *message, void *opaque)
{
    (void)message;
    t_env_t *t = opaque;
    t->calls++;
    t->code = code;
}

static void test_remove_down(void **state)
{
    t_env_t *t = *state;
    eng_vm_t vm;
    s_spec(&vm, "bye");
    assert_int_equal(eng_vm_create(&t->ctx, &vm, "admin"), 0);
    assert_int_equal(eng_vm_remove(&t->ctx, vm.id, "admin", s_done, t), 0);
    assert_int_equal(t->calls, 0);          /* never before returning */
    event_base_loop(t->ctx.base, EVLOOP_NONBLOCK);
    assert_int_equal(t->calls, 1);
    assert_int_equal(t->code, CMN_OK);
    eng_vm_t got;
    assert_int_equal(eng_store_vm_get(t->ctx.store, vm.id, &got), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
}

static void test_action_names(void **state)
{
    (void)state;
    assert_string_equal(eng_vm_action_name(ENG_VM_ACT_STOP), "stop");
    assert_string_equal(eng_vm_action_name(ENG_VM_ACT_SHUTDOWN), "shutdown");
    assert_string_equal(eng_vm_action_name(ENG_VM_ACT_RESUME), "resume");
    assert_string_equal(eng_vm_action_name(ENG_VM_ACT__LAST), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_validation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_start_no_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_host_choice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_down, setup, teardown),
        cmocka_unit_test(test_action_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
