#!/usr/bin/env bash
# metrics_file under the shipped unit, in a real systemd (the throw-away
# container of ../shared/systemd-lab): proves the advice of
# dev2prodd.yaml(5), metrics_file, for node_exporter's folder:
#   - without a drop-in, ProtectSystem=strict keeps the folder read-only:
#     the daemon runs, and logs why the file is not written;
#   - ReadWritePaths= alone is not enough (User=dev2prodd, a root folder);
#   - ReadWritePaths=-/var/lib/prometheus/node-exporter plus
#     `setfacl -m u:dev2prodd:rwx` on the folder: the file is written, 0644
#     (UMask=0077 notwithstanding), for node_exporter's user to read;
#   - Debian's prometheus-node-exporter.service serves what was written;
#   - the "-": the daemon still starts when the folder does not exist.
# Needs root; skips when not root, without the lab script or setfacl, or
# when the container cannot be booted.  About 10-20 s.
. "$(dirname "$0")/../lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
UNIT="$REPO/systemd/dev2prodd.service"
SYSUSERS="$REPO/systemd/dev2prodd.sysusers"
NE_DIR=/var/lib/prometheus/node-exporter
PROM="$NE_DIR/dev2prodd-test.prom"
. "$(dirname "$0")/../lab.sh"
lab_preflight
command -v setfacl > /dev/null || skip "setfacl is not installed (apt-get install acl)"
# journal_has TEXT [TEXT2]: a line of the unit's journal holds TEXT (and TEXT2 after it)
journal_has() { in_lab journalctl -u dev2prodd.service --no-pager -o cat | grep -F -- "$1" | grep -qF -- "${2:-}"; }
lab_boot

PORT=1                                  # no server: no job runs in this test
lab_config
sed -i "1i metrics_file: $PROM" "$T/dev2prodd.yaml"
sed -i 's/^    schedule: .*/    schedule: "0 3 1 1 *"/' "$T/dev2prodd.yaml"
printf '[Service]\nReadWritePaths=-%s\n' "$NE_DIR" > "$T/metrics.conf"
check "install the daemon, the unit, its user and a configuration with metrics_file" eval '
        lab install "$D2P" /usr/local/sbin/dev2prodd 755 &&
        lab install "$UNIT" /etc/systemd/system/dev2prodd.service 644 &&
        lab install "$SYSUSERS" /usr/lib/sysusers.d/dev2prodd.conf 644 &&
        in_lab systemd-sysusers dev2prodd.conf &&
        lab install "$T/dev.key" /etc/dev2prodd/dev.key 600 &&
        lab install "$T/prod.key" /etc/dev2prodd/prod.key 600 &&
        lab install "$T/dev2prodd.yaml" /etc/dev2prodd/dev2prodd.yaml 644 &&
        in_lab mkdir -p "$NE_DIR" && in_lab chmod 755 "$NE_DIR" && in_lab rm -f "$PROM" &&
        in_lab systemctl daemon-reload'

echo "# the unit as shipped: the folder is read-only"
check "systemctl start dev2prodd" in_lab systemctl start dev2prodd.service
check "the daemon logs why the file is not written" \
        poll 10 journal_has "cannot create a temp file next to $PROM" "Read-only file system"
check "no file" in_lab test ! -e "$PROM"
in_lab systemctl stop dev2prodd.service

echo "# ReadWritePaths= alone: the folder is root's"
check "drop-in installed" eval 'lab install "$T/metrics.conf" /etc/systemd/system/dev2prodd.service.d/metrics.conf 644 &&
        in_lab systemctl daemon-reload'
check "systemctl start dev2prodd" in_lab systemctl start dev2prodd.service
check "the daemon logs: permission denied" poll 10 journal_has "next to $PROM" "Permission denied"
in_lab systemctl stop dev2prodd.service

echo "# ReadWritePaths= and setfacl: written"
check "setfacl -m u:dev2prodd:rwx $NE_DIR" in_lab setfacl -m u:dev2prodd:rwx "$NE_DIR"
check "systemctl start dev2prodd" in_lab systemctl start dev2prodd.service
check "the file is written" poll 10 in_lab grep -q '^dev2prodd_jobs_running 0$' "$PROM"
check "mode 0644, owner dev2prodd (readable by node_exporter's user)" \
        test "$(in_lab stat -c '%a %U' "$PROM")" = "644 dev2prodd"
check "no temp file left" test "$(in_lab ls -A "$NE_DIR")" = "$(basename "$PROM")"
# Debian's own node_exporter unit (enabled by its package) reads that
# folder: the whole chain, both services under their own sandboxes
if in_lab systemctl start prometheus-node-exporter.service 2> /dev/null; then
        check "Debian's prometheus-node-exporter.service serves the daemon's series" \
                poll 10 eval 'in_lab curl -fsS http://127.0.0.1:9100/metrics | grep -q "^dev2prodd_jobs_running 0$"'
        in_lab systemctl stop prometheus-node-exporter.service
else
        echo "# (prometheus-node-exporter.service cannot start in the container: that step is left out)"
fi
in_lab systemctl stop dev2prodd.service

echo "# the folder missing: the '-' of ReadWritePaths= lets the daemon start"
in_lab rm -rf "$NE_DIR"
check "systemctl start dev2prodd" in_lab systemctl start dev2prodd.service
check "it logs that the folder is missing" poll 10 journal_has "next to $PROM" "No such file or directory"
in_lab systemctl stop dev2prodd.service
LAB_DONE=1
finish
