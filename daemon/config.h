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
const char *promo_mode_to_string(enum promo_mode m);

#endif
