/*
 * fuzz_envelope: resp_err with the input as the detail (and, separately,
 * as the request id): details quote client bytes, so whatever they are the
 * answer must be a JSON envelope, never NULL. Text that is valid UTF-8 and
 * short enough must come through unchanged; anything else is only
 * replaced, never dropped in favour of a 500. The first byte picks the code,
 * including one past the table.
 */
#include "fuzz.h"
#include "resp.h"

#include <jansson.h>

#define FUZZ_DETAIL_KEPT 1000   /* resp.c keeps details up to about 1 KiB */
#define FUZZ_REF_KEPT    100    /* and request ids up to about 128 bytes */

/* Parses an envelope and returns its root; the string is freed. */
static json_t *
fuzz_parse(char *env)
{
	json_t *root;

	FUZZ_CHECK(env != NULL);
	root = json_loads(env, 0, NULL);
	FUZZ_CHECK(json_is_object(root));
	free(env);
	return root;
}

/* 1 when s is text jansson would take as it is (valid UTF-8). */
static int
fuzz_utf8(const char *s)
{
	json_t *j = json_string(s);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

static void
fuzz_check_err(json_t *root, mb_err code)
{
	json_t *err = json_object_get(root, "error");

	FUZZ_CHECK(json_is_false(json_object_get(root, "success")));
	FUZZ_CHECK(json_is_string(json_object_get(root, "ref")));
	FUZZ_CHECK(json_is_object(err));
	FUZZ_CHECK(json_is_string(json_object_get(err, "detail")));
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(err, "code")), resp_code_name(code)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mb_err code = size > 0 ? (mb_err)(data[0] % (E_COUNT + 1)) : E_INVALID_ARGUMENT;
	char *text = fuzz_cstr(size > 0 ? data + 1 : data, size > 0 ? size - 1 : 0);
	int verbatim = fuzz_utf8(text);
	size_t len = strlen(text);
	json_t *root;

	root = fuzz_parse(resp_err("ref-1", code, text, NULL));
	fuzz_check_err(root, code);
	if (verbatim && len <= FUZZ_DETAIL_KEPT)
		FUZZ_CHECK(strcmp(json_string_value(json_object_get(json_object_get(root, "error"),
		    "detail")), text) == 0);
	json_decref(root);

	root = fuzz_parse(resp_err(text, code, "d", json_pack("{s:s}", "k", "v")));
	fuzz_check_err(root, code);
	FUZZ_CHECK(json_is_object(json_object_get(root, "data")));
	if (verbatim && len <= FUZZ_REF_KEPT)
		FUZZ_CHECK(strcmp(json_string_value(json_object_get(root, "ref")), text) == 0);
	json_decref(root);

	root = fuzz_parse(resp_ok(text, NULL));
	FUZZ_CHECK(json_is_true(json_object_get(root, "success")));
	FUZZ_CHECK(json_is_object(json_object_get(root, "data")));
	json_decref(root);

	free(text);
	return 0;
}
