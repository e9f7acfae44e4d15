/* engine.yaml: the key table, defaults and the checks that span keys. */
/* eng_conf.h uses size_t without including <stddef.h> (not my file to
 * fix; reported), so it comes first here. */
#include <stddef.h>

#include "eng_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_conf.h"
#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("engine.conf");

#define K_STR(k, f) { k, CMN_CONF_STR, offsetof(eng_conf_t, f), 0, 0, false }
#define K_INT(k, f, lo, hi) \
    { k, CMN_CONF_INT, offsetof(eng_conf_t, f), lo, hi, false }

static const cmn_conf_key_t s_keys[] = {
    K_STR("state_dir", state_dir),
    K_STR("database", database),
    { "log.level", CMN_CONF_LEVEL, offsetof(eng_conf_t, log_level), 0, 0,
      false },
    K_STR("log.filters", log_filters),
    K_STR("log.file", log_file),
    K_STR("agents.listen", agents_listen),
    K_INT("agents.max_message_bytes", agents_max_message, 4096, 256LL << 20),
    K_INT("agents.connecting_after", host_connecting_s, 1, 3600),
    K_INT("agents.nonresponsive_after", host_nonresponsive_s, 2, 86400),
    K_INT("agents.request_timeout", request_timeout_s, 1, 3600),
    { "agents.curve", CMN_CONF_BOOL, offsetof(eng_conf_t, agents_curve), 0, 0,
      false },
    K_STR("agents.key_dir", agents_key_dir),
    K_STR("agents.enrollment", agents_enrollment),
    K_INT("agents.pending_rate", agents_pending_rate, 0, 100000),
    K_STR("api.listen", api_listen),
    K_INT("api.port", api_port, 0, 65535),
    K_INT("api.max_body_bytes", api_max_body, 1024, 256LL << 20),
    { "api.tls", CMN_CONF_BOOL, offsetof(eng_conf_t, api_tls), 0, 0, false },
    K_STR("api.pki_dir", api_pki_dir),
    K_STR("api.server_names", api_server_names),
    K_STR("auth.admin_password", admin_password),
    K_STR("auth.admin_password_file", admin_password_file),
    K_INT("auth.token_lifetime", token_lifetime_s, 1, 366LL * 86400),
    K_INT("auth.max_failures", auth_max_failures, 0, 100000),
    K_INT("vm.shutdown_timeout", vm_shutdown_timeout_s, 1, 86400),
    K_INT("vm.reboot_timeout", vm_reboot_timeout_s, 1, 86400),
    K_STR("vm.firmware", vm_firmware),
    K_INT("events.keep_days", events_keep_days, 0, 36500),
    K_INT("migration.max_outgoing", mig_max_outgoing, 1, 32),
    K_INT("migration.max_incoming", mig_max_incoming, 1, 32),
    K_INT("migration.timeout", mig_timeout_s, 0, 86400),
    K_INT("migration.stale_after", mig_stale_s, 5, 3600),
    { "migration.unsafe", CMN_CONF_BOOL, offsetof(eng_conf_t, mig_unsafe), 0,
      0, false },
    K_INT("scheduling.balance_interval", balance_interval_s, 1, 86400),
    K_INT("scheduling.balance_max_moves", balance_max_moves, 0, 100),
    { NULL, 0, 0, 0, 0, false },
};

static int
s_defaults(eng_conf_t *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->log_level = CMN_LOG_INFO;
    conf->agents_max_message = 4 << 20;
    conf->host_connecting_s = 6;
    conf->host_nonresponsive_s = 20;
    conf->request_timeout_s = 60;
    conf->api_port = -1;        /* 8443 with TLS, 8080 without */
    conf->api_max_body = 1 << 20;
    conf->api_tls = true;
    conf->agents_curve = true;
    conf->agents_pending_rate = 30;
    /* oVirt's UserSessionTimeOutInterval: 30 minutes */
    conf->token_lifetime_s = 1800;
    conf->auth_max_failures = 10;
    conf->vm_shutdown_timeout_s = 120;
    conf->vm_reboot_timeout_s = 60;
    conf->events_keep_days = 30;
    conf->mig_max_outgoing = 2;     /* oVirt's defaults */
    conf->mig_max_incoming = 2;
    conf->mig_timeout_s = 600;
    conf->mig_stale_s = 30;
    conf->mig_unsafe = true;
    conf->balance_interval_s = 60;
    conf->balance_max_moves = 2;
    /* database stays NULL: it follows state_dir unless set */
    if (cmn_conf_set_str(&conf->state_dir, "/var/lib/herd-engine") < 0 ||
        cmn_conf_set_str(&conf->log_filters, "") < 0 ||
        cmn_conf_set_str(&conf->log_file, "") < 0 ||
        cmn_conf_set_str(&conf->agents_listen, "tcp://0.0.0.0:54321") < 0 ||
        cmn_conf_set_str(&conf->agents_enrollment, "approve") < 0 ||
        cmn_conf_set_str(&conf->api_listen, "127.0.0.1") < 0 ||
        cmn_conf_set_str(&conf->api_server_names, "") < 0 ||
        cmn_conf_set_str(&conf->admin_password, "") < 0 ||
        cmn_conf_set_str(&conf->admin_password_file, "") < 0 ||
        cmn_conf_set_str(&conf->vm_firmware, "/usr/share/qemu/qboot.rom") < 0)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory setting config defaults");
    return 0;
}

