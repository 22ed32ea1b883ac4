#!/usr/bin/env bash
# A job resumed in a step whose saved start is in the future (issue 9,
# case F: the clock was stepped back while the job was stopped).  The step's
# age used to be `now - started` on the realtime clock: it underflowed, and
# the first poll after the resume failed the job at once with `timeout`.
# Now step_timeout is measured on the monotonic clock; a saved start in the
# future is logged ("is behind the start of this step") and the step's time
# counts from the resume.  The other direction is guarded too: a saved start
# older than step_timeout still fails at once with `timeout`, because the
# time the daemon was down counts toward the step.
#
# The clock is not stepped (a test must not touch the machine's clock): the
# job is killed in dry-run-poll and its file's steps["dry-run-poll"].started_usec
# is moved instead, which is what the resumed daemon sees after a step.
. "$(dirname "$0")/../lib.sh"

TIMEOUT_S=20
DAY_USEC=86400000000

now_usec() { date +%s%6N; }
message_has() { [[ $(job_get message) == *"$1"* ]]; }
log_lacks() { ! log_has "$1"; }
# started_of STEP: steps.STEP.started_usec of the newest job file
started_of() {
        awk -v k="        \"$1\": {" 'index($0, k) == 1 { f = 1 }
                f && /"started_usec"/ { gsub(/[^0-9]/, ""); print; exit }' "$(job_file)"
}
# set_started STEP USEC: rewrites steps.STEP.started_usec of the newest job file
set_started() {
        sed -i "/^        \"$1\": {\$/,/^        }/s/^\(            \"started_usec\": \)[0-9]*/\1$2/" "$(job_file)"
}

# killed_in_dry_run_poll: a fresh job run with --once, SIGKILLed once its
# file says dry-run-poll (each poll phase takes ~2 s: --polls 20, 100ms apart)
killed_in_dry_run_poll() {
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start --polls 20
        write_config "  step_timeout: ${TIMEOUT_S}s"
        "$D2P" --config "$CONFIG" --once nightly 2>> "$T/daemon.log" &
        local pid=$! f
        for _ in $(seq 150); do
                f=$(job_file)
                [ -n "$f" ] && grep -q '^    "state": "dry-run-poll",$' "$f" && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        [ "$(job_get state)" = dry-run-poll ] || { bad "killed in state '$(job_get state)', not dry-run-poll"; tail "$T/daemon.log"; return 1; }
        [ "$(count import)" = 0 ] || { bad "an import before the kill"; return 1; }
        return 0
}

# resume: runs --once again; RC gets its exit status, SECS its wall time
resume() {
        local t0; t0=$(now_usec)
        run_once; RC=$?
        SECS=$(( ($(now_usec) - t0) / 1000000 ))
}

echo "# the saved start of dry-run-poll is a day ahead of the clock"
if killed_in_dry_run_poll; then
        dry_id=$(job_get dry_run_id)
        future=$(( $(now_usec) + DAY_USEC ))
        set_started dry-run-poll "$future"
        check "the job file now says the step started a day from now" [ "$(started_of dry-run-poll)" = "$future" ]
        polls_before=$(grep -c "^request method=GET path=[^ ]*/dev2prod/import/$dry_id " "$RECORD")
        resume
        if [ "$RC" = 0 ]; then ok "the resumed job finishes (exit 0)"; else bad "the resumed job: exit $RC, failure '$(job_get failure)': $(job_get message)"; tail -5 "$T/daemon.log"; fi
        check "it did not fail with timeout" [ "$(job_get failure)" != timeout ]
        check "the clock step is logged" log_has "is behind the start of this step"
        check "the log says step_timeout counts from now" log_has "it was set back; step_timeout counts from now"
        check "the same dry run was polled on (no second dry run)" [ "$(count dryrun)" = 1 ]
        check "it was polled again after the resume" \
                [ "$(grep -c "^request method=GET path=[^ ]*/dev2prod/import/$dry_id " "$RECORD")" -gt "$polls_before" ]
        check "the resumed run took less than step_timeout (${SECS}s)" [ "$SECS" -lt "$TIMEOUT_S" ]
        check_promoted
fi

echo "# the saved start of dry-run-poll is 2 x step_timeout ago (the daemon was down)"
if killed_in_dry_run_poll; then
        past=$(( $(now_usec) - 2 * TIMEOUT_S * 1000000 ))
        set_started dry-run-poll "$past"
        check "the job file now says the step started $((2 * TIMEOUT_S))s ago" [ "$(started_of dry-run-poll)" = "$past" ]
        resume
        check "the resumed job fails (exit $RC)" [ "$RC" = 1 ]
        check "with failure timeout" [ "$(job_get failure)" = timeout ]
        check "the message names the step and step_timeout" message_has "dry-run-poll did not finish within step_timeout"
        check "at once: the resumed run took ${SECS}s, far below step_timeout" [ "$SECS" -lt 5 ]
        check "no warning of a clock set back" log_lacks "is behind the start of this step"
        check "nothing was imported" [ "$(count import)" = 0 ]
fi
finish
