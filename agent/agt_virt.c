#include "agt_virt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("agent.virt");


struct agt_virt_watch {
    agt_virt_watch_t *next;
    char uuid[CMN_UUID_STRLEN + 1];
    agt_vm_op_t op;                 /* SHUTDOWN or REBOOT */
    bool stopped, rebooted;         /* events seen; under wlock */
};

struct agt_virt {
    char *uri;
    char *images_dir;
    pthread_mutex_t lock;           /* conn, callback ids, generation */
    virConnectPtr conn;
    int dead;                       /* atomic: close callback fired */
    int cb_lifecycle, cb_reboot;
    uint64_t generation;
    agt_virt_event_cb ev_cb;
    void *ev_opaque;
    pthread_t ev_thread;
    bool ev_running;
    int ev_stop;                    /* atomic */
    int ev_timer;                   /* wakes the event thread to stop */
    int stopping;                   /* atomic: give up on grace periods */
    pthread_mutex_t wlock;          /* watches */
    pthread_cond_t wcond;
    agt_virt_watch_t *watches;
};

static const char *const s_op_names[AGT_VM_OP__LAST] = {
    [AGT_VM_OP_START] = "start", [AGT_VM_OP_SHUTDOWN] = "shutdown",
    [AGT_VM_OP_DESTROY] = "destroy", [AGT_VM_OP_REBOOT] = "reboot",
    [AGT_VM_OP_RESET] = "reset", [AGT_VM_OP_PAUSE] = "pause",
    [AGT_VM_OP_RESUME] = "resume", [AGT_VM_OP_UNDEFINE] = "undefine",
};

const char *
agt_vm_op_name(int op)
{
    if (op <= 0 || op >= AGT_VM_OP__LAST)
        return "unknown";
    return s_op_names[op];
}

/* ---- libvirt process-wide set-up --------------------------------------- */

static void
s_quiet_error(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;      /* errors are read with virGetLastError at the call site */
}

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_init_rc;

static void
s_global_init(void)
{
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
        s_init_rc = -1;
    virSetErrorFunc(NULL, s_quiet_error);
}

/* Record the last libvirt error of this thread as a cmn error. */
static int
s_virt_err(const char *fmt_what, const char *arg)
{
    virErrorPtr e = virGetLastError();
    const char *msg = virGetLastErrorMessage();
    cmn_code_t code = CMN_ERR_LIBVIRT;
    if (e) {
        switch (e->code) {
        case VIR_ERR_NO_DOMAIN:
            code = CMN_ERR_NOT_FOUND;
            break;
        case VIR_ERR_OPERATION_INVALID:
            code = CMN_ERR_STATE;
            break;
        default:
            break;
        }
    }
    return cmn_err_set(code, 0, __FILE__, __LINE__, "%s %s: %s", fmt_what,
                       arg ? arg : "", msg ? msg : "unknown libvirt error");
}

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- XML and file helpers ----------------------------------------------- */

unsigned
agt_virt_xml_vnc_port(const char *xml)
{
    const char *p = xml;
    while (p && (p = strstr(p, "<graphics"))) {
        const char *end = strchr(p, '>');
        if (!end)
            return 0;
        size_t tlen = (size_t)(end - p);
        char tag[1024];
        if (tlen >= sizeof(tag))
            tlen = sizeof(tag) - 1;
        memcpy(tag, p, tlen);
        tag[tlen] = '\0';
        p = end;
        if (!strstr(tag, "type='vnc'") && !strstr(tag, "type=\"vnc\""))
            continue;
        const char *port = strstr(tag, " port=");
        if (!port)
            return 0;
        port += 7;      /* past " port=" and the quote */
        char *e;
        long v = strtol(port, &e, 10);
        if (e == port || v <= 0 || v > 65535)
            return 0;
        return (unsigned)v;
    }
    return 0;
}

static void
s_uuid_norm(const char *in, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '-' || isspace(c))
            continue;
        out[o++] = (char)tolower(c);
    }
    out[o] = '\0';
}

