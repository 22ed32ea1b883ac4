#!/usr/bin/env bash
# Crash test: SIGKILL the daemon at every state boundary and in the middle
# of the download, restart it, and check from the mock's record that the
# job finishes, no step whose answer had been saved is sent again, and
# there is never a second import.
#
# The kill is injected by strace at the Nth rename(2) (the moment a new
# state would replace the old one: killed before it lands) and at the Nth
# fsync(2) (each save does fsync(temp) then, after the rename, fsync(dir):
# an even N kills just after a state landed, before its request is sent).
. "$(dirname "$0")/../lib.sh"
command -v strace > /dev/null || skip "strace not installed"
strace -f -qq -o /dev/null -e inject=rename:signal=KILL:when=99 true 2> /dev/null || skip "strace fault injection not available here"

# what the job file said at the moment of the kill
saved() { local f; f=$(job_file); [ -n "$f" ] && sed -n "s/^    \"$1\": \"\([^\"]*\)\",\{0,1\}$/\1/p" "$f" | head -1; }

kills=0 held=0
# crash_case SYSCALL N
crash_case() {
        local sc=$1 n=$2 rc
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start --polls 1
        write_config
        strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" \
                "$D2P" --config "$CONFIG" --once nightly 2>> "$T/daemon.log"
        rc=$?
        if [ "$rc" = 0 ]; then return 1; fi     # ran past the last $sc: no kill
        kills=$((kills + 1))
        local at="$sc#$n" state_at exp_at up_at dry_at imp_at
        state_at=$(saved state)
        exp_at=$(count export) up_at=$(count upload) dry_at=$(count dryrun) imp_at=$(count import)
        local had_exp had_up had_dry had_imp
        had_exp=$(saved export_id) had_up=$(saved target_file_id) had_dry=$(saved dry_run_id) had_imp=$(saved import_id)

        if [ "$state_at" = succeeded ]; then
                # killed after the final state landed: nothing left to resume
                if ls "$STATE"/jobs/*.pkg > /dev/null 2>&1; then
                        bad "$at: the package was left behind by a finished job"; return 0
                fi
                held=$((held + 1)); ok "$at: killed after the job had succeeded; nothing to resume, no package left"
                return 0
        fi
        run_once; rc=$?
        local final; final=$(job_get state)
        local ok_=1
        if [ "$rc" = 0 ]; then
                [ "$final" = succeeded ] || { bad "$at: exit 0 but state $final"; ok_=0; }
        else
                # The only acceptable failure: the import was decided but its
                # answer not saved, so its outcome is unknown.
                [ "$(job_get failure)" = import-outcome-unknown ] && [ "$state_at" = import ] ||
                        { bad "$at (killed in state '$state_at'): restart failed: $(job_get message)"; ok_=0; }
        fi
        [ "$(count import)" -le 1 ] || { bad "$at: $(count import) imports"; ok_=0; }
        [ -z "$had_exp" ] || [ "$(count export)" = "$exp_at" ] || { bad "$at: export repeated after its id was saved"; ok_=0; }
        [ -z "$had_up" ] || [ "$(count upload)" = "$up_at" ] || { bad "$at: upload repeated after its id was saved"; ok_=0; }
        [ -z "$had_dry" ] || [ "$(count dryrun)" = "$dry_at" ] || { bad "$at: dry run repeated after its id was saved"; ok_=0; }
        [ -z "$had_imp" ] || [ "$(count import)" = "$imp_at" ] || { bad "$at: import repeated"; ok_=0; }
        [ "$(count export)" -le $((1 + 1)) ] || { bad "$at: more than one needless export"; ok_=0; }
        if [ "$rc" = 0 ]; then
                local up dl
                up=$(grep '^upload ' "$RECORD" | tail -1 | tr ' ' '\n' | sed -n 's/^sha256=//p')
                dl=$(grep '^download .*complete=1' "$RECORD" | tail -1 | tr ' ' '\n' | sed -n 's/^sha256=//p')
                [ "$up" = "$dl" ] || { bad "$at: uploaded bytes differ from the package"; ok_=0; }
                [ "$(field dryrun file_id "" "$(count dryrun)")" = "$(grep '^upload ' "$RECORD" | tail -1 | tr ' ' '\n' | sed -n 's/^file_id=//p')" ] ||
                        { bad "$at: dry run not on the last uploaded file"; ok_=0; }
        fi
        for f in "$STATE"/jobs/*.json; do
                grep -q '"format": 1' "$f" || { bad "$at: unreadable job file $f"; ok_=0; }
        done
        [ "$ok_" = 1 ] && { held=$((held + 1)); ok "$at: killed in state '${state_at:-none}', restart $([ "$rc" = 0 ] && echo completed || echo 'failed safely: import outcome unknown')"; }
        return 0
}

for n in $(seq 1 20); do crash_case rename "$n" || break; done
check "killed at each of the 9 state saves (rename)" test "$kills" -ge 9
k0=$kills
for n in $(seq 1 40); do crash_case fsync "$n" || break; done
check "killed at each fsync (before and after each rename)" test $((kills - k0)) -ge 18

echo "# $kills kills at state boundaries, every invariant held after $held of them"
check "every kill at a boundary ended well" test "$held" = "$kills"

echo "# kill in the middle of the download"
mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
mock_start --package-size 4000000 --throttle 2000000
write_config
"$D2P" --config "$CONFIG" --once nightly 2>> "$T/daemon.log" &
pid=$!
for _ in $(seq 200); do
        s=$(stat -c %s "$STATE"/jobs/*.pkg 2>/dev/null || echo 0)
        [ "${s:-0}" -gt 100000 ] && break; sleep 0.05
done
kill -KILL $pid; wait $pid 2>/dev/null
check "killed mid-download (part of the package on disk)" test "${s:-0}" -gt 100000 -a "${s:-0}" -lt 4000000
check "the saved state is download" test "$(job_get state)" = download
expect_rc 0 "the restarted job downloads again from byte 0 and completes" run_once
check "two downloads: the killed one incomplete" test "$(grep -c '^download .*complete=0' "$RECORD")/$(grep -c '^download .*complete=1' "$RECORD")" = 1/1
check_promoted

# The package is not flushed to disk (see ans_download in job.c): a kill
# leaves it in the page cache, a machine restart may not.  A restart is
# simulated by changing the boot id the job file recorded.
reboot_case() {  # EDIT_BOOT_ID
        mock_stop; rm -rf "$STATE" "$RECORD" "$T/daemon.log"
        mock_start --polls 1
        write_config
        # the folders exist, so that no fsync of a new folder's parent
        # (mkdir_p) is counted: the 8th fsync is the folder's, after the
        # upload state landed: killed before the upload is sent
        mkdir -p "$STATE/jobs"
        strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:signal=KILL:when=8 \
                "$D2P" --config "$CONFIG" --once nightly 2>> "$T/daemon.log"
        [ "$(job_get state)" = upload ] || { bad "killed in state '$(job_get state)', not upload"; return; }
        grep -q "^    \"package_boot_id\": \"$(cat /proc/sys/kernel/random/boot_id)\"" "$(job_file)" ||
                { bad "the job file does not record this boot for its unflushed package"; return; }
        [ "$1" = 1 ] && sed -i 's/^\(    "package_boot_id": "\)[^"]*"/\100000000-0000-0000-0000-000000000000"/' "$(job_file)"
        run_once || bad "the resumed job failed: $(job_get message)"
}
echo "# resume after a kill: the unflushed package is still good"
reboot_case 0
check "one complete download" test "$(grep -c '^download .*complete=1' "$RECORD")" = 1
check "no restart reported" test "$(grep -c 'machine restarted' "$T/daemon.log")" = 0
check_promoted
echo "# resume after a machine restart: the package is downloaded again"
reboot_case 1
check "the restart is logged with what happens next" log_has "machine restarted since the package was downloaded.*downloading it again"
check "two complete downloads" test "$(grep -c '^download .*complete=1' "$RECORD")" = 2
check "one upload, of the second download" test "$(count upload)" = 1
check_promoted
finish
