/* cli_api.h: the CLI's client of the IronLayer HTTP API (libcurl) */
#ifndef IL_CLI_API_H
#define IL_CLI_API_H

#include <stddef.h>

#include <curl/curl.h>
#include <json-c/json.h>

struct arena;
struct strbuf;

/* What `ironlayer login` keeps in the credentials file. */
struct cli_credentials {
	const char *url;
	const char *email;
	const char *access_token;
	const char *refresh_token;
};

/* $XDG_CONFIG_HOME/ironlayer/credentials (else ~/.config/…), or NULL without a home. */
const char *cli_credentials_path(struct arena *a);
/* 0; IL_ENOTFOUND when there is no file; IL_EINVALID when it is not ours. */
int cli_credentials_load(struct cli_credentials *c, struct arena *a, const char *path);
/* Writes c (mode 0600, directory 0700) atomically; 0, or -1 with *err. */
int cli_credentials_save(const struct cli_credentials *c, struct arena *a, const char *path,
			 const char **err);

/* A connection to the API, as the logged-in user or with IRONLAYER_TOKEN. */
struct cli_api {
	const char *cmd;              /* the command's name, for messages */
	struct arena *a;
	const char *url;              /* without a trailing slash */
	struct cli_credentials cred;  /* tokens in use */
	const char *cred_path;        /* where refreshed tokens go; NULL for IRONLAYER_TOKEN */
	CURL *curl;
};

/* An answer; body and json live in the arena. */
struct cli_reply {
	long status;
	const char *body;
	size_t len;
	json_object *json;            /* NULL when the body is not JSON */
	const char *total;            /* the X-Total-Count header, or NULL */
};

/*
 * The server URL: url_opt (--url), else $IRONLAYER_URL, else the logged-in
 * server, else http://localhost:8000; and the token: $IRONLAYER_TOKEN, else
 * the credentials file's when it is for that server. need_token: say how
 * to log in when there is none. 0, or 1 after a message.
 */
int cli_api_open(struct cli_api *c, struct arena *a, const char *cmd, const char *url_opt,
		 int need_token);
void cli_api_close(struct cli_api *c);

/*
 * method path (below the URL, e.g. "/api/v1/plans") with a JSON body (NULL
 * for none; a POST without one sends {}). An expired access token is
 * refreshed with the refresh token once, and the request repeated. 0 when
 * an answer came (any status); 1 after a message when none did.
 */
int cli_api_call(struct cli_api *c, const char *method, const char *path, json_object *body,
		 struct cli_reply *out);
/* 0 for a 2xx answer; else prints the server's detail and returns 1. */
int cli_api_ok(const struct cli_api *c, const struct cli_reply *r);
/* The server's message in an error answer (detail, validation items joined). */
const char *cli_api_detail(struct arena *a, const struct cli_reply *r);

/*
 * A new easy handle for method path with a JSON body text (NULL for none),
 * writing the answer into sink: for callers that drive several transfers
 * at once (apply's progress). *headers must be freed after the transfer.
 */
CURL *cli_api_easy(struct cli_api *c, const char *method, const char *path, const char *body,
		   struct curl_slist **headers, struct strbuf *sink);
/* The JSON of an answer collected in sink, owned by the arena (NULL when not JSON). */
json_object *cli_api_parse(struct arena *a, const char *text, size_t len);

/*
 * The items of a list answer: a bare JSON array, or an object holding
 * "items" (both shapes of the API's lists). NULL when neither.
 */
json_object *cli_list_items(json_object *reply);

/* Asks for a line on the terminal (or reads stdin); echo 0 hides it. NULL at EOF. */
const char *cli_prompt(struct arena *a, const char *question, int echo);

#endif
