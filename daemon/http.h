/* http.h — HTTP requests on one curl multi handle inside the sd-event loop.
 *
 * Nothing here blocks: curl's sockets and timer are sd-event sources (the
 * pattern of systemd's curl-util.c).  A request is described by a struct
 * http_request, runs, and calls its done callback once with the result; the
 * request object is freed right after the callback returns.  Retrying and
 * judging the answer is the caller's business (job.c), because only the
 * caller knows whether repeating a request is safe. */
#ifndef DEV2PROD_HTTP_H
#define DEV2PROD_HTTP_H

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "util.h"

#define HTTP_USER_AGENT "dev2prodd/" DEV2PROD_VERSION
#ifndef DEV2PROD_VERSION        /* the Makefile's, from debian/changelog */
#define DEV2PROD_VERSION "unknown"
#endif

enum http_method { HTTP_GET, HTTP_POST };

struct http_request {
        enum http_method method;
        const char *url;
        const char *authorization;      /* Authorization: value; a secret, never logged */
        const char *json_body;          /* POST application/json */
        const char *upload_path;        /* POST multipart/form-data, streamed from this file */
        const char *upload_field;       /* its field name */
        const char *user_agent;         /* NULL: HTTP_USER_AGENT */
        int download_fd;                /* >= 0: stream the body into it; else collect it */
        const char *ca_file;            /* extra trusted CAs (PEM) */
        bool insecure;                  /* no TLS verification (logged by the caller) */
        bool fresh_connection;          /* never on a reused connection: see http.c */
        uint64_t connect_timeout_usec;
        uint64_t stall_timeout_usec;    /* fail when < 1 byte/s for this long */
        uint64_t total_timeout_usec;    /* 0: none (large transfers) */
        const char *extra_header;       /* one more "Name: value" line (notify.c's delivery id) */
        bool secret_url;                /* the URL is a secret (a webhook's): no curl debug account,
                                           whose request line shows its path and query */
};

struct http_result {
        CURLcode code;                  /* CURLE_OK: an HTTP answer arrived */
        long status;                    /* HTTP status; 0 without an answer */
        char error[CURL_ERROR_SIZE];    /* curl's words when code != CURLE_OK */
        struct buf body;                /* collected body (no download_fd), NUL-terminated */
        bool body_too_large;            /* collected body passed JSON_MAX_ANSWER */
        uint64_t bytes;                 /* download: bytes written to download_fd */
        int64_t content_length;         /* download: announced length, -1 unknown */
        char sha256[65];                /* download: digest of the bytes written */
        int write_errno;                /* download: writing to the file failed (ENOSPC...) */
        long retry_after_sec;           /* Retry-After, clamped to [0, 3600]; 0 when absent */
};

struct http;
struct http_req;
typedef void (*http_done_fn)(struct http_req *req, const struct http_result *res, void *userdata);

int http_new(sd_event *e, struct http **ret);
void http_free(struct http *h);
/* Queues the request.  All strings are copied.  Returns 0 or -errno. */
int http_start(struct http *h, const struct http_request *rq, http_done_fn done, void *userdata,
               struct http_req **ret);
/* Aborts a running request; its callback is not called. */
void http_cancel(struct http_req *r);
/* Bytes moved so far and expected (0 when unknown), for progress reports. */
void http_progress(const struct http_req *r, uint64_t *ret_now, uint64_t *ret_total);
unsigned http_running(const struct http *h);

/* True when the request certainly never reached the server (no connection
 * was made), so even a non-idempotent POST may be sent again. */
bool http_result_not_sent(const struct http_result *res);

#endif
