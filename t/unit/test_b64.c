/*
 * test_b64: unpadded base64url. Round trips over every tail length, the
 * RFC 4648 vectors, and the strictness that session.c relies on: one
 * encoding per value, so a changed character never decodes to the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "b64.h"
#include "mb.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Deterministic bytes, so that a failure can be reproduced. */
static uint32_t
rnd(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static void
test_round_trip_lengths(void **state)
{
	uint32_t seed = 0x2545f491;
	int round;
	size_t len, i;

	(void)state;
	for (round = 0; round < 8; round++) {
		for (len = 0; len <= 64; len++) {
			unsigned char in[64], back[64 + 8];
			char enc[96];
			size_t want = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0), n;
			long m;

			for (i = 0; i < len; i++)
				in[i] = (unsigned char)rnd(&seed);
			memset(enc, 'Z', sizeof enc);
			n = b64_encode(in, len, enc, sizeof enc);
			assert_int_equal(n, want);
			assert_int_equal(strlen(enc), want);
			assert_int_equal(strspn(enc, alphabet), want);
			memset(back, 0xa5, sizeof back);
			m = b64_decode(enc, n, back, sizeof back);
			assert_int_equal(m, (long)len);
			assert_memory_equal(back, in, len);
			assert_int_equal(back[len], 0xa5); /* nothing written past the end */
		}
	}
}

static void
test_round_trip_exact_cap(void **state)
{
	unsigned char in[16], back[16];
	char enc[32];
	size_t len, i, n;

	(void)state;
	for (i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(0xf0 + i);
	for (len = 1; len <= sizeof in; len++) {
		n = b64_encode(in, len, enc, sizeof enc);
		assert_true(n > 0);
		/* Decoding into exactly len bytes works, into one less does not. */
		assert_int_equal(b64_decode(enc, n, back, len), (long)len);
		assert_memory_equal(back, in, len);
		assert_int_equal(b64_decode(enc, n, back, len - 1), MB_ERROR);
	}
}

static void
test_rfc4648_vectors(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		char enc[16];
		unsigned char dec[16];
		size_t plen = strlen(v[i].plain);

		assert_int_equal(b64_encode((const unsigned char *)v[i].plain, plen, enc, sizeof enc),
		    strlen(v[i].enc));
		assert_string_equal(enc, v[i].enc);
		assert_int_equal(b64_decode(v[i].enc, strlen(v[i].enc), dec, sizeof dec), (long)plen);
		assert_memory_equal(dec, v[i].plain, plen);
	}
}

static void
test_url_alphabet(void **state)
{
	static const unsigned char in[] = { 0xfb, 0xff, 0xbf };
	unsigned char dec[4];
	char enc[8];

	(void)state;
	assert_int_equal(b64_encode(in, sizeof in, enc, sizeof enc), 4);
	assert_string_equal(enc, "-_-_");
	assert_int_equal(b64_decode("-_-_", 4, dec, sizeof dec), 3);
	assert_memory_equal(dec, in, sizeof in);
	/* The standard alphabet's '+' and '/' are not ours. */
	assert_int_equal(b64_decode("+/+/", 4, dec, sizeof dec), MB_ERROR);
}

static void
test_encode_cap(void **state)
{
	static const unsigned char in[] = "foobar";
	char enc[16];

	(void)state;
	/* 6 bytes need 8 characters and a NUL. */
	assert_int_equal(b64_encode(in, 6, enc, 8), 0);
	assert_int_equal(b64_encode(in, 6, enc, 9), 8);
	assert_string_equal(enc, "Zm9vYmFy");
	/* Even the empty encoding needs room for its NUL. */
	assert_int_equal(b64_encode(in, 0, enc, 0), 0);
	enc[0] = 'x';
	assert_int_equal(b64_encode(in, 0, enc, 1), 0);
	assert_int_equal(enc[0], '\0');
}

static void
test_decode_reads_only_len(void **state)
{
	unsigned char dec[8];

	(void)state;
	assert_int_equal(b64_decode("Zm9vYmFy", 4, dec, sizeof dec), 3);
	assert_memory_equal(dec, "foo", 3);
	assert_int_equal(b64_decode("Zm9v!!!!", 4, dec, sizeof dec), 3);
	assert_int_equal(b64_decode("", 0, dec, 0), 0);
}

