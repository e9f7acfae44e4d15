/* herdctl: live migration (vm migrate with a progress bar, vm
 * cancel-migration), host maintenance (host deactivate, activate, remove),
 * jobs and affinity groups. */
#include "ctl_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_err.h"
#include "cmn_util.h"

#define POLL_MS 100             /* job and host status polls */

static void s_sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* "[#####     ]  45 %" */
static void s_bar(FILE *fp, int pct, const char *what)
{
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[40] = '\0';
    fprintf(fp, "\r[%s] %3d %% %s", bar, pct, what);
    fflush(fp);
}

/* Follow job `job_id` until it ends; 0 if it finished, 1 if not. */
static int s_wait_job(const ctl_opts_t *o, const char *job_id, bool bar)
{
    char seg[256], path[512];
    snprintf(path, sizeof(path), "/jobs/%s", ctl_seg(job_id, seg, sizeof(seg)));
    uint64_t t0 = cmn_mono_ms();
    for (;;) {
        json_t *j = NULL;
        int rc = ctl_call(o, "GET", path, NULL, &j);
        if (rc)
            return rc;
        const char *st = ctl_jstr(j, "status");
        int pct = (int)ctl_jint(j, "progress");
        char what[300];
        snprintf(what, sizeof(what), "to %s, %lld MiB left",
                 ctl_jstr(j, "target_host.name"),
                 (long long)(ctl_jint(j, "memory_remaining") >> 20));
        if (strcmp(st, "started") != 0) {
            if (bar) {
                s_bar(stdout, strcmp(st, "finished") == 0 ? 100 : pct, "");
                printf("\n");
            }
            int out = 0;
            if (o->json) {
                ctl_print_json(j);
            } else if (strcmp(st, "finished") == 0) {
                printf("VM %s migrated to host %s (%.1f s)\n",
                       ctl_jstr(j, "vm.id"), ctl_jstr(j, "target_host.name"),
                       (double)(cmn_mono_ms() - t0) / 1000.0);
            } else {
                fprintf(stderr, "herdctl: migration %s: %s\n", st,
                        ctl_jstr(j, "message"));
                out = CTL_EXIT_FAULT;
            }
            json_decref(j);
            return out;
        }
        if (bar)
            s_bar(stdout, pct, what);
        json_decref(j);
        s_sleep_ms(POLL_MS);
    }
}

static int s_migrate(const ctl_opts_t *o, int argc, char **argv)
{
    json_t *body = NULL;
    bool wait = isatty(STDOUT_FILENO) && !o->json;
    cmn_err_reset();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wait") == 0) {
            wait = true;
            continue;
        }
        if (strcmp(argv[i], "--no-wait") == 0) {
            wait = false;
            continue;
        }
        const char *v;
        int r = ctl_opt_value(argc, argv, &i, "--host", &v);
        if (r < 0)
            return ctl_usage_error("%s", cmn_err_msg());
        if (r == 0)
            return ctl_usage_error("vm migrate: unexpected argument '%s' "
                                   "(vm migrate NAME [--host H] [--wait])",
                                   argv[i]);
        json_decref(body);
        body = json_pack("{s:{s:s}}", "host", cmn_uuid_valid(v) ? "id" : "name",
                         v);
        if (!body)
            return ctl_usage_error("--host: '%s' is not valid UTF-8", v);
    }
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/vms/%s/migrate",
             ctl_seg(argv[0], seg, sizeof(seg)));
    json_t *j = NULL;
    if (!body)
        body = json_object();
    int rc = ctl_call(o, "POST", path, body, &j);
    json_decref(body);
    if (rc)
        return rc;
    char job[64];
    snprintf(job, sizeof(job), "%s", ctl_jstr(j, "job.id"));
    if (!wait || !job[0]) {
        if (o->json)
            ctl_print_json(j);
        else
            printf("VM %s: migration started (job %s)\n", argv[0], job);
        json_decref(j);
        return 0;
    }
    json_decref(j);
    return s_wait_job(o, job, isatty(STDOUT_FILENO) || !o->json);
}

