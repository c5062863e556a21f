/* test_augment.c: plan augment: deterministic heuristics, LLM advice, provider failures, roles */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"



/* Generates the c1 -> c2 plan; returns its id (malloc'd). */
static char *plan_c1_c2(const struct tenant *t)
{
	char body[1024], *c1 = fixture_sha("c1"), *c2 = fixture_sha("c2"), *id;
	struct resp *r;

	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"2026-11-01\"}", tenant_repo(t), c1, c2);
	r = api_json("POST", "/api/v1/plans/generate", t->token, body);
	ck_assert_status(r, 201);
	id = must_str(r, "plan_id");
	resp_free(r);
	free(c1);
	free(c2);
	return id;
}

static struct resp *augment(const struct tenant *t, const char *id)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/plans/%s/augment", id);
	return api_json("POST", path, t->token, "{}");
}

/* The stored plan bytes' digest and the advisory as text (malloc'd). */
static char *stored(const char *id, const char *what)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT %s FROM plans WHERE plan_id = '%s'", what, id);
	return psql1(sql);
}

static void set_tier_team(const struct tenant *t)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO billing_accounts (tenant_id, tier, status)"
		 " VALUES ('%s', 'team', 'active')", t->tenant_id);
	free(psql("ironlayer", sql));
}

START_TEST(test_augment__heuristics_without_key_are_deterministic)
{
	struct tenant t, other;
	char *id, *digest, *adv1, *adv2, *after, sql[2048];
	struct resp *r;

	tenant_new(&t, "aug");
	id = plan_c1_c2(&t);
	digest = stored(id, "md5(plan_text)");
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "plan_id"), id);
	ck_assert_str_eq(resp_str(r, "steps.0.model"), "raw.orders");
	ck_assert_int_eq(resp_int(r, "advisory_detail.summary.total_steps"), 6);
	ck_assert_str_eq(resp_str(r, "advisory_detail.steps.0.model"), "raw.orders");
	ck_assert_str_eq(resp_str(r, "advisory_detail.steps.0.step_id"), resp_str(r, "steps.0.step_id"));
	ck_assert_str_eq(resp_str(r, "advisory_detail.steps.0.cost.basis"), "default");
	ck_assert_str_eq(resp_str(r, "advisory_detail.steps.0.risk.factors.0.factor"),
			 "downstream_models");
	ck_assert_str_eq(resp_str(r, "advisory_detail.summary.highest_risk.model"),
			 "staging.orders_clean");
	ck_assert_ptr_nonnull(strstr(r->body, "\"llm\":null"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"sql_analyzed\":true"));
	/* stored as jsonb: keys come back in jsonb's order */
	ck_assert_ptr_nonnull(strstr(r->body, "{\"detail\":\"tagged sla\",\"factor\":"
				     "\"critical_tag\",\"points\":2}"));
	resp_free(r);
	after = stored(id, "md5(plan_text)");
	ck_assert_str_eq(after, digest);
	free(after);
	adv1 = stored(id, "advisory::text");

	r = augment(&t, id);
	ck_assert_status(r, 200);
	resp_free(r);
	adv2 = stored(id, "advisory::text");
	ck_assert_str_eq(adv1, adv2);
	free(adv2);

	/* run history: the median of the successes, the failure rate */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO runs (tenant_id, plan_id, step_id, model_name, environment, status,"
		 " run_type, finished_at, executor, runtime_seconds) SELECT '%s', 'p', 's',"
		 " 'raw.orders', 'dev', st, 'FULL_REFRESH', now() - make_interval(mins => n),"
		 " 'postgres', secs FROM (VALUES (1, 'SUCCESS', 10.0), (2, 'SUCCESS', 30.0),"
		 " (3, 'SUCCESS', 20.0), (4, 'FAIL', NULL)) v(n, st, secs)", t.tenant_id);
	free(psql("ironlayer", sql));
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory_detail.steps.0.cost.basis"), "history");
	ck_assert_int_eq(resp_int(r, "advisory_detail.steps.0.cost.sample_size"), 3);
	ck_assert_ptr_nonnull(strstr(r->body, "\"estimated_cost_usd\":0.014000"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"estimated_runtime_seconds\":20.00"));
	ck_assert_ptr_nonnull(strstr(r->body, "{\"detail\":\"1 of the last 4 runs failed\","
				     "\"factor\":\"recent_failures\",\"points\":2}"));
	resp_free(r);
	adv2 = stored(id, "advisory::text");
	ck_assert_str_ne(adv1, adv2);
	free(adv2);
	after = stored(id, "md5(plan_text)");
	ck_assert_str_eq(after, digest);
	free(after);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'"
		 " AND action = 'plan_augmented'", t.tenant_id);
	after = psql1(sql);
	ck_assert_str_eq(after, "3");
	free(after);

	tenant_new(&other, "augother");
	r = augment(&other, id);
	ck_assert_status(r, 404);
	resp_free(r);
	r = augment(&other, "nothex");
	ck_assert_status(r, 404);
	resp_free(r);
	free(adv1);
	free(digest);
	free(id);
	tenant_free(&t);
	tenant_free(&other);
}
END_TEST

