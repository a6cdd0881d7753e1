/*
 * Floor for the FastCGI services: the smallest libfcgi responder, with the
 * same accept loop as lib/app.c (FCGX_Accept_r / FCGX_Finish_r, one request
 * at a time per process) and a tiny JSON body. scripts/bench.sh runs it with
 * spawn-fcgi + multiwatch, as many processes as the services have, behind
 * the floor nginx.
 */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request f;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&f, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&f) >= 0) {
		const char *id = FCGX_GetParam("REQUEST_ID", f.envp);

		FCGX_FPrintF(f.out, "Status: 200 OK\r\nContent-Type: application/json; "
		    "charset=utf-8\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n\r\n"
		    "{\"success\":true,\"ref\":\"%s\",\"data\":{\"hello\":\"world\"}}",
		    id ? id : "", id ? id : "");
		FCGX_Finish_r(&f);
	}
	return 0;
}
