/* retry.c — see retry.h. */
#include "api.h"
#include "json.h"
#include "retry.h"

enum outcome retry_classify(const struct http_result *res, enum request_kind kind) {
        if (res->write_errno)
                return OUTCOME_FATAL;   /* our disk: the job says so and stops */
        if (res->code != CURLE_OK) {
                if (http_result_not_sent(res))
                        return OUTCOME_RETRY;
                switch (res->code) {
                case CURLE_PEER_FAILED_VERIFICATION:
                case CURLE_SSL_CACERT_BADFILE:
                case CURLE_SSL_CERTPROBLEM:
                case CURLE_SSL_CIPHER:
                case CURLE_SSL_ISSUER_ERROR:
                case CURLE_SSL_CRL_BADFILE:
                case CURLE_UNSUPPORTED_PROTOCOL:
                case CURLE_URL_MALFORMAT:
                        return OUTCOME_FATAL;
                default:
                        break;
                }
                /* Timeout, reset, truncated body, an answer we refused to
                 * read: the request may well have been acted on. */
                return kind == REQ_IMPORT ? OUTCOME_UNKNOWN : OUTCOME_RETRY;
        }
        if (res->status / 100 == 2)
                return OUTCOME_OK;
        if (res->status == 401)
                return OUTCOME_AUTH;
        /* 429 and 503 say "not now": the server did not act on it. */
        if (res->status == 429 || res->status == 503)
                return OUTCOME_RETRY;
        /* 500/502/504 after an import may come from a backend (or gateway)
         * that did start it. */
        if (res->status == 500 || res->status == 502 || res->status == 504)
                return kind == REQ_IMPORT ? OUTCOME_UNKNOWN : OUTCOME_RETRY;
        if (res->status == 408 && kind != REQ_IMPORT)
                return OUTCOME_RETRY;
        return OUTCOME_FATAL;
}

uint64_t retry_delay_usec(uint64_t base_usec, unsigned tries, long retry_after_sec, uint32_t rnd) {
        uint64_t d = base_usec ? base_usec : USEC_PER_SEC;
        for (unsigned i = 1; i < tries && d < RETRY_MAX_DELAY_USEC; i++)
                d *= 2;
        d = MIN(d, RETRY_MAX_DELAY_USEC);
        d = d / 2 + (d / 2 ? (uint64_t) rnd % (d / 2 + 1) : 0);
        if (retry_after_sec > 0)
                d = MAX(d, (uint64_t) retry_after_sec * USEC_PER_SEC);
        return d;
}

char *retry_describe(const struct http_result *res) {
        if (res->write_errno)
                return xasprintf("writing the package failed: %s", strerror(res->write_errno));
        if (res->body_too_large)
                return xasprintf("answer larger than %u bytes", JSON_MAX_ANSWER);
        if (res->code != CURLE_OK)
                return xasprintf("%s", res->error);
        if (res->status / 100 != 2) {
                _cleanup_free_ char *t = api_error_text(res->body.data);
                return xasprintf("HTTP %ld: %s", res->status, t);
        }
        return xasprintf("HTTP %ld", res->status);
}
