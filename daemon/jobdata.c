/* jobdata.c — see jobdata.h. */
#include <errno.h>
#include <stddef.h>

#include "jobdata.h"

/* The saved answers a step goes on from.  Each was made by the step
 * before it and is on disk before the step starts (job.c, rule 1), so a
 * job that lacks one was not left so by the machine. */
enum input {
        IN_NONE,
        IN_EXPORT_ID,           /* the export to poll */
        IN_EXPORT_FILE,         /* the package to download */
        IN_TARGET_FILE,         /* the package as uploaded to the target */
        IN_DRY_RUN_ID,          /* the dry run to poll */
        IN_IMPORT_ID,           /* the import to poll */
        _IN_MAX,
};

static const struct {
        const char *field;      /* in struct job, for messages */
        const char *label;      /* what `run --wait` calls it */
        size_t offset;          /* of the char * in struct job */
} inputs[_IN_MAX] = {
        [IN_EXPORT_ID]   = { "export_id",      "export id",  offsetof(struct job, export_id) },
        [IN_EXPORT_FILE] = { "export.file_id", "FileId",     offsetof(struct job, export.file_id) },
        [IN_TARGET_FILE] = { "target_file_id", "file id",    offsetof(struct job, target_file_id) },
        [IN_DRY_RUN_ID]  = { "dry_run_id",     "dry run id", offsetof(struct job, dry_run_id) },
        [IN_IMPORT_ID]   = { "import_id",      "import id",  offsetof(struct job, import_id) },
};

static char *detail_export(const struct job *j);
static char *detail_download(const struct job *j);
static char *detail_upload(const struct job *j);
static char *detail_dry_run(const struct job *j);
static char *detail_approval(const struct job *j);
static char *detail_import(const struct job *j);

/* Every state as data.  name: the job file's "state" and DEV2PROD_STEP=;
 * doing: what STATUS= and `dev2prodctl status` say while a job is in it;
 * input: the saved answer it goes on from; bytes: it moves the package
 * (progress in bytes); detail: what `run --wait` says when a job enters
 * it, beyond the input (NULL: "<input label> <value>"). */
