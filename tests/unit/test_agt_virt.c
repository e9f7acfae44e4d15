/* Domain and disk operations through agt_virt against libvirt's fake
 * hypervisor (test:///default), lifecycle events from the event thread,
 * and the XML / qcow2 helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "agt_virt.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

#define VM1 "5d6e7f80-1111-4222-8333-944455556666"

static const char s_xml[] =
    "<domain type='test'><name>agt-unit-1</name>"
    "<uuid>" VM1 "</uuid><memory>65536</memory><vcpu>1</vcpu>"
    "<os><type>hvm</type></os></domain>";

static int
state_of(agt_virt_t *v, const char *uuid)
{
    agt_vm_status_t st;
    cmn_err_reset();
    if (agt_virt_vm_status(v, uuid, &st) < 0)
        return -1;
    return st.state;
}

static void
op_ok(agt_virt_t *v, agt_vm_op_t op, unsigned tmo)
{
    cmn_err_reset();
    if (agt_virt_vm_op(v, VM1, op, tmo) != 0)
        fail_msg("%s: %s", agt_vm_op_name(op), cmn_err_msg());
}

static void
test_lifecycle(void **state)
{
    (void)state;
    agt_virt_t *v = agt_virt_new("test:///default", "/tmp");
    assert_non_null(v);
    cmn_err_reset();
    if (agt_virt_vm_create(v, VM1, s_xml, true) != 0)
        fail_msg("create: %s", cmn_err_msg());
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_RUNNING);

    op_ok(v, AGT_VM_OP_PAUSE, 0);
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_PAUSED);
    op_ok(v, AGT_VM_OP_PAUSE, 0);       /* again: still fine */
    op_ok(v, AGT_VM_OP_RESUME, 0);
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_RUNNING);
    op_ok(v, AGT_VM_OP_DESTROY, 0);
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_SHUTOFF);
    op_ok(v, AGT_VM_OP_DESTROY, 0);     /* already off: fine */
    op_ok(v, AGT_VM_OP_START, 0);
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_RUNNING);
    op_ok(v, AGT_VM_OP_PAUSE, 0);
    op_ok(v, AGT_VM_OP_START, 0);       /* start on paused resumes */
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_RUNNING);
    op_ok(v, AGT_VM_OP_REBOOT, 1);
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_RUNNING);
    op_ok(v, AGT_VM_OP_SHUTDOWN, 1);
    assert_int_equal(state_of(v, VM1), VIR_DOMAIN_SHUTOFF);

    /* reboot of a stopped domain: state error naming it */
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_op(v, VM1, AGT_VM_OP_REBOOT, 1), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_STATE);
    assert_non_null(strstr(cmn_err_msg(), VM1));

    /* the report lists it, persistent */
    agt_vm_status_t *list = NULL;
    size_t n = 0;
    cmn_err_reset();
    assert_int_equal(agt_virt_list(v, &list, &n), 0);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].uuid, VM1) == 0) {
            found = true;
            assert_string_equal(list[i].name, "agt-unit-1");
            assert_true(list[i].persistent);
            assert_int_equal(list[i].vcpus, 1);
            assert_int_equal(list[i].memory_kib, 65536);
        }
    free(list);
    assert_true(found);

    op_ok(v, AGT_VM_OP_UNDEFINE, 0);
    assert_int_equal(state_of(v, VM1), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    agt_virt_destroy(&v);
    assert_null(v);
}

/* Undefine of a running domain leaves it running, transient. */
static void
test_undefine_running(void **state)
{
    (void)state;
    agt_virt_t *v = agt_virt_new("test:///default", "/tmp");
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_create(v, VM1, s_xml, true), 0);
    op_ok(v, AGT_VM_OP_UNDEFINE, 0);
    agt_vm_status_t st;
    assert_int_equal(agt_virt_vm_status(v, VM1, &st), 0);
    assert_int_equal(st.state, VIR_DOMAIN_RUNNING);
    assert_false(st.persistent);
    op_ok(v, AGT_VM_OP_UNDEFINE, 0);    /* transient: nothing to do */
    op_ok(v, AGT_VM_OP_DESTROY, 0);
    assert_int_equal(state_of(v, VM1), -1);
    agt_virt_destroy(&v);
}

