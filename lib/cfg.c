/*
 * cfg: environment first, then the MB_CONFIG file, then defaults. The file
 * is read once at start; values live for the whole process. A value that is
 * set but not valid is an error, never a silent default: the program names
 * it and stops (as redis refuses a bad directive).
 */
#include "cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_MAX_LINES 128

static char *file_keys[CFG_MAX_LINES];
static char *file_vals[CFG_MAX_LINES];
static int   file_n;
static int   loaded;
static cfg   conf;
static char  conf_err[256]; /* the first invalid setting cfg_load met */

static void
cfg_read_file(void)
{
	const char *path = getenv("MB_CONFIG");
	char line[4096];
	FILE *f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "r")) == NULL)
		return;
	while (file_n < CFG_MAX_LINES && fgets(line, sizeof line, f) != NULL) {
		char *eq, *end;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		end = eq + 1;
		file_keys[file_n] = strdup(line);
		file_vals[file_n] = strdup(end);
		if (file_keys[file_n] == NULL || file_vals[file_n] == NULL)
			break;
		file_n++;
	}
	fclose(f);
}

const char *
cfg_get(const char *key)
{
	const char *v = getenv(key);
	int i;

	if (!loaded)
		(void)cfg_load();

	if (v != NULL)
		return v;
	for (i = file_n - 1; i >= 0; i--)
		if (strcmp(file_keys[i], key) == 0)
			return file_vals[i];
	return NULL;
}

static const char *
cfg_str(const char *key, const char *def)
{
	const char *v = cfg_get(key);

	return (v != NULL && *v != '\0') ? v : def;
}

/*
 * A number in [min, max], or def when unset. Anything else is an error that
 * names the setting and the value; the first one is kept in err.
 */
static int64_t
cfg_int(const char *key, int64_t def, int64_t min, int64_t max, char *err, size_t cap)
{
	const char *v = cfg_get(key);
	char *end;
	long long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if ((*v != '-' && (*v < '0' || *v > '9')) || *end != '\0' || errno != 0 || n < min || n > max) {
		if (err[0] == '\0')
			snprintf(err, cap, "invalid setting %s=%.64s%s: not a whole number in [%lld, %lld]",
			    key, v, strlen(v) > 64 ? "..." : "", (long long)min, (long long)max);
		return def;
	}
	return n;
}

static void
cfg_split_keys(cfg *c, const char *list)
{
	char *tok, *save = NULL;

	if (list == NULL || (c->session_buf = strdup(list)) == NULL)
		return;
	for (tok = strtok_r(c->session_buf, ", \t", &save); tok != NULL &&
	    c->session_nkeys < CFG_MAX_KEYS; tok = strtok_r(NULL, ", \t", &save))
		c->session_keys[c->session_nkeys++] = tok;
}

/*
 * key's value, or else the first entry of a comma-separated address list,
 * copied into buf (an address longer than buf is an error).
 */
