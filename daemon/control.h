/* control.h — the control socket: a UNIX stream socket (default
 * /run/dev2prodd/control.sock, mode 0660) through which dev2prodctl asks the
 * daemon to do something.  One request line per connection, one answer
 * line back:
 *     run NAME        ->  ok JOB-ID           | error MESSAGE
 *     cancel JOB-ID   ->  ok JOB-ID           | error MESSAGE
 *     job JOB-ID      ->  ok active | ok inactive   (is it running or queued?)
 *     ping            ->  ok PID
 *     approve JOB-ID  ->  ok JOB-ID           | error MESSAGE
 *     reject JOB-ID [REASON...]  ->  ok JOB-ID | error MESSAGE
 *     resolve JOB-ID imported|not-imported  ->  ok JOB-ID (--not-imported: the new job) | error MESSAGE
 * Read-only questions need no daemon: dev2prodctl reads the job files.
 * This is the server; the client is ctlclient.h. */
#ifndef DEV2PROD_CONTROL_H
#define DEV2PROD_CONTROL_H

#include <stdbool.h>
#include <systemd/sd-event.h>

/* Who sent a request: the connection's peer (SO_PEERCRED), for the
 * requests an operator answers for (approve, reject, resolve). */
struct control_peer {
        unsigned uid;
        const char *user;       /* the user name, or the uid as text when it has none */
};

/* What the requests do, given by the daemon: the socket knows the
 * protocol, not the jobs.  userdata is control_open's. */
struct control_handler {
        /* run NAME: starts promotion name now; *ret_id gets the job id.
         * Negative errno with *ret_err on refusal. */
        int (*run)(void *userdata, const char *name, char **ret_id, char **ret_err);
        /* cancel JOB-ID: negative errno with *ret_err when there is no such job. */
        int (*cancel)(void *userdata, const char *job_id, char **ret_err);
        /* job JOB-ID: is it running or queued? */
        bool (*has_job)(void *userdata, const char *job_id);
        /* approve JOB-ID, reject JOB-ID [REASON]: the approval gate.
         * reason is NULL when none was given. */
        int (*approve)(void *userdata, const char *job_id, const struct control_peer *who, char **ret_err);
        int (*reject)(void *userdata, const char *job_id, const char *reason, const struct control_peer *who,
                      char **ret_err);
        /* resolve JOB-ID imported|not-imported: *ret_id gets the job the
         * answer names (the new job for not-imported). */
        int (*resolve)(void *userdata, const char *job_id, bool imported, const struct control_peer *who,
                       char **ret_id, char **ret_err);
};

struct control;

/* h must outlive the control socket. */
int control_open(sd_event *e, const char *path, const struct control_handler *h, void *userdata,
                 struct control **ret);
void control_close(struct control *c);

#endif
