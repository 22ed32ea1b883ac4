/* Unit tests of the answer decoders, URL builders and status judging. */
#include <check.h>
#include <dirent.h>
#include <errno.h>

#include "check_run.h"
#include "api.h"
#include "judge.h"

/* the decoders take a length; these are for NUL-terminated literals */
static int parse_id(const char *b, char **id, char **err) { return api_parse_id(b, strlen(b), id, err); }
static int parse_export(const char *b, struct export_status *s, char **err) { return api_parse_export_status(b, strlen(b), s, err); }
static int parse_import(const char *b, struct import_status *s, char **err) { return api_parse_import_status(b, strlen(b), s, err); }
static int parse_login(const char *b, char **k, char **err) { return api_parse_login(b, strlen(b), k, err); }

START_TEST(id_both_casings) {
        char *id = NULL, *err = NULL;
        ck_assert_int_eq(parse_id("{\"Id\": \"66fabdf1e4b06908b04d4051\"}", &id, &err), 0);
        ck_assert_str_eq(id, "66fabdf1e4b06908b04d4051");
        free(id);
        ck_assert_int_eq(parse_id("{\"other\": 1, \"id\": \"abc\"}", &id, &err), 0);
        ck_assert_str_eq(id, "abc");
        free(id);
}
END_TEST

