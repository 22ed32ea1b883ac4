/* test_log.c — unit tests of daemon/log.c: the escaping of every log line
 * (log_escape), the redaction rule of libcurl's debug lines
 * (log_redact_curl_line), and log_full's stderr line. */
#include "check_run.h"
#include "log.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* log_escape into a roomy buffer */
static const char *esc(const char *in) {
        static char out[4096];
        size_t n = log_escape(out, sizeof out, in);
        ck_assert_uint_eq(n, strlen(out));
        return out;
}

#define ESC_EQ(in, want) ck_assert_str_eq(esc(in), (want))

/* An independent UTF-8 check, written as a decoder (code point, then the
 * shortest length for it, then the ranges): true when s is valid UTF-8 and
 * holds no C0, DEL or C1 control. */
static bool printable_utf8(const char *str) {
        const unsigned char *s = (const unsigned char *) str;
        while (*s) {
                unsigned cp, len, i;
                if (*s < 0x80) {
                        if (*s < 0x20 || *s == 0x7f)
                                return false;
                        s++;
                        continue;
                }
                if ((*s & 0xe0) == 0xc0) { cp = *s & 0x1f; len = 2; }
                else if ((*s & 0xf0) == 0xe0) { cp = *s & 0x0f; len = 3; }
                else if ((*s & 0xf8) == 0xf0) { cp = *s & 0x07; len = 4; }
                else return false;
                for (i = 1; i < len; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i] & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
                        return false;           /* overlong */
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                if (cp >= 0x80 && cp <= 0x9f)
                        return false;           /* C1 */
                s += len;
        }
        return true;
}

