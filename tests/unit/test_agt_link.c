/* The agent's engine link without a socket: every frame it would send goes
 * to a hook. Request validation (bad ids, ops, sizes), malformed frames,
 * ping, commands run on the worker pool against test:///default, and the
 * hello / report / need_hello session cycle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agt_conf.h"
#include "agt_link.h"
#include "agt_link_priv.h"
#include "agt_pool.h"
#include "agt_stats.h"
#include "agt_virt.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "fx_agt.h"

#define HOST_ID "11112222-3333-4444-8555-666677778888"
#define TEST_DOM "6695eb01-f6a4-8304-79aa-97f2502e193f"  /* test:///default's "test" */


typedef struct {
    struct event_base *base;
    agt_conf_t conf;
    agt_virt_t *virt;
    agt_pool_t *pool;
    agt_stats_t *stats;
    agt_link_t *link;
    fx_agt_sent_t sent;             /* frames the link sent, decoded */
    uint64_t next_id;
} fx_t;

/* with_virt: libvirt's test driver; with_pool: a worker pool and
 * statistics (the agent's daemon has both; tests and fuzzing may not). */
static fx_t *
fx_new2(bool with_virt, bool with_pool)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    cmn_err_reset();
    assert_int_equal(agt_conf_load(&f->conf, NULL), 0);
    f->conf.heartbeat_interval = 1;
    f->conf.request_timeout = 2;
    if (with_virt) {
        f->virt = agt_virt_new("test:///default", "/tmp/agt-link-test-images");
        assert_non_null(f->virt);
    }
    if (with_pool) {
        f->pool = agt_pool_new(f->base, 2);
        f->stats = agt_stats_new("/tmp");
        assert_non_null(f->pool);
        assert_non_null(f->stats);
    }
    agt_link_opts_t o = { .base = f->base, .conf = &f->conf, .host_id = HOST_ID,
                          .virt = f->virt, .pool = f->pool, .stats = f->stats };
    f->link = agt_link_new(&o);
    assert_non_null(f->link);
    agt_link_set_send_hook(f->link, fx_agt_on_send, &f->sent);
    f->next_id = 500;
    return f;
}

static fx_t *
fx_new(bool with_libvirt)
{
    return fx_new2(with_libvirt, with_libvirt);
}

static void
fx_free(fx_t *f)
{
    agt_virt_stop(f->virt);
    agt_pool_destroy(&f->pool);
    agt_link_destroy(&f->link);
    agt_stats_destroy(&f->stats);
    agt_virt_destroy(&f->virt);
    fx_agt_sent_clear(&f->sent);
    agt_conf_clear(&f->conf);
    event_base_free(f->base);
    free(f);
}

static void
feed(fx_t *f, Herd__Envelope *env)
{
    if (!env->id)
        env->id = f->next_id++;
    size_t len;
    uint8_t *buf = cmn_rpc_encode(env, &len);
    assert_non_null(buf);
    agt_link_handle_frame(f->link, buf, len);
    free(buf);
}

static Herd__Envelope *
reply_to(fx_t *f, uint64_t id)
{
    return fx_agt_reply_to(f->base, &f->sent, id);
}

/* Run the loop until a frame with body `bc` was sent (after index `from`). */
static Herd__Envelope *
sent_body(fx_t *f, size_t from, Herd__Envelope__BodyCase bc, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t++) {
        for (size_t i = from; i < f->sent.nout; i++)
            if (f->sent.out[i]->body_case == bc && f->sent.out[i]->in_reply_to == 0)
                return f->sent.out[i];
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    return NULL;
}

/* Send `env`, expect a reply with `code` whose message holds `frag`. */
static void
expect_error(fx_t *f, Herd__Envelope *env, cmn_code_t code, const char *frag)
{
    feed(f, env);
    Herd__Envelope *r = reply_to(f, env->id);
    assert_non_null(r);
    assert_non_null(r->result);
    if (r->result->code != (int)code || !strstr(r->result->message, frag))
        fail_msg("got %s '%s', want %s with '%s'", cmn_code_name(r->result->code),
                 r->result->message, cmn_code_name(code), frag);
}

