/* Unit tests of the state machine (daemon/job.c) through every edge of its
 * step table.
 *
 * Like chrony's tests, this includes the module's .c to reach its statics
 * (the table, import_may_have_left ...).  The HTTP layer is a fake defined
 * here: every function of http.h is, so that the linker never pulls http.o
 * from libdev2prod.a (a member pulled for one symbol would bring a second
 * definition of the others), and job.o is never pulled either, as nothing
 * else in the test refers to it.  The fake keeps each request pending until
 * the test answers it, so a test plays the server: it answers with a
 * status and a body, a curl error, or bytes written to the download file.
 * Timers (polls, retries) run on a real sd_event loop with 1 ms settings;
 * job files are written to a temp folder and read back. */
#include <check.h>
#include <ftw.h>

#include "check_run.h"
#include "../../daemon/job.c"

/* ---- the fake HTTP layer ------------------------------------------------- */

struct http {
        int unused;
};

struct http_req {
        bool busy;
        struct job *job;
        http_done_fn done;
        int download_fd;
        char *url, *body;
        bool upload, fresh;
};

static struct http fake_http;
static struct http_req pending[4];
static char sent[4096];                 /* "export export-poll ..." per request sent */
static unsigned n_cancelled;

int http_new(sd_event *e, struct http **ret) {
        *ret = &fake_http;
        return 0;
}

void http_free(struct http *h) {}

int http_start(struct http *h, const struct http_request *rq, http_done_fn done, void *userdata,
               struct http_req **ret) {
        struct job *j = userdata;

        for (size_t i = 0; i < ELEMENTSOF(pending); i++) {
                struct http_req *r = &pending[i];
                if (r->busy)
                        continue;
                *r = (struct http_req) { .busy = true, .job = j, .done = done, .download_fd = rq->download_fd,
                                         .url = xstrdup(rq->url), .body = xstrdup(rq->json_body),
                                         .upload = rq->upload_path != NULL, .fresh = rq->fresh_connection };
                snprintf(sent + strlen(sent), sizeof sent - strlen(sent), "%s%s", sent[0] ? " " : "",
                         job_state_to_string(j->state));
                *ret = r;
                return 0;
        }
        ck_abort_msg("more requests at once than the fake holds");
        return -ENOBUFS;
}

static void req_clear(struct http_req *r) {
        free(r->url);
        free(r->body);
        *r = (struct http_req) { .download_fd = -1 };
}

void http_cancel(struct http_req *r) {
        req_clear(r);
        n_cancelled++;
}

void http_progress(const struct http_req *r, uint64_t *ret_now, uint64_t *ret_total) {
        *ret_now = 512 * 1024;
        *ret_total = 1024 * 1024;
}

unsigned http_running(const struct http *h) {
        unsigned n = 0;
        for (size_t i = 0; i < ELEMENTSOF(pending); i++)
                n += pending[i].busy;
        return n;
}

/* as http.c: no connection was made */
bool http_result_not_sent(const struct http_result *res) {
        return res->code == CURLE_COULDNT_CONNECT || res->code == CURLE_COULDNT_RESOLVE_HOST ||
               res->code == CURLE_COULDNT_RESOLVE_PROXY;
}

static struct http_req *pending_of(const struct job *j) {
        for (size_t i = 0; i < ELEMENTSOF(pending); i++)
                if (pending[i].busy && pending[i].job == j)
                        return &pending[i];
        return NULL;
}

/* ---- the world: a config, an engine, a folder ----------------------------- */

#define ID_EXPORT "e-1"
#define ID_EXPORT_FILE "f-1"
#define ID_TARGET_FILE "t-1"
#define ID_DRY_RUN "d-1"
#define ID_IMPORT "i-1"
#define PACKAGE_BYTES "the package: forms and workflows"

static char dir[64];
static struct tenant tenants[2];
static struct config cfg;
static struct promotion promo;
static sd_event *ev;
static struct engine eng_;
static char states_seen[1024];          /* every state saved, in order */
static unsigned n_finished;

static void on_changed(struct engine *e, struct job *j) {
        snprintf(states_seen + strlen(states_seen), sizeof states_seen - strlen(states_seen), "%s%s",
                 states_seen[0] ? " " : "", job_state_to_string(j->state));
}

static void on_finished(struct engine *e, struct job *j) {
        n_finished++;
}

static void setup(void) {
        snprintf(dir, sizeof dir, "/tmp/test_machine.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        tenants[0] = (struct tenant) { .name = "dev", .url = "http://dev.invalid", .tenant_id = "111",
                                       .auth = { .type = AUTH_API_KEY, .secret = "dev-key" } };
        tenants[1] = (struct tenant) { .name = "prod", .url = "http://prod.invalid", .tenant_id = "222",
                                       .auth = { .type = AUTH_API_KEY, .secret = "prod-key" } };
        cfg = (struct config) { .state_directory = dir, .tenants = tenants, .n_tenants = 2 };
        promo = (struct promotion) { .name = "nightly", .package = "54321", .from = &tenants[0],
                                     .to = &tenants[1], .mode = MODE_IMPORT, .settings = settings_builtin };
        promo.settings.poll_interval_usec = USEC_PER_MSEC;
        promo.settings.retry_delay_usec = USEC_PER_MSEC;
        promo.settings.retries = 4;
        ck_assert_int_ge(sd_event_new(&ev), 0);
        ck_assert_int_ge(engine_init(&eng_, ev, &cfg), 0);
        eng_.job_changed = on_changed;
        eng_.job_finished = on_finished;
        for (size_t i = 0; i < ELEMENTSOF(pending); i++)
                req_clear(&pending[i]);
        sent[0] = states_seen[0] = 0;
        n_cancelled = n_finished = 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
        return remove(p);
}

