#!/usr/bin/env bash
# Benchmark 2 — many promotions: MANY_PROMOTIONS (1,000) promotions over 100
# tenants, all due at once (a yearly schedule whose due time this year was
# missed: the catch-up starts them all), against a mock that answers
# IN_PROGRESS 3 times per operation, 4 KiB packages, poll_interval 100ms.
# One daemon process does them all with max_parallel MANY_PARALLEL (16);
# then bench/reference-promote.sh does the same promotions under
# `xargs -P MANY_PARALLEL`.  Reports CPU per promotion of both, the daemon's
# peak RSS and threads, and the most jobs seen overlapping (from the job

#   bench/many.sh [daemon|reference|both]
. "$(dirname "$0")/lib.sh"
WHAT=${1:-both}
N=${MANY_PROMOTIONS:-1000}
NT=${MANY_TENANTS:-100}
P=${MANY_PARALLEL:-16}
POLLS=${MANY_POLLS:-3}
SIZE=${MANY_SIZE:-4096}
KEY=${MANY_KEY:-many_daemon}    # the RESULT keys' prefix (run.sh names the yardstick's runs apart)

tenant_args=()
for ((t = 0; t < NT; t++)); do
        key_file "t$t" "key-$((1000 + t))-$RANDOM$RANDOM" > /dev/null
        tenant_args+=(--tenant "$((1000 + t)):key=$(cat "$W/t$t.key")")
done
# promotion i goes from tenant i mod NT to another one; each tenant is the
# target of N/NT promotions.  Prints "i from to" lines.
pairs() { awk -v n="$1" -v nt="$NT" 'BEGIN { for (i = 0; i < n; i++) print i, i % nt, (i % nt + 1 + int(i / nt) % (nt - 1)) % nt }'; }

