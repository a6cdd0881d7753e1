/*
 * session: one EVP_MAC context per key is made at start and re-initialised
 * with the key it already holds for each cookie, so no key schedule is
 * computed per request. Tags are compared with CRYPTO_memcmp.
 */
#include "session.h"
#include "b64.h"
#include "mac.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_MAX_KEYS 8
#define SESSION_TAG      32

static EVP_MAC_CTX *session_ctx[SESSION_MAX_KEYS];
static int          session_nkeys;

int
session_keys(const char *const *keys, int n)
{
	int i;

	for (i = 0; i < session_nkeys; i++)
		EVP_MAC_CTX_free(session_ctx[i]);
	session_nkeys = 0;
	for (i = 0; i < n && session_nkeys < SESSION_MAX_KEYS; i++) {
		EVP_MAC_CTX *ctx;

		if (keys[i] == NULL || keys[i][0] == '\0')
			continue; /* "a,,b", a trailing comma */
		if (strlen(keys[i]) < 16) { /* a typo, not a key: refused, not skipped (a
		                             * short first key would move signing to the next) */
			while (session_nkeys > 0)
				EVP_MAC_CTX_free(session_ctx[--session_nkeys]);
			return MB_ERROR;
		}
		if ((ctx = mac_key_ctx(keys[i])) == NULL) /* HMAC-SHA256, as the seal's */
			return MB_ERROR;
		session_ctx[session_nkeys++] = ctx;
	}
	return session_nkeys > 0 ? MB_OK : MB_ERROR;
}

static int
session_tag(int k, const char *msg, size_t len, unsigned char tag[SESSION_TAG])
{
	size_t out = 0;

	if (!EVP_MAC_init(session_ctx[k], NULL, 0, NULL) ||
	    !EVP_MAC_update(session_ctx[k], (const unsigned char *)msg, len) ||
	    !EVP_MAC_final(session_ctx[k], tag, &out, SESSION_TAG) || out != SESSION_TAG)
		return -1;
	return 0;
}

int
session_new(session *s, int64_t uid, int64_t now, int64_t idle)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SESSION_ID_HEX / 2];
	size_t i;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return MB_ERROR;
	for (i = 0; i < sizeof raw; i++) {
		s->sid[2 * i] = hex[raw[i] >> 4];
		s->sid[2 * i + 1] = hex[raw[i] & 15];
	}
	s->sid[SESSION_ID_HEX] = '\0';
	s->uid = uid;
	s->iat = now;
	s->exp = now + idle;
	return MB_OK;
}

size_t
session_encode(const session *s, char *out, size_t cap)
{
	char payload[128];
	unsigned char tag[SESSION_TAG];
	size_t plen, n;
	int len;

	if (session_nkeys == 0)
		return 0;
	len = snprintf(payload, sizeof payload, "1|%s|%" PRId64 "|%" PRId64 "|%" PRId64,
	    s->sid, s->uid, s->iat, s->exp);
	if (len < 0 || (size_t)len >= sizeof payload)
		return 0;
	if ((plen = b64_encode((const unsigned char *)payload, (size_t)len, out, cap)) == 0 ||
	    plen + 2 >= cap || session_tag(0, out, plen, tag) != 0)
		return 0;
	out[plen] = '.';
	if ((n = b64_encode(tag, sizeof tag, out + plen + 1, cap - plen - 1)) == 0)
		return 0;
	return plen + 1 + n;
}

/* Parses a strictly formatted decimal field ending at `stop`. */
static int
session_num(const char **p, int stop, int64_t *out)
{
	const char *s = *p;
	int64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (*s != stop)
		return -1;
	*p = s + (stop != '\0');
	*out = n;
	return 0;
}

int
session_decode(const char *value, int64_t now, int64_t max_age, session *out)
{
	unsigned char tag[SESSION_TAG], want[SESSION_TAG];
	char payload[128];
	const char *dot, *p;
	long plen;
	int k, ok = 0;
	size_t i;

	if (value == NULL || strlen(value) > SESSION_MAX_VALUE || (dot = strchr(value, '.')) == NULL)
		return MB_DECLINED;
	if (b64_decode(dot + 1, strlen(dot + 1), tag, sizeof tag) != SESSION_TAG)
		return MB_DECLINED;
	for (k = 0; k < session_nkeys && !ok; k++)
		if (session_tag(k, value, (size_t)(dot - value), want) == 0 &&
		    CRYPTO_memcmp(tag, want, SESSION_TAG) == 0)
			ok = 1;
	if (!ok)
		return MB_DECLINED;
	plen = b64_decode(value, (size_t)(dot - value), (unsigned char *)payload, sizeof payload - 1);
	if (plen < 0)
		return MB_DECLINED;
	payload[plen] = '\0';
	if (strncmp(payload, "1|", 2) != 0)
		return MB_DECLINED;
	p = payload + 2;
	for (i = 0; i < SESSION_ID_HEX; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return MB_DECLINED;
	if (p[SESSION_ID_HEX] != '|')
		return MB_DECLINED;
	memcpy(out->sid, p, SESSION_ID_HEX);
	out->sid[SESSION_ID_HEX] = '\0';
	p += SESSION_ID_HEX + 1;
	if (session_num(&p, '|', &out->uid) != 0 || session_num(&p, '|', &out->iat) != 0 ||
	    session_num(&p, '\0', &out->exp) != 0)
		return MB_DECLINED;
	if (now >= out->exp || now - out->iat >= max_age || out->iat > now + 300)
		return MB_EXPIRED;
	return MB_OK;
}
