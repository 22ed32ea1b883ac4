#!/usr/bin/env bash
# Retention (history_keep:, README "Configuration", dev2prodd.yaml(5)): the
# real daemon with history_keep: 1d removes finished job files that ended
# more than a day ago, 100 per run (the first run 20 s after READY=1, the
# next batch 10 s later while more are due), with their leftover package,
# and logs one line per batch; it keeps unfinished jobs, files it cannot
# read, the newest job of each promotion and jobs that ended recently,
# whatever their age.  dev2prodctl history says how far back it reaches.
# About 35 s.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"

mock_start --polls 1
write_config
sed -i "1i history_keep: 1d" "$CONFIG"

echo "# a real job, the template of the old ones"
expect_rc 0 "a one-shot promotion succeeds" run_once
J0=$(job_get id)
TEMPLATE="$STATE/jobs/$J0.json"
check "the job file is there" test -f "$TEMPLATE"

NOW=$(date +%s)
DAY=86400
stamp() { date -u -d "@$1" +%Y%m%dT%H%M%SZ; }
# fake PROMOTION START END STATE: a job file made from the real one, as if
# the job had started at START and ended at END (seconds); prints its id
fake() {
        local id="$1-$(stamp "$2")" fin="s/^    \"finished_usec\": [0-9]*/    \"finished_usec\": ${3}000000/"
        [ "$3" = 0 ] && fin='/^    "finished_usec": /d'    # unfinished: no end
        sed -e "s/^    \"id\": \"[^\"]*\"/    \"id\": \"$id\"/" \
            -e "s/^    \"promotion\": \"[^\"]*\"/    \"promotion\": \"$1\"/" \
            -e "s/^    \"state\": \"[^\"]*\"/    \"state\": \"$4\"/" \
            -e "s/^    \"created_usec\": [0-9]*/    \"created_usec\": ${2}000000/" \
            -e "s/^    \"updated_usec\": [0-9]*/    \"updated_usec\": $(( ${3} ? ${3} : ${2} ))000000/" \
            -e "$fin" \
            "$TEMPLATE" > "$T/history/$id.json"
        echo "$id"
}
mkdir -p "$T/history"

echo "# start, then an old history appears (files written after start: an unfinished one is not resumed)"
check "daemon reports READY=1" daemon_start
check "the start-up scan of the job folder (after READY=1) is over" wait_for "$T/daemon.log" "for unfinished jobs after start-up" 30
OLD=()
for k in $(seq 0 149); do
        t=$((NOW - 10 * DAY - k * 60))
        OLD+=("$(fake nightly $t $((t + 30)) succeeded)")
done
OLD+=("$(fake nightly $((NOW - 9 * DAY)) $((NOW - 9 * DAY + 5)) failed)")
printf 'PK' > "$T/history/${OLD[0]}.pkg"
LONG=$(fake nightly $((NOW - 3 * DAY)) $((NOW - DAY / 2)) succeeded)        # ended 12 h ago
UNFINISHED=$(fake nightly $((NOW - 5 * DAY)) 0 export)
BAD="nightly-$(stamp $((NOW - 6 * DAY)))"
printf '{\n    "format": 1,\n    "id": ' > "$T/history/$BAD.json"
OTHER=$(fake weekly $((NOW - 20 * DAY)) $((NOW - 20 * DAY + 9)) succeeded)  # the only job of weekly
# made aside and moved in at once: the first batch, 20 s after READY=1,
# finds the whole history however slowly a loaded machine wrote it
mv "$T/history/"* "$STATE/jobs/"
check "151 old + 5 job files before the first run" test "$(ls "$STATE"/jobs/*.json | wc -l)" = 156

sleep 5
check "nothing is removed in the first seconds after start" test -f "$STATE/jobs/${OLD[0]}.json"

echo "# the first run: one batch of 100"
check "the first batch is logged" wait_for "$T/daemon.log" "removed 100 finished job file(s) older than 1d; oldest kept now .*; more at the next run" 30
n=$(ls "$STATE"/jobs/*.json | wc -l)
check "after the first batch: 100 fewer files ($n left)" test "$n" = 56

echo "# the next batch 10 s later"
check "the rest is removed, logged" wait_for "$T/daemon.log" "removed 51 finished job file(s) older than 1d; oldest kept now $(date -u -d "@$((NOW - 20 * DAY))" +%Y-%m-%dT%H:%M:%SZ)\$" 20
left=0
for id in "${OLD[@]}"; do [ -e "$STATE/jobs/$id.json" ] && left=$((left + 1)); done
check "every old finished job file is gone ($left left)" [ "$left" = 0 ]
check "with its leftover package" test ! -e "$STATE/jobs/${OLD[0]}.pkg"
check "the recent job is kept" test -f "$STATE/jobs/$J0.json"
check "a job that ended 12 h ago is kept, though it started 3 days ago" test -f "$STATE/jobs/$LONG.json"
check "an old unfinished job is kept" test -f "$STATE/jobs/$UNFINISHED.json"
check "an old file that cannot be read is kept" test -f "$STATE/jobs/$BAD.json"
check "... and logged" log_has "history_keep: 1 job file(s) older than 1d cannot be read and are kept"
check "the only job of another promotion is kept, though old" test -f "$STATE/jobs/$OTHER.json"
check "5 job files left" test "$(ls "$STATE"/jobs/*.json | wc -l)" = 5
check "the daemon still runs" kill -0 "$D_PID"

echo "# dev2prodctl history"
"$CTL" --config "$CONFIG" history > "$T/hist.out" 2> "$T/hist.err"; rc=$?
check "history exits 0 ($rc)" [ "$rc" = 0 ]
check "history says how far back it reaches" \
        grep -Eq "^History reaches back to $(date -d "@$((NOW - 20 * DAY))" +%Y-%m-%d) [0-9:]+ [^ ]+ \(history_keep: 1d\)\.$" "$T/hist.out"
"$CTL" --config "$CONFIG" history nightly > "$T/hist2.out" 2> /dev/null
check "history NAME: from that promotion's oldest job" \
        grep -Eq "^History reaches back to $(date -d "@$((NOW - 5 * DAY))" +%Y-%m-%d) .*\(history_keep: 1d\)\.$" "$T/hist2.out"
"$CTL" --config "$CONFIG" --json history > "$T/hist.json" 2> /dev/null
check "not in --json" bash -c "! grep -q 'reaches' '$T/hist.json'"
if command -v python3 > /dev/null; then
        check "--json is still only the array" python3 -c 'import json, sys; assert isinstance(json.load(open(sys.argv[1])), list)' "$T/hist.json"
fi
sed -i "s/^history_keep: 1d/history_keep: forever/" "$CONFIG"
"$CTL" --config "$CONFIG" history > "$T/hist3.out" 2> /dev/null
check "history_keep: forever is said so" grep -q "(history_keep: forever)\.$" "$T/hist3.out"

check "SIGTERM: clean exit" daemon_stop
finish
