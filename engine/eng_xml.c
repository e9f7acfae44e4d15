/* oVirt v4 XML: a renderer from jansson trees and a small, strict parser
 * of request bodies into them. See eng_xml.h for the mapping. */
#include "eng_xml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("engine.xml");

#define NAME_MAX_LEN 128

/* ---- growing buffer --------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} buf_t;

static void
buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
buf_str(buf_t *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

bool
eng_xml_name_ok(const char *s)
{
    if (s == NULL || !((s[0] >= 'A' && s[0] <= 'Z') ||
                       (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n <= NAME_MAX_LEN;
}

/* ---- rendering -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. jansson
 * strings are valid UTF-8 already; this is belt and braces. */
static size_t
utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 :
               (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Escape for text (attr false) and attribute values. Characters XML 1.0 cannot carry
 * (controls other than tab, LF, CR) become U+FFFD. */
static void
buf_escaped(buf_t *b, const char *s, bool attr)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned char c = *u;
        if (attr && (c == '\t' || c == '\n' || c == '\r')) {
            /* a reader normalises raw ones in attributes to blanks */
            buf_str(b, c == '\t' ? "&#9;" : c == '\n' ? "&#10;" : "&#13;");
            u++;
            continue;
        }
        switch (c) {
        case '&': buf_str(b, "&amp;"); u++; continue;
        case '<': buf_str(b, "&lt;"); u++; continue;
        case '>': buf_str(b, "&gt;"); u++; continue;
        case '"': buf_str(b, "&quot;"); u++; continue;
        case '\'': buf_str(b, "&apos;"); u++; continue;
        default: break;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            buf_str(b, "\xEF\xBF\xBD");
            u++;
            continue;
        }
        size_t n = utf8_len(u);
        if (n == 0) {
            buf_str(b, "\xEF\xBF\xBD");
            u++;
            continue;
        }
        buf_add(b, (const char *)u, n);
        u += n;
    }
}

/* Scalar as text; false for objects and arrays. NULL is "" (callers skip
 * null members before). */
static bool
scalar_text(const json_t *v, char *tmp, size_t size, const char **out)
{
    switch (json_typeof(v)) {
    case JSON_STRING: *out = json_string_value(v); return true;
    case JSON_INTEGER:
        snprintf(tmp, size, "%lld", (long long)json_integer_value(v));
        *out = tmp;
        return true;
    case JSON_REAL:
        snprintf(tmp, size, "%.17g", json_real_value(v));
        *out = tmp;
        return true;
    case JSON_TRUE: *out = "true"; return true;
    case JSON_FALSE: *out = "false"; return true;
    case JSON_NULL: *out = ""; return true;
    default: return false;
    }
}

static bool
is_attr_key(const char *k, const json_t *v)
{
    return (strcmp(k, "id") == 0 || strcmp(k, "href") == 0 ||
            strcmp(k, "rel") == 0) &&
           (json_is_string(v) || json_is_integer(v));
}

static int render_value(buf_t *b, const char *name, const json_t *v, int depth);

static int
render_object(buf_t *b, const char *name, const json_t *obj, int depth)
{
    const char *k;
    json_t *v;
    char tmp[64];
    buf_str(b, "<");
    buf_str(b, name);
    json_object_foreach((json_t *)obj, k, v) {
        const char *text;
        if (!is_attr_key(k, v) || !scalar_text(v, tmp, sizeof(tmp), &text))
            continue;
        buf_str(b, " ");
        buf_str(b, k);
        buf_str(b, "=\"");
        buf_escaped(b, text, true);
        buf_str(b, "\"");
    }
    bool open = false;
    json_object_foreach((json_t *)obj, k, v) {
        if (is_attr_key(k, v) || json_is_null(v))
            continue;
        if (!open) {
            buf_str(b, ">");
            open = true;
        }
        if (render_value(b, k, v, depth + 1) < 0)
            return -1;
    }
    if (!open) {
        buf_str(b, "/>");
        return 0;
    }
    buf_str(b, "</");
    buf_str(b, name);
    buf_str(b, ">");
    return 0;
}

