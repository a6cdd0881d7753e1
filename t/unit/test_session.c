/*
 * test_session: the signed cookie. A cookie must survive a round trip,
 * every altered byte must break it, expiry must follow the idle and
 * absolute limits, and key rotation must keep old cookies valid exactly as
 * long as their key is listed. Payload validation is reached by signing
 * hand-made payloads with the test key (HMAC from libcrypto).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "session.h"

#define KEY_A   "0123456789abcdef-key-A"
#define KEY_B   "fedcba9876543210-key-B"
#define NOW     1764150000   /* 2025-11-26, a fixed clock */
#define IDLE    1800
#define MAX_AGE 86400

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
use_keys(int n, ...)
{
	const char *keys[8];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		keys[i] = va_arg(ap, const char *);
	va_end(ap);
	return session_keys(keys, n);
}

static int
setup_key_a(void **state)
{
	(void)state;
	return use_keys(1, KEY_A);
}

/* A fresh session at NOW for uid, encoded into out (SESSION_MAX_VALUE + 1). */
static size_t
make_cookie(session *s, int64_t uid, char *out)
{
	size_t n;

	assert_int_equal(session_new(s, uid, NOW, IDLE), MB_OK);
	n = session_encode(s, out, SESSION_MAX_VALUE + 1);
	assert_true(n > 0);
	return n;
}

/* The cookie session.c would make for `payload`, signed with `key`. */
static void
sign(const char *key, const char *payload, char *out, size_t cap)
{
	unsigned char tag[EVP_MAX_MD_SIZE];
	unsigned int tlen = 0;
	size_t plen;

	plen = b64_encode((const unsigned char *)payload, strlen(payload), out, cap);
	assert_true(plen > 0 || payload[0] == '\0');
	assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)out, plen,
	    tag, &tlen));
	assert_int_equal(tlen, 32);
	out[plen] = '.';
	assert_true(b64_encode(tag, tlen, out + plen + 1, cap - plen - 1) > 0);
}

static void
test_round_trip(void **state)
{
	char value[SESSION_MAX_VALUE + 1];
	session s, d;
	size_t n, i;

	(void)state;
	n = make_cookie(&s, 10001, value);
	assert_int_equal(strlen(s.sid), SESSION_ID_HEX);
	assert_int_equal(strspn(s.sid, "0123456789abcdef"), SESSION_ID_HEX);
	assert_int_equal(s.uid, 10001);
	assert_int_equal(s.iat, NOW);
	assert_int_equal(s.exp, NOW + IDLE);

	assert_int_equal(strlen(value), n);
	assert_true(n <= SESSION_MAX_VALUE);
	assert_non_null(strchr(value, '.'));
	assert_ptr_equal(strchr(value, '.'), strrchr(value, '.'));
	for (i = 0; i < n; i++)
		assert_true(value[i] == '.' || strchr(alphabet, value[i]) != NULL);

	memset(&d, 0, sizeof d);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_OK);
	assert_string_equal(d.sid, s.sid);
	assert_int_equal(d.uid, 10001);
	assert_int_equal(d.iat, NOW);
	assert_int_equal(d.exp, NOW + IDLE);
	assert_int_equal(session_decode(value, NOW + IDLE - 1, MAX_AGE, &d), MB_OK);
}

static void
test_round_trip_extreme_values(void **state)
{
	char value[SESSION_MAX_VALUE + 1];
	session s, d;

	(void)state;
	assert_int_equal(session_new(&s, INT64_MAX, NOW, IDLE), MB_OK);
	assert_true(session_encode(&s, value, sizeof value) > 0);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_OK);
	assert_int_equal(d.uid, INT64_MAX);
	assert_string_equal(d.sid, s.sid);

	assert_int_equal(session_new(&s, 0, NOW, IDLE), MB_OK);
	assert_true(session_encode(&s, value, sizeof value) > 0);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_OK);
	assert_int_equal(d.uid, 0);
}

static void
test_new_ids_differ(void **state)
{
	session a, b;

	(void)state;
	assert_int_equal(session_new(&a, 1, NOW, IDLE), MB_OK);
	assert_int_equal(session_new(&b, 1, NOW, IDLE), MB_OK);
	assert_string_not_equal(a.sid, b.sid);
}