/* Values the key table cannot check. cmn_conf does not tell us the line of
 * a key, so these name the source and the key. */
static int
s_check(eng_conf_t *conf, const char *source)
{
    static const struct { const char *key; size_t off; } nonempty[] = {
        { "state_dir", offsetof(eng_conf_t, state_dir) },
        { "agents.listen", offsetof(eng_conf_t, agents_listen) },
        { "api.listen", offsetof(eng_conf_t, api_listen) },
    };
    for (size_t i = 0; i < sizeof(nonempty) / sizeof(nonempty[0]); i++) {
        const char *v = *(char *const *)((const char *)conf + nonempty[i].off);
        if (v == NULL || v[0] == '\0')
            return CMN_ERR(CMN_ERR_CONFIG, "%s: key '%s': must not be empty",
                           source, nonempty[i].key);
    }
    if (conf->state_dir[0] != '/')
        return CMN_ERR(CMN_ERR_CONFIG,
                       "%s: key 'state_dir': '%s' is not an absolute path",
                       source, conf->state_dir);
    if (strstr(conf->agents_listen, "://") == NULL)
        return CMN_ERR(CMN_ERR_CONFIG,
                       "%s: key 'agents.listen': '%s' is not a ZeroMQ endpoint "
                       "(tcp://ADDRESS:PORT)", source, conf->agents_listen);
    if (conf->host_nonresponsive_s <= conf->host_connecting_s)
        return CMN_ERR(CMN_ERR_CONFIG,
                       "%s: key 'agents.nonresponsive_after': %lld must be "
                       "greater than agents.connecting_after (%lld)", source,
                       (long long)conf->host_nonresponsive_s,
                       (long long)conf->host_connecting_s);
    if (conf->api_port < 0)
        conf->api_port = conf->api_tls ? 8443 : 8080;
    if (conf->admin_password[0] && conf->admin_password_file[0])
        return CMN_ERR(CMN_ERR_CONFIG, "%s: keys 'auth.admin_password' and "
                       "'auth.admin_password_file': set one, not both",
                       source);
    if (conf->api_pki_dir == NULL || conf->api_pki_dir[0] == '\0') {
        size_t n = strlen(conf->state_dir) + sizeof("/pki");
        char *d = malloc(n);
        if (d == NULL)
            return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        const char *sep =
            conf->state_dir[strlen(conf->state_dir) - 1] == '/' ? "" : "/";
        snprintf(d, n, "%s%spki", conf->state_dir, sep);
        free(conf->api_pki_dir);
        conf->api_pki_dir = d;
    }
    if (strcmp(conf->agents_enrollment, "approve") != 0 &&
        strcmp(conf->agents_enrollment, "closed") != 0 &&
        strcmp(conf->agents_enrollment, "auto") != 0)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: key 'agents.enrollment': '%s' is "
                       "not one of approve, closed, auto", source,
                       conf->agents_enrollment);
    if (conf->agents_key_dir == NULL || conf->agents_key_dir[0] == '\0') {
        size_t n = strlen(conf->state_dir) + sizeof("/keys");
        char *d = malloc(n);
        if (d == NULL)
            return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        const char *sep =
            conf->state_dir[strlen(conf->state_dir) - 1] == '/' ? "" : "/";
        snprintf(d, n, "%s%skeys", conf->state_dir, sep);
        free(conf->agents_key_dir);
        conf->agents_key_dir = d;
    }
    if (conf->database == NULL || conf->database[0] == '\0') {
        size_t n = strlen(conf->state_dir) + sizeof("/engine.db");
        char *db = malloc(n);
        if (db == NULL)
            return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        /* no double slash for state_dir "/" or ".../" */
        const char *sep =
            conf->state_dir[strlen(conf->state_dir) - 1] == '/' ? "" : "/";
        snprintf(db, n, "%s%sengine.db", conf->state_dir, sep);
        free(conf->database);
        conf->database = db;
    }
    return 0;
}

int
eng_conf_load_data(eng_conf_t *conf, const char *source, const char *buf,
                   size_t len)
{
    if (s_defaults(conf) < 0 ||
        cmn_conf_load_data(source, buf, len, s_keys, conf) < 0 ||
        s_check(conf, source) < 0) {
        eng_conf_clear(conf);
        return -1;
    }
    return 0;
}

int
eng_conf_load(eng_conf_t *conf, const char *path)
{
    if (s_defaults(conf) < 0 ||
        (path != NULL && cmn_conf_load_file(path, s_keys, conf) < 0) ||
        s_check(conf, path ? path : "defaults") < 0) {
        eng_conf_clear(conf);
        return -1;
    }
    if (path != NULL)
        CMN_DEBUG("loaded %s", path);
    return 0;
}

void
eng_conf_clear(eng_conf_t *conf)
{
    if (conf == NULL)
        return;
    cmn_conf_free_strings(s_keys, conf);
}
