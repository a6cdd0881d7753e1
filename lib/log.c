/*
 * log: lines are formatted into a stack buffer and written with one
 * write(2) on an O_APPEND descriptor, so lines from several workers sharing
 * a file never interleave.
 */
#include "log.h"
#include "cfg.h"

#include <fcntl.h>
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

static size_t
log_prefix(char *buf, size_t cap, const char *level, const char *ref)
{
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s[%d] ref=%s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(tv.tv_usec / 1000), level, log_prog, (int)getpid(),
	    (ref != NULL && *ref != '\0') ? ref : "-");
	return (n < 0 || (size_t)n >= cap) ? cap - 1 : (size_t)n;
}

static void
log_write(char *buf, size_t len, size_t cap)
{
	if (len >= cap - 1)
		len = cap - 2;
	buf[len++] = '\n';
	if (write(log_fd, buf, len) < 0)
		return;
}

void
log_msg(const char *level, const char *ref, const char *fmt, ...)
{
	char buf[2048];
	size_t len = log_prefix(buf, sizeof buf, level, ref);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + len, sizeof buf - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += ((size_t)n < sizeof buf - len) ? (size_t)n : sizeof buf - len - 1;
	log_write(buf, len, sizeof buf);
}

void
log_req(const char *ref, const char *method, const char *path, int status, int64_t micros)
{
	char buf[1024];
	size_t len = log_prefix(buf, sizeof buf, "info", ref);
	int n;

	n = snprintf(buf + len, sizeof buf - len, "%s %.256s %d %lldus",
	    method, path, status, (long long)micros);
	if (n > 0)
		len += ((size_t)n < sizeof buf - len) ? (size_t)n : sizeof buf - len - 1;
	log_write(buf, len, sizeof buf);
}
