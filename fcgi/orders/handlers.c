/*
 * orders handlers. An order is made in two steps that cannot share one
 * transaction: the inventory daemon reserves a copy (Sell), then the order
 * row is written. If the second step fails the reservation is released
 * before answering; if this process dies in between, the inventory sweep
 * releases the orphan after SWEEP_GRACE. All SQL of the service is here.
 */
#include "auth.h"
#include "inv.h"
#include "order.h"
#include "orders.h"

#include <stdio.h>
#include <string.h>

#define ORDERS_LIMIT_DEFAULT 50
#define ORDERS_LIMIT_MAX     200
#define IDEM_KEY_MAX         64

/* The columns order_from_row() reads, in this order. */
#define ORDER_COLS "id, book_id, unit_price, state, " \
	"DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%f'), " \
	"IFNULL(DATE_FORMAT(paid_at, '%Y-%m-%dT%H:%i:%s.%f'), '')"

typedef struct order {
	int64_t id, book_id, unit_price;
	char    state[16];
	char    created[32];
	char    paid[32];
} order;

#define ORDER_OUT(o) &(o)->id, &(o)->book_id, &(o)->unit_price, (o)->state, sizeof (o)->state, \
	(o)->created, sizeof (o)->created, (o)->paid, sizeof (o)->paid

static inv_client *inventory;

int
orders_init(void)
{
	const cfg *c = app_cfg();

	inventory = inv_client_new(c->inventory_url, c->inventory_timeout_ms);
	return inventory ? 0 : -1;
}

/* "2026-11-26T09:00:00.123000" (MariaDB, microseconds) -> "...:00.123Z" */
static json_t *
order_ts(char *s)
{
	if (*s == '\0')
		return json_null();
	if (strlen(s) >= 23)
		memcpy(s + 23, "Z", 2);
	return json_string(s);
}

static json_t *
order_json(order *o)
{
	return json_pack("{s:I, s:I, s:I, s:s, s:o, s:o}", "orderId", (json_int_t)o->id,
	    "bookId", (json_int_t)o->book_id, "unitPrice", (json_int_t)o->unit_price,
	    "state", o->state, "createdAt", order_ts(o->created), "paidAt", order_ts(o->paid));
}

/* The caller's order `id`: DB_OK, DB_NONE (absent or someone else's), or an error. */
static int
order_load(int64_t id, int64_t uid, order *o)
{
	return db_row(app_db(), "SELECT " ORDER_COLS " FROM orders WHERE id = ? AND user_id = ?",
	    "ii", "iiisss", id, uid, ORDER_OUT(o));
}

static void
order_answer(app_req *r, int status, int64_t id, int64_t uid)
{
	order o;
	int rc = order_load(id, uid, &o);

	if (rc == DB_OK)
		app_ok(r, status, order_json(&o));
	else if (rc == DB_NONE)
		app_fail(r, E_NOT_FOUND, "no such order");
	else
		app_fail_db(r, rc);
}

/* Calls the inventory daemon; on failure answers and returns NULL. */
static json_t *
orders_inv(app_req *r, inv_req *q)
{
	char detail[200];
	mb_err err;
	json_t *reply;

	snprintf(q->ref, sizeof q->ref, "%s", r->ref);
	if ((reply = inv_call(inventory, q, &err, detail, sizeof detail)) == NULL)
		app_fail(r, err, "%s", detail);
	return reply;
}

/* Best effort: the sweep releases it later if this fails. */
static void
orders_release(app_req *r, int64_t history_id)
{
	inv_req q = { .method = INV_RELEASE, .history_id = history_id };
	char detail[200];
	mb_err err;
	json_t *reply;

	snprintf(q.ref, sizeof q.ref, "%s", r->ref);
	reply = inv_call(inventory, &q, &err, detail, sizeof detail);
	json_decref(reply);
}

void
orders_books(app_req *r)
{
	inv_req q = { .method = INV_LIST };
	json_t *reply = orders_inv(r, &q);

	if (reply == NULL)
		return;
	app_ok(r, 200, json_pack("{s:O}", "books", json_object_get(reply, "books")));
	json_decref(reply);
}

static int
idem_key_ok(const char *k)
{
	size_t n = strlen(k), i;

	if (n < 1 || n > IDEM_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] < 0x20 || k[i] > 0x7e)
			return 0;
	return 1;
}

/* The order an earlier request with the same Idempotency-Key made, if any. */
static int
orders_by_key(int64_t uid, const char *key, int64_t *id)
{
	return db_row(app_db(), "SELECT id FROM orders WHERE user_id = ? AND idem_key = ?", "is", "i",
	    uid, key, id);
}

