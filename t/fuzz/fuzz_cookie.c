/*
 * fuzz_cookie: req_cookie on the input as a whole Cookie header, against a
 * reference reading of it: the header is split at ';', each piece loses its
 * leading blanks, and a piece that starts with "mb_session=" is our cookie,
 * its value ending before any trailing blanks. Exactly one such piece whose
 * value fits gives 1 and that value; none gives 0; several, or one too long
 * for the buffer, give -1. Output buffers are heap blocks of exactly `cap`
 * bytes, so a write one past the end is an AddressSanitizer report.
 */
#include "fuzz.h"
#include "req.h"
#include "session.h"

static const size_t fuzz_caps[] = { SESSION_MAX_VALUE + 1, 16, 1 };

/* The number of mb_session cookies in h; the first one's value in *val, *vlen. */
static int
fuzz_reference(const char *h, const char **val, size_t *vlen)
{
	size_t nlen = strlen(SESSION_COOKIE "=");
	int count = 0;

	for (;;) {
		const char *end = strchr(h, ';'), *s = h;
		size_t len = end ? (size_t)(end - h) : strlen(h);

		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (len >= nlen && memcmp(s, SESSION_COOKIE "=", nlen) == 0 && count++ == 0) {
			*val = s + nlen;
			*vlen = len - nlen;
			while (*vlen > 0 && ((*val)[*vlen - 1] == ' ' || (*val)[*vlen - 1] == '\t'))
				(*vlen)--;
		}
		if (end == NULL)
			return count;
		h = end + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_cstr(data, size);
	const char *val = NULL;
	size_t vlen = 0, i;
	int count = fuzz_reference(header, &val, &vlen);

	for (i = 0; i < sizeof fuzz_caps / sizeof fuzz_caps[0]; i++) {
		char *out = malloc(fuzz_caps[i]);
		int rc, want;

		FUZZ_CHECK(out != NULL);
		rc = req_cookie(header, SESSION_COOKIE, out, fuzz_caps[i]);
		want = count == 0 ? MB_NONE : (count == 1 && vlen < fuzz_caps[i]) ? MB_OK : MB_DECLINED;
		if (rc != want)
			FUZZ_NOTE("cap %zu: got %d, want %d (%d cookies)", fuzz_caps[i], rc,
			    want, count);
		FUZZ_CHECK(rc == want);
		if (rc == MB_OK)
			FUZZ_CHECK(strlen(out) == vlen && memcmp(out, val, vlen) == 0);
		free(out);
	}
	free(header);
	return 0;
}
