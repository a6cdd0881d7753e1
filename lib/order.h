/*
 * order: the three moves that end an unpaid order, each one CALL of a
 * stored procedure (sql/008_order_procedures.sql), so each is one database
 * round trip: pay (payment service), cancel (orders service) and expiry
 * (orders-listener). Each locks the order row first and decides from what
 * it finds, so an order ends paid, cancelled or expired, never two of them;
 * on Galera the two writes of one row conflict at certification instead.
 * A deadlock victim or certification loser is run again here (db_try).
 */
#ifndef MB_ORDER_H
#define MB_ORDER_H

#include <stdint.h>

#include "db.h"

/* What the order was found to be, and what became of it. */
typedef struct order_info {
	char    state[16];    /* after it (paid, or the closed state); refused: why (states.h) */
	int64_t payment_id;   /* pay: the new payment, or the one it already had */
	int64_t unit_price;   /* the amount paid */
	int64_t history_id;   /* close: its inventory reservation, for Release */
	int64_t user_id;      /* close: its owner */
	int64_t book_id;      /* close: the rest of the order, for the answer */
	char    created[32];  /* close: created_at, ISO 8601 UTC */
} order_info;

/*
 * Pays order `id` of user `uid`, writing the payment, orders.payment_id and
 * the payment.done event row (ev_id, sent_time, ref) in one transaction.
 * MB_OK committed (o->payment_id, o->unit_price); MB_DECLINED when it has
 * a payment (o->payment_id) or is closed (o->state); MB_NONE no such order
 * of this user; or an error (nothing kept).
 */
int order_pay(db *d, int64_t id, int64_t uid, const char *ev_id, int64_t sent_time,
    const char *ref, order_info *o);

/*
 * Closes order `id` (of user `uid`; 0 for any user) as `state`
 * (ORDER_CANCELLED or ORDER_EXPIRED) if it is unpaid without a payment.
 * MB_OK committed (o filled); MB_DECLINED (o->state: ORDER_PAID when it has
 * a payment, else its state); MB_NONE no such order (of this user); or an
 * error (nothing kept).
 */
int order_close(db *d, int64_t id, int64_t uid, const char *state, order_info *o);

#endif
