/*
 * req: parsing of what a client sends, kept free of FastCGI so that unit
 * tests and fuzzers can drive it directly. Nothing here allocates: fields are
 * decoded into the caller's req_params arena.
 */
#ifndef MB_REQ_H
#define MB_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "mb.h"

#define REQ_MAX_BODY   16384   /* API.md: larger bodies are 413 */
#define REQ_MAX_PARAMS 32

typedef struct req_params {
	int    n;
	char  *key[REQ_MAX_PARAMS];
	char  *val[REQ_MAX_PARAMS];
	size_t used;
	char   arena[REQ_MAX_BODY + 2 * REQ_MAX_PARAMS + 64];
} req_params;


void        req_params_reset(req_params *p);
/*
 * The body parsers return MB_OK, or MB_DECLINED with `detail` saying what
 * is wrong, for the 400.
 *
 * application/x-www-form-urlencoded (also used for query strings).
 */
int         req_parse_form(req_params *p, const char *s, size_t len, char *detail, size_t cap);
/* application/json: one object whose values are strings or integers. */
int         req_parse_json(req_params *p, const char *s, size_t len, char *detail, size_t cap);
const char *req_param(const req_params *p, const char *key);

/*
 * Ids are positive decimal integers that fit in 63 bits, written without
 * sign, leading zero, exponent or trailing junk. MB_OK and *out set, or MB_DECLINED.
 */
int         req_parse_id(const char *s, int64_t *out);

/*
 * Finds cookie `name` in a Cookie header. MB_OK with the value copied when
 * it is there exactly once, MB_NONE when absent, MB_DECLINED when duplicated
 * or too long for `cap` (the caller treats both as "no valid session").
 */
int         req_cookie(const char *header, const char *name, char *out, size_t cap);

/*
 * 1 when s is a request id in the form nginx's $request_id has: exactly
 * REQ_ID_HEX lowercase hex digits. Anything else (a REQUEST_ID sent straight
 * to a FastCGI socket, "x\r\nSet-Cookie: ...") is replaced by a fresh one.
 */
#define REQ_ID_HEX 32
int         req_id_ok(const char *s);

/* 1 when the media type (before any ';') equals `type`, case-insensitively. */
int         req_media_is(const char *content_type, const char *type);

#endif
