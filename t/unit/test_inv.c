/*
 * test_inv: the inventory daemon's wire protocol. Every method survives an
 * encode/decode round trip with exactly its own members; the decoder refuses
 * anything else (bad JSON, wrong types, non-positive ids, oversized ref,
 * duplicated keys) and says why; replies parse back as the envelope the
 * client expects. Encoded requests and replies are read back with jansson.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <pthread.h>
#include <unistd.h>

#include "clock.h"
#include "inv.h"
#include "mac.h"

#define UUID_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define UUID_B "7c9e6679-7425-40de-944b-e07fc1f90ae7"

/* Parses a malloc'd JSON string (and frees it); fails the test when it is not an object. */
static json_t *
parse(char *s)
{
	json_error_t err;
	json_t *root;

	if (s == NULL)
		fail_msg("no JSON (NULL)");
	root = json_loads(s, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		fail_msg("not JSON (%s): %s", err.text, s);
	free(s);
	assert_true(json_is_object(root));
	return root;
}

/* Decodes a NUL-terminated request; the detail is cleared first. */
static int
decode(const char *s, inv_req *q, char *detail, size_t cap)
{
	detail[0] = '\0';
	return inv_req_decode(s, strlen(s), q, detail, cap);
}

/* Asserts that `s` is refused with a detail that mentions `word`. */
static void
refused(const char *s, const char *word)
{
	char detail[256];
	inv_req q;

	if (decode(s, &q, detail, sizeof detail) != MB_DECLINED)
		fail_msg("accepted: %s", s);
	if (detail[0] == '\0')
		fail_msg("no detail for: %s", s);
	if (word != NULL && strstr(detail, word) == NULL)
		fail_msg("detail \"%s\" does not mention \"%s\" for: %s", detail, word, s);
}

static void
assert_req_equal(const inv_req *a, const inv_req *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->ref, b->ref);
	assert_int_equal(a->method, b->method);
	assert_int_equal(a->book_id, b->book_id);
	assert_int_equal(a->user_id, b->user_id);
	assert_int_equal(a->history_id, b->history_id);
	assert_string_equal(a->idem_key, b->idem_key);
}

/* ---- round trips ---- */

static void
test_round_trip_every_method(void **state)
{
	static const struct {
		inv_method  m;
		int64_t     book, user, history;
		const char *members[3];  /* the method's own members, besides id/ref/method */
	} cases[] = {
		{ INV_SELL, 7, 10001, 0, { "bookId", "userId", NULL } },
		{ INV_CONFIRM, 0, 0, 42, { "historyId", NULL, NULL } },
		{ INV_RELEASE, 0, 0, INT64_MAX, { "historyId", NULL, NULL } },
		{ INV_LIST, 0, 0, 0, { NULL, NULL, NULL } },
		{ INV_GET, 1, 0, 0, { "bookId", NULL, NULL } },
		{ INV_PING, 0, 0, 0, { NULL, NULL, NULL } },
	};
	static const char *const all[] = { "bookId", "userId", "historyId" };
	size_t i, j, k, own_n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		inv_req q, back;
		char detail[256], *s;
		json_t *o;

		memset(&q, 0, sizeof q);
		snprintf(q.id, sizeof q.id, "%s", UUID_A);
		snprintf(q.ref, sizeof q.ref, "ref-%zu", i);
		q.method = cases[i].m;
		q.book_id = cases[i].book;
		q.user_id = cases[i].user;
		q.history_id = cases[i].history;

		s = inv_req_encode(&q);
		assert_non_null(s);
		if (inv_req_decode(s, strlen(s), &back, detail, sizeof detail) != MB_OK)
			fail_msg("%s: own encoding refused (%s): %s", inv_method_name(q.method), detail, s);
		assert_req_equal(&back, &q);

		o = parse(s);
		assert_string_equal(json_string_value(json_object_get(o, "method")),
		    inv_method_name(q.method));
		assert_string_equal(json_string_value(json_object_get(o, "id")), UUID_A);
		assert_string_equal(json_string_value(json_object_get(o, "ref")), q.ref);
		/* Exactly the method's members are on the wire, nothing else. */
		for (own_n = 0; own_n < 3 && cases[i].members[own_n] != NULL; own_n++)
			continue;
		for (j = 0; j < sizeof all / sizeof all[0]; j++) {
			int own = 0;

			for (k = 0; k < own_n; k++)
				own |= strcmp(cases[i].members[k], all[j]) == 0;
			if (own != (json_object_get(o, all[j]) != NULL))
				fail_msg("%s: member %s %s", inv_method_name(q.method), all[j],
				    own ? "missing" : "should not be sent");
		}
		assert_int_equal(json_object_size(o), 3 + own_n);
		json_decref(o);
	}
}

