#!/usr/bin/env bash
# Adversarial answers, end to end (issue 9, cases A, B, C): the real
# dev2prodd --once against the mock, whose answers are replaced on request
# (POST /_mock/answer, see tests/mock/mock.h). Each case counts the real
# (non-dry-run) imports the mock executed, from its record, and reads the
# job file.
#   A  a dry-run status the daemon does not fully understand, or one that
#      reports problems in an unusual shape, or is not JSON at all (a form
#      feed or vertical tab as whitespace), is never followed by an import;
#      a clean override is (proof that the override itself works); then a
#      sample of generated answers ($BUILD/tests/test_judge --emit, when
#      that binary exists) with their expected verdicts.
#   B  server text that is not UTF-8, holds control characters or a split
#      character still ends in a saved, readable job file, and never
#      reaches stderr raw (no ESC byte, no forged log line).
#   C  a job's record can always be found and read back: a promotion named
#      ".nightly" is refused by --check-config; a dry run with 700,000
#      warnings leaves a job file under the reader's 16 MiB that a second
#      --once resumes (exactly one import in total).
# Usage: tests/integration/test_adversarial.sh [BUILD_DIR]   (exit 0 ok, 1 fail, 77 skip)
#        ADV_GEN_MAX=N: how many generated answers to run (default 40, ~1 s each)
# shellcheck disable=SC2317  # helpers run through check(), unseen by shellcheck
. "$(dirname "$0")/../lib.sh"

command -v curl > /dev/null || skip "curl (the command-line tool) is not installed"
command -v python3 > /dev/null || skip "python3 is not installed (JSON checks and answer bodies)"

# reset [MOCK ARGS]: fresh mock, state and log; config gets $EXTRA defaults
reset() {
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start "$@"; write_config "${EXTRA:-}"
}
# mock_answer STEP FILE [QUERY]: the next answer(s) of STEP get FILE's bytes
mock_answer() {
        curl -fsS -X POST --data-binary "@$2" "$MOCK_URL/_mock/answer?step=$1${3:+&$3}" > /dev/null ||
                { bad "the mock took no answer for step $1"; return 1; }
}
imports() { count import; }                     # import POSTs the mock executed (dry runs are "dryrun")
job_json_ok() { python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2> /dev/null; }
# one_of WORD LIST...: WORD is one of LIST
one_of() { local w=$1 x; shift; for x in "$@"; do [ "$w" = "$x" ] && return 0; done; return 1; }
# failed_with STATE FAILURE LIST...: STATE is failed and FAILURE one of LIST
failed_with() { local st=$1 fl=$2; shift 2; [ "$st" = failed ] && one_of "$fl" "$@"; }
njobs() { find "$STATE/jobs" -maxdepth 1 -name '*.json' 2> /dev/null | wc -l; }
no_esc() { ! LC_ALL=C grep -q $'\x1b' "$1"; }                      # no_esc FILE
# no_forged FILE: no line of FILE is the forged daemon line of the B bodies
no_forged() { ! grep -q '^dev2prodd: \[nightly-20000101T000000Z\]' "$1"; }
# job_facts FILE: one python3 run (its start-up is slow) reading a job file;
# sets J_JSON (1: parses), J_STATE, J_FAILURE, and J_MSG_C0, J_MSG_CC,
# J_ALL_CC: how many C0 controls or DEL in "message", how many C0, DEL or C1
# controls in "message", and in every string (keys too) of the file
job_facts() {
        J_JSON=0 J_STATE='' J_FAILURE='' J_MSG_C0=- J_MSG_CC=- J_ALL_CC=-
        eval "$(python3 - "$1" << 'PY'
import json, re, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
c0, cc = re.compile('[\x00-\x1f\x7f]'), re.compile('[\x00-\x1f\x7f-\x9f]')
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
msg = d.get("message", "") if isinstance(d, dict) else ""
hits = [x for x in strings(d) if cc.search(x)]
for x in hits[:3]:
    print("   control character in: %r" % x[:120], file=sys.stderr)
q = lambda v: "'" + str(v).replace("'", "") + "'"
print("J_JSON=1 J_STATE=%s J_FAILURE=%s J_MSG_C0=%d J_MSG_CC=%d J_ALL_CC=%d" % (
    q(d.get("state", "")), q(d.get("failure", "")), len(c0.findall(msg)), len(cc.findall(msg)), len(hits)))
PY
)"
}