static void
test_decode_rejects_bad_characters(void **state)
{
	static const char bad[] = { '+', '/', '=', ' ', '.', '\t', '\n', '\0', '!', '~', '$',
	    (char)0x80, (char)0xc3, (char)0xff };
	const char *good = "Zm9vYmFy";
	unsigned char dec[8];
	size_t pos, i;

	(void)state;
	assert_int_equal(b64_decode(good, 8, dec, sizeof dec), 6);
	for (pos = 0; pos < 8; pos++) {
		for (i = 0; i < sizeof bad; i++) {
			char s[9];

			memcpy(s, good, sizeof s);
			s[pos] = bad[i];
			if (b64_decode(s, 8, dec, sizeof dec) != MB_ERROR)
				fail_msg("byte 0x%02x at %zu was accepted", (unsigned char)bad[i], pos);
		}
	}
	/* Padding is not part of this encoding. */
	assert_int_equal(b64_decode("Zg==", 4, dec, sizeof dec), MB_ERROR);
	assert_int_equal(b64_decode("Zm8=", 4, dec, sizeof dec), MB_ERROR);
}

static void
test_decode_rejects_length_1_mod_4(void **state)
{
	unsigned char dec[64];
	char s[64];
	size_t len;

	(void)state;
	memset(s, 'A', sizeof s);
	for (len = 0; len < sizeof s; len++) {
		long want = len % 4 == 1 ? MB_ERROR : (long)(len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0));

		assert_int_equal(b64_decode(s, len, dec, sizeof dec), want);
	}
}

/*
 * Every byte value in the last place of a 4-character group: the 64 of the
 * alphabet decode to their own index, the other 192 are refused (the
 * decoder reads a table of all 256).
 */
static void
test_decode_every_byte(void **state)
{
	unsigned char dec[3];
	int c, ok = 0;

	(void)state;
	for (c = 0; c < 256; c++) {
		char s[4] = { 'A', 'A', 'A', (char)c };
		const char *at = c != 0 ? strchr(alphabet, c) : NULL;
		long r = b64_decode(s, 4, dec, sizeof dec);

		if (at == NULL) {
			if (r != MB_ERROR)
				fail_msg("byte 0x%02x was accepted", c);
			continue;
		}
		assert_int_equal(r, 3);
		assert_int_equal(dec[0], 0);
		assert_int_equal(dec[1], 0);
		assert_int_equal(dec[2], (int)(at - alphabet));
		ok++;
	}
	assert_int_equal(ok, 64);
}

/*
 * Of the 64 characters that may end a 2- or 3-character tail, only those
 * whose unused low bits are zero decode.
 */
static void
test_decode_rejects_trailing_bits(void **state)
{
	unsigned char dec[8];
	int v, ok2 = 0, ok3 = 0;

	(void)state;
	for (v = 0; v < 64; v++) {
		char two[] = { 'Z', alphabet[v] }, three[] = { 'Z', 'm', alphabet[v] };
		long r2 = b64_decode(two, 2, dec, sizeof dec);
		long r3 = b64_decode(three, 3, dec, sizeof dec);

		assert_int_equal(r2, (v & 15) == 0 ? 1 : MB_ERROR);
		assert_int_equal(r3, (v & 3) == 0 ? 2 : MB_ERROR);
		ok2 += r2 == 1;
		ok3 += r3 == 2;
	}
	assert_int_equal(ok2, 4);
	assert_int_equal(ok3, 16);
	assert_int_equal(b64_decode("Zh", 2, dec, sizeof dec), MB_ERROR);
	assert_int_equal(b64_decode("Zm8", 3, dec, sizeof dec), 2);
	assert_int_equal(b64_decode("Zm9", 3, dec, sizeof dec), MB_ERROR);
	assert_int_equal(b64_decode("Zm-", 3, dec, sizeof dec), MB_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_lengths),
		cmocka_unit_test(test_round_trip_exact_cap),
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_encode_cap),
		cmocka_unit_test(test_decode_reads_only_len),
		cmocka_unit_test(test_decode_rejects_bad_characters),
		cmocka_unit_test(test_decode_every_byte),
		cmocka_unit_test(test_decode_rejects_length_1_mod_4),
		cmocka_unit_test(test_decode_rejects_trailing_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
