/* test_advise.c: unit tests of src/advise: lint, columns, diff, redaction, replies, heuristics */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "advise/advise.h"
#include "core/diag.h"
#include "core/model.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/strbuf.h"

static struct arena *a;

static void setup(void)
{
	a = arena_new(0);
}

static void teardown(void)
{
	arena_free(a);
}

/* A model from a body (the header names it and its kind). */
static struct model *model_of(const char *kind_lines, const char *body)
{
	struct diag_list dl;
	struct model *m = NULL;
	const char *text = arena_printf(a, "-- name: s.m\n%s%s", kind_lines, body);

	diag_list_init(&dl, a);
	ck_assert_int_eq(model_parse(&m, a, "m.sql", text, strlen(text), &dl), 0);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* The rules that fire, as "rule@line,rule@line". */
static const char *lint(const char *kind_lines, const char *body)
{
	struct advise_finding *f;
	struct strbuf sb;
	size_t n, i;

	ck_assert_int_eq(advise_lint(&f, &n, a, model_of(kind_lines, body)), 0);
	strbuf_init(&sb, a, 4096);
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s@%u", i ? "," : "", f[i].rule, f[i].line);
	return strbuf_cstr(&sb);
}

#define FULL "-- kind: FULL_REFRESH\n"

START_TEST(test_lint__each_rule_and_its_line)
{
	ck_assert_str_eq(lint(FULL, "SELECT a, COUNT(*) AS n FROM t GROUP BY a\n"), "");
	ck_assert_str_eq(lint(FULL, "SELECT *\nFROM t\n"), "select_star@3");
	ck_assert_str_eq(lint(FULL, "SELECT x.* FROM t AS x\n"), "select_star@3");
	ck_assert_str_eq(lint(FULL, "SELECT a FROM t\nCROSS JOIN u\n"), "cross_join@4");
	ck_assert_str_eq(lint(FULL, "SELECT a FROM (SELECT a FROM t ORDER BY a) s\n"),
			 "order_by_in_subquery@3");
	ck_assert_str_eq(lint(FULL, "SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 5) s\n"), "");
	ck_assert_str_eq(lint(FULL, "SELECT row_number() OVER (ORDER BY a) FROM t\n"), "");
	ck_assert_str_eq(lint(FULL, "SELECT a FROM t WHERE a NOT IN (SELECT b FROM u)\n"),
			 "not_in_subquery@3");
	ck_assert_str_eq(lint(FULL, "SELECT a FROM t\nWHERE DATE(created_at) = '2024-01-01'\n"),
			 "non_sargable_date_filter@4");
	ck_assert_str_eq(lint(FULL, "SELECT DATE(created_at) AS d FROM t\n"), "");
	ck_assert_str_eq(lint(FULL, "SELECT a FROM t WHERE created_at >= DATE('2024-01-01')\n"),
			 "");
}
END_TEST

#define INCR "-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: day\n"

START_TEST(test_lint__incremental_must_filter_on_its_time_column)
{
	ck_assert_str_eq(lint(INCR, "SELECT day, v FROM t\n"),
			 "incremental_without_time_filter@1");
	ck_assert_str_eq(lint(INCR, "SELECT day, v FROM t WHERE v > 0 GROUP BY day\n"),
			 "incremental_without_time_filter@1");
	ck_assert_str_eq(lint(INCR, "SELECT day, v FROM t\nWHERE t.day >= {{ start_date }}"
			      " AND t.day < {{ end_date }}\n"), "");
}
END_TEST

START_TEST(test_columns__names_aliases_and_stars)
{
	const char **c;
	size_t n;

	ck_assert_int_eq(advise_output_columns(&c, &n, a, model_of(FULL,
		"WITH x AS (SELECT 1 AS z) SELECT DISTINCT a, b AS Bee, t.c, \"Q\", 1 + 2 FROM t")), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(c[0], "a");
	ck_assert_str_eq(c[1], "bee");
	ck_assert_str_eq(c[2], "c");
	ck_assert_str_eq(c[3], "q");
	ck_assert_int_eq(advise_output_columns(&c, &n, a, model_of(FULL, "SELECT t.* FROM t")), 0);
	ck_assert_uint_eq(n, (size_t)-1);
}
END_TEST

START_TEST(test_diff__counts_and_lists_changes)
{
	struct strbuf sb;

	strbuf_init(&sb, a, 4096);
	ck_assert_uint_eq(advise_line_diff(&sb, a, "a\nb\nc\n", "a\nB\nc\nd\n", 10), 3);
	ck_assert_str_eq(strbuf_cstr(&sb), "  a\n- b\n+ B\n  c\n+ d\n");
	ck_assert_uint_eq(advise_line_diff(NULL, a, "same\n", "same\n", 0), 0);
	strbuf_init(&sb, a, 4096);
	advise_line_diff(&sb, a, "", "1\n2\n3\n", 2);
	ck_assert_str_eq(strbuf_cstr(&sb), "+ 1\n+ 2\n");
}
END_TEST

START_TEST(test_redact__literals_comments_emails_secrets)
{
	const char *sql = "SELECT a -- owner: jane@example.com\n"
			  "FROM t WHERE b = 'x''y' AND c > 42 /* token sk-live */\n"
			  "  AND d = {{ ref('s.u') }}";

	ck_assert_str_eq(advise_redact_sql(a, sql, strlen(sql)),
			 "SELECT a\nFROM t WHERE b = ? AND c > ?\nAND d = {{ ref('s.u') }}");
	ck_assert_str_eq(advise_redact_text(a, "mail bob.smith@corp.io key sk-ant-api03-abcdefgh"
					     " password=hunter2 plain_name_2024"),
			 "mail [redacted-email] key [redacted-secret] password=[redacted-secret]"
			 " plain_name_2024");
	ck_assert_ptr_null(advise_redact_sql(a, "SELECT 'open", 12));
}
END_TEST

/* A project from (path, text) pairs, finished. */
static struct project *project_of(const char *const *files, size_t n)
{
	struct project *p;
	size_t i;

	ck_assert_int_eq(project_new(&p, a), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(project_add_file(p, arena_printf(a, "m%zu.sql", i), files[i],
						  strlen(files[i])), 0);
	ck_assert_int_eq(project_finish(p), 0);
	ck_assert_uint_eq(p->diags.n_errors, 0);
	return p;
}

static const char *const base_files[] = {
	"-- name: raw.src\n-- kind: FULL_REFRESH\nSELECT id, amount, note FROM public.src\n",
	"-- name: mart.sum\n-- kind: FULL_REFRESH\n-- tags: critical\n"
	"SELECT id, SUM(amount) AS total FROM {{ ref('raw.src') }} GROUP BY id\n",
};
static const char *const target_files[] = {
	"-- name: raw.src\n-- kind: FULL_REFRESH\nSELECT id, amount FROM public.src\n",
	"-- name: mart.sum\n-- kind: FULL_REFRESH\n-- tags: critical\n"
	"SELECT id, SUM(amount) AS total FROM {{ ref('raw.src') }} GROUP BY id\n",
};

START_TEST(test_heuristics__factors_costs_and_determinism)
{
	static const double runtimes[] = { 40, 10, 20, 30 };
	struct advise_step steps[2];
	struct advise_input in;
	json_object *o1, *o2, *reply;
	const char *t1, *why;

	memset(steps, 0, sizeof(steps));
	steps[0].step_id = "s0";
	steps[0].model = "raw.src";
	steps[0].full_refresh = 1;
	steps[0].history.runtimes = runtimes;
	steps[0].history.n_runtimes = 4;
	steps[0].history.recent_runs = 5;
	steps[0].history.recent_failures = 1;
	steps[1].step_id = "s1";
	steps[1].model = "mart.sum";
	steps[1].full_refresh = 1;
	steps[1].planned_seconds = 100;
	memset(&in, 0, sizeof(in));
	in.steps = steps;
	in.n_steps = 2;
	in.base = project_of(base_files, 2);
	in.target = project_of(target_files, 2);
	in.cost_per_second = 0.001;
	ck_assert_int_eq(advise_heuristics(&o1, a, &in), 0);
	ck_assert_int_eq(advise_heuristics(&o2, a, &in), 0);
	t1 = arena_strdup(a, json_object_to_json_string_ext(o1, JSON_C_TO_STRING_PLAIN));
	ck_assert_str_eq(t1, json_object_to_json_string_ext(o2, JSON_C_TO_STRING_PLAIN));
	ck_assert_ptr_nonnull(strstr(t1, "\"cost\":{\"estimated_runtime_seconds\":25.00,"
				     "\"estimated_cost_usd\":0.025000,\"lower_usd\":0.013000,"
				     "\"upper_usd\":0.037000,\"basis\":\"history\",\"sample_size\":4}"));
	ck_assert_ptr_nonnull(strstr(t1, "\"detail\":\"1 of the last 5 runs failed\""));
	ck_assert_ptr_nonnull(strstr(t1, "{\"factor\":\"removed_upstream\",\"points\":3,"
				     "\"detail\":\"removed upstream: raw.src.note\"}"));
	ck_assert_ptr_nonnull(strstr(t1, "{\"factor\":\"critical_tag\",\"points\":2,"
				     "\"detail\":\"tagged critical\"}"));
	ck_assert_ptr_nonnull(strstr(t1, "\"basis\":\"default\""));
	ck_assert_ptr_nonnull(strstr(t1, "\"highest_risk\":{\"score\":5,\"level\":\"medium\","
				     "\"model\":\"mart.sum\"}"));

	/* replies: fenced JSON, models outside the plan dropped, prose refused */
	ck_assert_int_eq(advise_reply_validate(&reply, &why, "Sure!\n```json\n{\"summary\":\"ok\","
		"\"risk_notes\":[{\"model\":\"mart.sum\",\"note\":\"n\"},{\"model\":\"x.y\","
		"\"note\":\"n\"}],\"optimizations\":[{\"model\":\"raw.src\"}]}\n```", &in), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN),
			 "{\"summary\":\"ok\",\"risk_notes\":[{\"model\":\"mart.sum\",\"note\":\"n\"}],"
			 "\"optimizations\":[],\"dropped_items\":2}");
	json_object_put(reply);
	ck_assert_int_eq(advise_reply_validate(&reply, &why, "no json here", &in), -1);
	ck_assert_str_eq(why, "the reply is not a JSON object");
	ck_assert_int_eq(advise_reply_validate(&reply, &why, "{\"risk_notes\":[]}", &in), -1);
	ck_assert_str_eq(why, "the reply has no summary");
	json_object_put(o1);
	json_object_put(o2);
}
END_TEST

static const char *const cls_base[] = {
	"-- name: raw.src\n-- kind: FULL_REFRESH\nSELECT id, amount, note FROM public.src\n",
	"-- name: mart.keep\n-- kind: FULL_REFRESH\nSELECT id, amount FROM {{ ref('raw.src') }}\n",
	"-- name: mart.wide\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: d\n"
	"SELECT d, amount FROM t WHERE d >= {{ start_date }}\n",
	"-- name: mart.day\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: d\n"
	"SELECT d, e, amount FROM t WHERE d >= {{ start_date }}\n",
	"-- name: mart.down\n-- kind: FULL_REFRESH\nSELECT id FROM {{ ref('mart.keep') }}\n",
};
static const char *const cls_target[] = {
	"-- name: raw.src\n-- kind: FULL_REFRESH\nSELECT id, amount FROM public.src\n",
	"-- name: mart.keep\n-- kind: FULL_REFRESH\n"
	"SELECT id, amount * 2 AS amount FROM {{ ref('raw.src') }}\n",
	"-- name: mart.wide\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: d\n"
	"SELECT d, amount, 1 AS extra FROM t WHERE d >= {{ start_date }}\n",
	"-- name: mart.day\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: e\n"
	"SELECT d, e, amount FROM t WHERE e >= {{ start_date }}\n",
	"-- name: mart.down\n-- kind: FULL_REFRESH\nSELECT id FROM {{ ref('mart.keep') }}\n",
	"-- name: mart.new\n-- kind: FULL_REFRESH\nSELECT 1 AS one\n",
};

/* The classification of model in the advisory's per-model view, as compact JSON. */
static const char *classified(json_object *by_model, const char *model)
{
	json_object *e = json_object_object_get(by_model, model), *c;

	ck_assert_ptr_nonnull(e);
	if (!json_object_object_get_ex(e, "semantic_classification", &c))
		return "none";
	return json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
}

START_TEST(test_reference__classification_and_per_model_shapes)
{
	static const char *const names[] = { "raw.src", "mart.keep", "mart.wide", "mart.day",
					     "mart.down", "mart.new" };
	struct advise_step steps[6];
	struct advise_input in;
	json_object *adv, *llm, *by, *e;
	size_t i;

	memset(steps, 0, sizeof(steps));
	for (i = 0; i < 6; i++) {
		steps[i].step_id = names[i];
		steps[i].model = names[i];
		steps[i].full_refresh = 1;
	}
	memset(&in, 0, sizeof(in));
	in.steps = steps;
	in.n_steps = 6;
	in.base = project_of(cls_base, 5);
	in.target = project_of(cls_target, 6);
	in.cost_per_second = 0.001;
	ck_assert_int_eq(advise_heuristics(&adv, a, &in), 0);
	/* what augment adds: the LLM's notes name models */
	llm = json_tokener_parse("{\"risk_notes\":[{\"model\":\"raw.src\",\"note\":\"note is gone\"}],"
				 "\"optimizations\":[{\"model\":\"mart.keep\",\"suggestion\":"
				 "\"filter first\"}]}");
	json_object_object_add(adv, "llm", llm);
	by = advise_by_model(adv);
	ck_assert_ptr_nonnull(by);
	ck_assert_str_eq(classified(by, "raw.src"),
			 "{\"change_type\":\"breaking\",\"confidence\":0.90,"
			 "\"requires_full_rebuild\":true,\"impact_scope\":\"columns removed: note; "
			 "2 downstream models\"}");
	ck_assert_str_eq(classified(by, "mart.keep"),
			 "{\"change_type\":\"metric_semantic\",\"confidence\":0.90,"
			 "\"requires_full_rebuild\":true,\"impact_scope\":\"1 downstream model\"}");
	/* an incremental model that only gains a column keeps its history */
	ck_assert_str_eq(classified(by, "mart.wide"),
			 "{\"change_type\":\"non_breaking\",\"confidence\":0.90,"
			 "\"requires_full_rebuild\":false,\"impact_scope\":\"0 downstream models\"}");
	ck_assert_str_eq(classified(by, "mart.day"),
			 "{\"change_type\":\"partition_shift\",\"confidence\":0.80,"
			 "\"requires_full_rebuild\":true,\"impact_scope\":\"0 downstream models\"}");
	ck_assert_str_eq(classified(by, "mart.new"),
			 "{\"change_type\":\"non_breaking\",\"confidence\":0.90,"
			 "\"requires_full_rebuild\":true,\"impact_scope\":\"new model; "
			 "0 downstream models\"}");
	ck_assert_str_eq(classified(by, "mart.down"), "none");   /* nothing of its own */

	e = json_object_object_get(by, "raw.src");
	ck_assert_str_eq(json_object_to_json_string_ext(json_object_object_get(e, "cost_prediction"),
							JSON_C_TO_STRING_PLAIN),
			 "{\"estimated_runtime_minutes\":5.0000,\"estimated_cost_usd\":0.300000,"
			 "\"confidence\":0.30,\"cost_lower_bound_usd\":0.075000,"
			 "\"cost_upper_bound_usd\":0.900000,\"confidence_label\":\"low\"}");
	{
		const char *risk = json_object_to_json_string_ext(
			json_object_object_get(e, "risk_score"), JSON_C_TO_STRING_PLAIN);

		ck_assert_msg(strstr(risk, "{\"risk_score\":1.0,\"business_critical\":false,"
				     "\"approval_required\":false,\"risk_factors\":"
				     "[\"2 models downstream\",") != NULL &&
			      strstr(risk, ",\"note is gone\"]") != NULL, "%s", risk);
	}
	ck_assert_str_eq(json_object_to_json_string_ext(
		json_object_object_get(json_object_object_get(by, "mart.keep"), "suggestions"),
		JSON_C_TO_STRING_PLAIN),
		"[{\"suggestion_type\":\"llm\",\"description\":\"filter first\","
		"\"rewritten_sql\":null,\"confidence\":0.50}]");
	json_object_put(by);

	/* no steps, no per-model advisory */
	json_object_object_add(adv, "steps", json_object_new_array());
	ck_assert_ptr_null(advise_by_model(adv));
	json_object_put(adv);
}
END_TEST

static Suite *suite_advise(void)
{
	Suite *s = suite_create("advise");
	TCase *tc = tcase_create("advise");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lint__each_rule_and_its_line);
	tcase_add_test(tc, test_lint__incremental_must_filter_on_its_time_column);
	tcase_add_test(tc, test_columns__names_aliases_and_stars);
	tcase_add_test(tc, test_diff__counts_and_lists_changes);
	tcase_add_test(tc, test_redact__literals_comments_emails_secrets);
	tcase_add_test(tc, test_heuristics__factors_costs_and_determinism);
	tcase_add_test(tc, test_reference__classification_and_per_model_shapes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_advise());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
