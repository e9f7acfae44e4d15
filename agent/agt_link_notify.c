/* What the engine link tells the engine unasked (notifications, never
 * answered): host and VM statistics every stats_interval (sampled on the
 * worker pool), libvirt's domain lifecycle events, and the progress of
 * outgoing live migrations. Dropped, logged at debug, while the link is
 * down; statistics only while the engine holds a session for us. */
#include "agt_link_priv.h"

#include <stdlib.h>
#include <string.h>

#include "agt_link_conv.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.link");

#define STATS_CHUNK 500                 /* VMs per VmStatsBatch */

/* ---- statistics ------------------------------------------------------------ */

typedef struct {
    agt_link_t *link;
    agt_sample_t s;
} agt_stats_job_t;

static void
s_stats_work(void *arg)
{
    agt_stats_job_t *j = arg;
    if (agt_stats_sample(j->link->stats, j->link->virt, &j->s) < 0)
        CMN_WARN("VM statistics unavailable: %s", cmn_err_msg());
}

static void
s_stats_done(void *arg, bool cancelled)
{
    agt_stats_job_t *j = arg;
    agt_link_t *link = j->link;
    if (!cancelled) {
        link->stats_inflight = false;
        if (link->session) {
            agt_conv_host_stats(&j->s, agt_link_notify, link);
            for (size_t off = 0; j->s.vms_ok && off < j->s.nvms; off += STATS_CHUNK) {
                size_t n = j->s.nvms - off < STATS_CHUNK ? j->s.nvms - off : STATS_CHUNK;
                agt_conv_vm_stats(j->s.timestamp_ms, j->s.vms + off, n, agt_link_notify, link);
            }
            if (j->s.vms_ok && j->s.nvms == 0)
                agt_conv_vm_stats(j->s.timestamp_ms, NULL, 0, agt_link_notify, link);
        }
    }
    agt_sample_clear(&j->s);
    free(j);
}

void
agt_link_stats_tick(agt_link_t *link)
{
    if (link->stats_inflight || !link->stats || !link->pool)
        return;     /* the previous sample is still running: skip a tick */
    agt_stats_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->link = link;
    link->stats_inflight = true;
    if (agt_pool_submit(link->pool, s_stats_work, s_stats_done, j) < 0) {
        link->stats_inflight = false;
        free(j);
    }
}

/* ---- VM events -------------------------------------------------------------- */

static void
s_event_done(void *arg, bool cancelled)
{
    agt_vm_event_t *ev = arg;
    agt_link_t *link = NULL;
    memcpy(&link, ev + 1, sizeof(link));
    if (!cancelled && !link->closing) {
        CMN_INFO("domain %s (%s): event %d detail %d, state %d reason %d", ev->uuid,
                 ev->name, ev->event, ev->detail, ev->state, ev->reason);
        agt_conv_vm_event(ev, agt_link_notify, link);
    }
    free(ev);
}

/* On the libvirt event thread: hand the event to the loop. The event is
 * re-allocated with the link pointer behind it. */
void
agt_link_virt_event(agt_vm_event_t *ev, void *opaque)
{
    agt_link_t *link = opaque;
    agt_vm_event_t *copy = malloc(sizeof(*ev) + sizeof(link));
    if (copy) {
        memcpy(copy, ev, sizeof(*ev));
        memcpy(copy + 1, &link, sizeof(link));
        if (agt_pool_post(link->pool, s_event_done, copy) < 0)
            free(copy);
    }
    free(ev);
}

/* ---- live migration ----------------------------------------------------------- */

void
agt_link_mig_report(const agt_mig_progress_t *p, void *opaque)
{
    agt_link_t *link = opaque;
    if (link->closing)
        return;
    cmn_err_reset();
    agt_conv_job_progress(p, agt_link_notify, link);
}
