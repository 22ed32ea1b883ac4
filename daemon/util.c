/* util.c — small helpers shared by every module (see util.h). */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- allocation ---------------------------------------------------------- */

_Noreturn static void oom(size_t n) {
        /* No allocation here: format on the stack, write(), abort. */
        char msg[96];
        int l = snprintf(msg, sizeof msg, "dev2prodd: out of memory (allocating %zu bytes)\n", n);
        if (l > 0) {
                ssize_t w = write(STDERR_FILENO, msg, MIN((size_t) l, sizeof msg - 1));
                (void) w;
        }
        abort();
}

void *xmalloc(size_t n) {
        void *p = malloc(n ? n : 1);
        if (!p)
                oom(n);
        return p;
}

void *xcalloc(size_t n, size_t m) {
        if (m && n > SIZE_MAX / m)
                oom(SIZE_MAX);
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                oom(n * m);
        return p;
}

void *xrealloc(void *p, size_t n) {
        void *q = realloc(p, n ? n : 1);
        if (!q)
                oom(n);
        return q;
}

char *xstrdup(const char *s) {
        if (!s)
                return NULL;
        return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n) {
        if (!s)
                return NULL;
        size_t l = strnlen(s, n);
        char *p = xmalloc(l + 1);
        memcpy(p, s, l);
        p[l] = 0;
        return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                oom(0);
        return s;
}

char *xasprintf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
                *fd = -1;
        }
}

/* ---- buffers ------------------------------------------------------------- */

void buf_append(struct buf *b, const void *p, size_t n) {
        if (n > SIZE_MAX - b->len - 1)
                oom(SIZE_MAX);
        if (!b->data || b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + n + 1)
                        cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
                b->data = xrealloc(b->data, cap);
                b->cap = cap;
        }
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
}

void buf_reset(struct buf *b) {
        b->len = 0;
        if (b->data)
                b->data[0] = 0;
}

void buf_free(struct buf *b) {
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

/* ---- durations and numbers ----------------------------------------------- */

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct { const char *suffix; uint64_t usec; } units[] = {
                /* "ms" before "m" */
                { "ms", USEC_PER_MSEC },
                { "s",  USEC_PER_SEC },
                { "m",  60 * USEC_PER_SEC },
                { "h",  3600 * USEC_PER_SEC },
                { "d",  86400 * USEC_PER_SEC },
        };
        uint64_t total = 0;

        if (!s || !*s)
                return -EINVAL;
        while (*s) {
                uint64_t n = 0;
                const char *start = s;

                while (*s >= '0' && *s <= '9') {
                        unsigned d = (unsigned) (*s - '0');
                        if (n > (UINT64_MAX - d) / 10)
                                return -ERANGE;
                        n = n * 10 + d;
                        s++;
                }
                if (s == start)
                        return -EINVAL;         /* no digits: "ms", "h1", " 1s", "-1s" */

                size_t i;
                for (i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].suffix);
                        if (strncmp(s, units[i].suffix, l) == 0) {
                                s += l;
                                break;
                        }
                }
                if (i == ELEMENTSOF(units))
                        return -EINVAL;         /* bare number, unknown unit, whitespace */
                if (n > UINT64_MAX / units[i].usec)
                        return -ERANGE;
                n *= units[i].usec;
                if (total > UINT64_MAX - n)
                        return -ERANGE;
                total += n;
        }
        *ret_usec = total;
        return 0;
}

char *format_duration(char *buf, size_t n, uint64_t usec) {
        return format_duration_style(buf, n, usec, DURATION_EXACT);
}

/* One unit table for both styles: the exact one is the configuration's own
 * syntax (parse_duration reads it back); the span keeps the two largest
 * adjacent units and says "min", as systemd's tools do. */
