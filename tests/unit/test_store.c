/* Unit tests of job files: round trip of every field, refusal of damaged
 * files, the listing, the lock, and the state names table. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "api.h"
#include "failure.h"
#include "job.h"
#include "resolve.h"
#include "store.h"

static char dir[] = "/tmp/d2p-store.XXXXXX";

static struct job *sample(void) {
        struct tenant from = { .name = "dev", .url = "https://dev.example.net", .tenant_id = "111" };
        struct tenant to = { .name = "prod", .url = "https://example.net", .tenant_id = "222" };
        struct promotion p = {
                .name = "forms-nightly", .package = "54321", .from = &from, .to = &to, .mode = MODE_IMPORT,
                .settings = { .poll_interval_usec = 15000000, .step_timeout_usec = 7200000000ULL, .retries = 6,
                              .on_warnings = ON_WARNINGS_STOP, .retry_delay_usec = 1000000,
                              .connect_timeout_usec = 30000000, .low_speed_time_usec = 60000000,
                              .request_timeout_usec = 300000000 },
        };
        struct job *j = job_new("forms-nightly-20261128T023000Z", &p, 1795746600000000ULL);
        j->state = JOB_DRY_RUN_POLL;
        j->export_id = strdup("exp1");
        j->export.status = strdup("COMPLETED");
        j->export.file_id = strdup("file-src");
        j->export.item_count = 352;
        j->export.n_stats = 1;
        j->export.stats = calloc(1, sizeof *j->export.stats);
        j->export.stats[0].name = strdup("workflow");
        j->export.stats[0].items = 24;
        j->package_path = strdup("/x/y.pkg");
        j->download_bytes = 123456789012ULL;
        strcpy(j->download_sha256, "ab12");
        j->target_file_id = strdup("file-dst");
        j->dry_run_id = strdup("dry1");
        j->dry_run.status = strdup("COMPLETED");
        j->dry_run.has_totals = true;
        j->dry_run.totals.modified = 326;
        j->dry_run.n_results = 1;
        j->dry_run.results = calloc(1, sizeof *j->dry_run.results);
        j->dry_run.results[0].package = strdup("metadata");
        j->dry_run.results[0].n_warnings = 1;
        j->dry_run.results[0].warnings = calloc(1, sizeof(char *));
        j->dry_run.results[0].warnings[0] = strdup("caf\xc3\xa9 \"quoted\"\n");
        j->steps[JOB_EXPORT].started_usec = 1;
        j->steps[JOB_EXPORT].finished_usec = 2;
        j->steps[JOB_EXPORT].attempts = 3;
        j->duplicates = 2;
        j->message = strdup("hello");
        return j;
}

START_TEST(round_trip) {
        struct job *j = sample(), *k = NULL;
        char *err = NULL, *a, *b, *path;
        ck_assert_int_eq(store_save(dir, j), 0);
        path = store_job_path(dir, j->id);
        ck_assert_int_eq(store_load(path, &k, &err), 0);
        a = store_job_to_json(j, true);
        b = store_job_to_json(k, true);
        ck_assert_str_eq(a, b);         /* every field survives */
        ck_assert_int_eq(k->state, JOB_DRY_RUN_POLL);
        ck_assert_uint_eq(k->download_bytes, 123456789012ULL);
        ck_assert_str_eq(k->dry_run.results[0].warnings[0], "caf\xc3\xa9 \"quoted\"\n");
        ck_assert_int_eq(k->settings.on_warnings, ON_WARNINGS_STOP);
        ck_assert_uint_eq(k->settings.step_timeout_usec, 7200000000ULL);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0640);  /* the service's group reads it */
        free(a); free(b); free(path);
        job_free(j); job_free(k);
}
END_TEST

/* The approval gate's and resolve's fields (issue 11 parts 4, 5): saved and
 * read back; a file without them (every older one) has none. */
