#include "agt_conf.h"

#include <stddef.h>
#include <string.h>

#include "cmn_conf.h"
#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("agent.conf");

#define K_STR(k, f, req) { k, CMN_CONF_STR, offsetof(agt_conf_t, f), 0, 0, req }
#define K_INT(k, f, lo, hi) { k, CMN_CONF_INT, offsetof(agt_conf_t, f), lo, hi, false }

static const cmn_conf_key_t s_keys[] = {
    K_STR("engine", engine, false),
    K_STR("host_id_file", host_id_file, false),
    K_STR("libvirt_uri", libvirt_uri, false),
    K_STR("images_dir", images_dir, false),
    K_INT("stats_interval", stats_interval, 1, 3600),
    K_INT("heartbeat_interval", heartbeat_interval, 1, 60),
    K_INT("request_timeout", request_timeout, 1, 600),
    K_INT("workers", workers, 1, 32),
    K_INT("max_message_bytes", max_message_bytes, 4096, 256LL << 20),
    { "log.level", CMN_CONF_LEVEL, offsetof(agt_conf_t, log_level), 0, 0, false },
    K_STR("log.filters", log_filters, false),
    K_STR("log.file", log_file, false),
    K_STR("migration_uri", migration_uri, false),
    { "curve", CMN_CONF_BOOL, offsetof(agt_conf_t, curve), 0, 0, false },
    K_STR("secret_key_file", secret_key_file, false),
    K_STR("public_key_file", public_key_file, false),
    K_STR("engine_key_file", engine_key_file, false),
    K_STR("enrollment_token", enrollment_token, false),
    K_INT("max_outgoing_migrations", max_outgoing_migrations, 1, 16),
    { NULL, 0, 0, 0, 0, false },
};

static int
s_defaults(agt_conf_t *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->stats_interval = 15;
    conf->heartbeat_interval = 2;
    conf->request_timeout = 10;
    conf->workers = 4;
    conf->max_message_bytes = 4 << 20;
    conf->log_level = CMN_LOG_INFO;
    conf->max_outgoing_migrations = 2;
    conf->curve = true;
    if (cmn_conf_set_str(&conf->engine, "tcp://127.0.0.1:54321") < 0 ||
        cmn_conf_set_str(&conf->host_id_file, "/var/lib/herd-agent/host-id") < 0 ||
        cmn_conf_set_str(&conf->libvirt_uri, "qemu:///system") < 0 ||
        cmn_conf_set_str(&conf->images_dir, "/var/lib/herd-agent/images") < 0 ||
        cmn_conf_set_str(&conf->log_filters, "") < 0 ||
        cmn_conf_set_str(&conf->log_file, "") < 0 ||
        cmn_conf_set_str(&conf->migration_uri, "") < 0 ||
        cmn_conf_set_str(&conf->secret_key_file, "/etc/herd/keys/agent.key") < 0 ||
        cmn_conf_set_str(&conf->public_key_file, "/etc/herd/keys/agent.pub") < 0 ||
        cmn_conf_set_str(&conf->engine_key_file, "/etc/herd/keys/engine.pub") < 0 ||
        cmn_conf_set_str(&conf->enrollment_token, "") < 0)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory setting config defaults");
    return 0;
}

/* Values the schema cannot check. cmn_conf does not tell us the line of a
 * key, so these name the source and the key. */
static int
s_check(const agt_conf_t *conf, const char *source)
{
    static const struct { const char *key; size_t off; } nonempty[] = {
        { "engine", offsetof(agt_conf_t, engine) },
        { "host_id_file", offsetof(agt_conf_t, host_id_file) },
        { "libvirt_uri", offsetof(agt_conf_t, libvirt_uri) },
        { "images_dir", offsetof(agt_conf_t, images_dir) },
    };
    for (size_t i = 0; i < sizeof(nonempty) / sizeof(nonempty[0]); i++) {
        const char *v = *(char *const *)((const char *)conf + nonempty[i].off);
        if (!v || !*v)
            return CMN_ERR(CMN_ERR_CONFIG, "%s: key '%s': must not be empty",
                           source, nonempty[i].key);
    }
    if (conf->images_dir[0] != '/')
        return CMN_ERR(CMN_ERR_CONFIG,
                       "%s: key 'images_dir': '%s' is not an absolute path",
                       source, conf->images_dir);
    if (conf->migration_uri && conf->migration_uri[0] &&
        !strstr(conf->migration_uri, "://"))
        return CMN_ERR(CMN_ERR_CONFIG,
                       "%s: key 'migration_uri': '%s' is not a libvirt URI "
                       "(qemu+tcp://HOST/system)", source, conf->migration_uri);
    if (conf->curve && (!conf->secret_key_file[0] ||
                        !conf->public_key_file[0] ||
                        !conf->engine_key_file[0]))
        return CMN_ERR(CMN_ERR_CONFIG, "%s: keys 'secret_key_file', "
                       "'public_key_file', 'engine_key_file': must not be "
                       "empty with curve: true (run herd-agent-setup)",
                       source);
    if (strlen(conf->enrollment_token) > 256)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: key 'enrollment_token': longer "
                       "than 256 characters", source);
    if (!strstr(conf->engine, "://"))
        return CMN_ERR(CMN_ERR_CONFIG,
                       "%s: key 'engine': '%s' is not a ZeroMQ endpoint "
                       "(tcp://HOST:PORT)", source, conf->engine);
    return 0;
}

int
agt_conf_load_data(agt_conf_t *conf, const char *source, const char *buf,
                   size_t len)
{
    if (s_defaults(conf) < 0)
        return -1;
    if (cmn_conf_load_data(source, buf, len, s_keys, conf) < 0)
        return -1;
    return s_check(conf, source);
}

int
agt_conf_load(agt_conf_t *conf, const char *path)
{
    if (s_defaults(conf) < 0)
        return -1;
    if (!path)
        return 0;
    if (cmn_conf_load_file(path, s_keys, conf) < 0)
        return -1;
    return s_check(conf, path);
}

void
agt_conf_clear(agt_conf_t *conf)
{
    cmn_conf_free_strings(s_keys, conf);
}
