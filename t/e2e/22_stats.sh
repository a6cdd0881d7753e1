#!/usr/bin/env bash
# The inventory daemon's own count of the requests it served (issue 14;
# `make bench` reads round trips per order from it): INVENTORY_STATS is
# rewritten within a second of a change and at once on SIGUSR2, which does
# not stop the daemon; each order is one request to it, each cancel one
# Release, each /orders/health one Ping.
source "$(dirname "$0")/lib.sh"
J=$TMP/jar
new_user "$J"
STATS=$(sed -n 's/^INVENTORY_STATS=//p' "$VAR_DIR/microbook.conf")
check "make run names a stats file in the run folder" [ "$STATS" = "$VAR_DIR/run/ipc/inventory.stats" ]
# the daemon (multiwatch's child) and its count of one line of the file
daemon() { ps -o pid= --ppid "$(cat "$VAR_DIR/run/inventory.pid")" | tr -d ' ' | head -1; }
count() { awk -v k="$1" '$1 == k { print $2 }' "$STATS" 2>/dev/null; }
# fresh: SIGUSR2, then waits until the file shows that signal
fresh() {
	local s0
	s0=$(count signals)
	kill -USR2 "$(daemon)"
	wait_for 2 eval '[ "$(count signals)" != "$s0" ]'
}
pid=$(daemon)
check "the stats file exists and names the daemon" wait_for 2 eval '[ "$(count pid)" = "$pid" ]'
fresh
check "SIGUSR2 rewrites the file at once" [ -n "$(count signals)" ]
rel0=$(count Release) ping0=$(count Ping) all0=$(count requests)

book=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('stats $RANDOM', 500, 5, 5); SELECT LAST_INSERT_ID();")
api POST /orders/new -b "$J" -d "bookId=$book"
expect "an order" 201
oid=$(jqb .data.orderId)
api POST /orders/new -b "$J" -d "bookId=$book"
expect "a second order" 201
# without a signal, the file catches up within a second or so
check "two orders are two requests served, written without a signal" \
	wait_for 3 eval '[ "$(count requests)" = $((all0 + 2)) ]'
api POST /orders/cancel -b "$J" -d "orderId=$oid"
expect "a cancel" 200
api GET /orders/health
expect "health" 200
fresh
check "a cancel is one Release" [ "$(count Release)" = $((rel0 + 1)) ]
check "a health check is one Ping" [ "$(count Ping)" = $((ping0 + 1)) ]
check "requests is the sum of what was served" [ "$(count requests)" = $((all0 + 4)) ]
check "SIGUSR2 did not stop the daemon" [ "$(daemon)" = "$pid" ]
api POST /orders/new -b "$J" -d "bookId=$book"
expect "orders still work after the signals" 201
finish
