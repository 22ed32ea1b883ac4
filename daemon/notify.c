/* notify.c — see notify.h. */
#include <errno.h>
#include <unistd.h>

#include "failure.h"
#include "json.h"
#include "notify.h"
#include "store.h"

enum notify_event notify_event_of(const struct job *j) {
        const char *st = job_state_to_string(j->state);

        if (j->state == JOB_SUCCEEDED)
                return NOTIFY_SUCCEEDED;
        if (j->state == JOB_CANCELLED)
                return NOTIFY_FAILED;
        if (j->state == JOB_FAILED) {
                if (streq_ptr(j->failure, failure_to_string(FAILURE_DRY_RUN_REJECTED)) ||
                    streq_ptr(j->failure, failure_to_string(FAILURE_DRY_RUN_WARNINGS)))
                        return NOTIFY_DRY_RUN_REJECTED;
                if (streq_ptr(j->failure, failure_to_string(FAILURE_IMPORT_OUTCOME_UNKNOWN)))
                        return NOTIFY_IMPORT_OUTCOME_UNKNOWN;
                return NOTIFY_FAILED;
        }
        /* by name: the state comes with the approval gate (design.md) */
        if (st && streq(st, notify_event_to_string(NOTIFY_AWAITING_APPROVAL)))
                return NOTIFY_AWAITING_APPROVAL;
        return NOTIFY_NONE;
}

static bool recorded(const struct job *j, enum followup_kind k, const char *event, const char *promotion) {
        for (size_t i = 0; i < j->n_followups; i++) {
                const struct followup *f = &j->followups[i];
                if (f->kind == k && streq_ptr(f->event, event) && streq_ptr(f->promotion, promotion))
                        return true;
        }
        return false;
}

static void add(struct job *j, enum followup_kind k, const char *event, const char *promotion, char *job_id,
                uint64_t now) {
        j->followups = xrealloc(j->followups, (j->n_followups + 1) * sizeof *j->followups);
        j->followups[j->n_followups++] = (struct followup) {
                .kind = k,
                .event = xstrdup(event),
                .state = xstrdup(job_state_to_string(j->state)),
                .promotion = xstrdup(promotion),
                .job_id = job_id,
                .created_usec = now,
                .next_usec = now,
        };
}

size_t notify_plan(const struct config *c, const char *jobs_dir, struct job *j, uint64_t now) {
        enum notify_event e = notify_event_of(j);
        const struct notify *n;
        const char *ev;
        size_t before = j->n_followups;

        if (e == NOTIFY_NONE)
                return 0;
        ev = notify_event_to_string(e);
        n = config_notify_of(c, config_find_promotion(c, j->promotion));
        if (n && (n->events & (1u << e))) {
                if (n->exec && !recorded(j, FOLLOWUP_EXEC, ev, NULL))
                        add(j, FOLLOWUP_EXEC, ev, NULL, NULL, now);
                if (n->webhook_source && !recorded(j, FOLLOWUP_WEBHOOK, ev, NULL))
                        add(j, FOLLOWUP_WEBHOOK, ev, NULL, NULL, now);
        }
        if (e == NOTIFY_SUCCEEDED)
                for (size_t i = 0; i < c->n_promotions; i++) {
                        const struct promotion *p = &c->promotions[i];
                        if (!p->after || !streq(p->after, j->promotion) ||
                            recorded(j, FOLLOWUP_CHAIN, ev, p->name))
                                continue;
                        /* the id is chosen here and saved with the event: the job
                         * made from it later has that name or exists already,
                         * so a crash in between cannot make two */
                        add(j, FOLLOWUP_CHAIN, ev, p->name, store_new_job_id(jobs_dir, p->name, now), now);
                }
        return j->n_followups - before;
}

char *notify_delivery_id(const struct job *j, const struct followup *f) {
        return xasprintf("%s/%s", j->id, strempty(f->event));
}

void notify_strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

