#!/usr/bin/env bash
# Starts and stops one microbook stack: a private MariaDB, the daemons, the
# FastCGI services and nginx, all under $VAR_DIR with pid files there, so
# two stacks (PORT, VAR_DIR) can run side by side and `stop` touches only
# what `start` started.
#   scripts/stack.sh start|stop|status|render-nginx
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
VAR_DIR=${VAR_DIR:-$ROOT/var}
mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RUN=$VAR_DIR/run
LOG=$VAR_DIR/log
FCGI_WORKERS=${FCGI_WORKERS:-4}
LOGIN_RATE=${LOGIN_RATE:-5r/s}
LOGIN_BURST=${LOGIN_BURST:-10}
DB_SOCK=$RUN/mysql.sock
ADMIN=(mariadb --no-defaults --socket="$DB_SOCK" -u "$(id -un)")

# every knob of lib/cfg.c that may be passed through from the environment
CFG_KEYS=(SESSION_IDLE SESSION_MAX COOKIE_SECURE PBKDF2_ITER DB_TIMEOUT INVENTORY_TIMEOUT_MS
          INVENTORY_THREADS SWEEP_GRACE ORDER_TTL)

say() { printf '%s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

source "$ROOT/scripts/pids.sh"
alive() { pid_of "$1" "$2" >/dev/null; }
# stop NAME-of-pidfile PROCESS [SIGNAL]: stops it and says so
stop_one() { if stop_pid "$@"; then say "stopped $2"; fi; }

start_db() {
	mkdir -p "$VAR_DIR/mysql" "$RUN" "$LOG"
	if alive "$RUN/mysqld.pid" mariadbd; then
		return 0
	fi
	local as_root=()
	[ "$(id -u)" -eq 0 ] && as_root=(--user=root)
	if [ ! -d "$VAR_DIR/mysql/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$VAR_DIR/mysql" "${as_root[@]}" \
			--auth-root-authentication-method=socket --skip-test-db >"$LOG/mysql-install.log" 2>&1 \
			|| die "mariadb-install-db failed; see $LOG/mysql-install.log"
	fi
	setsid mariadbd --no-defaults --datadir="$VAR_DIR/mysql" --socket="$DB_SOCK" \
		--skip-networking --pid-file="$RUN/mysqld.pid" --log-error="$LOG/mysqld.log" \
		--innodb-buffer-pool-size=256M --max-connections=500 "${as_root[@]}" \
		</dev/null >/dev/null 2>&1 &
	local i
	for i in $(seq 300); do
		mariadb-admin --no-defaults --socket="$DB_SOCK" -u "$(id -un)" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	mariadb-admin --no-defaults --socket="$DB_SOCK" -u "$(id -un)" ping >/dev/null 2>&1 \
		|| die "MariaDB did not start; see $LOG/mysqld.log"
	# the pid file appears a moment after the socket answers
	for i in $(seq 50); do [ -s "$RUN/mysqld.pid" ] && break; sleep 0.1; done
}

setup_db() {
	local pass_file=$VAR_DIR/db.pass
	if [ ! -s "$pass_file" ]; then
		(umask 077; openssl rand -hex 16 >"$pass_file")
	fi
	DB_PASS=$(cat "$pass_file")
	"${ADMIN[@]}" <<SQL
CREATE DATABASE IF NOT EXISTS microbook CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'microbook'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'microbook'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON microbook.* TO 'microbook'@'localhost';
CREATE TABLE IF NOT EXISTS microbook.schema_migrations (
  version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL);
SQL
	local f v
	for f in "$ROOT"/sql/[0-9]*.sql; do
		v=$(basename "$f" .sql)
		if [ -z "$("${ADMIN[@]}" -N microbook -e "SELECT 1 FROM schema_migrations WHERE version='$v'")" ]; then
			"${ADMIN[@]}" microbook <"$f" || die "migration $v failed"
			"${ADMIN[@]}" microbook -e "INSERT INTO schema_migrations VALUES ('$v', UTC_TIMESTAMP())"
			say "applied sql/$v.sql"
		fi
	done
}

write_config() {
	local keys=${SESSION_KEYS:-}
	if [ -z "$keys" ]; then
		[ -s "$VAR_DIR/session.key" ] || (umask 077; openssl rand -hex 32 >"$VAR_DIR/session.key")
		keys=$(cat "$VAR_DIR/session.key")
	fi
	local k conf=$VAR_DIR/microbook.conf
	(umask 077; {
		echo "# written by scripts/stack.sh; the environment overrides each line"
		echo "DB_SOCKET=$DB_SOCK"
		echo "DB_USER=microbook"
		echo "DB_PASS=$DB_PASS"
		echo "DB_NAME=microbook"
		echo "SESSION_KEYS=$keys"
		echo "LOG_DIR=$LOG"
		echo "EPOCH_FILE=$RUN/epochs"
		echo "INVENTORY_URL=${INVENTORY_URL:-ipc://$RUN/inventory.ipc}"
		echo "BUS_URL=${BUS_URL:-ipc://$RUN/bus.ipc}"
		for k in "${CFG_KEYS[@]}"; do
			[ -n "${!k:-}" ] && echo "$k=${!k}"
		done
		true
	} >"$conf")
	export MB_CONFIG=$conf
}

# start_daemon NAME: a daemon under multiwatch, which restarts it if it dies
start_daemon() {
	local name=$1 bin=$BUILD/mb-$1
	[ -x "$bin" ] || return 0
	alive "$RUN/$name.pid" multiwatch && return 0
	setsid /usr/bin/multiwatch -f 1 -r 1000 -- "$bin" </dev/null >>"$LOG/$name.out" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

# start_fcgi NAME: spawn-fcgi makes the socket, multiwatch keeps the workers
start_fcgi() {
	local name=$1 bin=$BUILD/mb-$1
	[ -x "$bin" ] || return 0
	alive "$RUN/$name.pid" multiwatch && return 0
	rm -f "$RUN/$name.sock"
	spawn-fcgi -s "$RUN/$name.sock" -M 0666 -P "$RUN/$name.pid" -- \
		/usr/bin/multiwatch -f "$FCGI_WORKERS" -r 1000 -- "$bin" >/dev/null
}

# render_nginx: nginx/nginx.conf.in with this stack's values, on stdout (also
# `stack.sh render-nginx`, which make bench uses for its floor nginx; WEB_DIR
# replaces web/ there)
render_nginx() {
	local user_line=""
	[ "$(id -u)" -eq 0 ] && user_line="user www-data;"
	sed -e "s|@USER_LINE@|$user_line|" -e "s|@PORT@|$PORT|g" -e "s|@VAR@|$VAR_DIR|g" \
		-e "s|@RUN@|$RUN|g" -e "s|@LOG@|$LOG|g" -e "s|@WEB@|${WEB_DIR:-$ROOT/web}|g" -e "s|@ROOT@|$ROOT|g" \
		-e "s|@LOGIN_RATE@|$LOGIN_RATE|g" -e "s|@LOGIN_BURST@|$LOGIN_BURST|g" \
		"$ROOT/nginx/nginx.conf.in"
}

start_nginx() {
	alive "$RUN/nginx.pid" nginx && return 0
	local conf=$VAR_DIR/nginx/nginx.conf
	mkdir -p "$VAR_DIR/nginx/tmp"
	render_nginx >"$conf"
	nginx -p "$VAR_DIR/nginx" -e "$LOG/nginx-error.log" -c "$conf" \
		|| die "nginx did not start; see $LOG/nginx-error.log"
}

# a program that refused its settings (lib/cfg.c) says so in its log and exits
refused_setting() {
	tail -q -n 20 "$LOG"/*.log 2>/dev/null | awk -v t="$STARTED" '$1 >= t && / error / && /invalid setting/' |
		head -1 | sed 's/^[^ ]* error \([^[]*\)\[[0-9]*\] ref=- /\1: /' || true
}

wait_healthy() {
	local i bad url=http://127.0.0.1:$PORT
	for i in $(seq 300); do
		if curl -sf -o /dev/null "$url/user/health"; then
			return 0
		fi
		bad=$(refused_setting)
		[ -z "$bad" ] || die "$bad. Fix it, make stop, start again; logs in $LOG"
		sleep 0.1
	done
	die "not healthy after 30 s: curl $url/user/health; logs in $LOG"
}

start() {
	[ -x "$BUILD/mb-user" ] || die "not built; run make first"
	STARTED=$(date -u +%Y-%m-%dT%H:%M:%S)
	start_db
	setup_db
	write_config
	start_daemon inventory
	start_daemon orders-listener
	start_fcgi user
	start_fcgi orders
	start_fcgi payment
	start_nginx
	wait_healthy
	cat <<MSG
microbook is up: http://127.0.0.1:$PORT/
  demo login:  micro / 123
  try:         curl -s -c jar -d userName=micro -d pwd=123 http://127.0.0.1:$PORT/user/login
  state, logs: $VAR_DIR
  stop with:   make stop$( [ "$PORT" != 8080 ] && printf ' PORT=%s' "$PORT")$( [ "$VAR_DIR" != "$ROOT/var" ] && printf ' VAR_DIR=%s' "$VAR_DIR")
MSG
}

stop() {
	stop_one "$RUN/nginx.pid" nginx QUIT
	local n
	for n in payment orders user orders-listener inventory; do
		stop_one "$RUN/$n.pid" multiwatch
	done
	stop_one "$RUN/mysqld.pid" mariadbd
}

status() {
	local n rc=0
	for n in mysqld:mariadbd inventory:multiwatch orders-listener:multiwatch user:multiwatch \
		orders:multiwatch payment:multiwatch nginx:nginx; do
		if alive "$RUN/${n%%:*}.pid" "${n#*:}"; then say "${n%%:*}: running"; else say "${n%%:*}: stopped"; rc=1; fi
	done
	return $rc
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
render-nginx) render_nginx ;;
*) die "usage: $0 start|stop|status|render-nginx" ;;
esac