static int s_post(const ctl_opts_t *o, const char *coll, const char *id,
                  const char *action, const char *done)
{
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/%s/%s/%s", coll,
             ctl_seg(id, seg, sizeof(seg)), action);
    json_t *j = NULL;
    int rc = ctl_send(o, "POST", path, json_object(), &j);
    if (rc || !j)
        return rc;
    printf("%s %s: %s\n", strcmp(coll, "vms") == 0 ? "VM" : "Host", id,
           done);
    json_decref(j);
    return 0;
}

int ctl_mig_vm_cmd(const ctl_opts_t *o, const char *verb, int argc,
                   char **argv)
{
    bool mig = strcmp(verb, "migrate") == 0;
    bool cancel = strcmp(verb, "cancel-migration") == 0 ||
                  strcmp(verb, "cancelmigration") == 0;
    if (!mig && !cancel)
        return -1;
    char cmd[40];
    snprintf(cmd, sizeof(cmd), "vm %s", verb);
    int rc = ctl_need_id(argc, argv, cmd);
    if (rc)
        return rc;
    if (mig)
        return s_migrate(o, argc, argv);
    if ((rc = ctl_extra(argc, argv, 1, cmd)))
        return rc;
    return s_post(o, "vms", argv[0], "cancelmigration", "migration cancelled");
}

/* Wait until host `id` reaches `want` (or 120 s pass) showing its status. */
static int s_wait_host(const ctl_opts_t *o, const char *id, const char *want)
{
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/hosts/%s", ctl_seg(id, seg, sizeof(seg)));
    uint64_t until = cmn_mono_ms() + (uint64_t)o->timeout_s * 1000;
    for (;;) {
        json_t *j = NULL;
        int rc = ctl_call(o, "GET", path, NULL, &j);
        if (rc)
            return rc;
        char st[64];
        snprintf(st, sizeof(st), "%s", ctl_jstr(j, "status"));
        json_decref(j);
        if (strcmp(st, want) == 0) {
            printf("Host %s is %s\n", id, st);
            return 0;
        }
        if (cmn_mono_ms() > until) {
            fprintf(stderr, "herdctl: host %s is still %s\n", id, st);
            return CTL_EXIT_FAULT;
        }
        s_sleep_ms(POLL_MS);
    }
}

int ctl_mig_host_cmd(const ctl_opts_t *o, const char *verb, int argc,
                     char **argv)
{
    bool deact = strcmp(verb, "deactivate") == 0;
    bool act = strcmp(verb, "activate") == 0;
    bool rem = strcmp(verb, "remove") == 0;
    if (!deact && !act && !rem)
        return -1;
    char cmd[40];
    snprintf(cmd, sizeof(cmd), "host %s", verb);
    int rc = ctl_need_id(argc, argv, cmd);
    if (rc)
        return rc;
    bool wait = false;
    for (int i = 1; i < argc; i++) {
        if (deact && strcmp(argv[i], "--wait") == 0)
            wait = true;
        else
            return ctl_usage_error("%s: unexpected argument '%s'", cmd,
                                   argv[i]);
    }
    if (rem) {
        char seg[768], path[1024];
        snprintf(path, sizeof(path), "/hosts/%s",
                 ctl_seg(argv[0], seg, sizeof(seg)));
        json_t *j = NULL;
        if ((rc = ctl_call(o, "DELETE", path, NULL, &j)))
            return rc;
        json_decref(j);
        printf("Host %s removed\n", argv[0]);
        return 0;
    }
    rc = s_post(o, "hosts", argv[0], verb, deact ? "deactivation started"
                                                 : "activated");
    if (rc || !wait)
        return rc;
    return s_wait_host(o, argv[0], "maintenance");
}

/* ---- jobs and affinity groups ------------------------------------------------ */

int ctl_job_cmd(const ctl_opts_t *o, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "list") != 0)
        return ctl_usage_error("job: %s (only: job list)",
                               argc < 1 ? "missing a verb" : "unknown verb");
    json_t *j = NULL;
    int rc = ctl_call(o, "GET", "/jobs", NULL, &j);
    if (rc)
        return rc;
    if (o->json) {
        ctl_print_json(j);
        json_decref(j);
        return 0;
    }
    static const char *const titles[] = { "ID", "STATUS", "PROGRESS",
                                          "DESCRIPTION" };
    ctl_table_t *t = ctl_table_new(4, titles);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "job"), i, e) {
        char pct[16];
        snprintf(pct, sizeof(pct), "%lld %%", (long long)ctl_jint(e, "progress"));
        const char *row[] = { ctl_jstr(e, "id"), ctl_jstr(e, "status"), pct,
                              ctl_jstr(e, "description") };
        ctl_table_add(t, row);
    }
    ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    json_decref(j);
    return 0;
}

