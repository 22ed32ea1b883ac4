/* Unit tests of scheduler.c: due times, missed runs (catch-up), the saved
 * last due times, promotions that come and go, a last due time in the
 * future and a clock stepped either way (issue 9, case F). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "check_run.h"
#include "cron.h"
#include "json.h"
#include "scheduler.h"

static char dir[] = "/tmp/d2p-sched.XXXXXX";

struct call { char name[64]; time_t due; bool missed; unsigned folded; };
static struct call calls[16];
static size_t n_calls;

static void on_due(void *ud, const struct promotion *p, time_t due, bool missed, unsigned folded) {
        ck_assert_uint_lt(n_calls, 16);
        snprintf(calls[n_calls].name, sizeof calls[n_calls].name, "%s", p->name);
        calls[n_calls].due = due;
        calls[n_calls].folded = folded;
        calls[n_calls++].missed = missed;
}

static struct promotion promo(const char *name, const char *cron) {
        struct promotion p = { .name = (char *) name, .timezone = (char *) "UTC", .catch_up = true };
        char *err = NULL;
        ck_assert_int_eq(cron_parse(cron, &p.cron, &err), 0);
        return p;
}

/* 2026-11-28 10:30:00 UTC */
#define NOW ((time_t) 1795861800)
#define HOUR 3600

START_TEST(new_promotion_does_not_catch_up) {
        struct promotion p[] = { promo("hourly", "0 * * * *") };
        struct config c = { .promotions = p, .n_promotions = 1 };
        struct scheduler s = {};
        char *err = NULL;
        n_calls = 0;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c, NOW, on_due, NULL);
        ck_assert_uint_eq(n_calls, 0);
        ck_assert_int_eq(scheduler_next(&s, NULL), NOW + HOUR / 2);        /* 11:00 */
        scheduler_free(&s);
        cron_free(p[0].cron);
}
END_TEST

START_TEST(missed_runs_once_latest) {
        struct promotion p[] = { promo("hourly", "0 * * * *"), promo("daily", "30 2 * * *") };
        struct config c = { .promotions = p, .n_promotions = 2 };
        struct scheduler s = {};
        char *err = NULL;
        const char *np = NULL;
        n_calls = 0;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c, NOW - 3 * 24 * HOUR, on_due, NULL);   /* first seen 3 days ago */
        ck_assert_uint_eq(n_calls, 0);
        n_calls = 0;
        /* the daemon was down for three days: each promotion is due once,
         * at its latest missed time */
        scheduler_run(&s, &c, NOW, on_due, NULL);
        ck_assert_uint_eq(n_calls, 2);
        ck_assert_str_eq(calls[0].name, "hourly");
        ck_assert_int_eq(calls[0].due, NOW - HOUR / 2);                 /* 10:00 */
        ck_assert(calls[0].missed);
        ck_assert_uint_eq(calls[0].folded, 72);                         /* 11:00 3 days ago .. 10:00 */
        ck_assert_str_eq(calls[1].name, "daily");
        ck_assert_int_eq(calls[1].due, NOW - 8 * HOUR);                 /* 02:30 today */
        ck_assert_uint_eq(calls[1].folded, 3);
        ck_assert_int_eq(scheduler_next(&s, &np), NOW + HOUR / 2);
        ck_assert_str_eq(np, "hourly");
        /* handled: running again at the same time does nothing */
        n_calls = 0;
        scheduler_run(&s, &c, NOW, on_due, NULL);
        ck_assert_uint_eq(n_calls, 0);
        /* on time (timer fired a second late): not missed */
        scheduler_run(&s, &c, NOW + HOUR / 2 + 1, on_due, NULL);
        ck_assert_uint_eq(n_calls, 1);
        ck_assert_int_eq(calls[0].due, NOW + HOUR / 2);
        ck_assert(!calls[0].missed);
        ck_assert_uint_eq(calls[0].folded, 1);
        scheduler_free(&s);
        cron_free(p[0].cron);
        cron_free(p[1].cron);
}
END_TEST

