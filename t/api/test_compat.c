/* test_compat.c: what the reference's clients (its web UI, users' scripts) read, row by row */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "billing_util.h"

/* fixture_sha, kept for the length of a test in a small ring (no frees needed). */
static const char *sha(const char *tag)
{
	static char out[8][48];
	static int slot;
	char *full = fixture_sha(tag), *o = out[slot++ % 8];

	snprintf(o, 48, "%s", full);
	free(full);
	return o;
}

/* Generates base..target (tags) at as_of in dev; returns the plan id (malloc'd). */
static char *plan(const struct tenant *t, const char *base, const char *target,
		  const char *as_of)
{
	char body[2048];
	struct resp *r;
	char *id;

	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"%s\"}", tenant_repo(t), sha(base), sha(target), as_of);
	r = api_json("POST", "/api/v1/plans/generate", t->token, body);
	ck_assert_msg(r->status == 201 || r->status == 200, "%ld %s", r->status, r->body);
	id = must_str(r, "plan_id");
	resp_free(r);
	return id;
}

__attribute__((format(printf, 3, 4)))
static struct resp *call(const char *method, const struct tenant *t, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return api(method, path, t->token, NULL, NULL, NULL);
}

/* Approves and applies plan id; returns the apply response. */
static struct resp *approve_apply(const struct tenant *t, const char *id)
{
	char path[256];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	r = api_json("POST", path, t->token, "{}");
	ck_assert_status(r, 200);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", id);
	r = api_json("POST", path, t->token, "{}");
	ck_assert_status(r, 200);
	return r;
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
		      json_object_to_json_string(o));
	return v;
}

static const char *text(json_object *o, const char *key)
{
	json_object *v = field(o, key);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
	return json_object_get_string(v);
}

static void assert_type(json_object *o, const char *key, json_type type)
{
	ck_assert_msg(json_object_is_type(field(o, key), type), "%s in %s is not of type %s", key,
		      json_object_to_json_string(o), json_type_to_name(type));
}

/* ---- lists ------------------------------------------------------------- */

START_TEST(test_compat__lists_are_bare_arrays_with_total_and_link)
{
	static const char *const lists[] = { "plans", "runs", "models", "environments" };
	struct tenant t;
	struct resp *r;
	char *id;
	size_t i;

	tenant_new(&t, "lists");
	free(plan(&t, "c1", "c2", "2026-11-01"));
	free(plan(&t, "c2", "c4", "2026-11-01"));
	id = plan(&t, "c1", "c4", "2026-11-01");
	resp_free(approve_apply(&t, id));
	free(id);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		r = call("GET", &t, "/api/v1/%s", lists[i]);
		ck_assert_status(r, 200);
		ck_assert_msg(r->body[0] == '[', "%s: %s", lists[i], r->body);
		ck_assert_int_eq((long long)resp_len(r), resp_total(r));
		ck_assert_ptr_null(resp_header(r, "Link"));   /* one page holds it all */
		resp_free(r);
	}

	r = call("GET", &t, "/api/v1/plans?limit=1&offset=1");
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_total(r), 3);
	ck_assert_int_eq((long long)resp_len(r), 1);
	ck_assert_str_eq(resp_header(r, "Link"),
			 "</api/v1/plans?limit=1&offset=2>; rel=\"next\", "
			 "</api/v1/plans?limit=1&offset=2>; rel=\"last\", "
			 "</api/v1/plans?limit=1&offset=0>; rel=\"prev\", "
			 "</api/v1/plans?limit=1&offset=0>; rel=\"first\"");
	resp_free(r);

	/* other parameters ride along, percent-encoded */
	r = call("GET", &t, "/api/v1/runs?status=SUCCESS&limit=2&offset=4");
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_total(r), 6);
	ck_assert_str_eq(resp_header(r, "Link"),
			 "</api/v1/runs?status=SUCCESS&limit=2&offset=2>; rel=\"prev\", "
			 "</api/v1/runs?status=SUCCESS&limit=2&offset=0>; rel=\"first\"");
	resp_free(r);
	r = call("GET", &t, "/api/v1/models?search=analytics&limit=2");
	ck_assert_int_eq(resp_total(r), 3);
	ck_assert_str_eq(resp_header(r, "Link"),
			 "</api/v1/models?search=analytics&limit=2&offset=2>; rel=\"next\", "
			 "</api/v1/models?search=analytics&limit=2&offset=2>; rel=\"last\"");
	resp_free(r);

	/* the models list pages like the reference's: up to 500 */
	r = call("GET", &t, "/api/v1/models?limit=500");
	ck_assert_status(r, 200);
	resp_free(r);
	r = call("GET", &t, "/api/v1/models?limit=501");
	ck_assert_status(r, 422);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/* ---- plans ------------------------------------------------------------- */

