/* test_apply.c: environments, apply against the real warehouse, runs, watermarks */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_util.h"   /* includes harness.h */


/* A new tenant with its dev environment's schema prefix loaded. */
static void new_tenant(struct tenant *t)
{
	char *sql;

	tenant_new(t, "apply");
	ck_assert_int_ne(asprintf(&sql, "SELECT schema_prefix FROM environments WHERE "
				  "tenant_id = '%s' AND name = 'dev'", t->tenant_id), -1);
	t->prefix = psql("ironlayer", sql);
	t->prefix[strcspn(t->prefix, "\n")] = '\0';
	free(sql);
}

/* Generates base..target (tags or shas) at as_of in env, approves it; returns its id. */
static char *approved_plan(const struct tenant *t, const char *repo, const char *base,
			   const char *target, const char *as_of, const char *env)
{
	char body[2048], path[256], *id;
	struct resp *r;

	if (repo == NULL)
		repo = tenant_repo(t);
	snprintf(body, sizeof(body),
		 "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":\"%s\","
		 "\"as_of\":\"%s\",\"environment\":\"%s\"}", repo, base, target, as_of, env);
	r = api_json("POST", "/api/v1/plans/generate", t->token, body);
	ck_assert_msg(r->status == 201 || r->status == 200, "%ld %s", r->status, r->body);
	id = must_str(r, "plan_id");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	r = api_json("POST", path, t->token, "{}");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "approved");
	resp_free(r);
	return id;
}

static struct resp *apply(const struct tenant *t, const char *id)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", id);
	return api_json("POST", path, t->token, "{}");
}

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

/* SQL adding a customer the source does not have to the tenant's ltv table. */
static const char *ltv_extra_row_sql(const char *prefix)
{
	static char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO \"%s_analytics\".ltv VALUES (99, 1234)", prefix);
	return sql;
}

/* The status of the run of model in a response's runs, or NULL. */
static const char *run_status(struct resp *r, const char *model, const char **error)
{
	json_object *runs = json_object_object_get(r->json, "runs");
	size_t i;

	for (i = 0; i < json_object_array_length(runs); i++) {
		json_object *run = json_object_array_get_idx(runs, i);

		if (strcmp(json_object_get_string(json_object_object_get(run, "model_name")),
			   model) == 0) {
			if (error != NULL)
				*error = json_object_get_string(json_object_object_get(run,
										 "error_message"));
			return json_object_get_string(json_object_object_get(run, "status"));
		}
	}
	return NULL;
}

