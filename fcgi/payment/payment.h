/*
 * payment: the handlers of /payment (app.h says how a handler answers);
 * main.c routes to them, and t/db/test_payment.c calls them against a test
 * database.
 */
#ifndef MB_PAYMENT_H
#define MB_PAYMENT_H

#include "app.h"

/* Opens the payment.done PUB socket into x->bus. */
int payment_init(app_ctx *x);
int payment_pay(app_ctx *x, const app_req *r, app_answer *a);

#endif
