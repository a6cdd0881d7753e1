/*
 * inv: the inventory daemon's protocol (nanomsg REQ/REP, JSON) and its
 * client. Requests are {"id": "<uuid>", "ref": "<request id>", "method":
 * "Sell|Confirm|Release|List|Get|Ping", ...}; replies {"ok": true, ...} or
 * {"ok": false, "code": "<API.md code>", "detail": "..."}. Every request
 * carries a fresh id: nanomsg REQ re-sends unanswered requests by itself,
 * and the daemon recognises a repeated Sell by that id. A Sell makes the
 * whole order (reservation and order row, one transaction): its reply
 * carries the order (orderId, historyId, unitPrice, state, createdAt, paidAt,
 * and "kept": true when it is the one the Idempotency-Key already made).
 */
#ifndef MB_INV_H
#define MB_INV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "jbuf.h"
#include "resp.h"

/*
 * On the wire every request and reply is sealed (mac.h): requests with
 * INV_MAC_REQ, replies with INV_MAC_REP bound to the request's id. The
 * daemon refuses a request that does not open; the client treats a reply
 * that does not open as no answer (E_UNAVAILABLE).
 */
#define INV_MAC_REQ   "inv.req"
#define INV_MAC_REP   "inv.rep"

#define INV_ID_LEN    36
#define INV_REF_MAX   64
#define INV_MAX_BATCH 256  /* ids in one batched Confirm */
#define INV_KEY_MAX   64   /* a Sell's Idempotency-Key: 1 to 64 printable ASCII */

typedef enum inv_method {
	INV_SELL, INV_CONFIRM, INV_RELEASE, INV_LIST, INV_GET,
	INV_PING     /* the health probe: answered by a worker without the database */
} inv_method;

#define INV_NMETHODS (INV_PING + 1)

typedef struct inv_req {
	char       id[INV_ID_LEN + 1];
	char       ref[INV_REF_MAX + 1];
	inv_method method;
	int64_t    book_id;     /* Sell, Get */
	int64_t    user_id;     /* Sell: whose order */
	char       idem_key[INV_KEY_MAX + 1]; /* Sell: the Idempotency-Key, "" for none */
	int64_t    history_id;  /* Confirm, Release */
	/*
	 * Confirm may instead carry "historyIds": [...] (1 to INV_MAX_BATCH), so
	 * the orders-listener confirms a batch of payments in one transaction.
	 */
	int64_t    history_ids[INV_MAX_BATCH];
	int        nhistory;    /* > 0 for a batched Confirm */
} inv_req;

const char *inv_method_name(inv_method m);
/* Fills id with a new random UUID. */
void        inv_new_id(char id[INV_ID_LEN + 1]);
/* Encodes a request; returns a malloc'd string or NULL. */
char       *inv_req_encode(const inv_req *q);
/* 1 when k is a valid Idempotency-Key: 1 to INV_KEY_MAX printable ASCII characters. */
int         inv_key_ok(const char *k);
/* Decodes and validates a request: MB_OK, or MB_DECLINED with `detail` set. */
int         inv_req_decode(const char *buf, size_t len, inv_req *q, char *detail, size_t cap);
/* Appends a book as API.md and List/Get show it: {"bookId", "title", "unitPrice", "stock"}. */
void        inv_book_text(jbuf *b, int64_t id, const char *title, int64_t price, int64_t stock);
/*
 * The whole catalogue, by id: the text head (an object's opening, up to
 * its key) followed by the array of inv_book_text objects and "}", in
 * *text (malloc'd) and *len: MB_OK, or a db status (MB_ERROR: out of
 * memory) with *text NULL. The one catalogue query, for GET /orders/books
 * ({"books":) and the daemon's List ({"ok":true,"books":).
 */
int         inv_books_text(db *d, const char *head, char **text, size_t *len);
/* Replies: success with `data`'s members merged in (taken), or an error. */
char       *inv_reply_ok(json_t *data);
char       *inv_reply_err(mb_err code, const char *detail);

/*
 * The client, one per process or thread: inv_call sends q (filling its id)
 * and waits at most INVENTORY_TIMEOUT_MS. It returns the reply object for
 * ok replies (caller decrefs); otherwise NULL with *err and detail set:
 * the daemon's code, or E_UNAVAILABLE when it did not answer in time.
 * Nothing is logged here: the caller answers the failure or logs it, once.
 */
typedef struct inv_client inv_client;
inv_client *inv_client_new(const char *url, int timeout_ms);
void        inv_client_free(inv_client *c);
json_t     *inv_call(inv_client *c, inv_req *q, mb_err *err, char *detail, size_t cap);
/* A Ping within the client's deadline: MB_OK when the daemon answered, MB_UNAVAIL when
 * it did not in time, MB_ERROR for a broken reply. */
int         inv_ping(inv_client *c, const char *ref);

#endif
