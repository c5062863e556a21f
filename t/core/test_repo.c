/* test_repo.c: fixture repositories: revisions, golden plans, CLI */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/plan.h"
#include "core/project.h"
#include "repo/repo.h"
#include "suites.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/strbuf.h"

#define C1 "da7a71cc7cf4f978a4244f9487778c0177386b47"
#define C2 "22464b066bce297fddcd540b6ee8ddbb85ebf19a"
#define C3 "ab164971d7b7b7540ccf3cfd0b2530b070d94773"
#define GOLDEN IL_TOP_SRCDIR "/t/core/golden/"

static char fixtures[256];
static struct arena *a;

/* Builds the fixture repositories once for the whole suite. */
static void make_fixtures(void)
{
	char cmd[1024];

	snprintf(fixtures, sizeof(fixtures), "/tmp/il-core-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fixtures));
	snprintf(cmd, sizeof(cmd), "bash %s/t/fixtures/make-repos.sh %s",
		 IL_TOP_SRCDIR, fixtures);
	ck_assert_int_eq(system(cmd), 0);
}

static void remove_fixtures(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fixtures);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fixtures);
}

static void setup(void)
{
	a = arena_new(0);
}

static void teardown(void)
{
	arena_free(a);
}

static struct repo *open_fixture(const char *name)
{
	struct repo *r;

	ck_assert_int_eq(repo_open(&r, a, arena_printf(a, "%s/%s", fixtures,
							  name)), 0);
	return r;
}

static struct project *load(struct repo *r, const char *commit)
{
	struct project *p;

	ck_assert_int_eq(repo_load_project(&p, a, r, commit, NULL), 0);
	return p;
}

/* Compares with a golden file; IL_UPDATE_GOLDEN=1 rewrites it instead. */
static void assert_golden(const char *name, const char *got, size_t len)
{
	const char *path = arena_printf(a, "%s%s", GOLDEN, name);
	const char *want;
	size_t wlen = 0;

	if (getenv("IL_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");

		ck_assert_ptr_nonnull(f);
		fwrite(got, 1, len, f);
		fclose(f);
	}
	want = t_read(a, path, &wlen);
	ck_assert_ptr_nonnull(want);
	ck_assert_uint_eq(len, wlen);
	ck_assert_str_eq(got, want);
}

static const char *plan_json(struct repo *r, const char *base,
			     const char *target, int with_state)
{
	struct plan_inputs in;
	struct plan *p;
	const char *err, *out, *state;
	size_t len;

	plan_inputs_init(&in);
	in.base = base;
	in.target = target;
	in.as_of = "2025-06-15";
	if (with_state) {
		state = t_read(a, GOLDEN "state.json", &len);
		ck_assert_ptr_nonnull(state);
		ck_assert_int_eq(plan_state_parse(&in, a, state, len, &err), 0);
	}
	ck_assert_int_eq(plan_build(&p, a, load(r, base), load(r, target), &in,
				    &err), 0);
	ck_assert_int_eq(plan_to_json(&out, &len, a, p), 0);
	return out;
}

START_TEST(test_repo__resolve_revisions)
{
	struct repo *r = open_fixture("basic");
	char sha[41];

	ck_assert_int_eq(repo_resolve(sha, r, "HEAD"), 0);
	ck_assert_str_eq(sha, C3);
	ck_assert_int_eq(repo_resolve(sha, r, "HEAD~1"), 0);
	ck_assert_str_eq(sha, C2);
	ck_assert_int_eq(repo_resolve(sha, r, "da7a71c"), 0);
	ck_assert_str_eq(sha, C1);
	ck_assert_int_eq(repo_resolve(sha, r, "c3"), 0);
	ck_assert_str_eq(sha, C3);
	ck_assert_int_eq(repo_resolve(sha, r, "no-such-rev"), IL_ENOTFOUND);
	ck_assert_int_eq(repo_resolve(sha, r, "HEAD~9"), IL_ENOTFOUND);
	ck_assert_int_eq(repo_open(&r, a, fixtures), IL_ENOTFOUND);
	ck_assert_int_eq(repo_open(&r, a, "/nonexistent/x"), IL_ENOTFOUND);
}
END_TEST

START_TEST(test_repo__golden_plans)
{
	struct repo *r = open_fixture("basic");
	const char *out;

	out = plan_json(r, C2, C3, 1);
	assert_golden("basic_c2_c3.json", out, strlen(out));
	out = plan_json(r, C1, C2, 0);
	assert_golden("basic_c1_c2.json", out, strlen(out));
	ck_assert_ptr_nonnull(strstr(out, "\"steps\": [],"));
	out = plan_json(r, C3, C3, 0);
	ck_assert_ptr_nonnull(strstr(out, "\"steps\": [],"));
	ck_assert_ptr_nonnull(strstr(out, "\"total_steps\": 0,"));
}
END_TEST