START_TEST(test_augment__fake_llm_advice_is_validated_and_stored)
{
	struct tenant t;
	char key[128], *id, *prompt_text;
	json_object *req, *msgs;
	struct resp *r;

	tenant_new(&t, "augllm");
	set_tier_team(&t);
	snprintf(key, sizeof(key), "sk-ant-%s-GOOD", unique("aug"));
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	id = plan_c1_c2(&t);
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.provider"), "anthropic");
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.model"), "claude-sonnet-4-5");
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.summary"),
			 "Rebuilding raw.orders and 5 downstream models; review the change.");
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.risk_notes.0.model"), "raw.orders");
	ck_assert_ptr_null(resp_str(r, "advisory_detail.llm.risk_notes.1.model"));
	ck_assert_int_eq(resp_int(r, "advisory_detail.llm.dropped_items"), 1);
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.optimizations.0.suggestion"),
			 "Filter early to cut the scan.");
	ck_assert_int_gt(resp_int(r, "advisory_detail.llm.usage.input_tokens"), 10);
	ck_assert_int_eq(resp_int(r, "advisory_detail.summary.total_steps"), 6);
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);

	req = llm_last_request(key);
	ck_assert_str_eq(json_str2(req, "path", NULL), "/v1/messages");
	ck_assert_str_eq(json_str2(req, "headers", "anthropic-version"), "2023-06-01");
	ck_assert_ptr_nonnull(strstr(json_str2(req, "body", "system"), "one JSON object"));
	ck_assert(json_object_object_get_ex(json_object_object_get(req, "body"), "messages",
					    &msgs));
	prompt_text = strdup(json_str2(json_object_array_get_idx(msgs, 0), "content", NULL));
	ck_assert_ptr_nonnull(strstr(prompt_text, "1. raw.orders (full refresh)"));
	ck_assert_ptr_nonnull(strstr(prompt_text, "### raw.orders (modified)"));
	ck_assert_ptr_nonnull(strstr(prompt_text, "\n- SELECT id, customer_id, amount, order_date"
				     " FROM "));
	ck_assert_ptr_nonnull(strstr(prompt_text, "\n+ SELECT id, customer_id, amount, order_date"
				     " FROM "));
	ck_assert_ptr_nonnull(strstr(prompt_text, " WHERE id > ?\n```"));
	ck_assert_ptr_null(strstr(prompt_text, "id > 0"));
	ck_assert_ptr_null(strstr(prompt_text, "@"));
	ck_assert_ptr_null(strstr(prompt_text, key));
	free(prompt_text);
	json_object_put(req);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_augment__provider_failures_still_answer_200)
{
	struct tenant t, community;
	char key[128], *id, *before;
	struct resp *r;
	int n;

	tenant_new(&t, "auggarb");
	set_tier_team(&t);
	id = plan_c1_c2(&t);
	snprintf(key, sizeof(key), "sk-ant-garbage-%s", unique("g"));
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.error"), "malformed_reply");
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.detail"), "the reply is not a JSON object");
	ck_assert_int_eq(resp_int(r, "advisory_detail.summary.total_steps"), 6);
	resp_free(r);

	snprintf(key, sizeof(key), "sk-proj-slow-%s", unique("s"));
	resp_free(llm_put_key(&t, "openai", key, NULL));
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.error"), "timeout");
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.provider"), "openai");
	resp_free(r);

	/* switched off: no provider call at all */
	r = api_json("PATCH", "/api/v1/settings", t.token, "{\"ai_advisory_enabled\":false}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ai_advisory_enabled\":false"));
	resp_free(r);
	n = llm_count_requests(key);
	r = augment(&t, id);
	ck_assert_ptr_nonnull(strstr(r->body, "\"llm\":null"));
	resp_free(r);
	ck_assert_int_eq(llm_count_requests(key), n);

	/* a tier without AI augment keeps the heuristics */
	tenant_new(&community, "augcomm");
	snprintf(key, sizeof(key), "sk-ant-%s-COMM", unique("c"));
	resp_free(llm_put_key(&community, "anthropic", key, NULL));
	free(id);
	id = plan_c1_c2(&community);
	before = stored(id, "md5(plan_text)");
	r = augment(&community, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory_detail.llm.error"), "tier_limit_reached");
	ck_assert_int_eq(resp_int(r, "advisory_detail.summary.total_steps"), 6);
	resp_free(r);
	ck_assert_int_eq(llm_count_requests(key), 0);
	free(before);
	free(id);
	tenant_free(&t);
	tenant_free(&community);
}
END_TEST

