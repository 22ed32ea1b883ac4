/* job.c — the promotion as a table-driven, saved state machine.
 *
 * Rules that keep a promotion safe across crashes and lost answers:
 *  1. Every transition is saved (temp, fsync, rename, fsync dir; the dir
 *     fsync shared by the saves of one pass through the loop, commit.h)
 *     before the new state's request is sent.  A state whose request creates
 *     something is therefore always on disk before the server hears of it.
 *  2. A saved answer (export id, file id, dry-run id, import id) is never
 *     asked for again: resuming in a poll state polls that id.
 *  3. Resuming in a creating state means its answer was not saved.  Export,
 *     upload and dry run are sent again (a duplicate there is harmless and
 *     logged).  The import is not: the job fails with "outcome unknown" and
 *     says how to check, because importing twice into production is the one
 *     mistake this daemon must never make.
 *  4. The import is sent only after judge.c found the dry run's final
 *     status positively clean; any answer it cannot read is a rejection.
 *  5. Once the import request may have left, the job ends only with the
 *     import's verdict or as "import-outcome-unknown" (end_job), whatever
 *     stops it: a cancel, a timeout, retries run out, auth, a reload.
 *  6. With approval: required the clean dry run leads to awaiting-approval,
 *     a step that sends nothing.  The approval is saved in that state
 *     before the job moves on, and the import state is saved before the
 *     import is sent (rule 1): a crash before the import state is on disk
 *     resumes the approved job into the import; a crash after it is rule 3
 *     (outcome unknown).  Neither loses the approval nor imports twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "failure.h"
#include "http.h"
#include "job.h"
#include "judge.h"
#include "log.h"
#include "retry.h"
#include "store.h"

enum side { SOURCE, TARGET };

/* What a resumed job does in a state whose request may have been sent. */
enum redo {
        REDO_POLL,              /* a read: just do it again */
        REDO_RESEND,            /* a harmless duplicate: send again, count it */
        REDO_RESTART,           /* the download: start over from byte 0 */
        REDO_NEVER,             /* the import: outcome unknown, stop */
        REDO_WAIT,              /* sends nothing (awaiting approval): wait again */
};

/* How many jobs into one target tenant may be in the step at once. */
enum per_target {
        MANY,                   /* any number: exports, downloads, uploads overlap */
        ONE,                    /* one: the step runs while the job holds the target
                                 * tenant (engine_target_acquire), so two dry runs or
                                 * imports into one tenant never interleave */
};

/* What answer() makes of a 2xx answer. */
enum verdict {
        V_NEXT,                 /* the step is done: on to the table's next state */
        V_POLL,                 /* not finished yet: poll again after poll_interval */
        V_UNREADABLE,           /* the answer can't be used: like a lost answer */
        V_ENDED,                /* the answer ended the job (job_fail: a refusal it states) */
};

/* prepare() returns 0 (send the request), a negative errno (the job fails),
 * or PREPARE_BACK: what the step goes on from is gone (prepare logged why),
 * and the job goes back to the step's `back` state to make it again. */
#define PREPARE_BACK 1

/* An edge that does not exist. */
#define NONE _JOB_STATE_MAX

/* Owned strings of the request being built. */
struct outgoing {
        struct http_request rq;
        char *url, *body;
        int fd;
};

/* A step without prepare() and answer() sends nothing: the approval gate
 * (wait_for_approval), which an operator ends (job_approve, job_reject)
 * or approval_timeout does.  Its lock column is MANY: a job waiting hours
 * for a person does not hold the target tenant; an approved job takes it
 * again before it enters the import (see wait_for_approval for why that
 * is enough).  Its side is the target, where the import will go.
 *
 * Its name, STATUS= verb, the saved answer it goes on from and what
 * `dev2prodctl` shows of it are the job's data (jobdata.c). */
struct step {
        enum side side;                 /* the tenant its request goes to */
        enum request_kind kind;         /* how a failed try is judged (retry.c) */
        enum redo redo;                 /* what a job resumed in it does */
        enum per_target per_target;     /* jobs into one target tenant in it at once */
        enum job_state next;            /* where a done step leads */
        enum job_state back;            /* where prepare()'s PREPARE_BACK leads */
        int (*prepare)(struct job *j, struct outgoing *o);
        enum verdict (*answer)(struct job *j, const struct http_result *res);
};

static int prep_export(struct job *j, struct outgoing *o);
static int prep_export_poll(struct job *j, struct outgoing *o);
static int prep_download(struct job *j, struct outgoing *o);
static int prep_upload(struct job *j, struct outgoing *o);
static int prep_dry_run(struct job *j, struct outgoing *o);
static int prep_import_poll(struct job *j, struct outgoing *o);
static int prep_import(struct job *j, struct outgoing *o);
static enum verdict ans_export(struct job *j, const struct http_result *res);
static enum verdict ans_export_poll(struct job *j, const struct http_result *res);
static enum verdict ans_download(struct job *j, const struct http_result *res);
static enum verdict ans_upload(struct job *j, const struct http_result *res);
static enum verdict ans_dry_run(struct job *j, const struct http_result *res);
static enum verdict ans_dry_run_poll(struct job *j, const struct http_result *res);
static enum verdict ans_import(struct job *j, const struct http_result *res);
static enum verdict ans_import_poll(struct job *j, const struct http_result *res);

/* The machine.  A job enters a step (saved first), sends its request, and
 * answer() judges a 2xx answer: V_NEXT goes to `next`, V_POLL asks again
 * after poll_interval, V_UNREADABLE is a lost answer; failed tries are
 * retried or end the job by `kind` (retry.c, README "Failures of one
 * request").  Besides these edges:
 *  - mode: dry-run never enters a REQ_IMPORT step: the job succeeds where
 *    an edge would lead to it (step_done);
 *  - the wait step (awaiting-approval) is entered only with approval:
 *    required and mode: import; otherwise its edge is followed at once;
 *  - upload's prepare finds the package gone or written before a machine
 *    restart (it is not flushed): back to the download;
 *  - a step whose saved input (jobdata.c) is missing fails before it
 *    sends anything;
 *  - any step, on a final failure, a cancel or a timeout: failed or
 *    cancelled, import-outcome-unknown once the import may have left
 *    (end_job). */
