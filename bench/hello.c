/*
 * Floor for the FastCGI services: the smallest libfcgi responder with a tiny
 * JSON body, one request at a time per process. scripts/bench.sh runs it
 * with spawn-fcgi + multiwatch, as many processes as the services have,
 * behind the floor nginx: `hello` is libfcgi's own loop
 * (FCGX_Accept_r / FCGX_Finish_r) behind nginx without kept connections,
 * `hello kept` the services' loop (lib/fconn.c: every kept connection polled
 * with the listen socket) behind nginx with them, and `hello kept BYTES`
 * the same with an answer of BYTES bytes (a read's size: its floor).
 */
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/fconn.h"

/* the envelope around the padding: {"success":true,"ref":"<32 hex>","data":{"hello":"..."}} */
#define HELLO_HEAD "{\"success\":true,\"ref\":\"%s\",\"data\":{\"hello\":\""
#define HELLO_TAIL "\"}}"
#define HELLO_REF  32

static const char *pad = "world";
static int   padn = 5;

static void
answer(FCGX_Request *f)
{
	const char *id = FCGX_GetParam("REQUEST_ID", f->envp);

	if (id == NULL || strlen(id) != HELLO_REF)
		id = "00000000000000000000000000000000";
	/* with its length, as the services answer (nginx then need not chunk) */
	FCGX_FPrintF(f->out, "Status: 200 OK\r\nContent-Type: application/json; "
	    "charset=utf-8\r\nContent-Length: %d\r\nX-Request-Id: %s\r\n"
	    "Cache-Control: no-store\r\n\r\n" HELLO_HEAD,
	    (int)(sizeof HELLO_HEAD - 3 + HELLO_REF + sizeof HELLO_TAIL - 1) + padn, id, id);
	FCGX_PutStr(pad, padn, f->out);
	FCGX_PutS(HELLO_TAIL, f->out);
}

int
main(int argc, char **argv)
{
	FCGX_Request f;
	fconn c;
	long want = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

	if (want > 0 && want <= (1L << 20)) { /* BYTES in all: pad the rest with 'x' */
		padn = (int)want - (int)(sizeof HELLO_HEAD - 3 + HELLO_REF + sizeof HELLO_TAIL - 1);
		if (padn < 0)
			padn = 0;
		char *p = malloc((size_t)padn + 1);

		if (p == NULL)
			return 1;
		memset(p, 'x', (size_t)padn);
		pad = p;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&f, 0, 0) != 0)
		return 1;
	if (argc > 1) {
		if (fconn_init(&c, &f) != 0)
			return 1;
		while (fconn_accept(&c, &f) >= 0) {
			answer(&f);
			fconn_finish(&c, &f);
		}
		return 0;
	}
	while (FCGX_Accept_r(&f) >= 0) {
		answer(&f);
		FCGX_Finish_r(&f);
	}
	return 0;
}