# job_times STATE_DIR: "export-started finished state" of each job file
job_times() {
        awk 'FNR == 1 { if (f) print s, e, st; f = 1; s = e = 0; st = "" }
             /^        "export": {/ { inexp = 1 }
             inexp && /"started_usec"/ { v = $2; gsub(/,/, "", v); s = v; inexp = 0 }
             /^    "finished_usec"/ { v = $2; gsub(/,/, "", v); e = v }
             /^    "state"/ { v = $2; gsub(/[",]/, "", v); st = v }
             END { if (f) print s, e, st }' "$1"/jobs/*.json
}

run_daemon() {
        local state="$W/state" cfg="$W/many.yaml" threads=1 th start_us end ok
        rm -rf "$state" "$W/t0"; mkdir -p "$state"
        mock_start "${tenant_args[@]}" --polls "$POLLS" --package-size "$SIZE"
        daemon_config "$cfg" "$state" "$P" 100ms
        {
                tenants_yaml "$NT"
                echo "promotions:"
                pairs "$N" | awk '{ printf "  - { name: p%04d, package: \"%d\", from: t%d, to: t%d, schedule: \"0 0 1 1 *\", timezone: UTC }\n", $1, 50000 + $1, $2, $3 }'
        } >> "$cfg"
        # every promotion last ran the day before this year's due time
        # (1 January, 00:00 UTC): all are due at once (catch-up), and none
        # comes due again during the run (an hourly schedule did, when a
        # run crossed the top of the hour: 1,000 more jobs)
        local jan1; jan1=$(date -u -d "$(date -u +%Y)-01-01 00:00:00" +%s)
        awk -v n="$N" -v t=$((jan1 - 86400)) 'BEGIN { printf "{\"format\": 1, \"last_due\": {";
                for (i = 0; i < n; i++) printf "%s\"p%04d\": %d", i ? ", " : "", i, t; print "}}" }' > "$state/schedule.json"

        if [ -z "$NS_PID" ] && [ -x "$STAMP" ]; then
                "$STAMP" "$W/notify.sock" >> "$W/notify.log" &
                NS_PID=$!
                for _ in $(seq 100); do [ -S "$W/notify.sock" ] && break; sleep 0.05; done
        fi
        : > "$W/notify.log"
        sync
        (
                [ -S "$W/notify.sock" ] && export NOTIFY_SOCKET="$W/notify.sock"
                t=$EPOCHREALTIME; echo "${t/./}" > "$W/t0"
                exec ${BENCH_WRAP:-} "$D2P" --config "$cfg" 2> "$W/many-daemon.log"
        ) &
        D_PID=$!
        for _ in $(seq 100); do [ -s "$W/t0" ] && break; sleep 0.01; done
        start_us=$(cat "$W/t0")
        ${BENCH_ATTACH:+eval "$BENCH_ATTACH"}
        end=$((SECONDS + 900))
        while :; do
                th=$(proc_status "$D_PID" Threads 2>/dev/null); [ -n "$th" ] && [ "$th" -gt "$threads" ] && threads=$th
                ok=$(grep -c 'job succeeded' "$W/many-daemon.log" || true)
                [ "$ok" -ge "$N" ] && break
                grep -q 'job failed' "$W/many-daemon.log" && { grep 'job failed' "$W/many-daemon.log" | head -3 >&2; die "a promotion failed"; }
                kill -0 "$D_PID" 2>/dev/null || { tail "$W/many-daemon.log" >&2; die "the daemon exited"; }
                [ $SECONDS -ge $end ] && die "only $ok of $N promotions succeeded in 900 s"
                sleep 0.2
        done
        local cpu hwm
        cpu=$(proc_cpu_usec "$D_PID"); hwm=$(proc_status "$D_PID" VmHWM)
        kill -TERM "$D_PID"; wait "$D_PID"; D_PID=
        # the daemon says at its stop how many folder fsyncs its saves
        # shared (commit.c); none of that line: one fsync per save
        local saves batches
        read -r saves batches < <(sed -n 's/.*group commit: \([0-9]*\) job saves shared \([0-9]*\) fsyncs.*/\1 \2/p' "$W/many-daemon.log")
        if [ -n "${saves:-}" ]; then
                say "daemon: $saves job saves shared $batches folder fsyncs"
                result "${KEY}"_dir_fsyncs_per_save "$(awk -v s="$saves" -v b="$batches" 'BEGIN { printf "%.3f", b / s }')"
        fi
        ${BENCH_DETACH:+eval "$BENCH_DETACH"}
        mock_stop

        # most jobs running at once: a sweep over [export started, finished]
        local stats
        stats=$(job_times "$state" | awk -v t0="$start_us" '
                $3 == "succeeded" { ok++ }
                { print $1, 1 > "/dev/stderr"; print $2, -1 > "/dev/stderr"
                  if (!first || $1 < first) first = $1; if ($2 > last) last = $2 }
                END { printf "%d %d %d\n", ok, (first - t0) / 1000, (last - t0) / 1000 }' 2> "$W/events")
        local jobs first last overlap
        read -r jobs first last <<< "$stats"
        overlap=$(sort -k1,1n -k2,2n "$W/events" | awk '{ c += $2; if (c > m) m = c } END { print m }')
        [ "$jobs" = "$N" ] || die "$jobs job files say succeeded, not $N"
        say "daemon: $N promotions done $last ms after start (first job started at $first ms), CPU $((cpu / 1000)) ms, VmHWM $hwm kB, threads $threads, at most $overlap jobs at once (max_parallel $P)"
        result "${KEY}"_wall_ms "$last"
        # throughput: from the first job's start to the last one's end
        result "${KEY}"_jobs_per_sec "$(awk -v n="$N" -v a="$first" -v b="$last" 'BEGIN { printf "%.2f", n * 1000 / (b - a) }')"
        result "${KEY}"_first_start_ms "$first"
        local ready
        ready=$(awk -v t0="$start_us" '/ READY=1/ { printf "%d", ($1 - t0) / 1000; exit }' "$W/notify.log" 2>/dev/null)
        [ -n "$ready" ] && result "${KEY}"_ready_ms "$ready"
        result "${KEY}"_cpu_ms_per_promo "$(awk -v c="$cpu" -v n="$N" 'BEGIN { printf "%.3f", c / 1000 / n }')"
        result "${KEY}"_hwm_kb "$hwm"
        result "${KEY}"_threads "$threads"
        result "${KEY}"_overlap "$overlap"
        result many_max_parallel "$P"
}

# the reference does the first NREF of the same promotions (each promotion
# is independent work, so CPU per promotion does not depend on how many)
run_reference() {
        local nref=${MANY_REF_PROMOTIONS:-$N} wall u s m rc
        mock_start "${tenant_args[@]}" --polls "$POLLS" --package-size "$SIZE"
        mkdir -p "$W/ref"
        pairs "$nref" | awk -v u="$MOCK_URL" -v w="$W" '{ printf "%s %d %s/t%d.key %s %d %s/t%d.key %d %s/ref 0.1\n",
                u, 1000 + $2, w, $2, u, 1000 + $3, w, $3, 50000 + $1, w }' > "$W/ref.lines"
        sync
        /usr/bin/time -f '%e %U %S %M' -o "$W/ref.time" \
                xargs -P "$P" -L 1 "$BENCH/reference-promote.sh" < "$W/ref.lines" 2> "$W/ref.err"
        rc=$?
        mock_stop
        [ "$rc" = 0 ] || { head -3 "$W/ref.err" >&2; die "the reference script failed (xargs exit $rc)"; }
        read -r wall u s m < <(tail -1 "$W/ref.time")
        say "reference: $nref promotions in ${wall}s (xargs -P $P), CPU user ${u}s sys ${s}s (all processes), largest process $m kB"
        result many_ref_promotions "$nref"
        result many_ref_wall_ms "$(awk -v w="$wall" 'BEGIN { printf "%d", w * 1000 }')"
        result many_ref_cpu_ms_per_promo "$(awk -v u="$u" -v s="$s" -v n="$nref" 'BEGIN { printf "%.3f", (u + s) * 1000 / n }')"
        result many_ref_max_process_kb "$m"
}

case $WHAT in
daemon) run_daemon ;;
reference) run_reference ;;
both) run_daemon; run_reference ;;
*) die "usage: many.sh [daemon|reference|both]" ;;
esac
