/* oVirt search expressions: a small hand-written scanner and parser, the
 * glob matcher and the sort helpers. See eng_search.h for the grammar. */
#include "eng_search.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("engine.search");

#define FIELD_MAX 64

typedef struct {
    const char *text;
    size_t pos;         /* 0-based offset of the next unread byte */
    size_t len;
} scan_t;

/* Error naming the 1-based position and the token found there (up to the
 * next blank, at most 40 bytes, shown printable). */
static int
bad_token(const scan_t *sc, size_t at, const char *expected)
{
    char tok[48];
    size_t n = 0;
    for (size_t i = at; i < sc->len && n < 40; i++) {
        unsigned char c = (unsigned char)sc->text[i];
        if (isspace(c))
            break;
        tok[n++] = isprint(c) ? (char)c : '?';
    }
    tok[n] = '\0';
    if (n == 0)
        return CMN_ERR(CMN_ERR_INVALID, "search: position %zu: expected %s at "
                       "end of expression", at + 1, expected);
    return CMN_ERR(CMN_ERR_INVALID, "search: position %zu: expected %s, "
                   "found '%s'", at + 1, expected, tok);
}

static void
skip_blanks(scan_t *sc)
{
    while (sc->pos < sc->len && isspace((unsigned char)sc->text[sc->pos]))
        sc->pos++;
}

static bool
is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* A field or keyword at sc->pos into `out` (lower case); length 0 if none. */
static size_t
peek_word(const scan_t *sc, char *out, size_t size)
{
    size_t n = 0;
    size_t i = sc->pos;
    if (i < sc->len && !isalpha((unsigned char)sc->text[i]) &&
        sc->text[i] != '_')
        goto done;
    while (i < sc->len && is_word_char(sc->text[i])) {
        if (n + 1 < size)
            out[n] = (char)tolower((unsigned char)sc->text[i]);
        n++;
        i++;
    }
done:
    if (size > 0)
        out[n < size ? n : size - 1] = '\0';
    return n;
}

/* The value after an operator: quoted or a bare run up to a blank. */
static char *
scan_value(scan_t *sc)
{
    size_t start = sc->pos;
    if (sc->pos >= sc->len)
        goto missing;
    char q = sc->text[sc->pos];
    char *out = malloc(sc->len - sc->pos + 1);
    if (out == NULL) {
        CMN_ERR(CMN_ERR_NOMEM, "search: out of memory");
        return NULL;
    }
    size_t n = 0;
    if (q == '"' || q == '\'') {
        sc->pos++;
        for (;;) {
            if (sc->pos >= sc->len) {
                free(out);
                CMN_ERR(CMN_ERR_INVALID, "search: position %zu: quoted value "
                        "is not closed (missing %c)", start + 1, q);
                return NULL;
            }
            char c = sc->text[sc->pos++];
            if (c == q)
                break;
            if (c == '\\' && sc->pos < sc->len &&
                (sc->text[sc->pos] == q || sc->text[sc->pos] == '\\'))
                c = sc->text[sc->pos++];
            out[n++] = c;
        }
        out[n] = '\0';
        return out;
    }
    while (sc->pos < sc->len && !isspace((unsigned char)sc->text[sc->pos])) {
        char c = sc->text[sc->pos];
        if (c == '"' || c == '\'' || c == '=' || c == '!' || c == '<' ||
            c == '>') {
            free(out);
            bad_token(sc, sc->pos, "a value (quote values holding "
                      "quotes or operators)");
            return NULL;
        }
        out[n++] = c;
        sc->pos++;
    }
    out[n] = '\0';
    if (n > 0)
        return out;
    free(out);
missing:
    bad_token(sc, start, "a value");
    return NULL;
}

static int
parse_term(scan_t *sc, eng_search_term_t *t)
{
    char field[FIELD_MAX];
    size_t at = sc->pos;
    size_t n = peek_word(sc, field, sizeof(field));
    if (n == 0)
        return bad_token(sc, at, "a field name");
    if (n >= sizeof(field))
        return CMN_ERR(CMN_ERR_INVALID, "search: position %zu: field name "
                       "longer than %d bytes", at + 1, FIELD_MAX - 1);
    sc->pos += n;
    skip_blanks(sc);
    size_t opat = sc->pos;
    bool has_op = sc->pos < sc->len &&
                  (sc->text[sc->pos] == '=' || sc->text[sc->pos] == '!');
    if (!has_op && (strcmp(field, "and") == 0 || strcmp(field, "or") == 0 ||
                    strcmp(field, "sortby") == 0))
        return bad_token(sc, at, "a field name");
    if (sc->pos < sc->len && sc->text[sc->pos] == '=') {
        t->op = ENG_SEARCH_EQ;
        sc->pos++;
    } else if (sc->pos + 1 < sc->len && sc->text[sc->pos] == '!' &&
               sc->text[sc->pos + 1] == '=') {
        t->op = ENG_SEARCH_NE;
        sc->pos += 2;
    } else {
        return bad_token(sc, opat, "'=' or '!=' after field name");
    }
    skip_blanks(sc);
    t->field = strdup(field);
    if (t->field == NULL)
        return CMN_ERR(CMN_ERR_NOMEM, "search: out of memory");
    t->value = scan_value(sc);
    return t->value == NULL ? -1 : 0;
}

