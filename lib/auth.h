/*
 * auth: the one guard every service calls, plus login/logout session
 * bookkeeping and the cross-site check. A session is valid when its cookie
 * verifies (session.c) and its row is neither missing nor revoked.
 */
#ifndef MB_AUTH_H
#define MB_AUTH_H

#include <stdint.h>

#include "app.h"
#include "session.h"

typedef struct auth_user {
	int64_t id;
	char    name[32];
	session s;
} auth_user;

/* 0 with *u filled, or -1 after answering 401 (or 503). Refreshes the idle expiry. */
int auth_require(app_req *r, auth_user *u);
/* Opens a new session for uid and sets the cookie; -1 after answering 503. */
int auth_login(app_req *r, int64_t uid);
/* Revokes u's session and clears the cookie; -1 after answering 503. */
int auth_logout(app_req *r, const auth_user *u);

/*
 * 1 when a state-changing request may proceed: no Origin and no Referer
 * (curl, Postman), or the one present names our own origin (scheme://Host).
 */
int auth_same_origin(const char *origin, const char *referer, const char *host, int https);

#endif