START_TEST(decisions_round_trip) {
        struct job *j = sample(), *k = NULL;
        char *err = NULL, *a, *b, *path;

        j->state = JOB_AWAITING_APPROVAL;
        j->settings.approval = APPROVAL_REQUIRED;
        j->settings.approval_timeout_usec = 43200000000ULL;
        j->steps[JOB_AWAITING_APPROVAL].started_usec = 1000;
        j->approved = (struct job_decision) { .user = strdup("alice"), .uid = 1001, .usec = 77 };
        j->rejected = (struct job_decision) { .user = strdup("0"), .uid = 0, .usec = 78, .reason = strdup("why \"not\"") };
        j->resolved = (struct job_decision) { .user = strdup("bob"), .uid = 1002, .usec = 79, .reason = strdup("imported") };
        j->resolved_from = strdup("import-outcome-unknown");
        j->resolved_by_job = strdup("forms-nightly-20261129T023000Z");
        j->resolves = strdup("forms-nightly-20261127T023000Z");
        ck_assert_int_eq(store_save(dir, j), 0);
        path = store_job_path(dir, j->id);
        ck_assert_int_eq(store_load(path, &k, &err), 0);
        a = store_job_to_json(j, true);
        b = store_job_to_json(k, true);
        ck_assert_str_eq(a, b);
        ck_assert_ptr_nonnull(strstr(a, "\"state\": \"awaiting-approval\""));
        ck_assert_ptr_nonnull(strstr(a, "\"approval\": \"required\""));
        ck_assert_int_eq(k->state, JOB_AWAITING_APPROVAL);
        ck_assert_int_eq(k->settings.approval, APPROVAL_REQUIRED);
        ck_assert_uint_eq(job_approval_deadline(k), 1000 + 43200000000ULL);
        ck_assert_str_eq(k->approved.user, "alice");
        ck_assert_uint_eq(k->approved.uid, 1001);
        ck_assert_uint_eq(k->approved.usec, 77);
        ck_assert_ptr_null(k->approved.reason);
        ck_assert_str_eq(k->rejected.user, "0");
        ck_assert_str_eq(k->rejected.reason, "why \"not\"");
        ck_assert_str_eq(k->resolved.reason, "imported");
        ck_assert_str_eq(k->resolved_from, "import-outcome-unknown");
        ck_assert_str_eq(k->resolved_by_job, "forms-nightly-20261129T023000Z");
        ck_assert_str_eq(k->resolves, "forms-nightly-20261127T023000Z");
        free(a); free(b); free(path);
        job_free(j); job_free(k);
}
END_TEST

/* resolve.h: only an import-outcome-unknown ending, once; --imported turns
 * it into succeeded keeping what it was; the new job of --not-imported
 * dry-runs old's uploaded file. */
START_TEST(resolve_rules) {
        struct tenant from = { .name = "dev", .url = "https://dev.example.net", .tenant_id = "111" };
        struct tenant to = { .name = "prod", .url = "https://example.net", .tenant_id = "222" };
        struct promotion p = { .name = "forms-nightly", .package = "99999", .from = &from, .to = &to,
                               .mode = MODE_IMPORT, .settings = settings_builtin };
        struct job_decision who = { .user = (char *) "carol", .uid = 1003 };
        struct job *j = sample(), *n;
        char *err = NULL;

        ck_assert_int_eq(resolve_check(j, true, &err), -EBUSY);        /* still running */
        ck_assert_ptr_nonnull(strstr(err, "import-outcome-unknown"));
        free(err); err = NULL;
        j->state = JOB_FAILED;
        j->failure = strdup("import-failed");
        ck_assert_int_eq(resolve_check(j, false, &err), -EBUSY);       /* a verdict, not unknown */
        free(err); err = NULL;
        free(j->failure);
        j->failure = strdup(failure_to_string(FAILURE_IMPORT_OUTCOME_UNKNOWN));
        ck_assert_int_eq(resolve_check(j, true, &err), 0);

        n = resolve_new_job(j, &p, "forms-nightly-20261130T000000Z", &err);
        ck_assert_ptr_nonnull(n);
        ck_assert_int_eq(n->state, JOB_DRY_RUN);
        ck_assert_str_eq(n->target_file_id, "file-dst");
        ck_assert_str_eq(n->package, "54321");                  /* the uploaded package, not today's */
        ck_assert_str_eq(n->resolves, j->id);
        ck_assert_int_eq(n->mode, MODE_IMPORT);
        job_free(n);
        p.mode = MODE_DRY_RUN;
        ck_assert_ptr_null(resolve_new_job(j, &p, "x-1", &err));
        free(err); err = NULL;
        p.mode = MODE_IMPORT;
        to.tenant_id = "333";
        ck_assert_ptr_null(resolve_new_job(j, &p, "x-1", &err));
        ck_assert_ptr_nonnull(strstr(err, "another tenant"));
        free(err); err = NULL;

        /* not imported, interrupted before the new job was saved: old names
         * it, and only a second --not-imported may finish it */
        resolve_mark_not_imported(j, &who, "forms-nightly-20261130T000000Z");
        ck_assert_int_eq(resolve_check(j, false, &err), 0);
        ck_assert_int_eq(resolve_check(j, true, &err), -EALREADY);
        free(err); err = NULL;
        job_decision_free(&j->resolved);
        free(j->resolved_by_job);
        j->resolved_by_job = NULL;

        resolve_as_imported(j, &who);
        ck_assert_int_eq(j->state, JOB_SUCCEEDED);
        ck_assert_ptr_null(j->failure);
        ck_assert_str_eq(j->resolved_from, "import-outcome-unknown");
        ck_assert_str_eq(j->resolved.user, "carol");
        ck_assert_str_eq(j->resolved.reason, "imported");
        ck_assert_ptr_nonnull(strstr(j->message, "carol (uid 1003)"));
        ck_assert_int_eq(resolve_check(j, true, &err), -EALREADY);      /* once */
        free(err);
        job_free(j);
}
END_TEST

