/*
 * test_cfg: environment first, then the MB_CONFIG file, then defaults.
 * cfg_load() reads everything once per process, so the group setup writes
 * the file, sets the environment (clearing whatever the caller exported,
 * e.g. `make check`'s PBKDF2_ITER) and loads before any test runs;
 * cfg_parse reads again on the environment of the moment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

static char cfg_path[] = "/tmp/mb-test-cfg-XXXXXX";

/* Every key cfg_load reads, so the caller's environment cannot leak in. */
static const char *const known[] = {
	"DB_SOCKET", "DB_USER", "DB_PASS", "DB_NAME", "DB_TIMEOUT", "SESSION_KEYS",
	"SESSION_IDLE", "SESSION_MAX", "COOKIE_SECURE", "PBKDF2_ITER", "INVENTORY_URL",
	"INVENTORY_TIMEOUT_MS", "INVENTORY_THREADS", "SWEEP_GRACE", "BUS_URL", "ORDER_TTL",
	"LOG_DIR",
};

static const char file_text[] =
    "# a comment line\n"
    "#COMMENTED=1\n"
    "DB_USER=fileuser\n"
    "DB_NAME=filedb\n"
    "DB_SOCKET=\n"
    "DB_TIMEOUT=5\n"
    "SESSION_KEYS=aaaaaaaaaaaaaaaa-1,,bbbbbbbbbbbbbbbb-2,cccccccccccccccc-3,"
    "d4,e5,f6,g7,h8,i9,j10,\n"
    "SESSION_IDLE=600\n"
    "COOKIE_SECURE=1\n"
    "ORDER_TTL=notanumber\n"
    "SWEEP_GRACE=999999\n"
    "INVENTORY_THREADS=-3\n"
    "INVENTORY_URL=tcp://127.0.0.1:5555\r\n"
    "ONLY_IN_FILE=from-file\n"
    "BOTH=from-file\n"
    "WITH_EQ=a=b=c\n"
    "a line without an equals sign\n"
    "DUP=first\n"
    "DUP=second\n"
    "EMPTY=\n"
    "LAST=no-newline";

