/* ctl.c — dev2prodctl, the operator's tool.  See man/dev2prodctl.1.
 *
 * Read commands (list, jobs, history, show) read the job files in
 * {state_directory}/jobs directly, so they work while the daemon is down;
 * an unreadable job file is reported on stderr and skipped (a permission
 * error instead stops the command with one line: permission_denied()).  run and cancel
 * ask the daemon through its control socket (control.h); logs hands over to
 * journalctl.
 *
 * Exit status: 0 ok, 1 what was asked about failed or does not exist,
 * 2 usage or configuration error, 3 the daemon cannot be reached. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctlclient.h"
#include "http.h"               /* DEV2PROD_VERSION */
#include "jobdata.h"
#include "json.h"
#include "log.h"
#include "cron.h"
#include "store.h"

#define DEFAULT_CONTROL_SOCKET "/run/dev2prodd/control.sock"
#define WAIT_TICK_USEC (200 * USEC_PER_MSEC)
#define WAIT_PING_TICKS 25      /* ask the daemon whether it is still there every 5 s */

enum {
        CTL_OK = 0,
        CTL_FAILED = 1,         /* the job failed, the thing asked about does not exist */
        CTL_USAGE = 2,          /* bad command line or configuration */
        CTL_NO_DAEMON = 3,      /* the control socket does not answer */
};

static const char *arg_config = CONFIG_DEFAULT_PATH;
static bool arg_json;
static bool arg_wait;
static bool arg_follow;
static const char *arg_reason;
static int arg_imported = -1;   /* resolve: 1 --imported, 0 --not-imported */

/* ---- small helpers -------------------------------------------------------- */

/* Job files hold the server's words (messages, error lists): no control
 * character of theirs reaches the terminal, where an escape sequence could
 * rewrite what the operator sees.  In place; returns s. */
static char *sanitize(char *s) {
        for (char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = *p == '\t' ? ' ' : '?';
        return s;
}

/* One line to f, formatted, sanitized, with its newline. */
static void vlinef(FILE *f, const char *prefix, const char *fmt, va_list ap) _printf_(3, 0);
static void vlinef(FILE *f, const char *prefix, const char *fmt, va_list ap) {
        _cleanup_free_ char *s = xvasprintf(fmt, ap);
        fputs(prefix, f);
        fputs(sanitize(s), f);
        fputc('\n', f);
}

static void linef(const char *fmt, ...) _printf_(1, 2);
static void linef(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlinef(stdout, "", fmt, ap);
        va_end(ap);
}

static void errorf(const char *fmt, ...) _printf_(1, 2);
static void errorf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlinef(stderr, "dev2prodctl: ", fmt, ap);
        va_end(ap);
}

/* A permission error (EACCES/EPERM) on path: the state folder, a job file,
 * the control socket or the configuration.  Says the one thing to do, with
 * the group that owns path or its nearest visible parent folder: the
 * service's group (dev2prodd, systemd/dev2prodd.sysusers), which may read
 * the state folder and write to the socket. */
static void permission_denied(const char *path) {
        _cleanup_free_ char *p = xstrdup(path);
        const char *group = "dev2prodd";
        struct stat st;

        for (;;) {
                char *slash;
                if (stat(p, &st) == 0) {
                        struct group *gr = st.st_gid != 0 ? getgrgid(st.st_gid) : NULL;
                        if (gr && gr->gr_name && gr->gr_name[0])
                                group = gr->gr_name;
                        break;
                }
                slash = strrchr(p, '/');
                if (!slash || slash == p)
                        break;
                *slash = 0;
        }
        errorf("permission denied: add yourself to group %s (cannot open %s)", group, path);
}

static bool is_denied(int r) {
        return r == -EACCES || r == -EPERM;
}

/* Local time of a job-file timestamp: "2026-11-28 03:30:00 CET", "-" for 0. */
static const char *fmt_time(char *buf, size_t n, uint64_t usec, bool seconds) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;
        if (!usec || !localtime_r(&t, &tm) ||
            strftime(buf, n, seconds ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M %Z", &tm) == 0)
                snprintf(buf, n, "-");
        return buf;
}

/* ---- tables ---------------------------------------------------------------- */

struct table {
        size_t ncols, nrows;
        char **cells;           /* header row first */
};

static struct table *table_new(size_t ncols, const char *const *headers) {
        struct table *t = xcalloc(1, sizeof *t);
        t->ncols = ncols;
        t->cells = xcalloc(ncols, sizeof *t->cells);
        for (size_t i = 0; i < ncols; i++)
                t->cells[i] = xstrdup(headers[i]);
        return t;
}

/* Adds a row of t->ncols strings (NULL shows as "-"). */
static void table_add(struct table *t, const char *const *row) {
        size_t base = (t->nrows + 1) * t->ncols;
        t->cells = xrealloc(t->cells, (base + t->ncols) * sizeof *t->cells);
        for (size_t i = 0; i < t->ncols; i++)
                t->cells[base + i] = sanitize(xstrdup(row[i] && row[i][0] ? row[i] : "-"));
        t->nrows++;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        w++;
        return w;
}

static void table_print(const struct table *t, FILE *f, const char *indent) {
        size_t *w = xcalloc(t->ncols, sizeof *w);
        for (size_t r = 0; r <= t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++)
                        w[c] = MAX(w[c], text_width(t->cells[r * t->ncols + c]));
        for (size_t r = 0; r <= t->nrows; r++) {
                fputs(indent, f);
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *s = t->cells[r * t->ncols + c];
                        fputs(s, f);
                        if (c + 1 < t->ncols)
                                fprintf(f, "%*s", (int) (w[c] - text_width(s) + 2), "");
                }
                fputc('\n', f);
        }
        free(w);
}

static void table_free(struct table *t) {
        if (!t)
                return;
        for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}

/* ---- JSON output --------------------------------------------------------- */

static yajl_gen jgen_new(void) {
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                abort();
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        return g;
}

static int jgen_finish(yajl_gen g, int r) {
        const unsigned char *buf;
        size_t len;
        if (r >= 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
                fwrite(buf, 1, len, stdout);
                if (len && buf[len - 1] != '\n')
                        fputc('\n', stdout);
        } else {
                errorf("cannot write the JSON output (a string that is not UTF-8?)");
                r = -EINVAL;
        }
        yajl_gen_free(g);
        return r < 0 ? CTL_FAILED : CTL_OK;
}

static int j_ok(yajl_gen_status s) { return s == yajl_gen_status_ok ? 0 : -EINVAL; }
/* In the JSON writers: r holds the first error, then jump to out. */
#define TRY_OUT(x) do { if ((r = (x)) < 0) goto out; } while (0)

