/*
 * orders-listener: applies payment.done events (order -> paid, reservation
 * -> sold) and expires orders left unpaid past ORDER_TTL. The event table is
 * the truth: a message on the bus only wakes the listener to apply what is
 * recorded, in batches. Every step is idempotent, so an event seen twice (on
 * the bus and in a scan) changes its order once.
 */
#ifndef MB_LISTENER_H
#define MB_LISTENER_H

#include "db.h"
#include "inv.h"
#include "states.h"

/*
 * The oldest recorded events not applied yet, at most ? of them: order id,
 * reservation id, user id, ref. Only events whose copy is still reserved
 * or sold: one whose copy was released (which the order row lock rules
 * out) would fail every batch and, once a batch of them piled up, starve
 * the rest; it stays unapplied for an operator, and invariants.sh reports
 * it. The events_pending index (applied_at, sent_time; sql/011) gives them
 * in sent_time order, so a batch reads its own rows however many wait;
 * on (applied_at) alone it read and sorted every pending event for each
 * batch, so catching up after the listener was away cost more the more
 * there was to catch up (t/db/test_payment counts the rows it reads).
 */
#define LISTENER_PENDING_SQL \
	"SELECT e.order_id, o.history_id, o.user_id, e.ref FROM payment_events e " \
	"JOIN orders o ON o.id = e.order_id JOIN inventory_history h ON h.id = o.history_id " \
	"WHERE e.applied_at IS NULL AND h.state IN (" HIST_RESERVED_SQL ", " HIST_SOLD_SQL ") " \
	"ORDER BY e.sent_time LIMIT ?"

/* Applies every recorded event not applied yet, in batches: MB_OK, or < 0 to retry later (mb.h). */
int listener_catch_up(db *d, inv_client *inv);
/* Expires unpaid orders older than ttl_s: how many were expired, or < 0 (mb.h; not logged). */
int listener_expire(db *d, inv_client *inv, int64_t ttl_s);

/*
 * Deletes up to LISTENER_PURGE_BATCH sessions older than max_age_s: how
 * many, or < 0 (mb.h; not logged).
 */
#define LISTENER_PURGE_BATCH 1000
int listener_purge_sessions(db *d, int64_t max_age_s);
/* The same for login_failures rows past two LOGIN_FAIL_WINDOWs and not blocking. */
int listener_purge_login_failures(db *d, int64_t window_s);

#endif
