/*
 * test_bus: the payment.done event. A message is the topic, one space and
 * the JSON body; an event survives encode/decode, and the decoder refuses
 * anything that is not a well-formed payment.done (other topics, bad JSON,
 * another state, bad ids, missing members). The last tests run a real
 * nanomsg PUB/SUB pair in this process over an ipc:// socket in /tmp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <nanomsg/nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "mac.h"

#define TOPIC  BUS_TOPIC_PAYMENT_DONE
#define UUID_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define BODY   "{\"id\":\"" UUID_A "\",\"sentTime\":1764150000,\"orderId\":5,\"state\":2,\"ref\":\"r1\"}"

static bus_event
event(const char *id, int64_t sent, int64_t order, const char *ref)
{
	bus_event e;

	memset(&e, 0, sizeof e);
	snprintf(e.id, sizeof e.id, "%s", id);
	e.sent_time = sent;
	e.order_id = order;
	e.state = BUS_STATE_PAID;
	snprintf(e.ref, sizeof e.ref, "%s", ref);
	return e;
}

static void
assert_event_equal(const bus_event *a, const bus_event *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->sent_time, b->sent_time);
	assert_int_equal(a->order_id, b->order_id);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->ref, b->ref);
}

/* TOPIC + " " + the sealed body (as bus_encode frames it), malloc'd. */
static char *
seal(const char *body, size_t len)
{
	char *sealed = mac_seal(BUS_MAC, TOPIC, clock_wall_s(), body, len), *msg;

	assert_non_null(sealed);
	assert_true(asprintf(&msg, "%s %s", TOPIC, sealed) > 0);
	free(sealed);
	return msg;
}

/*
 * Decodes msg; one that starts with TOPIC + " " has its body sealed first,
 * so the checks below reach the JSON decoder behind the envelope.
 */
static int
decode(const char *msg, bus_event *e)
{
	size_t tlen = strlen(TOPIC);
	char *sealed;
	int rc;

	if (strncmp(msg, TOPIC " ", tlen + 1) != 0)
		return bus_decode(msg, strlen(msg), e, NULL);
	sealed = seal(msg + tlen + 1, strlen(msg + tlen + 1));
	rc = bus_decode(sealed, strlen(sealed), e, NULL);
	free(sealed);
	return rc;
}

/* Asserts that TOPIC + " " + body is refused. */
static void
body_refused(const char *body)
{
	char msg[1024];
	bus_event e;

	snprintf(msg, sizeof msg, "%s %s", TOPIC, body);
	if (decode(msg, &e) != MB_DECLINED)
		fail_msg("accepted: %s", msg);
}

/* ---- codec ---- */

static void
test_round_trip(void **state)
{
	char ref[BUS_REF_MAX + 1];
	bus_event in[4], out;
	size_t i;

	(void)state;
	memset(ref, 'r', BUS_REF_MAX);
	ref[BUS_REF_MAX] = '\0';
	in[0] = event(UUID_A, 1764150000, 5, "req-1");
	in[1] = event(UUID_A, 0, INT64_MAX, "");
	in[2] = event(UUID_A, -1, 1, ref);
	in[3] = event(UUID_A, INT64_MAX, 42, "caf\xc3\xa9 \"quoted\" \\ \n");
	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		char *msg = bus_encode(&in[i]);

		assert_non_null(msg);
		memset(&out, 'X', sizeof out);
		if (bus_decode(msg, strlen(msg), &out, NULL) != MB_OK)
			fail_msg("own message refused: %s", msg);
		assert_event_equal(&out, &in[i]);
		free(msg);
	}
}

static void
test_message_shape(void **state)
{
	bus_event e = event(UUID_A, 1764150000, 5, "r1");
	size_t tlen = strlen(TOPIC);
	json_error_t err;
	json_t *o;
	char *msg, *msg_body;

	(void)state;
	assert_string_equal(TOPIC, "mu.micro.book.topic.payment.done");
	msg = bus_encode(&e);
	assert_non_null(msg);
	assert_memory_equal(msg, TOPIC " ", tlen + 1);
	/* one space, the envelope (64 hex digits, a space, the time, a space), then the body */
	assert_int_equal(strspn(msg + tlen + 1, "0123456789abcdef"), MAC_HEX_LEN);
	assert_int_equal(msg[tlen + 1 + MAC_HEX_LEN], ' ');
	assert_true(llabs(atoll(msg + tlen + 2 + MAC_HEX_LEN) - clock_wall_s()) <= 1);
	msg_body = strchr(msg + tlen + 2 + MAC_HEX_LEN, ' ') + 1;
	assert_int_equal(*msg_body, '{');
	o = json_loads(msg_body, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL)
		fail_msg("body is not JSON (%s): %s", err.text, msg);
	assert_string_equal(json_string_value(json_object_get(o, "id")), UUID_A);
	assert_int_equal(json_integer_value(json_object_get(o, "sentTime")), 1764150000);
	assert_int_equal(json_integer_value(json_object_get(o, "orderId")), 5);
	assert_int_equal(json_integer_value(json_object_get(o, "state")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "ref")), "r1");
	assert_int_equal(json_object_size(o), 5);
	json_decref(o);
	free(msg);
}

