/*
 * fconn: the connections of one FastCGI worker (issue 15).
 *
 * nginx keeps FastCGI connections open (fastcgi_keep_conn) and sends the
 * next request on an idle one. libfcgi's own loop (FCGX_Accept_r) serves
 * one connection at a time and, on a kept one, waits for its next request
 * until nginx closes it: a connection idle in nginx's pool parks the worker
 * while new connections queue in the listen backlog, and under load those
 * wait behind the kept ones (p99 of 100+ ms at 64 connections).
 *
 * fconn keeps every connection nginx leaves open and waits on them all with
 * the listen socket (epoll): a request that arrives on any of them is served, and a
 * new connection is taken from the backlog only when none of the worker's
 * connections has a request waiting (so the backlog, shared by all workers,
 * goes to an idle one: EPOLLEXCLUSIVE wakes one idle worker per new
 * connection, not all of them, and a worker never hoards connections it cannot
 * serve). The listen socket (fd 0, shared by the service's workers) is made
 * non-blocking: a worker that loses the race for a connection goes back to
 * waiting. One request at a time, as before; nginx never sends a second request
 * on a connection before the first is answered.
 */
#ifndef MB_FCONN_H
#define MB_FCONN_H

#include <fcgiapp.h>
#include <signal.h>

#define FCONN_MAX 256 /* connections one worker holds at most */

typedef struct fconn {
	int listen_fd;
	int ep;                /* epoll: the listen socket (EPOLLEXCLUSIVE) and the held connections */
	int listening;         /* the listen socket is in ep (while n < FCONN_MAX) */
	int n;                 /* held: connections without a request in progress */
	sigset_t waitmask;     /* the signal mask while waiting: SIGUSR1 let in */
	void (*idle)(void);    /* NULL, or called when no request waits, before the
	                        * worker blocks (app.c: the held access lines) */
} fconn;

/* fconn_init: f is FCGX_InitRequest'ed on listen socket 0; -1 if it cannot be
 * made non-blocking */
int fconn_init(fconn *c, FCGX_Request *f);
/* fconn_accept: like FCGX_Accept_r, the next request into f (blocks until
 * there is one); < 0 when the listen socket fails or after SIGUSR1 (what
 * multiwatch sends to stop its workers: the requests already waiting on
 * held connections are served first) */
int fconn_accept(fconn *c, FCGX_Request *f);
/* fconn_finish: FCGX_Finish_r, then the connection is held again if nginx
 * keeps it */
void fconn_finish(fconn *c, FCGX_Request *f);

#endif
