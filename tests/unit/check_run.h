/* check_run.h — how every unit test program runs its suite and turns the
 * result into its exit status (tests/run.sh reads 0 as a pass): one copy
 * instead of one per test file. */
#ifndef DEV2PROD_CHECK_RUN_H
#define DEV2PROD_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

/* fork: CK_NOFORK for the tests that share a folder made in main() */
static inline int check_run_with(Suite *s, enum fork_status fork) {
        SRunner *sr = srunner_create(s);
        if (fork != CK_FORK_GETENV)
                srunner_set_fork_status(sr, fork);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline int check_run(Suite *s) { return check_run_with(s, CK_FORK_GETENV); }

#endif
