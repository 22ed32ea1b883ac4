#!/usr/bin/env bash
# Chained promotions (after:): dev -> uat -> prod (-> audit) run in order,
# each started by its upstream's success; a failing middle step stops the
# chain and its failure notification lists what did not run; a daemon
# killed before or after creating the downstream job (the two crash
# windows, made exactly by editing the saved files, then a real kill -9)
# makes exactly one downstream job per upstream success.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"
command -v python3 > /dev/null || skip "no python3"
RECV="$(cd "$(dirname "$0")/../tools" && pwd)/webhook-receiver.py"
KEY_UAT=uat-key-$RANDOM$RANDOM

mock_start --polls 1 --tenant "333:key=$KEY_UAT"
write_config
printf '%s' "$KEY_UAT" > "$T/uat.key"; chmod 600 "$T/uat.key"
PORT=$(free_port)
printf 'http://127.0.0.1:%s/hook\n' "$PORT" > "$T/webhook.url"; chmod 600 "$T/webhook.url"
# the promotions of write_config replaced by the chain
sed -i '/^promotions:/,$d' "$CONFIG"
sed -i "1i control_socket: $T/ctl.sock" "$CONFIG"
sed -i "/^tenants:/a\\  uat:\\n    url: $MOCK_URL\\n    tenant_id: \"333\"\\n    auth: { type: api_key, key_file: $T/uat.key }" "$CONFIG"
cat >> "$CONFIG" <<YAML
promotions:
  - name: to-uat
    package: "54321"
    from: dev
    to: uat
    schedule: "30 2 * * *"
  - name: to-prod
    package: "54321"
    from: uat
    to: prod
    after: to-uat
  - name: audit
    package: "54321"
    from: uat
    to: prod
    after: to-prod
    mode: dry-run
notify:
  events: [failed]
  webhook: { url_file: $T/webhook.url }
YAML
python3 "$RECV" "$PORT" "$T/recv.log" > /dev/null 2>&1 & RPID=$!
trap 'kill $RPID 2>/dev/null; _lib_cleanup_daemon' EXIT

