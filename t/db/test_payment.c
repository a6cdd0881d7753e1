/*
 * test_payment: paying an order against a real database: the payment, its
 * id in the order row and its payment.done event row are written together;
 * paying again is ALREADY_PAID with the same paymentId; someone else's
 * order is 404; a cancelled one is ORDER_CLOSED and gets no payment. Then
 * the procedures of lib/order.c themselves: a CALL that fails keeps nothing
 * and leaves no transaction open; the same CALL re-sent after its COMMIT
 * (the same event id) is the payment it made; cancel and expiry refuse an
 * order that has a payment. The bus socket is a real PUB socket with
 * nobody listening (publishing is only a hint). And the listener's read of
 * the pending events takes a batch's rows only, however many wait.
 */
#include "tdb.h"
#include "bus.h"
#include "order.h"
#include "../../fcgi/payment/payment.h"
#include "../../daemons/orders-listener/listener.h"

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
	assert_int_equal(count("SELECT payment_id FROM orders WHERE id = ?", order), pay_id);
	assert_int_equal(count("SELECT payment_id FROM payment_events WHERE order_id = ?", order),
	    pay_id);

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

/* 1 while the connection has a transaction open, as the server sees it. */
static int64_t
in_transaction(void)
{
	int64_t n = -1;

	assert_int_equal(db_row(tdb_x.db, "SELECT @@in_transaction", "", "i", &n), MB_OK);
	return n;
}

static void
test_pay_call(void **state)
{
	int64_t uid = tdb_user(tdb_name("pay")), order = tdb_order(uid, ORDER_UNPAID, 700);
	int64_t other = tdb_order(uid, ORDER_UNPAID, 800);
	char ev[37], ev2[37];
	order_info o;

	(void)state;
	snprintf(ev, sizeof ev, "%s", tdb_name("ev-a"));
	snprintf(ev2, sizeof ev2, "%s", tdb_name("ev-b"));
	assert_int_equal(order_pay(tdb_x.db, order, uid, ev, 1, "unit", &o), MB_OK);
	assert_int_equal(o.unit_price, 700);
	assert_string_equal(o.state, ORDER_PAID);
	assert_true(o.payment_id > 0);
	assert_int_equal(in_transaction(), 0);

	/* the same CALL again (its answer lost after the COMMIT): the payment it made */
	int64_t pay_id = o.payment_id;
	assert_int_equal(order_pay(tdb_x.db, order, uid, ev, 1, "unit", &o), MB_OK);
	assert_int_equal(o.payment_id, pay_id);
	/* another request: already paid */
	assert_int_equal(order_pay(tdb_x.db, order, uid, ev2, 1, "unit", &o), MB_DECLINED);
	assert_int_equal(o.payment_id, pay_id);
	assert_int_equal(count("SELECT COUNT(*) FROM payments WHERE order_id = ?", order), 1);

	/*
	 * A CALL that fails half-way (the event id is taken: a duplicate key
	 * after the payment row was written) keeps nothing and leaves no
	 * transaction open on the connection.
	 */
	assert_int_equal(order_pay(tdb_x.db, other, uid, ev, 1, "unit", &o), MB_DUP);
	assert_int_equal(in_transaction(), 0);
	assert_false(db_in_tx(tdb_x.db));
	assert_int_equal(count("SELECT COUNT(*) FROM payments WHERE order_id = ?", other), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM orders WHERE id = ? AND payment_id IS NULL",
	    other), 1);
	assert_int_equal(order_pay(tdb_x.db, other, uid, ev2, 1, "unit", &o), MB_OK);
	assert_int_equal(o.unit_price, 800);

	/* someone else's order, or none: MB_NONE */
	assert_int_equal(order_pay(tdb_x.db, order, uid + 1000000, ev2, 1, "unit", &o), MB_NONE);
	assert_int_equal(order_pay(tdb_x.db, INT64_MAX, uid, ev2, 1, "unit", &o), MB_NONE);
}

