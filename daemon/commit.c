/* commit.c — see commit.h. */
#include <errno.h>

#include "commit.h"
#include "log.h"
#include "util.h"

void commit_init(struct commit *c, sd_event *event, const char *dir) {
        *c = (struct commit) { .event = event, .dir = dir };
}

static int on_defer(sd_event_source *s, void *userdata) {
        commit_flush(userdata);
        return 0;
}

int commit_join(struct commit *c, struct job *j, commit_done_t done) {
        int r;

        c->dirty = true;
        c->saves++;
        for (size_t i = 0; i < c->n; i++)
                if (c->v[i].job == j) {
                        c->v[i].done = done;
                        return 0;
                }
        if (!c->source) {
                r = sd_event_add_defer(c->event, &c->source, on_defer, c);
                if (r < 0)
                        return r;
                /* after every other ready event: their saves join this batch */
                (void) sd_event_source_set_priority(c->source, SD_EVENT_PRIORITY_IDLE);
        }
        if (c->n == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 16;
                c->v = xrealloc(c->v, c->cap * sizeof *c->v);
        }
        r = sd_event_source_set_enabled(c->source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        c->v[c->n++] = (struct commit_entry) { .job = j, .done = done };
        return 0;
}

void commit_leave(struct commit *c, struct job *j) {
        for (size_t i = 0; i < c->n; i++)
                if (c->v[i].job == j) {
                        c->v[i] = c->v[--c->n];
                        break;
                }
        for (size_t i = 0; i < c->n_telling; i++)
                if (c->telling[i].job == j)
                        c->telling[i].job = NULL;
}

void commit_flush(struct commit *c) {
        struct commit_entry *v = c->v;
        size_t n = c->n;
        int r;

        if (c->telling || !n)
                return;         /* a callback's flush: the deferred source still runs */
        c->v = NULL;
        c->n = c->cap = 0;
        if (c->source)
                (void) sd_event_source_set_enabled(c->source, SD_EVENT_OFF);
        r = fsync_dir(c->dir);
        if (r >= 0)
                c->dirty = false;
        c->batches++;
        c->telling = v;
        c->n_telling = n;
        for (size_t i = 0; i < n; i++)
                if (v[i].job)
                        v[i].done(v[i].job, r);
        c->telling = NULL;
        c->n_telling = 0;
        free(v);
}

void commit_done(struct commit *c) {
        /* The loop has ended: the jobs are stopped, so nobody is told; a
         * rename not yet synced (a batch, or a job that left it) is synced
         * now, so that a clean stop leaves every file durable. */
        if (c->dirty)
                (void) fsync_dir(c->dir);
        /* only where saves shared an fsync: never in --once (one job) */
        if (c->batches < c->saves)
                log_info("group commit: %lu job saves shared %lu fsyncs of %s", c->saves, c->batches, c->dir);
        c->source = sd_event_source_disable_unref(c->source);
        free(c->v);
        *c = (struct commit) { 0 };
}