static const struct step steps[_JOB_STEPS] = {
        /*                   side    kind        redo          target next              back
         *                   prepare           answer */
        [JOB_EXPORT]       = { SOURCE, REQ_CREATE, REDO_RESEND,  MANY, JOB_EXPORT_POLL,  NONE,
                               prep_export,      ans_export },
        [JOB_EXPORT_POLL]  = { SOURCE, REQ_READ,   REDO_POLL,    MANY, JOB_DOWNLOAD,     NONE,
                               prep_export_poll, ans_export_poll },
        [JOB_DOWNLOAD]     = { SOURCE, REQ_READ,   REDO_RESTART, MANY, JOB_UPLOAD,       NONE,
                               prep_download,    ans_download },
        [JOB_UPLOAD]       = { TARGET, REQ_CREATE, REDO_RESEND,  MANY, JOB_DRY_RUN,      JOB_DOWNLOAD,
                               prep_upload,      ans_upload },
        [JOB_DRY_RUN]      = { TARGET, REQ_CREATE, REDO_RESEND,  ONE,  JOB_DRY_RUN_POLL, NONE,
                               prep_dry_run,     ans_dry_run },
        [JOB_DRY_RUN_POLL] = { TARGET, REQ_READ,   REDO_POLL,    ONE,  JOB_AWAITING_APPROVAL, NONE,
                               prep_import_poll, ans_dry_run_poll },
        /* entered only with approval: required (step_done) */
        [JOB_AWAITING_APPROVAL] = { TARGET, REQ_READ, REDO_WAIT, MANY, JOB_IMPORT,      NONE,
                               NULL,             NULL },
        [JOB_IMPORT]       = { TARGET, REQ_IMPORT, REDO_NEVER,   ONE,  JOB_IMPORT_POLL,  NONE,
                               prep_import,      ans_import },
        [JOB_IMPORT_POLL]  = { TARGET, REQ_READ,   REDO_POLL,    ONE,  JOB_SUCCEEDED,    NONE,
                               prep_import_poll, ans_import_poll },
};

/* The approval gate: sends nothing (see wait_for_approval). */
static bool is_wait_step(enum job_state s) {
        return !steps[s].prepare;
}

/* ---- logging ----------------------------------------------------------- */

static const struct job_tenant *side_tenant(const struct job *j, enum side s) {
        return s == SOURCE ? &j->from : &j->to;
}

static struct log_ctx job_ctx(const struct job *j) {
        struct log_ctx c = { .job = j->id, .promotion = j->promotion };
        if (j->state < _JOB_STEPS) {
                c.step = job_state_to_string(j->state);
                c.tenant = side_tenant(j, steps[j->state].side)->name;
        }
        return c;
}

#define jlog(j, prio, msgid, ...) do { \
        struct log_ctx _c = job_ctx(j); \
        log_full((prio), 0, &_c, (msgid), __VA_ARGS__); \
} while (0)

static void set_str(char **p, const char *v) {
        free(*p);
        *p = xstrdup(v);
}

/* ---- transitions ------------------------------------------------------- */

static void start_state(struct job *j);
static void send_request(struct job *j);

static struct engine *eng(struct job *j) { return j->engine; }

static void notify_changed(struct job *j) {
        if (eng(j)->job_changed)
                eng(j)->job_changed(eng(j), j);
}

static void finish(struct job *j) {
        job_suspend(j);         /* also gives up the target tenant */
        if (eng(j)->job_finished)
                eng(j)->job_finished(eng(j), j);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_timer(struct job *j, uint64_t delay_usec) {
        uint64_t now;
        sd_event_now(eng(j)->event, CLOCK_MONOTONIC, &now);
        if (j->timer) {
                sd_event_source_set_time(j->timer, now + delay_usec);
                sd_event_source_set_enabled(j->timer, SD_EVENT_ONESHOT);
                return;
        }
        /* 1 ms accuracy: poll_interval may be short, and sd-event's default
         * 250 ms slack would stretch every poll */
        if (sd_event_add_time(eng(j)->event, &j->timer, CLOCK_MONOTONIC, now + delay_usec, USEC_PER_MSEC, on_timer, j) < 0) {
                jlog(j, LOG_ERR, NULL, "cannot arm a timer; stopping the job (it resumes at the next start)");
                finish(j);
        }
}

static void after_save(struct job *j);

/* A save of j failed (r, a negative errno): the job waits and tries again
 * (a full or read-only disk is often fixed by an operator), and after
 * `retries` failed saves it stops with its last good file untouched. */
static void save_failed(struct job *j, int r) {
        j->save_failures++;
        {
                struct log_ctx c = job_ctx(j);
                log_full(LOG_ERR, r, &c, NULL, "cannot save the job's state in %s (try %u of %u); "
                         "nothing more is sent until it can be saved: free space or fix permissions there",
                         eng(j)->jobs_dir, j->save_failures, j->settings.retries);
        }
        if (j->save_failures >= j->settings.retries) {
                j->state = j->saved_state;
                if (j->on_disk)
                        jlog(j, LOG_ERR, MSGID_JOB_FAILED, "giving up on saving; the job stops here and its last "
                             "saved state is kept, so it resumes from there at the next start");
                else
                        jlog(j, LOG_ERR, MSGID_JOB_FAILED, "giving up on saving; the job stops before sending "
                             "anything, and as nothing of it could be saved this run is skipped: once the "
                             "disk is fixed, start it with `dev2prodctl run %s`", j->promotion);
                finish(j);
                return;
        }
        j->save_pending = true;
        arm_timer(j, retry_delay_usec(j->settings.retry_delay_usec, j->save_failures, 0, engine_random(eng(j))));
}

/* The job folder's fsync after j's save has returned (commit.h): only now
 * is the new state durable, and only now does its request go out. */
static void committed(struct job *j, int r) {
        if (r < 0) {
                save_failed(j, r);
                return;
        }
        j->saved_state = j->state;
        j->save_failures = 0;
        after_save(j);
}

/* Saves j, and goes on (after_save) once the save is durable: the file is
 * replaced now, and the folder fsync that makes the rename durable is
 * shared with the other saves of this pass through the event loop. */
static void save(struct job *j) {
        int r = store_save_unsynced(eng(j)->jobs_dir, j);
        if (r == -EINVAL || r == -EFBIG) {
                /* Not the disk: the record itself cannot be written, and
                 * waiting will not change that.  Every server text is
                 * cleaned and bounded before it is kept, so this is a bug;
                 * the statuses kept for `show` are what could carry it, and
                 * the job's progress does not depend on them: drop them and
                 * save what the job needs to go on. */
                struct log_ctx c = job_ctx(j);
                log_full(LOG_ERR, r, &c, NULL, "the job's record cannot be written (not a disk problem: a bug, "
                         "please report it); saving it without the statuses kept for `dev2prodctl show`");
                struct export_status e = { .status = TAKE_PTR(j->export.status),
                                           .file_id = TAKE_PTR(j->export.file_id) };
                export_status_free(&j->export);
                j->export = e;          /* the download needs its file id */
                import_status_free(&j->dry_run);
                import_status_free(&j->import);
                r = store_save_unsynced(eng(j)->jobs_dir, j);
        }
        if (r < 0) {
                save_failed(j, r);
                return;
        }
        if (commit_join(&eng(j)->commit, j, committed) < 0)
                committed(j, fsync_dir(eng(j)->jobs_dir));      /* no deferred source: sync here */
}

/* What follows a state that is safely on disk: its request, or the end. */
static void after_save(struct job *j) {
        notify_changed(j);
        if (job_state_is_final(j->state))
                finish(j);
        else
                start_state(j);
}

static void step_clock_start(struct job *j, uint64_t base_usec) {
        j->step_mono_usec = now_monotonic_usec();
        j->step_base_usec = base_usec;
}

static uint64_t step_elapsed_usec(const struct job *j) {
        uint64_t now = now_monotonic_usec();
        return j->step_base_usec + (now > j->step_mono_usec ? now - j->step_mono_usec : 0);
}

static void transition(struct job *j, enum job_state next) {
        uint64_t now = now_realtime_usec();

        if (j->state < _JOB_STEPS)
                j->steps[j->state].finished_usec = now;
        j->state = next;
        j->tries = 0;
        if (next < _JOB_STEPS) {
                j->steps[next].started_usec = now;
                j->steps[next].finished_usec = 0;
                j->steps[next].attempts = 0;
                step_clock_start(j, 0);
        } else {
                j->finished_usec = now;
                /* The package is not history.  Removed before the final state
                 * is saved: after, a crash would leave it behind for good;
                 * before, a resumed job that still needs it downloads it again. */
                if (j->package_path)
                        (void) unlink(j->package_path);
        }
        if (eng(j)->job_saving)
                eng(j)->job_saving(eng(j), j);
        save(j);
}

/* s is the import, or a step its edges lead to: from there on the job is
 * past its last chance to stop without importing. */
static bool import_reached(enum job_state s) {
        for (enum job_state i = 0; i < _JOB_STEPS; i++) {
                enum job_state k = i;
                if (steps[i].kind != REQ_IMPORT)
                        continue;
                /* at most _JOB_STEPS edges: a cycle in the table cannot hang this */
                for (unsigned n = 0; k < _JOB_STEPS && n < _JOB_STEPS; k = steps[k].next, n++)
                        if (k == s)
                                return true;
        }
        return false;
}

/* The import request may have reached the target: it was handed to the
 * network at least once, or the job is past it (its answer was saved). */
static bool import_may_have_left(const struct job *j) {
        if (!import_reached(j->state))
                return false;
        return steps[j->state].kind != REQ_IMPORT || j->steps[j->state].attempts > 0;
}

static bool is_import_verdict(enum failure code) {
        return code == FAILURE_IMPORT_FAILED || code == FAILURE_IMPORT_OUTCOME_UNKNOWN;
}

/* The message of an import-outcome-unknown ending: never send it again,
 * say what happened and how the operator finds out. */
static char *import_unknown_text(const struct job *j, const char *what) {
        return xasprintf("%s; the import may or may not have run, so it is not sent again. Check the import history "
                         "of tenant %s (%s/rest/%s/dev2prod/import/...) for FileId %s, then run the promotion "
                         "again if nothing was imported",
                         what, j->to.name, j->to.url, j->to.tenant_id, strempty(j->target_file_id));
}

/* Bounds every message a job keeps: its pieces are cleaned already, but a
 * message is saved and shown, and nothing unbounded belongs in a job file. */
#define JOB_MAX_MESSAGE 4096
/* a reject --reason (the control socket's line bounds it anyway) */
#define JOB_MAX_REASON 400

/* Ends the job in final state `end`, with its message (and failure code).
 * Once the import may have left, any ending but the import's own verdict
 * becomes import-outcome-unknown: whatever stopped the job (a cancel, a
 * timeout, retries run out, a refused credential, a tenant changed by a
 * reload) says nothing of whether the import ran, and any other failure
 * code would invite running the promotion again, that is a second import. */
static void end_job(struct job *j, enum job_state end, enum failure code, const char *fmt, va_list ap) _printf_(4, 0);
static void end_job(struct job *j, enum job_state end, enum failure code, const char *fmt, va_list ap) {
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);

        if (end != JOB_SUCCEEDED && import_may_have_left(j) && !is_import_verdict(code)) {
                char *m = import_unknown_text(j, raw);
                free(raw);
                raw = m;
                end = JOB_FAILED;
                code = FAILURE_IMPORT_OUTCOME_UNKNOWN;
        }
        free(j->message);
        j->message = text_clean_str(raw, JOB_MAX_MESSAGE);
        if (code != FAILURE_NONE)
                set_str(&j->failure, failure_to_string(code));
        if (end == JOB_SUCCEEDED)
                jlog(j, LOG_NOTICE, MSGID_JOB_SUCCEEDED, "job succeeded: %s", j->message);
        else if (end == JOB_CANCELLED)
                jlog(j, LOG_NOTICE, MSGID_JOB_FAILED, "job cancelled: %s", j->message);
        else
                jlog(j, LOG_ERR, MSGID_JOB_FAILED, "job failed: %s", j->message);
        transition(j, end);
}

