/*
 * b64: RFC 4648 section 5 alphabet without padding. Strict on decode: any
 * character outside the alphabet, a length of 1 mod 4, or non-zero trailing
 * bits is an error, so each value has exactly one encoding and a flipped
 * character can never decode to the same bytes.
 */
#include "b64.h"
#include "mb.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0, need = (len / 3) * 4 + ((len % 3) ? len % 3 + 1 : 0);

	if (need + 1 > cap)
		return 0;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = b64_alpha[v >> 6 & 63];
		out[o++] = b64_alpha[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = b64_alpha[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long
b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t i, o = 0, rest = len % 4;
	unsigned acc = 0;
	int bits = 0;

	if (rest == 1 || (len / 4) * 3 + (rest ? rest - 1 : 0) > cap)
		return MB_ERROR;
	for (i = 0; i < len; i++) {
		int v = b64_val((unsigned char)in[i]);

		if (v < 0)
			return MB_ERROR;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return MB_ERROR;
	return (long)o;
}
