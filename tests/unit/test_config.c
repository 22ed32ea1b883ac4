/* test_config.c — unit tests of the YAML configuration loader.
 *
 * Every test runs in a fresh temp folder holding the config file and the
 * secret files it names; "@DIR@" in a YAML text stands for that folder.
 * Error messages are compared in full ("FILE:LINE:COLUMN: KEY: message").
 */
#include "check_run.h"
#include "config.h"
#include "cron.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEC(n)  ((uint64_t) (n) * USEC_PER_SEC)
#define MSEC(n) ((uint64_t) (n) * USEC_PER_MSEC)

static char dir[64];
static char cfg[128];
static struct errlist errs;
static struct config *conf;

/* ---- helpers --------------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
        (void) st; (void) flag; (void) f;
        return remove(p);
}

static char *subst(const char *t) {
        struct buf b = {};
        buf_append(&b, "", 0);
        for (const char *p = t; *p;) {
                const char *q = strstr(p, "@DIR@");
                if (!q) {
                        buf_append(&b, p, strlen(p));
                        break;
                }
                buf_append(&b, p, (size_t) (q - p));
                buf_append(&b, dir, strlen(dir));
                p = q + 5;
        }
        return b.data;
}

/* Writes dir/name with exactly this mode. */
static void put(const char *name, unsigned mode, const char *content, size_t len) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(content, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(p, mode), 0);
}
#define PUT(name, mode, s) put(name, mode, s, strlen(s))

static void dump(void) {
        for (size_t i = 0; i < errs.n; i++)
                fprintf(stderr, "    | %s\n", errs.msgs[i]);
}

static int load(const char *yaml) {
        _cleanup_free_ char *text = subst(yaml);
        FILE *f = fopen(cfg, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
        errlist_free(&errs);
        config_free(conf);
        conf = NULL;
        int r = config_load(cfg, &conf, &errs);
        if (r < 0)
                ck_assert_ptr_null(conf);
        return r;
}

/* Is "CFG:<formatted>" one of the errors? */
static char wanted[2048];
static bool has_err(const char *fmt, ...) _printf_(1, 2);
static bool has_err(const char *fmt, ...) {
        char m[900];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        snprintf(wanted, sizeof wanted, "%s%s", cfg, m);
        for (size_t i = 0; i < errs.n; i++)
                if (streq(errs.msgs[i], wanted))
                        return true;
        dump();
        return false;
}
#define ASSERT_ERR(...) ck_assert_msg(has_err(__VA_ARGS__), "missing error: %s", wanted)

static bool any_contains(const char *s) {
        for (size_t i = 0; i < errs.n; i++)
                if (strstr(errs.msgs[i], s))
                        return true;
        return false;
}

/* Loading fails with exactly n errors. */
#define ASSERT_FAILS(yaml_, n_) do { \
                int r_ = load(yaml_);                                                    \
                if (r_ != -EINVAL || errs.n != (n_))                                     \
                        dump();                                                         \
                ck_assert_int_eq(r_, -EINVAL);                                          \
                ck_assert_uint_eq(errs.n, (n_));                                         \
                ck_assert_ptr_null(conf);                                               \
        } while (0)

#define ASSERT_LOADS(yaml_) do {                                                         \
                int r_ = load(yaml_);                                                    \
                if (r_ != 0)                                                            \
                        dump();                                                         \
                ck_assert_int_eq(r_, 0);                                                \
                ck_assert_uint_eq(errs.n, 0);                                           \
                ck_assert_ptr_nonnull(conf);                                            \
        } while (0)

