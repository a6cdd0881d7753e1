/* cache: see cache.h. */
#include "cache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cache_entry {
	char     key[CACHE_KEY_MAX];
	uint64_t epoch;
	int64_t  until_ms;
	char    *data;
} cache_entry;

static cache_entry cache[CACHE_SLOTS];

static int64_t
cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
cache_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static cache_entry *
cache_slot(const char *key)
{
	return &cache[cache_hash(key) % CACHE_SLOTS];
}

const char *
cache_get(const char *key, uint64_t epoch)
{
	cache_entry *e = cache_slot(key);

	if (epoch == 0 || e->data == NULL || e->epoch != epoch || strcmp(e->key, key) != 0 ||
	    cache_now_ms() >= e->until_ms)
		return NULL;
	return e->data;
}

void
cache_put(const char *key, uint64_t epoch, char *data)
{
	cache_entry *e = cache_slot(key);

	if (epoch == 0 || data == NULL || strlen(key) >= sizeof e->key ||
	    strlen(data) > CACHE_MAX_LEN) {
		free(data);
		return;
	}
	free(e->data);
	strcpy(e->key, key);
	e->epoch = epoch;
	e->until_ms = cache_now_ms() + CACHE_TTL_MS;
	e->data = data;
}

void
cache_clear(void)
{
	int i;

	for (i = 0; i < CACHE_SLOTS; i++) {
		free(cache[i].data);
		cache[i].data = NULL;
	}
}
