#!/usr/bin/env bash
# Installs the Debian packages microbook needs that are missing. As root it
# runs apt-get; as anyone else it names what to install and fails.
#   scripts/deps.sh          what `make run` needs (build + runtime)
#   scripts/deps.sh check    plus what the tests need
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(gcc make pkg-config curl openssl libfcgi-dev spawn-fcgi multiwatch nginx
      libmariadb-dev mariadb-server mariadb-client libjansson-dev libssl-dev uuid-dev
      libnanomsg-dev)
if [ "${1:-}" = check ]; then
	pkgs+=(libcmocka-dev jq wrk clang libclang-rt-14-dev chromium nodejs npm socat)
fi

missing=()
for p in "${pkgs[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
# node and npm may come from elsewhere than Debian; only ask apt when absent.
if [ ${#missing[@]} -gt 0 ]; then
	keep=()
	for p in "${missing[@]}"; do
		case "$p" in nodejs) command -v node >/dev/null || keep+=("$p") ;;
		             npm) command -v npm >/dev/null || keep+=("$p") ;;
		             *) keep+=("$p") ;;
		esac
	done
	missing=("${keep[@]+"${keep[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]}" >&2
		echo "install them with: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = check ] && [ -f package-lock.json ] && [ ! -d node_modules ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
