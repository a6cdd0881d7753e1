/*
 * orders-listener: binds the bus's SUB socket (see bus.h for why it binds).
 * A payment.done message wakes it to apply the recorded events at once, in
 * batches; because PUB/SUB loses what is sent while nobody listens, it also
 * applies them at start and every CATCH_UP_MS without a message,
 * expires stale unpaid orders every second, and purges sessions past their
 * absolute lifetime every minute.
 */
#include "boot.h"
#include "bus.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "epoch.h"
#include "inv.h"
#include "listener.h"
#include "log.h"
#include "mac.h"

#include <nanomsg/nn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CATCH_UP_MS 500
#define EXPIRE_MS   1000
#define PURGE_MS    60000
/*
 * Under a stream of payments, a batch waits until COALESCE_MS after the one
 * before it, so that one batch (one Confirm, one transaction, one commit)
 * carries the events of those milliseconds instead of one or two each; a
 * payment after a quiet spell is applied at once.
 */
#define COALESCE_MS 20

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int
main(void)
{
	const cfg *c = boot("orders-listener");
	struct sigaction sa;
	int64_t next_catch_up = 0, next_expire = 0, next_purge = 0, last_apply = 0;
	inv_client *inv;
	mac_seen *seen = NULL;
	db *d;
	int sub;

	if (c == NULL)
		return 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: nn_recv returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((seen = mac_seen_new()) == NULL || (d = db_new(c, NULL)) == NULL ||
	    (inv = inv_client_new(c->inventory_url, c->inventory_timeout_ms)) == NULL ||
	    (sub = bus_sub_open(c->bus_listen, 200)) < 0)
		return 1;
	log_msg("info", NULL, "orders-listener ready on %s (order TTL %llds)", c->bus_listen,
	    (long long)c->order_ttl);
	while (!stopping) {
		char *msg = NULL;
		bus_event ev;
		int n = nn_recv(sub, &msg, NN_MSG, 0), n2, heard = 0;
		int64_t now;

		/* drain whatever else arrived: one batch applies them all */
		while (n >= 0) {
			const char *why;

			if (bus_decode(msg, (size_t)n, &ev, &why) != MB_OK)
				log_msg("warn", NULL, "dropped a bus message (%d bytes): %s", n, why);
			else if (mac_seen_check(seen, ev.id, ev.sealed_at, clock_wall_s()) != MB_OK)
				log_msg("warn", ev.ref, "dropped a bus message: event %s replayed", ev.id);
			else
				heard++;
			nn_freemsg(msg);
			n = nn_recv(sub, &msg, NN_MSG, NN_DONTWAIT);
		}
		now = clock_mono_ms();
		if (heard > 0 && now - last_apply < COALESCE_MS) {
			struct timespec wait = { 0, (long)(last_apply + COALESCE_MS - now) * 1000000L };

			nanosleep(&wait, NULL); /* the messages meanwhile are drained next turn */
			now = clock_mono_ms();
		}
		if (heard > 0 || now >= next_catch_up) {
			if (listener_catch_up(d, inv) != MB_OK)
				log_msg("warn", "payment.done", "could not apply payments; will retry");
			last_apply = now;
			next_catch_up = now + CATCH_UP_MS;
		}
		if (now >= next_expire) {
			if ((n = listener_expire(d, inv, c->order_ttl)) < 0)
				log_msg("warn", "expiry", "could not expire orders (%s); will retry",
				    n == MB_UNAVAIL || n == MB_AGAIN ? "database unavailable" : "error");
			next_expire = now + EXPIRE_MS;
		}
		if (now >= next_purge) {
			if ((n = listener_purge_sessions(d, c->session_max)) < 0)
				log_msg("warn", "purge", "could not purge sessions (%s); will retry",
				    n == MB_UNAVAIL || n == MB_AGAIN ? "database unavailable" : "error");
			if ((n2 = listener_purge_login_failures(d, c->login_fail_window)) < 0)
				log_msg("warn", "purge", "could not purge login failures (%s); will retry",
				    n2 == MB_UNAVAIL || n2 == MB_AGAIN ? "database unavailable" : "error");
			if (n2 == LISTENER_PURGE_BATCH)
				n = n2;
			/* a full batch means more are due: come back next second */
			next_purge = now + (n == LISTENER_PURGE_BATCH ? EXPIRE_MS : PURGE_MS);
		}
	}
	log_msg("info", NULL, "stopping");
	nn_close(sub);
	inv_client_free(inv);
	db_free(d);
	mac_seen_free(seen);
	return 0;
}
