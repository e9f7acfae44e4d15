/* The engine's agent link driven by a real DEALER over tcp://127.0.0.1:
 * hello, reconciliation of full reports, VM events, bad frames, sessions,
 * liveness, and a request from the engine answered by the "agent". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_conf.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "cmn_zmq.h"
#include "eng_agents.h"
#include "eng_ctx.h"
#include "fx_eng.h"

typedef struct {
    eng_ctx_t ctx;
    cmn_zsock_t *dealer;
    char host_id[ENG_ID_LEN];
    Herd__Envelope *reply;          /* last reply received */
    uint64_t next_id;
    int engine_requests;            /* requests from the engine answered */
    bool got_cb;
    eng_agent_reply_t cb_reply;
    char cb_msg[256];
} t_env_t;

static void s_dealer_recv(cmn_zsock_t *sock, const uint8_t *peer,
                          size_t peer_len, const uint8_t *data, size_t len,
                          void *opaque)
{
    (void)peer;
    (void)peer_len;
    t_env_t *t = opaque;
    Herd__Envelope *env = cmn_rpc_decode(data, len, 0, NULL);
    if (!env)
        return;
    if (env->in_reply_to == 0 && env->body_case == HERD__ENVELOPE__BODY_PING) {
        /* The engine pings us: answer like an agent. */
        Herd__Envelope r = HERD__ENVELOPE__INIT;
        Herd__Result res = HERD__RESULT__INIT;
        Herd__Pong pong = HERD__PONG__INIT;
        cmn_rpc_init_reply(&r, &res, ++t->next_id, env->id, CMN_OK, "");
        pong.sent_us = env->ping->sent_us;
        r.body_case = HERD__ENVELOPE__BODY_PONG;
        r.pong = &pong;
        size_t n;
        uint8_t *buf = cmn_rpc_encode(&r, &n);
        cmn_zsock_send(sock, NULL, 0, buf, n);
        free(buf);
        t->engine_requests++;
        cmn_rpc_free(env);
        return;
    }
    cmn_rpc_free(t->reply);
    t->reply = env;
    event_base_loopbreak(t->ctx.base);
}

static int setup(void **state)
{
    t_env_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(eng_conf_load(&t->ctx.conf, NULL), 0);
    t->ctx.conf.agents_curve = false;   /* plain DEALERs (CURVE: test_eng_enroll) */
    cmn_conf_set_str(&t->ctx.conf.agents_listen, "tcp://127.0.0.1:*");
    fx_eng_ctx_open(&t->ctx, false);
    cmn_uuid_generate(t->host_id);
    t->dealer = cmn_zsock_new_dealer(t->ctx.base,
                                     eng_agents_endpoint(t->ctx.agents),
                                     t->host_id, NULL, s_dealer_recv, t);
    assert_non_null(t->dealer);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    t_env_t *t = *state;
    cmn_zsock_destroy(&t->dealer);
    fx_eng_ctx_close(&t->ctx);
    cmn_rpc_free(t->reply);
    free(t);
    return 0;
}

/* Run the loop until a reply arrives (true) or `ms` pass (false). */
static bool s_wait(t_env_t *t, int ms)
{
    cmn_rpc_free(t->reply);
    t->reply = NULL;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    event_base_loopexit(t->ctx.base, &tv);
    event_base_dispatch(t->ctx.base);
    return t->reply != NULL;
}

/* Send, retrying while the DEALER is still connecting. */
static void s_send_raw(t_env_t *t, const void *buf, size_t len)
{
    for (int i = 0; i < 300; i++) {
        cmn_err_reset();
        if (cmn_zsock_send(t->dealer, NULL, 0, buf, len) == 0)
            return;
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(t->ctx.base, &tv);
        event_base_dispatch(t->ctx.base);
    }
    fail_msg("cannot send to the engine: %s", cmn_err_msg());
}

