/* metrics.c — see metrics.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "jobdata.h"
#include "log.h"
#include "metrics.h"

/* At most one write of the file (and of the summary) per this interval.
 * The file is rendered whole: with 10,000 promotions that is 2.8 MB and
 * 100-150 ms on the 2-core VM of BENCHMARKS.md, so a burst of job ends
 * written one by one would hold the loop for seconds; a scrape comes every
 * 15 s or more anyway. */
#define WRITE_INTERVAL_USEC USEC_PER_SEC

#define SUMMARY_NAME "metrics-summary"
#define SUMMARY_HEADER "# dev2prodd metrics summary 1: promotion first_seen last_success last_failure " \
                       "last_duration (microseconds, - for none)\n"
#define SUMMARY_MAX (64u * 1024u * 1024u)

struct ended {
        char *result;           /* "succeeded", "cancelled" or a failure code */
        uint64_t n;
};

struct promo {
        char *name;
        /* kept in the summary; 0 = none (UINT64_MAX for the duration) */
        uint64_t first_seen_usec, last_success_usec, last_failure_usec, last_duration_usec;
        /* counters of this daemon */
        uint64_t moved_bytes;
        struct ended *ended;
        size_t n_ended;
        bool moved;             /* metrics_configure() took it over: not freed here */
};

/* What was logged last for a kind of write: each distinct error once,
 * and once that it works again. */
struct once {
        int err;
        const char *step;
};

struct metrics {
        char *summary_path;
        char *version;
        uint64_t start_usec;
        char *file;             /* metrics_file, or NULL */
        struct promo *promos;   /* sorted by name (bsearch: 10,000 promotions) */
        size_t n_promos;
        struct metrics_gauges now;      /* as last asked (gauges()) */
        metrics_gauges_fn gauges;
        void *gauges_userdata;
        /* Writes are coalesced: at most one a second, from a timer of the
         * loop (see metrics_update()); without a loop, at once. */
        sd_event_source *timer;
        uint64_t last_write_usec;       /* CLOCK_MONOTONIC */
        bool file_dirty;                /* the file is behind the numbers */
        bool summary_dirty;             /* the summary is behind the kept times */
        struct once file_log, summary_log;
};

static void flush(struct metrics *m);
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* The results the shipped alert rules watch start at 0 for every
 * promotion: increase() cannot see a counter's first value, so a series
 * that first appears at 1 would never fire.  The other results appear at
 * their first ending (a series each for 20 codes times 10,000 promotions
 * would be a file of megabytes). */
static const char *const watched_results[] = { "succeeded", "import-outcome-unknown" };

static void promo_done(struct promo *p) {
        if (p->moved)
                return;
        free(p->name);
        for (size_t i = 0; i < p->n_ended; i++)
                free(p->ended[i].result);
        free(p->ended);
}

static int promo_cmp(const void *a, const void *b) {
        return strcmp(((const struct promo *) a)->name, ((const struct promo *) b)->name);
}

static struct promo *find(const struct promo *v, size_t n, const char *name) {
        struct promo key = { .name = (char *) name };
        return n ? bsearch(&key, v, n, sizeof *v, promo_cmp) : NULL;
}

static struct ended *ended_of(struct promo *p, const char *result) {
        for (size_t i = 0; i < p->n_ended; i++)
                if (streq(p->ended[i].result, result))
                        return &p->ended[i];
        p->ended = xrealloc(p->ended, (p->n_ended + 1) * sizeof *p->ended);
        p->ended[p->n_ended] = (struct ended) { xstrdup(result), 0 };
        return &p->ended[p->n_ended++];
}

static void log_once(struct once *o, int err, const char *step, const char *path) {
        if (err == 0) {
                if (o->err)
                        log_full(LOG_NOTICE, 0, NULL, MSGID_METRICS_WRITE, "%s written again", path);
                *o = (struct once) {};
                return;
        }
        if (o->err == err && streq_ptr(o->step, step))
                return;
        *o = (struct once) { err, step };
        log_full(LOG_WARNING, err, NULL, MSGID_METRICS_WRITE, "cannot %s %s; jobs run on, the file is written again "
                 "at the next change (fix the folder's permissions or free space; under systemd see "
                 "ReadWritePaths= in dev2prodd.yaml(5), metrics_file)", step, path);
}

