/*
 * inventory handlers. Sell makes an order: the reservation, the order row
 * and an atomic conditional decrement (UPDATE ... WHERE stock > 0) in one
 * transaction, so stock never goes below zero whatever the concurrency, with
 * no optimistic retry loop at all, and no reservation is left without its
 * order. History state moves
 * only forward (states.h): reserved -> sold by Confirm, reserved -> released
 * by Release, each once; a repeat of a finished move is a no-op success.
 * Confirm sells only a reservation whose order has a payment, Release frees
 * only one whose order is closed or missing (issue 11): a sealed message
 * replayed inside the window, or one from a holder of the key gone wrong,
 * still cannot sell or free a copy the orders do not say so.
 */
#include "epoch.h"
#include "inventory.h"
#include "log.h"
#include "states.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
inv_db_err(int rc)
{
	return inv_reply_err(rc == MB_UNAVAIL || rc == MB_AGAIN ? E_UNAVAILABLE : E_INTERNAL,
	    "inventory database error");
}

/* The reply of a Sell that made (or, kept, found) an order: the order's columns. */
static char *
inv_sold_reply(int64_t oid, int64_t hid, int64_t book, int64_t price, const char *state,
    const char *created, const char *paid, int kept)
{
	return inv_reply_ok(json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:b}",
	    "orderId", (json_int_t)oid, "historyId", (json_int_t)hid, "bookId", (json_int_t)book,
	    "unitPrice", (json_int_t)price, "state", state, "createdAt", created,
	    "paidAt", paid[0] != '\0' ? json_string(paid) : json_null(), "kept", kept));
}

/*
 * Sell makes the whole order in one round trip: one CALL of sell_order
 * (sql/009, which replaced sql/007's), which in one transaction counts the
 * open orders against MAX_OPEN_ORDERS under the user's row lock (only with
 * a cap), writes the reservation and the order, and decrements the stock
 * last (UPDATE ... WHERE stock > 0), so the hot book row is locked only
 * from the decrement to the COMMIT. A re-sent request (the same id) and an
 * Idempotency-Key used before are met as duplicates by those INSERTs: the
 * procedure rolls back and answers what the first copy made (and every
 * refusal looks for that first). A failed CALL has rolled back.
 */
static char *
inv_sell_once(db *d, const cfg *c, const inv_req *q, int *st)
{
	char result[32], state[16], created[32], paid[32];
	int64_t oid, hid, book, price;

	*st = db_row(d, "CALL sell_order(?, ?, ?, ?, ?)", "siizi", "siiiistt", q->id, q->user_id,
	    q->book_id, q->idem_key[0] != '\0' ? q->idem_key : NULL, c->max_open_orders,
	    result, sizeof result, &oid, &hid, &book, &price, state, sizeof state,
	    created, sizeof created, paid, sizeof paid);
	if (*st == MB_NONE)
		*st = MB_ERROR; /* the procedure always answers one row */
	if (*st != MB_OK)
		return inv_db_err(*st);
	if (strcmp(result, "sold") == 0 || strcmp(result, "kept") == 0) {
		if (strcmp(result, "sold") == 0) {
			/* the catalogue's stock and this user's orders changed (a re-sent
			 * request bumps again: harmless, a kept answer is only dropped) */
			epoch_bump(EPOCH_CATALOGUE);
			epoch_bump(epoch_user(q->user_id));
		}
		return inv_sold_reply(oid, hid, book, price, state, created, paid,
		    strcmp(result, "kept") == 0);
	}
	if (strcmp(result, "OUT_OF_STOCK") == 0)
		return inv_reply_err(E_OUT_OF_STOCK, "this book has no stock left");
	if (strcmp(result, "NOT_FOUND") == 0)
		return inv_reply_err(E_NOT_FOUND, "no such book");
	if (strcmp(result, "TOO_MANY_OPEN_ORDERS") == 0) {
		char detail[160];

		snprintf(detail, sizeof detail, "you have %lld unpaid orders, the most one account "
		    "may hold; pay or cancel one first", (long long)c->max_open_orders);
		return inv_reply_err(E_TOO_MANY_OPEN_ORDERS, detail);
	}
	if (strcmp(result, "IDEMPOTENCY_KEY_REUSED") == 0) {
		char detail[160];

		snprintf(detail, sizeof detail, "this Idempotency-Key was used for an order of book "
		    "%lld; use a new key for another order", (long long)book);
		return inv_reply_err(E_IDEMPOTENCY_KEY_REUSED, detail);
	}
	if (strcmp(result, "NO_USER") == 0)
		return inv_reply_err(E_NOT_FOUND, "no such user");
	log_msg("error", q->ref, "sell_order answered '%s'", result);
	*st = MB_ERROR;
	return inv_db_err(MB_ERROR);
}

