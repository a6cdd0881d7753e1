#include "boot.h"
#include "epoch.h"
#include "log.h"
#include "mac.h"
#include "mb.h"

const cfg *
boot(const char *prog)
{
	const cfg *c = cfg_load();

	log_init(prog);
	if (cfg_error() != NULL) {
		log_fatal("%s", cfg_error());
		return NULL;
	}
	/* issue 11: every internal message is sealed */
	if (mac_init(c->internal_key) != MB_OK) {
		log_fatal("no usable INTERNAL_KEY (each key needs %d+ characters)", MAC_KEY_MIN);
		return NULL;
	}
	if (epoch_init(c->epoch_file) != MB_OK) {
		log_fatal("cannot map EPOCH_FILE %s", c->epoch_file);
		return NULL;
	}
	return c;
}
