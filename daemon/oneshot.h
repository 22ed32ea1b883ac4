/* oneshot.h — `dev2prodd --once NAME`: run one promotion now, in the
 * foreground, resuming its unfinished job if there is one. */
#ifndef DEV2PROD_ONESHOT_H
#define DEV2PROD_ONESHOT_H

#include "config.h"

/* Exit codes of the daemon's command line (man dev2prodd(8)). */
enum {
        EXIT_JOB_OK = 0,
        EXIT_JOB_FAILED = 1,    /* the job failed, or stopped without finishing */
        EXIT_CONFIG = 2,        /* bad command line or configuration */
        EXIT_BUSY = 3,          /* another dev2prodd holds the state folder */
};

int oneshot_run(const struct config *c, const char *promotion);

#endif
