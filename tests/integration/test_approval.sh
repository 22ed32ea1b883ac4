#!/usr/bin/env bash
# The approval gate (issue 11 part 4), with the real daemon and the mock;
# every import is counted on the mock's record:
#  A. approval: required stops the job after a clean dry run in state
#     awaiting-approval (journal line, STATUS=, show puts the dry run
#     first); approving it by another job's id or twice is refused; approve
#     imports exactly once and the job file says who approved it (uid and
#     user name of the socket's peer).
#  B. reject --reason: failed/rejected, no import, who and why kept.
#  C. approval_timeout passes: failed/expired, no import; also when it
#     passed while the daemon was down (expired at the start).
#  D. a restart while awaiting keeps it waiting; approve after it imports once.
#  F. a waiting job holds no max_parallel slot: with max_parallel 1 a job
#     of another promotion (approval: none) runs and imports meanwhile;
#     --once stops saved at the gate, and the daemon resumes it.
#  E. kills inside the approval path (strace attached to the waiting daemon,
#     SIGKILL at the Nth rename or fsync after `approve`): after a restart
#     there is at most one import, exactly one once the approval had
#     landed, and never a lost approval.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"

# start_case (lib.sh) for a promotion behind the gate
gated_case() {
        EXTRA="  approval: required
  approval_timeout: ${TIMEOUT:-1h}" start_case "$@"
}

