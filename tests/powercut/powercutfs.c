/* powercutfs.c — a FUSE passthrough that remembers what a power cut would
 * keep (README.md in this folder).
 *
 *   powercutfs mount --backing DIR --shadow DIR MOUNTPOINT
 *   powercutfs cut   --shadow DIR (--backing DIR | --into DIR) [--keep-all | --keep-random SEED]
 *
 * mount runs in the foreground until `fusermount3 -u MOUNTPOINT` or
 * SIGTERM; then it saves the model to SHADOW.  cut (after the unmount)
 * replaces BACKING's content by what the disk would hold, or writes it to
 * --into DIR; the model stays until the next mount, so one unmount can be
 * cut many times (a seed each).
 */
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "model.h"

static const char *backing;
static struct node **by_fd;     /* the node each open backing fd belongs to */
static size_t n_by_fd;

static char *bpath(const char *path) {
        char *p;
        if (asprintf(&p, "%s%s", backing, path) < 0)
                abort();
        return p;
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
static void freep(void *p) { free(*(void **) p); }

static void fd_set_node(int fd, struct node *n) {
        if ((size_t) fd >= n_by_fd) {
                size_t m = (size_t) fd + 64;
                by_fd = realloc(by_fd, m * sizeof *by_fd);
                if (!by_fd)
                        abort();
                memset(by_fd + n_by_fd, 0, (m - n_by_fd) * sizeof *by_fd);
                n_by_fd = m;
        }
        by_fd[fd] = n;
}
static struct node *fd_node(const struct fuse_file_info *fi) {
        return fi && fi->fh < n_by_fd ? by_fd[fi->fh] : NULL;
}

static void *pc_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
        (void) conn;
        /* every lookup asks us: the model and the backing folder must agree */
        cfg->entry_timeout = cfg->attr_timeout = cfg->negative_timeout = 0;
        /* unlink of an open file unlinks (no .fuse_hidden rename the model
         * would see); operations on it then come with a file handle only */
        cfg->hard_remove = 1;
        cfg->nullpath_ok = 1;
        cfg->use_ino = 0;
        return NULL;
}

static bool saved;
static void pc_destroy(void *data) {
        (void) data;
        int r = model_save();
        if (r < 0)
                fprintf(stderr, "powercutfs: cannot save the model: %s\n", strerror(-r));
        saved = r == 0;
}

static int pc_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        if (fi)
                return fstat((int) fi->fh, st) < 0 ? -errno : 0;
        _cleanup_free_ char *p = bpath(path);
        return lstat(p, st) < 0 ? -errno : 0;
}

/* An open folder: with nullpath_ok its later calls may come without a path. */
struct open_dir {
        DIR *d;
        struct node *n;
};

static int pc_opendir(const char *path, struct fuse_file_info *fi) {
        _cleanup_free_ char *p = bpath(path);
        struct open_dir *od = calloc(1, sizeof *od);
        if (!od)
                return -ENOMEM;
        od->d = opendir(p);
        od->n = model_lookup(path);
        if (!od->d || !od->n) {
                int e = od->d ? ENOENT : errno;
                if (od->d)
                        closedir(od->d);
                free(od);
                return -e;
        }
        fi->fh = (uint64_t) (uintptr_t) od;
        return 0;
}

static int pc_releasedir(const char *path, struct fuse_file_info *fi) {
        (void) path;
        struct open_dir *od = (struct open_dir *) (uintptr_t) fi->fh;
        closedir(od->d);
        free(od);
        return 0;
}

static int pc_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
        (void) path;
        (void) off;             /* offset 0 always: the library buffers the whole listing */
        (void) flags;
        struct open_dir *od = (struct open_dir *) (uintptr_t) fi->fh;
        struct dirent *de;
        rewinddir(od->d);
        while ((de = readdir(od->d)))
                if (fill(buf, de->d_name, NULL, 0, 0))
                        break;
        return 0;
}

static int pc_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
        (void) path;
        (void) datasync;
        model_sync_dir(((struct open_dir *) (uintptr_t) fi->fh)->n);
        return 0;
}

static int pc_mkdir(const char *path, mode_t mode) {
        _cleanup_free_ char *p = bpath(path);
        if (mkdir(p, mode) < 0)
                return -errno;
        struct stat st;
        model_created(path, true, stat(p, &st) == 0 ? st.st_mode : mode);
        return 0;
}

static int pc_remove(const char *path, int (*fn)(const char *)) {
        _cleanup_free_ char *p = bpath(path);
        if (fn(p) < 0)
                return -errno;
        model_removed(path);
        return 0;
}
static int pc_rmdir(const char *path) { return pc_remove(path, rmdir); }
static int pc_unlink(const char *path) { return pc_remove(path, unlink); }

