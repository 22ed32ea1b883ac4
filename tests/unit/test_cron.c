/* test_cron.c — cron parsing and next-run times, DST included.
 *
 * Expected instants are written as UTC strings and were worked out by hand
 * (the comments show the arithmetic).  2026 calendar facts used below:
 * 2026-03-01 and 2026-11-01 are Sundays, 2026-04-01 is a Wednesday.
 *   Europe/Berlin:    CET = UTC+1, CEST = UTC+2.  Spring forward Sun
 *                     2026-03-29 01:00Z (02:00 CET -> 03:00 CEST); fall back
 *                     Sun 2026-10-25 01:00Z (03:00 CEST -> 02:00 CET), so
 *                     02:00-02:59 happens twice.
 *   America/New_York: EST = UTC-5, EDT = UTC-4.  Spring forward Sun
 *                     2026-03-08 07:00Z (02:00 EST -> 03:00 EDT); fall back
 *                     Sun 2026-11-01 06:00Z (02:00 EDT -> 01:00 EST), so
 *                     01:00-01:59 happens twice.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_run.h"
#include "cron.h"

/* ---- helpers ------------------------------------------------------------ */

/* "2026-03-29T01:00:00Z" -> time_t */
static time_t utc(const char *s) {
        struct tm tm = { 0 };
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

        ck_assert_msg(end && !*end, "bad test timestamp '%s'", s);
        return timegm(&tm);
}

/* time_t -> "2026-03-29T01:00:00Z" (in a rotating static buffer so that two
 * calls can appear in one assertion). */
static const char *fmt(time_t t) {
        static char bufs[4][32];
        static unsigned i;
        char *b = bufs[i++ % 4];
        struct tm tm;

        ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
        strftime(b, sizeof(bufs[0]), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return b;
}

static struct cron *parse_ok(const char *line) {
        struct cron *c = NULL;
        char *error = NULL;
        int r;

        r = cron_parse(line, &c, &error);
        ck_assert_msg(r == 0, "'%s' should parse, got %d: %s", line, r, error ? error : "(null)");
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_null(error);
        return c;
}

/* Checks the chain of next runs: after `after`, then after each result. */
static void check_chain(const char *line, const char *tz, const char *after,
                        const char *const *expect, size_t n) {
        struct cron *c = parse_ok(line);
        time_t t = utc(after);

        for (size_t i = 0; i < n; i++) {
                time_t prev = t;
                int r = cron_next(c, tz, prev, &t);

                ck_assert_msg(r == 0, "'%s' in %s after %s: error %d", line, tz ? tz : "(local)",
                              fmt(prev), r);
                ck_assert_msg(strcmp(fmt(t), expect[i]) == 0,
                              "'%s' in %s after %s: got %s, expected %s",
                              line, tz ? tz : "(local)", fmt(prev), fmt(t), expect[i]);
        }
        cron_free(c);
}
#define CHAIN(line, tz, after, ...) do {                                         \
                const char *const _e[] = { __VA_ARGS__ };                        \
                check_chain(line, tz, after, _e, sizeof(_e) / sizeof(_e[0]));    \
        } while (0)

static void check_parse_error(const char *line, const char *field, const char *message) {
        struct cron *c = (struct cron *) 1;
        char *error = NULL;
        int r;

        r = cron_parse(line, &c, &error);
        ck_assert_msg(r == -EINVAL, "'%s' should be refused, got %d", line, r);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(error);
        if (field)
                ck_assert_msg(strncmp(error, field, strlen(field)) == 0 && error[strlen(field)] == ':',
                              "'%s': message '%s' does not start with field '%s:'", line, error, field);
        ck_assert_msg(strstr(error, message), "'%s': message '%s' lacks '%s'", line, error, message);
        free(error);
}

/* ---- parsing ------------------------------------------------------------ */

/* A zone hold (cron.h) gives the same answers as separate calls, in any
 * mix of zones, and puts TZ back as it was at release. */
START_TEST(test_zone_hold) {
        static const char *const zones[] = { "Europe/Berlin", "UTC", "", "America/New_York", "Europe/Berlin", NULL };
        const time_t t0 = 1795861800;
        time_t plain[6], held[6];
        struct cron *c = NULL;
        char *err = NULL;

        ck_assert_int_eq(setenv("TZ", ":/usr/share/zoneinfo/Asia/Tokyo", 1), 0);
        tzset();
        ck_assert_int_eq(cron_parse("30 2 * * *", &c, &err), 0);
        for (size_t i = 0; i < 6; i++)
                ck_assert_int_eq(cron_next(c, zones[i], t0, &plain[i]), 0);
        cron_zone_hold();
        for (size_t i = 0; i < 6; i++)
                ck_assert_int_eq(cron_next(c, zones[i], t0, &held[i]), 0);
        cron_zone_release();
        for (size_t i = 0; i < 6; i++)
                ck_assert_int_eq(held[i], plain[i]);
        ck_assert_str_eq(getenv("TZ"), ":/usr/share/zoneinfo/Asia/Tokyo");
        ck_assert_int_ne(plain[0], plain[1]);
        unsetenv("TZ");
        tzset();
        cron_free(c);
}
END_TEST

