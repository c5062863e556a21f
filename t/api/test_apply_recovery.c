/* test_apply_recovery.c: an apply whose worker or state database goes away mid-step */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_util.h"

/* rec.t has 5 rows at the first commit; the second rebuilds it with 7, slowly. */
static const struct model_file five_rows[] = {
	{ "models/t.sql", "-- name: rec.t\n-- kind: FULL_REFRESH\n"
	  "SELECT g AS id FROM generate_series(1, 5) AS g\n" },
};
static const struct model_file seven_rows_slowly[] = {
	{ "models/t.sql", "-- name: rec.t\n-- kind: FULL_REFRESH\n"
	  "SELECT g AS id FROM generate_series(1, 7) AS g CROSS JOIN (SELECT pg_sleep(4)) AS s\n" },
};

struct recovery {
	struct tenant t;
	char *plan_id;           /* the slow rebuild, approved */
	struct bg_apply apply;   /* its first apply, under way */
};

/* rec.t built with 5 rows, and the apply of its slow rebuild started and running. */
static void start_slow_rebuild(struct recovery *x, const char *prefix)
{
	char repo[512], base[48], c1[48], c2[48], *first;
	struct resp *r;

	limits_tenant(&x->t, prefix);
	repo_new(repo, base, &x->t, "rec");
	repo_commit(repo, c1, five_rows, 1);
	repo_commit(repo, c2, seven_rows_slowly, 1);
	first = plan_approved(&x->t, repo, base, c1, "dev");
	r = apply_plan(&x->t, first);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	free(first);
	ck_assert_int_eq(wh_number(tenant_wh_db(&x->t), "SELECT count(*) FROM \"%s_rec\".t",
				   x->t.prefix), 5);
	x->plan_id = plan_approved(&x->t, repo, c1, c2, "dev");
	bg_apply_start(&x->apply, &x->t, x->plan_id);
	wait_run_status(&x->t, x->plan_id, "rec.t", "RUNNING", 10);
}

/*
 * What anyone sees next: the plan failed (within a few seconds, the time the
 * state database takes to notice the dead session), its run FAIL "worker
 * lost" and none RUNNING; rec.t has its complete old rows; applying the plan
 * again builds the new ones.
 */
static void assert_recovered(struct recovery *x)
{
	char path[256];
	const char *err = NULL;
	double until = now_s() + 15;
	struct resp *r = NULL;
	int failed = 0;

	snprintf(path, sizeof(path), "/api/v1/plans/%s", x->plan_id);
	while (!failed && now_s() < until) {
		resp_free(r);
		r = api("GET", path, x->t.token, NULL, NULL, NULL);
		failed = r->status == 200 && strcmp(resp_str(r, "status"), "failed") == 0;
		if (!failed)
			usleep(200000);
	}
	ck_assert_msg(failed, "the plan did not end failed: %s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s&status=RUNNING", x->plan_id);
	r = api("GET", path, x->t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_header(r, "X-Total-Count"), "0");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s", x->plan_id);
	r = api("GET", path, x->t.token, NULL, NULL, NULL);
	ck_assert_str_eq(run_of(r, "rec.t", &err), "FAIL");
	ck_assert_msg(err != NULL && strstr(err, "worker lost") != NULL, "error: %s", err);
	resp_free(r);
	/* never a partial build: the old rows, all of them, and no scratch table */
	ck_assert_int_eq(wh_number(tenant_wh_db(&x->t), "SELECT count(*) FROM \"%s_rec\".t",
				   x->t.prefix), 5);
	ck_assert_int_eq(wh_number(tenant_wh_db(&x->t), "SELECT count(*) FROM pg_class c JOIN "
				   "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
				   "'%s_rec' AND c.relname <> 't'", x->t.prefix), 0);

	r = apply_plan(&x->t, x->plan_id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	ck_assert_str_eq(run_of(r, "rec.t", NULL), "SUCCESS");
	resp_free(r);
	ck_assert_int_eq(wh_number(tenant_wh_db(&x->t), "SELECT count(*) FROM \"%s_rec\".t",
				   x->t.prefix), 7);
	free(x->plan_id);
	tenant_free(&x->t);
}

START_TEST(test_recovery__sigkill_of_the_apply_worker_mid_step)
{
	struct recovery x;
	int pid;

	start_slow_rebuild(&x, "sigkill");
	pid = apply_slot_holder();
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	bg_apply_join(&x.apply);
	ck_assert_int_ne(x.apply.status, 200);   /* the web server lost its worker */
	assert_recovered(&x);
}
END_TEST

START_TEST(test_recovery__state_database_restart_mid_step)
{
	struct recovery x;

	start_slow_rebuild(&x, "pgrestart");
	ck_assert_int_eq(stack("pg stop"), 0);
	ck_assert_int_eq(stack("pg start"), 0);
	bg_apply_join(&x.apply);
	ck_assert_int_ne(x.apply.status, 200);   /* it could not record the step's end */
	assert_recovered(&x);
}
END_TEST

Suite *suite_apply_recovery(void)
{
	Suite *s = suite_create("apply_recovery");
	TCase *tc = tcase_create("apply_recovery");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_recovery__sigkill_of_the_apply_worker_mid_step);
	tcase_add_test(tc, test_recovery__state_database_restart_mid_step);
	suite_add_tcase(s, tc);
	return s;
}