/* Members that do not belong to the method are ignored, not copied. */
static void
test_decode_ignores_foreign_members(void **state)
{
	char detail[256];
	inv_req q;

	(void)state;
	assert_int_equal(decode("{\"id\":\"" UUID_A "\",\"method\":\"List\",\"bookId\":3,"
	    "\"historyId\":4,\"extra\":[1]}", &q, detail, sizeof detail), MB_OK);
	assert_int_equal(q.method, INV_LIST);
	assert_int_equal(q.book_id, 0);
	assert_int_equal(q.history_id, 0);
	assert_int_equal(decode("{\"id\":\"" UUID_A "\",\"method\":\"Confirm\",\"historyId\":9,"
	    "\"bookId\":3,\"userId\":5}", &q, detail, sizeof detail), MB_OK);
	assert_int_equal(q.history_id, 9);
	assert_int_equal(q.book_id, 0);
	assert_int_equal(q.user_id, 0);
	/* Ping carries nothing but id, ref and method */
	assert_int_equal(decode("{\"id\":\"" UUID_A "\",\"ref\":\"h-1\",\"method\":\"Ping\","
	    "\"bookId\":3,\"historyIds\":[1,2]}", &q, detail, sizeof detail), MB_OK);
	assert_int_equal(q.method, INV_PING);
	assert_string_equal(q.ref, "h-1");
	assert_int_equal(q.book_id, 0);
	assert_int_equal(q.nhistory, 0);
}

static void
test_decode_ref(void **state)
{
	char detail[256], buf[512], ref[INV_REF_MAX + 2];
	inv_req q;

	(void)state;
	/* Absent ref is an empty one. */
	assert_int_equal(decode("{\"id\":\"" UUID_A "\",\"method\":\"List\"}", &q, detail,
	    sizeof detail), MB_OK);
	assert_string_equal(q.ref, "");
	assert_string_equal(q.id, UUID_A);

	/* Exactly INV_REF_MAX characters fit; one more does not. */
	memset(ref, 'r', INV_REF_MAX);
	ref[INV_REF_MAX] = '\0';
	snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"ref\":\"%s\",\"method\":\"List\"}", UUID_A, ref);
	assert_int_equal(decode(buf, &q, detail, sizeof detail), MB_OK);
	assert_string_equal(q.ref, ref);
	ref[INV_REF_MAX] = 'r';
	ref[INV_REF_MAX + 1] = '\0';
	snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"ref\":\"%s\",\"method\":\"List\"}", UUID_A, ref);
	refused(buf, "'ref'");

	/* 32 two-byte characters are 64 bytes: the limit is in bytes of the buffer. */
	snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"ref\":\"%s\",\"method\":\"List\"}", UUID_A,
	    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9");
	refused(buf, "'ref'"); /* 33 of them: 66 bytes */

	refused("{\"id\":\"" UUID_A "\",\"ref\":5,\"method\":\"List\"}", "'ref'");
	refused("{\"id\":\"" UUID_A "\",\"ref\":null,\"method\":\"List\"}", "'ref'");
}

/* Only len bytes are read: what follows in memory does not count. */
static void
test_decode_only_len_bytes(void **state)
{
	static const char s[] = "{\"id\":\"" UUID_A "\",\"method\":\"Get\",\"bookId\":12}garbage";
	char detail[256];
	inv_req q;

	(void)state;
	assert_int_equal(inv_req_decode(s, strlen(s) - strlen("garbage"), &q, detail,
	    sizeof detail), MB_OK);
	assert_int_equal(q.book_id, 12);
	assert_int_equal(inv_req_decode(s, strlen(s), &q, detail, sizeof detail), MB_DECLINED);
	assert_int_equal(inv_req_decode(s, strlen(s) - strlen("garbage") - 1, &q, detail,
	    sizeof detail), MB_DECLINED);
}

