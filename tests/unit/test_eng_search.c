/* oVirt search expressions: parsing (terms, and, !=, quotes, sortby),
 * errors that name the position and the token, glob matching, matching
 * objects through a getter, sorting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "eng_search.h"

typedef struct {
    const char *name;
    const char *status;
    const char *host;
    const char *cluster;
    int memory;
} obj_t;

static const char *
get(const void *o, const char *field, char *buf, size_t size)
{
    const obj_t *v = o;
    if (strcmp(field, "name") == 0)
        return v->name;
    if (strcmp(field, "status") == 0)
        return v->status;
    if (strcmp(field, "host") == 0)
        return v->host;
    if (strcmp(field, "cluster") == 0)
        return v->cluster;
    if (strcmp(field, "memory") == 0) {
        snprintf(buf, size, "%d", v->memory);
        return buf;
    }
    return NULL;
}

static eng_search_t *
parse_ok(const char *text)
{
    cmn_err_reset();
    eng_search_t *s = eng_search_parse(text);
    if (s == NULL)
        fail_msg("parse '%s': %s", text, cmn_err_msg());
    return s;
}

/* Parse must fail with CMN_ERR_INVALID and a message holding `needle`. */
static void
parse_bad(const char *text, const char *needle)
{
    cmn_err_reset();
    eng_search_t *s = eng_search_parse(text);
    if (s != NULL) {
        eng_search_destroy(&s);
        fail_msg("parse '%s' succeeded", text);
    }
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    if (strstr(cmn_err_msg(), needle) == NULL)
        fail_msg("parse '%s': message '%s' lacks '%s'", text, cmn_err_msg(),
                 needle);
}

static void
test_parse_terms(void **state)
{
    (void)state;
    eng_search_t *s = parse_ok("name=web* AND status!=down and "
                               "Cluster = \"My Cluster\" and host='h\\'1'");
    assert_int_equal(s->nterms, 4);
    assert_string_equal(s->terms[0].field, "name");
    assert_int_equal(s->terms[0].op, ENG_SEARCH_EQ);
    assert_string_equal(s->terms[0].value, "web*");
    assert_string_equal(s->terms[1].field, "status");
    assert_int_equal(s->terms[1].op, ENG_SEARCH_NE);
    assert_string_equal(s->terms[1].value, "down");
    assert_string_equal(s->terms[2].field, "cluster");
    assert_string_equal(s->terms[2].value, "My Cluster");
    assert_string_equal(s->terms[3].value, "h'1");
    assert_null(s->sortby);
    eng_search_destroy(&s);
    assert_null(s);
}

static void
test_parse_empty_and_sortby(void **state)
{
    (void)state;
    eng_search_t *s = parse_ok("");
    assert_int_equal(s->nterms, 0);
    eng_search_destroy(&s);
    s = parse_ok("   ");
    assert_int_equal(s->nterms, 0);
    eng_search_destroy(&s);
    s = eng_search_parse(NULL);
    assert_non_null(s);
    eng_search_destroy(&s);

    s = parse_ok("sortby name");
    assert_int_equal(s->nterms, 0);
    assert_string_equal(s->sortby, "name");
    assert_false(s->desc);
    eng_search_destroy(&s);
    s = parse_ok("status=up SORTBY Memory DESC");
    assert_int_equal(s->nterms, 1);
    assert_string_equal(s->sortby, "memory");
    assert_true(s->desc);
    eng_search_destroy(&s);
    s = parse_ok("status=up sortby name asc  ");
    assert_false(s->desc);
    assert_int_equal(s->page, 0);
    eng_search_destroy(&s);
    s = parse_ok("status=up sortby name desc page 3");
    assert_true(s->desc);
    assert_int_equal(s->page, 3);
    eng_search_destroy(&s);
    s = parse_ok("name=a* PAGE 2 ");
    assert_null(s->sortby);
    assert_int_equal(s->page, 2);
    eng_search_destroy(&s);
    /* not keywords when used as fields */
    s = parse_ok("page=2 and sortby = x");
    assert_int_equal(s->nterms, 2);
    assert_string_equal(s->terms[0].field, "page");
    assert_string_equal(s->terms[1].field, "sortby");
    assert_int_equal(s->page, 0);
    eng_search_destroy(&s);
}

