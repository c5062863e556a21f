/* test_workflow.c: login, remote plan, review, apply with progress, runs; tokens; errors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jwt.h>

#include "clirun.h"

static void login(const struct cli_user *u, const char *email)
{
	struct run r;

	/* the password from stdin, as a script would give it */
	cli(&r, u, NULL, TEST_PASSWORD "\n", "login --email %s", email);
	ck_assert_msg(r.status == 0, "login: %s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Logged in to"));
	ck_assert_ptr_null(strstr(r.out, TEST_PASSWORD));
	run_free(&r);
}

/* The newest plan's id, from `plans --json`. */
static char *newest_plan(const struct cli_user *u)
{
	json_object *list;
	struct run r;
	char *id;

	cli(&r, u, NULL, NULL, "plans --json");
	ck_assert_int_eq(r.status, 0);
	list = json_tokener_parse(r.out);
	ck_assert_msg(json_object_is_type(list, json_type_array), "%s", r.out);
	id = strdup(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(list, 0), "plan_id")));
	json_object_put(list);
	run_free(&r);
	return id;
}

static void review_steps(const struct cli_user *u, const char *id)
{
	json_object *plan;
	struct run r;
	char want[64];

	cli(&r, u, NULL, NULL, "plans show %.12s", id);
	ck_assert_msg(r.status == 0, "%s", r.err);
	snprintf(want, sizeof(want), "Plan %.12s for dev", id);
	ck_assert_ptr_nonnull(strstr(r.out, want));
	ck_assert_ptr_nonnull(strstr(r.out, "Status: pending (0 of 1 approvals)"));
	ck_assert_ptr_nonnull(strstr(r.out, "6 steps in 3 parallel groups"));
	ck_assert_ptr_nonnull(strstr(r.out, "INCREMENTAL 2026-11-04..2026-11-05"));
	run_free(&r);
	cli(&r, u, NULL, NULL, "plans show %s --json", id);
	ck_assert_int_eq(r.status, 0);
	plan = json_tokener_parse(r.out);
	ck_assert_msg(plan != NULL, "not JSON: %s", r.out);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(plan, "plan_id")), id);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(plan, "status")), "pending");
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(plan, "steps")), 6);
	json_object_put(plan);
	run_free(&r);
}

/* Each step's START line comes before its OK line, steps in plan order, then the summary. */
static void check_progress(struct timed_line *lines, size_t n)
{
	int step, start, end, prev_start = -1, last = (int)n - 1;
	char s[32], e[32];

	for (step = 1; step <= 6; step++) {
		snprintf(s, sizeof(s), "[%d/6] START ", step);
		snprintf(e, sizeof(e), "[%d/6] OK ", step);
		start = line_with(lines, n, s);
		end = line_with(lines, n, e);
		ck_assert_msg(start >= 0 && end > start, "step %d: start %d, end %d", step, start,
			      end);
		ck_assert_msg(start > prev_start, "step %d started out of order", step);
		prev_start = start;
	}
	ck_assert_ptr_nonnull(strstr(lines[last].text, "applied: 6 steps succeeded, 0 failed, "
				     "0 skipped"));
	ck_assert_int_eq(line_with(lines, n, "[1/6] START raw.orders (FULL_REFRESH)"), 1);
	ck_assert_int_eq(line_with(lines, n, "[1/6] OK    raw.orders (FULL_REFRESH) in 2."), 2);
	/* raw.orders sleeps two seconds: its start was shown while the apply was in
	 * flight (the runs are polled on a second connection), not at the end */
	ck_assert_msg(lines[last].at - lines[1].at > 1.0, "START at %.2fs, summary at %.2fs",
		      lines[1].at, lines[last].at);
}

