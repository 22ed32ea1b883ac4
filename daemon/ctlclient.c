/* ctlclient.c — see ctlclient.h. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlclient.h"
#include "util.h"

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