START_TEST(test_apply__materializations_watermarks_and_reruns)
{
	struct tenant t;
	char *p1, *p2, *p3, *p4, path[256], db[24];
	struct resp *r;

	new_tenant(&t);
	snprintf(db, sizeof(db), "%s", tenant_wh_db(&t));
	p1 = approved_plan(&t, NULL, sha("c1"), sha("c2"), "2026-11-01", "dev");
	r = apply(&t, p1);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(r->json, "runs")), 6);
	ck_assert_str_eq(run_status(r, "analytics.revenue", NULL), "SUCCESS");
	ck_assert_str_eq(resp_str(r, "runs.0.executor"), "postgres");
	resp_free(r);

	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_raw\".orders", t.prefix), 43);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_staging\".orders_clean", t.prefix), 37);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
				   "n.oid = c.relnamespace WHERE n.nspname = '%s_staging' AND "
				   "c.relname = 'orders_clean' AND c.relkind = 'v'", t.prefix), 1);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".revenue", t.prefix), 5);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".ltv", t.prefix), 5);
	/* lookback 1 day: only [2026-10-31, 2026-11-01) */
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".daily", t.prefix), 1);

	r = api("GET", "/api/v1/models/analytics.daily", t.token, NULL, NULL, NULL);
	ck_assert_str_eq(resp_str(r, "watermark_range.end"), "2026-11-01");
	ck_assert_str_eq(resp_str(r, "last_run_status"), "SUCCESS");
	resp_free(r);
	/* the list builds its items in its own query: the same newest run and watermark */
	r = api("GET", "/api/v1/models?search=analytics.daily", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_len(r), 1);
	ck_assert_str_eq(resp_str(r, "0.name"), "analytics.daily");
	ck_assert_str_eq(resp_str(r, "0.watermark_range.end"), "2026-11-01");
	ck_assert_str_eq(resp_str(r, "0.last_run_status"), "SUCCESS");
	resp_free(r);

	/* two plans made now; applying the first moves daily's watermark */
	p2 = approved_plan(&t, NULL, sha("c2"), sha("c4"), "2026-11-05", "dev");
	p3 = approved_plan(&t, NULL, sha("c1"), sha("c4"), "2026-11-05", "dev");
	snprintf(path, sizeof(path), "/api/v1/plans/%s", p2);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_str_eq(resp_str(r, "steps.1.model"), "analytics.daily");
	ck_assert_str_eq(resp_str(r, "steps.1.input_range.start"), "2026-11-01");
	resp_free(r);
	r = apply(&t, p2);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".daily", t.prefix), 5);

	r = apply(&t, p3);
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "stale_plan");
	resp_free(r);

	/* a MERGE upserts: a row the source no longer has stays */
	free(psql(db, ltv_extra_row_sql(t.prefix)));
	/* regenerated, it re-processes the last day: INSERT_OVERWRITE adds no duplicates */
	p4 = approved_plan(&t, NULL, sha("c1"), sha("c4"), "2026-11-05", "dev");
	ck_assert_str_ne(p4, p3);
	r = apply(&t, p4);
	ck_assert_status(r, 200);
	resp_free(r);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".daily", t.prefix), 5);
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".daily WHERE order_date "
				   "= '2026-11-04'", t.prefix), 1);
	ck_assert_int_eq(wh_number(db, "SELECT amount FROM \"%s_analytics\".daily WHERE order_date = "
			    "'2026-11-04'", t.prefix),
			 wh_number("ironlayer_wh", "SELECT sum(amount) FROM raw.source_orders WHERE order_date = "
			    "'2026-11-04' AND amount >= 1 AND id > 0"));
	ck_assert_int_eq(wh_number(db, "SELECT count(*) FROM \"%s_analytics\".ltv", t.prefix), 6);
	ck_assert_int_eq(wh_number(db, "SELECT ltv FROM \"%s_analytics\".ltv WHERE customer_id = 99",
			    t.prefix), 1234);

	r = apply(&t, p4); /* done is done */
	ck_assert_status(r, 409);
	resp_free(r);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
	tenant_free(&t);
}
END_TEST

