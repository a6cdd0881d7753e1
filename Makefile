# microbook: one Makefile for the libraries, services, daemons and tests.
# `make run` / `make stop` / `make check` / `make bench` / `make fuzz`;
# see README.md. Libraries are found with pkg-config.

PORT      ?= 8080
VAR_DIR   ?= $(CURDIR)/var
BUILD     ?= build
SAN       ?= 0
export PORT VAR_DIR

PKGS      := fcgi libmariadb jansson libcrypto uuid nanomsg
CC        ?= cc
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
# cracklib (password strength, the user service) has no pkg-config file
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrack -lpthread
ifeq ($(SAN),1)
CFLAGS    += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=address,undefined
endif

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libmb.a

# name:source-dir for every program that exists in the tree
PROG_DIRS := user:fcgi/user orders:fcgi/orders payment:fcgi/payment \
             inventory:daemons/inventory orders-listener:daemons/orders-listener
PROGS     := $(foreach p,$(PROG_DIRS),$(if $(wildcard $(word 2,$(subst :, ,$(p)))/*.c),$(BUILD)/mb-$(word 1,$(subst :, ,$(p)))))

UNIT_SRC  := $(wildcard t/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/%)
# unit tests that need a database (scripts/check.sh gives them one)
DBT_SRC   := $(wildcard t/db/test_*.c)
DBT_BIN   := $(DBT_SRC:t/db/%.c=$(BUILD)/t/db/%)

.PHONY: all progs units deps run stop check bench fuzz clean
# progs: what `make run` starts; units: the cmocka tests (need libcmocka-dev)
all: progs units
progs: $(PROGS)
units: $(UNIT_BIN) $(DBT_BIN) $(BUILD)/t/tools/nnsend

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

define prog_rule
$(BUILD)/mb-$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(2)/*.c)) $(LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROG_DIRS),$(eval $(call prog_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

$(BUILD)/t/%: $(BUILD)/t/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# t/tools/nnsend: a raw nanomsg sender for the e2e suites (t/e2e/95_tcp.sh)
$(BUILD)/t/tools/nnsend: $(BUILD)/t/tools/nnsend.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# a service's handler test links that service's handlers
$(BUILD)/t/db/test_user: $(BUILD)/fcgi/user/handlers.o
$(BUILD)/t/db/test_orders: $(BUILD)/fcgi/orders/handlers.o
$(BUILD)/t/db/test_payment: $(BUILD)/fcgi/payment/handlers.o
$(BUILD)/t/db/test_sell: $(BUILD)/daemons/inventory/handlers.o
.SECONDARY: $(DBT_SRC:%.c=$(BUILD)/%.o)
$(BUILD)/t/db/%: $(BUILD)/t/db/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS) -lcmocka

# Installs what the goals given need and is missing (as root, with apt-get;
# otherwise it names the apt-get line). Each target builds only what it uses:
# `make run` needs nothing that only the tests use.
DEPS_FOR  := $(or $(filter run check bench fuzz,$(MAKECMDGOALS)),run)
deps:
	@scripts/deps.sh $(DEPS_FOR)

run: deps
	@$(MAKE) --no-print-directory progs
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

bench: deps
	@$(MAKE) --no-print-directory progs
	@scripts/bench.sh

# libFuzzer harnesses of t/fuzz/, each run for FUZZ_SECONDS (default 60).
fuzz: deps
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD)

# Several hosts in network namespaces (as root; docs/SCALING.md):
# cluster-up leaves them running, cluster-down removes every mbc-* namespace,
# cluster-check starts them, runs t/cluster/check.sh and always removes them.
.PHONY: cluster-up cluster-down cluster-check
cluster-up cluster-check:
	@scripts/deps.sh cluster
	@$(MAKE) --no-print-directory progs
	@scripts/cluster.sh $(patsubst cluster-%,%,$@)
cluster-down:
	@scripts/cluster.sh down

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
