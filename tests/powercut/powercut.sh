# tests/powercut/powercut.sh — shell helpers to drive powercutfs (sourced
# after tests/lib.sh, which sets BUILD and T).  README.md in this folder
# explains the filesystem; a campaign uses the same four steps:
#   pc_mount BACKING SHADOW MNT; ...work on MNT...; pc_umount MNT; pc_cut ...
PCFS="$BUILD/powercutfs"
PC_PID=
PC_MNT=

# pc_require: SKIP (exit 77) when this machine cannot mount FUSE at all
pc_require() {
        [ -x "$PCFS" ] || { echo "no $PCFS: run make powercutfs"; exit 1; }
        [ -c /dev/fuse ] || skip "no /dev/fuse (FUSE is not available here)"
        command -v fusermount3 > /dev/null || skip "no fusermount3 (apt-get install fuse3)"
        mkdir -p "$T/pc-probe/b" "$T/pc-probe/m"
        if ! pc_mount "$T/pc-probe/b" "$T/pc-probe/s" "$T/pc-probe/m" 2> /dev/null; then
                # only libfuse's own refusal is a reason to skip; any other
                # failure of powercutfs is a failure of the test
                grep -q -e '^fuse:' -e '^fusermount3:' "$T/pc-probe/s.log" &&
                        skip "cannot mount FUSE here: $(grep -m1 -e '^fuse:' -e '^fusermount3:' "$T/pc-probe/s.log")"
                cat "$T/pc-probe/s.log"; echo "powercutfs did not mount"; exit 1
        fi
        pc_umount "$T/pc-probe/m"
}

# pc_mount BACKING SHADOW MNT: mounts (BACKING's content is the durable
# start); powercutfs's output goes to SHADOW.log
pc_mount() {
        local b=$1 s=$2 m=$3
        "$PCFS" mount --backing "$b" --shadow "$s" "$m" > "$s.log" 2>&1 &
        PC_PID=$! PC_MNT=$m
        local abs; abs=$(cd "$m" && pwd)
        for _ in $(seq 100); do
                grep -q " $abs fuse.powercutfs " /proc/self/mounts && return 0
                kill -0 "$PC_PID" 2> /dev/null || { wait "$PC_PID"; PC_PID=; return 1; }
                sleep 0.05
        done
        echo "powercutfs did not mount $m in 5 s" >&2; return 1
}

# pc_umount MNT: unmounts and waits until the model is saved
pc_umount() {
        fusermount3 -u "$1" || return 1
        [ -n "$PC_PID" ] && wait "$PC_PID"
        local rc=$?; PC_PID= PC_MNT=; return $rc
}

# pc_cut BACKING SHADOW [--keep-all | --keep-random SEED] [--into DIR]
pc_cut() { local b=$1 s=$2; shift 2; "$PCFS" cut --backing "$b" --shadow "$s" "$@"; }

# pc_new_boot CMD...: runs CMD seeing a new /proc/sys/kernel/random/boot_id
# (a private mount namespace).  A cut does not reboot the machine, but the
# daemon trusts an unflushed package while the boot id stays the same.
pc_new_boot() {
        local f="$T/boot_id.$RANDOM"
        cat /proc/sys/kernel/random/uuid > "$f"
        unshare -m sh -c 'mount --bind "$0" /proc/sys/kernel/random/boot_id && exec "$@"' "$f" "$@"
}

# unmounts what is still mounted when the test ends (lazy: a killed
# process may still hold a file open)
_pc_cleanup() {
        [ -n "$PC_MNT" ] && { fusermount3 -u -z "$PC_MNT" 2> /dev/null; [ -n "$PC_PID" ] && wait "$PC_PID"; }
        _lib_cleanup_daemon
}
trap _pc_cleanup EXIT
