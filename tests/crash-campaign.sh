#!/usr/bin/env bash
# tests/crash-campaign.sh — a seedable, randomized crash campaign.
#
# usage: tests/crash-campaign.sh [-p] [-n KILLS] [-s SEED] [-b BUILD] [-r ROUND] [-t SECONDS]
#   -p        power cuts: the state folder is on powercutfs, and every kill
#             is followed by a cut (see "Power cuts" below)
#   -n KILLS  stop once this many SIGKILLs have landed (default 100)
#   -s SEED   seed of every random decision (default: a fresh one, printed)
#   -b BUILD  folder with dev2prodd, dev2prodctl, mock-dev2prod (default build)
#   -r ROUND  start at round ROUND (replays that round's decisions directly)
#   -t SECS   start no new round after SECS seconds (a bound for make check)
#
# Each round: a fresh mock (random --polls, --package-size, sometimes
# --throttle, sometimes one retryable fault, sometimes a dry run with
# errors), a fresh state folder, one promotion.  `dev2prodd --once` is
# SIGKILLed 1..4 times, each time by a randomly chosen method, and
# restarted, until a run exits on its own:
#   delay   after 0-800 ms
#   strace  at the Nth rename/fsync/write (strace fault injection)
#   state   as soon as the job file reaches (or passes) a chosen state
# After every kill and at the end of the round the invariants below are
# checked against the mock's record and the job files; the first violation
# stops the campaign (exit 1) with the seed, the round, the invariant, the
# replay command, and the round's folder kept for inspection.
#
#  1. the job ends in a final state: succeeded; or failed with
#     dry-run-rejected when the dry run was given errors; or failed with
#     import-outcome-unknown only after a kill while the saved state was
#     `import`.  Nothing else.
#  2. no import sent twice: at most one `import` line in the record.
#  3. no import after a dry run with errors.
#  4. every uploaded byte is the exported package: each upload's sha256 is
#     that of a complete download; the dry runs and the import are of the
#     last uploaded file id, which is the job's target_file_id.
#  5. no job file is ever unreadable (after every kill): each *.json has
#     "format": 1 and ends with }, and `dev2prodctl history` skips none.
#  6. at most one needless export per kill: exports <= 1 + kills (+1 when a
#     fault made the mock lose an export's answer).
#  7. a creating request whose answer was saved (export_id, target_file_id,
#     dry_run_id, import_id in the job file at a kill) is never sent again.
#
# Power cuts (-p).  A kill alone leaves every write to the kernel, which
# still writes it out: it cannot tell a correct fsync order from a lucky
# one.  With -p the state folder lives on powercutfs (tests/powercut/):
# after each kill the filesystem is unmounted and cut, leaving what a disk
# would hold after losing power (only what fsync made durable; for half of
# the cuts also a random prefix-closed part of what was pending), and the
# next run sees a new boot id, as after a reboot.  The invariants above are
# checked on what survived, with two changes: invariant 7 freezes the
# answers the job file holds after the cut (an answer whose save was not
# yet durable may be asked for again: the daemon had not acted on it), and
#  8. a run that exited on its own left its job durable: a cut right after
#     it keeps the job file's final state.
# A third of the -p rounds run the service instead of --once: the state
# folder starts with a schedule.json whose last handled due time is days
# old, so the daemon starts a catch-up job for the latest missed due time
# (a daily schedule), then it is killed and cut like --once, restarted,
# and stopped with SIGTERM once the job has ended.  One more invariant:
#  9. the missed due time is never lost nor run twice: the one job file of
#     the round is named after that due time.
# The summary has a table: for each state a cut left, what it led to.
#
# The random decisions of round R depend only on SEED and R, so
# `-s SEED -r R` replays them; timing-based kills (delay, state) replay the
# same decisions, not necessarily the same instant.
set -u

usage() { sed -n '4,11s/^# \{0,1\}//p' "$0"; exit "${1:-2}"; }
KILLS_WANTED=100 SEED='' BUILD=build FIRST_ROUND=1 BUDGET=0 POWERCUT=0
while getopts 'pn:s:b:r:t:h' opt; do
        case $opt in
        p) POWERCUT=1 ;;
        n) KILLS_WANTED=$OPTARG ;;
        s) SEED=$OPTARG ;;
        b) BUILD=$OPTARG ;;
        r) FIRST_ROUND=$OPTARG ;;
        t) BUDGET=$OPTARG ;;
        h) usage 0 ;;
        *) usage >&2 ;;
        esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[ -z "$SEED" ] && SEED=$(( ${SRANDOM:-$$$RANDOM} % 1000000000 ))
for v in "$KILLS_WANTED" "$SEED" "$FIRST_ROUND" "$BUDGET"; do
        [[ $v =~ ^[0-9]{1,12}$ ]] || { echo "crash-campaign: -n, -s, -r and -t want a number, got '$v'" >&2; exit 2; }
