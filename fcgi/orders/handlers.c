/*
 * orders handlers. An order is made in two steps that cannot share one
 * transaction: the inventory daemon reserves a copy (Sell), then the order
 * row is written. If the second step fails the reservation is released
 * before answering; if this process dies in between, the inventory sweep
 * releases the orphan after SWEEP_GRACE. All SQL of the service is here.
 */
#include "auth.h"
#include "cache.h"
#include "epoch.h"
#include "inv.h"
#include "order.h"
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORDERS_LIMIT_DEFAULT 50
#define ORDERS_LIMIT_MAX     200
#define IDEM_KEY_MAX         64

/* The columns of an order, in the order ORDER_OUT receives them. */
#define ORDER_COLS "id, book_id, unit_price, state, created_at, paid_at"
#define ORDER_FMT  "iiistt"

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

/*
 * The current time for created_at, as MariaDB takes it ("2026-11-26
 * 09:00:00.123") and, in o->created, as the API shows it.
 */
static void
order_now(char *sql_ts, size_t cap, order *o)
{
	int64_t us = app_now_us();
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(sql_ts, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
	snprintf(o->created, sizeof o->created, "%.10sT%.12sZ", sql_ts, sql_ts + 11);
}

/* A timestamp as the API shows it: ISO 8601 UTC, or null. */
static json_t *
order_ts(const char *s)
{
	return *s == '\0' ? json_null() : json_string(s);
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
	    "ii", ORDER_FMT, id, uid, ORDER_OUT(o));
}

static void
order_answer(app_req *r, int status, int64_t id, int64_t uid)
{
	order o;
	int rc = order_load(id, uid, &o);

	if (rc == DB_OK)
		app_ok(r, status, order_json(&o));
	else
		app_fail_lookup(r, rc, "order");
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

/*
 * Sends `data` (a {...} to be serialised) as a 200, and keeps its text in
 * the cache under key for epoch.
 */
static void
orders_answer_cached(app_req *r, const char *key, uint64_t epoch, json_t *data)
{
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;

	json_decref(data);
	if (text == NULL) {
		app_fail(r, E_INTERNAL, "out of memory");
		return;
	}
	app_ok_raw(r, 200, text);
	cache_put(key, epoch, text);
}

/*
 * The catalogue is read straight from the database: it changes nothing, and
 * asking the inventory daemon would add a hop and a JSON decode and
 * re-encode of every book. Every change to stock still goes through the
 * daemon, which bumps EPOCH_CATALOGUE after each commit that moves stock; a
 * worker keeps the rendered catalogue while that epoch holds (cache.h), so
 * a kept answer is never behind a sale or release.
 */
void
orders_books(app_req *r)
{
	uint64_t epoch = epoch_get(EPOCH_CATALOGUE); /* read before the database */
	const char *hit = cache_get("books", epoch);
	json_t *books;
	int rc;

	if (hit != NULL) {
		app_ok_raw(r, 200, hit);
		return;
	}
	if ((rc = inv_books(app_db(), &books)) != DB_OK) {
		app_fail_db(r, rc);
		return;
	}
	orders_answer_cached(r, "books", epoch, json_pack("{s:o}", "books", books));
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
	char created[64];
	auth_user u;
	json_t *reply;
	order o;
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
	order_now(created, sizeof created, &o);
	n = db_exec(app_db(), "INSERT INTO orders (user_id, book_id, unit_price, history_id, state, "
	    "idem_key, created_at) VALUES (?, ?, ?, ?, 'unpaid', ?, ?)", "iiiizs",
	    u.id, book_id, price, hid, key, created);
	if (n < 0) {
		/*
		 * An INSERT whose connection was lost may have committed all the
		 * same (on Galera, through the rest of the cluster), and its retry
		 * then meets it as a duplicate: release only a reservation no order
		 * holds; when that cannot be read, the sweep releases it if orphaned.
		 */
		if ((rc = db_row(app_db(), "SELECT id FROM orders WHERE history_id = ?", "i", "i",
		    hid, &id)) == DB_OK) {
			epoch_bump(epoch_user(u.id));
			order_answer(r, 201, id, u.id);
			return;
		}
		if (rc == DB_NONE)
			orders_release(r, hid);
		/* the same key raced us: its order stands, ours is undone */
		if (n == DB_EDUP && key != NULL && orders_by_key(u.id, key, &id) == DB_OK) {
			order_answer(r, 200, id, u.id);
			return;
		}
		app_fail_db(r, (int)n);
		return;
	}
	epoch_bump(epoch_user(u.id)); /* this user's order lists changed */
	/* answered from what we wrote: no second round trip to read it back */
	o.id = db_insert_id(app_db());
	o.book_id = book_id;
	o.unit_price = price;
	snprintf(o.state, sizeof o.state, "unpaid");
	o.paid[0] = '\0';
	app_ok(r, 201, order_json(&o));
}

void
orders_list(app_req *r)
{
	const char *limit_s = req_param(&r->params, "limit"), *before_s;
	int64_t limit = ORDERS_LIMIT_DEFAULT, before = INT64_MAX, last = 0;
	char key[CACHE_KEY_MAX];
	const char *hit;
	uint64_t epoch;
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
	/* kept per worker while none of this user's orders changed (cache.h) */
	epoch = epoch_get(epoch_user(u.id));
	snprintf(key, sizeof key, "orders:%lld:%lld:%lld", (long long)u.id, (long long)before,
	    (long long)limit);
	if ((hit = cache_get(key, epoch)) != NULL) {
		app_ok_raw(r, 200, hit);
		return;
	}
	/* one row more than asked tells whether there is a next page */
	/* the index is forced: on young tables the optimiser walks the primary key instead */
	rc = db_select(app_db(), "SELECT " ORDER_COLS " FROM orders FORCE INDEX (orders_user) "
	    "WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?", "iii", u.id, before, limit + 1);
	if (rc < 0) {
		app_fail_db(r, rc);
		return;
	}
	list = json_array();
	while ((rc = db_next(app_db(), ORDER_FMT, ORDER_OUT(&o))) == DB_OK && n < limit) {
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
	orders_answer_cached(r, key, epoch, json_pack("{s:o, s:o}", "orders", list,
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

/* DB_OK cancelled and committed, DB_NONE, ORDER_NOT_OPEN, or an error (rolled back). */
static int
cancel_tx(db *d, int64_t id, int64_t uid, order_lock *lk)
{
	int64_t n;
	int rc;

	if ((rc = order_lock_begin(d, id, uid, lk)) != DB_OK)
		return rc;
	n = db_exec(d, "UPDATE orders SET state = 'cancelled' WHERE id = ?", "i", id);
	if (n < 0 || (n = db_commit(d)) < 0) {
		db_rollback(d);
		return (int)n;
	}
	return DB_OK;
}

void
orders_cancel(app_req *r)
{
	order_lock lk;
	auth_user u;
	int64_t id;
	db_try t;
	int rc;

	if (auth_require(r, &u) != 0 || app_param_id(r, "orderId", &id) != 0)
		return;
	db_try_start(&t);
	do
		rc = cancel_tx(app_db(), id, u.id, &lk);
	while (db_try_again(&t, rc));
	if (rc == ORDER_NOT_OPEN) {
		app_fail(r, E_ORDER_CLOSED, "order is %s; it cannot be cancelled",
		    lk.payment_id ? "paid" : lk.state);
		return;
	}
	if (rc != DB_OK) {
		app_fail_lookup(r, rc, "order");
		return;
	}
	epoch_bump(epoch_user(u.id));
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