/* ---- the summary ---------------------------------------------------------- */

static void put_usec(FILE *f, uint64_t u, uint64_t none) {
        if (u == none)
                fputs(" -", f);
        else
                fprintf(f, " %" PRIu64, u);
}

static int parse_field(const char *s, uint64_t none, uint64_t *ret) {
        unsigned long long v;
        if (streq(s, "-")) {
                *ret = none;
                return 0;
        }
        if (parse_uint(s, UINT64_MAX - 1, &v) < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* One line: "name first_seen last_success last_failure last_duration". */
static int parse_summary_line(char *line, struct promo *ret) {
        char *save = NULL, *f[6];
        size_t n = 0;
        for (char *t = strtok_r(line, " ", &save); t && n < ELEMENTSOF(f); t = strtok_r(NULL, " ", &save))
                f[n++] = t;
        if (n != 5 || parse_field(f[1], 0, &ret->first_seen_usec) < 0 ||
            parse_field(f[2], 0, &ret->last_success_usec) < 0 || parse_field(f[3], 0, &ret->last_failure_usec) < 0 ||
            parse_field(f[4], UINT64_MAX, &ret->last_duration_usec) < 0)
                return -EINVAL;
        ret->name = xstrdup(f[0]);
        return 0;
}

static void load_summary(struct metrics *m) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        size_t len;
        unsigned bad = 0;
        int r = read_file_small(m->summary_path, SUMMARY_MAX, &text, &len);

        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_warning_errno(r, "cannot read %s; the last success and failure times of the promotions are "
                                  "unknown until their next jobs end", m->summary_path);
                return;
        }
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct promo p = {};
                if (line[0] == '#')
                        continue;
                if (parse_summary_line(line, &p) < 0) {
                        bad++;
                        continue;
                }
                m->promos = xrealloc(m->promos, (m->n_promos + 1) * sizeof *m->promos);
                m->promos[m->n_promos++] = p;
        }
        if (bad)
                log_warning("%s: %u line(s) cannot be read and are left out (their promotions' last times are "
                            "unknown until their next jobs end)", m->summary_path, bad);
        qsort(m->promos, m->n_promos, sizeof *m->promos, promo_cmp);
        /* a name twice (an edited file): metrics_configure() keeps the
         * one bsearch finds and drops the other */
}

/* Written like the job files (write_file_atomic: fsync, rename): it is the
 * only copy of what it keeps, written once per job ending. */
static void save_summary(struct metrics *m) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r;

        if (!f)
                abort();        /* allocation failure, as xmalloc */
        fputs(SUMMARY_HEADER, f);
        for (size_t i = 0; i < m->n_promos; i++) {
                const struct promo *p = &m->promos[i];
                fputs(p->name, f);
                put_usec(f, p->first_seen_usec, 0);
                put_usec(f, p->last_success_usec, 0);
                put_usec(f, p->last_failure_usec, 0);
                put_usec(f, p->last_duration_usec, UINT64_MAX);
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                abort();
        r = write_file_atomic(m->summary_path, text, len);
        log_once(&m->summary_log, r < 0 ? r : 0, "write", m->summary_path);
}

/* ---- life ------------------------------------------------------------------ */

struct metrics *metrics_new(sd_event *event, const char *state_directory, const char *version, uint64_t start_usec,
                            metrics_gauges_fn gauges, void *userdata) {
        struct metrics *m = xcalloc(1, sizeof *m);
        m->gauges = gauges;
        m->gauges_userdata = userdata;
        if (event && sd_event_add_time(event, &m->timer, CLOCK_MONOTONIC, 0, 50 * USEC_PER_MSEC, on_timer, m) >= 0)
                sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        else
                m->timer = NULL;        /* written at once, then */
        m->summary_path = xasprintf("%s/%s", state_directory, SUMMARY_NAME);
        m->version = xstrdup(version);
        m->start_usec = start_usec;
        load_summary(m);
        return m;
}

