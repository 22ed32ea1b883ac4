/* cron.c — cron lines and next-run times (see cron.h).
 *
 * Depends on libc only (util.h is included for its macros and inline
 * helpers, nothing from util.c is called), so the config loader and the
 * unit test can link this file alone.
 */
#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"

struct cron {
        uint64_t minutes;       /* bit m: minute m, 0-59 */
        uint32_t hours;         /* bit h: hour h, 0-23 */
        uint32_t mdays;         /* bit d: day of month d, 1-31 */
        uint16_t months;        /* bit m: month m, 1-12 */
        uint8_t wdays;          /* bit d: day of week d, 0-6 (0 = Sunday; 7 is folded into 0) */
        bool mday_star;         /* day-of-month field started with '*' */
        bool wday_star;         /* day-of-week field started with '*' */
};

#define ALL_HOURS ((UINT32_C(1) << 24) - 1)

/* ---- parsing ------------------------------------------------------------ */

static const char *const month_names[] = {
        "jan", "feb", "mar", "apr", "may", "jun",
        "jul", "aug", "sep", "oct", "nov", "dec",
};
static const char *const wday_names[] = {
        "sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

struct field_def {
        const char *name;
        unsigned min, max;
        const char *const *names;       /* NULL: numbers only */
        size_t n_names;
        unsigned names_base;            /* value of names[0] */
};

enum { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, N_FIELDS };

static const struct field_def fields[N_FIELDS] = {
        [F_MINUTE] = { "minute",       0, 59, NULL,        0,                      0 },
        [F_HOUR]   = { "hour",         0, 23, NULL,        0,                      0 },
        [F_MDAY]   = { "day-of-month", 1, 31, NULL,        0,                      0 },
        [F_MONTH]  = { "month",        1, 12, month_names, ELEMENTSOF(month_names), 1 },
        [F_WDAY]   = { "day-of-week",  0,  7, wday_names,  ELEMENTSOF(wday_names),  0 },
};

static int fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *fmt, ...) {
        if (ret_error) {
                va_list ap;
                char *s;

                va_start(ap, fmt);
                /* Allocation failure aborts, as xmalloc does everywhere else. */
                if (vasprintf(&s, fmt, ap) < 0)
                        abort();
                va_end(ap);
                *ret_error = s;
        }
        return -EINVAL;
}

static bool is_space(char ch) {
        return isspace((unsigned char) ch);
}

/* One value (number or name) at *p, which ends at `end`.  `high` is set
 * for the upper end of a range, where "sun" means 7 so that "mon-sun"
 * works. */
static int parse_value(const struct field_def *f, const char **p, const char *end,
                       bool high, unsigned *ret, char **ret_error) {
        const char *s = *p, *e = s;

        if (s < end && isdigit((unsigned char) *s)) {
                unsigned long v = 0;

                while (e < end && isdigit((unsigned char) *e)) {
                        if (v <= 100000)        /* saturate; reported as out of range below */
                                v = v * 10 + (unsigned) (*e - '0');
                        e++;
                }
                if (v < f->min || v > f->max)
                        return fail(ret_error, "%s: %.*s is out of range %u-%u",
                                    f->name, (int) (e - s), s, f->min, f->max);
                *ret = (unsigned) v;
                *p = e;
                return 0;
        }

        if (s < end && isalpha((unsigned char) *s)) {
                while (e < end && isalpha((unsigned char) *e))
                        e++;
                if (!f->names)
                        return fail(ret_error, "%s: '%.*s' is not a number",
                                    f->name, (int) (e - s), s);
                for (size_t i = 0; i < f->n_names; i++)
                        if ((size_t) (e - s) == strlen(f->names[i]) &&
                            strncasecmp(s, f->names[i], (size_t) (e - s)) == 0) {
                                unsigned v = (unsigned) i + f->names_base;
                                if (high && f == &fields[F_WDAY] && v == 0)
                                        v = 7;
                                *ret = v;
                                *p = e;
                                return 0;
                        }
                return fail(ret_error, "%s: unknown name '%.*s'", f->name, (int) (e - s), s);
        }

        if (s >= end)
                return fail(ret_error, "%s: missing value", f->name);
        return fail(ret_error, "%s: unexpected '%c'", f->name, *s);
}

