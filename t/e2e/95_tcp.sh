#!/usr/bin/env bash
# The internal protocols over tcp:// instead of ipc://: the whole stack is
# restarted with INVENTORY_URL and BUS_URL on loopback TCP ports, and the
# seed's flow (login, order, pay, paid through the bus) still works. Then a
# stranger on those ports (t/tools/nnsend, issue 11): an unsealed, wrongly
# keyed or stale Release is refused and the stock does not move; a sealed
# Release or Confirm of a reservation whose order is unpaid is refused too;
# an unsealed or stale Sell writes nothing, and a sealed Sell sent twice
# makes one order; the listener drops an unsealed event and a replayed one.
source "$(dirname "$0")/lib.sh"
J=$TMP/jar
"$ROOT/scripts/stack.sh" stop >/dev/null 2>&1
INVENTORY_URL=tcp://127.0.0.1:$((PORT + 2)) BUS_URL=tcp://127.0.0.1:$((PORT + 3)) \
	"$ROOT/scripts/stack.sh" start >/dev/null
check "the config names tcp:// addresses" grep -q "^INVENTORY_URL=tcp://" "$VAR_DIR/microbook.conf"

new_user "$J"
book=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('tcp $RANDOM', 990, 3, 3); SELECT LAST_INSERT_ID();")
api POST /orders/new -b "$J" -d "bookId=$book"
expect "tcp: an order reserves through the inventory daemon" 201
oid=$(jqb .data.orderId)
api POST /payment/pay-order -b "$J" -d "orderId=$oid"
expect "tcp: pay" 200
paid() { api GET "/orders/$oid" -b "$J"; [ "$(jqb .data.state)" = paid ]; }
check "tcp: the order is paid within 1 s" wait_for 1 paid
api GET /orders/health
expect "tcp: orders health sees the inventory daemon" 200

# ---- a stranger on the internal ports (issue 11) ----
B=${BUILD:-build}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
NN=$B/t/tools/nnsend
IURL=tcp://127.0.0.1:$((PORT + 2))
BURL=tcp://127.0.0.1:$((PORT + 3))
KEY=$(sed -n 's/^INTERNAL_KEY=//p' "$VAR_DIR/microbook.conf")
ILOG=$VAR_DIR/log/inventory.log
LLOG=$VAR_DIR/log/orders-listener.log
check "the config holds an INTERNAL_KEY of 16+ characters" [ "${#KEY}" -ge 16 ]
check "internal.key is 0600" [ "$(stat -c %a "$VAR_DIR/internal.key")" = 600 ]
book2=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('tcp2 $RANDOM', 990, 3, 3); SELECT LAST_INSERT_ID();")
api POST /orders/new -b "$J" -d "bookId=$book2"
expect "tcp: an unpaid order" 201
oid2=$(jqb .data.orderId)
hid=$(sql "SELECT history_id FROM orders WHERE id = $oid2")
stock() { sql "SELECT stock FROM books WHERE id = $book2"; }
hstate() { sql "SELECT state FROM inventory_history WHERE id = $hid"; }
uuid() { cat /proc/sys/kernel/random/uuid; }
release() { printf '{"id":"%s","method":"Release","historyId":%s}' "$(uuid)" "$hid"; }
check "the reservation holds one copy" [ "$(stock)" = 2 ]

out=$("$NN" req "$IURL" "$(release)")
check "an unsealed Release is refused (UNAUTHENTICATED): $out" grep -q '"code":"UNAUTHENTICATED"' <<<"$out"
out=$("$NN" req "$IURL" "$(release)" "a-stranger-key-0123456789")
check "a Release sealed with another key is refused: $out" grep -q '"detail":"bad mac"' <<<"$out"
out=$("$NN" req "$IURL" "$(release)" "$KEY" $(( $(date +%s) - 120 )))
check "a Release sealed 120 s ago (a replay) is refused: $out" grep -q 'time outside the window' <<<"$out"
out=$("$NN" req "$IURL" "$(release)" "$KEY")
check "a sealed Release of an unpaid order's reservation is refused: $out" \
	grep -q '^opened: .*"code":"FORBIDDEN"' <<<"$out"
msg=$(printf '{"id":"%s","method":"Confirm","historyId":%s}' "$(uuid)" "$hid")
out=$("$NN" req "$IURL" "$msg" "$KEY")
check "a sealed Confirm of a reservation without a payment is refused: $out" \
	grep -q '^opened: .*"code":"FORBIDDEN"' <<<"$out"
confirm_many() { printf '{"id":"%s","method":"Confirm","historyIds":[%s]}' "$(uuid)" "$1"; }
paid_hid=$(sql "SELECT history_id FROM orders WHERE id = $oid")
out=$("$NN" req "$IURL" "$(confirm_many "$hid,$paid_hid")" "$KEY")
check "a sealed batched Confirm sells nothing without a payment (notSold): $out" \
	grep -q "^opened: .*\"changed\":0,\"notSold\":\[$hid\]" <<<"$out"
