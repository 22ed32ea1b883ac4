#!/usr/bin/env bash
# Benchmark 3 — idle: IDLE_PROMOTIONS (10,000) promotions over 100 tenants,
# none due ("0 3 1 1 *"), the daemon started RUNS times with a fresh state
# folder each time (the first start of a large configuration, the slowest).
# Each start: time from exec to READY=1 on a notification socket
# (bench/notify-stamp timestamps what arrives), RSS once ready, then an idle
# window of WINDOW seconds with WATCHDOG_USEC=IDLE_WATCHDOG_SEC (10 s) and
# WATCHDOG_PID set: every return of epoll_wait is counted (strace -f -c
# attached for the window) and compared with the WATCHDOG=1 pings received
# meanwhile; anything beyond the pings is a wake-up for nothing (the next due
# time is months away; the window opens after the first retention pass).
#   bench/idle.sh RUNS WINDOW_SECONDS
. "$(dirname "$0")/lib.sh"
RUNS=${1:-3} WINDOW=${2:-20}
N=${IDLE_PROMOTIONS:-10000}
NT=${IDLE_TENANTS:-100}
WD_SEC=${IDLE_WATCHDOG_SEC:-10}
[ -x "$STAMP" ] || die "no $STAMP: run make bench"

CFG="$W/idle.yaml" STATE="$W/state"
for ((t = 0; t < NT; t++)); do key_file "t$t" "key-$t-$RANDOM" > /dev/null; done
# the mock serves only the one promotion that makes a job file for the
# history start below; the idle daemon never contacts it (nothing is due)
mock_start --tenant "1000:key=$(cat "$W/t0.key")" --tenant "1001:key=$(cat "$W/t1.key")" --polls 0 --package-size 4096
daemon_config "$CFG" "$STATE" 4 15s
{
        tenants_yaml "$NT"
        echo "promotions:"
        awk -v n="$N" -v nt="$NT" 'BEGIN { for (i = 0; i < n; i++)
                printf "  - { name: idle%05d, package: \"%d\", from: t%d, to: t%d, schedule: \"0 3 1 1 *\" }\n",
                        i, 100000 + i, i % nt, (i + 1) % nt }'
} >> "$CFG"

"$STAMP" "$W/notify.sock" >> "$W/notify.log" &
NS_PID=$!
for _ in $(seq 100); do [ -S "$W/notify.sock" ] && break; sleep 0.05; done

ready=() rss=() hwm=() wake=() pings=() extra=() gaps=()
for ((run = 1; run <= RUNS; run++)); do
        rm -rf "$STATE"
        : > "$W/notify.log"
        sync
        (
                export NOTIFY_SOCKET="$W/notify.sock" WATCHDOG_USEC=$((WD_SEC * 1000000)) WATCHDOG_PID=$BASHPID
                t=$EPOCHREALTIME; echo "${t/./}" > "$W/t0"
                exec "$D2P" --config "$CFG" 2>> "$W/idle-daemon.log"
        ) &
        D_PID=$!
        wait_log "$W/notify.log" ' READY=1' 1 120 || die "no READY=1 within 120 s"
        t0=$(cat "$W/t0")
        tr=$(awk '/ READY=1/ { print $1; exit }' "$W/notify.log")
        ready+=("$(awk -v a="$t0" -v b="$tr" 'BEGIN { printf "%.1f", (b - a) / 1000 }')")
        # the window opens after the first retention pass (history_keep:
        # 20 s after the start, then every 10 minutes, daemon.c PRUNE_*):
        # scheduled work, as a due time is, not a wake-up for nothing
        sleep 21
        rss+=("$(proc_status "$D_PID" VmRSS)") hwm+=("$(proc_status "$D_PID" VmHWM)")

        # the idle window: count epoll_wait returns and watchdog pings
        w0=$(now_us)
        timeout -s INT "$WINDOW" strace -f -c -p "$D_PID" -o "$W/idle.strace" 2> /dev/null
        w1=$(now_us)
        n_wait=$(awk '$NF ~ /^epoll_(p)?wait2?$/ { n += $4 } END { print n + 0 }' "$W/idle.strace")
        n_ping=$(awk -v a="$w0" -v b="$w1" '$1 >= a && $1 <= b && / WATCHDOG=1/' "$W/notify.log" | wc -l)
        gap=$(awk '/ WATCHDOG=1/ { if (p) { g = $1 - p; if (!m || g > m) m = g } p = $1 } END { printf "%.1f", m / 1000000 }' "$W/notify.log")
        per_min() { awk -v n="$1" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.1f", n * 60000000 / (b - a) }'; }
        wake+=("$(per_min "$n_wait")") pings+=("$(per_min "$n_ping")")
        extra+=("$(per_min $((n_wait > n_ping ? n_wait - n_ping : 0)))") gaps+=("$gap")
        kill -TERM "$D_PID"; wait "$D_PID"; D_PID=
        say "idle run $run: READY=1 after ${ready[-1]} ms, VmRSS ${rss[-1]} kB (VmHWM ${hwm[-1]} kB);" \
            "$n_wait epoll_wait returns and $n_ping WATCHDOG=1 in $(( (w1 - w0) / 1000 )) ms (longest ping gap ${gap}s);" \
            "syscalls: $(awk '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ { printf "%s%s=%s", s, $NF, $4; s = " " }' "$W/idle.strace")"
done
grep -q 'next: idle' "$W/idle-daemon.log" || die "the daemon did not log its next run"

# One more start, with a history: IDLE_HISTORY finished job files (copies
# of a real one) in the jobs folder, as a year of runs leaves them.  The
# daemon reads every job file at start to find unfinished ones.
H=${IDLE_HISTORY:-10000}
if [ "$H" -gt 0 ]; then
        rm -rf "$STATE"
        "$D2P" --config "$CFG" --once idle00000 2>> "$W/idle-daemon.log" || die "the history template job failed"
        tpl=$(ls "$STATE"/jobs/*.json)
        fake_history "$tpl" "$H" "$N" idle "$STATE/jobs"
        rm -f "$tpl"
        start_stamped "$CFG" "$W/idle-daemon.log"
        hready=$(ready_ms history)
        hhwm=$(proc_status "$D_PID" VmHWM)
        kill -TERM "$D_PID"; wait "$D_PID"; D_PID=
        say "with $H finished jobs in the history: READY=1 after $hready ms, VmHWM $hhwm kB"
        result idle_history_jobs "$H"
        result idle_history_ready_ms "$hready"
        result idle_history_hwm_kb "$hhwm"
fi
mock_stop

result idle_promotions "$N"
result idle_ready_ms "$(median "${ready[@]}")"
result idle_rss_kb "$(median "${rss[@]}")"
result idle_hwm_kb "$(median "${hwm[@]}")"
result idle_wakeups_per_min "$(median "${wake[@]}")"
result idle_watchdog_pings_per_min "$(median "${pings[@]}")"
result idle_other_wakeups_per_min "$(median "${extra[@]}")"
result idle_watchdog_sec "$WD_SEC"
result idle_watchdog_max_gap_sec "$(median "${gaps[@]}")"
result idle_window_sec "$WINDOW"