/* ---- refusals ---- */

static void
test_decode_malformed_json(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "{\"id\":}", "nope", "{\"id\":\"" UUID_A "\",}",
		"{'id':'x'}", "{\"id\":\"" UUID_A "\" \"method\":\"List\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"List\"} {}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Get\",\"bookId\":99999999999999999999}",
		"{\"id\":\"" UUID_A "\",\"method\":\"List\",\"ref\":\"\\u0000\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"List\",\"ref\":\"\xff\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i], "malformed JSON");
}

static void
test_decode_not_an_object(void **state)
{
	static const char *const bad[] = {
		"[]", "[{\"id\":\"" UUID_A "\",\"method\":\"List\"}]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i], NULL);
	/* Bare scalars are not even loaded (jansson without JSON_DECODE_ANY). */
	refused("\"" UUID_A "\"", NULL);
	refused("1", NULL);
	refused("null", NULL);
}

static void
test_decode_bad_id(void **state)
{
	static const char *const bad[] = {
		"{\"method\":\"List\"}",
		"{\"id\":\"\",\"method\":\"List\"}",
		"{\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950\",\"method\":\"List\"}",   /* 35 */
		"{\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950ee\",\"method\":\"List\"}", /* 37 */
		"{\"id\":123456789012345678,\"method\":\"List\"}",
		"{\"id\":null,\"method\":\"List\"}",
		"{\"id\":[\"" UUID_A "\"],\"method\":\"List\"}",
		"{\"ID\":\"" UUID_A "\",\"method\":\"List\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i], "'id'");
}

static void
test_decode_unknown_method(void **state)
{
	static const char *const bad[] = {
		"{\"id\":\"" UUID_A "\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"sell\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"SELL\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Buy\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"List \"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Lis\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"ping\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Pong\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"?\"}",
		"{\"id\":\"" UUID_A "\",\"method\":0}",
		"{\"id\":\"" UUID_A "\",\"method\":null}",
		"{\"id\":\"" UUID_A "\",\"method\":[\"List\"]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i], "'method'");
}

/* Every id member of every method: wrong JSON type, zero, negative. */
static void
test_decode_bad_numbers(void **state)
{
	static const struct {
		const char *method, *good, *field;
	} m[] = {
		{ "Sell", "\"userId\":5", "bookId" },
		{ "Sell", "\"bookId\":5", "userId" },
		{ "Get", "\"ref\":\"r\"", "bookId" },
		{ "Confirm", "\"ref\":\"r\"", "historyId" },
		{ "Release", "\"ref\":\"r\"", "historyId" },
	};
	static const char *const values[] = {
		NULL, "0", "-1", "-9223372036854775808", "\"1\"", "\"abc\"", "1.0", "1.5", "1e3",
		"true", "false", "null", "[1]", "{\"n\":1}",
	};
	char buf[256], want[64];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof m / sizeof m[0]; i++) {
		snprintf(want, sizeof want, "'%s'", m[i].field);
		for (j = 0; j < sizeof values / sizeof values[0]; j++) {
			if (values[j] == NULL)
				snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"method\":\"%s\",%s}", UUID_A,
				    m[i].method, m[i].good);
			else
				snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"method\":\"%s\",%s,\"%s\":%s}",
				    UUID_A, m[i].method, m[i].good, m[i].field, values[j]);
			refused(buf, want);
		}
		/* And the same request with a good value passes: the refusals were about it. */
		snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"method\":\"%s\",%s,\"%s\":1}", UUID_A,
		    m[i].method, m[i].good, m[i].field);
		{
			char detail[256];
			inv_req q;

			if (decode(buf, &q, detail, sizeof detail) != MB_OK)
				fail_msg("refused (%s): %s", detail, buf);
		}
	}
}