static void job_end(struct job *j, enum job_state end, enum failure code, const char *fmt, ...) _printf_(4, 5);
static void job_end(struct job *j, enum job_state end, enum failure code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        end_job(j, end, code, fmt, ap);
        va_end(ap);
}
#define job_fail(j, code, ...) job_end((j), JOB_FAILED, (code), __VA_ARGS__)
#define succeed(j, ...) job_end((j), JOB_SUCCEEDED, FAILURE_NONE, __VA_ARGS__)

/* The import may have run and nobody can tell us. */
static void fail_import_unknown(struct job *j, const char *what) {
        _cleanup_free_ char *m = import_unknown_text(j, what);
        job_fail(j, FAILURE_IMPORT_OUTCOME_UNKNOWN, "%s", m);
}

/* ---- the generic request cycle ----------------------------------------- */

static void on_done(struct http_req *req, const struct http_result *res, void *userdata);

/* The tenant this state's request goes to, as configured now.  A job keeps
 * the url and tenant id it started with (they are in its file) and reads
 * the credential live, so a rotated key is used at once.  If a reload or a
 * restart gave the name another url or tenant id, the credential now
 * configured is for another server: sending it to the job's url, or the
 * job's request to the new url, would mix two identities.  NULL then (and
 * when the tenant is gone), with *ret_why saying what changed. */
static const struct tenant *live_tenant(struct job *j, char **ret_why) {
        const struct job_tenant *jt = side_tenant(j, steps[j->state].side);
        const struct tenant *t = engine_tenant(eng(j), jt->name);

        if (!t) {
                *ret_why = xasprintf("tenant '%s' is no longer in the configuration", jt->name);
                return NULL;
        }
        if (!streq_ptr(t->url, jt->url) || !streq_ptr(t->tenant_id, jt->tenant_id)) {
                *ret_why = xasprintf("tenant '%s' was %s (id %s) when the job started and is now %s (id %s) in the "
                                     "configuration; a job never mixes the two, so it stops here",
                                     jt->name, jt->url, jt->tenant_id, t->url, t->tenant_id);
                return NULL;
        }
        *ret_why = NULL;
        return t;
}

static void fail_tenant_changed(struct job *j, const char *why) {
        job_fail(j, FAILURE_CONFIG, "%s; run the promotion again to use the new settings", why);
}

static void outgoing_free(struct outgoing *o) {
        free(o->url);
        if (o->body)
                secret_free(o->body);   /* a login body holds a password */
}

static void fill_common(struct job *j, const struct tenant *t, struct outgoing *o, char *auth) {
        o->rq.url = o->url;
        o->rq.json_body = o->body;
        o->rq.authorization = auth;
        o->rq.ca_file = t->ca_file;
        o->rq.insecure = t->insecure_skip_verify;
        o->rq.connect_timeout_usec = j->settings.connect_timeout_usec;
        o->rq.stall_timeout_usec = j->settings.low_speed_time_usec;
        if (o->rq.download_fd < 0 && !o->rq.upload_path)
                o->rq.total_timeout_usec = j->settings.request_timeout_usec;
}