# down_of ID: the job files made by ID's success
down_of() { grep -l "^    \"triggered_by\": \"$1\"," "$STATE"/jobs/*.json 2>/dev/null | xargs -r -n1 basename | sed 's/\.json$//'; }
wait_down() { for _ in $(seq 300); do [ -n "$(down_of "$1")" ] && { down_of "$1"; return 0; }; sleep 0.1; done; return 1; }
run_up() { "$CTL" --config "$CONFIG" run to-uat --wait > "$T/run.out" 2>&1; grep -o 'to-uat-[0-9TZ-]*' "$T/run.out" | head -1; }
started() { sed -n 's/^    "created_usec": \([0-9]*\),$/\1/p' "$STATE/jobs/$1.json"; }
ended() { sed -n 's/^    "finished_usec": \([0-9]*\),$/\1/p' "$STATE/jobs/$1.json"; }

check "daemon starts" daemon_start
check "list shows 'after to-uat' for to-prod" sh -c "'$CTL' --config '$CONFIG' list | grep -q 'after to-uat .*to-prod'"

echo "# the chain runs in order"
u1=$(run_up)
check "to-uat succeeded" test "$(job_state_of "$u1")" = succeeded
p1=$(wait_down "$u1")
check "one to-prod job triggered by it" test "$(echo "$p1" | wc -w)" = 1
check "to-prod succeeds" wait_state "$p1" succeeded 30
a1=$(wait_down "$p1")
check "audit triggered by to-prod" test -n "$a1"
check "audit succeeds" wait_state "$a1" succeeded 30
check "to-prod started after to-uat ended" test "$(started "$p1")" -ge "$(ended "$u1")"
check "audit started after to-prod ended" test "$(started "$a1")" -ge "$(ended "$p1")"
check "audit ended the chain (nothing after it)" test -z "$(down_of "$a1")"
"$CTL" --config "$CONFIG" show "$u1" > "$T/show-up.out" 2>&1
"$CTL" --config "$CONFIG" show "$p1" > "$T/show-down.out" 2>&1
check "show: the upstream's chain follow-up names the job it made, done" \
        grep -Eq "^  chain +succeeded +done +[0-9]+ +promotion to-prod, job $p1\$" "$T/show-up.out"
check "show: the chained job names its upstream" grep -q "^Triggered by: *$u1 " "$T/show-down.out"

echo "# a failing middle step stops the chain"
printf 'wrong-key' > "$T/prod.key"
kill -HUP "$D_PID"
check "reloaded" wait_for "$T/daemon.log" "configuration reloaded"
u2=$(run_up)
check "to-uat succeeded again" test "$(job_state_of "$u2")" = succeeded
p2=$(wait_down "$u2")
check "to-prod fails (its target's key is wrong now)" wait_state "$p2" failed 30
check "the chain stop is logged" wait_for "$T/daemon.log" "the chain stops here: $p2 did not succeed, so audit"
check "the failure notification lists what did not run" wait_for "$T/recv.log" "^$p2/failed .*\"chain_stopped\":\[\"audit\"\]" 20
sleep 1
check "no audit job after the failure" test -z "$(down_of "$p2")"
printf '%s' "$KEY_PROD" > "$T/prod.key"
kill -HUP "$D_PID"
sleep 1
daemon_stop

echo "# crash windows, made exactly: the follow-up pending, the downstream job made or not"
# set_pending ID: the chain follow-up of ID back to pending, with the marker
set_pending() {
        python3 - "$STATE/jobs/$1.json" <<'PY'
import json, sys
p = sys.argv[1]
j = json.load(open(p))
for f in j["followups"]:
    if f["kind"] == "chain":
        f["status"] = "pending"
out = {"format": j.pop("format"), "followups_pending": 1}
out.update(j)
open(p, "w").write(json.dumps(out, indent=4) + "\n")
PY
}
n_before=$(ls "$STATE"/jobs/to-prod-*.json | wc -l)
set_pending "$u1"             # after the downstream job was made: it exists
check "restart" daemon_start
check "the follow-up is done again" wait_for "$STATE/jobs/$u1.json" '"status": "done"'
sleep 1
check "no second to-prod job for $u1" test "$(down_of "$u1" | wc -w)" = 1
daemon_stop
set_pending "$u1"             # before it was made: its file is not there
rm "$STATE/jobs/$p1.json"
check "restart" daemon_start
check "to-prod job made again, same id" wait_state "$p1" succeeded 30
check "exactly one to-prod job for $u1" test "$(down_of "$u1" | wc -w)" = 1
check "to-prod job count unchanged" test "$(ls "$STATE"/jobs/to-prod-*.json | wc -l)" = "$n_before"

echo "# a real kill -9 right after the upstream's success"
"$CTL" --config "$CONFIG" run to-uat > "$T/run.out" 2>&1
u3=$(grep -o 'to-uat-[0-9TZ-]*' "$T/run.out" | head -1)
wait_state "$u3" succeeded 30 > /dev/null
kill -KILL "$D_PID"; wait "$D_PID" 2>/dev/null; D_PID=
check "restart after kill -9" daemon_start
p3=$(wait_down "$u3")
check "one to-prod job for the upstream success" test "$(echo "$p3" | wc -w)" = 1
check "it succeeds" wait_state "$p3" succeeded 30
sleep 1
check "still exactly one" test "$(down_of "$u3" | wc -w)" = 1

echo "# a chained job waits for its promotion's active job, and is made when that one ends"
sed -i 's/^    mode: dry-run$/    approval: required/' "$CONFIG"   # audit's job now stays active until an answer
n_reloads=$(grep -c "configuration reloaded" "$T/daemon.log")
reloaded_again() { for _ in $(seq 100); do [ "$(grep -c "configuration reloaded" "$T/daemon.log")" -gt "$n_reloads" ] && return 0; sleep 0.1; done; return 1; }
kill -HUP "$D_PID"
check "reloaded" reloaded_again
"$CTL" --config "$CONFIG" run audit > "$T/run.out" 2>&1
a4=$(grep -o 'audit-[0-9TZ-]*' "$T/run.out" | head -1)
check "an audit job is active (awaiting approval)" wait_state "$a4" awaiting-approval 30
"$CTL" --config "$CONFIG" run to-prod --wait > "$T/run.out" 2>&1
p4=$(grep -o 'to-prod-[0-9TZ-]*' "$T/run.out" | head -1)
check "to-prod succeeded" test "$(job_state_of "$p4")" = succeeded
check "the chained job's wait is logged" wait_for "$T/daemon.log" "$p4 succeeded: chained job .* of audit waits until"
sleep 3
check "no audit job for $p4 while $a4 is active" test -z "$(down_of "$p4")"
check "the wait is logged once (no polling)" test "$(grep -c "$p4 succeeded: chained job .* of audit waits" "$T/daemon.log")" = 1
check "reject $a4" "$CTL" --config "$CONFIG" reject "$a4"
a5=$(wait_down "$p4")
check "the chained audit job is made once $a4 has ended" test -n "$a5"
check "it was made after $a4 ended" test "$(started "$a5")" -ge "$(ended "$a4")"
check "it waits for approval in turn" wait_state "$a5" awaiting-approval 30
check "approve $a5" "$CTL" --config "$CONFIG" approve "$a5"
check "it succeeds" wait_state "$a5" succeeded 30
daemon_stop
finish
