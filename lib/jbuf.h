/*
 * jbuf: JSON text appended to one growing buffer, for the answers rendered
 * on every miss of a kept answer (the catalogue, a page of orders) and by
 * every read of a host without kept answers. Built as jansson trees and
 * dumped, they cost a malloc per value and key and a printf per number:
 * measured, two thirds of a catalogue render's CPU, three times what
 * MariaDB spent answering its query. Strings are escaped as jansson's
 * compact dump escapes them (", \, control characters; UTF-8 passes as it
 * is), so the caller passes UTF-8 (resp_utf8 cleans anything else). A failed
 * allocation is remembered and reported once, by jbuf_take.
 */
#ifndef MB_JBUF_H
#define MB_JBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct jbuf {
	char  *p;
	size_t len, cap;
	int    oom;
} jbuf;

/* Appends n bytes as they are (JSON punctuation, keys, a text already JSON). */
void  jbuf_raw(jbuf *b, const char *s, size_t n);
/* Appends a NUL-terminated text as it is (a literal: its strlen is folded at compile time). */
#define jbuf_lit(b, s) jbuf_raw((b), (s), strlen(s))
/* Appends s as a JSON string: quoted and escaped. */
void  jbuf_str(jbuf *b, const char *s);
/* Appends v as a JSON number. */
void  jbuf_int(jbuf *b, int64_t v);
/*
 * The text (NUL-terminated, malloc'd: the caller frees it) and its length
 * in *len; or NULL when an allocation failed (nothing is left to free).
 */
char *jbuf_take(jbuf *b, size_t *len);

#endif
