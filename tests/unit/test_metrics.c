/* Unit tests of metrics.c: the text format (HELP and TYPE once per
 * family, label values escaped, seconds with millisecond precision), what
 * an ending counts, the restart (the summary keeps the last times, the
 * counters start again), a reload that drops a promotion, a damaged
 * summary, and the file written whole with no temp file left. */
#include <check.h>
#include <dirent.h>
#include <unistd.h>

#include "check_run.h"
#include "config.h"
#include "jobdata.h"
#include "metrics.h"

static char dir[] = "/tmp/d2p-metrics.XXXXXX";
static char prom[256];

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/d2p-metrics.XXXXXX")));
        snprintf(prom, sizeof prom, "%s/d.prom", dir);
}

static void teardown(void) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

/* A configuration of just what metrics.c reads. */
static struct config config_of(struct promotion *p, size_t n, char *file) {
        return (struct config) { .metrics_file = file, .promotions = p, .n_promotions = n };
}

static struct job ended(char *promotion, enum job_state state, char *failure, uint64_t start, uint64_t end) {
        struct job j = { .promotion = promotion, .state = state, .failure = failure, .finished_usec = end,
                         .created_usec = start, .download_bytes = 1000 };
        j.steps[JOB_EXPORT].started_usec = start;
        j.steps[JOB_DOWNLOAD].finished_usec = start + 1;
        return j;
}

/* what the "daemon" reports as running, queued and awaiting approval */
static unsigned g_running, g_queued, g_awaiting;
static void gauges(void *userdata, struct metrics_gauges *ret) {
        ret->running = g_running;
        ret->queued = g_queued;
        ret->awaiting_approval = g_awaiting;
}
static void update(struct metrics *m, const struct job *ended, unsigned running, unsigned queued) {
        g_running = running;
        g_queued = queued;
        metrics_update(m, ended);
}

static bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)); p += n)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

static char *file_text(void) {
        char *t = NULL;
        size_t len;
        ck_assert_int_eq(read_file_small(prom, 1 << 20, &t, &len), 0);
        return t;
}

START_TEST(render) {
        struct promotion p[] = { { .name = "nightly" }, { .name = "alpha" } };
        struct config c = config_of(p, 2, prom);
        struct metrics *m = metrics_new(NULL, dir, "1.0\"x\\y\nz", 1796000000123456ULL, gauges, NULL);
        struct job ok = ended("nightly", JOB_SUCCEEDED, NULL, 1796000100000000ULL, 1796000112345678ULL);
        struct job odd = ended("alpha", JOB_FAILED, "we\"ird\\\ncode", 1796000200000000ULL, 1796000201000000ULL);
        char *t;

        metrics_configure(m, &c, 1796000000000000ULL);
        update(m, NULL, 2, 1);
        update(m, &ok, 1, 0);
        update(m, &odd, 0, 0);
        t = metrics_render(m);
        ck_assert(has_line(t, "dev2prodd_build_info{version=\"1.0\\\"x\\\\y\\nz\"} 1"));
        ck_assert(has_line(t, "dev2prodd_start_time_seconds 1796000000.123"));
        ck_assert(has_line(t, "dev2prodd_jobs_running 0"));
        ck_assert(has_line(t, "dev2prodd_jobs_queued 0"));
        ck_assert(has_line(t, "dev2prodd_last_success_timestamp_seconds{promotion=\"nightly\"} 1796000112.345"));
        ck_assert(!strstr(t, "dev2prodd_last_success_timestamp_seconds{promotion=\"alpha\"}"));
        ck_assert(has_line(t, "dev2prodd_last_failure_timestamp_seconds{promotion=\"alpha\"} 1796000201.000"));
        ck_assert(has_line(t, "dev2prodd_last_duration_seconds{promotion=\"nightly\"} 12.345"));
        ck_assert(has_line(t, "dev2prodd_jobs_ended_total{promotion=\"nightly\",result=\"succeeded\"} 1"));
        ck_assert(has_line(t, "dev2prodd_jobs_ended_total{promotion=\"nightly\",result=\"import-outcome-unknown\"} 0"));
        ck_assert(has_line(t, "dev2prodd_jobs_ended_total{promotion=\"alpha\",result=\"we\\\"ird\\\\\\ncode\"} 1"));
        ck_assert(has_line(t, "dev2prodd_moved_bytes_total{promotion=\"alpha\"} 1000"));
        ck_assert(has_line(t, "dev2prodd_promotion_first_seen_timestamp_seconds{promotion=\"alpha\"} 1796000000.000"));
        /* HELP and TYPE once per family, before its series */
        ck_assert(has_line(t, "# TYPE dev2prodd_jobs_ended_total counter"));
        ck_assert(has_line(t, "# TYPE dev2prodd_last_duration_seconds gauge"));
        ck_assert_ptr_eq(strstr(strstr(t, "# TYPE dev2prodd_jobs_ended_total") + 1, "# TYPE dev2prodd_jobs_ended_total"),
                         NULL);
        ck_assert(strstr(t, "# HELP dev2prodd_moved_bytes_total") < strstr(t, "dev2prodd_moved_bytes_total{"));
        /* the file holds what render gives, alone in its folder */
        char *f = file_text();
        ck_assert_str_eq(f, t);
        free(f);
        free(t);
        metrics_free(m);

        DIR *d = opendir(dir);
        struct dirent *de;
        while ((de = readdir(d)))
                ck_assert_msg(de->d_name[0] != '.' || streq(de->d_name, ".") || streq(de->d_name, ".."),
                              "left behind: %s", de->d_name);
        closedir(d);
}
END_TEST

