/* agent.yaml: the herd-agent configuration. */
#ifndef AGT_CONF_H
#define AGT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGT_CONF_DEFAULT_PATH "/etc/herd/agent.yaml"

typedef struct {
    char *engine;               /* engine: tcp://127.0.0.1:54321 */
    char *host_id_file;         /* host_id_file: /var/lib/herd-agent/host-id */
    char *libvirt_uri;          /* libvirt_uri: qemu:///system */
    char *images_dir;           /* images_dir: /var/lib/herd-agent/images */
    int64_t stats_interval;     /* stats_interval: 15 s (1..3600) */
    int64_t heartbeat_interval; /* heartbeat_interval: 2 s (1..60) */
    int64_t request_timeout;    /* request_timeout: 10 s (1..600) */
    int64_t workers;            /* workers: 4 (1..32) */
    int64_t max_message_bytes;  /* max_message_bytes: 4 MiB */
    int log_level;              /* log.level: info */
    char *log_filters;          /* log.filters: "" */
    char *log_file;             /* log.file: "" = stderr */
    bool curve;                 /* curve: true (CURVE to the engine) */
    char *secret_key_file;      /* secret_key_file: /etc/herd/keys/agent.key */
    char *public_key_file;      /* public_key_file: /etc/herd/keys/agent.pub */
    char *engine_key_file;      /* engine_key_file: /etc/herd/keys/engine.pub */
    char *enrollment_token;     /* enrollment_token: "" (one-time) */
    char *migration_uri;        /* migration_uri: "" = qemu+tcp://<hostname>/system */
    int64_t max_outgoing_migrations; /* max_outgoing_migrations: 2 (1..16) */
} agt_conf_t;

/* Fill `conf` with the defaults, then apply the YAML file at `path` (NULL:
 * defaults only). -1 with CMN_ERR_CONFIG naming file:line:key on error;
 * `conf` must be cleared with agt_conf_clear() in every case. */
int agt_conf_load(agt_conf_t *conf, const char *path);

/* Same from a buffer named `source` in messages, for tests. */
int agt_conf_load_data(agt_conf_t *conf, const char *source, const char *buf,
                       size_t len);

/* Free the strings of `conf` (safe on a zeroed or partly loaded conf). */
void agt_conf_clear(agt_conf_t *conf);

#endif /* AGT_CONF_H */
