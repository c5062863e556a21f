/* test_plan.c: the interval planner and its canonical JSON, in memory */
#include <string.h>

#include "core/plan.h"
#include "core/project.h"
#include "suites.h"
#include "util/arena.h"
#include "util/error.h"

static struct arena *a;

static void setup(void)
{
	a = arena_new(0);
}

static void teardown(void)
{
	arena_free(a);
}

#define N(x) (sizeof(x) / sizeof((x)[0]))
#define BASE "1111111111111111111111111111111111111111"
#define TARGET "2222222222222222222222222222222222222222"

static const struct tfile base_files[] = {
	{ "m/src.sql", "-- name: s.src\n-- kind: FULL_REFRESH\nSELECT 1 AS id" },
	{ "m/inc.sql", "-- name: s.inc\n-- kind: INCREMENTAL_BY_TIME_RANGE\n"
	  "-- time_column: d\nSELECT d FROM {{ ref('src') }}" },
	{ "m/app.sql", "-- name: s.app\n-- kind: APPEND_ONLY\n"
	  "SELECT d FROM {{ ref('src') }}" },
	{ "m/after.sql", "-- name: s.after\n-- kind: FULL_REFRESH\n"
	  "SELECT d FROM {{ ref('app') }}" },
	{ "m/mrg.sql", "-- name: s.mrg\n-- kind: MERGE_BY_KEY\n"
	  "-- unique_key: d\nSELECT d FROM {{ ref('inc') }}" },
	{ "m/gone.sql", "-- name: s.gone\n-- kind: FULL_REFRESH\nSELECT 1" },
	{ "m/meta.sql", "-- name: s.meta\n-- kind: FULL_REFRESH\n"
	  "-- owner: a\nSELECT 1" },
	{ "m/pretty.sql", "-- name: s.pretty\n-- kind: FULL_REFRESH\nSELECT 1" },
};

static const struct tfile target_files[] = {
	{ "m/src.sql", "-- name: s.src\n-- kind: FULL_REFRESH\nSELECT 2 AS id" },
	{ "m/inc.sql", "-- name: s.inc\n-- kind: INCREMENTAL_BY_TIME_RANGE\n"
	  "-- time_column: d\nSELECT d FROM {{ ref('src') }}" },
	{ "m/app.sql", "-- name: s.app\n-- kind: APPEND_ONLY\n"
	  "SELECT d FROM {{ ref('src') }}" },
	{ "m/after.sql", "-- name: s.after\n-- kind: FULL_REFRESH\n"
	  "SELECT d FROM {{ ref('app') }}" },
	{ "m/mrg.sql", "-- name: s.mrg\n-- kind: MERGE_BY_KEY\n"
	  "-- unique_key: d\nSELECT d FROM {{ ref('inc') }}" },
	{ "m/new.sql", "-- name: s.new\n-- kind: INCREMENTAL_BY_TIME_RANGE\n"
	  "-- time_column: d\n-- lookback_days: 7\nSELECT 1 AS d" },
	{ "m/meta.sql", "-- name: s.meta\n-- kind: FULL_REFRESH\n"
	  "-- owner: b\nSELECT 1" },
	{ "m/pretty.sql", "-- name: s.pretty\n-- kind: FULL_REFRESH\n"
	  "select   1 -- one\n" },
};

static const struct plan_watermark wms[] = {
	{ "s.inc", "2025-05-01" },
	{ "s.app", "2025-06-15" },
	{ "s.new", "2020-01-01" },
};
static const double src_runs[] = { 10, 30, 20, 40 };
static const struct plan_runtimes rts[] = {
	{ "s.src", src_runs, 4 },
};

static void inputs(struct plan_inputs *in)
{
	plan_inputs_init(in);
	in->base = BASE;
	in->target = TARGET;
	in->as_of = "2025-06-15";
	in->watermarks = wms;
	in->n_watermarks = N(wms);
	in->runtimes = rts;
	in->n_runtimes = N(rts);
}

static struct plan *build(const struct tfile *b, size_t nb,
			  const struct tfile *t, size_t nt,
			  const struct plan_inputs *in)
{
	struct plan *p;
	const char *err;

	ck_assert_int_eq(plan_build(&p, a, t_project(a, b, nb),
				    t_project(a, t, nt), in, &err), 0);
	return p;
}

