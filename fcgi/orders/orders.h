/*
 * orders: the handlers of /orders (app.h says how a handler answers); main.c
 * routes to them, and t/db/test_orders.c calls them against a test database.
 */
#ifndef MB_ORDERS_H
#define MB_ORDERS_H

#include "app.h"

/* Opens the inventory client into x->inv. */
int orders_init(app_ctx *x);
int orders_books(app_ctx *x, const app_req *r, app_answer *a);
int orders_new(app_ctx *x, const app_req *r, app_answer *a);
int orders_list(app_ctx *x, const app_req *r, app_answer *a);
int orders_get(app_ctx *x, const app_req *r, app_answer *a);
int orders_cancel(app_ctx *x, const app_req *r, app_answer *a);
int orders_health(app_ctx *x, const app_req *r, app_answer *a);

#endif
