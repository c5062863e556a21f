/* test_plans.c: generate, list, get, approve, reject; the model catalog and lineage */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"


static struct resp *generate(const struct tenant *t, const char *repo, const char *base,
			     const char *target, const char *extra)
{
	char body[2048];

	snprintf(body, sizeof(body),
		 "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":\"%s\","
		 "\"as_of\":\"2026-11-01\"%s}", repo, base, target, extra ? extra : "");
	return api_json("POST", "/api/v1/plans/generate", t->token, body);
}

static char *generate_c1_c2(const struct tenant *t)
{
	char *c1 = fixture_sha("c1"), *c2 = fixture_sha("c2"), *id;
	struct resp *r = generate(t, tenant_repo(t), c1, c2, NULL);

	ck_assert_int_eq(r->status == 200 || r->status == 201, 1);
	id = must_str(r, "plan_id");
	resp_free(r);
	free(c1);
	free(c2);
	return id;
}

START_TEST(test_generate__201_then_200_and_matches_the_cli)
{
	struct tenant t;
	char *c1 = fixture_sha("c1"), *c2 = fixture_sha("c2"), args[1024], *cli, *id;
	struct resp *r;

	tenant_new(&t, "gen");
	r = generate(&t, tenant_repo(&t), "", c2, NULL);
	ck_assert_status(r, 422); /* empty base_sha */
	resp_free(r);

	r = generate(&t, tenant_repo(&t), c1, c2, NULL);
	ck_assert_status(r, 201);
	id = must_str(r, "plan_id");
	ck_assert_str_eq(resp_str(r, "status"), "pending");
	ck_assert_str_eq(resp_str(r, "base"), c1);
	ck_assert_str_eq(resp_str(r, "target"), c2);
	ck_assert_str_eq(resp_str(r, "environment"), "dev");
	ck_assert_str_eq(resp_str(r, "created_by"), t.email);
	ck_assert_int_eq(resp_int(r, "summary.total_steps"), 6);
	/* models_changed: the whole affected set; models_modified: the edit */
	ck_assert_str_eq(resp_str(r, "summary.models_changed.0"), "analytics.daily");
	ck_assert_str_eq(resp_str(r, "summary.models_changed.5"), "staging.orders_clean");
	ck_assert_str_eq(resp_str(r, "summary.models_modified.0"), "raw.orders");
	ck_assert_str_eq(resp_str(r, "steps.0.model"), "raw.orders");
	ck_assert_str_eq(resp_str(r, "steps.0.reason"), "SQL logic changed");
	ck_assert_str_eq(resp_str(r, "steps.1.reason"), "downstream of raw.orders");
	ck_assert_int_eq(resp_int(r, "required_approvals"), 1);
	ck_assert_ptr_nonnull(strstr(r->body, "\"advisory\":null"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"approvals\":[]"));
	resp_free(r);

	{
		char short_c1[8];

		snprintf(short_c1, sizeof(short_c1), "%.7s", c1);
		r = generate(&t, tenant_repo(&t), short_c1, c2, NULL);
	}
	ck_assert_status(r, 200); /* the same plan again, from a short sha */
	ck_assert_str_eq(resp_str(r, "plan_id"), id);
	resp_free(r);
	/* and from revisions, as the CLI takes them: c2's parent and a tag (named
	 * like hex, so spelled tags/NAME: short hex is a sha prefix) */
	r = generate(&t, tenant_repo(&t), "c2~1", "tags/c2", NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "plan_id"), id);
	ck_assert_str_eq(resp_str(r, "base"), c1);
	resp_free(r);
	/* HEAD~N as the CLI user types it (the fixture's HEAD is cyc, after bad, slow, c4) */
	{
		char *c4 = fixture_sha("c4"), *slow = fixture_sha("slow");

		r = generate(&t, tenant_repo(&t), "HEAD~3", "HEAD~2", NULL);
		ck_assert_msg(r->status == 201 || r->status == 200, "%ld %s", r->status, r->body);
		ck_assert_str_eq(resp_str(r, "base"), c4);
		ck_assert_str_eq(resp_str(r, "target"), slow);
		resp_free(r);
		r = generate(&t, tenant_repo(&t), "main~3", "main^^", NULL);
		ck_assert_msg(r->status == 200, "%ld %s", r->status, r->body);
		ck_assert_str_eq(resp_str(r, "base"), c4);
		ck_assert_str_eq(resp_str(r, "target"), slow);
		resp_free(r);
		free(c4);
		free(slow);
	}
	r = generate(&t, tenant_repo(&t), "--upload-pack=x", "tags/c2", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "base_sha");
	resp_free(r);
	r = generate(&t, tenant_repo(&t), "tags/c1", "c2:models", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "target_sha");
	resp_free(r);

	/* the CLI with no server state produces the same plan id */
	snprintf(args, sizeof(args), "plan %s c1 c2 --as-of 2026-11-01", getenv("IL_TEST_REPO"));
	ck_assert_int_eq(run_cli(args, NULL, &cli), 0);
	ck_assert_msg(strstr(cli, id) != NULL, "CLI plan differs: %s", cli);
	free(cli);
	free(id);
	free(c1);
	free(c2);
	tenant_free(&t);
}
END_TEST