static void
test_decode_hand_written(void **state)
{
	bus_event e, want = event(UUID_A, 1764150000, 5, "r1");

	(void)state;
	assert_int_equal(decode(TOPIC " " BODY, &e), MB_OK);
	assert_event_equal(&e, &want);
	/* Member order and extra members do not matter; ref may be absent. */
	assert_int_equal(decode(TOPIC " {\"state\":2,\"orderId\":7,\"sentTime\":1,\"extra\":[],"
	    "\"id\":\"" UUID_A "\"}", &e), MB_OK);
	assert_int_equal(e.order_id, 7);
	assert_int_equal(e.sent_time, 1);
	assert_string_equal(e.ref, "");
}

/* Only len bytes are read: the mac covers exactly the body it was made for. */
static void
test_decode_only_len_bytes(void **state)
{
	char *sealed = seal(BODY, strlen(BODY)), *msg;
	size_t n;
	bus_event e;

	(void)state;
	assert_true(asprintf(&msg, "%sjunk", sealed) > 0);
	n = strlen(msg);
	assert_int_equal(bus_decode(msg, n - 4, &e, NULL), MB_OK);
	assert_int_equal(bus_decode(msg, n, &e, NULL), MB_DECLINED);
	assert_int_equal(bus_decode(msg, n - 5, &e, NULL), MB_DECLINED);
	assert_int_equal(bus_decode(msg, strlen(TOPIC) + 1, &e, NULL), MB_DECLINED);
	assert_int_equal(bus_decode(msg, strlen(TOPIC), &e, NULL), MB_DECLINED);
	assert_int_equal(bus_decode(msg, 0, &e, NULL), MB_DECLINED);
	free(sealed);
	free(msg);
}

/* An unsealed body, a wrong key, a tampered body or an old time is refused, with its reason. */
static void
test_decode_unsealed(void **state)
{
	static const char plain[] = TOPIC " " BODY;
	char *msg = seal(BODY, strlen(BODY)), *old, *stale;
	const char *why = NULL;
	bus_event e;

	(void)state;
	assert_int_equal(bus_decode(plain, strlen(plain), &e, &why), MB_DECLINED);
	assert_string_equal(why, "malformed envelope");
	msg[strlen(msg) - 3] ^= 1; /* inside "r1" */
	assert_int_equal(bus_decode(msg, strlen(msg), &e, &why), MB_DECLINED);
	assert_string_equal(why, "bad mac");
	stale = mac_seal(BUS_MAC, TOPIC, clock_wall_s() - MAC_WINDOW_S - 5, BODY, strlen(BODY));
	assert_true(asprintf(&old, "%s %s", TOPIC, stale) > 0);
	assert_int_equal(bus_decode(old, strlen(old), &e, &why), MB_DECLINED);
	assert_string_equal(why, "time outside the window");
	assert_int_equal(mac_init("another-key-0123456789"), MB_OK);
	free(msg);
	msg = seal(BODY, strlen(BODY));
	assert_int_equal(mac_init("unit-test-internal-key-0123"), MB_OK);
	assert_int_equal(bus_decode(msg, strlen(msg), &e, &why), MB_DECLINED);
	assert_string_equal(why, "bad mac");
	free(msg);
	free(stale);
	free(old);
}

static void
test_decode_wrong_topic(void **state)
{
	static const char *const bad[] = {
		"mu.micro.book.topic.payment.dont " BODY,
		"mu.micro.book.topic.payment.done.x " BODY,
		"mu.micro.book.topic.payment.donex " BODY,
		"mu.micro.book.topic.payment " BODY,
		"MU.MICRO.BOOK.TOPIC.PAYMENT.DONE " BODY,
		" " TOPIC " " BODY,
		"x" TOPIC " " BODY,
		BODY,
		"",
		"mu.micro",
	};
	bus_event e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (decode(bad[i], &e) != MB_DECLINED)
			fail_msg("accepted: %s", bad[i]);
}

static void
test_decode_missing_space(void **state)
{
	static const char *const bad[] = {
		TOPIC BODY, TOPIC "\t" BODY, TOPIC "\n" BODY, TOPIC ":" BODY, TOPIC, TOPIC " ",
	};
	bus_event e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (decode(bad[i], &e) != MB_DECLINED)
			fail_msg("accepted: %s", bad[i]);
}

