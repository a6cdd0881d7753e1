/*
 * user: the handlers of /user (app.h says how a handler answers); main.c
 * routes to them, and t/db/test_user.c calls them against a test database.
 */
#ifndef MB_USER_H
#define MB_USER_H

#include "app.h"

/* Start-up: cracklib's dictionary is there (MB_OK), or logged and MB_ERROR. */
int user_init(app_ctx *x);
int user_register(app_ctx *x, const app_req *r, app_answer *a);
int user_login(app_ctx *x, const app_req *r, app_answer *a);
int user_logout(app_ctx *x, const app_req *r, app_answer *a);
int user_me(app_ctx *x, const app_req *r, app_answer *a);

#endif
