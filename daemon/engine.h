/* engine.h — what jobs share: the event loop, the HTTP multi handle, the
 * configuration, the session keys and the job folder.  The scheduler and
 * the control socket (daemon mode) sit on top of it. */
#ifndef DEV2PROD_ENGINE_H
#define DEV2PROD_ENGINE_H

#include <systemd/sd-event.h>

#include "auth.h"
#include "commit.h"
#include "config.h"
#include "http.h"
#include "jobdata.h"

struct engine {
        sd_event *event;
        struct http *http;
        const struct config *config;    /* not owned; replaced on reload */
        char *jobs_dir;
        struct auth_cache auth;
        /* Called when a job reaches a final state, or stops without one
         * (state could not be saved: j->state is then not final). */
        void (*job_finished)(struct engine *e, struct job *j);
        /* Called at every state change (STATUS= updates). */
        void (*job_changed)(struct engine *e, struct job *j);
        /* Called at every transition before it is saved: what it adds to
         * the job (follow-ups, notify.h) is saved with it. */
        void (*job_saving)(struct engine *e, struct job *j);
        void *userdata;
        /* Jobs into one target tenant never run their dry-run and import
         * steps at the same time: the holder per tenant, and who waits. */
        struct target_lock { char *tenant; struct job *holder; } *locks;
        size_t n_locks;
        struct job **waiting;
        size_t n_waiting;
        uint32_t rnd;                   /* xorshift state for retry jitter */
        struct commit commit;           /* the job saves waiting for one folder fsync */
};

/* Logs and returns a negative errno on failure. */
int engine_init(struct engine *e, sd_event *event, const struct config *c);
/* Removes the temp files of state writes a crash interrupted in the job
 * folder (which it lists: the daemon does it after READY=1, before its
 * scan for unfinished jobs; --once before it looks for one). */
void engine_clean_temp(struct engine *e);
void engine_done(struct engine *e);
const struct tenant *engine_tenant(const struct engine *e, const char *name);
uint32_t engine_random(struct engine *e);

/* True when j may run its target-side steps now (it then holds the lock of
 * j->to until engine_target_release); false when another job holds it:
 * j is queued, and the release that gives it the lock returns it. */
bool engine_target_acquire(struct engine *e, struct job *j);
/* Drops j's lock or its place in the queue.  Returns the waiting job that
 * now holds the lock, which the caller continues, or NULL: the engine
 * keeps the queue, the machine (job.c) runs the jobs. */
struct job *engine_target_release(struct engine *e, struct job *j);

#endif