void metrics_free(struct metrics *m) {
        if (!m)
                return;
        /* what is behind, e.g. the last job's end at a stop; after a stop
         * nothing runs (the jobs are suspended, they resume at the next
         * start), and the caller's gauges may be gone already */
        m->gauges = NULL;
        if (m->now.running || m->now.queued || m->now.awaiting_approval)
                m->file_dirty = true;
        m->now = (struct metrics_gauges) {};
        flush(m);
        sd_event_source_disable_unref(m->timer);
        for (size_t i = 0; i < m->n_promos; i++)
                promo_done(&m->promos[i]);
        free(m->promos);
        free(m->summary_path);
        free(m->version);
        free(m->file);
        free(m);
}

/* A write interrupted by a crash leaves its temp file (".#NAME.XXXXXX",
 * see write_metrics()): node_exporter ignores it (not *.prom), but it
 * would stay forever. */
static void remove_stale_temps(const char *file) {
        _cleanup_free_ char *dir = xstrndup(file, (size_t) (strrchr(file, '/') - file));
        _cleanup_free_ char *prefix = xasprintf(".#%s.", strrchr(file, '/') + 1);
        DIR *d = opendir(*dir ? dir : "/");
        struct dirent *de;

        if (!d)
                return;         /* write_metrics() says why */
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
                    strlen(de->d_name) == strlen(prefix) + 6)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

void metrics_configure(struct metrics *m, const struct config *c, uint64_t now_usec) {
        struct promo *v = xcalloc(c->n_promotions, sizeof *v);
        bool changed = false;
        size_t kept = 0;

        for (size_t i = 0; i < c->n_promotions; i++) {
                struct promo *old = find(m->promos, m->n_promos, c->promotions[i].name);
                if (old) {
                        v[i] = *old;
                        old->moved = true;      /* its name stays: the search goes on in this array */
                        kept++;
                } else {
                        v[i] = (struct promo) { .name = xstrdup(c->promotions[i].name),
                                                .first_seen_usec = now_usec,
                                                .last_duration_usec = UINT64_MAX };
                        changed = true;
                }
                for (size_t k = 0; k < ELEMENTSOF(watched_results); k++)
                        (void) ended_of(&v[i], watched_results[k]);
        }
        if (kept != m->n_promos)
                changed = true;         /* some dropped out */
        for (size_t i = 0; i < m->n_promos; i++)
                promo_done(&m->promos[i]);
        free(m->promos);
        m->promos = v;
        m->n_promos = c->n_promotions;
        qsort(m->promos, m->n_promos, sizeof *m->promos, promo_cmp);

        if (!streq_ptr(m->file, c->metrics_file)) {
                /* The file a reload moves away from (or drops) would be
                 * exported as it is for ever: last success times frozen,
                 * gauges stuck, alerts silenced.  It was ours (only a
                 * reload changes an m->file already set), so it goes. */
                int k = m->file && unlink(m->file) < 0 ? -errno : 0;
                if (k < 0 && k != -ENOENT)
                        log_warning("metrics_file moved to %s: cannot remove the old %s (%s); remove it by "
                                    "hand, or node_exporter serves its stale values", c->metrics_file ?: "(none)",
                                    m->file, strerror(-k));
                else if (m->file)
                        log_info("metrics_file moved to %s: removed the old %s", c->metrics_file ?: "(none)",
                                 m->file);
                free(m->file);
                m->file = xstrdup(c->metrics_file);
                m->file_log = (struct once) {};
                if (m->file)
                        remove_stale_temps(m->file);
        }
        /* no metrics_file: nothing reads the summary either; it is kept
         * as it is for the day metrics_file is set again (flush()) */
        m->summary_dirty |= changed;
        m->file_dirty = true;
}

/* ---- the text format ---------------------------------------------------- */

/* A label value: backslash, double quote and line feed escaped (the
 * text format's rules); promotion names cannot hold them, failure codes
 * read from an edited job file could. */
