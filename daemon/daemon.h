/* daemon.h — the long-running service: resumes unfinished jobs, starts a
 * job at each due time, answers the control socket, talks to systemd
 * (READY=1, RELOADING=1, STOPPING=1, STATUS=, the watchdog), reloads the
 * configuration on SIGHUP and stops on SIGTERM/SIGINT. */
#ifndef DEV2PROD_DAEMON_H
#define DEV2PROD_DAEMON_H

#include "config.h"

/* Takes ownership of c.  Returns the process exit status. */
int daemon_run(struct config *c);

/* For the control socket (control.c). */
struct daemon;
/* Starts promotion name now; *ret_id gets the job id.  Negative errno with
 * *ret_err on refusal (unknown promotion, a job of it already active). */
int daemon_start_manual(struct daemon *d, const char *name, char **ret_id, char **ret_err);
bool daemon_has_job(struct daemon *d, const char *job_id);
int daemon_cancel(struct daemon *d, const char *job_id, char **ret_err);

#endif
