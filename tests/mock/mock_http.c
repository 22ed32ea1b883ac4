/* mock_http.c — the endpoints: routing, faults, auth, and the work of
 * each step.
 *
 * MHD calls on_request at least twice per request: once when the headers
 * are in (we route, pick a fault, check auth), once per body chunk, and
 * once more with no data (we answer). Everything a request needs between
 * those calls lives in its struct req, freed by on_completed. */
#include "mock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define REQUIRED_UA "Apache-HttpClient/4.4.1"
#define GARBAGE "<html><body>Service temporarily unavailable</body></html>"
#define BIGSTATUS_BYTES (50ULL * 1024 * 1024)

enum { BODY_MAX = 64 * 1024, PP_BUFFER = 64 * 1024, ARG_MAX = 256 };

enum route {
        R_NONE,
        R_EXPORT,
        R_EXPORT_STATUS,
        R_DOWNLOAD,
        R_UPLOAD,
        R_IMPORT,
        R_IMPORT_STATUS,
        R_LOGIN,
        R_FAULT_ADD,
        R_FAULT_RESET,
        R_ANSWER_ADD,
        R_ANSWER_RESET,
};

/* '*' is one non-empty path segment; in /rest/ paths the first is the
 * tenant id. */
static const struct route_def {
        const char *pattern;
        const char *method;
        enum route route;
} routes[] = {
        {"/rest/*/dev2prod/export/types/*", "POST", R_EXPORT},
        {"/rest/*/dev2prod/export/*", "GET", R_EXPORT_STATUS},
        {"/rest/*/ces/attachment/*", "GET", R_DOWNLOAD},
        {"/rest/*/ces/attachment", "POST", R_UPLOAD},
        {"/rest/*/dev2prod/import", "POST", R_IMPORT},
        {"/rest/*/dev2prod/import/*", "GET", R_IMPORT_STATUS},
        {"/api/rest/authentication/login", "POST", R_LOGIN},
        {"/_mock/fault", "POST", R_FAULT_ADD},
        {"/_mock/reset-faults", "POST", R_FAULT_RESET},
        {"/_mock/answer", "POST", R_ANSWER_ADD},
        {"/_mock/reset-answers", "POST", R_ANSWER_RESET},
};

struct req {
        struct MHD_Connection *conn;
        int fd;                         /* the client socket, watched while sleeping */
        char method[32];
        char path[3 * 512];             /* record-safe */
        enum route route;
        enum step step;
        struct tenant *tenant;
        char caps[2][ARG_MAX];          /* '*' segments: tenant, then id/package */
        bool dry_run;
        struct fault fault;
        /* Routing failures: answered as they are, no fault applies. */
        unsigned early_status;
        const char *early_msg;
        /* Auth and header checks: answered unless a fault answers first. */
        unsigned deny_status;
        const char *deny_msg;
        char *body;                     /* JSON requests, at most BODY_MAX (answers: ANSWER_MAX) */
        size_t body_len, body_cap;
        bool body_overflow;
        /* Set by the work when its answer may be overridden (mock_answer.c):
         * the operation's id and file id for the placeholders. */
        bool ans_ok;
        char ans_id[ARG_MAX];
        char ans_file_id[ARG_MAX];
        struct MHD_PostProcessor *pp;   /* uploads: streamed, never kept */
        struct sha256 up_sha;
        uint64_t up_bytes;
        bool up_part;
        const char *up_error;
        struct download *dl;
        bool dl_queued;
};

struct reply {
        unsigned status;
        struct MHD_Response *resp;      /* NULL: out of memory, drop */
        bool is_download;
};

/* ---- routing ---------------------------------------------------------- */

static bool match(const char *pat, const char *url, char caps[2][ARG_MAX])
{
        int ncaps = 0;
        while (*pat && *url) {
                if (*pat == '*') {
                        size_t n = strcspn(url, "/");
                        if (n == 0 || n >= ARG_MAX || ncaps == 2)
                                return false;
                        memcpy(caps[ncaps], url, n);
                        caps[ncaps++][n] = '\0';
                        url += n;
                        pat++;
                } else if (*pat++ != *url++) {
                        return false;
                }
        }
        return *pat == '\0' && *url == '\0';
}

static void set_early(struct req *r, unsigned status, const char *msg)
{
        r->early_status = status;
        r->early_msg = msg;
}

