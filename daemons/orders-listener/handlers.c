/*
 * orders-listener handlers: the SQL that moves an order to paid or expired.
 * Expiry is order_close (order.h), which takes the order row lock first as
 * pay and cancel do, so a payment and an expiry of one order cannot both
 * win; marking paid touches only orders that have a payment.
 */
#include "epoch.h"
#include "listener.h"
#include "log.h"
#include "order.h"
#include "states.h"

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

/*
 * One batch of recorded, unapplied payment.done events: their reservations
 * are confirmed (sold) in one call, then their orders are marked paid and
 * the events applied in one statement: four statements to the database
 * (this one's read and UPDATE, the daemon's two) and one call to the daemon
 * a batch, however many events it carries. Returns how many were applied, or
 * < 0 when the batch must be tried again later.
 */
static int
listener_apply_batch(db *d, inv_client *inv)
{
	inv_req q = { .method = INV_CONFIRM };
	int64_t order_ids[INV_MAX_BATCH], paid_ids[INV_MAX_BATCH], user_ids[INV_MAX_BATCH];
	int64_t order_id, hid, uid, n;
	char ids[DB_IDS_JSON_CAP(INV_MAX_BATCH)], detail[200], refs[INV_MAX_BATCH][80];
	int paid[INV_MAX_BATCH];
	json_t *reply, *not_sold, *v;
	size_t k;
	mb_err err;
	int count = 0, npaid = 0, i, rc, skipped;

	rc = db_select(d, LISTENER_PENDING_SQL, "i", (int64_t)INV_MAX_BATCH);
	if (rc < 0)
		return rc;
	while (count < INV_MAX_BATCH && (rc = db_next(d, "iiis", &order_id, &hid, &uid,
	    refs[count], sizeof refs[count])) == MB_OK) {
		order_ids[count] = order_id;
		user_ids[count] = uid;
		q.history_ids[count++] = hid;
	}
	db_done(d);
	if (rc < 0 || count == 0)
		return rc < 0 ? rc : 0;
	q.nhistory = count;
	/* The copies are sold first: an order is never paid while its copy is only reserved. */
	snprintf(q.ref, sizeof q.ref, "payment.done");
	if ((reply = inv_call(inv, &q, &err, detail, sizeof detail)) == NULL) {
		log_msg("warn", "payment.done", "Confirm of %d reservations: %s %s", count,
		    resp_code_name(err), detail);
		return -1;
	}
	not_sold = json_object_get(reply, "notSold");
	for (i = 0; i < count; i++) {
		skipped = 0;
		json_array_foreach(not_sold, k, v)
			if (json_integer_value(v) == q.history_ids[i])
				skipped = 1;
		paid[i] = !skipped;
		if (skipped) {
			log_msg("error", refs[i], "order %lld is paid but its reservation %lld "
			    "is not sold; left for an operator", (long long)order_ids[i],
			    (long long)q.history_ids[i]);
			continue;
		}
		paid_ids[npaid++] = order_ids[i];
	}
	db_ids_json(paid_ids, npaid, ids, sizeof ids);
	json_decref(reply);
	/*
	 * One statement, its own transaction: the orders marked paid and their
	 * events applied together. STRAIGHT_JOIN from the id list: the rows are
	 * found by primary key, so only this batch's orders are locked. Left to
	 * itself the optimizer scanned every unpaid order through orders_state
	 * and locked them all, stalling pays and cancels of unrelated orders and
	 * deadlocking with a cancel (which takes the order row, then the
	 * orders_state entry, the other way round). An order here has a payment,
	 * so it is unpaid or already paid (the row lock of pay, cancel and expiry
	 * sees to that); paid_at is its payment's time either way.
	 */
	n = db_exec(d, "UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j "
	    "STRAIGHT_JOIN orders o ON o.id = j.id STRAIGHT_JOIN payments p ON p.id = o.payment_id "
	    "STRAIGHT_JOIN payment_events e ON e.order_id = o.id "
	    "SET o.state = " ORDER_PAID_SQL ", o.paid_at = p.created_at, "
	    "e.applied_at = UTC_TIMESTAMP(3) "
	    "WHERE e.applied_at IS NULL AND o.state IN (" ORDER_UNPAID_SQL ", " ORDER_PAID_SQL ")",
	    "s", ids);
	if (n < 0)
		return (int)n;
	for (i = 0; i < count; i++)
		if (paid[i]) {
			epoch_bump(epoch_user(user_ids[i])); /* their order lists changed */
			log_msg("info", refs[i], "payment.done: order %lld paid",
			    (long long)order_ids[i]);
		}
	return count;
}

