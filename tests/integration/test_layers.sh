#!/usr/bin/env bash
# test_layers — the module structure stays a hierarchy (issue 10):
#  - no include cycle among the modules of daemon/ (a .c and its .h are
#    one module; each `#include "x.h"` is an edge; tsort finds loops);
#  - no two objects that call each other (nm: what one uses, the other
#    defines, both ways);
#  - dev2prodctl holds neither the daemon's event loop, its HTTP layer, its
#    state machine nor the control server: it reads files and talks to the
#    socket.
# Usage: tests/integration/test_layers.sh BUILD_DIR
set -u
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
cd "$(dirname "$0")/../.."
FAILURES=0
ok()  { echo "ok - $*"; }
bad() { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); }
command -v tsort > /dev/null && command -v nm > /dev/null || { echo "SKIP: tsort or nm missing"; exit 77; }

# ---- includes ------------------------------------------------------------
edges=$(for f in daemon/*.[ch]; do
        m=$(basename "$f"); m=${m%.?}
        sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" | while read -r h; do
                [ "$h" = "$m" ] || echo "$m $h"
        done
done | sort -u)
if out=$(tsort <<< "$edges" 2>&1 > /dev/null) && [ -z "$out" ]; then
        ok "no include cycle among the $(ls daemon/*.c | wc -l) modules of daemon/"
else
        bad "include cycle among the modules of daemon/: $(echo "$out" | tr '\n' ' ')"
fi

# ---- calls between objects ---------------------------------------------
OBJ="$BUILD/obj"
[ -d "$OBJ" ] || { echo "SKIP: no $OBJ (run make)"; exit 77; }
declare -A def
for o in "$OBJ"/*.o; do
        b=$(basename "$o" .o)
        [ "$b" = main ] || [ "$b" = ctl ] && continue
        for s in $(nm --defined-only -g "$o" | awk '{print $3}'); do def[$s]=$b; done
done
pairs=$(for o in "$OBJ"/*.o; do
        a=$(basename "$o" .o)
        for s in $(nm -u "$o" | awk '{print $2}'); do
                b=${def[$s]:-}
                [ -n "$b" ] && [ "$b" != "$a" ] && echo "$a $b"
        done
done | sort -u)
twoway=$(awk 'NR==FNR { p[$1" "$2] = 1; next } ($2" "$1) in p && $1 < $2 { print $1" <-> "$2 }' \
        <(echo "$pairs") <(echo "$pairs"))
if [ -z "$twoway" ]; then
        ok "no two objects call each other ($(echo "$pairs" | grep -c .) one-way edges)"
else
        bad "objects that call each other: $(echo "$twoway" | tr '\n' ' ')"
fi
if out=$(tsort <<< "$pairs" 2>&1 > /dev/null) && [ -z "$out" ]; then
        ok "the call graph between objects has no cycle"
else
        bad "call cycle between objects: $(echo "$out" | tr '\n' ' ')"
fi

# ---- what dev2prodctl holds -------------------------------------------
CTL="$BUILD/dev2prodctl"
[ -x "$CTL" ] || { echo "SKIP: no $CTL"; exit 77; }
held=$(nm "$CTL" | awk '$2 ~ /^[TtDdBb]$/ { print $3 }' |
        grep -E '^(daemon_run|job_run|job_suspend|http_start|http_new|engine_init|control_open|scheduler_run|sd_event_loop|curl_multi_perform)$')
if [ -z "$held" ]; then
        ok "dev2prodctl holds no event loop, HTTP layer, state machine or control server"
else
        bad "dev2prodctl holds: $(echo "$held" | tr '\n' ' ')"
fi
if nm -u "$CTL" | grep -qE 'sd_event_|curl_'; then
        bad "dev2prodctl uses sd-event or libcurl: $(nm -u "$CTL" | grep -E 'sd_event_|curl_' | awk '{print $2}' | head -5 | tr '\n' ' ')"
else
        ok "dev2prodctl uses neither sd-event nor libcurl"
fi

[ "$FAILURES" -eq 0 ] && { echo "all checks passed"; exit 0; }
echo "$FAILURES check(s) failed"; exit 1