static const struct {
        const char *name, *doing;
        enum input input;
        bool bytes;
        char *(*detail)(const struct job *j);
} states[_JOB_STATE_MAX] = {
        /*                   name            doing          input           bytes  detail */
        [JOB_EXPORT]       = { "export",       "exporting",   IN_NONE,        false, detail_export },
        [JOB_EXPORT_POLL]  = { "export-poll",  "exporting",   IN_EXPORT_ID,   false, NULL },
        [JOB_DOWNLOAD]     = { "download",     "downloading", IN_EXPORT_FILE, true,  detail_download },
        /* its input is the package on disk: prep_upload checks it (job.c) */
        [JOB_UPLOAD]       = { "upload",       "uploading",   IN_NONE,        true,  detail_upload },
        [JOB_DRY_RUN]      = { "dry-run",      "dry-running", IN_TARGET_FILE, false, detail_dry_run },
        [JOB_DRY_RUN_POLL] = { "dry-run-poll", "dry-running", IN_DRY_RUN_ID,  false, NULL },
        [JOB_AWAITING_APPROVAL] = { "awaiting-approval", "awaiting approval", IN_NONE, false, detail_approval },
        [JOB_IMPORT]       = { "import",       "importing",   IN_TARGET_FILE, false, detail_import },
        [JOB_IMPORT_POLL]  = { "import-poll",  "importing",   IN_IMPORT_ID,   false, NULL },
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

bool job_state_transfers(enum job_state s) {
        return s < _JOB_STATE_MAX && states[s].bytes;
}

const char *job_state_input(const struct job *j, enum job_state s, const char **ret_value) {
        enum input in = s < _JOB_STATE_MAX ? states[s].input : IN_NONE;

        if (in == IN_NONE) {
                *ret_value = NULL;
                return NULL;
        }
        *ret_value = *(char *const *) (const void *) ((const char *) j + inputs[in].offset);
        return inputs[in].field;
}

char *job_state_detail(const struct job *j, enum job_state s) {
        const char *v;

        if (s >= _JOB_STEPS)
                return NULL;
        if (states[s].detail)
                return states[s].detail(j);
        return job_state_input(j, s, &v) && v ? xasprintf("%s %s", inputs[states[s].input].label, v) : NULL;
}

static char *detail_export(const struct job *j) {
        return xasprintf("exporting package %s from tenant %s", j->package, strempty(j->from.name));
}

static char *detail_download(const struct job *j) {
        return j->export.file_id ? xasprintf("export completed: FileId %s, %lld items", j->export.file_id,
                                             j->export.item_count) : NULL;
}

static char *detail_upload(const struct job *j) {
        return j->download_sha256[0] ? xasprintf("downloaded %llu bytes, sha256 %s",
                                                 (unsigned long long) j->download_bytes, j->download_sha256) : NULL;
}

static char *detail_dry_run(const struct job *j) {
        return j->target_file_id ? xasprintf("uploaded to tenant %s: file id %s", strempty(j->to.name),
                                             j->target_file_id) : NULL;
}

static char *detail_approval(const struct job *j) {
        _cleanup_free_ char *t = NULL;
        char when[64];

        if (!j->dry_run.has_totals)
                return NULL;
        t = job_totals_text(&j->dry_run.totals);
        return xasprintf("dry run passed: %s; approve by %s (dev2prodctl approve %s)", t,
                         format_timestamp_utc(when, sizeof when, job_approval_deadline(j)), j->id);
}

uint64_t job_approval_deadline(const struct job *j) {
        return j->steps[JOB_AWAITING_APPROVAL].started_usec + j->settings.approval_timeout_usec;
}

static char *detail_import(const struct job *j) {
        _cleanup_free_ char *t = NULL;

        if (!j->dry_run.has_totals)
                return NULL;
        t = job_totals_text(&j->dry_run.totals);
        return xasprintf("dry run passed: %s", t);
}

char *job_result_text(const struct job *j) {
        if (!job_state_is_final(j->state))
                return xasprintf("running (%s)", job_state_to_string(j->state));
        /* a cancelled job's failure code is "cancelled": its name says it */
        if (j->state == JOB_FAILED)
                return xasprintf("failed: %s", j->failure ? j->failure : "unknown");
        return xstrdup(job_state_to_string(j->state));
}

char *job_totals_text(const struct totals *t) {
        return xasprintf("added %lld, modified %lld, removed %lld, failed %lld, skipped %lld",
                         t->added, t->modified, t->removed, t->failed, t->skipped);
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

void job_decision_free(struct job_decision *d) {
        free(d->user);
        free(d->reason);
        *d = (struct job_decision) {};
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
        job_decision_free(&j->approved);
        job_decision_free(&j->rejected);
        job_decision_free(&j->resolved);
        free(j->resolved_from);
        free(j->resolved_by_job);
        free(j->resolves);
        free(j->superseded_by);
        free(j->triggered_by);
        for (size_t i = 0; i < j->n_followups; i++)
                followup_free(&j->followups[i]);
        free(j->followups);
        free(j);
}

void followup_free(struct followup *f) {
        free(f->event);
        free(f->state);
        free(f->promotion);
        free(f->job_id);
        free(f->last_error);
}

const char *followup_kind_to_string(enum followup_kind k) {
        static const char *const w[_FOLLOWUP_KIND_MAX] = { "unknown", "exec", "webhook", "chain" };
        return k < _FOLLOWUP_KIND_MAX ? w[k] : "unknown";
}

const char *followup_status_to_string(enum followup_status s) {
        static const char *const w[_FOLLOWUP_STATUS_MAX] = { "pending", "done", "gave-up", "dropped" };
        return s < _FOLLOWUP_STATUS_MAX ? w[s] : "pending";
}

size_t job_followups_pending(const struct job *j) {
        size_t n = 0;
        for (size_t i = 0; i < j->n_followups; i++)
                if (j->followups[i].status == FOLLOWUP_PENDING)
                        n++;
        return n;
}