static void teardown(void) {
        for (size_t i = 0; i < ELEMENTSOF(pending); i++)
                req_clear(&pending[i]);
        engine_done(&eng_);
        ev = sd_event_unref(ev);
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void wait_request(struct job *j, unsigned finished_before);

/* job_run saves the new job; its first request leaves only after the
 * loop has run the group commit's folder fsync (commit.h). */
static struct job *new_job(const char *id) {
        struct job *j = job_new(id, &promo, 0);
        unsigned f = n_finished;
        job_run(j, &eng_);
        wait_request(j, f);
        return j;
}

/* Another job in the same test: counted and logged from zero. */
static struct job *fresh_job(const char *id) {
        n_finished = 0;
        sent[0] = 0;
        return new_job(id);
}

static struct job *load(const char *id) {
        _cleanup_free_ char *path = store_job_path(eng_.jobs_dir, id), *err = NULL;
        struct job *j = NULL;
        ck_assert_msg(store_load(path, &j, &err) >= 0, "%s: %s", path, strempty(err));
        return j;
}

/* A restart: the job stops where it is, and a new one is read from its
 * file and resumed. */
static struct job *restart(struct job *j, void (*edit)(struct job *)) {
        _cleanup_free_ char *id = xstrdup(j->id);
        job_suspend(j);
        job_free(j);
        j = load(id);
        if (edit)
                edit(j);
        unsigned f = n_finished;
        job_run(j, &eng_);
        wait_request(j, f);
        return j;
}

/* Runs the loop (poll and retry timers) until j has a request out or it
 * stopped; a few hundred milliseconds at most. */
static void wait_request(struct job *j, unsigned finished_before) {
        for (unsigned i = 0; i < 200 && !pending_of(j) && n_finished == finished_before; i++)
                ck_assert_int_ge(sd_event_run(ev, 2 * USEC_PER_MSEC), 0);
}

static void deliver(struct job *j, struct http_result *res) {
        struct http_req *r = pending_of(j);
        struct http_req copy;
        unsigned f = n_finished;

        ck_assert_msg(r, "job %s in %s has no request out", j->id, job_state_to_string(j->state));
        copy = *r;
        *r = (struct http_req) { .download_fd = -1 };   /* the request is freed after its callback */
        copy.done(&copy, res, j);
        free(copy.url);
        free(copy.body);
        buf_free(&res->body);
        wait_request(j, f);
}

static void reply(struct job *j, long status, const char *body) {
        struct http_result res = { .code = CURLE_OK, .status = status, .content_length = -1 };
        buf_append(&res.body, body, strlen(body));
        deliver(j, &res);
}

/* No answer: a timeout, a refused connection ... */
static void fail_with(struct job *j, CURLcode code) {
        struct http_result res = { .code = code, .content_length = -1 };
        snprintf(res.error, sizeof res.error, "%s", curl_easy_strerror(code));
        buf_append(&res.body, "", 0);
        deliver(j, &res);
}

static void reply_download(struct job *j) {
        struct http_req *r = pending_of(j);
        struct http_result res = { .code = CURLE_OK, .status = 200, .bytes = strlen(PACKAGE_BYTES),
                                   .content_length = (int64_t) strlen(PACKAGE_BYTES) };
        ck_assert(r && r->download_fd >= 0);
        ck_assert_int_eq(write(r->download_fd, PACKAGE_BYTES, strlen(PACKAGE_BYTES)), (ssize_t) strlen(PACKAGE_BYTES));
        memset(res.sha256, 'a', 64);
        buf_append(&res.body, "", 0);
        deliver(j, &res);
}

/* ---- what the server says ------------------------------------------------- */

#define CREATED(id) "{\"Id\":\"" id "\"}"
#define EXPORT_RUNNING "{\"id\":\"" ID_EXPORT "\",\"Status\":\"IN_PROGRESS\"}"
#define EXPORT_DONE "{\"id\":\"" ID_EXPORT "\",\"Status\":\"COMPLETED\",\"FileId\":\"" ID_EXPORT_FILE "\"," \
                    "\"PackageBundleName\":\"Package-54321\",\"ItemCount\":352}"
#define STATS_OK "{\"Modified\":300,\"Removed\":0,\"Failed\":0,\"Skipped\":0}"
#define TOT_OK "{\"Added\":1,\"Modified\":300,\"Removed\":0,\"Failed\":0,\"Skipped\":0}"
#define STATUS(id, status, dry, errors, warnings, totals) \
        "{\"id\":\"" id "\",\"FileId\":\"" ID_TARGET_FILE "\",\"Status\":\"" status "\",\"DryRun\":" dry "," \
        "\"Results\":[{\"PackageName\":\"metadata\",\"Statistics\":" STATS_OK ",\"Errors\":" errors "," \
        "\"Warnings\":" warnings "}],\"Totals\":" totals "}"
#define DRY_RUNNING "{\"id\":\"" ID_DRY_RUN "\",\"FileId\":\"" ID_TARGET_FILE "\",\"Status\":\"IN_PROGRESS\",\"DryRun\":true}"
#define DRY_CLEAN STATUS(ID_DRY_RUN, "COMPLETED", "true", "[]", "[]", TOT_OK)
#define DRY_WARNINGS STATUS(ID_DRY_RUN, "COMPLETED", "true", "[]", "[\"deprecated\"]", TOT_OK)
#define DRY_REJECTED STATUS(ID_DRY_RUN, "COMPLETED", "true", "[\"form Intake is broken\"]", "[]", TOT_OK)
#define DRY_UNREADABLE "{\"id\":\"" ID_DRY_RUN "\",\"FileId\":\"" ID_TARGET_FILE "\",\"Status\":\"COMPLETED\"," \
                       "\"DryRun\":true,\"Results\":[]}"      /* no Totals */
#define IMPORT_RUNNING "{\"id\":\"" ID_IMPORT "\",\"FileId\":\"" ID_TARGET_FILE "\",\"Status\":\"IN_PROGRESS\",\"DryRun\":false}"
#define IMPORT_CLEAN STATUS(ID_IMPORT, "COMPLETED", "false", "[]", "[]", TOT_OK)
#define IMPORT_FAILED STATUS(ID_IMPORT, "COMPLETED", "false", "[\"no\"]", "[]", TOT_OK)
#define IMPORT_UNREADABLE STATUS(ID_IMPORT, "COMPLETED", "true", "[]", "[]", TOT_OK)    /* DryRun true */
#define NOT_JSON "<html>proxy error</html>"

/* The answer that moves a job in state s on. */
static void happy(struct job *j) {
        switch (j->state) {
        case JOB_EXPORT:       reply(j, 200, CREATED(ID_EXPORT)); break;
        case JOB_EXPORT_POLL:  reply(j, 200, EXPORT_DONE); break;
        case JOB_DOWNLOAD:     reply_download(j); break;
        case JOB_UPLOAD:       reply(j, 200, CREATED(ID_TARGET_FILE)); break;
        case JOB_DRY_RUN:      reply(j, 200, CREATED(ID_DRY_RUN)); break;
        case JOB_DRY_RUN_POLL: reply(j, 200, DRY_CLEAN); break;
        case JOB_IMPORT:       reply(j, 200, CREATED(ID_IMPORT)); break;
        case JOB_IMPORT_POLL:  reply(j, 200, IMPORT_CLEAN); break;
        default:               ck_abort_msg("no answer for state %s", job_state_to_string(j->state));
        }
}

/* Answers happily until j is in state s with its request out. */
static void drive_to(struct job *j, enum job_state s) {
        for (unsigned n = 0; j->state != s; n++) {
                ck_assert_msg(n < 20 && !job_state_is_final(j->state), "job stopped in %s on its way to %s",
                              job_state_to_string(j->state), job_state_to_string(s));
                happy(j);
        }
        ck_assert_ptr_nonnull(pending_of(j));
}

static void assert_ended(struct job *j, enum job_state end, const char *failure) {
        _cleanup_free_ char *id = xstrdup(j->id);
        struct job *k;

        ck_assert_msg(j->state == end, "job ended in %s (%s: %s), not %s", job_state_to_string(j->state),
                      strempty(j->failure), strempty(j->message), job_state_to_string(end));
        ck_assert_str_eq(strempty(j->failure), strempty(failure));
        ck_assert_ptr_null(pending_of(j));
        ck_assert_uint_eq(n_finished, 1);
        /* what is on disk says the same */
        k = load(id);
        ck_assert_int_eq(k->state, end);
        ck_assert_str_eq(strempty(k->failure), strempty(failure));
        ck_assert_str_eq(strempty(k->message), strempty(j->message));
        job_free(k);
}

static bool package_exists(const struct job *j) {
        return j->package_path && access(j->package_path, F_OK) == 0;
}

/* ---- the table itself ----------------------------------------------------- */

/* Edges that lead somewhere, in the table's own terms. */
START_TEST(table_is_consistent) {
        enum job_state s = JOB_EXPORT;
        unsigned imports = 0, n = 0;

        for (enum job_state i = 0; i < _JOB_STEPS; i++) {
                /* a step sends a request and judges its answer, or is the
                 * approval gate: nothing to send, nothing to hold, before
                 * the import */
                ck_assert(!steps[i].prepare == !steps[i].answer);
                if (is_wait_step(i)) {
                        ck_assert_int_eq(i, JOB_AWAITING_APPROVAL);
                        ck_assert_int_eq(steps[i].redo, REDO_WAIT);
                        ck_assert_int_eq(steps[i].per_target, MANY);
                        ck_assert(!import_reached(i) && steps[steps[i].next].kind == REQ_IMPORT);
                }
                ck_assert(steps[i].next < _JOB_STATE_MAX && steps[i].next != i);
                ck_assert(steps[i].back == NONE || steps[i].back < _JOB_STEPS);
                /* the target lock is about the target */
                ck_assert(steps[i].per_target == MANY || steps[i].side == TARGET);
                if (steps[i].kind == REQ_IMPORT) {
                        imports++;
                        ck_assert_int_eq(steps[i].redo, REDO_NEVER);
                        ck_assert_int_eq(steps[i].per_target, ONE);
                }
                /* going back never leads to the import again */
                ck_assert(steps[i].back == NONE || !import_reached(steps[i].back));
        }
        ck_assert_uint_eq(imports, 1);
        /* every step lies on the way from export to succeeded */
        for (; s < _JOB_STEPS; s = steps[s].next, n++)
                ck_assert_uint_lt(n, _JOB_STEPS);
        ck_assert_int_eq(s, JOB_SUCCEEDED);
        ck_assert_uint_eq(n, _JOB_STEPS);
        ck_assert(!import_reached(JOB_DRY_RUN_POLL));
        ck_assert(import_reached(JOB_IMPORT) && import_reached(JOB_IMPORT_POLL));
        ck_assert(!import_reached(JOB_SUCCEEDED));
}
END_TEST

START_TEST(data_columns) {
        struct job *j = job_new("x-1", &promo, 0);
        const char *v;

        ck_assert(job_state_transfers(JOB_DOWNLOAD) && job_state_transfers(JOB_UPLOAD));
        ck_assert(!job_state_transfers(JOB_EXPORT_POLL) && !job_state_transfers(JOB_SUCCEEDED));
        ck_assert_ptr_null(job_state_input(j, JOB_EXPORT, &v));
        ck_assert_str_eq(job_state_input(j, JOB_EXPORT_POLL, &v), "export_id");
        ck_assert_ptr_null(v);
        j->export_id = xstrdup("e-9");
        j->export.file_id = xstrdup("f-9");
        j->dry_run_id = xstrdup("d-9");
        j->import_id = xstrdup("i-9");
        j->target_file_id = xstrdup("t-9");
        ck_assert_str_eq(job_state_input(j, JOB_EXPORT_POLL, &v), "export_id");
        ck_assert_str_eq(v, "e-9");
        ck_assert_str_eq(job_state_input(j, JOB_DOWNLOAD, &v), "export.file_id");
        ck_assert_str_eq(v, "f-9");
        ck_assert_str_eq(job_state_input(j, JOB_DRY_RUN_POLL, &v), "dry_run_id");
        ck_assert_str_eq(v, "d-9");
        ck_assert_str_eq(job_state_input(j, JOB_IMPORT, &v), "target_file_id");
        ck_assert_str_eq(job_state_input(j, JOB_IMPORT_POLL, &v), "import_id");
        ck_assert_str_eq(v, "i-9");
        ck_assert_ptr_null(job_state_input(j, JOB_SUCCEEDED, &v));

        /* what `run --wait` prints, as ctl.c's switch did */
        {
                static const char *const want[_JOB_STEPS] = {
                        [JOB_EXPORT] = "exporting package 54321 from tenant dev",
                        [JOB_EXPORT_POLL] = "export id e-9",
                        [JOB_DOWNLOAD] = "export completed: FileId f-9, 0 items",
                        [JOB_UPLOAD] = NULL,            /* nothing downloaded */
                        [JOB_DRY_RUN] = "uploaded to tenant prod: file id t-9",
                        [JOB_DRY_RUN_POLL] = "dry run id d-9",
                        [JOB_IMPORT] = NULL,            /* no dry-run totals */
                        [JOB_IMPORT_POLL] = "import id i-9",
                };
                for (enum job_state s = 0; s < _JOB_STEPS; s++) {
                        _cleanup_free_ char *d = job_state_detail(j, s);
                        ck_assert_str_eq(strempty(d), strempty(want[s]));
                }
        }
        j->download_bytes = 3;
        memset(j->download_sha256, 'b', 64);
        j->dry_run.has_totals = true;
        j->dry_run.totals.modified = 2;
        {
                _cleanup_free_ char *u = job_state_detail(j, JOB_UPLOAD), *i = job_state_detail(j, JOB_IMPORT),
                                    *f = job_state_detail(j, JOB_FAILED), *r = job_result_text(j);
                ck_assert_str_eq(u, "downloaded 3 bytes, sha256 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
                ck_assert_str_eq(i, "dry run passed: added 0, modified 2, removed 0, failed 0, skipped 0");
                ck_assert_ptr_null(f);
                ck_assert_str_eq(r, "running (export)");
        }
        j->state = JOB_FAILED;
        j->failure = xstrdup("gave-up");
        {
                _cleanup_free_ char *r = job_result_text(j);
                ck_assert_str_eq(r, "failed: gave-up");
        }
        j->state = JOB_CANCELLED;
        {
                _cleanup_free_ char *r = job_result_text(j);
                ck_assert_str_eq(r, "cancelled");
        }
        job_free(j);
}
END_TEST

/* ---- the happy paths ------------------------------------------------------ */

START_TEST(happy_path_with_every_poll_again) {
        struct job *j = new_job("nightly-1");
        struct job *k;

        ck_assert_str_eq(states_seen, "export");
        ck_assert_str_eq(pending_of(j)->url, "http://dev.invalid/rest/111/dev2prod/export/types/54321");
        reply(j, 200, CREATED(ID_EXPORT));
        reply(j, 200, EXPORT_RUNNING);                  /* export-poll: poll again */
        ck_assert_str_eq(pending_of(j)->url, "http://dev.invalid/rest/111/dev2prod/export/" ID_EXPORT);
        reply(j, 200, EXPORT_DONE);
        ck_assert_str_eq(pending_of(j)->url, "http://dev.invalid/rest/111/ces/attachment/" ID_EXPORT_FILE);
        reply_download(j);
        ck_assert(pending_of(j)->upload);
        {
                /* progress is in bytes while the package moves */
                _cleanup_free_ char *p = job_describe_progress(j);
                ck_assert_str_eq(p, "uploading 50% of 1 MiB");
        }
        reply(j, 200, CREATED(ID_TARGET_FILE));
        ck_assert_str_eq(pending_of(j)->body, "{\"FileId\":\"" ID_TARGET_FILE "\"}");
        reply(j, 200, CREATED(ID_DRY_RUN));
        {
                _cleanup_free_ char *p = job_describe_progress(j);
                ck_assert_str_eq(p, "dry-running");
        }
        reply(j, 200, DRY_RUNNING);                     /* dry-run-poll: poll again */
        ck_assert_str_eq(pending_of(j)->url, "http://prod.invalid/rest/222/dev2prod/import/" ID_DRY_RUN);
        reply(j, 200, DRY_CLEAN);
        ck_assert(pending_of(j)->fresh);                /* the import never reuses a connection */
        ck_assert_str_eq(pending_of(j)->url, "http://prod.invalid/rest/222/dev2prod/import");
        reply(j, 200, CREATED(ID_IMPORT));
        reply(j, 200, IMPORT_RUNNING);                  /* import-poll: poll again */
        reply(j, 200, IMPORT_CLEAN);

        ck_assert_str_eq(states_seen, "export export-poll download upload dry-run dry-run-poll import import-poll "
                                      "succeeded");
        ck_assert_str_eq(sent, "export export-poll export-poll download upload dry-run dry-run-poll dry-run-poll "
                               "import import-poll import-poll");
        assert_ended(j, JOB_SUCCEEDED, NULL);
        ck_assert_str_eq(j->message, "imported package 54321 into tenant prod (import i-1): added 1, modified 300, "
                                     "removed 0, failed 0, skipped 0");
        ck_assert(!package_exists(j));                  /* not history */
        k = load(j->id);
        ck_assert_str_eq(k->export_id, ID_EXPORT);
        ck_assert_str_eq(k->export.file_id, ID_EXPORT_FILE);
        ck_assert_str_eq(k->target_file_id, ID_TARGET_FILE);
        ck_assert_str_eq(k->dry_run_id, ID_DRY_RUN);
        ck_assert_str_eq(k->import_id, ID_IMPORT);
        ck_assert_uint_eq(k->download_bytes, strlen(PACKAGE_BYTES));
        ck_assert_uint_eq(k->duplicates, 0);
        ck_assert_uint_eq(k->steps[JOB_EXPORT_POLL].attempts, 2);
        ck_assert_uint_eq(k->steps[JOB_IMPORT].attempts, 1);
        ck_assert(k->import.has_totals);
        for (enum job_state s = 0; s < _JOB_STEPS; s++)
                ck_assert(is_wait_step(s) ? !k->steps[s].started_usec :     /* approval: none */
                          k->steps[s].started_usec && k->steps[s].finished_usec >= k->steps[s].started_usec);
        job_free(k);
        job_free(j);
}
END_TEST

/* mode: dry-run: the edge into the import ends the job instead. */
START_TEST(dry_run_mode_stops_before_the_import) {
        struct job *j;

        promo.mode = MODE_DRY_RUN;
        j = new_job("nightly-1");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        ck_assert_str_eq(j->message, "dry run passed (mode: dry-run, nothing imported): added 1, modified 300, "
                                     "removed 0, failed 0, skipped 0");
        ck_assert_ptr_null(strstr(sent, "import"));
        ck_assert_str_eq(states_seen, "export export-poll download upload dry-run dry-run-poll succeeded");
        job_free(j);
}
END_TEST

/* ---- the approval gate ------------------------------------------------------- */

static const struct job_decision operator_ = { .user = (char *) "alice", .uid = 1001 };

START_TEST(approval_gate) {
        struct job *j, *k;
        char *err = NULL;

        promo.settings.approval = APPROVAL_REQUIRED;
        j = new_job("nightly-1");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        /* nothing is sent, the target tenant is free for other jobs */
        ck_assert_int_eq(j->state, JOB_AWAITING_APPROVAL);
        ck_assert_ptr_null(pending_of(j));
        ck_assert_ptr_nonnull(j->approval_timer);
        k = job_new("other-1", &promo, 0);
        k->engine = &eng_;
        ck_assert(engine_target_acquire(&eng_, k));
        ck_assert_ptr_null(engine_target_release(&eng_, k));
        job_free(k);
        /* a restart keeps it waiting, and sends nothing */
        j = restart(j, NULL);
        ck_assert_int_eq(j->state, JOB_AWAITING_APPROVAL);
        ck_assert_ptr_null(pending_of(j));
        /* approve: saved with who, before the import's state */
        ck_assert_int_eq(job_approve(j, &operator_, &err), 0);
        k = load("nightly-1");
        ck_assert_str_eq(k->approved.user, "alice");
        ck_assert_uint_eq(k->approved.uid, 1001);
        ck_assert_int_eq(k->state, JOB_IMPORT);
        job_free(k);
        ck_assert_int_eq(j->state, JOB_IMPORT);
        ck_assert_int_eq(job_approve(j, &operator_, &err), -EBUSY);    /* not awaiting any more */
        ck_assert_ptr_nonnull(strstr(err, "not awaiting approval"));
        free(err);
        /* the import's request waits for the folder fsync (commit.h) */
        ck_assert_ptr_null(pending_of(j));
        wait_request(j, n_finished);
        drive_to(j, JOB_IMPORT_POLL);
        reply(j, 200, IMPORT_CLEAN);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        ck_assert_str_eq(states_seen, "export export-poll download upload dry-run dry-run-poll awaiting-approval "
                                      "awaiting-approval awaiting-approval import import-poll succeeded");
        job_free(j);

        /* approved, then a crash before the import's state was saved: the
         * approval is not lost, the import is sent once */
        j = fresh_job("nightly-2");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        ck_assert_int_eq(j->state, JOB_AWAITING_APPROVAL);
        j->approved.user = xstrdup("bob");
        ck_assert_int_eq(store_save(eng_.jobs_dir, j), 0);
        j = restart(j, NULL);
        ck_assert_int_eq(j->state, JOB_IMPORT);
        ck_assert_ptr_nonnull(pending_of(j));
        ck_assert_uint_eq(j->steps[JOB_IMPORT].attempts, 1);
        job_suspend(j);
        job_free(j);

        /* mode: dry-run has nothing to approve */
        promo.mode = MODE_DRY_RUN;
        j = fresh_job("nightly-3");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        job_free(j);
}
END_TEST

static void past_deadline(struct job *j) {
        j->steps[JOB_AWAITING_APPROVAL].started_usec = now_realtime_usec() - j->settings.approval_timeout_usec - 1;
}

START_TEST(approval_reject_and_expire) {
        struct job *j, *k;
        char *err = NULL;

        promo.settings.approval = APPROVAL_REQUIRED;
        j = new_job("nightly-1");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        ck_assert_int_eq(job_reject(j, &operator_, "bad timing", &err), 0);
        assert_ended(j, JOB_FAILED, "rejected");
        k = load("nightly-1");
        ck_assert_str_eq(k->rejected.user, "alice");
        ck_assert_str_eq(k->rejected.reason, "bad timing");
        job_free(k);
        ck_assert_ptr_null(strstr(sent, "import "));
        ck_assert_int_eq(job_reject(j, &operator_, NULL, &err), -EBUSY);
        free(err);
        job_free(j);

        /* the deadline passed while the daemon was down: expired at once */
        j = fresh_job("nightly-2");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        j = restart(j, past_deadline);
        assert_ended(j, JOB_FAILED, "expired");
        job_free(j);

        /* and while it runs: the realtime timer */
        promo.settings.approval_timeout_usec = 20 * USEC_PER_MSEC;
        j = fresh_job("nightly-3");
        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_CLEAN);
        for (unsigned i = 0; i < 500 && !n_finished; i++)
                ck_assert_int_ge(sd_event_run(ev, 10 * USEC_PER_MSEC), 0);
        assert_ended(j, JOB_FAILED, "expired");
        ck_assert_ptr_null(strstr(sent, "import"));
        job_free(j);
}
END_TEST

/* ---- creating steps: retries and lost answers ----------------------------- */

START_TEST(creating_steps_retry_and_count_duplicates) {
        struct job *j = new_job("nightly-1");

        fail_with(j, CURLE_COULDNT_CONNECT);            /* never sent: no duplicate */
        reply(j, 503, "{\"message\":\"busy\"}");         /* not acted on: no duplicate */
        ck_assert_uint_eq(j->duplicates, 0);
        fail_with(j, CURLE_OPERATION_TIMEDOUT);         /* may have been acted on */
        ck_assert_uint_eq(j->duplicates, 1);
        ck_assert_int_eq(j->state, JOB_EXPORT);
        reply(j, 200, CREATED(ID_EXPORT));
        ck_assert_int_eq(j->state, JOB_EXPORT_POLL);
        drive_to(j, JOB_UPLOAD);
        reply(j, 502, "bad gateway");                   /* upload: a duplicate maybe */
        reply(j, 200, "{\"Id\": 7}");                   /* an unusable answer is a lost one */
        ck_assert_uint_eq(j->duplicates, 3);
        ck_assert_int_eq(j->state, JOB_UPLOAD);
        reply(j, 200, CREATED(ID_TARGET_FILE));
        reply(j, 200, NOT_JSON);                        /* dry run: lost answer */
        ck_assert_int_eq(j->state, JOB_DRY_RUN);
        reply(j, 200, CREATED(ID_DRY_RUN));
        ck_assert_int_eq(j->state, JOB_DRY_RUN_POLL);
        ck_assert_uint_eq(j->duplicates, 4);
        ck_assert_str_eq(sent, "export export export export export-poll download upload upload upload dry-run "
                               "dry-run dry-run-poll");
        drive_to(j, JOB_IMPORT_POLL);
        happy(j);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        {
                struct job *k = load(j->id);
                ck_assert_uint_eq(k->duplicates, 4);
                ck_assert_uint_eq(k->steps[JOB_UPLOAD].attempts, 3);
                job_free(k);
        }
        job_free(j);
}
END_TEST

START_TEST(retries_run_out) {
        struct job *j = new_job("nightly-1");

        for (unsigned i = 0; i < promo.settings.retries; i++)
                reply(j, 503, "busy");
        assert_ended(j, JOB_FAILED, "gave-up");
        ck_assert_str_eq(sent, "export export export export");
        job_free(j);
}
END_TEST

/* A resumed creating step sends again; a resumed poll polls its saved id. */
START_TEST(resume_resends_or_polls) {
        struct job *j = new_job("nightly-1");

        j = restart(j, NULL);                           /* in export: sent again */
        ck_assert_uint_eq(j->duplicates, 1);
        happy(j);
        j = restart(j, NULL);                           /* in export-poll: the saved id */
        ck_assert_str_eq(pending_of(j)->url, "http://dev.invalid/rest/111/dev2prod/export/" ID_EXPORT);
        ck_assert_uint_eq(j->duplicates, 1);
        drive_to(j, JOB_DOWNLOAD);
        j = restart(j, NULL);                           /* in download: from byte 0 */
        drive_to(j, JOB_DRY_RUN_POLL);
        j = restart(j, NULL);
        ck_assert_str_eq(pending_of(j)->url, "http://prod.invalid/rest/222/dev2prod/import/" ID_DRY_RUN);
        drive_to(j, JOB_IMPORT_POLL);
        j = restart(j, NULL);
        ck_assert_str_eq(pending_of(j)->url, "http://prod.invalid/rest/222/dev2prod/import/" ID_IMPORT);
        happy(j);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        ck_assert_str_eq(states_seen, "export export-poll download upload dry-run dry-run-poll import import-poll "
                                      "succeeded");
        ck_assert_str_eq(sent, "export export export-poll export-poll download download upload dry-run dry-run-poll "
                               "dry-run-poll import import-poll import-poll");
        ck_assert_uint_eq(n_cancelled, 5);              /* each restart dropped the request out */
        job_free(j);
}
END_TEST

/* ---- reads ----------------------------------------------------------------- */

START_TEST(reads_retry) {
        struct job *j = new_job("nightly-1");

        happy(j);
        reply(j, 500, "oops");                          /* export-poll: retried */
        reply(j, 200, NOT_JSON);                        /* garbled: retried */
        ck_assert_int_eq(j->state, JOB_EXPORT_POLL);
        happy(j);
        {
                struct http_req *r = pending_of(j);
                struct http_result res = { .code = CURLE_PARTIAL_FILE, .content_length = -1 };
                struct stat st;
                buf_append(&res.body, "", 0);
                ck_assert(r);
                ck_assert_int_eq(write(r->download_fd, "partial", 7), 7);
                deliver(j, &res);                       /* a failed try after some bytes */
                /* the next try started over from byte 0 */
                ck_assert_int_eq(j->state, JOB_DOWNLOAD);
                ck_assert_int_eq(stat(j->package_path, &st), 0);
                ck_assert_int_eq(st.st_size, 0);
        }
        happy(j);
        ck_assert_int_eq(j->state, JOB_UPLOAD);
        ck_assert_uint_eq(j->duplicates, 0);            /* reads are not duplicates */
        ck_assert_str_eq(sent, "export export-poll export-poll export-poll download download upload");
        job_cancel(j, "test over");
        assert_ended(j, JOB_CANCELLED, "cancelled");
        job_free(j);
}
END_TEST

START_TEST(download_disk_full) {
        struct job *j = new_job("nightly-1");
        struct http_result res = { .code = CURLE_WRITE_ERROR, .write_errno = ENOSPC, .content_length = -1 };

        drive_to(j, JOB_DOWNLOAD);
        buf_append(&res.body, "", 0);
        deliver(j, &res);
        assert_ended(j, JOB_FAILED, "disk");
        job_free(j);
}
END_TEST

START_TEST(export_failed_or_unreadable) {
        struct job *j = new_job("nightly-1");

        happy(j);
        reply(j, 200, "{\"id\":\"" ID_EXPORT "\",\"Status\":\"FAILED\"}");
        assert_ended(j, JOB_FAILED, "export-failed");
        job_free(j);

        j = fresh_job("nightly-2");
        happy(j);
        reply(j, 200, "{\"id\":\"" ID_EXPORT "\",\"Status\":\"COMPLETED\"}");  /* no FileId */
        assert_ended(j, JOB_FAILED, "bad-answer");
        job_free(j);
}
END_TEST

/* ---- the upload's way back to the download --------------------------------- */

static void forget_package(struct job *j) {
        ck_assert_int_eq(unlink(j->package_path), 0);
}

static void other_boot(struct job *j) {
        snprintf(j->package_boot_id, sizeof j->package_boot_id, "00000000-0000-0000-0000-000000000000");
}

START_TEST(upload_goes_back_to_download) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_UPLOAD);
        j = restart(j, forget_package);
        ck_assert_int_eq(j->state, JOB_DOWNLOAD);       /* saved, and downloading */
        ck_assert_str_eq(pending_of(j)->url, "http://dev.invalid/rest/111/ces/attachment/" ID_EXPORT_FILE);
        happy(j);
        ck_assert_int_eq(j->state, JOB_UPLOAD);
        j = restart(j, other_boot);                     /* the package was not flushed */
        ck_assert_int_eq(j->state, JOB_DOWNLOAD);
        drive_to(j, JOB_IMPORT_POLL);
        happy(j);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        ck_assert_str_eq(states_seen, "export export-poll download upload download upload download upload dry-run "
                                      "dry-run-poll import import-poll succeeded");
        /* each resumed upload went back before sending anything */
        ck_assert_str_eq(sent, "export export-poll download upload download upload download upload dry-run "
                               "dry-run-poll import import-poll");
        job_free(j);
}
END_TEST

