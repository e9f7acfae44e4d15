#include "cmn_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("util.conf");

#define CMN_CONF_MAX_BYTES (1024 * 1024)
#define CMN_CONF_MAX_KEY 256
/* libyaml's scanner is quadratic in flow nesting ("[[[[..." of 1 MiB takes
 * minutes) and its loader quadratic in anchors times aliases; no real
 * config comes near these. */
#define CMN_CONF_MAX_DEPTH 64
#define CMN_CONF_MAX_ALIASES 256

typedef struct {
    const char *source;
    const cmn_conf_key_t *keys;
    size_t nkeys;
    void *out;
    yaml_document_t *doc;
    unsigned *seen_line;        /* per key: line it was set at, 0 if not */
} s_ctx_t;

static unsigned
s_line(const yaml_node_t *n)
{
    return (unsigned)n->start_mark.line + 1;
}

static const char *
s_type_name(yaml_node_type_t t)
{
    switch (t) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* True if some key of the table lies below `prefix` ("api" -> "api.port"). */
static bool
s_is_prefix(const s_ctx_t *c, const char *full)
{
    size_t n = strlen(full);
    for (size_t i = 0; i < c->nkeys; i++)
        if (strncmp(c->keys[i].key, full, n) == 0 && c->keys[i].key[n] == '.')
            return true;
    return false;
}

static int
s_find_key(const s_ctx_t *c, const char *full)
{
    for (size_t i = 0; i < c->nkeys; i++)
        if (strcmp(c->keys[i].key, full) == 0)
            return (int)i;
    return -1;
}

/* "engine, log_level, api, ..." : the names that may appear under `prefix`
 * (empty for the top level), one per nested mapping. */
static void
s_known_list(const s_ctx_t *c, const char *prefix, char *buf, size_t len)
{
    size_t plen = strlen(prefix);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->nkeys; i++) {
        const char *k = c->keys[i].key;
        if (strncmp(k, prefix, plen) != 0)
            continue;
        const char *rest = k + plen;
        size_t rlen = strcspn(rest, ".");
        /* Skip a name already listed by an earlier key. */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) {
            const char *kj = c->keys[j].key;
            dup = strncmp(kj, prefix, plen) == 0 &&
                  strncmp(kj + plen, rest, rlen) == 0 &&
                  (kj[plen + rlen] == '.' || kj[plen + rlen] == '\0');
        }
        if (dup)
            continue;
        int n = snprintf(buf + used, len - used, "%s%.*s%.*s",
                         used ? ", " : "", (int)plen, prefix, (int)rlen, rest);
        if (n < 0 || (size_t)n >= len - used) {
            if (len > 4)
                snprintf(buf + len - 4, 4, "...");
            return;
        }
        used += (size_t)n;
    }
}

static bool
s_is_null(const yaml_node_t *v)
{
    if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)v->data.scalar.value;
    return v->data.scalar.length == 0 || strcmp(s, "~") == 0 ||
           strcasecmp(s, "null") == 0;
}

