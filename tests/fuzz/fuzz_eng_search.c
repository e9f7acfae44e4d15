/* Fuzz target: an oVirt search expression (`?search=` of the REST API)
 * through eng_search_parse, then every parsed search is checked against a
 * field list, matched against fixed objects and used to sort them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "eng_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const char *name;
    const char *status;
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
    if (strcmp(field, "memory") == 0) {
        snprintf(buf, size, "%d", v->memory);
        return buf;
    }
    return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const obj_t objs[] = {
        { "web1", "up", 512 }, { "", "down", -3 }, { "a*b", "UP", 0 },
    };
    static const char *const known[] = { "name", "status", "memory", NULL };
    if (size > 2 * ENG_SEARCH_MAX_LEN)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    cmn_err_reset();
    eng_search_t *s = eng_search_parse(text);
    if (s == NULL) {
        if (cmn_err_code() == CMN_OK)
            abort();            /* a failure must say why */
    } else {
        if (s->nterms > ENG_SEARCH_MAX_TERMS)
            abort();
        cmn_err_reset();
        (void)eng_search_check_fields(s, known);
        const void *v[3];
        for (size_t i = 0; i < 3; i++) {
            v[i] = &objs[i];
            (void)eng_search_match(s, &objs[i], get);
            /* each term's value matches itself unless it holds no star */
            for (size_t t = 0; t < s->nterms; t++)
                if (!eng_search_glob(s->terms[t].value, s->terms[t].value) &&
                    strchr(s->terms[t].value, '*') == NULL)
                    abort();
        }
        eng_search_sort(s, v, 3, get);
        eng_search_destroy(&s);
    }
    free(text);
    return 0;
}
