#!/usr/bin/env bash
# Disk faults: the state_directory is a 2 MiB tmpfs, so the disk really
# fills up (ENOSPC) or turns read-only (EROFS) under the real daemon.
#   (a) the package does not fit: the job fails with `disk`, saying where
#   (b) the disk fills while a job runs: the next state save fails, the job
#       waits and sends nothing, and continues once space is freed
#   (c) the job folder turns read-only: the same; or, when `retries` saves
#       fail, it stops with its last good file and a restart resumes it
#   (d) the service survives a job failed for a full disk, runs the next one,
#       and gives back the space of a package whose download was retried;
#       a job that gives up saving is reported to `run --wait` and resumes
#       when the daemon starts again
# Needs root (mount); skipped otherwise.
. "$(dirname "$0")/../lib.sh"

T0=$SECONDS
ONCE_PID=
MOUNTED=
SIZE_KB=2048

disk_cleanup() {
        [ -n "$ONCE_PID" ] && kill -KILL "$ONCE_PID" 2>/dev/null && wait "$ONCE_PID" 2>/dev/null
        [ -n "${D_PID:-}" ] && kill -KILL "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
        D_PID=
        if [ -n "$MOUNTED" ]; then
                # keep the evidence: the tmpfs goes away with the unmount
                { [ "$FAILURES" -gt 0 ] || [ -n "${KEEP_TMP:-}" ]; } && cp -a "$STATE" "$T/state-at-exit" 2>/dev/null
                mountpoint -q "$STATE/jobs" && umount -l "$STATE/jobs"
                umount -l "$STATE" 2>/dev/null
        fi
        _lib_cleanup_daemon
}
trap disk_cleanup EXIT
trap 'exit 130' INT     # so that an interrupted run still unmounts
trap 'exit 143' TERM

mkdir -p "$STATE"
[ "$(id -u)" = 0 ] || skip "needs root (it mounts a small tmpfs as the state folder)"
command -v mount > /dev/null || skip "needs mount (Debian package mount; not in the smallest Debian roots)"
mount -t tmpfs -o "size=${SIZE_KB}k,mode=0700" d2p-test-state "$STATE" 2> "$T/mount.err" ||
        skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
MOUNTED=1