static int json_kv_usec(yajl_gen g, const char *k, uint64_t usec) {
        return usec ? json_kv_uint(g, k, usec) : 0;     /* absent when not reached */
}

static int json_totals(yajl_gen g, const char *k, const struct import_status *s) {
        int r = 0;
        if (!s->status || !s->has_totals)
                return 0;
        TRY_OUT(json_str(g, k));
        TRY_OUT(j_ok(yajl_gen_map_open(g)));
        TRY_OUT(json_kv_int(g, "added", s->totals.added));
        TRY_OUT(json_kv_int(g, "modified", s->totals.modified));
        TRY_OUT(json_kv_int(g, "removed", s->totals.removed));
        TRY_OUT(json_kv_int(g, "failed", s->totals.failed));
        TRY_OUT(json_kv_int(g, "skipped", s->totals.skipped));
        TRY_OUT(j_ok(yajl_gen_map_close(g)));
out:
        return r;
}

/* ---- job files ------------------------------------------------------------ */

struct joblist {
        struct job **v;
        size_t n;
};

static void joblist_free(struct joblist *l) {
        for (size_t i = 0; i < l->n; i++)
                job_free(l->v[i]);
        free(l->v);
        *l = (struct joblist) {};
}

static char *jobs_dir_of(const struct config *c) {
        return xasprintf("%s/jobs", c->state_directory);
}

static int cmp_job_oldest_first(const void *a, const void *b) {
        const struct job *x = *(struct job *const *) a, *y = *(struct job *const *) b;
        if (x->created_usec != y->created_usec)
                return x->created_usec < y->created_usec ? -1 : 1;
        return strcmp(x->id, y->id);
}

/* Every readable job file, oldest first.  A file that cannot be read is
 * reported and skipped; a missing jobs folder is no job at all. */
static int load_jobs(const struct config *c, struct joblist *ret) {
        _cleanup_free_ char *dir = jobs_dir_of(c);
        char **ids = NULL;
        size_t n = 0;
        int r = store_list(dir, &ids, &n);

        *ret = (struct joblist) {};
        if (r == -ENOENT)
                return 0;
        if (is_denied(r)) {
                permission_denied(dir);
                return r;
        }
        if (r < 0) {
                errorf("cannot read the job folder %s: %s", dir, strerror(-r));
                return r;
        }
        ret->v = xcalloc(MAX(n, (size_t) 1), sizeof *ret->v);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = store_job_path(dir, ids[i]), *err = NULL;
                struct job *j = NULL;
                r = store_load(path, &j, &err);
                if (is_denied(r)) {     /* not a bad file: the same answer for every file */
                        permission_denied(path);
                        strv_free_n(ids, n);
                        joblist_free(ret);
                        return r;
                }
                if (r < 0) {
                        errorf("warning: %s: %s (skipped)", path, err ? err : "unreadable");
                        continue;
                }
                ret->v[ret->n++] = j;
        }
        strv_free_n(ids, n);
        if (ret->n > 1)
                qsort(ret->v, ret->n, sizeof *ret->v, cmp_job_oldest_first);
        return 0;
}

/* Loads one job by id.  Reports why not and returns the exit status when it
 * cannot (2: not a job id, 1: no such job or an unreadable file). */
static int load_one(const struct config *c, const char *id, struct job **ret) {
        _cleanup_free_ char *dir = jobs_dir_of(c), *path = NULL, *err = NULL;
        int r;

        if (!store_id_valid(id)) {
                errorf("'%s' is not a job id (letters, digits, '.', '_', '-'; see dev2prodctl history)", id);
                return CTL_USAGE;
        }
        path = store_job_path(dir, id);
        r = store_load(path, ret, &err);
        if (r == -ENOENT) {
                errorf("no job '%s' in %s (dev2prodctl history lists them)", id, dir);
                return CTL_FAILED;
        }
        if (is_denied(r)) {
                permission_denied(path);
                return CTL_FAILED;
        }
        if (r < 0) {
                errorf("%s: %s", path, err ? err : strerror(-r));
                return CTL_FAILED;
        }
        return CTL_OK;
}

static const char *control_socket_of(const struct config *c) {
        static char *fallback;
        const char *rt;
        if (c->control_socket && c->control_socket[0])
                return c->control_socket;
        if (!fallback) {
                rt = getenv("RUNTIME_DIRECTORY");
                fallback = rt && rt[0] == '/' ? xasprintf("%.*s/control.sock", (int) strcspn(rt, ":"), rt)
                                              : xstrdup(DEFAULT_CONTROL_SOCKET);
        }
        return fallback;
}

/* ---- list ------------------------------------------------------------------ */

static const struct job *newest_job_of(const struct joblist *l, const char *promotion) {
        for (size_t i = l->n; i > 0; i--)
                if (streq(l->v[i - 1]->promotion, promotion))
                        return l->v[i - 1];
        return NULL;
}

static int list_json(const struct config *c, const struct joblist *l, const time_t *next, const int *next_r) {
        yajl_gen g = jgen_new();
        int r = 0;

        TRY_OUT(j_ok(yajl_gen_array_open(g)));
        for (size_t i = 0; i < c->n_promotions; i++) {
                const struct promotion *p = &c->promotions[i];
                const struct job *j = newest_job_of(l, p->name);
                TRY_OUT(j_ok(yajl_gen_map_open(g)));
                TRY_OUT(json_kv_str(g, "promotion", p->name));
                TRY_OUT(json_kv_str(g, "package", p->package));
                TRY_OUT(json_kv_str(g, "from", p->from->name));
                TRY_OUT(json_kv_str(g, "to", p->to->name));
                TRY_OUT(json_kv_str(g, "schedule", p->schedule));
                TRY_OUT(json_kv_str(g, "after", p->after));
                TRY_OUT(json_kv_str(g, "timezone", p->timezone));
                TRY_OUT(json_kv_str(g, "mode", promo_mode_to_string(p->mode)));
                if (next_r[i] >= 0)
                        TRY_OUT(json_kv_uint(g, "next_usec", (uint64_t) next[i] * USEC_PER_SEC));
                if (j) {
                        TRY_OUT(json_str(g, "last_job"));
                        TRY_OUT(j_ok(yajl_gen_map_open(g)));
                        TRY_OUT(json_kv_str(g, "id", j->id));
                        TRY_OUT(json_kv_str(g, "state", job_state_to_string(j->state)));
                        TRY_OUT(json_kv_str(g, "failure", j->failure));
                        TRY_OUT(json_kv_usec(g, "created_usec", j->created_usec));
                        TRY_OUT(json_kv_usec(g, "finished_usec", j->finished_usec));
                        TRY_OUT(j_ok(yajl_gen_map_close(g)));
                }
                TRY_OUT(j_ok(yajl_gen_map_close(g)));
        }
        TRY_OUT(j_ok(yajl_gen_array_close(g)));
out:
        return jgen_finish(g, r);
}