# A valid COMPLETED dry-run status, as the API notes show it; @ID@ and
# @FILEID@ are filled by the mock with the dry run's id and the FileId posted.
TOTALS_OK='"Totals":{"Added":0,"Modified":326,"Removed":0,"Failed":0,"Skipped":0}'
CLEAN='{"TimeToLive":9946986,"StudioLocked":false,"SystemLocked":false,"id":"@ID@","FileId":"@FILEID@",'\
'"Status":"COMPLETED","DryRun":true,"PackageManagerId":"67975a8be4b0c050849153b2","StartTime":1737972352849,'\
'"LastUpdateTime":1737972406603,"ProcessingServerName":"company-server","Results":['\
'{"PackageName":"metadata","Statistics":{"Modified":300,"Removed":0,"Failed":0,"Skipped":0},"Errors":[],"Warnings":[]},'\
'{"PackageName":"workflow","Statistics":{"Modified":26,"Removed":0,"Failed":0,"Skipped":0},"Errors":[],"Warnings":[]}],'\
"$TOTALS_OK"',"OperationType":"Import"}'
# variant FILE OLD NEW [OLD NEW]...: CLEAN with the first OLD replaced by NEW, each pair in turn
variant() {
        local f=$1; shift
        CLEAN="$CLEAN" python3 - "$f" "$@" << 'PY'
import os, sys
s = os.environ["CLEAN"]
a = sys.argv[2:]
for old, new in zip(a[0::2], a[1::2]):
    if old not in s:
        sys.exit("variant: %r is not in the template" % old)
    s = s.replace(old, new, 1)
open(sys.argv[1], "w").write(s)
PY
}

# dry_run_case NAME FAILURES FILE: a promotion whose dry-run status (every
# terminal poll of it) is FILE must fail with one of FAILURES, importing nothing
dry_run_case() {
        local name=$1 want=$2 file=$3 st fl
        reset --polls 1                 # one IN_PROGRESS poll, then the answer
        mock_answer dryrun_status "$file" count=0 || return
        expect_rc 1 "A: $name: the job fails" run_once
        st=$(job_get state) fl=$(job_get failure)
        check "A: $name: the mock sent the answer" grep -q '^answer step=dryrun_status ' "$RECORD"
        check "A: $name: 0 imports (mock executed $(imports))" [ "$(imports)" = 0 ]
        # shellcheck disable=SC2086  # $want is a list
        check "A: $name: state failed, failure one of {$want} (got '$st', '$fl')" failed_with "$st" "$fl" $want
}

echo "# A: dry-run statuses of unexpected shapes import nothing"
A="$T/answers"; mkdir -p "$A"
UNREAD="dry-run-unreadable dry-run-rejected"     # either is a closed failure of the verdict
variant "$A/failed-float.json" '"Failed":0,"Skipped":0},"OperationType"' '"Failed":3.0,"Skipped":0},"OperationType"'
dry_run_case "Totals.Failed 3.0" "$UNREAD" "$A/failed-float.json"
variant "$A/failed-string.json" '"Failed":0,"Skipped":0},"OperationType"' '"Failed":"3","Skipped":0},"OperationType"'
dry_run_case 'Totals.Failed "3"' "$UNREAD" "$A/failed-string.json"
variant "$A/no-totals.json" ",$TOTALS_OK" '' '"Modified":300,"Removed":0,"Failed":0' '"Modified":300,"Removed":0,"Failed":5'
dry_run_case "Totals missing, Results[0].Statistics.Failed 5" "$UNREAD" "$A/no-totals.json"
variant "$A/errors-string.json" '"Errors":[]' '"Errors":"Form Intake references missing field priority"'
dry_run_case "Results[0].Errors a string" "$UNREAD" "$A/errors-string.json"
variant "$A/errors-object.json" '"Errors":[]' '"Errors":{"message":"Form Intake references missing field priority"}'
dry_run_case "Results[0].Errors an object" "$UNREAD" "$A/errors-object.json"
variant "$A/warnings-string.json" '"Warnings":[]' '"Warnings":"Template Welcome has no body for locale de"'
EXTRA="  on_warnings: stop" dry_run_case "Results[0].Warnings a string, on_warnings: stop" \
        "dry-run-unreadable dry-run-warnings" "$A/warnings-string.json"
