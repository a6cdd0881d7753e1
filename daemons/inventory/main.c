/*
 * inventory daemon: a raw nanomsg REP socket shared by INVENTORY_THREADS
 * worker threads. Each thread receives a request together with its routing
 * header, answers it on its own database connection and sends the reply
 * with the same header, so requests from many FastCGI workers are served in
 * parallel (a plain REP socket would serve them one at a time). A sweep
 * thread releases abandoned reservations. SIGTERM/SIGINT/SIGUSR1 stop it.
 *
 * It counts the requests it serves, per method, and writes the counts to
 * INVENTORY_STATS (when set; make run puts it in VAR_DIR/run/ipc) at most
 * once a second while they change, and at once on SIGUSR2 (multiwatch
 * forwards it), so `make bench` reads round trips per order from the
 * daemon's own count.
 */
#include "boot.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "epoch.h"
#include "inv.h"
#include "inventory.h"
#include "log.h"
#include "mac.h"

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INVENTORY_MAX_THREADS 64
#define SWEEP_EVERY_S         2

static int             inv_sock = -1;
static volatile int    inv_stopping;
static pthread_mutex_t sweep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  sweep_cv = PTHREAD_COND_INITIALIZER;

/* requests served: one slot per method, then the refused (bad seal) and bad ones */
enum { STAT_REFUSED = INV_NMETHODS, STAT_BAD, STAT_N };
static uint64_t inv_served[STAT_N];

static void
inventory_count(int slot)
{
	__atomic_fetch_add(&inv_served[slot], 1, __ATOMIC_RELAXED);
}

/*
 * Rewrites the stats file (a temporary file renamed over it, so a reader
 * never sees half of one): "name count" lines. `signals` is the number of
 * SIGUSR2 seen, so a reader that sent one knows when the counts are newer.
 */
