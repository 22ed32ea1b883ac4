/* notify.h — what a job's transition asks for afterwards, as data: the
 * event it stands for, the follow-ups it records (notifications to send,
 * chained jobs to create; jobdata.h struct followup) and the JSON summary a
 * notification carries.  No event loop here: deliver.c carries them out.
 *
 * The follow-ups of a transition are added before its save (the engine's
 * job_saving hook), so the transition and what it asks for are on disk
 * together or not at all; each is marked done in a later save.  A crash in
 * between repeats it: delivery is at least once, and the delivery id lets
 * a receiver drop the repeat. */
#ifndef DEV2PROD_NOTIFY_H
#define DEV2PROD_NOTIFY_H

#include "config.h"
#include "jobdata.h"

/* A follow-up not done after this long is given up (logged). */
#define NOTIFY_GIVE_UP_USEC (24ULL * 3600 * USEC_PER_SEC)

/* The event j's current state stands for, or NOTIFY_NONE.  The state
 * "awaiting-approval" is compared by name (the approval gate adds it). */
enum notify_event notify_event_of(const struct job *j);

/* Adds to j the follow-ups of the event of its current state under c:
 * one per channel (exec:, webhook:) of the notify: that applies to j's
 * promotion when it lists the event; on succeeded, one chained job per
 * promotion with after: j's promotion, its id chosen now (a name free in
 * jobs_dir).  An event already recorded is not added again.  Returns the
 * number added. */
size_t notify_plan(const struct config *c, const char *jobs_dir, struct job *j, uint64_t now_usec);

/* "JOB/EVENT": the same for every attempt, across restarts. */
char *notify_delivery_id(const struct job *j, const struct followup *f);

/* The promotions that run after `promotion`, directly or further down a
 * chain, in chain order, as a NULL-terminated list (NULL: none). */
char **notify_downstream(const struct config *c, const char *promotion);
void notify_strv_free(char **v);

/* The JSON summary of j for notification f: what exec's stdin and the
 * webhook body carry.  NULL only on a bug (text that is not UTF-8). */
char *notify_summary(const struct config *c, const struct job *j, const struct followup *f);

#endif
