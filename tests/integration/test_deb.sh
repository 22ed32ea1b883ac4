#!/usr/bin/env bash
# The Debian package, as an administrator uses it, under a real systemd
# (a container of ../shared/systemd-lab): `make deb-package` builds
# build/dev2prodd_VERSION_ARCH.deb with dpkg-buildpackage (once per build
# tree: it is rebuilt only when a file of the tree changed), then inside
#
#   apt-get install ./dev2prodd_*.deb   the user and group (sysusers), the
#                                       catalog (systemd's dpkg trigger), the
#                                       unit enabled but not started (no
#                                       configuration yet: the postinst says
#                                       what to do)
#   config and keys dropped in, systemctl start, one promotion through the
#   mock with `dev2prodctl run --wait` as a member of group dev2prodd
#   apt-get remove with a job running   the service stops, state, config,
#                                       keys and user stay
#   apt-get install again               the job resumes and succeeds
#   upgrade to VERSION+upgrade1 (the same package repacked with a higher
#   version: dpkg runs the whole upgrade path) with a job running: the
#   service restarts and the job resumes and succeeds
#   apt-get purge                       state, config, keys, user, group,
#                                       enable link and catalog entries
#                                       gone: the file system (/etc, /var but
#                                       its logs and caches, /usr/local, the
#                                       package's folders) lists exactly the
#                                       paths it listed before the install
#
# Needs root. Skips (77) when not root, without the lab script, without
# debhelper (make check installs it: TEST_DEBS), or when the container
# cannot boot; any failure after the boot is a failure. About 2 min (20 s of
# it the package build, when the tree changed), 3 min on a busy machine.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/lab.sh"

PORT=18099                          # the container has its own network namespace
JOBS=/var/lib/dev2prodd/jobs
OP=d2p-operator                     # a user in group dev2prodd
msgid() { sed -n "s/^#define $1 *\"\([0-9a-f]*\)\".*/\1/p" "$REPO/daemon/log.h"; }
MSGID_SUCCEEDED=$(msgid MSGID_JOB_SUCCEEDED)

lab_preflight
command -v dpkg-buildpackage > /dev/null && command -v dh > /dev/null ||
        skip "debhelper is not installed (Debian package debhelper; make check installs it)"

# ---- the package --------------------------------------------------------------
VER=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$REPO/debian/changelog")
UPVER=$VER+upgrade1
ARCH=$(dpkg --print-architecture)
DEB=$BUILD/dev2prodd_${VER}_$ARCH.deb
t0=$SECONDS
make -s -C "$REPO" BUILD="$BUILD" deb-package > "$T/make.out" 2>&1
rc=$?
check "make deb-package: $DEB ($((SECONDS - t0)) s)" eval '[ "$rc" = 0 ] && [ -s "$DEB" ]'
[ "$rc" = 0 ] || { tail -20 "$T/make.out" | sed 's/^/# /'; finish; }
dpkg-deb -R "$DEB" "$T/up" && sed -i "s/^Version: .*/Version: $UPVER/" "$T/up/DEBIAN/control" &&
        dpkg-deb -b "$T/up" "$T/upgrade.deb" > /dev/null
check "the upgrade: the same package as version $UPVER" eval '[ "$(dpkg-deb -f "$T/upgrade.deb" Version)" = "$UPVER" ]'

lab_boot