void
orders_new(app_req *r)
{
	inv_req q = { .method = INV_SELL };
	const char *key = r->idem_key;
	int64_t book_id, id, hid, price, n;
	auth_user u;
	json_t *reply;
	int rc;

	if (auth_require(r, &u) != 0 || app_param_id(r, "bookId", &book_id) != 0)
		return;
	if (key != NULL && !idem_key_ok(key)) {
		app_fail(r, E_INVALID_ARGUMENT, "header 'Idempotency-Key' must be 1-%d printable "
		    "ASCII characters", IDEM_KEY_MAX);
		return;
	}
	if (key != NULL && (rc = orders_by_key(u.id, key, &id)) != DB_NONE) {
		if (rc == DB_OK)
			order_answer(r, 200, id, u.id);
		else
			app_fail_db(r, rc);
		return;
	}
	q.book_id = book_id;
	q.user_id = u.id;
	if ((reply = orders_inv(r, &q)) == NULL)
		return;
	hid = (int64_t)json_integer_value(json_object_get(reply, "historyId"));
	price = (int64_t)json_integer_value(json_object_get(reply, "unitPrice"));
	json_decref(reply);
	n = db_exec(app_db(), "INSERT INTO orders (user_id, book_id, unit_price, history_id, state, "
	    "idem_key, created_at) VALUES (?, ?, ?, ?, 'unpaid', ?, UTC_TIMESTAMP(3))", "iiiiz",
	    u.id, book_id, price, hid, key);
	if (n < 0) {
		orders_release(r, hid);
		/* the same key raced us: its order stands, ours is undone */
		if (n == DB_EDUP && key != NULL && orders_by_key(u.id, key, &id) == DB_OK) {
			order_answer(r, 200, id, u.id);
			return;
		}
		app_fail_db(r, (int)n);
		return;
	}
	order_answer(r, 201, db_insert_id(app_db()), u.id);
}

void
orders_list(app_req *r)
{
	const char *limit_s = req_param(&r->params, "limit"), *before_s;
	int64_t limit = ORDERS_LIMIT_DEFAULT, before = INT64_MAX, last = 0;
	json_t *list;
	auth_user u;
	order o;
	int rc, n = 0;

	if (auth_require(r, &u) != 0)
		return;
	if (limit_s != NULL && (req_parse_id(limit_s, &limit) != 0 || limit > ORDERS_LIMIT_MAX)) {
		app_fail(r, E_INVALID_ARGUMENT, "field 'limit' must be an integer from 1 to %d",
		    ORDERS_LIMIT_MAX);
		return;
	}
	if ((before_s = req_param(&r->params, "before")) != NULL &&
	    app_id(r, "before", before_s, &before) != 0)
		return;
	/* one row more than asked tells whether there is a next page */
	rc = db_select(app_db(), "SELECT " ORDER_COLS " FROM orders WHERE user_id = ? AND id < ? "
	    "ORDER BY id DESC LIMIT ?", "iii", u.id, before, limit + 1);
	if (rc < 0) {
		app_fail_db(r, rc);
		return;
	}
	list = json_array();
	while ((rc = db_next(app_db(), "iiisss", ORDER_OUT(&o))) == DB_OK && n < limit) {
		json_array_append_new(list, order_json(&o));
		last = o.id;
		n++;
	}
	db_done(app_db());
	if (rc < 0) {
		json_decref(list);
		app_fail_db(r, rc);
		return;
	}
	app_ok(r, 200, json_pack("{s:o, s:o}", "orders", list,
	    "next", rc == DB_OK ? json_integer(last) : json_null()));
}

void
orders_get(app_req *r)
{
	auth_user u;
	int64_t id;

	if (auth_require(r, &u) != 0 || app_id(r, "orderId", r->path_arg, &id) != 0)
		return;
	order_answer(r, 200, id, u.id);
}

void
orders_cancel(app_req *r)
{
	order_lock lk;
	auth_user u;
	int64_t id, n;
	int rc;
	db *d = app_db();

	if (auth_require(r, &u) != 0 || app_param_id(r, "orderId", &id) != 0)
		return;
	if ((rc = order_lock_begin(d, id, u.id, &lk)) != DB_OK) {
		if (rc == DB_NONE)
			app_fail(r, E_NOT_FOUND, "no such order");
		else
			app_fail_db(r, rc);
		return;
	}
	if (!order_lock_open(&lk)) {
		db_rollback(d);
		app_fail(r, E_ORDER_CLOSED, "order is %s; it cannot be cancelled",
		    lk.payment_id ? "paid" : lk.state);
		return;
	}
	n = db_exec(d, "UPDATE orders SET state = 'cancelled' WHERE id = ?", "i", id);
	if (n < 0 || (n = db_commit(d)) < 0) {
		db_rollback(d);
		app_fail_db(r, (int)n);
		return;
	}
	orders_release(r, lk.history_id);
	order_answer(r, 200, id, u.id);
}

void
orders_health(app_req *r)
{
	inv_req q = { .method = INV_LIST };
	char detail[200];
	mb_err err;
	json_t *reply;
	int db_ok = db_ping(app_db()) == DB_OK, inv_ok;

	snprintf(q.ref, sizeof q.ref, "%s", r->ref);
	reply = inv_call(inventory, &q, &err, detail, sizeof detail);
	inv_ok = reply != NULL;
	json_decref(reply);
	if (db_ok && inv_ok)
		app_ok(r, 200, json_pack("{s:s, s:s}", "db", "ok", "inventory", "ok"));
	else
		app_fail_data(r, E_UNAVAILABLE, json_pack("{s:s, s:s}", "db", db_ok ? "ok" : "down",
		    "inventory", inv_ok ? "ok" : "down"), !db_ok ? "the database is down"
		    : "the inventory service is down");
}
