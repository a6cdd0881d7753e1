/*
 * test_pw: stored password hashes. Hashes made here use few iterations to
 * stay fast; the demo user's hash from sql/002_demo.sql is checked once at
 * its real 600000 iterations. Malformed stored strings are made by changing
 * one part of a real hash, so each case fails for the reason it names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pw.h"

#define ITER 1000

/* sql/002_demo.sql, user micro, password "123". */
#define DEMO_HASH "pbkdf2-sha256$600000$bWljcm9ib29rLWRlbW8tMQ$" \
    "VIrIi0Dv_VzkBz_k7fuoeyufX5QmJu4oKXw1v-uzoBU"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
test_hash_then_verify(void **state)
{
	const char *pwd = "correct-horse";
	char stored[PW_STORED_MAX];
	const char *salt, *dk;

	(void)state;
	memset(stored, 'X', sizeof stored);
	assert_int_equal(pw_hash(pwd, strlen(pwd), ITER, stored), MB_OK);
	assert_true(strlen(stored) < PW_STORED_MAX);
	assert_memory_equal(stored, "pbkdf2-sha256$1000$", 19);
	salt = stored + 19;
	assert_non_null(dk = strchr(salt, '$'));
	dk++;
	assert_int_equal(dk - salt - 1, 22);   /* 16 bytes of salt */
	assert_int_equal(strlen(dk), 43);      /* 32 bytes of PBKDF2-SHA256 */
	assert_int_equal(strspn(salt, alphabet), 22);
	assert_int_equal(strspn(dk, alphabet), 43);

	assert_int_equal(pw_verify(pwd, strlen(pwd), stored), MB_OK);
	assert_int_equal(pw_verify("correct-horsf", 13, stored), MB_DECLINED);
	assert_int_equal(pw_verify("Correct-horse", 13, stored), MB_DECLINED);
	assert_int_equal(pw_verify(pwd, strlen(pwd) - 1, stored), MB_DECLINED);
	assert_int_equal(pw_verify("correct-horse!", 14, stored), MB_DECLINED);
	assert_int_equal(pw_verify("", 0, stored), MB_DECLINED);
}

/*
 * The length is the password: bytes after a NUL count, a shorter length
 * differs. (Trailing NULs are not distinguished: HMAC pads its key with
 * zeros, so "" and "\0" derive the same key; req.c refuses NUL in fields.)
 */
static void
test_binary_password(void **state)
{
	char stored[PW_STORED_MAX];

	(void)state;
	assert_int_equal(pw_hash("ab\0cd", 5, ITER, stored), MB_OK);
	assert_int_equal(pw_verify("ab\0cd", 5, stored), MB_OK);
	assert_int_equal(pw_verify("ab\0ce", 5, stored), MB_DECLINED);
	assert_int_equal(pw_verify("ab", 2, stored), MB_DECLINED);

	assert_int_equal(pw_hash("", 0, ITER, stored), MB_OK);
	assert_int_equal(pw_verify("", 0, stored), MB_OK);
	assert_int_equal(pw_verify(" ", 1, stored), MB_DECLINED);
}

static void
test_salt_is_random(void **state)
{
	char a[PW_STORED_MAX], b[PW_STORED_MAX];

	(void)state;
	assert_int_equal(pw_hash("same", 4, ITER, a), MB_OK);
	assert_int_equal(pw_hash("same", 4, ITER, b), MB_OK);
	assert_string_not_equal(a, b);
	/* Salts differ, and so do the derived keys. */
	assert_memory_not_equal(a + 19, b + 19, 22);
	assert_string_not_equal(strrchr(a, '$'), strrchr(b, '$'));
	assert_int_equal(pw_verify("same", 4, a), MB_OK);
	assert_int_equal(pw_verify("same", 4, b), MB_OK);
}

static void
test_iterations(void **state)
{
	char stored[PW_STORED_MAX];

	(void)state;
	assert_int_equal(pw_hash("x", 1, 0, stored), MB_ERROR);
	assert_int_equal(pw_hash("x", 1, -5, stored), MB_ERROR);
	assert_int_equal(pw_hash("x", 1, 1, stored), MB_OK);
	assert_memory_equal(stored, "pbkdf2-sha256$1$", 16);
	assert_int_equal(pw_verify("x", 1, stored), MB_OK);
}

/* The same salt and key under another iteration count is another hash. */
static void
test_iteration_count_is_bound(void **state)
{
	char stored[PW_STORED_MAX], other[PW_STORED_MAX];

	(void)state;
	assert_int_equal(pw_hash("pw", 2, ITER, stored), MB_OK);
	snprintf(other, sizeof other, "pbkdf2-sha256$1001$%s", stored + 19);
	assert_int_equal(pw_verify("pw", 2, other), MB_DECLINED);
}

