/* test_util.c — unit tests of daemon/util.c. */
#include "check_run.h"
#include "util.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEC(n)  ((uint64_t) (n) * USEC_PER_SEC)
#define MSEC(n) ((uint64_t) (n) * USEC_PER_MSEC)

/* ---- temp folder ------------------------------------------------------------ */

static char tmpdir[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
        (void) st; (void) flag; (void) f;
        return remove(p);
}

static void tmp_setup(void) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test_util.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void) {
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_path(const char *name) {
        return xasprintf("%s/%s", tmpdir, name);
}

static size_t count_entries(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;
        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        closedir(d);
        return n;
}

/* ---- parse_duration ------------------------------------------------------- */

START_TEST(duration_good) {
        static const struct { const char *s; uint64_t usec; } t[] = {
                { "500ms",  MSEC(500) },
                { "15s",    SEC(15) },
                { "10m",    SEC(600) },
                { "2h",     SEC(7200) },
                { "1d",     SEC(86400) },
                { "7d",     SEC(7 * 86400) },
                { "1h30m",  SEC(5400) },
                { "1m30s",  SEC(90) },
                { "1s500ms", MSEC(1500) },
                { "1d2h3m4s5ms", SEC(86400 + 7200 + 180 + 4) + MSEC(5) },
                { "0s",     0 },
                { "0ms",    0 },
                { "007s",   SEC(7) },
                { "100ms",  MSEC(100) },
                { "90m",    SEC(5400) },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t u = 12345;
                ck_assert_msg(parse_duration(t[i].s, &u) == 0, "%s refused", t[i].s);
                ck_assert_msg(u == t[i].usec, "%s: got %llu, want %llu", t[i].s,
                              (unsigned long long) u, (unsigned long long) t[i].usec);
        }
}
END_TEST

START_TEST(duration_bad) {
        static const char *const bad[] = {
                "", "15", "0", " 15s", "15s ", "15 s", "1h 30m", "-1s", "+1s", "1x", "s", "ms",
                "1.5s", "15S", "15sec", "1hh", "h1", "1h30", "1\t s", "0x10s", "1e3ms", "15s\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t u = 4242;
                int r = parse_duration(bad[i], &u);
                ck_assert_msg(r == -EINVAL, "'%s': got %d, want -EINVAL", bad[i], r);
                ck_assert_msg(u == 4242, "'%s': output written on failure", bad[i]);
        }
        uint64_t u;
        ck_assert_int_eq(parse_duration(NULL, &u), -EINVAL);
}
END_TEST

START_TEST(duration_overflow) {
        static const char *const big[] = {
                "99999999999999999999s",        /* the number itself */
                "18446744073709551615ms",       /* number * unit */
                "213503983d",                   /* just over UINT64_MAX usec */
                "213503982d213503982d",         /* the sum */
        };
        for (size_t i = 0; i < ELEMENTSOF(big); i++) {
                uint64_t u = 4242;
                int r = parse_duration(big[i], &u);
                ck_assert_msg(r == -ERANGE, "'%s': got %d, want -ERANGE", big[i], r);
                ck_assert(u == 4242);
        }
        /* Largest that fits */
        uint64_t u;
        ck_assert_int_eq(parse_duration("213503982d", &u), 0);
        ck_assert(u == 213503982ULL * 86400ULL * USEC_PER_SEC);
}
END_TEST

/* ---- format_duration ------------------------------------------------------ */

START_TEST(duration_format) {
        static const struct { uint64_t usec; const char *s; } t[] = {
                { 0,                      "0s" },
                { MSEC(500),              "500ms" },
                { SEC(15),                "15s" },
                { SEC(90),                "1m30s" },
                { SEC(600),               "10m" },
                { SEC(7200),              "2h" },
                { SEC(5400),              "1h30m" },
                { SEC(86400),             "1d" },
                { SEC(86400 + 7200),      "1d2h" },
                { MSEC(1500),             "1s500ms" },
                { 1,                      "1us" },
                { MSEC(1) + 5,            "1ms5us" },
        };
        char buf[64];
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ck_assert_str_eq(format_duration(buf, sizeof buf, t[i].usec), t[i].s);

        /* A too small buffer is truncated but stays a string. */
        char small[4];
        format_duration(small, sizeof small, SEC(86400 + 7200 + 60 + 1));
        ck_assert_uint_lt(strlen(small), sizeof small);
        ck_assert_str_eq(small, "1d");    /* whole components only */
}
END_TEST

START_TEST(duration_roundtrip) {
        static const uint64_t v[] = { MSEC(100), SEC(1), SEC(59), SEC(61), SEC(3599), SEC(3601),
                                      SEC(86399) + MSEC(999), SEC(7 * 86400), MSEC(123456789) };
        char buf[64];
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                uint64_t u = 0;
                format_duration(buf, sizeof buf, v[i]);
                ck_assert_msg(parse_duration(buf, &u) == 0, "'%s' does not parse", buf);
                ck_assert_msg(u == v[i], "'%s' round trip", buf);
        }
}
END_TEST

