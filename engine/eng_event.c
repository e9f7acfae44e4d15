/* The event log: every status change and every command with its outcome,
 * stored and logged. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "eng_ctx.h"

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("eng.event");

void eng_event(eng_ctx_t *ctx, eng_severity_t sev, int code,
               const char *host_id, const char *vm_id, const char *user,
               const char *fmt, ...)
{
    eng_event_t ev;
    memset(&ev, 0, sizeof(ev));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.description, sizeof(ev.description), fmt, ap);
    va_end(ap);
    ev.severity = sev;
    ev.code = code;
    snprintf(ev.host_id, sizeof(ev.host_id), "%s", host_id ? host_id : "");
    snprintf(ev.vm_id, sizeof(ev.vm_id), "%s", vm_id ? vm_id : "");
    snprintf(ev.user, sizeof(ev.user), "%s", user ? user : "");

    switch (sev) {
    case ENG_SEV_NORMAL:
        CMN_INFO("event %d: %s", code, ev.description);
        break;
    case ENG_SEV_WARNING:
        CMN_WARN("event %d: %s", code, ev.description);
        break;
    default:
        CMN_ERROR("event %d: %s", code, ev.description);
        break;
    }
    if (!ctx || !ctx->store)
        return;
    /* A store failure must not leak into the caller's error state. */
    bool had_error = cmn_err_last() != NULL;
    if (eng_store_event_add(ctx->store, &ev) < 0) {
        CMN_ERROR("cannot store event %d: %s", code, cmn_err_msg());
        if (!had_error)
            cmn_err_reset();
    }
}
