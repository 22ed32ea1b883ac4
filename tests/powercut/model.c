/* model.c — the durable and pending state of each node (model.h), saved at
 * unmount and turned into a folder by a cut. */
#include "model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { REC_WRITE = 1, REC_TRUNC = 2 };
struct rec {                    /* one pending file operation in SHADOW/log/ID */
        uint32_t type, zero;
        uint64_t off;           /* WRITE: offset; TRUNC: the new size */
        uint64_t len;           /* WRITE: bytes that follow the record */
};

static char *shadow_dir;
static struct node **nodes;     /* nodes[id - 1] */
static size_t n_nodes;

static void *xrealloc_or_die(void *p, size_t n) {
        p = realloc(p, n ? n : 1);
        if (!p) {
                perror("powercutfs");
                abort();
        }
        return p;
}
static char *xstrdup_or_die(const char *s) {
        char *d = strdup(s);
        if (!d)
                abort();
        return d;
}
static char *path_of(const char *sub, uint64_t id) {
        char *p;
        if (asprintf(&p, "%s/%s/%llu", shadow_dir, sub, (unsigned long long) id) < 0)
                abort();
        return p;
}

static struct node *node_new(bool dir, mode_t mode) {
        struct node *n = calloc(1, sizeof *n);
        if (!n)
                abort();
        nodes = xrealloc_or_die(nodes, (n_nodes + 1) * sizeof *nodes);
        nodes[n_nodes++] = n;
        n->id = n_nodes;
        n->dir = dir;
        n->mode = mode & 07777;
        n->log_fd = -1;
        return n;
}

struct node *model_node(uint64_t id) {
        return id >= 1 && id <= n_nodes ? nodes[id - 1] : NULL;
}

/* ---- name maps ---- */

static ssize_t dents_find(const struct dentry *d, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(d[i].name, name) == 0)
                        return (ssize_t) i;
        return -1;
}
static void dents_del(struct dentry *d, size_t *n, const char *name) {
        ssize_t i = dents_find(d, *n, name);
        if (i < 0)
                return;
        free(d[i].name);
        d[i] = d[--*n];
}
static void dents_set(struct dentry **d, size_t *n, const char *name, uint64_t id) {
        ssize_t i = dents_find(*d, *n, name);
        if (i >= 0) {
                (*d)[i].id = id;
                return;
        }
        *d = xrealloc_or_die(*d, (*n + 1) * sizeof **d);
        (*d)[(*n)++] = (struct dentry) { xstrdup_or_die(name), id };
}
static void dents_copy(struct dentry **to, size_t *n_to, const struct dentry *from, size_t n_from) {
        for (size_t i = 0; i < *n_to; i++)
                free((*to)[i].name);
        *to = xrealloc_or_die(*to, n_from * sizeof **to);
        for (size_t i = 0; i < n_from; i++)
                (*to)[i] = (struct dentry) { xstrdup_or_die(from[i].name), from[i].id };
        *n_to = n_from;
}
static void dirop_apply(struct dentry **d, size_t *n, const struct dirop *op) {
        switch (op->type) {
        case DIROP_ADD:
                dents_set(d, n, op->name, op->child);
                break;
        case DIROP_DEL:
                dents_del(*d, n, op->name);
                break;
        case DIROP_RENAME:
                dents_del(*d, n, op->name);
                dents_set(d, n, op->to, op->child);
                break;
        }
}

/* ---- the live view ---- */

struct node *model_lookup(const char *path) {
        struct node *n = model_node(1);
        char buf[4096], *save = NULL;

        if (!path || strlen(path) >= sizeof buf)
                return NULL;
        strcpy(buf, path);
        for (char *c = strtok_r(buf, "/", &save); c && n; c = strtok_r(NULL, "/", &save)) {
                ssize_t i = n->dir ? dents_find(n->live, n->n_live, c) : -1;
                n = i < 0 ? NULL : model_node(n->live[i].id);
        }
        return n;
}

