/*
 * test_req: what a client sends. Cookie headers (only mb_session, exactly
 * once), form and JSON bodies (strings and integers only, no duplicated
 * field, no NUL), ids (API.md's positive 63-bit decimals) and media types.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"
#include "session.h"

/* Parsers take a fresh req_params from the heap: it is larger than 16 KiB. */
static int
setup_params(void **state)
{
	req_params *p = malloc(sizeof *p);

	if (p == NULL)
		return -1;
	req_params_reset(p);
	*state = p;
	return 0;
}

static int
teardown_params(void **state)
{
	free(*state);
	return 0;
}

static int
form(req_params *p, const char *s, char *detail)
{
	req_params_reset(p);
	detail[0] = '\0';
	return req_parse_form(p, s, strlen(s), detail, 256);
}

static int
json(req_params *p, const char *s, char *detail)
{
	req_params_reset(p);
	detail[0] = '\0';
	return req_parse_json(p, s, strlen(s), detail, 256);
}

/* ---- req_cookie ---- */

static void
test_cookie_found(void **state)
{
	static const struct {
		const char *header, *value;
	} ok[] = {
		{ "mb_session=abc", "abc" },
		{ "a=1; mb_session=xyz; b=2", "xyz" },
		{ "a=1;mb_session=xyz;b=2", "xyz" },
		{ "a=1;   mb_session=xyz  ; b=2", "xyz" },
		{ "\tmb_session=v\t", "v" },
		{ "a=1; b=2; mb_session=last", "last" },
		{ "mb_session=first; a=1", "first" },
		{ "mb_session=a=b", "a=b" },
		{ "mb_session=", "" },
		{ "broken; mb_session=v; =x; ;", "v" },
		{ "xmb_session=1; mb_session=real; mb_session2=2", "real" },
		{ "mb_session=v;", "v" },
	};
	char out[SESSION_MAX_VALUE + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		memset(out, 'X', sizeof out);
		if (req_cookie(ok[i].header, SESSION_COOKIE, out, sizeof out) != MB_OK)
			fail_msg("\"%s\": not found", ok[i].header);
		if (strcmp(out, ok[i].value) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", ok[i].header, out, ok[i].value);
	}
}

static void
test_cookie_absent(void **state)
{
	static const char *const none[] = {
		"", " ", ";", ";;;", "a=1; b=2", "mb_session", "mb_session; a=1", "xmb_session=1",
		"mb_session2=1", "mb_session_x=1", "MB_SESSION=1", "Mb_Session=1", "mb_sessio=1",
		"other=mb_session=evil", "mb_session =1", "a=1,mb_session=2",
	};
	char out[64];
	size_t i;

	(void)state;
	assert_int_equal(req_cookie(NULL, SESSION_COOKIE, out, sizeof out), MB_NONE);
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		if (req_cookie(none[i], SESSION_COOKIE, out, sizeof out) != MB_NONE)
			fail_msg("\"%s\": mb_session was found", none[i]);
}

static void
test_cookie_duplicated(void **state)
{
	static const char *const dup[] = {
		"mb_session=a; mb_session=b",
		"mb_session=a; mb_session=a",
		"mb_session=a;mb_session=",
		"x=1; mb_session=a; y=2; mb_session=b; z=3",
		"mb_session=; mb_session=",
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof dup / sizeof dup[0]; i++)
		if (req_cookie(dup[i], SESSION_COOKIE, out, sizeof out) != MB_DECLINED)
			fail_msg("\"%s\": duplicate not refused", dup[i]);
}

static void
test_cookie_too_long(void **state)
{
	char out[8], *big, header[64];

	(void)state;
	/* 7 characters and a NUL fit in 8 bytes; 8 do not. */
	assert_int_equal(req_cookie("mb_session=1234567", SESSION_COOKIE, out, sizeof out), MB_OK);
	assert_string_equal(out, "1234567");
	memset(out, 'X', sizeof out);
	assert_int_equal(req_cookie("mb_session=12345678", SESSION_COOKIE, out, sizeof out), MB_DECLINED);
	/* Trailing blanks do not count against the limit. */
	assert_int_equal(req_cookie("mb_session=1234567   ", SESSION_COOKIE, out, sizeof out), MB_OK);
	assert_string_equal(out, "1234567");
	snprintf(header, sizeof header, "a=1; mb_session=%s; b=2", "0123456789");
	assert_int_equal(req_cookie(header, SESSION_COOKIE, out, sizeof out), MB_DECLINED);

	/* A value far longer than any cookie we issue, into the real buffer size. */
	big = malloc(20000);
	assert_non_null(big);
	strcpy(big, "mb_session=");
	memset(big + 11, 'A', 19000);
	big[11 + 19000] = '\0';
	{
		char value[SESSION_MAX_VALUE + 1];

		assert_int_equal(req_cookie(big, SESSION_COOKIE, value, sizeof value), MB_DECLINED);
	}
	free(big);
}

static void
test_cookie_long_header(void **state)
{
	char header[8400], out[SESSION_MAX_VALUE + 1];
	size_t len = 0;
	int i = 0;

	(void)state;
	while (len < 8192 - 40) {
		int n = snprintf(header + len, sizeof header - len, "c%d=%s; ", i++, "vvvvvvvvvvvv");

		assert_true(n > 0);
		len += (size_t)n;
	}
	snprintf(header + len, sizeof header - len, "mb_session=the-token");
	assert_true(strlen(header) > 8000);
	assert_int_equal(req_cookie(header, SESSION_COOKIE, out, sizeof out), MB_OK);
	assert_string_equal(out, "the-token");
	/* Another name found in the same long header. */
	assert_int_equal(req_cookie(header, "c17", out, sizeof out), MB_OK);
	assert_string_equal(out, "vvvvvvvvvvvv");
	/* And the same header without our cookie. */
	header[len] = '\0';
	assert_int_equal(req_cookie(header, SESSION_COOKIE, out, sizeof out), MB_NONE);
}

/* ---- req_parse_form ---- */

static void
test_form_basic(void **state)
{
	req_params *p = *state;
	char detail[256];

	assert_int_equal(form(p, "userName=micro&pwd=secret", detail), MB_OK);
	assert_int_equal(p->n, 2);
	assert_string_equal(req_param(p, "userName"), "micro");
	assert_string_equal(req_param(p, "pwd"), "secret");
	assert_null(req_param(p, "username"));
	assert_null(req_param(p, "bookId"));

	assert_int_equal(form(p, "", detail), MB_OK);
	assert_int_equal(p->n, 0);

	assert_int_equal(form(p, "a=b=c", detail), MB_OK);
	assert_string_equal(req_param(p, "a"), "b=c");

	req_params_reset(p);
	assert_int_equal(p->n, 0);
	assert_null(req_param(p, "a"));
}

static void
test_form_only_len_bytes(void **state)
{
	req_params *p = *state;
	char detail[256];

	req_params_reset(p);
	assert_int_equal(req_parse_form(p, "a=12&b=3", 4, detail, sizeof detail), MB_OK);
	assert_int_equal(p->n, 1);
	assert_string_equal(req_param(p, "a"), "12");
	assert_null(req_param(p, "b"));
	/* An escape cut by the length is bad, whatever follows in memory. */
	req_params_reset(p);
	assert_int_equal(req_parse_form(p, "a=%41", 4, detail, sizeof detail), MB_DECLINED);
	req_params_reset(p);
	assert_int_equal(req_parse_form(p, "a=%41", 3, detail, sizeof detail), MB_DECLINED);
}

static void
test_form_percent_decoding(void **state)
{
	static const struct {
		const char *in, *key, *val;
	} ok[] = {
		{ "a=%41%62c", "a", "Abc" },
		{ "a=%2B", "a", "+" },
		{ "a=%2b", "a", "+" },
		{ "a=+", "a", " " },
		{ "a=1%2B1+2", "a", "1+1 2" },
		{ "a=%20x%20", "a", " x " },
		{ "a=%25", "a", "%" },
		{ "a=%2525", "a", "%25" },
		{ "a=%26b%3Dc", "a", "&b=c" },
		{ "a=%C3%A9", "a", "\xc3\xa9" },
		{ "a=%ff", "a", "\xff" },
		{ "user%4Eame=x", "userName", "x" },
		{ "user+name=x", "user name", "x" },
		{ "a%3Db=c", "a=b", "c" },
		{ "k=%7e%7E", "k", "~~" },
	};
	req_params *p = *state;
	char detail[256];
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const char *v;

		if (form(p, ok[i].in, detail) != MB_OK)
			fail_msg("\"%s\": refused (%s)", ok[i].in, detail);
		assert_int_equal(p->n, 1);
		if ((v = req_param(p, ok[i].key)) == NULL || strcmp(v, ok[i].val) != 0)
			fail_msg("\"%s\": %s is \"%s\", want \"%s\"", ok[i].in, ok[i].key,
			    v ? v : "(none)", ok[i].val);
	}
}

