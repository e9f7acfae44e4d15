/* The RPC envelope: validated decoding and the pending-request table.
 *
 * With HERD_FUZZ_CORPUS_OUT=DIR set, test_seed_corpus also writes the seed
 * inputs of tests/fuzz/corpus/fuzz_cmn_envelope/ into DIR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_err.h"
#include "cmn_rpc.h"

/* ---- encode / decode --------------------------------------------------- */

static uint8_t *
encode_ping(uint64_t id, uint64_t sent_us, size_t *len)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Ping ping = HERD__PING__INIT;
    ping.sent_us = sent_us;
    env.id = id;
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &ping;
    uint8_t *buf = cmn_rpc_encode(&env, len);
    assert_non_null(buf);
    assert_int_equal(env.version, CMN_RPC_VERSION);
    return buf;
}

static void
test_round_trip(void **state)
{
    (void)state;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Hello hello = HERD__HELLO__INIT;
    char *flags[] = { "vmx", "sse4_2" };
    hello.host_id = "0b7c8a52-7f43-4f4e-9b1a-3d2f6c1e9a01";
    hello.hostname = "kvm-01";
    hello.cpu_count = 8;
    hello.n_cpu_flags = 2;
    hello.cpu_flags = flags;
    hello.memory_bytes = 1ull << 34;
    env.id = 42;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &hello;

    size_t len = 0;
    uint8_t *buf = cmn_rpc_encode(&env, &len);
    assert_non_null(buf);
    assert_true(len > 0);

    cmn_err_reset();
    uint64_t id = 0;
    Herd__Envelope *got = cmn_rpc_decode(buf, len, 4096, &id);
    assert_non_null(got);
    assert_int_equal(id, 42);
    assert_int_equal(got->version, CMN_RPC_VERSION);
    assert_int_equal(got->id, 42);
    assert_int_equal(got->body_case, HERD__ENVELOPE__BODY_HELLO);
    assert_string_equal(got->hello->hostname, "kvm-01");
    assert_int_equal(got->hello->n_cpu_flags, 2);
    assert_string_equal(got->hello->cpu_flags[1], "sse4_2");
    assert_int_equal(got->hello->memory_bytes, 1ull << 34);
    assert_string_equal(cmn_rpc_body_name(got), "hello");
    cmn_rpc_free(got);
    free(buf);
}

static void
test_reply_round_trip(void **state)
{
    (void)state;
    Herd__Envelope env;
    Herd__Result res;
    cmn_rpc_init_reply(&env, &res, 7, 3, CMN_ERR_NOT_FOUND, "no such VM");
    size_t len;
    uint8_t *buf = cmn_rpc_encode(&env, &len);
    Herd__Envelope *got = cmn_rpc_decode(buf, len, 0, NULL);
    assert_non_null(got);
    assert_int_equal(got->in_reply_to, 3);
    assert_non_null(got->result);
    assert_int_equal(got->result->code, CMN_ERR_NOT_FOUND);
    assert_string_equal(got->result->message, "no such VM");
    assert_string_equal(cmn_rpc_body_name(got), "none");
    cmn_rpc_free(got);
    free(buf);
}

