#include "cmn_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cmn_err.h"

#define CMN_LOG_MAX_FILTERS 32

typedef struct {
    char pattern[64];
    bool prefix;
    int level;
} cmn_log_filter_t;

/* Process-wide logging settings. This is the one piece of global state the
 * daemons share: log calls come from every file and every worker thread. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_default_level = CMN_LOG_INFO;
static cmn_log_filter_t s_filters[CMN_LOG_MAX_FILTERS];
static int s_nfilters;
static unsigned s_serial = 1;
static int s_fd = STDERR_FILENO;
static const char *s_ident;

static const char *const s_level_names[] = { "error", "warn", "info", "debug" };

int
cmn_log_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(s, s_level_names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return CMN_LOG_WARN;
    return -1;
}

static int
s_resolve(const char *name)
{
    int level = s_default_level;
    for (int i = 0; i < s_nfilters; i++) {
        const cmn_log_filter_t *f = &s_filters[i];
        bool match = f->prefix ? strncmp(name, f->pattern, strlen(f->pattern)) == 0
                               : strcmp(name, f->pattern) == 0;
        if (match)
            level = f->level;
    }
    return level;
}

bool
cmn_log_enabled(cmn_log_cat_t *cat, cmn_log_level_t level)
{
    /* Categories are static and shared by every thread: atomics keep the
     * cached level race-free without taking the lock on the fast path. */
    unsigned serial = __atomic_load_n(&s_serial, __ATOMIC_ACQUIRE);
    int cached = __atomic_load_n(&cat->level, __ATOMIC_ACQUIRE);
    if (cached < 0 || __atomic_load_n(&cat->serial, __ATOMIC_ACQUIRE) != serial) {
        pthread_mutex_lock(&s_lock);
        cached = s_resolve(cat->name);
        __atomic_store_n(&cat->serial, s_serial, __ATOMIC_RELEASE);
        __atomic_store_n(&cat->level, cached, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&s_lock);
    }
    return (int)level <= cached;
}

void
cmn_log_write(cmn_log_cat_t *cat, cmn_log_level_t level, const char *fmt, ...)
{
    int saved_errno = errno;
    char line[4096];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    if ((int)level < 0 || level > CMN_LOG_DEBUG)
        level = CMN_LOG_ERROR;
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s%s%s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
                     s_ident ? s_ident : "", s_ident ? " " : "",
                     s_level_names[level], cat->name);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof(line)) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    /* One write per line so lines from several threads never interleave. */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n')
            line[i] = ' ';
    line[n++] = '\n';
    /* Under the lock so that cmn_log_set_file() cannot close the fd
     * between our read of it and the write. */
    pthread_mutex_lock(&s_lock);
    ssize_t w = write(s_fd, line, (size_t)n);
    pthread_mutex_unlock(&s_lock);
    (void)w;
    errno = saved_errno;
}

void
cmn_log_set_level(cmn_log_level_t level)
{
    pthread_mutex_lock(&s_lock);
    s_default_level = level;
    __atomic_add_fetch(&s_serial, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s_lock);
}

int
cmn_log_set_filters(const char *filters)
{
    cmn_log_filter_t parsed[CMN_LOG_MAX_FILTERS];
    int n = 0;
    const char *p = filters ? filters : "";

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            const char *colon = memchr(p, ':', len);
            if (!colon || colon == p)
                return CMN_ERR(CMN_ERR_INVALID,
                               "log filter '%.*s' is not CATEGORY:LEVEL", (int)len, p);
            size_t plen = (size_t)(colon - p);
            char lvl[16];
            size_t llen = len - plen - 1;
            if (llen == 0 || llen >= sizeof(lvl))
                return CMN_ERR(CMN_ERR_INVALID, "log filter '%.*s' has no valid level",
                               (int)len, p);
            memcpy(lvl, colon + 1, llen);
            lvl[llen] = '\0';
            int level = cmn_log_level_parse(lvl);
            if (level < 0)
                return CMN_ERR(CMN_ERR_INVALID,
                               "log filter '%.*s': level '%s' is not error, warn, info or debug",
                               (int)len, p, lvl);
            if (n == CMN_LOG_MAX_FILTERS)
                return CMN_ERR(CMN_ERR_INVALID, "more than %d log filters",
                               CMN_LOG_MAX_FILTERS);
            bool prefix = p[plen - 1] == '*';
            if (prefix)
                plen--;
            if (plen >= sizeof(parsed[n].pattern))
                return CMN_ERR(CMN_ERR_INVALID, "log filter category '%.*s' is too long",
                               (int)plen, p);
            memcpy(parsed[n].pattern, p, plen);
            parsed[n].pattern[plen] = '\0';
            parsed[n].prefix = prefix;
            parsed[n].level = level;
            n++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    pthread_mutex_lock(&s_lock);
    memcpy(s_filters, parsed, sizeof(parsed[0]) * (size_t)n);
    s_nfilters = n;
    __atomic_add_fetch(&s_serial, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s_lock);
    return 0;
}

int
cmn_log_set_file(const char *path)
{
    int fd = STDERR_FILENO;
    if (path && *path) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot open log file '%s'", path);
    }
    pthread_mutex_lock(&s_lock);
    int old = s_fd;
    s_fd = fd;
    pthread_mutex_unlock(&s_lock);
    if (old != STDERR_FILENO)
        close(old);
    return 0;
}

void
cmn_log_set_ident(const char *ident)
{
    s_ident = ident;
}