char *format_duration_style(char *buf, size_t n, uint64_t usec, enum duration_style style) {
        static const struct { const char *exact, *span; uint64_t usec; } units[] = {
                { "d",  "d",   86400 * USEC_PER_SEC },
                { "h",  "h",   3600 * USEC_PER_SEC },
                { "m",  "min", 60 * USEC_PER_SEC },
                { "s",  "s",   USEC_PER_SEC },
                { "ms", "ms",  USEC_PER_MSEC },
                { "us", NULL,  1 },
        };
        bool span = style == DURATION_SPAN;
        size_t off = 0, first = SIZE_MAX;

        if (!buf || n == 0)
                return buf;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(units) && usec > 0; i++) {
                uint64_t k = usec / units[i].usec;
                const char *suffix = span ? units[i].span : units[i].exact;
                if (!suffix)
                        break;
                if (span && first != SIZE_MAX &&
                    (i != first + 1 || units[first].usec <= USEC_PER_SEC))
                        break;          /* a span: the next unit down, and none below seconds */
                if (k == 0)
                        continue;
                if (first == SIZE_MAX)
                        first = i;
                usec -= k * units[i].usec;
                int w = snprintf(buf + off, n - off, "%s%llu%s", span && off ? " " : "", (unsigned long long) k,
                                 suffix);
                if (w < 0 || (size_t) w >= n - off) {
                        buf[off] = 0;   /* no half component: "1d2" for "1d2h" */
                        break;
                }
                off += (size_t) w;
        }
        if (off == 0)
                snprintf(buf, n, "0s");
        return buf;
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *ret) {
        unsigned long long n = 0;

        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                unsigned d = (unsigned) (*p - '0');
                if (n > (ULLONG_MAX - d) / 10) {
                        /* keep checking the rest is digits: "99999999999999999999x" is -EINVAL */
                        for (p++; *p; p++)
                                if (*p < '0' || *p > '9')
                                        return -EINVAL;
                        return -ERANGE;
                }
                n = n * 10 + d;
        }
        if (n > max)
                return -ERANGE;
        *ret = n;
        return 0;
}

/* ---- time ---------------------------------------------------------------- */

static uint64_t now_usec(clockid_t clk) {
        struct timespec ts;
        if (clock_gettime(clk, &ts) < 0)
                abort();        /* cannot happen for these clocks */
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

uint64_t now_realtime_usec(void) {
        return now_usec(CLOCK_REALTIME);
}

uint64_t now_monotonic_usec(void) {
        return now_usec(CLOCK_MONOTONIC);
}

char *format_timestamp_utc(char *buf, size_t n, uint64_t usec) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!buf || n == 0)
                return buf;
        if (!gmtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                buf[0] = 0;
        return buf;
}

/* ---- files --------------------------------------------------------------- */

int read_file_small(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        char *data = NULL;
        size_t len = 0, cap;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (uintmax_t) st.st_size > (uintmax_t) max)
                return -EFBIG;

        cap = S_ISREG(st.st_mode) ? (size_t) st.st_size + 1 : 4096;
        if (cap > max + 1)
                cap = max + 1;
        data = xmalloc(cap + 1);
        for (;;) {
                if (len == cap) {
                        if (len > max)
                                break;
                        cap = MIN(cap * 2, max + 1);
                        data = xrealloc(data, cap + 1);
                }
                ssize_t k = read(fd, data + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        free(data);
                        return r;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        if (len > max) {
                free(data);
                return -EFBIG;
        }
        data[len] = 0;
        *ret = data;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int fsync_dir(const char *dir) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return -errno;
        return 0;
}

static int fsync_parent(const char *path);

int write_file_atomic(const char *path, const void *data, size_t len) {
        int r = write_file_replace(path, data, len);
        /* The rename only survives a power loss once the folder is synced
         * (a failure here: the file is in place, the temp is gone). */
        return r < 0 ? r : fsync_parent(path);
}

int write_file_replace(const char *path, const void *data, size_t len) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *slash, *base;
        int r;

        if (!path || !*path)
                return -EINVAL;
        slash = strrchr(path, '/');
        if (slash) {
                base = slash + 1;
                dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t) (slash - path));
        } else {
                base = path;
                dir = xstrdup(".");
        }
        if (!*base)
                return -EISDIR;         /* "dir/" */

        tmp = xasprintf("%s%s.#%sXXXXXX", dir, streq(dir, "/") ? "" : "/", base);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;

        if (fchmod(fd, 0640) < 0) {       /* the service's group may read (util.h) */
                r = -errno;
                goto fail;
        }
        r = write_all(fd, data, len);
        if (r < 0)
                goto fail;
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        /* close() can report a delayed write error (NFS): check it. */
        r = close(fd);
        fd = -1;
        if (r < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;

fail:
        (void) unlink(tmp);
        return r;
}

