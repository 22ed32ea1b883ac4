#!/usr/bin/env bash
# metrics_file (issue 11 part 3): the real daemon writes the Prometheus
# text format; Debian's real prometheus-node-exporter serves it from its
# textfile collector on a port of its own (never the system's 9100), curl
# scrapes it, and promtool (package prometheus) finds nothing to say about
# the scrape; the shipped alert rules pass `promtool check rules` and
# `promtool test rules` shows that they fire when they should.  Also: the
# gauges move while jobs run and wait, the last success survives a
# restart while the counters start again, a reload drops a removed
# promotion, and a folder that cannot be written fails no job and is
# logged once.  --once writes the file at its end.
. "$(dirname "$0")/../lib.sh"
NODE_EXPORTER=$(command -v prometheus-node-exporter || true)
PROMTOOL=$(command -v promtool || true)
[ -n "$NODE_EXPORTER" ] || skip "prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)"
[ -n "$PROMTOOL" ] || skip "promtool is not installed (apt-get install prometheus)"
[ -x "$CTL" ] || skip "no dev2prodctl"
RULES=$(cd "$(dirname "$0")/../.." && pwd)/config/dev2prodd-alerts.yml
TEXTDIR="$T/textfile"
PROM="$TEXTDIR/dev2prodd.prom"
NE_PID=

ne_cleanup() { [ -n "$NE_PID" ] && kill "$NE_PID" 2>/dev/null; _lib_cleanup_daemon; }
trap ne_cleanup EXIT

# value SERIES [FILE]: the value of the series written exactly so (name{labels})
value() { awk -v s="$1" '$1 == s { print $2; f = 1 } END { exit !f }' "${2:-$PROM}"; }
# seconds_of_usec USEC: as the file writes it (millisecond precision)
seconds_of_usec() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }
# finished ID: the job's finished_usec
finished() { sed -n 's/^    "finished_usec": \([0-9]*\),$/\1/p' "$STATE/jobs/$1.json"; }
wait_value() {  # SERIES VALUE [SECONDS]
        local n=$(( ${3:-20} * 10 ))
        for _ in $(seq "$n"); do [ "$(value "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
        echo "$1 is '$(value "$1" 2>/dev/null)', not '$2'"; return 1
}
absent() { ! grep -q "$@"; }
# same_number A B: equal as numbers (node_exporter writes 1.796225840501e+09)
same_number() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0 && a != "") }'; }
run_wait() { "$CTL" --config "$CONFIG" run "$1" --wait > /dev/null; }

mock_start --polls 1 --package-size 10000
write_config
mkdir -p "$TEXTDIR"
sed -i "1i control_socket: $T/ctl.sock\nmax_parallel: 1\nmetrics_file: $PROM" "$CONFIG"
add_promotion second 777

echo "# a configuration error names the key"
cp "$CONFIG" "$T/bad.yaml"
sed -i "s|^metrics_file: .*|metrics_file: $TEXTDIR/dev2prodd.txt|" "$T/bad.yaml"
out=$("$D2P" --config "$T/bad.yaml" --check-config 2>&1)
check "a name not ending in .prom is refused with FILE:LINE:COLUMN: metrics_file:" \
        grep -q "$T/bad.yaml:[0-9]*:[0-9]*: metrics_file: .*\.prom" <<< "$out"

echo "# at start"
check "daemon reports READY=1" daemon_start
# (written from the loop, after READY=1, at most once a second: wait for it)
check "the file is there at start" wait_value dev2prodd_jobs_running 0
check "build info" test "$(value 'dev2prodd_build_info{version="'"$("$D2P" --version | cut -d' ' -f2)"'"}')" = 1
start1=$(value dev2prodd_start_time_seconds)
check "start time is now" test "${start1%.*}" -ge $(($(date +%s) - 60))
check "nothing runs" test "$(value dev2prodd_jobs_running)/$(value dev2prodd_jobs_queued)" = 0/0
check "both promotions are first seen now" test -n "$(value 'dev2prodd_promotion_first_seen_timestamp_seconds{promotion="second"}')"
check "no last success yet" absent -q '^dev2prodd_last_success_timestamp_seconds{' "$PROM"
check "the watched results start at 0" \
        test "$(value 'dev2prodd_jobs_ended_total{promotion="nightly",result="import-outcome-unknown"}')" = 0