static void setup(void) {
        snprintf(dir, sizeof dir, "/tmp/test_config.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(cfg, sizeof cfg, "%s/c.yaml", dir);
        unsetenv("CREDENTIALS_DIRECTORY");
        unsetenv("STATE_DIRECTORY");
        unsetenv("RUNTIME_DIRECTORY");
        PUT("dev.key", 0600, "dev-secret-1\n");
        PUT("prod.key", 0600, "prod-secret-2\n");
}

static void teardown(void) {
        errlist_free(&errs);
        config_free(conf);
        conf = NULL;
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        unsetenv("CREDENTIALS_DIRECTORY");
        unsetenv("STATE_DIRECTORY");
        unsetenv("RUNTIME_DIRECTORY");
}

/* Nine lines: two valid tenants.  Promotions after it start at line 10. */
#define TENANTS                                                         \
        "tenants:\n"                                                    \
        "  dev:\n"                                                      \
        "    url: https://dev.example.net\n"                            \
        "    tenant_id: \"123456789\"\n"                                \
        "    auth: { type: api_key, key_file: @DIR@/dev.key }\n"        \
        "  prod:\n"                                                     \
        "    url: https://example.net\n"                                \
        "    tenant_id: \"987654321\"\n"                                \
        "    auth: { type: api_key, key_file: @DIR@/prod.key }\n"

/* A valid promotion, 6 lines, for tests that need one more. */
#define PROMO(name)                                                     \
        "  - name: " name "\n"                                          \
        "    package: \"54321\"\n"                                      \
        "    from: dev\n"                                               \
        "    to: prod\n"                                                \
        "    schedule: \"30 2 * * *\"\n"

/* A tenant block with the given auth: flow mapping, 4 lines, name "t". */
#define TENANT_AUTH(auth)                                               \
        "tenants:\n"                                                    \
        "  t:\n"                                                        \
        "    url: https://t.example.net\n"                              \
        "    tenant_id: \"1\"\n"                                        \
        "    auth: " auth "\n"

/* ---- a full valid configuration --------------------------------------------- */

START_TEST(valid_full) {
        PUT("qa.token", 0400, "qa-token\r\n");
        PUT("pw", 0600, "session-pw");
        PUT("ca.pem", 0644, "-----BEGIN CERTIFICATE-----\n");
        _cleanup_free_ char *creds = xasprintf("%s/creds", dir);
        ck_assert_int_eq(mkdir(creds, 0700), 0);
        PUT("creds/prod-key", 0400, "prod-cred\n");
        setenv("CREDENTIALS_DIRECTORY", creds, 1);

        ASSERT_LOADS(
                "# comment\n"
                "promotions:\n"
                "  - name: forms-nightly\n"
                "    package: \"54321\"\n"
                "    from: dev\n"
                "    to: prod\n"
                "    schedule: \"30 2 * * *\"\n"
                "    timezone: Europe/Berlin\n"
                "    catch_up: no\n"
                "    mode: dry-run\n"
                "    poll_interval: 30s\n"
                "    retries: 3\n"
                "    on_warnings: proceed\n"
                "  - name: Other_1.x\n"
                "    package: pkg.A-1_b\n"
                "    from: qa\n"
                "    to: sess\n"
                "    schedule: \"@daily\"\n"
                "state_directory: /srv/state//\n"
                "control_socket: /run/d2p/ctl.sock\n"
                "max_parallel: 16\n"
                "tenants:\n"
                "  dev:\n"
                "    url: https://dev.example.net///\n"
                "    tenant_id: 123456789\n"
                "    auth: { type: api_key, key_file: @DIR@/dev.key }\n"
                "    ca_file: @DIR@/ca.pem\n"
                "    insecure_skip_verify: On\n"
                "  prod:\n"
                "    url: http://example.net:8080/api/\n"
                "    tenant_id: \"987654321\"\n"
                "    auth: { type: api_key, credential: prod-key }\n"
                "  qa:\n"
                "    url: https://qa.example.net\n"
                "    tenant_id: \"5\"\n"
                "    auth:\n"
                "      type: bearer\n"
                "      key_file: @DIR@/qa.token\n"
                "  sess:\n"
                "    url: https://sess.example.net\n"
                "    tenant_id: \"6\"\n"
                "    auth:\n"
                "      type: session\n"
                "      username: robot\n"
                "      password_file: @DIR@/pw\n"
                "      role: deployer\n"
                "defaults:\n"   /* after promotions: must still apply */
                "  poll_interval: 20s\n"
                "  step_timeout: 3h\n"
                "  retries: 7\n"
                "  retry_delay: 2s\n"
                "  on_warnings: stop\n"
                "  connect_timeout: 10s\n"
                "  stall_timeout: 2m\n"
                "  request_timeout: 10m\n"
                "history_keep: 30d12h\n");

        struct config *c = conf;
        ck_assert_str_eq(c->path, cfg);
        ck_assert_str_eq(c->state_directory, "/srv/state");
        ck_assert_str_eq(c->control_socket, "/run/d2p/ctl.sock");
        ck_assert_uint_eq(c->max_parallel, 16);
        ck_assert(c->history_keep_usec == SEC(30 * 86400 + 12 * 3600));

        ck_assert(c->defaults.poll_interval_usec == SEC(20));
        ck_assert(c->defaults.step_timeout_usec == SEC(3 * 3600));
        ck_assert_uint_eq(c->defaults.retries, 7);
        ck_assert(c->defaults.retry_delay_usec == SEC(2));
        ck_assert_int_eq(c->defaults.on_warnings, ON_WARNINGS_STOP);
        ck_assert(c->defaults.connect_timeout_usec == SEC(10));
        ck_assert(c->defaults.low_speed_time_usec == SEC(120));
        ck_assert(c->defaults.request_timeout_usec == SEC(600));

        ck_assert_uint_eq(c->n_tenants, 4);
        const struct tenant *dev = config_find_tenant(c, "dev");
        ck_assert_ptr_nonnull(dev);
        ck_assert_str_eq(dev->name, "dev");
        ck_assert_str_eq(dev->url, "https://dev.example.net");
        ck_assert_str_eq(dev->tenant_id, "123456789");
        ck_assert_int_eq(dev->auth.type, AUTH_API_KEY);
        ck_assert_str_eq(dev->auth.secret, "dev-secret-1");
        _cleanup_free_ char *devkey = xasprintf("%s/dev.key", dir);
        ck_assert_str_eq(dev->auth.secret_path, devkey);
        ck_assert_ptr_null(dev->auth.username);
        ck_assert_str_eq(dev->auth.role, "");
        _cleanup_free_ char *ca = xasprintf("%s/ca.pem", dir);
        ck_assert_str_eq(dev->ca_file, ca);
        ck_assert(dev->insecure_skip_verify);
        ck_assert_uint_eq(dev->line, 23);

        const struct tenant *prod = config_find_tenant(c, "prod");
        ck_assert_ptr_nonnull(prod);
        ck_assert_str_eq(prod->url, "http://example.net:8080/api");
        ck_assert_str_eq(prod->auth.secret, "prod-cred");
        _cleanup_free_ char *credfile = xasprintf("%s/prod-key", creds);
        ck_assert_str_eq(prod->auth.secret_path, credfile);
        ck_assert_ptr_null(prod->ca_file);
        ck_assert(!prod->insecure_skip_verify);

        const struct tenant *qa = config_find_tenant(c, "qa");
        ck_assert_int_eq(qa->auth.type, AUTH_BEARER);
        ck_assert_str_eq(qa->auth.secret, "qa-token");          /* CRLF stripped */

        const struct tenant *sess = config_find_tenant(c, "sess");
        ck_assert_int_eq(sess->auth.type, AUTH_SESSION);
        ck_assert_str_eq(sess->auth.username, "robot");
        ck_assert_str_eq(sess->auth.secret, "session-pw");
        ck_assert_str_eq(sess->auth.role, "deployer");
        ck_assert_ptr_null(config_find_tenant(c, "nope"));

        ck_assert_uint_eq(c->n_promotions, 2);
        const struct promotion *p = config_find_promotion(c, "forms-nightly");
        ck_assert_ptr_eq(p, &c->promotions[0]);
        ck_assert_str_eq(p->package, "54321");
        ck_assert_ptr_eq(p->from, dev);
        ck_assert_ptr_eq(p->to, prod);
        ck_assert_str_eq(p->schedule, "30 2 * * *");
        ck_assert_ptr_nonnull(p->cron);
        ck_assert_str_eq(p->timezone, "Europe/Berlin");
        ck_assert(!p->catch_up);
        ck_assert_int_eq(p->mode, MODE_DRY_RUN);
        ck_assert_uint_eq(p->line, 3);
        /* overridden */
        ck_assert(p->settings.poll_interval_usec == SEC(30));
        ck_assert_uint_eq(p->settings.retries, 3);
        ck_assert_int_eq(p->settings.on_warnings, ON_WARNINGS_PROCEED);
        /* inherited from defaults: */
        ck_assert(p->settings.step_timeout_usec == SEC(3 * 3600));
        ck_assert(p->settings.retry_delay_usec == SEC(2));
        ck_assert(p->settings.connect_timeout_usec == SEC(10));
        ck_assert(p->settings.low_speed_time_usec == SEC(120));
        ck_assert(p->settings.request_timeout_usec == SEC(600));

        const struct promotion *q = config_find_promotion(c, "Other_1.x");
        ck_assert_ptr_eq(q, &c->promotions[1]);
        ck_assert_str_eq(q->package, "pkg.A-1_b");
        ck_assert_ptr_eq(q->from, qa);
        ck_assert_ptr_eq(q->to, sess);
        ck_assert_ptr_null(q->timezone);
        ck_assert(q->catch_up);
        ck_assert_int_eq(q->mode, MODE_IMPORT);
        ck_assert_mem_eq(&q->settings, &c->defaults, sizeof(struct settings));
        ck_assert_ptr_null(config_find_promotion(c, "nope"));

        /* The parsed cron is usable. */
        time_t next;
        ck_assert_int_eq(cron_next(q->cron, "UTC", 0, &next), 0);
        ck_assert_int_eq(next, 86400);
}
END_TEST

START_TEST(valid_builtin_defaults) {
        /* No defaults:, no state_directory:, $STATE_DIRECTORY unset. */
        ASSERT_LOADS(TENANTS "promotions:\n" PROMO("a"));
        const struct settings *s = &conf->promotions[0].settings;
        ck_assert_str_eq(conf->state_directory, "/var/lib/dev2prodd");
        ck_assert_str_eq(conf->control_socket, "/run/dev2prodd/control.sock");
        ck_assert_uint_eq(conf->max_parallel, 4);
        ck_assert(conf->history_keep_usec == SEC(90 * 86400));
        ck_assert(s->poll_interval_usec == SEC(15));
        ck_assert(s->step_timeout_usec == SEC(7200));
        ck_assert_uint_eq(s->retries, 6);
        ck_assert_int_eq(s->on_warnings, ON_WARNINGS_PROCEED);
        ck_assert(s->retry_delay_usec == SEC(1));
        ck_assert(s->connect_timeout_usec == SEC(30));
        ck_assert(s->low_speed_time_usec == SEC(60));
        ck_assert(s->request_timeout_usec == SEC(300));
        ck_assert_mem_eq(s, &conf->defaults, sizeof *s);
        ck_assert(conf->promotions[0].catch_up);
        ck_assert_int_eq(conf->promotions[0].mode, MODE_IMPORT);
        ck_assert_ptr_null(conf->promotions[0].timezone);
}
END_TEST

START_TEST(state_directory_env) {
        setenv("STATE_DIRECTORY", "/run/state/a:/run/state/b", 1);
        ASSERT_LOADS(TENANTS);
        ck_assert_str_eq(conf->state_directory, "/run/state/a");

        setenv("STATE_DIRECTORY", "/var/lib/x/", 1);
        ASSERT_LOADS(TENANTS);
        ck_assert_str_eq(conf->state_directory, "/var/lib/x");

        setenv("RUNTIME_DIRECTORY", "/run/d2p:/run/other", 1);
        ASSERT_LOADS(TENANTS);
        ck_assert_str_eq(conf->control_socket, "/run/d2p/control.sock");

        /* The file wins over the environment. */
        ASSERT_LOADS("state_directory: /srv/d2p\ncontrol_socket: /run/x.sock\n" TENANTS);
        ck_assert_str_eq(conf->state_directory, "/srv/d2p");
        ck_assert_str_eq(conf->control_socket, "/run/x.sock");
}
END_TEST

START_TEST(valid_without_promotions) {
        ASSERT_LOADS(TENANTS);
        ck_assert_uint_eq(conf->n_tenants, 2);
        ck_assert_uint_eq(conf->n_promotions, 0);
        ck_assert_ptr_null(config_find_promotion(conf, "a"));

        ASSERT_LOADS("{}\n");
        ck_assert_uint_eq(conf->n_tenants, 0);

        ASSERT_LOADS(TENANTS "promotions: []\ndefaults:\n");
        ck_assert_uint_eq(conf->n_promotions, 0);

        ASSERT_LOADS(TENANTS "promotions:\n");
        ck_assert_uint_eq(conf->n_promotions, 0);
}
END_TEST

START_TEST(example_config_is_valid) {
        /* config/example.yaml, with its key file and credential pointed here. */
        char *text = NULL;
        const char *srcdir = getenv("SRCDIR");
        _cleanup_free_ char *p = NULL;
        if (srcdir)
                p = xasprintf("%s/config/example.yaml", srcdir);
        else {
                /* __FILE__ is tests/unit/test_config.c, relative to the top folder */
                _cleanup_free_ char *f = xstrdup(__FILE__);
                char *s = strstr(f, "tests/unit/test_config.c");
                if (s)
                        *s = 0;
                p = xasprintf("%sconfig/example.yaml", f);
        }
        ck_assert_msg(read_file_small(p, 1 << 20, &text, NULL) == 0, "cannot read %s", p);

        struct buf b = {};
        buf_append(&b, "", 0);
        for (const char *s = text; *s;) {
                const char *q = strstr(s, "/etc/dev2prodd/dev.key");
                if (!q) {
                        buf_append(&b, s, strlen(s));
                        break;
                }
                buf_append(&b, s, (size_t) (q - s));
                buf_append(&b, "@DIR@/dev.key", 13);
                s = q + strlen("/etc/dev2prodd/dev.key");
        }
        free(text);
        _cleanup_free_ char *creds = xasprintf("%s/creds", dir);
        ck_assert_int_eq(mkdir(creds, 0700), 0);
        PUT("creds/prod-key", 0600, "k\n");
        setenv("CREDENTIALS_DIRECTORY", creds, 1);

        ASSERT_LOADS(b.data);
        buf_free(&b);
        ck_assert_uint_eq(conf->n_tenants, 2);
        ck_assert_uint_eq(conf->n_promotions, 3);
        ck_assert_str_eq(config_find_promotion(conf, "forms-audit")->after, "forms-nightly");
        ck_assert(config_find_promotion(conf, "forms-audit")->notify_set);
        ck_assert_ptr_nonnull(conf->notify);
        ck_assert_str_eq(conf->state_directory, "/var/lib/dev2prodd");
        ck_assert_ptr_nonnull(config_find_promotion(conf, "forms-nightly"));
}
END_TEST


/* ---- chains (after:) and notify: ---------------------------------------------- */

/* A chained promotion, 5 lines like PROMO. */
#define CHAIN(name, after)                                              \
        "  - name: " name "\n"                                          \
        "    package: \"54321\"\n"                                      \
        "    from: dev\n"                                               \
        "    to: prod\n"                                                \
        "    after: " after "\n"

START_TEST(chain_valid) {
        ASSERT_LOADS(TENANTS "promotions:\n" CHAIN("c", "b") PROMO("a") CHAIN("b", "a"));
        const struct promotion *b = config_find_promotion(conf, "b");
        ck_assert_str_eq(b->after, "a");
        ck_assert_ptr_null(b->cron);
        ck_assert_ptr_null(b->schedule);
        ck_assert_ptr_null(config_find_promotion(conf, "a")->after);
}
END_TEST

START_TEST(chain_errors) {
        /* lines: promotions: 10, first promotion 11-15, second 16-20 */
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") CHAIN("b", "nosuch"), 1);
        ASSERT_ERR(":20:12: promotions[1].after: unknown promotion 'nosuch'");
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("alpha") CHAIN("b", "alpah"), 1);
        ASSERT_ERR(":20:12: promotions[1].after: unknown promotion 'alpah' (did you mean 'alpha'?)");
        ASSERT_FAILS(TENANTS "promotions:\n" CHAIN("a", "a"), 1);
        ASSERT_ERR(":15:12: promotions[0].after: 'a' is this promotion itself");
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "    after: a\n" PROMO("b"), 1);
        ASSERT_ERR(":16:12: promotions[0].after: use either schedule: or after:, not both");
        ASSERT_FAILS(TENANTS "promotions:\n"
                     "  - name: a\n"
                     "    package: \"54321\"\n"
                     "    from: dev\n"
                     "    to: prod\n", 1);
        ASSERT_ERR(":11:5: promotions[0]: missing required key 'schedule' (or 'after' to run after another "
                   "promotion succeeds)");
        /* a cycle of three beside a valid chain: one error, with its path */
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("s") CHAIN("t", "s") CHAIN("x", "z") CHAIN("y", "x")
                     CHAIN("z", "y"), 1);
        ASSERT_ERR(":25:12: promotions[2].after: a cycle: x after z after y after x (none of them would ever run)");
        /* two promotions after each other */
        ASSERT_FAILS(TENANTS "promotions:\n" CHAIN("p", "q") CHAIN("q", "p"), 1);
        ASSERT_ERR(":15:12: promotions[0].after: a cycle: p after q after p (none of them would ever run)");
}
END_TEST

