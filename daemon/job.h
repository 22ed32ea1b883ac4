/* job.h — one job = one run of one promotion, as a saved state machine.
 *
 * The job's state is written to {state_directory}/jobs/<id>.json (store.c)
 * at every transition, before the request of the new state is sent, so a
 * restarted daemon resumes where the last one stopped.  The step table in
 * job.c says, for each state, what it sends, how it judges the answer,
 * where it leads, whether it holds the target tenant, and what a resumed
 * job does in it; what each state shows and which saved answer it goes on
 * from is the job's data (jobdata.h). */
#ifndef DEV2PROD_JOB_H
#define DEV2PROD_JOB_H

#include "jobdata.h"

struct engine;

/* Starts or resumes j on the engine's loop (see the resume policy in
 * job.c).  Logs what it does.  When the job reaches a final state the
 * engine's job_finished hook is called. */
void job_run(struct job *j, struct engine *e);
/* Stops the job's timers and requests without changing its saved state
 * (shutdown: it resumes at the next start), and gives up the target
 * tenant: the next job waiting for it continues.  Call it before
 * job_free() on a job that may be running. */
void job_suspend(struct job *j);
/* Ends the job as cancelled (operator request); saves it. */
void job_cancel(struct job *j, const char *why);

/* The approval gate (approval: required): j must be in awaiting-approval
 * and not approved yet, else a negative errno with *ret_err saying why.
 * job_approve saves the approval before it returns 0 and the job goes on
 * to the import; job_reject ends the job as failed (rejected).  who says
 * which operator (the control socket's peer); reason may be NULL. */
int job_approve(struct job *j, const struct job_decision *who, char **ret_err);
int job_reject(struct job *j, const struct job_decision *who, const char *reason, char **ret_err);

/* For status lines: "uploading 48% of 210 MiB". */
char *job_describe_progress(const struct job *j);

#endif