variant "$A/top-errors.json" '"OperationType":"Import"}' '"OperationType":"Import","Errors":["x"]}'
dry_run_case 'a top-level "Errors": ["x"]' "$UNREAD" "$A/top-errors.json"
variant "$A/case-dup.json" '"Errors":[]' '"Errors":[],"errors":["bad"]'
dry_run_case '"Errors": [] then "errors": ["bad"] in one Results element' "$UNREAD" "$A/case-dup.json"
variant "$A/dryrun-false.json" '"DryRun":true' '"DryRun":false'
dry_run_case '"DryRun": false' "$UNREAD" "$A/dryrun-false.json"

# not JSON (RFC 8259 has no form feed or vertical tab among its whitespace,
# yajl's lexer takes both): a garbled answer, never a clean one
variant "$A/formfeed.json" '{"TimeToLive"' $'{\f"TimeToLive"'
dry_run_case "a form feed after the opening brace (not JSON)" "gave-up dry-run-unreadable bad-answer" "$A/formfeed.json"
variant "$A/vtab.json" '"Status":' $'\v"Status":'
dry_run_case "a vertical tab between members (not JSON)" "gave-up dry-run-unreadable bad-answer" "$A/vtab.json"

echo "# A: a clean override imports (the override itself works)"
variant "$A/clean.json"
reset --polls 1
mock_answer dryrun_status "$A/clean.json" count=0
expect_rc 0 "A: clean override: the job succeeds" run_once
check "A: clean override: exactly 1 import (mock executed $(imports))" [ "$(imports)" = 1 ]
check "A: clean override: the mock sent the override" grep -q '^answer step=dryrun_status ' "$RECORD"
check "A: clean override: job state succeeded" [ "$(job_get state)" = succeeded ]

echo "# A: generated answers (tests/unit/test_judge.c --emit)"
GEN_MAX=${ADV_GEN_MAX:-40}           # answers run end to end
GEN_RUNNING_MAX=3                   # each costs the 3 s step_timeout
JUDGE="$BUILD/tests/test_judge"
GEN="$T/generated"
gen_ok=false
if [ -x "$JUDGE" ] && "$JUDGE" --emit 400 "$GEN" > "$T/emit.out" 2>&1 && [ -s "$GEN/expected" ]; then
        gen_ok=true
fi
if ! $gen_ok; then
        echo "SKIP: generated answers: no $JUDGE with --emit (build it: make BUILD=$BUILD $JUDGE)"
else
        # A stratified sample: round robin over the verdicts, so that each kind is run
        python3 - "$GEN/expected" "$GEN_MAX" "$GEN_RUNNING_MAX" > "$T/sample" << 'PY'
import sys
by = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 2:
        by.setdefault(f[1].upper(), []).append(f[0])
want, running_max, out = int(sys.argv[2]), int(sys.argv[3]), []
if "RUNNING" in by:
    by["RUNNING"] = by["RUNNING"][:running_max]
while len(out) < want and any(by.values()):
    for k in sorted(by):
        if by[k] and len(out) < want:
            out.append((by[k].pop(0), k))
for name, verdict in out:
    print(name, verdict)
PY
        gen_n=0 gen_imports=0 gen_bad_imports=0
        while read -r name verdict <&3; do
                [ -f "$GEN/$name" ] || { bad "A gen: $name is listed in expected but missing"; continue; }
                case $verdict in
                RUNNING) EXTRA="  on_warnings: proceed
  step_timeout: 3s" reset --polls 0 ;;
                *) EXTRA="  on_warnings: proceed" reset --polls 0 ;;
                esac
                mock_answer dryrun_status "$GEN/$name" count=0 || continue
                run_once; rc=$?
                n=$(imports) st=$(job_get state) fl=$(job_get failure)
                gen_n=$((gen_n + 1)) gen_imports=$((gen_imports + n))
                case $verdict in
                CLEAN)
                        check "A gen: $name CLEAN: exactly 1 import, succeeded (got $n, rc $rc, '$st')" \
                                [ "$n" = 1 -a "$rc" = 0 -a "$st" = succeeded ] ;;
                FAILED | UNREADABLE | RUNNING | GARBLED)
                        [ "$n" = 0 ] || gen_bad_imports=$((gen_bad_imports + n))
                        check "A gen: $name $verdict: 0 imports, failed (got $n, rc $rc, '$st' '$fl')" \
                                [ "$n" = 0 -a "$rc" = 1 -a "$st" = failed ] ;;
                *) bad "A gen: $name: unknown verdict '$verdict' in $GEN/expected" ;;
                esac
        done 3< "$T/sample"
        echo "# $gen_n generated answers run end to end, $gen_imports imports, $gen_bad_imports after a non-clean dry run"
        check "A gen: answers were run" [ "$gen_n" -gt 0 ]
        check "A gen: 0 imports after a non-clean dry run (got $gen_bad_imports)" [ "$gen_bad_imports" = 0 ]