static void
test_ping_gets_pong(void **state)
{
    (void)state;
    fx_t *f = fx_new(false);
    Herd__Ping p = HERD__PING__INIT;
    p.sent_us = 123456789;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_PING;
    e.ping = &p;
    feed(f, &e);
    Herd__Envelope *r = reply_to(f, e.id);
    assert_non_null(r);
    assert_int_equal(r->result->code, CMN_OK);
    assert_int_equal(r->body_case, HERD__ENVELOPE__BODY_PONG);
    assert_int_equal(r->pong->sent_us, 123456789);
    assert_true(r->id != 0);
    fx_free(f);
}

static void
test_malformed_frames_are_dropped(void **state)
{
    (void)state;
    fx_t *f = fx_new(false);
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
    agt_link_handle_frame(f->link, junk, sizeof(junk));
    agt_link_handle_frame(f->link, junk, 0);
    agt_link_handle_frame(f->link, NULL, 0);
    /* bigger than max_message_bytes: dropped before unpacking */
    size_t big = (size_t)f->conf.max_message_bytes + 1;
    uint8_t *b = calloc(1, big);
    agt_link_handle_frame(f->link, b, big);
    free(b);
    /* id 0 */
    Herd__Ping p = HERD__PING__INIT;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_PING;
    e.ping = &p;
    e.version = CMN_RPC_VERSION;
    uint8_t buf[64];
    size_t n = herd__envelope__pack(&e, buf);
    agt_link_handle_frame(f->link, buf, n);
    /* a stray reply to nothing we asked */
    Herd__Result res = HERD__RESULT__INIT;
    Herd__Envelope r = HERD__ENVELOPE__INIT;
    r.in_reply_to = 987654;
    r.result = &res;
    feed(f, &r);
    assert_int_equal(f->sent.nout, 0);
    fx_free(f);
}

static void
test_other_version_gets_version_error(void **state)
{
    (void)state;
    fx_t *f = fx_new(false);
    Herd__Ping p = HERD__PING__INIT;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_PING;
    e.ping = &p;
    e.version = 7;
    e.id = 42;
    uint8_t buf[64];
    size_t n = herd__envelope__pack(&e, buf);
    agt_link_handle_frame(f->link, buf, n);
    Herd__Envelope *r = reply_to(f, 42);
    assert_non_null(r);
    assert_int_equal(r->result->code, CMN_ERR_VERSION);
    fx_free(f);
}

static void
test_vm_op_validation(void **state)
{
    (void)state;
    fx_t *f = fx_new(false);
    Herd__VmOp op = HERD__VM_OP__INIT;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_VM_OP;
    e.vm_op = &op;

    op.op = HERD__VM_OP_KIND__VM_OP_START;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.vm_id: missing");
    e.id = 0;
    op.vm_id = "not-a-uuid";
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.vm_id: 'not-a-uuid' is not a UUID");
    e.id = 0;
    op.vm_id = "../../../etc/passwd-0000-0000-000000000000";
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.vm_id");
    e.id = 0;
    op.vm_id = TEST_DOM;
    op.op = 0;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.op: 0");
    e.id = 0;
    op.op = 9;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.op: 9");
    e.id = 0;
    op.op = -1;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.op");
    e.id = 0;
    op.op = HERD__VM_OP_KIND__VM_OP_SHUTDOWN;
    op.timeout_s = 100000;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_op.timeout_s");
    /* valid, but this link has no libvirt */
    e.id = 0;
    op.timeout_s = 5;
    expect_error(f, &e, CMN_ERR_UNAVAILABLE, "libvirt");
    fx_free(f);
}