static int cmd_list(const struct config *c, char **args, size_t n_args) {
        static const char *const hdr[] = { "NEXT", "LEFT", "LAST", "RESULT", "PROMOTION", "ROUTE" };
        struct joblist l;
        time_t now = time(NULL);
        time_t *next = xcalloc(MAX(c->n_promotions, (size_t) 1), sizeof *next);
        int *next_r = xcalloc(MAX(c->n_promotions, (size_t) 1), sizeof *next_r);
        struct table *t;
        int ret = CTL_OK;

        if (load_jobs(c, &l) < 0) {
                free(next);
                free(next_r);
                return CTL_FAILED;
        }
        for (size_t i = 0; i < c->n_promotions; i++)
                next_r[i] = !c->promotions[i].cron ? -ENOENT :  /* after: no due time of its own */
                            cron_next(c->promotions[i].cron, c->promotions[i].timezone, now, &next[i]);

        if (arg_json) {
                ret = list_json(c, &l, next, next_r);
                goto out;
        }
        if (c->n_promotions == 0) {
                printf("No promotions in %s.\n", c->path);
                goto out;
        }
        t = table_new(ELEMENTSOF(hdr), hdr);
        for (size_t i = 0; i < c->n_promotions; i++) {
                const struct promotion *p = &c->promotions[i];
                const struct job *j = newest_job_of(&l, p->name);
                char nbuf[80] = "-", lbuf[64] = "-", last[64] = "-";  /* "after " + a name */
                _cleanup_free_ char *result = j ? job_result_text(j) : NULL;
                _cleanup_free_ char *route = xasprintf("%s -> %s", p->from->name, p->to->name);

                if (p->after)
                        snprintf(nbuf, sizeof nbuf, "after %s", p->after);
                else if (next_r[i] >= 0) {
                        fmt_time(nbuf, sizeof nbuf, (uint64_t) next[i] * USEC_PER_SEC, false);
                        format_duration_style(lbuf, sizeof lbuf, (uint64_t) (next[i] - now) * USEC_PER_SEC, DURATION_SPAN);
                }
                if (j)
                        fmt_time(last, sizeof last, j->created_usec, true);
                table_add(t, (const char *const[]) { nbuf, lbuf, last, result, p->name, route });
        }
        table_print(t, stdout, "");
        table_free(t);
out:
        joblist_free(&l);
        free(next);
        free(next_r);
        return ret;
}

/* ---- jobs ------------------------------------------------------------------ */

static int jobs_json(const struct joblist *l) {
        yajl_gen g = jgen_new();
        int r = 0;
        TRY_OUT(j_ok(yajl_gen_array_open(g)));
        for (size_t i = 0; i < l->n; i++) {
                const struct job *j = l->v[i];
                if (job_state_is_final(j->state))
                        continue;
                TRY_OUT(j_ok(yajl_gen_map_open(g)));
                TRY_OUT(json_kv_str(g, "id", j->id));
                TRY_OUT(json_kv_str(g, "promotion", j->promotion));
                TRY_OUT(json_kv_str(g, "state", job_state_to_string(j->state)));
                TRY_OUT(json_kv_usec(g, "created_usec", j->created_usec));
                TRY_OUT(json_kv_usec(g, "updated_usec", j->updated_usec));
                TRY_OUT(j_ok(yajl_gen_map_close(g)));
        }
        TRY_OUT(j_ok(yajl_gen_array_close(g)));
out:
        return jgen_finish(g, r);
}

static int cmd_jobs(const struct config *c, char **args, size_t n_args) {
        static const char *const hdr[] = { "ID", "PROMOTION", "STATE", "STARTED", "UPDATED" };
        struct joblist l;
        struct table *t;
        int ret = CTL_OK;

        if (load_jobs(c, &l) < 0)
                return CTL_FAILED;
        if (arg_json) {
                ret = jobs_json(&l);
                goto out;
        }
        t = table_new(ELEMENTSOF(hdr), hdr);
        for (size_t i = 0; i < l.n; i++) {
                const struct job *j = l.v[i];
                char started[64], updated[64];
                if (job_state_is_final(j->state))
                        continue;
                table_add(t, (const char *const[]) { j->id, j->promotion, job_state_to_string(j->state),
                                                     fmt_time(started, sizeof started, j->created_usec, true),
                                                     fmt_time(updated, sizeof updated, j->updated_usec, true) });
        }
        if (t->nrows)
                table_print(t, stdout, "");
        else
                printf("No unfinished jobs.\n");
        table_free(t);
out:
        joblist_free(&l);
        return ret;
}

/* ---- history --------------------------------------------------------------- */

static uint64_t job_duration(const struct job *j) {
        return j->finished_usec > j->created_usec && j->created_usec ? j->finished_usec - j->created_usec : 0;
}

static char *history_totals(const struct job *j) {
        if (j->import.status && j->import.has_totals)
                return job_totals_text(&j->import.totals);
        if (j->dry_run.status && j->dry_run.has_totals) {
                _cleanup_free_ char *s = job_totals_text(&j->dry_run.totals);
                return xasprintf("dry run: %s", s);
        }
        return NULL;
}

static int history_json(const struct joblist *l, const char *name) {
        yajl_gen g = jgen_new();
        int r = 0;
        TRY_OUT(j_ok(yajl_gen_array_open(g)));
        for (size_t i = l->n; i > 0; i--) {
                const struct job *j = l->v[i - 1];
                if (name && !streq(j->promotion, name))
                        continue;
                TRY_OUT(j_ok(yajl_gen_map_open(g)));
                TRY_OUT(json_kv_str(g, "id", j->id));
                TRY_OUT(json_kv_str(g, "promotion", j->promotion));
                TRY_OUT(json_kv_str(g, "package", j->package));
                TRY_OUT(json_kv_str(g, "mode", promo_mode_to_string(j->mode)));
                TRY_OUT(json_kv_str(g, "state", job_state_to_string(j->state)));
                TRY_OUT(json_kv_str(g, "failure", j->failure));
                TRY_OUT(json_kv_str(g, "message", j->message));
                TRY_OUT(json_kv_usec(g, "created_usec", j->created_usec));
                TRY_OUT(json_kv_usec(g, "updated_usec", j->updated_usec));
                TRY_OUT(json_kv_usec(g, "finished_usec", j->finished_usec));
                if (job_state_is_final(j->state))
                        TRY_OUT(json_kv_uint(g, "duration_usec", job_duration(j)));
                TRY_OUT(json_kv_str(g, "import_id", j->import_id));
                TRY_OUT(json_totals(g, "totals", &j->import));
                TRY_OUT(json_totals(g, "dry_run_totals", &j->dry_run));
                TRY_OUT(j_ok(yajl_gen_map_close(g)));
        }
        TRY_OUT(j_ok(yajl_gen_array_close(g)));
out:
        return jgen_finish(g, r);
}

