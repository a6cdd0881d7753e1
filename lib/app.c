/*
 * app: the accept loop of a FastCGI service. One request at a time per
 * process (multiwatch runs several), so the request, its answer, its 16 KiB
 * body buffer and the context (with the database connection) are made once
 * and reused. The connections nginx keeps open are polled together with the
 * listen socket (fconn.h).
 */
#include "app.h"
#include "clock.h"
#include "epoch.h"
#include "boot.h"
#include "fconn.h"
#include "log.h"
#include "mac.h"
#include "origin.h"
#include "session.h"

#include <fcgiapp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

static app_ctx    app_x;
static app_req    app_r;
static app_answer app_a;
static char       app_body[REQ_MAX_BODY + 1];

void
app_answer_init(app_answer *a, const char *ref)
{
	memset(a, 0, sizeof *a);
	a->ref = ref;
	a->code = E_OK;
}

void
app_answer_free(app_answer *a)
{
	json_decref(a->data);
	free(a->raw_owned);
	a->data = NULL;
	a->raw_owned = NULL;
	a->raw = NULL;
	a->raw_len = 0;
}

int
app_ok(app_answer *a, int status, json_t *data)
{
	app_answer_free(a);
	a->status = status;
	a->code = E_OK;
	a->data = data != NULL ? data : json_object();
	return status;
}

int
app_ok_raw(app_answer *a, int status, const char *data, size_t len)
{
	app_answer_free(a);
	a->status = status;
	a->code = E_OK;
	a->raw = data;
	a->raw_len = len;
	return status;
}

int
app_ok_raw_owned(app_answer *a, int status, char *data, size_t len)
{
	app_ok_raw(a, status, data, len);
	a->raw_owned = data;
	return status;
}

int
app_fail_data(app_answer *a, mb_err code, json_t *data, const char *detail)
{
	app_answer_free(a);
	a->status = resp_code_status(code);
	a->code = code;
	a->data = data;
	a->log = 0;
	snprintf(a->detail, sizeof a->detail, "%s", detail);
	return a->status;
}

int
app_fail(app_answer *a, mb_err code, const char *fmt, ...)
{
	char detail[sizeof a->detail];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	app_fail_data(a, code, NULL, detail);
	a->log = code == E_INTERNAL || code == E_UNAVAILABLE;
	return a->status;
}

int
app_fail_db(app_answer *a, int rc)
{
	if (rc == MB_UNAVAIL || rc == MB_AGAIN)
		return app_fail(a, E_UNAVAILABLE,
		    "the database did not answer in time; nothing was changed");
	return app_fail(a, E_INTERNAL, "internal error (ref %s)", a->ref);
}

int
app_fail_lookup(app_answer *a, int rc, const char *what)
{
	if (rc == MB_NONE)
		return app_fail(a, E_NOT_FOUND, "no such %s", what);
	return app_fail_db(a, rc);
}

void
app_header(app_answer *a, const char *fmt, ...)
{
	size_t len = strlen(a->headers);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(a->headers + len, sizeof a->headers - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof a->headers - len) {
		a->headers[len] = '\0';
		a->dropped = 1;
		return;
	}
	memcpy(a->headers + len + n, "\r\n", 3);
}

void
app_cookie(app_ctx *x, app_answer *a, const session *s)
{
	char value[SESSION_MAX_VALUE + 128];

	if (auth_cookie(x->cfg, s, clock_wall_us() / 1000000, value, sizeof value) == 0) {
		a->dropped = 1;
		return;
	}
	app_header(a, "Set-Cookie: %s", value);
}

int
app_auth(app_ctx *x, const app_req *r, app_answer *a, auth_user *u)
{
	int rc = auth_require(x->db, x->cfg, r->cookie, clock_wall_us() / 1000000, u);

	if (rc == MB_DECLINED)
		app_fail(a, E_UNAUTHENTICATED, "%s", u->why);
	else if (rc != MB_OK)
		app_fail_db(a, rc);
	else if (u->refresh)
		app_cookie(x, a, &u->s);
	return rc;
}

