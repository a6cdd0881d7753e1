/*
 * nnlist: a nanomsg socket connected to every address of a comma-separated
 * list ("tcp://10.0.0.1:5555,tcp://10.0.0.2:5555"). A REQ socket then sends
 * each request to one live peer (and re-sends it to another if that one goes
 * quiet); a PUB socket sends every message to all of them. One address
 * works as before.
 */
#ifndef MB_NNLIST_H
#define MB_NNLIST_H

/* 0 when every address was accepted; -1 (nn_errno() says why) otherwise. */
int nnlist_connect(int sock, const char *list);

#endif
