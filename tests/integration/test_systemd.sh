#!/usr/bin/env bash
# dev2prodd under a real systemd, driven as an operator drives it: the unit,
# the catalog, LoadCredential= keys and the sandbox of systemd/dev2prodd.service
# in a throw-away container booted by ../shared/systemd-lab/systemd-lab.
#
#   offline:  systemd-analyze verify (no output at all) and security exposure
#             <= 1.5 (helpers shared with test_hardening.sh)
#   inside:   systemctl start (READY=1, STATUS=), dev2prodctl run through
#             /run/dev2prodd/control.sock, SIGKILL mid-download and
#             Restart=on-failure, the resumed job succeeds with one import and
#             the uploaded bytes equal to the downloaded ones, journal fields
#             and catalog (journalctl -x), no key in the journal or state,
#             operators without root (the static user and group of
#             systemd/dev2prodd.sysusers, created by systemd-sysusers; a real
#             member of group dev2prodd runs dev2prodctl list, show, history
#             and run --wait, and approves a job of a promotion with
#             approval: required, which imports once and keeps the member's
#             uid and name; a real non-member gets only "permission denied:
#             add yourself to group dev2prodd"), systemctl reload, stop.
#
# Needs root. Skips (77) when not root, when the lab script is missing, or
# when the container cannot be booted (systemd-nspawn missing and not
# installable, ...); any failure after the boot is a failure.
# Takes 20-30 s. KEEP_TMP=1 keeps the temp folder (journal, record, job files).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/test_hardening.sh"   # unit_verify, unit_exposure, exposure_ok

REPO=$(cd "$(dirname "$0")/../.." && pwd)
UNIT="$REPO/systemd/dev2prodd.service"
CATALOG="$REPO/systemd/dev2prodd.catalog"
SYSUSERS="$REPO/systemd/dev2prodd.sysusers"
. "$REPO/tests/lab.sh"                  # lab, in_lab, poll, lab_config
PORT=18099                          # the container has its own network namespace
JOBS=/var/lib/dev2prodd/jobs        # User=dev2prodd (static, sysusers.d): no /var/lib/private
STATE_REAL=/var/lib/dev2prodd
OP_IN=d2p-operator                  # a user in group dev2prodd
OP_OUT=d2p-outsider                 # a user who is not
msgid() { sed -n "s/^#define $1 *\"\([0-9a-f]*\)\".*/\1/p" "$REPO/daemon/log.h"; }
MSGID_STARTED=$(msgid MSGID_JOB_STARTED)
MSGID_SUCCEEDED=$(msgid MSGID_JOB_SUCCEEDED)

lab_preflight
command -v systemd-analyze > /dev/null || skip "systemd-analyze is not installed (Debian package systemd)"
[ -x "$CTL" ] || { echo "no $CTL: run make"; exit 1; }
[ -n "$MSGID_STARTED" ] && [ -n "$MSGID_SUCCEEDED" ] || { echo "no MSGID_JOB_STARTED/SUCCEEDED in daemon/log.h"; exit 1; }

prop() { in_lab systemctl show -P "$1" dev2prodd.service; }          # prop PROPERTY
prop_is() { [ "$(prop "$1")" = "$2" ]; }                             # prop_is PROPERTY VALUE
job_state() { in_lab sed -n 's/^    "state": "\([^"]*\)",\{0,1\}$/\1/p' "$JOBS/$1.json"; }
state_is() { [ "$(job_state "$1")" = "$2" ]; }                      # state_is ID STATE
journal_has() { in_lab journalctl -u dev2prodd.service --no-pager -o cat | grep -qF -- "$1"; }

# ---- offline ------------------------------------------------------------------
echo "# offline: systemd-analyze verify, security"
check "systemd-analyze verify says nothing about the unit (with build/dev2prodd)" unit_verify "$UNIT" "$D2P"
unit_exposure "$UNIT"
echo "# exposure: ${EXPOSURE:-none printed} (at most $EXPOSURE_MAX)"
check "exposure ${EXPOSURE:-?} <= $EXPOSURE_MAX" exposure_ok

# ---- boot ---------------------------------------------------------------------
# kept with $T after a failure (lib.sh keeps it), besides the journal
lab_keep() {
        in_lab sh -c "cat $JOBS/*.json" > "$T/jobs.json" 2>&1
        in_lab cat /var/tmp/record > "$T/record" 2>&1
}
t0=$SECONDS
lab_boot