static void send_login(struct job *j, const struct tenant *t) {
        struct outgoing o = { .rq = { .method = HTTP_POST, .download_fd = -1 } };
        int r;

        o.url = api_url_login(t->url);
        o.body = api_body_login(t->tenant_id, t->auth.username, t->auth.secret, t->auth.role);
        fill_common(j, t, &o, NULL);
        j->logging_in = true;
        r = http_start(eng(j)->http, &o.rq, on_done, j, &j->req);
        outgoing_free(&o);
        if (r < 0)
                job_fail(j, FAILURE_INTERNAL, "cannot start the login request: %s", strerror(-r));
}

static void send_request(struct job *j) {
        const struct step *s = &steps[j->state];
        const char *name = job_state_to_string(j->state);       /* for after j moved */
        _cleanup_free_ char *why = NULL;
        const struct tenant *t = live_tenant(j, &why);
        struct outgoing o = { .rq = { .download_fd = -1 }, .fd = -1 };
        char *auth = NULL;
        int r;

        if (!t) {
                fail_tenant_changed(j, why);
                return;
        }
        r = auth_header(&eng(j)->auth, t, &auth);
        if (r == -EAGAIN) {
                send_login(j, t);
                return;
        }
        r = s->prepare(j, &o);
        if (r != 0) {
                outgoing_free(&o);
                secret_free(auth);
                if (r == PREPARE_BACK && s->back != NONE)
                        transition(j, s->back);
                else
                        job_fail(j, FAILURE_LOCAL, "cannot prepare the %s request: %s", name,
                                 r < 0 ? strerror(-r) : "the table has no step to go back to");
                return;
        }
        fill_common(j, t, &o, auth);
        o.rq.fresh_connection = s->kind == REQ_IMPORT;
        j->steps[j->state].attempts++;
        j->tries++;
        r = http_start(eng(j)->http, &o.rq, on_done, j, &j->req);
        outgoing_free(&o);
        secret_free(auth);
        if (r < 0)
                job_fail(j, FAILURE_INTERNAL, "cannot start the %s request: %s", name, strerror(-r));
}

static void wait_for_approval(struct job *j);

static void start_state(struct job *j) {
        const char *value, *input = job_state_input(j, j->state, &value);

        if (is_wait_step(j->state)) {
                wait_for_approval(j);
                return;
        }
        if (input && !value) {
                /* the machine saves it before entering the step (rule 1):
                 * the job's file was changed by hand or damaged */
                job_fail(j, FAILURE_LOCAL, "cannot prepare the %s request: the job has no saved %s (was its file "
                         "edited?); run the promotion again", job_state_to_string(j->state), input);
                return;
        }
        if (steps[j->state].per_target == ONE && !engine_target_acquire(eng(j), j)) {
                jlog(j, LOG_NOTICE, NULL, "waiting: another job is dry-running or importing into tenant %s",
                     j->to.name);
                return;
        }
        jlog(j, LOG_DEBUG, NULL, "entering %s", job_state_to_string(j->state));
        send_request(j);
}

/* j's turn on the target tenant has come (engine_target_release). */
static void job_continue(struct job *j) {
        jlog(j, LOG_INFO, NULL, "tenant %s is free; continuing", j->to.name);
        /* the step starts now: the wait before it shows as a gap in `show` */
        j->steps[j->state].started_usec = now_realtime_usec();
        step_clock_start(j, 0);
        start_state(j);
}

/* ---- the approval gate ------------------------------------------------- */

static void expire(struct job *j) {
        char d[32], when[64];

        job_fail(j, FAILURE_EXPIRED, "not approved within approval_timeout (%s, by %s); nothing was imported. "
                 "Run the promotion again for a fresh dry run",
                 format_duration(d, sizeof d, j->settings.approval_timeout_usec),
                 format_timestamp_utc(when, sizeof when, job_approval_deadline(j)));
}

static int on_approval_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        struct job *j = userdata;

        j->approval_timer = sd_event_source_disable_unref(j->approval_timer);
        if (j->state == JOB_AWAITING_APPROVAL && !j->approved.user)
                expire(j);
        return 0;
}

/* The job is in awaiting-approval (entered, resumed, or just approved).
 *
 * Not approved: it gives up the target tenant, so that jobs of other
 * promotions into it go on while a person decides (holding it for up to
 * approval_timeout would stop them all), and waits for job_approve,
 * job_reject or the deadline.  The deadline is on the realtime clock, as
 * the saved start of the step is: a job whose deadline passed while the
 * daemon was down expires when it is resumed, and a clock set forward
 * makes it expire sooner (never later).  Expiring only ends the job: it
 * never imports.
 *
 * Approved: it takes the target tenant again (waiting in line if another
 * job holds it), and only then enters the import, so the import never
 * interleaves with another dry run or import there.  The dry run it was
 * approved on is not repeated: what is imported is the very file that
 * was dry-run (target_file_id), the import's own status is judged as
 * strictly as the dry run was, and its result is kept.  Another
 * promotion's import into the same tenant while the job waited may change
 * what the import does, which the dry-run findings shown to the approver
 * no longer say; README "Approval" states this, and an operator who
 * wants a fresh dry run rejects and runs the promotion again. */
static void wait_for_approval(struct job *j) {
        uint64_t deadline = job_approval_deadline(j), now = now_realtime_usec();
        int r;

        if (j->approved.user) {
                if (!engine_target_acquire(eng(j), j)) {
                        jlog(j, LOG_NOTICE, NULL, "approved; waiting: another job is dry-running or importing "
                             "into tenant %s", j->to.name);
                        return;
                }
                transition(j, steps[j->state].next);
                return;
        }
        {
                struct job *next = engine_target_release(eng(j), j);
                if (next)
                        job_continue(next);
        }
        if (now >= deadline) {
                expire(j);
                return;
        }
        j->approval_timer = sd_event_source_disable_unref(j->approval_timer);
        r = sd_event_add_time(eng(j)->event, &j->approval_timer, CLOCK_REALTIME, deadline, USEC_PER_SEC,
                              on_approval_timeout, j);
        if (r < 0) {
                /* without it the job could wait for ever: stop, it resumes
                 * (and is timed again) at the next start */
                jlog(j, LOG_ERR, NULL, "cannot arm the approval_timeout timer; stopping the job (it resumes at "
                     "the next start)");
                finish(j);
        }
}

static int check_awaiting(const struct job *j, const char *verb, char **ret_err) {
        if (j->state != JOB_AWAITING_APPROVAL) {
                *ret_err = xasprintf("job %s is %s, not awaiting approval: nothing to %s", j->id,
                                     job_state_to_string(j->state), verb);
                return -EBUSY;
        }
        if (j->approved.user) {
                *ret_err = xasprintf("job %s was approved already by %s (uid %u)", j->id, j->approved.user,
                                     j->approved.uid);
                return -EALREADY;
        }
        return 0;
}

static void decision_copy(struct job_decision *d, const struct job_decision *who, const char *reason) {
        job_decision_free(d);
        d->user = xstrdup(who->user);
        d->uid = who->uid;
        d->usec = now_realtime_usec();
        d->reason = reason ? text_clean_str(reason, JOB_MAX_REASON) : NULL;
}

