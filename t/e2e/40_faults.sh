#!/usr/bin/env bash
# Killed processes under load: clients only get documented answers, the
# supervisor (multiwatch) brings the process back, and no order, payment or
# reservation is lost or doubled (the invariants hold at the end).
source "$(dirname "$0")/lib.sh"
RUN=$VAR_DIR/run
new_book() { sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('fault $RANDOM', 700, $1, $1); SELECT LAST_INSERT_ID();"; }
child_of() { pgrep -P "$(cat "$RUN/$1.pid")" | head -1; }
children() { pgrep -P "$(cat "$RUN/$1.pid")" | wc -l; }
# workers NAME: every worker of a service, both pools (NAME: GET and HEAD;
# NAME-w: the write workers, README "The nginx to FastCGI hop")
workers() { { pgrep -P "$(cat "$RUN/$1.pid")"; pgrep -P "$(cat "$RUN/$1-w.pid")"; } | paste -sd' '; }
for i in 1 2 3 4; do new_user "$TMP/u$i"; done

# 1. kill -9 the inventory daemon during an order storm.
book=$(new_book 300)
old=$(child_of inventory)
seq 600 | xargs -P 16 -I{} sh -c 'curl -s -m 10 -o /dev/null -w "%{http_code}\n" -b "$0/u$(( {} % 4 + 1 ))" -d "bookId=$1" "$2/orders/new"' \
	"$TMP" "$book" "$BASE" >"$TMP/storm" &
sleep 0.15
kill -9 "$old"
wait
echo "# storm answers: $(sort "$TMP/storm" | uniq -c | tr '\n' ' ')"
check "inventory killed: clients got only 201, 409 or 503" [ -z "$(grep -vE '^(201|409|503)$' "$TMP/storm")" ]
check "inventory killed: it was restarted" wait_for 5 sh -c "[ -n \"\$(pgrep -P $(cat "$RUN/inventory.pid"))\" ] && [ \"\$(pgrep -P $(cat "$RUN/inventory.pid"))\" != $old ]"
# A Sell whose reply died with the daemon may have made its order (then an
# ordinary unpaid order, answered 503): at least every 201, at most one
# more per 503. The reservation and the order are one transaction, so not
# one reservation is without its order, even before the sweep.
n201=$(grep -c '^201$' "$TMP/storm") n503=$(grep -c '^503$' "$TMP/storm")
norders=$(sql "SELECT COUNT(*) FROM orders WHERE book_id = $book")
check "inventory killed: every 201 is an order ($n201 201s, $n503 503s, $norders orders)" \
	[ "$norders" -ge "$n201" -a "$norders" -le $((n201 + n503)) ]
check "inventory killed: no reservation without its order, not even before the sweep" \
	[ "$(sql "SELECT COUNT(*) FROM inventory_history h LEFT JOIN orders o ON o.history_id = h.id
		WHERE h.book_id = $book AND o.id IS NULL")" = 0 ]
check "inventory killed: stock moved once per order" \
	[ "$(sql "SELECT stock FROM books WHERE id = $book")" = $((300 - norders)) ]
wait_for 5 curl -sf -o /dev/null "$BASE/orders/health"
api POST /orders/new -b "$TMP/u1" -d "bookId=$(new_book 5)"
expect "inventory killed: ordering works again" 201

# 2. kill -9 a payment worker during a burst of pays (a write worker: pays
# go to those).
book=$(new_book 200)
ids=()
for i in $(seq 150); do
	api POST /orders/new -b "$TMP/u$(( i % 4 + 1 ))" -d "bookId=$book"
	ids+=("$(( i % 4 + 1 )):$(jqb .data.orderId)")
done
workers=$(children payment-w)
printf '%s\n' "${ids[@]}" | xargs -P 12 -I{} sh -c 'u=${0%%:*}; o=${0#*:}; printf "%s %s\n" "$o" "$(curl -s -m 10 -o /dev/null -w "%{http_code}" -b "$1/u$u" -d "orderId=$o" "$2/payment/pay-order")"' \
	{} "$TMP" "$BASE" >"$TMP/pays" &
sleep 0.1
kill -9 "$(child_of payment-w)"
wait
echo "# pay answers: $(awk '{print $2}' "$TMP/pays" | sort | uniq -c | tr '\n' ' ')"
check "payment worker killed: clients got only 200 or 503" [ -z "$(awk '$2 != 200 && $2 != 503' "$TMP/pays")" ]
ok_ids=$(awk '$2 == 200 {print $1}' "$TMP/pays" | paste -sd,)
check "payment worker killed: every 200 has exactly one payment" \
	[ "$(sql "SELECT COUNT(*) FROM payments WHERE order_id IN (${ok_ids:-0})")" = "$(awk '$2 == 200' "$TMP/pays" | wc -l)" ]
check "payment worker killed: no order was charged twice" \
	[ "$(sql "SELECT COUNT(*) FROM (SELECT order_id FROM payments GROUP BY order_id HAVING COUNT(*) > 1) x")" = 0 ]
check "payment worker killed: a worker replaced it" wait_for 5 [ "$(children payment-w)" -ge "$workers" ]
# paying the 503s again settles them: 200, or 409 ALREADY_PAID if the killed worker had committed
for o in $(awk '$2 != 200 {print $1}' "$TMP/pays"); do
	u=$(printf '%s\n' "${ids[@]}" | grep ":$o\$" | cut -d: -f1)
	api POST /payment/pay-order -b "$TMP/u$u" -d "orderId=$o"
	[ "$STATUS" = 200 ] || [ "$(jqb .error.code)" = ALREADY_PAID ] || fail "retrying pay of $o" "$STATUS $BODY"
done
all=$(printf '%s\n' "${ids[@]}" | cut -d: -f2 | paste -sd,)
all_paid() { [ "$(sql "SELECT COUNT(*) FROM orders WHERE id IN ($all) AND state = 'paid'")" = 150 ]; }
check "payment worker killed: all 150 orders end paid" wait_for 5 all_paid

# 3. kill -9 the orders-listener during pays: every paid order ends paid.
book=$(new_book 100)
ids=()
for i in $(seq 30); do
	api POST /orders/new -b "$TMP/u1" -d "bookId=$book"
	ids+=("$(jqb .data.orderId)")
done
old=$(child_of orders-listener)
printf '%s\n' "${ids[@]}" | xargs -P 8 -I{} curl -s -m 10 -o /dev/null -w '%{http_code}\n' -b "$TMP/u1" -d "orderId={}" "$BASE/payment/pay-order" >"$TMP/lpays" &
sleep 0.1
kill -9 "$old"
wait
echo "# pay answers: $(sort "$TMP/lpays" | uniq -c | tr '\n' ' ')"
check "listener killed: all 30 pays answered 200" [ "$(grep -c '^200$' "$TMP/lpays")" = 30 ]
all=$(printf '%s\n' "${ids[@]}" | paste -sd,)
all_paid30() { [ "$(sql "SELECT COUNT(*) FROM orders WHERE id IN ($all) AND state = 'paid'")" = 30 ]; }
check "listener killed: it was restarted" wait_for 5 sh -c "[ -n \"\$(pgrep -P $(cat "$RUN/orders-listener.pid"))\" ]"
check "listener killed: every paid order ends paid within 5 s" wait_for 5 all_paid30

# 4. MariaDB stopped during load: quick 503s, never a hang; back by itself.
book=$(new_book 500)
seq 200 | xargs -P 8 -I{} sh -c 't0=$(date +%s%N); c=$(curl -s -m 10 -o /dev/null -w "%{http_code}" -b "$0/u$(( {} % 4 + 1 ))" -d "bookId=$1" "$2/orders/new"); echo "$c $(( ($(date +%s%N) - t0) / 1000000 ))"' \
	"$TMP" "$book" "$BASE" >"$TMP/dbload" &
sleep 0.3
mpid=$(cat "$RUN/mysqld.pid")
kill -TERM "$mpid"
wait
echo "# answers under a database stop: $(awk '{print $1}' "$TMP/dbload" | sort | uniq -c | tr '\n' ' ')"
check "database stopped: clients got only 201 or 503" [ -z "$(awk '$1 != 201 && $1 != 503' "$TMP/dbload")" ]
check "database stopped: some requests got 503" grep -q '^503 ' "$TMP/dbload"
check "database stopped: every 503 came within 2 s" [ -z "$(awk '$1 == 503 && $2 > 2000' "$TMP/dbload")" ]
while kill -0 "$mpid" 2>/dev/null; do sleep 0.1; done
"$ROOT/scripts/stack.sh" start >/dev/null
api POST /orders/new -b "$TMP/u2" -d "bookId=$book"
expect "database back: orders work without restarting anything else" 201
check "database stopped and back: no reservation without its order" \
	[ "$(sql "SELECT COUNT(*) FROM inventory_history h LEFT JOIN orders o ON o.history_id = h.id
		WHERE h.book_id = $book AND o.id IS NULL")" = 0 ]

# 5. Kept FastCGI connections (issue 15). nginx keeps connections to the
# workers open (fastcgi_keep_conn, an upstream keepalive pool); a worker
# (lib/fconn.c) holds all of them and still takes new ones.
conf=$VAR_DIR/nginx/nginx.conf
check "kept connections: nginx keeps FastCGI connections open" \
	grep -q 'fastcgi_keep_conn on' "$conf"
# 5a. A burst of more concurrent requests than the pool holds, twice (the
# first leaves the pool full of idle connections): all served at once. With
# workers that wait on their idle kept connection, the second burst would
# queue behind parked workers until nginx's keepalive_timeout (10 s).
pool=$(sed -n 's/.* keepalive \([0-9]*\);.*/\1/p' "$conf" | head -1)
ngx=$(sed -n 's/^worker_processes \([0-9]*\);/\1/p' "$conf")
burst=$(( pool * ngx + 20 ))
for round in 1 2; do
	seq "$burst" | xargs -P "$burst" -I{} curl -s -m 5 -o /dev/null -w '%{http_code}\n' "$BASE/orders/books" >"$TMP/burst$round" || true
done
echo "# bursts of $burst: $(sort "$TMP/burst1" | uniq -c | tr '\n' ' ')/ $(sort "$TMP/burst2" | uniq -c | tr '\n' ' ')"
check "kept connections: a burst of $burst (> pool $pool x $ngx) is all 200 within 5 s, twice" \
	[ "$(cat "$TMP/burst1" "$TMP/burst2" | grep -c '^200$')" = $((2 * burst)) ]

# 5a'. Reads and writes go to separate workers of each service (README "The
# nginx to FastCGI hop"): GET and HEAD to NAME.sock's workers, everything
# else to the write workers of NAME-w.sock. Which process served a request:
# its log line (program[pid] ref=the request's id).
# served_by SERVICE: the pid that logged the last answer's request id
served_by() { wait_for 2 grep -q "ref=$(header X-Request-Id) " "$VAR_DIR/log/$1.log" &&
	sed -n "s/.* $1\[\([0-9]*\)\] ref=$(header X-Request-Id) .*/\1/p" "$VAR_DIR/log/$1.log" | tail -1; }
# pool_of PID: which pool's supervisor is its parent (NAME or NAME-w)
pool_of() { local f; for f in "$RUN"/*.pid; do
	[ "$(ps -o ppid= -p "$1" | tr -d ' ')" = "$(cat "$f")" ] && basename "$f" .pid; done; }
for svc in user orders payment; do
	for i in 1 2 3; do
		api GET "/$svc/health"
		rp=$(served_by "$svc")
		check "$svc: GET /$svc/health ($STATUS) served by a read worker ($rp: $(pool_of "$rp"))" \
			[ "$STATUS:$(pool_of "$rp")" = "200:$svc" ]
		api POST "/$svc/health"
		wp=$(served_by "$svc")
		check "$svc: POST /$svc/health ($STATUS) served by a write worker ($wp: $(pool_of "$wp"))" \
			[ "$STATUS:$(pool_of "$wp")" = "405:$svc-w" ]
	done
done
api POST /orders/new -b "$TMP/u1" -d "bookId=$(new_book 5)"
wp=$(served_by orders)
check "orders: POST /orders/new ($STATUS) served by a write worker ($wp: $(pool_of "$wp"))" \
	[ "$STATUS:$(pool_of "$wp")" = "201:orders-w" ]

# 5b. kill -9 every orders worker (read and write workers) while a load of
# GETs and POSTs runs over kept connections: a request in flight on a dead
# worker's connection is
# retried by nginx (GET on a cached connection) or answered 503 UNAVAILABLE
# in the envelope; nothing hangs; then everything works again.
book=$(new_book 400)
nr=$(children orders) nw=$(children orders-w)
check "orders runs read and write workers ($nr and $nw)" [ "$nr" -ge 1 -a "$nw" -ge 1 ]
seq 300 | xargs -P 16 -I{} sh -c 'case $(( {} % 3 )) in
	0) a="-d bookId=$1" p=/orders/new ;; 1) a="" p=/orders/books ;; *) a="" p=/orders ;; esac
	curl -s -m 10 -o "$0/kb.{}" -w "%{http_code} %{time_total} {}\n" -b "$0/u$(( {} % 4 + 1 ))" $a "$2$p"' \
	"$TMP" "$book" "$BASE" >"$TMP/kload" &
load=$!
during=1
for round in 1 2; do
	sleep 0.3
	kill -0 "$load" 2>/dev/null || during=0
	old=$(workers orders)
	# shellcheck disable=SC2086 # one pid a word
	kill -9 $old
done
wait
check "workers killed under kept connections: both kills came during the load" [ "$during" = 1 ]
echo "# answers with every orders worker killed: $(awk '{print $1}' "$TMP/kload" | sort | uniq -c | tr '\n' ' ')"
check "workers killed under kept connections: 300 answers" [ "$(wc -l <"$TMP/kload")" = 300 ]
check "workers killed under kept connections: only 200, 201 or 503" [ -z "$(awk '$1 != 200 && $1 != 201 && $1 != 503' "$TMP/kload")" ]
bad503=$(awk '$1 == 503 {print $3}' "$TMP/kload" | while read -r n; do grep -q '"code":"UNAVAILABLE"' "$TMP/kb.$n" || echo "$n"; done)
check "workers killed under kept connections: every 503 is the UNAVAILABLE envelope" [ -z "$bad503" ]
check "workers killed under kept connections: every answer within 3 s" [ -z "$(awk '$2 > 3' "$TMP/kload")" ]
# A worker killed after its Sell went out answers nothing (nginx: 503), and
# the daemon's one transaction may still have made that order: every 201 is
# an order, and at most one more per 503 (as in part 1).
k201=$(awk '$1 == 201' "$TMP/kload" | wc -l) k503=$(awk '$1 == 503' "$TMP/kload" | wc -l)
korders=$(sql "SELECT COUNT(*) FROM orders WHERE book_id = $book")
check "workers killed under kept connections: every 201 is an order ($k201 201s, $k503 503s, $korders orders)" \
	[ "$korders" -ge "$k201" -a "$korders" -le $((k201 + k503)) ]
check "workers killed under kept connections: all replaced ($nr read and $nw write workers)" \
	wait_for 5 sh -c "[ \"\$(pgrep -P $(cat "$RUN/orders.pid") | wc -l)\" -ge $nr ] &&
		[ \"\$(pgrep -P $(cat "$RUN/orders-w.pid") | wc -l)\" -ge $nw ]"
seq 100 | xargs -P 8 -I{} curl -s -m 5 -o /dev/null -w '%{http_code}\n' -b "$TMP/u1" "$BASE/orders" >"$TMP/kafter"
check "workers killed under kept connections: then 100 of 100 requests succeed" [ "$(grep -c '^200$' "$TMP/kafter")" = 100 ]

# 5c. Slow clients do not hold a worker: nginx reads a request's whole body
# before it passes the request on. More clients than there are user write
# workers (which serve logins) send a login body a few bytes every half
# second; meanwhile the user service answers at once, its read workers and
# its write workers (a POST: 405 from a write worker).
hp=${BASE#http://}
slow_client() {
	exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}" || return
	printf 'POST /user/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\nConnection: close\r\n\r\n' "$hp" >&3
	local body='userName=slowpo&pwd=abcdefghij' i # 30 bytes
	for i in 0 5 10 15 20 25; do printf '%s' "${body:$i:5}" >&3; sleep 0.5; done
	cat <&3 >/dev/null
}
n=$(( $(children user-w) + 2 ))
for i in $(seq "$n"); do slow_client & done
sleep 0.7
t0=$(date +%s%N)
api GET /user/me -b "$TMP/u1"
rst=$STATUS ms=$(( ($(date +%s%N) - t0) / 1000000 ))
t0=$(date +%s%N)
api POST /user/health
wst=$STATUS wms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait
echo "# during $n slow bodies: /user/me $rst in $ms ms, POST /user/health $wst in $wms ms"
check "slow clients: $n slow bodies hold no user worker (/user/me 200 within 1 s)" [ "$rst:$(( ms < 1000 ))" = 200:1 ]
check "slow clients: $n slow bodies hold no user write worker (a POST answered within 1 s)" [ "$wst:$(( wms < 1000 ))" = 405:1 ]

# 5d. Stopping a service ends its workers, kept connections or not:
# multiwatch sends them SIGUSR1, on which a worker serves what is already
# waiting and exits (lib/fconn.c).
seq 20 | xargs -P 4 -I{} curl -s -o /dev/null "$BASE/payment/health"
seq 20 | xargs -P 4 -I{} curl -s -o /dev/null -X POST "$BASE/payment/health"
ws=$(workers payment)
kill -TERM "$(cat "$RUN/payment.pid")" "$(cat "$RUN/payment-w.pid")"
gone() { local p; for p in $ws; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
check "stopping a service: its $(echo "$ws" | wc -w) workers (read and write) exit" wait_for 5 gone
"$ROOT/scripts/stack.sh" start >/dev/null
api GET /payment/health
expect "stopping a service: started again, it answers" 200

finish