static void
test_form_duplicates(void **state)
{
	static const struct {
		const char *in, *field;
	} dup[] = {
		{ "bookId=1&bookId=2", "bookId" },
		{ "bookId=1&bookId=1", "bookId" },
		{ "bookId=1&x=2&book%49d=3", "bookId" },
		{ "flag&flag", "flag" },
		{ "flag&flag=1", "flag" },
		{ "a=1&b=2&c=3&b=4", "b" },
	};
	req_params *p = *state;
	char detail[256];
	size_t i;

	for (i = 0; i < sizeof dup / sizeof dup[0]; i++) {
		char quoted[80];

		if (form(p, dup[i].in, detail) != MB_DECLINED)
			fail_msg("\"%s\": duplicate accepted", dup[i].in);
		snprintf(quoted, sizeof quoted, "'%s'", dup[i].field);
		if (strstr(detail, quoted) == NULL)
			fail_msg("\"%s\": detail \"%s\" does not name %s", dup[i].in, detail, quoted);
	}
}

static void
test_form_bad_escapes(void **state)
{
	static const char *const bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%4g", "a=%g4", "a=1%", "a=1%2", "a=% 1", "a=%-1",
		"a=%+1", "%=1", "a%=1", "%4=1", "%zz=1", "a=%00", "a=x%00y", "%00=1", "a%00b=1",
		"ok=1&a=%", "a=%%41",
	};
	req_params *p = *state;
	char detail[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (form(p, bad[i], detail) != MB_DECLINED)
			fail_msg("\"%s\": accepted", bad[i]);
		if (detail[0] == '\0')
			fail_msg("\"%s\": no detail", bad[i]);
	}
	/* A bad value names its field. */
	assert_int_equal(form(p, "bookId=%zz", detail), MB_DECLINED);
	assert_non_null(strstr(detail, "'bookId'"));
}

