/* engine.yaml. */
#ifndef ENG_CONF_H
#define ENG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *state_dir;            /* state_dir: /var/lib/herd-engine */
    char *database;             /* database: <state_dir>/engine.db if unset */
    int log_level;              /* log.level */
    char *log_filters;          /* log.filters: "rpc.*:debug" */
    char *log_file;             /* log.file: "" = stderr */
    char *agents_listen;        /* agents.listen: tcp://0.0.0.0:54321 */
    int64_t agents_max_message; /* agents.max_message_bytes: 4 MiB */
    int64_t host_connecting_s;  /* agents.connecting_after: 6 (no message) */
    int64_t host_nonresponsive_s; /* agents.nonresponsive_after: 20 */
    int64_t request_timeout_s;  /* agents.request_timeout: 60 */
    bool agents_curve;          /* agents.curve: true (CURVE + ZAP) */
    char *agents_key_dir;       /* agents.key_dir: <state_dir>/keys if unset */
    char *agents_enrollment;    /* agents.enrollment: approve|closed|auto */
    int64_t agents_pending_rate; /* agents.pending_rate: 30 new pending
                                    hosts per minute (0 = unlimited) */
    char *api_listen;           /* api.listen: 127.0.0.1 */
    int64_t api_port;           /* api.port: 8443 with TLS, else 8080 */
    int64_t api_max_body;       /* api.max_body_bytes: 1 MiB */
    bool api_tls;               /* api.tls: true (HTTPS) */
    char *api_pki_dir;          /* api.pki_dir: <state_dir>/pki if unset */
    char *api_server_names;     /* api.server_names: extra SANs, "a,b" */
    char *admin_password;       /* auth.admin_password: "" */
    char *admin_password_file;  /* auth.admin_password_file: "" */
    int64_t token_lifetime_s;   /* auth.token_lifetime: 1800 */
    int64_t auth_max_failures;  /* auth.max_failures: 10 failed password
                                   checks per client address a minute
                                   (0 = no limit) */
    int64_t vm_shutdown_timeout_s; /* vm.shutdown_timeout: 120 */
    int64_t vm_reboot_timeout_s;   /* vm.reboot_timeout: 60 */
    char *vm_firmware;          /* vm.firmware: /usr/share/qemu/qboot.rom */
    int64_t events_keep_days;   /* events.keep_days: 30 */
    int64_t mig_max_outgoing;   /* migration.max_outgoing: 2 per host */
    int64_t mig_max_incoming;   /* migration.max_incoming: 2 per host */
    int64_t mig_timeout_s;      /* migration.timeout: 600 (0 = never) */
    int64_t mig_stale_s;        /* migration.stale_after: 30 s of silence */
    bool mig_unsafe;            /* migration.unsafe: true (local qcow2) */
    int64_t balance_interval_s; /* scheduling.balance_interval: 60 */
    int64_t balance_max_moves;  /* scheduling.balance_max_moves: 2 per run */
} eng_conf_t;

/* Load defaults, then `path` (NULL: defaults only). -1 with CMN_ERR_CONFIG
 * naming file:line:key on error. */
int eng_conf_load(eng_conf_t *conf, const char *path);
/* Same from memory, for tests. */
int eng_conf_load_data(eng_conf_t *conf, const char *source, const char *buf,
                       size_t len);
void eng_conf_clear(eng_conf_t *conf);

#endif /* ENG_CONF_H */