static uint64_t s_send(t_env_t *t, Herd__Envelope *env)
{
    env->id = ++t->next_id;
    size_t n;
    uint8_t *buf = cmn_rpc_encode(env, &n);
    assert_non_null(buf);
    s_send_raw(t, buf, n);
    free(buf);
    return env->id;
}

/* Send a request and wait for its reply. */
static Herd__Envelope *s_call(t_env_t *t, Herd__Envelope *env)
{
    uint64_t id = s_send(t, env);
    assert_true(s_wait(t, 3000));
    assert_int_equal(t->reply->in_reply_to, id);
    return t->reply;
}

/* A ping round trip: everything sent before it has been handled. */
static Herd__Envelope *s_ping(t_env_t *t)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Ping ping = HERD__PING__INIT;
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &ping;
    Herd__Envelope *r = s_call(t, &env);
    assert_int_equal(r->body_case, HERD__ENVELOPE__BODY_PONG);
    return r;
}

static Herd__Envelope *s_hello(t_env_t *t, const char *host_id)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    char *flags[] = { "vmx", "sse4_2" };
    h.host_id = (char *)host_id;
    h.hostname = "kvm-test-1";
    h.agent_version = "0.1.0";
    h.cpu_model = "Test CPU";
    h.cpu_count = 2;
    h.memory_bytes = UINT64_C(4) << 30;
    h.libvirt_version = "9.0.0";
    h.hypervisor = "QEMU";
    h.kvm = true;
    h.n_cpu_flags = 2;
    h.cpu_flags = flags;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    return s_call(t, &env);
}

static int s_code(const Herd__Envelope *r)
{
    return r->result ? r->result->code : -1;
}

static void s_put_vm(t_env_t *t, const char *name, eng_vm_status_t st,
                     char id_out[ENG_ID_LEN])
{
    eng_vm_t vm;
    memset(&vm, 0, sizeof(vm));
    eng_cluster_t cl;
    assert_int_equal(eng_store_cluster_get_by_name(t->ctx.store, "Default",
                                                   &cl), 0);
    cmn_uuid_generate(vm.id);
    snprintf(vm.name, sizeof(vm.name), "%s", name);
    snprintf(vm.cluster_id, sizeof(vm.cluster_id), "%s", cl.id);
    vm.memory_bytes = 64 << 20;
    vm.sockets = vm.cores = vm.threads = 1;
    snprintf(vm.display_type, sizeof(vm.display_type), "vnc");
    vm.status = st;
    snprintf(vm.host_id, sizeof(vm.host_id), "%s", t->host_id);
    assert_int_equal(eng_store_vm_insert(t->ctx.store, &vm), 0);
    memcpy(id_out, vm.id, ENG_ID_LEN);
}

static eng_vm_status_t s_vm_status(t_env_t *t, const char *id)
{
    eng_vm_t vm;
    assert_int_equal(eng_store_vm_get(t->ctx.store, id, &vm), 0);
    return vm.status;
}

static void test_hello_host_up(void **state)
{
    t_env_t *t = *state;
    Herd__Envelope *r = s_hello(t, t->host_id);
    assert_int_equal(s_code(r), CMN_OK);
    assert_int_equal(r->body_case, HERD__ENVELOPE__BODY_HELLO_ACK);
    assert_string_equal(r->hello_ack->engine_id, t->ctx.engine_id);
    assert_string_equal(r->hello_ack->host_name, "kvm-test-1");

    eng_host_t h = {0};
    assert_int_equal(eng_store_host_get(t->ctx.store, t->host_id, &h), 0);
    assert_string_equal(eng_host_status_name(h.status), "up");
    assert_string_equal(h.name, "kvm-test-1");
    assert_non_null(h.caps);
    assert_int_equal(json_integer_value(json_object_get(h.caps,
                                                        "memory_bytes")),
                     (json_int_t)4 << 30);
    assert_string_equal(json_string_value(json_object_get(h.caps,
                                                          "cpu_model")),
                        "Test CPU");
    assert_true(json_is_true(json_object_get(h.caps, "kvm")));
    assert_int_equal(json_array_size(json_object_get(h.caps, "cpu_flags")), 2);
    eng_host_clear(&h);
    assert_true(eng_agents_connected(t->ctx.agents, t->host_id));
    assert_false(s_ping(t)->pong->need_hello);
}

