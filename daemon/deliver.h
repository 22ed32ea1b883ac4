/* deliver.h — carrying out a job's follow-ups (notify.h) on the event loop:
 * running the notify: exec: program, POSTing to the webhook, asking the
 * daemon to create a chained job.  Nothing here blocks the loop or changes
 * a job's outcome; each result is saved in the job's file.
 *
 * The deliverer keeps a pointer to each job with pending follow-ups.  A
 * running job stays the daemon's; when the daemon is done with a job it
 * calls deliver_release(), which takes the job over while follow-ups are
 * pending (and frees it when they are done) or says the daemon frees it. */
#ifndef DEV2PROD_DELIVER_H
#define DEV2PROD_DELIVER_H

#include "engine.h"

/* Creates the job `id` of promotion p, triggered by upstream job
 * `upstream`, and saves it before returning 0.  -EEXIST: a file of that
 * id exists; -EBUSY: p has an active or held job, -EAGAIN: the job
 * folder is still being read after start-up, both tried again by
 * deliver_retry_waiting(); other negative errno: try later. */
typedef int (*deliver_create_fn)(void *userdata, const struct promotion *p, const char *id, const char *upstream);

struct deliver;

int deliver_new(struct engine *e, deliver_create_fn create, void *userdata, struct deliver **ret);
/* Stops what runs (a running program gets SIGTERM; pending follow-ups stay
 * pending in the job files and are carried out after the next start) and
 * frees the jobs it owns. */
void deliver_free(struct deliver *d);
/* j's state was saved: carry out its pending follow-ups, if any. */
void deliver_job(struct deliver *d, struct job *j);
/* A job ended, or the scan of the jobs folder did: the chained jobs that
 * were waiting for their promotion's active job are tried now. */
void deliver_retry_waiting(struct deliver *d);
/* The job with this id that the deliverer holds (its follow-ups are not
 * done yet), or NULL.  Whoever changes a finished job (dev2prodctl resolve)
 * changes this one rather than a copy read from its file: the deliverer
 * saves its job again as each follow-up ends, and would put back the state
 * the copy had replaced. */
struct job *deliver_find(struct deliver *d, const char *id);
/* The daemon is done with j: true when the deliverer keeps it (follow-ups
 * pending), false when the caller frees it. */
bool deliver_release(struct deliver *d, struct job *j);

#endif
