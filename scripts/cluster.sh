#!/usr/bin/env bash
# Several hosts on one machine, in network namespaces (docs/SCALING.md):
# a bridge in its own namespace with a veth to each host, three MariaDB
# Galera nodes (CLUSTER_DB=single: one plain MariaDB), two app hosts (the
# inventory daemon, the orders-listener and the three FastCGI services on
# tcp, each host with its own state folder), one edge nginx, and a client
# namespace from which all test traffic comes. Addresses of 10.213.0.0/24
# exist only inside the namespaces: the root namespace has no route to them.
#   scripts/cluster.sh up|down|status
#   scripts/cluster.sh app-start N | app-kill N | db-start N | db-kill N
#   scripts/cluster.sh check      up, t/cluster/check.sh, down (always)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/var-cluster}
# The Galera nodes run as mysql and nginx's workers as www-data: in a
# checkout under a folder they cannot enter (/root is 0700) the cluster's
# state lives under /var/lib/microbook-cluster/<hash of the checkout>.
if [ -z "${CLUSTER_DIR_FIXED:-}" ] && [ "$(id -u)" -eq 0 ] && id mysql >/dev/null 2>&1 &&
	! runuser -u mysql -- test -x "$(dirname "$CLUSTER_DIR")" 2>/dev/null; then
	CLUSTER_DIR=/var/lib/microbook-cluster/$(printf '%s' "$CLUSTER_DIR" | md5sum | cut -c1-12)
	mkdir -p /var/lib/microbook-cluster
	chmod 755 /var/lib/microbook-cluster
fi
export CLUSTER_DIR_FIXED=1
CLUSTER_DB=${CLUSTER_DB:-galera}
FCGI_WORKERS=${FCGI_WORKERS:-3}       # per service and app host: GET and HEAD
FCGI_WRITE_WORKERS=${FCGI_WRITE_WORKERS:-3} # and the rest (stack.sh: NAME-w.sock; here port + 3)
ORDERS_WRITE_WORKERS=${ORDERS_WRITE_WORKERS:-8} # the orders service's (stack.sh's): Sells in flight to gather
NS=${CLUSTER_NS:-mbc-}      # every namespace this script makes starts with it
NET=${CLUSTER_NET:-10.213.0} # a /24 that lives only inside those namespaces
EDGE=$NET.2 CLIENT=$NET.100
EDGE_PORT=8080          # both app hosts; EDGE_PORT+N: app host N only
DB_IPS=($NET.11 $NET.12 $NET.13)
APP_IPS=($NET.21 $NET.22)
# every knob of lib/cfg.c that may be passed through from the environment
CFG_KEYS=(SESSION_IDLE SESSION_MAX COOKIE_SECURE PBKDF2_ITER DB_TIMEOUT INVENTORY_TIMEOUT_MS
          INVENTORY_THREADS SWEEP_GRACE ORDER_TTL MAX_OPEN_ORDERS LOGIN_FAILS LOGIN_FAIL_WINDOW
          LOGIN_BACKOFF)

