/* Regression tests of decoder bugs found by fuzzing (fuzz/, mk/fuzz.mk) or
 * by the sanitizer and valgrind runs.  Each case names the bug it pins; the
 * input that found it is also in the seed corpus (fuzz/corpus/<target>/regress-*). */
#include <check.h>
#include <errno.h>

#include <unistd.h>

#include "check_run.h"
#include "api.h"
#include "config.h"
#include "store.h"

/* '[' * depth + ']' * depth, or '{"a":' * depth + '1' + '}' * depth */
static char *nested(size_t depth, bool objects, size_t *ret_len) {
        const char *open = objects ? "{\"a\":" : "[", *close = objects ? "}" : "]";
        size_t lo = strlen(open), len = depth * (lo + 1) + (objects ? 1 : 0);
        char *s = malloc(len + 1), *p = s;
        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < depth; i++, p += lo)
                memcpy(p, open, lo);
        if (objects)
                *p++ = '1';
        for (size_t i = 0; i < depth; i++)
                *p++ = *close;
        *p = 0;
        ck_assert_uint_eq((size_t) (p - s), len);
        *ret_len = len;
        return s;
}

/* json.c: a valid answer nested a few hundred thousand levels deep (0.6 MB,
 * under JSON_MAX_ANSWER) overflowed the stack in yajl_tree_free(), which
 * recurses once per level: a server answer (or a job file) could crash the
 * daemon.  json_parse now refuses nesting deeper than 1000 levels. */
START_TEST(deep_nesting_refused) {
        static const size_t depths[] = { 1001, 400000, 1000000 };
        for (size_t k = 0; k < ELEMENTSOF(depths); k++)
                for (int objects = 0; objects <= 1; objects++) {
                        size_t len;
                        char *s = nested(depths[k], objects, &len), *id = NULL, *err = NULL;
                        struct export_status es;
                        struct import_status is;
                        struct job *j = NULL;

                        ck_assert_int_eq(api_parse_id(s, len, &id, &err), -EPROTO);
                        ck_assert_msg(err && strstr(err, "nested deeper than 1000 levels"), "depth %zu: %s", depths[k], err);
                        free(err); err = NULL;
                        ck_assert_int_eq(api_parse_export_status(s, len, &es, &err), -EPROTO);
                        free(err); err = NULL;
                        ck_assert_int_eq(api_parse_import_status(s, len, &is, &err), -EPROTO);
                        free(err); err = NULL;
                        if (objects) {  /* JSON only when it starts with '{' or '"' */
                                ck_assert_int_eq(api_parse_login(s, len, &id, &err), -EPROTO);
                                free(err); err = NULL;
                        }
                        free(api_error_text(s));
                        ck_assert_int_eq(store_job_from_json(s, len, &j, &err), -EPROTO);
                        ck_assert_msg(err && strstr(err, "nested deeper"), "%s", err);
                        ck_assert_ptr_null(j);
                        free(err);
                        free(s);
                }
}
END_TEST

/* The limit leaves room: 1000 levels still parse. */
START_TEST(nesting_at_limit_accepted) {
        /* {"Id":"x","a":[[...]]}: the object is level 1, the arrays 2..1000 */
        size_t n = 999, len;
        char *arr = nested(n, false, &len);
        char *s = malloc(len + 32), *id = NULL, *err = NULL;
        ck_assert_ptr_nonnull(s);
        len = (size_t) sprintf(s, "{\"Id\":\"x\",\"a\":%s}", arr);
        ck_assert_int_eq(api_parse_id(s, len, &id, &err), 0);
        ck_assert_str_eq(id, "x");
        free(id);
        id = NULL;
        /* one more level is refused */
        free(s);
        s = malloc(len + 64);
        len = (size_t) sprintf(s, "{\"Id\":\"x\",\"a\":[%s]}", arr);
        ck_assert_int_eq(api_parse_id(s, len, &id, &err), -EPROTO);
        ck_assert_ptr_null(id);
        free(err);
        free(s);
        free(arr);
}
END_TEST

/* The depth callbacks must not change what is JSON: numbers too large for a
 * long long still parse (as non-integers), strings stay strings, and an
 * error in the text is still reported in yajl's words. */
