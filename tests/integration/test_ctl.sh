#!/usr/bin/env bash
# dev2prodctl against real job files and a real daemon: the read commands
# (list, jobs, history, show, with and without --json) work from the state
# folder with no daemon and survive a corrupt job file; run/cancel talk to
# the daemon's control socket (run --wait follows a job to its end, a second
# run of a busy promotion is refused, cancel ends a running job as
# cancelled); exit codes 1/2/3 where the man page says so.
. "$(dirname "$0")/../lib.sh"

CTL="$BUILD/dev2prodctl"
[ -x "$CTL" ] || { echo "no $CTL: run make"; exit 1; }
DPID=
stop_daemon() {
        [ -n "$DPID" ] || return 0
        kill "$DPID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
        DPID=
}
# our daemon first, then whatever lib.sh cleans up (its own trap, when it has one)
LIB_TRAP=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT$/\1/")
trap 'stop_daemon; ${LIB_TRAP:-cleanup}' EXIT

# run_ctl NAME ARGS...: output in $T/NAME.out and $T/NAME.err, exit status in $RC
run_ctl() { local n=$1; shift; ctl "$@" > "$T/$n.out" 2> "$T/$n.err"; RC=$?; }
out_has() { grep -q -- "$2" "$T/$1.out"; }      # out_has NAME REGEX
err_has() { grep -q -- "$2" "$T/$1.err"; }
show_on_failure() { [ "$1" = 0 ] || { echo "--- $2.out"; cat "$T/$2.out"; echo "--- $2.err"; cat "$T/$2.err"; }; }
# four --json checks parse the output: without python3 they could not
# check anything, and the test would pass them unchecked
command -v python3 > /dev/null || skip "needs python3 (Debian package python3) to parse the --json output"
json_ok() {      # json_ok FILE: valid JSON
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"
}
# verdict DESCRIPTION: passes when the command list just before it succeeded
verdict() { if [ $? = 0 ]; then ok "$1"; else bad "$1"; fi; }
# wait_until SECONDS COMMAND...: polls every 100 ms
wait_until() {
        local n=$(($1 * 10)); shift
        for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
        return 1
}

mock_start --polls 2
write_config
echo "control_socket: $T/ctl.sock" >> "$CONFIG"

# ---- the command line itself ----------------------------------------------
expect_rc 0 "--help" "$CTL" --help > "$T/help.out"
check "--help names every command" grep -q 'history \[NAME\]' "$T/help.out"
expect_rc 0 "--version" "$CTL" --version > /dev/null
# one version: the Debian changelog's upstream part, in both programs
upstream=$(sed -n '1s/^dev2prodd (\([^)-]*\).*/\1/p' "$(dirname "$0")/../../debian/changelog")
check "dev2prodctl --version is the changelog's ($upstream)" test "$("$CTL" --version)" = "dev2prodctl $upstream"
check "dev2prodd --version is the changelog's" test "$("$D2P" --version)" = "dev2prodd $upstream"
expect_rc 2 "no command is a usage error" "$CTL" --config "$CONFIG" 2> /dev/null
expect_rc 2 "an unknown command is a usage error" ctl frobnicate 2> /dev/null
expect_rc 2 "show without a job is a usage error" ctl show 2> /dev/null
expect_rc 2 "--wait on anything but run is a usage error" ctl list --wait 2> /dev/null
expect_rc 2 "a job id with a slash is a usage error" ctl show ../../etc/passwd 2> /dev/null
printf 'state_directory: %s\nmax_parallel: many\n' "$STATE" > "$T/bad.yaml"
"$CTL" --config "$T/bad.yaml" list > /dev/null 2> "$T/badcfg.err"; rc=$?
check "a configuration error exits 2 (exit $rc)" [ "$rc" = 2 ]
check "a configuration error names file and key" grep -q "bad.yaml:2:.*max_parallel" "$T/badcfg.err"
expect_rc 2 "a missing configuration exits 2" "$CTL" --config "$T/nonexistent.yaml" list 2> /dev/null

