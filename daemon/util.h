/* util.h — small helpers shared by every module.
 *
 * Error convention (the whole code base): functions that can fail return
 * an int, >= 0 on success and a negative errno on failure (as systemd
 * does).  -EINVAL means "bad input", -EPROTO "server said something we
 * cannot use", -EIO "transport failure".  A function that logs the error
 * it returns says so in its header comment.  Allocation failure aborts
 * (xmalloc): a daemon that cannot allocate 100 bytes cannot do anything
 * useful, and recovering would leave half-built state behind.
 */
#ifndef DEV2PROD_UTIL_H
#define DEV2PROD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

static inline void freep(void *p) { free(*(void **)p); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
void closep(int *fd);
#define _cleanup_free_ _cleanup_(freep)
/* Hands a _cleanup_ pointer on: returns it and leaves NULL behind. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}
static inline const char *strempty(const char *s) { return s ? s : ""; }

/* FNV-1a of a NUL-terminated string. */
size_t str_hash(const char *s);

/* A set of strings the caller keeps alive (open addressing): for lookups
 * that a loop over many names would otherwise make O(n²). */
struct strset {
        const char **v;
        size_t n, cap;
};
void strset_add(struct strset *s, const char *name);
bool strset_has(const struct strset *s, const char *name);
void strset_free(struct strset *s);

/* Growable byte buffer; always NUL-terminated so yajl can parse it. */
struct buf {
        char *data;
        size_t len, cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* "500ms", "15s", "10m", "2h", "1d", also combinations like "1h30m".
 * A bare number is refused (ambiguous).  Returns -EINVAL on bad input,
 * -ERANGE on overflow. */
int parse_duration(const char *s, uint64_t *ret_usec);
/* Inverse, for messages: "2h", "1m30s", "500ms".  Returns buf. */
char *format_duration(char *buf, size_t n, uint64_t usec);
/* DURATION_EXACT is format_duration; DURATION_SPAN is a span for people,
 * the two largest adjacent units: "2min 13s", "4h 12min", "1d 3h", "350ms". */
enum duration_style { DURATION_EXACT, DURATION_SPAN };
char *format_duration_style(char *buf, size_t n, uint64_t usec, enum duration_style style);
/* Checked unsigned integer (no sign, no trailing junk). */
int parse_uint(const char *s, unsigned long long max, unsigned long long *ret);

uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);
/* "2026-11-28T02:30:00Z" (UTC) into buf. */
char *format_timestamp_utc(char *buf, size_t n, uint64_t usec);

/* File helpers. read_file_small refuses files larger than max. */
int read_file_small(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes data to path atomically: temp file in the same folder
 * (O_CREAT|O_EXCL, mode 0640: owner and the service's group, whatever the
 * umask; job files and schedule.json hold no secret), write, fsync, rename,
 * fsync the folder.  The temp file is removed on failure. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* The same without the last step: the new content is in place, but the
 * rename survives a power loss only once the caller has synced the folder
 * (fsync_dir), which several replacements can share (commit.h). */
int write_file_replace(const char *path, const void *data, size_t len);
/* All of data to fd (short writes and EINTR continued). */
int write_all(int fd, const void *data, size_t len);
/* Makes the names in dir (creations, renames, removals) durable. */
int fsync_dir(const char *dir);
/* Creates path and its missing parents with exactly mode (chmod after
 * mkdir, so the umask does not narrow it); existing folders are left as
 * they are. */
int mkdir_p(const char *path, unsigned mode);
/* This boot's id (/proc/sys/kernel/random/boot_id, read once), or NULL. */
const char *boot_id(void);

/* Lower-case hex of n bytes into out (2n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Text a server sent, made fit to store and to log: at most max bytes
 * (cut on a character boundary), valid UTF-8 (each byte of an invalid
 * sequence becomes U+FFFD), control characters (C0, DEL, C1) as spaces.
 * Every string an answer gives us passes through here before it is kept,
 * so a job file can always be written and read back and a log line cannot
 * be forged.  NULL in, NULL out. */
char *text_clean(const char *s, size_t len, size_t max);
static inline char *text_clean_str(const char *s, size_t max) { return s ? text_clean(s, strlen(s), max) : NULL; }
/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Overwrites a secret before freeing it, so it does not linger in freed
 * heap that a later core could show. */
void secret_free(char *s);

#endif