/* A Sell's optional Idempotency-Key: on the wire only when set, 1-64 printable ASCII. */
static void
test_sell_idem_key(void **state)
{
	static const char *const bad[] = {
		"\"\"", "1", "null", "[\"k\"]", "\"a\\u0001b\"", "\"tab\\there\"", "\"\\u00e9\"",
		"\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"", /* 65 */
	};
	char buf[256], detail[256], *s;
	inv_req q, back;
	json_t *o;
	size_t i;

	(void)state;
	memset(&q, 0, sizeof q);
	snprintf(q.id, sizeof q.id, "%s", UUID_A);
	q.method = INV_SELL;
	q.book_id = 7;
	q.user_id = 10001;
	snprintf(q.idem_key, sizeof q.idem_key, "%s", "k 1~!{\"}");
	s = inv_req_encode(&q);
	assert_non_null(s);
	assert_int_equal(inv_req_decode(s, strlen(s), &back, detail, sizeof detail), MB_OK);
	assert_req_equal(&back, &q);
	o = parse(s);
	assert_string_equal(json_string_value(json_object_get(o, "idemKey")), q.idem_key);
	json_decref(o);
	/* 64 characters pass */
	memset(q.idem_key, 'k', INV_KEY_MAX);
	q.idem_key[INV_KEY_MAX] = '\0';
	s = inv_req_encode(&q);
	assert_int_equal(inv_req_decode(s, strlen(s), &back, detail, sizeof detail), MB_OK);
	assert_string_equal(back.idem_key, q.idem_key);
	free(s);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"method\":\"Sell\",\"bookId\":1,"
		    "\"userId\":2,\"idemKey\":%s}", UUID_A, bad[i]);
		refused(buf, "'idemKey'");
	}
	assert_true(inv_key_ok("k"));
	assert_false(inv_key_ok(""));
	assert_false(inv_key_ok("a\x7f"));
}