START_TEST(test_apply__failure_skips_downstream_and_reapply_resumes)
{
	struct tenant t;
	const char *err = NULL;
	char *id, runs_path[256];
	struct resp *r;

	new_tenant(&t);
	id = approved_plan(&t, NULL, sha("c1"), sha("bad"), "2026-11-01", "dev");
	r = apply(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_str_eq(run_status(r, "staging.customers", &err), "FAIL");
	ck_assert_msg(err != NULL && strstr(err, "no_such_column") != NULL, "error: %s", err);
	ck_assert_str_eq(run_status(r, "analytics.revenue", &err), "CANCELLED");
	ck_assert_ptr_nonnull(strstr(err, "did not succeed"));
	ck_assert_str_eq(run_status(r, "staging.orders_clean", NULL), "SUCCESS");
	ck_assert_str_eq(run_status(r, "analytics.ltv", NULL), "SUCCESS");
	resp_free(r);

	r = apply(&t, id); /* a failed plan re-runs only what did not succeed */
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(r->json, "runs")), 2);
	ck_assert_str_eq(run_status(r, "staging.customers", NULL), "FAIL");
	ck_assert_str_eq(run_status(r, "analytics.revenue", NULL), "CANCELLED");
	resp_free(r);

	snprintf(runs_path, sizeof(runs_path), "/api/v1/runs?plan_id=%s&status=FAIL", id);
	r = api("GET", runs_path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_total(r), 2);
	resp_free(r);
	/* the earlier spelling still filters */
	snprintf(runs_path, sizeof(runs_path), "/api/v1/runs?plan_id=%s&status=FAILED", id);
	r = api("GET", runs_path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_total(r), 2);
	ck_assert_str_eq(resp_str(r, "0.status"), "FAIL");
	resp_free(r);
	snprintf(runs_path, sizeof(runs_path), "/api/v1/runs?plan_id=%s", id);
	r = api("GET", runs_path, t.token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 8);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_runs__get_and_telemetry)
{
	struct tenant t, other;
	char *id, path[256], *run_id;
	struct resp *r;

	new_tenant(&t);
	new_tenant(&other);
	id = approved_plan(&t, NULL, sha("c1"), sha("c2"), "2026-11-01", "dev");
	resp_free(apply(&t, id));
	r = api("GET", "/api/v1/runs?model_name=analytics.revenue", t.token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 1);
	run_id = must_str(r, "0.run_id");
	ck_assert_str_eq(resp_str(r, "0.plan_id"), id);
	ck_assert_str_eq(resp_str(r, "0.environment"), "dev");
	ck_assert_str_eq(resp_str(r, "0.run_type"), "FULL_REFRESH");
	ck_assert_ptr_nonnull(strstr(r->body, "\"input_range\":null"));
	resp_free(r);

	snprintf(path, sizeof(path), "/api/v1/runs/%s", run_id);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "SUCCESS");
	ck_assert_ptr_nonnull(resp_str(r, "finished_at"));
	resp_free(r);
	r = api("GET", path, other.token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);

	snprintf(path, sizeof(path), "/api/v1/runs/%s/telemetry", run_id);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_int(r, "rows_processed"), 5);
	ck_assert_int_eq(resp_int(r, "output_rows"), 5);
	ck_assert_int_eq(resp_int(r, "partition_count"), 1);
	ck_assert_str_eq(resp_str(r, "executor"), "postgres");
	{
		double secs = json_object_get_double(json_object_object_get(r->json, "runtime_seconds"));
		double cost = json_object_get_double(json_object_object_get(r->json, "cost_usd"));

		ck_assert(secs > 0 && secs < 60);
		ck_assert_double_eq_tol(cost, secs * 0.0007, 1e-6);
	}
	resp_free(r);
	r = api("GET", "/api/v1/runs/not-a-uuid", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);
	free(run_id);
	free(id);
	tenant_free(&t);
	tenant_free(&other);
}
END_TEST

struct racer {
	const struct tenant *t;
	const char *id;
	long status;
	char code[64];
};

static void *race(void *arg)
{
	struct racer *x = arg;
	struct resp *r = apply(x->t, x->id);

	x->status = r->status;
	snprintf(x->code, sizeof(x->code), "%s", resp_str(r, "code") ? resp_str(r, "code") : "");
	resp_free(r);
	return NULL;
}

