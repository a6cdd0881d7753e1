# Pid-file helpers shared by stack.sh and bench.sh (sourced, not run).
# shellcheck shell=bash

# pid_of PIDFILE NAME: prints the pid in PIDFILE if it runs and its command
# line mentions NAME. (No "| grep -q": with pipefail, grep quitting early can
# SIGPIPE the tr feeding it and turn a match into "not running".)
pid_of() {
	local pid cmd
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	kill -0 "$pid" 2>/dev/null || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]] || return 1
	echo "$pid"
}

# stop_pid PIDFILE NAME [SIGNAL]: signals it, waits up to 30 s for it to go
# (then KILL), removes the pid file; returns 1 when nothing was running.
stop_pid() {
	local pid i
	pid=$(pid_of "$1" "$2") || { rm -f "$1"; return 1; }
	kill "-${3:-TERM}" "$pid" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$1"
	return 0
}