# ---- read commands before any job --------------------------------------------
run_ctl list0 list
check "the configuration with control_socket: loads (list exit $RC)" [ "$RC" = 0 ]
show_on_failure "$RC" list0
check "list has the systemctl-like header" grep -q '^NEXT  *LEFT  *LAST  *RESULT  *PROMOTION  *ROUTE$' "$T/list0.out"
check "list shows nightly with a next due time and time left" \
        grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} [^ ]+ +([0-9]+(d|h|min|s)( [0-9]+(h|min|s))?) +- +- +nightly +dev -> prod$' "$T/list0.out"
check "list: the next run is at 02:30 local time (schedule 30 2 * * *)" grep -q ' 02:30 ' "$T/list0.out"
run_ctl jobs0 jobs
[ "$RC" = 0 ] && out_has jobs0 'No unfinished jobs'; verdict "jobs with no job: exit 0, says so"
run_ctl hist0 history --json
[ "$RC" = 0 ] && json_ok "$T/hist0.out" && test "$(tr -d ' \n' < "$T/hist0.out")" = "[]"; verdict "history --json with no job is an empty array"

# ---- after a one-shot run ------------------------------------------------------
expect_rc 0 "a one-shot promotion succeeds" run_once
JOB=$(job_get id)
IMPORT_ID=$(field import id)
check "the job has an id" test -n "$JOB"
run_ctl list1 list
check "list: RESULT succeeded for nightly after the run" grep -Eq ' succeeded +nightly +dev -> prod$' "$T/list1.out"
show_on_failure "$RC" list1
check "list: LAST is the job's start time" grep -Eq ' 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ +succeeded' "$T/list1.out"
run_ctl list1j list --json
json_ok "$T/list1j.out" && out_has list1j "\"id\": \"$JOB\"" && out_has list1j '"next_usec": [0-9]'; verdict "list --json parses and names the last job"

run_ctl hist1 history --json
[ "$RC" = 0 ] && json_ok "$T/hist1.out"; verdict "history --json: exit 0, parses"
out_has hist1 "\"id\": \"$JOB\"" && out_has hist1 '"state": "succeeded"'; verdict "history --json has the job id and succeeded"
out_has hist1 '"totals": {' && out_has hist1 '"modified": [0-9]'; verdict "history --json has the import totals"
run_ctl hist2 --json history nightly
[ "$RC" = 0 ] && out_has hist2 "\"id\": \"$JOB\""; verdict "options before the command: --json history nightly"
run_ctl hist3 history
check "history: a row for the job, succeeded, with totals" \
        grep -Eq "^$JOB +succeeded +- +20[0-9-]+ [0-9:]+ [^ ]+ +[0-9]+(ms|s|min)( [0-9]+(s|ms))? +added [0-9]+, modified [0-9]+" "$T/hist3.out"
show_on_failure "$RC" hist3
run_ctl hist4 history nosuchpromotion
check "history of an unknown promotion exits 1" [ "$RC" = 1 ]

run_ctl show1 show "$JOB"
check "show: exit 0" [ "$RC" = 0 ]
for step in export export-poll download upload dry-run dry-run-poll import import-poll; do
        check "show lists step $step with start, end, duration, attempts" \
                grep -Eq "^  $step +20[0-9-]+ [0-9:]+ [^ ]+ +20[0-9-]+ [0-9:]+ [^ ]+ +[0-9]+(ms|s|min)( [0-9]+(s|ms))? +[0-9]+$" "$T/show1.out"
