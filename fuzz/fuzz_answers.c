/* fuzz_answers — every decoder of a server answer (api.h) on the same bytes.
 *
 * The decoders take (body, len) with body[len] == 0, as http.c hands them
 * over: the input is copied into a NUL-terminated buffer (it may hold NUL
 * bytes of its own, which the decoders must refuse, not read past).  Any
 * crash, sanitizer report or leak is a finding; so is a decoder that
 * returns an error without a message, or success without its result, or
 * a judge whose verdict comes without the reason or the id it promises,
 * or any kept or returned text that is not clean (valid UTF-8, no control
 * characters). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "judge.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); abort(); } } while (0)

/* Valid UTF-8 without control characters: what util.h text_clean makes. */
static bool text_is_clean(const char *s) {
        size_t n = strlen(s);
        for (size_t i = 0; i < n;) {
                size_t k = utf8_seq_len((const unsigned char *) s + i, n - i);
                if (k == 0 || (k == 1 && ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)))
                        return false;
                i += k;
        }
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *body = malloc(size + 1);
        char *id = NULL, *key = NULL, *err = NULL, *t;
        struct export_status es;
        struct import_status is;
        int r;

        if (!body)
                return 0;
        memcpy(body, data, size);
        body[size] = 0;

        r = api_parse_id(body, size, &id, &err);
        CHECK(r == 0 ? id && *id && !err : r == -EPROTO && !id && err);
        free(id);
        free(err);
        err = NULL;

        r = api_parse_export_status(body, size, &es, &err);
        CHECK(r == 0 ? es.status && !err : r == -EPROTO && err && !es.status);
        if (r == 0) {
                (void) judge_status_class(es.status);
                for (size_t i = 0; i < es.n_stats; i++)
                        CHECK(es.stats[i].name);
        }
        export_status_free(&es);
        free(err);
        err = NULL;

        r = api_parse_import_status(body, size, &is, &err);
        CHECK(r == 0 ? is.status && !err : r == -EPROTO && err && !is.status);
        if (r == 0) {
                (void) judge_status_class(is.status);
                (void) import_status_n_errors(&is);
                (void) import_status_n_warnings(&is);
                for (size_t i = 0; i < is.n_results; i++) {
                        CHECK(is.results[i].package && text_is_clean(is.results[i].package));
                        for (size_t k = 0; k < is.results[i].n_errors; k++)
                                CHECK(is.results[i].errors[k] && text_is_clean(is.results[i].errors[k]));
                        for (size_t k = 0; k < is.results[i].n_warnings; k++)
                                CHECK(is.results[i].warnings[k] && text_is_clean(is.results[i].warnings[k]));
                }
        }
        import_status_free(&is);
        free(err);
        err = NULL;

        r = api_parse_login(body, size, &key, &err);
        CHECK(r == 0 ? key && *key && !err : r == -EPROTO && !key && err);
        free(key);
        free(err);

        t = api_error_text(body);
        CHECK(t && strlen(t) <= 300 && text_is_clean(t));
        free(t);

        for (int dry = 0; dry < 2; dry++) {
                struct judge_rules rules = { .operation_id = "66fabdf1e4b06908b04d4051",
                                             .file_id = "c7e87b89", .dry_run = dry, .warnings_fail = dry };
                enum judgement v = judge_import_status(body, size, &rules, &err);
                CHECK(v == JUDGE_CLEAN || v == JUDGE_RUNNING || (err && *err && text_is_clean(err)));
                free(err);
                err = NULL;
        }
        {
                enum judgement v = judge_export_status(body, size, "6797556be4b0c05084915394", &id, &err);
                CHECK(v == JUDGE_CLEAN ? judge_id_usable(id) : !id);
                CHECK(v == JUDGE_CLEAN || v == JUDGE_RUNNING || (err && *err && text_is_clean(err)));
                free(id);
                free(err);
                id = err = NULL;
                v = judge_created(body, size, &id, &err);
                CHECK(v == JUDGE_CLEAN ? judge_id_usable(id) && !err : !id && err && text_is_clean(err));
                free(id);
                free(err);
                id = err = NULL;
        }

        /* the same bytes as an id in a URL and a request body */
        t = api_url_import_status("https://example.net", "123", body);
        CHECK(t);
        free(t);
        free(api_body_import(body));

        free(body);
        return 0;
}
