/* test_kept.c: reads answered from what a worker kept, and what makes them fresh again */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* More requests than the pool has workers, so that every worker answers (and keeps) one. */
#define EVERY_WORKER 12

/* GET path as t; fails unless 200 and the field at key is want. */
static void expect_field(const struct tenant *t, const char *path, const char *key,
			 const char *want)
{
	struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
	ck_assert_msg(resp_str(r, key) != NULL && strcmp(resp_str(r, key), want) == 0,
		      "GET %s: %s should be %s: %s", path, key, want, r->body);
	resp_free(r);
}

/* GET path as t; fails unless 200 with a bare array of n items and X-Total-Count total. */
static void expect_list(const struct tenant *t, const char *path, size_t n, long long total)
{
	struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
	ck_assert_msg(resp_len(r) == n, "GET %s: %zu items, expected %zu: %s", path, resp_len(r),
		      n, r->body);
	ck_assert_int_eq(resp_total(r), total);
	resp_free(r);
}

/*
 * A change made outside the API (the operator's psql, the CLI) reaches every
 * worker's next answer: the tenant's data version moves with the row.
 */
START_TEST(test_kept__a_row_changed_anywhere_is_seen_at_once)
{
	struct tenant t;
	char sql[512], *out, *name;
	struct resp *r;
	int k;

	tenant_new(&t, "kept-row");
	r = api("GET", "/api/v1/auth/me", t.token, NULL, NULL, NULL);
	name = must_str(r, "display_name");
	resp_free(r);
	for (k = 0; k < EVERY_WORKER; k++)
		expect_field(&t, "/api/v1/auth/me", "display_name", name);
	free(name);
	snprintf(sql, sizeof(sql), "UPDATE users SET display_name = 'Renamed' WHERE email = '%s'",
		 t.email);
	out = psql("ironlayer", sql);
	free(out);
	for (k = 0; k < EVERY_WORKER; k++)
		expect_field(&t, "/api/v1/auth/me", "display_name", "Renamed");
	tenant_free(&t);
}
END_TEST

/*
 * A plan made in the apply pool and an environment made by another worker
 * show in the very next list of every api worker, and the kept answers of one
 * URL are not those of another (the query is part of the key).
 */
START_TEST(test_kept__a_write_through_the_api_is_seen_by_every_worker)
{
	struct tenant t;
	char body[1024], *c1 = fixture_sha("c1"), *c2 = fixture_sha("c2");
	struct resp *r;
	int k;

	tenant_new(&t, "kept-api");
	for (k = 0; k < EVERY_WORKER; k++) {
		expect_list(&t, "/api/v1/plans?limit=1", 0, 0);
		expect_list(&t, "/api/v1/environments", 1, 1);
	}
	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\","
		 "\"target_sha\":\"%s\",\"as_of\":\"2026-11-01\"}", tenant_repo(&t), c1, c2);
	r = api_json("POST", "/api/v1/plans/generate", t.token, body);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	resp_free(r);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"stage\",\"executor\":\"postgres\","
		     "\"schema_prefix\":\"kept_stage\"}");
	ck_assert_status(r, 201);
	resp_free(r);
	for (k = 0; k < EVERY_WORKER; k++) {
		expect_list(&t, "/api/v1/plans?limit=1", 1, 1);
		expect_list(&t, "/api/v1/plans?limit=1&offset=1", 0, 1);
		expect_list(&t, "/api/v1/environments", 2, 2);
	}
	free(c1);
	free(c2);
	tenant_free(&t);
}
END_TEST

/*
 * One URL, two tenants and two admins of one tenant: each caller gets its own
 * answer, never one kept for somebody else; a role changed by the CLI, or
 * behind the triggers' back, is the role the next answer shows.
 */