START_TEST(test_compat__plan_list_models_changed_and_plan_fields)
{
	struct tenant t;
	struct resp *r, *p;
	char *id = NULL, sql[2048];
	json_object *item, *summary;

	tenant_new(&t, "plist");
	id = plan(&t, "c1", "c4", "2026-11-01");
	p = call("GET", &t, "/api/v1/plans/%s", id);
	ck_assert_status(p, 200);
	summary = field(p->json, "summary");
	ck_assert(json_object_get_boolean(field(p->json, "auto_approved")) == 0);
	assert_type(p->json, "auto_approved", json_type_boolean);
	ck_assert_int_eq(json_object_get_int(field(summary, "contract_violations_count")), 0);
	ck_assert_int_eq(json_object_get_int(field(summary, "breaking_contract_violations")), 0);
	ck_assert_ptr_null(json_object_object_get(p->json, "advisory"));   /* not augmented */

	r = call("GET", &t, "/api/v1/plans");
	ck_assert_status(r, 200);
	item = json_object_array_get_idx(r->json, 0);
	ck_assert_str_eq(text(item, "plan_id"), id);
	assert_type(item, "models_changed", json_type_array);
	ck_assert_str_eq(json_object_to_json_string(field(item, "models_changed")),
			 json_object_to_json_string(field(summary, "models_changed")));
	ck_assert_int_eq(json_object_get_int(field(item, "models_changed_count")),
			 (int)json_object_array_length(field(summary, "models_changed")));
	ck_assert_int_gt(json_object_get_int(field(item, "models_changed_count")), 0);
	ck_assert_str_eq(text(item, "base_sha"), sha("c1"));
	ck_assert_str_eq(text(item, "target_sha"), sha("c4"));
	assert_type(item, "total_steps", json_type_int);
	assert_type(item, "estimated_cost_usd", json_type_double);
	assert_type(item, "created_at", json_type_string);
	resp_free(r);
	resp_free(p);

	/* a plan stored before the plan document counted contract violations */
	snprintf(sql, sizeof(sql), "UPDATE plans SET plan_text = jsonb_set(jsonb_set("
		 "plan_text::jsonb #- '{summary,contract_violations_count}'"
		 " #- '{summary,breaking_contract_violations}', '{steps,0,contract_violations}',"
		 " '[{\"severity\":\"BREAKING\"},{\"severity\":\"WARNING\"}]'),"
		 " '{steps,1,contract_violations}', '[{\"severity\":\"BREAKING\"}]')::text"
		 " WHERE tenant_id = '%s' AND plan_id = '%s'", t.tenant_id, id);
	free(psql("ironlayer", sql));
	p = call("GET", &t, "/api/v1/plans/%s", id);
	ck_assert_status(p, 200);
	summary = field(p->json, "summary");
	ck_assert_int_eq(json_object_get_int(field(summary, "contract_violations_count")), 3);
	ck_assert_int_eq(json_object_get_int(field(summary, "breaking_contract_violations")), 2);
	resp_free(p);
	free(id);
	tenant_free(&t);
}
END_TEST

/* ---- runs -------------------------------------------------------------- */

static long long runs_with(const struct tenant *t, const char *id, const char *status)
{
	struct resp *r = call("GET", t, "/api/v1/runs?plan_id=%s&status=%s", id, status);
	long long n;

	ck_assert_status(r, 200);
	n = resp_total(r);
	resp_free(r);
	return n;
}

