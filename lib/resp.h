/*
 * resp: the error codes of API.md and the JSON envelope, in one place.
 * Every program answers through these, so a code always maps to the same
 * HTTP status and every body has the same shape.
 */
#ifndef MB_RESP_H
#define MB_RESP_H

#include <jansson.h>
#include <stddef.h>

typedef enum mb_err {
	E_OK = 0,
	E_INVALID_ARGUMENT,
	E_UNAUTHENTICATED,
	E_BAD_CREDENTIALS,
	E_FORBIDDEN,
	E_NOT_FOUND,
	E_METHOD_NOT_ALLOWED,
	E_USER_EXISTS,
	E_OUT_OF_STOCK,
	E_ALREADY_PAID,
	E_ORDER_CLOSED,
	E_TOO_MANY_OPEN_ORDERS,
	E_IDEMPOTENCY_KEY_REUSED,
	E_PAYLOAD_TOO_LARGE,
	E_UNSUPPORTED_MEDIA_TYPE,
	E_RATE_LIMITED,
	E_UNAVAILABLE,
	E_INTERNAL,
	E_COUNT
} mb_err;

const char *resp_code_name(mb_err e);
int         resp_code_status(mb_err e);
/* The code whose name is `name`; E_INTERNAL for anything unknown. */
mb_err      resp_code_parse(const char *name);
/* "200 OK", "404 Not Found", ... for the FastCGI Status header. */
const char *resp_status_line(int status);

/*
 * Copies s into out (cap >= 6), replacing each byte that is not part of
 * valid UTF-8 with '?', so text that quotes client input can go into JSON.
 */
const char *resp_utf8(const char *s, char *out, size_t cap);

/*
 * The envelopes. They return a malloc'd NUL-terminated string, or NULL when
 * out of memory. resp_ok takes ownership of `data` (NULL means {}); resp_err's
 * `extra`, when not NULL, becomes the envelope's "data" (ALREADY_PAID
 * carries the existing paymentId) and is taken too.
 */
char *resp_ok(const char *ref, json_t *data);
/*
 * The start of resp_ok's envelope, up to and including "data": — for a
 * `data` already serialised (a cached answer): the envelope is this, the
 * data, and "}". Returns its length, or 0 when it does not fit in cap.
 */
size_t resp_ok_head(const char *ref, char *out, size_t cap);
char *resp_err(const char *ref, mb_err code, const char *detail, json_t *extra);

#endif