/* Regression: a host whose hostname and hostname-<id8> are both taken by
 * other hosts got the same name as one of them. */
static void test_hello_name_clash(void **state)
{
    t_env_t *t = *state;
    eng_cluster_t cl;
    assert_int_equal(eng_store_cluster_get_by_name(t->ctx.store, "Default",
                                                   &cl), 0);
    char short_name[ENG_NAME_LEN], full_name[ENG_NAME_LEN];
    snprintf(short_name, sizeof(short_name), "kvm-test-1-%.8s", t->host_id);
    snprintf(full_name, sizeof(full_name), "kvm-test-1-%s", t->host_id);
    const char *taken[] = { "kvm-test-1", short_name };
    for (int i = 0; i < 2; i++) {
        eng_host_t h = {0};
        cmn_uuid_generate(h.id);
        snprintf(h.name, sizeof(h.name), "%s", taken[i]);
        snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", cl.id);
        h.status = ENG_HOST_MAINTENANCE;
        assert_int_equal(eng_store_host_put(t->ctx.store, &h), 0);
    }
    Herd__Envelope *r = s_hello(t, t->host_id);
    assert_int_equal(s_code(r), CMN_OK);
    assert_string_equal(r->hello_ack->host_name, full_name);
    eng_host_t h = {0};
    assert_int_equal(eng_store_host_get(t->ctx.store, t->host_id, &h), 0);
    assert_string_equal(h.name, full_name);
    eng_host_clear(&h);
}

static void test_hello_wrong_host_id(void **state)
{
    t_env_t *t = *state;
    char other[ENG_ID_LEN];
    cmn_uuid_generate(other);
    Herd__Envelope *r = s_hello(t, other);
    assert_int_equal(s_code(r), CMN_ERR_PROTOCOL);
    assert_false(eng_agents_connected(t->ctx.agents, t->host_id));
}

static void test_report_reconciles(void **state)
{
    t_env_t *t = *state;
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    char gone[ENG_ID_LEN], runs[ENG_ID_LEN], clash[ENG_ID_LEN];
    s_put_vm(t, "gone", ENG_VM_UP, gone);
    s_put_vm(t, "runs", ENG_VM_UNKNOWN, runs);
    s_put_vm(t, "web", ENG_VM_DOWN, clash);

    char ext_id[ENG_ID_LEN], ext2_id[ENG_ID_LEN];
    cmn_uuid_generate(ext_id);
    cmn_uuid_generate(ext2_id);
    Herd__VmStatus v1 = HERD__VM_STATUS__INIT, v2 = HERD__VM_STATUS__INIT,
                   v3 = HERD__VM_STATUS__INIT;
    v1.vm_id = runs;
    v1.name = "runs";
    v1.state = 1;
    v2.vm_id = ext_id;
    v2.name = "found-by-virsh";
    v2.state = 1;
    v2.vcpus = 2;
    v2.memory_kib = 131072;
    v2.vnc_port = 5901;
    v3.vm_id = ext2_id;
    v3.name = "web";            /* clashes with an existing VM name */
    v3.state = 3;
    v3.vcpus = 1;
    v3.memory_kib = 65536;
    Herd__VmStatus *vms[] = { &v1, &v2, &v3 };
    Herd__VmReport rep = HERD__VM_REPORT__INIT;
    rep.n_vms = 3;
    rep.vms = vms;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_REPORT;
    env.vm_report = &rep;
    assert_int_equal(s_code(s_call(t, &env)), CMN_OK);

    assert_string_equal(eng_vm_status_name(s_vm_status(t, gone)), "down");
    assert_string_equal(eng_vm_status_name(s_vm_status(t, runs)), "up");
    eng_vm_t ext;
    assert_int_equal(eng_store_vm_get(t->ctx.store, ext_id, &ext), 0);
    assert_true(ext.external);
    assert_string_equal(ext.name, "found-by-virsh");
    assert_string_equal(eng_vm_status_name(ext.status), "up");
    assert_int_equal(ext.memory_bytes, 128 << 20);
    assert_int_equal(ext.sockets * ext.cores * ext.threads, 2);
    assert_string_equal(ext.host_id, t->host_id);
    assert_int_equal(ext.display_port, 5901);
    eng_vm_t ext2;
    assert_int_equal(eng_store_vm_get(t->ctx.store, ext2_id, &ext2), 0);
    assert_string_not_equal(ext2.name, "web");
    assert_non_null(strstr(ext2.name, "web-"));
    assert_string_equal(eng_vm_status_name(ext2.status), "paused");
}

