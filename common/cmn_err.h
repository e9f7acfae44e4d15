/* Per-thread error object: the failure site records what went wrong, with
 * file:line and errno; callers return -1 or NULL and pass it up. The first
 * error recorded since the last cmn_err_reset() wins. The codes are stable:
 * they travel on the wire (Result.code) and in REST faults. */
#ifndef CMN_ERR_H
#define CMN_ERR_H

#include <stdbool.h>

typedef enum {
    CMN_OK = 0,                 /* frozen at 0 */
    CMN_ERR_INTERNAL = 1,       /* a bug or an impossible condition */
    CMN_ERR_NOMEM = 2,
    CMN_ERR_INVALID = 3,        /* bad input: argument, body, message field */
    CMN_ERR_NOT_FOUND = 4,
    CMN_ERR_EXISTS = 5,
    CMN_ERR_CONFIG = 6,         /* config or answer file */
    CMN_ERR_IO = 7,             /* file or socket I/O */
    CMN_ERR_PROTOCOL = 8,       /* malformed or unexpected wire message */
    CMN_ERR_VERSION = 9,        /* peer speaks another protocol version */
    CMN_ERR_TIMEOUT = 10,
    CMN_ERR_LIBVIRT = 11,
    CMN_ERR_DB = 12,
    CMN_ERR_STATE = 13,         /* not allowed in the object's current state */
    CMN_ERR_UNAVAILABLE = 14,   /* host not connected, service not ready */
    CMN_ERR_DENIED = 15,
    CMN_ERR_UNSUPPORTED = 16,
    CMN_ERR_TOO_BIG = 17,       /* size limit exceeded */
    CMN_ERR_NO_SESSION = 18,    /* engine has no session for this host */
    CMN_ERR_AUTH = 19,          /* authentication required or failed */
    CMN_ERR__LAST
} cmn_code_t;

typedef struct {
    cmn_code_t code;
    int sys_errno;              /* errno at the failure site, 0 if none */
    const char *file;
    int line;
    char message[1024];
} cmn_error_t;

/* Record an error unless one is already recorded on this thread. The
 * message is printf-formatted. Always returns -1 so callers may write
 * `return CMN_ERR(...)`. Use the macros, not the function. */
int cmn_err_set(cmn_code_t code, int sys_errno, const char *file, int line,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define CMN_ERR(code, ...) \
    cmn_err_set((code), 0, __FILE__, __LINE__, __VA_ARGS__)
/* Same, recording the current errno (and appending strerror to message). */
#define CMN_ERR_ERRNO(code, ...) \
    cmn_err_set((code), errno, __FILE__, __LINE__, __VA_ARGS__)

/* Forget this thread's error (call at the start of each top-level
 * operation: a request, a message, a command). */
void cmn_err_reset(void);

/* This thread's error, or NULL if none is recorded. Owned by the library. */
const cmn_error_t *cmn_err_last(void);

/* Convenience: the recorded code (CMN_OK if none) and message ("" if none). */
cmn_code_t cmn_err_code(void);
const char *cmn_err_msg(void);

/* Stable lower-case name of a code ("not_found"); "unknown" if out of range. */
const char *cmn_code_name(cmn_code_t code);

/* True if code is a valid cmn_code_t number (for values from a peer). */
bool cmn_code_valid(int code);

#endif /* CMN_ERR_H */