/* True if the word of length n at sc->pos is used as a keyword: not
 * followed by an operator (so "page=2" is still a term on field page). */
static bool
keyword_here(const scan_t *sc, size_t n)
{
    size_t i = sc->pos + n;
    while (i < sc->len && isspace((unsigned char)sc->text[i]))
        i++;
    return i >= sc->len || (sc->text[i] != '=' && sc->text[i] != '!');
}

static int
parse_sortby(scan_t *sc, eng_search_t *s)
{
    char word[FIELD_MAX];
    skip_blanks(sc);
    size_t at = sc->pos;
    size_t n = peek_word(sc, word, sizeof(word));
    if (n == 0 || n >= sizeof(word))
        return bad_token(sc, at, "a field name after 'sortby'");
    sc->pos += n;
    s->sortby = strdup(word);
    if (s->sortby == NULL)
        return CMN_ERR(CMN_ERR_NOMEM, "search: out of memory");
    skip_blanks(sc);
    n = peek_word(sc, word, sizeof(word));
    if (n > 0 && strcmp(word, "asc") == 0) {
        s->desc = false;
        sc->pos += n;
    } else if (n > 0 && strcmp(word, "desc") == 0) {
        s->desc = true;
        sc->pos += n;
    }
    skip_blanks(sc);
    return 0;
}

static int
parse_page(scan_t *sc, eng_search_t *s)
{
    skip_blanks(sc);
    size_t at = sc->pos;
    long long v = 0;
    size_t digits = 0;
    while (sc->pos < sc->len && isdigit((unsigned char)sc->text[sc->pos])) {
        if (v < 1000000000)
            v = v * 10 + (sc->text[sc->pos] - '0');
        digits++;
        sc->pos++;
    }
    if (digits == 0 || (sc->pos < sc->len &&
                        !isspace((unsigned char)sc->text[sc->pos]))) {
        sc->pos = at;
        return bad_token(sc, at, "a page number after 'page'");
    }
    if (v < 1 || v >= 1000000000)
        return CMN_ERR(CMN_ERR_INVALID, "search: position %zu: page must be "
                       "1 .. 999999999", at + 1);
    s->page = (int)v;
    skip_blanks(sc);
    return 0;
}

/* What may follow the terms: [sortby FIELD [asc|desc]] [page N], then
 * nothing. `word` (n bytes) is the keyword at sc->pos. */
static int
parse_tail(scan_t *sc, eng_search_t *s, const char *word, size_t n)
{
    if (strcmp(word, "sortby") == 0) {
        sc->pos += n;
        if (parse_sortby(sc, s) < 0)
            return -1;
        char next[FIELD_MAX];
        size_t at = sc->pos;
        n = peek_word(sc, next, sizeof(next));
        if (sc->pos >= sc->len)
            return 0;
        if (n == 0 || strcmp(next, "page") != 0)
            return bad_token(sc, at, "'asc', 'desc', 'page' or the end after "
                             "the sortby field");
        word = next;
    }
    sc->pos += n;                   /* "page" */
    if (parse_page(sc, s) < 0)
        return -1;
    if (sc->pos < sc->len)
        return bad_token(sc, sc->pos, "the end after the page number");
    return 0;
}

eng_search_t *
eng_search_parse(const char *text)
{
    eng_search_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        CMN_ERR(CMN_ERR_NOMEM, "search: out of memory");
        return NULL;
    }
    if (text == NULL)
        return s;
    scan_t sc = { text, 0, strlen(text) };
    if (sc.len > ENG_SEARCH_MAX_LEN) {
        CMN_ERR(CMN_ERR_INVALID, "search: expression is %zu bytes, more than "
                "%d", sc.len, ENG_SEARCH_MAX_LEN);
        goto fail;
    }
    s->terms = calloc(ENG_SEARCH_MAX_TERMS, sizeof(*s->terms));
    if (s->terms == NULL) {
        CMN_ERR(CMN_ERR_NOMEM, "search: out of memory");
        goto fail;
    }
    skip_blanks(&sc);
    bool need_term = false;     /* after 'and' */
    while (sc.pos < sc.len) {
        char word[FIELD_MAX];
        size_t at = sc.pos;
        size_t n = peek_word(&sc, word, sizeof(word));
        if (n > 0 && !need_term && (strcmp(word, "sortby") == 0 ||
                                    strcmp(word, "page") == 0) &&
            keyword_here(&sc, n)) {
            if (parse_tail(&sc, s, word, n) < 0)
                goto fail;
            break;
        }
        if (s->nterms > 0 && !need_term) {
            if (n > 0 && strcmp(word, "or") == 0) {
                CMN_ERR(CMN_ERR_INVALID, "search: position %zu: 'or' is not "
                        "supported; join terms with 'and'", at + 1);
                goto fail;
            }
            if (n == 0 || strcmp(word, "and") != 0) {
                bad_token(&sc, at, "'and', 'sortby' or 'page' after a "
                          "term");
                goto fail;
            }
            sc.pos += n;
            skip_blanks(&sc);
            need_term = true;
            continue;
        }
        if (s->nterms >= ENG_SEARCH_MAX_TERMS) {
            CMN_ERR(CMN_ERR_INVALID, "search: position %zu: more than %d "
                    "terms", at + 1, ENG_SEARCH_MAX_TERMS);
            goto fail;
        }
        if (parse_term(&sc, &s->terms[s->nterms++]) < 0)
            goto fail;
        need_term = false;
        skip_blanks(&sc);
    }
    if (need_term) {
        bad_token(&sc, sc.pos, "a term after 'and'");
        goto fail;
    }
    return s;