static void
test_oversized_rejected_before_unpack(void **state)
{
    (void)state;
    /* Garbage that would not unpack: the size check must come first. */
    uint8_t junk[200];
    memset(junk, 0xff, sizeof(junk));
    cmn_err_reset();
    assert_null(cmn_rpc_decode(junk, sizeof(junk), 100, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_TOO_BIG);

    size_t len;
    uint8_t *buf = encode_ping(5, 1, &len);
    cmn_err_reset();
    assert_null(cmn_rpc_decode(buf, len, len - 1, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_TOO_BIG);
    cmn_err_reset();
    Herd__Envelope *ok = cmn_rpc_decode(buf, len, len, NULL);
    assert_non_null(ok);
    cmn_rpc_free(ok);
    free(buf);
}

static void
test_wrong_version_id_recovered(void **state)
{
    (void)state;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Ping ping = HERD__PING__INIT;
    env.id = 99;
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &ping;
    /* cmn_rpc_encode() stamps the version, so pack by hand. */
    env.version = CMN_RPC_VERSION + 1;
    size_t len = herd__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    herd__envelope__pack(&env, buf);

    cmn_err_reset();
    uint64_t id = 0;
    assert_null(cmn_rpc_decode(buf, len, 0, &id));
    assert_int_equal(cmn_err_code(), CMN_ERR_VERSION);
    assert_int_equal(id, 99);
    free(buf);
}

static void
test_id_zero_rejected(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = encode_ping(0, 1, &len);
    cmn_err_reset();
    assert_null(cmn_rpc_decode(buf, len, 0, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_PROTOCOL);
    assert_non_null(strstr(cmn_err_msg(), "id 0"));
    free(buf);
}

static void
test_no_body_no_result_rejected(void **state)
{
    (void)state;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    env.id = 4;
    size_t len;
    uint8_t *buf = cmn_rpc_encode(&env, &len);
    cmn_err_reset();
    assert_null(cmn_rpc_decode(buf, len, 0, NULL));
    assert_int_equal(cmn_err_code(), CMN_ERR_PROTOCOL);
    free(buf);
}

static void
test_unknown_result_code_rejected(void **state)
{
    (void)state;
    int bad[] = { CMN_ERR__LAST, -1, 1000 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Herd__Envelope env;
        Herd__Result res;
        cmn_rpc_init_reply(&env, &res, 8, 2, CMN_OK, "x");
        res.code = bad[i];
        size_t len;
        uint8_t *buf = cmn_rpc_encode(&env, &len);
        cmn_err_reset();
        assert_null(cmn_rpc_decode(buf, len, 0, NULL));
        assert_int_equal(cmn_err_code(), CMN_ERR_PROTOCOL);
        assert_non_null(strstr(cmn_err_msg(), "result code"));
        free(buf);
    }
}

static void
test_garbage_rejected(void **state)
{
    (void)state;
    const uint8_t g1[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t g2[] = { 0x0a, 0x80 };              /* truncated length */
    const uint8_t g3[] = { 0x52, 0x05, 0x08 };        /* hello, 5 bytes, only 1 */
    const char *text = "GET / HTTP/1.1\r\n\r\n";
    struct { const uint8_t *b; size_t n; } cases[] = {
        { g1, sizeof(g1) }, { g2, sizeof(g2) }, { g3, sizeof(g3) },
        { (const uint8_t *)text, strlen(text) }, { g1, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cmn_err_reset();
        assert_null(cmn_rpc_decode(cases[i].b, cases[i].n, 0, NULL));
        assert_int_equal(cmn_err_code(), CMN_ERR_PROTOCOL);
    }
    /* Every truncation of a valid message fails cleanly or decodes. */
    size_t len;
    uint8_t *buf = encode_ping(12345678, 987654321, &len);
    for (size_t n = 0; n < len; n++) {
        cmn_err_reset();
        Herd__Envelope *e = cmn_rpc_decode(buf, n, 0, NULL);
        if (e)
            cmn_rpc_free(e);
        else
            assert_int_not_equal(cmn_err_code(), CMN_OK);
    }
    free(buf);
}

/* ---- pending table ----------------------------------------------------- */

typedef struct {
    int calls;
    cmn_code_t code;
    char message[128];
    uint64_t in_reply_to;
    /* reentrancy */
    cmn_rpc_t **rpc;
    bool send_new;              /* register a new request from the callback */
    bool destroy;               /* destroy the table from the callback */
    struct event_base *base;
} rec_t;

static void
on_reply(const Herd__Envelope *env, cmn_code_t code, const char *message,
         void *opaque)
{
    rec_t *r = opaque;
    assert_non_null(message);
    r->calls++;
    r->code = code;
    snprintf(r->message, sizeof(r->message), "%s", message);
    r->in_reply_to = env ? env->in_reply_to : 0;
    if (r->send_new) {
        r->send_new = false;
        uint64_t id = cmn_rpc_next_id(*r->rpc);
        assert_int_equal(cmn_rpc_expect(*r->rpc, id, "h1", 60000, on_reply, r), 0);
    }
    if (r->destroy)
        cmn_rpc_destroy(r->rpc);
    if (r->base)
        event_base_loopbreak(r->base);
}

static Herd__Envelope
reply_to(uint64_t request, Herd__Result *res, cmn_code_t code, const char *msg)
{
    Herd__Envelope env;
    cmn_rpc_init_reply(&env, res, 1000 + request, request, code, msg);
    return env;
}

static void
test_reply_matched_by_id(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    cmn_rpc_t *rpc = cmn_rpc_new(base);
    rec_t a = { 0 }, b = { 0 }, c = { 0 };
    uint64_t ia = cmn_rpc_next_id(rpc), ib = cmn_rpc_next_id(rpc),
             ic = cmn_rpc_next_id(rpc);
    assert_true(ia != 0 && ib > ia && ic > ib);
    assert_int_equal(cmn_rpc_expect(rpc, ia, "h1", 60000, on_reply, &a), 0);
    assert_int_equal(cmn_rpc_expect(rpc, ib, "h1", 60000, on_reply, &b), 0);
    assert_int_equal(cmn_rpc_expect(rpc, ic, "h2", 60000, on_reply, &c), 0);
    assert_int_equal(cmn_rpc_pending(rpc), 3);

    /* Answers out of order. */
    Herd__Result res;
    Herd__Envelope env = reply_to(ic, &res, CMN_OK, "");
    assert_true(cmn_rpc_complete(rpc, "h2", &env));
    env = reply_to(ia, &res, CMN_ERR_LIBVIRT, "domain not found");
    assert_true(cmn_rpc_complete(rpc, NULL, &env));
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.code, CMN_ERR_LIBVIRT);
    assert_string_equal(a.message, "domain not found");
    assert_int_equal(a.in_reply_to, ia);
    assert_int_equal(b.calls, 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.code, CMN_OK);
    assert_int_equal(cmn_rpc_pending(rpc), 1);

    /* A second reply to the same id is stray. */
    env = reply_to(ia, &res, CMN_OK, "");
    assert_false(cmn_rpc_complete(rpc, NULL, &env));
    assert_int_equal(a.calls, 1);

    /* A reply from the wrong peer does not complete the request. */
    env = reply_to(ib, &res, CMN_OK, "");
    assert_false(cmn_rpc_complete(rpc, "h2", &env));
    assert_int_equal(b.calls, 0);
    assert_true(cmn_rpc_complete(rpc, "h1", &env));
    assert_int_equal(b.calls, 1);
    assert_int_equal(cmn_rpc_pending(rpc), 0);

    /* Unknown ids and a missing in_reply_to. */
    env = reply_to(777, &res, CMN_OK, "");
    assert_false(cmn_rpc_complete(rpc, NULL, &env));
    env.in_reply_to = 0;
    assert_false(cmn_rpc_complete(rpc, NULL, &env));

    /* Duplicate registration. */
    cmn_err_reset();
    assert_int_equal(cmn_rpc_expect(rpc, 50, NULL, 1000, on_reply, &a), 0);
    assert_int_equal(cmn_rpc_expect(rpc, 50, NULL, 1000, on_reply, &a), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);

    cmn_rpc_destroy(&rpc);
    assert_null(rpc);
    assert_int_equal(a.calls, 2);
    assert_int_equal(a.code, CMN_ERR_UNAVAILABLE);
    event_base_free(base);
}

static void
test_timeout_fires(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    cmn_rpc_t *rpc = cmn_rpc_new(base);
    rec_t slow = { .base = base }, fast = { 0 };
    uint64_t i1 = cmn_rpc_next_id(rpc), i2 = cmn_rpc_next_id(rpc);
    assert_int_equal(cmn_rpc_expect(rpc, i1, "h1", 30, on_reply, &slow), 0);
    assert_int_equal(cmn_rpc_expect(rpc, i2, "h1", 60000, on_reply, &fast), 0);
    event_base_dispatch(base);
    assert_int_equal(slow.calls, 1);
    assert_int_equal(slow.code, CMN_ERR_TIMEOUT);
    assert_int_equal(fast.calls, 0);
    assert_int_equal(cmn_rpc_pending(rpc), 1);

    /* The late reply is stray now. */
    Herd__Result res;
    Herd__Envelope env = reply_to(i1, &res, CMN_OK, "");
    assert_false(cmn_rpc_complete(rpc, NULL, &env));
    assert_int_equal(slow.calls, 1);

    cmn_rpc_destroy(&rpc);
    assert_int_equal(fast.calls, 1);
    assert_int_equal(fast.code, CMN_ERR_UNAVAILABLE);
    event_base_free(base);
}

static void
test_fail_key(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    cmn_rpc_t *rpc = cmn_rpc_new(base);
    rec_t r[5] = { 0 };
    const char *keys[5] = { "h1", "h2", "h1", NULL, "h1" };
    for (int i = 0; i < 5; i++)
        assert_int_equal(cmn_rpc_expect(rpc, cmn_rpc_next_id(rpc), keys[i], 60000,
                                         on_reply, &r[i]), 0);
    cmn_rpc_fail_key(rpc, "h1", CMN_ERR_UNAVAILABLE, "host h1 went away");
    for (int i = 0; i < 5; i++) {
        bool h1 = keys[i] && strcmp(keys[i], "h1") == 0;
        assert_int_equal(r[i].calls, h1 ? 1 : 0);
        if (h1) {
            assert_int_equal(r[i].code, CMN_ERR_UNAVAILABLE);
            assert_string_equal(r[i].message, "host h1 went away");
        }
    }
    assert_int_equal(cmn_rpc_pending(rpc), 2);
    cmn_rpc_fail_key(rpc, NULL, CMN_ERR_TIMEOUT, "all");
    assert_int_equal(r[1].calls, 1);
    assert_int_equal(r[3].calls, 1);
    assert_int_equal(cmn_rpc_pending(rpc), 0);
    cmn_rpc_destroy(&rpc);
    event_base_free(base);
}

static void
test_callback_reentrancy(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    cmn_rpc_t *rpc = cmn_rpc_new(base);

    /* A callback that sends a new request. */
    rec_t r = { .rpc = &rpc, .send_new = true };
    uint64_t id = cmn_rpc_next_id(rpc);
    assert_int_equal(cmn_rpc_expect(rpc, id, "h1", 60000, on_reply, &r), 0);
    Herd__Result res;
    Herd__Envelope env = reply_to(id, &res, CMN_OK, "");
    assert_true(cmn_rpc_complete(rpc, "h1", &env));
    assert_int_equal(r.calls, 1);
    assert_int_equal(cmn_rpc_pending(rpc), 1);

    /* A fail_key whose callbacks register new requests with the same key. */
    r.send_new = true;
    cmn_rpc_fail_key(rpc, "h1", CMN_ERR_UNAVAILABLE, "gone");
    assert_int_equal(r.calls, 2);
    assert_int_equal(cmn_rpc_pending(rpc), 1);

    /* A callback that destroys the table while other requests wait. */
    rec_t other = { 0 };
    assert_int_equal(cmn_rpc_expect(rpc, cmn_rpc_next_id(rpc), "h2", 60000,
                                    on_reply, &other), 0);
    rec_t killer = { .rpc = &rpc, .destroy = true };
    id = cmn_rpc_next_id(rpc);
    assert_int_equal(cmn_rpc_expect(rpc, id, "h3", 60000, on_reply, &killer), 0);
    env = reply_to(id, &res, CMN_OK, "");
    assert_true(cmn_rpc_complete(rpc, "h3", &env));
    assert_null(rpc);
    assert_int_equal(killer.calls, 1);
    assert_int_equal(other.calls, 1);
    assert_int_equal(other.code, CMN_ERR_UNAVAILABLE);
    assert_int_equal(r.calls, 3);

    /* The same from a timeout. */
    rpc = cmn_rpc_new(base);
    rec_t tk = { .rpc = &rpc, .destroy = true, .base = base };
    assert_int_equal(cmn_rpc_expect(rpc, cmn_rpc_next_id(rpc), NULL, 5, on_reply,
                                    &tk), 0);
    rec_t tw = { 0 };
    assert_int_equal(cmn_rpc_expect(rpc, cmn_rpc_next_id(rpc), NULL, 60000,
                                    on_reply, &tw), 0);
    event_base_dispatch(base);
    assert_null(rpc);
    assert_int_equal(tk.calls, 1);
    assert_int_equal(tk.code, CMN_ERR_TIMEOUT);
    assert_int_equal(tw.calls, 1);
    event_base_free(base);
}

static void
test_many_pending(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    cmn_rpc_t *rpc = cmn_rpc_new(base);
    enum { N = 5000 };
    rec_t *r = calloc(N, sizeof(*r));
    uint64_t *ids = calloc(N, sizeof(*ids));
    for (int i = 0; i < N; i++) {
        ids[i] = cmn_rpc_next_id(rpc);
        assert_int_equal(cmn_rpc_expect(rpc, ids[i], "h", 60000, on_reply, &r[i]), 0);
    }
    assert_int_equal(cmn_rpc_pending(rpc), N);
    for (int i = N - 1; i >= 0; i -= 2) {
        Herd__Result res;
        Herd__Envelope env = reply_to(ids[i], &res, CMN_OK, "");
        assert_true(cmn_rpc_complete(rpc, "h", &env));
    }
    assert_int_equal(cmn_rpc_pending(rpc), N / 2);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].calls, (i % 2) ? 1 : 0);
    cmn_rpc_destroy(&rpc);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].calls, 1);
    free(r);
    free(ids);
    event_base_free(base);
}