static void set_deny(struct req *r, unsigned status, const char *msg)
{
        if (!r->deny_status) {
                r->deny_status = status;
                r->deny_msg = msg;
        }
}

static void route(struct req *r, const char *url, const char *method)
{
        bool path_known = false;
        const struct route_def *def = NULL;
        for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !def; i++) {
                if (!match(routes[i].pattern, url, r->caps))
                        continue;
                path_known = true;
                if (strcmp(routes[i].method, method) == 0)
                        def = &routes[i];
        }
        if (!def) {
                set_early(r, path_known ? 405 : 404, path_known ? "method not allowed" : "not found");
                return;
        }
        r->route = def->route;
        if (strncmp(def->pattern, "/rest/", 6) == 0) {
                r->tenant = tenant_find(r->caps[0]);
                if (!r->tenant)
                        set_early(r, 404, "unknown tenant");
        }
}

/* The step a routed request belongs to, for faults. */
static void classify(struct req *r)
{
        bool dry = false;
        switch (r->route) {
        case R_EXPORT: r->step = STEP_EXPORT; break;
        case R_EXPORT_STATUS: r->step = STEP_EXPORT_STATUS; break;
        case R_DOWNLOAD: r->step = STEP_DOWNLOAD; break;
        case R_UPLOAD: r->step = STEP_UPLOAD; break;
        case R_IMPORT: {
                const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "dryRun");
                if (v && strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0)
                        set_early(r, 400, "dryRun must be true or false");
                r->dry_run = v && strcasecmp(v, "true") == 0;
                r->step = r->dry_run ? STEP_DRYRUN : STEP_IMPORT;
                break;
        }
        case R_IMPORT_STATUS:
                /* An unknown id answers 404 either way; call it an import. */
                r->step = import_kind(r->tenant, r->caps[1], &dry) == 0 && dry ? STEP_DRYRUN_STATUS
                                                                                 : STEP_IMPORT_STATUS;
                break;
        case R_LOGIN: r->step = STEP_LOGIN; break;
        default: r->step = STEP_NONE; break;
        }
}

static struct fault pick(struct req *r)
{
        struct fault_ctx ctx = {.session_tenant = r->tenant && r->tenant->auth == AUTH_SESSION};
        if (r->step == STEP_EXPORT_STATUS)
                ctx.would_complete = export_would_complete(r->tenant, r->caps[1]);
        else if (r->step == STEP_DRYRUN_STATUS || r->step == STEP_IMPORT_STATUS)
                ctx.would_complete = import_would_complete(r->tenant, r->caps[1]);
        return fault_pick(r->step, &ctx);
}

/* Faults answered in place of the work, body unread. */
static bool fault_answers_first(enum fault_kind k)
{
        return k == FK_CODE || k == FK_RETRY_AFTER || k == FK_DROP || k == FK_HANG;
}

/* ---- uploads ---------------------------------------------------------- */

static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
        struct req *r = cls;
        if (!key || strcmp(key, "Files[]") != 0) {
                r->up_error = "unexpected form field: the file goes in field Files[]";
                return MHD_NO;
        }
        /* Within one part MHD hands the bytes in order; an offset that
         * does not continue what we have means a second part began. */
        if (off != r->up_bytes) {
                r->up_error = "one file per upload";
                return MHD_NO;
        }
        r->up_part = true;
        sha256_update(&r->up_sha, data, size);
        r->up_bytes += size;
        return MHD_YES;
}

static void check_upload(struct req *r)
{
        const char *ua = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
        if (!ua || strcmp(ua, REQUIRED_UA) != 0) {
                set_deny(r, 400, "unsupported client: User-Agent must be " REQUIRED_UA);
                return;
        }
        /* MHD's processor also takes url-encoded forms; the vendor's API
         * does not, so neither do we. */
        const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) {
                set_deny(r, 400, "expected a multipart/form-data body with the file in field Files[]");
                return;
        }
        sha256_init(&r->up_sha);
        r->pp = MHD_create_post_processor(r->conn, PP_BUFFER, on_post_data, r);
        if (!r->pp)
                set_deny(r, 400, "expected a multipart/form-data body with the file in field Files[]");
}

/* ---- the first call: decide what can be decided from the headers ------ */

