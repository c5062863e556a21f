/* cli_remote.c: ironlayer remote plan, plans, approve, reject, runs and envs */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bin/cli.h"
#include "bin/cli_api.h"
#include "bin/cli_out.h"
#include "bin/cli_remote.h"
#include "bin/cli_render.h"
#include "util/arena.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/strbuf.h"

int remote_start(struct remote *rm, const char *cmd, const char *url, int json)
{
	memset(rm, 0, sizeof(*rm));
	rm->json = json;
	rm->colour = !json && cli_colour_for(stdout);
	if ((rm->a = arena_new(0)) == NULL)
		return 1;
	return cli_api_open(&rm->api, rm->a, cmd, url, 1);
}

int remote_end(struct remote *rm, int status)
{
	cli_api_close(&rm->api);
	arena_free(rm->a);
	return status;
}

int remote_get(struct remote *rm, const char *path, json_object **out)
{
	struct cli_reply r;

	if (cli_api_call(&rm->api, "GET", path, NULL, &r) != 0 || cli_api_ok(&rm->api, &r) != 0)
		return 1;
	*out = r.json;
	return 0;
}

json_object *remote_object(struct remote *rm)
{
	json_object *o = json_object_new_object();

	return o != NULL && json_arena_own(rm->a, o) == 0 ? o : NULL;
}

/* value with every byte outside [A-Za-z0-9._~-] percent-encoded. */
const char *remote_escape(struct remote *rm, const char *value)
{
	struct strbuf sb;
	const unsigned char *p;

	strbuf_init(&sb, rm->a, 8192);
	strbuf_adds(&sb, "");
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._~-", *p) != NULL)
			strbuf_addc(&sb, (char)*p);
		else
			strbuf_addf(&sb, "%%%02X", *p);
	}
	return strbuf_cstr(&sb) ? strbuf_cstr(&sb) : "";
}

/* The plans whose id starts with prefix, looked for page by page (newest first). */
static int find_plan(struct remote *rm, const char *prefix, const char **found, int *matches)
{
	size_t n = strlen(prefix), i, got = 100;
	int page;

	*matches = 0;
	for (page = 0; page < 50 && got == 100; page++) {
		json_object *reply, *items;

		if (remote_get(rm, arena_printf(rm->a, "/api/v1/plans?limit=100&offset=%d",
						page * 100), &reply) != 0)
			return 1;
		items = cli_list_items(reply);
		got = items ? json_object_array_length(items) : 0;
		for (i = 0; i < got; i++) {
			const char *id = cli_str(json_object_array_get_idx(items, i), "plan_id");

			if (id != NULL && strncmp(id, prefix, n) == 0 && (*matches)++ == 0)
				*found = id;
		}
	}
	return 0;
}

const char *remote_plan_id(struct remote *rm, const char *given)
{
	const char *found = NULL;
	int matches = 0;

	if (is_hex_string(given, 64, 64) || !is_hex_string(given, 4, 63))
		return given;      /* a full id, or something the server will call unknown */
	if (find_plan(rm, given, &found, &matches) != 0)
		return NULL;
	if (matches == 1)
		return found;
	fprintf(stderr, "ironlayer %s: %s plan id starts with %s\n", rm->api.cmd,
		matches ? "more than one" : "no", given);
	return NULL;
}

/* The repository path as the server needs it: absolute (made so when it exists here). */
static const char *server_repo_path(struct remote *rm, const char *given)
{
	char real[PATH_MAX];

	if (given[0] != '/' && realpath(given, real) != NULL)
		return arena_strdup(rm->a, real);
	return given;
}

static json_object *generate_body(struct remote *rm, const char *const pos[3], const char *env,
				  const char *as_of)
{
	json_object *o = remote_object(rm);

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "repo_path",
			       json_object_new_string(server_repo_path(rm, pos[0])));
	json_object_object_add(o, "base_sha", json_object_new_string(pos[1]));
	json_object_object_add(o, "target_sha", json_object_new_string(pos[2]));
	if (env != NULL)
		json_object_object_add(o, "environment", json_object_new_string(env));
	if (as_of != NULL)
		json_object_object_add(o, "as_of", json_object_new_string(as_of));
	return o;
}

