/* herdctl, the command-line client of the REST API: what its files share
 * and what the unit tests call (argument parsing is pure). */
#ifndef CTL_PRIV_H
#define CTL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CTL_VERSION "0.1.0"
#define CTL_DEFAULT_URL "https://127.0.0.1:8443"
#define CTL_API_PATH "/ovirt-engine/api"
#define CTL_DEFAULT_TIMEOUT 120

/* Exit codes (docs/ARCHITECTURE.md). */
enum {
    CTL_EXIT_OK = 0,
    CTL_EXIT_FAULT = 1,         /* the engine answered with a fault */
    CTL_EXIT_USAGE = 2,         /* bad arguments */
    CTL_EXIT_UNREACHABLE = 3,   /* cannot reach the engine */
};

typedef struct {
    char url[512];              /* as given, for messages */
    char host[256];
    int port;
    bool tls;                   /* https:// */
    char base[512];             /* path prefix ending in /ovirt-engine/api */
    bool json;                  /* -o json */
    int timeout_s;
    char ca_file[512];          /* --ca-file / $HERD_CA_FILE ("": system) */
    bool insecure;              /* --insecure: no certificate check */
    char user[256];             /* --user / $HERD_USER */
    char password_file[512];    /* $HERD_PASSWORD_FILE (Basic on each call) */
    char authz[640];            /* Authorization header value, "" = none */
} ctl_opts_t;

/* ---- ctl_args.c: pure parsing ------------------------------------------- */

/* "512", "64K", "64M", "1G", "2T" (binary multiples; also "KiB", "MB"...)
 * -> bytes. -1 with CMN_ERR_INVALID naming `what` and the text. */
int ctl_parse_size(const char *s, const char *what, uint64_t *out);

/* A decimal integer in [min, max]; -1 with CMN_ERR_INVALID naming `what`. */
int ctl_parse_uint(const char *s, const char *what, uint64_t min,
                   uint64_t max, uint64_t *out);

/* Fill o->url, host (IPv6 without brackets), port, tls and base from an
 * http:// or https:// URL (cmn_url_parse_named; no query, fragment or user
 * name). -1 with CMN_ERR_INVALID naming --url. */
int ctl_parse_url(const char *url, ctl_opts_t *o);

/* Take the global options (--url, -o/--output, --timeout, --ca-file,
 * --insecure, --user) out of argv,
 * wherever they are; the rest stays in order in argv (argc updated).
 * `o` gets the defaults ($HERD_URL, table, 120 s) first. -1 with
 * CMN_ERR_INVALID naming the bad option. `env_url` may be NULL. */
int ctl_parse_globals(int *argc, char **argv, const char *env_url,
                      ctl_opts_t *o);

/* If argv[*i] is option `name` ("--host"), set *val to its value (either
 * "--host=X" or the next argument, advancing *i) and return 1; 0 if it is
 * another argument; -1 with CMN_ERR_INVALID if the value is missing. */
int ctl_opt_value(int argc, char **argv, int *i, const char *name,
                  const char **val);

/* `vm create NAME [options]`: argv holds what follows "create". Builds the
 * POST /vms body (new reference) and says whether --start was given.
 * -1 with CMN_ERR_INVALID naming the bad argument. */
int ctl_vm_create_body(int argc, char **argv, json_t **body, bool *start);

/* ---- ctl_http.c --------------------------------------------------------- */

typedef struct {
    int status;                 /* HTTP status */
    char *text;                 /* body, NUL-terminated (malloc'd) */
    size_t len;
    json_t *json;               /* parsed body or NULL */
} ctl_resp_t;

void ctl_resp_clear(ctl_resp_t *r);

/* One request to base + path (path starts with '/'; body may be NULL).
 * 0 with *r filled when any HTTP answer came; -1 with CMN_ERR_UNAVAILABLE
 * or CMN_ERR_TIMEOUT (message = the reason) when the engine could not be
 * reached or did not answer in time. */
int ctl_http(const ctl_opts_t *o, const char *method, const char *path,
             const char *body, ctl_resp_t *r);
/* Same with a path from the server root and a body Content-Type. */
int ctl_http_raw(const ctl_opts_t *o, const char *method, const char *path,
                 const char *body, const char *ctype, ctl_resp_t *r);

