#!/usr/bin/env bash
# Installs the Debian packages that the named targets need and are missing.
# As root it runs apt-get; as anyone else it prints the exact apt-get line
# and fails.
#   scripts/deps.sh run [check bench fuzz ...]   install for these targets
#   scripts/deps.sh --list TARGET                 print TARGET's packages, one a line
# Each target's list covers what it builds and runs, and nothing more:
#   run    compiler, the libraries' -dev packages, nginx, spawn-fcgi,
#          multiwatch, MariaDB (server and client)
#   check  run + cmocka (unit tests), jq, wrk (so t/build.sh can check bench's list), clang with its fuzzer runtime,
#          chromium and node/npm (browser and Postman clients), socat and
#          libfcgi-bin's cgi-fcgi (70_abuse reaches sockets directly), newman and
#          playwright-core from package-lock.json
#   bench  run + wrk (mariadb-slap comes with mariadb-client)
#   fuzz   the compiler, the libraries' -dev packages, clang and its runtime
# t/build.sh (run by `make check`) checks that each list covers the headers,
# libraries and programs its target uses.
set -euo pipefail
cd "$(dirname "$0")/.."

build=(gcc libc6-dev make pkg-config libfcgi-dev libmariadb-dev libjansson-dev libssl-dev
       uuid-dev libnanomsg-dev libcrack2-dev)
runtime=(curl openssl spawn-fcgi multiwatch nginx mariadb-server mariadb-client cracklib-runtime)
fuzzer=(clang libclang-rt-14-dev)

# pkgs_for TARGET: the packages of one target
pkgs_for() {
	case "$1" in
	run)   echo "${build[*]} ${runtime[*]}" ;;
	check) echo "${build[*]} ${runtime[*]} libcmocka-dev jq ${fuzzer[*]} chromium nodejs npm wrk socat libfcgi-bin" ;;
	bench) echo "${build[*]} ${runtime[*]} wrk" ;;
	fuzz)  echo "${build[*]} ${fuzzer[*]}" ;;
	# make cluster-*: network namespaces, Galera and its rsync state transfer
	cluster) echo "${build[*]} ${runtime[*]} iproute2 galera-4 rsync jq" ;;
	*) echo "deps.sh: unknown target '$1' (run, check, bench, fuzz, cluster)" >&2; return 1 ;;
	esac
}

if [ "${1:-}" = --list ]; then
	for p in $(pkgs_for "${2:?--list needs a target}"); do echo "$p"; done
	exit 0
fi

targets=("${@:-run}")
want=()
for t in "${targets[@]}"; do
	read -r -a ps <<<"$(pkgs_for "$t")"
	want+=("${ps[@]}")
done

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] && continue
	# node and npm may come from elsewhere than Debian; only ask apt when absent.
	case "$p" in
	nodejs) command -v node >/dev/null && continue ;;
	npm) command -v npm >/dev/null && continue ;;
	esac
	missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages for '${targets[*]}': ${missing[*]}" >&2
		echo "install them with: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "installing for '${targets[*]}' (a first run takes a few minutes): ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

case " ${targets[*]} " in
*" check "*)
	if [ -f package-lock.json ] && [ ! -d node_modules ]; then
		npm ci --no-audit --no-fund --loglevel=error
	fi ;;
esac
