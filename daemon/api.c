/* api.c — see api.h. */
#include <ctype.h>
#include <errno.h>
#include <strings.h>

#include "api.h"
#include "json.h"
#include "judge.h"

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static char *path_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = xmalloc(strlen(s) * 3 + 1), *p = out;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
                        *p++ = (char) c;
                else {
                        *p++ = '%';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 15];
                }
        }
        *p = 0;
        return out;
}

/* {base}/rest/{tenant}/{path}[/{id}][{query}] with tenant and id escaped. */
static char *rest_url(const char *base, const char *tenant, const char *path, const char *id, const char *query) {
        _cleanup_free_ char *t = path_escape(tenant), *i = id ? path_escape(id) : NULL;
        return xasprintf("%s/rest/%s/%s%s%s%s", base, t, path, i ? "/" : "", i ? i : "", query ? query : "");
}

char *api_url_export(const char *base, const char *tenant, const char *package) {
        return rest_url(base, tenant, "dev2prod/export/types", package, NULL);
}
char *api_url_export_status(const char *base, const char *tenant, const char *id) {
        return rest_url(base, tenant, "dev2prod/export", id, NULL);
}
char *api_url_download(const char *base, const char *tenant, const char *file_id) {
        /* The template's path, not the example's /dev2prod/ces/ (quirk 3). */
        return rest_url(base, tenant, "ces/attachment", file_id, NULL);
}
char *api_url_upload(const char *base, const char *tenant) {
        return rest_url(base, tenant, "ces/attachment", NULL, NULL);
}
char *api_url_import(const char *base, const char *tenant, bool dry_run) {
        return rest_url(base, tenant, "dev2prod/import", NULL, dry_run ? "?dryRun=true" : NULL);
}
char *api_url_import_status(const char *base, const char *tenant, const char *id) {
        return rest_url(base, tenant, "dev2prod/import", id, NULL);
}
char *api_url_login(const char *base) {
        return xasprintf("%s/api/rest/authentication/login", base);
}

/* Builds a flat JSON object from key/value pairs (NULL-terminated). */
static char *json_object(const char *k, ...) {
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        size_t len;
        va_list ap;
        char *out;

        yajl_gen_map_open(g);
        va_start(ap, k);
        for (; k; k = va_arg(ap, const char *)) {
                const char *v = va_arg(ap, const char *);
                if (json_kv_str(g, k, v) < 0) {
                        va_end(ap);
                        yajl_gen_free(g);
                        return NULL;
                }
        }
        va_end(ap);
        yajl_gen_map_close(g);
        yajl_gen_get_buf(g, &buf, &len);
        out = xstrndup((const char *) buf, len);
        /* the buffer may hold a password: wipe before yajl frees it */
        explicit_bzero((void *) buf, len);
        yajl_gen_free(g);
        return out;
}

char *api_body_import(const char *file_id) {
        return json_object("FileId", file_id, NULL);
}

char *api_body_login(const char *tenant, const char *user, const char *password, const char *role) {
        return json_object("tenant", tenant, "username", user, "password", password,
                           "role", role && *role ? role : NULL, NULL);
}

static int fail(char **ret_err, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (ret_err)
                *ret_err = xvasprintf(fmt, ap);
        va_end(ap);
        return -EPROTO;
}

/* Parses body as a JSON object; the caller frees *ret with yajl_tree_free. */
static int parse_object(const char *body, size_t len, yajl_val *ret, char **ret_err) {
        char err[256];
        if (len > JSON_MAX_ANSWER)
                return fail(ret_err, "answer larger than %u bytes", JSON_MAX_ANSWER);
        yajl_val v = json_parse(body, len, err, sizeof err);
        if (!v) {
                _cleanup_free_ char *snip = api_error_text(body);
                return fail(ret_err, "not JSON (%s): %s", err, snip);
        }
        if (!YAJL_IS_OBJECT(v)) {
                yajl_tree_free(v);
                return fail(ret_err, "expected a JSON object");
        }
        *ret = v;
        return 0;
}

int api_parse_id(const char *body, size_t len, char **ret_id, char **ret_err) {
        _cleanup_free_ char *reason = NULL;
        if (judge_created(body, len, ret_id, &reason) != JUDGE_CLEAN)
                return fail(ret_err, "%s", reason);
        return 0;
}

/* A required string member, cleaned. */
static int get_status_word(yajl_val o, const char *key, char **ret, char **ret_err) {
        yajl_val v = json_get(o, key);
        if (!v)
                return fail(ret_err, "no \"%s\" in the answer", key);
        if (!YAJL_IS_STRING(v))
                return fail(ret_err, "\"%s\" is %s, expected a string", key, json_type_name(v));
        *ret = text_clean_str(YAJL_GET_STRING(v), API_MAX_TEXT);
        return 0;
}

static char *dup_str(yajl_val o, const char *k) { return text_clean_str(json_get_string(o, k), API_MAX_TEXT); }

