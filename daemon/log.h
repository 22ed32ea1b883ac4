/* log.h — one logging path for the daemon and the tools.
 *
 * Under systemd (stderr connected to the journal, see $JOURNAL_STREAM) a
 * line goes to sd_journal_send with structured fields an operator can filter
 * on; in a terminal it goes to stderr as one readable line:
 *   "dev2prodd: [forms-nightly-20261128T023000Z] export: export of package 54321 requested ..."
 *   "dev2prodd: warning: [forms-nightly-20261128T023000Z] upload: HTTP 503: ...; try 2 of 6 in 1s"
 * Secrets must never reach these functions: callers log ids, never keys.
 * Every line is escaped on the way out (log_escape): server text in a
 * message cannot start a new line, move the cursor or colour a terminal,
 * and MESSAGE= is always one line of valid UTF-8.
 */
#ifndef DEV2PROD_LOG_H
#define DEV2PROD_LOG_H

#include <syslog.h>
#include "util.h"

/* Fixed MESSAGE_IDs (see systemd/dev2prodd.catalog). */
#define MSGID_JOB_STARTED   "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c31"
#define MSGID_STEP_DONE     "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c32"
#define MSGID_JOB_SUCCEEDED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c33"
#define MSGID_JOB_FAILED    "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c34"
#define MSGID_DRYRUN_REJECTED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c35"
#define MSGID_AWAITING_APPROVAL "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c3a"
#define MSGID_JOB_DECIDED   "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c3b"  /* approved or rejected */
#define MSGID_JOB_RESOLVED  "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c3c"
#define MSGID_NOTIFY_FAILED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c40"
#define MSGID_CHAIN_STOPPED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c41"
#define MSGID_METRICS_WRITE "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c42"  /* cannot write, or written again */
#define MSGID_HISTORY_PRUNED "6b1f3c2a9d4e4f0a8c7b5e2d1a0f9c43"

struct log_ctx {
        const char *job;        /* DEV2PROD_JOB= */
        const char *promotion;  /* DEV2PROD_PROMOTION= */
        const char *step;       /* DEV2PROD_STEP= */
        const char *tenant;     /* DEV2PROD_TENANT= */
};

/* Copies the string in to out (outlen bytes, always NUL-terminated when
 * outlen > 0) as one printable line of valid UTF-8:
 *   '\n' '\t' '\r' -> the two characters "\n" "\t" "\r";
 *   other C0 bytes (0x01-0x1f) and DEL (0x7f) -> "\xHH" (ESC is "\x1b");
 *   each byte that does not start a valid UTF-8 sequence (stray
 *   continuation bytes, 0xc0/0xc1/0xf5-0xff, overlong forms, surrogates,
 *   code points over U+10FFFF, a sequence cut short) -> "\xHH";
 *   C1 controls U+0080-U+009F (0xc2 0x80-0x9f, which some terminals obey
 *   as escape sequences) -> "\u0080".."\u009f";
 *   every other valid UTF-8 character is copied unchanged; a backslash
 *   is copied as it is.
 * When out is too small, the copy stops before the first character or
 * escape that does not fit whole: never half a character, never half an
 * escape.  Returns the bytes written, the NUL excluded. */
size_t log_escape(char *out, size_t outlen, const char *in);

/* The redaction rule for libcurl's debug account (CURLOPT_DEBUGFUNCTION),
 * fail-closed: given one line (n bytes, no line end, may hold any byte),
 * returns the fixed text to log instead of it, or NULL when it may be
 * logged (escaped) as it is.  A line that names a credential in any
 * format libcurl uses - the HTTP/1 header dump "Authorization: ...", the
 * HTTP/2 text lines "h2h3 [authorization: ...]" (7.88) and
 * "[HTTP/2] [1] [authorization: ...]" (8.x), "Proxy-Authorization",
 * anything else - is caught by its words: "authorization", "rest_api_key",
 * "bearer " or "cookie" anywhere in it, in any case.  A line that starts
 * with the header name ("Authorization:", "Cookie:", "Set-Cookie:") keeps
 * that name in the replacement, e.g. "Authorization: (redacted)". */
const char *log_redact_curl_line(const char *line, size_t n);

void log_open(const char *ident);
void log_set_max_level(int prio);
int log_get_max_level(void);
/* Returns -err when err < 0 so callers can `return log_error_errno(r, ...)`. */
int log_full(int prio, int err, const struct log_ctx *ctx, const char *msgid,
             const char *fmt, ...) _printf_(5, 6);

#define log_debug(...)  log_full(LOG_DEBUG, 0, NULL, NULL, __VA_ARGS__)
#define log_info(...)   log_full(LOG_INFO, 0, NULL, NULL, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, NULL, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, NULL, NULL, __VA_ARGS__)
#define log_error(...)  log_full(LOG_ERR, 0, NULL, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_ERR, (e), NULL, NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), NULL, NULL, __VA_ARGS__)

#endif