/* The footer of the history table (not in --json, whose output is only the
 * array): how far back the listing goes, and how long the daemon keeps
 * finished jobs (history_keep:, store_prune).  Older jobs may still show
 * until the daemon's next retention run, or always when they are
 * unfinished, unreadable or the last of their promotion: the date is the
 * oldest job listed, not now minus history_keep. */
static void history_reach(const struct config *c, const struct joblist *l, const char *name) {
        char when[64], keep[32];
        for (size_t i = 0; i < l->n; i++) {     /* oldest first */
                if (name && !streq(l->v[i]->promotion, name))
                        continue;
                printf("\nHistory reaches back to %s (history_keep: %s).\n",
                       fmt_time(when, sizeof when, l->v[i]->created_usec, false),
                       history_keep_text(keep, sizeof keep, c->history_keep_usec));
                return;
        }
}

static int cmd_history(const struct config *c, char **args, size_t n_args) {
        static const char *const hdr[] = { "ID", "STATE", "FAILURE", "STARTED", "DURATION", "TOTALS" };
        const char *name = n_args ? args[0] : NULL;
        struct joblist l;
        struct table *t;
        int ret = CTL_OK;
        size_t shown = 0;

        if (load_jobs(c, &l) < 0)
                return CTL_FAILED;
        for (size_t i = 0; i < l.n; i++)
                if (!name || streq(l.v[i]->promotion, name))
                        shown++;
        if (name && !shown && !config_find_promotion(c, name)) {
                errorf("no promotion '%s' in %s and no job of it in %s/jobs", name, c->path, c->state_directory);
                ret = CTL_FAILED;
                goto out;
        }
        if (arg_json) {
                ret = history_json(&l, name);
                goto out;
        }
        if (!shown) {
                if (name)
                        printf("No jobs of %s yet.\n", name);
                else
                        printf("No jobs yet.\n");
                goto out;
        }
        t = table_new(ELEMENTSOF(hdr), hdr);
        for (size_t i = l.n; i > 0; i--) {
                const struct job *j = l.v[i - 1];
                char started[64], dur[32] = "-";
                _cleanup_free_ char *totals = NULL;
                if (name && !streq(j->promotion, name))
                        continue;
                if (job_state_is_final(j->state) && job_duration(j))
                        format_duration_style(dur, sizeof dur, job_duration(j), DURATION_SPAN);
                totals = history_totals(j);
                table_add(t, (const char *const[]) { j->id, job_state_to_string(j->state), j->failure,
                                                     fmt_time(started, sizeof started, j->created_usec, true),
                                                     dur, totals });
        }
        table_print(t, stdout, "");
        table_free(t);
        history_reach(c, &l, name);
out:
        joblist_free(&l);
        return ret;
}

/* ---- show ------------------------------------------------------------------ */

#define LABEL_WIDTH 16

static void field(const char *indent, const char *label, const char *fmt, ...) _printf_(3, 4);
static void field(const char *indent, const char *label, const char *fmt, ...) {
        int w = LABEL_WIDTH - (int) strlen(indent) - (int) strlen(label) - 1;
        va_list ap;
        printf("%s%s:%*s", indent, label, MAX(w, 1), "");
        va_start(ap, fmt);
        vlinef(stdout, "", fmt, ap);
        va_end(ap);
}

static void show_import_status(const char *title, const char *id, const struct import_status *s) {
        if (!id && !s->status)
                return;
        putchar('\n');
        field("", title, "%s", id ? id : s->id ? s->id : "-");
        if (!s->status) {
                field("  ", "status", "(not known yet)");
                return;
        }
        field("  ", "status", "%s", s->status);
        if (s->file_id)
                field("  ", "file id", "%s", s->file_id);
        if (s->has_totals) {
                _cleanup_free_ char *t = job_totals_text(&s->totals);
                field("  ", "totals", "%s", t);
        }
        field("  ", "errors", "%zu", import_status_n_errors(s));
        field("  ", "warnings", "%zu", import_status_n_warnings(s));
        if (s->studio_locked || s->system_locked)
                field("  ", "locked", "%s%s%s", s->studio_locked ? "studio" : "",
                      s->studio_locked && s->system_locked ? ", " : "", s->system_locked ? "system" : "");
        for (size_t i = 0; i < s->n_results; i++) {
                const struct import_result *r = &s->results[i];
                linef("  package %s: modified %lld, removed %lld, failed %lld, skipped %lld",
                       r->package ? r->package : "-", r->modified, r->removed, r->failed, r->skipped);
                for (size_t k = 0; k < r->n_errors; k++)
                        linef("    error: %s", r->errors[k]);
                for (size_t k = 0; k < r->n_warnings; k++)
                        linef("    warning: %s", r->warnings[k]);
        }
        /* a job keeps a bounded part of a large answer (api.h API_MAX_*) */
        size_t kept = 0, all = import_status_n_errors(s) + import_status_n_warnings(s);
        for (size_t i = 0; i < s->n_results; i++)
                kept += s->results[i].n_errors + s->results[i].n_warnings;
        if (kept < all || s->n_results < s->results_total)
                linef("  (kept: %zu of %zu results, %zu of %zu errors and warnings; the server has them all)",
                      s->n_results, MAX(s->results_total, s->n_results), kept, all);
}

/* Every setting (settings.h), as "poll_interval 15s, ..., retries 6, ...". */
static char *fmt_settings(const struct settings *s) {
        struct buf b = {};

        buf_append(&b, "", 0);
        for (enum setting_id i = 0; i < _SETTINGS_N; i++) {
                const struct setting_desc *d = &settings_desc[i];
                uint64_t v = setting_get(s, i);
                char val[32];
                _cleanup_free_ char *item = NULL;

                if (d->words)
                        snprintf(val, sizeof val, "%s", setting_word(i, v));
                else if (d->type == SETTING_T_DURATION)
                        format_duration(val, sizeof val, v);
                else
                        snprintf(val, sizeof val, "%llu", (unsigned long long) v);
                item = xasprintf("%s%s %s", i > 0 ? ", " : "", d->key, val);
                buf_append(&b, item, strlen(item));
        }
        return b.data;
}

/* A job file without "settings" (every one is 0 then). */
static bool settings_unknown(const struct settings *s) {
        for (enum setting_id i = 0; i < _SETTINGS_N; i++)
                if (setting_get(s, i))
                        return false;
        return true;
}