static void
test_errors(void **state)
{
    (void)state;
    agt_virt_t *v = agt_virt_new("test:///default", "/tmp");
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_op(v, "00000000-0000-4000-8000-00000000dead",
                                    AGT_VM_OP_START, 0), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    assert_non_null(strstr(cmn_err_msg(), "00000000-0000-4000-8000-00000000dead"));

    cmn_err_reset();
    assert_int_equal(agt_virt_vm_op(v, VM1, (agt_vm_op_t)0, 0), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_op(v, VM1, AGT_VM_OP__LAST, 0), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);

    /* XML whose uuid is not the vm_id */
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_create(v, "5d6e7f80-1111-4222-8333-000000000000",
                                        s_xml, true), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "domain_xml"));

    /* XML libvirt rejects: a libvirt error with libvirt's message */
    static const char bad[] = "<domain type='test'><uuid>" VM1 "</uuid></domain>";
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_create(v, VM1, bad, false), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_LIBVIRT);
    assert_non_null(strstr(cmn_err_msg(), "cannot define domain"));
    agt_virt_destroy(&v);

    /* An unreachable libvirt is an error naming the URI, not a crash. */
    v = agt_virt_new("qemu:///system?socket=/nonexistent/sock", "/tmp");
    cmn_err_reset();
    assert_int_equal(agt_virt_vm_op(v, VM1, AGT_VM_OP_START, 0), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_LIBVIRT);
    assert_non_null(strstr(cmn_err_msg(), "/nonexistent/sock"));
    agt_virt_destroy(&v);
}

typedef struct {
    pthread_mutex_t lock;
    int events[32];
    int n;
} ev_log_t;

static void
on_event(agt_vm_event_t *ev, void *opaque)
{
    ev_log_t *l = opaque;
    pthread_mutex_lock(&l->lock);
    if (l->n < 32 && strcmp(ev->uuid, VM1) == 0)
        l->events[l->n++] = ev->event;
    pthread_mutex_unlock(&l->lock);
    free(ev);
}

static bool
wait_event(ev_log_t *l, int event)
{
    for (int t = 0; t < 500; t++) {
        pthread_mutex_lock(&l->lock);
        for (int i = 0; i < l->n; i++)
            if (l->events[i] == event) {
                pthread_mutex_unlock(&l->lock);
                return true;
            }
        pthread_mutex_unlock(&l->lock);
        usleep(10 * 1000);
    }
    return false;
}

static void
test_events(void **state)
{
    (void)state;
    ev_log_t l = { .n = 0 };
    pthread_mutex_init(&l.lock, NULL);
    agt_virt_t *v = agt_virt_new("test:///default", "/tmp");
    agt_virt_set_event_cb(v, on_event, &l);
    assert_int_equal(agt_virt_start_events(v), 0);
    cmn_err_reset();
    assert_int_equal(agt_virt_connect(v), 0);
    assert_int_equal(agt_virt_vm_create(v, VM1, s_xml, true), 0);
    assert_true(wait_event(&l, VIR_DOMAIN_EVENT_DEFINED));
    assert_true(wait_event(&l, VIR_DOMAIN_EVENT_STARTED));
    op_ok(v, AGT_VM_OP_PAUSE, 0);
    assert_true(wait_event(&l, VIR_DOMAIN_EVENT_SUSPENDED));
    op_ok(v, AGT_VM_OP_RESUME, 0);
    assert_true(wait_event(&l, VIR_DOMAIN_EVENT_RESUMED));
    op_ok(v, AGT_VM_OP_DESTROY, 0);
    assert_true(wait_event(&l, VIR_DOMAIN_EVENT_STOPPED));
    op_ok(v, AGT_VM_OP_UNDEFINE, 0);
    assert_true(wait_event(&l, VIR_DOMAIN_EVENT_UNDEFINED));
    agt_virt_stop(v);       /* joins the event thread */
    agt_virt_destroy(&v);
    pthread_mutex_destroy(&l.lock);
}

