/* http.c — see http.h.  The sd-event glue follows systemd's curl-util.c:
 * curl tells us which sockets to watch and when to wake it; we tell curl
 * what happened; finished transfers are collected with curl_multi_info_read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "sha256.h"

#define HTTP_TRANSFER_BUFFER (512L * 1024L)  /* curl's download/upload buffer, bytes */
#define WRITE_BUFFER (512u * 1024u)        /* a download reaches the file in pieces this large */
#define POOL_MAX 32                        /* idle easy handles kept for reuse */

struct http {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        CURL *pool[POOL_MAX];
        unsigned n_pool;
        unsigned running;
};

struct http_req {
        struct http *http;
        CURL *easy;
        struct curl_slist *headers;
        curl_mime *mime;
        char *url, *body, *upload_path, *upload_field, *user_agent, *ca_file;
        int download_fd;
        int to_file;                    /* -1 not yet known; 0 error answer: collect it; 1 package */
        char *wbuf;                     /* package bytes not yet written */
        size_t wlen;
        uint64_t written;               /* bytes handed to write(2) */
        struct sha256 sha;
        struct http_result res;
        curl_off_t now, total;
        http_done_fn done;
        void *userdata;
};

static void check_done(struct http *h);

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct http *h = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        if (curl_multi_socket_action(h->multi, fd, action, &running) != CURLM_OK)
                log_warning("curl_multi_socket_action failed");
        check_done(h);
        return 0;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
        struct http *h = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        curl_multi_assign(h->multi, s, NULL);
                }
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0 ||
                    sd_event_source_set_enabled(io, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(h->event, &io, s, events, on_io, h) < 0)
                return -1;
        (void) sd_event_source_set_description(io, "curl-io");
        curl_multi_assign(h->multi, s, io);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct http *h = userdata;
        int running;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(h);
        return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
        struct http *h = userp;
        uint64_t usec;

        if (timeout_ms < 0)
                return h->timer ? (sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0) : 0;
        /* BOOTTIME: a suspended machine must not make curl's deadlines fire
         * late, and wall-clock jumps must not make them fire early. */
        if (sd_event_now(h->event, CLOCK_BOOTTIME, &usec) < 0)
                return -1;
        usec += (uint64_t) timeout_ms * USEC_PER_MSEC;
        if (h->timer) {
                if (sd_event_source_set_time(h->timer, usec) < 0 ||
                    sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        /* accuracy 1 µs: sd-event's default (250 ms) would add a quarter
         * second to every request curl asks to be woken for at once */
        if (sd_event_add_time(h->event, &h->timer, CLOCK_BOOTTIME, usec, 1, on_timer, h) < 0)
                return -1;
        (void) sd_event_source_set_description(h->timer, "curl-timer");
        return 0;
}

int http_new(sd_event *e, struct http **ret) {
        static bool global_done;
        struct http *h;

        if (!global_done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -EIO;
                global_done = true;
        }
        h = xcalloc(1, sizeof *h);
        h->event = sd_event_ref(e);
        h->multi = curl_multi_init();
        if (!h->multi) {
                http_free(h);
                return -ENOMEM;
        }
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
        curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
        /* Many jobs talk to few servers: keep their connections for reuse. */
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
        *ret = h;
        return 0;
}

static void req_free(struct http_req *r) {
        struct http *h = r->http;

        if (r->easy) {
                curl_multi_remove_handle(h->multi, r->easy);
                if (h->n_pool < POOL_MAX) {
                        curl_easy_reset(r->easy);
                        h->pool[h->n_pool++] = r->easy;
                } else
                        curl_easy_cleanup(r->easy);
        }
        /* The header list holds the Authorization secret. */
        for (struct curl_slist *l = r->headers; l; l = l->next)
                explicit_bzero(l->data, strlen(l->data));
        curl_slist_free_all(r->headers);
        curl_mime_free(r->mime);
        if (r->url)                     /* a webhook's URL is a secret */
                explicit_bzero(r->url, strlen(r->url));
        free(r->url);
        if (r->body)                    /* a login body holds a password */
                explicit_bzero(r->body, strlen(r->body));
        free(r->body);
        free(r->upload_path);
        free(r->upload_field);
        free(r->user_agent);
        free(r->ca_file);
        buf_free(&r->res.body);
        free(r->wbuf);
        free(r);
        h->running--;
}

void http_free(struct http *h) {
        if (!h)
                return;
        for (unsigned i = 0; i < h->n_pool; i++)
                curl_easy_cleanup(h->pool[i]);
        if (h->multi)
                curl_multi_cleanup(h->multi);
        sd_event_source_disable_unref(h->timer);
        sd_event_unref(h->event);
        free(h);
}

/* Writes the gathered package bytes; false (and write_errno) on failure. */
/* All of data to the download file. */
static bool write_download(struct http_req *r, const char *data, size_t len) {
        for (size_t done = 0; done < len;) {
                ssize_t w = write(r->download_fd, data + done, len - done);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        r->res.write_errno = errno;
                        return false;
                }
                done += (size_t) w;
        }
        r->written += len;
        return true;
}

