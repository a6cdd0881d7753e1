/*
 * tdb: what the database-backed unit tests of t/db/ share. They call the
 * real handlers and the real auth check against a real MariaDB: a database
 * of their own (DB_NAME, microbook_unit under `make check`), made from
 * the files of sql/ by scripts/check.sh on the e2e stack's server before these run.
 * The settings come from the environment as for any process (cfg.h), so
 * without DB_SOCKET/DB_NAME pointing at such a database every test fails.
 */
#ifndef MB_TDB_H
#define MB_TDB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "session.h"
#include "states.h"

static app_ctx tdb_x = { .bus = -1 };
static app_req tdb_r;
static const char *tdb_idem; /* the Idempotency-Key header tdb_call sends, or NULL */

/* The context every test of the binary uses: settings, keys, the database. */
static inline int
tdb_setup(void **state)
{
	(void)state;
	tdb_x.cfg = cfg_load();
	if (session_keys(tdb_x.cfg->session_keys, tdb_x.cfg->session_nkeys) != MB_OK) {
		fprintf(stderr, "tdb: no usable SESSION_KEYS\n");
		return -1;
	}
	if ((tdb_x.db = db_new(tdb_x.cfg, "unit")) == NULL || db_ping(tdb_x.db) != MB_OK) {
		fprintf(stderr, "tdb: no test database (DB_SOCKET=%s DB_NAME=%s); "
		    "scripts/check.sh makes one\n", tdb_x.cfg->db_socket, tdb_x.cfg->db_name);
		return -1;
	}
	return 0;
}

static inline int
tdb_teardown(void **state)
{
	(void)state;
	db_free(tdb_x.db);
	return 0;
}

/* A name no earlier run used: prefix, this process and a counter. */
static inline const char *
tdb_name(const char *prefix)
{
	static char buf[8][21];
	static int n;
	char *s = buf[n % 8];

	snprintf(s, sizeof buf[0], "%.6s%d_%d", prefix, (int)getpid() % 100000, n++);
	return s;
}

/*
 * Calls handler fn as the loop would: `form` is the body or query string
 * (NULL: none), `cookie` the Cookie header, `arg` the /:id segment. Returns
 * the status it returned; the answer is in *a (app_answer_free it).
 */
static inline int
tdb_call(app_handler fn, const char *form, const char *cookie, const char *arg, app_answer *a)
{
	char detail[256];

	memset(&tdb_r, 0, sizeof tdb_r);
	req_params_reset(&tdb_r.params);
	tdb_r.method = "POST";
	tdb_r.path = "/unit";
	tdb_r.ref = "unit-test";
	tdb_r.cookie = cookie;
	tdb_r.path_arg = arg;
	tdb_r.idem_key = tdb_idem;
	if (form != NULL)
		assert_int_equal(req_parse_form(&tdb_r.params, form, strlen(form), detail,
		    sizeof detail), MB_OK);
	app_answer_init(a, tdb_r.ref);
	return fn(&tdb_x, &tdb_r, a);
}

/* The answer's data as JSON (a new reference), whether built or kept as text. */
static inline json_t *
tdb_data(const app_answer *a)
{
	if (a->raw != NULL)
		return json_loads(a->raw, 0, NULL);
	return json_incref(a->data);
}

static inline int64_t
tdb_int(const app_answer *a, const char *key)
{
	json_t *d = tdb_data(a);
	int64_t v;

	assert_non_null(d);
	v = (int64_t)json_integer_value(json_object_get(d, key));
	json_decref(d);
	return v;
}

/* The "mb_session=..." pair of the answer's Set-Cookie, into out ("" when none). */
static inline void
tdb_cookie(const app_answer *a, char *out, size_t cap)
{
	const char *s = strstr(a->headers, "Set-Cookie: ");
	size_t n;

	out[0] = '\0';
	if (s == NULL)
		return;
	s += strlen("Set-Cookie: ");
	n = strcspn(s, ";\r");
	if (n < cap) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
}

/* A user (a row; its password is never checked here); its id. */
static inline int64_t
tdb_user(const char *name)
{
	assert_int_equal(db_exec(tdb_x.db, "INSERT INTO users (name, pwd_hash, created_at) "
	    "VALUES (?, 'x', UTC_TIMESTAMP(3))", "s", name), 1);
	return db_insert_id(tdb_x.db);
}

/* A session of uid, as login opens it (auth.c); its cookie pair into out. */
static inline void
tdb_session(int64_t uid, char *out, size_t cap)
{
	char set[SESSION_MAX_VALUE + 128];
	session s;

	assert_int_equal(auth_login(tdb_x.db, tdb_x.cfg, uid, clock_wall_us() / 1000000, &s),
	    MB_OK);
	assert_true(auth_cookie(tdb_x.cfg, &s, clock_wall_us() / 1000000, set, sizeof set) > 0);
	assert_true(strcspn(set, ";") < cap);
	snprintf(out, cap, "%.*s", (int)strcspn(set, ";"), set);
}

/* An order of uid in `state` on book 1, with its reservation; its id. */
static inline int64_t
tdb_order(int64_t uid, const char *state, int64_t price)
{
	char req_id[37];
	int64_t hid;

	snprintf(req_id, sizeof req_id, "unit-%d-%lld", (int)getpid(),
	    (long long)clock_mono_us());
	assert_true(db_exec(tdb_x.db, "INSERT INTO inventory_history (book_id, user_id, state, "
	    "req_id, created_at, updated_at) VALUES (1, ?, " HIST_RESERVED_SQL ", ?, "
	    "UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))", "is", uid, req_id) == 1);
	hid = db_insert_id(tdb_x.db);
	assert_true(db_exec(tdb_x.db, "INSERT INTO orders (user_id, book_id, unit_price, history_id, "
	    "state, created_at) VALUES (?, 1, ?, ?, ?, UTC_TIMESTAMP(3))", "iiis", uid, price, hid,
	    state) == 1);
	return db_insert_id(tdb_x.db);
}

/* This connection's count of index entries read in order (Handler_read_next): what a scan read. */
static inline int64_t
tdb_read_next(void)
{
	int64_t n = -1;

	assert_int_equal(db_row(tdb_x.db, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
	    "WHERE VARIABLE_NAME = 'HANDLER_READ_NEXT'", "", "i", &n), MB_OK);
	return n;
}

/* The state of order id, as the database has it. */
static inline const char *
tdb_order_state(int64_t id)
{
	static char state[16];

	assert_int_equal(db_row(tdb_x.db, "SELECT state FROM orders WHERE id = ?", "i", "s", id,
	    state, sizeof state), MB_OK);
	return state;
}

#endif