/* One comma-separated item: "*", "N", "A-B", each optionally "/STEP". */
static int parse_item(const struct field_def *f, const char *s, const char *end,
                      uint64_t *mask, char **ret_error) {
        const char *p = s;
        unsigned lo, hi, step = 1;
        bool range;
        int r;

        if (p == end)
                return fail(ret_error, "%s: empty item in list", f->name);

        if (*p == '*') {
                lo = f->min;
                hi = f->max;
                range = true;
                p++;
        } else {
                r = parse_value(f, &p, end, false, &lo, ret_error);
                if (r < 0)
                        return r;
                hi = lo;
                range = false;
                if (p < end && *p == '-') {
                        p++;
                        r = parse_value(f, &p, end, true, &hi, ret_error);
                        if (r < 0)
                                return r;
                        if (hi < lo)
                                return fail(ret_error, "%s: range %.*s is backwards",
                                            f->name, (int) (p - s), s);
                        range = true;
                }
        }

        if (p < end && *p == '/') {
                const char *n = ++p;
                unsigned long v = 0;

                while (p < end && isdigit((unsigned char) *p)) {
                        if (v <= 100000)
                                v = v * 10 + (unsigned) (*p - '0');
                        p++;
                }
                if (p == n)
                        return fail(ret_error, "%s: '/' must be followed by a number", f->name);
                if (v == 0)
                        return fail(ret_error, "%s: step 0", f->name);
                if (v > f->max - f->min)
                        return fail(ret_error, "%s: step %.*s is out of range 1-%u",
                                    f->name, (int) (p - n), n, f->max - f->min);
                /* "5/15" means 5-59/15 in some crons and just 5 in others:
                 * refuse rather than guess. */
                if (!range)
                        return fail(ret_error, "%s: a step needs a range or '*' (e.g. '%u-%u/%lu')",
                                    f->name, lo, f->max, v);
                step = (unsigned) v;
        }

        if (p < end)
                return fail(ret_error, "%s: unexpected '%c' in '%.*s'",
                            f->name, *p, (int) (end - s), s);

        for (unsigned v = lo; v <= hi; v += step)
                *mask |= UINT64_C(1) << v;
        return 0;
}

static int parse_field(const struct field_def *f, const char *s, const char *end,
                       uint64_t *ret_mask, bool *ret_star, char **ret_error) {
        uint64_t mask = 0;

        // As in Vixie cron and cronie, a field counts as unrestricted for the
        // day-of-month/day-of-week OR rule when it starts with '*': "*" and
        // "*/2" both do, "1-31" does not.
        *ret_star = s < end && *s == '*';

        for (const char *p = s;;) {
                const char *comma = memchr(p, ',', (size_t) (end - p));
                const char *e = comma ? comma : end;
                int r;

                r = parse_item(f, p, e, &mask, ret_error);
                if (r < 0)
                        return r;
                if (!comma)
                        break;
                p = comma + 1;
        }

        *ret_mask = mask;
        return 0;
}

static const struct {
        const char *name;
        const char *expansion;
} shorthands[] = {
        { "yearly",   "0 0 1 1 *" },
        { "annually", "0 0 1 1 *" },
        { "monthly",  "0 0 1 * *" },
        { "weekly",   "0 0 * * 0" },
        { "daily",    "0 0 * * *" },
        { "midnight", "0 0 * * *" },
        { "hourly",   "0 * * * *" },
};