/* A raw NUL inside the given length is as bad as an encoded one. */
static void
test_form_raw_nul(void **state)
{
	req_params *p = *state;
	char detail[256];

	req_params_reset(p);
	assert_int_equal(req_parse_form(p, "a=x\0y", 5, detail, sizeof detail), MB_DECLINED);
	req_params_reset(p);
	assert_int_equal(req_parse_form(p, "a\0=1", 4, detail, sizeof detail), MB_DECLINED);
}

static void
test_form_empty_pairs_and_bare_keys(void **state)
{
	req_params *p = *state;
	char detail[256];

	assert_int_equal(form(p, "&&a=1&&b=2&", detail), MB_OK);
	assert_int_equal(p->n, 2);
	assert_string_equal(req_param(p, "a"), "1");
	assert_string_equal(req_param(p, "b"), "2");

	assert_int_equal(form(p, "&", detail), MB_OK);
	assert_int_equal(p->n, 0);
	assert_int_equal(form(p, "&&&&", detail), MB_OK);
	assert_int_equal(p->n, 0);

	assert_int_equal(form(p, "flag", detail), MB_OK);
	assert_int_equal(p->n, 1);
	assert_string_equal(req_param(p, "flag"), "");

	assert_int_equal(form(p, "flag&a=1&empty=", detail), MB_OK);
	assert_int_equal(p->n, 3);
	assert_string_equal(req_param(p, "flag"), "");
	assert_string_equal(req_param(p, "a"), "1");
	assert_string_equal(req_param(p, "empty"), "");
}

