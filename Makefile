# Herd: one non-recursive Makefile for every component.
#
#   make               build daemons, herdctl, unit tests and fuzz replayers
#   make check         install missing packages, build, run every test
#   make demo          install missing packages, build, run engine + agent + a VM
#   make demo-stop     stop what `make demo` started
#   make asan          unit + integration tests under ASan/UBSan (build-asan/)
#   make valgrind      unit + integration tests under valgrind
#   make fuzz          run every libFuzzer target for FUZZ_SECONDS each
#   make install PREFIX=/usr DESTDIR=...
#
# Sources are picked up by wildcard: a new common/cmn_*.c, engine/eng_*.c,
# agent/agt_*.c, ctl/ctl_*.c, tests/unit/test_*.c or tests/fuzz/fuzz_*.c
# needs no edit here.

SANITIZER ?=
ifeq ($(SANITIZER),)
B ?= build
else
B ?= build-$(SANITIZER)
endif

CC ?= cc
PKGS := libzmq libprotobuf-c libevent libevent_pthreads libevent_openssl \
        yaml-0.1 sqlite3 jansson libsodium openssl libvirt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Werror
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
ifneq ($(SANITIZER),)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZER)
ifeq ($(SANITIZER),address)
CFLAGS += -fsanitize=undefined -fno-sanitize-recover=undefined
endif
HARDEN := -fPIE
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(HARDEN) -MMD -MP \
              -Icommon -Iengine -Iagent -Ictl -I$(B)/gen $(PKG_CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now $(filter -fsanitize=%,$(CFLAGS)) \
               $(LDFLAGS)

LIBS_COMMON := $(shell pkg-config --libs libzmq libprotobuf-c libevent \
                   libevent_pthreads yaml-0.1 libsodium 2>/dev/null) -lpthread
# common/cmn_https.c (the tools' HTTPS client) needs these: every binary
# that references it links them (herdctl, herd-agent-setup, its unit test).
LIBS_TLS    := $(shell pkg-config --libs libevent_openssl openssl 2>/dev/null)
LIBS_ENGINE := $(shell pkg-config --libs sqlite3 jansson 2>/dev/null) \
               $(LIBS_TLS) $(LIBS_COMMON)
LIBS_AGENT  := $(shell pkg-config --libs libvirt 2>/dev/null) $(LIBS_COMMON)
LIBS_CTL    := $(shell pkg-config --libs jansson 2>/dev/null) $(LIBS_TLS) \
               $(LIBS_COMMON)
# herd-agent-setup: the same (jansson reads the fetched engine key).
LIBS_SETUP  := $(LIBS_CTL)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

PREFIX ?= /usr/local
DESTDIR ?=

# ---- generated wire code -------------------------------------------------
PROTOS := $(wildcard proto/*.proto)
GEN_C := $(patsubst proto/%.proto,$(B)/gen/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(B)/gen
	protoc-c --proto_path=proto --c_out=$(B)/gen $<

# ---- objects -------------------------------------------------------------
COMMON_SRC := $(wildcard common/cmn_*.c)
ENGINE_SRC := $(wildcard engine/eng_*.c)
AGENT_SRC  := $(wildcard agent/agt_*.c)
CTL_SRC    := $(wildcard ctl/ctl_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

COMMON_OBJ := $(call obj,$(COMMON_SRC)) $(patsubst %.c,%.o,$(subst $(B)/gen,$(B)/obj/gen,$(GEN_C)))
ENGINE_OBJ := $(call obj,$(ENGINE_SRC))
AGENT_OBJ  := $(call obj,$(AGENT_SRC))
CTL_OBJ    := $(call obj,$(CTL_SRC))
# Everything but the file holding main(), for unit tests and fuzz targets.
ENGINE_LIBOBJ := $(filter-out $(B)/obj/engine/eng_main.o,$(ENGINE_OBJ))
AGENT_LIBOBJ  := $(filter-out $(B)/obj/agent/agt_main.o,$(AGENT_OBJ))
CTL_LIBOBJ    := $(filter-out $(B)/obj/ctl/ctl_main.o,$(CTL_OBJ))

$(B)/obj/gen/%.pb-c.o: $(B)/gen/%.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(CFLAGS) $(HARDEN) -MMD -MP -I$(B)/gen $(PKG_CFLAGS) -c $< -o $@

$(B)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libherdcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

BINS := $(B)/herd-engine $(B)/herd-agent $(B)/herdctl $(B)/herd-agent-setup

$(B)/herd-engine: $(ENGINE_OBJ) $(B)/libherdcommon.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ENGINE)

$(B)/herd-agent: $(AGENT_OBJ) $(B)/libherdcommon.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_AGENT)

$(B)/herdctl: $(CTL_OBJ) $(B)/libherdcommon.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_CTL)

# Host deploy tool: not part of the agent daemon (agent/setup_main.c is not
# an agt_*.c file); needs only the agent's config loader (and cmn_https
# with jansson for --fetch-key).
SETUP_LIBOBJ := $(B)/obj/agent/setup_key.o $(B)/obj/agent/agt_conf.o
$(B)/herd-agent-setup: $(B)/obj/agent/setup_main.o $(SETUP_LIBOBJ) $(B)/libherdcommon.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_SETUP)

# ---- unit tests: tests/unit/test_<cmn|eng|agt|ctl>_*.c -------------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

$(B)/tests/test_cmn_%: $(B)/obj/tests/unit/test_cmn_%.o $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(LIBS_TLS) $(LIBS_COMMON)
$(B)/tests/test_eng_%: $(B)/obj/tests/unit/test_eng_%.o $(ENGINE_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(LIBS_ENGINE)
$(B)/tests/test_agt_%: $(B)/obj/tests/unit/test_agt_%.o $(AGENT_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(LIBS_AGENT)
$(B)/tests/test_ctl_%: $(B)/obj/tests/unit/test_ctl_%.o $(CTL_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(LIBS_CTL)

# ---- fuzz targets: tests/fuzz/fuzz_<cmn|eng|agt|ctl|setup>_*.c ------------
# With the ordinary compiler each target is linked to replay_main.c, which
# feeds it every file of tests/fuzz/corpus/<target>/ (run by `make check`).
# `make fuzz` builds them with clang's libFuzzer instead.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
REPLAY_BINS := $(patsubst %,$(B)/fuzz/%,$(FUZZ_NAMES))
REPLAY_OBJ := $(B)/obj/tests/fuzz/replay_main.o

$(B)/fuzz/fuzz_cmn_%: $(B)/obj/tests/fuzz/fuzz_cmn_%.o $(REPLAY_OBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_TLS) $(LIBS_COMMON)
$(B)/fuzz/fuzz_eng_%: $(B)/obj/tests/fuzz/fuzz_eng_%.o $(REPLAY_OBJ) $(ENGINE_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ENGINE)
$(B)/fuzz/fuzz_agt_%: $(B)/obj/tests/fuzz/fuzz_agt_%.o $(REPLAY_OBJ) $(AGENT_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_AGENT)
$(B)/fuzz/fuzz_ctl_%: $(B)/obj/tests/fuzz/fuzz_ctl_%.o $(REPLAY_OBJ) $(CTL_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_CTL)
$(B)/fuzz/fuzz_setup_%: $(B)/obj/tests/fuzz/fuzz_setup_%.o $(REPLAY_OBJ) $(SETUP_LIBOBJ) $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_SETUP)

# ---- tools used by tests and benchmarks: tests/tools/*.c, bench/*.c -------
TOOL_SRC := $(wildcard tests/tools/*.c) $(wildcard bench/*.c)
TOOL_BINS := $(patsubst %.c,$(B)/%,$(TOOL_SRC))
$(B)/tests/tools/%: $(B)/obj/tests/tools/%.o $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_AGENT) $(LIBS_ENGINE)
$(B)/bench/%: $(B)/obj/bench/%.o $(B)/libherdcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_AGENT) $(LIBS_ENGINE)
# libgovirt, an existing oVirt client, for tests/integration/test_api_govirt.sh
$(B)/obj/tests/tools/govirt_client.o: ALL_CFLAGS += $(shell pkg-config --cflags govirt-1.0 2>/dev/null)
$(B)/tests/tools/govirt_client: $(B)/obj/tests/tools/govirt_client.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs govirt-1.0 2>/dev/null)

# ---- top-level targets ----------------------------------------------------
.PHONY: all deps check check-unit check-fuzz check-integration demo \
        demo-stop asan valgrind fuzz install clean bench
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BINS) $(UNIT_BINS) $(REPLAY_BINS) $(TOOL_BINS)

deps:
	@scripts/deps.sh

# check: the whole suite; scripts/run-tests.sh prints the closing
# "N passed, N failed" line and fails if anything failed.
check: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) scripts/run-tests.sh all

check-unit: all
	@B=$(B) scripts/run-tests.sh unit
check-fuzz: all
	@B=$(B) scripts/run-tests.sh fuzz
check-integration: all
	@B=$(B) scripts/run-tests.sh integration

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) scripts/demo.sh start

demo-stop:
	@B=$(B) scripts/demo.sh stop

asan: deps
	@$(MAKE) --no-print-directory SANITIZER=address all
	@B=build-address scripts/run-tests.sh unit integration

valgrind: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) HERD_VALGRIND=1 scripts/run-tests.sh unit integration

FUZZ_SECONDS ?= 60
FB := build-fuzz
fuzz: deps
	@B=$(FB) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_NAMES)

# Each script prints its figures next to the raw baseline of the same run.
bench: all
	@B=$(B) bench/run.sh
	@B=$(B) bench/rest_list.sh
	@B=$(B) bench/migrate.sh

# ---- multi-host test bed (tests/testbed/README.md) -----------------------
.PHONY: testbed-up testbed-down testbed-status testbed-herd check-testbed
HOSTS ?= 3
testbed-up:
	@B=$(B) tests/testbed/testbed.sh up $(HOSTS)
testbed-down:
	@B=$(B) tests/testbed/testbed.sh down
testbed-status:
	@B=$(B) tests/testbed/testbed.sh status
testbed-herd: $(B)/herd-engine $(B)/herd-agent $(B)/herd-agent-setup
	@B=$(B) tests/testbed/testbed.sh start-engine
	@B=$(B) tests/testbed/testbed.sh start-agents
check-testbed:
	@B=$(B) tests/testbed/test_testbed.sh

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)/etc/herd $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(B)/herd-engine $(B)/herd-agent $(B)/herd-agent-setup \
	    $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(B)/herdctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 conf/engine.yaml conf/agent.yaml $(DESTDIR)/etc/herd/
	install -d -m 0700 $(DESTDIR)/etc/herd/keys
	install -m 0644 packaging/*.service $(DESTDIR)$(PREFIX)/lib/systemd/system/

clean:
	rm -rf build build-address build-undefined build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
