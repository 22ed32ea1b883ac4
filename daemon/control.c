/* control.c — see control.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

#define MAX_REQUEST 512

/* At most this many control connections at once.  dev2prodctl opens one
 * per command and closes it after one line, so real use needs a handful;
 * 64 leaves room for scripts running dev2prodctl in parallel while
 * bounding what the socket may cost: one descriptor each (the descriptors
 * that curl's connections, the package files and the job files need come
 * from the same RLIMIT_NOFILE, 1024 by default) and ~1 KiB of memory.  At
 * the cap the listening socket is switched off until a connection closes:
 * further clients wait in the kernel's backlog (listen(), below), which is
 * the right back-pressure, instead of being accepted and dropped. */
#define MAX_CONNECTIONS 64
#define LISTEN_BACKLOG 16
/* A client that has not sent its whole line by then is dropped, so idle
 * connections cannot hold the slots forever.  dev2prodctl sends its line
 * right after connect(). */
#define CONN_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* After accept4 fails for lack of descriptors or memory (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM) the connection stays queued and the socket stays
 * readable: polling it again at once would spin.  The socket rests this
 * long instead, then is tried again. */
#define ACCEPT_BACKOFF_USEC (1 * USEC_PER_SEC)

struct conn;

struct control {
        sd_event_source *listener;
        sd_event_source *backoff;       /* re-enables the listener after a failed accept */
        char *path;
        const struct control_handler *handler;
        void *userdata;
        struct conn *conns;             /* open connections (a list, freed at close) */
        unsigned n_conns;
        bool backing_off;               /* accept4 failed: resting until the timer fires */
        bool shortage_logged;           /* the current shortage was logged (once per episode) */
        bool closing;                   /* control_close(): the loop may be finished */
};

struct conn {
        struct control *ctl;
        struct conn *prev, *next;
        sd_event_source *io, *timeout;
        char buf[MAX_REQUEST + 1];
        size_t len;
};

/* The listener takes connections unless the cap is reached or it rests
 * after a failed accept. */
static void update_listener(struct control *ctl) {
        bool on = ctl->n_conns < MAX_CONNECTIONS && !ctl->backing_off;
        int r = sd_event_source_set_enabled(ctl->listener, on ? SD_EVENT_ON : SD_EVENT_OFF);
        if (r < 0)
                log_warning_errno(r, "control socket %s: cannot switch its listener %s", ctl->path,
                                  on ? "on" : "off");
}

static void conn_free(struct conn *c) {
        struct control *ctl = c->ctl;

        sd_event_source_disable_unref(c->io);      /* closes the fd (io_fd_own) */
        sd_event_source_disable_unref(c->timeout);
        if (c->prev)
                c->prev->next = c->next;
        else
                ctl->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        ctl->n_conns--;
        free(c);
        if (ctl->n_conns == MAX_CONNECTIONS - 1 && !ctl->closing)
                update_listener(ctl);   /* a slot is free again */
}

static void answer(struct conn *c, const char *line) {
        int fd = sd_event_source_get_io_fd(c->io);
        /* the answer is one short line and the socket is fresh: it fits in
         * the send buffer, so this never blocks (MSG_DONTWAIT to be sure) */
        (void) send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
        (void) send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The peer of connection fd, for the record of who decided.  Who may
 * connect at all is the socket's mode (see on_accept), not this. */
static int peer_of(int fd, struct control_peer *ret, char *name, size_t n) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        struct passwd pw, *res = NULL;
        char buf[1024];

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name && res->pw_name[0])
                snprintf(name, n, "%s", res->pw_name);
        else
                snprintf(name, n, "%u", (unsigned) cred.uid);
        *ret = (struct control_peer) { .uid = (unsigned) cred.uid, .user = name };
        return 0;
}

