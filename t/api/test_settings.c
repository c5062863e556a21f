/* test_settings.c: the tenant LLM key (sealed), the key test, master key rotation, plan augment */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "harness.h"


START_TEST(test_settings__key_round_trip_shows_last4_only)
{
	struct tenant t;
	char key[128], sql[512], *out;
	struct resp *r;

	tenant_new(&t, "setkey");
	snprintf(key, sizeof(key), "sk-ant-api03-%s-WXYZ", unique("rt"));
	r = api("GET", "/api/v1/settings", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tenant_id"), t.tenant_id);
	ck_assert_ptr_nonnull(strstr(r->body, "\"llm\":{\"configured\":false,\"provider\":null,"
				     "\"key_last4\":null,\"key_prefix\":null,\"updated_at\":null,"
				     "\"model\":null}"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"ai_advisory_enabled\":true"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"default_lookback_days\":30"));
	resp_free(r);

	r = llm_put_key(&t, "anthropic", key, NULL);
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
	/* before the last four only the key's type marker shows, no random character */
	ck_assert_str_eq(resp_str(r, "llm_key.key_prefix"), "sk-ant-");
	{
		char head[16];

		snprintf(head, sizeof(head), "%.8s", key);
		ck_assert_ptr_null(strstr(r->body, head));
		ck_assert_ptr_null(strstr(r->body, key + 7));
	}
	resp_free(r);

	/* at rest: format byte 0, key version 1, nonce, ciphertext, tag; never the plaintext */
	snprintf(sql, sizeof(sql), "SELECT get_byte(llm_key_enc, 0), get_byte(llm_key_enc, 1),"
		 " length(llm_key_enc), position(convert_to('%s', 'UTF8') IN llm_key_enc)"
		 " FROM tenant_settings WHERE tenant_id = '%s'", key, t.tenant_id);
	out = psql1(sql);
	{
		char want[64];

		snprintf(want, sizeof(want), "0|1|%zu|0", strlen(key) + 2 + 12 + 16);
		ck_assert_str_eq(out, want);
	}
	free(out);

	r = api("DELETE", "/api/v1/settings/llm-key", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "{\"status\":\"deleted\",\"has_key\":false,\"key_prefix\":null,"
			 "\"llm_enabled\":true}");
	resp_free(r);
	r = api("GET", "/api/v1/settings", t.token, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r->body, "\"configured\":false"));
	resp_free(r);
	r = api("DELETE", "/api/v1/settings/llm-key", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	resp_free(r);
	snprintf(sql, sizeof(sql), "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_log"
		 " WHERE tenant_id = '%s' AND entity_type = 'settings'", t.tenant_id);
	out = psql1(sql);
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
	r = llm_put_key(&t, "cohere", "sk-long-enough-key", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "provider");
	resp_free(r);
	r = llm_put_key(&t, "openai", "short", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "api_key");
	ck_assert_ptr_null(strstr(r->body, "short"));
	resp_free(r);
	r = llm_put_key(&t, "openai", "sk-has a space in it", NULL);
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
	resp_free(llm_put_key(&a, "anthropic", key, NULL));
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
	out = psql1(sql);
	ck_assert_str_eq(out, "1");
	free(out);
	ck_assert_int_eq(llm_count_requests(key), 0);
	/* a row no master key opens would (rightly) stop a rotation: remove it */
	snprintf(sql, sizeof(sql), "DELETE FROM tenant_settings WHERE tenant_id = '%s'",
		 b.tenant_id);
	free(psql("ironlayer", sql));
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

/* Creates environment name of t with a (sealed) PostgreSQL connection. */
static void env_with_connection(const struct tenant *t, const char *name)
{
	char body[512];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"schema_prefix\":\"%s\",\"executor\":"
		 "\"postgres\",\"connection\":\"host=203.0.113.10 dbname=%s user=x password=pw\"}", name,
		 name, name);
	r = api_json("POST", "/api/v1/environments", t->token, body);
	ck_assert_status(r, 201);
	resp_free(r);
}

START_TEST(test_settings__sealed_secret_moved_to_another_column_does_not_open)
{
	struct tenant t;
	char key[128], sql[1024], *out, *master = conf_value("master_key");
	static const char new_key[] =
		"a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f";
	struct resp *r;
	int rc;

	tenant_new(&t, "setcol");
	snprintf(key, sizeof(key), "sk-ant-%s-COLS", unique("col"));
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	env_with_connection(&t, "colwh");

	/* the environment's connection copied over the LLM key: the key test cannot open it */
	snprintf(sql, sizeof(sql), "UPDATE tenant_settings SET llm_key_enc = (SELECT"
		 " connection_enc FROM environments WHERE tenant_id = '%s' AND name = 'colwh')"
		 " WHERE tenant_id = '%s'", t.tenant_id, t.tenant_id);
	free(psql("ironlayer", sql));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "key_unreadable");
	ck_assert_ptr_null(strstr(r->body, "203.0.113.10"));
	resp_free(r);
	ck_assert_int_eq(llm_count_requests("dbname=colwh"), 0);

	/* an LLM key copied into the connection column does not open as a connection */
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	snprintf(sql, sizeof(sql), "UPDATE environments SET connection_enc = (SELECT llm_key_enc"
		 " FROM tenant_settings WHERE tenant_id = '%s') WHERE tenant_id = '%s'"
		 " AND name = 'colwh'", t.tenant_id, t.tenant_id);
	free(psql("ironlayer", sql));
	setenv("IRONLAYER_MASTER_KEY", new_key, 1);
	setenv("IRONLAYER_MASTER_KEY_VERSION", "2", 1);
	setenv("IRONLAYER_MASTER_KEY_PREVIOUS", master, 1);
	setenv("IRONLAYER_MASTER_KEY_PREVIOUS_VERSION", "1", 1);
	rc = run_cli("rotate-master-key", NULL, &out);
	unsetenv("IRONLAYER_MASTER_KEY");
	unsetenv("IRONLAYER_MASTER_KEY_VERSION");
	unsetenv("IRONLAYER_MASTER_KEY_PREVIOUS");
	unsetenv("IRONLAYER_MASTER_KEY_PREVIOUS_VERSION");
	ck_assert_msg(rc == 1 && strstr(out, "(environment connections)") != NULL, "%d: %s", rc,
		      out);
	free(out);
	snprintf(sql, sizeof(sql), "SELECT get_byte(llm_key_enc, 1) FROM tenant_settings"
		 " WHERE tenant_id = '%s'", t.tenant_id);
	out = psql1(sql);
	ck_assert_str_eq(out, "1");     /* the refused rotation changed nothing */
	free(out);
	/* a row no master key opens as what it claims to be stops a rotation: remove it */
	snprintf(sql, sizeof(sql), "UPDATE environments SET connection_enc = NULL"
		 " WHERE tenant_id = '%s' AND name = 'colwh'", t.tenant_id);
	free(psql("ironlayer", sql));
	free(master);
	tenant_free(&t);
}
END_TEST