/* tests/unit/jobfiles/NAME: $SRCDIR/..., else found by __FILE__ (which is
 * tests/unit/test_store.c, relative to the top folder). */
static char *jobfile_path(const char *name) {
        const char *srcdir = getenv("SRCDIR");
        char *top, *s, *p;

        if (srcdir)
                return xasprintf("%s/tests/unit/jobfiles/%s", srcdir, name);
        top = xstrdup(__FILE__);
        if ((s = strstr(top, "tests/unit/test_store.c")))
                *s = 0;
        p = xasprintf("%stests/unit/jobfiles/%s", top, name);
        free(top);
        return p;
}

/* The lines of the "settings" object of a pretty job file, from its key
 * to its last value; "" when there is none. */
static char *settings_block(const char *text, const char **ret_start, const char **ret_end) {
        const char *a = strstr(text, "\n    \"settings\": {\n"), *b;
        if (!a)
                return strdup("");
        a = strchr(a + 1, '\n') + 1;
        b = strstr(a, "\n    }");
        ck_assert_ptr_nonnull(b);
        if (ret_start)
                *ret_start = a;
        if (ret_end)
                *ret_end = b;
        return strndup(a, (size_t) (b - a));
}

/* text, without the settings that the settings of old do not name: a
 * setting added since old was written is in every file written now (as 0
 * when the job's file did not have it), and is no difference in what was
 * kept. */
static char *without_new_settings(const char *text, const char *old) {
        _cleanup_free_ char *old_block = settings_block(old, NULL, NULL);
        const char *a = NULL, *b = NULL;
        _cleanup_free_ char *block = settings_block(text, &a, &b);
        struct buf out = {};
        bool first = true;

        if (!a)
                return strdup(text);
        buf_append(&out, text, (size_t) (a - text));
        for (char *line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
                _cleanup_free_ char *key = strndup(line, strcspn(line, ":") + 1);
                size_t l = strlen(line);
                if (!strstr(old_block, key))
                        continue;
                if (line[l - 1] == ',')
                        line[--l] = 0;
                if (!first)
                        buf_append(&out, ",\n", 2);
                buf_append(&out, line, l);
                first = false;
        }
        buf_append(&out, b, strlen(b));
        return out.data;
}

/* Job files written by the version before the writer and the reader became
 * one table each (format1-full.json has every field there is, the other a
 * job as created): they load, and are written again byte for byte (but for
 * settings added since), so files of older versions resume and compare
 * unchanged. */
START_TEST(old_files_round_trip) {
        static const char *const files[] = { "format1-full.json", "format1-new.json" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char *path = jobfile_path(files[i]), *text = NULL, *err = NULL, *again;
                struct job *j = NULL;
                size_t len;

                ck_assert_msg(read_file_small(path, STORE_MAX_FILE, &text, &len) == 0, "cannot read %s", path);
                ck_assert_msg(store_job_from_json(text, len, &j, &err) == 0, "%s: %s", path, err);
                again = store_job_to_json(j, true);
                _cleanup_free_ char *same = without_new_settings(again, text);
                ck_assert_str_eq(same, text);
                if (i == 0) {
                        ck_assert_int_eq(j->state, JOB_FAILED);
                        ck_assert_int_eq(j->mode, MODE_DRY_RUN);
                        ck_assert_int_eq(j->settings.on_warnings, ON_WARNINGS_STOP);
                        ck_assert_uint_eq(j->settings.low_speed_time_usec, 60000000);
                        ck_assert_uint_eq(j->settings.request_timeout_usec, 300000000);
                        ck_assert_str_eq(j->package_boot_id, "0f3c2a1e-8a3b-4c55-9d3e-1f2a3b4c5d6e");
                        ck_assert_uint_eq(j->export.n_stats, 2);
                        ck_assert(j->dry_run.has_totals && !j->import.has_totals);
                        ck_assert_uint_eq(j->dry_run.results_total, 70);
                        ck_assert_uint_eq(j->dry_run.results[0].errors_total, 51);
                        ck_assert_uint_eq(j->dry_run.results[0].n_errors, 2);
                        ck_assert_uint_eq(j->steps[JOB_IMPORT_POLL].attempts, 8);
                } else {
                        ck_assert_int_eq(j->state, JOB_EXPORT);
                        ck_assert_int_eq(j->mode, MODE_IMPORT);
                        ck_assert_ptr_null(j->export.status);
                        ck_assert_uint_eq(j->settings.retries, 6);
                }
                free(again); free(text); free(path);
                job_free(j);
        }
}
END_TEST

