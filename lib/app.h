/*
 * app: the FastCGI side shared by the three web services. app_main() owns
 * the accept loop: it reads the request, checks method, media type, size
 * and origin, parses the body, routes to a handler, and then writes the
 * answer, its headers and cookies, the error log line and the access log
 * line: the one place a response is written.
 *
 * A handler implements its business rule and nothing else. It gets the
 * service's context (settings, database, service clients; no globals), the
 * parsed request and an empty answer; it fills the answer in with app_ok()
 * or app_fail() and returns what they return, the HTTP status:
 *
 *   static int
 *   user_me(app_ctx *x, const app_req *r, app_answer *a)
 *   {
 *           auth_user u;
 *
 *           if (app_auth(x, r, a, &u) != MB_OK)
 *                   return a->status;
 *           return app_ok(a, 200, user_json(u.id, u.name));
 *   }
 *
 * The helpers below that can refuse (app_auth, app_param_id, ...) return an
 * mb.h code and, when it is not MB_OK, have filled the answer's error: the
 * handler returns a->status. Nothing here writes to FastCGI but the loop, so
 * a handler is called and checked directly in a unit test (t/db/).
 */
#ifndef MB_APP_H
#define MB_APP_H

#include <jansson.h>
#include <stdint.h>

#include "auth.h"
#include "cfg.h"
#include "db.h"
#include "inv.h"
#include "mb.h"
#include "req.h"
#include "resp.h"

/* What a service's handlers work with, made once per process. */
typedef struct app_ctx {
	const cfg  *cfg;
	db         *db;
	inv_client *inv;   /* the inventory daemon's client (orders), or NULL */
	int         bus;   /* the payment.done PUB socket (payment), or -1 */
} app_ctx;

typedef struct app_req {
	const char *method;
	const char *path;
	const char *ref;          /* request id: nginx's $request_id */
	const char *cookie;       /* the raw Cookie header */
	const char *idem_key;     /* Idempotency-Key header */
	const char *path_arg;     /* the {id} segment of a "/x/:id" route */
	req_params  params;       /* query string (GET) or body (POST) */
} app_req;

/* The answer a handler fills in; the loop writes it. */
typedef struct app_answer {
	const char *ref;          /* the request's id, for details that quote it */
	int         status;       /* HTTP status */
	mb_err      code;         /* E_OK, or the error of the envelope */
	char        detail[512];  /* the error's detail */
	json_t     *data;         /* success data, or the error's "data" member; owned */
	const char *raw;          /* success data already serialised (a kept answer) */
	size_t      raw_len;      /* its length */
	char       *raw_owned;    /* the same, malloc'd: freed once written */
	char        headers[512]; /* extra response headers, CRLF-terminated */
	int         dropped;      /* a header did not fit (logged by the loop) */
	int         log;          /* app_fail of a 500 or 503: the loop logs the detail */
} app_answer;

typedef int (*app_handler)(app_ctx *x, const app_req *r, app_answer *a);

typedef struct app_route {
	const char *method;
	const char *path;         /* exact, or ending in "/:id" */
	app_handler fn;
} app_route;

/*
 * Runs the service; returns only on a fatal start-up error. init, when
 * not NULL, opens the service's clients into the context (MB_OK or not).
 */
int  app_main(const char *prog, const app_route *routes, int nroutes, int (*init)(app_ctx *x));

/* A fresh answer for request ref (also what the unit tests use). */
void app_answer_init(app_answer *a, const char *ref);
/* Frees what the answer holds. */
void app_answer_free(app_answer *a);

/* Success: `data` (taken; NULL means {}). Returns status. */
int  app_ok(app_answer *a, int status, json_t *data);
/* Success with `data` (len bytes) already serialised; owned: taken and freed after writing. */
int  app_ok_raw(app_answer *a, int status, const char *data, size_t len);
int  app_ok_raw_owned(app_answer *a, int status, char *data, size_t len);
/* An error of the table; returns its HTTP status. */
int  app_fail(app_answer *a, mb_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* app_fail with a "data" member (ALREADY_PAID's paymentId), taken. */
int  app_fail_data(app_answer *a, mb_err code, json_t *data, const char *detail);
/* A failed mb.h code: 503 UNAVAILABLE (MB_UNAVAIL, MB_AGAIN) or 500 INTERNAL. */
int  app_fail_db(app_answer *a, int rc);
/* For a lookup that did not give MB_OK: 404 "no such <what>" on MB_NONE, else app_fail_db. */
int  app_fail_lookup(app_answer *a, int rc, const char *what);
/* Adds a response header line ("Name: value"). */
void app_header(app_answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The auth check (auth.h) as an answer: MB_OK with *u, or not with the
 * answer filled (401, or 503/500 when the database failed). Sets the
 * refreshed cookie when the session's idle expiry moved on.
 */
int  app_auth(app_ctx *x, const app_req *r, app_answer *a, auth_user *u);
/* Sets the session cookie for s (NULL: clears it). */
void app_cookie(app_ctx *x, app_answer *a, const session *s);

/* The handler of a service whose health is its database's: 200 {"db":"ok"} or 503. */
int  app_health_db(app_ctx *x, const app_req *r, app_answer *a);

/* Field helpers: MB_OK, or MB_DECLINED with the answer's 400 filled in. */
int  app_id(app_answer *a, const char *field, const char *value, int64_t *out);
int  app_param_id(const app_req *r, app_answer *a, const char *field, int64_t *out);
int  app_param_str(const app_req *r, app_answer *a, const char *field, const char **out);

#endif
