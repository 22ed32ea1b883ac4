/* fuzz_jobfile — store_job_from_json() on any text; when a job loads, it
 * is written with store_job_to_json() (as store_save does) and read back,
 * and the round trip must be stable: writing the reloaded job gives the
 * same text again, compact and pretty.  The daemon only ever reads files it
 * wrote, so a file it accepts but cannot write back, or writes differently
 * after a reload, would change a job's state on the next start. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); abort(); } } while (0)

static void round_trip(const struct job *j, bool pretty) {
        char *t1, *t2, *err = NULL;
        struct job *j2 = NULL;
        int r;

        t1 = store_job_to_json(j, pretty);
        CHECK(t1);              /* a job that loads can be saved */
        r = store_job_from_json(t1, strlen(t1), &j2, &err);
        if (r < 0) {
                fprintf(stderr, "a written job does not load again: %s\n%s", err, t1);
                abort();
        }
        t2 = store_job_to_json(j2, pretty);
        CHECK(t2);
        if (strcmp(t1, t2) != 0) {
                fprintf(stderr, "round trip not stable:\n--- first\n%s--- second\n%s", t1, t2);
                abort();
        }
        job_free(j2);
        free(t1);
        free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text, *err = NULL;
        struct job *j = NULL;
        int r;

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;

        r = store_job_from_json(text, size, &j, &err);
        if (r < 0) {
                CHECK(r == -EPROTO && err && !j);
                free(err);
                free(text);
                return 0;
        }
        CHECK(r == 0 && j && !err);
        CHECK(store_id_valid(j->id));
        round_trip(j, false);
        round_trip(j, true);
        job_free(j);
        free(text);
        return 0;
}