check "the file is readable by node_exporter's user (0644)" test "$(stat -c %a "$PROM")" = 644

echo "# jobs that succeed and fail"
run_wait nightly
mock_fault "dryrun_status:errors:1"
run_wait nightly
mock_fault "import:drop-after:1"
run_wait nightly
# (ids sort oddly: nightly-...Z-2 before nightly-...Z; the files say which is which)
ok_id=$(basename "$(grep -l '"state": "succeeded"' "$STATE"/jobs/nightly-*.json)" .json)
bad_id=$(basename "$(grep -l '"failure": "import-outcome-unknown"' "$STATE"/jobs/nightly-*.json)" .json)
wait_value 'dev2prodd_jobs_ended_total{promotion="nightly",result="import-outcome-unknown"}' 1 > /dev/null
check "succeeded counted" test "$(value 'dev2prodd_jobs_ended_total{promotion="nightly",result="succeeded"}')" = 1
check "dry-run-rejected counted" test "$(value 'dev2prodd_jobs_ended_total{promotion="nightly",result="dry-run-rejected"}')" = 1
check "import-outcome-unknown counted" \
        test "$(value 'dev2prodd_jobs_ended_total{promotion="nightly",result="import-outcome-unknown"}')" = 1
last_ok=$(seconds_of_usec "$(finished "$ok_id")")
check "last success is the succeeded job's end ($last_ok)" \
        test "$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}')" = "$last_ok"
check "last failure is the last failed job's end" \
        test "$(value 'dev2prodd_last_failure_timestamp_seconds{promotion="nightly"}')" = "$(seconds_of_usec "$(finished "$bad_id")")"
check "a last duration" grep -q '^dev2prodd_last_duration_seconds{promotion="nightly"} [0-9]*\.[0-9]\{3\}$' "$PROM"
check "bytes moved: three downloads and three uploads of 10000 bytes" \
        test "$(value 'dev2prodd_moved_bytes_total{promotion="nightly"}')" = 60000
check "no temp file left next to it" test "$(ls -A "$TEXTDIR")" = dev2prodd.prom

echo "# running and queued (max_parallel: 1)"
# the first job's dry-run poll hangs until it is cancelled: the second
# waits for the slot as long as the test needs, whatever the machine's speed
mock_fault "dryrun_status:hang:1"
hung=$("$CTL" --config "$CONFIG" run nightly | grep -o 'nightly-[0-9TZ-]*' | head -1)
"$CTL" --config "$CONFIG" run second > /dev/null
one_queued() { wait_value dev2prodd_jobs_queued 1 && test "$(value dev2prodd_jobs_running)" = 1; }
both_ended() {
        wait_value 'dev2prodd_jobs_ended_total{promotion="second",result="succeeded"}' 1 30 &&
                wait_value dev2prodd_jobs_running 0 && test "$(value dev2prodd_jobs_queued)" = 0
}
check "one running, one queued" one_queued
"$CTL" --config "$CONFIG" cancel "$hung" > /dev/null
check "the cancelled job is counted" wait_value 'dev2prodd_jobs_ended_total{promotion="nightly",result="cancelled"}' 1
check "both end: nothing runs" both_ended

echo "# queued for the target tenant (max_parallel: 2, both into prod)"
sed -i 's/^max_parallel: 1$/max_parallel: 2/' "$CONFIG"
kill -HUP "$D_PID"
wait_for "$T/daemon.log" "configuration reloaded" > /dev/null
mock_fault "dryrun_status:hang:1"
hung=$("$CTL" --config "$CONFIG" run nightly | grep -o 'nightly-[0-9TZ-]*' | head -1)
wait_for "$RECORD" "fault=hang" > /dev/null
"$CTL" --config "$CONFIG" run second > /dev/null
check "the second job waits for tenant prod" wait_for "$T/daemon.log" "waiting: another job is dry-running or importing into tenant prod"
check "one running, one queued" one_queued
"$CTL" --config "$CONFIG" cancel "$hung" > /dev/null
check "then it runs and ends" wait_value 'dev2prodd_jobs_ended_total{promotion="second",result="succeeded"}' 2 30