static int parse_fields(const char *line, struct cron *c, char **ret_error) {
        const char *start[N_FIELDS], *end[N_FIELDS];
        size_t n = 0;
        const char *p = line;

        for (;;) {
                while (is_space(*p))
                        p++;
                if (!*p)
                        break;
                const char *s = p;
                while (*p && !is_space(*p))
                        p++;
                if (n < N_FIELDS) {
                        start[n] = s;
                        end[n] = p;
                }
                n++;
        }
        if (n != N_FIELDS)
                return fail(ret_error, "expected %d fields, found %zu", N_FIELDS, n);

        for (size_t i = 0; i < N_FIELDS; i++) {
                uint64_t mask;
                bool star;
                int r;

                r = parse_field(&fields[i], start[i], end[i], &mask, &star, ret_error);
                if (r < 0)
                        return r;
                switch (i) {
                case F_MINUTE: c->minutes = mask; break;
                case F_HOUR:   c->hours = (uint32_t) mask; break;
                case F_MDAY:   c->mdays = (uint32_t) mask; c->mday_star = star; break;
                case F_MONTH:  c->months = (uint16_t) mask; break;
                case F_WDAY:
                        if (mask & (UINT64_C(1) << 7))
                                mask |= 1;      /* 7 is Sunday too */
                        c->wdays = (uint8_t) (mask & 0x7f);
                        c->wday_star = star;
                        break;
                }
        }
        return 0;
}

int cron_parse(const char *line, struct cron **ret, char **ret_error) {
        struct cron *c;
        const char *p;
        int r;

        if (ret)
                *ret = NULL;
        if (ret_error)
                *ret_error = NULL;
        if (!line || !ret)
                return fail(ret_error, "no schedule given");

        c = calloc(1, sizeof(*c));
        if (!c)
                abort();

        p = line;
        while (is_space(*p))
                p++;

        if (*p == '@') {
                const char *s = p + 1, *e = s, *rest;
                const char *expansion = NULL;

                while (*e && !is_space(*e))
                        e++;
                for (size_t i = 0; i < ELEMENTSOF(shorthands); i++)
                        if ((size_t) (e - s) == strlen(shorthands[i].name) &&
                            strncasecmp(s, shorthands[i].name, (size_t) (e - s)) == 0)
                                expansion = shorthands[i].expansion;
                if (!expansion) {
                        if ((size_t) (e - s) == 6 && strncasecmp(s, "reboot", 6) == 0)
                                r = fail(ret_error, "@reboot is not supported");
                        else
                                r = fail(ret_error, "unknown shorthand '%.*s' (known: @yearly "
                                         "@annually @monthly @weekly @daily @midnight @hourly)",
                                         (int) (e - p), p);
                        goto fail;
                }
                rest = e;
                while (is_space(*rest))
                        rest++;
                if (*rest) {
                        r = fail(ret_error, "%.*s takes no other fields, found '%s'",
                                 (int) (e - p), p, rest);
                        goto fail;
                }
                r = parse_fields(expansion, c, ret_error);
        } else
                r = parse_fields(p, c, ret_error);
        if (r < 0)
                goto fail;

        *ret = c;
        return 0;

fail:
        free(c);
        return r;
}

void cron_free(struct cron *c) {
        free(c);
}

/* ---- time zones --------------------------------------------------------- */