done
test -n "$IMPORT_ID" && grep -q "^Import: .*$IMPORT_ID" "$T/show1.out"; verdict "show has the import id the mock gave"
check "show has the export id the mock gave" grep -q "^Export: .*$(field export id)" "$T/show1.out"
check "show has the uploaded file id" grep -q "target file id $(field upload file_id)" "$T/show1.out"
check "show has the package's sha256" grep -q "sha256: *$(field upload sha256)" "$T/show1.out"
grep -q '^State: *succeeded$' "$T/show1.out" && grep -q '^From: *dev (tenant 111 at http' "$T/show1.out"; verdict "show has state and tenants"
check "show has the dry-run and import totals" test "$(grep -c '^  totals: *added [0-9]*, modified' "$T/show1.out")" = 2
check "show has the export statistics" grep -q '^  statistics:' "$T/show1.out"
show_on_failure "$RC" show1
run_ctl show1j show "$JOB" --json
json_ok "$T/show1j.out" && out_has show1j "\"import_id\": \"$IMPORT_ID\"" && out_has show1j '"format": 1'; verdict "show --json is the job file's JSON"
run_ctl jobs1 jobs
[ "$RC" = 0 ] && out_has jobs1 'No unfinished jobs' && ! out_has jobs1 "$JOB"; verdict "jobs is empty after the success"
run_ctl show2 show nosuchjob
[ "$RC" = 1 ] && err_has show2 "no job 'nosuchjob'"; verdict "show of an unknown job exits 1 and says so (exit $RC)"

# ---- a corrupt job file is reported and skipped --------------------------------
echo 'garbage {' > "$STATE/jobs/broken.json"
run_ctl bad1 history
[ "$RC" = 0 ] && out_has bad1 "^$JOB "; verdict "history with a corrupt job file: exit 0, still lists the good job"
check "the corrupt job file is named on stderr" err_has bad1 'broken.json'
run_ctl bad2 list
[ "$RC" = 0 ] && out_has bad2 ' succeeded ' && err_has bad2 'broken.json'; verdict "list with a corrupt job file still shows succeeded"
run_ctl bad3 jobs --json
[ "$RC" = 0 ] && json_ok "$T/bad3.out"; verdict "jobs --json with a corrupt job file parses"
run_ctl bad4 show broken
[ "$RC" = 1 ] && err_has bad4 'not JSON'; verdict "show of the corrupt job exits 1 and says why"
rm -f "$STATE/jobs/broken.json"

# the server's words never bring a terminal escape sequence to the screen
sed 's/"message": "/"message": "\\u001b[2Jevil /; s/^    "id": ".*",$/    "id": "esc-job",/' \
        "$STATE/jobs/$JOB.json" > "$STATE/jobs/esc-job.json"
run_ctl esc show esc-job
[ "$RC" = 0 ] && out_has esc '^Message: *?\[2Jevil ' && ! grep -q $'\x1b' "$T/esc.out"; verdict "show prints control characters of a job file as '?'"
run_ctl esc2 history
[ "$RC" = 0 ] && ! grep -q $'\x1b' "$T/esc2.out" "$T/esc2.err"; verdict "history has no control character either"
rm -f "$STATE/jobs/esc-job.json"

# ---- no daemon -------------------------------------------------------------------
run_ctl nod1 run nightly
check "run with no daemon exits 3 (exit $RC)" [ "$RC" = 3 ]
check "run with no daemon says how to start it" err_has nod1 "dev2prodd is not running (cannot reach $T/ctl.sock): start it with systemctl start dev2prodd, or run the promotion in the foreground with dev2prodd --once nightly"
run_ctl nod2 cancel "$JOB"
check "cancel with no daemon exits 3" [ "$RC" = 3 ]
PATH=/nonexistent "$CTL" logs "$JOB" > /dev/null 2> "$T/logs.err"; rc=$?
[ "$rc" = 1 ] && grep -q journalctl "$T/logs.err"; verdict "logs without journalctl exits 1 and says so (exit $rc)"
expect_rc 2 "logs of an invalid job id is a usage error" "$CTL" logs 'a b' 2> /dev/null

# ---- with the daemon ---------------------------------------------------------------
"$D2P" --config "$CONFIG" 2>> "$T/daemon.log" &
DPID=$!
wait_until 10 test -S "$T/ctl.sock"
check "the daemon opened its control socket" test -S "$T/ctl.sock"
[ -S "$T/ctl.sock" ] || { tail -20 "$T/daemon.log"; finish; }