static int
render_value(buf_t *b, const char *name, const json_t *v, int depth)
{
    if (depth > 64)
        return CMN_ERR(CMN_ERR_INVALID, "XML: tree nested deeper than 64");
    if (!eng_xml_name_ok(name))
        return CMN_ERR(CMN_ERR_INVALID, "XML: key '%.64s' is not an XML "
                       "element name", name);
    if (json_is_object(v))
        return render_object(b, name, v, depth);
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)v, i, item) {
            if (json_is_null(item))
                continue;
            if (json_is_array(item))
                return CMN_ERR(CMN_ERR_INVALID, "XML: array '%s' holds an "
                               "array", name);
            if (render_value(b, name, item, depth + 1) < 0)
                return -1;
        }
        return 0;
    }
    char tmp[64];
    const char *text = "";
    (void)scalar_text(v, tmp, sizeof(tmp), &text);
    buf_str(b, "<");
    buf_str(b, name);
    if (text[0] == '\0') {
        buf_str(b, "/>");
        return 0;
    }
    buf_str(b, ">");
    buf_escaped(b, text, false);
    buf_str(b, "</");
    buf_str(b, name);
    buf_str(b, ">");
    return 0;
}

char *
eng_xml_render(const json_t *tree, const char *name)
{
    if (!json_is_object(tree)) {
        CMN_ERR(CMN_ERR_INVALID, "XML: can only render an object");
        return NULL;
    }
    buf_t b = {0};
    buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
    int rc;
    if (name != NULL) {
        rc = render_value(&b, name, tree, 0);
    } else {
        const char *k = NULL;
        json_t *v = NULL;
        void *it = json_object_iter((json_t *)tree);
        if (it != NULL) {
            k = json_object_iter_key(it);
            v = json_object_iter_value(it);
        }
        if (json_object_size(tree) != 1 || (!json_is_array(v) &&
                                            !json_is_object(v))) {
            free(b.p);
            CMN_ERR(CMN_ERR_INVALID, "XML: a collection must be an object "
                    "with one array member");
            return NULL;
        }
        char plural[NAME_MAX_LEN + 2];
        snprintf(plural, sizeof(plural), "%s%s", k,
                 strlen(k) <= NAME_MAX_LEN ? "s" : "");
        if (!eng_xml_name_ok(plural)) {
            rc = CMN_ERR(CMN_ERR_INVALID, "XML: key '%.64s' is not an XML "
                         "element name", k);
        } else {
            buf_str(&b, "<");
            buf_str(&b, plural);
            if (json_is_array(v) && json_array_size(v) == 0) {
                buf_str(&b, "/>");
                rc = 0;
            } else {
                buf_str(&b, ">");
                rc = render_value(&b, k, v, 1);
                buf_str(&b, "</");
                buf_str(&b, plural);
                buf_str(&b, ">");
            }
        }
    }
    buf_str(&b, "\n");
    if (rc < 0 || b.oom) {
        if (b.oom)
            CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory rendering");
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    size_t nodes;
} px_t;

static int perr(const px_t *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
perr(const px_t *p, size_t at, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return CMN_ERR(CMN_ERR_INVALID, "XML body: line %zu, column %zu: %s", line,
                   col, what);
}

static bool
at(const px_t *p, const char *lit)
{
    size_t n = strlen(lit);
    return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static bool
is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(px_t *p)
{
    while (p->pos < p->len && is_ws(p->s[p->pos]))
        p->pos++;
}

static int
read_name(px_t *p, char out[NAME_MAX_LEN + 1])
{
    size_t start = p->pos, n = 0;
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        bool first = n == 0;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  c == '_' || (!first && ((c >= '0' && c <= '9') ||
                                          c == '.' || c == '-'));
        if (!ok)
            break;
        if (n >= NAME_MAX_LEN)
            return perr(p, start, "name longer than %d bytes", NAME_MAX_LEN);
        out[n++] = c;
        p->pos++;
    }
    out[n] = '\0';
    if (n == 0) {
        if (p->pos < p->len && p->s[p->pos] == ':')
            return perr(p, p->pos, "namespaces are not supported");
        if (p->pos >= p->len)
            return perr(p, start, "expected a name at the end of the body");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20 || c >= 0x7f)
            return perr(p, start, "expected a name, found byte 0x%02x", c);
        return perr(p, start, "expected a name, found '%c'", c);
    }
    if (p->pos < p->len && p->s[p->pos] == ':')
        return perr(p, p->pos, "namespaces are not supported ('%s:')", out);
    return 0;
}

static void
put_utf8(buf_t *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_add(b, u, n);
}

/* An entity or character reference at p->pos ('&'), appended decoded. */
static int
read_ref(px_t *p, buf_t *b)
{
    size_t start = p->pos++;
    size_t end = start + 1;
    while (end < p->len && end - start < 12 && p->s[end] != ';')
        end++;
    if (end >= p->len || p->s[end] != ';')
        return perr(p, start, "'&' must start an entity like &amp;");
    const char *e = p->s + start + 1;
    size_t n = end - start - 1;
    static const struct { const char *name; char c; } ents[] = {
        { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
        { "apos", '\'' },
    };
    p->pos = end + 1;
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
        if (strlen(ents[i].name) == n && memcmp(ents[i].name, e, n) == 0) {
            buf_add(b, &ents[i].c, 1);
            return 0;
        }
    }
    if (n >= 2 && e[0] == '#') {
        uint32_t cp = 0;
        bool hex = e[1] == 'x';
        size_t i = hex ? 2 : 1;
        if (i >= n)
            goto bad;
        for (; i < n; i++) {
            char c = e[i];
            uint32_t d;
            if (c >= '0' && c <= '9')
                d = (uint32_t)(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                d = (uint32_t)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                d = (uint32_t)(c - 'A' + 10);
            else
                goto bad;
            cp = cp * (hex ? 16 : 10) + d;
            if (cp > 0x10FFFF)
                goto bad;
        }
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
            goto bad;
        put_utf8(b, cp);
        return 0;
    }
    return perr(p, start, "unknown entity '&%.*s;' (no DTD: only &lt; &gt; "
                "&amp; &quot; &apos; and &#N; are known)", (int)n, e);
bad:
    return perr(p, start, "bad character reference '&%.*s;'", (int)n, e);
}

/* Skip a comment at p->pos ("<!--"). */
static int
skip_comment(px_t *p)
{
    size_t start = p->pos;
    p->pos += 4;
    while (p->pos < p->len) {
        if (at(p, "-->")) {
            p->pos += 3;
            return 0;
        }
        p->pos++;
    }
    return perr(p, start, "comment is not closed");
}

/* Comments, blanks and (at the start) the XML declaration outside the
 * root element; DOCTYPE and other markup are refused. */
static int
skip_misc(px_t *p, bool prolog)
{
    for (;;) {
        skip_ws(p);
        if (at(p, "<!--")) {
            if (skip_comment(p) < 0)
                return -1;
        } else if (at(p, "<!DOCTYPE") || at(p, "<!doctype")) {
            return perr(p, p->pos, "DTDs (<!DOCTYPE>) are not accepted");
        } else if (at(p, "<?")) {
            if (!prolog || !at(p, "<?xml") || p->pos > 3)
                return perr(p, p->pos, "processing instructions are not "
                            "accepted");
            size_t start = p->pos;
            p->pos += 5;
            while (p->pos < p->len && !at(p, "?>"))
                p->pos++;
            if (p->pos >= p->len)
                return perr(p, start, "XML declaration is not closed");
            p->pos += 2;
        } else {
            return 0;
        }
    }
}

static bool
blank(const buf_t *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (!is_ws(b->p[i]))
            return false;
    return true;
}

/* Plural wrapper: <hosts> around <host> (children always an array). */
static bool
plural_of(const char *parent, const char *child)
{
    size_t n = strlen(child);
    return strlen(parent) == n + 1 && strncmp(parent, child, n) == 0 &&
           parent[n] == 's';
}

/* Add child `name` = `v` (stolen) to `obj`: repeated names become arrays. */
static int
add_child(px_t *p, size_t at_pos, json_t *obj, json_t *attrs,
          const char *parent, const char *name, json_t *v)
{
    if (json_object_get(attrs, name) != NULL) {
        json_decref(v);
        return perr(p, at_pos, "<%s> repeats attribute '%s' of <%s>", name,
                    name, parent);
    }
    json_t *old = json_object_get(obj, name);
    int rc;
    if (old == NULL) {
        if (plural_of(parent, name)) {
            json_t *arr = json_array();
            if (arr == NULL || json_array_append_new(arr, v) < 0) {
                json_decref(arr);
                return CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
            }
            v = arr;
        }
        rc = json_object_set_new(obj, name, v);
    } else if (json_is_array(old)) {
        rc = json_array_append_new(old, v);
    } else {
        json_t *arr = json_array();
        if (arr == NULL || json_array_append(arr, old) < 0 ||
            json_array_append_new(arr, v) < 0) {
            json_decref(arr);
            return CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
        }
        rc = json_object_set_new(obj, name, arr);
    }
    return rc < 0 ? CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory") : 0;
}

static json_t *
text_value(px_t *p, size_t at_pos, const buf_t *text)
{
    json_t *s = json_stringn(text->p ? text->p : "", text->len);
    if (s == NULL)
        perr(p, at_pos, "text is not valid UTF-8");
    return s;
}

static int parse_element(px_t *p, int depth, char name[NAME_MAX_LEN + 1],
                         json_t **out);

static int
parse_attrs(px_t *p, const char *name, json_t *attrs, bool *empty)
{
    for (;;) {
        size_t before = p->pos;
        skip_ws(p);
        if (p->pos >= p->len)
            return perr(p, p->pos, "<%s> is not closed", name);
        if (at(p, "/>")) {
            p->pos += 2;
            *empty = true;
            return 0;
        }
        if (p->s[p->pos] == '>') {
            p->pos++;
            *empty = false;
            return 0;
        }
        if (before == p->pos)
            return perr(p, p->pos, "expected a blank, '>' or '/>' in <%s>",
                        name);
        char an[NAME_MAX_LEN + 1];
        size_t apos = p->pos;
        if (read_name(p, an) < 0)
            return -1;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '=')
            return perr(p, p->pos, "expected '=' after attribute '%s'", an);
        p->pos++;
        skip_ws(p);
        if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
            return perr(p, p->pos, "attribute '%s' needs a quoted value", an);
        char q = p->s[p->pos++];
        buf_t v = {0};
        int rc = 0;
        for (;;) {
            if (p->pos >= p->len) {
                rc = perr(p, apos, "value of attribute '%s' is not closed", an);
                break;
            }
            char c = p->s[p->pos];
            if (c == q) {
                p->pos++;
                break;
            }
            if (c == '<') {
                rc = perr(p, p->pos, "'<' in the value of attribute '%s'", an);
                break;
            }
            if (c == '&') {
                if ((rc = read_ref(p, &v)) < 0)
                    break;
                continue;
            }
            if ((unsigned char)c < 0x20 && !is_ws(c)) {
                rc = perr(p, p->pos, "control character 0x%02x in attribute "
                          "'%s'", (unsigned)c, an);
                break;
            }
            buf_add(&v, &c, 1);
            p->pos++;
        }
        if (rc == 0 && v.oom)
            rc = CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
        if (rc == 0 && json_object_get(attrs, an) != NULL)
            rc = perr(p, apos, "attribute '%s' repeated in <%s>", an, name);
        if (rc == 0 && ++p->nodes > ENG_XML_MAX_NODES)
            rc = perr(p, apos, "more than %d elements and attributes",
                      ENG_XML_MAX_NODES);
        json_t *s = rc == 0 ? text_value(p, apos, &v) : NULL;
        free(v.p);
        if (rc < 0 || s == NULL)
            return -1;
        json_object_set_new(attrs, an, s);
    }
}

/* Content after the start tag up to and including the matching end tag. */
static int
parse_content(px_t *p, int depth, const char *name, json_t *attrs,
              json_t **out)
{
    json_t *kids = json_object();
    buf_t text = {0};
    size_t text_at = p->pos;
    bool has_kids = false;
    int rc = 0;
    if (kids == NULL)
        return CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
    for (;;) {
        if (p->pos >= p->len) {
            rc = perr(p, p->pos, "<%s> is not closed (missing </%s>)", name,
                      name);
            break;
        }
        char c = p->s[p->pos];
        if (c == '&') {
            if ((rc = read_ref(p, &text)) < 0)
                break;
        } else if ((unsigned char)c < 0x20 && !is_ws(c)) {
            rc = perr(p, p->pos, "control character 0x%02x in <%s>",
                      (unsigned)c, name);
            break;
        } else if (c != '<') {
            buf_add(&text, &c, 1);
            p->pos++;
        } else if (at(p, "</")) {
            size_t epos = p->pos;
            char en[NAME_MAX_LEN + 1];
            p->pos += 2;
            if ((rc = read_name(p, en)) < 0)
                break;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '>') {
                rc = perr(p, p->pos, "expected '>' to end </%s", en);
                break;
            }
            p->pos++;
            if (strcmp(en, name) != 0)
                rc = perr(p, epos, "</%s> closes <%s>", en, name);
            break;
        } else if (at(p, "<!--")) {
            if ((rc = skip_comment(p)) < 0)
                break;
        } else if (at(p, "<![CDATA[")) {
            size_t start = p->pos;
            p->pos += 9;
            while (p->pos < p->len && !at(p, "]]>")) {
                unsigned char u = (unsigned char)p->s[p->pos];
                if (u < 0x20 && !is_ws((char)u))
                    break;
                p->pos++;
            }
            if (p->pos < p->len && !at(p, "]]>")) {
                rc = perr(p, p->pos, "control character 0x%02x in <%s>",
                          (unsigned)(unsigned char)p->s[p->pos], name);
                break;
            }
            if (p->pos >= p->len) {
                rc = perr(p, start, "CDATA section is not closed");
                break;
            }
            buf_add(&text, p->s + start + 9, p->pos - start - 9);
            p->pos += 3;
        } else if (at(p, "<!") || at(p, "<?")) {
            rc = perr(p, p->pos, p->s[p->pos + 1] == '!' ?
                      "DTD declarations are not accepted" :
                      "processing instructions are not accepted");
            break;
        } else {
            size_t cpos = p->pos;
            char cn[NAME_MAX_LEN + 1];
            json_t *v = NULL;
            if ((rc = parse_element(p, depth + 1, cn, &v)) < 0)
                break;
            has_kids = true;
            if ((rc = add_child(p, cpos, kids, attrs, name, cn, v)) < 0)
                break;
        }
    }
    if (rc == 0 && text.oom)
        rc = CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
    if (rc == 0 && (has_kids || json_object_size(attrs) > 0) && !blank(&text))
        rc = perr(p, text_at, "<%s> mixes text with %s", name,
                  has_kids ? "child elements" : "attributes");
    if (rc == 0) {
        if (has_kids || json_object_size(attrs) > 0) {
            json_object_update(attrs, kids);
            *out = json_incref(attrs);
        } else {
            *out = text_value(p, text_at, &text);
            if (*out == NULL)
                rc = -1;
        }
    }
    free(text.p);
    json_decref(kids);
    return rc;
}

