#!/usr/bin/env bash
# Notifications (notify:): a real program (exec:) and a real receiving HTTP
# server (webhook:) get one notification per event: succeeded,
# dry-run-rejected, failed; a receiver that is down at first gets it later
# (retried with backoff); a daemon killed (kill -9) while a webhook
# notification is pending delivers it after the restart, exactly once; the
# webhook URL is never in the log, the job files or the program's
# environment.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"
command -v python3 > /dev/null || skip "no python3"
RECV="$(cd "$(dirname "$0")/../tools" && pwd)/webhook-receiver.py"

mock_start --polls 1
write_config
sed -i "1i control_socket: $T/ctl.sock" "$CONFIG"
PORT=$(free_port)
TOKEN=tok$RANDOM$RANDOM$RANDOM
# the receiver answers its first POST with a 500 that echoes this path
printf 'http://127.0.0.1:%s/hook/%s/fail-once\n' "$PORT" "$TOKEN" > "$T/webhook.url"
chmod 600 "$T/webhook.url"
cat > "$T/prog.sh" <<SH
#!/bin/sh
# the notify program: its arguments, its real environment and its stdin
{ echo "--- args: \$*"; tr '\\0' '\\n' < /proc/\$\$/environ | sort; echo "stdin: \$(cat)"; } >> "$T/prog.out"
echo "note from the program" >&2
SH
chmod 755 "$T/prog.sh"
cat > "$T/hang.sh" <<SH
#!/bin/sh
echo started >> "$T/hang.out"
sleep 60
SH
chmod 755 "$T/hang.sh"
cat >> "$CONFIG" <<YAML
  - name: slow
    package: "54321"
    from: dev
    to: prod
    schedule: "@yearly"
    notify: { events: [succeeded], exec: [$T/hang.sh], exec_timeout: 1s }
notify:
  exec: [$T/prog.sh, --severity, high]
  exec_timeout: 10s
  webhook: { url_file: $T/webhook.url }
