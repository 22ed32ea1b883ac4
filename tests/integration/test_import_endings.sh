#!/usr/bin/env bash
# How a job may end once its import request may have left (issue 9, cases D
# and F), run through the daemon and the mock.
#
# D. After the import may have left (state "import" with a request sent, or
#    "import-poll"), the only endings are "succeeded", or "failed" with
#    failure "import-failed" or "import-outcome-unknown": never a cancel,
#    "gave-up", "timeout", "auth" or "config", each of which invites an
#    operator to run the promotion (and the import) again.  Cases: a cancel,
#    HTTP 500 until the retries run out, a status that never completes, a
#    401, the target tenant removed by a reload, all in import-poll; and,
#    for contrast, a cancel in dry-run-poll still ends "cancelled".
# F. A reload that points a tenant at another server (URL and key) while a
#    job runs: the job keeps the identity it started with and sends nothing
#    with a mixed one (the new key to the old URL): it fails "config" before
#    the import may have left, "import-outcome-unknown" after, naming the
#    tenant and both URLs.  A reload that changes only the key: the job
#    sends the new key to the same server (key rotation).
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"

KEY_PROD2=prod2-key-$RANDOM$RANDOM
MOCKB_PID=
trap '[ -n "$MOCKB_PID" ] && kill "$MOCKB_PID" 2> /dev/null; _lib_cleanup_daemon' EXIT

# run_job: dev2prodctl run nightly; prints the job id
run_job() { "$CTL" --config "$CONFIG" run nightly 2>> "$T/ctl.err" | grep -o 'nightly-[0-9TZ-]*' | head -1; }
is_final() { case $(job_state_of "$1") in succeeded|failed|cancelled) return 0;; esac; return 1; }
# wait_final ID SECONDS
wait_final() {
        local n=$(( $2 * 10 ))
        for _ in $(seq "$n"); do is_final "$1" && return 0; sleep 0.1; done
        echo "job $1 is still '$(job_state_of "$1")'"; return 1
}
failure_of() { sed -n 's/^    "failure": "\([^"]*\)",\{0,1\}$/\1/p' "$STATE/jobs/$1.json" 2> /dev/null; }
message_of() { sed -n 's/^    "message": "\(.*\)",\{0,1\}$/\1/p' "$STATE/jobs/$1.json" 2> /dev/null; }
n_jobs() { ls "$STATE"/jobs/nightly-*.json 2> /dev/null | wc -l; }
# in_state CASE ID STATE: waits for the job to reach STATE (a failed check
# ends the case: the rest would test nothing)
in_state() {
        if [ -n "$2" ] && wait_state "$2" "$3" 20; then ok "$1: the job reaches $3"; return 0; fi
        bad "$1: the job ($2) reaches $3"; tail -5 "$T/daemon.log"; return 1
}
# expect_unknown CASE ID: the job ends failed/import-outcome-unknown after
# one import, and nothing imports again by itself
expect_unknown() {
        local c=$1 id=$2 st fl
        wait_final "$id" 20 > /dev/null
        st=$(job_state_of "$id") fl=$(failure_of "$id")
        check "$c: the job ends failed (state '$st')" test "$st" = failed
        check "$c: with failure import-outcome-unknown (failure '$fl')" test "$fl" = import-outcome-unknown
        check "$c: the mock recorded exactly 1 import ($(count import))" test "$(count import)" = 1
        sleep 2
        check "$c: still 1 import a while later ($(count import))" test "$(count import)" = 1
        check "$c: no second job of the promotion was started ($(n_jobs) job files)" test "$(n_jobs)" = 1
}

# ---- D ----------------------------------------------------------------------

# (1) cancel in import-poll (the status never completes; step_timeout 5s
# ends the job even if the cancel is refused and the job polls on)
EXTRA="  step_timeout: 5s" start_case "D1 cancel in import-poll" --fault import_status:unknown-status:0 && {
        id=$(run_job)
        if in_state D1 "$id" import-poll; then
                "$CTL" --config "$CONFIG" cancel "$id" > "$T/cancel.out" 2>&1
                echo "# dev2prodctl cancel: $(cat "$T/cancel.out")"
                expect_unknown D1 "$id"
        fi
}

# (2) HTTP 500 on every import status poll, until the retries run out
start_case "D2 import status HTTP 500 until the retries run out" --fault import_status:500:0 && {
        id=$(run_job)
        expect_unknown D2 "$id"
        check "D2: the 500s were retried (more than one import status request)" \
                test "$(grep -c '^request method=GET path=/rest/222/dev2prod/import/.* status=500' "$RECORD")" -gt 1
}

# (3) the import status never completes, step_timeout 2s
EXTRA="  step_timeout: 2s" start_case "D3 import status never completes (step_timeout 2s)" \
        --fault import_status:unknown-status:0 && {
        id=$(run_job)
        expect_unknown D3 "$id"
}

# (4) 401 on the import status
start_case "D4 import status answered 401" --fault import_status:401:0 && {
        id=$(run_job)
        expect_unknown D4 "$id"
}

# (5) the target tenant removed by a reload while the job is in import-poll
EXTRA="  step_timeout: 5s" start_case "D5 target tenant removed by a reload in import-poll" \
        --fault import_status:unknown-status:0 && {
        id=$(run_job)
        if in_state D5 "$id" import-poll; then
                # prod goes; the promotion now goes to another tenant (a
                # promotion may not name a tenant that does not exist)
                sed -i 's/^  prod:$/  other:/; s/tenant_id: "222"/tenant_id: "333"/; s/^    to: prod$/    to: other/' "$CONFIG"
                kill -HUP "$D_PID"
                check "D5: the reload is taken" wait_for "$T/daemon.log" "configuration reloaded" 10
                expect_unknown D5 "$id"
        fi
}