START_TEST(id_errors) {
        static const struct { const char *body, *msg; } cases[] = {
                { "{\"Result\":\"ok\"}", "\"Id\" is missing" },
                { "{\"Id\": 12345}", "\"Id\" is a number" },
                { "{\"Id\": null}", "\"Id\" is null" },
                { "{\"Id\": \"\"}", "\"Id\" is not a usable id" },
                { "{\"Id\": \"a b\"}", "\"Id\" is not a usable id" },
                { "{\"Id\": \"x\", \"id\": \"y\"}", "appears twice" },
                { "{\"Id\": \"x\", \"Errors\": []}", "unexpected field Errors" },
                { "[\"Id\"]", "not a JSON object" },
                { "<html><body>Service temporarily unavailable</body></html>", "not JSON" },
                { "", "not JSON" },
                { "{\"Id\": \"x\"", "not JSON" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *id = NULL, *err = NULL;
                ck_assert_int_eq(parse_id(cases[i].body, &id, &err), -EPROTO);
                ck_assert_ptr_null(id);
                ck_assert_msg(err && strstr(err, cases[i].msg), "case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
                free(err);
        }
}
END_TEST

static const char *export_done =
        "{ \"id\": \"6797556be4b0c05084915394\", \"PackageBundleName\": \"Package-54321\","
        " \"Status\": \"COMPLETED\", \"FileId\": \"c7e87b89\", \"StartTime\": 1737971051843,"
        " \"LastUpdateTime\": 1737971053134, \"ItemCount\": 352,"
        " \"Statistics\": [ {\"PackageName\": \"workflow\", \"ItemCount\": 24},"
        "                   {\"PackageName\": \"formLayouts\", \"ItemCount\": 117}, 7 ],"
        " \"OperationType\": \"Export\" }";

START_TEST(export_status_full) {
        struct export_status s;
        char *err = NULL;
        ck_assert_int_eq(parse_export(export_done, &s, &err), 0);
        ck_assert_str_eq(s.id, "6797556be4b0c05084915394");
        ck_assert_str_eq(s.status, "COMPLETED");
        ck_assert_str_eq(s.file_id, "c7e87b89");
        ck_assert_str_eq(s.bundle_name, "Package-54321");
        ck_assert_int_eq(s.item_count, 352);
        ck_assert_int_eq(s.start_ms, 1737971051843LL);
        ck_assert_uint_eq(s.n_stats, 2);        /* the stray 7 is skipped */
        ck_assert_str_eq(s.stats[1].name, "formLayouts");
        ck_assert_int_eq(s.stats[1].items, 117);
        export_status_free(&s);
}
END_TEST

START_TEST(export_status_keys_any_case) {
        struct export_status s;
        char *err = NULL;
        ck_assert_int_eq(parse_export("{\"STATUS\":\"in_progress\",\"fileid\":\"f\"}", &s, &err), 0);
        ck_assert_str_eq(s.status, "in_progress");
        ck_assert_str_eq(s.file_id, "f");
        ck_assert_int_eq(judge_status_class(s.status), STATUS_RUNNING);
        export_status_free(&s);
        ck_assert_int_eq(parse_export("{\"id\":\"x\"}", &s, &err), -EPROTO);
        ck_assert_str_eq(err, "no \"Status\" in the answer");
        free(err);
}
END_TEST

START_TEST(status_words) {
        ck_assert_int_eq(judge_status_class("COMPLETED"), STATUS_COMPLETED);
        ck_assert_int_eq(judge_status_class("completed"), STATUS_COMPLETED);
        ck_assert_int_eq(judge_status_class("FAILED"), STATUS_FAILED);
        ck_assert_int_eq(judge_status_class("Error"), STATUS_FAILED);
        ck_assert_int_eq(judge_status_class("CANCELLED"), STATUS_FAILED);
        ck_assert_int_eq(judge_status_class("canceled"), STATUS_FAILED);
        ck_assert_int_eq(judge_status_class("ABORTED"), STATUS_FAILED);
        ck_assert_int_eq(judge_status_class("IN_PROGRESS"), STATUS_RUNNING);
        ck_assert_int_eq(judge_status_class("REINDEXING"), STATUS_RUNNING);
        ck_assert_int_eq(judge_status_class(NULL), STATUS_RUNNING);
}
END_TEST

START_TEST(import_status_full) {
        const char *body =
                "{ \"TimeToLive\": 9946986, \"StudioLocked\": true, \"SystemLocked\": false,"
                " \"id\": \"66fa\", \"FileId\": \"c7e8\", \"Status\": \"COMPLETED\", \"DryRun\": true,"
                " \"Results\": [ { \"PackageName\": \"metadata\","
                "   \"Statistics\": {\"Modified\": 300, \"Removed\": 1, \"Failed\": 2, \"Skipped\": 3},"
                "   \"Errors\": [\"bad field\", {\"Message\": \"obj msg\"}, {\"x\": 1}], \"Warnings\": [\"careful\"] },"
                "   { \"PackageName\": \"workflow\", \"Errors\": [], \"Warnings\": [] } ],"
                " \"Totals\": {\"Added\": 5, \"Modified\": 326, \"Removed\": 1, \"Failed\": 2, \"Skipped\": 3} }";
        struct import_status s;
        char *err = NULL;
        ck_assert_int_eq(parse_import(body, &s, &err), 0);
        ck_assert(s.dry_run);
        ck_assert(s.studio_locked);
        ck_assert(!s.system_locked);
        ck_assert_uint_eq(s.n_results, 2);
        ck_assert_str_eq(s.results[0].package, "metadata");
        ck_assert_int_eq(s.results[0].modified, 300);
        ck_assert_int_eq(s.results[0].skipped, 3);
        ck_assert_uint_eq(s.results[0].n_errors, 3);
        ck_assert_str_eq(s.results[0].errors[0], "bad field");
        ck_assert_str_eq(s.results[0].errors[1], "obj msg");
        ck_assert_str_eq(s.results[0].errors[2], "(an entry without a message)");
        ck_assert_uint_eq(import_status_n_errors(&s), 3);
        ck_assert_uint_eq(import_status_n_warnings(&s), 1);
        ck_assert(s.has_totals);
        ck_assert_int_eq(s.totals.added, 5);
        ck_assert_int_eq(s.totals.failed, 2);
        import_status_free(&s);
}
END_TEST

START_TEST(login_answers) {
        char *k = NULL, *err = NULL;
        ck_assert_int_eq(parse_login("abc123\n", &k, &err), 0);
        ck_assert_str_eq(k, "abc123");
        free(k); k = NULL;
        ck_assert_int_eq(parse_login("\"quoted\"", &k, &err), 0);
        ck_assert_str_eq(k, "quoted");
        free(k); k = NULL;
        ck_assert_int_eq(parse_login("{\"SessionKey\":\"sk\"}", &k, &err), 0);
        ck_assert_str_eq(k, "sk");
        free(k); k = NULL;
        ck_assert_int_eq(parse_login("{\"nothing\":1}", &k, &err), -EPROTO);
        free(err); err = NULL;
        ck_assert_int_eq(parse_login("   ", &k, &err), -EPROTO);
        free(err); err = NULL;
        /* a key that would carry a header of the server's into our requests */
        ck_assert_int_eq(parse_login("{\"SessionKey\":\"sk\\r\\nX-Evil: 1\"}", &k, &err), -EPROTO);
        ck_assert_ptr_null(k);
        ck_assert_ptr_nonnull(strstr(err, "cannot carry"));
        ck_assert_ptr_null(strstr(err, "X-Evil"));     /* the key is a secret: never echoed */
        free(err); err = NULL;
        ck_assert_int_eq(parse_login("\"sk\\u0007\"", &k, &err), -EPROTO);
        free(err);
}
END_TEST

START_TEST(urls) {
        char *u;
        u = api_url_export("https://x.net", "123", "54321");
        ck_assert_str_eq(u, "https://x.net/rest/123/dev2prod/export/types/54321");
        free(u);
        u = api_url_download("https://x.net", "123", "c7e8-9");
        ck_assert_str_eq(u, "https://x.net/rest/123/ces/attachment/c7e8-9");
        free(u);
        u = api_url_upload("https://x.net", "123");
        ck_assert_str_eq(u, "https://x.net/rest/123/ces/attachment");
        free(u);
        u = api_url_import("https://x.net", "9", true);
        ck_assert_str_eq(u, "https://x.net/rest/9/dev2prod/import?dryRun=true");
        free(u);
        u = api_url_import("https://x.net", "9", false);
        ck_assert_str_eq(u, "https://x.net/rest/9/dev2prod/import");
        free(u);
        /* an id from the server cannot escape its path segment */
        u = api_url_import_status("https://x.net", "9", "../../x?y");
        ck_assert_str_eq(u, "https://x.net/rest/9/dev2prod/import/..%2F..%2Fx%3Fy");
        free(u);
        u = api_body_import("f\"1");
        ck_assert_str_eq(u, "{\"FileId\":\"f\\\"1\"}");
        free(u);
}
END_TEST

START_TEST(error_text) {
        char *t = api_error_text("{\"message\":\"file not found\"}");
        ck_assert_str_eq(t, "file not found");
        free(t);
        t = api_error_text("<html>\nline2");
        ck_assert_str_eq(t, "<html>");
        free(t);
        t = api_error_text("");
        ck_assert_str_eq(t, "(empty body)");
        free(t);
}
END_TEST

/* Every file of the shared JSON test suite through every decoder: no
 * crash, and either a result or -EPROTO with a message. */
START_TEST(json_test_suite) {
        const char *dir = getenv("JSON_SUITE") ? getenv("JSON_SUITE") : "../shared/json-test-suite/test_parsing";
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;
        if (!d) {
                printf("skip json_test_suite: %s not found\n", dir);
                return;
        }
        while ((de = readdir(d))) {
                char path[4096], *text = NULL, *id = NULL, *err = NULL;
                FILE *f;
                long len;
                struct export_status es;
                struct import_status is;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                f = fopen(path, "rb");
                if (!f)
                        continue;
                fseek(f, 0, SEEK_END);
                len = ftell(f);
                rewind(f);
                text = calloc(1, (size_t) len + 1);
                ck_assert_uint_eq(fread(text, 1, (size_t) len, f), (size_t) len);
                fclose(f);
                int r = api_parse_id(text, (size_t) len, &id, &err);
                ck_assert(r == 0 || (r == -EPROTO && err));
                free(id); free(err); id = err = NULL;
                r = api_parse_export_status(text, (size_t) len, &es, &err);
                ck_assert(r == 0 || (r == -EPROTO && err));
                if (r == 0) export_status_free(&es);
                free(err); err = NULL;
                r = api_parse_import_status(text, (size_t) len, &is, &err);
                ck_assert(r == 0 || (r == -EPROTO && err));
                if (r == 0) import_status_free(&is);
                free(err); err = NULL;
                /* a file the suite says is not JSON never yields an id */
                if (de->d_name[0] == 'n' && de->d_name[1] == '_') {
                        ck_assert_msg(api_parse_id(text, (size_t) len, &id, &err) == -EPROTO, "%s accepted", de->d_name);
                        free(err); err = NULL;
                        ck_assert_msg(api_parse_export_status(text, (size_t) len, &es, &err) == -EPROTO,
                                      "%s accepted", de->d_name);
                }
                free(id); free(err);
                free(text);
                n++;
        }
        closedir(d);
        ck_assert_uint_gt(n, 300);
}
END_TEST

int main(void) {
        Suite *s = suite_create("api");
        TCase *tc = tcase_create("decoders");
        tcase_add_test(tc, id_both_casings);
        tcase_add_test(tc, id_errors);
        tcase_add_test(tc, export_status_full);
        tcase_add_test(tc, export_status_keys_any_case);
        tcase_add_test(tc, status_words);
        tcase_add_test(tc, import_status_full);
        tcase_add_test(tc, login_answers);
        tcase_add_test(tc, urls);
        tcase_add_test(tc, error_text);
        tcase_add_test(tc, json_test_suite);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);
        return check_run(s);
}
