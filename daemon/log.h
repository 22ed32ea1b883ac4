/* log.h — one logging path for the daemon and the tools.
 *
 * Under systemd (stderr connected to the journal, see $JOURNAL_STREAM) a
 * line goes to sd_journal_send with structured fields an operator can filter
 * on; in a terminal it goes to stderr as one readable line:
 *   "dev2prodd: [forms-nightly-20261128T023000Z] export: export of package 54321 requested ..."
 *   "dev2prodd: warning: [forms-nightly-20261128T023000Z] upload: HTTP 503: ...; try 2 of 6 in 1s"
 * Secrets must never reach these functions: callers log ids, never keys.
 */
#ifndef DEV2PROD_LOG_H
#define DEV2PROD_LOG_H

#include <syslog.h>
#include "util.h"

/* Fixed MESSAGE_IDs (see systemd/dev2prodd.catalog). */
#define MSGID_JOB_STARTED   "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c31"
#define MSGID_STEP_DONE     "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c32"
#define MSGID_JOB_SUCCEEDED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c33"
#define MSGID_JOB_FAILED    "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c34"
#define MSGID_DRYRUN_REJECTED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c35"

struct log_ctx {
        const char *job;        /* DEV2PROD_JOB= */
        const char *promotion;  /* DEV2PROD_PROMOTION= */
        const char *step;       /* DEV2PROD_STEP= */
        const char *tenant;     /* DEV2PROD_TENANT= */
};

void log_open(const char *ident);
void log_set_max_level(int prio);
int log_get_max_level(void);
/* Returns -err when err < 0 so callers can `return log_error_errno(r, ...)`. */
int log_full(int prio, int err, const struct log_ctx *ctx, const char *msgid,
             const char *fmt, ...) _printf_(5, 6);

#define log_debug(...)  log_full(LOG_DEBUG, 0, NULL, NULL, __VA_ARGS__)
#define log_info(...)   log_full(LOG_INFO, 0, NULL, NULL, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, NULL, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, NULL, NULL, __VA_ARGS__)
#define log_error(...)  log_full(LOG_ERR, 0, NULL, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_ERR, (e), NULL, NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), NULL, NULL, __VA_ARGS__)

#endif
