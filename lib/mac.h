/*
 * mac: the envelope that authenticates internal messages (inventory
 * requests and replies, bus events). A sealed message is
 *   <mac: 64 hex> ' ' <time: unix seconds> ' ' <payload>
 * where mac = HMAC-SHA256(key, ctx '\n' bind '\n' time '\n' payload). ctx
 * names the kind ("inv.req", "inv.rep", "bus") so one kind cannot pass as
 * another; bind ties a reply to its request's id ("" when unused). Keys
 * come from INTERNAL_KEY, a comma list like SESSION_KEYS: the first signs,
 * every one verifies, each 16+ characters. A message whose time is more
 * than MAC_WINDOW_S from ours is refused, so a captured one dies with it.
 */
#ifndef MB_MAC_H
#define MB_MAC_H

#include <stddef.h>
#include <stdint.h>

#include "mb.h"

#include <openssl/evp.h>

#define MAC_WINDOW_S   30
#define MAC_MAX_KEYS   8
#define MAC_KEY_MIN    16
#define MAC_HEX_LEN    64

/*
 * Sets the keys from a comma list: MB_OK when at least one is usable (keys
 * shorter than MAC_KEY_MIN are skipped), else MB_ERROR (no keys: every seal
 * and open fails). Without a call the first seal or open loads
 * INTERNAL_KEY from the configuration. Call before starting threads.
 */
int   mac_init(const char *list);
/* The sealed message (malloc'd, NUL-terminated), or NULL without a key or memory. */
char *mac_seal(const char *ctx, const char *bind, int64_t now, const char *payload, size_t len);
/*
 * Verifies msg at time `now`: MB_OK with *payload and *plen pointing into msg,
 * or MB_DECLINED with *why a static reason ("no key", "malformed envelope",
 * "bad mac", "time outside the window").
 */
int   mac_open(const char *ctx, const char *bind, int64_t now, const char *msg, size_t len,
          const char **payload, size_t *plen, const char **why);
/* The time the envelope names (after a successful open), or 0. */
int64_t mac_time(const char *msg, size_t len);

/*
 * A replay guard for one consumer (the bus listener): MB_OK the first time
 * `id` is seen, MB_DECLINED again within the window. It remembers the last
 * MAC_SEEN_CAP ids; an id older than the window is refused by mac_open anyway.
 */
#define MAC_SEEN_CAP 4096
typedef struct mac_seen mac_seen;
mac_seen *mac_seen_new(void);
void      mac_seen_free(mac_seen *s);
int       mac_seen_check(mac_seen *s, const char *id, int64_t t, int64_t now);

/* A context for HMAC-SHA256 keyed with key (a C string), or NULL; the
 * caller frees it (EVP_MAC_CTX_free). The seal's keys and the session
 * cookie's (session.c) are both made here. */
EVP_MAC_CTX *mac_key_ctx(const char *key);

#endif