START_TEST(test_compat__run_statuses_are_the_references)
{
	struct tenant t;
	struct resp *r;
	char *id, sql[512], *out;
	size_t i;
	int fail = 0, cancelled = 0, success = 0;

	tenant_new(&t, "rstat");
	id = plan(&t, "c1", "bad", "2026-11-01");
	r = approve_apply(&t, id);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	for (i = 0; i < json_object_array_length(field(r->json, "runs")); i++) {
		json_object *run = json_object_array_get_idx(field(r->json, "runs"), i);
		const char *st = text(run, "status");

		fail += strcmp(st, "FAIL") == 0;
		cancelled += strcmp(st, "CANCELLED") == 0;
		success += strcmp(st, "SUCCESS") == 0;
		ck_assert_msg(strcmp(st, "FAIL") == 0 || strcmp(st, "CANCELLED") == 0 ||
			      strcmp(st, "SUCCESS") == 0, "status %s", st);
		if (strcmp(st, "CANCELLED") == 0)
			ck_assert_ptr_nonnull(strstr(text(run, "error_message"), "did not succeed"));
	}
	resp_free(r);
	ck_assert_int_eq(fail, 1);
	ck_assert_int_eq(cancelled, 1);
	ck_assert_int_eq(runs_with(&t, id, "FAIL"), 1);
	ck_assert_int_eq(runs_with(&t, id, "CANCELLED"), 1);
	ck_assert_int_eq(runs_with(&t, id, "SUCCESS"), success);
	ck_assert_int_eq(runs_with(&t, id, "PENDING"), 0);
	ck_assert_int_eq(runs_with(&t, id, "RUNNING"), 0);
	/* the earlier spellings still filter */
	ck_assert_int_eq(runs_with(&t, id, "FAILED"), 1);
	ck_assert_int_eq(runs_with(&t, id, "SKIPPED"), 1);
	r = call("GET", &t, "/api/v1/runs?status=FAILURE");
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.msg"),
			 "must be one of PENDING, RUNNING, SUCCESS, FAIL, CANCELLED");
	resp_free(r);

	/* the model's last run status is the reference's word too */
	r = call("GET", &t, "/api/v1/models/staging.customers");
	ck_assert_str_eq(resp_str(r, "last_run_status"), "FAIL");
	resp_free(r);
	/* and the old words cannot be stored any more */
	snprintf(sql, sizeof(sql), "UPDATE runs SET status = 'FAILED' WHERE tenant_id = '%s'",
		 t.tenant_id);
	out = psql("ironlayer", sql);
	ck_assert_msg(strstr(out, "runs_status_check") != NULL, "%s", out);
	free(out);
	free(id);
	tenant_free(&t);
}
END_TEST

/* Runs `ironlayer migrate` against database db with the migrations in dir. */
static void migrate_into(const char *db, const char *dir)
{
	char *url = conf_value("migrate_database_url"), *at, conn[1024], *out = NULL;
	int rc;

	at = strstr(url, "dbname=ironlayer");
	ck_assert_ptr_nonnull(at);
	*at = '\0';
	snprintf(conn, sizeof(conn), "%sdbname=%s%s", url, db, at + strlen("dbname=ironlayer"));
	setenv("IRONLAYER_MIGRATE_DATABASE_URL", conn, 1);
	setenv("IRONLAYER_SQL_DIR", dir, 1);
	rc = run_cli("migrate", NULL, &out);
	ck_assert_msg(rc == 0, "migrate: %s", out);
	unsetenv("IRONLAYER_MIGRATE_DATABASE_URL");
	unsetenv("IRONLAYER_SQL_DIR");
	free(out);
	free(url);
}