static void
test_vm_create_and_disk_validation(void **state)
{
    (void)state;
    fx_t *f = fx_new(false);
    Herd__VmCreate vc = HERD__VM_CREATE__INIT;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_VM_CREATE;
    e.vm_create = &vc;
    vc.vm_id = TEST_DOM;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_create.domain_xml: missing");
    e.id = 0;
    vc.domain_xml = "<nope/>";
    expect_error(f, &e, CMN_ERR_INVALID, "vm_create.domain_xml");
    e.id = 0;
    vc.domain_xml = "<domain><uuid>00000000-0000-4000-8000-000000000000</uuid></domain>";
    expect_error(f, &e, CMN_ERR_INVALID, "differs from vm_id");
    e.id = 0;
    size_t big = (1u << 20) + 10;
    char *xml = malloc(big + 1);
    memset(xml, ' ', big);
    memcpy(xml, "<domain>", 8);
    xml[big] = '\0';
    vc.domain_xml = xml;
    expect_error(f, &e, CMN_ERR_INVALID, "vm_create.domain_xml: 1048586 bytes");
    free(xml);

    Herd__DiskCreate dc = HERD__DISK_CREATE__INIT;
    Herd__Envelope d = HERD__ENVELOPE__INIT;
    d.body_case = HERD__ENVELOPE__BODY_DISK_CREATE;
    d.disk_create = &dc;
    dc.disk_id = "a/b";
    dc.size_bytes = 1 << 20;
    expect_error(f, &d, CMN_ERR_INVALID, "disk_create.disk_id");
    d.id = 0;
    dc.disk_id = "0f0e0d0c-0b0a-4909-8807-060504030201";
    dc.size_bytes = 0;
    expect_error(f, &d, CMN_ERR_INVALID, "disk_create.size_bytes");

    Herd__DiskDelete dd = HERD__DISK_DELETE__INIT;
    Herd__Envelope x = HERD__ENVELOPE__INIT;
    x.body_case = HERD__ENVELOPE__BODY_DISK_DELETE;
    x.disk_delete = &dd;
    expect_error(f, &x, CMN_ERR_INVALID, "disk_delete.disk_id: missing");

    /* a body the agent does not serve */
    Herd__HostStats hs = HERD__HOST_STATS__INIT;
    Herd__Envelope h = HERD__ENVELOPE__INIT;
    h.body_case = HERD__ENVELOPE__BODY_HOST_STATS;
    h.host_stats = &hs;
    expect_error(f, &h, CMN_ERR_UNSUPPORTED, "host_stats");
    fx_free(f);
}

/* A VmOp request in e (body op) for domain vm. */
static void
vm_op_env(Herd__Envelope *e, Herd__VmOp *op, const char *vm, Herd__VmOpKind kind)
{
    herd__envelope__init(e);
    herd__vm_op__init(op);
    e->body_case = HERD__ENVELOPE__BODY_VM_OP;
    e->vm_op = op;
    op->vm_id = (char *)vm;
    op->op = kind;
}

/* Commands run on the pool against test:///default and answer. */
static void
test_commands_on_libvirt(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    Herd__VmOp op;
    Herd__Envelope e;
    vm_op_env(&e, &op, TEST_DOM, HERD__VM_OP_KIND__VM_OP_PAUSE);
    feed(f, &e);
    Herd__Envelope *r = reply_to(f, e.id);
    assert_non_null(r);
    assert_int_equal(r->result->code, CMN_OK);
    agt_vm_status_t st;
    assert_int_equal(agt_virt_vm_status(f->virt, TEST_DOM, &st), 0);
    assert_int_equal(st.state, VIR_DOMAIN_PAUSED);

    e.id = 0;
    op.vm_id = "00000000-0000-4000-8000-00000000beef";
    expect_error(f, &e, CMN_ERR_NOT_FOUND, "00000000-0000-4000-8000-00000000beef");

    Herd__DiskCreate dc = HERD__DISK_CREATE__INIT;
    Herd__Envelope d = HERD__ENVELOPE__INIT;
    d.body_case = HERD__ENVELOPE__BODY_DISK_CREATE;
    d.disk_create = &dc;
    dc.disk_id = "0F0E0D0C-0B0A-4909-8807-060504030201";   /* upper case is fine */
    dc.size_bytes = 1 << 20;
    feed(f, &d);
    r = reply_to(f, d.id);
    assert_non_null(r);
    assert_int_equal(r->result->code, CMN_OK);
    assert_int_equal(r->body_case, HERD__ENVELOPE__BODY_DISK_CREATED);
    assert_string_equal(r->disk_created->path,
        "/tmp/agt-link-test-images/0f0e0d0c-0b0a-4909-8807-060504030201.qcow2");
    assert_int_equal(r->disk_created->size_bytes, 1 << 20);

    Herd__DiskDelete dd = HERD__DISK_DELETE__INIT;
    Herd__Envelope x = HERD__ENVELOPE__INIT;
    x.body_case = HERD__ENVELOPE__BODY_DISK_DELETE;
    x.disk_delete = &dd;
    dd.disk_id = "0f0e0d0c-0b0a-4909-8807-060504030201";
    feed(f, &x);
    r = reply_to(f, x.id);
    assert_non_null(r);
    assert_int_equal(r->result->code, CMN_OK);
    rmdir("/tmp/agt-link-test-images");
    fx_free(f);
}

