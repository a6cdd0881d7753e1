/*
 * test_auth: the auth check (auth_require) and its answer (app_auth)
 * against a real database: a valid session passes with its user, and each
 * way of not being logged in is refused with its own reason, a logged-out
 * session at once; a dead database is a failure (503), not a refusal.
 */
#include "tdb.h"
#include "cache.h"
#include "epoch.h"

static int64_t
now_s(void)
{
	return clock_wall_us() / 1000000;
}

/* The cookie pair's value, for session_decode. */
static const char *
value_of(const char *pair)
{
	return strchr(pair, '=') + 1;
}

static void
test_no_cookie(void **state)
{
	auth_user u;

	(void)state;
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, NULL, now_s(), &u), MB_DECLINED);
	assert_string_equal(u.why, "log in first (no session cookie)");
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, "other=1", now_s(), &u), MB_DECLINED);
	assert_string_equal(u.why, "log in first (no session cookie)");
}

static void
test_valid_session(void **state)
{
	const char *name = tdb_name("auth");
	int64_t uid = tdb_user(name);
	char cookie[SESSION_MAX_VALUE + 32], header[SESSION_MAX_VALUE + 64];
	auth_user u;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(header, sizeof header, "a=1; %s; b=2", cookie);
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, header, now_s(), &u), MB_OK);
	assert_int_equal(u.id, uid);
	assert_string_equal(u.name, name);
	assert_int_equal(u.refresh, 0);
}

static void
test_bad_and_expired(void **state)
{
	int64_t uid = tdb_user(tdb_name("auth"));
	char cookie[SESSION_MAX_VALUE + 32], bad[2 * sizeof cookie + 4];
	auth_user u;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	snprintf(bad, sizeof bad, "%s", cookie);
	bad[strlen(bad) - 2] ^= 1; /* a changed signature */
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, bad, now_s(), &u), MB_DECLINED);
	assert_string_equal(u.why, "session cookie is invalid; log in again");
	snprintf(bad, sizeof bad, "%s; %s", cookie, cookie); /* sent twice */
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, bad, now_s(), &u), MB_DECLINED);
	assert_string_equal(u.why, "session cookie is invalid; log in again");
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookie,
	    now_s() + tdb_x.cfg->session_idle + 1, &u), MB_DECLINED);
	assert_string_equal(u.why, "session expired; log in again");
}

static void
test_logged_out_at_once(void **state)
{
	int64_t uid = tdb_user(tdb_name("auth"));
	char cookie[SESSION_MAX_VALUE + 32];
	auth_user u;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookie, now_s(), &u), MB_OK);
	assert_int_equal(auth_logout(tdb_x.db, &u), MB_OK);
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookie, now_s(), &u), MB_DECLINED);
	assert_string_equal(u.why, "session was logged out; log in again");
}

/* A cookie we signed, naming a session row of another user, is refused. */
static void
test_other_users_session(void **state)
{
	int64_t uid = tdb_user(tdb_name("auth")), other = tdb_user(tdb_name("auth"));
	char cookie[SESSION_MAX_VALUE + 32], forged[SESSION_MAX_VALUE + 32];
	char value[SESSION_MAX_VALUE + 1];
	session s;
	auth_user u;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	assert_int_equal(session_decode(value_of(cookie), now_s(), tdb_x.cfg->session_max, &s),
	    MB_OK);
	s.uid = other;
	assert_true(session_encode(&s, value, sizeof value) > 0);
	snprintf(forged, sizeof forged, "%s=%s", SESSION_COOKIE, value);
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, forged, now_s(), &u), MB_DECLINED);
	assert_string_equal(u.why, "session was logged out; log in again");
}

/* Past half the idle time the expiry moves on, and app_auth sends the cookie. */
static void
test_refresh_sets_cookie(void **state)
{
	int64_t uid = tdb_user(tdb_name("auth"));
	int64_t later = now_s() + tdb_x.cfg->session_idle / 2 + 5;
	char cookie[SESSION_MAX_VALUE + 32];
	app_answer a;
	auth_user u;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookie, later, &u), MB_OK);
	assert_int_equal(u.refresh, 1);
	assert_int_equal(u.s.exp, later + tdb_x.cfg->session_idle);

	/* app_auth at the real time: fresh, so no cookie; then 401 without one */
	memset(&tdb_r, 0, sizeof tdb_r);
	tdb_r.cookie = cookie;
	app_answer_init(&a, "unit-test");
	assert_int_equal(app_auth(&tdb_x, &tdb_r, &a, &u), MB_OK);
	assert_int_equal(a.status, 0);
	assert_null(strstr(a.headers, "Set-Cookie"));
	tdb_r.cookie = NULL;
	assert_int_equal(app_auth(&tdb_x, &tdb_r, &a, &u), MB_DECLINED);
	assert_int_equal(a.status, 401);
	assert_int_equal(a.code, E_UNAUTHENTICATED);
	app_answer_free(&a);
}

/* A database that does not answer is a failure (503), never "not logged in". */
static void
test_database_down(void **state)
{
	int64_t uid = tdb_user(tdb_name("auth"));
	char cookie[SESSION_MAX_VALUE + 32];
	cfg down = *tdb_x.cfg;
	app_ctx x = tdb_x;
	app_answer a;
	auth_user u;

	(void)state;
	tdb_session(uid, cookie, sizeof cookie);
	down.db_socket = "/nonexistent/microbook-unit.sock";
	assert_non_null(x.db = db_new(&down, "unit"));
	x.cfg = &down;
	assert_int_equal(auth_require(x.db, x.cfg, cookie, now_s(), &u), MB_UNAVAIL);
	memset(&tdb_r, 0, sizeof tdb_r);
	tdb_r.cookie = cookie;
	app_answer_init(&a, "unit-test");
	assert_int_equal(app_auth(&x, &tdb_r, &a, &u), MB_UNAVAIL);
	assert_int_equal(a.status, 503);
	assert_int_equal(a.code, E_UNAVAILABLE);
	app_answer_free(&a);
	db_free(x.db);
}

