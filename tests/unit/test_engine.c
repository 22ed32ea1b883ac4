/* Unit tests of engine.c's target lock: one job per target tenant runs
 * its target-side steps, the others wait first come, first served, and
 * engine_target_release hands the lock on by returning the next holder
 * (the engine never runs a job itself). */
#include <check.h>

#include "check_run.h"
#include "engine.h"

static struct job job_into(const char *tenant) {
        return (struct job) { .to.name = (char *) tenant };
}

START_TEST(first_come_first_served) {
        struct engine e = {};
        struct job a = job_into("prod"), b = job_into("prod"), c = job_into("qa"), d = job_into("prod");

        ck_assert(engine_target_acquire(&e, &a));
        ck_assert(engine_target_acquire(&e, &a));       /* the holder asking again */
        ck_assert(!engine_target_acquire(&e, &b));
        ck_assert(!engine_target_acquire(&e, &b));      /* queued once */
        ck_assert_uint_eq(e.n_waiting, 1);
        ck_assert(engine_target_acquire(&e, &c));       /* another tenant is free */
        ck_assert(!engine_target_acquire(&e, &d));

        ck_assert_ptr_eq(engine_target_release(&e, &a), &b);
        ck_assert_uint_eq(e.n_waiting, 1);
        ck_assert(engine_target_acquire(&e, &b));       /* b holds it now */
        ck_assert_ptr_eq(engine_target_release(&e, &c), NULL);  /* nobody waits for qa */
        ck_assert_ptr_eq(engine_target_release(&e, &b), &d);
        ck_assert_ptr_eq(engine_target_release(&e, &d), NULL);
        ck_assert_uint_eq(e.n_waiting, 0);
        ck_assert(engine_target_acquire(&e, &a));       /* free again */
        ck_assert_ptr_eq(engine_target_release(&e, &a), NULL);
        engine_done(&e);
}
END_TEST

/* A job that stops while it waits leaves the queue and takes nothing. */
START_TEST(waiter_leaves) {
        struct engine e = {};
        struct job a = job_into("prod"), b = job_into("prod"), c = job_into("prod");

        ck_assert(engine_target_acquire(&e, &a));
        ck_assert(!engine_target_acquire(&e, &b));
        ck_assert(!engine_target_acquire(&e, &c));
        ck_assert_ptr_eq(engine_target_release(&e, &b), NULL);
        ck_assert_uint_eq(e.n_waiting, 1);
        ck_assert_ptr_eq(engine_target_release(&e, &a), &c);
        ck_assert_ptr_eq(engine_target_release(&e, &b), NULL);  /* holds nothing, waits for nothing */
        ck_assert_ptr_eq(engine_target_release(&e, &c), NULL);
        engine_done(&e);
}
END_TEST

int main(void) {
        Suite *s = suite_create("engine");
        TCase *tc = tcase_create("target lock");
        tcase_add_test(tc, first_come_first_served);
        tcase_add_test(tc, waiter_leaves);
        suite_add_tcase(s, tc);
        return check_run(s);
}