/* The folder node of PATH's parent and PATH's last component. */
static struct node *parent_of(const char *path, const char **ret_name) {
        const char *slash = strrchr(path, '/');
        char buf[4096];
        size_t len;

        if (!slash || (len = (size_t) (slash - path)) >= sizeof buf)
                return NULL;
        memcpy(buf, path, len);
        buf[len] = 0;
        *ret_name = slash + 1;
        return model_lookup(len ? buf : "/");
}

static void dir_record(struct node *d, struct dirop op) {
        op.name = xstrdup_or_die(op.name);
        op.to = op.to ? xstrdup_or_die(op.to) : NULL;
        d->ops = xrealloc_or_die(d->ops, (d->n_ops + 1) * sizeof *d->ops);
        d->ops[d->n_ops++] = op;
        dirop_apply(&d->live, &d->n_live, &op);
}

struct node *model_created(const char *path, bool dir, mode_t mode) {
        const char *name;
        struct node *p = parent_of(path, &name), *n;

        if (!p)
                return NULL;
        n = node_new(dir, mode);
        dir_record(p, (struct dirop) { .type = DIROP_ADD, .name = (char *) name, .child = n->id });
        return n;
}

void model_removed(const char *path) {
        const char *name;
        struct node *p = parent_of(path, &name);
        if (p && dents_find(p->live, p->n_live, name) >= 0)
                dir_record(p, (struct dirop) { .type = DIROP_DEL, .name = (char *) name });
}

void model_renamed(const char *from, const char *to) {
        const char *fname, *tname;
        struct node *p = parent_of(from, &fname), *n = model_lookup(from);

        if (!p || !n || p != parent_of(to, &tname) || strcmp(fname, tname) == 0)
                return;
        dir_record(p, (struct dirop) { .type = DIROP_RENAME, .name = (char *) fname,
                                       .to = (char *) tname, .child = n->id });
}

static int write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

static int log_append(struct node *n, const struct rec *r, const void *data) {
        int e;
        if (n->log_fd < 0) {
                char *p = path_of("log", n->id);
                n->log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                e = -errno;
                free(p);
                if (n->log_fd < 0)
                        return e;
        }
        if ((e = write_all(n->log_fd, r, sizeof *r)) < 0 || (e = write_all(n->log_fd, data, r->len)) < 0)
                return e;
        n->n_pending++;
        return 0;
}

int model_wrote(struct node *n, const void *data, size_t len, off_t off) {
        return log_append(n, &(struct rec) { .type = REC_WRITE, .off = (uint64_t) off, .len = len }, data);
}

int model_truncated(struct node *n, off_t size) {
        return log_append(n, &(struct rec) { .type = REC_TRUNC, .off = (uint64_t) size }, NULL);
}