static int load_text(const char *text, char **err) {
        struct job *j = NULL;
        int r = store_job_from_json(text, strlen(text), &j, err);
        job_free(j);
        return r;
}

START_TEST(damaged_files) {
        char *err = NULL;
        ck_assert_int_eq(load_text("", &err), -EPROTO);
        ck_assert_ptr_nonnull(strstr(err, "not JSON"));
        free(err); err = NULL;
        ck_assert_int_eq(load_text("{\"format\":1,\"id\":\"a\",\"state\":\"export\"", &err), -EPROTO);
        free(err); err = NULL;
        ck_assert_int_eq(load_text("{\"format\":99}", &err), -EPROTO);
        ck_assert_ptr_nonnull(strstr(err, "format"));
        free(err); err = NULL;
        ck_assert_int_eq(load_text("{\"format\":1,\"id\":\"a\",\"state\":\"flying\",\"promotion\":\"p\","
                                   "\"package\":\"1\",\"from\":{},\"to\":{}}", &err), -EPROTO);
        free(err); err = NULL;
        ck_assert_int_eq(load_text("{\"format\":1,\"id\":\"../evil\",\"state\":\"export\",\"promotion\":\"p\","
                                   "\"package\":\"1\",\"from\":{},\"to\":{}}", &err), -EPROTO);
        free(err); err = NULL;
        ck_assert_int_eq(load_text("{\"format\":1,\"id\":\"ok\",\"state\":\"export\",\"promotion\":\"p\","
                                   "\"package\":\"1\",\"from\":{},\"to\":{}}", &err), 0);
        /* a file truncated anywhere is refused, never half-loaded */
        struct job *j = sample();
        char *text = store_job_to_json(j, true);
        size_t n = strlen(text);
        for (size_t cut = 0; cut + 2 < n; cut += 7) {
                char *t = strndup(text, cut);
                ck_assert_int_eq(load_text(t, &err), -EPROTO);
                free(err); err = NULL;
                free(t);
        }
        free(text);
        job_free(j);
}
END_TEST

