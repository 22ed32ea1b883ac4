# tests/lib.sh — shared helpers of the integration tests (sourced).
# Every test runs the real daemon binary against the real mock server over
# 127.0.0.1 sockets, in a private temp folder that is removed on exit.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/config.sh"     # dev_prod_tenants, nightly_promotion
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
D2P="$BUILD/dev2prodd"
MOCK="$BUILD/mock-dev2prod"
T=$(mktemp -d /tmp/d2p-test.XXXXXX)
RECORD="$T/record"
STATE="$T/state"
CONFIG="$T/dev2prodd.yaml"
MOCK_PID=
FAILURES=0
KEY_DEV=dev-key-$RANDOM$RANDOM
KEY_PROD=prod-key-$RANDOM$RANDOM

cleanup() {
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
        if [ "$FAILURES" -gt 0 ] || [ -n "${KEEP_TMP:-}" ]; then
                echo "(kept $T for inspection)"
        else
                rm -rf "$T"
        fi
}
trap cleanup EXIT

ok()   { echo "ok - $*"; }
bad()  { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
skip() { echo "SKIP: $*"; exit 77; }
finish() { [ "$FAILURES" -eq 0 ] && { echo "all checks passed"; exit 0; }; echo "$FAILURES check(s) failed"; exit 1; }

# mock_start [MOCK ARGS...]: tenants 111 (dev, api key) and 222 (prod, api key)
mock_start() {
        rm -f "$T/port"
        "$MOCK" --record "$RECORD" --port 0 --port-file "$T/port" \
                --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD" "$@" > "$T/mock.out" 2>&1 &
        MOCK_PID=$!
        for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
        [ -s "$T/port" ] || { cat "$T/mock.out"; echo "mock did not start"; exit 1; }
        MOCK_URL="http://127.0.0.1:$(cat "$T/port")"
}
mock_stop() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=; }
# mock_fault SPEC: adds a fault to the running mock
mock_fault() { curl -fsS -X POST --data "$1" "$MOCK_URL/_mock/fault" > /dev/null; }

# write_config [EXTRA DEFAULTS LINES] — one promotion "nightly" dev -> prod
write_config() {
        printf '%s' "$KEY_DEV" > "$T/dev.key"; chmod 600 "$T/dev.key"
        printf '%s\n' "$KEY_PROD" > "$T/prod.key"; chmod 600 "$T/prod.key"
        local extra=${1:-} defaults="" kv
        # test defaults, unless the caller's extra lines set the same key
        for kv in "poll_interval: 100ms" "retry_delay: 100ms" "retries: 4" "step_timeout: 30s"; do
                grep -q "^  ${kv%%:*}:" <<< "$extra" || defaults+="  $kv"$'\n'
        done
        cat > "$CONFIG" <<YAML
state_directory: $STATE
defaults:
${defaults}${extra}
$(dev_prod_tenants "$MOCK_URL" "key_file: $T/dev.key" "key_file: $T/prod.key")
$(nightly_promotion "mode: ${MODE:-import}")
YAML
}

# add_promotion NAME PACKAGE [SCHEDULE]: appends a promotion dev -> prod to $CONFIG
add_promotion() {
        printf '  - name: %s\n    package: "%s"\n    from: dev\n    to: prod\n    schedule: "%s"\n' \
                "$1" "$2" "${3:-@daily}" >> "$CONFIG"
}

# run_once [NAME]: runs the daemon in one-shot mode; stderr to $T/daemon.log
run_once() {
        "$D2P" --config "$CONFIG" --once "${1:-nightly}" 2>> "$T/daemon.log"
}