/* ---- the dry run's verdicts ----------------------------------------------- */

/* Every verdict on the dry run but "clean" ends the job before its import. */
START_TEST(dry_run_refused) {
        static const struct {
                const char *body;
                enum on_warnings on_warnings;
                const char *failure;
        } refused[] = {
                { DRY_REJECTED,   ON_WARNINGS_PROCEED, "dry-run-rejected" },
                { DRY_UNREADABLE, ON_WARNINGS_PROCEED, "dry-run-unreadable" },
                { DRY_WARNINGS,   ON_WARNINGS_STOP,    "dry-run-warnings" },
        };

        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                char id[32];
                struct job *j;

                snprintf(id, sizeof id, "nightly-%zu", i + 1);
                promo.settings.on_warnings = refused[i].on_warnings;
                j = fresh_job(id);
                drive_to(j, JOB_DRY_RUN_POLL);
                reply(j, 200, refused[i].body);
                assert_ended(j, JOB_FAILED, refused[i].failure);
                ck_assert_ptr_null(strstr(sent, "import"));
                ck_assert_ptr_nonnull(strstr(j->message, "nothing was imported"));
                job_free(j);
        }
}
END_TEST

/* on_warnings: proceed takes warnings for clean. */
START_TEST(dry_run_warnings_proceed) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_DRY_RUN_POLL);
        reply(j, 200, DRY_WARNINGS);
        ck_assert_int_eq(j->state, JOB_IMPORT);
        job_cancel(j, "test over");
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");  /* the import was out */
        job_free(j);
}
END_TEST

