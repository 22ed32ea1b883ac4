/* judge.c — see judge.h.
 *
 * The rules, applied in this order; the first that fires gives the verdict
 * (README.md "How a job runs" restates them for operators):
 *
 *  G   not strict JSON (json.c json_parse: no comments, no NUL, no U+0000
 *      in a string, no lone surrogate escape, no \v or \f, strictly valid
 *      UTF-8, at most 1000 levels), over JSON_MAX_ANSWER bytes, or not an
 *      object: GARBLED.
 *  U1  an object anywhere holds two keys equal but for ASCII case.
 *  U2  "Status" missing or not a string.
 *  U3  "id" missing, not a string, or not the id we polled.
 *  U4  "FileId" missing, not a string, or not the file this job uploaded.
 *  U5  "DryRun" missing, not a boolean, or not what this step expects.
 *  U6  a key anywhere whose name holds "error", "fail" or "warn", except
 *      Totals.Failed, Results[].Errors, Results[].Warnings and
 *      Results[].Statistics.Failed (the findings inside Errors and Warnings
 *      are free-form and not looked at).
 *  F1  a failed Status word (FAILED, ERROR, CANCELLED, CANCELED, ABORTED): FAILED.
 *  R   any other word but COMPLETED: RUNNING.
 *  U7  COMPLETED, but "Totals" missing or not an object, a member of it not
 *      a non-negative integer, or no "Failed" in it.
 *  U8  COMPLETED, but "Results" missing or not an array, or an element that
 *      is not an object with a string "PackageName", an object "Statistics"
 *      of non-negative integers that has "Failed", and arrays "Errors" and
 *      "Warnings".
 *  F2  a Failed count above 0, an Errors entry, or (on_warnings: stop) a
 *      Warnings entry: FAILED.
 *  C   otherwise CLEAN.
 * U1-U8 give UNREADABLE (tests/unit/judge-rules.md says each rule in
 * full; the test there checks the judge against a second reading).  Export statuses and creating answers use G, U1,
 * U6 without its exceptions, and their own id rules (see judge.h).
 *
 * Unknown keys are allowed (the vendor adds fields), unless U6 reads them
 * as a report of trouble we do not understand.  Key comparisons use
 * strcasecmp, which is ASCII-only here: the daemon never calls setlocale. */
#include <errno.h>
#include <strings.h>

#include "json.h"
#include "judge.h"

const char *judgement_to_string(enum judgement v) {
        static const char *const names[] = {
                [JUDGE_RUNNING] = "running", [JUDGE_CLEAN] = "clean", [JUDGE_FAILED] = "failed",
                [JUDGE_UNREADABLE] = "unreadable", [JUDGE_GARBLED] = "garbled",
        };
        return v < ELEMENTSOF(names) ? names[v] : "invalid";
}

enum status_class judge_status_class(const char *s) {
        static const char *const failed[] = { "FAILED", "ERROR", "CANCELLED", "CANCELED", "ABORTED" };
        if (!s)
                return STATUS_RUNNING;
        if (strcasecmp(s, "COMPLETED") == 0)
                return STATUS_COMPLETED;
        for (size_t i = 0; i < ELEMENTSOF(failed); i++)
                if (strcasecmp(s, failed[i]) == 0)
                        return STATUS_FAILED;
        /* PENDING, IN_PROGRESS, RUNNING, or a word we don't know: keep
         * polling until the step times out (API notes, quirk 2). */
        return STATUS_RUNNING;
}

bool judge_id_usable(const char *s) {
        size_t n = 0;
        if (!s)
                return false;
        for (; s[n]; n++)
                if ((unsigned char) s[n] < 0x21 || (unsigned char) s[n] > 0x7e)
                        return false;
        return n >= 1 && n <= JUDGE_MAX_ID;
}

/* ---- reasons ------------------------------------------------------------ */

/* Where in the answer a rule fired, for the reason: "Results[3].Errors".
 * Keys come from the server, so they are cleaned and shortened. */
struct path {
        char s[256];
        size_t len;
};