/* Encoding into a buffer one byte too small fails without writing past it. */
static void
test_encode_cap(void **state)
{
	char value[SESSION_MAX_VALUE + 1], *buf;
	session s;
	size_t n, cap;

	(void)state;
	n = make_cookie(&s, 42, value);
	for (cap = 0; cap <= n + 1; cap++) {
		buf = malloc(cap ? cap : 1);
		assert_non_null(buf);
		if (cap <= n)
			assert_int_equal(session_encode(&s, buf, cap), 0);
		else {
			assert_int_equal(session_encode(&s, buf, cap), n);
			assert_string_equal(buf, value);
		}
		free(buf);
	}
}

static void
test_any_changed_byte_is_bad(void **state)
{
	static const unsigned char repl[] = { '.', '=', '+', '/', ' ', '|', 0x01, 0x7f, 0x80,
	    0xc3, 0xff };
	char value[SESSION_MAX_VALUE + 1], s2[SESSION_MAX_VALUE + 1];
	session s, d;
	size_t n, pos, i;

	(void)state;
	n = make_cookie(&s, 10001, value);
	for (pos = 0; pos < n; pos++) {
		unsigned char c = (unsigned char)value[pos];
		unsigned char extra[] = { c ^ 1, c ^ 2, c ^ 0x20, c ^ 0x80 };
		size_t nalpha = sizeof alphabet - 1;

		/* Every base64url character, then the odd ones, then nearby bit flips. */
		for (i = 0; i < nalpha + sizeof repl + sizeof extra; i++) {
			unsigned char r = i < nalpha ? (unsigned char)alphabet[i]
			    : i < nalpha + sizeof repl ? repl[i - nalpha] : extra[i - nalpha - sizeof repl];
			int rc;

			if (r == c || r == 0)
				continue;
			memcpy(s2, value, n + 1);
			s2[pos] = (char)r;
			if ((rc = session_decode(s2, NOW, MAX_AGE, &d)) != MB_DECLINED)
				fail_msg("byte %zu changed from '%c' to 0x%02x gave %d", pos, c, r, rc);
		}
	}
	/* The original still verifies, so the rejections above were about the change. */
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_OK);
}

static void
test_truncated_is_bad(void **state)
{
	char value[SESSION_MAX_VALUE + 1], s2[SESSION_MAX_VALUE + 1];
	session s, d;
	size_t n, len;

	(void)state;
	n = make_cookie(&s, 10001, value);
	for (len = 0; len < n; len++) {
		memcpy(s2, value, len);
		s2[len] = '\0';
		if (session_decode(s2, NOW, MAX_AGE, &d) != MB_DECLINED)
			fail_msg("cookie cut to %zu of %zu bytes was accepted", len, n);
	}
	/* Dropping a leading byte is no better. */
	assert_int_equal(session_decode(value + 1, NOW, MAX_AGE, &d), MB_DECLINED);
}

static void
test_appended_is_bad(void **state)
{
	static const char *const tails[] = { "A", "a", "0", "-", "_", ".", "=", " ", "\t", "AA",
	    "AAA", "AAAA", "AAAAAAAA", ".AAAA", "|", "\xff", ";" };
	char value[SESSION_MAX_VALUE + 1], s2[2 * SESSION_MAX_VALUE];
	session s, d;
	size_t i;

	(void)state;
	make_cookie(&s, 10001, value);
	for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		snprintf(s2, sizeof s2, "%s%s", value, tails[i]);
		if (session_decode(s2, NOW, MAX_AGE, &d) != MB_DECLINED)
			fail_msg("cookie with \"%s\" appended was accepted", tails[i]);
		snprintf(s2, sizeof s2, "%s%s", tails[i], value);
		if (session_decode(s2, NOW, MAX_AGE, &d) != MB_DECLINED)
			fail_msg("cookie with \"%s\" prepended was accepted", tails[i]);
	}
}