say() { printf '%s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }
in_ns() { local n=$1; shift; ip netns exec "$NS$n" "$@"; }
db_nodes() { if [ "$CLUSTER_DB" = single ]; then echo 1; else echo 1 2 3; fi; }
db_sock() { echo "$CLUSTER_DIR/db$1/run/mysql.sock"; }
admin() { local n=$1; shift; mariadb --no-defaults --socket="$(db_sock "$n")" -u root "$@"; }

# --- the network -----------------------------------------------------------

# host NAME ADDRESS: a namespace joined to the bridge by a veth pair
add_host() {
	local name=$1 addr=$2
	ip netns add "$NS$name"
	ip -n "${NS}br" link add "v-$name" type veth peer name eth0 netns "$NS$name"
	ip -n "${NS}br" link set "v-$name" master br0 up
	ip -n "$NS$name" addr add "$addr/24" dev eth0
	ip -n "$NS$name" link set eth0 up
	ip -n "$NS$name" link set lo up
}

net_up() {
	ip netns add "${NS}br"
	ip -n "${NS}br" link add br0 type bridge
	ip -n "${NS}br" link set br0 up
	local i
	for i in $(db_nodes); do add_host "db$i" "${DB_IPS[$((i - 1))]}"; done
	add_host app1 "${APP_IPS[0]}"
	add_host app2 "${APP_IPS[1]}"
	add_host edge "$EDGE"
	add_host client "$CLIENT"
}

# --- the database ----------------------------------------------------------

# A node that stops answering stalls every commit of the cluster until the
# others suspect it: Galera's default (5 s) shortened for one LAN.
EVS="evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT3S"

# db_start N [new]: one node in its namespace, as mysql on a folder it owns
# (Galera's rsync state transfer fails under --user=root: its daemon drops
# to nobody). "new" bootstraps a new cluster on this node.
db_start() {
	local n=$1 dir=$CLUSTER_DIR/db$1 ip=${DB_IPS[$(($1 - 1))]} wsrep=()
	mkdir -p "$dir/data" "$dir/run"
	chown mysql:mysql "$dir" "$dir/data" "$dir/run"
	if [ ! -d "$dir/data/mysql" ]; then
		mariadb-install-db --no-defaults --user=mysql --datadir="$dir/data" \
			--auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 \
			|| die "mariadb-install-db failed; see $dir/install.log"
	fi
	if [ "$CLUSTER_DB" != single ]; then
		local peers
		peers=$(IFS=,; echo "${DB_IPS[*]}")
		wsrep=(--wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so
			--wsrep-cluster-name=microbook --wsrep-cluster-address="gcomm://$peers"
			--wsrep-node-address="$ip" --wsrep-node-name="db$n" --wsrep-sst-method=rsync
			--wsrep-provider-options="gcache.size=64M;gmcast.listen_addr=tcp://$ip:4567;$EVS"
			--wsrep-retry-autocommit=3 --wsrep-slave-threads=2
			--binlog-format=ROW --innodb-autoinc-lock-mode=2)
		[ "${2:-}" = new ] && wsrep+=(--wsrep-new-cluster)
	fi
	in_ns "db$n" setsid mariadbd --no-defaults --user=mysql --datadir="$dir/data" \
		--socket="$dir/run/mysql.sock" --pid-file="$dir/run/mysqld.pid" \
		--log-error="$dir/mysqld.log" --bind-address="$ip" --port=3306 \
		--innodb-buffer-pool-size=64M --innodb-log-file-size=48M --max-connections=300 \
		--skip-name-resolve "${wsrep[@]}" </dev/null >/dev/null 2>&1 &
}

# db_wait N: until the node answers and (Galera) is synced with the others
db_wait() {
	local i want=ON
	for i in $(seq 600); do
		if [ "$CLUSTER_DB" = single ]; then
			admin "$1" -e 'SELECT 1' >/dev/null 2>&1 && return 0
		elif [ "$(admin "$1" -N -e "SHOW STATUS LIKE 'wsrep_ready'" 2>/dev/null | cut -f2)" = $want ]; then
			return 0
		fi
		sleep 0.1
	done
	die "database node $1 not ready after 60 s; see $CLUSTER_DIR/db$1/mysqld.log"
}

db_kill() { local p; for p in $(ip netns pids "${NS}db$1" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; }

# Migrations run exactly once for the whole cluster: here, through node 1,
# before any app host starts (the app hosts never migrate; Galera replicates
# the DDL to every node). Grants are for the app hosts' subnet only.
db_setup() {
	local pass_file=$CLUSTER_DIR/db.pass
	[ -s "$pass_file" ] || (umask 077; openssl rand -hex 16 >"$pass_file")
	DB_PASS=$(cat "$pass_file")
	admin 1 <<SQL
CREATE DATABASE IF NOT EXISTS microbook CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'microbook'@'$NET.%' IDENTIFIED BY '$DB_PASS';
ALTER USER 'microbook'@'$NET.%' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON microbook.* TO 'microbook'@'$NET.%';
CREATE TABLE IF NOT EXISTS microbook.schema_migrations (
  version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL);
SQL
	local f v
	for f in "$ROOT"/sql/[0-9]*.sql; do
		v=$(basename "$f" .sql)
		if [ -z "$(admin 1 -N microbook -e "SELECT 1 FROM schema_migrations WHERE version='$v'")" ]; then
			admin 1 microbook <"$f" || die "migration $v failed"
			admin 1 microbook -e "INSERT INTO schema_migrations VALUES ('$v', UTC_TIMESTAMP())"
		fi
	done
}

# --- the app hosts ---------------------------------------------------------

# app_config N: the host's settings; both hosts share SESSION_KEYS and
# INTERNAL_KEY (the signature of inventory and bus messages), and list
# every database node: CLUSTER_WRITERS=multi (the default here, the harder
# case for correctness) puts db1 first for host 1 and db2 for host 2,
# CLUSTER_WRITERS=single db1 first for both (the production default)
app_config() {
	local n=$1 other=$((3 - $1)) dir=$CLUSTER_DIR/app$1 hosts k
	local me=${APP_IPS[$((n - 1))]} them=${APP_IPS[$((other - 1))]}
	if [ "$CLUSTER_DB" = single ]; then hosts=${DB_IPS[0]}
	elif [ "$n" = 1 ] || [ "${CLUSTER_WRITERS:-multi}" = single ]; then
		hosts=${DB_IPS[0]},${DB_IPS[1]},${DB_IPS[2]}
	else hosts=${DB_IPS[1]},${DB_IPS[2]},${DB_IPS[0]}; fi
	mkdir -p "$dir/run" "$dir/log"
	(umask 077; {
		echo "# written by scripts/cluster.sh for app host $n; the environment overrides each line"
		echo "CLUSTER=1"
		echo "DB_HOST=$hosts"
		echo "DB_PORT=3306"
		echo "DB_SYNC_WAIT=$([ "$CLUSTER_DB" = single ] && echo 0 || echo 1)"
		echo "DB_USER=microbook"
		echo "DB_PASS=$(cat "$CLUSTER_DIR/db.pass")"
		echo "DB_NAME=microbook"
		echo "SESSION_KEYS=$(cat "$CLUSTER_DIR/session.key")"
		echo "INTERNAL_KEY=$(cat "$CLUSTER_DIR/internal.key")"
		echo "LOG_DIR=$dir/log"
		echo "INVENTORY_LISTEN=tcp://$me:5555"
		echo "INVENTORY_URL=tcp://$me:5555,tcp://$them:5555"
		echo "BUS_LISTEN=tcp://$me:5556"
		echo "BUS_URL=tcp://$me:5556,tcp://$them:5556"
		for k in "${CFG_KEYS[@]}"; do
			[ -n "${!k:-}" ] && echo "$k=${!k}"
		done
		true
	} >"$dir/microbook.conf")
}

app_start() {
	local n=$1 dir=$CLUSTER_DIR/app$1 ip=${APP_IPS[$(($1 - 1))]} name port=9000
	app_config "$n"
	export MB_CONFIG=$dir/microbook.conf
	for name in inventory orders-listener; do
		in_ns "app$n" setsid /usr/bin/multiwatch -f 1 -r 1000 -- "$BUILD/mb-$name" \
			</dev/null >>"$dir/log/$name.out" 2>&1 &
	done
	# each service's two pools, as stack.sh starts them: its reads on
	# 9001-9003, everything else on its write workers' port, 9004-9006
	for name in user orders payment; do
		port=$((port + 1))
		in_ns "app$n" spawn-fcgi -a "$ip" -p "$port" -P "$dir/run/$name.pid" -- \
			/usr/bin/multiwatch -f "$FCGI_WORKERS" -r 1000 -- "$BUILD/mb-$name" >/dev/null \
			|| die "spawn-fcgi $name on app host $n failed"
		in_ns "app$n" spawn-fcgi -a "$ip" -p $((port + 3)) -P "$dir/run/$name-w.pid" -- \
			/usr/bin/multiwatch -f "$([ "$name" = orders ] && echo "$ORDERS_WRITE_WORKERS" || echo "$FCGI_WRITE_WORKERS")" \
			-r 1000 -- "$BUILD/mb-$name" >/dev/null \
			|| die "spawn-fcgi $name-w on app host $n failed"
	done
	unset MB_CONFIG
}

# every process of the host, at once (what a host failure looks like)
app_kill() { local p; for p in $(ip netns pids "${NS}app$1" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; }

# --- the edge --------------------------------------------------------------

# edge_conf NAME PORT UPSTREAM-IP...: nginx/nginx.conf.in with tcp upstreams
edge_start() {
	local name=$1 port=$2 dir=$CLUSTER_DIR/edge/$1 svc p=9000 ip servers
	shift 2
	mkdir -p "$dir/run" "$dir/log" "$dir/nginx/tmp"
	# nginx/nginx.conf.in as stack.sh renders it (every setting and limit of a
	# single host's nginx), then: listen on the edge's address, tcp upstreams,
	# and the access log also names the app host that answered (ua=)
	local script=(-e "s|listen 127.0.0.1:$port|listen $EDGE:$port|"
		-e "s|urt=\$upstream_response_time'|urt=\$upstream_response_time ua=\$upstream_addr'|")
	for svc in user orders payment user-w orders-w payment-w; do
		p=$((p + 1))
		servers=""
		# a host that fails is left out for 2 s, then tried again
		for ip in "$@"; do servers+="server $ip:$p max_fails=1 fail_timeout=2s; "; done
		script+=(-e "s|server unix:[^;]*/$svc\.sock;|$servers|")
	done
	# FCGI_WORKERS, FCGI_WRITE_WORKERS: the app hosts' (REGISTER_CONCURRENCY
	# is half of the write workers); the app hosts keep no answers
	# (KEPT_ANSWERS=0), so no FastCGI pool unless FCGI_KEEPALIVE asks for one
	# (checked as on one host)
	env PORT="$port" VAR_DIR="$dir" WEB_DIR="$ROOT/web" FCGI_WORKERS="$FCGI_WORKERS" \
		FCGI_WRITE_WORKERS="$FCGI_WRITE_WORKERS" KEPT_ANSWERS=0 \
		"$ROOT/scripts/stack.sh" render-nginx \
		>"$dir/nginx/nginx.conf.raw" || die "edge $name: stack.sh render-nginx failed"
	grep -q "listen 127.0.0.1:$port" "$dir/nginx/nginx.conf.raw" \
		|| die "nginx/nginx.conf.in has no 'listen 127.0.0.1:@PORT@' line to point at $EDGE"
	sed "${script[@]}" "$dir/nginx/nginx.conf.raw" >"$dir/nginx/nginx.conf"
	! grep -q 'unix:' "$dir/nginx/nginx.conf" || die "edge $name: a unix upstream is left in its nginx.conf"
	local left
	left=$(grep -v '^ *#' "$dir/nginx/nginx.conf" | grep -o '@[A-Z_]*@' | sort -u | tr '\n' ' ' || true)
	[ -z "$left" ] || die "edge $name: placeholders left in its nginx.conf: $left"
	in_ns edge nginx -p "$dir/nginx" -e "$dir/log/nginx-error.log" -c "$dir/nginx/nginx.conf" \
		|| die "edge nginx $name did not start; see $dir/log/nginx-error.log"
}

wait_healthy() { # wait_healthy URL
	local i
	for i in $(seq 300); do
		in_ns client curl -sf -o /dev/null -m 2 "$1/user/health" && return 0
		sleep 0.1
	done
	die "not healthy after 30 s: ip netns exec ${NS}client curl $1/user/health"
}

# --- up / down -------------------------------------------------------------

down() {
	local ns p i left
	# a few rounds: a process being started into a namespace as it is
	# emptied (a supervisor's respawn) would outlive a single pass
	for i in 1 2 3 4 5; do
		left=0
		for ns in $(ip netns list | awk '{print $1}' | grep "^$NS" || true); do
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; left=1; done
		done
		[ $left = 0 ] && break
		sleep 0.2
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NS" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
}

up() {
	[ -x "$BUILD/mb-user" ] || die "not built; run make first"
	[ "$(id -u)" -eq 0 ] || die "network namespaces need root"
	[ "$CLUSTER_DB" = single ] || [ -f /usr/lib/galera/libgalera_smm.so ] \
		|| die "galera-4 is not installed (/usr/lib/galera/libgalera_smm.so)"
	down
	# a fresh cluster each time: the data of an old one belongs to no one now
	rm -rf "$CLUSTER_DIR"
	mkdir -p "$CLUSTER_DIR"
	chmod 755 "$CLUSTER_DIR"
	(umask 077; openssl rand -hex 32 >"$CLUSTER_DIR/session.key"
	 openssl rand -hex 32 >"$CLUSTER_DIR/internal.key")
	trap 'set +e; down; trap - EXIT; exit 1' EXIT INT TERM HUP
	net_up
	db_start 1 new
	db_wait 1
	local i
	for i in $(db_nodes); do
		[ "$i" = 1 ] && continue
		db_start "$i"
		db_wait "$i"
	done
	db_setup
	app_start 1
	app_start 2
	edge_start all $EDGE_PORT "${APP_IPS[@]}"
	edge_start app1 $((EDGE_PORT + 1)) "${APP_IPS[0]}"
	edge_start app2 $((EDGE_PORT + 2)) "${APP_IPS[1]}"
	for i in 0 1 2; do wait_healthy "http://$EDGE:$((EDGE_PORT + i))"; done
	trap - EXIT INT TERM HUP
	cat <<MSG
microbook cluster is up ($(db_nodes | wc -w) database node(s), $CLUSTER_DB; state in $CLUSTER_DIR)
  client namespace: ${NS}client
  edge (both hosts): http://$EDGE:$EDGE_PORT/
  app host 1 only:   http://$EDGE:$((EDGE_PORT + 1))/
  app host 2 only:   http://$EDGE:$((EDGE_PORT + 2))/
  try:               ip netns exec ${NS}client curl -s http://$EDGE:$EDGE_PORT/orders/books
  a database node:   mariadb --no-defaults --socket=$(db_sock 1) -u root microbook
  stop with:         make cluster-down
MSG
}

status() {
	local ns rc=0
	for ns in br $(for i in $(db_nodes); do echo "db$i"; done) app1 app2 edge client; do
		if ip netns pids "$NS$ns" >/dev/null 2>&1; then
			say "$NS$ns: $(ip netns pids "$NS$ns" | wc -l) processes"
		else say "$NS$ns: absent"; rc=1; fi
	done
	return $rc
}

check() {
	# test settings, as make check's: cheap hashing, short sweep grace
	export PBKDF2_ITER=${PBKDF2_ITER:-1000} SWEEP_GRACE=${SWEEP_GRACE:-5}
	export LOGIN_RATE=${LOGIN_RATE:-50r/s} LOGIN_BURST=${LOGIN_BURST:-100}
	# the load registers its clients from one address and each orders many
	# times: the abuse limits (README "Security", proven by 70_abuse) are set
	# high here, as make check sets them
	export REGISTER_RATE=${REGISTER_RATE:-1000r/s} REGISTER_BURST=${REGISTER_BURST:-1000}
	export REGISTER_GLOBAL_RATE=${REGISTER_GLOBAL_RATE:-1000r/s}
	export REGISTER_GLOBAL_BURST=${REGISTER_GLOBAL_BURST:-1000}
	export REGISTER_CONCURRENCY=${REGISTER_CONCURRENCY:-1000}
	export MAX_OPEN_ORDERS=${MAX_OPEN_ORDERS:-100000}
	export ORDER_RATE=${ORDER_RATE:-100000r/s} ORDER_BURST=${ORDER_BURST:-100000}
	# the namespaces go with this script however it ends (a kill -9 of it is
	# cleaned by the next up or by `make cluster-down`)
	trap 'set +e; down' EXIT
	trap 'exit 1' INT TERM HUP
	up
	trap 'set +e; down' EXIT
	# the tests run in a process group of their own, in the background: bash
	# runs a trap only between commands, and `wait` is one it can interrupt
	local rc=0
	CLUSTER_DIR=$CLUSTER_DIR CLUSTER_DB=$CLUSTER_DB EDGE=$EDGE EDGE_PORT=$EDGE_PORT \
		NS=$NS BUILD=$BUILD APP1_IP=${APP_IPS[0]} setsid bash "$ROOT/t/cluster/check.sh" &
	TESTS=$!
	trap 'set +e; kill -TERM -- "-$TESTS" 2>/dev/null; down; trap - EXIT; exit 1' INT TERM HUP
	wait "$TESTS" || rc=$?
	return $rc
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
check) check ;;
app-start) app_start "${2:?app host number}" ;;
app-kill) app_kill "${2:?app host number}" ;;
db-start) db_start "${2:?database node number}"; db_wait "$2" ;;
db-kill) db_kill "${2:?database node number}" ;;
*) die "usage: $0 up|down|status|check|app-start N|app-kill N|db-start N|db-kill N" ;;
esac
