/* cron.h — cron lines and next-run times.
 *
 * Five fields (minute hour day-of-month month day-of-week) with '*', lists,
 * ranges, steps, month and day names (jan..dec, sun..sat, case-insensitive),
 * 7 as Sunday, and the shorthands @yearly @annually @monthly @weekly @daily
 * @midnight @hourly.  When both day-of-month and day-of-week are restricted
 * a day matches if either does (the classic cron OR rule).
 *
 * Times are evaluated in an IANA time zone.  DST rules (as in cronie and
 * systemd calendar events): a wall-clock time that does not exist on a
 * spring-forward day runs once, at the first valid instant after it; a time
 * that occurs twice on a fall-back day runs once, at its first occurrence.
 */
#ifndef DEV2PROD_CRON_H
#define DEV2PROD_CRON_H

#include <stdint.h>
#include <time.h>

struct cron;

/* Returns 0 and *ret, or -EINVAL with *ret_error (malloc'd, says which field
 * and why, e.g. "hour: 24 is out of range 0-23"). */
int cron_parse(const char *line, struct cron **ret, char **ret_error);
void cron_free(struct cron *c);

/* The first due time strictly after `after` (seconds since the epoch), in
 * time zone tz (NULL or "" = the system's local zone).  Returns 0, -EINVAL
 * for an unknown zone, -ERANGE if nothing matches within 5 years (e.g.
 * "0 0 30 2 *"). */
int cron_next(const struct cron *c, const char *tz, time_t after, time_t *ret);

/* How many due times lie in (after, until]: the due times a catch-up folds
 * into one run.  Counted on the wall clock of tz, day by day with bit masks
 * (no time zone calls but two), so a year costs microseconds; around a DST
 * change the count may differ from cron_next()'s runs by the skipped or
 * repeated hour's.  Returns 0 or -EINVAL (an unknown zone). */
int cron_count(const struct cron *c, const char *tz, time_t after, time_t until, uint64_t *ret);

/* Between these, cron_next() and cron_count() leave the last zone they
 * used selected (TZ), so that many calls in one zone do not read its file
 * each time; release restores TZ.  Local time (localtime_r) must not be
 * used in between: it would be the zone of the last call. */
void cron_zone_hold(void);
void cron_zone_release(void);

/* Is tz a zone this machine knows (a file under /usr/share/zoneinfo)? */
int timezone_valid(const char *tz);

#endif
