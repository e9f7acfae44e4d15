/* Logging: one category per file, levels error/warn/info/debug, the level
 * checked before the arguments are evaluated, runtime filters by category.
 *
 *   CMN_LOG_INIT("rpc.zmq");          once per .c file, at file scope
 *   CMN_INFO("bound %s", endpoint);
 *
 * Lines go to stderr (journald picks them up) or to a file:
 *   2026-11-21 20:40:01.123 info rpc.zmq: bound tcp://127.0.0.1:54321
 */
#ifndef CMN_LOG_H
#define CMN_LOG_H

#include <stdbool.h>

typedef enum {
    CMN_LOG_ERROR = 0,
    CMN_LOG_WARN = 1,
    CMN_LOG_INFO = 2,
    CMN_LOG_DEBUG = 3,
} cmn_log_level_t;

typedef struct {
    const char *name;
    int level;          /* effective level; -1 until first resolved */
    unsigned serial;    /* filter generation it was resolved against */
} cmn_log_cat_t;

#define CMN_LOG_INIT(catname) \
    static cmn_log_cat_t cmn_log_cat_ __attribute__((unused)) = { catname, -1, 0 }

/* True if messages at `level` are wanted for `cat`. */
bool cmn_log_enabled(cmn_log_cat_t *cat, cmn_log_level_t level);

void cmn_log_write(cmn_log_cat_t *cat, cmn_log_level_t level,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CMN_LOG_(lvl, ...) do { \
        if (cmn_log_enabled(&cmn_log_cat_, (lvl))) \
            cmn_log_write(&cmn_log_cat_, (lvl), __VA_ARGS__); \
    } while (0)
#define CMN_ERROR(...) CMN_LOG_(CMN_LOG_ERROR, __VA_ARGS__)
#define CMN_WARN(...)  CMN_LOG_(CMN_LOG_WARN, __VA_ARGS__)
#define CMN_INFO(...)  CMN_LOG_(CMN_LOG_INFO, __VA_ARGS__)
#define CMN_DEBUG(...) CMN_LOG_(CMN_LOG_DEBUG, __VA_ARGS__)

/* Parse "error|warn|info|debug"; -1 if not one of them. */
int cmn_log_level_parse(const char *s);

/* Default level for every category. */
void cmn_log_set_level(cmn_log_level_t level);

/* Filters: "rpc.*:debug,store:warn" (prefix match when the pattern ends
 * in '*'; the last matching filter wins). Returns -1 and records
 * CMN_ERR_INVALID naming the bad element if the string is malformed; the
 * previous filters are kept then. */
int cmn_log_set_filters(const char *filters);

/* Send log lines to `path` (appended, created 0640) instead of stderr;
 * NULL or "" means stderr. Returns -1 with an error recorded on failure. */
int cmn_log_set_file(const char *path);

/* Prefix every line with a program name ("herd-agent"). Not copied. */
void cmn_log_set_ident(const char *ident);

#endif /* CMN_LOG_H */