bool
agt_virt_xml_uuid_matches(const char *xml, const char *uuid)
{
    const char *b = strstr(xml, "<uuid>");
    if (!b)
        return false;
    b += 6;
    const char *e = strstr(b, "</uuid>");
    if (!e || e - b > 64)
        return false;
    char a[80], c[80];
    s_uuid_norm(b, (size_t)(e - b), a, sizeof(a));
    s_uuid_norm(uuid, strlen(uuid), c, sizeof(c));
    return strlen(a) == 32 && strcmp(a, c) == 0;
}

/* ---- connection ----------------------------------------------------------- */

static void s_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
                           int detail, void *opaque);
static void s_on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque);

static void
s_on_close(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    agt_virt_t *v = opaque;
    __atomic_store_n(&v->dead, 1, __ATOMIC_RELEASE);
    CMN_WARN("libvirt connection to %s closed (reason %d); will reconnect",
             v->uri, reason);
}

/* Drop the current connection. Caller holds v->lock. */
static void
s_drop_conn_locked(agt_virt_t *v)
{
    if (!v->conn)
        return;
    if (v->cb_lifecycle >= 0)
        virConnectDomainEventDeregisterAny(v->conn, v->cb_lifecycle);
    if (v->cb_reboot >= 0)
        virConnectDomainEventDeregisterAny(v->conn, v->cb_reboot);
    virConnectUnregisterCloseCallback(v->conn, s_on_close);
    virResetLastError();
    v->cb_lifecycle = v->cb_reboot = -1;
    virConnectClose(v->conn);
    v->conn = NULL;
}

static int
s_connect_locked(agt_virt_t *v)
{
    if (v->conn && !__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE)) {
        int alive = virConnectIsAlive(v->conn);
        if (alive == 1)
            return 0;
        virResetLastError();
    }
    s_drop_conn_locked(v);
    virConnectPtr c = virConnectOpen(v->uri);
    if (!c)
        return s_virt_err("cannot connect to libvirt at", v->uri);
    __atomic_store_n(&v->dead, 0, __ATOMIC_RELEASE);
    v->conn = c;
    __atomic_add_fetch(&v->generation, 1, __ATOMIC_ACQ_REL);
    /* Keepalive makes a hung libvirtd show up as a closed connection. It is
     * unsupported on local drivers such as test://, which is fine. */
    if (virConnectSetKeepAlive(c, 5, 3) < 0)
        virResetLastError();
    if (virConnectRegisterCloseCallback(c, s_on_close, v, NULL) < 0)
        virResetLastError();
    v->cb_lifecycle = virConnectDomainEventRegisterAny(
        c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(s_on_lifecycle), v, NULL);
    v->cb_reboot = virConnectDomainEventRegisterAny(
        c, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
        VIR_DOMAIN_EVENT_CALLBACK(s_on_reboot), v, NULL);
    if (v->cb_lifecycle < 0 || v->cb_reboot < 0) {
        CMN_WARN("cannot register for libvirt domain events on %s: %s", v->uri,
                 virGetLastErrorMessage());
        virResetLastError();
    }
    CMN_INFO("connected to libvirt at %s", v->uri);
    return 0;
}

int
agt_virt_connect(agt_virt_t *v)
{
    pthread_mutex_lock(&v->lock);
    int rc = s_connect_locked(v);
    pthread_mutex_unlock(&v->lock);
    return rc;
}

virConnectPtr
agt_virt_conn(agt_virt_t *v)
{
    if (!v) {
        CMN_ERR(CMN_ERR_UNAVAILABLE, "libvirt is not available");
        return NULL;
    }
    virConnectPtr c = NULL;
    pthread_mutex_lock(&v->lock);
    if (s_connect_locked(v) == 0) {
        c = v->conn;
        virConnectRef(c);
    }
    pthread_mutex_unlock(&v->lock);
    return c;
}

uint64_t
agt_virt_generation(agt_virt_t *v)
{
    return __atomic_load_n(&v->generation, __ATOMIC_ACQUIRE);
}

const char *
agt_virt_uri(const agt_virt_t *v)
{
    return v->uri;
}

