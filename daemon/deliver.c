/* deliver.c — see deliver.h.
 *
 * Retries: a follow-up that fails (a non-2xx answer, no connection, a
 * program that exits non-zero or times out, a chained job that cannot be
 * created yet) is tried again after retry_delay_usec (doubling from
 * DELIVER_RETRY_BASE_USEC, at most 5 minutes, with jitter) until
 * NOTIFY_GIVE_UP_USEC after its event, then given up and logged. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deliver.h"
#include "log.h"
#include "notify.h"
#include "retry.h"
#include "store.h"

#define DELIVER_RETRY_BASE_USEC (2 * USEC_PER_SEC)
#define DELIVER_WAIT_USEC (5 * 60 * USEC_PER_SEC)
#define WEBHOOK_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define EXEC_KILL_GRACE_USEC (5 * USEC_PER_SEC)
#define EXEC_STDERR_MAX 4096
/* At most this many programs and webhook requests at once: a hundred jobs
 * ending together (or a restart after a long webhook outage) must not
 * fork a hundred programs or open a hundred connections; the rest wait
 * for a place, in job order. */
#define DELIVER_MAX_IN_FLIGHT 16


struct op;

struct tracked {
        struct job *job;
        bool owned;             /* the daemon released it: freed here when done */
};

struct deliver {
        struct engine *engine;
        deliver_create_fn create;
        void *userdata;
        struct tracked *v;
        size_t n;
        struct op **ops;        /* in flight */
        size_t n_ops;
        sd_event_source *timer; /* the next retry */
};

struct op {
        struct deliver *d;
        struct job *job;
        size_t idx;             /* in job->followups */
        /* webhook */
        struct http_req *req;
        /* exec */
        pid_t pid;
        sd_event_source *child, *in_src, *err_src, *kill_timer;
        int in_fd, err_fd;
        char *input;            /* the summary, written to stdin */
        size_t input_len, input_off;
        struct buf err;
        bool killed;
};

static struct log_ctx ctx_of(const struct job *j) {
        return (struct log_ctx) { .job = j->id, .promotion = j->promotion };
}

static struct tracked *find(struct deliver *d, const struct job *j) {
        for (size_t i = 0; i < d->n; i++)
                if (d->v[i].job == j)
                        return &d->v[i];
        return NULL;
}

static bool in_flight(struct deliver *d, const struct job *j, size_t idx) {
        for (size_t i = 0; i < d->n_ops; i++)
                if (d->ops[i]->job == j && d->ops[i]->idx == idx)
                        return true;
        return false;
}

static void kick(struct deliver *d);

static void save_job(struct deliver *d, struct job *j) {
        int r = store_save(d->engine->jobs_dir, j);
        if (r < 0) {
                struct log_ctx c = ctx_of(j);
                log_full(LOG_WARNING, r, &c, NULL, "cannot save the follow-ups' state in %s; a notification "
                         "may be sent again after a restart", d->engine->jobs_dir);
        }
}

/* The end of one attempt: done, or try again later, or give up. */
static void settle(struct deliver *d, struct job *j, size_t idx, bool done, const char *why) {
        struct followup *f = &j->followups[idx];
        uint64_t now = now_realtime_usec();
        struct log_ctx c = ctx_of(j);

        f->attempts++;
        if (done) {
                f->status = FOLLOWUP_DONE;
                f->done_usec = now;
                free(f->last_error);
                f->last_error = NULL;
        } else {
                free(f->last_error);
                f->last_error = text_clean_str(why, 512);
                if (now >= f->created_usec + NOTIFY_GIVE_UP_USEC) {
                        f->status = FOLLOWUP_GAVE_UP;
                        f->done_usec = now;
                        log_full(LOG_ERR, 0, &c, MSGID_NOTIFY_FAILED, "%s %s of event %s: giving up after %u "
                                 "attempt(s) over 24h: %s", followup_kind_to_string(f->kind),
                                 f->kind == FOLLOWUP_CHAIN ? f->promotion : "notification", f->event, f->attempts,
                                 f->last_error);
                } else {
                        uint64_t delay = retry_delay_usec(DELIVER_RETRY_BASE_USEC, f->attempts, 0,
                                                          engine_random(d->engine));
                        char ds[32];
                        f->next_usec = now + delay;
                        log_full(LOG_WARNING, 0, &c, MSGID_NOTIFY_FAILED, "%s %s of event %s failed (attempt %u): "
                                 "%s; trying again in %s", followup_kind_to_string(f->kind),
                                 f->kind == FOLLOWUP_CHAIN ? f->promotion : "notification", f->event, f->attempts,
                                 f->last_error, format_duration(ds, sizeof ds, delay));
                }
        }
        save_job(d, j);
}