out=$("$NN" req "$IURL" "$(printf '{"id":"%s","method":"Confirm","historyId":%s}' "$(uuid)" "$paid_hid")" "$KEY")
check "a Confirm of a paid order's sold reservation changes nothing: $out" \
	grep -q '^opened: .*"changed":false' <<<"$out"
check "the stock did not move" [ "$(stock)" = 2 ]
check "the reservation is still reserved" [ "$(hstate)" = 1 ]
check "the inventory logged the refusals with their reasons" \
	sh -c "grep 'refused a request' '$ILOG' | grep -q 'bad mac' && grep 'refused a request' '$ILOG' | grep -q 'time outside'"
# A Sell makes a whole order now (reservation and order row, one
# transaction): unsealed it is refused and writes nothing; sealed and sent
# twice with the same bytes (a capture replayed inside the window, or
# nanomsg REQ's own re-send) it makes one order and answers it both times.
JUID=$(sql "SELECT id FROM users WHERE name = '$UNAME'")
orders_of() { sql "SELECT COUNT(*) FROM orders WHERE user_id = $JUID"; }
n0=$(orders_of)
sell=$(printf '{"id":"%s","method":"Sell","bookId":%s,"userId":%s,"idemKey":"forged"}' "$(uuid)" "$book2" "$JUID")
out=$("$NN" req "$IURL" "$sell")
check "an unsealed Sell is refused (UNAUTHENTICATED): $out" grep -q '"code":"UNAUTHENTICATED"' <<<"$out"
out=$("$NN" req "$IURL" "$sell" "$KEY" $(( $(date +%s) - 120 )))
check "a Sell sealed 120 s ago is refused: $out" grep -q 'time outside the window' <<<"$out"
check "the refused Sells wrote nothing" [ "$(orders_of):$(stock)" = "$n0:2" ]
t=$(date +%s)
first=$("$NN" req "$IURL" "$sell" "$KEY" "$t" | sed -n 's/^opened: //p')
again=$("$NN" req "$IURL" "$sell" "$KEY" "$t" | sed -n 's/^opened: //p')
soid=$(jq -r .orderId <<<"$first")
check "a sealed Sell makes an order: $first" [ "$(jq -r '.ok and .kept == false' <<<"$first")" = true ]
check "the same Sell again answers the same order: $again" [ "$(jq -r .orderId <<<"$again")" = "$soid" ]
check "... one order and one copy for both" [ "$(orders_of):$(stock)" = "$((n0 + 1)):1" ]
check "... an ordinary unpaid order of that user, with its reservation" \
	[ "$(sql "SELECT CONCAT(o.state, ':', h.state) FROM orders o JOIN inventory_history h
		ON h.id = o.history_id WHERE o.id = $soid AND o.user_id = $JUID AND o.idem_key = 'forged'")" = unpaid:1 ]
api POST /orders/new -b "$J" -H "Idempotency-Key: forged" -d "bookId=$book2"
check "the user's own retry with that key finds it (200, the same order)" \
	[ "$STATUS:$(jqb .data.orderId)" = "200:$soid" ]
api POST /orders/cancel -b "$J" -d "orderId=$soid"
expect "the user can cancel it" 200
api POST /orders/cancel -b "$J" -d "orderId=$oid2"
expect "tcp: the order's own cancel still releases its copy" 200
back() { [ "$(stock)" = 3 ]; }
check "the copy is back in stock after the cancel" wait_for 2 back
out=$("$NN" req "$IURL" "$(printf '{"id":"%s","method":"Confirm","historyId":%s}' "$(uuid)" "$hid")" "$KEY")
check "a Confirm of a released reservation is refused (ORDER_CLOSED): $out" \
	grep -q '^opened: .*"code":"ORDER_CLOSED"' <<<"$out"
out=$("$NN" req "$IURL" "$(confirm_many "$hid")" "$KEY")
check "a batched Confirm of a released reservation lists it notSold: $out" \
	grep -q "^opened: .*\"notSold\":\[$hid\]" <<<"$out"

ev=$(printf '{"id":"%s","sentTime":%s,"orderId":%s,"state":2,"ref":"forged"}' "$(uuid)" "$(date +%s)" "$oid2")
"$NN" pub "$BURL" "mu.micro.book.topic.payment.done $ev"
t=$(date +%s)
"$NN" pub "$BURL" "$ev" "$KEY" "$t"
"$NN" pub "$BURL" "$ev" "$KEY" "$t"
dropped() { grep -q 'dropped a bus message.*malformed envelope' "$LLOG" && grep -q 'dropped a bus message: event .* replayed' "$LLOG"; }
check "the listener drops an unsealed event and a replayed one" wait_for 2 dropped
api GET "/orders/$oid2" -b "$J"
check "the cancelled order stays cancelled" [ "$(jqb .data.state)" = cancelled ]

"$ROOT/scripts/stack.sh" stop >/dev/null 2>&1
"$ROOT/scripts/stack.sh" start >/dev/null
finish