static void
test_parse_errors(void **state)
{
    (void)state;
    parse_bad("name", "position 5: expected '=' or '!=' after field name at end");
    parse_bad("name=", "position 6: expected a value at end");
    parse_bad("name=a status=up", "position 8: expected 'and', 'sortby' or "
              "'page' after a term, found 'status=up'");
    parse_bad("name=a and", "expected a term after 'and'");
    parse_bad("name=a or status=up", "position 8: 'or' is not supported");
    parse_bad("=x", "position 1: expected a field name, found '=x'");
    parse_bad("name<3", "position 5: expected '=' or '!='");
    parse_bad("name=\"abc", "position 6: quoted value is not closed");
    parse_bad("sortby", "expected a field name after 'sortby'");
    parse_bad("sortby name up", "position 13: expected 'asc', 'desc', 'page'");
    parse_bad("sortby name desc x", "position 18: expected 'asc', 'desc', "
              "'page' or the end");
    parse_bad("sortby name page", "position 17: expected a page number after "
              "'page' at end");
    parse_bad("page x", "position 6: expected a page number after 'page', "
              "found 'x'");
    parse_bad("page 2x", "position 6: expected a page number");
    parse_bad("page 0", "page must be 1 .. 999999999");
    parse_bad("page 99999999999", "page must be");
    parse_bad("page 2 name=a", "position 8: expected the end after the page");
    parse_bad("name=a\"b", "position 7");
    parse_bad("name==a", "position 6");
    parse_bad("and name=a", "position 1");

    char big[ENG_SEARCH_MAX_LEN + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    parse_bad(big, "more than 4096");

    char many[1024] = "";
    size_t off = 0;
    for (int i = 0; i <= ENG_SEARCH_MAX_TERMS; i++)
        off += (size_t)snprintf(many + off, sizeof(many) - off, "%sname=%d",
                                i ? " and " : "", i);
    parse_bad(many, "more than 32 terms");
}

static void
test_glob(void **state)
{
    (void)state;
    assert_true(eng_search_glob("web*", "web1"));
    assert_true(eng_search_glob("web*", "WEB"));
    assert_true(eng_search_glob("*eb*", "web1"));
    assert_true(eng_search_glob("w*1", "web1"));
    assert_true(eng_search_glob("*", ""));
    assert_true(eng_search_glob("a*b*c", "aXbYbZc"));
    assert_true(eng_search_glob("**", "x"));
    assert_false(eng_search_glob("web", "web1"));
    assert_false(eng_search_glob("w*2", "web1"));
    assert_false(eng_search_glob("a*b*c", "aXbYbZ"));
    assert_false(eng_search_glob("", "x"));
    assert_true(eng_search_glob("", ""));
}

static const obj_t s_objs[] = {
    { "web1", "up", "h1", "Default", 512 },
    { "web2", "down", "h2", "Default", 2048 },
    { "db1", "up", "h1", "Other", 1024 },
    { "Web3", "paused", "", "Default", 64 },
};
#define NOBJS (sizeof(s_objs) / sizeof(s_objs[0]))

static int
count(const char *text)
{
    eng_search_t *s = parse_ok(text);
    int n = 0;
    for (size_t i = 0; i < NOBJS; i++)
        n += eng_search_match(s, &s_objs[i], get);
    eng_search_destroy(&s);
    return n;
}

static void
test_match(void **state)
{
    (void)state;
    assert_int_equal(count(""), 4);
    assert_int_equal(count("name=web*"), 3);
    assert_int_equal(count("name=web* and status=up"), 1);
    assert_int_equal(count("status!=up"), 2);
    assert_int_equal(count("host=h1"), 2);
    assert_int_equal(count("cluster=default"), 3);
    assert_int_equal(count("name=*1"), 2);
    assert_int_equal(count("name=web1"), 1);
    assert_int_equal(count("name=web"), 0);
    assert_int_equal(count("host=\"\""), 1);
    assert_int_equal(count("nosuch=x"), 0);     /* missing reads as "" */
    assert_int_equal(count("nosuch!=x"), 4);
    assert_int_equal(count("memory=1024"), 1);
    assert_true(eng_search_match(NULL, &s_objs[0], get));
}

static void
test_check_fields(void **state)
{
    (void)state;
    static const char *const known[] = { "name", "status", "host", NULL };
    eng_search_t *s = parse_ok("name=a and status=up sortby host");
    cmn_err_reset();
    assert_int_equal(eng_search_check_fields(s, known), 0);
    eng_search_destroy(&s);

    s = parse_ok("name=a and colour=red");
    cmn_err_reset();
    assert_int_equal(eng_search_check_fields(s, known), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "unknown field 'colour' "
                           "(known: name, status, host)"));
    eng_search_destroy(&s);

    s = parse_ok("sortby size");
    cmn_err_reset();
    assert_int_equal(eng_search_check_fields(s, known), -1);
    assert_non_null(strstr(cmn_err_msg(), "'size'"));
    eng_search_destroy(&s);
}

static void
test_sort(void **state)
{
    (void)state;
    const void *v[NOBJS];
    for (size_t i = 0; i < NOBJS; i++)
        v[i] = &s_objs[i];

    eng_search_t *s = parse_ok("sortby name");
    eng_search_sort(s, v, NOBJS, get);
    assert_string_equal(((const obj_t *)v[0])->name, "db1");
    assert_string_equal(((const obj_t *)v[1])->name, "web1");
    assert_string_equal(((const obj_t *)v[2])->name, "web2");
    assert_string_equal(((const obj_t *)v[3])->name, "Web3");
    eng_search_destroy(&s);

    /* numbers compare as numbers: 64 < 512 < 1024 < 2048 */
    s = parse_ok("sortby memory desc");
    eng_search_sort(s, v, NOBJS, get);
    assert_int_equal(((const obj_t *)v[0])->memory, 2048);
    assert_int_equal(((const obj_t *)v[3])->memory, 64);
    assert_true(eng_search_compare(s, v[0], v[1], get) < 0);
    eng_search_destroy(&s);

    /* stable: equal keys keep their order */
    for (size_t i = 0; i < NOBJS; i++)
        v[i] = &s_objs[i];
    s = parse_ok("sortby cluster");
    eng_search_sort(s, v, NOBJS, get);
    assert_string_equal(((const obj_t *)v[0])->name, "web1");
    assert_string_equal(((const obj_t *)v[1])->name, "web2");
    assert_string_equal(((const obj_t *)v[2])->name, "Web3");
    assert_string_equal(((const obj_t *)v[3])->name, "db1");
    eng_search_destroy(&s);

    s = parse_ok("name=x");
    assert_int_equal(eng_search_compare(s, v[0], v[1], get), 0);
    eng_search_destroy(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_terms),
        cmocka_unit_test(test_parse_empty_and_sortby),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_check_fields),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
