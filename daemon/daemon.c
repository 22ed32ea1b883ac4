/* daemon.c — see daemon.h. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "deliver.h"
#include "engine.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "resolve.h"
#include "notify.h"
#include "scheduler.h"
#include "store.h"

struct slot {
        struct job *job;
        bool started;           /* job_run was called */
        bool done;              /* finished: freed by the reaper */
        /* awaiting approval and not approved: not counted in `running`, so
         * that a job waiting hours for a person does not keep max_parallel
         * jobs of other promotions from starting.  Approved, it counts
         * again at once (it does not wait for a slot: it was running). */
        bool parked;
        /* created during the scan after start-up without looking for its
         * file: looked for when the scan ends, before any job starts
         * (create_job(), verify_created()) */
        bool unverified;
};

struct daemon {
        sd_event *event;
        struct engine engine;
        struct config *config;
        struct scheduler sched;
        sd_event_source *sched_timer, *status_timer, *reaper;
        sd_event_source *clock_watch;   /* the realtime clock was set: schedule() again */
        sd_event_source *prune_timer;   /* retention, see on_prune_timer() */
        unsigned prune_unreadable;      /* last count logged */
        struct slot *slots;
        size_t n_slots, cap_slots;
        /* during a scheduler pass: the promotions with an active job (see
         * schedule()); NULL otherwise */
        struct strset *pass_busy;
        unsigned running;
        struct control *control;
        struct deliver *deliver;        /* follow-ups: notifications, chained jobs */
        int lock_fd;
        struct held { char *promotion, *path; } *held;  /* see held_by() */
        size_t n_held;
        struct metrics *metrics;        /* metrics_file (metrics.h) */
        /* The job folder is read for unfinished jobs after READY=1, in
         * steps (resume_step()); meanwhile no job starts and requests that
         * act on jobs are refused. */
        struct store_scan *scan;
        sd_event_source *scan_source;
        bool scanning;
        size_t n_resumed;
        bool queue_in_file;             /* schedule.json lists queued jobs (scheduler.h) */
        /* on_due()'s lines before READY=1, written just after it (due_log()) */
        struct early_line { int prio; char *text; } *early;
        size_t n_early;
        bool hold_log;
        char status[1024];              /* last STATUS= sent */
        uint64_t status_usec;           /* when (CLOCK_MONOTONIC) */
};

static void update_status(struct daemon *d);
static void start_more(struct daemon *d);
static void settle_queue(struct daemon *d);
static int save_schedule(struct daemon *d);
static const char *held_by(struct daemon *d, const char *promotion);
static void feed_metrics(struct daemon *d, const struct job *ended);

/* ---- jobs ---------------------------------------------------------------- */

static struct slot *slot_of_promotion(struct daemon *d, const char *promotion) {
        for (size_t i = 0; i < d->n_slots; i++)
                if (!d->slots[i].done && streq(d->slots[i].job->promotion, promotion))
                        return &d->slots[i];
        return NULL;
}

static struct slot *slot_of_id(struct daemon *d, const char *id) {
        for (size_t i = 0; i < d->n_slots; i++)
                if (!d->slots[i].done && streq(d->slots[i].job->id, id))
                        return &d->slots[i];
        return NULL;
}

static void add_slot(struct daemon *d, struct job *j) {
        if (d->n_slots == d->cap_slots) {       /* 1,000 due at once: not 1,000 copies */
                d->cap_slots = d->cap_slots ? 2 * d->cap_slots : 16;
                d->slots = xrealloc(d->slots, d->cap_slots * sizeof *d->slots);
        }
        d->slots[d->n_slots++] = (struct slot) { .job = j };
        j->engine = &d->engine;
        if (d->pass_busy)
                strset_add(d->pass_busy, j->promotion);
}

/* Jobs are freed here, outside the job code that reported the end. */
static int on_reap(sd_event_source *s, void *userdata) {
        struct daemon *d = userdata;
        bool ended = false;
        for (size_t i = 0; i < d->n_slots;) {
                if (!d->slots[i].done) {
                        i++;
                        continue;
                }
                if (!deliver_release(d->deliver, d->slots[i].job))
                        job_free(d->slots[i].job);
                d->slots[i] = d->slots[--d->n_slots];
                ended = true;
        }
        if (ended)      /* a chained job may have waited for this one */
                deliver_retry_waiting(d->deliver);
        start_more(d);
        settle_queue(d);
        update_status(d);
        return 0;
}

static void on_job_finished(struct engine *e, struct job *j) {
        struct daemon *d = e->userdata;
        for (size_t i = 0; i < d->n_slots; i++)
                if (d->slots[i].job == j && !d->slots[i].done) {
                        d->slots[i].done = true;
                        if (d->slots[i].started && !d->slots[i].parked)
                                d->running--;
                }
        /* A job that could never be saved has said so itself (job.c save()). */
        if (!job_state_is_final(j->state) && j->on_disk)
                log_warning("job %s stopped in state %s; it resumes at the next start", j->id,
                            job_state_to_string(j->state));
        sd_event_source_set_enabled(d->reaper, SD_EVENT_ONESHOT);
        feed_metrics(d, j);
}

static bool awaits_approval(const struct job *j) {
        return j->state == JOB_AWAITING_APPROVAL && !j->approved.user;
}

/* See struct slot, parked.  The reaper starts the jobs a freed slot lets
 * in, outside the job code that reported the change. */
static void park(struct daemon *d, struct job *j) {
        for (size_t i = 0; i < d->n_slots; i++) {
                struct slot *s = &d->slots[i];
                if (s->job != j || !s->started || s->done || s->parked == awaits_approval(j))
                        continue;
                s->parked = !s->parked;
                if (s->parked) {
                        d->running--;
                        sd_event_source_set_enabled(d->reaper, SD_EVENT_ONESHOT);
                } else
                        d->running++;
        }
}

static void on_job_changed(struct engine *e, struct job *j) {
        park(e->userdata, j);
        update_status(e->userdata);
        feed_metrics(e->userdata, NULL);
        deliver_job(((struct daemon *) e->userdata)->deliver, j);
}

/* Before a transition is saved: the notifications and chained jobs it
 * asks for join the same save (notify.h). */