const char *
agt_virt_images_dir(const agt_virt_t *v)
{
    return v->images_dir;
}

agt_virt_t *
agt_virt_new(const char *uri, const char *images_dir)
{
    pthread_once(&s_once, s_global_init);
    if (s_init_rc < 0) {
        CMN_ERR(CMN_ERR_LIBVIRT, "cannot initialise libvirt: %s",
                virGetLastErrorMessage());
        return NULL;
    }
    agt_virt_t *v = calloc(1, sizeof(*v));
    if (!v) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    v->uri = strdup(uri);
    v->images_dir = strdup(images_dir);
    if (!v->uri || !v->images_dir) {
        free(v->uri);
        free(v->images_dir);
        free(v);
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    v->cb_lifecycle = v->cb_reboot = -1;
    v->ev_timer = -1;
    pthread_mutex_init(&v->lock, NULL);
    pthread_mutex_init(&v->wlock, NULL);
    pthread_cond_init(&v->wcond, NULL);
    return v;
}

void
agt_virt_set_event_cb(agt_virt_t *v, agt_virt_event_cb cb, void *opaque)
{
    v->ev_cb = cb;
    v->ev_opaque = opaque;
}

static void
s_stop_events(agt_virt_t *v)
{
    if (!v->ev_running)
        return;
    __atomic_store_n(&v->ev_stop, 1, __ATOMIC_RELEASE);
    virEventUpdateTimeout(v->ev_timer, 0);
    pthread_join(v->ev_thread, NULL);
    virEventRemoveTimeout(v->ev_timer);
    v->ev_running = false;
}

void
agt_virt_stop(agt_virt_t *v)
{
    if (!v)
        return;
    __atomic_store_n(&v->stopping, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&v->wlock);
    pthread_cond_broadcast(&v->wcond);
    pthread_mutex_unlock(&v->wlock);
    s_stop_events(v);
}

void
agt_virt_destroy(agt_virt_t **p)
{
    if (!p || !*p)
        return;
    agt_virt_t *v = *p;
    *p = NULL;
    agt_virt_stop(v);
    pthread_mutex_lock(&v->lock);
    s_drop_conn_locked(v);
    pthread_mutex_unlock(&v->lock);
    s_stop_events(v);
    while (v->watches) {
        agt_virt_watch_t *w = v->watches;
        v->watches = w->next;
        free(w);
    }
    pthread_cond_destroy(&v->wcond);
    pthread_mutex_destroy(&v->wlock);
    pthread_mutex_destroy(&v->lock);
    free(v->uri);
    free(v->images_dir);
    free(v);
}

/* ---- events --------------------------------------------------------------- */

static void
s_wake_timer(int timer, void *opaque)
{
    (void)opaque;
    virEventUpdateTimeout(timer, -1);
}

static void *
s_event_thread(void *opaque)
{
    agt_virt_t *v = opaque;
    while (!__atomic_load_n(&v->ev_stop, __ATOMIC_ACQUIRE)) {
        if (virEventRunDefaultImpl() < 0) {
            CMN_WARN("libvirt event loop: %s", virGetLastErrorMessage());
            usleep(100 * 1000);
        }
    }
    return NULL;
}

int
agt_virt_start_events(agt_virt_t *v)
{
    if (v->ev_running)
        return 0;
    v->ev_timer = virEventAddTimeout(-1, s_wake_timer, v, NULL);
    if (v->ev_timer < 0)
        return CMN_ERR(CMN_ERR_LIBVIRT, "cannot add a libvirt event timer");
    int rc = pthread_create(&v->ev_thread, NULL, s_event_thread, v);
    if (rc != 0) {
        errno = rc;
        virEventRemoveTimeout(v->ev_timer);
        return CMN_ERR_ERRNO(CMN_ERR_INTERNAL, "cannot start the libvirt event thread");
    }
    v->ev_running = true;
    return 0;
}

static void
s_fill_state(virDomainPtr dom, agt_vm_event_t *ev)
{
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        /* A transient domain is gone once stopped, a domain once undefined
         * while off: it is shut off then. */
        virResetLastError();
        if (ev->event == VIR_DOMAIN_EVENT_STOPPED || ev->event == VIR_DOMAIN_EVENT_UNDEFINED)
            ev->state = VIR_DOMAIN_SHUTOFF;
        return;
    }
    ev->state = state;
    ev->reason = reason;
    if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED) {
        char *xml = virDomainGetXMLDesc(dom, 0);
        if (xml) {
            ev->vnc_port = agt_virt_xml_vnc_port(xml);
            free(xml);
        } else {
            virResetLastError();
        }
    }
}

