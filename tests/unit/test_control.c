/* Unit tests of the control socket: the server (control.c) answers each
 * request through the handler its owner gives it, and the client
 * (ctlclient.c) gets the answer line.  The client runs in a thread: it
 * blocks, and the server needs the event loop turning. */
#include <check.h>
#include <pwd.h>
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "control.h"
#include "ctlclient.h"
#include "util.h"

/* What the fake daemon was asked. */
struct calls {
        char run[64], cancel[64], job[64];
        char decided[128];      /* "VERB ID uid USER [REASON]" */
};

static int fake_run(void *userdata, const char *name, char **ret_id, char **ret_err) {
        struct calls *c = userdata;
        snprintf(c->run, sizeof c->run, "%s", name);
        if (!streq(name, "nightly")) {
                *ret_err = xasprintf("no promotion named '%s'", name);
                return -ENOENT;
        }
        *ret_id = xstrdup("nightly-1");
        return 0;
}

static int fake_cancel(void *userdata, const char *id, char **ret_err) {
        struct calls *c = userdata;
        snprintf(c->cancel, sizeof c->cancel, "%s", id);
        if (!streq(id, "nightly-1")) {
                *ret_err = xasprintf("no running or queued job '%s'", id);
                return -ENOENT;
        }
        return 0;
}

static bool fake_has_job(void *userdata, const char *id) {
        struct calls *c = userdata;
        snprintf(c->job, sizeof c->job, "%s", id);
        return streq(id, "nightly-1");
}

static void note(struct calls *c, const char *verb, const char *id, const struct control_peer *who, const char *x) {
        snprintf(c->decided + strlen(c->decided), sizeof c->decided - strlen(c->decided), "%s%s %s %u %s%s%s",
                 c->decided[0] ? "; " : "", verb, id, who->uid, who->user, x ? " " : "", x ? x : "");
}

static int fake_approve(void *userdata, const char *id, const struct control_peer *who, char **ret_err) {
        note(userdata, "approve", id, who, NULL);
        return 0;
}

static int fake_reject(void *userdata, const char *id, const char *reason, const struct control_peer *who,
                       char **ret_err) {
        note(userdata, "reject", id, who, reason);
        return 0;
}

static int fake_resolve(void *userdata, const char *id, bool imported, const struct control_peer *who,
                        char **ret_id, char **ret_err) {
        note(userdata, "resolve", id, who, imported ? "imported" : "not-imported");
        *ret_id = xstrdup(imported ? id : "nightly-2");
        return 0;
}

static const struct control_handler fake = { .run = fake_run, .cancel = fake_cancel, .has_job = fake_has_job,
                                             .approve = fake_approve, .reject = fake_reject,
                                             .resolve = fake_resolve };

static const char *const requests[] = {
        "ping", "run nightly", "run weekly", "cancel nightly-1", "cancel nope", "job nightly-1", "job nope",
        "frobnicate", "approve nightly-1", "reject nightly-1 too risky now", "resolve nightly-1 not-imported",
        "resolve nightly-1 maybe",
};
#define N_REQ ELEMENTSOF(requests)

struct client {
        const char *path;
        int done_fd;            /* written when all answers are in */
        char *answers[N_REQ];
        int r[N_REQ];
};

static void *client_thread(void *userdata) {
        struct client *cl = userdata;
        for (size_t i = 0; i < N_REQ; i++)
                cl->r[i] = control_request(cl->path, requests[i], &cl->answers[i]);
        (void) write(cl->done_fd, "x", 1);
        return NULL;
}

static int on_client_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

START_TEST(requests_reach_the_handler) {
        char dir[] = "/tmp/d2p-control.XXXXXX";
        _cleanup_free_ char *path = NULL, *pong = NULL;
        struct calls calls = {};
        struct client cl = {};
        struct control *ctl = NULL;
        sd_event *e = NULL;
        pthread_t t;
        int pipefd[2];
        struct stat st;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        path = xasprintf("%s/control.sock", dir);
        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(control_open(e, path, &fake, &calls, &ctl), 0);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0660);

        ck_assert_int_eq(pipe(pipefd), 0);
        ck_assert_int_ge(sd_event_add_io(e, NULL, pipefd[0], EPOLLIN, on_client_done, NULL), 0);
        cl.path = path;
        cl.done_fd = pipefd[1];
        ck_assert_int_eq(pthread_create(&t, NULL, client_thread, &cl), 0);
        ck_assert_int_ge(sd_event_loop(e), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);

        for (size_t i = 0; i < N_REQ; i++)
                ck_assert_msg(cl.r[i] == 0, "%s: %s", requests[i], strerror(-cl.r[i]));
        pong = xasprintf("ok %d", (int) getpid());
        ck_assert_str_eq(cl.answers[0], pong);
        ck_assert_str_eq(cl.answers[1], "ok nightly-1");
        ck_assert_str_eq(cl.answers[2], "error no promotion named 'weekly'");
        ck_assert_str_eq(cl.answers[3], "ok nightly-1");
        ck_assert_str_eq(cl.answers[4], "error no running or queued job 'nope'");
        ck_assert_str_eq(cl.answers[5], "ok active");
        ck_assert_str_eq(cl.answers[6], "ok inactive");
        ck_assert_str_eq(cl.answers[7], "error unknown request (expected: run NAME, cancel JOB, approve JOB, "
                                        "reject JOB, resolve JOB, ping)");
        ck_assert_str_eq(cl.answers[8], "ok nightly-1");
        ck_assert_str_eq(cl.answers[9], "ok nightly-1");
        ck_assert_str_eq(cl.answers[10], "ok nightly-2");      /* the new job */
        ck_assert_ptr_nonnull(strstr(cl.answers[11], "error usage:"));
        /* who asked: the peer of the connection (this process) */
        {
                struct passwd *pw = getpwuid(getuid());
                _cleanup_free_ char *user = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) getuid());
                _cleanup_free_ char *want = xasprintf("approve nightly-1 %u %s; reject nightly-1 %u %s too risky now; "
                                                      "resolve nightly-1 %u %s not-imported", (unsigned) getuid(),
                                                      user, (unsigned) getuid(), user, (unsigned) getuid(), user);
                ck_assert_str_eq(calls.decided, want);
        }
        /* the last of each kind the handler saw */
        ck_assert_str_eq(calls.run, "weekly");
        ck_assert_str_eq(calls.cancel, "nope");
        ck_assert_str_eq(calls.job, "nope");
        for (size_t i = 0; i < N_REQ; i++)
                free(cl.answers[i]);

        control_close(ctl);
        ck_assert_int_eq(access(path, F_OK), -1);       /* the socket is gone */
        close(pipefd[0]);
        close(pipefd[1]);
        sd_event_unref(e);
        rmdir(dir);
}
END_TEST

START_TEST(no_daemon) {
        char *answer = NULL;
        ck_assert_int_eq(control_request("/tmp/d2p-control-none/control.sock", "ping", &answer), -ENOENT);
        ck_assert_ptr_null(answer);
}
END_TEST

int main(void) {
        Suite *s = suite_create("control");
        TCase *tc = tcase_create("control");
        tcase_add_test(tc, requests_reach_the_handler);
        tcase_add_test(tc, no_daemon);
        suite_add_tcase(s, tc);
        return check_run(s);
}
