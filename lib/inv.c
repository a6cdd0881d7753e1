/*
 * inv: protocol codec and REQ client. The client keeps one REQ socket: a
 * new request cancels a previous unanswered one, and nanomsg drops late
 * replies to it, so a timed-out call never confuses the next one.
 */
#include "inv.h"
#include "log.h"
#include "clock.h"
#include "mac.h"
#include "nnlist.h"

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

static const char *const inv_names[] = {
	[INV_SELL] = "Sell", [INV_CONFIRM] = "Confirm", [INV_RELEASE] = "Release",
	[INV_LIST] = "List", [INV_GET] = "Get", [INV_PING] = "Ping",
};

const char *
inv_method_name(inv_method m)
{
	return (m >= INV_SELL && m < INV_NMETHODS) ? inv_names[m] : "?";
}

void
inv_new_id(char id[INV_ID_LEN + 1])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, id);
}

char *
inv_req_encode(const inv_req *q)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", q->id, "ref", q->ref,
	    "method", inv_method_name(q->method));
	char *s;

	if (o == NULL)
		return NULL;
	switch (q->method) {
	case INV_SELL:
		json_object_set_new(o, "bookId", json_integer(q->book_id));
		json_object_set_new(o, "userId", json_integer(q->user_id));
		if (q->idem_key[0] != '\0')
			json_object_set_new(o, "idemKey", json_string(q->idem_key));
		break;
	case INV_GET:
		json_object_set_new(o, "bookId", json_integer(q->book_id));
		break;
	case INV_CONFIRM:
		if (q->nhistory > 0) {
			json_t *ids = json_array();
			int i;

			for (i = 0; i < q->nhistory; i++)
				json_array_append_new(ids, json_integer(q->history_ids[i]));
			json_object_set_new(o, "historyIds", ids);
			break;
		}
		/* FALLTHROUGH */
	case INV_RELEASE:
		json_object_set_new(o, "historyId", json_integer(q->history_id));
		break;
	case INV_LIST:
	case INV_PING:
		break;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* A required positive integer member; -1 with detail when absent or bad. */
static int
inv_member_id(json_t *o, const char *name, int64_t *out, char *detail, size_t cap)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(detail, cap, "'%s' must be a positive integer", name);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
inv_key_ok(const char *k)
{
	size_t n = strlen(k), i;

	if (n < 1 || n > INV_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] < 0x20 || k[i] > 0x7e)
			return 0;
	return 1;
}

/* "historyIds": 1 to INV_MAX_BATCH positive integers. */
static int
inv_member_ids(json_t *o, const char *name, inv_req *q, char *detail, size_t cap)
{
	json_t *a = json_object_get(o, name), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > INV_MAX_BATCH) {
		snprintf(detail, cap, "'%s' must be an array of 1 to %d ids", name, INV_MAX_BATCH);
		return -1;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			snprintf(detail, cap, "'%s' must hold positive integers", name);
			return -1;
		}
		q->history_ids[i] = (int64_t)json_integer_value(v);
	}
	q->nhistory = (int)json_array_size(a);
	return 0;
}

int
inv_req_decode(const char *buf, size_t len, inv_req *q, char *detail, size_t cap)
{
	json_error_t jerr;
	json_t *o, *id, *ref, *m, *v;
	int rc = MB_DECLINED, i;

	memset(q, 0, sizeof *q);
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(detail, cap, "malformed JSON: %.80s", jerr.text);
		return MB_DECLINED;
	}
	id = json_object_get(o, "id");
	ref = json_object_get(o, "ref");
	m = json_object_get(o, "method");
	if (!json_is_object(o) || !json_is_string(id) || json_string_length(id) != INV_ID_LEN) {
		snprintf(detail, cap, "'id' must be a %d-character uuid", INV_ID_LEN);
		goto out;
	}
	if (ref != NULL && (!json_is_string(ref) || json_string_length(ref) > INV_REF_MAX)) {
		snprintf(detail, cap, "'ref' must be a string of at most %d characters", INV_REF_MAX);
		goto out;
	}
	for (i = INV_SELL; i < INV_NMETHODS; i++)
		if (json_is_string(m) && strcmp(json_string_value(m), inv_names[i]) == 0)
			break;
	if (i == INV_NMETHODS) {
		snprintf(detail, cap, "'method' must be Sell, Confirm, Release, List, Get or Ping");
		goto out;
	}
	memcpy(q->id, json_string_value(id), INV_ID_LEN + 1);
	if (ref != NULL)
		memcpy(q->ref, json_string_value(ref), json_string_length(ref) + 1);
	q->method = (inv_method)i;
	switch (q->method) {
	case INV_SELL:
		if (inv_member_id(o, "bookId", &q->book_id, detail, cap) != 0 ||
		    inv_member_id(o, "userId", &q->user_id, detail, cap) != 0)
			goto out;
		if ((v = json_object_get(o, "idemKey")) != NULL) { /* optional */
			if (!json_is_string(v) || !inv_key_ok(json_string_value(v))) {
				snprintf(detail, cap, "'idemKey' must be 1-%d printable ASCII "
				    "characters", INV_KEY_MAX);
				goto out;
			}
			memcpy(q->idem_key, json_string_value(v), json_string_length(v) + 1);
		}
		break;
	case INV_GET:
		if (inv_member_id(o, "bookId", &q->book_id, detail, cap) != 0)
			goto out;
		break;
	case INV_CONFIRM:
		if (json_object_get(o, "historyIds") != NULL) {
			if (inv_member_ids(o, "historyIds", q, detail, cap) != 0)
				goto out;
			break;
		}
		/* FALLTHROUGH */
	case INV_RELEASE:
		if (inv_member_id(o, "historyId", &q->history_id, detail, cap) != 0)
			goto out;
		break;
	case INV_LIST:
	case INV_PING:
		break;
	}
	rc = MB_OK;
