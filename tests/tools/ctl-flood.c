/* ctl-flood SOCKET N SECONDS — stands in for N clients of the control socket
 * that connect and never send a line (tests/integration/test_control_limits.sh).
 *
 * Opens N connections to the UNIX stream socket SOCKET without blocking
 * (a connection the kernel refuses for 100 ms because the listener's
 * backlog is full counts as "refused"), prints
 *     connected=K refused=R
 * then waits until the server has closed every connected one, or SECONDS
 * have passed, and prints
 *     closed=M of K after S.s
 * It sends nothing.  Exit status 0, or 1 on a setup error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct pollfd *pfd;
        int n, k = 0, refused = 0, closed = 0;
        double secs, t0;

        if (argc != 4 || strlen(argv[1]) >= sizeof sa.sun_path || (n = atoi(argv[2])) <= 0 ||
            (secs = atof(argv[3])) < 0) {
                fprintf(stderr, "usage: ctl-flood SOCKET N SECONDS\n");
                return 1;
        }
        strcpy(sa.sun_path, argv[1]);
        pfd = calloc((size_t) n, sizeof *pfd);
        if (!pfd)
                return 1;
        for (int i = 0; i < n; i++) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        perror("ctl-flood: socket");
                        return 1;
                }
                /* the backlog may be full only until the server accepts:
                 * a connection refused for 100 ms in a row stays refused */
                int r, tries = 0;
                while ((r = connect(fd, (struct sockaddr *) &sa, sizeof sa)) < 0 && errno == EAGAIN && ++tries < 20)
                        usleep(5000);
                if (r < 0) {
                        if (errno != EAGAIN) {
                                perror("ctl-flood: connect");
                                return 1;
                        }
                        close(fd);
                        refused++;
                        continue;
                }
                pfd[k++] = (struct pollfd) { .fd = fd, .events = POLLIN };
        }
        printf("connected=%d refused=%d\n", k, refused);
        fflush(stdout);
        t0 = now();
        while (closed < k && now() - t0 < secs) {
                int left = (int) ((secs - (now() - t0)) * 1000) + 1;
                if (poll(pfd, (nfds_t) k, left) < 0 && errno != EINTR)
                        return 1;
                for (int i = 0; i < k; i++) {
                        char c;
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        /* EOF, a reset or an (unexpected) answer: the server let go */
                        if (recv(pfd[i].fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN)
                                continue;
                        close(pfd[i].fd);
                        pfd[i].fd = -1;
                        closed++;
                }
        }
        printf("closed=%d of %d after %.1fs\n", closed, k, now() - t0);
        return 0;
}