static void
test_decode_bad_json(void **state)
{
	static const char *const bad[] = {
		"{", "}", "[]", "[" BODY "]", "null", "2", "\"x\"", "{'id':1}", BODY " {}", BODY ",",
		"{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"state\":2,}",
		"{\"id\":\"" UUID_A "\",\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"state\":2}",
		"{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"orderId\":6,\"state\":2}",
		"{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"state\":2,\"ref\":\"\xff\"}",
		"{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"state\":2,\"ref\":\"\\u0000\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		body_refused(bad[i]);
}

static void
test_decode_state(void **state)
{
	static const char *const bad[] = { "0", "1", "3", "-2", "\"2\"", "2.0", "true", "null", "[2]" };
	char body[256];
	bus_event e = event(UUID_A, 1, 5, "r"), out;
	char *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"sentTime\":1,\"orderId\":5,\"state\":%s}",
		    UUID_A, bad[i]);
		body_refused(body);
	}
	body_refused("{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5}");
	/* An event encoded with another state is not a payment.done either. */
	e.state = 1;
	msg = bus_encode(&e);
	assert_non_null(msg);
	assert_int_equal(decode(msg, &out), MB_DECLINED);
	free(msg);
}

static void
test_decode_order_id(void **state)
{
	static const char *const bad[] = {
		"0", "-1", "-9223372036854775808", "\"5\"", "5.0", "1e3", "true", "null", "{}",
	};
	char body[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"sentTime\":1,\"orderId\":%s,\"state\":2}",
		    UUID_A, bad[i]);
		body_refused(body);
	}
	body_refused("{\"id\":\"" UUID_A "\",\"sentTime\":1,\"state\":2}");
}

static void
test_decode_id(void **state)
{
	static const char *const bad[] = {
		"{\"sentTime\":1,\"orderId\":5,\"state\":2}",
		"{\"id\":\"\",\"sentTime\":1,\"orderId\":5,\"state\":2}",
		"{\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950\",\"sentTime\":1,\"orderId\":5,\"state\":2}",
		"{\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950ee\",\"sentTime\":1,\"orderId\":5,\"state\":2}",
		"{\"id\":123456789,\"sentTime\":1,\"orderId\":5,\"state\":2}",
		"{\"id\":null,\"sentTime\":1,\"orderId\":5,\"state\":2}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		body_refused(bad[i]);
}

static void
test_decode_ref(void **state)
{
	char ref[BUS_REF_MAX + 2], body[512], msg[600];
	bus_event e;

	(void)state;
	memset(ref, 'r', BUS_REF_MAX);
	ref[BUS_REF_MAX] = '\0';
	snprintf(msg, sizeof msg, "%s {\"id\":\"%s\",\"sentTime\":1,\"orderId\":5,\"state\":2,"
	    "\"ref\":\"%s\"}", TOPIC, UUID_A, ref);
	assert_int_equal(decode(msg, &e), MB_OK);
	assert_string_equal(e.ref, ref);

	ref[BUS_REF_MAX] = 'r';
	ref[BUS_REF_MAX + 1] = '\0';
	snprintf(body, sizeof body, "{\"id\":\"%s\",\"sentTime\":1,\"orderId\":5,\"state\":2,"
	    "\"ref\":\"%s\"}", UUID_A, ref);
	body_refused(body);
	body_refused("{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"state\":2,\"ref\":7}");
	body_refused("{\"id\":\"" UUID_A "\",\"sentTime\":1,\"orderId\":5,\"state\":2,\"ref\":null}");
}

static void
test_decode_sent_time(void **state)
{
	static const char *const bad[] = { "\"1\"", "1.5", "null", "true", "[]" };
	char body[256];
	size_t i;

	(void)state;
	body_refused("{\"id\":\"" UUID_A "\",\"orderId\":5,\"state\":2}");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"sentTime\":%s,\"orderId\":5,\"state\":2}",
		    UUID_A, bad[i]);
		body_refused(body);
	}
}

/* ---- nanomsg, in process ---- */

typedef struct bus_pair {
	char path[96];
	char url[128];
	int  sub, pub;
} bus_pair;

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
setup_pair(void **state)
{
	bus_pair *b = calloc(1, sizeof *b);

	if (b == NULL)
		return -1;
	snprintf(b->path, sizeof b->path, "/tmp/mb-test-bus-%d.ipc", (int)getpid());
	snprintf(b->url, sizeof b->url, "ipc://%s", b->path);
	b->pub = -1;
	if ((b->sub = bus_sub_open(b->url, 1000)) < 0 || (b->pub = bus_pub_open(b->url)) < 0) {
		if (b->sub >= 0)
			nn_close(b->sub);
		unlink(b->path);
		free(b);
		return -1;
	}
	sleep_ms(200); /* PUB connects asynchronously; earlier messages are dropped */
	*state = b;
	return 0;
}

