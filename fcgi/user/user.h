#ifndef MB_USER_H
#define MB_USER_H

#include "app.h"

void user_register(app_req *r);
void user_login(app_req *r);
void user_logout(app_req *r);
void user_me(app_req *r);
void user_health(app_req *r);

#endif