count() { grep -c "^$1 " "$RECORD" 2>/dev/null || true; }     # count EVENT
field() { grep "^$1 " "$RECORD" | sed -n "${3:-1}p" | tr ' ' '\n' | sed -n "s/^$2=//p"; }  # field EVENT KEY [NTH]
job_file() { ls "$STATE"/jobs/*.json 2>/dev/null | tail -1; }
# job_get KEY: a top-level string or number of the newest job file
job_get() { sed -n "s/^    \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$(job_file)" | head -1; }
log_has() { grep -q -- "$1" "$T/daemon.log"; }

# expect_rc WANT DESCRIPTION COMMAND...
expect_rc() {
        local want=$1 d=$2 rc; shift 2
        "$@"; rc=$?
        if [ "$rc" = "$want" ]; then ok "$d (exit $rc)"; else bad "$d: exit $rc, wanted $want"; tail -20 "$T/daemon.log"; fi
}

# the promotion's invariants, checked from the mock's record after a success
check_promoted() {
        check "one export" [ "$(count export)" = 1 ]
        check "one import" [ "$(count import)" = 1 ]
        local up_sha dl_sha
        up_sha=$(field upload sha256); dl_sha=$(grep '^download .*complete=1' "$RECORD" | tail -1 | tr ' ' '\n' | sed -n 's/^sha256=//p')
        check "uploaded bytes equal the downloaded package" test -n "$up_sha" -a "$up_sha" = "$dl_sha"
        check "dry run on the uploaded file id" [ "$(field dryrun file_id)" = "$(field upload file_id)" ]
        check "import of the uploaded file id" [ "$(field import file_id)" = "$(field upload file_id)" ]
        check "job file says succeeded" [ "$(job_get state)" = succeeded ]
}

[ -x "$D2P" ] || { echo "no $D2P: run make"; exit 1; }
[ -x "$MOCK" ] || { echo "no $MOCK: run make"; exit 1; }

# wait_for FILE PATTERN [SECONDS]: waits until grep finds PATTERN in FILE
wait_for() {
        local f=$1 p=$2 n=$(( ${3:-20} * 10 ))
        for _ in $(seq "$n"); do grep -q -- "$p" "$f" 2>/dev/null && return 0; sleep 0.1; done
        echo "timed out waiting for '$p' in $f"; return 1
}
# job_state_of ID: the state in that job's file
job_state_of() { sed -n 's/^    "state": "\([^"]*\)",\{0,1\}$/\1/p' "$STATE/jobs/$1.json" 2>/dev/null; }
# wait_state ID STATE [SECONDS]
wait_state() {
        local n=$(( ${3:-30} * 10 ))
        for _ in $(seq "$n"); do [ "$(job_state_of "$1")" = "$2" ] && return 0; sleep 0.1; done
        echo "job $1 is '$(job_state_of "$1")', not '$2'"; return 1
}
CTL="$BUILD/dev2prodctl"
D_PID=
# daemon_start: the daemon in the foreground (background job), with a fake
# systemd notification socket whose messages land in $T/notify.log
daemon_start() {
        if [ ! -S "$T/notify.sock" ]; then
                "$BUILD/notify-listen" "$T/notify.sock" > "$T/notify.log" &
                NL_PID=$!
                for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
        fi
        local before; before=$(grep -c '^READY=1' "$T/notify.log" 2>/dev/null || true)
        NOTIFY_SOCKET="$T/notify.sock" "$D2P" --config "$CONFIG" 2>> "$T/daemon.log" &
        D_PID=$!
        for _ in $(seq 100); do
                [ "$(grep -c '^READY=1' "$T/notify.log")" -gt "${before:-0}" ] && return 0
                kill -0 "$D_PID" 2>/dev/null || { echo "daemon exited"; tail "$T/daemon.log"; return 1; }
                sleep 0.1
        done
        echo "no READY=1"; return 1
}
daemon_stop() {
        [ -n "$D_PID" ] || return 0
        kill -TERM "$D_PID" 2>/dev/null
        local rc; wait "$D_PID"; rc=$?; D_PID=; return $rc
}
# ctl ARGS...: dev2prodctl with the test's configuration
ctl() { "$CTL" --config "$CONFIG" "$@"; }

# start_case NAME [MOCK ARGS...]: a fresh mock (with these arguments), state,
# record and log; the configuration with $EXTRA under defaults: and a
# control socket in $T; the daemon started
start_case() {
        echo "# case: $1"; shift
        daemon_stop > /dev/null 2>&1
        mock_stop
        rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start "$@"
        write_config "${EXTRA:-}"
        sed -i "1i control_socket: $T/ctl.sock" "$CONFIG"
        daemon_start || { bad "the daemon starts"; return 1; }
}

_lib_cleanup_daemon() {
        [ -n "${D_PID:-}" ] && kill -KILL "$D_PID" 2>/dev/null
        [ -n "${NL_PID:-}" ] && kill "$NL_PID" 2>/dev/null
        cleanup
}
trap _lib_cleanup_daemon EXIT

# ---- helpers of test_fault_matrix.sh, test_disk_faults.sh, test_secrets.sh ----

# mock_start_raw [MOCK ARGS...]: the mock with exactly these arguments (the
# caller gives every --tenant; --port N for a fixed port, else any free one);
# MOCK_URL gets ${MOCK_SCHEME:-http}
mock_start_raw() {
        rm -f "$T/port"
        "$MOCK" --record "$RECORD" --port-file "$T/port" "$@" > "$T/mock.out" 2>&1 &
        MOCK_PID=$!
        for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
        [ -s "$T/port" ] || { cat "$T/mock.out"; echo "mock did not start"; exit 1; }
        MOCK_URL="${MOCK_SCHEME:-http}://127.0.0.1:$(cat "$T/port")"
}
# free_port: a TCP port on 127.0.0.1 that nobody listens on (bound, then let go)
free_port() {
        local pf="$T/free-port.$$.$RANDOM" pid p
        "$MOCK" --record /dev/null --port 0 --port-file "$pf" --tenant 1:key=x > /dev/null 2>&1 &
        pid=$!
        for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
        p=$(cat "$pf" 2>/dev/null)
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$pf"
        echo "$p"
}
# tenant_set NAME "KEY: VALUE": adds a key to tenant NAME of $CONFIG
tenant_set() { sed -i "/^  $1:\$/a\\    $2" "$CONFIG"; }
# tenant_url NAME URL: points tenant NAME of $CONFIG at URL
tenant_url() { sed -i "/^  $1:\$/,/^    url:/s|^    url: .*|    url: $2|" "$CONFIG"; }
# job_attempts STEP: steps.STEP.attempts of the newest job file
job_attempts() {
        awk -v k="        \"$1\": {" 'index($0, k) == 1 { f = 1 } f && /"attempts"/ { gsub(/[^0-9]/, ""); print; exit }' "$(job_file)"
}
# usec_of DURATION: microseconds of a duration as the daemon prints it (1s250ms, 87ms123us)
usec_of() {
        local s=$1 total=0 n u
        while [[ $s =~ ^([0-9]+)(ms|us|s|m|h|d)(.*)$ ]]; do
                n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
                case $u in us) total=$((total + n));; ms) total=$((total + n * 1000));;
                        s) total=$((total + n * 1000000));; m) total=$((total + n * 60000000));;
                        h) total=$((total + n * 3600000000));; d) total=$((total + n * 86400000000));; esac
        done
        echo "$total"
}
# make_tls DIR: a throwaway CA (DIR/ca.pem) and a server certificate for
# IP 127.0.0.1 signed by it (DIR/server.pem, DIR/server.key)
make_tls() {
        local d=$1
        mkdir -p "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dev2prodd test CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout "$d/ca.key" -out "$d/ca.pem" 2> "$d/openssl.log" &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" \
                -out "$d/server.csr" 2>> "$d/openssl.log" &&
        printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > "$d/server.ext" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
                -extfile "$d/server.ext" -out "$d/server.pem" 2>> "$d/openssl.log"
}