/* A guest that shuts down by itself (the test driver obeys at once) ends
 * the grace period through its STOPPED event: the reply comes long before
 * the 60 s grace, and the worker pool was not held meanwhile. */
static void
test_shutdown_ends_on_event(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    assert_int_equal(agt_virt_start_events(f->virt), 0);
    Herd__VmOp op = HERD__VM_OP__INIT;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.body_case = HERD__ENVELOPE__BODY_VM_OP;
    e.vm_op = &op;
    op.vm_id = TEST_DOM;
    op.op = HERD__VM_OP_KIND__VM_OP_SHUTDOWN;
    op.timeout_s = 60;
    feed(f, &e);
    Herd__Envelope *r = reply_to(f, e.id);      /* gives up after 5 s */
    assert_non_null(r);
    assert_int_equal(r->result->code, CMN_OK);
    agt_vm_status_t st;
    assert_int_equal(agt_virt_vm_status(f->virt, TEST_DOM, &st), 0);
    assert_int_equal(st.state, VIR_DOMAIN_SHUTOFF);
    /* the event went to the engine too */
    Herd__Envelope *ev = sent_body(f, 0, HERD__ENVELOPE__BODY_VM_EVENT, 5000);
    assert_non_null(ev);
    assert_string_equal(ev->vm_event->vm_id, TEST_DOM);

    /* reboot of a stopped domain: a state error */
    e.id = 0;
    op.op = HERD__VM_OP_KIND__VM_OP_REBOOT;
    expect_error(f, &e, CMN_ERR_STATE, "not running");
    fx_free(f);
}

static void
answer(fx_t *f, const Herd__Envelope *req, cmn_code_t code, Herd__Envelope *body)
{
    Herd__Envelope storage = HERD__ENVELOPE__INIT;
    Herd__Envelope *e = body ? body : &storage;
    Herd__Result res = HERD__RESULT__INIT;
    res.code = (int)code;
    res.message = code == CMN_OK ? "" : "no session for this host";
    e->in_reply_to = req->id;
    e->result = &res;
    e->id = 0;
    feed(f, e);
}

/* Answer `hello` with a hello_ack from engine `eid`. */
static void
ack_hello(fx_t *f, const Herd__Envelope *hello, const char *eid)
{
    Herd__HelloAck ack = HERD__HELLO_ACK__INIT;
    ack.engine_id = (char *)eid;
    ack.host_name = "h";
    Herd__Envelope ae = HERD__ENVELOPE__INIT;
    ae.body_case = HERD__ENVELOPE__BODY_HELLO_ACK;
    ae.hello_ack = &ack;
    answer(f, hello, CMN_OK, &ae);
}

/* Answer `ping` with a pong from engine `eid`. */
static void
pong_ping(fx_t *f, const Herd__Envelope *ping, const char *eid)
{
    Herd__Pong pong = HERD__PONG__INIT;
    pong.engine_id = (char *)eid;
    Herd__Envelope pe = HERD__ENVELOPE__INIT;
    pe.body_case = HERD__ENVELOPE__BODY_PONG;
    pe.pong = &pong;
    answer(f, ping, CMN_OK, &pe);
}

/* hello -> hello_ack -> full report; a pong asking for hello starts over,
 * and so does a reply with no_session. */
static void
test_session_cycle(void **state)
{
    (void)state;
    fx_t *f = fx_new(true);
    assert_int_equal(agt_link_start(f->link), 0);
    Herd__Envelope *hello = sent_body(f, 0, HERD__ENVELOPE__BODY_HELLO, 5000);
    assert_non_null(hello);
    assert_string_equal(hello->hello->host_id, HOST_ID);
    assert_string_equal(hello->hello->hypervisor, "TEST");
    assert_string_equal(hello->hello->libvirt_uri, "test:///default");
    assert_true(hello->hello->cpu_count > 0);
    assert_false(agt_link_has_session(f->link));

    size_t mark = f->sent.nout;
    ack_hello(f, hello, "engine-A");
    assert_true(agt_link_has_session(f->link));
    Herd__Envelope *rep = sent_body(f, mark, HERD__ENVELOPE__BODY_VM_REPORT, 5000);
    assert_non_null(rep);
    bool found = false;
    for (size_t i = 0; i < rep->vm_report->n_vms; i++)
        if (strcmp(rep->vm_report->vms[i]->vm_id, TEST_DOM) == 0) {
            found = true;
            assert_int_equal(rep->vm_report->vms[i]->state, VIR_DOMAIN_RUNNING);
        }
    assert_true(found);

    /* the report answered no_session: hello again */
    mark = f->sent.nout;
    answer(f, rep, CMN_ERR_NO_SESSION, NULL);
    assert_false(agt_link_has_session(f->link));
    hello = sent_body(f, mark, HERD__ENVELOPE__BODY_HELLO, 5000);
    assert_non_null(hello);
    ack_hello(f, hello, "engine-A");
    assert_true(agt_link_has_session(f->link));
    assert_non_null(sent_body(f, mark, HERD__ENVELOPE__BODY_VM_REPORT, 5000));

    /* a pong from a restarted engine: hello again */
    Herd__Envelope *ping = sent_body(f, f->sent.nout, HERD__ENVELOPE__BODY_PING, 5000);
    assert_non_null(ping);
    mark = f->sent.nout;
    pong_ping(f, ping, "engine-B");
    assert_false(agt_link_has_session(f->link));
    assert_non_null(sent_body(f, mark, HERD__ENVELOPE__BODY_HELLO, 5000));
    fx_free(f);
}

