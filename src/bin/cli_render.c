/* cli_render.c: plans, runs and environments as people read them */
#include "bin/cli_render.h"

#include <string.h>

#include "bin/cli_out.h"

/* The array member key of o (an empty list when absent). */
static json_object *list(json_object *o, const char *key)
{
	json_object *v;

	if (o != NULL && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

static size_t list_len(json_object *l)
{
	return l != NULL ? json_object_array_length(l) : 0;
}

static int in_list(json_object *l, const char *name)
{
	size_t i;

	for (i = 0; i < list_len(l); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(l, i)), name) == 0)
			return 1;
	return 0;
}

/* The directly modified models: models_modified where the server sends it, else models_changed. */
static json_object *modified_list(json_object *summary)
{
	json_object *m = list(summary, "models_modified");

	return m != NULL ? m : list(summary, "models_changed");
}

const char *render_short_id(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "%.12s", id ? id : "?");
	return buf;
}

int run_failed(const char *s)
{
	return s != NULL && (strcmp(s, "FAIL") == 0 || strcmp(s, "FAILED") == 0);
}

int run_done(const char *s)
{
	return s != NULL && (strcmp(s, "SUCCESS") == 0 || run_failed(s) ||
			     strcmp(s, "SKIPPED") == 0 || strcmp(s, "CANCELLED") == 0);
}

const char *render_status(char *buf, size_t size, const char *status, int width, int colour)
{
	enum cli_colour c = C_YELLOW;

	if (status == NULL)
		status = "?";
	if (strcmp(status, "SUCCESS") == 0 || strcmp(status, "applied") == 0 ||
	    strcmp(status, "approved") == 0)
		c = C_GREEN;
	else if (run_failed(status) || strcmp(status, "failed") == 0 ||
		 strcmp(status, "rejected") == 0)
		c = C_RED;
	else if (strcmp(status, "SKIPPED") == 0 || strcmp(status, "CANCELLED") == 0)
		c = C_DIM;
	/* padded outside the colour codes, which take no room on screen */
	snprintf(buf, size, "%s%s%s%*s", cli_c(colour, c), status, cli_c(colour, C_RESET),
		 width > (int)strlen(status) ? width - (int)strlen(status) : 0, "");
	return buf;
}

const char *render_run_type(char *buf, size_t size, json_object *o)
{
	json_object *range = json_object_object_get(o, "input_range");
	const char *type = cli_str(o, "run_type");

	if (range != NULL && cli_str(range, "start") != NULL)
		snprintf(buf, size, "%s %s..%s", type ? type : "?", cli_str(range, "start"),
			 cli_str(range, "end") ? cli_str(range, "end") : "?");
	else
		snprintf(buf, size, "%s", type ? type : "?");
	return buf;
}

static void model_lines(FILE *out, json_object *l, const char *mark, enum cli_colour c,
			const char *note, int colour)
{
	size_t i;

	for (i = 0; i < list_len(l); i++)
		fprintf(out, "  %s%s %s%s%s\n", cli_c(colour, c), mark,
			json_object_get_string(json_object_array_get_idx(l, i)),
			cli_c(colour, C_RESET), note);
}

static void render_changes(FILE *out, json_object *summary, int colour)
{
	json_object *added = list(summary, "models_added"), *mod = modified_list(summary);
	json_object *removed = list(summary, "models_removed");
	json_object *cosmetic = list(summary, "cosmetic_changes_skipped");
	json_object *meta = list(summary, "metadata_changes");
	char b[5][48];

	fprintf(out, "%sModels:%s %s, %s, %s; %s skipped, %s\n", cli_c(colour, C_BOLD),
		cli_c(colour, C_RESET),
		cli_count(b[0], 48, (long long)list_len(mod), "modified", "modified"),
		cli_count(b[1], 48, (long long)list_len(added), "added", "added"),
		cli_count(b[2], 48, (long long)list_len(removed), "removed", "removed"),
		cli_count(b[3], 48, (long long)list_len(cosmetic), "cosmetic change", NULL),
		cli_count(b[4], 48, (long long)list_len(meta), "metadata-only change", NULL));
	model_lines(out, added, "+", C_GREEN, "", colour);
	model_lines(out, mod, "~", C_YELLOW, "", colour);
	model_lines(out, removed, "-", C_RED, "", colour);
	model_lines(out, cosmetic, " ", C_DIM, " (cosmetic: not rebuilt)", colour);
	model_lines(out, meta, " ", C_DIM, " (metadata only: not rebuilt)", colour);
}