/* ---- webhook ---------------------------------------------------------------- */

static void op_free(struct op *o) {
        if (!o)
                return;
        if (o->req)
                http_cancel(o->req);
        sd_event_source_disable_unref(o->child);
        sd_event_source_disable_unref(o->in_src);
        sd_event_source_disable_unref(o->err_src);
        sd_event_source_disable_unref(o->kill_timer);
        if (o->in_fd >= 0)
                close(o->in_fd);
        if (o->err_fd >= 0)
                close(o->err_fd);
        free(o->input);
        buf_free(&o->err);
        free(o);
}

static void op_end(struct op *o) {
        struct deliver *d = o->d;
        for (size_t i = 0; i < d->n_ops; i++)
                if (d->ops[i] == o) {
                        d->ops[i] = d->ops[--d->n_ops];
                        break;
                }
        op_free(o);
        kick(d);
}

static void on_webhook_done(struct http_req *req, const struct http_result *res, void *userdata) {
        struct op *o = userdata;
        struct job *j = o->job;
        bool ok = res->code == CURLE_OK && res->status >= 200 && res->status < 300;
        /* The status only, not the receiver's words: an error page may
         * echo the request's path, and with it the URL's token, into the
         * log and the job file.  Without an answer, curl's words name the
         * host at most. */
        _cleanup_free_ char *why = ok ? NULL : res->code == CURLE_OK ? xasprintf("HTTP %ld", res->status)
                                                                      : retry_describe(res);

        o->req = NULL;          /* freed by the HTTP layer after this returns */
        if (ok) {
                struct log_ctx c = ctx_of(j);
                log_full(LOG_INFO, 0, &c, NULL, "webhook notification of event %s delivered (HTTP %ld)",
                         j->followups[o->idx].event, res->status);
        }
        settle(o->d, j, o->idx, ok, why);
        op_end(o);
}

static int start_webhook(struct op *o, const struct notify *n, const char *summary, const char *delivery) {
        _cleanup_free_ char *hdr = xasprintf("X-Dev2Prod-Delivery: %s", delivery);
        struct http_request rq = {
                .method = HTTP_POST,
                .url = n->webhook_url,
                .json_body = summary,
                .download_fd = -1,
                .total_timeout_usec = WEBHOOK_TIMEOUT_USEC,
                .extra_header = hdr,
                .secret_url = true,
        };
        return http_start(o->d->engine->http, &rq, on_webhook_done, o, &o->req);
}

/* ---- exec -------------------------------------------------------------------- */

static void exec_log_stderr(struct op *o) {
        struct log_ctx c = ctx_of(o->job);
        if (o->err.len)
                log_full(LOG_INFO, 0, &c, NULL, "notify program stderr: %.*s", (int) o->err.len, o->err.data);
}

static void drain_stderr(struct op *o) {
        char b[1024];
        ssize_t k;
        while (o->err_fd >= 0 && (k = read(o->err_fd, b, sizeof b)) > 0)
                if (o->err.len < EXEC_STDERR_MAX)
                        buf_append(&o->err, b, MIN((size_t) k, EXEC_STDERR_MAX - o->err.len));
}

static int on_exec_stderr(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct op *o = userdata;
        char b[1024];
        ssize_t k = read(fd, b, sizeof b);
        if (k > 0) {
                if (o->err.len < EXEC_STDERR_MAX)
                        buf_append(&o->err, b, MIN((size_t) k, EXEC_STDERR_MAX - o->err.len));
                return 0;
        }
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        o->err_src = sd_event_source_disable_unref(o->err_src);
        close(o->err_fd);
        o->err_fd = -1;
        return 0;
}

static int on_exec_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct op *o = userdata;
        while (o->input_off < o->input_len) {
                ssize_t k = write(fd, o->input + o->input_off, o->input_len - o->input_off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return 0;
                if (k < 0)
                        break;          /* EPIPE: the program does not read it all; its exit decides */
                o->input_off += (size_t) k;
        }
        o->in_src = sd_event_source_disable_unref(o->in_src);
        close(o->in_fd);
        o->in_fd = -1;
        return 0;
}