START_TEST(test_compat__migration_011_renames_stored_statuses)
{
	char db[64], dir[512], cmd[2048], sql[2048], *src = conf_value("sql_dir"), *out;
	static const char tenant[] = "11111111-2222-3333-4444-555555555555";

	snprintf(db, sizeof(db), "il_m011_%s", unique("x"));
	snprintf(dir, sizeof(dir), "%s/%s-sql", getenv("IL_TEST_VAR"), db);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER ironlayer_owner", db);
	free(psql("postgres", sql));
	/* every migration before 011, then rows in the old vocabulary */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && for f in %s/0*.sql; do b=$(basename $f);"
		 " [ \"${b%%%%_*}\" \\< 011 ] && cp $f %s/; done; true", dir, src, dir);
	ck_assert_int_eq(system(cmd), 0);
	migrate_into(db, dir);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO tenants (id, name) VALUES ('%s', 'm');"
		 "INSERT INTO runs (tenant_id, plan_id, step_id, model_name, environment, status,"
		 " run_type, executor) VALUES ('%s', 'p', 's1', 'a.b', 'dev', 'FAILED', 'FULL_REFRESH',"
		 " 'postgres'), ('%s', 'p', 's2', 'a.c', 'dev', 'SKIPPED', 'FULL_REFRESH', 'postgres'),"
		 " ('%s', 'p', 's3', 'a.d', 'dev', 'SUCCESS', 'FULL_REFRESH', 'postgres');"
		 "INSERT INTO models (tenant_id, name, kind, materialization, file_path, sql,"
		 " content_hash, last_modified_commit, updated_at) VALUES ('%s', 'a.b', 'FULL_REFRESH',"
		 " 'TABLE', 'f', 's', 'h2', 'c', '2026-03-01');"
		 "INSERT INTO model_versions (tenant_id, model_name, content_hash, commit_sha,"
		 " created_at) VALUES ('%s', 'a.b', 'h1', 'c0', '2026-01-01'),"
		 " ('%s', 'a.b', 'h2', 'c', '2026-03-01');",
		 tenant, tenant, tenant, tenant, tenant, tenant, tenant);
	free(psql(db, sql));
	snprintf(cmd, sizeof(cmd), "cp %s/011_*.sql %s/", src, dir);
	ck_assert_int_eq(system(cmd), 0);
	migrate_into(db, dir);
	out = psql(db, "SELECT string_agg(step_id || '=' || status, ',' ORDER BY step_id) FROM runs");
	ck_assert_str_eq(out, "s1=FAIL,s2=CANCELLED,s3=SUCCESS\n");
	free(out);
	/* a model's creation is its first version's */
	out = psql(db, "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM models");
	ck_assert_str_eq(out, "2026-01-01\n");
	free(out);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s", db);
	free(psql("postgres", sql));
	free(src);
}
END_TEST

