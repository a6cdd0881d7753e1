/*
 * Floor for the FastCGI services: the smallest libfcgi responder with a tiny
 * JSON body, one request at a time per process. scripts/bench.sh runs it
 * with spawn-fcgi + multiwatch, as many processes as the services have,
 * behind the floor nginx, twice: `hello` is libfcgi's own loop
 * (FCGX_Accept_r / FCGX_Finish_r) behind nginx without kept connections,
 * `hello kept` the services' loop (lib/fconn.c: every kept connection polled
 * with the listen socket) behind nginx with them.
 */
#include <fcgiapp.h>

#include "../lib/fconn.h"

static void
answer(FCGX_Request *f)
{
	const char *id = FCGX_GetParam("REQUEST_ID", f->envp);

	FCGX_FPrintF(f->out, "Status: 200 OK\r\nContent-Type: application/json; "
	    "charset=utf-8\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n\r\n"
	    "{\"success\":true,\"ref\":\"%s\",\"data\":{\"hello\":\"world\"}}",
	    id ? id : "", id ? id : "");
}

int
main(int argc, char **argv)
{
	FCGX_Request f;
	fconn c;

	(void)argv;
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
