/*
 * test_sell: the inventory daemon's Sell (daemons/inventory/handlers.c, the
 * real handler) against a real database, which makes a whole order with one
 * CALL of sell_order (sql/009, which replaced sql/007's): the reservation and the order row in one
 * transaction, the stock decremented once; a re-sent request (the same id)
 * answered with what its first copy made; an Idempotency-Key's earlier
 * order kept (200) or refused for another book (422); MAX_OPEN_ORDERS
 * counted under the user's row lock; no such book, sold out, no such user:
 * nothing written; a CALL that fails leaves no transaction open. The
 * procedure finds a re-sent request and a used key by the unique keys its
 * INSERTs meet: test_sell_precedence checks that every refusal still
 * answers them first (sold out, at the cap, no such book).
 *
 * The procedure pastes lib/states.h's values as SQL literals (1 for
 * HIST_RESERVED, 'unpaid' for ORDER_UNPAID): the rows it writes are read
 * back and compared with the C values, and the cap counts orders written
 * here with ORDER_UNPAID, so a drift between the two fails these tests.
 *
 * And the sweep (inventory_sweep) reads only the orders closed since its
 * last scan, not every cancelled or expired order there has ever been.
 */
#include "tdb.h"
#include "../../daemons/inventory/inventory.h"

static cfg tdb_c;

static int
setup(void **state)
{
	if (tdb_setup(state) != 0)
		return -1;
	tdb_c = *tdb_x.cfg;
	tdb_c.max_open_orders = 0;
	return 0;
}

/* A book of its own with `stock` copies at price 1234; its id. */
static int64_t
book(int64_t stock)
{
	assert_int_equal(db_exec(tdb_x.db, "INSERT INTO books (title, unit_price, stock, "
	    "initial_stock) VALUES ('sell test', 1234, ?, ?)", "ii", stock, stock), 1);
	return db_insert_id(tdb_x.db);
}

static int64_t
count(const char *sql, int64_t arg)
{
	int64_t n;

	assert_int_equal(db_row(tdb_x.db, sql, "i", "i", arg, &n), MB_OK);
	return n;
}

#define STOCK(b)      count("SELECT stock FROM books WHERE id = ?", b)
#define ORDERS_OF(u)  count("SELECT COUNT(*) FROM orders WHERE user_id = ?", u)
#define HISTORY_OF(u) count("SELECT COUNT(*) FROM inventory_history WHERE user_id = ?", u)

/* Sends q (its id kept when set) to the real handler; the reply, parsed. */
static json_t *
sell_q(inv_req *q)
{
	json_t *o;
	char *s;

	if (q->id[0] == '\0')
		inv_new_id(q->id);
	snprintf(q->ref, sizeof q->ref, "unit-sell");
	q->method = INV_SELL;
	s = inventory_handle(tdb_x.db, &tdb_c, q);
	assert_non_null(s);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	free(s);
	assert_false(db_in_tx(tdb_x.db));
	return o;
}

static json_t *
sell(int64_t uid, int64_t b, const char *key)
{
	inv_req q;

	memset(&q, 0, sizeof q);
	q.user_id = uid;
	q.book_id = b;
	snprintf(q.idem_key, sizeof q.idem_key, "%s", key ? key : "");
	return sell_q(&q);
}

static int64_t
num(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "(none)";
}

static void
refused_with(json_t *o, const char *code, const char *detail)
{
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_string_equal(str(o, "code"), code);
	if (detail != NULL)
		assert_string_equal(str(o, "detail"), detail);
	json_decref(o);
}

/* No transaction open on the connection, and none of the user's rows locked. */
static void
no_tx_left(void)
{
	int64_t in_tx = -1;

	assert_int_equal(db_row(tdb_x.db, "SELECT @@in_transaction", "", "i", &in_tx), MB_OK);
	assert_int_equal(in_tx, 0);
}

