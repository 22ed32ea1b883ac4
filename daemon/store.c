/* store.c — see store.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "store.h"

int store_open(const char *state_directory, char **ret_jobs_dir) {
        char *d = xasprintf("%s/jobs", state_directory);
        int r = mkdir_p(d, 0700);
        if (r < 0) {
                free(d);
                return r;
        }
        *ret_jobs_dir = d;
        return 0;
}

bool store_id_valid(const char *id) {
        size_t n = strlen(id);
        if (n == 0 || n > 128 || id[0] == '.')
                return false;
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._-", *p))
                        return false;
        return true;
}

char *store_job_path(const char *jobs_dir, const char *id) {
        return xasprintf("%s/%s.json", jobs_dir, id);
}

char *store_job_id_for(const char *promotion, uint64_t usec) {
        char ts[32];
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
        return xasprintf("%s-%s", promotion, ts);
}

char *store_new_job_id(const char *jobs_dir, const char *promotion, uint64_t usec) {
        _cleanup_free_ char *base = store_job_id_for(promotion, usec);
        for (unsigned k = 1;; k++) {
                char *id = k == 1 ? xstrdup(base) : xasprintf("%s-%u", base, k);
                _cleanup_free_ char *path = store_job_path(jobs_dir, id);
                if (access(path, F_OK) < 0)
                        return id;
                free(id);
        }
}

/* ---- writing ----------------------------------------------------------- */

#define TRY(x) do { int _r = (x); if (_r < 0) return _r; } while (0)

static int gen_open(yajl_gen g) { return yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }
static int gen_close(yajl_gen g) { return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }
static int gen_aopen(yajl_gen g) { return yajl_gen_array_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }
static int gen_aclose(yajl_gen g) { return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }

static int gen_tenant(yajl_gen g, const char *key, const struct job_tenant *t) {
        TRY(json_str(g, key));
        TRY(gen_open(g));
        TRY(json_kv_str(g, "name", t->name));
        TRY(json_kv_str(g, "url", t->url));
        TRY(json_kv_str(g, "tenant_id", t->tenant_id));
        return gen_close(g);
}

static int gen_strings(yajl_gen g, const char *key, char **v, size_t n) {
        TRY(json_str(g, key));
        TRY(gen_aopen(g));
        for (size_t i = 0; i < n; i++)
                TRY(json_str(g, v[i]));
        return gen_aclose(g);
}

static int gen_import_status(yajl_gen g, const char *key, const struct import_status *s) {
        if (!s->status)
                return 0;
        TRY(json_str(g, key));
        TRY(gen_open(g));
        TRY(json_kv_str(g, "id", s->id));
        TRY(json_kv_str(g, "status", s->status));
        TRY(json_kv_str(g, "file_id", s->file_id));
        TRY(json_kv_bool(g, "dry_run", s->dry_run));
        TRY(json_kv_bool(g, "studio_locked", s->studio_locked));
        TRY(json_kv_bool(g, "system_locked", s->system_locked));
        TRY(json_kv_int(g, "start_ms", s->start_ms));
        TRY(json_kv_int(g, "update_ms", s->update_ms));
        if (s->has_totals) {
                TRY(json_str(g, "totals"));
                TRY(gen_open(g));
                TRY(json_kv_int(g, "added", s->totals.added));
                TRY(json_kv_int(g, "modified", s->totals.modified));
                TRY(json_kv_int(g, "removed", s->totals.removed));
                TRY(json_kv_int(g, "failed", s->totals.failed));
                TRY(json_kv_int(g, "skipped", s->totals.skipped));
                TRY(gen_close(g));
        }
        TRY(json_kv_uint(g, "results_total", MAX(s->results_total, s->n_results)));
        TRY(json_str(g, "results"));
        TRY(gen_aopen(g));
        for (size_t i = 0; i < s->n_results; i++) {
                const struct import_result *r = &s->results[i];
                TRY(gen_open(g));
                TRY(json_kv_str(g, "package", r->package));
                TRY(json_kv_int(g, "modified", r->modified));
                TRY(json_kv_int(g, "removed", r->removed));
                TRY(json_kv_int(g, "failed", r->failed));
                TRY(json_kv_int(g, "skipped", r->skipped));
                TRY(gen_strings(g, "errors", r->errors, r->n_errors));
                TRY(json_kv_uint(g, "errors_total", MAX(r->errors_total, r->n_errors)));
                TRY(gen_strings(g, "warnings", r->warnings, r->n_warnings));
                TRY(json_kv_uint(g, "warnings_total", MAX(r->warnings_total, r->n_warnings)));
                TRY(gen_close(g));
        }
        TRY(gen_aclose(g));
        return gen_close(g);
}

