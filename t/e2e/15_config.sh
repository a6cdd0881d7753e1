#!/usr/bin/env bash
# A bad setting (or no usable INTERNAL_KEY) stops a program at start: each kind of program (a FastCGI
# service, the inventory daemon, the orders-listener), given an invalid
# number in the environment or in the MB_CONFIG file, exits non-zero at
# once with one line naming the setting and the value, on stderr and in its
# log. Nothing of the running stack is touched (own LOG_DIR, no socket).
source "$(dirname "$0")/lib.sh"
BIN=$ROOT/${BUILD:-build}

# refused NAME PROGRAM WANT ENV...: the program exits 1 within 5 s with WANT
# as the one line on stderr and one error line in LOG_DIR/<program>.log
refused() {
	local n=$1 prog=$2 want=$3 rc lines
	shift 3
	rm -rf "$TMP/log" && mkdir -p "$TMP/log"
	env MB_CONFIG="$VAR_DIR/microbook.conf" LOG_DIR="$TMP/log" "$@" \
		timeout 5 "$BIN/mb-$prog" </dev/null >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	check "$n: exits 1 at once (rc $rc)" [ "$rc" = 1 ]
	check "$n: one line on stderr ($lines)" [ "$lines" = 1 ]
	check "$n: stderr names it ($(head -c 200 "$TMP/err"))" grep -qF -- "$want" "$TMP/err"
	check "$n: one error line in the log" \
		[ "$(grep -F -- "$want" "$TMP/log/$prog.log" 2>/dev/null | grep -cF " error $prog[")" = 1 ]
}

refused "inventory, DB_TIMEOUT=abc" inventory \
	"invalid setting DB_TIMEOUT=abc: not a whole number in [1, 60]" DB_TIMEOUT=abc
refused "user service, COOKIE_SECURE=yes" user \
	"invalid setting COOKIE_SECURE=yes: not a whole number in [0, 1]" COOKIE_SECURE=yes
refused "orders service, INVENTORY_TIMEOUT_MS=10" orders \
	"invalid setting INVENTORY_TIMEOUT_MS=10: not a whole number in [50, 60000]" \
	INVENTORY_TIMEOUT_MS=10
# no usable INTERNAL_KEY (issue 11): every kind of program that speaks inside refuses to start
refused "inventory, INTERNAL_KEY too short" inventory \
	"no usable INTERNAL_KEY (each key needs 16+ characters); stopping" INTERNAL_KEY=short-key
refused "orders service, INTERNAL_KEY empty" orders \
	"no usable INTERNAL_KEY (each key needs 16+ characters); stopping" INTERNAL_KEY=
refused "orders-listener, INTERNAL_KEY of short keys" orders-listener \
	"no usable INTERNAL_KEY (each key needs 16+ characters); stopping" INTERNAL_KEY=a,b,c
# a short key beside good ones is a typo, refused rather than skipped
refused "inventory, a short key after a good INTERNAL_KEY" inventory \
	"no usable INTERNAL_KEY (each key needs 16+ characters); stopping" \
	INTERNAL_KEY=a-long-enough-internal-key,short
refused "user service, a short key before a good SESSION_KEYS" user \
	"no usable SESSION_KEYS (each key needs 16+ characters); stopping" \
	SESSION_KEYS=short,a-long-enough-session-key

# the same from the MB_CONFIG file rather than the environment
cp "$VAR_DIR/microbook.conf" "$TMP/bad.conf"
echo "ORDER_TTL=15m" >>"$TMP/bad.conf"
rm -rf "$TMP/log" && mkdir -p "$TMP/log"
env -u ORDER_TTL MB_CONFIG="$TMP/bad.conf" LOG_DIR="$TMP/log" \
	timeout 5 "$BIN/mb-orders-listener" </dev/null >/dev/null 2>"$TMP/err"
rc=$?
check "orders-listener, ORDER_TTL=15m in the file: exits 1 (rc $rc)" [ "$rc" = 1 ]
check "orders-listener: stderr names ORDER_TTL=15m" grep -qF "invalid setting ORDER_TTL=15m" "$TMP/err"

# without LOG_DIR the log is stderr: still exactly one line there
env MB_CONFIG="$VAR_DIR/microbook.conf" LOG_DIR= PBKDF2_ITER=0 \
	timeout 5 "$BIN/mb-payment" </dev/null >/dev/null 2>"$TMP/err"
rc=$?
check "payment service without LOG_DIR, PBKDF2_ITER=0: exits 1 (rc $rc)" [ "$rc" = 1 ]
check "payment service: exactly one line on stderr" [ "$(wc -l <"$TMP/err")" = 1 ]
check "payment service: it names PBKDF2_ITER=0" grep -qF "invalid setting PBKDF2_ITER=0" "$TMP/err"

finish
