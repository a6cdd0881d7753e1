/*
 * user handlers. All SQL of the user service is here. Login answers the
 * same BAD_CREDENTIALS for an unknown name and a wrong password, and spends
 * the same PBKDF2 time on both.
 */
#include "auth.h"
#include "pw.h"
#include "user.h"

#include <string.h>

#define USER_NAME_MAX 20
#define USER_PWD_MIN  8
#define USER_PWD_MAX  128

static json_t *
user_json(int64_t id, const char *name)
{
	return json_pack("{s:I, s:s}", "userId", (json_int_t)id, "userName", name);
}

static int
user_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > USER_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

void
user_register(app_req *r)
{
	const char *name, *pwd;
	char hash[PW_STORED_MAX];
	int64_t rc;
	size_t plen;

	if ((name = app_param_str(r, "userName")) == NULL || (pwd = app_param_str(r, "pwd")) == NULL)
		return;
	if (!user_name_ok(name)) {
		app_fail(r, E_INVALID_ARGUMENT, "field 'userName' must be 1-%d characters of "
		    "A-Z a-z 0-9 _ . -", USER_NAME_MAX);
		return;
	}
	plen = strlen(pwd);
	if (plen < USER_PWD_MIN || plen > USER_PWD_MAX) {
		app_fail(r, E_INVALID_ARGUMENT, "field 'pwd' must be %d-%d bytes long",
		    USER_PWD_MIN, USER_PWD_MAX);
		return;
	}
	if (pw_hash(pwd, plen, app_cfg()->pbkdf2_iter, hash) != 0) {
		app_fail(r, E_INTERNAL, "could not hash the password (ref %s)", r->ref);
		return;
	}
	rc = db_exec(app_db(), "INSERT INTO users (name, pwd_hash, created_at) "
	    "VALUES (?, ?, UTC_TIMESTAMP(3))", "ss", name, hash);
	if (rc == MB_DUP) {
		app_fail(r, E_USER_EXISTS, "user name '%s' is taken", name);
		return;
	}
	if (rc < 0) {
		app_fail_db(r, (int)rc);
		return;
	}
	app_ok(r, 201, user_json(db_insert_id(app_db()), name));
}

void
user_login(app_req *r)
{
	const char *name, *pwd;
	char hash[PW_STORED_MAX], stored_name[USER_NAME_MAX + 1];
	int64_t id;
	int rc, ok;

	if ((name = app_param_str(r, "userName")) == NULL || (pwd = app_param_str(r, "pwd")) == NULL)
		return;
	if (!user_name_ok(name) || strlen(pwd) > USER_PWD_MAX) {
		app_fail(r, E_BAD_CREDENTIALS, "wrong user name or password");
		return;
	}
	rc = db_row(app_db(), "SELECT id, name, pwd_hash FROM users WHERE name = ?", "s", "iss",
	    name, &id, stored_name, sizeof stored_name, hash, sizeof hash);
	if (rc < 0) {
		app_fail_db(r, rc);
		return;
	}
	if (rc == MB_NONE) {
		pw_dummy(pwd, strlen(pwd), app_cfg()->pbkdf2_iter);
		ok = 0;
	} else
		ok = pw_verify(pwd, strlen(pwd), hash) == 1;
	if (!ok) {
		app_fail(r, E_BAD_CREDENTIALS, "wrong user name or password");
		return;
	}
	if (auth_login(r, id) != 0)
		return;
	app_ok(r, 200, user_json(id, stored_name));
}

void
user_logout(app_req *r)
{
	auth_user u;

	if (auth_require(r, &u) != 0 || auth_logout(r, &u) != 0)
		return;
	app_ok(r, 200, json_object());
}

void
user_me(app_req *r)
{
	auth_user u;

	if (auth_require(r, &u) != 0)
		return;
	app_ok(r, 200, user_json(u.id, u.name));
}

void
user_health(app_req *r)
{
	int rc = db_ping(app_db());

	if (rc != MB_OK) {
		app_fail_data(r, E_UNAVAILABLE, json_pack("{s:s}", "db", "down"), "the database is down");
		return;
	}
	app_ok(r, 200, json_pack("{s:s}", "db", "ok"));
}
