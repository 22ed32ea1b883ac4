/* settings.h — the settings a promotion inherits from defaults: and may
 * override, described once.
 *
 * SETTINGS(X) is the only list of them.  Each row
 *
 *     X(key, member, type, default, min, max)
 *
 * names the configuration key, the member of struct settings, its type
 * (DURATION in microseconds, UINT, or an enum type such as ON_WARNINGS),
 * the built-in default and the accepted range (min and max are unused for
 * an enum).  From these rows come:
 *
 *  - struct settings and the setting ids below;
 *  - the keys of defaults: and of every promotion, their limits and
 *    defaults, and the defaults inheritance (config.c);
 *  - the "settings" object of job files, in row order: the key, with
 *    "_usec" after it for a duration (store.c);
 *  - the Settings line of `dev2prodctl show` (ctl.c);
 *  - the man page check: tests/integration/test_man.sh reads these rows
 *    and wants each documented, with this default and range, under
 *    "Promotion settings" in dev2prodd.yaml(5), and used in its example.
 *
 * So adding a setting is a row here and its entry in dev2prodd.yaml(5);
 * the code that acts on it reads job->settings.member.  Rows are never
 * reordered or renamed: the order is the order of the job files' keys,
 * and job files outlive versions (store.h, "format").
 *
 * MSEC() and SEC() in the rows are expanded only where the rows are
 * (settings.c). */
#ifndef DEV2PROD_SETTINGS_H
#define DEV2PROD_SETTINGS_H

#include "util.h"

enum on_warnings { ON_WARNINGS_PROCEED, ON_WARNINGS_STOP };
/* none: a clean dry run leads straight to the import; required: the job
 * waits in state awaiting-approval for dev2prodctl approve (job.c). */
enum approval { APPROVAL_NONE, APPROVAL_REQUIRED };

#define SETTINGS(X)                                                                                     \
        /* how often a running export, dry run or import is polled */                                  \
        X(poll_interval,   poll_interval_usec,   DURATION,    SEC(15),             MSEC(100), SEC(3600)) \
        /* how long one step may poll before the job fails (timeout) */                                \
        X(step_timeout,    step_timeout_usec,    DURATION,    SEC(2 * 3600),       SEC(1),    SEC(7 * 86400)) \
        /* tries of one request on a retryable failure, and of a save */                               \
        X(retries,         retries,              UINT,        6,                   1,         100)       \
        /* a dry run that passed with warnings: import, or fail */                                     \
        X(on_warnings,     on_warnings,          ON_WARNINGS, ON_WARNINGS_PROCEED, 0,         0)         \
        /* first backoff; doubled per try (jittered), capped at 5m (retry.c) */                        \
        X(retry_delay,     retry_delay_usec,     DURATION,    SEC(1),              MSEC(100), SEC(300))  \
        /* TCP and TLS connect */                                                                      \
        X(connect_timeout, connect_timeout_usec, DURATION,    SEC(30),             MSEC(100), SEC(600))  \
        /* a transfer below 1 byte/s this long fails (curl's low speed time) */                        \
        X(stall_timeout,   low_speed_time_usec,  DURATION,    SEC(60),             SEC(1),    SEC(3600)) \
        /* a whole small request (not a download or upload) */                                         \
        X(request_timeout, request_timeout_usec, DURATION,    SEC(300),            SEC(1),    SEC(3600)) \
        /* after a clean dry run: import at once, or wait for an operator */                            \
        X(approval,        approval,             APPROVAL,    APPROVAL_NONE,       0,         0)         \
        /* how long a job waits for approval before it ends expired */                                 \
        X(approval_timeout, approval_timeout_usec, DURATION,  SEC(12 * 3600),      SEC(1),    SEC(30 * 86400))

/* What each type is in C.  A new type also needs its SETTING_T_ below and
 * its job-file key suffix and words in settings.c. */
#define SETTING_CTYPE_DURATION    uint64_t
#define SETTING_CTYPE_UINT        unsigned
#define SETTING_CTYPE_ON_WARNINGS enum on_warnings
#define SETTING_CTYPE_APPROVAL    enum approval

enum setting_type {
        SETTING_T_DURATION,
        SETTING_T_UINT,
        SETTING_T_ON_WARNINGS,
        SETTING_T_APPROVAL,
};

struct settings {
#define SETTING_MEMBER(key, member, type, ...) SETTING_CTYPE_##type member;
        SETTINGS(SETTING_MEMBER)
#undef SETTING_MEMBER
};

/* SETTING_poll_interval, ...: a setting's index in settings_desc[] (and
 * its bit in a mask of settings). */
enum setting_id {
#define SETTING_ID(key, ...) SETTING_##key,
        SETTINGS(SETTING_ID)
#undef SETTING_ID
        _SETTINGS_N,
};

struct setting_desc {
        const char *key;                /* in the configuration: "poll_interval" */
        const char *job_key;            /* in job files: "poll_interval_usec" */
        enum setting_type type;
        uint64_t min, max;              /* DURATION (µs) and UINT: the accepted range */
        const char *const *words;       /* enum types: the word of each value; else NULL */
};

extern const struct setting_desc settings_desc[_SETTINGS_N];
/* The built-in defaults, below defaults: and a promotion's own values. */
extern const struct settings settings_builtin;

/* A setting's value as a number (µs for a duration, the value of an enum),
 * so that one loop over settings_desc[] handles every setting. */
uint64_t setting_get(const struct settings *s, enum setting_id id);
void setting_set(struct settings *s, enum setting_id id, uint64_t v);
/* The value an enum setting's word stands for; -EINVAL for another word. */
int setting_from_word(enum setting_id id, const char *word);
/* The word of value v of an enum setting, "unknown" for another value. */
const char *setting_word(enum setting_id id, uint64_t v);

const char *on_warnings_to_string(enum on_warnings w);

#endif