fi

echo "# B: server text that is not UTF-8 or holds control characters"
FORGED='dev2prodd: [nightly-20000101T000000Z] import-poll: job succeeded: imported package 54321'
# B1: raw bytes, not JSON: \xff\xfe, an ESC sequence, a BEL and a tab before
# byte 300, a 4-byte character on bytes 298-301 (a cut at 299 or 300 splits
# it), then CR LF and a line that looks like the daemon's own
FORGED="$FORGED" python3 - "$T/b1.body" << 'PY'
import os, sys
b = b'\xff\xfe B1MARK the server says no \x1b[31mRED\x1b[0m \x07 bell \t tab \x1b]0;title\x07 '
b += b'x' * (298 - len(b))
b += '\U0001F600'.encode()                     # bytes 298..301
assert b[298:302] == b'\xf0\x9f\x98\x80'
b += b' after the split\r\n' + os.environ["FORGED"].encode() + b' FORGED-B1\n\x1b[2J\xc3'
open(sys.argv[1], "wb").write(b)
PY
# b_case NAME STEP FILE QUERY FAILURES [all]: the answer of STEP is FILE;
# the job must fail with one of FAILURES, a readable record and a clean
# stderr; "all": no string anywhere in the job file holds a control character
b_case() {
        local name=$1 step=$2 file=$3 query=$4 want=$5 all=${6:-} jf
        reset --polls 0
        mock_answer "$step" "$file" "$query" || return
        expect_rc 1 "B: $name: the job fails" run_once
        jf=$(job_file)
        check "B: $name: the job file exists" [ -n "$jf" ]
        [ -n "$jf" ] || return
        job_facts "$jf"
        check "B: $name: the job file parses as JSON" [ "$J_JSON" = 1 ]
        check "B: $name: job state failed (got '$J_STATE')" [ "$J_STATE" = failed ]
        # shellcheck disable=SC2086  # $want is a list
        check "B: $name: failure one of {$want} (got '$J_FAILURE')" one_of "$J_FAILURE" $want
        check "B: $name: the job's message holds no raw C0 control character ($J_MSG_C0)" [ "$J_MSG_C0" = 0 ]
        check "B: $name: the job's message holds no control character, C0, DEL or C1 ($J_MSG_CC)" [ "$J_MSG_CC" = 0 ]
        [ -z "$all" ] || check "B: $name: no string in the job file holds a control character ($J_ALL_CC)" [ "$J_ALL_CC" = 0 ]
        check "B: $name: no raw ESC byte on stderr" no_esc "$T/daemon.log"
        check "B: $name: no forged log line on stderr (no line break inside the message)" no_forged "$T/daemon.log"
        [ "$step" = dryrun_status ] && check "B: $name: 0 imports (got $(imports))" [ "$(imports)" = 0 ]
        # the failed job is finished: the next --once starts a new job, it
        # does not resume this one (and import an older package)
        sleep 1                         # job ids are to the second
        run_once > /dev/null 2>&1
        job_facts "$jf"
        check "B: $name: a second --once leaves the failed job alone (state '$J_STATE', $(njobs) job files)" \
                [ "$J_STATE" = failed -a "$(njobs)" = 2 ]
}
b_case "export 400 with raw bytes" export "$T/b1.body" code=400 refused
# B2: well-formed JSON whose "message" decodes to control characters
printf '%s' '{"message":"B2MARK \u001b[31mred\u001b[0m bell\u0007 del\u007f csi\u009b31m end\r\n'"$FORGED"' FORGED-B2"}' > "$T/b2.body"
b_case "export 400 with escapes in a JSON message" export "$T/b2.body" code=400 refused
# B3: the dry run's findings carry the same (they are logged and stored)
variant "$T/b3.body" '"Errors":[]' '"Errors":["B3MARK \u001b[31mred\u001b[0m\n'"$FORGED"' FORGED-B3"]' \
        '"Failed":0,"Skipped":0},"OperationType"' '"Failed":1,"Skipped":0},"OperationType"'
b_case "dry-run errors with escapes" dryrun_status "$T/b3.body" count=0 dry-run-rejected all