START_TEST(notify_valid) {
        PUT("hook.url", 0600, "https://user:pw@hooks.example.net:8443/x/secret-token?k=1\n");
        ASSERT_LOADS(TENANTS "promotions:\n" PROMO("a") "    notify: none\n" PROMO("b")
                     "    notify: { exec: [/bin/true] }\n" PROMO("c")
                     "notify:\n"
                     "  events: [failed, succeeded]\n"
                     "  exec: [/usr/local/bin/page, --x, \"\"]\n"
                     "  exec_timeout: 5s\n"
                     "  webhook: { url_file: @DIR@/hook.url }\n");
        const struct notify *n = conf->notify;
        ck_assert_uint_eq(n->events, (1u << NOTIFY_FAILED) | (1u << NOTIFY_SUCCEEDED));
        ck_assert_str_eq(n->exec[0], "/usr/local/bin/page");
        ck_assert_str_eq(n->exec[2], "");
        ck_assert_ptr_null(n->exec[3]);
        ck_assert_uint_eq(n->exec_timeout_usec, 5 * USEC_PER_SEC);
        ck_assert_str_eq(n->webhook_url, "https://user:pw@hooks.example.net:8443/x/secret-token?k=1");
        ck_assert_str_eq(n->webhook_origin, "https://hooks.example.net:8443");
        ck_assert_ptr_null(config_notify_of(conf, config_find_promotion(conf, "a")));
        const struct notify *b = config_notify_of(conf, config_find_promotion(conf, "b"));
        ck_assert_ptr_null(b->webhook_source);
        ck_assert_uint_eq(b->events, (1u << _NOTIFY_EVENT_MAX) - 1);
        ck_assert_uint_eq(b->exec_timeout_usec, NOTIFY_EXEC_TIMEOUT_DEFAULT_USEC);
        ck_assert_ptr_eq(config_notify_of(conf, config_find_promotion(conf, "c")), conf->notify);
        ck_assert_str_eq(notify_event_to_string(NOTIFY_DRY_RUN_REJECTED), "dry-run-rejected");
        ck_assert_int_eq(notify_event_from_string("awaiting-approval"), NOTIFY_AWAITING_APPROVAL);
}
END_TEST