/* The requests an operator answers for: approve, reject, resolve. */
static char *handle_decision(struct conn *c, const char *verb, char *arg) {
        const struct control_handler *h = c->ctl->handler;
        void *u = c->ctl->userdata;
        _cleanup_free_ char *id = NULL, *err = NULL;
        struct control_peer who;
        char name[64];
        char *rest = strchr(arg, ' ');
        int r;

        if (rest)
                *rest++ = 0;
        r = peer_of(sd_event_source_get_io_fd(c->io), &who, name, sizeof name);
        if (r < 0)
                return xasprintf("error cannot tell who is asking (SO_PEERCRED: %s)", strerror(-r));
        if (streq(verb, "approve") && !rest)
                r = h->approve(u, arg, &who, &err);
        else if (streq(verb, "reject"))
                r = h->reject(u, arg, rest && rest[0] ? rest : NULL, &who, &err);
        else if (streq(verb, "resolve") && rest && (streq(rest, "imported") || streq(rest, "not-imported")))
                r = h->resolve(u, arg, streq(rest, "imported"), &who, &id, &err);
        else
                return xasprintf("error usage: approve JOB, reject JOB [REASON], resolve JOB imported|not-imported");
        if (r < 0)
                return xasprintf("error %s", strempty(err));
        return xasprintf("ok %s", id ? id : arg);
}

static void handle(struct conn *c, char *req) {
        const struct control_handler *h = c->ctl->handler;
        void *u = c->ctl->userdata;
        _cleanup_free_ char *id = NULL, *err = NULL, *line = NULL;
        char *arg = strchr(req, ' ');

        if (arg)
                *arg++ = 0;
        if (streq(req, "ping"))
                line = xasprintf("ok %d", (int) getpid());
        else if (streq(req, "run") && arg)
                line = h->run(u, arg, &id, &err) < 0 ? xasprintf("error %s", err) : xasprintf("ok %s", id);
        else if (streq(req, "job") && arg)
                line = xstrdup(h->has_job(u, arg) ? "ok active" : "ok inactive");
        else if (streq(req, "cancel") && arg)
                line = h->cancel(u, arg, &err) < 0 ? xasprintf("error %s", err) : xasprintf("ok %s", arg);
        else if ((streq(req, "approve") || streq(req, "reject") || streq(req, "resolve")) && arg && h->approve)
                line = handle_decision(c, req, arg);
        else
                line = xstrdup("error unknown request (expected: run NAME, cancel JOB, approve JOB, reject JOB, "
                               "resolve JOB, ping)");
        answer(c, line);
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct conn *c = userdata;
        ssize_t n = recv(fd, c->buf + c->len, MAX_REQUEST - c->len, MSG_DONTWAIT);
        char *nl;

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                conn_free(c);
                return 0;
        }
        c->len += (size_t) n;
        c->buf[c->len] = 0;
        nl = strchr(c->buf, '\n');
        if (!nl && c->len < MAX_REQUEST)
                return 0;
        if (nl)
                *nl = 0;
        handle(c, c->buf);
        conn_free(c);
        return 0;
}

static int on_conn_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        conn_free(userdata);   /* a client that never sends its line */
        return 0;
}

static int on_backoff(sd_event_source *s, uint64_t usec, void *userdata) {
        struct control *ctl = userdata;
        ctl->backing_off = false;
        update_listener(ctl);
        return 0;
}

/* accept4 failed for lack of descriptors or memory: rest, and say so once
 * per shortage (a shortage ends at the next accepted connection). */
