/* test_apply_limits.c: deadlines the model SQL cannot move, the apply pool, per-tenant limits */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apply_util.h"

/* A postgres environment of t in the shared warehouse with its own step time limit. */
static void env_with_step_timeout(const struct tenant *t, const char *name, long seconds)
{
	char body[512];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"executor\":\"postgres\",\"schema_prefix\":"
		 "\"%s\",\"step_timeout_seconds\":%ld}", name, unique("lim"), seconds);
	r = api_json("POST", "/api/v1/environments", t->token, body);
	ck_assert_status(r, 201);
	ck_assert_int_eq(resp_int(r, "step_timeout_seconds"), seconds);
	resp_free(r);
}

/* The environment's schema prefix. */
static char *env_prefix(const struct tenant *t, const char *env)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT schema_prefix FROM environments WHERE tenant_id = '%s'"
		 " AND name = '%s'", t->tenant_id, env);
	return psql1(sql);
}

static const struct model_file lift_then_sleep[] = {
	/* the session's statement_timeout is gone for every later step */
	{ "models/lift.sql", "-- name: lim.lift\n-- kind: FULL_REFRESH\n"
	  "SELECT set_config('statement_timeout', '0', false) AS lifted\n" },
	{ "models/nap.sql", "-- name: lim.nap\n-- kind: FULL_REFRESH\n"
	  "SELECT l.lifted, s.slept FROM {{ ref('lim.lift') }} AS l\n"
	  "CROSS JOIN (SELECT pg_sleep(30)::text AS slept) AS s\n" },
	{ "models/after.sql", "-- name: lim.after\n-- kind: FULL_REFRESH\n"
	  "SELECT lifted FROM {{ ref('lim.nap') }}\n" },
};

START_TEST(test_deadline__lifted_statement_timeout_cannot_outlast_step_timeout)
{
	struct tenant t;
	struct bg_apply b;
	char repo[512], base[48], head[48], *id, *prefix;
	const char *err = NULL;
	struct resp *r;
	char path[256];

	limits_tenant(&t, "deadline");
	env_with_step_timeout(&t, "fast", 3);
	repo_new(repo, base, &t, "lift");
	repo_commit(repo, head, lift_then_sleep, 3);
	id = plan_approved(&t, repo, base, head, "fast");
	bg_apply_start(&b, &t, id);
	/* progress, from another connection while the apply runs */
	wait_run_status(&t, id, "lim.nap", "RUNNING", 10);
	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s", id);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_str_eq(run_of(r, "lim.lift", NULL), "SUCCESS");
	ck_assert_ptr_null(run_of(r, "lim.after", NULL));
	resp_free(r);
	bg_apply_join(&b);
	ck_assert_int_eq(b.status, 200);
	ck_assert_str_eq(b.plan_status, "failed");
	/* 3 s, not the 30 s the SQL asked for */
	ck_assert_msg(b.seconds < 15, "the apply took %.1f s", b.seconds);

	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_str_eq(run_of(r, "lim.nap", &err), "FAIL");
	ck_assert_msg(err != NULL && strstr(err, "timed out after 3 s") != NULL, "error: %s", err);
	ck_assert_str_eq(run_of(r, "lim.after", &err), "CANCELLED");
	ck_assert_ptr_nonnull(strstr(err, "did not succeed"));
	resp_free(r);
	/* nothing half-built under the model's name, and the sleep was cancelled */
	prefix = env_prefix(&t, "fast");
	ck_assert_int_eq(wh_number(tenant_wh_db(&t), "SELECT count(*) FROM pg_class c JOIN "
				   "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
				   "'%s_lim' AND c.relname LIKE 'nap%%'", prefix), 0);
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_stat_activity WHERE "
				   "query LIKE '%%pg_sleep(30)%%' AND pid <> pg_backend_pid()"), 0);
	free(prefix);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_deadline__databricks_statement_is_cancelled_at_the_step_deadline)
{
	static const struct model_file hang[] = {
		/* the fake runs a statement naming slow_me until it is cancelled */
		{ "models/hang.sql", "-- name: lake.hang\n-- kind: FULL_REFRESH\n"
		  "SELECT 'slow_me' AS marker\n" },
	};
	struct tenant t;
	char body[1024], repo[512], base[48], head[48], *id, *record, want[256];
	const char *err = NULL, *statement;
	double t0;
	struct resp *r;

	limits_tenant(&t, "dbxdeadline");
	snprintf(body, sizeof(body),
		 "{\"name\":\"lake\",\"executor\":\"databricks\",\"catalog\":\"main\","
		 "\"schema_prefix\":\"%s\",\"step_timeout_seconds\":2,\"connection\":{\"host\":"
		 "\"%s\",\"warehouse_id\":\"%s\",\"token\":\"%s\"}}", unique("dl"),
		 getenv("IL_TEST_DATABRICKS_URL"), getenv("IL_TEST_DATABRICKS_WAREHOUSE"),
		 getenv("IL_TEST_DATABRICKS_TOKEN"));
	r = api_json("POST", "/api/v1/environments", t.token, body);
	ck_assert_status(r, 201);
	resp_free(r);
	repo_new(repo, base, &t, "hang");
	repo_commit(repo, head, hang, 1);
	id = plan_approved(&t, repo, base, head, "lake");
	t0 = now_s();
	r = apply_plan(&t, id);
	ck_assert_status(r, 200);
	/* the step's 2 s, before databricks_timeout_seconds (5 s in the test stack) */
	ck_assert_msg(now_s() - t0 < 4.5, "the apply took %.1f s", now_s() - t0);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_str_eq(run_of(r, "lake.hang", &err), "FAIL");
	ck_assert_msg(err != NULL && strcmp(err, "timed out after 2 s; statement cancelled") == 0,
		      "error: %s", err);
	statement = resp_str(r, "runs.0.external_run_id");
	ck_assert_ptr_nonnull(statement);
	/* the fake received the cancel of that very statement */
	record = databricks_record();
	snprintf(want, sizeof(want), "\"path\": \"/api/2.0/sql/statements/%s/cancel\"", statement);
	ck_assert_msg(strstr(record, want) != NULL, "no cancel of %s recorded", statement);
	free(record);
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_deadline__unanswering_warehouse_fails_by_connect_timeout)
{
	static const struct model_file one[] = {
		{ "models/one.sql", "-- name: far.one\n-- kind: FULL_REFRESH\nSELECT 1 AS id\n" },
	};
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct tenant t;
	char body[1024], repo[512], base[48], head[48], *id;
	const char *err = NULL;
	double t0;
	struct resp *r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a loopback listener that never accepts: the handshake completes in the
	 * kernel, and nothing ever answers the client's first message. On the
	 * address the test stack lets tenants' connections reach. */
	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, getenv("IL_TEST_PG_TCP"), &sa.sin_addr), 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);

	limits_tenant(&t, "silent");
	/* connect_timeout=0 (wait forever) in the tenant's DSN does not count */
	snprintf(body, sizeof(body), "{\"name\":\"far\",\"executor\":\"postgres\",\"schema_prefix\":"
		 "\"%s\",\"connection\":\"host=%s port=%d dbname=wh user=u password=p "
		 "connect_timeout=0\"}", unique("far"), getenv("IL_TEST_PG_TCP"), ntohs(sa.sin_port));
	r = api_json("POST", "/api/v1/environments", t.token, body);
	ck_assert_status(r, 201);
	resp_free(r);
	repo_new(repo, base, &t, "far");
	repo_commit(repo, head, one, 1);
	id = plan_approved(&t, repo, base, head, "far");
	t0 = now_s();
	r = apply_plan(&t, id);
	ck_assert_status(r, 200);
	/* warehouse_connect_timeout_seconds is 2 in the test stack */
	ck_assert_msg(now_s() - t0 < 8, "the apply took %.1f s", now_s() - t0);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_str_eq(run_of(r, "far.one", &err), "FAIL");
	ck_assert_msg(err != NULL && strstr(err, "timed out after 2 s") != NULL, "error: %s", err);
	resp_free(r);
	close(fd);
	free(id);
	tenant_free(&t);
}
END_TEST

