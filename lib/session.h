/*
 * session: the signed cookie that every service honours. The value is
 * base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))
 * with payload "1|<session id hex>|<user id>|<issued at>|<idle expiry>".
 * The first configured key signs; every listed key verifies, so a key is
 * rotated by prepending the new one and dropping the old one later.
 * Revocation is server-side (auth.c looks the session id up); this module
 * only proves that we issued the cookie and that it has not expired.
 */
#ifndef MB_SESSION_H
#define MB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "mb.h"

#define SESSION_COOKIE    "mb_session"
#define SESSION_ID_HEX    32
#define SESSION_MAX_VALUE 256

typedef struct session {
	char    sid[SESSION_ID_HEX + 1];
	int64_t uid;
	int64_t iat;   /* issued at, unix seconds */
	int64_t exp;   /* idle expiry, unix seconds; refreshed while active */
} session;

/* Sets the verification keys (first signs): MB_OK, or MB_ERROR when none is usable. */
int    session_keys(const char *const *keys, int n);
/* A new session for uid with a fresh random id: MB_OK, or MB_ERROR (no randomness). */
int    session_new(session *s, int64_t uid, int64_t now, int64_t idle);
/* Writes the cookie value; returns its length, 0 on error. */
size_t session_encode(const session *s, char *out, size_t cap);
/*
 * Verifies and decodes a cookie value against the idle and absolute limits:
 * MB_OK, MB_DECLINED (not ours, or malformed) or MB_EXPIRED.
 */
int    session_decode(const char *value, int64_t now, int64_t max_age, session *out);

#endif