# ---- fixtures, then the file system before the install ------------------------
lab_config
# the places a package, its scripts or its daemon could leave something
# (not the logs and caches, which Debian keeps after a purge, nor what
# apt's own helpers record of its transactions: PackageKit's, and
# apt-listchanges' database, made at the first apt run of a standard root)
snapshot() {
        in_lab find /etc /var /home /srv /opt /usr/local /usr/lib/systemd /lib/systemd \
                /usr/lib/sysusers.d /usr/share/doc /usr/share/man /usr/share/lintian /usr/sbin /usr/bin \
                \( -path /var/log -o -path /var/cache -o -path /var/tmp -o -path /var/lib/apt/lists \
                   -o -path /var/lib/PackageKit -o -path /var/lib/apt/listchanges.db \) -prune -o -print |
                LC_ALL=C sort
}
# This machine's root (the container's lower layer) comes from a Docker
# image: its /usr/sbin/policy-rc.d forbids every service start and stop by
# maintainer scripts, which a Debian machine does not. It goes (inside
# only). man-db's trigger would rebuild the whole man index at each apt run.
fixtures() {
        in_lab rm -f /usr/sbin/policy-rc.d &&
        in_lab sh -c 'echo "man-db man-db/auto-update boolean false" | debconf-set-selections' &&
        lab install "$MOCK" /usr/local/bin/mock-dev2prod 755 &&
        lab install "$DEB" "/tmp/deb/dev2prodd_${VER}_$ARCH.deb" 644 &&
        lab install "$T/upgrade.deb" "/tmp/deb/dev2prodd_${UPVER}_$ARCH.deb" 644 &&
        in_lab useradd --no-create-home --shell /bin/sh "$OP" &&
        in_lab systemd-run --quiet --unit=mock /usr/local/bin/mock-dev2prod --port "$PORT" \
                --port-file /run/mock.port --record /run/record \
                --tenant "111:key=$KEY_DEV" --tenant "222:key=$KEY_PROD" &&
        poll 5 in_lab test -s /run/mock.port
}
check "the mock server runs inside (systemd-run --unit=mock), user $OP exists" fixtures
snapshot > "$T/before.list"
check "the file system before: $(wc -l < "$T/before.list") paths" test -s "$T/before.list"

prop() { in_lab systemctl show -P "$1" dev2prodd.service; }
prop_is() { [ "$(prop "$1")" = "$2" ]; }
job_state() { in_lab sed -n 's/^    "state": "\([^"]*\)",\{0,1\}$/\1/p' "$JOBS/$1.json"; }
state_is() { [ "$(job_state "$1")" = "$2" ]; }
pkg_status() { in_lab dpkg-query -W -f='${Status} ${Version}' dev2prodd 2> /dev/null; }
imports() { in_lab cat /run/record > "$RECORD"; count import; }
# apt-get inside: the container has no network, so its package lists serve
# nothing (every dependency is installed); without them apt reads only
# dpkg's database and the .deb
APT="DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0 -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/dev/null"
# apt_get LOGNAME ARG...: apt-get inside, its output kept in $T/apt-LOGNAME.out
apt_get() {
        local log=$T/apt-$1.out; shift
        LAB_TIMEOUT=120 in_lab sh -c "cd /tmp/deb && $APT $*" > "$log" 2>&1 ||
                { sed 's/^/# apt: /' "$log" | tail -15; return 1; }
}
# hold_dry_run: the mock holds its next answer to a dry run's status poll
# (the job waits in dry-run-poll, its request open, until the daemon stops;
# its next poll is answered), so a remove or an upgrade meets a running job
hold_dry_run() { in_lab curl -fsS -X POST --data dryrun_status:hang:1 "http://127.0.0.1:$PORT/_mock/fault" > /dev/null; }
# held_job: starts a job of nightly whose dry run the mock holds; its id in $held
held_job() {
        hold_dry_run
        held=$(in_lab dev2prodctl run nightly 2>&1)
        check "dev2prodctl run nightly: $held" eval '[[ "$held" =~ ^nightly- ]]'
        check "the job waits in dry-run-poll (the mock holds the answer)" poll 15 state_is "$held" dry-run-poll
}

