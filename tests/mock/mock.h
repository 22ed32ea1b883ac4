/* mock.h — shared declarations of the mock Dev2Prod server.
 *
 * Files: mock-dev2prod.c (command line, daemon start/stop), mock_state.c
 * (tenants, operations, ids, the record file, interruptible sleeps),
 * mock_fault.c (fault specs), mock_json.c (tiny JSON reader and writer),
 * mock_http.c (routing and the endpoints), mock_stream.c (the package and
 * big-status bodies generated on the fly), mock_answer.c (answers replaced
 * on request: POST /_mock/answer).
 *
 * Error convention: functions return 0 or a negative errno; those that
 * fill a message buffer say so. */
#ifndef MOCK_DEV2PROD_H
#define MOCK_DEV2PROD_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define EXPORT_ID_LEN 24        /* hex digits, like the vendor's ids */
#define UUID_LEN 36
#define SESSION_KEY_LEN 32
#define TENANT_ID_MAX 64
#define MAX_SESSIONS 64         /* per tenant; the oldest is forgotten */
#define HANG_MS (10L * 60 * 1000)

/* ---- steps and faults (mock_fault.c) ------------------------------- */

enum step {
        STEP_NONE = -1,         /* control endpoints, unknown paths */
        STEP_EXPORT,
        STEP_EXPORT_STATUS,
        STEP_DOWNLOAD,
        STEP_UPLOAD,
        STEP_DRYRUN,
        STEP_DRYRUN_STATUS,
        STEP_IMPORT,
        STEP_IMPORT_STATUS,
        STEP_LOGIN,
        STEP_ANY,
};

enum fault_kind {
        FK_NONE,
        FK_CODE,                /* param = HTTP status */
        FK_RETRY_AFTER,         /* param = seconds */
        FK_DROP,
        FK_DROP_AFTER,
        FK_GARBAGE,
        FK_NOID,
        FK_ID_NOT_STRING,
        FK_DELAY,               /* param = milliseconds */
        FK_HANG,
        FK_TRUNCATE,
        FK_LONG,
        FK_STALL,
        FK_FAILED,
        FK_NOFILEID,
        FK_ERRORS,
        FK_WARNINGS,
        FK_UNKNOWN_STATUS,
        FK_BIGSTATUS,
        FK_EXPIRE,
};

/* The fault one request received: a copy, so the list may change meanwhile. */
struct fault {
        enum fault_kind kind;
        long param;
        char name[32];          /* the KIND as written, for the record */
};

/* What decides whether a fault fits a request beyond its step. */
struct fault_ctx {
        bool session_tenant;    /* "expire" needs one */
        bool would_complete;    /* "failed", "nofileid", ... need a poll that completes */
};

/* Validates SPEC and appends it to the list; err gets the reason. */
int fault_add(const char *spec, char *err, size_t errlen);
void fault_reset(void);
/* Picks (and uses up one count of) the first fault fitting the request;
 * kind FK_NONE when none does. Caller must NOT hold the state lock. */
struct fault fault_pick(enum step s, const struct fault_ctx *ctx);

/* A step by its name as --fault spells it (export, export_status, download,
 * upload, dryrun, dryrun_status, import, import_status, login, any). */
int step_parse(const char *s, enum step *out);
const char *step_name(enum step s);

/* ---- answer overrides (mock_answer.c) ------------------------------ */

/* POST /_mock/answer?step=STEP[&code=HTTP_STATUS][&count=N], body = the
 * answer (raw bytes, any bytes, up to ANSWER_MAX): the next N answers
 * (default 1; 0 = forever) of STEP get this body and status (default 200).
 * STEP: export, export_status, upload, dryrun, dryrun_status, import,
 * import_status. The work still happens and is recorded as usual (an
 * overridden import POST is an import; its status polls still advance),
 * and an "answer step=... id=... code=... bytes=..." line is recorded.
 * Only an answer the mock would have sent with 200 is replaced (never one
 * that a fault, an auth or routing refusal already decided); for the
 * *_status steps only a terminal poll (the one that says COMPLETED, or
 * FAILED under an outcome fault, and any later one): earlier polls still
 * say IN_PROGRESS. Placeholders in the body: @ID@ = the operation's id
 * (polled, or created by the POST; for an upload the new file id),
 * @FILEID@ = the file it refers to (export: the FileId it gives; dry run
 * and import: the FileId posted; upload: the new file id).
 * POST /_mock/reset-answers drops every override. */
#define ANSWER_MAX (64UL * 1024 * 1024)
/* Takes ownership of body (malloc'd, len bytes) on success. */
int answer_add(const char *step, const char *code, const char *count, char *body, size_t len,
               char *err, size_t errlen);
void answer_reset(void);
/* Uses up one count of the first override of step s: its body with the
 * placeholders filled (malloc'd, *len bytes) and *code; NULL when none. */
char *answer_take(enum step s, const char *id, const char *file_id, size_t *len, unsigned *code);

/* ---- state (mock_state.c) ------------------------------------------ */

/* Room for item n of an array of elem-size items: the array (moved, maybe)
 * or NULL when memory ran out, the old one then left as it was. */
void *mock_grow(void *arr, size_t *cap, size_t n, size_t elem);

enum auth_kind { AUTH_KEY, AUTH_BEARER, AUTH_SESSION };

struct tenant {
        char id[TENANT_ID_MAX];
        enum auth_kind auth;
        char *secret;           /* key or token; session: the password */
        char *user;             /* session only */
        char sessions[MAX_SESSIONS][SESSION_KEY_LEN + 1];
        unsigned nsessions, next_session;
};

