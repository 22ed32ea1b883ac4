/* Unit tests of notify.c: the event of a job, the follow-ups a transition
 * records (filtered by events:, chained jobs with their ids, never twice),
 * the promotions downstream of one, and the JSON summary. */
#include <check.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "failure.h"
#include "json.h"
#include "notify.h"
#include "store.h"

static char dir[] = "/tmp/d2p-notify.XXXXXX";
static struct tenant dev = { .name = "dev", .url = "https://dev.example.net", .tenant_id = "111" };
static struct tenant prod = { .name = "prod", .url = "https://example.net", .tenant_id = "222" };
static char *argv_prog[] = { "/bin/true", NULL };
static struct notify all = { .events = (1u << _NOTIFY_EVENT_MAX) - 1, .exec = argv_prog,
                             .webhook_source = "/x/hook.url" };
static struct notify failures_only = { .events = 1u << NOTIFY_FAILED, .webhook_source = "/x/hook.url" };
static struct promotion promos[] = {
        { .name = "uat", .package = "54321", .from = &dev, .to = &prod },
        { .name = "prod", .package = "54321", .from = &dev, .to = &prod, .after = "uat" },
        { .name = "audit", .package = "54321", .from = &dev, .to = &prod, .after = "prod",
          .notify_set = true, .notify = &failures_only },
        { .name = "quiet", .package = "1", .from = &dev, .to = &prod, .notify_set = true },
        { .name = "report", .package = "54321", .from = &dev, .to = &prod, .after = "uat" },
};
static struct config conf = { .promotions = promos, .n_promotions = ELEMENTSOF(promos), .notify = &all };

static struct job *job_of(const char *promotion, enum job_state st, const char *failure) {
        struct job *j = job_new("x-20261128T023000Z", config_find_promotion(&conf, promotion), 1795746600000000ULL);
        free(j->id);
        j->id = xasprintf("%s-20261128T023000Z", promotion);
        j->state = st;
        j->failure = xstrdup(failure);
        return j;
}

START_TEST(events) {
        static const struct { enum job_state st; const char *failure; enum notify_event want; } t[] = {
                { JOB_SUCCEEDED, NULL, NOTIFY_SUCCEEDED },
                { JOB_FAILED, "dry-run-rejected", NOTIFY_DRY_RUN_REJECTED },
                { JOB_FAILED, "dry-run-warnings", NOTIFY_DRY_RUN_REJECTED },
                { JOB_FAILED, "import-outcome-unknown", NOTIFY_IMPORT_OUTCOME_UNKNOWN },
                { JOB_FAILED, "timeout", NOTIFY_FAILED },
                { JOB_FAILED, "auth", NOTIFY_FAILED },
                { JOB_CANCELLED, "cancelled", NOTIFY_FAILED },
                { JOB_EXPORT, NULL, NOTIFY_NONE },
                { JOB_IMPORT_POLL, NULL, NOTIFY_NONE },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                struct job *j = job_of("uat", t[i].st, t[i].failure);
                ck_assert_int_eq(notify_event_of(j), t[i].want);
                job_free(j);
        }
}
END_TEST

START_TEST(plan) {
        struct job *j = job_of("uat", JOB_SUCCEEDED, NULL);
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1795746700000000ULL), 4);
        ck_assert_int_eq(j->followups[0].kind, FOLLOWUP_EXEC);
        ck_assert_int_eq(j->followups[1].kind, FOLLOWUP_WEBHOOK);
        ck_assert_int_eq(j->followups[2].kind, FOLLOWUP_CHAIN);
        ck_assert_str_eq(j->followups[2].promotion, "prod");
        ck_assert_str_eq(j->followups[2].job_id, "prod-20261127T023140Z");
        ck_assert_str_eq(j->followups[3].promotion, "report");
        ck_assert_str_eq(j->followups[1].event, "succeeded");
        ck_assert_str_eq(j->followups[1].state, "succeeded");
        ck_assert_int_eq(j->followups[1].status, FOLLOWUP_PENDING);
        ck_assert_uint_eq(j->followups[1].next_usec, 1795746700000000ULL);
        /* the same event again (a save retried, a resume): nothing new */
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1795746800000000ULL), 0);
        job_free(j);

        /* a chained job's id is free in the folder */
        char path[4096];
        snprintf(path, sizeof path, "%s/prod-20261127T023140Z.json", dir);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        j = job_of("uat", JOB_SUCCEEDED, NULL);
        notify_plan(&conf, dir, j, 1795746700000000ULL);
        ck_assert_str_eq(j->followups[2].job_id, "prod-20261127T023140Z-2");
        job_free(j);
        unlink(path);

        /* a failure: notifications, no chained job */
        j = job_of("uat", JOB_FAILED, "export-failed");
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1), 2);
        job_free(j);
        /* the promotion's own notify: lists only failed */
        j = job_of("audit", JOB_SUCCEEDED, NULL);
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1), 0);
        job_free(j);
        j = job_of("audit", JOB_CANCELLED, "cancelled");
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1), 1);
        ck_assert_int_eq(j->followups[0].kind, FOLLOWUP_WEBHOOK);
        job_free(j);
        /* notify: none */
        j = job_of("quiet", JOB_FAILED, "timeout");
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1), 0);
        job_free(j);
        /* no event: nothing */
        j = job_of("uat", JOB_UPLOAD, NULL);
        ck_assert_uint_eq(notify_plan(&conf, dir, j, 1), 0);
        job_free(j);
}
END_TEST