START_TEST(depth_check_keeps_behaviour) {
        static const char big[] = "{\"Id\":\"x\",\"n\":123456789012345678901234567890,\"d\":1.5e400}";
        char *id = NULL, *err = NULL;
        ck_assert_int_eq(api_parse_id(big, strlen(big), &id, &err), 0);
        ck_assert_str_eq(id, "x");
        free(id);
        ck_assert_int_eq(api_parse_id("{\"Id\": \"x\"", 10, &id, &err), -EPROTO);
        ck_assert_msg(err && strstr(err, "not JSON") && !strstr(err, "nested"), "%s", err);
        free(err);
}
END_TEST

/* store.c: download_sha256 was cut to the 64 bytes of its field with
 * snprintf, which could split a UTF-8 sequence ("a" + 40 x "\xc3\xa9"): the
 * job loaded, but store_job_to_json() (yajl_gen_validate_utf8) refused it,
 * so the job could never be saved again.  A value that does not fit is now
 * ignored; one that fits is kept as it is. */
#define JOB_HEAD "{\"format\":1,\"id\":\"a\",\"promotion\":\"p\",\"package\":\"1\",\"from\":{},\"to\":{},\"state\":\"upload\","
START_TEST(sha256_not_cut_inside_utf8) {
        char text[512], *p, *err = NULL, *json;
        struct job *j = NULL;

        p = text + sprintf(text, JOB_HEAD "\"download_sha256\":\"a");
        for (int i = 0; i < 40; i++)
                p += sprintf(p, "\xc3\xa9");
        strcpy(p, "\"}");
        ck_assert_int_eq(store_job_from_json(text, strlen(text), &j, &err), 0);
        ck_assert_str_eq(j->download_sha256, "");
        json = store_job_to_json(j, true);
        ck_assert_ptr_nonnull(json);            /* the job can be saved */
        free(json);
        job_free(j);

        static const char hex[] = "1f0c9d3a6b2e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddee";
        snprintf(text, sizeof text, JOB_HEAD "\"download_sha256\":\"%.64s\"}", hex);
        ck_assert_int_eq(store_job_from_json(text, strlen(text), &j, &err), 0);
        ck_assert_uint_eq(strlen(j->download_sha256), 64);
        ck_assert(strncmp(j->download_sha256, hex, 64) == 0);
        job_free(j);
}
END_TEST

/* config.c: every refused anchor (and tag, alias) gets a message naming the
 * key path of its node, and that path had no bound: N anchors nested N
 * levels deep gave N messages of ~3N bytes, so a 160 KB file (N = 20000)
 * took 1.3 GB and 35 s to refuse (a 1 MiB one could take tens of GB).  The
 * path shown is now cut at 200 bytes, also under a very long key. */
START_TEST(config_error_paths_bounded) {
        const size_t n = 3000;
        char path[] = "/tmp/d2p-regress-XXXXXX";
        int fd = mkstemp(path);
        FILE *f;
        struct config *c = NULL;
        struct errlist errs = {};

        ck_assert_int_ge(fd, 0);
        f = fdopen(fd, "w");
        ck_assert_ptr_nonnull(f);
        fputs("tenants:\n  ", f);
        for (int i = 0; i < 500; i++)
                fputc('k', f);                          /* a 500-byte key */
        fputs(":\n    x: ", f);
        for (size_t i = 0; i < n; i++)
                fputc('[', f);
        for (size_t i = 0; i < n; i++)
                fputs(i ? ", &a x" : "&a x", f);
        for (size_t i = 0; i < n; i++)
                fputc(']', f);
        fputc('\n', f);
        fclose(f);

        ck_assert_int_eq(config_load(path, &c, &errs), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_uint_eq(errs.n, n);
        for (size_t i = 0; i < errs.n; i++) {
                ck_assert_msg(strlen(errs.msgs[i]) < 400, "message %zu is %zu bytes", i, strlen(errs.msgs[i]));
                ck_assert_ptr_nonnull(strstr(errs.msgs[i], "...: YAML anchors are not supported (&a)"));
        }
        errlist_free(&errs);
        unlink(path);
}
END_TEST

int main(void) {
        Suite *s = suite_create("fuzz-regressions");
        TCase *tc = tcase_create("decoders");
        tcase_add_test(tc, deep_nesting_refused);
        tcase_add_test(tc, nesting_at_limit_accepted);
        tcase_add_test(tc, depth_check_keeps_behaviour);
        tcase_add_test(tc, sha256_not_cut_inside_utf8);
        tcase_add_test(tc, config_error_paths_bounded);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);
        return check_run(s);
}
