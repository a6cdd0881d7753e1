#!/usr/bin/env bash
# The database hung or stopped: services answer 503 UNAVAILABLE within a
# bounded time, never hang or crash, and serve again once MariaDB is back
# without restarting anything else.
source "$(dirname "$0")/lib.sh"
J=$TMP/jar
new_user "$J"
# a session no worker has checked yet (both outages below use it): J's is
# remembered by the worker that answers /user/me (lib/auth.c, up to 5 s) and
# may be answered without the database; with kept FastCGI connections the
# next request often goes to that same worker
J2=$TMP/jar2
new_user "$J2"
api GET /user/me -b "$J"
expect "me works before the outage" 200

# timed_api NAME STATUS CODE MAX_MS METHOD PATH [args]: expect within MAX_MS
timed_api() {
	local n=$1 st=$2 code=$3 max=$4 t0 ms
	shift 4
	t0=$(date +%s%N)
	api "$@"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	expect "$n" "$st" "$code"
	check "$n: within $max ms (took $ms ms)" [ "$ms" -le "$max" ]
}

pid=$(cat "$VAR_DIR/run/mysqld.pid")
kill -STOP "$pid"
timed_api "a hung database gives 503" 503 UNAVAILABLE 3500 GET /user/me -b "$J2"
timed_api "health names the database as down" 503 UNAVAILABLE 3500 GET /user/health
kill -CONT "$pid"
wait_for 10 curl -sf -o /dev/null "$BASE/user/health"
api GET /user/me -b "$J"
expect "me works again after the hang" 200

kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
timed_api "a stopped database gives 503 on me" 503 UNAVAILABLE 2000 GET /user/me -b "$J2"
timed_api "a stopped database gives 503 on login" 503 UNAVAILABLE 2000 POST /user/login \
	-d userName=micro -d pwd=123
for svc in orders payment; do
	[ -x "$ROOT/${BUILD:-build}/mb-$svc" ] || continue
	timed_api "a stopped database gives 503 on /$svc/health" 503 UNAVAILABLE 2000 GET /$svc/health
done

"$ROOT/scripts/stack.sh" start >/dev/null
api GET /user/me -b "$J"
expect "the same session works once MariaDB is back (no service restarted)" 200
api POST /user/register -d "userName=back$RANDOM" -d "pwd=password-back"
expect "writes work again" 201

finish
