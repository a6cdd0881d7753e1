/*
 * cfg: configuration. Every value comes from the environment or, failing
 * that, from the KEY=VALUE file named by MB_CONFIG (written by `make run`
 * into the state folder), or from the default below. The environment wins so
 * a test can override one knob for one process. A number that is set but not
 * valid (not a whole number, out of range) stops the program at start.
 */
#ifndef MB_CFG_H
#define MB_CFG_H

#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_KEYS 8

typedef struct cfg {
	const char *db_socket;
	const char *db_user;
	const char *db_pass;
	const char *db_name;
	int         db_timeout;        /* seconds, connect/read/write */

	const char *internal_key;      /* INTERNAL_KEY: the comma list mac_init takes (mac.h) */
	const char *session_keys[CFG_MAX_KEYS]; /* first signs, all verify */
	int         session_nkeys;
	int64_t     session_idle;      /* seconds */
	int64_t     session_max;       /* seconds */
	int         cookie_secure;
	int         pbkdf2_iter;
	const char *epoch_file;         /* shared change counters (epoch.h); NULL: none */

	const char *inventory_url;
	int         inventory_timeout_ms;
	int         inventory_threads;
	const char *inventory_stats;   /* where the daemon writes its counts (SIGUSR2); NULL: nowhere */
	int64_t     sweep_grace;       /* seconds before an orphan reservation is released */
	const char *bus_url;
	int64_t     order_ttl;         /* seconds an order may stay unpaid */
	int64_t     max_open_orders;   /* unpaid orders a user may hold; 0: no cap */
	int64_t     login_fails;       /* failed logins of one name before the backoff; 0: none */
	int64_t     login_fail_window; /* seconds the failures are counted over */
	int64_t     login_backoff;     /* seconds of the first refusal; doubles, up to the window */

	const char *log_dir;
	char       *session_buf;       /* the storage session_keys point into */

	/* several hosts (docs/SCALING.md) */
	const char *db_host;           /* "h1,h2,...": tried in order; NULL: db_socket */
	int         db_port;
	int         db_sync_wait;      /* wsrep_sync_wait of every connection (Galera) */
	const char *inventory_listen;  /* the daemon binds this; clients connect to inventory_url */
	const char *bus_listen;        /* the listener binds this; publishers connect to bus_url */
	char        listen_buf[2][256]; /* the storage of the two above when taken from a list */
	int         cluster;           /* 1: shared SESSION_KEYS required, no EPOCH_FILE */
} cfg;

/*
 * Loads the configuration once; later calls return the same object. When a
 * setting is invalid it holds defaults for the bad values and cfg_error()
 * says which: every program checks that right after log_init and stops.
 */
const cfg *cfg_load(void);
/* NULL, or "invalid setting KEY=VALUE: why" for the first bad setting. */
const char *cfg_error(void);
/*
 * Reads every setting into *c as the environment and the file give it now:
 * 0, or -1 with the first invalid setting in err. cfg_load is this, once;
 * free(c->session_buf) when done with a parsed copy.
 */
int cfg_parse(cfg *c, char *err, size_t cap);
/* A raw lookup (environment, then file); NULL when unset. */
const char *cfg_get(const char *key);

#endif