static void
test_sell_makes_the_order(void **state)
{
	int64_t uid = tdb_user(tdb_name("sell")), b = book(2), oid, hid, hstate, n;
	char ostate[16], created[32], req_id[40];
	inv_req q;
	json_t *o, *again;

	(void)state;
	memset(&q, 0, sizeof q);
	q.user_id = uid;
	q.book_id = b;
	o = sell_q(&q);
	assert_true(json_is_true(json_object_get(o, "ok")));
	oid = num(o, "orderId");
	hid = num(o, "historyId");
	assert_true(oid > 0 && hid > 0);
	assert_int_equal(num(o, "bookId"), b);
	assert_int_equal(num(o, "unitPrice"), 1234);
	assert_string_equal(str(o, "state"), ORDER_UNPAID);
	assert_true(json_is_null(json_object_get(o, "paidAt")));
	assert_true(json_is_false(json_object_get(o, "kept")));
	assert_int_equal(STOCK(b), 1);

	/* the rows, as the database has them, in the states of states.h */
	assert_int_equal(db_row(tdb_x.db, "SELECT o.state, o.created_at, h.state, h.req_id "
	    "FROM orders o JOIN inventory_history h ON h.id = o.history_id "
	    "WHERE o.id = ? AND o.history_id = ? AND o.user_id = ? AND o.book_id = ? "
	    "AND h.book_id = o.book_id AND h.user_id = o.user_id AND o.idem_key IS NULL",
	    "iiii", "stis", oid, hid, uid, b, ostate, sizeof ostate, created, sizeof created,
	    &hstate, req_id, sizeof req_id), MB_OK);
	assert_string_equal(ostate, ORDER_UNPAID);
	assert_int_equal(hstate, HIST_RESERVED);
	assert_string_equal(created, str(o, "createdAt"));
	assert_string_equal(req_id, q.id);

	/* the same request again (nanomsg REQ re-sends it): the same answer, nothing more */
	again = sell_q(&q);
	assert_true(json_equal(again, o));
	json_decref(again);
	assert_int_equal(STOCK(b), 1);
	assert_int_equal(ORDERS_OF(uid), 1);
	assert_int_equal(HISTORY_OF(uid), 1);
	json_decref(o);

	/* the last copy, then none */
	o = sell(uid, b, NULL);
	assert_true(json_is_true(json_object_get(o, "ok")));
	json_decref(o);
	assert_int_equal(STOCK(b), 0);
	n = ORDERS_OF(uid);
	refused_with(sell(uid, b, NULL), "OUT_OF_STOCK", "this book has no stock left");
	assert_int_equal(ORDERS_OF(uid), n);
	assert_int_equal(HISTORY_OF(uid), n);
	assert_int_equal(STOCK(b), 0);
	no_tx_left();
}

static void
test_sell_idempotency_key(void **state)
{
	int64_t uid = tdb_user(tdb_name("skey")), other = tdb_user(tdb_name("skey"));
	int64_t b = book(10), b2 = book(10), oid;
	json_t *o;

	(void)state;
	o = sell(uid, b, "k-1");
	assert_true(json_is_false(json_object_get(o, "kept")));
	oid = num(o, "orderId");
	json_decref(o);
	assert_int_equal(count("SELECT COUNT(*) FROM orders WHERE id = ? AND idem_key = 'k-1'",
	    oid), 1);

	/* a new request with the same key and book: that order, nothing reserved */
	o = sell(uid, b, "k-1");
	assert_true(json_is_true(json_object_get(o, "ok")));
	assert_true(json_is_true(json_object_get(o, "kept")));
	assert_int_equal(num(o, "orderId"), oid);
	assert_string_equal(str(o, "state"), ORDER_UNPAID);
	json_decref(o);
	assert_int_equal(STOCK(b), 9);

	/* the order moved on: kept answers it as it is now */
	assert_int_equal(db_exec(tdb_x.db, "UPDATE orders SET state = 'paid', paid_at = "
	    "UTC_TIMESTAMP(3) WHERE id = ?", "i", oid), 1);
	o = sell(uid, b, "k-1");
	assert_string_equal(str(o, "state"), ORDER_PAID);
	assert_true(json_is_string(json_object_get(o, "paidAt")));
	json_decref(o);

	/* the same key for another book: refused, nothing written */
	refused_with(sell(uid, b2, "k-1"), "IDEMPOTENCY_KEY_REUSED", NULL);
	o = sell(uid, b2, "k-1");
	assert_true(strstr(str(o, "detail"), "used for an order of book") != NULL);
	json_decref(o);
	assert_int_equal(STOCK(b2), 10);
	assert_int_equal(ORDERS_OF(uid), 1);
	assert_int_equal(HISTORY_OF(uid), 1);

	/* another user's key of the same name is theirs */
	o = sell(other, b, "k-1");
	assert_true(json_is_false(json_object_get(o, "kept")));
	assert_true(num(o, "orderId") != oid);
	json_decref(o);
	assert_int_equal(STOCK(b), 8);
}