static bool flush_download(struct http_req *r) {
        if (!write_download(r, r->wbuf, r->wlen))
                return false;
        r->wlen = 0;
        return true;
}

static size_t on_write(char *p, size_t size, size_t n, void *userdata) {
        struct http_req *r = userdata;
        size_t len = size * n;

        if (r->download_fd >= 0 && r->to_file < 0) {
                /* an error answer to a download is words for the log, not
                 * package bytes: keep it out of the file */
                long st = 0;
                curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &st);
                r->to_file = st / 100 == 2;
        }
        if (r->download_fd < 0 || !r->to_file) {
                if (r->res.body.len + len > JSON_MAX_ANSWER) {
                        r->res.body_too_large = true;
                        return 0;       /* abort: nothing that large is an answer of ours */
                }
                buf_append(&r->res.body, p, len);
                return len;
        }
        /* curl hands over at most 16 KiB per call: gather them, so the file
         * gets one write(2) per WRITE_BUFFER bytes, not one per 16 KiB */
        if (!r->wbuf)
                r->wbuf = xmalloc(WRITE_BUFFER);
        /* a piece that is large on its own goes straight from curl's
         * buffer: copying a whole package once more costs CPU (issue 14) */
        size_t gather = len;
        if (r->wlen == 0 && len >= WRITE_BUFFER / 4) {
                if (!write_download(r, p, len))
                        return 0;
                gather = 0;
        }
        for (size_t done = 0; done < gather;) {
                size_t k = MIN(gather - done, (size_t) WRITE_BUFFER - r->wlen);
                memcpy(r->wbuf + r->wlen, p + done, k);
                r->wlen += k;
                done += k;
                if (r->wlen == WRITE_BUFFER && !flush_download(r))
                        return 0;
        }
        sha256_update(&r->sha, p, len);
        r->res.bytes += len;
        return len;
}

static int on_xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        struct http_req *r = userdata;
        if (r->upload_path) {
                r->now = ulnow;
                r->total = ultotal;
        } else {
                r->now = dlnow;
                r->total = dltotal;
        }
        return 0;
}

static int add_header(struct http_req *r, const char *name, const char *v) {
        char *line = xasprintf("%s: %s", name, v);
        struct curl_slist *l = curl_slist_append(r->headers, line);
        explicit_bzero(line, strlen(line));
        free(line);
        if (!l)
                return -ENOMEM;
        r->headers = l;
        return 0;
}

