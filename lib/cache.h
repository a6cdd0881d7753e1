/*
 * cache: a worker's rendered answers (the `data` JSON of the envelope),
 * 4-way set-associative by key (the oldest entry of a set makes room), each tagged with the epoch (epoch.h) it was read
 * under and kept at most CACHE_TTL_MS. An entry counts only while its epoch
 * is still the current one: a change made through the services bumps the
 * epoch after its COMMIT, so the next read renders afresh; the lifetime
 * bounds what a change made by hand in SQL (no bump) leaves visible.
 * With no epoch file (epoch 0) nothing is cached.
 */
#ifndef MB_CACHE_H
#define MB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_SETS    64
#define CACHE_WAYS    4                  /* a key may sit in any of its set's 4 entries */
#define CACHE_SLOTS   (CACHE_SETS * CACHE_WAYS)
#define CACHE_TTL_MS  1000
#define CACHE_MAX_LEN (16 * 1024)        /* bigger answers are not kept */
#define CACHE_BUDGET  (2 * 1024 * 1024)  /* bytes kept in all, at most */
#define CACHE_KEY_MAX 64

/* The data cached under key for this epoch, or NULL; its length in *len (len may be NULL). */
const char *cache_get(const char *key, uint64_t epoch, size_t *len);
/*
 * Keeps data, len bytes and a NUL: takes it and returns it (it stays the
 * cache's, valid until the next cache_put or cache_clear), or returns NULL
 * and leaves it to the caller when it is not kept (no epoch, too long, no room).
 */
const char *cache_put(const char *key, uint64_t epoch, char *data, size_t len);
/* A string's FNV-1a hash, for the caches keyed by string (this one, auth's). */
uint64_t    cache_hash(const char *s);
/* Forgets everything (tests). */
void        cache_clear(void);

#endif
