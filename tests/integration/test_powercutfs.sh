#!/usr/bin/env bash
# powercutfs (tests/powercut/) keeps what a disk would still hold after a
# power cut.  Each rule, shown through a real FUSE mount and a cut:
#   (a) a rename without the folder's fsync is lost;
#   (b) file data without fsync is lost (a new file's name may stay, empty);
#   (c) a synced temp file renamed over the target, folder synced, survives;
#   (d) an unlink without the folder's fsync comes back;
#   (e) --keep-random keeps a prefix of each file's and folder's pending
#       operations, the same for the same seed; --keep-all is the live view;
#   (f) the daemon's own saves (write_file_atomic) survive the cut, and the
#       daemon promotes with its state folder on the mount (flock works).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../powercut/powercut.sh"
pc_require

B="$T/backing" S="$T/shadow" M="$T/mnt"
mkdir -p "$B" "$M"

# py CODE: runs Python in the mount with two helpers: put(name, data,
# sync=False, mode="w", flags=0) writes a file in one write, sync_dir(name)
# fsyncs a folder
py() {
        (cd "$M" && python3 -c "
import os
def put(name, data, sync=False, mode='w', flags=0):
    fl = flags | os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == 'a' else os.O_TRUNC)
    fd = os.open(name, fl, 0o640)
    os.write(fd, data.encode())
    if sync: os.fsync(fd)
    os.close(fd)
def sync_dir(name='.'):
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)
$1")
}
content() { cat "$1" 2> /dev/null || echo "(missing)"; }

# ---- (a) to (d): two mounts, a cut after each ----
printf v1 > "$B/cfg"; printf old > "$B/data"; printf old > "$B/osync"; printf here > "$B/gone"; printf here > "$B/gone-synced"
mkdir "$B/sub"
pc_mount "$B" "$S" "$M" || exit 1
py "
put('data', 'new content')                                            # (b) no fsync
put('sub/new', 'unsynced'); sync_dir('sub')                           # (b) name synced, data not
put('sub/c.tmp', 'v3', sync=True); os.rename('sub/c.tmp', 'sub/c'); sync_dir('sub')  # (c)
os.unlink('gone-synced'); sync_dir('.')                               # (d) synced: stays gone
"
check "the mount shows the live view before the cut" test "$(content "$M/data")" = "new content"
pc_umount "$M" || bad "powercutfs unmounts and exits 0"
pc_cut "$B" "$S"
check "(b) data without fsync is lost: the file keeps its old bytes" test "$(content "$B/data")" = old
check "(b) a new file whose folder was synced but not its data: empty" test -f "$B/sub/new" -a ! -s "$B/sub/new"
check "(c) synced temp renamed, folder synced: the new content survives" test "$(content "$B/sub/c")" = v3
check "(c) ... and no temp file remains" test "$(content "$B/sub/c.tmp")" = "(missing)"
check "(c) ... with its mode (0640 as created)" test "$(stat -c %a "$B/sub/c")" = 640
check "(d) unlink + folder fsync: the name stays gone" test "$(content "$B/gone-synced")" = "(missing)"

pc_mount "$B" "$S" "$M" || exit 1
py "
put('cfg.tmp', 'v2', sync=True); os.rename('cfg.tmp', 'cfg')          # (a) no sync_dir
os.unlink('gone')                                                     # (d) no sync_dir
put('x', 'never synced')
put('osync', 'new', flags=os.O_SYNC)                                  # O_SYNC: durable at once
os.mkdir('newdir'); put('newdir/f', 'synced', sync=True); sync_dir('newdir')  # parent not synced
"
check "the mount shows the rename before the cut" test "$(content "$M/cfg")" = v2
pc_umount "$M" || bad "powercutfs unmounts and exits 0"
pc_cut "$B" "$S"
check "(a) rename without the folder's fsync is lost: the old content" test "$(content "$B/cfg")" = v1
check "(a) ... and the temp file's name too" test "$(content "$B/cfg.tmp")" = "(missing)"
check "(d) unlink without the folder's fsync: the file comes back" test "$(content "$B/gone")" = here
check "a file created without any fsync does not survive" test "$(content "$B/x")" = "(missing)"
check "a write through an O_SYNC descriptor survives" test "$(content "$B/osync")" = new
check "a folder whose parent was not synced is lost with its synced content" test ! -e "$B/newdir"

