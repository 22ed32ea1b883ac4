/* config.c — loads and validates the YAML configuration (see config.h).
 *
 * The text is parsed once, then walked:
 *
 *  1. libyaml's event parser finds syntax errors (reported with libyaml's
 *     own words and position) and the YAML features we refuse (anchors,
 *     aliases, tags, a second document), each with its key path: only the
 *     events show them, a loaded document has resolved aliases silently.
 *     The same events build our own node tree of the first document
 *     (struct tree): one array of 20-byte nodes, the children of each
 *     container as one run of indexes, all scalar text in one buffer.
 *     The walk used to get its tree from a second parse, yaml_parser_load(),
 *     whose document takes ~100 bytes per node plus a tag string and a
 *     value copy each: with many promotions it was most of the load's
 *     CPU time and memory (BENCHMARKS.md has the figures).  The tree keeps everything
 *     that document gave the walk (positions, plain style for nulls, NUL
 *     bytes in scalars, aliases as shared nodes, no walk at all after a
 *     duplicate anchor or undefined alias), so every message stays the
 *     same.
 *  2. A walk over the tree.  Each kind of mapping has a table of key
 *     handlers; unknown and duplicate keys are errors.  Handlers validate
 *     their value and store it in a build structure; cross-references
 *     (from:/to:, duplicate names, defaults inheritance) are resolved after
 *     the walk, so the order of the keys in the file does not matter.
 *
 * Every problem is added to the errlist as "FILE:LINE:COLUMN: KEY: message"
 * and the walk goes on, so one run shows them all.  A struct config is only
 * assembled when there was no error at all.
 *
 * Secrets: the files named by key_file:/credential: etc. are read here.
 * Their content never goes into a message, and is wiped (secret_free) when
 * the load fails.
 */
#include "config.h"
#include "cron.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml.h>

#define CONFIG_MAX_SIZE   (1024 * 1024)
#define SECRET_MAX        4096
#define NAME_MAX_LEN      64
#define PACKAGE_MAX_LEN   255
#define TENANT_ID_MAX_LEN 64
#define DEFAULT_STATE_DIR "/var/lib/dev2prodd"
#define DEFAULT_CONTROL_SOCKET "/run/dev2prodd/control.sock"
#define MAX_PARALLEL_MAX  1000
#define TOP_LEVEL         "(top level)"

/* ---- errlist --------------------------------------------------------------- */

void errlist_add(struct errlist *e, const char *fmt, ...) {
        va_list ap;
        char *m;

        va_start(ap, fmt);
        m = xvasprintf(fmt, ap);
        va_end(ap);
        /* A config file can hold anything: keep escape sequences and line
         * breaks out of the terminal and the journal. */
        for (char *p = m; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        e->msgs = xrealloc(e->msgs, (e->n + 1) * sizeof(char *));
        e->msgs[e->n++] = m;
}

void errlist_free(struct errlist *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->msgs[i]);
        free(e->msgs);
        e->msgs = NULL;
        e->n = 0;
}

/* ---- string helpers -------------------------------------------------------- */

const char *auth_type_to_string(enum auth_type t) {
        switch (t) {
        case AUTH_API_KEY: return "api_key";
        case AUTH_BEARER:  return "bearer";
        case AUTH_SESSION: return "session";
        }
        return "unknown";
}

const char *promo_mode_to_string(enum promo_mode m) {
        switch (m) {
        case MODE_IMPORT:  return "import";
        case MODE_DRY_RUN: return "dry-run";
        }
        return "unknown";
}

/* Optimal string alignment distance (Levenshtein plus transpositions),
 * ASCII case-insensitive.  Long strings count as "far". */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];

        if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
                return SIZE_MAX;
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = tolower((unsigned char) a[i - 1]) != tolower((unsigned char) b[j - 1]);
                        size_t v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
                        v = MIN(v, d[i - 1][j - 1] + cost);
                        if (i > 1 && j > 1 &&
                            tolower((unsigned char) a[i - 1]) == tolower((unsigned char) b[j - 2]) &&
                            tolower((unsigned char) a[i - 2]) == tolower((unsigned char) b[j - 1]))
                                v = MIN(v, d[i - 2][j - 2] + 1);
                        d[i][j] = v;
                }
        return d[la][lb];
}

/* The candidate closest to word, if it is within 2 edits (and the edits do
 * not replace the whole candidate: "id" is not a typo of "to"). */
static const char *closest(const char *word, const char *const *cands, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                if (!cands[i])
                        continue;
                size_t dist = edit_distance(word, cands[i]);
                if (dist <= 2 && dist < strlen(cands[i]) && dist < best_d) {
                        best = cands[i];
                        best_d = dist;
                }
        }
        return best;
}

static bool is_name_char(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '.' || ch == '_' || ch == '-';
}

/* [A-Za-z0-9._-]{1,max}, and not "." or ".." (names end up in file names
 * and URL paths). */
static bool valid_name(const char *s, size_t max) {
        size_t l = strlen(s);
        if (l == 0 || l > max || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!is_name_char(*p))
                        return false;
        return true;
}


static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* ---- the node tree --------------------------------------------------------- */

enum node_type { NODE_SCALAR = 1, NODE_SEQUENCE, NODE_MAPPING };

/* 20 bytes (libyaml's yaml_node_t: about 100, plus a tag string). */
struct node {
        uint8_t type;           /* enum node_type */
        bool plain;             /* scalar without quotes or | > (only those can be null) */
        bool visited;           /* a second visit comes through an alias */
        uint32_t line, column;  /* 0-based, as in libyaml's marks */
        union {
                struct { uint32_t off, len; };          /* scalar: tree.text + off, len bytes */
                struct { uint32_t first, n; };          /* container: tree.kids[first], n of them */
        };
};

/* Anchor names are only kept so aliases resolve as yaml_parser_load()
 * resolved them: the walk then reports on such a (refused) file exactly
 * what it reported before. */
struct anchor {
        uint32_t name;          /* tree.text offset + 1; 0: a free slot */
        uint32_t node;
};

struct tree {
        struct node *nodes;     /* in document order; [0] is the root */
        size_t n_nodes, cap_nodes;
        uint32_t *kids;         /* node indexes; a mapping's are key, value, key, ... */
        size_t n_kids, cap_kids;
        struct buf text;        /* every scalar, NUL-terminated (a NUL inside is kept) */
        uint32_t *open;         /* children of the containers still open, innermost last */
        size_t n_open, cap_open;
        struct anchor *anchors; /* open addressing, by name */
        size_t n_anchors, cap_anchors;
        bool broken;            /* a duplicate anchor or undefined alias: yaml_parser_load() failed there */
};

/* ---- loader state ---------------------------------------------------------- */

/* Settings as given in one mapping (defaults: or a promotion): which keys
 * were set, and their values.  Merged over the inherited ones at the end. */
struct settings_over {
        struct settings s;
        uint32_t mask;          /* bit i: setting i (settings.h, settings_desc[i]) was given */
};

struct abuild {
        bool type_ok;
        enum auth_type type;
        char *key_file, *credential, *username, *password_file, *password_credential, *role;
};

struct tbuild {
        struct tenant t;
        struct abuild a;
};

struct pbuild {
        struct promotion p;
        struct settings_over over;
        char *from_name, *to_name;
        size_t from_idx, to_idx;
        size_t index;           /* in the promotions: sequence */
        struct node **vals;     /* value node of each promo_tab key, if given (in ctx.promo_vals) */
        struct node *item;      /* its mapping, for messages */
};

struct err {
        size_t line, column, seq;
        char *msg;
};

struct ctx {
        const char *path;
        bool no_secrets;        /* CONFIG_NO_SECRETS */
        struct tree tree;
        struct err *errs;       /* sorted by position before they go out */
        size_t n_errors;

        char *state_directory;
        char *control_socket;
        char *metrics_file;
        bool max_parallel_set;
        unsigned max_parallel;
        bool history_keep_set;
        uint64_t history_keep;
        struct settings_over defaults;
        struct tbuild *tenants;
        size_t n_tenants;
        struct pbuild *promos;
        size_t n_promos;
        /* every pbuild.vals, in one allocation: with 10,000 promotions
         * one each would be 10,000 more small allocations */
        struct node **promo_vals;
        struct notify *notify;          /* top-level notify: */
        /* the last timezone: found valid, so that 10,000 promotions in one
         * zone open its file once, not 10,000 times */
        const char *valid_zone;         /* in tree.text */
};

static void err_mark(struct ctx *x, yaml_mark_t m, const char *key, const char *fmt, ...) _printf_(4, 5);
static void err_mark(struct ctx *x, yaml_mark_t m, const char *key, const char *fmt, ...) {
        va_list ap;
        _cleanup_free_ char *msg = NULL;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        x->errs = xrealloc(x->errs, (x->n_errors + 1) * sizeof(*x->errs));
        x->errs[x->n_errors] = (struct err) {
                .line = m.line + 1,
                .column = m.column + 1,
                .seq = x->n_errors,
                .msg = xasprintf("%s:%zu:%zu: %s: %s", x->path, m.line + 1, m.column + 1,
                                 key && *key ? key : TOP_LEVEL, msg),
        };
        x->n_errors++;
}

