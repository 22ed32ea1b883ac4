/* judge.h — the verdicts that let a job take its next step.
 *
 * Three answers decide something that cannot be taken back: the dry run's
 * final status (the import follows), the import's final status (the job
 * ends as succeeded), and the export status and the creating answers (an
 * id is saved and acted on).  Each is judged here by a pure function that
 * passes an answer only on positive evidence: every field it needs
 * present, of the right type, unambiguous.  An answer of any shape the
 * rules below do not describe is JUDGE_UNREADABLE with the reason; it is
 * never "no problem".  The rules are written once, in judge.c, and
 * restated in README.md ("How a job runs") and dev2prodd(8).
 *
 * Keys are matched case-insensitively (the vendor mixes "Id" and "id",
 * API notes quirk 1), so an object holding two keys that differ only in
 * case, or the same key twice, is ambiguous and therefore unreadable. */
#ifndef DEV2PROD_JUDGE_H
#define DEV2PROD_JUDGE_H

#include "util.h"

enum judgement {
        JUDGE_RUNNING,          /* a well-formed status that is not terminal: poll again */
        JUDGE_CLEAN,            /* terminal and positively clean: the next step may go */
        JUDGE_FAILED,           /* terminal, and the server reports a failure or findings */
        JUDGE_UNREADABLE,       /* JSON, but not of a shape these rules accept */
        JUDGE_GARBLED,          /* not a JSON object at all (a proxy page, a cut body) */
};

const char *judgement_to_string(enum judgement v);

/* Status words, classed case-insensitively (API notes, quirk 2). */
enum status_class { STATUS_RUNNING, STATUS_COMPLETED, STATUS_FAILED };
enum status_class judge_status_class(const char *status);

/* What an import status (dry run or import) must say to be clean. */
struct judge_rules {
        const char *operation_id;       /* the id polled: "id" must equal it */
        const char *file_id;            /* the file this job uploaded: "FileId" must equal it */
        bool dry_run;                   /* "DryRun" must be exactly this */
        bool warnings_fail;             /* on_warnings: stop */
};

/* Judges an import status (steps 6 and 7).  body holds len bytes and
 * body[len] is NUL.  *ret_reason (malloc'd, one line, valid UTF-8) says
 * which field and why for every verdict but JUDGE_CLEAN and JUDGE_RUNNING. */
enum judgement judge_import_status(const char *body, size_t len, const struct judge_rules *rules,
                                   char **ret_reason);

/* Judges an export status (step 2) of export export_id.  CLEAN means
 * COMPLETED with a usable "FileId", returned in *ret_file_id. */
enum judgement judge_export_status(const char *body, size_t len, const char *export_id,
                                   char **ret_file_id, char **ret_reason);

/* Judges the answer to a creating POST ({"Id": "..."}).  CLEAN means one
 * usable "Id", returned in *ret_id.  Never RUNNING or FAILED. */
enum judgement judge_created(const char *body, size_t len, char **ret_id, char **ret_reason);

/* An id the server gave us is used in URLs (percent-encoded there: api.c
 * path_escape) and saved in job files: 1 to JUDGE_MAX_ID bytes of
 * printable ASCII, no space.  False for NULL.  Exposed for tests.
 * *ret_file_id and *ret_id are NULL unless the verdict is JUDGE_CLEAN. */
#define JUDGE_MAX_ID 256
bool judge_id_usable(const char *s);

#endif
