/*
 * cfg: environment first, then the MB_CONFIG file, then defaults. The file
 * is read once at start; values live for the whole process.
 */
#include "cfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_MAX_LINES 128

static char *file_keys[CFG_MAX_LINES];
static char *file_vals[CFG_MAX_LINES];
static int   file_n;
static int   loaded;
static cfg   conf;

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

static int64_t
cfg_int(const char *key, int64_t def, int64_t min, int64_t max)
{
	const char *v = cfg_get(key);
	char *end;
	long long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n < min || n > max) {
		fprintf(stderr, "config: %s=%s is not a number in [%lld, %lld]; using %lld\n",
		    key, v, (long long)min, (long long)max, (long long)def);
		return def;
	}
	return n;
}

static void
cfg_split_keys(const char *list)
{
	char *copy, *tok, *save = NULL;

	if (list == NULL || (copy = strdup(list)) == NULL)
		return;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && conf.session_nkeys < CFG_MAX_KEYS;
	    tok = strtok_r(NULL, ", \t", &save))
		conf.session_keys[conf.session_nkeys++] = tok;
}

/* key's value, or else the first entry of a comma-separated address list (copied) */
static const char *
cfg_str_or_first(const char *key, const char *list)
{
	const char *v = cfg_str(key, NULL);
	char *s;

	if (v != NULL || (s = strdup(list)) == NULL)
		return v != NULL ? v : list;
	s[strcspn(s, ", \t")] = '\0';
	return s;
}

/*
 * Several hosts: the database by address, listen addresses apart from where
 * clients connect, and in cluster mode the refusals that keep hosts in step:
 * a session key of their own would refuse other hosts' cookies, and a
 * host's change counters cannot see writes made through another host.
 */
static void
cfg_load_hosts(void)
{
	conf.db_host = cfg_str("DB_HOST", NULL);
	conf.db_port = (int)cfg_int("DB_PORT", 3306, 1, 65535);
	conf.db_sync_wait = (int)cfg_int("DB_SYNC_WAIT", 0, 0, 15);
	conf.inventory_listen = cfg_str_or_first("INVENTORY_LISTEN", conf.inventory_url);
	conf.bus_listen = cfg_str_or_first("BUS_LISTEN", conf.bus_url);
	conf.cluster = (int)cfg_int("CLUSTER", 0, 0, 1);
	if (conf.cluster && conf.session_nkeys == 0) {
		fprintf(stderr, "config: CLUSTER=1 needs SESSION_KEYS, the same on every host\n");
		exit(2);
	}
	if (conf.cluster && conf.epoch_file != NULL) {
		fprintf(stderr, "config: CLUSTER=1 refuses EPOCH_FILE: a host's counters do not "
		    "see writes made through other hosts\n");
		exit(2);
	}
}

const cfg *
cfg_load(void)
{
	if (loaded)
		return &conf;
	loaded = 1;
	cfg_read_file();
	conf.db_socket = cfg_str("DB_SOCKET", "/run/mysqld/mysqld.sock");
	conf.db_user = cfg_str("DB_USER", "microbook");
	conf.db_pass = cfg_str("DB_PASS", "");
	conf.db_name = cfg_str("DB_NAME", "microbook");
	conf.db_timeout = (int)cfg_int("DB_TIMEOUT", 2, 1, 60);
	cfg_split_keys(cfg_get("SESSION_KEYS"));
	conf.session_idle = cfg_int("SESSION_IDLE", 1800, 1, 86400 * 365);
	conf.session_max = cfg_int("SESSION_MAX", 86400, 1, 86400 * 365);
	conf.cookie_secure = (int)cfg_int("COOKIE_SECURE", 0, 0, 1);
	conf.pbkdf2_iter = (int)cfg_int("PBKDF2_ITER", 600000, 1, 100000000);
	conf.epoch_file = cfg_str("EPOCH_FILE", NULL);
	conf.inventory_url = cfg_str("INVENTORY_URL", "ipc:///tmp/microbook-inventory.ipc");
	conf.inventory_timeout_ms = (int)cfg_int("INVENTORY_TIMEOUT_MS", 2000, 50, 60000);
	conf.inventory_threads = (int)cfg_int("INVENTORY_THREADS", 4, 1, 64);
	conf.sweep_grace = cfg_int("SWEEP_GRACE", 60, 1, 86400);
	conf.bus_url = cfg_str("BUS_URL", "ipc:///tmp/microbook-bus.ipc");
	conf.order_ttl = cfg_int("ORDER_TTL", 900, 1, 86400 * 30);
	conf.log_dir = cfg_str("LOG_DIR", NULL);
	cfg_load_hosts();
	return &conf;
}
