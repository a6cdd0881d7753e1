/*
 * test_resp: the envelope and the error table of API.md. Every envelope is
 * parsed back with jansson, so the checks are about what a client reads,
 * not about the bytes resp.c happens to write.
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
#include "resp.h"

/* Parses an envelope (and frees the string); fails the test when it is not JSON. */
static json_t *
parse(char *s)
{
	json_error_t err;
	json_t *root;

	if (s == NULL)
		fail_msg("no envelope (NULL)");
	root = json_loads(s, 0, &err);
	if (root == NULL)
		fail_msg("not JSON (%s): %s", err.text, s);
	free(s);
	assert_true(json_is_object(root));
	return root;
}

static void
test_ok_envelope(void **state)
{
	json_t *root, *data;

	(void)state;
	root = parse(resp_ok("req-1", json_pack("{s:i, s:s}", "bookId", 7, "title", "C")));
	assert_int_equal(json_object_size(root), 3);
	assert_true(json_is_true(json_object_get(root, "success")));
	assert_string_equal(json_string_value(json_object_get(root, "ref")), "req-1");
	data = json_object_get(root, "data");
	assert_true(json_is_object(data));
	assert_int_equal(json_object_size(data), 2);
	assert_int_equal(json_integer_value(json_object_get(data, "bookId")), 7);
	assert_string_equal(json_string_value(json_object_get(data, "title")), "C");
	assert_null(json_object_get(root, "error"));
	json_decref(root);
}

static void
test_ok_defaults(void **state)
{
	json_t *root, *data;

	(void)state;
	root = parse(resp_ok(NULL, NULL));
	assert_true(json_is_true(json_object_get(root, "success")));
	assert_string_equal(json_string_value(json_object_get(root, "ref")), "");
	data = json_object_get(root, "data");
	assert_true(json_is_object(data));
	assert_int_equal(json_object_size(data), 0);
	json_decref(root);

	/* data may be any JSON value, e.g. the list of books. */
	root = parse(resp_ok("r", json_pack("{s:[i,i]}", "books", 1, 2)));
	data = json_object_get(json_object_get(root, "data"), "books");
	assert_int_equal(json_array_size(data), 2);
	assert_int_equal(json_integer_value(json_array_get(data, 1)), 2);
	json_decref(root);
}

/* A cached answer's envelope (head + data + "}") is byte for byte resp_ok's. */
static void
test_ok_head_matches_ok(void **state)
{
	static const char *refs[] = { "abc123", "", "quote\" back\\ nl\n", "\xff\xfe bad utf-8" };
	const char *data = "{\"books\":[{\"bookId\":1}]}";
	char head[256], joined[512];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof refs / sizeof refs[0]; i++) {
		char *want = resp_ok(refs[i], json_loads(data, 0, NULL));

		n = resp_ok_head(refs[i], head, sizeof head);
		assert_true(n > 0 && n == strlen(head));
		snprintf(joined, sizeof joined, "%s%s}", head, data);
		assert_string_equal(joined, want);
		free(want);
	}
	assert_int_equal(resp_ok_head("abc123", head, 20), 0); /* does not fit */
}

static void
test_err_envelope(void **state)
{
	json_t *root, *error;

	(void)state;
	root = parse(resp_err("req-2", E_OUT_OF_STOCK, "book 7 has no stock left", NULL));
	assert_int_equal(json_object_size(root), 3);
	assert_true(json_is_false(json_object_get(root, "success")));
	assert_string_equal(json_string_value(json_object_get(root, "ref")), "req-2");
	assert_null(json_object_get(root, "data"));
	error = json_object_get(root, "error");
	assert_true(json_is_object(error));
	assert_int_equal(json_object_size(error), 2);
	assert_string_equal(json_string_value(json_object_get(error, "code")), "OUT_OF_STOCK");
	assert_string_equal(json_string_value(json_object_get(error, "detail")),
	    "book 7 has no stock left");
	json_decref(root);

	root = parse(resp_err(NULL, E_INTERNAL, NULL, NULL));
	assert_string_equal(json_string_value(json_object_get(root, "ref")), "");
	error = json_object_get(root, "error");
	assert_string_equal(json_string_value(json_object_get(error, "code")), "INTERNAL");
	assert_string_equal(json_string_value(json_object_get(error, "detail")), "");
	json_decref(root);
}

