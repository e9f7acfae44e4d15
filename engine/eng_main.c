/* herd-engine: arguments, configuration, start-up, signals, shutdown. */
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"
#include "cmn_zmq.h"
#include "eng_agents.h"
#include "eng_enroll.h"
#include "eng_migrate.h"
#include "eng_ctx.h"
#include "eng_rest.h"

CMN_LOG_INIT("eng.main");

#define ENG_DEFAULT_CONF "/etc/herd/engine.yaml"
#ifndef HERD_VERSION
#define HERD_VERSION "0.1.0"
#endif
#define PRUNE_INTERVAL_S 3600

static void s_usage(FILE *out)
{
    fprintf(out,
            "Usage: herd-engine [-c FILE] [--check-config] [--version] "
            "[--help]\n"
            "  -c, --config FILE   configuration (default " ENG_DEFAULT_CONF
            ")\n"
            "      --check-config  check the configuration and exit\n"
            "      --show-key      print the engine's CURVE public key and "
            "fingerprint\n"
            "      --enroll-token NAME  print a one-time host enrollment "
            "token\n"
            "                      (valid 24 h; NAME \"\" keeps the "
            "hostname)\n"
            "      --version       print the version and exit\n"
            "  -h, --help          this text\n");
}

static void s_on_stop(evutil_socket_t sig, short what, void *opaque)
{
    (void)what;
    eng_ctx_t *ctx = opaque;
    CMN_INFO("signal %d: shutting down", (int)sig);
    event_base_loopbreak(ctx->base);
}

static void s_on_hup(evutil_socket_t sig, short what, void *opaque)
{
    (void)sig;
    (void)what;
    eng_ctx_t *ctx = opaque;
    cmn_err_reset();
    if (cmn_log_set_file(ctx->conf.log_file) < 0)
        CMN_ERROR("SIGHUP: cannot reopen the log file: %s", cmn_err_msg());
    else
        CMN_INFO("SIGHUP: log file reopened");
}

static void s_prune(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    eng_ctx_t *ctx = opaque;
    if (ctx->conf.events_keep_days <= 0)
        return;
    cmn_err_reset();
    int64_t before = (int64_t)cmn_time_ms() -
                     ctx->conf.events_keep_days * 86400 * INT64_C(1000);
    int64_t n = eng_store_event_prune(ctx->store, before);
    if (n < 0)
        CMN_WARN("event pruning failed: %s", cmn_err_msg());
    else if (n > 0)
        CMN_INFO("pruned %lld events older than %lld days", (long long)n,
                 (long long)ctx->conf.events_keep_days);
}

static int s_log_setup(const eng_conf_t *conf)
{
    cmn_log_set_ident("herd-engine");
    cmn_log_set_level((cmn_log_level_t)conf->log_level);
    if (conf->log_filters && conf->log_filters[0] &&
        cmn_log_set_filters(conf->log_filters) < 0)
        return -1;
    return cmn_log_set_file(conf->log_file);
}

/* Everything between configuration and the loop; undone by s_stop(). */
static int s_start(eng_ctx_t *ctx)
{
    ctx->base = event_base_new();
    if (!ctx->base)
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot create the event loop");
    ctx->store = eng_store_open(ctx->conf.database);
    if (!ctx->store)
        return -1;
    ctx->stats = eng_stats_new();
    if (!ctx->stats)
        return CMN_ERR(CMN_ERR_NOMEM, "cannot create the statistics table");
    cmn_uuid_generate(ctx->engine_id);
    ctx->started_ms = (int64_t)cmn_time_ms();
    eng_event(ctx, ENG_SEV_NORMAL, ENG_EV_ENGINE_STARTED, NULL, NULL, NULL,
              "Engine %s started (herd %s, database %s)", ctx->engine_id,
              HERD_VERSION, ctx->conf.database);
    ctx->agents = eng_agents_new(ctx);
    if (!ctx->agents)
        return -1;
    eng_migrate_conf_t mc;
    eng_migrate_conf_init(&mc);
    mc.max_outgoing = (unsigned)ctx->conf.mig_max_outgoing;
    mc.max_incoming = (unsigned)ctx->conf.mig_max_incoming;
    mc.timeout_s = (unsigned)ctx->conf.mig_timeout_s;
    mc.stale_s = (unsigned)ctx->conf.mig_stale_s;
    mc.unsafe = ctx->conf.mig_unsafe;
    mc.balance_interval_s = (unsigned)ctx->conf.balance_interval_s;
    mc.balance_max_moves = (unsigned)ctx->conf.balance_max_moves;
    ctx->migrate = eng_migrate_new(ctx, &mc);
    if (!ctx->migrate)
        return -1;
    ctx->rest = eng_rest_new(ctx);
    if (!ctx->rest)
        return -1;
    return 0;
}