/* ---- the import: once it may have left, only its verdict or "unknown" ------- */

START_TEST(import_answer_lost) {
        static const struct {
                CURLcode code;
                long status;
                const char *body;
        } lost[] = {
                { CURLE_OPERATION_TIMEDOUT, 0, "" },
                { CURLE_RECV_ERROR, 0, "" },
                { CURLE_OK, 502, "bad gateway" },
                { CURLE_OK, 500, "oops" },
                { CURLE_OK, 200, "{\"Id\": 7}" },       /* unusable */
                { CURLE_OK, 200, NOT_JSON },
                { CURLE_OK, 400, "{\"message\":\"no\"}" },      /* refused, but after it left */
        };

        for (size_t i = 0; i < ELEMENTSOF(lost); i++) {
                char id[32];
                struct job *j;
                struct http_result res = { .code = lost[i].code, .status = lost[i].status, .content_length = -1 };

                snprintf(id, sizeof id, "nightly-%zu", i + 1);
                j = fresh_job(id);
                drive_to(j, JOB_IMPORT);
                buf_append(&res.body, lost[i].body, strlen(lost[i].body));
                deliver(j, &res);
                assert_ended(j, JOB_FAILED, "import-outcome-unknown");
                ck_assert_ptr_nonnull(strstr(j->message, "not sent again"));
                ck_assert_uint_eq(j->steps[JOB_IMPORT].attempts, 1);
                job_free(j);
        }
}
END_TEST