# ---- install ------------------------------------------------------------------
lab_config
cat >> "$T/dev2prodd.yaml" <<YAML
  - name: gated
    package: "54321"
    from: dev
    to: prod
    schedule: "30 3 * * *"
    approval: required
notify:
  exec: [/usr/local/bin/d2p-notify-probe, --from-test]
YAML
# the notify: program, run by the sandboxed service (fork, execve, pipes)
cat > "$T/notify-probe" <<'SH'
#!/bin/sh
{ echo "uid=$(id -un) args=$*"; env | grep '^DEV2PROD_EVENT='; cat; echo; } >> /var/lib/dev2prodd/notify.out
SH
install_all() {
        lab install "$D2P" /usr/local/sbin/dev2prodd 755 &&
        lab install "$CTL" /usr/local/bin/dev2prodctl 755 &&
        lab install "$MOCK" /usr/local/bin/mock-dev2prod 755 &&
        lab install "$T/notify-probe" /usr/local/bin/d2p-notify-probe 755 &&
        lab install "$UNIT" /etc/systemd/system/dev2prodd.service 644 &&
        lab install "$CATALOG" /usr/lib/systemd/catalog/dev2prodd.catalog 644 &&
        lab install "$SYSUSERS" /usr/lib/sysusers.d/dev2prodd.conf 644 &&
        in_lab systemd-sysusers dev2prodd.conf &&
        lab install "$T/dev.key" /etc/dev2prodd/dev.key 600 &&
        lab install "$T/prod.key" /etc/dev2prodd/prod.key 600 &&
        lab install "$T/dev2prodd.yaml" /etc/dev2prodd/dev2prodd.yaml 644 &&
        in_lab journalctl --update-catalog &&
        in_lab systemctl daemon-reload
}
echo "# install"
check "binaries, unit, catalog, sysusers.d file, keys (0600 root) and configuration installed" install_all
check "systemd-sysusers created the system user and group dev2prodd" \
        eval 'in_lab getent passwd dev2prodd > /dev/null && in_lab getent group dev2prodd > /dev/null'
add_users() {
        in_lab useradd --no-create-home --shell /bin/sh --groups dev2prodd "$OP_IN" &&
        in_lab useradd --no-create-home --shell /bin/sh "$OP_OUT"
}
check "two unprivileged users: $OP_IN (in group dev2prodd), $OP_OUT (not)" add_users
check "journalctl --update-catalog took the catalog" \
        eval 'in_lab journalctl --list-catalog | grep -q "^$MSGID_SUCCEEDED "'
mock_up() {
        in_lab systemd-run --quiet --unit=mock /usr/local/bin/mock-dev2prod --port "$PORT" \
                --port-file /run/mock.port --record /var/tmp/record \
                --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD" \
                --package-size 3000000 --throttle 1000000 &&
                poll 5 in_lab test -s /run/mock.port
}
check "the mock server runs inside (systemd-run --unit=mock, port $PORT)" mock_up

# ---- start --------------------------------------------------------------------
echo "# systemctl start"
check "systemctl start dev2prodd (returns after READY=1)" in_lab systemctl start dev2prodd.service
check "ActiveState=active" prop_is ActiveState active
status=$(prop StatusText)
echo "# StatusText=$status"
check "StatusText starts with '0 running'" test "${status#0 running}" != "$status"

# ---- a job, SIGKILL mid-download, Restart= -----------------------------------
echo "# dev2prodctl run nightly; SIGKILL while it downloads"
id=$(in_lab dev2prodctl run nightly 2>&1)
check "dev2prodctl run nightly (as root, through /run/dev2prodd/control.sock) prints the job id: $id" \
        eval '[[ "$id" =~ ^nightly-[0-9]{8}T[0-9]{6}Z$ ]]'
# "download or later but before the import": a kill in state import would,
# rightly, fail the job (import-outcome-unknown)
mid_transfer() { case $(job_state "$id") in download|upload|dry-run|dry-run-poll) return 0;; esac; return 1; }
check "the job file ($JOBS/$id.json) reaches the download" poll 10 mid_transfer
killed_in=$(job_state "$id")
old_pid=$(prop MainPID)
check "systemctl kill -s KILL dev2prodd (job in state $killed_in, MainPID $old_pid)" \
        in_lab systemctl kill -s KILL dev2prodd.service