/* The width of the longest step model name, for the columns. */
static int model_width(json_object *steps)
{
	size_t i, w = 10;

	for (i = 0; i < list_len(steps); i++) {
		const char *m = cli_str(json_object_array_get_idx(steps, i), "model");

		if (m != NULL && strlen(m) > w)
			w = strlen(m);
	}
	return (int)(w > 60 ? 60 : w);
}

static void step_line(FILE *out, json_object *step, json_object *summary, int width, int colour)
{
	const char *model = cli_str(step, "model");
	json_object *violations = list(step, "contract_violations");
	const char *mark = " ";
	enum cli_colour c = C_RESET;
	char type[80];
	size_t i;

	if (model != NULL && in_list(list(summary, "models_added"), model)) {
		mark = "+";
		c = C_GREEN;
	} else if (model != NULL && in_list(modified_list(summary), model)) {
		mark = "~";
		c = C_YELLOW;
	}
	fprintf(out, "    %s%s%s %-*s  %-38s %s\n", cli_c(colour, c), mark, cli_c(colour, C_RESET),
		width, model ? model : "?", render_run_type(type, sizeof(type), step),
		cli_str(step, "reason") ? cli_str(step, "reason") : "");
	for (i = 0; i < list_len(violations); i++) {
		json_object *v = json_object_array_get_idx(violations, i);
		const char *sev = cli_str(v, "severity");
		int breaking = sev != NULL && strcmp(sev, "BREAKING") == 0;

		fprintf(out, "      %s%s:%s %s\n", cli_c(colour, breaking ? C_RED : C_YELLOW),
			breaking ? "breaking" : "warning", cli_c(colour, C_RESET),
			cli_str(v, "message") ? cli_str(v, "message") : "contract violation");
	}
}

static void render_steps(FILE *out, json_object *plan, int colour)
{
	json_object *steps = list(plan, "steps");
	json_object *summary = json_object_object_get(plan, "summary");
	int width = model_width(steps), group = -1, groups = 0;
	size_t i;
	char b[2][48];

	for (i = 0; i < list_len(steps); i++) {
		int g = (int)cli_num(json_object_array_get_idx(steps, i), "parallel_group", 0);

		if (g + 1 > groups)
			groups = g + 1;
	}
	fprintf(out, "%s%s in %s:%s\n", cli_c(colour, C_BOLD),
		cli_count(b[0], 48, (long long)list_len(steps), "step", NULL),
		cli_count(b[1], 48, groups, "parallel group", NULL), cli_c(colour, C_RESET));
	for (i = 0; i < list_len(steps); i++) {
		json_object *step = json_object_array_get_idx(steps, i);
		int g = (int)cli_num(step, "parallel_group", 0);

		if (g != group)
			fprintf(out, "  %sgroup %d%s\n", cli_c(colour, C_DIM), g + 1,
				cli_c(colour, C_RESET));
		group = g;
		step_line(out, step, summary, width, colour);
	}
}

/* o.key when it is a string, else def. */
static const char *str_or(json_object *o, const char *key, const char *def)
{
	const char *v = cli_str(o, key);

	return v != NULL ? v : def;
}

/* How many names the summary lists under key. */
static long long names(json_object *summary, const char *key)
{
	return (long long)list_len(list(summary, key));
}

/* The plan's status and approvals, for a plan the API sent. */
static void render_review(FILE *out, json_object *plan, int colour)
{
	json_object *approvals = list(plan, "approvals");
	const char *status = cli_str(plan, "status"), *by = cli_str(plan, "created_by");
	char st[64];
	size_t i;

	if (status == NULL)
		return;
	fprintf(out, "Status: %s (%zu of %d approvals)%s%s\n",
		render_status(st, sizeof(st), status, 0, colour), list_len(approvals),
		(int)cli_num(plan, "required_approvals", 1), by ? ", created by " : "",
		by ? by : "");
	for (i = 0; i < list_len(approvals); i++) {
		json_object *a = json_object_array_get_idx(approvals, i);
		const char *comment = cli_str(a, "comment");

		fprintf(out, "  %s by %s at %s%s%s\n", str_or(a, "action", "approved"),
			str_or(a, "user_email", str_or(a, "user", "?")), str_or(a, "at", "?"),
			comment ? ": " : "", comment ? comment : "");
	}
}