START_TEST(saved_and_reloaded) {
        struct promotion p[] = { promo("hourly", "0 * * * *") };
        struct config c = { .promotions = p, .n_promotions = 1 };
        struct scheduler s = {}, t = {};
        char *err = NULL;
        n_calls = 0;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c, NOW - 5 * HOUR, on_due, NULL);
        ck_assert_int_eq(scheduler_save(&s), 0);
        scheduler_free(&s);
        /* a restart 5 hours later sees the missed hour */
        ck_assert_int_eq(scheduler_load(&t, dir, &err), 0);
        ck_assert_int_eq(scheduler_find(&t, "hourly")->last_due, NOW - 5 * HOUR);
        scheduler_run(&t, &c, NOW, on_due, NULL);
        ck_assert_uint_eq(n_calls, 1);
        ck_assert(calls[0].missed);
        scheduler_free(&t);
        cron_free(p[0].cron);
}
END_TEST

START_TEST(removed_promotion_forgotten) {
        struct promotion p[] = { promo("a", "0 * * * *"), promo("b", "0 * * * *") };
        struct config c2 = { .promotions = p, .n_promotions = 2 }, c1 = { .promotions = p + 1, .n_promotions = 1 };
        struct scheduler s = {};
        char *err = NULL;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c2, NOW, on_due, NULL);
        ck_assert_ptr_nonnull(scheduler_find(&s, "a"));
        scheduler_run(&s, &c1, NOW, on_due, NULL);
        ck_assert_ptr_null(scheduler_find(&s, "a"));
        ck_assert_ptr_nonnull(scheduler_find(&s, "b"));
        scheduler_free(&s);
        cron_free(p[0].cron);
        cron_free(p[1].cron);
}
END_TEST

START_TEST(damaged_file) {
        char path[256];
        struct scheduler s = {};
        char *err = NULL;
        FILE *f;
        snprintf(path, sizeof path, "%s/schedule.json", dir);
        f = fopen(path, "w");
        fputs("{\"last_due\": {\"a\": 1", f);
        fclose(f);
        ck_assert_int_eq(scheduler_load(&s, dir, &err), -EPROTO);
        ck_assert_ptr_nonnull(strstr(err, "damaged"));
        free(err);
        scheduler_free(&s);
        unlink(path);
}
END_TEST

/* Runs scheduler_run with stderr (where the log goes outside the journal)
 * in *log (malloc'd, NUL-terminated). */
static void run_logged(struct scheduler *s, const struct config *c, time_t now, char **log) {
        char path[256];
        int fd, saved;
        FILE *f;
        long len;

        snprintf(path, sizeof path, "%s/stderr", dir);
        fflush(stderr);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
        scheduler_run(s, c, now, on_due, NULL);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        rewind(f);
        *log = calloc(1, (size_t) len + 1);
        ck_assert_uint_eq(fread(*log, 1, (size_t) len, f), (size_t) len);
        fclose(f);
        unlink(path);
}

static void write_schedule(const char *name, time_t last_due) {
        char path[256];
        FILE *f;
        snprintf(path, sizeof path, "%s/schedule.json", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "{\"format\": 1, \"last_due\": {\"%s\": %lld}}\n", name, (long long) last_due);
        fclose(f);
}

/* schedule.json says the promotion last ran 5 hours from now: it is taken
 * as now, with a warning naming file, promotion and both times; the next
 * due time is the next one after now (what `dev2prodctl list` shows), not
 * 16:00; nothing runs at once; the clamped value is saved. */