static int err_cmp(const void *a, const void *b) {
        const struct err *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->column != y->column)
                return x->column < y->column ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the errors out in file order. */
static void flush_errors(struct ctx *x, struct errlist *out) {
        if (x->n_errors > 0)
                qsort(x->errs, x->n_errors, sizeof(*x->errs), err_cmp);
        for (size_t i = 0; i < x->n_errors; i++) {
                errlist_add(out, "%s", x->errs[i].msg);
                free(x->errs[i].msg);
        }
        free(x->errs);
        x->errs = NULL;
}

static void err(struct ctx *x, const struct node *n, const char *key, const char *fmt, ...) _printf_(4, 5);
static void err(struct ctx *x, const struct node *n, const char *key, const char *fmt, ...) {
        va_list ap;
        _cleanup_free_ char *msg = NULL;
        yaml_mark_t m = {};

        if (n)
                m = (yaml_mark_t) { .line = n->line, .column = n->column };
        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        err_mark(x, m, key, "%s", msg);
}

/* Child i of container n. */
static struct node *kid(struct ctx *x, const struct node *n, size_t i) {
        return &x->tree.nodes[x->tree.kids[n->first + i]];
}

static const char *text_of(struct ctx *x, const struct node *n) {
        return x->tree.text.data + n->off;
}

/* False if n was walked before: it is reached again through an alias,
 * which pass 1 reported; its content was checked the first time. */
static bool first_visit(struct node *n) {
        if (n->visited)
                return false;
        n->visited = true;
        return true;
}

static char *path_join(const char *parent, const char *key) {
        return *parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

/* ---- scalar values --------------------------------------------------------- */

/* The scalar's text, or NULL after an error. */
static const char *get_scalar(struct ctx *x, const char *path, struct node *v) {
        if (v->type != NODE_SCALAR) {
                err(x, v, path, "expected a scalar");
                return NULL;
        }
        if (strlen(text_of(x, v)) != v->len) {
                err(x, v, path, "contains a NUL character");
                return NULL;
        }
        return text_of(x, v);
}

/* A non-empty scalar, or NULL after an error. */
static const char *get_string(struct ctx *x, const char *path, struct node *v) {
        const char *s = get_scalar(x, path, v);
        if (s && !*s) {
                err(x, v, path, "empty value");
                return NULL;
        }
        return s;
}

/* A YAML null: "key:" with nothing, "~" or "null", unquoted. */
static bool is_null(struct ctx *x, struct node *v) {
        if (v->type != NODE_SCALAR || !v->plain)
                return false;
        const char *s = text_of(x, v);
        return streq(s, "") || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static int get_bool(struct ctx *x, const char *path, struct node *v, bool *ret) {
        static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
        const char *s = get_string(x, path, v);
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        err(x, v, path, "'%.64s' is not a boolean (use true or false)", s);
        return -EINVAL;
}

static int get_uint(struct ctx *x, const char *path, struct node *v, unsigned long long min,
                    unsigned long long max, unsigned long long *ret) {
        const char *s = get_string(x, path, v);
        unsigned long long n;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_uint(s, max, &n);
        if (r == -EINVAL) {
                err(x, v, path, "'%.64s' is not a whole number", s);
                return r;
        }
        if (r < 0 || n < min) {
                err(x, v, path, "%.64s is out of range %llu..%llu", s, min, max);
                return -ERANGE;
        }
        *ret = n;
        return 0;
}

static int get_duration(struct ctx *x, const char *path, struct node *v, uint64_t min, uint64_t max,
                        uint64_t *ret) {
        const char *s = get_string(x, path, v);
        char a[32], b[32];
        uint64_t u;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_duration(s, &u);
        if (r == -EINVAL) {
                err(x, v, path, "'%.64s' is not a duration (use e.g. 500ms, 15s, 10m, 2h, 1d, 1h30m)", s);
                return r;
        }
        if (r < 0 || u < min || u > max) {
                err(x, v, path, "%.64s is out of range %s..%s", s,
                    format_duration(a, sizeof a, min), format_duration(b, sizeof b, max));
                return -ERANGE;
        }
        *ret = u;
        return 0;
}

static int get_abs_path(struct ctx *x, const char *path, struct node *v, char **ret) {
        const char *s = get_string(x, path, v);
        if (!s)
                return -EINVAL;
        if (s[0] != '/') {
                err(x, v, path, "'%.200s' is not an absolute path", s);
                return -EINVAL;
        }
        *ret = xstrdup(s);
        return 0;
}

/* ---- mappings -------------------------------------------------------------- */

typedef void (*handler_t)(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg);

struct key_handler {
        const char *key;
        handler_t fn;
        size_t off;             /* fn gets (char *) obj + off */
        uintptr_t arg;
        bool required;
};

/* Keys are checked for duplicates pairwise: keep that quadratic loop
 * small even on a broken (or hostile) 1 MiB file. */
#define MAPPING_MAX_KEYS  1000
#define SEQUENCE_MAX_ITEMS 10000

static bool too_many(struct ctx *x, struct node *n, const char *path) {
        size_t k = n->type == NODE_MAPPING ? n->n / 2 : n->n;
        size_t max = n->type == NODE_MAPPING ? MAPPING_MAX_KEYS : SEQUENCE_MAX_ITEMS;
        if (k <= max)
                return false;
        err(x, n, path, "too many entries (%zu, at most %zu)", k, max);
        return true;
}

/* Checks the key of pair i of a mapping: a scalar, not seen before in the
 * same mapping.  Returns the key text or NULL after an error. */
static const char *check_key(struct ctx *x, struct node *map, size_t i, const char *path) {
        struct node *k = kid(x, map, 2 * i);
        const char *key;

        if (k->type != NODE_SCALAR) {
                err(x, k, path, "mapping keys must be scalars");
                return NULL;
        }
        key = text_of(x, k);
        for (size_t j = 0; j < i; j++) {
                struct node *pk = kid(x, map, 2 * j);
                if (pk->type == NODE_SCALAR && streq(text_of(x, pk), key)) {
                        _cleanup_free_ char *child = path_join(path, key);
                        err(x, k, child, "duplicate key (first at line %zu)", (size_t) pk->line + 1);
                        return NULL;
                }
        }
        return key;
}

/* Dispatches every key of mapping n through tab.  vals (ntab entries, may be
 * NULL) receives the value node of each key given.  Returns false if n is
 * not a mapping. */
static bool parse_mapping(struct ctx *x, struct node *n, const char *path, const struct key_handler *tab,
                          size_t ntab, void *obj, struct node **vals) {
        uint64_t seen = 0;

        assert(ntab <= 64);
        if (n->type != NODE_MAPPING) {
                err(x, n, path, "expected a mapping");
                return false;
        }
        if (too_many(x, n, path))
                return true;
        for (size_t pair = 0; pair < n->n / 2; pair++) {
                const char *key = check_key(x, n, pair, path);
                _cleanup_free_ char *child = NULL;
                size_t i;

                if (!key)
                        continue;
                child = path_join(path, key);
                for (i = 0; i < ntab; i++)
                        if (streq(tab[i].key, key))
                                break;
                if (i == ntab) {
                        const char *cands[64];
                        for (size_t j = 0; j < ntab; j++)
                                cands[j] = tab[j].key;
                        const char *s = closest(key, cands, ntab);
                        if (s)
                                err(x, kid(x, n, 2 * pair), child, "unknown key (did you mean '%s'?)", s);
                        else
                                err(x, kid(x, n, 2 * pair), child, "unknown key");
                        continue;
                }
                struct node *v = kid(x, n, 2 * pair + 1);
                seen |= UINT64_C(1) << i;
                if (!first_visit(v))
                        continue;
                if (vals)
                        vals[i] = v;
                tab[i].fn(x, child, v, (char *) obj + tab[i].off, tab[i].arg);
        }
        for (size_t i = 0; i < ntab; i++)
                if (tab[i].required && !(seen & (UINT64_C(1) << i)))
                        err(x, n, path, "missing required key '%s'", tab[i].key);
        return true;
}

static struct node *val_of(const struct key_handler *tab, size_t ntab, struct node *const *vals, const char *key) {
        for (size_t i = 0; i < ntab; i++)
                if (streq(tab[i].key, key))
                        return vals[i];
        assert(!"no such key in table");
        return NULL;
}

/* ---- generic handlers -------------------------------------------------------- */

static void h_string(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (s)
                *(char **) field = xstrdup(s);
}

static void h_bool(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        (void) get_bool(x, path, v, (bool *) field);
}

static void h_abs_path(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        (void) get_abs_path(x, path, v, (char **) field);
}

/* ---- settings (defaults: and per promotion) ---------------------------------- */

/* "proceed or stop", "a, b or c": the words of an enum setting, for a
 * message. */
static char *words_list(const char *const *w) {
        struct buf b = {};
        buf_append(&b, "", 0);
        for (size_t i = 0; w[i]; i++) {
                const char *sep = i == 0 ? "" : w[i + 1] ? ", " : " or ";
                buf_append(&b, sep, strlen(sep));
                buf_append(&b, w[i], strlen(w[i]));
        }
        return b.data;
}

/* One setting (a row of settings.h): arg is its id, field the struct
 * settings_over of the mapping it is in. */
static void h_setting(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct settings_over *o = field;
        const struct setting_desc *d = &settings_desc[arg];
        unsigned long long n;
        uint64_t val;

        if (d->words) {         /* an enum: one of its words */
                const char *s = get_string(x, path, v);
                if (!s)
                        return;
                int w = setting_from_word((enum setting_id) arg, s);
                if (w < 0) {
                        _cleanup_free_ char *use = words_list(d->words);
                        err(x, v, path, "'%.64s' is not valid (use %s)", s, use);
                        return;
                }
                val = (uint64_t) w;
        } else if (d->type == SETTING_T_DURATION) {
                if (get_duration(x, path, v, d->min, d->max, &val) < 0)
                        return;
        } else {
                assert(d->type == SETTING_T_UINT);
                if (get_uint(x, path, v, d->min, d->max, &n) < 0)
                        return;
                val = n;
        }
        setting_set(&o->s, (enum setting_id) arg, val);
        o->mask |= UINT32_C(1) << arg;
}
_Static_assert(_SETTINGS_N <= 32, "settings mask too small");

static void settings_merge(struct settings *dst, const struct settings_over *o) {
        for (enum setting_id i = 0; i < _SETTINGS_N; i++)
                if (o->mask & (UINT32_C(1) << i))
                        setting_set(dst, i, setting_get(&o->s, i));
}

/* The key handlers of every setting, for a mapping parsed into a struct
 * whose member at offset off is its struct settings_over. */
#define SETTING_KEY(off, key) { #key, h_setting, off, SETTING_##key, false },

/* defaults: is parsed straight into a struct settings_over */
#define DEFAULTS_KEY(key, ...) SETTING_KEY(0, key)
static const struct key_handler defaults_tab[] = {
        SETTINGS(DEFAULTS_KEY)
};

/* ---- secrets ----------------------------------------------------------------- */

/* Reads the secret file `file` into a->secret.  `at`/`path` locate the key
 * that named it, for messages.  The content never appears in a message. */
static void load_secret(struct ctx *x, const char *path, struct node *at, const char *file, struct auth *a) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        char *buf;
        size_t len = 0;
        bool bad = false;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                err(x, at, path, "cannot open %s: %s", file, strerror(errno));
                return;
        }
        if (fstat(fd, &st) < 0) {
                err(x, at, path, "cannot stat %s: %s", file, strerror(errno));
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                err(x, at, path, "%s is not a regular file", file);
                return;
        }
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                if (geteuid() == 0)
                        err(x, at, path, "%s is owned by uid %u (must be owned by root)", file, (unsigned) st.st_uid);
                else
                        err(x, at, path, "%s is owned by uid %u (must be owned by root or uid %u)", file,
                            (unsigned) st.st_uid, (unsigned) geteuid());
                bad = true;
        }
        if (st.st_mode & 077) {
                err(x, at, path, "%s is %s by group or others (mode %04o); run: chmod 600 %s", file,
                    st.st_mode & 044 ? "readable" : st.st_mode & 022 ? "writable" : "accessible",
                    (unsigned) (st.st_mode & 07777), file);
                bad = true;
        }
        if (bad)
                return;
        /* SECRET_MAX bytes of secret, plus a line end ("\r\n") */
        if (st.st_size > SECRET_MAX + 2) {
                err(x, at, path, "%s is larger than %d bytes", file, SECRET_MAX);
                return;
        }

        /* One buffer, never reallocated (no stray copies), wiped on error. */
        buf = xmalloc(SECRET_MAX + 4);
        for (;;) {
                ssize_t k = read(fd, buf + len, SECRET_MAX + 3 - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        err(x, at, path, "cannot read %s: %s", file, strerror(errno));
                        goto fail;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > SECRET_MAX + 2)
                        break;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                len--;
        if (len > SECRET_MAX) {
                err(x, at, path, "%s is larger than %d bytes", file, SECRET_MAX);
                goto fail;
        }
        buf[len] = 0;
        if (len == 0) {
                err(x, at, path, "%s is empty", file);
                goto fail;
        }
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) buf[i] < 0x20 || buf[i] == 0x7f) {
                        /* It goes into an HTTP header: no line breaks. */
                        err(x, at, path, "%s contains a line break or control character (it must be one line)", file);
                        goto fail;
                }
        a->secret = buf;
        a->secret_path = xstrdup(file);
        return;

