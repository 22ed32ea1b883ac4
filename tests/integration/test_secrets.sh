#!/usr/bin/env bash
# Secrets never leak: full promotions with an API key, a bearer token and a
# session password (each a random 32-character string), with
# DEV2PRODD_LOG_LEVEL=debug (curl's own account of every request), in
# --once mode and in daemon mode (dev2prodctl run --wait); then everything
# the daemon and dev2prodctl wrote is searched for each secret, as plain
# text and base64: the state folder (every file, schedule.json included),
# their stderr and stdout, /proc/<pid>/cmdline and /proc/<pid>/environ of
# the running daemon, and the journal when journald is reachable.
# Also: secret files readable by others or owned by another user are
# refused (exit 2, with the chmod to run), and insecure_skip_verify warns at
# every start.
. "$(dirname "$0")/../lib.sh"

T0=$SECONDS
rand32() { local s=""; while [ ${#s} -lt 32 ]; do s+=$(head -c 64 /dev/urandom | tr -dc 'A-Za-z0-9'); done; echo "${s:0:32}"; }
S_KEY=$(rand32)         # api_key of tenant dev
S_TOKEN=$(rand32)       # bearer token of tenant edge
S_PW=$(rand32)          # session password of tenant prod (user deployer)
CTL_LOG="$T/ctl.log"
EVIDENCE="$T/evidence"  # copies of /proc files and journal output
mkdir -p "$EVIDENCE"

mock_start_raw --tenant "111:key=$S_KEY" --tenant "222:session=deployer:$S_PW" --tenant "333:bearer=$S_TOKEN" \

printf '%s\n' "$S_KEY" > "$T/dev.key"
printf '%s' "$S_TOKEN" > "$T/edge.token"
printf '%s\n' "$S_PW" > "$T/prod.pw"
chmod 600 "$T/dev.key" "$T/edge.token" "$T/prod.pw"

# write_secrets_config [EXTRA PROD TENANT LINE]
write_secrets_config() {
        cat > "$CONFIG" <<YAML
state_directory: $STATE
control_socket: $T/ctl.sock
defaults:
  poll_interval: 100ms
  retry_delay: 100ms
  retries: 4
  step_timeout: 30s
tenants:
  dev:
    url: $MOCK_URL
    tenant_id: "111"
    auth: { type: api_key, key_file: $T/dev.key }
  edge:
    url: $MOCK_URL
    tenant_id: "333"
    auth: { type: bearer, key_file: $T/edge.token }
  prod:
    url: $MOCK_URL
    tenant_id: "222"
    auth: { type: session, username: deployer, password_file: $T/prod.pw }
${1:-}
$(nightly_promotion)
  - name: edge-nightly
    package: "777"
    from: edge
    to: prod
    schedule: "45 2 * * *"
YAML
}
write_secrets_config

echo "# case: --once with debug logging"
export DEV2PRODD_LOG_LEVEL=debug
# each run: the session expires once at the upload, so the password is sent twice
mock_fault upload:expire:1
expect_rc 0 "api_key -> session promotion (--once, debug)" run_once nightly
mock_fault upload:expire:1
expect_rc 0 "bearer -> session promotion (--once, debug)" run_once edge-nightly
check "debug logging is on: curl's account of the requests is there" log_has "debug: curl > GET "
check "the Authorization header is shown redacted" log_has "curl > Authorization: (redacted)"
check "the session was renewed after each expiry (the password was sent 4 times)" test "$(count login)" = 4
check "two imports" test "$(count import)" = 2

echo "# case: daemon mode with debug logging (dev2prodctl run --wait)"
daemon_start || bad "the daemon did not start"
snap_proc() {   # copies what any local user could ask /proc about the daemon
        cat "/proc/$D_PID/cmdline" > "$EVIDENCE/cmdline.$1" 2>/dev/null || bad "cannot read /proc/$D_PID/cmdline"
        cat "/proc/$D_PID/environ" > "$EVIDENCE/environ.$1" 2>/dev/null || bad "cannot read /proc/$D_PID/environ"
}
snap_proc start
ctl_run_wait() { DEV2PRODD_LOG_LEVEL=debug timeout 30 "$CTL" --config "$CONFIG" run "$1" --wait >> "$CTL_LOG" 2>&1; }
for p in nightly edge-nightly; do
        mock_fault upload:expire:1
        expect_rc 0 "dev2prodctl run $p --wait" ctl_run_wait "$p"
        snap_proc "$p"
done
check "/proc/<pid>/cmdline was read (non-empty)" test -s "$EVIDENCE/cmdline.start"
check "/proc/<pid>/environ was read (has DEV2PRODD_LOG_LEVEL)" grep -qa DEV2PRODD_LOG_LEVEL "$EVIDENCE/environ.start"
{
        "$CTL" --config "$CONFIG" history
        "$CTL" --config "$CONFIG" --json history
        "$CTL" --config "$CONFIG" list
        for f in "$STATE"/jobs/*.json; do
                "$CTL" --config "$CONFIG" show "$(basename "$f" .json)"
                "$CTL" --config "$CONFIG" --json show "$(basename "$f" .json)"
        done
} >> "$CTL_LOG" 2>&1
expect_rc 0 "the daemon stops cleanly" daemon_stop
check "four imports in all" test "$(count import)" = 4
# the daemon keeps a session between jobs: 4 (--once) + login, renewal, renewal
check "seven logins in all (a renewal in each run; the session kept between jobs)" test "$(count login)" = 7
check "schedule.json was written (it is searched too)" test -s "$STATE/schedule.json"

echo "# case: the journal"
JOURNAL=
if [ -S /run/systemd/journal/socket ] && command -v systemd-cat > /dev/null && journalctl -n 0 > /dev/null 2>&1; then
        tag=d2p-secrets-$$-$RANDOM
        since=$(date '+%Y-%m-%d %H:%M:%S')
        mock_fault upload:expire:1
        systemd-cat -t "$tag" "$D2P" --config "$CONFIG" --once nightly
        sleep 1
        journalctl --since "$since" -o export > "$EVIDENCE/journal" 2>/dev/null
        check "the daemon's lines reached the journal" grep -qaE "$tag|SYSLOG_IDENTIFIER=dev2prodd" "$EVIDENCE/journal"
        JOURNAL=1
else
        echo "# journal: journald is not reachable here; that part is skipped"
fi
unset DEV2PRODD_LOG_LEVEL

echo "# case: refused secret files"
chmod 644 "$T/dev.key"
"$D2P" --config "$CONFIG" --check-config > "$T/refuse.out" 2>&1; rc=$?
check "a key file with mode 0644 is refused: --check-config exits 2 (got $rc)" test "$rc" = 2
check "the message says to run chmod 600 on it" grep -q "chmod 600 $T/dev.key" "$T/refuse.out"
"$D2P" --config "$CONFIG" --once nightly > "$T/refuse2.out" 2>&1; rc=$?
check "--once with that key file exits 2 (got $rc)" test "$rc" = 2
check "and says chmod 600 too" grep -q "chmod 600 $T/dev.key" "$T/refuse2.out"
cat "$T/refuse.out" "$T/refuse2.out" >> "$CTL_LOG"
chmod 600 "$T/dev.key"
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
        chown nobody "$T/prod.pw"
        "$D2P" --config "$CONFIG" --check-config > "$T/refuse3.out" 2>&1; rc=$?
        check "a password file owned by another user is refused: exit 2 (got $rc)" test "$rc" = 2
        check "the message names the owner" grep -q "$T/prod.pw is owned by uid $(id -u nobody)" "$T/refuse3.out"
        cat "$T/refuse3.out" >> "$CTL_LOG"
        chown root "$T/prod.pw"
else
        echo "# not root: the foreign-owner check is skipped"
fi
expect_rc 0 "with mode 0600 and our own files the configuration loads" "$D2P" --config "$CONFIG" --check-config > /dev/null 2>> "$CTL_LOG"

echo "# case: insecure_skip_verify warns at every start"
write_secrets_config "    insecure_skip_verify: true"
before=$(grep -c "tenant prod: insecure_skip_verify is on" "$T/daemon.log")
daemon_start && daemon_stop
daemon_start && daemon_stop
after=$(grep -c "tenant prod: insecure_skip_verify is on" "$T/daemon.log")
check "two starts, two warnings (got $((after - before)))" test "$((after - before))" = 2
check "the warning says certificates are NOT checked" log_has "insecure_skip_verify is on: TLS certificates of $MOCK_URL are NOT checked"

echo "# case: no secret anywhere"
b64() { printf '%s' "$1" | base64 -w0; }
# every file the daemon and dev2prodctl wrote, and what we copied from /proc and the journal
corpus=("$STATE" "$T/daemon.log" "$CTL_LOG" "$EVIDENCE")
check "the state folder holds the job files searched" test "$(ls "$STATE"/jobs/*.json | wc -l)" -ge 4
for name in S_KEY S_TOKEN S_PW; do
        s=${!name}
        for form in plain base64 base64-user; do
                case $form in
                plain) needle=$s ;;
                base64) needle=$(b64 "$s") ;;
                base64-user) needle=$(b64 "deployer:$s") ;;
                esac
                hits=$(grep -rlaF -- "$needle" "${corpus[@]}" 2>/dev/null)
                check "$name ($form) appears nowhere${hits:+: found in $hits}" test -z "$hits"
        done
done
# the search itself works: the mock's command line does hold the secrets
mkdir -p "$T/control"; cat "/proc/$MOCK_PID/cmdline" > "$T/control/mock-cmdline"
for name in S_KEY S_TOKEN S_PW; do
        check "(control) the same search finds $name in the mock's /proc cmdline" grep -rqaF -- "${!name}" "$T/control"
done
[ -n "$JOURNAL" ] || echo "# (the journal was not searched: not reachable)"
echo "# secrets test took $((SECONDS - T0))s"
finish