/* 429, 503 and no connection say the import was not acted on: sent again. */
START_TEST(import_not_sent_is_retried) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_IMPORT);
        fail_with(j, CURLE_COULDNT_CONNECT);
        reply(j, 503, "busy");
        reply(j, 429, "slow down");
        ck_assert_int_eq(j->state, JOB_IMPORT);
        happy(j);
        happy(j);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        ck_assert_uint_eq(j->steps[JOB_IMPORT].attempts, 4);
        job_free(j);
}
END_TEST

START_TEST(import_verdicts) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_IMPORT_POLL);
        reply(j, 200, NOT_JSON);                        /* a read: retried */
        ck_assert_int_eq(j->state, JOB_IMPORT_POLL);
        reply(j, 200, IMPORT_FAILED);
        assert_ended(j, JOB_FAILED, "import-failed");
        job_free(j);

        j = fresh_job("nightly-2");
        drive_to(j, JOB_IMPORT_POLL);
        reply(j, 200, IMPORT_UNREADABLE);
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");
        job_free(j);
}
END_TEST

/* A daemon that stopped in the import cannot know whether it left. */
START_TEST(import_never_resent) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_IMPORT);
        j = restart(j, NULL);
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");
        ck_assert_str_eq(sent, "export export-poll download upload dry-run dry-run-poll import");
        job_free(j);
}
END_TEST

