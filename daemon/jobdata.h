/* jobdata.h — the job as data: its fields, the names of its states, and
 * making and freeing one.  What the job files (store.c) and dev2prodctl
 * need; the machine that runs a job is job.h, so that they link without
 * the event loop and the HTTP layer. */
#ifndef DEV2PROD_JOBDATA_H
#define DEV2PROD_JOBDATA_H

#include <systemd/sd-event.h>

#include "api.h"
#include "config.h"

enum job_state {
        JOB_EXPORT,             /* POST export              -> export_id */
        JOB_EXPORT_POLL,        /* GET export status        -> export_file_id */
        JOB_DOWNLOAD,           /* GET attachment to disk   -> download_bytes, sha256 */
        JOB_UPLOAD,             /* POST multipart to target -> target_file_id */
        JOB_DRY_RUN,            /* POST import?dryRun=true  -> dry_run_id */
        JOB_DRY_RUN_POLL,       /* GET import status, judge */
        JOB_AWAITING_APPROVAL,  /* no request: waits for dev2prodctl approve (approval: required) */
        JOB_IMPORT,             /* POST import              -> import_id */
        JOB_IMPORT_POLL,        /* GET import status */
        JOB_SUCCEEDED,
        JOB_FAILED,
        JOB_CANCELLED,
        _JOB_STATE_MAX,
        _JOB_STEPS = JOB_SUCCEEDED,
};

struct step_record {            /* per state, for history and `dev2prodctl show` */
        uint64_t started_usec, finished_usec;   /* realtime; 0 = not reached */
        unsigned attempts;                      /* requests sent in this state */
};

struct job_tenant {             /* snapshot taken when the job was created */
        char *name, *url, *tenant_id;
};

/* An operator's decision on a job (dev2prodctl approve, reject, resolve):
 * who (from the control socket's peer credentials) and when. */
struct job_decision {
        char *user;                     /* user name, or the uid as text; NULL = no decision */
        unsigned uid;
        uint64_t usec;                  /* realtime */
        char *reason;                   /* reject --reason; resolve: "imported" or "not-imported" */
};
/* A follow-up: what one of the job's transitions asks for after it (a
 * notification to send, a chained job to create; notify.h).  Recorded in
 * the same save as the transition, so a crash cannot lose it, and marked
 * done in a later save, so a crash can at worst repeat it. */
enum followup_kind {
        FOLLOWUP_UNKNOWN,       /* a word this version does not know: dropped */
        FOLLOWUP_EXEC,          /* run notify: exec: */
        FOLLOWUP_WEBHOOK,       /* POST to notify: webhook: */
        FOLLOWUP_CHAIN,         /* create the job of a promotion with after: this one */
        _FOLLOWUP_KIND_MAX,
};
enum followup_status {
        FOLLOWUP_PENDING,
        FOLLOWUP_DONE,          /* delivered / created */
        FOLLOWUP_GAVE_UP,       /* not delivered within NOTIFY_GIVE_UP_USEC */
        FOLLOWUP_DROPPED,       /* nothing to do any more (configuration changed) */
        _FOLLOWUP_STATUS_MAX,
};
struct followup {
        enum followup_kind kind;
        enum followup_status status;
        char *event;            /* the event (config.h NOTIFY_EVENTS word) */
        char *state;            /* the job's state at the event */
        char *promotion;        /* chain: the promotion to start */
        char *job_id;           /* chain: the id of its job, chosen with the event */
        unsigned attempts;
        uint64_t created_usec, next_usec, done_usec;   /* realtime; next_usec: not before */
        char *last_error;       /* why the last attempt failed (never the webhook URL) */
        bool waiting;           /* chain, not saved: its promotion had an active job (deliver.c) */
};
struct job;
const char *followup_kind_to_string(enum followup_kind k);
const char *followup_status_to_string(enum followup_status s);
size_t job_followups_pending(const struct job *j);
void followup_free(struct followup *f);

struct engine;