fail:
        explicit_bzero(buf, SECRET_MAX + 4);
        free(buf);
}

/* The file behind credential name `name`, or NULL after an error. */
static char *credential_path(struct ctx *x, const char *path, struct node *at, const char *name) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        if (!dir || !*dir) {
                err(x, at, path,
                    "credential '%s' requested but $CREDENTIALS_DIRECTORY is not set (use key_file: outside systemd)",
                    name);
                return NULL;
        }
        return xasprintf("%s/%s", dir, name);
}

/* ---- tenants ----------------------------------------------------------------- */

static void h_auth_type(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct abuild *a = field;
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        for (enum auth_type t = AUTH_API_KEY; t <= AUTH_SESSION; t++)
                if (streq(s, auth_type_to_string(t))) {
                        a->type = t;
                        a->type_ok = true;
                        return;
                }
        err(x, v, path, "'%.64s' is not valid (use api_key, bearer or session)", s);
}

static void h_credential(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        if (strlen(s) > 255 || strchr(s, '/') || streq(s, ".") || streq(s, "..")) {
                err(x, v, path, "'%.64s' is not a valid credential name (a file name, no '/')", s);
                return;
        }
        *(char **) field = xstrdup(s);
}

static const struct key_handler auth_tab[] = {
        { "type",                h_auth_type,  0,                                             0, true },
        { "key_file",            h_abs_path,   offsetof(struct abuild, key_file),             0, false },
        { "credential",          h_credential, offsetof(struct abuild, credential),           0, false },
        { "username",            h_string,     offsetof(struct abuild, username),             0, false },
        { "password_file",       h_abs_path,   offsetof(struct abuild, password_file),        0, false },
        { "password_credential", h_credential, offsetof(struct abuild, password_credential),  0, false },
        { "role",                h_string,     offsetof(struct abuild, role),                 0, false },
};

static void h_auth(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct tbuild *tb = field;
        struct abuild *a = &tb->a;
        struct node *vals[ELEMENTSOF(auth_tab)] = {};
        size_t errors_before = x->n_errors;
        const char *file_key, *cred_key;
        char *file, *cred;

#define VAL(k) val_of(auth_tab, ELEMENTSOF(auth_tab), vals, k)
        if (!parse_mapping(x, v, path, auth_tab, ELEMENTSOF(auth_tab), a, vals) || !a->type_ok)
                return;
        tb->t.auth.type = a->type;

        if (a->type == AUTH_SESSION) {
                static const char *const not_here[] = { "key_file", "credential" };
                for (size_t i = 0; i < ELEMENTSOF(not_here); i++)
                        if (VAL(not_here[i])) {
                                _cleanup_free_ char *p = path_join(path, not_here[i]);
                                err(x, VAL(not_here[i]), p,
                                    "not valid with type: session (use password_file: or password_credential:)");
                        }
                if (!VAL("username"))
                        err(x, v, path, "missing required key 'username' (type: session)");
                file_key = "password_file";
                cred_key = "password_credential";
                file = a->password_file;
                cred = a->password_credential;
        } else {
                static const char *const not_here[] = { "username", "password_file", "password_credential", "role" };
                for (size_t i = 0; i < ELEMENTSOF(not_here); i++)
                        if (VAL(not_here[i])) {
                                _cleanup_free_ char *p = path_join(path, not_here[i]);
                                err(x, VAL(not_here[i]), p, "only valid with type: session");
                        }
                file_key = "key_file";
                cred_key = "credential";
                file = a->key_file;
                cred = a->credential;
        }

        if (!VAL(file_key) && !VAL(cred_key)) {
                err(x, v, path, "missing required key '%s' or '%s'", file_key, cred_key);
                return;
        }
        if (VAL(file_key) && VAL(cred_key)) {
                _cleanup_free_ char *p = path_join(path, cred_key);
                err(x, VAL(cred_key), p, "use either %s: or %s:, not both", file_key, cred_key);
                return;
        }
        if (x->n_errors != errors_before)
                return;         /* do not read a secret for an auth: that is wrong anyway */
        if (x->no_secrets) {
                /* the reader still learns which file holds the secret */
                tb->t.auth.secret_path = xstrdup(file ? file : cred);
                file = cred = NULL;
        }

        if (file) {
                _cleanup_free_ char *p = path_join(path, file_key);
                load_secret(x, p, VAL(file_key), file, &tb->t.auth);
        } else if (cred) {
                _cleanup_free_ char *p = path_join(path, cred_key);
                _cleanup_free_ char *f = credential_path(x, p, VAL(cred_key), cred);
                if (f)
                        load_secret(x, p, VAL(cred_key), f, &tb->t.auth);
        }
        if (a->type == AUTH_SESSION) {
                tb->t.auth.username = a->username;
                a->username = NULL;
        }
        tb->t.auth.role = a->role ? a->role : xstrdup("");
        a->role = NULL;
#undef VAL
}

