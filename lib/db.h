/*
 * db: one MariaDB connection per worker (or per daemon thread), opened
 * lazily, reconnected when lost, with every statement prepared once and
 * kept. Calls describe their bound parameters with a small format string:
 *
 *   in:  'i' int64_t        's' const char *          'z' const char * or NULL (NULL -> SQL NULL)
 *   out: 'i' int64_t *      's' char *, size_t cap    'n' int64_t *, int *is_null
 *        't' char *, size_t cap: a DATETIME as ISO 8601 UTC with milliseconds,
 *            "2026-11-26T09:00:00.123Z" ("" when NULL), formatted here, not by SQL
 *
 * db_row and db_exec also CALL a stored procedure (sql/): its one result
 * set, if it has one, is read like a SELECT's and the status a CALL ends
 * with is read off here. A procedure that runs a transaction must roll it
 * back itself before it raises an error (an EXIT HANDLER that does ROLLBACK;
 * RESIGNAL): to the caller its CALL is one statement, retried as one.
 *
 * so a query reads as one line:
 *
 *   db_row(d, "SELECT id, name FROM users WHERE name = ?", "s", "is", name, &id, buf, sizeof buf);
 *
 * Every call returns (mb.h) MB_OK or MB_NONE (no row / end of rows), or a negative
 * status: MB_DUP for a unique-key violation, MB_AGAIN for a deadlock or
 * lock-wait timeout (the transaction was rolled back), MB_UNAVAIL when the
 * server could not be reached within DB_TIMEOUT, MB_ERROR for a bug.
 */
#ifndef MB_DB_H
#define MB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "mb.h"

typedef struct db db;

db      *db_new(const cfg *c, const char *ref_for_logs);
void     db_free(db *d);
/* Pings the server (connecting if needed). */
int      db_ping(db *d);
/* Sets the request id that db log lines carry. */
void     db_ref(db *d, const char *ref);

int      db_begin(db *d);
int      db_commit(db *d);
void     db_rollback(db *d);
/* 1 between a db_begin and its commit or rollback. */
int      db_in_tx(const db *d);

/* INSERT/UPDATE/DELETE: returns affected rows (>= 0) or a negative status. */
int64_t  db_exec(db *d, const char *sql, const char *in, ...);
/* The id of the last INSERT on this connection. */
int64_t  db_insert_id(db *d);
/* SELECT of at most one interesting row: MB_OK and outputs set, or MB_NONE. */
int      db_row(db *d, const char *sql, const char *in, const char *out, ...);
/*
 * SELECT of many rows: db_select executes (in-args only), then db_next
 * (out pointers only) returns MB_OK per row and MB_NONE at the end, then
 * db_done. Only one cursor is open at a time per connection.
 */
int      db_select(db *d, const char *sql, const char *in, ...);
int      db_next(db *d, const char *out, ...);
void     db_done(db *d);

/*
 * A list of ids for one bound parameter: "[1,2,3]", which SQL reads with
 * JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')). Prepared statements
 * stay fixed (one per SQL text) whatever the list's length. `out` needs
 * DB_IDS_JSON_CAP(n) bytes.
 */
#define DB_IDS_JSON_CAP(n) ((size_t)(n) * 21 + 3)
void     db_ids_json(const int64_t *ids, int n, char *out, size_t cap);

/*
 * Retrying a transaction that lost a deadlock. A MB_AGAIN that comes
 * back quickly is a deadlock victim (InnoDB rolled it back at once) and is
 * run again, up to DB_RETRIES tries in all; one that comes after a lock-wait
 * timeout has used the time budget and goes to the caller (503).
 *
 *   db_try t;
 *   db_try_start(&t);
 *   do rc = my_tx(...); while (db_try_again(&t, rc));
 */
#define DB_RETRIES 3
typedef struct db_try {
	int     attempt;
	int64_t started_ms;
} db_try;
void     db_try_start(db_try *t);
int      db_try_again(db_try *t, int rc);

#endif