/* With DEV2PRODD_LOG_LEVEL=debug, curl's own account of each request, with
 * the secrets taken out: its notes and the header lines it sent and
 * received, line by line, and no body (CURLINFO_DATA_*: a login body
 * carries a password; packages are binary) nor TLS record.  A line naming
 * a credential, in any format libcurl has for headers (the HTTP/1 dump
 * "Authorization: ...", HTTP/2 text lines "h2h3 [authorization: ...]",
 * ...), is replaced whole by a fixed text: see log_redact_curl_line.
 * log_full escapes the rest, so a header value cannot forge a line. */
static int on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *userdata) {
        static const char *const what[] = { [CURLINFO_TEXT] = "*", [CURLINFO_HEADER_IN] = "<",
                                            [CURLINFO_HEADER_OUT] = ">" };
        const char *p = data, *end = data + size;

        if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
                return 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ? nl : end) - p);
                const char *redacted;
                if (n && p[n - 1] == '\r')
                        n--;
                /* judged on the whole line, before any cut */
                if ((redacted = log_redact_curl_line(p, n)))
                        log_debug("curl %s %s", what[type], redacted);
                else if (n) {
                        size_t m = MIN(n, (size_t) 1000);
                        for (int k = 0; k < 3 && m < n && m > 0 && ((unsigned char) p[m] & 0xc0) == 0x80; k++)
                                m--;    /* cut between two UTF-8 characters */
                        log_debug("curl %s %.*s", what[type], (int) m, p);
                }
                p = nl ? nl + 1 : end;
        }
        return 0;
}

static long ms(uint64_t usec) { return (long) MIN(usec / USEC_PER_MSEC, (uint64_t) LONG_MAX); }

int http_start(struct http *h, const struct http_request *rq, http_done_fn done, void *userdata,
               struct http_req **ret) {
        struct http_req *r = xcalloc(1, sizeof *r);
        CURL *e;
        int k;

        r->http = h;
        h->running++;
        r->done = done;
        r->userdata = userdata;
        r->download_fd = rq->download_fd;
        r->to_file = -1;
        r->url = xstrdup(rq->url);
        r->res.content_length = -1;
        sha256_init(&r->sha);
        buf_append(&r->res.body, "", 0);
        e = r->easy = h->n_pool ? h->pool[--h->n_pool] : curl_easy_init();
        if (!e) {
                req_free(r);
                return -ENOMEM;
        }

        curl_easy_setopt(e, CURLOPT_URL, r->url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, r);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->res.error);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        /* Only http and https: a URL of another scheme must never be tried
         * with our credentials.  Checked, because a libcurl that does not
         * know the option would otherwise allow every protocol it has. */
        if (curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
                req_free(r);
                return -EPROTONOSUPPORT;
        }
        /* No redirects: following one would carry our credentials to
         * wherever the Location points. */
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        /* Packages move in large pieces: libcurl's 16 KiB receive and 64 KiB
         * send buffers cost a loop iteration (epoll, timer, recv, write,
         * SHA-256 call) per piece; small answers keep the defaults. */
        if (rq->download_fd >= 0)
                curl_easy_setopt(e, CURLOPT_BUFFERSIZE, HTTP_TRANSFER_BUFFER);
        if (rq->upload_path)
                curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, HTTP_TRANSFER_BUFFER);
        if (log_get_max_level() >= LOG_DEBUG && !rq->secret_url) {
                curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
                curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(rq->connect_timeout_usec ?: 30 * USEC_PER_SEC));
        if (rq->stall_timeout_usec) {
                curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
                curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, MAX(1L, ms(rq->stall_timeout_usec) / 1000));
        }
        /* libcurl silently sends a request again when a reused connection
         * turns out to be dead before the answer starts, POSTs included.
         * For a request that must never be sent twice (the import), that
         * retry would be a second import: a new connection excludes it. */
        if (rq->fresh_connection)
                curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        if (rq->total_timeout_usec)
                curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms(rq->total_timeout_usec));
        r->user_agent = xstrdup(rq->user_agent ?: HTTP_USER_AGENT);
        curl_easy_setopt(e, CURLOPT_USERAGENT, r->user_agent);
        if (rq->ca_file) {
                r->ca_file = xstrdup(rq->ca_file);
                curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
        }
        if (rq->insecure) {
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }

        k = add_header(r, "Accept", rq->download_fd >= 0 ? "*/*" : "application/json");
        if (k >= 0 && rq->authorization)
                k = add_header(r, "Authorization", rq->authorization);
        if (k >= 0 && rq->extra_header) {
                struct curl_slist *l = curl_slist_append(r->headers, rq->extra_header);
                k = l ? 0 : -ENOMEM;
                r->headers = l ? l : r->headers;
        }
        if (k >= 0 && rq->method == HTTP_POST && !rq->upload_path) {
                k = add_header(r, "Content-Type", "application/json");
                r->body = xstrdup(rq->json_body ?: "{}");
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(r->body));
        }
        if (k >= 0 && rq->upload_path) {
                curl_mimepart *part;
                r->upload_path = xstrdup(rq->upload_path);
                r->upload_field = xstrdup(rq->upload_field ?: "file");
                r->mime = curl_mime_init(e);
                part = r->mime ? curl_mime_addpart(r->mime) : NULL;
                if (!part || curl_mime_name(part, r->upload_field) != CURLE_OK ||
                    curl_mime_filedata(part, r->upload_path) != CURLE_OK ||
                    curl_mime_type(part, "application/octet-stream") != CURLE_OK)
                        k = -ENOMEM;
                else
                        curl_easy_setopt(e, CURLOPT_MIMEPOST, r->mime);
        }
        if (k < 0) {
                req_free(r);
                return k;
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
        if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
                req_free(r);
                return -EIO;
        }
        if (ret)
                *ret = r;
        return 0;
}

