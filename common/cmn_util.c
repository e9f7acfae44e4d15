#include "cmn_util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"

CMN_LOG_INIT("util");

void
cmn_uuid_generate(char out[CMN_UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];

    /* randombytes_buf initialises libsodium's generator on first use. */
    randombytes_buf(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);     /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);     /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

bool
cmn_uuid_valid(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < CMN_UUID_STRLEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return s[CMN_UUID_STRLEN] == '\0';
}

static uint64_t
s_clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cmn_time_us(void) { return s_clock_us(CLOCK_REALTIME); }
uint64_t cmn_time_ms(void) { return s_clock_us(CLOCK_REALTIME) / 1000u; }
uint64_t cmn_mono_us(void) { return s_clock_us(CLOCK_MONOTONIC); }
uint64_t cmn_mono_ms(void) { return s_clock_us(CLOCK_MONOTONIC) / 1000u; }

void
cmn_time_iso(uint64_t ms, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    time_t secs = (time_t)(ms / 1000u);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, len, "invalid-time");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000u));
}

int
cmn_parse_int64(const char *s, int64_t min, int64_t max, const char *what,
                int64_t *out)
{
    if (!what)
        what = "value";
    if (!s || !*s)
        return CMN_ERR(CMN_ERR_INVALID, "%s: empty, expected an integer", what);
    /* strtoll accepts leading blanks; we do not. */
    if (isspace((unsigned char)s[0]))
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%.64s' is not an integer", what, s);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%.64s' is not an integer", what, s);
    if (errno == ERANGE || v < min || v > max)
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%.64s' is out of range [%" PRId64
                       ", %" PRId64 "]", what, s, min, max);
    if (out)
        *out = (int64_t)v;
    return 0;
}

char *
cmn_file_read(const char *path, size_t max, size_t *len)
{
    CMN_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot open '%s'", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot stat '%s'", path);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        CMN_ERR(CMN_ERR_IO, "'%s' is a directory", path);
        return NULL;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        CMN_ERR(CMN_ERR_TOO_BIG, "'%s' is %lld bytes, more than the limit %zu",
                path, (long long)st.st_size, max);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    CMN_AUTOFREE char *buf = malloc(cap + 1);
    if (!buf) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory reading '%s'", path);
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                CMN_ERR(CMN_ERR_TOO_BIG, "'%s' is more than the limit %zu bytes",
                        path, max);
                return NULL;
            }
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                CMN_ERR(CMN_ERR_NOMEM, "out of memory reading '%s'", path);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            CMN_ERR_ERRNO(CMN_ERR_IO, "cannot read '%s'", path);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        CMN_ERR(CMN_ERR_TOO_BIG, "'%s' is more than the limit %zu bytes", path, max);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return CMN_STEAL(buf);
}

int
cmn_file_write_atomic(const char *path, const void *buf, size_t len,
                      unsigned mode)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return CMN_ERR(CMN_ERR_INVALID, "path '%s' is too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot create a temporary file for '%s'",
                             path);
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            CMN_ERR_ERRNO(CMN_ERR_IO, "cannot write '%s'", tmp);
            goto err_unlink;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) < 0) {
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot chmod '%s'", tmp);
        goto err_unlink;
    }
    if (fsync(fd) < 0) {
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot fsync '%s'", tmp);
        goto err_unlink;
    }
    if (close(fd) < 0) {
        fd = -1;
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot close '%s'", tmp);
        goto err_unlink;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        CMN_ERR_ERRNO(CMN_ERR_IO, "cannot rename '%s' to '%s'", tmp, path);
        goto err_unlink;
    }
    return 0;

err_unlink:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

int
cmn_mkdir_p(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t len = path ? strlen(path) : 0;
    if (len == 0)
        return CMN_ERR(CMN_ERR_INVALID, "empty directory path");
    if (len >= sizeof(buf))
        return CMN_ERR(CMN_ERR_INVALID, "directory path '%.64s...' is too long", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
            return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot create directory '%s'", buf);
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot stat '%s'", path);
    if (!S_ISDIR(st.st_mode))
        return CMN_ERR(CMN_ERR_IO, "'%s' exists and is not a directory", path);
    CMN_DEBUG("directory '%s' ready", path);
    return 0;
}

bool
cmn_str_printable(const char *s, size_t max, const char *forbid)
{
    if (!s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= max)
            return false;
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c > 0x7e)
            return false;
        if (forbid && strchr(forbid, c))
            return false;
    }
    return n >= 1;
}

uint32_t
cmn_str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}
