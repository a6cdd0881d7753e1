/*
 * log: one line per event, each carrying the request id (`ref`) of the
 * request that caused it, so a request can be followed across nginx, the
 * FastCGI programs and the daemons with one grep.
 */
#ifndef MB_LOG_H
#define MB_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Opens LOG_DIR/<prog>.log for appending (stderr when LOG_DIR is unset). */
void log_init(const char *prog);
/* level is "info", "warn" or "error"; ref may be NULL or empty. */
void log_msg(const char *level, const char *ref, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * A reason the program cannot start: an "error" line ending "; stopping",
 * and the same (as "<prog>: ...") on stderr when the log is a file, so
 * whoever started the program sees it. The caller then exits non-zero.
 */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The access line: one per request, written when the answer is sent (or
 * held, after log_hold). */
void log_req(const char *ref, const char *method, const char *path, int status, int64_t micros);
/* log_hold: from now on access lines are held and written several at once
 * (single-threaded programs only: the FastCGI workers, whose loop calls
 * log_flush when idle); every other line is written at once, after them.
 * log_flush writes what is held (also at exit). */
void log_hold(void);
void log_flush(void);
/*
 * Copies len bytes of src into dst (at most cap bytes, no NUL added) with
 * every byte below 0x20 and DEL as \xNN and the backslash as \\; never
 * splits an escape. Returns the bytes written. Every line is passed
 * through it, so one event is one line whatever its fields hold.
 */
size_t log_escape(char *dst, size_t cap, const char *src, size_t len);

#endif
