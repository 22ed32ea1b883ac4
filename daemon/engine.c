/* engine.c — see engine.h. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "store.h"

int engine_init(struct engine *e, sd_event *event, const struct config *c) {
        int r;

        memset(e, 0, sizeof *e);
        e->event = sd_event_ref(event);
        e->config = c;
        e->rnd = (uint32_t) now_monotonic_usec() ^ ((uint32_t) getpid() << 16) ^ 0x9e3779b9u;
        r = store_open(c->state_directory, &e->jobs_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot create the job folder %s/jobs (check state_directory: "
                                       "it must be writable by the daemon)", c->state_directory);
        commit_init(&e->commit, event, e->jobs_dir);
        r = http_new(event, &e->http);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libcurl");
        return 0;
}

void engine_clean_temp(struct engine *e) {
        int r = store_clean_temp(e->jobs_dir);
        if (r > 0)
                log_info("removed %d temp file(s) of interrupted state writes in %s", r, e->jobs_dir);
}

static struct target_lock *lock_of(struct engine *e, const char *tenant) {
        for (size_t i = 0; i < e->n_locks; i++)
                if (streq(e->locks[i].tenant, tenant))
                        return &e->locks[i];
        e->locks = xrealloc(e->locks, (e->n_locks + 1) * sizeof *e->locks);
        e->locks[e->n_locks] = (struct target_lock) { .tenant = xstrdup(tenant) };
        return &e->locks[e->n_locks++];
}

bool engine_target_acquire(struct engine *e, struct job *j) {
        struct target_lock *l = lock_of(e, j->to.name);
        if (!l->holder || l->holder == j) {
                l->holder = j;
                return true;
        }
        for (size_t i = 0; i < e->n_waiting; i++)
                if (e->waiting[i] == j)
                        return false;
        e->waiting = xrealloc(e->waiting, (e->n_waiting + 1) * sizeof *e->waiting);
        e->waiting[e->n_waiting++] = j;
        return false;
}

struct job *engine_target_release(struct engine *e, struct job *j) {
        struct target_lock *l;

        for (size_t i = 0; i < e->n_waiting; i++)
                if (e->waiting[i] == j) {
                        memmove(&e->waiting[i], &e->waiting[i + 1], (e->n_waiting - i - 1) * sizeof *e->waiting);
                        e->n_waiting--;
                        break;
                }
        l = lock_of(e, j->to.name);
        if (l->holder != j)
                return NULL;
        l->holder = NULL;
        /* first come, first served */
        for (size_t i = 0; i < e->n_waiting; i++) {
                struct job *w = e->waiting[i];
                if (!streq(w->to.name, j->to.name))
                        continue;
                memmove(&e->waiting[i], &e->waiting[i + 1], (e->n_waiting - i - 1) * sizeof *e->waiting);
                e->n_waiting--;
                l->holder = w;
                return w;
        }
        return NULL;
}

void engine_done(struct engine *e) {
        commit_done(&e->commit);
        for (size_t i = 0; i < e->n_locks; i++)
                free(e->locks[i].tenant);
        free(e->locks);
        free(e->waiting);
        http_free(e->http);
        auth_cache_clear(&e->auth);
        free(e->jobs_dir);
        sd_event_unref(e->event);
        memset(e, 0, sizeof *e);
}

const struct tenant *engine_tenant(const struct engine *e, const char *name) {
        return name ? config_find_tenant(e->config, name) : NULL;
}

uint32_t engine_random(struct engine *e) {
        uint32_t x = e->rnd;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return e->rnd = x;
}
