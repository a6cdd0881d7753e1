/*
 * test_log: one event, one line. Lines are written through the real
 * log_init/log_msg/log_req into LOG_DIR and read back: a field holding a
 * newline, a carriage return, an escape sequence or a NUL-free forged line
 * stays on its own line, escaped as \xNN, and the backslash is doubled so an
 * escape cannot be faked either.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static char dir[64];
static char path[128];

/* The whole log file as a string (static buffer). */
static const char *
slurp(void)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int
lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += (*s == '\n');
	return n;
}

/* The last line of the file, without its newline. */
static const char *
last_line(void)
{
	static char line[8192];
	const char *s = slurp(), *end = s + strlen(s), *b;

	assert_true(end > s && end[-1] == '\n');
	for (b = end - 1; b > s && b[-1] != '\n'; b--)
		;
	memcpy(line, b, (size_t)(end - 1 - b));
	line[end - 1 - b] = '\0';
	return line;
}

static void
test_escape(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = log_escape(out, sizeof out, "a\nb\r\x1b[2J\x7f\\c\td", 13);
	out[n] = '\0';
	assert_string_equal(out, "a\\x0ab\\x0d\\x1b[2J\\x7f\\\\c\\x09d");
	/* UTF-8 and printable ASCII pass unchanged */
	n = log_escape(out, sizeof out, "caf\xc3\xa9 ok=1", 10);
	out[n] = '\0';
	assert_string_equal(out, "caf\xc3\xa9 ok=1");
}

static void
test_escape_never_splits(void **state)
{
	char out[8];
	size_t n;

	(void)state;
	/* room for "ab" and half of "\x0a": the escape is left out whole */
	n = log_escape(out, 5, "ab\ncd", 5);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "ab", 2);
	n = log_escape(out, 3, "a\\b", 3);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "a\\\\", 3);
	n = log_escape(out, 0, "x", 1);
	assert_int_equal(n, 0);
}

static void
test_forged_line_in_a_path(void **state)
{
	const char *forged = "/orders/1\n2026-11-27T14:00:00.000Z error payment[1] ref=forged FAKE LINE";
	int before;

	(void)state;
	before = lines(slurp());
	log_req("0123456789abcdef0123456789abcdef", "GET", forged, 404, 120);
	assert_int_equal(lines(slurp()), before + 1);
	assert_non_null(strstr(last_line(),
	    "GET /orders/1\\x0a2026-11-27T14:00:00.000Z error payment[1] ref=forged FAKE LINE 404 120us"));
	assert_null(strstr(slurp(), "\n2026-11-27T14:00:00.000Z error"));
}

static void
test_every_field_of_a_message(void **state)
{
	int before;

	(void)state;
	before = lines(slurp());
	/* the request id too: a worker may be reached without nginx */
	log_msg("warn", "x\r\nSet-Cookie: a=b", "login failed for %s (%d)", "bob\r\nerror fake", 7);
	assert_int_equal(lines(slurp()), before + 1);
	assert_non_null(strstr(last_line(), " warn test_log["));
	assert_non_null(strstr(last_line(), "ref=x\\x0d\\x0aSet-Cookie: a=b "));
	assert_non_null(strstr(last_line(), "login failed for bob\\x0d\\x0aerror fake (7)"));
}

static void
test_long_field_still_one_line(void **state)
{
	char big[5000];
	int before;

	(void)state;
	memset(big, '\n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	before = lines(slurp());
	log_msg("info", NULL, "%s", big);
	assert_int_equal(lines(slurp()), before + 1);
	/* cut at the buffer, on an escape boundary */
	assert_true(strlen(last_line()) < 4096);
	assert_non_null(strstr(last_line(), "ref=- \\x0a\\x0a"));
	assert_null(strstr(last_line(), "\n"));
}

/* Last (log_hold cannot be undone): access lines are held until log_flush,
 * another line, or LOG_HOLD_MAX bytes; held lines come out whole, in order. */
static void
test_held_lines(void **state)
{
	char big[5000];
	int before, i;

	(void)state;
	log_hold();
	before = lines(slurp());
	log_req("0123456789abcdef0123456789abcdef", "GET", "/held/1", 200, 1);
	log_req("0123456789abcdef0123456789abcdef", "GET", "/held/2", 200, 2);
	assert_int_equal(lines(slurp()), before);
	log_flush();
	assert_int_equal(lines(slurp()), before + 2);
	assert_non_null(strstr(slurp(), "GET /held/1 200 1us\n"));
	assert_non_null(strstr(last_line(), "GET /held/2 200 2us"));
	log_flush(); /* nothing held: nothing written */
	assert_int_equal(lines(slurp()), before + 2);

	/* any other line writes the held ones first */
	log_req("0123456789abcdef0123456789abcdef", "GET", "/held/3", 200, 3);
	log_msg("warn", NULL, "after the held line");
	assert_int_equal(lines(slurp()), before + 4);
	assert_non_null(strstr(slurp(), "GET /held/3 200 3us\n"));
	assert_non_null(strstr(last_line(), "after the held line"));

	/* a busy worker that is never idle still writes them, 8 KiB at a time;
	 * near-full, a long line still fits (the sanitizers' build checks) */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	before = lines(slurp());
	for (i = 0; i < 200 && lines(slurp()) == before; i++)
		log_req("0123456789abcdef0123456789abcdef", "GET", "/a-path-of-some-length", 200, i);
	assert_true(i > 10 && i < 200);
	assert_int_equal(lines(slurp()), before + i);
	for (i = 0; i < 8; i++)
		log_req("0123456789abcdef0123456789abcdef", "GET", big, 200, i);
	log_flush();
	assert_non_null(strstr(last_line(), "GET xxxx"));
	assert_true(strlen(last_line()) < 1024);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/mb-test-log.%d", (int)getpid());
	snprintf(path, sizeof path, "%s/test_log.log", dir);
	if (mkdir(dir, 0700) != 0)
		return -1;
	unsetenv("MB_CONFIG");
	setenv("LOG_DIR", dir, 1);
	log_init("test_log");
	log_msg("info", NULL, "start");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_never_splits),
		cmocka_unit_test(test_forged_line_in_a_path),
		cmocka_unit_test(test_every_field_of_a_message),
		cmocka_unit_test(test_long_field_still_one_line),
		cmocka_unit_test(test_held_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