t_kill=$SECONDS
restarted() { prop_is NRestarts 1 && prop_is SubState running; }
check "Restart=on-failure brings it back (NRestarts=1, SubState=running)" poll 20 restarted
echo "# restarted after $((SECONDS - t_kill)) s (RestartSec=$(sed -n 's/^RestartSec=//p' "$UNIT"))"
new_pid=$(prop MainPID)
check "a new MainPID ($old_pid -> $new_pid)" test -n "$new_pid" -a "$new_pid" != 0 -a "$new_pid" != "$old_pid"
check "ActiveState=active after the restart" prop_is ActiveState active
check "the resumed job succeeds" poll 30 state_is "$id" succeeded
notified() { in_lab grep -q '^DEV2PROD_EVENT=succeeded$' /var/lib/dev2prodd/notify.out 2>/dev/null; }
check "the notify: exec: program ran inside the sandbox (SystemCallFilter, NoNewPrivileges)" poll 20 notified
check "as user dev2prodd, with its argv and the summary on stdin" \
        eval 'in_lab cat /var/lib/dev2prodd/notify.out | grep -q "^uid=dev2prodd args=--from-test$" &&
              in_lab cat /var/lib/dev2prodd/notify.out | grep -q "\"event\":\"succeeded\""'

# ---- the mock's record ---------------------------------------------------------
in_lab cat /var/tmp/record > "$RECORD"
echo "# the mock's record"
check "exactly one import" test "$(count import)" = 1
check "exactly one export (its id was saved before the kill)" test "$(count export)" = 1
check "the kill cut a download short (record: complete=0 then complete=1)" \
        eval 'grep -q "^download .*complete=0" "$RECORD" && grep -q "^download .*complete=1" "$RECORD"'
up_sha=$(field upload sha256)
dl_sha=$(grep '^download .*complete=1' "$RECORD" | tail -1 | tr ' ' '\n' | sed -n 's/^sha256=//p')
check "the upload's sha256 equals the last complete download's (${up_sha:0:12}...)" \
        test -n "$up_sha" -a "$up_sha" = "$dl_sha"

# ---- journal ------------------------------------------------------------------
echo "# journal: fields and catalog"
in_lab journalctl -u dev2prodd.service -o json --no-pager "DEV2PROD_JOB=$id" > "$T/job.json"
jline() { grep -F "\"MESSAGE_ID\":\"$1\"" "$T/job.json" | head -1; }     # jline MSGID
# has_fields MSGID TENANT [STEP]: the event's line carries the four fields
has_fields() {
        local l step=${3:-[a-z-]*}
        l=$(jline "$1")
        [ -n "$l" ] &&
                grep -qF "\"DEV2PROD_JOB\":\"$id\"" <<< "$l" &&
                grep -qF '"DEV2PROD_PROMOTION":"nightly"' <<< "$l" &&
                grep -qF "\"DEV2PROD_TENANT\":\"$2\"" <<< "$l" &&
                grep -q "\"DEV2PROD_STEP\":\"$step\"" <<< "$l" &&
                ! grep -q '"DEV2PROD_STEP":""' <<< "$l"
}
check "DEV2PROD_JOB=$id selects $(wc -l < "$T/job.json") journal lines" test -s "$T/job.json"
check "job started (MESSAGE_ID=$MSGID_STARTED): DEV2PROD_JOB, _PROMOTION, _STEP=export, _TENANT=dev" \
        has_fields "$MSGID_STARTED" dev export
check "job succeeded (MESSAGE_ID=$MSGID_SUCCEEDED): DEV2PROD_JOB, _PROMOTION, _STEP, _TENANT=prod" \
        has_fields "$MSGID_SUCCEEDED" prod
in_lab journalctl -x -u dev2prodd.service --no-pager "MESSAGE_ID=$MSGID_SUCCEEDED" "DEV2PROD_JOB=$id" > "$T/catalog.txt"
check "journalctl -x shows the catalog text of 'job succeeded'" \
        eval 'grep -q "Subject: A promotion job succeeded" "$T/catalog.txt" && grep -q "Defined-By: dev2prodd" "$T/catalog.txt"'
# journalctl fills in @FIELD@ only for names of A-Z and _ (systemd's
# replace_var()): a digit in the field name leaves the placeholder as it is
check "no catalog placeholder is left unfilled" eval '! grep -q "@[A-Z0-9_]*@" "$T/catalog.txt"'
grep -o '@[A-Z0-9_]*@' "$T/catalog.txt" | sort -u | sed 's/^/# placeholder left as is: /'

