#!/usr/bin/env bash
# Mixed load for t/cluster/check.sh, run inside the client namespace:
#   load.sh BASE SECONDS CLIENTS BOOK OUT_DIR
# Each client registers and logs in, then until the time is up: orders BOOK
# with an Idempotency-Key, then pays it (four in five) or cancels it, and
# retries a 503 with the same key (an order) or the same order (pay,
# cancel) until it gets an answer. Every answer is one line of
# OUT_DIR/client-N.log: "ms op status orderId paymentId key". OUT_DIR/ready
# appears when every client has logged in; the clock starts then.
set -u
BASE=$1 SECS=$2 CLIENTS=$3 BOOK=$4 OUT=$5
mkdir -p "$OUT"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# req LOG OP ARGS...: one request, retried on 503 (and on no answer at all)
# for up to 20 s; sets ST and BODY
req() {
	local log=$1 op=$2 t0
	shift 2
	t0=$(now_ms)
	while :; do
		BODY=$(curl -s -m 10 -w '\n%{http_code}' "$@")
		ST=${BODY##*$'\n'}
		BODY=${BODY%$'\n'*}
		[ "$ST" = 000 ] && ST=conn
		local oid="" pid=""
		[[ $BODY =~ \"orderId\":([0-9]+) ]] && oid=${BASH_REMATCH[1]}
		[[ $BODY =~ \"paymentId\":([0-9]+) ]] && pid=${BASH_REMATCH[1]}
		echo "$(now_ms) $op $ST ${oid:--} ${pid:--} ${KEY:--}" >>"$log"
		case "$ST" in
		503|conn) [ $(($(now_ms) - t0)) -lt 20000 ] || return; sleep 0.05 ;;
		*) return ;;
		esac
	done
}

client() {
	local c=$1 jar=$OUT/jar-$1 log=$OUT/client-$1.log name n=0 end oid
	name="ld$$c$1$RANDOM"
	name=${name:0:20}
	KEY=""
	req "$OUT/setup-$c.log" register -X POST -d "userName=$name" -d "pwd=paper-Lantern-73" "$BASE/user/register"
	req "$OUT/setup-$c.log" login -X POST -c "$jar" -d "userName=$name" -d "pwd=paper-Lantern-73" "$BASE/user/login"
	touch "$OUT/in-$c"
	while [ ! -e "$OUT/ready" ]; do sleep 0.05; done
	end=$(($(cat "$OUT/ready") + SECS * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		n=$((n + 1))
		KEY=c$c-$n-$$
		req "$log" new -X POST -b "$jar" -H "Idempotency-Key: $KEY" -d "bookId=$BOOK" "$BASE/orders/new"
		oid=""
		[[ $BODY =~ \"orderId\":([0-9]+) ]] && oid=${BASH_REMATCH[1]}
		[ -n "$oid" ] || continue
		if [ $((n % 5)) = 0 ]; then
			req "$log" cancel -X POST -b "$jar" -d "orderId=$oid" "$BASE/orders/cancel"
		else
			req "$log" pay -X POST -b "$jar" -d "orderId=$oid" "$BASE/payment/pay-order"
		fi
	done
}

rm -f "$OUT/ready"
for i in $(seq "$CLIENTS"); do client "$i" & done
while [ "$(ls "$OUT"/in-* 2>/dev/null | wc -l)" -lt "$CLIENTS" ]; do sleep 0.05; done
now_ms >"$OUT/ready.tmp" && mv "$OUT/ready.tmp" "$OUT/ready"
wait