static char *
inv_sell(db *d, const cfg *c, const inv_req *q)
{
	char *reply = NULL;
	int st, dup = 0;
	db_try t;

	/*
	 * A deadlock victim or, on Galera, a certification failure (1213) runs
	 * again (db.h). So does a CALL that met a unique key once (MB_DUP):
	 * sell_order answers a duplicate with the order behind it and raises
	 * one only when it found none of this user's (another user's request
	 * id: refused again; a key's order not there to read, if ever: the next
	 * CALL finds it or makes the order).
	 */
	db_try_start(&t);
	do {
		free(reply);
		reply = inv_sell_once(d, c, q, &st);
		if (st == MB_DUP && !dup++)
			st = MB_AGAIN;
	} while (db_try_again(&t, st));
	return reply;
}

/*
 * Several Sells in one transaction: one CALL of sell_batch (sql/010), which
 * makes every order or none. What it did not make (a refusal, a duplicate
 * or a failure anywhere in the batch: it answers 'fallback' or fails
 * having rolled back) each Sell makes alone through inv_sell, so each gets
 * the answer it would have had alone. That is safe however far the batch
 * got: a batch that committed but whose answer was cut off is met by
 * sell_order as a re-sent request (the same request ids) and answered with
 * the orders it made.
 */
void
inventory_sell_batch(db *d, const cfg *c, const inv_req *const *qs, int n, char **replies)
{
	char result[16], created[32], *batch;
	int64_t seq, oid, hid, price;
	jbuf b = { 0 };
	int i, rc = MB_OK, sold = 0;

	for (i = 0; i < n; i++) {
		replies[i] = NULL;
		jbuf_lit(&b, i == 0 ? "[" : ",");
		jbuf_lit(&b, "{\"r\":");
		jbuf_str(&b, qs[i]->id);
		jbuf_lit(&b, ",\"u\":");
		jbuf_int(&b, qs[i]->user_id);
		jbuf_lit(&b, ",\"b\":");
		jbuf_int(&b, qs[i]->book_id);
		if (qs[i]->idem_key[0] != '\0') {
			jbuf_lit(&b, ",\"k\":");
			jbuf_str(&b, qs[i]->idem_key);
		}
		jbuf_lit(&b, "}");
	}
	jbuf_lit(&b, "]");
	batch = jbuf_take(&b, NULL);
	if (n >= 2 && n <= INVENTORY_BATCH_MAX && batch != NULL &&
	    (rc = db_select(d, "CALL sell_batch(?, ?)", "si", batch, c->max_open_orders)) == MB_OK) {
		while ((rc = db_next(d, "siiiit", result, sizeof result, &seq, &oid, &hid, &price,
		    created, sizeof created)) == MB_OK) {
			if (strcmp(result, "sold") != 0 || seq < 1 || seq > n || replies[seq - 1] != NULL)
				continue;
			replies[seq - 1] = inv_sold_reply(oid, hid, qs[seq - 1]->book_id, price,
			    ORDER_UNPAID, created, "", 0);
			epoch_bump(epoch_user(qs[seq - 1]->user_id));
			sold++;
		}
		db_done(d);
	}
	free(batch);
	if (sold > 0)
		epoch_bump(EPOCH_CATALOGUE);
	/* the database out of reach (after db.c's own reconnect): each Sell alone
	 * would wait for it again, one after the other; they are all 503 now (a
	 * Sell whose answer is lost may have made its order: docs/API.md) */
	for (i = 0; i < n; i++)
		if (replies[i] == NULL)
			replies[i] = rc == MB_UNAVAIL ? inv_db_err(rc) : inv_sell(d, c, qs[i]);
}

/*
 * The SQL of "this reservation's order has a payment" (pay writes
 * orders.payment_id in its transaction; sql/008 filled it for older
 * payments): a condition of Confirm's UPDATE, so that nothing else is sold.
 */