static void test_vm_event_stopped(void **state)
{
    t_env_t *t = *state;
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    char id[ENG_ID_LEN];
    s_put_vm(t, "victim", ENG_VM_UP, id);
    Herd__VmEvent ev = HERD__VM_EVENT__INIT;
    ev.vm_id = id;
    ev.name = "victim";
    ev.event = 5;           /* STOPPED */
    ev.detail = 1;          /* DESTROYED */
    ev.state = 5;           /* SHUTOFF */
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_EVENT;
    env.vm_event = &ev;
    s_send(t, &env);
    s_ping(t);
    assert_string_equal(eng_vm_status_name(s_vm_status(t, id)), "down");

    /* and STARTED brings it back up, with its VNC port */
    ev.event = 2;
    ev.detail = 0;
    ev.state = 1;
    ev.vnc_port = 5900;
    s_send(t, &env);
    s_ping(t);
    eng_vm_t vm;
    assert_int_equal(eng_store_vm_get(t->ctx.store, id, &vm), 0);
    assert_string_equal(eng_vm_status_name(vm.status), "up");
    assert_int_equal(vm.display_port, 5900);
}

static void test_garbage_then_hello(void **state)
{
    t_env_t *t = *state;
    static const uint8_t junk1[] = { 0xff, 0xff, 0xff, 0x01, 0x02 };
    static const uint8_t junk2[] = { 0x08 };
    s_send_raw(t, junk1, sizeof(junk1));
    s_send_raw(t, junk2, sizeof(junk2));
    s_send_raw(t, "", 0);

    /* another protocol version: answered with code version */
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Ping ping = HERD__PING__INIT;
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &ping;
    env.id = 4242;
    size_t n;
    uint8_t *buf = cmn_rpc_encode(&env, &n);
    Herd__Envelope *e2 = herd__envelope__unpack(NULL, n, buf);
    free(buf);
    e2->version = 7;
    n = herd__envelope__get_packed_size(e2);
    buf = malloc(n);
    herd__envelope__pack(e2, buf);
    herd__envelope__free_unpacked(e2, NULL);
    s_send_raw(t, buf, n);
    free(buf);
    assert_true(s_wait(t, 3000));
    assert_int_equal(t->reply->in_reply_to, 4242);
    assert_int_equal(s_code(t->reply), CMN_ERR_VERSION);

    /* a reply of another version is not answered (no error ping-pong):
     * the next thing that comes back is the pong */
    Herd__Envelope rv = HERD__ENVELOPE__INIT;
    Herd__Result res = HERD__RESULT__INIT;
    cmn_rpc_init_reply(&rv, &res, 4343, 99, CMN_OK, "");
    buf = cmn_rpc_encode(&rv, &n);
    e2 = herd__envelope__unpack(NULL, n, buf);
    free(buf);
    e2->version = 7;
    n = herd__envelope__get_packed_size(e2);
    buf = malloc(n);
    herd__envelope__pack(e2, buf);
    herd__envelope__free_unpacked(e2, NULL);
    s_send_raw(t, buf, n);
    free(buf);
    s_ping(t);

    /* a valid hello still works */
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    assert_true(eng_agents_connected(t->ctx.agents, t->host_id));
}