START_TEST(test_compat__telemetry_has_the_references_fields)
{
	struct tenant t;
	struct resp *r;
	char *id, *run_id, *skipped_id;
	json_object *u;

	tenant_new(&t, "telem");
	id = plan(&t, "c1", "c2", "2026-11-01");
	resp_free(approve_apply(&t, id));
	free(id);
	/* four days later the incremental model catches up over four daily partitions */
	id = plan(&t, "c2", "c4", "2026-11-05");
	resp_free(approve_apply(&t, id));
	r = call("GET", &t, "/api/v1/runs?plan_id=%s&model_name=analytics.daily", id);
	ck_assert_int_eq(resp_total(r), 1);
	run_id = must_str(r, "0.run_id");
	ck_assert_str_eq(resp_str(r, "0.input_range.start"), "2026-11-01");
	ck_assert_str_eq(resp_str(r, "0.input_range.end"), "2026-11-05");
	/* the run record's fields the run detail screen shows */
	ck_assert_str_eq(resp_str(r, "0.executor_version"), "postgres");
	ck_assert_int_eq(resp_int(r, "0.retry_count"), 0);
	assert_type(json_object_array_get_idx(r->json, 0), "logs_uri", json_type_null);
	assert_type(json_object_array_get_idx(r->json, 0), "cluster_used", json_type_null);
	resp_free(r);

	r = call("GET", &t, "/api/v1/runs/%s/telemetry", run_id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(text(r->json, "run_id"), run_id);
	ck_assert_str_eq(text(r->json, "model_name"), "analytics.daily");
	assert_type(r->json, "runtime_seconds", json_type_double);
	ck_assert_int_eq(resp_int(r, "partition_count"), 4);
	ck_assert_int_eq(resp_int(r, "output_rows"), resp_int(r, "rows_processed"));
	ck_assert_int_eq(resp_int(r, "input_rows"), 0);
	ck_assert_int_eq(resp_int(r, "shuffle_bytes"), 0);
	ck_assert_ptr_null(json_object_object_get(r->json, "cluster_id"));
	assert_type(r->json, "cluster_id", json_type_null);
	u = field(r->json, "unmeasured");
	ck_assert_str_eq(json_object_to_json_string_ext(u, JSON_C_TO_STRING_PLAIN),
			 "[\"input_rows\",\"shuffle_bytes\"]");
	resp_free(r);

	/* a run that never ran has no telemetry */
	free(id);
	id = plan(&t, "c4", "bad", "2026-11-05");
	resp_free(approve_apply(&t, id));
	r = call("GET", &t, "/api/v1/runs?plan_id=%s&status=CANCELLED", id);
	skipped_id = must_str(r, "0.run_id");
	resp_free(r);
	r = call("GET", &t, "/api/v1/runs/%s/telemetry", skipped_id);
	ck_assert_status(r, 404);
	ck_assert_str_eq(resp_str(r, "code"), "not_found");
	resp_free(r);
	free(skipped_id);
	free(run_id);
	free(id);
	tenant_free(&t);
}
END_TEST

/* ---- models and lineage ------------------------------------------------ */

static void assert_model_fields(json_object *m)
{
	ck_assert_str_eq(text(m, "model_name"), text(m, "name"));
	ck_assert_str_eq(text(m, "current_version"), text(m, "content_hash"));
	ck_assert_int_eq((int)strlen(text(m, "current_version")), 64);
	ck_assert_str_eq(text(m, "last_modified_at"), text(m, "updated_at"));
	assert_type(m, "created_at", json_type_string);
	assert_type(m, "tags", json_type_array);
}

static int has_node(json_object *nodes, const char *id)
{
	size_t i;

	for (i = 0; i < json_object_array_length(nodes); i++)
		if (strcmp(text(json_object_array_get_idx(nodes, i), "id"), id) == 0)
			return 1;
	return 0;
}

START_TEST(test_compat__model_and_lineage_fields)
{
	struct tenant t;
	struct resp *r;
	json_object *nodes, *edges;
	size_t i, targets = 0;

	tenant_new(&t, "cmodels");
	free(plan(&t, "c1", "c2", "2026-11-01"));
	r = call("GET", &t, "/api/v1/models");
	ck_assert_int_eq((long long)resp_len(r), 6);
	for (i = 0; i < resp_len(r); i++)
		assert_model_fields(json_object_array_get_idx(r->json, i));
	resp_free(r);
	r = call("GET", &t, "/api/v1/models/raw.orders");
	ck_assert_status(r, 200);
	assert_model_fields(r->json);
	resp_free(r);

	r = call("GET", &t, "/api/v1/models/staging.orders_clean/lineage");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "model_name"), "staging.orders_clean");
	nodes = field(r->json, "nodes");
	edges = field(r->json, "edges");
	ck_assert_int_eq((int)json_object_array_length(nodes), 5);
	for (i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i);
		int target = json_object_get_boolean(field(n, "is_target"));

		assert_type(n, "is_target", json_type_boolean);
		ck_assert_str_eq(text(n, "id"), text(n, "name"));
		targets += target;
		if (target)
			ck_assert_str_eq(text(n, "id"), "staging.orders_clean");
	}
	ck_assert_int_eq((int)targets, 1);
	/* every edge joins two nodes by their ids */
	ck_assert_int_gt((int)json_object_array_length(edges), 0);
	for (i = 0; i < json_object_array_length(edges); i++) {
		json_object *e = json_object_array_get_idx(edges, i);

		ck_assert(has_node(nodes, text(e, "source")) && has_node(nodes, text(e, "target")));
	}
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/* ---- augment ----------------------------------------------------------- */

static void assert_advisory_entry(json_object *e)
{
	json_object *cost = field(e, "cost_prediction"), *risk = field(e, "risk_score"),
		    *factors = field(risk, "risk_factors");
	double score = json_object_get_double(field(risk, "risk_score"));
	size_t i;

	assert_type(cost, "estimated_runtime_minutes", json_type_double);
	assert_type(cost, "estimated_cost_usd", json_type_double);
	assert_type(cost, "confidence", json_type_double);
	assert_type(cost, "cost_lower_bound_usd", json_type_double);
	assert_type(cost, "cost_upper_bound_usd", json_type_double);
	assert_type(cost, "confidence_label", json_type_string);
	ck_assert(score >= 0 && score <= 10);
	assert_type(risk, "business_critical", json_type_boolean);
	assert_type(risk, "approval_required", json_type_boolean);
	for (i = 0; i < json_object_array_length(factors); i++)
		ck_assert(json_object_is_type(json_object_array_get_idx(factors, i),
					      json_type_string));
	assert_type(e, "suggestions", json_type_array);
}

