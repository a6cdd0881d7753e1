/*
 * payment handlers. Paying is one transaction: lock the caller's order row,
 * check it is unpaid, insert the payment (one per order, a unique key) and
 * its payment.done event row. Only after COMMIT is the event published, as
 * a hint: the orders-listener confirms the reservation and marks the order
 * paid from the event row whether or not the message arrives. Cancel and
 * expiry take the same row lock and refuse an order that has a payment, so
 * an order ends paid or closed, never both.
 */
#include "bus.h"
#include "clock.h"
#include "inv.h"
#include "log.h"
#include "order.h"
#include "payment.h"
#include "states.h"

#include <stdio.h>

int
payment_init(app_ctx *x)
{
	x->bus = bus_pub_open(x->cfg->bus_url);
	return x->bus >= 0 ? MB_OK : MB_ERROR;
}

static int
payment_already(app_answer *a, int64_t order_id, int64_t pay_id)
{
	return app_fail_data(a, E_ALREADY_PAID, json_pack("{s:I, s:I}", "orderId", (json_int_t)order_id,
	    "paymentId", (json_int_t)pay_id), "order is already paid");
}

/*
 * The payment transaction: MB_OK committed (*pay_id, *ev set), MB_NONE no
 * such order of this user, MB_DECLINED (lk says why), or an error
 * (rolled back).
 */
static int
pay_tx(db *d, const app_req *r, int64_t uid, int64_t order_id, order_lock *lk, int64_t *pay_id,
    bus_event *ev)
{
	int64_t n;
	int rc;

	if ((rc = order_lock_begin(d, order_id, uid, lk)) != MB_OK)
		return rc;
	n = db_exec(d, "INSERT INTO payments (order_id, user_id, amount, created_at) "
	    "VALUES (?, ?, ?, UTC_TIMESTAMP(3))", "iii", order_id, uid, lk->unit_price);
	if (n < 0)
		goto fail;
	*pay_id = db_insert_id(d);
	/* the order row itself: what makes a cancel on another Galera node conflict */
	if ((n = db_exec(d, "UPDATE orders SET payment_id = ? WHERE id = ?", "ii", *pay_id,
	    order_id)) < 0)
		goto fail;
	inv_new_id(ev->id);
	ev->order_id = order_id;
	ev->sent_time = clock_wall_us() / 1000000;
	snprintf(ev->ref, sizeof ev->ref, "%s", r->ref);
	n = db_exec(d, "INSERT INTO payment_events (id, order_id, payment_id, sent_time, ref) "
	    "VALUES (?, ?, ?, ?, ?)", "siiis", ev->id, order_id, *pay_id, ev->sent_time, ev->ref);
	if (n >= 0 && (n = db_commit(d)) >= 0)
		return MB_OK;
fail:
	db_rollback(d);
	return (int)n;
}

int
payment_pay(app_ctx *x, const app_req *r, app_answer *a)
{
	bus_event ev = { .state = BUS_STATE_PAID };
	int64_t order_id, pay_id = 0;
	order_lock lk;
	auth_user u;
	db_try t;
	int rc;

	if (app_auth(x, r, a, &u) != MB_OK || app_param_id(r, a, "orderId", &order_id) != MB_OK)
		return a->status;
	/* A deadlock victim (a pay meeting a cancel or the listener) runs again. */
	db_try_start(&t);
	do
		rc = pay_tx(x->db, r, u.id, order_id, &lk, &pay_id, &ev);
	while (db_try_again(&t, rc));
	if (rc == MB_DECLINED)
		return lk.payment_id ? payment_already(a, order_id, lk.payment_id)
		    : app_fail(a, E_ORDER_CLOSED, "order is %s; it cannot be paid", lk.state);
	if (rc != MB_OK)
		return app_fail_lookup(a, rc, "order");
	if (bus_publish(x->bus, &ev) != MB_OK)
		log_msg("warn", r->ref, "payment.done for order %lld not published; the listener "
		    "will find it in the database", (long long)order_id);
	return app_ok(a, 200, json_pack("{s:I, s:I, s:I, s:s}", "orderId", (json_int_t)order_id,
	    "paymentId", (json_int_t)pay_id, "amount", (json_int_t)lk.unit_price, "state", ORDER_PAID));
}