START_TEST(notify_errors) {
        PUT("bad.url", 0600, "ftp://secret-token@x\n");
        ASSERT_FAILS("notify:\n"
                     "  events: [failed, sucseeded]\n"
                     "  exec: [page-team]\n"
                     "  exec_timeout: 2h\n", 3);
        ASSERT_ERR(":2:20: notify.events[1]: unknown event 'sucseeded' (use failed, succeeded, dry-run-rejected, "
                   "import-outcome-unknown or awaiting-approval)");
        ASSERT_ERR(":3:10: notify.exec[0]: 'page-team' is not an absolute path (the program runs without a shell "
                   "and without $PATH)");
        ASSERT_ERR(":4:17: notify.exec_timeout: 2h is out of range 1s..1h");
        ASSERT_FAILS("notify:\n  events: [failed]\n", 1);
        ASSERT_ERR(":2:3: notify: nothing to send: give exec:, webhook: or both (or notify: none on a promotion)");
        ASSERT_FAILS("notify:\n  webhook: { url_file: @DIR@/bad.url }\n", 1);
        ck_assert(!any_contains("secret-token"));
        ASSERT_ERR(":2:24: notify.webhook.url_file: %s/bad.url does not hold an https:// or http:// URL", dir);
        ASSERT_FAILS("notify:\n  webhook: { credential: x, url_file: @DIR@/bad.url }\n", 1);
        ASSERT_ERR(":2:26: notify.webhook: use either url_file: or credential:, not both");
        ASSERT_FAILS("notify:\n  exec: [/bin/true]\n  webhok: {}\n", 1);
        ASSERT_ERR(":3:3: notify.webhok: unknown key (did you mean 'webhook'?)");
}
END_TEST

START_TEST(to_string) {
        ck_assert_str_eq(auth_type_to_string(AUTH_API_KEY), "api_key");
        ck_assert_str_eq(auth_type_to_string(AUTH_BEARER), "bearer");
        ck_assert_str_eq(auth_type_to_string(AUTH_SESSION), "session");
        ck_assert_str_eq(on_warnings_to_string(ON_WARNINGS_PROCEED), "proceed");
        ck_assert_str_eq(on_warnings_to_string(ON_WARNINGS_STOP), "stop");
        ck_assert_str_eq(promo_mode_to_string(MODE_IMPORT), "import");
        ck_assert_str_eq(promo_mode_to_string(MODE_DRY_RUN), "dry-run");
        ck_assert_ptr_null(config_find_tenant(NULL, "x"));
        config_free(NULL);
}
END_TEST

/* ---- structure errors ------------------------------------------------------------ */

START_TEST(unknown_key_suggestion) {
        ASSERT_FAILS("max_parallel: 2\n"
                     "defaults:\n"
                     "  pol_interval: 15s\n", 1);
        ASSERT_ERR(":3:3: defaults.pol_interval: unknown key (did you mean 'poll_interval'?)");

        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "    shedule: x\n", 1);
        ASSERT_ERR(":16:5: promotions[0].shedule: unknown key (did you mean 'schedule'?)");

        /* Transposition counts as one edit; case is ignored for suggestions. */
        ASSERT_FAILS("tenatns: {}\nMax_Parallel: 3\n", 2);
        ASSERT_ERR(":1:1: tenatns: unknown key (did you mean 'tenants'?)");
        ASSERT_ERR(":2:1: Max_Parallel: unknown key (did you mean 'max_parallel'?)");
}
END_TEST

START_TEST(unknown_key_plain) {
        ASSERT_FAILS("frobnicate: 1\n" TENANTS, 1);
        ASSERT_ERR(":1:1: frobnicate: unknown key");
        ASSERT_FAILS(TENANT_AUTH("{ id: 3, type: api_key, key_file: @DIR@/dev.key }"), 1);
        ASSERT_ERR(":5:13: tenants.t.auth.id: unknown key");
}
END_TEST

START_TEST(duplicate_key) {
        ASSERT_FAILS("tenants:\n"
                     "  dev:\n"
                     "    url: https://dev.example.net\n"
                     "    tenant_id: \"1\"\n"
                     "    url: https://other.example.net\n"
                     "    auth: { type: api_key, key_file: @DIR@/dev.key }\n", 1);
        ASSERT_ERR(":5:5: tenants.dev.url: duplicate key (first at line 3)");

        /* A duplicate tenant name, and a duplicate top-level key. */
        ASSERT_FAILS(TENANTS "  dev:\n    url: https://x.example.net\nmax_parallel: 1\nmax_parallel: 2\n", 2);
        ASSERT_ERR(":10:3: tenants.dev: duplicate key (first at line 2)");
        ASSERT_ERR(":13:1: max_parallel: duplicate key (first at line 12)");
}
END_TEST

START_TEST(wrong_node_kind) {
        ASSERT_FAILS("tenants:\n  - dev\npromotions:\n  name: x\n", 2);
        ASSERT_ERR(":2:3: tenants: expected a mapping");
        ASSERT_ERR(":4:3: promotions: expected a sequence");

        ASSERT_FAILS(TENANTS "promotions:\n  - forms\n", 1);
        ASSERT_ERR(":11:5: promotions[0]: expected a mapping");

        ASSERT_FAILS("tenants:\n  dev:\n    url: [a, b]\n    tenant_id: {x: 1}\n"
                     "    auth: { type: api_key, key_file: @DIR@/dev.key }\n", 2);
        ASSERT_ERR(":3:10: tenants.dev.url: expected a scalar");
        ASSERT_ERR(":4:16: tenants.dev.tenant_id: expected a scalar");

        ASSERT_FAILS("tenants:\n  dev: https://dev\n", 1);
        ASSERT_ERR(":2:8: tenants.dev: expected a mapping");

        ASSERT_FAILS("- a\n- b\n", 1);
        ASSERT_ERR(":1:1: (top level): expected a mapping");

        ASSERT_FAILS("defaults: 15s\n", 1);
        ASSERT_ERR(":1:11: defaults: expected a mapping");

        ASSERT_FAILS("? [a, b]\n: 1\n", 1);
        ASSERT_ERR(":1:3: (top level): mapping keys must be scalars");
}
END_TEST

