/* mock-dev2prod — a mock of the vendor's Dev2Prod REST API for the tests.
 *
 * Listens on 127.0.0.1 only, speaks the seven steps of
 * shared/api/dev2prod-api.md plus the session login, injects faults on
 * request, replaces answers on request (POST /_mock/answer, see mock.h),
 * and appends one line per event to a record file that the tests read.
 * This file: the command line, starting and stopping the server. */
#include "mock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "mock-dev2prod"

static const char usage[] =
        "usage: " PROG " --record FILE [--port N] [--port-file FILE]\n"
        "              --tenant ID:AUTH [--tenant ...]\n"
        "              [--package-size BYTES] [--polls N] [--throttle BYTES_PER_SEC]\n"
        "              [--fault STEP:KIND[:COUNT]]... [--tls-cert PEM --tls-key PEM]\n"
        "AUTH: key=SECRET | bearer=TOKEN | session=USER:PASSWORD\n"
        "STEP: export export_status download upload dryrun dryrun_status import import_status\n"
        "      login any\n"
        "Control endpoints (POST, on the same port):\n"
        "  /_mock/fault                body STEP:KIND[:COUNT]: adds a fault\n"
        "  /_mock/reset-faults         drops every fault\n"
        "  /_mock/answer?step=STEP[&code=HTTP_STATUS][&count=N]\n"
        "                              the body (raw bytes, up to 64 MiB) replaces the\n"
        "                              next N answers of STEP (default 1, 0 = forever;\n"
        "                              code default 200); STEP is one of export,\n"
        "                              export_status, upload, dryrun, dryrun_status,\n"
        "                              import, import_status. The work still happens\n"
        "                              and is recorded; *_status steps: only the\n"
        "                              terminal poll. @ID@ and @FILEID@ in the body\n"
        "                              become the operation's id and its file id\n"
        "  /_mock/reset-answers        drops every answer override\n";

struct options {
        const char *record;
        const char *port_file;
        const char *tls_cert;
        const char *tls_key;
        uint16_t port;
};

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
        char *end;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

/* Exits 2 on any mistake: a test with a wrong mock line should stop at once. */
static void parse_args(int argc, char **argv, struct options *o)
{
        static const struct option longopts[] = {
                {"record", required_argument, NULL, 'r'},
                {"port", required_argument, NULL, 'p'},
                {"port-file", required_argument, NULL, 'P'},
                {"tenant", required_argument, NULL, 't'},
                {"package-size", required_argument, NULL, 's'},
                {"polls", required_argument, NULL, 'n'},
                {"throttle", required_argument, NULL, 'T'},
                {"fault", required_argument, NULL, 'f'},
                {"tls-cert", required_argument, NULL, 'C'},
                {"tls-key", required_argument, NULL, 'K'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        char err[256];
        uint64_t v;
        int c, idx = 0;
        while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
                switch (c) {
                case 'r': o->record = optarg; break;
                case 'P': o->port_file = optarg; break;
                case 'C': o->tls_cert = optarg; break;
                case 'K': o->tls_key = optarg; break;
                case 'p':
                        if (parse_u64(optarg, 65535, &v) < 0)
                                goto bad_number;
                        o->port = (uint16_t)v;
                        break;
                case 's':
                        if (parse_u64(optarg, UINT64_MAX / 2, &M.package_size) < 0)
                                goto bad_number;
                        break;
                case 'n':
                        if (parse_u64(optarg, 1000000, &v) < 0)
                                goto bad_number;
                        M.polls = (int)v;
                        break;
                case 'T':
                        if (parse_u64(optarg, UINT64_MAX / 1000, &M.throttle) < 0)
                                goto bad_number;
                        break;
                case 't':
                        if (tenant_add(optarg, err, sizeof err) < 0) {
                                /* Never echo the argument: it holds a secret. */
                                fprintf(stderr, PROG ": bad --tenant: %s\n", err);
                                exit(2);
                        }
                        break;
                case 'f':
                        if (fault_add(optarg, err, sizeof err) < 0) {
                                fprintf(stderr, PROG ": bad --fault: %s\n", err);
                                exit(2);
                        }
                        break;
                case 'h':
                        fputs(usage, stdout);
                        exit(0);
                default:
                        fputs(usage, stderr);
                        exit(2);
                }
                continue;
bad_number:
                fprintf(stderr, PROG ": --%s wants a non-negative number in range, got '%s'\n",
                        longopts[idx].name, optarg);
                exit(2);
        }
        if (optind < argc || !o->record || M.ntenants == 0) {
                fprintf(stderr, PROG ": %s\n%s", optind < argc ? "unexpected argument" : "--record and --tenant are required", usage);
                exit(2);
        }
        if (!o->tls_cert != !o->tls_key) {
                fprintf(stderr, PROG ": --tls-cert and --tls-key go together\n");
                exit(2);
        }
}

/* A whole (small) file as a NUL-terminated string, for the PEM options. */
static char *read_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t len = 0, cap = 0, n;
        char chunk[4096];
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
                if (len + n + 1 > cap) {
                        cap = (len + n + 1) * 2;
                        char *p = realloc(buf, cap);
                        if (!p) {
                                free(buf);
                                fclose(f);
                                errno = ENOMEM;
                                return NULL;
                        }
                        buf = p;
                }
                memcpy(buf + len, chunk, n);
                len += n;
        }
        int failed = ferror(f);
        fclose(f);
        if (failed || !buf) {
                free(buf);
                errno = failed ? EIO : ENODATA;
                return NULL;
        }
        buf[len] = '\0';
        return buf;
}