START_TEST(test_apply__concurrent_applies_one_runs_and_states_are_checked)
{
	struct tenant t;
	struct racer a, b;
	pthread_t ta, tb;
	char *id, path[256], gen[1024];
	struct resp *r;

	new_tenant(&t);
	/* pending and rejected plans never run */
	snprintf(gen, sizeof(gen), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":\"%s\","
		 "\"as_of\":\"2026-11-01\"}", tenant_repo(&t), sha("c1"), sha("c4"));
	r = api_json("POST", "/api/v1/plans/generate", t.token, gen);
	id = must_str(r, "plan_id");
	resp_free(r);
	r = apply(&t, id);
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "not_approved");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/reject", id);
	resp_free(api_json("POST", path, t.token, "{\"reason\":\"no\"}"));
	r = apply(&t, id);
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_state");
	resp_free(r);
	free(id);

	id = approved_plan(&t, NULL, sha("c1"), sha("slow"), "2026-11-01", "dev");
	a = (struct racer){ &t, id, 0, "" };
	b = (struct racer){ &t, id, 0, "" };
	ck_assert_int_eq(pthread_create(&ta, NULL, race, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, race, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_msg((a.status == 200 && b.status == 409) || (a.status == 409 && b.status == 200),
		      "statuses %ld and %ld", a.status, b.status);
	ck_assert_str_eq(a.status == 409 ? a.code : b.code, "apply_in_progress");
	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s", id);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 6); /* one apply's runs, not two */
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

/* The [started_at, finished_at] of plan id's run of model, into out (2 × 32). */
static void run_interval(const struct tenant *t, const char *id, const char *model,
			 char out[2][32])
{
	char path[256];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s&model_name=%s", id, model);
	r = api("GET", path, t->token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 1);
	ck_assert_msg(strcmp(resp_str(r, "0.status"), "SUCCESS") == 0, "%s", r->body);
	snprintf(out[0], 32, "%s", resp_str(r, "0.started_at"));
	snprintf(out[1], 32, "%s", resp_str(r, "0.finished_at"));
	resp_free(r);
}

START_TEST(test_apply__two_plans_never_run_one_model_at_once)
{
	struct tenant t;
	struct racer a, b;
	pthread_t ta, tb;
	char *pa, *pb, ia[2][32], ib[2][32];

	new_tenant(&t);
	/* two applies of one tenant at once: more than the community tier runs */
	set_tier(&t, "team");
	/* different plans, both rebuilding raw.orders, which takes two seconds */
	pa = approved_plan(&t, NULL, sha("c1"), sha("slow"), "2026-11-01", "dev");
	pb = approved_plan(&t, NULL, sha("c4"), sha("slow"), "2026-11-01", "dev");
	a = (struct racer){ &t, pa, 0, "" };
	b = (struct racer){ &t, pb, 0, "" };
	ck_assert_int_eq(pthread_create(&ta, NULL, race, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, race, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(b.status, 200);
	run_interval(&t, pa, "raw.orders", ia);
	run_interval(&t, pb, "raw.orders", ib);
	/* ISO 8601 UTC timestamps compare as strings */
	ck_assert_msg(strcmp(ia[1], ib[0]) <= 0 || strcmp(ib[1], ia[0]) <= 0,
		      "raw.orders ran at once: [%s, %s] and [%s, %s]", ia[0], ia[1], ib[0], ib[1]);
	free(pa);
	free(pb);
	tenant_free(&t);
}
END_TEST

START_TEST(test_environments__crud_validation_and_sealed_connection)
{
	struct tenant t;
	struct resp *r;
	char *out, *sql, *id;

	new_tenant(&t);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"prod\",\"executor\":\"postgres\",\"schema_prefix\":\"acme_prod\","
		     "\"required_approvals\":2,\"allow_self_approval\":false,"
		     "\"connection\":\"host=203.0.113.10 dbname=wh user=x password=supersecret\"}");
	ck_assert_status(r, 201);
	ck_assert_str_eq(resp_str(r, "name"), "prod");
	ck_assert_int_eq(resp_int(r, "required_approvals"), 2);
	ck_assert_ptr_nonnull(strstr(r->body, "\"connection_configured\":true"));
	ck_assert_ptr_null(strstr(r->body, "supersecret"));
	resp_free(r);

	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"prod\",\"executor\":\"postgres\",\"schema_prefix\":\"x\"}");
	ck_assert_status(r, 409);
	resp_free(r);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"Prod!\",\"executor\":\"oracle\",\"schema_prefix\":\"9x\"}");
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "name");
	ck_assert_str_eq(resp_str(r, "detail.1.loc.1"), "executor");
	ck_assert_str_eq(resp_str(r, "detail.2.loc.1"), "schema_prefix");
	resp_free(r);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"lake\",\"executor\":\"databricks\",\"schema_prefix\":\"lake\","
		     "\"connection\":{\"host\":\"https://x\",\"warehouse_id\":\"w\"}}");
	ck_assert_status(r, 422);
	ck_assert_ptr_nonnull(strstr(r->body, "connection.token"));
	ck_assert_ptr_nonnull(strstr(r->body, "catalog"));
	resp_free(r);

	r = api("GET", "/api/v1/environments", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "0.name"), "dev");
	ck_assert_str_eq(resp_str(r, "1.name"), "prod");
	ck_assert_ptr_null(strstr(r->body, "supersecret"));
	resp_free(r);
	ck_assert_int_ne(asprintf(&sql, "SELECT position('supersecret' in encode(connection_enc, "
				  "'escape')) FROM environments WHERE tenant_id = '%s' AND name = "
				  "'prod'", t.tenant_id), -1);
	out = psql("ironlayer", sql);
	ck_assert_str_eq(out, "0\n");
	free(out);
	free(sql);

	/* a plan in prod needs two approvals, the author's own not counting */
	{
		char gen[1024], path[256];

		snprintf(gen, sizeof(gen), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\","
			 "\"target_sha\":\"%s\",\"environment\":\"prod\"}", tenant_repo(&t),
			 sha("c1"), sha("c2"));
		r = api_json("POST", "/api/v1/plans/generate", t.token, gen);
		ck_assert_status(r, 201);
		ck_assert_int_eq(resp_int(r, "required_approvals"), 2);
		id = must_str(r, "plan_id");
		resp_free(r);
		snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
		r = api_json("POST", path, t.token, "{}");
		ck_assert_status(r, 200);
		ck_assert_str_eq(resp_str(r, "status"), "pending");
		resp_free(r);
		r = apply(&t, id);
		ck_assert_status(r, 409);
		resp_free(r);
	}

	/* not while a plan in it is being applied: a session holds its apply lock */
	{
		char key[256];
		int holder;

		snprintf(key, sizeof(key), "apply:%s:%s", t.tenant_id, id);
		holder = hold_advisory_lock(key);
		ck_assert_int_ne(asprintf(&sql, "UPDATE plans SET status = 'applying' WHERE "
					  "tenant_id = '%s' AND environment = 'prod'", t.tenant_id), -1);
		free(psql("ironlayer", sql));
		free(sql);
		r = api("DELETE", "/api/v1/environments/prod", t.token, NULL, NULL, NULL);
		ck_assert_status(r, 409);
		ck_assert_str_eq(resp_str(r, "code"), "environment_busy");
		resp_free(r);
		/* once that session is gone, the apply is over: failed, and the environment can go */
		release_advisory_lock(holder, key);
	}
	r = api("DELETE", "/api/v1/environments/prod", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "{\"deleted\":true,\"name\":\"prod\"}");
	ck_assert_str_eq(resp_header(r, "IronLayer-Notice"), "warehouse schemas and data were kept");
	resp_free(r);
	r = api("DELETE", "/api/v1/environments/prod", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);
	ck_assert_int_ne(asprintf(&sql, "SELECT status FROM plans WHERE tenant_id = '%s' AND "
				  "plan_id = '%s'", t.tenant_id, id), -1);
	out = psql1(sql);
	ck_assert_str_eq(out, "failed");
	free(out);
	free(sql);
	free(id);
	out = psql("ironlayer", "SELECT 1");
	free(out);
	/* the password never reached a log either */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "grep -rq supersecret %s/log", getenv("IL_TEST_VAR"));
		ck_assert_int_ne(system(cmd), 0);
	}
	tenant_free(&t);
}
END_TEST

