#!/usr/bin/env bash
# The server misbehaviour matrix: one case per way a Dev2Prod server (or the
# network in front of it) can misbehave, each run by the real daemon
# (`--once`) against the real mock, each asserting what an operator wants:
# retried and succeeded (exactly one import), or failed with a specific log
# line and job-file `failure` code.  Every case prints "# case: NAME".
#
# Test settings (lib.sh): retries 4, retry_delay 100ms (so backoffs are
# 50-100ms, 100-200ms, 200-400ms with equal jitter), poll_interval 100ms.
. "$(dirname "$0")/../lib.sh"

T0=$SECONDS

# fresh [MOCK ARGS]: a new mock (tenants 111 and 222 with API keys), empty
# state, record and log; config with the $EXTRA defaults lines
fresh() {
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start "$@"; write_config "${EXTRA:-}"
}
# fresh_raw [MOCK ARGS]: the same with the caller's tenants (mock_start_raw)
fresh_raw() {
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start_raw "$@"; write_config "${EXTRA:-}"
}
faulted() { grep -c "^request .* fault=$1\$" "$RECORD" || true; }   # requests that got fault KIND
req_count() { grep -c "^request method=$1 path=$2" "$RECORD" || true; }
# timed_once: run_once, leaving the seconds it took in $ELAPSED
timed_once() { local s=$SECONDS rc; run_once; rc=$?; ELAPSED=$((SECONDS - s)); return $rc; }
failure_is() { check "job file failure is $1 (got '$(job_get failure)')" test "$(job_get failure)" = "$1"; }
state_is() { check "job file state is $1 (got '$(job_get state)')" test "$(job_get state)" = "$1"; }
say_log() { check "the log says: $1" log_has "$1"; }

# ---- 5xx: retried, then succeeds ----------------------------------------
# STEP:CODE pairs spread over reads and a creating request
case_5xx() {
        local step=$1 code=$2
        echo "# case: $code on $step"
        fresh --fault "$step:$code:2"
        expect_rc 0 "$code twice on $step: retried and succeeded" run_once
        check "two requests got the $code" test "$(faulted "$code")" = 2
        check "exactly one import" test "$(count import)" = 1
        check "exactly one export" test "$(count export)" = 1
        check "the log says HTTP $code and retries" grep -q "HTTP $code: .*; try 3 of 4" "$T/daemon.log"
        # README: the failure is logged with the server's words (the mock's body is "injected CODE")
        check "the log gives the server's words ('injected $code')" grep -q "HTTP $code: injected $code; try 3 of 4" "$T/daemon.log"
        state_is succeeded
}

# ---- 429 ------------------------------------------------------------------
case_429_retry_after() {
        echo "# case: 429 with Retry-After: 2"
        fresh --fault export:retry-after-2:1
        expect_rc 0 "429 + Retry-After on the export, then success" timed_once
        check "waited at least the 2 s the server asked for (took ${ELAPSED}s)" test "$ELAPSED" -ge 2
        say_log "HTTP 429: injected 429; try 2 of 4 in 2s"
        check "a 429 is not counted as a possible duplicate" test "$(job_get duplicates)" = 0
        check "one export, one import" test "$(count export)/$(count import)" = 1/1
}

case_429_backoff() {
        echo "# case: 429 without Retry-After (exponential backoff)"
        fresh --fault export:429:3
        expect_rc 0 "429 three times, then success" run_once
        local n lo hi d
        for n in 2 3 4; do
                # try n waits retry_delay * 2^(n-2), jittered into its upper half
                hi=$((100000 << (n - 2))); lo=$((hi / 2))
                d=$(sed -n "s/.*HTTP 429: injected 429; try $n of 4 in \([0-9a-z]*\)\$/\1/p" "$T/daemon.log" | head -1)
                d=$(usec_of "$d")
                check "try $n waited $((d / 1000))ms, within ${lo%000}-${hi%000}ms (doubling backoff)" \
                        test "$d" -ge "$lo" -a "$d" -le "$hi"
        done
        check "four export requests, one export created" test "$(req_count POST /rest/111/dev2prod/export/types/)/$(count export)" = 4/1
        check "exactly one import" test "$(count import)" = 1
}