static void finish(struct http_req *r, CURLcode code) {
        struct http_result *res = &r->res;
        curl_off_t cl = -1, ra = 0;

        res->code = code;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res->status);
        if (res->status && curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK)
                /* older curl can hand back a negative value; a server could ask
                 * for days: keep it within an hour */
                res->retry_after_sec = (long) MIN(MAX(ra, (curl_off_t) 0), (curl_off_t) 3600);
        if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
                res->content_length = cl;
        if (r->download_fd >= 0) {
                if (r->wlen > 0)
                        (void) flush_download(r);       /* a failure sets write_errno */
                sha256_final_hex(&r->sha, res->sha256);
                /* curl stops reading at Content-Length and flags short bodies
                 * itself (CURLE_PARTIAL_FILE); this catches the rest. */
                if (code == CURLE_OK && res->status / 100 == 2 && cl >= 0 && (uint64_t) cl != res->bytes) {
                        res->code = CURLE_PARTIAL_FILE;
                        snprintf(res->error, sizeof res->error,
                                 "received %llu bytes, Content-Length said %lld",
                                 (unsigned long long) res->bytes, (long long) cl);
                }
        }
        if (res->code != CURLE_OK && !res->error[0])
                snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(res->code));
}

static void check_done(struct http *h) {
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(h->multi, &left))) {
                struct http_req *r = NULL;
                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &r);
                if (!r)
                        continue;
                finish(r, m->data.result);
                r->done(r, &r->res, r->userdata);
                req_free(r);
        }
}

void http_cancel(struct http_req *r) {
        if (r)
                req_free(r);
}

void http_progress(const struct http_req *r, uint64_t *ret_now, uint64_t *ret_total) {
        *ret_now = r ? (uint64_t) MAX(r->now, (curl_off_t) 0) : 0;
        *ret_total = r ? (uint64_t) MAX(r->total, (curl_off_t) 0) : 0;
}

unsigned http_running(const struct http *h) { return h->running; }

bool http_result_not_sent(const struct http_result *res) {
        return res->code == CURLE_COULDNT_CONNECT || res->code == CURLE_COULDNT_RESOLVE_HOST ||
               res->code == CURLE_COULDNT_RESOLVE_PROXY;
}