# ---- (e) random subsets are prefix-closed and seeded ----
rm -rf "${B:?}"/*; mkdir "$B/names"; : > "$B/log"
pc_mount "$B" "$S" "$M" || exit 1
py "
for i in range(1, 11): put('log', 'line %d\n' % i, mode='a')
for i in range(1, 9): put('names/n%d' % i, 'x%d' % i, sync=True)
"
pc_umount "$M" || bad "powercutfs unmounts and exits 0"
all="$T/all"; mkdir "$all"
pc_cut "$B" "$S" --keep-all --into "$all" > "$T/cut.out"
check "--keep-all: all 10 appends" test "$(wc -l < "$all/log")" = 10
check "--keep-all: all 8 names" test "$(ls "$all/names" | wc -l)" = 8
check "--keep-all: the counts" grep -q "pending name operations: 8 in 1 folders, kept 8" "$T/cut.out"
for seed in $(seq 1 20); do
        pc_cut "$B" "$S" --keep-random "$seed" --into "$T/cut-$seed" > /dev/null || bad "cut --keep-random $seed"
done
# per seed: the appends kept, the names kept; "bad" when either is not a
# prefix or a kept name lost its synced data
python3 - "$T" > "$T/seeds.out" << 'PY'
import os, sys
for seed in range(1, 21):
    d = os.path.join(sys.argv[1], "cut-%d" % seed)
    lines = open(os.path.join(d, "log")).read().splitlines()
    names = sorted(os.listdir(os.path.join(d, "names")), key=lambda n: int(n[1:]))
    ok = lines == ["line %d" % i for i in range(1, len(lines) + 1)] and \
         names == ["n%d" % i for i in range(1, len(names) + 1)] and \
         all(open(os.path.join(d, "names", n)).read() == "x" + n[1:] for n in names)
    print(seed, len(lines), len(names), "ok" if ok else "bad")
PY
cat "$T/seeds.out"
check "(e) every seed keeps a prefix of the appends and of the creates (with their synced data)" \
        test "$(grep -c ' ok$' "$T/seeds.out")" = 20
check "(e) the seeds give different outcomes (>= 4 different lengths)" \
        test "$(cut -d' ' -f2 "$T/seeds.out" | sort -u | wc -l)" -ge 4
mkdir "$T/again"; pc_cut "$B" "$S" --keep-random 7 --into "$T/again" > /dev/null
check "(e) the same seed gives the same tree" diff -r "$T/cut-7" "$T/again"

# ---- (f) the daemon on the mount ----
# the daemon creates state/ and state/jobs itself: mkdir_p syncs each new
# folder's parent, or a cut would lose them whole with the job files in them
rm -rf "${B:?}"/*
mock_start --package-size 300000
STATE="$M/state"
write_config
pc_mount "$B" "$S" "$M" || exit 1
expect_rc 0 "the daemon promotes with its state folder on powercutfs" run_once
check_promoted
job=$(basename "$(job_file)")
# one process holds the lock (the subshell becomes the sleep)
( exec 9> "$STATE/lock"; flock 9; echo held > "$T/held"; exec sleep 30 ) & HOLD=$!
wait_for "$T/held" held 10
expect_rc 3 "flock through FUSE: --once refuses while another process holds the lock" run_once
kill "$HOLD"; wait "$HOLD" 2> /dev/null
pc_umount "$M" || bad "powercutfs unmounts and exits 0"
pc_cut "$B" "$S" | tee "$T/cut.out"
STATE="$B/state"
check "(f) the job file survives the cut (temp, fsync, rename, folder fsync)" test -f "$STATE/jobs/$job"
check "(f) ... with its last saved state" test "$(job_get state)" = succeeded
check "(f) no temp file of a save survives" test -z "$(ls -A "$STATE/jobs" | grep '^\.#')"
booted=$(pc_new_boot cat /proc/sys/kernel/random/boot_id)
check "pc_new_boot: the command sees a new boot id" \
        test -n "$booted" -a "$booted" != "$(cat /proc/sys/kernel/random/boot_id)"
finish
