#!/usr/bin/env bash
# `make check`: unit tests, then the end-to-end suites against a stack of
# its own (CHECK_PORT, CHECK_VAR_DIR) so a `make run` stack can stay up.
# Every suite prints "ok - ..." / "not ok - ..." lines; the last line is
# "N passed, N failed" and the exit status is non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
OUT=${CHECK_OUT:-$ROOT/t/out}
export PORT=${CHECK_PORT:-18080}
export VAR_DIR=${CHECK_VAR_DIR:-$ROOT/var-check}
export BUILD
# Test settings: cheap password hashing, short grace periods so that the
# sweeps can be observed; each e2e suite may restart a daemon with others.
export PBKDF2_ITER=${PBKDF2_ITER:-1000}
export SWEEP_GRACE=${SWEEP_GRACE:-5}
export LOGIN_RATE=${LOGIN_RATE:-50r/s} LOGIN_BURST=${LOGIN_BURST:-100}
export BASE=http://127.0.0.1:$PORT

passed=0
failed=0
mkdir -p "$OUT"

count() { # count FILE: adds the ok / not ok lines of a suite's output
	local p f
	p=$(grep -c '^ok - ' "$1" || true)
	f=$(grep -c '^not ok - ' "$1" || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

echo "== unit tests ($BUILD)"
for t in "$BUILD"/t/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" >"$OUT/$name.log" 2>&1; then rc=0; else rc=$?; fi
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.log" | tail -1)
	p=${p:-0}; f=${f:-0}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed before its summary
	echo "$name: $p passed, $f failed"
	[ "$f" -ne 0 ] && sed 's/^/    /' "$OUT/$name.log" | grep -v '^\s*\[ \(RUN\|      OK\) ' | tail -20
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "== end-to-end tests on port $PORT, state in $VAR_DIR"
PORT=$PORT VAR_DIR=$VAR_DIR scripts/stack.sh stop >/dev/null 2>&1
rm -rf "$VAR_DIR"
trap 'scripts/stack.sh stop >/dev/null 2>&1' EXIT
if scripts/stack.sh start >"$OUT/stack-start.log" 2>&1; then
	for t in t/e2e/[0-9]*.sh; do
		name=$(basename "$t" .sh)
		echo "-- $name"
		timeout 600 bash "$t" >"$OUT/$name.log" 2>&1
		rc=$?
		grep -E '^(not )?ok - ' "$OUT/$name.log" | sed 's/^/  /'
		count "$OUT/$name.log"
		if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$OUT/$name.log"; then
			echo "  not ok - $name exited with status $rc"; failed=$((failed + 1))
			tail -20 "$OUT/$name.log" | sed 's/^/    /'
		fi
	done
else
	echo "not ok - the test stack did not start"; failed=$((failed + 1))
	sed 's/^/    /' "$OUT/stack-start.log"
fi
scripts/stack.sh stop >/dev/null 2>&1
trap - EXIT

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
