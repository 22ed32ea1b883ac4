/* oneshot.c — see oneshot.h. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "engine.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "oneshot.h"
#include "store.h"

struct find {
        const char *promotion;
        struct job *found;
        char *unreadable;       /* a job file of the promotion that cannot be read */
};

static int take_if_ours(struct store_entry *e, void *userdata) {
        struct find *f = userdata;
        /* a finished job handed over for its pending follow-ups: those
         * are the daemon's (notify.h), not a job to run */
        if (!streq_ptr(e->promotion, f->promotion) || (e->job && job_state_is_final(e->job->state))) {
                job_free(e->job);
                return 0;
        }
        if (!e->job) {
                if (!f->unreadable)
                        f->unreadable = xstrdup(e->id);
                return 0;
        }
        if (f->found) {         /* newest first: an older one waits its turn */
                job_free(e->job);
                return 0;
        }
        if (e->newer_id)
                e->job->superseded_by = xstrdup(e->newer_id);
        f->found = e->job;
        return 0;               /* go on: an unreadable file further on must be seen */
}

/* The newest unfinished job of promotion p, if any.  -EUCLEAN when a job
 * file of p cannot be read (or the folder cannot be listed): it may hold
 * an unfinished job, perhaps one whose import was sent, and starting
 * another could import twice. */
static int find_unfinished(const char *jobs_dir, const char *p, struct job **ret) {
        struct find f = { .promotion = p };
        int r = store_each_unfinished(jobs_dir, true, take_if_ours, &f);
        if (r < 0)
                return r;
        if (f.unreadable) {
                log_error("%s/%s.json cannot be read, and it may hold an unfinished job of %s; no new job is "
                          "started until it is inspected and moved out of %s", jobs_dir, f.unreadable, p, jobs_dir);
                free(f.unreadable);
                job_free(f.found);
                return -EUCLEAN;
        }
        *ret = f.found;
        return 0;
}

static int exit_code;

static void on_finished(struct engine *e, struct job *j) {
        exit_code = j->state == JOB_SUCCEEDED ? EXIT_JOB_OK : EXIT_JOB_FAILED;
        metrics_update(e->userdata, j);
        sd_event_exit(e->event, exit_code);
}

/* approval: required needs an operator and the control socket, which
 * --once has not: the job stops saved in awaiting-approval, and the daemon
 * resumes it (dev2prodctl approve then works). */
static void on_changed(struct engine *e, struct job *j) {
        if (j->state != JOB_AWAITING_APPROVAL || j->approved.user)
                return;
        log_notice("job %s awaits approval, which --once cannot take: start dev2prodd (it resumes the job), "
                   "then `dev2prodctl approve %s`", j->id, j->id);
        exit_code = EXIT_JOB_FAILED;
        sd_event_exit(e->event, exit_code);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct job *j = userdata;
        log_notice("%s: stopping; the job's state is saved and it resumes at the next run",
                   strsignal((int) si->ssi_signo));
        job_suspend(j);
        exit_code = EXIT_JOB_FAILED;
        sd_event_exit(sd_event_source_get_event(s), exit_code);
        return 0;
}

int oneshot_run(const struct config *c, const char *name) {
        const struct promotion *p = config_find_promotion(c, name);
        struct engine e;
        sd_event *ev = NULL;
        struct job *j;
        struct metrics *metrics;
        sigset_t mask;
        int r, lock = -1;

        if (!p) {
                log_error("%s has no promotion named '%s'", c->path, name);
                return EXIT_CONFIG;
        }
        r = mkdir_p(c->state_directory, 0750);
        if (r < 0) {
                log_error_errno(r, "cannot create state_directory %s", c->state_directory);
                return EXIT_JOB_FAILED;
        }
        r = store_lock(c->state_directory, &lock);
        if (r == -EBUSY) {
                log_error("another dev2prodd is using %s; use `dev2prodctl run %s` to start the "
                          "promotion through the running daemon", c->state_directory, name);
                return EXIT_BUSY;
        }
        if (r < 0) {
                log_error_errno(r, "cannot lock %s/lock", c->state_directory);
                return EXIT_JOB_FAILED;
        }
        if (sd_event_default(&ev) < 0 || engine_init(&e, ev, c) < 0) {
                close(lock);
                return EXIT_JOB_FAILED;
        }
        engine_clean_temp(&e);
        e.job_finished = on_finished;
        /* metrics_file: a --once run writes it at its end, as a daemon
         * that lived for one job: nothing running, its own start time, its
         * one ending counted (a counter reset, as after a restart), and the
         * last success and failure kept in the state folder.  The two
         * never run at once (the lock above), and a setup that runs its
         * promotions from timers with --once gets the same series and
         * alerts as one with the daemon. */
        e.userdata = metrics = metrics_new(NULL, c->state_directory, DEV2PROD_VERSION, now_realtime_usec(), NULL, NULL);
        metrics_configure(metrics, c, now_realtime_usec());
        e.job_changed = on_changed;

        j = NULL;
        r = find_unfinished(e.jobs_dir, name, &j);
        if (r < 0) {
                metrics_free(metrics);
                engine_done(&e);
                sd_event_unref(ev);
                close(lock);
                return EXIT_JOB_FAILED;
        }
        if (j)
                log_notice("resuming job %s of %s (state %s)", j->id, name, job_state_to_string(j->state));
        else {
                uint64_t now = now_realtime_usec();
                _cleanup_free_ char *id = store_new_job_id(e.jobs_dir, name, now);
                j = job_new(id, p, now);
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        exit_code = EXIT_JOB_FAILED;
        /* a job that could not be stopped by SIGTERM must not start */
        if ((r = sd_event_add_signal(ev, NULL, SIGTERM, on_signal, j)) < 0 ||
            (r = sd_event_add_signal(ev, NULL, SIGINT, on_signal, j)) < 0)
                log_error_errno(r, "cannot set up the event loop; the job is not started");
        else {
                job_run(j, &e);
                r = sd_event_loop(ev);
                if (r < 0)
                        log_error_errno(r, "event loop failed");
        }
        job_suspend(j);         /* stopped already, unless the loop failed */
        job_free(j);
        metrics_free(metrics);
        engine_done(&e);
        sd_event_unref(ev);
        close(lock);
        return exit_code;
}
