/*
 * fuzz_bus: bus_decode on the input as a message off the SUB socket, twice:
 * as it is (the envelope parser: nobody without the key gets through) and,
 * when it starts with the topic and one space, with the rest sealed under
 * the harness's key (mac.h), so the JSON decoder behind the envelope is
 * fuzzed too. An accepted event is a payment.done with a positive order id;
 * it re-encodes to a message that starts with the topic and one space,
 * decodes to the same event, and encodes to the same body again.
 */
#include "bus.h"
#include "fuzz.h"
#include "clock.h"
#include "mac.h"

#define FUZZ_KEY "fuzz-internal-key-0123456789"

/* The body of an encoded message: after the topic, the mac and the time. */
static const char *
fuzz_body(const char *enc)
{
	const char *p = enc + strlen(BUS_TOPIC_PAYMENT_DONE) + 1 + MAC_HEX_LEN + 1;

	p = strchr(p, ' ');
	FUZZ_CHECK(p != NULL);
	return p + 1;
}

static void
fuzz_check_same(const bus_event *a, const bus_event *b)
{
	FUZZ_CHECK(strcmp(a->id, b->id) == 0 && strcmp(a->ref, b->ref) == 0);
	FUZZ_CHECK(a->sent_time == b->sent_time && a->order_id == b->order_id);
	FUZZ_CHECK(a->state == b->state);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int keyed;
	size_t tlen = strlen(BUS_TOPIC_PAYMENT_DONE), slen;
	bus_event e, back;
	char *enc, *enc2, *sealed, *msg;
	const char *why;
	int rc;

	if (!keyed && (keyed = 1) && mac_init(FUZZ_KEY) != MB_OK)
		abort();
	/* a stranger's message never passes: that would take the key */
	FUZZ_CHECK(bus_decode((const char *)data, size, &e, &why) == MB_DECLINED);
	FUZZ_CHECK(why != NULL);
	if (size <= tlen || memcmp(data, BUS_TOPIC_PAYMENT_DONE " ", tlen + 1) != 0)
		return 0;
	sealed = mac_seal(BUS_MAC, BUS_TOPIC_PAYMENT_DONE, clock_wall_s(), (const char *)data + tlen + 1,
	    size - tlen - 1);
	FUZZ_CHECK(sealed != NULL);
	/* the envelope's head, then the body (which may hold a NUL byte: keep its length) */
	slen = (size_t)(strchr(sealed + MAC_HEX_LEN + 1, ' ') + 1 - sealed) + size - tlen - 1;
	msg = malloc(tlen + 1 + slen);
	FUZZ_CHECK(msg != NULL);
	memcpy(msg, data, tlen + 1);
	memcpy(msg + tlen + 1, sealed, slen);
	free(sealed);
	rc = bus_decode(msg, tlen + 1 + slen, &e, &why);
	free(msg);
	if (rc != MB_OK)
		return 0;
	FUZZ_CHECK(strlen(e.id) == BUS_ID_LEN && strlen(e.ref) <= BUS_REF_MAX);
	FUZZ_CHECK(e.state == BUS_STATE_PAID && e.order_id > 0);
	enc = bus_encode(&e);
	FUZZ_CHECK(enc != NULL);
	FUZZ_CHECK(strncmp(enc, BUS_TOPIC_PAYMENT_DONE " ", tlen + 1) == 0);
	FUZZ_CHECK(*fuzz_body(enc) == '{');
	rc = bus_decode(enc, strlen(enc), &back, NULL);
	if (rc != MB_OK)
		FUZZ_NOTE("own encoding refused: %s", enc);
	FUZZ_CHECK(rc == MB_OK);
	fuzz_check_same(&e, &back);
	enc2 = bus_encode(&back);
	FUZZ_CHECK(enc2 != NULL && strcmp(fuzz_body(enc), fuzz_body(enc2)) == 0);
	free(enc);
	free(enc2);
	return 0;
}