int job_approve(struct job *j, const struct job_decision *who, char **ret_err) {
        int r = check_awaiting(j, "approve", ret_err);

        if (r < 0)
                return r;
        decision_copy(&j->approved, who, NULL);
        /* on disk before anything follows from it, and before the operator
         * hears "approved": a crash after this goes on to the import */
        r = store_save(eng(j)->jobs_dir, j);
        if (r < 0) {
                job_decision_free(&j->approved);
                *ret_err = xasprintf("cannot save the approval in %s: %s; the job still awaits approval",
                                     eng(j)->jobs_dir, strerror(-r));
                return r;
        }
        j->approval_timer = sd_event_source_disable_unref(j->approval_timer);
        jlog(j, LOG_NOTICE, MSGID_JOB_DECIDED, "approved by %s (uid %u); importing file %s into tenant %s",
             j->approved.user, j->approved.uid, strempty(j->target_file_id), j->to.name);
        notify_changed(j);
        wait_for_approval(j);
        return 0;
}

int job_reject(struct job *j, const struct job_decision *who, const char *reason, char **ret_err) {
        int r = check_awaiting(j, "reject", ret_err);

        if (r < 0)
                return r;
        decision_copy(&j->rejected, who, reason);
        jlog(j, LOG_NOTICE, MSGID_JOB_DECIDED, "rejected by %s (uid %u)%s%s", j->rejected.user, j->rejected.uid,
             j->rejected.reason ? ": " : "", strempty(j->rejected.reason));
        struct engine *e = eng(j);
        job_fail(j, FAILURE_REJECTED, "rejected by %s (uid %u)%s%s; nothing was imported", j->rejected.user,
                 j->rejected.uid, j->rejected.reason ? ": " : "", strempty(j->rejected.reason));
        commit_flush(&e->commit);       /* as job_cancel: the answer follows the end */
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        struct job *j = userdata;
        if (j->save_pending) {
                j->save_pending = false;
                save(j);
                return 0;
        }
        send_request(j);
        return 0;
}

static void retry_later(struct job *j, const char *what, long retry_after) {
        uint64_t d;
        char dbuf[32];

        if (j->tries >= j->settings.retries) {
                job_fail(j, FAILURE_GAVE_UP, "%s; gave up after %u tries (raise retries: if the server "
                         "needs longer to recover)", what, j->tries);
                return;
        }
        d = retry_delay_usec(j->settings.retry_delay_usec, j->tries, retry_after, engine_random(eng(j)));
        jlog(j, LOG_WARNING, NULL, "%s; try %u of %u in %s", what, j->tries + 1, j->settings.retries,
             format_duration(dbuf, sizeof dbuf, d));
        arm_timer(j, d);
}

static void poll_later(struct job *j) {
        char dbuf[32];

        if (step_elapsed_usec(j) >= j->settings.step_timeout_usec) {
                job_fail(j, FAILURE_TIMEOUT, "%s did not finish within step_timeout (%s)",
                         job_state_to_string(j->state),
                         format_duration(dbuf, sizeof dbuf, j->settings.step_timeout_usec));
                return;
        }
        j->tries = 0;   /* a good answer ends the run of failed tries */
        arm_timer(j, j->settings.poll_interval_usec);
}

static void on_login_done(struct job *j, const struct http_result *res) {
        _cleanup_free_ char *why = NULL;
        const struct tenant *t = live_tenant(j, &why);
        enum outcome oc = retry_classify(res, REQ_READ);
        _cleanup_free_ char *desc = NULL, *err = NULL;
        char *key = NULL;

        j->logging_in = false;
        if (!t) {
                send_request(j);        /* reports the missing tenant */
                return;
        }
        if (oc == OUTCOME_OK && api_parse_login(res->body.data, res->body.len, &key, &err) >= 0) {
                auth_set_session(&eng(j)->auth, t->name, key);
                secret_free(key);
                jlog(j, LOG_INFO, NULL, "logged in to tenant %s as %s", t->name, t->auth.username);
                send_request(j);
                return;
        }
        desc = err ? xstrdup(err) : retry_describe(res);
        if (oc == OUTCOME_AUTH || oc == OUTCOME_FATAL || oc == OUTCOME_OK) {
                job_fail(j, FAILURE_AUTH, "login to tenant %s as %s refused (%s); check username and "
                         "password_file", t->name, t->auth.username, desc);
                return;
        }
        j->tries++;
        retry_later(j, desc, res->retry_after_sec);
}

static char *success_text(const struct job *j);

/* The journal line of a job that enters awaiting-approval (logged before
 * the state is saved, as the endings are). */
static void announce_approval(struct job *j) {
        _cleanup_free_ char *tot = job_totals_text(&j->dry_run.totals);
        char when[64], d[32];
        uint64_t deadline = now_realtime_usec() + j->settings.approval_timeout_usec;

        jlog(j, LOG_NOTICE, MSGID_AWAITING_APPROVAL, "dry run %s passed (%s, %zu warning(s)); awaiting approval "
             "until %s (approval_timeout %s): see what will change with `dev2prodctl show %s`, then "
             "`dev2prodctl approve %s` or `dev2prodctl reject %s`", strempty(j->dry_run_id), tot,
             import_status_n_warnings(&j->dry_run), format_timestamp_utc(when, sizeof when, deadline),
             format_duration(d, sizeof d, j->settings.approval_timeout_usec), j->id, j->id, j->id);
}

/* The step is done: on along its edge.  mode: dry-run ends where the edge
 * would enter the import: the job has done all it was asked to. */
static void step_done(struct job *j) {
        enum job_state next = steps[j->state].next;

        if (next < _JOB_STEPS && is_wait_step(next)) {
                if (j->settings.approval == APPROVAL_REQUIRED && j->mode == MODE_IMPORT)
                        announce_approval(j);
                else
                        next = steps[next].next;
        }
        if (next < _JOB_STEPS && steps[next].kind == REQ_IMPORT && j->mode == MODE_DRY_RUN)
                next = JOB_SUCCEEDED;
        if (next == JOB_SUCCEEDED) {
                _cleanup_free_ char *what = success_text(j);
                succeed(j, "%s", what);
        } else
                transition(j, next);
}

