/*
 * test_origin: the cross-site check of API.md (lib/origin.c). The auth
 * check itself is tested against a real database in t/db/test_auth.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "origin.h"

#define HOST "127.0.0.1:8080"

static void
test_neither_header(void **state)
{
	(void)state;
	assert_int_equal(origin_same(NULL, NULL, HOST, 0), 1);
	assert_int_equal(origin_same("", "", HOST, 0), 1);
	assert_int_equal(origin_same(NULL, "", HOST, 1), 1);
	assert_int_equal(origin_same(NULL, NULL, NULL, 0), 1);
}

static void
test_origin(void **state)
{
	static const struct {
		const char *origin;
		int https, want;
	} v[] = {
		{ "http://" HOST, 0, 1 },
		{ "https://" HOST, 1, 1 },
		{ "http://evil.example", 0, 0 },
		{ "http://localhost:8080", 0, 0 },
		{ "http://127.0.0.1", 0, 0 },
		{ "http://127.0.0.1:8081", 0, 0 },
		{ "http://127.0.0.1:808", 0, 0 },
		{ "http://127.0.0.1:80800", 0, 0 },
		{ "https://" HOST, 0, 0 },
		{ "http://" HOST, 1, 0 },
		{ "null", 0, 0 },
		{ "http://" HOST ".evil.com", 0, 0 },
		{ "http://" HOST "@evil.com", 0, 0 },
		{ "http://user@" HOST, 0, 0 },
		{ "http://" HOST "/", 0, 0 },
		{ "http://" HOST "/page", 0, 0 },
		{ "http://" HOST "?x", 0, 0 },
		{ "http://" HOST "#x", 0, 0 },
		{ "http://" HOST " ", 0, 0 },
		{ "ws://" HOST, 0, 0 },
		{ "//" HOST, 0, 0 },
		{ HOST, 0, 0 },
		{ "http:/" HOST, 0, 0 },
		{ "http://", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		if (origin_same(v[i].origin, NULL, HOST, v[i].https) != v[i].want)
			fail_msg("Origin \"%s\" (https=%d): want %d", v[i].origin, v[i].https, v[i].want);
}

static void
test_referer(void **state)
{
	static const struct {
		const char *referer;
		int https, want;
	} v[] = {
		{ "http://" HOST "/page", 0, 1 },
		{ "http://" HOST "/", 0, 1 },
		{ "http://" HOST, 0, 1 },
		{ "http://" HOST "/orders/5?x=http://evil.example/", 0, 1 },
		{ "https://" HOST "/page", 1, 1 },
		{ "http://evil.example/page", 0, 0 },
		{ "http://evil.example/http://" HOST "/", 0, 0 },
		{ "http://127.0.0.1:80800/", 0, 0 },
		{ "http://127.0.0.1:8081/", 0, 0 },
		{ "http://127.0.0.1/", 0, 0 },
		{ "http://" HOST ".evil.com/", 0, 0 },
		{ "http://" HOST "@evil.com/", 0, 0 },
		{ "https://" HOST "/page", 0, 0 },
		{ "http://" HOST "/page", 1, 0 },
		{ "null", 0, 0 },
		{ "/page", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		if (origin_same(NULL, v[i].referer, HOST, v[i].https) != v[i].want)
			fail_msg("Referer \"%s\" (https=%d): want %d", v[i].referer, v[i].https,
			    v[i].want);
}

/* Origin, when sent, decides; Referer only counts without it. */
static void
test_origin_wins(void **state)
{
	(void)state;
	assert_int_equal(origin_same("http://evil.example", "http://" HOST "/", HOST, 0), 0);
	assert_int_equal(origin_same("http://" HOST, "http://evil.example/", HOST, 0), 1);
	assert_int_equal(origin_same("", "http://evil.example/", HOST, 0), 0);
	assert_int_equal(origin_same("", "http://" HOST "/x", HOST, 0), 1);
}

/* Without a Host to compare with, a request that names an origin is refused. */
static void
test_no_host(void **state)
{
	(void)state;
	assert_int_equal(origin_same("http://" HOST, NULL, NULL, 0), 0);
	assert_int_equal(origin_same(NULL, "http://" HOST "/", NULL, 0), 0);
}

/* The comparison follows the Host header, whatever port it names. */
static void
test_other_host_header(void **state)
{
	(void)state;
	assert_int_equal(origin_same("http://shop.example", NULL, "shop.example", 0), 1);
	assert_int_equal(origin_same("http://shop.example:8080", NULL, "shop.example", 0), 0);
	assert_int_equal(origin_same("http://" HOST, NULL, "shop.example", 0), 0);
	assert_int_equal(origin_same(NULL, "http://shop.example/a", "shop.example", 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neither_header),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_referer),
		cmocka_unit_test(test_origin_wins),
		cmocka_unit_test(test_no_host),
		cmocka_unit_test(test_other_host_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
