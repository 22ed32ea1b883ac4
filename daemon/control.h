/* control.h — the control socket: a UNIX stream socket (default
 * /run/dev2prodd/control.sock, mode 0660) through which dev2prodctl asks the
 * daemon to do something.  One request line per connection, one answer
 * line back:
 *     run NAME        ->  ok JOB-ID           | error MESSAGE
 *     cancel JOB-ID   ->  ok JOB-ID           | error MESSAGE
 *     job JOB-ID      ->  ok active | ok inactive   (is it running or queued?)
 *     ping            ->  ok PID
 * Read-only questions need no daemon: dev2prodctl reads the job files. */
#ifndef DEV2PROD_CONTROL_H
#define DEV2PROD_CONTROL_H

#include <systemd/sd-event.h>

struct daemon;
struct control;

int control_open(sd_event *e, const char *path, struct daemon *d, struct control **ret);
void control_close(struct control *c);

/* Client side (dev2prodctl): sends one request, returns the answer line
 * (malloc'd) or a negative errno (-ENOENT/-ECONNREFUSED: no daemon). */
int control_request(const char *path, const char *request, char **ret_answer);

#endif
