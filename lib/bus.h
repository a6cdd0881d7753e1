/*
 * bus: the payment.done event on nanomsg PUB/SUB. A message is the topic,
 * one space, then the JSON body {"id", "sentTime", "orderId", "state": 2,
 * "ref"} sealed (mac.h: "<mac> <time> <body>", kind BUS_MAC, bound to the
 * topic); SUB sockets filter on the topic prefix. PUB/SUB drops messages
 * nobody hears, so the bus is only the fast path: the event row written with
 * the payment (table payment_events) is the truth the listener catches up from.
 */
#ifndef MB_BUS_H
#define MB_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "mb.h"

#define BUS_TOPIC_PAYMENT_DONE "mu.micro.book.topic.payment.done"
#define BUS_STATE_PAID         2
#define BUS_ID_LEN             36
#define BUS_REF_MAX            64
#define BUS_MAC                "bus"

typedef struct bus_event {
	char    id[BUS_ID_LEN + 1];
	int64_t sent_time;
	int64_t order_id;
	int     state;
	char    ref[BUS_REF_MAX + 1];
	int64_t sealed_at;  /* the envelope's time (decode only): for the replay guard */
} bus_event;

/* Topic + ' ' + sealed JSON, malloc'd; NULL on error (no INTERNAL_KEY, no memory). */
char *bus_encode(const bus_event *e);
/*
 * Verifies and parses a message: MB_OK, or MB_DECLINED when it is not a
 * sealed, current payment.done event, with *why (if why is not NULL) the reason.
 * Replays inside the window are the caller's to refuse (mac_seen).
 */
int   bus_decode(const char *msg, size_t len, bus_event *e, const char **why);

/*
 * Who binds: the one listener binds its SUB socket and every FastCGI
 * payment worker connects a PUB socket to it. The listener is the single
 * stable endpoint; publishers come and go with multiwatch, and nanomsg
 * reconnects them by itself when the listener restarts.
 */
int   bus_pub_open(const char *url);            /* socket, or -1 */
int   bus_publish(int sock, const bus_event *e); /* MB_OK or MB_ERROR (never blocks) */
int   bus_sub_open(const char *url, int recv_timeout_ms);

#endif