/* {"id"} for a UUID, else {"name"} (new reference). */
static json_t *s_vm_ref(const char *vm)
{
    return json_pack("{s:s}", cmn_uuid_valid(vm) ? "id" : "name", vm);
}

/* `affinity update CLUSTER GROUP [--name N] [--positive|--negative]
 * [--soft|--hard] [--vms VM,VM...]`: the PUT body from argv[3..] into
 * *body (new reference); a usage error (the exit code) otherwise. */
static int s_aff_update_body(int argc, char **argv, json_t **body)
{
    json_t *b = json_object();
    *body = NULL;
    for (int i = 3; i < argc; i++) {
        const char *val = NULL;
        int r;
        if (strcmp(argv[i], "--positive") == 0 ||
            strcmp(argv[i], "--negative") == 0) {
            json_object_set_new(b, "positive",
                                json_boolean(argv[i][2] == 'p'));
        } else if (strcmp(argv[i], "--soft") == 0 ||
                   strcmp(argv[i], "--hard") == 0) {
            json_object_set_new(b, "enforcing",
                                json_boolean(argv[i][2] == 'h'));
        } else if ((r = ctl_opt_value(argc, argv, &i, "--name", &val)) != 0) {
            if (r < 0)
                goto usage;
            json_object_set_new(b, "name", json_string(val));
        } else if ((r = ctl_opt_value(argc, argv, &i, "--vms", &val)) != 0) {
            if (r < 0)
                goto usage;
            json_t *vms = json_array();
            /* "--vms ''" empties the group. */
            for (const char *p = val; *p;) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                char vm[256];
                if (len == 0 || len >= sizeof(vm)) {
                    json_decref(vms);
                    json_decref(b);
                    return ctl_usage_error("affinity update: bad VM in "
                                           "--vms '%s'", val);
                }
                memcpy(vm, p, len);
                vm[len] = '\0';
                json_array_append_new(vms, s_vm_ref(vm));
                p += len + (e ? 1 : 0);
            }
            json_object_set_new(b, "vms", json_pack("{s:o}", "vm", vms));
        } else {
            json_decref(b);
            return ctl_usage_error("affinity update: unknown argument '%s'",
                                   argv[i]);
        }
    }
    if (json_object_size(b) == 0) {
        json_decref(b);
        return ctl_usage_error("affinity update: nothing to change (give "
                               "--name, --positive, --negative, --soft, "
                               "--hard or --vms)");
    }
    *body = b;
    return 0;
usage:
    json_decref(b);
    return ctl_usage_error("affinity update: %s", cmn_err_msg());
}

/* Print the group answered by an update (nothing with -o json). */
static void s_aff_print(const json_t *g, const char *what)
{
    if (!g)
        return;
    printf("Affinity group %s %s: %s, %s, %zu VMs\n", ctl_jstr(g, "name"),
           what, strcmp(ctl_jstr(g, "positive"), "true") == 0 ? "positive"
           : "negative", strcmp(ctl_jstr(g, "enforcing"), "true") == 0
           ? "hard" : "soft", json_array_size(json_object_get(
               json_object_get(g, "vms"), "vm")));
}