run_ctl wait1 run nightly --wait
check "run nightly --wait exits 0 (exit $RC)" [ "$RC" = 0 ]
show_on_failure "$RC" wait1
WJOB=$(head -1 "$T/wait1.out")
check "run --wait prints the job id first" test -n "$WJOB" -a "$WJOB" != "$JOB" -a -f "$STATE/jobs/$WJOB.json"
check "run --wait prints a line per step" \
        test "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}  (export|export-poll|download|upload|dry-run|dry-run-poll|import|import-poll) ' "$T/wait1.out")" = 8
check "run --wait ends with succeeded and the message" grep -q '^succeeded: imported package 54321 into tenant prod' "$T/wait1.out"

run_ctl twice1 run nightly; RC1=$RC
run_ctl twice2 run nightly
[ "$RC1" = 0 ] && grep -q '^nightly-' "$T/twice1.out"; verdict "the first run answers with a job id"
if [ "$RC" = 1 ]; then
        check "a second run while one is active is refused: still running" err_has twice2 'is still \(running\|queued\)'
else
        [ "$RC" = 0 ] && grep -q '^nightly-' "$T/twice2.out"; verdict "a second run answers (the first had finished)"
fi
no_unfinished() { ctl jobs 2> /dev/null | grep -q 'No unfinished jobs'; }
check "the jobs end" wait_until 20 no_unfinished

# a job slowed down by the mock (its dry-run status answers after 5 s)
mock_fault "dryrun_status:delay-5000:1"
run_ctl slow run nightly
SJOB=$(head -1 "$T/slow.out")
[ "$RC" = 0 ] && test -n "$SJOB"; verdict "a slow job started"
in_dry_run() { ctl show "$SJOB" 2> /dev/null | grep -q '^State: *dry-run-poll$'; }
check "the slow job reaches dry-run-poll" wait_until 15 in_dry_run
run_ctl jobs2 jobs
check "jobs lists the running job and its state" out_has jobs2 "^$SJOB  *nightly  *dry-run-poll "
run_ctl list2 list
check "list says running (dry-run-poll)" out_has list2 'running (dry-run-poll)'
run_ctl busy run nightly
[ "$RC" = 1 ] && err_has busy "still running"; verdict "run of the busy promotion: exit 1, still running (exit $RC)"
run_ctl cancel1 cancel "$SJOB"
[ "$RC" = 0 ] && out_has cancel1 "cancelled $SJOB"; verdict "cancel of the running job: exit 0 (exit $RC)"
show_on_failure "$RC" cancel1
is_cancelled() { ctl show "$SJOB" --json 2> /dev/null | grep -q '"state": "cancelled"'; }
check "the cancelled job ends cancelled" wait_until 10 is_cancelled
run_ctl hist5 history
check "history shows the job cancelled" out_has hist5 "^$SJOB  *cancelled  *cancelled "
run_ctl cancel2 cancel "$SJOB"
[ "$RC" = 1 ] && err_has cancel2 "$SJOB"; verdict "cancel of a finished job exits 1 (exit $RC)"
check "no import was sent for the cancelled job (one per succeeded job)" \
        test "$(count import)" = "$(grep -l '"state": "succeeded"' "$STATE"/jobs/*.json | wc -l)"

# a dry run with errors: run --wait reports the failure and exits 1
mock_fault "dryrun_status:errors:1"
run_ctl fail1 run nightly --wait
check "run --wait of a job that fails exits 1 (exit $RC)" [ "$RC" = 1 ]
check "run --wait prints the failure code" grep -q '^failed (dry-run-rejected): ' "$T/fail1.out"
FJOB=$(head -1 "$T/fail1.out")
run_ctl show3 show "$FJOB"
check "show of the rejected job lists the dry run's errors" grep -q '^    error: ' "$T/show3.out"
run_ctl list3 list
check "list: RESULT failed: dry-run-rejected" out_has list3 ' failed: dry-run-rejected '

stop_daemon
run_ctl nod3 run nightly
[ "$RC" = 3 ] && err_has nod3 'dev2prodd is not running'; verdict "run after the daemon stopped exits 3"
finish
