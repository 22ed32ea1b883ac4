#!/usr/bin/env bash
# The unit file, offline (no container, no root needed): `systemd-analyze
# verify` finds nothing to say about it, and its sandbox rates an exposure of
# at most 1.5 on `systemd-analyze security` (the figure is printed).
# Skips only when systemd-analyze is missing.
#
# test_systemd.sh sources this file for the two helpers below (then nothing
# else runs).

# unit_verify UNIT BIN: `systemd-analyze verify` as systemd-lab's `verify`
# does it (a scratch --root holding the unit, the system's units and BIN at
# the unit's ExecStart= path; verify exits 0 on a misspelt key, so ANY output
# is a failure), and in two points closer to a real installation: the unit's
# other commands (ExecReload=/bin/kill) are taken from this machine (a path
# that does not exist here still fails), and the man pages of
# Documentation=man:... are looked up among the project's own (man/), or not
# at all where no `man` is installed. The output goes to stdout as "# " lines.
unit_verify() {
        local unit=$1 bin=$2 repo vr out rc dest p m
        local -a man_opt=(--man=no)
        repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
        vr=$(mktemp -d /tmp/d2p-verify.XXXXXX)
        mkdir -p "$vr/usr/lib/systemd" "$vr/etc/systemd/system"
        cp -a /usr/lib/systemd/system "$vr/usr/lib/systemd/"
        cp "$unit" "$vr/etc/systemd/system/"
        dest=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" | head -1)
        install -D -m 755 "$bin" "$vr$dest"
        for p in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!|]*\(\/[^ ]*\).*/\1/p' "$unit" | sort -u); do
                [ "$p" = "$dest" ] || [ ! -e "$p" ] || install -D -m 755 "$p" "$vr$p"
        done
        if command -v man > /dev/null; then
                for m in "$repo"/man/*.[0-9]; do
                        [ -e "$m" ] && install -D -m 644 "$m" "$vr/.man/man${m##*.}/$(basename "$m")"
                done
                man_opt=(--man=yes)
        fi
        out=$(cd / && MANPATH="$vr/.man" timeout 60 systemd-analyze verify --root="$vr" "${man_opt[@]}" \
                "$(basename "$unit")" 2>&1)
        rc=$?
        rm -rf "$vr"
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
        [ "$rc" = 0 ] && [ -z "$out" ]
}

# unit_exposure UNIT: sets EXPOSURE (the "Overall exposure level" figure,
# e.g. 1.2; empty when none was printed) and EXPOSURE_RC (the exit status of
# `systemd-analyze security --threshold=15`: --threshold is on a 0-100 scale,
# 15 means the 1.5 that is printed).
EXPOSURE_MAX=1.5
unit_exposure() {
        local out
        out=$(timeout 60 systemd-analyze security --offline=true --threshold=15 --no-pager "$1" 2>&1)
        EXPOSURE_RC=$?
        EXPOSURE=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -1)
        [ -n "$EXPOSURE" ] || printf '%s\n' "$out" | tail -5 | sed 's/^/# /'
}
# exposure_ok: the figure unit_exposure found is at most EXPOSURE_MAX, and
# systemd-analyze agreed (exit 0 under --threshold=15)
exposure_ok() {
        [ -n "$EXPOSURE" ] && [ "$EXPOSURE_RC" = 0 ] &&
                awk -v x="$EXPOSURE" -v max="$EXPOSURE_MAX" 'BEGIN { exit !(x + 0 <= max + 0) }'
}

[ "${BASH_SOURCE[0]}" = "$0" ] || return 0    # sourced: the helpers only

. "$(dirname "$0")/../lib.sh"
command -v systemd-analyze > /dev/null || skip "systemd-analyze is not installed (Debian package systemd)"
UNIT=$(cd "$(dirname "$0")/../.." && pwd)/systemd/dev2prodd.service

echo "# systemd-analyze verify $UNIT"
check "systemd-analyze verify says nothing about the unit" unit_verify "$UNIT" "$D2P"

echo "# systemd-analyze security --offline=true"
unit_exposure "$UNIT"
echo "# exposure: ${EXPOSURE:-none printed} (at most $EXPOSURE_MAX)"
check "exposure ${EXPOSURE:-?} <= $EXPOSURE_MAX (systemd-analyze security --threshold=15 exit $EXPOSURE_RC)" exposure_ok
finish
