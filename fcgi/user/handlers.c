/*
 * user handlers. All SQL of the user service is here. Login answers the
 * same BAD_CREDENTIALS for an unknown name and a wrong password, and spends
 * the same PBKDF2 time on both. A new password must pass cracklib's checks
 * (Debian's libcrack2: its dictionary, the user name, too simple or
 * systematic), not a list of our own.
 */
#include "clock.h"
#include "log.h"
#include "pw.h"
#include "user.h"

#include <stddef.h> /* crack.h uses size_t without it */
#include <crack.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
user_init(app_ctx *x)
{
	char path[512];

	(void)x;
	/* without its dictionary cracklib would refuse every password */
	snprintf(path, sizeof path, "%s.pwd", GetDefaultCracklibDict());
	if (access(path, R_OK) != 0) {
		log_msg("error", NULL, "cracklib's dictionary %s cannot be read (install "
		    "cracklib-runtime); stopping", path);
		return MB_ERROR;
	}
	return MB_OK;
}

int
user_register(app_ctx *x, const app_req *r, app_answer *a)
{
	const char *name, *pwd, *weak;
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
	if ((weak = FascistCheckUser(pwd, GetDefaultCracklibDict(), name, NULL)) != NULL)
		return app_fail(a, E_INVALID_ARGUMENT, "password is too weak: %s", weak);
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

/*
 * The per-account backoff, kept by the name asked in login_failures (a
 * table: every worker of every host sees it), whether or not that user
 * exists, so it answers alike for both. MB_OK: go on (*counted: the name
 * has failures on record); MB_DECLINED: refused, *retry set to the seconds
 * left; or the database's failure.
 */
static int
login_blocked(app_ctx *x, const char *name, int *counted, int64_t *retry)
{
	int rc;

	*counted = 0;
	if (x->cfg->login_fails == 0)
		return MB_OK;
	rc = db_row(x->db, "SELECT IFNULL(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), "
	    "blocked_until) / 1000000), 0) FROM login_failures WHERE name = ?", "s", "i", name,
	    retry);
	if (rc == MB_NONE)
		return MB_OK;
	if (rc != MB_OK)
		return rc;
	*counted = 1;
	return *retry > 0 ? MB_DECLINED : MB_OK;
}

/*
 * Counts a failed login of `name` in one statement (workers race safely):
 * a new window when the last one is over; from the LOGIN_FAILS-th failure
 * on, blocked for LOGIN_BACKOFF seconds, doubled with each further failure,
 * at most LOGIN_FAIL_WINDOW. MariaDB applies the assignments left to right,
 * each seeing the ones before. Best effort: a failure is logged.
 */
static void
login_failed(app_ctx *x, const app_req *r, const char *name)
{
	const cfg *c = x->cfg;
	int64_t n;

	if (c->login_fails == 0)
		return;
	n = db_exec(x->db, "INSERT INTO login_failures (name, failures, window_start, blocked_until) "
	    "VALUES (?, 1, UTC_TIMESTAMP(3), IF(? <= 1, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, NULL)) "
	    "ON DUPLICATE KEY UPDATE "
	    "failures = IF(window_start < UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 1, failures + 1), "
	    "window_start = IF(failures = 1, UTC_TIMESTAMP(3), window_start), "
	    "blocked_until = IF(failures >= ?, UTC_TIMESTAMP(3) + INTERVAL "
	    "LEAST(?, ? * POW(2, LEAST(failures - ?, 20))) SECOND, NULL)", "siiiiiii", name,
	    c->login_fails, c->login_backoff, c->login_fail_window, c->login_fails,
	    c->login_fail_window, c->login_backoff, c->login_fails);
	if (n < 0)
		log_msg("warn", r->ref, "could not count a failed login: %s",
		    n == MB_UNAVAIL ? "database unavailable" : "database error");
	/* the orders-listener purges rows of names nobody tried for two windows */
}

int
user_login(app_ctx *x, const app_req *r, app_answer *a)
{
	const char *name, *pwd;
	char hash[PW_STORED_MAX], stored_name[USER_NAME_MAX + 1];
	session s;
	int64_t id, retry;
	int rc, ok, counted;

	if (app_param_str(r, a, "userName", &name) != MB_OK ||
	    app_param_str(r, a, "pwd", &pwd) != MB_OK)
		return a->status;
	if (!user_name_ok(name) || strlen(pwd) > USER_PWD_MAX)
		return app_fail(a, E_BAD_CREDENTIALS, "wrong user name or password");
	if ((rc = login_blocked(x, name, &counted, &retry)) == MB_DECLINED) {
		app_header(a, "Retry-After: %lld", (long long)retry);
		return app_fail(a, E_RATE_LIMITED, "too many failed logins for this user name; "
		    "retry after the number of seconds in Retry-After");
	}
	if (rc != MB_OK)
		return app_fail_db(a, rc);
	rc = db_row(x->db, "SELECT id, name, pwd_hash FROM users WHERE name = ?", "s", "iss",
	    name, &id, stored_name, sizeof stored_name, hash, sizeof hash);
	if (rc < 0)
		return app_fail_db(a, rc);
	if (rc == MB_NONE) {
		pw_dummy(pwd, strlen(pwd), x->cfg->pbkdf2_iter);
		ok = 0;
	} else
		ok = pw_verify(pwd, strlen(pwd), hash) == MB_OK;
	if (!ok) {
		login_failed(x, r, name);
		return app_fail(a, E_BAD_CREDENTIALS, "wrong user name or password");
	}
	/* a success forgets the failures */
	if (counted && (rc = (int)db_exec(x->db, "DELETE FROM login_failures WHERE name = ?", "s",
	    name)) < 0)
		return app_fail_db(a, rc);
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
	static char data[96]; /* written before the next request */
	auth_user u;
	int n;

	if (app_auth(x, r, a, &u) != MB_OK)
		return a->status;
	/* the hottest read (issue 15): a name of the registration charset needs
	 * no JSON escaping, so the data is printed, not built and dumped by
	 * jansson; any other name (put in by hand) goes through jansson */
	if (!user_name_ok(u.name))
		return app_ok(a, 200, user_json(u.id, u.name));
	n = snprintf(data, sizeof data, "{\"userId\":%lld,\"userName\":\"%s\"}", (long long)u.id, u.name);
	if (n < 0 || (size_t)n >= sizeof data)
		return app_ok(a, 200, user_json(u.id, u.name));
	return app_ok_raw(a, 200, data, (size_t)n);
}
