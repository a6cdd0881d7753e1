/*
 * auth: the session check every service runs, and the session bookkeeping
 * of login and logout. A session is valid when its cookie verifies
 * (session.c) and its row is neither missing nor revoked. Nothing here
 * speaks HTTP: each function returns an mb.h code and fills in what the
 * caller needs, and app.c turns that into the answer (a refused check into
 * 401, a database failure into 503, the cookies into Set-Cookie headers).
 */
#ifndef MB_AUTH_H
#define MB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "db.h"
#include "mb.h"
#include "session.h"

/* The sessions a worker keeps (auth.c): AUTH_SETS sets of AUTH_WAYS, by cache_hash of the id. */
#define AUTH_SETS 256
#define AUTH_WAYS 4

typedef struct auth_user {
	int64_t     id;
	char        name[32];
	session     s;
	int         refresh;  /* 1: the idle expiry moved on; send s as a new cookie */
	const char *why;      /* MB_DECLINED: the reason, for the 401's detail */
} auth_user;

/*
 * The auth check of the Cookie header at unix time `now`: MB_OK with *u
 * filled in (u->refresh set when the idle expiry was moved on); MB_DECLINED
 * with u->why (no cookie, not ours, expired, logged out); or the database's
 * failure (MB_UNAVAIL, MB_AGAIN, MB_ERROR).
 */
int    auth_require(db *d, const cfg *c, const char *cookie, int64_t now, auth_user *u);
/* Opens a new session for uid in *s: MB_OK, or MB_ERROR / the database's failure. */
int    auth_login(db *d, const cfg *c, int64_t uid, int64_t now, session *s);
/* Revokes u's session: MB_OK, or the database's failure. */
int    auth_logout(db *d, const auth_user *u);
/*
 * The session cookie's name: "mb_session", or with COOKIE_SECURE=1
 * "__Host-mb_session" (browsers then keep it only if it came over HTTPS with
 * Secure and Path=/ and no Domain, so a sibling host or plain HTTP cannot
 * plant one). Only the configured name is read.
 */
const char *auth_cookie_name(const cfg *c);
/*
 * The Set-Cookie header's value for session s at unix time `now`, or, with
 * s NULL, the one that clears the cookie. Its length, or 0 when it cannot
 * be written (no key, or cap too small).
 */
size_t auth_cookie(const cfg *c, const session *s, int64_t now, char *out, size_t cap);

#endif
