/*
 * boot: the start every program of microbook shares (the FastCGI services,
 * the inventory daemon, the orders-listener): the settings (cfg.h), the log
 * (log.h), the key that seals internal messages (mac.h) and the shared
 * change epochs (epoch.h). A program that cannot have one of them does not
 * start: one line naming the reason in its log and, when that is a file, on
 * stderr (log_fatal), then boot answers NULL and main returns 1.
 */
#ifndef MB_BOOT_H
#define MB_BOOT_H

#include "cfg.h"

const cfg *boot(const char *prog);

#endif