static struct req *req_start(struct MHD_Connection *c, const char *url, const char *method)
{
        struct req *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        r->conn = c;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        r->fd = ci ? ci->connect_fd : -1;
        rec_safe(r->method, sizeof r->method, method);
        rec_safe(r->path, sizeof r->path, url);
        r->fault.kind = FK_NONE;
        snprintf(r->fault.name, sizeof r->fault.name, "-");
        r->step = STEP_NONE;

        route(r, url, method);
        if (r->early_status)
                return r;
        classify(r);
        if (r->early_status)
                return r;
        r->fault = pick(r);
        if (r->fault.kind == FK_EXPIRE)
                sessions_expire(r->tenant);     /* before the auth check below */
        if (fault_answers_first(r->fault.kind))
                return r;
        if (r->tenant) {
                const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
                if (!tenant_auth_ok(r->tenant, auth))
                        set_deny(r, 401, "unauthorized");
        }
        if (r->route == R_UPLOAD && !r->deny_status)
                check_upload(r);
        return r;
}

static void req_body(struct req *r, const char *data, size_t size)
{
        if (r->early_status || r->deny_status || fault_answers_first(r->fault.kind))
                return;                 /* read and forget: the answer is decided */
        if (r->route == R_UPLOAD) {
                if (r->pp && !r->up_error && MHD_post_process(r->pp, data, size) != MHD_YES && !r->up_error)
                        r->up_error = "malformed multipart/form-data body";
                return;
        }
        size_t max = r->route == R_ANSWER_ADD ? ANSWER_MAX : BODY_MAX;
        if (r->body_overflow || r->body_len + size > max) {
                r->body_overflow = true;
                return;
        }
        if (r->body_len + size + 1 > r->body_cap) {
                /* Doubling: an answer body may come in thousands of chunks. */
                size_t ncap = r->body_cap ? r->body_cap : 1024;
                while (ncap < r->body_len + size + 1)
                        ncap *= 2;
                char *p = realloc(r->body, ncap);
                if (!p) {
                        r->body_overflow = true;
                        return;
                }
                r->body = p;
                r->body_cap = ncap;
        }
        memcpy(r->body + r->body_len, data, size);
        r->body_len += size;
        r->body[r->body_len] = '\0';
}

/* ---- answers ---------------------------------------------------------- */

static void record_request(const struct req *r, unsigned status)
{
        char st[16] = "-";
        if (status)
                snprintf(st, sizeof st, "%u", status);
        record("request method=%s path=%s status=%s fault=%s", r->method, r->path, st, r->fault.name);
}

static struct reply reply_buf(unsigned status, const char *ctype, const char *body, size_t len)
{
        struct reply rep = {.status = status};
        rep.resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
        if (rep.resp && MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES) {
                MHD_destroy_response(rep.resp);
                rep.resp = NULL;
        }
        return rep;
}

/* Consumes b. */
static struct reply reply_json(unsigned status, struct sbuf *b)
{
        struct reply rep = {.status = status};
        if (!b->oom)
                rep = reply_buf(status, "application/json", b->p ? b->p : "", b->len);
        sb_free(b);
        return rep;
}

static struct reply reply_message(unsigned status, const char *msg)
{
        struct sbuf b = {0};
        sb_printf(&b, "{\"message\":");
        sb_json_str(&b, msg);
        sb_printf(&b, "}");
        return reply_json(status, &b);
}

static struct reply reply_id(const char *id)
{
        struct sbuf b = {0};
        sb_printf(&b, "{\"Id\":\"%s\"}", id);
        return reply_json(200, &b);
}

static enum MHD_Result queue(struct req *r, struct reply rep)
{
        if (!rep.resp) {
                record_request(r, 0);
                return MHD_NO;
        }
        record_request(r, rep.status);
        enum MHD_Result ret = MHD_queue_response(r->conn, rep.status, rep.resp);
        MHD_destroy_response(rep.resp);
        r->dl_queued = rep.is_download && ret == MHD_YES;
        return ret;
}

/* ---- status objects --------------------------------------------------- */

static const char *const export_parts[] = {"metadata", "workflow", "formLayouts", "customAction", "resourceBundles"};
static const char *const import_parts[] = {"metadata", "workflow", "formLayouts"};
#define NPARTS(a) (sizeof(a) / sizeof((a)[0]))

static unsigned part_count(uint64_t seed, size_t i)
{
        return 1 + (unsigned)((seed >> (8 * i)) & 0x7f);
}

