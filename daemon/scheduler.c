/* scheduler.c — see scheduler.h. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "cron.h"
#include "scheduler.h"

/* Walking a minutely schedule over a long outage must stay bounded. */
#define MAX_STEPS 200000

static struct sched_entry *find(const struct scheduler *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i].promotion, name))
                        return &s->v[i];
        return NULL;
}

const struct sched_entry *scheduler_find(const struct scheduler *s, const char *promotion) {
        return find(s, promotion);
}

void scheduler_clear_queued(struct scheduler *s) {
        for (size_t i = 0; i < s->n; i++)
                s->v[i].queued_due = 0;
        s->queued_hint = 0;
}

/* Jobs come in the configuration's order, as the entries do (mostly: a
 * manual run, a resumed job), so the entry after the last one set is
 * tried first: 1,000 queued jobs at start-up are not 1,000 searches. */
void scheduler_set_queued(struct scheduler *s, const char *promotion, time_t due, unsigned folded) {
        struct sched_entry *e = s->queued_hint < s->n && streq(s->v[s->queued_hint].promotion, promotion) ?
                                &s->v[s->queued_hint] : find(s, promotion);
        if (e) {
                s->queued_hint = (size_t) (e - s->v) + 1;
                e->queued_due = due;
                e->queued_folded = folded;
        }
}

static struct sched_entry *add(struct scheduler *s, const char *name, time_t last) {
        s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
        s->v[s->n] = (struct sched_entry) { .promotion = xstrdup(name), .last_due = last };
        return &s->v[s->n++];
}

int scheduler_load(struct scheduler *s, const char *state_directory, char **ret_err) {
        _cleanup_free_ char *text = NULL;
        char err[256];
        size_t len;
        yajl_val o, p;
        int r;

        memset(s, 0, sizeof *s);
        s->path = xasprintf("%s/schedule.json", state_directory);
        r = read_file_small(s->path, 4u * 1024u * 1024u, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *ret_err = xasprintf("cannot read %s: %s", s->path, strerror(-r));
                return r;
        }
        o = json_parse(text, len, err, sizeof err);
        p = json_get(o, "last_due");
        if (!o || !YAJL_IS_OBJECT(p)) {
                *ret_err = xasprintf("%s is damaged (%s); due times missed while the daemon was down "
                                     "cannot be caught up this once", s->path, o ? "no \"last_due\"" : err);
                yajl_tree_free(o);
                return -EPROTO;
        }
        for (size_t i = 0; i < p->u.object.len; i++)
                if (YAJL_IS_INTEGER(p->u.object.values[i]))
                        add(s, p->u.object.keys[i], (time_t) YAJL_GET_INTEGER(p->u.object.values[i]));
        /* "queued": {promotion: {"due": T, "folded": N, "last_due": L}},
         * absent in files of older versions and when no job waits unsaved;
         * L is the true last handled due time (see scheduler_save) */
        p = json_get(o, "queued");
        for (size_t i = 0; YAJL_IS_OBJECT(p) && i < p->u.object.len; i++) {
                yajl_val q = p->u.object.values[i];
                yajl_val due = json_get(q, "due"), n = json_get(q, "folded"), last = json_get(q, "last_due");
                struct sched_entry *e = find(s, p->u.object.keys[i]);
                if (e && YAJL_IS_INTEGER(due) && YAJL_GET_INTEGER(due) > 0) {
                        e->queued_due = (time_t) YAJL_GET_INTEGER(due);
                        e->queued_folded = YAJL_IS_INTEGER(n) && YAJL_GET_INTEGER(n) > 0 ?
                                           (unsigned) MIN(YAJL_GET_INTEGER(n), (long long) UINT_MAX) : 1;
                        e->last_due = MAX(e->last_due, YAJL_IS_INTEGER(last) ? (time_t) YAJL_GET_INTEGER(last)
                                                                            : e->queued_due);
                }
        }
        yajl_tree_free(o);
        return 0;
}

/* See struct sched_entry, queued_due. */
static int write_queued(yajl_gen g, const struct scheduler *s) {
        int r = json_str(g, "queued");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < s->n && r >= 0; i++) {
                if (!s->v[i].queued_due)
                        continue;
                json_str(g, s->v[i].promotion);
                yajl_gen_map_open(g);
                json_kv_int(g, "due", (long long) s->v[i].queued_due);
                json_kv_int(g, "folded", (long long) s->v[i].queued_folded);
                r = json_kv_int(g, "last_due", (long long) s->v[i].last_due);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        return r;
}