static int pc_rename(const char *from, const char *to, unsigned int flags) {
        const char *a = strrchr(from, '/'), *b = strrchr(to, '/');
        /* across folders a rename would be two independent name operations
         * in the model; nothing we test needs it */
        if (a - from != b - to || strncmp(from, to, (size_t) (a - from)) != 0)
                return -EXDEV;
        if (flags & ~(unsigned) RENAME_NOREPLACE)
                return -EINVAL;
        _cleanup_free_ char *pf = bpath(from);
        _cleanup_free_ char *pt = bpath(to);
        if (renameat2(AT_FDCWD, pf, AT_FDCWD, pt, flags) < 0)
                return -errno;
        model_renamed(from, to);
        return 0;
}

static int pc_open_common(const char *path, mode_t mode, struct fuse_file_info *fi, bool create) {
        _cleanup_free_ char *p = bpath(path);
        struct node *n = model_lookup(path);
        /* without O_APPEND: pwrite then writes where the kernel says (it
         * already put an append at the end), the offset the log records */
        int fd = open(p, (fi->flags & ~O_APPEND) | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (!n && create) {
                struct stat st;
                n = model_created(path, false, fstat(fd, &st) == 0 ? st.st_mode : mode);
        } else if (n && (fi->flags & O_TRUNC))
                (void) model_truncated(n, 0);
        if (!n) {
                close(fd);
                return -ENOENT;
        }
        fd_set_node(fd, n);
        fi->fh = (uint64_t) fd;
        return 0;
}
static int pc_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
        return pc_open_common(path, mode, fi, true);
}
static int pc_open(const char *path, struct fuse_file_info *fi) {
        return pc_open_common(path, 0, fi, false);
}

static int pc_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        (void) path;
        ssize_t k = pread((int) fi->fh, buf, size, off);
        return k < 0 ? -errno : (int) k;
}

static int pc_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        (void) path;
        struct node *n = fd_node(fi);
        ssize_t k = pwrite((int) fi->fh, buf, size, off);
        if (k < 0)
                return -errno;
        if (n) {
                int r = model_wrote(n, buf, (size_t) k, off);
                if (r < 0)
                        return r;
        }
        return (int) k;
}

static int pc_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
        struct node *n = fi ? fd_node(fi) : model_lookup(path);
        if (fi) {
                if (ftruncate((int) fi->fh, size) < 0)
                        return -errno;
        } else {
                _cleanup_free_ char *p = bpath(path);
                if (truncate(p, size) < 0)
                        return -errno;
        }
        return n ? model_truncated(n, size) : 0;
}

static int pc_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
        (void) path;
        (void) datasync;        /* fdatasync keeps data and size: all we model */
        struct node *n = fd_node(fi);
        char proc[64];
        int fd, r;
        if (!n)
                return -EBADF;
        /* the caller's handle may be write-only; this one reads the same
         * file (even when it is unlinked) */
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", (int) fi->fh);
        fd = open(proc, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = model_sync_file(n, fd);
        close(fd);
        return r;
}

static int pc_release(const char *path, struct fuse_file_info *fi) {
        (void) path;
        fd_set_node((int) fi->fh, NULL);
        close((int) fi->fh);
        return 0;
}

static int pc_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
        struct node *n = fi ? fd_node(fi) : model_lookup(path);
        int r;
        if (fi)
                r = fchmod((int) fi->fh, mode);
        else {
                _cleanup_free_ char *p = bpath(path);
                r = chmod(p, mode);
        }
        if (r < 0)
                return -errno;
        if (n)
                n->mode = mode & 07777;
        return 0;
}

static int pc_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
        if (fi)
                return fchown((int) fi->fh, uid, gid) < 0 ? -errno : 0;
        _cleanup_free_ char *p = bpath(path);
        return lchown(p, uid, gid) < 0 ? -errno : 0;
}

