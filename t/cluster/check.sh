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
# the cluster's addresses live only in its namespaces
net=${EDGE%.*}.
if ip -4 -o addr show | grep -qF " $net"; then fail "the root namespace has no address in ${net}0/24" "$(ip -4 -o addr show | grep -F " $net")"
else ok "the root namespace has no address in ${net}0/24"; fi
# (whatever answers there from the root namespace, a proxy on its default route say, is not us)
if command curl -s -m 1 "http://$EDGE:$EDGE_PORT/user/health" 2>/dev/null | grep -q '"success"'; then
	fail "the edge is unreachable from the root namespace" "it answered /user/health"
else ok "the edge is unreachable from the root namespace"; fi
# a user of our own, registered through the edge (either host)
BASE=http://$EDGE:$EDGE_PORT new_user "$J"
expect "register and log in through the edge" 200

# --- sessions across hosts --------------------------------------------------
on "$H1" POST /user/login -c "$J" -d "userName=$UNAME" -d "pwd=$TEST_PWD"
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
on "$H1" POST /user/login -c "$J" -d "userName=$UNAME" -d "pwd=$TEST_PWD"

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
if [ "$CLUSTER_DB" = single ]; then via="one database"
elif [ "${CLUSTER_WRITERS:-multi}" = single ]; then via="both hosts on db1"
else via="host 1 on db1 against host 2 on db2"; fi
[ $both = 0 ] && ok "$RACES races of pay against cancel ($via): never both" \
	|| fail "$RACES races: never both pay and cancel" "$both orders were both"
