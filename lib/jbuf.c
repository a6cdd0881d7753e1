/* jbuf: see jbuf.h. */
#include "jbuf.h"

#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and a NUL: 1, or 0 (b->oom set) when it cannot be had. */
static int
jbuf_room(jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return 0;
	if (b->len + n + 1 <= b->cap)
		return 1;
	for (cap = b->cap ? b->cap : 1024; cap < b->len + n + 1; cap *= 2)
		;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return 0;
	}
	b->p = p;
	b->cap = cap;
	return 1;
}

void
jbuf_raw(jbuf *b, const char *s, size_t n)
{
	if (!jbuf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void
jbuf_str(jbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF"; /* jansson's case */
	const unsigned char *p = (const unsigned char *)s;
	size_t run;

	jbuf_lit(b, "\"");
	for (;;) {
		/* the longest run that needs no escape goes in one copy */
		for (run = 0; p[run] >= 0x20 && p[run] != '"' && p[run] != '\\'; run++)
			;
		jbuf_raw(b, (const char *)p, run);
		p += run;
		if (*p == '\0')
			break;
		switch (*p) {
		case '"':  jbuf_lit(b, "\\\""); break;
		case '\\': jbuf_lit(b, "\\\\"); break;
		case '\b': jbuf_lit(b, "\\b"); break;
		case '\f': jbuf_lit(b, "\\f"); break;
		case '\n': jbuf_lit(b, "\\n"); break;
		case '\r': jbuf_lit(b, "\\r"); break;
		case '\t': jbuf_lit(b, "\\t"); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };

			jbuf_raw(b, u, sizeof u);
		}
		}
		p++;
	}
	jbuf_lit(b, "\"");
}

void
jbuf_int(jbuf *b, int64_t v)
{
	char d[24], *e = d + sizeof d, *s = e;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--s = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--s = '-';
	jbuf_raw(b, s, (size_t)(e - s));
}

char *
jbuf_take(jbuf *b, size_t *len)
{
	char *p;

	if (!jbuf_room(b, 0)) {
		free(b->p);
		p = NULL;
	} else {
		b->p[b->len] = '\0';
		p = b->p;
		if (len != NULL)
			*len = b->len;
	}
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	return p;
}
