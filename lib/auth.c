/*
 * auth: the session table is the server-side truth (revocation); the
 * cookie carries identity and expiry so that a revoked or expired session is
 * refused with one primary-key lookup, joined with the user's name.
 */
#include "auth.h"
#include "cache.h"
#include "epoch.h"
#include "req.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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
 * request asks the database. The table is set-associative like cache.c's:
 * a session may sit in any of its set's AUTH_WAYS entries, so two sessions
 * whose ids hash alike do not push each other out on every request (with a
 * slot per hash, 64 sessions in 1024 slots collide more often than not).
 */
#define AUTH_CACHE_TTL 5

typedef struct auth_cached {
	char     sid[SESSION_ID_HEX + 1];
	int64_t  uid;
	char     name[32];
	uint64_t epoch;   /* the epoch it was filled under; 0 = empty (no epoch file: none is kept) */
	int64_t  until;   /* unix seconds */
} auth_cached;

static auth_cached auth_cache[AUTH_SETS][AUTH_WAYS];

/* sid's entry in its set, else the entry to fill: an empty one, else the one that ages out first. */
static auth_cached *
auth_slot(const char *sid)
{
	auth_cached *set = auth_cache[cache_hash(sid) % AUTH_SETS], *e = &set[0];
	int i;

	for (i = 0; i < AUTH_WAYS; i++)
		if (set[i].epoch != 0 && strcmp(set[i].sid, sid) == 0)
			return &set[i];
	for (i = 0; i < AUTH_WAYS; i++) {
		if (set[i].epoch == 0)
			return &set[i];
		if (set[i].until < e->until)
			e = &set[i];
	}
	return e;
}

const char *
auth_cookie_name(const cfg *c)
{
	return c->cookie_secure ? "__Host-" SESSION_COOKIE : SESSION_COOKIE;
}

size_t
auth_cookie(const cfg *c, const session *s, int64_t now, char *out, size_t cap)
{
	char value[SESSION_MAX_VALUE + 1];
	int64_t max_age;
	int n;

	if (s == NULL)
		n = snprintf(out, cap, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
		    auth_cookie_name(c), c->cookie_secure ? "; Secure" : "");
	else {
		if (session_encode(s, value, sizeof value) == 0)
			return 0;
		max_age = s->iat + c->session_max - now;
		n = snprintf(out, cap, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
		    auth_cookie_name(c), value, (long long)(max_age > 0 ? max_age : 0),
		    c->cookie_secure ? "; Secure" : "");
	}
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int
auth_require(db *d, const cfg *c, const char *cookie, int64_t now, auth_user *u)
{
	char value[SESSION_MAX_VALUE + 1];
	uint64_t epoch;
	auth_cached *slot;
	int64_t uid;
	int rc;

	u->refresh = 0;
	u->why = NULL;
	rc = req_cookie(cookie, auth_cookie_name(c), value, sizeof value);
	if (rc == MB_NONE) {
		u->why = "log in first (no session cookie)";
		return MB_DECLINED;
	}
	if (rc != MB_OK || (rc = session_decode(value, now, c->session_max, &u->s)) == MB_DECLINED) {
		u->why = "session cookie is invalid; log in again";
		return MB_DECLINED;
	}
	if (rc == MB_EXPIRED) {
		u->why = "session expired; log in again";
		return MB_DECLINED;
	}
	slot = auth_slot(u->s.sid);
	epoch = epoch_get(EPOCH_SESSIONS);
	if (epoch != 0 && slot->epoch == epoch && now < slot->until && slot->uid == u->s.uid &&
	    strcmp(slot->sid, u->s.sid) == 0) {
		uid = slot->uid;
		memcpy(u->name, slot->name, sizeof u->name);
	} else {
		rc = db_row(d, "SELECT u.id, u.name FROM sessions s JOIN users u "
		    "ON u.id = s.user_id WHERE s.id = ? AND s.revoked_at IS NULL", "s", "is",
		    u->s.sid, &uid, u->name, sizeof u->name);
		if (rc < 0)
			return rc;
		if (rc == MB_NONE || uid != u->s.uid) {
			u->why = "session was logged out; log in again";
			return MB_DECLINED;
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
		u->refresh = 1;
	}
	return MB_OK;
}

int
auth_login(db *d, const cfg *c, int64_t uid, int64_t now, session *s)
{
	int64_t n;

	if (session_new(s, uid, now, c->session_idle) != MB_OK)
		return MB_ERROR;
	n = db_exec(d, "INSERT INTO sessions (id, user_id, created_at) "
	    "VALUES (?, ?, UTC_TIMESTAMP(3))", "si", s->sid, uid);
	return n < 0 ? (int)n : MB_OK;
}

int
auth_logout(db *d, const auth_user *u)
{
	int64_t n;

	n = db_exec(d, "UPDATE sessions SET revoked_at = UTC_TIMESTAMP(3) "
	    "WHERE id = ? AND revoked_at IS NULL", "s", u->s.sid);
	if (n < 0)
		return (int)n;
	/* after the COMMIT: every worker's cached sessions now need a fresh look */
	epoch_bump(EPOCH_SESSIONS);
	auth_slot(u->s.sid)->epoch = 0;
	return MB_OK;
}
