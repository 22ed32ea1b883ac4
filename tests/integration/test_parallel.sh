#!/usr/bin/env bash
# Daemon mode with several promotions at once: max_parallel bounds the
# running jobs, and jobs into the same target tenant never overlap in their
# dry-run and import steps, while other steps run in parallel.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"

mock_start --polls 3 --package-size 20000
write_config "  poll_interval: 100ms"
sed -i "1i control_socket: $T/ctl.sock\nmax_parallel: 3" "$CONFIG"
for i in 1 2 3 4; do
        cat >> "$CONFIG" <<YAML
  - name: p$i
    package: "10$i"
    from: dev
    to: prod
    schedule: "@daily"
YAML
done
check "daemon started" daemon_start
ids=()
for i in 1 2 3 4; do
        ids+=("$("$CTL" --config "$CONFIG" run "p$i" | grep -o "p$i-[0-9TZ-]*")")
done
for id in "${ids[@]}"; do check "$id succeeds" wait_state "$id" succeeded 60; done
daemon_stop

# [start, end] of a step range of a job, in µs, from its file
span() {  # ID FIRST-STEP LAST-STEP
        local f="$STATE/jobs/$1.json"
        local s e
        s=$(sed -n "/^        \"$2\": {/,/}/s/.*\"started_usec\": \([0-9]*\).*/\1/p" "$f")
        e=$(sed -n "/^        \"$3\": {/,/}/s/.*\"finished_usec\": \([0-9]*\).*/\1/p" "$f")
        echo "$s $e"
}
overlaps=0 parallel=0
for a in "${ids[@]}"; do for b in "${ids[@]}"; do
        [ "$a" \< "$b" ] || continue
        read -r as ae <<< "$(span "$a" dry-run import-poll)"
        read -r bs be <<< "$(span "$b" dry-run import-poll)"
        [ "$as" -lt "$be" ] && [ "$bs" -lt "$ae" ] && overlaps=$((overlaps + 1))
        read -r as ae <<< "$(span "$a" export import-poll)"
        read -r bs be <<< "$(span "$b" export import-poll)"
        [ "$as" -lt "$be" ] && [ "$bs" -lt "$ae" ] && parallel=$((parallel + 1))
done; done
check "no two jobs into prod overlap in dry run or import" test "$overlaps" = 0
check "jobs did run in parallel otherwise" test "$parallel" -gt 0
check "a job waited for the target and said so" log_has "waiting: another job is dry-running or importing into tenant prod"

# max_parallel: at no job's start were more than 3 others running
maxrun=0
for a in "${ids[@]}"; do
        read -r as _ <<< "$(span "$a" export import-poll)"
        n=0
        for b in "${ids[@]}"; do
                read -r bs be <<< "$(span "$b" export import-poll)"
                [ "$bs" -le "$as" ] && [ "$as" -lt "$be" ] && n=$((n + 1))
        done
        [ "$n" -gt "$maxrun" ] && maxrun=$n
done
check "never more than max_parallel (3) jobs at once (saw $maxrun)" test "$maxrun" -le 3 -a "$maxrun" -ge 2
finish