static void h_url(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v), *host, *end;
        char *u;
        size_t l;

        /* The URL is never echoed: it could carry a token in a query or
         * user:password@. */
        if (!s)
                return;
        if (strncasecmp(s, "https://", 8) == 0)
                host = s + 8;
        else if (strncasecmp(s, "http://", 7) == 0)
                host = s + 7;
        else {
                err(x, v, path, "must start with https:// or http://");
                return;
        }
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= 0x20 || *p == 0x7f) {
                        err(x, v, path, "must not contain spaces or control characters");
                        return;
                }
        end = host + strcspn(host, "/?#");
        if (memchr(host, '@', (size_t) (end - host))) {
                err(x, v, path, "must not contain user:password@ (use auth:)");
                return;
        }
        if (strpbrk(s, "?#")) {
                err(x, v, path, "must not contain a query (?) or fragment (#)");
                return;
        }
        if (end == host || *host == ':') {
                err(x, v, path, "has no host name");
                return;
        }
        u = xstrdup(s);
        l = strlen(u);
        while (l > (size_t) (end - s) && u[l - 1] == '/')
                u[--l] = 0;
        *(char **) field = u;
}

static void h_tenant_id(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        if (!all_digits(s) || strlen(s) > TENANT_ID_MAX_LEN) {
                err(x, v, path, "'%.64s' is not a tenant id (digits only)", s);
                return;
        }
        *(char **) field = xstrdup(s);
}

static void h_ca_file(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        _cleanup_free_ char *f = NULL;
        struct stat st;
        int fd;

        if (get_abs_path(x, path, v, &f) < 0)
                return;
        fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                err(x, v, path, "cannot open %s: %s", f, strerror(errno));
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                err(x, v, path, "%s is not a regular file", f);
                return;
        }
        close(fd);
        *(char **) field = f;
        f = NULL;
}

static const struct key_handler tenant_tab[] = {
        { "url",                  h_url,       offsetof(struct tbuild, t.url),                  0, true },
        { "tenant_id",            h_tenant_id, offsetof(struct tbuild, t.tenant_id),            0, true },
        { "auth",                 h_auth,      0,                                               0, true },
        { "ca_file",              h_ca_file,   offsetof(struct tbuild, t.ca_file),              0, false },
        { "insecure_skip_verify", h_bool,      offsetof(struct tbuild, t.insecure_skip_verify), 0, false },
};

static void h_tenants(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        if (is_null(x, v))
                return;
        if (v->type != NODE_MAPPING) {
                err(x, v, path, "expected a mapping");
                return;
        }
        if (too_many(x, v, path))
                return;
        for (size_t pair = 0; pair < v->n / 2; pair++) {
                const char *name = check_key(x, v, pair, path);
                struct node *k = kid(x, v, 2 * pair), *val = kid(x, v, 2 * pair + 1);
                _cleanup_free_ char *child = NULL;
                struct tbuild *tb;

                if (!name || !first_visit(val))
                        continue;
                child = path_join(path, name);
                if (!valid_name(name, NAME_MAX_LEN)) {
                        err(x, k, child, "'%.64s' is not a valid tenant name (1-%d characters of A-Z a-z 0-9 . _ -)",
                            name, NAME_MAX_LEN);
                        continue;
                }
                x->tenants = xrealloc(x->tenants, (x->n_tenants + 1) * sizeof(*x->tenants));
                tb = &x->tenants[x->n_tenants++];
                *tb = (struct tbuild) {};
                tb->t.name = xstrdup(name);
                tb->t.line = (unsigned) k->line + 1;
                (void) parse_mapping(x, val, child, tenant_tab, ELEMENTSOF(tenant_tab), tb, NULL);
        }
}

/* ---- promotions -------------------------------------------------------------- */

static void h_promo_name(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        if (!valid_name(s, NAME_MAX_LEN)) {
                err(x, v, path, "'%.64s' is not a valid name (1-%d characters of A-Z a-z 0-9 . _ -)", s, NAME_MAX_LEN);
                return;
        }
        /* A job's id and file name start with its promotion's name, and the
         * store skips names that start with '.' (its temp files): a job of
         * ".nightly" would be saved but never found again, and the next run
         * would not know of it. */
        if (s[0] == '.') {
                err(x, v, path, "'%.64s' is not a valid promotion name: it must not start with '.' "
                    "(its job files would be hidden)", s);
                return;
        }
        *(char **) field = xstrdup(s);
}

static void h_package(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        if (!valid_name(s, PACKAGE_MAX_LEN)) {
                err(x, v, path, "'%.64s' is not a valid package id (A-Z a-z 0-9 . _ - only)", s);
                return;
        }
        *(char **) field = xstrdup(s);
}

static void h_schedule(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct promotion *p = field;
        _cleanup_free_ char *e = NULL;
        const char *s = get_string(x, path, v);
        struct cron *c = NULL;

        if (!s)
                return;
        if (cron_parse(s, &c, &e) < 0) {
                err(x, v, path, "%s", e ? e : "not a valid cron line");
                cron_free(c);
                return;
        }
        p->schedule = xstrdup(s);
        p->cron = c;
}

static void h_timezone(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        if (!streq_ptr(s, x->valid_zone) && timezone_valid(s) < 0) {
                err(x, v, path, "unknown time zone '%.64s' (use a zone such as Europe/Berlin or UTC)", s);
                return;
        }
        x->valid_zone = s;
        *(char **) field = xstrdup(s);
}

static void h_mode(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (!s)
                return;
        if (streq(s, "import"))
                *(enum promo_mode *) field = MODE_IMPORT;
        else if (streq(s, "dry-run"))
                *(enum promo_mode *) field = MODE_DRY_RUN;
        else
                err(x, v, path, "'%.64s' is not valid (use import or dry-run)", s);
}

/* ---- notify: (top level and per promotion) ----------------------------------- */

#define EXEC_TIMEOUT_MAX_USEC (3600 * USEC_PER_SEC)
#define EXEC_ARGS_MAX 64

static const char *const notify_event_words[] = {
#define NOTIFY_EVENT_WORD(name, word) word,
        NOTIFY_EVENTS(NOTIFY_EVENT_WORD)
#undef NOTIFY_EVENT_WORD
};

const char *notify_event_to_string(enum notify_event e) {
        return e >= 0 && e < _NOTIFY_EVENT_MAX ? notify_event_words[e] : NULL;
}

int notify_event_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(notify_event_words); i++)
                if (streq(notify_event_words[i], s))
                        return (int) i;
        return -EINVAL;
}

void notify_free(struct notify *n) {
        if (!n)
                return;
        for (size_t i = 0; n->exec && n->exec[i]; i++)
                free(n->exec[i]);
        free(n->exec);
        secret_free(n->webhook_url);
        free(n->webhook_source);
        free(n->webhook_origin);
        free(n);
}

const struct notify *config_notify_of(const struct config *c, const struct promotion *p) {
        return p && p->notify_set ? p->notify : c ? c->notify : NULL;
}

struct nbuild {
        struct notify n;
        char *url_file, *credential;
};

static void h_notify_events(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct notify *n = field;
        if (v->type != NODE_SEQUENCE) {
                err(x, v, path, "expected a sequence of events (failed, succeeded, dry-run-rejected, "
                    "import-outcome-unknown, awaiting-approval)");
                return;
        }
        if (too_many(x, v, path))
                return;
        n->events = 0;
        for (size_t i = 0; i < v->n; i++) {
                _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                const char *s = get_string(x, p, kid(x, v, i));
                int e = s ? notify_event_from_string(s) : -EINVAL;
                if (s && e < 0)
                        err(x, kid(x, v, i), p, "unknown event '%.64s' (use failed, succeeded, dry-run-rejected, "
                            "import-outcome-unknown or awaiting-approval)", s);
                else if (e >= 0)
                        n->events |= 1u << e;
        }
        if (v->n == 0)
                err(x, v, path, "empty list (leave events: out for all of them, or use notify: none)");
}

/* An argv list, run without a shell: its first word an absolute path, so
 * what runs does not depend on $PATH. */
static void h_notify_exec(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct notify *n = field;
        if (v->type != NODE_SEQUENCE || v->n == 0) {
                err(x, v, path, "expected a non-empty list: the program (an absolute path) and its arguments; "
                    "it runs without a shell");
                return;
        }
        if (v->n > EXEC_ARGS_MAX) {
                err(x, v, path, "too many arguments (%u, at most %d)", (unsigned) v->n, EXEC_ARGS_MAX);
                return;
        }
        char **argv = xcalloc(v->n + 1, sizeof *argv);
        bool ok = true;
        for (size_t i = 0; i < v->n; i++) {
                _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                const char *s = i == 0 ? get_string(x, p, kid(x, v, i)) : get_scalar(x, p, kid(x, v, i));
                if (!s) {
                        ok = false;
                        break;
                }
                if (i == 0 && s[0] != '/') {
                        err(x, kid(x, v, i), p, "'%.200s' is not an absolute path (the program runs without a "
                            "shell and without $PATH)", s);
                        ok = false;
                        break;
                }
                argv[i] = xstrdup(s);
        }
        if (!ok) {
                for (size_t i = 0; argv[i]; i++)
                        free(argv[i]);
                free(argv);
                return;
        }
        n->exec = argv;
}