int
app_health_db(app_ctx *x, const app_req *r, app_answer *a)
{
	(void)r;
	if (db_ping(x->db) != MB_OK)
		return app_fail_data(a, E_UNAVAILABLE, json_pack("{s:s}", "db", "down"),
		    "the database is down");
	return app_ok(a, 200, json_pack("{s:s}", "db", "ok"));
}

int
app_id(app_answer *a, const char *field, const char *value, int64_t *out)
{
	if (value == NULL || *value == '\0') {
		app_fail(a, E_INVALID_ARGUMENT, "field '%s' is required", field);
		return MB_DECLINED;
	}
	if (req_parse_id(value, out) != MB_OK) {
		app_fail(a, E_INVALID_ARGUMENT,
		    "field '%s' must be a positive decimal integer below 2^63", field);
		return MB_DECLINED;
	}
	return MB_OK;
}

int
app_param_id(const app_req *r, app_answer *a, const char *field, int64_t *out)
{
	return app_id(a, field, req_param(&r->params, field), out);
}

int
app_param_str(const app_req *r, app_answer *a, const char *field, const char **out)
{
	if ((*out = req_param(&r->params, field)) == NULL) {
		app_fail(a, E_INVALID_ARGUMENT, "field '%s' is required", field);
		return MB_DECLINED;
	}
	return MB_OK;
}

/* Exact match, or "/prefix/:id" against "/prefix/<one segment>". */
static int
app_path_match(const char *pattern, const char *path, const char **arg)
{
	size_t plen = strlen(pattern);

	if (plen > 4 && strcmp(pattern + plen - 4, "/:id") == 0) {
		size_t pre = plen - 3; /* keeps the slash */

		if (strncmp(pattern, path, pre) != 0 || path[pre] == '\0' ||
		    strchr(path + pre, '/') != NULL)
			return 0;
		*arg = path + pre;
		return 1;
	}
	return strcmp(pattern, path) == 0;
}

/*
 * The route for this method and path; when there is none, NULL with the
 * answer filled in: 404, or 405 with an Allow header.
 */
static const app_route *
app_route_find(app_req *r, app_answer *a, const app_route *routes, int n)
{
	char allow[128] = "";
	int i, exact = 0;

	/* Exact paths win over "/:id" ones ("/orders/books" is not an order id). */
	for (i = 0; i < n; i++)
		if (strcmp(routes[i].path, r->path) == 0)
			exact = 1;
	for (i = 0; i < n; i++) {
		const char *arg = NULL;

		if (exact && strcmp(routes[i].path, r->path) != 0)
			continue;
		if (!app_path_match(routes[i].path, r->path, &arg))
			continue;
		if (strcmp(routes[i].method, r->method) == 0) {
			r->path_arg = arg;
			return &routes[i];
		}
		if (strstr(allow, routes[i].method) == NULL)
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
			    allow[0] ? ", " : "", routes[i].method);
	}
	if (allow[0] != '\0') {
		app_header(a, "Allow: %s", allow);
		app_fail(a, E_METHOD_NOT_ALLOWED, "method %s is not allowed here; use %s",
		    r->method, allow);
	} else
		app_fail(a, E_NOT_FOUND, "no such endpoint: %.200s", r->path);
	return NULL;
}