START_TEST(test_parse_errors) {
        /* Every message names the field (where there is one) and the problem. */
        check_parse_error("60 * * * *", "minute", "minute: 60 is out of range 0-59");
        check_parse_error("0 24 * * *", "hour", "hour: 24 is out of range 0-23");
        check_parse_error("0 0 0 * *", "day-of-month", "day-of-month: 0 is out of range 1-31");
        check_parse_error("0 0 32 * *", "day-of-month", "day-of-month: 32 is out of range 1-31");
        check_parse_error("0 0 * 0 *", "month", "month: 0 is out of range 1-12");
        check_parse_error("0 0 * 13 *", "month", "month: 13 is out of range 1-12");
        check_parse_error("0 0 * * 8", "day-of-week", "day-of-week: 8 is out of range 0-7");
        check_parse_error("99999999999999999999 * * * *", "minute",
                          "99999999999999999999 is out of range 0-59");
        check_parse_error("0 0 * * mun", "day-of-week", "day-of-week: unknown name 'mun'");
        check_parse_error("0 0 * foo *", "month", "month: unknown name 'foo'");
        check_parse_error("0 0 * * monday", "day-of-week", "unknown name 'monday'");
        check_parse_error("0 jan * * *", "hour", "hour: 'jan' is not a number");
        check_parse_error("*/0 * * * *", "minute", "minute: step 0");
        check_parse_error("0 0 1-31/0 * *", "day-of-month", "day-of-month: step 0");
        check_parse_error("*/60 * * * *", "minute", "minute: step 60 is out of range 1-59");
        check_parse_error("5/15 * * * *", "minute", "a step needs a range or '*'");
        check_parse_error("*/ * * * *", "minute", "'/' must be followed by a number");
        check_parse_error("30-10 * * * *", "minute", "minute: range 30-10 is backwards");
        check_parse_error("0 0 * * fri-mon", "day-of-week", "range fri-mon is backwards");
        check_parse_error("1,,2 * * * *", "minute", "minute: empty item in list");
        check_parse_error("0 1, * * *", "hour", "hour: empty item in list");
        check_parse_error("1x * * * *", "minute", "minute: unexpected 'x' in '1x'");
        check_parse_error("0 0 * * 1-", "day-of-week", "day-of-week: missing value");
        check_parse_error("0 0 ? * *", "day-of-month", "unexpected '?'");
        check_parse_error("* * * *", NULL, "expected 5 fields, found 4");
        check_parse_error("0 0 1 1 * /bin/true", NULL, "expected 5 fields, found 6");
        check_parse_error("", NULL, "expected 5 fields, found 0");
        check_parse_error(" \t ", NULL, "expected 5 fields, found 0");
        check_parse_error("@reboot", NULL, "@reboot is not supported");
        check_parse_error("@fortnightly", NULL, "unknown shorthand '@fortnightly'");
        check_parse_error("@daily 5", NULL, "@daily takes no other fields");
}
END_TEST