static long long get_ll(yajl_val o, const char *k) {
        long long v = 0;
        (void) json_get_int(o, k, &v);  /* absent or odd statistics count as 0 */
        return v;
}

int api_parse_export_status(const char *body, size_t len, struct export_status *s, char **ret_err) {
        yajl_val o, st;
        int r;

        memset(s, 0, sizeof *s);
        if ((r = parse_object(body, len, &o, ret_err)) < 0)
                return r;
        if ((r = get_status_word(o, "Status", &s->status, ret_err)) < 0)
                goto out;
        s->id = dup_str(o, "id");
        s->file_id = dup_str(o, "FileId");
        s->bundle_name = dup_str(o, "PackageBundleName");
        s->item_count = get_ll(o, "ItemCount");
        s->start_ms = get_ll(o, "StartTime");
        s->update_ms = get_ll(o, "LastUpdateTime");
        if ((st = json_get_array(o, "Statistics"))) {
                s->stats = xcalloc(MIN(st->u.array.len, API_MAX_RESULTS) + 1, sizeof *s->stats);
                for (size_t i = 0; i < st->u.array.len && s->n_stats < API_MAX_RESULTS; i++) {
                        yajl_val e = st->u.array.values[i];
                        if (!YAJL_IS_OBJECT(e) || !json_get_string(e, "PackageName"))
                                continue;
                        s->stats[s->n_stats].name = dup_str(e, "PackageName");
                        s->stats[s->n_stats++].items = get_ll(e, "ItemCount");
                }
        }
out:
        yajl_tree_free(o);
        if (r < 0)
                export_status_free(s);
        return r;
}

/* Errors[] and Warnings[] entries are strings in practice; an object is
 * reduced to its message so the log line stays readable.  Keeps at most
 * *budget of them (and lowers it); *ret_total counts them all. */
static char **string_list(yajl_val arr, size_t *budget, size_t *ret_n, size_t *ret_total) {
        char **v;
        size_t n = 0, keep;

        *ret_n = *ret_total = 0;
        if (!YAJL_IS_ARRAY(arr) || arr->u.array.len == 0)
                return NULL;
        *ret_total = arr->u.array.len;
        keep = MIN(arr->u.array.len, *budget);
        if (keep == 0)
                return NULL;
        v = xcalloc(keep, sizeof *v);
        for (size_t i = 0; i < keep; i++) {
                yajl_val e = arr->u.array.values[i];
                const char *m = NULL;
                if (YAJL_IS_STRING(e))
                        m = YAJL_GET_STRING(e);
                else if (YAJL_IS_OBJECT(e)) {
                        static const char *const keys[] = { "Message", "Error", "Description", "Detail", "Text" };
                        for (size_t k = 0; k < ELEMENTSOF(keys) && !m; k++)
                                m = json_get_string(e, keys[k]);
                }
                v[n++] = text_clean_str(m ? m : "(an entry without a message)", API_MAX_TEXT);
        }
        *budget -= n;
        *ret_n = n;
        return v;
}

int api_parse_import_status(const char *body, size_t len, struct import_status *s, char **ret_err) {
        yajl_val o, res, tot;
        int r;

        memset(s, 0, sizeof *s);
        if ((r = parse_object(body, len, &o, ret_err)) < 0)
                return r;
        if ((r = get_status_word(o, "Status", &s->status, ret_err)) < 0)
                goto out;
        s->id = dup_str(o, "id");
        s->file_id = dup_str(o, "FileId");
        (void) json_get_bool(o, "DryRun", &s->dry_run);
        (void) json_get_bool(o, "StudioLocked", &s->studio_locked);
        (void) json_get_bool(o, "SystemLocked", &s->system_locked);
        s->start_ms = get_ll(o, "StartTime");
        s->update_ms = get_ll(o, "LastUpdateTime");
        if ((res = json_get_array(o, "Results"))) {
                size_t err_budget = API_MAX_FINDINGS, warn_budget = API_MAX_FINDINGS;
                s->results_total = res->u.array.len;
                s->results = xcalloc(MIN(res->u.array.len, API_MAX_RESULTS) + 1, sizeof *s->results);
                for (size_t i = 0; i < res->u.array.len && s->n_results < API_MAX_RESULTS; i++) {
                        yajl_val e = res->u.array.values[i], stats;
                        struct import_result *ir;
                        if (!YAJL_IS_OBJECT(e))
                                continue;
                        ir = &s->results[s->n_results++];
                        ir->package = text_clean_str(json_get_string(e, "PackageName") ?: "(unnamed)", API_MAX_TEXT);
                        stats = json_get(e, "Statistics");
                        ir->modified = get_ll(stats, "Modified");
                        ir->removed = get_ll(stats, "Removed");
                        ir->failed = get_ll(stats, "Failed");
                        ir->skipped = get_ll(stats, "Skipped");
                        ir->errors = string_list(json_get(e, "Errors"), &err_budget, &ir->n_errors,
                                                 &ir->errors_total);
                        ir->warnings = string_list(json_get(e, "Warnings"), &warn_budget, &ir->n_warnings,
                                                   &ir->warnings_total);
                }
        }
        if ((tot = json_get(o, "Totals")) && YAJL_IS_OBJECT(tot)) {
                s->has_totals = true;
                s->totals.added = get_ll(tot, "Added");
                s->totals.modified = get_ll(tot, "Modified");
                s->totals.removed = get_ll(tot, "Removed");
                s->totals.failed = get_ll(tot, "Failed");
                s->totals.skipped = get_ll(tot, "Skipped");
        }
out:
        yajl_tree_free(o);
        if (r < 0)
                import_status_free(s);
        return r;
}

