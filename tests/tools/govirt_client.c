/* An existing oVirt client against Herd: libgovirt (Debian's libgovirt-dev)
 * lists the VMs, reads one VM's state and display, starts it, gets a
 * console ticket and stops it. Driven by tests/integration/
 * test_api_govirt.sh; prints one "key: value" line per fact so that the
 * script can check them, and exits non-zero at the first failure.
 *
 *   govirt_client HOST:PORT TOKEN-FILE CA-FILE VM-NAME
 *
 * The token is an OAuth access token from /ovirt-engine/sso/oauth/token,
 * given to libgovirt as its "sso-token" (Authorization: Bearer), the way
 * oVirt 4 clients such as remote-viewer use it. (libgovirt 0.3.9 with
 * libsoup 3 does not answer a Basic challenge: its request body cannot be
 * resent, so the call hangs until its timeout.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <govirt/govirt.h>

static const char *
s_state_name(OvirtVmState st)
{
    switch (st) {
    case OVIRT_VM_STATE_DOWN: return "down";
    case OVIRT_VM_STATE_UP: return "up";
    case OVIRT_VM_STATE_POWERING_UP: return "powering_up";
    case OVIRT_VM_STATE_POWERED_DOWN: return "powered_down";
    case OVIRT_VM_STATE_PAUSED: return "paused";
    case OVIRT_VM_STATE_WAIT_FOR_LAUNCH: return "wait_for_launch";
    case OVIRT_VM_STATE_REBOOT_IN_PROGRESS: return "reboot_in_progress";
    case OVIRT_VM_STATE_UNKNOWN: return "unknown";
    default: return "other";
    }
}

static int
s_fail(const char *what, GError *err)
{
    fprintf(stderr, "govirt_client: %s: %s\n", what,
            err ? err->message : "failed");
    if (err)
        g_error_free(err);
    return 1;
}

static OvirtVmState
s_state(OvirtVm *vm)
{
    OvirtVmState st = OVIRT_VM_STATE_UNKNOWN;
    g_object_get(G_OBJECT(vm), "state", &st, NULL);
    return st;
}

/* Refresh the VM until its state is `want` (at most `secs` seconds). */
static int
s_wait_state(OvirtVm *vm, OvirtProxy *proxy, OvirtVmState want, int secs)
{
    for (int i = 0; i < secs * 5; i++) {
        GError *err = NULL;
        if (!ovirt_resource_refresh(OVIRT_RESOURCE(vm), proxy, &err))
            return s_fail("refresh", err);
        if (s_state(vm) == want)
            return 0;
        g_usleep(200 * 1000);
    }
    fprintf(stderr, "govirt_client: VM not %s within %d s (state %s)\n",
            s_state_name(want), secs, s_state_name(s_state(vm)));
    return 1;
}

static void
s_print_display(OvirtVm *vm)
{
    OvirtVmDisplay *d = NULL;
    g_object_get(G_OBJECT(vm), "display", &d, NULL);
    if (!d) {
        printf("display: none\n");
        return;
    }
    OvirtVmDisplayType type;
    gchar *address = NULL, *ticket = NULL;
    guint port = 0, expiry = 0;
    g_object_get(G_OBJECT(d), "type", &type, "address", &address,
                 "port", &port, "ticket", &ticket, "expiry", &expiry, NULL);
    printf("display: %s %s %u\n", type == OVIRT_VM_DISPLAY_VNC ? "vnc"
                                                               : "spice",
           address ? address : "-", port);
    if (ticket)
        printf("ticket: %s %u\n", ticket, expiry);
    g_free(address);
    g_free(ticket);
    g_object_unref(d);
}

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: govirt_client HOST:PORT TOKEN-FILE CA-FILE "
                "VM-NAME\n");
        return 2;
    }
    gchar *token = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(argv[2], &token, NULL, &err))
        return s_fail("token file", err);
    token[strcspn(token, "\r\n")] = '\0';

    OvirtProxy *proxy = ovirt_proxy_new(argv[1]);
    if (!proxy)
        return s_fail("ovirt_proxy_new", NULL);
    g_object_set(G_OBJECT(proxy), "sso-token", token, "ssl-ca-file", argv[3],
                 NULL);
    g_free(token);

    OvirtApi *api = ovirt_proxy_fetch_api(proxy, &err);
    if (!api)
        return s_fail("fetch api", err);
    OvirtCollection *vms = ovirt_api_get_vms(api);
    if (!vms || !ovirt_collection_fetch(vms, proxy, &err))
        return s_fail("fetch vms", err);
    GHashTable *res = ovirt_collection_get_resources(vms);
    printf("vms: %u\n", g_hash_table_size(res));
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, res);
    while (g_hash_table_iter_next(&it, &key, &value))
        printf("vm: %s\n", (const char *)key);

    OvirtResource *r = ovirt_collection_lookup_resource(vms, argv[4]);
    if (!r) {
        fprintf(stderr, "govirt_client: no VM named %s\n", argv[4]);
        return 1;
    }
    OvirtVm *vm = OVIRT_VM(r);
    gchar *uuid = NULL;
    g_object_get(G_OBJECT(vm), "guid", &uuid, NULL);
    printf("id: %s\n", uuid ? uuid : "-");
    g_free(uuid);
    printf("state: %s\n", s_state_name(s_state(vm)));

    if (!ovirt_vm_start(vm, proxy, &err))
        return s_fail("start", err);
    printf("start: ok\n");
    if (s_wait_state(vm, proxy, OVIRT_VM_STATE_UP, 60))
        return 1;
    printf("state: %s\n", s_state_name(s_state(vm)));
    s_print_display(vm);

    if (!ovirt_vm_get_ticket(vm, proxy, &err))
        return s_fail("ticket", err);
    s_print_display(vm);

    if (!ovirt_vm_stop(vm, proxy, &err))
        return s_fail("stop", err);
    printf("stop: ok\n");
    if (s_wait_state(vm, proxy, OVIRT_VM_STATE_DOWN, 60))
        return 1;
    printf("state: %s\n", s_state_name(s_state(vm)));

    g_object_unref(r);
    g_object_unref(api);
    g_object_unref(proxy);
    return 0;
}