static const struct model_file sleepy[] = {
	{ "models/sleepy.sql", "-- name: busy.sleepy\n-- kind: FULL_REFRESH\n"
	  "SELECT 1 AS id FROM (SELECT pg_sleep(6)) AS s\n" },
};

/* A tenant with an approved plan of the sleepy model in dev. */
static char *sleepy_plan(struct tenant *t, const char *prefix)
{
	char repo[512], base[48], head[48];

	limits_tenant(t, prefix);
	repo_new(repo, base, t, "sleepy");
	repo_commit(repo, head, sleepy, 1);
	return plan_approved(t, repo, base, head, "dev");
}

/* Sends method path as t and checks it answered within seconds. */
static struct resp *timed(const char *method, const char *path, const struct tenant *t,
			  const char *body, double seconds)
{
	double t0 = now_s();
	struct resp *r = body ? api_json(method, path, t ? t->token : NULL, body) :
			 api(method, path, t ? t->token : NULL, NULL, NULL, NULL);

	ck_assert_msg(now_s() - t0 < seconds, "%s %s took %.2f s", method, path, now_s() - t0);
	return r;
}

START_TEST(test_pool__full_apply_pool_answers_busy_at_once_and_reads_stay_fast)
{
	struct tenant a, b, c;
	struct bg_apply ba, bb;
	char *pa = sleepy_plan(&a, "busya"), *pb = sleepy_plan(&b, "busyb");
	char *pc = sleepy_plan(&c, "busyc"), path[256], gen[1024];
	struct resp *r;
	int i;

	/* two tenants' applies take the test stack's two apply workers (one after
	 * the other: the first apply of a tenant prepares its warehouse role, and
	 * two of those at once can collide in the shared warehouse's catalog) */
	bg_apply_start(&ba, &a, pa);
	wait_run_status(&a, pa, "busy.sleepy", "RUNNING", 10);
	bg_apply_start(&bb, &b, pb);
	wait_run_status(&b, pb, "busy.sleepy", "RUNNING", 10);
	for (i = 0; i < 5; i++) {
		r = timed("GET", "/api/v1/health", NULL, NULL, 2);
		ck_assert_status(r, 200);
		resp_free(r);
		r = timed("GET", "/api/v1/plans", &c, NULL, 2);
		ck_assert_status(r, 200);
		resp_free(r);
	}
	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", pc);
	r = timed("POST", path, &c, "{}", 2);
	ck_assert_status(r, 503);
	ck_assert_str_eq(resp_str(r, "code"), "apply_busy");
	ck_assert_ptr_nonnull(resp_header(r, "Retry-After"));
	resp_free(r);
	/* plan generation is long work too: it waits for a free apply worker the same way */
	snprintf(gen, sizeof(gen), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":\"%s\"}",
		 getenv("IL_TEST_REPO"), "0000000000000000000000000000000000000000",
		 "0000000000000000000000000000000000000000");
	r = timed("POST", "/api/v1/plans/generate", &c, gen, 2);
	ck_assert_status(r, 503);
	ck_assert_str_eq(resp_str(r, "code"), "apply_busy");
	resp_free(r);

	bg_apply_join(&ba);
	bg_apply_join(&bb);
	ck_assert_int_eq(ba.status, 200);
	ck_assert_int_eq(bb.status, 200);
	ck_assert_str_eq(ba.plan_status, "applied");
	ck_assert_str_eq(bb.plan_status, "applied");
	/* the slots are free again: the refused apply runs now */
	r = apply_plan(&c, pc);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	free(pa);
	free(pb);
	free(pc);
	tenant_free(&a);
	tenant_free(&b);
	tenant_free(&c);
}
END_TEST

