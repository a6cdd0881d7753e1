# Helpers for the end-to-end suites: real curl against the real stack that
# scripts/check.sh started (BASE, VAR_DIR). Each check prints one line,
# "ok - name" or "not ok - name: why", which check.sh counts.
# shellcheck shell=bash
set -u
: "${BASE:?BASE is not set (run through make check)}"
: "${VAR_DIR:?}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0

ok()   { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; FAILS=$((FAILS + 1)); }
# check NAME COMMAND...: ok when the command succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "$*"; fi; }

# api METHOD PATH [curl args...]: sets STATUS, BODY and HDRS (the headers file)
api() {
	local m=$1 p=$2
	shift 2
	HDRS=$TMP/h.$$
	STATUS=$(curl -s -m 15 -X "$m" -D "$HDRS" -o "$TMP/b.$$" -w '%{http_code}' "$@" "$BASE$p")
	BODY=$(cat "$TMP/b.$$" 2>/dev/null)
}
# jqb FILTER: reads the last BODY
jqb() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }
header() { grep -i "^$1:" "$HDRS" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }

# length_ok NAME: the last answer has a Content-Length equal to its body and
# is not chunked (the services send their answer's length; nginx passes it on)
length_ok() {
	local want got
	want=$(wc -c <"$TMP/b.$$")
	got=$(header Content-Length)
	if [ "$got" = "$want" ] && [ -z "$(header Transfer-Encoding)" ]; then ok "Content-Length: $1"
	else fail "Content-Length: $1" "Content-Length '$got', body $want bytes, Transfer-Encoding '$(header Transfer-Encoding)'"; fi
}

# expect NAME STATUS [CODE]: the last answer had this status (and error code)
# and the envelope's ref equals the X-Request-Id header
expect() {
	local n=$1 st=$2 code=${3:-} why=""
	[ "$STATUS" = "$st" ] || why="status $STATUS, want $st"
	if [ -z "$why" ] && [ -n "$code" ] && [ "$(jqb .error.code)" != "$code" ]; then
		why="code $(jqb .error.code), want $code"
	fi
	if [ -z "$why" ] && [ "$(jqb .ref)" != "$(header X-Request-Id)" ]; then
		why="ref $(jqb .ref) != X-Request-Id $(header X-Request-Id)"
	fi
	if [ -z "$why" ] && ! header Content-Type | grep -qi '^application/json; charset=utf-8$'; then
		why="Content-Type $(header Content-Type)"
	fi
	if [ -z "$why" ]; then ok "$n"; else fail "$n" "$why; body: ${BODY:0:300}"; fi
}

# sql QUERY: runs on the stack's database as the admin user, tab-separated
sql() { mariadb --no-defaults --socket="$VAR_DIR/run/mysql.sock" -u "$(id -un)" -N -B microbook -e "$1"; }

# The password of new_user's users: strong enough for cracklib (a password
# made from the user name, like password-$UNAME, is refused as too weak).
TEST_PWD=paper-Lantern-73
# new_user JAR: registers a fresh user, logs in with JAR as cookie jar; sets UNAME, UID_
new_user() {
	local jar=$1
	UNAME="u$(date +%s%N | tail -c 12)$RANDOM"
	UNAME=${UNAME:0:20}
	api POST /user/register -d "userName=$UNAME" -d "pwd=$TEST_PWD"
	UID_=$(jqb .data.userId)
	api POST /user/login -c "$jar" -d "userName=$UNAME" -d "pwd=$TEST_PWD"
	[ "$STATUS" = 200 ] || echo "# new_user: login answered $STATUS $BODY"
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds
wait_for() {
	local s=$1 i
	shift
	for i in $(seq $((s * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# restart_daemon NAME [VAR=value...]: restarts one daemon with extra settings
# (through stack.sh, which starts it as the stack's user)
restart_daemon() {
	local name=$1 pidf=$VAR_DIR/run/$1.pid
	shift
	kill "$(cat "$pidf")" 2>/dev/null
	while kill -0 "$(cat "$pidf")" 2>/dev/null; do sleep 0.1; done
	env "$@" "$ROOT/scripts/stack.sh" daemon "$name" >/dev/null
}

# finish: every suite ends with the invariants of API.md
finish() {
	bash "$ROOT/t/e2e/invariants.sh"
	[ "$FAILS" -eq 0 ]
}