static void on_job_saving(struct engine *e, struct job *j) {
        size_t n = notify_plan(e->config, e->jobs_dir, j, now_realtime_usec());
        enum notify_event ev = notify_event_of(j);
        char **down;

        if (ev == NOTIFY_NONE || ev == NOTIFY_SUCCEEDED || ev == NOTIFY_AWAITING_APPROVAL || !job_state_is_final(j->state))
                return;
        if (!(down = notify_downstream(e->config, j->promotion)))
                return;
        _cleanup_free_ char *list = NULL;
        for (size_t i = 0; down[i]; i++) {
                char *l = xasprintf("%s%s%s", strempty(list), list ? ", " : "", down[i]);
                free(list);
                list = l;
        }
        struct log_ctx c = { .job = j->id, .promotion = j->promotion };
        log_full(LOG_WARNING, 0, &c, MSGID_CHAIN_STOPPED, "the chain stops here: %s did not succeed, so %s do(es) "
                 "not run%s", j->id, list, n ? " (the failure notification says so)" : "");
        notify_strv_free(down);
}

static void start_more(struct daemon *d) {
        if (d->scanning)
                return;         /* an unfinished job found later may have to run first */
        for (size_t i = 0; i < d->n_slots && d->running < d->config->max_parallel; i++) {
                struct slot *s = &d->slots[i];
                if (s->started || s->done)
                        continue;
                s->started = true;
                d->running++;
                job_run(s->job, &d->engine);    /* may finish at once: the reaper frees it */
        }
}

/* The jobs waiting for a slot, counted up to limit at most. */
static size_t count_queued(const struct daemon *d, size_t limit) {
        size_t n = 0;
        for (size_t i = 0; i < d->n_slots && n < limit; i++)
                if (!d->slots[i].done && !d->slots[i].started)
                        n++;
        return n;
}

static size_t queued(const struct daemon *d) { return count_queued(d, SIZE_MAX); }

/* running + queued < max_parallel, counting no further than needed: with
 * 1,000 jobs created in one pass, counting them all for each was O(n²) */
static bool room_for_one(const struct daemon *d) {
        size_t max = d->config->max_parallel;
        return d->running < max && d->running + count_queued(d, max - d->running) < max;
}

/* A job that never started nor was saved leaves its slot (it is freed). */
static void forget_unstarted(struct daemon *d, struct slot *s) {
        job_free(s->job);
        *s = d->slots[--d->n_slots];
}

/* A scheduled job's file exists: it was made before a crash or by an
 * earlier start, and is never made twice (logged). */
static bool ran_already(struct daemon *d, const char *promotion, const char *id) {
        _cleanup_free_ char *path = store_job_path(d->engine.jobs_dir, id);
        if (access(path, F_OK) < 0)
                return false;
        log_info("%s: the job for this due time exists already (%s)", promotion, id);
        return true;
}

/* Running = started jobs that are not waiting for their target tenant
 * (engine_target_acquire); queued = those, and the jobs waiting for a slot
 * (max_parallel): both are waits an operator may want to see. */
static void metrics_gauges(void *userdata, struct metrics_gauges *ret) {
        struct daemon *d = userdata;
        unsigned tenant_wait = (unsigned) MIN((size_t) d->running, d->engine.n_waiting);
        ret->running = d->running - tenant_wait;
        ret->queued = (unsigned) queued(d) + tenant_wait;
        ret->awaiting_approval = 0;
        for (size_t i = 0; i < d->n_slots; i++)
                ret->awaiting_approval += d->slots[i].parked && !d->slots[i].done;
}

static void feed_metrics(struct daemon *d, const struct job *ended) {
        metrics_update(d->metrics, ended);
}

/* Creates a job; the caller has checked that none is active and calls
 * start_more() next.  A scheduled job is not saved here: one that gets a
 * slot is saved by its first transition in job_run(), before anything is
 * sent, and one that must wait (or any, before READY=1) is listed in
 * schedule.json's "queued" by the save that records its due time as
 * handled (schedule(), record_queue()).  Saving each waiting job here cost
 * a fsync apiece: 1,000 due at once held READY=1 back by seconds.  A
 * manual run that must wait is saved now: no schedule.json save follows. */
static int create_job(struct daemon *d, const struct promotion *p, uint64_t due_usec, bool manual, char **ret_id,
                      unsigned folded) {
        _cleanup_free_ char *id = manual ? store_new_job_id(d->engine.jobs_dir, p->name, due_usec)
                                         : store_job_id_for(p->name, due_usec);
        bool starts_now = room_for_one(d);
        struct job *j;
        int r;

        /* While the job folder is read after start-up (no job runs then),
         * the look for its file is left to the end of that scan: with 1,000
         * promotions due at once, an access() each held READY=1 back. */
        if (!manual && !d->scanning && ran_already(d, p->name, id))
                return -EEXIST;
        j = job_new(id, p, due_usec);
        j->folded_due_times = folded;
        r = starts_now || !manual ? 0 : store_save(d->engine.jobs_dir, j);
        if (r < 0) {
                log_error_errno(r, "%s: cannot create job %s in %s; this run is skipped (free space or "
                                "fix permissions there)", p->name, id, d->engine.jobs_dir);
                job_free(j);
                return r;
        }
        add_slot(d, j);
        d->slots[d->n_slots - 1].unverified = !manual && d->scanning;
        if (ret_id)
                *ret_id = xstrdup(id);
        return 0;
}

/* The end of the scan, before any job starts: a scheduled job created
 * meanwhile whose file exists was run already (create_job()). */
static void verify_created(struct daemon *d) {
        for (size_t i = 0; i < d->n_slots;) {
                struct slot *s = &d->slots[i];
                bool unverified = s->unverified;
                s->unverified = false;
                if (unverified && !s->started && !s->job->on_disk && ran_already(d, s->job->promotion, s->job->id))
                        forget_unstarted(d, s);
                else
                        i++;
        }
}

/* The job of a chained promotion (after:), for deliver.c: saved before it
 * returns, so the upstream's follow-up can be marked done; started by the
 * reaper (not from inside the deliverer's loop over its jobs). */