START_TEST(test_compat__augment_is_keyed_by_model)
{
	struct tenant t;
	struct resp *r;
	char *id, path[256];
	json_object *adv, *steps, *sem;
	size_t i;

	tenant_new(&t, "caug");
	id = plan(&t, "c1", "c2", "2026-11-01");
	snprintf(path, sizeof(path), "/api/v1/plans/%s/augment", id);
	r = api_json("POST", path, t.token, "{}");
	ck_assert_status(r, 200);
	adv = field(r->json, "advisory");
	steps = field(r->json, "steps");
	ck_assert_int_eq((int)json_object_object_length(adv), (int)json_object_array_length(steps));
	for (i = 0; i < json_object_array_length(steps); i++) {
		const char *model = text(json_object_array_get_idx(steps, i), "model");

		assert_advisory_entry(field(adv, model));
	}
	/* raw.orders changed its logic, not its columns; the rest only follow it */
	sem = field(field(adv, "raw.orders"), "semantic_classification");
	ck_assert_str_eq(text(sem, "change_type"), "metric_semantic");
	assert_type(sem, "confidence", json_type_double);
	ck_assert(json_object_get_boolean(field(sem, "requires_full_rebuild")));
	ck_assert_str_eq(text(sem, "impact_scope"), "5 downstream models");
	ck_assert_ptr_null(json_object_object_get(field(adv, "staging.customers"),
						  "semantic_classification"));
	/* our own detail stays beside it */
	ck_assert_int_eq(resp_int(r, "advisory_detail.summary.total_steps"), 6);
	resp_free(r);

	r = call("GET", &t, "/api/v1/plans/%s", id);
	ck_assert_int_eq((int)json_object_object_length(field(r->json, "advisory")), 6);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

/* ---- environments ------------------------------------------------------ */

START_TEST(test_compat__environment_create_list_delete)
{
	struct tenant t;
	struct resp *r;
	json_object *env;
	char sql[256];
	size_t i;
	int errors_on_catalog = 0;

	tenant_new(&t, "cenv");
	snprintf(sql, sizeof(sql), "INSERT INTO billing_accounts (tenant_id, tier, status)"
		 " VALUES ('%s', 'team', 'active')", t.tenant_id);   /* room for 3 environments */
	free(psql("ironlayer", sql));
	/* what the web UI sends: no executor; created_by and is_ephemeral are not ours to take */
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"staging\",\"catalog\":\"analytics\",\"schema_prefix\":\"stg_v2\","
		     "\"created_by\":\"someone-else\",\"is_ephemeral\":true}");
	ck_assert_status(r, 201);
	ck_assert_str_eq(resp_str(r, "executor"), "postgres");
	ck_assert_str_eq(resp_str(r, "catalog"), "analytics");
	ck_assert_str_eq(resp_str(r, "created_by"), t.email);
	ck_assert_int_eq((int)strlen(resp_str(r, "id")), 36);
	ck_assert(!json_object_get_boolean(field(r->json, "is_production")));
	ck_assert(!json_object_get_boolean(field(r->json, "is_ephemeral")));
	ck_assert(!json_object_get_boolean(field(r->json, "is_default")));
	resp_free(r);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"prod\",\"catalog\":\"main\",\"schema_prefix\":\"prod\","
		     "\"is_production\":true}");
	ck_assert_status(r, 201);
	ck_assert(json_object_get_boolean(field(r->json, "is_production")));
	resp_free(r);
	/* a Databricks connection makes a Databricks environment, which needs a catalog */
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"lake\",\"schema_prefix\":\"lake\",\"connection\":{\"host\":"
		     "\"https://dbc-1.cloud.databricks.com\",\"warehouse_id\":\"w\",\"token\":\"t\"}}");
	ck_assert_status(r, 422);
	for (i = 0; i < json_object_array_length(field(r->json, "detail")); i++)
		errors_on_catalog += strcmp(json_object_get_string(json_object_array_get_idx(
			field(json_object_array_get_idx(field(r->json, "detail"), i), "loc"), 1)),
			"catalog") == 0;
	ck_assert_int_eq(errors_on_catalog, 1);
	resp_free(r);

	r = call("GET", &t, "/api/v1/environments");
	ck_assert_int_eq(resp_total(r), 3);
	env = json_object_array_get_idx(r->json, 0);   /* by name: dev, prod, staging */
	ck_assert_str_eq(text(env, "name"), "dev");
	ck_assert(json_object_get_boolean(field(env, "is_default")));
	ck_assert_str_eq(text(env, "created_by"), t.email);   /* made with the signup */
	ck_assert_str_eq(text(env, "updated_at"), text(env, "created_at"));
	assert_type(env, "deleted_at", json_type_null);
	assert_type(env, "expires_at", json_type_null);
	ck_assert_ptr_null(strstr(r->body, "connection_enc"));
	resp_free(r);

	r = call("DELETE", &t, "/api/v1/environments/staging");
	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "{\"deleted\":true,\"name\":\"staging\"}");
	resp_free(r);
	r = call("DELETE", &t, "/api/v1/environments/staging");
	ck_assert_status(r, 404);
	resp_free(r);

	r = call("GET", &t, "/api/v1/environments/promotions?limit=10");
	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "[]");
	ck_assert_int_eq(resp_total(r), 0);
	resp_free(r);
	r = call("GET", &t, "/api/v1/environments/promotions?limit=0");
	ck_assert_status(r, 422);
	resp_free(r);
	r = api("GET", "/api/v1/environments/promotions", NULL, NULL, NULL, NULL);
	ck_assert_status(r, 401);
	resp_free(r);
	/* nothing here is ephemeral, so nothing expires */
	r = api("POST", "/api/v1/environments/cleanup", t.token, NULL, "", NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "{\"deleted_count\":0}");
	resp_free(r);
	r = call("GET", &t, "/api/v1/environments");
	ck_assert_int_eq(resp_total(r), 2);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/* ---- settings ---------------------------------------------------------- */