static void
test_sell_open_orders_cap(void **state)
{
	int64_t uid = tdb_user(tdb_name("scap")), b = book(100), i;
	char detail[160];
	json_t *o;

	(void)state;
	tdb_c.max_open_orders = 5;
	for (i = 0; i < 4; i++)
		(void)tdb_order(uid, ORDER_UNPAID, 10);
	(void)tdb_order(uid, ORDER_PAID, 10);       /* closed orders do not count */
	(void)tdb_order(uid, ORDER_CANCELLED, 10);
	(void)tdb_order(uid, ORDER_EXPIRED, 10);
	o = sell(uid, b, NULL);                      /* the fifth open one */
	assert_true(json_is_true(json_object_get(o, "ok")));
	json_decref(o);
	snprintf(detail, sizeof detail, "you have 5 unpaid orders, the most one account may "
	    "hold; pay or cancel one first");
	refused_with(sell(uid, b, NULL), "TOO_MANY_OPEN_ORDERS", detail);
	assert_int_equal(STOCK(b), 99);
	assert_int_equal(ORDERS_OF(uid), 8);
	/* a key's earlier order is still answered at the cap */
	tdb_c.max_open_orders = 0;
	o = sell(uid, b, "cap-k");
	json_decref(o);
	tdb_c.max_open_orders = 5;
	o = sell(uid, b, "cap-k");
	assert_true(json_is_true(json_object_get(o, "kept")));
	json_decref(o);
	/* 0: no cap */
	tdb_c.max_open_orders = 0;
	o = sell(uid, b, NULL);
	assert_true(json_is_true(json_object_get(o, "ok")));
	json_decref(o);
	assert_int_equal(STOCK(b), 97);
	no_tx_left();
}

static void
test_sell_refusals(void **state)
{
	int64_t uid = tdb_user(tdb_name("sref")), b = book(3);
	inv_req q;
	json_t *o;

	(void)state;
	refused_with(sell(uid, INT64_MAX, NULL), "NOT_FOUND", "no such book");
	refused_with(sell(INT64_MAX, b, NULL), "NOT_FOUND", "no such user");
	assert_int_equal(ORDERS_OF(uid), 0);
	assert_int_equal(HISTORY_OF(uid), 0);
	assert_int_equal(STOCK(b), 3);
	no_tx_left();

	/*
	 * A failing CALL: another user's request id (a forged re-send) meets
	 * the unique req_id inside the procedure, after the user's row was
	 * locked. It is refused, nothing of it stays, no transaction is left
	 * open, and the user can order at once.
	 */
	o = sell(uid, b, NULL);
	memset(&q, 0, sizeof q);
	assert_int_equal(db_row(tdb_x.db, "SELECT req_id FROM inventory_history WHERE id = ?", "i",
	    "s", num(o, "historyId"), q.id, sizeof q.id), MB_OK);
	q.user_id = tdb_user(tdb_name("sref"));
	q.book_id = b;
	refused_with(sell_q(&q), "INTERNAL", NULL);
	no_tx_left();
	assert_int_equal(ORDERS_OF(q.user_id), 0);
	assert_int_equal(HISTORY_OF(q.user_id), 0);
	assert_int_equal(STOCK(b), 2);
	/* and the first user's order is theirs, as it was */
	assert_int_equal(ORDERS_OF(uid), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM orders WHERE id = ? AND state = "
	    ORDER_UNPAID_SQL, num(o, "orderId")), 1);
	json_decref(o);
	o = sell(q.user_id, b, NULL);
	assert_true(json_is_true(json_object_get(o, "ok")));
	json_decref(o);
}