static void test_no_session(void **state)
{
    t_env_t *t = *state;
    Herd__VmReport rep = HERD__VM_REPORT__INIT;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.body_case = HERD__ENVELOPE__BODY_VM_REPORT;
    env.vm_report = &rep;
    assert_int_equal(s_code(s_call(t, &env)), CMN_ERR_NO_SESSION);
    Herd__Envelope *p = s_ping(t);
    assert_true(p->pong->need_hello);
    assert_string_equal(p->pong->engine_id, t->ctx.engine_id);
}

static void s_cb(const eng_agent_reply_t *r, void *opaque)
{
    t_env_t *t = opaque;
    t->got_cb = true;
    t->cb_reply = *r;
    snprintf(t->cb_msg, sizeof(t->cb_msg), "%s", r->message);
    event_base_loopbreak(t->ctx.base);
}

static void test_engine_request(void **state)
{
    t_env_t *t = *state;
    /* no session: refused at once */
    assert_int_equal(eng_agents_ping(t->ctx.agents, t->host_id, s_cb, t), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    cmn_err_reset();
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    assert_int_equal(eng_agents_ping(t->ctx.agents, t->host_id, s_cb, t), 0);
    s_wait(t, 3000);
    assert_true(t->got_cb);
    assert_int_equal(t->cb_reply.code, CMN_OK);
    assert_int_equal(t->engine_requests, 1);
}

static void test_liveness(void **state)
{
    t_env_t *t = *state;
    t->ctx.conf.host_connecting_s = 1;
    t->ctx.conf.host_nonresponsive_s = 3;
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    char id[ENG_ID_LEN], off[ENG_ID_LEN];
    s_put_vm(t, "alive", ENG_VM_UP, id);
    s_put_vm(t, "off", ENG_VM_DOWN, off);
    /* a pending request fails when the host is lost */
    /* Ping first, then drop the dealer before the loop runs: the request
     * stays pending. (The other order fails the send when the ROUTER has
     * already seen the peer go, which valgrind's pace makes likely.) */
    assert_int_equal(eng_agents_ping(t->ctx.agents, t->host_id, s_cb, t), 0);
    cmn_zsock_destroy(&t->dealer);
    eng_host_status_t seen[8];
    int nseen = 0;
    for (int i = 0; i < 80 && nseen < 8; i++) {
        s_wait(t, 100);
        eng_host_t h = {0};
        assert_int_equal(eng_store_host_get(t->ctx.store, t->host_id, &h), 0);
        if (nseen == 0 || seen[nseen - 1] != h.status)
            seen[nseen++] = h.status;
        eng_host_clear(&h);
        if (h.status == ENG_HOST_NON_RESPONSIVE)
            break;
    }
    assert_int_equal(nseen, 3);
    assert_string_equal(eng_host_status_name(seen[0]), "up");
    assert_string_equal(eng_host_status_name(seen[1]), "connecting");
    assert_string_equal(eng_host_status_name(seen[2]), "non_responsive");
    assert_true(t->got_cb);
    assert_int_equal(t->cb_reply.code, CMN_ERR_UNAVAILABLE);
    assert_string_equal(eng_vm_status_name(s_vm_status(t, id)), "unknown");
    assert_string_equal(eng_vm_status_name(s_vm_status(t, off)), "down");
    assert_false(eng_agents_connected(t->ctx.agents, t->host_id));
}

/* Hosts the store knows start as connecting when the engine starts and go
 * non_responsive (their VMs unknown) if their agent never says hello. */
static void test_known_host_never_returns(void **state)
{
    t_env_t *t = *state;
    eng_cluster_t cl;
    assert_int_equal(eng_store_cluster_get_by_name(t->ctx.store, "Default",
                                                   &cl), 0);
    eng_host_t h = {0};
    cmn_uuid_generate(h.id);
    snprintf(h.name, sizeof(h.name), "old-host");
    snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", cl.id);
    h.status = ENG_HOST_UP;
    assert_int_equal(eng_store_host_put(t->ctx.store, &h), 0);
    char vm_id[ENG_ID_LEN];
    s_put_vm(t, "orphan", ENG_VM_UP, vm_id);
    eng_vm_t vm;
    assert_int_equal(eng_store_vm_get(t->ctx.store, vm_id, &vm), 0);
    snprintf(vm.host_id, sizeof(vm.host_id), "%s", h.id);
    assert_int_equal(eng_store_vm_update(t->ctx.store, &vm), 0);

    /* "restart" the engine's agent link */
    cmn_zsock_destroy(&t->dealer);
    eng_agents_destroy(&t->ctx.agents);
    t->ctx.conf.host_connecting_s = 1;
    t->ctx.conf.host_nonresponsive_s = 2;
    t->ctx.agents = eng_agents_new(&t->ctx);
    assert_non_null(t->ctx.agents);
    eng_host_t got = {0};
    assert_int_equal(eng_store_host_get(t->ctx.store, h.id, &got), 0);
    assert_string_equal(eng_host_status_name(got.status), "connecting");
    eng_host_clear(&got);
    assert_string_equal(eng_vm_status_name(s_vm_status(t, vm_id)), "up");
    for (int i = 0; i < 50; i++) {
        s_wait(t, 100);
        assert_int_equal(eng_store_host_get(t->ctx.store, h.id, &got), 0);
        eng_host_status_t st = got.status;
        eng_host_clear(&got);
        if (st == ENG_HOST_NON_RESPONSIVE)
            break;
    }
    assert_int_equal(eng_store_host_get(t->ctx.store, h.id, &got), 0);
    assert_string_equal(eng_host_status_name(got.status), "non_responsive");
    eng_host_clear(&got);
    assert_string_equal(eng_vm_status_name(s_vm_status(t, vm_id)), "unknown");
}

/* Maintenance is the administrator's: a reconnecting agent keeps it. */
static void test_maintenance_survives_hello(void **state)
{
    t_env_t *t = *state;
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    assert_int_equal(eng_agents_host_admin(t->ctx.agents, t->host_id, true,
                                           "test"), 0);
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    eng_host_t h = {0};
    assert_int_equal(eng_store_host_get(t->ctx.store, t->host_id, &h), 0);
    assert_string_equal(eng_host_status_name(h.status), "maintenance");
    eng_host_clear(&h);
    assert_true(eng_agents_connected(t->ctx.agents, t->host_id));
    assert_int_equal(eng_agents_host_admin(t->ctx.agents, t->host_id, false,
                                           "test"), 0);
    assert_int_equal(eng_store_host_get(t->ctx.store, t->host_id, &h), 0);
    assert_string_equal(eng_host_status_name(h.status), "up");
    eng_host_clear(&h);
}

/* A cut-off host (removed, key revoked) loses its session and its pending
 * requests at once. */
static void test_cut_off(void **state)
{
    t_env_t *t = *state;
    assert_int_equal(s_code(s_hello(t, t->host_id)), CMN_OK);
    assert_int_equal(eng_agents_ping(t->ctx.agents, t->host_id, s_cb, t), 0);
    cmn_zsock_destroy(&t->dealer);      /* the request stays pending */
    eng_agents_cut_off(t->ctx.agents, t->host_id, "host removed");
    assert_true(t->got_cb);
    assert_int_equal(t->cb_reply.code, CMN_ERR_UNAVAILABLE);
    assert_string_equal(t->cb_msg, "host removed");
    assert_false(eng_agents_connected(t->ctx.agents, t->host_id));
    eng_agents_cut_off(t->ctx.agents, t->host_id, "again");   /* harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_host_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_name_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_wrong_host_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_reconciles, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vm_event_stopped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_then_hello, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_liveness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_known_host_never_returns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_maintenance_survives_hello, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cut_off, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmn_zmq_shutdown();
    return rc;
}