/* How a finished operation ended (decided once, at its completing poll). */
enum outcome { OUT_RUNNING, OUT_OK, OUT_FAILED, OUT_NOFILEID, OUT_ERRORS, OUT_WARNINGS };

/* A snapshot of an export, taken under the lock, formatted outside it. */
struct export_view {
        char id[EXPORT_ID_LEN + 1];
        char tenant[TENANT_ID_MAX];
        char package[128];
        char file_id[UUID_LEN + 1];
        uint64_t seed;
        int64_t start_ms;
        const char *status;     /* IN_PROGRESS, COMPLETED, FAILED, REINDEXING */
        enum outcome outcome;
};

struct import_view {
        char id[EXPORT_ID_LEN + 1];
        char file_id[UUID_LEN + 1];
        char manager_id[EXPORT_ID_LEN + 1];
        bool dry_run;
        uint64_t seed;
        int64_t start_ms;
        const char *status;
        enum outcome outcome;
};

struct mock {
        struct tenant *tenants;
        size_t ntenants;
        uint64_t package_size;
        int polls;
        uint64_t throttle;      /* bytes per second, 0 = unlimited */
        int record_fd;
        int stop_pipe[2];       /* written once at shutdown, never read */
        pthread_mutex_t lock;   /* tenants' sessions, operations, faults */
};
extern struct mock M;

int state_init(void);
struct tenant *tenant_find(const char *id);
int tenant_add(const char *spec, char *err, size_t errlen);

/* Random ids from a generator seeded once from getrandom(2). */
void random_hex(char *out, size_t ndigits);     /* out gets ndigits + NUL */
void random_uuid(char out[UUID_LEN + 1]);
int64_t now_ms(void);
uint64_t fnv1a64(const char *s);

/* Auth: 1 when the Authorization header value admits the tenant. */
bool tenant_auth_ok(struct tenant *t, const char *authorization);
/* Login: session key on success, -EACCES on wrong credentials. */
int session_login(const char *tenant, const char *user, const char *password,
                  char key[SESSION_KEY_LEN + 1]);
void sessions_expire(struct tenant *t);

/* file_id (may be NULL) gets the FileId the export will give. */
int export_create(struct tenant *t, const char *package, char id[EXPORT_ID_LEN + 1],
                  char file_id[UUID_LEN + 1]);
/* Whether the export's next poll would complete it (for outcome faults). */
bool export_would_complete(struct tenant *t, const char *id);
/* One poll: advances the export unless f says otherwise; -ENOENT if unknown. */
int export_poll(struct tenant *t, const char *id, const struct fault *f, struct export_view *out);
/* Finds the export whose FileId this is on tenant t, for the download. */
int export_by_file(struct tenant *t, const char *file_id, struct export_view *out);

void upload_register(struct tenant *t, char file_id[UUID_LEN + 1]);
int import_create(struct tenant *t, const char *file_id, bool dry_run, char id[EXPORT_ID_LEN + 1]);
/* -ENOENT when unknown; else 0 and *dry_run. */
int import_kind(struct tenant *t, const char *id, bool *dry_run);
bool import_would_complete(struct tenant *t, const char *id);
int import_poll(struct tenant *t, const char *id, const struct fault *f, struct import_view *out);

/* The record file: one line per event, appended with one write(2). The
 * values must already be free of spaces (see rec_safe). */
void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies s into out (size n) percent-encoding spaces, controls, '%' and
 * non-ASCII, so a record value never splits. */
const char *rec_safe(char *out, size_t n, const char *s);

/* Sleeps up to ms. 0: the time ran out; -1: the peer closed fd (-1 = no
 * peer to watch) or the mock is stopping. */
int wait_or_gone(int fd, long ms);

/* ---- JSON (mock_json.c) -------------------------------------------- */

/* Growable string; on allocation failure it sets oom and stops growing. */
struct sbuf {
        char *p;
        size_t len, cap;
        bool oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(struct sbuf *b, const char *s);       /* quoted and escaped */
void sb_free(struct sbuf *b);

/* A top-level member the caller wants: found/is_string say what came. */
struct json_want {
        const char *key;
        char *out;
        size_t outlen;
        bool found, is_string, too_long;
};
/* Validates text as one JSON object and copies the wanted string members.
 * -EINVAL when it is not well-formed JSON or not an object. */
int json_object_strings(const char *text, size_t len, struct json_want *want, size_t nwant);

/* ---- bodies generated on the fly (mock_stream.c) ------------------- */

void package_fill(uint64_t seed, uint64_t pos, uint8_t *buf, size_t len);

struct download;
/* A response streaming the package of export e; fd is the client socket,
 * watched while throttling or stalling. The download is recorded when
 * download_finish runs (from the request-completed callback). */
struct download *download_new(const struct export_view *e, const struct fault *f, int fd);
struct MHD_Response *download_response(struct download *d);
void download_finish(struct download *d, bool completed_ok);
void download_free(struct download *d);

/* A status JSON object (text, without its closing brace) padded with a
 * huge "Notes" member up to total bytes. Takes ownership of head. */
struct MHD_Response *bigstatus_response(char *head, size_t head_len, uint64_t total);

/* ---- HTTP (mock_http.c) -------------------------------------------- */

enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls);
void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                  enum MHD_RequestTerminationCode toe);

#endif
