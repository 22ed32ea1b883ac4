# mk/bench.mk — `make bench`: the performance benchmarks of BENCHMARKS.md.
#
#   make bench                 all five benchmarks, BENCH_RUNS (3) runs each,
#                              a table of medians and ratios (under 10 min)
#   make bench BENCH_FULL=1    the same with 5 runs and a 60 s idle window
#   make bench BENCH_ONLY="transfer idle"   some of them (transfer many idle saves startup)
#   make bench-profile         where the CPU goes in benchmark 2 (perf)
#
# Benchmarks report; they never fail on time.  They fail only when a run
# does not do its work (a promotion that did not succeed, no READY=1).

BENCH_DEBS := time strace curl procps coreutils
BENCH_PROFILE_DEBS := linux-perf

$(BUILD)/.deps-bench: $(BUILD)/.deps-test
	$(call need_debs,$(BENCH_DEBS))
	@touch $@

$(BUILD)/.deps-bench-profile: $(BUILD)/.deps-bench
	$(call need_debs,$(BENCH_PROFILE_DEBS))
	@touch $@

$(BUILD)/bench/notify-stamp: bench/notify-stamp.c | $(BUILD)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

BENCH_BINS := $(BUILD)/dev2prodd $(BUILD)/dev2prodctl $(BUILD)/mock-dev2prod $(BUILD)/bench/notify-stamp

.PHONY: bench bench-profile
bench: $(BUILD)/.deps-bench $(BENCH_BINS)
	@BUILD=$(BUILD) BENCH_FULL=$(BENCH_FULL) BENCH_RUNS=$(BENCH_RUNS) BENCH_ONLY="$(BENCH_ONLY)" \
		bash bench/run.sh

bench-profile: $(BUILD)/.deps-bench-profile $(BENCH_BINS)
	@BUILD=$(BUILD) bash bench/profile.sh
