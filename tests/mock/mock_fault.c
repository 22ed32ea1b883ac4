/* mock_fault.c — injected faults: STEP:KIND[:COUNT].
 *
 * Faults are kept in the order given; a request gets the first one that
 * fits it (step, kind and situation), and that one loses a count. A fault
 * whose kind cannot happen on a step is refused when given, so a typo in
 * a test fails loudly instead of never firing. */
#include "mock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fault_spec {
        enum step step;
        struct fault f;
        long left;              /* requests still to fault; forever if < 0 */
};

static struct fault_spec *faults;       /* under M.lock */
static size_t nfaults, cap_faults;

static const char *const step_names[] = {
        [STEP_EXPORT] = "export",
        [STEP_EXPORT_STATUS] = "export_status",
        [STEP_DOWNLOAD] = "download",
        [STEP_UPLOAD] = "upload",
        [STEP_DRYRUN] = "dryrun",
        [STEP_DRYRUN_STATUS] = "dryrun_status",
        [STEP_IMPORT] = "import",
        [STEP_IMPORT_STATUS] = "import_status",
        [STEP_LOGIN] = "login",
        [STEP_ANY] = "any",
};

static const struct {
        const char *name;
        enum fault_kind kind;
} kind_names[] = {
        {"drop", FK_DROP},
        {"drop-after", FK_DROP_AFTER},
        {"garbage", FK_GARBAGE},
        {"noid", FK_NOID},
        {"id-not-string", FK_ID_NOT_STRING},
        {"hang", FK_HANG},
        {"truncate", FK_TRUNCATE},
        {"long", FK_LONG},
        {"stall", FK_STALL},
        {"failed", FK_FAILED},
        {"nofileid", FK_NOFILEID},
        {"errors", FK_ERRORS},
        {"warnings", FK_WARNINGS},
        {"unknown-status", FK_UNKNOWN_STATUS},
        {"bigstatus", FK_BIGSTATUS},
        {"expire", FK_EXPIRE},
};

static int parse_step(const char *s, size_t len, enum step *out)
{
        for (int i = 0; i <= STEP_ANY; i++) {
                if (strlen(step_names[i]) == len && strncmp(step_names[i], s, len) == 0) {
                        *out = (enum step)i;
                        return 0;
                }
        }
        return -EINVAL;
}

int step_parse(const char *s, enum step *out)
{
        return parse_step(s, strlen(s), out);
}

const char *step_name(enum step s)
{
        return s >= 0 && s <= STEP_ANY ? step_names[s] : "-";
}

/* A decimal number in [min, max] and nothing else. */
static int parse_long(const char *s, long min, long max, long *out)
{
        char *end;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

static int parse_kind(const char *s, struct fault *f)
{
        snprintf(f->name, sizeof f->name, "%s", s);
        if (strlen(s) >= sizeof f->name)
                return -EINVAL;
        if (parse_long(s, 400, 599, &f->param) == 0) {
                f->kind = FK_CODE;
                return 0;
        }
        if (strncmp(s, "retry-after-", 12) == 0) {
                f->kind = FK_RETRY_AFTER;
                return parse_long(s + 12, 0, 86400, &f->param);
        }
        if (strncmp(s, "delay-", 6) == 0) {
                f->kind = FK_DELAY;
                return parse_long(s + 6, 0, HANG_MS, &f->param);
        }
        for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
                if (strcmp(kind_names[i].name, s) == 0) {
                        f->kind = kind_names[i].kind;
                        return 0;
                }
        }
        return -EINVAL;
}

static bool is_status_step(enum step s)
{
        return s == STEP_EXPORT_STATUS || s == STEP_DRYRUN_STATUS || s == STEP_IMPORT_STATUS;
}

