/* auth.h — the Authorization header of each tenant, and the session keys
 * obtained by logging in (type: session).  Session keys live only in
 * memory: a restarted daemon logs in again. */
#ifndef DEV2PROD_AUTH_H
#define DEV2PROD_AUTH_H

#include "config.h"

struct session {
        char *tenant;           /* tenant name */
        char *key;              /* secret */
};

struct auth_cache {
        struct session *v;
        size_t n;
};

/* The Authorization value for t (malloc'd; a secret: free with
 * secret_free).  Returns 0, or -EAGAIN when t uses sessions and none is
 * open: log in first (api_url_login / api_body_login) and auth_set_session. */
int auth_header(const struct auth_cache *c, const struct tenant *t, char **ret);
void auth_set_session(struct auth_cache *c, const char *tenant, const char *key);
void auth_drop_session(struct auth_cache *c, const char *tenant);
void auth_cache_clear(struct auth_cache *c);

#endif
