/*
 * fuzz_inv: inv_req_decode on the input as a request off the wire. An
 * accepted request holds only what its method uses, re-encodes, decodes to
 * the same request, and encodes to the same bytes again (the encoding is a
 * fixed point). A refused one gets the reply the daemon sends for it, which
 * must exist and be {"ok": false, ...}. The input as it is never opens as
 * a sealed request (mac.h: that would take the key); sealed under the
 * harness's key it opens to exactly the input.
 */
#include "fuzz.h"
#include "inv.h"
#include "clock.h"
#include "mac.h"

#define FUZZ_KEY "fuzz-internal-key-0123456789"

#include <jansson.h>

static void
fuzz_check_request(const inv_req *q)
{
	FUZZ_CHECK(strlen(q->id) == INV_ID_LEN);
	FUZZ_CHECK(strlen(q->ref) <= INV_REF_MAX);
	switch (q->method) {
	case INV_SELL:
		FUZZ_CHECK(q->book_id > 0 && q->user_id > 0 && q->history_id == 0);
		break;
	case INV_GET:
		FUZZ_CHECK(q->book_id > 0 && q->user_id == 0 && q->history_id == 0);
		break;
	case INV_CONFIRM:
	case INV_RELEASE:
		FUZZ_CHECK(q->history_id > 0 && q->book_id == 0 && q->user_id == 0);
		break;
	case INV_LIST:
	case INV_PING:
		FUZZ_CHECK(q->book_id == 0 && q->user_id == 0 && q->history_id == 0);
		break;
	default:
		FUZZ_CHECK(!"a known method");
	}
}

static void
fuzz_check_same(const inv_req *a, const inv_req *b)
{
	FUZZ_CHECK(strcmp(a->id, b->id) == 0 && strcmp(a->ref, b->ref) == 0);
	FUZZ_CHECK(a->method == b->method && a->book_id == b->book_id);
	FUZZ_CHECK(a->user_id == b->user_id && a->history_id == b->history_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char detail[160], *enc, *enc2; /* the size daemons/inventory decodes into */
	static int keyed;
	const char *payload, *why;
	inv_req q, back;
	size_t plen;
	char *sealed;
	int rc;

	if (!keyed && (keyed = 1) && mac_init(FUZZ_KEY) != MB_OK)
		abort();
	FUZZ_CHECK(mac_open(INV_MAC_REQ, "", clock_wall_s(), (const char *)data, size, &payload, &plen,
	    &why) == MB_DECLINED);
	sealed = mac_seal(INV_MAC_REQ, "", clock_wall_s(), (const char *)data, size);
	FUZZ_CHECK(sealed != NULL);
	plen = (size_t)(strchr(sealed + MAC_HEX_LEN + 1, ' ') + 1 - sealed) + size;
	FUZZ_CHECK(mac_open(INV_MAC_REQ, "", clock_wall_s(), sealed, plen, &payload, &plen, &why) == MB_OK);
	FUZZ_CHECK(plen == size && memcmp(payload, data, size) == 0);
	free(sealed);
	detail[0] = '\0';
	if (inv_req_decode((const char *)data, size, &q, detail, sizeof detail) != MB_OK) {
		char *reply = inv_reply_err(E_INVALID_ARGUMENT, detail);
		json_t *o;

		FUZZ_CHECK(detail[0] != '\0');
		if (reply == NULL)
			FUZZ_NOTE("no reply for the detail: %s", detail);
		FUZZ_CHECK(reply != NULL);
		o = json_loads(reply, 0, NULL);
		FUZZ_CHECK(json_is_false(json_object_get(o, "ok")));
		FUZZ_CHECK(json_is_string(json_object_get(o, "detail")));
		json_decref(o);
		free(reply);
		return 0;
	}
	fuzz_check_request(&q);
	enc = inv_req_encode(&q);
	FUZZ_CHECK(enc != NULL);
	rc = inv_req_decode(enc, strlen(enc), &back, detail, sizeof detail);
	if (rc != MB_OK)
		FUZZ_NOTE("own encoding refused (%s): %s", detail, enc);
	FUZZ_CHECK(rc == MB_OK);
	fuzz_check_same(&q, &back);
	enc2 = inv_req_encode(&back);
	FUZZ_CHECK(enc2 != NULL && strcmp(enc, enc2) == 0);
	free(enc);
	free(enc2);
	return 0;
}