/* A user of t's tenant with role, logged in; returns the token (malloc'd). */
static char *member(const struct tenant *t, const char *role)
{
	char email[160], args[512];
	struct resp *r;
	char *token;

	snprintf(email, sizeof(email), "%s@example.com", unique(role));
	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role %s", t->tenant_id,
		 email, role);
	ck_assert_int_eq(run_cli(args, "member password 1\n", NULL), 0);
	snprintf(args, sizeof(args), "{\"email\":\"%s\",\"password\":\"member password 1\"}",
		 email);
	r = api_json("POST", "/api/v1/auth/login", NULL, args);
	token = must_str(r, "access_token");
	resp_free(r);
	return token;
}

START_TEST(test_settings__roles_read_write_augment)
{
	struct tenant t;
	char *id, *op, *viewer, path[256];
	struct resp *r;

	tenant_new(&t, "setrole");
	resp_free(llm_put_key(&t, "anthropic", "sk-ant-roles-key-1234", NULL));
	id = plan_c1_c2(&t);
	op = member(&t, "operator");
	viewer = member(&t, "viewer");
	r = api("GET", "/api/v1/settings", viewer, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "llm.key_last4"), "1234");
	resp_free(r);
	r = api_json("PUT", "/api/v1/settings/llm-key", op,
		     "{\"provider\":\"openai\",\"api_key\":\"sk-operator-key\"}");
	ck_assert_status(r, 403);
	resp_free(r);
	r = api("DELETE", "/api/v1/settings/llm-key", op, NULL, NULL, NULL);
	ck_assert_status(r, 403);
	resp_free(r);
	r = api_json("POST", "/api/v1/settings/llm-key/test", op, "{}");
	ck_assert_status(r, 403);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/augment", id);
	r = api_json("POST", path, viewer, "{}");
	ck_assert_status(r, 403);
	resp_free(r);
	r = api_json("POST", path, op, "{}");
	ck_assert_status(r, 200);
	resp_free(r);
	free(op);
	free(viewer);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *suite_augment(void)
{
	Suite *s = suite_create("augment");
	TCase *tc = tcase_create("augment");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_augment__heuristics_without_key_are_deterministic);
	tcase_add_test(tc, test_augment__fake_llm_advice_is_validated_and_stored);
	tcase_add_test(tc, test_augment__provider_failures_still_answer_200);
	tcase_add_test(tc, test_settings__roles_read_write_augment);
	suite_add_tcase(s, tc);
	return s;
}
