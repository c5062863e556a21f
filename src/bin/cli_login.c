/* cli_login.c: ironlayer login and logout */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bin/cli.h"
#include "bin/cli_api.h"
#include "bin/cli_out.h"
#include "util/arena.h"
#include "util/json.h"

/* The password: $IRONLAYER_PASSWORD, else a prompt without echo (or stdin's next line). */
static const char *password(struct arena *a)
{
	const char *env = getenv("IRONLAYER_PASSWORD");

	return env != NULL ? env : cli_prompt(a, "Password: ", 0);
}

static json_object *login_body(struct arena *a, const char *email, const char *pw)
{
	json_object *o = json_object_new_object();

	if (o == NULL || json_arena_own(a, o) < 0)
		return NULL;
	json_object_object_add(o, "email", json_object_new_string(email));
	json_object_object_add(o, "password", json_object_new_string(pw));
	return o;
}

static int store_login(struct cli_api *c, const struct cli_reply *r, const char *email, int json)
{
	json_object *user = json_object_object_get(r->json, "user");
	const char *err = NULL;

	c->cred.url = c->url;
	c->cred.email = email;
	c->cred.access_token = cli_str(r->json, "access_token");
	c->cred.refresh_token = cli_str(r->json, "refresh_token");
	if (c->cred.access_token == NULL) {
		fprintf(stderr, "ironlayer login: the server sent no access token\n");
		return 1;
	}
	if (c->cred_path == NULL ||
	    cli_credentials_save(&c->cred, c->a, c->cred_path, &err) < 0) {
		fprintf(stderr, "ironlayer login: cannot store the tokens in %s: %s\n",
			c->cred_path ? c->cred_path : "$XDG_CONFIG_HOME or $HOME",
			err ? err : "no home directory");
		return 1;
	}
	if (json)
		return cli_print_json(user);
	printf("Logged in to %s as %s (%s of tenant %s)\n", c->url, email,
	       cli_str(user, "role") ? cli_str(user, "role") : "member",
	       cli_str(r->json, "tenant_id") ? cli_str(r->json, "tenant_id") : "?");
	printf("Tokens are in %s\n", c->cred_path);
	return 0;
}

/*
 * ironlayer login [--url URL] [--email EMAIL] [--json]: trades the password
 * (asked without echo, or read from stdin) for tokens kept in the
 * credentials file, mode 0600.
 */
int cli_login(int argc, char **argv)
{
	const char *url = NULL, *email = NULL, *pw;
	int json = 0, n, rc = 1;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--email", &email, NULL }, { "--json", NULL, &json },
		{ NULL, NULL, NULL }
	};
	struct arena *a;
	struct cli_api c;
	struct cli_reply r;

	if ((n = cli_parse("login", argc, argv, opts, NULL, 0)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if ((a = arena_new(0)) == NULL)
		return 1;
	if (cli_api_open(&c, a, "login", url, 0) != 0)
		goto out;
	c.cred.access_token = NULL;      /* log in afresh, never with an old token */
	c.cred.refresh_token = NULL;
	if (email == NULL)
		email = cli_prompt(a, "Email: ", 1);
	pw = email ? password(a) : NULL;
	if (email == NULL || *email == '\0' || pw == NULL) {
		fprintf(stderr, "ironlayer login: an email and a password are needed\n");
		goto out;
	}
	if (cli_api_call(&c, "POST", "/api/v1/auth/login", login_body(a, email, pw), &r) == 0 &&
	    cli_api_ok(&c, &r) == 0)
		rc = store_login(&c, &r, email, json);
out:
	cli_api_close(&c);
	arena_free(a);
	return rc;
}

/* Ends the session on the server (its refresh tokens stop working), then forgets it. */
static int end_session(struct cli_api *c, int json)
{
	json_object *o = json_object_new_object();
	struct cli_reply r;

	if (o == NULL || json_arena_own(c->a, o) < 0)
		return 1;
	json_object_object_add(o, "refresh_token", json_object_new_string(c->cred.refresh_token));
	if (cli_api_call(c, "POST", "/api/v1/auth/logout", o, &r) != 0 || cli_api_ok(c, &r) != 0)
		return 1;
	if (unlink(c->cred_path) < 0 && errno != ENOENT) {
		fprintf(stderr, "ironlayer logout: cannot remove %s: %s\n", c->cred_path,
			strerror(errno));
		return 1;
	}
	if (json) {
		json_object *done = json_object_new_object();
		int rc;

		json_object_object_add(done, "logged_out", json_object_new_boolean(1));
		json_object_object_add(done, "url", json_object_new_string(c->url));
		rc = cli_print_json(done);
		json_object_put(done);
		return rc;
	}
	printf("Logged out of %s\n", c->url);
	return 0;
}

/* ironlayer logout [--url URL] [--json]: revokes the session and removes the stored tokens. */
int cli_logout(int argc, char **argv)
{
	const char *url = NULL;
	int json = 0, n, rc = 1;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	struct arena *a;
	struct cli_api c;

	if ((n = cli_parse("logout", argc, argv, opts, NULL, 0)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if ((a = arena_new(0)) == NULL)
		return 1;
	if (cli_api_open(&c, a, "logout", url, 0) == 0) {
		if (c.cred_path == NULL || c.cred.refresh_token == NULL) {
			fprintf(stderr, "ironlayer logout: not logged in to %s%s\n", c.url,
				c.cred_path == NULL ? " (IRONLAYER_TOKEN is set: unset it)" : "");
		} else {
			rc = end_session(&c, json);
		}
	}
	cli_api_close(&c);
	arena_free(a);
	return rc;
}
