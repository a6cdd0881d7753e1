/* order: see order.h. */
#include "order.h"
#include "states.h"

#include <string.h>

int
order_lock_begin(db *d, int64_t id, int64_t uid, order_lock *o)
{
	int rc, no_payment = 1;

	if ((rc = db_begin(d)) != MB_OK)
		return rc;
	rc = db_row(d, "SELECT o.state, o.history_id, o.unit_price, o.user_id, p.id FROM orders o "
	    "LEFT JOIN payments p ON p.order_id = o.id WHERE o.id = ? AND (o.user_id = ? OR ? = 0) "
	    "FOR UPDATE", "iii", "siiin", id, uid, uid, o->state, sizeof o->state, &o->history_id,
	    &o->unit_price, &o->user_id, &o->payment_id, &no_payment);
	if (rc != MB_OK) {
		db_rollback(d);
		return rc;
	}
	if (no_payment)
		o->payment_id = 0;
	if (o->payment_id != 0 || strcmp(o->state, ORDER_UNPAID) != 0) {
		db_rollback(d);
		return MB_DECLINED;
	}
	return MB_OK;
}