# traced PID: waits until a tracer (strace -p) is attached to PID
traced() {
        for _ in $(seq 100); do
                [ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2> /dev/null)" -gt 0 ] 2> /dev/null && return 0
                sleep 0.1
        done
        return 1
}
# dead_or_killed DAEMON_PID STRACE_PID: waits (20 s at most) for the kill,
# then ends both in any case
dead_or_killed() {
        for _ in $(seq 200); do kill -0 "$1" 2> /dev/null || break; sleep 0.1; done
        kill -KILL "$1" "$2" 2> /dev/null
        wait "$1" "$2" 2> /dev/null
}
run_job() { ctl run nightly 2>> "$T/ctl.err" | grep -o 'nightly-[0-9TZ-]*' | head -1; }
failure_of() { sed -n 's/^    "failure": "\([^"]*\)",\{0,1\}$/\1/p' "$STATE/jobs/$1.json" 2> /dev/null; }
# decision ID OBJECT KEY: a key of the "approved"/"rejected" object
decision() {
        awk -v o="    \"$2\": {" -v k="        \"$3\": " 'index($0, o) == 1 { f = 1; next }
                f && /^    }/ { exit } f && index($0, k) == 1 { v = substr($0, length(k) + 1); gsub(/[",]/, "", v); print v; exit }' \
                "$STATE/jobs/$1.json"
}
awaiting() {
        local c=$1 id=$2
        if [ -n "$id" ] && wait_state "$id" awaiting-approval 20; then ok "$c: the job waits in awaiting-approval"; return 0; fi
        bad "$c: the job ($id) reaches awaiting-approval"; tail -5 "$T/daemon.log"; return 1
}

# ---- A ---------------------------------------------------------------------
gated_case "A approve" && {
        id=$(run_job)
        if awaiting A "$id"; then
                check "A: nothing imported while waiting ($(count import))" test "$(count import)" = 0
                check "A: one dry run on the uploaded file" test "$(count dryrun)" = 1
                check "A: the journal says it awaits approval" log_has "awaiting approval until"
                # STATUS= is sent at most once a second
                check "A: STATUS= counts it" wait_for "$T/notify.log" "^STATUS=0 running, 1 awaiting approval" 10
                ctl show "$id" > "$T/show.out"
                check "A: show starts with the approval and the dry run's findings" \
                        sh -c "head -1 '$T/show.out' | grep -q '^Awaiting:' && grep -m1 -n '^Dry run:' '$T/show.out' | grep -q '^[2-5]:'"
                expect_rc 1 "A: approving a job id that is not waiting is refused" ctl approve nightly-19990101T000000Z
                ctl approve "$id" > "$T/approve.out" 2>&1
                check "A: approve answers 'approved $id' ($(cat "$T/approve.out"))" grep -qx "approved $id" "$T/approve.out"
                wait_state "$id" succeeded 20 > /dev/null
                check "A: the job succeeds" test "$(job_state_of "$id")" = succeeded
                check "A: exactly one import ($(count import))" test "$(count import)" = 1
                check "A: of the uploaded file" test "$(field import file_id)" = "$(field upload file_id)"
                check "A: the job file keeps who approved (uid $(decision "$id" approved uid))" \
                        test "$(decision "$id" approved uid)" = "$(id -u)" -a "$(decision "$id" approved user)" = "$(id -un)"
                expect_rc 1 "A: a second approve is refused" ctl approve "$id"
                check "A: still one import ($(count import))" test "$(count import)" = 1
        fi
}

# ---- B ---------------------------------------------------------------------
gated_case "B reject" && {
        id=$(run_job)
        if awaiting B "$id"; then
                ctl reject "$id" --reason "not during the audit" > /dev/null 2>&1
                wait_state "$id" failed 10 > /dev/null
                check "B: the job ends failed" test "$(job_state_of "$id")" = failed
                check "B: with failure rejected ($(failure_of "$id"))" test "$(failure_of "$id")" = rejected
                check "B: who and why are kept" test "$(decision "$id" rejected reason)" = "not during the audit" \
                        -a "$(decision "$id" rejected uid)" = "$(id -u)"
                check "B: no import ($(count import))" test "$(count import)" = 0
                expect_rc 1 "B: approve after reject is refused" ctl approve "$id"
        fi
}

# ---- C ---------------------------------------------------------------------
# (the job may expire before this test looks: only its end is checked, and
# that it went through the gate)
TIMEOUT=1s gated_case "C approval_timeout" && {
        id=$(run_job)
        wait_state "$id" failed 20 > /dev/null
        check "C: the job ends failed/expired ($(job_state_of "$id")/$(failure_of "$id"))" \
                test "$(job_state_of "$id")/$(failure_of "$id")" = failed/expired
        check "C: after waiting in awaiting-approval" grep -q '"awaiting-approval": {' "$STATE/jobs/$id.json"
        check "C: no import ($(count import))" test "$(count import)" = 0
}
# the deadline passes while the daemon is down: the job file's copy of
# approval_timeout is set to 1us, as if its 1h had passed (no sleeping)
gated_case "C2 approval_timeout passes while the daemon is down" && {
        id=$(run_job)
        if awaiting C2 "$id"; then
                daemon_stop
                sed -i 's/^\(        "approval_timeout_usec": \)[0-9]*/\11/' "$STATE/jobs/$id.json"
                daemon_start
                wait_state "$id" failed 10 > /dev/null
                check "C2: expired at the start ($(job_state_of "$id")/$(failure_of "$id"))" \
                        test "$(job_state_of "$id")/$(failure_of "$id")" = failed/expired
                check "C2: no import ($(count import))" test "$(count import)" = 0
        fi
}

# ---- D ---------------------------------------------------------------------
gated_case "D restart while awaiting" && {
        id=$(run_job)
        if awaiting D "$id"; then
                daemon_stop
                daemon_start
                check "D: still awaiting after the restart" test "$(job_state_of "$id")" = awaiting-approval
                check "D: no second dry run ($(count dryrun))" test "$(count dryrun)" = 1
                ctl approve "$id" > /dev/null
                wait_state "$id" succeeded 20 > /dev/null
                check "D: approved after the restart, it succeeds with one import ($(count import))" \
                        test "$(job_state_of "$id")" = succeeded -a "$(count import)" = 1
        fi
}

# ---- F ---------------------------------------------------------------------
gated_case "F max_parallel 1, another promotion" && {
        daemon_stop
        sed -i "1i max_parallel: 1" "$CONFIG"
        cat >> "$CONFIG" <<YAML
  - name: other
    package: "54321"
    from: dev
    to: prod
    schedule: "30 4 * * *"
    approval: none
YAML
        daemon_start
        id=$(run_job)
        if awaiting F "$id"; then
                check "F: STATUS= says 0 running, 1 awaiting approval" \
                        wait_for "$T/notify.log" "^STATUS=0 running, 1 awaiting approval" 10
                oid=$(ctl run other 2>> "$T/ctl.err")
                wait_state "$oid" succeeded 20 > /dev/null
                check "F: the other promotion's job ran and imported while one waits ($(job_state_of "$oid"), $(count import))" \
                        test "$(job_state_of "$oid")" = succeeded -a "$(count import)" = 1
                ctl approve "$id" > /dev/null
                wait_state "$id" succeeded 20 > /dev/null
                check "F: then the approved job imports ($(count import))" test "$(count import)" = 2
        fi
}
gated_case "F2 --once stops at the gate" && {
        daemon_stop
        run_once; rc=$?
        f=$(job_file); id=$(basename "${f%.json}")
        check "F2: dev2prodd --once exits 1 with the job saved in awaiting-approval (exit $rc, $(job_state_of "$id"))" \
                test "$rc" = 1 -a "$(job_state_of "$id")" = awaiting-approval
        check "F2: it says how to go on" log_has "awaits approval, which --once cannot take"
        daemon_start
        ctl approve "$id" > /dev/null
        wait_state "$id" succeeded 20 > /dev/null
        check "F2: the daemon resumed it; approved, it imports once ($(count import))" \
                test "$(job_state_of "$id")" = succeeded -a "$(count import)" = 1
}

# ---- E ---------------------------------------------------------------------
if ! command -v strace > /dev/null || ! strace -f -qq -o /dev/null -e inject=rename:signal=KILL:when=99 true 2> /dev/null; then
        echo "# E skipped: no strace fault injection here"
else
        # each save: fsync(temp), rename, fsync(folder).  After approve: the
        # approval's save, then the import state's save, then the request.
        for spec in rename:1 fsync:2 rename:2 fsync:4; do
                sc=${spec%%:*} n=${spec#*:}
                gated_case "E kill at $sc #$n after approve" || continue
                id=$(run_job)
                awaiting "E $spec" "$id" || continue
                strace -qq -o /dev/null -p "$D_PID" -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" &
                ST_PID=$!
                traced "$D_PID" || { bad "E $spec: strace attaches"; continue; }
                ctl approve "$id" > "$T/approve.out" 2>&1
                dead_or_killed "$D_PID" "$ST_PID"; D_PID=
                at=$(job_state_of "$id") approved=$(decision "$id" approved uid)
                echo "# killed; the file says $at, approved uid '${approved}'"
                daemon_start || { bad "E $spec: the daemon restarts"; continue; }
                for _ in $(seq 100); do case $(job_state_of "$id") in succeeded|failed) break;; esac; sleep 0.1; done
                end=$(job_state_of "$id")/$(failure_of "$id")
                imports=$(count import)
                check "E $spec: at most one import ($imports)" test "$imports" -le 1
                if [ -n "$approved" ] && [ "$at" = import ]; then
                        # the import state landed: whether the request left is unknown, so never again
                        check "E $spec: killed in the import state: outcome unknown, never sent twice ($end)" \
                                test "$end" = failed/import-outcome-unknown
                elif [ -n "$approved" ]; then
                        check "E $spec: the approval had landed: the import ran once ($end, $imports import)" \
                                test "$end" = succeeded/ -a "$imports" = 1
                else
                        check "E $spec: the approval had not landed: still awaiting ($end)" test "$end" = awaiting-approval/
                        ctl approve "$id" > /dev/null
                        wait_state "$id" succeeded 20 > /dev/null
                        check "E $spec: approved again, one import ($(count import))" test "$(count import)" = 1
                fi
        done
fi
finish
