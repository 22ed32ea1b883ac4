/* json.c — see json.h. */
#include <errno.h>
#include <sys/types.h>
#include <strings.h>

#include "json.h"

static void first_line(char *s) {
        char *nl = strchr(s, '\n');
        if (nl)
                *nl = 0;
}

/* Deepest nesting of objects and arrays accepted.  yajl_tree_free() recurses
 * once per level, so a valid answer of a few hundred thousand '[' (well under
 * JSON_MAX_ANSWER) overflowed the stack; our answers and job files nest at
 * most 5 levels. */
#define JSON_MAX_DEPTH 1000

struct depth {
        unsigned cur;
        bool too_deep;
        bool nul;
};

static int depth_open(void *ctx) {
        struct depth *d = ctx;
        if (++d->cur > JSON_MAX_DEPTH) {
                d->too_deep = true;
                return 0;       /* cancels the parse */
        }
        return 1;
}

static int depth_close(void *ctx) {
        struct depth *d = ctx;
        d->cur--;
        return 1;
}

/* A string holding U+0000 (written \u0000) reaches the tree as a C string
 * cut at that character: "ab\u0000cd" would read as "ab".  Two readers
 * would then disagree on the value, so such a text is not accepted. */
static int string_check(void *ctx, const unsigned char *s, size_t len) {
        struct depth *d = ctx;
        if (memchr(s, 0, len)) {
                d->nul = true;
                return 0;
        }
        return 1;
}

/* The nesting and the strings are tracked; yajl checks the text exactly as
 * with no callbacks at all (UTF-8 included: dont_validate_strings is off). */
static const yajl_callbacks depth_callbacks = {
        .yajl_string = string_check,
        .yajl_start_map = depth_open,
        .yajl_map_key = string_check,
        .yajl_end_map = depth_close,
        .yajl_start_array = depth_open,
        .yajl_end_array = depth_close,
};

static bool is_hex4(const char *p, const char *end, unsigned *ret) {
        unsigned v = 0;
        if (end - p < 4)
                return false;
        for (int i = 0; i < 4; i++) {
                char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9') v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f') v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F') v |= (unsigned) (c - 'A' + 10);
                else return false;
        }
        *ret = v;
        return true;
}

/* What yajl lets through that RFC 8259 does not, and that would make two
 * readers of one answer disagree: a NUL byte, \v and \f as whitespace,
 * UTF-8 that is overlong, a surrogate or past U+10FFFF (yajl checks only
 * the byte pattern), and \u escapes of a lone surrogate (which yajl turns
 * into '?', making "abc\ud800" read as the id "abc?").  Returns the offset
 * of the first such byte, or -1. */
