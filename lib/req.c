/*
 * req: form, JSON, cookie and id parsing. Duplicated fields are refused
 * rather than silently resolved: a client that sends bookId twice has a bug
 * we should tell it about, and "first wins" versus "last wins" differs
 * between proxies, which is how parameter-pollution attacks start.
 */
#include "req.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void
req_params_reset(req_params *p)
{
	p->n = 0;
	p->used = 0;
}

static char *
req_alloc(req_params *p, size_t n)
{
	char *s;

	if (p->used + n > sizeof p->arena)
		return NULL;
	s = p->arena + p->used;
	p->used += n;
	return s;
}

const char *
req_param(const req_params *p, const char *key)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	return NULL;
}

static int
req_add(req_params *p, char *key, char *val, char *detail, size_t cap)
{
	if (req_param(p, key) != NULL) {
		snprintf(detail, cap, "field '%.64s' is given more than once", key);
		return MB_DECLINED;
	}
	if (p->n == REQ_MAX_PARAMS) {
		snprintf(detail, cap, "too many fields (at most %d)", REQ_MAX_PARAMS);
		return MB_DECLINED;
	}
	p->key[p->n] = key;
	p->val[p->n] = val;
	p->n++;
	return MB_OK;
}

static int
req_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into a fresh arena string; -1 on a bad escape or NUL. */
static char *
req_decode(req_params *p, const char *s, size_t len, int *bad)
{
	char *out = req_alloc(p, len + 1), *o = out;
	size_t i;

	*bad = 0;
	if (out == NULL) {
		*bad = 1;
		return NULL;
	}
	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;

			if (i + 2 >= len) {
				*bad = 1;
				return NULL;
			}
			hi = req_hex((unsigned char)s[i + 1]);
			lo = req_hex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) {
				*bad = 1;
				return NULL;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0') {
			*bad = 1;
			return NULL;
		}
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

int
req_parse_form(req_params *p, const char *s, size_t len, char *detail, size_t cap)
{
	size_t pos = 0;

	while (pos < len) {
		const char *pair = s + pos;
		const char *amp = memchr(pair, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - pair) : len - pos;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		char *key, *val;
		int bad;

		pos += plen + 1;
		if (plen == 0)
			continue;
		key = req_decode(p, pair, klen, &bad);
		if (bad) {
			snprintf(detail, cap, "malformed form field name (bad %%-escape or NUL byte)");
			return MB_DECLINED;
		}
		val = eq ? req_decode(p, eq + 1, plen - klen - 1, &bad) : req_decode(p, "", 0, &bad);
		if (bad) {
			snprintf(detail, cap, "field '%.64s' is malformed (bad %%-escape or NUL byte)", key);
			return MB_DECLINED;
		}
		if (req_add(p, key, val, detail, cap) != MB_OK)
			return MB_DECLINED;
	}
	return MB_OK;
}

static char *
req_copy(req_params *p, const char *s, size_t len)
{
	char *out = req_alloc(p, len + 1);

	if (out != NULL) {
		memcpy(out, s, len);
		out[len] = '\0';
	}
	return out;
}

int
req_parse_json(req_params *p, const char *s, size_t len, char *detail, size_t cap)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	int rc = MB_OK;

	/* Without JSON_ALLOW_NUL jansson refuses \u0000, so no value holds a NUL. */
	root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(detail, cap, "malformed JSON body: %.80s", jerr.text);
		return MB_DECLINED;
	}
	if (!json_is_object(root)) {
		snprintf(detail, cap, "JSON body must be an object");
		json_decref(root);
		return MB_DECLINED;
	}
	json_object_foreach(root, k, v) {
		char num[32], *key, *val = NULL;

		key = req_copy(p, k, strlen(k));
		if (json_is_string(v)) {
			val = req_copy(p, json_string_value(v), json_string_length(v));
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			val = req_copy(p, num, strlen(num));
		} else {
			snprintf(detail, cap, "field '%.64s' must be a string or an integer", k);
			rc = MB_DECLINED;
			break;
		}
		if (key == NULL || val == NULL) {
			snprintf(detail, cap, "request body is too large");
			rc = MB_DECLINED;
			break;
		}
		if ((rc = req_add(p, key, val, detail, cap)) != MB_OK)
			break;
	}
	json_decref(root);
	return rc;
}

int
req_parse_id(const char *s, int64_t *out)
{
	int64_t n = 0;
	size_t i, len;

	if (s == NULL || (len = strlen(s)) == 0 || len > 19 || s[0] < '1' || s[0] > '9')
		return MB_DECLINED;
	for (i = 0; i < len; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9)
			return MB_DECLINED;
		if (n > (INT64_MAX - d) / 10)
			return MB_DECLINED;
		n = n * 10 + d;
	}
	*out = n;
	return MB_OK;
}

int
req_cookie(const char *header, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *s = header;
	int found = 0;

	if (header == NULL)
		return MB_NONE;
	while (*s != '\0') {
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *eq;

		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		eq = memchr(s, '=', len);
		if (eq != NULL && (size_t)(eq - s) == nlen && memcmp(s, name, nlen) == 0) {
			size_t vlen = len - nlen - 1;

			while (vlen > 0 && (eq[vlen] == ' ' || eq[vlen] == '\t'))
				vlen--;
			if (found || vlen + 1 > cap)
				return MB_DECLINED;
			memcpy(out, eq + 1, vlen);
			out[vlen] = '\0';
			found = 1;
		}
		if (end == NULL)
			break;
		s = end + 1;
	}
	return found ? MB_OK : MB_NONE;
}

int
req_media_is(const char *content_type, const char *type)
{
	size_t tlen = strlen(type);

	if (content_type == NULL)
		return 0;
	while (*content_type == ' ')
		content_type++;
	if (strncasecmp(content_type, type, tlen) != 0)
		return 0;
	content_type += tlen;
	while (*content_type == ' ')
		content_type++;
	return *content_type == '\0' || *content_type == ';';
}

int
req_id_ok(const char *s)
{
	int i;

	if (s == NULL)
		return 0;
	for (i = 0; i < REQ_ID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[REQ_ID_HEX] == '\0';
}
