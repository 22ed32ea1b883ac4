/* Unit tests of scheduler.c: due times, missed runs (catch-up), the saved
 * last due times, and promotions that come and go. */
#include <check.h>
#include <errno.h>
#include <unistd.h>

#include "schedule.h"
#include "scheduler.h"

static char dir[] = "/tmp/d2p-sched.XXXXXX";

struct call { char name[64]; time_t due; bool missed; };
static struct call calls[16];
static size_t n_calls;

static void on_due(void *ud, const struct promotion *p, time_t due, bool missed) {
        ck_assert_uint_lt(n_calls, 16);
        snprintf(calls[n_calls].name, sizeof calls[n_calls].name, "%s", p->name);
        calls[n_calls].due = due;
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
        ck_assert_str_eq(calls[1].name, "daily");
        ck_assert_int_eq(calls[1].due, NOW - 8 * HOUR);                 /* 02:30 today */
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
        suite_add_tcase(su, tc);
        SRunner *sr = srunner_create(su);
        srunner_set_fork_status(sr, CK_NOFORK);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return (system(cmd) != 0 || failed) ? 1 : 0;
}
