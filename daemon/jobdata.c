/* jobdata.c — see jobdata.h. */
#include <errno.h>

#include "jobdata.h"

/* The state's name is the job file's "state" and DEV2PROD_STEP=; the verb
 * is what STATUS= and `dev2prodctl status` show while a job is in it. */
static const struct {
        const char *name, *doing;
} states[_JOB_STATE_MAX] = {
        [JOB_EXPORT]       = { "export",       "exporting" },
        [JOB_EXPORT_POLL]  = { "export-poll",  "exporting" },
        [JOB_DOWNLOAD]     = { "download",     "downloading" },
        [JOB_UPLOAD]       = { "upload",       "uploading" },
        [JOB_DRY_RUN]      = { "dry-run",      "dry-running" },
        [JOB_DRY_RUN_POLL] = { "dry-run-poll", "dry-running" },
        [JOB_IMPORT]       = { "import",       "importing" },
        [JOB_IMPORT_POLL]  = { "import-poll",  "importing" },
        [JOB_SUCCEEDED]    = { "succeeded",    "succeeded" },
        [JOB_FAILED]       = { "failed",       "failed" },
        [JOB_CANCELLED]    = { "cancelled",    "cancelled" },
};

const char *job_state_to_string(enum job_state s) {
        return s < _JOB_STATE_MAX ? states[s].name : "invalid";
}

int job_state_from_string(const char *s) {
        for (int i = 0; i < _JOB_STATE_MAX; i++)
                if (streq(s, states[i].name))
                        return i;
        return -EINVAL;
}

bool job_state_is_final(enum job_state s) { return s >= _JOB_STEPS; }

const char *job_state_doing(enum job_state s) {
        return s < _JOB_STATE_MAX ? states[s].doing : "invalid";
}

/* ---- life cycle ------------------------------------------------------- */

static void tenant_snapshot(struct job_tenant *d, const struct tenant *t) {
        d->name = xstrdup(t->name);
        d->url = xstrdup(t->url);
        d->tenant_id = xstrdup(t->tenant_id);
}

struct job *job_new(const char *id, const struct promotion *p, uint64_t due_usec) {
        struct job *j = xcalloc(1, sizeof *j);
        j->id = xstrdup(id);
        j->promotion = xstrdup(p->name);
        j->package = xstrdup(p->package);
        tenant_snapshot(&j->from, p->from);
        tenant_snapshot(&j->to, p->to);
        j->mode = p->mode;
        j->settings = p->settings;
        j->state = JOB_EXPORT;
        j->created_usec = j->updated_usec = now_realtime_usec();
        j->due_usec = due_usec;
        j->download_fd = -1;
        return j;
}

static void tenant_free(struct job_tenant *t) {
        free(t->name);
        free(t->url);
        free(t->tenant_id);
}

void job_free(struct job *j) {
        if (!j)
                return;
        free(j->id);
        free(j->promotion);
        free(j->package);
        tenant_free(&j->from);
        tenant_free(&j->to);
        free(j->failure);
        free(j->message);
        free(j->export_id);
        export_status_free(&j->export);
        free(j->package_path);
        free(j->target_file_id);
        free(j->dry_run_id);
        import_status_free(&j->dry_run);
        free(j->import_id);
        import_status_free(&j->import);
        free(j->superseded_by);
        free(j);
}