/* ---- parse_uint ------------------------------------------------------------ */

START_TEST(uint_good) {
        unsigned long long v;
        ck_assert_int_eq(parse_uint("0", 10, &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(parse_uint("42", 100, &v), 0);
        ck_assert_uint_eq(v, 42);
        ck_assert_int_eq(parse_uint("007", 100, &v), 0);
        ck_assert_uint_eq(v, 7);
        ck_assert_int_eq(parse_uint("100", 100, &v), 0);    /* max itself is fine */
        ck_assert_uint_eq(v, 100);
        ck_assert_int_eq(parse_uint("18446744073709551615", ULLONG_MAX, &v), 0);
        ck_assert(v == ULLONG_MAX);
}
END_TEST

START_TEST(uint_bad) {
        static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0", "1e3", "１", "-0" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                unsigned long long v = 77;
                int r = parse_uint(bad[i], 1000, &v);
                ck_assert_msg(r == -EINVAL, "'%s': got %d, want -EINVAL", bad[i], r);
                ck_assert_uint_eq(v, 77);
        }
        unsigned long long v = 77;
        ck_assert_int_eq(parse_uint(NULL, 10, &v), -EINVAL);
        ck_assert_int_eq(parse_uint("101", 100, &v), -ERANGE);
        ck_assert_int_eq(parse_uint("18446744073709551616", ULLONG_MAX, &v), -ERANGE);
        ck_assert_int_eq(parse_uint("99999999999999999999999", 5, &v), -ERANGE);
        ck_assert_int_eq(parse_uint("99999999999999999999999x", 5, &v), -EINVAL);
        ck_assert_uint_eq(v, 77);
}
END_TEST

/* ---- write_file_atomic ---------------------------------------------------- */

START_TEST(atomic_write_content_mode) {
        _cleanup_free_ char *p = tmp_path("state.json");
        static const char text[] = "{\"a\": 1}\n";
        char *got = NULL;
        size_t len = 0;
        struct stat st;

        mode_t old = umask(0);  /* the 0640 must not depend on the umask */
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text)), 0);
        umask(old);

        ck_assert_int_eq(read_file_small(p, 1024, &got, &len), 0);
        ck_assert_uint_eq(len, strlen(text));
        ck_assert_str_eq(got, text);
        free(got);

        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 07777, 0640);  /* owner and the service's group */
        ck_assert_uint_eq(count_entries(tmpdir, ".#"), 0);
        ck_assert_uint_eq(count_entries(tmpdir, ""), 3);    /* ".", "..", state.json */
}
END_TEST

START_TEST(atomic_write_replaces) {
        _cleanup_free_ char *p = tmp_path("f");
        char *got = NULL;
        struct stat st, st2;
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs("old content that is longer than the new one\n", f);
        fclose(f);
        ck_assert_int_eq(chmod(p, 0644), 0);
        ck_assert_int_eq(stat(p, &st), 0);

        ck_assert_int_eq(write_file_atomic(p, "new", 3), 0);
        ck_assert_int_eq(read_file_small(p, 1024, &got, NULL), 0);
        ck_assert_str_eq(got, "new");
        free(got);
        ck_assert_int_eq(stat(p, &st2), 0);
        ck_assert_uint_eq(st2.st_mode & 07777, 0640);
        ck_assert(st.st_ino != st2.st_ino);     /* renamed over, not rewritten */

        /* Empty content */
        ck_assert_int_eq(write_file_atomic(p, "", 0), 0);
        ck_assert_int_eq(stat(p, &st2), 0);
        ck_assert_int_eq(st2.st_size, 0);
        ck_assert_uint_eq(count_entries(tmpdir, ".#"), 0);
}
END_TEST

