#include "cmn_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmn_log.h"

CMN_LOG_INIT("util.err");

static __thread cmn_error_t s_err;
static __thread bool s_err_set;

static const char *const s_code_names[CMN_ERR__LAST] = {
    [CMN_OK] = "ok",
    [CMN_ERR_INTERNAL] = "internal",
    [CMN_ERR_NOMEM] = "no_memory",
    [CMN_ERR_INVALID] = "invalid",
    [CMN_ERR_NOT_FOUND] = "not_found",
    [CMN_ERR_EXISTS] = "exists",
    [CMN_ERR_CONFIG] = "config",
    [CMN_ERR_IO] = "io",
    [CMN_ERR_PROTOCOL] = "protocol",
    [CMN_ERR_VERSION] = "version",
    [CMN_ERR_TIMEOUT] = "timeout",
    [CMN_ERR_LIBVIRT] = "libvirt",
    [CMN_ERR_DB] = "database",
    [CMN_ERR_STATE] = "state",
    [CMN_ERR_UNAVAILABLE] = "unavailable",
    [CMN_ERR_DENIED] = "denied",
    [CMN_ERR_UNSUPPORTED] = "unsupported",
    [CMN_ERR_TOO_BIG] = "too_big",
    [CMN_ERR_NO_SESSION] = "no_session",
    [CMN_ERR_AUTH] = "auth",
};

int
cmn_err_set(cmn_code_t code, int sys_errno, const char *file, int line,
            const char *fmt, ...)
{
    if (s_err_set)
        return -1;
    s_err_set = true;
    s_err.code = code;
    s_err.sys_errno = sys_errno;
    s_err.file = file;
    s_err.line = line;

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s_err.message, sizeof(s_err.message), fmt, ap);
    va_end(ap);
    if (n < 0)
        s_err.message[0] = '\0';
    if (sys_errno != 0) {
        size_t len = strlen(s_err.message);
        char buf[128];
        const char *es = strerror_r(sys_errno, buf, sizeof(buf));
        snprintf(s_err.message + len, sizeof(s_err.message) - len, ": %s", es);
    }
    CMN_DEBUG("%s:%d: %s: %s", file, line, cmn_code_name(code), s_err.message);
    return -1;
}

void
cmn_err_reset(void)
{
    s_err_set = false;
    memset(&s_err, 0, sizeof(s_err));
}

const cmn_error_t *
cmn_err_last(void)
{
    return s_err_set ? &s_err : NULL;
}

cmn_code_t
cmn_err_code(void)
{
    return s_err_set ? s_err.code : CMN_OK;
}

const char *
cmn_err_msg(void)
{
    return s_err_set ? s_err.message : "";
}

bool
cmn_code_valid(int code)
{
    return code >= 0 && code < CMN_ERR__LAST;
}

const char *
cmn_code_name(cmn_code_t code)
{
    if (!cmn_code_valid((int)code) || !s_code_names[code])
        return "unknown";
    return s_code_names[code];
}
