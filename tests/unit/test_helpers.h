/* Helpers shared by unit tests. Static inline: each test binary keeps only
 * what it uses, and nothing here needs a component's headers. */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"

/* Run an action that returns -1 on failure; a failure fails the test,
 * naming the expression and the recorded error. */
#define OK(expr) do { \
        cmn_err_reset(); \
        if ((expr) < 0) \
            fail_msg("%s: %s", #expr, cmn_err_msg()); \
    } while (0)

/* Fail the test unless the recorded error's message holds every one of the
 * NULL-terminated fragments in `ap` (the caller va_starts and va_ends). */
static inline void
test_err_has_all(va_list ap)
{
    const char *frag;
    while ((frag = va_arg(ap, const char *)) != NULL) {
        if (strstr(cmn_err_msg(), frag) == NULL)
            fail_msg("error '%s' lacks '%s'", cmn_err_msg(), frag);
    }
}

/* Make a new folder "/tmp/<name>.XXXXXX" into dir and put the path of
 * "engine.db" inside it into path (the file is not created). */
static inline void
test_db_make(char *dir, size_t dir_size, char *path, size_t path_size,
             const char *name)
{
    snprintf(dir, dir_size, "/tmp/%s.XXXXXX", name);
    assert_non_null(mkdtemp(dir));
    snprintf(path, path_size, "%s/engine.db", dir);
}

/* Remove an SQLite database file with its -wal and -shm files. */
static inline void
test_db_remove(const char *path)
{
    char buf[160];
    unlink(path);
    snprintf(buf, sizeof(buf), "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof(buf), "%s-shm", path);
    unlink(buf);
}

#endif /* TEST_HELPERS_H */
