/*
 * test_jbuf: the JSON text appender the renders use (jbuf.c). jansson is
 * the oracle: whatever jbuf writes parses back to the same values, and a
 * string comes out byte for byte as jansson's compact dump writes it.
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

#include "jbuf.h"

/* s written by jbuf_str, and by jansson's compact dump of the same string: equal. */
static void
same_as_jansson(const char *s)
{
	jbuf b = { 0 };
	json_t *j = json_string(s);
	char *ours, *theirs;
	size_t len = 0;

	assert_non_null(j);
	jbuf_str(&b, s);
	assert_non_null(ours = jbuf_take(&b, &len));
	assert_non_null(theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY));
	assert_string_equal(ours, theirs);
	assert_int_equal(len, strlen(theirs));
	free(ours);
	free(theirs);
	json_decref(j);
}

static void
test_strings_escape_as_jansson(void **state)
{
	char all[40];
	int i;

	(void)state;
	same_as_jansson("");
	same_as_jansson("plain title");
	same_as_jansson("\"quoted\" and \\back\\slashed/");
	same_as_jansson("tab\tline\nreturn\rbs\bff\f");
	same_as_jansson("Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9a"); /* UTF-8 passes as it is */
	for (i = 1; i < 0x20; i++) /* every control character */
		all[i - 1] = (char)i;
	memcpy(all + 31, "\x7f end", 6);
	all[37] = '\0';
	same_as_jansson(all);
}

static void
test_numbers(void **state)
{
	static const int64_t v[] = { 0, 1, -1, 9, 10, 4200, 1999999, INT64_MAX, INT64_MIN };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		jbuf b = { 0 };
		char *t, want[32];

		jbuf_int(&b, v[i]);
		assert_non_null(t = jbuf_take(&b, NULL));
		snprintf(want, sizeof want, "%lld", (long long)v[i]);
		assert_string_equal(t, want);
		free(t);
	}
}

/* A document far past the first allocation parses back whole. */
static void
test_document_grows(void **state)
{
	jbuf b = { 0 };
	json_t *doc, *a;
	char *t, title[32];
	size_t len, i;

	(void)state;
	jbuf_lit(&b, "{\"books\":[");
	for (i = 0; i < 1000; i++) {
		snprintf(title, sizeof title, "book \"%zu\"\n", i);
		if (i > 0)
			jbuf_lit(&b, ",");
		jbuf_lit(&b, "{\"id\":");
		jbuf_int(&b, (int64_t)i);
		jbuf_lit(&b, ",\"title\":");
		jbuf_str(&b, title);
		jbuf_lit(&b, "}");
	}
	jbuf_lit(&b, "]}");
	assert_non_null(t = jbuf_take(&b, &len));
	assert_int_equal(len, strlen(t));
	assert_non_null(doc = json_loads(t, JSON_REJECT_DUPLICATES, NULL));
	a = json_object_get(doc, "books");
	assert_int_equal(json_array_size(a), 1000);
	snprintf(title, sizeof title, "book \"%d\"\n", 999);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 999), "title")),
	    title);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 999), "id")), 999);
	json_decref(doc);
	free(t);
	/* taken: the buffer starts afresh */
	assert_null(b.p);
	jbuf_lit(&b, "[]");
	assert_non_null(t = jbuf_take(&b, &len));
	assert_string_equal(t, "[]");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_escape_as_jansson),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_document_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
