#!/usr/bin/env bash
# Build and install checks (issue 10): `make run` builds only what it runs,
# and each target's package list (scripts/deps.sh --list) covers the
# headers, libraries and programs that target uses. Run by `make check`
# before the unit tests; prints "ok - ..." / "not ok - ..." lines.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
ok()   { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; FAILS=$((FAILS + 1)); }

# 1. What `make run` would do on an empty build folder: the programs it
#    starts, nothing from t/, no test library.
make -n run BUILD="$TMP/empty" >"$TMP/run.n" 2>&1
if ! grep -q "mb-user" "$TMP/run.n"; then
	fail "make -n run builds the services" "$(head -5 "$TMP/run.n")"
elif grep -nE '(^|[ /])t/|cmocka' "$TMP/run.n" >"$TMP/run.bad"; then
	fail "make -n run names nothing from t/ and no test library" "$(head -3 "$TMP/run.bad")"
else
	ok "make -n run builds the five programs and nothing from t/ (no cmocka)"
fi
for prog in user orders payment inventory orders-listener; do
	grep -q "mb-$prog\b" "$TMP/run.n" || fail "make -n run builds mb-$prog" "not named"
done

# 2. README's apt-get line for a non-root `make run` names what deps.sh installs.
readme=$(sed -n '/^sudo apt-get install /,/^```/p' README.md | sed 's/^sudo apt-get install //; s/\\$//; /^```/d' \
	| tr ' ' '\n' | sed '/^$/d' | sort)
if [ -n "$readme" ] && [ "$readme" = "$(scripts/deps.sh --list run | sort)" ]; then
	ok "README's apt-get line for make run is deps.sh's run list"
else
	fail "README's apt-get line for make run is deps.sh's run list" \
		"README: $(echo $readme); deps.sh: $(scripts/deps.sh --list run | tr '\n' ' ')"
fi

# owners FILE...: "FILE<TAB>package" for each FILE (symlinks resolved), in one dpkg call
owners() {
	local f
	for f in "$@"; do [ -e "$f" ] && readlink -f "$f" || echo "$f"; done >"$TMP/paths"
	# dpkg -S prints "pkg[:arch][, pkg2]: /path"
	# shellcheck disable=SC2046
	dpkg -S $(sort -u "$TMP/paths") 2>/dev/null \
		| awk -F': ' '{ split($1, p, /[:,]/); print $2 "\t" p[1] }' >"$TMP/owners"
	paste <(printf '%s\n' "$@") "$TMP/paths" | while IFS=$'\t' read -r f real; do
		printf '%s\t%s\n' "$f" "$(awk -F'\t' -v f="$real" '$1 == f { print $2; exit }' "$TMP/owners")"
	done
}

# closure TARGET: TARGET's packages and everything they depend on (installed)
closure() {
	# shellcheck disable=SC2046
	apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $(scripts/deps.sh --list "$1") 2>/dev/null \
		| sed -n 's/^ *\(Pre\)\?Depends: <\?\([^>: ]*\).*/\2/p; s/^\([a-z0-9][^ :]*\)$/\1/p' | sort -u
}

# covered TARGET WHAT FILE...: every FILE's package is in TARGET's closure
covered() {
	local t=$1 what=$2 f p bad=""
	shift 2
	[ -s "$TMP/closure.$t" ] || closure "$t" >"$TMP/closure.$t"
	while IFS=$'\t' read -r f p; do
		[ -z "$p" ] && { bad+=" $f(no package)"; continue; }
		grep -qx "$p" "$TMP/closure.$t" || bad+=" $f($p)"
	done < <(owners "$@")
	if [ -z "$bad" ]; then ok "deps.sh $t covers $what"
	else fail "deps.sh $t covers $what" "not in its list:$bad"; fi
}

# headers SOURCES...: the system headers the sources include, with the build's flags
PKGS="fcgi libmariadb jansson libcrypto uuid nanomsg"
headers() {
	local s
	for s in "$@"; do
		# shellcheck disable=SC2046
		cc -M -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags $PKGS) "$s"
	done | tr ' \\' '\n\n' | grep '^/usr/' | sort -u
}
# libs: the shared libraries the build links (pkg-config's -l flags)
libs() {
	local l d
	for l in $(pkg-config --libs-only-l $PKGS) -lcrack -lpthread "$@"; do
		l=${l#-l}
		for d in $(gcc -print-search-dirs | sed -n 's/^libraries: =//p' | tr : ' '); do
			[ -e "$d/lib$l.so" ] && { readlink -f "$d/lib$l.so"; break; }
		done
	done | sort -u
}
progs() { local c; for c in "$@"; do command -v "$c" || echo "/nonexistent/$c"; done; }

run_src=(lib/*.c fcgi/*/*.c daemons/*/*.c)
# shellcheck disable=SC2046
covered run "the headers of lib/, fcgi/ and daemons/" $(headers "${run_src[@]}")
# shellcheck disable=SC2046
covered run "the libraries they link" $(libs)
# shellcheck disable=SC2046
covered run "the programs scripts/stack.sh starts" \
	$(progs cc make pkg-config nginx spawn-fcgi multiwatch mariadbd mariadb-install-db mariadb curl openssl)
# cracklib's dictionary is built at install time and owned by no package;
# cracklib-runtime, which builds it, ships cracklib-check
# shellcheck disable=SC2046
covered run "cracklib-runtime (the dictionary the user service reads)" $(progs cracklib-check)
# shellcheck disable=SC2046
covered check "the unit tests' headers and libraries" $(headers t/unit/*.c) $(libs -lcmocka)
# shellcheck disable=SC2046
covered check "the test tools" $(progs jq clang chromium node npm socat cgi-fcgi)
# shellcheck disable=SC2046
covered fuzz "the fuzz harnesses' headers" $(headers t/fuzz/*.c)
clang_rt=$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
covered fuzz "clang and its fuzzer runtime" "$(command -v clang)" "$clang_rt"
# shellcheck disable=SC2046
covered bench "the bench programs and tools" $(headers bench/*.c) $(progs wrk mariadb-slap)
# (ip is iproute2's too, but dpkg -S cannot find /bin files through the /usr merge)
# shellcheck disable=SC2046
covered cluster "the programs and the Galera library scripts/cluster.sh uses" \
	$(progs rsync wsrep_sst_rsync mariadbd mariadb-install-db nginx spawn-fcgi multiwatch jq curl) \
	/usr/lib/galera/libgalera_smm.so

[ "$FAILS" -eq 0 ]
