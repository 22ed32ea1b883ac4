#!/usr/bin/env bash
# The happy path: `dev2prodd --once` promotes a package between two tenants
# of the mock, and the mock's record shows exactly one export, a download
# whose bytes equal the upload's, a dry run on the uploaded FileId, then one
# import of it.  Also: api_key, bearer and session authentication.
. "$(dirname "$0")/../lib.sh"

mock_start --package-size 300000 --polls 2
write_config
expect_rc 0 "promotion succeeds" run_once
check_promoted
check "export polled until COMPLETED (IN_PROGRESS seen)" test "$(grep -c 'request method=GET path=/rest/111/dev2prod/export/' "$RECORD")" -ge 3
check "upload sent with the required User-Agent (mock refuses others)" test "$(count upload)" = 1
check "download recorded 300000 bytes" test "$(field download bytes)" = 300000
check "job file records the sha256 of the package" test "$(job_get download_sha256)" = "$(field upload sha256)"
check "job file records the import id" test "$(job_get import_id)" = "$(field import id)"
check "job file records the export id" test "$(job_get export_id)" = "$(field export id)"
check "job file is mode 0640 (the service's group reads it; no secret in it)" test "$(stat -c %a "$(job_file)")" = 640
check "the downloaded package is removed after the job" test -z "$(ls "$STATE"/jobs/*.pkg 2>/dev/null)"
check "no temp file left in the job folder" test -z "$(ls -A "$STATE/jobs" | grep '^\.#')"
check "one line per step on stderr" test "$(grep -c -e 'export of package' -e 'export .* completed' -e downloaded -e uploaded -e 'dry run of' -e 'dry run .* passed' -e 'import of file' -e 'job succeeded' "$T/daemon.log")" -ge 8
check "the API key never reaches stderr" test -z "$(grep -F "$KEY_DEV" "$T/daemon.log"; grep -F "$KEY_PROD" "$T/daemon.log")"
check "the API key never reaches the job file" test -z "$(grep -rF -e "$KEY_DEV" -e "$KEY_PROD" "$STATE")"

# A second run is a new job (the first one is finished): a new export.
expect_rc 0 "a second run succeeds as a new job" run_once
check "two exports, two imports after two runs" test "$(count export)/$(count import)" = 2/2
check "two job files" test "$(ls "$STATE"/jobs/*.json | wc -l)" = 2

# mode: dry-run stops after a clean dry run
mock_stop; rm -rf "$STATE" "$RECORD"
mock_start
MODE=dry-run write_config
expect_rc 0 "mode dry-run succeeds" run_once
check "mode dry-run: a dry run, no import" test "$(count dryrun)/$(count import)" = 1/0

# bearer and session authentication
mock_stop; rm -rf "$STATE" "$RECORD"
"$MOCK" --record "$RECORD" --port 0 --port-file "$T/port2" --tenant "111:bearer=tok-$KEY_DEV" \
        --tenant "222:session=deployer:pw-$KEY_PROD" > "$T/mock.out" 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do [ -s "$T/port2" ] && break; sleep 0.05; done
MOCK_URL="http://127.0.0.1:$(cat "$T/port2")"
write_config
printf 'tok-%s\n' "$KEY_DEV" > "$T/dev.key"
printf 'pw-%s\n' "$KEY_PROD" > "$T/prod.pw"; chmod 600 "$T/prod.pw"
sed -i "s|auth: { type: api_key, key_file: $T/dev.key }|auth: { type: bearer, key_file: $T/dev.key }|; s|auth: { type: api_key, key_file: $T/prod.key }|auth: { type: session, username: deployer, password_file: $T/prod.pw }|" "$CONFIG"
mock_fault "upload:expire:1"
expect_rc 0 "bearer + session promotion succeeds (session expired once)" run_once
check "logged in twice (first login, then renewal after the 401)" test "$(count login)" = 2
check "one import with session auth" test "$(count import)" = 1
check "the password never reaches stderr" test -z "$(grep -F "$KEY_PROD" "$T/daemon.log")"
finish
