#!/usr/bin/env bash
# Starts and stops one microbook stack: a private MariaDB, the daemons, the
# FastCGI services and nginx, all under $VAR_DIR with pid files there, so
# two stacks (PORT, VAR_DIR) can run side by side and `stop` touches only
# what `start` started.
#   scripts/stack.sh start|stop|status      (DEMO=0 start: without the demo data)
#   scripts/stack.sh render-nginx   nginx/nginx.conf.in with this stack's values, on
#                                  stdout (make bench renders its floor nginx so)
#   scripts/stack.sh daemon NAME   (re)starts one daemon if it is not running
#                                  (the e2e suites restart daemons with it)
#
# Started by an ordinary user, everything runs as that user. Started as root
# (see README "Security"), only nginx's master keeps root (to bind): MariaDB
# runs as mysql, the services and daemons as MB_USER (microbook, created if
# missing), nginx's workers as www-data, and the state is laid out so each
# reaches only what it needs:
#   VAR_DIR            root 0711   db.pass, migrate.cnf, session.key, internal.key (root 0600),
#                                  microbook.conf (MB_USER 0600)
#   VAR_DIR/bin, web   root 0755   copies of the programs and the page
#   VAR_DIR/mysql      mysql 0700  the datadir
#   VAR_DIR/db         mysql:MB_USER 0750  mysql.sock
#   VAR_DIR/run        root 0711   pid files; mysql.sock -> ../db/mysql.sock
#   VAR_DIR/run/fcgi   MB_USER:www-data 0750  the FastCGI sockets (0660): NAME.sock (reads),
#                                  NAME-w.sock (everything else: the write workers)
#   VAR_DIR/run/ipc    MB_USER 0700  ipc:// sockets and the epochs file
#   VAR_DIR/log        root 0711   <program>.log (MB_USER), mysqld.log (mysql)
# If VAR_DIR lies under a folder those accounts cannot enter (/root is 0700),
# the state moves to /var/lib/microbook/<hash of VAR_DIR> and VAR_DIR
# becomes a symlink to it.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
VAR_DIR=${VAR_DIR:-$ROOT/var}
mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
SHOWN_VAR_DIR=$VAR_DIR # as given, for messages
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
# the read workers of each service (NAME.sock: GET and HEAD, on nginx's kept
# connections): one per CPU, since a read served from a kept answer is CPU
# work and never waits (fewer workers also render each changed page fewer
# times: make bench, bench/results.md); 4 with KEPT_ANSWERS=0, where every
# read waits on the database (make bench reads this line)
FCGI_WORKERS=${FCGI_WORKERS:-$([ "${KEPT_ANSWERS:-1}" = 0 ] && echo 4 || nproc)}
# the write workers of each service, on a socket of their own (NAME-w.sock):
# every request but GET and HEAD (writes, login, registration), so a write
# that waits (a Sell, a CALL, a PBKDF2) never holds a worker that reads are
# sent to (README "The nginx to FastCGI hop"; make bench reads the default
# from this line)
FCGI_WRITE_WORKERS=${FCGI_WRITE_WORKERS:-4}
# the orders service's write workers: each waits on the inventory daemon for
# its whole Sell, and Sells that wait there together are made in one
# transaction (sql/010), so more in flight is cheaper per order (measured:
# 4 gave 1,600 orders/s, 8 1,800, 16 2,600, 32 no more). The user service's
# write workers hash passwords, CPU work, so more of them only make each
# login slower; they stay FCGI_WRITE_WORKERS (make bench reads this line).
ORDERS_WRITE_WORKERS=${ORDERS_WRITE_WORKERS:-16}
# nginx's worker processes, and the idle FastCGI connections each keeps per
# service (0: a new connection per request); check_pool holds them to
# NGINX_WORKERS x FCGI_KEEPALIVE < 256
NGINX_WORKERS=${NGINX_WORKERS:-$(nproc)}
# (none by default with KEPT_ANSWERS=0: when every read asks the database,
# the hop is a small part of a request, and a GET sent on a kept connection
# of a busy worker waits for it; README "The nginx to FastCGI hop")
FCGI_KEEPALIVE=${FCGI_KEEPALIVE:-$([ "${KEPT_ANSWERS:-1}" = 0 ] && echo 0 || echo 32)}
FCGI_KEEPALIVE_REQUESTS=${FCGI_KEEPALIVE_REQUESTS:-1000}
LOGIN_RATE=${LOGIN_RATE:-5r/s}
LOGIN_BURST=${LOGIN_BURST:-10}
REGISTER_RATE=${REGISTER_RATE:-10r/m}
REGISTER_BURST=${REGISTER_BURST:-5}
REGISTER_GLOBAL_RATE=${REGISTER_GLOBAL_RATE:-2r/s}
REGISTER_GLOBAL_BURST=${REGISTER_GLOBAL_BURST:-20}
# fewer than FCGI_WRITE_WORKERS (registrations and logins both go to the
# write workers), so a register flood leaves user write workers for logins;
# and no more than the CPUs, since each is a PBKDF2 that keeps one busy
if [ -z "${REGISTER_CONCURRENCY:-}" ]; then
	REGISTER_CONCURRENCY=$(( FCGI_WRITE_WORKERS > 2 ? FCGI_WRITE_WORKERS / 2 : 1 ))
	[ "$REGISTER_CONCURRENCY" -le "$(nproc)" ] || REGISTER_CONCURRENCY=$(nproc)
