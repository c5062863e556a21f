/* test_plan_sql.c: the SQL preview, lineage as DOT, and the first error of a failed run */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A new tenant with its dev environment's schema prefix loaded. */
static void prefixed_tenant(struct tenant *t, const char *name)
{
	char *sql;

	tenant_new(t, name);
	ck_assert_int_ne(asprintf(&sql, "SELECT schema_prefix FROM environments WHERE "
				  "tenant_id = '%s' AND name = 'dev'", t->tenant_id), -1);
	t->prefix = psql("ironlayer", sql);
	t->prefix[strcspn(t->prefix, "\n")] = '\0';
	free(sql);
}

/* Generates base..target of the tenant's copy of the fixture (revisions) in env; the plan id. */
static char *plan_of(const struct tenant *t, const char *base, const char *target,
		     const char *env)
{
	char body[2048], *id;
	struct resp *r;

	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"2026-11-05\",\"environment\":\"%s\"}",
		 tenant_repo(t), base, target, env);
	r = api_json("POST", "/api/v1/plans/generate", t->token, body);
	ck_assert_msg(r->status == 201 || r->status == 200, "%ld %s", r->status, r->body);
	id = must_str(r, "plan_id");
	resp_free(r);
	return id;
}

static struct resp *post_plan(const struct tenant *t, const char *id, const char *verb)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/plans/%s/%s", id, verb);
	return api_json("POST", path, t->token, "{}");
}

static json_object *step_at(struct resp *r, size_t i)
{
	return json_object_array_get_idx(json_object_object_get(r->json, "steps"), i);
}

/* The statements of the preview's step for model, joined by "\n;\n". */
static char *statements_of(struct resp *r, const char *model)
{
	json_object *steps = json_object_object_get(r->json, "steps");
	size_t i, k;

	for (i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i), *list;
		char *out;

		if (strcmp(json_object_get_string(json_object_object_get(s, "model")), model) != 0)
			continue;
		out = strdup("");
		list = json_object_object_get(s, "statements");
		for (k = 0; k < json_object_array_length(list); k++) {
			char *more;

			ck_assert_int_ne(asprintf(&more, "%s%s\n;\n", out, json_object_get_string(
				json_object_array_get_idx(list, k))), -1);
			free(out);
			out = more;
		}
		return out;
	}
	ck_abort_msg("no step for %s in %s", model, r->body);
	return NULL;
}

/* No schema, no table, no run after a preview; another tenant gets 404, no token 401. */
static void nothing_ran_and_only_the_tenant_sees_it(const struct tenant *t, const char *id)
{
	struct tenant other;
	char path[256], sql[256], *out;
	struct resp *r;

	/* the tenant's warehouse database is made by its first apply: there is none */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_database WHERE datname = '%s'",
		 tenant_wh_db(t));
	out = psql("postgres", sql);
	ck_assert_str_eq(out, "0\n");
	free(out);
	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s", id);
	r = api("GET", path, t->token, NULL, NULL, NULL);
	ck_assert_ptr_null(strstr(r->body, "run_id"));
	resp_free(r);
	tenant_new(&other, "sqlother");
	snprintf(path, sizeof(path), "/api/v1/plans/%s/sql", id);
	r = api("GET", path, other.token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);
	r = api("GET", "/api/v1/plans/nope/sql", t->token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);
	r = api("GET", path, NULL, NULL, NULL, NULL);
	ck_assert_status(r, 401);
	resp_free(r);
	tenant_free(&other);
}

