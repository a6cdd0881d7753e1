/*
 * orders handlers. An order is made by the inventory daemon, the one place
 * stock changes: its Sell writes the reservation and the order row in one
 * transaction (orders_new). Cancel closes the order here, then asks the
 * daemon to release its copy. All other SQL of the service is here.
 */
#include "cache.h"
#include "clock.h"
#include "epoch.h"
#include "inv.h"
#include "jbuf.h"
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

/* A timestamp as the API shows it: ISO 8601 UTC, or null. */
static void
order_ts(jbuf *b, const char *s)
{
	if (*s == '\0')
		jbuf_lit(b, "null");
	else
		jbuf_str(b, s);
}

/* Appends an order as API.md shows it. */
static void
order_text(jbuf *b, const order *o)
{
	jbuf_lit(b, "{\"orderId\":");
	jbuf_int(b, o->id);
	jbuf_lit(b, ",\"bookId\":");
	jbuf_int(b, o->book_id);
	jbuf_lit(b, ",\"unitPrice\":");
	jbuf_int(b, o->unit_price);
	jbuf_lit(b, ",\"state\":");
	jbuf_str(b, o->state);
	jbuf_lit(b, ",\"createdAt\":");
	order_ts(b, o->created);
	jbuf_lit(b, ",\"paidAt\":");
	order_ts(b, o->paid);
	jbuf_lit(b, "}");
}

/* Answers one order with status. */
static int
order_ok(app_answer *a, int status, const order *o)
{
	jbuf b = { 0 };
	size_t len;
	char *text;

	order_text(&b, o);
	if ((text = jbuf_take(&b, &len)) == NULL)
		return app_fail(a, E_INTERNAL, "out of memory");
	return app_ok_raw_owned(a, status, text, len);
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
		return order_ok(a, status, &o);
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
 * Answers text (a rendered {...}, len bytes, taken) as a 200, and keeps it
 * in the cache under key for epoch: the answer is written from the kept
 * text (valid until the next cache_put), or from its own when it is not kept.
 */
static int
orders_answer_cached(app_answer *a, const char *key, uint64_t epoch, char *text, size_t len)
{
	const char *kept;

	if (text == NULL)
		return app_fail(a, E_INTERNAL, "out of memory");
	if ((kept = cache_put(key, epoch, text, len)) != NULL)
		return app_ok_raw(a, 200, kept, len);
	return app_ok_raw_owned(a, 200, text, len);
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
	size_t len;
	const char *hit = cache_get("books", epoch, &len);
	char *text;
	int rc;

	(void)r;
	if (hit != NULL)
		return app_ok_raw(a, 200, hit, len);
	if ((rc = inv_books_text(x->db, "{\"books\":", &text, &len)) != MB_OK)
		return app_fail_db(a, rc); /* MB_ERROR (out of memory too): 500 */
	return orders_answer_cached(a, "books", epoch, text, len);
}

/*
 * POST /orders/new: one call to the inventory daemon, which makes the whole
 * order in one transaction and one database round trip (its Sell, a CALL of
 * sql/009_sell_order_fewer_statements.sql): the Idempotency-Key's earlier order, the cap on
 * open orders, the reservation, the order row and the stock. This worker
 * asks the database nothing on this path; it answers from the reply.
 */
int
orders_new(app_ctx *x, const app_req *r, app_answer *a)
{
	inv_req q = { .method = INV_SELL };
	const char *key = r->idem_key, *created;
	auth_user u;
	json_t *reply;
	order o;
	int kept;

	if (app_auth(x, r, a, &u) != MB_OK || app_param_id(r, a, "bookId", &q.book_id) != MB_OK)
		return a->status;
	if (key != NULL && !inv_key_ok(key))
		return app_fail(a, E_INVALID_ARGUMENT, "header 'Idempotency-Key' must be 1-%d "
		    "printable ASCII characters", INV_KEY_MAX);
	q.user_id = u.id;
	snprintf(q.idem_key, sizeof q.idem_key, "%s", key != NULL ? key : "");
	/*
	 * A call that times out (503) may still have made the order: it is an
	 * ordinary unpaid order, and a retry with the same Idempotency-Key
	 * answers with it (docs/API.md).
	 */
	if ((reply = orders_inv(x, r, a, &q)) == NULL)
		return a->status;
	o.id = (int64_t)json_integer_value(json_object_get(reply, "orderId"));
	o.book_id = q.book_id;
	o.unit_price = (int64_t)json_integer_value(json_object_get(reply, "unitPrice"));
	snprintf(o.state, sizeof o.state, "%s", json_is_string(json_object_get(reply, "state"))
	    ? json_string_value(json_object_get(reply, "state")) : ORDER_UNPAID);
	created = json_string_value(json_object_get(reply, "createdAt"));
	snprintf(o.created, sizeof o.created, "%s", created != NULL ? created : "");
	snprintf(o.paid, sizeof o.paid, "%s", json_is_string(json_object_get(reply, "paidAt"))
	    ? json_string_value(json_object_get(reply, "paidAt")) : "");
	kept = json_is_true(json_object_get(reply, "kept"));
	json_decref(reply);
	if (o.id <= 0 || o.created[0] == '\0')
		return app_fail(a, E_INTERNAL, "bad Sell reply from the inventory service");
	/* a new order's epoch bumps (catalogue, this user's lists) are the
	 * daemon's, after its COMMIT: also when this reply is lost */
	return order_ok(a, kept ? 200 : 201, &o);
}

int
orders_list(app_ctx *x, const app_req *r, app_answer *a)
{
	const char *limit_s = req_param(&r->params, "limit"), *before_s;
	int64_t limit = ORDERS_LIMIT_DEFAULT, before = INT64_MAX, last = 0;
	char key[CACHE_KEY_MAX];
	const char *hit;
	char *text;
	size_t len;
	uint64_t epoch;
	jbuf b = { 0 };
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
	if ((hit = cache_get(key, epoch, &len)) != NULL)
		return app_ok_raw(a, 200, hit, len);
	/* one row more than asked tells whether there is a next page */
	/* the index is forced: on young tables the optimiser walks the primary key instead */
	rc = db_select(x->db, "SELECT " ORDER_COLS " FROM orders FORCE INDEX (orders_user) "
	    "WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?", "iii", u.id, before, limit + 1);
	if (rc < 0)
		return app_fail_db(a, rc);
	jbuf_lit(&b, "{\"orders\":[");
	while ((rc = db_next(x->db, ORDER_FMT, ORDER_OUT(&o))) == MB_OK && n < limit) {
		if (n++ > 0)
			jbuf_lit(&b, ",");
		order_text(&b, &o);
		last = o.id;
	}
	db_done(x->db);
	if (rc < 0) {
		free(jbuf_take(&b, NULL));
		return app_fail_db(a, rc);
	}
	jbuf_lit(&b, "],\"next\":");
	if (rc == MB_OK) /* the row past the page: there is a next one */
		jbuf_int(&b, last);
	else
		jbuf_lit(&b, "null");
	jbuf_lit(&b, "}");
	text = jbuf_take(&b, &len);
	return orders_answer_cached(a, key, epoch, text, len);
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
	return order_ok(a, 200, &o);
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