# ---- connection refused ------------------------------------------------
case_refused() {
        echo "# case: connection refused (source tenant on a closed port)"
        fresh
        local port; port=$(free_port)
        tenant_url dev "http://127.0.0.1:$port"
        expect_rc 1 "a closed port fails the job after 'retries' tries" run_once
        failure_is gave-up
        say_log "gave up after 4 tries"
        check "the log says the connection was refused" grep -qiE "couldn't connect|failed to connect|connection refused" "$T/daemon.log"
        check "export tried 4 times (job file attempts)" test "$(job_attempts export)" = 4
        check "never sent, so no duplicate is counted" test "$(job_get duplicates)" = 0
        check "nothing reached the mock" test "$(count export)" = 0
}

case_refused_then_up() {
        echo "# case: connection refused, then the server comes up"
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        local port pid rc; port=$(free_port)
        MOCK_URL="http://127.0.0.1:$port"
        write_config "  retries: 8"
        run_once & pid=$!
        wait_for "$T/daemon.log" "try 2 of 8" 10 > /dev/null
        sleep 0.3
        mock_start_raw --port "$port" --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD"
        wait "$pid"; rc=$?
        check "a try after the server came up succeeds (exit $rc)" test "$rc" = 0
        check "the refused tries were logged as retries" grep -qiE "(couldn't|failed to) connect.*try 2 of 8" "$T/daemon.log"
        check "export attempts > 1 (job file)" test "$(job_attempts export)" -gt 1
        check_promoted
}

# ---- resets, hangs, stalls ----------------------------------------------
case_drop_poll() {
        # On a reused keep-alive connection libcurl itself sends a GET again
        # when the connection dies before the answer starts; the second drop
        # (on the fresh connection curl opened) reaches the daemon.
        echo "# case: connection reset before the answer (drop on a status poll, twice)"
        fresh --fault export_status:drop:2
        expect_rc 0 "dropped polls are retried and the job succeeds" run_once
        check "the mock dropped two polls" test "$(faulted drop)" = 2
        check "the log names the failure and the retry" grep -qE "export-poll: .*(Empty reply|reset|Recv failure|Server returned nothing).*try 2 of 4" "$T/daemon.log"
        check "exactly one export and one import" test "$(count export)/$(count import)" = 1/1
}

case_hang_poll() {
        echo "# case: a server that accepts and never answers (hang on a poll, request_timeout: 2s)"
        EXTRA="  request_timeout: 2s" fresh --fault dryrun_status:hang:1
        expect_rc 0 "the hung poll times out, is retried, and the job succeeds" timed_once
        check "it waited for request_timeout (took ${ELAPSED}s >= 2s)" test "$ELAPSED" -ge 2
        check "the log says it timed out, and retries" grep -qiE "dry-run-poll: .*time.*out.*try 2 of 4" "$T/daemon.log"
        check "exactly one import" test "$(count import)" = 1
}

case_stall_download() {
        echo "# case: a download that stalls halfway (stall_timeout: 2s)"
        EXTRA="  stall_timeout: 2s" fresh --package-size 400000 --fault download:stall:1
        expect_rc 0 "the stalled download is abandoned, retried and succeeds" timed_once
        # libcurl judges "too slow" on a ~5 s moving average of the speed, so
        # a stall is noticed after stall_timeout plus up to ~6 s
        check "abandoned after stall_timeout, within curl's averaging window (took ${ELAPSED}s, 2-12s)" \
                test "$ELAPSED" -ge 2 -a "$ELAPSED" -le 12
        check "the log says why: too slow / stalled" grep -qiE "download: .*(too slow|stall).*try 2 of 4" "$T/daemon.log"
        check "the first download is incomplete, the second complete" \
                test "$(grep -c '^download .*complete=0' "$RECORD")/$(grep -c '^download .*complete=1' "$RECORD")" = 1/1
        check "the retry started from byte 0: 400000 bytes uploaded" test "$(field upload bytes)" = 400000
        check "job file records 400000 bytes" test "$(job_get download_bytes)" = 400000
        check_promoted
}