done
SEED=$((10#$SEED)) KILLS_WANTED=$((10#$KILLS_WANTED)) FIRST_ROUND=$((10#$FIRST_ROUND)) BUDGET=$((10#$BUDGET))
[ "$FIRST_ROUND" -ge 1 ] || FIRST_ROUND=1

BUILD_ARG=$BUILD
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "crash-campaign: no folder $BUILD_ARG" >&2; exit 2; }
D2P=$BUILD/dev2prodd CTL=$BUILD/dev2prodctl MOCK=$BUILD/mock-dev2prod
. "$(dirname "${BASH_SOURCE[0]}")/config.sh"     # dev_prod_tenants, nightly_promotion
for b in "$D2P" "$CTL" "$MOCK"; do
        [ -x "$b" ] || { echo "crash-campaign: no $b: run make all $BUILD_ARG/mock-dev2prod" >&2; exit 2; }
done
command -v strace > /dev/null || { echo "SKIP: strace not installed"; exit 77; }
command -v timeout > /dev/null || { echo "SKIP: timeout (coreutils) not installed"; exit 77; }
strace -f -qq -o /dev/null -e trace=rename -e inject=rename:signal=KILL:when=99 true 2> /dev/null ||
        { echo "SKIP: strace fault injection not available here"; exit 77; }

if [ "$POWERCUT" = 1 ]; then
        T=$(mktemp -d /tmp/d2p-pcprobe.XXXXXX)
        skip() { echo "SKIP: $*"; rm -rf "$T"; exit 77; }
        _lib_cleanup_daemon() { :; }
        # shellcheck source=tests/powercut/powercut.sh
        . "$(dirname "$0")/powercut/powercut.sh"
        [ "$(id -u)" = 0 ] || skip "power cuts need root (a FUSE mount and a private boot id per run)"
        command -v unshare > /dev/null || skip "unshare (util-linux) not installed"
        [ -x "$PCFS" ] || { echo "crash-campaign: no $PCFS: run make powercutfs" >&2; exit 2; }
        pc_require
        rm -rf "$T"
        trap - EXIT
fi

PFLAG=; [ "$POWERCUT" = 1 ] && PFLAG='-p '
RUN_TIMEOUT=60          # seconds any one daemon run may take
KEY_DEV=campaign-dev-key KEY_PROD=campaign-prod-key
STATES=(export export-poll download upload dry-run dry-run-poll import import-poll)
SYSCALLS=(rename fsync write)    # where strace injects the SIGKILL (the package is not fdatasync'ed)
# retryable faults: each ends in success after a retry or a harmless resend
FAULTS=(export_status:503:1 download:truncate:1 upload:500:1 dryrun:429:1 export:drop-after:1
        upload:garbage:1 import_status:502:1 export:429:1 export_status:drop:1 download:504:1
        dryrun:drop-after:1 dryrun_status:503:1 import:503:1 upload:drop-after:1 export:noid:1
        dryrun:id-not-string:1 export_status:garbage:1 dryrun_status:warnings:1)

W=$(mktemp -d /tmp/d2p-campaign.XXXXXX)
MOCK_PID='' D_PID='' KEEP=''
cleanup() {
        [ -n "$D_PID" ] && kill -KILL "$D_PID" 2> /dev/null && wait "$D_PID" 2> /dev/null
        [ -n "${PC_MNT:-}" ] && { fusermount3 -u -z "$PC_MNT" 2> /dev/null; [ -n "$PC_PID" ] && wait "$PC_PID"; }
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2> /dev/null && wait "$MOCK_PID" 2> /dev/null
        if [ -n "$KEEP" ]; then
                find "$W" -mindepth 1 -maxdepth 1 ! -path "$KEEP" -exec rm -rf {} +
        else
                rm -rf "$W"
        fi
}
trap cleanup EXIT
trap 'echo "crash-campaign: interrupted (seed $SEED)"; exit 130' INT TERM

# ---- helpers ---------------------------------------------------------------

# rnd N: R = a random number in [0, N) (30 bits; never in a subshell, so the
# sequence stays the one the seed gives)
rnd() { R=$(( ((RANDOM << 15) | RANDOM) % $1 )); }

state_index() {         # state_index NAME: its place in STATES, 8 when final, -1 none
        local i
        for i in "${!STATES[@]}"; do [ "${STATES[$i]}" = "$1" ] && { echo "$i"; return; }; done
        case $1 in succeeded|failed|cancelled) echo 8 ;; *) echo -1 ;; esac
}
is_final() { case $1 in succeeded|failed|cancelled) return 0 ;; *) return 1 ;; esac; }