START_TEST(downstream) {
        char **v = notify_downstream(&conf, "uat");
        ck_assert_str_eq(v[0], "prod");
        ck_assert_str_eq(v[1], "report");
        ck_assert_str_eq(v[2], "audit");
        ck_assert_ptr_null(v[3]);
        notify_strv_free(v);
        ck_assert_ptr_null(notify_downstream(&conf, "audit"));
}
END_TEST

START_TEST(summary) {
        struct job *j = job_of("prod", JOB_FAILED, "dry-run-rejected");
        char err[128];

        j->message = xstrdup("dry run rejected: \"x\"\n");
        j->created_usec = 1795746600000000ULL;
        j->finished_usec = 1795746660000000ULL;
        j->triggered_by = xstrdup("uat-20261128T023000Z");
        j->dry_run.has_totals = true;
        j->dry_run.totals.modified = 3;
        notify_plan(&conf, dir, j, 1);
        ck_assert_uint_eq(j->n_followups, 2);
        char *s = notify_summary(&conf, j, &j->followups[1]);
        ck_assert_str_eq(s, "{\"delivery\":\"prod-20261128T023000Z/dry-run-rejected\",\"event\":\"dry-run-rejected\","
                            "\"job\":\"prod-20261128T023000Z\",\"promotion\":\"prod\",\"state\":\"failed\","
                            "\"failure\":\"dry-run-rejected\",\"message\":\"dry run rejected: \\\"x\\\"\\n\","
                            "\"package\":\"54321\",\"mode\":\"import\",\"from\":\"dev\",\"to\":\"prod\","
                            "\"created\":\"2026-11-27T02:30:00Z\",\"finished\":\"2026-11-27T02:31:00Z\","
                            "\"dry_run\":{\"added\":0,\"modified\":3,\"removed\":0,\"failed\":0,\"skipped\":0},"
                            "\"triggered_by\":\"uat-20261128T023000Z\",\"chain_stopped\":[\"audit\"]}");
        yajl_val v = json_parse(s, strlen(s), err, sizeof err);
        ck_assert_ptr_nonnull(v);
        yajl_tree_free(v);
        char *id = notify_delivery_id(j, &j->followups[0]);
        ck_assert_str_eq(id, "prod-20261128T023000Z/dry-run-rejected");
        free(id);
        free(s);
        job_free(j);

        j = job_of("uat", JOB_SUCCEEDED, NULL);
        notify_plan(&conf, dir, j, 1);
        s = notify_summary(&conf, j, &j->followups[0]);
        ck_assert_ptr_nonnull(strstr(s, "\"chain_next\":[\"prod\",\"report\",\"audit\"]"));
        ck_assert_ptr_null(strstr(s, "\"failure\""));
        free(s);
        job_free(j);
}
END_TEST

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(dir)); }
static void teardown(void) { rmdir(dir); strcpy(dir, "/tmp/d2p-notify.XXXXXX"); }

int main(void) {
        Suite *s = suite_create("notify");
        TCase *tc = tcase_create("notify");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, events);
        tcase_add_test(tc, plan);
        tcase_add_test(tc, downstream);
        tcase_add_test(tc, summary);
        suite_add_tcase(s, tc);
        return check_run(s);
}