static void put_label(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f), fputc(*s, f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

static void family(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Microseconds as seconds with millisecond precision, without a float's rounding. */
static void put_seconds(FILE *f, uint64_t usec) {
        fprintf(f, " %" PRIu64 ".%03u\n", (uint64_t) (usec / USEC_PER_SEC), (unsigned) (usec % USEC_PER_SEC / 1000));
}

/* The series per promotion: one each for which value() gives one. */
typedef bool (*value_fn)(const struct promo *p, uint64_t *ret);

static bool v_first_seen(const struct promo *p, uint64_t *r) { return (*r = p->first_seen_usec) != 0; }
static bool v_success(const struct promo *p, uint64_t *r) { return (*r = p->last_success_usec) != 0; }
static bool v_failure(const struct promo *p, uint64_t *r) { return (*r = p->last_failure_usec) != 0; }
static bool v_duration(const struct promo *p, uint64_t *r) { return (*r = p->last_duration_usec) != UINT64_MAX; }
static bool v_moved(const struct promo *p, uint64_t *r) { *r = p->moved_bytes; return true; }

static const struct per_promotion {
        const char *name, *type, *help;
        value_fn value;
        bool seconds;           /* the value is microseconds, written as seconds */
} per_promotion[] = {
        { "dev2prodd_promotion_first_seen_timestamp_seconds", "gauge",
          "When the promotion was first configured with metrics_file set, in seconds since the epoch.",
          v_first_seen, true },
        { "dev2prodd_last_success_timestamp_seconds", "gauge",
          "When the promotion's last succeeded job ended, in seconds since the epoch.", v_success, true },
        { "dev2prodd_last_failure_timestamp_seconds", "gauge",
          "When the promotion's last failed or cancelled job ended, in seconds since the epoch.", v_failure, true },
        { "dev2prodd_last_duration_seconds", "gauge",
          "How long the promotion's last ended job ran, from its first step to its end.", v_duration, true },
        { "dev2prodd_moved_bytes_total", "counter",
          "Package bytes downloaded from the source and uploaded to the target since the daemon started.",
          v_moved, false },
};

static void put_per_promotion(FILE *f, const struct metrics *m, const struct per_promotion *s) {
        family(f, s->name, s->type, s->help);
        for (size_t i = 0; i < m->n_promos; i++) {
                uint64_t u;
                if (!s->value(&m->promos[i], &u))
                        continue;
                fprintf(f, "%s{promotion=\"", s->name);
                put_label(f, m->promos[i].name);
                fputs("\"}", f);
                if (s->seconds)
                        put_seconds(f, u);
                else
                        fprintf(f, " %" PRIu64 "\n", u);
        }
}

char *metrics_render(const struct metrics *m) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                abort();
        family(f, "dev2prodd_build_info", "gauge", "The running dev2prodd's version (always 1).");
        fputs("dev2prodd_build_info{version=\"", f);
        put_label(f, m->version);
        fputs("\"} 1\n", f);
        family(f, "dev2prodd_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.");
        fputs("dev2prodd_start_time_seconds", f);
        put_seconds(f, m->start_usec);
        family(f, "dev2prodd_jobs_running", "gauge", "Jobs running a step now.");
        fprintf(f, "dev2prodd_jobs_running %u\n", m->now.running);
        family(f, "dev2prodd_jobs_queued", "gauge",
               "Jobs waiting for a free slot (max_parallel) or for their target tenant.");
        fprintf(f, "dev2prodd_jobs_queued %u\n", m->now.queued);
        family(f, "dev2prodd_jobs_awaiting_approval", "gauge",
               "Jobs whose dry run passed, waiting for dev2prodctl approve (approval: required).");
        fprintf(f, "dev2prodd_jobs_awaiting_approval %u\n", m->now.awaiting_approval);

        for (size_t i = 0; i < ELEMENTSOF(per_promotion); i++)
                put_per_promotion(f, m, &per_promotion[i]);
        family(f, "dev2prodd_jobs_ended_total", "counter",
               "Jobs ended since the daemon started, by result (succeeded, cancelled or the failure code).");
        for (size_t i = 0; i < m->n_promos; i++)
                for (size_t k = 0; k < m->promos[i].n_ended; k++) {
                        fputs("dev2prodd_jobs_ended_total{promotion=\"", f);
                        put_label(f, m->promos[i].name);
                        fputs("\",result=\"", f);
                        put_label(f, m->promos[i].ended[k].result);
                        fprintf(f, "\"} %" PRIu64 "\n", m->promos[i].ended[k].n);
                }
        if (fclose(f) != 0)
                abort();
        return text;
}

/* Temp file in the file's folder, then rename(): node_exporter reads
 * either the old file or the new one, never half of one, and the temp
 * name does not end in .prom, so the collector never reads it.  Mode
 * 0644: node_exporter runs as another user (prometheus), and the file
 * holds no secret (promotion names, times, counts).  No fsync: the file
 * is a view, not a record: the daemon writes it whole at every start and
 * change, so what a power loss could cost (an old or empty file until the
 * next start) is not worth a disk flush per job transition in the loop. */
static int write_metrics(const char *path, const char *text, const char **ret_step) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *slash = strrchr(path, '/');
        int r;

        tmp = xasprintf("%.*s/.#%s.XXXXXX", (int) (slash - path), path, slash + 1);
        *ret_step = "create a temp file next to";
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_step = "write";
        if (fchmod(fd, 0644) < 0)
                r = -errno;
        else
                r = write_all(fd, text, strlen(text));
        if (r >= 0) {
                r = close(fd);
                fd = -1;
                r = r < 0 ? -errno : 0;
        }
        if (r >= 0 && rename(tmp, path) < 0) {
                *ret_step = "rename a temp file to";
                r = -errno;
        }
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static const char *result_of(const struct job *j) {
        if (j->state == JOB_SUCCEEDED)
                return "succeeded";
        if (j->state == JOB_CANCELLED)
                return "cancelled";
        return j->failure ? j->failure : "failed";     /* (a failed job always has its code) */
}

/* The package crossed the network once per transfer step the job finished. */
static uint64_t moved_bytes(const struct job *j) {
        uint64_t n = 0;
        if (j->steps[JOB_DOWNLOAD].finished_usec)
                n += j->download_bytes;
        if (j->steps[JOB_UPLOAD].finished_usec)
                n += j->download_bytes;
        return n;
}

static void job_ended(struct metrics *m, const struct job *j) {
        struct promo *p = find(m->promos, m->n_promos, j->promotion);
        uint64_t end = j->finished_usec ? j->finished_usec : j->updated_usec;
        uint64_t start = j->steps[JOB_EXPORT].started_usec ? j->steps[JOB_EXPORT].started_usec : j->created_usec;

        if (!p)
                return;         /* removed from the configuration while it ran */
        ended_of(p, result_of(j))->n++;
        m->summary_dirty = true;
        p->moved_bytes += moved_bytes(j);
        /* never back: a job resolved later keeps its end time */
        if (j->state == JOB_SUCCEEDED)
                p->last_success_usec = MAX(p->last_success_usec, end);
        else
                p->last_failure_usec = MAX(p->last_failure_usec, end);
        p->last_duration_usec = end > start ? end - start : 0;
}

/* Writes what is behind: the summary first (it is the record), then the
 * file.  A file that could not be written stays behind and is tried again
 * at the next update. */
static void flush(struct metrics *m) {
        _cleanup_free_ char *text = NULL;
        const char *step = NULL;
        int r;

        if (!m->file)
                return;
        if (m->gauges) {
                struct metrics_gauges g = {};
                m->gauges(m->gauges_userdata, &g);
                if (memcmp(&g, &m->now, sizeof g) != 0) {
                        m->now = g;
                        m->file_dirty = true;
                }
        }
        if (m->summary_dirty) {
                save_summary(m);
                m->summary_dirty = false;       /* a failure is logged; the next ending tries again */
        }
        if (!m->file_dirty)
                return;
        text = metrics_render(m);
        r = write_metrics(m->file, text, &step);
        log_once(&m->file_log, r, step, m->file);
        m->file_dirty = r < 0;
        m->last_write_usec = now_monotonic_usec();
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        flush(userdata);
        return 0;
}

/* The first write after start comes from the loop too, so it never
 * delays READY=1 (which is sent before the loop runs). */
static void schedule_flush(struct metrics *m) {
        int enabled = SD_EVENT_OFF;

        if (!m->timer) {
                flush(m);
                return;
        }
        sd_event_source_get_enabled(m->timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        sd_event_source_set_time(m->timer, MAX(now_monotonic_usec(), m->last_write_usec + WRITE_INTERVAL_USEC));
        sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

/* The gauges are asked for when the write comes, from the loop: by then
 * the transition that called this is complete (a job that entered a
 * dry run and found its target tenant taken is queued, not running). */
void metrics_update(struct metrics *m, const struct job *ended) {
        if (!m->file)
                return;
        if (ended && job_state_is_final(ended->state)) {
                job_ended(m, ended);
                m->file_dirty = true;
        }
        schedule_flush(m);
}
