/* failure.h — why a job failed: the codes of the job file's "failure"
 * field, DEV2PROD_FAILURE= and `dev2prodctl`, described once.  Each is
 * documented in dev2prodd(8), "Failures and retries" (test_man checks). */
#ifndef DEV2PROD_FAILURE_H
#define DEV2PROD_FAILURE_H

#define FAILURES(X)                                                                     \
        X(DRY_RUN_REJECTED,       "dry-run-rejected")                                   \
        X(DRY_RUN_WARNINGS,       "dry-run-warnings")                                   \
        X(DRY_RUN_UNREADABLE,     "dry-run-unreadable")                                 \
        X(EXPORT_FAILED,          "export-failed")                                      \
        X(IMPORT_FAILED,          "import-failed")                                      \
        X(IMPORT_OUTCOME_UNKNOWN, "import-outcome-unknown")                             \
        X(REFUSED,                "refused")                                            \
        X(AUTH,                   "auth")                                               \
        X(TLS,                    "tls")                                                \
        X(TIMEOUT,                "timeout")                                            \
        X(GAVE_UP,                "gave-up")                                            \
        X(DISK,                   "disk")                                               \
        X(BAD_ANSWER,             "bad-answer")                                         \
        X(CONFIG,                 "config")                                             \
        X(SUPERSEDED,             "superseded")                                         \
        X(LOCAL,                  "local")                                              \
        X(INTERNAL,               "internal")                                           \
        X(CANCELLED,              "cancelled")                                          \
        X(REJECTED,               "rejected")                                           \
        X(EXPIRED,                "expired")

enum failure {
        FAILURE_NONE = -1,      /* succeeded: no failure */
#define FAILURE_ENUM(name, code) FAILURE_##name,
        FAILURES(FAILURE_ENUM)
#undef FAILURE_ENUM
        _FAILURE_MAX,
};

const char *failure_to_string(enum failure f);

#endif