START_TEST(atomic_write_relative) {
        char cwd[4096];
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
        ck_assert_int_eq(chdir(tmpdir), 0);
        int r = write_file_atomic("rel.txt", "x", 1);
        ck_assert_int_eq(chdir(cwd), 0);
        ck_assert_int_eq(r, 0);
        _cleanup_free_ char *p = tmp_path("rel.txt");
        ck_assert_int_eq(access(p, F_OK), 0);
        ck_assert_uint_eq(count_entries(tmpdir, ".#"), 0);
}
END_TEST

START_TEST(atomic_write_missing_folder) {
        _cleanup_free_ char *p = tmp_path("no/such/folder/f");
        ck_assert_int_eq(write_file_atomic(p, "x", 1), -ENOENT);
        ck_assert_uint_eq(count_entries(tmpdir, ".#"), 0);
}
END_TEST

START_TEST(duration_spans) {
        static const struct { uint64_t usec; const char *span, *exact; } cases[] = {
                { 133 * USEC_PER_SEC, "2min 13s", "2m13s" },
                { (4 * 3600 + 12 * 60 + 7) * USEC_PER_SEC, "4h 12min", "4h12m7s" },
                { (27 * 3600) * USEC_PER_SEC, "1d 3h", "1d3h" },
                { 350 * USEC_PER_MSEC, "350ms", "350ms" },
                { 1500 * USEC_PER_MSEC, "1s", "1s500ms" },
                { (3600 + 30) * USEC_PER_SEC, "1h", "1h30s" },
                { 0, "0s", "0s" },
                { 5, "0s", "5us" },
        };
        char b[64];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                ck_assert_str_eq(format_duration_style(b, sizeof b, cases[i].usec, DURATION_SPAN), cases[i].span);
                ck_assert_str_eq(format_duration(b, sizeof b, cases[i].usec), cases[i].exact);
        }
}
END_TEST

