/* control.h — the control socket: a UNIX stream socket (default
 * /run/dev2prodd/control.sock, mode 0660) through which dev2prodctl asks the
 * daemon to do something.  One request line per connection, one answer
 * line back:
 *     run NAME        ->  ok JOB-ID           | error MESSAGE
 *     cancel JOB-ID   ->  ok JOB-ID           | error MESSAGE
 *     job JOB-ID      ->  ok active | ok inactive   (is it running or queued?)
 *     ping            ->  ok PID
 * Read-only questions need no daemon: dev2prodctl reads the job files.
 * This is the server; the client is ctlclient.h. */
#ifndef DEV2PROD_CONTROL_H
#define DEV2PROD_CONTROL_H

#include <stdbool.h>
#include <systemd/sd-event.h>

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
};

struct control;

/* h must outlive the control socket. */
int control_open(sd_event *e, const char *path, const struct control_handler *h, void *userdata,
                 struct control **ret);
void control_close(struct control *c);

#endif