static void on_done(struct http_req *req, const struct http_result *res, void *userdata) {
        struct job *j = userdata;
        const struct step *s = &steps[j->state];
        const char *name = job_state_to_string(j->state);       /* answer() may end j */
        enum outcome oc = retry_classify(res, s->kind);
        _cleanup_free_ char *desc = NULL;

        j->req = NULL;
        if (j->logging_in) {
                on_login_done(j, res);
                return;
        }
        if (oc != OUTCOME_OK && j->download_fd >= 0) {
                /* a failed try: the next one opens (and truncates) it again */
                close(j->download_fd);
                j->download_fd = -1;
                /* give its space back now (a full disk must not keep the
                 * job's failed state from being saved) */
                if (j->package_path)
                        (void) unlink(j->package_path);
        }
        if (oc == OUTCOME_OK) {
                j->session_renewed = false;
                switch (s->answer(j, res)) {
                case V_NEXT:
                        step_done(j);
                        return;
                case V_POLL:
                        poll_later(j);
                        return;
                case V_ENDED:
                        return;
                case V_UNREADABLE:
                        /* handled below as a lost answer; answer() logged why */
                        oc = s->kind == REQ_IMPORT ? OUTCOME_UNKNOWN : OUTCOME_RETRY;
                        desc = xstrdup("the answer could not be used");
                        break;
                }
        }
        if (!desc)
                desc = retry_describe(res);

        switch (oc) {
        case OUTCOME_OK:
                break;
        case OUTCOME_AUTH: {
                _cleanup_free_ char *why = NULL;
                const struct tenant *t = live_tenant(j, &why);
                if (t && t->auth.type == AUTH_SESSION && !j->session_renewed) {
                        j->session_renewed = true;
                        j->steps[j->state].attempts--;  /* refused unread: not a try */
                        j->tries--;
                        auth_drop_session(&eng(j)->auth, t->name);
                        jlog(j, LOG_INFO, NULL, "session of tenant %s expired (401); logging in again", t->name);
                        send_request(j);
                        return;
                }
                job_fail(j, FAILURE_AUTH, "%s refused our credentials (%s); check the %s of tenant %s",
                         name, desc, t && t->auth.type == AUTH_SESSION ? "username and password" :
                         "key", side_tenant(j, s->side)->name);
                return;
        }
        case OUTCOME_FATAL:
                if (res->write_errno)
                        job_fail(j, FAILURE_DISK, "%s: %s (in %s)", name, desc, eng(j)->jobs_dir);
                else if (res->code != CURLE_OK)
                        job_fail(j, FAILURE_TLS, "%s: %s (for a private CA, set ca_file: on tenant %s)", name, desc,
                                 side_tenant(j, s->side)->name);
                else
                        job_fail(j, FAILURE_REFUSED, "the server refused the %s: %s", name, desc);
                return;
        case OUTCOME_UNKNOWN:
                {
                        _cleanup_free_ char *what = xasprintf("the import of file %s on tenant %s was sent but "
                                                              "its answer was lost (%s)", j->target_file_id,
                                                              j->to.name, desc);
                        fail_import_unknown(j, what);
                }
                return;
        case OUTCOME_RETRY:
                if (s->kind == REQ_CREATE && !http_result_not_sent(res) && res->status != 429 && res->status != 503) {
                        /* the server may have acted on it: say so once */
                        char *d2 = xasprintf("%s; the %s may have reached tenant %s, so sending it again may "
                                             "leave a duplicate there (harmless)", desc, name,
                                             side_tenant(j, s->side)->name);
                        free(desc);
                        desc = d2;
                        j->duplicates++;
                }
                retry_later(j, desc, res->retry_after_sec);
                return;
        }
}

/* ---- the steps --------------------------------------------------------- */

static int prep_export(struct job *j, struct outgoing *o) {
        o->rq.method = HTTP_POST;
        o->url = api_url_export(j->from.url, j->from.tenant_id, j->package);
        o->body = xstrdup("{}");
        return 0;
}

/* POST answers: {"Id": "..."}.  An unusable one is a lost answer. */
static enum verdict take_id(struct job *j, const struct http_result *res, char **dest, const char *what) {
        _cleanup_free_ char *err = NULL;
        char *id = NULL;
        if (api_parse_id(res->body.data, res->body.len, &id, &err) < 0) {
                jlog(j, LOG_WARNING, NULL, "unusable answer to the %s: %s", what, err);
                return V_UNREADABLE;
        }
        free(*dest);
        *dest = id;
        return V_NEXT;
}

static enum verdict ans_export(struct job *j, const struct http_result *res) {
        if (take_id(j, res, &j->export_id, "export") != V_NEXT)
                return V_UNREADABLE;
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "export of package %s requested on tenant %s: export id %s",
             j->package, j->from.name, j->export_id);
        return V_NEXT;
}

static int prep_export_poll(struct job *j, struct outgoing *o) {
        o->rq.method = HTTP_GET;
        o->url = api_url_export_status(j->from.url, j->from.tenant_id, j->export_id);
        return 0;
}

static enum verdict ans_export_poll(struct job *j, const struct http_result *res) {
        _cleanup_free_ char *reason = NULL, *file_id = NULL, *err = NULL;
        enum judgement v = judge_export_status(res->body.data, res->body.len, j->export_id, &file_id, &reason);
        struct export_status st;

        switch (v) {
        case JUDGE_GARBLED:
                jlog(j, LOG_WARNING, NULL, "unreadable export status: %s", reason);
                return V_UNREADABLE;
        case JUDGE_RUNNING:
                jlog(j, LOG_DEBUG, NULL, "export %s: still running", j->export_id);
                return V_POLL;
        case JUDGE_UNREADABLE:
                job_fail(j, FAILURE_BAD_ANSWER, "the status of export %s on tenant %s cannot be judged: %s; "
                         "nothing was downloaded", j->export_id, j->from.name, reason);
                return V_ENDED;
        case JUDGE_FAILED:
        case JUDGE_CLEAN:
                break;
        }
        /* what is kept and shown; the verdict above is the judge's */
        if (api_parse_export_status(res->body.data, res->body.len, &st, &err) >= 0) {
                export_status_free(&j->export);
                j->export = st;
        }
        if (v == JUDGE_FAILED) {
                job_fail(j, FAILURE_EXPORT_FAILED, "export %s of package %s failed on tenant %s: %s",
                         j->export_id, j->package, j->from.name, reason);
                return V_ENDED;
        }
        /* the judged file id, whatever the decoder kept */
        free(j->export.file_id);
        j->export.file_id = TAKE_PTR(file_id);
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "export %s completed: %s, %lld items, file %s",
             j->export_id, strempty(j->export.bundle_name), j->export.item_count, j->export.file_id);
        return V_NEXT;
}

static int prep_download(struct job *j, struct outgoing *o) {
        if (!j->package_path)
                j->package_path = xasprintf("%s/%s.pkg", eng(j)->jobs_dir, j->id);
        /* Always from byte 0: a partial file from an interrupted try or a
         * crash is overwritten (the digest must cover every byte). */
        o->fd = open(j->package_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (o->fd < 0)
                return -errno;
        j->download_fd = o->fd;
        o->rq.method = HTTP_GET;
        o->rq.download_fd = o->fd;
        o->url = api_url_download(j->from.url, j->from.tenant_id, j->export.file_id);
        return 0;
}

static enum verdict ans_download(struct job *j, const struct http_result *res) {
        char sz[32];
        int fd = j->download_fd;

        j->download_fd = -1;
        /* The package is not flushed to disk.  It is only read back by the
         * upload, from the page cache, and deleted once the job ends: a
         * flush would write every byte to disk for nothing and made the
         * download slower than curl's (BENCHMARKS.md).  Only a machine restart can lose
         * the bytes, so the state records this boot, and prep_upload
         * downloads the package again after a restart.  Without a boot id
         * we cannot tell, so then we flush as before. */
        const char *boot = boot_id();
        if (!boot && fdatasync(fd) < 0) {
                int e = errno;
                close(fd);
                job_fail(j, FAILURE_DISK, "cannot flush the package to %s: %s", j->package_path, strerror(e));
                return V_ENDED;
        }
        close(fd);
        snprintf(j->package_boot_id, sizeof j->package_boot_id, "%s", strempty(boot));
        j->download_bytes = res->bytes;
        memcpy(j->download_sha256, res->sha256, sizeof j->download_sha256);
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "downloaded file %s: %s bytes, sha256 %s", j->export.file_id,
             (snprintf(sz, sizeof sz, "%llu", (unsigned long long) res->bytes), sz), res->sha256);
        return V_NEXT;
}