START_TEST(test_compat__llm_key_put_alone_and_delete)
{
	struct tenant t;
	struct resp *r;
	char body[256], key[128], sql[256], *out;

	tenant_new(&t, "ckey");
	snprintf(key, sizeof(key), "sk-ant-api03-%s-ABCD", unique("k"));
	snprintf(body, sizeof(body), "{\"api_key\":\"%s\"}", key);
	r = api_json("PUT", "/api/v1/settings/llm-key", t.token, body);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "stored");
	ck_assert_str_eq(resp_str(r, "key_prefix"), "sk-ant-");
	ck_assert_str_eq(resp_str(r, "provider"), "anthropic");
	ck_assert(json_object_get_boolean(field(r->json, "has_key")));
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);

	r = call("GET", &t, "/api/v1/settings");
	ck_assert(json_object_get_boolean(field(field(r->json, "llm_key"), "has_key")));
	ck_assert_str_eq(resp_str(r, "llm_key.key_prefix"), "sk-ant-");
	ck_assert_ptr_nonnull(resp_str(r, "llm_key.stored_at"));
	ck_assert_str_eq(resp_str(r, "llm_key_prefix"), "sk-ant-...");
	ck_assert(json_object_get_boolean(field(r->json, "llm_has_key")));
	ck_assert(json_object_get_boolean(field(r->json, "llm_enabled")));
	resp_free(r);

	r = api_json("PUT", "/api/v1/settings/llm-key", t.token,
		     "{\"api_key\":\"sk-proj-0123456789abcdefghij\"}");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "provider"), "openai");
	ck_assert_str_eq(resp_str(r, "key_prefix"), "sk-proj-");
	resp_free(r);
	snprintf(sql, sizeof(sql), "SELECT llm_provider || ' ' || llm_key_prefix FROM"
		 " tenant_settings WHERE tenant_id = '%s'", t.tenant_id);
	out = psql1(sql);
	ck_assert_str_eq(out, "openai sk-proj-");
	free(out);
	/* a key that names no provider needs one */
	r = api_json("PUT", "/api/v1/settings/llm-key", t.token,
		     "{\"api_key\":\"0123456789abcdefghij\"}");
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "provider");
	ck_assert_ptr_null(strstr(r->body, "0123456789"));
	resp_free(r);
	/* a short key shows no prefix at all: 8 characters stay unseen */
	r = api_json("PUT", "/api/v1/settings/llm-key", t.token,
		     "{\"api_key\":\"sk-12345678901\"}");
	ck_assert_status(r, 200);
	ck_assert_ptr_null(json_object_object_get(r->json, "key_prefix"));
	assert_type(r->json, "key_prefix", json_type_null);
	resp_free(r);

	r = call("DELETE", &t, "/api/v1/settings/llm-key");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "deleted");
	ck_assert(!json_object_get_boolean(field(r->json, "has_key")));
	resp_free(r);
	r = call("GET", &t, "/api/v1/settings");
	ck_assert(!json_object_get_boolean(field(field(r->json, "llm_key"), "has_key")));
	assert_type(field(r->json, "llm_key"), "key_prefix", json_type_null);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/* ---- billing ----------------------------------------------------------- */

