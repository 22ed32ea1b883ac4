/* store.h — job files: {state_directory}/jobs/<id>.json, written atomically
 * (util.c write_file_atomic) and read back on start.  The format is
 * documented in README.md ("Job files"); "format" is bumped on any
 * incompatible change. */
#ifndef DEV2PROD_STORE_H
#define DEV2PROD_STORE_H

#include "job.h"

#define STORE_FORMAT 1
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
 * sets j->on_disk on success, as store_load does. */
int store_save(const char *jobs_dir, struct job *j);
char *store_job_to_json(const struct job *j, bool pretty);
/* Reads one job file.  -EINVAL/-EPROTO with *ret_err for a bad file. */
int store_load(const char *path, struct job **ret, char **ret_err);
int store_job_from_json(const char *text, size_t len, struct job **ret, char **ret_err);
/* Ids of every job file in jobs_dir, sorted (oldest id first). */
int store_list(const char *jobs_dir, char ***ret_ids, size_t *ret_n);
void strv_free_n(char **v, size_t n);

/* Calls cb for every unfinished job in jobs_dir: oldest id first, or newest
 * first.  cb owns the job it gets; it returns >0 to stop, 0 to go on.  A
 * file that cannot be read is logged and left alone (evidence, not
 * garbage).  Finished jobs are skipped, most of them without being parsed
 * (see looks_finished). */
typedef int (*store_job_cb)(struct job *j, void *userdata);
int store_each_unfinished(const char *jobs_dir, bool newest_first, store_job_cb cb, void *userdata);

/* Removes temp files (".#*") an interrupted write left in jobs_dir: they
 * never hold a state that was saved.  Returns how many were removed. */
int store_clean_temp(const char *jobs_dir);

/* Takes {state_directory}/lock (flock, held until exit) so that two
 * processes never drive the same jobs.  -EBUSY when another holds it. */
int store_lock(const char *state_directory, int *ret_fd);
#endif
