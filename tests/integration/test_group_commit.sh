#!/usr/bin/env bash
# Group commit (daemon/commit.c): a save renames the job file at once, and
# the fsync of the jobs folder that makes the rename durable is shared and
# deferred; the state's request may only leave after it has succeeded.
# strace fails that folder fsync (-P: only the calls on the jobs folder,
# not the temp files' fsyncs) under `dev2prodd --once`:
#   (a) every folder fsync fails: nothing at all is sent, the job gives up
#       saving after `retries` tries and says so;
#   (b) the third one fails (the save of the download state): the download
#       waits, the save is tried again, and the job succeeds with every
#       step sent once.
. "$(dirname "$0")/../lib.sh"
command -v strace > /dev/null || skip "strace not installed"
strace -f -qq -o /dev/null -e inject=fsync:error=EIO:when=99 true 2> /dev/null || skip "strace fault injection not available here"

# run_failing WHEN: --once with the WHEN-th fsync of the jobs folder failing (EIO)
run_failing() {
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start --polls 1
        write_config
        mkdir -p "$STATE/jobs"          # strace -P resolves the path at its start
        strace -f -qq -o /dev/null -P "$STATE/jobs" -e trace=fsync -e inject=fsync:error=EIO:when="$1" \
                "$D2P" --config "$CONFIG" --once nightly 2>> "$T/daemon.log"
}

run_failing 1+; rc=$?
check "(a) every folder fsync fails: the run fails (exit $rc)" [ "$rc" != 0 ]
check "(a) nothing was sent: $(count export) exports, $(count upload) uploads, $(count import) imports" \
        [ "$(count export)" = 0 ] && [ "$(count upload)" = 0 ] && [ "$(count import)" = 0 ]
check "(a) the log says the save failed, 4 tries" [ "$(grep -c "cannot save the job's state" "$T/daemon.log")" = 4 ]
check "(a) and that it gave up saving" log_has "giving up on saving"

run_failing 3; rc=$?
check "(b) one failed folder fsync: the job succeeds (exit $rc)" [ "$rc" = 0 ] && [ "$(job_get state)" = succeeded ]
check "(b) the failed save was logged once" [ "$(grep -c "cannot save the job's state" "$T/daemon.log")" = 1 ]
check "(b) every step sent once: export $(count export), upload $(count upload), dry run $(count dryrun), import $(count import)" \
        [ "$(count export)" = 1 ] && [ "$(count upload)" = 1 ] && [ "$(count dryrun)" = 1 ] && [ "$(count import)" = 1 ]
finish