/* ---- ctl_auth.c --------------------------------------------------------- */

/* Fill o->authz: Basic from $HERD_PASSWORD_FILE (user --user, default
 * admin@internal), else the token `herdctl login` saved for o->url, else
 * nothing. -1 with CMN_ERR_INVALID if the password file cannot be read. */
int ctl_auth_setup(ctl_opts_t *o);
/* The token file: $XDG_CONFIG_HOME/herd/token or ~/.config/herd/token. */
const char *ctl_token_path(char *buf, size_t len);
/* `login`, `logout` and `user VERB`; return the exit code. */
int ctl_login_cmd(ctl_opts_t *o, int argc, char **argv);
int ctl_logout_cmd(ctl_opts_t *o, int argc, char **argv);
int ctl_user_cmd(const ctl_opts_t *o, int argc, char **argv);

/* ---- ctl_cmds.c --------------------------------------------------------- */

/* URL-encode one path segment (an id or a name) into buf. */
const char *ctl_seg(const char *s, char *buf, size_t len);

/* Run NOUN VERB ARGS; returns the process exit code. */
int ctl_run(const ctl_opts_t *o, int argc, char **argv);

/* One REST call; prints faults ("herdctl: <detail>") and connection errors
 * to stderr and returns the exit code. On success *out (if not NULL) gets
 * the answer (new reference; {} if the body was empty). */
int ctl_call(const ctl_opts_t *o, const char *method, const char *path,
             const json_t *body, json_t **out);
