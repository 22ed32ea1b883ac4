#!/usr/bin/env bash
# Self-test of the mock Dev2Prod server, driven by hand with curl: the
# seven steps of a promotion (export, poll, download, upload, dry run,
# poll, import, poll) between a key tenant and a session tenant, then a
# few faults. Everything is checked from HTTP answers and from the mock's
# record file, which the daemon's tests rely on.
# Usage: tests/integration/test_mock.sh [BUILD_DIR]   (exit 0 ok, 1 fail, 77 skip)
# shellcheck disable=SC2317  # helpers run through check(), unseen by shellcheck
set -u
BUILD=${1:-build}
MOCK="$BUILD/mock-dev2prod"
command -v curl > /dev/null || { echo "SKIP: curl (the command-line tool) is not installed"; exit 77; }
[ -x "$MOCK" ] || { echo "not ok - no $MOCK: build it first"; exit 1; }

T=$(mktemp -d /tmp/d2p-mock-test.XXXXXX)
FAILURES=0
MOCK_PID=
KEY=key-$RANDOM$RANDOM
PASSWORD=pw-$RANDOM$RANDOM
SIZE=300017                     # odd on purpose: no block size divides it

cleanup() {
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2> /dev/null && wait "$MOCK_PID" 2> /dev/null
        if [ "$FAILURES" -gt 0 ] || [ -n "${KEEP_TMP:-}" ]; then echo "(kept $T for inspection)"; else rm -rf "$T"; fi
}
trap cleanup EXIT