static const char *
cfg_str_or_first(const char *key, const char *list, char *buf, size_t bufcap, char *err,
    size_t cap)
{
	const char *v = cfg_str(key, NULL);
	size_t n;

	if (v != NULL || list == NULL)
		return v != NULL ? v : list;
	if ((n = strcspn(list, ", \t")) >= bufcap) {
		if (err[0] == '\0')
			snprintf(err, cap, "invalid setting %s: the first address of '%.64s...' is "
			    "longer than %zu bytes", key, list, bufcap - 1);
		return list;
	}
	memcpy(buf, list, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Several hosts: the database by address, listen addresses apart from where
 * clients connect, and in cluster mode the refusals that keep hosts in step:
 * a session key of their own would refuse other hosts' cookies, and a
 * host's change counters cannot see writes made through another host.
 */
static void
cfg_parse_hosts(cfg *c, char *err, size_t cap)
{
	c->db_host = cfg_str("DB_HOST", NULL);
	c->db_port = (int)cfg_int("DB_PORT", 3306, 1, 65535, err, cap);
	c->db_sync_wait = (int)cfg_int("DB_SYNC_WAIT", 0, 0, 15, err, cap);
	c->inventory_listen = cfg_str_or_first("INVENTORY_LISTEN", c->inventory_url,
	    c->listen_buf[0], sizeof c->listen_buf[0], err, cap);
	c->bus_listen = cfg_str_or_first("BUS_LISTEN", c->bus_url, c->listen_buf[1],
	    sizeof c->listen_buf[1], err, cap);
	c->cluster = (int)cfg_int("CLUSTER", 0, 0, 1, err, cap);
	if (c->cluster && c->session_nkeys == 0 && err[0] == '\0')
		snprintf(err, cap, "invalid setting CLUSTER=1: it needs SESSION_KEYS, the same on "
		    "every host");
	if (c->cluster && c->epoch_file != NULL && err[0] == '\0')
		snprintf(err, cap, "invalid setting CLUSTER=1 with EPOCH_FILE: a host's counters do "
		    "not see writes made through other hosts");
}

int
cfg_parse(cfg *c, char *err, size_t cap)
{
	if (!loaded)
		(void)cfg_load();
	memset(c, 0, sizeof *c);
	err[0] = '\0';
	c->db_socket = cfg_str("DB_SOCKET", "/run/mysqld/mysqld.sock");
	c->db_user = cfg_str("DB_USER", "microbook");
	c->db_pass = cfg_str("DB_PASS", "");
	c->db_name = cfg_str("DB_NAME", "microbook");
	c->db_timeout = (int)cfg_int("DB_TIMEOUT", 2, 1, 60, err, cap);
	c->internal_key = cfg_str("INTERNAL_KEY", NULL);
	cfg_split_keys(c, cfg_get("SESSION_KEYS"));
	c->session_idle = cfg_int("SESSION_IDLE", 1800, 1, 86400 * 365, err, cap);
	c->session_max = cfg_int("SESSION_MAX", 86400, 1, 86400 * 365, err, cap);
	c->cookie_secure = (int)cfg_int("COOKIE_SECURE", 0, 0, 1, err, cap);
	c->pbkdf2_iter = (int)cfg_int("PBKDF2_ITER", 600000, 1, 100000000, err, cap);
	c->epoch_file = cfg_str("EPOCH_FILE", NULL);
	c->inventory_url = cfg_str("INVENTORY_URL", "ipc:///tmp/microbook-inventory.ipc");
	c->inventory_timeout_ms = (int)cfg_int("INVENTORY_TIMEOUT_MS", 2000, 50, 60000, err, cap);
	c->inventory_threads = (int)cfg_int("INVENTORY_THREADS", 2, 1, 64, err, cap);
	c->inventory_stats = cfg_str("INVENTORY_STATS", NULL);
	c->sweep_grace = cfg_int("SWEEP_GRACE", 60, 1, 86400, err, cap);
	c->bus_url = cfg_str("BUS_URL", "ipc:///tmp/microbook-bus.ipc");
	c->order_ttl = cfg_int("ORDER_TTL", 900, 1, 86400 * 30, err, cap);
	c->max_open_orders = cfg_int("MAX_OPEN_ORDERS", 5, 0, 1000000000, err, cap);
	c->login_fails = cfg_int("LOGIN_FAILS", 5, 0, 1000000, err, cap);
	c->login_fail_window = cfg_int("LOGIN_FAIL_WINDOW", 900, 1, 86400, err, cap);
	c->login_backoff = cfg_int("LOGIN_BACKOFF", 30, 1, 86400, err, cap);
	c->log_dir = cfg_str("LOG_DIR", NULL);
	cfg_parse_hosts(c, err, cap);
	return err[0] == '\0' ? 0 : -1;
}

const cfg *
cfg_load(void)
{
	if (loaded)
		return &conf;
	loaded = 1;
	cfg_read_file();
	(void)cfg_parse(&conf, conf_err, sizeof conf_err);
	return &conf;
}

const char *
cfg_error(void)
{
	(void)cfg_load();
	return conf_err[0] != '\0' ? conf_err : NULL;
}