static void
test_decode_duplicate_keys(void **state)
{
	static const char *const bad[] = {
		"{\"id\":\"" UUID_A "\",\"id\":\"" UUID_B "\",\"method\":\"List\"}",
		"{\"id\":\"" UUID_A "\",\"id\":\"" UUID_A "\",\"method\":\"List\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"List\",\"method\":\"Get\",\"bookId\":1}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Get\",\"bookId\":1,\"bookId\":2}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Sell\",\"bookId\":1,\"userId\":2,\"userId\":2}",
		"{\"id\":\"" UUID_A "\",\"ref\":\"a\",\"ref\":\"b\",\"method\":\"List\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"List\",\"x\":{\"y\":1,\"y\":2}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i], "duplicate");
}

/* ---- replies ---- */

static void
test_reply_ok(void **state)
{
	json_t *o;

	(void)state;
	o = parse(inv_reply_ok(NULL));
	assert_true(json_is_true(json_object_get(o, "ok")));
	assert_int_equal(json_object_size(o), 1);
	json_decref(o);

	o = parse(inv_reply_ok(json_pack("{s:I, s:s}", "historyId", (json_int_t)77, "note", "x")));
	assert_true(json_is_true(json_object_get(o, "ok")));
	assert_int_equal(json_integer_value(json_object_get(o, "historyId")), 77);
	assert_string_equal(json_string_value(json_object_get(o, "note")), "x");
	assert_int_equal(json_object_size(o), 3);
	json_decref(o);

	/* A member called "ok" in the data cannot turn the reply into a failure. */
	o = parse(inv_reply_ok(json_pack("{s:b}", "ok", 0)));
	assert_true(json_is_true(json_object_get(o, "ok")));
	json_decref(o);
}

static void
test_reply_err(void **state)
{
	json_t *o;

	(void)state;
	o = parse(inv_reply_err(E_OUT_OF_STOCK, "book 7 has no stock left"));
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_string_equal(json_string_value(json_object_get(o, "code")), "OUT_OF_STOCK");
	assert_string_equal(json_string_value(json_object_get(o, "detail")),
	    "book 7 has no stock left");
	assert_int_equal(json_object_size(o), 3);
	json_decref(o);

	o = parse(inv_reply_err(E_NOT_FOUND, NULL));
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_string_equal(json_string_value(json_object_get(o, "code")), "NOT_FOUND");
	assert_string_equal(json_string_value(json_object_get(o, "detail")), "");
	json_decref(o);

	/* Quotes and control characters in the detail are escaped, not injected. */
	o = parse(inv_reply_err(E_INVALID_ARGUMENT, "\"},\"ok\":true,\"x\":{\"\n"));
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_string_equal(json_string_value(json_object_get(o, "detail")),
	    "\"},\"ok\":true,\"x\":{\"\n");
	json_decref(o);
}

/* Every code the daemon can answer with comes back as the client parses it. */
static void
test_reply_err_every_code(void **state)
{
	int e;

	(void)state;
	for (e = E_INVALID_ARGUMENT; e < E_COUNT; e++) {
		json_t *o = parse(inv_reply_err((mb_err)e, "d"));

		assert_string_equal(json_string_value(json_object_get(o, "code")),
		    resp_code_name((mb_err)e));
		assert_int_equal(resp_code_parse(json_string_value(json_object_get(o, "code"))), e);
		json_decref(o);
	}
}

/* What the decoder says about a bad request becomes a reply the client can read. */
static void
test_reply_err_carries_decode_detail(void **state)
{
	static const char *const bad[] = {
		"{", "[]", "{\"id\":1}", "{\"id\":\"" UUID_A "\",\"method\":\"x\"}",
		"{\"id\":\"" UUID_A "\",\"method\":\"Get\",\"bookId\":0}",
		"{\"id\": \xc3\xa9\xc3\xa9\xc3\xa9}", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char detail[256];
		inv_req q;
		json_t *o;

		assert_int_equal(decode(bad[i], &q, detail, sizeof detail), MB_DECLINED);
		o = parse(inv_reply_err(E_INVALID_ARGUMENT, detail));
		assert_string_equal(json_string_value(json_object_get(o, "detail")), detail);
		json_decref(o);
	}
}

/*
 * Found by fuzz_inv: jansson's error text for a bad escape keeps one byte of
 * the following multi-byte character, so the detail is not UTF-8. The reply
 * must still be an INVALID_ARGUMENT error, with that byte replaced.
 */
static void
test_reply_err_detail_not_utf8(void **state)
{
	static const char bad[] = "{\"ref\":\"\\u0\xd0\x9a\"}";
	char detail[256];
	inv_req q;
	json_t *o;

	(void)state;
	assert_int_equal(decode(bad, &q, detail, sizeof detail), MB_DECLINED);
	o = parse(inv_reply_err(E_INVALID_ARGUMENT, detail));
	assert_string_equal(json_string_value(json_object_get(o, "code")), "INVALID_ARGUMENT");
	assert_non_null(strchr(json_string_value(json_object_get(o, "detail")), '?'));
	json_decref(o);
}

/* A batched Confirm ("historyIds") round-trips; bad batches are refused. */
static void
test_confirm_batch(void **state)
{
	static inv_req q, back;
	char detail[256], *s, big[8192];
	size_t len;
	int i;

	(void)state;
	memset(&q, 0, sizeof q);
	memcpy(q.id, UUID_A, sizeof UUID_A);
	q.method = INV_CONFIRM;
	q.nhistory = 3;
	q.history_ids[0] = 7;
	q.history_ids[1] = 9223372036854775807LL;
	q.history_ids[2] = 1;
	s = inv_req_encode(&q);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"historyIds\":[7,9223372036854775807,1]"));
	assert_int_equal(decode(s, &back, detail, sizeof detail), MB_OK);
	free(s);
	assert_int_equal(back.nhistory, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(back.history_ids[i], q.history_ids[i]);
	refused("{\"id\":\"" UUID_A "\",\"method\":\"Confirm\",\"historyIds\":[]}", "historyIds");
	refused("{\"id\":\"" UUID_A "\",\"method\":\"Confirm\",\"historyIds\":[1,0]}", "historyIds");
	refused("{\"id\":\"" UUID_A "\",\"method\":\"Confirm\",\"historyIds\":[1,\"2\"]}", "historyIds");
	refused("{\"id\":\"" UUID_A "\",\"method\":\"Confirm\",\"historyIds\":5}", "historyIds");
	len = (size_t)snprintf(big, sizeof big, "{\"id\":\"" UUID_A "\",\"method\":\"Confirm\",\"historyIds\":[");
	for (i = 0; i <= INV_MAX_BATCH; i++)
		len += (size_t)snprintf(big + len, sizeof big - len, "%s1", i ? "," : "");
	snprintf(big + len, sizeof big - len, "]}");
	refused(big, "historyIds");
}