static int gen_export_status(yajl_gen g, const struct export_status *s) {
        if (!s->status)
                return 0;
        TRY(json_str(g, "export"));
        TRY(gen_open(g));
        TRY(json_kv_str(g, "id", s->id));
        TRY(json_kv_str(g, "status", s->status));
        TRY(json_kv_str(g, "file_id", s->file_id));
        TRY(json_kv_str(g, "bundle_name", s->bundle_name));
        TRY(json_kv_int(g, "item_count", s->item_count));
        TRY(json_kv_int(g, "start_ms", s->start_ms));
        TRY(json_kv_int(g, "update_ms", s->update_ms));
        TRY(json_str(g, "statistics"));
        TRY(gen_aopen(g));
        for (size_t i = 0; i < s->n_stats; i++) {
                TRY(gen_open(g));
                TRY(json_kv_str(g, "name", s->stats[i].name));
                TRY(json_kv_int(g, "items", s->stats[i].items));
                TRY(gen_close(g));
        }
        TRY(gen_aclose(g));
        return gen_close(g);
}

static int gen_job(yajl_gen g, const struct job *j) {
        TRY(gen_open(g));
        TRY(json_kv_int(g, "format", STORE_FORMAT));
        TRY(json_kv_str(g, "id", j->id));
        TRY(json_kv_str(g, "promotion", j->promotion));
        TRY(json_kv_str(g, "package", j->package));
        TRY(gen_tenant(g, "from", &j->from));
        TRY(gen_tenant(g, "to", &j->to));
        TRY(json_kv_str(g, "mode", promo_mode_to_string(j->mode)));
        TRY(json_kv_str(g, "state", job_state_to_string(j->state)));
        TRY(json_kv_str(g, "failure", j->failure));
        TRY(json_kv_str(g, "message", j->message));
        TRY(json_kv_uint(g, "created_usec", j->created_usec));
        TRY(json_kv_uint(g, "updated_usec", j->updated_usec));
        TRY(json_kv_uint(g, "finished_usec", j->finished_usec));
        TRY(json_kv_uint(g, "due_usec", j->due_usec));

        TRY(json_str(g, "settings"));
        TRY(gen_open(g));
        TRY(json_kv_uint(g, "poll_interval_usec", j->settings.poll_interval_usec));
        TRY(json_kv_uint(g, "step_timeout_usec", j->settings.step_timeout_usec));
        TRY(json_kv_uint(g, "retries", j->settings.retries));
        TRY(json_kv_str(g, "on_warnings", on_warnings_to_string(j->settings.on_warnings)));
        TRY(json_kv_uint(g, "retry_delay_usec", j->settings.retry_delay_usec));
        TRY(json_kv_uint(g, "connect_timeout_usec", j->settings.connect_timeout_usec));
        TRY(json_kv_uint(g, "stall_timeout_usec", j->settings.low_speed_time_usec));
        TRY(json_kv_uint(g, "request_timeout_usec", j->settings.request_timeout_usec));
        TRY(gen_close(g));

        TRY(json_kv_str(g, "export_id", j->export_id));
        TRY(gen_export_status(g, &j->export));
        TRY(json_kv_str(g, "package_path", j->package_path));
        TRY(json_kv_uint(g, "download_bytes", j->download_bytes));
        if (j->download_sha256[0])
                TRY(json_kv_str(g, "download_sha256", j->download_sha256));
        if (j->package_boot_id[0])
                TRY(json_kv_str(g, "package_boot_id", j->package_boot_id));
        TRY(json_kv_str(g, "target_file_id", j->target_file_id));
        TRY(json_kv_str(g, "dry_run_id", j->dry_run_id));
        TRY(gen_import_status(g, "dry_run", &j->dry_run));
        TRY(json_kv_str(g, "import_id", j->import_id));
        TRY(gen_import_status(g, "import", &j->import));
        TRY(json_kv_uint(g, "duplicates", j->duplicates));

        TRY(json_str(g, "steps"));
        TRY(gen_open(g));
        for (int s = 0; s < _JOB_STEPS; s++) {
                if (!j->steps[s].started_usec)
                        continue;
                TRY(json_str(g, job_state_to_string((enum job_state) s)));
                TRY(gen_open(g));
                TRY(json_kv_uint(g, "started_usec", j->steps[s].started_usec));
                TRY(json_kv_uint(g, "finished_usec", j->steps[s].finished_usec));
                TRY(json_kv_uint(g, "attempts", j->steps[s].attempts));
                TRY(gen_close(g));
        }
        TRY(gen_close(g));
        return gen_close(g);
}

