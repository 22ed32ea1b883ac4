/* daemon.h — the long-running service: resumes unfinished jobs, starts a
 * job at each due time, answers the control socket, talks to systemd
 * (READY=1, RELOADING=1, STOPPING=1, STATUS=, the watchdog), reloads the
 * configuration on SIGHUP and stops on SIGTERM/SIGINT. */
#ifndef DEV2PROD_DAEMON_H
#define DEV2PROD_DAEMON_H

#include "config.h"

/* Takes ownership of c.  Returns the process exit status. */
int daemon_run(struct config *c);

#endif
