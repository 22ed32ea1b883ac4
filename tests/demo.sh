#!/usr/bin/env bash
# make demo: the mock server with two tenants, the daemon on
# config/demo.yaml, one promotion triggered with dev2prodctl and followed to
# its end, its statistics shown, then both stopped.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/dev2prodd-demo.XXXXXX)
MOCK_PID= D_PID=
stop() {
        set +e
        [ -n "$D_PID" ] && kill -TERM "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
        rm -rf "$W"
}
trap stop EXIT
# bold headings in a terminal only: a log file or a pipe gets no escapes
if [ -t 1 ]; then
        say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
        say() { printf '\n== %s\n' "$*"; }
fi

export STATE_DIRECTORY="$W/state" RUNTIME_DIRECTORY="$W/run" CREDENTIALS_DIRECTORY="$W/creds"
mkdir -p "$STATE_DIRECTORY" "$RUNTIME_DIRECTORY" "$CREDENTIALS_DIRECTORY"
( umask 077; echo "demo-dev-$RANDOM$RANDOM" > "$CREDENTIALS_DIRECTORY/demo-dev-key"
  echo "demo-prod-$RANDOM$RANDOM" > "$CREDENTIALS_DIRECTORY/demo-prod-key" )

say "mock Dev2Prod server on 127.0.0.1:18088 (tenants 123456789 and 987654321)"
"$BUILD/mock-dev2prod" --port 18088 --record "$W/record" --package-size 2000000 --polls 3 \
        --tenant "123456789:key=$(cat "$CREDENTIALS_DIRECTORY/demo-dev-key")" \
        --tenant "987654321:key=$(cat "$CREDENTIALS_DIRECTORY/demo-prod-key")" &
MOCK_PID=$!
sleep 0.3
kill -0 $MOCK_PID || { echo "the mock server did not start (is port 18088 free?)"; exit 1; }

say "dev2prodd --check-config"
"$BUILD/dev2prodd" --config config/demo.yaml --check-config

say "dev2prodd (daemon mode, logging to this terminal)"
"$BUILD/dev2prodd" --config config/demo.yaml &
D_PID=$!
for _ in $(seq 50); do [ -S "$RUNTIME_DIRECTORY/control.sock" ] && break; sleep 0.1; done

say "dev2prodctl list"
"$BUILD/dev2prodctl" --config config/demo.yaml list

say "dev2prodctl run forms-nightly --wait"
"$BUILD/dev2prodctl" --config config/demo.yaml run forms-nightly --wait

say "dev2prodctl history"
"$BUILD/dev2prodctl" --config config/demo.yaml history
id=$(ls "$STATE_DIRECTORY/jobs" | sed -n 's/\.json$//p' | tail -1)

say "dev2prodctl show $id"
"$BUILD/dev2prodctl" --config config/demo.yaml show "$id"

say "what the server saw"
grep -v '^request ' "$W/record"

say "stopping"
kill -TERM "$D_PID"; wait "$D_PID"; D_PID=
echo "demo finished"