START_TEST(test_warehouse__tenant_cannot_read_another_tenants_schema)
{
	struct tenant a, b;
	char *id, repo[512], cmd[2048];
	const char *err = NULL;
	struct resp *r;

	new_tenant(&a);
	new_tenant(&b);
	id = approved_plan(&a, NULL, sha("c1"), sha("c2"), "2026-11-01", "dev");
	resp_free(apply(&a, id));
	free(id);

	snprintf(repo, sizeof(repo), "%s/repos/%s/spy-%s", getenv("IL_TEST_VAR"), b.tenant_id,
		 unique("r"));
	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p %s/models && cd %s && git -c init.defaultBranch=main init -q . && "
		 "git -c user.name=t -c user.email=t@x commit -q --allow-empty -m empty && "
		 "printf -- '-- name: spy.steal\\n-- kind: FULL_REFRESH\\nSELECT * FROM "
		 "\"%s_analytics\".revenue\\n' > models/steal.sql && git add -A && "
		 "git -c user.name=t -c user.email=t@x commit -q -m steal",
		 repo, repo, a.prefix);
	ck_assert_int_eq(system(cmd), 0);
	{
		char shas[2][48];
		int i;

		for (i = 0; i < 2; i++) {
			FILE *p;

			snprintf(cmd, sizeof(cmd), "git -C %s rev-parse %s", repo, i ? "HEAD" : "HEAD~1");
			p = popen(cmd, "r");
			ck_assert_ptr_nonnull(fgets(shas[i], sizeof(shas[i]), p));
			pclose(p);
			shas[i][strcspn(shas[i], "\n")] = '\0';
		}
		id = approved_plan(&b, repo, shas[0], shas[1], "2026-11-01", "dev");
	}
	r = apply(&b, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_str_eq(run_status(r, "spy.steal", &err), "FAIL");
	/* A's schemas are in A's database: B's database has no such relation */
	ck_assert_msg(err != NULL && strstr(err, "does not exist") != NULL, "error: %s", err);
	resp_free(r);
	free(id);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(test_apply__databricks_environment_runs_through_the_statement_api)
{
	struct tenant t;
	char body[1024], *id, *record, want[256], path[256];
	struct resp *r;

	new_tenant(&t);
	snprintf(body, sizeof(body),
		 "{\"name\":\"lake\",\"executor\":\"databricks\",\"catalog\":\"main\","
		 "\"schema_prefix\":\"lake\",\"connection\":{\"host\":\"%s\","
		 "\"warehouse_id\":\"%s\",\"token\":\"%s\"}}", getenv("IL_TEST_DATABRICKS_URL"),
		 getenv("IL_TEST_DATABRICKS_WAREHOUSE"), getenv("IL_TEST_DATABRICKS_TOKEN"));
	r = api_json("POST", "/api/v1/environments", t.token, body);
	ck_assert_status(r, 201);
	ck_assert_ptr_null(strstr(r->body, getenv("IL_TEST_DATABRICKS_TOKEN")));
	resp_free(r);

	id = approved_plan(&t, NULL, sha("c1"), sha("c2"), "2026-11-01", "lake");
	r = apply(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	ck_assert_str_eq(resp_str(r, "runs.0.executor"), "databricks");
	ck_assert_ptr_nonnull(resp_str(r, "runs.0.external_run_id"));
	ck_assert_ptr_null(strstr(r->body, getenv("IL_TEST_DATABRICKS_TOKEN")));
	snprintf(path, sizeof(path), "/api/v1/runs/%s/telemetry", resp_str(r, "runs.0.run_id"));
	resp_free(r);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "executor"), "databricks");
	ck_assert_ptr_nonnull(resp_str(r, "statement_id"));
	resp_free(r);

	record = databricks_record();
	snprintf(want, sizeof(want), "Bearer %s", getenv("IL_TEST_DATABRICKS_TOKEN"));
	ck_assert_ptr_nonnull(strstr(record, want));
	ck_assert_msg(strstr(record, "CREATE OR REPLACE TABLE `main`.`lake_raw`.`orders`") != NULL,
		      "%.2000s", record);
	ck_assert_ptr_nonnull(strstr(record, "CREATE OR REPLACE VIEW `main`.`lake_staging`.`orders_clean`"));
	ck_assert_ptr_nonnull(strstr(record, "MERGE INTO `main`.`lake_analytics`.`ltv`"));
	ck_assert_ptr_nonnull(strstr(record, "REPLACE WHERE `order_date` >= '2026-10-31'"));
	/* refs point at the environment's own catalog and schemas */
	ck_assert_ptr_nonnull(strstr(record, "FROM `main`.`lake_raw`.`orders`"));
	free(record);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *suite_apply(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("apply");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_apply__materializations_watermarks_and_reruns);
	tcase_add_test(tc, test_apply__failure_skips_downstream_and_reapply_resumes);
	tcase_add_test(tc, test_runs__get_and_telemetry);
	tcase_add_test(tc, test_apply__concurrent_applies_one_runs_and_states_are_checked);
	tcase_add_test(tc, test_apply__two_plans_never_run_one_model_at_once);
	tcase_add_test(tc, test_environments__crud_validation_and_sealed_connection);
	tcase_add_test(tc, test_warehouse__tenant_cannot_read_another_tenants_schema);
	tcase_add_test(tc, test_apply__databricks_environment_runs_through_the_statement_api);
	suite_add_tcase(s, tc);
	return s;
}