START_TEST(test_repo__moved_files_change_nothing)
{
	struct repo *r = open_fixture("basic");
	struct project *c1 = load(r, C1), *c2 = load(r, C2);
	int i = project_find(c1, "analytics.revenue");
	int j = project_find(c2, "analytics.revenue");

	ck_assert_str_eq(c1->models[i]->path, "models/analytics/revenue.sql");
	ck_assert_str_eq(c2->models[j]->path, "models/marts/revenue.sql");
	ck_assert_str_eq(c1->models[i]->content_hash,
			 c2->models[j]->content_hash);
	ck_assert_str_eq(c1->models_dir, "models");
}
END_TEST

START_TEST(test_repo__broken_reports_everything)
{
	struct repo *r = open_fixture("broken");
	char sha[41];
	struct project *p;

	ck_assert_int_eq(repo_resolve(sha, r, "HEAD"), 0);
	p = load(r, sha);
	ck_assert_uint_eq(p->diags.n_errors, 9);
	ck_assert_str_eq(t_diags(a, &p->diags),
		"models/bad_kind.sql:2: error: unknown kind 'SOMETIMES': "
		"expected FULL_REFRESH, INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY "
		"or MERGE_BY_KEY\n"
		"models/cycle_a.sql:3: error: dependency cycle: cyc.a \xe2\x86\x92"
		" cyc.b \xe2\x86\x92 cyc.c \xe2\x86\x92 cyc.a\n"
		"models/cycle_a.sql:3: warning: SELECT * makes the model's "
		"columns depend on its upstream; list the columns\n"
		"models/ddl.sql:3: error: body must be one SELECT or WITH query, "
		"found 'INSERT'\n"
		"models/dup_2.sql:1: error: duplicate model name 'good.orders': "
		"also defined in models/dup_1.sql (line 1)\n"
		"models/incr.sql:2: error: kind INCREMENTAL_BY_TIME_RANGE "
		"requires a time_column header\n"
		"models/incr.sql:3: warning: CROSS JOIN multiplies rows; check "
		"it is intended\n"
		"models/latin1.sql:3: error: file is not valid UTF-8 (byte 53)\n"
		"models/no_name.sql:1: error: missing required header 'name'\n"
		"models/two_statements.sql:4: error: only one statement is "
		"allowed: a second statement starts at 'DROP'\n"
		"models/unknown_ref.sql:3: error: unresolved ref 'good.ordrs': "
		"no model has that name (closest: 'good.orders')\n");
}
END_TEST

START_TEST(test_repo__fallback_dir_and_read_file)
{
	struct repo *r = open_fixture("fallback");
	const char *text;
	char sha[41];
	size_t len;
	struct project *p;

	ck_assert_int_eq(repo_resolve(sha, r, "HEAD"), 0);
	p = load(r, sha);
	ck_assert_str_eq(p->models_dir, "sql/models");
	ck_assert_uint_eq(p->n_models, 1);
	ck_assert_str_eq(p->models[0]->path, "sql/models/a.sql");
	ck_assert_int_eq(repo_read_file(&text, &len, a, r, sha,
					"sql/models/a.sql"), 0);
	ck_assert_str_eq(text, "-- name: s.a\n-- kind: FULL_REFRESH\n"
			 "SELECT 1 AS x\n");
	ck_assert_int_eq(repo_read_file(&text, &len, a, r, sha, "nope.sql"),
			 IL_ENOTFOUND);
	ck_assert_int_eq(repo_load_project(&p, a, r, C1, NULL), IL_ENOTFOUND);
}
END_TEST