/* Copies IN (from offset 0 to its end) to OUT. */
static int copy_fd(int in, int out) {
        static char buf[1 << 17];
        off_t off = 0;
        for (;;) {
                ssize_t k = pread(in, buf, sizeof buf, off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                int r = write_all(out, buf, (size_t) k);
                if (r < 0)
                        return r;
                off += k;
        }
}

static int copy_to_data(struct node *n, int fd) {
        char *p = path_of("data", n->id), *tmp;
        int out, r;

        if (asprintf(&tmp, "%s.tmp", p) < 0)
                abort();
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        r = out < 0 ? -errno : copy_fd(fd, out);
        if (out >= 0)
                close(out);
        if (r == 0 && rename(tmp, p) < 0)
                r = -errno;
        if (r == 0)
                n->has_data = true;
        free(tmp);
        free(p);
        return r;
}

int model_sync_file(struct node *n, int fd) {
        int r = copy_to_data(n, fd);
        if (r < 0)
                return r;
        if (n->log_fd >= 0)
                close(n->log_fd);
        n->log_fd = -1;
        char *p = path_of("log", n->id);
        (void) unlink(p);
        free(p);
        n->n_pending = 0;
        return 0;
}

void model_sync_dir(struct node *n) {
        dents_copy(&n->durable, &n->n_durable, n->live, n->n_live);
        for (size_t i = 0; i < n->n_ops; i++) {
                free(n->ops[i].name);
                free(n->ops[i].to);
        }
        n->n_ops = 0;
}

/* ---- start: the backing folder is all durable ---- */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f) {
        (void) st;
        (void) flag;
        return f->level == 0 ? 0 : remove(p);
}
/* Empties folder P (keeps P itself). */
static int empty_dir(const char *p) {
        return nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

static int scan(const char *path, struct node *d) {
        DIR *dir = opendir(path);
        struct dirent *de;
        int r = 0;

        if (!dir)
                return -errno;
        while (r == 0 && (de = readdir(dir))) {
                struct stat st;
                char *p;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
                        abort();
                if (lstat(p, &st) < 0)
                        r = -errno;
                else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                        fprintf(stderr, "powercutfs: %s: only files and folders are modelled\n", p);
                        r = -ENOTSUP;
                } else {
                        struct node *n = node_new(S_ISDIR(st.st_mode), st.st_mode);
                        dents_set(&d->live, &d->n_live, de->d_name, n->id);
                        if (n->dir)
                                r = scan(p, n);
                        else {
                                int fd = open(p, O_RDONLY | O_CLOEXEC);
                                r = fd < 0 ? -errno : copy_to_data(n, fd);
                                if (fd >= 0)
                                        close(fd);
                        }
                }
                free(p);
        }
        closedir(dir);
        model_sync_dir(d);
        return r;
}

