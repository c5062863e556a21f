/* session_util.h: requests with cookies, several headers and a chosen source address */
#ifndef IL_T_SESSION_UTIL_H
#define IL_T_SESSION_UTIL_H

#include "harness.h"

#define MAX_EXTRA_HEADERS 8

/* What a request carries beyond method, path and body. */
struct send_opts {
	const char *source;                        /* local address, e.g. "127.0.0.2"; NULL any */
	const char *token;                         /* bearer token, or NULL */
	const char *headers[MAX_EXTRA_HEADERS + 1];  /* "Name: value", NULL-terminated */
};

/*
 * Sends method path with body (JSON, or NULL for none) and the options;
 * NULL when the server could not be reached (never aborts: threads use it).
 */
struct resp *send_req(const char *method, const char *path, const char *body,
		      const struct send_opts *o);
/* send_req that fails the test when the server cannot be reached. */
struct resp *must_send(const char *method, const char *path, const char *body,
		       const struct send_opts *o);

/*
 * The value of the cookie name set by r's Set-Cookie headers (malloc'd), or
 * NULL; *attrs (when not NULL) gets the attributes after the value (malloc'd).
 */
char *cookie_set(struct resp *r, const char *name, char **attrs);

/* 1 when the front end's access log shows a request from client address addr. */
int access_log_has_client(const char *addr);

/* A login body for email and password (malloc'd). */
char *login_json(const char *email, const char *password);

#endif