static void
test_form_field_limit(void **state)
{
	req_params *p = *state;
	char body[1024], detail[256];
	size_t len = 0;
	int i;

	for (i = 0; i < REQ_MAX_PARAMS; i++)
		len += (size_t)snprintf(body + len, sizeof body - len, "%sf%d=%d", i ? "&" : "", i, i);
	assert_int_equal(form(p, body, detail), MB_OK);
	assert_int_equal(p->n, REQ_MAX_PARAMS);
	assert_string_equal(req_param(p, "f0"), "0");
	assert_string_equal(req_param(p, "f31"), "31");

	snprintf(body + len, sizeof body - len, "&f%d=x", REQ_MAX_PARAMS);
	assert_int_equal(form(p, body, detail), MB_DECLINED);
	assert_non_null(strstr(detail, "too many"));
}

/* The arena holds the largest body the service accepts, in the worst layout. */
static void
test_form_max_body(void **state)
{
	req_params *p = *state;
	char *body, detail[256];
	size_t each = (REQ_MAX_BODY - (REQ_MAX_PARAMS - 1)) / REQ_MAX_PARAMS, len = 0;
	int i;

	body = malloc(REQ_MAX_BODY + 1);
	assert_non_null(body);

	/* One field filling the whole body. */
	memcpy(body, "a=", 2);
	memset(body + 2, 'x', REQ_MAX_BODY - 2);
	body[REQ_MAX_BODY] = '\0';
	assert_int_equal(form(p, body, detail), MB_OK);
	assert_int_equal(strlen(req_param(p, "a")), REQ_MAX_BODY - 2);

	/* 32 bare keys (each costs two extra arena bytes). */
	for (i = 0; i < REQ_MAX_PARAMS; i++) {
		if (i > 0)
			body[len++] = '&';
		memset(body + len, 'k', each);
		snprintf(body + len, 8, "%02d", i);
		body[len + 2] = 'k';
		len += each;
	}
	body[len] = '\0';
	assert_true(len <= REQ_MAX_BODY);
	assert_int_equal(form(p, body, detail), MB_OK);
	assert_int_equal(p->n, REQ_MAX_PARAMS);
	assert_int_equal(strlen(p->key[REQ_MAX_PARAMS - 1]), each);
	assert_string_equal(p->val[REQ_MAX_PARAMS - 1], "");
	free(body);
}

/* ---- req_parse_json ---- */

static void
test_json_ok(void **state)
{
	req_params *p = *state;
	char detail[256];

	assert_int_equal(json(p, "{\"userName\":\"micro\",\"pwd\":\"123\",\"bookId\":42}", detail),
	    MB_OK);
	assert_int_equal(p->n, 3);
	assert_string_equal(req_param(p, "userName"), "micro");
	assert_string_equal(req_param(p, "pwd"), "123");
	assert_string_equal(req_param(p, "bookId"), "42");

	assert_int_equal(json(p, " { } ", detail), MB_OK);
	assert_int_equal(p->n, 0);

	assert_int_equal(json(p, "{\"a\":\"\\u00e9\\\"\\\\\\n\",\"\\u0062\":\"\"}", detail), MB_OK);
	assert_string_equal(req_param(p, "a"), "\xc3\xa9\"\\\n");
	assert_string_equal(req_param(p, "b"), "");

	assert_int_equal(json(p, "{\"a\":\"\xe2\x82\xac\"}", detail), MB_OK);
	assert_string_equal(req_param(p, "a"), "\xe2\x82\xac");
}

