#!/usr/bin/env bash
# The internal protocols over tcp:// instead of ipc://: the whole stack is
# restarted with INVENTORY_URL and BUS_URL on loopback TCP ports, and the
# seed's flow (login, order, pay, paid through the bus) still works.
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

"$ROOT/scripts/stack.sh" stop >/dev/null 2>&1
"$ROOT/scripts/stack.sh" start >/dev/null
finish
