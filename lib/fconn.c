/* fconn: the connections of one FastCGI worker; see fconn.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "fconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* SIGUSR1: multiwatch's "finish and exit" (libfcgi's own loop stops on it
 * in accept; this loop when it would wait next) */
static volatile sig_atomic_t fconn_stop;

static void
on_usr1(int sig)
{
	(void)sig;
	fconn_stop = 1;
}

int
fconn_init(fconn *c, FCGX_Request *f)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t usr1;
	int fl;

	c->idle = NULL;
	/* SIGUSR1 is held while a request is served and let in only during
	 * epoll_pwait: it cannot slip in between a check and the wait */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigprocmask(SIG_BLOCK, &usr1, &c->waitmask) != 0)
		return -1;
	sigdelset(&c->waitmask, SIGUSR1);

	c->listen_fd = f->listen_sock;
	/* libfcgi never accepts by itself: a connection that breaks before a
	 * whole request makes FCGX_Accept_r fail (EBADF) instead of taking one
	 * from the backlog that epoll would not know */
	f->listen_sock = -1;
	c->n = 0;
	fl = fcntl(c->listen_fd, F_GETFL);
	if (fl < 0 || fcntl(c->listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	/* EPOLLEXCLUSIVE: a new connection wakes one idle worker, not all */
	e.data.fd = c->listen_fd;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->listen_fd, &e) != 0)
		return -1;
	c->listening = 1;
	return 0;
}

/* listen_while_room: the listen socket is watched only while the table has
 * room (a full worker would otherwise be woken again and again by a backlog
 * it does not take) */
static void
listen_while_room(fconn *c)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = c->listen_fd };
	int room = c->n < FCONN_MAX;

	if (room == c->listening)
		return;
	if (epoll_ctl(c->ep, room ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->listen_fd, &e) == 0)
		c->listening = room;
}

/* watch: one more connection to hold; closed when the table is full */
static void
watch(fconn *c, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	if (c->n >= FCONN_MAX || epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
		close(fd);
		return;
	}
	c->n++;
}

/* take_new: one connection from the backlog, if another worker did not take it */
static void
take_new(fconn *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC), one = 1;

	if (fd < 0)
		return;
	/* tcp (a cluster's app host): the answer is written in pieces; no Nagle delay */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	watch(c, fd);
}

/* start: reads the request waiting on held connection fd into f; 1 if there
 * is one, 0 if nginx had closed the connection (libfcgi closes it then) */
static int
start(fconn *c, FCGX_Request *f, int fd)
{
	c->n--; /* in progress, or closed (which also ends its epoll watch) */
	/* FCGX_Accept_r reads from ipcFd when it is open; keepConnection stops
	 * the Finish it begins with from closing it (the request's own flag is
	 * read from its BEGIN_REQUEST). At end of file (or a broken record)
	 * libfcgi closes the connection and fails (no listen socket, see
	 * fconn_init). */
	f->ipcFd = fd;
	f->keepConnection = 1;
	return FCGX_Accept_r(f) >= 0;
}

int
fconn_accept(fconn *c, FCGX_Request *f)
{
	struct epoll_event e;
	int k;

	for (;;) {
		listen_while_room(c);
		/* One event at a time: epoll's ready list is in the order the
		 * connections became ready, so a worker serves its requests first
		 * come, first served (taking them in batches let one that arrived
		 * during a batch of slow ones wait two batches: seconds). After
		 * SIGUSR1, only what is already waiting, then exit. */
		k = epoll_pwait(c->ep, &e, 1, fconn_stop || c->idle != NULL ? 0 : -1, &c->waitmask);
		if (k == 0 && !fconn_stop && c->idle != NULL) {
			c->idle(); /* nothing to serve: the idle work, then wait */
			k = epoll_pwait(c->ep, &e, 1, -1, &c->waitmask);
		}
		if (k < 0 && errno != EINTR)
			return -1;
		if (k <= 0) {
			if (fconn_stop)
				return -1;
			continue;
		}
		if (e.data.fd == c->listen_fd) {
			if (e.events & EPOLLERR)
				return -1;
			/* the backlog only when no connection of ours has a request: one
			 * that is ready comes before the listen socket, which epoll has
			 * put back at the end of its list */
			k = epoll_pwait(c->ep, &e, 1, 0, &c->waitmask);
			if (k <= 0 || e.data.fd == c->listen_fd) {
				if (fconn_stop)
					return -1;
				take_new(c);
				continue;
			}
		}
		if (start(c, f, e.data.fd))
			return 0;
	}
}

void
fconn_finish(fconn *c, FCGX_Request *f)
{
	FCGX_Finish_r(f);
	if (f->ipcFd >= 0) { /* nginx keeps it: held again, still watched */
		c->n++;
		f->ipcFd = -1;
	}
}
