/*
 * app: the accept loop of a FastCGI service. One request at a time per
 * process (multiwatch runs several), so the request object, its 16 KiB body
 * buffer and the database connection are allocated once and reused.
 */
#include "app.h"
#include "auth.h"
#include "clock.h"
#include "epoch.h"
#include "log.h"
#include "session.h"

#include <fcgiapp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

static const cfg *app_conf;
static db        *app_dbh;
static app_req    app_r;
static char       app_body[REQ_MAX_BODY + 1];

const cfg *
app_cfg(void)
{
	return app_conf;
}

db *
app_db(void)
{
	return app_dbh;
}

int64_t
app_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The status line and headers of an answer. */
static void
app_head(app_req *r, int status)
{
	FCGX_Request *f = r->fcgi;

	r->status = status;
	FCGX_FPrintF(f->out, "Status: %s\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "X-Request-Id: %s\r\nCache-Control: no-store\r\n%s\r\n",
	    resp_status_line(status), r->ref, r->headers);
}

static void
app_send(app_req *r, int status, char *body)
{
	FCGX_Request *f = r->fcgi;
	static const char oom[] = "{\"success\":false,\"ref\":\"\",\"error\":{\"code\":\"INTERNAL\","
	    "\"detail\":\"out of memory\"}}";

	if (r->status != 0) { /* a handler answered twice: keep the first */
		free(body);
		return;
	}
	if (body == NULL)
		status = 500;
	app_head(r, status);
	FCGX_PutS(body ? body : oom, f->out);
	free(body);
}

void
app_ok(app_req *r, int status, json_t *data)
{
	app_send(r, status, resp_ok(r->ref, data));
}

void
app_ok_raw(app_req *r, int status, const char *data)
{
	FCGX_Request *f = r->fcgi;
	char head[256];
	size_t n;

	if (r->status != 0)
		return;
	if ((n = resp_ok_head(r->ref, head, sizeof head)) == 0) {
		app_send(r, 500, NULL);
		return;
	}
	app_head(r, status);
	FCGX_PutStr(head, (int)n, f->out);
	FCGX_PutS(data, f->out);
	FCGX_PutChar('}', f->out);
}

void
app_fail_data(app_req *r, mb_err code, json_t *data, const char *detail)
{
	app_send(r, resp_code_status(code), resp_err(r->ref, code, detail, data));
}

void
app_fail(app_req *r, mb_err code, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (code == E_INTERNAL || code == E_UNAVAILABLE)
		log_msg(code == E_INTERNAL ? "error" : "warn", r->ref, "%s %s: %s",
		    r->method, r->path, detail);
	app_fail_data(r, code, NULL, detail);
}

void
app_fail_db(app_req *r, int st)
{
	if (st == MB_UNAVAIL || st == MB_AGAIN)
		app_fail(r, E_UNAVAILABLE, "the database did not answer in time; nothing was changed");
	else
		app_fail(r, E_INTERNAL, "internal error (ref %s)", r->ref);
}

void
app_fail_lookup(app_req *r, int st, const char *what)
{
	if (st == MB_NONE)
		app_fail(r, E_NOT_FOUND, "no such %s", what);
	else
		app_fail_db(r, st);
}

void
app_header(app_req *r, const char *fmt, ...)
{
	size_t len = strlen(r->headers);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->headers + len, sizeof r->headers - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof r->headers - len) {
		r->headers[len] = '\0';
		log_msg("error", r->ref, "response header dropped (too long)");
		return;
	}
	memcpy(r->headers + len + n, "\r\n", 3);
}

int
app_id(app_req *r, const char *field, const char *value, int64_t *out)
{
	if (value == NULL || *value == '\0') {
		app_fail(r, E_INVALID_ARGUMENT, "field '%s' is required", field);
		return -1;
	}
	if (req_parse_id(value, out) != 0) {
		app_fail(r, E_INVALID_ARGUMENT,
		    "field '%s' must be a positive decimal integer below 2^63", field);
		return -1;
	}
	return 0;
}

int
app_param_id(app_req *r, const char *field, int64_t *out)
{
	return app_id(r, field, req_param(&r->params, field), out);
}

const char *
app_param_str(app_req *r, const char *field)
{
	const char *v = req_param(&r->params, field);

	if (v == NULL) {
		app_fail(r, E_INVALID_ARGUMENT, "field '%s' is required", field);
		return NULL;
	}
	return v;
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
 * The route for this method and path; when there is none, answers 404, or
 * 405 with an Allow header, and returns NULL.
 */
static const app_route *
app_route_find(app_req *r, const app_route *routes, int n)
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
		app_header(r, "Allow: %s", allow);
		app_fail(r, E_METHOD_NOT_ALLOWED, "method %s is not allowed here; use %s",
		    r->method, allow);
	} else
		app_fail(r, E_NOT_FOUND, "no such endpoint: %.200s", r->path);
	return NULL;
}