static void expect_repo_422(const struct tenant *t, const char *path, const char *msg)
{
	struct resp *r = generate(t, path, "abcdef0", "abcdef0", NULL);

	ck_assert_msg(r->status == 422, "%s: got %ld %s", path, r->status, r->body);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "repo_path");
	ck_assert_str_eq(resp_str(r, "detail.0.msg"), msg);
	ck_assert_ptr_null(strstr(r->body, "/outside"));
	resp_free(r);
}

START_TEST(test_generate__repo_path_must_stay_inside_the_roots)
{
	static const char outside[] =
		"repo_path is outside your repository roots (<root>/<tenant id>/ of a repo_roots "
		"entry, or a shared root)";
	static const char missing[] =
		"repo_path does not exist (it is inside your repository roots)";
	char path[1024];
	struct tenant t;

	tenant_new(&t, "roots");
	/* outside: existing or not, it makes no difference */
	snprintf(path, sizeof(path), "%s/outside/repo", getenv("IL_TEST_VAR"));
	expect_repo_422(&t, path, outside);
	snprintf(path, sizeof(path), "%s/repos/../outside/repo", getenv("IL_TEST_VAR"));
	expect_repo_422(&t, path, outside);
	snprintf(path, sizeof(path), "%s/repos/escape", getenv("IL_TEST_VAR"));
	expect_repo_422(&t, path, outside);
	snprintf(path, sizeof(path), "%s/repos/missing", getenv("IL_TEST_VAR"));
	expect_repo_422(&t, path, outside);
	expect_repo_422(&t, "/etc", outside);
	expect_repo_422(&t, "/nonexistent/at/all", outside);
	/* a relative path is a mistake whatever it names, and says so */
	expect_repo_422(&t, "repos/api", "repo_path must be an absolute path");
	snprintf(path, sizeof(path), "%s/repos/notgit", getenv("IL_TEST_VAR"));
	expect_repo_422(&t, path, outside);   /* under a root, but in no tenant's directory */
	/* inside the tenant's own directory (not made yet): missing, and said so */
	snprintf(path, sizeof(path), "%s/repos/%s/missing", getenv("IL_TEST_VAR"), t.tenant_id);
	expect_repo_422(&t, path, missing);
	snprintf(path, sizeof(path), "%s/repos/%s/notgit", getenv("IL_TEST_VAR"), t.tenant_id);
	tenant_repo(&t);   /* the tenant's directory exists once a repository was added */
	ck_assert_int_eq(mkdir(path, 0755), 0);
	expect_repo_422(&t, path, "repo_path is not a git repository");
	snprintf(path, sizeof(path), "%s/repos/%s/notgit/deeper/../x", getenv("IL_TEST_VAR"),
		 t.tenant_id);
	expect_repo_422(&t, path, missing);
	tenant_free(&t);
}
END_TEST

