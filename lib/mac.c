/* mac: see mac.h. */
#include "mac.h"
#include "cfg.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char          *mac_buf;
static int            mac_nkeys;
static int            mac_set;
static EVP_MAC       *mac_alg; /* fetched once */
/*
 * One context per key, keyed once at mac_init and never used directly: each
 * call works on a copy (EVP_MAC_CTX_dup), which keeps threads apart and
 * skips the key schedule and the parameter lookup a fresh context costs.
 */
static EVP_MAC_CTX   *mac_keyed[MAC_MAX_KEYS];
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;

EVP_MAC_CTX *
mac_key_ctx(const char *key)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()
	};
	EVP_MAC_CTX *h;

	if (mac_alg == NULL && (mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	h = EVP_MAC_CTX_new(mac_alg);

	if (h != NULL && EVP_MAC_init(h, (const unsigned char *)key, strlen(key), params) != 1) {
		EVP_MAC_CTX_free(h);
		h = NULL;
	}
	return h;
}

int
mac_init(const char *list)
{
	char *tok, *save = NULL;
	int k;

	for (k = 0; k < mac_nkeys; k++)
		EVP_MAC_CTX_free(mac_keyed[k]);
	free(mac_buf);
	mac_buf = NULL;
	mac_nkeys = 0;
	mac_set = 1;
	if (mac_alg == NULL && (mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return MB_ERROR;
	if (list == NULL || (mac_buf = strdup(list)) == NULL)
		return MB_ERROR;
	for (tok = strtok_r(mac_buf, ", \t", &save); tok != NULL && mac_nkeys < MAC_MAX_KEYS;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (strlen(tok) < MAC_KEY_MIN) { /* refused, as SESSION_KEYS' (session.c) */
			while (mac_nkeys > 0)
				EVP_MAC_CTX_free(mac_keyed[--mac_nkeys]);
			return MB_ERROR;
		}
		if ((mac_keyed[mac_nkeys] = mac_key_ctx(tok)) == NULL)
			return MB_ERROR;
		mac_nkeys++;
	}
	return mac_nkeys > 0 ? MB_OK : MB_ERROR;
}

static void
mac_load(void)
{
	if (!mac_set)
		(void)mac_init(cfg_load()->internal_key);
}

/*
 * HMAC-SHA256 under key number k of ctx '\n' bind '\n' time '\n' payload,
 * as 64 hex digits in out.
 */
static int
mac_compute(int k, const char *ctx, const char *bind, int64_t t,
    const char *payload, size_t len, char out[MAC_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0, i;
	char head[256];
	int hlen = snprintf(head, sizeof head, "%s\n%s\n%lld\n", ctx, bind, (long long)t);
	EVP_MAC_CTX *h;
	int ok;

	if (hlen < 0 || (size_t)hlen >= sizeof head || (h = EVP_MAC_CTX_dup(mac_keyed[k])) == NULL)
		return -1;
	ok = EVP_MAC_update(h, (const unsigned char *)head, (size_t)hlen) == 1 &&
	    EVP_MAC_update(h, (const unsigned char *)payload, len) == 1 &&
	    EVP_MAC_final(h, md, &mdlen, sizeof md) == 1 && mdlen * 2 == MAC_HEX_LEN;
	EVP_MAC_CTX_free(h);
	if (!ok)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[MAC_HEX_LEN] = '\0';
	return 0;
}

char *
mac_seal(const char *ctx, const char *bind, int64_t now, const char *payload, size_t len)
{
	char mac[MAC_HEX_LEN + 1], stamp[32], *msg;
	int slen;

	pthread_once(&mac_once, mac_load);
	if (mac_nkeys == 0 || mac_compute(0, ctx, bind, now, payload, len, mac) != 0)
		return NULL;
	slen = snprintf(stamp, sizeof stamp, " %lld ", (long long)now);
	if ((msg = malloc(MAC_HEX_LEN + (size_t)slen + len + 1)) == NULL)
		return NULL;
	memcpy(msg, mac, MAC_HEX_LEN);
	memcpy(msg + MAC_HEX_LEN, stamp, (size_t)slen);
	memcpy(msg + MAC_HEX_LEN + slen, payload, len);
	msg[MAC_HEX_LEN + (size_t)slen + len] = '\0';
	return msg;
}

/* Parses the envelope's time: the digits after the mac; -1 when malformed. */
static int64_t
mac_parse_time(const char *msg, size_t len, size_t *body)
{
	int64_t t = 0;
	size_t i = MAC_HEX_LEN + 1, start = i;

	if (len < MAC_HEX_LEN + 4 || msg[MAC_HEX_LEN] != ' ')
		return -1;
	while (i < len && i - start < 12 && msg[i] >= '0' && msg[i] <= '9')
		t = t * 10 + (msg[i++] - '0');
	if (i == start || i >= len || msg[i] != ' ')
		return -1;
	*body = i + 1;
	return t;
}

int64_t
mac_time(const char *msg, size_t len)
{
	size_t body;
	int64_t t = mac_parse_time(msg, len, &body);

	return t < 0 ? 0 : t;
}

int
mac_open(const char *ctx, const char *bind, int64_t now, const char *msg, size_t len,
    const char **payload, size_t *plen, const char **why)
{
	char mac[MAC_HEX_LEN + 1];
	size_t body;
	int64_t t;
	int k;

	pthread_once(&mac_once, mac_load);
	*payload = NULL;
	*plen = 0;
	if (mac_nkeys == 0) {
		*why = "no INTERNAL_KEY";
		return MB_DECLINED;
	}
	if ((t = mac_parse_time(msg, len, &body)) < 0) {
		*why = "malformed envelope";
		return MB_DECLINED;
	}
	for (k = 0; k < mac_nkeys; k++)
		if (mac_compute(k, ctx, bind, t, msg + body, len - body, mac) == 0 &&
		    CRYPTO_memcmp(mac, msg, MAC_HEX_LEN) == 0)
			break;
	if (k == mac_nkeys) {
		*why = "bad mac";
		return MB_DECLINED;
	}
	if (t < now - MAC_WINDOW_S || t > now + MAC_WINDOW_S) {
		*why = "time outside the window";
		return MB_DECLINED;
	}
	*payload = msg + body;
	*plen = len - body;
	return MB_OK;
}

typedef struct mac_seen_slot {
	char    id[40];
	int64_t t;
} mac_seen_slot;

struct mac_seen {
	pthread_mutex_t mu;
	mac_seen_slot   slot[MAC_SEEN_CAP];
	int             next;
};

mac_seen *
mac_seen_new(void)
{
	mac_seen *s = calloc(1, sizeof *s);

	if (s != NULL)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

void
mac_seen_free(mac_seen *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int
mac_seen_check(mac_seen *s, const char *id, int64_t t, int64_t now)
{
	int i, rc = MB_OK;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < MAC_SEEN_CAP; i++)
		if (s->slot[i].t >= now - 2 * MAC_WINDOW_S && strcmp(s->slot[i].id, id) == 0) {
			rc = MB_DECLINED;
			break;
		}
	if (rc == MB_OK) {
		snprintf(s->slot[s->next].id, sizeof s->slot[s->next].id, "%s", id);
		s->slot[s->next].t = t;
		s->next = (s->next + 1) % MAC_SEEN_CAP;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}
