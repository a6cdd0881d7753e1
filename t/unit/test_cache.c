/*
 * test_cache: the shared epochs (epoch.c) and the worker's answer cache
 * (cache.c) that GET /orders/books and GET /orders rely on: an answer is
 * served only under the epoch it was read with, only for its own key, only
 * for CACHE_TTL_MS, and a bump in another process is seen at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "epoch.h"

static char epoch_path[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(epoch_path, sizeof epoch_path, "/tmp/mb-test-epochs.%d", (int)getpid());
	unlink(epoch_path);
	return epoch_init(epoch_path);
}

static int
teardown(void **state)
{
	(void)state;
	cache_clear();
	unlink(epoch_path);
	return 0;
}

/*
 * Puts data (taken): 1 if the cache kept it, 0 if it gave it back (freed
 * here). A kept pointer is the one that was put.
 */
static int
put(const char *key, uint64_t e, char *data)
{
	const char *kept = cache_put(key, e, data, data != NULL ? strlen(data) : 0);

	if (kept == NULL) {
		free(data);
		return 0;
	}
	assert_ptr_equal(kept, data);
	return 1;
}

static void
test_epoch_bump_seen_across_processes(void **state)
{
	uint64_t before = epoch_get(EPOCH_CATALOGUE), other = epoch_get(EPOCH_SESSIONS);
	pid_t pid;
	int st;

	(void)state;
	assert_true(before != 0);
	if ((pid = fork()) == 0) {
		epoch_bump(EPOCH_CATALOGUE);
		_exit(0);
	}
	assert_true(pid > 0);
	waitpid(pid, &st, 0);
	assert_int_equal(epoch_get(EPOCH_CATALOGUE), before + 1);
	assert_int_equal(epoch_get(EPOCH_SESSIONS), other); /* slots are independent */
	assert_int_equal(epoch_get(EPOCH_COUNT), 0);        /* out of range: "no epoch" */
	assert_int_equal(epoch_get(-1), 0);
}

static void
test_epoch_user_slots(void **state)
{
	int64_t uid;

	(void)state;
	for (uid = 1; uid < 100000; uid += 7) {
		int s = epoch_user(uid);

		assert_true(s >= EPOCH_USERS && s < EPOCH_COUNT);
	}
	assert_int_equal(epoch_user(42), epoch_user(42));
	assert_true(epoch_user(1) != epoch_user(2));
}

static void
test_cache_hit_only_for_its_epoch_and_key(void **state)
{
	uint64_t e = epoch_get(EPOCH_CATALOGUE);
	size_t len = 0;

	(void)state;
	assert_int_equal(put("books", e, strdup("{\"books\":[]}")), 1);
	assert_string_equal(cache_get("books", e, &len), "{\"books\":[]}");
	assert_int_equal(len, strlen("{\"books\":[]}"));
	assert_null(cache_get("books", e + 1, NULL));  /* a change was committed since */
	assert_null(cache_get("orders:1", e, NULL));   /* another key */
	epoch_bump(EPOCH_CATALOGUE);
	assert_null(cache_get("books", epoch_get(EPOCH_CATALOGUE), NULL));
}

static void
test_cache_no_epoch_no_cache(void **state)
{
	(void)state;
	assert_int_equal(put("k", 0, strdup("{}")), 0);
	assert_null(cache_get("k", 0, NULL));
}

static void
test_cache_expires(void **state)
{
	struct timespec pause = { CACHE_TTL_MS / 1000, (CACHE_TTL_MS % 1000 + 20) * 1000000L };
	uint64_t e = epoch_get(EPOCH_SESSIONS);

	(void)state;
	put("short", e, strdup("{}"));
	assert_non_null(cache_get("short", e, NULL));
	nanosleep(&pause, NULL);
	assert_null(cache_get("short", e, NULL)); /* a change made by hand shows after the TTL */
}