/*
 * sell_order finds a re-sent request and a key used before by the unique
 * keys its INSERTs meet, not by reading first; every refusal then looks
 * for them before it answers, so the order of precedence is as before:
 * the request's own order, then the key's, then the cap, the user, the
 * book and its stock.
 */
static void
test_sell_precedence(void **state)
{
	int64_t uid = tdb_user(tdb_name("sprec")), b = book(1), hid, n;
	inv_req q, old;
	json_t *o, *again;

	(void)state;
	/* the last copy; its request re-sent after the book sold out: its order */
	memset(&q, 0, sizeof q);
	q.user_id = uid;
	q.book_id = b;
	o = sell_q(&q);
	assert_true(json_is_true(json_object_get(o, "ok")));
	assert_int_equal(STOCK(b), 0);
	again = sell_q(&q);
	assert_true(json_equal(again, o));
	json_decref(again);
	json_decref(o);
	assert_int_equal(ORDERS_OF(uid), 1);

	/* a key's order of a book sold out since: kept, not OUT_OF_STOCK */
	assert_int_equal(db_exec(tdb_x.db, "UPDATE books SET stock = 1 WHERE id = ?", "i", b), 1);
	o = sell(uid, b, "prec-k");
	assert_true(json_is_false(json_object_get(o, "kept")));
	json_decref(o);
	assert_int_equal(STOCK(b), 0);
	o = sell(uid, b, "prec-k");
	assert_true(json_is_true(json_object_get(o, "kept")));
	json_decref(o);
	/* the key for a book that does not exist: the key's answer, not NOT_FOUND */
	refused_with(sell(uid, INT64_MAX, "prec-k"), "IDEMPOTENCY_KEY_REUSED", NULL);
	/* a new key on the sold-out book: OUT_OF_STOCK, nothing written */
	refused_with(sell(uid, b, "prec-k2"), "OUT_OF_STOCK", NULL);
	assert_int_equal(ORDERS_OF(uid), 2);
	assert_int_equal(HISTORY_OF(uid), 2);

	/* at the cap: the re-sent request and the key still get their order */
	assert_int_equal(db_exec(tdb_x.db, "UPDATE books SET stock = 5 WHERE id = ?", "i", b), 1);
	tdb_c.max_open_orders = 2;
	again = sell_q(&q);
	assert_true(json_is_true(json_object_get(again, "ok")));
	assert_true(json_is_false(json_object_get(again, "kept")));
	json_decref(again);
	o = sell(uid, b, "prec-k");
	assert_true(json_is_true(json_object_get(o, "kept")));
	json_decref(o);
	refused_with(sell(uid, b, NULL), "TOO_MANY_OPEN_ORDERS", NULL);
	/* with the cap on: no such user, no such book */
	refused_with(sell(INT64_MAX, b, NULL), "NOT_FOUND", "no such user");
	tdb_c.max_open_orders = 5;
	refused_with(sell(uid, INT64_MAX, NULL), "NOT_FOUND", "no such book");
	tdb_c.max_open_orders = 0;
	assert_int_equal(STOCK(b), 5);
	assert_int_equal(ORDERS_OF(uid), 2);
	assert_int_equal(HISTORY_OF(uid), 2);

	/*
	 * A request id this user's reservation has with no order behind it
	 * (older data: before sql/007 a Sell wrote the reservation alone): a
	 * duplicate with nothing to answer, refused, nothing written.
	 */
	memset(&old, 0, sizeof old);
	inv_new_id(old.id);
	assert_int_equal(db_exec(tdb_x.db, "INSERT INTO inventory_history (book_id, user_id, state, "
	    "req_id, created_at, updated_at) VALUES (?, ?, " HIST_RESERVED_SQL ", ?, "
	    "UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))", "iis", b, uid, old.id), 1);
	hid = db_insert_id(tdb_x.db);
	old.user_id = uid;
	old.book_id = b;
	n = HISTORY_OF(uid);
	refused_with(sell_q(&old), "INTERNAL", NULL);
	no_tx_left();
	assert_int_equal(HISTORY_OF(uid), n);
	assert_int_equal(ORDERS_OF(uid), 2);
	assert_int_equal(STOCK(b), 5);
	assert_int_equal(count("SELECT COUNT(*) FROM orders WHERE history_id = ?", hid), 0);
}