START_TEST(listing) {
        char **ids; size_t n;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/list", dir);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        const char *files[] = { "b-2.json", "a-1.json", ".#b-2.jsonXYZ", "x.pkg", "notes.txt" };
        for (size_t i = 0; i < 5; i++) {
                char p[4200];
                snprintf(p, sizeof p, "%s/%s", sub, files[i]);
                close(open(p, O_CREAT | O_WRONLY, 0600));
        }
        ck_assert_int_eq(store_list(sub, &ids, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(ids[0], "a-1");
        ck_assert_str_eq(ids[1], "b-2");
        strv_free_n(ids, n);
        ck_assert_int_eq(store_list("/nonexistent-d2p", &ids, &n), -ENOENT);
}
END_TEST

static int collect(struct store_entry *e, void *userdata) {
        char *seen = userdata;
        strcat(seen, e->id);
        strcat(seen, e->job ? " " : "(unreadable) ");
        job_free(e->job);
        return 0;
}

static int stop_at_first(struct store_entry *e, void *userdata) {
        *(char **) userdata = strdup(e->id);
        job_free(e->job);
        return 1;
}

static void put(const char *sub, const char *id, enum job_state state) {
        struct job *j = sample();
        free(j->id);
        j->id = strdup(id);
        j->state = state;
        ck_assert_int_eq(store_save(sub, j), 0);
        job_free(j);
}

static void write_text(const char *sub, const char *name, const char *text) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", sub, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
}

/* Only unfinished jobs reach the callback, in id order either way; finished
 * ones are skipped whether or not they can be parsed past their state. */
START_TEST(each_unfinished) {
        char sub[4096], seen[512] = "", *first = NULL;
        snprintf(sub, sizeof sub, "%s/each", dir);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        put(sub, "a-1", JOB_UPLOAD);
        put(sub, "b-1", JOB_SUCCEEDED);
        put(sub, "c-1", JOB_EXPORT);
        put(sub, "d-1", JOB_FAILED);
        put(sub, "e-1", JOB_CANCELLED);
        /* finished, damaged after its state line: skipped unread */
        write_text(sub, "f-1.json", "{\n    \"format\": 1,\n    \"state\": \"succeeded\",\n    \"id\": tru");
        /* damaged with no state line: loaded, refused, skipped */
        write_text(sub, "g-1.json", "{\n    \"format\": 1,\n    \"id\": ");
        /* "succeeded" only in a nested object: must be parsed, and it is unfinished */
        struct job *j = sample();
        free(j->id);
        j->id = strdup("h-1");
        j->state = JOB_IMPORT_POLL;
        free(j->message);
        j->message = strdup("\n    \"state\": \"succeeded\",\n");
        ck_assert_int_eq(store_save(sub, j), 0);
        job_free(j);

        /* The peek decides on its own: a file with a top-level line saying
         * it finished is never parsed, even though the parser (which takes
         * the first "state") would resume it. */
        j = sample();
        free(j->id);
        j->id = strdup("i-1");
        j->state = JOB_EXPORT;
        char *text = store_job_to_json(j, true), *t2, *steps = strstr(text, "\n    \"steps\"");
        ck_assert_ptr_nonnull(steps);
        ck_assert_int_gt(asprintf(&t2, "%.*s\n    \"state\": \"failed\",%s", (int) (steps - text), text, steps), 0);
        write_text(sub, "i-1.json", t2);
        struct job *k = NULL;
        char *err = NULL;
        char *path = store_job_path(sub, "i-1");
        ck_assert_int_eq(store_load(path, &k, &err), 0);        /* the parser alone would resume it */
        ck_assert_int_eq(k->state, JOB_EXPORT);
        job_free(k); job_free(j); free(text); free(t2); free(path);

        ck_assert_int_eq(store_each_unfinished(sub, false, collect, seen), 0);
        /* g-1 is damaged: handed over as unreadable, so that its promotion
         * is held rather than run again */
        ck_assert_str_eq(seen, "a-1 c-1 g-1(unreadable) h-1 ");
        ck_assert_int_eq(store_each_unfinished(sub, true, stop_at_first, &first), 0);
        ck_assert_str_eq(first, "h-1");
        free(first);
}
END_TEST

/* Follow-ups (notify.h) round trip; the marker near the top is there only
 * while one is pending, and makes a finished job reach the callback. */
START_TEST(followups) {
        char sub[4096], seen[512] = "";
        struct job *j = sample(), *k = NULL;
        char *err = NULL, *a, *b, *path;

        snprintf(sub, sizeof sub, "%s/fu", dir);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        j->state = JOB_SUCCEEDED;
        j->triggered_by = strdup("up-20261128T000000Z");
        j->n_followups = 2;
        j->followups = calloc(2, sizeof *j->followups);
        j->followups[0] = (struct followup) { .kind = FOLLOWUP_WEBHOOK, .status = FOLLOWUP_PENDING,
                                              .event = strdup("succeeded"), .state = strdup("succeeded"),
                                              .attempts = 3, .created_usec = 5, .next_usec = 9,
                                              .last_error = strdup("HTTP 503") };
        j->followups[1] = (struct followup) { .kind = FOLLOWUP_CHAIN, .status = FOLLOWUP_DONE,
                                              .event = strdup("succeeded"), .promotion = strdup("prod"),
                                              .job_id = strdup("prod-20261128T023100Z"), .done_usec = 7 };
        ck_assert_int_eq(store_save(sub, j), 0);
        path = store_job_path(sub, j->id);
        ck_assert_int_eq(store_load(path, &k, &err), 0);
        a = store_job_to_json(j, true);
        b = store_job_to_json(k, true);
        ck_assert_str_eq(a, b);
        ck_assert_ptr_nonnull(strstr(a, "{\n    \"format\": 1,\n    \"followups_pending\": 1,\n"));
        ck_assert_int_eq(k->followups[0].kind, FOLLOWUP_WEBHOOK);
        ck_assert_int_eq(k->followups[1].status, FOLLOWUP_DONE);
        ck_assert_str_eq(k->followups[1].job_id, "prod-20261128T023100Z");
        ck_assert_str_eq(k->triggered_by, "up-20261128T000000Z");
        ck_assert_uint_eq(job_followups_pending(k), 1);
        /* a finished job with a pending follow-up reaches the callback */
        ck_assert_int_eq(store_each_unfinished(sub, false, collect, seen), 0);
        ck_assert_str_eq(seen, "forms-nightly-20261128T023000Z ");
        free(a);
        /* done: no marker, skipped unread again */
        j->followups[0].status = FOLLOWUP_DONE;
        ck_assert_int_eq(store_save(sub, j), 0);
        a = store_job_to_json(j, true);
        ck_assert_ptr_null(strstr(a, "followups_pending"));
        seen[0] = 0;
        ck_assert_int_eq(store_each_unfinished(sub, false, collect, seen), 0);
        ck_assert_str_eq(seen, "");
        /* an unknown kind from a newer version reads as unknown, not as exec */
        char *t2 = strdup(a), *q = strstr(t2, "\"kind\": \"webhook\"");
        ck_assert_ptr_nonnull(q);
        memcpy(q, "\"kind\": \"smoke!!\"", strlen("\"kind\": \"webhook\""));
        job_free(k);
        ck_assert_int_eq(store_job_from_json(t2, strlen(t2), &k, &err), 0);
        ck_assert_int_eq(k->followups[0].kind, FOLLOWUP_UNKNOWN);
        free(a); free(b); free(t2); free(path);
        job_free(j); job_free(k);
}
END_TEST

/* ---- retention (store_prune) ---- */

#define DAY (86400ULL * 1000000ULL)
static const uint64_t prune_now = 1795746600000000ULL;       /* 2026-11-28T02:30:00Z */

/* A job of promotion at start (its id's time), in state, ended at end. */
static char *put_at(const char *sub, const char *promotion, uint64_t start, enum job_state state, uint64_t end) {
        struct job *j = sample();
        char *id = store_job_id_for(promotion, start);
        free(j->id);
        j->id = strdup(id);
        free(j->promotion);
        j->promotion = strdup(promotion);
        j->state = state;
        j->created_usec = start;
        j->finished_usec = end;
        ck_assert_int_eq(store_save(sub, j), 0);
        job_free(j);
        return id;
}

static bool exists(const char *sub, const char *id, const char *ext) {
        char *path;
        ck_assert_int_gt(asprintf(&path, "%s/%s%s", sub, id, ext), 0);
        bool r = access(path, F_OK) == 0;
        free(path);
        return r;
}

START_TEST(prune) {
        char sub[4096];
        struct store_prune_result res;
        uint64_t cutoff = prune_now - 90 * DAY;
        snprintf(sub, sizeof sub, "%s/prune", dir);
        ck_assert_int_eq(mkdir(sub, 0700), 0);

        char *old1 = put_at(sub, "a", prune_now - 200 * DAY, JOB_SUCCEEDED, prune_now - 200 * DAY + 60 * 1000000ULL);
        char *old2 = put_at(sub, "a", prune_now - 150 * DAY, JOB_FAILED, prune_now - 150 * DAY);
        char *unfinished = put_at(sub, "a", prune_now - 120 * DAY, JOB_EXPORT, 0);
        /* started before the cutoff, ended after it: kept */
        char *long_run = put_at(sub, "a", prune_now - 100 * DAY, JOB_SUCCEEDED, prune_now - 80 * DAY);
        char *recent = put_at(sub, "a", prune_now - 10 * DAY, JOB_SUCCEEDED, prune_now - 10 * DAY);
        /* the only (so newest) job of b: kept whatever its age */
        char *b_last = put_at(sub, "b", prune_now - 300 * DAY, JOB_CANCELLED, prune_now - 300 * DAY);
        /* "a-2027" sorts among the ids of "a": its own newest, kept */
        char *a2027 = put_at(sub, "a-2027", prune_now - 250 * DAY, JOB_SUCCEEDED, prune_now - 250 * DAY);
        /* an old file that cannot be read: kept, counted */
        char *c_bad = store_job_id_for("c", prune_now - 200 * DAY), name[256];
        snprintf(name, sizeof name, "%s.json", c_bad);
        write_text(sub, name, "{\n    \"format\": 1,\n    \"id\": ");
        char *c_new = put_at(sub, "c", prune_now - 5 * DAY, JOB_SUCCEEDED, prune_now - 5 * DAY);
        /* a name that does not say its promotion and time: kept */
        write_text(sub, "by-hand.json", "{}");
        /* a leftover package of a removed job goes with it */
        snprintf(name, sizeof name, "%s.pkg", old1);
        write_text(sub, name, "PK");

        ck_assert_int_eq(store_prune(sub, cutoff, 100, &res), 2);
        ck_assert_uint_eq(res.removed, 2);
        ck_assert_uint_eq(res.unreadable, 1);
        ck_assert(!res.more);
        ck_assert_uint_eq(res.oldest_kept_usec, prune_now - 300 * DAY);
        ck_assert(!exists(sub, old1, ".json"));
        ck_assert(!exists(sub, old1, ".pkg"));
        ck_assert(!exists(sub, old2, ".json"));
        const char *kept[] = { unfinished, long_run, recent, b_last, a2027, c_bad, c_new, "by-hand" };
        for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                ck_assert_msg(exists(sub, kept[i], ".json"), "%s was removed", kept[i]);
        /* again: nothing more to do */
        ck_assert_int_eq(store_prune(sub, cutoff, 100, &res), 0);
        ck_assert_uint_eq(res.unreadable, 1);
        free(old1); free(old2); free(unfinished); free(long_run); free(recent); free(b_last); free(a2027);
        free(c_bad); free(c_new);

        /* the batch limit: 5 old ones go 2, 2, 1 */
        snprintf(sub, sizeof sub, "%s/prune-batch", dir);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        for (int k = 0; k < 5; k++)
                free(put_at(sub, "d", prune_now - (200 - k) * DAY, JOB_SUCCEEDED, prune_now - (200 - k) * DAY));
        free(put_at(sub, "d", prune_now - DAY, JOB_SUCCEEDED, prune_now - DAY));
        ck_assert_int_eq(store_prune(sub, cutoff, 2, &res), 2);
        ck_assert(res.more);
        ck_assert_uint_eq(res.oldest_kept_usec, prune_now - 198 * DAY);
        ck_assert_int_eq(store_prune(sub, cutoff, 2, &res), 2);
        ck_assert(res.more);
        ck_assert_int_eq(store_prune(sub, cutoff, 2, &res), 1);
        ck_assert(!res.more);
        ck_assert_uint_eq(res.oldest_kept_usec, prune_now - DAY);
        char **ids = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_list(sub, &ids, &n), 0);
        ck_assert_uint_eq(n, 1);
        strv_free_n(ids, n);

        /* a folder that cannot be listed */
        snprintf(sub, sizeof sub, "%s/nonexistent", dir);
        ck_assert_int_eq(store_prune(sub, cutoff, 2, &res), -ENOENT);
}
END_TEST

