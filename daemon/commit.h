/* commit.h — group commit: the job saves of one pass through the event
 * loop share one fsync of the job folder.
 *
 * A save writes and fsyncs its temp file and renames it at once
 * (store_save_unsynced), then joins the batch.  The batch's one folder
 * fsync runs from a deferred event source of the lowest priority: after
 * every event that was ready when it was armed (a wake-up often completes
 * several transfers and timers), so the saves those events make share it.
 * Only when it has returned is each job of the batch told, and only then
 * does the job send the request of its new state: a state is durable before
 * its request leaves, as with one fsync per save.  A job waits in at most
 * one batch; leaving (job_suspend) takes it out. */
#ifndef DEV2PROD_COMMIT_H
#define DEV2PROD_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct job;

/* r: 0 when the job's last save is durable, else the folder fsync's
 * negative errno (handled like a failed save: nothing is sent). */
typedef void (*commit_done_t)(struct job *j, int r);

struct commit {
        sd_event *event;                /* not owned */
        const char *dir;                /* the job folder; not owned */
        sd_event_source *source;        /* the deferred fsync; NULL when idle */
        struct commit_entry { struct job *job; commit_done_t done; } *v;
        size_t n, cap;
        /* the batch being told (commit_flush), so that a job that leaves
         * meanwhile is skipped; flushes do not nest */
        struct commit_entry *telling;
        size_t n_telling;
        bool dirty;                     /* a rename since the last folder fsync */
        unsigned long batches, saves;   /* for the log at the end (bench) */
};

void commit_init(struct commit *c, sd_event *event, const char *dir);
/* j's file was replaced (store_save_unsynced): done(j, r) is called once
 * the folder is synced.  A job already waiting is not added twice: the one
 * call then covers its latest save.  -ENOMEM-free; a negative errno when
 * the event source cannot be added, and the caller then syncs itself. */
int commit_join(struct commit *c, struct job *j, commit_done_t done);
/* j no longer waits (it is suspended or freed); its file stays replaced. */
void commit_leave(struct commit *c, struct job *j);
/* Runs the waiting batch now (a control request that must answer with the
 * job's end, shutdown).  The callbacks may free jobs and join new ones. */
void commit_flush(struct commit *c);
/* After the loop: syncs the folder if a rename is not durable yet (no job
 * is told), frees. */
void commit_done(struct commit *c);

#endif