START_TEST(gauges_only_when_changed) {  /* and at a stop */
        struct promotion p[] = { { .name = "a" } };
        struct config c = config_of(p, 1, prom);
        struct metrics *m = metrics_new(NULL, dir, "1", 1, gauges, NULL);

        metrics_configure(m, &c, 1);
        update(m, NULL, 1, 0);
        ck_assert_int_eq(unlink(prom), 0);
        update(m, NULL, 1, 0);          /* nothing changed: not written */
        ck_assert_int_eq(access(prom, F_OK), -1);
        update(m, NULL, 1, 1);
        ck_assert_int_eq(access(prom, F_OK), 0);
        /* a job parked at the approval gate alone is a change */
        ck_assert_int_eq(unlink(prom), 0);
        g_awaiting = 2;
        update(m, NULL, 1, 1);
        char *t = file_text();
        ck_assert(has_line(t, "dev2prodd_jobs_awaiting_approval 2"));
        free(t);
        /* a stop writes that nothing runs any more, without asking */
        g_running = 7;
        metrics_free(m);
        t = file_text();
        ck_assert(has_line(t, "dev2prodd_jobs_running 0"));
        ck_assert(has_line(t, "dev2prodd_jobs_queued 0"));
        ck_assert(has_line(t, "dev2prodd_jobs_awaiting_approval 0"));
        free(t);
        g_awaiting = 0;
}
END_TEST