job_files() { compgen -G "$STATE/jobs/*.json"; }
job_file() { job_files | tail -1; }
# jget KEY: a top-level string of the round's job file ("" when absent or null)
jget() {
        local f; f=$(job_file); [ -n "$f" ] || return 0
        sed -n "s/^    \"$1\": \"\([^\"]*\)\",\{0,1\}$/\1/p" "$f" | head -1
}
# saved_state: S = the state in the job file, without a fork (polled every 10 ms)
saved_state() {
        local f line
        S=
        for f in "$STATE"/jobs/*.json; do
                [ -e "$f" ] || continue
                while IFS= read -r line; do
                        case $line in '    "state": "'*) S=${line#*: \"}; S=${S%%\"*}; break ;; esac
                done < "$f" 2> /dev/null
        done
}
count() { grep -c "^$1 " "$RECORD" 2> /dev/null || true; }

mock_start() {
        "$MOCK" --record "$RECORD" --port 0 --port-file "$RD/port" \
                --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD" "$@" > "$RD/mock.out" 2>&1 &
        MOCK_PID=$!
        local _
        for _ in $(seq 400); do [ -s "$RD/port" ] && break; sleep 0.025; done
        [ -s "$RD/port" ] || { cat "$RD/mock.out"; echo "crash-campaign: the mock did not start"; KEEP=$RD; exit 1; }
        MOCK_URL="http://127.0.0.1:$(cat "$RD/port")"
}
# mock_stop: TERM, and KILL if it is still there after 10 s (its record
# is complete once it has exited: every handler has returned)
mock_stop() {
        [ -n "$MOCK_PID" ] || return 0
        kill "$MOCK_PID" 2> /dev/null
        local _
        for _ in $(seq 100); do kill -0 "$MOCK_PID" 2> /dev/null || break; sleep 0.1; done
        kill -KILL "$MOCK_PID" 2> /dev/null
        wait "$MOCK_PID" 2> /dev/null
        MOCK_PID=
}

write_config() {
        printf '%s' "$KEY_DEV" > "$RD/dev.key"
        printf '%s\n' "$KEY_PROD" > "$RD/prod.key"
        chmod 600 "$RD/dev.key" "$RD/prod.key"
        cat > "$CONFIG" <<YAML
state_directory: $STATE
control_socket: $RD/ctl.sock
defaults:
  poll_interval: 100ms
  retry_delay: 100ms
  retries: 4
  step_timeout: 5m        # > RUN_TIMEOUT: a slow harness (a loaded machine, a cut) never times a step out
  stall_timeout: 10s
  request_timeout: 20s
$(dev_prod_tenants "$MOCK_URL" "key_file: $RD/dev.key" "key_file: $RD/prod.key")
$(nightly_promotion "mode: import")
YAML
}

# ---- one run of the daemon, killed or not -------------------------------------
# With -p each run sees the boot id of the current "boot" ($BOOTF, a new one
# after every cut: the daemon trusts an unflushed package only within the
# boot that wrote it) in a private mount namespace; unshare and sh exec,
# so the pid started is the daemon's (or strace's).  Without -p BOOTED is
# empty and runs see the machine's boot id.
BOOTED=()
new_boot() {
        BOOTF=$RD/boot_id.$((++BOOTS))
        cat /proc/sys/kernel/random/uuid > "$BOOTF"
        BOOTED=(unshare -m sh -c 'mount --bind "$0" /proc/sys/kernel/random/boot_id && exec "$@"' "$BOOTF")
}
BOOTS=0

# Each sets RC (exit status), KILLED (1 when our SIGKILL landed), HUNG (1
# when the run outlived RUN_TIMEOUT) and HOW (what was tried).  Called with
# 2>/dev/null: bash reports "Killed" jobs on its own stderr.

run_plain() {
        [ "$DMODE" = 1 ] && { run_daemon final; return; }
        HOW=final KILLED=0 HUNG=0
        timeout -s KILL "$RUN_TIMEOUT" "${BOOTED[@]}" "$D2P" --config "$CONFIG" --once nightly 2>> "$LOG"
        RC=$?
        [ "$RC" = 137 ] && HUNG=1
}

run_delay() {           # run_delay MS
        [ "$DMODE" = 1 ] && { run_daemon delay "$1"; return; }
        HOW="delay:${1}ms" KILLED=0 HUNG=0
        "${BOOTED[@]}" "$D2P" --config "$CONFIG" --once nightly 2>> "$LOG" &
        D_PID=$!
        sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
        kill -KILL "$D_PID" 2> /dev/null
        wait "$D_PID"; RC=$?
        D_PID=
        [ "$RC" = 137 ] && KILLED=1
}

run_strace() {          # run_strace SYSCALL N
        [ "$DMODE" = 1 ] && { run_daemon strace "$1" "$2"; return; }
        HOW="strace:$1#$2" KILLED=0 HUNG=0
        : > "$RD/strace.out"
        # LeakSanitizer cannot work under ptrace and aborts at exit: off in
        # this run only (an ASan build, make check-asan)
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        timeout -s KILL "$RUN_TIMEOUT" "${BOOTED[@]}" strace -f -qq -o "$RD/strace.out" -e trace="$1" \
                -e inject="$1":signal=KILL:when="$2" "$D2P" --config "$CONFIG" --once nightly 2>> "$LOG"
        RC=$?
        if grep -q 'killed by SIGKILL' "$RD/strace.out"; then
                KILLED=1
        elif [ "$RC" = 137 ]; then
                HUNG=1          # timeout killed strace (and with it the daemon)
        fi
}

run_state() {           # run_state INDEX: kill once the saved state is STATES[INDEX] or later
        [ "$DMODE" = 1 ] && { run_daemon state "$1"; return; }
        HOW="state:${STATES[$1]:-final}" KILLED=0 HUNG=0
        local deadline=$((SECONDS + RUN_TIMEOUT)) i
        "${BOOTED[@]}" "$D2P" --config "$CONFIG" --once nightly 2>> "$LOG" &
        D_PID=$!
        while kill -0 "$D_PID" 2> /dev/null; do
                saved_state
                if [ -n "$S" ]; then
                        i=$(state_index "$S")
                        [ "$i" -ge "$1" ] && break
                fi
                [ "$SECONDS" -ge "$deadline" ] && { HUNG=1; break; }
                sleep 0.01
        done
        kill -KILL "$D_PID" 2> /dev/null
        wait "$D_PID"; RC=$?
        D_PID=
        [ "$RC" = 137 ] && [ "$HUNG" = 0 ] && KILLED=1
}

# run_daemon final | delay MS | strace SYSCALL N | state INDEX: the service
# (-p rounds with DMODE=1).  It never exits by itself: once the job file
# says the job ended, the run is over ("ran through") and the daemon gets
# SIGTERM (RC is then its exit status, 0 expected); else it is killed as
# the method says.
run_daemon() {
        local kind=$1 deadline=$((SECONDS + RUN_TIMEOUT)) t0 ms
        KILLED=0 HUNG=0 RC=
        case $kind in
        final)  HOW=final ;;
        delay)  HOW="delay:${2}ms" ;;
        strace) HOW="strace:$2#$3" ;;
        state)  HOW="state:${STATES[$2]:-final}" ;;
        esac
        if [ "$kind" = strace ]; then
                : > "$RD/strace.out"
                ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
                "${BOOTED[@]}" strace -f -qq -o "$RD/strace.out" -e trace="$2" -e inject="$2":signal=KILL:when="$3" \
                        "$D2P" --config "$CONFIG" 2>> "$LOG" &
        else
                "${BOOTED[@]}" "$D2P" --config "$CONFIG" 2>> "$LOG" &
        fi
        D_PID=$! t0=$(date +%s%3N)
        while kill -0 "$D_PID" 2> /dev/null; do
                saved_state
                if is_final "$S"; then
                        # the daemon, not strace (which would only detach)
                        if [ "$kind" = strace ]; then pkill -TERM -P "$D_PID"; else kill -TERM "$D_PID"; fi
                        wait "$D_PID"; RC=$?; D_PID=
                        # the Nth call may come in the stop's own saves
                        [ "$kind" = strace ] && grep -q 'killed by SIGKILL' "$RD/strace.out" && KILLED=1
                        return
                fi
                case $kind in
                delay) ms=$(( $(date +%s%3N) - t0 )); [ "$ms" -ge "$2" ] && break ;;
                state) [ -n "$S" ] && [ "$(state_index "$S")" -ge "$2" ] && break ;;
                esac
                [ "$SECONDS" -ge "$deadline" ] && { HUNG=1; break; }
                sleep 0.01
        done
        if kill -0 "$D_PID" 2> /dev/null; then
                kill -KILL "$D_PID" 2> /dev/null
                wait "$D_PID"; RC=$?
                [ "$HUNG" = 0 ] && KILLED=1
        else
                wait "$D_PID"; RC=$?
                [ "$kind" = strace ] && grep -q 'killed by SIGKILL' "$RD/strace.out" && KILLED=1
                # the service ended by itself, job unfinished: RC says why (checked by the caller)
                [ "$KILLED" = 0 ] && [ "$RC" = 0 ] && RC=99
        fi
        D_PID=
}

# ---- invariants ---------------------------------------------------------------

HELD=0
fail_round() {          # fail_round INVARIANT WHAT
        local inv=$1; shift
        KEEP=$RD
        echo
        echo "VIOLATION of invariant $inv: $*"
        echo "  seed $SEED, round $ROUND, kill $KILLS of the campaign ($KR in this round)"
        echo "  round: $PARAMS"
        echo "  kills: ${HOWS:-none}"
        echo "  replay the campaign:  tests/crash-campaign.sh $PFLAG-s $SEED -n $KILLS_WANTED -b $BUILD_ARG"
        echo "  replay this round:    tests/crash-campaign.sh $PFLAG-s $SEED -r $ROUND -n $(( KR > 0 ? KR : 1 )) -b $BUILD_ARG"
        echo "  kept for inspection:  $RD (record, daemon.log, events, state/jobs)"
        echo "--- events"; cat "$RD/events" 2> /dev/null
        echo "--- daemon.log (last 25 lines)"; tail -n 25 "$LOG" 2> /dev/null
        echo "--- record (creating requests)"; grep -E '^(export|download|upload|dryrun|import) ' "$RECORD" 2> /dev/null
        mock_stop
        echo "kills: $KILLS, rounds: $((ROUND - FIRST_ROUND + 1)), invariant checks held: $HELD"
        echo "seed: $SEED — FAILED"
        exit 1
}
held() { HELD=$((HELD + 1)); }

# ---- power cuts (-p) ------------------------------------------------------------

# What each state a cut left led to, for the summary table: per surviving
# state, the cuts, those that took the job back to an earlier state than
# the one it had reached, the next runs that downloaded the package again,
# and how the rounds ended.
declare -A CUT_N=() CUT_BACK=() CUT_REDL=() CUT_END=()
CUTS=0 CUT_KEPT=0 PEND_SURV='' PEND_DL=0
ROUND_SURVS=()

# settle_cut: attributes the downloads since the last cut to it
settle_cut() {
        [ -n "$PEND_SURV" ] || return 0
        [ "$(count download)" -gt "$PEND_DL" ] && CUT_REDL[$PEND_SURV]=$(( ${CUT_REDL[$PEND_SURV]:-0} + 1 ))
        PEND_SURV=
}

# power_cut WHEN [final]: the daemon is dead; unmount, cut (half of the
# cuts keep a random prefix-closed part of what was pending; "final": the
# check of invariant 8, only what was synced, not counted in the table),
# start a new boot, mount what survived.  Sets LIVE (the saved state the
# daemon saw) and SURV (the one that survived).
power_cut() {
        local keep=() idx_l idx_s
        settle_cut
        saved_state; LIVE=${S:-none}
        pc_umount "$MNT" || fail_round 8 "(harness) cannot unmount $MNT after $1"
        if [ "${2:-}" != final ]; then
                rnd 2
                [ "$R" = 1 ] && { rnd 1000000000; keep=(--keep-random "$R"); }
        fi
        pc_cut "$DISK" "$SHADOW" "${keep[@]}" > "$RD/cut.out" 2>&1 ||
                fail_round 8 "(harness) the cut failed: $(cat "$RD/cut.out")"
        new_boot
        pc_mount "$DISK" "$SHADOW" "$MNT" || fail_round 8 "(harness) powercutfs did not mount again after $1"
        saved_state; SURV=${S:-none}
        [ "${2:-}" = final ] && return 0
        CUTS=$((CUTS + 1))
        [ ${#keep[@]} -gt 0 ] && CUT_KEPT=$((CUT_KEPT + 1))
        CUT_N[$SURV]=$(( ${CUT_N[$SURV]:-0} + 1 ))
        idx_l=$(state_index "$LIVE") idx_s=$(state_index "$SURV")
        [ "$idx_s" -lt "$idx_l" ] && CUT_BACK[$SURV]=$(( ${CUT_BACK[$SURV]:-0} + 1 ))
        PEND_SURV=$SURV PEND_DL=$(count download)
        ROUND_SURVS+=("$SURV")
        ev "cut after $1: saved state $LIVE before, $SURV after ($(tr '\n' ' ' < "$RD/cut.out"))"
}

# The table of the summary.
cut_table() {
        local st
        echo
        echo "power cuts: $CUTS ($CUT_KEPT keeping a random part of the pending writes, the others only what was synced)"
        printf '| %-23s | %5s | %-27s | %-22s | %-39s |\n' "state left by the cut" cuts \
                "back to an earlier state" "next run downloaded" "rounds then ended"
        printf '|%s|%s|%s|%s|%s|\n' "-------------------------" "-------" "-----------------------------" \
                "------------------------" "-----------------------------------------"
        for st in none "${STATES[@]}" succeeded failed cancelled; do
                [ -n "${CUT_N[$st]:-}" ] || continue
                printf '| %-23s | %5d | %-27s | %-22s | %-39s |\n' "$st" "${CUT_N[$st]}" "${CUT_BACK[$st]:-0}" \
                        "${CUT_REDL[$st]:-0}" "$(echo ${CUT_END[$st]:-})"
        done
}
# end_cuts OUTCOME: the round's cuts led to OUTCOME ("succeeded", "dry-run-rejected", ...)
end_cuts() {
        local st k
        declare -A seen=()
        settle_cut
        for st in "${ROUND_SURVS[@]}"; do
                [ -n "${seen[$st]:-}" ] && continue
                seen[$st]=1
                k=$(grep -o "$1=[0-9]*" <<< "${CUT_END[$st]:-}")
                if [ -n "$k" ]; then
                        CUT_END[$st]=${CUT_END[$st]/$k/$1=$(( ${k#*=} + 1 ))}
                else
                        CUT_END[$st]="${CUT_END[$st]:-}${CUT_END[$st]:+ }$1=1"
                fi
        done
        ROUND_SURVS=()
}
ev() { echo "$*" >> "$RD/events"; }

check_files_readable() {        # invariant 5
        local f last
        for f in $(job_files); do
                grep -q '"format": 1' "$f" || fail_round 5 "job file $f has no \"format\": 1 (after $1)"
                last=$(tr -d ' \n\t' < "$f" | tail -c 1)
                [ "$last" = "}" ] || fail_round 5 "job file $f does not end with } (after $1)"
        done
        local rc=0
        "$CTL" --config "$CONFIG" history > "$RD/ctl.out" 2> "$RD/ctl.err" || rc=$?
        [ "$rc" = 126 ] || [ "$rc" = 127 ] &&
                fail_round 5 "(harness) cannot run $CTL (being rebuilt meanwhile?): $(cat "$RD/ctl.err")"
        [ "$rc" = 0 ] || fail_round 5 "dev2prodctl history failed (after $1): $(cat "$RD/ctl.err")"
        grep -q 'skipped' "$RD/ctl.err" && fail_round 5 "dev2prodctl history skipped a job file (after $1): $(cat "$RD/ctl.err")"
        held
}

check_counts() {                # invariants 2, 3, 6 (record so far)
        local imports exports
        imports=$(count import) exports=$(count export)
        [ "$imports" -le 1 ] || fail_round 2 "$imports imports in the record (after $1)"
        held
        if [ "$ERRORS" = 1 ]; then
                [ "$imports" = 0 ] || fail_round 3 "an import after a dry run with errors (after $1)"
                held
        fi
        [ "$exports" -le $((1 + KR + EXTRA_EXPORT)) ] ||
                fail_round 6 "$exports exports after $KR kill(s) (allowed $((1 + KR + EXTRA_EXPORT))) (after $1)"
        held
}

# At a kill: remember how many creating requests were on record for every
# answer the job file holds; none of them may be sent again.
declare -A FROZEN=()
freeze() {
        local key ev_ name
        for key in export_id:export target_file_id:upload dry_run_id:dryrun import_id:import; do
                name=${key%%:*} ev_=${key#*:}
                [ -n "${FROZEN[$ev_]:-}" ] && continue
                [ -n "$(jget "$name")" ] && FROZEN[$ev_]=$(count "$ev_")
        done
}
check_frozen() {                # invariant 7
        local n ev_
        for ev_ in export upload dryrun import; do
                [ -n "${FROZEN[$ev_]:-}" ] || continue
                n=$(count "$ev_")
                [ "$n" = "${FROZEN[$ev_]}" ] ||
                        fail_round 7 "$ev_ sent again after its answer was saved (${FROZEN[$ev_]} on record at the kill, $n now)"
                held
        done
}

check_end() {                   # every invariant, the mock stopped (its record complete)
        local n state failure
        check_files_readable "the round"
        check_counts "the round"
        check_frozen

        # 1: one job, in an acceptable final state
        n=$(job_files | wc -l)
        [ "$n" = 1 ] || fail_round 1 "$n job files at the end of the round (one promotion was run)"
        state=$(jget state) failure=$(jget failure)
        case $state/$failure in
        succeeded/*)
                [ "$ERRORS" = 0 ] || fail_round 1 "the job succeeded although its dry run had errors" ;;
        failed/dry-run-rejected)
                [ "$ERRORS" = 1 ] || fail_round 1 "failed with dry-run-rejected without a dry run with errors" ;;
        failed/import-outcome-unknown)
                [ "$IMPORT_KILL" = 1 ] || fail_round 1 "failed with import-outcome-unknown, but no kill happened in state import" ;;
        *)
                fail_round 1 "the job ended '$state' (failure '$failure'): $(jget message)" ;;
        esac
        if [ -n "$FINAL_RC" ]; then
                [ "$FINAL_RC" = "$([ "$state" = succeeded ] && echo 0 || echo 1)" ] ||
                        fail_round 1 "the last run exited $FINAL_RC with the job $state"
        fi
        held

        # 4: the uploaded bytes are the package; dry run and import on the last upload
        local up_bad last_up dry_bad imp_bad target
        read -r up_bad last_up dry_bad imp_bad < <(awk '
                { delete f; for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v } }
                $1 == "download" && f["complete"] == "1" { dl[f["sha256"]] = 1 }
                $1 == "upload" { up[++nu] = f["sha256"]; last = f["file_id"] }
                $1 == "dryrun" { dry[++nd] = f["file_id"] }
                $1 == "import" { imp[++ni] = f["file_id"] }
                END {
                        ub = 0; for (i = 1; i <= nu; i++) if (!(up[i] in dl)) ub++
                        db = 0; for (i = 1; i <= nd; i++) if (dry[i] != last) db++
                        ib = 0; for (i = 1; i <= ni; i++) if (imp[i] != last) ib++
                        print ub, (last == "" ? "-" : last), db, ib
                }' "$RECORD")
        [ "$up_bad" = 0 ] || fail_round 4 "$up_bad upload(s) whose sha256 is that of no complete download"
        [ "$dry_bad" = 0 ] || fail_round 4 "$dry_bad dry run(s) not of the last uploaded file $last_up"
        [ "$imp_bad" = 0 ] || fail_round 4 "an import not of the last uploaded file $last_up"
        target=$(jget target_file_id)
        [ -z "$target" ] || [ "$target" = "$last_up" ] ||
                fail_round 4 "the job's target_file_id $target is not the last uploaded file $last_up"
        held
}

# ---- the campaign --------------------------------------------------------------

echo "crash campaign$([ "$POWERCUT" = 1 ] && echo " with power cuts"): seed $SEED, $KILLS_WANTED kills, build $BUILD_ARG, from round $FIRST_ROUND$([ "$BUDGET" -gt 0 ] && echo ", at most ${BUDGET}s")"
KILLS=0 ROUND=$((FIRST_ROUND - 1)) START=$SECONDS
PKG_LEFT=0 TEMP_LEFT=0 NOKILL=0
declare -A METHOD_KILLS=()
while [ "$KILLS" -lt "$KILLS_WANTED" ]; do
        if [ "$BUDGET" -gt 0 ] && [ $((SECONDS - START)) -ge "$BUDGET" ]; then
                echo "time budget of ${BUDGET}s spent: stopping after $KILLS of $KILLS_WANTED kills"
                break
        fi
        ROUND=$((ROUND + 1)) DMODE=0
        [ $((ROUND - FIRST_ROUND)) -lt $((KILLS_WANTED * 20 + 20)) ] ||
                { echo "crash-campaign: too many rounds without kills; giving up"; exit 1; }
        RANDOM=$(( (SEED * 1000003 + ROUND * 7919) % 2147483647 ))
        RD=$W/round-$ROUND RECORD=$W/round-$ROUND/record STATE=$W/round-$ROUND/state
        CONFIG=$W/round-$ROUND/dev2prodd.yaml LOG=$W/round-$ROUND/daemon.log
        mkdir -p "$RD"
        if [ "$POWERCUT" = 1 ]; then
                DISK=$RD/disk SHADOW=$RD/shadow MNT=$RD/mnt STATE=$RD/mnt/state
                mkdir -p "$DISK" "$MNT"
                rnd 3
                if [ "$R" = 0 ]; then
                        # the service, with a daily due time missed (9)
                        DMODE=1 now=$(date +%s)
                        DUE=$(date -d "today 02:30" +%s)
                        [ "$DUE" -gt "$now" ] && DUE=$(date -d "yesterday 02:30" +%s)
                        DUE_ID=nightly-$(date -u -d "@$DUE" +%Y%m%dT%H%M%SZ)
                        mkdir -p "$DISK/state"
                        printf '{"format": 1, "last_due": {"nightly": %d}}\n' $((DUE - 3 * 86400)) \
                                > "$DISK/state/schedule.json"
                fi
                new_boot
                pc_mount "$DISK" "$SHADOW" "$MNT" || { KEEP=$RD; echo "crash-campaign: powercutfs did not mount"; exit 1; }
        fi

        # the round's server
        rnd 4; polls=$R
        rnd 3
        if [ "$R" = 0 ]; then rnd $((64 * 1024)); else rnd $((3 * 1024 * 1024 - 1024 + 1)); fi
        size=$((1024 + R))
        args=(--polls "$polls" --package-size "$size")
        throttle=-
        rnd 4
        if [ "$R" = 0 ]; then
                rnd $((4 * 1024 * 1024)); throttle=$((256 * 1024 + R))
                [ "$throttle" -lt $((size / 2)) ] && throttle=$((size / 2))  # a download of 2 s at most
                args+=(--throttle "$throttle")
        fi
        fault=- EXTRA_EXPORT=0 ERRORS=0
        rnd 5
        if [ "$R" -lt 2 ]; then
                rnd ${#FAULTS[@]}; fault=${FAULTS[$R]}
                case $fault in export:drop-after*|export:noid*|export:garbage*|export:id-not-string*) EXTRA_EXPORT=1 ;; esac
        fi
        rnd 6
        [ "$R" = 0 ] && { ERRORS=1; args+=(--fault dryrun_status:errors:1); }
        # after the errors: the mock gives a request the first fault that
        # fits it, and the dry run's errors must win over its warnings
        [ "$fault" != - ] && args+=(--fault "$fault")
        rnd 4; planned=$((1 + R))
        left=$((KILLS_WANTED - KILLS))
        [ "$planned" -gt "$left" ] && planned=$left
        PARAMS="polls=$polls size=$size throttle=$throttle fault=$fault errors=$ERRORS planned-kills=$planned"

        mock_start "${args[@]}"
        write_config
        KR=0 IMPORT_KILL=0 FINAL_RC='' HOWS=''
        [ "$DMODE" = 1 ] && PARAMS="${PARAMS% planned-kills=*} service planned-kills=$planned"

        FROZEN=()
        ended=0
        for ((a = 1; a <= planned; a++)); do
                saved_state; at=$S from=${S:-none}
                i=$(state_index "${at:-export}"); [ "$i" -lt 0 ] && i=0
                rem=$((9 - i))
                rnd 3
                case $R in
                0)      rnd 801; run_delay "$R" 2> /dev/null ;;
                1)      rnd ${#SYSCALLS[@]}
                        sc=${SYSCALLS[$R]}
                        case $sc in
                        rename)    rnd $((rem + 1)); n=$((R + 1)) ;;
                        fsync)     rnd $((2 * rem + 1)); n=$((R + 1)) ;;
                        write)     chunks=0; [ "$i" -le 2 ] && chunks=$((size / 16384 + 2))
                                   rnd $((2 * rem + 2 + chunks)); n=$((R + 1)) ;;
                        esac
                        run_strace "$sc" "$n" 2> /dev/null ;;
                2)      # a state still ahead: any when no job file exists yet,
                        # else a later one (8 = the final state, when only
                        # import-poll is left)
                        if [ -z "$at" ]; then rnd 8; t=$R
                        elif [ "$i" -ge 7 ]; then t=8
                        else rnd $((7 - i)); t=$((i + 1 + R)); fi
                        run_state "$t" 2> /dev/null ;;
                esac
                if [ "$HUNG" = 1 ]; then
                        ev "run $a: $HOW: still running after ${RUN_TIMEOUT}s, killed"
                        fail_round 1 "a daemon run ($HOW) did not end within ${RUN_TIMEOUT}s"
                fi
                [ "$RC" = 2 ] || [ "$RC" = 3 ] && fail_round 1 "dev2prodd exited $RC (configuration or lock): $(tail -n 2 "$LOG")"
                [ "$KILLED" = 0 ] && [ "$RC" -gt 3 ] && fail_round 1 "dev2prodd ($HOW, not killed by us) ended with status $RC: a crash? $(tail -n 3 "$LOG")"
                if [ "$KILLED" = 0 ]; then
                        ev "run $a: $HOW (run started from $from): not killed, exited $RC on its own (state $(jget state))"
                        HOWS+="${HOWS:+ }$HOW(ran-through)"
                        NOKILL=$((NOKILL + 1))
                        FINAL_RC=$RC ended=1
                        [ "$DMODE" = 1 ] && { [ "$RC" = 0 ] || fail_round 1 "the service exited $RC at SIGTERM"; FINAL_RC=; }
                        break
                fi
                KILLS=$((KILLS + 1)) KR=$((KR + 1))
                METHOD_KILLS[${HOW%%:*}]=$(( ${METHOD_KILLS[${HOW%%:*}]:-0} + 1 ))
                [ "$POWERCUT" = 1 ] && power_cut "kill $KR ($HOW)"
                saved_state; at=${S:-none}
                [ "$at" = import ] && IMPORT_KILL=1
                HOWS+="${HOWS:+ }$HOW@$at"
                ev "kill $KR: $HOW (run started from $from); saved state $at;" \
                   "record: export=$(count export) download=$(count download) upload=$(count upload)" \
                   "dryrun=$(count dryrun) import=$(count import)"
                check_files_readable "kill $KR ($HOW)"
                check_counts "kill $KR ($HOW)"
                check_frozen
                freeze
                # A job killed after its final state landed is over: running
                # --once again would start a new promotion.
                is_final "$at" && { ended=1; break; }
        done
        if [ "$ended" = 0 ]; then
                run_plain 2> /dev/null
                ev "final run: exited $RC (state $(jget state))"
                [ "$HUNG" = 1 ] && fail_round 1 "the final run did not end within ${RUN_TIMEOUT}s"
                [ "$RC" = 2 ] || [ "$RC" = 3 ] && fail_round 1 "dev2prodd exited $RC (configuration or lock): $(tail -n 2 "$LOG")"
                [ "$RC" -gt 3 ] && fail_round 1 "the final run of dev2prodd ended with status $RC: a crash? $(tail -n 3 "$LOG")"
                FINAL_RC=$RC
                [ "$DMODE" = 1 ] && { [ "$RC" = 0 ] || fail_round 1 "the service exited $RC at SIGTERM"; FINAL_RC=; }
        fi
        if [ "$POWERCUT" = 1 ]; then
                # 8: what the last run left must be durable
                saved_state; before=${S:-none}
                power_cut "the last run" final
                [ "$SURV" = "$before" ] ||
                        fail_round 8 "the job's state was $before when the run ended, $SURV after a power cut"
                held
        fi
        mock_stop
        check_end
        if [ "$DMODE" = 1 ]; then
                [ "$(basename "$(job_file)" .json)" = "$DUE_ID" ] ||
                        fail_round 9 "the job of the missed due time is $DUE_ID, the round's job file is $(job_file)"
                held
        fi
        if [ "$POWERCUT" = 1 ]; then
                f=$(jget failure)
                end_cuts "$(jget state | sed 's/^failed$//')${f}"
                pc_umount "$MNT"
                STATE=$DISK/state       # for the round's line below
        fi
        # oddities, not violations: leftovers of a kill after the job ended
        compgen -G "$STATE/jobs/*.pkg" > /dev/null && { PKG_LEFT=$((PKG_LEFT + 1)); ev "leftover package file"; }
        compgen -G "$STATE/jobs/.#*" > /dev/null && { TEMP_LEFT=$((TEMP_LEFT + 1)); ev "leftover temp file"; }

        printf 'round %d: %s | %s | %s%s | export=%s upload=%s dryrun=%s import=%s | kills %d, checks %d\n' \
                "$ROUND" "${PARAMS% planned-kills=*}" "${HOWS:-no kill}" "$(jget state)" \
                "$(f=$(jget failure); [ -n "$f" ] && echo " ($f)")" \
                "$(count export)" "$(count upload)" "$(count dryrun)" "$(count import)" "$KILLS" "$HELD"
        rm -rf "$RD"
done

elapsed=$((SECONDS - START))
echo
echo "kills by method: delay=${METHOD_KILLS[delay]:-0} strace=${METHOD_KILLS[strace]:-0} state=${METHOD_KILLS[state]:-0};" \
     "runs that ran through their kill point: $NOKILL"
echo "rounds ending with a leftover .pkg: $PKG_LEFT, with a leftover temp job file: $TEMP_LEFT"
echo "time: ${elapsed}s ($(( elapsed > 0 ? KILLS * 60 / elapsed : KILLS )) kills per minute)"
[ "$POWERCUT" = 1 ] && cut_table
echo "kills: $KILLS, rounds: $((ROUND - FIRST_ROUND + 1)), invariant checks held: $HELD"
echo "seed: $SEED"
