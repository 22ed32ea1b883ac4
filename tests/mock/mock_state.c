/* mock_state.c — what the mock server remembers: tenants and their
 * sessions, exports, uploaded files, imports; ids; the record file.
 *
 * Everything lives in memory for the life of the process (a test run is
 * short) behind one mutex, M.lock. Lookups are linear: a test creates tens
 * of operations, not millions. */
#include "mock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct mock M = {
        .package_size = 65536,
        .polls = 2,
        .record_fd = -1,
        .stop_pipe = {-1, -1},
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

struct export_op {
        char id[EXPORT_ID_LEN + 1];
        struct tenant *tenant;
        char package[128];
        char file_id[UUID_LEN + 1];
        uint64_t seed;
        int64_t start_ms;
        int polls_seen;
        enum outcome outcome;
};

struct import_op {
        char id[EXPORT_ID_LEN + 1];
        struct tenant *tenant;
        char file_id[UUID_LEN + 1];
        char manager_id[EXPORT_ID_LEN + 1];
        bool dry_run;
        int64_t start_ms;
        int polls_seen;
        enum outcome outcome;
};

struct upload {
        struct tenant *tenant;
        char file_id[UUID_LEN + 1];
};

/* Growable arrays of pointers, so a snapshot pointer stays valid. */
static struct export_op **exports;
static size_t nexports, cap_exports;
static struct import_op **imports;
static size_t nimports, cap_imports;
static struct upload *uploads;
static size_t nuploads, cap_uploads;

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state;
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- small helpers ---------------------------------------------------- */

