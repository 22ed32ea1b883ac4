/* json.h — reading server answers and job files with yajl's tree API, and
 * writing with yajl_gen.
 *
 * The vendor's answers mix "Id" and "id", so every lookup here is
 * case-insensitive and order-independent; yajl_tree_get is not used. */
#ifndef DEV2PROD_JSON_H
#define DEV2PROD_JSON_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "util.h"

/* Largest answer we parse: status objects are a few KiB; anything past this
 * is refused as unreadable rather than parsed (yajl's tree is ~10x input). */
#define JSON_MAX_ANSWER (8u * 1024u * 1024u)

/* Parses len bytes (text[len] must be NUL).  Strict: yajl's tree parser
 * allows comments and stops at a NUL byte, so the text is first checked by
 * the callback parser over its real length with comments off.  Returns NULL
 * and a one-line message in err when it is not JSON. */
yajl_val json_parse(const char *text, size_t len, char *err, size_t errlen);

yajl_val json_get(yajl_val obj, const char *key);          /* any type */
const char *json_get_string(yajl_val obj, const char *key); /* NULL unless string */
/* 0 and *ret, -ENOENT when absent/null, -EINVAL when not an integer. */
int json_get_int(yajl_val obj, const char *key, long long *ret);
/* 0 and *ret, -ENOENT when absent, -EINVAL when not a boolean. */
int json_get_bool(yajl_val obj, const char *key, bool *ret);
yajl_val json_get_array(yajl_val obj, const char *key);     /* NULL unless array */
/* "a string", "a number", ... "null"; "missing" for NULL: for messages. */
const char *json_type_name(yajl_val v);

/* yajl_gen helpers: each returns 0 or -ENOMEM/-EINVAL on a gen error. */
int json_str(yajl_gen g, const char *s);        /* NULL writes null */
int json_kv_str(yajl_gen g, const char *k, const char *v);       /* skipped when v NULL */
int json_kv_int(yajl_gen g, const char *k, long long v);
int json_kv_uint(yajl_gen g, const char *k, uint64_t v);
int json_kv_bool(yajl_gen g, const char *k, bool v);

#endif