static void
s_emit(agt_virt_t *v, virDomainPtr dom, int event, int detail)
{
    agt_vm_event_t *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return;
    ev->event = event;
    ev->detail = detail;
    ev->timestamp_ms = s_now_ms();
    if (virDomainGetUUIDString(dom, ev->uuid) < 0)
        virResetLastError();
    const char *name = virDomainGetName(dom);
    snprintf(ev->name, sizeof(ev->name), "%s", name ? name : "");
    s_fill_state(dom, ev);
    CMN_DEBUG("domain %s (%s): event %d detail %d -> state %d reason %d",
              ev->uuid, ev->name, event, detail, ev->state, ev->reason);
    if (event == AGT_VM_EVENT_REBOOT || event == VIR_DOMAIN_EVENT_STOPPED) {
        pthread_mutex_lock(&v->wlock);
        for (agt_virt_watch_t *w = v->watches; w; w = w->next) {
            if (strcasecmp(w->uuid, ev->uuid) != 0)
                continue;
            if (event == AGT_VM_EVENT_REBOOT)
                w->rebooted = true;
            else
                w->stopped = true;
        }
        pthread_cond_broadcast(&v->wcond);
        pthread_mutex_unlock(&v->wlock);
    }
    if (v->ev_cb)
        v->ev_cb(ev, v->ev_opaque);
    else
        free(ev);
}

static void
s_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
               void *opaque)
{
    (void)conn;
    s_emit(opaque, dom, event, detail);
}

static void
s_on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    (void)conn;
    s_emit(opaque, dom, AGT_VM_EVENT_REBOOT, 0);
}

/* ---- domains -------------------------------------------------------------- */

static void
s_dom_free(virDomainPtr *d)
{
    if (*d)
        virDomainFree(*d);
}
#define AUTO_DOM __attribute__((cleanup(s_dom_free)))

static void
s_conn_free(virConnectPtr *c)
{
    if (*c)
        virConnectClose(*c);
}
#define AUTO_CONN __attribute__((cleanup(s_conn_free)))

static virDomainPtr
s_lookup(virConnectPtr c, const char *uuid)
{
    virDomainPtr d = virDomainLookupByUUIDString(c, uuid);
    if (!d) {
        virErrorPtr e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN)
            CMN_ERR(CMN_ERR_NOT_FOUND, "no domain with uuid %s", uuid);
        else
            s_virt_err("cannot look up domain", uuid);
    }
    return d;
}

int
agt_virt_vm_create(agt_virt_t *v, const char *uuid, const char *xml, bool start)
{
    if (!agt_virt_xml_uuid_matches(xml, uuid))
        return CMN_ERR(CMN_ERR_INVALID,
                       "domain_xml: its <uuid> is missing or differs from vm_id %s",
                       uuid);
    AUTO_CONN virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    AUTO_DOM virDomainPtr d = virDomainDefineXML(c, xml);
    if (!d)
        return s_virt_err("cannot define domain", uuid);
    CMN_INFO("defined domain %s (%s)", uuid, virDomainGetName(d));
    if (!start)
        return 0;
    int state = 0, reason = 0;
    if (virDomainGetState(d, &state, &reason, 0) < 0)
        return s_virt_err("cannot get the state of domain", uuid);
    if (state == VIR_DOMAIN_PAUSED) {
        if (virDomainResume(d) < 0)
            return s_virt_err("cannot resume domain", uuid);
        return 0;
    }
    if (virDomainIsActive(d) == 1) {
        CMN_INFO("domain %s is already running", uuid);
        return 0;
    }
    if (virDomainCreate(d) < 0)
        return s_virt_err("cannot start domain", uuid);
    CMN_INFO("started domain %s", uuid);
    return 0;
}