char **notify_downstream(const struct config *c, const char *promotion) {
        char **v = NULL;
        size_t n = 0;

        /* breadth first from promotion; config.c refused cycles, and each
         * promotion has one upstream, so nothing is listed twice */
        for (size_t k = 0; k <= n; k++) {
                const char *up = k == 0 ? promotion : v[k - 1];
                for (size_t i = 0; i < c->n_promotions; i++)
                        if (c->promotions[i].after && streq(c->promotions[i].after, up)) {
                                v = xrealloc(v, (n + 2) * sizeof *v);
                                v[n++] = xstrdup(c->promotions[i].name);
                                v[n] = NULL;
                        }
        }
        return v;
}

#define TRY(x) do { if ((r = (x)) < 0) goto out; } while (0)

static int kv_time(yajl_gen g, const char *k, uint64_t usec) {
        char buf[64];
        return usec ? json_kv_str(g, k, format_timestamp_utc(buf, sizeof buf, usec)) : 0;
}

static int kv_totals(yajl_gen g, const char *k, const struct import_status *st) {
        int r;
        if (!st->has_totals)
                return 0;
        TRY(json_str(g, k));
        TRY(yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM);
        TRY(json_kv_int(g, "added", st->totals.added));
        TRY(json_kv_int(g, "modified", st->totals.modified));
        TRY(json_kv_int(g, "removed", st->totals.removed));
        TRY(json_kv_int(g, "failed", st->totals.failed));
        TRY(json_kv_int(g, "skipped", st->totals.skipped));
        r = yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
out:
        return r;
}

static int kv_strv(yajl_gen g, const char *k, char **v) {
        int r;
        TRY(json_str(g, k));
        TRY(yajl_gen_array_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM);
        for (size_t i = 0; v && v[i]; i++)
                TRY(json_str(g, v[i]));
        r = yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
out:
        return r;
}

char *notify_summary(const struct config *c, const struct job *j, const struct followup *f) {
        yajl_gen g = yajl_gen_alloc(NULL);
        _cleanup_free_ char *id = notify_delivery_id(j, f);
        char **down = notify_downstream(c, j->promotion);
        bool ok = streq_ptr(f->event, notify_event_to_string(NOTIFY_SUCCEEDED));
        bool ended = f->state && job_state_from_string(f->state) >= 0 &&
                     job_state_is_final((enum job_state) job_state_from_string(f->state));
        const unsigned char *buf;
        size_t len;
        char *out = NULL;
        int r;

        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        TRY(yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM);
        TRY(json_kv_str(g, "delivery", id));
        TRY(json_kv_str(g, "event", f->event));
        TRY(json_kv_str(g, "job", j->id));
        TRY(json_kv_str(g, "promotion", j->promotion));
        TRY(json_kv_str(g, "state", f->state));
        TRY(json_kv_str(g, "failure", ok ? NULL : j->failure));
        TRY(json_kv_str(g, "message", j->message));
        TRY(json_kv_str(g, "package", j->package));
        TRY(json_kv_str(g, "mode", promo_mode_to_string(j->mode)));
        TRY(json_kv_str(g, "from", j->from.name));
        TRY(json_kv_str(g, "to", j->to.name));
        TRY(kv_time(g, "created", j->created_usec));
        TRY(kv_time(g, "finished", ended ? j->finished_usec : 0));
        TRY(kv_totals(g, "dry_run", &j->dry_run));
        TRY(kv_totals(g, "import", &j->import));
        TRY(json_kv_str(g, "triggered_by", j->triggered_by));
        /* a chain: what runs next, or what does not run because this failed */
        if (down && ended)
                TRY(kv_strv(g, ok ? "chain_next" : "chain_stopped", down));
        TRY(yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -ENOMEM);
        if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
                out = xstrndup((const char *) buf, len);
out:
        yajl_gen_free(g);
        notify_strv_free(down);
        return out;
}