START_TEST(test_tenant__second_concurrent_apply_is_429)
{
	static const struct model_file other[] = {
		{ "models/other.sql", "-- name: busy.other\n-- kind: FULL_REFRESH\nSELECT 2 AS id\n" },
	};
	struct tenant t;
	struct bg_apply b;
	char repo[512], base[48], first[48], second[48], *p1, *p2;
	struct resp *r;

	limits_tenant(&t, "twice");
	repo_new(repo, base, &t, "twice");
	repo_commit(repo, first, sleepy, 1);
	repo_commit(repo, second, other, 1);
	p1 = plan_approved(&t, repo, base, first, "dev");
	p2 = plan_approved(&t, repo, first, second, "dev");
	r = api("GET", "/api/v1/billing/plans", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(resp_int(r, "plans.0.limits.max_concurrent_applies"), 1);
	resp_free(r);

	bg_apply_start(&b, &t, p1);
	wait_run_status(&t, p1, "busy.sleepy", "RUNNING", 10);
	r = apply_plan(&t, p2);
	ck_assert_status(r, 429);
	ck_assert_str_eq(resp_str(r, "code"), "too_many_applies");
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "community tier"));
	ck_assert_ptr_nonnull(resp_header(r, "Retry-After"));
	resp_free(r);
	bg_apply_join(&b);
	ck_assert_int_eq(b.status, 200);
	/* the refused plan was left as it was: approved, and it applies now */
	r = apply_plan(&t, p2);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	free(p1);
	free(p2);
	tenant_free(&t);
}
END_TEST

START_TEST(test_environments__step_timeout_seconds_only_lowers_the_servers)
{
	struct tenant t;
	struct resp *r;

	limits_tenant(&t, "steptime");
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"slow\",\"executor\":\"postgres\",\"schema_prefix\":\"x\","
		     "\"step_timeout_seconds\":901}");
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "step_timeout_seconds");
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail.0.msg"), "at most 900"));
	resp_free(r);
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"slow\",\"executor\":\"postgres\",\"schema_prefix\":\"x\","
		     "\"step_timeout_seconds\":0}");
	ck_assert_status(r, 422);
	resp_free(r);
	env_with_step_timeout(&t, "quick", 30);
	r = api("GET", "/api/v1/environments", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "0.name"), "dev");
	ck_assert_int_eq(resp_int(r, "0.step_timeout_seconds"), 900);  /* the server's */
	ck_assert_str_eq(resp_str(r, "1.name"), "quick");
	ck_assert_int_eq(resp_int(r, "1.step_timeout_seconds"), 30);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

Suite *suite_apply_limits(void)
{
	Suite *s = suite_create("apply_limits");
	TCase *tc = tcase_create("apply_limits");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_deadline__lifted_statement_timeout_cannot_outlast_step_timeout);
	tcase_add_test(tc, test_deadline__databricks_statement_is_cancelled_at_the_step_deadline);
	tcase_add_test(tc, test_deadline__unanswering_warehouse_fails_by_connect_timeout);
	tcase_add_test(tc, test_pool__full_apply_pool_answers_busy_at_once_and_reads_stay_fast);
	tcase_add_test(tc, test_tenant__second_concurrent_apply_is_429);
	tcase_add_test(tc, test_environments__step_timeout_seconds_only_lowers_the_servers);
	suite_add_tcase(s, tc);
	return s;
}
