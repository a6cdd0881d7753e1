/*
 * fuzz.h: what every harness in t/fuzz/ shares. A failed property aborts,
 * which libFuzzer reports as a crash and saves the input as an artifact,
 * exactly like a sanitizer finding. Harnesses free everything they
 * allocate, so any LeakSanitizer report is a leak in lib/. Every refusal
 * detail a parser writes must still fit in the error envelope.
 */
#ifndef MB_FUZZ_H
#define MB_FUZZ_H

#include "resp.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do {                                                  \
	if (!(cond)) {                                                         \
		fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,      \
		    __LINE__, #cond);                                          \
		abort();                                                       \
	}                                                                      \
} while (0)

/* Says what a failing property saw; scripts/fuzz.sh shows these lines. */
#define FUZZ_NOTE(...) do {                                                    \
	fprintf(stderr, "fuzz note: ");                                        \
	fprintf(stderr, __VA_ARGS__);                                          \
	fputc('\n', stderr);                                                   \
} while (0)

/* The input as a malloc'd C string (it ends at the first NUL byte, if any). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A parser's refusal detail becomes a 400 envelope; it must always make one. */
static inline void
fuzz_check_detail(const char *detail)
{
	json_t *root;
	char *env;

	FUZZ_CHECK(detail[0] != '\0');
	env = resp_err("fuzz", E_INVALID_ARGUMENT, detail, NULL);
	FUZZ_CHECK(env != NULL);
	root = json_loads(env, 0, NULL);
	FUZZ_CHECK(json_is_object(root));
	json_decref(root);
	free(env);
}

#endif
