/* pw: see pw.h. Comparison of derived keys is constant time. */
#include "pw.h"
#include "b64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW_SALT 16
#define PW_DK   32
#define PW_MAX_ITER 100000000

static int
pw_derive(const char *pwd, size_t len, const unsigned char *salt, size_t slen, int iter,
    unsigned char dk[PW_DK])
{
	return PKCS5_PBKDF2_HMAC(pwd, (int)len, salt, (int)slen, iter, EVP_sha256(), PW_DK, dk) == 1
	    ? 0 : -1;
}

int
pw_hash(const char *pwd, size_t len, int iterations, char *out)
{
	unsigned char salt[PW_SALT], dk[PW_DK];
	char s64[32], d64[48];

	if (iterations < 1 || RAND_bytes(salt, sizeof salt) != 1 ||
	    pw_derive(pwd, len, salt, sizeof salt, iterations, dk) != 0)
		return MB_ERROR;
	b64_encode(salt, sizeof salt, s64, sizeof s64);
	b64_encode(dk, sizeof dk, d64, sizeof d64);
	return snprintf(out, PW_STORED_MAX, "pbkdf2-sha256$%d$%s$%s", iterations, s64, d64)
	    < PW_STORED_MAX ? MB_OK : MB_ERROR;
}

int
pw_verify(const char *pwd, size_t len, const char *stored)
{
	unsigned char salt[64], dk[PW_DK], want[PW_DK];
	const char *p, *s, *d;
	long slen, iter;
	char *end;

	if (stored == NULL || strncmp(stored, "pbkdf2-sha256$", 14) != 0)
		return MB_ERROR;
	p = stored + 14;
	iter = strtol(p, &end, 10);
	if (end == p || *end != '$' || iter < 1 || iter > PW_MAX_ITER)
		return MB_ERROR;
	s = end + 1;
	if ((d = strchr(s, '$')) == NULL)
		return MB_ERROR;
	if ((slen = b64_decode(s, (size_t)(d - s), salt, sizeof salt)) < 1 ||
	    b64_decode(d + 1, strlen(d + 1), want, sizeof want) != PW_DK)
		return MB_ERROR;
	if (pw_derive(pwd, len, salt, (size_t)slen, (int)iter, dk) != 0)
		return MB_ERROR;
	return CRYPTO_memcmp(dk, want, PW_DK) == 0 ? MB_OK : MB_DECLINED;
}

void
pw_dummy(const char *pwd, size_t len, int iterations)
{
	static const unsigned char salt[PW_SALT];
	unsigned char dk[PW_DK];

	(void)pw_derive(pwd, len, salt, sizeof salt, iterations, dk);
}
