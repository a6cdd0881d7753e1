/*
 * db: the MariaDB C API with prepared statements only. Statements are cached
 * per connection by their SQL text (string literals, so pointer equality is
 * the fast path). When the connection drops, every statement is freed with
 * it; outside a transaction the failed call is retried once on a fresh
 * connection, inside one the caller gets MB_UNAVAIL and must start over.
 */
#include "clock.h"
#include "db.h"
#include "log.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_MAX_STMTS 64
#define DB_MAX_COLS  16
#define DB_COL_BUF   512

typedef struct db_stmt {
	const char *sql;
	MYSQL_STMT *st;
} db_stmt;

struct db {
	const cfg  *conf;
	MYSQL      *my;
	int         in_tx;
	db_stmt     stmts[DB_MAX_STMTS];
	int         nstmts;
	MYSQL_STMT *cursor;
	int         cursor_bound;
	MYSQL_BIND  out[DB_MAX_COLS];
	char        obuf[DB_MAX_COLS][DB_COL_BUF];
	unsigned long olen[DB_MAX_COLS];
	my_bool     onull[DB_MAX_COLS];
	long long   oint[DB_MAX_COLS];
	MYSQL_TIME  otime[DB_MAX_COLS];
	int64_t     last_insert_id;
	char        ref[80];
};

void
db_try_start(db_try *t)
{
	t->attempt = 0;
	t->started_ms = clock_mono_ms();
}

int
db_try_again(db_try *t, int rc)
{
	return rc == MB_AGAIN && ++t->attempt < DB_RETRIES &&
	    clock_mono_ms() - t->started_ms < 500;
}

static void
db_disconnect(db *d)
{
	int i;

	for (i = 0; i < d->nstmts; i++)
		mysql_stmt_close(d->stmts[i].st);
	d->nstmts = 0;
	d->cursor = NULL;
	if (d->my != NULL)
		mysql_close(d->my);
	d->my = NULL;
	d->in_tx = 0;
}

/*
 * A Galera node answers only once it is synced with the cluster; a node
 * still joining (or cut off from the majority) is passed over for the next.
 */
static int
db_node_ready(MYSQL *my)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ready = 0;

	if (mysql_query(my, "SHOW STATUS LIKE 'wsrep_ready'") != 0 ||
	    (res = mysql_store_result(my)) == NULL)
		return 0;
	if ((row = mysql_fetch_row(res)) != NULL && row[1] != NULL && strcmp(row[1], "ON") == 0)
		ready = 1;
	mysql_free_result(res);
	return ready;
}

