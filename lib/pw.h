/*
 * pw: password hashing with PBKDF2-HMAC-SHA256 (OpenSSL). The stored form
 * describes itself, "pbkdf2-sha256$<iterations>$<salt>$<hash>" (base64url),
 * so the iteration count can be raised later without breaking old hashes.
 */
#ifndef MB_PW_H
#define MB_PW_H

#include <stddef.h>

#define PW_STORED_MAX 128

/* Returns 0 and writes the stored form into out (PW_STORED_MAX bytes). */
int pw_hash(const char *pwd, size_t len, int iterations, char *out);
/* 1 when pwd matches, 0 when not, -1 when `stored` is malformed. */
int pw_verify(const char *pwd, size_t len, const char *stored);
/* Spends the same time as a verify, for unknown users (no timing oracle). */
void pw_dummy(const char *pwd, size_t len, int iterations);

#endif
