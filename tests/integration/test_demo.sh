#!/usr/bin/env bash
# `make demo` (the README's first command) keeps working: the demo script
# runs the daemon on config/demo.yaml against the mock and a promotion
# succeeds.
set -u
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/../.."
if (exec 3<>/dev/tcp/127.0.0.1/18088) 2>/dev/null; then
        echo "SKIP: port 18088 is in use"; exit 77
fi
out=$(timeout 120 bash tests/demo.sh "$BUILD" 2>&1); rc=$?
echo "$out" | tail -30
fails=0
chk() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fails=$((fails + 1)); fi; }
chk "demo exits 0" '[ $rc = 0 ]'
chk "the promotion succeeded" 'grep -q "^succeeded: imported package 54321" <<< "$out"'
chk "the job is shown with its statistics" 'grep -q "totals:       added" <<< "$out"'
chk "the server saw one import" '[ "$(grep -c "^import tenant=987654321" <<< "$out")" = 1 ]'
chk "the demo stopped the daemon" 'grep -q "^demo finished" <<< "$out"'
[ $fails = 0 ]