START_TEST(missing_required_key) {
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a")
                     "  - name: b\n"
                     "    from: dev\n"
                     "    to: prod\n"
                     "    schedule: \"@daily\"\n", 1);
        ASSERT_ERR(":16:5: promotions[1]: missing required key 'package'");

        ASSERT_FAILS("tenants:\n  dev:\n    tenant_id: \"1\"\n", 2);
        ASSERT_ERR(":3:5: tenants.dev: missing required key 'url'");
        ASSERT_ERR(":3:5: tenants.dev: missing required key 'auth'");

        ASSERT_FAILS(TENANT_AUTH("{ key_file: @DIR@/dev.key }"), 1);
        ASSERT_ERR(":5:11: tenants.t.auth: missing required key 'type'");
}
END_TEST

START_TEST(empty_and_missing_file) {
        ASSERT_FAILS("", 1);
        ASSERT_ERR(":1:1: (top level): the configuration is empty");
        ASSERT_FAILS("# only a comment\n", 1);
        ASSERT_ERR(":1:1: (top level): the configuration is empty");

        _cleanup_free_ char *missing = xasprintf("%s/nope.yaml", dir);
        errlist_free(&errs);
        ck_assert_int_eq(config_load(missing, &conf, &errs), -ENOENT);
        ck_assert_ptr_null(conf);
        ck_assert_uint_eq(errs.n, 0);
}
END_TEST

/* ---- YAML level ------------------------------------------------------------------ */

START_TEST(yaml_syntax_error) {
        ASSERT_FAILS("max_parallel: 2\n"
                     "defaults:\n"
                     "  retries: 3: 4\n", 1);
        ASSERT_ERR(":3:13: syntax error: mapping values are not allowed in this context");

        ASSERT_FAILS("tenants:\n  dev:\n    url: \"https://x\n", 1);
        ASSERT_ERR(":4:1: syntax error: found unexpected end of stream "
                   "(while scanning a quoted scalar at line 3, column 10)");

        ASSERT_FAILS("defaults:\n\tretries: 3\n", 1);
        ck_assert(any_contains(":2:1: syntax error: found character that cannot start any token (a tab:"));
}
END_TEST

START_TEST(alias_rejected) {
        ASSERT_FAILS("defaults: &d\n"
                     "  retries: 3\n"
                     "tenants:\n"
                     "  dev: *d\n", 2);
        ASSERT_ERR(":1:11: defaults: YAML anchors are not supported (&d)");
        ASSERT_ERR(":4:8: tenants.dev: YAML aliases are not supported (*d)");

        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "  - *x\n", 1);
        /* An undefined alias: only the prescan's message, no libyaml duplicate */
        ASSERT_ERR(":16:5: promotions[1]: YAML aliases are not supported (*x)");
}
END_TEST

START_TEST(tag_and_documents_rejected) {
        ASSERT_FAILS("max_parallel: !!int 4\n", 1);
        ASSERT_ERR(":1:15: max_parallel: YAML tags are not supported (!!int)");

        ASSERT_FAILS(TENANTS "---\nmax_parallel: 4\n", 1);
        ASSERT_ERR(":10:1: (top level): only one YAML document is allowed in the file");
}
END_TEST

/* ---- values ------------------------------------------------------------------------ */

START_TEST(bad_duration) {
        ASSERT_FAILS("defaults:\n"
                     "  poll_interval: 15\n"
                     "  step_timeout: 8d\n"
                     "  connect_timeout: 50ms\n"
                     "  request_timeout: 1 h\n"
                     "  stall_timeout: 99999999999999999999d\n"
                     "  retry_delay: \"\"\n", 6);
        ASSERT_ERR(":2:18: defaults.poll_interval: '15' is not a duration (use e.g. 500ms, 15s, 10m, 2h, 1d, 1h30m)");
        ASSERT_ERR(":3:17: defaults.step_timeout: 8d is out of range 1s..7d");
        ASSERT_ERR(":4:20: defaults.connect_timeout: 50ms is out of range 100ms..10m");
        ASSERT_ERR(":5:20: defaults.request_timeout: '1 h' is not a duration (use e.g. 500ms, 15s, 10m, 2h, 1d, 1h30m)");
        ASSERT_ERR(":6:18: defaults.stall_timeout: 99999999999999999999d is out of range 1s..1h");
        ASSERT_ERR(":7:16: defaults.retry_delay: empty value");

        /* The same checks apply to a promotion's overrides. */
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "    poll_interval: 2h\n", 1);
        ASSERT_ERR(":16:20: promotions[0].poll_interval: 2h is out of range 100ms..1h");
}
END_TEST

START_TEST(bad_numbers_and_booleans) {
        ASSERT_FAILS("max_parallel: 0\n"
                     "defaults:\n"
                     "  retries: -1\n"
                     TENANT_AUTH("{ type: api_key, key_file: @DIR@/dev.key }")
                     "    insecure_skip_verify: maybe\n", 3);
        ASSERT_ERR(":1:15: max_parallel: 0 is out of range 1..1000");
        ASSERT_ERR(":3:12: defaults.retries: '-1' is not a whole number");
        ASSERT_ERR(":9:27: tenants.t.insecure_skip_verify: 'maybe' is not a boolean (use true or false)");

        /* history_keep: at least 1d, or forever */
        ASSERT_FAILS("history_keep: 23h\n", 1);
        ASSERT_ERR(":1:15: history_keep: 23h is out of range 1d..36500d (or 'forever')");
        ASSERT_FAILS("history_keep: 0\n", 1);
        ASSERT_ERR(":1:15: history_keep: '0' is not a duration (use e.g. 30d, 90d, 365d) or 'forever'");
        ASSERT_FAILS("history_keep: 36501d\n", 1);
        ASSERT_ERR(":1:15: history_keep: 36501d is out of range 1d..36500d (or 'forever')");
        ASSERT_LOADS(TENANTS "history_keep: forever\n");
        ck_assert(conf->history_keep_usec == 0);
        ASSERT_LOADS(TENANTS "history_keep: 1d\n");
        ck_assert(conf->history_keep_usec == SEC(86400));

        ASSERT_FAILS("max_parallel: 1001\ndefaults: { retries: 101 }\n", 2);
        ASSERT_ERR(":1:15: max_parallel: 1001 is out of range 1..1000");
        ASSERT_ERR(":2:22: defaults.retries: 101 is out of range 1..100");

        /* every boolean spelling */
        static const char *const t[] = { "true", "True", "YES", "on" }, *const f[] = { "false", "FALSE", "no", "Off" };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *y = xasprintf(TENANTS "    insecure_skip_verify: %s\n", t[i]);
                ASSERT_LOADS(y);
                ck_assert(config_find_tenant(conf, "prod")->insecure_skip_verify);
                _cleanup_free_ char *n = xasprintf(TENANTS "    insecure_skip_verify: %s\n", f[i]);
                ASSERT_LOADS(n);
                ck_assert(!config_find_tenant(conf, "prod")->insecure_skip_verify);
        }
}
END_TEST