# (6) contrast: a cancel while the job waits in dry-run-poll is a cancel
start_case "D6 cancel in dry-run-poll" --fault dryrun_status:unknown-status:0 && {
        id=$(run_job)
        if in_state D6 "$id" dry-run-poll; then
                "$CTL" --config "$CONFIG" cancel "$id" > /dev/null 2>&1
                wait_final "$id" 10 > /dev/null
                check "D6: the job ends cancelled (state '$(job_state_of "$id")')" test "$(job_state_of "$id")" = cancelled
                check "D6: nothing imported ($(count import))" test "$(count import)" = 0
        fi
}

# ---- F: reloads while a job runs -------------------------------------------

# mockb_start: a second server, tenants 111 and 222 with the second prod
# key; record in $T/record-b, URL in $MOCKB_URL
mockb_start() {
        [ -n "$MOCKB_PID" ] && { kill "$MOCKB_PID" 2> /dev/null; wait "$MOCKB_PID" 2> /dev/null; }
        rm -f "$T/port-b" "$T/record-b"
        "$MOCK" --record "$T/record-b" --port 0 --port-file "$T/port-b" \
                --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD2" > "$T/mock-b.out" 2>&1 &
        MOCKB_PID=$!
        for _ in $(seq 100); do [ -s "$T/port-b" ] && break; sleep 0.05; done
        [ -s "$T/port-b" ] || { cat "$T/mock-b.out"; echo "second mock did not start"; exit 1; }
        MOCKB_URL="http://127.0.0.1:$(cat "$T/port-b")"
}
refused_401() { grep -c '^request .* status=401 ' "$1" 2> /dev/null || true; }
requests_in() { grep -c '^request ' "$1" 2> /dev/null || true; }
# move_prod: tenant prod now lives on the second server, with its key
move_prod() {
        tenant_url prod "$MOCKB_URL"
        printf '%s\n' "$KEY_PROD2" > "$T/prod.key"
        kill -HUP "$D_PID"
}
# expect_identity_kept CASE ID FAILURE IMPORTS
expect_identity_kept() {
        local c=$1 id=$2 want=$3 imports=$4 st fl msg
        wait_final "$id" 20 > /dev/null
        st=$(job_state_of "$id") fl=$(failure_of "$id") msg=$(message_of "$id")
        check "$c: the job ends failed (state '$st')" test "$st" = failed
        check "$c: with failure $want (failure '$fl')" test "$fl" = "$want"
        check "$c: the first server never got the new key (no 401 there: $(refused_401 "$RECORD"))" \
                test "$(refused_401 "$RECORD")" = 0
        check "$c: the second server got nothing from the job ($(requests_in "$T/record-b") requests)" \
                test "$(requests_in "$T/record-b")" = 0
        check "$c: $imports import(s) on the first server, 0 on the second" \
                test "$(count import)/$(grep -c '^import ' "$T/record-b")" = "$imports/0"
        check "$c: the message names tenant prod and both URLs ($msg)" \
                eval 'grep -q "prod" <<< "$msg" && grep -qF "$MOCK_URL" <<< "$msg" && grep -qF "$MOCKB_URL" <<< "$msg"'
}

EXTRA="  step_timeout: 10s" start_case "F1 tenant moved (URL and key) by a reload in dry-run-poll" \
        --fault dryrun_status:unknown-status:0 && {
        mockb_start
        id=$(run_job)
        if in_state F1 "$id" dry-run-poll; then
                move_prod
                check "F1: the reload is taken" wait_for "$T/daemon.log" "configuration reloaded" 10
                expect_identity_kept F1 "$id" config 0
        fi
}

EXTRA="  step_timeout: 10s" start_case "F2 tenant moved (URL and key) by a reload in import-poll" \
        --fault import_status:unknown-status:0 && {
        mockb_start
        id=$(run_job)
        if in_state F2 "$id" import-poll; then
                move_prod
                check "F2: the reload is taken" wait_for "$T/daemon.log" "configuration reloaded" 10
                expect_identity_kept F2 "$id" import-outcome-unknown 1
                check "F2: no second job of the promotion was started ($(n_jobs) job files)" test "$(n_jobs)" = 1
        fi
}

# Key rotation: only the key file's content changes.  The mock cannot learn
# a new key while it runs, so a rotation that succeeds end to end cannot be
# shown here; what is shown is that the job sends the new key to the same
# server (the mock refuses it: 401) and fails "auth", not "config": a new
# key alone is no change of identity.
EXTRA="  step_timeout: 10s" start_case "F3 key rotation (same URL and tenant id) in dry-run-poll" \
        --fault dryrun_status:unknown-status:0 && {
        id=$(run_job)
        if in_state F3 "$id" dry-run-poll; then
                a0=$(refused_401 "$RECORD")
                printf '%s\n' "$KEY_PROD2" > "$T/prod.key"
                kill -HUP "$D_PID"
                check "F3: the reload is taken" wait_for "$T/daemon.log" "configuration reloaded" 10
                wait_final "$id" 20 > /dev/null
                check "F3: the new key went to the same server (401s there: $a0 -> $(refused_401 "$RECORD"))" \
                        test "$(refused_401 "$RECORD")" -gt "$a0"
                check "F3: the job fails auth, not config (failure '$(failure_of "$id")')" test "$(failure_of "$id")" = auth
                check "F3: nothing imported ($(count import))" test "$(count import)" = 0
        fi
}

daemon_stop > /dev/null 2>&1
finish