static int
parse_element(px_t *p, int depth, char name[NAME_MAX_LEN + 1], json_t **out)
{
    size_t start = p->pos;
    if (depth > ENG_XML_MAX_DEPTH)
        return perr(p, start, "elements nested deeper than %d",
                    ENG_XML_MAX_DEPTH);
    if (p->pos >= p->len || p->s[p->pos] != '<')
        return perr(p, start, "expected an element");
    p->pos++;
    if (read_name(p, name) < 0)
        return -1;
    if (++p->nodes > ENG_XML_MAX_NODES)
        return perr(p, start, "more than %d elements and attributes",
                    ENG_XML_MAX_NODES);
    json_t *attrs = json_object();
    if (attrs == NULL)
        return CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
    bool empty = false;
    int rc = parse_attrs(p, name, attrs, &empty);
    if (rc == 0 && empty) {
        *out = json_object_size(attrs) > 0 ? json_incref(attrs)
                                           : json_string("");
        if (*out == NULL)
            rc = CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
    } else if (rc == 0) {
        rc = parse_content(p, depth, name, attrs, out);
    }
    json_decref(attrs);
    return rc;
}

json_t *
eng_xml_parse(const char *buf, size_t len, size_t max_bytes, char *root,
              size_t root_size)
{
    if (len > max_bytes) {
        CMN_ERR(CMN_ERR_TOO_BIG, "XML body is %zu bytes, more than %zu", len,
                max_bytes);
        return NULL;
    }
    if (buf == NULL)
        len = 0;
    px_t p = { buf, len, 0, 0 };
    if (at(&p, "\xEF\xBB\xBF"))
        p.pos = 3;
    if (memchr(buf ? buf : "", '\0', len) != NULL) {
        perr(&p, (size_t)((const char *)memchr(buf, '\0', len) - buf),
             "NUL byte in body");
        return NULL;
    }
    if (skip_misc(&p, true) < 0)
        return NULL;
    if (p.pos >= p.len) {
        perr(&p, p.pos, "empty body: expected an element");
        return NULL;
    }
    char name[NAME_MAX_LEN + 1];
    json_t *v = NULL;
    if (parse_element(&p, 1, name, &v) < 0)
        return NULL;
    if (skip_misc(&p, false) < 0) {
        json_decref(v);
        return NULL;
    }
    if (p.pos < p.len) {
        perr(&p, p.pos, "content after the root element <%s>", name);
        json_decref(v);
        return NULL;
    }
    if (json_is_string(v)) {
        /* <action/> or <action>  </action>: no members */
        bool ws_only = true;
        for (const char *s = json_string_value(v); *s; s++)
            ws_only = ws_only && is_ws(*s);
        json_decref(v);
        if (!ws_only) {
            perr(&p, 0, "root element <%s> holds only text", name);
            return NULL;
        }
        v = json_object();
        if (v == NULL) {
            CMN_ERR(CMN_ERR_NOMEM, "XML: out of memory");
            return NULL;
        }
    }
    if (root != NULL && root_size > 0)
        snprintf(root, root_size, "%s", name);
    return v;
}