START_TEST(import_poll_times_out) {
        struct job *j;

        promo.settings.step_timeout_usec = 20 * USEC_PER_MSEC;
        j = new_job("nightly-1");
        drive_to(j, JOB_IMPORT_POLL);
        for (unsigned i = 0; i < 1000 && !job_state_is_final(j->state); i++)
                reply(j, 200, IMPORT_RUNNING);
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");
        ck_assert_ptr_nonnull(strstr(j->message, "step_timeout"));
        job_free(j);

        j = fresh_job("nightly-2");
        drive_to(j, JOB_EXPORT_POLL);
        for (unsigned i = 0; i < 1000 && !job_state_is_final(j->state); i++)
                reply(j, 200, EXPORT_RUNNING);
        assert_ended(j, JOB_FAILED, "timeout");
        job_free(j);
}
END_TEST

/* ---- cancel ------------------------------------------------------------------ */

START_TEST(cancel_before_and_after_the_import) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_DRY_RUN_POLL);
        job_cancel(j, "operator");
        assert_ended(j, JOB_CANCELLED, "cancelled");
        ck_assert_uint_eq(n_cancelled, 1);
        job_free(j);

        j = fresh_job("nightly-2");
        drive_to(j, JOB_IMPORT);                        /* the import is out */
        ck_assert(import_may_have_left(j));
        job_cancel(j, "operator");
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");
        job_free(j);

        j = fresh_job("nightly-3");
        drive_to(j, JOB_IMPORT_POLL);
        job_cancel(j, "operator");
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");
        job_free(j);
}
END_TEST

