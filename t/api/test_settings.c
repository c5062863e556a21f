/* test_settings.c: the tenant LLM key (sealed), the key test, master key rotation, plan augment */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PASSWORD TEST_PASSWORD

static struct resp *put_key(const struct tenant *t, const char *provider, const char *key,
			    const char *model)
{
	char body[1024];

	if (model != NULL)
		snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"api_key\":\"%s\",\"model\":\"%s\"}",
			 provider, key, model);
	else
		snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"api_key\":\"%s\"}", provider,
			 key);
	return api_json("PUT", "/api/v1/settings/llm-key", t->token, body);
}

/* psql's one-line answer without the newline (malloc'd). */
static char *sql1(const char *sql)
{
	char *out = psql("ironlayer", sql);

	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* The last request the fake provider recorded whose line contains needle. */
static json_object *last_request(const char *needle)
{
	FILE *f = fopen(getenv("IL_TEST_LLM_RECORD"), "r");
	static char line[1 << 20];
	json_object *found = NULL;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, needle) == NULL)
			continue;
		if (found != NULL)
			json_object_put(found);
		found = json_tokener_parse(line);
	}
	fclose(f);
	ck_assert_msg(found != NULL, "no provider request with %s", needle);
	return found;
}

static const char *jstr(json_object *o, const char *a, const char *b)
{
	json_object *v;

	ck_assert(json_object_object_get_ex(o, a, &v));
	if (b != NULL)
		ck_assert(json_object_object_get_ex(v, b, &v));
	return json_object_get_string(v);
}

/* How many requests the fake provider recorded with needle. */
static int count_requests(const char *needle)
{
	FILE *f = fopen(getenv("IL_TEST_LLM_RECORD"), "r");
	static char line[1 << 20];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* 1 when the worker log holds s anywhere. */
static int worker_log_has(const char *s)
{
	char path[512], cmd[1024];

	snprintf(path, sizeof(path), "%s/log", getenv("IL_TEST_VAR"));
	snprintf(cmd, sizeof(cmd), "grep -rqF -- '%s' %s", s, path);
	return system(cmd) == 0;
}

START_TEST(test_settings__key_round_trip_shows_last4_only)
{
	struct tenant t;
	char key[128], sql[512], *out;
	struct resp *r;

	tenant_new(&t, "setkey");
	snprintf(key, sizeof(key), "sk-ant-%s-WXYZ", unique("rt"));
	r = api("GET", "/api/v1/settings", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tenant_id"), t.tenant_id);
	ck_assert_ptr_nonnull(strstr(r->body, "\"llm\":{\"configured\":false,\"provider\":null,"
				     "\"key_last4\":null,\"updated_at\":null,\"model\":null}"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"ai_advisory_enabled\":true"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"default_lookback_days\":30"));
	resp_free(r);

	r = put_key(&t, "anthropic", key, NULL);
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"configured\":true,\"provider\":\"anthropic\","
				     "\"key_last4\":\"WXYZ\""));
	ck_assert_str_eq(resp_str(r, "model"), "claude-sonnet-4-5");
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);

	r = api("GET", "/api/v1/settings", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "llm.key_last4"), "WXYZ");
	ck_assert_str_eq(resp_str(r, "llm.provider"), "anthropic");
	ck_assert_ptr_nonnull(resp_str(r, "llm.updated_at"));
	ck_assert_ptr_null(strstr(r->body, key));
	ck_assert_ptr_null(strstr(r->body, "sk-ant"));
	resp_free(r);

	/* at rest: version byte 1, nonce, ciphertext, tag; never the plaintext */
	snprintf(sql, sizeof(sql), "SELECT get_byte(llm_key_enc, 0), length(llm_key_enc),"
		 " position(convert_to('%s', 'UTF8') IN llm_key_enc)"
		 " FROM tenant_settings WHERE tenant_id = '%s'", key, t.tenant_id);
	out = sql1(sql);
	{
		char want[64];

		snprintf(want, sizeof(want), "1|%zu|0", strlen(key) + 1 + 12 + 16);
		ck_assert_str_eq(out, want);
	}
	free(out);

	r = api("DELETE", "/api/v1/settings/llm-key", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 204);
	resp_free(r);
	r = api("GET", "/api/v1/settings", t.token, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r->body, "\"configured\":false"));
	resp_free(r);
	r = api("DELETE", "/api/v1/settings/llm-key", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 204);
	resp_free(r);
	snprintf(sql, sizeof(sql), "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_log"
		 " WHERE tenant_id = '%s' AND entity_type = 'settings'", t.tenant_id);
	out = sql1(sql);
	ck_assert_str_eq(out, "llm_key_stored,llm_key_deleted");
	free(out);
	ck_assert_int_eq(worker_log_has(key), 0);
	tenant_free(&t);
}
END_TEST

