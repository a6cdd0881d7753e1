/*
 * test_mac: the envelope of internal messages (mac.h). A sealed message
 * opens under the same kind, binding and key within the window; a wrong
 * key, another kind or binding, a tampered body or time, an old or future
 * time and a malformed envelope are refused with their reason; rotation
 * (first key signs, all verify); the replay guard (bounded: it forgets
 * the oldest id of a full ring, and ids older than twice the window); the
 * mac is HMAC-SHA256 as OpenSSL's one-shot computes it, call after call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mac.h"

#define KEY  "unit-test-internal-key-0123"
#define BODY "{\"id\":\"x\",\"method\":\"Release\",\"historyId\":7}"
#define NOW  ((int64_t)1795000000)

static char *
seal(const char *ctx, const char *bind, int64_t t, const char *body)
{
	char *m = mac_seal(ctx, bind, t, body, strlen(body));

	assert_non_null(m);
	return m;
}

/* Opens m; returns the reason on refusal, "" on success (with the payload checked). */
static const char *
open_msg(const char *ctx, const char *bind, int64_t now, const char *m, const char *want)
{
	const char *payload, *why = "";
	size_t plen;

	if (mac_open(ctx, bind, now, m, strlen(m), &payload, &plen, &why) != MB_OK)
		return why;
	assert_int_equal(plen, strlen(want));
	assert_memory_equal(payload, want, plen);
	return "";
}

static void
test_good(void **state)
{
	char *m = seal("inv.req", "", NOW, BODY);

	(void)state;
	assert_int_equal(strspn(m, "0123456789abcdef"), MAC_HEX_LEN);
	assert_string_equal(open_msg("inv.req", "", NOW, m, BODY), "");
	assert_string_equal(open_msg("inv.req", "", NOW + MAC_WINDOW_S, m, BODY), "");
	assert_string_equal(open_msg("inv.req", "", NOW - MAC_WINDOW_S, m, BODY), "");
	assert_int_equal(mac_time(m, strlen(m)), NOW);
	free(m);
	m = seal("inv.req", "", NOW, ""); /* an empty payload is still a message */
	assert_string_equal(open_msg("inv.req", "", NOW, m, ""), "");
	free(m);
}

/*
 * The mac is HMAC-SHA256 of "kind\nbinding\ntime\n" + body under the first
 * key, in lower-case hex, the same on every call (mac.c works on copies of
 * one keyed context: the copy must never change the original).
 */
static void
test_known_answer(void **state)
{
	const char *in = "bus\nev-9\n1795000000\n" BODY;
	unsigned char md[32];
	char want[MAC_HEX_LEN + 1];
	size_t mdlen = 0, i;
	int round;

	(void)state;
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, KEY, strlen(KEY),
	    (const unsigned char *)in, strlen(in), md, sizeof md, &mdlen));
	assert_int_equal(mdlen, 32);
	for (i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	for (round = 0; round < 3; round++) {
		char *m = seal("bus", "ev-9", NOW, BODY);

		assert_memory_equal(m, want, MAC_HEX_LEN);
		free(m);
	}
}

static void
test_wrong_key(void **state)
{
	char *m;

	(void)state;
	assert_int_equal(mac_init("a-stranger-key-0123456789"), MB_OK);
	m = seal("inv.req", "", NOW, BODY);
	assert_int_equal(mac_init(KEY), MB_OK);
	assert_string_equal(open_msg("inv.req", "", NOW, m, BODY), "bad mac");
	free(m);
}

static void
test_rotation(void **state)
{
	char *old, *cur;

	(void)state;
	old = seal("bus", "t", NOW, BODY); /* signed with KEY */
	assert_int_equal(mac_init("the-new-key-0123456789, " KEY), MB_OK);
	cur = seal("bus", "t", NOW, BODY);
	assert_string_not_equal(old, cur);
	assert_string_equal(open_msg("bus", "t", NOW, old, BODY), ""); /* all verify */
	assert_string_equal(open_msg("bus", "t", NOW, cur, BODY), "");
	assert_int_equal(mac_init(KEY), MB_OK);
	assert_string_equal(open_msg("bus", "t", NOW, cur, BODY), "bad mac"); /* first signs */
	free(old);
	free(cur);
}