START_TEST(future_last_due_clamped) {
        struct promotion p[] = { promo("hourly", "0 * * * *") };
        struct config c = { .promotions = p, .n_promotions = 1 };
        struct scheduler s = {}, t = {};
        char *err = NULL, *log = NULL, path[256];
        n_calls = 0;
        write_schedule("hourly", NOW + 5 * HOUR);               /* 15:30 */
        snprintf(path, sizeof path, "%s/schedule.json", dir);
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        run_logged(&s, &c, NOW, &log);
        ck_assert_uint_eq(n_calls, 0);                          /* not fired */
        ck_assert_int_eq(scheduler_find(&s, "hourly")->last_due, NOW);
        ck_assert_int_eq(scheduler_next(&s, NULL), NOW + HOUR / 2);     /* 11:00, not 16:00 */
        ck_assert_msg(strstr(log, path), "the warning names the file: %s", log);
        ck_assert_msg(strstr(log, "hourly"), "the warning names the promotion: %s", log);
        ck_assert_msg(strstr(log, "2026-11-28T15:30:00Z"), "the warning gives last_due: %s", log);
        ck_assert_msg(strstr(log, "2026-11-28T10:30:00Z"), "the warning gives now: %s", log);
        ck_assert_msg(strstr(log, "2026-11-28T11:00:00Z"), "the warning gives the next run: %s", log);
        free(log);
        /* not silenced: 11:00 runs, on time */
        scheduler_run(&s, &c, NOW + HOUR / 2, on_due, NULL);
        ck_assert_uint_eq(n_calls, 1);
        ck_assert_int_eq(calls[0].due, NOW + HOUR / 2);
        ck_assert(!calls[0].missed);
        /* the clamped value is what is saved: no warning at the next start */
        ck_assert_int_eq(scheduler_save(&s), 0);
        ck_assert_int_eq(scheduler_load(&t, dir, &err), 0);
        ck_assert_int_eq(scheduler_find(&t, "hourly")->last_due, NOW + HOUR / 2);
        n_calls = 0;
        run_logged(&t, &c, NOW + HOUR / 2 + 10, &log);
        ck_assert_str_eq(log, "");
        ck_assert_uint_eq(n_calls, 0);
        free(log);
        scheduler_free(&s);
        scheduler_free(&t);
        unlink(path);
        cron_free(p[0].cron);
}
END_TEST

/* Up to SCHED_FUTURE_TOLERANCE ahead (a small step back of the clock just
 * after a due time) is kept: the due time just handled is not offered
 * again, and nothing is logged. */
START_TEST(future_last_due_within_tolerance) {
        struct promotion p[] = { promo("minutely", "* * * * *") };
        struct config c = { .promotions = p, .n_promotions = 1 };
        struct scheduler s = {};
        char *err = NULL, *log = NULL, path[256];
        n_calls = 0;
        write_schedule("minutely", NOW + SCHED_FUTURE_TOLERANCE);      /* 10:31 */
        snprintf(path, sizeof path, "%s/schedule.json", dir);
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        run_logged(&s, &c, NOW, &log);
        ck_assert_str_eq(log, "");
        ck_assert_uint_eq(n_calls, 0);
        ck_assert_int_eq(scheduler_find(&s, "minutely")->last_due, NOW + SCHED_FUTURE_TOLERANCE);
        ck_assert_int_eq(scheduler_next(&s, NULL), NOW + 120);         /* 10:32: 10:31 was handled */
        free(log);
        scheduler_free(&s);
        unlink(path);
        cron_free(p[0].cron);
}
END_TEST

/* The realtime clock stepped back while the daemon runs.  A small step: the
 * due time handled just before is not offered again.  A large one: the
 * promotion is not silenced until the clock catches up with its last due
 * time; counting restarts from now (the due times in between that did run
 * have their job files, and the daemon never creates a scheduled job twice). */
START_TEST(clock_stepped_back) {
        struct promotion p[] = { promo("minutely", "* * * * *") };
        struct config c = { .promotions = p, .n_promotions = 1 };
        struct scheduler s = {};
        char *err = NULL, *log = NULL;
        n_calls = 0;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c, NOW, on_due, NULL);
        scheduler_run(&s, &c, NOW + 60, on_due, NULL);                 /* 10:31 runs */
        ck_assert_uint_eq(n_calls, 1);
        ck_assert_int_eq(calls[0].due, NOW + 60);
        /* stepped back 30 s, to 10:30:30: 10:31 is not offered again */
        n_calls = 0;
        run_logged(&s, &c, NOW + 30, &log);
        ck_assert_uint_eq(n_calls, 0);
        ck_assert_str_eq(log, "");
        ck_assert_int_eq(scheduler_next(&s, NULL), NOW + 120);
        free(log);
        scheduler_run(&s, &c, NOW + 60, on_due, NULL);                 /* 10:31 again on the clock */
        ck_assert_uint_eq(n_calls, 0);
        /* stepped back an hour, to 09:31: next at 09:32, not 10:32 */
        run_logged(&s, &c, NOW + 60 - HOUR, &log);
        ck_assert_uint_eq(n_calls, 0);
        ck_assert_msg(strstr(log, "later than now"), "a large step back is logged: %s", log);
        ck_assert_int_eq(scheduler_next(&s, NULL), NOW + 120 - HOUR);
        free(log);
        scheduler_run(&s, &c, NOW + 120 - HOUR, on_due, NULL);
        ck_assert_uint_eq(n_calls, 1);
        ck_assert_int_eq(calls[0].due, NOW + 120 - HOUR);
        ck_assert(!calls[0].missed);
        scheduler_free(&s);
        cron_free(p[0].cron);
}
END_TEST

