/*
 * test_hosts: the settings of several hosts (docs/SCALING.md) and nnlist.
 * cfg_load() reads once per process: the setup clears the environment of
 * every key involved and sets this file's values before anything loads;
 * the CLUSTER=1 refusals are checked with cfg_parse (what cfg_load keeps
 * as cfg_error, on which every program stops).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "nnlist.h"

static const char *const keys[] = {
	"MB_CONFIG", "DB_HOST", "DB_PORT", "DB_SYNC_WAIT", "INVENTORY_URL", "INVENTORY_LISTEN",
	"BUS_URL", "BUS_LISTEN", "CLUSTER", "SESSION_KEYS", "EPOCH_FILE",
};

static int
setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		unsetenv(keys[i]);
	setenv("DB_HOST", "10.0.0.1,10.0.0.2:3307", 1);
	setenv("DB_SYNC_WAIT", "1", 1);
	setenv("INVENTORY_URL", "tcp://10.0.0.5:5555,tcp://10.0.0.6:5555", 1);
	setenv("BUS_URL", "tcp://10.0.0.5:5556", 1);
	setenv("BUS_LISTEN", "tcp://0.0.0.0:5556", 1);
	return 0;
}

static void
test_hosts_settings(void **state)
{
	const cfg *c = cfg_load();

	(void)state;
	assert_string_equal(c->db_host, "10.0.0.1,10.0.0.2:3307");
	assert_int_equal(c->db_port, 3306);
	assert_int_equal(c->db_sync_wait, 1);
	/* the daemon binds the first address of the list unless told otherwise */
	assert_string_equal(c->inventory_listen, "tcp://10.0.0.5:5555");
	assert_string_equal(c->inventory_url, "tcp://10.0.0.5:5555,tcp://10.0.0.6:5555");
	assert_string_equal(c->bus_listen, "tcp://0.0.0.0:5556");
	assert_int_equal(c->cluster, 0);
}

/* cfg_parse with CLUSTER=1 and these settings: 0, or -1 with the reason in err */
static int
cluster_parse(const char *keys_v, const char *epoch_v, char *err, size_t cap)
{
	cfg c;
	int rc;

	setenv("CLUSTER", "1", 1);
	if (keys_v)
		setenv("SESSION_KEYS", keys_v, 1);
	if (epoch_v)
		setenv("EPOCH_FILE", epoch_v, 1);
	rc = cfg_parse(&c, err, cap);
	free(c.session_buf);
	unsetenv("CLUSTER");
	unsetenv("SESSION_KEYS");
	unsetenv("EPOCH_FILE");
	return rc;
}

static void
test_cluster_refusals(void **state)
{
	char err[256];

	(void)state;
	/* no shared session key: refused, naming the setting */
	assert_int_equal(cluster_parse(NULL, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "CLUSTER=1"));
	assert_non_null(strstr(err, "SESSION_KEYS"));
	/* a host's own change counters cannot see other hosts' writes: refused */
	assert_int_equal(cluster_parse("0123456789abcdef0123", "/tmp/x-epochs", err, sizeof err), -1);
	assert_non_null(strstr(err, "EPOCH_FILE"));
	assert_int_equal(cluster_parse("0123456789abcdef0123", NULL, err, sizeof err), 0);
	assert_string_equal(err, "");
}

static void
test_nnlist(void **state)
{
	int s = nn_socket(AF_SP, NN_REQ);

	(void)state;
	assert_true(s >= 0);
	assert_int_equal(nnlist_connect(s, "ipc:///tmp/mb-t-a.ipc, ipc:///tmp/mb-t-b.ipc"), 0);
	assert_int_equal(nnlist_connect(s, "ipc:///tmp/mb-t-c.ipc"), 0);
	assert_int_equal(nnlist_connect(s, "ipc:///tmp/mb-t-d.ipc,nonsense://x"), -1);
	assert_int_equal(nnlist_connect(s, ""), -1);
	assert_int_equal(nnlist_connect(s, NULL), -1);
	nn_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_settings),
		cmocka_unit_test(test_cluster_refusals),
		cmocka_unit_test(test_nnlist),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