START_TEST(test_generate__unknown_sha_env_and_cycles)
{
	struct tenant t;
	char *c1 = fixture_sha("c1"), *cyc = fixture_sha("cyc");
	struct resp *r;

	tenant_new(&t, "shas");
	r = generate(&t, tenant_repo(&t), c1, "deadbeef", NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "target_sha");
	ck_assert_str_eq(resp_str(r, "detail.0.msg"), "does not name a commit in the repository");
	resp_free(r);
	r = generate(&t, tenant_repo(&t), "xyz", c1, NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "base_sha");
	resp_free(r);
	r = generate(&t, tenant_repo(&t), c1, c1, ",\"environment\":\"prod\"");
	ck_assert_status(r, 404);
	ck_assert_str_eq(resp_str(r, "detail"), "environment prod not found");
	resp_free(r);

	r = generate(&t, tenant_repo(&t), c1, cyc, NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "code"), "model_errors");
	ck_assert_msg(strstr(r->body, "analytics.ltv \\u2192 staging.customers \\u2192 analytics.ltv") ||
		      strstr(r->body, "analytics.ltv → staging.customers → analytics.ltv"),
		      "cycle not spelled out: %s", r->body);
	ck_assert_ptr_nonnull(resp_str(r, "errors.0.file"));
	resp_free(r);

	r = generate(&t, tenant_repo(&t), c1, c1, NULL);
	ck_assert_status(r, 201); /* an empty diff is an empty plan */
	ck_assert_int_eq(resp_int(r, "summary.total_steps"), 0);
	resp_free(r);
	free(c1);
	free(cyc);
	tenant_free(&t);
}
END_TEST

START_TEST(test_list__pagination_edges_and_link)
{
	struct tenant t;
	char *c[4], path[256];
	const char *tags[4] = { "c1", "c2", "c3", "cyc" };
	struct resp *r;
	int i;

	tenant_new(&t, "page");
	for (i = 0; i < 4; i++)
		c[i] = fixture_sha(tags[i]);
	resp_free(generate(&t, tenant_repo(&t), c[0], c[1], NULL));
	resp_free(generate(&t, tenant_repo(&t), c[1], c[2], NULL));
	resp_free(generate(&t, tenant_repo(&t), c[0], c[2], NULL));

	r = api("GET", "/api/v1/plans?limit=0", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "limit");
	resp_free(r);
	r = api("GET", "/api/v1/plans?limit=101", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 422);
	resp_free(r);
	r = api("GET", "/api/v1/plans?offset=-1", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 422);
	resp_free(r);

	r = api("GET", "/api/v1/plans?limit=2&environment=dev", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_total(r), 3);
	ck_assert_int_eq((long long)resp_len(r), 2);
	ck_assert_str_eq(resp_header(r, "Link"),
			 "</api/v1/plans?environment=dev&limit=2&offset=2>; rel=\"next\", "
			 "</api/v1/plans?environment=dev&limit=2&offset=2>; rel=\"last\"");
	ck_assert_str_eq(resp_str(r, "0.status"), "pending");
	ck_assert_str_eq(resp_str(r, "0.created_by"), t.email);
	resp_free(r);

	snprintf(path, sizeof(path), "/api/v1/plans?offset=50");
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_int_eq(resp_total(r), 3);
	ck_assert_str_eq(r->body, "[]");
	/* past the end, the way back leads to the last page */
	ck_assert_str_eq(resp_header(r, "Link"),
			 "</api/v1/plans?limit=20&offset=0>; rel=\"prev\", "
			 "</api/v1/plans?limit=20&offset=0>; rel=\"first\"");
	resp_free(r);

	r = api("GET", "/api/v1/plans?status=approved", t.token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 0);
	resp_free(r);
	r = api("GET", "/api/v1/plans?status=bogus", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 422);
	resp_free(r);
	for (i = 0; i < 4; i++)
		free(c[i]);
	tenant_free(&t);
}
END_TEST

static struct resp *review(const char *token, const char *id, const char *verb,
			   const char *body)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/plans/%s/%s", id, verb);
	return api_json("POST", path, token, body);
}

