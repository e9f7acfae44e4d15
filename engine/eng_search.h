/* oVirt search expressions, as given in `?search=` of a REST collection:
 *
 *   name=web* and status=up sortby name desc
 *   host = h1 AND cluster!="My Cluster"
 *
 * Terms are FIELD=VALUE or FIELD!=VALUE joined by `and` (any case); values
 * may be quoted ("..." or '...', backslash escapes the quote); `*` is a
 * wildcard anywhere in a value; matching is case-insensitive, as in oVirt.
 * An optional `sortby FIELD [asc|desc]` and then an optional `page N` end
 * the expression (as keywords; "page=2" is still a term). The parser
 * knows no field names: the caller checks them with eng_search_check_fields
 * and serves values through a getter, so one parser serves VMs, hosts and
 * events alike. */
#ifndef ENG_SEARCH_H
#define ENG_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#define ENG_SEARCH_MAX_LEN 4096     /* bytes of expression */
#define ENG_SEARCH_MAX_TERMS 32

typedef enum {
    ENG_SEARCH_EQ = 0,      /* = */
    ENG_SEARCH_NE,          /* != */
} eng_search_op_t;

typedef struct {
    char *field;            /* lower case */
    eng_search_op_t op;
    char *value;            /* unquoted; '*' is a wildcard */
} eng_search_term_t;

typedef struct {
    size_t nterms;
    eng_search_term_t *terms;   /* all must hold (and) */
    char *sortby;               /* lower case field, NULL if none */
    bool desc;
    int page;                   /* "page N": 1-based, 0 if not given; with
                                   ?max=M the caller shows items
                                   (N-1)*M .. N*M-1 of the sorted matches */
} eng_search_t;

/* Value of `field` on `obj`, or NULL when the object has no such field (it
 * then reads as ""). `buf` (size bytes) is scratch space for formatted
 * values (numbers); the result may point into it or into `obj`. */
typedef const char *(*eng_search_get_fn)(const void *obj, const char *field,
                                         char *buf, size_t size);

/* Parse `text` (NULL or blank: no terms, no sort). Returns a new search the
 * caller frees with eng_search_destroy, or NULL with CMN_ERR_INVALID
 * recorded naming the 1-based position and the bad token (CMN_ERR_NOMEM on
 * allocation failure). */
eng_search_t *eng_search_parse(const char *text);
void eng_search_destroy(eng_search_t **p);

/* 0 if every field used (terms and sortby) is one of the NULL-terminated
 * `known` names; else -1 with CMN_ERR_INVALID naming the field and the
 * known ones. */
int eng_search_check_fields(const eng_search_t *s, const char *const *known);

/* True if `obj` satisfies every term (a NULL search or no terms: true). */
bool eng_search_match(const eng_search_t *s, const void *obj,
                      eng_search_get_fn get);

/* Case-insensitive glob: '*' matches any run (also empty); no other
 * special characters. */
bool eng_search_glob(const char *pattern, const char *text);

/* Order of a and b by s->sortby (<0, 0, >0; desc reverses): values that
 * both read as decimal integers compare as numbers, others as
 * case-insensitive text. 0 when there is no sortby. */
int eng_search_compare(const eng_search_t *s, const void *a, const void *b,
                       eng_search_get_fn get);

/* Sort an array of `n` object pointers by s->sortby (stable for equal
 * keys; no-op without sortby). */
void eng_search_sort(const eng_search_t *s, const void **objs, size_t n,
                     eng_search_get_fn get);

#endif /* ENG_SEARCH_H */
