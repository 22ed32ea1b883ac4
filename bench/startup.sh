#!/usr/bin/env bash
# Benchmark 5 — start-up with work waiting (issue 14): the time from exec to
# READY=1 (bench/notify-stamp on NOTIFY_SOCKET, as bench/idle.sh) of a
# daemon restarted when work has piled up, each case beside an idle start of
# the same configuration measured in the same run, start for start (idle,
# case, idle, case...), RUNS times each:
#   due1000     1,000 hourly promotions over 10 tenants, schedule.json an
#               hour old: all 1,000 are due at once (max_parallel 16);
#               reference: the same, schedule.json at the current hour
#   minutely30d / minutely365d
#               100 minutely promotions, schedule.json 30 / 365 days old
#               (catch_up on: each is due); reference: the same at the
#               current minute
#   history100k the 1,000 promotions idle, with STARTUP_HISTORY (100,000)
#               finished job files in jobs/ (page cache warm: they were just
#               written); reference: the same without them
# Each start gets a fresh copy of its state folder; the daemon is killed
# (SIGKILL) once READY=1 has come, so only start-up is measured.  The goal
# is READY=1 within 1.5x of the reference.
#   bench/startup.sh RUNS    (STARTUP_CASES="due1000 ..." for some of them)
. "$(dirname "$0")/lib.sh"
RUNS=${1:-3}
NP=${STARTUP_PROMOTIONS:-1000}
NM=${STARTUP_MINUTELY:-100}
H=${STARTUP_HISTORY:-100000}
NT=10
[ -x "$STAMP" ] || die "no $STAMP: run make bench"

tenant_args=()
for ((t = 0; t < NT; t++)); do
        key_file "t$t" "key-$((1000 + t))-$RANDOM$RANDOM" > /dev/null
        tenant_args+=(--tenant "$((1000 + t)):key=$(cat "$W/t$t.key")")
done
# the jobs started after READY=1 talk to it until the daemon is killed
mock_start "${tenant_args[@]}" --polls 50 --package-size 4096

# config FILE N SCHEDULE PREFIX
config() {
        daemon_config "$1" "$W/state" 16 10s
        {
                tenants_yaml "$NT"
                echo "promotions:"
                awk -v n="$2" -v nt="$NT" -v s="$3" -v pre="$4" 'BEGIN { for (i = 0; i < n; i++)
                        printf "  - { name: %s%05d, package: \"%d\", from: t%d, to: t%d, schedule: \"%s\", timezone: UTC }\n",
                                pre, i, 100000 + i, i % nt, (i + 1) % nt, s }'
        } >> "$1"
}
# schedule DIR N PREFIX LAST_DUE: a schedule.json
schedule() {
        mkdir -p "$1/jobs"
        awk -v n="$2" -v pre="$3" -v t="$4" 'BEGIN { printf "{\"format\": 1, \"last_due\": {";
                for (i = 0; i < n; i++) printf "%s\"%s%05d\": %d", i ? ", " : "", pre, i, t; print "}}" }' > "$1/schedule.json"
}

config "$W/hourly.yaml" "$NP" "0 * * * *" p
config "$W/minutely.yaml" "$NM" "* * * * *" m

"$STAMP" "$W/notify.sock" >> "$W/notify.log" &
NS_PID=$!
for _ in $(seq 100); do [ -S "$W/notify.sock" ] && break; sleep 0.05; done

# keep clear of the next minute (hour) while a reference starts: a due time
# passing would make it a catch-up
clear_of() {
        local s=$(( $(date +%s) % $1 ))
        [ "$s" -le $(($1 - 8)) ] || sleep $(($1 - s + 1))
}

# start TEMPLATE_DIR CONFIG: copies the state, prints ms from exec to READY=1
# (a template with a jobs/ folder of many files is moved in and back)
start() {
        local many=
        [ -d "$1/jobs" ] && [ "$(find "$1/jobs" -maxdepth 1 -name '*.json' | head -2 | wc -l)" = 2 ] && many=1
        rm -rf "$W/state"
        if [ -n "$many" ]; then mv "$1" "$W/state"; else cp -a "$1" "$W/state"; fi
        start_stamped "$2" "$W/startup-daemon.log"
        ready_ms "$1" > "$W/ready"
        kill -KILL "$D_PID"; wait "$D_PID" 2>/dev/null; D_PID=
        [ -n "$many" ] && mv "$W/state" "$1"
        cat "$W/ready"
}

