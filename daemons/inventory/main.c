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

static void *
inventory_worker(void *arg)
{
	const cfg *c = cfg_load();
	db *d = db_new(c, NULL);

	(void)arg;
	if (d == NULL)
		return NULL;
	for (;;) {
		struct nn_msghdr hdr;
		struct nn_iovec iov;
		void *body = NULL, *control = NULL;
		char detail[160], *reply;
		const char *payload, *why;
		size_t plen;
		inv_req q;
		int64_t t0;
		int n;

		memset(&hdr, 0, sizeof hdr);
		iov.iov_base = &body;
		iov.iov_len = NN_MSG;
		hdr.msg_iov = &iov;
		hdr.msg_iovlen = 1;
		hdr.msg_control = &control;
		hdr.msg_controllen = NN_MSG;
		if ((n = nn_recvmsg(inv_sock, &hdr, 0)) < 0) {
			if (nn_errno() == ETERM || inv_stopping)
				break;
			continue;
		}
		t0 = clock_mono_us();
		memset(&q, 0, sizeof q);
		if (mac_open(INV_MAC_REQ, "", clock_wall_s(), body, (size_t)n, &payload, &plen, &why)
		    != MB_OK) {
			/* a stranger, a wrong key or a stale capture: answered, never run */
			log_msg("warn", NULL, "refused a request (%d bytes): %s", n, why);
			inventory_count(STAT_REFUSED);
			reply = inv_reply_err(E_UNAUTHENTICATED, why);
		} else if (inv_req_decode(payload, plen, &q, detail, sizeof detail) != MB_OK) {
			log_msg("warn", NULL, "bad request: %s", detail);
			inventory_count(STAT_BAD);
			reply = inv_reply_err(E_INVALID_ARGUMENT, detail);
		} else {
			db_ref(d, q.ref);
			inventory_count((int)q.method);
			reply = inventory_handle(d, c, &q);
		}
		nn_freemsg(body);
		if (reply == NULL)
			reply = inv_reply_err(E_INTERNAL, "out of memory");
		log_msg("info", q.ref, "%s id=%s book=%lld history=%lld -> %.160s %lldus",
		    inv_method_name(q.method), q.id, (long long)q.book_id, (long long)q.history_id,
		    reply ? reply : "-", (long long)(clock_mono_us() - t0));
		if (reply != NULL && q.id[0] != '\0') { /* sealed for this request (inv.h) */
			char *sealed = mac_seal(INV_MAC_REP, q.id, clock_wall_s(), reply, strlen(reply));

			free(reply);
			reply = sealed;
		}
		iov.iov_base = reply;
		iov.iov_len = reply ? strlen(reply) : 0;
		hdr.msg_control = &control;
		hdr.msg_controllen = NN_MSG;
		if (reply == NULL || nn_sendmsg(inv_sock, &hdr, 0) < 0)
			nn_freemsg(control);
		free(reply);
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
