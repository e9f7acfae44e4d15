/* herdctl vm commands: list, show, create, actions, remove, stats. */
#include "ctl_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_util.h"

static const char *
s_host_name(const json_t *hosts, const char *id)
{
    size_t i;
    json_t *h;
    if (!*id)
        return "";
    json_array_foreach(json_object_get(hosts, "host"), i, h)
        if (strcmp(ctl_jstr(h, "id"), id) == 0)
            return ctl_jstr(h, "name");
    return id;
}

static int64_t
s_vcpus(const json_t *vm)
{
    return ctl_jint(vm, "cpu.topology.sockets") *
           ctl_jint(vm, "cpu.topology.cores") *
           ctl_jint(vm, "cpu.topology.threads");
}

/* A row of `vm list`; ctx is the answer of GET /hosts. */
static void
s_row(ctl_table_t *t, const json_t *vm, const void *ctx)
{
    const json_t *hosts = ctx;
    char mem[32], cpus[16];
    snprintf(mem, sizeof(mem), "%" PRId64 " MiB",
             ctl_jint(vm, "memory") >> 20);
    snprintf(cpus, sizeof(cpus), "%" PRId64, s_vcpus(vm));
    const char *row[] = { ctl_jstr(vm, "name"), ctl_jstr(vm, "status"),
                          s_host_name(hosts, ctl_jstr(vm, "host.id")),
                          mem, cpus, ctl_jstr(vm, "id") };
    ctl_table_add(t, row);
}

static int
s_list(const ctl_opts_t *o)
{
    json_t *j;
    int rc = ctl_get(o, "/vms", &j);
    if (rc || j == NULL)
        return rc;
    json_t *hosts = NULL;
    rc = ctl_call(o, "GET", "/hosts", NULL, &hosts);
    if (rc) {
        json_decref(j);
        return rc;
    }
    static const char *const cols[] = { "NAME", "STATUS", "HOST", "MEMORY",
                                        "CPUS", "ID" };
    ctl_print_rows(json_object_get(j, "vm"), 6, cols, s_row, hosts);
    json_decref(hosts);
    json_decref(j);
    return 0;
}

static void
s_print_vm(const json_t *vm, const json_t *hosts)
{
    char when[40];
    ctl_kv("Name", "%s", ctl_jstr(vm, "name"));
    ctl_kv("ID", "%s", ctl_jstr(vm, "id"));
    ctl_kv("Status", "%s", ctl_jstr(vm, "status"));
    ctl_kv("Host", "%s", s_host_name(hosts, ctl_jstr(vm, "host.id")));
    if (json_object_get(vm, "migration"))
        ctl_kv("Migration", "%" PRId64 " %% to %s, %" PRId64 " MiB left (job %s)",
               ctl_jint(vm, "migration.progress"),
               ctl_jstr(vm, "migration.target_host.name"),
               ctl_jint(vm, "migration.memory_remaining") >> 20,
               ctl_jstr(vm, "migration.job.id"));
    ctl_kv("Memory", "%" PRId64 " MiB", ctl_jint(vm, "memory") >> 20);
    ctl_kv("CPUs", "%" PRId64 " (%s sockets, %s cores, %s threads)",
           s_vcpus(vm), ctl_jstr(vm, "cpu.topology.sockets"),
           ctl_jstr(vm, "cpu.topology.cores"),
           ctl_jstr(vm, "cpu.topology.threads"));
    ctl_kv("Cluster", "%s", ctl_jstr(vm, "cluster.id"));
    json_t *pin = json_array_get(json_object_get(json_object_get(
        json_object_get(vm, "placement_policy"), "hosts"), "host"), 0);
    if (pin)
        ctl_kv("Pinned to", "%s", s_host_name(hosts, ctl_jstr(pin, "id")));
    const char *port = ctl_jstr(vm, "display.port");
    ctl_kv("Display", "%s%s%s%s%s", ctl_jstr(vm, "display.type"),
           *port ? " " : "", ctl_jstr(vm, "display.address"), *port ? ":" : "",
           port);
    ctl_kv("HA", "%s (priority %s)", ctl_jstr(vm, "high_availability.enabled"),
           ctl_jstr(vm, "high_availability.priority"));
    ctl_kv("Origin", "%s", ctl_jstr(vm, "origin"));
    ctl_time_local(ctl_jint(vm, "creation_time"), when, sizeof(when));
    ctl_kv("Created", "%s", when);
    ctl_time_local(ctl_jint(vm, "start_time"), when, sizeof(when));
    ctl_kv("Started", "%s", when);
    if (*ctl_jstr(vm, "description"))
        ctl_kv("Description", "%s", ctl_jstr(vm, "description"));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(json_object_get(vm, "disk_attachments"),
                                       "disk_attachment"), i, d) {
        char key[32];
        snprintf(key, sizeof(key), "Disk %zu", i + 1);
        ctl_kv(key, "%" PRId64 " MiB %s %s%s  %s",
               ctl_jint(d, "disk.provisioned_size") >> 20,
               ctl_jstr(d, "disk.format"), ctl_jstr(d, "interface"),
               strcmp(ctl_jstr(d, "bootable"), "true") == 0 ? " bootable" : "",
               ctl_jstr(d, "id"));
    }
    json_array_foreach(json_object_get(json_object_get(vm, "nics"), "nic"),
                       i, d) {
        char key[32];
        const char *net = ctl_jstr(d, "network.name");
        snprintf(key, sizeof(key), "NIC %zu", i + 1);
        ctl_kv(key, "%s %s %s %s", ctl_jstr(d, "name"),
               ctl_jstr(d, "mac.address"), ctl_jstr(d, "interface"),
               *net ? net : "(user-mode)");
    }
}

