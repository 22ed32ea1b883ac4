/* notify-stamp SOCKET — a systemd notification socket for the benchmarks:
 * like tests/tools/notify-listen.c, but each datagram is printed on one
 * line prefixed with the CLOCK_REALTIME time of its arrival in
 * microseconds ("1767225600123456 READY=1"; assignments of one datagram
 * are joined with spaces), so a benchmark can time READY=1 and the
 * interval between WATCHDOG=1 pings.  Runs until killed. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[4096];
        int fd;

        if (argc != 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: notify-stamp SOCKET\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        unlink(argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                perror("notify-stamp");
                return 1;
        }
        for (;;) {
                struct timespec ts;
                ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
                if (n < 0)
                        return 1;
                clock_gettime(CLOCK_REALTIME, &ts);
                buf[n] = 0;
                for (char *p = buf; *p; p++)
                        if (*p == '\n')
                                *p = ' ';
                printf("%lld %s\n", (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000, buf);
                fflush(stdout);
        }
}
