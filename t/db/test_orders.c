/*
 * test_orders: the orders service's handlers that need no inventory
 * daemon, against a real database: a user's list (newest first, paged,
 * only their own), one order (someone else's is 404), and cancel, whose
 * row lock refuses a paid order. Cancel's release of the reservation goes
 * to an inventory address where nothing listens: it is best effort (the
 * sweep releases it later), so the order is still cancelled and answered.
 * Placing an order (POST /orders/new) is the inventory daemon's Sell, one
 * CALL that makes the whole order: t/db/test_sell.c tests it (the cap on
 * unpaid orders, an Idempotency-Key reused, re-sent requests) and
 * t/e2e/20_orders.sh the whole path on the stack. Here: with no daemon
 * listening an order is a 503 and writes nothing.
 */
#include "tdb.h"
#include "../../fcgi/orders/orders.h"

static void
test_list_paged_and_own(void **state)
{
	int64_t uid = tdb_user(tdb_name("ord")), other = tdb_user(tdb_name("ord"));
	int64_t o1 = tdb_order(uid, ORDER_UNPAID, 100), o2 = tdb_order(uid, ORDER_PAID, 200);
	int64_t o3 = tdb_order(uid, ORDER_UNPAID, 300);
	char cookie[SESSION_MAX_VALUE + 32], form[64];
	app_answer a;
	json_t *d, *list;

	(void)state;
	(void)tdb_order(other, ORDER_UNPAID, 400);
	tdb_session(uid, cookie, sizeof cookie);
	assert_int_equal(tdb_call(orders_list, "limit=2", cookie, NULL, &a), 200);
	d = tdb_data(&a);
	list = json_object_get(d, "orders");
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "orderId")), o3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "orderId")), o2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "state")),
	    ORDER_PAID);
	assert_int_equal(json_integer_value(json_object_get(d, "next")), o2);
	json_decref(d);
	app_answer_free(&a);

	snprintf(form, sizeof form, "limit=2&before=%lld", (long long)o2);
	assert_int_equal(tdb_call(orders_list, form, cookie, NULL, &a), 200);
	d = tdb_data(&a);
	list = json_object_get(d, "orders");
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "orderId")), o1);
	assert_true(json_is_null(json_object_get(d, "next")));
	json_decref(d);
	app_answer_free(&a);

	assert_int_equal(tdb_call(orders_list, "limit=0", cookie, NULL, &a), 400);
	assert_int_equal(a.code, E_INVALID_ARGUMENT);
	app_answer_free(&a);
	assert_int_equal(tdb_call(orders_list, NULL, NULL, NULL, &a), 401);
	app_answer_free(&a);
}

static void
test_get_own_only(void **state)
{
	int64_t uid = tdb_user(tdb_name("ord")), other = tdb_user(tdb_name("ord"));
	int64_t mine = tdb_order(uid, ORDER_UNPAID, 4200), theirs = tdb_order(other, ORDER_UNPAID, 1);
	char cookie[SESSION_MAX_VALUE + 32], arg[24];
	app_answer a;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(arg, sizeof arg, "%lld", (long long)mine);
	assert_int_equal(tdb_call(orders_get, NULL, cookie, arg, &a), 200);
	assert_int_equal(tdb_int(&a, "orderId"), mine);
	assert_int_equal(tdb_int(&a, "unitPrice"), 4200);
	app_answer_free(&a);

	snprintf(arg, sizeof arg, "%lld", (long long)theirs);
	assert_int_equal(tdb_call(orders_get, NULL, cookie, arg, &a), 404);
	assert_string_equal(a.detail, "no such order");
	app_answer_free(&a);

	assert_int_equal(tdb_call(orders_get, NULL, cookie, "01", &a), 400);
	assert_string_equal(a.detail,
	    "field 'orderId' must be a positive decimal integer below 2^63");
	app_answer_free(&a);
}