static const char *json(const struct plan *p)
{
	const char *out;
	size_t len;

	ck_assert_int_eq(plan_to_json(&out, &len, a, p), 0);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

static void assert_step(const struct plan_step *s, const char *model,
			enum run_type rt, const char *start, int group,
			const char *reason, size_t n_deps)
{
	ck_assert_str_eq(s->model, model);
	ck_assert_int_eq(s->run_type, rt);
	if (start) {
		ck_assert_int_eq(s->has_range, 1);
		ck_assert_str_eq(s->start, start);
		ck_assert_str_eq(s->end, "2025-06-15");
	} else {
		ck_assert_int_eq(s->has_range, 0);
	}
	ck_assert_int_eq(s->parallel_group, group);
	ck_assert_str_eq(s->reason, reason);
	ck_assert_uint_eq(s->n_depends_on, n_deps);
}

START_TEST(test_plan__rules)
{
	struct plan_inputs in;
	struct plan *p;

	inputs(&in);
	p = build(base_files, N(base_files), target_files, N(target_files), &in);
	ck_assert_uint_eq(p->n_steps, 5);
	assert_step(&p->steps[0], "s.new", RUN_FULL_REFRESH, "2025-06-08", 0,
		    "new model added", 0);
	assert_step(&p->steps[1], "s.src", RUN_FULL_REFRESH, NULL, 0,
		    "SQL logic changed", 0);
	assert_step(&p->steps[2], "s.after", RUN_FULL_REFRESH, NULL, 1,
		    "downstream of s.src", 1);
	assert_step(&p->steps[3], "s.inc", RUN_INCREMENTAL, "2025-05-01", 1,
		    "downstream of s.src", 1);
	assert_step(&p->steps[4], "s.mrg", RUN_FULL_REFRESH, NULL, 2,
		    "downstream of s.src", 1);
	/* s.after waits for s.src through the up-to-date s.app */
	ck_assert_str_eq(p->steps[2].depends_on[0], p->steps[1].step_id);
	ck_assert_str_eq(p->steps[4].depends_on[0], p->steps[3].step_id);
	ck_assert(p->steps[1].compute_seconds == 25.0);
	ck_assert(p->steps[1].cost_usd == 0.0175);
	ck_assert(p->steps[0].cost_usd == 0.21);
	ck_assert(p->estimated_cost_usd == 0.8575);
	ck_assert_uint_eq(p->up_to_date.n, 1);
	ck_assert_str_eq(p->up_to_date.items[0], "s.app");
	ck_assert_str_eq(p->models_changed.items[0], "s.src");
	ck_assert_str_eq(p->models_added.items[0], "s.new");
	ck_assert_str_eq(p->models_removed.items[0], "s.gone");
	ck_assert_str_eq(p->cosmetic_changes_skipped.items[0], "s.pretty");
	ck_assert_str_eq(p->metadata_changes.items[0], "s.meta");
}
END_TEST

/* The same files in another order, under other paths. */
static const struct tfile *shuffled(const struct tfile *f, size_t n)
{
	struct tfile *r = arena_calloc(a, n, sizeof(*r));
	size_t i;

	for (i = 0; i < n; i++) {
		r[i].path = arena_printf(a, "moved/%zu/%s", i, f[n - 1 - i].path);
		r[i].text = f[n - 1 - i].text;
	}
	return r;
}

START_TEST(test_plan__deterministic_bytes)
{
	struct plan_inputs in;
	const char *one, *two, *three;

	inputs(&in);
	one = json(build(base_files, N(base_files), target_files,
			 N(target_files), &in));
	two = json(build(base_files, N(base_files), target_files,
			 N(target_files), &in));
	three = json(build(shuffled(base_files, N(base_files)), N(base_files),
			   shuffled(target_files, N(target_files)),
			   N(target_files), &in));
	ck_assert_str_eq(one, two);
	ck_assert_str_eq(one, three);
	ck_assert_ptr_nonnull(strstr(one, "\n  \"plan_id\": \""));
	ck_assert_int_eq(one[strlen(one) - 1], '\n');
}
END_TEST

START_TEST(test_plan__empty_diff_is_empty_plan)
{
	struct plan_inputs in;
	struct plan *p;

	inputs(&in);
	in.watermarks = NULL;
	in.n_watermarks = 0;
	in.runtimes = NULL;
	in.n_runtimes = 0;
	in.base = TARGET;
	p = build(target_files, N(target_files), target_files, N(target_files),
		  &in);
	ck_assert_uint_eq(p->n_steps, 0);
	ck_assert_str_eq(json(p),
		"{\n"
		"  \"as_of\": \"2025-06-15\",\n"
		"  \"base\": \"" TARGET "\",\n"
		"  \"environment\": \"dev\",\n"
		/* sha256 of the compact form, computed independently */
		"  \"plan_id\": \"794f99f627da526a4d48126ab048456ec91fb0bf4e192ca0"
		"0741643994b21a82\",\n"
		"  \"steps\": [],\n"
		"  \"summary\": {\n"
		"    \"breaking_contract_violations\": 0,\n"
		"    \"contract_violations_count\": 0,\n"
		"    \"cosmetic_changes_skipped\": [],\n"
		"    \"estimated_cost_usd\": 0.0,\n"
		"    \"metadata_changes\": [],\n"
		"    \"models_added\": [],\n"
		"    \"models_changed\": [],\n"
		"    \"models_removed\": [],\n"
		"    \"total_steps\": 0,\n"
		"    \"up_to_date\": []\n"
		"  },\n"
		"  \"target\": \"" TARGET "\"\n"
		"}\n");
}
END_TEST

START_TEST(test_plan__nearest_changed_ancestor)
{
	static const struct tfile b[] = {
		{ "x", "-- name: s.x\n-- kind: FULL_REFRESH\nSELECT 1" },
		{ "z", "-- name: s.z\n-- kind: FULL_REFRESH\n"
		  "SELECT 1 FROM {{ ref('x') }}" },
		{ "y", "-- name: s.y\n-- kind: FULL_REFRESH\n"
		  "SELECT 1 FROM {{ ref('z') }}" },
		{ "w", "-- name: s.w\n-- kind: FULL_REFRESH\n"
		  "SELECT 1 FROM {{ ref('y') }}" },
	};
	static const struct tfile t[] = {
		{ "x", "-- name: s.x\n-- kind: FULL_REFRESH\nSELECT 2" },
		{ "z", "-- name: s.z\n-- kind: FULL_REFRESH\n"
		  "SELECT 1 FROM {{ ref('x') }}" },
		{ "y", "-- name: s.y\n-- kind: FULL_REFRESH\n"
		  "SELECT 2 FROM {{ ref('z') }}" },
		{ "w", "-- name: s.w\n-- kind: FULL_REFRESH\n"
		  "SELECT 1 FROM {{ ref('y') }}" },
	};
	struct plan_inputs in;
	struct plan *p;

	static const double one[] = { 1 };
	static const struct plan_runtimes x_runs[] = { { "s.x", one, 1 } };

	inputs(&in);
	in.cost_per_compute_second = 0.000007;
	in.runtimes = x_runs;
	in.n_runtimes = 1;
	p = build(b, N(b), t, N(t), &in);
	ck_assert_uint_eq(p->n_steps, 4);
	assert_step(&p->steps[0], "s.x", RUN_FULL_REFRESH, NULL, 0,
		    "SQL logic changed", 0);
	assert_step(&p->steps[1], "s.z", RUN_FULL_REFRESH, NULL, 1,
		    "downstream of s.x", 1);
	assert_step(&p->steps[2], "s.y", RUN_FULL_REFRESH, NULL, 2,
		    "SQL logic changed", 1);
	assert_step(&p->steps[3], "s.w", RUN_FULL_REFRESH, NULL, 3,
		    "downstream of s.y", 1);
	/* fixed notation, never an exponent */
	ck_assert_ptr_nonnull(strstr(json(p), "\"estimated_compute_seconds\": "
				     "1.0,\n      \"estimated_cost_usd\": "
				     "0.000007,\n"));
	ck_assert_ptr_nonnull(strstr(json(p), "\"estimated_cost_usd\": "
				     "0.0021,\n"));
	ck_assert_ptr_nonnull(strstr(json(p), "\"estimated_cost_usd\": "
				     "0.006307,\n"));
}
END_TEST

START_TEST(test_plan__null_base_adds_everything)
{
	struct plan_inputs in;
	struct plan *p;
	const char *err;
	size_t i;

	inputs(&in);
	ck_assert_int_eq(plan_build(&p, a, NULL, t_project(a, target_files,
							   N(target_files)),
				    &in, &err), 0);
	ck_assert_uint_eq(p->n_steps, N(target_files));
	ck_assert_uint_eq(p->models_added.n, N(target_files));
	for (i = 0; i < p->n_steps; i++) {
		ck_assert_int_eq(p->steps[i].run_type, RUN_FULL_REFRESH);
		ck_assert_str_eq(p->steps[i].reason, "new model added");
	}
	/* an added APPEND_ONLY model ignores its old watermark */
	ck_assert_uint_eq(p->up_to_date.n, 0);
}
END_TEST

START_TEST(test_plan__contract_violations)
{
	static const struct tfile t[] = {
		{ "c", "-- name: s.c\n-- kind: FULL_REFRESH\n"
		  "-- contract_mode: strict\n"
		  "-- contract_columns: id:int:not_null, amount:decimal(10,2), "
		  "Total:bigint\n"
		  "SELECT id, SUM(x) AS total FROM t GROUP BY id" },
		{ "w", "-- name: s.w\n-- kind: FULL_REFRESH\n"
		  "-- contract_mode: warn\n-- contract_columns: id:int\n"
		  "SELECT * FROM t" },
		{ "v", "-- name: s.v\n-- kind: FULL_REFRESH\n"
		  "-- contract_mode: warn\n-- contract_columns: id:int, gone:int\n"
		  "SELECT id FROM t" },
	};
	struct plan_inputs in;
	struct plan *p;

	inputs(&in);
	p = build(t, 0, t, N(t), &in);
	ck_assert_uint_eq(p->n_steps, 3);
	ck_assert_uint_eq(p->steps[0].n_violations, 1);
	ck_assert_uint_eq(p->steps[1].n_violations, 1);
	/* SELECT * cannot be checked: no violation claimed */
	ck_assert_uint_eq(p->steps[2].n_violations, 0);
	/* the summary counts them, BREAKING (strict) apart */
	ck_assert_ptr_nonnull(strstr(json(p), "  \"summary\": {\n"
		"    \"breaking_contract_violations\": 1,\n"
		"    \"contract_violations_count\": 2,\n"));
	ck_assert_ptr_nonnull(strstr(json(p),
		"      \"contract_violations\": [\n"
		"        {\n"
		"          \"actual\": null,\n"
		"          \"column_name\": \"amount\",\n"
		"          \"expected\": \"DECIMAL(10,2)\",\n"
		"          \"message\": \"contract column 'amount' is not in the "
		"model's SELECT list\",\n"
		"          \"severity\": \"BREAKING\",\n"
		"          \"violation_type\": \"COLUMN_MISSING\"\n"
		"        }\n"
		"      ],\n"));
}
END_TEST

START_TEST(test_plan__range_rules)
{
	static const struct tfile b[] = {
		{ "r", "-- name: s.r\n-- kind: FULL_REFRESH\nSELECT 1 AS d" },
		{ "i", "-- name: s.i\n-- kind: INCREMENTAL_BY_TIME_RANGE\n"
		  "-- time_column: d\nSELECT d FROM {{ ref('r') }}" },
		{ "a", "-- name: s.a\n-- kind: APPEND_ONLY\n"
		  "SELECT d FROM {{ ref('r') }}" },
		{ "n", "-- name: s.n\n-- kind: APPEND_ONLY\n-- lookback_days: 3\n"
		  "SELECT d FROM {{ ref('r') }}" },
	};
	static const struct tfile t[] = {
		{ "r", "-- name: s.r\n-- kind: FULL_REFRESH\nSELECT 2 AS d" },
		{ "i", "-- name: s.i\n-- kind: INCREMENTAL_BY_TIME_RANGE\n"
		  "-- time_column: d\nSELECT d FROM {{ ref('r') }}" },
		{ "a", "-- name: s.a\n-- kind: APPEND_ONLY\n"
		  "SELECT d FROM {{ ref('r') }}" },
		{ "n", "-- name: s.n\n-- kind: APPEND_ONLY\n-- lookback_days: 3\n"
		  "SELECT d FROM {{ ref('r') }}" },
	};
	/* s.i's watermark is inside the window: the window wins */
	static const struct plan_watermark w[] = {
		{ "s.i", "2025-06-10" }, { "s.a", "2025-06-10" },
	};
	struct plan_inputs in;
	struct plan *p;

	inputs(&in);
	in.watermarks = w;
	in.n_watermarks = N(w);
	in.default_lookback_days = 10;
	p = build(b, N(b), t, N(t), &in);
	ck_assert_uint_eq(p->n_steps, 4);
	assert_step(&p->steps[0], "s.r", RUN_FULL_REFRESH, NULL, 0,
		    "SQL logic changed", 0);
	assert_step(&p->steps[1], "s.a", RUN_INCREMENTAL, "2025-06-10", 1,
		    "downstream of s.r", 1);
	assert_step(&p->steps[2], "s.i", RUN_INCREMENTAL, "2025-06-05", 1,
		    "downstream of s.r", 1);
	assert_step(&p->steps[3], "s.n", RUN_INCREMENTAL, "2025-06-12", 1,
		    "downstream of s.r", 1);
}
END_TEST

static const char *build_err(struct plan_inputs *in, const struct tfile *t,
			     size_t nt)
{
	struct plan *p;
	const char *err = NULL;

	ck_assert_int_eq(plan_build(&p, a, t_project(a, base_files,
						     N(base_files)),
				    t_project(a, t, nt), in, &err), IL_EINVALID);
	ck_assert_ptr_null(p);
	return err;
}

START_TEST(test_plan__invalid_inputs)
{
	static const struct plan_watermark twice[] = {
		{ "s.inc", "2025-05-01" }, { "s.inc", "2025-05-02" },
	};
	static const struct tfile broken[] = {
		{ "b", "-- name: s.b\nSELECT 1" },
	};
	struct plan_inputs in;

	inputs(&in);
	in.as_of = "2025-02-30";
	ck_assert_str_eq(build_err(&in, target_files, N(target_files)),
			 "as_of must be a date written YYYY-MM-DD");
	inputs(&in);
	in.base = "HEAD";
	ck_assert_str_eq(build_err(&in, target_files, N(target_files)),
			 "base and target must be 40-hex commit ids");
	inputs(&in);
	in.watermarks = twice;
	in.n_watermarks = 2;
	ck_assert_str_eq(build_err(&in, target_files, N(target_files)),
			 "two watermarks for model 's.inc'");
	inputs(&in);
	ck_assert_str_eq(build_err(&in, broken, 1),
			 "the target commit has problems; run ironlayer check");
}
END_TEST

static int parse_str(struct plan_inputs *in, const char *s, const char **err)
{
	return plan_state_parse(in, a, s, strlen(s), err);
}

START_TEST(test_plan__state_file)
{
	static const char good[] = "{\"watermarks\": {\"s.inc\": \"2025-05-01\"},"
		" \"run_history\": {\"s.src\": [1, 2.5, 3]}}\n";
	struct plan_inputs in;
	const char *err;

	plan_inputs_init(&in);
	ck_assert_int_eq(plan_state_parse(&in, a, good, strlen(good), &err), 0);
	ck_assert_uint_eq(in.n_watermarks, 1);
	ck_assert_str_eq(in.watermarks[0].model, "s.inc");
	ck_assert_str_eq(in.watermarks[0].end, "2025-05-01");
	ck_assert_uint_eq(in.n_runtimes, 1);
	ck_assert_uint_eq(in.runtimes[0].n, 3);
	ck_assert(in.runtimes[0].seconds[1] == 2.5);
	ck_assert_int_eq(plan_state_parse(&in, a, "[1]", 3, &err), IL_EINVALID);
	ck_assert_str_eq(err, "state: not a JSON object");
	ck_assert_int_eq(plan_state_parse(&in, a, "{\"x\": 1}", 8, &err),
			 IL_EINVALID);
	ck_assert_str_eq(err, "state: only \"watermarks\" and \"run_history\" "
			 "are allowed");
	ck_assert_int_eq(parse_str(&in, "{\"watermarks\": {\"a\": \"June\"}}",
				   &err), IL_EINVALID);
	ck_assert_str_eq(err, "state: \"watermarks\" must map model names to "
			 "YYYY-MM-DD dates");
	ck_assert_int_eq(parse_str(&in, "{\"run_history\": {\"a\": [-1]}}",
				   &err), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(err, "run_history"));
	ck_assert_int_eq(plan_state_parse(&in, a, "{} x", 4, &err), IL_EINVALID);
}
END_TEST

Suite *suite_plan(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plan__rules);
	tcase_add_test(tc, test_plan__deterministic_bytes);
	tcase_add_test(tc, test_plan__empty_diff_is_empty_plan);
	tcase_add_test(tc, test_plan__nearest_changed_ancestor);
	tcase_add_test(tc, test_plan__invalid_inputs);
	tcase_add_test(tc, test_plan__null_base_adds_everything);
	tcase_add_test(tc, test_plan__contract_violations);
	tcase_add_test(tc, test_plan__range_rules);
	tcase_add_test(tc, test_plan__state_file);
	suite_add_tcase(s, tc);
	return s;
}