struct job {
        /* ---- saved (store.c; fields documented in README "Job files") ---- */
        char *id;
        char *promotion;
        char *package;
        struct job_tenant from, to;
        enum promo_mode mode;
        struct settings settings;
        enum job_state state;
        enum job_state saved_state;     /* as on disk */
        char *failure;                  /* short code when failed: see job.c */
        char *message;                  /* last outcome, for operators */
        uint64_t created_usec, updated_usec, finished_usec, due_usec;
        char *export_id;
        struct export_status export;    /* last COMPLETED export status */
        char *package_path;             /* the downloaded package on disk */
        uint64_t download_bytes;
        char download_sha256[65];
        char package_boot_id[37];       /* boot that wrote the package unflushed; "" = flushed */
        char *target_file_id;
        char *dry_run_id;
        struct import_status dry_run;
        char *import_id;
        struct import_status import;
        struct step_record steps[_JOB_STEPS];
        unsigned duplicates;            /* creating requests sent again after a lost answer */
        /* the approval gate (approval: required) and resolving a lost
         * import answer (dev2prodctl resolve); see job.c */
        struct job_decision approved, rejected, resolved;
        char *resolved_from;            /* the failure a resolve --imported replaced */
        char *resolved_by_job;          /* the job a resolve --not-imported made */
        char *resolves;                 /* in that job: the job it resolves */
        char *triggered_by;             /* after: the upstream job whose success created it */
        unsigned folded_due_times;      /* a catch-up: the due times it stands for (0: not one) */
        struct followup *followups;     /* notify.h */
        size_t n_followups;

        /* ---- runtime only ---- */
        struct engine *engine;
        struct http_req *req;
        sd_event_source *timer;
        unsigned tries;                 /* of the current request */
        bool session_renewed;           /* a 401 already led to one new login */
        bool logging_in;
        int download_fd;                /* the package being written, or -1 */
        unsigned save_failures;         /* consecutive failed saves */
        bool save_pending;              /* the timer retries a failed save */
        bool on_disk;                   /* it has a job file (saved or loaded): it can resume */
        /* step_timeout is measured on the monotonic clock from step_mono_usec,
         * plus step_base_usec that had passed before (by the saved realtime
         * start, when a job resumes): a clock stepped while the daemon runs
         * neither times a poll out nor lets it run forever. */
        uint64_t step_mono_usec, step_base_usec;
        /* A newer job of the same promotion exists (set when an unfinished
         * job is found at start): this one must not import an older
         * package over a newer one, see job_run. */
        char *superseded_by;
        sd_event_source *approval_timer;        /* awaiting-approval: ends it expired */
};

/* What each state is, as data (the table in jobdata.c); what the machine
 * does in it is the step table in job.c. */
const char *job_state_to_string(enum job_state s);
int job_state_from_string(const char *s);       /* -EINVAL when unknown */
bool job_state_is_final(enum job_state s);
/* Progress verb for STATUS=: "exporting", "uploading" ... */
const char *job_state_doing(enum job_state s);
/* True when state s moves the package, so that its progress is counted in
 * bytes (STATUS= shows a percentage, and is refreshed while it runs). */
bool job_state_transfers(enum job_state s);
/* The saved answer of an earlier step that state s goes on from (the
 * export id an export poll asks about, ...): its field's name in struct
 * job ("export_id"), or NULL when s needs none.  *ret_value is its value
 * in j, NULL when j lacks it: s cannot send its request then. */
const char *job_state_input(const struct job *j, enum job_state s, const char **ret_value);
/* What a job that has entered step s goes on from, for `dev2prodctl run
 * --wait` ("export id 6797..."); NULL when there is nothing to say. */
char *job_state_detail(const struct job *j, enum job_state s);
/* What `dev2prodctl list` says a job came to: "succeeded", "cancelled",
 * "failed: <failure>" or "running (<state>)". */
char *job_result_text(const struct job *j);
/* "added 1, modified 2, removed 0, failed 0, skipped 0" */
char *job_totals_text(const struct totals *t);

/* When a job in awaiting-approval expires (realtime): the step's saved
 * start plus the job's approval_timeout. */
uint64_t job_approval_deadline(const struct job *j);
void job_decision_free(struct job_decision *d);

struct job *job_new(const char *id, const struct promotion *p, uint64_t due_usec);
/* Frees the data only: a job that may be running is stopped first
 * (job_suspend, job.h), which knows its request, timer and target lock. */
void job_free(struct job *j);

#endif
