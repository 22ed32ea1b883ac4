/* scheduler.c — see scheduler.h. */
#include <errno.h>

#include "json.h"
#include "log.h"
#include "schedule.h"
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
        yajl_tree_free(o);
        return 0;
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
                r = json_kv_int(g, s->v[i].promotion, (long long) s->v[i].last_due);
        yajl_gen_map_close(g);
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
        return cron_next(p->cron, p->timezone, t, &n) < 0 ? 0 : n;
}

void scheduler_run(struct scheduler *s, const struct config *c, time_t now, sched_due_fn fn, void *userdata) {
        size_t n0, hint = 0, w = 0;

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
        for (size_t i = 0; i < c->n_promotions; i++) {
                const struct promotion *p = &c->promotions[i];
                struct sched_entry *e = NULL;
                time_t due, later;
                unsigned k = 0;

                /* only the entries that were there before this loop can be
                 * this promotion's (names are unique) */
                if (hint < n0 && streq(s->v[hint].promotion, p->name))
                        e = &s->v[hint];
                else
                        for (size_t j = 0; j < n0 && !e; j++)
                                if (streq(s->v[j].promotion, p->name))
                                        e = &s->v[j];
                if (e)
                        hint = (size_t) (e - s->v) + 1;
                else
                        e = add(s, p->name, now);
                due = next_after(p, e->last_due);
                if (due && due <= now) {
                        /* several due times may have passed: act on the latest */
                        while ((later = next_after(p, due)) && later <= now && ++k < MAX_STEPS)
                                due = later;
                        e->last_due = due;
                        fn(userdata, p, due, due < now - SCHED_LATE);
                }
                e->next_due = next_after(p, MAX(e->last_due, now));
        }
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