START_TEST(ids) {
        ck_assert(store_id_valid("forms-nightly-20261128T023000Z"));
        ck_assert(store_id_valid("a.b_c-1"));
        ck_assert(!store_id_valid(""));
        ck_assert(!store_id_valid(".hidden"));
        ck_assert(!store_id_valid("a/b"));
        ck_assert(!store_id_valid("a b"));
}
END_TEST

START_TEST(id_promotion) {
        static const struct { const char *id, *promotion; } cases[] = {
                { "forms-nightly-20261128T023000Z", "forms-nightly" },
                { "forms-nightly-20261128T023000Z-2", "forms-nightly" },
                { "forms-nightly-20261128T023000Z-12", "forms-nightly" },
                { "a-20261128T023000Z-20261128T023000Z", "a-20261128T023000Z" },
                { "x.y_z-20261128T023000Z", "x.y_z" },
                { "-20261128T023000Z", NULL },
                { "forms-20261128T023000", NULL },
                { "forms-nightly", NULL },
                { "forms-20261128X023000Z", NULL },
                { "forms-20261128T023000Z-", NULL },
                { "forms-20261128T023000Z-2a", NULL },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *p = store_id_promotion(cases[i].id);
                if (cases[i].promotion)
                        ck_assert_msg(p && strcmp(p, cases[i].promotion) == 0, "%s: got %s", cases[i].id, p ? p : "NULL");
                else
                        ck_assert_msg(!p, "%s: got %s", cases[i].id, p);
                free(p);
        }
}
END_TEST