static int prep_upload(struct job *j, struct outgoing *o) {
        struct stat st;
        const char *why = NULL;

        /* The package must still be the one we hashed. */
        if (!j->package_path || stat(j->package_path, &st) < 0 || (uint64_t) st.st_size != j->download_bytes)
                why = "the downloaded package is missing or has the wrong size";
        else if (j->package_boot_id[0] && !streq(j->package_boot_id, strempty(boot_id())))
                why = "the machine restarted since the package was downloaded, and a package is not flushed to disk";
        if (why) {
                jlog(j, LOG_WARNING, NULL, "%s; downloading it again", why);
                return PREPARE_BACK;
        }
        o->rq.method = HTTP_POST;
        o->rq.upload_path = j->package_path;
        o->rq.upload_field = "Files[]";
        o->rq.user_agent = "Apache-HttpClient/4.4.1";   /* the server insists (API notes, quirk 6) */
        o->url = api_url_upload(j->to.url, j->to.tenant_id);
        return 0;
}

static enum verdict ans_upload(struct job *j, const struct http_result *res) {
        if (take_id(j, res, &j->target_file_id, "upload") != V_NEXT)
                return V_UNREADABLE;
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "uploaded the package to tenant %s: file id %s",
             j->to.name, j->target_file_id);
        return V_NEXT;
}

static int prep_dry_run(struct job *j, struct outgoing *o) {
        o->rq.method = HTTP_POST;
        o->url = api_url_import(j->to.url, j->to.tenant_id, true);
        /* the file as it exists on the target (API notes, quirk 4) */
        o->body = api_body_import(j->target_file_id);
        return 0;
}

static enum verdict ans_dry_run(struct job *j, const struct http_result *res) {
        if (take_id(j, res, &j->dry_run_id, "dry run") != V_NEXT)
                return V_UNREADABLE;
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "dry run of file %s started on tenant %s: id %s",
             j->target_file_id, j->to.name, j->dry_run_id);
        return V_NEXT;
}

/* The dry run's or the import's: the step's input (jobdata.c). */
static int prep_import_poll(struct job *j, struct outgoing *o) {
        const char *id;

        (void) job_state_input(j, j->state, &id);
        o->rq.method = HTTP_GET;
        o->url = api_url_import_status(j->to.url, j->to.tenant_id, id);
        return 0;
}

/* Logs every finding of an import status, one line each. */
static void log_findings(struct job *j, const struct import_status *st, bool errors, const char *msgid) {
        for (size_t i = 0; i < st->n_results; i++) {
                const struct import_result *r = &st->results[i];
                size_t n = errors ? r->n_errors : r->n_warnings;
                for (size_t k = 0; k < n; k++)
                        jlog(j, errors ? LOG_ERR : LOG_WARNING, msgid, "%s %s: %s", r->package,
                             errors ? "error" : "warning", errors ? r->errors[k] : r->warnings[k]);
        }
}

/* Keeps what a final import status says, for the job file and `show`. */
static void keep_import_status(struct job *j, const struct http_result *res, struct import_status *dest) {
        _cleanup_free_ char *err = NULL;
        struct import_status st;
        if (api_parse_import_status(res->body.data, res->body.len, &st, &err) < 0) {
                jlog(j, LOG_WARNING, NULL, "the status cannot be kept: %s", err);
                return;
        }
        import_status_free(dest);
        *dest = st;
}

static struct judge_rules import_rules(const struct job *j, bool dry_run) {
        return (struct judge_rules) {
                .operation_id = dry_run ? j->dry_run_id : j->import_id,
                .file_id = j->target_file_id,
                .dry_run = dry_run,
                .warnings_fail = dry_run && j->settings.on_warnings == ON_WARNINGS_STOP,
        };
}

static enum verdict ans_dry_run_poll(struct job *j, const struct http_result *res) {
        struct judge_rules rules = import_rules(j, true);
        _cleanup_free_ char *reason = NULL, *tot = NULL;
        enum judgement v = judge_import_status(res->body.data, res->body.len, &rules, &reason);
        const struct import_status *st = &j->dry_run;
        size_t nw;

        switch (v) {
        case JUDGE_GARBLED:
                jlog(j, LOG_WARNING, NULL, "unreadable dry-run status: %s", reason);
                return V_UNREADABLE;
        case JUDGE_RUNNING:
                jlog(j, LOG_DEBUG, NULL, "dry run %s: still running", j->dry_run_id);
                return V_POLL;
        case JUDGE_UNREADABLE:
                keep_import_status(j, res, &j->dry_run);
                job_fail(j, FAILURE_DRY_RUN_UNREADABLE, "dry run %s on tenant %s: the final status cannot be judged: %s; "
                         "nothing was imported. Check the dry run on tenant %s and run the promotion again",
                         j->dry_run_id, j->to.name, reason, j->to.name);
                return V_ENDED;
        case JUDGE_FAILED:
        case JUDGE_CLEAN:
                break;
        }
        keep_import_status(j, res, &j->dry_run);
        nw = import_status_n_warnings(st);
        tot = job_totals_text(&st->totals);
        if (v == JUDGE_FAILED) {
                /* the same answer judged again without on_warnings: stop
                 * tells whether the warnings alone rejected it */
                _cleanup_free_ char *r2 = NULL;
                rules.warnings_fail = false;
                if (judge_import_status(res->body.data, res->body.len, &rules, &r2) == JUDGE_CLEAN) {
                        log_findings(j, st, false, MSGID_DRYRUN_REJECTED);
                        job_fail(j, FAILURE_DRY_RUN_WARNINGS, "dry run %s on tenant %s: %zu warning(s) and on_warnings: "
                                 "stop; nothing was imported", j->dry_run_id, j->to.name, nw);
                        return V_ENDED;
                }
                log_findings(j, st, true, MSGID_DRYRUN_REJECTED);
                job_fail(j, FAILURE_DRY_RUN_REJECTED, "dry run %s on tenant %s: %s (%zu error(s), %s); "
                         "nothing was imported. Fix the package on %s and run the promotion again",
                         j->dry_run_id, j->to.name, reason, import_status_n_errors(st), tot, j->from.name);
                return V_ENDED;
        }
        log_findings(j, st, false, NULL);
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "dry run %s passed: %s, %zu warning(s)", j->dry_run_id, tot, nw);
        return V_NEXT;          /* to the import, or the end in mode: dry-run (step_done) */
}

static int prep_import(struct job *j, struct outgoing *o) {
        o->rq.method = HTTP_POST;
        o->url = api_url_import(j->to.url, j->to.tenant_id, false);
        o->body = api_body_import(j->target_file_id);
        /* A try that certainly never reached the server (connect refused,
         * 429, 503) may be repeated; anything else ends in "unknown". */
        return 0;
}

