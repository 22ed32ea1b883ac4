/* auth.c — see auth.h. */
#include <errno.h>

#include "auth.h"

static struct session *find(const struct auth_cache *c, const char *tenant) {
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->v[i].tenant, tenant))
                        return &c->v[i];
        return NULL;
}

int auth_header(const struct auth_cache *c, const struct tenant *t, char **ret) {
        const struct session *s;

        switch (t->auth.type) {
        case AUTH_API_KEY:
                *ret = xasprintf("rest_api_key=%s", t->auth.secret);
                return 0;
        case AUTH_BEARER:
                *ret = xasprintf("Bearer %s", t->auth.secret);
                return 0;
        case AUTH_SESSION:
                s = find(c, t->name);
                if (!s || !s->key)
                        return -EAGAIN;
                *ret = xstrdup(s->key);
                return 0;
        }
        return -EINVAL;
}

void auth_set_session(struct auth_cache *c, const char *tenant, const char *key) {
        struct session *s = find(c, tenant);
        if (!s) {
                c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
                s = &c->v[c->n++];
                s->tenant = xstrdup(tenant);
                s->key = NULL;
        }
        secret_free(s->key);
        s->key = xstrdup(key);
}

void auth_drop_session(struct auth_cache *c, const char *tenant) {
        struct session *s = find(c, tenant);
        if (s) {
                secret_free(s->key);
                s->key = NULL;
        }
}

void auth_cache_clear(struct auth_cache *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].tenant);
                secret_free(c->v[i].key);
        }
        free(c->v);
        c->v = NULL;
        c->n = 0;
}
