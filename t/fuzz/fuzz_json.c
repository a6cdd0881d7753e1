/*
 * fuzz_json: req_parse_json on the input as a body (exactly `size` bytes).
 * The result is checked against jansson itself: the body is accepted
 * exactly when it is one object of at most REQ_MAX_PARAMS distinct keys
 * whose values are strings or integers (for bodies the services accept),
 * and then every field holds what jansson read. Refusals carry a detail the
 * error envelope can hold.
 */
#include "fuzz.h"
#include "req.h"
#include "resp.h"

#include <inttypes.h>
#include <jansson.h>

static req_params *fuzz_p;

/* What req_parse_json should answer, according to jansson; the object or NULL. */
static json_t *
fuzz_oracle(const uint8_t *data, size_t size, int *acceptable)
{
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *v;
	const char *k;

	*acceptable = json_is_object(root) && json_object_size(root) <= REQ_MAX_PARAMS;
	if (*acceptable)
		json_object_foreach(root, k, v)
			*acceptable = *acceptable && (json_is_string(v) || json_is_integer(v));
	return root;
}

static void
fuzz_check_fields(const req_params *p, json_t *root)
{
	const char *k;
	json_t *v;
	int i, j;

	FUZZ_CHECK((size_t)p->n == json_object_size(root));
	FUZZ_CHECK(p->used <= sizeof p->arena);
	for (i = 0; i < p->n; i++)
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(p->key[i], p->key[j]) != 0);
	json_object_foreach(root, k, v) {
		const char *got = req_param(p, k);
		char num[32];

		FUZZ_CHECK(got != NULL);
		if (json_is_string(v)) {
			FUZZ_CHECK(strlen(got) == json_string_length(v));
			FUZZ_CHECK(memcmp(got, json_string_value(v), json_string_length(v)) == 0);
		} else {
			snprintf(num, sizeof num, "%" PRId64, (int64_t)json_integer_value(v));
			FUZZ_CHECK(strcmp(got, num) == 0);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char detail[256];
	json_t *root;
	int rc, acceptable;

	if (fuzz_p == NULL) {
		fuzz_p = malloc(sizeof *fuzz_p);
		FUZZ_CHECK(fuzz_p != NULL);
	}
	req_params_reset(fuzz_p);
	detail[0] = '\0';
	rc = req_parse_json(fuzz_p, (const char *)data, size, detail, sizeof detail);
	FUZZ_CHECK(rc == MB_OK || rc == MB_DECLINED);
	root = fuzz_oracle(data, size, &acceptable);
	if (rc == MB_OK) {
		FUZZ_CHECK(acceptable);
		fuzz_check_fields(fuzz_p, root);
	} else {
		/* Bodies over the limit never reach the parser; within it, only bad ones fail. */
		if (size <= REQ_MAX_BODY && acceptable) {
			FUZZ_NOTE("refused a valid body: %s", detail);
			FUZZ_CHECK(!acceptable);
		}
		fuzz_check_detail(detail);
	}
	json_decref(root);
	return 0;
}
