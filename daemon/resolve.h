/* resolve.h — dev2prodctl resolve: what an operator found out about an
 * import whose answer was lost (failure import-outcome-unknown), as data:
 * the checks, the record of a job resolved as imported, and the job that
 * sends the import again when it was not.  The daemon (daemon.c) does the
 * saving order and runs the new job. */
#ifndef DEV2PROD_RESOLVE_H
#define DEV2PROD_RESOLVE_H

#include "jobdata.h"

/* 0 when old may be resolved: it ended failed, import-outcome-unknown, and
 * was not resolved before (a resolve --not-imported that was interrupted
 * after marking old, before its new job was saved, may go on: old's
 * resolved_by_job names the job to make, see daemon.c).  Else -EBUSY or
 * -EALREADY with *ret_err. */
int resolve_check(const struct job *old, bool imported, char **ret_err);

/* The operator checked the target tenant and found the import done: old
 * becomes succeeded, with the failure it had in resolved_from and who in
 * resolved.  In memory only; the caller saves. */
void resolve_as_imported(struct job *old, const struct job_decision *who);

/* Marks old as resolved by job new_id (not imported), who in resolved. */
void resolve_mark_not_imported(struct job *old, const struct job_decision *who, const char *new_id);

/* The job that dry-runs and imports old's uploaded file (target_file_id)
 * again: promotion p's settings, old's package and tenants, mode import,
 * starting at the dry run, with resolves = old's id.  NULL with *ret_err
 * when p no longer fits (another target tenant, or mode: dry-run). */
struct job *resolve_new_job(const struct job *old, const struct promotion *p, const char *new_id,
                            char **ret_err);

#endif
