/* scheduler.h — when each promotion is due next, and which due time it
 * last handled.  The last handled due time of every promotion is saved in
 * {state_directory}/schedule.json so that, like systemd's Persistent=, a
 * due time missed while the daemon was down is noticed at the next start. */
#ifndef DEV2PROD_SCHEDULER_H
#define DEV2PROD_SCHEDULER_H

#include <time.h>

#include "config.h"

struct sched_entry {
        char *promotion;
        time_t last_due;        /* the last due time handled (run or skipped) */
        time_t next_due;        /* 0 when nothing within 5 years */
        /* A due time handled by a job that is queued in memory and has no
         * job file yet (daemon.c, create_job): saved in schedule.json's
         * "queued" so that a restart creates that job again.  0: none. */
        time_t queued_due;
        unsigned queued_folded;
};

struct scheduler {
        char *path;
        struct sched_entry *v;
        size_t n;
        size_t queued_hint;     /* scheduler_set_queued(): the entry after the last one set */
};

/* Reads schedule.json (absent is fine).  A damaged file is reported (-EPROTO
 * with *ret_err) and treated as absent by the caller. */
int scheduler_load(struct scheduler *s, const char *state_directory, char **ret_err);
int scheduler_save(const struct scheduler *s);
void scheduler_free(struct scheduler *s);

/* A due time the caller must act on: run it, or (missed and catch_up off)
 * log that it is skipped.  folded: how many due times it stands for (1,
 * or more when several passed since the last one handled: the daemon
 * was down, the machine asleep, the clock stepped). */
typedef void (*sched_due_fn)(void *userdata, const struct promotion *p, time_t due, bool missed, unsigned folded);

/* Matches the entries to c's promotions (new promotions start counting at
 * now, so they never "catch up" on a time before they existed), calls fn
 * once for each promotion whose due time has come (the latest one when
 * several passed), and computes every next due time.  A due time older than
 * now - SCHED_LATE is "missed" (the daemon was down or the machine asleep).
 * A last due time later than now + SCHED_FUTURE_TOLERANCE is logged (with
 * the file, the promotion and both times) and replaced by now. */
void scheduler_run(struct scheduler *s, const struct config *c, time_t now, sched_due_fn fn, void *userdata);
/* The earliest next due time, 0 when none. */
time_t scheduler_next(const struct scheduler *s, const char **ret_promotion);
const struct sched_entry *scheduler_find(const struct scheduler *s, const char *promotion);
/* The queued due times written by the next scheduler_save(): cleared, then
 * set one by one (a promotion without an entry is ignored). */
void scheduler_clear_queued(struct scheduler *s);
void scheduler_set_queued(struct scheduler *s, const char *promotion, time_t due, unsigned folded);

/* Noticing that the realtime clock was set (stepped, either way) while
 * the daemon runs, so that it calls scheduler_run() again at once: the
 * open function returns a descriptor (or -errno) that becomes readable
 * when the clock is set; after it did, scheduler_clock_watch_fired()
 * reads it and says whether the clock was set (and watches on). */
int scheduler_clock_watch_open(void);
bool scheduler_clock_watch_fired(int fd);

#define SCHED_LATE 60
/* A saved last due time more than this many seconds after now (the clock
 * was set back, or schedule.json comes from elsewhere) is logged and taken
 * as now: see clamp_future() in scheduler.c. */
#define SCHED_FUTURE_TOLERANCE 60

#endif