char *store_job_to_json(const struct job *j, bool pretty) {
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        size_t len;
        char *out = NULL;

        yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        if (gen_job(g, j) >= 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
                out = xasprintf("%.*s\n", (int) len, (const char *) buf);
        yajl_gen_free(g);
        return out;
}

int store_save(const char *jobs_dir, struct job *j) {
        _cleanup_free_ char *path = store_job_path(jobs_dir, j->id);
        _cleanup_free_ char *text = NULL;

        j->updated_usec = now_realtime_usec();
        text = store_job_to_json(j, true);
        if (!text)
                return -EINVAL;         /* a string that is not UTF-8: a bug, every input is cleaned */
        /* Bounded by construction (api.h API_MAX_*), so this is a bug too;
         * but a file the reader refuses must never be written. */
        if (strlen(text) > STORE_MAX_FILE)
                return -EFBIG;
        int r = write_file_atomic(path, text, strlen(text));
        if (r >= 0)
                j->on_disk = true;
        return r;
}

/* ---- reading ----------------------------------------------------------- */

static char *get_str(yajl_val o, const char *k) { return xstrdup(json_get_string(o, k)); }

static uint64_t get_u64(yajl_val o, const char *k) {
        long long v = 0;
        return json_get_int(o, k, &v) >= 0 && v > 0 ? (uint64_t) v : 0;
}

static char **get_strings(yajl_val o, const char *k, size_t *ret_n) {
        yajl_val a = json_get_array(o, k);
        char **v;
        *ret_n = 0;
        if (!a || a->u.array.len == 0)
                return NULL;
        v = xcalloc(a->u.array.len, sizeof *v);
        for (size_t i = 0; i < a->u.array.len; i++)
                v[(*ret_n)++] = xstrdup(YAJL_IS_STRING(a->u.array.values[i]) ?
                                        YAJL_GET_STRING(a->u.array.values[i]) : "");
        return v;
}

static void load_import_status(yajl_val o, struct import_status *s) {
        yajl_val t, res;
        if (!YAJL_IS_OBJECT(o))
                return;
        s->id = get_str(o, "id");
        s->status = get_str(o, "status");
        s->file_id = get_str(o, "file_id");
        (void) json_get_bool(o, "dry_run", &s->dry_run);
        (void) json_get_bool(o, "studio_locked", &s->studio_locked);
        (void) json_get_bool(o, "system_locked", &s->system_locked);
        (void) json_get_int(o, "start_ms", &s->start_ms);
        (void) json_get_int(o, "update_ms", &s->update_ms);
        if ((t = json_get(o, "totals")) && YAJL_IS_OBJECT(t)) {
                s->has_totals = true;
                (void) json_get_int(t, "added", &s->totals.added);
                (void) json_get_int(t, "modified", &s->totals.modified);
                (void) json_get_int(t, "removed", &s->totals.removed);
                (void) json_get_int(t, "failed", &s->totals.failed);
                (void) json_get_int(t, "skipped", &s->totals.skipped);
        }
        if ((res = json_get_array(o, "results")) && res->u.array.len) {
                s->results = xcalloc(res->u.array.len, sizeof *s->results);
                for (size_t i = 0; i < res->u.array.len; i++) {
                        yajl_val e = res->u.array.values[i];
                        struct import_result *r = &s->results[s->n_results++];
                        r->package = get_str(e, "package");
                        (void) json_get_int(e, "modified", &r->modified);
                        (void) json_get_int(e, "removed", &r->removed);
                        (void) json_get_int(e, "failed", &r->failed);
                        (void) json_get_int(e, "skipped", &r->skipped);
                        r->errors = get_strings(e, "errors", &r->n_errors);
                        r->errors_total = MAX((size_t) get_u64(e, "errors_total"), r->n_errors);
                        r->warnings = get_strings(e, "warnings", &r->n_warnings);
                        r->warnings_total = MAX((size_t) get_u64(e, "warnings_total"), r->n_warnings);
                }
        }
        s->results_total = MAX((size_t) get_u64(o, "results_total"), s->n_results);
}

static void load_export_status(yajl_val o, struct export_status *s) {
        yajl_val st;
        if (!YAJL_IS_OBJECT(o))
                return;
        s->id = get_str(o, "id");
        s->status = get_str(o, "status");
        s->file_id = get_str(o, "file_id");
        s->bundle_name = get_str(o, "bundle_name");
        (void) json_get_int(o, "item_count", &s->item_count);
        (void) json_get_int(o, "start_ms", &s->start_ms);
        (void) json_get_int(o, "update_ms", &s->update_ms);
        if ((st = json_get_array(o, "statistics")) && st->u.array.len) {
                s->stats = xcalloc(st->u.array.len, sizeof *s->stats);
                for (size_t i = 0; i < st->u.array.len; i++) {
                        yajl_val e = st->u.array.values[i];
                        s->stats[s->n_stats].name = get_str(e, "name");
                        (void) json_get_int(e, "items", &s->stats[s->n_stats++].items);
                }
        }
}

static void load_tenant(yajl_val o, struct job_tenant *t) {
        t->name = get_str(o, "name");
        t->url = get_str(o, "url");
        t->tenant_id = get_str(o, "tenant_id");
}

static int bad(char **ret_err, const char *what) {
        if (ret_err)
                *ret_err = xstrdup(what);
        return -EPROTO;
}

int store_job_from_json(const char *text, size_t len, struct job **ret, char **ret_err) {
        char err[256];
        yajl_val o = json_parse(text, len, err, sizeof err), s, steps;
        struct job *j;
        long long fmt = 0;
        const char *v;
        int st;

        if (!o)
                return ret_err ? (*ret_err = xasprintf("not JSON: %s", err), -EPROTO) : -EPROTO;
        if (!YAJL_IS_OBJECT(o)) {
                yajl_tree_free(o);
                return bad(ret_err, "not a JSON object");
        }
        if (json_get_int(o, "format", &fmt) < 0 || fmt != STORE_FORMAT) {
                yajl_tree_free(o);
                return bad(ret_err, "unknown \"format\" (written by another version of dev2prodd?)");
        }
        v = json_get_string(o, "state");
        st = v ? job_state_from_string(v) : -EINVAL;
        if (st < 0 || !json_get_string(o, "id") || !store_id_valid(json_get_string(o, "id")) ||
            !json_get_string(o, "promotion") || !json_get_string(o, "package") ||
            !YAJL_IS_OBJECT(json_get(o, "from")) || !YAJL_IS_OBJECT(json_get(o, "to"))) {
                yajl_tree_free(o);
                return bad(ret_err, "missing or invalid \"id\", \"state\", \"promotion\", \"package\", \"from\" or \"to\"");
        }

        j = xcalloc(1, sizeof *j);
        j->download_fd = -1;
        j->id = get_str(o, "id");
        j->promotion = get_str(o, "promotion");
        j->package = get_str(o, "package");
        load_tenant(json_get(o, "from"), &j->from);
        load_tenant(json_get(o, "to"), &j->to);
        j->mode = streq_ptr(json_get_string(o, "mode"), "dry-run") ? MODE_DRY_RUN : MODE_IMPORT;
        j->state = (enum job_state) st;
        j->failure = get_str(o, "failure");
        j->message = get_str(o, "message");
        j->created_usec = get_u64(o, "created_usec");
        j->updated_usec = get_u64(o, "updated_usec");
        j->finished_usec = get_u64(o, "finished_usec");
        j->due_usec = get_u64(o, "due_usec");
        if ((s = json_get(o, "settings")) && YAJL_IS_OBJECT(s)) {
                j->settings.poll_interval_usec = get_u64(s, "poll_interval_usec");
                j->settings.step_timeout_usec = get_u64(s, "step_timeout_usec");
                j->settings.retries = (unsigned) get_u64(s, "retries");
                j->settings.on_warnings = streq_ptr(json_get_string(s, "on_warnings"), "stop") ?
                                          ON_WARNINGS_STOP : ON_WARNINGS_PROCEED;
                j->settings.retry_delay_usec = get_u64(s, "retry_delay_usec");
                j->settings.connect_timeout_usec = get_u64(s, "connect_timeout_usec");
                j->settings.low_speed_time_usec = get_u64(s, "stall_timeout_usec");
                j->settings.request_timeout_usec = get_u64(s, "request_timeout_usec");
        }
        j->export_id = get_str(o, "export_id");
        load_export_status(json_get(o, "export"), &j->export);
        j->package_path = get_str(o, "package_path");
        j->download_bytes = get_u64(o, "download_bytes");
        /* A value too long for the field is ignored, not cut to fit: the cut
         * could split a UTF-8 sequence and leave a job that loads but can no
         * longer be saved (store_job_to_json refuses invalid UTF-8). */
        v = json_get_string(o, "download_sha256");
        if (v && strlen(v) < sizeof j->download_sha256)
                strcpy(j->download_sha256, v);
        v = json_get_string(o, "package_boot_id");
        if (v && strlen(v) < sizeof j->package_boot_id)
                strcpy(j->package_boot_id, v);
        j->target_file_id = get_str(o, "target_file_id");
        j->dry_run_id = get_str(o, "dry_run_id");
        load_import_status(json_get(o, "dry_run"), &j->dry_run);
        j->import_id = get_str(o, "import_id");
        load_import_status(json_get(o, "import"), &j->import);
        j->duplicates = (unsigned) get_u64(o, "duplicates");
        if ((steps = json_get(o, "steps")) && YAJL_IS_OBJECT(steps))
                for (int i = 0; i < _JOB_STEPS; i++) {
                        yajl_val e = json_get(steps, job_state_to_string((enum job_state) i));
                        if (!YAJL_IS_OBJECT(e))
                                continue;
                        j->steps[i].started_usec = get_u64(e, "started_usec");
                        j->steps[i].finished_usec = get_u64(e, "finished_usec");
                        j->steps[i].attempts = (unsigned) get_u64(e, "attempts");
                }
        yajl_tree_free(o);
        *ret = j;
        return 0;
}

int store_load(const char *path, struct job **ret, char **ret_err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_small(path, STORE_MAX_FILE, &text, &len);
        if (r < 0) {
                if (ret_err)
                        *ret_err = xasprintf("cannot read: %s", strerror(-r));
                return r;
        }
        r = store_job_from_json(text, len, ret, ret_err);
        if (r >= 0)
                (*ret)->on_disk = true;
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int store_list(const char *jobs_dir, char ***ret_ids, size_t *ret_n) {
        DIR *d = opendir(jobs_dir);
        struct dirent *de;
        char **v = NULL;
        size_t n = 0, cap = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                /* temp files of an interrupted write start with ".#": skip */
                if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".json"))
                        continue;
                if (n == cap)
                        v = xrealloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
                v[n++] = xstrndup(de->d_name, l - 5);
        }
        closedir(d);
        if (n)
                qsort(v, n, sizeof *v, cmp_str);
        *ret_ids = v;
        *ret_n = n;
        return 0;
}

