/*
 * orders-listener handlers: the SQL that moves an order to paid or expired.
 * Both take the order row lock first (as pay and cancel do), so a payment
 * and an expiry of one order cannot both win.
 */
#include "listener.h"
#include "log.h"
#include "order.h"

#include <stdio.h>

#define LISTENER_BATCH 200

/* Calls the inventory daemon; 0 on success, -1 (logged) otherwise. */
static int
listener_inv(inv_client *inv, inv_method m, int64_t hid, const char *ref)
{
	inv_req q = { .method = m, .history_id = hid };
	char detail[200];
	mb_err err;
	json_t *reply;

	snprintf(q.ref, sizeof q.ref, "%s", ref ? ref : "");
	if ((reply = inv_call(inv, &q, &err, detail, sizeof detail)) == NULL) {
		log_msg(err == E_UNAVAILABLE ? "warn" : "error", ref, "%s history %lld: %s %s",
		    inv_method_name(m), (long long)hid, resp_code_name(err), detail);
		return -1;
	}
	json_decref(reply);
	return 0;
}

int
listener_apply(db *d, inv_client *inv, const char *event_id, const char *ref)
{
	int64_t order_id, hid, n;
	int rc;
	char eref[80];

	db_ref(d, ref);
	rc = db_row(d, "SELECT e.order_id, o.history_id, e.ref FROM payment_events e "
	    "JOIN orders o ON o.id = e.order_id WHERE e.id = ? AND e.applied_at IS NULL", "s", "iis",
	    event_id, &order_id, &hid, eref, sizeof eref);
	if (rc != DB_OK)
		return rc == DB_NONE ? 0 : rc;
	/* The copy is sold first: an order is never paid while its copy is only reserved. */
	if (listener_inv(inv, INV_CONFIRM, hid, eref) != 0)
		return -1;
	if ((rc = db_begin(d)) != DB_OK)
		return rc;
	n = db_exec(d, "UPDATE orders o JOIN payments p ON p.order_id = o.id "
	    "SET o.state = 'paid', o.paid_at = p.created_at WHERE o.id = ? AND o.state = 'unpaid'",
	    "i", order_id);
	if (n >= 0)
		n = db_exec(d, "UPDATE payment_events SET applied_at = UTC_TIMESTAMP(3) "
		    "WHERE id = ? AND applied_at IS NULL", "s", event_id);
	if (n >= 0)
		n = db_commit(d);
	if (n < 0) {
		db_rollback(d);
		return (int)n;
	}
	log_msg("info", eref, "payment.done %s: order %lld paid", event_id, (long long)order_id);
	return 1;
}

int
listener_catch_up(db *d, inv_client *inv)
{
	char ids[LISTENER_BATCH][40], refs[LISTENER_BATCH][80];
	int n = 0, i, failed = 0, rc;

	db_ref(d, "catch-up");
	rc = db_select(d, "SELECT id, ref FROM payment_events WHERE applied_at IS NULL "
	    "ORDER BY sent_time LIMIT 200", "");
	if (rc < 0)
		return 1;
	while (n < LISTENER_BATCH && db_next(d, "ss", ids[n], sizeof ids[n], refs[n],
	    sizeof refs[n]) == DB_OK)
		n++;
	db_done(d);
	for (i = 0; i < n; i++)
		if (listener_apply(d, inv, ids[i], refs[i]) < 0)
			failed++;
	return failed;
}

/* Expires one order if it is still unpaid and has no payment. */
static int
listener_expire_one(db *d, inv_client *inv, int64_t id)
{
	order_lock lk;
	int64_t n;
	int rc;

	if ((rc = order_lock_begin(d, id, 0, &lk)) != DB_OK)
		return rc < 0 ? rc : 0;
	if (!order_lock_open(&lk)) {
		db_rollback(d);
		return 0;
	}
	n = db_exec(d, "UPDATE orders SET state = 'expired' WHERE id = ?", "i", id);
	if (n < 0 || (n = db_commit(d)) < 0) {
		db_rollback(d);
		return (int)n;
	}
	log_msg("info", "expiry", "order %lld expired", (long long)id);
	/* If this fails the inventory sweep releases it: the order is closed. */
	(void)listener_inv(inv, INV_RELEASE, lk.history_id, "expiry");
	return 1;
}

int
listener_expire(db *d, inv_client *inv, int64_t ttl_s)
{
	int64_t ids[LISTENER_BATCH], id;
	int n = 0, i, done = 0, rc;

	db_ref(d, "expiry");
	rc = db_select(d, "SELECT id FROM orders WHERE state = 'unpaid' "
	    "AND created_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND LIMIT 200", "i", ttl_s);
	if (rc < 0)
		return 0;
	while (n < LISTENER_BATCH && db_next(d, "i", &id) == DB_OK)
		ids[n++] = id;
	db_done(d);
	for (i = 0; i < n; i++)
		if (listener_expire_one(d, inv, ids[i]) > 0)
			done++;
	return done;
}