/* Issue 9 C: a dry run with 700,000 warnings wrote a 17.5 MB job file the
 * reader refused (16 MiB), and --once then imported a second time.  What a
 * job keeps is bounded, so any answer makes a file that loads back. */
START_TEST(huge_answer_bounded) {
        size_t n = 700000, cap = n * 40 + 4096, len = 0;
        char *body = malloc(cap), *err = NULL, *path;
        struct job *j = sample(), *k = NULL;
        struct import_status st;
        struct stat sb;

        len += (size_t) sprintf(body + len, "{\"id\":\"i\",\"Status\":\"COMPLETED\",\"Results\":[");
        for (size_t r = 0; r < 100; r++) {
                len += (size_t) sprintf(body + len, "%s{\"PackageName\":\"p%zu \\u001b[31m\",\"Errors\":[\"e\\n1\"],\"Warnings\":[",
                                        r ? "," : "", r);
                for (size_t w = 0; w < n / 100; w++)
                        len += (size_t) sprintf(body + len, w ? ",\"w%zu\"" : "\"w%zu \\u00e9\\u0007\"", w);
                len += (size_t) sprintf(body + len, "]}");
        }
        len += (size_t) sprintf(body + len, "]}");
        ck_assert_uint_lt(len, 8u * 1024 * 1024);     /* an answer the daemon reads */
        ck_assert_int_eq(api_parse_import_status(body, len, &st, &err), 0);
        ck_assert_uint_eq(st.results_total, 100);
        ck_assert_uint_eq(st.n_results, API_MAX_RESULTS);
        ck_assert_uint_eq(import_status_n_warnings(&st), API_MAX_RESULTS * (n / 100));
        size_t kept = 0;
        for (size_t r = 0; r < st.n_results; r++) {
                kept += st.results[r].n_warnings;
                ck_assert(!strchr(st.results[r].package, 0x1b));
        }
        ck_assert_uint_eq(kept, API_MAX_FINDINGS);
        ck_assert(!strchr(st.results[0].warnings[0], 7));
        import_status_free(&j->dry_run);
        j->dry_run = st;
        ck_assert_int_eq(store_save(dir, j), 0);
        path = store_job_path(dir, j->id);
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_int_lt(sb.st_size, 2 * 1024 * 1024);
        ck_assert_int_eq(store_load(path, &k, &err), 0);
        ck_assert_uint_eq(import_status_n_warnings(&k->dry_run), API_MAX_RESULTS * (n / 100));
        ck_assert_uint_eq(k->dry_run.results_total, 100);
        free(body); free(path);
        job_free(j); job_free(k);
}
END_TEST