#define INV_PAID_SQL(h) "EXISTS (SELECT 1 FROM orders o WHERE o.history_id = " h \
	" AND o.payment_id IS NOT NULL)"

static char *
inv_confirm(db *d, const inv_req *q)
{
	int64_t n, state;
	int rc;

	/*
	 * One statement on the path that sells. A single-table UPDATE reads
	 * the orders row of its condition without locking it (READ COMMITTED),
	 * so only the history row is locked.
	 */
	n = db_exec(d, "UPDATE inventory_history SET state = " HIST_SOLD_SQL ", "
	    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = " HIST_RESERVED_SQL " AND "
	    INV_PAID_SQL("inventory_history.id"), "i", q->history_id);
	if (n < 0)
		return inv_db_err((int)n);
	if (n == 1)
		return inv_reply_ok(json_pack("{s:b}", "changed", 1));
	/* not sold now: why (a repeat, unpaid, released or unknown) */
	rc = db_row(d, "SELECT state FROM inventory_history WHERE id = ?", "i", "i",
	    q->history_id, &state);
	if (rc < 0)
		return inv_db_err(rc);
	if (rc == MB_NONE)
		return inv_reply_err(E_NOT_FOUND, "no such reservation");
	if (state == HIST_SOLD)
		return inv_reply_ok(json_pack("{s:b}", "changed", 0));
	if (state == HIST_RESERVED)
		return inv_reply_err(E_FORBIDDEN, "the reservation's order has no payment; "
		    "it cannot be sold");
	return inv_reply_err(E_ORDER_CLOSED, "reservation was released; it cannot be sold");
}

/*
 * Confirm of many reservations at once (the orders-listener's batches): one
 * UPDATE that sells those whose order has a payment, then one read of what
 * is still not sold. The reply lists those ids ("notSold": released,
 * unpaid or unknown), which the caller must not mark paid. The UPDATE
 * joins the id list, and a multi-table UPDATE reads the orders rows of its
 * condition with a shared lock until it ends: a pay, cancel or expiry of
 * one of those orders (all refused: they have a payment) waits that long.
 */
static char *
inv_confirm_many(db *d, const inv_req *q)
{
	char ids[DB_IDS_JSON_CAP(INV_MAX_BATCH)];
	json_t *not_sold;
	int64_t n, id;
	int rc;

	db_ids_json(q->history_ids, q->nhistory, ids, sizeof ids);
	n = db_exec(d, "UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j "
	    "STRAIGHT_JOIN inventory_history h ON h.id = j.id SET h.state = " HIST_SOLD_SQL ", "
	    "h.updated_at = UTC_TIMESTAMP(3) WHERE h.state = " HIST_RESERVED_SQL " AND "
	    INV_PAID_SQL("h.id"), "s", ids);
	if (n < 0)
		return inv_db_err((int)n);
	if ((rc = db_select(d, "SELECT j.id FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j "
	    "LEFT JOIN inventory_history h ON h.id = j.id "
	    "WHERE h.id IS NULL OR h.state <> " HIST_SOLD_SQL,
	    "s", ids)) < 0)
		return inv_db_err(rc);
	not_sold = json_array();
	while ((rc = db_next(d, "i", &id)) == MB_OK)
		json_array_append_new(not_sold, json_integer(id));
	db_done(d);
	if (rc < 0) {
		json_decref(not_sold);
		return inv_db_err(rc);
	}
	return inv_reply_ok(json_pack("{s:I, s:o}", "changed", (json_int_t)n, "notSold", not_sold));
}