int
listener_catch_up(db *d, inv_client *inv)
{
	int n;

	db_ref(d, "payment.done");
	/* a full batch means there may be more waiting */
	while ((n = listener_apply_batch(d, inv)) == INV_MAX_BATCH)
		;
	return n < 0 ? n : MB_OK;
}

/* Expires one order if it is still unpaid and has no payment: 1, 0 (not open), or < 0. */
static int
listener_expire_one(db *d, inv_client *inv, int64_t id)
{
	order_info o;
	int rc;

	/* one round trip: locked, checked, expired and committed (order.h) */
	if ((rc = order_close(d, id, 0, ORDER_EXPIRED, &o)) != MB_OK)
		return rc < 0 ? rc : 0; /* gone, or paid or closed meanwhile */
	epoch_bump(epoch_user(o.user_id));
	log_msg("info", "expiry", "order %lld expired", (long long)id);
	/* If this fails the inventory sweep releases it: the order is closed. */
	(void)listener_inv(inv, INV_RELEASE, o.history_id, "expiry");
	return 1;
}

int
listener_expire(db *d, inv_client *inv, int64_t ttl_s)
{
	int64_t ids[LISTENER_BATCH], id;
	int n = 0, i, done = 0, rc;

	db_ref(d, "expiry");
	/* a failure is returned, not logged: the caller logs it once and tries again later */
	rc = db_select(d, "SELECT id FROM orders WHERE state = " ORDER_UNPAID_SQL
	    " AND created_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND LIMIT ?", "ii", ttl_s,
	    (int64_t)LISTENER_BATCH);
	if (rc < 0)
		return rc;
	while (n < LISTENER_BATCH && (rc = db_next(d, "i", &id)) == MB_OK)
		ids[n++] = id;
	db_done(d);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = listener_expire_one(d, inv, ids[i])) < 0)
			return rc;
		done += rc;
	}
	return done;
}

int
listener_purge_sessions(db *d, int64_t max_age_s)
{
	int64_t n;

	/* past SESSION_MAX a cookie is refused anyway, revoked or not: the row is dead weight */
	db_ref(d, "purge");
	n = db_exec(d, "DELETE FROM sessions WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND "
	    "LIMIT ?", "ii", max_age_s, (int64_t)LISTENER_PURGE_BATCH);
	if (n > 0)
		log_msg("info", "purge", "removed %lld sessions older than %llds", (long long)n,
		    (long long)max_age_s);
	return (int)n;
}

int
listener_purge_login_failures(db *d, int64_t window_s)
{
	int64_t n;

	/* a name nobody tried for two windows and not blocked now: its count is over */
	db_ref(d, "purge");
	n = db_exec(d, "DELETE FROM login_failures WHERE window_start < UTC_TIMESTAMP(3) - "
	    "INTERVAL ? SECOND AND (blocked_until IS NULL OR blocked_until < UTC_TIMESTAMP(3)) "
	    "LIMIT ?", "ii", 2 * window_s, (int64_t)LISTENER_PURGE_BATCH);
	if (n > 0)
		log_msg("info", "purge", "removed %lld login failure counts", (long long)n);
	return (int)n;
}