static void
test_json_integers_in_decimal(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "{\"n\":0}", "0" },
		{ "{\"n\":7}", "7" },
		{ "{\"n\":-7}", "-7" },
		{ "{\"n\":512}", "512" },
		{ "{\"n\":-0}", "0" },
		{ "{\"n\":9223372036854775807}", "9223372036854775807" },
		{ "{\"n\":-9223372036854775808}", "-9223372036854775808" },
	};
	req_params *p = *state;
	char detail[256];
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (json(p, v[i].in, detail) != MB_OK)
			fail_msg("%s: refused (%s)", v[i].in, detail);
		assert_string_equal(req_param(p, "n"), v[i].out);
	}
}

static void
test_json_refused(void **state)
{
	static const char *const bad[] = {
		/* not an object */
		"[]", "[1]", "[{\"a\":\"1\"}]", "\"str\"", "42", "true", "null",
		/* values that are neither strings nor integers */
		"{\"a\":{}}", "{\"a\":{\"b\":\"1\"}}", "{\"a\":[]}", "{\"a\":[1]}",
		"{\"a\":true}", "{\"a\":false}", "{\"a\":null}", "{\"a\":1.5}", "{\"a\":1e3}",
		"{\"a\":1.0}", "{\"ok\":\"1\",\"a\":null}",
		/* duplicates */
		"{\"a\":\"1\",\"a\":\"2\"}", "{\"a\":1,\"a\":1}", "{\"a\":\"1\",\"\\u0061\":\"2\"}",
		/* out of range */
		"{\"a\":9223372036854775808}", "{\"a\":-9223372036854775809}",
		/* malformed */
		"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":\"1\",}", "{\"a\" \"1\"}",
		"{}x", "{}{}", "{'a':'1'}", "{a:\"1\"}", "{\"a\":\"1\"", "{\"a\":01}",
		"{\"a\":+1}", "{\"a\":\"\\x41\"}", "{\"a\":\"line\nbreak\"}",
		/* NUL */
		"{\"a\":\"\\u0000\"}", "{\"\\u0000\":\"1\"}", "{\"a\":\"x\\u0000y\"}",
		/* invalid UTF-8 */
		"{\"a\":\"\xff\"}", "{\"\xc3\":\"x\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xc0\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\x80\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}",
	};
	req_params *p = *state;
	char detail[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (json(p, bad[i], detail) != MB_DECLINED)
			fail_msg("%s: accepted", bad[i]);
		if (detail[0] == '\0')
			fail_msg("%s: no detail", bad[i]);
	}
}

static void
test_json_detail_names_field(void **state)
{
	req_params *p = *state;
	char detail[256];

	assert_int_equal(json(p, "{\"bookId\":1.5}", detail), MB_DECLINED);
	assert_non_null(strstr(detail, "'bookId'"));
	assert_int_equal(json(p, "{\"orderId\":{}}", detail), MB_DECLINED);
	assert_non_null(strstr(detail, "'orderId'"));
	assert_int_equal(json(p, "[1]", detail), MB_DECLINED);
	assert_non_null(strstr(detail, "object"));
}

/* A raw NUL byte within the length is refused, not taken as the end. */
static void
test_json_raw_nul(void **state)
{
	req_params *p = *state;
	char detail[256];

	req_params_reset(p);
	assert_int_equal(req_parse_json(p, "{}\0", 3, detail, sizeof detail), MB_DECLINED);
	req_params_reset(p);
	assert_int_equal(req_parse_json(p, "{\"a\":\"x\0y\"}", 11, detail, sizeof detail),
	    MB_DECLINED);
	/* Only `len` bytes are read. */
	req_params_reset(p);
	assert_int_equal(req_parse_json(p, "{\"a\":\"1\"}garbage", 9, detail, sizeof detail), MB_OK);
	assert_string_equal(req_param(p, "a"), "1");
}