[ $odd = 0 ] && ok "every race answered 200/409 (or 503)" || fail "every race answered 200/409/503" "$odd odd answers"
n=$(nsql 1 "SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.book_id = $BOOK
	AND o.state IN ('cancelled', 'expired')")
[ "$n" = 0 ] && ok "no payment on a cancelled order after the races" || fail "no payment on a cancelled order" "$n"

# --- mixed load through the edge --------------------------------------------
LOAD_SECS=${CLUSTER_LOAD_SECS:-30}
LOAD_CLIENTS=${CLUSTER_LOAD_CLIENTS:-6}
LBOOK=$(nsql 1 "INSERT INTO books (title, unit_price, stock, initial_stock)
	VALUES ('Cluster load $$', 100, 100000, 100000); SELECT LAST_INSERT_ID()")
# load NAME SECONDS AT-SECONDS ACTION...: the load through the edge, ACTION
# run AT-SECONDS after it starts; sets L (its folder), T0 and T_ACT (ms)
load() {
	local name=$1 secs=$2 at=$3 lp
	shift 3
	L=$TMP/$name
	mkdir -p "$L"
	ip netns exec "${NS}client" bash "$ROOT/t/cluster/load.sh" "http://$EDGE:$EDGE_PORT" "$secs" \
		"$LOAD_CLIENTS" "$LBOOK" "$L" &
	lp=$!
	while [ ! -s "$L/ready" ]; do sleep 0.05; done
	T0=$(cat "$L/ready")
	while [ "$(now_ms)" -lt $((T0 + at * 1000)) ]; do sleep 0.02; done
	T_ACT=$(now_ms)
	"$@"
	wait "$lp"
	cat "$L"/client-*.log >"$L/all"
}
# the answers of a load: documented statuses only, each paymentId for one
# order, each Idempotency-Key one order
load_answers() {
	local n=$1 odd dup
	odd=$(awk '$3 !~ /^(200|201|409|503)$/' "$L/all" | wc -l)
	[ "$odd" = 0 ] && ok "$n: only documented statuses ($(wc -l <"$L/all") answers, $(awk '$3 == 503' "$L/all" | wc -l) of them 503, retried)" \
		|| fail "$n: only documented statuses" "$odd others: $(awk '$3 !~ /^(200|201|409|503)$/ {print $2, $3}' "$L/all" | sort | uniq -c | head -5 | tr '\n' ' ')"
	dup=$(awk '$2 == "pay" && $5 != "-" {print $5, $4}' "$L/all" | sort -u | awk '{print $1}' | uniq -d | wc -l)
	[ "$dup" = 0 ] && ok "$n: every paymentId was answered for one order only" \
		|| fail "$n: every paymentId for one order" "$dup paymentIds name two orders"
	dup=$(awk '$2 == "new" && $4 != "-" {print $6, $4}' "$L/all" | sort -u | awk '{print $1}' | uniq -d | wc -l)
	[ "$dup" = 0 ] && ok "$n: every Idempotency-Key was answered with one order" \
		|| fail "$n: every Idempotency-Key one order" "$dup keys got two orders"
}
# applied_by MS: every payment event applied within MS ms of now
applied_by() {
	local t0 left
	t0=$(now_ms)
	while :; do
		left=$(nsql 1 "SELECT COUNT(*) FROM payment_events WHERE applied_at IS NULL")
		[ "$left" = 0 ] && { ok "every payment event applied $(($(now_ms) - t0)) ms after the load"; return; }
		[ $(($(now_ms) - t0)) -gt "$1" ] && { fail "every payment event applied within $1 ms" "$left left"; return; }
		sleep 0.05
	done
}

# 1. every process of host 1 killed 10 s into the load
load kill-app1 "$LOAD_SECS" 10 "$ROOT/scripts/cluster.sh" app-kill 1
echo "# load 1: $(wc -l <"$L/all") answers in ${LOAD_SECS} s from $LOAD_CLIENTS clients; host 1 killed at $(((T_ACT - T0) / 1000)).$(((T_ACT - T0) % 1000 / 100)) s"
load_answers "load with host 1 killed"
applied_by 2000
# successful answers per second (L/rate: "second count"); back when a
# second reaches half the mean of seconds 2-9 (before the kill)
rates() {
	awk -v t0="$T0" '$3 ~ /^(200|201|409)$/ {print int(($1 - t0) / 1000)}' "$L/all" | sort -n | uniq -c \
		| awk '{print $2, $1}' >"$L/rate"
	echo "# successful answers a second: $(awk '{printf "%s:%s ", $1, $2}' "$L/rate")"
}
rates
pre=$(awk '$1 >= 2 && $1 <= 9 {s += $2; n++} END {print n ? int(s / n) : 0}' "$L/rate")
kill_s=$(((T_ACT - T0) / 1000))
back=$(awk -v k="$kill_s" -v p="$pre" '$1 > k && $2 * 2 >= p {print $1 + 1; exit}' "$L/rate")
if [ -n "$back" ] && [ "$pre" -gt 0 ] && [ $((back * 1000 - (T_ACT - T0))) -le 3000 ]; then
	ok "throughput back within 3 s of the kill (before: $pre/s; at half of it by $((back * 1000 - (T_ACT - T0))) ms)"
else
	fail "throughput back within 3 s of the kill" "before $pre/s; back at second ${back:-never}"
fi
# host 1 started again: serves on its own port and gets edge traffic again
"$ROOT/scripts/cluster.sh" app-start 1
h1_up() { on "$H1" GET /user/me -b "$J"; [ "$STATUS" = 200 ]; }
within 5000 "host 1 started again answers" h1_up
edge_log=$CLUSTER_DIR/edge/all/log/nginx-access.log
before=$(grep -c "ua=${APP1_IP:-10.213.0.21}" "$edge_log")
edge_h1() {
	for i in 1 2 3 4; do curl -s -o /dev/null "http://$EDGE:$EDGE_PORT/orders/books"; done
	sleep 0.2
	[ "$(grep -c "ua=${APP1_IP:-10.213.0.21}" "$edge_log")" -gt "$before" ]
}
within 6000 "the edge sends requests to host 1 again (no manual step)" edge_h1

# 2. a database node (db2, host 2's first) killed 6 s into the load, started again at 12 s
if [ "$CLUSTER_DB" != single ]; then
	db_cycle() {
		"$ROOT/scripts/cluster.sh" db-kill 2
		while [ "$(now_ms)" -lt $((T0 + 12000)) ]; do sleep 0.1; done
		"$ROOT/scripts/cluster.sh" db-start 2 >"$TMP/db2-start" 2>&1 && touch "$TMP/db2-back"
	}
	load kill-db2 20 6 db_cycle
	echo "# load 2: $(wc -l <"$L/all") answers in 20 s; db2 killed at 6 s, started again at 12 s"
	load_answers "load with db2 killed"
	applied_by 2000
	rates
	# the longest pause between two successful answers after the kill: the
	# time the others take to suspect db2 (evs.suspect_timeout, 2 s)
	gap=$(awk -v t="$T_ACT" '$3 ~ /^(200|201|409)$/ && $1 > t {print $1}' "$L/all" | sort -n \
		| awk -v t="$T_ACT" 'BEGIN {p = t} {if ($1 - p > g) g = $1 - p; p = $1} END {print g + 0}')
	after=$(awk -v t="$T_ACT" -v t0="$T0" '$1 > t + 3500 && $1 < t0 + 12000 && $3 ~ /^(200|201|409)$/' "$L/all" | wc -l)
	[ "$after" -gt 0 ] && ok "service went on through db1 and db3 ($after answers from 3.5 s after the kill to the restart; longest pause $gap ms)" \
		|| fail "service went on through db1 and db3" "no answers from 3.5 s after the kill; longest pause $gap ms"
	if [ -e "$TMP/db2-back" ] && [ "$(nsql 2 "SHOW STATUS LIKE 'wsrep_local_state_comment'" | cut -f2)" = Synced ] \
		&& [ "$(nsql 2 "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2)" = 3 ]; then
		ok "db2 rejoined the cluster ($(grep -o 'IST received\|SST succeeded\|SST complete' "$CLUSTER_DIR/db2/mysqld.log" | tail -1); Synced, cluster size 3)"
	else
		fail "db2 rejoined the cluster" "$(cat "$TMP/db2-start" 2>/dev/null)"
	fi
fi

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