static void
test_procedure_is_invoker(void **state)
{
	char security[16];

	(void)state;
	assert_int_equal(db_row(tdb_x.db, "SELECT security_type FROM information_schema.routines "
	    "WHERE routine_schema = DATABASE() AND routine_name = 'sell_order'", "", "s",
	    security, sizeof security), MB_OK);
	assert_string_equal(security, "INVOKER");
}

/* A Sell of uid for book b (key: the Idempotency-Key or NULL), with a fresh id. */
static inv_req
sq(int64_t uid, int64_t b, const char *key)
{
	inv_req q;

	memset(&q, 0, sizeof q);
	inv_new_id(q.id);
	snprintf(q.ref, sizeof q.ref, "unit-batch");
	q.method = INV_SELL;
	q.user_id = uid;
	q.book_id = b;
	snprintf(q.idem_key, sizeof q.idem_key, "%s", key ? key : "");
	return q;
}

/* qs through the real batch handler; each reply, parsed, in out[]. */
static void
sell_batch(const inv_req *qs, int n, json_t **out)
{
	const inv_req *p[INVENTORY_BATCH_MAX];
	char *r[INVENTORY_BATCH_MAX];
	int i;

	for (i = 0; i < n; i++)
		p[i] = &qs[i];
	inventory_sell_batch(tdb_x.db, &tdb_c, p, n, r);
	for (i = 0; i < n; i++) {
		assert_non_null(r[i]);
		assert_non_null(out[i] = json_loads(r[i], 0, NULL));
		free(r[i]);
	}
	assert_false(db_in_tx(tdb_x.db));
	no_tx_left();
}

/*
 * Sells gathered together are made in one transaction (sql/010): every
 * order as a Sell alone would make it, one createdAt for all, each book's
 * stock down by its count; the same batch again (a re-send) answers the
 * same orders and makes nothing.
 */
static void
test_sell_batch_makes_every_order(void **state)
{
	int64_t u1 = tdb_user(tdb_name("batch")), u2 = tdb_user(tdb_name("batch"));
	int64_t b = book(10), b2 = book(10), hid, hstate;
	char idem[72], req_id[40];
	inv_req qs[3] = { sq(u1, b, NULL), sq(u2, b, "bk-1"), sq(u1, b2, NULL) };
	json_t *o[3], *again[3];
	int i;

	(void)state;
	sell_batch(qs, 3, o);
	for (i = 0; i < 3; i++) {
		assert_true(json_is_true(json_object_get(o[i], "ok")));
		assert_true(json_is_false(json_object_get(o[i], "kept")));
		assert_int_equal(num(o[i], "bookId"), qs[i].book_id);
		assert_int_equal(num(o[i], "unitPrice"), 1234);
		assert_string_equal(str(o[i], "state"), ORDER_UNPAID);
		assert_true(json_is_null(json_object_get(o[i], "paidAt")));
		/* one transaction: one timestamp */
		assert_string_equal(str(o[i], "createdAt"), str(o[0], "createdAt"));
		/* the rows: this user's order, its reservation made by this request */
		assert_int_equal(db_row(tdb_x.db, "SELECT h.id, h.state, h.req_id, "
		    "COALESCE(o.idem_key, '') FROM orders o JOIN inventory_history h ON h.id = "
		    "o.history_id WHERE o.id = ? AND o.user_id = ? AND o.book_id = ? AND "
		    "o.state = ? AND h.user_id = o.user_id AND h.book_id = o.book_id", "iiis",
		    "iiss", num(o[i], "orderId"), qs[i].user_id, qs[i].book_id, ORDER_UNPAID,
		    &hid, &hstate, req_id, sizeof req_id, idem, sizeof idem), MB_OK);
		assert_int_equal(hid, num(o[i], "historyId"));
		assert_int_equal(hstate, HIST_RESERVED);
		assert_string_equal(req_id, qs[i].id);
		assert_string_equal(idem, qs[i].idem_key);
	}
	assert_true(num(o[0], "orderId") != num(o[1], "orderId"));
	assert_true(num(o[1], "orderId") != num(o[2], "orderId"));
	assert_int_equal(STOCK(b), 8);
	assert_int_equal(STOCK(b2), 9);

	/* re-sent: the same answers, nothing more made */
	sell_batch(qs, 3, again);
	for (i = 0; i < 3; i++) {
		assert_true(json_equal(again[i], o[i]));
		json_decref(again[i]);
		json_decref(o[i]);
	}
	assert_int_equal(STOCK(b), 8);
	assert_int_equal(STOCK(b2), 9);
	assert_int_equal(ORDERS_OF(u1), 2);
	assert_int_equal(ORDERS_OF(u2), 1);
}

