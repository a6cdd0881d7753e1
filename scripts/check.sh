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
# The suites register hundreds of users from one address: registration
# limits far above the defaults (70_abuse restarts nginx with low ones).
export REGISTER_RATE=${REGISTER_RATE:-1000r/s} REGISTER_BURST=${REGISTER_BURST:-1000}
export REGISTER_GLOBAL_RATE=${REGISTER_GLOBAL_RATE:-1000r/s} REGISTER_GLOBAL_BURST=${REGISTER_GLOBAL_BURST:-1000}
export REGISTER_CONCURRENCY=${REGISTER_CONCURRENCY:-1000}
# 20_orders' storm, 30_payment, 40_faults make many orders per user: the
# per-user limits (MAX_OPEN_ORDERS, ORDER_RATE) far above the defaults too.
export MAX_OPEN_ORDERS=${MAX_OPEN_ORDERS:-100000}
export ORDER_RATE=${ORDER_RATE:-100000r/s} ORDER_BURST=${ORDER_BURST:-100000}
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

# unit_tests BUILD [DIR]: every cmocka binary of that build (in t/, or t/DIR)
unit_tests() {
	local t name p f rc
	echo "== unit tests ($1${2:+, $2})"
	for t in "$1"/t/${2:+$2/}test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$1")-${2:+$2-}$(basename "$t")
		if "$t" >"$OUT/$name.log" 2>&1; then rc=0; else rc=$?; fi
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$OUT/$name.log" | tail -1)
		p=${p:-0}; f=${f:-0}
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed before its summary
		echo "$(basename "$t"): $p passed, $f failed"
		[ "$f" -ne 0 ] && grep -v '^\[ \(RUN\|      OK\) ' "$OUT/$name.log" | tail -20 | sed 's/^/    /'
		passed=$((passed + p))
		failed=$((failed + f))
	done
}

# db_unit_tests BUILD: the tests of t/db (handlers and the auth check), on a
# database of their own (microbook_unit, made afresh from sql/) on the e2e
# stack's MariaDB, so they neither see nor disturb the suites' data.
db_unit_tests() {
	local sock=$VAR_DIR/run/mysql.sock db=microbook_unit f
	local admin=(mariadb --no-defaults --socket="$sock" -u "$(id -un)")
	if ! "${admin[@]}" -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4
		COLLATE utf8mb4_bin; GRANT ALL ON $db.* TO 'microbook'@'localhost';" >"$OUT/db-unit.log" 2>&1; then
		echo "not ok - no database for the t/db tests"; failed=$((failed + 1))
		sed 's/^/    /' "$OUT/db-unit.log"
		return
	fi
	for f in sql/[0-9]*.sql; do
		"${admin[@]}" "$db" <"$f" >>"$OUT/db-unit.log" 2>&1 \
			|| { echo "not ok - t/db: $f failed"; failed=$((failed + 1)); return; }
	done
	rm -f "$OUT/db-unit-counts"
	( # the settings of a process of its own: only what the tests need
		unset MB_CONFIG EPOCH_FILE LOG_DIR
		export DB_SOCKET=$sock DB_USER=microbook DB_PASS=$(cat "$VAR_DIR/db.pass") DB_NAME=$db
		export SESSION_KEYS=unit-test-key-0123456789
		export INTERNAL_KEY=unit-test-internal-key-0123
		passed=0 failed=0
		unit_tests "$1" db
		echo "$passed $failed" >"$OUT/db-unit-counts"
	)
	local p=0 f=1
	[ -s "$OUT/db-unit-counts" ] && read -r p f <"$OUT/db-unit-counts"
	passed=$((passed + p))
	failed=$((failed + f))
}