static void
test_body_names(void **state)
{
    (void)state;
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    assert_string_equal(cmn_rpc_body_name(&env), "none");
    assert_string_equal(cmn_rpc_body_name(NULL), "none");
    env.body_case = HERD__ENVELOPE__BODY_VM_OP;
    assert_string_equal(cmn_rpc_body_name(&env), "vm_op");
    env.body_case = HERD__ENVELOPE__BODY_DISK_CREATED;
    assert_string_equal(cmn_rpc_body_name(&env), "disk_created");
}

/* ---- seed corpus for tests/fuzz/fuzz_cmn_envelope ---------------------- */

static void
write_seed(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static void
seed_env(const char *dir, const char *name, Herd__Envelope *env)
{
    size_t len;
    uint8_t *buf = cmn_rpc_encode(env, &len);
    Herd__Envelope *back = cmn_rpc_decode(buf, len, 0, NULL);
    assert_non_null(back);
    cmn_rpc_free(back);
    if (dir)
        write_seed(dir, name, buf, len);
    free(buf);
}

static void
test_seed_corpus(void **state)
{
    (void)state;
    const char *dir = getenv("HERD_FUZZ_CORPUS_OUT");

    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__Ping ping = HERD__PING__INIT;
    ping.sent_us = 1795000000000000ull;
    env.id = 1;
    env.body_case = HERD__ENVELOPE__BODY_PING;
    env.ping = &ping;
    seed_env(dir, "ping.bin", &env);

    Herd__Hello hello = HERD__HELLO__INIT;
    Herd__Nic nic = HERD__NIC__INIT, *nics[] = { &nic };
    char *addrs[] = { "127.0.0.1/8" }, *flags[] = { "vmx", "avx2", "sse4_2" };
    nic.name = "eth0";
    nic.mac = "52:54:00:12:34:56";
    nic.up = true;
    nic.n_addresses = 1;
    nic.addresses = addrs;
    hello.host_id = "0b7c8a52-7f43-4f4e-9b1a-3d2f6c1e9a01";
    hello.hostname = "kvm-01";
    hello.agent_version = "0.1.0";
    hello.cpu_model = "Skylake-Client";
    hello.cpu_count = 4;
    hello.n_cpu_flags = 3;
    hello.cpu_flags = flags;
    hello.memory_bytes = 8ull << 30;
    hello.libvirt_version = "9.0.0";
    hello.n_nics = 1;
    hello.nics = nics;
    hello.kvm = true;
    env = (Herd__Envelope)HERD__ENVELOPE__INIT;
    env.id = 2;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    seed_env(dir, "hello.bin", &env);

    Herd__VmOp op = HERD__VM_OP__INIT;
    op.vm_id = "5f0c1f2e-8d4b-4b61-a0c4-2f8c6b0d9e11";
    op.op = HERD__VM_OP_KIND__VM_OP_SHUTDOWN;
    op.timeout_s = 60;
    env = (Herd__Envelope)HERD__ENVELOPE__INIT;
    env.id = 3;
    env.body_case = HERD__ENVELOPE__BODY_VM_OP;
    env.vm_op = &op;
    seed_env(dir, "vm_op.bin", &env);

    Herd__VmStatsBatch batch = HERD__VM_STATS_BATCH__INIT;
    Herd__VmStats vs = HERD__VM_STATS__INIT, *vms[] = { &vs };
    Herd__DiskStats ds = HERD__DISK_STATS__INIT, *dss[] = { &ds };
    ds.name = "vda";
    ds.rd_bytes = 4096;
    vs.vm_id = op.vm_id;
    vs.name = "demo";
    vs.state = 1;
    vs.cpu_usage = 12.5;
    vs.n_disks = 1;
    vs.disks = dss;
    batch.timestamp_ms = 1795000000000ull;
    batch.n_vms = 1;
    batch.vms = vms;
    env = (Herd__Envelope)HERD__ENVELOPE__INIT;
    env.id = 4;
    env.body_case = HERD__ENVELOPE__BODY_VM_STATS;
    env.vm_stats = &batch;
    seed_env(dir, "vm_stats.bin", &env);

    Herd__VmEvent ev = HERD__VM_EVENT__INIT;
    ev.vm_id = op.vm_id;
    ev.name = "demo";
    ev.event = 2;
    ev.state = 1;
    env = (Herd__Envelope)HERD__ENVELOPE__INIT;
    env.id = 5;
    env.body_case = HERD__ENVELOPE__BODY_VM_EVENT;
    env.vm_event = &ev;
    seed_env(dir, "vm_event.bin", &env);

    Herd__Result res;
    Herd__DiskCreated dc = HERD__DISK_CREATED__INIT;
    cmn_rpc_init_reply(&env, &res, 6, 33, CMN_OK, "");
    dc.path = "/var/lib/herd/images/x.qcow2";
    dc.size_bytes = 1ull << 30;
    env.body_case = HERD__ENVELOPE__BODY_DISK_CREATED;
    env.disk_created = &dc;
    seed_env(dir, "disk_created_reply.bin", &env);

    cmn_rpc_init_reply(&env, &res, 7, 34, CMN_ERR_LIBVIRT, "domain not found");
    seed_env(dir, "error_reply.bin", &env);

    if (!dir)
        return;
    /* Invalid ones: truncated, wrong version, garbage. */
    size_t len;
    env = (Herd__Envelope)HERD__ENVELOPE__INIT;
    env.id = 2;
    env.body_case = HERD__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    uint8_t *buf = cmn_rpc_encode(&env, &len);
    write_seed(dir, "hello_truncated.bin", buf, len / 2);
    free(buf);
    env.version = 7;
    len = herd__envelope__get_packed_size(&env);
    buf = malloc(len);
    herd__envelope__pack(&env, buf);
    write_seed(dir, "wrong_version.bin", buf, len);
    free(buf);
    const uint8_t garbage[] = { 0xff, 0x00, 0x52, 0x80, 0x80, 0x80, 0x80, 0x10, 0x0a };
    write_seed(dir, "garbage.bin", garbage, sizeof(garbage));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_oversized_rejected_before_unpack),
        cmocka_unit_test(test_wrong_version_id_recovered),
        cmocka_unit_test(test_id_zero_rejected),
        cmocka_unit_test(test_no_body_no_result_rejected),
        cmocka_unit_test(test_unknown_result_code_rejected),
        cmocka_unit_test(test_garbage_rejected),
        cmocka_unit_test(test_reply_matched_by_id),
        cmocka_unit_test(test_timeout_fires),
        cmocka_unit_test(test_fail_key),
        cmocka_unit_test(test_callback_reentrancy),
        cmocka_unit_test(test_many_pending),
        cmocka_unit_test(test_body_names),
        cmocka_unit_test(test_seed_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