START_TEST(test_approve__twice_is_409_reject_is_final_viewer_is_403)
{
	struct tenant t;
	char viewer[160], args[512], *id, *vtoken;
	struct resp *r;

	tenant_new(&t, "approve");
	id = generate_c1_c2(&t);
	r = review(t.token, id, "approve", "{\"comment\":\"looks right\"}");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "approved");
	ck_assert_str_eq(resp_str(r, "approvals.0.user_email"), t.email);
	ck_assert_str_eq(resp_str(r, "approvals.0.comment"), "looks right");
	ck_assert_str_eq(resp_str(r, "approvals.0.action"), "approved");
	resp_free(r);
	r = review(t.token, id, "approve", "{}");
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "already_approved");
	resp_free(r);

	/* a viewer can read but not approve */
	snprintf(viewer, sizeof(viewer), "%s@example.com", unique("pviewer"));
	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role viewer",
		 t.tenant_id, viewer);
	ck_assert_int_eq(run_cli(args, "viewer password 1\n", NULL), 0);
	snprintf(args, sizeof(args), "{\"email\":\"%s\",\"password\":\"viewer password 1\"}",
		 viewer);
	r = api_json("POST", "/api/v1/auth/login", NULL, args);
	vtoken = must_str(r, "access_token");
	resp_free(r);
	r = review(vtoken, id, "approve", "{}");
	ck_assert_status(r, 403);
	resp_free(r);
	{
		char path[256];

		snprintf(path, sizeof(path), "/api/v1/plans/%s", id);
		r = api("GET", path, vtoken, NULL, NULL, NULL);
		ck_assert_status(r, 200);
		resp_free(r);
	}

	r = review(t.token, id, "reject", "{}");
	ck_assert_status(r, 422);
	resp_free(r);
	r = review(t.token, id, "reject", "{\"reason\":\"wrong window\"}");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "rejected");
	ck_assert_str_eq(resp_str(r, "approvals.1.action"), "rejected");
	ck_assert_str_eq(resp_str(r, "approvals.1.comment"), "wrong window");
	resp_free(r);
	r = review(t.token, id, "approve", "{}");
	ck_assert_status(r, 409);
	resp_free(r);
	r = review(t.token, id, "reject", "{\"reason\":\"again\"}");
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_state");
	resp_free(r);
	free(vtoken);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_tenants__another_tenant_gets_404_everywhere)
{
	struct tenant a, b;
	char path[256], *id;
	struct resp *r;
	const char *gets[] = { NULL, "/api/v1/models/raw.orders",
			       "/api/v1/models/raw.orders/lineage" };
	size_t i;

	tenant_new(&a, "owner");
	tenant_new(&b, "other");
	id = generate_c1_c2(&a);
	for (i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		if (gets[i] == NULL)
			snprintf(path, sizeof(path), "/api/v1/plans/%s", id);
		else
			snprintf(path, sizeof(path), "%s", gets[i]);
		r = api("GET", path, b.token, NULL, NULL, NULL);
		ck_assert_msg(r->status == 404, "%s: %ld", path, r->status);
		resp_free(r);
		r = api("GET", path, a.token, NULL, NULL, NULL);
		ck_assert_msg(r->status == 200, "%s: %ld", path, r->status);
		resp_free(r);
	}
	r = review(b.token, id, "approve", "{}");
	ck_assert_status(r, 404);
	resp_free(r);
	r = review(b.token, id, "reject", "{\"reason\":\"x\"}");
	ck_assert_status(r, 404);
	resp_free(r);
	r = api("GET", "/api/v1/plans", b.token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 0);
	resp_free(r);
	r = api("GET", "/api/v1/models", b.token, NULL, NULL, NULL);
	ck_assert_int_eq(resp_total(r), 0);
	resp_free(r);
	r = api("GET", "/api/v1/plans/not-a-plan-id", a.token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);
	free(id);
	tenant_free(&a);
	tenant_free(&b);
}
END_TEST