static void
test_json_deep_nesting(void **state)
{
	static const int depths[] = { 1000, 100000 };
	req_params *p = *state;
	char detail[256], *s;
	size_t i;
	int d;

	for (i = 0; i < sizeof depths / sizeof depths[0]; i++) {
		size_t n = (size_t)depths[i];

		s = malloc(6 * n + 16);
		assert_non_null(s);
		/* [[[...]]] */
		memset(s, '[', n);
		memset(s + n, ']', n);
		s[2 * n] = '\0';
		assert_int_equal(json(p, s, detail), MB_DECLINED);
		/* {"a":{"a":...{}...}} */
		for (d = 0; d < depths[i]; d++)
			memcpy(s + 5 * (size_t)d, "{\"a\":", 5);
		memcpy(s + 5 * n, "{}", 2);
		memset(s + 5 * n + 2, '}', n);
		s[6 * n + 2] = '\0';
		assert_int_equal(json(p, s, detail), MB_DECLINED);
		free(s);
	}
}

static void
test_json_field_limit(void **state)
{
	req_params *p = *state;
	char body[1024], detail[256];
	size_t len = 1;
	int i;

	body[0] = '{';
	for (i = 0; i < REQ_MAX_PARAMS; i++)
		len += (size_t)snprintf(body + len, sizeof body - len, "%s\"f%d\":%d", i ? "," : "", i, i);
	snprintf(body + len, sizeof body - len, "}");
	assert_int_equal(json(p, body, detail), MB_OK);
	assert_int_equal(p->n, REQ_MAX_PARAMS);
	assert_string_equal(req_param(p, "f31"), "31");
	snprintf(body + len, sizeof body - len, ",\"f%d\":\"x\"}", REQ_MAX_PARAMS);
	assert_int_equal(json(p, body, detail), MB_DECLINED);
}

/* The largest JSON body fits: one string value of nearly 16 KiB. */
static void
test_json_max_body(void **state)
{
	req_params *p = *state;
	char *body, detail[256];

	body = malloc(REQ_MAX_BODY + 1);
	assert_non_null(body);
	memcpy(body, "{\"a\":\"", 6);
	memset(body + 6, 'y', REQ_MAX_BODY - 8);
	memcpy(body + REQ_MAX_BODY - 2, "\"}", 3);
	assert_int_equal(strlen(body), REQ_MAX_BODY);
	assert_int_equal(json(p, body, detail), MB_OK);
	assert_int_equal(strlen(req_param(p, "a")), REQ_MAX_BODY - 8);
	free(body);
}

/* ---- req_id_ok ---- */

static void
test_request_id(void **state)
{
	(void)state;
	assert_int_equal(req_id_ok("0123456789abcdef0123456789abcdef"), 1);
	assert_int_equal(req_id_ok("d41d8cd98f00b204e9800998ecf8427e"), 1);
	assert_int_equal(req_id_ok(NULL), 0);
	assert_int_equal(req_id_ok(""), 0);
	assert_int_equal(req_id_ok("x\r\nSet-Cookie: s=1"), 0);
	assert_int_equal(req_id_ok("0123456789abcdef0123456789abcde"), 0);    /* 31 */
	assert_int_equal(req_id_ok("0123456789abcdef0123456789abcdef0"), 0);  /* 33 */
	assert_int_equal(req_id_ok("0123456789ABCDEF0123456789abcdef"), 0);   /* upper case */
	assert_int_equal(req_id_ok("0123456789abcdef0123456789abcdeg"), 0);
	assert_int_equal(req_id_ok("0123456789abcdef0123456789abcdef\r\nX: y"), 0);
	assert_int_equal(req_id_ok("0123456789abcdef0123456789abcde "), 0);
}

/* ---- req_parse_id ---- */

