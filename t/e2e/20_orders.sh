#!/usr/bin/env bash
# Orders and inventory through nginx: browse, order, list, detail, cancel,
# ownership, bad ids, idempotency, sold out, an order storm that sells
# exactly the stock, and the inventory daemon stopped.
source "$(dirname "$0")/lib.sh"
A=$TMP/a
B=$TMP/b
new_user "$A"
new_user "$B"

stock() { sql "SELECT stock FROM books WHERE id = $1"; }
stock_is() { [ "$(stock "$1")" = "$2" ]; }
# a fresh book with stock $1, so tests do not depend on each other
new_book() { sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('e2e $RANDOM', 1234, $1, $1); SELECT LAST_INSERT_ID();"; }

api GET /orders/books
expect "books without a session is 200" 200
check "books lists the demo books with title, price and stock" \
	[ "$(jqb '[.data.books[] | select(.title != null and .unitPrice > 0 and .stock >= 0)] | length')" -ge 5 ]

book=$(new_book 5)
api POST /orders/new -b "$A" -d "bookId=$book"
expect "order a book is 201" 201
oid=$(jqb .data.orderId)
check "the order is unpaid at the book's price" [ "$(jqb '.data.state + ":" + (.data.unitPrice|tostring) + ":" + (.data.paidAt|tostring)')" = "unpaid:1234:null" ]
check "createdAt is ISO 8601 UTC with milliseconds" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$' <<<"$(jqb .data.createdAt)"
check "one copy is reserved" [ "$(stock "$book")" = 4 ]

api GET /orders -b "$A"
expect "list is 200" 200
check "the list holds the order" [ "$(jqb "[.data.orders[] | select(.orderId == $oid)] | length")" = 1 ]
api GET "/orders/$oid" -b "$A"
expect "detail is 200" 200
check "detail is the order" [ "$(jqb .data.orderId)" = "$oid" ]

api GET "/orders/$oid" -b "$B"
expect "another user's order is 404" 404 NOT_FOUND
api GET /orders -b "$B"
check "another user's list does not show it" [ "$(jqb "[.data.orders[] | select(.orderId == $oid)] | length")" = 0 ]
api POST /orders/cancel -b "$B" -d "orderId=$oid"
expect "cancelling another user's order is 404" 404 NOT_FOUND

api POST /orders/cancel -b "$A" -d "orderId=$oid"
expect "cancel is 200" 200
check "the order is cancelled" [ "$(jqb .data.state)" = cancelled ]
check "its copy is back in stock" [ "$(stock "$book")" = 5 ]
api POST /orders/cancel -b "$A" -d "orderId=$oid"
expect "cancelling twice is 409 ORDER_CLOSED" 409 ORDER_CLOSED
check "stock is not returned twice" [ "$(stock "$book")" = 5 ]

for bad in abc 0 -1 1e3 12abc 99999999999999999999 9223372036854775808 ""; do
	api POST /orders/new -b "$A" --data-urlencode "bookId=$bad"
	expect "bookId '$bad' is 400" 400 INVALID_ARGUMENT
done
check "a 400 names the field" grep -q bookId <<<"$(jqb .error.detail)"
for bad in abc 0 -1 1e3 12abc 99999999999999999999; do
	api GET "/orders/$bad" -b "$A"
	expect "GET /orders/$bad is 400" 400 INVALID_ARGUMENT
done
api GET "/orders/9223372036854775807" -b "$A"
expect "the largest id is valid but unknown: 404" 404 NOT_FOUND
api POST /orders/new -b "$A" -d "bookId=9223372036854775807"
expect "an unknown book is 404" 404 NOT_FOUND
api POST /orders/new -d "bookId=$book"
expect "ordering without a session is 401" 401 UNAUTHENTICATED
api GET /orders
expect "listing without a session is 401" 401 UNAUTHENTICATED
api GET "/orders?limit=0" -b "$A"
expect "limit=0 is 400" 400 INVALID_ARGUMENT
api GET "/orders?limit=201" -b "$A"
expect "limit=201 is 400" 400 INVALID_ARGUMENT
api GET /orders/new -b "$A"
expect "GET /orders/new is 405" 405 METHOD_NOT_ALLOWED

# Paging: three orders, pages of two, newest first.
pbook=$(new_book 10)
for i in 1 2 3; do api POST /orders/new -b "$B" -d "bookId=$pbook"; done
api GET "/orders?limit=2" -b "$B"
first=$(jqb '[.data.orders[].orderId] | join(",")')
next=$(jqb .data.next)
api GET "/orders?limit=2&before=$next" -b "$B"
second=$(jqb '[.data.orders[].orderId] | join(",")')
check "pages are newest first and do not overlap ($first | $second)" \
	[ "$(echo "$first,$second" | tr , '\n' | sort -rn | uniq | tr '\n' , )" = "$first,$second," ]
check "the last page has next = null" [ "$(jqb .data.next)" = null ]

# Idempotency-Key: the retry returns the same order and reserves once.
ibook=$(new_book 10)
sbook_none=9223372036854775807
api POST /orders/new -b "$A" -H "Idempotency-Key: key-$ibook" -d "bookId=$ibook"
expect "order with an Idempotency-Key is 201" 201
first=$(jqb .data.orderId)
api POST /orders/new -b "$A" -H "Idempotency-Key: key-$ibook" -d "bookId=$ibook"
expect "the retry is 200" 200
check "the retry returns the same order" [ "$(jqb .data.orderId)" = "$first" ]
check "only one copy was reserved" [ "$(stock "$ibook")" = 9 ]
api POST /orders/new -b "$B" -H "Idempotency-Key: key-$ibook" -d "bookId=$ibook"
expect "the same key from another user is a new order" 201
api POST /orders/new -b "$A" -H "Idempotency-Key: $(head -c 65 /dev/zero | tr '\0' k)" -d "bookId=$ibook"
expect "a 65-character Idempotency-Key is 400" 400 INVALID_ARGUMENT
seq 8 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -b "$A" \
	-H "Idempotency-Key: race-$ibook" -d "bookId=$ibook" "$BASE/orders/new" >"$TMP/race"
check "8 concurrent retries of one key make one order" \
	[ "$(sql "SELECT COUNT(*) FROM orders WHERE idem_key = 'race-$ibook'")" = 1 ]
check "... answered once 201 and seven times 200 ($(sort "$TMP/race" | uniq -c | tr '\n' ' '))" \
	[ "$(sort "$TMP/race" | uniq -c | awk '{printf "%s:%s ", $2, $1}')" = "200:7 201:1 " ]
check "... and hold one copy (3 orders of the book in all)" [ "$(stock "$ibook")" = 7 ]
check "... with no reservation beside the orders' (none to release or sweep)" \
	[ "$(sql "SELECT COUNT(*) FROM inventory_history WHERE book_id = $ibook")" = 3 ]
api POST /orders/new -b "$A" -H "Idempotency-Key: race-$ibook" -d "bookId=$sbook_none"
expect "the key again for an unknown book is 422 IDEMPOTENCY_KEY_REUSED" 422 IDEMPOTENCY_KEY_REUSED

# Sold out: 409 and nothing written.
sbook=$(new_book 1)
api POST /orders/new -b "$A" -d "bookId=$sbook"
expect "the last copy sells" 201
before=$(sql "SELECT COUNT(*) FROM orders"):$(sql "SELECT COUNT(*) FROM inventory_history")
api POST /orders/new -b "$A" -d "bookId=$sbook"
expect "a sold-out book is 409 OUT_OF_STOCK" 409 OUT_OF_STOCK
check "a sold-out order writes nothing" \
	[ "$(sql "SELECT COUNT(*) FROM orders"):$(sql "SELECT COUNT(*) FROM inventory_history")" = "$before" ]

# Storm: S + 30 concurrent orders from several users sell exactly S.
S=40
storm=$(new_book $S)
for i in 1 2 3 4 5 6; do new_user "$TMP/s$i"; done
seq $((S + 30)) | xargs -P 24 -I{} sh -c \
	'curl -s -o /dev/null -w "%{http_code}\n" -b "$0/s$(( {} % 6 + 1 ))" -d "bookId=$1" "$2/orders/new"' \
	"$TMP" "$storm" "$BASE" >"$TMP/storm"
echo "# storm answers: $(sort "$TMP/storm" | uniq -c | tr '\n' ' ')"
check "storm: exactly $S x 201" [ "$(grep -c '^201$' "$TMP/storm")" = $S ]
check "storm: exactly 30 x 409" [ "$(grep -c '^409$' "$TMP/storm")" = 30 ]
check "storm: stock ends at 0" [ "$(stock "$storm")" = 0 ]
check "storm: exactly $S reservations" [ "$(sql "SELECT COUNT(*) FROM inventory_history WHERE book_id = $storm")" = $S ]
check "storm: exactly $S orders" [ "$(sql "SELECT COUNT(*) FROM orders WHERE book_id = $storm")" = $S ]

# The inventory daemon stopped: 503 within 3 s, no order written; back after restart.
dbook=$(new_book 3)
# an order cancelled while it is down: the cancel stands, its copy's
# Release fails, and the sweep gives the copy back once the daemon is back
cbook=$(new_book 2)
new_user "$TMP/cu"
api POST /orders/new -b "$TMP/cu" -d "bookId=$cbook"
expect "an order before the daemon stops is 201" 201
coid=$(jqb .data.orderId)
pidf=$VAR_DIR/run/inventory.pid
kill "$(cat "$pidf")"
while kill -0 "$(cat "$pidf")" 2>/dev/null; do sleep 0.1; done
api POST /orders/cancel -b "$TMP/cu" -d "orderId=$coid"
expect "inventory down: a cancel is still 200 (its Release is best effort)" 200
check "inventory down: the cancelled order's copy is not back yet" [ "$(stock "$cbook")" = 1 ]
orders_before=$(sql "SELECT COUNT(*) FROM orders")
t0=$(date +%s%N)
api POST /orders/new -b "$A" -d "bookId=$dbook"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "inventory down: order is 503 UNAVAILABLE" 503 UNAVAILABLE
check "inventory down: answered within 3 s (took $ms ms)" [ "$ms" -lt 3000 ]
check "inventory down: no order written" [ "$(sql "SELECT COUNT(*) FROM orders")" = "$orders_before" ]
api GET /orders/health
expect "inventory down: health is 503" 503 UNAVAILABLE
check "health names the inventory as down" [ "$(jqb .data.inventory)" = down ]
restart_daemon inventory
wait_for 5 curl -sf -o /dev/null "$BASE/orders/health"
api POST /orders/new -b "$A" -d "bookId=$dbook"
expect "inventory back: orders work again without restarting anything else" 201
# the sweep reads orders closed more than 3 s ago (SWEEP_CLOSED_SETTLE_S), every 2 s
check "inventory back: the sweep gives the copy of the order cancelled while it was down back" \
	wait_for 20 stock_is "$cbook" 2

# An orphan reservation (older data: before sql/007 a Sell was applied and
# the order written after it, so a crash in between left one) is swept: one
# that is there when the daemon starts by its first sweep, and one made
# while it runs once it is SWEEP_GRACE old (the sweep reads each
# reservation once on its way past the grace, not all of them every time).
obook=$(new_book 3)
sql "UPDATE books SET stock = stock - 1 WHERE id = $obook;
     INSERT INTO inventory_history (book_id, user_id, state, req_id, created_at, updated_at)
     VALUES ($obook, 1, 1, UUID(), UTC_TIMESTAMP(3) - INTERVAL 1 HOUR, UTC_TIMESTAMP(3))"
restart_daemon inventory
check "an orphan reservation there at the start is released by the first sweep" \
	wait_for 6 stock_is "$obook" 3
sql "UPDATE books SET stock = stock - 1 WHERE id = $obook;
     INSERT INTO inventory_history (book_id, user_id, state, req_id, created_at, updated_at)
     VALUES ($obook, 1, 1, UUID(), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
check "an orphan reservation made later is released once past the grace" \
	wait_for $((${SWEEP_GRACE:-5} + 6)) stock_is "$obook" 3

finish