YAML
RPID=
recv_start() { python3 "$RECV" "$PORT" "$T/recv.log" > /dev/null 2>&1 & RPID=$!; sleep 0.3; }
recv_stop() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; RPID=; }
trap 'recv_stop; _lib_cleanup_daemon' EXIT
# fu_status ID KIND: the status of the job's follow-up of that kind (its last one)
fu_status() {
        python3 -c 'import json,sys; print([f for f in json.load(open(sys.argv[1])).get("followups", []) if f["kind"] == sys.argv[2]][-1]["status"])' \
                "$STATE/jobs/$1.json" "$2" 2>/dev/null
}
# wait_fu ID KIND STATUS [SECONDS]
wait_fu() { for _ in $(seq $(( ${4:-20} * 10 ))); do [ "$(fu_status "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done; return 1; }
run_job() { "$CTL" --config "$CONFIG" run nightly --wait > "$T/run.out" 2>&1; grep -o 'nightly-[0-9TZ-]*' "$T/run.out" | head -1; }

export DEV2PRODD_LOG_LEVEL=debug    # curl's own account too: the URL must not be in it
check "daemon starts" daemon_start

echo "# succeeded, the receiver down at first"
id1=$(run_job)
check "the job succeeded" test "$(job_state_of "$id1")" = succeeded
check "the program ran for the event" wait_for "$T/prog.out" "DEV2PROD_EVENT=succeeded"
check "its arguments are the argv list" grep -q -- "--- args: --severity high" "$T/prog.out"
check "its environment names the job" grep -q "^DEV2PROD_JOB=$id1\$" "$T/prog.out"
check "its environment has the delivery id" grep -q "^DEV2PROD_DELIVERY=$id1/succeeded\$" "$T/prog.out"
check "its stdin is the JSON summary" grep -q "^stdin: {\"delivery\":\"$id1/succeeded\",\"event\":\"succeeded\",\"job\":\"$id1\"" "$T/prog.out"
check "its stderr is logged" wait_for "$T/daemon.log" "notify program stderr: note from the program"
check "the webhook failure is logged with a retry" wait_for "$T/daemon.log" "webhook notification of event succeeded failed (attempt 1)"
check "the job file keeps the pending follow-up" grep -q '"followups_pending": 1' "$STATE/jobs/$id1.json"
recv_start
check "the receiver gets it once it is up" wait_for "$T/recv.log" "^$id1/succeeded " 40
check "the body is the summary" grep -q "^$id1/succeeded /hook/$TOKEN/fail-once {\"delivery\":\"$id1/succeeded\"" "$T/recv.log"
check "its 500 before that was logged by status only" grep -q "webhook notification of event succeeded failed (attempt [0-9]*): HTTP 500;" "$T/daemon.log"
check "the webhook follow-up is saved as done" wait_fu "$id1" webhook done
check "the marker is gone" sh -c "! grep -q followups_pending '$STATE/jobs/$id1.json'"

echo "# dry-run-rejected"
mock_fault "dryrun_status:errors:1"
id2=$(run_job)
check "the receiver gets dry-run-rejected" wait_for "$T/recv.log" "^$id2/dry-run-rejected " 30
check "with the failure code" grep -q "^$id2/dry-run-rejected .*\"failure\":\"dry-run-rejected\"" "$T/recv.log"
check "the program got it too" wait_for "$T/prog.out" "DEV2PROD_DELIVERY=$id2/dry-run-rejected"

echo "# failed"
mock_fault "export:403:1"
id3=$(run_job)
check "the receiver gets failed" wait_for "$T/recv.log" "^$id3/failed " 30
check "the program got DEV2PROD_FAILURE" wait_for "$T/prog.out" "DEV2PROD_FAILURE=$(job_state_of "$id3" > /dev/null; sed -n 's/^    "failure": "\(.*\)",$/\1/p' "$STATE/jobs/$id3.json")"

echo "# kill -9 while a notification is pending"
recv_stop
id4=$(run_job)
check "the job succeeded" test "$(job_state_of "$id4")" = succeeded
check "the webhook attempt failed" wait_for "$T/daemon.log" "webhook notification of event succeeded failed" 20
check "the program ran (once)" wait_for "$T/prog.out" "DEV2PROD_DELIVERY=$id4/succeeded"
check "its delivery is saved as done" wait_fu "$id4" exec done
kill -KILL "$D_PID"; wait "$D_PID" 2>/dev/null; D_PID=
check "the job file says pending" grep -q '"followups_pending": 1' "$STATE/jobs/$id4.json"
recv_start
check "restart" daemon_start
check "delivered after the restart" wait_for "$T/recv.log" "^$id4/succeeded " 30
sleep 3
daemon_stop

echo "# exactly one per event"
check "each delivery id once" test -z "$(cut -d' ' -f1 "$T/recv.log" | sort | uniq -d)"
check "four notifications in all (raw count)" test "$(wc -l < "$T/recv.log")" = 4
check "the program ran once for the killed daemon's job" test "$(grep -c "^DEV2PROD_DELIVERY=$id4/succeeded\$" "$T/prog.out")" = 1
check "the program ran once per event" test "$(grep -c '^--- args' "$T/prog.out")" = 4

echo "# a program that hangs: killed at exec_timeout, the loop goes on"
check "start" daemon_start
"$CTL" --config "$CONFIG" run slow --wait > /dev/null 2>&1
check "the program started" wait_for "$T/hang.out" started
check "SIGTERM after exec_timeout" wait_for "$T/daemon.log" "still runs after exec_timeout: SIGTERM" 10
check "the attempt counts as failed, tried again later" \
        wait_for "$T/daemon.log" "exec notification of event succeeded failed (attempt 1): the program did not finish within exec_timeout" 15
check "jobs run meanwhile" sh -c "'$CTL' --config '$CONFIG' run nightly --wait > /dev/null"
daemon_stop
sleep 0.5
check "no program left behind after the stop" sh -c "! pgrep -f '$T/[h]ang.sh' > /dev/null"
check "the promotion's notify: replaced the top level: no webhook for it" sh -c "! grep -q '^slow-' '$T/recv.log'"

echo "# the webhook URL is a secret"
check "not in the log" sh -c "! grep -q '$TOKEN' '$T/daemon.log'"
check "not in the job files" sh -c "! grep -rq '$TOKEN' '$STATE'"
check "not in the program's environment" sh -c "! grep -q '$TOKEN' '$T/prog.out'"
check "the log names the webhook by origin only" grep -q "to http://127.0.0.1:$PORT\$" "$T/daemon.log"
finish