static void
test_id_table(void **state)
{
	static const char *const bad[] = {
		"abc", "", "0", "00", "-1", "+1", "1e3", "12abc", " 1", "1 ", "01", "007", "1.0",
		"0x10", "1,000", "\xd9\xa1", "9223372036854775808", "9223372036854775809",
		"9999999999999999999", "18446744073709551616", "12345678901234567890",
		"92233720368547758070",
	};
	static const struct {
		const char *s;
		int64_t v;
	} good[] = {
		{ "1", 1 }, { "9", 9 }, { "10", 10 }, { "511", 511 }, { "512", 512 },
		{ "10001", 10001 }, { "2147483648", 2147483648LL },
		{ "999999999999999999", 999999999999999999LL },
		{ "9223372036854775806", INT64_MAX - 1 },
		{ "9223372036854775807", INT64_MAX },
	};
	int64_t v;
	size_t i;

	(void)state;
	assert_int_equal(req_parse_id(NULL, &v), MB_DECLINED);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		if (req_parse_id(bad[i], &v) != MB_DECLINED)
			fail_msg("\"%s\" accepted as %lld", bad[i], (long long)v);
		assert_int_equal(v, 12345); /* untouched on failure */
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = -1;
		if (req_parse_id(good[i].s, &v) != MB_OK)
			fail_msg("\"%s\" refused", good[i].s);
		if (v != good[i].v)
			fail_msg("\"%s\" gave %lld", good[i].s, (long long)v);
	}
}

/* ---- req_media_is ---- */

static void
test_media_is(void **state)
{
	static const struct {
		const char *ct, *type;
		int want;
	} v[] = {
		{ "application/json", "application/json", 1 },
		{ "APPLICATION/JSON", "application/json", 1 },
		{ "Application/Json", "application/json", 1 },
		{ "application/json; charset=utf-8", "application/json", 1 },
		{ "application/json;charset=UTF-8", "application/json", 1 },
		{ "application/json ; charset=utf-8", "application/json", 1 },
		{ " application/json", "application/json", 1 },
		{ "application/json;", "application/json", 1 },
		{ "application/x-www-form-urlencoded", "application/x-www-form-urlencoded", 1 },
		{ "application/x-www-form-urlencoded; charset=UTF-8",
		    "application/x-www-form-urlencoded", 1 },
		{ "application/jsonx", "application/json", 0 },
		{ "application/json-patch+json", "application/json", 0 },
		{ "application/json+x", "application/json", 0 },
		{ "application/json x", "application/json", 0 },
		{ "application/js", "application/json", 0 },
		{ "application/", "application/json", 0 },
		{ "", "application/json", 0 },
		{ ";application/json", "application/json", 0 },
		{ "text/json", "application/json", 0 },
		{ "text/plain", "application/json", 0 },
		{ "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", 0 },
		{ "application/x-www-form-urlencodedx", "application/x-www-form-urlencoded", 0 },
		{ "application/json", "application/x-www-form-urlencoded", 0 },
	};
	size_t i;

	(void)state;
	assert_int_equal(req_media_is(NULL, "application/json"), 0);
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		if (req_media_is(v[i].ct, v[i].type) != v[i].want)
			fail_msg("\"%s\" is \"%s\": want %d", v[i].ct, v[i].type, v[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_found),
		cmocka_unit_test(test_cookie_absent),
		cmocka_unit_test(test_cookie_duplicated),
		cmocka_unit_test(test_cookie_too_long),
		cmocka_unit_test(test_cookie_long_header),
		cmocka_unit_test_setup_teardown(test_form_basic, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_form_only_len_bytes, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_form_percent_decoding, setup_params,
		    teardown_params),
		cmocka_unit_test_setup_teardown(test_form_duplicates, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_form_bad_escapes, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_form_raw_nul, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_form_empty_pairs_and_bare_keys, setup_params,
		    teardown_params),
		cmocka_unit_test_setup_teardown(test_form_field_limit, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_form_max_body, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_json_ok, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_json_integers_in_decimal, setup_params,
		    teardown_params),
		cmocka_unit_test_setup_teardown(test_json_refused, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_json_detail_names_field, setup_params,
		    teardown_params),
		cmocka_unit_test_setup_teardown(test_json_raw_nul, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_json_deep_nesting, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_json_field_limit, setup_params, teardown_params),
		cmocka_unit_test_setup_teardown(test_json_max_body, setup_params, teardown_params),
		cmocka_unit_test(test_id_table),
		cmocka_unit_test(test_media_is),
		cmocka_unit_test(test_request_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
