/* test_prepared.c: the workers' prepared statements across restarts and schema changes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The reads every worker prepares statements for. */
static const char *const reads[] = {
	"/api/v1/auth/me", "/api/v1/plans?limit=20", "/api/v1/models?limit=20",
	"/api/v1/runs?limit=20", "/api/v1/environments",
};
#define NREADS (sizeof(reads) / sizeof(reads[0]))

static void get_ok(const struct tenant *t, const char *path)
{
	struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 200, "GET %s: expected 200, got %ld: %s", path, r->status,
		      r->body);
	resp_free(r);
}

/* Every read, often enough that each worker has prepared its statements. */
static void warm(const struct tenant *t)
{
	size_t i, k;

	for (k = 0; k < 8; k++)
		for (i = 0; i < NREADS; i++)
			get_ok(t, reads[i]);
}

/* 1 for a 503 in the API's error shape, which a client retries; fails the test on anything else but 200. */
static int ok_or_clean_503(struct resp *r, const char *path)
{
	if (r->status == 200)
		return 0;
	ck_assert_msg(r->status == 503, "GET %s: expected 200 or 503, got %ld: %s", path,
		      r->status, r->body);
	ck_assert_str_eq(resp_str(r, "code"), "service_unavailable");
	ck_assert_ptr_null(strstr(r->body, "cached plan"));
	return 1;
}

/*
 * PostgreSQL restarts under warm workers: their connections and every name
 * prepared on them are gone. Each read's first request gets a 200 or a clean
 * 503; the ones after it succeed (the statements are prepared again).
 */
START_TEST(test_prepared__reads_survive_a_postgres_restart)
{
	struct tenant t;
	size_t i;
	int k;

	tenant_new(&t, "prep-restart");
	warm(&t);
	ck_assert_int_eq(stack("pg stop"), 0);
	ck_assert_int_eq(stack("pg start"), 0);
	for (i = 0; i < NREADS; i++) {
		struct resp *r = api("GET", reads[i], t.token, NULL, NULL, NULL);

		ok_or_clean_503(r, reads[i]);
		resp_free(r);
		for (k = 0; k < 4; k++)
			get_ok(&t, reads[i]);
	}
	tenant_free(&t);
}
END_TEST

/*
 * Changes the type of a column that prepared statements return (what a
 * migration may do): PostgreSQL then refuses the old prepared form ("cached
 * plan must not change result type"). No worker passes that on: a request
 * gets at most a clean 503 per worker, and every request after it succeeds.
 */
static void alter_then_read(const struct tenant *t, const char *alter)
{
	int pids[8], workers = worker_pids(pids, 8), unavailable = 0, k;
	char *out = psql("ironlayer", alter);

	ck_assert_msg(out[0] == '\0', "%s", out);
	free(out);
	for (k = 0; k < 4 * workers; k++) {
		struct resp *r = api("GET", "/api/v1/auth/me", t->token, NULL, NULL, NULL);

		unavailable += ok_or_clean_503(r, "/api/v1/auth/me");
		if (r->status == 200)
			ck_assert_str_eq(resp_str(r, "email"), t->email);
		resp_free(r);
	}
	ck_assert_int_le(unavailable, workers);
	for (k = 0; k < 8; k++)
		get_ok(t, "/api/v1/auth/me");
}

START_TEST(test_prepared__column_type_change_is_prepared_again)
{
	struct tenant t;

	tenant_new(&t, "prep-alter");
	warm(&t);
	alter_then_read(&t, "ALTER TABLE users ALTER COLUMN display_name TYPE varchar(256);");
	ck_assert(worker_log_has("prepared statement went stale"));
	warm(&t);
	alter_then_read(&t, "ALTER TABLE users ALTER COLUMN display_name TYPE text;");
	warm(&t);
	tenant_free(&t);
}
END_TEST

/* A 401 exactly as a check before the handler gives it, and nothing of the tenant's. */
static void assert_refused(const struct tenant *t, const char *path)
{
	struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 401, "GET %s with a revoked token: expected 401, got %ld: %s",
		      path, r->status, r->body);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_token");
	ck_assert_str_eq(resp_str(r, "detail"), "invalid or expired token");
	ck_assert_str_eq(resp_header(r, "WWW-Authenticate"), "Bearer");
	ck_assert_ptr_null(strstr(r->body, t->email));
	ck_assert_ptr_null(resp_header(r, "X-Total-Count"));
	resp_free(r);
}

/*
 * A read sends its user check in one round trip with its query. A token whose
 * user moved to another epoch (a logout elsewhere) or was disabled is refused
 * by that check, on warm workers, for every read, also for one its handler
 * answers without a query (a bad limit, a malformed id): nothing of the
 * tenant comes back, and the worker's next request (another tenant's, same
 * workers) is served as usual.
 */
START_TEST(test_prepared__revoked_token_reads_nothing_in_the_pipeline)
{
	static const char *const more[] = {
		"/api/v1/plans?limit=0", "/api/v1/plans/not-a-plan",
		"/api/v1/runs/00000000-0000-0000-0000-000000000000",
		"/api/v1/models/staging.orders/lineage", "/api/v1/settings",
	};
	struct tenant t, other;
	char sql[256], *out, args[256];
	size_t i, k;

	tenant_new(&t, "prep-revoked");
	tenant_new(&other, "prep-other");
	warm(&t);
	warm(&other);
	snprintf(sql, sizeof(sql),
		 "UPDATE users SET token_epoch = token_epoch + 1 WHERE email = '%s';", t.email);
	out = psql("ironlayer", sql);
	free(out);
	for (k = 0; k < 3; k++) {
		for (i = 0; i < NREADS; i++) {
			assert_refused(&t, reads[i]);
			get_ok(&other, reads[i]);
		}
		for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
			assert_refused(&t, more[i]);
	}
	/* disabled (the CLI), with the other tenant's token still served in between */
	snprintf(args, sizeof(args), "user disable --email %s", other.email);
	ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
	for (i = 0; i < NREADS; i++)
		assert_refused(&other, reads[i]);
	tenant_free(&other);
	tenant_free(&t);
}
END_TEST

Suite *suite_prepared(void)
{
	Suite *s = suite_create("prepared");
	TCase *tc = tcase_create("prepared");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_prepared__reads_survive_a_postgres_restart);
	tcase_add_test(tc, test_prepared__column_type_change_is_prepared_again);
	tcase_add_test(tc, test_prepared__revoked_token_reads_nothing_in_the_pipeline);
	suite_add_tcase(s, tc);
	return s;
}