fail:
    eng_search_destroy(&s);
    return NULL;
}

void
eng_search_destroy(eng_search_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    eng_search_t *s = *p;
    for (size_t i = 0; i < s->nterms; i++) {
        free(s->terms[i].field);
        free(s->terms[i].value);
    }
    free(s->terms);
    free(s->sortby);
    free(s);
    *p = NULL;
}

static bool
known_field(const char *f, const char *const *known)
{
    for (size_t i = 0; known != NULL && known[i] != NULL; i++)
        if (strcmp(known[i], f) == 0)
            return true;
    return false;
}

static int
unknown_field(const char *f, const char *const *known)
{
    char list[512];
    size_t off = 0;
    list[0] = '\0';
    for (size_t i = 0; known != NULL && known[i] != NULL; i++) {
        int w = snprintf(list + off, sizeof(list) - off, "%s%s",
                         i ? ", " : "", known[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - off)
            break;
        off += (size_t)w;
    }
    return CMN_ERR(CMN_ERR_INVALID, "search: unknown field '%s' (known: %s)",
                   f, list);
}

int
eng_search_check_fields(const eng_search_t *s, const char *const *known)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < s->nterms; i++)
        if (!known_field(s->terms[i].field, known))
            return unknown_field(s->terms[i].field, known);
    if (s->sortby != NULL && !known_field(s->sortby, known))
        return unknown_field(s->sortby, known);
    return 0;
}

bool
eng_search_glob(const char *p, const char *t)
{
    /* Iterative matcher with one backtrack point: linear for patterns
     * with one star, O(len(p) * len(t)) at worst, never recursive. */
    const char *star = NULL, *resume = NULL;
    while (*t != '\0') {
        if (*p == '*') {
            star = p++;
            resume = t;
        } else if (*p != '\0' && tolower((unsigned char)*p) ==
                   tolower((unsigned char)*t)) {
            p++;
            t++;
        } else if (star != NULL) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static const char *
get_value(const void *obj, const char *field, eng_search_get_fn get,
          char *buf, size_t size)
{
    buf[0] = '\0';
    const char *v = get(obj, field, buf, size);
    return v != NULL ? v : "";
}

bool
eng_search_match(const eng_search_t *s, const void *obj, eng_search_get_fn get)
{
    if (s == NULL)
        return true;
    for (size_t i = 0; i < s->nterms; i++) {
        char buf[128];
        const eng_search_term_t *t = &s->terms[i];
        const char *v = get_value(obj, t->field, get, buf, sizeof(buf));
        bool m = eng_search_glob(t->value, v);
        if (m != (t->op == ENG_SEARCH_EQ))
            return false;
    }
    return true;
}

static bool
as_int(const char *v, long long *out)
{
    if (v[0] == '\0')
        return false;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0')
        return false;
    *out = x;
    return true;
}

int
eng_search_compare(const eng_search_t *s, const void *a, const void *b,
                   eng_search_get_fn get)
{
    if (s == NULL || s->sortby == NULL)
        return 0;
    char ba[128], bb[128];
    const char *va = get_value(a, s->sortby, get, ba, sizeof(ba));
    const char *vb = get_value(b, s->sortby, get, bb, sizeof(bb));
    long long ia, ib;
    int r;
    if (as_int(va, &ia) && as_int(vb, &ib))
        r = ia < ib ? -1 : ia > ib;
    else
        r = strcasecmp(va, vb);
    if (r == 0)
        r = strcmp(va, vb);
    if (r < 0)
        r = -1;
    else if (r > 0)
        r = 1;
    return s->desc ? -r : r;
}

static void
merge_sort(const eng_search_t *s, const void **a, const void **tmp, size_t n,
           eng_search_get_fn get)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(s, a, tmp, h, get);
    merge_sort(s, a + h, tmp, n - h, get);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = eng_search_compare(s, a[j], a[i], get) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof(*a));
}

void
eng_search_sort(const eng_search_t *s, const void **objs, size_t n,
                eng_search_get_fn get)
{
    if (s == NULL || s->sortby == NULL || n < 2)
        return;
    const void **tmp = malloc(n * sizeof(*tmp));
    if (tmp == NULL) {
        CMN_WARN("search: out of memory sorting %zu items; left unsorted", n);
        return;
    }
    merge_sort(s, objs, tmp, n, get);
    free(tmp);
}
