/*
 * pw: password hashing with PBKDF2-HMAC-SHA256 (OpenSSL). The stored form
 * describes itself, "pbkdf2-sha256$<iterations>$<salt>$<hash>" (base64url),
 * so the iteration count can be raised later without breaking old hashes.
 */
#ifndef MB_PW_H
#define MB_PW_H

#include <stddef.h>

#include "mb.h"

#define PW_STORED_MAX 128

/* MB_OK with the stored form in out (PW_STORED_MAX bytes), or MB_ERROR. */
int pw_hash(const char *pwd, size_t len, int iterations, char *out);
/* MB_OK when pwd matches, MB_DECLINED when not, MB_ERROR when `stored` is malformed. */
int pw_verify(const char *pwd, size_t len, const char *stored);
/* Spends the same time as a verify, for unknown users (no timing oracle). */
void pw_dummy(const char *pwd, size_t len, int iterations);

#endif