static void refused(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The stored string made from fmt is malformed: -1, not a mere mismatch. */
static void
refused(const char *fmt, ...)
{
	char bad[2 * PW_STORED_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(bad, sizeof bad, fmt, ap);
	va_end(ap);
	if ((rc = pw_verify("pw", 2, bad)) != MB_ERROR)
		fail_msg("\"%s\" gave %d", bad, rc);
}

static void
test_malformed(void **state)
{
	char stored[PW_STORED_MAX], bad[PW_STORED_MAX], s[64], d[64];
	const char *salt, *dk, *at;
	size_t i, c;

	(void)state;
	assert_int_equal(pw_hash("pw", 2, ITER, stored), MB_OK);
	assert_int_equal(pw_verify("pw", 2, stored), MB_OK);
	salt = stored + 19;
	dk = strchr(salt, '$') + 1;
	snprintf(s, sizeof s, "%.*s", (int)(dk - salt - 1), salt);
	snprintf(d, sizeof d, "%s", dk);
	assert_int_equal(pw_verify("pw", 2, NULL), MB_ERROR);

	/* prefix */
	refused("%s", "");
	refused("pbkdf2-sha1$1000$%s$%s", s, d);
	refused("PBKDF2-SHA256$1000$%s$%s", s, d);
	refused("pbkdf2-sha256 $1000$%s$%s", s, d);
	refused("bcrypt$1000$%s$%s", s, d);
	refused("$1000$%s$%s", s, d);
	refused("1000$%s$%s", s, d);
	/* iteration count */
	refused("pbkdf2-sha256$0$%s$%s", s, d);
	refused("pbkdf2-sha256$-1$%s$%s", s, d);
	refused("pbkdf2-sha256$$%s$%s", s, d);
	refused("pbkdf2-sha256$abc$%s$%s", s, d);
	refused("pbkdf2-sha256$1000x$%s$%s", s, d);
	refused("pbkdf2-sha256$100000001$%s$%s", s, d);
	refused("pbkdf2-sha256$4294968296$%s$%s", s, d);
	refused("pbkdf2-sha256$99999999999999999999$%s$%s", s, d);
	/* missing parts */
	refused("%s", "pbkdf2-sha256$");
	refused("%s", "pbkdf2-sha256$1000");
	refused("%s", "pbkdf2-sha256$1000$");
	refused("pbkdf2-sha256$1000$%s", s);
	refused("pbkdf2-sha256$1000$%s$", s);
	refused("pbkdf2-sha256$1000$$%s", d);
	refused("pbkdf2-sha256$%s$%s", s, d);
	refused("pbkdf2-sha256$1000$%s%s", s, d);
	/* bad base64 */
	refused("pbkdf2-sha256$1000$%s=$%s", s, d);
	refused("pbkdf2-sha256$1000$%s$%s=", s, d);
	refused("pbkdf2-sha256$1000$%s$%s$", s, d);
	refused("pbkdf2-sha256$1000$%s$%sA", s, d);
	refused("pbkdf2-sha256$1000$%s$%sAAAA", s, d);
	refused("pbkdf2-sha256$1000$%s$ %s", s, d);
	refused("pbkdf2-sha256$1000$%s$%s\n", s, d);
	refused("pbkdf2-sha256$1000$%s$%.42s", s, d); /* 31 bytes of key */
	refused("pbkdf2-sha256$1000$%s$%s", "A", d);   /* a lone salt character */

	/* One bad character anywhere in the salt or the key. */
	for (i = 0; salt[i] != '\0'; i++) {
		static const char chars[] = { '+', '/', '=', '.', ' ', '$', '%' };

		if (salt[i] == '$')
			continue;
		for (c = 0; c < sizeof chars; c++) {
			snprintf(bad, sizeof bad, "%s", stored);
			bad[19 + i] = chars[c];
			refused("%s", bad);
		}
	}

	/* 43 characters carry 2 unused bits: setting one is not another encoding. */
	snprintf(bad, sizeof bad, "%s", stored);
	at = strchr(alphabet, bad[strlen(bad) - 1]);
	assert_non_null(at);
	assert_int_equal((at - alphabet) & 3, 0);
	bad[strlen(bad) - 1] = alphabet[(at - alphabet) | 1];
	refused("%s", bad);
}

/* The demo user of API.md: micro / 123, hashed at the default 600000 iterations. */
static void
test_demo_hash(void **state)
{
	(void)state;
	assert_int_equal(pw_verify("123", 3, DEMO_HASH), MB_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_then_verify),
		cmocka_unit_test(test_binary_password),
		cmocka_unit_test(test_salt_is_random),
		cmocka_unit_test(test_iterations),
		cmocka_unit_test(test_iteration_count_is_bound),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_demo_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
