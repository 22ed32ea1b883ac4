#!/usr/bin/env bash
# Resolving a lost import answer (issue 11 part 5), with the real daemon and
# the mock, every import counted on the mock's record ("import" lines are
# imports the mock carried out; a dropped request is only a "request" line):
#  R1. the mock imports and the answer is lost (import:drop-after): the job
#      ends import-outcome-unknown; resolve --imported makes it succeeded,
#      keeps the old failure and who; nothing is imported again; a second
#      resolve is refused.
#  R2. the connection drops before the mock imports (import:drop):
#      resolve --not-imported makes one new job, linked both ways, that
#      dry-runs the same uploaded file id (no new export or upload) and
#      imports it once; a second resolve is refused.
#  R3. a newer job of the promotion imported since: --not-imported is
#      refused (an older package never replaces a newer one).
#  R4. kills inside the resolve path (strace attached, SIGKILL at the Nth
#      rename or fsync after `resolve`), restart, resolve again if it did not
#      land: exactly one new job and one import, never two.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"

run_job() { ctl run nightly 2>> "$T/ctl.err" | grep -o 'nightly-[0-9TZ-]*' | head -1; }
failure_of() { sed -n 's/^    "failure": "\([^"]*\)",\{0,1\}$/\1/p' "$STATE/jobs/$1.json" 2> /dev/null; }
top() { sed -n "s/^    \"$2\": \"\([^\"]*\)\",\{0,1\}$/\1/p" "$STATE/jobs/$1.json" 2> /dev/null; }   # top ID KEY
n_jobs() { ls "$STATE"/jobs/nightly-*.json 2> /dev/null | wc -l; }
wait_end() { for _ in $(seq 200); do case $(job_state_of "$1") in succeeded|failed|cancelled) return 0;; esac; sleep 0.1; done; return 1; }
# lost ID CASE: the job ended failed/import-outcome-unknown
lost() {
        wait_end "$1"
        check "$2: the job ends failed/import-outcome-unknown ($(job_state_of "$1")/$(failure_of "$1"))" \
                test "$(job_state_of "$1")/$(failure_of "$1")" = failed/import-outcome-unknown
}

# ---- R1 --------------------------------------------------------------------
start_case "R1 resolve --imported" --fault import:drop-after:1 && {
        id=$(run_job)
        if lost "$id" R1; then
                check "R1: the mock imported once ($(count import))" test "$(count import)" = 1
                ctl resolve "$id" --imported > "$T/r.out" 2>&1
                check "R1: resolve answers ($(cat "$T/r.out"))" grep -qx "resolved $id" "$T/r.out"
                check "R1: the job is succeeded now" test "$(job_state_of "$id")" = succeeded
                check "R1: its old failure is kept" test "$(top "$id" resolved_from)" = import-outcome-unknown
                check "R1: who resolved it" grep -q "\"user\": \"$(id -un)\"" "$STATE/jobs/$id.json"
                check "R1: the journal says so" log_has "resolved by $(id -un) (uid $(id -u)): imported"
                expect_rc 1 "R1: a second resolve is refused" ctl resolve "$id" --not-imported
                expect_rc 2 "R1: resolve without --imported/--not-imported is a usage error" ctl resolve "$id"
                sleep 1
                check "R1: still one import, one job ($(count import), $(n_jobs))" test "$(count import)/$(n_jobs)" = 1/1
        fi
}