# fresh [MOCK ARGS]: empty tmpfs, new mock, log and record; config with the
# $EXTRA defaults lines and a control socket outside the tmpfs
fresh() {
        mock_stop
        mountpoint -q "$STATE/jobs" && umount "$STATE/jobs"
        rm -rf "${STATE:?}"/* "$RECORD" "$T/daemon.log"
        mock_start "$@"
        write_config "${EXTRA:-}"
        sed -i "1i control_socket: $T/ctl.sock" "$CONFIG"
}
used_kb() { df --output=used -k "$STATE" | tail -1 | tr -d ' '; }
avail_kb() { df --output=avail -k "$STATE" | tail -1 | tr -d ' '; }
job_id() { basename "$(job_file)" .json; }
show_ok() { "$CTL" --config "$CONFIG" show "$1" > "$T/show.out" 2>&1; }
downloads_requested() { grep -c '^request method=GET path=/rest/111/ces/attachment/' "$RECORD" || true; }
pkg_fds() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c '\.pkg' || true; }
failure_is() { check "job file failure is $1 (got '$(job_get failure)', state '$(job_get state)')" test "$(job_get failure)" = "$1"; }
# run_bg: run_once in the background (ONCE_PID)
run_bg() { run_once & ONCE_PID=$!; }
wait_bg() { local rc; wait "$ONCE_PID"; rc=$?; ONCE_PID=; return $rc; }

# ---- (a) ------------------------------------------------------------------
case_enospc_download() {
        echo "# case: (a) ENOSPC while downloading (a 4 MiB package on a 2 MiB disk)"
        fresh --package-size 4194304
        expect_rc 1 "the job fails" run_once
        local id; id=$(job_id)
        check "the log says the package could not be written and names the folder" \
                log_has "writing the package failed: No space left on device (in $STATE/jobs)"
        failure_is disk
        check "job file state is failed (got '$(job_get state)')" test "$(job_get state)" = failed
        check "the job file is still readable (dev2prodctl show exits 0)" show_ok "$id"
        check "the partial package is removed" test -z "$(ls "$STATE"/jobs/*.pkg 2>/dev/null)"
        check "the space is free again (used $(used_kb) KiB)" test "$(used_kb)" -lt 200
        check "nothing was uploaded" test "$(count upload)" = 0
}

# ---- (b) ------------------------------------------------------------------
case_enospc_save() {
        echo "# case: (b) ENOSPC while saving the state (the disk fills during the export poll)"
        EXTRA="  retries: 20
  retry_delay: 200ms" fresh --fault export_status:delay-1500:1
        run_bg
        wait_for "$T/daemon.log" "requested on tenant dev" 10 > /dev/null
        dd if=/dev/zero of="$STATE/filler" bs=64k 2> /dev/null
        check "the disk is full (avail $(avail_kb) KiB)" test "$(avail_kb)" -lt 8
        check "the daemon says it cannot save, and waits" \
                wait_for "$T/daemon.log" "cannot save the job's state in $STATE/jobs (try 1 of 20); nothing more is sent until it can be saved: free space" 10
        check "it names the errno" log_has "No space left on device"
        sleep 2
        check "nothing downloaded while the disk is full" test "$(downloads_requested)" = 0
        check "the job file on disk is the last good one (export-poll)" test "$(job_get state)" = export-poll
        check "and readable (dev2prodctl show exits 0)" show_ok "$(job_id)"
        check "it tried the save again meanwhile" log_has "(try 2 of 20)"
        rm -f "$STATE/filler"
        local rc; wait_bg; rc=$?
        check "after space is freed the job continues and succeeds (exit $rc)" test "$rc" = 0
        check_promoted
}

# ---- (c) ------------------------------------------------------------------
# The tmpfs itself cannot be remounted read-only while the daemon holds
# {state_directory}/lock open for writing (mount says "busy"), so the job
# folder is made read-only by a read-only bind mount on top of it.
ro_jobs() { mount --bind "$STATE/jobs" "$STATE/jobs" && mount -o remount,bind,ro "$STATE/jobs"; }
rw_jobs() { umount "$STATE/jobs"; }

case_readonly_wait() {
        echo "# case: (c) the job folder turns read-only mid-job, then writable again"
        EXTRA="  retries: 20
  retry_delay: 200ms" fresh --fault export_status:delay-1500:1
        run_bg
        wait_for "$T/daemon.log" "requested on tenant dev" 10 > /dev/null
        ro_jobs || { bad "cannot make $STATE/jobs read-only"; return; }
        check "the daemon says it cannot save (read-only), and waits" \
                wait_for "$T/daemon.log" "cannot save the job's state in $STATE/jobs (try 1 of 20).*Read-only file system" 10
        sleep 1.5
        check "nothing downloaded while read-only" test "$(downloads_requested)" = 0
        rw_jobs
        local rc; wait_bg; rc=$?
        check "writable again: the job continues and succeeds (exit $rc)" test "$rc" = 0
        check_promoted
}

case_readonly_give_up() {
        echo "# case: (c) read-only for longer than 'retries' saves: stop, then resume at the next start"
        EXTRA="  retries: 3
  retry_delay: 200ms" fresh --fault export_status:delay-1500:1
        run_bg
        wait_for "$T/daemon.log" "requested on tenant dev" 10 > /dev/null
        ro_jobs || { bad "cannot make $STATE/jobs read-only"; return; }
        local rc; wait_bg; rc=$?
        check "the run stops after 3 failed saves (exit $rc)" test "$rc" = 1
        check "the log says it gives up saving and keeps the last saved state" \
                log_has "giving up on saving; the job stops here and its last saved state is kept"
        check "the job file is the last good one (export-poll)" test "$(job_get state)" = export-poll
        check "and readable (dev2prodctl show exits 0)" show_ok "$(job_id)"
        check "nothing downloaded" test "$(downloads_requested)" = 0
        rw_jobs
        expect_rc 0 "the next run resumes the job and succeeds" run_once
        check "it resumed the saved job" log_has "resuming job $(job_id) of nightly (state export-poll)"
        check "one job file" test "$(ls "$STATE"/jobs/*.json | wc -l)" = 1
        check_promoted
}

# ---- (d) ------------------------------------------------------------------
case_daemon_survives() {
        echo "# case: (d) the service survives a job failed for a full disk"
        fresh --package-size 1048576
        daemon_start || { bad "the daemon did not start"; return; }
        # leave 512 KiB: the 1 MiB package cannot fit
        fallocate -l $(( ($(avail_kb) - 512) * 1024 )) "$STATE/filler"
        local rc out
        out=$(timeout 15 "$CTL" --config "$CONFIG" run nightly --wait 2>&1); rc=$?
        echo "$out" | sed 's/^/#   /'
        check "run --wait reports the failure (exit $rc, wanted 1; 124 = still waiting after 15 s)" test "$rc" = 1
        check "run --wait says failed (disk)" grep -q "failed (disk)" <<< "$out"
        check "the daemon still runs" kill -0 "$D_PID"
        failure_is disk
        check "the log names the folder" log_has "No space left on device (in $STATE/jobs)"
        rm -f "$STATE/filler"
        out=$(timeout 15 "$CTL" --config "$CONFIG" run nightly --wait 2>&1); rc=$?
        check "after freeing space a second promotion succeeds (exit $rc)" test "$rc" = 0
        check "the daemon still runs" kill -0 "$D_PID"
        check "exactly one import so far" test "$(count import)" = 1

        echo "# case: (d) the space of a package whose download was retried is given back"
        mock_fault download:truncate:2
        out=$(timeout 15 "$CTL" --config "$CONFIG" run nightly --wait 2>&1); rc=$?
        check "a promotion with two truncated downloads succeeds (exit $rc)" test "$rc" = 0
        check "the daemon holds no descriptor of a package file ($(pkg_fds "$D_PID") open)" test "$(pkg_fds "$D_PID")" = 0
        check "the package's space is free again (used $(used_kb) KiB)" test "$(used_kb)" -lt 200
        out=$(timeout 15 "$CTL" --config "$CONFIG" run nightly --wait 2>&1); rc=$?
        check "and the next 1 MiB promotion still fits (exit $rc)" test "$rc" = 0
        check "the daemon still runs" kill -0 "$D_PID"
        expect_rc 0 "the daemon stops cleanly" daemon_stop
}

case_daemon_gives_up_saving() {
        echo "# case: (d) daemon mode: a job that gives up saving is reported, and resumes at the next start"
        EXTRA="  retries: 3
  retry_delay: 200ms" fresh --fault export_status:delay-1500:1
        daemon_start || { bad "the daemon did not start"; return; }
        timeout 15 "$CTL" --config "$CONFIG" run nightly --wait > "$T/wait.out" 2>&1 &
        local wpid=$! rc id
        wait_for "$T/daemon.log" "requested on tenant dev" 10 > /dev/null
        dd if=/dev/zero of="$STATE/filler" bs=64k 2> /dev/null
        check "the job gives up saving after 3 tries" wait_for "$T/daemon.log" "giving up on saving" 10
        rm -f "$STATE/filler"
        wait "$wpid"; rc=$?
        sed 's/^/#   /' "$T/wait.out"
        check "run --wait ends instead of waiting for a job the daemon dropped (exit $rc; 124 = still waiting after 15 s)" \
                test "$rc" != 124 -a "$rc" != 0
        check "the daemon still runs" kill -0 "$D_PID"
        id=$(job_id)
        check "the job file is the last good one (export-poll)" test "$(job_get state)" = export-poll
        check "the log names the saved state it will resume from (export-poll)" \
                log_has "job $id stopped in state export-poll; it resumes at the next start"
        daemon_stop
        daemon_start || { bad "the daemon did not start again"; return; }
        check "after a restart the job resumes and succeeds" wait_state "$id" succeeded 20
        check "one job file" test "$(ls "$STATE"/jobs/*.json | wc -l)" = 1
        check_promoted
        daemon_stop
}

case_daemon_never_saved() {
        echo "# case: (e) daemon mode: a new job that can never be saved says the run is skipped, and sends nothing"
        EXTRA="  retries: 3
  retry_delay: 200ms" fresh
        daemon_start || { bad "the daemon did not start"; return; }
        ro_jobs || { bad "cannot make $STATE/jobs read-only"; daemon_stop; return; }
        "$CTL" --config "$CONFIG" run nightly > "$T/run.out" 2>&1
        check "the job gives up saving after 3 tries" wait_for "$T/daemon.log" "giving up on saving" 10
        check "the log says nothing was saved and how to run it again" \
                log_has "nothing of it could be saved this run is skipped: once the disk is fixed, start it with \`dev2prodctl run nightly\`"
        check "it does not promise a resume" test "$(grep -c 'it resumes at the next start' "$T/daemon.log")" = 0
        check "no request was sent" test "$(count export)" = 0
        check "the daemon still runs" kill -0 "$D_PID"
        rw_jobs
        check "no job file" test -z "$(ls "$STATE"/jobs/*.json 2>/dev/null)"
        daemon_stop
}

case_enospc_download
case_enospc_save
case_readonly_wait
case_readonly_give_up
case_daemon_survives
case_daemon_gives_up_saving
case_daemon_never_saved
echo "# disk faults took $((SECONDS - T0))s"
finish