/* ---- saved inputs -------------------------------------------------------------- */

static void drop_export_id(struct job *j) {
        free(j->export_id);
        j->export_id = NULL;
}

static void drop_import_id(struct job *j) {
        free(j->import_id);
        j->import_id = NULL;
}

START_TEST(missing_input_fails_before_sending) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_EXPORT_POLL);
        j = restart(j, drop_export_id);
        assert_ended(j, JOB_FAILED, "local");
        ck_assert_ptr_nonnull(strstr(j->message, "export_id"));
        ck_assert_str_eq(sent, "export export-poll");
        job_free(j);

        j = fresh_job("nightly-2");
        drive_to(j, JOB_IMPORT_POLL);
        j = restart(j, drop_import_id);
        assert_ended(j, JOB_FAILED, "import-outcome-unknown");
        job_free(j);
}
END_TEST

/* ---- superseded ---------------------------------------------------------------- */

static void newer_exists(struct job *j) {
        j->superseded_by = xstrdup("nightly-9");
}

START_TEST(superseded_stops_before_the_import_only) {
        struct job *j = new_job("nightly-1");

        drive_to(j, JOB_DRY_RUN_POLL);
        j = restart(j, newer_exists);
        assert_ended(j, JOB_FAILED, "superseded");
        job_free(j);

        j = fresh_job("nightly-2");
        drive_to(j, JOB_IMPORT_POLL);
        j = restart(j, newer_exists);                   /* past the import: goes on */
        ck_assert_int_eq(j->state, JOB_IMPORT_POLL);
        happy(j);
        assert_ended(j, JOB_SUCCEEDED, NULL);
        job_free(j);
}
END_TEST