# ---- install ------------------------------------------------------------------
echo "# $((SECONDS - t0)) s: apt-get install ./dev2prodd_${VER}_$ARCH.deb"
install_deb() { apt_get install install "./dev2prodd_${VER}_$ARCH.deb"; }
check "apt-get install ./dev2prodd_${VER}_$ARCH.deb" install_deb
check "dpkg: install ok installed $VER" eval '[ "$(pkg_status)" = "install ok installed $VER" ]'
check "the postinst says what to do without a configuration" \
        grep -qF "dev2prodd: no /etc/dev2prodd/dev2prodd.yaml yet" "$T/apt-install.out"
check "systemd-sysusers (postinst) created the system user and group dev2prodd" \
        eval 'in_lab getent passwd dev2prodd > /dev/null && in_lab getent group dev2prodd > /dev/null'
check "systemctl is-enabled dev2prodd: enabled" eval '[ "$(in_lab systemctl is-enabled dev2prodd.service)" = enabled ]'
check "not started without a configuration (ConditionPathExists=: ConditionResult=no, inactive)" \
        eval 'prop_is ConditionResult no && prop_is ActiveState inactive'
check "systemd's trigger ran journalctl --update-catalog: the catalog knows MESSAGE_ID $MSGID_SUCCEEDED" \
        eval 'in_lab journalctl --list-catalog | grep -q "^$MSGID_SUCCEEDED "'
check "man dev2prodd, dev2prodd.yaml(5), dev2prodctl(1) are installed" \
        in_lab test -f /usr/share/man/man8/dev2prodd.8.gz -a -f /usr/share/man/man5/dev2prodd.yaml.5.gz -a -f /usr/share/man/man1/dev2prodctl.1.gz
in_lab dpkg -L dev2prodd > "$T/files.list"
echo "# installed files (dpkg -L dev2prodd):"
sed 's/^/#   /' "$T/files.list"

# ---- configure, start, one promotion ---------------------------------------------
echo "# $((SECONDS - t0)) s: configuration, keys, systemctl start, dev2prodctl run --wait as $OP"
configure() {
        in_lab test -d /etc/dev2prodd &&
        lab install "$T/dev.key" /etc/dev2prodd/dev.key 600 &&
        lab install "$T/prod.key" /etc/dev2prodd/prod.key 600 &&
        lab install "$T/dev2prodd.yaml" /etc/dev2prodd/dev2prodd.yaml 644 &&
        in_lab usermod -aG dev2prodd "$OP"
}
check "/etc/dev2prodd/ (the package's) takes the configuration and the keys; $OP joins group dev2prodd" configure
check "systemctl start dev2prodd (returns after READY=1)" in_lab systemctl start dev2prodd.service
check "ActiveState=active" prop_is ActiveState active
LAB_TIMEOUT=60 in_lab runuser -u "$OP" -- dev2prodctl run nightly --wait > "$T/run.out" 2> "$T/run.err"
rc=$?
id1=$(head -1 "$T/run.out")
check "$OP: dev2prodctl run nightly --wait exits 0 ($id1: $(tail -1 "$T/run.out"))" \
        eval '[ "$rc" = 0 ] && [[ "$id1" =~ ^nightly- ]] && grep -q "^succeeded" "$T/run.out"'
[ "$rc" = 0 ] || sed 's/^/# stderr: /' "$T/run.err"
check "one import" test "$(imports)" = 1

# ---- remove with a job running, reinstall ----------------------------------------
echo "# $((SECONDS - t0)) s: apt-get remove with a job running"
held_job
id2=$held
check "apt-get remove dev2prodd" apt_get remove remove dev2prodd
check "dpkg: deinstall ok config-files" eval '[ "$(pkg_status)" = "deinstall ok config-files $VER" ]'
check "the service stopped (ActiveState=inactive, no dev2prodd process)" \
        eval 'prop_is ActiveState inactive && ! in_lab pgrep -x dev2prodd > /dev/null'
check "the state stays: $id2 saved in dry-run-poll" state_is "$id2" dry-run-poll
check "the configuration and keys stay, and the user and group" \
        eval 'in_lab test -f /etc/dev2prodd/dev2prodd.yaml -a -f /etc/dev2prodd/dev.key &&
              in_lab getent passwd dev2prodd > /dev/null && in_lab getent group dev2prodd > /dev/null'