START_TEST(bad_url) {
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/dev.key }") "    url: ftp://t.example.net\n", 1);
        /* the second url: is a duplicate, not checked */
        ck_assert(any_contains("duplicate key"));

        static const struct { const char *url, *msg; } t[] = {
                { "ftp://t.example.net",            "must start with https:// or http://" },
                { "t.example.net",                  "must start with https:// or http://" },
                { "https://t.example.net/?a=1",     "must not contain a query (?) or fragment (#)" },
                { "https://t.example.net/#top",     "must not contain a query (?) or fragment (#)" },
                { "https://user:pw@t.example.net",  "must not contain user:password@ (use auth:)" },
                { "https://",                       "has no host name" },
                { "https:///path",                  "has no host name" },
                { "\"https://t.example .net\"",     "must not contain spaces or control characters" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *y = xasprintf("tenants:\n  t:\n    url: %s\n    tenant_id: \"1\"\n"
                                                   "    auth: { type: api_key, key_file: @DIR@/dev.key }\n", t[i].url);
                ASSERT_FAILS(y, 1);
                ASSERT_ERR(":3:10: tenants.t.url: %s", t[i].msg);
        }
        /* The URL is never echoed (it could carry a password or token). */
        ASSERT_FAILS("tenants:\n  t:\n    url: https://me:hunter2@x?token=abc\n    tenant_id: \"1\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/dev.key }\n", 1);
        ck_assert(!any_contains("hunter2"));
        ck_assert(!any_contains("token=abc"));
}
END_TEST

START_TEST(bad_tenant_id_and_names) {
        ASSERT_FAILS("tenants:\n  t:\n    url: https://t.example.net\n    tenant_id: 12a\n"
                     "    auth: { type: api_key, key_file: @DIR@/dev.key }\n", 1);
        ASSERT_ERR(":4:16: tenants.t.tenant_id: '12a' is not a tenant id (digits only)");

        ASSERT_FAILS("tenants:\n  t:\n    url: https://t.example.net\n    tenant_id: \"-1\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/dev.key }\n", 1);
        ASSERT_ERR(":4:16: tenants.t.tenant_id: '-1' is not a tenant id (digits only)");

        ASSERT_FAILS("tenants:\n  my tenant: {}\n", 1);
        ASSERT_ERR(":2:3: tenants.my tenant: 'my tenant' is not a valid tenant name "
                   "(1-64 characters of A-Z a-z 0-9 . _ -)");

        ASSERT_FAILS(TENANTS "promotions:\n"
                     "  - name: a b\n"
                     "    package: ../x\n"
                     "    from: dev\n"
                     "    to: prod\n"
                     "    schedule: \"@daily\"\n", 2);
        ASSERT_ERR(":11:11: promotions[0].name: 'a b' is not a valid name (1-64 characters of A-Z a-z 0-9 . _ -)");
        ASSERT_ERR(":12:14: promotions[0].package: '../x' is not a valid package id (A-Z a-z 0-9 . _ - only)");
}
END_TEST

START_TEST(unknown_tenant) {
        ASSERT_FAILS(TENANTS "promotions:\n"
                     "  - name: a\n"
                     "    package: \"1\"\n"
                     "    from: dve\n"
                     "    to: staging\n"
                     "    schedule: \"@daily\"\n", 2);
        ASSERT_ERR(":13:11: promotions[0].from: unknown tenant 'dve' (did you mean 'dev'?)");
        ASSERT_ERR(":14:9: promotions[0].to: unknown tenant 'staging'");

        ASSERT_FAILS("promotions:\n" PROMO("a"), 2);
        ASSERT_ERR(":4:11: promotions[0].from: unknown tenant 'dev' (no tenants are defined under tenants:)");
}
END_TEST

START_TEST(from_equals_to) {
        ASSERT_FAILS(TENANTS "promotions:\n"
                     "  - name: a\n"
                     "    package: \"1\"\n"
                     "    from: dev\n"
                     "    to: dev\n"
                     "    schedule: \"@daily\"\n", 1);
        ASSERT_ERR(":14:9: promotions[0].to: 'dev' is the same tenant as from:");
}
END_TEST

START_TEST(duplicate_promotion_name) {
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") PROMO("b") PROMO("a"), 1);
        ASSERT_ERR(":21:11: promotions[2].name: duplicate promotion name 'a' (first at line 11)");
}
END_TEST

START_TEST(bad_cron) {
        ASSERT_FAILS(TENANTS "promotions:\n"
                     "  - name: a\n"
                     "    package: \"1\"\n"
                     "    from: dev\n"
                     "    schedule: \"30 24 * * *\"\n"
                     "    to: prod\n", 1);
        ASSERT_ERR(":14:15: promotions[0].schedule: hour: 24 is out of range 0-23");

        /* Whatever cron_parse() says comes after the key. */
        struct cron *c = NULL;
        char *why = NULL;
        ck_assert_int_eq(cron_parse("* * *", &c, &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
        ASSERT_FAILS(TENANTS "promotions:\n"
                     "  - name: a\n"
                     "    package: \"1\"\n"
                     "    from: dev\n"
                     "    to: prod\n"
                     "    schedule: \"* * *\"\n", 1);
        ASSERT_ERR(":15:15: promotions[0].schedule: %s", why);
        free(why);
}
END_TEST

START_TEST(bad_timezone) {
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "    timezone: Mars/Olympus_Mons\n", 1);
        ASSERT_ERR(":16:15: promotions[0].timezone: unknown time zone 'Mars/Olympus_Mons' "
                   "(use a zone such as Europe/Berlin or UTC)");
        ASSERT_LOADS(TENANTS "promotions:\n" PROMO("a") "    timezone: UTC\n");
        ck_assert_str_eq(conf->promotions[0].timezone, "UTC");
        /* the loader remembers the last zone found valid: a bad one
         * between two good ones is still refused, and only it */
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "    timezone: UTC\n" PROMO("b")
                     "    timezone: Mars/Olympus_Mons\n" PROMO("c") "    timezone: UTC\n", 1);
        ASSERT_ERR(":22:15: promotions[1].timezone: unknown time zone 'Mars/Olympus_Mons' "
                   "(use a zone such as Europe/Berlin or UTC)");
        ASSERT_LOADS(TENANTS "promotions:\n" PROMO("a") "    timezone: UTC\n" PROMO("b")
                     "    timezone: Europe/Berlin\n" PROMO("c") "    timezone: UTC\n");
        ck_assert_str_eq(conf->promotions[1].timezone, "Europe/Berlin");
        ck_assert_str_eq(conf->promotions[2].timezone, "UTC");
}
END_TEST

START_TEST(bad_mode) {
        ASSERT_FAILS(TENANTS "promotions:\n" PROMO("a") "    mode: dryrun\n", 1);
        ASSERT_ERR(":16:11: promotions[0].mode: 'dryrun' is not valid (use import or dry-run)");
}
END_TEST

START_TEST(bad_on_warnings) {
        ASSERT_FAILS("defaults:\n  on_warnings: ignore\n" TENANTS "promotions:\n" PROMO("a") "    on_warnings: Stop\n", 2);
        ASSERT_ERR(":2:16: defaults.on_warnings: 'ignore' is not valid (use proceed or stop)");
        ASSERT_ERR(":18:18: promotions[0].on_warnings: 'Stop' is not valid (use proceed or stop)");
}
END_TEST

/* Every row of settings.h, a new one included: accepted at its limits
 * under defaults: and in a promotion, inherited from defaults:, refused
 * past its limits with the range in the message. */
static void setting_text(const struct setting_desc *d, uint64_t v, char *buf, size_t n) {
        if (d->words)
                snprintf(buf, n, "%s", d->words[v]);
        else if (d->type == SETTING_T_DURATION)
                format_duration(buf, n, v);
        else
                snprintf(buf, n, "%llu", (unsigned long long) v);
}