/* What "last_due" says of a promotion.  For one whose job is queued and
 * not saved yet, the second before its due time: a version older than
 * "queued" (a downgrade) reads only "last_due", and then finds that due
 * time still to come and runs it (or the latest missed after it, as its
 * catch-up does) instead of losing it.  The true value is in "queued". */
static long long last_due_for_older(const struct sched_entry *e) {
        return (long long) (e->queued_due ? MIN(e->last_due, e->queued_due - 1) : e->last_due);
}

int scheduler_save(const struct scheduler *s) {
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        size_t len;
        int r = 0;

        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_map_open(g);
        json_kv_int(g, "format", 1);
        json_str(g, "last_due");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < s->n && r >= 0; i++)
                r = json_kv_int(g, s->v[i].promotion, last_due_for_older(&s->v[i]));
        yajl_gen_map_close(g);
        for (size_t i = 0; i < s->n && r >= 0; i++)
                if (s->v[i].queued_due) {
                        r = write_queued(g, s);
                        break;
                }
        yajl_gen_map_close(g);
        if (r >= 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
                r = write_file_atomic(s->path, buf, len);
        else
                r = -EINVAL;
        yajl_gen_free(g);
        return r;
}

void scheduler_free(struct scheduler *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i].promotion);
        free(s->v);
        free(s->path);
        memset(s, 0, sizeof *s);
}

static time_t next_after(const struct promotion *p, time_t t) {
        time_t n = 0;
        if (!p->cron)
                return 0;
        return cron_next(p->cron, p->timezone, t, &n) < 0 ? 0 : n;
}

/* The latest due time <= now, given one that has come (due).  Walking from
 * it due time by due time suits the usual case (the timer fired: one or
 * two have passed).  After a long outage, or a clock stepped far forward,
 * a minutely schedule has passed hundreds of thousands, more than
 * MAX_STEPS: the walk would stop short of now and act on an old due time,
 * and the next timer on another.  So it starts from the shortest window
 * before now that holds a due time, when that is later than due. */
static time_t latest_due(const struct promotion *p, time_t due, time_t now) {
        static const time_t windows[] = { 2 * 60, 2 * 3600, 2 * 86400, 64 * 86400, 800 * 86400 };
        time_t later;
        unsigned k = 0;

        for (size_t i = 0; i < ELEMENTSOF(windows) && now - windows[i] > due; i++) {
                later = next_after(p, now - windows[i]);
                if (later && later <= now) {
                        due = later;
                        break;
                }
        }
        while ((later = next_after(p, due)) && later <= now && ++k < MAX_STEPS)
                due = later;
        return due;
}

static const char *utc(char *buf, size_t len, time_t t) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, len, "@%lld", (long long) t);
        return buf;
}

/* A last handled due time later than now.  last_due is only ever set to a
 * due time that had come (<= the clock when it was recorded), so one in the
 * future means the realtime clock was set back since, or schedule.json
 * came from elsewhere (another machine, a backup, an edit).
 *
 * Kept as it is, it would silence the promotion until the clock reaches
 * it (hours or years), while `dev2prodctl list` (which counts from now)
 * shows it due soon.  So it is clamped to now, with a warning: the next
 * due time is the next one after now, as `list` says.  Clamping cannot run
 * a due time twice: the due times between now and the old last_due that
 * did run have a job file named after them (promotion + due time), and
 * the daemon never creates a scheduled job whose file exists (daemon.c
 * create_job: "the job for this due time exists already"); those that
 * never ran (a foreign file) run when they come.
 *
 * Up to SCHED_FUTURE_TOLERANCE seconds ahead is left alone: a small step
 * back (an NTP correction just after a due time) only delays the next run
 * by as much, and clamping it would offer the due time just handled again,
 * for nothing but an "exists already" line.
 *
 * How the daemon's timer meets clock steps: it is an sd-event
 * CLOCK_REALTIME timer at an absolute time (the next due time), i.e. a
 * timerfd with TFD_TIMER_ABSTIME.  Stepped forward past it, the kernel
 * fires it at once and scheduler_run() finds the due times that passed
 * (the latest runs once, as a missed one if older than SCHED_LATE).
 * Stepped back, it fires when the clock reaches the due time again; the
 * next due time was computed after last_due, so a due time already
 * handled is never offered again by that path, and firing resumes once
 * the clock catches up with it.  A step back larger than the tolerance is
 * clamped here whenever scheduler_run() runs next: at once when the
 * daemon watches the clock (scheduler_clock_watch_open() below), else at
 * the next timer, reload or restart. */