/* A secret in the format of before 010 (AAD: the tenant id alone), as bytea hex. */
static char *legacy_blob(const char *master_hex, const char *tenant, const char *plain)
{
	unsigned char key[32], blob[256];
	size_t n = strlen(plain), i;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	char *hex = malloc(2 * (29 + n) + 3);
	int len = 0;

	ck_assert_uint_lt(n, 200);
	for (i = 0; i < 32; i++)
		ck_assert_int_eq(sscanf(master_hex + 2 * i, "%2hhx", &key[i]), 1);
	blob[0] = 1;                                  /* key version 1 */
	memset(blob + 1, 0x3c, 12);
	ck_assert(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob + 1) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)tenant,
				    (int)strlen(tenant)) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, blob + 13, &len, (const unsigned char *)plain,
				    (int)n) == 1);
	ck_assert(EVP_EncryptFinal_ex(ctx, blob + 13 + len, &len) == 1);
	ck_assert(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, blob + 13 + n) == 1);
	EVP_CIPHER_CTX_free(ctx);
	strcpy(hex, "\\x");
	for (i = 0; i < 29 + n; i++)
		sprintf(hex + 2 + 2 * i, "%02x", blob[i]);
	return hex;
}

START_TEST(test_settings__legacy_secret_opens_until_rotation_reseals_it)
{
	struct tenant t;
	char key[128], sql[1024], *blob, *out, *master = conf_value("master_key");
	struct resp *r;

	tenant_new(&t, "setold");
	snprintf(key, sizeof(key), "sk-ant-%s-LEGA", unique("old"));
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	/* as an installation upgraded from before 010 has it */
	blob = legacy_blob(master, t.tenant_id, key);
	snprintf(sql, sizeof(sql), "UPDATE tenant_settings SET llm_key_enc = '%s'::bytea"
		 " WHERE tenant_id = '%s'", blob, t.tenant_id);
	free(psql("ironlayer", sql));
	free(blob);
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true"));
	resp_free(r);

	/* rotate-master-key with the same key re-seals what is still legacy, and only that */
	ck_assert_int_eq(run_cli("rotate-master-key", NULL, &out), 0);
	ck_assert_msg(strstr(out, "LLM keys: 1 re-encrypted") != NULL, "%s", out);
	free(out);
	snprintf(sql, sizeof(sql), "SELECT get_byte(llm_key_enc, 0) || '|' ||"
		 " get_byte(llm_key_enc, 1) FROM tenant_settings WHERE tenant_id = '%s'",
		 t.tenant_id);
	out = psql1(sql);
	ck_assert_str_eq(out, "0|1");
	free(out);
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	resp_free(r);
	{
		json_object *req = llm_last_request(key);

		ck_assert_str_eq(json_str2(req, "headers", "x-api-key"), key);
		json_object_put(req);
	}
	ck_assert_int_eq(run_cli("rotate-master-key", NULL, &out), 0);
	ck_assert_msg(strstr(out, "LLM keys: 0 re-encrypted") != NULL, "%s", out);
	free(out);
	free(master);
	tenant_free(&t);
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
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true,\"valid\":true,\"status\":\"ok\","
				     "\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\""));
	ck_assert_ptr_nonnull(strstr(r->body, "\"error\":null"));
	ck_assert_int_ge(resp_int(r, "latency_ms"), 0);
	resp_free(r);
	req = llm_last_request(key);
	ck_assert_str_eq(json_str2(req, "path", NULL), "/v1/messages");
	ck_assert_str_eq(json_str2(req, "headers", "x-api-key"), key);
	ck_assert_str_eq(json_str2(req, "headers", "anthropic-version"), "2023-06-01");
	ck_assert_str_eq(json_str2(req, "headers", "content-type"), "application/json");
	ck_assert_str_eq(json_str2(req, "raw", NULL), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}");
	json_object_put(req);

	snprintf(key, sizeof(key), "sk-proj-%s-OPEN", unique("oa"));
	resp_free(llm_put_key(&t, "openai", key, "gpt-4.1-mini"));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true"));
	ck_assert_str_eq(resp_str(r, "model"), "gpt-4.1-mini");
	resp_free(r);
	req = llm_last_request(key);
	ck_assert_str_eq(json_str2(req, "path", NULL), "/v1/chat/completions");
	{
		char bearer[160];

		snprintf(bearer, sizeof(bearer), "Bearer %s", key);
		ck_assert_str_eq(json_str2(req, "headers", "authorization"), bearer);
	}
	ck_assert_str_eq(json_str2(req, "raw", NULL), "{\"model\":\"gpt-4.1-mini\","
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
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":false,\"valid\":false,\"status\":\"error\""));
	ck_assert_str_eq(resp_str(r, "error"), "invalid_api_key");
	ck_assert_ptr_null(strstr(r->body, key));
	resp_free(r);

	snprintf(key, sizeof(key), "sk-proj-invalid-%s", unique("bad"));
	resp_free(llm_put_key(&t, "openai", key, NULL));
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_str_eq(resp_str(r, "error"), "invalid_api_key");
	ck_assert_str_eq(resp_str(r, "model"), "gpt-4o-mini");
	resp_free(r);

	snprintf(key, sizeof(key), "sk-ant-slow-%s", unique("slow"));
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
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
	resp_free(llm_put_key(&t, "anthropic", key, NULL));
	/* a sealed environment connection of the same tenant, sealed as a connection */
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"rotwh\",\"schema_prefix\":\"rotwh\",\"executor\":\"postgres\","
		     "\"connection\":\"host=203.0.113.10 dbname=rotwh user=x password=pw\"}");
	ck_assert_status(r, 201);
	resp_free(r);

	out = rotate(new_key, "2", old_key, "1");
	ck_assert_msg(strstr(out, "LLM keys: ") != NULL && strstr(out, " re-encrypted") != NULL &&
		      strstr(out, "environment connections: ") != NULL, "%s", out);
	free(out);
	snprintf(sql, sizeof(sql), "SELECT get_byte(s.llm_key_enc, 1), get_byte(e.connection_enc, 1),"
		 " s.llm_key_enc <> e.connection_enc FROM tenant_settings s JOIN environments e"
		 " ON e.tenant_id = s.tenant_id WHERE s.tenant_id = '%s' AND e.name = 'rotwh'",
		 t.tenant_id);
	out = psql1(sql);
	ck_assert_str_eq(out, "2|2|t");
	free(out);
	/* a second run finds everything current */
	out = rotate(new_key, "2", old_key, "1");
	ck_assert_msg(strstr(out, "LLM keys: 0 re-encrypted") != NULL, "%s", out);
	free(out);

	/* and back under the workers' key: only readable blobs survive two rotations */
	out = rotate(old_key, "1", new_key, "2");
	free(out);
	out = psql1(sql);
	ck_assert_str_eq(out, "1|1|t");
	free(out);
	r = api_json("POST", "/api/v1/settings/llm-key/test", t.token, "{}");
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ok\":true"));
	resp_free(r);
	{
		json_object *req = llm_last_request(key);

		ck_assert_str_eq(json_str2(req, "headers", "x-api-key"), key);
		json_object_put(req);
	}
	free(old_key);
	tenant_free(&t);
}
END_TEST

Suite *suite_settings(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("settings");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_settings__key_round_trip_shows_last4_only);
	tcase_add_test(tc, test_settings__bad_keys_are_422_without_echo);
	tcase_add_test(tc, test_settings__ciphertext_moved_to_another_tenant_does_not_open);
	tcase_add_test(tc, test_settings__sealed_secret_moved_to_another_column_does_not_open);
	tcase_add_test(tc, test_settings__legacy_secret_opens_until_rotation_reseals_it);
	tcase_add_test(tc, test_settings__key_test_sends_the_documented_request);
	tcase_add_test(tc, test_settings__key_test_reports_401_and_timeout);
	tcase_add_test(tc, test_settings__rotation_keeps_every_secret_readable);
	suite_add_tcase(s, tc);
	return s;
}
