/* settings.c — the table of settings, from the rows of settings.h. */
#include <errno.h>

#include "settings.h"

#define MSEC(n) ((uint64_t) (n) * USEC_PER_MSEC)
#define SEC(n)  ((uint64_t) (n) * USEC_PER_SEC)

/* Per type: what follows the key in job files (a duration says its unit
 * there: the files are read by people and scripts), and the words of an
 * enum, in the order of its values. */
static const char *const on_warnings_words[] = { "proceed", "stop", NULL };
static const char *const approval_words[] = { "none", "required", NULL };
#define SETTING_SUFFIX_DURATION    "_usec"
#define SETTING_SUFFIX_UINT        ""
#define SETTING_SUFFIX_ON_WARNINGS ""
#define SETTING_WORDS_DURATION     NULL
#define SETTING_WORDS_UINT         NULL
#define SETTING_WORDS_ON_WARNINGS  on_warnings_words
#define SETTING_SUFFIX_APPROVAL    ""
#define SETTING_WORDS_APPROVAL     approval_words

const struct setting_desc settings_desc[_SETTINGS_N] = {
#define SETTING_DESC(key, member, type, def, min_, max_)                                                \
        [SETTING_##key] = { #key, #key SETTING_SUFFIX_##type, SETTING_T_##type, min_, max_, SETTING_WORDS_##type },
        SETTINGS(SETTING_DESC)
#undef SETTING_DESC
};

const struct settings settings_builtin = {
#define SETTING_DEFAULT(key, member, type, def, ...) .member = def,
        SETTINGS(SETTING_DEFAULT)
#undef SETTING_DEFAULT
};

uint64_t setting_get(const struct settings *s, enum setting_id id) {
        switch (id) {
#define SETTING_GET(key, member, ...) case SETTING_##key: return (uint64_t) s->member;
        SETTINGS(SETTING_GET)
#undef SETTING_GET
        case _SETTINGS_N:
                break;
        }
        return 0;
}

void setting_set(struct settings *s, enum setting_id id, uint64_t v) {
        switch (id) {
#define SETTING_SET(key, member, type, ...) case SETTING_##key: s->member = (SETTING_CTYPE_##type) v; break;
        SETTINGS(SETTING_SET)
#undef SETTING_SET
        case _SETTINGS_N:
                break;
        }
}

int setting_from_word(enum setting_id id, const char *word) {
        const char *const *w = settings_desc[id].words;
        for (size_t i = 0; w && w[i]; i++)
                if (streq(w[i], word))
                        return (int) i;
        return -EINVAL;
}

const char *setting_word(enum setting_id id, uint64_t v) {
        const char *const *w = settings_desc[id].words;
        for (size_t i = 0; w && w[i]; i++)
                if (i == v)
                        return w[i];
        return "unknown";
}

const char *on_warnings_to_string(enum on_warnings w) {
        return setting_word(SETTING_on_warnings, w);
}
