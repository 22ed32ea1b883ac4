/* mock_answer.c — answer overrides: POST /_mock/answer?step=STEP[&code=N][&count=N].
 *
 * The request body (raw bytes, any bytes) becomes the body of the next
 * COUNT answers of STEP (default 1; 0 = forever), sent with HTTP status
 * CODE (default 200). The work of the request still happens and is
 * recorded as usual (an import is an import); only the answer changes.
 * For the status steps an override waits for a terminal poll (the one that
 * would have said COMPLETED, or FAILED under an outcome fault), as the
 * outcome faults do. Before sending, "@ID@" becomes the id of the
 * operation (the one polled, or the one the POST created) and "@FILEID@"
 * the file id it refers to (see mock.h). Overrides are kept in the order
 * given; a request takes the first one of its step. */
#include "mock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct answer {
        enum step step;
        unsigned code;
        long left;              /* answers still to replace; forever if < 0 */
        char *body;
        size_t len;
};

static struct answer *answers;  /* under M.lock */
static size_t nanswers, cap_answers;

static bool step_answerable(enum step s)
{
        switch (s) {
        case STEP_EXPORT:
        case STEP_EXPORT_STATUS:
        case STEP_UPLOAD:
        case STEP_DRYRUN:
        case STEP_DRYRUN_STATUS:
        case STEP_IMPORT:
        case STEP_IMPORT_STATUS:
                return true;
        default:
                return false;
        }
}

static int parse_num(const char *s, long min, long max, long *out)
{
        char *end;
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

int answer_add(const char *step, const char *code, const char *count, char *body, size_t len,
               char *err, size_t errlen)
{
        struct answer a = {.code = 200, .left = 1};
        long v;
        if (!step || step_parse(step, &a.step) < 0 || !step_answerable(a.step)) {
                snprintf(err, errlen, "answer: step must be one of export, export_status, upload, dryrun, "
                                      "dryrun_status, import, import_status");
                return -EINVAL;
        }
        if (code) {
                if (parse_num(code, 100, 599, &v) < 0) {
                        snprintf(err, errlen, "answer: code must be an HTTP status 100-599");
                        return -EINVAL;
                }
                a.code = (unsigned)v;
        }
        if (count) {
                if (parse_num(count, 0, LONG_MAX, &v) < 0) {
                        snprintf(err, errlen, "answer: count must be a number (0 = forever)");
                        return -EINVAL;
                }
                a.left = v == 0 ? -1 : v;
        }
        a.body = body;
        a.len = len;
        pthread_mutex_lock(&M.lock);
        struct answer *p = mock_grow(answers, &cap_answers, nanswers, sizeof *answers);
        if (!p) {
                pthread_mutex_unlock(&M.lock);
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        answers = p;
        answers[nanswers++] = a;
        pthread_mutex_unlock(&M.lock);
        return 0;
}

void answer_reset(void)
{
        pthread_mutex_lock(&M.lock);
        for (size_t i = 0; i < nanswers; i++)
                free(answers[i].body);
        nanswers = 0;
        pthread_mutex_unlock(&M.lock);
}

static bool starts(const char *p, size_t n, const char *what, size_t wlen)
{
        return wlen <= n && memcmp(p, what, wlen) == 0;
}

/* body with every @ID@ and @FILEID@ replaced; NULL when memory ran out. */
static char *substitute(const char *body, size_t len, const char *id, const char *file_id, size_t *out_len)
{
        static const char P_ID[] = "@ID@", P_FILE[] = "@FILEID@";
        size_t lid = strlen(id), lfile = strlen(file_id), total = 0;
        /* Two passes: measure, then copy. */
        for (int pass = 0; pass < 2; pass++) {
                char *out = NULL;
                if (pass == 1 && !(out = malloc(total + 1)))
                        return NULL;
                size_t o = 0, i = 0;
                while (i < len) {
                        const char *at = memchr(body + i, '@', len - i);
                        size_t lit = at ? (size_t)(at - (body + i)) : len - i;
                        if (out)
                                memcpy(out + o, body + i, lit);
                        o += lit;
                        i += lit;
                        if (!at)
                                break;
                        const char *rep = "@";
                        size_t rlen = 1, skip = 1;
                        if (starts(body + i, len - i, P_ID, 4))
                                rep = id, rlen = lid, skip = 4;
                        else if (starts(body + i, len - i, P_FILE, 8))
                                rep = file_id, rlen = lfile, skip = 8;
                        if (out)
                                memcpy(out + o, rep, rlen);
                        o += rlen;
                        i += skip;
                }
                if (out) {
                        out[o] = '\0';
                        *out_len = o;
                        return out;
                }
                total = o;
        }
        return NULL;
}

char *answer_take(enum step s, const char *id, const char *file_id, size_t *len, unsigned *code)
{
        char *out = NULL;
        pthread_mutex_lock(&M.lock);
        for (size_t i = 0; i < nanswers; i++) {
                struct answer *a = &answers[i];
                if (a->step != s || a->left == 0)
                        continue;
                out = substitute(a->body, a->len, id ? id : "", file_id ? file_id : "", len);
                if (out) {
                        *code = a->code;
                        if (a->left > 0)
                                a->left--;
                }
                break;
        }
        pthread_mutex_unlock(&M.lock);
        return out;
}