START_TEST(test_settings__bad_keys_are_422_without_echo)
{
	struct tenant t;
	struct resp *r;

	tenant_new(&t, "setbad");
	r = put_key(&t, "cohere", "sk-long-enough-key", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "provider");
	resp_free(r);
	r = put_key(&t, "openai", "short", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "api_key");
	ck_assert_ptr_null(strstr(r->body, "short"));
	resp_free(r);
	r = put_key(&t, "openai", "sk-has a space in it", NULL);
	ck_assert_status(r, 422);
	ck_assert_ptr_null(strstr(r->body, "space in"));
	resp_free(r);
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 404);
	ck_assert_str_eq(resp_str(r, "code"), "not_found");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(test_settings__ciphertext_moved_to_another_tenant_does_not_open)
{
	struct tenant a, b;
	char key[128], sql[1024], *out;
	struct resp *r;

	tenant_new(&a, "seta");
	tenant_new(&b, "setb");
	snprintf(key, sizeof(key), "sk-ant-%s-MOVE", unique("mv"));
	resp_free(put_key(&a, "anthropic", key, NULL));
	snprintf(sql, sizeof(sql),
		 "INSERT INTO tenant_settings (tenant_id, llm_provider, llm_key_enc, llm_key_last4)"
		 " SELECT '%s', llm_provider, llm_key_enc, llm_key_last4 FROM tenant_settings"
		 " WHERE tenant_id = '%s'", b.tenant_id, a.tenant_id);
	free(psql("ironlayer", sql));
	r = api_json("POST", "/api/v1/settings/llm-key/test", b.token, "{}");
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "key_unreadable");
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tenant_settings WHERE tenant_id = '%s'",
		 b.tenant_id);
	out = sql1(sql);
	ck_assert_str_eq(out, "1");
	free(out);
	ck_assert_int_eq(count_requests(key), 0);
	/* a row no master key opens would (rightly) stop a rotation: remove it */
	snprintf(sql, sizeof(sql), "DELETE FROM tenant_settings WHERE tenant_id = '%s'",
		 b.tenant_id);
	free(psql("ironlayer", sql));
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

START_TEST(test_settings__key_test_sends_the_documented_request)
{
	struct tenant t;
	char key[128];
	json_object *req;
	struct resp *r;

	tenant_new(&t, "settest");
	snprintf(key, sizeof(key), "sk-ant-%s-OKAY", unique("ok"));
	resp_free(put_key(&t, "anthropic", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true,\"valid\":true,\"status\":\"ok\","
				     "\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\""));
	ck_assert_ptr_nonnull(strstr(r->body, "\"error\":null"));
	ck_assert_int_ge(resp_int(r, "latency_ms"), 0);
	resp_free(r);
	req = last_request(key);
	ck_assert_str_eq(jstr(req, "path", NULL), "/v1/messages");
	ck_assert_str_eq(jstr(req, "headers", "x-api-key"), key);
	ck_assert_str_eq(jstr(req, "headers", "anthropic-version"), "2023-06-01");
	ck_assert_str_eq(jstr(req, "headers", "content-type"), "application/json");
	ck_assert_str_eq(jstr(req, "raw", NULL), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}");
	json_object_put(req);

	snprintf(key, sizeof(key), "sk-proj-%s-OPEN", unique("oa"));
	resp_free(put_key(&t, "openai", key, "gpt-4.1-mini"));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true"));
	ck_assert_str_eq(resp_str(r, "model"), "gpt-4.1-mini");
	resp_free(r);
	req = last_request(key);
	ck_assert_str_eq(jstr(req, "path", NULL), "/v1/chat/completions");
	{
		char bearer[160];

		snprintf(bearer, sizeof(bearer), "Bearer %s", key);
		ck_assert_str_eq(jstr(req, "headers", "authorization"), bearer);
	}
	ck_assert_str_eq(jstr(req, "raw", NULL), "{\"model\":\"gpt-4.1-mini\","
			 "\"max_completion_tokens\":8,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}");
	json_object_put(req);
	tenant_free(&t);
}
END_TEST

