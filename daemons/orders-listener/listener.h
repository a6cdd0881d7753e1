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