static void h_notify_exec_timeout(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        (void) get_duration(x, path, v, USEC_PER_SEC, EXEC_TIMEOUT_MAX_USEC, (uint64_t *) field);
}

static const struct key_handler webhook_tab[] = {
        { "url_file",   h_abs_path,   offsetof(struct nbuild, url_file),   0, false },
        { "credential", h_credential, offsetof(struct nbuild, credential), 0, false },
};

/* "https://host:port" of a URL: what a log line may say of it (no
 * user:password@, path or query, which may carry the token). */
static char *url_origin(const char *url) {
        const char *h = strstr(url, "://");
        h = h ? h + 3 : url;
        size_t n = strcspn(h, "/?#");
        const char *at = memrchr(h, '@', n);
        if (at) {
                n -= (size_t) (at + 1 - h);
                h = at + 1;
        }
        return xasprintf("%.*s%.*s", (int) (strstr(url, "://") ? strstr(url, "://") + 3 - url : 0), url, (int) n, h);
}

static void h_notify_webhook(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct nbuild *nb = field;
        struct node *vals[ELEMENTSOF(webhook_tab)] = {};
        size_t errors_before = x->n_errors;
        struct auth a = {};

        if (!parse_mapping(x, v, path, webhook_tab, ELEMENTSOF(webhook_tab), nb, vals))
                return;
        if (!vals[0] == !vals[1]) {
                if (vals[0])
                        err(x, vals[1], path, "use either url_file: or credential:, not both");
                else
                        err(x, v, path, "missing required key 'url_file' or 'credential'");
                return;
        }
        if (x->n_errors != errors_before)
                return;
        _cleanup_free_ char *file = nb->url_file ? xstrdup(nb->url_file) : credential_path(x, path, vals[1], nb->credential);
        if (!file)
                return;
        _cleanup_free_ char *p = path_join(path, vals[0] ? "url_file" : "credential");
        nb->n.webhook_source = xstrdup(file);
        if (x->no_secrets)
                return;
        load_secret(x, p, vals[0] ? vals[0] : vals[1], file, &a);
        free(a.secret_path);
        if (!a.secret)
                return;
        /* the URL itself is never echoed: see h_url */
        if (strncasecmp(a.secret, "https://", 8) != 0 && strncasecmp(a.secret, "http://", 7) != 0) {
                err(x, vals[0] ? vals[0] : vals[1], p, "%s does not hold an https:// or http:// URL", file);
                secret_free(a.secret);
                return;
        }
        nb->n.webhook_url = a.secret;
        nb->n.webhook_origin = url_origin(a.secret);
}

static const struct key_handler notify_tab[] = {
        { "events",       h_notify_events,       offsetof(struct nbuild, n),                   0, false },
        { "exec",         h_notify_exec,         offsetof(struct nbuild, n),                   0, false },
        { "exec_timeout", h_notify_exec_timeout, offsetof(struct nbuild, n.exec_timeout_usec), 0, false },
        { "webhook",      h_notify_webhook,      0,                                            0, false },
};

/* A notify: mapping into *ret (allocated even after errors: freed with
 * the build). */
static void parse_notify(struct ctx *x, const char *path, struct node *v, struct notify **ret) {
        struct nbuild nb = { .n = { .events = (1u << _NOTIFY_EVENT_MAX) - 1,
                                    .exec_timeout_usec = NOTIFY_EXEC_TIMEOUT_DEFAULT_USEC } };
        struct node *vals[ELEMENTSOF(notify_tab)] = {};

        if (parse_mapping(x, v, path, notify_tab, ELEMENTSOF(notify_tab), &nb, vals) &&
            !val_of(notify_tab, ELEMENTSOF(notify_tab), vals, "exec") &&
            !val_of(notify_tab, ELEMENTSOF(notify_tab), vals, "webhook"))
                err(x, v, path, "nothing to send: give exec:, webhook: or both (or notify: none on a promotion)");
        free(nb.url_file);
        free(nb.credential);
        *ret = xmalloc(sizeof **ret);
        **ret = nb.n;
}

static void h_notify_top(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        parse_notify(x, path, v, &x->notify);
}

static void h_notify_promo(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct promotion *p = field;
        p->notify_set = true;
        if (v->type == NODE_SCALAR && streq(text_of(x, v), "none"))
                return;
        if (v->type != NODE_MAPPING) {
                err(x, v, path, "expected a mapping (events:, exec:, exec_timeout:, webhook:) or none");
                return;
        }
        parse_notify(x, path, v, &p->notify);
}

static void h_after(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        if (s)
                *(char **) field = xstrdup(s);
}

static const struct key_handler promo_tab[] = {
        { "name",     h_promo_name, offsetof(struct pbuild, p.name),     0, true },
        { "package",  h_package,    offsetof(struct pbuild, p.package),  0, true },
        { "from",     h_string,     offsetof(struct pbuild, from_name),  0, true },
        { "to",       h_string,     offsetof(struct pbuild, to_name),    0, true },
        { "schedule", h_schedule,   offsetof(struct pbuild, p),          0, false },     /* or after: (chain_check) */
        { "after",    h_after,      offsetof(struct pbuild, p.after),    0, false },
        { "notify",   h_notify_promo, offsetof(struct pbuild, p),        0, false },
        { "timezone", h_timezone,   offsetof(struct pbuild, p.timezone), 0, false },
        { "catch_up", h_bool,       offsetof(struct pbuild, p.catch_up), 0, false },
        { "mode",     h_mode,       offsetof(struct pbuild, p.mode),     0, false },
#define PROMO_SETTING_KEY(key, ...) SETTING_KEY(offsetof(struct pbuild, over), key)
        SETTINGS(PROMO_SETTING_KEY)
};
_Static_assert(ELEMENTSOF(promo_tab) <= 64, "parse_mapping takes at most 64 keys");

static void h_promotions(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        if (is_null(x, v))
                return;
        if (v->type != NODE_SEQUENCE) {
                err(x, v, path, "expected a sequence");
                return;
        }
        if (too_many(x, v, path))
                return;
        size_t n = v->n;
        x->promos = xcalloc(n, sizeof(*x->promos));
        x->promo_vals = xcalloc(n * ELEMENTSOF(promo_tab), sizeof(*x->promo_vals));
        for (size_t i = 0; i < n; i++) {
                struct node *item = kid(x, v, i);
                _cleanup_free_ char *child = xasprintf("%s[%zu]", path, i);
                struct pbuild *pb;

                if (!first_visit(item))
                        continue;
                pb = &x->promos[x->n_promos];
                pb->vals = &x->promo_vals[x->n_promos++ * ELEMENTSOF(promo_tab)];
                pb->index = i;

                pb->p.catch_up = true;
                pb->p.mode = MODE_IMPORT;
                pb->p.line = (unsigned) item->line + 1;
                pb->item = item;
                (void) parse_mapping(x, item, child, promo_tab, ELEMENTSOF(promo_tab), pb, pb->vals);
        }
}

/* ---- top level --------------------------------------------------------------- */

static void h_state_directory(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        char *s = NULL;
        if (get_abs_path(x, path, v, &s) < 0)
                return;
        for (size_t l = strlen(s); l > 1 && s[l - 1] == '/'; l--)
                s[l - 1] = 0;
        x->state_directory = s;
}

static void h_control_socket(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        struct sockaddr_un sa;
        char *s = NULL;
        if (get_abs_path(x, path, v, &s) < 0)
                return;
        if (strlen(s) >= sizeof(sa.sun_path)) {
                err(x, v, path, "is longer than %zu bytes (the limit of a unix socket path)", sizeof(sa.sun_path) - 1);
                free(s);
                return;
        }
        x->control_socket = s;
}

/* metrics_file: node_exporter's textfile collector reads only *.prom
 * files: a name without that ending would be written and never served.
 * Whether its folder exists is a question for run time (metrics.c logs
 * it, naming this key): the folder may be mounted after the check. */
static void h_metrics_file(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *base;
        char *s = NULL;
        if (get_abs_path(x, path, v, &s) < 0)
                return;
        base = strrchr(s, '/') + 1;
        if (strlen(base) <= strlen(".prom") || !streq(base + strlen(base) - strlen(".prom"), ".prom")) {
                err(x, v, path, "'%.200s' must name a file ending in .prom (node_exporter's textfile collector "
                    "reads only those)", s);
                free(s);
                return;
        }
        x->metrics_file = s;
}

static void h_max_parallel(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        unsigned long long n;
        if (get_uint(x, path, v, 1, MAX_PARALLEL_MAX, &n) < 0)
                return;
        x->max_parallel = (unsigned) n;
        x->max_parallel_set = true;
}

/* history_keep: a duration of at least 1d (a shorter one would remove the
 * record of a job the operator has not had a working day to look at), or
 * "forever" for a service that must keep every record (audits) or whose
 * history is pruned by something else. */