static int
s_set_value(s_ctx_t *c, int ki, const yaml_node_t *v)
{
    const cmn_conf_key_t *k = &c->keys[ki];
    const char *s = (const char *)v->data.scalar.value;
    size_t slen = v->data.scalar.length;
    char *field = (char *)c->out + k->offset;
    unsigned line = s_line(v);

    if (strlen(s) != slen)
        return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: key '%s': value contains a NUL byte",
                       c->source, line, k->key);
    switch (k->type) {
    case CMN_CONF_STR: {
        if (s_is_null(v))
            return CMN_ERR(CMN_ERR_CONFIG,
                           "%s:%u: key '%s': no value (write \"\" for an empty string)",
                           c->source, line, k->key);
        char *dup = strdup(s);
        if (!dup)
            return CMN_ERR(CMN_ERR_NOMEM, "%s:%u: key '%s': out of memory",
                           c->source, line, k->key);
        char **dst = (char **)(void *)field;
        free(*dst);
        *dst = dup;
        return 0;
    }
    case CMN_CONF_INT: {
        char *end = NULL;
        errno = 0;
        long long n = slen ? strtoll(s, &end, 10) : 0;
        if (slen == 0 || end == s || *end != '\0' || s[0] == ' ' ||
            s[0] == '\t')
            return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: key '%s': '%.64s' is not an integer",
                           c->source, line, k->key, s);
        if ((errno == ERANGE && n < 0) || n < k->min)
            return CMN_ERR(CMN_ERR_CONFIG,
                           "%s:%u: key '%s': %.64s is below the minimum %" PRId64,
                           c->source, line, k->key, s, k->min);
        if (errno == ERANGE || n > k->max)
            return CMN_ERR(CMN_ERR_CONFIG,
                           "%s:%u: key '%s': %.64s is above the maximum %" PRId64,
                           c->source, line, k->key, s, k->max);
        memcpy(field, &(int64_t){ (int64_t)n }, sizeof(int64_t));
        return 0;
    }
    case CMN_CONF_BOOL: {
        bool b;
        if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
            strcasecmp(s, "on") == 0)
            b = true;
        else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
                 strcasecmp(s, "off") == 0)
            b = false;
        else
            return CMN_ERR(CMN_ERR_CONFIG,
                           "%s:%u: key '%s': '%.64s' is not a boolean "
                           "(true/false, yes/no, on/off)",
                           c->source, line, k->key, s);
        memcpy(field, &b, sizeof(b));
        return 0;
    }
    case CMN_CONF_LEVEL: {
        int lvl = cmn_log_level_parse(s);
        if (lvl < 0)
            return CMN_ERR(CMN_ERR_CONFIG,
                           "%s:%u: key '%s': '%.64s' is not a log level "
                           "(error, warn, info, debug)",
                           c->source, line, k->key, s);
        memcpy(field, &lvl, sizeof(lvl));
        return 0;
    }
    }
    return CMN_ERR(CMN_ERR_INTERNAL, "%s: key '%s' has an unknown type %d",
                   c->source, k->key, (int)k->type);
}

static int
s_walk(s_ctx_t *c, const yaml_node_t *map, const char *prefix)
{
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    const yaml_node_pair_t *top = map->data.mapping.pairs.top;

    for (const yaml_node_pair_t *p = start; p < top; p++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
        if (!kn || !vn)
            return CMN_ERR(CMN_ERR_CONFIG, "%s: malformed YAML document", c->source);
        if (kn->type != YAML_SCALAR_NODE)
            return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: a key must be a plain name, not %s",
                           c->source, s_line(kn), s_type_name(kn->type));
        const char *name = (const char *)kn->data.scalar.value;
        char full[CMN_CONF_MAX_KEY];
        int n = snprintf(full, sizeof(full), "%s%s", prefix, name);
        if (n < 0 || (size_t)n >= sizeof(full) ||
            strlen(name) != kn->data.scalar.length || name[0] == '\0') {
            char known[512];
            s_known_list(c, prefix, known, sizeof(known));
            return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: unknown key '%.64s%.64s' (known: %s)",
                           c->source, s_line(kn), prefix, name, known);
        }
        int ki = s_find_key(c, full);
        bool nested = ki < 0 && s_is_prefix(c, full);
        if (ki < 0 && !nested) {
            char known[512];
            s_known_list(c, prefix, known, sizeof(known));
            return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: unknown key '%s' (known: %s)",
                           c->source, s_line(kn), full, known);
        }
        /* A duplicate within this mapping (leaf duplicates across mappings
         * are caught by seen_line below). Keys before p are all known, so
         * this stays small. */
        for (const yaml_node_pair_t *q = start; q < p; q++) {
            yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);
            if (qk && qk->type == YAML_SCALAR_NODE &&
                strcmp((const char *)qk->data.scalar.value, name) == 0)
                return CMN_ERR(CMN_ERR_CONFIG,
                               "%s:%u: key '%s': duplicate (first at line %u)",
                               c->source, s_line(kn), full, s_line(qk));
        }
        if (nested) {
            if (vn->type != YAML_MAPPING_NODE)
                return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: key '%s': expected a mapping, "
                               "got %s", c->source, s_line(vn), full,
                               s_type_name(vn->type));
            if ((size_t)n + 2 > sizeof(full))
                return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: key '%s': name too long",
                               c->source, s_line(kn), full);
            full[n] = '.';
            full[n + 1] = '\0';
            if (s_walk(c, vn, full) < 0)
                return -1;
            continue;
        }
        if (vn->type != YAML_SCALAR_NODE)
            return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: key '%s': expected a single value, "
                           "got %s", c->source, s_line(vn), full,
                           s_type_name(vn->type));
        if (c->seen_line[ki])
            return CMN_ERR(CMN_ERR_CONFIG, "%s:%u: key '%s': duplicate (first at line %u)",
                           c->source, s_line(kn), full, c->seen_line[ki]);
        c->seen_line[ki] = s_line(kn);
        if (s_set_value(c, ki, vn) < 0)
            return -1;
    }
    return 0;
}