/* The clock stepped forward a year (or the daemon was down that long): a
 * minutely schedule passed 525,600 due times, more than the walk's bound;
 * still exactly one run, of the latest due time, and the next is the
 * next minute. */
START_TEST(clock_stepped_forward_far) {
        struct promotion p[] = { promo("minutely", "* * * * *"), promo("daily", "30 2 * * *") };
        struct config c = { .promotions = p, .n_promotions = 2 };
        struct scheduler s = {};
        char *err = NULL;
        n_calls = 0;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c, NOW - 365 * 24 * HOUR, on_due, NULL);
        ck_assert_uint_eq(n_calls, 0);
        scheduler_run(&s, &c, NOW + 30, on_due, NULL);
        ck_assert_uint_eq(n_calls, 2);
        ck_assert_str_eq(calls[0].name, "minutely");
        ck_assert_int_eq(calls[0].due, NOW);                            /* 10:30, the latest */
        ck_assert(!calls[0].missed);                                    /* 30 s late: on time */
        ck_assert_uint_eq(calls[0].folded, 365 * 24 * 60);              /* every minute of the year */
        ck_assert_str_eq(calls[1].name, "daily");
        ck_assert_int_eq(calls[1].due, NOW - 8 * HOUR);                 /* 02:30 today */
        ck_assert(calls[1].missed);
        ck_assert_uint_eq(calls[1].folded, 365);
        ck_assert_int_eq(scheduler_find(&s, "minutely")->next_due, NOW + 60);
        /* and the next timer runs the next minute once, on time */
        n_calls = 0;
        scheduler_run(&s, &c, NOW + 60, on_due, NULL);
        ck_assert_uint_eq(n_calls, 1);
        ck_assert_int_eq(calls[0].due, NOW + 60);
        ck_assert(!calls[0].missed);
        scheduler_free(&s);
        cron_free(p[0].cron);
        cron_free(p[1].cron);
}
END_TEST

/* The fold count against cron_next() walked due time by due time, over
 * schedules with restricted days and hours, partial first and last days,
 * and a zone with DST: equal except where the count says it may differ
 * (the skipped or repeated hour of an every-hour schedule). */
START_TEST(fold_count_matches_walk) {
        static const char *const lines[] = { "*/7 * * * *", "15 2,14 * * 1-5", "0 0 1,15 * sun", "30 2 * * *",
                                             "0 9 29 2 *", "*/20 1-4 * jun-sep *" };
        static const char *const zones[] = { "UTC", "Europe/Berlin" };
        static const time_t spans[][2] = { { NOW - 200 * 24 * HOUR + 17, NOW },
                                           { NOW - 3 * HOUR - 1, NOW + 11 },
                                           { NOW + 5, NOW + 6 },
                                           { NOW - 1461 * 24 * HOUR, NOW - 1400 * 24 * HOUR + 3 * HOUR + 1 } };
        for (size_t l = 0; l < ELEMENTSOF(lines); l++)
                for (size_t z = 0; z < ELEMENTSOF(zones); z++)
                        for (size_t k = 0; k < ELEMENTSOF(spans); k++) {
                                struct cron *cr = NULL;
                                char *err = NULL;
                                uint64_t n = 0, walked = 0;
                                time_t t = spans[k][0];
                                ck_assert_int_eq(cron_parse(lines[l], &cr, &err), 0);
                                while (cron_next(cr, zones[z], t, &t) == 0 && t <= spans[k][1])
                                        walked++;
                                ck_assert_int_eq(cron_count(cr, zones[z], spans[k][0], spans[k][1], &n), 0);
                                /* an every-hour line also runs in the repeated hour of a
                                 * fall-back day (Berlin, late October, in span 0) */
                                bool second_pass = l == 0 && z == 1 && k == 0;
                                ck_assert_msg(second_pass ? walked > n && walked - n <= 60 : n == walked, "%s in %s, span %zu: counted %llu, walked %llu",
                                              lines[l], zones[z], k, (unsigned long long) n,
                                              (unsigned long long) walked);
                                cron_free(cr);
                        }
}
END_TEST

