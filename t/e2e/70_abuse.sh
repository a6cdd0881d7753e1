#!/usr/bin/env bash
# Abuse from outside and from a local account (issue 12), each attack shown
# to fail while ordinary use still works: nothing but nginx's master runs as
# root, the FastCGI and ipc sockets are closed to other local users, the
# services' database account cannot change the schema, every answer carries
# the security headers, /user/register is rate limited per address and in
# all (429 RATE_LIMITED with Retry-After), and a forged line in a path stays
# one escaped line in the log. nginx is restarted with low limits for the
# limit checks and with the suite's settings at the end.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/pids.sh"
RUN=$VAR_DIR/run
MB_USER=${MB_USER:-microbook}
AS_ROOT=0
[ "$(id -u)" -eq 0 ] && AS_ROOT=1
skip() { ok "$1 (skipped: $2)"; }

# restart_nginx [VAR=value...]: nginx again, rendered with these settings
restart_nginx() {
	stop_pid "$RUN/nginx.pid" nginx QUIT
	env "$@" "$ROOT/scripts/stack.sh" start >/dev/null
}

# --- 1. who runs what -------------------------------------------------------
# users PIDFILE: "pid user" of the process and of its children
users() {
	local p
	p=$(cat "$1")
	ps -o pid=,user= -p "$p"
	ps -o pid=,user= --ppid "$p"
}
if [ "$AS_ROOT" = 1 ]; then
	check "MariaDB runs as mysql" [ "$(ps -o user= -p "$(cat "$RUN/mysqld.pid")")" = mysql ]
	for n in inventory orders-listener user orders payment; do
		[ -s "$RUN/$n.pid" ] || continue
		u=$(users "$RUN/$n.pid" | awk '{print $2}' | sort -u | paste -sd,)
		check "$n (supervisor and every process) runs as $MB_USER ($u)" [ "$u" = "$MB_USER" ]
	done
	check "nginx's master is root (it binds the port)" [ "$(ps -o user= -p "$(cat "$RUN/nginx.pid")")" = root ]
	w=$(ps -o user= --ppid "$(cat "$RUN/nginx.pid")" | sort -u | paste -sd,)
	not_root() { [ -n "$w" ] && [[ ,$w, != *,root,* ]]; }
	check "nginx's workers are not root ($w)" not_root
	# every process of the stack, found from its pid files: only nginx's master is root
	roots=$(for f in "$RUN"/*.pid; do users "$f"; done | awk '$2 == "root" {print $1}' | paste -sd' ')
	check "no service, daemon, mariadbd or nginx worker runs as root (root: $roots)" \
		[ "$roots" = "$(cat "$RUN/nginx.pid")" ]
else
	skip "nothing of the stack runs as root" "not root: everything runs as $(id -un), as started"
fi

# --- 2. sockets, keys, folders ----------------------------------------------
mode() { stat -c %a "$1"; }
for s in "$RUN"/fcgi/*.sock; do
	check "FastCGI socket $(basename "$s") is closed to other users ($(mode "$s"))" [ "$(mode "$s" | cut -c3)" = 0 ]
done
check "the ipc folder (ipc:// sockets, epochs) is 0700" [ "$(mode "$RUN/ipc")" = 700 ]
check "the ipc sockets are in it" [ -S "$RUN/ipc/inventory.ipc" ]
for f in microbook.conf session.key internal.key db.pass db-migrate.pass migrate.cnf; do
	check "$f is 0600" [ "$(mode "$VAR_DIR/$f")" = 600 ]
done
check "the state folder is not listable by others ($(mode "$VAR_DIR/"))" [ "$(mode "$VAR_DIR/" | cut -c3)" -le 1 ]
if [ "$AS_ROOT" = 1 ]; then
	# the real path: VAR_DIR may be a link from a folder only root can enter
	PHYS=$(cd "$VAR_DIR" && pwd -P)
	sock=$PHYS/run/fcgi/user.sock
	check "FastCGI sockets belong to $MB_USER with nginx's group" [ "$(stat -c %U:%G "$sock")" = "$MB_USER:www-data" ]
	check "nginx's user can connect to the user socket (the check below can fail)" \
		runuser -u www-data -- socat -u /dev/null "UNIX-CONNECT:$sock"
	check "a local user (nobody) cannot connect to the user socket" \
		sh -c "! runuser -u nobody -- socat -u /dev/null UNIX-CONNECT:$sock 2>/dev/null"
	check "a local user (nobody) cannot enter the ipc folder" \
		sh -c "! runuser -u nobody -- socat -u /dev/null UNIX-CONNECT:$PHYS/run/ipc/inventory.ipc 2>/dev/null"
	check "$MB_USER can enter it (the check above can fail)" runuser -u "$MB_USER" -- test -x "$PHYS/run/ipc"
	check "a local user (nobody) cannot read the config (database password, session keys)" \
		sh -c "! runuser -u nobody -- cat $PHYS/microbook.conf >/dev/null 2>&1"
	check "$MB_USER can read the config (the check above can fail)" \
		runuser -u "$MB_USER" -- test -r "$PHYS/microbook.conf"
	check "the config belongs to $MB_USER" [ "$(stat -c %U "$VAR_DIR/microbook.conf")" = "$MB_USER" ]
else
	skip "a local user cannot reach the sockets" "not root: cannot act as another user"
fi

# --- 3. the services' database account --------------------------------------
pass=$(sed -n 's/^DB_PASS=//p' "$VAR_DIR/microbook.conf")
svc() { mariadb --no-defaults --socket="$RUN/mysql.sock" -u microbook -p"$pass" -N -B microbook -e "$1" 2>&1 | tail -1; }
check "the config names the services' account" grep -qx 'DB_USER=microbook' "$VAR_DIR/microbook.conf"
check "the config holds no migration password" \
	sh -c "! grep -qF \"\$(cat '$VAR_DIR/db-migrate.pass')\" '$VAR_DIR/microbook.conf'"
check "the services' account reads rows" [ "$(svc 'SELECT COUNT(*) > 0 FROM books')" = 1 ]
out=$(svc 'DROP TABLE books')
check "the services' account cannot DROP a table ($out)" grep -q 'DROP command denied' <<<"$out"
out=$(svc 'ALTER TABLE books ADD COLUMN evil INT')
check "the services' account cannot ALTER a table ($out)" grep -q 'ALTER command denied' <<<"$out"
out=$(svc 'CREATE TABLE evil (id INT)')
check "the services' account cannot CREATE a table ($out)" grep -q 'CREATE command denied' <<<"$out"
out=$(svc 'DELETE FROM schema_migrations')
check "the services' account cannot touch schema_migrations ($out)" grep -q 'command denied' <<<"$out"
check "books still has its columns" [ "$(sql "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'microbook' AND table_name = 'books' AND column_name = 'evil'")" = 0 ]
check "migrations ran as microbook_migrate, which has the schema's DDL rights" \
	sh -c "mariadb --defaults-file='$VAR_DIR/migrate.cnf' -N -e 'SHOW GRANTS' | grep -q 'ALL PRIVILEGES ON \`microbook\`'"

# --- 4. security headers ----------------------------------------------------
CSP="default-src 'self'; frame-ancestors 'none'"
# headers_ok NAME: the last answer has every security header
headers_ok() {
	local why=""
	[ "$(header Content-Security-Policy)" = "$CSP" ] || why="CSP '$(header Content-Security-Policy)'"
	[ "$(header X-Content-Type-Options)" = nosniff ] || why="$why X-Content-Type-Options '$(header X-Content-Type-Options)'"
	[ "$(header Referrer-Policy)" = no-referrer ] || why="$why Referrer-Policy '$(header Referrer-Policy)'"
	[ "$(header X-Frame-Options)" = DENY ] || why="$why X-Frame-Options '$(header X-Frame-Options)'"
	if [ -z "$why" ]; then ok "security headers: $1"; else fail "security headers: $1" "$why"; fi
}
api GET /; [ "$STATUS" = 200 ] && headers_ok "the page (200)" || fail "the page" "status $STATUS"
api GET /app.js; headers_ok "a script of the page ($STATUS)"
api GET /nothing-here.html; headers_ok "a missing file ($STATUS)"
api GET /orders/books; headers_ok "an API answer ($STATUS)"
api GET /user/me; headers_ok "an API error ($STATUS)"
api POST /user/login -d userName=micro -d pwd=wrong; headers_ok "a failed login ($STATUS)"
api POST /user/register --data-binary "userName=$(head -c 20000 /dev/zero | tr '\0' a)"; headers_ok "nginx's 413 ($STATUS)"
api GET /orders/books -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)"; headers_ok "nginx's 400 ($STATUS)"
check "no HSTS over plain HTTP by default" [ -z "$(header Strict-Transport-Security)" ]
check "the page has no inline script or style (CSP would block it)" \
	sh -c "! grep -qiE '<script>|<script[^>]*>[^<]|<style|style=|[[:space:]]on[a-z]+=|javascript:' '$ROOT/web/index.html'"
restart_nginx COOKIE_SECURE=1
api GET /orders/books
check "HSTS with COOKIE_SECURE=1 ($(header Strict-Transport-Security))" grep -q '^max-age=[1-9]' <<<"$(header Strict-Transport-Security)"
api GET /nothing-here.html
check "HSTS on errors too" [ -n "$(header Strict-Transport-Security)" ]

# --- 5. registration flood --------------------------------------------------
# reg FROM: one registration from that loopback address; sets STATUS etc.
reg() { api POST /user/register --interface "$1" -d "userName=r$(date +%N | cut -c1-8)$RANDOM" -d "pwd=password-abuse"; }
restart_nginx REGISTER_RATE=1r/m REGISTER_BURST=2 REGISTER_GLOBAL_RATE=1000r/s REGISTER_GLOBAL_BURST=1000 \
	LOGIN_RATE=1r/m LOGIN_BURST=1
codes=""
for i in $(seq 8); do reg 127.0.0.1; codes="$codes $STATUS"; [ "$STATUS" = 429 ] && break; done
check "one address: registrations past the burst are refused ($codes)" [ "$(tr ' ' '\n' <<<"$codes" | grep -c '^201$')" -le 3 ]
expect "one address: 429 RATE_LIMITED in the envelope" 429 RATE_LIMITED
check "one address: Retry-After is the rate's interval ($(header Retry-After))" [ "$(header Retry-After)" = 60 ]
headers_ok "the register 429"
reg 127.0.0.2
expect "another address still registers" 201
api POST /user/login -d userName=micro -d pwd=123
expect "logins still work during a register flood" 200
for i in 1 2 3 4; do api POST /user/login --interface 127.0.0.4 -d userName=micro -d pwd=wrong; [ "$STATUS" = 429 ] && break; done
expect "the login limit: 429 RATE_LIMITED" 429 RATE_LIMITED
check "the login 429 has Retry-After ($(header Retry-After))" [ "$(header Retry-After)" = 60 ]

restart_nginx REGISTER_RATE=1000r/s REGISTER_BURST=1000 REGISTER_GLOBAL_RATE=1r/m REGISTER_GLOBAL_BURST=2
codes=""
for a in 1 2 3 4 5 6; do reg "127.0.0.$a"; codes="$codes $STATUS"; [ "$STATUS" = 429 ] && break; done
check "all addresses together: past the global burst, refused ($codes)" [ "$(tr ' ' '\n' <<<"$codes" | grep -c '^201$')" -le 3 ]
expect "all addresses: 429 RATE_LIMITED" 429 RATE_LIMITED
check "all addresses: Retry-After ($(header Retry-After))" [ "$(header Retry-After)" = 60 ]
reg 127.0.0.9
expect "all addresses: a fresh address is refused too" 429 RATE_LIMITED

# the suite's settings again (check.sh's limits, COOKIE_SECURE unset)
restart_nginx
api GET /orders/books
check "settings restored: no HSTS" [ -z "$(header Strict-Transport-Security)" ]

# --- 6. log injection -------------------------------------------------------
forged='2026-11-27T14:00:00.000Z error payment[1] ref=forged FAKE LINE'
api GET "/orders/1%0A2026-11-27T14:00:00.000Z%20error%20payment%5B1%5D%20ref=forged%20FAKE%20LINE"
rid=$(header X-Request-Id)
logged() { grep -q "ref=$rid " "$VAR_DIR/log/orders.log"; }
wait_for 2 logged
no_forged_line() { ! grep -qF "$forged" <(grep -v ' ref=[0-9a-f]\{32\} ' "$1"); }
check "a %0A in the path does not start a line in orders.log" no_forged_line "$VAR_DIR/log/orders.log"
line=$(grep "ref=$rid " "$VAR_DIR/log/orders.log")
one_escaped_line() {
	[ "$(grep -c "ref=$rid " "$VAR_DIR/log/orders.log")" = 1 ] \
		&& grep -qF "/orders/1\\x0a$forged" <<<"$line"
}
check "the request is one line with the newline escaped ($line)" one_escaped_line
check "nor in nginx's access log" sh -c "! grep -q '^2026-11-27T14:00:00.000Z error' '$VAR_DIR/log/nginx-access.log'"

# --- ordinary use -----------------------------------------------------------
J=$TMP/jar
new_user "$J"
api GET /user/me -b "$J"
expect "ordinary use: a new user is logged in" 200
book=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('abuse $RANDOM', 500, 2, 2); SELECT LAST_INSERT_ID();")
api POST /orders/new -b "$J" -d "bookId=$book"
expect "ordinary use: order" 201
oid=$(jqb .data.orderId)
api POST /payment/pay-order -b "$J" -d "orderId=$oid"
expect "ordinary use: pay" 200
paid() { api GET "/orders/$oid" -b "$J"; [ "$(jqb .data.state)" = paid ]; }
check "ordinary use: paid through the listener" wait_for 2 paid

finish
