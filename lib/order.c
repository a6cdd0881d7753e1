/* order: see order.h. */
#include "order.h"
#include "states.h"

#include <string.h>

/* The procedures' first column: what happened. */
static int
order_status(const char *s)
{
	if (strcmp(s, "ok") == 0)
		return MB_OK;
	if (strcmp(s, "none") == 0)
		return MB_NONE;
	if (strcmp(s, "paid") == 0 || strcmp(s, "closed") == 0)
		return MB_DECLINED;
	return MB_ERROR;
}

int
order_pay(db *d, int64_t id, int64_t uid, const char *ev_id, int64_t sent_time,
    const char *ref, order_info *o)
{
	char status[8];
	db_try t;
	int rc;

	memset(o, 0, sizeof *o);
	db_try_start(&t);
	do
		rc = db_row(d, "CALL order_pay(?, ?, ?, ?, ?)", "iisis", "siis", id, uid, ev_id,
		    sent_time, ref, status, sizeof status, &o->payment_id, &o->unit_price, o->state,
		    sizeof o->state);
	while (db_try_again(&t, rc));
	return rc == MB_OK ? order_status(status) : rc == MB_NONE ? MB_ERROR : rc;
}

int
order_close(db *d, int64_t id, int64_t uid, const char *state, order_info *o)
{
	char status[8];
	db_try t;
	int rc;

	memset(o, 0, sizeof *o);
	db_try_start(&t);
	do
		rc = db_row(d, "CALL order_close(?, ?, ?)", "iis", "ssiiiit", id, uid, state, status,
		    sizeof status, o->state, sizeof o->state, &o->history_id, &o->user_id,
		    &o->book_id, &o->unit_price, o->created, sizeof o->created);
	while (db_try_again(&t, rc));
	return rc == MB_OK ? order_status(status) : rc == MB_NONE ? MB_ERROR : rc;
}