/* Syncs the folder that holds path's last component. */
static int fsync_parent(const char *path) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');

        if (!slash)
                return fsync_dir(".");
        slash[slash == dir] = 0;        /* "/var" -> "/" */
        return fsync_dir(dir);
}

int mkdir_p(const char *path, unsigned mode) {
        _cleanup_free_ char *p = NULL;
        struct stat st;
        size_t l;

        if (!path || !*path)
                return -EINVAL;
        p = xstrdup(path);
        l = strlen(p);
        while (l > 1 && p[l - 1] == '/')
                p[--l] = 0;

        for (char *s = p + 1;; s++) {
                bool last = *s == 0;
                if (*s != '/' && !last)
                        continue;
                if (!last) {
                        if (s[-1] == '/')       /* "a//b" */
                                continue;
                        *s = 0;
                }
                if (mkdir(p, (mode_t) mode) == 0) {
                        (void) chmod(p, (mode_t) mode);        /* the umask (UMask=0077) narrows mkdir's */
                        /* A power cut forgets a new folder, with every file
                         * later made durable in it, until its parent's entry
                         * is synced (found with tests/powercut). */
                        int r = fsync_parent(p);
                        if (r < 0)
                                return r;
                } else {
                        int e = errno;
                        /* An existing folder is fine, even where we could not
                         * have created it (EACCES, EROFS on "/var"). */
                        if (stat(p, &st) < 0)
                                return -e;
                        if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                }
                if (last)
                        break;
                *s = '/';
        }
        return 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = 0;
}

void secret_free(char *s) {
        if (!s)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}

const char *boot_id(void) {
        static char id[37];
        static bool done;
        if (!done) {
                _cleanup_free_ char *t = NULL;
                size_t n;
                done = true;
                if (read_file_small("/proc/sys/kernel/random/boot_id", 64, &t, &n) >= 0 && n >= 36) {
                        memcpy(id, t, 36);
                        id[36] = 0;
                }
        }
        return id[0] ? id : NULL;
}

size_t utf8_seq_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;

        if (n == 0)
                return 0;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* overlong forms, UTF-16 surrogates and values past U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

char *text_clean(const char *s, size_t len, size_t max) {
        static const char repl[] = "\xef\xbf\xbd";   /* U+FFFD */
        const unsigned char *p = (const unsigned char *) s, *end = p + len;
        char *out, *o;

        if (!s)
                return NULL;
        /* each input byte yields at most 3 output bytes */
        out = o = xmalloc(MIN(len, max) * 3 + 1);
        while (p < end) {
                size_t n = utf8_seq_len(p, (size_t) (end - p));
                const char *add;
                size_t addn;
                char sp = ' ';

                if (n == 0) {
                        add = repl, addn = 3, n = 1;
                } else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
                        add = &sp, addn = 1;
                } else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
                        add = &sp, addn = 1;            /* C1 controls: 0x9b is a CSI */
                } else {
                        add = (const char *) p, addn = n;
                }
                if ((size_t) (o - out) + addn > max)
                        break;
                memcpy(o, add, addn);
                o += addn;
                p += n;
        }
        *o = 0;
        return out;
}

size_t str_hash(const char *s) {
        uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return (size_t) h;
}

static const char **strset_slot(const char **v, size_t cap, const char *name) {
        for (size_t k = str_hash(name) & (cap - 1);; k = (k + 1) & (cap - 1))
                if (!v[k] || streq(v[k], name))
                        return &v[k];
}

void strset_add(struct strset *s, const char *name) {
        if (2 * (s->n + 1) > s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                const char **v = xcalloc(cap, sizeof *v);
                for (size_t i = 0; i < s->cap; i++)
                        if (s->v[i])
                                *strset_slot(v, cap, s->v[i]) = s->v[i];
                free(s->v);
                s->v = v;
                s->cap = cap;
        }
        const char **slot = strset_slot(s->v, s->cap, name);
        if (!*slot) {
                *slot = name;
                s->n++;
        }
}

bool strset_has(const struct strset *s, const char *name) {
        return s->cap && *strset_slot(s->v, s->cap, name);
}

void strset_free(struct strset *s) {
        free(s->v);
        *s = (struct strset) {};
}