START_TEST(test_cli__login_plan_review_apply_runs)
{
	struct timed_line *lines;
	struct tenant t;
	struct cli_user u;
	struct stat st;
	struct run r;
	size_t n;
	json_object *runs;
	char *id;

	tenant_new(&t, "cliflow");
	user_new(&u);
	login(&u, t.email);
	ck_assert_int_eq(stat(u.cred, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	/* any revisions: tags here; the server resolves them in its repository */
	cli(&r, &u, NULL, NULL, "remote plan %s tags/c2 slow --as-of 2026-11-05", getenv("IL_TEST_REPO"));
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "New plan stored."));
	ck_assert_ptr_nonnull(strstr(r.out, "  ~ raw.orders\n"));
	run_free(&r);
	id = newest_plan(&u);
	review_steps(&u, id);

	cli(&r, &u, NULL, NULL, "approve %.8s --comment 'looks right'", id);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "is now approved (1 of 1 approvals)"));
	run_free(&r);

	ck_assert_int_eq(cli_timed(&lines, &n, &u, "apply %s", id), 0);
	check_progress(lines, n);
	timed_free(lines, n);

	cli(&r, &u, NULL, NULL, "runs --plan %.12s --json", id);
	ck_assert_int_eq(r.status, 0);
	runs = json_tokener_parse(r.out);
	ck_assert_int_eq((int)json_object_array_length(runs), 6);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(runs, 0), "status")), "SUCCESS");
	json_object_put(runs);
	run_free(&r);
	cli(&r, &u, NULL, NULL, "runs --plan %s", id);
	ck_assert_ptr_nonnull(strstr(r.out, "analytics.daily"));
	ck_assert_ptr_nonnull(strstr(r.out, "INCREMENTAL 2026-11-04..2026-11-05"));
	run_free(&r);
	free(id);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

START_TEST(test_cli__a_failed_step_fails_the_apply)
{
	struct timed_line *lines;
	struct cli_user u;
	struct tenant t;
	struct run r;
	size_t n;
	char *id;

	tenant_new(&t, "clifail");
	user_new(&u);
	login(&u, t.email);
	/* staging.customers reads a column that does not exist; revenue is downstream of it */
	cli(&r, &u, NULL, NULL, "remote plan %s tags/c4 tags/bad --as-of 2026-11-05", getenv("IL_TEST_REPO"));
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	id = newest_plan(&u);
	cli(&r, &u, NULL, NULL, "approve %s", id);
	run_free(&r);
	ck_assert_int_eq(cli_timed(&lines, &n, &u, "apply %s", id), 1);
	ck_assert_int_ge(line_with(lines, n, "[1/2] FAIL  staging.customers (FULL_REFRESH) in "), 0);
	ck_assert_int_ge(line_with(lines, n, "[2/2] SKIP  analytics.revenue (FULL_REFRESH): "
				   "skipped: upstream step"), 0);
	ck_assert_int_eq(line_with(lines, n, "[2/2] START"), -1);   /* it never started */
	ck_assert_ptr_nonnull(strstr(lines[n - 1].text, "failed: 0 steps succeeded, 1 failed, "
				     "1 skipped"));
	timed_free(lines, n);
	free(id);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

/* The stored credentials with the access token replaced by an expired one. */
static void expire_access_token(const struct cli_user *u, const char *sub, const char *tenant)
{
	char *secret = conf_value("jwt_secret"), *enc, *text = slurp(u->cred);
	json_object *cred = json_tokener_parse(text);
	long now = (long)time(NULL);
	jwt_t *jwt;
	FILE *f;

	ck_assert_ptr_nonnull(cred);
	ck_assert_int_eq(jwt_new(&jwt), 0);
	jwt_add_grant(jwt, "sub", sub);
	jwt_add_grant(jwt, "tenant_id", tenant);
	jwt_add_grant(jwt, "role", "admin");
	jwt_add_grant(jwt, "jti", "cli-expired");
	jwt_add_grant(jwt, "iss", "ironlayer");
	jwt_add_grant(jwt, "typ", "access");
	jwt_add_grant_int(jwt, "iat", now - 1000);
	jwt_add_grant_int(jwt, "exp", now - 100);
	jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
	enc = jwt_encode_str(jwt);
	json_object_object_add(cred, "access_token", json_object_new_string(enc));
	f = fopen(u->cred, "w");
	ck_assert_ptr_nonnull(f);
	fputs(json_object_to_json_string(cred), f);
	fclose(f);
	free(enc);
	jwt_free(jwt);
	json_object_put(cred);
	free(text);
	free(secret);
}

START_TEST(test_cli__tokens_refresh_env_token_and_logout)
{
	struct cli_user u;
	struct tenant t;
	struct run r;
	char env[4096], *user_id, *before, *after;
	struct resp *me;

	tenant_new(&t, "clitok");
	user_new(&u);
	/* IRONLAYER_TOKEN: no login, nothing stored */
	snprintf(env, sizeof(env), "IRONLAYER_TOKEN=%s", t.token);
	cli(&r, &u, env, NULL, "envs --json");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "\"name\": \"dev\""));
	run_free(&r);
	before = slurp(u.cred);
	ck_assert_str_eq(before, "");
	free(before);

	login(&u, t.email);
	me = api("GET", "/api/v1/auth/me", t.token, NULL, NULL, NULL);
	user_id = must_str(me, "id");
	resp_free(me);
	/* an expired access token is traded for a new pair with the refresh token */
	expire_access_token(&u, user_id, t.tenant_id);
	before = slurp(u.cred);
	cli(&r, &u, NULL, NULL, "envs");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "dev "));
	run_free(&r);
	after = slurp(u.cred);
	ck_assert_str_ne(before, after);

	cli(&r, &u, NULL, NULL, "logout");
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	free(after);
	after = slurp(u.cred);
	ck_assert_str_eq(after, "");
	cli(&r, &u, NULL, NULL, "plans");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "not logged in"));
	run_free(&r);
	free(before);
	free(after);
	free(user_id);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

