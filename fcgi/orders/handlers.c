/*
 * orders handlers. An order is made in two steps that cannot share one
 * transaction: the inventory daemon reserves a copy (Sell), then the order
 * row is written. If the second step fails the reservation is released
 * before answering; if this process dies in between, the inventory sweep
 * releases the orphan after SWEEP_GRACE. All SQL of the service is here.
 */
#include "cache.h"
#include "clock.h"
#include "epoch.h"
#include "inv.h"
#include "log.h"
#include "order.h"
#include "orders.h"
#include "states.h"

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

int
orders_init(app_ctx *x)
{
	x->inv = inv_client_new(x->cfg->inventory_url, x->cfg->inventory_timeout_ms);
	return x->inv != NULL ? MB_OK : MB_ERROR;
}

/*
 * The current time for created_at, as MariaDB takes it ("2026-11-26
 * 09:00:00.123") and, in o->created, as the API shows it.
 */
static void
order_now(char *sql_ts, size_t cap, order *o)
{
	int64_t us = clock_wall_us();
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

/* The caller's order `id`: MB_OK, MB_NONE (absent or someone else's), or an error. */
static int
order_load(db *d, int64_t id, int64_t uid, order *o)
{
	return db_row(d, "SELECT " ORDER_COLS " FROM orders WHERE id = ? AND user_id = ?",
	    "ii", ORDER_FMT, id, uid, ORDER_OUT(o));
}

static int
order_answer(app_ctx *x, app_answer *a, int status, int64_t id, int64_t uid)
{
	order o;
	int rc = order_load(x->db, id, uid, &o);

	if (rc == MB_OK)
		return app_ok(a, status, order_json(&o));
	return app_fail_lookup(a, rc, "order");
}

/* Calls the inventory daemon: the reply, or NULL with the answer's error filled in. */
static json_t *
orders_inv(app_ctx *x, const app_req *r, app_answer *a, inv_req *q)
{
	char detail[200];
	mb_err err;
	json_t *reply;

	snprintf(q->ref, sizeof q->ref, "%s", r->ref);
	if ((reply = inv_call(x->inv, q, &err, detail, sizeof detail)) == NULL)
		app_fail(a, err, "%s", detail);
	return reply;
}

/*
 * Best effort: if it fails, the failure is logged here (nothing is
 * answered: the order stands or was undone) and the sweep releases the
 * reservation later.
 */
static void
orders_release(app_ctx *x, const app_req *r, int64_t history_id)
{
	inv_req q = { .method = INV_RELEASE, .history_id = history_id };
	char detail[200];
	mb_err err;
	json_t *reply;

	snprintf(q.ref, sizeof q.ref, "%s", r->ref);
	if ((reply = inv_call(x->inv, &q, &err, detail, sizeof detail)) == NULL)
		log_msg(err == E_UNAVAILABLE ? "warn" : "error", r->ref, "%s history %lld: %s %s; "
		    "the sweep will release it", inv_method_name(q.method), (long long)history_id,
		    resp_code_name(err), detail);
	json_decref(reply);
}

/*
 * Answers `data` (a {...} to be serialised) as a 200, and keeps a copy of
 * its text in the cache under key for epoch.
 */
static int
orders_answer_cached(app_answer *a, const char *key, uint64_t epoch, json_t *data)
{
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL, *kept;

	json_decref(data);
	if (text == NULL)
		return app_fail(a, E_INTERNAL, "out of memory");
	if ((kept = strdup(text)) != NULL)
		cache_put(key, epoch, kept);
	return app_ok_raw_owned(a, 200, text);
}

/*
 * The catalogue is read straight from the database: it changes nothing, and
 * asking the inventory daemon would add a hop and a JSON decode and
 * re-encode of every book. Every change to stock still goes through the
 * daemon, which bumps EPOCH_CATALOGUE after each commit that moves stock; a
 * worker keeps the rendered catalogue while that epoch holds (cache.h), so
 * a kept answer is never behind a sale or release.
 */
int
orders_books(app_ctx *x, const app_req *r, app_answer *a)
{
	uint64_t epoch = epoch_get(EPOCH_CATALOGUE); /* read before the database */
	const char *hit = cache_get("books", epoch);
	json_t *books;
	int rc;

	(void)r;
	if (hit != NULL)
		return app_ok_raw(a, 200, hit);
	if ((rc = inv_books(x->db, &books)) != MB_OK)
		return app_fail_db(a, rc);
	return orders_answer_cached(a, "books", epoch, json_pack("{s:o}", "books", books));
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
orders_by_key(db *d, int64_t uid, const char *key, int64_t *id, int64_t *book_id)
{
	return db_row(d, "SELECT id, book_id FROM orders WHERE user_id = ? AND idem_key = ?",
	    "is", "ii", uid, key, id, book_id);
}

/*
 * The answer to a request whose Idempotency-Key already made order id (of
 * book kept_book): that order, 200, when the request asks for the same
 * book; 422 IDEMPOTENCY_KEY_REUSED, nothing written, when not.
 */
static int
orders_replay(app_ctx *x, app_answer *a, int64_t uid, int64_t id, int64_t kept_book,
    int64_t book_id)
{
	if (kept_book != book_id)
		return app_fail(a, E_IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was used for an "
		    "order of book %lld; use a new key for another order", (long long)kept_book);
	return order_answer(x, a, 200, id, uid);
}

/* The user's unpaid orders: MB_OK with *n, or the database's failure. */
static int
orders_open(db *d, int64_t uid, int64_t *n)
{
	return db_row(d, "SELECT COUNT(*) FROM orders FORCE INDEX (orders_user_state) "
	    "WHERE user_id = ? AND state = " ORDER_UNPAID_SQL, "i", "i", uid, n);
}

/*
 * Writes the order row for reservation hid. Under a cap (max > 0) the
 * count of the user's unpaid orders and the INSERT run in one transaction
 * that first locks the user's row, so two orders of one user made at once
 * are counted one after the other: with 4 open and a cap of 5, one of them
 * is written and the other refused (MB_DECLINED). MB_OK with the new id,
 * MB_DECLINED, or a failure (rolled back; MB_DUP: the key was raced).
 */
static int
order_insert_tx(db *d, int64_t max, int64_t uid, int64_t book_id, int64_t price, int64_t hid,
    const char *key, const char *created, int64_t *id)
{
	int64_t n, open;
	int rc;

	/*
	 * The same key's first request committed while we waited: the INSERT
	 * meets the unique key orders_idem and gives MB_DUP, as without a cap.
	 */
	if (max > 0) {
		if ((rc = db_begin(d)) != MB_OK)
			return rc;
		if ((rc = db_row(d, "SELECT id FROM users WHERE id = ? FOR UPDATE", "i", "i", uid,
		    &n)) != MB_OK || (rc = orders_open(d, uid, &open)) != MB_OK) {
			db_rollback(d);
			return rc == MB_NONE ? MB_ERROR : rc;
		}
		if (open >= max) {
			db_rollback(d);
			return MB_DECLINED;
		}
	}
	n = db_exec(d, "INSERT INTO orders (user_id, book_id, unit_price, history_id, state, "
	    "idem_key, created_at) VALUES (?, ?, ?, ?, " ORDER_UNPAID_SQL ", ?, ?)", "iiiizs",
	    uid, book_id, price, hid, key, created);
	if (n >= 0)
		*id = db_insert_id(d);
	if (n >= 0 && max > 0)
		n = db_commit(d);
	if (n < 0) {
		if (db_in_tx(d))
			db_rollback(d);
		return (int)n;
	}
	return MB_OK;
}

static int
orders_too_many(app_answer *a, int64_t max)
{
	return app_fail(a, E_TOO_MANY_OPEN_ORDERS, "you have %lld unpaid orders, the most one "
	    "account may hold; pay or cancel one first", (long long)max);
}

int
orders_new(app_ctx *x, const app_req *r, app_answer *a)
{
	inv_req q = { .method = INV_SELL };
	const char *key = r->idem_key;
	int64_t book_id, id, kept_book, hid, price, open, max = x->cfg->max_open_orders;
	db_try t;
	char created[64];
	auth_user u;
	json_t *reply;
	order o;
	int rc;

	if (app_auth(x, r, a, &u) != MB_OK || app_param_id(r, a, "bookId", &book_id) != MB_OK)
		return a->status;
	if (key != NULL && !idem_key_ok(key))
		return app_fail(a, E_INVALID_ARGUMENT, "header 'Idempotency-Key' must be 1-%d "
		    "printable ASCII characters", IDEM_KEY_MAX);
	if (key != NULL && (rc = orders_by_key(x->db, u.id, key, &id, &kept_book)) != MB_NONE)
		return rc == MB_OK ? orders_replay(x, a, u.id, id, kept_book, book_id)
		    : app_fail_db(a, rc);
	/* refused before any stock is held; checked again, under a lock, at the insert */
	if (max > 0 && (rc = orders_open(x->db, u.id, &open)) != MB_OK)
		return app_fail_db(a, rc);
	if (max > 0 && open >= max)
		return orders_too_many(a, max);
	q.book_id = book_id;
	q.user_id = u.id;
	if ((reply = orders_inv(x, r, a, &q)) == NULL)
		return a->status;
	hid = (int64_t)json_integer_value(json_object_get(reply, "historyId"));
	price = (int64_t)json_integer_value(json_object_get(reply, "unitPrice"));
	json_decref(reply);
	order_now(created, sizeof created, &o);
	/* a deadlock victim (or, on Galera, a certification failure) runs again */
	db_try_start(&t);
	do
		rc = order_insert_tx(x->db, max, u.id, book_id, price, hid, key, created, &id);
	while (db_try_again(&t, rc));
	if (rc != MB_OK) {
		int held = MB_NONE;

		/*
		 * A transaction whose connection was lost at COMMIT may have
		 * committed all the same (on Galera, through the rest of the
		 * cluster): release only a reservation no order holds; when that
		 * cannot be read, the sweep releases it if it is orphaned.
		 */
		if (rc != MB_DECLINED && (held = db_row(x->db, "SELECT id FROM orders WHERE "
		    "history_id = ?", "i", "i", hid, &id)) == MB_OK) {
			epoch_bump(epoch_user(u.id));
			return order_answer(x, a, 201, id, u.id);
		}
		if (held == MB_NONE)
			orders_release(x, r, hid);
		if (rc == MB_DECLINED)
			return orders_too_many(a, max);
		/* the same key raced us: its order stands, ours is undone */
		if (rc == MB_DUP && key != NULL &&
		    orders_by_key(x->db, u.id, key, &id, &kept_book) == MB_OK)
			return orders_replay(x, a, u.id, id, kept_book, book_id);
		return app_fail_db(a, rc);
	}
	epoch_bump(epoch_user(u.id)); /* this user's order lists changed */
	/* answered from what we wrote: no second round trip to read it back */
	o.id = id;
	o.book_id = book_id;
	o.unit_price = price;
	snprintf(o.state, sizeof o.state, "%s", ORDER_UNPAID);
	o.paid[0] = '\0';
	return app_ok(a, 201, order_json(&o));
}

int
orders_list(app_ctx *x, const app_req *r, app_answer *a)
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

	if (app_auth(x, r, a, &u) != MB_OK)
		return a->status;
	if (limit_s != NULL && (req_parse_id(limit_s, &limit) != MB_OK ||
	    limit > ORDERS_LIMIT_MAX))
		return app_fail(a, E_INVALID_ARGUMENT, "field 'limit' must be an integer from 1 "
		    "to %d", ORDERS_LIMIT_MAX);
	if ((before_s = req_param(&r->params, "before")) != NULL &&
	    app_id(a, "before", before_s, &before) != MB_OK)
		return a->status;
	/* kept per worker while none of this user's orders changed (cache.h) */
	epoch = epoch_get(epoch_user(u.id));
	snprintf(key, sizeof key, "orders:%lld:%lld:%lld", (long long)u.id, (long long)before,
	    (long long)limit);
	if ((hit = cache_get(key, epoch)) != NULL)
		return app_ok_raw(a, 200, hit);
	/* one row more than asked tells whether there is a next page */
	/* the index is forced: on young tables the optimiser walks the primary key instead */
	rc = db_select(x->db, "SELECT " ORDER_COLS " FROM orders FORCE INDEX (orders_user) "
	    "WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?", "iii", u.id, before, limit + 1);
	if (rc < 0)
		return app_fail_db(a, rc);
	list = json_array();
	while ((rc = db_next(x->db, ORDER_FMT, ORDER_OUT(&o))) == MB_OK && n < limit) {
		json_array_append_new(list, order_json(&o));
		last = o.id;
		n++;
	}
	db_done(x->db);
	if (rc < 0) {
		json_decref(list);
		return app_fail_db(a, rc);
	}
	return orders_answer_cached(a, key, epoch, json_pack("{s:o, s:o}", "orders", list,
	    "next", rc == MB_OK ? json_integer(last) : json_null()));
}

int
orders_get(app_ctx *x, const app_req *r, app_answer *a)
{
	auth_user u;
	int64_t id;

	if (app_auth(x, r, a, &u) != MB_OK || app_id(a, "orderId", r->path_arg, &id) != MB_OK)
		return a->status;
	return order_answer(x, a, 200, id, u.id);
}

int
orders_cancel(app_ctx *x, const app_req *r, app_answer *a)
{
	order_info oi;
	auth_user u;
	int64_t id;
	order o;
	int rc;

	if (app_auth(x, r, a, &u) != MB_OK || app_param_id(r, a, "orderId", &id) != MB_OK)
		return a->status;
	/* one round trip: the order is locked, checked, cancelled and committed */
	rc = order_close(x->db, id, u.id, ORDER_CANCELLED, &oi);
	if (rc == MB_DECLINED)
		return app_fail(a, E_ORDER_CLOSED, "order is %s; it cannot be cancelled", oi.state);
	if (rc != MB_OK)
		return app_fail_lookup(a, rc, "order");
	epoch_bump(epoch_user(u.id));
	orders_release(x, r, oi.history_id);
	/* answered from what the procedure returned: no second round trip to read it */
	o.id = id;
	o.book_id = oi.book_id;
	o.unit_price = oi.unit_price;
	snprintf(o.state, sizeof o.state, "%s", oi.state);
	snprintf(o.created, sizeof o.created, "%s", oi.created);
	o.paid[0] = '\0';
	return app_ok(a, 200, order_json(&o));
}

int
orders_health(app_ctx *x, const app_req *r, app_answer *a)
{
	int db_ok = db_ping(x->db) == MB_OK, inv_ok = inv_ping(x->inv, r->ref) == MB_OK;

	if (db_ok && inv_ok)
		return app_ok(a, 200, json_pack("{s:s, s:s}", "db", "ok", "inventory", "ok"));
	return app_fail_data(a, E_UNAVAILABLE, json_pack("{s:s, s:s}", "db", db_ok ? "ok" : "down",
		    "inventory", inv_ok ? "ok" : "down"), !db_ok ? "the database is down"
		    : "the inventory service is down");
}
