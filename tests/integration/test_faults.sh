#!/usr/bin/env bash
# The engine against a misbehaving server: every fault is injected by the
# mock (its --fault option), the daemon runs for real, and each case asserts
# the outcome an operator wants (retried and succeeded, or failed saying
# why) from the exit status, the log and the mock's record.
. "$(dirname "$0")/../lib.sh"

# reset [MOCK ARGS]: fresh mock, state and log; config gets $EXTRA defaults
reset() {
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start "$@"; write_config "${EXTRA:-}"
}
req_count() { grep -c "^request method=$1 path=$2" "$RECORD" || true; }
# the mock logs paths without their query: dry runs and imports share one;
# every dry run succeeded in the cases that use this
import_requests() { echo $(( $(req_count POST "/rest/222/dev2prod/import ") - $(count dryrun) )); }

echo "# retryable statuses are retried, then the promotion completes"
for spec in export:429:2 export_status:500:2 download:504:1 upload:500:1 dryrun:502:2 dryrun_status:503:3 import:503:2 import_status:502:1; do
        reset --fault "$spec"
        expect_rc 0 "$spec: retried and succeeded" run_once
        check "$spec: exactly one import" test "$(count import)" = 1
        check "$spec: the retry was logged" log_has "try 2 of 4"
done

echo "# Retry-After is honoured"
reset --fault dryrun:retry-after-2:1
s=$SECONDS; expect_rc 0 "429 with Retry-After: 2 then success" run_once
check "waited at least the 2 s the server asked for" test $((SECONDS - s)) -ge 2
check "the log says when it retries" log_has "in 2s"

echo "# a dropped connection"
reset --fault export_status:drop:1
expect_rc 0 "status poll with no answer is retried" run_once
reset --fault export:drop-after:1
expect_rc 0 "export whose answer was lost is requested again" run_once
check "two exports on the server (the duplicate)" test "$(count export)" = 2
check "the duplicate is logged as harmless" log_has "harmless"
check "job file counts the duplicate" test "$(job_get duplicates)" = 1

echo "# a truncated download is restarted from byte 0"
reset --package-size 200000 --fault download:truncate:1
expect_rc 0 "truncated download retried" run_once
check "first download incomplete, second complete" test "$(grep -c '^download .*complete=0' "$RECORD")/$(grep -c '^download .*complete=1' "$RECORD")" = 1/1
check_promoted

echo "# malformed answers"
reset --fault export_status:garbage:2
expect_rc 0 "HTML instead of a status is retried" run_once
reset --fault upload:garbage:1
expect_rc 0 "an unreadable upload answer leads to a second upload" run_once
check "two uploads, dry run on the second" test "$(count upload)/$(field dryrun file_id)" = "2/$(field upload file_id 2)"
reset --fault dryrun:id-not-string:1
expect_rc 0 "an Id that is a number is refused and the dry run requested again" run_once
check "the log names the problem" log_has '"Id" is a number'
check "two dry runs, one import" test "$(count dryrun)/$(count import)" = 2/1
reset --fault export:noid:1
expect_rc 0 "an export answer without Id is requested again" run_once
check "the log says the Id is missing" log_has '"Id" is missing'

echo "# the dry run decides"
reset --fault dryrun_status:errors:1
expect_rc 1 "dry run with errors fails the job" run_once
check "no import after a dry run with errors" test "$(count import)" = 0
check "each error of the server is logged" test "$(grep -c "error: Form 'Intake'" "$T/daemon.log")" -ge 1
check "job file failure is dry-run-rejected" test "$(job_get failure)" = dry-run-rejected
reset --fault dryrun_status:warnings:1
expect_rc 0 "warnings with on_warnings: proceed import" run_once
check "imported despite warnings" test "$(count import)" = 1
EXTRA="  on_warnings: stop" reset --fault dryrun_status:warnings:1
expect_rc 1 "warnings with on_warnings: stop do not import" run_once
check "no import with on_warnings: stop" test "$(count import)" = 0
check "job file failure is dry-run-warnings" test "$(job_get failure)" = dry-run-warnings

echo "# the export decides"
reset --fault export_status:failed:1
expect_rc 1 "a FAILED export fails the job" run_once
check "nothing downloaded after a FAILED export" test "$(req_count GET /rest/111/ces/attachment)" = 0
reset --fault export_status:nofileid:1
expect_rc 1 "COMPLETED export without FileId fails the job" run_once
check "the message names the missing field" log_has '"FileId"'

echo "# refusals fail at once with the server's words"
for spec in upload:403 dryrun:404 export:400; do
        reset --fault "$spec:1"
        expect_rc 1 "$spec fails the job" run_once
        check "$spec: not retried" test "$(grep -c "fault=${spec#*:}" "$RECORD")" = 1
        check "$spec: the server's words are logged" log_has "injected ${spec#*:}"
done
reset --fault export:401:1
expect_rc 1 "401 with an API key fails" run_once
check "the log says to check the key" log_has "check the key of tenant dev"

echo "# the import is never sent twice"
reset --fault import:drop-after:1
expect_rc 1 "an import whose answer is lost fails as unknown" run_once
check "one import on the server" test "$(count import)" = 1
check "one import request sent" test "$(import_requests)" = 1
check "the log says the outcome is unknown and how to check" log_has "may or may not have run"
check "job file failure is import-outcome-unknown" test "$(job_get failure)" = import-outcome-unknown
reset --fault import:500:1
expect_rc 1 "a 500 to the import is an unknown outcome, not retried" run_once
check "one import request sent" test "$(import_requests)" = 1

echo "# giving up and timeouts"
reset --fault export_status:503:0
expect_rc 1 "a server that stays down: give up after 'retries'" run_once
check "gave up after 4 tries" log_has "gave up after 4 tries"
EXTRA="  step_timeout: 1s" reset --fault export_status:unknown-status:0
expect_rc 1 "an unknown status word forever ends in a step timeout" run_once
check "the log names step_timeout" log_has "step_timeout"
finish
