/*
 * payment handlers. Paying is one transaction in one round trip (order_pay:
 * a stored procedure): lock the caller's order row, check it is unpaid,
 * insert the payment (one per order, a unique key), write its id into the
 * order row and record the payment.done event. Only after COMMIT is the
 * event published, as a hint: the orders-listener confirms the reservation
 * and marks the order paid from the event row whether or not the message
 * arrives. Cancel and expiry take the same row lock and refuse an order
 * that has a payment, so an order ends paid or closed, never both.
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

int
payment_pay(app_ctx *x, const app_req *r, app_answer *a)
{
	bus_event ev = { .state = BUS_STATE_PAID };
	int64_t order_id;
	order_info o;
	auth_user u;
	int rc;

	if (app_auth(x, r, a, &u) != MB_OK || app_param_id(r, a, "orderId", &order_id) != MB_OK)
		return a->status;
	/* the event is named here and recorded by the transaction, then published */
	inv_new_id(ev.id);
	ev.order_id = order_id;
	ev.sent_time = clock_wall_us() / 1000000;
	snprintf(ev.ref, sizeof ev.ref, "%s", r->ref);
	rc = order_pay(x->db, order_id, u.id, ev.id, ev.sent_time, ev.ref, &o);
	if (rc == MB_DECLINED)
		return o.payment_id ? payment_already(a, order_id, o.payment_id)
		    : app_fail(a, E_ORDER_CLOSED, "order is %s; it cannot be paid", o.state);
	if (rc != MB_OK)
		return app_fail_lookup(a, rc, "order");
	if (bus_publish(x->bus, &ev) != MB_OK)
		log_msg("warn", r->ref, "payment.done for order %lld not published; the listener "
		    "will find it in the database", (long long)order_id);
	return app_ok(a, 200, json_pack("{s:I, s:I, s:I, s:s}", "orderId", (json_int_t)order_id,
	    "paymentId", (json_int_t)o.payment_id, "amount", (json_int_t)o.unit_price,
	    "state", ORDER_PAID));
}
