#ifndef MB_PAYMENT_H
#define MB_PAYMENT_H

#include "app.h"

int  payment_init(void);
void payment_pay(app_req *r);
void payment_health(app_req *r);

#endif
