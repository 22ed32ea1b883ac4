/* ctlclient.h — dev2prodctl's side of the control socket (the requests and
 * answers are listed in control.h).  Its own file so that dev2prodctl links
 * only this, not the server and the daemon behind it. */
#ifndef DEV2PROD_CTLCLIENT_H
#define DEV2PROD_CTLCLIENT_H

/* Sends one request, returns the answer line (malloc'd) or a negative
 * errno (-ENOENT/-ECONNREFUSED: no daemon). */
int control_request(const char *path, const char *request, char **ret_answer);

#endif
