/*
 * nnsend: sends one raw message to a nanomsg address, for the e2e suites
 * that play a stranger (or a replayer) on the internal protocols.
 *   nnsend req URL PAYLOAD [KEY [TIME]]   REQ: prints the reply (or "(no reply)")
 *   nnsend pub URL PAYLOAD [KEY [TIME]]   PUB: connects, sends, lingers a moment
 * With KEY the payload is sealed as lib/mac.c seals it (an inventory request,
 * or a payment.done body behind its topic) at TIME (unix seconds, default
 * now); without it the payload goes out as it is. A REQ reply is shown as
 * received; when KEY is given and the reply opens, its payload follows on a
 * second line prefixed "opened: ". Exit status 0 when sent (and, for REQ,
 * answered), 1 otherwise.
 */
#include "bus.h"
#include "inv.h"
#include "clock.h"
#include "mac.h"

#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(int argc, char **argv)
{
	const char *key = argc > 4 ? argv[4] : NULL, *payload, *why;
	int64_t t = argc > 5 ? strtoll(argv[5], NULL, 10) : clock_wall_s();
	int req, s, timeout = 2000, n;
	char *msg = NULL, *sealed, *buf = NULL;
	struct timespec pause = { 0, 300 * 1000000L };
	size_t plen;

	if (argc < 4 || (strcmp(argv[1], "req") != 0 && strcmp(argv[1], "pub") != 0)) {
		fprintf(stderr, "usage: nnsend req|pub URL PAYLOAD [KEY [TIME]]\n");
		return 1;
	}
	req = strcmp(argv[1], "req") == 0;
	if (key != NULL && mac_init(key) != MB_OK) {
		fprintf(stderr, "nnsend: the key needs %d+ characters\n", MAC_KEY_MIN);
		return 1;
	}
	if (key == NULL)
		msg = strdup(argv[3]);
	else if (req)
		msg = mac_seal(INV_MAC_REQ, "", t, argv[3], strlen(argv[3]));
	else if ((sealed = mac_seal(BUS_MAC, BUS_TOPIC_PAYMENT_DONE, t, argv[3],
	    strlen(argv[3]))) != NULL) {
		if (asprintf(&msg, "%s %s", BUS_TOPIC_PAYMENT_DONE, sealed) < 0)
			msg = NULL;
		free(sealed);
	}
	if (msg == NULL)
		return 1;
	if ((s = nn_socket(AF_SP, req ? NN_REQ : NN_PUB)) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout, sizeof timeout) < 0 ||
	    nn_connect(s, argv[2]) < 0) {
		fprintf(stderr, "nnsend: %s: %s\n", argv[2], nn_strerror(nn_errno()));
		return 1;
	}
	if (!req)
		nanosleep(&pause, NULL); /* PUB drops what it sends before the connection is up */
	n = nn_send(s, msg, strlen(msg), 0);
	free(msg);
	if (n < 0) {
		fprintf(stderr, "nnsend: send: %s\n", nn_strerror(nn_errno()));
		return 1;
	}
	if (!req) {
		nanosleep(&pause, NULL);
		nn_close(s);
		return 0;
	}
	if ((n = nn_recv(s, &buf, NN_MSG, 0)) < 0) {
		printf("(no reply)\n");
		return 1;
	}
	printf("%.*s\n", n, buf);
	/* the reply of a sealed request is bound to its id: shown opened when it opens */
	if (key != NULL) {
		char id[INV_ID_LEN + 1] = "";
		const char *p = strstr(argv[3], "\"id\":\"");

		if (p != NULL)
			snprintf(id, sizeof id, "%s", p + 6);
		if (mac_open(INV_MAC_REP, id, clock_wall_s(), buf, (size_t)n, &payload, &plen, &why) == MB_OK)
			printf("opened: %.*s\n", (int)plen, payload);
	}
	nn_freemsg(buf);
	nn_close(s);
	return 0;
}