static void
test_disks(void **state)
{
    (void)state;
    char dir[] = "/tmp/agt-virt-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char images[256];
    snprintf(images, sizeof(images), "%s/images", dir);     /* made on demand */
    agt_virt_t *v = agt_virt_new("test:///default", images);
    const char *id = "0f0e0d0c-0b0a-4909-8807-060504030201";
    char *path = NULL;
    uint64_t size = 0;
    cmn_err_reset();
    if (agt_virt_disk_create(v, id, 1 << 20, &path, &size) != 0)
        fail_msg("disk create: %s", cmn_err_msg());
    char want[512];
    snprintf(want, sizeof(want), "%s/%s.qcow2", images, id);
    assert_string_equal(path, want);
    assert_int_equal(size, 1 << 20);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    free(path);

    /* same size again: the existing file */
    path = NULL;
    cmn_err_reset();
    assert_int_equal(agt_virt_disk_create(v, id, 1 << 20, &path, &size), 0);
    assert_string_equal(path, want);
    free(path);
    /* rounded to 512 like qemu-img does: still the same size */
    path = NULL;
    assert_int_equal(agt_virt_disk_create(v, id, (1 << 20) - 100, &path, &size), 0);
    free(path);

    /* another size: exists error naming the path */
    path = NULL;
    cmn_err_reset();
    assert_int_equal(agt_virt_disk_create(v, id, 2 << 20, &path, &size), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_EXISTS);
    assert_non_null(strstr(cmn_err_msg(), want));
    assert_null(path);

    /* bad ids never touch the file system */
    cmn_err_reset();
    assert_int_equal(agt_virt_disk_create(v, "../../etc/passwd", 1 << 20, &path, &size), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "disk_id"));
    cmn_err_reset();
    assert_int_equal(agt_virt_disk_delete(v, "x"), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    cmn_err_reset();
    assert_int_equal(agt_virt_disk_create(v, id, 0, &path, &size), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);

    cmn_err_reset();
    assert_int_equal(agt_virt_disk_delete(v, id), 0);
    assert_int_equal(stat(want, &st), -1);
    assert_int_equal(agt_virt_disk_delete(v, id), 0);   /* missing: fine */
    agt_virt_destroy(&v);
    rmdir(images);
    rmdir(dir);
}

static void
test_xml_helpers(void **state)
{
    (void)state;
    assert_int_equal(agt_virt_xml_vnc_port(
        "<domain><devices><graphics type='spice' port='5901'/>"
        "<graphics type='vnc' port='5902' autoport='yes' listen='127.0.0.1'>"
        "</graphics></devices></domain>"), 5902);
    assert_int_equal(agt_virt_xml_vnc_port(
        "<graphics type='vnc' port='-1' autoport='yes'/>"), 0);
    assert_int_equal(agt_virt_xml_vnc_port("<domain/>"), 0);
    assert_int_equal(agt_virt_xml_vnc_port("<graphics type='vnc' port="), 0);

    assert_true(agt_virt_xml_uuid_matches("<domain><uuid>" VM1 "</uuid></domain>", VM1));
    assert_true(agt_virt_xml_uuid_matches(
        "<domain><uuid> 5D6E7F80111142228333944455556666 </uuid></domain>", VM1));
    assert_false(agt_virt_xml_uuid_matches("<domain><name>x</name></domain>", VM1));
    assert_false(agt_virt_xml_uuid_matches("<domain><uuid>" VM1, VM1));
    assert_false(agt_virt_xml_uuid_matches(
        "<domain><uuid>5d6e7f80-1111-4222-8333-944455556667</uuid></domain>", VM1));

    uint8_t hdr[32] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    hdr[24 + 4] = 0x40;     /* 0x40000000 = 1 GiB */
    uint64_t size = 0;
    assert_int_equal(agt_virt_qcow2_size(hdr, sizeof(hdr), &size), 0);
    assert_int_equal(size, 1ULL << 30);
    assert_int_equal(agt_virt_qcow2_size(hdr, 16, &size), -1);
    hdr[0] = 'X';
    assert_int_equal(agt_virt_qcow2_size(hdr, sizeof(hdr), &size), -1);

    assert_string_equal(agt_vm_op_name(AGT_VM_OP_SHUTDOWN), "shutdown");
    assert_string_equal(agt_vm_op_name(0), "unknown");
    assert_string_equal(agt_vm_op_name(99), "unknown");
}

int
main(void)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_undefine_running),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_disks),
        cmocka_unit_test(test_xml_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
