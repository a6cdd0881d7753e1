/*
 * test_user: the user service's handlers against a real database:
 * register, the taken name, login with a right and a wrong password, me,
 * and logout, after which the same cookie is refused.
 */
#include "tdb.h"
#include "../../fcgi/user/user.h"

static void
test_register_login_me_logout(void **state)
{
	const char *name = tdb_name("user");
	char form[128], cookie[SESSION_MAX_VALUE + 32];
	app_answer a;
	json_t *d;
	int64_t id;

	(void)state;
	snprintf(form, sizeof form, "userName=%s&pwd=secret-pw-1", name);
	assert_int_equal(tdb_call(user_register, form, NULL, NULL, &a), 201);
	assert_true((id = tdb_int(&a, "userId")) > 0);
	app_answer_free(&a);

	assert_int_equal(tdb_call(user_register, form, NULL, NULL, &a), 409);
	assert_int_equal(a.code, E_USER_EXISTS);
	app_answer_free(&a);

	snprintf(form, sizeof form, "userName=%s&pwd=wrong-pw-1", name);
	assert_int_equal(tdb_call(user_login, form, NULL, NULL, &a), 401);
	assert_int_equal(a.code, E_BAD_CREDENTIALS);
	assert_null(strstr(a.headers, "Set-Cookie"));
	app_answer_free(&a);

	snprintf(form, sizeof form, "userName=%s&pwd=secret-pw-1", name);
	assert_int_equal(tdb_call(user_login, form, NULL, NULL, &a), 200);
	assert_int_equal(tdb_int(&a, "userId"), id);
	tdb_cookie(&a, cookie, sizeof cookie);
	assert_true(strncmp(cookie, SESSION_COOKIE "=", strlen(SESSION_COOKIE) + 1) == 0);
	assert_non_null(strstr(a.headers, "HttpOnly; SameSite=Lax"));
	app_answer_free(&a);

	assert_int_equal(tdb_call(user_me, NULL, cookie, NULL, &a), 200);
	d = tdb_data(&a);
	assert_string_equal(json_string_value(json_object_get(d, "userName")), name);
	json_decref(d);
	app_answer_free(&a);

	assert_int_equal(tdb_call(user_logout, NULL, cookie, NULL, &a), 200);
	assert_non_null(strstr(a.headers, "Set-Cookie: " SESSION_COOKIE "=; Path=/; Max-Age=0"));
	app_answer_free(&a);

	assert_int_equal(tdb_call(user_me, NULL, cookie, NULL, &a), 401);
	assert_int_equal(a.code, E_UNAUTHENTICATED);
	assert_string_equal(a.detail, "session was logged out; log in again");
	app_answer_free(&a);
}

static void
test_register_bad_fields(void **state)
{
	app_answer a;

	(void)state;
	assert_int_equal(tdb_call(user_register, "pwd=secret-pw-1", NULL, NULL, &a), 400);
	assert_string_equal(a.detail, "field 'userName' is required");
	app_answer_free(&a);
	assert_int_equal(tdb_call(user_register, "userName=a%20b&pwd=secret-pw-1", NULL, NULL, &a),
	    400);
	assert_int_equal(a.code, E_INVALID_ARGUMENT);
	app_answer_free(&a);
	assert_int_equal(tdb_call(user_register, "userName=shortpw&pwd=1234567", NULL, NULL, &a),
	    400);
	assert_string_equal(a.detail, "field 'pwd' must be 8-128 bytes long");
	app_answer_free(&a);
}

/* cracklib refuses weak passwords with its reason; nothing is written */
static void
test_register_weak_password(void **state)
{
	static const struct {
		const char *pwd, *detail;
	} weak[] = {
		{ "password", "password is too weak: it is based on a dictionary word" },
		{ "12345678", "password is too weak: it is too simplistic/systematic" },
		{ "abcdefgh", "password is too weak: it is too simplistic/systematic" },
		{ "aaaaaaaaaa", "password is too weak: it does not contain enough DIFFERENT "
		    "characters" },
	};
	const char *name = tdb_name("weak");
	char form[128];
	int64_t n;
	size_t i;
	app_answer a;

	(void)state;
	for (i = 0; i < sizeof weak / sizeof weak[0]; i++) {
		snprintf(form, sizeof form, "userName=%s&pwd=%s", name, weak[i].pwd);
		assert_int_equal(tdb_call(user_register, form, NULL, NULL, &a), 400);
		assert_int_equal(a.code, E_INVALID_ARGUMENT);
		assert_string_equal(a.detail, weak[i].detail);
		app_answer_free(&a);
	}
	/* the user name itself, or reversed */
	snprintf(form, sizeof form, "userName=zorbatrix%d&pwd=zorbatrix%d", (int)getpid() % 1000,
	    (int)getpid() % 1000);
	assert_int_equal(tdb_call(user_register, form, NULL, NULL, &a), 400);
	assert_true(strncmp(a.detail, "password is too weak: ", 22) == 0);
	app_answer_free(&a);
	assert_int_equal(db_row(tdb_x.db, "SELECT COUNT(*) FROM users WHERE name = ?", "s", "i",
	    name, &n), MB_OK);
	assert_int_equal(n, 0);
	snprintf(form, sizeof form, "userName=%s&pwd=paper-Lantern-73", name);
	assert_int_equal(tdb_call(user_register, form, NULL, NULL, &a), 201);
	app_answer_free(&a);
}

static void
test_health(void **state)
{
	app_answer a;

	(void)state;
	assert_int_equal(tdb_call(app_health_db, NULL, NULL, NULL, &a), 200);
	app_answer_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_login_me_logout),
		cmocka_unit_test(test_register_bad_fields),
		cmocka_unit_test(test_register_weak_password),
		cmocka_unit_test(test_health),
	};

	return cmocka_run_group_tests(tests, tdb_setup, tdb_teardown);
}
