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
        int r = mkdir_p(d, 0750);       /* the service's group reads the job files (dev2prodctl) */
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

/* ---- the fields ----------------------------------------------------------
 *
 * Each struct a job file holds is described once, as a table of its fields
 * in the order they are written; the writer (gen_fields) and the reader
 * (load_fields) both walk that table, so they cannot disagree on a key or a
 * type.  The settings come from their own description (settings.h). */

enum field_kind {
        F_STR,                  /* char *: written when set */
        F_CHARS,                /* char[aux]: written when not empty, read when it fits */
        F_INT,                  /* long long */
        F_U64,                  /* uint64_t; read as 0 unless a positive integer */
        F_UINT,                 /* unsigned; likewise */
        F_BOOL,
        F_COUNT,                /* size_t: how many there were, at least the size_t at aux (how many are kept) */
        F_STRV,                 /* char **, its size_t count at aux: an array of strings */
        F_ENUM,                 /* an enum: its word by name(), the value 0 for a word it does not know */
        F_OBJECT,               /* a struct: sub */
        F_OBJECT_IF_SET,        /* a struct: sub; written once the char * at aux (its status) is set */
        F_OBJECT_FLAGGED,       /* a struct: sub; there when the bool at aux is true (read sets it) */
        F_ARRAY,                /* sub structs at a pointer, their size_t count at aux */
        F_CUSTOM,               /* gen() and load() (load may be NULL: checked before the walk) */
};

struct fields;

struct field {
        const char *key;
        enum field_kind kind;
        size_t off;             /* in the struct the table describes */
        size_t aux;             /* see enum field_kind */
        const struct fields *sub;
        const char *(*name)(unsigned v);        /* F_ENUM, with n_names values */
        unsigned n_names;
        int (*gen)(yajl_gen g, const void *obj);
        void (*load)(yajl_val o, void *obj);
};

struct fields {
        const struct field *v;
        size_t n;
        size_t size;            /* of the struct (F_ARRAY allocates them) */
};

#define FIELDS(type, tab) { tab, ELEMENTSOF(tab), sizeof(type) }
/* offsetof(type, m), and a compile error unless member m is a T: a row
 * whose kind does not fit its member would read and write the wrong
 * bytes. */
