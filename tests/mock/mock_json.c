/* mock_json.c — just enough JSON for the mock: a strict validator that
 * pulls string members out of a top-level object (request bodies are tiny
 * and flat), and a string builder for answers. */
#include "mock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ----------------------------------------------------------- */

static bool sb_reserve(struct sbuf *b, size_t more)
{
        if (b->oom)
                return false;
        if (b->len + more + 1 <= b->cap)
                return true;
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + more + 1)
                ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (!p) {
                b->oom = true;
                return false;
        }
        b->p = p;
        b->cap = ncap;
        return true;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        if (!sb_reserve(b, (size_t)n))
                return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

void sb_json_str(struct sbuf *b, const char *s)
{
        sb_printf(b, "\"");
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        sb_printf(b, "\\%c", c);
                else if (c < 0x20)
                        sb_printf(b, "\\u%04x", c);
                else
                        sb_printf(b, "%c", c);
        }
        sb_printf(b, "\"");
}

void sb_free(struct sbuf *b)
{
        free(b->p);
        memset(b, 0, sizeof *b);
}

/* ---- reader ----------------------------------------------------------- */

struct jp {
        const char *s, *end;
        int depth;
};

enum { MAX_DEPTH = 64 };

static void skip_ws(struct jp *p)
{
        while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
                p->s++;
}

static bool eat(struct jp *p, char c)
{
        skip_ws(p);
        if (p->s < p->end && *p->s == c) {
                p->s++;
                return true;
        }
        return false;
}

static int hex4(struct jp *p, unsigned *out)
{
        if (p->end - p->s < 4)
                return -EINVAL;
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char c = *p->s++;
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *out = v;
        return 0;
}

/* Appends one code point as UTF-8 to out (if there is room). */
static void put_utf8(char *out, size_t outlen, size_t *o, bool *too_long, unsigned cp)
{
        char u[4];
        size_t n;
        if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char)(0xC0 | cp >> 6);
                u[1] = (char)(0x80 | (cp & 0x3F));
                n = 2;
        } else if (cp < 0x10000) {
                u[0] = (char)(0xE0 | cp >> 12);
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[2] = (char)(0x80 | (cp & 0x3F));
                n = 3;
        } else {
                u[0] = (char)(0xF0 | cp >> 18);
                u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[3] = (char)(0x80 | (cp & 0x3F));
                n = 4;
        }
        if (!out)
                return;
        if (*o + n >= outlen) {
                *too_long = true;
                return;
        }
        memcpy(out + *o, u, n);
        *o += n;
}