# case NAME CONFIG REF_DIR CASE_DIR PERIOD(60|3600) [PREP_CMD]: RUNS pairs
run_case() {
        local name=$1 cfg=$2 ref=$3 cas=$4 period=$5 r c refs=() cases=()
        for ((run = 1; run <= RUNS; run++)); do
                [ -n "${6:-}" ] && $6
                clear_of "$period"
                r=$(start "$ref" "$cfg")
                [ -n "${6:-}" ] && $6
                c=$(start "$cas" "$cfg")
                [ -n "$r" ] && [ -n "$c" ] || die "$name run $run: no READY=1"
                refs+=("$r") cases+=("$c")
                say "$name run $run: idle reference READY=1 after $r ms, $name after $c ms"
        done
        result "startup_${name}_ref_ms" "$(median "${refs[@]}")"
        result "startup_${name}_ms" "$(median "${cases[@]}")"
        local ratios=() i
        for i in "${!refs[@]}"; do ratios+=("$(awk -v a="${cases[$i]}" -v b="${refs[$i]}" 'BEGIN { printf "%.2f", a / b }')"); done
        result "startup_${name}_ratio" "$(median "${ratios[@]}")"
}

# the hourly cases: last_due this hour (reference) and an hour before
prep_hourly() {
        local h=$(( $(date +%s) / 3600 * 3600 ))
        schedule "$W/t-ref1000" "$NP" p "$h"
        schedule "$W/t-due1000" "$NP" p $((h - 3600))
}
prep_minutely() {
        local m=$(( $(date +%s) / 60 * 60 ))
        schedule "$W/t-ref100" "$NM" m "$m"
        schedule "$W/t-30d" "$NM" m $((m - 30 * 86400))
        schedule "$W/t-365d" "$NM" m $((m - 365 * 86400))
}

CASES=${STARTUP_CASES:-due1000 minutely30d minutely365d history100k}
has() { [[ " $CASES " == *" $1 "* ]]; }
has due1000 && run_case due1000 "$W/hourly.yaml" "$W/t-ref1000" "$W/t-due1000" 3600 prep_hourly
has minutely30d && run_case minutely30d "$W/minutely.yaml" "$W/t-ref100" "$W/t-30d" 60 prep_minutely
has minutely365d && run_case minutely365d "$W/minutely.yaml" "$W/t-ref100" "$W/t-365d" 60 prep_minutely

if [ "$H" -gt 0 ] && has history100k; then
        # a finished job file, made by --once, copied H times (ids renamed)
        prep_hourly
        rm -rf "$W/state"; cp -a "$W/t-ref1000" "$W/state"
        "$MOCK" --record "$W/record2" --port 0 --port-file "$W/port2" "${tenant_args[@]}" --polls 0 --package-size 4096 > "$W/mock2.out" 2>&1 &
        m2=$!
        for _ in $(seq 200); do [ -s "$W/port2" ] && break; sleep 0.05; done
        sed "s|$MOCK_URL|http://127.0.0.1:$(cat "$W/port2")|" "$W/hourly.yaml" > "$W/once.yaml"
        "$D2P" --config "$W/once.yaml" --once p00000 2>> "$W/startup-daemon.log" || die "the history template job failed"
        kill "$m2"; wait "$m2" 2>/dev/null
        rm -rf "$W/t-hist"; mkdir -p "$W/t-hist"; mv "$W/state/jobs" "$W/t-hist/jobs"
        tpl=$(ls "$W/t-hist"/jobs/*.json)
        fake_history "$tpl" "$H" "$NP" p "$W/t-hist/jobs"
        rm -f "$tpl"
        say "history: $(ls "$W/t-hist/jobs" | wc -l) finished job files of $(du -sh "$W/t-hist/jobs" | cut -f1)"
        prep_hist() { prep_hourly; cp "$W/t-ref1000/schedule.json" "$W/t-hist/schedule.json"; }
        run_case history100k "$W/hourly.yaml" "$W/t-ref1000" "$W/t-hist" 3600 prep_hist
        result startup_history_files "$H"
        rm -rf "$W/t-hist"
fi
mock_stop
result startup_promotions "$NP"
result startup_minutely "$NM"