/*
 * A batch that cannot be made whole (sold out within it, no such book, one
 * key twice, over the cap) is made Sell by Sell: each answered as alone,
 * in the order they came.
 */
static void
test_sell_batch_refusals_as_alone(void **state)
{
	int64_t u1 = tdb_user(tdb_name("batchr")), u2 = tdb_user(tdb_name("batchr"));
	int64_t u3 = tdb_user(tdb_name("batchr")), last = book(1), b = book(10);
	inv_req qs[5] = { sq(u1, last, NULL), sq(u2, last, NULL), sq(u1, 999999999, NULL),
	    sq(u3, b, "same"), sq(u3, b, "same") };
	inv_req capped[2] = { sq(u2, b, NULL), sq(u2, b, NULL) };
	json_t *o[5];

	(void)state;
	sell_batch(qs, 5, o);
	assert_true(json_is_true(json_object_get(o[0], "ok")));
	refused_with(o[1], "OUT_OF_STOCK", "this book has no stock left");
	refused_with(o[2], "NOT_FOUND", "no such book");
	assert_true(json_is_false(json_object_get(o[3], "kept")));
	assert_true(json_is_true(json_object_get(o[4], "kept")));
	assert_int_equal(num(o[4], "orderId"), num(o[3], "orderId"));
	json_decref(o[0]);
	json_decref(o[3]);
	json_decref(o[4]);
	assert_int_equal(STOCK(last), 0);
	assert_int_equal(STOCK(b), 9);
	assert_int_equal(ORDERS_OF(u1), 1);
	assert_int_equal(ORDERS_OF(u2), 0);
	assert_int_equal(ORDERS_OF(u3), 1);

	/* a cap of 1: the first of u2's two is made, the second refused */
	tdb_c.max_open_orders = 1;
	sell_batch(capped, 2, o);
	tdb_c.max_open_orders = 0;
	assert_true(json_is_true(json_object_get(o[0], "ok")));
	json_decref(o[0]);
	assert_false(json_is_true(json_object_get(o[1], "ok")));
	assert_string_equal(str(o[1], "code"), "TOO_MANY_OPEN_ORDERS");
	json_decref(o[1]);
	assert_int_equal(ORDERS_OF(u2), 1);
	assert_int_equal(STOCK(b), 8);
}

/* With a cap, a batch within it is made whole: the users' open orders and the batch's counted. */
static void
test_sell_batch_within_cap(void **state)
{
	int64_t u1 = tdb_user(tdb_name("batchc")), u2 = tdb_user(tdb_name("batchc")), b = book(10);
	inv_req qs[3] = { sq(u1, b, NULL), sq(u1, b, NULL), sq(u2, b, NULL) };
	json_t *o[3];
	int i;

	(void)state;
	tdb_c.max_open_orders = 2;
	sell_batch(qs, 3, o);
	tdb_c.max_open_orders = 0;
	for (i = 0; i < 3; i++) {
		assert_true(json_is_true(json_object_get(o[i], "ok")));
		assert_string_equal(str(o[i], "createdAt"), str(o[0], "createdAt"));
	}
	for (i = 0; i < 3; i++)
		json_decref(o[i]);
	assert_int_equal(ORDERS_OF(u1), 2);
	assert_int_equal(STOCK(b), 7);
}