static void
test_err_with_data(void **state)
{
	json_t *root, *data;

	(void)state;
	root = parse(resp_err("req-3", E_ALREADY_PAID, "order 5 is already paid",
	    json_pack("{s:s}", "paymentId", "pay-77")));
	assert_int_equal(json_object_size(root), 4);
	assert_true(json_is_false(json_object_get(root, "success")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "error"), "code")),
	    "ALREADY_PAID");
	data = json_object_get(root, "data");
	assert_true(json_is_object(data));
	assert_string_equal(json_string_value(json_object_get(data, "paymentId")), "pay-77");
	json_decref(root);
}

static const struct {
	mb_err      code;
	const char *name;
	int         status;
} table[] = {
	{ E_INVALID_ARGUMENT, "INVALID_ARGUMENT", 400 },
	{ E_UNAUTHENTICATED, "UNAUTHENTICATED", 401 },
	{ E_BAD_CREDENTIALS, "BAD_CREDENTIALS", 401 },
	{ E_FORBIDDEN, "FORBIDDEN", 403 },
	{ E_NOT_FOUND, "NOT_FOUND", 404 },
	{ E_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", 405 },
	{ E_USER_EXISTS, "USER_EXISTS", 409 },
	{ E_OUT_OF_STOCK, "OUT_OF_STOCK", 409 },
	{ E_ALREADY_PAID, "ALREADY_PAID", 409 },
	{ E_ORDER_CLOSED, "ORDER_CLOSED", 409 },
	{ E_TOO_MANY_OPEN_ORDERS, "TOO_MANY_OPEN_ORDERS", 409 },
	{ E_IDEMPOTENCY_KEY_REUSED, "IDEMPOTENCY_KEY_REUSED", 422 },
	{ E_PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", 413 },
	{ E_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", 415 },
	{ E_RATE_LIMITED, "RATE_LIMITED", 429 },
	{ E_UNAVAILABLE, "UNAVAILABLE", 503 },
	{ E_INTERNAL, "INTERNAL", 500 },
};

#define NTABLE (sizeof table / sizeof table[0])

/* API.md's table, code by code; every error code of the enum is in it. */
static void
test_code_table(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(NTABLE, E_COUNT - 1);
	for (i = 0; i < NTABLE; i++) {
		char status[8];

		if (strcmp(resp_code_name(table[i].code), table[i].name) != 0)
			fail_msg("code %d is named %s, want %s", table[i].code,
			    resp_code_name(table[i].code), table[i].name);
		if (resp_code_status(table[i].code) != table[i].status)
			fail_msg("%s has status %d, want %d", table[i].name,
			    resp_code_status(table[i].code), table[i].status);
		/* The status line sent for it carries the same number. */
		snprintf(status, sizeof status, "%d ", table[i].status);
		assert_memory_equal(resp_status_line(table[i].status), status, 4);
	}
	assert_int_equal(resp_code_status(E_OK), 200);
}

/* The envelope of every code names it. */
static void
test_err_every_code(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NTABLE; i++) {
		json_t *root = parse(resp_err("r", table[i].code, "d", NULL));

		assert_string_equal(json_string_value(json_object_get(json_object_get(root, "error"),
		    "code")), table[i].name);
		json_decref(root);
	}
}

static void
test_code_parse(void **state)
{
	static const char *const unknown[] = {
		"", "nope", "not_found", "Not_Found", "NOT_FOUND ", " NOT_FOUND", "NOT_FOUND\n",
		"NOT", "E_NOT_FOUND", "INVALID_ARGUMENTS", "400",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NTABLE; i++) {
		assert_int_equal(resp_code_parse(table[i].name), table[i].code);
		assert_int_equal(resp_code_parse(resp_code_name(table[i].code)), table[i].code);
	}
	assert_int_equal(resp_code_parse(NULL), E_INTERNAL);
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		if (resp_code_parse(unknown[i]) != E_INTERNAL)
			fail_msg("\"%s\" parsed as %d", unknown[i], resp_code_parse(unknown[i]));
}

static void
test_code_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(resp_code_name(E_COUNT), "INTERNAL");
	assert_string_equal(resp_code_name((mb_err)-1), "INTERNAL");
	assert_string_equal(resp_code_name((mb_err)1000), "INTERNAL");
	assert_int_equal(resp_code_status(E_COUNT), 500);
	assert_int_equal(resp_code_status((mb_err)-1), 500);
}

static void
test_status_lines(void **state)
{
	static const struct {
		int status;
		const char *line;
	} v[] = {
		{ 200, "200 OK" }, { 201, "201 Created" }, { 400, "400 Bad Request" },
		{ 401, "401 Unauthorized" }, { 403, "403 Forbidden" }, { 404, "404 Not Found" },
		{ 405, "405 Method Not Allowed" }, { 409, "409 Conflict" },
		{ 413, "413 Payload Too Large" }, { 415, "415 Unsupported Media Type" },
		{ 422, "422 Unprocessable Content" }, { 429, "429 Too Many Requests" }, { 500, "500 Internal Server Error" },
		{ 503, "503 Service Unavailable" }, { 418, "500 Internal Server Error" },
		{ 0, "500 Internal Server Error" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		assert_string_equal(resp_status_line(v[i].status), v[i].line);
}

/* Text that means something to JSON or to a browser arrives intact. */
static void
test_detail_escaping(void **state)
{
	static const char *const details[] = {
		"say \"hi\"",
		"back\\slash and \\\" and \\u0041",
		"line\nbreak\r\ttab",
		"ctl \x01\x1f\x7f",
		"</script><script>alert(1)</script>",
		"{\"success\":true}",
		"field 'userName' is \xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9a",
		"\xe2\x80\xa8 and \xe2\x80\xa9",
		"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof details / sizeof details[0]; i++) {
		json_t *root = parse(resp_err(details[i], E_INVALID_ARGUMENT, details[i], NULL));

		assert_true(json_is_false(json_object_get(root, "success")));
		assert_string_equal(json_string_value(json_object_get(root, "ref")), details[i]);
		assert_string_equal(json_string_value(json_object_get(json_object_get(root, "error"),
		    "detail")), details[i]);
		json_decref(root);

		root = parse(resp_ok(details[i], json_pack("{s:s}", "title", details[i])));
		assert_string_equal(json_string_value(json_object_get(root, "ref")), details[i]);
		assert_string_equal(json_string_value(json_object_get(json_object_get(root, "data"),
		    "title")), details[i]);
		json_decref(root);
	}
}

/*
 * A detail that quotes client bytes must still give a 400 envelope: invalid
 * UTF-8 (a %ff field name) and a multi-byte character cut by "%.64s" are
 * replaced, never turned into a 500.
 */
static void
test_detail_not_utf8(void **state)
{
	static req_params p;
	char details[3][256], body[256];
	size_t i;

	(void)state;
	snprintf(details[0], sizeof details[0], "field '\xff' is given more than once");
	req_params_reset(&p);
	assert_int_equal(req_parse_form(&p, "%ff=1&%ff=2", 11, details[1], sizeof details[1]),
	    MB_DECLINED);
	/* A valid JSON body whose 81-byte key is cut at 64 bytes, inside an e-acute. */
	snprintf(body, sizeof body, "{\"a");
	for (i = 0; i < 40; i++)
		strcat(body, "\xc3\xa9");
	strcat(body, "\":null}");
	req_params_reset(&p);
	assert_int_equal(req_parse_json(&p, body, strlen(body), details[2], sizeof details[2]),
	    MB_DECLINED);
	for (i = 0; i < 3; i++) {
		json_t *root = parse(resp_err("r", E_INVALID_ARGUMENT, details[i], NULL));

		assert_true(json_is_false(json_object_get(root, "success")));
		assert_string_equal(json_string_value(json_object_get(json_object_get(root, "error"),
		    "code")), "INVALID_ARGUMENT");
		json_decref(root);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_envelope),
		cmocka_unit_test(test_ok_defaults),
		cmocka_unit_test(test_err_envelope),
		cmocka_unit_test(test_err_with_data),
		cmocka_unit_test(test_code_table),
		cmocka_unit_test(test_err_every_code),
		cmocka_unit_test(test_code_parse),
		cmocka_unit_test(test_code_out_of_range),
		cmocka_unit_test(test_status_lines),
		cmocka_unit_test(test_ok_head_matches_ok),
		cmocka_unit_test(test_detail_escaping),
		cmocka_unit_test(test_detail_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
