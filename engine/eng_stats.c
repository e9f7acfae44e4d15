/* Newest statistics sample per entity: a jansson object keyed by id. */
#include "eng_stats.h"

#include <stdlib.h>

#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("engine.stats");

struct eng_stats {
    json_t *by_id;          /* id -> sample object */
};

eng_stats_t *
eng_stats_new(void)
{
    eng_stats_t *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->by_id = json_object()) == NULL) {
        free(st);
        CMN_ERR(CMN_ERR_NOMEM, "out of memory for the statistics table");
        return NULL;
    }
    return st;
}

void
eng_stats_destroy(eng_stats_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    json_decref((*p)->by_id);
    free(*p);
    *p = NULL;
}

void
eng_stats_put(eng_stats_t *st, const char *id, json_t *sample)
{
    if (st == NULL || id == NULL || sample == NULL) {
        json_decref(sample);
        return;
    }
    /* set_new steals the reference even when it fails (an id that is not
     * UTF-8, or no memory): the sample is then dropped, which costs one
     * interval of statistics, nothing more. */
    if (json_object_set_new(st->by_id, id, sample) < 0)
        CMN_WARN("statistics sample of '%.64s' dropped", id);
}

json_t *
eng_stats_get(eng_stats_t *st, const char *id)
{
    if (st == NULL || id == NULL)
        return NULL;
    return json_object_get(st->by_id, id);
}

void
eng_stats_remove(eng_stats_t *st, const char *id)
{
    if (st == NULL || id == NULL)
        return;
    (void)json_object_del(st->by_id, id);
}
