/* cli_remote.h: what the commands that talk to the API share */
#ifndef IL_CLI_REMOTE_H
#define IL_CLI_REMOTE_H

#include <json-c/json.h>

#include "bin/cli_api.h"

struct remote {
	struct arena *a;
	struct cli_api api;
	int json;                     /* --json: JSON on stdout */
	int colour;                   /* escape codes on stdout */
};

/* Opens the API for cmd (the logged-in user or IRONLAYER_TOKEN); 0, or 1 after a message. */
int remote_start(struct remote *rm, const char *cmd, const char *url, int json);
/* Releases everything; returns status. */
int remote_end(struct remote *rm, int status);
/* GET path into *out (a 2xx answer's JSON); 0, or 1 after the server's message. */
int remote_get(struct remote *rm, const char *path, json_object **out);
/* An empty JSON object owned by the arena, or NULL. */
json_object *remote_object(struct remote *rm);
/* value percent-encoded for a query string. */
const char *remote_escape(struct remote *rm, const char *value);
/* A full plan id from a full id or a unique prefix (4+ hex digits); NULL after a message. */
const char *remote_plan_id(struct remote *rm, const char *given);
/* The plan as a summary, or as JSON with --json; the exit status. */
int remote_show_plan(struct remote *rm, json_object *plan);

#endif
