/*
 * fuzz_form: req_parse_form on the input as a body (exactly `size` bytes,
 * no terminator, so an over-read is an AddressSanitizer report). Accepted
 * fields are distinct NUL-terminated strings inside the arena and equal to
 * what a plain reference decoder reads; a refusal is one the reference
 * agrees with and has a detail that the error envelope can carry.
 */
#include "fuzz.h"
#include "req.h"
#include "resp.h"

#include <ctype.h>
#include <jansson.h>

static req_params *fuzz_p;

static void
fuzz_check_params(const req_params *p)
{
	int i, j;

	FUZZ_CHECK(p->n >= 0 && p->n <= REQ_MAX_PARAMS);
	FUZZ_CHECK(p->used <= sizeof p->arena);
	for (i = 0; i < p->n; i++) {
		const char *end = p->arena + p->used;

		FUZZ_CHECK(p->key[i] >= p->arena && p->key[i] < end);
		FUZZ_CHECK(p->val[i] >= p->arena && p->val[i] < end);
		FUZZ_CHECK(memchr(p->key[i], '\0', (size_t)(end - p->key[i])) != NULL);
		FUZZ_CHECK(memchr(p->val[i], '\0', (size_t)(end - p->val[i])) != NULL);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(p->key[i], p->key[j]) != 0);
		FUZZ_CHECK(req_param(p, p->key[i]) == p->val[i]);
	}
}

/* The reference for one name or value: '+' is a space, %XX a byte, NUL is refused. */
static int
fuzz_unescape(const char *s, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			char hex[3];

			if (len - i < 3 || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			c = (int)strtol(hex, NULL, 16);
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * The reference reading of a body: pairs split at '&' (empty ones skipped),
 * the name ends at the first '='. It must agree with req_parse_form, field
 * by field, on every body of at most REQ_MAX_BODY bytes; bigger ones may
 * also be refused for want of arena.
 */
static void
fuzz_reference(const char *s, size_t len, int rc, const req_params *p)
{
	char *scratch = malloc(len + 2 * (REQ_MAX_PARAMS + 1) + 2), *at = scratch;
	char *key[REQ_MAX_PARAMS + 1], *val[REQ_MAX_PARAMS + 1];
	size_t pos = 0;
	int n = 0, want = MB_OK, i;

	FUZZ_CHECK(scratch != NULL);
	while (pos < len && want == MB_OK) {
		const char *pair = s + pos, *amp = memchr(pair, '&', len - pos), *eq;
		size_t plen = amp ? (size_t)(amp - pair) : len - pos, klen;

		pos += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(pair, '=', plen);
		klen = eq ? (size_t)(eq - pair) : plen;
		key[n] = at;
		if (fuzz_unescape(pair, klen, key[n]) != 0) {
			want = MB_DECLINED;
			break;
		}
		at += strlen(at) + 1;
		val[n] = at;
		if (fuzz_unescape(eq ? eq + 1 : "", eq ? plen - klen - 1 : 0, val[n]) != 0) {
			want = MB_DECLINED;
			break;
		}
		at += strlen(at) + 1;
		for (i = 0; i < n; i++)
			if (strcmp(key[i], key[n]) == 0)
				want = MB_DECLINED;
		if (++n > REQ_MAX_PARAMS)
			want = MB_DECLINED;
	}
	if (rc != want && !(rc == MB_DECLINED && len > REQ_MAX_BODY)) {
		FUZZ_NOTE("req_parse_form says %d, the reference %d", rc, want);
		FUZZ_CHECK(rc == want);
	}
	if (rc == MB_OK) {
		FUZZ_CHECK(p->n == n);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(strcmp(p->key[i], key[i]) == 0 && strcmp(p->val[i], val[i]) == 0);
	}
	free(scratch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char detail[256];
	int rc;

	if (fuzz_p == NULL) {
		fuzz_p = malloc(sizeof *fuzz_p);
		FUZZ_CHECK(fuzz_p != NULL);
	}
	req_params_reset(fuzz_p);
	detail[0] = '\0';
	rc = req_parse_form(fuzz_p, (const char *)data, size, detail, sizeof detail);
	FUZZ_CHECK(rc == MB_OK || rc == MB_DECLINED);
	if (rc == MB_OK)
		fuzz_check_params(fuzz_p);
	else
		fuzz_check_detail(detail);
	fuzz_reference((const char *)data, size, rc, fuzz_p);
	return 0;
}