static int parse_escape(struct jp *p, unsigned *cp)
{
        if (p->s >= p->end)
                return -EINVAL;
        char c = *p->s++;
        switch (c) {
        case '"': *cp = '"'; return 0;
        case '\\': *cp = '\\'; return 0;
        case '/': *cp = '/'; return 0;
        case 'b': *cp = '\b'; return 0;
        case 'f': *cp = '\f'; return 0;
        case 'n': *cp = '\n'; return 0;
        case 'r': *cp = '\r'; return 0;
        case 't': *cp = '\t'; return 0;
        case 'u': break;
        default: return -EINVAL;
        }
        if (hex4(p, cp) < 0)
                return -EINVAL;
        if (*cp >= 0xD800 && *cp < 0xDC00) {    /* a surrogate pair */
                unsigned lo;
                if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
                        return -EINVAL;
                p->s += 2;
                if (hex4(p, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return -EINVAL;
                *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
                return -EINVAL;
        }
        /* A NUL would silently cut the C string the caller gets. */
        return *cp == 0 ? -EINVAL : 0;
}

/* Parses a string at p (after skipping space); out may be NULL. */
static int parse_string(struct jp *p, char *out, size_t outlen, bool *too_long)
{
        size_t o = 0;
        bool dummy = false;
        if (!too_long)
                too_long = &dummy;
        if (!eat(p, '"'))
                return -EINVAL;
        while (p->s < p->end) {
                unsigned char c = (unsigned char)*p->s++;
                if (c == '"') {
                        if (out)
                                out[o] = '\0';
                        return 0;
                }
                if (c < 0x20)
                        return -EINVAL;
                unsigned cp = c;
                if (c == '\\') {
                        if (parse_escape(p, &cp) < 0)
                                return -EINVAL;
                        put_utf8(out, outlen, &o, too_long, cp);
                } else if (out) {
                        if (o + 1 >= outlen)
                                *too_long = true;
                        else
                                out[o++] = (char)c;
                }
        }
        return -EINVAL;
}

static bool is_digit(const struct jp *p)
{
        return p->s < p->end && *p->s >= '0' && *p->s <= '9';
}

static int parse_number(struct jp *p)
{
        if (p->s < p->end && *p->s == '-')
                p->s++;
        if (!is_digit(p))
                return -EINVAL;
        if (*p->s == '0')
                p->s++;
        else
                while (is_digit(p))
                        p->s++;
        if (p->s < p->end && *p->s == '.') {
                p->s++;
                if (!is_digit(p))
                        return -EINVAL;
                while (is_digit(p))
                        p->s++;
        }
        if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
                p->s++;
                if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
                        p->s++;
                if (!is_digit(p))
                        return -EINVAL;
                while (is_digit(p))
                        p->s++;
        }
        return 0;
}

static int parse_literal(struct jp *p, const char *word)
{
        size_t n = strlen(word);
        if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
                return -EINVAL;
        p->s += n;
        return 0;
}

static int parse_value(struct jp *p);

static int parse_container(struct jp *p, char close, bool keyed)
{
        if (++p->depth > MAX_DEPTH)
                return -EINVAL;
        p->s++;
        if (eat(p, close)) {
                p->depth--;
                return 0;
        }
        do {
                if (keyed && (parse_string(p, NULL, 0, NULL) < 0 || !eat(p, ':')))
                        return -EINVAL;
                if (parse_value(p) < 0)
                        return -EINVAL;
        } while (eat(p, ','));
        if (!eat(p, close))
                return -EINVAL;
        p->depth--;
        return 0;
}

static int parse_value(struct jp *p)
{
        skip_ws(p);
        if (p->s >= p->end)
                return -EINVAL;
        switch (*p->s) {
        case '{': return parse_container(p, '}', true);
        case '[': return parse_container(p, ']', false);
        case '"': return parse_string(p, NULL, 0, NULL);
        case 't': return parse_literal(p, "true");
        case 'f': return parse_literal(p, "false");
        case 'n': return parse_literal(p, "null");
        default: return parse_number(p);
        }
}

static struct json_want *wanted(struct json_want *want, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(want[i].key, key) == 0)
                        return &want[i];
        return NULL;
}

static int parse_member(struct jp *p, struct json_want *want, size_t nwant)
{
        char key[128];
        bool key_long = false;
        if (parse_string(p, key, sizeof key, &key_long) < 0 || !eat(p, ':'))
                return -EINVAL;
        struct json_want *w = key_long ? NULL : wanted(want, nwant, key);
        skip_ws(p);
        if (!w)
                return parse_value(p);
        w->found = true;
        w->is_string = p->s < p->end && *p->s == '"';
        if (!w->is_string)
                return parse_value(p);
        w->too_long = false;
        return parse_string(p, w->out, w->outlen, &w->too_long);
}

int json_object_strings(const char *text, size_t len, struct json_want *want, size_t nwant)
{
        struct jp p = {.s = text, .end = text + len};
        for (size_t i = 0; i < nwant; i++) {
                want[i].found = want[i].is_string = want[i].too_long = false;
                if (want[i].outlen)
                        want[i].out[0] = '\0';
        }
        if (!eat(&p, '{'))
                return -EINVAL;
        if (!eat(&p, '}')) {
                do {
                        if (parse_member(&p, want, nwant) < 0)
                                return -EINVAL;
                } while (eat(&p, ','));
                if (!eat(&p, '}'))
                        return -EINVAL;
        }
        skip_ws(&p);
        return p.s == p.end ? 0 : -EINVAL;
}