static enum verdict ans_import(struct job *j, const struct http_result *res) {
        if (take_id(j, res, &j->import_id, "import") != V_NEXT)
                return V_UNREADABLE;
        jlog(j, LOG_INFO, MSGID_STEP_DONE, "import of file %s started on tenant %s: id %s",
             j->target_file_id, j->to.name, j->import_id);
        return V_NEXT;
}

/* Judged by the same rules as the dry run; after the import, an answer
 * that cannot be judged leaves its outcome unknown. */
static enum verdict ans_import_poll(struct job *j, const struct http_result *res) {
        struct judge_rules rules = import_rules(j, false);
        _cleanup_free_ char *reason = NULL, *tot = NULL, *what = NULL;
        enum judgement v = judge_import_status(res->body.data, res->body.len, &rules, &reason);
        const struct import_status *st = &j->import;

        switch (v) {
        case JUDGE_GARBLED:
                jlog(j, LOG_WARNING, NULL, "unreadable import status: %s", reason);
                return V_UNREADABLE;
        case JUDGE_RUNNING:
                jlog(j, LOG_DEBUG, NULL, "import %s: still running", j->import_id);
                return V_POLL;
        case JUDGE_UNREADABLE:
                keep_import_status(j, res, &j->import);
                what = xasprintf("the final status of import %s cannot be judged: %s", j->import_id, reason);
                fail_import_unknown(j, what);
                return V_ENDED;
        case JUDGE_FAILED:
        case JUDGE_CLEAN:
                break;
        }
        keep_import_status(j, res, &j->import);
        tot = job_totals_text(&st->totals);
        if (v == JUDGE_FAILED) {
                log_findings(j, st, true, NULL);
                job_fail(j, FAILURE_IMPORT_FAILED, "import %s on tenant %s failed: %s (%zu error(s), %s)",
                         j->import_id, j->to.name, reason, import_status_n_errors(st), tot);
                return V_ENDED;
        }
        log_findings(j, st, false, NULL);
        return V_NEXT;
}

/* What a succeeded job did, from what its steps kept: the message of its
 * last state and of the journal's "job succeeded" line. */
static char *success_text(const struct job *j) {
        _cleanup_free_ char *tot = NULL;

        if (j->mode == MODE_DRY_RUN) {
                tot = job_totals_text(&j->dry_run.totals);
                return xasprintf("dry run passed (mode: dry-run, nothing imported): %s", tot);
        }
        tot = job_totals_text(&j->import.totals);
        return xasprintf("imported package %s into tenant %s (import %s): %s", j->package, j->to.name,
                         j->import_id, tot);
}

/* ---- public entry points ------------------------------------------------ */

/* A resumed step has been running since its saved (realtime) start.  A
 * start in the future means the clock was stepped back since; the step's
 * time then counts from now, and the log says so. */
static void resume_step_clock(struct job *j) {
        uint64_t now = now_realtime_usec(), started = j->steps[j->state].started_usec;
        char a[32], b[32];

        if (started > now) {
                jlog(j, LOG_WARNING, NULL, "the clock (%s) is behind the start of this step (%s): it was set back; "
                     "step_timeout counts from now", format_timestamp_utc(a, sizeof a, now),
                     format_timestamp_utc(b, sizeof b, started));
                step_clock_start(j, 0);
        } else
                step_clock_start(j, now - started);
}

void job_run(struct job *j, struct engine *e) {
        j->engine = e;
        j->saved_state = j->state;
        j->download_fd = -1;
        if (job_state_is_final(j->state)) {
                finish(j);
                return;
        }
        if (!j->steps[j->state].started_usec) {
                /* a new job: save it before its first request */
                struct log_ctx c = job_ctx(j);
                log_full(LOG_NOTICE, 0, &c, MSGID_JOB_STARTED, "job started: promote package %s from %s to %s (%s)",
                         j->package, j->from.name, j->to.name, promo_mode_to_string(j->mode));
                transition(j, j->state);
                return;
        }
        resume_step_clock(j);
        if (j->superseded_by && !import_reached(j->state)) {
                /* Only a save that gave up leaves an older job unfinished
                 * while a newer one ran; going on could import the older
                 * package over the newer one. */
                job_fail(j, FAILURE_SUPERSEDED, "job %s of the same promotion is newer; this older job stops before "
                         "its import so that an older package never replaces a newer one. Nothing was imported "
                         "by this job", j->superseded_by);
                return;
        }
        switch (steps[j->state].redo) {
        case REDO_POLL:
                jlog(j, LOG_NOTICE, NULL, "resuming: polling again");
                break;
        case REDO_RESTART:
                jlog(j, LOG_NOTICE, NULL, "resuming: the download starts again from byte 0");
                break;
        case REDO_RESEND:
                /* The answer was not saved.  If the first request reached the
                 * server, this makes a duplicate there, which is harmless. */
                j->duplicates++;
                jlog(j, LOG_NOTICE, NULL, "resuming: the answer to the %s was not saved; sending it again "
                     "(a duplicate on tenant %s is harmless)", job_state_to_string(j->state),
                     side_tenant(j, steps[j->state].side)->name);
                break;
        case REDO_WAIT:
                jlog(j, LOG_NOTICE, NULL, "resuming: %s", j->approved.user ? "approved; on to the import" :
                     "still awaiting approval");
                notify_changed(j);      /* the daemon counts a waiting job apart (daemon.c, parked) */
                break;
        case REDO_NEVER:
                {
                        _cleanup_free_ char *what = xasprintf("the daemon stopped after deciding to import file "
                                                              "%s into tenant %s but before its answer was saved",
                                                              j->target_file_id, j->to.name);
                        fail_import_unknown(j, what);
                }
                return;
        }
        start_state(j);
}

void job_suspend(struct job *j) {
        if (j->req) {
                http_cancel(j->req);
                j->req = NULL;
        }
        if (j->download_fd >= 0) {
                close(j->download_fd);
                j->download_fd = -1;
        }
        j->timer = sd_event_source_disable_unref(j->timer);
        j->approval_timer = sd_event_source_disable_unref(j->approval_timer);
        j->logging_in = false;
        j->save_pending = false;
        if (j->engine) {
                commit_leave(&j->engine->commit, j);
                struct job *next = engine_target_release(j->engine, j);
                if (next)
                        job_continue(next);
        }
}

void job_cancel(struct job *j, const char *why) {
        job_suspend(j);
        /* after the import may have left, end_job records a cancel as
         * import-outcome-unknown */
        struct engine *e = eng(j);
        job_end(j, JOB_CANCELLED, FAILURE_CANCELLED, "%s", why);
        /* the operator's answer follows: the job has ended (j may be freed) */
        commit_flush(&e->commit);
}

char *job_describe_progress(const struct job *j) {
        uint64_t now, total;
        if (j->req && job_state_transfers(j->state)) {
                http_progress(j->req, &now, &total);
                if (total > 0)
                        return xasprintf("%s %u%% of %.0f MiB", job_state_doing(j->state),
                                         (unsigned) (now * 100 / total), (double) total / (1024.0 * 1024.0));
        }
        return xstrdup(job_state_doing(j->state));
}
