/* Small helpers: ids, time, strings, files. */
#ifndef CMN_UTIL_H
#define CMN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMN_UUID_STRLEN 36

/* Fill `out` (at least 37 bytes) with a random (v4) UUID, lower case.
 * Uses libsodium's randombytes. */
void cmn_uuid_generate(char out[CMN_UUID_STRLEN + 1]);

/* True if `s` is a UUID in canonical 8-4-4-4-12 hex form (either case). */
bool cmn_uuid_valid(const char *s);

/* FNV-1a of a NUL-terminated string, for in-memory hash tables. */
uint32_t cmn_str_hash(const char *s);

/* Milliseconds / microseconds: wall clock and monotonic. */
uint64_t cmn_time_ms(void);
uint64_t cmn_time_us(void);
uint64_t cmn_mono_ms(void);
uint64_t cmn_mono_us(void);

/* Format a wall-clock time in ms as ISO 8601 UTC with milliseconds
 * ("2026-11-21T20:40:01.123Z") into buf (at least 32 bytes). */
void cmn_time_iso(uint64_t ms, char *buf, size_t len);

/* Parse a decimal integer in [min, max] with nothing after it. Returns -1
 * and records CMN_ERR_INVALID naming `what` if not. */
int cmn_parse_int64(const char *s, int64_t min, int64_t max, const char *what,
                    int64_t *out);

/* Read a whole file of at most `max` bytes into a malloc'd NUL-terminated
 * buffer (caller frees). *len gets the length without the NUL. NULL with
 * CMN_ERR_IO (or CMN_ERR_TOO_BIG) recorded on failure. */
char *cmn_file_read(const char *path, size_t max, size_t *len);

/* Write `len` bytes to `path` atomically (temp file in the same folder,
 * fsync, rename) with mode `mode`. -1 with an error recorded on failure. */
int cmn_file_write_atomic(const char *path, const void *buf, size_t len,
                          unsigned mode);

/* mkdir -p with mode for every created component. */
int cmn_mkdir_p(const char *path, unsigned mode);

/* Printable: true if `s` has 1..max bytes, all printable ASCII except the
 * characters in `forbid` (may be NULL). For names from peers and users. */
bool cmn_str_printable(const char *s, size_t max, const char *forbid);

#endif /* CMN_UTIL_H */