static void show_decision(const char *label, const struct job_decision *d) {
        char a[64];
        if (d->user)
                field("", label, "by %s (uid %u) at %s%s%s", d->user, d->uid, fmt_time(a, sizeof a, d->usec, true),
                      d->reason ? ": " : "", strempty(d->reason));
}

/* What the job's events asked for (notify:, after:) and how far it got:
 * the operator's answer to "was the team told?" and "did uat start?". */
static void show_followups(const struct job *j) {
        static const char *const hdr[] = { "KIND", "EVENT", "STATUS", "ATTEMPTS", "DETAIL" };
        struct table *t;
        char a[64];

        if (!j->n_followups)
                return;
        t = table_new(ELEMENTSOF(hdr), hdr);
        for (size_t i = 0; i < j->n_followups; i++) {
                const struct followup *f = &j->followups[i];
                _cleanup_free_ char *detail = NULL;
                char att[16];

                if (f->kind == FOLLOWUP_CHAIN)
                        detail = xasprintf("promotion %s, job %s", strempty(f->promotion), strempty(f->job_id));
                else if (f->status == FOLLOWUP_PENDING && f->next_usec)
                        detail = xasprintf("next try %s%s%s", fmt_time(a, sizeof a, f->next_usec, true),
                                           f->last_error ? "; last error: " : "", strempty(f->last_error));
                else
                        detail = xstrdup(f->last_error ? f->last_error : "");
                snprintf(att, sizeof att, "%u", f->attempts);
                table_add(t, (const char *const[]) { followup_kind_to_string(f->kind), strempty(f->event),
                                                     followup_status_to_string(f->status), att, detail });
        }
        printf("\nFollow-ups:\n");
        table_print(t, stdout, "  ");
        table_free(t);
}

static void show_job(const struct job *j) {
        char a[64], b[64], d[32];
        bool gate = j->state == JOB_AWAITING_APPROVAL;

        if (gate) {
                /* what the approver decides on comes first: what the
                 * import will change, as the dry run found it */
                field("", "Awaiting", "approval until %s: dev2prodctl approve %s, or reject %s",
                      fmt_time(a, sizeof a, job_approval_deadline(j), true), j->id, j->id);
                if (j->approved.user)
                        field("", "Approved", "by %s (uid %u): the import follows", j->approved.user, j->approved.uid);
                if (j->target_file_id)
                        field("", "Will import", "file %s (package %s) into %s (tenant %s at %s)", j->target_file_id,
                              j->package, strempty(j->to.name), strempty(j->to.tenant_id), strempty(j->to.url));
                show_import_status("Dry run", j->dry_run_id, &j->dry_run);
                putchar('\n');
        }
        field("", "Job", "%s", j->id);
        field("", "Promotion", "%s", j->promotion);
        field("", "Package", "%s", j->package);
        field("", "From", "%s (tenant %s at %s)", strempty(j->from.name), strempty(j->from.tenant_id), strempty(j->from.url));
        field("", "To", "%s (tenant %s at %s)", strempty(j->to.name), strempty(j->to.tenant_id), strempty(j->to.url));
        field("", "Mode", "%s", promo_mode_to_string(j->mode));
        field("", "State", "%s", job_state_to_string(j->state));
        if (j->failure)
                field("", "Failure", "%s", j->failure);
        if (j->message)
                field("", "Message", "%s", j->message);
        field("", "Created", "%s", fmt_time(a, sizeof a, j->created_usec, true));
        if (j->due_usec && j->due_usec / USEC_PER_SEC != j->created_usec / USEC_PER_SEC)
                field("", "Due", "%s", fmt_time(a, sizeof a, j->due_usec, true));
        if (j->folded_due_times)
                field("", "Catch-up", "of %u due time(s) missed while the daemon was down (the latest runs)",
                      j->folded_due_times);
        field("", "Updated", "%s", fmt_time(a, sizeof a, j->updated_usec, true));
        if (j->finished_usec)
                field("", "Finished", "%s (after %s)", fmt_time(a, sizeof a, j->finished_usec, true),
                      format_duration_style(d, sizeof d, job_duration(j), DURATION_SPAN));
        if (!settings_unknown(&j->settings)) {
                _cleanup_free_ char *s = fmt_settings(&j->settings);
                field("", "Settings", "%s", s);
        }
        field("", "Duplicates", "%u", j->duplicates);
        show_decision("Approved", &j->approved);
        show_decision("Rejected", &j->rejected);
        show_decision("Resolved", &j->resolved);
        if (j->resolved_from)
                field("", "Resolved from", "%s", j->resolved_from);
        if (j->resolved_by_job)
                field("", "Resolved by job", "%s", j->resolved_by_job);
        if (j->resolves)
                field("", "Resolves", "%s (its import answer was lost)", j->resolves);
        if (j->triggered_by)
                field("", "Triggered by", "%s (after: its promotion succeeded)", j->triggered_by);

        /* steps */
        {
                static const char *const hdr[] = { "STEP", "STARTED", "FINISHED", "DURATION", "ATTEMPTS" };
                struct table *t = table_new(ELEMENTSOF(hdr), hdr);
                for (int s = 0; s < _JOB_STEPS; s++) {
                        const struct step_record *st = &j->steps[s];
                        char att[16];
                        if (!st->started_usec)
                                continue;
                        snprintf(d, sizeof d, "-");
                        if (st->finished_usec >= st->started_usec && st->finished_usec)
                                format_duration_style(d, sizeof d, st->finished_usec - st->started_usec, DURATION_SPAN);
                        else if ((enum job_state) s == j->state)
                                snprintf(d, sizeof d, "(current)");
                        snprintf(att, sizeof att, "%u", st->attempts);
                        table_add(t, (const char *const[]) { job_state_to_string((enum job_state) s),
                                                             fmt_time(a, sizeof a, st->started_usec, true),
                                                             fmt_time(b, sizeof b, st->finished_usec, true), d, att });
                }
                printf("\nSteps:\n");
                if (t->nrows)
                        table_print(t, stdout, "  ");
                else
                        printf("  (none started yet)\n");
                table_free(t);
        }

        if (j->export_id || j->export.status) {
                const struct export_status *e = &j->export;
                putchar('\n');
                field("", "Export", "%s", j->export_id ? j->export_id : strempty(e->id));
                if (e->status) {
                        field("  ", "status", "%s", e->status);
                        if (e->file_id)
                                field("  ", "FileId", "%s", e->file_id);
                        if (e->bundle_name)
                                field("  ", "bundle", "%s", e->bundle_name);
                        field("  ", "items", "%lld", e->item_count);
                        if (e->n_stats) {
                                static const char *const hdr[] = { "PART", "ITEMS" };
                                struct table *t = table_new(ELEMENTSOF(hdr), hdr);
                                for (size_t i = 0; i < e->n_stats; i++) {
                                        char n[32];
                                        snprintf(n, sizeof n, "%lld", e->stats[i].items);
                                        table_add(t, (const char *const[]) { e->stats[i].name, n });
                                }
                                printf("  statistics:\n");
                                table_print(t, stdout, "    ");
                                table_free(t);
                        }
                }
        }
        if (j->download_bytes || j->download_sha256[0] || j->package_path) {
                putchar('\n');
                field("", "Download", "%llu bytes", (unsigned long long) j->download_bytes);
                if (j->download_sha256[0])
                        field("  ", "sha256", "%s", j->download_sha256);
                if (j->package_path && !job_state_is_final(j->state))   /* removed when the job ends */
                        field("  ", "file", "%s", j->package_path);
        }
        if (j->target_file_id) {
                putchar('\n');
                field("", "Upload", "target file id %s", j->target_file_id);
        }
        if (!gate)
                show_import_status("Dry run", j->dry_run_id, &j->dry_run);
        show_import_status("Import", j->import_id, &j->import);
        show_followups(j);
}

