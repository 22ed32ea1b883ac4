# dev2prodd — GNU make. `make` builds into build/, `make check` runs every
# test, `make demo` runs the daemon against the bundled mock server.
# Missing Debian packages are installed (as root) or named (otherwise).

PREFIX  ?= /usr/local
DESTDIR ?=
UNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD   := build
CC      ?= cc
# CFLAGS, CPPFLAGS and LDFLAGS are the builder's (a distribution's hardening
# flags arrive there: dpkg-buildflags); the project's own flags come first
# in D2P_CFLAGS, so the builder's can still add to or override them.
CFLAGS   ?= -O2 -g
CPPFLAGS ?=
LDFLAGS  ?=
D2P_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wshadow -Wpointer-arith -Wformat=2 -fno-strict-aliasing \
              -Wmissing-prototypes -Wstrict-prototypes -Wmissing-declarations
# The version is the Debian changelog's upstream part (0.1.0 of 0.1.0-1):
# one place, so `dev2prodd --version`, the User-Agent and the metrics'
# build_info say what the package says.  Objects depend on the changelog.
VERSION := $(shell sed -n '1s/^dev2prodd (\([^)-]*\).*/\1/p' debian/changelog 2>/dev/null)
ifeq ($(VERSION),)
$(error cannot read the version from the first line of debian/changelog)
endif
D2P_CFLAGS += -DDEV2PROD_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(D2P_CFLAGS) $(CPPFLAGS) $(CFLAGS)
# each object records the headers it includes (-MMD): a change to one
# header rebuilds only the objects that use it
DEP_FLAGS  = -MMD -MP
LIBS_PC := libcurl yajl yaml-0.1 libsystemd
TEST_PC := libmicrohttpd check

# Debian packages the build, the tests and the demo need (see README).
BUILD_DEBS := build-essential pkg-config libcurl4-openssl-dev libyajl-dev \
              libyaml-dev libsystemd-dev
TEST_DEBS  := libmicrohttpd-dev check strace mandoc openssl procps curl tzdata valgrind nghttp2-server \
              python3 libfuse3-dev fuse3 prometheus-node-exporter prometheus acl debhelper
# make demo needs only the mock server's library, and the zone of
# config/demo.yaml (tzdata is not in a minimal Debian)
DEMO_DEBS  := libmicrohttpd-dev tzdata
# what the goals on the command line need beyond BUILD_DEBS (mk/deb.mk adds
# its own): asked for by the first stamp, so all in one apt-get line
GOAL_DEBS   = $(if $(filter check,$(MAKECMDGOALS)),$(TEST_DEBS)) $(if $(filter demo,$(MAKECMDGOALS)),$(DEMO_DEBS))

# Installs what is missing, once per build tree (stamp files), in one
# apt-get run: the first stamp of `make check` (or demo, deb) already asks
# for every package that goal needs (GOAL_DEBS), so a user who is not root
# gets one line to run, not one per stamp. apt's own messages are shown when
# the install fails (not only "dpkg returned an error code").
define need_debs
	@missing=""; for p in $(sort $(1)); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; log=$$(mktemp); \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } > "$$log" 2>&1 || \
	      { tail -n 25 "$$log" >&2; rm -f "$$log"; echo "apt-get install failed (its messages above)" >&2; exit 1; }; \
	    rm -f "$$log"; \
	  elif command -v sudo > /dev/null; then \
	    echo "missing Debian packages; run: sudo apt-get install --no-install-recommends$$missing" >&2; exit 1; \
	  else \
	    echo "missing Debian packages; run as root (su -): apt-get install --no-install-recommends$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

.PHONY: all check unit integration demo install clean deps test-deps
all: $(BUILD)/dev2prodd $(BUILD)/dev2prodctl

$(BUILD)/.deps-build:
	$(call need_debs,$(BUILD_DEBS) $(GOAL_DEBS))
	@mkdir -p $(BUILD) && touch $@
$(BUILD)/.deps-test: $(BUILD)/.deps-build
	$(call need_debs,$(TEST_DEBS))
	@touch $@