static void
test_idle_expiry(void **state)
{
	char value[SESSION_MAX_VALUE + 1];
	session s, d;

	(void)state;
	make_cookie(&s, 7, value);
	assert_int_equal(session_decode(value, NOW + IDLE - 1, MAX_AGE, &d), MB_OK);
	assert_int_equal(session_decode(value, NOW + IDLE, MAX_AGE, &d), MB_EXPIRED);
	assert_int_equal(session_decode(value, NOW + IDLE + 1, MAX_AGE, &d), MB_EXPIRED);
	assert_int_equal(session_decode(value, NOW + 10 * MAX_AGE, MAX_AGE, &d), MB_EXPIRED);
}

/* A refreshed idle expiry does not stretch the absolute lifetime. */
static void
test_absolute_expiry(void **state)
{
	char value[SESSION_MAX_VALUE + 1];
	session s, d;

	(void)state;
	assert_int_equal(session_new(&s, 7, NOW, IDLE), MB_OK);
	s.exp = NOW + 2 * MAX_AGE;
	assert_true(session_encode(&s, value, sizeof value) > 0);
	assert_int_equal(session_decode(value, NOW + MAX_AGE - 1, MAX_AGE, &d), MB_OK);
	assert_int_equal(d.exp, NOW + 2 * MAX_AGE);
	assert_int_equal(session_decode(value, NOW + MAX_AGE, MAX_AGE, &d), MB_EXPIRED);
	assert_int_equal(session_decode(value, NOW + MAX_AGE + 1, MAX_AGE, &d), MB_EXPIRED);
	/* The same cookie under a shorter max_age. */
	assert_int_equal(session_decode(value, NOW + 60, 61, &d), MB_OK);
	assert_int_equal(session_decode(value, NOW + 60, 60, &d), MB_EXPIRED);
}

/* A cookie issued in the future (beyond 5 minutes of clock skew) is not honoured. */
static void
test_issued_in_the_future(void **state)
{
	char value[SESSION_MAX_VALUE + 1];
	session s, d;

	(void)state;
	make_cookie(&s, 7, value);
	assert_int_equal(session_decode(value, NOW - 300, MAX_AGE, &d), MB_OK);
	assert_int_equal(session_decode(value, NOW - 301, MAX_AGE, &d), MB_EXPIRED);
}

static void
test_key_rotation(void **state)
{
	char old[SESSION_MAX_VALUE + 1], cur[SESSION_MAX_VALUE + 1];
	session s, d;

	(void)state;
	make_cookie(&s, 10001, old);

	/* KEY_B now signs, KEY_A still verifies. */
	assert_int_equal(use_keys(2, KEY_B, KEY_A), 0);
	assert_int_equal(session_decode(old, NOW, MAX_AGE, &d), MB_OK);
	assert_string_equal(d.sid, s.sid);
	assert_int_equal(d.uid, 10001);
	assert_true(session_encode(&s, cur, sizeof cur) > 0);
	assert_string_not_equal(cur, old);
	assert_int_equal(session_decode(cur, NOW, MAX_AGE, &d), MB_OK);

	/* KEY_A dropped: its cookies are refused, KEY_B's still verify. */
	assert_int_equal(use_keys(1, KEY_B), 0);
	assert_int_equal(session_decode(old, NOW, MAX_AGE, &d), MB_DECLINED);
	assert_int_equal(session_decode(cur, NOW, MAX_AGE, &d), MB_OK);

	/* And a cookie of KEY_B means nothing to a service that only knows KEY_A. */
	assert_int_equal(use_keys(1, KEY_A), 0);
	assert_int_equal(session_decode(cur, NOW, MAX_AGE, &d), MB_DECLINED);
	assert_int_equal(session_decode(old, NOW, MAX_AGE, &d), MB_OK);
}