/* ---- the target lock ------------------------------------------------------------- */

/* Group commit (commit.h): a save replaces the file at once, but the
 * state's request leaves only after the folder fsync, which the saves of
 * one pass through the loop share. */
START_TEST(group_commit_sends_after_the_folder_fsync) {
        struct job *a = job_new("nightly-1", &promo, 0), *b = job_new("weekly-1", &promo, 0), *k;
        unsigned long batches = eng_.commit.batches;

        job_run(a, &eng_);
        job_run(b, &eng_);
        /* both files are in place, neither request is out yet */
        k = load("nightly-1");
        ck_assert_int_eq(k->state, JOB_EXPORT);
        job_free(k);
        ck_assert_ptr_null(pending_of(a));
        ck_assert_ptr_null(pending_of(b));
        ck_assert_uint_eq(eng_.commit.n, 2);
        wait_request(a, n_finished);
        ck_assert_ptr_nonnull(pending_of(a));
        ck_assert_ptr_nonnull(pending_of(b));
        ck_assert_uint_eq(eng_.commit.batches, batches + 1);      /* one fsync for both */
        ck_assert_uint_eq(eng_.commit.n, 0);
        job_suspend(b);
        job_free(b);
        /* a job that stops while it waits leaves the batch: not told */
        reply(a, 200, CREATED(ID_EXPORT));
        ck_assert_int_eq(a->state, JOB_EXPORT_POLL);
        b = job_new("weekly-2", &promo, 0);
        job_run(b, &eng_);
        ck_assert_uint_eq(eng_.commit.n, 1);
        job_suspend(b);
        ck_assert_uint_eq(eng_.commit.n, 0);
        job_free(b);
        for (int i = 0; i < 5; i++)
                ck_assert_int_ge(sd_event_run(ev, 0), 0);
        job_suspend(a);
        job_free(a);
}
END_TEST

START_TEST(one_job_per_target_in_the_locked_steps) {
        struct job *a = new_job("nightly-1"), *b = new_job("other-1");

        drive_to(a, JOB_DRY_RUN);
        drive_to(b, JOB_UPLOAD);                        /* uploads overlap freely */
        happy(b);
        ck_assert_int_eq(b->state, JOB_DRY_RUN);
        ck_assert_ptr_null(pending_of(b));              /* waits for a */
        drive_to(a, JOB_IMPORT_POLL);
        ck_assert_ptr_null(pending_of(b));
        happy(a);
        ck_assert_int_eq(a->state, JOB_SUCCEEDED);
        ck_assert_ptr_nonnull(pending_of(b));           /* its turn */
        ck_assert_uint_eq(n_finished, 1);
        drive_to(b, JOB_IMPORT_POLL);
        happy(b);
        ck_assert_int_eq(b->state, JOB_SUCCEEDED);
        job_free(a);
        job_free(b);
}
END_TEST

int main(void) {
        Suite *s = suite_create("machine");
        TCase *tc = tcase_create("edges");

        log_set_max_level(getenv("TEST_MACHINE_LOG") ? LOG_DEBUG : LOG_EMERG);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, table_is_consistent);
        tcase_add_test(tc, data_columns);
        tcase_add_test(tc, happy_path_with_every_poll_again);
        tcase_add_test(tc, group_commit_sends_after_the_folder_fsync);
        tcase_add_test(tc, dry_run_mode_stops_before_the_import);
        tcase_add_test(tc, approval_gate);
        tcase_add_test(tc, approval_reject_and_expire);
        tcase_add_test(tc, creating_steps_retry_and_count_duplicates);
        tcase_add_test(tc, retries_run_out);
        tcase_add_test(tc, resume_resends_or_polls);
        tcase_add_test(tc, reads_retry);
        tcase_add_test(tc, download_disk_full);
        tcase_add_test(tc, export_failed_or_unreadable);
        tcase_add_test(tc, upload_goes_back_to_download);
        tcase_add_test(tc, dry_run_refused);
        tcase_add_test(tc, dry_run_warnings_proceed);
        tcase_add_test(tc, import_answer_lost);
        tcase_add_test(tc, import_not_sent_is_retried);
        tcase_add_test(tc, import_verdicts);
        tcase_add_test(tc, import_never_resent);
        tcase_add_test(tc, import_poll_times_out);
        tcase_add_test(tc, cancel_before_and_after_the_import);
        tcase_add_test(tc, missing_input_fails_before_sending);
        tcase_add_test(tc, superseded_stops_before_the_import_only);
        tcase_add_test(tc, one_job_per_target_in_the_locked_steps);
        suite_add_tcase(s, tc);
        return check_run(s);
}