echo "# C1: a promotion name the job store would not list is refused"
reset
sed -i 's/^  - name: nightly$/  - name: .nightly/' "$CONFIG"
line=$(grep -n '^  - name: \.nightly$' "$CONFIG" | cut -d: -f1)
"$D2P" --check-config --config "$CONFIG" > "$T/c1.out" 2>&1; rc=$?
check "C1: --check-config refuses a promotion named .nightly (exit $rc)" [ "$rc" != 0 ]
check "C1: the message names the file and line $line" grep -qF "$CONFIG:$line:" "$T/c1.out"
check "C1: the message names the key 'name'" grep -q "name" "$T/c1.out"
[ "$rc" != 0 ] || sed 's/^/   /' "$T/c1.out"
"$D2P" --config "$CONFIG" --once .nightly > /dev/null 2>> "$T/daemon.log"; rc=$?
check "C1: --once .nightly is refused as a configuration error (exit $rc, wanted 2)" [ "$rc" = 2 ]
check "C1: --once .nightly sent nothing (exports $(count export))" [ "$(count export)" = 0 ]

echo "# C2: 700,000 warnings: the job file stays readable and the job resumes"
LIMIT=$((16 * 1024 * 1024))
CLEAN="$CLEAN" python3 - "$T/c2.body" << 'PY'
import os, sys
w = '"Warnings":[' + ",".join(['"w"'] * 700000) + ']'
s = os.environ["CLEAN"].replace('"Warnings":[]', w, 1)
assert len(s) < 8 * 1024 * 1024, len(s)          # the daemon's answer limit
open(sys.argv[1], "w").write(s)
PY
echo "# the dry-run status is $(stat -c %s "$T/c2.body") bytes"
# The first import poll hangs: the job is stopped (SIGTERM) while it waits,
# so its file, findings included, must be read back for the resume.
EXTRA="  on_warnings: proceed" reset --fault import_status:hang:1
mock_answer dryrun_status "$T/c2.body" count=0
"$D2P" --config "$CONFIG" --once nightly 2>> "$T/daemon.log" &
pid=$!
if wait_for "$RECORD" "fault=hang" 60; then
        kill -TERM "$pid"
        wait "$pid"; rc=$?
        check "C2: stopped while polling the import: exit 1 (interrupted), got $rc" [ "$rc" = 1 ]
else
        kill -KILL "$pid" 2> /dev/null; wait "$pid" 2> /dev/null
        bad "C2: the import was never polled"; tail -5 "$T/daemon.log"
fi
check "C2: one import so far (got $(imports))" [ "$(imports)" = 1 ]
jf=$(job_file); JOB=$(basename "${jf:-none}" .json)
size=$(stat -c %s "$jf" 2> /dev/null || echo 0)
echo "# job $JOB: the file is $size bytes"
check "C2: the job file is under 16 MiB ($size bytes)" [ "$size" -gt 0 -a "$size" -lt "$LIMIT" ]
check "C2: the job file parses as JSON" job_json_ok "$jf"
check "C2: the job file still counts all 700,000 warnings" grep -q '\b700000\b' "$jf"
check "C2: the job file is saved in state import-poll (got '$(job_state_of "$JOB")')" [ "$(job_state_of "$JOB")" = import-poll ]
expect_rc 0 "C2: a second --once resumes the job and succeeds" run_once
check "C2: still exactly 1 import in total (got $(imports))" [ "$(imports)" = 1 ]
check "C2: one job file, not a second job (got $(njobs))" [ "$(njobs)" = 1 ]
check "C2: the old job ended succeeded (got '$(job_state_of "$JOB")')" [ "$(job_state_of "$JOB")" = succeeded ]
size=$(stat -c %s "$jf" 2> /dev/null || echo 0)
check "C2: the finished job file is under 16 MiB ($size bytes)" [ "$size" -gt 0 -a "$size" -lt "$LIMIT" ]
"$CTL" --config "$CONFIG" show "$JOB" > "$T/c2-show.out" 2> "$T/c2-show.err"; rc=$?
check "C2: dev2prodctl show $JOB: exit $rc" [ "$rc" = 0 ]
check "C2: dev2prodctl show names the old job" grep -qF "$JOB" "$T/c2-show.out"
check "C2: dev2prodctl show counts the 700000 warnings" grep -q '\b700000\b' "$T/c2-show.out"
[ "$rc" = 0 ] || head -5 "$T/c2-show.err"

finish
