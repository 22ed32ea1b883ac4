#!/usr/bin/env bash
# The libFuzzer targets (fuzz/, mk/fuzz.mk) still build and survive a few
# seconds each on their seed corpus (fuzz/corpus/<target>, plus the shared
# JSON test suite for the JSON targets): no crash, no sanitizer report, no
# leak, no timeout.  The long runs are `make fuzz`; this only keeps the
# targets and their seeds from rotting.  Skipped when clang cannot be had.
# Usage: tests/integration/test_fuzz_smoke.sh BUILD_DIR
set -u
BUILD=${1:-build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-5}
RUNS=${FUZZ_SMOKE_RUNS:-500000}
TARGETS="fuzz_config fuzz_answers fuzz_jobfile fuzz_cron"

have_debs() {
        for p in clang-14 libclang-rt-14-dev; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || return 1
        done
}
if ! have_debs && [ "$(id -u)" != 0 ]; then
        echo "SKIP: clang-14 and libclang-rt-14-dev are not installed (sudo apt-get install clang-14 libclang-rt-14-dev)"
        exit 77
fi
# make installs them when missing (as root); a failed install is a skip, a
# failed build with clang present is a failure
if ! make -s BUILD="$BUILD" "$BUILD/.deps-fuzz" > /dev/null 2>&1 || ! have_debs; then
        echo "SKIP: clang-14 / libclang-rt-14-dev could not be installed"
        exit 77
fi
if ! make -s BUILD="$BUILD" fuzz-build; then
        echo "not ok - make fuzz-build"
        exit 1
fi

T=$(mktemp -d /tmp/d2p-fuzz-smoke.XXXXXX)
trap 'rm -rf "$T"' EXIT
SUITE=../shared/json-test-suite/test_parsing
failures=0

# All four at once (each bounded by wall time), then the verdicts.
pids=()
for t in $TARGETS; do
        mkdir -p "$T/$t.corpus"
        seeds="fuzz/corpus/$t"
        case $t in fuzz_answers|fuzz_jobfile) [ -d "$SUITE" ] && seeds="$seeds $SUITE" ;; esac
        dict=; [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
        # shellcheck disable=SC2086
        "$BUILD/fuzz/$t" -max_total_time="$SECONDS_EACH" -runs="$RUNS" -timeout=10 -rss_limit_mb=2048 \
                -max_len=65536 -print_final_stats=1 $dict -artifact_prefix="$T/$t-" \
                "$T/$t.corpus" $seeds > "$T/$t.log" 2>&1 &
        pids+=($!)
done
i=0
for t in $TARGETS; do
        wait "${pids[$i]}"; rc=$?; i=$((i + 1))
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$t.log")
        if [ "$rc" = 0 ] && ! grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error:)' "$T/$t.log"; then
                echo "ok - $t: ${runs:-?} runs clean"
        else
                echo "not ok - $t: exit $rc"
                grep -E -A40 'ERROR|runtime error|check failed|round trip|deadly signal|timeout' "$T/$t.log" | head -60
                ls "$T" | grep -E "^$t-(crash|leak|timeout|oom)" | while read -r a; do
                        echo "  artifact $a:"; head -c 400 "$T/$a" | od -c | head -8
                done
                failures=$((failures + 1))
        fi
done
[ "$failures" = 0 ] && { echo "all checks passed"; exit 0; }
echo "$failures target(s) failed"
exit 1