/* A first pass over the event stream (cheap, and stops early) to refuse
 * what would make the document loader slow. */
static int
s_precheck(const s_ctx_t *c, const char *buf, size_t len)
{
    yaml_parser_t parser;
    int depth = 0, aliases = 0, rc = -1;

    if (!yaml_parser_initialize(&parser))
        return CMN_ERR(CMN_ERR_NOMEM, "%s: cannot initialise the YAML parser",
                       c->source);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            CMN_ERR(CMN_ERR_CONFIG, "%s:%zu: invalid YAML: %s%s%s", c->source,
                    parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "syntax error",
                    parser.context ? " " : "", parser.context ? parser.context : "");
            break;
        }
        yaml_event_type_t t = ev.type;
        size_t line = ev.start_mark.line + 1;
        bool anchored = (t == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
                        (t == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
                        (t == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor);
        yaml_event_delete(&ev);
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
            depth++;
        else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
            depth--;
        if (anchored || t == YAML_ALIAS_EVENT)
            aliases++;
        if (depth > CMN_CONF_MAX_DEPTH) {
            CMN_ERR(CMN_ERR_CONFIG, "%s:%zu: nested deeper than %d levels", c->source,
                    line, CMN_CONF_MAX_DEPTH);
            break;
        }
        if (aliases > CMN_CONF_MAX_ALIASES) {
            CMN_ERR(CMN_ERR_CONFIG, "%s:%zu: more than %d anchors and aliases",
                    c->source, line, CMN_CONF_MAX_ALIASES);
            break;
        }
        if (t == YAML_STREAM_END_EVENT) {
            rc = 0;
            break;
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

static int
s_parse(s_ctx_t *c, const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = -1;

    if (s_precheck(c, buf, len) < 0)
        return -1;
    if (!yaml_parser_initialize(&parser))
        return CMN_ERR(CMN_ERR_NOMEM, "%s: cannot initialise the YAML parser",
                       c->source);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        CMN_ERR(CMN_ERR_CONFIG, "%s:%zu: invalid YAML: %s%s%s", c->source,
                parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "syntax error",
                parser.context ? " " : "", parser.context ? parser.context : "");
        goto out_parser;
    }
    c->doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        if (root->type == YAML_SCALAR_NODE && s_is_null(root)) {
            /* "~" or an empty document: nothing set. */
        } else if (root->type != YAML_MAPPING_NODE) {
            CMN_ERR(CMN_ERR_CONFIG, "%s:%u: expected a mapping of keys at the top, got %s",
                    c->source, s_line(root), s_type_name(root->type));
            goto out_doc;
        } else if (s_walk(c, root, "") < 0) {
            goto out_doc;
        }
        /* Only one document per file. */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            CMN_ERR(CMN_ERR_CONFIG, "%s:%zu: invalid YAML: %s", c->source,
                    parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "syntax error");
            goto out_doc;
        }
        yaml_node_t *nroot = yaml_document_get_root_node(&next);
        unsigned nline = nroot ? s_line(nroot) : 0;
        yaml_document_delete(&next);
        if (nroot) {
            CMN_ERR(CMN_ERR_CONFIG, "%s:%u: more than one YAML document", c->source,
                    nline);
            goto out_doc;
        }
    }
    for (size_t i = 0; i < c->nkeys; i++) {
        if (c->keys[i].required && !c->seen_line[i]) {
            CMN_ERR(CMN_ERR_CONFIG, "%s: key '%s': required but missing",
                    c->source, c->keys[i].key);
            goto out_doc;
        }
    }
    rc = 0;
out_doc:
    yaml_document_delete(&doc);
    c->doc = NULL;
out_parser:
    yaml_parser_delete(&parser);
    return rc;
}