/* Whether the kind can happen on that step at all. */
static bool kind_fits_step(enum fault_kind k, enum step s)
{
        if (s == STEP_ANY)
                return true;
        switch (k) {
        case FK_TRUNCATE:
        case FK_LONG:
        case FK_STALL:
                return s == STEP_DOWNLOAD;
        case FK_FAILED:
        case FK_UNKNOWN_STATUS:
        case FK_BIGSTATUS:
                return is_status_step(s);
        case FK_NOFILEID:
                return s == STEP_EXPORT_STATUS;
        case FK_ERRORS:
        case FK_WARNINGS:
                return s == STEP_DRYRUN_STATUS || s == STEP_IMPORT_STATUS;
        case FK_EXPIRE:
                return s != STEP_LOGIN;         /* a login carries no session */
        default:
                return true;
        }
}

static int fault_parse(const char *spec, struct fault_spec *out, char *err, size_t errlen)
{
        char buf[96];
        if (strlen(spec) >= sizeof buf) {
                snprintf(err, errlen, "fault spec too long");
                return -EINVAL;
        }
        snprintf(buf, sizeof buf, "%s", spec);
        char *kind = strchr(buf, ':');
        if (!kind) {
                snprintf(err, errlen, "fault '%s': expected STEP:KIND[:COUNT]", spec);
                return -EINVAL;
        }
        *kind++ = '\0';
        char *count = strchr(kind, ':');
        if (count)
                *count++ = '\0';
        memset(out, 0, sizeof *out);
        if (parse_step(buf, strlen(buf), &out->step) < 0) {
                snprintf(err, errlen, "fault '%s': unknown step '%s'", spec, buf);
                return -EINVAL;
        }
        if (parse_kind(kind, &out->f) < 0) {
                snprintf(err, errlen, "fault '%s': unknown kind '%s'", spec, kind);
                return -EINVAL;
        }
        if (!kind_fits_step(out->f.kind, out->step)) {
                snprintf(err, errlen, "fault '%s': kind %s cannot happen on step %s", spec, kind, buf);
                return -EINVAL;
        }
        long n = 1;
        if (count && parse_long(count, 0, LONG_MAX, &n) < 0) {
                snprintf(err, errlen, "fault '%s': COUNT must be a number (0 = forever)", spec);
                return -EINVAL;
        }
        out->left = n == 0 ? -1 : n;
        return 0;
}

int fault_add(const char *spec, char *err, size_t errlen)
{
        struct fault_spec fs;
        int rc = fault_parse(spec, &fs, err, errlen);
        if (rc < 0)
                return rc;
        pthread_mutex_lock(&M.lock);
        struct fault_spec *p = mock_grow(faults, &cap_faults, nfaults, sizeof *faults);
        if (!p) {
                pthread_mutex_unlock(&M.lock);
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        faults = p;
        faults[nfaults++] = fs;
        pthread_mutex_unlock(&M.lock);
        return 0;
}

void fault_reset(void)
{
        pthread_mutex_lock(&M.lock);
        nfaults = 0;
        pthread_mutex_unlock(&M.lock);
}

static bool is_outcome_kind(enum fault_kind k)
{
        return k == FK_FAILED || k == FK_NOFILEID || k == FK_ERRORS || k == FK_WARNINGS;
}

static bool fault_fits(const struct fault_spec *fs, enum step s, const struct fault_ctx *ctx)
{
        if (fs->left == 0 || (fs->step != STEP_ANY && fs->step != s))
                return false;
        if (!kind_fits_step(fs->f.kind, s))     /* for STEP_ANY faults */
                return false;
        if (fs->f.kind == FK_EXPIRE && !ctx->session_tenant)
                return false;
        /* An outcome fault waits for the poll that completes: spent on an
         * IN_PROGRESS poll it would change nothing. */
        if (is_outcome_kind(fs->f.kind) && !ctx->would_complete)
                return false;
        return true;
}

struct fault fault_pick(enum step s, const struct fault_ctx *ctx)
{
        struct fault got = {.kind = FK_NONE, .name = "-"};
        if (s == STEP_NONE)
                return got;
        pthread_mutex_lock(&M.lock);
        for (size_t i = 0; i < nfaults; i++) {
                if (fault_fits(&faults[i], s, ctx)) {
                        got = faults[i].f;
                        if (faults[i].left > 0)
                                faults[i].left--;
                        break;
                }
        }
        pthread_mutex_unlock(&M.lock);
        return got;
}