void render_plan(FILE *out, json_object *plan, int colour)
{
	json_object *summary = json_object_object_get(plan, "summary");
	double all = (double)list_len(list(plan, "steps"));
	long long steps = (long long)cli_num(summary, "total_steps", all);
	char id[16], cost[48], b[4][48];

	fprintf(out, "%sPlan %s%s for %s: %.7s..%.7s, as of %s\n", cli_c(colour, C_BOLD),
		render_short_id(id, sizeof(id), cli_str(plan, "plan_id")), cli_c(colour, C_RESET),
		str_or(plan, "environment", "?"), str_or(plan, "base", "?"),
		str_or(plan, "target", "?"), str_or(plan, "as_of", "?"));
	render_review(out, plan, colour);
	fputc('\n', out);
	render_changes(out, summary, colour);
	fputc('\n', out);
	if (steps == 0) {
		fprintf(out, "No changes: nothing to rebuild.\n");
		return;
	}
	render_steps(out, plan, colour);
	fprintf(out, "\n%sPlan:%s %s (%s, %s, %s), estimated cost %s\n", cli_c(colour, C_BOLD),
		cli_c(colour, C_RESET), cli_count(b[0], 48, steps, "step", NULL),
		cli_count(b[1], 48, names(summary, "models_added"), "added", "added"),
		cli_count(b[2], 48, (long long)list_len(modified_list(summary)), "modified",
			  "modified"),
		cli_count(b[3], 48, names(summary, "models_removed"), "removed", "removed"),
		cli_cost(cost, sizeof(cost), cli_num(summary, "estimated_cost_usd", 0)));
}

static const char *or_dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

void render_plans(FILE *out, json_object *items, int colour)
{
	char id[16], st[64], cost[48];
	size_t i;

	fprintf(out, "%s%-12s  %-12s  %-9s  %5s  %-12s  %-24s  %s%s\n", cli_c(colour, C_BOLD),
		"PLAN", "ENVIRONMENT", "STATUS", "STEPS", "COST", "CREATED", "BASE..TARGET",
		cli_c(colour, C_RESET));
	for (i = 0; i < list_len(items); i++) {
		json_object *p = json_object_array_get_idx(items, i);
		const char *status = cli_str(p, "status");

		fprintf(out, "%-12s  %-12s  %s  %5d  %-12s  %-24s  %.7s..%.7s\n",
			render_short_id(id, sizeof(id), cli_str(p, "plan_id")),
			or_dash(cli_str(p, "environment")),
			render_status(st, sizeof(st), status, 9, colour),
			(int)cli_num(p, "total_steps", 0),
			cli_cost(cost, sizeof(cost), cli_num(p, "estimated_cost_usd", 0)),
			or_dash(cli_str(p, "created_at")), or_dash(cli_str(p, "base_sha")),
			or_dash(cli_str(p, "target_sha")));
	}
}

void render_runs(FILE *out, json_object *items, int colour)
{
	char id[16], st[64], type[80];
	size_t i;

	fprintf(out, "%s%-24s  %-12s  %-36s  %-38s  %s%s\n", cli_c(colour, C_BOLD), "STARTED",
		"PLAN", "MODEL", "RUN TYPE", "STATUS", cli_c(colour, C_RESET));
	for (i = 0; i < list_len(items); i++) {
		json_object *r = json_object_array_get_idx(items, i);
		const char *err = cli_str(r, "error_message");

		fprintf(out, "%-24s  %-12s  %-36s  %-38s  %s\n", or_dash(cli_str(r, "started_at")),
			render_short_id(id, sizeof(id), cli_str(r, "plan_id")),
			or_dash(cli_str(r, "model_name")), render_run_type(type, sizeof(type), r),
			render_status(st, sizeof(st), cli_str(r, "status"), 0, colour));
		if (err != NULL)
			fprintf(out, "  %s%.300s%s\n", cli_c(colour, C_DIM), err,
				cli_c(colour, C_RESET));
	}
}

void render_envs(FILE *out, json_object *items, int colour)
{
	size_t i;

	fprintf(out, "%s%-20s  %-10s  %-24s  %-16s  %-9s  %s%s\n", cli_c(colour, C_BOLD), "NAME",
		"EXECUTOR", "SCHEMA PREFIX", "CATALOG", "APPROVALS", "CONNECTION",
		cli_c(colour, C_RESET));
	for (i = 0; i < list_len(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);
		json_object *conn = json_object_object_get(e, "connection_configured");
		int own = conn != NULL && json_object_get_boolean(conn);

		fprintf(out, "%-20s  %-10s  %-24s  %-16s  %-9d  %s\n", or_dash(cli_str(e, "name")),
			or_dash(cli_str(e, "executor")), or_dash(cli_str(e, "schema_prefix")),
			or_dash(cli_str(e, "catalog")), (int)cli_num(e, "required_approvals", 1),
			own ? "its own" : "shared warehouse");
	}
}