static size_t path_push(struct path *p, const char *key, size_t index, bool is_index) {
        size_t old = p->len;
        char piece[96];
        if (is_index)
                snprintf(piece, sizeof piece, "[%zu]", index);
        else {
                _cleanup_free_ char *k = text_clean_str(key, 64);
                snprintf(piece, sizeof piece, "%s%s", p->len ? "." : "", k);
        }
        size_t n = strlen(piece);
        if (p->len + n < sizeof p->s) {
                memcpy(p->s + p->len, piece, n + 1);
                p->len += n;
        }
        return old;
}

static void path_pop(struct path *p, size_t old) {
        p->len = old;
        p->s[old] = 0;
}

static enum judgement verdict(enum judgement v, char **ret_reason, const char *fmt, ...) _printf_(3, 4);
static enum judgement verdict(enum judgement v, char **ret_reason, const char *fmt, ...) {
        va_list ap;
        if (ret_reason) {
                va_start(ap, fmt);
                _cleanup_free_ char *raw = xvasprintf(fmt, ap);
                va_end(ap);
                *ret_reason = text_clean_str(raw, 400);
        }
        return v;
}

/* ---- U1 and U6: one walk over the whole answer -------------------------- */

enum pos { P_TOP, P_TOTALS, P_RESULTS, P_RESULT, P_STATS, P_FINDINGS, P_OTHER };

static bool name_reports_trouble(const char *k) {
        static const char *const words[] = { "error", "fail", "warn" };
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasestr(k, words[i]))
                        return true;
        return false;
}

/* The places where a trouble word is the field we judge, not an unknown
 * report (U6's exceptions; only for import statuses). */
static bool trouble_key_expected(enum pos pos, const char *k) {
        if (pos == P_TOTALS || pos == P_STATS)
                return strcasecmp(k, "Failed") == 0;
        if (pos == P_RESULT)
                return strcasecmp(k, "Errors") == 0 || strcasecmp(k, "Warnings") == 0;
        return false;
}

/* Only the entries of Errors and Warnings *arrays* are free-form: an
 * object in their place is a shape we do not know, walked like any other. */
static enum pos child_pos(enum pos pos, const char *key, yajl_val child) {
        if (pos == P_FINDINGS)
                return P_FINDINGS;
        if (!key)       /* an array element */
                return pos == P_RESULTS ? P_RESULT : P_OTHER;
        if (pos == P_TOP)
                return strcasecmp(key, "Totals") == 0 ? P_TOTALS :
                       strcasecmp(key, "Results") == 0 ? P_RESULTS : P_OTHER;
        if (pos == P_RESULT)
                return strcasecmp(key, "Statistics") == 0 ? P_STATS :
                       (strcasecmp(key, "Errors") == 0 || strcasecmp(key, "Warnings") == 0) &&
                       YAJL_IS_ARRAY(child) ? P_FINDINGS : P_OTHER;
        return P_OTHER;
}

static int cmp_key(const void *a, const void *b) {
        return strcasecmp(*(const char *const *) a, *(const char *const *) b);
}

/* U1 for one object: the first key that appears twice, or NULL.  Sorted,
 * so an answer with 100,000 keys costs n log n, not n². */
static const char *duplicate_key(yajl_val o) {
        size_t n = o->u.object.len;
        const char *dup = NULL;
        if (n < 2)
                return NULL;
        const char **k = xmalloc(n * sizeof *k);
        memcpy(k, o->u.object.keys, n * sizeof *k);
        qsort(k, n, sizeof *k, cmp_key);
        for (size_t i = 1; i < n && !dup; i++)
                if (strcasecmp(k[i - 1], k[i]) == 0)
                        dup = k[i];
        free(k);
        return dup;
}

static enum judgement walk(yajl_val v, enum pos pos, bool exceptions, struct path *p, char **ret_reason) {
        enum judgement r = JUDGE_CLEAN;