/* A link with a worker pool but no libvirt (virt NULL): hello, the
 * engine's hello_ack, the vm_report, heartbeats and statistics go on
 * without touching libvirt; the report has no VMs and commands are refused
 * naming libvirt. (It used to crash on the vm_report's libvirt
 * generation.) */
static void
test_pool_without_libvirt(void **state)
{
    (void)state;
    fx_t *f = fx_new2(false, true);
    f->conf.stats_interval = 1;
    assert_int_equal(agt_link_start(f->link), 0);
    Herd__Envelope *hello = sent_body(f, 0, HERD__ENVELOPE__BODY_HELLO, 5000);
    assert_non_null(hello);
    assert_string_equal(hello->hello->host_id, HOST_ID);
    size_t mark = f->sent.nout;
    ack_hello(f, hello, "engine-A");
    assert_true(agt_link_has_session(f->link));
    Herd__Envelope *rep = sent_body(f, mark, HERD__ENVELOPE__BODY_VM_REPORT, 5000);
    assert_non_null(rep);
    assert_int_equal(rep->vm_report->n_vms, 0);
    answer(f, rep, CMN_OK, NULL);

    /* heartbeats and host statistics go on */
    mark = f->sent.nout;
    Herd__Envelope *ping = sent_body(f, mark, HERD__ENVELOPE__BODY_PING, 3000);
    assert_non_null(ping);
    pong_ping(f, ping, "engine-A");
    assert_true(agt_link_has_session(f->link));
    assert_non_null(sent_body(f, mark, HERD__ENVELOPE__BODY_HOST_STATS, 3000));

    /* libvirt work is refused, naming libvirt */
    Herd__VmOp op;
    Herd__Envelope e;
    vm_op_env(&e, &op, TEST_DOM, HERD__VM_OP_KIND__VM_OP_START);
    expect_error(f, &e, CMN_ERR_UNAVAILABLE, "libvirt is not available");
    Herd__VmMigrate vm = HERD__VM_MIGRATE__INIT;
    Herd__Envelope m = HERD__ENVELOPE__INIT;
    m.body_case = HERD__ENVELOPE__BODY_VM_MIGRATE;
    m.vm_migrate = &vm;
    vm.vm_id = TEST_DOM;
    vm.job_id = "0f0e0d0c-0b0a-4909-8807-0605040302aa";
    vm.dest_uri = "qemu+tcp://dest/system";
    expect_error(f, &m, CMN_ERR_UNAVAILABLE, "libvirt");

    /* a new session later: another empty report, still no crash */
    mark = f->sent.nout;
    answer(f, rep, CMN_ERR_NO_SESSION, NULL);
    hello = sent_body(f, mark, HERD__ENVELOPE__BODY_HELLO, 5000);
    assert_non_null(hello);
    ack_hello(f, hello, "engine-A");
    rep = sent_body(f, mark, HERD__ENVELOPE__BODY_VM_REPORT, 5000);
    assert_non_null(rep);
    assert_int_equal(rep->vm_report->n_vms, 0);
    fx_free(f);
}

