/*
 * user handlers. All SQL of the user service is here. Login answers the
 * same BAD_CREDENTIALS for an unknown name and a wrong password, and spends
 * the same PBKDF2 time on both.
 */
#include "clock.h"
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

int
user_register(app_ctx *x, const app_req *r, app_answer *a)
{
	const char *name, *pwd;
	char hash[PW_STORED_MAX];
	int64_t rc;
	size_t plen;

	if (app_param_str(r, a, "userName", &name) != MB_OK ||
	    app_param_str(r, a, "pwd", &pwd) != MB_OK)
		return a->status;
	if (!user_name_ok(name))
		return app_fail(a, E_INVALID_ARGUMENT, "field 'userName' must be 1-%d characters of "
		    "A-Z a-z 0-9 _ . -", USER_NAME_MAX);
	plen = strlen(pwd);
	if (plen < USER_PWD_MIN || plen > USER_PWD_MAX)
		return app_fail(a, E_INVALID_ARGUMENT, "field 'pwd' must be %d-%d bytes long",
		    USER_PWD_MIN, USER_PWD_MAX);
	if (pw_hash(pwd, plen, x->cfg->pbkdf2_iter, hash) != MB_OK)
		return app_fail(a, E_INTERNAL, "could not hash the password (ref %s)", r->ref);
	rc = db_exec(x->db, "INSERT INTO users (name, pwd_hash, created_at) "
	    "VALUES (?, ?, UTC_TIMESTAMP(3))", "ss", name, hash);
	if (rc == MB_DUP)
		return app_fail(a, E_USER_EXISTS, "user name '%s' is taken", name);
	if (rc < 0)
		return app_fail_db(a, (int)rc);
	return app_ok(a, 201, user_json(db_insert_id(x->db), name));
}

int
user_login(app_ctx *x, const app_req *r, app_answer *a)
{
	const char *name, *pwd;
	char hash[PW_STORED_MAX], stored_name[USER_NAME_MAX + 1];
	session s;
	int64_t id;
	int rc, ok;

	if (app_param_str(r, a, "userName", &name) != MB_OK ||
	    app_param_str(r, a, "pwd", &pwd) != MB_OK)
		return a->status;
	if (!user_name_ok(name) || strlen(pwd) > USER_PWD_MAX)
		return app_fail(a, E_BAD_CREDENTIALS, "wrong user name or password");
	rc = db_row(x->db, "SELECT id, name, pwd_hash FROM users WHERE name = ?", "s", "iss",
	    name, &id, stored_name, sizeof stored_name, hash, sizeof hash);
	if (rc < 0)
		return app_fail_db(a, rc);
	if (rc == MB_NONE) {
		pw_dummy(pwd, strlen(pwd), x->cfg->pbkdf2_iter);
		ok = 0;
	} else
		ok = pw_verify(pwd, strlen(pwd), hash) == MB_OK;
	if (!ok)
		return app_fail(a, E_BAD_CREDENTIALS, "wrong user name or password");
	if ((rc = auth_login(x->db, x->cfg, id, clock_wall_us() / 1000000, &s)) != MB_OK)
		return app_fail_db(a, rc);
	app_cookie(x, a, &s);
	return app_ok(a, 200, user_json(id, stored_name));
}

int
user_logout(app_ctx *x, const app_req *r, app_answer *a)
{
	auth_user u;
	int rc;

	if (app_auth(x, r, a, &u) != MB_OK)
		return a->status;
	if ((rc = auth_logout(x->db, &u)) != MB_OK)
		return app_fail_db(a, rc);
	app_cookie(x, a, NULL);
	return app_ok(a, 200, json_object());
}

int
user_me(app_ctx *x, const app_req *r, app_answer *a)
{
	auth_user u;

	if (app_auth(x, r, a, &u) != MB_OK)
		return a->status;
	return app_ok(a, 200, user_json(u.id, u.name));
}
