/* b64: unpadded base64url, for cookie values and stored password hashes. */
#ifndef MB_B64_H
#define MB_B64_H

#include <stddef.h>

/* Writes the encoding and a NUL; returns its length, or 0 when cap is too small. */
size_t b64_encode(const unsigned char *in, size_t len, char *out, size_t cap);
/*
 * Decodes exactly `len` characters; returns the byte count, or MB_ERROR
 * (mb.h) on any
 * bad input.
 */
long   b64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