echo "# node_exporter serves it"
port=$(free_port)
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
        --collector.textfile.directory="$TEXTDIR" > "$T/node_exporter.log" 2>&1 &
NE_PID=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/metrics" > "$T/scrape" 2>/dev/null && break; sleep 0.1; done
check "node_exporter answers on 127.0.0.1:$port" test -s "$T/scrape"
check "the collector read the file without error" test "$(value node_textfile_scrape_error "$T/scrape")" = 0
for s in dev2prodd_build_info dev2prodd_start_time_seconds dev2prodd_jobs_running dev2prodd_jobs_queued \
         dev2prodd_promotion_first_seen_timestamp_seconds dev2prodd_last_success_timestamp_seconds \
         dev2prodd_last_failure_timestamp_seconds dev2prodd_last_duration_seconds dev2prodd_jobs_ended_total \
         dev2prodd_moved_bytes_total; do
        check "scrape has $s" grep -q "^$s[{ ]" "$T/scrape"
done
check "scrape: jobs ended by result" test "$(grep -c '^dev2prodd_jobs_ended_total{' "$T/scrape")" -ge 5
last_ok=$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}')
check "scrape: the last success as written" \
        same_number "$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}' "$T/scrape")" "$last_ok"
out=$("$PROMTOOL" check metrics < "$T/scrape" 2>&1); rc=$?
check "promtool check metrics has nothing to say about the scrape" test "$rc/$out" = 0/
[ -n "$out" ] && echo "$out"
out=$("$PROMTOOL" check metrics < "$PROM" 2>&1); rc=$?
check "promtool check metrics has nothing to say about the file" test "$rc/$out" = 0/

echo "# the shipped alert rules"
check "promtool check rules passes" "$PROMTOOL" check rules "$RULES"
cat > "$T/rules-test.yml" <<YAML
rule_files: [ $RULES ]
evaluation_interval: 1m
tests:
  - interval: 1h
    input_series:
      # succeeded at 0h, never since
      - series: 'dev2prodd_last_success_timestamp_seconds{promotion="late"}'
        values: '0x30'
      - series: 'dev2prodd_promotion_first_seen_timestamp_seconds{promotion="late"}'
        values: '0x30'
      # succeeds every day
      - series: 'dev2prodd_last_success_timestamp_seconds{promotion="daily"}'
        values: '0x23 82800x24'
      - series: 'dev2prodd_promotion_first_seen_timestamp_seconds{promotion="daily"}'
        values: '0x47'
      # never succeeded, configured at 0h
      - series: 'dev2prodd_promotion_first_seen_timestamp_seconds{promotion="new"}'
        values: '0x30'
      - series: 'dev2prodd_jobs_ended_total{promotion="daily",result="import-outcome-unknown"}'
        values: '0 0 1 1 1 0 0 0'
    alert_rule_test:
      - eval_time: 25h
        alertname: Dev2ProdPromotionNoSuccess
        exp_alerts: []
      - eval_time: 27h
        alertname: Dev2ProdPromotionNoSuccess
        exp_alerts:
$(for p in late new; do cat <<ALERT
          - exp_labels: { severity: warning, promotion: $p }
            exp_annotations:
              summary: "dev2prodd promotion $p has not succeeded for 26 hours"
              description: "No job of promotion $p on  has succeeded for 1d 3h 0m 0s.  See \`dev2prodctl list\` and \`dev2prodctl show\` for its last jobs and \`journalctl -u dev2prodd\` for why they failed."
ALERT
done)
      - eval_time: 2h
        alertname: Dev2ProdImportOutcomeUnknown
        exp_alerts:
          - exp_labels: { severity: critical, promotion: daily, result: import-outcome-unknown }
            exp_annotations:
              summary: "dev2prodd promotion daily: an import's outcome is unknown"
              description: "A job of promotion daily on  sent its import and lost the answer.  Check the target tenant's import history, then record what happened (see dev2prodd(8), \\"Failures and retries\\"); do not simply run the promotion again."
      - eval_time: 4h
        alertname: Dev2ProdImportOutcomeUnknown
        exp_alerts: []
YAML
out=$("$PROMTOOL" test rules "$T/rules-test.yml" 2>&1)
check "promtool test rules: no success for 26 h fires (also for one that never succeeded), outcome unknown fires" \
        grep -q SUCCESS <<< "$out" || echo "$out"