START_TEST(test_compat__billing_fields_and_checkout_by_price)
{
	struct account acc = new_account();
	struct resp *r;
	json_object *plans, *rec;
	size_t i;
	int n0;

	r = api("GET", "/api/v1/billing/plans", NULL, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	plans = field(r->json, "plans");
	for (i = 0; i < json_object_array_length(plans); i++) {
		json_object *p = json_object_array_get_idx(plans, i);

		assert_type(p, "label", json_type_string);
		assert_type(p, "features", json_type_array);
		ck_assert_int_gt((int)json_object_array_length(field(p, "features")), 0);
	}
	ck_assert_str_eq(resp_str(r, "plans.0.price_label"), "Free");
	ck_assert_str_eq(resp_str(r, "plans.1.label"), "Team");
	ck_assert_str_eq(resp_str(r, "plans.1.price_id"), "price_team_test");
	resp_free(r);

	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_str_eq(resp_str(r, "plan_tier"), "community");
	resp_free(r);

	n0 = stripe_count();
	r = api_json("POST", "/api/v1/billing/checkout", acc.token,
		     "{\"price_id\":\"price_team_test\",\"success_url\":\"" SUCCESS_URL "\","
		     "\"cancel_url\":\"" CANCEL_URL "\"}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "checkout_url"),
				     "https://checkout.stripe.com/c/pay/cs_test_"));
	resp_free(r);
	rec = stripe_request(stripe_count() - 1);
	ck_assert_int_gt(stripe_count(), n0);
	ck_assert_str_eq(json_str2(rec, "path", NULL), "/v1/checkout/sessions");
	ck_assert_str_eq(json_str2(rec, "form", "line_items[0][price]"), "price_team_test");
	ck_assert_str_eq(json_str2(rec, "form", "metadata[ironlayer_tier]"), "team");
	json_object_put(rec);
}
END_TEST

Suite *suite_compat(void)
{
	Suite *s = suite_create("compat");
	TCase *tc = tcase_create("compat");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_compat__lists_are_bare_arrays_with_total_and_link);
	tcase_add_test(tc, test_compat__plan_list_models_changed_and_plan_fields);
	tcase_add_test(tc, test_compat__run_statuses_are_the_references);
	tcase_add_test(tc, test_compat__migration_011_renames_stored_statuses);
	tcase_add_test(tc, test_compat__telemetry_has_the_references_fields);
	tcase_add_test(tc, test_compat__model_and_lineage_fields);
	tcase_add_test(tc, test_compat__augment_is_keyed_by_model);
	tcase_add_test(tc, test_compat__environment_create_list_delete);
	tcase_add_test(tc, test_compat__llm_key_put_alone_and_delete);
	tcase_add_test(tc, test_compat__billing_fields_and_checkout_by_price);
	suite_add_tcase(s, tc);
	return s;
}
