/*
 * order: the row lock that serialises everything that closes an order. Pay
 * (payment service), cancel (orders service) and expiry (orders-listener)
 * each start a transaction and take this lock first, then decide from what
 * it returns; so an order ends paid, cancelled or expired, never two of them.
 */
#ifndef MB_ORDER_H
#define MB_ORDER_H

#include <stdint.h>

#include "db.h"

typedef struct order_lock {
	char    state[16];    /* ORDER_UNPAID ... of states.h */
	int64_t history_id;   /* its inventory reservation */
	int64_t unit_price;
	int64_t user_id;      /* its owner */
	int64_t payment_id;   /* 0 when it has no payment */
} order_lock;

/*
 * Begins a transaction and locks order `id` (of user `uid`; 0 for any user).
 * MB_OK with *o filled and the transaction open when the order may still be
 * paid, cancelled or expired; MB_DECLINED (rolled back, *o says why: its
 * state, its payment) when it may not; MB_NONE (no such order, or not this
 * user's) or an error, rolled back.
 */
int order_lock_begin(db *d, int64_t id, int64_t uid, order_lock *o);

#endif
