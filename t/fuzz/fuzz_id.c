/*
 * fuzz_id: req_parse_id on the input as a string, against a reference
 * built on strtoll: accepted exactly when the string is a positive decimal
 * without sign, leading zero or anything else that fits in 63 bits, and
 * then the value prints back to the very same string.
 */
#include "fuzz.h"
#include "req.h"

#include <errno.h>
#include <inttypes.h>

static int
fuzz_reference(const char *s, int64_t *out)
{
	const char *c;
	char *end;
	long long v;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	for (c = s; *c != '\0'; c++)
		if (*c < '0' || *c > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), back[32];
	int64_t got = -1, want = -1;
	int rc = req_parse_id(s, &got);

	FUZZ_CHECK(rc == MB_OK || rc == MB_DECLINED);
	FUZZ_CHECK((rc == MB_OK ? 0 : -1) == fuzz_reference(s, &want));
	if (rc == MB_OK) {
		FUZZ_CHECK(got > 0 && got == want);
		snprintf(back, sizeof back, "%" PRId64, got);
		FUZZ_CHECK(strcmp(back, s) == 0);
	}
	free(s);
	return 0;
}