static int
setup_group(void **state)
{
	size_t i;
	FILE *f;
	int fd;

	(void)state;
	if ((fd = mkstemp(cfg_path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	fputs(file_text, f);
	if (fclose(f) != 0)
		return -1;
	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		unsetenv(known[i]);
	unsetenv("ONLY_IN_FILE");
	unsetenv("NOT_SET_ANYWHERE");
	setenv("MB_CONFIG", cfg_path, 1);
	setenv("BOTH", "from-env", 1);
	setenv("DB_NAME", "envdb", 1);
	setenv("PBKDF2_ITER", "1000", 1);
	return cfg_load() != NULL ? 0 : -1;
}

static int
teardown_group(void **state)
{
	(void)state;
	unlink(cfg_path);
	return 0;
}

static void
test_env_wins(void **state)
{
	(void)state;
	assert_string_equal(cfg_get("BOTH"), "from-env");
	assert_string_equal(cfg_load()->db_name, "envdb");
	assert_int_equal(cfg_load()->pbkdf2_iter, 1000);
}

static void
test_file_values(void **state)
{
	const cfg *c = cfg_load();

	(void)state;
	assert_string_equal(cfg_get("ONLY_IN_FILE"), "from-file");
	assert_string_equal(cfg_get("WITH_EQ"), "a=b=c");
	assert_string_equal(cfg_get("DUP"), "second");
	assert_string_equal(cfg_get("EMPTY"), "");
	assert_string_equal(cfg_get("LAST"), "no-newline");
	assert_string_equal(cfg_get("INVENTORY_URL"), "tcp://127.0.0.1:5555");
	assert_string_equal(c->db_user, "fileuser");
	assert_int_equal(c->db_timeout, 5);
	assert_int_equal(c->session_idle, 600);
	assert_int_equal(c->cookie_secure, 1);
	assert_string_equal(c->inventory_url, "tcp://127.0.0.1:5555");
}

static void
test_unset_and_comments(void **state)
{
	(void)state;
	assert_null(cfg_get("NOT_SET_ANYWHERE"));
	assert_null(cfg_get("#COMMENTED"));
	assert_null(cfg_get("COMMENTED"));
	assert_null(cfg_get("a line without an equals sign"));
	assert_null(cfg_get("LOG_DIR"));
}

static void
test_defaults(void **state)
{
	const cfg *c = cfg_load();

	(void)state;
	assert_string_equal(c->db_socket, "/run/mysqld/mysqld.sock"); /* empty in the file */
	assert_string_equal(c->db_pass, "");
	assert_int_equal(c->session_max, 86400);
	assert_int_equal(c->inventory_timeout_ms, 2000);
	assert_string_equal(c->bus_url, "ipc:///tmp/microbook-bus.ipc");
	assert_null(c->log_dir);
}

/*
 * The file holds three bad numbers: cfg_load keeps their defaults and
 * cfg_error names the first one met (parse order), setting and value.
 */
static void
test_bad_numbers(void **state)
{
	const cfg *c = cfg_load();

	(void)state;
	assert_int_equal(c->order_ttl, 900);
	assert_int_equal(c->sweep_grace, 60);
	assert_int_equal(c->inventory_threads, 2);
	assert_non_null(cfg_error());
	assert_string_equal(cfg_error(),
	    "invalid setting INVENTORY_THREADS=-3: not a whole number in [1, 64]");
}

/*
 * cfg_parse on the environment of the moment: every malformed or
 * out-of-range number is refused with a message naming it; the edges of
 * each range are accepted. The file's three bad numbers are overridden
 * with good ones first, so each case stands alone.
 */
static void
test_parse_refuses(void **state)
{
	static const struct {
		const char *key, *value;
		int         ok;
	} cases[] = {
		{ "DB_TIMEOUT", "abc", 0 }, { "DB_TIMEOUT", "0", 0 }, { "DB_TIMEOUT", "61", 0 },
		{ "DB_TIMEOUT", "1", 1 }, { "DB_TIMEOUT", "60", 1 }, { "DB_TIMEOUT", " 5", 0 },
		{ "DB_TIMEOUT", "5 ", 0 }, { "DB_TIMEOUT", "+5", 0 }, { "DB_TIMEOUT", "5s", 0 },
		{ "DB_TIMEOUT", "0x10", 0 }, { "DB_TIMEOUT", "1e3", 0 }, { "DB_TIMEOUT", "2.5", 0 },
		{ "DB_TIMEOUT", "", 1 },  /* empty is unset: the default */
		{ "SESSION_IDLE", "99999999999999999999", 0 }, { "SESSION_MAX", "-1", 0 },
		{ "COOKIE_SECURE", "2", 0 }, { "COOKIE_SECURE", "yes", 0 }, { "COOKIE_SECURE", "0", 1 },
		{ "PBKDF2_ITER", "100000001", 0 }, { "INVENTORY_TIMEOUT_MS", "49", 0 },
		{ "INVENTORY_TIMEOUT_MS", "50", 1 }, { "INVENTORY_THREADS", "65", 0 },
		{ "SWEEP_GRACE", "86401", 0 }, { "ORDER_TTL", "notanumber", 0 },
		{ "ORDER_TTL", "2592000", 1 },
	};
	char err[256], want[160];
	size_t i;
	cfg c;

	(void)state;
	setenv("INVENTORY_THREADS", "4", 1);
	setenv("SWEEP_GRACE", "60", 1);
	setenv("ORDER_TTL", "900", 1);
	assert_int_equal(cfg_parse(&c, err, sizeof err), 0);
	assert_string_equal(err, "");
	free(c.session_buf);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *before = getenv(cases[i].key);
		char *saved = before != NULL ? strdup(before) : NULL;
		int rc;

		setenv(cases[i].key, cases[i].value, 1);
		rc = cfg_parse(&c, err, sizeof err);
		free(c.session_buf);
		if (saved != NULL)
			setenv(cases[i].key, saved, 1);
		else
			unsetenv(cases[i].key);
		free(saved);
		if (cases[i].ok) {
			if (rc != 0)
				fail_msg("%s=\"%s\" refused: %s", cases[i].key, cases[i].value, err);
			continue;
		}
		snprintf(want, sizeof want, "invalid setting %s=%s: ", cases[i].key, cases[i].value);
		if (rc != -1 || strncmp(err, want, strlen(want)) != 0)
			fail_msg("%s=\"%s\": rc %d, message \"%s\"", cases[i].key, cases[i].value, rc, err);
	}
	/* a long value is cut in the message, which stays one bounded line */
	{
		char big[300];

		memset(big, '9', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		setenv("ORDER_TTL", big, 1);
		assert_int_equal(cfg_parse(&c, err, sizeof err), -1);
		free(c.session_buf);
		assert_non_null(strstr(err, "ORDER_TTL=9999"));
		assert_non_null(strstr(err, "...: not a whole number"));
		assert_null(strchr(err, '\n'));
	}
	unsetenv("INVENTORY_THREADS");
	unsetenv("SWEEP_GRACE");
	unsetenv("ORDER_TTL");
	/* what cfg_load found stays: parsing again does not change it */
	assert_string_equal(cfg_error(),
	    "invalid setting INVENTORY_THREADS=-3: not a whole number in [1, 64]");
}

/* Comma-separated, empty items skipped, at most CFG_MAX_KEYS, in order. */
static void
test_session_keys(void **state)
{
	static const char *const want[CFG_MAX_KEYS] = {
		"aaaaaaaaaaaaaaaa-1", "bbbbbbbbbbbbbbbb-2", "cccccccccccccccc-3",
		"d4", "e5", "f6", "g7", "h8",
	};
	const cfg *c = cfg_load();
	int i;

	(void)state;
	assert_int_equal(c->session_nkeys, CFG_MAX_KEYS);
	for (i = 0; i < CFG_MAX_KEYS; i++)
		assert_string_equal(c->session_keys[i], want[i]);
}

/* Loaded once: later environment changes reach cfg_get but not the cfg. */
static void
test_loaded_once(void **state)
{
	const cfg *c = cfg_load();

	(void)state;
	assert_ptr_equal(cfg_load(), c);
	setenv("DB_USER", "changed", 1);
	assert_string_equal(cfg_get("DB_USER"), "changed");
	assert_string_equal(cfg_load()->db_user, "fileuser");
	unsetenv("DB_USER");
	assert_string_equal(cfg_get("DB_USER"), "fileuser");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_wins),
		cmocka_unit_test(test_file_values),
		cmocka_unit_test(test_unset_and_comments),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_session_keys),
		cmocka_unit_test(test_loaded_once),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