int64_t now_ms(void)
{
        struct timespec ts;
        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                return 0;
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t fnv1a64(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
        return h;
}

static uint64_t splitmix64(uint64_t *st)
{
        uint64_t z = (*st += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
}

void *mock_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
        if (n < *cap)
                return arr;
        size_t ncap = *cap ? *cap * 2 : 16;
        void *p = realloc(arr, ncap * elem);
        if (p)
                *cap = ncap;
        return p;
}

int state_init(void)
{
        uint64_t seed;
        /* Ids only need to differ between runs and requests; if the kernel
         * has no entropy call, the clock and pid still make them differ. */
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
                seed = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
        rng_state = seed;
        if (pipe(M.stop_pipe) != 0)
                return -errno;
        return 0;
}

void random_hex(char *out, size_t ndigits)
{
        static const char hex[] = "0123456789abcdef";
        pthread_mutex_lock(&rng_lock);
        for (size_t i = 0; i < ndigits; i += 16) {
                uint64_t r = splitmix64(&rng_state);
                for (size_t j = i; j < ndigits && j < i + 16; j++, r >>= 4)
                        out[j] = hex[r & 15];
        }
        pthread_mutex_unlock(&rng_lock);
        out[ndigits] = '\0';
}

void random_uuid(char out[UUID_LEN + 1])
{
        char h[33];
        random_hex(h, 32);
        h[12] = '4';                            /* version 4 */
        h[16] = "89ab"[h[16] % 4];              /* RFC 4122 variant */
        snprintf(out, UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* ---- tenants and sessions -------------------------------------------- */

struct tenant *tenant_find(const char *id)
{
        for (size_t i = 0; i < M.ntenants; i++)
                if (strcmp(M.tenants[i].id, id) == 0)
                        return &M.tenants[i];
        return NULL;
}

static int tenant_parse_auth(struct tenant *t, const char *auth, char *err, size_t errlen)
{
        const char *v;
        if (strncmp(auth, "key=", 4) == 0) {
                t->auth = AUTH_KEY;
                v = auth + 4;
        } else if (strncmp(auth, "bearer=", 7) == 0) {
                t->auth = AUTH_BEARER;
                v = auth + 7;
        } else if (strncmp(auth, "session=", 8) == 0) {
                t->auth = AUTH_SESSION;
                const char *colon = strchr(auth + 8, ':');
                if (!colon || colon == auth + 8 || colon[1] == '\0') {
                        snprintf(err, errlen, "session auth is session=USER:PASSWORD");
                        return -EINVAL;
                }
                t->user = strndup(auth + 8, (size_t)(colon - (auth + 8)));
                v = colon + 1;
        } else {
                snprintf(err, errlen, "AUTH must be key=SECRET, bearer=TOKEN or session=USER:PASSWORD");
                return -EINVAL;
        }
        if (*v == '\0') {
                snprintf(err, errlen, "empty secret");
                return -EINVAL;
        }
        t->secret = strdup(v);
        if (!t->secret || (t->auth == AUTH_SESSION && !t->user)) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

int tenant_add(const char *spec, char *err, size_t errlen)
{
        const char *colon = strchr(spec, ':');
        size_t idlen = colon ? (size_t)(colon - spec) : 0;
        if (idlen == 0 || idlen >= TENANT_ID_MAX || memchr(spec, '/', idlen)) {
                snprintf(err, errlen, "expected ID:AUTH with a non-empty ID of at most %d chars, no '/'",
                         TENANT_ID_MAX - 1);
                return -EINVAL;
        }
        struct tenant t = {0};
        memcpy(t.id, spec, idlen);
        if (tenant_find(t.id)) {
                snprintf(err, errlen, "tenant %s given twice", t.id);
                return -EINVAL;
        }
        int rc = tenant_parse_auth(&t, colon + 1, err, errlen);
        if (rc < 0)
                return rc;
        struct tenant *n = realloc(M.tenants, (M.ntenants + 1) * sizeof *n);
        if (!n) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        M.tenants = n;
        M.tenants[M.ntenants++] = t;
        return 0;
}

bool tenant_auth_ok(struct tenant *t, const char *h)
{
        if (!h)
                return false;
        switch (t->auth) {
        case AUTH_KEY:
                return strncmp(h, "rest_api_key=", 13) == 0 && strcmp(h + 13, t->secret) == 0;
        case AUTH_BEARER:
                return strncasecmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, t->secret) == 0;
        case AUTH_SESSION:
                break;
        }
        bool ok = false;
        pthread_mutex_lock(&M.lock);
        for (unsigned i = 0; i < t->nsessions && !ok; i++)
                ok = strcmp(t->sessions[i], h) == 0;
        pthread_mutex_unlock(&M.lock);
        return ok;
}

int session_login(const char *tenant, const char *user, const char *password,
                  char key[SESSION_KEY_LEN + 1])
{
        struct tenant *t = tenant_find(tenant);
        if (!t || t->auth != AUTH_SESSION || strcmp(t->user, user) != 0 ||
            strcmp(t->secret, password) != 0)
                return -EACCES;
        random_hex(key, SESSION_KEY_LEN);
        pthread_mutex_lock(&M.lock);
        memcpy(t->sessions[t->next_session], key, SESSION_KEY_LEN + 1);
        t->next_session = (t->next_session + 1) % MAX_SESSIONS;
        if (t->nsessions < MAX_SESSIONS)
                t->nsessions++;
        pthread_mutex_unlock(&M.lock);
        return 0;
}

void sessions_expire(struct tenant *t)
{
        pthread_mutex_lock(&M.lock);
        t->nsessions = 0;
        t->next_session = 0;
        memset(t->sessions, 0, sizeof t->sessions);
        pthread_mutex_unlock(&M.lock);
}

/* ---- exports ---------------------------------------------------------- */

static struct export_op *export_find(struct tenant *t, const char *id)
{
        for (size_t i = 0; i < nexports; i++)
                if (exports[i]->tenant == t && strcmp(exports[i]->id, id) == 0)
                        return exports[i];
        return NULL;
}

int export_create(struct tenant *t, const char *package, char id[EXPORT_ID_LEN + 1],
                  char file_id[UUID_LEN + 1])
{
        struct export_op *e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        random_hex(e->id, EXPORT_ID_LEN);
        random_uuid(e->file_id);
        e->tenant = t;
        snprintf(e->package, sizeof e->package, "%s", package);
        e->seed = fnv1a64(e->id);
        e->start_ms = now_ms();
        pthread_mutex_lock(&M.lock);
        struct export_op **arr = mock_grow(exports, &cap_exports, nexports, sizeof *exports);
        if (arr) {
                exports = arr;
                exports[nexports++] = e;
        }
        pthread_mutex_unlock(&M.lock);
        if (!arr) {
                free(e);
                return -ENOMEM;
        }
        memcpy(id, e->id, EXPORT_ID_LEN + 1);
        if (file_id)
                memcpy(file_id, e->file_id, UUID_LEN + 1);
        return 0;
}

bool export_would_complete(struct tenant *t, const char *id)
{
        pthread_mutex_lock(&M.lock);
        struct export_op *e = export_find(t, id);
        bool r = e && e->outcome == OUT_RUNNING && e->polls_seen + 1 > M.polls;
        pthread_mutex_unlock(&M.lock);
        return r;
}

/* The status word of an operation after its poll; settles its outcome at
 * the poll that completes it, letting an outcome fault decide how. */
static const char *poll_outcome(int *polls_seen, enum outcome *outcome, const struct fault *f)
{
        if (f->kind == FK_UNKNOWN_STATUS)
                return "REINDEXING";
        ++*polls_seen;
        if (*outcome == OUT_RUNNING && *polls_seen > M.polls) {
                switch (f->kind) {
                case FK_FAILED: *outcome = OUT_FAILED; break;
                case FK_NOFILEID: *outcome = OUT_NOFILEID; break;
                case FK_ERRORS: *outcome = OUT_ERRORS; break;
                case FK_WARNINGS: *outcome = OUT_WARNINGS; break;
                default: *outcome = OUT_OK; break;
                }
        }
        switch (*outcome) {
        case OUT_RUNNING: return "IN_PROGRESS";
        case OUT_FAILED: return "FAILED";
        default: return "COMPLETED";
        }
}

static void export_snapshot(const struct export_op *e, struct export_view *v)
{
        memcpy(v->id, e->id, sizeof v->id);
        snprintf(v->tenant, sizeof v->tenant, "%s", e->tenant->id);
        memcpy(v->package, e->package, sizeof v->package);
        memcpy(v->file_id, e->file_id, sizeof v->file_id);
        v->seed = e->seed;
        v->start_ms = e->start_ms;
        v->outcome = e->outcome;
}

int export_poll(struct tenant *t, const char *id, const struct fault *f, struct export_view *out)
{
        pthread_mutex_lock(&M.lock);
        struct export_op *e = export_find(t, id);
        if (e) {
                out->status = poll_outcome(&e->polls_seen, &e->outcome, f);
                export_snapshot(e, out);
        }
        pthread_mutex_unlock(&M.lock);
        return e ? 0 : -ENOENT;
}

int export_by_file(struct tenant *t, const char *file_id, struct export_view *out)
{
        int rc = -ENOENT;
        pthread_mutex_lock(&M.lock);
        for (size_t i = 0; i < nexports && rc < 0; i++) {
                if (exports[i]->tenant == t && strcmp(exports[i]->file_id, file_id) == 0) {
                        export_snapshot(exports[i], out);
                        out->status = "COMPLETED";
                        rc = 0;
                }
        }
        pthread_mutex_unlock(&M.lock);
        return rc;
}

/* ---- uploads and imports ---------------------------------------------- */

void upload_register(struct tenant *t, char file_id[UUID_LEN + 1])
{
        random_uuid(file_id);
        pthread_mutex_lock(&M.lock);
        struct upload *arr = mock_grow(uploads, &cap_uploads, nuploads, sizeof *uploads);
        if (arr) {
                uploads = arr;
                uploads[nuploads].tenant = t;
                memcpy(uploads[nuploads].file_id, file_id, UUID_LEN + 1);
                nuploads++;
        } else {
                /* The id is still answered; a later import of it gets 404,
                 * which is what a lost file looks like. */
                fprintf(stderr, "mock-dev2prod: out of memory remembering an upload\n");
        }
        pthread_mutex_unlock(&M.lock);
}

static bool upload_known(struct tenant *t, const char *file_id)
{
        for (size_t i = 0; i < nuploads; i++)
                if (uploads[i].tenant == t && strcmp(uploads[i].file_id, file_id) == 0)
                        return true;
        return false;
}

static struct import_op *import_find(struct tenant *t, const char *id)
{
        for (size_t i = 0; i < nimports; i++)
                if (imports[i]->tenant == t && strcmp(imports[i]->id, id) == 0)
                        return imports[i];
        return NULL;
}

int import_create(struct tenant *t, const char *file_id, bool dry_run, char id[EXPORT_ID_LEN + 1])
{
        struct import_op *op = calloc(1, sizeof *op);
        if (!op)
                return -ENOMEM;
        random_hex(op->id, EXPORT_ID_LEN);
        random_hex(op->manager_id, EXPORT_ID_LEN);
        snprintf(op->file_id, sizeof op->file_id, "%s", file_id);
        op->tenant = t;
        op->dry_run = dry_run;
        op->start_ms = now_ms();
        int rc = 0;
        pthread_mutex_lock(&M.lock);
        struct import_op **arr = NULL;
        if (!upload_known(t, file_id))
                rc = -ENOENT;
        else if (!(arr = mock_grow(imports, &cap_imports, nimports, sizeof *imports)))
                rc = -ENOMEM;
        else
                (imports = arr)[nimports++] = op;
        pthread_mutex_unlock(&M.lock);
        if (rc < 0) {
                free(op);
                return rc;
        }
        memcpy(id, op->id, EXPORT_ID_LEN + 1);
        return 0;
}

int import_kind(struct tenant *t, const char *id, bool *dry_run)
{
        pthread_mutex_lock(&M.lock);
        struct import_op *op = import_find(t, id);
        if (op)
                *dry_run = op->dry_run;
        pthread_mutex_unlock(&M.lock);
        return op ? 0 : -ENOENT;
}

bool import_would_complete(struct tenant *t, const char *id)
{
        pthread_mutex_lock(&M.lock);
        struct import_op *op = import_find(t, id);
        bool r = op && op->outcome == OUT_RUNNING && op->polls_seen + 1 > M.polls;
        pthread_mutex_unlock(&M.lock);
        return r;
}

int import_poll(struct tenant *t, const char *id, const struct fault *f, struct import_view *out)
{
        pthread_mutex_lock(&M.lock);
        struct import_op *op = import_find(t, id);
        if (op) {
                out->status = poll_outcome(&op->polls_seen, &op->outcome, f);
                memcpy(out->id, op->id, sizeof out->id);
                memcpy(out->file_id, op->file_id, sizeof out->file_id);
                memcpy(out->manager_id, op->manager_id, sizeof out->manager_id);
                out->dry_run = op->dry_run;
                out->seed = fnv1a64(op->id);
                out->start_ms = op->start_ms;
                out->outcome = op->outcome;
        }
        pthread_mutex_unlock(&M.lock);
        return op ? 0 : -ENOENT;
}

/* ---- the record file -------------------------------------------------- */

const char *rec_safe(char *out, size_t n, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t o = 0;
        for (; *s && o + 4 <= n; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch <= 0x20 || ch >= 0x7f || ch == '%') {
                        out[o++] = '%';
                        out[o++] = hex[ch >> 4];
                        out[o++] = hex[ch & 15];
                } else {
                        out[o++] = (char)ch;
                }
        }
        if (o == 0 && n > 1)
                out[o++] = '-';         /* an empty value would read as a missing one */
        out[o] = '\0';
        return out;
}

void record(const char *fmt, ...)
{
        char line[4096];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof line - 2)
                n = (int)(sizeof line - 2);
        line[n++] = '\n';
        /* One write(2) per line on an O_APPEND fd: readers never see half a
         * line and nothing waits in a buffer when a test reads the file. */
        pthread_mutex_lock(&record_lock);
        ssize_t w = write(M.record_fd, line, (size_t)n);
        pthread_mutex_unlock(&record_lock);
        if (w != n)
                fprintf(stderr, "mock-dev2prod: writing the record: %s\n", w < 0 ? strerror(errno) : "short write");
}

/* ---- sleeping that notices a gone client or a shutdown ---------------- */

int wait_or_gone(int fd, long ms)
{
        int64_t deadline = now_ms() + ms;
        for (;;) {
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return 0;
                /* POLLRDHUP: the client closed; we never ask for POLLIN, so
                 * bytes it sent ahead cannot make this spin. */
                struct pollfd p[2] = {
                        {.fd = M.stop_pipe[0], .events = POLLIN},
                        {.fd = fd, .events = POLLRDHUP},
                };
                int n = poll(p, fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
                if (n < 0 && errno != EINTR)
                        return -1;
                if (n <= 0)
                        continue;
                if (p[0].revents)
                        return -1;
                if (fd >= 0 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
                        return -1;
        }
}
