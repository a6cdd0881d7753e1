/*
 * resp: the table below is the only place where an error code meets its
 * HTTP status.
 */
#include "resp.h"

#include <string.h>

static const struct {
	const char *name;
	int         status;
} resp_codes[E_COUNT] = {
	[E_OK]                     = { "OK", 200 },
	[E_INVALID_ARGUMENT]       = { "INVALID_ARGUMENT", 400 },
	[E_UNAUTHENTICATED]        = { "UNAUTHENTICATED", 401 },
	[E_BAD_CREDENTIALS]        = { "BAD_CREDENTIALS", 401 },
	[E_FORBIDDEN]              = { "FORBIDDEN", 403 },
	[E_NOT_FOUND]              = { "NOT_FOUND", 404 },
	[E_METHOD_NOT_ALLOWED]     = { "METHOD_NOT_ALLOWED", 405 },
	[E_USER_EXISTS]            = { "USER_EXISTS", 409 },
	[E_OUT_OF_STOCK]           = { "OUT_OF_STOCK", 409 },
	[E_ALREADY_PAID]           = { "ALREADY_PAID", 409 },
	[E_ORDER_CLOSED]           = { "ORDER_CLOSED", 409 },
	[E_TOO_MANY_OPEN_ORDERS]   = { "TOO_MANY_OPEN_ORDERS", 409 },
	[E_IDEMPOTENCY_KEY_REUSED] = { "IDEMPOTENCY_KEY_REUSED", 422 },
	[E_PAYLOAD_TOO_LARGE]      = { "PAYLOAD_TOO_LARGE", 413 },
	[E_UNSUPPORTED_MEDIA_TYPE] = { "UNSUPPORTED_MEDIA_TYPE", 415 },
	[E_RATE_LIMITED]           = { "RATE_LIMITED", 429 },
	[E_UNAVAILABLE]            = { "UNAVAILABLE", 503 },
	[E_INTERNAL]               = { "INTERNAL", 500 },
};

const char *
resp_code_name(mb_err e)
{
	return (e >= 0 && e < E_COUNT) ? resp_codes[e].name : resp_codes[E_INTERNAL].name;
}

int
resp_code_status(mb_err e)
{
	return (e >= 0 && e < E_COUNT) ? resp_codes[e].status : 500;
}

mb_err
resp_code_parse(const char *name)
{
	int i;

	for (i = 1; name != NULL && i < E_COUNT; i++)
		if (strcmp(resp_codes[i].name, name) == 0)
			return (mb_err)i;
	return E_INTERNAL;
}

const char *
resp_status_line(int status)
{
	switch (status) {
	case 200: return "200 OK";
	case 201: return "201 Created";
	case 400: return "400 Bad Request";
	case 401: return "401 Unauthorized";
	case 403: return "403 Forbidden";
	case 404: return "404 Not Found";
	case 405: return "405 Method Not Allowed";
	case 409: return "409 Conflict";
	case 413: return "413 Payload Too Large";
	case 415: return "415 Unsupported Media Type";
	case 422: return "422 Unprocessable Content";
	case 429: return "429 Too Many Requests";
	case 503: return "503 Service Unavailable";
	default:  return "500 Internal Server Error";
	}
}

/*
 * Copies s into out, replacing every byte that is not part of a valid UTF-8
 * sequence with '?': details quote client input (a field name, a path), and
 * JSON strings must be UTF-8, so jansson would refuse the whole envelope.
 */
const char *
resp_utf8(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	while (*p != '\0' && o + 5 < cap) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
		    : (*p & 0xf8) == 0xf0 ? 4 : 0;
		int i, ok = n > 0 && !(n == 2 && *p < 0xc2) && !(n == 4 && *p > 0xf4);

		for (i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		/* no overlong 3/4-byte forms, no surrogates, nothing past U+10FFFF */
		if (ok && n == 3)
			ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
		if (ok && n == 4)
			ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
		if (!ok) {
			out[o++] = '?';
			p++;
			continue;
		}
		memcpy(out + o, p, (size_t)n);
		o += (size_t)n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

static char *
resp_dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

	json_decref(root);
	return s;
}

char *
resp_ok(const char *ref, json_t *data)
{
	char r[128];

	return resp_dump(json_pack("{s:b, s:s, s:o}", "success", 1, "ref", resp_utf8(ref, r, sizeof r),
	    "data", data ? data : json_object()));
}

size_t
resp_ok_head(const char *ref, char *out, size_t cap)
{
	static const char pre[] = "{\"success\":true,\"ref\":", post[] = ",\"data\":";
	char r[128];
	json_t *s = json_string(resp_utf8(ref, r, sizeof r));
	size_t n = 0, len;

	if (s != NULL && cap > sizeof pre)
		n = json_dumpb(s, out + sizeof pre - 1, cap - sizeof pre, JSON_ENCODE_ANY);
	json_decref(s);
	len = sizeof pre - 1 + n;
	if (n == 0 || len + sizeof post > cap)
		return 0;
	memcpy(out, pre, sizeof pre - 1);
	memcpy(out + len, post, sizeof post);
	return len + sizeof post - 1;
}

char *
resp_err(const char *ref, mb_err code, const char *detail, json_t *extra)
{
	char r[128], d[1024];
	json_t *root = json_pack("{s:b, s:s, s:{s:s, s:s}}", "success", 0,
	    "ref", resp_utf8(ref, r, sizeof r), "error", "code", resp_code_name(code),
	    "detail", resp_utf8(detail, d, sizeof d));

	if (root != NULL && extra != NULL)
		json_object_set_new(root, "data", extra);
	else
		json_decref(extra);
	return resp_dump(root);
}