/* Reads and parses the body of a POST: MB_OK, or MB_DECLINED with the answer filled in. */
static int
app_read_body(app_req *r, app_answer *a, FCGX_Request *f)
{
	const char *ctype = FCGX_GetParam("CONTENT_TYPE", f->envp);
	const char *clen_s = FCGX_GetParam("CONTENT_LENGTH", f->envp);
	char detail[256];
	int64_t clen = 0;
	int got, form, json;

	if (clen_s != NULL && *clen_s != '\0' && strcmp(clen_s, "0") != 0 &&
	    req_parse_id(clen_s, &clen) != MB_OK) {
		app_fail(a, E_INVALID_ARGUMENT, "bad Content-Length");
		return MB_DECLINED;
	}
	if (clen > REQ_MAX_BODY) {
		app_fail(a, E_PAYLOAD_TOO_LARGE, "request body is larger than %d bytes", REQ_MAX_BODY);
		return MB_DECLINED;
	}
	form = req_media_is(ctype, "application/x-www-form-urlencoded");
	json = req_media_is(ctype, "application/json");
	if (!form && !json && ((ctype != NULL && *ctype != '\0') || clen > 0)) {
		app_fail(a, E_UNSUPPORTED_MEDIA_TYPE, "send application/x-www-form-urlencoded or "
		    "application/json, not '%.64s'", ctype ? ctype : "");
		return MB_DECLINED;
	}
	got = clen > 0 ? FCGX_GetStr(app_body, (int)clen, f->in) : 0;
	if (got != clen) {
		app_fail(a, E_INVALID_ARGUMENT, "request body is shorter than its Content-Length");
		return MB_DECLINED;
	}
	app_body[got] = '\0';
	if (clen == 0)
		return MB_OK;
	if ((json ? req_parse_json(&r->params, app_body, (size_t)got, detail, sizeof detail)
	    : req_parse_form(&r->params, app_body, (size_t)got, detail, sizeof detail)) != MB_OK) {
		app_fail(a, E_INVALID_ARGUMENT, "%s", detail);
		return MB_DECLINED;
	}
	return MB_OK;
}

/*
 * Writes the answer: status line, headers, the envelope; logs a 500 or 503
 * (with what the client was told) and a header that did not fit.
 */
static void
app_write(FCGX_Request *f, const app_req *r, app_answer *a)
{
	static const char oom[] = "{\"success\":false,\"ref\":\"\",\"error\":{\"code\":\"INTERNAL\","
	    "\"detail\":\"out of memory\"}}";
	char *body = NULL, head[256];
	size_t n = 0, len;
	int status = a->status;

	if (a->dropped)
		log_msg("error", r->ref, "response header dropped (too long)");
	if (a->log)
		log_msg(a->code == E_INTERNAL ? "error" : "warn", r->ref, "%s %s: %s",
		    r->method, r->path, a->detail);
	if (a->code != E_OK) {
		body = resp_err(r->ref, a->code, a->detail, a->data);
		a->data = NULL;
	} else if (a->raw != NULL) {
		if ((n = resp_ok_head(r->ref, head, sizeof head)) == 0)
			status = 500;
	} else {
		body = resp_ok(r->ref, a->data);
		a->data = NULL;
	}
	if (body == NULL && a->raw == NULL)
		status = 500;
	/* The length up front: nginx then passes it on instead of chunking. */
	if (a->raw != NULL && n > 0)
		len = n + a->raw_len + 1;
	else
		len = strlen(body != NULL ? body : oom);
	FCGX_FPrintF(f->out, "Status: %s\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %lu\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n%s\r\n",
	    resp_status_line(status), (unsigned long)len, r->ref, a->headers);
	if (a->raw != NULL && n > 0) {
		FCGX_PutStr(head, (int)n, f->out);
		FCGX_PutStr(a->raw, (int)a->raw_len, f->out);
		FCGX_PutChar('}', f->out);
	} else
		FCGX_PutS(body != NULL ? body : oom, f->out);
	free(body);
	a->status = status;
}

/*
 * A fresh request id in nginx's form (32 lowercase hex digits), for a
 * request that came without a valid one: random, or, should the kernel
 * refuse, the clock and a counter.
 */
static void
app_new_ref(char out[REQ_ID_HEX + 1], int64_t t0)
{
	static const char hex[] = "0123456789abcdef";
	static uint64_t n;
	unsigned char b[REQ_ID_HEX / 2];
	int i;

	if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
		uint64_t v[2] = { (uint64_t)t0, ++n ^ ((uint64_t)getpid() << 32) };

		memcpy(b, v, sizeof b);
	}
	for (i = 0; i < REQ_ID_HEX / 2; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[REQ_ID_HEX] = '\0';
}