static int hexval(char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

/* The inverse of log_escape for a text that held no backslash. */
static size_t unescape(const char *s, char *out) {
        size_t o = 0;
        while (*s) {
                if (*s != '\\') {
                        out[o++] = *s++;
                        continue;
                }
                switch (s[1]) {
                case 'n': out[o++] = '\n'; s += 2; break;
                case 't': out[o++] = '\t'; s += 2; break;
                case 'r': out[o++] = '\r'; s += 2; break;
                case 'x': out[o++] = (char) (hexval(s[2]) * 16 + hexval(s[3])); s += 4; break;
                case 'u':
                        ck_assert(s[2] == '0' && s[3] == '0');
                        out[o++] = (char) 0xc2;
                        out[o++] = (char) (hexval(s[4]) * 16 + hexval(s[5]));
                        s += 6;
                        break;
                default: ck_abort_msg("stray backslash in %s", s);
                }
        }
        out[o] = 0;
        return o;
}

/* ---- log_escape: controls -------------------------------------------------- */

START_TEST(escape_plain) {
        ESC_EQ("", "");
        ESC_EQ("export of package 54321 requested", "export of package 54321 requested");
        ESC_EQ("~!@#$%^&*()_+{}|:\"<>?`-=[];',./", "~!@#$%^&*()_+{}|:\"<>?`-=[];',./");
        ESC_EQ("C:\\path\\n", "C:\\path\\n");   /* a backslash is copied as it is */
}
END_TEST

START_TEST(escape_line_ends) {
        ESC_EQ("a\nb", "a\\nb");
        ESC_EQ("a\r\nb", "a\\r\\nb");
        ESC_EQ("\n", "\\n");
        ESC_EQ("tab\there", "tab\\there");
        ESC_EQ("HTTP 500: oops\ndev2prodd: job succeeded", "HTTP 500: oops\\ndev2prodd: job succeeded");
}
END_TEST

START_TEST(escape_terminal) {
        ESC_EQ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
        ESC_EQ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07");
        ESC_EQ("\x01\x08\x0b\x0c\x1f", "\\x01\\x08\\x0b\\x0c\\x1f");
        ESC_EQ("del\x7f", "del\\x7f");
        /* C1 controls: U+0080, U+009B (CSI), U+009F; U+00A0 is not one */
        ESC_EQ("\xc2\x80", "\\u0080");
        ESC_EQ("\xc2\x9b" "31m", "\\u009b31m");
        ESC_EQ("\xc2\x9f", "\\u009f");
        ESC_EQ("\xc2\xa0", "\xc2\xa0");
}
END_TEST

/* ---- log_escape: invalid UTF-8 ---------------------------------------------- */

START_TEST(escape_invalid) {
        ESC_EQ("\xff", "\\xff");
        ESC_EQ("\xfe\xff", "\\xfe\\xff");
        ESC_EQ("a\x80z", "a\\x80z");                     /* lone continuation byte */
        ESC_EQ("\xbf\xbf", "\\xbf\\xbf");
        ESC_EQ("\xc0\xaf", "\\xc0\\xaf");                 /* overlong '/' */
        ESC_EQ("\xc1\xbf", "\\xc1\\xbf");
        ESC_EQ("\xe0\x80\xaf", "\\xe0\\x80\\xaf");        /* overlong, 3 bytes */
        ESC_EQ("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");        /* U+07FF in 3 bytes */
        ESC_EQ("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"); /* overlong, 4 bytes */
        ESC_EQ("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf"); /* U+FFFF in 4 bytes */
        ESC_EQ("\xed\xa0\x80", "\\xed\\xa0\\x80");        /* surrogate U+D800 */
        ESC_EQ("\xed\xbf\xbf", "\\xed\\xbf\\xbf");        /* surrogate U+DFFF */
        ESC_EQ("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* U+110000 */
        ESC_EQ("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
        ESC_EQ("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80");
        ESC_EQ("\xf0\x9f\x98", "\\xf0\\x9f\\x98");        /* 4-byte sequence cut at the end */
        ESC_EQ("x\xe2\x82", "x\\xe2\\x82");               /* 3-byte sequence cut at the end */
        ESC_EQ("\xe2\x82z\xc3", "\\xe2\\x82z\\xc3");      /* cut short by an ASCII byte */
        ESC_EQ("\xc3\xc3\xa9", "\\xc3\xc3\xa9");          /* a bad lead, then a good é */
        ESC_EQ("\xf0\x9f\x98\xf0\x9f\x98\x80", "\\xf0\\x9f\\x98\xf0\x9f\x98\x80");
}
END_TEST

/* ---- log_escape: valid UTF-8 ------------------------------------------------ */

START_TEST(escape_valid_utf8) {
        ESC_EQ("caf\xc3\xa9", "caf\xc3\xa9");                     /* é */
        ESC_EQ("5 \xe2\x82\xac", "5 \xe2\x82\xac");               /* € */
        ESC_EQ("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!");         /* 😀 */
        ESC_EQ("Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac", "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac");
        /* the edges of each range */
        ESC_EQ("\xc2\xa0\xdf\xbf", "\xc2\xa0\xdf\xbf");           /* U+00A0 U+07FF */
        ESC_EQ("\xe0\xa0\x80\xed\x9f\xbf", "\xe0\xa0\x80\xed\x9f\xbf"); /* U+0800 U+D7FF */
        ESC_EQ("\xee\x80\x80\xef\xbf\xbf", "\xee\x80\x80\xef\xbf\xbf"); /* U+E000 U+FFFF */
        ESC_EQ("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"); /* U+10000 U+10FFFF */
        ESC_EQ("\xe2\x80\xa8", "\xe2\x80\xa8");   /* U+2028: no line end for the journal or a terminal */
}
END_TEST

/* ---- log_escape: cut at the buffer's end ------------------------------------ */

START_TEST(escape_truncation) {
        char out[16];

        memset(out, 'X', sizeof out);
        ck_assert_uint_eq(log_escape(out, 0, "abc"), 0);
        ck_assert_int_eq(out[0], 'X');                  /* nothing written */
        ck_assert_uint_eq(log_escape(out, 1, "abc"), 0);
        ck_assert_str_eq(out, "");
        ck_assert_uint_eq(log_escape(out, 3, "abc"), 2);
        ck_assert_str_eq(out, "ab");
        ck_assert_uint_eq(log_escape(out, 4, "abc"), 3);
        ck_assert_str_eq(out, "abc");

        /* "ab€": the € (3 bytes) goes in whole or not at all */
        for (size_t len = 3; len <= 5; len++) {
                ck_assert_uint_eq(log_escape(out, len, "ab\xe2\x82\xac"), 2);
                ck_assert_str_eq(out, "ab");
        }
        ck_assert_uint_eq(log_escape(out, 6, "ab\xe2\x82\xac"), 5);
        ck_assert_str_eq(out, "ab\xe2\x82\xac");

        /* 😀 (4 bytes) */
        ck_assert_uint_eq(log_escape(out, 4, "\xf0\x9f\x98\x80"), 0);
        ck_assert_uint_eq(log_escape(out, 5, "\xf0\x9f\x98\x80"), 4);
        ck_assert_uint_eq(log_escape(out, 6, "a\xf0\x9f\x98\x80"), 5);
        ck_assert_str_eq(out, "a\xf0\x9f\x98\x80");
        ck_assert_uint_eq(log_escape(out, 5, "a\xf0\x9f\x98\x80"), 1);
        ck_assert_str_eq(out, "a");

        /* an escape is never cut either */
        ck_assert_uint_eq(log_escape(out, 3, "a\n"), 1);
        ck_assert_str_eq(out, "a");
        ck_assert_uint_eq(log_escape(out, 4, "a\n"), 3);
        ck_assert_str_eq(out, "a\\n");
        ck_assert_uint_eq(log_escape(out, 5, "a\x1b"), 1);
        ck_assert_str_eq(out, "a");
        ck_assert_uint_eq(log_escape(out, 6, "a\x1b"), 5);
        ck_assert_str_eq(out, "a\\x1b");
        ck_assert_uint_eq(log_escape(out, 7, "a\xc2\x9b"), 1);
        ck_assert_str_eq(out, "a");
        ck_assert_uint_eq(log_escape(out, 8, "a\xc2\x9b"), 7);
        ck_assert_str_eq(out, "a\\u009b");
}
END_TEST

/* Random bytes (no NUL, no backslash): the escape is printable UTF-8 on one
 * line, turns back into the input, and every shorter buffer holds the
 * escape of a prefix of the input, cut between two pieces. */
START_TEST(escape_random) {
        static const unsigned char pool[] = { 'a', ' ', '\n', '\r', '\t', 0x1b, 0x7f, 0x01, 0x80, 0x9b, 0xa9,
                                              0xbf, 0xc0, 0xc2, 0xc3, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0,
                                              0x9f, 0x98, 0xf4, 0x90, 0xff };
        unsigned seed = 12345;

        for (int round = 0; round < 5000; round++) {
                char in[24], full[128], back[64], cut[128], pre[24], pre_esc[128];
                size_t n = (size_t) (rand_r(&seed) % (sizeof in - 1));
                for (size_t i = 0; i < n; i++)
                        in[i] = (char) (rand_r(&seed) % 3 == 0 ? 0x20 + rand_r(&seed) % 0x5c
                                                                : pool[rand_r(&seed) % sizeof pool]);
                in[n] = 0;
                for (size_t i = 0; i < n; i++)
                        if (in[i] == '\\')
                                in[i] = '/';

                size_t fl = log_escape(full, sizeof full, in);
                ck_assert_uint_eq(fl, strlen(full));
                ck_assert_msg(printable_utf8(full), "round %d: not printable UTF-8", round);
                ck_assert_uint_eq(unescape(full, back), n);
                ck_assert_mem_eq(back, in, n);

                for (size_t len = 1; len <= fl + 1; len++) {
                        size_t cl = log_escape(cut, len, in);
                        ck_assert_uint_lt(cl, len);
                        ck_assert_uint_eq(cl, strlen(cut));
                        ck_assert(printable_utf8(cut));
                        ck_assert_mem_eq(cut, full, cl);
                        if (len > fl)
                                ck_assert_str_eq(cut, full);
                        /* cl is where the escape of some prefix of in ends */
                        bool found = false;
                        for (size_t k = 0; k <= n && !found; k++) {
                                memcpy(pre, in, k);
                                pre[k] = 0;
                                found = log_escape(pre_esc, sizeof pre_esc, pre) == cl && memcmp(pre_esc, cut, cl) == 0;
                        }
                        ck_assert_msg(found, "round %d, len %zu: cut inside a piece", round, len);
                }
        }
}
END_TEST

/* ---- log_redact_curl_line ---------------------------------------------------- */

static const char *redact(const char *line) { return log_redact_curl_line(line, strlen(line)); }

#define AUTH_FIXED "(a line naming the Authorization header, redacted)"
#define COOKIE_FIXED "(a line naming a cookie, redacted)"

START_TEST(redact_formats) {
        /* HTTP/1 header dump (CURLINFO_HEADER_OUT), any case */
        ck_assert_str_eq(redact("Authorization: rest_api_key=s3cret"), "Authorization: (redacted)");
        ck_assert_str_eq(redact("authorization: Bearer s3cret"), "Authorization: (redacted)");
        ck_assert_str_eq(redact("AUTHORIZATION:s3cret"), "Authorization: (redacted)");
        /* HTTP/2 text lines (CURLINFO_TEXT): libcurl 7.88 and 8.x */
        ck_assert_str_eq(redact("h2h3 [authorization: rest_api_key=s3cret]"), AUTH_FIXED);
        ck_assert_str_eq(redact("h2h3 [authorization: s3cret]"), AUTH_FIXED);
        ck_assert_str_eq(redact("[HTTP/2] [1] [authorization: Bearer s3cret]"), AUTH_FIXED);
        ck_assert_str_eq(redact("[HTTP/3] [0] [authorization: s3cret]"), AUTH_FIXED);
        /* anything else that names it */
        ck_assert_str_eq(redact("Proxy-Authorization: Basic czNjcmV0"), AUTH_FIXED);
        ck_assert_str_eq(redact(" Authorization: s3cret"), AUTH_FIXED);
        ck_assert_str_eq(redact("X-Echo: rest_api_key=s3cret"), AUTH_FIXED);
        ck_assert_str_eq(redact("X-Echo: REST_API_KEY=s3cret"), AUTH_FIXED);
        ck_assert_str_eq(redact("X-Echo: Bearer s3cret"), AUTH_FIXED);
        ck_assert_str_eq(redact("x bearer s3cret"), AUTH_FIXED);
        ck_assert_str_eq(redact("WWW-Authenticate: Bearer realm=\"x\""), AUTH_FIXED);
        /* cookies */
        ck_assert_str_eq(redact("Cookie: JSESSIONID=s3cret"), "Cookie: (redacted)");
        ck_assert_str_eq(redact("set-cookie: JSESSIONID=s3cret; Path=/"), "Set-Cookie: (redacted)");
        ck_assert_str_eq(redact("h2h3 [cookie: JSESSIONID=s3cret]"), COOKIE_FIXED);
        ck_assert_str_eq(redact("[HTTP/2] [1] [cookie: a=s3cret]"), COOKIE_FIXED);
        ck_assert_str_eq(redact("Added cookie JSESSIONID=\"s3cret\" for domain x"), COOKIE_FIXED);
}
END_TEST

START_TEST(redact_bytes) {
        /* judged on all n bytes: a NUL does not end the line early */
        static const char nul[] = "h2h3 [x\0authorization: s3cret]";
        ck_assert_str_eq(log_redact_curl_line(nul, sizeof nul - 1), AUTH_FIXED);
        /* and not beyond them */
        static const char tail[] = "Host: x\nAuthorization: s3cret";
        ck_assert_ptr_null(log_redact_curl_line(tail, 7));
        ck_assert_ptr_nonnull(log_redact_curl_line(tail, sizeof tail - 1));
        ck_assert_ptr_null(log_redact_curl_line("Auth", 4));
        ck_assert_ptr_null(log_redact_curl_line("", 0));
        /* the word at the very end */
        ck_assert_str_eq(redact("x authorization"), AUTH_FIXED);
}
END_TEST

START_TEST(redact_ordinary) {
        static const char *const keep[] = {
                "GET /rest/111/dev2prod/export/e1 HTTP/2", "Host: 127.0.0.1:8443", "user-agent: dev2prodd/0.1",
                "accept: application/json", "h2h3 [:method: POST]", "h2h3 [:path: /rest/111/dev2prod/import]",
                "[HTTP/2] [1] [content-type: application/json]", "using HTTP/2", "ALPN: server accepted h2",
                "HTTP/2 404 ", "content-length: 148", "Connection #0 to host 127.0.0.1 left intact",
                " subject: CN=localhost", "Authenticate me", "bearer", "Bearers",
        };
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
                ck_assert_msg(redact(keep[i]) == NULL, "\"%s\" was redacted", keep[i]);
}
END_TEST

/* ---- log_full's line on stderr ----------------------------------------------- */

static char *capture_path;
static int saved_stderr = -1;

static void capture_start(void) {
        char tmpl[] = "/tmp/test_log.XXXXXX";
        int fd = mkstemp(tmpl);
        ck_assert_int_ge(fd, 0);
        capture_path = strdup(tmpl);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
        close(fd);
        unsetenv("JOURNAL_STREAM");
        log_open("test");
        log_set_max_level(LOG_DEBUG);
}

/* Returns what log_full wrote (malloc'ed). */
static char *capture_end(void) {
        char *buf;
        size_t size = 0;
        FILE *f;

        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        f = fopen(capture_path, "r");
        ck_assert_ptr_nonnull(f);
        buf = calloc(1, 65536);
        size = fread(buf, 1, 65535, f);
        buf[size] = 0;
        fclose(f);
        unlink(capture_path);
        free(capture_path);
        return buf;
}

static size_t count_char(const char *s, char c) {
        size_t n = 0;
        for (; *s; s++)
                n += *s == c;
        return n;
}

START_TEST(full_line_escaped) {
        struct log_ctx c = { .job = "nightly-1\n", .step = "export\x1b[2J" };
        capture_start();
        log_full(LOG_WARNING, 0, &c, NULL, "HTTP 500: %s", "oops\ndev2prodd: job succeeded \x1b[31m\xff");
        char *out = capture_end();
        ck_assert_str_eq(out, "test: warning: [nightly-1\\n] export\\x1b[2J: HTTP 500: oops\\ndev2prodd: job "
                              "succeeded \\x1b[31m\\xff\n");
        free(out);
}
END_TEST

START_TEST(full_line_long) {
        /* a message over the 2048 bytes kept, made of €: the cut falls
         * inside one; it must not show as \x escapes, and the line stays one */
        char *big = malloc(3 * 1000 + 2);
        size_t o = 0;
        big[o++] = 'x';
        for (int i = 0; i < 1000; i++) {
                memcpy(big + o, "\xe2\x82\xac", 3);
                o += 3;
        }
        big[o] = 0;
        for (int shift = 0; shift < 3; shift++) {
                capture_start();
                log_info("%s%s", shift == 0 ? "" : shift == 1 ? "y" : "yy", big);
                char *out = capture_end();
                ck_assert_uint_eq(count_char(out, '\n'), 1);
                ck_assert_ptr_null(strstr(out, "\\x"));
                out[strlen(out) - 1] = 0;
                ck_assert(printable_utf8(out));
                ck_assert_uint_ge(strlen(out), 2000);
                free(out);
        }
        free(big);
}
END_TEST

START_TEST(full_line_errno) {
        capture_start();
        log_error_errno(-ENOENT, "cannot open %s", "a\tb");
        char *out = capture_end();
        ck_assert_str_eq(out, "test: error: cannot open a\\tb: No such file or directory\n");
        free(out);
}
END_TEST

static Suite *log_suite(void) {
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("escape");
        tcase_add_test(tc, escape_plain);
        tcase_add_test(tc, escape_line_ends);
        tcase_add_test(tc, escape_terminal);
        tcase_add_test(tc, escape_invalid);
        tcase_add_test(tc, escape_valid_utf8);
        tcase_add_test(tc, escape_truncation);
        tcase_add_test(tc, escape_random);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);

        tc = tcase_create("redact");
        tcase_add_test(tc, redact_formats);
        tcase_add_test(tc, redact_bytes);
        tcase_add_test(tc, redact_ordinary);
        suite_add_tcase(s, tc);

        tc = tcase_create("log_full");
        tcase_add_test(tc, full_line_escaped);
        tcase_add_test(tc, full_line_long);
        tcase_add_test(tc, full_line_errno);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run(log_suite());
}