#define OFF(type, m, T)                                                                                 \
        (offsetof(type, m) + 0 * sizeof(struct { int _;                                                 \
                _Static_assert(__builtin_types_compatible_p(__typeof__(((type *) 0)->m), T),            \
                               #type "." #m " is not " #T); }))
/* The rows.  A key is its member's name, but for "statistics" (stats). */
#define FIELD(kind_, type, m, T, ...) { .key = #m, .kind = kind_, .off = OFF(type, m, T), __VA_ARGS__ }
#define STR(type, m)              FIELD(F_STR, type, m, char *)
#define CHARS(type, m)            FIELD(F_CHARS, type, m, char[sizeof(((type *) 0)->m)], .aux = sizeof(((type *) 0)->m))
#define INT(type, m)              FIELD(F_INT, type, m, long long)
#define U64(type, m)              FIELD(F_U64, type, m, uint64_t)
#define UINT(type, m)             FIELD(F_UINT, type, m, unsigned)
#define BOOL(type, m)             FIELD(F_BOOL, type, m, bool)
#define COUNT(type, m, n)         FIELD(F_COUNT, type, m, size_t, .aux = OFF(type, n, size_t))
#define STRV(type, m, n)          FIELD(F_STRV, type, m, char **, .aux = OFF(type, n, size_t))
#define ENUM(type, m, T, fn, n)   FIELD(F_ENUM, type, m, T, .name = fn, .n_names = n)
#define OBJECT(type, m, T, sub_)  FIELD(F_OBJECT, type, m, T, .sub = &sub_)
/* written once the status, the char * s of m, is set */
#define OBJECT_IF_SET(type, m, T, s, sub_) FIELD(F_OBJECT_IF_SET, type, m, T, .aux = OFF(type, m.s, char *), .sub = &sub_)
#define OBJECT_FLAGGED(type, m, T, flag, sub_) FIELD(F_OBJECT_FLAGGED, type, m, T, .aux = OFF(type, flag, bool), .sub = &sub_)
#define ARRAY(type, k, m, T, n, sub_)                                                                   \
        { .key = k, .kind = F_ARRAY, .off = OFF(type, m, T *), .aux = OFF(type, n, size_t), .sub = &sub_ }
#define CUSTOM(k, g, l)           { .key = k, .kind = F_CUSTOM, .gen = g, .load = l }

/* F_ENUM: the enums are stored as unsigned (GCC and clang give an enum of
 * non-negative values the type unsigned int). */
_Static_assert(sizeof(enum promo_mode) == sizeof(unsigned), "enum promo_mode is not an unsigned");
_Static_assert(sizeof(enum job_state) == sizeof(unsigned), "enum job_state is not an unsigned");
static const char *mode_name(unsigned v) { return promo_mode_to_string((enum promo_mode) v); }
static const char *state_name(unsigned v) { return job_state_to_string((enum job_state) v); }
_Static_assert(sizeof(enum followup_kind) == sizeof(unsigned), "enum followup_kind is not an unsigned");
_Static_assert(sizeof(enum followup_status) == sizeof(unsigned), "enum followup_status is not an unsigned");
static const char *fkind_name(unsigned v) { return followup_kind_to_string((enum followup_kind) v); }
static const char *fstatus_name(unsigned v) { return followup_status_to_string((enum followup_status) v); }

static int gen_format(yajl_gen g, const void *obj);
static int gen_pending(yajl_gen g, const void *obj);
static int gen_followups(yajl_gen g, const void *obj);
static void load_followups(yajl_val o, void *obj);
static int gen_settings(yajl_gen g, const void *obj);
static void load_settings(yajl_val o, void *obj);
static int gen_steps(yajl_gen g, const void *obj);
static void load_steps(yajl_val o, void *obj);
static int gen_folded(yajl_gen g, const void *obj);
static void load_folded(yajl_val o, void *obj);

static const struct field tenant_fields[] = {
        STR(struct job_tenant, name),
        STR(struct job_tenant, url),
        STR(struct job_tenant, tenant_id),
};
static const struct fields tenant_table = FIELDS(struct job_tenant, tenant_fields);

static const struct field stat_fields[] = {
        STR(struct part_stat, name),
        INT(struct part_stat, items),
};
static const struct fields stat_table = FIELDS(struct part_stat, stat_fields);

static const struct field export_fields[] = {
        STR(struct export_status, id),
        STR(struct export_status, status),
        STR(struct export_status, file_id),
        STR(struct export_status, bundle_name),
        INT(struct export_status, item_count),
        INT(struct export_status, start_ms),
        INT(struct export_status, update_ms),
        ARRAY(struct export_status, "statistics", stats, struct part_stat, n_stats, stat_table),
};
static const struct fields export_table = FIELDS(struct export_status, export_fields);

static const struct field totals_fields[] = {
        INT(struct totals, added),
        INT(struct totals, modified),
        INT(struct totals, removed),
        INT(struct totals, failed),
        INT(struct totals, skipped),
};
static const struct fields totals_table = FIELDS(struct totals, totals_fields);

static const struct field result_fields[] = {
        STR(struct import_result, package),
        INT(struct import_result, modified),
        INT(struct import_result, removed),
        INT(struct import_result, failed),
        INT(struct import_result, skipped),
        STRV(struct import_result, errors, n_errors),
        COUNT(struct import_result, errors_total, n_errors),
        STRV(struct import_result, warnings, n_warnings),
        COUNT(struct import_result, warnings_total, n_warnings),
};
static const struct fields result_table = FIELDS(struct import_result, result_fields);

static const struct field import_fields[] = {
        STR(struct import_status, id),
        STR(struct import_status, status),
        STR(struct import_status, file_id),
        BOOL(struct import_status, dry_run),
        BOOL(struct import_status, studio_locked),
        BOOL(struct import_status, system_locked),
        INT(struct import_status, start_ms),
        INT(struct import_status, update_ms),
        OBJECT_FLAGGED(struct import_status, totals, struct totals, has_totals, totals_table),
        COUNT(struct import_status, results_total, n_results),
        ARRAY(struct import_status, "results", results, struct import_result, n_results, result_table),
};
static const struct fields import_table = FIELDS(struct import_status, import_fields);

static const struct field step_fields[] = {
        U64(struct step_record, started_usec),
        U64(struct step_record, finished_usec),
        UINT(struct step_record, attempts),
};
static const struct fields step_table = FIELDS(struct step_record, step_fields);

static const struct field decision_fields[] = {
        STR(struct job_decision, user),
        UINT(struct job_decision, uid),
        U64(struct job_decision, usec),
        STR(struct job_decision, reason),
};
static const struct fields decision_table = FIELDS(struct job_decision, decision_fields);

static const struct field followup_fields[] = {
        ENUM(struct followup, kind, enum followup_kind, fkind_name, _FOLLOWUP_KIND_MAX),
        ENUM(struct followup, status, enum followup_status, fstatus_name, _FOLLOWUP_STATUS_MAX),
        STR(struct followup, event),
        STR(struct followup, state),
        STR(struct followup, promotion),
        STR(struct followup, job_id),
        UINT(struct followup, attempts),
        U64(struct followup, created_usec),
        U64(struct followup, next_usec),
        U64(struct followup, done_usec),
        STR(struct followup, last_error),
};
static const struct fields followup_table = FIELDS(struct followup, followup_fields);
/* written only when there are some: a job file without follow-ups is
 * byte for byte what earlier versions wrote */
static const struct field followups_row =
        ARRAY(struct job, "followups", followups, struct followup, n_followups, followup_table);

/* The order is the files' (looks_finished() wants "state" near the top).
 * Fields added later come last and are written only when set, so that a
 * file of an older version is written again byte for byte. */
static const struct field job_fields[] = {
        CUSTOM("format", gen_format, NULL),
        CUSTOM("followups_pending", gen_pending, NULL),
        STR(struct job, id),
        STR(struct job, promotion),
        STR(struct job, package),
        OBJECT(struct job, from, struct job_tenant, tenant_table),
        OBJECT(struct job, to, struct job_tenant, tenant_table),
        ENUM(struct job, mode, enum promo_mode, mode_name, MODE_DRY_RUN + 1),
        ENUM(struct job, state, enum job_state, state_name, _JOB_STATE_MAX),
        STR(struct job, failure),
        STR(struct job, message),
        U64(struct job, created_usec),
        U64(struct job, updated_usec),
        U64(struct job, finished_usec),
        U64(struct job, due_usec),
        STR(struct job, triggered_by),
        CUSTOM("settings", gen_settings, load_settings),
        STR(struct job, export_id),
        OBJECT_IF_SET(struct job, export, struct export_status, status, export_table),
        STR(struct job, package_path),
        U64(struct job, download_bytes),
        CHARS(struct job, download_sha256),
        CHARS(struct job, package_boot_id),
        STR(struct job, target_file_id),
        STR(struct job, dry_run_id),
        OBJECT_IF_SET(struct job, dry_run, struct import_status, status, import_table),
        STR(struct job, import_id),
        OBJECT_IF_SET(struct job, import, struct import_status, status, import_table),
        UINT(struct job, duplicates),
        CUSTOM("steps", gen_steps, load_steps),
        OBJECT_IF_SET(struct job, approved, struct job_decision, user, decision_table),
        OBJECT_IF_SET(struct job, rejected, struct job_decision, user, decision_table),
        OBJECT_IF_SET(struct job, resolved, struct job_decision, user, decision_table),
        STR(struct job, resolved_from),
        STR(struct job, resolved_by_job),
        STR(struct job, resolves),
        CUSTOM("followups", gen_followups, load_followups),
        CUSTOM("folded_due_times", gen_folded, load_folded),
};
static const struct fields job_table = FIELDS(struct job, job_fields);

/* A member of obj, by offset. */
#define AT(type, obj, off) ((type *) ((char *) (obj) + (off)))
#define CAT(type, obj, off) ((type const *) ((const char *) (obj) + (off)))

/* ---- writing ----------------------------------------------------------- */

#define TRY_RET(x) do { int _r = (x); if (_r < 0) return _r; } while (0)

static int gen_open(yajl_gen g) { return yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }
static int gen_close(yajl_gen g) { return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }
static int gen_aopen(yajl_gen g) { return yajl_gen_array_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }
static int gen_aclose(yajl_gen g) { return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM; }

static int gen_fields(yajl_gen g, const struct fields *t, const void *obj);

static int gen_object(yajl_gen g, const struct fields *t, const void *obj) {
        TRY_RET(gen_open(g));
        TRY_RET(gen_fields(g, t, obj));
        return gen_close(g);
}

static int gen_field(yajl_gen g, const struct field *f, const void *obj) {
        switch (f->kind) {
        case F_STR:
                return json_kv_str(g, f->key, *CAT(char *, obj, f->off));
        case F_CHARS:
                return *CAT(char, obj, f->off) ? json_kv_str(g, f->key, CAT(char, obj, f->off)) : 0;
        case F_INT:
                return json_kv_int(g, f->key, *CAT(long long, obj, f->off));
        case F_U64:
                return json_kv_uint(g, f->key, *CAT(uint64_t, obj, f->off));
        case F_UINT:
                return json_kv_uint(g, f->key, *CAT(unsigned, obj, f->off));
        case F_BOOL:
                return json_kv_bool(g, f->key, *CAT(bool, obj, f->off));
        case F_COUNT:
                return json_kv_uint(g, f->key, MAX(*CAT(size_t, obj, f->off), *CAT(size_t, obj, f->aux)));
        case F_STRV: {
                char *const *v = *CAT(char **, obj, f->off);
                TRY_RET(json_str(g, f->key));
                TRY_RET(gen_aopen(g));
                for (size_t i = 0; i < *CAT(size_t, obj, f->aux); i++)
                        TRY_RET(json_str(g, v[i]));
                return gen_aclose(g);
        }
        case F_ENUM:
                return json_kv_str(g, f->key, f->name(*CAT(unsigned, obj, f->off)));
        case F_OBJECT_IF_SET:
                if (!*CAT(char *, obj, f->aux))
                        return 0;
                /* fall through */
        case F_OBJECT:
                TRY_RET(json_str(g, f->key));
                return gen_object(g, f->sub, CAT(char, obj, f->off));
        case F_OBJECT_FLAGGED:
                if (!*CAT(bool, obj, f->aux))
                        return 0;
                TRY_RET(json_str(g, f->key));
                return gen_object(g, f->sub, CAT(char, obj, f->off));
        case F_ARRAY: {
                const char *v = *CAT(char *, obj, f->off);
                TRY_RET(json_str(g, f->key));
                TRY_RET(gen_aopen(g));
                for (size_t i = 0; i < *CAT(size_t, obj, f->aux); i++)
                        TRY_RET(gen_object(g, f->sub, v + i * f->sub->size));
                return gen_aclose(g);
        }
        case F_CUSTOM:
                return f->gen(g, obj);
        }
        return -EINVAL;
}

static int gen_fields(yajl_gen g, const struct fields *t, const void *obj) {
        for (size_t i = 0; i < t->n; i++)
                TRY_RET(gen_field(g, &t->v[i], obj));
        return 0;
}

static int gen_format(yajl_gen g, const void *obj) {
        return json_kv_int(g, "format", STORE_FORMAT);
}

/* The marker looks_finished() finds near the top: written only while a
 * follow-up is pending, so a finished job with notifications still to
 * deliver is read in full at start, and every other finished one is not.
 * The reader counts the array instead. */
static int gen_pending(yajl_gen g, const void *obj) {
        size_t n = job_followups_pending(obj);
        return n ? json_kv_uint(g, "followups_pending", n) : 0;
}

static int gen_field(yajl_gen g, const struct field *f, const void *obj);

static int gen_followups(yajl_gen g, const void *obj) {
        return ((const struct job *) obj)->n_followups ? gen_field(g, &followups_row, obj) : 0;
}

/* The settings by settings_desc[]: numbers, and an enum as its word. */
static int gen_settings(yajl_gen g, const void *obj) {
        const struct settings *s = &((const struct job *) obj)->settings;

        TRY_RET(json_str(g, "settings"));
        TRY_RET(gen_open(g));
        for (enum setting_id i = 0; i < _SETTINGS_N; i++) {
                const struct setting_desc *d = &settings_desc[i];
                uint64_t v = setting_get(s, i);
                if (d->words)
                        TRY_RET(json_kv_str(g, d->job_key, setting_word(i, v)));
                else
                        TRY_RET(json_kv_uint(g, d->job_key, v));
        }
        return gen_close(g);
}

/* Keyed by state, for the steps that started. */
static int gen_steps(yajl_gen g, const void *obj) {
        const struct job *j = obj;

        TRY_RET(json_str(g, "steps"));
        TRY_RET(gen_open(g));
        for (int s = 0; s < _JOB_STEPS; s++) {
                if (!j->steps[s].started_usec)
                        continue;
                TRY_RET(json_str(g, job_state_to_string((enum job_state) s)));
                TRY_RET(gen_object(g, &step_table, &j->steps[s]));
        }
        return gen_close(g);
}

static int gen_job(yajl_gen g, const struct job *j) {
        return gen_object(g, &job_table, j);
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

static int save_file(const char *jobs_dir, struct job *j, bool sync_dir);

int store_save(const char *jobs_dir, struct job *j) { return save_file(jobs_dir, j, true); }

int store_save_unsynced(const char *jobs_dir, struct job *j) { return save_file(jobs_dir, j, false); }

static int save_file(const char *jobs_dir, struct job *j, bool sync_dir) {
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
        int r = (sync_dir ? write_file_atomic : write_file_replace)(path, text, strlen(text));
        if (r >= 0)
                j->on_disk = true;
        return r;
}

/* ---- reading ----------------------------------------------------------- */

/* A field that is missing or of another type reads as NULL, 0 or the
 * enum's value 0; an F_INT, F_BOOL or F_CHARS keeps what it had (zero, in
 * a new job). */

static char *get_str(yajl_val o, const char *k) { return xstrdup(json_get_string(o, k)); }

static uint64_t get_u64(yajl_val o, const char *k) {
        long long v = 0;
        return json_get_int(o, k, &v) >= 0 && v > 0 ? (uint64_t) v : 0;
}

static void load_fields(yajl_val o, const struct fields *t, void *obj);

static void load_field(yajl_val o, const struct field *f, void *obj) {
        yajl_val v;
        const char *s;

        switch (f->kind) {
        case F_STR:
                *AT(char *, obj, f->off) = get_str(o, f->key);
                break;
        case F_CHARS:
                /* A value too long for the field is ignored, not cut to
                 * fit: the cut could split a UTF-8 sequence and leave a
                 * job that loads but can no longer be saved
                 * (store_job_to_json refuses invalid UTF-8). */
                s = json_get_string(o, f->key);
                if (s && strlen(s) < f->aux)
                        strcpy(AT(char, obj, f->off), s);
                break;
        case F_INT:
                (void) json_get_int(o, f->key, AT(long long, obj, f->off));
                break;
        case F_U64:
                *AT(uint64_t, obj, f->off) = get_u64(o, f->key);
                break;
        case F_UINT:
                *AT(unsigned, obj, f->off) = (unsigned) get_u64(o, f->key);
                break;
        case F_BOOL:
                (void) json_get_bool(o, f->key, AT(bool, obj, f->off));
                break;
        case F_COUNT:
                *AT(size_t, obj, f->off) = MAX((size_t) get_u64(o, f->key), *AT(size_t, obj, f->aux));
                break;
        case F_STRV: {
                yajl_val a = json_get_array(o, f->key);
                char ***p = AT(char **, obj, f->off);
                size_t *n = AT(size_t, obj, f->aux);
                *n = 0;
                if (!a || a->u.array.len == 0)
                        break;
                *p = xcalloc(a->u.array.len, sizeof **p);
                for (size_t i = 0; i < a->u.array.len; i++)
                        (*p)[(*n)++] = xstrdup(YAJL_IS_STRING(a->u.array.values[i]) ?
                                               YAJL_GET_STRING(a->u.array.values[i]) : "");
                break;
        }
        case F_ENUM:
                s = json_get_string(o, f->key);
                *AT(unsigned, obj, f->off) = 0;
                for (unsigned i = 0; s && i < f->n_names; i++)
                        if (streq(s, f->name(i))) {
                                *AT(unsigned, obj, f->off) = i;
                                break;
                        }
                break;
        case F_OBJECT_FLAGGED:
                if (!YAJL_IS_OBJECT(json_get(o, f->key)))
                        break;
                *AT(bool, obj, f->aux) = true;
                /* fall through */
        case F_OBJECT:
        case F_OBJECT_IF_SET:
                if (YAJL_IS_OBJECT(v = json_get(o, f->key)))
                        load_fields(v, f->sub, AT(char, obj, f->off));
                break;
        case F_ARRAY: {
                char **p = AT(char *, obj, f->off);
                size_t *n = AT(size_t, obj, f->aux);
                if (!(v = json_get_array(o, f->key)) || v->u.array.len == 0)
                        break;
                *p = xcalloc(v->u.array.len, f->sub->size);
                for (size_t i = 0; i < v->u.array.len; i++)
                        load_fields(v->u.array.values[i], f->sub, *p + (*n)++ * f->sub->size);
                break;
        }
        case F_CUSTOM:
                if (f->load)
                        f->load(o, obj);
                break;
        }
}

static void load_fields(yajl_val o, const struct fields *t, void *obj) {
        /* An F_COUNT is at least the count of what is kept, which its
         * array gives: the arrays first ("results_total" comes before
         * "results" in the file). */
        for (size_t i = 0; i < t->n; i++)
                if (t->v[i].kind != F_COUNT)
                        load_field(o, &t->v[i], obj);
        for (size_t i = 0; i < t->n; i++)
                if (t->v[i].kind == F_COUNT)
                        load_field(o, &t->v[i], obj);
}

static void load_settings(yajl_val o, void *obj) {
        struct settings *s = &((struct job *) obj)->settings;
        yajl_val v = json_get(o, "settings");

        if (!YAJL_IS_OBJECT(v))
                return;
        for (enum setting_id i = 0; i < _SETTINGS_N; i++) {
                const struct setting_desc *d = &settings_desc[i];
                if (d->words) {
                        const char *w = json_get_string(v, d->job_key);
                        int k = w ? setting_from_word(i, w) : -EINVAL;
                        setting_set(s, i, k >= 0 ? (uint64_t) k : 0);
                } else
                        setting_set(s, i, get_u64(v, d->job_key));
        }
}

static void load_steps(yajl_val o, void *obj) {
        struct job *j = obj;
        yajl_val steps = json_get(o, "steps");

        if (!YAJL_IS_OBJECT(steps))
                return;
        for (int i = 0; i < _JOB_STEPS; i++) {
                yajl_val e = json_get(steps, job_state_to_string((enum job_state) i));
                if (YAJL_IS_OBJECT(e))
                        load_fields(e, &step_table, &j->steps[i]);
        }
}

static void load_followups(yajl_val o, void *obj) {
        load_field(o, &followups_row, obj);
}

/* written only in catch-up jobs, so other files keep their bytes */
static const struct field folded_row = UINT(struct job, folded_due_times);
static int gen_folded(yajl_gen g, const void *obj) {
        return ((const struct job *) obj)->folded_due_times ? gen_field(g, &folded_row, obj) : 0;
}
static void load_folded(yajl_val o, void *obj) {
        load_field(o, &folded_row, obj);
}

static int bad(char **ret_err, const char *what) {
        if (ret_err)
                *ret_err = xstrdup(what);
        return -EPROTO;
}

int store_job_from_json(const char *text, size_t len, struct job **ret, char **ret_err) {
        char err[256];
        yajl_val o = json_parse(text, len, err, sizeof err);
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
        load_fields(o, &job_table, j);
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
 * finished job without parsing it: a start with a year of history parsed
 * every file before READY=1 (BENCHMARKS.md).  False when unsure: the caller then loads the file in full, so a
 * damaged file that does not say it finished is still reported. */
static bool looks_finished(const char *path) {
        char buf[4096], line[64];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = 0;
        if (strstr(buf, "\n    \"followups_pending\": "))
                return false;   /* finished, but notifications or a chained job are still due */
        for (int s = 0; s < _JOB_STATE_MAX; s++) {
                if (!job_state_is_final((enum job_state) s))
                        continue;
                snprintf(line, sizeof line, "\n    \"state\": \"%s\",\n", job_state_to_string((enum job_state) s));
                if (strstr(buf, line))
                        return true;
        }
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

struct store_scan {
        char *jobs_dir;
        char **ids;
        size_t n, next;
        bool newest_first;
};

int store_scan_open(const char *jobs_dir, bool newest_first, struct store_scan **ret) {
        struct store_scan *s = xmalloc(sizeof *s);
        int r;

        *s = (struct store_scan) { .jobs_dir = xstrdup(jobs_dir), .newest_first = newest_first };
        r = store_list(jobs_dir, &s->ids, &s->n);
        if (r < 0) {
                log_error_errno(r, "cannot list %s: no unfinished job there is resumed (fix its permissions, "
                                "then restart)", jobs_dir);
                store_scan_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void store_scan_free(struct store_scan *s) {
        if (!s)
                return;
        strv_free_n(s->ids, s->n);
        free(s->jobs_dir);
        free(s);
}

size_t store_scan_size(const struct store_scan *s) {
        return s->n;
}

int store_scan_step(struct store_scan *s, size_t max, store_job_cb cb, void *userdata) {
        int r = 0;

        for (size_t done = 0; s->next < s->n && done < max && r == 0; done++) {
                size_t k = s->next++, i = s->newest_first ? s->n - 1 - k : k;
                _cleanup_free_ char *path = store_job_path(s->jobs_dir, s->ids[i]), *err = NULL;
                _cleanup_free_ char *promotion = store_id_promotion(s->ids[i]);
                struct store_entry e = { .id = s->ids[i], .promotion = promotion };

                if (looks_finished(path))
                        continue;
                if (store_load(path, &e.job, &err) < 0) {
                        log_warning("%s: %s; left alone (move it away once inspected)", path, err);
                        e.job = NULL;
                        e.error = err;
                } else if (job_state_is_final(e.job->state) && !job_followups_pending(e.job)) {
                        job_free(e.job);
                        continue;
                } else if (!e.promotion || !streq(e.promotion, e.job->promotion)) {
                        free(promotion);
                        e.promotion = promotion = xstrdup(e.job->promotion);
                }
                if (e.promotion)
                        e.newer_id = newer_of(s->ids, s->n, i, e.promotion);
                r = cb(&e, userdata);
        }
        if (r < 0)
                return r;
        return r > 0 || s->next >= s->n;
}

int store_each_unfinished(const char *jobs_dir, bool newest_first, store_job_cb cb, void *userdata) {
        struct store_scan *s = NULL;
        int r = store_scan_open(jobs_dir, newest_first, &s);

        if (r < 0)
                return r;
        r = store_scan_step(s, SIZE_MAX, cb, userdata);
        store_scan_free(s);
        return r < 0 ? r : 0;
}

/* The time in an id of the form store_job_id_for gives (with or without
 * the "-N" suffix), in usec; 0 when the id does not carry one. */
static uint64_t id_time_usec(const char *id, const char *promotion) {
        size_t plen = strlen(promotion);
        const char *s = id + plen + 1;
        struct tm tm = {};

        if (strlen(id) < plen + 17 || !is_stamp(s))
                return 0;
        if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec) != 6)
                return 0;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm);
        return t > 0 ? (uint64_t) t * USEC_PER_SEC : 0;
}

struct prune_item {
        char *promotion;        /* from the id, or NULL */
        size_t idx;             /* in the sorted ids */
        bool newest;            /* the newest id of its promotion */
};

static int cmp_prune_item(const void *a, const void *b) {
        const struct prune_item *x = a, *y = b;
        int c = strcmp(x->promotion ? x->promotion : "", y->promotion ? y->promotion : "");
        return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

int store_prune(const char *jobs_dir, uint64_t older_than_usec, unsigned max, struct store_prune_result *ret) {
        char **ids = NULL;
        size_t n = 0;
        int r = store_list(jobs_dir, &ids, &n);
        struct prune_item *items, *by_idx;

        *ret = (struct store_prune_result) {};
        if (r < 0)
                return r;
        /* The newest of each promotion: sort by (promotion, id) and take the
         * last of each run.  (newer_of() scans forward from one id; called for
         * every file of a long history that would be quadratic.)  Ids of
         * different promotions may interleave ("a-2027-..." sorts between
         * ids of "a"), so the grouping is by the promotion itself. */
        items = xcalloc(MAX(n, (size_t) 1), sizeof *items);
        by_idx = xcalloc(MAX(n, (size_t) 1), sizeof *by_idx);
        for (size_t i = 0; i < n; i++)
                items[i] = (struct prune_item) { .promotion = store_id_promotion(ids[i]), .idx = i };
        if (n)
                qsort(items, n, sizeof *items, cmp_prune_item);
        for (size_t k = 0; k < n; k++) {
                items[k].newest = k + 1 == n || !streq_ptr(items[k].promotion, items[k + 1].promotion) ||
                                  !items[k].promotion;
                by_idx[items[k].idx] = items[k];
        }
        free(items);

        for (size_t i = 0; i < n; i++) {
                const char *promotion = by_idx[i].promotion;
                _cleanup_free_ char *path = NULL, *err = NULL;
                struct job *j = NULL;
                uint64_t t = promotion ? id_time_usec(ids[i], promotion) : 0, end;
                bool remove = false;

                /* cheap checks first: no file is opened for these */
                if (!promotion || t == 0 || t >= older_than_usec || by_idx[i].newest)
                        goto keep;
                if (ret->removed >= max) {
                        ret->more = true;
                        goto keep;
                }
                path = store_job_path(jobs_dir, ids[i]);
                r = store_load(path, &j, &err);
                if (r < 0) {
                        if (r == -ENOENT)       /* gone meanwhile: nothing to keep */
                                continue;
                        ret->unreadable++;
                        log_debug("%s: %s; kept (history_keep: removes only files it can read)", path, err);
                        goto keep;
                }
                end = j->finished_usec ? j->finished_usec : j->updated_usec;
                /* a file whose promotion field disagrees with its name is
                 * not what the daemon writes: left to the operator */
                remove = job_state_is_final(j->state) && end && end < older_than_usec &&
                         streq_ptr(j->promotion, promotion);
                if (remove) {
                        _cleanup_free_ char *pkg = xasprintf("%s/%s.pkg", jobs_dir, ids[i]);
                        if (unlink(path) < 0 && errno != ENOENT) {
                                log_warning_errno(-errno, "cannot remove %s", path);
                                remove = false;
                        } else {
                                /* the job ended: a package left behind is of no use */
                                (void) unlink(pkg);
                                ret->removed++;
                        }
                }
                job_free(j);
                if (remove)
                        continue;
        keep:
                if (t && (!ret->oldest_kept_usec || t < ret->oldest_kept_usec))
                        ret->oldest_kept_usec = t;
        }
        for (size_t i = 0; i < n; i++)
                free(by_idx[i].promotion);
        free(by_idx);
        strv_free_n(ids, n);
        /* so that a crash does not bring back files whose removal was
         * logged; a failure only means that might happen */
        if (ret->removed)
                (void) fsync_dir(jobs_dir);
        return (int) ret->removed;
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