/* The store writes the top-level "state" early in the file and indented by
 * exactly four spaces (nested keys have eight), so the first bytes tell a
 * finished job without parsing it.  A start with a year of history (10,000
 * files) parsed them all and took 1.3 s before READY=1; peeking takes
 * 0.1 s.  False when unsure: the caller then loads the file in full, so a
 * damaged file that does not say it finished is still reported. */
static bool looks_finished(const char *path) {
        static const char *const finals[] = {
                "\n    \"state\": \"succeeded\",\n",
                "\n    \"state\": \"failed\",\n",
                "\n    \"state\": \"cancelled\",\n",
        };
        char buf[4096];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = 0;
        for (size_t i = 0; i < ELEMENTSOF(finals); i++)
                if (strstr(buf, finals[i]))
                        return true;
        return false;
}

/* "YYYYMMDDTHHMMSSZ" at s (16 characters). */
static bool is_stamp(const char *s) {
        return strspn(s, "0123456789") == 8 && s[8] == 'T' && strspn(s + 9, "0123456789") == 6 && s[15] == 'Z';
}

char *store_id_promotion(const char *id) {
        const char *dash = strrchr(id, '-');
        size_t n = strlen(id);

        /* without the "-N" that keeps manual runs' ids unique */
        if (dash && dash[1] && dash[1 + strspn(dash + 1, "0123456789")] == 0 && !is_stamp(dash + 1))
                n = (size_t) (dash - id);
        if (n < 18 || id[n - 17] != '-' || !is_stamp(id + n - 16))
                return NULL;
        return xstrndup(id, n - 17);
}

