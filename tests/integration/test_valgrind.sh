#!/usr/bin/env bash
# The real daemon and dev2prodctl under valgrind's memcheck: no invalid
# read or write, no use of uninitialised memory, no definite or indirect
# leak, in a full `--once` promotion against the mock, a failing one (the
# dry run reports errors), `--check-config` on a broken configuration, and
# `dev2prodctl list` / `history` / `show` / `--json history`.  Every run
# must end with the program's own exit status (0/1/2), never valgrind's 99.
# A reduced set: the whole suite runs under ASan+UBSan with `make check-asan`.
. "$(dirname "$0")/../lib.sh"

command -v valgrind > /dev/null || skip "valgrind is not installed (apt-get install valgrind)"
# an ASan build cannot run under valgrind (make check-asan covers it)
grep -qa __asan_init "$D2P" && skip "$D2P is built with AddressSanitizer: valgrind cannot run it"

CTL="$BUILD/dev2prodctl"
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99 --track-origins=yes --track-fds=no --num-callers=30)

# vg_rc WANT DESCRIPTION NAME COMMAND...: runs COMMAND under valgrind (its
# report in $T/NAME.vg, stdout in $T/NAME.out, stderr appended to
# $T/daemon.log) and checks the exit status
vg_rc() {
        local want=$1 d=$2 n=$3 rc; shift 3
        "${VG[@]}" --log-file="$T/$n.vg" "$@" > "$T/$n.out" 2>> "$T/daemon.log"; rc=$?
        if [ "$rc" = "$want" ]; then
                ok "$d under valgrind (exit $rc)"
        else
                bad "$d under valgrind: exit $rc, wanted $want"
                [ "$rc" = 99 ] && echo "(99: valgrind found errors)"
                sed 's/^/    vg| /' "$T/$n.vg" | head -80
                tail -n 15 "$T/daemon.log" | sed 's/^/    log| /'
        fi
        # memcheck's report is also read when the status is right (with -q
        # it holds nothing but errors and leaks)
        if grep -qE '== (Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|.* (definitely|indirectly) lost in )' "$T/$n.vg"; then
                bad "$d: valgrind reported errors"
                sed 's/^/    vg| /' "$T/$n.vg" | head -80
        fi
}

# 1. A full promotion, one-shot.
mock_start
write_config
vg_rc 0 "a full --once promotion" once-ok "$D2P" --config "$CONFIG" --once nightly
check_promoted

# 2. dev2prodctl reading the job files it left.
vg_rc 0 "dev2prodctl list" ctl-list "$CTL" --config "$CONFIG" list
vg_rc 0 "dev2prodctl history" ctl-history "$CTL" --config "$CONFIG" history
vg_rc 0 "dev2prodctl --json history nightly" ctl-history-json "$CTL" --config "$CONFIG" --json history nightly
JOB=$(basename "$(job_file)" .json)
vg_rc 0 "dev2prodctl show" ctl-show "$CTL" --config "$CONFIG" show "$JOB"
check "history shows the job" grep -q "$JOB" "$T/ctl-history.out"
vg_rc 1 "dev2prodctl show of an unknown job" ctl-show-unknown "$CTL" --config "$CONFIG" show no-such-job

# 3. A promotion that fails: the dry run reports errors.
mock_stop
imports_before=$(count import)          # the record goes on across mock restarts
mock_start --fault dryrun_status:errors:1
write_config
vg_rc 1 "a promotion whose dry run has errors" once-fail "$D2P" --config "$CONFIG" --once nightly
check "the failed job says dry-run-rejected" [ "$(job_get failure)" = dry-run-rejected ]
check "nothing was imported" [ "$(count import)" = "$imports_before" ]

# 4. --check-config on a broken configuration: all errors, exit 2.
cat > "$T/broken.yaml" <<YAML
defaults:
  pol_interval: 15s
  retries: many
tenants:
  dev:
    url: ftp://dev.example.net
    tenant_id: "12a"
    auth: { type: api_key, key_file: $T/missing.key }
promotions:
  - name: nightly
    package: "1"
    from: dev
    to: prd
    schedule: "61 * * * *"
    timezone: Mars/Olympus
YAML
vg_rc 2 "--check-config on a broken configuration" check-broken "$D2P" --check-config --config "$T/broken.yaml"
check "the errors were reported" test "$(grep -c 'broken.yaml:' "$T/daemon.log")" -ge 6
vg_rc 0 "--check-config on a good configuration" check-good "$D2P" --check-config --config "$CONFIG"

finish