static int cmd_show(const struct config *c, char **args, size_t n_args) {
        struct job *j = NULL;
        int r = load_one(c, args[0], &j);

        if (r != CTL_OK)
                return r;
        if (arg_json) {
                _cleanup_free_ char *text = store_job_to_json(j, true);
                if (text)
                        fputs(text, stdout);
                else {
                        errorf("cannot write job %s as JSON", j->id);
                        r = CTL_FAILED;
                }
        } else
                show_job(j);
        job_free(j);
        return r;
}

/* ---- run, cancel ------------------------------------------------------------ */

/* Sends one request; on success *ret_answer is the answer line.  Otherwise
 * says why the daemon can't be reached (what_then: what to do instead) and
 * returns CTL_NO_DAEMON. */
static int ask_daemon(const struct config *c, const char *request, const char *what_then, char **ret_answer) {
        const char *sock = control_socket_of(c);
        int r = control_request(sock, request, ret_answer);

        if (r >= 0)
                return CTL_OK;
        if (r == -ENOENT || r == -ECONNREFUSED)
                errorf("dev2prodd is not running (cannot reach %s): %s", sock, what_then);
        else if (is_denied(r))
                permission_denied(sock);
        else if (r == -ECONNRESET)
                errorf("dev2prodd at %s closed the connection without an answer (see its log: "
                       "journalctl -u dev2prodd)", sock);
        else if (r == -ETIMEDOUT)
                errorf("dev2prodd did not answer on %s within 10 seconds", sock);
        else
                errorf("cannot reach dev2prodd at %s: %s", sock, strerror(-r));
        return CTL_NO_DAEMON;
}

/* "ok REST" -> 0 with *ret_rest; "error MESSAGE" -> reported, CTL_FAILED. */
static int judge_answer(const char *answer, const char **ret_rest) {
        if (strncmp(answer, "ok", 2) == 0 && (answer[2] == ' ' || answer[2] == 0)) {
                *ret_rest = answer[2] ? answer + 3 : "";
                return CTL_OK;
        }
        if (strncmp(answer, "error ", 6) == 0)
                errorf("%s", answer + 6);
        else
                errorf("unexpected answer from dev2prodd: %s", answer);
        return CTL_FAILED;
}