static void
app_handle(FCGX_Request *f, const app_route *routes, int n)
{
	app_req *r = &app_r;
	app_answer *a = &app_a;
	const app_route *rt;
	const char *q;
	char detail[256], gen_ref[REQ_ID_HEX + 1];
	int64_t t0 = clock_mono_us();

	req_params_reset(&r->params);
	r->path_arg = NULL;
	r->method = FCGX_GetParam("REQUEST_METHOD", f->envp);
	r->path = FCGX_GetParam("DOCUMENT_URI", f->envp);
	r->ref = FCGX_GetParam("REQUEST_ID", f->envp);
	r->cookie = FCGX_GetParam("HTTP_COOKIE", f->envp);
	r->idem_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", f->envp);
	if (r->method == NULL)
		r->method = "GET";
	if (r->path == NULL)
		r->path = "/";
	if (!req_id_ok(r->ref)) { /* only nginx's form: it is echoed as a header */
		app_new_ref(gen_ref, t0);
		r->ref = gen_ref;
	}
	app_answer_init(a, r->ref);
	db_ref(app_x.db, r->ref);

	if ((rt = app_route_find(r, a, routes, n)) == NULL)
		goto done;
	if (strcmp(r->method, "POST") == 0) {
		if (!origin_same(FCGX_GetParam("HTTP_ORIGIN", f->envp),
		    FCGX_GetParam("HTTP_REFERER", f->envp), FCGX_GetParam("ORIGIN_HOST", f->envp),
		    FCGX_GetParam("HTTPS", f->envp) != NULL)) {
			app_fail(a, E_FORBIDDEN, "cross-site request refused (Origin/Referer names "
			    "another site)");
			goto done;
		}
		if (app_read_body(r, a, f) != MB_OK)
			goto done;
	} else if ((q = FCGX_GetParam("QUERY_STRING", f->envp)) != NULL && *q != '\0' &&
	    req_parse_form(&r->params, q, strlen(q), detail, sizeof detail) != MB_OK) {
		app_fail(a, E_INVALID_ARGUMENT, "query string: %s", detail);
		goto done;
	}
	a->status = rt->fn(&app_x, r, a);
done:
	app_write(f, r, a);
	app_answer_free(a);
	log_req(r->ref, r->method, r->path, a->status, clock_mono_us() - t0);
}

int
app_main(const char *prog, const app_route *routes, int nroutes, int (*init)(app_ctx *x))
{
	FCGX_Request f;
	fconn c;

	app_x.bus = -1;
	if ((app_x.cfg = boot(prog)) == NULL)
		return 1;
	if (session_keys(app_x.cfg->session_keys, app_x.cfg->session_nkeys) != MB_OK) {
		log_fatal("no usable SESSION_KEYS (each key needs 16+ characters)");
		return 1;
	}
	if ((app_x.db = db_new(app_x.cfg, NULL)) == NULL || FCGX_Init() != 0)
		return 1;
	if (init != NULL && init(&app_x) != MB_OK)
		return 1;
	(void)db_ping(app_x.db); /* connect early; a failure here is retried per request */
	if (FCGX_InitRequest(&f, 0, 0) != 0 || fconn_init(&c, &f) != 0)
		return 1;
	log_msg("info", NULL, "%s ready", prog);
	/* the access lines of a busy worker go out several at once (log.h) */
	log_hold();
	c.idle = log_flush;
	/* every connection nginx keeps open, polled with the listen socket (fconn.h) */
	while (fconn_accept(&c, &f) >= 0) {
		app_handle(&f, routes, nroutes);
		fconn_finish(&c, &f);
		/* a handler that left a transaction open would hold its row locks forever */
		if (db_in_tx(app_x.db)) {
			log_msg("error", NULL, "a handler left a transaction open; rolled back");
			db_rollback(app_x.db);
		}
	}
	return 0;
}