/* Issue 9 B: server text that is not UTF-8 made the job unsavable. */
START_TEST(server_text_always_saves) {
        struct job *j = sample(), *k = NULL;
        char *err = NULL, *path, raw[400];

        memset(raw, 'a', sizeof raw);
        memcpy(raw, "bad \xff\xfe \x1b[31m\n", 13);
        memcpy(raw + 298, "\xe2\x82\xac", 3);    /* a character across the 300-byte cut */
        raw[sizeof raw - 1] = 0;
        char *t = api_error_text(raw);
        free(j->message);
        j->message = t;
        ck_assert_int_eq(store_save(dir, j), 0);
        path = store_job_path(dir, j->id);
        ck_assert_int_eq(store_load(path, &k, &err), 0);
        ck_assert_str_eq(k->message, t);
        ck_assert(!strchr(t, 0x1b) && !strchr(t, '\n'));
        ck_assert_uint_le(strlen(t), 300);
        free(path);
        job_free(j); job_free(k);
}
END_TEST

START_TEST(lock) {
        int a = -1, b = -1;
        ck_assert_int_eq(store_lock(dir, &a), 0);
        ck_assert_int_eq(store_lock(dir, &b), -EBUSY);
        close(a);
        ck_assert_int_eq(store_lock(dir, &b), 0);
        close(b);
}
END_TEST

START_TEST(state_names) {
        for (int s = 0; s < _JOB_STATE_MAX; s++)
                ck_assert_int_eq(job_state_from_string(job_state_to_string((enum job_state) s)), s);
        ck_assert_int_eq(job_state_from_string("nope"), -EINVAL);
        ck_assert(job_state_is_final(JOB_SUCCEEDED));
        ck_assert(job_state_is_final(JOB_FAILED));
        ck_assert(job_state_is_final(JOB_CANCELLED));
        ck_assert(!job_state_is_final(JOB_IMPORT));
        ck_assert_str_eq(job_state_to_string(JOB_DRY_RUN_POLL), "dry-run-poll");
}
END_TEST

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("store");
        tcase_add_test(tc, round_trip);
        tcase_add_test(tc, old_files_round_trip);
        tcase_add_test(tc, decisions_round_trip);
        tcase_add_test(tc, resolve_rules);
        tcase_add_test(tc, damaged_files);
        tcase_add_test(tc, listing);
        tcase_add_test(tc, each_unfinished);
        tcase_add_test(tc, followups);
        tcase_add_test(tc, prune);
        tcase_add_test(tc, ids);
        tcase_add_test(tc, lock);
        tcase_add_test(tc, id_promotion);
        tcase_add_test(tc, huge_answer_bounded);
        tcase_add_test(tc, server_text_always_saves);
        tcase_add_test(tc, state_names);
        suite_add_tcase(s, tc);
        int failed = check_run_with(s, CK_NOFORK);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
                return 1;
        return failed ? 1 : 0;
}
