# tests/lab.sh — a systemd-lab container for a test (sourced after lib.sh).
# ../shared/systemd-lab boots a real systemd over an overlay of this
# machine's root; lab_boot takes the lock that keeps parallel containers
# apart (they would share the lab's cgroup), boots one, and makes the EXIT
# trap stop it, keeping its journal in $T when the test failed.
#
#   lab_preflight          skips (77) when not root or the lab script is missing
#   lab_boot               boots; skips when the container cannot boot
#   in_lab CMD [ARG...]    runs CMD inside (LAB_TIMEOUT bounds it, default 30 s)
#   lab install SRC DEST [MODE]
#   poll SECONDS CMD...    until CMD succeeds, every 0.1 s
# The test sets LAB_DONE=1 after its last check (a test that stops early
# counts as failed).  A function lab_keep, when the test defines one, is
# called after a failure, before the container stops, to copy out more of
# what the container holds into $T.
LAB_SCRIPT=${SYSTEMD_LAB:-$REPO/../shared/systemd-lab/systemd-lab}   # (SYSTEMD_LAB=: another copy)
# Host units that fail inside the container and leave it "degraded", which
# the lab refuses (openipmi and nvme-cli's nvmf-autoconnect arrived on this
# machine with other packages); masked there, as the lab's postgresql.
export LAB_MASK=${LAB_MASK:-postgresql.service openipmi.service nvmf-autoconnect.service}
LAB_UP=
LAB_DONE=

lab() { bash "$LAB_SCRIPT" "$@"; }
in_lab() { LAB_TIMEOUT=${LAB_TIMEOUT:-30} bash "$LAB_SCRIPT" exec "$@"; }
poll() {
        local n=$(($1 * 10)); shift
        for _ in $(seq "$n"); do "$@" 2> /dev/null && return 0; sleep 0.1; done
        return 1
}

lab_preflight() {
        [ "$(id -u)" = 0 ] || skip "needs root (systemd-lab boots a container with systemd-nspawn)"
        [ -f "$LAB_SCRIPT" ] || skip "no $LAB_SCRIPT (the shared systemd-lab checkout beside the repository)"
}

_lab_down() {
        if [ -n "$LAB_UP" ] && { [ "$FAILURES" -gt 0 ] || [ -z "$LAB_DONE" ]; }; then
                in_lab journalctl --no-pager -o short-precise > "$T/journal.txt" 2>&1
                declare -F lab_keep > /dev/null && lab_keep     # the test's own files to keep
                [ -n "$LAB_DONE" ] || FAILURES=$((FAILURES + 1))
        fi
        lab stop
        cp "$LAB/console.log" "$T/lab-console.log" 2> /dev/null
        rm -f "$LAB/launch.sh" "$LAB/console.log"
        rmdir "$LAB/root" "$LAB" 2> /dev/null
}

lab_boot() {
        exec 9> /tmp/systemd-lab.lock
        flock -w 120 9 || skip "another systemd-lab container held /tmp/systemd-lab.lock for 120 s"
        LAB=$(mktemp -d /tmp/d2p-lab.XXXXXX)
        export LAB
        trap '_lab_down; _lib_cleanup_daemon' EXIT
        trap 'exit 130' INT TERM HUP
        local t0=$SECONDS pid1
        pid1=$(lab start 2> "$T/lab-start.err") ||
                skip "systemd-lab start failed: $(grep -v '^$' "$T/lab-start.err" | tail -3 | tr '\n' ' ')"
        LAB_UP=1
        echo "# container booted in $((SECONDS - t0)) s (its PID 1 is $pid1 here)"
}

# lab_config: API keys in $T/dev.key and $T/prod.key, and $T/dev2prodd.yaml
# for the unit (keys as credentials): tenants dev (111) and prod (222) on
# the mock at 127.0.0.1:$PORT inside, promotion "nightly" dev -> prod. A
# test appends its own promotions or top-level keys.
lab_config() {
        rnd() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }
        KEY_DEV=D2Pdev$(rnd)Key KEY_PROD=D2Pprod$(rnd)Key
        printf '%s\n' "$KEY_DEV" > "$T/dev.key"
        printf '%s\n' "$KEY_PROD" > "$T/prod.key"
        cat > "$T/dev2prodd.yaml" <<YAML
defaults:
  poll_interval: 200ms
  retry_delay: 200ms
$(dev_prod_tenants "http://127.0.0.1:$PORT" "credential: dev-key" "credential: prod-key")
$(nightly_promotion)
YAML
}