static int shadow_reset(const char *shadow) {
        char *p;
        int r;

        free(shadow_dir);
        shadow_dir = xstrdup_or_die(shadow);
        if (mkdir(shadow, 0700) < 0 && errno != EEXIST)
                return -errno;
        if ((r = empty_dir(shadow)) < 0)
                return r;
        for (const char *const *s = (const char *const[]) { "data", "log", NULL }; *s; s++) {
                if (asprintf(&p, "%s/%s", shadow, *s) < 0)
                        abort();
                r = mkdir(p, 0700) < 0 ? -errno : 0;
                free(p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int model_init(const char *backing, const char *shadow) {
        struct stat st;
        int r = shadow_reset(shadow);
        if (r < 0)
                return r;
        if (stat(backing, &st) < 0)
                return -errno;
        return scan(backing, node_new(true, st.st_mode));
}

/* ---- SHADOW/model ---- */

static void put_hex(FILE *f, const char *s) {
        fputc(' ', f);
        for (; *s; s++)
                fprintf(f, "%02x", (unsigned char) *s);
}

int model_save(void) {
        char *p, *tmp;
        FILE *f;
        int r = 0;

        if (asprintf(&p, "%s/model", shadow_dir) < 0 || asprintf(&tmp, "%s/model.tmp", shadow_dir) < 0)
                abort();
        f = fopen(tmp, "we");
        if (!f) {
                r = -errno;
                goto out;
        }
        fprintf(f, "powercutfs-model 1\n");
        for (size_t i = 0; i < n_nodes; i++) {
                struct node *n = nodes[i];
                if (n->log_fd >= 0)
                        close(n->log_fd);
                n->log_fd = -1;
                fprintf(f, "node %llu %c %o %d\n", (unsigned long long) n->id, n->dir ? 'd' : 'f',
                        (unsigned) n->mode, n->has_data);
                for (size_t j = 0; j < n->n_durable; j++) {
                        fprintf(f, "dent %llu %llu", (unsigned long long) n->id, (unsigned long long) n->durable[j].id);
                        put_hex(f, n->durable[j].name);
                        fputc('\n', f);
                }
                for (size_t j = 0; j < n->n_ops; j++) {
                        const struct dirop *o = &n->ops[j];
                        fprintf(f, "op %llu %d %llu", (unsigned long long) n->id, (int) o->type,
                                (unsigned long long) o->child);
                        put_hex(f, o->name);
                        if (o->to)
                                put_hex(f, o->to);
                        fputc('\n', f);
                }
        }
        fprintf(f, "end\n");
        if (ferror(f) | (fclose(f) != 0))
                r = -EIO;
        else if (rename(tmp, p) < 0)
                r = -errno;
out:
        free(p);
        free(tmp);
        return r;
}

static char *get_hex(const char *h) {
        size_t n = strlen(h) / 2;
        char *s = malloc(n + 1);
        if (!s)
                abort();
        for (size_t i = 0; i < n; i++) {
                unsigned v;
                if (sscanf(h + 2 * i, "%2x", &v) != 1 || v == 0) {
                        free(s);
                        return NULL;
                }
                s[i] = (char) v;
        }
        s[n] = 0;
        return s;
}

static int model_load(const char *shadow) {
        char *p, line[16384];
        FILE *f;
        bool end = false;
        int r = 0;

        free(shadow_dir);
        shadow_dir = xstrdup_or_die(shadow);
        if (asprintf(&p, "%s/model", shadow) < 0)
                abort();
        f = fopen(p, "re");
        free(p);
        if (!f)
                return -errno;
        if (!fgets(line, sizeof line, f) || strcmp(line, "powercutfs-model 1\n") != 0)
                r = -EBADMSG;
        while (r == 0 && !end && fgets(line, sizeof line, f)) {
                unsigned long long id, child;
                char kind, a[8192], b[8192];
                unsigned mode;
                int has, type, k;
                struct node *n;

                if (strcmp(line, "end\n") == 0)
                        end = true;
                else if (sscanf(line, "node %llu %c %o %d", &id, &kind, &mode, &has) == 4 && id == n_nodes + 1)
                        node_new(kind == 'd', mode)->has_data = has;
                else if (sscanf(line, "dent %llu %llu %8191s", &id, &child, a) == 3 && (n = model_node(id))) {
                        char *name = get_hex(a);
                        if (!name)
                                r = -EBADMSG;
                        else
                                dents_set(&n->durable, &n->n_durable, name, child);
                        free(name);
                } else if ((k = sscanf(line, "op %llu %d %llu %8191s %8191s", &id, &type, &child, a, b)) >= 4 &&
                           (n = model_node(id))) {
                        struct dirop o = { .type = (enum dirop_type) type, .name = get_hex(a),
                                           .to = k == 5 ? get_hex(b) : NULL, .child = child };
                        if (!o.name || (type == DIROP_RENAME) != (o.to != NULL) || type < 0 || type > DIROP_RENAME)
                                r = -EBADMSG;
                        n->ops = xrealloc_or_die(n->ops, (n->n_ops + 1) * sizeof *n->ops);
                        n->ops[n->n_ops++] = o;
                } else
                        r = -EBADMSG;
        }
        fclose(f);
        return r == 0 && !end ? -EBADMSG : r;
}

/* ---- the cut ---- */

static uint64_t rng_state;
static uint64_t rng_next(void) {        /* splitmix64: the same on every libc */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}
static size_t how_many(size_t pending, enum keep keep) {
        if (pending == 0 || keep == KEEP_NONE)
                return 0;
        return keep == KEEP_ALL ? pending : (size_t) (rng_next() % (pending + 1));
}

/* Rebuilds file N at P: its durable content, then the first KEEP records. */
static int build_file(struct node *n, const char *p, size_t keep) {
        int out = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), in = -1, r = 0;
        char *src;
        struct rec rec;
        static char buf[1 << 17];
        size_t seen = 0;

        if (out < 0)
                return -errno;
        if (n->has_data) {
                src = path_of("data", n->id);
                in = open(src, O_RDONLY | O_CLOEXEC);
                free(src);
                r = in < 0 ? -errno : copy_fd(in, out);
                if (in >= 0)
                        close(in);
        }
        src = path_of("log", n->id);
        in = open(src, O_RDONLY | O_CLOEXEC);
        free(src);
        while (r == 0 && in >= 0 && read(in, &rec, sizeof rec) == (ssize_t) sizeof rec) {
                bool apply = seen++ < keep;
                if (rec.type == REC_TRUNC) {
                        if (apply && ftruncate(out, (off_t) rec.off) < 0)
                                r = -errno;
                        continue;
                }
                for (uint64_t done = 0; r == 0 && done < rec.len;) {
                        size_t want = rec.len - done < sizeof buf ? (size_t) (rec.len - done) : sizeof buf;
                        ssize_t k = read(in, buf, want);
                        if (k <= 0)
                                r = -EBADMSG;
                        else if (apply && pwrite(out, buf, (size_t) k, (off_t) (rec.off + done)) != k)
                                r = -EIO;
                        done += k > 0 ? (uint64_t) k : 0;
                }
        }
        if (in >= 0)
                close(in);
        if (r == 0 && fchmod(out, n->mode) < 0)
                r = -errno;
        close(out);
        return r;
}

static int build_dir(struct node *d, const char *path, bool *seen) {
        int r = 0;
        for (size_t i = 0; r == 0 && i < d->n_live; i++) {
                struct node *n = model_node(d->live[i].id);
                char *p;
                if (!n || seen[n->id - 1])      /* cannot happen: a node lives in one folder */
                        continue;
                seen[n->id - 1] = true;
                if (asprintf(&p, "%s/%s", path, d->live[i].name) < 0)
                        abort();
                if (n->dir) {
                        r = mkdir(p, 0700) < 0 ? -errno : build_dir(n, p, seen);
                        if (r == 0 && chmod(p, n->mode) < 0)
                                r = -errno;
                } else
                        r = build_file(n, p, n->n_pending);     /* the count model_cut drew */
                free(p);
        }
        return r;
}

int model_cut(const char *shadow, const char *into, enum keep keep, uint64_t seed, struct cut_stats *ret) {
        bool *seen;
        int r = model_load(shadow);

        memset(ret, 0, sizeof *ret);
        if (r < 0)
                return r;
        rng_state = seed;
        /* How many pending operations of each node survive, decided in node
         * order so that a seed always means the same outcome.  A folder's
         * result goes into its live map, a file's count into n_pending. */
        for (size_t i = 0; i < n_nodes; i++) {
                struct node *n = nodes[i];
                if (n->dir) {
                        size_t k = how_many(n->n_ops, keep);
                        dents_copy(&n->live, &n->n_live, n->durable, n->n_durable);
                        for (size_t j = 0; j < k; j++)
                                dirop_apply(&n->live, &n->n_live, &n->ops[j]);
                        ret->dirs_pending += n->n_ops > 0;
                        ret->dir_ops += n->n_ops;
                        ret->dir_ops_kept += k;
                } else {
                        char *p = path_of("log", n->id);
                        struct stat st;
                        size_t total = 0;
                        /* count the records first: the draw needs the total */
                        if (stat(p, &st) == 0 && st.st_size > 0) {
                                int fd = open(p, O_RDONLY | O_CLOEXEC);
                                struct rec rec;
                                off_t off = 0;
                                while (fd >= 0 && pread(fd, &rec, sizeof rec, off) == (ssize_t) sizeof rec) {
                                        total++;
                                        off += (off_t) (sizeof rec + (rec.type == REC_WRITE ? rec.len : 0));
                                }
                                if (fd >= 0)
                                        close(fd);
                        }
                        free(p);
                        n->n_pending = how_many(total, keep);
                        ret->files_pending += total > 0;
                        ret->file_ops += total;
                        ret->file_ops_kept += n->n_pending;
                }
        }
        if ((r = empty_dir(into)) < 0)
                return r;
        seen = calloc(n_nodes ? n_nodes : 1, sizeof *seen);
        if (!seen)
                abort();
        r = n_nodes ? build_dir(nodes[0], into, seen) : -EBADMSG;
        free(seen);
        return r;
}