static void clamp_future(const struct scheduler *s, const struct promotion *p, struct sched_entry *e, time_t now) {
        char was[32], at[32], next[32];
        time_t n;

        if (e->last_due <= now + SCHED_FUTURE_TOLERANCE)
                return;
        n = next_after(p, now);
        log_warning("%s: promotion %s: its last handled due time %s is later than now (%s): the clock was set "
                    "back or the file comes from elsewhere; counting from now instead, next run %s",
                    s->path ? s->path : "schedule.json", p->name, utc(was, sizeof was, e->last_due),
                    utc(at, sizeof at, now), n ? utc(next, sizeof next, n) : "never");
        e->last_due = now;
}

void scheduler_run(struct scheduler *s, const struct config *c, time_t now, sched_due_fn fn, void *userdata) {
        size_t n0, hint = 0, w = 0, n_due = 0;
        /* the due promotions, called back after the loop: fn may use local
         * time, which the zone hold below changes (cron.h) */
        struct due { const struct promotion *p; time_t due; bool missed; unsigned folded; } *dues = NULL;

        /* Forget promotions that are gone from the configuration, keeping
         * the order of the others.  Entries follow the configuration's order
         * (they were added in it), so each lookup tries the promotion after
         * the last one found before it searches: O(n) for n promotions. */
        for (size_t i = 0; i < s->n; i++) {
                const struct promotion *p =
                        hint < c->n_promotions && streq(c->promotions[hint].name, s->v[i].promotion) ?
                        &c->promotions[hint] : config_find_promotion(c, s->v[i].promotion);
                if (!p) {
                        free(s->v[i].promotion);
                        continue;
                }
                hint = (size_t) (p - c->promotions) + 1;
                s->v[w++] = s->v[i];
        }
        s->n = n0 = w;
        hint = 0;
        cron_zone_hold();
        for (size_t i = 0; i < c->n_promotions; i++) {
                const struct promotion *p = &c->promotions[i];
                struct sched_entry *e = NULL;
                time_t due;

                if (!p->cron)           /* after: it runs when its upstream succeeds (daemon.c) */
                        continue;

                /* only the entries that were there before this loop can be
                 * this promotion's (names are unique) */
                if (hint < n0 && streq(s->v[hint].promotion, p->name))
                        e = &s->v[hint];
                else
                        for (size_t j = 0; j < n0 && !e; j++)
                                if (streq(s->v[j].promotion, p->name))
                                        e = &s->v[j];
                if (e) {
                        hint = (size_t) (e - s->v) + 1;
                        clamp_future(s, p, e, now);
                } else
                        e = add(s, p->name, now);
                due = next_after(p, e->last_due);
                if (due && due <= now) {
                        /* several due times may have passed: act on the
                         * latest, which stands for all of them (counted,
                         * not walked: a long outage costs no more) */
                        uint64_t folded = 1;
                        due = latest_due(p, due, now);
                        if (cron_count(p->cron, p->timezone, e->last_due, due, &folded) < 0 || folded == 0)
                                folded = 1;
                        e->last_due = due;
                        dues = xrealloc(dues, (n_due + 1) * sizeof *dues);
                        dues[n_due++] = (struct due) { p, due, due < now - SCHED_LATE,
                                                       (unsigned) MIN(folded, (uint64_t) UINT_MAX) };
                }
                e->next_due = next_after(p, MAX(e->last_due, now));
        }
        cron_zone_release();
        for (size_t i = 0; i < n_due; i++)
                fn(userdata, dues[i].p, dues[i].due, dues[i].missed, dues[i].folded);
        free(dues);
}

time_t scheduler_next(const struct scheduler *s, const char **ret_promotion) {
        time_t best = 0;
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].next_due && (!best || s->v[i].next_due < best)) {
                        best = s->v[i].next_due;
                        if (ret_promotion)
                                *ret_promotion = s->v[i].promotion;
                }
        return best;
}

/* A CLOCK_REALTIME timer at the end of time is never due; armed with
 * TFD_TIMER_CANCEL_ON_SET, its read fails with ECANCELED once the clock has
 * been set (systemd watches the clock the same way). */
static int clock_watch_arm(int fd) {
        struct itimerspec its = { .it_value = { .tv_sec = sizeof(time_t) == 8 ? (time_t) INT64_MAX : (time_t) INT32_MAX } };
        return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0 ? -errno : 0;
}

int scheduler_clock_watch_open(void) {
        int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        r = clock_watch_arm(fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

bool scheduler_clock_watch_fired(int fd) {
        uint64_t ticks;

        if (read(fd, &ticks, sizeof ticks) >= 0 || errno != ECANCELED)
                return false;
        (void) clock_watch_arm(fd);     /* for the next change */
        return true;
}