static int
s_show(const ctl_opts_t *o, const char *id)
{
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/vms/%s", ctl_seg(id, seg, sizeof(seg)));
    json_t *vm;
    int rc = ctl_get(o, path, &vm);
    if (rc || vm == NULL)
        return rc;
    json_t *hosts = NULL;
    rc = ctl_call(o, "GET", "/hosts", NULL, &hosts);
    if (rc == 0)
        s_print_vm(vm, hosts);
    json_decref(hosts);
    json_decref(vm);
    return rc;
}

/* POST /vms/ID/ACTION with `body` (taken over; NULL sends {}). */
static int
s_action(const ctl_opts_t *o, const char *id, const char *action,
         json_t *body)
{
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/vms/%s/%s", ctl_seg(id, seg, sizeof(seg)),
             action);
    json_t *j = NULL;
    int rc = ctl_send(o, "POST", path, body ? body : json_object(), &j);
    if (rc || !j)
        return rc;
    printf("VM %s: %s %s\n", id, action,
           *ctl_jstr(j, "status") ? ctl_jstr(j, "status") : "complete");
    json_decref(j);
    return 0;
}

static int
s_create(const ctl_opts_t *o, int argc, char **argv)
{
    json_t *body;
    bool start;
    cmn_err_reset();
    if (ctl_vm_create_body(argc, argv, &body, &start) < 0)
        return ctl_usage_error("%s", cmn_err_msg());
    json_t *vm;
    int rc = ctl_call(o, "POST", "/vms", body, &vm);
    json_decref(body);
    if (rc)
        return rc;
    char id[64];
    snprintf(id, sizeof(id), "%s", ctl_jstr(vm, "id"));
    if (!start) {
        if (o->json)
            ctl_print_json(vm);
        else
            printf("VM %s created: %s\n", ctl_jstr(vm, "name"), id);
        json_decref(vm);
        return 0;
    }
    if (!o->json)
        printf("VM %s created: %s\n", ctl_jstr(vm, "name"), id);
    json_decref(vm);
    char path[128];
    snprintf(path, sizeof(path), "/vms/%s/start", id);
    json_t *empty = json_object(), *j = NULL;
    rc = ctl_call(o, "POST", path, empty, &j);
    json_decref(empty);
    json_decref(j);
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "/vms/%s", id);
    rc = ctl_call(o, "GET", path, NULL, &vm);
    if (rc)
        return rc;
    if (o->json)
        ctl_print_json(vm);
    else
        printf("VM %s started: %s\n", ctl_jstr(vm, "name"),
               ctl_jstr(vm, "status"));
    json_decref(vm);
    return 0;
}

static int
s_start(const ctl_opts_t *o, int argc, char **argv)
{
    json_t *body = NULL;
    cmn_err_reset();
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = ctl_opt_value(argc, argv, &i, "--host", &v);
        if (r < 0)
            return ctl_usage_error("%s", cmn_err_msg());
        if (r == 0)
            return ctl_usage_error("vm start: unexpected argument '%s'",
                                   argv[i]);
        json_decref(body);
        body = json_pack("{s:{s:s}}", "host", cmn_uuid_valid(v) ? "id" : "name",
                         v);
        if (!body)
            return ctl_usage_error("--host: '%s' is not valid UTF-8", v);
    }
    return s_action(o, argv[0], "start", body);
}

static int
s_remove(const ctl_opts_t *o, const char *id)
{
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/vms/%s", ctl_seg(id, seg, sizeof(seg)));
    json_t *j = NULL;
    int rc = ctl_send(o, "DELETE", path, NULL, &j);
    if (rc || !j)
        return rc;
    printf("VM %s removed\n", id);
    json_decref(j);
    return 0;
}

int
ctl_vm_cmd(const ctl_opts_t *o, int argc, char **argv)
{
    static const char *const actions[] = { "stop", "shutdown", "reboot",
                                           "reset", "pause", "suspend",
                                           "resume", NULL };
    if (argc < 1)
        return ctl_usage_error("vm: missing a verb (list, show, create, "
                               "start, stop, ..., remove, stats)");
    const char *verb = argv[0];
    argc--;
    argv++;
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "vm %s", verb);
    int rc;
    if (strcmp(verb, "list") == 0) {
        if ((rc = ctl_extra(argc, argv, 0, cmd)))
            return rc;
        return s_list(o);
    }
    if (strcmp(verb, "create") == 0)
        return s_create(o, argc, argv);
    if ((rc = ctl_mig_vm_cmd(o, verb, argc, argv)) >= 0)
        return rc;
    bool known = strcmp(verb, "show") == 0 || strcmp(verb, "start") == 0 ||
                 strcmp(verb, "remove") == 0 || strcmp(verb, "stats") == 0;
    for (int i = 0; actions[i] && !known; i++)
        known = strcmp(verb, actions[i]) == 0;
    if (!known)
        return ctl_usage_error("vm: unknown verb '%s' (list, show, create, "
                               "start, stop, shutdown, reboot, reset, pause, "
                               "resume, remove, stats)", verb);
    if ((rc = ctl_need_id(argc, argv, cmd)))
        return rc;
    if (strcmp(verb, "start") == 0)
        return s_start(o, argc, argv);
    if ((rc = ctl_extra(argc, argv, 1, cmd)))
        return rc;
    if (strcmp(verb, "show") == 0)
        return s_show(o, argv[0]);
    if (strcmp(verb, "remove") == 0)
        return s_remove(o, argv[0]);
    if (strcmp(verb, "stats") == 0)
        return ctl_stats(o, "vms", argv[0]);
    return s_action(o, argv[0], verb, NULL);
}
