/* log.c — see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "dev2prodd";
static int log_max = LOG_INFO;
static bool to_journal;

/* stderr is the journal when $JOURNAL_STREAM names its device:inode (the
 * documented way to detect it); then structured fields are worth sending. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_open(const char *ident) {
        if (ident)
                log_ident = ident;
        to_journal = stderr_is_journal();
        if (getenv("DEV2PRODD_LOG_LEVEL") && streq(getenv("DEV2PRODD_LOG_LEVEL"), "debug"))
                log_max = LOG_DEBUG;
}

void log_set_max_level(int prio) { log_max = prio; }
int log_get_max_level(void) { return log_max; }

int log_full(int prio, int err, const struct log_ctx *c, const char *msgid, const char *fmt, ...) {
        char msg[2048];
        va_list ap;
        int saved = errno;

        if (prio > log_max)
                return err < 0 ? err : -EIO;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (err < 0) {
                size_t l = strlen(msg);
                snprintf(msg + l, sizeof msg - l, ": %s", strerror(-err));
        }

        if (to_journal) {
                /* Only fields that have a value: empty fields would clutter
                 * `journalctl -o verbose` and match every filter on "". */
                char f[8][2200];
                struct iovec iov[8];
                size_t n = 0;
#define FIELD(...) do { \
                int _l = snprintf(f[n], sizeof f[n], __VA_ARGS__); \
                iov[n].iov_base = f[n]; iov[n].iov_len = (size_t) MIN(_l, (int) sizeof f[n] - 1); n++; \
        } while (0)
                FIELD("MESSAGE=%s", msg);
                FIELD("PRIORITY=%d", prio);
                FIELD("SYSLOG_IDENTIFIER=%s", log_ident);
                if (msgid)
                        FIELD("MESSAGE_ID=%s", msgid);
                if (c && c->job)
                        FIELD("DEV2PROD_JOB=%s", c->job);
                if (c && c->promotion)
                        FIELD("DEV2PROD_PROMOTION=%s", c->promotion);
                if (c && c->step)
                        FIELD("DEV2PROD_STEP=%s", c->step);
                if (c && c->tenant)
                        FIELD("DEV2PROD_TENANT=%s", c->tenant);
#undef FIELD
                sd_journal_sendv(iov, (int) n);
        } else {
                static const char *const lvl[] = {
                        [LOG_EMERG] = "emergency: ", [LOG_ALERT] = "alert: ", [LOG_CRIT] = "critical: ",
                        [LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
                        [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
                };
                fprintf(stderr, "%s: %s%s%s%s%s%s%s\n", log_ident, lvl[prio & 7],
                        c && c->job ? "[" : "", c && c->job ? c->job : "", c && c->job ? "] " : "",
                        c && c->step ? c->step : "", c && c->step ? ": " : "", msg);
        }
        errno = saved;
        return err < 0 ? err : -EIO;
}