static int
teardown_pair(void **state)
{
	bus_pair *b = *state;

	nn_close(b->pub);
	nn_close(b->sub);
	unlink(b->path);
	free(b);
	return 0;
}

/* Receives one message (or fails the test after the 1 s receive timeout). */
static int
recv_msg(int sub, char **buf)
{
	int n = nn_recv(sub, buf, NN_MSG, 0);

	if (n < 0)
		fail_msg("nothing received: %s", nn_strerror(nn_errno()));
	return n;
}

static void
test_pubsub_delivers_event(void **state)
{
	bus_pair *b = *state;
	bus_event sent = event(UUID_A, (int64_t)time(NULL), 12345, "req-pubsub"), got;
	char *buf = NULL;
	int n;

	assert_int_equal(bus_publish(b->pub, &sent), MB_OK);
	n = recv_msg(b->sub, &buf);
	if (bus_decode(buf, (size_t)n, &got, NULL) != MB_OK)
		fail_msg("received message refused: %.*s", n, buf);
	assert_event_equal(&got, &sent);
	nn_freemsg(buf);
}

/* The SUB socket filters on the topic: another topic never reaches the listener. */
static void
test_pubsub_filters_topic(void **state)
{
	static const char other[] = "mu.micro.book.topic.order.new " BODY;
	bus_pair *b = *state;
	bus_event sent = event(UUID_A, 7, 99, "after-other"), got;
	char *buf = NULL;
	int n;

	assert_int_equal(nn_send(b->pub, other, strlen(other), 0), (int)strlen(other));
	assert_int_equal(bus_publish(b->pub, &sent), MB_OK);
	n = recv_msg(b->sub, &buf);
	if (bus_decode(buf, (size_t)n, &got, NULL) != MB_OK)
		fail_msg("received message refused: %.*s", n, buf);
	assert_event_equal(&got, &sent);
	nn_freemsg(buf);
	/* Nothing else is waiting. */
	assert_int_equal(nn_recv(b->sub, &buf, NN_MSG, NN_DONTWAIT), -1);
	assert_int_equal(nn_errno(), EAGAIN);
}

/* Several events arrive in order, each intact. */
static void
test_pubsub_several(void **state)
{
	bus_pair *b = *state;
	int i;

	for (i = 1; i <= 5; i++) {
		bus_event sent = event(UUID_A, i, 1000 + i, "seq");

		assert_int_equal(bus_publish(b->pub, &sent), MB_OK);
	}
	for (i = 1; i <= 5; i++) {
		bus_event got;
		char *buf = NULL;
		int n = recv_msg(b->sub, &buf);

		assert_int_equal(bus_decode(buf, (size_t)n, &got, NULL), MB_OK);
		assert_int_equal(got.order_id, 1000 + i);
		assert_int_equal(got.sent_time, i);
		nn_freemsg(buf);
	}
}

/* With no listener bound, publishing drops the event at once instead of blocking. */
static void
test_publish_without_listener(void **state)
{
	char url[128];
	bus_event e = event(UUID_A, 1, 5, "nobody");
	struct timespec t0, t1;
	int pub;
	long ms;

	(void)state;
	snprintf(url, sizeof url, "ipc:///tmp/mb-test-bus-none-%d.ipc", (int)getpid());
	pub = bus_pub_open(url);
	assert_true(pub >= 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(bus_publish(pub, &e), MB_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 100);
	nn_close(pub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_message_shape),
		cmocka_unit_test(test_decode_hand_written),
		cmocka_unit_test(test_decode_only_len_bytes),
		cmocka_unit_test(test_decode_unsealed),
		cmocka_unit_test(test_decode_wrong_topic),
		cmocka_unit_test(test_decode_missing_space),
		cmocka_unit_test(test_decode_bad_json),
		cmocka_unit_test(test_decode_state),
		cmocka_unit_test(test_decode_order_id),
		cmocka_unit_test(test_decode_id),
		cmocka_unit_test(test_decode_ref),
		cmocka_unit_test(test_decode_sent_time),
		cmocka_unit_test_setup_teardown(test_pubsub_delivers_event, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_pubsub_filters_topic, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_pubsub_several, setup_pair, teardown_pair),
		cmocka_unit_test(test_publish_without_listener),
	};

	if (mac_init("unit-test-internal-key-0123") != MB_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
