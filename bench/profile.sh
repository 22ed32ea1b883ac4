#!/usr/bin/env bash
# bench/profile.sh — `make bench-profile`: where the daemon's CPU goes in
# benchmark 2 (PROFILE_PROMOTIONS, default 300, of the promotions of
# bench/many.sh, max_parallel 16).  Uses `perf record --call-graph dwarf`
# attached to the daemon; where perf cannot record (no perf_event access),
# valgrind --tool=callgrind on 50 promotions instead.  Prints samples by
# object, by system call, the hottest functions (all, then user space only)
# and the daemon's own functions inclusive; $BUILD/bench/profile.txt keeps
# it, with the raw data (perf.data or callgrind.out).
set -u
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
cd "$(dirname "$0")/.."
OUT="$BUILD/bench"
mkdir -p "$OUT"
export BUILD
N=${PROFILE_PROMOTIONS:-300}

if perf record -o /dev/null -F 99 true > /dev/null 2>&1; then
        rm -f "$OUT/perf.data"
        MANY_PROMOTIONS=$N \
        BENCH_ATTACH='perf record -q -F 997 --call-graph dwarf,16384 -p "$D_PID" -o "'"$OUT"'/perf.data" 2>/dev/null & PERF_PID=$!' \
        BENCH_DETACH='kill -INT $PERF_PID 2>/dev/null; wait $PERF_PID' \
                bash bench/many.sh daemon || exit 1
        rep() { perf report -i "$OUT/perf.data" --stdio -g none "$@" 2>/dev/null | grep -E '^ +[0-9]'; }
        {
                echo "== perf: $N promotions. Samples by object (self):"
                rep --no-children --sort dso | head -8
                echo "== by system call (inclusive):"
                rep --children --sort sym | grep -E '\] (__x64_sys_|__do_sys_)' | head -12
                echo "== hottest functions (self):"
                rep --no-children --sort dso,sym | head -15
                echo "== hottest user-space functions (self):"
                rep --no-children --sort dso,sym | grep -v '\[k\]' | head -15
                echo "== the daemon's functions (inclusive):"
                rep --children --sort dso,sym --percent-limit 1 | grep ' dev2prodd ' | head -25
        } | tee "$OUT/profile.txt"
else
        command -v valgrind > /dev/null || { echo "neither perf nor valgrind works here" >&2; exit 1; }
        N=${PROFILE_PROMOTIONS:-50}
        rm -f "$OUT"/callgrind.out*
        MANY_PROMOTIONS=$N \
        BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.out" \
                bash bench/many.sh daemon || exit 1
        echo "== callgrind: $N promotions; top functions by own and inclusive cost"
        { callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | head -40
          callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | head -50; } | tee "$OUT/profile.txt"
fi