static void
test_short_keys_refused(void **state)
{
	const char *nulls[] = { NULL, NULL };
	char value[SESSION_MAX_VALUE + 1], other[SESSION_MAX_VALUE + 1];
	session s, d;

	(void)state;
	assert_int_equal(use_keys(1, "short"), MB_ERROR);
	assert_int_equal(use_keys(1, "0123456789abcde"), MB_ERROR); /* 15 characters */
	assert_int_equal(use_keys(1, ""), MB_ERROR);
	assert_int_equal(session_keys(nulls, 2), MB_ERROR);
	assert_int_equal(session_keys(NULL, 0), MB_ERROR);
	/* With no usable key nothing is signed and nothing verifies. */
	assert_int_equal(session_new(&s, 5, NOW, IDLE), MB_OK);
	assert_int_equal(session_encode(&s, value, sizeof value), 0);

	assert_int_equal(use_keys(1, "0123456789abcdef"), 0); /* 16 characters */
	assert_true(session_encode(&s, value, sizeof value) > 0);
	assert_int_equal(use_keys(0), MB_ERROR);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_DECLINED);

	/* A short key anywhere in the list is refused, not skipped (a typo in
	 * the first would move signing to the next); empty entries are skipped. */
	assert_int_equal(use_keys(3, "0123456789abcde", NULL, KEY_A), MB_ERROR);
	assert_int_equal(use_keys(2, KEY_A, "short"), MB_ERROR);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_DECLINED);
	assert_int_equal(use_keys(3, "", NULL, KEY_A), 0);
	assert_true(session_encode(&s, value, sizeof value) > 0);
	assert_int_equal(use_keys(1, KEY_A), 0);
	assert_true(session_encode(&s, other, sizeof other) > 0);
	assert_string_equal(value, other);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_OK);
	assert_int_equal(d.uid, 5);

	/* A cookie signed with a 15-character key never verifies anywhere. */
	sign("0123456789abcde", "1|0123456789abcdef0123456789abcdef|5|1764150000|1764151800", value,
	    sizeof value);
	assert_int_equal(use_keys(2, "0123456789abcde", KEY_A), MB_ERROR);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_DECLINED);
	assert_int_equal(use_keys(1, KEY_A), 0);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_DECLINED);
}

static void
test_garbage_rejected(void **state)
{
	static const char *const junk[] = { "", ".", "..", "abc", "no-dot-at-all", "a.b", "=.=",
	    "mb_session=abc.def", " . ", "%2E", "\xff.\xff" };
	char value[SESSION_MAX_VALUE + 1], *huge, s2[2 * SESSION_MAX_VALUE];
	const char *dot;
	session s, d;
	size_t i;

	(void)state;
	assert_int_equal(session_decode(NULL, NOW, MAX_AGE, &d), MB_DECLINED);
	for (i = 0; i < sizeof junk / sizeof junk[0]; i++)
		if (session_decode(junk[i], NOW, MAX_AGE, &d) != MB_DECLINED)
			fail_msg("\"%s\" was accepted", junk[i]);

	/* Each half of a real cookie alone, and the halves swapped. */
	make_cookie(&s, 1, value);
	dot = strchr(value, '.');
	snprintf(s2, sizeof s2, "%.*s", (int)(dot - value + 1), value);
	assert_int_equal(session_decode(s2, NOW, MAX_AGE, &d), MB_DECLINED);
	assert_int_equal(session_decode(dot, NOW, MAX_AGE, &d), MB_DECLINED);
	assert_int_equal(session_decode(dot + 1, NOW, MAX_AGE, &d), MB_DECLINED);
	snprintf(s2, sizeof s2, "%s.%.*s", dot + 1, (int)(dot - value), value);
	assert_int_equal(session_decode(s2, NOW, MAX_AGE, &d), MB_DECLINED);

	huge = malloc(1 << 20);
	assert_non_null(huge);
	memset(huge, 'A', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	assert_int_equal(session_decode(huge, NOW, MAX_AGE, &d), MB_DECLINED);
	huge[1 << 19] = '.';
	assert_int_equal(session_decode(huge, NOW, MAX_AGE, &d), MB_DECLINED);
	free(huge);
}

/* The signing helper agrees with session_encode, so the payload tests below reach the parser. */
static void
test_signed_payload_helper(void **state)
{
	char value[SESSION_MAX_VALUE + 1], mine[SESSION_MAX_VALUE + 1], payload[128];
	session s, d;

	(void)state;
	make_cookie(&s, 77, value);
	snprintf(payload, sizeof payload, "1|%s|77|%d|%d", s.sid, NOW, NOW + IDLE);
	sign(KEY_A, payload, mine, sizeof mine);
	assert_string_equal(mine, value);
	assert_int_equal(session_decode(mine, NOW, MAX_AGE, &d), MB_OK);
	assert_int_equal(d.uid, 77);
}

/* Correctly signed but malformed payloads are still refused. */
static void
test_signed_malformed_payload(void **state)
{
#define SID "0123456789abcdef0123456789abcdef"
#define T   "|1764150000|1764151800"
	static const char *const bad[] = {
		"",
		"1",
		"1|",
		"2|" SID "|5" T,
		"1|" SID "|5|1764150000",
		"1|" SID "|5" T "|9",
		"1|" SID "|5" T "|",
		"1|" SID "|" T,
		"1|" SID "|-5" T,
		"1|" SID "|+5" T,
		"1|" SID "| 5" T,
		"1|" SID "|5x" T,
		"1|" SID "|99999999999999999999" T,
		"1|" SID "|5|1764150000|1764151800x",
		"1|" SID "|5|1764150000|-1764151800",
		"1|0123456789ABCDEF0123456789abcdef|5" T,
		"1|0123456789abcdef0123456789abcde|5" T,
		"1|0123456789abcdef0123456789abcdefa|5" T,
		"1|0123456789abcdef0123456789abcdeg|5" T,
		"1:" SID "|5" T,
		"x|" SID "|5" T,
	};
	char value[SESSION_MAX_VALUE + 1];
	session d;
	size_t i;

	(void)state;
	sign(KEY_A, "1|" SID "|5" T, value, sizeof value);
	assert_int_equal(session_decode(value, NOW, MAX_AGE, &d), MB_OK);
	assert_string_equal(d.sid, SID);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sign(KEY_A, bad[i], value, sizeof value);
		if (session_decode(value, NOW, MAX_AGE, &d) != MB_DECLINED)
			fail_msg("signed payload \"%s\" was accepted", bad[i]);
	}
#undef SID
#undef T
}

