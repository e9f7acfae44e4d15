/* Console tickets: a VNC password with an expiry on a running domain, set
 * with virDomainUpdateDeviceFlags on its graphics device (the live
 * element with passwd and passwdValidTo replaced, so that port and listen
 * settings stay as they are). Part of agt_virt's API (agt_virt.h). */
#include "agt_virt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.ticket");

#define TICKET_XML_MAX 8192

/* Copy `el` (len bytes) into out without its passwd / passwdValidTo
 * attributes, then add the new ones after "<graphics". */
static int
s_rewrite(const char *el, size_t len, const char *pw, const char *until,
          char *out, size_t size)
{
    size_t o = 0;
    int n = snprintf(out, size, "<graphics passwd='%s' passwdValidTo='%s'",
                     pw, until);
    if (n < 0 || (size_t)n >= size)
        return -1;
    o = (size_t)n;
    size_t i = strlen("<graphics");
    /* the opening tag ends at the first '>' */
    const char *tag_end = memchr(el, '>', len);
    size_t tend = tag_end ? (size_t)(tag_end - el) : len;
    while (i < len) {
        if (i < tend && el[i] == ' ' &&
            (strncmp(el + i + 1, "passwd=", 7) == 0 ||
             strncmp(el + i + 1, "passwdValidTo=", 14) == 0)) {
            const char *q = el + i + 1 + strcspn(el + i + 1, "'\"");
            char quote = *q;
            const char *e = quote ? strchr(q + 1, quote) : NULL;
            if (!e)
                return -1;
            i = (size_t)(e - el) + 1;
            continue;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = el[i++];
    }
    out[o] = '\0';
    return 0;
}

int
agt_virt_vm_ticket(agt_virt_t *v, const char *uuid, const char *password,
                   unsigned expiry_s)
{
    virConnectPtr c = agt_virt_conn(v);
    if (!c)
        return -1;
    int rc = -1;
    char *xml = NULL;
    virDomainPtr d = virDomainLookupByUUIDString(c, uuid);
    if (!d) {
        virErrorPtr e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN)
            CMN_ERR(CMN_ERR_NOT_FOUND, "no domain with uuid %s", uuid);
        else
            CMN_ERR(CMN_ERR_LIBVIRT, "cannot look up domain %s: %s", uuid,
                    e && e->message ? e->message : "unknown error");
        goto out;
    }
    if (virDomainIsActive(d) != 1) {
        CMN_ERR(CMN_ERR_STATE, "domain %s is not running", uuid);
        goto out;
    }
    xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_SECURE);
    if (!xml) {
        virErrorPtr e = virGetLastError();
        CMN_ERR(CMN_ERR_LIBVIRT, "cannot read domain %s: %s", uuid,
                e && e->message ? e->message : "unknown error");
        goto out;
    }
    const char *g = xml;
    while ((g = strstr(g, "<graphics")) != NULL) {
        const char *gt = strchr(g, '>');
        if (gt && (memmem(g, (size_t)(gt - g), "type='vnc'", 10) ||
                   memmem(g, (size_t)(gt - g), "type=\"vnc\"", 10)))
            break;
        g += 9;
    }
    if (!g) {
        CMN_ERR(CMN_ERR_UNSUPPORTED, "domain %s has no VNC console", uuid);
        goto out;
    }
    const char *gt = strchr(g, '>');
    const char *end = gt && gt[-1] == '/' ? gt + 1 : strstr(g, "</graphics>");
    if (!gt || !end) {
        CMN_ERR(CMN_ERR_LIBVIRT, "domain %s: malformed graphics element",
                uuid);
        goto out;
    }
    if (end != gt + 1)
        end += strlen("</graphics>");
    time_t until = time(NULL) + (time_t)expiry_s;
    struct tm tm;
    char when[32];
    gmtime_r(&until, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    char dev[TICKET_XML_MAX];
    if (s_rewrite(g, (size_t)(end - g), password, when, dev,
                  sizeof(dev)) < 0) {
        CMN_ERR(CMN_ERR_LIBVIRT, "domain %s: graphics element too large",
                uuid);
        goto out;
    }
    if (virDomainUpdateDeviceFlags(d, dev, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        virErrorPtr e = virGetLastError();
        CMN_ERR(CMN_ERR_LIBVIRT, "cannot set the console password of domain "
                "%s: %s", uuid, e && e->message ? e->message : "unknown");
        goto out;
    }
    CMN_INFO("domain %s: console ticket valid until %s UTC", uuid, when);
    rc = 0;
out:
    if (xml) {
        memset(xml, 0, strlen(xml));    /* it held the old password */
        free(xml);
    }
    if (d)
        virDomainFree(d);
    virConnectClose(c);
    return rc;
}