/* Runs the CLI; returns its exit status, stdout into *out. */
static int run_cli(const char *args, const char **out)
{
	char cmd[2048], buf[4096];
	struct strbuf sb;
	size_t n;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "cd %s && %s/ironlayer --config /dev/null "
		 "%s 2>/dev/null", fixtures, IL_TOP_BUILDDIR, args);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	strbuf_init(&sb, a, 1 << 20);
	strbuf_adds(&sb, "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	st = pclose(f);
	*out = strbuf_cstr(&sb);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_repo__cli_plan_matches_golden)
{
	const char *args = "plan basic c2 HEAD --as-of 2025-06-15 --state "
		GOLDEN "state.json";
	const char *one, *two, *want;
	size_t len;

	ck_assert_int_eq(run_cli(args, &one), 0);
	ck_assert_int_eq(run_cli(args, &two), 0);
	want = t_read(a, GOLDEN "basic_c2_c3.json", &len);
	ck_assert_str_eq(one, want);
	ck_assert_str_eq(two, want);
	ck_assert_int_eq(run_cli("plan broken HEAD HEAD --as-of 2025-06-15",
				 &one), 1);
	ck_assert_str_eq(one, "");
	ck_assert_int_eq(run_cli("plan basic c1 nope", &one), 1);
	ck_assert_int_eq(run_cli("plan basic c1", &one), 2);
	ck_assert_int_eq(run_cli("check broken", &one), 1);
	ck_assert_str_eq(one, "9 models, 9 errors, 2 warnings\n");
	ck_assert_int_eq(run_cli("check basic --at c1", &one), 0);
	ck_assert_int_eq(run_cli("models fallback", &one), 0);
	ck_assert_str_eq(one, "s.a                                      "
			 "FULL_REFRESH               TABLE            "
			 "sql/models/a.sql\n");
	ck_assert_int_eq(run_cli("models fallback --json", &one), 0);
	/* the hash recomputed by hand from docs/model-format.md's formula */
	ck_assert_str_eq(one, "[\n  {\"content_hash\": \"9cc64e26e99cdf0e25c2e4"
			 "34cd75be202ff8ecd0818bcb1799aa281d6ac42ef6\", \"kind\": "
			 "\"FULL_REFRESH\", \"materialization\": \"TABLE\", "
			 "\"name\": \"s.a\", \"path\": \"sql/models/a.sql\"}\n]\n");
	ck_assert_int_eq(run_cli("lineage basic events_clean --at c1", &one), 0);
	ck_assert_str_eq(one, "staging.events_clean\nupstream:\n  1 raw.events\n"
			 "downstream:\n  1 analytics.orders_daily\n"
			 "  2 analytics.revenue\n");
}
END_TEST

/* repo_path_resolve of dir/rel for tenant: 0 with out == dir/want, or the error. */
static int resolve_in(const struct il_config *cfg, const char *tenant, const char *dir,
		      const char *rel, const char *want)
{
	char out[PATH_MAX];
	int rc = repo_path_resolve(out, cfg, tenant, arena_printf(a, "%s/%s", dir, rel));

	if (rc == 0)
		ck_assert_str_eq(out, arena_printf(a, "%s/%s", dir, want));
	else
		ck_assert_str_eq(out, "");
	return rc;
}

START_TEST(test_repo__paths_stay_in_the_tenants_roots)
{
	char dir[] = "/tmp/il-roots-XXXXXX", cmd[1024], *real;
	struct il_config cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	real = realpath(dir, NULL);
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir -p r/t1/x r/t12/y r/t2/z shared/s shared2/q && "
		 "ln -s ../t2/z r/t1/link && ln -s ../r/t1/x shared/into", real);
	ck_assert_int_eq(system(cmd), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.repo_root[0] = arena_printf(a, "%s/r", real);
	cfg.n_repo_roots = 1;
	cfg.shared_repo_root[0] = arena_printf(a, "%s/shared", real);
	cfg.n_shared_repo_roots = 1;

	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x", "r/t1/x"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x/../x/", "r/t1/x"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared/s", "shared/s"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared", "shared"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared/into", "r/t1/x"), 0);
	/* another tenant's, one whose id starts with ours, and escapes: all "missing" */
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t2/z", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t12/y", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/../t2/z", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/link", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t2", real, "shared/into", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared2/q", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/missing", NULL), IL_ENOTFOUND);
	/* a tenant id is one plain name */
	ck_assert_int_eq(resolve_in(&cfg, "..", real, "r/t1/x", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1/../t2", real, "r/t2/z", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "", real, "r/t1/x", NULL), IL_ENOTFOUND);
	/* a root of "/" */
	cfg.repo_root[0] = "/";
	cfg.n_shared_repo_roots = 0;
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x", NULL), IL_ENOTFOUND);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", real);
	ck_assert_int_eq(system(cmd), 0);
	free(real);
}
END_TEST

Suite *suite_repo(void)
{
	Suite *s = suite_create("repo");
	TCase *tc = tcase_create("repo");

	tcase_add_unchecked_fixture(tc, make_fixtures, remove_fixtures);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_repo__resolve_revisions);
	tcase_add_test(tc, test_repo__golden_plans);
	tcase_add_test(tc, test_repo__moved_files_change_nothing);
	tcase_add_test(tc, test_repo__broken_reports_everything);
	tcase_add_test(tc, test_repo__fallback_dir_and_read_file);
	tcase_add_test(tc, test_repo__cli_plan_matches_golden);
	tcase_add_test(tc, test_repo__paths_stay_in_the_tenants_roots);
	suite_add_tcase(s, tc);
	return s;
}