static int pc_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
        if (fi)
                return futimens((int) fi->fh, tv) < 0 ? -errno : 0;
        _cleanup_free_ char *p = bpath(path);
        return utimensat(AT_FDCWD, p, tv, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int pc_statfs(const char *path, struct statvfs *st) {
        (void) path;
        return statvfs(backing, st) < 0 ? -errno : 0;
}

static const struct fuse_operations ops = {
        .init = pc_init,
        .destroy = pc_destroy,
        .getattr = pc_getattr,
        .opendir = pc_opendir,
        .readdir = pc_readdir,
        .releasedir = pc_releasedir,
        .fsyncdir = pc_fsyncdir,
        .mkdir = pc_mkdir,
        .rmdir = pc_rmdir,
        .unlink = pc_unlink,
        .rename = pc_rename,
        .create = pc_create,
        .open = pc_open,
        .read = pc_read,
        .write = pc_write,
        .truncate = pc_truncate,
        .fsync = pc_fsync,
        .release = pc_release,
        .chmod = pc_chmod,
        .chown = pc_chown,
        .utimens = pc_utimens,
        .statfs = pc_statfs,
};

static int usage(void) {
        fprintf(stderr,
                "usage: powercutfs mount --backing DIR --shadow DIR MOUNTPOINT\n"
                "       powercutfs cut --shadow DIR (--backing DIR | --into DIR) [--keep-all | --keep-random SEED]\n");
        return 2;
}

int main(int argc, char **argv) {
        const char *shadow = NULL, *into = NULL, *mnt = NULL, *cmd = argc > 1 ? argv[1] : "";
        enum keep keep = KEEP_NONE;
        uint64_t seed = 0;
        char resolved[4096], resolved_shadow[4096];
        int r;

        for (int i = 2; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(a, "--keep-all") == 0)
                        keep = KEEP_ALL;
                else if (!v && a[0] == '-')
                        return usage();
                else if (strcmp(a, "--backing") == 0)
                        backing = argv[++i];
                else if (strcmp(a, "--shadow") == 0)
                        shadow = argv[++i];
                else if (strcmp(a, "--into") == 0)
                        into = argv[++i];
                else if (strcmp(a, "--keep-random") == 0) {
                        char *end;
                        errno = 0;
                        seed = strtoull(argv[++i], &end, 10);
                        if (errno || *end || end == argv[i])
                                return usage();
                        keep = KEEP_RANDOM;
                } else if (a[0] != '-' && !mnt)
                        mnt = a;
                else
                        return usage();
        }
        if (!shadow || (!backing && !into))     /* --into alone names the cut's target */
                return usage();

        if (strcmp(cmd, "mount") == 0 && mnt && backing && !into) {
                /* the FUSE callbacks see paths from the mount's root */
                if (!realpath(backing, resolved)) {
                        fprintf(stderr, "powercutfs: %s: %s\n", backing, strerror(errno));
                        return 1;
                }
                backing = resolved;
                /* fuse_main changes to "/": the shadow needs an absolute path */
                if (mkdir(shadow, 0700) < 0 && errno != EEXIST)
                        fprintf(stderr, "powercutfs: %s: %s\n", shadow, strerror(errno));
                if (!realpath(shadow, resolved_shadow)) {
                        fprintf(stderr, "powercutfs: %s: %s\n", shadow, strerror(errno));
                        return 1;
                }
                shadow = resolved_shadow;
                if ((r = model_init(backing, shadow)) < 0) {
                        fprintf(stderr, "powercutfs: cannot take %s as the durable start: %s\n", backing, strerror(-r));
                        return 1;
                }
                char *fargv[] = { argv[0], "-f", "-s", "-o", "fsname=powercutfs,subtype=powercutfs", (char *) mnt, NULL };
                r = fuse_main(6, fargv, &ops, NULL);
                /* a cut needs the model: no model, no success */
                return r == 0 && !saved ? 1 : r;
        }
        if (strcmp(cmd, "cut") == 0 && !mnt) {
                struct cut_stats st;
                if (into && mkdir(into, 0755) < 0 && errno != EEXIST) {
                        fprintf(stderr, "powercutfs: %s: %s\n", into, strerror(errno));
                        return 1;
                }
                char model[4096];
                snprintf(model, sizeof model, "%s/model", shadow);
                if (access(model, R_OK) < 0) {
                        /* written when powercutfs exits: still mounted, or killed */
                        fprintf(stderr, "powercutfs: cut: no %s: unmount powercutfs (fusermount3 -u) and "
                                "let it exit before the cut\n", model);
                        return 1;
                }
                r = model_cut(shadow, into ? into : backing, keep, seed, &st);
                if (r < 0) {
                        fprintf(stderr, "powercutfs: cut: %s\n", strerror(-r));
                        return 1;
                }
                printf("pending file operations: %zu in %zu files, kept %zu\n"
                       "pending name operations: %zu in %zu folders, kept %zu\n",
                       st.file_ops, st.files_pending, st.file_ops_kept, st.dir_ops, st.dirs_pending, st.dir_ops_kept);
                return 0;
        }
        return usage();
}