START_TEST(every_setting) {
        for (enum setting_id i = 0; i < _SETTINGS_N; i++) {
                const struct setting_desc *d = &settings_desc[i];
                uint64_t lo = d->min, hi = d->max, dflt = setting_get(&settings_builtin, i);
                char a[64], b[64], c[64];

                if (d->words) {
                        lo = 0;
                        while (d->words[hi + 1])
                                hi++;
                }
                ck_assert_msg(dflt >= lo && dflt <= hi, "%s: the default is out of its range", d->key);
                ck_assert_msg(lo < hi, "%s: min is not below max", d->key);
                setting_text(d, hi, a, sizeof a);
                setting_text(d, lo, b, sizeof b);
                _cleanup_free_ char *yaml = xasprintf("defaults:\n  %s: %s\n" TENANTS "promotions:\n" PROMO("a")
                                                      "    %s: %s\n" PROMO("b"), d->key, a, d->key, b);
                ASSERT_LOADS(yaml);
                ck_assert_msg(setting_get(&conf->defaults, i) == hi, "%s: %s not taken", d->key, a);
                ck_assert_msg(setting_get(&conf->promotions[0].settings, i) == lo, "%s: %s not taken", d->key, b);
                ck_assert_msg(setting_get(&conf->promotions[1].settings, i) == hi, "%s: not inherited", d->key);
                for (enum setting_id k = 0; k < _SETTINGS_N; k++)
                        if (k != i)
                                ck_assert(setting_get(&conf->promotions[0].settings, k) ==
                                          setting_get(&settings_builtin, k));

                /* past the limit: 1 above a number, 1s above a duration */
                if (d->words)
                        snprintf(c, sizeof c, "no-such-word");
                else
                        setting_text(d, hi + (d->type == SETTING_T_DURATION ? SEC(1) : 1), c, sizeof c);
                _cleanup_free_ char *bad = xasprintf("defaults:\n  %s: %s\n", d->key, c);
                ASSERT_FAILS(bad, 1);
                if (d->words) {
                        _cleanup_free_ char *m = xasprintf(":2:%zu: defaults.%s: 'no-such-word' is not valid (use ",
                                                           strlen(d->key) + 5, d->key);
                        ck_assert_msg(any_contains(m), "%s: no '%s'", d->key, m);
                } else
                        ASSERT_ERR(":2:%zu: defaults.%s: %s is out of range %s..%s", strlen(d->key) + 5, d->key, c,
                                   b, a);
        }
}
END_TEST

START_TEST(bad_auth_shape) {
        ASSERT_FAILS(TENANT_AUTH("{ type: oauth, key_file: @DIR@/dev.key }"), 1);
        ASSERT_ERR(":5:19: tenants.t.auth.type: 'oauth' is not valid (use api_key, bearer or session)");

        ASSERT_FAILS(TENANT_AUTH("{ type: api_key }"), 1);
        ASSERT_ERR(":5:11: tenants.t.auth: missing required key 'key_file' or 'credential'");

        ASSERT_FAILS(TENANT_AUTH("{ type: bearer, key_file: @DIR@/dev.key, credential: c }"), 1);
        ck_assert(any_contains(":5:") && any_contains("tenants.t.auth.credential: use either key_file: or credential:, not both"));

        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: dev.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: 'dev.key' is not an absolute path");

        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/dev.key, username: bob }"), 1);
        ck_assert(any_contains("tenants.t.auth.username: only valid with type: session"));

        ASSERT_FAILS(TENANT_AUTH("{ type: session, password_file: @DIR@/dev.key }"), 1);
        ASSERT_ERR(":5:11: tenants.t.auth: missing required key 'username' (type: session)");

        ASSERT_FAILS(TENANT_AUTH("{ type: session, username: bob, key_file: @DIR@/dev.key }"), 2);
        ck_assert(any_contains("tenants.t.auth.key_file: not valid with type: session "
                               "(use password_file: or password_credential:)"));
        ASSERT_ERR(":5:11: tenants.t.auth: missing required key 'password_file' or 'password_credential'");

        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, credential: ../etc/shadow }"), 1);
        ck_assert(any_contains("tenants.t.auth.credential: '../etc/shadow' is not a valid credential name"));
}
END_TEST

START_TEST(key_file_missing) {
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/nope.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: cannot open %s/nope.key: No such file or directory", dir);

        /* a folder is no key file */
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@ }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s is not a regular file", dir);
}
END_TEST

START_TEST(key_file_mode) {
        PUT("open.key", 0644, "k\n");
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/open.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/open.key is readable by group or others (mode 0644); "
                   "run: chmod 600 %s/open.key", dir, dir);

        PUT("gw.key", 0620, "k\n");
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/gw.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/gw.key is writable by group or others (mode 0620); "
                   "run: chmod 600 %s/gw.key", dir, dir);

        /* 0400 is fine, and so is a symlink to a good file (systemd credentials) */
        PUT("ro.key", 0400, "k\n");
        _cleanup_free_ char *target = xasprintf("%s/ro.key", dir), *link = xasprintf("%s/link.key", dir);
        ck_assert_int_eq(symlink(target, link), 0);
        ASSERT_LOADS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/link.key }"));
        ck_assert_str_eq(conf->tenants[0].auth.secret, "k");
}
END_TEST

START_TEST(key_file_owner) {
        if (geteuid() != 0)
                return;         /* needs chown */
        PUT("other.key", 0600, "k\n");
        _cleanup_free_ char *p = xasprintf("%s/other.key", dir);
        ck_assert_int_eq(chown(p, 4242, 4242), 0);
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/other.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s is owned by uid 4242 (must be owned by root)", p);
}
END_TEST

START_TEST(key_file_content) {
        PUT("empty.key", 0600, "");
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/empty.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/empty.key is empty", dir);

        PUT("nl.key", 0600, "\r\n\n");
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/nl.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/nl.key is empty", dir);

        PUT("two.key", 0600, "line1\nline2\n");
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/two.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/two.key contains a line break or control character "
                   "(it must be one line)", dir);

        char big[4099];
        memset(big, 'a', sizeof big);
        put("big.key", 0600, big, 4097);
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/big.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/big.key is larger than 4096 bytes", dir);

        /* 4096 bytes plus a line end is fine, with more line ends it is not */
        big[4096] = '\r';
        big[4097] = '\n';
        put("max.key", 0600, big, 4098);
        ASSERT_LOADS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/max.key }"));
        ck_assert_uint_eq(strlen(conf->tenants[0].auth.secret), 4096);
        big[4098] = '\n';
        put("max.key", 0600, big, 4099);
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, key_file: @DIR@/max.key }"), 1);
        ASSERT_ERR(":5:38: tenants.t.auth.key_file: %s/max.key is larger than 4096 bytes", dir);
}
END_TEST

START_TEST(credential_without_env) {
        ASSERT_FAILS(TENANT_AUTH("{ type: api_key, credential: prod-key }"), 1);
        ASSERT_ERR(":5:40: tenants.t.auth.credential: credential 'prod-key' requested but "
                   "$CREDENTIALS_DIRECTORY is not set (use key_file: outside systemd)");

        ASSERT_FAILS(TENANT_AUTH("{ type: session, username: u, password_credential: pw }"), 1);
        ASSERT_ERR(":5:62: tenants.t.auth.password_credential: credential 'pw' requested but "
                   "$CREDENTIALS_DIRECTORY is not set (use key_file: outside systemd)");
}
END_TEST