/* A book's JSON has the API's shape, and a title that is not UTF-8 is cleaned, not lost. */
static json_t *
book_of(int64_t id, const char *title, int64_t price, int64_t stock)
{
	jbuf jb = { 0 };
	json_t *b;
	char *text;

	inv_book_text(&jb, id, title, price, stock);
	assert_non_null(text = jbuf_take(&jb, NULL));
	b = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	assert_non_null(b);
	assert_int_equal(json_object_size(b), 4);
	return b;
}

static void
test_book_json(void **state)
{
	json_t *b;

	(void)state;
	b = book_of(7, "Caf\xc3\xa9 \"C\"", 4200, 3);
	assert_int_equal(json_integer_value(json_object_get(b, "bookId")), 7);
	assert_string_equal(json_string_value(json_object_get(b, "title")), "Caf\xc3\xa9 \"C\"");
	assert_int_equal(json_integer_value(json_object_get(b, "unitPrice")), 4200);
	assert_int_equal(json_integer_value(json_object_get(b, "stock")), 3);
	json_decref(b);
	b = book_of(8, "bad \xff byte", 1, 0);
	assert_string_equal(json_string_value(json_object_get(b, "title")), "bad ? byte");
	json_decref(b);
}

/* ---- ids and names ---- */

static void
test_new_id(void **state)
{
	enum { N = 64 };
	char ids[N][INV_ID_LEN + 1];
	size_t i, j;

	(void)state;
	for (i = 0; i < N; i++) {
		memset(ids[i], 'X', sizeof ids[i]);
		inv_new_id(ids[i]);
		assert_int_equal(strlen(ids[i]), INV_ID_LEN);
		for (j = 0; j < INV_ID_LEN; j++) {
			char c = ids[i][j];

			if (j == 8 || j == 13 || j == 18 || j == 23) {
				if (c != '-')
					fail_msg("\"%s\": no '-' at %zu", ids[i], j);
			} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
				fail_msg("\"%s\": '%c' at %zu is not lowercase hex", ids[i], c, j);
			}
		}
		/* A random (version 4, RFC 4122 variant) uuid. */
		assert_int_equal(ids[i][14], '4');
		assert_non_null(strchr("89ab", ids[i][19]));
		for (j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				fail_msg("the same id twice: %s", ids[i]);
	}
}

/* A fresh id is what the decoder accepts as an id. */
static void
test_new_id_decodes(void **state)
{
	char id[INV_ID_LEN + 1], buf[128], detail[256];
	inv_req q;

	(void)state;
	inv_new_id(id);
	snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"method\":\"List\"}", id);
	assert_int_equal(decode(buf, &q, detail, sizeof detail), MB_OK);
	assert_string_equal(q.id, id);
}

static void
test_method_names(void **state)
{
	(void)state;
	assert_string_equal(inv_method_name(INV_SELL), "Sell");
	assert_string_equal(inv_method_name(INV_CONFIRM), "Confirm");
	assert_string_equal(inv_method_name(INV_RELEASE), "Release");
	assert_string_equal(inv_method_name(INV_LIST), "List");
	assert_string_equal(inv_method_name(INV_GET), "Get");
	assert_string_equal(inv_method_name(INV_PING), "Ping");
	assert_string_equal(inv_method_name((inv_method)INV_NMETHODS), "?");
	assert_string_equal(inv_method_name((inv_method)-1), "?");
}

/*
 * The client's Ping against a REP socket in this process that answers with
 * the daemon's codec: 0 on an ok reply, -1 on an error reply, and -1 within
 * the deadline when nothing listens.
 */
typedef struct ping_server {
	int  sock;
	int  answer_ok;  /* 1: ok, 0: an error reply, -1: an ok reply that is not sealed */
	int  got_ping;
	char ref[INV_REF_MAX + 1];
} ping_server;

