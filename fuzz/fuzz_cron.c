/* fuzz_cron — cron_parse() on any line; when it parses, cron_next() for a
 * few fixed times (ordinary days, both DST transitions of 2026 in
 * Europe/Berlin, a leap day, the ends of the supported range) in UTC and
 * Europe/Berlin.  It must not crash, leak or loop (libFuzzer's -timeout
 * catches a loop), and every answer must be strictly after `after`; a
 * found time t must be found again from t - 1. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); abort(); } } while (0)

static const time_t times[] = {
        1798763400,     /* 2026-12-01 00:30:00Z */
        1774744200,     /* 2026-03-29 00:30:00Z: spring forward in Berlin at 01:00Z */
        1792805400,     /* 2026-10-25 00:30:00Z: fall back in Berlin at 01:00Z */
        1709164800,     /* 2024-02-29 00:00:00Z */
        0,
        -1,
        253402300799,   /* 9999-12-31 23:59:59Z, the last accepted */
        253402300800,   /* refused: -ERANGE */
};
static const char *const zones[] = { "UTC", "Europe/Berlin" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *line;
        struct cron *c = NULL;
        char *error = NULL;
        int r;

        if (size > 4096)
                return 0;
        line = malloc(size + 1);
        if (!line)
                return 0;
        memcpy(line, data, size);
        line[size] = 0;

        r = cron_parse(line, &c, &error);
        if (r < 0) {
                CHECK(r == -EINVAL && !c && error);
                free(error);
                free(line);
                return 0;
        }
        CHECK(r == 0 && c && !error);

        for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++)
                for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
                        time_t t = 0, again = 0;
                        r = cron_next(c, zones[z], times[i], &t);
                        CHECK(r == 0 || r == -ERANGE);
                        if (r < 0)
                                continue;
                        CHECK(t > times[i]);
                        /* nothing matches in (after, t), so t - 1 leads to t
                         * (unless t - 1 is past the range cron_next takes) */
                        if (t - 1 > 253402300799)
                                continue;
                        CHECK(cron_next(c, zones[z], t - 1, &again) == 0);
                        if (again != t) {
                                fprintf(stderr, "'%s' in %s: after %lld -> %lld, but after %lld -> %lld\n",
                                        line, zones[z], (long long) times[i], (long long) t,
                                        (long long) t - 1, (long long) again);
                                abort();
                        }
                }
        cron_free(c);
        free(line);
        return 0;
}
