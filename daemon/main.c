/* main.c — dev2prodd's command line.  See man/dev2prodd.8. */
#include <errno.h>
#include <getopt.h>
#include <sys/prctl.h>

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "oneshot.h"


static void usage(FILE *f) {
        fprintf(f,
                "Usage: dev2prodd [--config FILE] [--once NAME | --check-config]\n"
                "Promotes configuration packages between Dev2Prod tenants on a schedule.\n"
                "Without --once or --check-config it runs as the service, in the foreground.\n\n"
                "  -c, --config FILE   configuration (default " CONFIG_DEFAULT_PATH ")\n"
                "      --once NAME     run promotion NAME now in the foreground and exit\n"
                "                      (0 succeeded, 1 failed, 2 configuration error,\n"
                "                      3 another dev2prodd uses the state directory)\n"
                "  -t, --check-config  validate the configuration and exit (0 ok, 2 errors)\n"
                "  -h, --help          this text\n"
                "      --version       version\n");
}

int main(int argc, char **argv) {
        enum { OPT_ONCE = 0x100, OPT_VERSION };
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", required_argument, NULL, OPT_ONCE },
                { "check-config", no_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        const char *config_path = CONFIG_DEFAULT_PATH, *once = NULL;
        bool check = false;
        struct config *c = NULL;
        struct errlist errs = {};
        int o, r;

        /* No core of ours may hold an API key or password. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        log_open("dev2prodd");

        while ((o = getopt_long(argc, argv, "c:th", opts, NULL)) >= 0)
                switch (o) {
                case 'c': config_path = optarg; break;
                case OPT_ONCE: once = optarg; break;
                case 't': check = true; break;
                case 'h': usage(stdout); return 0;
                case OPT_VERSION: printf("dev2prodd %s\n", DEV2PROD_VERSION); return 0;
                default: usage(stderr); return EXIT_CONFIG;
                }
        if (optind < argc) {
                fprintf(stderr, "dev2prodd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return EXIT_CONFIG;
        }

        r = config_load(config_path, &c, &errs);
        if (r < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        log_error("%s", errs.msgs[i]);
                if (errs.n == 0)
                        log_error_errno(r, "cannot load %s", config_path);
                log_error("configuration not loaded: %zu error(s) in %s", MAX(errs.n, (size_t) 1), config_path);
                errlist_free(&errs);
                return EXIT_CONFIG;
        }
        for (size_t i = 0; i < c->n_tenants; i++)
                if (c->tenants[i].insecure_skip_verify)
                        log_warning("tenant %s: insecure_skip_verify is on: TLS certificates of %s are NOT "
                                    "checked, anyone on the path can read the keys and packages",
                                    c->tenants[i].name, c->tenants[i].url);

        if (check) {
                printf("%s: ok (%zu tenants, %zu promotions)\n", config_path, c->n_tenants, c->n_promotions);
                config_free(c);
                return 0;
        }
        if (!once)
                return daemon_run(c);   /* takes c */
        r = oneshot_run(c, once);
        config_free(c);
        return r;
}