static void export_status_json(struct sbuf *b, const struct export_view *v)
{
        char when[32] = "1970-01-01 00-00", bundle[256];
        time_t t = (time_t)(v->start_ms / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm))
                strftime(when, sizeof when, "%Y-%m-%d %H-%M", &tm);
        snprintf(bundle, sizeof bundle, "Package-%s-%s-%s", v->package, v->tenant, when);
        unsigned items = 0;
        for (size_t i = 0; i < NPARTS(export_parts); i++)
                items += part_count(v->seed, i);

        sb_printf(b, "{\"id\":\"%s\",\"PackageBundleName\":", v->id);
        sb_json_str(b, bundle);
        sb_printf(b, ",\"Status\":\"%s\"", v->status);
        if (strcmp(v->status, "COMPLETED") == 0 && v->outcome != OUT_NOFILEID)
                sb_printf(b, ",\"FileId\":\"%s\"", v->file_id);
        sb_printf(b, ",\"StartTime\":%" PRId64 ",\"LastUpdateTime\":%" PRId64 ",\"ItemCount\":%u,\"Statistics\":[",
                  v->start_ms, now_ms(), items);
        for (size_t i = 0; i < NPARTS(export_parts); i++)
                sb_printf(b, "%s{\"PackageName\":\"%s\",\"ItemCount\":%u}", i ? "," : "", export_parts[i],
                          part_count(v->seed, i));
        sb_printf(b, "],\"OperationType\":\"Export\"}");
}

static void import_results_json(struct sbuf *b, const struct import_view *v, unsigned *modified)
{
        *modified = 0;
        sb_printf(b, "\"Results\":[");
        for (size_t i = 0; i < NPARTS(import_parts); i++) {
                unsigned m = part_count(v->seed, i);
                bool errs = v->outcome == OUT_ERRORS && i == 0;
                bool warns = v->outcome == OUT_WARNINGS && i == 1;
                *modified += m;
                sb_printf(b, "%s{\"PackageName\":\"%s\",\"Statistics\":{\"Modified\":%u,\"Removed\":0,"
                             "\"Failed\":%d,\"Skipped\":0},\"Errors\":[%s],\"Warnings\":[%s]}",
                          i ? "," : "", import_parts[i], m, errs ? 2 : 0,
                          errs ? "\"Form 'Intake' references missing field 'priority'\","
                                 "\"Workflow 'Escalation' uses unknown state 'Triage'\""
                               : "",
                          warns ? "\"Notification template 'Welcome' has no body for locale 'de'\"" : "");
        }
        sb_printf(b, "],");
}

static void import_status_json(struct sbuf *b, const struct import_view *v)
{
        bool done = strcmp(v->status, "COMPLETED") == 0;
        bool locked = !v->dry_run && strcmp(v->status, "IN_PROGRESS") == 0;
        int64_t now = now_ms(), ttl = 10000000 - (now - v->start_ms);
        sb_printf(b, "{\"TimeToLive\":%" PRId64 ",\"StudioLocked\":%s,\"SystemLocked\":%s,\"id\":\"%s\","
                     "\"FileId\":\"%s\",\"Status\":\"%s\",\"DryRun\":%s,\"PackageManagerId\":\"%s\","
                     "\"StartTime\":%" PRId64 ",\"LastUpdateTime\":%" PRId64 ",\"ProcessingServerName\":\"mock-dev2prod\",",
                  ttl > 0 ? ttl : 0, locked ? "true" : "false", locked ? "true" : "false", v->id, v->file_id,
                  v->status, v->dry_run ? "true" : "false", v->manager_id, v->start_ms, now);
        unsigned modified = 0;
        if (done)
                import_results_json(b, v, &modified);
        else
                sb_printf(b, "\"Results\":[],");
        sb_printf(b, "\"Totals\":{\"Added\":0,\"Modified\":%u,\"Removed\":0,\"Failed\":%d,\"Skipped\":0},"
                     "\"OperationType\":\"Import\"}",
                  modified, done && v->outcome == OUT_ERRORS ? 2 : 0);
}

/* A status answer, padded to 50 MB for the bigstatus fault. */
static struct reply reply_status(struct req *r, struct sbuf *b)
{
        if (r->fault.kind != FK_BIGSTATUS || b->oom)
                return reply_json(200, b);
        struct reply rep = {.status = 200};
        b->len--;                       /* reopen the object: drop its '}' */
        rep.resp = bigstatus_response(b->p, b->len, BIGSTATUS_BYTES);
        memset(b, 0, sizeof *b);        /* the response owns the text now */
        if (rep.resp && MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES) {
                MHD_destroy_response(rep.resp);
                rep.resp = NULL;
        }
        return rep;
}

