/*
 * payment handlers. Paying is one transaction: lock the caller's order row,
 * check it is unpaid, insert the payment (one per order, a unique key) and
 * its payment.done event row. Only after COMMIT is the event published, as
 * a hint: the orders-listener confirms the reservation and marks the order
 * paid from the event row whether or not the message arrives. Cancel and
 * expiry take the same row lock and refuse an order that has a payment, so
 * an order ends paid or closed, never both.
 */
#include "auth.h"
#include "bus.h"
#include "inv.h"
#include "log.h"
#include "payment.h"

#include <stdio.h>
#include <string.h>

static int bus = -1;

int
payment_init(void)
{
	bus = bus_pub_open(app_cfg()->bus_url);
	return bus >= 0 ? 0 : -1;
}

static void
payment_already(app_req *r, int64_t order_id, int64_t pay_id)
{
	app_fail_data(r, E_ALREADY_PAID, json_pack("{s:I, s:I}", "orderId", (json_int_t)order_id,
	    "paymentId", (json_int_t)pay_id), "order is already paid");
}

void
payment_pay(app_req *r)
{
	int64_t order_id, price, pay_id, n;
	char state[16];
	bus_event ev = { .state = BUS_STATE_PAID };
	auth_user u;
	db *d = app_db();
	int rc, no_payment;

	if (auth_require(r, &u) != 0 || app_param_id(r, "orderId", &order_id) != 0)
		return;
	if ((rc = db_begin(d)) != DB_OK) {
		app_fail_db(r, rc);
		return;
	}
	rc = db_row(d, "SELECT o.state, o.unit_price, p.id FROM orders o LEFT JOIN payments p "
	    "ON p.order_id = o.id WHERE o.id = ? AND o.user_id = ? FOR UPDATE", "ii", "sin",
	    order_id, u.id, state, sizeof state, &price, &pay_id, &no_payment);
	if (rc != DB_OK) {
		db_rollback(d);
		if (rc == DB_NONE)
			app_fail(r, E_NOT_FOUND, "no such order");
		else
			app_fail_db(r, rc);
		return;
	}
	if (!no_payment) {
		db_rollback(d);
		payment_already(r, order_id, pay_id);
		return;
	}
	if (strcmp(state, "unpaid") != 0) {
		db_rollback(d);
		app_fail(r, E_ORDER_CLOSED, "order is %s; it cannot be paid", state);
		return;
	}
	n = db_exec(d, "INSERT INTO payments (order_id, user_id, amount, created_at) "
	    "VALUES (?, ?, ?, UTC_TIMESTAMP(3))", "iii", order_id, u.id, price);
	if (n < 0)
		goto fail;
	pay_id = db_insert_id(d);
	inv_new_id(ev.id);
	ev.order_id = order_id;
	ev.sent_time = app_now_us() / 1000000;
	snprintf(ev.ref, sizeof ev.ref, "%s", r->ref);
	n = db_exec(d, "INSERT INTO payment_events (id, order_id, payment_id, sent_time, ref) "
	    "VALUES (?, ?, ?, ?, ?)", "siiis", ev.id, order_id, pay_id, ev.sent_time, ev.ref);
	if (n < 0 || (n = db_commit(d)) < 0)
		goto fail;
	if (bus_publish(bus, &ev) != 0)
		log_msg("warn", r->ref, "payment.done for order %lld not published; the listener "
		    "will find it in the database", (long long)order_id);
	app_ok(r, 200, json_pack("{s:I, s:I, s:I, s:s}", "orderId", (json_int_t)order_id,
	    "paymentId", (json_int_t)pay_id, "amount", (json_int_t)price, "state", "paid"));
	return;
fail:
	db_rollback(d);
	app_fail_db(r, (int)n);
}

void
payment_health(app_req *r)
{
	if (db_ping(app_db()) != DB_OK)
		app_fail_data(r, E_UNAVAILABLE, json_pack("{s:s, s:s}", "db", "down", "bus", "ok"),
		    "the database is down");
	else
		app_ok(r, 200, json_pack("{s:s, s:s}", "db", "ok", "bus", "ok"));
}
