/* cli_plan.c: ironlayer plan — the plan between two commits, with no server */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bin/cli.h"
#include "bin/cli_diff.h"
#include "bin/cli_out.h"
#include "bin/cli_render.h"
#include "bin/cli_project.h"
#include "core/plan.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/strbuf.h"

/* Reads a whole file (up to max bytes) into the arena. */
static int read_file(const char **out, size_t *len, struct arena *a, const char *path,
		     size_t max)
{
	struct strbuf sb;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	if (f == NULL)
		return IL_ENOTFOUND;
	strbuf_init(&sb, a, max);
	strbuf_adds(&sb, "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	if (ferror(f))
		rc = IL_ERR;
	else if (strbuf_cstr(&sb) == NULL)
		rc = IL_ETOOBIG;
	fclose(f);
	*out = sb.buf;
	*len = sb.len;
	return rc;
}

static int write_output(const char *path, const char *data, size_t len)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	int bad;

	if (f == NULL)
		return -1;
	bad = fwrite(data, 1, len, f) != len;
	if (path)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	return bad ? -1 : 0;
}

struct plan_args {
	const char *pos[3];
	const char *as_of;
	const char *env;
	const char *state;
	const char *out;
	int json;
	int diff;
	struct cli_cache_flags cache;
};

/* 0, CLI_PARSE_HELP, or -1 after a usage message. */
static int parse_plan_args(struct plan_args *pa, int argc, char **argv)
{
	const struct cli_opt opts[] = {
		{ "--as-of", &pa->as_of, NULL }, { "--env", &pa->env, NULL },
		{ "--state", &pa->state, NULL }, { "--out", &pa->out, NULL },
		{ "--json", NULL, &pa->json }, { "--diff", NULL, &pa->diff },
		CLI_CACHE_OPTS(&pa->cache), { NULL, NULL, NULL }
	};
	int n;

	memset(pa, 0, sizeof(*pa));
	n = cli_parse("plan", argc, argv, opts, pa->pos, 3);
	if (n == 3 || n < 0)
		return n < 0 ? n : 0;
	cli_usage_error("plan");
	return -1;
}

static void today(char out[IL_DATE_LEN + 1])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, IL_DATE_LEN + 1, "%Y-%m-%d", &tm);
}

/* Config, flags and the --state file into in. */
static int plan_inputs_fill(struct plan_inputs *in, struct cli *c, const struct plan_args *pa,
			    char *as_of_buf)
{
	const char *text, *err;
	size_t len;
	int rc;

	plan_inputs_init(in);
	in->default_lookback_days = c->cfg.default_lookback_days;
	in->cost_per_compute_second = c->cfg.cost_per_compute_second;
	if (pa->env)
		in->environment = pa->env;
	if (pa->as_of == NULL)
		today(as_of_buf);
	in->as_of = pa->as_of ? pa->as_of : as_of_buf;
	if (pa->state == NULL)
		return 0;
	rc = read_file(&text, &len, c->a, pa->state, IL_MAX_STATE_FILE);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot read state file '%s'%s\n", c->prog, pa->state,
			rc == IL_ETOOBIG ? ": too large" : "");
		return rc;
	}
	rc = plan_state_parse(in, c->a, text, len, &err);
	if (rc < 0)
		fprintf(stderr, "%s: %s: %s\n", c->prog, pa->state, err ? err : "out of memory");
	return rc;
}

/* The two projects, checked; 0 or 1 after the messages. */
struct plan_sides {
	char base_sha[REPO_OID_HEX_LEN + 1], target_sha[REPO_OID_HEX_LEN + 1];
	struct project *base, *target;
};

static int load_sides(struct plan_sides *ps, struct cli *c, const struct plan_args *pa)
{
	if (cli_load_both(&ps->base, &ps->target, ps->base_sha, ps->target_sha, c, pa->pos[1],
			  pa->pos[2]) < 0)
		return 1;
	cli_cache_save_soon(c);    /* the cache file is written while the plan is made */
	if (ps->target->diags.n_errors > 0) {
		char n[48];

		cli_print_diags(ps->target, 0);
		fprintf(stderr, "%s: %s at %s; no plan written\n", c->prog,
			cli_count(n, sizeof(n), (long long)ps->target->diags.n_errors, "problem",
				  NULL),
			pa->pos[2]);
		return 1;
	}
	if (ps->base->diags.n_errors > 0) {
		char n[48];

		fprintf(stderr, "%s: note: %s at %s ignored (see ironlayer check %s --at %s)\n",
			c->prog, cli_count(n, sizeof(n), (long long)ps->base->diags.n_errors,
					   "problem", NULL), pa->pos[1], pa->pos[0], pa->pos[1]);
	}
	return 0;
}