/* ---- answer overrides (mock_answer.c) -------------------------------- */

/* The work says its answer may be replaced, and what fills the placeholders. */
static void answerable(struct req *r, const char *id, const char *file_id)
{
        r->ans_ok = true;
        snprintf(r->ans_id, sizeof r->ans_id, "%s", id);
        snprintf(r->ans_file_id, sizeof r->ans_file_id, "%s", file_id);
}

/* A poll's status word that ends the operation (the running ones are
 * IN_PROGRESS, and REINDEXING under the unknown-status fault). */
static bool status_is_terminal(const char *status)
{
        return strcmp(status, "IN_PROGRESS") != 0 && strcmp(status, "REINDEXING") != 0;
}

/* rep, or in its place the next override of the request's step. */
static struct reply override(struct req *r, struct reply rep)
{
        if (!r->ans_ok || !rep.resp || rep.status != 200)
                return rep;
        size_t len;
        unsigned code;
        char *body = answer_take(r->step, r->ans_id, r->ans_file_id, &len, &code);
        if (!body)
                return rep;
        char id[3 * ARG_MAX];
        record("answer step=%s id=%s code=%u bytes=%zu", step_name(r->step), rec_safe(id, sizeof id, r->ans_id),
               code, len);
        MHD_destroy_response(rep.resp);
        struct reply nrep = {.status = code};
        nrep.resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!nrep.resp) {
                free(body);
        } else if (MHD_add_response_header(nrep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES) {
                MHD_destroy_response(nrep.resp);
                nrep.resp = NULL;
        }
        return nrep;
}

/* ---- the steps -------------------------------------------------------- */

static bool body_is_json(struct req *r, struct json_want *want, size_t n)
{
        return !r->body_overflow && json_object_strings(r->body ? r->body : "", r->body_len, want, n) == 0;
}

static struct reply do_export(struct req *r)
{
        if (!body_is_json(r, NULL, 0))
                return reply_message(400, "the body must be a JSON object");
        char id[EXPORT_ID_LEN + 1], file_id[UUID_LEN + 1], tenant[3 * TENANT_ID_MAX], pkg[3 * ARG_MAX];
        if (export_create(r->tenant, r->caps[1], id, file_id) < 0)
                return reply_message(500, "out of memory");
        record("export tenant=%s package=%s id=%s", rec_safe(tenant, sizeof tenant, r->tenant->id),
               rec_safe(pkg, sizeof pkg, r->caps[1]), id);
        answerable(r, id, file_id);
        return reply_id(id);
}

static struct reply do_export_status(struct req *r)
{
        struct export_view v;
        if (export_poll(r->tenant, r->caps[1], &r->fault, &v) < 0)
                return reply_message(404, "export not found");
        struct sbuf b = {0};
        export_status_json(&b, &v);
        if (status_is_terminal(v.status))
                answerable(r, v.id, v.file_id);
        return reply_status(r, &b);
}

static struct reply do_download(struct req *r)
{
        struct export_view v;
        if (export_by_file(r->tenant, r->caps[1], &v) < 0)
                return reply_message(404, "file not found");
        struct reply rep = {.status = 200, .is_download = true};
        r->dl = download_new(&v, &r->fault, r->fd);
        if (!r->dl)
                return rep;
        rep.resp = download_response(r->dl);
        char disp[128];
        snprintf(disp, sizeof disp, "attachment; filename=\"package-%s.zip\"", v.id);
        if (rep.resp && (MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream") != MHD_YES ||
                         MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp) != MHD_YES)) {
                MHD_destroy_response(rep.resp);
                rep.resp = NULL;
        }
        return rep;
}

static struct reply do_upload(struct req *r)
{
        /* MHD may hold back the last bytes (they could have begun a
         * boundary) until the processor is destroyed: destroy first. */
        if (r->pp) {
                enum MHD_Result done = MHD_destroy_post_processor(r->pp);
                r->pp = NULL;
                if (done != MHD_YES && !r->up_error)
                        r->up_error = "incomplete multipart/form-data body";
        }
        if (r->up_error)
                return reply_message(400, r->up_error);
        if (!r->up_part)
                return reply_message(400, "no file in field Files[]");
        char file_id[UUID_LEN + 1], hex[65], tenant[3 * TENANT_ID_MAX];
        upload_register(r->tenant, file_id);
        sha256_final_hex(&r->up_sha, hex);
        record("upload tenant=%s file_id=%s bytes=%" PRIu64 " sha256=%s",
               rec_safe(tenant, sizeof tenant, r->tenant->id), file_id, r->up_bytes, hex);
        answerable(r, file_id, file_id);
        return reply_id(file_id);
}