/* Release: state 1 -> 3 and the copy back in stock, in one transaction. */
static char *
inv_release_once(db *d, int64_t hid, int sweeping, int *st)
{
	int64_t n, book, state;
	int rc;

	*st = MB_OK;
	if ((rc = db_begin(d)) != MB_OK)
		return inv_db_err(rc);
	rc = db_row(d, "SELECT book_id, state FROM inventory_history WHERE id = ? FOR UPDATE", "i",
	    "ii", hid, &book, &state);
	if (rc != MB_OK) {
		db_rollback(d);
		*st = rc;
		return rc == MB_NONE ? inv_reply_err(E_NOT_FOUND, "no such reservation")
		    : inv_db_err(rc);
	}
	if (state == HIST_RESERVED) {
		/*
		 * Only a reservation whose order is closed (cancelled, expired) or
		 * missing (older data: before sql/007 a Sell wrote the reservation
		 * alone, and the orders service's INSERT could fail) goes back to
		 * stock: the orders service and the listener close the order
		 * before they send Release, so a Release for an open order is not
		 * theirs (issue 11). For the sweep, an order that appeared since it
		 * looked keeps its copy.
		 */
		int64_t live = 0;

		rc = db_row(d, "SELECT COUNT(*) FROM orders WHERE history_id = ? AND state IN "
		    "(" ORDER_UNPAID_SQL ", " ORDER_PAID_SQL ")", "i", "i", hid, &live);
		if (rc != MB_OK || live > 0) {
			db_rollback(d);
			if (rc < 0)
				return inv_db_err(rc);
			return sweeping ? inv_reply_ok(json_pack("{s:b}", "changed", 0))
			    : inv_reply_err(E_FORBIDDEN, "the reservation's order is open; "
			    "it cannot be released");
		}
	}
	if (state != HIST_RESERVED) {
		db_rollback(d);
		if (state == HIST_RELEASED)
			return inv_reply_ok(json_pack("{s:b}", "changed", 0));
		return inv_reply_err(E_ALREADY_PAID, "reservation is sold; it cannot be released");
	}
	if ((n = db_exec(d, "UPDATE inventory_history SET state = " HIST_RELEASED_SQL ", "
	    "updated_at = UTC_TIMESTAMP(3) "
	    "WHERE id = ?", "i", hid)) < 0 ||
	    (n = db_exec(d, "UPDATE books SET stock = stock + 1 WHERE id = ?", "i", book)) < 0 ||
	    (n = db_commit(d)) < 0) {
		db_rollback(d);
		*st = (int)n;
		return inv_db_err((int)n);
	}
	epoch_bump(EPOCH_CATALOGUE);
	return inv_reply_ok(json_pack("{s:b}", "changed", 1));
}

static char *
inv_release(db *d, int64_t hid, int sweeping)
{
	char *reply = NULL;
	db_try t;
	int st;

	db_try_start(&t);
	do {
		free(reply);
		reply = inv_release_once(d, hid, sweeping, &st);
	} while (db_try_again(&t, st));
	return reply;
}

static char *
inv_list(db *d)
{
	char *text;
	int rc = inv_books_text(d, "{\"ok\":true,\"books\":", &text, NULL);

	return rc == MB_OK ? text : inv_db_err(rc);
}

static char *
inv_get(db *d, const inv_req *q)
{
	char title[256];
	int64_t id, price, stock;
	jbuf b = { 0 };
	int rc;

	rc = db_row(d, "SELECT id, title, unit_price, stock FROM books WHERE id = ?", "i", "isii",
	    q->book_id, &id, title, sizeof title, &price, &stock);
	if (rc < 0)
		return inv_db_err(rc);
	if (rc == MB_NONE)
		return inv_reply_err(E_NOT_FOUND, "no such book");
	jbuf_lit(&b, "{\"ok\":true,\"book\":");
	inv_book_text(&b, id, title, price, stock);
	jbuf_lit(&b, "}");
	return jbuf_take(&b, NULL); /* NULL: answered "out of memory" (main.c) */
}

char *
inventory_handle(db *d, const cfg *c, const inv_req *q)
{
	switch (q->method) {
	case INV_SELL:    return inv_sell(d, c, q);
	case INV_CONFIRM: return q->nhistory > 0 ? inv_confirm_many(d, q) : inv_confirm(d, q);
	case INV_RELEASE: return inv_release(d, q->history_id, 0);
	case INV_LIST:    return inv_list(d);
	case INV_GET:     return inv_get(d, q);
	case INV_PING:    return inv_reply_ok(NULL); /* a worker is alive; the db is not asked */
	}
	return inv_reply_err(E_INVALID_ARGUMENT, "unknown method");
}

/* Collects up to `cap` ids from a one-column query of a window (from, upto); returns how many, or < 0. */
static int
inv_ids(db *d, const char *sql, const char *from, const char *upto, int64_t *ids, int cap)
{
	int n = 0, rc;

	if ((rc = db_select(d, sql, "ss", from, upto)) < 0)
		return rc;
	while (n < cap && (rc = db_next(d, "i", &ids[n])) == MB_OK)
		n++;
	db_done(d);
	return rc < 0 ? rc : n;
}