/* A job listed as queued (created, not saved yet) survives a save and a
 * load; the list is written only when there is one, and cleared. */
START_TEST(queued_saved_and_reloaded) {
        struct promotion p[] = { promo("a", "0 * * * *"), promo("b", "0 * * * *") };
        struct config c = { .promotions = p, .n_promotions = 2 };
        struct scheduler s = {}, t = {};
        char *err = NULL, path[300], *text = NULL;
        size_t len;
        n_calls = 0;
        ck_assert_int_eq(scheduler_load(&s, dir, &err), 0);
        scheduler_run(&s, &c, NOW, on_due, NULL);
        scheduler_set_queued(&s, "b", NOW - HOUR / 2, 5);
        scheduler_set_queued(&s, "gone", NOW, 1);                       /* no entry: ignored */
        ck_assert_int_eq(scheduler_save(&s), 0);
        ck_assert_int_eq(scheduler_load(&t, dir, &err), 0);
        ck_assert_int_eq(scheduler_find(&t, "a")->queued_due, 0);
        ck_assert_int_eq(scheduler_find(&t, "b")->queued_due, NOW - HOUR / 2);
        ck_assert_uint_eq(scheduler_find(&t, "b")->queued_folded, 5);
        ck_assert_int_eq(scheduler_find(&t, "a")->last_due, scheduler_find(&s, "a")->last_due);
        ck_assert_int_eq(scheduler_find(&t, "b")->last_due, scheduler_find(&s, "b")->last_due);
        /* a version older than "queued" reads only "last_due": there, the
         * queued due time must still be to come (a downgrade runs it) */
        snprintf(path, sizeof path, "%s/schedule.json", dir);
        ck_assert_int_eq(read_file_small(path, 65536, &text, &len), 0);
        yajl_val o = json_parse(text, len, NULL, 0);
        ck_assert_int_eq(YAJL_GET_INTEGER(json_get(json_get(o, "last_due"), "a")), scheduler_find(&s, "a")->last_due);
        ck_assert_int_lt(YAJL_GET_INTEGER(json_get(json_get(o, "last_due"), "b")), NOW - HOUR / 2);
        yajl_tree_free(o);
        free(text);
        text = NULL;
        scheduler_clear_queued(&t);
        ck_assert_int_eq(scheduler_save(&t), 0);
        snprintf(path, sizeof path, "%s/schedule.json", dir);
        ck_assert_int_eq(read_file_small(path, 65536, &text, &len), 0);
        ck_assert_ptr_null(strstr(text, "queued"));
        free(text);
        scheduler_free(&s);
        scheduler_free(&t);
        cron_free(p[0].cron);
        cron_free(p[1].cron);
}
END_TEST

/* The clock watch opens and stays quiet while nobody sets the clock (a
 * test cannot set the machine's clock to see it fire). */
START_TEST(clock_watch_quiet) {
        int fd = scheduler_clock_watch_open();
        ck_assert_int_ge(fd, 0);
        ck_assert(!scheduler_clock_watch_fired(fd));
        close(fd);
}
END_TEST

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        Suite *su = suite_create("scheduler");
        TCase *tc = tcase_create("scheduler");
        tcase_add_test(tc, new_promotion_does_not_catch_up);
        tcase_add_test(tc, missed_runs_once_latest);
        tcase_add_test(tc, saved_and_reloaded);
        tcase_add_test(tc, removed_promotion_forgotten);
        tcase_add_test(tc, damaged_file);
        tcase_add_test(tc, future_last_due_clamped);
        tcase_add_test(tc, future_last_due_within_tolerance);
        tcase_add_test(tc, clock_stepped_back);
        tcase_add_test(tc, clock_stepped_forward_far);
        tcase_add_test(tc, clock_watch_quiet);
        tcase_add_test(tc, fold_count_matches_walk);
        tcase_add_test(tc, queued_saved_and_reloaded);
        suite_add_tcase(su, tc);
        int failed = check_run_with(su, CK_NOFORK);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return (system(cmd) != 0 || failed) ? 1 : 0;
}