fi
ORDER_RATE=${ORDER_RATE:-10r/m}
ORDER_BURST=${ORDER_BURST:-5}
MB_USER=${MB_USER:-microbook}
NGINX_USER=www-data
AS_ROOT=0
[ "$(id -u)" -eq 0 ] && AS_ROOT=1

# every knob of lib/cfg.c that may be passed through from the environment
CFG_KEYS=(SESSION_IDLE SESSION_MAX COOKIE_SECURE PBKDF2_ITER DB_TIMEOUT INVENTORY_TIMEOUT_MS
          INVENTORY_THREADS SWEEP_GRACE ORDER_TTL MAX_OPEN_ORDERS LOGIN_FAILS LOGIN_FAIL_WINDOW
          LOGIN_BACKOFF)

say() { printf '%s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

source "$ROOT/scripts/pids.sh"
alive() { pid_of "$1" "$2" >/dev/null; }
# stop NAME-of-pidfile PROCESS [SIGNAL]: stops it and says so
stop_one() { if stop_pid "$@"; then say "stopped $2"; fi; }

# drop: the command that runs what follows as MB_USER (exec, no fork, so
# the pid recorded is the program's); empty when not root
DROP=()

ensure_user() {
	[ "$AS_ROOT" = 1 ] || return 0
	if ! id -u "$MB_USER" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$MB_USER" || die "could not create the user $MB_USER"
		say "created the system user $MB_USER"
	fi
	id -u mysql >/dev/null 2>&1 || die "no mysql user (is mariadb-server installed?)"
	DROP=(setpriv --reuid="$MB_USER" --regid="$MB_USER" --init-groups --no-new-privs --)
}

# reachable DIR: mysql, MB_USER and nginx's workers can all enter DIR
reachable() {
	local u
	for u in mysql "$MB_USER" "$NGINX_USER"; do
		setpriv --reuid="$u" --regid="$u" --init-groups test -x "$1" || return 1
	done
}

# place_state: as root, makes sure the state sits where its users can reach
# it (see the top); then VAR_DIR is the physical path
place_state() {
	[ "$AS_ROOT" = 1 ] && [ ! -L "$VAR_DIR" ] && chmod 0711 "$VAR_DIR"
	if [ "$AS_ROOT" = 1 ] && ! reachable "$(cd "$VAR_DIR" && pwd -P)"; then
		[ -L "$VAR_DIR" ] && die "VAR_DIR=$VAR_DIR links to a folder that mysql, $MB_USER or $NGINX_USER cannot enter"
		local shadow
		shadow=/var/lib/microbook/$(printf '%s' "$VAR_DIR" | sha256sum | cut -c1-16)
		mkdir -p /var/lib/microbook
		chmod 0755 /var/lib/microbook
		# a shadow whose link was removed: whatever ran from it goes first
		if [ -d "$shadow" ]; then VAR_DIR=$shadow "$0" stop >/dev/null 2>&1 || true; fi
		rm -rf "$shadow"
		mkdir "$shadow"
		find "$VAR_DIR" -mindepth 1 -maxdepth 1 -exec mv -t "$shadow" {} +
		rmdir "$VAR_DIR"
		ln -s "$shadow" "$VAR_DIR"
		say "$VAR_DIR is not reachable by mysql/$MB_USER/$NGINX_USER: the state is in $shadow"
	fi
	VAR_DIR=$(cd "$VAR_DIR" && pwd -P)
	# sanitizer reports and suppressions named through the link: the real path
	if [ "$VAR_DIR" != "$SHOWN_VAR_DIR" ]; then
		local v
		for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
			[ -n "${!v:-}" ] && export "$v=${!v//$SHOWN_VAR_DIR\//$VAR_DIR/}"
		done
	fi
	true
}

# own USER[:GROUP] MODE PATH...: as root sets owner and mode (never through
# a symlink); otherwise the mode only
own() {
	local who=$1 mode=$2
	shift 2
	[ "$AS_ROOT" = 1 ] && chown -h "$who" "$@"
	chmod "$mode" "$@"
}

# layout: the folders of the top of this file, with their owners and modes
layout() {
	mkdir -p "$VAR_DIR/mysql" "$VAR_DIR/db" "$RUN/fcgi" "$RUN/ipc" "$LOG" "$VAR_DIR/nginx/tmp"
	if [ "$AS_ROOT" = 1 ]; then
		own root:root 0711 "$VAR_DIR" "$RUN" "$LOG" "$VAR_DIR/nginx" "$VAR_DIR/nginx/tmp"
		own mysql:"$MB_USER" 0750 "$VAR_DIR/db"
		own "$MB_USER:$NGINX_USER" 0750 "$RUN/fcgi"
		own "$MB_USER:$MB_USER" 0700 "$RUN/ipc"
		[ -d "$LOG/sanitizer" ] && own "$MB_USER:$MB_USER" 0700 "$LOG/sanitizer"
		# the services cannot create files in log/: their logs are made for them
		local b f
		for b in "$BIN"/mb-*; do
			[ -x "$b" ] || continue
			f=$LOG/${b##*/mb-}.log
			[ -f "$f" ] || : >"$f"
			own "$MB_USER:$MB_USER" 0640 "$f"
		done
	else
		chmod 0700 "$VAR_DIR" "$RUN/fcgi" "$RUN/ipc"
	fi
	# the admin, the tests and bench.sh find the socket here
	[ -L "$DB_SOCK" ] || rm -f "$DB_SOCK"
	ln -sfn "$VAR_DIR/db/mysql.sock" "$DB_SOCK"
}

# install_programs: as root, the programs and the page are copied into
# root-owned folders that MB_USER and nginx's workers can read wherever the
# checkout is (replaced by rename, so running programs keep theirs)
install_programs() {
	[ "$AS_ROOT" = 1 ] || return 0
	local d
	for d in bin web; do rm -rf "$VAR_DIR/$d.new"; done
	mkdir "$VAR_DIR/bin.new"
	cp "$BUILD"/mb-* "$VAR_DIR/bin.new/"
	cp -r "$ROOT/web" "$VAR_DIR/web.new"
	chmod -R u=rwX,go=rX "$VAR_DIR/bin.new" "$VAR_DIR/web.new"
	chmod 0755 "$VAR_DIR"/bin.new/mb-*
	for d in bin web; do
		rm -rf "$VAR_DIR/$d"
		mv "$VAR_DIR/$d.new" "$VAR_DIR/$d"
	done
}

start_db() {
	if alive "$RUN/mysqld.pid" mariadbd; then
		return 0
	fi
	local as=()
	if [ "$AS_ROOT" = 1 ]; then
		as=(--user=mysql)
		chown -R mysql:mysql "$VAR_DIR/mysql"
		[ -f "$LOG/mysqld.log" ] || : >"$LOG/mysqld.log"
		own mysql:mysql 0640 "$LOG/mysqld.log"
	fi
	if [ ! -d "$VAR_DIR/mysql/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$VAR_DIR/mysql" "${as[@]}" \
			--auth-root-authentication-method=socket --skip-test-db >"$LOG/mysql-install.log" 2>&1 \
			|| die "mariadb-install-db failed; see $LOG/mysql-install.log"
	fi
	setsid mariadbd --no-defaults --datadir="$VAR_DIR/mysql" --socket="$VAR_DIR/db/mysql.sock" \
		--skip-networking --pid-file="$VAR_DIR/db/mysqld.pid" --log-error="$LOG/mysqld.log" \
		--innodb-buffer-pool-size=256M --max-connections=500 "${as[@]}" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$RUN/mysqld.pid"
	local i
	for i in $(seq 300); do
		"${ADMIN_PING[@]}" >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$RUN/mysqld.pid")" 2>/dev/null || break
		sleep 0.1
	done
	die "MariaDB did not start; see $LOG/mysqld.log"
}

# Two accounts: microbook_migrate applies sql/ (all rights on the schema);
# microbook, whose password alone goes into the services' config, may only
# SELECT, INSERT, UPDATE and DELETE rows of the schema's tables (not
# schema_migrations) and EXECUTE its procedures: no DROP, ALTER or CREATE.
setup_db() {
	local f v t
	[ -s "$VAR_DIR/db.pass" ] || openssl rand -hex 16 >"$VAR_DIR/db.pass"
	[ -s "$VAR_DIR/db-migrate.pass" ] || openssl rand -hex 16 >"$VAR_DIR/db-migrate.pass"
	DB_PASS=$(cat "$VAR_DIR/db.pass")
	local mig_pass
	mig_pass=$(cat "$VAR_DIR/db-migrate.pass")
	printf '[client]\nuser=microbook_migrate\npassword=%s\nsocket=%s\n' "$mig_pass" "$DB_SOCK" \
		>"$VAR_DIR/migrate.cnf"
	"${ADMIN[@]}" <<SQL
CREATE DATABASE IF NOT EXISTS microbook CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'microbook_migrate'@'localhost' IDENTIFIED BY '$mig_pass';
ALTER USER 'microbook_migrate'@'localhost' IDENTIFIED BY '$mig_pass';
GRANT ALL ON microbook.* TO 'microbook_migrate'@'localhost';
CREATE USER IF NOT EXISTS 'microbook'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'microbook'@'localhost' IDENTIFIED BY '$DB_PASS';
SQL
	local MIGRATE=(mariadb --defaults-file="$VAR_DIR/migrate.cnf" microbook)
	"${MIGRATE[@]}" -e "CREATE TABLE IF NOT EXISTS schema_migrations (
  version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL)"
	for f in "$ROOT"/sql/[0-9]*.sql; do
		v=$(basename "$f" .sql)
		# DEMO=0: no demo data (user micro / 123, the books); a later start
		# without DEMO=0 would still load it, once
		[ "${DEMO:-1}" = 0 ] && [ "$v" = 002_demo ] && continue
		if [ -z "$("${MIGRATE[@]}" -N -e "SELECT 1 FROM schema_migrations WHERE version='$v'")" ]; then
			"${MIGRATE[@]}" <"$f" || die "migration $v failed"
			"${MIGRATE[@]}" -e "INSERT INTO schema_migrations VALUES ('$v', UTC_TIMESTAMP())"
			say "applied sql/$v.sql"
		fi
	done
	# row rights on every table (new ones included), then away with any
	# schema-wide grant an older stack.sh gave (ALL): no moment without rights
	for t in $("${ADMIN[@]}" -N -e "SELECT table_name FROM information_schema.tables
			WHERE table_schema = 'microbook' AND table_name <> 'schema_migrations'"); do
		echo "GRANT SELECT, INSERT, UPDATE, DELETE ON microbook.\`$t\` TO 'microbook'@'localhost';"
	done | "${ADMIN[@]}"
	# and EXECUTE on each stored procedure of sql/ (all SQL SECURITY INVOKER:
	# a procedure can do no more than these row rights allow)
	for t in $("${ADMIN[@]}" -N -e "SELECT routine_name FROM information_schema.routines
			WHERE routine_schema = 'microbook' AND routine_type = 'PROCEDURE'"); do
		echo "GRANT EXECUTE ON PROCEDURE microbook.\`$t\` TO 'microbook'@'localhost';"
	done | "${ADMIN[@]}"
	if [ -n "$("${ADMIN[@]}" -N -e "SELECT 1 FROM mysql.db WHERE User = 'microbook' AND Host = 'localhost' AND Db = 'microbook'")" ]; then
		"${ADMIN[@]}" -e "REVOKE ALL PRIVILEGES ON microbook.* FROM 'microbook'@'localhost'"
	fi
}

write_config() {
	local keys=${SESSION_KEYS:-}
	if [ -z "$keys" ]; then
		[ -s "$VAR_DIR/session.key" ] || openssl rand -hex 32 >"$VAR_DIR/session.key"
		keys=$(cat "$VAR_DIR/session.key")
	fi
	# the key that seals internal messages (issue 11), kept like session.key
	local ikey=${INTERNAL_KEY:-}
	if [ -z "$ikey" ]; then
		[ -s "$VAR_DIR/internal.key" ] || openssl rand -hex 32 >"$VAR_DIR/internal.key"
		ikey=$(cat "$VAR_DIR/internal.key")
	fi
	local k conf=$VAR_DIR/microbook.conf
	{
		echo "# written by scripts/stack.sh; the environment overrides each line"
		echo "DB_SOCKET=$VAR_DIR/db/mysql.sock"
		echo "DB_USER=microbook"
		echo "DB_PASS=$DB_PASS"
		echo "DB_NAME=microbook"
		echo "SESSION_KEYS=$keys"
		echo "INTERNAL_KEY=$ikey"
		echo "LOG_DIR=$LOG"
		# KEPT_ANSWERS=0: no shared counters, so no worker keeps an answer
		[ "${KEPT_ANSWERS:-1}" = 0 ] || echo "EPOCH_FILE=$RUN/ipc/epochs"
		echo "INVENTORY_URL=${INVENTORY_URL:-ipc://$RUN/ipc/inventory.ipc}"
		echo "BUS_URL=${BUS_URL:-ipc://$RUN/ipc/bus.ipc}"
		# the inventory daemon's count of requests served (make bench reads it)
		echo "INVENTORY_STATS=$RUN/ipc/inventory.stats"
		for k in "${CFG_KEYS[@]}"; do
			[ -n "${!k:-}" ] && echo "$k=${!k}"
		done
		true
	} >"$conf"
	own "$MB_USER:$MB_USER" 0600 "$conf"
	export MB_CONFIG=$conf
}

# start_daemon NAME: a daemon under multiwatch, which restarts it if it dies
start_daemon() {
	local name=$1 bin=$BIN/mb-$1
	[ -x "$bin" ] || return 0
	alive "$RUN/$name.pid" multiwatch && return 0
	setsid "${DROP[@]}" /usr/bin/multiwatch -f 1 -r 1000 -- "$bin" </dev/null >>"$LOG/$name.out" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

# start_fcgi NAME: the service's two pools, each spawn-fcgi (which makes the
# socket, 0660: MB_USER and nginx's workers) + multiwatch (which keeps the
# workers): NAME (NAME.sock, FCGI_WORKERS: GET and HEAD) and NAME-w
# (NAME-w.sock, FCGI_WRITE_WORKERS, for orders ORDERS_WRITE_WORKERS: the
# rest); the same program
start_fcgi() {
	start_pool "$1" "$1" "$FCGI_WORKERS"
	start_pool "$1" "$1-w" "$([ "$1" = orders ] && echo "$ORDERS_WRITE_WORKERS" || echo "$FCGI_WRITE_WORKERS")"
}
# start_pool PROGRAM NAME WORKERS: one socket, its pid file NAME.pid
start_pool() {
	local bin=$BIN/mb-$1 name=$2 sock=$RUN/fcgi/$2.sock as=(-M 0600)
	[ -x "$bin" ] || return 0
	alive "$RUN/$name.pid" multiwatch && return 0
	[ "$AS_ROOT" = 1 ] && as=(-M 0660 -U "$MB_USER" -G "$NGINX_USER" -u "$MB_USER" -g "$MB_USER")
	rm -f "$sock"
	spawn-fcgi -s "$sock" "${as[@]}" -P "$RUN/$name.pid" -- \
		/usr/bin/multiwatch -f "$3" -r 1000 -- "$bin" >/dev/null
}

# retry_after RATE: the seconds one request of RATE (Nr/s or Nr/m) takes
retry_after() {
	local n=${1%r/*}
	case "$1" in
	*r/m) echo $(( (60 + n - 1) / n )) ;;
	*) echo $(( (1 + n - 1) / n )) ;;
	esac
}

# check_pool: the settings of the nginx -> FastCGI hop (README "The nginx to
# FastCGI hop"). A worker (lib/fconn.c) holds every connection nginx keeps
# open, up to FCONN_MAX (lib/fconn.h), and serves whichever has a request, so idle
# kept connections never park it; what must hold is that the idle pools of
# all nginx workers (NGINX_WORKERS x FCGI_KEEPALIVE per service) fit in one
# worker's table, so a worker never has to refuse (close) a kept connection
# however they fall.
# the table's size, read from the header that sets it (one number, one place)
FCONN_MAX=$(sed -n 's/^#define FCONN_MAX *\([0-9]*\).*/\1/p' "$ROOT/lib/fconn.h")
check_pool() {
	local v n
	for v in FCGI_WORKERS FCGI_WRITE_WORKERS ORDERS_WRITE_WORKERS NGINX_WORKERS FCGI_KEEPALIVE FCGI_KEEPALIVE_REQUESTS REGISTER_CONCURRENCY; do
		n=${!v}
		[[ $n =~ ^[0-9]{1,6}$ ]] || die "invalid setting $v=$n: not a whole number in [0, 999999]"
	done
	[ "$FCGI_WORKERS" -ge 1 ] || die "invalid setting FCGI_WORKERS=$FCGI_WORKERS: at least 1"
	[ "$FCGI_WRITE_WORKERS" -ge 1 ] || die "invalid setting FCGI_WRITE_WORKERS=$FCGI_WRITE_WORKERS: at least 1"
	[ "$ORDERS_WRITE_WORKERS" -ge 1 ] || die "invalid setting ORDERS_WRITE_WORKERS=$ORDERS_WRITE_WORKERS: at least 1"
	[ "$NGINX_WORKERS" -ge 1 ] || die "invalid setting NGINX_WORKERS=$NGINX_WORKERS: at least 1"
	[ "$FCGI_KEEPALIVE_REQUESTS" -ge 1 ] || die "invalid setting FCGI_KEEPALIVE_REQUESTS=$FCGI_KEEPALIVE_REQUESTS: at least 1"
	[ $((NGINX_WORKERS * FCGI_KEEPALIVE)) -lt "$FCONN_MAX" ] ||
		die "FCGI_KEEPALIVE=$FCGI_KEEPALIVE with NGINX_WORKERS=$NGINX_WORKERS: $((NGINX_WORKERS * FCGI_KEEPALIVE)) idle kept connections per service would not fit in one FastCGI worker's table ($FCONN_MAX, lib/fconn.h); need NGINX_WORKERS x FCGI_KEEPALIVE < $FCONN_MAX"
}

# render_nginx: nginx/nginx.conf.in with this stack's values, on stdout (also
# `stack.sh render-nginx`, which make bench uses for its floor nginx; WEB_DIR
# replaces the page's folder there)
render_nginx() {
	local user_line="" hsts="" a b keep=off pool=""
	check_pool
	if [ "$FCGI_KEEPALIVE" -gt 0 ]; then
		keep=on
		pool="keepalive $FCGI_KEEPALIVE; keepalive_requests $FCGI_KEEPALIVE_REQUESTS; keepalive_timeout 10s;"
	fi
	[ "$AS_ROOT" = 1 ] && user_line="user $NGINX_USER $NGINX_USER;"
	[ "${COOKIE_SECURE:-0}" = 1 ] && hsts="max-age=31536000; includeSubDomains"
	a=$(retry_after "$REGISTER_RATE") b=$(retry_after "$REGISTER_GLOBAL_RATE")
	sed -e "s|@USER_LINE@|$user_line|" -e "s|@PORT@|$PORT|g" -e "s|@VAR@|$VAR_DIR|g" \
		-e "s|@RUN@|$RUN|g" -e "s|@LOG@|$LOG|g" -e "s|@WEB@|${WEB_DIR:-$WEB}|g" -e "s|@ROOT@|$ROOT|g" \
		-e "s|@LOGIN_RATE@|$LOGIN_RATE|g" -e "s|@LOGIN_BURST@|$LOGIN_BURST|g" \
		-e "s|@LOGIN_RETRY@|$(retry_after "$LOGIN_RATE")|g" \
		-e "s|@REGISTER_RATE@|$REGISTER_RATE|g" -e "s|@REGISTER_BURST@|$REGISTER_BURST|g" \
		-e "s|@REGISTER_GLOBAL_RATE@|$REGISTER_GLOBAL_RATE|g" \
		-e "s|@REGISTER_GLOBAL_BURST@|$REGISTER_GLOBAL_BURST|g" \
		-e "s|@REGISTER_RETRY@|$(( a > b ? a : b ))|g" -e "s|@HSTS@|$hsts|g" \
		-e "s|@REGISTER_CONCURRENCY@|$REGISTER_CONCURRENCY|g" \
		-e "s|@ORDER_RATE@|$ORDER_RATE|g" -e "s|@ORDER_BURST@|$ORDER_BURST|g" \
		-e "s|@ORDER_RETRY@|$(retry_after "$ORDER_RATE")|g" \
		-e "s|@NGINX_WORKERS@|$NGINX_WORKERS|g" -e "s|@FCGI_KEEP_CONN@|$keep|g" \
		-e "s|@UPSTREAM_KEEPALIVE@|$pool|g" \
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
		# the read workers (GET) and the write workers (a POST: 405)
		if curl -sf -o /dev/null "$url/user/health" &&
			[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/user/health")" = 405 ]; then
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
	check_pool
	install_programs
	layout
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
	local demo
	# the demo user exists unless the state was made with DEMO=0
	if [ "$("${ADMIN[@]}" -N -B microbook -e "SELECT COUNT(*) FROM users WHERE name = 'micro'" \
		2>/dev/null || echo 0)" != 0 ]; then
		demo="  demo login:  micro / 123
  try:         curl -s -c jar -d userName=micro -d pwd=123 http://127.0.0.1:$PORT/user/login"
	else
		demo="  demo data:   none (made with DEMO=0): register on the page or POST /user/register"
	fi
	cat <<MSG
microbook is up: http://127.0.0.1:$PORT/
$demo
  state, logs: $SHOWN_VAR_DIR$( [ "$VAR_DIR" != "$SHOWN_VAR_DIR" ] && printf ' (-> %s)' "$VAR_DIR")$( [ "$AS_ROOT" = 1 ] && printf ' (services run as %s, MariaDB as mysql)' "$MB_USER")
  stop with:   make stop$( [ "$PORT" != 8080 ] && printf ' PORT=%s' "$PORT")$( [ "$SHOWN_VAR_DIR" != "$ROOT/var" ] && printf ' VAR_DIR=%s' "$SHOWN_VAR_DIR")
MSG
}

stop() {
	stop_one "$RUN/nginx.pid" nginx QUIT
	local n
	for n in payment-w payment orders-w orders user-w user orders-listener inventory; do
		stop_one "$RUN/$n.pid" multiwatch
	done
	stop_one "$RUN/mysqld.pid" mariadbd
}

status() {
	local n rc=0
	for n in mysqld:mariadbd inventory:multiwatch orders-listener:multiwatch user:multiwatch \
		user-w:multiwatch orders:multiwatch orders-w:multiwatch payment:multiwatch \
		payment-w:multiwatch nginx:nginx; do
		if alive "$RUN/${n%%:*}.pid" "${n#*:}"; then say "${n%%:*}: running"; else say "${n%%:*}: stopped"; rc=1; fi
	done
	return $rc
}

case "${1:-}" in start | daemon) ensure_user ;; esac
if [ "${1:-}" = start ]; then place_state; fi
VAR_DIR=$(cd "$VAR_DIR" && pwd -P)
RUN=$VAR_DIR/run
LOG=$VAR_DIR/log
DB_SOCK=$RUN/mysql.sock
ADMIN=(mariadb --no-defaults --socket="$DB_SOCK" -u "$(id -un)")
ADMIN_PING=(mariadb-admin --no-defaults --socket="$DB_SOCK" -u "$(id -un)" ping)
BIN=$BUILD WEB=$ROOT/web
[ "$AS_ROOT" = 1 ] && BIN=$VAR_DIR/bin WEB=$VAR_DIR/web

case "${1:-}" in
start) start ;;
daemon)
	[ -n "${2:-}" ] || die "usage: $0 daemon NAME"
	export MB_CONFIG=$VAR_DIR/microbook.conf
	start_daemon "$2" ;;
stop) stop ;;
status) status ;;
render-nginx) render_nginx ;;
*) die "usage: $0 start|stop|status|daemon NAME|render-nginx" ;;
esac