static struct reply do_import(struct req *r)
{
        char file_id[128], id[EXPORT_ID_LEN + 1], tenant[3 * TENANT_ID_MAX], fid[3 * sizeof file_id];
        struct json_want want = {.key = "FileId", .out = file_id, .outlen = sizeof file_id};
        if (!body_is_json(r, &want, 1))
                return reply_message(400, "the body must be a JSON object");
        if (!want.is_string || want.too_long)
                return reply_message(400, "\"FileId\" (a string) is required");
        int rc = import_create(r->tenant, file_id, r->dry_run, id);
        if (rc == -ENOENT)
                return reply_message(404, "file not found");
        if (rc < 0)
                return reply_message(500, "out of memory");
        record("%s tenant=%s file_id=%s id=%s", r->dry_run ? "dryrun" : "import",
               rec_safe(tenant, sizeof tenant, r->tenant->id), rec_safe(fid, sizeof fid, file_id), id);
        answerable(r, id, file_id);
        return reply_id(id);
}

static struct reply do_import_status(struct req *r)
{
        struct import_view v;
        if (import_poll(r->tenant, r->caps[1], &r->fault, &v) < 0)
                return reply_message(404, "import not found");
        struct sbuf b = {0};
        import_status_json(&b, &v);
        if (status_is_terminal(v.status))
                answerable(r, v.id, v.file_id);
        return reply_status(r, &b);
}

static struct reply do_login(struct req *r)
{
        char tenant[TENANT_ID_MAX * 2], user[256], password[1024], role[256];
        struct json_want want[] = {
                {.key = "tenant", .out = tenant, .outlen = sizeof tenant},
                {.key = "username", .out = user, .outlen = sizeof user},
                {.key = "password", .out = password, .outlen = sizeof password},
                {.key = "role", .out = role, .outlen = sizeof role},
        };
        if (!body_is_json(r, want, NPARTS(want)))
                return reply_message(400, "the body must be a JSON object");
        for (size_t i = 0; i < 3; i++)
                if (!want[i].is_string || want[i].too_long)
                        return reply_message(400, "tenant, username and password (strings) are required");
        char key[SESSION_KEY_LEN + 1], t_safe[3 * sizeof tenant], u_safe[3 * sizeof user];
        int rc = session_login(tenant, user, password, key);
        explicit_bzero(password, sizeof password);
        record("login tenant=%s user=%s ok=%d", rec_safe(t_safe, sizeof t_safe, tenant),
               rec_safe(u_safe, sizeof u_safe, user), rc == 0);
        if (rc < 0)
                return reply_message(401, "unauthorized");
        struct reply rep = reply_buf(200, "text/plain", key, SESSION_KEY_LEN);
        explicit_bzero(key, sizeof key);
        return rep;
}

static struct reply do_fault_add(struct req *r)
{
        char spec[128], err[256];
        size_t n = r->body_len;
        const char *s = r->body ? r->body : "";
        while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                s++, n--;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        if (r->body_overflow || n >= sizeof spec)
                return reply_message(400, "fault spec too long");
        memcpy(spec, s, n);
        spec[n] = '\0';
        if (fault_add(spec, err, sizeof err) < 0)
                return reply_message(400, err);
        return reply_buf(200, "text/plain", "ok", 2);
}

static struct reply do_answer_add(struct req *r)
{
        char err[256];
        if (r->body_overflow)
                return reply_message(400, "answer body too long (or out of memory)");
        const char *step = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "step");
        const char *code = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "code");
        const char *count = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "count");
        char *body = r->body ? r->body : calloc(1, 1);
        if (!body)
                return reply_message(500, "out of memory");
        if (answer_add(step, code, count, body, r->body_len, err, sizeof err) < 0) {
                if (body != r->body)
                        free(body);
                return reply_message(400, err);
        }
        r->body = NULL;                 /* the override owns it now */
        r->body_len = r->body_cap = 0;
        return reply_buf(200, "text/plain", "ok", 2);
}