/* The newest id after ids[i] that belongs to the same promotion.  Ids of
 * promotion P all start with "P-", so they are neighbours in sorted order:
 * the search stops at the first id without that prefix. */
static const char *newer_of(char **ids, size_t n, size_t i, const char *promotion) {
        size_t plen = strlen(promotion);
        const char *newest = NULL;
        for (size_t k = i + 1; k < n && strncmp(ids[k], promotion, plen) == 0 && ids[k][plen] == '-'; k++) {
                _cleanup_free_ char *p = store_id_promotion(ids[k]);
                if (streq_ptr(p, promotion))
                        newest = ids[k];
        }
        return newest;
}

int store_each_unfinished(const char *jobs_dir, bool newest_first, store_job_cb cb, void *userdata) {
        char **ids = NULL;
        size_t n = 0;
        int r = store_list(jobs_dir, &ids, &n);

        if (r < 0) {
                log_error_errno(r, "cannot list %s: no unfinished job there is resumed (fix its permissions, "
                                "then restart)", jobs_dir);
                return r;
        }
        for (size_t k = 0; k < n && r == 0; k++) {
                size_t i = newest_first ? n - 1 - k : k;
                _cleanup_free_ char *path = store_job_path(jobs_dir, ids[i]), *err = NULL;
                _cleanup_free_ char *promotion = store_id_promotion(ids[i]);
                struct store_entry e = { .id = ids[i], .promotion = promotion };

                if (looks_finished(path))
                        continue;
                if (store_load(path, &e.job, &err) < 0) {
                        log_warning("%s: %s; left alone (move it away once inspected)", path, err);
                        e.job = NULL;
                        e.error = err;
                } else if (job_state_is_final(e.job->state)) {
                        job_free(e.job);
                        continue;
                } else if (!e.promotion || !streq(e.promotion, e.job->promotion)) {
                        free(promotion);
                        e.promotion = promotion = xstrdup(e.job->promotion);
                }
                if (e.promotion)
                        e.newer_id = newer_of(ids, n, i, e.promotion);
                r = cb(&e, userdata);
        }
        strv_free_n(ids, n);
        return r < 0 ? r : 0;
}

int store_clean_temp(const char *jobs_dir) {
        DIR *d = opendir(jobs_dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (de->d_name[0] == '.' && de->d_name[1] == '#' && unlinkat(dirfd(d), de->d_name, 0) == 0)
                        n++;
        closedir(d);
        return n;
}

void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int store_lock(const char *state_directory, int *ret_fd) {
        _cleanup_free_ char *p = xasprintf("%s/lock", state_directory);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                return e == EWOULDBLOCK ? -EBUSY : -e;
        }
        *ret_fd = fd;
        return 0;
}
