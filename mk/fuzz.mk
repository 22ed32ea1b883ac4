# mk/fuzz.mk — libFuzzer targets of the decoders (fuzz/*.c), built with
# clang into $(BUILD)/fuzz/.
#
#   make fuzz-build                 builds the four targets
#   make fuzz [FUZZ_SECONDS=60]     runs each target that long on its corpus
#   make fuzz FUZZ_TARGETS=fuzz_cron FUZZ_SECONDS=600 FUZZ_ARGS=-jobs=2
#   make fuzz-merge                 folds what `make fuzz` found into fuzz/corpus/
#
# The library sources are compiled again with the fuzz flags (not the -Werror
# gcc objects of the normal build).  `make fuzz` writes new inputs to a
# scratch corpus, $(BUILD)/fuzz/corpus/<target>/, and only reads the seeds in
# fuzz/corpus/<target>/ (and, for the JSON targets, the 318 files of
# $(FUZZ_SHARED)/json-test-suite/test_parsing when it exists), so the
# repository's corpus grows only through `make fuzz-merge`.  Crashes land in
# $(BUILD)/fuzz/artifacts/ and fail the run.

FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_SHARED  ?= ../shared
FUZZ_TARGETS ?= fuzz_config fuzz_answers fuzz_jobfile fuzz_cron
FUZZ_DEBS    := clang-14 libclang-rt-14-dev
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wno-unused-parameter $(FUZZ_SAN) -DDEV2PROD_VERSION='"$(VERSION)"'
FUZZ_LIB_OBJS = $(patsubst daemon/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
FUZZ_BINS     = $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
FUZZ_JSON_SUITE = $(wildcard $(FUZZ_SHARED)/json-test-suite/test_parsing)
# the per-input time limit: a loop (e.g. in cron_next) is a finding
FUZZ_RUN_FLAGS := -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-merge fuzz-clean

$(BUILD)/.deps-fuzz: | $(BUILD)/.deps-build
	$(call need_debs,$(FUZZ_DEBS))
	@touch $@

$(FUZZ_DIR)/obj/%.o: daemon/%.c $(wildcard daemon/*.h) | $(BUILD)/.deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PC_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libdev2prod-fuzz.a: $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_DIR)/libdev2prod-fuzz.a $(wildcard daemon/*.h) | $(BUILD)/.deps-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Idaemon $(PC_CFLAGS) -o $@ $< \
		$(FUZZ_DIR)/libdev2prod-fuzz.a $(PC_LIBS) -lm

fuzz-build: $(FUZZ_BINS)

# Seeds: fuzz/corpus/<target>, plus the JSON suite for the two JSON targets.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts; \
	  echo "== $$t: $(FUZZ_SECONDS)s (log $(FUZZ_DIR)/$$t.log)"; \
	  case $$t in \
	    fuzz_answers|fuzz_jobfile) seeds="fuzz/corpus/$$t $(FUZZ_JSON_SUITE)";; \
	    *) seeds="fuzz/corpus/$$t";; \
	  esac; \
	  dict=; [ -f fuzz/dict/$$t.dict ] && dict=-dict=fuzz/dict/$$t.dict; \
	  if ! $(FUZZ_DIR)/$$t $(FUZZ_RUN_FLAGS) -max_total_time=$(FUZZ_SECONDS) $$dict \
	       -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- $(FUZZ_ARGS) \
	       $(FUZZ_DIR)/corpus/$$t $$seeds > $(FUZZ_DIR)/$$t.log 2>&1; then \
	    tail -n 60 $(FUZZ_DIR)/$$t.log; echo "$$t: FAILED (artifacts in $(FUZZ_DIR)/artifacts/)"; exit 1; \
	  fi; \
	  grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' $(FUZZ_DIR)/$$t.log | tail -n 2 | sed "s/^/   $$t: /"; \
	done

# Minimizes the scratch corpus into the repository's seeds (only inputs
# that add coverage are copied).
fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  [ -d $(FUZZ_DIR)/corpus/$$t ] || continue; \
	  $(FUZZ_DIR)/$$t -merge=1 $(FUZZ_RUN_FLAGS) fuzz/corpus/$$t $(FUZZ_DIR)/corpus/$$t 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR)
