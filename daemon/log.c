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

size_t log_escape(char *out, size_t outlen, const char *in) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *) in;
        size_t o = 0;

        if (outlen == 0)
                return 0;
        while (*p) {
                char tmp[8];
                const char *piece = tmp;
                size_t n, adv = 1;
                unsigned char c = *p;

                if (c == '\n' || c == '\t' || c == '\r') {
                        tmp[0] = '\\';
                        tmp[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
                        n = 2;
                } else if (c >= 0x20 && c < 0x7f) {
                        piece = (const char *) p;
                        n = 1;
                } else if (c >= 0x80 && (n = utf8_seq_len(p, 4)) > 0) {
                        /* n = 4 is safe on a NUL-terminated string: the check
                         * stops at the first byte that is no continuation */
                        adv = n;
                        if (c == 0xc2 && p[1] < 0xa0) {         /* C1 control */
                                memcpy(tmp, "\\u00", 4);
                                tmp[4] = hex[p[1] >> 4];
                                tmp[5] = hex[p[1] & 15];
                                n = 6;
                        } else
                                piece = (const char *) p;
                } else {                                        /* C0, DEL, invalid byte */
                        tmp[0] = '\\';
                        tmp[1] = 'x';
                        tmp[2] = hex[c >> 4];
                        tmp[3] = hex[c & 15];
                        n = 4;
                }
                if (n >= outlen - o)    /* keep room for the NUL */
                        break;
                memcpy(out + o, piece, n);
                o += n;
                p += adv;
        }
        out[o] = 0;
        return o;
}

/* After vsnprintf cut the text at its buffer's end: drops a UTF-8 sequence
 * the cut left incomplete, so the cut does not show as "\xHH" escapes. */
static void drop_cut_sequence(char *s) {
        size_t l = strlen(s);

        for (size_t back = 1; back <= 3 && back <= l; back++) {
                unsigned char c = (unsigned char) s[l - back];
                if (c < 0x80)
                        return;                 /* ASCII: nothing cut */
                if (c >= 0xc0) {                /* the lead byte of the last sequence */
                        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                        if (want > back)
                                s[l - back] = 0;
                        return;
                }
        }
}

static char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c; }

/* Whether the n bytes at s hold word (lower case), compared ASCII
 * case-insensitively. */
static bool has_word(const char *s, size_t n, const char *word) {
        size_t w = strlen(word);

        for (size_t i = 0; i + w <= n; i++) {
                size_t k = 0;
                while (k < w && ascii_lower(s[i + k]) == word[k])
                        k++;
                if (k == w)
                        return true;
        }
        return false;
}

static bool starts_with_word(const char *s, size_t n, const char *word) {
        return strlen(word) <= n && has_word(s, strlen(word), word);
}

const char *log_redact_curl_line(const char *line, size_t n) {
        if (starts_with_word(line, n, "authorization:"))
                return "Authorization: (redacted)";
        if (starts_with_word(line, n, "cookie:"))
                return "Cookie: (redacted)";
        if (starts_with_word(line, n, "set-cookie:"))
                return "Set-Cookie: (redacted)";
        if (has_word(line, n, "authorization") || has_word(line, n, "rest_api_key") ||
            has_word(line, n, "bearer "))
                return "(a line naming the Authorization header, redacted)";
        if (has_word(line, n, "cookie"))
                return "(a line naming a cookie, redacted)";
        return NULL;
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
        char raw[2048];
        /* "MESSAGE=" and the escaped text: an escape is at most 4 bytes per
         * byte of raw, so the escaping itself never cuts the text. */
        char line[sizeof "MESSAGE=" - 1 + 4 * sizeof raw];
        const size_t mo = sizeof "MESSAGE=" - 1;
        size_t ml;
        va_list ap;
        int saved = errno, l;

        if (prio > log_max)
                return err < 0 ? err : -EIO;

        va_start(ap, fmt);
        l = vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        if (l < 0)
                raw[0] = 0;
        else if ((size_t) l >= sizeof raw)
                drop_cut_sequence(raw);
        if (err < 0) {
                size_t rl = strlen(raw);
                snprintf(raw + rl, sizeof raw - rl, ": %s", strerror(-err));
        }
        memcpy(line, "MESSAGE=", mo);
        ml = log_escape(line + mo, sizeof line - mo, raw);

        if (to_journal) {
                /* Only fields that have a value: empty fields would clutter
                 * `journalctl -o verbose` and match every filter on "". */
                char f[7][1024];
                struct iovec iov[8];
                size_t n = 0, k = 0;
                iov[n].iov_base = line;
                iov[n].iov_len = mo + ml;
                n++;
#define FIELD(name_eq, value) do { \
                size_t _p = strlen(name_eq); \
                memcpy(f[k], name_eq, _p); \
                iov[n].iov_base = f[k]; \
                iov[n].iov_len = _p + log_escape(f[k] + _p, sizeof f[k] - _p, (value)); \
                n++, k++; \
        } while (0)
                char pr[16];
                snprintf(pr, sizeof pr, "%d", prio);
                FIELD("PRIORITY=", pr);
                FIELD("SYSLOG_IDENTIFIER=", log_ident);
                if (msgid)
                        FIELD("MESSAGE_ID=", msgid);
                if (c && c->job)
                        FIELD("DEV2PROD_JOB=", c->job);
                if (c && c->promotion)
                        FIELD("DEV2PROD_PROMOTION=", c->promotion);
                if (c && c->step)
                        FIELD("DEV2PROD_STEP=", c->step);
                if (c && c->tenant)
                        FIELD("DEV2PROD_TENANT=", c->tenant);
#undef FIELD
                sd_journal_sendv(iov, (int) n);
        } else {
                static const char *const lvl[] = {
                        [LOG_EMERG] = "emergency: ", [LOG_ALERT] = "alert: ", [LOG_CRIT] = "critical: ",
                        [LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
                        [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
                };
                char job[512], step[256];
                if (c && c->job)
                        log_escape(job, sizeof job, c->job);
                if (c && c->step)
                        log_escape(step, sizeof step, c->step);
                fprintf(stderr, "%s: %s%s%s%s%s%s%s\n", log_ident, lvl[prio & 7],
                        c && c->job ? "[" : "", c && c->job ? job : "", c && c->job ? "] " : "",
                        c && c->step ? step : "", c && c->step ? ": " : "", line + mo);
        }
        errno = saved;
        return err < 0 ? err : -EIO;
}
