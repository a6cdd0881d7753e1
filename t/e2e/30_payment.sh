#!/usr/bin/env bash
# Payment, the payment.done bus and the orders-listener through nginx:
# pay once, never twice, never lose the event, expire what is not paid.
source "$(dirname "$0")/lib.sh"
A=$TMP/a
B=$TMP/b
new_user "$A"
new_user "$B"
book=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('pay $RANDOM', 2500, 100, 100); SELECT LAST_INSERT_ID();")

order() { api POST /orders/new -b "$1" -d "bookId=$book"; jqb .data.orderId; }
state_is() { api GET "/orders/$2" -b "$1"; [ "$(jqb .data.state)" = "$3" ]; }
paid_count() { sql "SELECT COUNT(*) FROM orders WHERE id IN ($1) AND state = 'paid'"; }
all_paid() { [ "$(paid_count "$1")" = "$2" ]; }

oid=$(order "$A")
api POST /payment/pay-order -b "$A" -d "orderId=$oid"
expect "pay is 200" 200
pay_id=$(jqb .data.paymentId)
check "pay answers orderId, paymentId, amount and state paid" \
	[ "$(jqb '[.data.orderId, .data.amount, .data.state] | map(tostring) | join(":")')" = "$oid:2500:paid" ]
check "the order shows paid within 1 s" wait_for 1 state_is "$A" "$oid" paid
check "paidAt is set" [ "$(jqb .data.paidAt)" != null ]
check "its copy is out (history state 2)" \
	[ "$(sql "SELECT h.state FROM orders o JOIN inventory_history h ON h.id = o.history_id WHERE o.id = $oid")" = 2 ]

api POST /payment/pay-order -b "$A" -d "orderId=$oid"
expect "paying again is 409 ALREADY_PAID" 409 ALREADY_PAID
check "ALREADY_PAID carries the same paymentId" [ "$(jqb .data.paymentId)" = "$pay_id" ]
api POST /payment/pay-order -b "$B" -d "orderId=$oid"
expect "paying another user's order is 404" 404 NOT_FOUND
api POST /orders/cancel -b "$A" -d "orderId=$oid"
expect "cancelling a paid order is 409 ORDER_CLOSED" 409 ORDER_CLOSED

cid=$(order "$A")
api POST /orders/cancel -b "$A" -d "orderId=$cid"
api POST /payment/pay-order -b "$A" -d "orderId=$cid"
expect "paying a cancelled order is 409 ORDER_CLOSED" 409 ORDER_CLOSED
check "no payment for the cancelled order" [ "$(sql "SELECT COUNT(*) FROM payments WHERE order_id = $cid")" = 0 ]

for bad in abc 0 -1 1e3 12abc 99999999999999999999 ""; do
	api POST /payment/pay-order -b "$A" --data-urlencode "orderId=$bad"
	expect "orderId '$bad' is 400" 400 INVALID_ARGUMENT
done
api POST /payment/pay-order -b "$A" -d "orderId=9223372036854775807"
expect "an unknown order is 404" 404 NOT_FOUND
api POST /payment/pay-order -d "orderId=$oid"
expect "paying without a session is 401" 401 UNAUTHENTICATED
api GET /payment/pay-order -b "$A"
expect "GET pay-order is 405" 405 METHOD_NOT_ALLOWED
api POST /payment/pay-order -b "$A" -H 'Content-Type: application/json' -d "{\"orderId\": $(order "$A")}"
expect "a JSON body pays too" 200
api GET /payment/health
expect "payment health is 200" 200

# Twelve concurrent pays of one order: one 200, eleven 409, one payment.
rid=$(order "$A")
seq 12 | xargs -P 12 -I{} curl -s -o /dev/null -w '%{http_code}\n' -b "$A" -d "orderId=$rid" \
	"$BASE/payment/pay-order" >"$TMP/race"
# (one check on the whole tally, so a failure shows every status that came back)
race=$(sort "$TMP/race" | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
check "12 concurrent pays: exactly one 200 and eleven 409" [ "$race" = "200 x1, 409 x11" ]
check "12 concurrent pays: one payment row" [ "$(sql "SELECT COUNT(*) FROM payments WHERE order_id = $rid")" = 1 ]

# Cancel and pay racing on one order: it ends paid or cancelled, never both.
for i in 1 2 3 4 5; do
	xid=$(order "$A")
	curl -s -o /dev/null -b "$A" -d "orderId=$xid" "$BASE/payment/pay-order" &
	curl -s -o /dev/null -b "$A" -d "orderId=$xid" "$BASE/orders/cancel" &
	wait
done
check "pay racing cancel: no payment on a cancelled order" \
	[ "$(sql "SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.state = 'cancelled'")" = 0 ]

# Listener down: 20 pays all 200, then all paid within 5 s of its return.
lpid=$VAR_DIR/run/orders-listener.pid
kill "$(cat "$lpid")"
while kill -0 "$(cat "$lpid")" 2>/dev/null; do sleep 0.1; done
ids=""
codes=""
for i in $(seq 20); do
	id=$(order "$A")
	api POST /payment/pay-order -b "$A" -d "orderId=$id"
	codes="$codes$STATUS "
	ids="$ids${ids:+,}$id"
done
check "listener down: 20 pays all answer 200" [ "$(echo $codes | tr ' ' '\n' | grep -c '^200$')" = 20 ]
check "listener down: none is paid yet (the bus message was lost)" [ "$(paid_count "$ids")" = 0 ]
restart_daemon orders-listener
check "listener back: all 20 are paid within 5 s" wait_for 5 all_paid "$ids" 20

# Expiry: with ORDER_TTL=2 an unpaid order expires, its copy comes back,
# and paying it is ORDER_CLOSED.
restart_daemon orders-listener ORDER_TTL=2
stock_before=$(sql "SELECT stock FROM books WHERE id = $book")
eid=$(order "$A")
check "expiry: an unpaid order becomes expired" wait_for 6 state_is "$A" "$eid" expired
stock_is() { [ "$(sql "SELECT stock FROM books WHERE id = $book")" = "$1" ]; }
check "expiry: its copy is back in stock" wait_for 3 stock_is "$stock_before"
api POST /payment/pay-order -b "$A" -d "orderId=$eid"
expect "expiry: paying an expired order is 409 ORDER_CLOSED" 409 ORDER_CLOSED
api POST /orders/cancel -b "$A" -d "orderId=$eid"
expect "expiry: cancelling an expired order is 409 ORDER_CLOSED" 409 ORDER_CLOSED
restart_daemon orders-listener

finish