START_TEST(credential_with_env) {
        _cleanup_free_ char *creds = xasprintf("%s/creds", dir);
        ck_assert_int_eq(mkdir(creds, 0700), 0);
        PUT("creds/prod-key", 0400, "from-credential\n");
        PUT("creds/pw", 0400, "pw-credential");
        setenv("CREDENTIALS_DIRECTORY", creds, 1);

        ASSERT_LOADS(TENANT_AUTH("{ type: api_key, credential: prod-key }"));
        ck_assert_str_eq(conf->tenants[0].auth.secret, "from-credential");
        _cleanup_free_ char *p = xasprintf("%s/prod-key", creds);
        ck_assert_str_eq(conf->tenants[0].auth.secret_path, p);

        ASSERT_LOADS(TENANT_AUTH("{ type: session, username: u, password_credential: pw }"));
        ck_assert_str_eq(conf->tenants[0].auth.secret, "pw-credential");
        ck_assert_str_eq(conf->tenants[0].auth.username, "u");
        ck_assert_str_eq(conf->tenants[0].auth.role, "");

        ASSERT_FAILS(TENANT_AUTH("{ type: bearer, credential: nope }"), 1);
        ASSERT_ERR(":5:39: tenants.t.auth.credential: cannot open %s/nope: No such file or directory", creds);
}
END_TEST

START_TEST(other_paths) {
        ASSERT_FAILS("state_directory: var/lib/x\n" TENANT_AUTH("{ type: api_key, key_file: @DIR@/dev.key }")
                     "    ca_file: @DIR@/missing.pem\n", 2);
        ASSERT_ERR(":1:18: state_directory: 'var/lib/x' is not an absolute path");
        ASSERT_ERR(":7:14: tenants.t.ca_file: cannot open %s/missing.pem: No such file or directory", dir);

        char longpath[200];
        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = 0;
        _cleanup_free_ char *y = xasprintf("control_socket: %s\n", longpath);
        ASSERT_FAILS(y, 1);
        ASSERT_ERR(":1:17: control_socket: is longer than 107 bytes (the limit of a unix socket path)");
        ASSERT_FAILS("control_socket: ctl.sock\n", 1);
        ASSERT_ERR(":1:17: control_socket: 'ctl.sock' is not an absolute path");
}
END_TEST

START_TEST(two_errors_one_run) {
        /* Errors in different places all come out, in file order. */
        ASSERT_FAILS("max_parallel: many\n"
                     TENANTS
                     "promotions:\n"
                     "  - name: a\n"
                     "    package: \"1\"\n"
                     "    from: dev\n"
                     "    to: prod\n"
                     "    schedule: \"61 * * * *\"\n"
                     "    mode: import\n", 2);
        ASSERT_ERR(":1:15: max_parallel: 'many' is not a whole number");
        ck_assert(any_contains(":16:15: promotions[0].schedule: minute: 61"));
        ck_assert(strstr(errs.msgs[0], "max_parallel"));
        ck_assert(strstr(errs.msgs[1], "schedule"));
}
END_TEST

START_TEST(order_does_not_matter) {
        /* defaults: and tenants: after promotions: */
        ASSERT_LOADS("promotions:\n" PROMO("a")
                     "  - name: b\n    package: \"2\"\n    from: prod\n    to: dev\n    schedule: \"@hourly\"\n"
                     "    retries: 2\n"
                     "defaults:\n  retries: 9\n  stall_timeout: 5m\n"
                     TENANTS);
        ck_assert_uint_eq(conf->promotions[0].settings.retries, 9);
        ck_assert_uint_eq(conf->promotions[1].settings.retries, 2);
        ck_assert(conf->promotions[0].settings.low_speed_time_usec == SEC(300));
        ck_assert(conf->promotions[1].settings.low_speed_time_usec == SEC(300));
        ck_assert_str_eq(conf->promotions[1].from->name, "prod");
        ck_assert_str_eq(conf->promotions[1].to->name, "dev");
}
END_TEST

START_TEST(no_secret_in_errors) {
        static const char canary[] = "CANARY-s3cr3t-value";
        _cleanup_free_ char *line = xasprintf("%s\n", canary);
        _cleanup_free_ char *two = xasprintf("%s\n%s\n", canary, canary);
        char big[5000];
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = canary[i % (sizeof canary - 1)];

        PUT("good.key", 0600, line);
        PUT("open.key", 0644, line);
        PUT("two.key", 0600, two);
        put("big.key", 0600, big, sizeof big);

        /* Secret files that fail, a good one in a config that fails, and
         * the canary used as a (wrong) config value in auth:. */
        ASSERT_FAILS("tenants:\n"
                     "  a:\n"
                     "    url: https://a.example.net\n"
                     "    tenant_id: \"1\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/open.key }\n"
                     "  b:\n"
                     "    url: https://b.example.net\n"
                     "    tenant_id: \"2\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/two.key }\n"
                     "  c:\n"
                     "    url: https://c.example.net\n"
                     "    tenant_id: \"3\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/big.key }\n"
                     "  d:\n"
                     "    url: https://d.example.net\n"
                     "    tenant_id: \"4\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/good.key }\n"
                     "  e:\n"
                     "    url: https://e.example.net\n"
                     "    tenant_id: \"5\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/good.key, key: CANARY-s3cr3t-value }\n"
                     "  f:\n"
                     "    url: https://user:CANARY-s3cr3t-value@f.example.net\n"
                     "    tenant_id: \"6\"\n"
                     "    auth: { type: api_key, key_file: @DIR@/good.key }\n"
                     "max_parallel: 0\n", 6);
        for (size_t i = 0; i < errs.n; i++)
                ck_assert_msg(!strstr(errs.msgs[i], "CANARY"), "secret in: %s", errs.msgs[i]);
}
END_TEST

static Suite *config_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, valid_full);
        tcase_add_test(tc, valid_builtin_defaults);
        tcase_add_test(tc, state_directory_env);
        tcase_add_test(tc, valid_without_promotions);
        tcase_add_test(tc, example_config_is_valid);
        tcase_add_test(tc, to_string);
        tcase_add_test(tc, unknown_key_suggestion);
        tcase_add_test(tc, unknown_key_plain);
        tcase_add_test(tc, duplicate_key);
        tcase_add_test(tc, wrong_node_kind);
        tcase_add_test(tc, missing_required_key);
        tcase_add_test(tc, empty_and_missing_file);
        tcase_add_test(tc, yaml_syntax_error);
        tcase_add_test(tc, alias_rejected);
        tcase_add_test(tc, tag_and_documents_rejected);
        tcase_add_test(tc, bad_duration);
        tcase_add_test(tc, bad_numbers_and_booleans);
        tcase_add_test(tc, bad_url);
        tcase_add_test(tc, bad_tenant_id_and_names);
        tcase_add_test(tc, unknown_tenant);
        tcase_add_test(tc, from_equals_to);
        tcase_add_test(tc, duplicate_promotion_name);
        tcase_add_test(tc, bad_cron);
        tcase_add_test(tc, bad_timezone);
        tcase_add_test(tc, bad_mode);
        tcase_add_test(tc, bad_on_warnings);
        tcase_add_test(tc, every_setting);
        tcase_add_test(tc, bad_auth_shape);
        tcase_add_test(tc, key_file_missing);
        tcase_add_test(tc, key_file_mode);
        tcase_add_test(tc, key_file_owner);
        tcase_add_test(tc, key_file_content);
        tcase_add_test(tc, credential_without_env);
        tcase_add_test(tc, credential_with_env);
        tcase_add_test(tc, other_paths);
        tcase_add_test(tc, two_errors_one_run);
        tcase_add_test(tc, order_does_not_matter);
        tcase_add_test(tc, no_secret_in_errors);
        tcase_add_test(tc, chain_valid);
        tcase_add_test(tc, chain_errors);
        tcase_add_test(tc, notify_valid);
        tcase_add_test(tc, notify_errors);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run(config_suite());
}