# ---- R2 --------------------------------------------------------------------
start_case "R2 resolve --not-imported" --fault import:drop:1 && {
        id=$(run_job)
        if lost "$id" R2; then
                check "R2: the mock imported nothing ($(count import))" test "$(count import)" = 0
                expect_rc 1 "R2: resolving a job that did not fail import-outcome-unknown is refused" \
                        ctl resolve nightly-19990101T000000Z --imported
                ctl resolve "$id" --not-imported > "$T/r.out" 2>&1
                new=$(grep -o 'job nightly-[0-9TZ-]*' "$T/r.out" | cut -d' ' -f2)
                check "R2: resolve names the new job ($(cat "$T/r.out"))" test -n "$new" -a "$new" != "$id"
                wait_state "$new" succeeded 20 > /dev/null
                check "R2: the new job succeeds" test "$(job_state_of "$new")" = succeeded
                check "R2: linked both ways" test "$(top "$id" resolved_by_job)" = "$new" -a "$(top "$new" resolves)" = "$id"
                check "R2: the old job stays failed (what happened to it)" test "$(job_state_of "$id")" = failed
                check "R2: no new export or upload ($(count export), $(count upload))" test "$(count export)/$(count upload)" = 1/1
                check "R2: a second dry run, of the same file id" \
                        test "$(count dryrun)" = 2 -a "$(field dryrun file_id 2)" = "$(field upload file_id)"
                check "R2: exactly one import, of that file ($(count import))" \
                        test "$(count import)" = 1 -a "$(field import file_id)" = "$(field upload file_id)"
                expect_rc 1 "R2: a second resolve is refused" ctl resolve "$id" --not-imported
                sleep 1
                check "R2: still one import, two jobs ($(count import), $(n_jobs))" test "$(count import)/$(n_jobs)" = 1/2
        fi
}

# ---- R3 --------------------------------------------------------------------
start_case "R3 a newer job imported" --fault import:drop:1 && {
        id=$(run_job)
        if lost "$id" R3; then
                sleep 1         # the next manual job gets another second in its id
                id2=$(run_job)
                wait_state "$id2" succeeded 20 > /dev/null
                expect_rc 1 "R3: --not-imported is refused after a newer import" ctl resolve "$id" --not-imported
                check "R3: one import, two jobs ($(count import), $(n_jobs))" test "$(count import)/$(n_jobs)" = 1/2
        fi
}

# ---- R4 --------------------------------------------------------------------
if ! command -v strace > /dev/null || ! strace -f -qq -o /dev/null -e inject=rename:signal=KILL:when=99 true 2> /dev/null; then
        echo "# R4 skipped: no strace fault injection here"
else
        # resolve --not-imported saves the old job (fsync, rename, fsync), then
        # the new one (fsync, rename, fsync), then the new job's first state
        for spec in rename:1 fsync:2 rename:2 fsync:4; do
                sc=${spec%%:*} n=${spec#*:}
                start_case "R4 kill at $sc #$n after resolve" --fault import:drop:1 || continue
                id=$(run_job)
                lost "$id" "R4 $spec" || continue
                strace -qq -o /dev/null -p "$D_PID" -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" &
                ST_PID=$!
                for _ in $(seq 100); do     # strace is attached
                        [ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$D_PID/status" 2> /dev/null)" -gt 0 ] 2> /dev/null && break
                        sleep 0.1
                done
                ctl resolve "$id" --not-imported > "$T/r.out" 2>&1
                for _ in $(seq 200); do kill -0 "$D_PID" 2> /dev/null || break; sleep 0.1; done
                kill -KILL "$D_PID" "$ST_PID" 2> /dev/null
                wait "$D_PID" "$ST_PID" 2> /dev/null; D_PID=
                echo "# killed: old says resolved_by_job '$(top "$id" resolved_by_job)', $(n_jobs) job file(s)"
                daemon_start || { bad "R4 $spec: the daemon restarts"; continue; }
                # what an operator does: resolve again (refused once it landed)
                ctl resolve "$id" --not-imported > "$T/r2.out" 2>&1
                echo "# resolve again: $(cat "$T/r2.out")"
                new=$(top "$id" resolved_by_job)
                [ -n "$new" ] && wait_state "$new" succeeded 20 > /dev/null
                check "R4 $spec: one new job, and it succeeded ($(n_jobs) files, $new $(job_state_of "$new"))" \
                        test "$(n_jobs)" = 2 -a "$(job_state_of "$new")" = succeeded
                check "R4 $spec: exactly one import ($(count import))" test "$(count import)" = 1
        done
fi
finish
