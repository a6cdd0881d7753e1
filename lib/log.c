/*
 * log: lines are formatted into a stack buffer and written with one
 * write(2) on an O_APPEND descriptor, so lines from several workers sharing
 * a file never interleave. Every byte below 0x20, DEL and the backslash are
 * written as \xNN (\\ for the backslash) whatever field they came in (a
 * path, a user name, a request id), so one event is always one line: a
 * "%0A" that nginx decoded into a path cannot start a forged line.
 */
#include "log.h"
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int         log_fd = 2;
static const char *log_prog = "microbook";

void
log_init(const char *prog)
{
	const cfg *c = cfg_load();
	char path[1024];
	int fd;

	log_prog = prog;
	if (c->log_dir == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s.log", c->log_dir, prog);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd >= 0)
		log_fd = fd;
}

/* log_pid: getpid() once (no program forks after it logs): one system call
 * less per line */
static pid_t
log_pid(void)
{
	static pid_t pid;

	if (pid == 0)
		pid = getpid();
	return pid;
}

static size_t
log_prefix(char *buf, size_t cap, const char *level, const char *ref, time_t *now)
{
	/* the date and time to the second, written once a second (per thread:
	 * the inventory daemon logs from several), not for every line */
	static _Thread_local time_t sec_at = -1;
	static _Thread_local char   sec_txt[32];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	*now = tv.tv_sec;
	if (tv.tv_sec != sec_at) {
		gmtime_r(&tv.tv_sec, &tm);
		if (strftime(sec_txt, sizeof sec_txt, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			sec_txt[0] = '\0';
		sec_at = tv.tv_sec;
	}
	n = snprintf(buf, cap, "%s.%03dZ %s %s[%d] ref=%s ", sec_txt,
	    (int)(tv.tv_usec / 1000), level, log_prog, (int)log_pid(),
	    (ref != NULL && *ref != '\0') ? ref : "-");
	return (n < 0 || (size_t)n >= cap) ? cap - 1 : (size_t)n;
}

/*
 * log_escape: copies src[0..len) into dst (cap bytes), control bytes and
 * the backslash escaped; never splits an escape, and stops when full.
 * Returns the bytes written (no terminating NUL).
 */
size_t
log_escape(char *dst, size_t cap, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (ch == '\\') {
			if (o + 2 > cap)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else if (ch < 0x20 || ch == 0x7f) {
			if (o + 4 > cap)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 0xf];
		} else {
			if (o + 1 > cap)
				break;
			dst[o++] = (char)ch;
		}
	}
	return o;
}

/*
 * Access lines held back (log_hold): a worker writes them in one write when
 * it has nothing to serve (fconn's idle hook), when LOG_HOLD_MAX bytes are
 * held, when the oldest is a second old, before any other line and at exit,
 * instead of one write per request into a file its sibling workers append to
 * as well. A worker killed with -9 loses at most those held lines; nginx's
 * access log has every request too.
 */
#define LOG_HOLD_MAX 8192
static char   log_held[LOG_HOLD_MAX + 4096];
static size_t log_nheld;
static time_t log_held_since;
static int    log_holding;

static void
log_out(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && ((w = write(log_fd, p, n)) > 0 || (w < 0 && errno == EINTR))) {
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
}

void
log_flush(void)
{
	if (log_nheld > 0)
		log_out(log_held, log_nheld);
	log_nheld = 0;
}

void
log_hold(void)
{
	if (!log_holding && atexit(log_flush) == 0)
		log_holding = 1;
}

/* Writes buf[0..len) as one escaped line; an access line (hold) may be held. */
static void
log_write(const char *buf, size_t len, size_t cap, int hold, time_t now)
{
	char line[4096];
	size_t n;

	if (len >= cap)
		len = cap - 1;
	n = log_escape(line, sizeof line - 1, buf, len);
	line[n++] = '\n';
	if (!hold || !log_holding) {
		log_flush(); /* the held lines first: the file stays in order */
		log_out(line, n);
		return;
	}
	if (log_nheld == 0)
		log_held_since = now;
	memcpy(log_held + log_nheld, line, n); /* fits: LOG_HOLD_MAX + a whole line */
	log_nheld += n;
	if (log_nheld >= LOG_HOLD_MAX || now - log_held_since >= 1)
		log_flush();
}

void
log_msg(const char *level, const char *ref, const char *fmt, ...)
{
	char buf[2048];
	time_t now;
	size_t len = log_prefix(buf, sizeof buf, level, ref, &now);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + len, sizeof buf - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += ((size_t)n < sizeof buf - len) ? (size_t)n : sizeof buf - len - 1;
	log_write(buf, len, sizeof buf, 0, now);
}

void
log_fatal(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_msg("error", NULL, "%s; stopping", msg);
	if (log_fd != 2)
		fprintf(stderr, "%s: %s; stopping\n", log_prog, msg);
}

void
log_req(const char *ref, const char *method, const char *path, int status, int64_t micros)
{
	char buf[1024];
	time_t now;
	size_t len = log_prefix(buf, sizeof buf, "info", ref, &now);
	int n;

	n = snprintf(buf + len, sizeof buf - len, "%s %.256s %d %lldus",
	    method, path, status, (long long)micros);
	if (n > 0)
		len += ((size_t)n < sizeof buf - len) ? (size_t)n : sizeof buf - len - 1;
	log_write(buf, len, sizeof buf, 1, now);
}
