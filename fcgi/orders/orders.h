#ifndef MB_ORDERS_H
#define MB_ORDERS_H

#include "app.h"

int  orders_init(void);
void orders_books(app_req *r);
void orders_new(app_req *r);
void orders_list(app_req *r);
void orders_get(app_req *r);
void orders_cancel(app_req *r);
void orders_health(app_req *r);

#endif
