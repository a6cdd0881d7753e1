/* bus: see bus.h. */
#include "bus.h"
#include "log.h"
#include "clock.h"
#include "mac.h"
#include "nnlist.h"

#include <jansson.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
bus_encode(const bus_event *e)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:i, s:s}", "id", e->id,
	    "sentTime", (json_int_t)e->sent_time, "orderId", (json_int_t)e->order_id,
	    "state", e->state, "ref", e->ref);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL, *msg = NULL;
	char *sealed = body ? mac_seal(BUS_MAC, BUS_TOPIC_PAYMENT_DONE, clock_wall_s(), body,
	    strlen(body)) : NULL;

	json_decref(o);
	if (sealed != NULL && asprintf(&msg, "%s %s", BUS_TOPIC_PAYMENT_DONE, sealed) < 0)
		msg = NULL;
	free(body);
	free(sealed);
	return msg;
}

int
bus_decode(const char *msg, size_t len, bus_event *e, const char **why)
{
	size_t tlen = strlen(BUS_TOPIC_PAYMENT_DONE), plen;
	json_t *o, *id, *ref, *st, *oid, *sent;
	const char *payload, *dummy;
	int rc = MB_DECLINED;

	memset(e, 0, sizeof *e);
	if (why == NULL)
		why = &dummy;
	*why = "not a payment.done event";
	if (len <= tlen + 1 || memcmp(msg, BUS_TOPIC_PAYMENT_DONE, tlen) != 0 || msg[tlen] != ' ')
		return MB_DECLINED;
	if (mac_open(BUS_MAC, BUS_TOPIC_PAYMENT_DONE, clock_wall_s(), msg + tlen + 1, len - tlen - 1,
	    &payload, &plen, why) != MB_OK)
		return MB_DECLINED;
	*why = "malformed payment.done body";
	if ((o = json_loadb(payload, plen, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return MB_DECLINED;
	id = json_object_get(o, "id");
	ref = json_object_get(o, "ref");
	st = json_object_get(o, "state");
	oid = json_object_get(o, "orderId");
	sent = json_object_get(o, "sentTime");
	if (json_is_string(id) && json_string_length(id) == BUS_ID_LEN &&
	    json_is_integer(oid) && json_integer_value(oid) > 0 &&
	    json_is_integer(st) && json_integer_value(st) == BUS_STATE_PAID &&
	    json_is_integer(sent) &&
	    (ref == NULL || (json_is_string(ref) && json_string_length(ref) <= BUS_REF_MAX))) {
		memcpy(e->id, json_string_value(id), BUS_ID_LEN + 1);
		e->order_id = (int64_t)json_integer_value(oid);
		e->state = BUS_STATE_PAID;
		e->sent_time = (int64_t)json_integer_value(sent);
		if (ref != NULL)
			memcpy(e->ref, json_string_value(ref), json_string_length(ref) + 1);
		e->sealed_at = mac_time(msg + tlen + 1, len - tlen - 1);
		rc = MB_OK;
	}
	json_decref(o);
	return rc;
}

int
bus_pub_open(const char *url)
{
	int s = nn_socket(AF_SP, NN_PUB);

	if (s < 0 || nnlist_connect(s, url) < 0) {
		log_msg("error", NULL, "bus publisher %s: %s", url, nn_strerror(nn_errno()));
		if (s >= 0)
			nn_close(s);
		return -1;
	}
	return s;
}

int
bus_publish(int sock, const bus_event *e)
{
	char *msg = bus_encode(e);
	int rc;

	if (msg == NULL)
		return MB_ERROR;
	rc = nn_send(sock, msg, strlen(msg), NN_DONTWAIT);
	free(msg);
	return rc < 0 ? MB_ERROR : MB_OK;
}

int
bus_sub_open(const char *url, int recv_timeout_ms)
{
	int s = nn_socket(AF_SP, NN_SUB);

	if (s < 0 || nn_setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, BUS_TOPIC_PAYMENT_DONE,
	    strlen(BUS_TOPIC_PAYMENT_DONE)) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &recv_timeout_ms, sizeof recv_timeout_ms) < 0 ||
	    nn_bind(s, url) < 0) {
		log_msg("error", NULL, "bus subscriber %s: %s", url, nn_strerror(nn_errno()));
		if (s >= 0)
			nn_close(s);
		return -1;
	}
	return s;
}
