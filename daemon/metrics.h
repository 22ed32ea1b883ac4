/* metrics.h — metrics_file: the daemon's numbers in the Prometheus text
 * format, for node_exporter's textfile collector (man dev2prodd.yaml(5)
 * lists every series).
 *
 * What survives a restart: per promotion the last success, the last
 * failure, the last duration and when the promotion was first seen, kept
 * in {state_directory}/metrics-summary (one short line per promotion) so
 * that an alert "no success for 26 h" does not fire, or fall silent, at
 * every restart, and so that start-up reads one small file instead of the
 * job history (100,000 files).  Counters (jobs ended, bytes moved) start
 * at 0 with each daemon, as Prometheus counters may: rate() and increase()
 * treat the drop as a reset.
 *
 * Nothing here fails a job: a file that cannot be written is logged once
 * per distinct error, and written again at the next change. */
#ifndef DEV2PROD_METRICS_H
#define DEV2PROD_METRICS_H

#include <stdint.h>
#include <systemd/sd-event.h>

struct config;
struct job;
struct metrics;

/* How many jobs run and wait now (asked before each write). */
struct metrics_gauges {
        unsigned running, queued;
        unsigned awaiting_approval;     /* parked at the approval gate: neither running nor queued */
};
typedef void (*metrics_gauges_fn)(void *userdata, struct metrics_gauges *ret);

/* Reads {state_directory}/metrics-summary (missing: an empty start;
 * unreadable: logged, an empty start).  start_usec is the daemon's start
 * (realtime), version its build's.  With an event loop, writes are
 * coalesced to at most one a second by a timer on it; without (NULL),
 * each update writes at once.  gauges may be NULL (both 0). */
struct metrics *metrics_new(sd_event *event, const char *state_directory, const char *version, uint64_t start_usec,
                            metrics_gauges_fn gauges, void *userdata);
/* Writes what is still behind, with nothing running or queued (a
 * stopped daemon runs nothing), then frees; gauges is not called. */
void metrics_free(struct metrics *m);

/* At start and at every reload: c->metrics_file is where to write (NULL:
 * nothing is written), c's promotions are the ones reported.  Promotions
 * no longer configured drop out; those that stay keep their numbers;
 * new ones are first seen now.  The next metrics_update writes. */
void metrics_configure(struct metrics *m, const struct config *c, uint64_t now_usec);

/* After a job transition; ended is a job that has just ended, or NULL.
 * Writes the file when something in it changed (the gauges included, or a
 * write failed before), and the summary when an ending changed what it
 * keeps. */
void metrics_update(struct metrics *m, const struct job *ended);

/* The text format as it would be written (for the tests); free() it. */
char *metrics_render(const struct metrics *m);

#endif
