/* The newest statistics sample of every host and VM, kept in memory and
 * flushed to the store's stats table. Samples are JSON objects whose keys
 * are oVirt statistic names ("memory.used", "cpu.current.user",
 * "network.rx.bytes", ...) mapping to {"value": number, "unit": "bytes"|
 * "percent"|"bytes_per_second"|"seconds"|"none", "type": "gauge"|"counter"},
 * plus "time_ms". */
#ifndef ENG_STATS_H
#define ENG_STATS_H

#include <stdint.h>

#include <jansson.h>

typedef struct eng_stats eng_stats_t;

eng_stats_t *eng_stats_new(void);
void eng_stats_destroy(eng_stats_t **p);

/* Replace the sample of entity `id`. Steals a reference to `sample`. */
void eng_stats_put(eng_stats_t *st, const char *id, json_t *sample);

/* Borrowed reference to the newest sample, or NULL. Valid until the next
 * put for the same id: json_incref it to keep it longer. */
json_t *eng_stats_get(eng_stats_t *st, const char *id);

void eng_stats_remove(eng_stats_t *st, const char *id);

#endif /* ENG_STATS_H */
