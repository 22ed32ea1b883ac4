/* resolve.c — see resolve.h. */
#include <errno.h>

#include "failure.h"
#include "resolve.h"

static char *who_text(const struct job_decision *d) {
        char when[64];
        return xasprintf("%s (uid %u) at %s", d->user, d->uid, format_timestamp_utc(when, sizeof when, d->usec));
}

int resolve_check(const struct job *old, bool imported, char **ret_err) {
        const char *unknown = failure_to_string(FAILURE_IMPORT_OUTCOME_UNKNOWN);

        if (old->resolved.user && !(old->resolved_by_job && !imported && streq_ptr(old->resolved.reason, "not-imported"))) {
                _cleanup_free_ char *w = who_text(&old->resolved);
                *ret_err = xasprintf("job %s was resolved already (%s) by %s%s%s", old->id,
                                     strempty(old->resolved.reason), w, old->resolved_by_job ? ": job " : "",
                                     strempty(old->resolved_by_job));
                return -EALREADY;
        }
        if (old->state != JOB_FAILED || !streq_ptr(old->failure, unknown)) {
                _cleanup_free_ char *r = job_result_text(old);
                *ret_err = xasprintf("job %s is %s: only a job that failed %s can be resolved", old->id, r, unknown);
                return -EBUSY;
        }
        if (!old->target_file_id) {
                *ret_err = xasprintf("job %s has no uploaded file id (was its file edited?)", old->id);
                return -EBUSY;
        }
        return 0;
}

static void decision_set(struct job_decision *d, const struct job_decision *who, const char *how) {
        job_decision_free(d);
        d->user = xstrdup(who->user);
        d->uid = who->uid;
        d->usec = now_realtime_usec();
        d->reason = xstrdup(how);
}

void resolve_as_imported(struct job *old, const struct job_decision *who) {
        _cleanup_free_ char *w = NULL;

        decision_set(&old->resolved, who, "imported");
        w = who_text(&old->resolved);
        free(old->resolved_from);
        old->resolved_from = TAKE_PTR(old->failure);
        old->state = JOB_SUCCEEDED;
        free(old->message);
        old->message = xasprintf("the import of file %s into tenant %s was recorded as done by %s (dev2prodctl "
                                 "resolve --imported: the operator checked the tenant); the job had failed %s",
                                 old->target_file_id, strempty(old->to.name), w, old->resolved_from);
}

void resolve_mark_not_imported(struct job *old, const struct job_decision *who, const char *new_id) {
        decision_set(&old->resolved, who, "not-imported");
        free(old->resolved_by_job);
        old->resolved_by_job = xstrdup(new_id);
}

static bool same_tenant(const struct job_tenant *a, const struct tenant *b) {
        return streq_ptr(a->name, b->name) && streq_ptr(a->url, b->url) && streq_ptr(a->tenant_id, b->tenant_id);
}

struct job *resolve_new_job(const struct job *old, const struct promotion *p, const char *new_id, char **ret_err) {
        struct job *j;

        if (!same_tenant(&old->to, p->to)) {
                *ret_err = xasprintf("promotion %s now imports into another tenant than job %s did (%s); the "
                                     "uploaded file is on the old one: run the promotion instead", p->name, old->id,
                                     strempty(old->to.name));
                return NULL;
        }
        if (p->mode != MODE_IMPORT) {
                *ret_err = xasprintf("promotion %s is mode: dry-run now; it imports nothing, so there is nothing "
                                     "to send again", p->name);
                return NULL;
        }
        j = job_new(new_id, p, now_realtime_usec());
        free(j->package);
        j->package = xstrdup(old->package);     /* the package of the uploaded file */
        j->target_file_id = xstrdup(old->target_file_id);
        j->resolves = xstrdup(old->id);
        j->state = JOB_DRY_RUN;                 /* a fresh dry run before the import */
        return j;
}