static void
test_short_keys(void **state)
{
	char *m;

	(void)state;
	assert_int_equal(mac_init("too-short"), MB_ERROR);
	assert_null(mac_seal("bus", "", NOW, BODY, strlen(BODY)));
	assert_int_equal(mac_init(""), MB_ERROR);
	assert_int_equal(mac_init(NULL), MB_ERROR);
	assert_int_equal(mac_init(KEY), MB_OK);
	m = seal("bus", "", NOW, BODY);
	assert_int_equal(mac_init(NULL), MB_ERROR);
	assert_string_equal(open_msg("bus", "", NOW, m, BODY), "no INTERNAL_KEY");
	/* a short key anywhere in the list is refused, not skipped */
	assert_int_equal(mac_init("short, " KEY), MB_ERROR);
	assert_int_equal(mac_init(KEY ",short"), MB_ERROR);
	assert_string_equal(open_msg("bus", "", NOW, m, BODY), "no INTERNAL_KEY");
	assert_int_equal(mac_init(KEY ", "), MB_OK); /* empty entries are no keys */
	assert_string_equal(open_msg("bus", "", NOW, m, BODY), "");
	free(m);
}

static void
test_tampered(void **state)
{
	char *m = seal("inv.req", "", NOW, BODY), *p;
	size_t i;

	(void)state;
	/* every byte of the body and the time is covered */
	for (i = MAC_HEX_LEN + 1; i < strlen(m); i++) {
		char keep = m[i];

		if (m[i] == ' ')
			continue;
		m[i] = m[i] == '7' ? '8' : '7';
		if (strcmp(open_msg("inv.req", "", NOW, m, BODY), "") == 0)
			fail_msg("byte %zu changed and still opened: %s", i, m);
		m[i] = keep;
	}
	m[0] = m[0] == 'a' ? 'b' : 'a';
	assert_string_equal(open_msg("inv.req", "", NOW, m, BODY), "bad mac");
	free(m);
	/* one kind or binding cannot pass as another */
	m = seal("inv.rep", "id-1", NOW, BODY);
	assert_string_equal(open_msg("inv.req", "id-1", NOW, m, BODY), "bad mac");
	assert_string_equal(open_msg("inv.rep", "id-2", NOW, m, BODY), "bad mac");
	assert_string_equal(open_msg("inv.rep", "id-1", NOW, m, BODY), "");
	free(m);
	/* an envelope that is not one */
	p = BODY;
	assert_string_equal(open_msg("inv.req", "", NOW, p, BODY), "malformed envelope");
	assert_string_equal(open_msg("inv.req", "", NOW, "", BODY), "malformed envelope");
	m = seal("inv.req", "", NOW, BODY);
	m[MAC_HEX_LEN] = 'x';
	assert_string_equal(open_msg("inv.req", "", NOW, m, BODY), "malformed envelope");
	free(m);
}

static void
test_old_time(void **state)
{
	char *m = seal("inv.req", "", NOW, BODY);

	(void)state;
	assert_string_equal(open_msg("inv.req", "", NOW + MAC_WINDOW_S + 1, m, BODY),
	    "time outside the window");
	assert_string_equal(open_msg("inv.req", "", NOW - MAC_WINDOW_S - 1, m, BODY),
	    "time outside the window");
	free(m);
}

static void
test_replay(void **state)
{
	mac_seen *s = mac_seen_new();
	char id[40];
	int i;

	(void)state;
	assert_non_null(s);
	assert_int_equal(mac_seen_check(s, "ev-1", NOW, NOW), MB_OK);
	assert_int_equal(mac_seen_check(s, "ev-2", NOW, NOW), MB_OK);
	assert_int_equal(mac_seen_check(s, "ev-1", NOW, NOW + 1), MB_DECLINED);
	assert_int_equal(mac_seen_check(s, "ev-2", NOW, NOW + MAC_WINDOW_S), MB_DECLINED);
	/* the guard forgets the oldest of a full ring, never the ones inside the window */
	for (i = 0; i < MAC_SEEN_CAP - 2; i++) {
		snprintf(id, sizeof id, "fill-%d", i);
		assert_int_equal(mac_seen_check(s, id, NOW, NOW), MB_OK);
	}
	assert_int_equal(mac_seen_check(s, "fill-0", NOW, NOW), MB_DECLINED);
	assert_int_equal(mac_seen_check(s, "one-more", NOW, NOW), MB_OK); /* takes ev-1's slot */
	assert_int_equal(mac_seen_check(s, "ev-1", NOW, NOW), MB_OK);
	/* an id seen long ago (past twice the window) is not held against a new message */
	assert_int_equal(mac_seen_check(s, "fill-5", NOW, NOW + 3 * MAC_WINDOW_S), MB_OK);
	mac_seen_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_short_keys),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_old_time),
		cmocka_unit_test(test_replay),
	};

	if (mac_init(KEY) != MB_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