START_TEST(test_kept__an_answer_is_the_callers_own)
{
	struct tenant a, b;
	char args[512], other[160], *token, *out;
	struct resp *r;
	int k;

	tenant_new(&a, "kept-a");
	tenant_new(&b, "kept-b");
	snprintf(other, sizeof(other), "%s@example.com", unique("kept-other"));
	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role admin", a.tenant_id,
		 other);
	ck_assert_int_eq(run_cli(args, "other password 1\n", NULL), 0);
	snprintf(args, sizeof(args), "{\"email\":\"%s\",\"password\":\"other password 1\"}",
		 other);
	r = api_json("POST", "/api/v1/auth/login", NULL, args);
	ck_assert_status(r, 200);
	token = must_str(r, "access_token");
	resp_free(r);
	for (k = 0; k < EVERY_WORKER; k++) {
		struct tenant v = { .token = token };

		expect_field(&a, "/api/v1/auth/me", "email", a.email);
		expect_field(&b, "/api/v1/auth/me", "email", b.email);
		expect_field(&v, "/api/v1/auth/me", "email", other);
		expect_field(&v, "/api/v1/auth/me", "role", "admin");
		expect_field(&b, "/api/v1/auth/me", "tenant_id", b.tenant_id);
	}
	snprintf(args, sizeof(args), "user set-role --email %s --role viewer", other);
	ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
	for (k = 0; k < EVERY_WORKER; k++) {
		struct tenant v = { .token = token };

		expect_field(&v, "/api/v1/auth/me", "role", "viewer");
		expect_field(&a, "/api/v1/auth/me", "role", "admin");
	}
	/* the role changed with the version held still (triggers off, as a restore
	 * may run them): a kept answer must also match the role the check says */
	snprintf(args, sizeof(args), "SET session_replication_role = replica;"
		 " UPDATE users SET role = 'operator' WHERE email = '%s'", other);
	out = psql("ironlayer", args);
	free(out);
	for (k = 0; k < EVERY_WORKER; k++) {
		struct tenant v = { .token = token };

		expect_field(&v, "/api/v1/auth/me", "role", "operator");
	}
	free(token);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

/*
 * The version is the database's to move: a worker (what a SQL injection in
 * one would run as) can neither write it nor read another tenant's, and
 * every table that holds a tenant's rows moves it.
 */
START_TEST(test_kept__the_version_is_out_of_the_workers_reach)
{
	struct tenant t;
	char sql[512], *out;

	tenant_new(&t, "kept-ver");
	snprintf(sql, sizeof(sql), "SET ROLE ironlayer_worker; UPDATE tenant_versions"
		 " SET version = 0 WHERE tenant_id = '%s'", t.tenant_id);
	out = psql("ironlayer", sql);
	ck_assert_msg(strstr(out, "permission denied") != NULL, "%s", out);
	free(out);
	snprintf(sql, sizeof(sql), "SET ROLE ironlayer_worker;"
		 " SELECT set_config('app.tenant_id', '%s', false);"
		 " SELECT 'seen=' || count(*) FROM tenant_versions", t.tenant_id);
	out = psql("ironlayer", sql);
	ck_assert_msg(strstr(out, "seen=1") != NULL, "%s", out);
	free(out);
	out = psql1("SELECT coalesce(string_agg(c.relname, ','), '') FROM pg_class c"
		    " JOIN pg_namespace n ON n.oid = c.relnamespace"
		    " WHERE n.nspname = 'public' AND c.relkind = 'r'"
		    " AND c.relname <> 'tenant_versions' AND EXISTS (SELECT 1 FROM pg_attribute a"
		    "  WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)"
		    " AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid"
		    "  AND g.tgname = 'tenant_version')");
	ck_assert_msg(out[0] == '\0', "tables whose writes do not move the version: %s", out);
	free(out);
	tenant_free(&t);
}
END_TEST

Suite *suite_kept(void)
{
	Suite *s = suite_create("kept");
	TCase *tc = tcase_create("kept");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_kept__a_row_changed_anywhere_is_seen_at_once);
	tcase_add_test(tc, test_kept__a_write_through_the_api_is_seen_by_every_worker);
	tcase_add_test(tc, test_kept__an_answer_is_the_callers_own);
	tcase_add_test(tc, test_kept__the_version_is_out_of_the_workers_reach);
	suite_add_tcase(s, tc);
	return s;
}