/* COOKIE_SECURE=1: the cookie is __Host-mb_session, Secure; only that name is read */
static void
test_host_cookie(void **state)
{
	int64_t uid = tdb_user(tdb_name("host"));
	const cfg *was = tdb_x.cfg;
	char set[SESSION_MAX_VALUE + 128], cookie[SESSION_MAX_VALUE + 32];
	int64_t now = clock_wall_us() / 1000000;
	auth_user u;
	session s;
	cfg c = *was;

	(void)state;
	c.cookie_secure = 1;
	tdb_x.cfg = &c;
	assert_string_equal(auth_cookie_name(&c), "__Host-mb_session");
	assert_int_equal(auth_login(tdb_x.db, &c, uid, now, &s), MB_OK);
	assert_true(auth_cookie(&c, &s, now, set, sizeof set) > 0);
	assert_true(strncmp(set, "__Host-mb_session=", 18) == 0);
	assert_non_null(strstr(set, "; Path=/;"));
	assert_non_null(strstr(set, "; Secure"));
	assert_null(strstr(set, "Domain"));
	snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(set, ";"), set);
	assert_int_equal(auth_require(tdb_x.db, &c, cookie, now, &u), MB_OK);
	assert_int_equal(u.id, uid);
	/* the plain name is not read when __Host- is configured, nor the other way */
	assert_int_equal(auth_require(tdb_x.db, &c, cookie + 7, now, &u), MB_DECLINED);
	assert_string_equal(u.why, "log in first (no session cookie)");
	c.cookie_secure = 0;
	assert_int_equal(auth_require(tdb_x.db, &c, cookie, now, &u), MB_DECLINED);
	assert_int_equal(auth_require(tdb_x.db, &c, cookie + 7, now, &u), MB_OK);
	assert_true(auth_cookie(&c, NULL, now, set, sizeof set) > 0);
	assert_true(strncmp(set, "mb_session=;", 12) == 0);
	tdb_x.cfg = was;
}

/*
 * A worker keeps the sessions it found valid until the revocation epoch
 * moves: AUTH_WAYS sessions whose ids fall in one set are all kept (a dead
 * database does not matter to them), and a logout anywhere drops them.
 * Runs last: it maps an epoch file, which turns caching on for the process.
 */
static void
test_kept_sessions_share_a_set(void **state)
{
	int64_t uid = tdb_user(tdb_name("kept")), now = now_s();
	char path[] = "/tmp/microbook-unit-epoch.XXXXXX", set[SESSION_MAX_VALUE + 128];
	char cookies[AUTH_WAYS][SESSION_MAX_VALUE + 32];
	uint64_t want = 0;
	cfg down = *tdb_x.cfg;
	db *dead;
	auth_user u;
	session s;
	int fd, n = 0, tries;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(epoch_init(path), MB_OK);
	unlink(path);
	for (tries = 0; n < AUTH_WAYS && tries < 100000; tries++) {
		assert_int_equal(session_new(&s, uid, now, tdb_x.cfg->session_idle), MB_OK);
		if (n == 0)
			want = cache_hash(s.sid) % AUTH_SETS;
		else if (cache_hash(s.sid) % AUTH_SETS != want)
			continue;
		assert_true(db_exec(tdb_x.db, "INSERT INTO sessions (id, user_id, created_at) "
		    "VALUES (?, ?, UTC_TIMESTAMP(3))", "si", s.sid, uid) >= 0);
		assert_true(auth_cookie(tdb_x.cfg, &s, now, set, sizeof set) > 0);
		snprintf(cookies[n], sizeof cookies[n], "%.*s", (int)strcspn(set, ";"), set);
		assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookies[n], now, &u), MB_OK);
		n++;
	}
	assert_int_equal(n, AUTH_WAYS);
	down.db_socket = "/nonexistent/microbook-unit.sock";
	assert_non_null(dead = db_new(&down, "unit"));
	for (n = 0; n < AUTH_WAYS; n++) {
		assert_int_equal(auth_require(dead, tdb_x.cfg, cookies[n], now, &u), MB_OK);
		assert_int_equal(u.id, uid);
	}
	/* a logout (of another session) bumps the epoch: the next check asks the database */
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookies[0], now, &u), MB_OK);
	assert_int_equal(auth_logout(tdb_x.db, &u), MB_OK);
	assert_int_equal(auth_require(dead, tdb_x.cfg, cookies[1], now, &u), MB_UNAVAIL);
	assert_int_equal(auth_require(tdb_x.db, tdb_x.cfg, cookies[0], now, &u), MB_DECLINED);
	db_free(dead);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_cookie),
		cmocka_unit_test(test_valid_session),
		cmocka_unit_test(test_bad_and_expired),
		cmocka_unit_test(test_logged_out_at_once),
		cmocka_unit_test(test_other_users_session),
		cmocka_unit_test(test_refresh_sets_cookie),
		cmocka_unit_test(test_database_down),
		cmocka_unit_test(test_host_cookie),
		cmocka_unit_test(test_kept_sessions_share_a_set), /* last: maps an epoch file */
	};

	return cmocka_run_group_tests(tests, tdb_setup, tdb_teardown);
}