        if (YAJL_IS_OBJECT(v)) {
                const char *dup = duplicate_key(v);
                if (dup) {
                        _cleanup_free_ char *k = text_clean_str(dup, 64);
                        return verdict(JUDGE_UNREADABLE, ret_reason, "the key \"%s\" appears twice in %s "
                                       "(keys are read regardless of case, so the answer is ambiguous)",
                                       k, p->len ? p->s : "the answer");
                }
                for (size_t i = 0; i < v->u.object.len && r == JUDGE_CLEAN; i++) {
                        const char *k = v->u.object.keys[i];
                        size_t old = path_push(p, k, 0, false);
                        if (pos != P_FINDINGS && name_reports_trouble(k) &&
                            !(exceptions && trouble_key_expected(pos, k)))
                                r = verdict(JUDGE_UNREADABLE, ret_reason, "unexpected field %s: its name reports "
                                            "trouble (error, fail or warn) in a place the rules do not judge", p->s);
                        else
                                r = walk(v->u.object.values[i], child_pos(pos, k, v->u.object.values[i]), exceptions,
                                         p, ret_reason);
                        path_pop(p, old);
                }
        } else if (YAJL_IS_ARRAY(v)) {
                for (size_t i = 0; i < v->u.array.len && r == JUDGE_CLEAN; i++) {
                        size_t old = path_push(p, NULL, i, true);
                        r = walk(v->u.array.values[i], child_pos(pos, NULL, NULL), exceptions, p, ret_reason);
                        path_pop(p, old);
                }
        }
        return r;
}

/* G, then U1 and U6.  *ret is the parsed answer when JUDGE_CLEAN. */
static enum judgement parse_and_walk(const char *body, size_t len, bool exceptions, yajl_val *ret,
                                     char **ret_reason) {
        char err[256];
        struct path p = {};
        yajl_val o;
        enum judgement r;

        if (len > JSON_MAX_ANSWER)
                return verdict(JUDGE_GARBLED, ret_reason, "the answer is larger than %u bytes", JSON_MAX_ANSWER);
        o = json_parse(body, len, err, sizeof err);
        if (!o)
                return verdict(JUDGE_GARBLED, ret_reason, "the answer is not JSON (%s)", err);
        if (!YAJL_IS_OBJECT(o)) {
                r = verdict(JUDGE_GARBLED, ret_reason, "the answer is %s, not a JSON object", json_type_name(o));
                yajl_tree_free(o);
                return r;
        }
        r = walk(o, P_TOP, exceptions, &p, ret_reason);
        if (r != JUDGE_CLEAN) {
                yajl_tree_free(o);
                return r;
        }
        *ret = o;
        return JUDGE_CLEAN;
}

/* ---- field rules ---------------------------------------------------------- */

/* A required string member equal to want (want NULL: any string). */
static enum judgement want_string(yajl_val o, const char *key, const char *want, const char *what,
                                  const char **ret, char **ret_reason) {
        yajl_val v = json_get(o, key);
        if (!YAJL_IS_STRING(v))
                return verdict(JUDGE_UNREADABLE, ret_reason, "\"%s\" is %s, expected a string", key, json_type_name(v));
        if (want && !streq(YAJL_GET_STRING(v), want)) {
                _cleanup_free_ char *got = text_clean_str(YAJL_GET_STRING(v), 80);
                return verdict(JUDGE_UNREADABLE, ret_reason, "\"%s\" is \"%s\", not %s \"%s\"", key, got, what, want);
        }
        if (ret)
                *ret = YAJL_GET_STRING(v);
        return JUDGE_CLEAN;
}

/* The token itself is looked at, not only yajl's reading of it: 3.0 and
 * 1e0 are not counts, whatever their value. */
static bool nonneg_integer(yajl_val v, long long *ret) {
        const char *t;
        if (!YAJL_IS_INTEGER(v))
                return false;
        t = v->u.number.r;
        if (*t == '-')
                t++;
        if (!*t || t[strspn(t, "0123456789")] != 0 || YAJL_GET_INTEGER(v) < 0)
                return false;
        if (ret)
                *ret = YAJL_GET_INTEGER(v);
        return true;
}

/* An object of counts (Totals, Statistics): every member a non-negative
 * integer, "Failed" among them; its value in *ret_failed. */