START_TEST(restart_and_reload) {
        struct promotion p[] = { { .name = "a" }, { .name = "b" } };
        struct config c = config_of(p, 2, prom);
        struct metrics *m = metrics_new(NULL, dir, "1", 1, gauges, NULL);
        struct job ok = ended("a", JOB_SUCCEEDED, NULL, 5000000, 7500000);
        struct job bad = ended("b", JOB_CANCELLED, NULL, 6000000, 9000000);
        char *t;

        metrics_configure(m, &c, 1000000);
        update(m, &ok, 0, 0);
        update(m, &bad, 0, 0);
        metrics_free(m);

        /* a restart: the times come back, the counters start at 0 */
        m = metrics_new(NULL, dir, "1", 2, gauges, NULL);
        metrics_configure(m, &c, 99000000);
        t = metrics_render(m);
        ck_assert(has_line(t, "dev2prodd_last_success_timestamp_seconds{promotion=\"a\"} 7.500"));
        ck_assert(has_line(t, "dev2prodd_last_failure_timestamp_seconds{promotion=\"b\"} 9.000"));
        ck_assert(has_line(t, "dev2prodd_last_duration_seconds{promotion=\"a\"} 2.500"));
        ck_assert(has_line(t, "dev2prodd_promotion_first_seen_timestamp_seconds{promotion=\"a\"} 1.000"));
        ck_assert(has_line(t, "dev2prodd_jobs_ended_total{promotion=\"a\",result=\"succeeded\"} 0"));
        ck_assert(!strstr(t, "result=\"cancelled\""));
        free(t);

        /* a reload without b: b drops out, a keeps its numbers; c is new */
        struct promotion p2[] = { { .name = "c" }, { .name = "a" } };
        struct config c2 = config_of(p2, 2, prom);
        update(m, &ok, 0, 0);
        metrics_configure(m, &c2, 42000000);
        t = metrics_render(m);
        ck_assert(!strstr(t, "promotion=\"b\""));
        ck_assert(has_line(t, "dev2prodd_jobs_ended_total{promotion=\"a\",result=\"succeeded\"} 1"));
        ck_assert(has_line(t, "dev2prodd_promotion_first_seen_timestamp_seconds{promotion=\"c\"} 42.000"));
        free(t);
        metrics_free(m);

        /* the summary of the reload is what the next start reads */
        m = metrics_new(NULL, dir, "1", 3, gauges, NULL);
        metrics_configure(m, &c2, 50000000);
        t = metrics_render(m);
        ck_assert(has_line(t, "dev2prodd_promotion_first_seen_timestamp_seconds{promotion=\"c\"} 42.000"));
        ck_assert(has_line(t, "dev2prodd_last_success_timestamp_seconds{promotion=\"a\"} 7.500"));
        free(t);
        metrics_free(m);
}
END_TEST

START_TEST(damaged_summary) {
        char path[300];
        struct promotion p[] = { { .name = "a" }, { .name = "b" } };
        struct config c = config_of(p, 2, prom);
        FILE *f;
        char *t;

        snprintf(path, sizeof path, "%s/metrics-summary", dir);
        f = fopen(path, "w");
        fputs("# header\nb 1 x 3 4\na 1000000 2000000 - -\ngarbage\n", f);
        fclose(f);
        struct metrics *m = metrics_new(NULL, dir, "1", 1, gauges, NULL);
        metrics_configure(m, &c, 5000000);
        t = metrics_render(m);
        ck_assert(has_line(t, "dev2prodd_last_success_timestamp_seconds{promotion=\"a\"} 2.000"));
        ck_assert(!strstr(t, "dev2prodd_last_failure_timestamp_seconds{promotion=\"a\"}"));
        ck_assert(!strstr(t, "dev2prodd_last_duration_seconds{promotion=\"a\"}"));
        /* the unreadable line's promotion starts afresh */
        ck_assert(has_line(t, "dev2prodd_promotion_first_seen_timestamp_seconds{promotion=\"b\"} 5.000"));
        ck_assert(!strstr(t, "dev2prodd_last_success_timestamp_seconds{promotion=\"b\"}"));
        free(t);
        metrics_free(m);
}
END_TEST

START_TEST(no_file_no_write) {
        struct promotion p[] = { { .name = "a" } };
        struct config c = config_of(p, 1, NULL);
        struct metrics *m = metrics_new(NULL, dir, "1", 1, gauges, NULL);
        struct job ok = ended("a", JOB_SUCCEEDED, NULL, 5000000, 7500000);
        char path[300];

        metrics_configure(m, &c, 1);
        update(m, &ok, 0, 0);
        snprintf(path, sizeof path, "%s/metrics-summary", dir);
        ck_assert_int_eq(access(path, F_OK), -1);
        metrics_free(m);
}
END_TEST

int main(void) {
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("metrics");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, render);
        tcase_add_test(tc, gauges_only_when_changed);
        tcase_add_test(tc, restart_and_reload);
        tcase_add_test(tc, damaged_summary);
        tcase_add_test(tc, no_file_no_write);
        suite_add_tcase(s, tc);
        return check_run(s);
}
