/* fuzz_answers — every decoder of a server answer (api.h) on the same bytes.
 *
 * The decoders take (body, len) with body[len] == 0, as http.c hands them
 * over: the input is copied into a NUL-terminated buffer (it may hold NUL
 * bytes of its own, which the decoders must refuse, not read past).  Any
 * crash, sanitizer report or leak is a finding; so is a decoder that
 * returns an error without a message, or success without its result. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); abort(); } } while (0)

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
                (void) api_status_class(es.status);
                for (size_t i = 0; i < es.n_stats; i++)
                        CHECK(es.stats[i].name);
        }
        export_status_free(&es);
        free(err);
        err = NULL;

        r = api_parse_import_status(body, size, &is, &err);
        CHECK(r == 0 ? is.status && !err : r == -EPROTO && err && !is.status);
        if (r == 0) {
                (void) api_status_class(is.status);
                (void) import_status_n_errors(&is);
                (void) import_status_n_warnings(&is);
                for (size_t i = 0; i < is.n_results; i++) {
                        CHECK(is.results[i].package);
                        for (size_t k = 0; k < is.results[i].n_errors; k++)
                                CHECK(is.results[i].errors[k]);
                        for (size_t k = 0; k < is.results[i].n_warnings; k++)
                                CHECK(is.results[i].warnings[k]);
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
        CHECK(t && strlen(t) <= 300);
        free(t);

        /* the same bytes as an id in a URL and a request body */
        t = api_url_import_status("https://example.net", "123", body);
        CHECK(t);
        free(t);
        free(api_body_import(body));

        free(body);
        return 0;
}
