/*
 * log: one line per event, each carrying the request id (`ref`) of the
 * request that caused it, so a request can be followed across nginx, the
 * FastCGI programs and the daemons with one grep.
 */
#ifndef MB_LOG_H
#define MB_LOG_H

#include <stdint.h>

/* Opens LOG_DIR/<prog>.log for appending (stderr when LOG_DIR is unset). */
void log_init(const char *prog);
/* level is "info", "warn" or "error"; ref may be NULL or empty. */
void log_msg(const char *level, const char *ref, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The access line: one per request, written when the answer is sent. */
void log_req(const char *ref, const char *method, const char *path, int status, int64_t micros);

#endif