START_TEST(test_parse_null_and_free) {
        struct cron *c = NULL;
        char *error = NULL;

        ck_assert_int_eq(cron_parse(NULL, &c, &error), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(error);
        free(error);

        /* ret_error may be NULL. */
        ck_assert_int_eq(cron_parse("0 24 * * *", &c, NULL), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(cron_parse("0 23 * * *", &c, NULL), 0);
        ck_assert_ptr_nonnull(c);
        cron_free(c);

        cron_free(NULL);        /* no-op */
}
END_TEST

START_TEST(test_parse_whitespace) {
        /* Any amount of spaces and tabs, leading and trailing too.  Runs at
         * 06:07 on the 1st of each month: 2026-04-01T06:07Z. */
        CHAIN("  7 \t 6   1 *\t* \n", "UTC", "2026-03-15T00:00:00Z", "2026-04-01T06:07:00Z");
        CHAIN("\t@daily  ", "UTC", "2026-03-15T10:00:00Z", "2026-03-16T00:00:00Z");
}
END_TEST

/* ---- names, ranges, steps ------------------------------------------------ */

START_TEST(test_sunday_is_0_and_7) {
        /* From Wed 2026-03-04, the next Sunday noon is 2026-03-08 (then 03-15). */
        static const char *const lines[] = {
                "0 12 * * 0", "0 12 * * 7", "0 12 * * sun", "0 12 * * SUN", "0 12 * * Sun",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
                CHAIN(lines[i], "UTC", "2026-03-04T00:00:00Z",
                      "2026-03-08T12:00:00Z", "2026-03-15T12:00:00Z");
}
END_TEST

START_TEST(test_names) {
        /* mon-fri from Fri 2026-03-06 12:00: Mon 03-09, Tue 03-10. */
        CHAIN("0 0 * * mon-fri", "UTC", "2026-03-06T12:00:00Z",
              "2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z");
        /* mon-sun (sun as the end of a range means 7): every day. */
        CHAIN("0 0 * * MON-sun", "UTC", "2026-03-06T12:00:00Z",
              "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z");
        /* 5-7: Fri, Sat, Sun.  From Sun 2026-03-08 12:00: Fri 03-13, Sat 03-14,
         * Sun 03-15, Fri 03-20. */
        CHAIN("0 0 * * 5-7", "UTC", "2026-03-08T12:00:00Z",
              "2026-03-13T00:00:00Z", "2026-03-14T00:00:00Z", "2026-03-15T00:00:00Z",
              "2026-03-20T00:00:00Z");
        /* Month names, case-insensitive, in a list and a range. */
        CHAIN("0 0 1 JAN,Jul *", "UTC", "2026-03-01T12:00:00Z",
              "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z");
        CHAIN("0 0 1 oct-Dec *", "UTC", "2026-03-01T12:00:00Z",
              "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
              "2027-10-01T00:00:00Z");
}
END_TEST

START_TEST(test_steps_and_ranges) {
        CHAIN("*/15 * * * *", "UTC", "2026-05-05T10:07:30Z",
              "2026-05-05T10:15:00Z", "2026-05-05T10:30:00Z", "2026-05-05T10:45:00Z",
              "2026-05-05T11:00:00Z");
        /* 10-50/20 = 10, 30, 50. */
        CHAIN("10-50/20 * * * *", "UTC", "2026-05-05T10:00:00Z",
              "2026-05-05T10:10:00Z", "2026-05-05T10:30:00Z", "2026-05-05T10:50:00Z",
              "2026-05-05T11:10:00Z");
        /* 9-17/4 = 9, 13, 17. */
        CHAIN("0 9-17/4 * * *", "UTC", "2026-05-05T09:00:00Z",
              "2026-05-05T13:00:00Z", "2026-05-05T17:00:00Z", "2026-05-06T09:00:00Z");
        /* List of items mixing single values, ranges and steps: 5, 20-22, 40-59/10. */
        CHAIN("5,20-22,40-59/10 8 * * *", "UTC", "2026-05-05T00:00:00Z",
              "2026-05-05T08:05:00Z", "2026-05-05T08:20:00Z", "2026-05-05T08:21:00Z",
              "2026-05-05T08:22:00Z", "2026-05-05T08:40:00Z", "2026-05-05T08:50:00Z",
              "2026-05-06T08:05:00Z");
        /* Every 2 days of month: 1, 3, ..., 31; from 2026-04-29: 04-29, (no
         * 31 in April) 05-01. */
        CHAIN("0 0 */2 * *", "UTC", "2026-04-28T00:00:00Z",
              "2026-04-29T00:00:00Z", "2026-05-01T00:00:00Z");
}
END_TEST

START_TEST(test_strictly_after) {
        /* Exactly at a run: the next one.  One second before: that one.
         * Mid-minute: the next whole minute. */
        CHAIN("0 12 * * *", "UTC", "2026-06-01T12:00:00Z", "2026-06-02T12:00:00Z");
        CHAIN("0 12 * * *", "UTC", "2026-06-01T11:59:59Z", "2026-06-01T12:00:00Z");
        CHAIN("* * * * *", "UTC", "2026-06-01T11:59:30Z", "2026-06-01T12:00:00Z");
}
END_TEST

START_TEST(test_shorthands) {
        /* From Wed 2026-03-04 10:30Z. */
        CHAIN("@hourly", "UTC", "2026-03-04T10:30:00Z", "2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z");
        CHAIN("@daily", "UTC", "2026-03-04T10:30:00Z", "2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z");
        CHAIN("@midnight", "UTC", "2026-03-04T10:30:00Z", "2026-03-05T00:00:00Z");
        /* @weekly = Sunday 00:00: Sun 03-08, Sun 03-15. */
        CHAIN("@weekly", "UTC", "2026-03-04T10:30:00Z", "2026-03-08T00:00:00Z", "2026-03-15T00:00:00Z");
        CHAIN("@monthly", "UTC", "2026-03-04T10:30:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z");
        CHAIN("@yearly", "UTC", "2026-03-04T10:30:00Z", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
        CHAIN("@annually", "UTC", "2026-03-04T10:30:00Z", "2027-01-01T00:00:00Z");
        CHAIN("@DAILY", "UTC", "2026-03-04T10:30:00Z", "2026-03-05T00:00:00Z");
        /* In a zone: @daily in Berlin on 2026-03-04 is 00:00 CET = 23:00Z the day before. */
        CHAIN("@daily", "Europe/Berlin", "2026-03-04T10:30:00Z", "2026-03-04T23:00:00Z");
}
END_TEST

/* ---- day-of-month / day-of-week ---------------------------------------- */

START_TEST(test_dom_dow_or_rule) {
        /* Both restricted: the 13th OR any Friday.  April 2026: Fridays 3, 10,
         * 17, 24, May 1, 8; the 13th is a Monday (April) and Wednesday (May). */
        CHAIN("0 0 13 * fri", "UTC", "2026-04-01T00:00:00Z",
              "2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z",
              "2026-04-17T00:00:00Z", "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z",
              "2026-05-08T00:00:00Z", "2026-05-13T00:00:00Z", "2026-05-15T00:00:00Z");
        /* Only day-of-week restricted: Mondays only (6, 13, 20 April). */
        CHAIN("0 0 * * mon", "UTC", "2026-04-01T00:00:00Z",
              "2026-04-06T00:00:00Z", "2026-04-13T00:00:00Z", "2026-04-20T00:00:00Z");
        /* Only day-of-month restricted: the 13th only. */
        CHAIN("0 0 13 * *", "UTC", "2026-04-01T00:00:00Z",
              "2026-04-13T00:00:00Z", "2026-05-13T00:00:00Z");
        // As in cronie, a field starting with '*' counts as unrestricted, so
        // "*/2" and "mon" must BOTH match: odd days that are Mondays.
        // April 2026 Mondays 6, 13, 20, 27 -> 13 and 27; May Mondays 4, 11,
        // 18, 25 -> 11, 25.
        CHAIN("0 0 */2 * mon", "UTC", "2026-04-01T00:00:00Z",
              "2026-04-13T00:00:00Z", "2026-04-27T00:00:00Z", "2026-05-11T00:00:00Z",
              "2026-05-25T00:00:00Z");
        /* "1-31" is a restriction though: OR rule, every day. */
        CHAIN("0 0 1-31 * mon", "UTC", "2026-04-01T00:00:00Z",
              "2026-04-02T00:00:00Z", "2026-04-03T00:00:00Z");
}
END_TEST

/* ---- calendar edges ------------------------------------------------------ */

START_TEST(test_leap_day) {
        /* 2027 is not a leap year; 2028 and 2032 are. */
        CHAIN("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z",
              "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
        /* The same in Berlin: 00:00 CET = 23:00Z on the 28th. */
        CHAIN("0 0 29 2 *", "Europe/Berlin", "2026-03-01T00:00:00Z", "2028-02-28T23:00:00Z");
}
END_TEST

START_TEST(test_month_end) {
        /* The 31st skips February, April, June, September, November. */
        CHAIN("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
              "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
              "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z",
              "2027-01-31T00:00:00Z");
        /* The 30th skips only February. */
        CHAIN("0 0 30 * *", "UTC", "2026-01-30T00:00:00Z",
              "2026-03-30T00:00:00Z", "2026-04-30T00:00:00Z");
}
END_TEST

START_TEST(test_year_rollover) {
        CHAIN("0 0 1 1 *", "UTC", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z");
        CHAIN("@hourly", "UTC", "2026-12-31T23:30:00Z", "2027-01-01T00:00:00Z");
        CHAIN("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z");
        /* New Year in New York is 05:00Z. */
        CHAIN("0 0 1 1 *", "America/New_York", "2026-12-31T23:59:00Z", "2027-01-01T05:00:00Z");
        /* Before the epoch (negative time_t). */
        CHAIN("0 0 1 1 *", "UTC", "1969-06-01T00:00:00Z", "1970-01-01T00:00:00Z", "1971-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_erange) {
        struct cron *c;
        time_t t = 12345;

        /* February 30th and April 31st never happen. */
        c = parse_ok("0 0 30 2 *");
        ck_assert_int_eq(cron_next(c, "UTC", utc("2026-01-01T00:00:00Z"), &t), -ERANGE);
        ck_assert_int_eq(cron_next(c, "Europe/Berlin", utc("2026-01-01T00:00:00Z"), &t), -ERANGE);
        ck_assert_int_eq(t, 12345);     /* untouched on failure */
        cron_free(c);

        c = parse_ok("0 0 31 4 *");
        ck_assert_int_eq(cron_next(c, "UTC", utc("2026-01-01T00:00:00Z"), &t), -ERANGE);
        cron_free(c);

        /* The limit is about 5 years: 2100 is not a leap year, so after
         * 2096-03-01 the next Feb 29 is 2104 (8 years): -ERANGE; after
         * 2099-03-01 it is just under 5 years away: found. */
        c = parse_ok("0 0 29 2 *");
        ck_assert_int_eq(cron_next(c, "UTC", utc("2096-03-01T00:00:00Z"), &t), -ERANGE);
        ck_assert_int_eq(cron_next(c, "UTC", utc("2099-03-01T00:00:00Z"), &t), 0);
        ck_assert_str_eq(fmt(t), "2104-02-29T00:00:00Z");
        cron_free(c);
}
END_TEST

/* ---- time zones ---------------------------------------------------------- */

START_TEST(test_timezone_valid) {
        ck_assert_int_eq(timezone_valid(NULL), 0);
        ck_assert_int_eq(timezone_valid(""), 0);
        ck_assert_int_eq(timezone_valid("UTC"), 0);
        ck_assert_int_eq(timezone_valid("Europe/Berlin"), 0);
        ck_assert_int_eq(timezone_valid("America/New_York"), 0);
        ck_assert_int_eq(timezone_valid("Etc/GMT+5"), 0);
        ck_assert_int_eq(timezone_valid("America/Argentina/Buenos_Aires"), 0);

        ck_assert_int_eq(timezone_valid("Mars/Olympus_Mons"), -EINVAL);   /* no such file */
        ck_assert_int_eq(timezone_valid("Europe"), -EINVAL);              /* a folder */
        ck_assert_int_eq(timezone_valid("Europe/"), -EINVAL);
        ck_assert_int_eq(timezone_valid("Europe//Berlin"), -EINVAL);
        ck_assert_int_eq(timezone_valid("/usr/share/zoneinfo/UTC"), -EINVAL);
        ck_assert_int_eq(timezone_valid("../zoneinfo/UTC"), -EINVAL);
        ck_assert_int_eq(timezone_valid("Europe/../UTC"), -EINVAL);
        ck_assert_int_eq(timezone_valid("Europe/Ber lin"), -EINVAL);
        ck_assert_int_eq(timezone_valid("Europe/Berlin\n"), -EINVAL);
        ck_assert_int_eq(timezone_valid("zone.tab"), -EINVAL);            /* '.' */
        ck_assert_int_eq(timezone_valid("right/UTC"), -EINVAL);           /* leap-second zones */
        ck_assert_int_eq(timezone_valid("CET-1CEST"), -EINVAL);           /* a POSIX rule, not a file */
        /* A regular file tzdata ships in that folder which is not a zone. */
        if (access("/usr/share/zoneinfo/leapseconds", F_OK) == 0)
                ck_assert_int_eq(timezone_valid("leapseconds"), -EINVAL);
}
END_TEST

START_TEST(test_invalid_tz) {
        struct cron *c = parse_ok("0 0 * * *");
        time_t t = 12345;

        ck_assert_int_eq(cron_next(c, "Mars/Olympus_Mons", 0, &t), -EINVAL);
        ck_assert_int_eq(cron_next(c, "../../etc/passwd", 0, &t), -EINVAL);
        ck_assert_int_eq(cron_next(c, "/usr/share/zoneinfo/UTC", 0, &t), -EINVAL);
        ck_assert_int_eq(t, 12345);
        ck_assert_int_eq(cron_next(NULL, "UTC", 0, &t), -EINVAL);
        ck_assert_int_eq(cron_next(c, "UTC", 0, NULL), -EINVAL);
        cron_free(c);
}
END_TEST

START_TEST(test_utc_and_zones) {
        /* 12:30 wall clock on 2026-06-01: UTC 12:30Z; Berlin (CEST, +2)
         * 10:30Z; New York (EDT, -4) 16:30Z; Tokyo (+9, no DST) 03:30Z. */
        CHAIN("30 12 * * *", "UTC", "2026-06-01T00:00:00Z", "2026-06-01T12:30:00Z");
        CHAIN("30 12 * * *", "Europe/Berlin", "2026-06-01T00:00:00Z", "2026-06-01T10:30:00Z");
        CHAIN("30 12 * * *", "America/New_York", "2026-06-01T00:00:00Z", "2026-06-01T16:30:00Z");
        CHAIN("30 12 * * *", "Asia/Tokyo", "2026-06-01T00:00:00Z", "2026-06-01T03:30:00Z");
        /* Asia/Kolkata is +5:30: 12:30 there is 07:00Z. */
        CHAIN("30 12 * * *", "Asia/Kolkata", "2026-06-01T00:00:00Z", "2026-06-01T07:00:00Z");
        /* The day-of-week is the local one: Monday 00:30 in Tokyo is Sunday
         * 15:30Z.  Sun 2026-06-07 15:30Z = Mon 06-08 00:30 JST. */
        CHAIN("30 0 * * mon", "Asia/Tokyo", "2026-06-01T00:00:00Z", "2026-06-07T15:30:00Z");
}
END_TEST

START_TEST(test_tz_env_restored) {
        struct cron *c = parse_ok("0 9 * * *");
        time_t t;

        /* A set TZ comes back unchanged, and NULL/"" use it. */
        ck_assert_int_eq(setenv("TZ", "Asia/Tokyo", 1), 0);
        tzset();
        ck_assert_int_eq(cron_next(c, "America/New_York", utc("2026-06-01T00:00:00Z"), &t), 0);
        ck_assert_str_eq(fmt(t), "2026-06-01T13:00:00Z");       /* 09:00 EDT */
        ck_assert_str_eq(getenv("TZ"), "Asia/Tokyo");
        ck_assert_int_eq(cron_next(c, NULL, utc("2026-06-01T00:00:00Z"), &t), 0);
        ck_assert_str_eq(fmt(t), "2026-06-02T00:00:00Z");       /* 09:00 JST */
        ck_assert_int_eq(cron_next(c, "", utc("2026-06-01T00:00:00Z"), &t), 0);
        ck_assert_str_eq(fmt(t), "2026-06-02T00:00:00Z");
        {
                /* and local time in the rest of the program is Tokyo again */
                time_t x = utc("2026-06-01T00:00:00Z");
                struct tm tm;
                ck_assert_ptr_nonnull(localtime_r(&x, &tm));
                ck_assert_int_eq(tm.tm_hour, 9);
        }

        /* An unset TZ stays unset. */
        ck_assert_int_eq(unsetenv("TZ"), 0);
        tzset();
        ck_assert_int_eq(cron_next(c, "Europe/Berlin", utc("2026-06-01T00:00:00Z"), &t), 0);
        ck_assert_str_eq(fmt(t), "2026-06-01T07:00:00Z");       /* 09:00 CEST */
        ck_assert_ptr_null(getenv("TZ"));
        cron_free(c);
}
END_TEST

/* ---- DST ----------------------------------------------------------------- */

START_TEST(test_dst_spring_forward_berlin) {
        /* 02:30 does not exist on 2026-03-29: run once at 03:00 CEST = 01:00Z;
         * the day after 02:30 CEST = 00:30Z. */
        CHAIN("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
              "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
        /* The day before, 02:30 CET = 01:30Z, for reference. */
        CHAIN("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-28T01:30:00Z");
        /* Asked from inside the skipped hour's UTC equivalent (00:59:59Z =
         * 01:59:59 CET): still 01:00Z. */
        CHAIN("30 2 * * *", "Europe/Berlin", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z");
        /* 02:00 and 03:00 both map to 01:00Z: once, not twice.  Next is
         * 02:00 CEST on the 30th = 00:00Z. */
        CHAIN("0 2,3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
              "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z");
        /* Every 15 minutes: 01:45 CET = 00:45Z, then 03:00 CEST = 01:00Z
         * (02:00..02:45 collapse into it), then 01:15Z. */
        CHAIN("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:40:00Z",
              "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z");
        CHAIN("*/15 2 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z",
              "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z");
}
END_TEST

START_TEST(test_dst_fall_back_berlin) {
        /* 02:30 happens at 00:30Z (CEST) and 01:30Z (CET): only the first.
         * After it, the next is 02:30 CET on the 26th = 01:30Z. */
        CHAIN("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z",
              "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
        /* Asked during the first pass after 02:30 (00:45Z) or during the
         * second pass before 02:30 (01:10Z = 02:10 CET): the 26th. */
        CHAIN("30 2 * * *", "Europe/Berlin", "2026-10-25T00:45:00Z", "2026-10-26T01:30:00Z");
        CHAIN("30 2 * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-26T01:30:00Z");
        /* 03:00 happens once (CET, 02:00Z). */
        CHAIN("0 3 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T02:00:00Z");
}
END_TEST

START_TEST(test_dst_new_york) {
        /* Spring: 02:30 skipped on 2026-03-08 -> 03:00 EDT = 07:00Z; then
         * 02:30 EDT on the 9th = 06:30Z. */
        CHAIN("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
              "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z");
        /* Fall: 01:30 on 2026-11-01 is 05:30Z (EDT) and 06:30Z (EST): only
         * the first; then 01:30 EST on the 2nd = 06:30Z. */
        CHAIN("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
              "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z");
        /* Hourly on the fall-back day: 00:00 EDT = 04:00Z, 01:00 EDT = 05:00Z,
         * 01:00 EST = 06:00Z (second pass), 02:00 EST = 07:00Z. */
        CHAIN("0 * * * *", "America/New_York", "2026-11-01T03:30:00Z",
              "2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z",
              "2026-11-01T07:00:00Z");
        /* Hourly on the spring day: 01:00 EST = 06:00Z, then 03:00 EDT = 07:00Z. */
        CHAIN("@hourly", "America/New_York", "2026-03-08T05:30:00Z",
              "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z");
}
END_TEST

START_TEST(test_dst_every_15_minutes_fall_back) {
        /* Hour field '*': every real quarter hour, through both passes of
         * 02:00-02:59 (00:00-00:45Z CEST, 01:00-01:45Z CET). */
        CHAIN("*/15 * * * *", "Europe/Berlin", "2026-10-24T23:50:00Z",
              "2026-10-25T00:00:00Z", "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z",
              "2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:15:00Z",
              "2026-10-25T01:30:00Z", "2026-10-25T01:45:00Z", "2026-10-25T02:00:00Z",
              "2026-10-25T02:15:00Z");
        /* Hour named explicitly: 02:00..02:45 run once (first pass), then
         * 02:00 CET on the 26th = 01:00Z. */
        CHAIN("*/15 2 * * *", "Europe/Berlin", "2026-10-24T23:50:00Z",
              "2026-10-25T00:00:00Z", "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z",
              "2026-10-25T00:45:00Z", "2026-10-26T01:00:00Z");
        /* Same rule when the hours are spelled out as 0-23. */
        CHAIN("*/30 0-23 * * *", "Europe/Berlin", "2026-10-25T00:20:00Z",
              "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z",
              "2026-10-25T02:00:00Z");
        /* Interleaving: :00 and :50.  After 00:45Z (02:45 CEST) the next runs
         * are 02:50 CEST = 00:50Z (first pass), 02:00 CET = 01:00Z, 02:50 CET
         * = 01:50Z (second pass), 03:00 CET = 02:00Z. */
        CHAIN("0,50 * * * *", "Europe/Berlin", "2026-10-25T00:45:00Z",
              "2026-10-25T00:50:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:50:00Z",
              "2026-10-25T02:00:00Z");
        /* Asked from inside the second pass (01:20Z = 02:20 CET). */
        CHAIN("*/15 * * * *", "Europe/Berlin", "2026-10-25T01:20:00Z",
              "2026-10-25T01:30:00Z");
        /* The second pass only runs on matching days.  Sundays are excluded
         * here and 2026-10-25 is the Sunday: after Sat 23:50 CEST (21:50Z)
         * nothing until Mon 00:00 CET = Sun 23:00Z. */
        CHAIN("*/15 * * * 1-6", "Europe/Berlin", "2026-10-24T21:50:00Z",
              "2026-10-25T23:00:00Z");
}
END_TEST

/* ---- brute-force cross-check ---------------------------------------------
 *
 * A slow, independent reference walking real time minute by minute around
 * DST transitions, implementing the documented rules directly:
 *   - an instant whose wall time matches runs, unless that wall time already
 *     happened earlier (second pass of a fall back) and the hour field is
 *     not every hour;
 *   - at a spring-forward jump, the first instant after it runs if any
 *     skipped wall minute (or the new wall time) matches.
 */
struct ref_cron {
        const char *line;
        bool (*match)(const struct tm *tm);
        bool every_hour;
};

static bool m_quarter(const struct tm *tm) { return tm->tm_min % 15 == 0; }
static bool m_0230(const struct tm *tm) { return tm->tm_hour == 2 && tm->tm_min == 30; }
static bool m_0130(const struct tm *tm) { return tm->tm_hour == 1 && tm->tm_min == 30; }
static bool m_x7_2(const struct tm *tm) { return tm->tm_min == 7 && (tm->tm_hour == 1 || tm->tm_hour == 2); }
static bool m_0_50(const struct tm *tm) { return tm->tm_min == 0 || tm->tm_min == 50; }
static bool m_sun_h(const struct tm *tm) { return tm->tm_min == 20 && tm->tm_wday == 0; }

static const struct ref_cron ref_crons[] = {
        { "*/15 * * * *", m_quarter, true },
        { "30 2 * * *",   m_0230,    false },
        { "30 1 * * *",   m_0130,    false },
        { "7 1,2 * * *",  m_x7_2,    false },
        { "0,50 * * * *", m_0_50,    true },
        { "20 * * * 0",   m_sun_h,   true },
};

static int64_t naive(const struct tm *tm) {
        struct tm u = *tm;
        return (int64_t) timegm(&u);
}

/* First run > after per the reference, searching up to `limit`. */
static time_t ref_next(const struct ref_cron *rc, time_t after, time_t limit) {
        for (time_t t = (after / 60 + 1) * 60; t <= limit; t += 60) {
                struct tm now, prev, skipped;
                time_t p = t - 60;

                localtime_r(&t, &now);
                localtime_r(&p, &prev);
                if (naive(&now) - naive(&prev) > 60) {
                        /* jump: wall minutes (prev, now] were skipped or are now */
                        for (int64_t w = naive(&prev) + 60; w <= naive(&now); w += 60) {
                                time_t wt = (time_t) w;
                                gmtime_r(&wt, &skipped);
                                if (rc->match(&skipped))
                                        return t;
                        }
                        continue;
                }
                if (!rc->match(&now))
                        continue;
                if (!rc->every_hour) {
                        /* did this wall time already occur in the last day? */
                        bool seen = false;
                        for (time_t q = t - 60; q > t - 86400; q -= 60) {
                                struct tm o;
                                localtime_r(&q, &o);
                                if (naive(&o) == naive(&now)) {
                                        seen = true;
                                        break;
                                }
                        }
                        if (seen)
                                continue;
                }
                return t;
        }
        return 0;
}

START_TEST(test_against_reference) {
        static const struct {
                const char *tz;
                const char *from;       /* a day around a transition */
        } windows[] = {
                { "Europe/Berlin",    "2026-03-28T20:00:00Z" },
                { "Europe/Berlin",    "2026-10-24T20:00:00Z" },
                { "America/New_York", "2026-03-08T02:00:00Z" },
                { "America/New_York", "2026-11-01T01:00:00Z" },
                { "Australia/Lord_Howe", "2026-04-04T12:00:00Z" }, /* 30 min fall back */
                { "Australia/Lord_Howe", "2026-10-03T12:00:00Z" }, /* 30 min spring forward */
        };
        unsigned checked = 0;

        for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++)
                for (size_t i = 0; i < sizeof(ref_crons) / sizeof(ref_crons[0]); i++) {
                        struct cron *c = parse_ok(ref_crons[i].line);
                        time_t from = utc(windows[w].from);

                        /* every 7 minutes over 10 hours, plus odd seconds */
                        for (time_t after = from; after < from + 10 * 3600; after += 7 * 60 + 13) {
                                time_t got, want;

                                ck_assert_int_eq(cron_next(c, windows[w].tz, after, &got), 0);
                                ck_assert_int_eq(setenv("TZ", windows[w].tz, 1), 0);
                                tzset();
                                want = ref_next(&ref_crons[i], after, after + 8 * 86400);
                                ck_assert_int_eq(unsetenv("TZ"), 0);
                                tzset();
                                ck_assert_msg(want != 0, "reference found nothing");
                                ck_assert_msg(got == want, "'%s' in %s after %s: got %s, reference %s",
                                              ref_crons[i].line, windows[w].tz, fmt(after),
                                              fmt(got), fmt(want));
                                checked++;
                        }
                        cron_free(c);
                }
        ck_assert_uint_gt(checked, 1000);
}
END_TEST

/* ---- main ---------------------------------------------------------------- */

static Suite *schedule_suite(void) {
        Suite *s = suite_create("schedule");
        TCase *tc;

        tc = tcase_create("parse");
        tcase_add_test(tc, test_parse_errors);
        tcase_add_test(tc, test_parse_null_and_free);
        tcase_add_test(tc, test_parse_whitespace);
        tcase_add_test(tc, test_sunday_is_0_and_7);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_steps_and_ranges);
        tcase_add_test(tc, test_shorthands);
        suite_add_tcase(s, tc);

        tc = tcase_create("next");
        tcase_add_test(tc, test_strictly_after);
        tcase_add_test(tc, test_dom_dow_or_rule);
        tcase_add_test(tc, test_leap_day);
        tcase_add_test(tc, test_month_end);
        tcase_add_test(tc, test_year_rollover);
        tcase_add_test(tc, test_erange);
        suite_add_tcase(s, tc);

        tc = tcase_create("zones");
        tcase_add_test(tc, test_timezone_valid);
        tcase_add_test(tc, test_invalid_tz);
        tcase_add_test(tc, test_utc_and_zones);
        tcase_add_test(tc, test_tz_env_restored);
        suite_add_tcase(s, tc);

        tc = tcase_create("dst");
        tcase_add_test(tc, test_dst_spring_forward_berlin);
        tcase_add_test(tc, test_dst_fall_back_berlin);
        tcase_add_test(tc, test_dst_new_york);
        tcase_add_test(tc, test_dst_every_15_minutes_fall_back);
        tcase_add_test(tc, test_against_reference);
        tcase_add_test(tc, test_zone_hold);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        return check_run(schedule_suite());
}