/* Reads and parses the body of a POST; answers and returns -1 when it cannot. */
static int
app_read_body(app_req *r, FCGX_Request *f)
{
	const char *ctype = FCGX_GetParam("CONTENT_TYPE", f->envp);
	const char *clen_s = FCGX_GetParam("CONTENT_LENGTH", f->envp);
	char detail[256];
	int64_t clen = 0;
	int got, form, json;

	if (clen_s != NULL && *clen_s != '\0' && strcmp(clen_s, "0") != 0 &&
	    req_parse_id(clen_s, &clen) != 0) {
		app_fail(r, E_INVALID_ARGUMENT, "bad Content-Length");
		return -1;
	}
	if (clen > REQ_MAX_BODY) {
		app_fail(r, E_PAYLOAD_TOO_LARGE, "request body is larger than %d bytes", REQ_MAX_BODY);
		return -1;
	}
	form = req_media_is(ctype, "application/x-www-form-urlencoded");
	json = req_media_is(ctype, "application/json");
	if (!form && !json && ((ctype != NULL && *ctype != '\0') || clen > 0)) {
		app_fail(r, E_UNSUPPORTED_MEDIA_TYPE, "send application/x-www-form-urlencoded or "
		    "application/json, not '%.64s'", ctype ? ctype : "");
		return -1;
	}
	got = clen > 0 ? FCGX_GetStr(app_body, (int)clen, f->in) : 0;
	if (got != clen) {
		app_fail(r, E_INVALID_ARGUMENT, "request body is shorter than its Content-Length");
		return -1;
	}
	app_body[got] = '\0';
	if (clen == 0)
		return 0;
	if ((json ? req_parse_json(&r->params, app_body, (size_t)got, detail, sizeof detail)
	    : req_parse_form(&r->params, app_body, (size_t)got, detail, sizeof detail)) != MB_OK) {
		app_fail(r, E_INVALID_ARGUMENT, "%s", detail);
		return -1;
	}
	return 0;
}

static void
app_handle(FCGX_Request *f, const app_route *routes, int n)
{
	app_req *r = &app_r;
	const app_route *rt;
	const char *q;
	char detail[256], gen_ref[40];
	int64_t t0 = clock_mono_us();

	req_params_reset(&r->params);
	r->status = 0;
	r->headers[0] = '\0';
	r->path_arg = NULL;
	r->fcgi = f;
	r->method = FCGX_GetParam("REQUEST_METHOD", f->envp);
	r->path = FCGX_GetParam("DOCUMENT_URI", f->envp);
	r->ref = FCGX_GetParam("REQUEST_ID", f->envp);
	r->cookie = FCGX_GetParam("HTTP_COOKIE", f->envp);
	r->idem_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", f->envp);
	if (r->method == NULL)
		r->method = "GET";
	if (r->path == NULL)
		r->path = "/";
	if (r->ref == NULL || *r->ref == '\0') {
		snprintf(gen_ref, sizeof gen_ref, "%016llx", (unsigned long long)t0);
		r->ref = gen_ref;
	}
	db_ref(app_dbh, r->ref);

	if ((rt = app_route_find(r, routes, n)) == NULL)
		goto done;
	if (strcmp(r->method, "POST") == 0) {
		if (!auth_same_origin(FCGX_GetParam("HTTP_ORIGIN", f->envp),
		    FCGX_GetParam("HTTP_REFERER", f->envp), FCGX_GetParam("ORIGIN_HOST", f->envp),
		    FCGX_GetParam("HTTPS", f->envp) != NULL)) {
			app_fail(r, E_FORBIDDEN, "cross-site request refused (Origin/Referer names "
			    "another site)");
			goto done;
		}
		if (app_read_body(r, f) != 0)
			goto done;
	} else if ((q = FCGX_GetParam("QUERY_STRING", f->envp)) != NULL && *q != '\0' &&
	    req_parse_form(&r->params, q, strlen(q), detail, sizeof detail) != MB_OK) {
		app_fail(r, E_INVALID_ARGUMENT, "query string: %s", detail);
		goto done;
	}
	rt->fn(r);
	if (r->status == 0)
		app_fail(r, E_INTERNAL, "handler gave no answer (ref %s)", r->ref);
done:
	log_req(r->ref, r->method, r->path, r->status, clock_mono_us() - t0);
}

int
app_main(const char *prog, const app_route *routes, int nroutes, int (*init)(void))
{
	FCGX_Request f;

	app_conf = cfg_load();
	log_init(prog);
	if (session_keys(app_conf->session_keys, app_conf->session_nkeys) != 0) {
		log_msg("error", NULL, "no usable SESSION_KEYS (each key needs 16+ characters)");
		return 1;
	}
	if (epoch_init(app_conf->epoch_file) != 0) {
		log_msg("error", NULL, "cannot map EPOCH_FILE %s", app_conf->epoch_file);
		return 1;
	}
	if ((app_dbh = db_new(app_conf, NULL)) == NULL || FCGX_Init() != 0)
		return 1;
	if (init != NULL && init() != 0)
		return 1;
	(void)db_ping(app_dbh); /* connect early; a failure here is retried per request */
	if (FCGX_InitRequest(&f, 0, 0) != 0)
		return 1;
	log_msg("info", NULL, "%s ready", prog);
	while (FCGX_Accept_r(&f) >= 0) {
		app_handle(&f, routes, nroutes);
		FCGX_Finish_r(&f);
		/* a handler that left a transaction open would hold its row locks forever */
		if (db_in_tx(app_dbh)) {
			log_msg("error", NULL, "a handler left a transaction open; rolled back");
			db_rollback(app_dbh);
		}
	}
	return 0;
}
