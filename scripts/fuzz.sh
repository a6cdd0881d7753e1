#!/usr/bin/env bash
# `scripts/fuzz.sh [name...]`: builds the libFuzzer harnesses t/fuzz/fuzz_*.c
# with clang (ASan + UBSan) into build-fuzz/, then runs each (or only the
# named ones) for FUZZ_SECONDS (default 60) on a scratch copy of its seed
# corpus t/fuzz/corpus/<name>/, so new corpus files never land in the repo.
# Prints "ok - fuzz <name> (<runs> runs)" or "not ok - fuzz <name>: <reason>";
# a crash, leak, timeout or sanitizer report keeps its input under
# build-fuzz/artifacts/<name>/ and the full log under build-fuzz/logs/.
# The exit status is non-zero when any target failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=build-fuzz
CC=${FUZZ_CC:-clang}
PKGS=(fcgi libmariadb jansson libcrypto uuid nanomsg)
SAN=address,undefined

case $FUZZ_SECONDS in
''|*[!0-9]*) echo "not ok - fuzz: FUZZ_SECONDS must be a whole number of seconds"; exit 1 ;;
esac

if ! command -v "$CC" >/dev/null; then
	echo "not ok - fuzz: $CC not found (apt-get install -y clang libclang-rt-14-dev)"
	exit 1
fi
if ! PKG_CFLAGS=$(pkg-config --cflags "${PKGS[@]}") || ! PKG_LIBS=$(pkg-config --libs "${PKGS[@]}"); then
	echo "not ok - fuzz: pkg-config does not know all of: ${PKGS[*]} (make deps)"
	exit 1
fi
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Ilib $PKG_CFLAGS
        -fsanitize=fuzzer-no-link,$SAN -fno-sanitize-recover=undefined"
LDFLAGS="-fsanitize=fuzzer,$SAN"
mkdir -p "$OUT/obj/lib" "$OUT/obj/fuzz" "$OUT/logs" "$OUT/run" "$OUT/artifacts"

# The fuzzer runtime is a separate Debian package from clang itself.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    >"$OUT/obj/probe.c"
if ! "$CC" $LDFLAGS "$OUT/obj/probe.c" -o "$OUT/obj/probe" >"$OUT/logs/probe.log" 2>&1; then
	echo "not ok - fuzz: $CC cannot link -fsanitize=fuzzer (apt-get install -y libclang-rt-14-dev)"
	sed 's/^/    /' "$OUT/logs/probe.log" | head -5
	exit 1
fi

# compile SRC OBJ [extra flags]: only when the source, a header or this script is newer
compile() {
	local src=$1 obj=$2 dep
	shift 2
	if [ -f "$obj" ]; then
		for dep in "$src" lib/*.h t/fuzz/fuzz.h scripts/fuzz.sh; do
			[ "$dep" -nt "$obj" ] && break
			dep=
		done
		[ -z "$dep" ] && return 0
	fi
	# shellcheck disable=SC2086 # CFLAGS is a list of flags
	"$CC" $CFLAGS "$@" -c "$src" -o "$obj"
}

build_failed() {
	echo "not ok - fuzz build: $1"
	sed 's/^/    /' "$OUT/logs/build.log" | tail -20
	exit 1
}

: >"$OUT/logs/build.log"
lib_objs=()
for src in lib/*.c; do
	obj=$OUT/obj/lib/$(basename "$src" .c).o
	compile "$src" "$obj" >>"$OUT/logs/build.log" 2>&1 || build_failed "$src"
	lib_objs+=("$obj")
done

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for src in t/fuzz/fuzz_*.c; do
		n=$(basename "$src" .c)
		names+=("${n#fuzz_}")
	done
fi
for name in "${names[@]}"; do
	src=t/fuzz/fuzz_$name.c
	[ -f "$src" ] || build_failed "no harness $src"
	obj=$OUT/obj/fuzz/fuzz_$name.o
	compile "$src" "$obj" -Wall -Wextra -Werror >>"$OUT/logs/build.log" 2>&1 || build_failed "$src"
	# shellcheck disable=SC2086 # LDFLAGS and PKG_LIBS are lists of flags
	"$CC" $LDFLAGS "$obj" "${lib_objs[@]}" -o "$OUT/fuzz_$name" $PKG_LIBS -lpthread \
	    >>"$OUT/logs/build.log" 2>&1 || build_failed "linking fuzz_$name"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
if [ -f t/fuzz/lsan.supp ]; then
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/t/fuzz/lsan.supp:print_suppressions=0}
fi

# reason LOG: the first line that says what went wrong
reason() {
	local line pat
	for pat in 'property failed' '^SUMMARY: ' 'ERROR: ' 'runtime error: '; do
		line=$(grep -a -m1 -e "$pat" "$1") && { echo "${line#*: }"; return; }
	done
	echo "exit status $2, no sanitizer report (see $1)"
}

failed=0
for name in "${names[@]}"; do
	work=$OUT/run/$name
	art=$OUT/artifacts/$name
	log=$OUT/logs/$name.log
	rm -rf "$work"
	mkdir -p "$work/corpus" "$art"
	if [ -d "t/fuzz/corpus/$name" ]; then
		cp -R "t/fuzz/corpus/$name/." "$work/corpus/"
	fi
	dict=()
	[ -f "t/fuzz/$name.dict" ] && dict=(-dict="t/fuzz/$name.dict")
	timeout -k 10 $((FUZZ_SECONDS + 120)) "$OUT/fuzz_$name" \
	    -max_total_time="$FUZZ_SECONDS" -max_len=20000 -rss_limit_mb=2048 -timeout=30 \
	    -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$work/corpus" \
	    >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	if [ "$rc" -eq 0 ] && ! grep -a -q -e '^==[0-9]*==ERROR' -e 'runtime error: ' "$log"; then
		echo "ok - fuzz $name (${runs:-?} runs)"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "not ok - fuzz $name: did not finish within $((FUZZ_SECONDS + 120)) s (log: $log)"
		failed=$((failed + 1))
	else
		echo "not ok - fuzz $name: $(reason "$log" "$rc")"
		[ -n "$artifact" ] && echo "    input: $artifact (replay: $OUT/fuzz_$name $artifact)"
		echo "    log: $log"
		grep -a -m5 '^fuzz note: ' "$log" | sed 's/^/    /'
		grep -a -m1 -A12 -e '^==[0-9]*==ERROR' -e 'runtime error: ' -e 'property failed' "$log" |
		    sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