static int on_exec_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct op *o = userdata;
        struct job *j = o->job;
        struct log_ctx c = ctx_of(j);
        bool ok = si->si_code == CLD_EXITED && si->si_status == 0;
        _cleanup_free_ char *why = NULL;

        drain_stderr(o);
        exec_log_stderr(o);
        if (o->killed)
                why = xasprintf("the program did not finish within exec_timeout and was killed");
        else if (si->si_code == CLD_EXITED)
                why = xasprintf("the program exited with status %d", si->si_status);
        else
                why = xasprintf("the program was killed by signal %s", sigabbrev_np(si->si_status) ?: "?");
        if (ok)
                log_full(LOG_INFO, 0, &c, NULL, "notify program ran for event %s (exit status 0)",
                         j->followups[o->idx].event);
        settle(o->d, j, o->idx, ok, why);
        o->child = sd_event_source_disable_unref(o->child);
        op_end(o);
        return 0;
}

static int on_exec_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct op *o = userdata;
        struct log_ctx c = ctx_of(o->job);

        /* its process group: what it started goes too */
        if (!o->killed) {
                log_full(LOG_WARNING, 0, &c, NULL, "notify program %d still runs after exec_timeout: SIGTERM",
                         (int) o->pid);
                (void) kill(-o->pid, SIGTERM);
                o->killed = true;
                sd_event_source_set_time_relative(s, EXEC_KILL_GRACE_USEC);
                sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        } else
                (void) kill(-o->pid, SIGKILL);
        return 0;
}

static char *env_line(const char *k, const char *v) {
        return xasprintf("%s=%s", k, strempty(v));
}

static int start_exec(struct op *o, const struct notify *n, const char *summary, const char *delivery) {
        struct job *j = o->job;
        struct followup *f = &j->followups[o->idx];
        sd_event *e = o->d->engine->event;
        int in[2] = { -1, -1 }, er[2] = { -1, -1 }, devnull, r;
        /* a minimal environment: the daemon's own (its credentials folder
         * and more) is not the program's business; the webhook URL is
         * never in it */
        char *envp[] = {
                xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                env_line("DEV2PROD_JOB", j->id),
                env_line("DEV2PROD_PROMOTION", j->promotion),
                env_line("DEV2PROD_EVENT", f->event),
                env_line("DEV2PROD_STATE", f->state),
                env_line("DEV2PROD_FAILURE", j->failure),
                env_line("DEV2PROD_DELIVERY", delivery),
                NULL,
        };
        sigset_t none;

        o->input = xstrdup(summary);
        o->input_len = strlen(summary);
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        sigemptyset(&none);
        o->pid = fork();
        if (o->pid < 0) {
                r = -errno;
                if (devnull >= 0)
                        close(devnull);
                goto fail;
        }
        if (o->pid == 0) {
                /* the child: only async-signal-safe calls until execve */
                (void) setpgid(0, 0);
                if (dup2(in[0], 0) < 0 || dup2(devnull >= 0 ? devnull : er[1], 1) < 0 || dup2(er[1], 2) < 0)
                        _exit(127);
                (void) close_range(3, ~0U, 0);
                /* the daemon blocks SIGTERM, SIGHUP, SIGCHLD... for sd-event */
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);        /* ignored by the daemon, not by the program */
                execve(n->exec[0], n->exec, envp);
                _exit(127);
        }
        if (devnull >= 0)
                close(devnull);
        close(in[0]);
        close(er[1]);
        in[0] = er[1] = -1;
        o->in_fd = in[1];
        o->err_fd = er[0];
        (void) fcntl(o->in_fd, F_SETFL, O_NONBLOCK);
        (void) fcntl(o->err_fd, F_SETFL, O_NONBLOCK);
        for (size_t i = 0; envp[i]; i++)
                free(envp[i]);
        if ((r = sd_event_add_child(e, &o->child, o->pid, WEXITED, on_exec_exit, o)) < 0 ||
            (r = sd_event_add_io(e, &o->in_src, o->in_fd, EPOLLOUT, on_exec_stdin, o)) < 0 ||
            (r = sd_event_add_io(e, &o->err_src, o->err_fd, EPOLLIN, on_exec_stderr, o)) < 0 ||
            (r = sd_event_add_time_relative(e, &o->kill_timer, CLOCK_MONOTONIC, n->exec_timeout_usec, USEC_PER_MSEC,
                                            on_exec_timeout, o)) < 0) {
                /* cannot watch it: stop it, and try again later */
                (void) kill(-o->pid, SIGKILL);
                if (!o->child)
                        (void) waitpid(o->pid, NULL, 0);
                return r;
        }
        return 0;
fail:
        for (size_t i = 0; envp[i]; i++)
                free(envp[i]);
        for (int k = 0; k < 2; k++) {
                if (in[k] >= 0)
                        close(in[k]);
                if (er[k] >= 0)
                        close(er[k]);
        }
        return r;
}