ok()  { echo "ok - $*"; }
bad() { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

# mock_start NAME [ARGS...]: a mock with record $T/NAME.record; sets URL
mock_start() {
        local name=$1; shift
        REC="$T/$name.record"
        rm -f "$T/port"
        "$MOCK" --record "$REC" --port 0 --port-file "$T/port" \
                --tenant "111:key=$KEY" --tenant "222:session=deployer:$PASSWORD" "$@" \
                > "$T/$name.out" 2> "$T/$name.err" &
        MOCK_PID=$!
        for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
        [ -s "$T/port" ] || { cat "$T/$name.err"; bad "mock $name did not start"; exit 1; }
        URL="http://127.0.0.1:$(cat "$T/port")"
}
mock_stop() {
        local rc=0
        kill "$MOCK_PID" 2> /dev/null
        wait "$MOCK_PID" 2> /dev/null || rc=$?
        MOCK_PID=
        return $rc
}

# http METHOD PATH [CURL ARGS...]: body to $T/body, status code on stdout
http() {
        local m=$1 p=$2; shift 2
        curl -sS -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
json_str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T/body"; }
# field EVENT KEY [NTH]: a value from the NTH line of EVENT in the record
field() { grep "^$1 " "$REC" | sed -n "${3:-1}p" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
count() { grep -c "^$1 " "$REC" || true; }
# wait_count EVENT N: the download line comes when MHD has finished the
# request, a moment after the client saw the end; wait up to 5 s for it
wait_count() { local _; for _ in $(seq 100); do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }

SRC=(-H "Authorization: rest_api_key=$KEY")
UA=(-A Apache-HttpClient/4.4.1)

# poll PATH AUTH...: GETs PATH until Status is COMPLETED (or 100 tries)
poll() {
        local p=$1 _; shift
        for _ in $(seq 100); do
                [ "$(http GET "$p" "$@")" = 200 ] || return 1
                grep -q '"Status":"COMPLETED"' "$T/body" && return 0
                sleep 0.02
        done
        return 1
}

echo "# the seven steps by hand"
mock_start main --package-size $SIZE --polls 2
check "port file and stdout agree" grep -qx "listening on 127.0.0.1:$(cat "$T/port")" "$T/main.out"

check "export answers 200" test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')" = 200
EXPORT_ID=$(json_str Id)
check "export id is 24 hex digits" grep -Eqx '[0-9a-f]{24}' <<< "$EXPORT_ID"
check "first poll is IN_PROGRESS, no FileId yet" \
        test "$(http GET "/rest/111/dev2prod/export/$EXPORT_ID" "${SRC[@]}")/$(json_str Status)/$(json_str FileId)" = "200/IN_PROGRESS/"
check "export polled until COMPLETED" poll "/rest/111/dev2prod/export/$EXPORT_ID" "${SRC[@]}"
FILE_ID=$(json_str FileId)
check "COMPLETED status has a UUID FileId and the documented keys" \
        grep -q "\"id\":\"$EXPORT_ID\".*\"PackageBundleName\":\"Package-54321-111-.*\"FileId\":\"[0-9a-f-]\{36\}\".*\"Statistics\":\[{\"PackageName\".*\"OperationType\":\"Export\"" "$T/body"

check "download answers 200" test "$(curl -sS -o "$T/pkg" -w '%{http_code}' "${SRC[@]}" "$URL/rest/111/ces/attachment/$FILE_ID")" = 200
check "downloaded file has --package-size bytes" test "$(stat -c %s "$T/pkg")" = $SIZE

check "session login answers a 32-hex key" \
        test "$(http POST /api/rest/authentication/login -d "{\"tenant\":\"222\",\"username\":\"deployer\",\"password\":\"$PASSWORD\",\"role\":\"Administrator\"}")" = 200
SESSION=$(cat "$T/body")
check "session key shape" grep -Eqx '[0-9a-f]{32}' <<< "$SESSION"
DST=(-H "Authorization: $SESSION")

check "upload answers 200" test "$(http POST /rest/222/ces/attachment "${DST[@]}" "${UA[@]}" -F "Files[]=@$T/pkg")" = 200
TARGET_FILE=$(json_str Id)
check "dry run answers 200" test "$(http POST '/rest/222/dev2prod/import?dryRun=true' "${DST[@]}" -d "{\"FileId\":\"$TARGET_FILE\"}")" = 200
DRY_ID=$(json_str Id)
check "dry run polled until COMPLETED" poll "/rest/222/dev2prod/import/$DRY_ID" "${DST[@]}"
check "dry-run status: DryRun true, no errors, Totals.Failed 0" \
        grep -q '"DryRun":true.*"Errors":\[\].*"Totals":{[^}]*"Failed":0' "$T/body"
check "import answers 200" test "$(http POST /rest/222/dev2prod/import "${DST[@]}" -d "{\"FileId\":\"$TARGET_FILE\"}")" = 200
IMPORT_ID=$(json_str Id)
check "import polled until COMPLETED" poll "/rest/222/dev2prod/import/$IMPORT_ID" "${DST[@]}"
check "import status says DryRun false, OperationType Import" grep -q '"DryRun":false.*"OperationType":"Import"' "$T/body"

echo "# the record"
check "one export recorded with its id" test "$(count export)/$(field export id)" = "1/$EXPORT_ID"
check "download recorded complete with all bytes" \
        test "$(field download bytes)/$(field download total)/$(field download complete)" = "$SIZE/$SIZE/1"
check "download sha256 is that of the file curl got" test "$(field download sha256)" = "$(sha256sum < "$T/pkg" | cut -c1-64)"
check "upload bytes equal the package size" test "$(field upload bytes)" = $SIZE
check "upload sha256 equals the download sha256" test -n "$(field upload sha256)" -a "$(field upload sha256)" = "$(field download sha256)"
check "dry run and import name the uploaded file id" \
        test "$(field dryrun file_id)/$(field import file_id)" = "$TARGET_FILE/$TARGET_FILE"
check "import id recorded" test "$(field import id)" = "$IMPORT_ID"
check "login recorded with the user, ok=1" test "$(field login user)/$(field login ok)" = "deployer/1"
check "a request line per request, with status and fault" \
        grep -q "^request method=POST path=/rest/111/dev2prod/export/types/54321 status=200 fault=-$" "$REC"
check "export polled 3 times (2 x IN_PROGRESS, then COMPLETED)" \
        test "$(grep -c "^request method=GET path=/rest/111/dev2prod/export/$EXPORT_ID " "$REC")" = 3

echo "# refusals"
check "wrong key gets 401" test "$(http POST /rest/111/dev2prod/export/types/54321 -H 'Authorization: rest_api_key=wrong' -d '{}')" = 401
check "401 body is {\"message\":\"unauthorized\"}" grep -qx '{"message":"unauthorized"}' "$T/body"
check "an API key does not open a session tenant" test "$(http GET "/rest/222/dev2prod/import/$IMPORT_ID" "${SRC[@]}")" = 401
check "wrong password gets 401 on login" \
        test "$(http POST /api/rest/authentication/login -d '{"tenant":"222","username":"deployer","password":"nope","role":"x"}')" = 401
check "upload without the Apache User-Agent gets 400" \
        test "$(http POST /rest/222/ces/attachment "${DST[@]}" -A curl -F "Files[]=@$T/pkg")" = 400
check "the 400 names the User-Agent" grep -q 'User-Agent must be Apache-HttpClient/4.4.1' "$T/body"
check "upload in another field gets 400" test "$(http POST /rest/222/ces/attachment "${DST[@]}" "${UA[@]}" -F "file=@$T/pkg")" = 400
check "dry run of a file not on this tenant gets 404" \
        test "$(http POST '/rest/222/dev2prod/import?dryRun=true' "${DST[@]}" -d "{\"FileId\":\"$FILE_ID\"}")" = 404
check "malformed JSON gets 400" test "$(http POST /rest/222/dev2prod/import "${DST[@]}" -d '{"FileId":')" = 400
check "unknown tenant gets 404" test "$(http GET /rest/999/dev2prod/export/x "${SRC[@]}")" = 404
check "unknown path gets 404 not found" test "$(http GET /rest/111/nope "${SRC[@]}")/$(cat "$T/body")" = '404/{"message":"not found"}'
check "the noncanonical dev2prod/ces download path is 404" \
        test "$(http GET "/rest/111/dev2prod/ces/attachment/$FILE_ID" "${SRC[@]}")" = 404

echo "# answers replaced at run time (POST /_mock/answer)"
check "an unknown answer step is refused with 400" test "$(http POST '/_mock/answer?step=download' --data x)" = 400
check "export answer override taken" \
        test "$(http POST '/_mock/answer?step=export&code=409&count=2' --data-binary $'x@ID@y@FILEID@z\xff')" = 200
n0=$(count export)
check "overridden export: code 409 and the body with @ID@ filled" \
        test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')" = 409
check "the body's @ID@ is the export's id, @FILEID@ a UUID, other bytes as given" \
        env LC_ALL=C grep -q "^x$(grep '^export ' "$REC" | tail -1 | sed 's/.*id=//')y[0-9a-f-]\{36\}z"$'\xff'"\$" "$T/body"
http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}' > /dev/null
check "count=2: the third export answers as usual" \
        test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')/$(json_str Id)" = "200/$(field export id $((n0 + 3)))"
check "overridden exports still happen and are recorded, with an answer line each" \
        test "$(count export)/$(count answer)" = "$((n0 + 3))/2"
check "import answer override taken" test "$(http POST '/_mock/answer?step=import' --data '{"Id":"@ID@","F":"@FILEID@"}')" = 200
check "an overridden import answers the override" \
        test "$(http POST /rest/222/dev2prod/import "${DST[@]}" -d "{\"FileId\":\"$TARGET_FILE\"}")/$(json_str F)" = "200/$TARGET_FILE"
OV_IMPORT=$(json_str Id)
check "and is recorded as an import with that id" test "$(count import)/$(field import id 2)" = "2/$OV_IMPORT"
http POST '/_mock/answer?step=import_status' --data 'done @ID@ @FILEID@' > /dev/null
http GET "/rest/222/dev2prod/import/$OV_IMPORT" "${DST[@]}" > /dev/null
check "a status override waits for the terminal poll: first poll IN_PROGRESS" grep -q '"Status":"IN_PROGRESS"' "$T/body"
http GET "/rest/222/dev2prod/import/$OV_IMPORT" "${DST[@]}" > /dev/null
http GET "/rest/222/dev2prod/import/$OV_IMPORT" "${DST[@]}" > /dev/null
check "the terminal poll gets the override, @FILEID@ = the FileId posted" grep -qx "done $OV_IMPORT $TARGET_FILE" "$T/body"
http POST '/_mock/answer?step=export&count=0' --data nope > /dev/null
http POST /_mock/reset-answers > /dev/null
check "reset-answers drops a forever override" test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')" = 200

echo "# faults added at run time"
check "a bad spec is refused with 400" test "$(http POST /_mock/fault --data 'export:nonsense')" = 400
check "truncate fault added" test "$(http POST /_mock/fault --data 'download:truncate:1')" = 200
curl -sS -o "$T/short" "${SRC[@]}" "$URL/rest/111/ces/attachment/$FILE_ID" 2> /dev/null
check "truncate: curl exits 18 (partial file)" test $? = 18
wait_count download 2
check "truncate: half the bytes arrive" test "$(stat -c %s "$T/short")" = $((SIZE / 2))
check "truncate: recorded incomplete, half the bytes" \
        test "$(field download complete 2)/$(field download bytes 2)" = "0/$((SIZE / 2))"
check "truncate is used up: next download complete" \
        test "$(curl -sS -o /dev/null -w '%{http_code}/%{size_download}' "${SRC[@]}" "$URL/rest/111/ces/attachment/$FILE_ID")" = "200/$SIZE"
http POST /_mock/fault --data 'export:drop' > /dev/null
curl -sS -o /dev/null -X POST "${SRC[@]}" -d '{}' "$URL/rest/111/dev2prod/export/types/54321" 2> /dev/null
check "drop: the connection closes with no answer (curl exit 52)" test $? = 52
http POST /_mock/fault --data 'export:retry-after-7' > /dev/null
check "retry-after-7: 429 with Retry-After: 7" \
        grep -qi '^Retry-After: 7' <(curl -sS -D - -o /dev/null -X POST "${SRC[@]}" -d '{}' "$URL/rest/111/dev2prod/export/types/54321")
http POST /_mock/fault --data 'upload:expire' > /dev/null
check "expire: a live session key gets 401" test "$(http POST /rest/222/ces/attachment "${DST[@]}" "${UA[@]}" -F "Files[]=@$T/pkg")" = 401
check "expire: and stays expired after the fault is used up" test "$(http GET "/rest/222/dev2prod/import/$IMPORT_ID" "${DST[@]}")" = 401
http POST /_mock/fault --data 'any:500:0' > /dev/null
http POST /_mock/reset-faults > /dev/null
check "reset-faults clears a forever fault" test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')" = 200
check "faulted requests name their fault in the record" \
        test "$(grep -c ' fault=truncate$\| fault=drop$\| fault=retry-after-7$\| fault=expire$' "$REC")" = 4

echo "# no secret reaches the record or the mock's output"
check "no key, password or session key in record/stdout/stderr" \
        test -z "$(grep -rlF -e "$KEY" -e "$PASSWORD" -e "$SESSION" "$REC" "$T/main.out" "$T/main.err")"
mock_stop
check "SIGTERM: the mock exits 0" test $? = 0

echo "# --fault on the command line"
mock_start cli --fault export:503:1
check "first export gets the injected 503" test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')" = 503
check "503 body says injected 503" grep -qx '{"message":"injected 503"}' "$T/body"
check "second export works" test "$(http POST /rest/111/dev2prod/export/types/54321 "${SRC[@]}" -d '{}')" = 200
check "record: request fault=503, then one export" \
        test "$(grep -c 'status=503 fault=503$' "$REC")/$(count export)" = 1/1
mock_stop
"$MOCK" --record "$T/x.record" --tenant "111:key=$KEY" --fault export:no-such-kind > /dev/null 2>&1
check "an unknown --fault spec exits 2" test $? = 2

[ "$FAILURES" -eq 0 ] && { echo "all checks passed"; exit 0; }
echo "$FAILURES check(s) failed"
exit 1
