#!/usr/bin/env bash
# `make cluster-check`: what several hosts must keep true, against the
# cluster scripts/cluster.sh started (network namespaces; see
# docs/SCALING.md). Every request comes from the client namespace; host 1 is
# EDGE_PORT+1 (its first database node db1), host 2 EDGE_PORT+2 (db2).
# Prints "ok - ..." / "not ok - ..." and ends with "N passed, N failed".
set -u
: "${CLUSTER_DIR:?run through scripts/cluster.sh check}" "${EDGE:?}" "${EDGE_PORT:?}" "${NS:?}"
CLUSTER_DB=${CLUSTER_DB:-galera}
RACES=${CLUSTER_RACES:-50}
H1=http://$EDGE:$((EDGE_PORT + 1))
H2=http://$EDGE:$((EDGE_PORT + 2))
export BASE=$H1 VAR_DIR=$CLUSTER_DIR/db1
# lib.sh's api, expect, jqb, wait_for ... with curl run in the client namespace
curl() { ip netns exec "${NS}client" curl "$@"; }
source "$(dirname "$0")/../e2e/lib.sh"
PASSED=0
ok()   { echo "ok - $1"; PASSED=$((PASSED + 1)); }
nodes() { if [ "$CLUSTER_DB" = single ]; then echo 1; else echo 1 2 3; fi; }
# nsql N QUERY: on database node N, after it has applied what others committed
nsql() {
	mariadb --no-defaults --socket="$CLUSTER_DIR/db$1/run/mysql.sock" -u root -N -B microbook \
		-e "$( [ "$CLUSTER_DB" = single ] || echo 'SET SESSION wsrep_sync_wait = 1;') $2"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# within MS NAME COMMAND...: ok when COMMAND, polled from now on, succeeds
# in an attempt that started at most MS milliseconds from now (the time an
# attempt itself takes, a namespace hop and curl and jq, is the test's own)
within() {
	local ms=$1 n=$2 t0 ta t
	shift 2
	t0=$(now_ms)
	while :; do
		ta=$(($(now_ms) - t0))
		if "$@"; then
			if [ "$ta" -le "$ms" ]; then ok "$n (seen by a request sent after ${ta} ms)"
			else fail "$n" "first seen by a request sent after ${ta} ms"; fi
			return
		fi
		t=$(($(now_ms) - t0))
		[ "$t" -gt $((ms * 4 + 1000)) ] && { fail "$n" "not after ${t} ms: $STATUS ${BODY:0:200}"; return; }
		sleep 0.02
	done
}
# on HOST METHOD PATH [curl args]: api against one host
on() { local b=$BASE; BASE=$1; shift; api "$@"; BASE=$b; }

J=$TMP/jar
# a user of our own, registered through the edge (either host)
BASE=http://$EDGE:$EDGE_PORT new_user "$J"
expect "register and log in through the edge" 200

# --- sessions across hosts --------------------------------------------------
on "$H1" POST /user/login -c "$J" -d "userName=$UNAME" -d "pwd=password-$UNAME"
expect "log in through host 1" 200
on "$H2" GET /user/me -b "$J"
expect "/user/me through host 2 with host 1's cookie" 200
[ "$(jqb .data.userName)" = "$UNAME" ] && ok "host 2 knows the user" || fail "host 2 knows the user" "$BODY"
# every worker of host 2 warmed with the session
for i in $(seq 12); do curl -s -o /dev/null -b "$J" "$H2/user/me" & done; wait
cp "$J" "$TMP/old"
on "$H1" POST /user/logout -b "$J"
expect "log out through host 1" 200
refused() { on "$H2" GET /user/me -b "$TMP/old"; [ "$STATUS" = 401 ]; }
within 250 "host 2 refuses the logged-out cookie" refused
bad=0
for i in $(seq 12); do
	s=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/old" "$H2/user/me")
	[ "$s" = 401 ] || bad=$((bad + 1))
done
[ $bad = 0 ] && ok "every worker of host 2 refuses it (12 requests)" || fail "every worker of host 2 refuses it" "$bad of 12 answered otherwise"
on "$H1" POST /user/login -c "$J" -d "userName=$UNAME" -d "pwd=password-$UNAME"

# --- orders, cancels and payments across hosts -------------------------------
BOOK=$(nsql 1 "INSERT INTO books (title, unit_price, stock, initial_stock)
	VALUES ('Cluster check $$', 100, $((RACES + 100)), $((RACES + 100))); SELECT LAST_INSERT_ID()")
stock_on() { on "$1" GET /orders/books; jqb ".data.books[] | select(.bookId == $BOOK) | .stock"; }
state_on() { on "$1" GET /orders -b "$J"; jqb ".data.orders[] | select(.orderId == $2) | .state"; }
s0=$(stock_on "$H2")
on "$H1" POST /orders/new -b "$J" -d "bookId=$BOOK"
expect "order through host 1" 201
O1=$(jqb .data.orderId)
order_seen() { [ "$(state_on "$H2" "$O1")" = unpaid ] && [ "$(stock_on "$H2")" = $((s0 - 1)) ]; }
within 250 "host 2's /orders and /orders/books show the order" order_seen
on "$H1" POST /orders/cancel -b "$J" -d "orderId=$O1"
expect "cancel through host 1" 200
cancel_seen() { [ "$(state_on "$H2" "$O1")" = cancelled ] && [ "$(stock_on "$H2")" = "$s0" ]; }
within 250 "host 2 shows the cancel and the copy back in stock" cancel_seen
on "$H1" POST /orders/new -b "$J" -d "bookId=$BOOK"
O2=$(jqb .data.orderId)
on "$H1" POST /payment/pay-order -b "$J" -d "orderId=$O2"
expect "pay through host 1" 200
P2=$(jqb .data.paymentId)
pay_seen() { on "$H2" POST /payment/pay-order -b "$J" -d "orderId=$O2"; [ "$STATUS" = 409 ] && [ "$(jqb .data.paymentId)" = "$P2" ]; }
within 250 "host 2 sees the payment (409 ALREADY_PAID, same paymentId)" pay_seen
paid_seen() { [ "$(state_on "$H2" "$O2")" = paid ]; }
within 1000 "host 2's /orders shows it paid" paid_seen

# --- pay through host 1 (db1) against cancel through host 2 (db2) -----------
both=0 odd=0 pays=0 cancels=0 unavail=0
for r in $(seq "$RACES"); do
	on "$H1" POST /orders/new -b "$J" -d "bookId=$BOOK"
	o=$(jqb .data.orderId)
	[ "$STATUS" = 201 ] || { odd=$((odd + 1)); echo "# race $r: order $STATUS ${BODY:0:200}"; continue; }
	# one curl process, the two requests in parallel
	out=$(curl -s -Z -b "$J" -o /dev/null -w 'pay %{http_code}\n' -d "orderId=$o" "$H1/payment/pay-order" \
		--next -b "$J" -o /dev/null -w 'cancel %{http_code}\n' -d "orderId=$o" "$H2/orders/cancel" 2>/dev/null)
	p=$(echo "$out" | sed -n 's/^pay //p') c=$(echo "$out" | sed -n 's/^cancel //p')
	case "$p/$c" in
	200/200) both=$((both + 1)); echo "# race $r: order $o paid and cancelled" ;;
	200/409) pays=$((pays + 1)) ;;
	409/200) cancels=$((cancels + 1)) ;;
	503/*|*/503) unavail=$((unavail + 1)) ;;
	*) odd=$((odd + 1)); echo "# race $r: pay $p, cancel $c" ;;
	esac