/* ---- chained jobs ---------------------------------------------------------------- */

/* True when the job file `id` exists and was made by upstream: the chained
 * job was created before a crash, and is not created again. */
static bool made_by(struct deliver *d, const char *id, const char *upstream) {
        _cleanup_free_ char *path = store_job_path(d->engine->jobs_dir, id), *err = NULL;
        struct job *j = NULL;
        bool yes = store_load(path, &j, &err) >= 0 && streq_ptr(j->triggered_by, upstream);
        job_free(j);
        return yes;
}

static void run_chain(struct deliver *d, struct job *j, size_t idx) {
        struct followup *f = &j->followups[idx];
        const struct promotion *p = config_find_promotion(d->engine->config, f->promotion);
        struct log_ctx c = ctx_of(j);
        int r;

        if (!p || !p->after || !streq(p->after, j->promotion)) {
                log_full(LOG_WARNING, 0, &c, NULL, "the chained promotion %s is no longer after %s in the "
                         "configuration (reloaded); its job is not created", f->promotion, j->promotion);
                f->status = FOLLOWUP_DROPPED;
                f->done_usec = now_realtime_usec();
                save_job(d, j);
                return;
        }
        if (made_by(d, f->job_id, j->id)) {
                settle(d, j, idx, true, NULL);
                return;
        }
        r = d->create(d->userdata, p, f->job_id, j->id);
        if (r == -EEXIST) {
                /* the name was taken by another job meanwhile: a new one, saved
                 * before it is used, as the first was */
                char *id = store_new_job_id(d->engine->jobs_dir, p->name, now_realtime_usec());
                free(f->job_id);
                f->job_id = id;
                save_job(d, j);
                f->next_usec = now_realtime_usec();     /* at once, by the new name */
                return;
        }
        if (r >= 0)
                log_full(LOG_NOTICE, 0, &c, NULL, "%s succeeded: chained job %s of %s created", j->id, f->job_id,
                         p->name);
        if (r == -EBUSY || r == -EAGAIN) {
                /* waiting for the promotion's active job (or for the scan
                 * after start-up) is not a failure; the daemon calls
                 * deliver_retry_waiting() when a job or the scan ends (no
                 * wake-up every few seconds meanwhile).  The late try is
                 * for what ends without a job's end: a held job file moved
                 * away by an operator. */
                if (!f->waiting && r == -EBUSY)
                        log_full(LOG_INFO, 0, &c, NULL, "%s succeeded: chained job %s of %s waits until that "
                                 "promotion's active job ends", j->id, f->job_id, p->name);
                f->waiting = true;
                f->next_usec = now_realtime_usec() + DELIVER_WAIT_USEC;
                return;
        }
        f->waiting = false;
        _cleanup_free_ char *why = r < 0 ? xasprintf("cannot create job %s: %s", f->job_id, strerror(-r)) : NULL;
        settle(d, j, idx, r >= 0, why);
}

/* ---- the queue ---------------------------------------------------------------- */

static void start_one(struct deliver *d, struct job *j, size_t idx) {
        struct followup *f = &j->followups[idx];
        const struct notify *n = config_notify_of(d->engine->config,
                                                  config_find_promotion(d->engine->config, j->promotion));
        struct log_ctx c = ctx_of(j);
        _cleanup_free_ char *summary = NULL, *delivery = NULL;
        struct op *o;
        int r;

        if (f->kind == FOLLOWUP_CHAIN) {
                run_chain(d, j, idx);
                return;
        }
        if (f->kind == FOLLOWUP_UNKNOWN || (f->kind == FOLLOWUP_EXEC && !(n && n->exec)) ||
            (f->kind == FOLLOWUP_WEBHOOK && !(n && n->webhook_url))) {
                log_full(LOG_WARNING, 0, &c, NULL, "%s notification of event %s: no longer configured (the "
                         "configuration was changed); dropped", followup_kind_to_string(f->kind), f->event);
                f->status = FOLLOWUP_DROPPED;
                f->done_usec = now_realtime_usec();
                save_job(d, j);
                return;
        }
        summary = notify_summary(d->engine->config, j, f);
        delivery = notify_delivery_id(j, f);
        if (!summary) {
                settle(d, j, idx, false, "cannot build the summary");
                return;
        }
        o = xcalloc(1, sizeof *o);
        *o = (struct op) { .d = d, .job = j, .idx = idx, .in_fd = -1, .err_fd = -1 };
        if (f->kind == FOLLOWUP_WEBHOOK) {
                log_full(LOG_DEBUG, 0, &c, NULL, "webhook notification %s to %s", delivery, n->webhook_origin);
                r = start_webhook(o, n, summary, delivery);
        } else
                r = start_exec(o, n, summary, delivery);
        if (r < 0) {
                _cleanup_free_ char *why = xasprintf("cannot start: %s", strerror(-r));
                op_free(o);
                settle(d, j, idx, false, why);
                return;
        }
        d->ops = xrealloc(d->ops, (d->n_ops + 1) * sizeof *d->ops);
        d->ops[d->n_ops++] = o;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        kick(userdata);
        return 0;
}