static void *
ping_serve_one(void *arg)
{
	ping_server *p = arg;
	char *buf = NULL, detail[160], *reply, *sealed;
	const char *payload, *why;
	size_t plen;
	inv_req q;
	int n = nn_recv(p->sock, &buf, NN_MSG, 0);

	if (n < 0)
		return NULL;
	memset(&q, 0, sizeof q);
	if (mac_open(INV_MAC_REQ, "", clock_wall_s(), buf, (size_t)n, &payload, &plen, &why) == MB_OK &&
	    inv_req_decode(payload, plen, &q, detail, sizeof detail) == MB_OK &&
	    q.method == INV_PING) {
		p->got_ping = 1;
		snprintf(p->ref, sizeof p->ref, "%s", q.ref);
	}
	nn_freemsg(buf);
	reply = p->answer_ok != 0 ? inv_reply_ok(NULL) : inv_reply_err(E_INTERNAL, "refused");
	sealed = p->answer_ok >= 0 ? mac_seal(INV_MAC_REP, q.id, clock_wall_s(), reply, strlen(reply))
	    : strdup(reply);
	nn_send(p->sock, sealed, strlen(sealed), 0);
	free(reply);
	free(sealed);
	return NULL;
}

static void
test_client_ping(void **state)
{
	char url[128], path[96];
	int64_t t0;
	int answer_ok;

	(void)state;
	snprintf(path, sizeof path, "/tmp/mb-test-inv-%d.ipc", (int)getpid());
	snprintf(url, sizeof url, "ipc://%s", path);
	for (answer_ok = 1; answer_ok >= -1; answer_ok--) {
		ping_server p = { .answer_ok = answer_ok };
		inv_client *c;
		pthread_t t;

		assert_true((p.sock = nn_socket(AF_SP, NN_REP)) >= 0);
		assert_true(nn_bind(p.sock, url) >= 0);
		assert_non_null(c = inv_client_new(url, 2000));
		assert_int_equal(pthread_create(&t, NULL, ping_serve_one, &p), 0);
		if (answer_ok > 0)
			assert_int_equal(inv_ping(c, "ref-ping"), MB_OK);
		else if (answer_ok == 0)
			assert_int_equal(inv_ping(c, "ref-ping"), MB_ERROR);
		else /* a forged reply is no answer */
			assert_int_equal(inv_ping(c, "ref-ping"), MB_UNAVAIL);
		pthread_join(t, NULL);
		assert_true(p.got_ping);
		assert_string_equal(p.ref, "ref-ping");
		inv_client_free(c);
		nn_close(p.sock);
	}
	unlink(path);

	/* nobody bound: MB_UNAVAIL after the client's deadline, not before and not much after */
	{
		inv_client *c = inv_client_new(url, 200);

		assert_non_null(c);
		t0 = clock_mono_us();
		assert_int_equal(inv_ping(c, NULL), MB_UNAVAIL);
		assert_in_range(clock_mono_us() - t0, 190000, 1500000);
		inv_client_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_method),
		cmocka_unit_test(test_decode_ignores_foreign_members),
		cmocka_unit_test(test_decode_ref),
		cmocka_unit_test(test_decode_only_len_bytes),
		cmocka_unit_test(test_decode_malformed_json),
		cmocka_unit_test(test_decode_not_an_object),
		cmocka_unit_test(test_decode_bad_id),
		cmocka_unit_test(test_decode_unknown_method),
		cmocka_unit_test(test_decode_bad_numbers),
		cmocka_unit_test(test_decode_duplicate_keys),
		cmocka_unit_test(test_sell_idem_key),
		cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_reply_err),
		cmocka_unit_test(test_reply_err_every_code),
		cmocka_unit_test(test_reply_err_carries_decode_detail),
		cmocka_unit_test(test_reply_err_detail_not_utf8),
		cmocka_unit_test(test_confirm_batch),
		cmocka_unit_test(test_book_json),
		cmocka_unit_test(test_new_id),
		cmocka_unit_test(test_new_id_decodes),
		cmocka_unit_test(test_method_names),
		cmocka_unit_test(test_client_ping),
	};

	if (mac_init("unit-test-internal-key-0123") != MB_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