static void h_history_keep(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        const char *s = get_string(x, path, v);
        uint64_t u = 0;
        int r;
        if (!s)
                return;
        if (!streq(s, "forever")) {
                r = parse_duration(s, &u);
                if (r == -EINVAL) {
                        err(x, v, path, "'%.64s' is not a duration (use e.g. 30d, 90d, 365d) or 'forever'", s);
                        return;
                }
                if (r < 0 || u < HISTORY_KEEP_MIN_USEC || u > HISTORY_KEEP_MAX_USEC) {
                        err(x, v, path, "%.64s is out of range 1d..36500d (or 'forever')", s);
                        return;
                }
        }
        x->history_keep = u;
        x->history_keep_set = true;
}

char *history_keep_text(char *buf, size_t n, uint64_t usec) {
        if (usec == 0) {
                snprintf(buf, n, "forever");
                return buf;
        }
        return format_duration(buf, n, usec);
}

static void h_defaults(struct ctx *x, const char *path, struct node *v, void *field, uintptr_t arg) {
        if (is_null(x, v))
                return;
        (void) parse_mapping(x, v, path, defaults_tab, ELEMENTSOF(defaults_tab), &x->defaults, NULL);
}

static const struct key_handler root_tab[] = {
        { "state_directory", h_state_directory, 0, 0, false },
        { "max_parallel",    h_max_parallel,    0, 0, false },
        { "history_keep",    h_history_keep,    0, 0, false },
        { "control_socket",  h_control_socket,  0, 0, false },
        { "metrics_file",    h_metrics_file,    0, 0, false },
        { "defaults",        h_defaults,        0, 0, false },
        { "tenants",         h_tenants,         0, 0, false },
        { "promotions",      h_promotions,      0, 0, false },
        { "notify",          h_notify_top,      0, 0, false },
};

/* ---- cross checks after the walk --------------------------------------------- */

static bool find_tenant_idx(struct ctx *x, const char *name, size_t *ret) {
        for (size_t i = 0; i < x->n_tenants; i++)
                if (streq(x->tenants[i].t.name, name)) {
                        *ret = i;
                        return true;
                }
        return false;
}

static void unknown_tenant(struct ctx *x, struct node *at, const char *path, const char *name) {
        const char **names = xcalloc(x->n_tenants, sizeof(char *));
        for (size_t i = 0; i < x->n_tenants; i++)
                names[i] = x->tenants[i].t.name;
        const char *s = closest(name, names, x->n_tenants);
        if (s)
                err(x, at, path, "unknown tenant '%.64s' (did you mean '%s'?)", name, s);
        else if (x->n_tenants == 0)
                err(x, at, path, "unknown tenant '%.64s' (no tenants are defined under tenants:)", name);
        else
                err(x, at, path, "unknown tenant '%.64s'", name);
        free(names);
}

static void cross_check(struct ctx *x) {
        /* promotion names seen so far, for the duplicate check: an open
         * addressing table of promos index + 1 (0: free), O(n) overall */
        size_t cap = 16;
        while (cap < 2 * x->n_promos)
                cap *= 2;
        _cleanup_free_ size_t *seen = xcalloc(cap, sizeof *seen);

        for (size_t i = 0; i < x->n_promos; i++) {
                struct pbuild *pb = &x->promos[i];
                struct node *const *vals = pb->vals;
                const size_t nt = ELEMENTSOF(promo_tab);

                pb->p.settings = settings_builtin;
                settings_merge(&pb->p.settings, &x->defaults);
                settings_merge(&pb->p.settings, &pb->over);

                if (pb->from_name && !find_tenant_idx(x, pb->from_name, &pb->from_idx)) {
                        _cleanup_free_ char *p = xasprintf("promotions[%zu].from", pb->index);
                        unknown_tenant(x, val_of(promo_tab, nt, vals, "from"), p, pb->from_name);
                }
                if (pb->to_name) {
                        _cleanup_free_ char *p = xasprintf("promotions[%zu].to", pb->index);
                        struct node *at = val_of(promo_tab, nt, vals, "to");
                        if (pb->from_name && streq(pb->from_name, pb->to_name))
                                err(x, at, p, "'%.64s' is the same tenant as from:", pb->to_name);
                        else if (!find_tenant_idx(x, pb->to_name, &pb->to_idx))
                                unknown_tenant(x, at, p, pb->to_name);
                }

                if (!pb->p.name)
                        continue;
                for (size_t k = str_hash(pb->p.name) & (cap - 1);; k = (k + 1) & (cap - 1)) {
                        size_t j = seen[k];
                        if (!j) {
                                seen[k] = i + 1;
                                break;
                        }
                        if (streq(x->promos[j - 1].p.name, pb->p.name)) {
                                _cleanup_free_ char *p = xasprintf("promotions[%zu].name", pb->index);
                                struct node *first = val_of(promo_tab, nt, x->promos[j - 1].vals, "name");
                                err(x, val_of(promo_tab, nt, vals, "name"), p,
                                    "duplicate promotion name '%s' (first at line %zu)", pb->p.name,
                                    (size_t) first->line + 1);
                                break;
                        }
                }
        }
}

/* after: (chained promotions).  A promotion runs on schedule: or after:
 * another, never both or neither; the promotion it names exists and is not
 * itself; and following after: from any promotion never comes back to it:
 * a cycle would never start (nothing in it has a schedule) and is refused
 * with its path, so the operator sees which after: to change. */
static void chain_check(struct ctx *x) {
        const size_t nt = ELEMENTSOF(promo_tab), n = x->n_promos;
        size_t cap = 16;
        while (cap < 2 * n)
                cap *= 2;
        _cleanup_free_ size_t *tab = xcalloc(cap, sizeof *tab);  /* promos index + 1 by name */
        _cleanup_free_ size_t *up = xcalloc(MAX(n, (size_t) 1), sizeof *up);    /* upstream index + 1 */
        _cleanup_free_ uint8_t *color = xcalloc(MAX(n, (size_t) 1), 1);        /* 0 new, 1 on the path, 2 done */
        _cleanup_free_ size_t *path = xcalloc(MAX(n, (size_t) 1), sizeof *path);

        for (size_t i = 0; i < n; i++) {
                const char *name = x->promos[i].p.name;
                if (!name)
                        continue;
                for (size_t k = str_hash(name) & (cap - 1);; k = (k + 1) & (cap - 1)) {
                        if (!tab[k]) {
                                tab[k] = i + 1;
                                break;
                        }
                        if (streq(x->promos[tab[k] - 1].p.name, name))
                                break;  /* a duplicate: cross_check said so */
                }
        }
        for (size_t i = 0; i < n; i++) {
                struct pbuild *pb = &x->promos[i];
                struct node *sched = val_of(promo_tab, nt, pb->vals, "schedule");
                struct node *after = val_of(promo_tab, nt, pb->vals, "after");
                _cleanup_free_ char *p = xasprintf("promotions[%zu].after", pb->index);

                if (pb->item->type != NODE_MAPPING)
                        continue;       /* said already */
                if (sched && after) {
                        err(x, after, p, "use either schedule: or after:, not both");
                        continue;
                }
                if (!sched && !after) {
                        _cleanup_free_ char *q = xasprintf("promotions[%zu]", pb->index);
                        err(x, pb->item, q, "missing required key 'schedule' (or 'after' to run after another "
                            "promotion succeeds)");
                        continue;
                }
                if (!pb->p.after)
                        continue;
                if (pb->p.name && streq(pb->p.after, pb->p.name)) {
                        err(x, after, p, "'%.64s' is this promotion itself", pb->p.after);
                        continue;
                }
                for (size_t k = str_hash(pb->p.after) & (cap - 1); tab[k]; k = (k + 1) & (cap - 1))
                        if (streq(x->promos[tab[k] - 1].p.name, pb->p.after)) {
                                up[i] = tab[k];
                                break;
                        }
                if (!up[i]) {
                        const char **names = xcalloc(MAX(n, (size_t) 1), sizeof(char *));
                        size_t m = 0;
                        for (size_t j = 0; j < n; j++)
                                if (x->promos[j].p.name)
                                        names[m++] = x->promos[j].p.name;
                        const char *s = closest(pb->p.after, names, m);
                        if (s)
                                err(x, after, p, "unknown promotion '%.64s' (did you mean '%s'?)", pb->p.after, s);
                        else
                                err(x, after, p, "unknown promotion '%.64s'", pb->p.after);
                        free(names);
                }
        }
        /* each promotion has at most one upstream: walk up from each one
         * not seen yet; meeting the walk's own path again is a cycle */
        for (size_t i = 0; i < n; i++) {
                size_t len = 0, j = i;
                while (color[j] == 0) {
                        color[j] = 1;
                        path[len++] = j;
                        if (!up[j])
                                break;
                        j = up[j] - 1;
                }
                if (color[j] == 1 && up[j]) {
                        /* j is on the path and leads back to itself */
                        struct buf b = {};
                        size_t k = j;
                        do {
                                buf_append(&b, x->promos[k].p.name, strlen(x->promos[k].p.name));
                                buf_append(&b, " after ", 7);
                                k = up[k] - 1;
                        } while (k != j);
                        buf_append(&b, x->promos[j].p.name, strlen(x->promos[j].p.name) + 1);
                        _cleanup_free_ char *p = xasprintf("promotions[%zu].after", x->promos[j].index);
                        err(x, val_of(promo_tab, nt, x->promos[j].vals, "after"), p,
                            "a cycle: %s (none of them would ever run)", b.data);
                        buf_free(&b);
                }
                for (size_t k = 0; k < len; k++)
                        color[path[k]] = 2;
        }
}