static ssize_t text_check(const char *text, size_t len, const char **ret_what) {
        const char *p = text, *end = text + len;
        bool in_string = false;

        while (p < end) {
                unsigned char c = (unsigned char) *p;
                size_t n;
                unsigned u, lo;

                if (c == 0 || c == '\v' || c == '\f') {
                        *ret_what = c ? "a \\v or \\f byte" : "a NUL byte";
                        return p - text;
                }
                if (c >= 0x80) {
                        if ((n = utf8_seq_len((const unsigned char *) p, (size_t) (end - p))) == 0) {
                                *ret_what = "invalid UTF-8";
                                return p - text;
                        }
                        p += n;
                        continue;
                }
                if (c == '"')
                        in_string = !in_string;
                else if (in_string && c == '\\' && p + 1 < end) {
                        if (p[1] == 'u' && is_hex4(p + 2, end, &u) && u >= 0xd800 && u <= 0xdfff) {
                                /* a high surrogate must be followed by an escaped low one */
                                if (u >= 0xdc00 || end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                                    !is_hex4(p + 8, end, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                                        *ret_what = "a \\u escape of a lone surrogate";
                                        return p - text;
                                }
                                p += 12;
                                continue;
                        }
                        p += 2;         /* the escaped character, whatever it is */
                        continue;
                }
                p++;
        }
        return -1;
}

yajl_val json_parse(const char *text, size_t len, char *err, size_t errlen) {
        struct depth depth = {};
        yajl_handle h;
        yajl_status st;
        yajl_val v;

        if (err && errlen)
                err[0] = 0;
        const char *what;
        ssize_t bad = text_check(text, len, &what);
        if (bad >= 0) {
                if (err && errlen)
                        snprintf(err, errlen, "%s at offset %zd", what, bad);
                return NULL;
        }
        h = yajl_alloc(&depth_callbacks, NULL, &depth);
        yajl_config(h, yajl_allow_comments, 0);
        st = yajl_parse(h, (const unsigned char *) text, len);
        if (st == yajl_status_ok)
                st = yajl_complete_parse(h);
        if (depth.too_deep) {
                if (err && errlen)
                        snprintf(err, errlen, "nested deeper than %d levels", JSON_MAX_DEPTH);
                yajl_free(h);
                return NULL;
        }
        if (depth.nul) {
                if (err && errlen)
                        snprintf(err, errlen, "a string holds the character U+0000");
                yajl_free(h);
                return NULL;
        }
        if (st != yajl_status_ok) {
                unsigned char *m = yajl_get_error(h, 0, (const unsigned char *) text, len);
                if (err && errlen)
                        snprintf(err, errlen, "%s", m ? (const char *) m : "not JSON");
                yajl_free_error(h, m);
                yajl_free(h);
                if (err && errlen)
                        first_line(err);
                return NULL;
        }
        yajl_free(h);
        v = yajl_tree_parse(text, err, errlen);
        if (!v && err && errlen && !err[0])
                snprintf(err, errlen, "not JSON");
        if (err && errlen)
                first_line(err);
        return v;
}

yajl_val json_get(yajl_val obj, const char *key) {
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcasecmp(obj->u.object.keys[i], key) == 0)
                        return obj->u.object.values[i];
        return NULL;
}

const char *json_get_string(yajl_val obj, const char *key) {
        yajl_val v = json_get(obj, key);
        return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

int json_get_int(yajl_val obj, const char *key, long long *ret) {
        yajl_val v = json_get(obj, key);
        if (!v || YAJL_IS_NULL(v))
                return -ENOENT;
        if (!YAJL_IS_INTEGER(v))
                return -EINVAL;
        *ret = YAJL_GET_INTEGER(v);
        return 0;
}

int json_get_bool(yajl_val obj, const char *key, bool *ret) {
        yajl_val v = json_get(obj, key);
        if (!v || YAJL_IS_NULL(v))
                return -ENOENT;
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
                return -EINVAL;
        *ret = YAJL_IS_TRUE(v);
        return 0;
}

yajl_val json_get_array(yajl_val obj, const char *key) {
        yajl_val v = json_get(obj, key);
        return YAJL_IS_ARRAY(v) ? v : NULL;
}

const char *json_type_name(yajl_val v) {
        if (!v) return "missing";
        if (YAJL_IS_STRING(v)) return "a string";
        if (YAJL_IS_NUMBER(v)) return "a number";
        if (YAJL_IS_OBJECT(v)) return "an object";
        if (YAJL_IS_ARRAY(v)) return "an array";
        if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) return "a boolean";
        return "null";
}

static int gen_ok(yajl_gen_status s) {
        return s == yajl_gen_status_ok ? 0 : (s == yajl_gen_invalid_string ? -EINVAL : -ENOMEM);
}

int json_str(yajl_gen g, const char *s) {
        if (!s)
                return gen_ok(yajl_gen_null(g));
        return gen_ok(yajl_gen_string(g, (const unsigned char *) s, strlen(s)));
}

int json_kv_str(yajl_gen g, const char *k, const char *v) {
        int r;
        if (!v)
                return 0;
        if ((r = json_str(g, k)) < 0)
                return r;
        return json_str(g, v);
}

int json_kv_int(yajl_gen g, const char *k, long long v) {
        int r = json_str(g, k);
        return r < 0 ? r : gen_ok(yajl_gen_integer(g, v));
}

int json_kv_uint(yajl_gen g, const char *k, uint64_t v) {
        /* yajl integers are long long; our values (sizes, µs timestamps) fit. */
        return json_kv_int(g, k, (long long) v);
}

int json_kv_bool(yajl_gen g, const char *k, bool v) {
        int r = json_str(g, k);
        return r < 0 ? r : gen_ok(yajl_gen_bool(g, v));
}