static void expect_failure(const struct cli_user *u, int status, const char *needle,
			   const char *args)
{
	struct run r;

	cli(&r, u, NULL, NULL, "%s", args);
	ck_assert_msg(r.status == status, "%s: exit %d: %s", args, r.status, r.err);
	ck_assert_msg(strstr(r.err, needle) != NULL, "%s: wanted '%s' in: %s", args, needle,
		      r.err);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
}

START_TEST(test_cli__errors_are_the_servers_detail_and_exit_non_zero)
{
	struct cli_user u;
	struct tenant t;
	struct resp *r;
	char args[1024];

	tenant_new(&t, "clierr");
	user_new(&u);
	expect_failure(&u, 1, "not logged in to http://127.0.0.1", "plans");
	login(&u, t.email);
	expect_failure(&u, 1, "plan 0000000000000000000000000000000000000000000000000000000000000000"
		       " not found", "approve 0000000000000000000000000000000000000000000000000000"
		       "000000000000");
	expect_failure(&u, 1, "no plan id starts with abcd", "plans show abcd");
	expect_failure(&u, 1, "repo_path: repo_path is outside your repository roots",
		       "remote plan /etc tags/c1 tags/c2");
	expect_failure(&u, 1, "repo_path: repo_path must be an absolute path",
		       "remote plan relative/path tags/c1 tags/c2");
	expect_failure(&u, 1, "base_sha: must be 7 to 40 hexadecimal digits",
		       "remote plan /etc c1 tags/c2");
	snprintf(args, sizeof(args), "remote plan %s tags/c1 nope", getenv("IL_TEST_REPO"));
	expect_failure(&u, 1, "target_sha: does not name a commit in the repository", args);
	expect_failure(&u, 2, "unknown option '--bogus'", "runs --bogus");
	/* the stored tokens are for the server they came from */
	expect_failure(&u, 1, "not logged in to http://127.0.0.1:9", "plans --url http://127.0.0.1:9");
	{
		struct run rr;

		cli(&rr, &u, "IRONLAYER_TOKEN=x", NULL, "plans --url http://127.0.0.1:9");
		ck_assert_int_eq(rr.status, 1);
		ck_assert_ptr_nonnull(strstr(rr.err, "cannot reach http://127.0.0.1:9"));
		run_free(&rr);
	}
	snprintf(args, sizeof(args), "--config %s/ironlayer.conf user list --tenant nope",
		 getenv("IL_TEST_VAR"));
	expect_failure(&u, 1, "'nope' is not a tenant id", args);

	/* without billing, a limit names the configuration key that raises it */
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"qa\",\"executor\":\"postgres\",\"schema_prefix\":\"qa\"}");
	ck_assert_status(r, 201);
	resp_free(r);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"staging\",\"executor\":\"postgres\",\"schema_prefix\":\"st\"}");
	ck_assert_status(r, 402);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "tier_community_environments"));
	ck_assert_ptr_null(strstr(resp_str(r, "detail"), "upgrade"));
	resp_free(r);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

Suite *suite_workflow(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc = tcase_create("workflow");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cli__login_plan_review_apply_runs);
	tcase_add_test(tc, test_cli__a_failed_step_fails_the_apply);
	tcase_add_test(tc, test_cli__tokens_refresh_env_token_and_logout);
	tcase_add_test(tc, test_cli__errors_are_the_servers_detail_and_exit_non_zero);
	suite_add_tcase(s, tc);
	return s;
}