/* Written to a temp file then renamed, so a test polling for the file
 * never reads a half-written port. */
static int write_port_file(const char *path, unsigned port)
{
        char tmp[4096];
        if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        FILE *f = fopen(tmp, "w");
        if (!f)
                return -errno;
        int bad = fprintf(f, "%u\n", port) < 0;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, path) != 0) {
                int e = errno ? errno : EIO;
                unlink(tmp);
                return -e;
        }
        return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        fputs(PROG ": libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
}

static unsigned bound_port(struct MHD_Daemon *d)
{
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        if (info && info->port)
                return info->port;
        /* Fallback: ask the listening socket itself. */
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        if (!info || getsockname(info->listen_fd, (struct sockaddr *)&sa, &len) != 0)
                return 0;
        return ntohs(sa.sin_port);
}

static struct MHD_Daemon *start(const struct options *o, char *cert, char *key)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(o->port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        /* A thread per connection: handlers sleep (delay, hang, throttle,
         * stall) without holding up anyone else. poll(), not select(), so
         * descriptors past FD_SETSIZE still work under many connections. */
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
        struct MHD_OptionItem tls[] = {
                {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
                {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
                {MHD_OPTION_END, 0, NULL},
        };
        if (cert)
                flags |= MHD_USE_TLS;
        else
                tls[0].option = MHD_OPTION_END;
        /* The logger goes first, or MHD logs the options before it its own way. */
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)512,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
                                MHD_OPTION_ARRAY, tls,
                                MHD_OPTION_END);
}

int main(int argc, char **argv)
{
        struct options o = {0};
        parse_args(argc, argv, &o);

        char *cert = NULL, *key = NULL;
        if (o.tls_cert) {
                if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
                        fprintf(stderr, PROG ": this libmicrohttpd was built without TLS; cannot serve HTTPS\n");
                        return 2;
                }
                if (!(cert = read_file(o.tls_cert)) || !(key = read_file(o.tls_key))) {
                        fprintf(stderr, PROG ": reading %s: %s\n", cert ? o.tls_key : o.tls_cert, strerror(errno));
                        return 2;
                }
        }
        int rc = state_init();
        if (rc < 0) {
                fprintf(stderr, PROG ": %s\n", strerror(-rc));
                return 1;
        }
        M.record_fd = open(o.record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (M.record_fd < 0) {
                fprintf(stderr, PROG ": opening record %s: %s\n", o.record, strerror(errno));
                return 1;
        }

        /* Block the stop signals before MHD starts its threads (they inherit
         * the mask), so only sigwait below ever sees them. */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
                fprintf(stderr, PROG ": cannot set up signals\n");
                return 1;
        }

        struct MHD_Daemon *d = start(&o, cert, key);
        if (!d) {
                fprintf(stderr, PROG ": cannot listen on 127.0.0.1:%u\n", (unsigned)o.port);
                return 1;
        }
        unsigned port = bound_port(d);
        if (port == 0) {
                fprintf(stderr, PROG ": cannot tell which port it listens on\n");
                MHD_stop_daemon(d);
                return 1;
        }
        if (o.port_file && (rc = write_port_file(o.port_file, port)) < 0) {
                fprintf(stderr, PROG ": writing %s: %s\n", o.port_file, strerror(-rc));
                MHD_stop_daemon(d);
                return 1;
        }
        printf("listening on 127.0.0.1:%u\n", port);
        fflush(stdout);

        int sig;
        while (sigwait(&stop, &sig) != 0)
                ;
        /* Wake every sleeping handler (hang, stall, throttle) so that
         * MHD_stop_daemon's join of the connection threads is quick. */
        if (write(M.stop_pipe[1], "x", 1) != 1)
                fprintf(stderr, PROG ": waking sleepers: %s\n", strerror(errno));
        MHD_stop_daemon(d);
        close(M.record_fd);
        free(cert);
        free(key);
        return 0;
}