$(BUILD)/.deps-demo: $(BUILD)/.deps-build
	$(call need_debs,$(DEMO_DEBS))
	@touch $@
deps: $(BUILD)/.deps-build
test-deps: $(BUILD)/.deps-test

PC_CFLAGS = $(shell pkg-config --cflags $(LIBS_PC) 2>/dev/null)
PC_LIBS   = $(shell pkg-config --libs $(LIBS_PC) 2>/dev/null)
T_CFLAGS  = $(shell pkg-config --cflags $(TEST_PC) 2>/dev/null)
T_LIBS    = $(shell pkg-config --libs $(TEST_PC) 2>/dev/null)
M_CFLAGS  = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
M_LIBS    = $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

SRCS     := $(wildcard daemon/*.c)
MAIN_SRCS := daemon/main.c daemon/ctl.c
LIB_SRCS := $(filter-out $(MAIN_SRCS),$(SRCS))
LIB_OBJS := $(patsubst daemon/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))

$(BUILD)/obj/%.o: daemon/%.c debian/changelog | $(BUILD)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_FLAGS) $(PC_CFLAGS) -c -o $@ $<

$(BUILD)/libdev2prod.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/dev2prodd: $(BUILD)/obj/main.o $(BUILD)/libdev2prod.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PC_LIBS) -lm

$(BUILD)/dev2prodctl: $(BUILD)/obj/ctl.o $(BUILD)/libdev2prod.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PC_LIBS) -lm

# ---- tests ---------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdev2prod.a | $(BUILD)/.deps-test
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_FLAGS) -Wno-error=unused-function -Idaemon $(PC_CFLAGS) $(T_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdev2prod.a $(PC_LIBS) $(T_LIBS) -lm

$(BUILD)/mock-dev2prod: $(wildcard tests/mock/*.c tests/mock/*.h) daemon/sha256.c daemon/sha256.h | $(BUILD)/.deps-demo
	$(CC) $(ALL_CFLAGS) -Idaemon $(M_CFLAGS) $(LDFLAGS) -o $@ $(wildcard tests/mock/*.c) daemon/sha256.c $(M_LIBS) -lpthread

TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/%,$(wildcard tests/tools/*.c))
$(BUILD)/%: tests/tools/%.c | $(BUILD)/.deps-build
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d)

check: $(BUILD)/.deps-test all $(UNIT_BINS) $(BUILD)/mock-dev2prod $(TOOL_BINS)
	@bash tests/run.sh $(BUILD)

demo: $(BUILD)/.deps-demo all $(BUILD)/mock-dev2prod
	@bash tests/demo.sh $(BUILD)

# The unit's paths follow PREFIX (the file in systemd/ says /usr/local).
install: all
	install -D -m 755 $(BUILD)/dev2prodd $(DESTDIR)$(PREFIX)/sbin/dev2prodd
	install -D -m 755 $(BUILD)/dev2prodctl $(DESTDIR)$(PREFIX)/bin/dev2prodctl
	for m in man/*.[0-9]; do s=$${m##*.}; install -D -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/$$(basename $$m); done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/lib/systemd/catalog
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' systemd/dev2prodd.service > $(DESTDIR)$(UNITDIR)/dev2prodd.service
	install -m 644 systemd/dev2prodd.catalog $(DESTDIR)$(PREFIX)/lib/systemd/catalog/dev2prodd.catalog
	install -D -m 644 systemd/dev2prodd.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/dev2prodd.conf
	install -D -m 644 config/example.yaml $(DESTDIR)$(PREFIX)/share/doc/dev2prodd/dev2prodd.yaml.example
	install -D -m 644 config/dev2prodd-alerts.yml $(DESTDIR)$(PREFIX)/share/doc/dev2prodd/dev2prodd-alerts.yml

clean:
	rm -rf $(BUILD)

# Further targets (fuzzing, sanitizers, benchmarks, campaigns) live in
# mk/*.mk, one file per concern.
-include $(wildcard mk/*.mk)