static char *trim_dup(const char *s, size_t max) {
        while (*s && isspace((unsigned char) *s))
                s++;
        size_t n = strcspn(s, "\r\n");
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                n--;
        return xstrndup(s, MIN(n, max));
}

/* A session key goes back in an Authorization header: a CR or LF in it
 * would let the server's answer add headers of its own to our requests. */
static int login_key_check(char **key, char **ret_err) {
        for (const char *p = *key; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e) {
                        secret_free(*key);
                        *key = NULL;
                        return fail(ret_err, "the session key in the login answer holds characters an HTTP "
                                    "header cannot carry");
                }
        return 0;
}

int api_parse_login(const char *body, size_t len, char **ret_key, char **ret_err) {
        static const char *const keys[] = { "SessionKey", "sessionKey", "key", "token" };
        char err[64];
        yajl_val v;

        if (strlen(body) != len)
                return fail(ret_err, "the login answer holds a NUL byte");
        if (body[0] != '{' && body[0] != '"') {
                char *k = trim_dup(body, 4096);
                if (!*k) {
                        free(k);
                        return fail(ret_err, "empty answer to the login");
                }
                *ret_key = k;
                return login_key_check(ret_key, ret_err);
        }
        v = json_parse(body, len, err, sizeof err);
        if (!v)
                return fail(ret_err, "login answer is not JSON (%s)", err);
        if (YAJL_IS_STRING(v) && *YAJL_GET_STRING(v))
                *ret_key = xstrdup(YAJL_GET_STRING(v));
        else
                for (size_t i = 0; i < ELEMENTSOF(keys) && !*ret_key; i++)
                        if (json_get_string(v, keys[i]) && *json_get_string(v, keys[i]))
                                *ret_key = xstrdup(json_get_string(v, keys[i]));
        yajl_tree_free(v);
        return *ret_key ? login_key_check(ret_key, ret_err) : fail(ret_err, "no session key in the login answer");
}

char *api_error_text(const char *body) {
        static const char *const keys[] = { "message", "error", "detail", "errorMessage" };
        char err[8];
        if (!body || !*body)
                return xstrdup("(empty body)");
        if (body[0] == '{' && strlen(body) < 65536) {
                yajl_val v = json_parse(body, strlen(body), err, sizeof err);
                for (size_t i = 0; v && i < ELEMENTSOF(keys); i++) {
                        const char *m = json_get_string(v, keys[i]);
                        if (m) {
                                /* the whole message, its line breaks made
                                 * spaces: the server meant all of it */
                                char *t = text_clean_str(m + strspn(m, " \t\r\n"), 300);
                                size_t n = strlen(t);
                                while (n > 0 && t[n - 1] == ' ')
                                        t[--n] = 0;
                                yajl_tree_free(v);
                                return t;
                        }
                }
                yajl_tree_free(v);
        }
        _cleanup_free_ char *t = trim_dup(body, 1200);
        return text_clean_str(t, 300);
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void export_status_free(struct export_status *s) {
        free(s->id);
        free(s->status);
        free(s->file_id);
        free(s->bundle_name);
        for (size_t i = 0; i < s->n_stats; i++)
                free(s->stats[i].name);
        free(s->stats);
        memset(s, 0, sizeof *s);
}

void import_status_free(struct import_status *s) {
        free(s->id);
        free(s->status);
        free(s->file_id);
        for (size_t i = 0; i < s->n_results; i++) {
                free(s->results[i].package);
                strv_free(s->results[i].errors, s->results[i].n_errors);
                strv_free(s->results[i].warnings, s->results[i].n_warnings);
        }
        free(s->results);
        memset(s, 0, sizeof *s);
}

/* Results past API_MAX_RESULTS are not kept, so their findings are not
 * counted here; the judge, which reads the whole answer, decides. */
size_t import_status_n_errors(const struct import_status *s) {
        size_t n = 0;
        for (size_t i = 0; i < s->n_results; i++)
                n += MAX(s->results[i].errors_total, s->results[i].n_errors);
        return n;
}

size_t import_status_n_warnings(const struct import_status *s) {
        size_t n = 0;
        for (size_t i = 0; i < s->n_results; i++)
                n += MAX(s->results[i].warnings_total, s->results[i].n_warnings);
        return n;
}