check "still one import" test "$(imports)" = 1
echo "# $((SECONDS - t0)) s: apt-get install again"
check "apt-get install ./dev2prodd_${VER}_$ARCH.deb" install_deb
check "dpkg: install ok installed $VER" eval '[ "$(pkg_status)" = "install ok installed $VER" ]'
check "the postinst started the service (it was enabled, the configuration exists)" poll 10 prop_is ActiveState active
check "the new daemon resumed it (journal: resuming 1 unfinished job)" \
        eval 'in_lab journalctl -u dev2prodd.service --no-pager -o cat _PID="$(prop MainPID)" | grep -q "resuming 1 unfinished job"'
check "the job $id2 resumes and succeeds" poll 40 state_is "$id2" succeeded
check "two imports (one per job)" test "$(imports)" = 2

# ---- upgrade with a job running ---------------------------------------------------
echo "# $((SECONDS - t0)) s: upgrade $VER -> $UPVER with a job running"
held_job
id3=$held
old_pid=$(prop MainPID)
check "apt-get install ./dev2prodd_${UPVER}_$ARCH.deb" apt_get upgrade install "./dev2prodd_${UPVER}_$ARCH.deb"
check "dpkg: install ok installed $UPVER" eval '[ "$(pkg_status)" = "install ok installed $UPVER" ]'
new_pid=$(prop MainPID)
check "the upgrade restarted the service (MainPID $old_pid -> $new_pid, active)" \
        eval '[ -n "$new_pid" ] && [ "$new_pid" != 0 ] && [ "$new_pid" != "$old_pid" ] && prop_is ActiveState active'
check "the job $id3 resumes and succeeds" poll 40 state_is "$id3" succeeded
check "the new daemon resumed it (journal: resuming 1 unfinished job)" \
        eval 'in_lab journalctl -u dev2prodd.service --no-pager -o cat _PID="$new_pid" | grep -q "resuming 1 unfinished job"'
check "three imports (one per job)" test "$(imports)" = 3

# ---- purge --------------------------------------------------------------------------
echo "# $((SECONDS - t0)) s: apt-get purge"
check "apt-get purge dev2prodd" apt_get purge purge dev2prodd
check "dpkg no longer knows the package" eval '! in_lab dpkg-query -W dev2prodd > /dev/null 2>&1 || [ "$(pkg_status)" = "unknown ok not-installed " ]'
check "no dev2prodd process" eval '! in_lab pgrep -x dev2prodd > /dev/null'
check "/var/lib/dev2prodd and /etc/dev2prodd (config and keys) are gone" \
        eval 'in_lab test ! -e /var/lib/dev2prodd -a ! -e /etc/dev2prodd'
check "the user and group dev2prodd are gone" \
        eval '! in_lab getent passwd dev2prodd > /dev/null && ! in_lab getent group dev2prodd > /dev/null'
check "the catalog no longer has MESSAGE_ID $MSGID_SUCCEEDED (the trigger ran again)" \
        eval '! in_lab journalctl --list-catalog | grep -q "^$MSGID_SUCCEEDED "'
snapshot > "$T/after.list"
LC_ALL=C comm -13 "$T/before.list" "$T/after.list" > "$T/left.list"
LC_ALL=C comm -23 "$T/before.list" "$T/after.list" > "$T/gone.list"
check "nothing is left: the same $(wc -l < "$T/after.list") paths as before the install" \
        eval '[ ! -s "$T/left.list" ] && [ ! -s "$T/gone.list" ]'
sed 's/^/# left behind: /' "$T/left.list"
sed 's/^/# gone: /' "$T/gone.list"
LAB_DONE=1
echo "# $((SECONDS - t0)) s in all"
finish