static void
test_cache_limits(void **state)
{
	uint64_t e = epoch_get(EPOCH_SESSIONS);
	char key[CACHE_KEY_MAX + 8], *big = malloc(CACHE_MAX_LEN + 2);
	int i;

	(void)state;
	memset(big, 'x', CACHE_MAX_LEN + 1);
	big[CACHE_MAX_LEN + 1] = '\0';
	assert_int_equal(put("big", e, big), 0);    /* given back, not kept */
	assert_null(cache_get("big", e, NULL));
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	assert_int_equal(put(key, e, strdup("{}")), 0); /* key too long: not kept */
	assert_null(cache_get(key, e, NULL));
	/* many keys: each is either its own answer or absent, never another's */
	for (i = 0; i < 4 * CACHE_SLOTS; i++) {
		char k[32], v[32];

		snprintf(k, sizeof k, "orders:%d", i);
		snprintf(v, sizeof v, "{\"n\":%d}", i);
		put(k, e, strdup(v));
	}
	for (i = 0; i < 4 * CACHE_SLOTS; i++) {
		char k[32], v[32];
		const char *got;

		snprintf(k, sizeof k, "orders:%d", i);
		snprintf(v, sizeof v, "{\"n\":%d}", i);
		if ((got = cache_get(k, e, NULL)) != NULL)
			assert_string_equal(got, v);
	}
}

/* Keys that land in one set: up to CACHE_WAYS of them are kept together. */
static void
test_cache_set_holds_its_ways(void **state)
{
	uint64_t e = epoch_get(EPOCH_SESSIONS);
	char keys[CACHE_WAYS + 1][32];
	struct timespec tick = { 0, 2 * 1000000L };
	int n = 0, i;
	uint64_t set = cache_hash("orders:0") % CACHE_SETS;

	(void)state;
	cache_clear();
	for (i = 0; n < CACHE_WAYS + 1; i++) {
		snprintf(keys[n], sizeof keys[n], "orders:%d", i);
		if (cache_hash(keys[n]) % CACHE_SETS == set)
			n++;
	}
	for (i = 0; i < CACHE_WAYS; i++) {
		put(keys[i], e, strdup(keys[i]));
		nanosleep(&tick, NULL); /* distinct ages */
	}
	for (i = 0; i < CACHE_WAYS; i++)
		assert_string_equal(cache_get(keys[i], e, NULL), keys[i]);
	put(keys[CACHE_WAYS], e, strdup(keys[CACHE_WAYS]));  /* the oldest makes room */
	assert_null(cache_get(keys[0], e, NULL));
	for (i = 1; i <= CACHE_WAYS; i++)
		assert_string_equal(cache_get(keys[i], e, NULL), keys[i]);
}

/* However many big answers are put, what is kept stays within the budget. */
static void
test_cache_budget(void **state)
{
	uint64_t e = epoch_get(EPOCH_SESSIONS);
	size_t kept = 0;
	int i;

	(void)state;
	cache_clear();
	for (i = 0; i < 2 * CACHE_SLOTS; i++) {
		char k[32], *v = malloc(CACHE_MAX_LEN + 1);

		snprintf(k, sizeof k, "books:%d", i);
		memset(v, 'b', CACHE_MAX_LEN);
		v[CACHE_MAX_LEN] = '\0';
		put(k, e, v);
	}
	for (i = 0; i < 2 * CACHE_SLOTS; i++) {
		char k[32];

		snprintf(k, sizeof k, "books:%d", i);
		if (cache_get(k, e, NULL) != NULL)
			kept += CACHE_MAX_LEN;
	}
	assert_true(kept > 0 && kept <= CACHE_BUDGET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch_bump_seen_across_processes),
		cmocka_unit_test(test_epoch_user_slots),
		cmocka_unit_test(test_cache_hit_only_for_its_epoch_and_key),
		cmocka_unit_test(test_cache_no_epoch_no_cache),
		cmocka_unit_test(test_cache_expires),
		cmocka_unit_test(test_cache_limits),
		cmocka_unit_test(test_cache_set_holds_its_ways),
		cmocka_unit_test(test_cache_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
