/* fuzz_config — config_load() on any text.
 *
 * The input goes into a memfd (a temp file when memfd_create is missing),
 * loaded through its /proc/self/fd path, so each run costs no disk write.
 * LLVMFuzzerInitialize makes a private $CREDENTIALS_DIRECTORY holding
 * valid secret files ("key", "dev-key", "prod-key", "password": mode 0600,
 * ours), so inputs that name them get through the whole loader and reach
 * assemble() and config_free(); other secret files simply fail.  Each input
 * is loaded twice: as the daemon does, and with CONFIG_NO_SECRETS as
 * dev2prodctl does.  Any crash, leak or sanitizer report is a finding; so
 * is a failure without an error message, success with one, or a message
 * that shows a secret's content. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); abort(); } } while (0)

static int fd = -1;
static char secret[25];         /* random hex, the content of every secret file */
static char path[64];
static char cred_dir[] = "/tmp/d2p-fuzz-cred.XXXXXX";

static void cleanup(void) {
        static const char *const names[] = { "key", "dev-key", "prod-key", "password" };
        char p[sizeof cred_dir + 32];
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                snprintf(p, sizeof p, "%s/%s", cred_dir, names[i]);
                (void) unlink(p);
        }
        (void) rmdir(cred_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        static const char *const names[] = { "key", "dev-key", "prod-key", "password" };

        if (!mkdtemp(cred_dir))
                abort();
        {
                unsigned char rnd[12];
                int u = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
                if (u < 0 || read(u, rnd, sizeof rnd) != (ssize_t) sizeof rnd)
                        abort();
                close(u);
                for (size_t i = 0; i < sizeof rnd; i++)
                        snprintf(secret + 2 * i, 3, "%02x", rnd[i]);
        }
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char p[sizeof cred_dir + 32];
                snprintf(p, sizeof p, "%s/%s", cred_dir, names[i]);
                int f = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (f < 0 || dprintf(f, "%s\n", secret) != (int) strlen(secret) + 1)
                        abort();
                close(f);
        }
        atexit(cleanup);
        setenv("CREDENTIALS_DIRECTORY", cred_dir, 1);
        /* the defaults a config without these keys falls back to */
        setenv("STATE_DIRECTORY", "/var/lib/dev2prodd-fuzz", 1);
        unsetenv("RUNTIME_DIRECTORY");

        fd = memfd_create("fuzz-config.yaml", MFD_CLOEXEC);
        if (fd >= 0)
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        else {
                snprintf(path, sizeof path, "/tmp/d2p-fuzz-config.XXXXXX");
                fd = mkstemp(path);
                if (fd < 0)
                        abort();
        }
        return 0;
}

/* A plain loop, not strstr/memmem: libFuzzer hooks those and would learn
 * the secret from them. */
static bool contains(const char *hay, size_t n, const char *needle) {
        size_t k = strlen(needle);
        for (size_t i = 0; i + k <= n; i++) {
                size_t j = 0;
                while (j < k && hay[i + j] == needle[j])
                        j++;
                if (j == k)
                        return true;
        }
        return false;
}

static void load(const uint8_t *data, size_t size, unsigned flags) {
        struct config *c = NULL;
        struct errlist errs = {};
        int r = config_load_flags(path, flags, &c, &errs);

        if (r >= 0) {
                CHECK(c && errs.n == 0);
                CHECK(c->n_promotions == 0 || c->promotions[0].cron);
                for (size_t i = 0; i < c->n_promotions; i++) {
                        (void) config_find_promotion(c, c->promotions[i].name);
                        (void) config_find_tenant(c, c->promotions[i].from->name);
                }
        } else {
                CHECK(!c);
                /* -EINVAL always says why; -EFBIG etc. come from reading */
                CHECK(r != -EINVAL || errs.n > 0);
                for (size_t i = 0; i < errs.n; i++) {
                        for (const char *p = errs.msgs[i]; *p; p++)
                                CHECK((unsigned char) *p >= 0x20 && *p != 0x7f);
                        /* a secret never appears in a message (unless the
                         * input itself holds that text) */
                        CHECK(!contains(errs.msgs[i], strlen(errs.msgs[i]), secret) ||
                              contains((const char *) data, size, secret));
                }
        }
        config_free(c);
        errlist_free(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
                abort();
        load(data, size, 0);
        load(data, size, CONFIG_NO_SECRETS);
        return 0;
}