static void
inventory_stats_write(const char *path, uint64_t signals)
{
	char tmp[4096];
	uint64_t total = 0, v[STAT_N];
	FILE *f;
	int i;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp ||
	    (f = fopen(tmp, "w")) == NULL) {
		log_msg("warn", NULL, "cannot write INVENTORY_STATS %s: %s", path, strerror(errno));
		return;
	}
	for (i = 0; i < STAT_N; i++)
		total += v[i] = __atomic_load_n(&inv_served[i], __ATOMIC_RELAXED);
	fprintf(f, "# inventory daemon: requests served since it started\n"
	    "pid %ld\nsignals %" PRIu64 "\nrequests %" PRIu64 "\n", (long)getpid(), signals, total);
	for (i = 0; i < INV_NMETHODS; i++)
		fprintf(f, "%s %" PRIu64 "\n", inv_method_name((inv_method)i), v[i]);
	fprintf(f, "refused %" PRIu64 "\nbad %" PRIu64 "\n", v[STAT_REFUSED], v[STAT_BAD]);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_msg("warn", NULL, "cannot write INVENTORY_STATS %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* One request a worker thread took off the socket, and its reply. */
typedef struct inv_msg {
	void   *body, *control;  /* nanomsg's: the message and its routing header */
	int     n;               /* the body's length */
	inv_req q;
	char   *reply;           /* set when answered (a refusal before it runs, or its result) */
	int64_t t0;
} inv_msg;

/* Takes the next request (flags: 0 or NN_DONTWAIT): 0, or -1 (nn_errno says why). */
static int
inv_recv(inv_msg *m, int flags)
{
	struct nn_msghdr hdr;
	struct nn_iovec iov;

	memset(m, 0, sizeof *m);
	memset(&hdr, 0, sizeof hdr);
	iov.iov_base = &m->body;
	iov.iov_len = NN_MSG;
	hdr.msg_iov = &iov;
	hdr.msg_iovlen = 1;
	hdr.msg_control = &m->control;
	hdr.msg_controllen = NN_MSG;
	if ((m->n = nn_recvmsg(inv_sock, &hdr, flags)) < 0)
		return -1;
	m->t0 = clock_mono_us();
	return 0;
}

/* Checks the seal and decodes: a request refused here gets its reply now. */
static void
inv_open(inv_msg *m)
{
	char detail[160];
	const char *payload, *why;
	size_t plen;

	if (mac_open(INV_MAC_REQ, "", clock_wall_s(), m->body, (size_t)m->n, &payload, &plen, &why)
	    != MB_OK) {
		/* a stranger, a wrong key or a stale capture: answered, never run */
		log_msg("warn", NULL, "refused a request (%d bytes): %s", m->n, why);
		inventory_count(STAT_REFUSED);
		m->reply = inv_reply_err(E_UNAUTHENTICATED, why);
	} else if (inv_req_decode(payload, plen, &m->q, detail, sizeof detail) != MB_OK) {
		log_msg("warn", NULL, "bad request: %s", detail);
		inventory_count(STAT_BAD);
		m->reply = inv_reply_err(E_INVALID_ARGUMENT, detail);
	} else
		inventory_count((int)m->q.method);
	nn_freemsg(m->body);
	m->body = NULL;
}

/* Logs the request, seals the reply for it and sends it back along its route. */
static void
inv_send(inv_msg *m)
{
	struct nn_msghdr hdr;
	struct nn_iovec iov;
	inv_req *q = &m->q;
	char *reply = m->reply;

	if (reply == NULL)
		reply = inv_reply_err(E_INTERNAL, "out of memory");
	log_msg("info", q->ref, "%s id=%s book=%lld history=%lld -> %.160s %lldus",
	    inv_method_name(q->method), q->id, (long long)q->book_id, (long long)q->history_id,
	    reply ? reply : "-", (long long)(clock_mono_us() - m->t0));
	if (reply != NULL && q->id[0] != '\0') { /* sealed for this request (inv.h) */
		char *sealed = mac_seal(INV_MAC_REP, q->id, clock_wall_s(), reply, strlen(reply));

		free(reply);
		reply = sealed;
	}
	memset(&hdr, 0, sizeof hdr);
	iov.iov_base = reply;
	iov.iov_len = reply ? strlen(reply) : 0;
	hdr.msg_iov = &iov;
	hdr.msg_iovlen = 1;
	hdr.msg_control = &m->control;
	hdr.msg_controllen = NN_MSG;
	if (reply == NULL || nn_sendmsg(inv_sock, &hdr, 0) < 0)
		nn_freemsg(m->control);
	free(reply);
	m->reply = NULL;
}

/*
 * A worker thread: it waits for a request, then takes whatever more is
 * already waiting (up to INVENTORY_BATCH_MAX, without waiting for any), so
 * that under load the Sells that queued while every thread was busy are
 * made in one transaction (inventory_sell_batch: sql/010); the other
 * requests, and a Sell alone, are answered one by one as before. Nothing
 * waits for a batch to fill: an idle daemon answers each request at once.
 */
static void *
inventory_worker(void *arg)
{
	const cfg *c = cfg_load();
	db *d = db_new(c, NULL);
	inv_msg m[INVENTORY_BATCH_MAX];
	const inv_req *sells[INVENTORY_BATCH_MAX];
	char *replies[INVENTORY_BATCH_MAX];
	int at[INVENTORY_BATCH_MAX];

	(void)arg;
	if (d == NULL)
		return NULL;
	for (;;) {
		int n, i, k = 0;

		if (inv_recv(&m[0], 0) < 0) {
			if (nn_errno() == ETERM || inv_stopping)
				break;
			continue;
		}
		for (n = 1; n < INVENTORY_BATCH_MAX && inv_recv(&m[n], NN_DONTWAIT) == 0; n++)
			;
		for (i = 0; i < n; i++) {
			inv_open(&m[i]);
			if (m[i].reply == NULL && m[i].q.method == INV_SELL) {
				at[k] = i;
				sells[k++] = &m[i].q;
			}
		}
		if (k >= 2) {
			db_ref(d, sells[0]->ref);
			inventory_sell_batch(d, c, sells, k, replies);
			for (i = 0; i < k; i++)
				m[at[i]].reply = replies[i];
		}
		for (i = 0; i < n; i++) {
			if (m[i].reply == NULL) {
				db_ref(d, m[i].q.ref);
				m[i].reply = inventory_handle(d, c, &m[i].q);
			}
			inv_send(&m[i]);
		}
	}
	db_free(d);
	return NULL;
}

static void *
inventory_sweeper(void *arg)
{
	const cfg *c = cfg_load();
	db *d = db_new(c, "sweep");

	(void)arg;
	pthread_mutex_lock(&sweep_mu);
	while (!inv_stopping && d != NULL) {
		struct timespec until;

		pthread_mutex_unlock(&sweep_mu);
		if (inventory_sweep(d, c->sweep_grace) < 0)
			log_msg("warn", "sweep", "sweep pass failed; will retry");
		pthread_mutex_lock(&sweep_mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SWEEP_EVERY_S;
		if (!inv_stopping)
			pthread_cond_timedwait(&sweep_cv, &sweep_mu, &until);
	}
	pthread_mutex_unlock(&sweep_mu);
	db_free(d);
	return NULL;
}

int
main(void)
{
	const cfg *c = boot("inventory");
	pthread_t workers[INVENTORY_MAX_THREADS], sweeper;
	const char *stats = c != NULL ? c->inventory_stats : NULL;
	uint64_t signals = 0, written = UINT64_MAX;
	sigset_t stop;
	int i, sig, nthreads;

	if (c == NULL)
		return 1;
	nthreads = c->inventory_threads;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGUSR2); /* not a stop: write the stats now */
	pthread_sigmask(SIG_BLOCK, &stop, NULL); /* threads inherit; main waits below */
	if (nthreads > INVENTORY_MAX_THREADS)
		nthreads = INVENTORY_MAX_THREADS;
	if ((inv_sock = nn_socket(AF_SP_RAW, NN_REP)) < 0 || nn_bind(inv_sock, c->inventory_listen) < 0) {
		log_msg("error", NULL, "cannot bind %s: %s", c->inventory_listen, nn_strerror(nn_errno()));
		return 1;
	}
	for (i = 0; i < nthreads; i++)
		pthread_create(&workers[i], NULL, inventory_worker, NULL);
	pthread_create(&sweeper, NULL, inventory_sweeper, NULL);
	log_msg("info", NULL, "inventory ready on %s with %d threads", c->inventory_listen, nthreads);

	for (;;) {
		struct timespec second = { 1, 0 };
		uint64_t now = 0;

		sig = sigtimedwait(&stop, NULL, &second);
		if (sig > 0 && sig != SIGUSR2)
			break;
		if (sig == SIGUSR2)
			signals++;
		if (stats == NULL || *stats == '\0')
			continue;
		for (i = 0; i < STAT_N; i++)
			now += __atomic_load_n(&inv_served[i], __ATOMIC_RELAXED);
		if (sig == SIGUSR2 || now != written) {
			inventory_stats_write(stats, signals);
			written = now;
		}
	}
	log_msg("info", NULL, "signal %d: stopping", sig);
	pthread_mutex_lock(&sweep_mu);
	inv_stopping = 1;
	pthread_cond_signal(&sweep_cv);
	pthread_mutex_unlock(&sweep_mu);
	nn_term(); /* every blocked nn_recvmsg returns ETERM */
	for (i = 0; i < nthreads; i++)
		pthread_join(workers[i], NULL);
	pthread_join(sweeper, NULL);
	nn_close(inv_sock);
	return 0;
}
