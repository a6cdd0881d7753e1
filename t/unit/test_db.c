/*
 * test_db: the parts of lib/db that need no server. db_try_again retries a
 * deadlock victim a bounded number of times and nothing else: not a lock
 * wait that used up the time budget, not a dead server, not a duplicate.
 * db_ids_json writes the id lists bound to JSON_TABLE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "db.h"

static void
test_deadlock_retried_bounded(void **state)
{
	db_try t;
	int tries = 1;

	(void)state;
	db_try_start(&t);
	while (db_try_again(&t, MB_AGAIN))
		tries++;
	assert_int_equal(tries, DB_RETRIES);
}

static void
test_other_statuses_not_retried(void **state)
{
	static const int rcs[] = { MB_OK, MB_NONE, MB_DUP, MB_UNAVAIL, MB_ERROR, 2 };
	db_try t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rcs / sizeof rcs[0]; i++) {
		db_try_start(&t);
		assert_false(db_try_again(&t, rcs[i]));
	}
}

static void
test_slow_conflict_not_retried(void **state)
{
	struct timespec pause = { 0, 520 * 1000000L };
	db_try t;

	(void)state;
	db_try_start(&t);
	nanosleep(&pause, NULL); /* as if the first try waited for a lock */
	assert_false(db_try_again(&t, MB_AGAIN));
}

static void
test_ids_json(void **state)
{
	int64_t ids[] = { 1, 9223372036854775807LL, 42 };
	char out[DB_IDS_JSON_CAP(3)];

	(void)state;
	db_ids_json(ids, 3, out, sizeof out);
	assert_string_equal(out, "[1,9223372036854775807,42]");
	db_ids_json(ids, 0, out, sizeof out);
	assert_string_equal(out, "[]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadlock_retried_bounded),
		cmocka_unit_test(test_other_statuses_not_retried),
		cmocka_unit_test(test_slow_conflict_not_retried),
		cmocka_unit_test(test_ids_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
