/* config.h — the YAML configuration (see man/dev2prodd.yaml.5).
 *
 * config_load() reads the whole file with libyaml's document API and
 * validates every key; it never returns a half-valid config.  Errors are
 * collected (not just the first) so `--check-config` can show them all,
 * each as "FILE:LINE:COLUMN: KEY: message".
 */
#ifndef DEV2PROD_CONFIG_H
#define DEV2PROD_CONFIG_H

#include "settings.h"
#include "util.h"

enum auth_type { AUTH_API_KEY, AUTH_BEARER, AUTH_SESSION };
enum promo_mode { MODE_IMPORT, MODE_DRY_RUN };

struct auth {
        enum auth_type type;
        /* The secret file actually read: key_file:/password_file: as given,
         * or $CREDENTIALS_DIRECTORY/<credential:>. */
        char *secret_path;
        /* api_key: the key; bearer: the token; session: the password.
         * Loaded at config load, overwritten on free (secret_free). */
        char *secret;
        char *username;         /* session only */
        char *role;             /* session only, optional ("" when unset) */
};

struct tenant {
        char *name;             /* the key under tenants: */
        char *url;              /* without trailing slash */
        char *tenant_id;
        struct auth auth;
        char *ca_file;          /* optional: extra CA bundle (PEM) */
        bool insecure_skip_verify;
        unsigned line;          /* 1-based, for messages */
};

/* Notifications (notify:, see dev2prodd.yaml(5) NOTIFICATIONS and
 * notify.h).  The events, by the names design.md gives them. */
#define NOTIFY_EVENTS(X)                                                \
        X(FAILED,                 "failed")                             \
        X(SUCCEEDED,              "succeeded")                          \
        X(DRY_RUN_REJECTED,       "dry-run-rejected")                   \
        X(IMPORT_OUTCOME_UNKNOWN, "import-outcome-unknown")             \
        X(AWAITING_APPROVAL,      "awaiting-approval")
enum notify_event {
        NOTIFY_NONE = -1,
#define NOTIFY_EVENT_ENUM(name, word) NOTIFY_##name,
        NOTIFY_EVENTS(NOTIFY_EVENT_ENUM)
#undef NOTIFY_EVENT_ENUM
        _NOTIFY_EVENT_MAX,
};
const char *notify_event_to_string(enum notify_event e);
int notify_event_from_string(const char *s);    /* -EINVAL when unknown */

#define NOTIFY_EXEC_TIMEOUT_DEFAULT_USEC (30 * USEC_PER_SEC)

struct notify {
        unsigned events;                /* bit (1u << enum notify_event) per event sent */
        char **exec;                    /* argv (NULL-terminated), exec[0] absolute; NULL: none */
        uint64_t exec_timeout_usec;
        /* The webhook URL is a secret (it often carries a token): read from
         * url_file:/credential: like the API keys, wiped by secret_free,
         * never logged; logs say webhook_origin ("https://host:port"). */
        char *webhook_url;              /* NULL without a webhook, or under CONFIG_NO_SECRETS */
        char *webhook_source;           /* the file it is read from; set when a webhook is configured */
        char *webhook_origin;
};

struct promotion {
        char *name;
        char *package;
        struct tenant *from, *to;       /* point into config->tenants */
        char *schedule;                 /* cron line as written */
        struct cron *cron;              /* parsed (cron.h) */
        char *timezone;                 /* NULL: the system's */
        bool catch_up;                  /* default true */
        enum promo_mode mode;           /* default import */
        struct settings settings;       /* defaults merged with overrides (settings.h) */
        unsigned line;
        /* after: NAME instead of schedule: (cron NULL): a job starts when a
         * job of NAME succeeds (notify.h, chained follow-ups). */
        char *after;
        /* notify: of this promotion (replaces the top-level one when
         * notify_set; NULL with notify_set is "notify: none"). */
        bool notify_set;
        struct notify *notify;
};

#define HISTORY_KEEP_DEFAULT_USEC (90ULL * 86400 * USEC_PER_SEC)
#define HISTORY_KEEP_MIN_USEC (86400ULL * USEC_PER_SEC)
#define HISTORY_KEEP_MAX_USEC (36500ULL * 86400 * USEC_PER_SEC)
/* "90d", or "forever" for 0, into buf. */
char *history_keep_text(char *buf, size_t n, uint64_t usec);

/* Where dev2prodd and dev2prodctl look without --config. */
#define CONFIG_DEFAULT_PATH "/etc/dev2prodd/dev2prodd.yaml"

struct config {
        char *path;
        char *state_directory;          /* default $STATE_DIRECTORY, else /var/lib/dev2prodd */
        unsigned max_parallel;          /* default 4 */
        /* history_keep: finished job files older than this are removed
         * (daemon.c, store_prune); default 90d.  0: "forever", never. */
        uint64_t history_keep_usec;
        char *control_socket;           /* default $RUNTIME_DIRECTORY/control.sock,
                                           else /run/dev2prodd/control.sock */
        char *metrics_file;             /* NULL: no metrics (metrics.h) */
        struct settings defaults;
        struct tenant *tenants;
        size_t n_tenants;
        struct promotion *promotions;
        size_t n_promotions;
        struct notify *notify;          /* top-level notify:, NULL: none */
};

/* A list of error messages, each already formatted with file:line:column. */
struct errlist {
        char **msgs;
        size_t n;
};
void errlist_add(struct errlist *e, const char *fmt, ...) _printf_(2, 3);
void errlist_free(struct errlist *e);

/* Loads and validates path.  On success *ret is a complete config and 0 is
 * returned.  On failure returns -EINVAL (or -errno if the file can't be
 * read) and every problem found is in errs; nothing is logged. */
int config_load(const char *path, struct config **ret, struct errlist *errs);
/* CONFIG_NO_SECRETS: validate everything but do not open secret files
 * (auth.secret stays NULL): for dev2prodctl, which needs the state folder
 * and the socket, not the keys, and may run as a user who cannot read them. */
#define CONFIG_NO_SECRETS 1u
int config_load_flags(const char *path, unsigned flags, struct config **ret, struct errlist *errs);
void config_free(struct config *c);

const struct promotion *config_find_promotion(const struct config *c, const char *name);
const struct tenant *config_find_tenant(const struct config *c, const char *name);

/* The notify: that applies to p: its own, else the top-level one; NULL: none. */
const struct notify *config_notify_of(const struct config *c, const struct promotion *p);
void notify_free(struct notify *n);

const char *auth_type_to_string(enum auth_type t);
const char *promo_mode_to_string(enum promo_mode m);

#endif
