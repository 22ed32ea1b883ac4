/* control.c — see control.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "log.h"

#define MAX_REQUEST 512

struct control {
        sd_event_source *listener;
        char *path;
        struct daemon *daemon;
};

struct conn {
        struct control *ctl;
        sd_event_source *io, *timeout;
        char buf[MAX_REQUEST + 1];
        size_t len;
};

static void conn_free(struct conn *c) {
        sd_event_source_disable_unref(c->io);      /* closes the fd (io_fd_own) */
        sd_event_source_disable_unref(c->timeout);
        free(c);
}

static void answer(struct conn *c, const char *line) {
        int fd = sd_event_source_get_io_fd(c->io);
        /* the answer is one short line and the socket is fresh: it fits in
         * the send buffer, so this never blocks (MSG_DONTWAIT to be sure) */
        (void) send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
        (void) send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void handle(struct conn *c, char *req) {
        struct daemon *d = c->ctl->daemon;
        _cleanup_free_ char *id = NULL, *err = NULL, *line = NULL;
        char *arg = strchr(req, ' ');

        if (arg)
                *arg++ = 0;
        if (streq(req, "ping"))
                line = xasprintf("ok %d", (int) getpid());
        else if (streq(req, "run") && arg)
                line = daemon_start_manual(d, arg, &id, &err) < 0 ? xasprintf("error %s", err) : xasprintf("ok %s", id);
        else if (streq(req, "job") && arg)
                line = xstrdup(daemon_has_job(d, arg) ? "ok active" : "ok inactive");
        else if (streq(req, "cancel") && arg)
                line = daemon_cancel(d, arg, &err) < 0 ? xasprintf("error %s", err) : xasprintf("ok %s", arg);
        else
                line = xstrdup("error unknown request (expected: run NAME, cancel JOB, ping)");
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

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct control *ctl = userdata;
        struct conn *c;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0)
                return 0;
        /* Who may connect is decided by the socket's mode (0660, owner and
         * the service's group) and its folder's; a peer check here would
         * see only the primary group and refuse members of a supplementary
         * one, so the file system's answer is the only one. */
        c = xcalloc(1, sizeof *c);
        c->ctl = ctl;
        if (sd_event_add_io(sd_event_source_get_event(s), &c->io, cfd, EPOLLIN, on_conn_io, c) < 0) {
                close(cfd);
                free(c);
                return 0;
        }
        sd_event_source_set_io_fd_own(c->io, true);
        sd_event_add_time_relative(sd_event_source_get_event(s), &c->timeout, CLOCK_MONOTONIC,
                                   5 * USEC_PER_SEC, 0, on_conn_timeout, c);
        return 0;
}

int control_open(sd_event *e, const char *path, struct daemon *d, struct control **ret) {
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
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(path, 0660) < 0 || listen(fd, 16) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        ctl = xcalloc(1, sizeof *ctl);
        ctl->path = xstrdup(path);
        ctl->daemon = d;
        r = sd_event_add_io(e, &ctl->listener, fd, EPOLLIN, on_accept, ctl);
        if (r < 0) {
                close(fd);
                free(ctl->path);
                free(ctl);
                return r;
        }
        sd_event_source_set_io_fd_own(ctl->listener, true);
        *ret = ctl;
        return 0;
}

void control_close(struct control *ctl) {
        if (!ctl)
                return;
        sd_event_source_disable_unref(ctl->listener);
        (void) unlink(ctl->path);
        free(ctl->path);
        free(ctl);
}

int control_request(const char *path, const char *request, char **ret_answer) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct pollfd pfd;
        char buf[1024];
        size_t len = 0;
        int fd, r;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            send(fd, request, strlen(request), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        pfd = (struct pollfd) { .fd = fd, .events = POLLIN };
        while (len < sizeof buf - 1) {
                ssize_t n;
                if (poll(&pfd, 1, 10000) <= 0) {
                        close(fd);
                        return -ETIMEDOUT;
                }
                n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        buf[len] = 0;
        buf[strcspn(buf, "\n")] = 0;
        if (!len)
                return -ECONNRESET;
        *ret_answer = xstrdup(buf);
        return 0;
}
