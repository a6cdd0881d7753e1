/*
 * app: the FastCGI side shared by the three web services. app_main() owns
 * the accept loop: it reads the request, checks method, media type, size
 * and origin, parses the body, routes to a handler and writes the access
 * log line. A handler only implements its business rule and answers with
 * app_ok() or app_fail().
 */
#ifndef MB_APP_H
#define MB_APP_H

#include <jansson.h>
#include <stdint.h>

#include "cfg.h"
#include "db.h"
#include "req.h"
#include "resp.h"

typedef struct app_req {
	const char *method;
	const char *path;
	const char *ref;          /* request id: nginx's $request_id */
	const char *cookie;       /* the raw Cookie header */
	const char *idem_key;     /* Idempotency-Key header */
	const char *path_arg;     /* the {id} segment of a "/x/:id" route */
	req_params  params;       /* query string (GET) or body (POST) */
	int         status;       /* set once answered */
	char        headers[512]; /* extra response headers, CRLF-terminated */
	void       *fcgi;
} app_req;

typedef void (*app_handler)(app_req *r);

typedef struct app_route {
	const char *method;
	const char *path;         /* exact, or ending in "/:id" */
	app_handler fn;
} app_route;

/* Runs the service; returns only on a fatal start-up error. */
int         app_main(const char *prog, const app_route *routes, int nroutes, int (*init)(void));

const cfg  *app_cfg(void);
db         *app_db(void);

void        app_ok(app_req *r, int status, json_t *data);
/* app_ok with `data` already serialised (a cached answer; not taken). */
void        app_ok_raw(app_req *r, int status, const char *data);
void        app_fail(app_req *r, mb_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* app_fail with a "data" member (ALREADY_PAID's paymentId). */
void        app_fail_data(app_req *r, mb_err code, json_t *data, const char *detail);
/* Adds a response header line ("Name: value"). */
void        app_header(app_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps a db status to the answer (503 UNAVAILABLE or 500 INTERNAL). */
void        app_fail_db(app_req *r, int db_status);
/* For a lookup that did not give MB_OK: 404 "no such <what>" on MB_NONE, else app_fail_db. */
void        app_fail_lookup(app_req *r, int db_status, const char *what);

/* Field helpers: on a bad or missing field they answer 400 and return -1. */
int         app_id(app_req *r, const char *field, const char *value, int64_t *out);
int         app_param_id(app_req *r, const char *field, int64_t *out);
const char *app_param_str(app_req *r, const char *field);

/* Microseconds of wall time since the epoch (for timestamps and the log). */
int64_t     app_now_us(void);

#endif