START_TEST(text_clean_cases) {
        static const struct { const char *in; size_t max; const char *out; } cases[] = {
                { "plain", 100, "plain" },
                { "line\none\r\ttab", 100, "line one  tab" },
                { "esc \x1b[31mred", 100, "esc  [31mred" },
                { "csi \xc2\x9b" "31m", 100, "csi  31m" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 100, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
                { "bad \xff!", 100, "bad \xef\xbf\xbd!" },
                { "overlong \xc0\xaf", 100, "overlong \xef\xbf\xbd\xef\xbf\xbd" },
                { "surrogate \xed\xa0\x80", 100, "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
                { "cut \xe2\x82", 100, "cut \xef\xbf\xbd\xef\xbf\xbd" },
                { "ab\xe2\x82\xac", 4, "ab" },           /* never half a character */
                { "abcdef", 3, "abc" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *o = text_clean(cases[i].in, strlen(cases[i].in), cases[i].max);
                ck_assert_msg(strcmp(o, cases[i].out) == 0, "case %zu: got '%s'", i, o);
                free(o);
        }
        ck_assert_ptr_null(text_clean_str(NULL, 10));
}
END_TEST

START_TEST(atomic_write_failure_cleans_up) {
        /* Target is a non-empty folder: the rename fails after the temp file
         * was written; the temp file must be gone. */
        _cleanup_free_ char *d = tmp_path("target");
        _cleanup_free_ char *inner = tmp_path("target/x");
        ck_assert_int_eq(mkdir(d, 0700), 0);
        FILE *f = fopen(inner, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        int r = write_file_atomic(d, "data", 4);
        ck_assert_msg(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST, "got %d", r);
        ck_assert_uint_eq(count_entries(tmpdir, ".#"), 0);
}
END_TEST

/* ---- read_file_small, mkdir_p --------------------------------------------- */

START_TEST(read_small) {
        _cleanup_free_ char *p = tmp_path("r");
        _cleanup_free_ char *missing = tmp_path("missing");
        char *got = (char *) "untouched";
        size_t len = 0;
        ck_assert_int_eq(write_file_atomic(p, "0123456789", 10), 0);
        ck_assert_int_eq(read_file_small(p, 10, &got, &len), 0);
        ck_assert_uint_eq(len, 10);
        ck_assert_str_eq(got, "0123456789");
        free(got);
        got = (char *) "untouched";
        ck_assert_int_eq(read_file_small(p, 9, &got, &len), -EFBIG);
        ck_assert_str_eq(got, "untouched");
        ck_assert_int_eq(read_file_small(missing, 9, &got, &len), -ENOENT);
        ck_assert_int_eq(read_file_small(tmpdir, 9, &got, &len), -EISDIR);
}
END_TEST

START_TEST(mkdir_p_works) {
        _cleanup_free_ char *p = tmp_path("a/b//c/");
        _cleanup_free_ char *c = tmp_path("a/b/c");
        _cleanup_free_ char *file = tmp_path("a/file");
        _cleanup_free_ char *under = tmp_path("a/file/x");
        _cleanup_free_ char *g = tmp_path("g/h");
        struct stat st;
        mode_t old;
        ck_assert_int_eq(mkdir_p(p, 0700), 0);
        ck_assert_int_eq(stat(c, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        ck_assert_int_eq(mkdir_p(p, 0700), 0);          /* exists: fine */
        old = umask(0077);      /* UMask=0077 of the unit: the mode is still 0750 */
        ck_assert_int_eq(mkdir_p(g, 0750), 0);
        umask(old);
        ck_assert_int_eq(stat(g, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0750);
        ck_assert_int_eq(mkdir_p("/", 0700), 0);
        ck_assert_int_eq(write_file_atomic(file, "", 0), 0);
        ck_assert_int_eq(mkdir_p(file, 0700), -ENOTDIR);
        ck_assert_int_eq(mkdir_p(under, 0700), -ENOTDIR);
}
END_TEST

/* ---- small things --------------------------------------------------------- */

START_TEST(misc) {
        char buf[64];
        ck_assert_str_eq(format_timestamp_utc(buf, sizeof buf, 0), "1970-01-01T00:00:00Z");
        ck_assert_str_eq(format_timestamp_utc(buf, sizeof buf, 1795833000ULL * USEC_PER_SEC + 999999),
                         "2026-11-28T02:30:00Z");

        uint8_t bytes[] = { 0x00, 0x01, 0xab, 0xff, 0x10 };
        char hex[2 * sizeof bytes + 1];
        hex_encode(bytes, sizeof bytes, hex);
        ck_assert_str_eq(hex, "0001abff10");
        hex_encode(bytes, 0, hex);
        ck_assert_str_eq(hex, "");

        struct buf b = {};
        buf_append(&b, "", 0);
        ck_assert_ptr_nonnull(b.data);
        ck_assert_str_eq(b.data, "");
        for (int i = 0; i < 1000; i++)
                buf_append(&b, "abc", 3);
        ck_assert_uint_eq(b.len, 3000);
        ck_assert_uint_eq(strlen(b.data), 3000);
        buf_reset(&b);
        ck_assert_uint_eq(b.len, 0);
        ck_assert_str_eq(b.data, "");
        buf_free(&b);
        ck_assert_ptr_null(b.data);

        _cleanup_free_ char *s = xasprintf("%s-%d", "x", 42);
        ck_assert_str_eq(s, "x-42");
        ck_assert_ptr_null(xstrdup(NULL));
        _cleanup_free_ char *n = xstrndup("abcdef", 3);
        ck_assert_str_eq(n, "abc");

        secret_free(xstrdup("hunter2"));
        secret_free(NULL);

        uint64_t a = now_realtime_usec(), m1 = now_monotonic_usec(), m2 = now_monotonic_usec();
        ck_assert(a > 1700000000ULL * USEC_PER_SEC);
        ck_assert(m2 >= m1);

        int fd = -1;
        closep(&fd);    /* no-op */
}
END_TEST

static Suite *util_suite(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, duration_good);
        tcase_add_test(tc, duration_bad);
        tcase_add_test(tc, duration_overflow);
        tcase_add_test(tc, duration_format);
        tcase_add_test(tc, duration_roundtrip);
        tcase_add_test(tc, uint_good);
        tcase_add_test(tc, uint_bad);
        tcase_add_test(tc, misc);
        suite_add_tcase(s, tc);

        tc = tcase_create("files");
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_add_test(tc, atomic_write_content_mode);
        tcase_add_test(tc, atomic_write_replaces);
        tcase_add_test(tc, atomic_write_relative);
        tcase_add_test(tc, atomic_write_missing_folder);
        tcase_add_test(tc, atomic_write_failure_cleans_up);
        tcase_add_test(tc, read_small);
        tcase_add_test(tc, text_clean_cases);
        tcase_add_test(tc, duration_spans);
        tcase_add_test(tc, mkdir_p_works);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run(util_suite());
}