START_TEST(test_settings__key_test_reports_401_and_timeout)
{
	struct tenant t;
	char key[128];
	struct resp *r;

	tenant_new(&t, "setfail");
	snprintf(key, sizeof(key), "sk-ant-invalid-%s", unique("bad"));
	resp_free(put_key(&t, "anthropic", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":false,\"valid\":false,\"status\":\"error\""));
	ck_assert_str_eq(resp_str(r, "error"), "invalid_api_key");
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);

	snprintf(key, sizeof(key), "sk-proj-invalid-%s", unique("bad"));
	resp_free(put_key(&t, "openai", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_str_eq(resp_str(r, "error"), "invalid_api_key");
	ck_assert_str_eq(resp_str(r, "model"), "gpt-4o-mini");
	resp_free(r);

	snprintf(key, sizeof(key), "sk-ant-slow-%s", unique("slow"));
	resp_free(put_key(&t, "anthropic", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":false"));
	ck_assert_str_eq(resp_str(r, "error"), "timeout");
	ck_assert_int_ge(resp_int(r, "latency_ms"), 1900);
	resp_free(r);
	ck_assert_int_eq(worker_log_has(key), 0);
	tenant_free(&t);
}
END_TEST

/* Runs rotate-master-key with the given key pair (hex) and versions. */
static char *rotate(const char *key, const char *version, const char *prev,
		    const char *prev_version)
{
	char *out;

	setenv("IRONLAYER_MASTER_KEY", key, 1);
	setenv("IRONLAYER_MASTER_KEY_VERSION", version, 1);
	setenv("IRONLAYER_MASTER_KEY_PREVIOUS", prev, 1);
	setenv("IRONLAYER_MASTER_KEY_PREVIOUS_VERSION", prev_version, 1);
	{
		int rc = run_cli("rotate-master-key", NULL, &out);

		ck_assert_msg(rc == 0, "rotate-master-key exited %d: %s", rc, out);
	}
	unsetenv("IRONLAYER_MASTER_KEY");
	unsetenv("IRONLAYER_MASTER_KEY_VERSION");
	unsetenv("IRONLAYER_MASTER_KEY_PREVIOUS");
	unsetenv("IRONLAYER_MASTER_KEY_PREVIOUS_VERSION");
	return out;
}

START_TEST(test_settings__rotation_keeps_every_secret_readable)
{
	static const char new_key[] =
		"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
	struct tenant t;
	char key[128], sql[1024], *old_key = conf_value("master_key"), *out;
	struct resp *r;

	ck_assert_ptr_nonnull(old_key);
	tenant_new(&t, "setrot");
	snprintf(key, sizeof(key), "sk-ant-%s-ROTA", unique("rot"));
	resp_free(put_key(&t, "anthropic", key, NULL));
	/* a sealed environment connection of the same tenant (same associated data) */
	snprintf(sql, sizeof(sql), "UPDATE environments SET connection_enc = (SELECT llm_key_enc"
		 " FROM tenant_settings WHERE tenant_id = '%s') WHERE tenant_id = '%s'",
		 t.tenant_id, t.tenant_id);
	free(psql("ironlayer", sql));

	out = rotate(new_key, "2", old_key, "1");
	ck_assert_msg(strstr(out, "LLM keys: ") != NULL && strstr(out, " re-encrypted") != NULL &&
		      strstr(out, "environment connections: ") != NULL, "%s", out);
	free(out);
	snprintf(sql, sizeof(sql), "SELECT get_byte(s.llm_key_enc, 0), get_byte(e.connection_enc, 0),"
		 " s.llm_key_enc <> e.connection_enc FROM tenant_settings s JOIN environments e"
		 " ON e.tenant_id = s.tenant_id WHERE s.tenant_id = '%s'", t.tenant_id);
	out = sql1(sql);
	ck_assert_str_eq(out, "2|2|t");
	free(out);
	/* a second run finds everything current */
	out = rotate(new_key, "2", old_key, "1");
	ck_assert_msg(strstr(out, "LLM keys: 0 re-encrypted") != NULL, "%s", out);
	free(out);

	/* and back under the workers' key: only readable blobs survive two rotations */
	out = rotate(old_key, "1", new_key, "2");
	free(out);
	out = sql1(sql);
	ck_assert_str_eq(out, "1|1|t");
	free(out);
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true"));
	resp_free(r);
	{
		json_object *req = last_request(key);

		ck_assert_str_eq(jstr(req, "headers", "x-api-key"), key);
		json_object_put(req);
	}
	free(old_key);
	tenant_free(&t);
}
END_TEST

/* ---- augment ------------------------------------------------------------ */

/* Generates the c1 -> c2 plan; returns its id (malloc'd). */
static char *plan_c1_c2(const struct tenant *t)
{
	char body[1024], *c1 = fixture_sha("c1"), *c2 = fixture_sha("c2"), *id;
	struct resp *r;

	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"2026-11-01\"}", getenv("IL_TEST_REPO"), c1, c2);
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
	return sql1(sql);
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
	ck_assert_int_eq(resp_int(r, "advisory.summary.total_steps"), 6);
	ck_assert_str_eq(resp_str(r, "advisory.steps.0.model"), "raw.orders");
	ck_assert_str_eq(resp_str(r, "advisory.steps.0.step_id"), resp_str(r, "steps.0.step_id"));
	ck_assert_str_eq(resp_str(r, "advisory.steps.0.cost.basis"), "default");
	ck_assert_str_eq(resp_str(r, "advisory.steps.0.risk.factors.0.factor"),
			 "downstream_models");
	ck_assert_str_eq(resp_str(r, "advisory.summary.highest_risk.model"),
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
		 " (3, 'SUCCESS', 20.0), (4, 'FAILED', NULL)) v(n, st, secs)", t.tenant_id);
	free(psql("ironlayer", sql));
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory.steps.0.cost.basis"), "history");
	ck_assert_int_eq(resp_int(r, "advisory.steps.0.cost.sample_size"), 3);
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
	after = sql1(sql);
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
	resp_free(put_key(&t, "anthropic", key, NULL));
	id = plan_c1_c2(&t);
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory.llm.provider"), "anthropic");
	ck_assert_str_eq(resp_str(r, "advisory.llm.model"), "claude-sonnet-4-5");
	ck_assert_str_eq(resp_str(r, "advisory.llm.summary"),
			 "Rebuilding raw.orders and 5 downstream models; review the change.");
	ck_assert_str_eq(resp_str(r, "advisory.llm.risk_notes.0.model"), "raw.orders");
	ck_assert_ptr_null(resp_str(r, "advisory.llm.risk_notes.1.model"));
	ck_assert_int_eq(resp_int(r, "advisory.llm.dropped_items"), 1);
	ck_assert_str_eq(resp_str(r, "advisory.llm.optimizations.0.suggestion"),
			 "Filter early to cut the scan.");
	ck_assert_int_gt(resp_int(r, "advisory.llm.usage.input_tokens"), 10);
	ck_assert_int_eq(resp_int(r, "advisory.summary.total_steps"), 6);
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);

	req = last_request(key);
	ck_assert_str_eq(jstr(req, "path", NULL), "/v1/messages");
	ck_assert_str_eq(jstr(req, "headers", "anthropic-version"), "2023-06-01");
	ck_assert_ptr_nonnull(strstr(jstr(req, "body", "system"), "one JSON object"));
	ck_assert(json_object_object_get_ex(json_object_object_get(req, "body"), "messages",
					    &msgs));
	prompt_text = strdup(jstr(json_object_array_get_idx(msgs, 0), "content", NULL));
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
	resp_free(put_key(&t, "anthropic", key, NULL));
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory.llm.error"), "malformed_reply");
	ck_assert_str_eq(resp_str(r, "advisory.llm.detail"), "the reply is not a JSON object");
	ck_assert_int_eq(resp_int(r, "advisory.summary.total_steps"), 6);
	resp_free(r);

	snprintf(key, sizeof(key), "sk-proj-slow-%s", unique("s"));
	resp_free(put_key(&t, "openai", key, NULL));
	r = augment(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory.llm.error"), "timeout");
	ck_assert_str_eq(resp_str(r, "advisory.llm.provider"), "openai");
	resp_free(r);

	/* switched off: no provider call at all */
	r = api_json("PATCH", "/api/v1/settings", t.token, "{\"ai_advisory_enabled\":false}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ai_advisory_enabled\":false"));
	resp_free(r);
	n = count_requests(key);
	r = augment(&t, id);
	ck_assert_ptr_nonnull(strstr(r->body, "\"llm\":null"));
	resp_free(r);
	ck_assert_int_eq(count_requests(key), n);

	/* a tier without AI augment keeps the heuristics */
	tenant_new(&community, "augcomm");
	snprintf(key, sizeof(key), "sk-ant-%s-COMM", unique("c"));
	resp_free(put_key(&community, "anthropic", key, NULL));
	free(id);
	id = plan_c1_c2(&community);
	before = stored(id, "md5(plan_text)");
	r = augment(&community, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "advisory.llm.error"), "tier_limit_reached");
	ck_assert_int_eq(resp_int(r, "advisory.summary.total_steps"), 6);
	resp_free(r);
	ck_assert_int_eq(count_requests(key), 0);
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
	resp_free(put_key(&t, "anthropic", "sk-ant-roles-key-1234", NULL));
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

static TCase *advisory_tcase(void)
{
	TCase *tc = tcase_create("augment");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_augment__heuristics_without_key_are_deterministic);
	tcase_add_test(tc, test_augment__fake_llm_advice_is_validated_and_stored);
	tcase_add_test(tc, test_augment__provider_failures_still_answer_200);
	tcase_add_test(tc, test_settings__roles_read_write_augment);
	return tc;
}

Suite *suite_settings(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("settings");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_settings__key_round_trip_shows_last4_only);
	tcase_add_test(tc, test_settings__bad_keys_are_422_without_echo);
	tcase_add_test(tc, test_settings__ciphertext_moved_to_another_tenant_does_not_open);
	tcase_add_test(tc, test_settings__key_test_sends_the_documented_request);
	tcase_add_test(tc, test_settings__key_test_reports_401_and_timeout);
	tcase_add_test(tc, test_settings__rotation_keeps_every_secret_readable);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, advisory_tcase());
	return s;
}