case_truncate() {
        echo "# case: a download shorter than its Content-Length (truncate)"
        fresh --package-size 300000 --fault download:truncate:1
        expect_rc 0 "the short download is refused, retried and succeeds" run_once
        check "the log says the body was short" grep -qiE "download: .*(partial|bytes remaining|Content-Length).*try 2 of 4" "$T/daemon.log"
        check "one incomplete download, then one complete" \
                test "$(grep -c '^download .*complete=0' "$RECORD")/$(grep -c '^download .*complete=1' "$RECORD")" = 1/1
        check "300000 bytes uploaded" test "$(field upload bytes)" = 300000
        check_promoted
}

case_long() {
        echo "# case: a download longer than its Content-Length (long)"
        fresh --package-size 300000 --fault download:long:1
        expect_rc 0 "the job succeeds (the excess refused or the download retried)" run_once
        # (how many excess bytes the mock got out depends on how soon curl closed)
        check "the mock answered with the over-long body" grep -q '^request method=GET path=/rest/111/ces/attachment/.* fault=long$' "$RECORD"
        check "exactly the announced 300000 bytes were uploaded" test "$(field upload bytes)" = 300000
        check "job file records 300000 bytes" test "$(job_get download_bytes)" = 300000
        check_promoted
}

# ---- malformed answers ------------------------------------------------
case_garbage_poll() {
        echo "# case: HTML instead of JSON (garbage on a status poll)"
        fresh --fault dryrun_status:garbage:2
        expect_rc 0 "HTML status answers are retried, then the job succeeds" run_once
        say_log "unreadable dry-run status"
        say_log "the answer could not be used; try 3 of 4"
        check "exactly one dry run and one import" test "$(count dryrun)/$(count import)" = 1/1
}

case_noid_export() {
        echo "# case: JSON without the Id (noid on the export)"
        fresh --fault export:noid:1
        expect_rc 0 "the export is requested again and the job succeeds" run_once
        say_log '"Id" is missing'
        check "the possible duplicate is logged as harmless" grep -q "export may have reached tenant dev.*duplicate.*harmless" "$T/daemon.log"
        check "two exports on the server" test "$(count export)" = 2
        check "job file counts one duplicate" test "$(job_get duplicates)" = 1
        check "the job went on with the second export's id" test "$(job_get export_id)" = "$(field export id 2)"
        check "exactly one import" test "$(count import)" = 1
}

case_id_not_string() {
        echo "# case: an Id that is a number (id-not-string on the upload)"
        fresh --fault upload:id-not-string:1
        expect_rc 0 "the upload is sent again and the job succeeds" run_once
        say_log '"Id" is a number'
        check "two uploads, the dry run on the second" test "$(count upload)/$(field dryrun file_id)" = "2/$(field upload file_id 2)"
        check "job file counts one duplicate" test "$(job_get duplicates)" = 1
        check "exactly one import" test "$(count import)" = 1
}

# Asserted: a 50 MB status is refused (the daemon stops reading at its 8 MiB
# answer limit) and retried; used up after one answer the job succeeds; a
# permanent one fails with gave-up after `retries` tries.
case_bigstatus_once() {
        echo "# case: a 50 MB status object, once"
        fresh --fault export_status:bigstatus:1
        expect_rc 0 "the huge answer is refused, the poll retried, the job succeeds" run_once
        say_log "answer larger than"
        check "the refusal is followed by a retry" grep -q "answer larger than .*try 2 of 4" "$T/daemon.log"
        check "exactly one import" test "$(count import)" = 1
}

case_bigstatus_forever() {
        echo "# case: a 50 MB status object, forever"
        fresh --fault export_status:bigstatus:0
        expect_rc 1 "every status too large: the job gives up" run_once
        failure_is gave-up
        say_log "gave up after 4 tries"
        check "the message says the answer was too large" grep -q "job failed: answer larger than" "$T/daemon.log"
        check "nothing was downloaded" test "$(req_count GET /rest/111/ces/attachment)" = 0
}

case_unknown_status() {
        echo "# case: an unknown status word forever (step_timeout: 2s)"
        EXTRA="  step_timeout: 2s" fresh --fault export_status:unknown-status:0
        expect_rc 1 "polling ends at step_timeout" timed_once
        failure_is timeout
        say_log "export-poll did not finish within step_timeout (2s)"
        check "it polled for about step_timeout (took ${ELAPSED}s)" test "$ELAPSED" -ge 2 -a "$ELAPSED" -le 6
        check "nothing was downloaded" test "$(req_count GET /rest/111/ces/attachment)" = 0
}

