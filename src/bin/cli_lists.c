/* cli_lists.c: ironlayer plans [show], runs and envs */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "bin/cli_remote.h"
#include "bin/cli_render.h"
#include "util/arena.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* path?name=value&… for the query options that were given. */
static const char *with_query(struct remote *rm, const char *path, const char *const *names,
			      const char *const *values, int n)
{
	struct strbuf sb;
	int i, first = 1;

	strbuf_init(&sb, rm->a, 8192);
	strbuf_adds(&sb, path);
	for (i = 0; i < n; i++) {
		if (values[i] == NULL)
			continue;
		strbuf_addf(&sb, "%c%s=%s", first ? '?' : '&', names[i],
			    remote_escape(rm, values[i]));
		first = 0;
	}
	return strbuf_cstr(&sb);
}

/* How many items the whole list has: X-Total-Count, or the envelope's "total"; -1. */
static long long list_total(const struct cli_reply *r)
{
	int64_t n;

	if (r->total != NULL)
		return parse_i64(r->total, 0, INT64_MAX, &n) == 0 ? (long long)n : -1;
	return (long long)cli_num(r->json, "total", -1);
}

/* A list answer: its items as JSON, or a table by render; the exit status. */
static int show_list(struct remote *rm, const char *path,
		     void (*render)(FILE *, json_object *, int))
{
	struct cli_reply r;
	json_object *items;
	long long total;

	if (path == NULL || cli_api_call(&rm->api, "GET", path, NULL, &r) != 0 ||
	    cli_api_ok(&rm->api, &r) != 0)
		return 1;
	if ((items = cli_list_items(r.json)) == NULL) {
		fprintf(stderr, "ironlayer %s: the server's answer is not a list\n", rm->api.cmd);
		return 1;
	}
	if (rm->json)
		return cli_print_json(items);
	render(stdout, items, rm->colour);
	total = list_total(&r);
	if (total > (long long)json_object_array_length(items))
		printf("(%zu of %lld shown, newest first: --limit N shows up to 100)\n",
		       json_object_array_length(items), total);
	return 0;
}

/* A step's statements, each ending with a semicolon, under a comment naming the step. */
static void render_statements(json_object *step, int colour)
{
	json_object *list = json_object_object_get(step, "statements");
	const char *err = cli_str(step, "error");
	char type[80];
	size_t i;

	printf("%s-- %s (%s, %s)%s\n", cli_c(colour, C_CYAN), cli_str(step, "model"),
	       render_run_type(type, sizeof(type), step),
	       cli_str(step, "materialization") ? cli_str(step, "materialization") : "not runnable",
	       cli_c(colour, C_RESET));
	if (err != NULL)
		printf("%s-- cannot run: %s%s\n", cli_c(colour, C_RED), err,
		       cli_c(colour, C_RESET));
	for (i = 0; list != NULL && i < json_object_array_length(list); i++)
		printf("%s;\n", json_object_get_string(json_object_array_get_idx(list, i)));
	printf("\n");
}

/* GET /plans/ID/sql: what apply would send to the warehouse, step by step. */
static int show_sql(struct remote *rm, const char *id)
{
	json_object *o, *steps;
	size_t i;

	if (remote_get(rm, arena_printf(rm->a, "/api/v1/plans/%s/sql", id), &o) != 0)
		return 1;
	if (rm->json)
		return cli_print_json(o);
	steps = json_object_object_get(o, "steps");
	printf("%s-- plan %s on %s (%s): nothing below has run%s\n\n", cli_c(rm->colour, C_DIM),
	       cli_str(o, "plan_id"), cli_str(o, "environment"), cli_str(o, "executor"),
	       cli_c(rm->colour, C_RESET));
	for (i = 0; steps != NULL && i < json_object_array_length(steps); i++)
		render_statements(json_object_array_get_idx(steps, i), rm->colour);
	return 0;
}

static int plans_show(struct remote *rm, const char *given, int sql)
{
	const char *id = remote_plan_id(rm, given);
	json_object *plan;

	if (id == NULL)
		return 1;
	if (sql)
		return show_sql(rm, id);
	if (remote_get(rm, arena_printf(rm->a, "/api/v1/plans/%s", id), &plan) != 0)
		return 1;
	return remote_show_plan(rm, plan);
}

/*
 * ironlayer plans [--status S] [--env E] [--limit N]: the newest plans;
 * ironlayer plans show ID [--sql]: one plan, or the SQL apply would run.
 */
int cli_plans(int argc, char **argv)
{
	const char *url = NULL, *status = NULL, *env = NULL, *limit = NULL, *pos[2] = { NULL };
	int json = 0, sql = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--status", &status, NULL }, { "--env", &env, NULL },
		{ "--limit", &limit, NULL }, { "--json", NULL, &json }, { "--sql", NULL, &sql },
		{ NULL, NULL, NULL }
	};
	const char *names[] = { "status", "environment", "limit" };
	const char *values[] = { status, env, limit ? limit : "20" };
	struct remote rm;

	if ((n = cli_parse("plans", argc, argv, opts, pos, 2)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (!(n == 0 && !sql) && !(n == 2 && strcmp(pos[0], "show") == 0))
		return cli_usage_error("plans");
	if (remote_start(&rm, n ? "plans show" : "plans", url, json) != 0)
		return remote_end(&rm, 1);
	if (n == 2)
		return remote_end(&rm, plans_show(&rm, pos[1], sql));
	return remote_end(&rm, show_list(&rm, with_query(&rm, "/api/v1/plans", names, values, 3),
					 render_plans));
}

/* ironlayer runs [--plan ID] [--model NAME] [--status S] [--limit N]: newest first. */
int cli_runs(int argc, char **argv)
{
	const char *url = NULL, *plan = NULL, *model = NULL, *status = NULL, *limit = NULL;
	int json = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--plan", &plan, NULL }, { "--model", &model, NULL },
		{ "--status", &status, NULL }, { "--limit", &limit, NULL },
		{ "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	const char *names[] = { "plan_id", "model_name", "status", "limit" };
	const char *values[4];
	struct remote rm;

	if ((n = cli_parse("runs", argc, argv, opts, NULL, 0)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (remote_start(&rm, "runs", url, json) != 0)
		return remote_end(&rm, 1);
	if (plan != NULL && (plan = remote_plan_id(&rm, plan)) == NULL)
		return remote_end(&rm, 1);
	values[0] = plan;
	values[1] = model;
	values[2] = status;
	values[3] = limit ? limit : "20";
	return remote_end(&rm, show_list(&rm, with_query(&rm, "/api/v1/runs", names, values, 4),
					 render_runs));
}

/* ironlayer envs: the tenant's environments (connections are never shown). */
int cli_envs(int argc, char **argv)
{
	const char *url = NULL;
	int json = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	struct remote rm;

	if ((n = cli_parse("envs", argc, argv, opts, NULL, 0)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (remote_start(&rm, "envs", url, json) != 0)
		return remote_end(&rm, 1);
	return remote_end(&rm, show_list(&rm, "/api/v1/environments", render_envs));
}
