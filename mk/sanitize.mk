# mk/sanitize.mk — the whole test suite on an AddressSanitizer +
# UndefinedBehaviorSanitizer build.
#
#   make check-asan       builds daemon, ctl, mock, tools and unit tests with
#                         $(SAN_FLAGS) into $(ASAN_BUILD)/ (a build folder of
#                         its own), then runs `tests/run.sh $(ASAN_BUILD)`
#   make check-asan ASAN_TESTS=crash   only the tests whose name has "crash"
#   make asan-build       only builds
#
# The sanitizer flags go to the sub-make as CFLAGS, which replace the
# Makefile's `-O2 -g` default; the project's own flags (D2P_CFLAGS) are
# added to whatever CFLAGS say.
# A sanitizer report aborts the program (abort_on_error, halt_on_error), so
# the test that ran it fails and shows the report in its log.
#
# LeakSanitizer stops the process with a ptrace tracer at exit: it makes the
# process dumpable again for that itself, so the daemon's PR_SET_DUMPABLE 0
# is no obstacle, but it cannot work in a process that is already traced:
# under strace (the crash tests inject their kills with it) it dies with
# "LeakSanitizer has encountered a fatal error ... does not work under
# ptrace".  So the suite runs with $(ASAN_BUILD)/san-bin first in PATH, where
# an `strace` wrapper turns the leak check off for what strace starts (those
# runs are killed at random points anyway); every other run is leak-checked.
# Where ptrace is not allowed at all, run `make check-asan ASAN_LEAKS=0`.
#
# The same holds where the environment cannot reach: test_systemd starts the
# daemon as a systemd service, whose sandbox (SystemCallFilter=@system-service,
# no CAP_SYS_PTRACE) forbids ptrace, so LSan failed at every stop and the
# unit ended with Result=exit-code.  So the ASan programs are linked with
# $(ASAN_BUILD)/asan-defaults.o, whose __asan_default_options() turns the
# leak check off by default; ASAN_OPTIONS (as check-asan sets it) overrides
# that, so every run started by the tests themselves is still leak-checked.

ASAN_BUILD ?= build-asan
ASAN_LEAKS ?= 1
# e.g. ASAN_EXTRA=:fast_unwind_on_malloc=0 for whole leak stacks through libc
# (glibc has no frame pointers: with the fast unwinder a leak allocated by
# vasprintf ends there); slower, so not the default
ASAN_EXTRA ?=
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_CFLAGS := -O1 -g $(SAN_FLAGS)
SAN_ENV    := ASAN_OPTIONS=detect_leaks=$(ASAN_LEAKS):abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1$(ASAN_EXTRA) \
              UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
              LSAN_OPTIONS=print_suppressions=0 \
              PATH="$(abspath $(ASAN_BUILD))/san-bin:$$PATH"
SAN_STRACE  = $(or $(shell command -v strace 2>/dev/null),/usr/bin/strace)

.PHONY: check-asan asan-build san-prereqs

# What `make check` builds before it runs the tests (evaluated in the
# sub-make, with BUILD=$(ASAN_BUILD)).
san-prereqs: $(BUILD)/.deps-test all $(UNIT_BINS) $(BUILD)/mock-dev2prod $(TOOL_BINS)

# PC_LIBS stays lazy ($$(shell ...)): on a fresh machine pkg-config only
# exists once the sub-make has installed the build packages.
asan-build: $(ASAN_BUILD)/asan-defaults.o
	CFLAGS='$(SAN_CFLAGS)' $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
		PC_LIBS='$$(shell pkg-config --libs $$(LIBS_PC) 2>/dev/null) $(abspath $(ASAN_BUILD))/asan-defaults.o' \
		san-prereqs

$(ASAN_BUILD)/asan-defaults.o:
	@mkdir -p $(dir $@)
	@printf '%s\n' '/* made by mk/sanitize.mk: defaults when ASAN_OPTIONS does not say */' \
	  'const char *__asan_default_options(void);' \
	  'const char *__asan_default_options(void) { return "detect_leaks=0"; }' > $(ASAN_BUILD)/asan-defaults.c
	$(CC) -c -o $@ $(ASAN_BUILD)/asan-defaults.c

# the strace wrapper (see above), generated in the build folder
$(ASAN_BUILD)/san-bin/strace:
	@mkdir -p $(dir $@)
	@printf '%s\n' '#!/bin/sh' \
	  '# made by mk/sanitize.mk: LeakSanitizer cannot run under ptrace' \
	  'ASAN_OPTIONS="$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}detect_leaks=0" exec $(SAN_STRACE) "$$@"' > $@
	@chmod +x $@

check-asan: asan-build $(ASAN_BUILD)/san-bin/strace
	@$(SAN_ENV) bash tests/run.sh $(ASAN_BUILD) $(ASAN_TESTS)