static void
test_cancel(void **state)
{
	int64_t uid = tdb_user(tdb_name("ord"));
	int64_t open = tdb_order(uid, ORDER_UNPAID, 10), paid = tdb_order(uid, ORDER_PAID, 10);
	char cookie[SESSION_MAX_VALUE + 32], form[64];
	app_answer a;
	json_t *d;

	(void)state;
	assert_non_null(tdb_x.inv = inv_client_new("ipc:///tmp/microbook-unit-nobody.ipc", 200));
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(form, sizeof form, "orderId=%lld", (long long)open);
	assert_int_equal(tdb_call(orders_cancel, form, cookie, NULL, &a), 200);
	assert_non_null(d = tdb_data(&a));
	assert_string_equal(json_string_value(json_object_get(d, "state")), ORDER_CANCELLED);
	assert_int_equal(tdb_int(&a, "orderId"), open);
	assert_int_equal(tdb_int(&a, "bookId"), 1);
	assert_int_equal(tdb_int(&a, "unitPrice"), 10);
	assert_non_null(json_string_value(json_object_get(d, "createdAt")));
	assert_true(json_is_null(json_object_get(d, "paidAt")));
	json_decref(d);
	assert_string_equal(tdb_order_state(open), ORDER_CANCELLED);
	app_answer_free(&a);

	/* a closed order stays as it is */
	assert_int_equal(tdb_call(orders_cancel, form, cookie, NULL, &a), 409);
	assert_string_equal(a.detail, "order is cancelled; it cannot be cancelled");
	app_answer_free(&a);
	snprintf(form, sizeof form, "orderId=%lld", (long long)paid);
	assert_int_equal(tdb_call(orders_cancel, form, cookie, NULL, &a), 409);
	assert_int_equal(a.code, E_ORDER_CLOSED);
	assert_string_equal(tdb_order_state(paid), ORDER_PAID);
	app_answer_free(&a);
	assert_false(db_in_tx(tdb_x.db));
	inv_client_free(tdb_x.inv);
	tdb_x.inv = NULL;
}

static int64_t
tdb_orders_of(int64_t uid)
{
	int64_t n;

	assert_int_equal(db_row(tdb_x.db, "SELECT COUNT(*) FROM orders WHERE user_id = ?", "i", "i",
	    uid, &n), MB_OK);
	return n;
}

/*
 * POST /orders/new asks only the inventory daemon (its Sell makes the
 * order; t/db/test_sell.c): with none listening it is 503 within the
 * client's deadline, and nothing is written. A malformed Idempotency-Key
 * is refused before anything is asked.
 */
static void
test_new_without_daemon(void **state)
{
	int64_t uid = tdb_user(tdb_name("new")), t0;
	char cookie[SESSION_MAX_VALUE + 32];
	app_answer a;

	(void)state;
	assert_non_null(tdb_x.inv = inv_client_new("ipc:///tmp/microbook-unit-nobody.ipc", 200));
	tdb_session(uid, cookie, sizeof cookie);
	t0 = clock_mono_ms();
	assert_int_equal(tdb_call(orders_new, "bookId=1", cookie, NULL, &a), 503);
	assert_true(clock_mono_ms() - t0 < 1000);
	assert_int_equal(a.code, E_UNAVAILABLE);
	app_answer_free(&a);
	tdb_idem = "k\x01";
	assert_int_equal(tdb_call(orders_new, "bookId=1", cookie, NULL, &a), 400);
	assert_string_equal(a.detail, "header 'Idempotency-Key' must be 1-64 printable ASCII "
	    "characters");
	app_answer_free(&a);
	tdb_idem = NULL;
	assert_int_equal(tdb_call(orders_new, "bookId=0", cookie, NULL, &a), 400);
	app_answer_free(&a);
	assert_int_equal(tdb_call(orders_new, "bookId=1", NULL, NULL, &a), 401);
	app_answer_free(&a);
	assert_int_equal(tdb_orders_of(uid), 0);
	assert_false(db_in_tx(tdb_x.db));
	inv_client_free(tdb_x.inv);
	tdb_x.inv = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_paged_and_own),
		cmocka_unit_test(test_get_own_only),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_new_without_daemon),
	};

	return cmocka_run_group_tests(tests, tdb_setup, tdb_teardown);
}