START_TEST(test_plan_sql__each_materialization_on_postgres_and_nothing_runs)
{
	struct tenant t;
	char path[256], want[512], *id, *sql;
	struct resp *r;

	prefixed_tenant(&t, "sqlpre");
	id = plan_of(&t, "tags/c1", "tags/c4", "dev");
	snprintf(path, sizeof(path), "/api/v1/plans/%s/sql", id);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "plan_id"), id);
	ck_assert_str_eq(resp_str(r, "executor"), "postgres");
	ck_assert_str_eq(resp_str(r, "environment"), "dev");
	ck_assert_str_eq(resp_str(r, "steps.0.model"), "raw.orders");
	ck_assert_str_eq(resp_str(r, "steps.0.materialization"), "TABLE");
	ck_assert_str_eq(resp_str(r, "steps.0.statements.0"), "BEGIN");
	snprintf(want, sizeof(want), "CREATE TABLE \"%s_raw\".\"orders__il_new\" AS SELECT id, "
		 "customer_id, amount, order_date FROM raw.source_orders WHERE id > 0", t.prefix);
	ck_assert_str_eq(resp_str(r, "steps.0.statements.2"), want);
	ck_assert(json_object_object_get_ex(step_at(r, 0), "error", NULL));
	ck_assert_ptr_null(resp_str(r, "steps.0.error"));

	/* refs rendered into this environment's schemas, the view as a view */
	sql = statements_of(r, "staging.orders_clean");
	snprintf(want, sizeof(want), "BEGIN\n;\nCREATE OR REPLACE VIEW \"%s_staging\".\"orders_clean\""
		 " AS SELECT id, customer_id, amount, order_date FROM \"%s_raw\".\"orders\" WHERE "
		 "amount >= 1\n;\nCOMMIT\n;\n", t.prefix, t.prefix);
	ck_assert_str_eq(sql, want);
	free(sql);
	/* the interval's dates in the DELETE and in the rendered SELECT */
	sql = statements_of(r, "analytics.daily");
	snprintf(want, sizeof(want), "DELETE FROM \"%s_analytics\".\"daily\" WHERE \"order_date\" "
		 ">= DATE '2026-11-04' AND \"order_date\" < DATE '2026-11-05'", t.prefix);
	ck_assert_ptr_nonnull(strstr(sql, want));
	ck_assert_ptr_nonnull(strstr(sql, "WHERE order_date >= '2026-11-04' AND order_date < "
				     "'2026-11-05'"));
	free(sql);
	/* the upsert on unique_key */
	sql = statements_of(r, "analytics.ltv");
	snprintf(want, sizeof(want), "DELETE FROM \"%s_analytics\".\"ltv\" AS target USING "
		 "\"%s_analytics\".\"ltv__il_src\" AS source WHERE target.\"customer_id\" = "
		 "source.\"customer_id\"", t.prefix, t.prefix);
	ck_assert_ptr_nonnull(strstr(sql, want));
	free(sql);
	resp_free(r);

	nothing_ran_and_only_the_tenant_sees_it(&t, id);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_plan_sql__stale_environment_is_409_like_apply)
{
	struct tenant t;
	char path[256], *id;
	struct resp *r;

	tenant_new(&t, "sqlstale");
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"qa\",\"executor\":\"postgres\",\"schema_prefix\":\"qa\"}");
	ck_assert_status(r, 201);
	resp_free(r);
	id = plan_of(&t, "tags/c1", "tags/c2", "qa");
	r = api("DELETE", "/api/v1/environments/qa", t.token, NULL, NULL, NULL);
	ck_assert_msg(r->status == 200 || r->status == 204, "%ld %s", r->status, r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/sql", id);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "stale_plan");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

/* The runs of an apply answer: the error of model's run, or NULL. */
static const char *run_error(struct resp *r, const char *model)
{
	json_object *runs = json_object_object_get(r->json, "runs");
	size_t i;

	for (i = 0; i < json_object_array_length(runs); i++) {
		json_object *run = json_object_array_get_idx(runs, i);

		if (strcmp(json_object_get_string(json_object_object_get(run, "model_name")),
			   model) == 0)
			return json_object_get_string(json_object_object_get(run, "error_message"));
	}
	return NULL;
}

static struct resp *approve_apply(const struct tenant *t, const char *id)
{
	struct resp *r = post_plan(t, id, "approve");

	ck_assert_status(r, 200);
	resp_free(r);
	return post_plan(t, id, "apply");
}

/* A run's first error is its cause, never "current transaction is aborted". */
START_TEST(test_apply__a_failed_step_reports_its_first_error)
{
	struct tenant t;
	char sql[512], db[32], *id, *out;
	const char *err;
	struct resp *r;

	prefixed_tenant(&t, "firsterr");
	snprintf(db, sizeof(db), "%s", tenant_wh_db(&t));
	id = plan_of(&t, "tags/c1", "tags/c2", "dev");
	r = approve_apply(&t, id);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	free(id);
	/* the MERGE table now belongs to someone else: the tenant's role may not touch it */
	snprintf(sql, sizeof(sql), "ALTER TABLE \"%s_analytics\".ltv OWNER TO postgres", t.prefix);
	out = psql(db, sql);
	free(out);
	id = plan_of(&t, "tags/c2", "tags/c4", "dev");
	r = approve_apply(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	err = run_error(r, "analytics.ltv");
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "must be owner") != NULL || strstr(err, "permission denied"),
		      "%s", err);
	ck_assert_ptr_null(strstr(err, "current transaction is aborted"));
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

/* The DOT text's nodes and edges, checked line by line. */
static void check_dot(const char *dot, const char *focus, const char *const *edges, int n)
{
	char line[256];
	int i;

	ck_assert_msg(strncmp(dot, "digraph lineage {\n", 18) == 0, "%s", dot);
	ck_assert_msg(strcmp(dot + strlen(dot) - 2, "}\n") == 0, "%s", dot);
	snprintf(line, sizeof(line), "\n  \"%s\" [style=bold];\n", focus);
	ck_assert_msg(strstr(dot, line) != NULL, "%s", dot);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "\n  %s;\n", edges[i]);
		ck_assert_msg(strstr(dot, line) != NULL, "no %s in %s", edges[i], dot);
	}
}

START_TEST(test_lineage__as_graphviz_dot)
{
	static const char *const edges[] = {
		"\"raw.orders\" -> \"staging.orders_clean\"",
		"\"staging.orders_clean\" -> \"analytics.daily\"",
		"\"staging.orders_clean\" -> \"analytics.ltv\"",
		"\"staging.orders_clean\" -> \"analytics.revenue\"",
	};
	struct tenant t;
	struct resp *r;
	char *id;

	tenant_new(&t, "dot");
	id = plan_of(&t, "tags/c1", "tags/c2", "dev");   /* fills the catalog */
	r = api("GET", "/api/v1/models/staging.orders_clean/lineage?format=dot", t.token, NULL,
		NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_header(r, "Content-Type"), "text/vnd.graphviz; charset=utf-8");
	check_dot(r->body, "staging.orders_clean", edges, 4);
	/* staging.customers is neither upstream nor downstream of orders_clean */
	ck_assert_ptr_null(strstr(r->body, "staging.customers"));
	resp_free(r);
	r = api("GET", "/api/v1/models/staging.orders_clean/lineage?format=svg", t.token, NULL,
		NULL, NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "format");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *suite_plan_sql(void)
{
	Suite *s = suite_create("plan_sql");
	TCase *tc = tcase_create("plan_sql");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plan_sql__each_materialization_on_postgres_and_nothing_runs);
	tcase_add_test(tc, test_plan_sql__stale_environment_is_409_like_apply);
	tcase_add_test(tc, test_apply__a_failed_step_reports_its_first_error);
	tcase_add_test(tc, test_lineage__as_graphviz_dot);
	suite_add_tcase(s, tc);
	return s;
}
