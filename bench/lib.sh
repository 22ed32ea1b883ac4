# bench/lib.sh — helpers shared by the benchmark scripts (sourced).
#
# Every benchmark runs the real build/dev2prodd against the real mock server
# (build/mock-dev2prod) on 127.0.0.1, in a private folder under
# ${BENCH_TMP:-/var/tmp} (on disk, not tmpfs: fsync must cost what it costs)
# that is removed on exit.  Results are printed as "RESULT key value" lines,
# which bench/run.sh collects; everything else is commentary.
set -u
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D2P="${BENCH_DAEMON:-$BUILD/dev2prodd}"     # BENCH_DAEMON: another build, as a yardstick (run.sh)
MOCK="$BUILD/mock-dev2prod"
STAMP="$BUILD/bench/notify-stamp"
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/d2p-bench.XXXXXX")
MOCK_PID= D_PID= NS_PID=

bench_cleanup() {
        [ -n "$D_PID" ] && kill -KILL "$D_PID" 2>/dev/null
        [ -n "$NS_PID" ] && kill "$NS_PID" 2>/dev/null
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
        if [ -n "${BENCH_KEEP:-}" ]; then echo "(kept $W)" >&2; else rm -rf "$W"; fi
}
trap bench_cleanup EXIT

for f in "$D2P" "$MOCK"; do
        [ -x "$f" ] || { echo "no $f: run make bench" >&2; exit 1; }
done

result() { echo "RESULT $1 $2"; }
say() { echo "# $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# median of the numbers given as arguments (the lower middle of an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# mock_start ARGS...: tenants are the caller's (--tenant ...); sets MOCK_URL
mock_start() {
        rm -f "$W/port"
        "$MOCK" --record "$W/record" --port 0 --port-file "$W/port" "$@" > "$W/mock.out" 2>&1 &
        MOCK_PID=$!
        for _ in $(seq 200); do [ -s "$W/port" ] && break; sleep 0.05; done
        [ -s "$W/port" ] || { cat "$W/mock.out" >&2; die "the mock did not start"; }
        MOCK_URL="http://127.0.0.1:$(cat "$W/port")"
}
mock_stop() {
        [ -n "$MOCK_PID" ] || return 0
        kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=
        rm -f "$W/record"
}

# key_file NAME SECRET: a secret file the daemon accepts (0600, ours)
key_file() { ( umask 077; printf '%s' "$2" > "$W/$1.key" ); echo "$W/$1.key"; }

# proc_cpu_usec PID: utime + stime of a live process, in microseconds
proc_cpu_usec() {
        local hz; hz=$(getconf CLK_TCK)
        awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000000 / hz }' "/proc/$1/stat"
}
# proc_status PID FIELD: a /proc/PID/status value in kB (VmHWM, VmRSS) or count (Threads)
proc_status() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# a job file's values (the store writes one key per line, pretty-printed):
# job_step_usec FILE STEP started|finished
job_step_usec() {
        awk -v step="\"$2\": {" -v key="\"$3_usec\":" '
                index($0, step) { inside = 1; next }
                inside && $1 == key { gsub(/,/, "", $2); print $2; exit }
                inside && /}/ { inside = 0 }' "$1"
}
job_top() { sed -n "s/^    \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

# wait_log FILE PATTERN COUNT SECONDS: until PATTERN appears COUNT times
wait_log() {
        local end=$((SECONDS + $4)) n
        while :; do
                n=$(grep -c -- "$2" "$1" 2>/dev/null || true)
                [ "${n:-0}" -ge "$3" ] && return 0
                [ $SECONDS -ge $end ] && return 1
                sleep 0.2
        done
}

# daemon_config FILE STATE_DIR MAX_PARALLEL POLL: the head of a configuration
# (tenants and promotions are appended by the caller)
daemon_config() {
        cat > "$1" <<YAML
state_directory: $2
control_socket: $W/ctl.sock
max_parallel: $3
defaults:
  poll_interval: $4
  retry_delay: 100ms
  retries: 4
  step_timeout: 10m
YAML
}

# tenants_yaml N: the "tenants:" block of N tenants t0.. on the mock, each
# with its key file $W/tI.key
tenants_yaml() {
        echo "tenants:"
        for ((t = 0; t < $1; t++)); do
                printf '  t%d:\n    url: %s\n    tenant_id: "%d"\n    auth: { type: api_key, key_file: %s }\n' \
                        "$t" "$MOCK_URL" $((1000 + t)) "$W/t$t.key"
        done
}

# start_stamped CONFIG LOG: starts the daemon (D_PID) on the notification
# socket $W/notify.sock, its exec time stamped in $W/t0; ready_ms then
# waits for READY=1 and prints the milliseconds from exec to it
start_stamped() {
        : > "$W/notify.log"
        sync
        (
                export NOTIFY_SOCKET="$W/notify.sock"
                t=$EPOCHREALTIME; echo "${t/./}" > "$W/t0"
                exec "$D2P" --config "$1" 2>> "$2"
        ) &
        D_PID=$!
}
ready_ms() {
        wait_log "$W/notify.log" ' READY=1' 1 300 || die "no READY=1 within 300 s ($1)"
        awk -v a="$(cat "$W/t0")" '/ READY=1/ { printf "%.1f\n", ($1 - a) / 1000; exit }' "$W/notify.log"
}

# fake_history TEMPLATE COUNT PROMOTIONS PREFIX DIR: COUNT copies of a
# finished job file in DIR, as a long history leaves them, named
# PREFIX%05d-<date>T030000Z over the PROMOTIONS promotions
fake_history() {
        local id; id=$(basename "$1" .json)
        awk -v h="$2" -v n="$3" -v pre="$4" -v id="$id" -v dir="$5" '
                { t[NR] = $0 }
                END { for (k = 1; k <= h; k++) {
                        nid = sprintf("%s%05d-%08dT030000Z", pre, (k - 1) % n, 20200101 + k)
                        f = dir "/" nid ".json"
                        for (i = 1; i <= NR; i++) { l = t[i]; gsub(id, nid, l); print l > f }
                        close(f) } }' "$1"
}
