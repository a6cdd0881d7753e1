/*
 * test_payment: paying an order against a real database: the payment and
 * its payment.done event row are written together; paying again is
 * ALREADY_PAID with the same paymentId; someone else's order is 404; a
 * cancelled one is ORDER_CLOSED and gets no payment. The bus socket is a
 * real PUB socket with nobody listening (publishing is only a hint).
 */
#include "tdb.h"
#include "bus.h"
#include "../../fcgi/payment/payment.h"

#include <nanomsg/nn.h>

static int64_t
count(const char *sql, int64_t id)
{
	int64_t n = -1;

	assert_int_equal(db_row(tdb_x.db, sql, "i", "i", id, &n), MB_OK);
	return n;
}

static void
test_pay_once(void **state)
{
	int64_t uid = tdb_user(tdb_name("pay")), order = tdb_order(uid, ORDER_UNPAID, 4200);
	char cookie[SESSION_MAX_VALUE + 32], form[64];
	app_answer a;
	int64_t pay_id;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(form, sizeof form, "orderId=%lld", (long long)order);
	assert_int_equal(tdb_call(payment_pay, form, cookie, NULL, &a), 200);
	assert_int_equal(tdb_int(&a, "orderId"), order);
	assert_int_equal(tdb_int(&a, "amount"), 4200);
	assert_string_equal(json_string_value(json_object_get(a.data, "state")), ORDER_PAID);
	pay_id = tdb_int(&a, "paymentId");
	app_answer_free(&a);
	assert_int_equal(count("SELECT COUNT(*) FROM payments WHERE order_id = ?", order), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM payment_events WHERE order_id = ? "
	    "AND applied_at IS NULL", order), 1);
	assert_int_equal(count("SELECT amount FROM payments WHERE order_id = ?", order), 4200);

	assert_int_equal(tdb_call(payment_pay, form, cookie, NULL, &a), 409);
	assert_int_equal(a.code, E_ALREADY_PAID);
	assert_int_equal(json_integer_value(json_object_get(a.data, "paymentId")), pay_id);
	app_answer_free(&a);
	assert_int_equal(count("SELECT COUNT(*) FROM payments WHERE order_id = ?", order), 1);
	assert_false(db_in_tx(tdb_x.db));
}

static void
test_pay_refused(void **state)
{
	int64_t uid = tdb_user(tdb_name("pay")), other = tdb_user(tdb_name("pay"));
	int64_t theirs = tdb_order(other, ORDER_UNPAID, 1);
	int64_t closed = tdb_order(uid, ORDER_CANCELLED, 1);
	char cookie[SESSION_MAX_VALUE + 32], form[64];
	app_answer a;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(form, sizeof form, "orderId=%lld", (long long)theirs);
	assert_int_equal(tdb_call(payment_pay, form, cookie, NULL, &a), 404);
	assert_string_equal(a.detail, "no such order");
	app_answer_free(&a);

	snprintf(form, sizeof form, "orderId=%lld", (long long)closed);
	assert_int_equal(tdb_call(payment_pay, form, cookie, NULL, &a), 409);
	assert_string_equal(a.detail, "order is cancelled; it cannot be paid");
	app_answer_free(&a);
	assert_int_equal(count("SELECT COUNT(*) FROM payments WHERE order_id = ?", closed), 0);

	assert_int_equal(tdb_call(payment_pay, "orderId=x", cookie, NULL, &a), 400);
	assert_int_equal(a.code, E_INVALID_ARGUMENT);
	app_answer_free(&a);
	assert_int_equal(tdb_call(payment_pay, form, NULL, NULL, &a), 401);
	app_answer_free(&a);
	assert_false(db_in_tx(tdb_x.db));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pay_once),
		cmocka_unit_test(test_pay_refused),
	};
	int rc;

	tdb_x.bus = bus_pub_open("ipc:///tmp/microbook-unit-bus.ipc");
	rc = cmocka_run_group_tests(tests, tdb_setup, tdb_teardown);
	nn_close(tdb_x.bus);
	return rc;
}
