/* cache: see cache.h. */
#include "cache.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cache_entry {
	char     key[CACHE_KEY_MAX];
	uint64_t epoch;
	int64_t  until_ms;
	size_t   len;
	char    *data;
} cache_entry;

static cache_entry cache[CACHE_SETS][CACHE_WAYS];
static size_t      cache_bytes;

uint64_t
cache_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void
cache_drop(cache_entry *e)
{
	cache_bytes -= e->len;
	free(e->data);
	e->data = NULL;
	e->len = 0;
}

/* The entry holding key, or NULL. */
static cache_entry *
cache_find(cache_entry *set, const char *key)
{
	int i;

	for (i = 0; i < CACHE_WAYS; i++)
		if (set[i].data != NULL && strcmp(set[i].key, key) == 0)
			return &set[i];
	return NULL;
}

const char *
cache_get(const char *key, uint64_t epoch, size_t *len)
{
	cache_entry *e = cache_find(cache[cache_hash(key) % CACHE_SETS], key);

	if (epoch == 0 || e == NULL || e->epoch != epoch || clock_mono_ms() >= e->until_ms)
		return NULL;
	if (len != NULL)
		*len = e->len;
	return e->data;
}

const char *
cache_put(const char *key, uint64_t epoch, char *data, size_t len)
{
	cache_entry *set = cache[cache_hash(key) % CACHE_SETS], *e;
	int i;

	if (epoch == 0 || data == NULL || strlen(key) >= CACHE_KEY_MAX || len > CACHE_MAX_LEN)
		return NULL;
	if ((e = cache_find(set, key)) != NULL)
		cache_drop(e);
	/* room: an empty entry of the set, else its oldest; then the byte budget */
	for (i = 0, e = &set[0]; i < CACHE_WAYS; i++) {
		if (set[i].data == NULL) {
			e = &set[i];
			break;
		}
		if (set[i].until_ms < e->until_ms)
			e = &set[i];
	}
	if (e->data != NULL)
		cache_drop(e);
	for (i = 0; i < CACHE_WAYS && cache_bytes + len > CACHE_BUDGET; i++)
		if (set[i].data != NULL)
			cache_drop(&set[i]);
	if (cache_bytes + len > CACHE_BUDGET)
		return NULL;
	snprintf(e->key, sizeof e->key, "%s", key);
	e->epoch = epoch;
	e->until_ms = clock_mono_ms() + CACHE_TTL_MS;
	e->len = len;
	e->data = data;
	cache_bytes += len;
	return data;
}

void
cache_clear(void)
{
	int s, w;

	for (s = 0; s < CACHE_SETS; s++)
		for (w = 0; w < CACHE_WAYS; w++)
			if (cache[s][w].data != NULL)
				cache_drop(&cache[s][w]);
}