static void s_stop(eng_ctx_t *ctx)
{
    /* Agents first: pending requests fail and their callbacks may still
     * answer HTTP requests the REST server holds. */
    eng_migrate_destroy(&ctx->migrate);
    eng_agents_destroy(&ctx->agents);
    eng_rest_destroy(&ctx->rest);
    eng_stats_destroy(&ctx->stats);
    eng_store_destroy(&ctx->store);
    if (ctx->base)
        event_base_free(ctx->base);
    ctx->base = NULL;
    cmn_zmq_shutdown();
    eng_conf_clear(&ctx->conf);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 'C' },
        { "show-key", no_argument, NULL, 'K' },
        { "enroll-token", required_argument, NULL, 'T' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = ENG_DEFAULT_CONF;
    bool check = false, show_key = false;
    const char *token_name = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'K':
            show_key = true;
            break;
        case 'T':
            token_name = optarg;
            break;
        case 'V':
            printf("herd-engine %s\n", HERD_VERSION);
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
        fprintf(stderr, "herd-engine: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }

    eng_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    cmn_err_reset();
    if (eng_conf_load(&ctx.conf, path) < 0) {
        fprintf(stderr, "herd-engine: %s\n", cmn_err_msg());
        eng_conf_clear(&ctx.conf);
        return 1;
    }
    if (check) {
        printf("%s: OK\n", path);
        eng_conf_clear(&ctx.conf);
        return 0;
    }
    if (show_key || token_name) {
        /* Next to a running engine: reads the key file, or adds a token
         * to the database (WAL allows it). */
        cmn_log_set_level(CMN_LOG_WARN);
        int r = show_key ? eng_enroll_cli_show_key(&ctx.conf)
                         : eng_enroll_cli_token(&ctx.conf, token_name, 86400);
        if (r < 0)
            fprintf(stderr, "herd-engine: %s\n", cmn_err_msg());
        eng_conf_clear(&ctx.conf);
        return r < 0 ? 1 : 0;
    }
    /* state_dir first: the log file may live in it */
    if (cmn_mkdir_p(ctx.conf.state_dir, 0750) < 0 || s_log_setup(&ctx.conf) < 0) {
        fprintf(stderr, "herd-engine: %s\n", cmn_err_msg());
        eng_conf_clear(&ctx.conf);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
    struct event *ev_prune = NULL;
    if (s_start(&ctx) < 0) {
        CMN_ERROR("cannot start: %s", cmn_err_msg());
        fprintf(stderr, "herd-engine: %s\n", cmn_err_msg());
        goto out;
    }
    ev_term = evsignal_new(ctx.base, SIGTERM, s_on_stop, &ctx);
    ev_int = evsignal_new(ctx.base, SIGINT, s_on_stop, &ctx);
    ev_hup = evsignal_new(ctx.base, SIGHUP, s_on_hup, &ctx);
    ev_prune = event_new(ctx.base, -1, EV_PERSIST, s_prune, &ctx);
    struct timeval prune_tv = { PRUNE_INTERVAL_S, 0 };
    if (!ev_term || !ev_int || !ev_hup || !ev_prune ||
        event_add(ev_term, NULL) < 0 || event_add(ev_int, NULL) < 0 ||
        event_add(ev_hup, NULL) < 0 || event_add(ev_prune, &prune_tv) < 0) {
        CMN_ERROR("cannot install signal handlers");
        goto out;
    }
    s_prune(-1, 0, &ctx);
    CMN_INFO("herd-engine %s running: engine id %s, agents on %s, API on "
             "%s:%d", HERD_VERSION, ctx.engine_id,
             eng_agents_endpoint(ctx.agents), ctx.conf.api_listen,
             eng_rest_port(ctx.rest));
    event_base_dispatch(ctx.base);
    rc = 0;
out:
    if (ev_term)
        event_free(ev_term);
    if (ev_int)
        event_free(ev_int);
    if (ev_hup)
        event_free(ev_hup);
    if (ev_prune)
        event_free(ev_prune);
    s_stop(&ctx);
    libevent_global_shutdown();
    CMN_INFO("stopped");
    return rc;
}
