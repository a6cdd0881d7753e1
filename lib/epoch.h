/*
 * epoch: change counters shared by every process of this host through one
 * mmap'd file (EPOCH_FILE). A writer bumps a counter after it COMMITs a
 * change; a reader that keeps something derived from the database tags it
 * with the counter it read *before* asking the database, and trusts it only
 * while the counter is unchanged. So a cached answer is never older than the
 * last change made through the services (the gap is the moment between a
 * COMMIT and its bump); changes made by hand in SQL are covered by each
 * cache's own short lifetime. Single-host by design; without the file
 * epoch_get returns 0 and callers do not cache.
 *
 *   EPOCH_SESSIONS   logout (auth.c: the session cache)
 *   EPOCH_CATALOGUE  any stock change (inventory daemon: GET /orders/books)
 *   epoch_user(uid)  any change of that user's orders (orders service and
 *                    orders-listener: GET /orders); users share slots, so a
 *                    bump may refresh a neighbour's cache too, never less
 */
#ifndef MB_EPOCH_H
#define MB_EPOCH_H

#include <stdint.h>

#include "mb.h"

enum {
	EPOCH_SESSIONS = 0,
	EPOCH_CATALOGUE = 1,
	EPOCH_USERS = 2,           /* first of EPOCH_USER_SLOTS */
	EPOCH_USER_SLOTS = 4096,
	EPOCH_COUNT = EPOCH_USERS + EPOCH_USER_SLOTS,
};

/* Maps the file (created if missing): MB_OK (also when path is NULL), or MB_ERROR. */
int      epoch_init(const char *path);
/* The counter of slot + 1 (never 0), or 0 when no file is mapped. */
uint64_t epoch_get(int slot);
/* Counts a committed change in slot (nothing without a file). */
void     epoch_bump(int slot);
/* The slot of a user's orders. */
int      epoch_user(int64_t uid);

#endif
