#!/usr/bin/env bash
# Daemon mode: READY=1 and STATUS= on a notification socket the test owns,
# dev2prodctl run --wait through the control socket, a reload with a broken
# file keeps the old configuration, SIGTERM in the middle of a job and a
# restart completes it without repeating a saved step, and catch-up of a
# due time missed while the daemon was down (after 30 days down: one job
# that records how many due times it folds).
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"

mock_start --polls 1
write_config
sed -i "1i control_socket: $T/ctl.sock" "$CONFIG"   # first: promotions are appended below

echo "# start"
check "daemon reports READY=1" daemon_start
check "STATUS= names the next run" grep -q '^STATUS=0 running; next: nightly at ' "$T/notify.log"
check "the control socket is mode 0660" test "$(stat -c %a "$T/ctl.sock")" = 660

echo "# dev2prodctl run --wait"
expect_rc 0 "dev2prodctl run nightly --wait" "$CTL" --config "$CONFIG" run nightly --wait
check_promoted

echo "# a reload with a broken file keeps the old configuration"
cp "$CONFIG" "$T/good.yaml"
printf 'promotions:\n  - name: x\n    shedule: "* * * * *"\n' >> "$CONFIG"
r0=$(grep -c '^RELOADING=1' "$T/notify.log")
kill -HUP "$D_PID"
check "the errors are logged with file:line:column" wait_for "$T/daemon.log" "$CONFIG:[0-9]*:[0-9]*: "
check "the reload is refused, old configuration kept" wait_for "$T/daemon.log" "reload refused"
check "RELOADING=1 then READY=1 sent" test "$(grep -c '^RELOADING=1' "$T/notify.log")" -gt "$r0"
check "the daemon is still running" kill -0 "$D_PID"
# (dev2prodctl reads the configuration too: give it the good copy)
expect_rc 0 "the old promotion still runs after the refused reload" "$CTL" --config "$T/good.yaml" run nightly --wait

echo "# a good reload"
cp "$T/good.yaml" "$CONFIG"
cat >> "$CONFIG" <<YAML
  - name: second
    package: "777"
    from: dev
    to: prod
    schedule: "@daily"
YAML
kill -HUP "$D_PID"
check "the new configuration is taken" wait_for "$T/daemon.log" "configuration reloaded"
expect_rc 0 "the promotion added by the reload runs" "$CTL" --config "$CONFIG" run second --wait

echo "# SIGTERM in the middle of a job, then a restart"
mock_fault "dryrun_status:delay-2000:1"
id=$("$CTL" --config "$CONFIG" run nightly | grep -o 'nightly-[0-9TZ-]*' | head -1)
check "the run request returns the job id" test -n "$id"
check "the job reaches the dry-run poll" wait_state "$id" dry-run-poll 20
dry0=$(count dryrun) imp0=$(count import) exp0=$(count export)
s=$SECONDS
daemon_stop; rc=$?
check "SIGTERM: exit status 0" test "$rc" = 0
check "SIGTERM: stopped within a few seconds" test $((SECONDS - s)) -le 5
check "STOPPING=1 sent" grep -q '^STOPPING=1' "$T/notify.log"
check "the job's state is kept (dry-run-poll)" test "$(job_state_of "$id")" = dry-run-poll
check "restart: READY=1" daemon_start
check "the resumed job succeeds" wait_state "$id" succeeded 30
check "no dry run or export sent again (their ids were saved)" test "$(count dryrun)/$(count export)" = "$dry0/$exp0"
check "one import for the resumed job" test "$(count import)" = $((imp0 + 1))
daemon_stop

echo "# catch-up of a due time missed while the daemon was down"
now=$(date +%s)
# last handled due time two hours ago: the hourly promotion missed a run
printf '{"format": 1, "last_due": {"nightly": %d, "hourly": %d}}\n' "$now" $((now - 7200)) > "$STATE/schedule.json"
cat >> "$CONFIG" <<YAML
  - name: hourly
    package: "888"
    from: dev
    to: prod
    schedule: "0 * * * *"
    timezone: UTC
YAML
exp0=$(count export)
check "restart: READY=1" daemon_start
due=$(date -u -d "@$(( now / 3600 * 3600 ))" +%Y%m%dT%H%M%SZ)
check "the missed run is caught up once, with an id from its due time" wait_state "hourly-$due" succeeded 30
check "the catch-up is logged" log_has "catching up on the run"
daemon_stop
check "a restart does not run the same due time again" daemon_start
sleep 1
check "still one job of hourly" test "$(ls "$STATE"/jobs/hourly-*.json | wc -l)" = 1
daemon_stop

echo "# catch-up after 30 days down: one job, standing for every missed due time"
rm -f "$STATE"/jobs/hourly-*.json
now=$(date +%s)
printf '{"format": 1, "last_due": {"nightly": %d, "hourly": %d}}\n' "$now" $((now - 30 * 86400)) > "$STATE/schedule.json"
due=$(date -u -d "@$(( now / 3600 * 3600 ))" +%Y%m%dT%H%M%SZ)
check "restart after 30 days down: READY=1" daemon_start
check "the catch-up job succeeds" wait_state "hourly-$due" succeeded 30
check "exactly one job of hourly" test "$(ls "$STATE"/jobs/hourly-*.json | wc -l)" = 1
check "its file records the 720 due times it stands for" grep -q '^    "folded_due_times": 720$' "$STATE/jobs/hourly-$due.json"
check "the log says how many were folded" log_has "720 due times missed while the daemon was down, folded into one catch-up job"
check "dev2prodctl show says it" sh -c '"$1" --config "$2" show "$3" | grep -q "Catch-up: *of 720 due time"' _ "$CTL" "$CONFIG" "hourly-$due"
check "schedule.json lists no queued job once it has its file" sh -c '! grep -q queued "$1"' _ "$STATE/schedule.json"
daemon_stop

echo "# schedule.json from before that run (a backup put back): its job file exists, it does not run twice"
# (the daemon looks for the file after READY=1, when the job folder has been read)
exp1=$(count export)
printf '{"format": 1, "last_due": {"nightly": %d, "hourly": %d}}\n' "$now" $((now - 7200)) > "$STATE/schedule.json"
check "restart: READY=1" daemon_start
check "the job of that due time is found" wait_for "$T/daemon.log" "hourly: the job for this due time exists already (hourly-$due)"
sleep 1
check "no export sent for it" test "$(count export)" = "$exp1"
check "still exactly one job of hourly" test "$(ls "$STATE"/jobs/hourly-*.json | wc -l)" = 1
daemon_stop

sed -i 's/    timezone: UTC/    timezone: UTC\n    catch_up: false/' "$CONFIG"
printf '{"format": 1, "last_due": {"nightly": %d, "hourly": %d, "second": %d}}\n' "$now" $((now - 7200)) "$now" > "$STATE/schedule.json"
rm -f "$STATE"/jobs/hourly-*.json
check "restart with catch_up: false" daemon_start
check "the missed run is skipped with a log line" wait_for "$T/daemon.log" "catch_up: false"
check "no job for it" test -z "$(ls "$STATE"/jobs/hourly-*.json 2>/dev/null)"
daemon_stop
finish