/* The rate limit of repeated warnings, with explicit times. */
static void
test_warn_limit(void **state)
{
    (void)state;
    agt_warn_limit_t w;
    memset(&w, 0, sizeof(w));
    unsigned n = 0;
    /* the first: logged */
    assert_true(agt_warn_limit_hit(&w, CMN_ERR_UNAVAILABLE, 1000, 60000, &n));
    assert_int_equal(n, 1);
    /* repeats within the minute: not logged */
    for (uint64_t t = 2000; t < 61000; t += 1000)
        assert_false(agt_warn_limit_hit(&w, CMN_ERR_UNAVAILABLE, t, 60000, &n));
    /* a minute after the last logged one: logged with the count */
    assert_true(agt_warn_limit_hit(&w, CMN_ERR_UNAVAILABLE, 61000, 60000, &n));
    assert_int_equal(n, 60);
    assert_false(agt_warn_limit_hit(&w, CMN_ERR_UNAVAILABLE, 62000, 60000, &n));
    /* another code: logged at once, as a first */
    assert_true(agt_warn_limit_hit(&w, CMN_ERR_DENIED, 63000, 60000, &n));
    assert_int_equal(n, 1);
    assert_false(agt_warn_limit_hit(&w, CMN_ERR_DENIED, 64000, 60000, &n));
    /* a clock going back never logs */
    assert_false(agt_warn_limit_hit(&w, CMN_ERR_DENIED, 10, 60000, &n));
    assert_int_equal(agt_warn_limit_reset(&w), 65);
    assert_int_equal(agt_warn_limit_reset(&w), 0);
    /* after the reset the next one is a first again */
    assert_true(agt_warn_limit_hit(&w, CMN_ERR_DENIED, 70000, 60000, &n));
    assert_int_equal(n, 1);
}

/* Lines of `path` holding `frag`. */
static int
count_lines(const char *path, const char *frag)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), fp))
        if (strstr(line, frag))
            n++;
    fclose(fp);
    return n;
}

/* Feed an error reply to the next hello (sent after index `mark`). */
static void
refuse_hello(fx_t *f, size_t mark, cmn_code_t code, const char *msg)
{
    Herd__Envelope *hello = sent_body(f, mark, HERD__ENVELOPE__BODY_HELLO, 3000);
    assert_non_null(hello);
    Herd__Result res = HERD__RESULT__INIT;
    res.code = (int)code;
    res.message = (char *)msg;
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    e.in_reply_to = hello->id;
    e.result = &res;
    feed(f, &e);
}

/* The engine refuses hello (the new-host rate limit, pending approval):
 * a warning naming the code and the engine's message the first time, not
 * at every heartbeat after; another code warns again. */
static void
test_hello_refusal_is_warned_once(void **state)
{
    (void)state;
    char path[] = "/tmp/agt-link-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cmn_log_set_file(path), 0);
    assert_int_equal(cmn_log_set_filters("agent.link:warn"), 0);
    fx_t *f = fx_new2(false, true);
    assert_int_equal(agt_link_start(f->link), 0);
    for (int i = 0; i < 3; i++)
        refuse_hello(f, f->sent.nout, CMN_ERR_UNAVAILABLE,
                     "too many new hosts; try again later");
    refuse_hello(f, f->sent.nout, CMN_ERR_DENIED, "host is pending approval");
    refuse_hello(f, f->sent.nout, CMN_ERR_DENIED, "host is pending approval");
    assert_false(agt_link_has_session(f->link));
    fx_free(f);
    cmn_log_set_file(NULL);
    cmn_log_set_filters("");
    int unavail = count_lines(path, "engine refused hello: unavailable: too many "
                              "new hosts; try again later");
    int denied = count_lines(path, "engine refused hello: denied: host is pending "
                             "approval");
    int all = count_lines(path, "refused hello");
    unlink(path);
    assert_int_equal(unavail, 1);
    assert_int_equal(denied, 1);
    assert_int_equal(all, 2);
}

int
main(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_gets_pong),
        cmocka_unit_test(test_malformed_frames_are_dropped),
        cmocka_unit_test(test_other_version_gets_version_error),
        cmocka_unit_test(test_vm_op_validation),
        cmocka_unit_test(test_vm_create_and_disk_validation),
        cmocka_unit_test(test_commands_on_libvirt),
        cmocka_unit_test(test_shutdown_ends_on_event),
        cmocka_unit_test(test_session_cycle),
        cmocka_unit_test(test_pool_without_libvirt),
        cmocka_unit_test(test_warn_limit),
        cmocka_unit_test(test_hello_refusal_is_warned_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