done
echo "# $RACES races: pay won $pays, cancel won $cancels, a 503 in $unavail;" \
	"$(cat "$CLUSTER_DIR"/app*/log/*.log | grep -c 'db conflict') conflicts (deadlock or certification) retried"
[ $both = 0 ] && ok "$RACES races of pay (host 1, db1) against cancel (host 2, db2): never both" \
	|| fail "$RACES races: never both pay and cancel" "$both orders were both"
[ $odd = 0 ] && ok "every race answered 200/409 (or 503)" || fail "every race answered 200/409/503" "$odd odd answers"
n=$(nsql 1 "SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.book_id = $BOOK
	AND o.state IN ('cancelled', 'expired')")
[ "$n" = 0 ] && ok "no payment on a cancelled order after the races" || fail "no payment on a cancelled order" "$n"

# --- every node: the invariants, and the same data ---------------------------
for n in $(nodes); do
	VAR_DIR=$CLUSTER_DIR/db$n bash "$ROOT/t/e2e/invariants.sh" | sed "s/^\(ok\|not ok\) - /\1 - db$n: /" >"$TMP/inv"
	cat "$TMP/inv"
	PASSED=$((PASSED + $(grep -c '^ok - ' "$TMP/inv")))
	FAILS=$((FAILS + $(grep -c '^not ok - ' "$TMP/inv")))
done
sum="SELECT (SELECT COUNT(*) FROM orders), (SELECT SUM(CRC32(CONCAT_WS(',', id, state, payment_id))) FROM orders),
	(SELECT COUNT(*) FROM payments), (SELECT SUM(stock) FROM books)"
ref=$(nsql 1 "$sum")
for n in $(nodes); do
	[ "$n" = 1 ] && continue
	s=$(nsql "$n" "$sum")
	[ "$s" = "$ref" ] && ok "db$n holds what db1 holds (orders, payments, stock)" || fail "db$n holds what db1 holds" "$s vs $ref"
done

echo "$PASSED passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