static long long total_of(const struct tenant *t, const char *query)
{
	char path[256];
	struct resp *r;
	long long n;

	snprintf(path, sizeof(path), "/api/v1/models%s", query);
	r = api("GET", path, t->token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	n = resp_total(r);
	resp_free(r);
	return n;
}

START_TEST(test_models__filters_each_narrow_the_list)
{
	struct tenant t;
	struct resp *r;

	tenant_new(&t, "models");
	free(generate_c1_c2(&t));
	ck_assert_int_eq(total_of(&t, ""), 6);
	ck_assert_int_eq(total_of(&t, "?kind=FULL_REFRESH"), 4);
	ck_assert_int_eq(total_of(&t, "?kind=MERGE_BY_KEY"), 1);
	ck_assert_int_eq(total_of(&t, "?owner=finance"), 3);
	ck_assert_int_eq(total_of(&t, "?tag=core"), 2);
	ck_assert_int_eq(total_of(&t, "?tag=core&owner=finance"), 1);
	ck_assert_int_eq(total_of(&t, "?search=ORDERS"), 2);
	ck_assert_int_eq(total_of(&t, "?search=nothing-like-this"), 0);

	r = api("GET", "/api/v1/models?search=ltv", t.token, NULL, NULL, NULL);
	ck_assert_str_eq(resp_str(r, "0.name"), "analytics.ltv");
	ck_assert_str_eq(resp_str(r, "0.materialization"), "MERGE");
	ck_assert_str_eq(resp_str(r, "0.unique_key"), "customer_id");
	ck_assert_ptr_nonnull(strstr(r->body, "\"watermark_range\":null"));
	resp_free(r);

	/* a name whose dot arrives percent-encoded */
	r = api("GET", "/api/v1/models/staging%2Eorders_clean", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "name"), "staging.orders_clean");
	ck_assert_str_eq(resp_str(r, "dependencies.0"), "raw.orders");
	ck_assert_str_eq(resp_str(r, "dependents.0"), "analytics.daily");
	ck_assert_str_eq(resp_str(r, "dependents.2"), "analytics.revenue");
	ck_assert_str_eq(resp_str(r, "file_path"), "models/staging/orders_clean.sql");
	ck_assert_ptr_nonnull(strstr(resp_str(r, "sql"), "WHERE amount > 0"));
	ck_assert_str_eq(resp_str(r, "tags.1"), "sla");
	ck_assert_ptr_nonnull(resp_str(r, "versions.0.content_hash"));
	resp_free(r);
	r = api("GET", "/api/v1/models/no.such_model", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 404);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

START_TEST(test_lineage__middle_of_a_diamond)
{
	struct tenant t;
	struct resp *r;

	tenant_new(&t, "lineage");
	free(generate_c1_c2(&t));
	r = api("GET", "/api/v1/models/staging.orders_clean/lineage", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "model"), "staging.orders_clean");
	ck_assert_ptr_nonnull(strstr(r->body, "\"upstream\":[\"raw.orders\"]"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"downstream\":[\"analytics.daily\","
				      "\"analytics.ltv\",\"analytics.revenue\"]"));
	ck_assert_ptr_nonnull(strstr(r->body, "{\"source\":\"raw.orders\","
				      "\"target\":\"staging.orders_clean\"}"));
	ck_assert_ptr_null(strstr(r->body, "staging.customers"));
	resp_free(r);

	r = api("GET", "/api/v1/models/raw.orders/lineage?direction=downstream&depth=1", t.token,
		NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"downstream\":[\"staging.customers\","
				      "\"staging.orders_clean\"]"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"upstream\":[]"));
	resp_free(r);
	r = api("GET", "/api/v1/models/analytics.revenue/lineage?direction=upstream", t.token,
		NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r->body, "\"upstream\":[\"staging.customers\","
				      "\"staging.orders_clean\",\"raw.orders\"]"));
	resp_free(r);
	r = api("GET", "/api/v1/models/raw.orders/lineage?direction=sideways", t.token, NULL,
		NULL, NULL);
	ck_assert_status(r, 422);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

Suite *suite_plans(void)
{
	Suite *s = suite_create("plans");
	TCase *tc = tcase_create("plans");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_generate__201_then_200_and_matches_the_cli);
	tcase_add_test(tc, test_generate__repo_path_must_stay_inside_the_roots);
	tcase_add_test(tc, test_generate__unknown_sha_env_and_cycles);
	tcase_add_test(tc, test_list__pagination_edges_and_link);
	tcase_add_test(tc, test_approve__twice_is_409_reject_is_final_viewer_is_403);
	tcase_add_test(tc, test_tenants__another_tenant_gets_404_everywhere);
	tcase_add_test(tc, test_models__filters_each_narrow_the_list);
	tcase_add_test(tc, test_lineage__middle_of_a_diamond);
	suite_add_tcase(s, tc);
	return s;
}
