/* herd-agent: one per KVM host. Talks to the local libvirt and connects out
 * to the engine. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agt_conf.h"
#include "agt_link.h"
#include "agt_pool.h"
#include "agt_stats.h"
#include "agt_virt.h"
#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"
#include "cmn_zmq.h"

CMN_LOG_INIT("agent.main");

#define AGT_VERSION_STR "0.1.0"

static void
s_usage(FILE *f)
{
    fprintf(f,
            "Usage: herd-agent [-c FILE] [--check-config] [--version] [--help]\n"
            "\n"
            "The Herd host agent: runs VMs on the local libvirt for herd-engine.\n"
            "\n"
            "  -c, --config FILE   configuration file (default %s)\n"
            "      --check-config  load and check the configuration, then exit\n"
            "      --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n",
            AGT_CONF_DEFAULT_PATH);
}

/* Read the host id from `path`, or make one and store it there. */
static int
s_host_id(const char *path, char out[CMN_UUID_STRLEN + 1])
{
    struct stat st;
    if (stat(path, &st) == 0) {
        size_t len;
        CMN_AUTOFREE char *buf = cmn_file_read(path, 4096, &len);
        if (!buf)
            return -1;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' ||
                           buf[len - 1] == '\r' || buf[len - 1] == '\t'))
            buf[--len] = '\0';
        if (!cmn_uuid_valid(buf))
            return CMN_ERR(CMN_ERR_CONFIG, "host_id_file %s: content is not a UUID "
                           "(remove the file to make a new host id)", path);
        for (size_t i = 0; i <= CMN_UUID_STRLEN; i++)
            out[i] = (char)(buf[i] >= 'A' && buf[i] <= 'F' ? buf[i] - 'A' + 'a' : buf[i]);
        return 0;
    }
    if (errno != ENOENT)
        return CMN_ERR_ERRNO(CMN_ERR_CONFIG, "host_id_file %s", path);
    cmn_uuid_generate(out);
    CMN_AUTOFREE char *dir = strdup(path);
    if (!dir)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (cmn_mkdir_p(dir, 0755) < 0)
            return -1;
    }
    char line[CMN_UUID_STRLEN + 2];
    snprintf(line, sizeof(line), "%s\n", out);
    if (cmn_file_write_atomic(path, line, strlen(line), 0644) < 0)
        return -1;
    CMN_INFO("new host id %s written to %s", out, path);
    return 0;
}

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    CMN_INFO("signal %d: shutting down (VMs keep running)", (int)sig);
    event_base_loopbreak(arg);
}

static int
s_apply_log(const agt_conf_t *conf, const char *path)
{
    cmn_log_set_level((cmn_log_level_t)conf->log_level);
    if (cmn_log_set_filters(conf->log_filters) < 0) {
        char msg[1100];
        snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_CONFIG, "%s: key 'log.filters': %s", path, msg);
    }
    if (cmn_log_set_file(conf->log_file) < 0) {
        char msg[1100];
        snprintf(msg, sizeof(msg), "%s", cmn_err_msg());
        cmn_err_reset();
        return CMN_ERR(CMN_ERR_CONFIG, "%s: key 'log.file': %s", path, msg);
    }
    return 0;
}

static int
s_run(const agt_conf_t *conf)
{
    char host_id[CMN_UUID_STRLEN + 1];
    if (s_host_id(conf->host_id_file, host_id) < 0)
        return -1;
    if (cmn_mkdir_p(conf->images_dir, 0755) < 0) {
        CMN_WARN("images_dir %s: %s", conf->images_dir, cmn_err_msg());
        cmn_err_reset();
    }
    int rc = -1;
    struct event_base *base = event_base_new();
    agt_virt_t *virt = NULL;
    agt_pool_t *pool = NULL;
    agt_stats_t *stats = NULL;
    agt_link_t *link = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    if (!base) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot create the event loop");
        goto out;
    }
    if (!(virt = agt_virt_new(conf->libvirt_uri, conf->images_dir)))
        goto out;
    if (!(pool = agt_pool_new(base, (int)conf->workers)))
        goto out;
    if (!(stats = agt_stats_new(conf->images_dir)))
        goto out;
    agt_link_opts_t lo = { .base = base, .conf = conf, .host_id = host_id,
                           .virt = virt, .pool = pool, .stats = stats };
    if (!(link = agt_link_new(&lo)))
        goto out;
    if (agt_virt_start_events(virt) < 0)
        goto out;
    if (agt_virt_connect(virt) < 0) {
        CMN_WARN("%s; will retry", cmn_err_msg());
        cmn_err_reset();
    }
    sigterm = evsignal_new(base, SIGTERM, s_on_signal, base);
    sigint = evsignal_new(base, SIGINT, s_on_signal, base);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 ||
        evsignal_add(sigint, NULL) < 0) {
        CMN_ERR(CMN_ERR_INTERNAL, "cannot install signal handlers");
        goto out;
    }
    if (agt_link_start(link) < 0)
        goto out;
    CMN_INFO("herd-agent %s started: host %s, libvirt %s, engine %s", AGT_VERSION_STR,
             host_id, conf->libvirt_uri, conf->engine);
    event_base_dispatch(base);
    rc = 0;
out:
    /* Order matters: no more libvirt events, then finish or cancel the
     * workers' jobs (their completions refer to the link), then the link. */
    agt_virt_stop(virt);
    agt_link_abort_jobs(link);      /* migrations would hold the workers */
    agt_pool_destroy(&pool);
    agt_link_destroy(&link);
    agt_stats_destroy(&stats);
    agt_virt_destroy(&virt);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (base)
        event_base_free(base);
    cmn_zmq_shutdown();
    if (rc == 0)
        CMN_INFO("stopped");
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 'C' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = AGT_CONF_DEFAULT_PATH;
    bool check = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'V':
            printf("herd-agent %s\n", AGT_VERSION_STR);
            return 0;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "herd-agent: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }
    cmn_log_set_ident("herd-agent");
    signal(SIGPIPE, SIG_IGN);
    agt_conf_t conf;
    cmn_err_reset();
    if (agt_conf_load(&conf, path) < 0 || s_apply_log(&conf, path) < 0) {
        fprintf(stderr, "herd-agent: %s\n", cmn_err_msg());
        agt_conf_clear(&conf);
        return 1;
    }
    if (check) {
        printf("herd-agent: %s: configuration OK\n", path);
        agt_conf_clear(&conf);
        return 0;
    }
    if (evthread_use_pthreads() < 0) {
        fprintf(stderr, "herd-agent: libevent has no pthreads support\n");
        agt_conf_clear(&conf);
        return 1;
    }
    int rc = s_run(&conf);
    if (rc < 0)
        fprintf(stderr, "herd-agent: %s\n", cmn_err_msg());
    agt_conf_clear(&conf);
    return rc < 0 ? 1 : 0;
}