out:
	json_decref(o);
	return rc;
}

/* Titles are cleaned to UTF-8: a JSON text must be UTF-8, and the book must not vanish. */
void
inv_book_text(jbuf *b, int64_t id, const char *title, int64_t price, int64_t stock)
{
	char clean[256];

	jbuf_lit(b, "{\"bookId\":");
	jbuf_int(b, id);
	jbuf_lit(b, ",\"title\":");
	jbuf_str(b, resp_utf8(title, clean, sizeof clean));
	jbuf_lit(b, ",\"unitPrice\":");
	jbuf_int(b, price);
	jbuf_lit(b, ",\"stock\":");
	jbuf_int(b, stock);
	jbuf_lit(b, "}");
}

int
inv_books_text(db *d, const char *head, char **text, size_t *len)
{
	char title[256];
	int64_t id, price, stock;
	jbuf b = { 0 };
	int rc, n = 0;

	*text = NULL;
	if ((rc = db_select(d, "SELECT id, title, unit_price, stock FROM books ORDER BY id", "")) < 0)
		return rc;
	jbuf_raw(&b, head, strlen(head));
	jbuf_lit(&b, "[");
	while ((rc = db_next(d, "isii", &id, title, sizeof title, &price, &stock)) == MB_OK) {
		if (n++ > 0)
			jbuf_lit(&b, ",");
		inv_book_text(&b, id, title, price, stock);
	}
	db_done(d);
	jbuf_lit(&b, "]}");
	if (rc < 0) {
		free(jbuf_take(&b, NULL));
		return rc;
	}
	return (*text = jbuf_take(&b, len)) != NULL ? MB_OK : MB_ERROR;
}

char *
inv_reply_ok(json_t *data)
{
	json_t *o = data ? data : json_object();
	char *s;

	json_object_set_new(o, "ok", json_true());
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *
inv_reply_err(mb_err code, const char *detail)
{
	char clean[512];
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "code", resp_code_name(code),
	    "detail", resp_utf8(detail, clean, sizeof clean));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

struct inv_client {
	int sock;
};

inv_client *
inv_client_new(const char *url, int timeout_ms)
{
	inv_client *c = calloc(1, sizeof *c);
	int resend = timeout_ms / 2; /* one re-send at most inside a call's deadline */

	if (c == NULL)
		return NULL;
	if ((c->sock = nn_socket(AF_SP, NN_REQ)) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms, sizeof timeout_ms) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof timeout_ms) < 0 ||
	    nn_setsockopt(c->sock, NN_REQ, NN_REQ_RESEND_IVL, &resend, sizeof resend) < 0 ||
	    nnlist_connect(c->sock, url) < 0) {
		log_msg("error", NULL, "inventory client %s: %s", url, nn_strerror(nn_errno()));
		if (c->sock >= 0)
			nn_close(c->sock);
		free(c);
		return NULL;
	}
	return c;
}

void
inv_client_free(inv_client *c)
{
	if (c == NULL)
		return;
	nn_close(c->sock);
	free(c);
}

json_t *
inv_call(inv_client *c, inv_req *q, mb_err *err, char *detail, size_t cap)
{
	json_error_t jerr;
	json_t *o, *okv;
	char *msg, *body, *buf = NULL;
	const char *payload, *why;
	size_t plen;
	int n;

	inv_new_id(q->id);
	if ((body = inv_req_encode(q)) == NULL ||
	    (msg = mac_seal(INV_MAC_REQ, "", clock_wall_s(), body, strlen(body))) == NULL) {
		free(body);
		*err = E_INTERNAL;
		snprintf(detail, cap, "cannot seal the request (no INTERNAL_KEY or no memory)");
		return NULL;
	}
	free(body);
	n = nn_send(c->sock, msg, strlen(msg), 0);
	free(msg);
	if (n >= 0)
		n = nn_recv(c->sock, &buf, NN_MSG, 0);
	if (n < 0) {
		*err = E_UNAVAILABLE;
		snprintf(detail, cap, "the inventory service did not answer in time");
		return NULL;
	}
	/* a reply that is not sealed for this very request is no answer */
	if (mac_open(INV_MAC_REP, q->id, clock_wall_s(), buf, (size_t)n, &payload, &plen, &why) != MB_OK) {
		nn_freemsg(buf);
		*err = E_UNAVAILABLE;
		snprintf(detail, cap, "the inventory service's reply was refused: %s", why);
		return NULL;
	}
	o = json_loadb(payload, plen, 0, &jerr);
	nn_freemsg(buf);
	okv = json_object_get(o, "ok");
	if (json_is_true(okv))
		return o;
	*err = json_is_false(okv) ? resp_code_parse(json_string_value(json_object_get(o, "code")))
	    : E_INTERNAL;
	snprintf(detail, cap, "%s", json_is_string(json_object_get(o, "detail"))
	    ? json_string_value(json_object_get(o, "detail")) : "bad reply from the inventory service");
	json_decref(o);
	return NULL;
}

int
inv_ping(inv_client *c, const char *ref)
{
	inv_req q = { .method = INV_PING };
	char detail[200];
	mb_err err;
	json_t *reply;

	snprintf(q.ref, sizeof q.ref, "%s", ref != NULL ? ref : "");
	if ((reply = inv_call(c, &q, &err, detail, sizeof detail)) == NULL)
		return err == E_UNAVAILABLE ? MB_UNAVAIL : MB_ERROR;
	json_decref(reply);
	return MB_OK;
}