/* GET /<coll>/<id>/statistics and print it. Returns the exit code. */
int ctl_stats(const ctl_opts_t *o, const char *coll, const char *id);
/* "Key:            value" line on stdout. */
void ctl_kv(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Usage error unless argv[0] is an ID or NAME; 0 if it is. */
int ctl_need_id(int argc, char **argv, const char *cmd);
/* Usage error if argv has more than `from` arguments; 0 if not. */
int ctl_extra(int argc, char **argv, int from, const char *cmd);
/* An option taking a value: its name ("--role") and where the value goes
 * (points into argv). */
typedef struct {
    const char *name;
    const char **val;
} ctl_opt_t;
/* Take the options `opts` (ended by a NULL name) from argv[from..]; a
 * later one wins. 0, or a usage error (the exit code) for a missing value
 * or, naming `cmd`, any other argument. */
int ctl_parse_opts(int argc, char **argv, int from, const char *cmd,
                   const ctl_opt_t *opts);
/* `method` `path` with `body` (taken over and freed; NULL sends none):
 * ctl_call's exit code; on success with -o json the answer is printed and
 * *out is NULL, else *out is the answer (caller decrefs). */
int ctl_send(const ctl_opts_t *o, const char *method, const char *path,
             json_t *body, json_t **out);
/* ctl_send of a GET. */
int ctl_get(const ctl_opts_t *o, const char *path, json_t **out);
/* "/<coll>" (id NULL) or "/<coll>/<id URL-encoded>" into buf; returns buf. */
const char *ctl_item_path(char *buf, size_t len, const char *coll,
                          const char *id);
/* The "name" of the element of `coll` (an answer like GET /datacenters)
 * array `key` whose "id" is `id`; `id` itself if none is; "" for "". The
 * result points into `coll` or is `id`. */
const char *ctl_name_of(const json_t *coll, const char *key, const char *id);
/* ctl_vm.c: `vm VERB ARGS`; returns the exit code. */
int ctl_vm_cmd(const ctl_opts_t *o, int argc, char **argv);

/* ctl_mig.c: `vm migrate|cancel-migration`, `host deactivate|activate|
 * remove` (return -1 for a verb they do not serve, else the exit code),
 * `job list`, `affinity list|add|remove`. */
int ctl_mig_vm_cmd(const ctl_opts_t *o, const char *verb, int argc,
                   char **argv);
int ctl_mig_host_cmd(const ctl_opts_t *o, const char *verb, int argc,
                     char **argv);
int ctl_job_cmd(const ctl_opts_t *o, int argc, char **argv);

/* ctl_keys.c: `host approve|revoke` (-1 for other verbs, else the exit
 * code). */
int ctl_key_host_cmd(const ctl_opts_t *o, const char *verb, int argc,
                     char **argv);
int ctl_affinity_cmd(const ctl_opts_t *o, int argc, char **argv);

/* ctl_inv.c: what `datacenter create|update` and `cluster create|update`
 * take. */
typedef enum {
    CTL_DC_CREATE,
    CTL_DC_UPDATE,
    CTL_CLUSTER_CREATE,
    CTL_CLUSTER_UPDATE,
} ctl_inv_form_t;
/* argv holds what follows the verb: the NAME (create) or ID|NAME (update),
 * then options. Builds the POST or PUT body (new reference in *body); a
 * cluster's --policy-property NAME=VALUE goes to scheduling_policy.
 * properties.property in order (an empty VALUE kept, see below). -1 with
 * CMN_ERR_INVALID naming the bad option or argument. */
int ctl_inv_body(ctl_inv_form_t form, int argc, char **argv, json_t **body);
/* Complete body->scheduling_policy (if any) from the cluster's current one
 * `cur` (GET /clusters/{id}; borrowed): the name if not given, the current
 * properties not given again; a property given with an empty value is
 * dropped. 0, or -1 with CMN_ERR_NOMEM. */
int ctl_inv_sched_merge(json_t *body, const json_t *cur);
/* `datacenter(s)|cluster(s) VERB ARGS`: the exit code; -1 for another
 * noun. */
int ctl_inv_cmd(const ctl_opts_t *o, const char *noun, int argc,
                char **argv);

/* ctl_engine.c: `engine key show|rotate|switch` (the engine's CURVE key
 * and its rotation). */
int ctl_engine_cmd(const ctl_opts_t *o, int argc, char **argv);

/* Print the usage text to `fp`. */
void ctl_usage(FILE *fp);
/* Print "herdctl: <msg>" and a hint; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- ctl_table.c -------------------------------------------------------- */

typedef struct ctl_table ctl_table_t;

/* A table with `ncols` column titles (copied). NULL on allocation failure. */
ctl_table_t *ctl_table_new(size_t ncols, const char *const *titles);
/* Append a row of ncols strings (copied; NULL shows as ""). */
int ctl_table_add(ctl_table_t *t, const char *const *cells);
/* Print with aligned columns separated by two spaces. */
void ctl_table_print(const ctl_table_t *t, FILE *fp);
void ctl_table_destroy(ctl_table_t **p);

/* Helpers to read oVirt JSON: a string at a dotted path ("cpu.topology.
 * sockets"), "" if absent; numbers given as numbers or strings. */
const char *ctl_jstr(const json_t *o, const char *path);
int64_t ctl_jint(const json_t *o, const char *path);

/* Milliseconds since the epoch as local ISO 8601 ("2026-11-21T20:40:01"). */
void ctl_time_local(int64_t ms, char *buf, size_t len);

/* Print `j` as indented JSON on stdout. */
void ctl_print_json(const json_t *j);

/* ---- ctl_cmds.c: lists ---------------------------------------------------- */

/* Add the table row of one element of a list; `ctx` is the caller's. */
typedef void (*ctl_row_fn)(ctl_table_t *t, const json_t *elem,
                           const void *ctx);
/* Print on stdout a table of `ncols` columns titled `cols`, one row per
 * element of the array `arr` (made by `row`, given `ctx`). */
void ctl_print_rows(const json_t *arr, size_t ncols, const char *const *cols,
                    ctl_row_fn row, const void *ctx);
/* GET `path` and print it: as JSON with -o json, else as ctl_print_rows
 * of the answer's array `key`. Returns the exit code. */
int ctl_list(const ctl_opts_t *o, const char *path, const char *key,
             size_t ncols, const char *const *cols, ctl_row_fn row);
/* ctl_list whose rows also see the answer of GET `ref_path` (another
 * collection, e.g. to show names for ids) as their ctx; that GET is not
 * made with -o json. */
int ctl_list_ref(const ctl_opts_t *o, const char *path, const char *key,
                 size_t ncols, const char *const *cols, ctl_row_fn row,
                 const char *ref_path);

#endif /* CTL_PRIV_H */