# log_marks: "file:lines" of every service log, to show later what was added
log_marks() {
	local f
	for f in "$VAR_DIR"/log/*.log; do
		[ -f "$f" ] && echo "$f:$(wc -l <"$f")"
	done
}

# log_news MARKS: the warn and error lines logged since log_marks (at most 20 a file)
log_news() {
	local m f n
	for m in $1; do
		f=${m%:*} n=${m##*:}
		tail -n +$((n + 1)) "$f" | grep -E ' (warn|error|fatal) |\[(error|crit|alert|emerg)\]' \
			| tail -20 | cut -c1-300 | sed "s|^|    $(basename "$f"): |"
	done
}

# e2e_tests BUILD: a fresh stack of that build, then every suite against it
e2e_tests() {
	local t name rc tag marks
	tag=$(basename "$1")
	export BUILD=$1
	echo "== end-to-end tests ($1) on port $PORT, state in $VAR_DIR"
	scripts/stack.sh stop >/dev/null 2>&1
	rm -rf "$VAR_DIR"
	# log/sanitizer: the reports of the services (which, started as root, run
	# as another user and may write only there); the suppressions beside it,
	# where that user can read them whatever folder holds the checkout
	mkdir -p "$VAR_DIR/log/sanitizer"
	if [ -n "${LSAN_OPTIONS:-}" ]; then
		install -m 0644 "$ROOT/t/lsan.supp" "$VAR_DIR/lsan.supp"
		export LSAN_OPTIONS=${LSAN_OPTIONS//$ROOT\/t\/lsan.supp/$VAR_DIR/lsan.supp}
	fi
	trap 'scripts/stack.sh stop >/dev/null 2>&1' EXIT
	if scripts/stack.sh start >"$OUT/$tag-stack-start.log" 2>&1; then
		db_unit_tests "$1"
		for t in t/e2e/[0-9]*.sh; do
			name=$(basename "$t" .sh)
			echo "-- $name"
			marks=$(log_marks)
			timeout 600 bash "$t" >"$OUT/$tag-$name.log" 2>&1
			rc=$?
			grep -E '^(not )?ok - ' "$OUT/$tag-$name.log" | sed 's/^/  /'
			count "$OUT/$tag-$name.log"
			# a failure shows what the services logged meanwhile (CI keeps no files)
			grep -q '^not ok - ' "$OUT/$tag-$name.log" && log_news "$marks"
			if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$OUT/$tag-$name.log"; then
				echo "  not ok - $name exited with status $rc"; failed=$((failed + 1))
				tail -20 "$OUT/$tag-$name.log" | sed 's/^/    /'
			fi
		done
	else
		echo "not ok - the test stack did not start"; failed=$((failed + 1))
		sed 's/^/    /' "$OUT/$tag-stack-start.log"
	fi
	scripts/stack.sh stop >/dev/null 2>&1
	trap - EXIT
	# a sanitizer report anywhere (services, daemons) fails the run
	if grep -lqE 'ERROR: |runtime error' "$VAR_DIR"/log/sanitizer/* 2>/dev/null; then
		echo "not ok - sanitizer reports in $VAR_DIR/log/sanitizer:"; failed=$((failed + 1))
		head -40 "$VAR_DIR"/log/sanitizer/* | sed 's/^/    /'
	fi
}

# Build and install checks: make run builds only what it runs, and each
# target's package list covers what it uses (t/build.sh).
echo "== build and package lists"
bash t/build.sh >"$OUT/build.log" 2>&1
grep -E '^(not )?ok - ' "$OUT/build.log" | sed 's/^/  /'
count "$OUT/build.log"
grep -q '^not ok - ' "$OUT/build.log" || grep -q '^ok - ' "$OUT/build.log" \
	|| { echo "  not ok - t/build.sh printed no result"; failed=$((failed + 1)); }

unit_tests "$BUILD"
e2e_tests "$BUILD"

# Every libFuzzer harness for CHECK_FUZZ_SECONDS (20) each.
echo "== fuzzing (t/fuzz, ${CHECK_FUZZ_SECONDS:-20} s a target)"
FUZZ_SECONDS=${CHECK_FUZZ_SECONDS:-20} scripts/fuzz.sh >"$OUT/fuzz.log" 2>&1
grep -E '^(not )?ok - ' "$OUT/fuzz.log" | sed 's/^/  /'
count "$OUT/fuzz.log"
if ! grep -qE '^(not )?ok - ' "$OUT/fuzz.log"; then
	echo "  not ok - the fuzzers did not run"; failed=$((failed + 1))
	tail -20 "$OUT/fuzz.log" | sed 's/^/    /'
fi

if [ "${CHECK_SANITIZERS:-1}" = 1 ]; then
	# The same tests on an AddressSanitizer + UndefinedBehaviorSanitizer build.
	echo "== building with -fsanitize=address,undefined into build-asan"
	if make --no-print-directory all SAN=1 BUILD=build-asan >"$OUT/build-asan.log" 2>&1; then
		mkdir -p "$VAR_DIR/log/sanitizer"
		export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:log_path=$VAR_DIR/log/sanitizer/report"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$VAR_DIR/log/sanitizer/report"
		export LSAN_OPTIONS="suppressions=$ROOT/t/lsan.supp:print_suppressions=0"
		unit_tests build-asan
		e2e_tests build-asan
	else
		echo "not ok - the sanitizer build failed"; failed=$((failed + 1))
		tail -20 "$OUT/build-asan.log" | sed 's/^/    /'
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