/*
 * Found by fuzz_session: a signed cookie whose issue time is near INT64_MAX
 * made the absolute-expiry sum overflow (undefined behaviour). It must be
 * refused as expired without any arithmetic overflow (UBSan checks this in
 * the sanitizer run).
 */
static void
test_issued_at_near_int64_max(void **state)
{
	session s = { .uid = 1, .iat = INT64_MAX - 10, .exp = INT64_MAX }, out;
	char cookie[SESSION_MAX_VALUE + 1];

	(void)state;
	memset(s.sid, 'a', SESSION_ID_HEX);
	s.sid[SESSION_ID_HEX] = '\0';
	assert_true(session_encode(&s, cookie, sizeof cookie) > 0);
	assert_int_equal(session_decode(cookie, NOW, MAX_AGE, &out), MB_EXPIRED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trip, setup_key_a),
		cmocka_unit_test_setup(test_issued_at_near_int64_max, setup_key_a),
		cmocka_unit_test_setup(test_round_trip_extreme_values, setup_key_a),
		cmocka_unit_test_setup(test_new_ids_differ, setup_key_a),
		cmocka_unit_test_setup(test_encode_cap, setup_key_a),
		cmocka_unit_test_setup(test_any_changed_byte_is_bad, setup_key_a),
		cmocka_unit_test_setup(test_truncated_is_bad, setup_key_a),
		cmocka_unit_test_setup(test_appended_is_bad, setup_key_a),
		cmocka_unit_test_setup(test_idle_expiry, setup_key_a),
		cmocka_unit_test_setup(test_absolute_expiry, setup_key_a),
		cmocka_unit_test_setup(test_issued_in_the_future, setup_key_a),
		cmocka_unit_test_setup(test_key_rotation, setup_key_a),
		cmocka_unit_test_setup(test_short_keys_refused, setup_key_a),
		cmocka_unit_test_setup(test_garbage_rejected, setup_key_a),
		cmocka_unit_test_setup(test_signed_payload_helper, setup_key_a),
		cmocka_unit_test_setup(test_signed_malformed_payload, setup_key_a),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
