/* Unit tests of the judge (daemon/judge.h, issue 9).
 *
 * The judge lets an irreversible import follow a dry run, so it is held to
 * a second reading of its rules (tests/unit/judge-rules.md, restated in
 * README "How a job runs"): the reference checker below was written from
 * those rules alone, without looking at daemon/judge.c, and works another
 * way (yajl's event parser, its own stack of containers, its own decoding
 * of strings, numbers judged from their token text).  Tens of thousands of
 * generated answers go through both; a difference in verdict fails with
 * the seed, the case number, the body and both reasons, to be settled from
 * the rules.  Hand-written cases from the issue pin both readings down.
 *
 * `test_judge --emit N DIR` writes N generated import-status answers and
 * their verdicts for the end-to-end test instead (see emit()).
 *
 * Environment: JUDGE_GEN_N answers per function (default 20000; lower it
 * under valgrind), JUDGE_SEED the generator's seed (default fixed),
 * JUDGE_SHOW how many disagreements of each kind to print (default 2).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>

#include "check_run.h"
#include "judge.h"

/* the ids the generated answers should carry */
#define OPID    "5f1e0c9ab7d34e2a9c0b1d2e"              /* the import polled */
#define FILEID  "0b9d3c6e-2f41-4c7a-9e85-3d1f2a6b7c40"  /* the file uploaded */
#define EXPID   "6797556be4b0c05084915394"              /* the export polled */
#define EXPFILE "c7e87b89-f214-4766-8032-bba6967e1c49"  /* its file */
#define NEWID   "66fabdf1e4b06908b04d4051"              /* a created id */

#define MAX_LEN   ((size_t) 8 * 1024 * 1024)
#define MAX_DEPTH 1000
#define MAX_ID    256

/* G says "a NUL byte anywhere is not JSON".  Read here as the body's bytes:
 * "\u0000" inside a string is RFC 8259 JSON, and the string then holds
 * U+0000 (so it equals no key, id or status word that lacks it).  The rules
 * can be read the other way (any string holding U+0000 is GARBLED); if they
 * are settled so, this is the one place to change, the hand-written cases
 * follow it. */
#define ESCAPED_NUL_IS_GARBLED true

/* ---- small helpers ----------------------------------------------------- */

static void *xm(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                abort();
        return p;
}

static void *xr(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                abort();
        return p;
}

static char *xdup(const char *s, size_t n)
{
        char *p = xm(n + 1);
        if (n)
                memcpy(p, s, n);
        p[n] = 0;
        return p;
}

