/* store.h — job files: {state_directory}/jobs/<id>.json, written atomically
 * (util.c write_file_atomic) and read back on start.  The format is
 * documented in README.md ("Job files"); "format" is bumped on any
 * incompatible change. */
#ifndef DEV2PROD_STORE_H
#define DEV2PROD_STORE_H

#include "jobdata.h"

#define STORE_FORMAT 1
/* What a job file may weigh.  What it holds is bounded (api.h API_MAX_*:
 * three statuses of at most 64 results and 100 findings of 512 bytes, each
 * byte escaped to at most 6), which makes well under 2 MiB; the margin is
 * for the fields around them.  store_save refuses to write more, so every
 * file it writes store_load reads back. */
#define STORE_MAX_FILE (16u * 1024u * 1024u)

/* "{state_directory}/jobs", created (0700) when missing. */
int store_open(const char *state_directory, char **ret_jobs_dir);
char *store_job_path(const char *jobs_dir, const char *id);
/* A job id is [A-Za-z0-9._-]{1,128} and does not start with '.'. */
bool store_id_valid(const char *id);

/* A new job id: <promotion>-<UTC time>, e.g. forms-nightly-20261128T023000Z
 * (at the due time for scheduled runs, at the start for manual ones); a
 * "-2", "-3"... suffix keeps it unique when that file exists already. */
char *store_new_job_id(const char *jobs_dir, const char *promotion, uint64_t usec);
/* The id a due time gives, without the uniqueness suffix. */
char *store_job_id_for(const char *promotion, uint64_t usec);

/* Serializes j (sets j->updated_usec) and replaces its file atomically;
 * sets j->on_disk on success, as store_load does.  -EINVAL (a string that
 * is not UTF-8) and -EFBIG (over STORE_MAX_FILE) are not disk errors. */
int store_save(const char *jobs_dir, struct job *j);
/* The same without syncing jobs_dir: durable only after fsync_dir(jobs_dir)
 * (the job machine's group commit, commit.h). */
int store_save_unsynced(const char *jobs_dir, struct job *j);
char *store_job_to_json(const struct job *j, bool pretty);
/* Reads one job file.  -EINVAL/-EPROTO with *ret_err for a bad file. */
int store_load(const char *path, struct job **ret, char **ret_err);
int store_job_from_json(const char *text, size_t len, struct job **ret, char **ret_err);
/* Ids of every job file in jobs_dir, sorted (oldest id first). */
int store_list(const char *jobs_dir, char ***ret_ids, size_t *ret_n);
void strv_free_n(char **v, size_t n);

/* The promotion a job id belongs to ("forms-nightly" of
 * forms-nightly-20261128T023000Z-2), or NULL when the id is not of the
 * form store_job_id_for gives. */
char *store_id_promotion(const char *id);

/* One job file, as store_each_unfinished hands it over. */
struct store_entry {
        struct job *job;        /* the unfinished job (the callback owns it), or NULL: */
        const char *error;      /* why the file cannot be read */
        const char *id;
        const char *promotion;  /* from the id; NULL when the id does not say */
        const char *newer_id;   /* a newer job file of the same promotion, or NULL */
};

/* Calls cb for every unfinished job in jobs_dir, and for every job file
 * that cannot be read (it may hold an unfinished job: the caller must not
 * start another job of that promotion, see daemon.c and oneshot.c): oldest
 * id first, or newest first.  cb returns >0 to stop, 0 to go on.  Finished
 * jobs are skipped, most of them without being parsed (see looks_finished).
 * A folder that cannot be listed is logged and returned as an error. */
typedef int (*store_job_cb)(struct store_entry *e, void *userdata);
int store_each_unfinished(const char *jobs_dir, bool newest_first, store_job_cb cb, void *userdata);
/* The same in steps, for the daemon, which scans after READY=1 without
 * holding its loop (daemon.c): open lists the folder (as above: logged
 * when it cannot), each step looks at up to max more files and returns 1
 * when the scan is over (or cb returned >0), 0 when files are left, or
 * cb's error. */
struct store_scan;
int store_scan_open(const char *jobs_dir, bool newest_first, struct store_scan **ret);
int store_scan_step(struct store_scan *s, size_t max, store_job_cb cb, void *userdata);
size_t store_scan_size(const struct store_scan *s);
void store_scan_free(struct store_scan *s);

/* Retention (history_keep:, daemon.c).  Removes at most max finished job
 * files (state succeeded, failed or cancelled) that ended before
 * older_than_usec (finished_usec; updated_usec when a file has none), with
 * their leftover package (<id>.pkg), then fsyncs the folder.  Kept whatever
 * their age:
 *  - unfinished jobs;
 *  - files that cannot be read: one may hold an unfinished import, so the
 *    operator decides (counted in ret->unreadable; the daemon logs them);
 *  - the newest job file of each promotion (by id, the order of
 *    store_list): it is the "last job" dev2prodctl list shows, and the
 *    id the scheduler's next job of that promotion is compared with;
 *  - files whose name does not say their promotion and time (not written
 *    by dev2prodd under that name): nothing says which is the newest.
 * An id's time (the due time or the start) is never later than the job's
 * end, so a file whose id time is after older_than_usec is kept without
 * being read: a run reads only the files that are candidates, not the
 * whole history.  ret->more is set when the batch filled up before every
 * candidate was looked at.  Returns the number removed, or a negative errno
 * when the folder cannot be listed. */
struct store_prune_result {
        unsigned removed;
        unsigned unreadable;    /* old-enough files kept because they cannot be read */
        bool more;              /* stopped at max: call again */
        uint64_t oldest_kept_usec; /* the earliest id time among the files kept, 0 if none */
};
int store_prune(const char *jobs_dir, uint64_t older_than_usec, unsigned max, struct store_prune_result *ret);

/* Removes temp files (".#*") an interrupted write left in jobs_dir: they
 * never hold a state that was saved.  Returns how many were removed. */
int store_clean_temp(const char *jobs_dir);

/* Takes {state_directory}/lock (flock, held until exit) so that two
 * processes never drive the same jobs.  -EBUSY when another holds it. */
int store_lock(const char *state_directory, int *ret_fd);
#endif