/* The plan, as a summary or as JSON. */
int remote_show_plan(struct remote *rm, json_object *plan)
{
	if (rm->json)
		return cli_print_json(plan);
	render_plan(stdout, plan, rm->colour);
	return 0;
}

/*
 * ironlayer remote plan REPO_PATH BASE TARGET [--env NAME] [--as-of DATE]:
 * the server plans the commits of its repository (BASE and TARGET are any
 * revisions), stores the plan and shows it.
 */
int cli_remote(int argc, char **argv)
{
	const char *url = NULL, *env = NULL, *as_of = NULL, *pos[4] = { NULL };
	int json = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--env", &env, NULL }, { "--as-of", &as_of, NULL },
		{ "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	struct remote rm;
	struct cli_reply r;

	if ((n = cli_parse("remote", argc, argv, opts, pos, 4)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (n != 4 || strcmp(pos[0], "plan") != 0)
		return cli_usage_error("remote");
	if (remote_start(&rm, "remote plan", url, json) != 0)
		return remote_end(&rm, 1);
	if (cli_api_call(&rm.api, "POST", "/api/v1/plans/generate",
			 generate_body(&rm, pos + 1, env, as_of), &r) != 0 ||
	    cli_api_ok(&rm.api, &r) != 0)
		return remote_end(&rm, 1);
	if (!json)
		printf("%s\n", r.status == 201 ? "New plan stored." :
		       "The same plan was generated before: here it is.");
	return remote_end(&rm, remote_show_plan(&rm, r.json));
}

static const char *approve_body(struct remote *rm, const char *key, const char *text,
				json_object **out)
{
	json_object *o = remote_object(rm);

	if (o != NULL && text != NULL)
		json_object_object_add(o, key, json_object_new_string(text));
	*out = o;
	return o != NULL ? key : NULL;
}

/* POST /plans/ID/<verb> and a line saying where the plan stands. */
static int review(struct remote *rm, const char *given, const char *verb, json_object *body)
{
	const char *id = remote_plan_id(rm, given);
	struct cli_reply r;
	char sid[16], st[64];

	if (id == NULL || body == NULL)
		return 1;
	if (cli_api_call(&rm->api, "POST", arena_printf(rm->a, "/api/v1/plans/%s/%s", id, verb),
			 body, &r) != 0 || cli_api_ok(&rm->api, &r) != 0)
		return 1;
	if (rm->json)
		return cli_print_json(r.json);
	printf("Plan %s is now %s (%d of %d approvals)\n", render_short_id(sid, sizeof(sid), id),
	       render_status(st, sizeof(st), cli_str(r.json, "status"), 0, rm->colour),
	       (int)json_object_array_length(json_object_object_get(r.json, "approvals")),
	       (int)cli_num(r.json, "required_approvals", 1));
	return 0;
}

/* ironlayer approve ID [--comment TEXT]: records your approval. */
int cli_approve(int argc, char **argv)
{
	const char *url = NULL, *comment = NULL, *pos[1] = { NULL };
	int json = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--comment", &comment, NULL }, { "--json", NULL, &json },
		{ NULL, NULL, NULL }
	};
	struct remote rm;
	json_object *body;

	if ((n = cli_parse("approve", argc, argv, opts, pos, 1)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (n != 1)
		return cli_usage_error("approve");
	if (remote_start(&rm, "approve", url, json) != 0)
		return remote_end(&rm, 1);
	approve_body(&rm, "comment", comment, &body);
	return remote_end(&rm, review(&rm, pos[0], "approve", body));
}

/* ironlayer reject ID [--reason TEXT]: the plan can never be applied. */
int cli_reject(int argc, char **argv)
{
	const char *url = NULL, *reason = NULL, *pos[1] = { NULL };
	int json = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--reason", &reason, NULL },
		{ "--comment", &reason, NULL }, { "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	struct remote rm;
	json_object *body;

	if ((n = cli_parse("reject", argc, argv, opts, pos, 1)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (n != 1)
		return cli_usage_error("reject");
	if (remote_start(&rm, "reject", url, json) != 0)
		return remote_end(&rm, 1);
	approve_body(&rm, "reason", reason ? reason : "rejected with ironlayer reject", &body);
	return remote_end(&rm, review(&rm, pos[0], "reject", body));
}