static struct reply do_work(struct req *r)
{
        switch (r->route) {
        case R_EXPORT: return do_export(r);
        case R_EXPORT_STATUS: return do_export_status(r);
        case R_DOWNLOAD: return do_download(r);
        case R_UPLOAD: return do_upload(r);
        case R_IMPORT: return do_import(r);
        case R_IMPORT_STATUS: return do_import_status(r);
        case R_LOGIN: return do_login(r);
        case R_FAULT_ADD: return do_fault_add(r);
        case R_FAULT_RESET: fault_reset(); return reply_buf(200, "text/plain", "ok", 2);
        case R_ANSWER_ADD: return do_answer_add(r);
        case R_ANSWER_RESET: answer_reset(); return reply_buf(200, "text/plain", "ok", 2);
        default: return reply_message(404, "not found");
        }
}

/* Faults that let the work happen and then spoil its answer. */
static enum MHD_Result answer_after_work(struct req *r, struct reply rep)
{
        const char *json = NULL;
        switch (r->fault.kind) {
        case FK_DROP_AFTER:
                if (rep.resp)
                        MHD_destroy_response(rep.resp);
                record_request(r, 0);
                return MHD_NO;
        case FK_GARBAGE:
                if (rep.resp)
                        MHD_destroy_response(rep.resp);
                return queue(r, reply_buf(200, "text/html", GARBAGE, strlen(GARBAGE)));
        case FK_NOID: json = "{\"Result\":\"ok\"}"; break;
        case FK_ID_NOT_STRING: json = "{\"Id\":12345}"; break;
        case FK_BIGSTATUS: return queue(r, rep);
        default: return queue(r, override(r, rep));
        }
        if (rep.resp)
                MHD_destroy_response(rep.resp);
        return queue(r, reply_buf(200, "application/json", json, strlen(json)));
}

/* Faults that answer instead of the work; -1 when they do not. */
static int answer_fault_first(struct req *r, enum MHD_Result *ret)
{
        char msg[64];
        struct reply rep;
        switch (r->fault.kind) {
        case FK_CODE:
                snprintf(msg, sizeof msg, "injected %ld", r->fault.param);
                *ret = queue(r, reply_message((unsigned)r->fault.param, msg));
                return 0;
        case FK_RETRY_AFTER:
                snprintf(msg, sizeof msg, "%ld", r->fault.param);
                rep = reply_message(429, "injected 429");
                if (rep.resp && MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_RETRY_AFTER, msg) != MHD_YES) {
                        MHD_destroy_response(rep.resp);
                        rep.resp = NULL;
                }
                *ret = queue(r, rep);
                return 0;
        case FK_HANG:
                record_request(r, 0);
                (void)wait_or_gone(r->fd, HANG_MS);
                *ret = MHD_NO;
                return 0;
        case FK_DELAY:
                if (wait_or_gone(r->fd, r->fault.param) < 0) {
                        record_request(r, 0);
                        *ret = MHD_NO;
                        return 0;
                }
                return -1;
        default:
                return -1;
        }
}

static enum MHD_Result req_finish(struct req *r)
{
        enum MHD_Result ret;
        if (r->early_status)
                return queue(r, reply_message(r->early_status, r->early_msg));
        if (answer_fault_first(r, &ret) == 0)
                return ret;
        if (r->deny_status)
                return queue(r, reply_message(r->deny_status, r->deny_msg));
        return answer_after_work(r, do_work(r));
}

/* ---- MHD callbacks ---------------------------------------------------- */

enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size,
                           void **con_cls)
{
        struct req *r = *con_cls;
        if (!r) {
                r = req_start(c, url, method);
                if (!r)
                        return MHD_NO;
                *con_cls = r;
                if (r->fault.kind == FK_DROP) {
                        record_request(r, 0);
                        return MHD_NO;
                }
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                req_body(r, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        return req_finish(r);
}

void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
        struct req *r = *con_cls;
        if (!r)
                return;
        if (r->dl && r->dl_queued)
                download_finish(r->dl, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
        if (r->pp)
                (void)MHD_destroy_post_processor(r->pp);        /* incomplete: nothing to learn */
        download_free(r->dl);
        if (r->body)                    /* a login body holds a password */
                explicit_bzero(r->body, r->body_len);
        free(r->body);
        free(r);
        *con_cls = NULL;
}