# ---- secrets ------------------------------------------------------------------
echo "# the keys stay secret"
in_lab journalctl -u dev2prodd.service -o json --no-pager > "$T/journal.json"
check "the journal of dev2prodd is read ($(wc -l < "$T/journal.json") lines, naming the job)" grep -qF "$id" "$T/journal.json"
check "no key in journalctl -u dev2prodd -o json" eval '! grep -qF -e "$KEY_DEV" -e "$KEY_PROD" "$T/journal.json"'
check "the state folder is read ($STATE_REAL holds the job file)" in_lab grep -rqF "$id" "$STATE_REAL"
in_lab grep -rlF -e "$KEY_DEV" -e "$KEY_PROD" "$STATE_REAL" /run/dev2prodd > "$T/key-files" 2>&1
rc=$?
check "no key in $STATE_REAL or /run/dev2prodd" test "$rc" = 1
[ "$rc" = 1 ] || sed 's/^/# /' "$T/key-files"

# ---- operators without root --------------------------------------------------
echo "# operators without root: $OP_IN (group dev2prodd) and $OP_OUT"
# as_user USER CMD...: CMD as USER (runuser: a real login's groups, no root)
as_user() { local u=$1; shift; in_lab runuser -u "$u" -- "$@"; }
# mode_is PATH MODE OWNER:GROUP
mode_is() { [ "$(in_lab stat -c '%a %U:%G' "$1")" = "$2 $3" ]; }
# ids PID: "UID GID" (real) of a process in the container
ids() { in_lab sed -n 's/^[UG]id:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" | tr '\n' ' '; }
check "the unit runs as dev2prodd:dev2prodd (User=, Group=)" \
        eval '[ "$(ids "$(prop MainPID)")" = "$(in_lab id -u dev2prodd) $(in_lab id -g dev2prodd) " ]'
check "$STATE_REAL is 0750 dev2prodd:dev2prodd" mode_is "$STATE_REAL" 750 dev2prodd:dev2prodd
check "$JOBS is 0750 dev2prodd:dev2prodd" mode_is "$JOBS" 750 dev2prodd:dev2prodd
check "the job file is 0640 dev2prodd:dev2prodd" mode_is "$JOBS/$id.json" 640 dev2prodd:dev2prodd
check "schedule.json is 0640" mode_is "$STATE_REAL/schedule.json" 640 dev2prodd:dev2prodd
check "/run/dev2prodd is 0750, control.sock 0660 (dev2prodd:dev2prodd)" \
        eval 'mode_is /run/dev2prodd 750 dev2prodd:dev2prodd && mode_is /run/dev2prodd/control.sock 660 dev2prodd:dev2prodd'
check "the package files stay 0600 (no .pkg readable by the group)" \
        eval '[ -z "$(in_lab find "$STATE_REAL" -name "*.pkg" -perm /077)" ]'
check "$OP_IN cannot read the keys (/etc/dev2prodd/dev.key stays root's)" eval '! as_user "$OP_IN" cat /etc/dev2prodd/dev.key > /dev/null 2>&1'

as_user "$OP_IN" dev2prodctl list > "$T/op-list.out" 2> "$T/op-list.err"
rc=$?
check "$OP_IN: dev2prodctl list (exit 0, shows nightly and its last result)" \
        eval '[ "$rc" = 0 ] && grep -q nightly "$T/op-list.out" && grep -q succeeded "$T/op-list.out"'
[ "$rc" = 0 ] || sed 's/^/# /' "$T/op-list.out" "$T/op-list.err"
check "$OP_IN: dev2prodctl show $id" eval 'as_user "$OP_IN" dev2prodctl show "$id" | grep -q "$id"'
check "$OP_IN: dev2prodctl history, jobs" \
        eval 'as_user "$OP_IN" dev2prodctl history | grep -q "$id" && as_user "$OP_IN" dev2prodctl jobs > /dev/null'
LAB_TIMEOUT=60 as_user "$OP_IN" dev2prodctl run nightly --wait > "$T/op-run.out" 2> "$T/op-run.err"
rc=$?
op_id=$(head -1 "$T/op-run.out")
check "$OP_IN: dev2prodctl run nightly --wait exits 0 ($op_id: $(tail -1 "$T/op-run.out"))" \
        eval '[ "$rc" = 0 ] && [[ "$op_id" =~ ^nightly- ]] && grep -q "^succeeded" "$T/op-run.out"'
[ "$rc" = 0 ] || sed 's/^/# stderr: /' "$T/op-run.err"
check "$OP_IN's job succeeded (job file state)" state_is "$op_id" succeeded
in_lab cat /var/tmp/record > "$RECORD"
check "two imports in all now (the operator's job imported)" test "$(count import)" = 2

# the approval gate, decided by a member of the group under the real unit
echo "# approval: $OP_IN approves a job of promotion gated (approval: required)"
MSGID_AWAITING=$(msgid MSGID_AWAITING_APPROVAL)
gid=$(in_lab dev2prodctl run gated 2>&1)
check "dev2prodctl run gated prints the job id: $gid" eval '[[ "$gid" =~ ^gated-[0-9]{8}T[0-9]{6}Z$ ]]'
check "the job stops in awaiting-approval after its dry run" poll 30 state_is "$gid" awaiting-approval
in_lab cat /var/tmp/record > "$RECORD"
check "nothing more imported while it waits (two imports)" test "$(count import)" = 2
check "StatusText counts it: $(prop StatusText)" poll 5 eval 'prop StatusText | grep -q "1 awaiting approval"'
check "the journal line awaiting approval (MESSAGE_ID=$MSGID_AWAITING) names the job" \
        eval 'in_lab journalctl -u dev2prodd.service -o json --no-pager "MESSAGE_ID=$MSGID_AWAITING" | grep -qF "\"DEV2PROD_JOB\":\"$gid\""'
check "$OP_IN: dev2prodctl show $gid puts the approval and the dry run first" \
        eval 'as_user "$OP_IN" dev2prodctl show "$gid" | head -1 | grep -q "^Awaiting:"'
as_user "$OP_IN" dev2prodctl approve "$gid" > "$T/op-approve.out" 2> "$T/op-approve.err"
rc=$?
check "$OP_IN: dev2prodctl approve $gid exits 0 ($(cat "$T/op-approve.out" "$T/op-approve.err"))" \
        eval '[ "$rc" = 0 ] && grep -qx "approved $gid" "$T/op-approve.out"'
check "the approved job succeeds" poll 30 state_is "$gid" succeeded
op_uid=$(in_lab id -u "$OP_IN")
check "the job file keeps who approved: $OP_IN, uid $op_uid (from the socket, not root)" \
        eval 'in_lab cat "$JOBS/$gid.json" | tr -d " \n" | grep -qF "\"approved\":{\"user\":\"$OP_IN\",\"uid\":$op_uid,"'
in_lab cat /var/tmp/record > "$RECORD"
check "three imports in all now (the approved job imported once)" test "$(count import)" = 3

DENIED="dev2prodctl: permission denied: add yourself to group dev2prodd"
# denied CMD...: as $OP_OUT, fails with one line on stderr naming the group
# and nothing on stdout
denied() {
        local out err rc
        out=$(as_user "$OP_OUT" dev2prodctl "$@" 2> "$T/denied.err")
        rc=$?
        err=$(cat "$T/denied.err")
        echo "# $OP_OUT: dev2prodctl $* -> exit $rc: $err"
        [ "$rc" != 0 ] && [ -z "$out" ] && [ "$(wc -l < "$T/denied.err")" = 1 ] &&
                [ "${err#"$DENIED" (cannot open /}" != "$err" ]
}
for cmd in list jobs history "show $id" "run nightly" "run nightly --wait" "cancel $id" "approve $gid" \
           "reject $gid" "resolve $gid --imported"; do
        # shellcheck disable=SC2086
        check "$OP_OUT: dev2prodctl $cmd says only 'permission denied: add yourself to group dev2prodd'" denied $cmd
done
in_lab cat /var/tmp/record > "$RECORD"
check "$OP_OUT's run started nothing (still three imports)" test "$(count import)" = 3

# ---- reload, stop -------------------------------------------------------------
echo "# systemctl reload, stop"
check "systemctl reload dev2prodd" in_lab systemctl reload dev2prodd.service
# ExecReload=/bin/kill returns at once: the daemon's RELOADING=1 ... READY=1
# may come after systemctl has returned
check "the journal says 'configuration reloaded'" poll 10 journal_has "configuration reloaded"
check "ActiveState=active after the reload" poll 5 prop_is ActiveState active
check "the same process after the reload" prop_is MainPID "$new_pid"
check "systemctl stop dev2prodd" in_lab systemctl stop dev2prodd.service
check "ActiveState=inactive (Result=success)" eval 'prop_is ActiveState inactive && prop_is Result success'
check "the journal says 'stopping'" poll 5 journal_has "stopping"
LAB_DONE=1
echo "# $((SECONDS - t0)) s in the container"
finish