static enum judgement counts(yajl_val o, const char *where, long long *ret_failed, char **ret_reason) {
        if (!YAJL_IS_OBJECT(o))
                return verdict(JUDGE_UNREADABLE, ret_reason, "%s is %s, expected an object of counts", where,
                               json_type_name(o));
        for (size_t i = 0; i < o->u.object.len; i++)
                if (!nonneg_integer(o->u.object.values[i], NULL)) {
                        _cleanup_free_ char *k = text_clean_str(o->u.object.keys[i], 64);
                        return verdict(JUDGE_UNREADABLE, ret_reason, "%s.%s is %s, expected a non-negative integer",
                                       where, k, YAJL_IS_NUMBER(o->u.object.values[i]) ?
                                       "not a non-negative integer" : json_type_name(o->u.object.values[i]));
                }
        if (!nonneg_integer(json_get(o, "Failed"), ret_failed))
                return verdict(JUDGE_UNREADABLE, ret_reason, "%s has no \"Failed\" count", where);
        return JUDGE_CLEAN;
}

/* U8 and the findings of F2 for one Results[] element. */
static enum judgement result_entry(yajl_val e, size_t i, bool warnings_fail, bool *ret_trouble, char **ret_reason) {
        char where[64];
        long long failed;
        yajl_val errors, warnings;
        enum judgement r;

        snprintf(where, sizeof where, "Results[%zu]", i);
        if (!YAJL_IS_OBJECT(e))
                return verdict(JUDGE_UNREADABLE, ret_reason, "%s is %s, expected an object", where, json_type_name(e));
        if (!YAJL_IS_STRING(json_get(e, "PackageName")))
                return verdict(JUDGE_UNREADABLE, ret_reason, "%s.PackageName is %s, expected a string", where,
                               json_type_name(json_get(e, "PackageName")));
        snprintf(where, sizeof where, "Results[%zu].Statistics", i);
        if ((r = counts(json_get(e, "Statistics"), where, &failed, ret_reason)) != JUDGE_CLEAN)
                return r;
        errors = json_get(e, "Errors");
        warnings = json_get(e, "Warnings");
        if (!YAJL_IS_ARRAY(errors))
                return verdict(JUDGE_UNREADABLE, ret_reason, "Results[%zu].Errors is %s, expected an array", i,
                               json_type_name(errors));
        if (!YAJL_IS_ARRAY(warnings))
                return verdict(JUDGE_UNREADABLE, ret_reason, "Results[%zu].Warnings is %s, expected an array", i,
                               json_type_name(warnings));
        if (failed > 0 || errors->u.array.len > 0 || (warnings_fail && warnings->u.array.len > 0))
                *ret_trouble = true;
        return JUDGE_CLEAN;
}

static enum judgement judge_import_tree(yajl_val o, const struct judge_rules *rules, char **ret_reason) {
        const char *status = NULL;
        yajl_val dry, results;
        long long failed;
        bool trouble = false;
        enum judgement r;