static void
test_close_call(void **state)
{
	int64_t uid = tdb_user(tdb_name("cls")), paid = tdb_order(uid, ORDER_UNPAID, 10);
	int64_t open = tdb_order(uid, ORDER_UNPAID, 20), hid = -1;
	char ev[37];
	order_info o;

	(void)state;
	/* paid but not yet applied by the listener: state unpaid, payment_id set */
	snprintf(ev, sizeof ev, "%s", tdb_name("ev-c"));
	assert_int_equal(order_pay(tdb_x.db, paid, uid, ev, 1, "unit", &o), MB_OK);
	assert_string_equal(tdb_order_state(paid), ORDER_UNPAID);
	assert_int_equal(order_close(tdb_x.db, paid, uid, ORDER_CANCELLED, &o), MB_DECLINED);
	assert_string_equal(o.state, ORDER_PAID);
	assert_int_equal(order_close(tdb_x.db, paid, 0, ORDER_EXPIRED, &o), MB_DECLINED);
	assert_string_equal(tdb_order_state(paid), ORDER_UNPAID);

	/* someone else's: none; the expiry (any user) closes it, with what Release needs */
	assert_int_equal(order_close(tdb_x.db, open, uid + 1000000, ORDER_CANCELLED, &o), MB_NONE);
	assert_int_equal(order_close(tdb_x.db, open, 0, ORDER_EXPIRED, &o), MB_OK);
	assert_string_equal(o.state, ORDER_EXPIRED);
	assert_int_equal(o.user_id, uid);
	assert_int_equal(o.unit_price, 20);
	assert_int_equal(o.book_id, 1);
	assert_true(strlen(o.created) == 24 && o.created[23] == 'Z');
	assert_int_equal(db_row(tdb_x.db, "SELECT history_id FROM orders WHERE id = ?", "i", "i",
	    open, &hid), MB_OK);
	assert_int_equal(o.history_id, hid);
	assert_string_equal(tdb_order_state(open), ORDER_EXPIRED);
	/* closed: cancel and pay are refused with its state */
	assert_int_equal(order_close(tdb_x.db, open, uid, ORDER_CANCELLED, &o), MB_DECLINED);
	assert_string_equal(o.state, ORDER_EXPIRED);
	assert_int_equal(order_pay(tdb_x.db, open, uid, tdb_name("ev-d"), 1, "unit", &o),
	    MB_DECLINED);
	assert_int_equal(o.payment_id, 0);
	assert_string_equal(o.state, ORDER_EXPIRED);

	/* only cancelled or expired: anything else is an error, and nothing changed */
	assert_int_equal(order_close(tdb_x.db, paid, uid, ORDER_PAID, &o), MB_ERROR);
	assert_int_equal(in_transaction(), 0);
	assert_string_equal(tdb_order_state(paid), ORDER_UNPAID);
}

static void
test_pending_batch_reads_its_rows(void **state)
{
	int64_t uid = tdb_user(tdb_name("pend")), order, ids[8], hid, u, before, sent, prev = -1;
	char ev[37], ref[80];
	order_info o;
	int i, rows = 0, rc;

	(void)state;
	/* 40 paid orders whose events wait for the listener (which does not run here) */
	for (i = 0; i < 40; i++) {
		order = tdb_order(uid, ORDER_UNPAID, 100 + i);
		snprintf(ev, sizeof ev, "%s", tdb_name("pend-ev"));
		assert_int_equal(order_pay(tdb_x.db, order, uid, ev, 1000 + i, "unit", &o), MB_OK);
	}
	assert_true(count("SELECT COUNT(*) FROM payment_events WHERE applied_at IS NULL "
	    "AND order_id > ?", 0) >= 40);
	/*
	 * A batch of 5: five events, oldest first, read from the index in that
	 * order: a few index entries, not every pending event and a sort.
	 */
	before = tdb_read_next();
	assert_int_equal(db_select(tdb_x.db, LISTENER_PENDING_SQL, "i", (int64_t)5), MB_OK);
	while (rows < 8 && (rc = db_next(tdb_x.db, "iiis", &ids[rows], &hid, &u, ref,
	    sizeof ref)) == MB_OK)
		rows++;
	db_done(tdb_x.db);
	assert_int_equal(rc, MB_NONE);
	assert_int_equal(rows, 5);
	assert_true(tdb_read_next() - before <= 10);
	for (i = 0; i < rows; i++) {
		sent = count("SELECT sent_time FROM payment_events WHERE order_id = ?", ids[i]);
		assert_true(sent >= prev);
		prev = sent;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pay_once),
		cmocka_unit_test(test_pay_refused),
		cmocka_unit_test(test_pay_call),
		cmocka_unit_test(test_close_call),
		cmocka_unit_test(test_pending_batch_reads_its_rows),
	};
	int rc;

	tdb_x.bus = bus_pub_open("ipc:///tmp/microbook-unit-bus.ipc");
	rc = cmocka_run_group_tests(tests, tdb_setup, tdb_teardown);
	nn_close(tdb_x.bus);
	return rc;
}
