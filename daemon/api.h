/* api.h — the Dev2Prod REST API: URLs, request bodies and answer decoders.
 * Pure functions (no I/O), so the fuzz targets and unit tests reach them
 * directly.  See shared/api/dev2prod-api.md for the quirks handled here. */
#ifndef DEV2PROD_API_H
#define DEV2PROD_API_H

#include "util.h"


struct part_stat {              /* export: Statistics[] */
        char *name;
        long long items;
};

/* What a decoded status keeps of an answer, so that a job file has a size
 * limit by construction (store.h STORE_MAX_FILE): every string at most
 * API_MAX_TEXT bytes, at most API_MAX_RESULTS results or statistics, and
 * at most API_MAX_FINDINGS errors and as many warnings per status; the
 * counts of all of them are kept beside. */
#define API_MAX_TEXT 512
#define API_MAX_RESULTS 64
#define API_MAX_FINDINGS 50

struct import_result {          /* import: Results[] */
        char *package;
        long long modified, removed, failed, skipped;
        char **errors;          /* the first n_errors of errors_total */
        size_t n_errors, errors_total;
        char **warnings;
        size_t n_warnings, warnings_total;
};

struct totals {
        long long added, modified, removed, failed, skipped;
};

struct export_status {
        char *id;
        char *status;
        char *file_id;          /* NULL until COMPLETED */
        char *bundle_name;
        long long item_count;
        long long start_ms, update_ms;
        struct part_stat *stats;
        size_t n_stats;
};

struct import_status {
        char *id;
        char *status;
        char *file_id;
        bool dry_run;
        bool studio_locked, system_locked;
        long long start_ms, update_ms;
        struct import_result *results;
        size_t n_results, results_total;        /* kept, and in the answer */
        struct totals totals;
        bool has_totals;
};

/* URLs.  base is the tenant's url (no trailing slash).  All ids are
 * percent-encoded where they enter a path.  Returned strings are malloc'd. */
char *api_url_export(const char *base, const char *tenant, const char *package);
char *api_url_export_status(const char *base, const char *tenant, const char *export_id);
char *api_url_download(const char *base, const char *tenant, const char *file_id);
char *api_url_upload(const char *base, const char *tenant);
char *api_url_import(const char *base, const char *tenant, bool dry_run);
char *api_url_import_status(const char *base, const char *tenant, const char *import_id);
char *api_url_login(const char *base);
/* {"FileId": "..."} */
char *api_body_import(const char *file_id);
/* {"tenant":..,"username":..,"password":..,"role":..}; holds a secret: free
 * it with secret_free. */
char *api_body_login(const char *tenant, const char *user, const char *password, const char *role);

/* Decoders for what a job keeps and shows.  They decide nothing: the
 * verdicts are judge.c's.  Every string is cleaned (util.h text_clean) and
 * bounded as said above.  body holds len bytes and body[len] is NUL.  Each
 * returns 0, or -EPROTO with a malloc'd *ret_err naming what is wrong.
 * api_parse_id accepts exactly what judge_created passes. */
int api_parse_id(const char *body, size_t len, char **ret_id, char **ret_err);
int api_parse_export_status(const char *body, size_t len, struct export_status *ret, char **ret_err);
int api_parse_import_status(const char *body, size_t len, struct import_status *ret, char **ret_err);
/* Login answer: the session key as plain text, a JSON string, or an object
 * with a "SessionKey"/"key"/"token" member. */
int api_parse_login(const char *body, size_t len, char **ret_key, char **ret_err);

/* A short message from an error answer: its "message"/"error"/"detail"
 * string when it is JSON, else its first line of text; at most 300 chars. */
char *api_error_text(const char *body);

void export_status_free(struct export_status *s);
void import_status_free(struct import_status *s);
/* Number of errors over all Results[] of the answer, kept or not
 * (Totals.Failed counts on top). */
size_t import_status_n_errors(const struct import_status *s);
size_t import_status_n_warnings(const struct import_status *s);

#endif
