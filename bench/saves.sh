#!/usr/bin/env bash
# Benchmark 4 — the cost of saving: one successful promotion (4 KiB
# package, the mock answers IN_PROGRESS 3 times per operation) through
# `dev2prodd --once` under
#   strace -f -C -y -e trace=fsync,fdatasync,rename,write,pwrite64,writev
# RUNS times.  Reports per job: fsync, fdatasync and rename calls, bytes
# written to the job file, to the package and to the log, and checks that
# the job file is replaced exactly once per transition: a successful job has
# 9 (the first save of the new job, then export-poll, download, upload,
# dry-run, dry-run-poll, import, import-poll, succeeded); polls save nothing.
#   bench/saves.sh RUNS
. "$(dirname "$0")/lib.sh"
RUNS=${1:-3}
K1="dev-$RANDOM$RANDOM" K2="prod-$RANDOM$RANDOM"
mock_start --tenant "111:key=$K1" --tenant "222:key=$K2" --package-size 4096 --polls 3
STATE="$W/state" CFG="$W/saves.yaml"
daemon_config "$CFG" "$STATE" 1 100ms
cat >> "$CFG" <<YAML
tenants:
  dev: { url: "$MOCK_URL", tenant_id: "111", auth: { type: api_key, key_file: $(key_file dev "$K1") } }
  prod: { url: "$MOCK_URL", tenant_id: "222", auth: { type: api_key, key_file: $(key_file prod "$K2") } }
promotions:
  - { name: nightly, package: "54321", from: dev, to: prod, schedule: "0 3 1 1 *" }
YAML

fs=() fds=() rn=() jb=() pb=() lb=() ob=() jw=() polls=()
for ((run = 1; run <= RUNS; run++)); do
        rm -rf "$STATE"
        strace -f -C -y -e trace=fsync,fdatasync,rename,write,pwrite64,writev -o "$W/saves.trace" \
                "$D2P" --config "$CFG" --once nightly 2> "$W/saves.log" ||
                { tail -5 "$W/saves.log" >&2; die "the promotion failed"; }
        job=$(ls "$STATE"/jobs/*.json)
        [ "$(job_top "$job" state)" = succeeded ] || die "job not succeeded"
        # one line per call; "<path>" after each fd (strace -y)
        read -r f d r j p l o n < <(awk '
                /^[0-9]+ +fsync\(/ { f++ }
                /^[0-9]+ +fdatasync\(/ { d++ }
                /^[0-9]+ +rename\(/ && /, "[^"]*\/jobs\/[^"\/]*\.json"\) = 0$/ { r++ }
                /^[0-9]+ +(write|pwrite64|writev)\(/ {
                        b = $NF; if (b !~ /^[0-9]+$/) next
                        if ($0 ~ /\(([0-9]+)<[^>]*\/jobs\/\.#[^>]*\.json/) { j += b; n++ }
                        else if ($0 ~ /\(([0-9]+)<[^>]*\.pkg>/) p += b
                        else if ($0 ~ /\(2</) l += b
                        else o += b
                }
                END { print f + 0, d + 0, r + 0, j + 0, p + 0, l + 0, o + 0, n + 0 }' "$W/saves.trace")
        fs+=("$f") fds+=("$d") rn+=("$r") jb+=("$j") pb+=("$p") lb+=("$l") ob+=("$o") jw+=("$n")
        polls+=("$(grep -c '^request method=GET path=/rest/[0-9]*/dev2prod/' "$W/record")")
        : > "$W/record"
        say "saves run $run: $f fsync, $d fdatasync, $r renames of the job file, $n job-file writes of $j bytes" \
            "(the last $(stat -c %s "$job") bytes), package $p bytes, log $l bytes, other $o bytes"
done
sed -n '/% time/,$p' "$W/saves.trace" >&2

# The same promotion started by the daemon's scheduler (due an hour ago:
# catch-up): the scheduler saves the new job once before it runs, so a
# scheduled or `dev2prodctl run` job has one save more than a --once job.
now=$(date +%s)
printf '{"format": 1, "last_due": {"nightly": %d}}\n' $((now - 3600)) > "$W/schedule.json"
sed -i 's/schedule: "0 3 1 1 \*"/schedule: "0 * * * *", timezone: UTC/' "$CFG"
rm -rf "$STATE"; mkdir -p "$STATE"; cp "$W/schedule.json" "$STATE/"
strace -f -e trace=rename -o "$W/daemon.trace" "$D2P" --config "$CFG" 2> "$W/saves-daemon.log" &
S_PID=$!
wait_log "$W/saves-daemon.log" 'job succeeded' 1 60 || { tail -5 "$W/saves-daemon.log" >&2; die "the scheduled job did not succeed"; }
kill -TERM "$(pgrep -P "$S_PID")"; wait "$S_PID"
d_rn=$(grep -c ', "[^"]*/jobs/[^"/]*\.json") = 0$' "$W/daemon.trace")
say "daemon mode: $d_rn renames of the job file for one scheduled job"
result saves_daemon_renames "$d_rn"

result saves_fsync "$(median "${fs[@]}")"
result saves_fdatasync "$(median "${fds[@]}")"
result saves_renames "$(median "${rn[@]}")"
result saves_job_writes "$(median "${jw[@]}")"
result saves_job_bytes "$(median "${jb[@]}")"
result saves_package_bytes "$(median "${pb[@]}")"
result saves_log_bytes "$(median "${lb[@]}")"
result saves_other_bytes "$(median "${ob[@]}")"
result saves_polls "$(median "${polls[@]}")"