int
cmn_conf_load_data(const char *source, const char *buf, size_t len,
                   const cmn_conf_key_t *keys, void *out)
{
    if (!source)
        source = "<config>";
    if (!keys || !out || (!buf && len))
        return CMN_ERR(CMN_ERR_INTERNAL, "%s: bad arguments to the config loader",
                       source);
    if (len > CMN_CONF_MAX_BYTES)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: %zu bytes, more than the limit %d",
                       source, len, CMN_CONF_MAX_BYTES);
    s_ctx_t c = { .source = source, .keys = keys, .out = out };
    while (keys[c.nkeys].key)
        c.nkeys++;
    c.seen_line = calloc(c.nkeys + 1, sizeof(*c.seen_line));
    if (!c.seen_line)
        return CMN_ERR(CMN_ERR_NOMEM, "%s: out of memory", source);
    int rc = s_parse(&c, buf ? buf : "", len);
    free(c.seen_line);
    if (rc == 0)
        CMN_DEBUG("%s: loaded", source);
    return rc;
}

int
cmn_conf_load_file(const char *path, const cmn_conf_key_t *keys, void *out)
{
    if (!path)
        return CMN_ERR(CMN_ERR_CONFIG, "no configuration file given");
    CMN_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CMN_ERR_ERRNO(CMN_ERR_CONFIG, "%s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return CMN_ERR_ERRNO(CMN_ERR_CONFIG, "%s: cannot stat", path);
    if (S_ISDIR(st.st_mode))
        return CMN_ERR(CMN_ERR_CONFIG, "%s: is a directory", path);
    CMN_AUTOFREE char *buf = malloc(CMN_CONF_MAX_BYTES + 1);
    if (!buf)
        return CMN_ERR(CMN_ERR_NOMEM, "%s: out of memory", path);
    size_t n = 0;
    while (n <= CMN_CONF_MAX_BYTES) {
        ssize_t r = read(fd, buf + n, CMN_CONF_MAX_BYTES + 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return CMN_ERR_ERRNO(CMN_ERR_CONFIG, "%s: cannot read", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > CMN_CONF_MAX_BYTES)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: larger than the limit of %d bytes",
                       path, CMN_CONF_MAX_BYTES);
    return cmn_conf_load_data(path, buf, n, keys, out);
}

void
cmn_conf_free_strings(const cmn_conf_key_t *keys, void *out)
{
    if (!keys || !out)
        return;
    for (const cmn_conf_key_t *k = keys; k->key; k++) {
        if (k->type != CMN_CONF_STR)
            continue;
        char **f = (char **)(void *)((char *)out + k->offset);
        free(*f);
        *f = NULL;
    }
}

int
cmn_conf_set_str(char **field, const char *value)
{
    char *dup = NULL;
    if (value) {
        dup = strdup(value);
        if (!dup)
            return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    free(*field);
    *field = dup;
    return 0;
}