static int create_chained(void *userdata, const struct promotion *p, const char *id, const char *upstream) {
        struct daemon *d = userdata;
        _cleanup_free_ char *path = store_job_path(d->engine.jobs_dir, id);
        struct job *j;
        int r;

        if (d->scanning)
                return -EAGAIN;         /* an unfinished job of p may not be known yet */
        if (slot_of_promotion(d, p->name) || held_by(d, p->name))
                return -EBUSY;          /* it queues behind the active one */
        if (access(path, F_OK) == 0)
                return -EEXIST;
        j = job_new(id, p, now_realtime_usec());
        j->triggered_by = xstrdup(upstream);
        r = store_save(d->engine.jobs_dir, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        add_slot(d, j);
        sd_event_source_set_enabled(d->reaper, SD_EVENT_ONESHOT);
        return 0;
}

/* ---- the control socket (control.h) -------------------------------------- */

/* Requests that act on jobs wait for the scan of the job folder after
 * start-up: until it ends, an unfinished job may be unknown. */
static int scanning(struct daemon *d, char **ret_err) {
        if (!d->scanning)
                return 0;
        *ret_err = xasprintf("the daemon is still reading %s for unfinished jobs after its start (%zu files); "
                             "try again in a few seconds", d->engine.jobs_dir, store_scan_size(d->scan));
        return -EAGAIN;
}

/* run NAME: refused when the promotion is unknown or a job of it is
 * active or held. */
static int on_request_run(void *userdata, const char *name, char **ret_id, char **ret_err) {
        struct daemon *d = userdata;
        const struct promotion *p = config_find_promotion(d->config, name);
        const char *held;
        struct slot *s;
        int r;

        if ((r = scanning(d, ret_err)) < 0)
                return r;
        if (!p) {
                *ret_err = xasprintf("no promotion named '%s' in %s", name, d->config->path);
                return -ENOENT;
        }
        if ((s = slot_of_promotion(d, name))) {
                *ret_err = xasprintf("job %s of %s is still %s", s->job->id, name,
                                     s->started ? "running" : "queued");
                return -EBUSY;
        }
        if ((held = held_by(d, name))) {
                *ret_err = xasprintf("%s cannot be read and may hold an unfinished job of %s; inspect it and "
                                     "move it out of %s first", held, name, d->engine.jobs_dir);
                return -EBUSY;
        }
        r = create_job(d, p, now_realtime_usec(), true, ret_id, 0);
        if (r < 0) {
                *ret_err = xasprintf("cannot create the job: %s", strerror(-r));
                return r;
        }
        log_info("%s: run requested through the control socket: job %s", name, *ret_id);
        start_more(d);
        update_status(d);
        return 0;
}

static bool on_request_job(void *userdata, const char *id) { return slot_of_id(userdata, id) != NULL; }

static int on_request_cancel(void *userdata, const char *id, char **ret_err) {
        struct slot *s = slot_of_id(userdata, id);
        int r;
        if ((r = scanning(userdata, ret_err)) < 0)
                return r;
        if (!s) {
                *ret_err = xasprintf("no running or queued job '%s'", id);
                return -ENOENT;
        }
        job_cancel(s->job, "cancelled by an operator (dev2prodctl cancel)");
        return 0;
}

static struct job_decision decision_of(const struct control_peer *who) {
        return (struct job_decision) { .user = (char *) who->user, .uid = who->uid };
}

/* The running job id, or NULL with *ret_err saying what the job is. */
static struct slot *awaiting_slot(struct daemon *d, const char *id, char **ret_err) {
        struct slot *s = slot_of_id(d, id);
        _cleanup_free_ char *path = NULL, *err = NULL, *res = NULL;
        struct job *j = NULL;

        if (scanning(d, ret_err) < 0)
                return NULL;

        if (s && s->started)
                return s;
        path = store_id_valid(id) ? store_job_path(d->engine.jobs_dir, id) : NULL;
        if (path && store_load(path, &j, &err) >= 0)
                res = job_result_text(j);
        *ret_err = res ? xasprintf("job %s is %s, not awaiting approval", id, res)
                       : xasprintf("no job '%s' awaiting approval (dev2prodctl jobs lists the unfinished ones)", id);
        job_free(j);
        return NULL;
}

static int on_request_approve(void *userdata, const char *id, const struct control_peer *who, char **ret_err) {
        struct slot *s = awaiting_slot(userdata, id, ret_err);
        struct job_decision dec = decision_of(who);
        return s ? job_approve(s->job, &dec, ret_err) : -ENOENT;
}

static int on_request_reject(void *userdata, const char *id, const char *reason, const struct control_peer *who,
                             char **ret_err) {
        struct slot *s = awaiting_slot(userdata, id, ret_err);
        struct job_decision dec = decision_of(who);
        return s ? job_reject(s->job, &dec, reason, ret_err) : -ENOENT;
}

/* A job of promotion newer than id that entered its import: it may have
 * imported a newer package, which sending id's import again would replace
 * (the promise `superseded` keeps, job.c).  Its id, or NULL. */
static char *newer_import(struct daemon *d, const char *promotion, const char *id) {
        char **ids = NULL;
        size_t n = 0;
        char *found = NULL;

        if (store_list(d->engine.jobs_dir, &ids, &n) < 0)
                return xstrdup("(the job folder cannot be listed)");    /* fail closed */
        for (size_t i = 0; i < n && !found; i++) {
                _cleanup_free_ char *p = store_id_promotion(ids[i]), *path = NULL, *err = NULL;
                struct job *j = NULL;
                if (!streq_ptr(p, promotion) || strcmp(ids[i], id) <= 0)
                        continue;
                path = store_job_path(d->engine.jobs_dir, ids[i]);
                if (store_load(path, &j, &err) < 0 || j->steps[JOB_IMPORT].started_usec)
                        found = xstrdup(ids[i]);        /* unreadable: it may have */
                job_free(j);
        }
        strv_free_n(ids, n);
        return found;
}

/* resolve JOB imported|not-imported (resolve.h).  The old job's file is
 * saved first, then the new job's: an interrupted resolve --not-imported
 * leaves old naming the job to make, and the next resolve makes that very
 * job (or finds it made), so there is never a second one. */
static int on_request_resolve(void *userdata, const char *id, bool imported, const struct control_peer *who,
                              char **ret_id, char **ret_err) {
        struct daemon *d = userdata;
        struct job_decision dec = decision_of(who);
        _cleanup_free_ char *path = NULL, *err = NULL, *newer = NULL, *new_id = NULL, *new_path = NULL;
        const struct promotion *p;
        struct job *old = NULL, *nj;
        bool borrowed = false;          /* old is the deliverer's */
        int r;

        if ((r = scanning(d, ret_err)) < 0)
                return r;
        if (!store_id_valid(id)) {
                *ret_err = xasprintf("'%s' is not a job id", id);
                return -EINVAL;
        }
        path = store_job_path(d->engine.jobs_dir, id);
        old = deliver_find(d->deliver, id);     /* see deliver_find */
        if (old)
                borrowed = true;
        else if ((r = store_load(path, &old, &err)) < 0) {
                *ret_err = xasprintf("cannot read job %s: %s", id, err ? err : strerror(-r));
                return r;
        }
        r = resolve_check(old, imported, ret_err);
        if (r < 0)
                goto out;
        if (imported) {
                resolve_as_imported(old, &dec);
                /* Its ending is now "succeeded": the notifications and the
                 * chained jobs that asks for join this save, as they join
                 * a transition's (job_saving), and are delivered below. */
                old->engine = &d->engine;
                if (d->engine.job_saving)
                        d->engine.job_saving(&d->engine, old);
                r = store_save(d->engine.jobs_dir, old);
                if (r < 0) {
                        *ret_err = xasprintf("cannot save job %s in %s: %s; nothing changed", id,
                                             d->engine.jobs_dir, strerror(-r));
                        goto out;
                }
                log_full(LOG_NOTICE, 0, &(struct log_ctx) { .job = old->id, .promotion = old->promotion },
                         MSGID_JOB_RESOLVED, "resolved by %s (uid %u): imported; %s", dec.user, dec.uid, old->message);
                if (d->engine.job_finished)     /* its ending changed: the hooks hear it again */
                        d->engine.job_finished(&d->engine, old);
                deliver_job(d->deliver, old);
                if (borrowed || deliver_release(d->deliver, old))
                        old = NULL;             /* the deliverer frees it once its follow-ups are done */
                *ret_id = xstrdup(id);
                goto out;
        }
        p = config_find_promotion(d->config, old->promotion);
        if (!p) {
                *ret_err = xasprintf("promotion %s is no longer in %s; its tenants' credentials are needed to "
                                     "send the import again", old->promotion, d->config->path);
                r = -ENOENT;
                goto out;
        }
        new_id = old->resolved_by_job ? xstrdup(old->resolved_by_job)
                                      : store_new_job_id(d->engine.jobs_dir, p->name, now_realtime_usec());
        new_path = store_job_path(d->engine.jobs_dir, new_id);
        if (old->resolved_by_job && access(new_path, F_OK) == 0) {
                *ret_err = xasprintf("job %s was resolved already: job %s sends its import again", id, new_id);
                r = -EALREADY;
                goto out;
        }
        if (slot_of_promotion(d, p->name) || held_by(d, p->name)) {
                *ret_err = xasprintf("a job of %s is running, queued or held; resolve when it has ended", p->name);
                r = -EBUSY;
                goto out;
        }
        newer = newer_import(d, p->name, old->resolved_by_job ? new_id : id);
        if (newer) {
                *ret_err = xasprintf("job %s of %s is newer and reached its import: sending the import of the older "
                                     "job %s again could replace a newer package. Run the promotion instead",
                                     newer, p->name, id);
                r = -EBUSY;
                goto out;
        }
        nj = resolve_new_job(old, p, new_id, ret_err);
        if (!nj) {
                r = -EINVAL;
                goto out;
        }
        if (!old->resolved_by_job) {
                resolve_mark_not_imported(old, &dec, new_id);
                r = store_save(d->engine.jobs_dir, old);
                if (r < 0) {
                        *ret_err = xasprintf("cannot save job %s in %s: %s; nothing changed", id, d->engine.jobs_dir,
                                             strerror(-r));
                        job_free(nj);
                        goto out;
                }
        }
        r = store_save(d->engine.jobs_dir, nj);
        if (r < 0) {
                *ret_err = xasprintf("cannot save the new job %s in %s: %s; run the same resolve again once the "
                                     "disk is fixed (it makes this job, never a second one)", new_id,
                                     d->engine.jobs_dir, strerror(-r));
                job_free(nj);
                goto out;
        }
        log_full(LOG_NOTICE, 0, &(struct log_ctx) { .job = old->id, .promotion = old->promotion }, MSGID_JOB_RESOLVED,
                 "resolved by %s (uid %u): not imported; job %s dry-runs file %s on tenant %s again and then "
                 "imports it", dec.user, dec.uid, new_id, old->target_file_id, old->to.name);
        add_slot(d, nj);
        *ret_id = xstrdup(new_id);
        start_more(d);
        update_status(d);
out:
        if (!borrowed)
                job_free(old);
        return r < 0 ? r : 0;
}

static const struct control_handler control_handler = {
        .run = on_request_run,
        .cancel = on_request_cancel,
        .has_job = on_request_job,
        .approve = on_request_approve,
        .reject = on_request_reject,
        .resolve = on_request_resolve,
};

/* A job file that cannot be read holds its promotion: it may be an
 * unfinished job, perhaps one whose import was sent, and another job of
 * the promotion could import twice.  The hold ends when the file is gone
 * (an operator moved it away) or can be read again. */
static const char *held_by(struct daemon *d, const char *promotion) {
        for (size_t i = 0; i < d->n_held; i++)
                if (streq(d->held[i].promotion, promotion)) {
                        _cleanup_free_ char *err = NULL;
                        struct job *j = NULL;
                        if (store_load(d->held[i].path, &j, &err) == -ENOENT || (j && job_state_is_final(j->state))) {
                                log_notice("%s: %s is gone or finished; the promotion runs again", promotion,
                                           d->held[i].path);
                                job_free(j);
                                free(d->held[i].promotion);
                                free(d->held[i].path);
                                d->held[i] = d->held[--d->n_held];
                                return NULL;
                        }
                        job_free(j);
                        return d->held[i].path;
                }
        return NULL;
}

static void hold(struct daemon *d, const char *promotion, const char *id) {
        d->held = xrealloc(d->held, (d->n_held + 1) * sizeof *d->held);
        d->held[d->n_held++] = (struct held) { xstrdup(promotion), store_job_path(d->engine.jobs_dir, id) };
        log_error("%s: %s cannot be read and may hold an unfinished job; the promotion is held (no new job "
                  "starts) until the file is inspected and moved out of %s", promotion,
                  d->held[d->n_held - 1].path, d->engine.jobs_dir);
}

/* A scheduled job created before the scan found an unfinished job (or an
 * unreadable file) of its promotion: it never started nor was saved, and
 * the older job runs first, as on_due() skips a due time while a job of
 * the promotion is active. */
static void drop_queued(struct daemon *d, const char *promotion, const char *why) {
        struct slot *s = slot_of_promotion(d, promotion);
        if (!s || s->started || s->job->on_disk)
                return;
        log_warning("%s: skipping the run due with job %s: %s", promotion, s->job->id, why);
        forget_unstarted(d, s);
}

static int resume_one(struct store_entry *e, void *userdata) {
        struct daemon *d = userdata;
        struct job *j = e->job;
        if (!j && e->promotion)
                drop_queued(d, e->promotion, "a job file of the promotion cannot be read");
        else if (j && !job_state_is_final(j->state))
                drop_queued(d, j->promotion, "an unfinished job of the promotion was found, it runs first");
        if (!j) {
                if (e->promotion && config_find_promotion(d->config, e->promotion))
                        hold(d, e->promotion, e->id);
                else if (e->promotion)
                        log_warning("%s: not a promotion of %s; the file is left alone", e->id, d->config->path);
                return 0;
        }
        if (job_state_is_final(j->state)) {     /* only its follow-ups are left to do */
                j->engine = &d->engine;
                deliver_job(d->deliver, j);
                if (!deliver_release(d->deliver, j))
                        job_free(j);
                return 0;
        }
        if (e->newer_id)
                j->superseded_by = xstrdup(e->newer_id);
        if (slot_of_promotion(d, j->promotion)) {
                log_warning("job %s: another unfinished job of %s runs first", j->id, j->promotion);
                job_free(j);
                return 0;
        }
        add_slot(d, j);
        return 0;
}

/* The scan of the job folder for unfinished jobs, after READY=1: a step of
 * RESUME_STEP files per loop iteration (about 30 ms on a 2-core VM), so
 * the watchdog, signals and the control socket are served meanwhile,
 * whatever the history's size.  Jobs start when it ends. */
#define RESUME_STEP 500

static void scan_done(struct daemon *d) {
        log_info("read %zu job file(s) in %s for unfinished jobs after start-up; jobs may start now",
                 d->scan ? store_scan_size(d->scan) : (size_t) 0, d->engine.jobs_dir);
        store_scan_free(d->scan);
        d->scan = NULL;
        d->scanning = false;
        sd_event_source_set_enabled(d->scan_source, SD_EVENT_OFF);
        if (d->n_resumed)
                log_notice("resuming %zu unfinished job(s)", d->n_resumed);
        verify_created(d);
        deliver_retry_waiting(d->deliver);
        start_more(d);
        if (d->queue_in_file)           /* the queue as it is now (started, or dropped) */
                (void) save_schedule(d);
        update_status(d);
}

static int resume_step(sd_event_source *s, void *userdata) {
        struct daemon *d = userdata;
        size_t before = d->n_slots;
        int r;

        if (!d->scan)
                engine_clean_temp(&d->engine);  /* no save of ours is in flight between loop turns */
        if (!d->scan && store_scan_open(d->engine.jobs_dir, false, &d->scan) < 0) {
                scan_done(d);
                return 0;
        }
        r = store_scan_step(d->scan, RESUME_STEP, resume_one, d);
        d->n_resumed += d->n_slots > before ? d->n_slots - before : 0;
        if (r != 0)
                scan_done(d);
        return 0;
}

/* ---- schedule ------------------------------------------------------------ */

/* on_due()'s lines: before READY=1 they are kept and written just after
 * it (flush_early_log()).  With 1,000 promotions due at once, a line each
 * (a write(2), or a message to the journal) was half of what READY=1
 * waited for beyond an idle start (issue 14).  What READY=1 promises does
 * not depend on them: the due times are in schedule.json. */
_printf_(3, 4)
static void due_log(struct daemon *d, int prio, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *text = xvasprintf(fmt, ap);
        va_end(ap);
        if (!d->hold_log) {
                log_full(prio, 0, NULL, NULL, "%s", text);
                free(text);
                return;
        }
        d->early = xrealloc(d->early, (d->n_early + 1) * sizeof *d->early);
        d->early[d->n_early++] = (struct early_line) { prio, text };
}

static void flush_early_log(struct daemon *d) {
        d->hold_log = false;
        for (size_t i = 0; i < d->n_early; i++) {
                log_full(d->early[i].prio, 0, NULL, NULL, "%s", d->early[i].text);
                free(d->early[i].text);
        }
        free(d->early);
        d->early = NULL;
        d->n_early = 0;
}

static void on_due(void *userdata, const struct promotion *p, time_t due, bool missed, unsigned folded) {
        struct daemon *d = userdata;
        const char *held;
        struct slot *s;
        char when[64];
        struct tm tm;

        localtime_r(&due, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
        if (missed && !p->catch_up) {
                due_log(d, LOG_NOTICE, "%s: skipping the run due at %s, missed while the daemon was down (catch_up: false); "
                           "%u due time(s) missed in all", p->name, when, folded);
                return;
        }
        /* the set answers "none" without a walk over every slot */
        if ((!d->pass_busy || strset_has(d->pass_busy, p->name)) && (s = slot_of_promotion(d, p->name))) {
                due_log(d, LOG_WARNING, "%s: skipping the run due at %s: job %s is still %s", p->name, when, s->job->id,
                            s->started ? "running" : "queued");
                return;
        }
        if ((held = held_by(d, p->name))) {
                due_log(d, LOG_ERR, "%s: skipping the run due at %s: %s cannot be read and may hold an unfinished job; "
                          "inspect it and move it out of %s", p->name, when, held, d->engine.jobs_dir);
                return;
        }
        /* a catch-up job records how many due times it stands for */
        if (create_job(d, p, (uint64_t) due * USEC_PER_SEC, false, NULL, missed || folded > 1 ? folded : 0) < 0)
                return;
        if (folded > 1)
                due_log(d, LOG_NOTICE, "%s: catching up on the run due at %s: %u due times missed while the daemon was down, "
                           "folded into one catch-up job", p->name, when, folded);
        else
                due_log(d, LOG_INFO, "%s: %s due at %s", p->name, missed ? "catching up on the run" : "run", when);
}

/* The due times whose job was created and never saved before the daemon
 * stopped (schedule.json "queued", see record_queue()): their jobs are
 * created again, before any new due time, whatever catch_up says (they
 * were accepted to run).  One whose job file exists was saved after all. */
static void requeue(struct daemon *d) {
        for (size_t i = 0; i < d->sched.n; i++) {
                const struct sched_entry *e = &d->sched.v[i];
                const struct promotion *p = e->queued_due ? config_find_promotion(d->config, e->promotion) : NULL;
                uint64_t due_usec = (uint64_t) e->queued_due * USEC_PER_SEC;
                _cleanup_free_ char *id = NULL;

                /* one whose file exists is found by create_job(), at once or
                 * at the end of the scan */
                if (!p || !p->cron || slot_of_promotion(d, p->name) || held_by(d, p->name))
                        continue;
                if (create_job(d, p, due_usec, false, &id, e->queued_folded > 1 ? e->queued_folded : 0) >= 0)
                        log_notice("%s: job %s was queued when the daemon stopped; it is queued again", p->name, id);
        }
}

/* Lists the jobs that have no file yet in the scheduler's "queued", for the
 * next save of schedule.json.  Returns how many. */
static size_t record_queue(struct daemon *d) {
        size_t n = 0;
        scheduler_clear_queued(&d->sched);
        for (size_t i = 0; i < d->n_slots; i++) {
                const struct job *j = d->slots[i].job;
                if (d->slots[i].done || j->on_disk)
                        continue;
                scheduler_set_queued(&d->sched, j->promotion, (time_t) (j->due_usec / USEC_PER_SEC),
                                     MAX(j->folded_due_times, 1u));
                n++;
        }
        return n;
}

static int save_schedule(struct daemon *d) {
        int r;
        size_t n = record_queue(d);

        r = scheduler_save(&d->sched);
        if (r < 0)
                log_warning_errno(r, "cannot save %s (due times missed while down may be missed)", d->sched.path);
        else
                d->queue_in_file = n > 0;
        return r;
}

/* Once every job listed as queued in schedule.json has its own file, the
 * list is dropped (one save): a stale entry would make a restart look for
 * a job file that history_keep may have removed since. */
static void settle_queue(struct daemon *d) {
        if (!d->queue_in_file)
                return;
        for (size_t i = 0; i < d->n_slots; i++)
                if (!d->slots[i].done && !d->slots[i].job->on_disk)
                        return;
        (void) save_schedule(d);
}

static int on_sched_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void schedule(struct daemon *d) {
        time_t next;

        /* the promotions with an active job, looked up once for the pass
         * (on_due()); add_slot() adds each job the pass creates */
        struct strset busy = {};
        for (size_t i = 0; i < d->n_slots; i++)
                if (!d->slots[i].done)
                        strset_add(&busy, d->slots[i].job->promotion);
        d->pass_busy = &busy;
        scheduler_run(&d->sched, d->config, time(NULL), on_due, d);
        d->pass_busy = NULL;
        strset_free(&busy);
        /* Started (hence saved) before the due times are recorded as
         * handled, and those still without a file listed as queued in the
         * same save: a crash in between finds the job files or the old
         * schedule.json, and never runs a due time twice, nor loses one.
         * Nothing starts before the scan for unfinished jobs has ended
         * (start_more()). */
        start_more(d);
        (void) save_schedule(d);
        next = scheduler_next(&d->sched, NULL);
        if (!next) {
                sd_event_source_set_enabled(d->sched_timer, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time(d->sched_timer, (uint64_t) next * USEC_PER_SEC);
        sd_event_source_set_enabled(d->sched_timer, SD_EVENT_ONESHOT);
}

static int on_sched_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        schedule(d);
        update_status(d);
        return 0;
}

/* The realtime clock was set (an NTP step, date -s): the timer's due time
 * may now be far off either way, so count again at once (scheduler.c,
 * clamp_future(), says how a step back is handled). */
static int on_clock_set(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct daemon *d = userdata;

        if (!scheduler_clock_watch_fired(fd))
                return 0;
        log_notice("the system clock was set; due times are counted again");
        schedule(d);
        update_status(d);
        return 0;
}

/* ---- systemd ------------------------------------------------------------- */

static bool transferring(const struct daemon *d) {
        for (size_t i = 0; i < d->n_slots; i++) {
                const struct slot *s = &d->slots[i];
                if (s->started && !s->done && job_state_transfers(s->job->state))
                        return true;
        }
        return false;
}

static size_t approval_waiting(const struct daemon *d) {
        size_t n = 0;
        for (size_t i = 0; i < d->n_slots; i++)
                if (d->slots[i].parked && !d->slots[i].done)
                        n++;
        return n;
}

static void send_status(struct daemon *d) {
        char line[1024], when[64];
        size_t n = 0, shown = 0, waiting = queued(d);
        const char *np = NULL;
        time_t next = scheduler_next(&d->sched, &np);

        n += (size_t) snprintf(line + n, sizeof line - n, "%u running", d->running);
        if (approval_waiting(d))
                n += (size_t) snprintf(line + n, sizeof line - n, ", %zu awaiting approval", approval_waiting(d));
        if (waiting)
                n += (size_t) snprintf(line + n, sizeof line - n, ", %zu queued", waiting);
        for (size_t i = 0; i < d->n_slots && shown < 3 && n < sizeof line - 200; i++) {
                const struct slot *s = &d->slots[i];
                if (!s->started || s->done)
                        continue;
                _cleanup_free_ char *p = job_describe_progress(s->job);
                n += (size_t) snprintf(line + n, sizeof line - n, "; %s: %s", s->job->promotion, p);
                shown++;
        }
        if (next && n < sizeof line - 128) {
                struct tm tm;
                localtime_r(&next, &tm);
                strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
                snprintf(line + n, sizeof line - n, "; next: %s at %s", np, when);
        }
        if (!streq(line, d->status))
                sd_notifyf(false, "STATUS=%s", line);
        snprintf(d->status, sizeof d->status, "%s", line);
        d->status_usec = now_monotonic_usec();
        /* progress only moves during transfers: tick only then, so an idle
         * daemon wakes for nothing but its timers and the watchdog */
        if (transferring(d)) {
                sd_event_source_set_time(d->status_timer, d->status_usec + 2 * USEC_PER_SEC);
                sd_event_source_set_enabled(d->status_timer, SD_EVENT_ONESHOT);
        } else
                sd_event_source_set_enabled(d->status_timer, SD_EVENT_OFF);
}

/* At most one STATUS= per second: with many jobs, one after every
 * transition was a visible share of the daemon's CPU (libsystemd opens a
 * socket for each; BENCHMARKS.md).  A change within the second is sent when the second is up. */
static void update_status(struct daemon *d) {
        uint64_t due = d->status_usec + USEC_PER_SEC, at = 0;
        int enabled = SD_EVENT_OFF;

        if (!d->status_usec || now_monotonic_usec() >= due) {
                send_status(d);
                return;
        }
        sd_event_source_get_enabled(d->status_timer, &enabled);
        if (enabled != SD_EVENT_OFF && sd_event_source_get_time(d->status_timer, &at) >= 0 && at <= due)
                return;
        sd_event_source_set_time(d->status_timer, due);
        sd_event_source_set_enabled(d->status_timer, SD_EVENT_ONESHOT);
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        send_status(userdata);
        return 0;
}

/* Loading a large configuration leaves freed pieces (the YAML tree, the
 * checks' tables) in the heap: 10,000 promotions kept 6 MiB of RSS that an
 * idle daemon never uses again. */
static void give_back_memory(void) {
        (void) malloc_trim(0);
}

static void reload(struct daemon *d) {
        struct config *c = NULL;
        struct errlist errs = {};

        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
                   (unsigned long long) now_monotonic_usec(), d->config->path);
        d->status[0] = 0;               /* replace "reloading" at once when done */
        d->status_usec = 0;
        if (config_load(d->config->path, &c, &errs) < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        log_error("%s", errs.msgs[i]);
                log_error("reload refused: %zu error(s) in %s; the old configuration stays in force",
                          MAX(errs.n, (size_t) 1), d->config->path);
                errlist_free(&errs);
        } else if (!streq(c->state_directory, d->config->state_directory)) {
                log_error("reload refused: state_directory changed (%s -> %s); restart the daemon to move it",
                          d->config->state_directory, c->state_directory);
                config_free(c);
        } else {
                /* Running jobs keep their own copy of their settings; only
                 * credentials are looked up again (by tenant name). */
                config_free(d->config);
                d->config = c;
                d->engine.config = c;
                auth_cache_clear(&d->engine.auth);
                metrics_configure(d->metrics, c, now_realtime_usec());
                log_notice("configuration reloaded from %s: %zu tenant(s), %zu promotion(s)",
                           c->path, c->n_tenants, c->n_promotions);
                schedule(d);
        }
        give_back_memory();
        sd_notify(false, "READY=1");
        update_status(d);
        feed_metrics(d, NULL);
}

/* ---- retention ------------------------------------------------------------ */

/* history_keep: removes finished job files in small batches from a timer,
 * never on the start-up path: the first run is PRUNE_FIRST_USEC after
 * READY=1 (late enough that start-up and the resumed jobs' first requests
 * are done, soon enough that a daemon restarted often still thins its
 * history), then every PRUNE_INTERVAL_USEC.  A batch is at most
 * PRUNE_BATCH files (a run lists the folder and reads only the files old
 * enough to go: measured on a 2-core VM with 100,000 job files, a batch of
 * 100 holds the loop 180 ms, 130 ms of which is the listing, and a run with
 * nothing to remove 130 ms); while a batch fills up the next comes
 * PRUNE_AGAIN_USEC later, so a 100,000-file backlog is gone in under 3
 * hours with the loop free 98% of the time.  Monotonic clock: a clock step changes what is old, not when to
 * look. */
#define PRUNE_FIRST_USEC (20 * USEC_PER_SEC)
#define PRUNE_INTERVAL_USEC (10 * 60 * USEC_PER_SEC)
#define PRUNE_AGAIN_USEC (10 * USEC_PER_SEC)
#define PRUNE_BATCH 100

static void prune_again_in(struct daemon *d, uint64_t usec) {
        sd_event_source_set_time_relative(d->prune_timer, usec);
        sd_event_source_set_enabled(d->prune_timer, SD_EVENT_ONESHOT);
}

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        uint64_t keep = d->config->history_keep_usec, now = now_realtime_usec();
        struct store_prune_result res;
        char ks[32], when[64];
        int r;

        if (d->scanning) {                      /* the start-up scan lists the same files */
                prune_again_in(d, PRUNE_AGAIN_USEC);
                return 0;
        }
        if (keep == 0 || now <= keep) {         /* forever (reload may change it: look again later) */
                prune_again_in(d, PRUNE_INTERVAL_USEC);
                return 0;
        }
        history_keep_text(ks, sizeof ks, keep);
        r = store_prune(d->engine.jobs_dir, now - keep, PRUNE_BATCH, &res);
        if (r < 0)
                log_warning_errno(r, "history_keep: cannot list %s; finished job files are not removed",
                                  d->engine.jobs_dir);
        else if (res.removed)
                log_full(LOG_NOTICE, 0, NULL, MSGID_HISTORY_PRUNED,
                         "removed %u finished job file(s) older than %s; oldest kept now %s%s", res.removed, ks,
                         res.oldest_kept_usec ? format_timestamp_utc(when, sizeof when, res.oldest_kept_usec) : "-",
                         res.more ? "; more at the next run" : "");
        if (r >= 0 && res.unreadable != d->prune_unreadable) {
                if (res.unreadable)
                        log_full(LOG_WARNING, 0, NULL, MSGID_HISTORY_PRUNED,
                                 "history_keep: %u job file(s) older than %s cannot be read and are kept (one may "
                                 "hold an unfinished job: inspect them, then move them out of %s)",
                                 res.unreadable, ks, d->engine.jobs_dir);
                d->prune_unreadable = res.unreadable;
        }
        prune_again_in(d, r >= 0 && res.more ? PRUNE_AGAIN_USEC : PRUNE_INTERVAL_USEC);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;

        if (si->ssi_signo == SIGHUP) {
                reload(d);
                return 0;
        }
        sd_notify(false, "STOPPING=1\nSTATUS=stopping");
        log_notice("%s: stopping; %u running job(s) keep their saved state and resume at the next start",
                   strsignal((int) si->ssi_signo), d->running);
        for (size_t i = 0; i < d->n_slots; i++)
                job_suspend(d->slots[i].job);
        sd_event_exit(d->event, 0);
        return 0;
}

static const char *control_path(const struct config *c) {
        return c->control_socket;
}

int daemon_run(struct config *c) {
        struct daemon d = { .config = c, .lock_fd = -1 };
        const char *np = NULL;
        _cleanup_free_ char *err = NULL;
        bool setup_failed = false;
        sigset_t mask;
        int r;

        r = mkdir_p(c->state_directory, 0750);   /* group: dev2prodctl reads it */
        if (r < 0) {
                log_error_errno(r, "cannot create state_directory %s", c->state_directory);
                config_free(c);
                return 1;
        }
        r = store_lock(c->state_directory, &d.lock_fd);
        if (r < 0) {
                log_error_errno(r, "cannot lock %s/lock%s", c->state_directory,
                                r == -EBUSY ? " (another dev2prodd uses this state_directory)" : "");
                config_free(c);
                return r == -EBUSY ? 3 : 1;
        }
        if (sd_event_default(&d.event) < 0 || engine_init(&d.engine, d.event, c) < 0) {
                config_free(c);
                return 1;
        }
        d.engine.job_finished = on_job_finished;
        d.engine.job_changed = on_job_changed;
        d.engine.job_saving = on_job_saving;
        d.engine.userdata = &d;
        d.metrics = metrics_new(d.event, c->state_directory, DEV2PROD_VERSION, now_realtime_usec(), metrics_gauges, &d);
        metrics_configure(d.metrics, c, now_realtime_usec());
        r = deliver_new(&d.engine, create_chained, &d, &d.deliver);
        if (r < 0)
                log_warning_errno(r, "cannot set up notifications; none are sent by this run (they stay "
                                  "recorded in the job files)");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* Without any of these the daemon would run deaf (no SIGTERM, no
         * reaping, no schedule): it refuses to start instead. */
        if ((r = sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d)) < 0 ||
            (r = sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d)) < 0 ||
            (r = sd_event_add_signal(d.event, NULL, SIGHUP, on_signal, &d)) < 0 ||
            (r = sd_event_add_defer(d.event, &d.reaper, on_reap, &d)) < 0 ||
            (r = sd_event_add_time(d.event, &d.sched_timer, CLOCK_REALTIME, UINT64_MAX, USEC_PER_SEC,
                                   on_sched_timer, &d)) < 0 ||
            (r = sd_event_add_time_relative(d.event, &d.status_timer, CLOCK_MONOTONIC, 2 * USEC_PER_SEC, 0,
                                            on_status_timer, &d)) < 0) {
                log_error_errno(r, "cannot set up the event loop; not starting");
                setup_failed = true;
        }
        /* WATCHDOG=1 from the loop itself: a stuck loop stops feeding it */
        sd_event_set_watchdog(d.event, true);
        sd_event_source_set_enabled(d.reaper, SD_EVENT_OFF);
        sd_event_source_set_enabled(d.status_timer, SD_EVENT_OFF);
        r = scheduler_clock_watch_open();
        if (r >= 0 && sd_event_add_io(d.event, &d.clock_watch, r, EPOLLIN, on_clock_set, &d) >= 0)
                (void) sd_event_source_set_io_fd_own(d.clock_watch, true);
        else {
                if (r >= 0)
                        close(r);
                log_warning("cannot watch the system clock; after it is set back, scheduled runs wait until "
                            "it catches up");
        }

        r = setup_failed ? 0 : control_open(d.event, control_path(c), &control_handler, &d, &d.control);
        if (r < 0)
                log_warning_errno(r, "cannot open the control socket %s; dev2prodctl run/cancel will not "
                                  "work (read commands still do)", control_path(c));

        if (setup_failed)
                goto out;
        give_back_memory();
        if (scheduler_load(&d.sched, c->state_directory, &err) < 0)
                log_warning("%s", err);
        /* READY=1 promises that every due time to run has its job file or is
         * listed in schedule.json (dev2prodd(8), READY=1).  Jobs start after
         * it, once the job folder has been read for unfinished jobs, so that
         * neither their first saves, nor a backlog of due times, nor a long
         * history delay it. */
        d.scanning = true;
        if (sd_event_add_defer(d.event, &d.scan_source, resume_step, &d) < 0)
                while (d.scanning)      /* no source: the scan runs before READY=1, as it did */
                        resume_step(NULL, &d);
        requeue(&d);
        d.hold_log = true;
        schedule(&d);
        update_status(&d);
        feed_metrics(&d, NULL);
        {
                time_t next = scheduler_next(&d.sched, &np);
                char when[64] = "never";
                if (next) {
                        struct tm tm;
                        localtime_r(&next, &tm);
                        strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
                }
                log_notice("started: %zu promotion(s), %zu job(s) to run; next: %s at %s",
                           c->n_promotions, d.n_slots, np ? np : "-", when);
        }
        sd_notify(false, "READY=1");
        flush_early_log(&d);
        /* the first step at once: a small folder is read before any
         * request is served, so none is refused for the scan */
        if (d.scanning)
                resume_step(d.scan_source, &d);
        /* retention starts after READY=1, see on_prune_timer() */
        r = sd_event_add_time_relative(d.event, &d.prune_timer, CLOCK_MONOTONIC, PRUNE_FIRST_USEC, USEC_PER_SEC,
                                       on_prune_timer, &d);
        if (r < 0)
                log_warning_errno(r, "cannot set up the history_keep timer; finished job files are kept");

        r = sd_event_loop(d.event);
        if (r < 0)
                log_error_errno(r, "event loop failed");
out:
        if (setup_failed)
                r = -EIO;
        deliver_free(d.deliver);        /* before the jobs it may point to */
        for (size_t i = 0; i < d.n_slots; i++) {
                job_suspend(d.slots[i].job);    /* stopped already, unless the loop failed */
                job_free(d.slots[i].job);
        }
        free(d.slots);
        for (size_t i = 0; i < d.n_held; i++) {
                free(d.held[i].promotion);
                free(d.held[i].path);
        }
        free(d.held);
        control_close(d.control);
        sd_event_source_disable_unref(d.sched_timer);
        sd_event_source_disable_unref(d.clock_watch);
        sd_event_source_disable_unref(d.status_timer);
        sd_event_source_disable_unref(d.prune_timer);
        sd_event_source_disable_unref(d.reaper);
        sd_event_source_disable_unref(d.scan_source);
        store_scan_free(d.scan);
        scheduler_free(&d.sched);
        metrics_free(d.metrics);
        engine_done(&d.engine);
        sd_event_unref(d.event);
        config_free(d.config);
        close(d.lock_fd);
        return r < 0 ? 1 : 0;
}