int timezone_valid(const char *tz) {
        char path[sizeof(ZONEINFO_DIR) + 256];
        char magic[4];
        struct stat st;
        ssize_t n;
        int fd;

        if (!tz || !*tz)
                return 0;       /* the system zone */

        if (strlen(tz) > 200 || tz[0] == '/' || strstr(tz, "..") || strstr(tz, "//") ||
            tz[strlen(tz) - 1] == '/')
                return -EINVAL;
        for (const char *p = tz; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("_+-/", *p))
                        return -EINVAL;
        /* The "right/" zones count leap seconds, so their time_t is not POSIX
         * time and every run would be ~27 s off. */
        if (strncmp(tz, "right/", 6) == 0)
                return -EINVAL;

        snprintf(path, sizeof(path), ZONEINFO_DIR "/%s", tz);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return -EINVAL;

        /* Not every regular file there is a zone (e.g. "leapseconds"). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -EINVAL;
        n = read(fd, magic, sizeof(magic));
        close(fd);
        if (n != (ssize_t) sizeof(magic) || memcmp(magic, "TZif", 4) != 0)
                return -EINVAL;
        return 0;
}

// ---- next run -----------------------------------------------------------
//
// Wall-clock times are resolved with localtime_r() probes rather than with
// mktime(): what mktime() does with a skipped or repeated time and
// tm_isdst = -1 is unspecified, and we need exact answers there.
//
// Definitions used below.  wall(t) is the local wall-clock time of instant
// t, written as seconds since 1970-01-01 00:00 local ("naive" seconds), i.e.
// t + utc_offset(t).  For a wall time n, first(n) is the first instant t
// with wall(t) >= n:
//   - an ordinary time: its only instant;
//   - a time that occurs twice (fall back): its first occurrence;
//   - a time that is skipped (spring forward): the transition, which is the
//     first valid instant after it (02:30 -> 03:00 in Europe/Berlin).
// first() never decreases as n grows, so walking the matching wall times in
// order and taking the first with first(n) > after gives the earliest
// first-occurrence run.  Several skipped times all map to the transition
// instant, which is returned once: the next call asks for a time strictly
// after it.
//
// DST policy for the repeated hour on a fall-back day:
//   - If the hour field names hours ("30 2 * * *", "*/15 2 * * *"), each
//     matching wall-clock time runs once, at its first occurrence (as cronie
//     does): a job meant for "02:30" must not run twice that night.
//   - If the hour field matches every hour ("*", "*/1", "0-23"), the job is
//     periodic in real time ("every 15 minutes", "hourly"), so it also runs
//     during the second pass (as systemd timers do); otherwise a "*/15"
//     job would pause for an hour.  second_pass() finds those runs.

#define DAY INT64_C(86400)
#define MAX_DAYS (5 * 366)

static int64_t floor_div(int64_t a, int64_t b) {
        int64_t q = a / b;
        if (a % b != 0 && ((a < 0) != (b < 0)))
                q--;
        return q;
}

/* Proleptic Gregorian date of a day number (days since 1970-01-01);
 * Howard Hinnant's civil_from_days. */
static void civil_from_days(int64_t z, unsigned *ret_month, unsigned *ret_mday) {
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;

        *ret_mday = doy - (153 * mp + 2) / 5 + 1;
        *ret_month = mp < 10 ? mp + 3 : mp - 9;
}

static unsigned weekday_from_days(int64_t z) {
        return (unsigned) ((z % 7 + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
}

static bool day_matches(const struct cron *c, int64_t day) {
        unsigned month, mday;
        bool dom, dow;

        civil_from_days(day, &month, &mday);
        if (!(c->months & (1U << month)))
                return false;
        dom = c->mdays & (UINT32_C(1) << mday);
        dow = c->wdays & (1U << weekday_from_days(day));
        /* The classic rule: if either field is unrestricted only the other
         * one counts (the '*' one always matches); if both are restricted,
         * either may match. */
        if (c->mday_star || c->wday_star)
                return dom && dow;
        return dom || dow;
}

static bool wall_matches(const struct cron *c, int64_t n) {
        int64_t day = floor_div(n, DAY);
        unsigned secs = (unsigned) (n - day * DAY);

        return (c->minutes & (UINT64_C(1) << (secs % 3600 / 60))) &&
               (c->hours & (UINT32_C(1) << (secs / 3600))) &&
               day_matches(c, day);
}

static int utc_offset(time_t t, long *ret) {
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -ERANGE;
        *ret = tm.tm_gmtoff;
        return 0;
}

/* first(n), see above.  Assumes at most one transition within a day of n
 * and offsets under a day, which holds for every real zone. */
static int first_occurrence(int64_t n, time_t *ret) {
        const time_t probes[3] = { n - DAY, n, n + DAY };
        long off[3], o;
        time_t best = 0, lo, hi;
        bool found = false;
        int r;

        for (size_t i = 0; i < 3; i++) {
                r = utc_offset(probes[i], &off[i]);
                if (r < 0)
                        return r;
        }
        /* Every instant of n is n - offset, with the offset in force then. */
        for (size_t i = 0; i < 3; i++) {
                time_t t = n - off[i];

                if ((i > 0 && off[i] == off[0]) || (i > 1 && off[i] == off[1]))
                        continue;
                r = utc_offset(t, &o);
                if (r < 0)
                        return r;
                if (o == off[i] && (!found || t < best)) {
                        best = t;
                        found = true;
                }
        }
        if (found) {
                *ret = best;
                return 0;
        }

        /* Skipped: the first instant whose wall time is past n.  wall(lo) < n
         * and wall(hi) >= n, and wall() is monotonic in between because n
         * is not in any repeated stretch. */
        lo = n - DAY - 1;
        hi = n + DAY;
        while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;

                r = utc_offset(mid, &o);
                if (r < 0)
                        return r;
                if (mid + o >= n)
                        hi = mid;
                else
                        lo = mid;
        }
        *ret = hi;
        return 0;
}

/* Second-pass runs of an every-hour schedule: the first instant > after
 * that lies in the repeated stretch of a fall-back transition within a day
 * of `after` and whose wall time matches.  *found = false if none. */
static int second_pass(const struct cron *c, time_t after, bool *found, time_t *ret) {
        const time_t probes[3] = { after - DAY, after, after + DAY };
        long off[3];
        int r;

        *found = false;
        for (size_t i = 0; i < 3; i++) {
                r = utc_offset(probes[i], &off[i]);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < 2; i++) {
                time_t lo = probes[i], hi = probes[i + 1], transition, t;
                long o_before, o_after;
                int64_t n;

                if (off[i] <= off[i + 1])
                        continue;       /* no fall back in (lo, hi] */

                /* The transition: the first instant with the later offset. */
                while (hi - lo > 1) {
                        time_t mid = lo + (hi - lo) / 2;
                        long o;

                        r = utc_offset(mid, &o);
                        if (r < 0)
                                return r;
                        if (o == off[i + 1])
                                hi = mid;
                        else
                                lo = mid;
                }
                transition = hi;
                r = utc_offset(transition - 1, &o_before);
                if (r < 0)
                        return r;
                r = utc_offset(transition, &o_after);
                if (r < 0)
                        return r;
                if (o_before <= o_after)
                        continue;

                /* The second pass is [transition, transition + (o_before -
                 * o_after)), at offset o_after; walk its whole minutes. */
                t = MAX(transition, after + 1);
                n = floor_div(t + o_after + 59, 60) * 60;
                for (; n - o_after < transition + (o_before - o_after); n += 60)
                        if (wall_matches(c, n)) {
                                t = n - o_after;
                                if (!*found || t < *ret)
                                        *ret = t;
                                *found = true;
                                break;
                        }
        }
        return 0;
}

/* cron_next() in whatever zone TZ currently selects. */
static int next_local(const struct cron *c, time_t after, time_t *ret) {
        time_t best = 0;
        bool found = false;
        int64_t start, day0;
        unsigned h0, m0;
        long off;
        int r;

        /* Far outside any useful range: also keeps the +-DAY probes from
         * overflowing.  (Years 1..9999.) */
        if (after < -INT64_C(62135596800) || after > INT64_C(253402300799))
                return -ERANGE;

        /* Matching wall times before wall(after) cannot have first(n) >
         * after, so start at the next whole minute of wall(after). */
        r = utc_offset(after, &off);
        if (r < 0)
                return r;
        start = floor_div((int64_t) after + off, 60) * 60 + 60;
        day0 = floor_div(start, DAY);
        h0 = (unsigned) ((start - day0 * DAY) / 3600);
        m0 = (unsigned) ((start - day0 * DAY) % 3600 / 60);

        /* Day by day, then the hours and minutes in the masks. */
        for (int64_t day = day0; day <= day0 + MAX_DAYS && !found; day++) {
                if (!day_matches(c, day))
                        continue;
                for (unsigned h = day == day0 ? h0 : 0; h < 24 && !found; h++) {
                        if (!(c->hours & (UINT32_C(1) << h)))
                                continue;
                        for (unsigned m = day == day0 && h == h0 ? m0 : 0; m < 60; m++) {
                                time_t t;

                                if (!(c->minutes & (UINT64_C(1) << m)))
                                        continue;
                                r = first_occurrence(day * DAY + h * 3600 + m * 60, &t);
                                if (r < 0)
                                        return r;
                                if (t > after) {
                                        best = t;
                                        found = true;
                                        break;
                                }
                        }
                }
        }

        if (c->hours == ALL_HOURS) {
                time_t t = 0;
                bool again;

                r = second_pass(c, after, &again, &t);
                if (r < 0)
                        return r;
                if (again && (!found || t < best)) {
                        best = t;
                        found = true;
                }
        }

        if (!found)
                return -ERANGE;
        *ret = best;
        return 0;
}

/* libc has no "local time in zone X", so cron_next() points TZ at the zone,
 * calls tzset(), and restores the previous TZ afterwards.  That changes
 * process-wide state, which is acceptable only because dev2prodd is
 * single-threaded: no other thread can look at local time meanwhile (a
 * threaded caller would need one lock around every use of local time).
 * glibc keeps every distinct "TZ=..." string ever set, which is bounded by
 * the number of zones in the configuration. */
struct tz_saved {
        bool switched;
        char *old;      /* previous TZ, NULL if it was unset */
};

/* cron_zone_hold(): while held, a zone entered stays selected after the
 * call (tz_leave does nothing), so that the next call in the same zone
 * costs no tzset(), which reads the zone file each time TZ changes: a
 * start with 1,000 promotions spent most of its time there (BENCHMARKS.md).
 * The TZ from before the hold comes back at cron_zone_release(). */
static struct {
        bool held;
        bool had_tz;
        char *tz;       /* TZ before the hold */
} hold;

/* TZ set to value (unset for NULL), and glibc told. */
static void set_tz(const char *value) {
        if (value)
                (void) setenv("TZ", value, 1);
        else
                (void) unsetenv("TZ");
        tzset();
}

void cron_zone_hold(void) {
        const char *old = getenv("TZ");

        if (hold.held)
                return;
        hold.held = true;
        hold.had_tz = old != NULL;
        hold.tz = old ? strdup(old) : NULL;
        if (old && !hold.tz)
                abort();
}

void cron_zone_release(void) {
        const char *now = getenv("TZ");

        if (!hold.held)
                return;
        hold.held = false;
        if (hold.had_tz ? !now || !streq(now, hold.tz) : now != NULL)
                set_tz(hold.tz);
        free(hold.tz);
        hold.tz = NULL;
}

static int tz_enter(const char *tz, struct tz_saved *saved) {
        const char *old;
        char *value;

        *saved = (struct tz_saved) { .switched = false };
        if (!tz || !*tz) {
                if (!hold.held || (hold.had_tz ? streq_ptr(getenv("TZ"), hold.tz) : !getenv("TZ")))
                        return 0;       /* keep the current local zone */
                set_tz(hold.tz);        /* held in another zone: back to the local one (kept held) */
                return 0;
        }

        /* ":/path" makes glibc load exactly the file timezone_valid()
         * checked, whatever TZDIR says. */
        if (asprintf(&value, ":" ZONEINFO_DIR "/%s", tz) < 0)
                abort();
        old = getenv("TZ");
        if (old && streq(old, value)) {
                free(value);    /* selected already (held): nothing to do */
                return 0;
        }
        if (old && !hold.held) {
                saved->old = strdup(old);
                if (!saved->old)
                        abort();
        }
        if (setenv("TZ", value, 1) < 0) {
                int r = -errno;

                free(value);
                free(saved->old);
                saved->old = NULL;
                return r;
        }
        free(value);
        tzset();        /* localtime_r() does not re-read TZ by itself */
        saved->switched = !hold.held;
        return 0;
}

static void tz_leave(struct tz_saved *saved) {
        if (!saved->switched)
                return;
        set_tz(saved->old);
        free(saved->old);
        saved->old = NULL;
        saved->switched = false;
}

/* The checks of cron_next() and cron_count(), then tz_enter().  The last
 * zone found valid is remembered: checking it opens its file, and a
 * scheduler pass asks for the same zone over and over. */
static int enter_zone(const struct cron *c, const char *tz, const void *ret, struct tz_saved *saved) {
        static char valid[256];
        int r;

        if (!c || !ret)
                return -EINVAL;
        if (!tz || !*tz || !streq(tz, valid)) {
                r = timezone_valid(tz);
                if (r < 0)
                        return r;
                if (tz && strlen(tz) < sizeof valid)
                        strcpy(valid, tz);
        }
        return tz_enter(tz, saved);
}

int cron_next(const struct cron *c, const char *tz, time_t after, time_t *ret) {
        struct tz_saved saved;
        int r;

        r = enter_zone(c, tz, ret, &saved);
        if (r < 0)
                return r;
        r = next_local(c, after, ret);
        tz_leave(&saved);
        return r;
}

/* The matching minutes of a matching day, from its minute fm to lm
 * (0-1439, fm <= lm): by the bit masks, an hour at a time.  Minute by
 * minute, with the day's date worked out for each, the first and last
 * day of a catch-up cost 100 minutely promotions milliseconds before
 * READY=1 (issue 14). */
static uint64_t count_minutes(const struct cron *c, unsigned fm, unsigned lm) {
        uint64_t n = 0;
        for (unsigned h = fm / 60; h <= lm / 60; h++) {
                unsigned lo = h == fm / 60 ? fm % 60 : 0, hi = h == lm / 60 ? lm % 60 : 59;
                if (c->hours & (UINT32_C(1) << h))
                        n += (uint64_t) __builtin_popcountll((c->minutes >> lo) & ((UINT64_C(2) << (hi - lo)) - 1));
        }
        return n;
}

/* Matching wall-clock minutes in (a, b], naive seconds, b - a under a day
 * or on whole-day bounds: the first and last (partial) days by
 * count_minutes(), the days in between by their masks. */
static uint64_t count_wall(const struct cron *c, int64_t a, int64_t b) {
        int64_t first = floor_div(a, 60) * 60 + 60, day_a, day_b;
        uint64_t n = 0, per_day;

        if (b < first)
                return 0;
        day_a = floor_div(first, DAY);
        day_b = floor_div(b, DAY);
        per_day = (uint64_t) __builtin_popcountll(c->minutes) * (uint64_t) __builtin_popcount(c->hours);
        if (day_a == day_b) {
                if (!day_matches(c, day_a))
                        return 0;
                return count_minutes(c, (unsigned) ((first - day_a * DAY) / 60),
                                     (unsigned) ((b - day_a * DAY) / 60));
        }
        n += count_wall(c, first - 60, (day_a + 1) * DAY - 1);
        for (int64_t day = day_a + 1; day < day_b; day++)
                if (day_matches(c, day))
                        n += per_day;
        return n + count_wall(c, day_b * DAY - 1, b);
}

int cron_count(const struct cron *c, const char *tz, time_t after, time_t until, uint64_t *ret) {
        struct tz_saved saved;
        long off_a, off_b;
        int r;

        if (ret)
                *ret = 0;
        if (until <= after && c && ret)
                return 0;
        r = enter_zone(c, tz, ret, &saved);
        if (r < 0)
                return r;
        r = utc_offset(after, &off_a);
        if (r >= 0)
                r = utc_offset(until, &off_b);
        tz_leave(&saved);
        if (r < 0)
                return r;
        *ret = count_wall(c, (int64_t) after + off_a, (int64_t) until + off_b);
        return 0;
}