static char *fmt(const char *f, ...) _printf_(1, 2);
static char *fmt(const char *f, ...)
{
        va_list ap;
        char *s;
        va_start(ap, f);
        if (vasprintf(&s, f, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

/* A growable text that may hold NUL bytes; p is always NUL-terminated. */
struct sb {
        char *p;
        size_t len, cap;
};

static void sb_put(struct sb *b, const void *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->p = xr(b->p, b->cap);
        }
        if (n)
                memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = 0;
}

static void sb_puts(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_putc(struct sb *b, char c) { sb_put(b, &c, 1); }

static void sb_printf(struct sb *b, const char *f, ...) _printf_(2, 3);
static void sb_printf(struct sb *b, const char *f, ...)
{
        va_list ap;
        char *s;
        va_start(ap, f);
        int n = vasprintf(&s, f, ap);
        va_end(ap);
        if (n < 0)
                abort();
        sb_put(b, s, (size_t) n);
        free(s);
}

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* ASCII case-insensitive equality of two byte strings (other bytes exact) */
static bool ci_eqn(const char *a, size_t an, const char *b, size_t bn)
{
        if (an != bn)
                return false;
        for (size_t i = 0; i < an; i++)
                if (lc((unsigned char) a[i]) != lc((unsigned char) b[i]))
                        return false;
        return true;
}

static bool ci_is(const char *a, size_t an, const char *lit) { return ci_eqn(a, an, lit, strlen(lit)); }

static bool ci_has(const char *h, size_t hn, const char *needle)
{
        size_t nn = strlen(needle);
        for (size_t i = 0; i + nn <= hn; i++)
                if (ci_eqn(h + i, nn, needle, nn))
                        return true;
        return false;
}

/* Length of the UTF-8 sequence at p, 0 if it is not one RFC 3629 allows
 * (no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
        size_t k;
        uint32_t cp, min;
        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                k = 2, cp = p[0] & 0x1F, min = 0x80;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF)
                k = 3, cp = p[0] & 0x0F, min = 0x800;
        else if (p[0] >= 0xF0 && p[0] <= 0xF4)
                k = 4, cp = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (n < k)
                return 0;
        for (size_t i = 1; i < k; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return k;
}

static bool utf8_valid(const char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                size_t k = utf8_seq((const unsigned char *) s + i, n - i);
                if (!k)
                        return false;
                i += k;
        }
        return true;
}

static const char *vname(int v)
{
        static const char *const names[] = {
                [JUDGE_RUNNING] = "RUNNING", [JUDGE_CLEAN] = "CLEAN", [JUDGE_FAILED] = "FAILED",
                [JUDGE_UNREADABLE] = "UNREADABLE", [JUDGE_GARBLED] = "GARBLED",
        };
        return v >= 0 && v < (int) ELEMENTSOF(names) ? names[v] : "(no verdict)";
}

/* A body for a failure message: printable ASCII, the rest as \xNN. */
static void show(FILE *f, const char *s, size_t n)
{
        size_t lim = n < 6000 ? n : 6000;
        for (size_t i = 0; i < lim; i++) {
                unsigned char c = s[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        fputc(c, f);
                else if (c == '\\')
                        fputs("\\\\", f);
                else
                        fprintf(f, "\\x%02x", c);
        }
        if (lim < n)
                fprintf(f, "... (%zu bytes in all)", n);
}

/* A key or value as printable ASCII, for the checker's reasons. */
static char *shown(const char *p, size_t n)
{
        struct sb b = {0};
        sb_putc(&b, '"');
        for (size_t i = 0; i < n && i < 60; i++) {
                unsigned char c = p[i];
                if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                        sb_putc(&b, (char) c);
                else
                        sb_printf(&b, "\\x%02x", c);
        }
        sb_puts(&b, n > 60 ? "...\"" : "\"");
        return b.p;
}

/* ---- the reference checker ----------------------------------------------
 *
 * One pass of yajl's event parser over the text.  A stack of open
 * containers says where each event happens: every container gets a role
 * from its parent's role and the key it sits under (the top-level object,
 * its "Totals" object, its "Results" array, an object element of that
 * array, such an element's "Statistics" object, its "Errors"/"Warnings"
 * arrays and whatever they contain).  The facts the rules ask about are
 * recorded as the events pass; the verdict is decided afterwards, rule by
 * rule in the order of the specification.  yajl is used only for the
 * grammar: strings are decoded again from the text (see ck_string), and
 * the checks yajl does not make (NUL, length, depth, whitespace, UTF-8)
 * are made here. */

enum vt { VT_NULL, VT_BOOL, VT_NUM, VT_STR, VT_OBJ, VT_ARR };
enum ck_mode { CM_IMPORT, CM_EXPORT, CM_CREATED };
enum role { R_OTHER, R_TOP, R_TOTALS, R_RESULTS, R_ELEM, R_STATS, R_FIND, R_INFIND };

struct bytes {
        char *p;
        size_t n;
};

struct frame {
        bool obj;
        enum role role;
        bool warnings;                  /* R_FIND: the "Warnings" array, else "Errors" */
        struct bytes *keys;             /* objects: every key so far (U1) */
        size_t nkeys, ckeys;
        size_t nelem;                   /* arrays: values so far */
        /* R_TOTALS and R_STATS */
        bool bad_member, has_failed, failed_pos;
        char *bad_why;
        /* R_ELEM */
        bool pkg, pkg_str, stats, stats_obj, errs, errs_arr, warns, warns_arr;
        bool st_bad, st_failed, st_failed_pos;  /* what its Statistics object held */
        size_t nerrs, nwarns;
};

struct field {
        bool present;
        enum vt t;
        bool b;
        struct bytes s;                 /* VT_STR: the decoded bytes */
};

struct ck {
        enum ck_mode mode;
        const char *text;
        size_t len;
        yajl_handle h;
        size_t scan;                    /* where the next string token's quote is looked for */
        struct frame *st;
        size_t depth, cst;
        bool top_seen;
        const char *garbled;            /* rule G fired: why */
        char *internal;                 /* the checker itself went wrong: why */
        char *dup, *badkey;             /* U1, U6: why */
        char *totals_why, *results_why; /* U7, U8 (the parts found while parsing) */
        struct field status, id, fileid, dryrun, totals, results;
        bool totals_failed, totals_failed_pos;
        bool any_failed_pos, any_errors, any_warnings;
        struct bytes str;               /* the string just decoded */
        size_t str_cap;
        bool lone;                      /* it held an unpaired surrogate escape */
};

struct verdict {
        enum judgement v;
        char *why;
        char *id;                       /* CLEAN export status or created answer: the id */
        bool internal;                  /* the checker went wrong: a test failure by itself */
};

static bool ck_internal(struct ck *k, char *why)
{
        if (!k->internal)
                k->internal = why;
        else
                free(why);
        return false;
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static long hex4(const char *p, size_t avail)
{
        long v = 0;
        if (avail < 4)
                return -1;
        for (int i = 0; i < 4; i++) {
                int h = hexval((unsigned char) p[i]);
                if (h < 0)
                        return -1;
                v = v << 4 | h;
        }
        return v;
}

static void str_put(struct ck *k, const void *p, size_t n)
{
        if (k->str.n + n + 1 > k->str_cap) {
                k->str_cap = (k->str.n + n + 1) * 2;
                k->str.p = xr(k->str.p, k->str_cap);
        }
        memcpy(k->str.p + k->str.n, p, n);
        k->str.n += n;
        k->str.p[k->str.n] = 0;
}

/* UTF-8 of a code point; a surrogate gets the same three-byte form, so an
 * unpaired one stays visible (and never passes for printable ASCII). */
static size_t utf8_put(unsigned char *o, uint32_t cp)
{
        if (cp < 0x80) {
                o[0] = (unsigned char) cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (unsigned char) (0xC0 | cp >> 6);
                o[1] = (unsigned char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (unsigned char) (0xE0 | cp >> 12);
                o[1] = (unsigned char) (0x80 | (cp >> 6 & 0x3F));
                o[2] = (unsigned char) (0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (unsigned char) (0xF0 | cp >> 18);
        o[1] = (unsigned char) (0x80 | (cp >> 12 & 0x3F));
        o[2] = (unsigned char) (0x80 | (cp >> 6 & 0x3F));
        o[3] = (unsigned char) (0x80 | (cp & 0x3F));
        return 4;
}

/* yajl hands over a string (key or value) decoded; the checker decodes the
 * token again from the text, because yajl turns an unpaired surrogate
 * escape into "?" or into surrogate bytes and pairs "\ud800\u0041" as if
 * the second were a low surrogate: an id written that way would look like
 * another, usable one.  The token ends just before yajl's offset; it starts
 * at the first quote after the previous string (only strings hold quotes).
 * Where no surrogate is unpaired the two decodings must agree. */
static bool ck_string(struct ck *k, const unsigned char *ys, size_t yn)
{
        const char *t = k->text;
        size_t end = yajl_get_bytes_consumed(k->h);
        if (end < 2 || end > k->len || t[end - 1] != '"')
                return ck_internal(k, fmt("string token does not end at offset %zu", end));
        size_t q = k->scan;
        while (q < end - 1 && t[q] != '"')
                q++;
        if (q >= end - 1)
                return ck_internal(k, fmt("no opening quote before offset %zu", end));
        k->str.n = 0;
        str_put(k, "", 0);
        k->lone = false;
        for (size_t i = q + 1; i < end - 1;) {
                unsigned char o[4];
                if (t[i] != '\\') {
                        str_put(k, t + i, 1);
                        i++;
                        continue;
                }
                char e = t[i + 1], c;
                i += 2;
                switch (e) {
                case '"': case '\\': case '/': c = e; break;
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'u': {
                        long u = hex4(t + i, end - 1 - i);
                        if (u < 0)
                                return ck_internal(k, fmt("bad \\u escape at offset %zu", i));
                        i += 4;
                        if (u >= 0xD800 && u <= 0xDBFF && i + 6 <= end - 1 && t[i] == '\\' && t[i + 1] == 'u') {
                                long lo = hex4(t + i + 2, 4);
                                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                                        str_put(k, o, utf8_put(o, (uint32_t) (0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00))));
                                        i += 6;
                                        continue;
                                }
                        }
                        if (u >= 0xD800 && u <= 0xDFFF)
                                k->lone = true;
                        str_put(k, o, utf8_put(o, (uint32_t) u));
                        continue;
                }
                default:
                        return ck_internal(k, fmt("bad escape at offset %zu", i - 2));
                }
                str_put(k, &c, 1);
        }
        k->scan = end;
        if (ESCAPED_NUL_IS_GARBLED && memchr(k->str.p, 0, k->str.n)) {
                k->garbled = "a string holds U+0000";
                return false;
        }
        /* Settled for the judge: a \u escape of a lone surrogate has no
         * reading two parsers agree on (yajl makes "?" of it), so the text
         * is not accepted, like U+0000 (judge-rules rule G). */
        if (k->lone) {
                k->garbled = "a \\u escape of a lone surrogate";
                return false;
        }
        if (!k->lone && (k->str.n != yn || (yn && memcmp(k->str.p, ys, yn) != 0)))
                return ck_internal(k, fmt("the string ending at offset %zu decodes otherwise in yajl", end));
        return true;
}

/* "non-negative integer", from the token text: no fraction, no exponent,
 * 0 .. 2^63-1, "-0" being 0. */
static bool nonneg_int(const char *s, size_t n, bool *positive)
{
        *positive = false;
        if (n == 0 || memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
                return false;
        if (s[0] == '-')
                return n == 2 && s[1] == '0';
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        if (n > 1 && s[0] == '0')
                return false;           /* not JSON; yajl refuses it before */
        if (n > 19 || (n == 19 && memcmp(s, "9223372036854775807", 19) > 0))
                return false;
        *positive = !(n == 1 && s[0] == '0');
        return true;
}

static const struct bytes *cur_key(const struct frame *f)
{
        return f->obj && f->nkeys ? &f->keys[f->nkeys - 1] : NULL;
}

static bool key_is(const struct bytes *key, const char *lit) { return key && ci_is(key->p, key->n, lit); }

static struct field *top_field(struct ck *k, const struct bytes *key)
{
        if (key_is(key, "Status"))
                return &k->status;
        if (key_is(key, "id"))
                return &k->id;
        if (key_is(key, "FileId"))
                return &k->fileid;
        if (key_is(key, "DryRun"))
                return &k->dryrun;
        if (key_is(key, "Totals"))
                return &k->totals;
        if (key_is(key, "Results"))
                return &k->results;
        return NULL;
}

/* Every value, scalar or container, as it begins: facts for its parent. */
static int ck_value(struct ck *k, enum vt t, const char *s, size_t n, bool b)
{
        if (k->depth == 0) {
                k->top_seen = true;
                if (t != VT_OBJ) {
                        k->garbled = "the top level is not an object";
                        return 0;
                }
                return 1;
        }
        struct frame *p = &k->st[k->depth - 1];
        if (!p->obj) {
                p->nelem++;
                if (p->role == R_RESULTS && t != VT_OBJ && !k->results_why)
                        k->results_why = fmt("Results[%zu] is not an object", p->nelem - 1);
                return 1;
        }
        const struct bytes *key = cur_key(p);
        bool pos;
        switch (p->role) {
        case R_TOP: {
                struct field *f = top_field(k, key);
                if (f) {
                        free(f->s.p);
                        *f = (struct field) {.present = true, .t = t, .b = b};
                        if (t == VT_STR)
                                f->s = (struct bytes) {xdup(s, n), n};
                }
                break;
        }
        case R_TOTALS:
        case R_STATS:
                if (!(t == VT_NUM && nonneg_int(s, n, &pos))) {
                        pos = false;
                        if (!p->bad_member) {
                                char *ks = shown(key->p, key->n);
                                p->bad_why = fmt("member %s is not a non-negative integer", ks);
                                free(ks);
                        }
                        p->bad_member = true;
                }
                if (key_is(key, "Failed")) {
                        p->has_failed = true;
                        p->failed_pos = p->failed_pos || pos;
                }
                break;
        case R_ELEM:
                if (key_is(key, "PackageName"))
                        p->pkg = true, p->pkg_str = t == VT_STR;
                else if (key_is(key, "Statistics"))
                        p->stats = true, p->stats_obj = t == VT_OBJ;
                else if (key_is(key, "Errors"))
                        p->errs = true, p->errs_arr = t == VT_ARR;
                else if (key_is(key, "Warnings"))
                        p->warns = true, p->warns_arr = t == VT_ARR;
                break;
        default:
                break;
        }
        return 1;
}

static enum role child_role(const struct ck *k, bool obj, bool *warnings)
{
        *warnings = false;
        if (k->depth == 0)
                return R_TOP;
        const struct frame *p = &k->st[k->depth - 1];
        const struct bytes *key = cur_key(p);
        switch (p->role) {
        case R_TOP:
                if (obj && key_is(key, "Totals"))
                        return R_TOTALS;
                if (!obj && key_is(key, "Results"))
                        return R_RESULTS;
                return R_OTHER;
        case R_RESULTS:
                return obj ? R_ELEM : R_OTHER;
        case R_ELEM:
                if (obj && key_is(key, "Statistics"))
                        return R_STATS;
                if (!obj && key_is(key, "Errors"))
                        return R_FIND;
                if (!obj && key_is(key, "Warnings")) {
                        *warnings = true;
                        return R_FIND;
                }
                return R_OTHER;
        case R_FIND:
        case R_INFIND:
                return R_INFIND;
        default:
                return R_OTHER;
        }
}

static int ck_open(struct ck *k, bool obj)
{
        if (!ck_value(k, obj ? VT_OBJ : VT_ARR, NULL, 0, false))
                return 0;
        if (k->depth >= MAX_DEPTH) {
                k->garbled = "nesting deeper than 1000";
                return 0;
        }
        if (k->depth == k->cst) {
                k->cst = k->cst ? 2 * k->cst : 16;
                k->st = xr(k->st, k->cst * sizeof *k->st);
        }
        bool warnings;
        enum role r = child_role(k, obj, &warnings);
        k->st[k->depth++] = (struct frame) {.obj = obj, .role = r, .warnings = warnings};
        return 1;
}

static void frame_free(struct frame *f)
{
        for (size_t i = 0; i < f->nkeys; i++)
                free(f->keys[i].p);
        free(f->keys);
        free(f->bad_why);
}

static bool exempt(const struct ck *k, const struct frame *f, const char *s, size_t n)
{
        if (k->mode != CM_IMPORT)
                return false;
        switch (f->role) {
        case R_TOTALS:
        case R_STATS:
                return ci_is(s, n, "Failed");
        case R_ELEM:
                return ci_is(s, n, "Errors") || ci_is(s, n, "Warnings");
        case R_INFIND:
                return true;
        default:
                return false;
        }
}

static int ck_key(struct ck *k, const char *s, size_t n)
{
        struct frame *f = &k->st[k->depth - 1];
        for (size_t i = 0; i < f->nkeys && !k->dup; i++)
                if (ci_eqn(f->keys[i].p, f->keys[i].n, s, n)) {
                        char *a = shown(f->keys[i].p, f->keys[i].n), *b = shown(s, n);
                        k->dup = fmt("an object at depth %zu holds %s and %s", k->depth, a, b);
                        free(a);
                        free(b);
                }
        if (f->nkeys == f->ckeys) {
                f->ckeys = f->ckeys ? 2 * f->ckeys : 8;
                f->keys = xr(f->keys, f->ckeys * sizeof *f->keys);
        }
        f->keys[f->nkeys++] = (struct bytes) {xdup(s, n), n};
        if (!k->badkey && (ci_has(s, n, "error") || ci_has(s, n, "fail") || ci_has(s, n, "warn")) &&
            !exempt(k, f, s, n)) {
                char *a = shown(s, n);
                k->badkey = fmt("key %s at depth %zu", a, k->depth);
                free(a);
        }
        return 1;
}

static int ck_close(struct ck *k)
{
        struct frame *f = &k->st[--k->depth];
        struct frame *p = k->depth ? &k->st[k->depth - 1] : NULL;
        switch (f->role) {
        case R_TOTALS:
                if (f->bad_member && !k->totals_why)
                        k->totals_why = fmt("Totals: %s", f->bad_why);
                k->totals_failed = f->has_failed;
                k->totals_failed_pos = f->failed_pos;
                break;
        case R_STATS:
                p->st_bad = f->bad_member;
                p->st_failed = f->has_failed;
                p->st_failed_pos = f->failed_pos;
                break;
        case R_FIND:
                if (f->warnings)
                        p->nwarns = f->nelem;
                else
                        p->nerrs = f->nelem;
                break;
        case R_ELEM: {
                const char *bad = NULL;
                if (!f->pkg || !f->pkg_str)
                        bad = "PackageName missing or not a string";
                else if (!f->stats || !f->stats_obj)
                        bad = "Statistics missing or not an object";
                else if (f->st_bad)
                        bad = "Statistics has a member that is not a non-negative integer";
                else if (!f->st_failed)
                        bad = "Statistics has no Failed";
                else if (!f->errs || !f->errs_arr)
                        bad = "Errors missing or not an array";
                else if (!f->warns || !f->warns_arr)
                        bad = "Warnings missing or not an array";
                if (bad && !k->results_why)
                        k->results_why = fmt("Results[%zu]: %s", p->nelem - 1, bad);
                k->any_failed_pos = k->any_failed_pos || f->st_failed_pos;
                k->any_errors = k->any_errors || f->nerrs;
                k->any_warnings = k->any_warnings || f->nwarns;
                break;
        }
        default:
                break;
        }
        frame_free(f);
        return 1;
}

static int cb_null(void *c) { return ck_value(c, VT_NULL, NULL, 0, false); }
static int cb_boolean(void *c, int b) { return ck_value(c, VT_BOOL, NULL, 0, b != 0); }
static int cb_number(void *c, const char *s, size_t n) { return ck_value(c, VT_NUM, s, n, false); }
static int cb_start_map(void *c) { return ck_open(c, true); }
static int cb_start_array(void *c) { return ck_open(c, false); }
static int cb_end(void *c) { return ck_close(c); }

static int cb_string(void *c, const unsigned char *s, size_t n)
{
        struct ck *k = c;
        return ck_string(k, s, n) && ck_value(k, VT_STR, k->str.p, k->str.n, false);
}

static int cb_map_key(void *c, const unsigned char *s, size_t n)
{
        struct ck *k = c;
        return ck_string(k, s, n) && ck_key(k, k->str.p, k->str.n);
}

/* What yajl lets through and RFC 8259 does not: invalid UTF-8 (overlong
 * forms, surrogates, beyond U+10FFFF) and \v or \f between tokens. */
static const char *prescan(const char *t, size_t n)
{
        bool in = false;
        for (size_t i = 0; i < n;) {
                unsigned char c = t[i];
                if (c >= 0x80) {
                        size_t k = utf8_seq((const unsigned char *) t + i, n - i);
                        if (!k)
                                return "invalid UTF-8";
                        i += k;
                        continue;
                }
                if (in && c == '\\') {
                        i += 2;
                        continue;
                }
                if (c == '"')
                        in = !in;
                else if (!in && (c == '\v' || c == '\f'))
                        return "whitespace RFC 8259 does not allow";
                i++;
        }
        return NULL;
}

static void ck_run(struct ck *k, enum ck_mode mode, const char *body, size_t len)
{
        static const yajl_callbacks cbs = {
                .yajl_null = cb_null, .yajl_boolean = cb_boolean, .yajl_number = cb_number,
                .yajl_string = cb_string, .yajl_start_map = cb_start_map, .yajl_map_key = cb_map_key,
                .yajl_end_map = cb_end, .yajl_start_array = cb_start_array, .yajl_end_array = cb_end,
        };
        memset(k, 0, sizeof *k);
        k->mode = mode;
        k->text = body;
        k->len = len;
        if (len > MAX_LEN) {
                k->garbled = "longer than 8 MiB";
                return;
        }
        if (strlen(body) != len) {
                k->garbled = "a NUL byte";
                return;
        }
        if ((k->garbled = prescan(body, len)))
                return;
        k->h = yajl_alloc(&cbs, NULL, k);
        if (!k->h)
                abort();
        yajl_config(k->h, yajl_allow_comments, 0);
        yajl_status s = yajl_parse(k->h, (const unsigned char *) body, len);
        if (s == yajl_status_ok)
                s = yajl_complete_parse(k->h);
        if (s != yajl_status_ok && !k->garbled && !k->internal)
                k->garbled = "not JSON";
        if (!k->top_seen && !k->garbled)
                k->garbled = "no value";
        yajl_free(k->h);
}

static void ck_free(struct ck *k)
{
        while (k->depth)
                frame_free(&k->st[--k->depth]);
        free(k->st);
        free(k->internal);
        free(k->dup);
        free(k->badkey);
        free(k->totals_why);
        free(k->results_why);
        struct field *f[] = {&k->status, &k->id, &k->fileid, &k->dryrun, &k->totals, &k->results};
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                free(f[i]->s.p);
        free(k->str.p);
}

/* G, then U1: true when one of them decides */
static bool ck_common(struct ck *k, struct verdict *o)
{
        if (k->internal) {
                o->internal = true;
                o->v = JUDGE_GARBLED;
                o->why = fmt("checker internal error: %s", k->internal);
        } else if (k->garbled) {
                o->v = JUDGE_GARBLED;
                o->why = fmt("G: %s", k->garbled);
        } else if (k->dup) {
                o->v = JUDGE_UNREADABLE;
                o->why = fmt("U1: %s", k->dup);
        } else
                return false;
        return true;
}

static bool field_is(const struct field *f, const char *want)
{
        return f->present && f->t == VT_STR && f->s.n == strlen(want) && memcmp(f->s.p, want, f->s.n) == 0;
}

static bool usable_id(const struct field *f)
{
        if (!f->present || f->t != VT_STR || f->s.n < 1 || f->s.n > MAX_ID)
                return false;
        for (size_t i = 0; i < f->s.n; i++)
                if ((unsigned char) f->s.p[i] < 0x21 || (unsigned char) f->s.p[i] > 0x7E)
                        return false;
        return true;
}

enum sclass { SC_COMPLETED, SC_FAILED, SC_RUNNING };

static enum sclass status_class(const struct bytes *s)
{
        static const char *const failed[] = {"FAILED", "ERROR", "CANCELLED", "CANCELED", "ABORTED"};
        if (ci_is(s->p, s->n, "COMPLETED"))
                return SC_COMPLETED;
        for (size_t i = 0; i < ELEMENTSOF(failed); i++)
                if (ci_is(s->p, s->n, failed[i]))
                        return SC_FAILED;
        return SC_RUNNING;
}

static void set(struct verdict *o, enum judgement v, char *why)
{
        o->v = v;
        o->why = why;
}

static struct verdict ref_import(const char *body, size_t len, const struct judge_rules *r)
{
        struct ck k;
        struct verdict o = {0};
        ck_run(&k, CM_IMPORT, body, len);
        if (ck_common(&k, &o))
                goto done;
        if (!k.status.present || k.status.t != VT_STR) {
                set(&o, JUDGE_UNREADABLE, fmt("U2: Status missing or not a string"));
                goto done;
        }
        if (!field_is(&k.id, r->operation_id)) {
                set(&o, JUDGE_UNREADABLE, fmt("U3: id missing, not a string or not the operation id"));
                goto done;
        }
        if (!field_is(&k.fileid, r->file_id)) {
                set(&o, JUDGE_UNREADABLE, fmt("U4: FileId missing, not a string or not the file id"));
                goto done;
        }
        if (!k.dryrun.present || k.dryrun.t != VT_BOOL || k.dryrun.b != r->dry_run) {
                set(&o, JUDGE_UNREADABLE, fmt("U5: DryRun missing, not a boolean or not %s", r->dry_run ? "true" : "false"));
                goto done;
        }
        if (k.badkey) {
                set(&o, JUDGE_UNREADABLE, fmt("U6: %s", k.badkey));
                goto done;
        }
        switch (status_class(&k.status.s)) {
        case SC_FAILED:
                set(&o, JUDGE_FAILED, fmt("F1: Status says failed"));
                goto done;
        case SC_RUNNING:
                set(&o, JUDGE_RUNNING, NULL);
                goto done;
        case SC_COMPLETED:
                break;
        }
        if (!k.totals.present || k.totals.t != VT_OBJ || k.totals_why || !k.totals_failed) {
                set(&o, JUDGE_UNREADABLE, fmt("U7: %s", k.totals_why ? k.totals_why : "Totals missing, not an object or without Failed"));
                goto done;
        }
        if (!k.results.present || k.results.t != VT_ARR || k.results_why) {
                set(&o, JUDGE_UNREADABLE, fmt("U8: %s", k.results_why ? k.results_why : "Results missing or not an array"));
                goto done;
        }
        if (k.totals_failed_pos || k.any_failed_pos || k.any_errors || (r->warnings_fail && k.any_warnings)) {
                set(&o, JUDGE_FAILED, fmt("F2: failures, errors%s", r->warnings_fail ? " or warnings" : ""));
                goto done;
        }
        set(&o, JUDGE_CLEAN, NULL);
done:
        ck_free(&k);
        return o;
}

static struct verdict ref_export(const char *body, size_t len, const char *export_id)
{
        struct ck k;
        struct verdict o = {0};
        ck_run(&k, CM_EXPORT, body, len);
        if (ck_common(&k, &o))
                goto done;
        if (!k.status.present || k.status.t != VT_STR)
                set(&o, JUDGE_UNREADABLE, fmt("U2: Status missing or not a string"));
        else if (!field_is(&k.id, export_id))
                set(&o, JUDGE_UNREADABLE, fmt("U3: id missing, not a string or not the export id"));
        else if (k.badkey)
                set(&o, JUDGE_UNREADABLE, fmt("U6: %s", k.badkey));
        else if (status_class(&k.status.s) == SC_FAILED)
                set(&o, JUDGE_FAILED, fmt("Status says failed"));
        else if (status_class(&k.status.s) == SC_RUNNING)
                set(&o, JUDGE_RUNNING, NULL);
        else if (!usable_id(&k.fileid))
                set(&o, JUDGE_UNREADABLE, fmt("FileId missing or not a usable id"));
        else {
                set(&o, JUDGE_CLEAN, NULL);
                o.id = xdup(k.fileid.s.p, k.fileid.s.n);
        }
done:
        ck_free(&k);
        return o;
}

static struct verdict ref_created(const char *body, size_t len)
{
        struct ck k;
        struct verdict o = {0};
        ck_run(&k, CM_CREATED, body, len);
        if (ck_common(&k, &o))
                goto done;
        if (k.badkey)
                set(&o, JUDGE_UNREADABLE, fmt("U6: %s", k.badkey));
        else if (!usable_id(&k.id))
                set(&o, JUDGE_UNREADABLE, fmt("Id missing or not a usable id"));
        else {
                set(&o, JUDGE_CLEAN, NULL);
                o.id = xdup(k.id.s.p, k.id.s.n);
        }
done:
        ck_free(&k);
        return o;
}

static void verdict_free(struct verdict *o)
{
        free(o->why);
        free(o->id);
}

/* ---- generated answers -------------------------------------------------- */

struct rng {
        uint64_t s;
};

static uint64_t rnd(struct rng *r)        /* splitmix64 */
{
        uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
}

static size_t rn(struct rng *r, size_t n) { return n ? (size_t) (rnd(r) % n) : 0; }
static bool chance(struct rng *r, unsigned pct) { return rn(r, 100) < pct; }
#define PICK(r, a) ((a)[rn((r), ELEMENTSOF(a))])

/* A JSON value that can hold what a parser would refuse to build: two
 * members with the same key, numbers as arbitrary tokens, strings with NUL
 * bytes or unpaired surrogates (kept as their three bytes, printed as
 * \u escapes). */
enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_OBJ, J_ARR };

struct jv;
struct jm {
        char *k;                        /* J_OBJ members only */
        size_t kn;
        uint32_t kesc;                  /* nonzero: print the key with \u escapes */
        struct jv *v;
};

struct jv {
        enum jt t;
        bool b;
        char *s;                        /* J_NUM: the token; J_STR: the bytes */
        size_t n;
        uint32_t esc;
        struct jm *m;
        size_t len, cap;
};

static struct jv *jv_new(enum jt t)
{
        struct jv *v = xm(sizeof *v);
        *v = (struct jv) {.t = t};
        return v;
}

static struct jv *jv_bool(bool b)
{
        struct jv *v = jv_new(J_BOOL);
        v->b = b;
        return v;
}

static struct jv *jv_num(const char *tok)
{
        struct jv *v = jv_new(J_NUM);
        v->n = strlen(tok);
        v->s = xdup(tok, v->n);
        return v;
}

static struct jv *jv_numu(uint64_t u)
{
        char t[32];
        snprintf(t, sizeof t, "%" PRIu64, u);
        return jv_num(t);
}

static struct jv *jv_strn(const char *s, size_t n)
{
        struct jv *v = jv_new(J_STR);
        v->s = xdup(s, n);
        v->n = n;
        return v;
}

static struct jv *jv_str(const char *s) { return jv_strn(s, strlen(s)); }

static void jv_insert(struct jv *o, size_t at, const char *k, size_t kn, struct jv *v)
{
        if (o->len == o->cap) {
                o->cap = o->cap ? 2 * o->cap : 8;
                o->m = xr(o->m, o->cap * sizeof *o->m);
        }
        if (at > o->len)
                at = o->len;
        memmove(o->m + at + 1, o->m + at, (o->len - at) * sizeof *o->m);
        o->m[at] = (struct jm) {.k = k ? xdup(k, kn) : NULL, .kn = kn, .v = v};
        o->len++;
}

static void jv_put(struct jv *o, const char *k, struct jv *v) { jv_insert(o, o->len, k, strlen(k), v); }
static void jv_push(struct jv *a, struct jv *v) { jv_insert(a, a->len, NULL, 0, v); }

static void jv_free(struct jv *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->len; i++) {
                free(v->m[i].k);
                jv_free(v->m[i].v);
        }
        free(v->m);
        free(v->s);
        free(v);
}

static void jv_remove(struct jv *o, size_t i)
{
        free(o->m[i].k);
        jv_free(o->m[i].v);
        memmove(o->m + i, o->m + i + 1, (o->len - i - 1) * sizeof *o->m);
        o->len--;
}

static struct jv *jv_copy(const struct jv *v)
{
        struct jv *c = jv_new(v->t);
        c->b = v->b;
        c->esc = v->esc;
        if (v->s) {
                c->s = xdup(v->s, v->n);
                c->n = v->n;
        }
        for (size_t i = 0; i < v->len; i++) {
                jv_insert(c, c->len, v->m[i].k, v->m[i].kn, jv_copy(v->m[i].v));
                c->m[c->len - 1].kesc = v->m[i].kesc;
        }
        return c;
}

/* the first member whose key matches, case-insensitively */
static long jv_find(const struct jv *o, const char *k)
{
        if (!o || o->t != J_OBJ)
                return -1;
        for (size_t i = 0; i < o->len; i++)
                if (ci_is(o->m[i].k, o->m[i].kn, k))
                        return (long) i;
        return -1;
}

static struct jv *jv_get(const struct jv *o, const char *k)
{
        long i = jv_find(o, k);
        return i < 0 ? NULL : o->m[i].v;
}

static void jv_set(struct jv *o, const char *k, struct jv *v)
{
        long i = jv_find(o, k);
        if (i < 0) {
                jv_put(o, k, v);
                return;
        }
        jv_free(o->m[i].v);
        o->m[i].v = v;
}

/* ---- the printer: every byte of the text is chosen here ---- */

struct printer {
        struct sb *b;
        struct rng *r;
        int ws;                         /* 0 none, 1 single spaces, 2 any JSON whitespace */
};

static void p_ws(struct printer *p)
{
        static const char *const ws[] = {"", " ", "\n", "\t", "\r\n", "  ", "\n\t\t", " \r\n "};
        if (p->ws == 1)
                sb_putc(p->b, ' ');
        else if (p->ws == 2)
                sb_puts(p->b, PICK(p->r, ws));
}

static bool esc_bit(uint32_t esc, size_t i) { return esc && ((esc * 2654435761u + (uint32_t) i * 40503u) >> 13 & 1); }

static void p_string(struct printer *p, const char *s, size_t n, uint32_t esc)
{
        static const char hexd[] = "0123456789abcdef", hexu[] = "0123456789ABCDEF";
        struct sb *b = p->b;
        sb_putc(b, '"');
        for (size_t i = 0; i < n;) {
                const unsigned char *u = (const unsigned char *) s + i;
                bool e = esc_bit(esc, i);
                const char *hx = esc & 4 ? hexu : hexd;
                uint32_t cp;
                size_t k;
                if (*u == '"' || *u == '\\') {
                        sb_putc(b, '\\');
                        sb_putc(b, (char) *u);
                        i++;
                        continue;
                }
                if (*u < 0x20) {
                        static const char named[] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
                        if (*u < sizeof named && named[*u] && !e)
                                sb_printf(b, "\\%c", named[*u]);
                        else
                                sb_printf(b, "\\u00%c%c", hx[*u >> 4], hx[*u & 15]);
                        i++;
                        continue;
                }
                if (*u < 0x80) {
                        if (e && *u == '/')
                                sb_puts(b, "\\/");
                        else if (e)
                                sb_printf(b, "\\u00%c%c", hx[*u >> 4], hx[*u & 15]);
                        else
                                sb_putc(b, (char) *u);
                        i++;
                        continue;
                }
                if (*u == 0xED && n - i >= 3 && (u[1] & 0xE0) == 0xA0) {
                        /* an unpaired surrogate: only an escape can say it */
                        cp = (uint32_t) (u[0] & 0x0F) << 12 | (uint32_t) (u[1] & 0x3F) << 6 | (u[2] & 0x3F);
                        sb_printf(b, "\\u%c%c%c%c", hx[cp >> 12], hx[cp >> 8 & 15], hx[cp >> 4 & 15], hx[cp & 15]);
                        i += 3;
                        continue;
                }
                k = utf8_seq(u, n - i);
                if (!k) {
                        sb_putc(b, (char) *u);
                        i++;
                        continue;
                }
                if (!e) {
                        sb_put(b, u, k);
                        i += k;
                        continue;
                }
                cp = k == 2 ? (u[0] & 0x1Fu) << 6 | (u[1] & 0x3F)
                   : k == 3 ? (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3F)
                            : (u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 | (u[2] & 0x3Fu) << 6 | (u[3] & 0x3F);
                if (cp >= 0x10000) {
                        uint32_t v = cp - 0x10000, hi = 0xD800 | v >> 10, lo = 0xDC00 | (v & 0x3FF);
                        sb_printf(b, "\\u%04x\\u%04X", hi, lo);
                } else
                        sb_printf(b, "\\u%04x", cp);
                i += k;
        }
        sb_putc(b, '"');
}

static void p_value(struct printer *p, const struct jv *v)
{
        switch (v->t) {
        case J_NULL:
                sb_puts(p->b, "null");
                break;
        case J_BOOL:
                sb_puts(p->b, v->b ? "true" : "false");
                break;
        case J_NUM:
                sb_put(p->b, v->s, v->n);
                break;
        case J_STR:
                p_string(p, v->s, v->n, v->esc);
                break;
        case J_OBJ:
        case J_ARR:
                sb_putc(p->b, v->t == J_OBJ ? '{' : '[');
                for (size_t i = 0; i < v->len; i++) {
                        if (i)
                                sb_putc(p->b, ',');
                        p_ws(p);
                        if (v->t == J_OBJ) {
                                p_string(p, v->m[i].k, v->m[i].kn, v->m[i].kesc);
                                p_ws(p);
                                sb_putc(p->b, ':');
                                p_ws(p);
                        }
                        p_value(p, v->m[i].v);
                }
                p_ws(p);
                sb_putc(p->b, v->t == J_OBJ ? '}' : ']');
                break;
        }
}

/* ---- the bases ---- */

struct gen {
        struct rng r;
        enum ck_mode kind;
        struct jv *root;
        int ws;
        const char *id, *file_id;       /* import: operation and file; export: export and file; created: the id */
        bool dry_run;                   /* import: what DryRun the base says */
        struct sb desc;                 /* what was done, for failure messages */
};

static const char *const parts17[] = {
        "metadata", "workflow", "formLayouts", "customAction", "indexConfiguration", "featureInstances",
        "uiComponentConfig", "notificationTemplateDefinitions", "notificationTemplateBodies", "SLTTenantSetting",
        "data", "userOptionMetadata", "rulesInEntity", "many2manyRelations", "attachments", "customAppSltSettings",
        "resourceBundles",
};

static const char *const error_texts[] = {
        "Form 'Intake' references missing field 'priority'", "Workflow 'Escalation' uses unknown state 'Triage'",
        "error: rule 7 failed", "", "Ünïcödé fehler \xe2\x80\x94 \xf0\x9f\x98\x80",
};
static const char *const warning_texts[] = {
        "Notification template 'Welcome' has no body for locale 'de'", "warning: field 'x' is deprecated",
        "Failed to resolve icon; default used",
};

static struct jv *result_elem(const char *name, uint64_t modified, uint64_t failed, size_t nerr, size_t nwarn)
{
        struct jv *e = jv_new(J_OBJ), *st = jv_new(J_OBJ), *er = jv_new(J_ARR), *wa = jv_new(J_ARR);
        jv_put(st, "Modified", jv_numu(modified));
        jv_put(st, "Removed", jv_num("0"));
        jv_put(st, "Failed", jv_numu(failed));
        jv_put(st, "Skipped", jv_num("0"));
        for (size_t i = 0; i < nerr; i++)
                jv_push(er, jv_str(error_texts[i % ELEMENTSOF(error_texts)]));
        for (size_t i = 0; i < nwarn; i++)
                jv_push(wa, jv_str(warning_texts[i % ELEMENTSOF(warning_texts)]));
        jv_put(e, "PackageName", jv_str(name));
        jv_put(e, "Statistics", st);
        jv_put(e, "Errors", er);
        jv_put(e, "Warnings", wa);
        return e;
}

static struct jv *totals(uint64_t modified, uint64_t failed)
{
        struct jv *t = jv_new(J_OBJ);
        jv_put(t, "Added", jv_num("0"));
        jv_put(t, "Modified", jv_numu(modified));
        jv_put(t, "Removed", jv_num("0"));
        jv_put(t, "Failed", jv_numu(failed));
        jv_put(t, "Skipped", jv_num("0"));
        return t;
}

/* the head every import status has, in the vendor's and the mock's order */
static struct jv *import_head(struct gen *g, const char *status, bool locked, const char *server)
{
        struct jv *o = jv_new(J_OBJ);
        jv_put(o, "TimeToLive", jv_numu(9946986 - rn(&g->r, 100000)));
        jv_put(o, "StudioLocked", jv_bool(locked));
        jv_put(o, "SystemLocked", jv_bool(locked));
        jv_put(o, "id", jv_str(g->id));
        jv_put(o, "FileId", jv_str(g->file_id));
        jv_put(o, "Status", jv_str(status));
        jv_put(o, "DryRun", jv_bool(g->dry_run));
        jv_put(o, "PackageManagerId", jv_str("67975a8be4b0c050849153b2"));
        jv_put(o, "StartTime", jv_num("1737972352849"));
        jv_put(o, "LastUpdateTime", jv_num("1737972406603"));
        jv_put(o, "ProcessingServerName", jv_str(server));
        return o;
}

/* tests/mock/mock_http.c import_status_json(): outcome 0 clean, 1 errors, 2 warnings */
static struct jv *base_mock(struct gen *g, const char *status, int outcome, const char *const *parts, size_t nparts)
{
        bool done = strcmp(status, "COMPLETED") == 0;
        struct jv *o = import_head(g, status, !g->dry_run && strcmp(status, "IN_PROGRESS") == 0, "mock-dev2prod");
        struct jv *res = jv_new(J_ARR);
        uint64_t modified = 0;
        for (size_t i = 0; done && i < nparts; i++) {
                uint64_t m = 1 + rn(&g->r, 128);
                modified += m;
                jv_push(res, result_elem(parts[i], m, outcome == 1 && i == 0 ? 2 : 0, outcome == 1 && i == 0 ? 2 : 0,
                                         outcome == 2 && i == 1 ? 1 : 0));
        }
        jv_put(o, "Results", res);
        jv_put(o, "Totals", totals(modified, done && outcome == 1 ? 2 : 0));
        jv_put(o, "OperationType", jv_str("Import"));
        return o;
}

/* the vendor's example (dev2prod-api.md) with the test's ids */
static struct jv *base_vendor(struct gen *g)
{
        struct jv *o = import_head(g, "COMPLETED", false, "company-server"), *res = jv_new(J_ARR);
        jv_push(res, result_elem("metadata", 300, 0, 0, 0));
        jv_put(o, "Results", res);
        jv_put(o, "Totals", totals(326, 0));
        jv_put(o, "OperationType", jv_str("Import"));
        return o;
}

static struct jv *base_import(struct gen *g)
{
        static const char *const mock3[] = {"metadata", "workflow", "formLayouts"};
        static const char *const running[] = {"IN_PROGRESS", "PENDING", "RUNNING", "QUEUED"};
        static const char *const failed[] = {"FAILED", "ERROR", "CANCELLED", "ABORTED"};
        size_t w = rn(&g->r, 100);
        struct jv *o, *res;
        if (w < 20)
                return base_vendor(g);
        if (w < 35)
                return base_mock(g, "COMPLETED", 0, mock3, 3);
        if (w < 50)
                return base_mock(g, "COMPLETED", 0, parts17, 17);
        if (w < 62) {                   /* COMPLETED, clean, with warnings */
                o = base_mock(g, "COMPLETED", 2, parts17, 4 + rn(&g->r, 14));
                res = jv_get(o, "Results");
                jv_push(jv_get(res->m[res->len - 1].v, "Warnings"), jv_str(warning_texts[1]));
                return o;
        }
        if (w < 67)
                return base_mock(g, "COMPLETED", 2, mock3, 3);
        if (w < 75)
                return base_mock(g, PICK(&g->r, running), 0, mock3, 3);
        if (w < 80) {                   /* FAILED, with the findings that made it fail */
                o = base_mock(g, "COMPLETED", 1, parts17, 17);
                jv_set(o, "Status", jv_str(PICK(&g->r, failed)));
                return o;
        }
        if (w < 86)
                return base_mock(g, "COMPLETED", 1, mock3, 3);
        if (w < 91) {                   /* errors reported, yet nothing counted as failed */
                o = base_vendor(g);
                jv_push(jv_get(jv_get(o, "Results")->m[0].v, "Errors"), jv_str(error_texts[0]));
                return o;
        }
        if (w < 95) {                   /* a failure counted only in the Totals */
                o = base_mock(g, "COMPLETED", 0, mock3, 3);
                jv_set(jv_get(o, "Totals"), "Failed", jv_num("1"));
                return o;
        }
        o = base_mock(g, "COMPLETED", 0, mock3, 0);   /* COMPLETED with no results at all */
        return o;
}

/* tests/mock/mock_http.c export_status_json() and the vendor's example */
static struct jv *base_export(struct gen *g)
{
        static const char *const parts[] = {"metadata", "workflow", "formLayouts", "customAction", "resourceBundles"};
        static const char *const statuses[] = {"COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED",
                                               "COMPLETED", "IN_PROGRESS", "PENDING", "FAILED", "ERROR"};
        struct jv *o = jv_new(J_OBJ), *st = jv_new(J_ARR);
        const char *status = PICK(&g->r, statuses);
        bool vendor = chance(&g->r, 40);
        jv_put(o, "id", jv_str(g->id));
        jv_put(o, "PackageBundleName", jv_str("Package-54321-123456789-2025-01-27 09-44"));
        jv_put(o, "Status", jv_str(status));
        if (strcmp(status, "COMPLETED") == 0 ? !chance(&g->r, 8) : chance(&g->r, 30))
                jv_put(o, "FileId", jv_str(g->file_id));
        jv_put(o, "StartTime", jv_num("1737971051843"));
        jv_put(o, "LastUpdateTime", jv_num("1737971053134"));
        jv_put(o, "ItemCount", jv_num(vendor ? "352" : "211"));
        for (size_t i = 0; i < (vendor ? 2 : ELEMENTSOF(parts)); i++) {
                struct jv *e = jv_new(J_OBJ);
                jv_put(e, "PackageName", jv_str(vendor ? parts[i + 1] : parts[i]));
                jv_put(e, "ItemCount", jv_numu(1 + rn(&g->r, 128)));
                jv_push(st, e);
        }
        jv_put(o, "Statistics", st);
        jv_put(o, "OperationType", jv_str("Export"));
        return o;
}

static struct jv *base_created(struct gen *g)
{
        struct jv *o = jv_new(J_OBJ);
        size_t w = rn(&g->r, 10);
        if (w == 8)
                jv_put(o, "Name", jv_str("package.zip"));
        jv_put(o, w < 3 ? "id" : "Id", jv_str(g->id));
        if (w == 9)
                jv_put(o, "Size", jv_num("1048576"));
        return o;
}

/* ---- the mutations ---- */

struct loc {
        struct jv *parent;
        size_t i;
        int depth;                      /* of the value: the top-level members are at 1 */
};

struct locs {
        struct loc *a;
        size_t n, cap;
};

static void collect(struct jv *v, int depth, struct locs *l)
{
        for (size_t i = 0; i < v->len; i++) {
                if (l->n == l->cap) {
                        l->cap = l->cap ? 2 * l->cap : 64;
                        l->a = xr(l->a, l->cap * sizeof *l->a);
                }
                l->a[l->n++] = (struct loc) {v, i, depth + 1};
                collect(v->m[i].v, depth + 1, l);
        }
}

enum want { W_ANY, W_MEMBER, W_NUMBER };

/* A place in the tree, shallow ones more often (they are the ones the rules
 * name): a depth limit is drawn first, then a place within it. */
static bool pick(struct gen *g, enum want w, struct loc *out)
{
        static const int limits[] = {1, 2, 3, 4, 1000000};
        struct locs l = {0};
        collect(g->root, 0, &l);
        int lim = PICK(&g->r, limits);
        size_t n = 0;
        for (int pass = 0; pass < 2 && n == 0; pass++, lim = 1000000)
                for (size_t i = 0; i < l.n; i++) {
                        const struct loc *c = &l.a[i];
                        bool ok = c->depth <= lim;
                        ok = ok && (w != W_MEMBER || c->parent->t == J_OBJ);
                        ok = ok && (w != W_NUMBER || c->parent->m[c->i].v->t == J_NUM);
                        if (ok)
                                l.a[n++] = *c;
                }
        if (n)
                *out = l.a[rn(&g->r, n)];
        free(l.a);
        return n > 0;
}

/* an object anywhere (the root included), shallow ones more often */
static struct jv *pick_object(struct gen *g)
{
        struct loc l;
        if (chance(&g->r, 35))
                return g->root;
        for (int i = 0; i < 4; i++)
                if (pick(g, W_ANY, &l) && l.parent->m[l.i].v->t == J_OBJ)
                        return l.parent->m[l.i].v;
        return g->root;
}

static const char *key_of(const struct loc *l) { return l->parent->t == J_OBJ ? l->parent->m[l->i].k : "[]"; }

static const char *const nums_ok[] = {"0", "-0", "1", "2", "3", "5", "17", "300", "9223372036854775807", "1737972352849"};
static const char *const nums_odd[] = {"3.0", "1e0", "0e0", "1E2", "-1", "-5", "9223372036854775808",
                                       "18446744073709551616", "1e400", "-1e400", "0.0", "-0.0", "2.5",
                                       "100000000000000000000000000000", "1e-2", "-9223372036854775808"};
static const char *const nums_bad[] = {"00", "01", "1.", ".5", "+1", "0x10", "NaN", "Infinity", "-", "1e"};

static const char *rand_num(struct gen *g)
{
        size_t w = rn(&g->r, 100);
        return w < 45 ? PICK(&g->r, nums_ok) : w < 93 ? PICK(&g->r, nums_odd) : PICK(&g->r, nums_bad);
}

static struct jv *rand_value(struct gen *g)
{
        struct jv *v;
        switch (rn(&g->r, 12)) {
        case 0: return jv_new(J_NULL);
        case 1: return jv_bool(true);
        case 2: return jv_bool(false);
        case 3: return jv_num(rand_num(g));
        case 4: return jv_str("x");
        case 5: return jv_str("COMPLETED");
        case 6: return jv_str("0");
        case 7: return jv_new(J_OBJ);
        case 8:
                v = jv_new(J_OBJ);
                jv_put(v, "a", jv_num("1"));
                return v;
        case 9: return jv_new(J_ARR);
        case 10:
                v = jv_new(J_ARR);
                jv_push(v, jv_str("x"));
                return v;
        default: return jv_str("");
        }
}

/* old, turned into type t (old is consumed) */
static struct jv *convert(struct gen *g, struct jv *old, enum jt t)
{
        struct jv *v;
        switch (t) {
        case J_NULL:
                jv_free(old);
                return jv_new(J_NULL);
        case J_BOOL:
                jv_free(old);
                return jv_bool(chance(&g->r, 50));
        case J_NUM:
                if (old->t == J_STR && old->n > 0 && old->n < 30 && strspn(old->s, "0123456789") == old->n &&
                    (old->s[0] != '0' || old->n == 1))
                        v = jv_num(old->s);
                else
                        v = jv_num(PICK(&g->r, nums_ok));
                jv_free(old);
                return v;
        case J_STR:
                v = old->t == J_NUM ? jv_strn(old->s, old->n) : old->t == J_BOOL ? jv_str(old->b ? "true" : "false")
                  : old->t == J_NULL ? jv_str("null") : jv_str(chance(&g->r, 50) ? "x" : "");
                jv_free(old);
                return v;
        case J_OBJ:
                v = jv_new(J_OBJ);
                if (old->t == J_ARR) {
                        for (size_t i = 0; i < old->len; i++) {
                                char k[24];
                                snprintf(k, sizeof k, "%zu", i);
                                jv_put(v, k, old->m[i].v);
                                old->m[i].v = NULL;
                        }
                        jv_free(old);
                } else if (chance(&g->r, 50))
                        jv_put(v, "value", old);
                else
                        jv_free(old);
                return v;
        case J_ARR:
                v = jv_new(J_ARR);
                if (old->t == J_OBJ) {
                        for (size_t i = 0; i < old->len; i++) {
                                jv_push(v, old->m[i].v);
                                old->m[i].v = NULL;
                        }
                        jv_free(old);
                } else if (chance(&g->r, 50))
                        jv_push(v, old);
                else
                        jv_free(old);
                return v;
        }
        return old;
}

static void m_type(struct gen *g)
{
        struct loc l;
        if (!pick(g, W_ANY, &l))
                return;
        struct jv **v = &l.parent->m[l.i].v;
        enum jt t;
        do
                t = (enum jt) rn(&g->r, 6);
        while (t == (*v)->t);
        sb_printf(&g->desc, "type(%s->%d) ", key_of(&l), (int) t);
        *v = convert(g, *v, t);
}

static void m_number(struct gen *g)
{
        struct loc l;
        if (!pick(g, chance(&g->r, 75) ? W_NUMBER : W_ANY, &l))
                return;
        const char *tok = rand_num(g);
        sb_printf(&g->desc, "number(%s=%s) ", key_of(&l), tok);
        jv_free(l.parent->m[l.i].v);
        l.parent->m[l.i].v = jv_num(tok);
}

static void m_num_string(struct gen *g)
{
        struct loc l;
        if (!pick(g, W_NUMBER, &l))
                return;
        struct jv **v = &l.parent->m[l.i].v;
        sb_printf(&g->desc, "num-as-string(%s) ", key_of(&l));
        *v = convert(g, *v, J_STR);
}

static void m_drop(struct gen *g)
{
        struct loc l;
        if (!pick(g, W_MEMBER, &l))
                return;
        sb_printf(&g->desc, "drop(%s) ", key_of(&l));
        jv_remove(l.parent, l.i);
}

static void recase(struct gen *g, char *k, size_t n)
{
        size_t how = rn(&g->r, 3);
        for (size_t i = 0; i < n; i++) {
                char c = k[i];
                bool up = how == 0 || (how == 2 && chance(&g->r, 50));
                if (up && c >= 'a' && c <= 'z')
                        k[i] = (char) (c - 'a' + 'A');
                else if (!up && c >= 'A' && c <= 'Z')
                        k[i] = (char) (c - 'A' + 'a');
        }
}

static void m_dup(struct gen *g)
{
        struct loc l;
        if (!pick(g, W_MEMBER, &l))
                return;
        const struct jm *m = &l.parent->m[l.i];
        char *k = xdup(m->k, m->kn);
        size_t kn = m->kn;
        bool recased = chance(&g->r, 50), same = chance(&g->r, 50);
        if (recased)
                recase(g, k, kn);
        struct jv *v = same ? jv_copy(m->v) : rand_value(g);
        sb_printf(&g->desc, "dup(%s%s%s) ", m->k, recased ? ",recased" : "", same ? ",same" : ",other");
        jv_insert(l.parent, rn(&g->r, l.parent->len + 1), k, kn, v);
        free(k);
}

static void m_key_case(struct gen *g)
{
        struct loc l;
        if (!pick(g, W_MEMBER, &l))
                return;
        struct jm *m = &l.parent->m[l.i];
        recase(g, m->k, m->kn);
        sb_printf(&g->desc, "key-case(%s) ", m->k);
}

static void m_rename(struct gen *g)
{
        static const char *const names[] = {
                "Statu", "Status ", " id", "ID_", "File_Id", "FileID2", "DryRunX", "Total", "Result", "Stats",
                "Statistic", "Package", "x", "Id", "Status", "FileId", "DryRun", "Totals", "Results", "Statistics",
                "PackageName", "\xef\xbc\xb3tatus" /* fullwidth S */, "\xc5\xbftatus" /* long s */, "\xc4\xb0" "d",
                "Errors", "Warnings", "Failed",
        };
        struct loc l;
        if (!pick(g, W_MEMBER, &l))
                return;
        struct jm *m = &l.parent->m[l.i];
        char *k;
        size_t kn;
        switch (rn(&g->r, 4)) {
        case 0:                         /* the key with a NUL byte and more after it */
                k = xm(m->kn + 3);
                memcpy(k, m->k, m->kn);
                memcpy(k + m->kn, "\0x", 2);
                kn = m->kn + (chance(&g->r, 50) ? 2 : 1);
                k[kn] = 0;
                break;
        case 1:                         /* the key one letter shorter */
                kn = m->kn ? m->kn - 1 : 0;
                k = xdup(m->k, kn);
                break;
        default: {
                const char *s = PICK(&g->r, names);
                kn = strlen(s);
                k = xdup(s, kn);
        }
        }
        sb_printf(&g->desc, "rename(%s->%s) ", m->k, k);
        free(m->k);
        m->k = k;
        m->kn = kn;
}

static void m_nest(struct gen *g)
{
        struct loc l;
        if (!pick(g, W_ANY, &l))
                return;
        struct jv *w = jv_new(chance(&g->r, 50) ? J_OBJ : J_ARR);
        sb_printf(&g->desc, "nest(%s) ", key_of(&l));
        if (w->t == J_OBJ)
                jv_put(w, "value", l.parent->m[l.i].v);
        else
                jv_push(w, l.parent->m[l.i].v);
        l.parent->m[l.i].v = w;
}

static void add_field(struct gen *g, const char *const *names, size_t n)
{
        struct jv *o = pick_object(g);
        const char *k = names[rn(&g->r, n)];
        /* mostly counts: an innocent count keeps a Totals or Statistics object valid */
        struct jv *v = chance(&g->r, 50) ? jv_num(PICK(&g->r, nums_ok)) : rand_value(g);
        sb_printf(&g->desc, "add(%s) ", k);
        jv_insert(o, rn(&g->r, o->len + 1), k, strlen(k), v);
}

static void m_add_innocent(struct gen *g)
{
        static const char *const names[] = {
                "Extra", "Note", "x", "TimeToLive", "Comment", "Details", "Meta", "version", "Attempts", "Info",
                "R\xc3\xa9sum\xc3\xa9", "\xce\xa3", "", "Statusx", "IdX", "Success", "Count", "Message", "Result",
                "Ok", "Conflicts", "Added", "PackageManagerId", "Erro", "Fai1", "W4rn",
        };
        add_field(g, names, ELEMENTSOF(names));
}

static void m_add_suspect(struct gen *g)
{
        static const char *const names[] = {
                "Errors", "errors", "errorMessage", "FailedItems", "warnings", "Warnings", "Failed", "ERROR",
                "lastError", "Failure", "HasErrors", "werror", "preWarn", "isFailing", "fail", "WARN", "Error_Code",
                "xErRoRx", "failed", "Warning",
        };
        add_field(g, names, ELEMENTSOF(names));
}

static void m_dryrun(struct gen *g)
{
        struct jv *d = jv_get(g->root, "DryRun");
        size_t w = rn(&g->r, 10);
        struct jv *v = w < 7 ? jv_bool(d && d->t == J_BOOL ? !d->b : !g->dry_run)
                     : w == 7 ? jv_str(g->dry_run ? "true" : "false") : w == 8 ? jv_num(g->dry_run ? "1" : "0")
                              : jv_new(J_NULL);
        sb_printf(&g->desc, "dryrun(%zu) ", w);
        jv_set(g->root, "DryRun", v);
}

static void m_status(struct gen *g)
{
        static const char *const words[] = {
                "COMPLETED", "completed", "Completed", "cOMPLETED", "COMPLETEd", "FAILED", "failed", "Failed",
                "ERROR", "Error", "error", "CANCELLED", "cancelled", "CANCELED", "Canceled", "ABORTED", "aborted",
                "PENDING", "IN_PROGRESS", "RUNNING", "QUEUED", "unknown", "", "COMPLETED ", " COMPLETED", "COMPLETE",
                "COMPLETEDD", "SUCCESS", "DONE", "OK", "FAIL", "FAILURE", "ERRORS", "CANCEL", "ABORT",
                "\xef\xbc\xa3OMPLETED", "COMPLETED\n", "C\xc3\x96MPLETED",
        };
        const char *w = PICK(&g->r, words);
        struct jv *v;
        if (chance(&g->r, 5)) {         /* "COMPLETED" and a NUL byte */
                v = jv_strn("COMPLETED\0x", chance(&g->r, 50) ? 10 : 11);
                w = "COMPLETED\\u0000";
        } else
                v = jv_str(w);
        sb_printf(&g->desc, "status(%s) ", w);
        jv_set(g->root, "Status", v);
}

static void m_status_case(struct gen *g)
{
        struct jv *s = jv_get(g->root, "Status");
        if (!s || s->t != J_STR) {
                jv_set(g->root, "Status", jv_str("completed"));
                sb_puts(&g->desc, "status-case(set) ");
                return;
        }
        recase(g, s->s, s->n);
        sb_printf(&g->desc, "status-case(%s) ", s->s);
}

/* a variant of the id x: some equal to it, some usable, some neither */
static struct jv *id_variant(struct gen *g, const char *x, const char *other, const char **what)
{
        char buf[600];
        size_t n = strlen(x), w = rn(&g->r, 26);
        struct jv *v;
        *what = "?";
        switch (w) {
        case 0: v = jv_str(x); v->esc = (uint32_t) rnd(&g->r) | 1; *what = "escaped"; break;
        case 1: v = jv_str("ffffffffffffffffffffffff"); *what = "other"; break;
        case 2: v = jv_str(x); recase(g, v->s, v->n); *what = "recased"; break;
        case 3: snprintf(buf, sizeof buf, "%s ", x); v = jv_str(buf); *what = "trailing space"; break;
        case 4: snprintf(buf, sizeof buf, " %s", x); v = jv_str(buf); *what = "leading space"; break;
        case 5: memcpy(buf, x, n); buf[n] = 0; v = jv_strn(buf, n + 1); *what = "NUL"; break;
        case 6: memcpy(buf, x, n); memcpy(buf + n, "\0tail", 5); v = jv_strn(buf, n + 5); *what = "NUL tail"; break;
        case 7: snprintf(buf, sizeof buf, "%s", x); buf[0] = '\t'; v = jv_str(buf); *what = "tab"; break;
        case 8: v = jv_str(""); *what = "empty"; break;
        case 9: v = jv_strn(x, n ? n - 1 : 0); *what = "short"; break;
        case 10: snprintf(buf, sizeof buf, "%sx", x); v = jv_str(buf); *what = "long"; break;
        case 11: snprintf(buf, sizeof buf, "%s\xed\xa0\x80", x); v = jv_str(buf); *what = "lone surrogate"; break;
        case 12: snprintf(buf, sizeof buf, "%s\xc3\xa9", x); v = jv_str(buf); *what = "e-acute"; break;
        case 13: case 14:
                memset(buf, 'a', MAX_ID + 1);
                memcpy(buf, x, n);
                v = jv_strn(buf, MAX_ID + (w == 14));
                *what = w == 13 ? "256 bytes" : "257 bytes";
                break;
        case 15: v = jv_str("a b"); *what = "space"; break;
        case 16: v = jv_str("\x7f"); *what = "DEL"; break;
        case 17: v = jv_num("12345"); *what = "number"; break;
        case 18: v = jv_new(J_NULL); *what = "null"; break;
        case 19: v = jv_new(J_ARR); jv_push(v, jv_str(x)); *what = "array"; break;
        case 20: v = jv_str("~!#$%&'()*+,-./:;<=>?@[]^_`{|}"); *what = "punctuation"; break;
        case 21: v = jv_str(x); v->esc = 0xFFFFFFFF; *what = "escaped"; break;
        case 22: v = jv_str(other); *what = "the other id"; break;
        case 23: v = jv_str("\xed\xb0\x80"); *what = "lone low surrogate"; break;
        default: v = jv_str(x); *what = "same"; break;
        }
        return v;
}

static void m_ids(struct gen *g)
{
        const char *key, *want, *other, *what;
        if (g->kind == CM_CREATED) {
                long i = jv_find(g->root, "Id");
                key = i >= 0 ? g->root->m[i].k : "Id";
                want = g->id;
                other = FILEID;
        } else if (chance(&g->r, 50)) {
                key = "id";
                want = g->id;
                other = g->file_id;
        } else {
                key = "FileId";
                want = g->file_id;
                other = g->id;
        }
        char *k = xdup(key, strlen(key));
        struct jv *v = id_variant(g, want, other, &what);
        sb_printf(&g->desc, "ids(%s:%s) ", k, what);
        jv_set(g->root, k, v);
        free(k);
}

/* a Results element's Errors or Warnings member, when there is one */
static struct jm *finding_member(struct gen *g)
{
        struct jv *res = jv_get(g->root, "Results");
        if (!res || res->t != J_ARR || res->len == 0)
                return NULL;
        struct jv *e = res->m[rn(&g->r, res->len)].v;
        long i = jv_find(e, chance(&g->r, 60) ? "Warnings" : "Errors");
        return i < 0 ? NULL : &e->m[i];
}

static void m_findings_add(struct gen *g)
{
        struct jm *m = finding_member(g);
        if (!m || m->v->t != J_ARR)
                return;
        struct jv *f;
        switch (rn(&g->r, 9)) {
        case 0: f = jv_new(J_NULL); break;
        case 1: f = jv_num("0"); break;
        case 2: f = jv_str(""); break;
        case 3:                         /* findings are free-form: keys U6 does not look at */
                f = jv_new(J_OBJ);
                jv_put(f, "errorCode", jv_num("12"));
                jv_put(f, "message", jv_str("Form 'Intake' failed validation"));
                break;
        case 4:
                f = jv_new(J_OBJ);
                jv_put(f, "Failure", jv_bool(true));
                jv_put(f, "warnings", jv_new(J_ARR));
                break;
        case 5:                         /* but U1 still does */
                f = jv_new(J_OBJ);
                jv_put(f, "a", jv_num("1"));
                jv_put(f, "A", jv_num("2"));
                break;
        case 6:
                f = jv_new(J_ARR);
                jv_push(f, jv_str("nested"));
                jv_push(f, jv_new(J_OBJ));
                jv_put(f->m[1].v, "error", jv_num("1"));
                break;
        default:
                f = jv_str(PICK(&g->r, warning_texts));
                break;
        }
        sb_printf(&g->desc, "finding(%s) ", m->k);
        jv_push(m->v, f);
}

static void m_findings_type(struct gen *g)
{
        struct jm *m = finding_member(g);
        if (!m)
                return;
        struct jv *v;
        switch (rn(&g->r, 9)) {
        case 0: v = jv_str("Form 'Intake' is broken"); break;
        case 1: v = jv_str(""); break;
        case 2: v = jv_new(J_OBJ); break;
        case 3: v = jv_new(J_OBJ); jv_put(v, "msg", jv_str("x")); break;
        case 4: v = jv_new(J_OBJ); jv_put(v, "error", jv_str("x")); break;
        case 5: v = jv_new(J_NULL); break;
        case 6: v = jv_num("0"); break;
        case 7: v = jv_bool(false); break;
        default: v = jv_new(J_ARR); break;
        }
        sb_printf(&g->desc, "findings-type(%s->%d) ", m->k, (int) v->t);
        jv_free(m->v);
        m->v = v;
}

static void m_counts(struct gen *g)
{
        struct jv *o = NULL, *res = jv_get(g->root, "Results");
        if (g->kind == CM_EXPORT) {
                res = jv_get(g->root, "Statistics");
                if (res && res->t == J_ARR && res->len)
                        o = res->m[rn(&g->r, res->len)].v;
        } else if (chance(&g->r, 35) || !res || res->t != J_ARR || res->len == 0)
                o = jv_get(g->root, "Totals");
        else
                o = jv_get(res->m[rn(&g->r, res->len)].v, "Statistics");
        if (!o || o->t != J_OBJ)
                return;
        const char *tok = chance(&g->r, 65) ? PICK(&g->r, nums_ok) : rand_num(g);
        if (o->len == 0 || chance(&g->r, 10)) {
                sb_printf(&g->desc, "counts(+Conflicts=%s) ", tok);
                jv_put(o, "Conflicts", jv_num(tok));
                return;
        }
        struct jm *m = &o->m[rn(&g->r, o->len)];
        sb_printf(&g->desc, "counts(%s=%s) ", m->k, tok);
        jv_free(m->v);
        m->v = jv_num(tok);
}

static void m_results(struct gen *g)
{
        struct jv *res = jv_get(g->root, "Results"), *e;
        if (!res || res->t != J_ARR)
                return;
        size_t w = rn(&g->r, 8);
        sb_printf(&g->desc, "results(%zu) ", w);
        switch (w) {
        case 0:
                while (res->len)
                        jv_remove(res, res->len - 1);
                break;
        case 1:
                if (res->len)
                        jv_remove(res, rn(&g->r, res->len));
                break;
        case 2:
                if (res->len)
                        jv_insert(res, rn(&g->r, res->len + 1), NULL, 0, jv_copy(res->m[rn(&g->r, res->len)].v));
                break;
        case 3:
                jv_insert(res, rn(&g->r, res->len + 1), NULL, 0, rand_value(g));
                break;
        case 4:
                jv_push(res, result_elem(PICK(&g->r, parts17), 1 + rn(&g->r, 50), 0, 0, 0));
                break;
        case 5:
                if (res->len && (e = res->m[rn(&g->r, res->len)].v)->t == J_OBJ && jv_find(e, "PackageName") >= 0)
                        jv_remove(e, (size_t) jv_find(e, "PackageName"));
                break;
        case 6:
                if (res->len && (e = res->m[rn(&g->r, res->len)].v)->t == J_OBJ)
                        jv_set(e, "PackageName", chance(&g->r, 50) ? jv_num("5") : jv_str(""));
                break;
        default:
                jv_set(g->root, "Results", convert(g, jv_copy(res), J_OBJ));
                break;
        }
}

static void m_totals(struct gen *g)
{
        struct jv *t = jv_get(g->root, "Totals");
        size_t w = rn(&g->r, 6);
        sb_printf(&g->desc, "totals(%zu) ", w);
        switch (w) {
        case 0:
                if (t && jv_find(t, "Failed") >= 0)
                        jv_remove(t, (size_t) jv_find(t, "Failed"));
                break;
        case 1:
                if (jv_find(g->root, "Totals") >= 0)
                        jv_remove(g->root, (size_t) jv_find(g->root, "Totals"));
                break;
        case 2:
                jv_set(g->root, "Totals", chance(&g->r, 50) ? jv_new(J_ARR) : jv_new(J_NULL));
                break;
        case 3:
                if (t && t->t == J_OBJ)
                        jv_set(t, "Failed", jv_num("-0"));
                break;
        case 4:
                if (t && t->t == J_OBJ)
                        jv_set(t, "Note", jv_str("x"));
                break;
        default:
                if (t && t->t == J_OBJ)
                        jv_set(t, "Failed", jv_num(PICK(&g->r, nums_ok)));
                break;
        }
}

static void m_reorder(struct gen *g)
{
        struct jv *o = pick_object(g);
        for (size_t i = o->len; i > 1; i--) {
                size_t j = rn(&g->r, i);
                struct jm t = o->m[i - 1];
                o->m[i - 1] = o->m[j];
                o->m[j] = t;
        }
        sb_puts(&g->desc, "reorder ");
}

static void m_ws(struct gen *g)
{
        g->ws = (int) rn(&g->r, 3);
        sb_printf(&g->desc, "ws(%d) ", g->ws);
}

static void m_escapes(struct gen *g)
{
        struct locs l = {0};
        collect(g->root, 0, &l);
        for (size_t k = 1 + rn(&g->r, 6); k > 0 && l.n; k--) {
                struct loc *c = &l.a[rn(&g->r, l.n)];
                uint32_t e = (uint32_t) rnd(&g->r) | 1;
                if (c->parent->t == J_OBJ && chance(&g->r, 50))
                        c->parent->m[c->i].kesc = e;
                else if (c->parent->m[c->i].v->t == J_STR)
                        c->parent->m[c->i].v->esc = e;
        }
        free(l.a);
        sb_puts(&g->desc, "escapes ");
}

static const struct mutation {
        const char *name;
        void (*fn)(struct gen *g);
        unsigned weight[3];             /* import, export, created */
} mutations[] = {
        {"type", m_type, {8, 8, 8}},
        {"number", m_number, {6, 3, 2}},
        {"num-as-string", m_num_string, {3, 2, 1}},
        {"drop", m_drop, {6, 6, 6}},
        {"dup", m_dup, {6, 6, 6}},
        {"key-case", m_key_case, {8, 8, 8}},
        {"rename", m_rename, {4, 4, 4}},
        {"nest", m_nest, {3, 3, 3}},
        {"add-innocent", m_add_innocent, {16, 16, 16}},
        {"add-suspect", m_add_suspect, {5, 5, 5}},
        {"dryrun", m_dryrun, {4, 0, 0}},
        {"status", m_status, {5, 6, 1}},
        {"status-case", m_status_case, {6, 6, 1}},
        {"ids", m_ids, {6, 10, 12}},
        {"findings-add", m_findings_add, {7, 0, 0}},
        {"findings-type", m_findings_type, {3, 0, 0}},
        {"counts", m_counts, {9, 3, 0}},
        {"results", m_results, {5, 0, 0}},
        {"totals", m_totals, {3, 0, 0}},
        {"reorder", m_reorder, {10, 10, 10}},
        {"whitespace", m_ws, {8, 8, 8}},
        {"escapes", m_escapes, {10, 10, 10}},
};

/* Text-level damage, after printing: what no tree can hold. */
static void breakage(struct gen *g, struct sb *t)
{
        static const char *const junk[] = {"x", "}", ",", "{}", " {\"a\":1}", "\n", " \t\r\n ", "/**/", "//c\n", "]", "\"",
                                           "null"};
        static const char *const comments[] = {"/* c */", "// c\n", "#c\n"};
        static const char *const scalars[] = {"\"COMPLETED\"", "null", "42", "[]", "true", "", " ", "[{}]"};
        static const char *const bad_utf8[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80", "\xc3",
                                               "\xe0\x80\x80", "\xf8\x88\x80\x80\x80"};
        static const char *const good_utf8[] = {"\xc3\xa9", "\xf0\x9f\x98\x80", "\xe2\x80\x94", "\x7f"};
        struct sb o = {0};
        size_t w = rn(&g->r, 18), n = t->len, at, q[64], nq = 0;
        for (size_t i = 0; i < n && nq < ELEMENTSOF(q); i++)
                if (t->p[i] == '"')
                        q[nq++] = i;
        at = nq ? q[rn(&g->r, nq)] + 1 : 0;     /* just after a quote */
        size_t brace = t->p[0] == '{' ? 1 : 0;
        sb_printf(&g->desc, "break(%zu) ", w);
        switch (w) {
        case 0:
                sb_put(&o, t->p, rn(&g->r, n));
                break;
        case 1:
                sb_put(&o, t->p, n);
                sb_puts(&o, PICK(&g->r, junk));
                break;
        case 2:
                at = rn(&g->r, n + 1);
                sb_put(&o, t->p, at);
                sb_putc(&o, 0);
                sb_put(&o, t->p + at, n - at);
                break;
        case 3:
                sb_put(&o, t->p, brace);
                sb_puts(&o, PICK(&g->r, comments));
                sb_put(&o, t->p + brace, n - brace);
                break;
        case 4:
                sb_putc(&o, '[');
                sb_put(&o, t->p, n);
                sb_putc(&o, ']');
                break;
        case 5:
                sb_puts(&o, PICK(&g->r, scalars));
                break;
        case 6:
                sb_puts(&o, "\xef\xbb\xbf");
                sb_put(&o, t->p, n);
                break;
        case 7:
                sb_put(&o, t->p, brace);
                sb_putc(&o, chance(&g->r, 50) ? '\v' : '\f');
                sb_put(&o, t->p + brace, n - brace);
                break;
        case 8: case 9: case 10: {
                const char *ins = w == 8 ? PICK(&g->r, bad_utf8) : w == 9 ? PICK(&g->r, good_utf8)
                                : chance(&g->r, 50) ? "\x01" : "\t";
                sb_put(&o, t->p, at);
                sb_puts(&o, ins);
                sb_put(&o, t->p + at, n - at);
                break;
        }
        case 11:
                sb_put(&o, t->p, n);
                if (nq)
                        o.p[q[0]] = '\'';
                break;
        case 12:
                sb_put(&o, t->p, n);
                for (size_t i = o.len; i-- > 0;)
                        if (o.p[i] == '}') {
                                o.len = i;
                                sb_puts(&o, ",}");
                                break;
                        }
                break;
        case 13: {                      /* depth 1000 exactly, or one more */
                size_t k = chance(&g->r, 50) ? MAX_DEPTH - 1 : MAX_DEPTH;
                sb_put(&o, t->p, brace);
                sb_puts(&o, "\"deep\":");
                for (size_t i = 0; i < k; i++)
                        sb_putc(&o, '[');
                for (size_t i = 0; i < k; i++)
                        sb_putc(&o, ']');
                if (brace && n > 1 && t->p[1] != '}')
                        sb_putc(&o, ',');
                sb_put(&o, t->p + brace, n - brace);
                break;
        }
        case 14:
                sb_puts(&o, " \n\t\r");
                sb_put(&o, t->p, n);
                sb_puts(&o, "\r\n");
                break;
        case 15:
                sb_put(&o, t->p, n);
                sb_put(&o, t->p, n);
                break;
        case 16:
                sb_put(&o, t->p, n);
                for (size_t i = 0; i + 4 <= o.len; i++)
                        if (memcmp(o.p + i, "true", 4) == 0 || memcmp(o.p + i, "fals", 4) == 0) {
                                o.p[i] = (char) (o.p[i] - 'a' + 'A');
                                break;
                        }
                break;
        default:
                sb_put(&o, t->p, n ? n - 1 : 0);
                break;
        }
        free(t->p);
        *t = o;
        if (!t->p)
                sb_puts(t, "");
}

/* One generated answer for kind: a base, 1 to 3 mutations, sometimes damage.
 * ids: import (operation, file), export (export, file), created (id). */
static void generate(uint64_t seed, enum ck_mode kind, const char *id, const char *file_id, unsigned damage_pct,
                     struct sb *text, struct sb *desc)
{
        struct gen g = {.r = {seed}, .kind = kind, .id = id, .file_id = file_id};
        g.dry_run = chance(&g.r, 75);
        g.ws = (int) rn(&g.r, 3) == 0 ? 1 : 0;
        g.root = kind == CM_IMPORT ? base_import(&g) : kind == CM_EXPORT ? base_export(&g) : base_created(&g);
        unsigned total = 0;
        for (size_t i = 0; i < ELEMENTSOF(mutations); i++)
                total += mutations[i].weight[kind];
        /* one mutation half the time, else two or three */
        for (size_t k = chance(&g.r, 50) ? 1 : 2 + rn(&g.r, 2); k > 0; k--) {
                size_t x = rn(&g.r, total), i = 0;
                while (x >= mutations[i].weight[kind])
                        x -= mutations[i++].weight[kind];
                mutations[i].fn(&g);
        }
        struct printer p = {text, &g.r, g.ws};
        text->len = 0;
        sb_puts(text, "");
        if (chance(&g.r, 20))
                p_ws(&p);
        p_value(&p, g.root);
        if (chance(&g.r, 20))
                p_ws(&p);
        if (chance(&g.r, damage_pct))
                breakage(&g, text);
        jv_free(g.root);
        desc->len = 0;
        sb_puts(desc, "");
        if (g.desc.p)
                sb_puts(desc, g.desc.p);
        free(g.desc.p);
}

/* ---- comparing the judge with the checker ------------------------------- */

static uint64_t gen_seed(void)
{
        const char *s = getenv("JUDGE_SEED");
        return s && *s ? strtoull(s, NULL, 0) : 0x1dea5eed2025ULL;
}

static unsigned gen_n(void)
{
        const char *s = getenv("JUDGE_GEN_N");
        return s && *s ? (unsigned) strtoul(s, NULL, 10) : 20000;
}

static uint64_t case_seed(uint64_t seed, enum ck_mode kind, unsigned i)
{
        struct rng r = {seed ^ ((uint64_t) kind << 56) ^ (uint64_t) i * 0xD1B54A32D192ED03ULL};
        return rnd(&r);
}

/* the judge's reason: required (one line of valid UTF-8) unless CLEAN or RUNNING */
static bool reason_ok(enum judgement v, const char *reason, const char **why)
{
        *why = NULL;
        if (v == JUDGE_CLEAN || v == JUDGE_RUNNING)
                return true;
        if (!reason)
                *why = "no reason";
        else if (!*reason)
                *why = "an empty reason";
        else if (!utf8_valid(reason, strlen(reason)))
                *why = "a reason that is not valid UTF-8";
        else if (strchr(reason, '\n') || strchr(reason, '\r'))
                *why = "a reason of more than one line";
        return *why == NULL;
}

/* Disagreements are counted by kind, (checker's verdict, judge's verdict),
 * index 5 standing for "the checker failed" and "same verdict, but the
 * reason or the id is wrong"; a few of each kind are printed. */
#define KINDS 6

/* how many of each kind are printed: JUDGE_SHOW, default 2 */
static unsigned show_per_kind(void)
{
        const char *s = getenv("JUDGE_SHOW");
        return s && *s ? (unsigned) strtoul(s, NULL, 10) : 2;
}

struct tally {
        unsigned answers, judged, mismatches, clean, per[5];
        unsigned clean_dry_run;         /* import: CLEAN under {dry_run=true, warnings_fail=false} */
        unsigned kind[KINDS][KINDS], first[KINDS][KINDS];
};

/* true when this disagreement should be printed */
static bool tally_mismatch(struct tally *t, const struct verdict *ref, int got, bool verdicts_agree, unsigned i)
{
        int a = ref->internal ? 5 : (int) ref->v, b = verdicts_agree && !ref->internal ? 5 : got;
        if (b < 0 || b >= KINDS)
                b = 5;
        t->mismatches++;
        if (t->kind[a][b]++ == 0)
                t->first[a][b] = i;
        return t->kind[a][b] <= show_per_kind();
}

static void print_kinds(const char *fn, const struct tally *t)
{
        for (int a = 0; a < KINDS; a++)
                for (int b = 0; b < KINDS; b++)
                        if (t->kind[a][b])
                                fprintf(stderr, "%s: %u disagreements: checker %s, judge %s (first: case %u)\n", fn,
                                        t->kind[a][b], a == 5 ? "(failed)" : vname(a),
                                        b == 5 ? "the same, but a wrong reason or id" : vname(b), t->first[a][b]);
}

static void report(const char *fn, uint64_t seed, unsigned i, const char *rules, const struct sb *text,
                   const char *desc, const struct verdict *ref, int got, const char *reason, const char *extra)
{
        fprintf(stderr, "\n%s: seed 0x%" PRIx64 " case %u, rules %s\n  mutations: %s\n  body: ", fn, seed, i, rules,
                desc);
        show(stderr, text->p, text->len);
        fprintf(stderr, "\n  checker: %s (%s)\n  judge:   %s (%s)%s%s\n", vname(ref->v), ref->why ? ref->why : "-",
                vname(got), reason ? reason : "no reason", extra ? "\n  " : "", extra ? extra : "");
}

static void tally_count(struct tally *t, int v)
{
        t->judged++;
        if (v >= 0 && v < 5)
                t->per[v]++;
        if (v == JUDGE_CLEAN)
                t->clean++;
}

static void print_tally(const char *fn, const struct tally *t, uint64_t seed)
{
        printf("%s: seed 0x%" PRIx64 ": %u generated answers judged (%u judgements), %u CLEAN; RUNNING %u, CLEAN %u, "
               "FAILED %u, UNREADABLE %u, GARBLED %u; %u disagreements\n",
               fn, seed, t->answers, t->judged, t->clean, t->per[JUDGE_RUNNING], t->per[JUDGE_CLEAN],
               t->per[JUDGE_FAILED], t->per[JUDGE_UNREADABLE], t->per[JUDGE_GARBLED], t->mismatches);
        fflush(stdout);         /* the forked test may end before stdio would flush */
}

/* The generator must not decay into rejections only: every verdict the
 * function can give shows up, CLEAN in a healthy share. */
static void check_mix(const char *fn, const struct tally *t, bool all_five)
{
        if (t->answers < 1000)
                return;
        ck_assert_msg(t->clean * 10 >= t->judged, "%s: only %u of %u judgements CLEAN", fn, t->clean, t->judged);
        for (int v = 0; v < 5; v++) {
                if (!all_five && (v == JUDGE_RUNNING || v == JUDGE_FAILED))
                        continue;
                ck_assert_msg(t->per[v] * 200 >= t->judged, "%s: only %u %s of %u", fn, t->per[v], vname(v), t->judged);
        }
}


START_TEST(generated_import_status) {
        uint64_t seed = gen_seed();
        unsigned n = gen_n();
        struct tally t = {0};
        struct sb text = {0}, desc = {0};
        for (unsigned i = 0; i < n; i++) {
                generate(case_seed(seed, CM_IMPORT, i), CM_IMPORT, OPID, FILEID, 6, &text, &desc);
                t.answers++;
                for (int rv = 0; rv < 4; rv++) {
                        struct judge_rules rules = {OPID, FILEID, rv < 2, rv & 1};
                        char rs[64];
                        snprintf(rs, sizeof rs, "{dry_run=%s, warnings_fail=%s}", rules.dry_run ? "true" : "false",
                                 rules.warnings_fail ? "true" : "false");
                        struct verdict ref = ref_import(text.p, text.len, &rules);
                        char *reason = NULL;
                        enum judgement got = judge_import_status(text.p, text.len, &rules, &reason);
                        const char *bad;
                        tally_count(&t, ref.v);
                        t.clean_dry_run += rules.dry_run && !rules.warnings_fail && ref.v == JUDGE_CLEAN;
                        if (ref.internal || got != ref.v || !reason_ok(got, reason, &bad)) {
                                if (tally_mismatch(&t, &ref, got, got == ref.v, i))
                                        report("judge_import_status", seed, i, rs, &text, desc.p, &ref, got, reason,
                                               ref.internal ? "(the checker failed)" : got == ref.v ? bad : NULL);
                        }
                        free(reason);
                        verdict_free(&ref);
                }
        }
        print_tally("judge_import_status", &t, seed);
        printf("judge_import_status: %u of the %u answers CLEAN as a dry run that stops only on errors\n",
               t.clean_dry_run, t.answers);
        fflush(stdout);
        print_kinds("judge_import_status", &t);
        free(text.p);
        free(desc.p);
        ck_assert_msg(t.mismatches == 0, "%u disagreements between judge_import_status and the checker (seed 0x%" PRIx64
                      ")", t.mismatches, seed);
        check_mix("judge_import_status", &t, true);
        ck_assert_msg(t.answers < 1000 || t.clean_dry_run * 100 >= t.answers * 15, "only %u of %u answers CLEAN as a dry run",
                      t.clean_dry_run, t.answers);
}
END_TEST

START_TEST(generated_export_status) {
        uint64_t seed = gen_seed();
        unsigned n = gen_n();
        struct tally t = {0};
        struct sb text = {0}, desc = {0};
        for (unsigned i = 0; i < n; i++) {
                generate(case_seed(seed, CM_EXPORT, i), CM_EXPORT, EXPID, EXPFILE, 6, &text, &desc);
                t.answers++;
                struct verdict ref = ref_export(text.p, text.len, EXPID);
                char *reason = NULL, *file_id = NULL, extra[400];
                enum judgement got = judge_export_status(text.p, text.len, EXPID, &file_id, &reason);
                const char *bad;
                bool ok = !ref.internal && got == ref.v && reason_ok(got, reason, &bad);
                *extra = 0;
                if (ok && got == JUDGE_CLEAN && (!file_id || strcmp(file_id, ref.id) != 0)) {
                        ok = false;
                        snprintf(extra, sizeof extra, "file id: judge \"%s\", checker \"%s\"", file_id ? file_id : "(null)",
                                 ref.id);
                } else if (!ok)
                        snprintf(extra, sizeof extra, "%s", ref.internal ? "(the checker failed)" : got == ref.v ? bad : "");
                tally_count(&t, ref.v);
                if (!ok && tally_mismatch(&t, &ref, got, got == ref.v, i))
                        report("judge_export_status", seed, i, "-", &text, desc.p, &ref, got, reason, *extra ? extra : NULL);
                free(reason);
                free(file_id);
                verdict_free(&ref);
        }
        print_tally("judge_export_status", &t, seed);
        print_kinds("judge_export_status", &t);
        free(text.p);
        free(desc.p);
        ck_assert_msg(t.mismatches == 0, "%u disagreements between judge_export_status and the checker (seed 0x%" PRIx64
                      ")", t.mismatches, seed);
        check_mix("judge_export_status", &t, true);
}
END_TEST

START_TEST(generated_created) {
        uint64_t seed = gen_seed();
        unsigned n = gen_n();
        struct tally t = {0};
        struct sb text = {0}, desc = {0};
        for (unsigned i = 0; i < n; i++) {
                generate(case_seed(seed, CM_CREATED, i), CM_CREATED, NEWID, NULL, 6, &text, &desc);
                t.answers++;
                struct verdict ref = ref_created(text.p, text.len);
                char *reason = NULL, *id = NULL, extra[400];
                enum judgement got = judge_created(text.p, text.len, &id, &reason);
                const char *bad;
                bool ok = !ref.internal && got == ref.v && reason_ok(got, reason, &bad);
                *extra = 0;
                if (ok && got == JUDGE_CLEAN && (!id || strcmp(id, ref.id) != 0)) {
                        ok = false;
                        snprintf(extra, sizeof extra, "id: judge \"%s\", checker \"%s\"", id ? id : "(null)", ref.id);
                } else if (!ok)
                        snprintf(extra, sizeof extra, "%s", ref.internal ? "(the checker failed)" : got == ref.v ? bad : "");
                tally_count(&t, ref.v);
                if (!ok && tally_mismatch(&t, &ref, got, got == ref.v, i))
                        report("judge_created", seed, i, "-", &text, desc.p, &ref, got, reason, *extra ? extra : NULL);
                free(reason);
                free(id);
                verdict_free(&ref);
        }
        print_tally("judge_created", &t, seed);
        print_kinds("judge_created", &t);
        free(text.p);
        free(desc.p);
        ck_assert_msg(t.mismatches == 0, "%u disagreements between judge_created and the checker (seed 0x%" PRIx64 ")",
                      t.mismatches, seed);
        check_mix("judge_created", &t, false);
}
END_TEST

/* ---- hand-written cases --------------------------------------------------- */

#define HEAD(status, dry) "{\"id\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"Status\":\"" status "\",\"DryRun\":" dry
#define RES(...) ",\"Results\":[" __VA_ARGS__ "]"
#define TOT(t) ",\"Totals\":" t
#define ELEM(stats, errs, warns) \
        "{\"PackageName\":\"metadata\",\"Statistics\":" stats ",\"Errors\":" errs ",\"Warnings\":" warns "}"
#define STATS_OK "{\"Modified\":300,\"Removed\":0,\"Failed\":0,\"Skipped\":0}"
#define TOT_OK "{\"Added\":0,\"Modified\":300,\"Removed\":0,\"Failed\":0,\"Skipped\":0}"
#define E_OK ELEM(STATS_OK, "[]", "[]")
#define DONE(...) HEAD("COMPLETED", "true") __VA_ARGS__ "}"
#define CLEAN_BODY DONE(RES(E_OK) TOT(TOT_OK))

enum fn { F_IMPORT, F_EXPORT, F_CREATED };

struct hand {
        const char *name;
        enum fn fn;
        const char *body;
        enum judgement want;
        bool import_run, warnings_fail; /* import: the rules (dry run unless import_run) */
        const char *want_id;            /* CLEAN export or created: the id */
        bool vendor_ids;                /* import: the ids of the vendor's example */
};

#define IMP(name, body, want) {name, F_IMPORT, body, JUDGE_##want, false, false, NULL, false}
#define IMPW(name, body, want) {name, F_IMPORT, body, JUDGE_##want, false, true, NULL, false}
#define EXP(name, body, want, id) {name, F_EXPORT, body, JUDGE_##want, false, false, id, false}
#define CRE(name, body, want, id) {name, F_CREATED, body, JUDGE_##want, false, false, id, false}
/* a case whose verdict hangs on the reading of "\u0000" (ESCAPED_NUL_IS_GARBLED) */
#define NUL_OR(want) (ESCAPED_NUL_IS_GARBLED ? JUDGE_GARBLED : JUDGE_##want)
#define IMP_NUL(name, body, want) {name, F_IMPORT, body, NUL_OR(want), false, false, NULL, false}
#define EXP_NUL(name, body, want) {name, F_EXPORT, body, NUL_OR(want), false, false, NULL, false}
#define CRE_NUL(name, body, want) {name, F_CREATED, body, NUL_OR(want), false, false, NULL, false}
#define EXPHEAD(status) "{\"id\":\"" EXPID "\",\"Status\":\"" status "\""

static const struct hand hand_cases[] = {
        /* the vendor's own example, ids and all, under the rules of its ids */
        {"vendor example", F_IMPORT,
         "{ \"TimeToLive\": 9946986, \"StudioLocked\": false, \"SystemLocked\": false,\n"
         "  \"id\": \"66fabdf1e4b06908b04d4051\",\n  \"FileId\": \"c7e87b89-f214-4766-8032-bba6967e1c49\",\n"
         "  \"Status\": \"COMPLETED\", \"DryRun\": true,\n  \"PackageManagerId\": \"67975a8be4b0c050849153b2\",\n"
         "  \"StartTime\": 1737972352849, \"LastUpdateTime\": 1737972406603,\n"
         "  \"ProcessingServerName\": \"company-server\",\n  \"Results\": [ { \"PackageName\": \"metadata\",\n"
         "                 \"Statistics\": {\"Modified\": 300, \"Removed\": 0, \"Failed\": 0, \"Skipped\": 0},\n"
         "                 \"Errors\": [], \"Warnings\": [] } ],\n"
         "  \"Totals\": {\"Added\": 0, \"Modified\": 326, \"Removed\": 0, \"Failed\": 0, \"Skipped\": 0},\n"
         "  \"OperationType\": \"Import\" }", JUDGE_CLEAN, false, false, NULL, true},
        IMP("clean", CLEAN_BODY, CLEAN),
        {"clean import", F_IMPORT, HEAD("COMPLETED", "false") RES(E_OK) TOT(TOT_OK) "}", JUDGE_CLEAN, true, false, NULL, false},

        /* the issue's cases */
        IMP("Totals.Failed 3.0", DONE(RES(E_OK) TOT("{\"Modified\":300,\"Failed\":3.0}")), UNREADABLE),
        IMP("Totals.Failed \"3\"", DONE(RES(E_OK) TOT("{\"Modified\":300,\"Failed\":\"3\"}")), UNREADABLE),
        IMP("Totals missing, Statistics.Failed 5",
            DONE(RES(ELEM("{\"Modified\":300,\"Failed\":5}", "[]", "[]"))), UNREADABLE),
        IMP("Errors a string", DONE(RES(ELEM(STATS_OK, "\"Form 'Intake' is broken\"", "[]")) TOT(TOT_OK)), UNREADABLE),
        IMP("Errors an object", DONE(RES(ELEM(STATS_OK, "{\"message\":\"broken\"}", "[]")) TOT(TOT_OK)), UNREADABLE),
        IMPW("Warnings a string, warnings stop", DONE(RES(ELEM(STATS_OK, "[]", "\"deprecated\"")) TOT(TOT_OK)), UNREADABLE),
        IMP("Warnings a string, warnings pass", DONE(RES(ELEM(STATS_OK, "[]", "\"deprecated\"")) TOT(TOT_OK)), UNREADABLE),
        IMP("top-level Errors list", DONE(",\"Errors\":[\"bad\"]" RES(E_OK) TOT(TOT_OK)), UNREADABLE),
        IMP("top-level empty Errors list", DONE(",\"Errors\":[]" RES(E_OK) TOT(TOT_OK)), UNREADABLE),
        IMP("Errors [] and errors [bad]",
            DONE(RES("{\"PackageName\":\"m\",\"Statistics\":" STATS_OK ",\"Errors\":[],\"errors\":[\"bad\"],\"Warnings\":[]}")
                 TOT(TOT_OK)), UNREADABLE),
        IMP("DryRun false in a dry run", HEAD("COMPLETED", "false") RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        {"DryRun true in an import", F_IMPORT, CLEAN_BODY, JUDGE_UNREADABLE, true, false, NULL, false},
        IMP("DryRun \"true\"", HEAD("COMPLETED", "\"true\"") RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("DryRun 1", HEAD("COMPLETED", "1") RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("DryRun missing", "{\"id\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\"" RES(E_OK)
            TOT(TOT_OK) "}", UNREADABLE),

        /* F2 and what does not fire it */
        IMP("warnings, warnings pass", DONE(RES(ELEM(STATS_OK, "[]", "[\"deprecated\"]")) TOT(TOT_OK)), CLEAN),
        IMPW("warnings, warnings stop", DONE(RES(ELEM(STATS_OK, "[]", "[\"deprecated\"]")) TOT(TOT_OK)), FAILED),
        IMP("Errors [x]", DONE(RES(ELEM(STATS_OK, "[\"x\"]", "[]")) TOT(TOT_OK)), FAILED),
        IMP("Errors [\"\"]", DONE(RES(ELEM(STATS_OK, "[\"\"]", "[]")) TOT(TOT_OK)), FAILED),
        IMP("Errors [null]", DONE(RES(ELEM(STATS_OK, "[null]", "[]")) TOT(TOT_OK)), FAILED),
        IMP("Errors [[]]", DONE(RES(ELEM(STATS_OK, "[[]]", "[]")) TOT(TOT_OK)), FAILED),
        IMP("findings are free-form", DONE(RES(ELEM(STATS_OK, "[{\"errorCode\":7,\"failedItem\":\"x\",\"warn\":1}]", "[]"))
                                            TOT(TOT_OK)), FAILED),
        IMP("free-form warnings pass", DONE(RES(ELEM(STATS_OK, "[]", "[{\"warning\":{\"Errors\":[1]}}]")) TOT(TOT_OK)), CLEAN),
        IMP("U1 inside findings", DONE(RES(ELEM(STATS_OK, "[]", "[{\"a\":1,\"A\":1}]")) TOT(TOT_OK)), UNREADABLE),
        IMP("Statistics.Failed 1", DONE(RES(ELEM("{\"Failed\":1}", "[]", "[]")) TOT(TOT_OK)), FAILED),
        IMP("Totals.Failed 1", DONE(RES(E_OK) TOT("{\"Failed\":1}")), FAILED),
        IMP("Totals.Failed 2^63-1", DONE(RES(E_OK) TOT("{\"Failed\":9223372036854775807}")), FAILED),
        IMP("second element fails", DONE(RES(E_OK "," ELEM("{\"Failed\":2}", "[]", "[]")) TOT(TOT_OK)), FAILED),

        /* non-negative integers */
        IMP("Totals.Failed -0", DONE(RES(E_OK) TOT("{\"Failed\":-0}")), CLEAN),
        IMP("Totals.Failed 0, Added 2^63-1", DONE(RES(E_OK) TOT("{\"Added\":9223372036854775807,\"Failed\":0}")), CLEAN),
        IMP("Totals.Added 2^63", DONE(RES(E_OK) TOT("{\"Added\":9223372036854775808,\"Failed\":0}")), UNREADABLE),
        IMP("Totals.Added 1e2", DONE(RES(E_OK) TOT("{\"Added\":1e2,\"Failed\":0}")), UNREADABLE),
        IMP("Totals.Added -1", DONE(RES(E_OK) TOT("{\"Added\":-1,\"Failed\":0}")), UNREADABLE),
        IMP("Totals.Added 1e400", DONE(RES(E_OK) TOT("{\"Added\":1e400,\"Failed\":0}")), UNREADABLE),
        IMP("Totals.Failed 0.0", DONE(RES(E_OK) TOT("{\"Failed\":0.0}")), UNREADABLE),
        IMP("Totals.Failed -0.0", DONE(RES(E_OK) TOT("{\"Failed\":-0.0}")), UNREADABLE),
        IMP("Totals.Failed 0e0", DONE(RES(E_OK) TOT("{\"Failed\":0e0}")), UNREADABLE),
        IMP("Totals.Failed null", DONE(RES(E_OK) TOT("{\"Failed\":null}")), UNREADABLE),
        IMP("Totals.Note \"x\"", DONE(RES(E_OK) TOT("{\"Failed\":0,\"Note\":\"x\"}")), UNREADABLE),
        IMP("Totals.Conflicts 0", DONE(RES(E_OK) TOT("{\"Failed\":0,\"Conflicts\":0}")), CLEAN),
        IMP("Totals.Extra {}", DONE(RES(E_OK) TOT("{\"Failed\":0,\"Extra\":{}}")), UNREADABLE),
        IMP("Totals without Failed", DONE(RES(E_OK) TOT("{\"Added\":0}")), UNREADABLE),
        IMP("Totals {}", DONE(RES(E_OK) TOT("{}")), UNREADABLE),
        IMP("Totals []", DONE(RES(E_OK) TOT("[]")), UNREADABLE),
        IMP("Statistics.Modified 3.5", DONE(RES(ELEM("{\"Modified\":3.5,\"Failed\":0}", "[]", "[]")) TOT(TOT_OK)), UNREADABLE),

        /* U8 */
        IMP("Results []", DONE(RES() TOT(TOT_OK)), CLEAN),
        IMP("Results {}", DONE(",\"Results\":{}" TOT(TOT_OK)), UNREADABLE),
        IMP("Results missing", DONE(TOT(TOT_OK)), UNREADABLE),
        IMP("Results [1]", DONE(RES("1") TOT(TOT_OK)), UNREADABLE),
        IMP("Results [ok, null]", DONE(RES(E_OK ",null") TOT(TOT_OK)), UNREADABLE),
        IMP("PackageName missing", DONE(RES("{\"Statistics\":" STATS_OK ",\"Errors\":[],\"Warnings\":[]}") TOT(TOT_OK)),
            UNREADABLE),
        IMP("PackageName 7", DONE(RES("{\"PackageName\":7,\"Statistics\":" STATS_OK ",\"Errors\":[],\"Warnings\":[]}")
                                   TOT(TOT_OK)), UNREADABLE),
        IMP("Statistics missing", DONE(RES("{\"PackageName\":\"m\",\"Errors\":[],\"Warnings\":[]}") TOT(TOT_OK)),
            UNREADABLE),
        IMP("Statistics []", DONE(RES(ELEM("[]", "[]", "[]")) TOT(TOT_OK)), UNREADABLE),
        IMP("Statistics without Failed", DONE(RES(ELEM("{\"Modified\":1}", "[]", "[]")) TOT(TOT_OK)), UNREADABLE),
        IMP("Statistics.Note \"x\"", DONE(RES(ELEM("{\"Failed\":0,\"Note\":\"x\"}", "[]", "[]")) TOT(TOT_OK)), UNREADABLE),
        IMP("Errors missing", DONE(RES("{\"PackageName\":\"m\",\"Statistics\":" STATS_OK ",\"Warnings\":[]}") TOT(TOT_OK)),
            UNREADABLE),
        IMP("Warnings missing", DONE(RES("{\"PackageName\":\"m\",\"Statistics\":" STATS_OK ",\"Errors\":[]}") TOT(TOT_OK)),
            UNREADABLE),
        IMP("Warnings null", DONE(RES(ELEM(STATS_OK, "[]", "null")) TOT(TOT_OK)), UNREADABLE),
        IMP("element extras", DONE(RES("{\"Details\":{\"x\":[1]},\"PackageName\":\"m\",\"Statistics\":{\"Failed\":0,"
                                       "\"Moved\":4},\"Errors\":[],\"Warnings\":[],\"Note\":null}") TOT(TOT_OK)), CLEAN),

        /* Status */
        IMP("Status completed", HEAD("completed", "true") RES(E_OK) TOT(TOT_OK) "}", CLEAN),
        IMP("Status Completed", HEAD("Completed", "true") RES(E_OK) TOT(TOT_OK) "}", CLEAN),
        IMP("Status FAILED, nothing else", HEAD("FAILED", "true") "}", FAILED),
        IMP("Status error", HEAD("error", "true") "}", FAILED),
        IMP("Status Cancelled", HEAD("Cancelled", "true") "}", FAILED),
        IMP("Status CANCELED", HEAD("CANCELED", "true") "}", FAILED),
        IMP("Status aborted", HEAD("aborted", "true") "}", FAILED),
        IMP("Status FAILED, clean results", HEAD("FAILED", "true") RES(E_OK) TOT(TOT_OK) "}", FAILED),
        IMP("Status IN_PROGRESS", HEAD("IN_PROGRESS", "true") "}", RUNNING),
        IMP("Status PENDING, Results []", HEAD("PENDING", "true") RES() TOT(TOT_OK) "}", RUNNING),
        IMP("Status empty", HEAD("", "true") RES(E_OK) TOT(TOT_OK) "}", RUNNING),
        IMP("Status \"COMPLETED \"", HEAD("COMPLETED ", "true") RES(E_OK) TOT(TOT_OK) "}", RUNNING),
        IMP("Status FAILURE", HEAD("FAILURE", "true") "}", RUNNING),
        IMP_NUL("Status COMPLETED\\u0000", HEAD("COMPLETED\\u0000", "true") RES(E_OK) TOT(TOT_OK) "}", RUNNING),
        IMP("Status escaped", HEAD("\\u0043OMPLETED", "true") RES(E_OK) TOT(TOT_OK) "}", CLEAN),
        IMP("Status 3", "{\"id\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"Status\":3,\"DryRun\":true" RES(E_OK)
            TOT(TOT_OK) "}", UNREADABLE),
        IMP("Status missing", "{\"id\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}",
            UNREADABLE),
        IMP("Status twice", HEAD("COMPLETED", "true") ",\"Status\":\"COMPLETED\"" RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("running, ErrorMessage", HEAD("IN_PROGRESS", "true") ",\"ErrorMessage\":null}", UNREADABLE),
        IMP("failed, FailedItems", HEAD("FAILED", "true") ",\"FailedItems\":[]}", UNREADABLE),
        IMP("failed, other id", "{\"id\":\"x\",\"FileId\":\"" FILEID "\",\"Status\":\"FAILED\",\"DryRun\":true}", UNREADABLE),
        IMP("running, results nested too deep", HEAD("IN_PROGRESS", "true") RES("[" E_OK "]") "}", UNREADABLE),
        IMP("running, Errors an object with an error key",
            HEAD("IN_PROGRESS", "true") RES(ELEM(STATS_OK, "{\"error\":\"x\"}", "[]")) "}", UNREADABLE),
        IMP("running, Errors an object", HEAD("IN_PROGRESS", "true") RES(ELEM(STATS_OK, "{\"message\":\"x\"}", "[]")) "}",
            RUNNING),
        IMP("running, Totals.Failed 3.0", HEAD("RUNNING", "true") TOT("{\"Failed\":3.0}") "}", RUNNING),

        /* ids */
        IMP("id missing", "{\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\",\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}",
            UNREADABLE),
        IMP("ID upper", "{\"ID\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\",\"DryRun\":true" RES(E_OK)
            TOT(TOT_OK) "}", CLEAN),
        IMP("id and Id", "{\"id\":\"" OPID "\",\"Id\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\","
            "\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("id another", "{\"id\":\"5f1e0c9ab7d34e2a9c0b1d2f\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\","
            "\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("id recased", "{\"id\":\"5F1E0C9AB7D34E2A9C0B1D2E\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\","
            "\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP_NUL("id and a NUL", "{\"id\":\"" OPID "\\u0000\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\","
            "\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("id escaped", "{\"id\":\"\\u0035f1e0c9ab7d34e2a9c0b1d2\\u0065\",\"FileId\":\"" FILEID "\",\"Status\":"
            "\"COMPLETED\",\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}", CLEAN),
        IMP("id a number", "{\"id\":5,\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\",\"DryRun\":true" RES(E_OK)
            TOT(TOT_OK) "}", UNREADABLE),
        IMP("fileid lower", "{\"id\":\"" OPID "\",\"fileid\":\"" FILEID "\",\"Status\":\"COMPLETED\",\"DryRun\":true"
            RES(E_OK) TOT(TOT_OK) "}", CLEAN),
        IMP("FileId another", "{\"id\":\"" OPID "\",\"FileId\":\"" EXPFILE "\",\"Status\":\"COMPLETED\",\"DryRun\":true"
            RES(E_OK) TOT(TOT_OK) "}", UNREADABLE),
        IMP("FileId missing", "{\"id\":\"" OPID "\",\"Status\":\"COMPLETED\",\"DryRun\":true" RES(E_OK) TOT(TOT_OK) "}",
            UNREADABLE),

        /* U6: where error/fail/warn may appear in a key */
        IMP("totals failed lower", DONE(RES(E_OK) ",\"totals\":{\"FAILED\":0}"), CLEAN),
        IMP("top-level Failed", DONE(",\"Failed\":0" RES(E_OK) TOT(TOT_OK)), UNREADABLE),
        IMP("top-level Warnings", DONE(",\"Warnings\":[]" RES(E_OK) TOT(TOT_OK)), UNREADABLE),
        IMP("Errors in Totals", DONE(RES(E_OK) TOT("{\"Failed\":0,\"Errors\":0}")), UNREADABLE),
        IMP("Warnings in Statistics", DONE(RES(ELEM("{\"Failed\":0,\"Warnings\":0}", "[]", "[]")) TOT(TOT_OK)), UNREADABLE),
        IMP("errorCount in an element", DONE(RES("{\"PackageName\":\"m\",\"Statistics\":" STATS_OK ",\"Errors\":[],"
                                                 "\"Warnings\":[],\"errorCount\":0}") TOT(TOT_OK)), UNREADABLE),
        IMP("lastError deep in an unknown field", DONE(",\"Meta\":{\"a\":[{\"lastError\":null}]}" RES(E_OK) TOT(TOT_OK)),
            UNREADABLE),
        IMP("Totals of an element", DONE(RES("{\"PackageName\":\"m\",\"Statistics\":" STATS_OK ",\"Errors\":[],"
                                             "\"Warnings\":[],\"Totals\":{\"Failed\":0}}") TOT(TOT_OK)), UNREADABLE),
        IMP("Statistics in Totals", DONE(RES(E_OK) TOT("{\"Failed\":0,\"Statistics\":{\"Failed\":0}}")), UNREADABLE),
        IMP("keys equal but for non-ASCII case", DONE(",\"\xc3\xa9\":1,\"\xc3\x89\":2" RES(E_OK) TOT(TOT_OK)), CLEAN),
        IMP("statistics lower", DONE(RES("{\"packagename\":\"m\",\"statistics\":{\"failed\":0},\"errors\":[],"
                                         "\"WARNINGS\":[]}") TOT(TOT_OK)), CLEAN),
        IMP("error in a value only", DONE(",\"Note\":\"error: failed, warning\"" RES(E_OK) TOT(TOT_OK)), CLEAN),
        IMP("key error escaped", DONE(",\"\\u0065rror\":1" RES(E_OK) TOT(TOT_OK)), UNREADABLE),
        IMP_NUL("key with NUL then error", DONE(",\"x\\u0000error\":1" RES(E_OK) TOT(TOT_OK)), UNREADABLE),
        IMP_NUL("keys that differ after a NUL", DONE(",\"a\\u0000x\":1,\"a\\u0000y\":1" RES(E_OK) TOT(TOT_OK)), CLEAN),
        IMP_NUL("keys equal up to a NUL", DONE(",\"Note\\u0000\":1,\"Note\":1" RES(E_OK) TOT(TOT_OK)), CLEAN),

        /* G */
        IMP("top-level array", "[" CLEAN_BODY "]", GARBLED),
        IMP("empty", "", GARBLED),
        IMP("null", "null", GARBLED),
        IMP("a string", "\"COMPLETED\"", GARBLED),
        IMP("cut", "{\"id\":\"" OPID "\",\"FileId\":\"" FILEID "\",\"Status\":\"COMPLETED\",\"DryRun\":tr", GARBLED),
        IMP("trailing junk", CLEAN_BODY "x", GARBLED),
        IMP("two objects", CLEAN_BODY "{}", GARBLED),
        IMP("trailing whitespace", " \t\r\n" CLEAN_BODY " \t\r\n", CLEAN),
        IMP("comment", DONE(RES(E_OK) "/* ok */" TOT(TOT_OK)), GARBLED),
        IMP("line comment", DONE(RES(E_OK) "// ok\n" TOT(TOT_OK)), GARBLED),
        IMP("vertical tab", DONE(RES(E_OK) "\v" TOT(TOT_OK)), GARBLED),
        IMP("form feed", DONE(RES(E_OK) "\f" TOT(TOT_OK)), GARBLED),
        IMP("byte order mark", "\xef\xbb\xbf" CLEAN_BODY, GARBLED),
        IMP("overlong UTF-8", DONE(",\"Note\":\"\xc0\xaf\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("UTF-8 surrogate", DONE(",\"Note\":\"\xed\xa0\x80\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("UTF-8 beyond U+10FFFF", DONE(",\"Note\":\"\xf4\x90\x80\x80\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("Latin-1", DONE(",\"Note\":\"Z\xfcrich\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("UTF-8", DONE(",\"Note\":\"Z\xc3\xbcrich \xf0\x9f\x98\x80\"" RES(E_OK) TOT(TOT_OK)), CLEAN),
        IMP("escaped unpaired surrogate", DONE(",\"Note\":\"\\ud800\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("escaped pair", DONE(",\"Note\":\"\\ud83d\\ude00\"" RES(E_OK) TOT(TOT_OK)), CLEAN),
        IMP("raw tab in a string", DONE(",\"Note\":\"a\tb\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("DEL in a string", DONE(",\"Note\":\"a\x7f\"" RES(E_OK) TOT(TOT_OK)), CLEAN),
        IMP("bad escape", DONE(",\"Note\":\"\\x41\"" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("NaN", DONE(",\"Note\":NaN" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("leading zero", DONE(",\"Note\":01" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("single quotes", DONE(",'Note':1" RES(E_OK) TOT(TOT_OK)), GARBLED),
        IMP("trailing comma", DONE(RES(E_OK) TOT(TOT_OK) ","), GARBLED),
        IMP("True", HEAD("COMPLETED", "True") RES(E_OK) TOT(TOT_OK) "}", GARBLED),
        IMP("garbled beats U1", "{\"a\":1,\"a\":2,", GARBLED),

        /* export status */
        EXP("vendor example",
            "{ \"id\": \"" EXPID "\",\n  \"PackageBundleName\": \"Package-54321-123456789-2025-01-27 09-44\",\n"
            "  \"Status\": \"COMPLETED\",\n  \"FileId\": \"" EXPFILE "\",\n"
            "  \"StartTime\": 1737971051843, \"LastUpdateTime\": 1737971053134,\n  \"ItemCount\": 352,\n"
            "  \"Statistics\": [ {\"PackageName\": \"workflow\", \"ItemCount\": 24},\n"
            "                  {\"PackageName\": \"formLayouts\", \"ItemCount\": 117} ],\n"
            "  \"OperationType\": \"Export\" }", CLEAN, EXPFILE),
        EXP("running, no FileId", EXPHEAD("IN_PROGRESS") "}", RUNNING, NULL),
        EXP("running, FileId 5", EXPHEAD("PENDING") ",\"FileId\":5}", RUNNING, NULL),
        EXP("completed lower", EXPHEAD("completed") ",\"fileid\":\"f\"}", CLEAN, "f"),
        EXP("completed, no FileId", EXPHEAD("COMPLETED") "}", UNREADABLE, NULL),
        EXP("FileId empty", EXPHEAD("COMPLETED") ",\"FileId\":\"\"}", UNREADABLE, NULL),
        EXP("FileId with a space", EXPHEAD("COMPLETED") ",\"FileId\":\"a b\"}", UNREADABLE, NULL),
        EXP("FileId with a tab", EXPHEAD("COMPLETED") ",\"FileId\":\"a\\tb\"}", UNREADABLE, NULL),
        EXP("FileId DEL", EXPHEAD("COMPLETED") ",\"FileId\":\"a\x7f\"}", UNREADABLE, NULL),
        EXP("FileId e-acute", EXPHEAD("COMPLETED") ",\"FileId\":\"\xc3\xa9\"}", UNREADABLE, NULL),
        EXP("FileId 5", EXPHEAD("COMPLETED") ",\"FileId\":5}", UNREADABLE, NULL),
        EXP_NUL("FileId and a NUL", EXPHEAD("COMPLETED") ",\"FileId\":\"abc\\u0000\"}", UNREADABLE),
        EXP("FileId unpaired surrogate", EXPHEAD("COMPLETED") ",\"FileId\":\"abc\\ud800\"}", GARBLED, NULL),
        EXP("FileId surrogate and A", EXPHEAD("COMPLETED") ",\"FileId\":\"abc\\ud800\\u0041\"}", GARBLED, NULL),
        EXP("FileId escaped", EXPHEAD("COMPLETED") ",\"FileId\":\"\\u0041BC\\/d\"}", CLEAN, "ABC/d"),
        EXP("FileId punctuation", EXPHEAD("COMPLETED") ",\"FileId\":\"!~\"}", CLEAN, "!~"),
        EXP("FileId twice", EXPHEAD("COMPLETED") ",\"FileId\":\"f\",\"fileId\":\"f\"}", UNREADABLE, NULL),
        EXP("failed", EXPHEAD("FAILED") "}", FAILED, NULL),
        EXP("error, errorMessage", EXPHEAD("ERROR") ",\"errorMessage\":\"disk full\"}", UNREADABLE, NULL),
        EXP("Errors []", EXPHEAD("COMPLETED") ",\"FileId\":\"f\",\"Errors\":[]}", UNREADABLE, NULL),
        EXP("Failed deep", EXPHEAD("COMPLETED") ",\"FileId\":\"f\",\"Statistics\":[{\"PackageName\":\"x\",\"Failed\":0}]}",
            UNREADABLE, NULL),
        EXP("other id", "{\"id\":\"x\",\"Status\":\"COMPLETED\",\"FileId\":\"f\"}", UNREADABLE, NULL),
        EXP("no id", "{\"Status\":\"COMPLETED\",\"FileId\":\"f\"}", UNREADABLE, NULL),
        EXP("Id instead of id", "{\"Id\":\"" EXPID "\",\"Status\":\"COMPLETED\",\"FileId\":\"f\"}", CLEAN, "f"),
        EXP("no Status", "{\"id\":\"" EXPID "\",\"FileId\":\"f\"}", UNREADABLE, NULL),
        EXP("top-level array", "[]", GARBLED, NULL),

        /* created */
        CRE("Id", "{\"Id\":\"" NEWID "\"}", CLEAN, NEWID),
        CRE("id", "{\"id\":\"abc\"}", CLEAN, "abc"),
        CRE("Id and more", "{\"Name\":\"p.zip\",\"Id\":\"abc\",\"Status\":\"FAILED\"}", CLEAN, "abc"),
        CRE("Id and id", "{\"Id\":\"abc\",\"id\":\"abc\"}", UNREADABLE, NULL),
        CRE("Id twice", "{\"Id\":\"abc\",\"Id\":\"abc\"}", UNREADABLE, NULL),
        CRE("Id 5", "{\"Id\":5}", UNREADABLE, NULL),
        CRE("Id empty", "{\"Id\":\"\"}", UNREADABLE, NULL),
        CRE("Id with a space", "{\"Id\":\"a b\"}", UNREADABLE, NULL),
        CRE_NUL("Id and a NUL", "{\"Id\":\"abc\\u0000\"}", UNREADABLE),
        CRE("Id e-acute", "{\"Id\":\"\xc3\xa9\"}", UNREADABLE, NULL),
        CRE("Id in an array", "{\"Id\":[\"abc\"]}", UNREADABLE, NULL),
        CRE("Id null", "{\"Id\":null}", UNREADABLE, NULL),
        CRE("no Id", "{}", UNREADABLE, NULL),
        CRE("Id nested", "{\"x\":{\"Id\":\"abc\"}}", UNREADABLE, NULL),
        CRE("Errors []", "{\"Id\":\"abc\",\"Errors\":[]}", UNREADABLE, NULL),
        CRE("warning deep", "{\"Id\":\"abc\",\"Result\":[{\"warning\":1}]}", UNREADABLE, NULL),
        CRE("top-level array", "[{\"Id\":\"abc\"}]", GARBLED, NULL),
        CRE("a string", "\"abc\"", GARBLED, NULL),
        CRE("trailing junk", "{\"Id\":\"abc\"}}", GARBLED, NULL),
        CRE("html", "<html><body>Service temporarily unavailable</body></html>", GARBLED, NULL),
};

static char *padded(const char *s, size_t n, char c)
{
        char *p = xm(n + 1);
        memset(p, c, n);
        memcpy(p, s, strlen(s) < n ? strlen(s) : n);
        p[n] = 0;
        return p;
}

/* the 256-byte id (usable) and the 257-byte one (not) */
static void hand_long_ids(void (*check)(const char *, enum fn, const char *, size_t, enum judgement, const char *))
{
        char *ok = padded("x", MAX_ID, 'y'), *ko = padded("x", MAX_ID + 1, 'y');
        char *b;
        b = fmt(EXPHEAD("COMPLETED") ",\"FileId\":\"%s\"}", ok);
        check("FileId of 256 bytes", F_EXPORT, b, strlen(b), JUDGE_CLEAN, ok);
        free(b);
        b = fmt(EXPHEAD("COMPLETED") ",\"FileId\":\"%s\"}", ko);
        check("FileId of 257 bytes", F_EXPORT, b, strlen(b), JUDGE_UNREADABLE, NULL);
        free(b);
        b = fmt("{\"Id\":\"%s\"}", ok);
        check("Id of 256 bytes", F_CREATED, b, strlen(b), JUDGE_CLEAN, ok);
        free(b);
        b = fmt("{\"Id\":\"%s\"}", ko);
        check("Id of 257 bytes", F_CREATED, b, strlen(b), JUDGE_UNREADABLE, NULL);
        free(b);
        free(ok);
        free(ko);
}

/* NUL bytes, the 8 MiB limit and the depth of 1000 */
static void hand_big(void (*check)(const char *, enum fn, const char *, size_t, enum judgement, const char *))
{
        static const char clean[] = CLEAN_BODY, created[] = "{\"Id\":\"abc\"}";
        struct sb b = {0};
        sb_put(&b, clean, sizeof clean);        /* its NUL too */
        check("NUL after the object", F_IMPORT, b.p, b.len, JUDGE_GARBLED, NULL);
        b.len = 0;
        sb_put(&b, created, sizeof created);
        check("created, NUL after the object", F_CREATED, b.p, b.len, JUDGE_GARBLED, NULL);
        b.p[3] = 0;
        check("created, NUL inside", F_CREATED, b.p, b.len - 1, JUDGE_GARBLED, NULL);
        b.p[0] = 0;
        check("NUL first", F_CREATED, b.p, 1, JUDGE_GARBLED, NULL);

        /* trailing whitespace up to the limit: exactly 8 MiB passes, one more byte does not */
        b.len = 0;
        sb_puts(&b, clean);
        while (b.len < MAX_LEN + 1)
                sb_putc(&b, ' ');
        check("8 MiB + 1", F_IMPORT, b.p, MAX_LEN + 1, JUDGE_GARBLED, NULL);
        b.p[MAX_LEN] = 0;
        check("8 MiB", F_IMPORT, b.p, MAX_LEN, JUDGE_CLEAN, NULL);
        b.p[MAX_LEN] = ' ';
        memcpy(b.p, created, strlen(created));
        memset(b.p + strlen(created), ' ', MAX_LEN + 1 - strlen(created));
        check("created, 8 MiB + 1", F_CREATED, b.p, MAX_LEN + 1, JUDGE_GARBLED, NULL);
        b.p[MAX_LEN] = 0;
        check("created, 8 MiB", F_CREATED, b.p, MAX_LEN, JUDGE_CLEAN, "abc");

        for (size_t depth = MAX_DEPTH - 1; depth <= MAX_DEPTH + 1; depth++) {
                /* the top-level object is level 1: "deep" holds depth - 1 arrays */
                b.len = 0;
                sb_puts(&b, "{\"deep\":");
                for (size_t i = 1; i < depth; i++)
                        sb_putc(&b, '[');
                for (size_t i = 1; i < depth; i++)
                        sb_putc(&b, ']');
                sb_puts(&b, ",\"Id\":\"abc\"}");
                char name[64];
                snprintf(name, sizeof name, "created, depth %zu", depth);
                check(name, F_CREATED, b.p, b.len, depth > MAX_DEPTH ? JUDGE_GARBLED : JUDGE_CLEAN,
                      depth > MAX_DEPTH ? NULL : "abc");
                /* the same with objects */
                b.len = 0;
                for (size_t i = 1; i < depth; i++)
                        sb_puts(&b, "{\"a\":");
                sb_puts(&b, "{\"Id\":\"abc\"}");
                for (size_t i = 1; i < depth; i++)
                        sb_putc(&b, '}');
                snprintf(name, sizeof name, "created, %zu objects deep", depth);
                check(name, F_CREATED, b.p, b.len, depth > MAX_DEPTH ? JUDGE_GARBLED : JUDGE_UNREADABLE, NULL);
        }
        b.len = 0;
        sb_puts(&b, "{\"Id\":\"abc\",\"deep\":");
        for (size_t i = 0; i < 100000; i++)
                sb_putc(&b, '[');
        check("created, 100000 open arrays", F_CREATED, b.p, b.len, JUDGE_GARBLED, NULL);
        free(b.p);
}

/* the checker against the expected verdicts: a test of the test */
static unsigned ck_failures;
static void check_checker(const char *name, enum fn fn, const char *body, size_t len, enum judgement want,
                          const char *want_id, bool import_run, bool wf, const char *opid, const char *fileid)
{
        struct judge_rules rules = {opid, fileid, !import_run, wf};
        struct verdict ref = fn == F_IMPORT ? ref_import(body, len, &rules)
                           : fn == F_EXPORT ? ref_export(body, len, EXPID) : ref_created(body, len);
        bool ok = !ref.internal && ref.v == want && (!want_id || (ref.id && strcmp(ref.id, want_id) == 0));
        if (!ok) {
                ck_failures++;
                fprintf(stderr, "checker, case \"%s\": want %s, got %s (%s), id %s\n  body: ", name, vname(want),
                        vname(ref.v), ref.why ? ref.why : "-", ref.id ? ref.id : "-");
                show(stderr, body, len);
                fputc('\n', stderr);
        }
        verdict_free(&ref);
}

static unsigned judge_failures;
static void check_judge(const char *name, enum fn fn, const char *body, size_t len, enum judgement want,
                        const char *want_id, bool import_run, bool wf, const char *opid, const char *fileid)
{
        struct judge_rules rules = {opid, fileid, !import_run, wf};
        char *reason = NULL, *id = NULL;
        const char *bad = NULL;
        enum judgement got = fn == F_IMPORT ? judge_import_status(body, len, &rules, &reason)
                           : fn == F_EXPORT ? judge_export_status(body, len, EXPID, &id, &reason)
                                            : judge_created(body, len, &id, &reason);
        bool ok = got == want && reason_ok(got, reason, &bad) &&
                  (!want_id || (got == JUDGE_CLEAN && id && strcmp(id, want_id) == 0));
        if (!ok) {
                judge_failures++;
                fprintf(stderr, "judge, case \"%s\": want %s, got %s (%s), id %s%s%s\n  body: ", name, vname(want),
                        vname(got), reason ? reason : "no reason", id ? id : "-", bad ? "; " : "", bad ? bad : "");
                show(stderr, body, len);
                fputc('\n', stderr);
        }
        free(reason);
        free(id);
}

static bool hand_for_judge;
static void hand_check(const char *name, enum fn fn, const char *body, size_t len, enum judgement want, const char *id)
{
        (hand_for_judge ? check_judge : check_checker)(name, fn, body, len, want, id, false, false, OPID, FILEID);
}

static void run_hand(bool for_judge)
{
        hand_for_judge = for_judge;
        for (size_t i = 0; i < ELEMENTSOF(hand_cases); i++) {
                const struct hand *h = &hand_cases[i];
                const char *opid = h->vendor_ids ? "66fabdf1e4b06908b04d4051" : OPID;
                const char *fileid = h->vendor_ids ? "c7e87b89-f214-4766-8032-bba6967e1c49" : FILEID;
                (for_judge ? check_judge : check_checker)(h->name, h->fn, h->body, strlen(h->body), h->want,
                                                          h->want_id, h->import_run, h->warnings_fail, opid, fileid);
        }
        hand_long_ids(hand_check);
        hand_big(hand_check);
}

START_TEST(checker_hand_cases) {
        ck_failures = 0;
        run_hand(false);
        ck_assert_msg(ck_failures == 0, "the reference checker misreads %u hand-written cases", ck_failures);
}
END_TEST

START_TEST(judge_hand_cases) {
        judge_failures = 0;
        run_hand(true);
        ck_assert_msg(judge_failures == 0, "the judge misjudges %u hand-written cases", judge_failures);
}
END_TEST

/* Every file of the shared JSON test suite through the judge and the
 * checker: the same verdicts, and GARBLED for every file the suite says is
 * not JSON. */
START_TEST(json_test_suite) {
        const char *dir = getenv("JSON_SUITE") ? getenv("JSON_SUITE") : "../shared/json-test-suite/test_parsing";
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0, bad = 0;
        if (!d) {
                printf("skip json_test_suite: %s not found\n", dir);
                return;
        }
        while ((de = readdir(d))) {
                char path[4096];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                FILE *f = fopen(path, "rb");
                if (!f)
                        continue;
                struct sb text = {0};
                char buf[4096];
                size_t r;
                sb_puts(&text, "");
                while ((r = fread(buf, 1, sizeof buf, f)) > 0)
                        sb_put(&text, buf, r);
                fclose(f);
                bool not_json = de->d_name[0] == 'n' && de->d_name[1] == '_';
                struct judge_rules rules = {OPID, FILEID, true, false};
                for (int fn = 0; fn < 3; fn++) {
                        struct verdict ref = fn == 0 ? ref_import(text.p, text.len, &rules)
                                           : fn == 1 ? ref_export(text.p, text.len, EXPID) : ref_created(text.p, text.len);
                        char *reason = NULL, *id = NULL;
                        enum judgement got = fn == 0 ? judge_import_status(text.p, text.len, &rules, &reason)
                                           : fn == 1 ? judge_export_status(text.p, text.len, EXPID, &id, &reason)
                                                     : judge_created(text.p, text.len, &id, &reason);
                        const char *why;
                        if (ref.internal || got != ref.v || (not_json && ref.v != JUDGE_GARBLED) ||
                            !reason_ok(got, reason, &why)) {
                                bad++;
                                fprintf(stderr, "%s, function %d: checker %s (%s), judge %s (%s)\n", de->d_name, fn,
                                        vname(ref.v), ref.why ? ref.why : "-", vname(got), reason ? reason : "-");
                        }
                        free(reason);
                        free(id);
                        verdict_free(&ref);
                }
                free(text.p);
                n++;
        }
        closedir(d);
        ck_assert_uint_gt(n, 300);
        ck_assert_msg(bad == 0, "%u disagreements on the JSON test suite", bad);
}
END_TEST

START_TEST(id_usable) {
        char *s256 = padded("", MAX_ID, 'a'), *s257 = padded("", MAX_ID + 1, 'a');
        ck_assert(judge_id_usable("a"));
        ck_assert(judge_id_usable("!"));
        ck_assert(judge_id_usable("~"));
        ck_assert(judge_id_usable(OPID));
        ck_assert(judge_id_usable(FILEID));
        ck_assert(judge_id_usable("!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~"));
        ck_assert(judge_id_usable(s256));
        ck_assert(!judge_id_usable(s257));
        ck_assert(!judge_id_usable(""));
        ck_assert(!judge_id_usable(" "));
        ck_assert(!judge_id_usable("a b"));
        ck_assert(!judge_id_usable(" a"));
        ck_assert(!judge_id_usable("a "));
        ck_assert(!judge_id_usable("a\tb"));
        ck_assert(!judge_id_usable("a\n"));
        ck_assert(!judge_id_usable("\x1f"));
        ck_assert(!judge_id_usable("\x7f"));
        ck_assert(!judge_id_usable("\xc3\xa9"));
        ck_assert(!judge_id_usable("\x80"));
        ck_assert(!judge_id_usable("\xff"));
        ck_assert(!judge_id_usable("abc\xed\xa0\x80"));
        free(s256);
        free(s257);
}
END_TEST

START_TEST(verdict_names) {
        for (int a = JUDGE_RUNNING; a <= JUDGE_GARBLED; a++) {
                const char *s = judgement_to_string((enum judgement) a);
                ck_assert_msg(s && *s, "verdict %d has no name", a);
                for (int b = JUDGE_RUNNING; b < a; b++)
                        ck_assert_str_ne(s, judgement_to_string((enum judgement) b));
        }
}
END_TEST

/* ---- --emit N DIR ----------------------------------------------------------
 *
 * N generated import-status answers for the end-to-end test, as
 * DIR/answer-0001.json ..., and DIR/expected ("answer-0001.json CLEAN"),
 * the verdict under {dry_run=true, warnings_fail=false}.  The ids are the
 * placeholders @ID@ and @FILEID@, which the mock replaces with its own; an
 * answer is kept only if its verdict stays the same when real-looking ids
 * of two shapes are put in (so an id written with escapes, or cut in half
 * by a truncation, cannot change meaning on the way).  No NUL bytes.  40%
 * of them are CLEAN, no other verdict takes more than a quarter. */

static char *substitute(const char *t, size_t n, const char *id, const char *file_id, size_t *out_n)
{
        struct sb b = {0};
        sb_puts(&b, "");
        for (size_t i = 0; i < n;) {
                if (n - i >= 4 && memcmp(t + i, "@ID@", 4) == 0) {
                        sb_puts(&b, id);
                        i += 4;
                } else if (n - i >= 8 && memcmp(t + i, "@FILEID@", 8) == 0) {
                        sb_puts(&b, file_id);
                        i += 8;
                } else
                        sb_putc(&b, t[i++]);
        }
        *out_n = b.len;
        return b.p;
}

static enum judgement ref_verdict(const char *t, size_t n, const char *id, const char *file_id)
{
        struct judge_rules rules = {id, file_id, true, false};
        struct verdict v = ref_import(t, n, &rules);
        enum judgement r = v.internal ? (enum judgement) -1 : v.v;
        verdict_free(&v);
        return r;
}

static int emit(const char *count, const char *dir)
{
        static const char *const real[][2] = {
                {"66fabdf1e4b06908b04d4051", "c7e87b89-f214-4766-8032-bba6967e1c49"},
                {"x", "Q"},
        };
        char *end;
        unsigned long n = strtoul(count, &end, 10);
        if (*end || n == 0 || n > 999999) {
                fprintf(stderr, "test_judge --emit N DIR: N must be 1..999999\n");
                return 2;
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "%s: %s\n", dir, strerror(errno));
                return 1;
        }
        unsigned long want_clean = (n * 4 + 9) / 10, cap_other = (n + 3) / 4, got[5] = {0}, done = 0;
        uint64_t seed = gen_seed();
        struct sb text = {0}, desc = {0}, expected = {0};
        sb_puts(&expected, "");
        for (unsigned i = 0; done < n; i++) {
                if (i > 1000 * n + 100000) {
                        fprintf(stderr, "--emit: could not find %lu answers of the wanted mix\n", n);
                        return 1;
                }
                generate(case_seed(seed ^ 0xE417, CM_IMPORT, i), CM_IMPORT, "@ID@", "@FILEID@", 8, &text, &desc);
                if (memchr(text.p, 0, text.len))
                        continue;
                enum judgement v = ref_verdict(text.p, text.len, "@ID@", "@FILEID@");
                if ((int) v < 0 || (v == JUDGE_CLEAN ? got[v] >= want_clean : got[v] >= cap_other))
                        continue;
                if (v != JUDGE_CLEAN && n - done <= want_clean - got[JUDGE_CLEAN])
                        continue;       /* the rest must be CLEAN */
                bool stable = true;
                for (size_t r = 0; r < ELEMENTSOF(real) && stable; r++) {
                        size_t sn;
                        char *s = substitute(text.p, text.len, real[r][0], real[r][1], &sn);
                        stable = ref_verdict(s, sn, real[r][0], real[r][1]) == v;
                        free(s);
                }
                if (!stable)
                        continue;
                char name[32], *path;
                snprintf(name, sizeof name, "answer-%04lu.json", done + 1);
                path = fmt("%s/%s", dir, name);
                FILE *f = fopen(path, "wb");
                if (!f || fwrite(text.p, 1, text.len, f) != text.len || fclose(f) != 0) {
                        fprintf(stderr, "%s: %s\n", path, strerror(errno));
                        return 1;
                }
                free(path);
                sb_printf(&expected, "%s %s\n", name, vname(v));
                got[v]++;
                done++;
        }
        char *path = fmt("%s/expected", dir);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(expected.p, 1, expected.len, f) != expected.len || fclose(f) != 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        printf("%lu answers in %s: RUNNING %lu, CLEAN %lu, FAILED %lu, UNREADABLE %lu, GARBLED %lu (seed 0x%" PRIx64 ")\n",
               n, dir, got[JUDGE_RUNNING], got[JUDGE_CLEAN], got[JUDGE_FAILED], got[JUDGE_UNREADABLE],
               got[JUDGE_GARBLED], seed);
        free(path);
        free(text.p);
        free(desc.p);
        free(expected.p);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "--emit") == 0) {
                if (argc != 4) {
                        fprintf(stderr, "usage: test_judge --emit N DIR\n");
                        return 2;
                }
                return emit(argv[2], argv[3]);
        }
        Suite *s = suite_create("judge");
        TCase *hand = tcase_create("hand");
        tcase_add_test(hand, checker_hand_cases);
        tcase_add_test(hand, judge_hand_cases);
        tcase_add_test(hand, id_usable);
        tcase_add_test(hand, verdict_names);
        tcase_add_test(hand, json_test_suite);
        tcase_set_timeout(hand, 120);
        suite_add_tcase(s, hand);
        TCase *gen = tcase_create("generated");
        tcase_add_test(gen, generated_import_status);
        tcase_add_test(gen, generated_export_status);
        tcase_add_test(gen, generated_created);
        tcase_set_timeout(gen, 600);
        suite_add_tcase(s, gen);
        return check_run(s);
}