/*
 * Where the next orphan scan starts (inventory_history.created_at, as
 * text): each scan reads the live reservations made from here to
 * SWEEP_GRACE ago and moves it up to that end, so a reservation is read
 * once on its way past the grace, not every 2 s for as long as it lives.
 * The first scan after a start reads them all: an orphan is older data, so
 * it is there when the daemon starts or made since with its created_at
 * then (a reservation's created_at is the time of its INSERT). Only the
 * sweeper thread uses it.
 */
static char sweep_orphans_from[32] = "1000-01-01 00:00:00";
/*
 * The same for the closed-order scan (orders.closed_at, sql/012): it reads
 * the orders closed from here to SWEEP_CLOSED_SETTLE_S ago, whose
 * reservation is still reserved (their Release failed), so an order is read
 * once on its way past, not every 2 s for as long as the table keeps it.
 * The margin lets the transaction that wrote a closed_at commit before the
 * cursor passes it (READ COMMITTED: an uncommitted close is not seen; the
 * UPDATE that writes it is followed by the COMMIT at once, under the order
 * row's lock). It assumes the database nodes' clocks agree to well within
 * it, as the orphan scan assumes of SWEEP_GRACE. The first scan after a
 * start reads every closed order once.
 */
#define SWEEP_CLOSED_SETTLE_S 3
static char sweep_closed_from[32] = "1000-01-01 00:00:00";

int
inventory_sweep(db *d, int64_t grace_s)
{
	int64_t ids[200];
	char upto[32], closed_upto[32];
	int n, m, i, rc;

	/*
	 * Reservations nobody will pay for: those whose order was cancelled or
	 * expired (the release after it failed), and those with no order at all
	 * after the grace period. The first query reads the orders closed since
	 * its last scan (the orders_closed index, with a cursor as the second's)
	 * and their reservations. The second finds
	 * reservations without an order, which only older data has: before
	 * sql/007 a Sell wrote the reservation alone and the orders service its
	 * order after it (a crash in between left one). Since then the two are
	 * written in one transaction, so the scan need not read a reservation
	 * more than once: it reads those that passed the grace since its last
	 * scan (all of them at the first), on the (state, created_at) index.
	 */
	/* both windows' ends, by the database's clock, in one round trip */
	if ((rc = db_row(d, "SELECT DATE_FORMAT(UTC_TIMESTAMP(3) - INTERVAL ? SECOND, "
	    "'%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(UTC_TIMESTAMP(3) - INTERVAL ? SECOND, "
	    "'%Y-%m-%d %H:%i:%s.%f')", "ii", "ss", (int64_t)SWEEP_CLOSED_SETTLE_S, grace_s,
	    closed_upto, sizeof closed_upto, upto, sizeof upto)) != MB_OK)
		return rc < 0 ? rc : MB_ERROR;
	n = inv_ids(d, "SELECT h.id FROM orders o FORCE INDEX (orders_closed) "
	    "STRAIGHT_JOIN inventory_history h ON h.id = o.history_id "
	    "WHERE o.closed_at >= ? AND o.closed_at < ? AND o.state IN (" ORDER_CANCELLED_SQL ", "
	    ORDER_EXPIRED_SQL ") AND h.state = " HIST_RESERVED_SQL " LIMIT 100",
	    sweep_closed_from, closed_upto, ids, 100);
	if (n < 0)
		return n;
	m = inv_ids(d, "SELECT h.id FROM inventory_history h LEFT JOIN orders o "
	    "ON o.history_id = h.id WHERE h.state = " HIST_RESERVED_SQL " AND "
	    "h.created_at >= ? AND h.created_at < ? AND o.id IS NULL LIMIT 100",
	    sweep_orphans_from, upto, ids + n, 100);
	if (m < 0)
		return m;
	/* none left in a window: the next scan starts where this one ended
	 * (what it found is released below and read again next time, so that
	 * one whose release failed is tried again) */
	if (n == 0)
		snprintf(sweep_closed_from, sizeof sweep_closed_from, "%s", closed_upto);
	if (m == 0)
		snprintf(sweep_orphans_from, sizeof sweep_orphans_from, "%s", upto);
	for (i = 0; i < n + m; i++) {
		char *reply = inv_release(d, ids[i], 1);

		log_msg("info", "sweep", "released reservation %lld: %s", (long long)ids[i],
		    reply ? reply : "(no memory)");
		free(reply);
	}
	return n + m;
}
