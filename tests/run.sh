#!/usr/bin/env bash
# Runs every test: the unit test binaries, then the integration scripts.
# Usage: tests/run.sh [BUILD_DIR] [PATTERN]
# Each test is one program; exit 0 = pass, 77 = skipped (with a note),
# anything else = fail.  Output of a failing test is shown; the last line
# is the plain "N passed, N failed, N skipped" summary CI reads.
set -u
BUILD=${1:-build}
PATTERN=${2:-}
BUILD=$(cd "$BUILD" && pwd)
cd "$(dirname "$0")/.."
LOGDIR="$BUILD/test-logs"
rm -rf "$LOGDIR"; mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0 failed=()

run_one() {  # NAME CMD...
        local name=$1; shift
        [ -n "$PATTERN" ] && [[ $name != *$PATTERN* ]] && return
        local log="$LOGDIR/${name//\//_}.log" start=$SECONDS rc
        timeout 600 "$@" > "$log" 2>&1; rc=$?
        local t=$((SECONDS - start))
        case $rc in
        0)  pass=$((pass + 1)); printf 'PASS  %-40s %3ss\n' "$name" "$t" ;;
        77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(grep -m1 -i 'skip' "$log" | cut -c1-100)" ;;
        *)  fail=$((fail + 1)); failed+=("$name")
            printf 'FAIL  %-40s %3ss (exit %s)\n' "$name" "$t" "$rc"
            tail -n 40 "$log" | sed 's/^/      | /' ;;
        esac
}

for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        run_one "unit/$(basename "$t")" env CK_FORK=yes "$t"
done
for t in tests/integration/test_*.sh; do
        [ -f "$t" ] || continue
        run_one "integration/$(basename "$t" .sh)" bash "$t" "$BUILD"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]} (logs in $LOGDIR)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