static bool
s_stopping(agt_virt_t *v)
{
    return __atomic_load_n(&v->stopping, __ATOMIC_ACQUIRE);
}

/* ---- shutdown and reboot: request, wait for the event, force --------- */

static agt_virt_watch_t *
s_watch_add(agt_virt_t *v, const char *uuid, agt_vm_op_t op)
{
    agt_virt_watch_t *w = calloc(1, sizeof(*w));
    if (!w) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(w->uuid, sizeof(w->uuid), "%s", uuid);
    w->op = op;
    pthread_mutex_lock(&v->wlock);
    w->next = v->watches;
    v->watches = w;
    pthread_mutex_unlock(&v->wlock);
    return w;
}

void
agt_virt_watch_free(agt_virt_t *v, agt_virt_watch_t **p)
{
    if (!p || !*p)
        return;
    agt_virt_watch_t *w = *p;
    *p = NULL;
    pthread_mutex_lock(&v->wlock);
    for (agt_virt_watch_t **pp = &v->watches; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    pthread_mutex_unlock(&v->wlock);
    free(w);
}

bool
agt_virt_watch_done(agt_virt_t *v, agt_virt_watch_t *w)
{
    pthread_mutex_lock(&v->wlock);
    bool done = w->op == AGT_VM_OP_SHUTDOWN ? w->stopped : w->rebooted;
    pthread_mutex_unlock(&v->wlock);
    return done;
}

static int
s_destroy(virDomainPtr d, const char *uuid)
{
    if (virDomainIsActive(d) == 0)
        return 0;
    if (virDomainDestroy(d) < 0) {
        if (virDomainIsActive(d) == 0) {
            virResetLastError();
            return 0;
        }
        return s_virt_err("cannot destroy domain", uuid);
    }
    return 0;
}

static int
s_reset(virDomainPtr d, const char *uuid)
{
    if (virDomainIsActive(d) != 1)
        return CMN_ERR(CMN_ERR_STATE, "domain %s is not running", uuid);
    return virDomainReset(d, 0) < 0 ? s_virt_err("cannot reset domain", uuid) : 0;
}

static int s_op_simple(agt_virt_t *v, const char *uuid, agt_vm_op_t op);

int
agt_virt_vm_op_begin(agt_virt_t *v, const char *uuid, agt_vm_op_t op,
                     agt_virt_watch_t **watch)
{
    *watch = NULL;
    if (op != AGT_VM_OP_SHUTDOWN && op != AGT_VM_OP_REBOOT)
        return s_op_simple(v, uuid, op);
    AUTO_CONN virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    AUTO_DOM virDomainPtr d = s_lookup(c, uuid);
    if (!d)
        return -1;
    int active = virDomainIsActive(d);
    if (active < 0)
        return s_virt_err("cannot get the state of domain", uuid);
    CMN_INFO("%s domain %s (%s)", agt_vm_op_name(op), uuid, active ? "running" : "off");
    if (op == AGT_VM_OP_SHUTDOWN && active == 0)
        return 0;
    if (op == AGT_VM_OP_REBOOT && active == 0)
        return CMN_ERR(CMN_ERR_STATE, "domain %s is not running", uuid);
    /* Watch before asking, so that a quick guest's event is not missed. */
    agt_virt_watch_t *w = s_watch_add(v, uuid, op);
    if (!w)
        return -1;
    int rc = op == AGT_VM_OP_SHUTDOWN ? virDomainShutdown(d) : virDomainReboot(d, 0);
    if (rc < 0) {
        CMN_INFO("ACPI %s of %s failed (%s); forcing it", agt_vm_op_name(op), uuid,
                 virGetLastErrorMessage());
        virResetLastError();
        agt_virt_watch_free(v, &w);
        return op == AGT_VM_OP_SHUTDOWN ? s_destroy(d, uuid) : s_reset(d, uuid);
    }
    *watch = w;
    return 0;
}

int
agt_virt_vm_op_finish(agt_virt_t *v, agt_virt_watch_t **watch)
{
    agt_virt_watch_t *w = *watch;
    char uuid[CMN_UUID_STRLEN + 1];
    snprintf(uuid, sizeof(uuid), "%s", w->uuid);
    agt_vm_op_t op = w->op;
    bool done = agt_virt_watch_done(v, w);
    agt_virt_watch_free(v, watch);
    if (done) {
        CMN_INFO("domain %s %s", uuid, op == AGT_VM_OP_SHUTDOWN ? "shut down" : "rebooted");
        return 0;
    }
    AUTO_CONN virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    AUTO_DOM virDomainPtr d = virDomainLookupByUUIDString(c, uuid);
    if (!d) {
        virErrorPtr e = virGetLastError();
        if (op == AGT_VM_OP_SHUTDOWN && e && e->code == VIR_ERR_NO_DOMAIN) {
            virResetLastError();
            return 0;   /* a transient domain, gone once off */
        }
        return s_virt_err("cannot look up domain", uuid);
    }
    if (op == AGT_VM_OP_SHUTDOWN) {
        if (virDomainIsActive(d) == 0) {
            CMN_INFO("domain %s shut down", uuid);
            return 0;
        }
        CMN_INFO("domain %s still running after the ACPI shutdown grace; destroying it",
                 uuid);
        return s_destroy(d, uuid);
    }
    CMN_INFO("no reboot of %s within the grace period; resetting it", uuid);
    return s_reset(d, uuid);
}

static int
s_undefine(virDomainPtr d, const char *uuid)
{
    int persistent = virDomainIsPersistent(d);
    if (persistent == 0)
        return 0;   /* transient: nothing is defined */
    unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                     VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                     VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
    if (virDomainUndefineFlags(d, flags) == 0)
        return 0;
    virErrorPtr e = virGetLastError();
    if (e && (e->code == VIR_ERR_NO_SUPPORT || e->code == VIR_ERR_INVALID_ARG)) {
        virResetLastError();
        if (virDomainUndefine(d) == 0)
            return 0;
    }
    return s_virt_err("cannot undefine domain", uuid);
}

/* Every op but the waiting part of SHUTDOWN / REBOOT. */
static int
s_op_simple(agt_virt_t *v, const char *uuid, agt_vm_op_t op)
{
    if (op <= 0 || op >= AGT_VM_OP__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "op: %d is not a VM operation", (int)op);
    AUTO_CONN virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    AUTO_DOM virDomainPtr d = s_lookup(c, uuid);
    if (!d)
        return -1;
    int state = 0, reason = 0;
    if (virDomainGetState(d, &state, &reason, 0) < 0)
        return s_virt_err("cannot get the state of domain", uuid);
    CMN_INFO("%s domain %s (state %d)", agt_vm_op_name(op), uuid, state);
    switch (op) {
    case AGT_VM_OP_START:
        if (state == VIR_DOMAIN_PAUSED)
            return virDomainResume(d) < 0 ? s_virt_err("cannot resume domain", uuid) : 0;
        if (virDomainIsActive(d) == 1)
            return 0;
        return virDomainCreate(d) < 0 ? s_virt_err("cannot start domain", uuid) : 0;
    case AGT_VM_OP_SHUTDOWN:
    case AGT_VM_OP_DESTROY:
        return s_destroy(d, uuid);
    case AGT_VM_OP_REBOOT:
    case AGT_VM_OP_RESET:
        return s_reset(d, uuid);
    case AGT_VM_OP_PAUSE:
        if (state == VIR_DOMAIN_PAUSED)
            return 0;
        return virDomainSuspend(d) < 0 ? s_virt_err("cannot pause domain", uuid) : 0;
    case AGT_VM_OP_RESUME:
        if (state == VIR_DOMAIN_RUNNING)
            return 0;
        return virDomainResume(d) < 0 ? s_virt_err("cannot resume domain", uuid) : 0;
    case AGT_VM_OP_UNDEFINE:
        return s_undefine(d, uuid);
    case AGT_VM_OP__LAST:
        break;
    }
    return CMN_ERR(CMN_ERR_INVALID, "op: %d is not a VM operation", (int)op);
}

int
agt_virt_vm_op(agt_virt_t *v, const char *uuid, agt_vm_op_t op, unsigned timeout_s)
{
    if (op <= 0 || op >= AGT_VM_OP__LAST)
        return CMN_ERR(CMN_ERR_INVALID, "op: %d is not a VM operation", (int)op);
    agt_virt_watch_t *w = NULL;
    if (agt_virt_vm_op_begin(v, uuid, op, &w) < 0)
        return -1;
    if (!w)
        return 0;
    /* Wait here, on the caller's thread: for the event, or for the domain
     * to be off (events need the event thread). */
    uint64_t deadline = cmn_mono_ms() + (uint64_t)timeout_s * 1000;
    while (cmn_mono_ms() < deadline && !agt_virt_watch_done(v, w)) {
        if (s_stopping(v)) {
            agt_virt_watch_free(v, &w);
            return CMN_ERR(CMN_ERR_UNAVAILABLE, "the agent is stopping; %s of %s "
                           "abandoned", agt_vm_op_name(op), uuid);
        }
        if (op == AGT_VM_OP_SHUTDOWN) {
            agt_vm_status_t st;
            if (agt_virt_vm_status(v, uuid, &st) < 0 || st.state == VIR_DOMAIN_SHUTOFF) {
                cmn_err_reset();
                break;
            }
        }
        usleep(50 * 1000);
    }
    return agt_virt_vm_op_finish(v, &w);
}

static int
s_status(virDomainPtr d, agt_vm_status_t *st)
{
    memset(st, 0, sizeof(*st));
    if (virDomainGetUUIDString(d, st->uuid) < 0)
        return s_virt_err("cannot get a domain's uuid", NULL);
    const char *name = virDomainGetName(d);
    snprintf(st->name, sizeof(st->name), "%s", name ? name : "");
    if (virDomainGetState(d, &st->state, &st->reason, 0) < 0)
        return s_virt_err("cannot get the state of domain", st->uuid);
    st->persistent = virDomainIsPersistent(d) == 1;
    virDomainInfo info;
    if (virDomainGetInfo(d, &info) == 0) {
        st->vcpus = info.nrVirtCpu;
        st->memory_kib = info.memory;
    } else {
        virResetLastError();
    }
    if (st->state == VIR_DOMAIN_RUNNING || st->state == VIR_DOMAIN_PAUSED) {
        char *xml = virDomainGetXMLDesc(d, 0);
        if (xml) {
            st->vnc_port = agt_virt_xml_vnc_port(xml);
            free(xml);
        } else {
            virResetLastError();
        }
    }
    return 0;
}

int
agt_virt_vm_status(agt_virt_t *v, const char *uuid, agt_vm_status_t *out)
{
    AUTO_CONN virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    AUTO_DOM virDomainPtr d = s_lookup(c, uuid);
    if (!d)
        return -1;
    return s_status(d, out);
}

int
agt_virt_list(agt_virt_t *v, agt_vm_status_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    AUTO_CONN virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    virDomainPtr *doms = NULL;
    int cnt = virConnectListAllDomains(c, &doms, 0);
    if (cnt < 0)
        return s_virt_err("cannot list domains on", v->uri);
    agt_vm_status_t *arr = calloc(cnt > 0 ? (size_t)cnt : 1, sizeof(*arr));
    size_t k = 0;
    int rc = 0;
    if (!arr)
        rc = CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    for (int i = 0; i < cnt; i++) {
        if (rc == 0) {
            if (s_status(doms[i], &arr[k]) == 0) {
                k++;
            } else if (cmn_err_code() == CMN_ERR_NOT_FOUND) {
                cmn_err_reset();    /* vanished while we listed */
            } else {
                rc = -1;
            }
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    if (rc < 0) {
        free(arr);
        return -1;
    }
    *out = arr;
    *n = k;
    return 0;
}
