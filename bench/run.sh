#!/usr/bin/env bash
# bench/run.sh — `make bench`: runs the benchmarks of BENCHMARKS.md against
# the real daemon and the C mock server, then prints one table of medians,
# ratios (each measured against its yardstick in the same run) and targets.
#
# Environment (all optional):
#   BENCH_RUNS=N     runs per benchmark (default 3; 5 with BENCH_FULL=1)
#   BENCH_FULL=1     5 runs, a 60 s idle window (20 s otherwise), 3 runs of
#                    the 1,000 promotions (1 otherwise) and 200 reference
#                    promotions (32 otherwise)
#   BENCH_ONLY="transfer many idle saves startup"   a subset
#   BENCH_TMP=DIR    where the work folders go (default /var/tmp: on disk)
#   BENCH_BEFORE=REV the daemon before group commit (default deaa944), built
#                    from this clone's git history into $BUILD/bench/, runs
#                    the 1,000 promotions alternating with this one, as
#                    their yardstick; BENCH_BEFORE= (empty) leaves it out
# Writes $BUILD/bench/results.txt (every RESULT line of every run) and
# $BUILD/bench/table.md (the table).  Never fails on a number; fails when a
# benchmark could not do its work.
set -u
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
cd "$(dirname "$0")/.."
FULL=${BENCH_FULL:-}
[ "$FULL" = 0 ] && FULL=
RUNS=${BENCH_RUNS:-}
[ -n "$RUNS" ] || RUNS=$([ -n "$FULL" ] && echo 5 || echo 3)
WINDOW=$([ -n "$FULL" ] && echo 60 || echo 20)
MANY_RUNS=${MANY_RUNS:-$([ -n "$FULL" ] && echo 3 || echo 1)}
export MANY_REF_PROMOTIONS=${MANY_REF_PROMOTIONS:-$([ -n "$FULL" ] && echo 200 || echo 32)}
ONLY=${BENCH_ONLY:-}
[ -n "$ONLY" ] || ONLY="transfer many idle saves startup"
OUT="$BUILD/bench"
mkdir -p "$OUT"
RES="$OUT/results.txt"
: > "$RES"
export BUILD

want() { [[ " $ONLY " == *" $1 "* ]]; }
# step NAME COMMAND...: runs a benchmark script, keeps its RESULT lines
step() {
        local name=$1 t0=$SECONDS rc; shift
        echo "== $name (load average $(cut -d' ' -f1-3 /proc/loadavg))"
        "$@" > "$OUT/$name.out" 2> >(sed 's/^/   /' >&2)
        rc=$?
        grep '^RESULT ' "$OUT/$name.out" | sed 's/^RESULT //' >> "$RES"
        echo "   ($((SECONDS - t0)) s)"
        [ "$rc" = 0 ] || { echo "bench: $name failed (exit $rc)" >&2; FAILED=1; }
}
FAILED=
START=$SECONDS
{
        echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
             "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)," \
             "$(curl --version | head -1 | cut -d' ' -f1-2), libcurl $(curl --version | head -1 | sed 's/.*libcurl\/\([^ ]*\).*/\1/')"
        echo "runs: $RUNS per benchmark (many: $MANY_RUNS x 1,000 promotions; reference: $MANY_REF_PROMOTIONS promotions)," \
             "idle window ${WINDOW}s; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

if want transfer; then
        step transfer-64MiB bash bench/transfer.sh $((64 * 1024 * 1024)) "$RUNS" 64MiB
        step transfer-1GiB bash bench/transfer.sh $((1024 * 1024 * 1024)) "$RUNS" 1GiB
fi
# build_before REV: the daemon of that revision, built from git archive in
# $OUT/before-REV (kept between runs); prints its path, or fails quietly
build_before() {
        local rev=$1 dir="$OUT/before-$1"
        [ -x "$dir/build/dev2prodd" ] && { echo "$dir/build/dev2prodd"; return 0; }
        command -v git > /dev/null && git rev-parse -q --verify "$rev^{commit}" > /dev/null 2>&1 || return 1
        rm -rf "$dir" && mkdir -p "$dir/src" &&
                git archive "$rev" | tar -x -C "$dir/src" &&
                make -s -C "$dir/src" BUILD="$dir/build" "$dir/build/dev2prodd" > "$dir/make.log" 2>&1 &&
                echo "$dir/build/dev2prodd"
}
if want many; then
        BEFORE=${BENCH_BEFORE-deaa944} BEFORE_D2P=
        if [ -n "$BEFORE" ]; then
                BEFORE_D2P=$(build_before "$BEFORE") ||
                        echo "== (no daemon from before group commit: revision $BEFORE cannot be built from this clone; see $OUT/before-$BEFORE/make.log)"
        fi
        for ((i = 1; i <= MANY_RUNS; i++)); do
                if [ -n "$BEFORE_D2P" ]; then
                        step "many-before-$i" env BENCH_DAEMON="$BEFORE_D2P" MANY_KEY=many_before bash bench/many.sh daemon
                        echo "many_before_commit $BEFORE" >> "$RES"
                fi
                step "many-daemon-$i" bash bench/many.sh daemon
        done
        # the same without polls (the mock answers at once): bound by the
        # saves and the CPU, not by poll_interval, so it shows what group
        # commit changes in throughput; $RUNS pairs, before and after
        for ((i = 1; i <= RUNS; i++)); do
                [ -n "$BEFORE_D2P" ] &&
                        step "many-nopoll-before-$i" env BENCH_DAEMON="$BEFORE_D2P" MANY_POLLS=0 MANY_KEY=nopoll_before bash bench/many.sh daemon
                step "many-nopoll-daemon-$i" env MANY_POLLS=0 MANY_KEY=nopoll_daemon bash bench/many.sh daemon
        done
        step many-reference bash bench/many.sh reference
fi
want idle && step idle bash bench/idle.sh "$RUNS" "$WINDOW"
want saves && step saves bash bench/saves.sh "$RUNS"
want startup && step startup bash bench/startup.sh "$RUNS"

echo "== done in $((SECONDS - START)) s"
echo
awk -f bench/table.awk "$RES" "$OUT/machine.txt" | tee "$OUT/table.md"
[ -z "$FAILED" ]