# ---- sessions -----------------------------------------------------------
session_setup() {   # dev: API key; prod: a session tenant
        fresh_raw --tenant "111:key=$KEY_DEV" --tenant "222:session=deployer:pw-$KEY_PROD" "$@"
        printf 'pw-%s\n' "$KEY_PROD" > "$T/prod.pw"; chmod 600 "$T/prod.pw"
        sed -i "s|auth: { type: api_key, key_file: $T/prod.key }|auth: { type: session, username: deployer, password_file: $T/prod.pw }|" "$CONFIG"
}

case_session_expire() {
        echo "# case: a 401 on a session tenant (the session expired)"
        session_setup --fault dryrun_status:expire:1
        expect_rc 0 "the session is renewed once and the job succeeds" run_once
        check "logged in twice: the first login and one renewal" test "$(count login)" = 2
        say_log "session of tenant prod expired (401); logging in again"
        check "exactly one import" test "$(count import)" = 1
}

case_session_401_forever() {
        echo "# case: a permanent 401 on a session tenant"
        session_setup --fault upload:401:0
        expect_rc 1 "one renewal, then the job fails" run_once
        failure_is auth
        check "logged in twice: the first login and one renewal, no more" test "$(count login)" = 2
        check "the upload was refused twice (before and after the renewal)" test "$(faulted 401)" = 2
        say_log "check the username and password of tenant prod"
        check "nothing was dry-run or imported" test "$(count dryrun)/$(count import)" = 0/0
}

# ---- TLS ----------------------------------------------------------------
tls_setup() {
        [ -s "$T/tls/server.pem" ] || make_tls "$T/tls" || { bad "openssl could not make a test CA"; cat "$T/tls/openssl.log"; return 1; }
        MOCK_SCHEME=https fresh_raw --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD" \
                --tls-cert "$T/tls/server.pem" --tls-key "$T/tls/server.key"
}

case_tls_untrusted() {
        echo "# case: TLS, a certificate from an unknown CA, no ca_file"
        tls_setup || return
        expect_rc 1 "an untrusted certificate fails the job" run_once
        failure_is tls
        say_log "for a private CA, set ca_file: on tenant dev"
        check "the log names the certificate problem" grep -qiE "export: .*(certificate|SSL)" "$T/daemon.log"
        check "not retried: one export attempt" test "$(job_attempts export)" = 1
        check "no request reached the server" test "$(count export)" = 0
}

case_tls_ca_file() {
        echo "# case: TLS with ca_file: the test CA"
        tls_setup || return
        tenant_set dev "ca_file: $T/tls/ca.pem"
        tenant_set prod "ca_file: $T/tls/ca.pem"
        expect_rc 0 "with ca_file the promotion succeeds over https" run_once
        check "no insecure warning without insecure_skip_verify" test "$(grep -c insecure_skip_verify "$T/daemon.log")" = 0
        check_promoted
}

case_tls_insecure() {
        echo "# case: TLS with insecure_skip_verify: true"
        tls_setup || return
        tenant_set dev "insecure_skip_verify: true"
        tenant_set prod "insecure_skip_verify: true"
        expect_rc 0 "with insecure_skip_verify the promotion succeeds" run_once
        check "a loud warning for each insecure tenant" test "$(grep -c 'warning: tenant .*: insecure_skip_verify is on: TLS certificates of .* are NOT checked' "$T/daemon.log")" = 2
        check "the warning comes at start, before the job's first line" \
                test "$(grep -n 'insecure_skip_verify is on' "$T/daemon.log" | head -1 | cut -d: -f1)" -lt "$(grep -n 'job started' "$T/daemon.log" | head -1 | cut -d: -f1)"
        check_promoted
}

case_5xx export_status 500
case_5xx download 502
case_5xx dryrun 503
case_5xx import_status 504
case_429_retry_after
case_429_backoff
case_refused
case_refused_then_up
case_drop_poll
case_hang_poll
case_stall_download
case_truncate
case_long
case_garbage_poll
case_noid_export
case_id_not_string
case_bigstatus_once
case_bigstatus_forever
case_unknown_status
case_session_expire
case_session_401_forever
case_tls_untrusted
case_tls_ca_file
case_tls_insecure
echo "# fault matrix took $((SECONDS - T0))s"
finish
