#!/usr/bin/env bash
# The control socket under abuse (issue 9, case F): connections that never
# send a line are capped (64 at once; the rest wait in the kernel's backlog)
# and dropped after the idle timeout, after which dev2prodctl is answered
# again; with no descriptor left (RLIMIT_NOFILE lowered on the running
# daemon) accept4 fails with EMFILE, and the daemon neither spins on it nor
# logs it more than once, and takes connections again once descriptors are
# back.  Needs tests/tools/ctl-flood.c (built by `make check`) and prlimit.
. "$(dirname "$0")/../lib.sh"
[ -x "$CTL" ] || skip "no dev2prodctl"
FLOOD="$BUILD/ctl-flood"
[ -x "$FLOOD" ] || skip "no $FLOOD (make check builds tests/tools/*.c)"
command -v prlimit > /dev/null || skip "no prlimit (util-linux)"

CAP=64
SOCK="$T/ctl.sock"
mock_start --polls 1
write_config
sed -i "1i control_socket: $SOCK" "$CONFIG"

# sockets PID: how many sockets the process holds
sockets() { find "/proc/$1/fd" -lname 'socket:*' 2> /dev/null | wc -l; }
# cpu_ticks PID: utime + stime of the process, in clock ticks
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# cpu_percent PID SECONDS: the share of the wall time the process spent on a CPU
cpu_percent() {
        local t0 t1 hz; hz=$(getconf CLK_TCK)
        t0=$(cpu_ticks "$1"); sleep "$2"; t1=$(cpu_ticks "$1")
        echo $(( (t1 - t0) * 100 / (hz * $2) ))
}
# ctl_answers CASE: a request through the socket is answered (cancel of a
# job that does not exist: the daemon's own "no running or queued job")
ctl_answers() {
        local out rc
        out=$(timeout 20 "$CTL" --config "$CONFIG" cancel no-such-job 2>&1); rc=$?
        if [ "$rc" = 1 ] && grep -q "no running or queued job" <<< "$out"; then
                ok "$1: dev2prodctl is answered through the socket"
        else
                bad "$1: dev2prodctl through the socket: exit $rc: $out"
        fi
}

check "daemon reports READY=1" daemon_start
base=$(sockets "$D_PID")

echo "# case cap: 100 clients that never send a line"
"$FLOOD" "$SOCK" 100 25 > "$T/flood1.out" 2>&1 &
fl=$!
wait_for "$T/flood1.out" '^connected=' 10 > /dev/null
sleep 1
held=$(( $(sockets "$D_PID") - base ))
echo "# $(head -1 "$T/flood1.out"); the daemon holds $held of them"
check "cap: the daemon holds at most $CAP connections at once (holds $held)" test "$held" -le "$CAP"
check "cap: it holds $CAP (the cap is reached, not something less)" test "$held" -ge "$CAP"
pct=$(cpu_percent "$D_PID" 2)
check "cap: the daemon is idle at the cap (${pct}% CPU over 2 s)" test "$pct" -lt 50
check "cap: list still works" "$CTL" --config "$CONFIG" list > /dev/null
wait "$fl"
echo "# $(tail -1 "$T/flood1.out")"
k=$(sed -n 's/^connected=\([0-9]*\) .*/\1/p' "$T/flood1.out")
check "cap: the idle timeout dropped every connected client" grep -q "^closed=$k of $k " "$T/flood1.out"
check "cap: after the flood the daemon holds none of them" test "$(sockets "$D_PID")" -le "$base"
ctl_answers "cap, after the flood"

echo "# case queued: a request that comes while the cap is full waits for a slot"
"$FLOOD" "$SOCK" "$CAP" 20 > "$T/flood2.out" 2>&1 &
fl=$!
wait_for "$T/flood2.out" '^connected=' 10 > /dev/null
sleep 0.5
s=$SECONDS
ctl_answers "queued, at the cap"
echo "# answered after $((SECONDS - s)) s (idle clients are dropped after 5 s)"
wait "$fl"

echo "# case emfile: no descriptor left for accept4"
lim=$(prlimit --pid "$D_PID" --nofile --noheadings --output SOFT | tr -d ' ')
free=0
while [ -e "/proc/$D_PID/fd/$free" ]; do free=$((free + 1)); done
check "emfile: RLIMIT_NOFILE of the running daemon lowered to $free" prlimit --pid "$D_PID" --nofile="$free":
n0=$(grep -c 'cannot accept a connection' "$T/daemon.log")
"$FLOOD" "$SOCK" 3 30 > "$T/flood3.out" 2>&1 &
fl=$!
wait_for "$T/flood3.out" '^connected=' 10 > /dev/null
pct=$(cpu_percent "$D_PID" 3)
check "emfile: the daemon does not spin on accept4 (${pct}% CPU over 3 s)" test "$pct" -lt 50
n1=$(grep -c 'cannot accept a connection' "$T/daemon.log")
check "emfile: the condition is logged once ($((n1 - n0)) lines)" test "$((n1 - n0))" = 1
check "emfile: the log line says why (Too many open files)" grep -q 'cannot accept a connection: Too many open files' "$T/daemon.log"
check "emfile: the daemon is still running" kill -0 "$D_PID"
check "emfile: RLIMIT_NOFILE restored to $lim" prlimit --pid "$D_PID" --nofile="$lim":
ctl_answers "emfile, after the descriptors came back"
wait "$fl"
echo "# $(tail -1 "$T/flood3.out")"
check "emfile: the clients queued meanwhile were taken (and timed out)" grep -q '^closed=3 of 3 ' "$T/flood3.out"

check "SIGTERM: the daemon stops cleanly" daemon_stop
finish