/* One connection attempt: to host:port when host is set, else to the socket. */
static int
db_connect_to(db *d, const char *host, int port)
{
	const cfg *c = d->conf;
	unsigned int t = (unsigned int)c->db_timeout, rt = t + 1;
	char init[160];
	int n;

	if ((d->my = mysql_init(NULL)) == NULL)
		return MB_UNAVAIL;
	/*
	 * Lock waits give up before the client read timeout, so a contended row
	 * is a clean error. READ COMMITTED: correctness here rests on row locks
	 * and unique keys, never on a snapshot, and it takes no gap locks, which
	 * under REPEATABLE READ made concurrent pays of neighbouring orders
	 * deadlock on the payments index. On Galera (DB_SYNC_WAIT) every read
	 * first waits until this node has applied what others committed before.
	 */
	n = snprintf(init, sizeof init, "SET time_zone = '+00:00', innodb_lock_wait_timeout = %u, "
	    "tx_isolation = 'READ-COMMITTED'", t);
	if (c->db_sync_wait) /* the checks DB_SYNC_WAIT names (a bit mask, 1 = reads) */
		snprintf(init + n, sizeof init - (size_t)n, ", wsrep_sync_wait = %d", c->db_sync_wait);
	mysql_options(d->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(d->my, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_options(d->my, MYSQL_OPT_WRITE_TIMEOUT, &rt);
	mysql_options(d->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(d->my, MYSQL_INIT_COMMAND, init);
	if (mysql_real_connect(d->my, host, c->db_user, c->db_pass, c->db_name,
	    (unsigned int)port, host ? NULL : c->db_socket, 0) == NULL) {
		log_msg("warn", d->ref, "db connect%s%s: %s", host ? " to " : "", host ? host : "",
		    mysql_error(d->my));
		mysql_close(d->my);
		d->my = NULL;
		return MB_UNAVAIL;
	}
	if (c->db_sync_wait && !db_node_ready(d->my)) {
		log_msg("warn", d->ref, "db %s is not synced with its cluster", host ? host : "");
		mysql_close(d->my);
		d->my = NULL;
		return MB_UNAVAIL;
	}
	return MB_OK;
}

/*
 * DB_HOST ("db1,db2:3307,db3") is tried in order and the first node that
 * answers and is synced wins, so every host of a list writes to the same
 * node while it is up; without DB_HOST, the unix socket DB_SOCKET.
 */
static int
db_connect(db *d)
{
	const cfg *c = d->conf;
	char list[512], *host, *save = NULL;

	if (d->my != NULL)
		return MB_OK;
	if (c->db_host == NULL)
		return db_connect_to(d, NULL, 0);
	snprintf(list, sizeof list, "%s", c->db_host);
	for (host = strtok_r(list, ", \t", &save); host != NULL;
	    host = strtok_r(NULL, ", \t", &save)) {
		char *colon = strchr(host, ':');

		if (colon != NULL)
			*colon++ = '\0';
		if (db_connect_to(d, host, colon ? atoi(colon) : c->db_port) == MB_OK)
			return MB_OK;
	}
	return MB_UNAVAIL;
}

static void
db_library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

db *
db_new(const cfg *c, const char *ref)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	db *d;

	pthread_once(&once, db_library_init); /* not thread-safe inside mysql_init */
	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->conf = c;
	db_ref(d, ref);
	return d;
}

void
db_free(db *d)
{
	if (d == NULL)
		return;
	db_disconnect(d);
	free(d);
}

void
db_ref(db *d, const char *ref)
{
	snprintf(d->ref, sizeof d->ref, "%s", ref ? ref : "");
}

/* Maps a server or client error to a status; drops the connection when it is gone. */
static int
db_status(db *d, unsigned int err, const char *msg)
{
	switch (err) {
	case ER_DUP_ENTRY:
		return MB_DUP;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		d->in_tx = 0; /* InnoDB rolled back (deadlock) or we must (timeout) */
		log_msg("warn", d->ref, "db conflict: %s", msg);
		return MB_AGAIN;
	}
	/* ER_UNKNOWN_COM_ERROR: a Galera node that left the majority ("WSREP not ready") */
	if (err >= CR_MIN_ERROR || err == ER_SERVER_SHUTDOWN || err == ER_CONNECTION_KILLED ||
	    err == ER_QUERY_INTERRUPTED || err == ER_UNKNOWN_COM_ERROR) {
		log_msg("warn", d->ref, "db unavailable: %u %s", err, msg);
		db_disconnect(d);
		return MB_UNAVAIL;
	}
	log_msg("error", d->ref, "db error: %u %s", err, msg);
	return MB_ERROR;
}

int
db_ping(db *d)
{
	int rc;

	int64_t t0 = clock_mono_ms();

	if ((rc = db_connect(d)) != MB_OK)
		return rc;
	if (mysql_ping(d->my) != 0) {
		rc = db_status(d, mysql_errno(d->my), mysql_error(d->my));
		if (rc == MB_UNAVAIL && clock_mono_ms() - t0 < 200 && db_connect(d) == MB_OK &&
		    mysql_ping(d->my) == 0)
			return MB_OK;
		return rc < 0 ? rc : MB_UNAVAIL;
	}
	return MB_OK;
}

static int
db_query(db *d, const char *sql)
{
	int rc;

	if ((rc = db_connect(d)) != MB_OK)
		return rc;
	if (mysql_real_query(d->my, sql, strlen(sql)) != 0)
		return db_status(d, mysql_errno(d->my), mysql_error(d->my));
	return MB_OK;
}

int
db_begin(db *d)
{
	int rc = db_query(d, "START TRANSACTION");

	if (rc == MB_UNAVAIL)
		rc = db_query(d, "START TRANSACTION"); /* a fresh connection */
	if (rc == MB_OK)
		d->in_tx = 1;
	return rc;
}

int
db_commit(db *d)
{
	int rc;

	if (d->my == NULL)
		return MB_UNAVAIL;
	rc = mysql_commit(d->my) == 0 ? MB_OK : db_status(d, mysql_errno(d->my), mysql_error(d->my));
	d->in_tx = 0;
	return rc;
}

int
db_in_tx(const db *d)
{
	return d->in_tx;
}

void
db_rollback(db *d)
{
	if (d->my != NULL && mysql_rollback(d->my) != 0)
		db_status(d, mysql_errno(d->my), mysql_error(d->my));
	d->in_tx = 0;
}

static MYSQL_STMT *
db_prepare(db *d, const char *sql, int *rc)
{
	MYSQL_STMT *st;
	int i;

	for (i = 0; i < d->nstmts; i++)
		if (d->stmts[i].sql == sql || strcmp(d->stmts[i].sql, sql) == 0)
			return d->stmts[i].st;
	if ((*rc = db_connect(d)) != MB_OK)
		return NULL;
	if ((st = mysql_stmt_init(d->my)) == NULL) {
		*rc = MB_UNAVAIL;
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		*rc = db_status(d, mysql_stmt_errno(st), mysql_stmt_error(st));
		mysql_stmt_close(st);
		return NULL;
	}
	if (d->nstmts == DB_MAX_STMTS) {
		log_msg("error", d->ref, "db: more than %d statements", DB_MAX_STMTS);
		mysql_stmt_close(st);
		*rc = MB_ERROR;
		return NULL;
	}
	d->stmts[d->nstmts].sql = sql;
	d->stmts[d->nstmts].st = st;
	d->nstmts++;
	return st;
}

/* Binds the in-arguments described by `in` from ap; values live in vals/lens. */
static int
db_bind_in(const char *in, va_list *ap, MYSQL_BIND *b, long long *vals, unsigned long *lens,
    my_bool *nulls)
{
	int i, n = (int)strlen(in);

	if (n > DB_MAX_COLS)
		return -1;
	memset(b, 0, sizeof *b * (size_t)n);
	for (i = 0; i < n; i++) {
		const char *s;

		switch (in[i]) {
		case 'i':
			vals[i] = (long long)va_arg(*ap, int64_t);
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &vals[i];
			break;
		case 's':
		case 'z':
			s = va_arg(*ap, const char *);
			b[i].buffer_type = MYSQL_TYPE_STRING;
			if (s == NULL) {
				nulls[i] = 1;
				b[i].is_null = &nulls[i];
				break;
			}
			lens[i] = (unsigned long)strlen(s);
			b[i].buffer = (void *)s;
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
			break;
		default:
			return -1;
		}
	}
	return n;
}

/* Prepares and executes; on a lost connection outside a transaction, once more. */
static MYSQL_STMT *
db_run(db *d, const char *sql, const char *in, va_list ap, int *rc)
{
	MYSQL_BIND b[DB_MAX_COLS];
	long long vals[DB_MAX_COLS];
	unsigned long lens[DB_MAX_COLS];
	my_bool nulls[DB_MAX_COLS] = { 0 };
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		int64_t t0 = clock_mono_ms();
		MYSQL_STMT *st;
		va_list cp;
		int n;

		if (d->cursor != NULL)
			db_done(d);
		if ((st = db_prepare(d, sql, rc)) == NULL) {
			if (*rc == MB_UNAVAIL && !d->in_tx && attempt == 0 && clock_mono_ms() - t0 < 200)
				continue;
			return NULL;
		}
		va_copy(cp, ap);
		n = db_bind_in(in, &cp, b, vals, lens, nulls);
		va_end(cp);
		if (n < 0 || (unsigned long)n != mysql_stmt_param_count(st)) {
			log_msg("error", d->ref, "db: %s: parameter format '%s' does not fit", sql, in);
			*rc = MB_ERROR;
			return NULL;
		}
		if ((n > 0 && mysql_stmt_bind_param(st, b) != 0) || mysql_stmt_execute(st) != 0) {
			int was_tx = d->in_tx;

			*rc = db_status(d, mysql_stmt_errno(st), mysql_stmt_error(st));
			/*
			 * A connection found dead at once (the server restarted) is
			 * worth one more try; one that timed out is not: the caller
			 * would wait twice as long for the same 503. So is a statement
			 * of its own (autocommit) that lost a deadlock or, on Galera,
			 * certification at its commit: nothing of it was kept. Not a
			 * CALL that lost one: a procedure is a transaction of its own,
			 * and its callers run it again in a db_try loop (db.h), which
			 * also bounds the time; a second try here would double theirs.
			 */
			if ((*rc == MB_UNAVAIL || (*rc == MB_AGAIN && strncmp(sql, "CALL ", 5) != 0)) &&
			    !was_tx && attempt == 0 && clock_mono_ms() - t0 < 200)
				continue;
			return NULL;
		}
		*rc = MB_OK;
		return st;
	}
	return NULL;
}

/*
 * A CALL of a stored procedure answers its result set (if any) and then a
 * status of its own: both are read off before the statement runs again.
 */
static void
db_drain(MYSQL_STMT *st)
{
	while (mysql_stmt_more_results(st)) {
		if (mysql_stmt_next_result(st) != 0)
			break;
		mysql_stmt_free_result(st);
	}
}

static int
db_bind_out(db *d, MYSQL_STMT *st, const char *out)
{
	int i, n = (int)strlen(out);

	if (n > DB_MAX_COLS || (unsigned int)n != mysql_stmt_field_count(st))
		return MB_ERROR;
	memset(d->out, 0, sizeof d->out);
	for (i = 0; i < n; i++) {
		if (out[i] == 's') {
			d->out[i].buffer_type = MYSQL_TYPE_STRING;
			d->out[i].buffer = d->obuf[i];
			d->out[i].buffer_length = DB_COL_BUF;
		} else if (out[i] == 't') {
			d->out[i].buffer_type = MYSQL_TYPE_DATETIME;
			d->out[i].buffer = &d->otime[i];
			d->out[i].buffer_length = sizeof d->otime[i];
		} else {
			d->out[i].buffer_type = MYSQL_TYPE_LONGLONG;
			d->out[i].buffer = &d->oint[i];
		}
		d->out[i].length = &d->olen[i];
		d->out[i].is_null = &d->onull[i];
	}
	if (n > 0 && mysql_stmt_bind_result(st, d->out) != 0)
		return MB_ERROR;
	if (mysql_stmt_store_result(st) != 0)
		return db_status(d, mysql_stmt_errno(st), mysql_stmt_error(st));
	return MB_OK;
}

/* Copies the current row into the caller's pointers. */
static void
db_copy_out(db *d, const char *out, va_list *ap)
{
	int i;

	for (i = 0; out[i] != '\0'; i++) {
		int64_t *ip;
		int *isnull;
		char *buf;
		size_t cap, len;

		switch (out[i]) {
		case 's':
			buf = va_arg(*ap, char *);
			cap = va_arg(*ap, size_t);
			len = d->onull[i] ? 0 : d->olen[i];
			if (len > DB_COL_BUF)
				len = DB_COL_BUF;
			if (len >= cap)
				len = cap - 1;
			memcpy(buf, d->obuf[i], len);
			buf[len] = '\0';
			break;
		case 't':
			buf = va_arg(*ap, char *);
			cap = va_arg(*ap, size_t);
			if (d->onull[i])
				buf[0] = '\0';
			else
				snprintf(buf, cap, "%04u-%02u-%02uT%02u:%02u:%02u.%03luZ",
				    d->otime[i].year, d->otime[i].month, d->otime[i].day,
				    d->otime[i].hour, d->otime[i].minute, d->otime[i].second,
				    d->otime[i].second_part / 1000);
			break;
		case 'n':
			ip = va_arg(*ap, int64_t *);
			isnull = va_arg(*ap, int *);
			*ip = d->onull[i] ? 0 : (int64_t)d->oint[i];
			*isnull = d->onull[i] ? 1 : 0;
			break;
		default:
			ip = va_arg(*ap, int64_t *);
			*ip = d->onull[i] ? 0 : (int64_t)d->oint[i];
			break;
		}
	}
}

static void
db_skip_in(const char *in, va_list *ap)
{
	for (; *in != '\0'; in++) {
		if (*in == 'i')
			(void)va_arg(*ap, int64_t);
		else
			(void)va_arg(*ap, const char *);
	}
}

int64_t
db_exec(db *d, const char *sql, const char *in, ...)
{
	MYSQL_STMT *st;
	va_list ap;
	int rc;
	int64_t n;

	va_start(ap, in);
	st = db_run(d, sql, in, ap, &rc);
	va_end(ap);
	if (st == NULL)
		return rc;
	n = (int64_t)mysql_stmt_affected_rows(st);
	d->last_insert_id = (int64_t)mysql_stmt_insert_id(st);
	db_drain(st);
	return n;
}

int64_t
db_insert_id(db *d)
{
	return d->last_insert_id;
}

int
db_row(db *d, const char *sql, const char *in, const char *out, ...)
{
	MYSQL_STMT *st;
	va_list ap;
	int rc;

	va_start(ap, out);
	st = db_run(d, sql, in, ap, &rc);
	if (st != NULL && (rc = db_bind_out(d, st, out)) == MB_OK) {
		int f = mysql_stmt_fetch(st);

		if (f == 0 || f == MYSQL_DATA_TRUNCATED) {
			db_skip_in(in, &ap);
			db_copy_out(d, out, &ap);
			rc = MB_OK;
		} else if (f == MYSQL_NO_DATA)
			rc = MB_NONE;
		else
			rc = db_status(d, mysql_stmt_errno(st), mysql_stmt_error(st));
	}
	if (st != NULL && d->my != NULL) {
		mysql_stmt_free_result(st);
		db_drain(st);
	}
	va_end(ap);
	return rc;
}

int
db_select(db *d, const char *sql, const char *in, ...)
{
	va_list ap;
	int rc;

	va_start(ap, in);
	d->cursor = db_run(d, sql, in, ap, &rc);
	d->cursor_bound = 0;
	va_end(ap);
	return rc;
}

int
db_next(db *d, const char *out, ...)
{
	va_list ap;
	int f, rc;

	if (d->cursor == NULL)
		return MB_ERROR;
	if (!d->cursor_bound) {
		/* first fetch on this cursor: bind and buffer the result */
		if ((rc = db_bind_out(d, d->cursor, out)) != MB_OK)
			return rc;
		d->cursor_bound = 1;
	}
	f = mysql_stmt_fetch(d->cursor);
	if (f == MYSQL_NO_DATA)
		return MB_NONE;
	if (f != 0 && f != MYSQL_DATA_TRUNCATED)
		return db_status(d, mysql_stmt_errno(d->cursor), mysql_stmt_error(d->cursor));
	va_start(ap, out);
	db_copy_out(d, out, &ap);
	va_end(ap);
	return MB_OK;
}

void
db_done(db *d)
{
	if (d->cursor != NULL && d->my != NULL) {
		mysql_stmt_free_result(d->cursor);
		db_drain(d->cursor);
	}
	d->cursor = NULL;
	d->cursor_bound = 0;
}

void
db_ids_json(const int64_t *ids, int n, char *out, size_t cap)
{
	size_t len = 1;
	int i;

	/* cap is DB_IDS_JSON_CAP(n): 20 digits and a comma an id, brackets and NUL */
	out[0] = '[';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "",
		    (long long)ids[i]);
	snprintf(out + len, cap - len, "]");
}
