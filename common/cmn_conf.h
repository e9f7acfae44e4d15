/* YAML configuration, schema-driven. A daemon describes its keys in a table
 * (dotted names for nested mappings: "api.port" is `api: {port: ...}`) and
 * the loader fills a struct, checking types and ranges. Every error names the
 * source, the line and the key:
 *
 *   /etc/herd/agent.yaml:7: key 'stats_interval': 0 is below the minimum 1
 *   /etc/herd/agent.yaml:3: unknown key 'engin' (known: engine, ...)
 *
 * load_file() and load_data() share one parser, so tests need no files.
 *
 * Also refused, with source:line: duplicate keys (also "api.port: 1" next
 * to "api: {port: 2}"), a null value for a string (write "" for empty),
 * more than one document, a top level that is not a mapping, flow nesting
 * deeper than 64 and more than 256 anchors/aliases (libyaml is quadratic in
 * both). A key may be written nested or dotted ("api.port: 1"). */
#ifndef CMN_CONF_H
#define CMN_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum {
    CMN_CONF_STR,       /* char * (malloc'd; freed by cmn_conf_free_strings) */
    CMN_CONF_INT,       /* int64_t, checked against [min, max] */
    CMN_CONF_BOOL,      /* bool: true/false/yes/no/on/off */
    CMN_CONF_LEVEL,     /* int: a log level name parsed by cmn_log_level_parse */
} cmn_conf_type_t;

typedef struct {
    const char *key;        /* "api.port" */
    cmn_conf_type_t type;
    size_t offset;          /* offsetof(your_struct, field) */
    int64_t min, max;       /* for CMN_CONF_INT */
    bool required;
} cmn_conf_key_t;

/* Parse `len` bytes of YAML named `source` (used in messages) into `out`
 * per `keys` (terminated by an entry with key == NULL). Keys absent from the
 * document keep the value already in `out` (put defaults there first; string
 * defaults must be malloc'd or NULL). On error returns -1 with
 * CMN_ERR_CONFIG recorded, naming source:line and key; `out` may then be
 * partly filled and is still safe to pass to cmn_conf_free_strings(). */
int cmn_conf_load_data(const char *source, const char *buf, size_t len,
                       const cmn_conf_key_t *keys, void *out);

/* Same, reading the file at `path` (at most 1 MiB). A missing or
 * unreadable file is CMN_ERR_CONFIG naming the path and errno. */
int cmn_conf_load_file(const char *path, const cmn_conf_key_t *keys, void *out);

/* Free every CMN_CONF_STR field of `out` named in `keys` and NULL it. */
void cmn_conf_free_strings(const cmn_conf_key_t *keys, void *out);

/* Set a string field's default (strdup); for use before loading. Returns -1
 * on allocation failure. */
int cmn_conf_set_str(char **field, const char *value);

#endif /* CMN_CONF_H */