static bool arg_is_one_word(const char *s) {
        if (!s[0])
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static void print_new_steps(const struct job *j, bool *printed) {
        for (int s = 0; s < _JOB_STEPS; s++) {
                char tb[64];
                time_t t;
                struct tm tm;
                _cleanup_free_ char *detail = NULL;
                if (printed[s] || !j->steps[s].started_usec)
                        continue;
                printed[s] = true;
                t = (time_t) (j->steps[s].started_usec / USEC_PER_SEC);
                if (!localtime_r(&t, &tm) || !strftime(tb, sizeof tb, "%H:%M:%S", &tm))
                        snprintf(tb, sizeof tb, "-");
                /* what the step goes on from (jobdata.c's state table) */
                detail = job_state_detail(j, (enum job_state) s);
                linef("%s  %-13s%s%s", tb, job_state_to_string((enum job_state) s), detail ? "  " : "",
                       strempty(detail));
        }
        fflush(stdout);
}

/* Follows job id until it ends, re-reading its file every 200 ms. */
static int wait_job(const struct config *c, const char *id) {
        _cleanup_free_ char *dir = jobs_dir_of(c), *path = store_job_path(dir, id);
        bool printed[_JOB_STEPS] = {};
        unsigned ticks = 0, unreadable = 0;
        bool daemon_gone = false;

        for (;; ticks++) {
                _cleanup_free_ char *err = NULL;
                struct job *j = NULL;
                int r = store_load(path, &j, &err);

                if (is_denied(r)) {
                        permission_denied(path);
                        return CTL_FAILED;
                }
                if (r < 0) {
                        /* the file is replaced atomically, so this is not a half-written file */
                        if (daemon_gone || ++unreadable >= 25) {
                                errorf("%s: %s; cannot follow job %s", path, err ? err : strerror(-r), id);
                                return CTL_FAILED;
                        }
                } else {
                        unreadable = 0;
                        if (!arg_json)
                                print_new_steps(j, printed);
                        if (job_state_is_final(j->state)) {
                                int ret = j->state == JOB_SUCCEEDED ? CTL_OK : CTL_FAILED;
                                if (arg_json) {
                                        _cleanup_free_ char *text = store_job_to_json(j, true);
                                        fputs(strempty(text), stdout);
                                } else if (j->state == JOB_SUCCEEDED)
                                        linef("succeeded: %s", strempty(j->message));
                                else
                                        linef("%s (%s): %s", job_state_to_string(j->state),
                                               j->failure ? j->failure : "-", strempty(j->message));
                                job_free(j);
                                return ret;
                        }
                        if (daemon_gone) {
                                errorf("dev2prodd stopped while job %s was in state %s; it resumes when the "
                                       "daemon starts again (follow it with dev2prodctl show %s)",
                                       id, job_state_to_string(j->state), id);
                                job_free(j);
                                return CTL_NO_DAEMON;
                        }
                        job_free(j);
                }
                if (ticks && ticks % WAIT_PING_TICKS == 0) {
                        _cleanup_free_ char *answer = NULL;
                        r = control_request(control_socket_of(c), "ping", &answer);
                        /* read the file once more before saying so: it may have just ended */
                        if (r == -ENOENT || r == -ECONNREFUSED) {
                                daemon_gone = true;
                                continue;
                        }
                        free(answer);
                        answer = NULL;
                        _cleanup_free_ char *q = xasprintf("job %s", id);
                        if (control_request(control_socket_of(c), q, &answer) >= 0 && answer && streq(answer, "ok inactive"))
                                daemon_gone = true;     /* the daemon dropped it: say so after one more read */
                }
                usleep(WAIT_TICK_USEC);
        }
}

static int cmd_run(const struct config *c, char **args, size_t n_args) {
        const char *name = args[0], *id;
        _cleanup_free_ char *req = NULL, *answer = NULL, *hint = NULL;
        int r;

        if (!arg_is_one_word(name)) {
                errorf("'%s' is not a promotion name", name);
                return CTL_USAGE;
        }
        req = xasprintf("run %s", name);
        hint = xasprintf("start it with systemctl start dev2prodd, or run the promotion in the foreground "
                         "with dev2prodd --once %s", name);
        r = ask_daemon(c, req, hint, &answer);
        if (r != CTL_OK)
                return r;
        r = judge_answer(answer, &id);
        if (r != CTL_OK)
                return r;
        if (!store_id_valid(id)) {
                errorf("unexpected answer from dev2prodd: %s", answer);
                return CTL_FAILED;
        }
        if (!arg_wait) {
                if (arg_json) {
                        yajl_gen g = jgen_new();
                        int k = j_ok(yajl_gen_map_open(g));
                        if (k >= 0)
                                k = json_kv_str(g, "id", id);
                        if (k >= 0)
                                k = j_ok(yajl_gen_map_close(g));
                        return jgen_finish(g, k);
                }
                printf("%s\n", id);
                return CTL_OK;
        }
        if (!arg_json) {
                printf("%s\n", id);
                fflush(stdout);
        }
        return wait_job(c, id);
}

/* Sends "VERB ID[ REST]" about one job and judges the daemon's answer;
 * *ret_rest points into *ret_answer (the caller frees it). */
static int ask_about_job(const struct config *c, const char *verb, const char *id, const char *rest,
                         const char *hint, char **ret_answer, const char **ret_rest) {
        _cleanup_free_ char *req = NULL;
        int r;

        if (!store_id_valid(id)) {
                errorf("'%s' is not a job id (see dev2prodctl jobs)", id);
                return CTL_USAGE;
        }
        req = rest ? xasprintf("%s %s %s", verb, id, rest) : xasprintf("%s %s", verb, id);
        r = ask_daemon(c, req, hint, ret_answer);
        if (r != CTL_OK)
                return r;
        return judge_answer(*ret_answer, ret_rest);
}

/* {"K1": V1, "K2": V2} on stdout. */
static int print_json_pair(const char *k1, const char *v1, const char *k2, const char *v2) {
        yajl_gen g = jgen_new();
        int k = j_ok(yajl_gen_map_open(g));
        if (k >= 0)
                k = json_kv_str(g, k1, v1);
        if (k >= 0)
                k = json_kv_str(g, k2, v2);
        if (k >= 0)
                k = j_ok(yajl_gen_map_close(g));
        return jgen_finish(g, k);
}

static int cmd_cancel(const struct config *c, char **args, size_t n_args) {
        const char *id = args[0], *rest;
        _cleanup_free_ char *answer = NULL;
        int r = ask_about_job(c, "cancel", id, NULL, "start it with systemctl start dev2prodd (an unfinished job "
                              "resumes then, and can be cancelled)", &answer, &rest);

        if (r != CTL_OK)
                return r;
        if (arg_json)
                return print_json_pair("id", id, "state", "cancelled");
        printf("cancelled %s\n", id);
        return CTL_OK;
}

/* ---- approve, reject, resolve --------------------------------------------------- */

/* Sends "VERB ID[ REST]"; prints what the daemon did.  The daemon records
 * who asked (the socket's peer), so nothing here says who one is. */
static int decide(const struct config *c, const char *verb, const char *id, const char *rest, const char *done) {
        const char *ans;
        _cleanup_free_ char *answer = NULL;
        int r = ask_about_job(c, verb, id, rest, "start it with systemctl start dev2prodd (an unfinished job "
                              "resumes then)", &answer, &ans);

        if (r != CTL_OK)
                return r;
        if (arg_json)
                return print_json_pair("id", ans, "done", done);
        if (streq(ans, id))
                printf("%s %s\n", done, id);
        else
                printf("%s %s: job %s dry-runs and imports its uploaded file again\n", done, id, ans);
        return CTL_OK;
}

static int cmd_approve(const struct config *c, char **args, size_t n_args) {
        return decide(c, "approve", args[0], NULL, "approved");
}

static int cmd_reject(const struct config *c, char **args, size_t n_args) {
        _cleanup_free_ char *reason = NULL;

        if (arg_reason) {
                /* one request line: no line breaks, and the line is bounded */
                reason = xstrdup(arg_reason);
                for (char *p = reason; *p; p++)
                        if ((unsigned char) *p < ' ' || *p == 0x7f)
                                *p = ' ';
                if (strlen(reason) > 300) {
                        errorf("--reason is longer than 300 bytes");
                        return CTL_USAGE;
                }
        }
        return decide(c, "reject", args[0], reason && reason[0] ? reason : NULL, "rejected");
}

static int cmd_resolve(const struct config *c, char **args, size_t n_args) {
        if (arg_imported < 0) {
                errorf("resolve: say what you found on the target tenant: --imported or --not-imported");
                return CTL_USAGE;
        }
        return decide(c, "resolve", args[0], arg_imported ? "imported" : "not-imported", "resolved");
}

/* ---- logs ------------------------------------------------------------------ */

static int cmd_logs(char **args) {
        _cleanup_free_ char *match = NULL;
        const char *argv[10];
        size_t n = 0;

        if (!store_id_valid(args[0])) {
                errorf("'%s' is not a job id (see dev2prodctl history)", args[0]);
                return CTL_USAGE;
        }
        match = xasprintf("DEV2PROD_JOB=%s", args[0]);
        argv[n++] = "journalctl";
        argv[n++] = "--no-pager";
        argv[n++] = "-o";
        argv[n++] = arg_json ? "json" : "short-iso";
        if (arg_follow)
                argv[n++] = "-f";
        argv[n++] = match;
        argv[n] = NULL;
        fflush(stdout);
        execvp(argv[0], (char *const *) argv);
        if (errno == ENOENT)
                errorf("journalctl is not installed: the daemon's log lines are in the system journal "
                       "(or on stderr of dev2prodd --once)");
        else
                errorf("cannot run journalctl: %s", strerror(errno));
        return CTL_FAILED;
}

/* ---- command line -------------------------------------------------------- */

static void usage(FILE *f) {
        fprintf(f,
                "Usage: dev2prodctl [--config FILE] [--json] COMMAND ...\n"
                "Shows and controls the promotions of dev2prodd.\n\n"
                "Commands:\n"
                "  list                 promotions: next due time, last job and its result\n"
                "  jobs                 unfinished jobs\n"
                "  history [NAME]       jobs, newest first (of promotion NAME only)\n"
                "  show JOB             everything about one job\n"
                "  run NAME [--wait]    ask the daemon to run promotion NAME now; --wait\n"
                "                       follows the job to its end (exit 0 succeeded, 1 not)\n"
                "  cancel JOB           ask the daemon to cancel a running or queued job\n"
                "  approve JOB          let a job awaiting approval import (approval: required)\n"
                "  reject JOB [--reason TEXT]  end a job awaiting approval (nothing imported)\n"
                "  resolve JOB --imported|--not-imported\n"
                "                       a job that failed import-outcome-unknown, after checking\n"
                "                       the target tenant: record it as imported, or dry-run and\n"
                "                       import its uploaded file again (a new job)\n"
                "  logs JOB [-f]        the job's log lines from the journal (-f: follow;\n"
                "                       --json: journalctl -o json)\n\n"
                "Options:\n"
                "  -c, --config FILE    configuration (default " CONFIG_DEFAULT_PATH ")\n"
                "      --json           machine-readable output\n"
                "  -w, --wait           run: wait for the job to end\n"
                "  -f, --follow         logs: keep following\n"
                "      --reason TEXT    reject: why (kept in the job file)\n"
                "      --imported, --not-imported  resolve: what the target tenant shows\n"
                "  -h, --help           this text\n"
                "      --version        version\n\n"
                "Exit status: 0 ok, 1 failed or not found, 2 usage or configuration error,\n"
                "3 dev2prodd not reachable.\n");
}

struct command {
        const char *name;
        size_t min_args, max_args;
        bool needs_config;
        int (*run)(const struct config *c, char **args, size_t n_args);
};

static const struct command commands[] = {
        { "list", 0, 0, true, cmd_list },
        { "jobs", 0, 0, true, cmd_jobs },
        { "history", 0, 1, true, cmd_history },
        { "show", 1, 1, true, cmd_show },
        { "run", 1, 1, true, cmd_run },
        { "cancel", 1, 1, true, cmd_cancel },
        { "approve", 1, 1, true, cmd_approve },
        { "reject", 1, 1, true, cmd_reject },
        { "resolve", 1, 1, true, cmd_resolve },
        { "logs", 1, 1, false, NULL },
};

static int load_config(struct config **ret) {
        struct errlist errs = {};
        int r = config_load_flags(arg_config, CONFIG_NO_SECRETS, ret, &errs);
        if (r >= 0)
                return 0;
        if (is_denied(r) && access(arg_config, R_OK) < 0 && is_denied(-errno)) {
                permission_denied(arg_config);
                errlist_free(&errs);
                return r;
        }
        for (size_t i = 0; i < errs.n; i++)
                fprintf(stderr, "%s\n", errs.msgs[i]);
        if (errs.n == 0)
                errorf("cannot load %s: %s", arg_config, strerror(-r));
        else
                errorf("configuration not loaded: %zu error(s) in %s", errs.n, arg_config);
        errlist_free(&errs);
        return r;
}

int main(int argc, char **argv) {
        enum { OPT_JSON = 0x100, OPT_VERSION, OPT_REASON, OPT_IMPORTED, OPT_NOT_IMPORTED };
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, OPT_JSON },
                { "wait", no_argument, NULL, 'w' },
                { "follow", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "reason", required_argument, NULL, OPT_REASON },
                { "imported", no_argument, NULL, OPT_IMPORTED },
                { "not-imported", no_argument, NULL, OPT_NOT_IMPORTED },
                {}
        };
        const struct command *cmd = NULL;
        struct config *c = NULL;
        char **args;
        size_t n_args;
        int o, r;

        /* the configuration holds the API keys: no core of ours may show them */
        (void) prctl(PR_SET_DUMPABLE, 0);
        log_open("dev2prodctl");

        while ((o = getopt_long(argc, argv, "c:wfh", opts, NULL)) >= 0)
                switch (o) {
                case 'c': arg_config = optarg; break;
                case OPT_JSON: arg_json = true; break;
                case 'w': arg_wait = true; break;
                case 'f': arg_follow = true; break;
                case 'h': usage(stdout); return CTL_OK;
                case OPT_VERSION: printf("dev2prodctl %s\n", DEV2PROD_VERSION); return CTL_OK;
                case OPT_REASON: arg_reason = optarg; break;
                case OPT_IMPORTED: arg_imported = 1; break;
                case OPT_NOT_IMPORTED: arg_imported = 0; break;
                default:
                        fprintf(stderr, "Try 'dev2prodctl --help'.\n");
                        return CTL_USAGE;
                }
        if (optind >= argc) {
                usage(stderr);
                return CTL_USAGE;
        }
        if (streq(argv[optind], "help")) {
                usage(stdout);
                return CTL_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name))
                        cmd = &commands[i];
        if (!cmd) {
                errorf("unknown command '%s' (try 'dev2prodctl --help')", argv[optind]);
                return CTL_USAGE;
        }
        args = argv + optind + 1;
        n_args = (size_t) (argc - optind - 1);
        if (n_args < cmd->min_args || n_args > cmd->max_args) {
                if (n_args < cmd->min_args)
                        errorf("%s: missing argument (try 'dev2prodctl --help')", cmd->name);
                else
                        errorf("%s: unexpected argument '%s' (try 'dev2prodctl --help')", cmd->name,
                               args[cmd->max_args]);
                return CTL_USAGE;
        }
        if (arg_wait && !streq(cmd->name, "run")) {
                errorf("--wait goes with run only");
                return CTL_USAGE;
        }
        if (arg_reason && !streq(cmd->name, "reject")) {
                errorf("--reason goes with reject only");
                return CTL_USAGE;
        }
        if (arg_imported >= 0 && !streq(cmd->name, "resolve")) {
                errorf("--imported and --not-imported go with resolve only");
                return CTL_USAGE;
        }
        if (arg_follow && !streq(cmd->name, "logs")) {
                errorf("--follow goes with logs only");
                return CTL_USAGE;
        }
        if (!cmd->needs_config)
                return cmd_logs(args);

        if (load_config(&c) < 0)
                return CTL_USAGE;
        r = cmd->run(c, args, n_args);
        config_free(c);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (errno != EPIPE)
                        errorf("cannot write the output: %s", strerror(errno));
                return r == CTL_OK ? CTL_FAILED : r;
        }
        return r;
}
