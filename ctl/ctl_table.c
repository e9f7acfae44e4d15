/* herdctl output: aligned tables for people, JSON helpers, local times. */
#include "ctl_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctl_table {
    size_t ncols;
    size_t nrows, cap;
    char **cells;               /* (nrows + 1) * ncols, row 0 = titles */
};

ctl_table_t *
ctl_table_new(size_t ncols, const char *const *titles)
{
    ctl_table_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ncols = ncols;
    if (ctl_table_add(t, titles) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

int
ctl_table_add(ctl_table_t *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));
        if (!n)
            return -1;
        t->cells = n;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "");
        if (!row[c]) {
            while (c-- > 0)
                free(row[c]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

/* Display width: count UTF-8 lead bytes, not continuation bytes. */
static size_t
s_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

void
ctl_table_print(const ctl_table_t *t, FILE *fp)
{
    size_t *w = calloc(t->ncols, sizeof(*w));
    if (!w)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t x = s_width(t->cells[r * t->ncols + c]);
            if (x > w[c])
                w[c] = x;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            bool last = c + 1 == t->ncols;
            fputs(cell, fp);
            if (!last)
                for (size_t pad = s_width(cell); pad < w[c] + 2; pad++)
                    fputc(' ', fp);
        }
        fputc('\n', fp);
    }
    free(w);
}

void
ctl_table_destroy(ctl_table_t **p)
{
    if (!p || !*p)
        return;
    ctl_table_t *t = *p;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    *p = NULL;
}

static const json_t *
s_walk(const json_t *o, const char *path)
{
    char key[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_is_object(o) ? json_object_get(o, key) : NULL;
        path += n + (dot ? 1 : 0);
    }
    return o;
}

const char *
ctl_jstr(const json_t *o, const char *path)
{
    const json_t *v = s_walk(o, path);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    return "";
}

int64_t
ctl_jint(const json_t *o, const char *path)
{
    const json_t *v = s_walk(o, path);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

void
ctl_time_local(int64_t ms, char *buf, size_t len)
{
    if (ms <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)ms);
}

void
ctl_print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}