/* Starts what is due, drops the jobs with nothing left, arms the timer
 * for the next retry. */
static void kick(struct deliver *d) {
        uint64_t now = now_realtime_usec(), next = 0;

        for (size_t t = 0; t < d->n; t++) {
                struct job *j = d->v[t].job;
                for (size_t i = 0; i < j->n_followups; i++) {
                        struct followup *f = &j->followups[i];
                        if (f->status != FOLLOWUP_PENDING || in_flight(d, j, i))
                                continue;
                        if (f->next_usec <= now && (f->kind == FOLLOWUP_CHAIN || d->n_ops < DELIVER_MAX_IN_FLIGHT))
                                start_one(d, j, i);
                        else if (f->next_usec <= now)
                                continue;       /* op_end() kicks again when a place frees up */
                        if (f->status == FOLLOWUP_PENDING && !in_flight(d, j, i) && (!next || f->next_usec < next))
                                next = f->next_usec;
                }
        }
        for (size_t t = 0; t < d->n;) {
                struct job *j = d->v[t].job;
                bool busy = job_followups_pending(j) > 0;
                for (size_t i = 0; !busy && i < d->n_ops; i++)
                        busy = d->ops[i]->job == j;
                if (busy) {
                        t++;
                        continue;
                }
                if (d->v[t].owned)
                        job_free(j);
                d->v[t] = d->v[--d->n];
        }
        if (!next) {
                sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time_relative(d->timer, next > now ? next - now : 0);
        sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

void deliver_job(struct deliver *d, struct job *j) {
        if (!d || !job_followups_pending(j))
                return;
        if (!find(d, j)) {
                d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
                d->v[d->n++] = (struct tracked) { .job = j };
        }
        kick(d);
}

void deliver_retry_waiting(struct deliver *d) {
        bool any = false;
        for (size_t t = 0; d && t < d->n; t++) {
                struct job *j = d->v[t].job;
                for (size_t i = 0; i < j->n_followups; i++)
                        if (j->followups[i].waiting && j->followups[i].status == FOLLOWUP_PENDING) {
                                /* still waiting (logged once) until it is made */
                                j->followups[i].next_usec = 0;
                                any = true;
                        }
        }
        if (any)
                kick(d);
}

struct job *deliver_find(struct deliver *d, const char *id) {
        for (size_t i = 0; d && i < d->n; i++)
                if (streq(d->v[i].job->id, id))
                        return d->v[i].job;
        return NULL;
}

bool deliver_release(struct deliver *d, struct job *j) {
        struct tracked *t = d ? find(d, j) : NULL;
        if (!t)
                return false;
        t->owned = true;
        return true;
}

int deliver_new(struct engine *e, deliver_create_fn create, void *userdata, struct deliver **ret) {
        struct deliver *d = xcalloc(1, sizeof *d);
        sigset_t mask;
        int r;

        d->engine = e;
        d->create = create;
        d->userdata = userdata;
        /* sd_event_add_child wants SIGCHLD blocked; a notify program that
         * closes its stdin early must not kill the daemon with SIGPIPE */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = sd_event_add_time_relative(e->event, &d->timer, CLOCK_MONOTONIC, UINT64_MAX / 2, USEC_PER_SEC / 10,
                                       on_timer, d);
        if (r < 0) {
                free(d);
                return r;
        }
        sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        *ret = d;
        return 0;
}

void deliver_free(struct deliver *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_ops; i++) {
                if (d->ops[i]->pid > 0 && d->ops[i]->child)
                        (void) kill(-d->ops[i]->pid, SIGTERM);
                op_free(d->ops[i]);
        }
        free(d->ops);
        for (size_t i = 0; i < d->n; i++)
                if (d->v[i].owned)
                        job_free(d->v[i].job);
        free(d->v);
        sd_event_source_disable_unref(d->timer);
        free(d);
}
