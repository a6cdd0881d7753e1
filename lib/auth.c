/*
 * auth: the session table is the server-side truth (revocation); the
 * cookie carries identity and expiry so that a revoked or expired session is
 * refused with one primary-key lookup, joined with the user's name.
 */
#include "auth.h"
#include "cache.h"
#include "epoch.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void
auth_set_cookie(app_req *r, const session *s)
{
	const cfg *c = app_cfg();
	char value[SESSION_MAX_VALUE + 1];
	int64_t max_age = s->iat + c->session_max - app_now_us() / 1000000;

	if (session_encode(s, value, sizeof value) == 0) {
		log_msg("error", r->ref, "session encode failed");
		return;
	}
	app_header(r, "Set-Cookie: %s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
	    SESSION_COOKIE, value, (long long)(max_age > 0 ? max_age : 0),
	    c->cookie_secure ? "; Secure" : "");
}

/*
 * Revocation, fast: a worker remembers the sessions it found valid, tagged
 * with the revocation epoch (EPOCH_SESSIONS of epoch.h, shared by every
 * worker of every service). Logout revokes the session in
 * the database and then bumps the epoch, so every cached entry stops
 * counting at once and the next request of each session is checked against
 * the database again. The epoch is read before the database is asked, so a
 * revocation that commits during the lookup is still seen next time. An
 * entry also ages out after AUTH_CACHE_TTL seconds, which bounds staleness
 * if a logout dies between its COMMIT and the bump. Without the file, every
 * request asks the database.
 */
#define AUTH_CACHE     1024
#define AUTH_CACHE_TTL 5

typedef struct auth_cached {
	char     sid[SESSION_ID_HEX + 1];
	int64_t  uid;
	char     name[32];
	uint64_t epoch;   /* epoch + 1 when filled; 0 = empty */
	int64_t  until;   /* unix seconds */
} auth_cached;

static auth_cached auth_cache[AUTH_CACHE];

static auth_cached *
auth_slot(const char *sid)
{
	return &auth_cache[cache_hash(sid) % AUTH_CACHE];
}

int
auth_require(app_req *r, auth_user *u)
{
	const cfg *c = app_cfg();
	int64_t now = app_now_us() / 1000000, uid;
	char value[SESSION_MAX_VALUE + 1];
	uint64_t epoch;
	auth_cached *slot;
	int rc;

	rc = req_cookie(r->cookie, SESSION_COOKIE, value, sizeof value);
	if (rc == 0) {
		app_fail(r, E_UNAUTHENTICATED, "log in first (no session cookie)");
		return -1;
	}
	if (rc < 0 || (rc = session_decode(value, now, c->session_max, &u->s)) == MB_DECLINED) {
		app_fail(r, E_UNAUTHENTICATED, "session cookie is invalid; log in again");
		return -1;
	}
	if (rc == MB_EXPIRED) {
		app_fail(r, E_UNAUTHENTICATED, "session expired; log in again");
		return -1;
	}
	slot = auth_slot(u->s.sid);
	epoch = epoch_get(EPOCH_SESSIONS);
	if (epoch != 0 && slot->epoch == epoch && now < slot->until && slot->uid == u->s.uid &&
	    strcmp(slot->sid, u->s.sid) == 0) {
		uid = slot->uid;
		memcpy(u->name, slot->name, sizeof u->name);
	} else {
		rc = db_row(app_db(), "SELECT u.id, u.name FROM sessions s JOIN users u "
		    "ON u.id = s.user_id WHERE s.id = ? AND s.revoked_at IS NULL", "s", "is",
		    u->s.sid, &uid, u->name, sizeof u->name);
		if (rc < 0) {
			app_fail_db(r, rc);
			return -1;
		}
		if (rc == MB_NONE || uid != u->s.uid) {
			app_fail(r, E_UNAUTHENTICATED, "session was logged out; log in again");
			return -1;
		}
		memcpy(slot->sid, u->s.sid, sizeof slot->sid);
		memcpy(slot->name, u->name, sizeof slot->name);
		slot->uid = uid;
		slot->epoch = epoch;
		slot->until = now + AUTH_CACHE_TTL;
	}
	u->id = uid;
	/* Refresh the idle expiry once half of it is used, never past the absolute limit. */
	if (u->s.exp - now < c->session_idle / 2) {
		int64_t until = now + c->session_idle, hard = u->s.iat + c->session_max;

		u->s.exp = until < hard ? until : hard;
		auth_set_cookie(r, &u->s);
	}
	return 0;
}

int
auth_login(app_req *r, int64_t uid)
{
	const cfg *c = app_cfg();
	int64_t now = app_now_us() / 1000000;
	session s;
	int64_t rc;

	if (session_new(&s, uid, now, c->session_idle) != 0) {
		app_fail(r, E_INTERNAL, "no randomness for a session id");
		return -1;
	}
	rc = db_exec(app_db(), "INSERT INTO sessions (id, user_id, created_at) "
	    "VALUES (?, ?, UTC_TIMESTAMP(3))", "si", s.sid, uid);
	if (rc < 0) {
		app_fail_db(r, (int)rc);
		return -1;
	}
	auth_set_cookie(r, &s);
	return 0;
}

int
auth_logout(app_req *r, const auth_user *u)
{
	const cfg *c = app_cfg();
	int64_t rc;

	rc = db_exec(app_db(), "UPDATE sessions SET revoked_at = UTC_TIMESTAMP(3) "
	    "WHERE id = ? AND revoked_at IS NULL", "s", u->s.sid);
	if (rc < 0) {
		app_fail_db(r, (int)rc);
		return -1;
	}
	/* after the COMMIT: every worker's cached sessions now need a fresh look */
	epoch_bump(EPOCH_SESSIONS);
	auth_slot(u->s.sid)->epoch = 0;
	app_header(r, "Set-Cookie: %s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
	    SESSION_COOKIE, c->cookie_secure ? "; Secure" : "");
	return 0;
}

/* 1 when url starts with scheme://host and then ends or continues with '/'. */
static int
auth_origin_is(const char *url, const char *host, int https)
{
	const char *scheme = https ? "https://" : "http://";
	size_t slen = strlen(scheme), hlen = strlen(host);

	if (strncasecmp(url, scheme, slen) != 0 || strncasecmp(url + slen, host, hlen) != 0)
		return 0;
	url += slen + hlen;
	return *url == '\0' || *url == '/';
}

int
auth_same_origin(const char *origin, const char *referer, const char *host, int https)
{
	if (origin != NULL && *origin != '\0')
		return host != NULL && auth_origin_is(origin, host, https) &&
		    strchr(origin + (https ? 8 : 7), '/') == NULL;
	if (referer != NULL && *referer != '\0')
		return host != NULL && auth_origin_is(referer, host, https);
	return 1;
}
