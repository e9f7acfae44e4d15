/* Inside of the SQLite store, shared by eng_store.c (connection, schema),
 * eng_store_inv.c (data centers, clusters, hosts), eng_store_vm.c (VMs,
 * events, stats) and eng_store_user.c (users, API tokens).
 * Nothing outside engine/eng_store*.c includes this. */
#ifndef ENG_STORE_PRIV_H
#define ENG_STORE_PRIV_H

#include "eng_store.h"

#include <sqlite3.h>

/* One cached prepared statement per slot; the SQL text lives at the call
 * site and is prepared on first use. */
typedef enum {
    ENG_STMT_BEGIN = 0,
    ENG_STMT_COMMIT,
    ENG_STMT_ROLLBACK,
    ENG_STMT_DC_INSERT,
    ENG_STMT_DC_GET,
    ENG_STMT_DC_GET_BY_NAME,
    ENG_STMT_DC_LIST,
    ENG_STMT_CLUSTER_INSERT,
    ENG_STMT_CLUSTER_GET,
    ENG_STMT_CLUSTER_GET_BY_NAME,
    ENG_STMT_CLUSTER_LIST,
    ENG_STMT_HOST_PUT,
    ENG_STMT_HOST_GET,
    ENG_STMT_HOST_GET_BY_NAME,
    ENG_STMT_HOST_LIST,
    ENG_STMT_HOST_SET_STATUS,
    ENG_STMT_HOST_DELETE,
    ENG_STMT_VM_INSERT,
    ENG_STMT_VM_UPDATE,
    ENG_STMT_VM_GET,
    ENG_STMT_VM_GET_BY_NAME,
    ENG_STMT_VM_LIST,
    ENG_STMT_VM_LIST_BY_HOST,
    ENG_STMT_VM_DELETE,
    ENG_STMT_EVENT_ADD,
    ENG_STMT_EVENT_LIST_ASC,
    ENG_STMT_EVENT_LIST_DESC,
    ENG_STMT_EVENT_PRUNE,
    ENG_STMT_STATS_PUT,
    ENG_STMT_STATS_GET,
    ENG_STMT_USER_INSERT,
    ENG_STMT_USER_GET,
    ENG_STMT_USER_GET_BY_NAME,
    ENG_STMT_USER_LIST,
    ENG_STMT_USER_SET_HASH,
    ENG_STMT_USER_SET_ROLE,
    ENG_STMT_USER_DELETE,
    ENG_STMT_TOKEN_INSERT,
    ENG_STMT_TOKEN_GET,
    ENG_STMT_TOKEN_DELETE,
    ENG_STMT_TOKEN_DELETE_USER,
    ENG_STMT_TOKEN_PRUNE,
    ENG_STMT__LAST
} eng_stmt_id_t;

struct eng_store {
    sqlite3 *db;
    char *path;
    bool in_tx;                     /* the caller holds eng_store_begin() */
    sqlite3_stmt *stmts[ENG_STMT__LAST];
};

/* The cached statement `id`, prepared from `sql` on first use, reset and
 * with bindings cleared. NULL with CMN_ERR_DB recorded. */
sqlite3_stmt *eng_store_stmt_(eng_store_t *s, eng_stmt_id_t id,
                              const char *sql);

/* Record the connection's last error: unique/primary key violations as
 * CMN_ERR_EXISTS, foreign key violations as CMN_ERR_NOT_FOUND, the rest as
 * CMN_ERR_DB; the message is "<what>: <sqlite message>". Returns -1. */
int eng_store_err_(eng_store_t *s, const char *file, int line,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define ENG_STORE_ERR(s, ...) eng_store_err_((s), __FILE__, __LINE__, __VA_ARGS__)

/* Step `st` once expecting SQLITE_DONE, then reset it. -1 with the error
 * recorded (see eng_store_err_), naming `what`. */
int eng_store_exec_(eng_store_t *s, sqlite3_stmt *st, const char *what);

/* Copy a text column into buf (truncating; NULL reads as ""). */
void eng_store_col_str_(sqlite3_stmt *st, int col, char *buf, size_t size);

/* Binders: 0, or -1 with CMN_ERR_DB recorded. bind_id stores "" as NULL
 * (for optional references). */
int eng_store_bind_text_(eng_store_t *s, sqlite3_stmt *st, int idx,
                         const char *v);
int eng_store_bind_id_(eng_store_t *s, sqlite3_stmt *st, int idx,
                       const char *v);
int eng_store_bind_i64_(eng_store_t *s, sqlite3_stmt *st, int idx, int64_t v);

/* Step a look-up expecting one row: 1 with the row current, or -1 with
 * CMN_ERR_NOT_FOUND ("<what> '<key>' not found") or the database error
 * recorded (the statement is then reset). */
int eng_store_step_one_(eng_store_t *s, sqlite3_stmt *st, const char *what,
                        const char *key);

/* Run a write that must touch exactly one row, else CMN_ERR_NOT_FOUND
 * naming "<what> '<id>'". */
int eng_store_exec_one_(eng_store_t *s, sqlite3_stmt *st, const char *what,
                        const char *id);

/* Pointer to element n of *arr (elements of `elem` bytes), growing it;
 * NULL with CMN_ERR_NOMEM recorded. */
void *eng_store_list_grow_(void **arr, size_t *cap, size_t n, size_t elem);

/* Reads the current row of `st` into `elem` (0), or records why it cannot
 * (-1). */
typedef int (*eng_store_row_fn)(sqlite3_stmt *st, void *elem);

/* Run a bound statement to its end, reading each row with `row` into a
 * growing array of `elem_size`-byte elements; the statement is reset. On
 * success *out (caller frees) and *n are set. On failure -1 with the error
 * recorded ("<what>: <sqlite message>" for a database error); `clear`
 * (may be NULL) is called on every element read, the failed one included,
 * the array is freed and *out, *n are left as they were. */
int eng_store_list_(eng_store_t *s, sqlite3_stmt *st, const char *what,
                    size_t elem_size, eng_store_row_fn row,
                    void (*clear)(void *elem), void **out, size_t *n);

/* Prepare the cached statement `id`, bind `key` as ?1, expect one row (see
 * eng_store_step_one_, naming `what`) and read it into `out` with `row`;
 * the statement is reset. 0, or -1 with the error recorded. */
int eng_store_get_one_(eng_store_t *s, eng_stmt_id_t id, const char *sql,
                       const char *what, const char *key,
                       eng_store_row_fn row, void *out);

/* eng_store_exec_ naming the record "<what> '<name>'" (a constraint
 * violation is recorded as eng_store_err_ maps it). */
int eng_store_exec_named_(eng_store_t *s, sqlite3_stmt *st, const char *what,
                          const char *name);

/* Copy a C string into a fixed buffer, truncating. */
void eng_store_copy_(char *dst, size_t size, const char *src);

#endif /* ENG_STORE_PRIV_H */
