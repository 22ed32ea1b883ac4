/* config.h — the YAML configuration (see man/dev2prodd.yaml.5).
 *
 * config_load() reads the whole file with libyaml's document API and
 * validates every key; it never returns a half-valid config.  Errors are
 * collected (not just the first) so `--check-config` can show them all,
 * each as "FILE:LINE:COLUMN: KEY: message".
 */
#ifndef DEV2PROD_CONFIG_H
#define DEV2PROD_CONFIG_H

#include "util.h"

enum auth_type { AUTH_API_KEY, AUTH_BEARER, AUTH_SESSION };
enum on_warnings { ON_WARNINGS_PROCEED, ON_WARNINGS_STOP };
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

/* Settings a promotion inherits from defaults: and may override. */
struct settings {
        uint64_t poll_interval_usec;    /* default 15s */
        uint64_t step_timeout_usec;     /* default 2h */
        unsigned retries;               /* default 6 */
        enum on_warnings on_warnings;   /* default proceed */
        uint64_t retry_delay_usec;      /* default 1s (key retry_delay): first
                                           backoff, doubled per try, capped at 5m */
        uint64_t connect_timeout_usec;  /* default 30s (key connect_timeout) */
        uint64_t low_speed_time_usec;   /* default 60s (key stall_timeout): a
                                           transfer below 1 byte/s this long fails */
        uint64_t request_timeout_usec;  /* default 5m (key request_timeout): a
                                           small request (not download/upload) */
};

struct promotion {
        char *name;
        char *package;
        struct tenant *from, *to;       /* point into config->tenants */
        char *schedule;                 /* cron line as written */
        struct cron *cron;              /* parsed (schedule.h) */
        char *timezone;                 /* NULL: the system's */
        bool catch_up;                  /* default true */
        enum promo_mode mode;           /* default import */
        struct settings settings;       /* defaults merged with overrides */
        unsigned line;
};

struct config {
        char *path;
        char *state_directory;          /* default $STATE_DIRECTORY, else /var/lib/dev2prodd */
        unsigned max_parallel;          /* default 4 */
        char *control_socket;           /* default $RUNTIME_DIRECTORY/control.sock,
                                           else /run/dev2prodd/control.sock */
        struct settings defaults;
        struct tenant *tenants;
        size_t n_tenants;
        struct promotion *promotions;
        size_t n_promotions;
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

const char *auth_type_to_string(enum auth_type t);
const char *on_warnings_to_string(enum on_warnings w);
const char *promo_mode_to_string(enum promo_mode m);

#endif
