#!/usr/bin/env bash
# The answers workers keep (GET /orders/books, GET /orders; lib/cache.h) are
# never behind a change made through the services: every worker is warmed
# first (more requests than workers), then each change must show in every
# answer at once. A change made by hand in SQL shows within the cache's
# lifetime (1 s).
source "$(dirname "$0")/lib.sh"
A=$TMP/a
B=$TMP/b
new_user "$A"
new_user "$B"
N=16 # requests in a row: more than the workers of a service, so each answers
book=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('cache $RANDOM', 700, 10, 10); SELECT LAST_INSERT_ID();")

book_stock() { api GET /orders/books; jqb ".data.books[] | select(.bookId == $1) | .stock"; }
# every_books BOOK STOCK: N answers in a row all show that stock
every_books() { local i; for i in $(seq $N); do [ "$(book_stock "$1")" = "$2" ] || return 1; done; }
list_state() { api GET "/orders${3:-}" -b "$1"; jqb ".data.orders[] | select(.orderId == $2) | .state"; }
# every_list JAR ORDER STATE [QUERY]: N list answers in a row all show the order in that state
every_list() { local i; for i in $(seq $N); do [ "$(list_state "$1" "$2" "${4:-}")" = "$3" ] || return 1; done; }

check "books: every worker shows the stock (warmed)" every_books "$book" 10
api POST /orders/new -b "$A" -d "bookId=$book"
expect "an order is 201" 201
oid=$(jqb .data.orderId)
check "books: right after an order, every answer shows one copy less" every_books "$book" 9
api POST /orders/cancel -b "$A" -d "orderId=$oid"
expect "a cancel is 200" 200
check "books: right after a cancel, every answer shows the copy back" every_books "$book" 10

hand=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('by hand $RANDOM', 800, 3, 3); SELECT LAST_INSERT_ID();")
check "books: a book added by hand in SQL shows in every answer within 2 s" wait_for 2 every_books "$hand" 3

# GET /orders: warmed with the cancelled order, then a new order, a pay, a cancel.
check "list: every worker shows the cancelled order (warmed)" every_list "$A" "$oid" cancelled
api POST /orders/new -b "$A" -d "bookId=$book"
o2=$(jqb .data.orderId)
check "list: right after an order, every answer holds it, unpaid" every_list "$A" "$o2" unpaid
api GET /orders -b "$B"
check "list: another user's list, asked in between, does not hold it" \
	[ "$(jqb "[.data.orders[] | select(.orderId == $o2)] | length")" = 0 ]
api POST /payment/pay-order -b "$A" -d "orderId=$o2"
expect "a pay is 200" 200
detail_paid() { api GET "/orders/$o2" -b "$A"; [ "$(jqb .data.state)" = paid ]; }
check "the order is paid within 1 s" wait_for 1 detail_paid
check "list: once the order is paid, every answer shows it paid" every_list "$A" "$o2" paid
api POST /orders/new -b "$A" -d "bookId=$book"
o3=$(jqb .data.orderId)
check "list: a page of one holds the newest order (its own cache entry)" every_list "$A" "$o3" unpaid "?limit=1"
api GET "/orders?limit=1" -b "$A"
check "list: the page of one holds only it" [ "$(jqb '.data.orders | length'):$(jqb .data.next)" = "1:$o3" ]
api POST /orders/cancel -b "$A" -d "orderId=$o3"
check "list: right after a cancel, every answer shows it cancelled" every_list "$A" "$o3" cancelled

# Expiry by the orders-listener also refreshes the lists. (ORDER_TTL leaves
# time to warm every worker first, also on 2 busy cores.)
restart_daemon orders-listener ORDER_TTL=6
api POST /orders/new -b "$A" -d "bookId=$book"
o4=$(jqb .data.orderId)
check "list: a new order shows unpaid (warmed)" every_list "$A" "$o4" unpaid
detail_expired() { api GET "/orders/$o4" -b "$A"; [ "$(jqb .data.state)" = expired ]; }
check "the unpaid order expires" wait_for 12 detail_expired
check "list: once it expired, every answer shows it expired" every_list "$A" "$o4" expired
restart_daemon orders-listener

# A session logged out is refused even though its list is kept by every worker.
api POST /user/logout -b "$A"
expect "logout is 200" 200
api GET /orders -b "$A"
expect "a logged-out session's kept list is not served: 401" 401 UNAUTHENTICATED

finish
