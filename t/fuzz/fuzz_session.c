/*
 * fuzz_session: the mb_session cookie value. Any string must decode to
 * OK, BAD or EXPIRED without touching memory it should not; a value that
 * verifies must re-encode to one that decodes to the same session. Then a
 * session built from the input bytes must survive encode/decode with the
 * expiry verdict the rules give, and any single changed byte of its cookie
 * must break the signature.
 */
#include "fuzz.h"
#include "session.h"

#define KEY_A   "fuzz-key-A-0123456789abcdef"
#define KEY_B   "fuzz-key-B-fedcba9876543210"
#define NOW     1764150000   /* the fixed clock the seed cookies were made for */
#define MAX_AGE 86400

static void
fuzz_session_keys(void)
{
	static int done;
	const char *keys[] = { KEY_A, KEY_B };

	if (!done) {
		FUZZ_CHECK(session_keys(keys, 2) == MB_OK);
		done = 1;
	}
}

static int
fuzz_expected(const session *s)
{
	return (NOW >= s->exp || NOW >= s->iat + MAX_AGE || s->iat > NOW + 300)
	    ? MB_EXPIRED : MB_OK;
}

static void
fuzz_same(const session *a, const session *b)
{
	FUZZ_CHECK(strcmp(a->sid, b->sid) == 0);
	FUZZ_CHECK(a->uid == b->uid && a->iat == b->iat && a->exp == b->exp);
}

/* Takes 8 bytes from the input (zeros once it runs out). */
static uint64_t
fuzz_u64(const uint8_t **p, size_t *left)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = v << 8 | (*left > 0 ? **p : 0);
		if (*left > 0) {
			(*p)++;
			(*left)--;
		}
	}
	return v;
}

/* Decodes whatever the input is. */
static void
fuzz_decode_input(const uint8_t *data, size_t size)
{
	char *value = fuzz_cstr(data, size), again[SESSION_MAX_VALUE + 1];
	session s, back;
	int rc;

	memset(&s, 0, sizeof s);
	rc = session_decode(value, NOW, MAX_AGE, &s);
	FUZZ_CHECK(rc == MB_OK || rc == MB_DECLINED || rc == MB_EXPIRED);
	if (rc != MB_DECLINED) {
		/* It verified: the payload is ours, so it re-encodes and decodes the same. */
		FUZZ_CHECK(strlen(s.sid) == SESSION_ID_HEX);
		FUZZ_CHECK(rc == fuzz_expected(&s));
		FUZZ_CHECK(session_encode(&s, again, sizeof again) > 0);
		FUZZ_CHECK(session_decode(again, NOW, MAX_AGE, &back) == rc);
		fuzz_same(&s, &back);
	}
	free(value);
}

/* Builds a session from the input, then encodes, decodes and tampers with it. */
static void
fuzz_round_trip(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char cookie[SESSION_MAX_VALUE + 1];
	const uint8_t *p = data;
	size_t left = size, n, i, pos;
	session s, back;
	uint64_t a, b;
	uint8_t mode, flip;
	int rc;

	mode = left > 0 ? (left--, *p++) : 0;
	for (i = 0; i < SESSION_ID_HEX / 2; i++) {
		uint8_t c = left > 0 ? (left--, *p++) : 0;

		s.sid[2 * i] = hex[c >> 4];
		s.sid[2 * i + 1] = hex[c & 15];
	}
	s.sid[SESSION_ID_HEX] = '\0';
	s.uid = (int64_t)(fuzz_u64(&p, &left) & INT64_MAX);
	a = fuzz_u64(&p, &left);
	b = fuzz_u64(&p, &left);
	if (mode & 1) {
		/* Any size the payload can hold, kept below where iat + MAX_AGE overflows. */
		s.iat = (int64_t)(a & ((UINT64_C(1) << 62) - 1));
		s.exp = (int64_t)(b & ((UINT64_C(1) << 62) - 1));
	} else {
		/* Around NOW, where every expiry rule can go either way. */
		s.iat = NOW - 2 * MAX_AGE + (int64_t)(a % (4 * MAX_AGE));
		s.exp = NOW - 2 * MAX_AGE + (int64_t)(b % (4 * MAX_AGE));
	}
	n = session_encode(&s, cookie, sizeof cookie);
	FUZZ_CHECK(n > 0 && n == strlen(cookie));
	memset(&back, 0, sizeof back);
	rc = session_decode(cookie, NOW, MAX_AGE, &back);
	FUZZ_CHECK(rc == fuzz_expected(&s));
	fuzz_same(&s, &back);

	/* One changed byte anywhere: the signature no longer holds. */
	pos = (size_t)(fuzz_u64(&p, &left) % n);
	flip = left > 0 ? *p : 0x01;
	if (flip != 0 && (char)flip != cookie[pos]) {
		cookie[pos] = (char)flip;
		FUZZ_CHECK(session_decode(cookie, NOW, MAX_AGE, &back) == MB_DECLINED);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_session_keys();
	fuzz_decode_input(data, size);
	fuzz_round_trip(data, size);
	return 0;
}