        if ((r = want_string(o, "Status", NULL, NULL, &status, ret_reason)) != JUDGE_CLEAN ||
            (r = want_string(o, "id", rules->operation_id, "the id polled", NULL, ret_reason)) != JUDGE_CLEAN ||
            (r = want_string(o, "FileId", rules->file_id, "the file this job uploaded", NULL, ret_reason)) != JUDGE_CLEAN)
                return r;
        dry = json_get(o, "DryRun");
        if (!YAJL_IS_TRUE(dry) && !YAJL_IS_FALSE(dry))
                return verdict(JUDGE_UNREADABLE, ret_reason, "\"DryRun\" is %s, expected a boolean", json_type_name(dry));
        if (YAJL_IS_TRUE(dry) != rules->dry_run)
                return verdict(JUDGE_UNREADABLE, ret_reason, rules->dry_run ?
                               "\"DryRun\" is false in the status of a dry run: the server may have imported "
                               "the package for real" :
                               "\"DryRun\" is true in the status of an import: the server did not import");
        switch (judge_status_class(status)) {
        case STATUS_FAILED:
                return verdict(JUDGE_FAILED, ret_reason, "Status is %s", status);
        case STATUS_RUNNING:
                return JUDGE_RUNNING;
        case STATUS_COMPLETED:
                break;
        }
        if ((r = counts(json_get(o, "Totals"), "Totals", &failed, ret_reason)) != JUDGE_CLEAN)
                return r;
        results = json_get(o, "Results");
        if (!YAJL_IS_ARRAY(results))
                return verdict(JUDGE_UNREADABLE, ret_reason, "\"Results\" is %s, expected an array",
                               json_type_name(results));
        for (size_t i = 0; i < results->u.array.len; i++)
                if ((r = result_entry(results->u.array.values[i], i, rules->warnings_fail, &trouble,
                                      ret_reason)) != JUDGE_CLEAN)
                        return r;
        if (failed > 0 || trouble)
                return verdict(JUDGE_FAILED, ret_reason, "Totals.Failed is %lld, and the results %s", failed,
                               trouble ? "report failures, errors or (on_warnings: stop) warnings" :
                               "report nothing more");
        return JUDGE_CLEAN;
}

enum judgement judge_import_status(const char *body, size_t len, const struct judge_rules *rules,
                                   char **ret_reason) {
        yajl_val o = NULL;
        enum judgement r;

        if (ret_reason)
                *ret_reason = NULL;
        if ((r = parse_and_walk(body, len, true, &o, ret_reason)) != JUDGE_CLEAN)
                return r;
        r = judge_import_tree(o, rules, ret_reason);
        yajl_tree_free(o);
        return r;
}

enum judgement judge_export_status(const char *body, size_t len, const char *export_id,
                                   char **ret_file_id, char **ret_reason) {
        yajl_val o = NULL, f;
        const char *status = NULL;
        enum judgement r;

        if (ret_reason)
                *ret_reason = NULL;
        *ret_file_id = NULL;
        if ((r = parse_and_walk(body, len, false, &o, ret_reason)) != JUDGE_CLEAN)
                return r;
        if ((r = want_string(o, "Status", NULL, NULL, &status, ret_reason)) != JUDGE_CLEAN ||
            (r = want_string(o, "id", export_id, "the export polled", NULL, ret_reason)) != JUDGE_CLEAN)
                goto out;
        switch (judge_status_class(status)) {
        case STATUS_FAILED:
                r = verdict(JUDGE_FAILED, ret_reason, "Status is %s", status);
                goto out;
        case STATUS_RUNNING:
                r = JUDGE_RUNNING;
                goto out;
        case STATUS_COMPLETED:
                break;
        }
        f = json_get(o, "FileId");
        if (!YAJL_IS_STRING(f) || !judge_id_usable(YAJL_GET_STRING(f))) {
                r = verdict(JUDGE_UNREADABLE, ret_reason, "the export is COMPLETED but \"FileId\" is %s",
                            YAJL_IS_STRING(f) ? "not a usable id (1 to 256 printable characters, no space)" :
                            json_type_name(f));
                goto out;
        }
        *ret_file_id = xstrdup(YAJL_GET_STRING(f));
out:
        yajl_tree_free(o);
        return r;
}

enum judgement judge_created(const char *body, size_t len, char **ret_id, char **ret_reason) {
        yajl_val o = NULL, v;
        enum judgement r;

        if (ret_reason)
                *ret_reason = NULL;
        *ret_id = NULL;
        if ((r = parse_and_walk(body, len, false, &o, ret_reason)) != JUDGE_CLEAN)
                return r;
        v = json_get(o, "Id");
        if (!YAJL_IS_STRING(v) || !judge_id_usable(YAJL_GET_STRING(v)))
                r = verdict(JUDGE_UNREADABLE, ret_reason, "\"Id\" is %s",
                            YAJL_IS_STRING(v) ? "not a usable id (1 to 256 printable characters, no space)" :
                            json_type_name(v));
        else
                *ret_id = xstrdup(YAJL_GET_STRING(v));
        yajl_tree_free(o);
        return r;
}