/* ---- pass 1: syntax, refused YAML features, the node tree ------------------- */

struct frame {
        bool is_map, want_key;
        size_t idx;
        char *key;
        uint32_t node;          /* in the tree (first document only) */
        size_t open0;           /* its children start at tree.open[open0] */
};

/* p grown (doubling) to hold at least need elements of size bytes. */
static void *grow(void *p, size_t *cap, size_t need, size_t size) {
        size_t c = *cap ? *cap : 64;

        if (p && need <= *cap)
                return p;
        while (c < need)
                c *= 2;
        *cap = c;
        return xrealloc(p, c * size);
}

static void tree_free(struct tree *t) {
        free(t->nodes);
        free(t->kids);
        buf_free(&t->text);
        free(t->open);
        free(t->anchors);
        *t = (struct tree) {};
}

static struct anchor *anchor_slot(struct tree *t, const char *name) {
        size_t mask = t->cap_anchors - 1;

        for (size_t k = str_hash(name) & mask;; k = (k + 1) & mask) {
                struct anchor *a = &t->anchors[k];
                if (!a->name || streq(t->text.data + a->name - 1, name))
                        return a;
        }
}

static void anchor_add(struct tree *t, const char *name, uint32_t node) {
        struct anchor *a;

        if (2 * (t->n_anchors + 1) > t->cap_anchors) {
                struct anchor *old = t->anchors;
                size_t n = t->cap_anchors;

                t->cap_anchors = n ? 2 * n : 16;
                t->anchors = xcalloc(t->cap_anchors, sizeof(*t->anchors));
                for (size_t i = 0; i < n; i++)
                        if (old[i].name)
                                *anchor_slot(t, t->text.data + old[i].name - 1) = old[i];
                free(old);
        }
        a = anchor_slot(t, name);
        if (a->name) {
                t->broken = true;       /* libyaml: "found duplicate anchor" */
                return;
        }
        a->name = (uint32_t) t->text.len + 1;
        a->node = node;
        buf_append(&t->text, name, strlen(name) + 1);
        t->n_anchors++;
}

/* Node i becomes the next child of the innermost open container. */
static void tree_link(struct tree *t, uint32_t i) {
        t->open = grow(t->open, &t->cap_open, t->n_open + 1, sizeof(*t->open));
        t->open[t->n_open++] = i;
}

/* A node for a scalar or the start of a container.  The first one is the
 * root; the others hang under the innermost open container. */
static uint32_t tree_add(struct tree *t, const yaml_event_t *ev, enum node_type type, const char *anchor,
                         bool has_parent) {
        uint32_t i = (uint32_t) t->n_nodes;
        struct node *n;

        t->nodes = grow(t->nodes, &t->cap_nodes, t->n_nodes + 1, sizeof(*t->nodes));
        n = &t->nodes[t->n_nodes++];
        *n = (struct node) {
                .type = type,
                .line = (uint32_t) ev->start_mark.line,
                .column = (uint32_t) ev->start_mark.column,
        };
        if (type == NODE_SCALAR) {
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                n->off = (uint32_t) t->text.len;
                n->len = (uint32_t) ev->data.scalar.length;
                buf_append(&t->text, ev->data.scalar.value, ev->data.scalar.length);
                buf_append(&t->text, "", 1);
        }
        if (anchor)
                anchor_add(t, anchor, i);
        if (has_parent)
                tree_link(t, i);
        return i;
}

/* The container of frame f ends: its children, known only now, move from
 * the open stack to their final place in kids. */
static void tree_close(struct tree *t, const struct frame *f) {
        struct node *n = &t->nodes[f->node];
        size_t k = t->n_open - f->open0;

        n->first = (uint32_t) t->n_kids;
        n->n = (uint32_t) k;
        if (k == 0)
                return;
        t->kids = grow(t->kids, &t->cap_kids, t->n_kids + k, sizeof(*t->kids));
        memcpy(t->kids + t->n_kids, t->open + f->open0, k * sizeof(*t->kids));
        t->n_kids += k;
        t->n_open = f->open0;
}

/* An alias is one more reference to the anchored node, as in libyaml's
 * document. */
static void tree_alias(struct tree *t, const char *name, bool has_parent) {
        struct anchor *a = t->cap_anchors > 0 ? anchor_slot(t, name) : NULL;

        if (!a || !a->name) {
                t->broken = true;       /* libyaml: "found undefined alias" */
                return;
        }
        if (has_parent)
                tree_link(t, a->node);
}

/* The key path of the node the parser is at. */
/* At most this many bytes of a path are shown, then "...": a message per
 * anchor, each with the whole path of a node nested 20000 levels deep (or
 * under a 500 KB key), made a 160 KB file take 1.3 GB and 35 s to refuse. */
#define FRAMES_PATH_MAX 200

static char *frames_path(const struct frame *f, size_t depth) {
        struct buf b = {};
        buf_append(&b, "", 0);
        for (size_t i = 0; i < depth; i++) {
                if (b.len >= FRAMES_PATH_MAX) {
                        buf_append(&b, "...", 3);
                        break;
                }
                if (!f[i].is_map) {
                        char s[32];
                        snprintf(s, sizeof s, "[%zu]", f[i].idx);
                        buf_append(&b, s, strlen(s));
                } else if (i + 1 < depth || !f[i].want_key) {
                        const char *k = f[i].want_key || !f[i].key ? "?" : f[i].key;
                        size_t room = FRAMES_PATH_MAX - b.len, l = strnlen(k, room + 1);
                        if (b.len > 0)
                                buf_append(&b, ".", 1);
                        buf_append(&b, k, MIN(l, room));
                        if (l > room) {
                                buf_append(&b, "...", 3);
                                break;
                        }
                }
        }
        return b.data;
}

static void frame_node_done(struct frame *f, size_t depth) {
        if (depth == 0)
                return;
        struct frame *t = &f[depth - 1];
        if (!t->is_map)
                t->idx++;
        else if (t->want_key)
                t->want_key = false;
        else {
                t->want_key = true;
                free(t->key);
                t->key = NULL;
        }
}

static void syntax_error(struct ctx *x, yaml_parser_t *p, const char *text, size_t len) {
        yaml_mark_t m = p->problem_mark;

        if (p->error == YAML_MEMORY_ERROR) {
                fputs("dev2prodd: out of memory (libyaml)\n", stderr);
                abort();
        }
        if (p->error == YAML_READER_ERROR) {
                /* Only a byte offset: find its line and column. */
                m = (yaml_mark_t) {};
                for (size_t i = 0; i < p->problem_offset && i < len; i++) {
                        if (text[i] == '\n') {
                                m.line++;
                                m.column = 0;
                        } else
                                m.column++;
                }
        }
        const char *problem = p->problem ? p->problem : "unknown problem";
        const char *hint = p->error == YAML_SCANNER_ERROR && m.index < len && text[m.index] == '\t' ?
                           " (a tab: YAML indents with spaces only)" : "";
        if (p->context && (p->context_mark.line != m.line || p->context_mark.column != m.column))
                err_mark(x, m, "syntax error", "%s%s (%s at line %zu, column %zu)", problem, hint, p->context,
                         p->context_mark.line + 1, p->context_mark.column + 1);
        else if (p->context)
                err_mark(x, m, "syntax error", "%s%s (%s)", problem, hint, p->context);
        else
                err_mark(x, m, "syntax error", "%s%s", problem, hint);
}

/* Returns false on a syntax error (reported).  Builds x->tree from the first
 * document. */