static void accept_shortage(struct control *ctl, int err) {
        int r;

        if (!ctl->shortage_logged) {
                ctl->shortage_logged = true;
                log_warning("control socket %s: cannot accept a connection: %s; %s; trying again every "
                            "second, without a word until it works", ctl->path, strerror(err),
                            err == EMFILE ? "the daemon has used up its descriptors (raise LimitNOFILE=)" :
                            err == ENFILE ? "the system has used up its descriptors" :
                            "the system is short of memory");
        }
        r = sd_event_source_set_time_relative(ctl->backoff, ACCEPT_BACKOFF_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(ctl->backoff, SD_EVENT_ONESHOT);
        if (r < 0) {
                /* without the timer the listener would never come back:
                 * keep it on (at worst this spins, as before) */
                log_warning_errno(r, "control socket %s: cannot arm the accept back-off timer", ctl->path);
                return;
        }
        ctl->backing_off = true;
        update_listener(ctl);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct control *ctl = userdata;
        sd_event *e = sd_event_source_get_event(s);
        struct conn *c;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), r;

        if (cfd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                        accept_shortage(ctl, errno);
                /* else ECONNABORTED (the client gave up), EAGAIN (someone
                 * else took it), EINTR, a protocol error: nothing to do */
                return 0;
        }
        ctl->shortage_logged = false;
        /* Who may connect is decided by the socket's mode (0660, owner and
         * the service's group) and its folder's; a peer check here would
         * see only the primary group and refuse members of a supplementary
         * one, so the file system's answer is the only one. */
        c = xcalloc(1, sizeof *c);
        c->ctl = ctl;
        r = sd_event_add_io(e, &c->io, cfd, EPOLLIN, on_conn_io, c);
        if (r < 0) {
                log_warning_errno(r, "control socket %s: cannot watch a new connection; dropped", ctl->path);
                close(cfd);
                free(c);
                return 0;
        }
        r = sd_event_source_set_io_fd_own(c->io, true);
        if (r < 0) {
                sd_event_source_disable_unref(c->io);
                close(cfd);
                free(c);
                return 0;
        }
        r = sd_event_add_time_relative(e, &c->timeout, CLOCK_MONOTONIC, CONN_TIMEOUT_USEC, 0, on_conn_timeout, c);
        if (r < 0) {
                /* without its timeout an idle client could keep the slot */
                log_warning_errno(r, "control socket %s: cannot time a new connection; dropped", ctl->path);
                sd_event_source_disable_unref(c->io);
                free(c);
                return 0;
        }
        c->next = ctl->conns;
        if (c->next)
                c->next->prev = c;
        ctl->conns = c;
        if (++ctl->n_conns >= MAX_CONNECTIONS)
                update_listener(ctl);   /* full: the rest wait in the backlog */
        return 0;
}

int control_open(sd_event *e, const char *path, const struct control_handler *h, void *userdata,
                 struct control **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct control *ctl;
        _cleanup_free_ char *dir = NULL;
        char *slash;
        int fd, r;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        dir = xstrdup(path);
        if ((slash = strrchr(dir, '/')) && slash != dir) {
                *slash = 0;
                (void) mkdir_p(dir, 0750);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);    /* a stale socket of a killed daemon; we hold the state lock */
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(path, 0660) < 0 ||
            listen(fd, LISTEN_BACKLOG) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        ctl = xcalloc(1, sizeof *ctl);
        ctl->path = xstrdup(path);
        ctl->handler = h;
        ctl->userdata = userdata;
        r = sd_event_add_io(e, &ctl->listener, fd, EPOLLIN, on_accept, ctl);
        if (r < 0) {
                close(fd);
                goto fail;
        }
        r = sd_event_source_set_io_fd_own(ctl->listener, true);
        if (r < 0) {
                ctl->listener = sd_event_source_disable_unref(ctl->listener);
                close(fd);
                goto fail;
        }
        r = sd_event_add_time_relative(e, &ctl->backoff, CLOCK_MONOTONIC, ACCEPT_BACKOFF_USEC, 0, on_backoff, ctl);
        if (r >= 0)
                r = sd_event_source_set_enabled(ctl->backoff, SD_EVENT_OFF);
        if (r < 0)
                goto fail;
        *ret = ctl;
        return 0;
fail:
        sd_event_source_disable_unref(ctl->backoff);
        sd_event_source_disable_unref(ctl->listener);   /* closes fd once it owns it */
        (void) unlink(path);
        free(ctl->path);
        free(ctl);
        return r;
}

void control_close(struct control *ctl) {
        if (!ctl)
                return;
        ctl->closing = true;
        while (ctl->conns)
                conn_free(ctl->conns);
        sd_event_source_disable_unref(ctl->backoff);
        sd_event_source_disable_unref(ctl->listener);
        (void) unlink(ctl->path);
        free(ctl->path);
        free(ctl);
}
