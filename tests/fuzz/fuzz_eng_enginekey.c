/* Fuzz target: the engine key rotation's inputs. The first byte picks the
 * parser: even, the rest is the engine.next.switch file read by
 * eng_enginekey_read_switch (at start and by herd-engine --show-key); odd,
 * the rest is the POST /enginekey/rotate body of
 * eng_enginekey_parse_rotate. A failure must say why; a switch time read
 * must be what the file holds (digits and trailing blanks only, no NUL)
 * and in 1..INT64_MAX/2; a window must be 0..ENG_ENGINEKEY_WINDOW_MAX_S. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmn_err.h"
#include "eng_enginekey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_INPUT 4096

/* The file's bytes as they must be for a success: [+]digits, then only
 * blanks; the value they spell. */
static int
s_expect(const uint8_t *d, size_t n, int64_t *v)
{
    size_t i = 0;
    if (i < n && d[i] == '+')
        i++;
    size_t start = i;
    int64_t x = 0;
    for (; i < n && d[i] >= '0' && d[i] <= '9'; i++) {
        if (x > (INT64_MAX / 2) / 10 + 1)
            return -1;
        x = x * 10 + (d[i] - '0');
    }
    if (i == start)
        return -1;
    for (; i < n; i++)
        if (!memchr(" \t\r\n", d[i], 4))
            return -1;
    *v = x;
    return 0;
}

static void
s_switch_file(const uint8_t *d, size_t n)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("engine.next.switch", MFD_CLOEXEC);
        if (fd < 0)
            return;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, d, n, 0) != (ssize_t)n)
        return;
    int64_t when = -7;
    int rc = eng_enginekey_read_switch(path, &when);
    if (rc == 0) {
        int64_t want;
        if (s_expect(d, n, &want) < 0 || want != when || when < 1 ||
            when > INT64_MAX / 2)
            abort();
    } else if (rc != -1 || cmn_err_code() != CMN_ERR_CONFIG ||
               strstr(cmn_err_msg(), path) == NULL) {
        abort();                /* the error names the file */
    }
}

static void
s_rotate_body(const uint8_t *d, size_t n)
{
    int64_t w = -7;
    int rc = eng_enginekey_parse_rotate((const char *)d, n, &w);
    if (rc == 0) {
        if (w < 0 || w > ENG_ENGINEKEY_WINDOW_MAX_S)
            abort();
    } else if (rc != -1 || cmn_err_code() != CMN_ERR_INVALID) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > S_MAX_INPUT)
        return 0;
    /* An exact-size copy, so that reads past the end are caught. */
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, n);
    cmn_err_reset();
    if (data[0] & 1)
        s_rotate_body(copy, n);
    else
        s_switch_file(copy, n);
    free(copy);
    return 0;
}