/* The database out of reach: every Sell of the batch is UNAVAILABLE, nothing written. */
static void
test_sell_batch_database_down(void **state)
{
	int64_t uid = tdb_user(tdb_name("batchd")), b = book(10);
	inv_req qs[3] = { sq(uid, b, NULL), sq(uid, b, NULL), sq(uid, b, "down") };
	const inv_req *p[3] = { &qs[0], &qs[1], &qs[2] };
	cfg down = *tdb_x.cfg;
	char *r[3];
	db *dead;
	int i;

	(void)state;
	down.db_socket = "/nonexistent/microbook-unit.sock";
	assert_non_null(dead = db_new(&down, "unit"));
	inventory_sell_batch(dead, &tdb_c, p, 3, r);
	for (i = 0; i < 3; i++) {
		json_t *o;

		assert_non_null(r[i]);
		assert_non_null(o = json_loads(r[i], 0, NULL));
		free(r[i]);
		refused_with(o, "UNAVAILABLE", "inventory database error");
	}
	db_free(dead);
	assert_int_equal(ORDERS_OF(uid), 0);
	assert_int_equal(STOCK(b), 10);
}

static void
test_sweep_reads_only_new_closes(void **state)
{
	int64_t uid = tdb_user(tdb_name("sweep")), order, before;
	int i, n;

	(void)state;
	/*
	 * 50 orders cancelled an hour ago, their copies given back long since,
	 * and 50 open ones holding theirs: a scan that joined every closed
	 * order with every reservation read at least 50 entries of one side
	 */
	for (i = 0; i < 50; i++)
		(void)tdb_order(uid, ORDER_UNPAID, 100);
	for (i = 0; i < 50; i++) {
		order = tdb_order(uid, ORDER_CANCELLED, 100);
		assert_int_equal(db_exec(tdb_x.db, "UPDATE orders o JOIN inventory_history h "
		    "ON h.id = o.history_id SET o.closed_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR, "
		    "h.state = " HIST_RELEASED_SQL " WHERE o.id = ?", "i", order), 2);
	}
	/*
	 * the first scans read every closed order and release what the other
	 * tests left, once it is past the sweep's 3 s margin
	 */
	usleep(3500000);
	for (i = 0; i < 5 && (n = inventory_sweep(tdb_x.db, 60)) != 0; i++)
		assert_true(n > 0);
	assert_int_equal(inventory_sweep(tdb_x.db, 60), 0);
	/* then a scan reads only what was closed since: none of them */
	before = tdb_read_next();
	assert_int_equal(inventory_sweep(tdb_x.db, 60), 0);
	assert_true(tdb_read_next() - before <= 5);
	/* and an order closed now, its copy still reserved, is released once past the margin */
	order = tdb_order(uid, ORDER_UNPAID, 100);
	assert_int_equal(db_exec(tdb_x.db, "UPDATE orders SET state = '" ORDER_CANCELLED "', "
	    "closed_at = UTC_TIMESTAMP(3) WHERE id = ?", "i", order), 1);
	for (i = 0; i < 60; i++) {
		assert_true(inventory_sweep(tdb_x.db, 60) >= 0);
		if (count("SELECT h.state FROM orders o JOIN inventory_history h "
		    "ON h.id = o.history_id WHERE o.id = ?", order) == HIST_RELEASED)
			break;
		usleep(100000);
	}
	assert_true(i < 60); /* released within 6 s */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sell_makes_the_order),
		cmocka_unit_test(test_sell_idempotency_key),
		cmocka_unit_test(test_sell_open_orders_cap),
		cmocka_unit_test(test_sell_refusals),
		cmocka_unit_test(test_sell_precedence),
		cmocka_unit_test(test_sell_batch_makes_every_order),
		cmocka_unit_test(test_sell_batch_refusals_as_alone),
		cmocka_unit_test(test_sell_batch_within_cap),
		cmocka_unit_test(test_sell_batch_database_down),
		cmocka_unit_test(test_procedure_is_invoker),
		cmocka_unit_test(test_sweep_reads_only_new_closes),
	};

	return cmocka_run_group_tests(tests, setup, tdb_teardown);
}