int ctl_affinity_cmd(const ctl_opts_t *o, int argc, char **argv)
{
    const char *usage = "affinity list CLUSTER | affinity add CLUSTER NAME "
                        "[--positive|--negative] [--soft] VM... | affinity "
                        "update CLUSTER GROUP [--name N] [--positive|"
                        "--negative] [--soft|--hard] [--vms VM,VM...] | "
                        "affinity add-vm|remove-vm CLUSTER GROUP VM | "
                        "affinity remove CLUSTER GROUP";
    if (argc < 2)
        return ctl_usage_error("%s", usage);
    char seg[768], path[1024];
    snprintf(path, sizeof(path), "/clusters/%s/affinitygroups",
             ctl_seg(argv[1], seg, sizeof(seg)));
    json_t *j = NULL;
    int rc;
    if (strcmp(argv[0], "list") == 0) {
        if ((rc = ctl_call(o, "GET", path, NULL, &j)))
            return rc;
        if (o->json) {
            ctl_print_json(j);
        } else {
            static const char *const titles[] = { "NAME", "POSITIVE",
                                                  "ENFORCING", "VMS" };
            ctl_table_t *t = ctl_table_new(4, titles);
            size_t i;
            json_t *g;
            json_array_foreach(json_object_get(j, "affinity_group"), i, g) {
                char n[16];
                snprintf(n, sizeof(n), "%zu", json_array_size(
                    json_object_get(json_object_get(g, "vms"), "vm")));
                const char *row[] = { ctl_jstr(g, "name"),
                                      ctl_jstr(g, "positive"),
                                      ctl_jstr(g, "enforcing"), n };
                ctl_table_add(t, row);
            }
            ctl_table_print(t, stdout);
            ctl_table_destroy(&t);
        }
        json_decref(j);
        return 0;
    }
    if (strcmp(argv[0], "add") == 0 && argc >= 3) {
        bool positive = false, enforcing = true;
        json_t *vms = json_array();
        for (int i = 3; i < argc; i++) {
            if (strcmp(argv[i], "--positive") == 0)
                positive = true;
            else if (strcmp(argv[i], "--negative") == 0)
                positive = false;
            else if (strcmp(argv[i], "--soft") == 0)
                enforcing = false;
            else if (argv[i][0] == '-') {
                json_decref(vms);
                return ctl_usage_error("affinity add: unknown option '%s'",
                                       argv[i]);
            } else
                json_array_append_new(vms, s_vm_ref(argv[i]));
        }
        json_t *body = json_pack("{s:s,s:b,s:b,s:{s:o}}", "name", argv[2],
                                 "positive", positive, "enforcing", enforcing,
                                 "vms", "vm", vms);
        if (!body)
            return ctl_usage_error("affinity add: bad name");
        rc = ctl_call(o, "POST", path, body, &j);
        json_decref(body);
        if (rc)
            return rc;
        if (o->json)
            ctl_print_json(j);
        else
            printf("Affinity group %s added (id %s)\n", argv[2],
                   ctl_jstr(j, "id"));
        json_decref(j);
        return 0;
    }
    if (strcmp(argv[0], "update") == 0 && argc >= 3) {
        char gseg[768], gpath[1600];
        snprintf(gpath, sizeof(gpath), "%s/%s", path,
                 ctl_seg(argv[2], gseg, sizeof(gseg)));
        json_t *body = NULL;
        if ((rc = s_aff_update_body(argc, argv, &body)) ||
            (rc = ctl_send(o, "PUT", gpath, body, &j)))
            return rc;
        s_aff_print(j, "updated");
        json_decref(j);
        return 0;
    }
    if ((strcmp(argv[0], "add-vm") == 0 ||
         strcmp(argv[0], "remove-vm") == 0) && argc == 4) {
        bool add = argv[0][0] == 'a';
        char gseg[768], vseg[768], gpath[2400];
        snprintf(gpath, sizeof(gpath), "%s/%s/vms%s%s", path,
                 ctl_seg(argv[2], gseg, sizeof(gseg)), add ? "" : "/",
                 add ? "" : ctl_seg(argv[3], vseg, sizeof(vseg)));
        if ((rc = ctl_send(o, add ? "POST" : "DELETE", gpath,
                           add ? s_vm_ref(argv[3]) : NULL, &j)))
            return rc;
        if (j)
            printf("VM %s %s affinity group %s\n", argv[3],
                   add ? "added to" : "removed from", argv[2]);
        json_decref(j);
        return 0;
    }
    if (strcmp(argv[0], "remove") == 0 && argc == 3) {
        char gseg[768], gpath[1600];
        snprintf(gpath, sizeof(gpath), "%s/%s", path,
                 ctl_seg(argv[2], gseg, sizeof(gseg)));
        if ((rc = ctl_call(o, "DELETE", gpath, NULL, &j)))
            return rc;
        json_decref(j);
        printf("Affinity group %s removed\n", argv[2]);
        return 0;
    }
    return ctl_usage_error("%s", usage);
}
