/*
 * test_orders: the orders service's handlers that need no inventory
 * daemon, against a real database: a user's list (newest first, paged,
 * only their own), one order (someone else's is 404), and cancel, whose
 * row lock refuses a paid order. Cancel's release of the reservation goes
 * to an inventory address where nothing listens: it is best effort (the
 * sweep releases it later), so the order is still cancelled and answered.
 * Placing an order (POST /orders/new) needs the daemon and its database to
 * be the same as this one's; t/e2e/20_orders.sh covers it on the stack. What
 * orders_new refuses before it asks the daemon is tested here: the cap on
 * unpaid orders (MAX_OPEN_ORDERS) and an Idempotency-Key reused for another
 * book; with no daemon listening, an order that passes both is a 503.
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

	(void)state;
	assert_non_null(tdb_x.inv = inv_client_new("ipc:///tmp/microbook-unit-nobody.ipc", 200));
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(form, sizeof form, "orderId=%lld", (long long)open);
	assert_int_equal(tdb_call(orders_cancel, form, cookie, NULL, &a), 200);
	assert_string_equal(json_string_value(json_object_get(a.data, "state")), ORDER_CANCELLED);
	assert_int_equal(tdb_int(&a, "orderId"), open);
	assert_int_equal(tdb_int(&a, "bookId"), 1);
	assert_int_equal(tdb_int(&a, "unitPrice"), 10);
	assert_non_null(json_string_value(json_object_get(a.data, "createdAt")));
	assert_true(json_is_null(json_object_get(a.data, "paidAt")));
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

static void
test_open_orders_cap(void **state)
{
	int64_t uid = tdb_user(tdb_name("cap")), i;
	const cfg *was = tdb_x.cfg;
	char cookie[SESSION_MAX_VALUE + 32];
	app_answer a;
	cfg c = *was;

	(void)state;
	c.max_open_orders = 5;
	tdb_x.cfg = &c;
	assert_non_null(tdb_x.inv = inv_client_new("ipc:///tmp/microbook-unit-nobody.ipc", 200));
	tdb_session(uid, cookie, sizeof cookie);
	for (i = 0; i < 4; i++)
		(void)tdb_order(uid, ORDER_UNPAID, 10);
	(void)tdb_order(uid, ORDER_PAID, 10);       /* closed orders do not count */
	(void)tdb_order(uid, ORDER_CANCELLED, 10);
	/* 4 open: allowed, so it asks the daemon, which is not there */
	assert_int_equal(tdb_call(orders_new, "bookId=1", cookie, NULL, &a), 503);
	app_answer_free(&a);
	(void)tdb_order(uid, ORDER_UNPAID, 10);
	assert_int_equal(tdb_call(orders_new, "bookId=1", cookie, NULL, &a), 409);
	assert_int_equal(a.code, E_TOO_MANY_OPEN_ORDERS);
	assert_string_equal(a.detail, "you have 5 unpaid orders, the most one account may hold; "
	    "pay or cancel one first");
	app_answer_free(&a);
	assert_int_equal(tdb_orders_of(uid), 7);
	/* 0: no cap */
	c.max_open_orders = 0;
	assert_int_equal(tdb_call(orders_new, "bookId=1", cookie, NULL, &a), 503);
	app_answer_free(&a);
	assert_false(db_in_tx(tdb_x.db));
	inv_client_free(tdb_x.inv);
	tdb_x.inv = NULL;
	tdb_x.cfg = was;
}

static void
test_idempotency_key_reused(void **state)
{
	int64_t uid = tdb_user(tdb_name("idem")), id = tdb_order(uid, ORDER_UNPAID, 10);
	char cookie[SESSION_MAX_VALUE + 32];
	app_answer a;

	(void)state;
	assert_int_equal(db_exec(tdb_x.db, "UPDATE orders SET idem_key = 'k-1' WHERE id = ?", "i",
	    id), 1);
	tdb_session(uid, cookie, sizeof cookie);
	tdb_idem = "k-1";
	/* the same key and book: the first order again */
	assert_int_equal(tdb_call(orders_new, "bookId=1", cookie, NULL, &a), 200);
	assert_int_equal(tdb_int(&a, "orderId"), id);
	app_answer_free(&a);
	/* the same key, another book: refused, nothing written */
	assert_int_equal(tdb_call(orders_new, "bookId=3", cookie, NULL, &a), 422);
	assert_int_equal(a.code, E_IDEMPOTENCY_KEY_REUSED);
	assert_string_equal(a.detail, "this Idempotency-Key was used for an order of book 1; "
	    "use a new key for another order");
	app_answer_free(&a);
	assert_int_equal(tdb_orders_of(uid), 1);
	tdb_idem = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_paged_and_own),
		cmocka_unit_test(test_get_own_only),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_open_orders_cap),
		cmocka_unit_test(test_idempotency_key_reused),
	};

	return cmocka_run_group_tests(tests, tdb_setup, tdb_teardown);
}