static bool parse(struct ctx *x, const char *text, size_t len) {
        struct tree *t = &x->tree;
        yaml_parser_t parser;
        struct frame *frames = NULL;
        size_t depth = 0, cap_frames = 0, ndocs = 0;
        bool ok = true, done = false;

        if (!yaml_parser_initialize(&parser)) {
                fputs("dev2prodd: out of memory (libyaml)\n", stderr);
                abort();
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        while (!done) {
                yaml_event_t ev;
                const char *anchor = NULL, *tag = NULL;
                bool push = false, is_map = false, build;

                if (!yaml_parser_parse(&parser, &ev)) {
                        syntax_error(x, &parser, text, len);
                        ok = false;
                        break;
                }
                /* yaml_parser_load() read the first document only, and
                 * stopped at a duplicate anchor or undefined alias. */
                build = ndocs == 1 && !t->broken;
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++ndocs == 2)
                                err_mark(x, ev.start_mark, NULL, "only one YAML document is allowed in the file");
                        break;
                case YAML_ALIAS_EVENT: {
                        _cleanup_free_ char *p = frames_path(frames, depth);
                        err_mark(x, ev.start_mark, p, "YAML aliases are not supported (*%s)",
                                 (const char *) ev.data.alias.anchor);
                        if (build)
                                tree_alias(t, (const char *) ev.data.alias.anchor, depth > 0);
                        frame_node_done(frames, depth);
                        break;
                }
                case YAML_SCALAR_EVENT:
                        anchor = (const char *) ev.data.scalar.anchor;
                        tag = (const char *) ev.data.scalar.tag;
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        anchor = (const char *) ev.data.sequence_start.anchor;
                        tag = (const char *) ev.data.sequence_start.tag;
                        push = true;
                        break;
                case YAML_MAPPING_START_EVENT:
                        anchor = (const char *) ev.data.mapping_start.anchor;
                        tag = (const char *) ev.data.mapping_start.tag;
                        push = is_map = true;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0) {
                                if (build)
                                        tree_close(t, &frames[depth - 1]);
                                free(frames[depth - 1].key);
                                depth--;
                        }
                        frame_node_done(frames, depth);
                        break;
                default:
                        break;
                }

                if (ev.type == YAML_SCALAR_EVENT || push) {
                        uint32_t node = 0;

                        if (anchor || tag) {
                                _cleanup_free_ char *p = frames_path(frames, depth);
                                if (anchor)
                                        err_mark(x, ev.start_mark, p, "YAML anchors are not supported (&%s)", anchor);
                                if (tag) {
                                        bool std = strncmp(tag, "tag:yaml.org,2002:", 18) == 0;
                                        err_mark(x, ev.start_mark, p, "YAML tags are not supported (%s%s)",
                                                 std ? "!!" : "", std ? tag + 18 : tag);
                                }
                        }
                        if (build)
                                node = tree_add(t, &ev, ev.type == YAML_SCALAR_EVENT ? NODE_SCALAR :
                                                        is_map ? NODE_MAPPING : NODE_SEQUENCE,
                                                anchor, depth > 0);
                        if (ev.type == YAML_SCALAR_EVENT) {
                                if (depth > 0 && frames[depth - 1].is_map && frames[depth - 1].want_key)
                                        frames[depth - 1].key = xstrdup((const char *) ev.data.scalar.value);
                                frame_node_done(frames, depth);
                        } else {
                                frames = grow(frames, &cap_frames, depth + 1, sizeof(*frames));
                                frames[depth++] = (struct frame) {
                                        .is_map = is_map,
                                        .want_key = true,
                                        .node = node,
                                        .open0 = t->n_open,
                                };
                        }
                }
                yaml_event_delete(&ev);
        }

        while (depth > 0)
                free(frames[--depth].key);
        free(frames);
        yaml_parser_delete(&parser);
        /* only needed while building */
        free(t->open);
        t->open = NULL;
        t->n_open = t->cap_open = 0;
        free(t->anchors);
        t->anchors = NULL;
        t->n_anchors = t->cap_anchors = 0;
        return ok;
}

/* ---- load ---------------------------------------------------------------------- */

static void tenant_done(struct tenant *t) {
        free(t->name);
        free(t->url);
        free(t->tenant_id);
        free(t->ca_file);
        free(t->auth.secret_path);
        secret_free(t->auth.secret);
        free(t->auth.username);
        free(t->auth.role);
}

static void promotion_done(struct promotion *p) {
        free(p->name);
        free(p->package);
        free(p->schedule);
        cron_free(p->cron);
        free(p->timezone);
        free(p->after);
        notify_free(p->notify);
}

static void ctx_done(struct ctx *x) {
        free(x->state_directory);
        free(x->control_socket);
        free(x->metrics_file);
        for (size_t i = 0; i < x->n_tenants; i++) {
                struct abuild *a = &x->tenants[i].a;
                tenant_done(&x->tenants[i].t);
                free(a->key_file);
                free(a->credential);
                free(a->username);
                free(a->password_file);
                free(a->password_credential);
                free(a->role);
        }
        free(x->tenants);
        for (size_t i = 0; i < x->n_promos; i++) {
                promotion_done(&x->promos[i].p);
                free(x->promos[i].from_name);
                free(x->promos[i].to_name);
        }
        free(x->promos);
        free(x->promo_vals);
        notify_free(x->notify);
}

/* The first folder of a systemd folder list ($STATE_DIRECTORY may be
 * "/var/lib/a:/var/lib/b"), or NULL. */
static char *first_dir_of_env(const char *name) {
        const char *e = getenv(name);
        if (!e || e[0] != '/')
                return NULL;
        char *s = xstrndup(e, strcspn(e, ":"));
        for (size_t l = strlen(s); l > 1 && s[l - 1] == '/'; l--)
                s[l - 1] = 0;
        return s;
}

static char *default_state_directory(void) {
        char *s = first_dir_of_env("STATE_DIRECTORY");
        return s ? s : xstrdup(DEFAULT_STATE_DIR);
}

static char *default_control_socket(void) {
        _cleanup_free_ char *d = first_dir_of_env("RUNTIME_DIRECTORY");
        if (d)
                return xasprintf("%s%s", streq(d, "/") ? "" : d, "/control.sock");
        return xstrdup(DEFAULT_CONTROL_SOCKET);
}

/* Moves everything from the build structures into a new config. */
static struct config *assemble(struct ctx *x) {
        struct config *c = xcalloc(1, sizeof(*c));

        c->path = xstrdup(x->path);
        c->state_directory = x->state_directory ? x->state_directory : default_state_directory();
        x->state_directory = NULL;
        c->control_socket = x->control_socket ? x->control_socket : default_control_socket();
        x->control_socket = NULL;
        c->metrics_file = TAKE_PTR(x->metrics_file);
        c->max_parallel = x->max_parallel_set ? x->max_parallel : 4;
        c->history_keep_usec = x->history_keep_set ? x->history_keep : HISTORY_KEEP_DEFAULT_USEC;
        c->defaults = settings_builtin;
        settings_merge(&c->defaults, &x->defaults);

        c->tenants = xcalloc(x->n_tenants, sizeof(struct tenant));
        for (size_t i = 0; i < x->n_tenants; i++) {
                c->tenants[i] = x->tenants[i].t;
                x->tenants[i].t = (struct tenant) {};
        }
        c->n_tenants = x->n_tenants;

        c->promotions = xcalloc(x->n_promos, sizeof(struct promotion));
        for (size_t i = 0; i < x->n_promos; i++) {
                struct promotion *p = &c->promotions[i];
                *p = x->promos[i].p;
                x->promos[i].p = (struct promotion) {};
                p->from = &c->tenants[x->promos[i].from_idx];
                p->to = &c->tenants[x->promos[i].to_idx];
        }
        c->n_promotions = x->n_promos;
        c->notify = TAKE_PTR(x->notify);
        return c;
}

/* Everything but reading the file; errors stay in x. */
static int load_text(struct ctx *x, const char *text, size_t len, struct config **ret) {
        struct node *root;

        if (!parse(x, text, len) || x->tree.broken) {
                /* a broken tree comes with an anchor or alias message */
                assert(x->n_errors > 0);
                tree_free(&x->tree);
                return -EINVAL;
        }

        root = x->tree.n_nodes > 0 ? &x->tree.nodes[0] : NULL;
        if (!root)
                err_mark(x, (yaml_mark_t) {}, NULL, "the configuration is empty");
        else if (is_null(x, root))
                err(x, root, NULL, "the configuration is empty");
        else {
                (void) first_visit(root);
                (void) parse_mapping(x, root, "", root_tab, ELEMENTSOF(root_tab), x, NULL);
                cross_check(x);
                chain_check(x);
        }
        tree_free(&x->tree);

        if (x->n_errors > 0)
                return -EINVAL;
        *ret = assemble(x);
        return 0;
}

int config_load(const char *path, struct config **ret, struct errlist *errs) {
        return config_load_flags(path, 0, ret, errs);
}

int config_load_flags(const char *path, unsigned flags, struct config **ret, struct errlist *errs) {
        _cleanup_free_ char *text = NULL;
        struct ctx x = { .path = path, .no_secrets = flags & CONFIG_NO_SECRETS };
        size_t len = 0;
        int r;

        assert(path && ret && errs);
        *ret = NULL;

        r = read_file_small(path, CONFIG_MAX_SIZE, &text, &len);
        if (r < 0)
                return r;

        r = load_text(&x, text, len, ret);
        flush_errors(&x, errs);
        ctx_done(&x);
        return r;
}

void config_free(struct config *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_tenants; i++)
                tenant_done(&c->tenants[i]);
        free(c->tenants);
        for (size_t i = 0; i < c->n_promotions; i++)
                promotion_done(&c->promotions[i]);
        free(c->promotions);
        notify_free(c->notify);
        free(c->state_directory);
        free(c->control_socket);
        free(c->metrics_file);
        free(c->path);
        free(c);
}

const struct promotion *config_find_promotion(const struct config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_promotions; i++)
                if (streq(c->promotions[i].name, name))
                        return &c->promotions[i];
        return NULL;
}

const struct tenant *config_find_tenant(const struct config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_tenants; i++)
                if (streq(c->tenants[i].name, name))
                        return &c->tenants[i];
        return NULL;
}
