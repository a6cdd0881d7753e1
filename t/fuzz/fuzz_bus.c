/*
 * fuzz_bus: bus_decode on the input as a message off the SUB socket. An
 * accepted event is a payment.done with a positive order id; it re-encodes
 * to a message that starts with the topic and one space, decodes to the
 * same event, and encodes to the same bytes again.
 */
#include "bus.h"
#include "fuzz.h"

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
	size_t tlen = strlen(BUS_TOPIC_PAYMENT_DONE);
	bus_event e, back;
	char *enc, *enc2;
	int rc;

	if (bus_decode((const char *)data, size, &e) != MB_OK)
		return 0;
	FUZZ_CHECK(size > tlen + 1 && memcmp(data, BUS_TOPIC_PAYMENT_DONE " ", tlen + 1) == 0);
	FUZZ_CHECK(strlen(e.id) == BUS_ID_LEN && strlen(e.ref) <= BUS_REF_MAX);
	FUZZ_CHECK(e.state == BUS_STATE_PAID && e.order_id > 0);
	enc = bus_encode(&e);
	FUZZ_CHECK(enc != NULL);
	FUZZ_CHECK(strncmp(enc, BUS_TOPIC_PAYMENT_DONE " {", tlen + 2) == 0);
	rc = bus_decode(enc, strlen(enc), &back);
	if (rc != MB_OK)
		FUZZ_NOTE("own encoding refused: %s", enc);
	FUZZ_CHECK(rc == MB_OK);
	fuzz_check_same(&e, &back);
	enc2 = bus_encode(&back);
	FUZZ_CHECK(enc2 != NULL && strcmp(enc, enc2) == 0);
	free(enc);
	free(enc2);
	return 0;
}
