/* Unit tests of retry.c: which answers are retried, which end the job,
 * which make an import's outcome unknown; the backoff delays; and how a
 * failed try is described. */
#include <check.h>

#include "check_run.h"
#include "retry.h"

static struct http_result answer(long status) {
        struct http_result r = { .code = CURLE_OK, .status = status };
        return r;
}
static struct http_result transport(CURLcode c) {
        struct http_result r = { .code = c };
        return r;
}

START_TEST(statuses) {
        static const struct { long status; enum outcome read, create, import; } t[] = {
                { 200, OUTCOME_OK, OUTCOME_OK, OUTCOME_OK },
                { 201, OUTCOME_OK, OUTCOME_OK, OUTCOME_OK },
                { 400, OUTCOME_FATAL, OUTCOME_FATAL, OUTCOME_FATAL },
                { 401, OUTCOME_AUTH, OUTCOME_AUTH, OUTCOME_AUTH },
                { 403, OUTCOME_FATAL, OUTCOME_FATAL, OUTCOME_FATAL },
                { 404, OUTCOME_FATAL, OUTCOME_FATAL, OUTCOME_FATAL },
                { 429, OUTCOME_RETRY, OUTCOME_RETRY, OUTCOME_RETRY },
                { 500, OUTCOME_RETRY, OUTCOME_RETRY, OUTCOME_UNKNOWN },
                { 502, OUTCOME_RETRY, OUTCOME_RETRY, OUTCOME_UNKNOWN },
                { 503, OUTCOME_RETRY, OUTCOME_RETRY, OUTCOME_RETRY },
                { 504, OUTCOME_RETRY, OUTCOME_RETRY, OUTCOME_UNKNOWN },
                { 302, OUTCOME_FATAL, OUTCOME_FATAL, OUTCOME_FATAL },
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                struct http_result r = answer(t[i].status);
                ck_assert_msg(retry_classify(&r, REQ_READ) == t[i].read, "%ld read", t[i].status);
                ck_assert_msg(retry_classify(&r, REQ_CREATE) == t[i].create, "%ld create", t[i].status);
                ck_assert_msg(retry_classify(&r, REQ_IMPORT) == t[i].import, "%ld import", t[i].status);
        }
}
END_TEST

START_TEST(transport_errors) {
        struct http_result r;
        /* never connected: even the import may be sent again */
        r = transport(CURLE_COULDNT_CONNECT);
        ck_assert_int_eq(retry_classify(&r, REQ_IMPORT), OUTCOME_RETRY);
        ck_assert(http_result_not_sent(&r));
        /* connected, then lost: the import's outcome is unknown */
        CURLcode lost[] = { CURLE_OPERATION_TIMEDOUT, CURLE_GOT_NOTHING, CURLE_RECV_ERROR,
                            CURLE_SEND_ERROR, CURLE_PARTIAL_FILE };
        for (size_t i = 0; i < sizeof lost / sizeof lost[0]; i++) {
                r = transport(lost[i]);
                ck_assert(!http_result_not_sent(&r));
                ck_assert_int_eq(retry_classify(&r, REQ_READ), OUTCOME_RETRY);
                ck_assert_int_eq(retry_classify(&r, REQ_CREATE), OUTCOME_RETRY);
                ck_assert_int_eq(retry_classify(&r, REQ_IMPORT), OUTCOME_UNKNOWN);
        }
        r = transport(CURLE_PEER_FAILED_VERIFICATION);
        ck_assert_int_eq(retry_classify(&r, REQ_READ), OUTCOME_FATAL);
        r = answer(200);
        r.write_errno = 28; /* ENOSPC */
        ck_assert_int_eq(retry_classify(&r, REQ_READ), OUTCOME_FATAL);
}
END_TEST

START_TEST(delays) {
        const uint64_t s = USEC_PER_SEC;
        /* equal jitter: within [d/2, d] where d doubles per try */
        for (uint32_t rnd = 0; rnd < 5000; rnd += 37) {
                uint64_t d1 = retry_delay_usec(s, 1, 0, rnd), d3 = retry_delay_usec(s, 3, 0, rnd);
                ck_assert(d1 >= s / 2 && d1 <= s);
                ck_assert(d3 >= 2 * s && d3 <= 4 * s);
        }
        /* capped at 5 minutes even after many tries */
        ck_assert(retry_delay_usec(s, 60, 0, 12345) <= RETRY_MAX_DELAY_USEC);
        ck_assert(retry_delay_usec(s, 60, 0, 12345) >= RETRY_MAX_DELAY_USEC / 2);
        /* Retry-After wins when longer */
        ck_assert_uint_eq(retry_delay_usec(s, 1, 120, 0), 120 * s);
        ck_assert(retry_delay_usec(s, 8, 1, 7) > 1 * s);
        /* jitter actually varies */
        ck_assert(retry_delay_usec(s, 4, 0, 1) != retry_delay_usec(s, 4, 0, 999999));
}
END_TEST

/* The line that logs and job messages show for a failed try: the
 * server's own words for an HTTP error (api.h), curl's for the transport. */
START_TEST(describe) {
        struct http_result r = answer(503);
        char body[] = "{\"message\":\"injected 503\"}", *t;

        r.body = (struct buf) { .data = body, .len = strlen(body) };
        t = retry_describe(&r);
        ck_assert_str_eq(t, "HTTP 503: injected 503");
        free(t);
        r = answer(201);
        t = retry_describe(&r);
        ck_assert_str_eq(t, "HTTP 201");
        free(t);
        r = transport(CURLE_COULDNT_CONNECT);
        snprintf(r.error, sizeof r.error, "Failed to connect to localhost port 1");
        t = retry_describe(&r);
        ck_assert_str_eq(t, "Failed to connect to localhost port 1");
        free(t);
        r = answer(200);
        r.body_too_large = true;
        t = retry_describe(&r);
        ck_assert_str_eq(t, "answer larger than 8388608 bytes");
        free(t);
        r = answer(200);
        r.write_errno = 28; /* ENOSPC */
        t = retry_describe(&r);
        ck_assert_str_eq(t, "writing the package failed: No space left on device");
        free(t);
}
END_TEST

int main(void) {
        Suite *s = suite_create("retry");
        TCase *tc = tcase_create("retry");
        tcase_add_test(tc, statuses);
        tcase_add_test(tc, transport_errors);
        tcase_add_test(tc, delays);
        tcase_add_test(tc, describe);
        suite_add_tcase(s, tc);
        return check_run(s);
}