echo "# a restart keeps the last success, counters start again"
daemon_stop
check "restart: READY=1" daemon_start
new_start() { for _ in $(seq 50); do [ "$(value dev2prodd_start_time_seconds)" != "$start1" ] && return 0; sleep 0.1; done; return 1; }
check "the restarted daemon writes the file" new_start
check "the last success survived the restart" \
        test "$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}')" = "$last_ok"
check "the last failure survived" grep -q '^dev2prodd_last_failure_timestamp_seconds{promotion="nightly"} ' "$PROM"
check "counters start at 0 again" \
        test "$(value 'dev2prodd_jobs_ended_total{promotion="nightly",result="succeeded"}')" = 0
curl -fsS "http://127.0.0.1:$port/metrics" > "$T/scrape2"
check "node_exporter serves the new file" \
        test "$(value dev2prodd_start_time_seconds "$T/scrape2")" != "$(value dev2prodd_start_time_seconds "$T/scrape")"

echo "# a reload drops a removed promotion, keeps the others"
sed -i '/^  - name: second$/,$d' "$CONFIG"
kill -HUP "$D_PID"
check "the reload is taken" wait_for "$T/daemon.log" "configuration reloaded"
for _ in $(seq 50); do grep -q 'promotion="second"' "$PROM" || break; sleep 0.1; done
check "second's series are gone" absent -q 'promotion="second"' "$PROM"
check "nightly keeps its last success" \
        test "$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}')" = "$last_ok"

echo "# a folder that cannot be written fails no job"
rm -rf "$TEXTDIR"
expect_rc 0 "a job succeeds while the metrics folder is gone" run_wait nightly
expect_rc 0 "and another" run_wait nightly
check "the failed write is logged" wait_for "$T/daemon.log" "cannot create a temp file next to $PROM"
check "and only once" test "$(grep -c "cannot create a temp file next to $PROM" "$T/daemon.log")" = 1
mkdir "$TEXTDIR"
expect_rc 0 "a job after the folder is back" run_wait nightly
check "that it works again is logged" wait_for "$T/daemon.log" "$PROM written again"
check "it holds the three jobs since the restart" \
        wait_value 'dev2prodd_jobs_ended_total{promotion="nightly",result="succeeded"}' 3

echo "# a reload that moves metrics_file removes the old file (node_exporter would serve it stale)"
reload_to() {   # reload_to FILE: metrics_file set to FILE, the reload taken
        local n; n=$(grep -c "configuration reloaded" "$T/daemon.log")
        sed -i "s|^metrics_file: .*|metrics_file: $1|" "$CONFIG"
        kill -HUP "$D_PID"
        for _ in $(seq 100); do [ "$(grep -c "configuration reloaded" "$T/daemon.log")" -gt "$n" ] && return 0; sleep 0.1; done
        return 1
}
MOVED="$TEXTDIR/moved.prom"
check "reload with metrics_file moved" reload_to "$MOVED"
check "the new file is written" wait_for "$MOVED" dev2prodd_start_time_seconds
check "the old one is gone" test ! -e "$PROM"
check "the removal is logged" wait_for "$T/daemon.log" "metrics_file moved to $MOVED: removed the old $PROM"
check "reload with it moved back" reload_to "$PROM"
check "written there again" wait_for "$PROM" dev2prodd_start_time_seconds
check "and the other one is gone" test ! -e "$MOVED"

daemon_stop

echo "# --once writes it too, as a daemon that lived for one job"
before=$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}')
expect_rc 0 "dev2prodd --once nightly" run_once nightly
once_id=$(basename "$(ls -t "$STATE"/jobs/nightly-*.json | head -1)" .json)
check "its success is the last success" test "$(value 'dev2prodd_last_success_timestamp_seconds{promotion="nightly"}')" = \
        "$(seconds_of_usec "$(finished "$once_id")")" -a "$before" != "$(seconds_of_usec "$(finished "$once_id")")"
check "its one ending counted" test "$(value 'dev2prodd_jobs_ended_total{promotion="nightly",result="succeeded"}')" = 1
check "nothing running after it" test "$(value dev2prodd_jobs_running)" = 0
finish
