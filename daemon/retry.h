/* retry.h — judging a finished request and spacing the next try.
 * Pure functions, unit-tested in tests/unit/test_retry.c. */
#ifndef DEV2PROD_RETRY_H
#define DEV2PROD_RETRY_H

#include "http.h"

enum request_kind {
        REQ_READ,               /* GET: repeating it is always safe */
        REQ_CREATE,             /* POST whose duplicate is harmless (export, upload, dry run) */
        REQ_IMPORT,             /* the real import: never sent twice */
};

enum outcome {
        OUTCOME_OK,             /* 2xx: judge the body */
        OUTCOME_RETRY,          /* transient; the server did not act, or acting twice is harmless */
        OUTCOME_UNKNOWN,        /* an import may have been received, its answer is lost */
        OUTCOME_AUTH,           /* 401 */
        OUTCOME_FATAL,          /* 4xx, TLS trust, local disk: retrying cannot help */
};

enum outcome retry_classify(const struct http_result *res, enum request_kind kind);
/* One line describing a failed result for logs: "HTTP 503: injected 503"
 * (the server's own words, api.h), "connection refused (Couldn't connect
 * to server)", ...  Here, not in http.c: the HTTP layer knows nothing of
 * the API's error answers. */
char *retry_describe(const struct http_result *res);

/* Delay before try number `tries` + 1 (tries >= 1 already made): base
 * doubled per try, capped at 5 minutes, with "equal jitter" (a random point
 * in the upper half) so many jobs failing together do not retry together;
 * never shorter than the server's Retry-After.  rnd is any random value. */
uint64_t retry_delay_usec(uint64_t base_usec, unsigned tries, long retry_after_sec, uint32_t rnd);

#define RETRY_MAX_DELAY_USEC (300 * USEC_PER_SEC)

#endif