/* The model file of name at one side, or "" when it is not there. */
static const char *model_text(struct cli *c, const struct project *p, const char *sha,
			      const char *name, size_t *len, const char **path)
{
	int i = project_find(p, name);
	const char *text = NULL;

	*len = 0;
	*path = "/dev/null";
	if (i < 0)
		return "";
	*path = p->models[i]->path;
	if (repo_read_file(&text, len, c->a, c->repo, sha, *path) < 0) {
		*len = 0;
		return "";
	}
	return text;
}

/* Each modified model's file, base against target, as a unified diff. */
static int print_diffs(struct cli *c, const struct plan_sides *ps, json_object *plan, int colour)
{
	json_object *summary = json_object_object_get(plan, "summary"), *mod;
	size_t i;

	if (!json_object_object_get_ex(summary, "models_modified", &mod))
		mod = json_object_object_get(summary, "models_changed");
	for (i = 0; mod != NULL && i < json_object_array_length(mod); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(mod, i));
		const char *pa, *pb, *ta, *tb;
		size_t la, lb;

		ta = model_text(c, ps->base, ps->base_sha, name, &la, &pa);
		tb = model_text(c, ps->target, ps->target_sha, name, &lb, &pb);
		printf("\n");
		if (cli_diff(stdout, c->a, arena_printf(c->a, "a/%s (%.7s)", pa, ps->base_sha), ta,
			     la, arena_printf(c->a, "b/%s (%.7s)", pb, ps->target_sha), tb, lb,
			     colour) < 0)
			return 1;
	}
	return 0;
}

/* The summary (and with --diff the SQL diffs) instead of the plan JSON. */
static int print_human(struct cli *c, const struct plan_sides *ps, const char *json, size_t len,
		       int diff)
{
	json_object *plan = json_tokener_parse(json);
	int colour = cli_colour_for(stdout);

	(void)len;
	if (plan == NULL || json_arena_own(c->a, plan) < 0) {
		fprintf(stderr, "%s: out of memory\n", c->prog);
		return 1;
	}
	render_plan(stdout, plan, colour);
	if (diff && print_diffs(c, ps, plan, colour) != 0)
		return 1;
	return fflush(stdout) != 0;
}

static int run_plan(struct cli *c, const struct plan_args *pa)
{
	char as_of[IL_DATE_LEN + 1];
	struct plan_sides ps;
	struct plan_inputs in;
	struct plan *plan;
	const char *json, *err;
	size_t len;

	if (load_sides(&ps, c, pa) != 0 || plan_inputs_fill(&in, c, pa, as_of) < 0)
		return 1;
	in.base = ps.base_sha;
	in.target = ps.target_sha;
	if (plan_build(&plan, c->a, ps.base, ps.target, &in, &err) < 0 ||
	    plan_to_json(&json, &len, c->a, plan) < 0) {
		fprintf(stderr, "%s: %s\n", c->prog, err ? err : "plan too large");
		return 1;
	}
	/* JSON for scripts (a pipe, a file, --json); a summary for people at a terminal */
	if (pa->diff || (!pa->json && pa->out == NULL && isatty(STDOUT_FILENO)))
		return print_human(c, &ps, json, len, pa->diff);
	if (write_output(pa->out, json, len) < 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", c->prog, pa->out ? pa->out : "stdout",
			strerror(errno));
		return 1;
	}
	return 0;
}

/* ironlayer plan REPO BASE TARGET […]: see the command table in ironlayer.c. */
int cli_plan(int argc, char **argv)
{
	struct plan_args pa;
	struct cli c;
	int status, rc = parse_plan_args(&pa, argc, argv);

	if (rc < 0)
		return rc == CLI_PARSE_HELP ? 0 : 2;
	if ((status = cli_start(&c, "ironlayer plan", pa.pos[0], &pa.cache)) == 0)
		status = run_plan(&c, &pa);
	cli_end(&c);
	return status;
}
