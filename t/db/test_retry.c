/*
 * test_retry: how often lib/db runs a statement that lost a deadlock (or,
 * on Galera, certification: the same 1213), against a real server. A
 * statement of its own (autocommit) is run once more by db_run itself; a
 * CALL is not, since a procedure is a transaction its callers run again in
 * a db_try loop (db.h): DB_RETRIES tries in all, not twice that.
 *
 * The "conflicts" are made on purpose: a procedure and a function that
 * count each run in a non-transactional (MyISAM) table, which a rollback
 * leaves alone, and then raise error 1213.
 */
#include "tdb.h"

#include <mysql.h>

/* DDL on a connection of its own (these are not preparable statements). */
static void
ddl(const char *sql)
{
	const cfg *c = tdb_x.cfg;
	MYSQL *m = mysql_init(NULL);

	assert_non_null(m);
	if (mysql_real_connect(m, NULL, c->db_user, c->db_pass, c->db_name, 0, c->db_socket,
	    0) == NULL || mysql_query(m, sql) != 0)
		fail_msg("%s: %s", sql, mysql_error(m));
	mysql_close(m);
}

static int
setup(void **state)
{
	if (tdb_setup(state) != 0)
		return -1;
	ddl("CREATE OR REPLACE TABLE t_runs (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=MyISAM");
	ddl("CREATE OR REPLACE PROCEDURE t_conflict() BEGIN INSERT INTO t_runs () VALUES (); "
	    "SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'test: a conflict'; END");
	ddl("CREATE OR REPLACE FUNCTION t_conflict_f() RETURNS INT BEGIN INSERT INTO t_runs () "
	    "VALUES (); SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = "
	    "'test: a conflict'; RETURN 0; END");
	return 0;
}

static int
teardown(void **state)
{
	int rc = tdb_teardown(state); /* first: its connection holds the routines' locks */

	ddl("DROP PROCEDURE IF EXISTS t_conflict");
	ddl("DROP FUNCTION IF EXISTS t_conflict_f");
	ddl("DROP TABLE IF EXISTS t_runs");
	return rc;
}

static int64_t
runs(void)
{
	int64_t n = -1;

	assert_int_equal(db_row(tdb_x.db, "SELECT COUNT(*) FROM t_runs", "", "i", &n), MB_OK);
	assert_true(db_exec(tdb_x.db, "DELETE FROM t_runs", "") >= 0);
	return n;
}

static void
test_call_tried_by_its_caller_only(void **state)
{
	db_try t;
	int64_t rc;

	(void)state;
	(void)runs();
	db_try_start(&t);
	do
		rc = db_exec(tdb_x.db, "CALL t_conflict()", "");
	while (db_try_again(&t, (int)rc));
	assert_int_equal(rc, MB_AGAIN);
	assert_int_equal(runs(), DB_RETRIES);
	assert_false(db_in_tx(tdb_x.db));
}

static void
test_statement_of_its_own_once_more(void **state)
{
	(void)state;
	(void)runs();
	assert_int_equal(db_exec(tdb_x.db, "SET @t_retry = t_conflict_f()", ""), MB_AGAIN);
	assert_int_equal(runs(), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_tried_by_its_caller_only),
		cmocka_unit_test(test_statement_of_its_own_once_more),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
