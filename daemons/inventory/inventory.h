/*
 * inventory: the daemon that owns stock. Each worker thread has its own
 * database connection; the handlers below are the only SQL that writes
 * books and inventory_history, and Sell writes the new order row with its
 * reservation (sql/007_sell_order.sql) (the catalogue read, inv_books_text, is shared
 * with GET /orders/books).
 */
#ifndef MB_INVENTORY_H
#define MB_INVENTORY_H

#include "db.h"
#include "inv.h"

/*
 * Executes one decoded request with the settings c (Sell reads
 * max_open_orders); returns the reply (malloc'd JSON).
 */
char *inventory_handle(db *d, const cfg *c, const inv_req *q);
/*
 * Sells gathered by one worker thread, 2 to INVENTORY_BATCH_MAX of them:
 * made in one transaction when they all can be, else each alone; a reply
 * for each in replies[i] (malloc'd JSON, as inventory_handle's).
 */
#define INVENTORY_BATCH_MAX 16
void  inventory_sell_batch(db *d, const cfg *c, const inv_req *const *qs, int n, char **replies);
/* One pass of the sweep: releases orphaned and closed-order reservations. */
int   inventory_sweep(db *d, int64_t grace_s);

#endif
