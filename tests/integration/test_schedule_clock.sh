#!/usr/bin/env bash
# A last handled due time in the future in schedule.json (issue 9, case F:
# the clock was set back, or the file came from elsewhere).  It used to
# silence the promotion without a word while `dev2prodctl list` showed it
# due within a minute.  Now the daemon logs it (file, promotion, both
# times), counts from now, and does what `list` says: with a minutely
# schedule the job of the next due time `list` shows runs within ~70 s.
# (Clock steps while the daemon runs are covered by tests/unit/test_scheduler.c:
# a test must not step the machine's clock.)
. "$(dirname "$0")/../lib.sh"
export TZ=UTC     # the daemon's STATUS=, dev2prodctl and date(1) in one zone
[ -x "$CTL" ] || skip "no dev2prodctl"

mock_start --polls 1
write_config
sed -i "1i control_socket: $T/ctl.sock" "$CONFIG"
sed -i 's/^    schedule: .*/    schedule: "* * * * *"\n    timezone: UTC/' "$CONFIG"
# a second promotion, daily, also with a future last_due: it must not run now
cat >> "$CONFIG" <<YAML
  - name: daily
    package: "777"
    from: dev
    to: prod
    schedule: "30 2 * * *"
    timezone: UTC
YAML

# not in the last seconds of a minute: `list` and the daemon must look at
# the same next minute
while [ $(( $(date +%s) % 60 )) -gt 50 ]; do sleep 1; done
now=$(date +%s)
future=$((now + 3 * 86400 + 120))       # 3 days ahead: would silence both for 3 days
mkdir -p "$STATE"
printf '{"format": 1, "last_due": {"nightly": %d, "daily": %d}}\n' "$future" "$future" > "$STATE/schedule.json"
future_iso=$(date -u -d "@$future" +%Y-%m-%dT%H:%M:%SZ)

check "daemon reports READY=1" daemon_start
echo "# the warning"
check "a future last_due is logged, naming the file" grep -q "$STATE/schedule.json: promotion nightly: .*later than now" "$T/daemon.log"
check "the warning gives the saved time ($future_iso)" grep -q "promotion nightly: its last handled due time $future_iso is later than now" "$T/daemon.log"
check "the warning gives now" grep -q "promotion nightly: .*later than now ($(date -u -d "@$now" +%Y-%m-%dT%H:%M)" "$T/daemon.log"
check "the other promotion is named too" grep -q "promotion daily: its last handled due time $future_iso" "$T/daemon.log"

echo "# dev2prodctl list and the daemon agree"
"$CTL" --config "$CONFIG" --json list > "$T/list.json"
# one promotion per object; next_usec in microseconds
next=$(tr -d ' \n' < "$T/list.json" | sed -n 's/.*"promotion":"nightly"[^}]*"next_usec":\([0-9]*\)[0-9]\{6\}.*/\1/p')
echo "# list: nightly next at $(date -u -d "@$next" +%FT%TZ)"
check "list shows nightly due within a minute" test "$next" -gt "$now" -a "$next" -le $((now + 60))
status_next=$(grep '^STATUS=' "$T/notify.log" | tail -1 | sed -n 's/.*next: nightly at \(.*\)$/\1/p')
check "STATUS= says the daemon's next run is nightly at that minute (STATUS: '$status_next')" \
        test "$(date -d "$status_next" +%s 2> /dev/null)" = "$(( next / 60 * 60 ))"
id="nightly-$(date -u -d "@$next" +%Y%m%dT%H%M%SZ)"
echo "# waiting for job $id (up to $((next - $(date +%s) + 15)) s)"
check "the job of the due time list showed runs and succeeds ($id)" wait_state "$id" succeeded $((next - $(date +%s) + 15))
check "it was started by the schedule, on time" log_has "nightly: run due at "
check "the daily promotion did not run (neither silenced nor fired spuriously)" \
        test -z "$(ls "$STATE"/jobs/daily-*.json 2> /dev/null)"
saved=$(tr -d ' \n' < "$STATE/schedule.json" | sed -n 's/.*"nightly":\([0-9]*\).*/\1/p')
check "schedule.json now holds the due time handled ($saved = $next)" test "$saved" = "$next"
saved_daily=$(tr -d ' \n' < "$STATE/schedule.json" | sed -n 's/.*"daily":\([0-9]*\).*/\1/p')
check "the daily promotion's future last_due was replaced by a time not after now" test "${saved_daily:-0}" -le "$(date +%s)"

echo "# a restart does not warn again"
daemon_stop
w0=$(grep -c 'later than now' "$T/daemon.log")
check "restart: READY=1" daemon_start
sleep 1
check "no new warning" test "$(grep -c 'later than now' "$T/daemon.log")" = "$w0"
daemon_stop
finish
