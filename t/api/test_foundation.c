/* test_foundation.c: health, readiness, error shapes, request ids, worker memory */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "harness.h"

START_TEST(test_health__ok_with_version_and_standard_headers)
{
	struct resp *r = api("GET", "/api/v1/health", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "ok");
	ck_assert_str_eq(resp_str(r, "version"), PACKAGE_VERSION);
	ck_assert_str_eq(resp_header(r, "Content-Type"), "application/json; charset=utf-8");
	ck_assert_str_eq(resp_header(r, "X-Content-Type-Options"), "nosniff");
	ck_assert_str_eq(resp_header(r, "Cache-Control"), "no-store");
	ck_assert_uint_eq(strlen(resp_header(r, "X-Request-Id")), 32);
	resp_free(r);
}
END_TEST

START_TEST(test_ready__200_when_migrated)
{
	struct resp *r = api("GET", "/ready", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "{\"status\":\"ready\"}");
	resp_free(r);
}
END_TEST

START_TEST(test_errors__unknown_path_is_404_json)
{
	struct resp *r = api("GET", "/nope", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 404);
	ck_assert_str_eq(resp_str(r, "code"), "not_found");
	ck_assert_str_eq(resp_str(r, "detail"), "no such resource: /nope");
	ck_assert_str_eq(resp_header(r, "Content-Type"), "application/json; charset=utf-8");
	resp_free(r);
}
END_TEST

START_TEST(test_errors__wrong_method_is_405_with_allow)
{
	struct resp *r = api("DELETE", "/api/v1/health", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 405);
	ck_assert_str_eq(resp_header(r, "Allow"), "GET");
	ck_assert_str_eq(resp_str(r, "code"), "method_not_allowed");
	resp_free(r);
}
END_TEST

START_TEST(test_errors__oversized_body_is_413_json)
{
	size_t n = 2 * 1024 * 1024;
	char *big = malloc(n + 1);
	struct resp *r;

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	big[n] = '\0';
	r = api("POST", "/api/v1/health", NULL, "application/json", big, NULL);
	ck_assert_status(r, 413);
	ck_assert_str_eq(resp_str(r, "code"), "payload_too_large");
	ck_assert_str_eq(resp_str(r, "detail"), "request body exceeds 1048576 bytes");
	resp_free(r);
	free(big);
}
END_TEST

START_TEST(test_request_id__sane_ids_are_echoed_others_replaced)
{
	struct resp *r = api("GET", "/api/v1/health", NULL, NULL, NULL,
			     "X-Request-Id: client-id_1.2");

	ck_assert_str_eq(resp_header(r, "X-Request-Id"), "client-id_1.2");
	resp_free(r);
	r = api("GET", "/api/v1/health", NULL, NULL, NULL, "X-Request-Id: bad id<script>");
	ck_assert_str_ne(resp_header(r, "X-Request-Id"), "bad id<script>");
	ck_assert_uint_eq(strlen(resp_header(r, "X-Request-Id")), 32);
	resp_free(r);
}
END_TEST

START_TEST(test_query__malformed_escape_is_422)
{
	struct resp *r = api("GET", "/api/v1/health?x=%zz", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "code"), "validation_error");
	ck_assert_str_eq(resp_str(r, "detail.0.loc.0"), "query");
	resp_free(r);
}
END_TEST

/* Stops PostgreSQL under the running pool, then starts it again. */
START_TEST(test_ready__503_without_database_then_recovers_without_restart)
{
	int before[8], after[8], n, m, i;
	struct resp *r;

	n = worker_pids(before, 8);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stack("pg stop"), 0);
	for (i = 0; i < 4; i++) {
		r = api("GET", "/ready", NULL, NULL, NULL, NULL);
		ck_assert_status(r, 503);
		ck_assert_str_eq(resp_str(r, "status"), "not_ready");
		ck_assert_str_eq(resp_str(r, "reason"), "database unavailable");
		resp_free(r);
	}
	r = api("GET", "/api/v1/health", NULL, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	resp_free(r);
	ck_assert_int_eq(stack("pg start"), 0);
	for (i = 0; i < 8; i++) {
		r = api("GET", "/ready", NULL, NULL, NULL, NULL);
		ck_assert_status(r, 200);
		resp_free(r);
	}
	m = worker_pids(after, 8);
	ck_assert_int_eq(m, n);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(after[i], before[i]);
}
END_TEST

static long pool_rss(void)
{
	int pids[8], n = worker_pids(pids, 8), i;
	long total = 0;

	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++)
		total += pid_rss_kib(pids[i]);
	return total;
}

static void hammer(int count)
{
	int i;

	for (i = 0; i < count; i++) {
		struct resp *r = api(i % 3 ? "GET" : "DELETE",
				     i % 2 ? "/ready" : "/api/v1/health?x=1", NULL, NULL, NULL,
				     NULL);

		ck_assert_int_ne(r->status, 500);
		resp_free(r);
	}
}

START_TEST(test_worker__1000_requests_do_not_grow_rss)
{
	long warm, done;

	if (getenv("IL_TEST_SANITIZERS") != NULL && *getenv("IL_TEST_SANITIZERS") == '1')
		return; /* ASan's quarantine grows by design; LeakSanitizer covers leaks there */
	hammer(200);
	warm = pool_rss();
	hammer(1000);
	done = pool_rss();
	ck_assert_msg(done - warm <= 256, "pool RSS grew from %ld KiB to %ld KiB", warm, done);
}
END_TEST

/* SIGTERM: the worker says it is stopping and exits; the pool replaces it. */
START_TEST(test_worker__sigterm_stops_cleanly_and_the_pool_recovers)
{
	int pids[8], n = worker_pids(pids, 8), i;
	char want[64], cmd[512];
	struct resp *r;

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(kill(pids[0], SIGTERM), 0);
	snprintf(want, sizeof(want), "\"pid\":%d,\"msg\":\"worker stopping\"", pids[0]);
	snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/log/worker.log", want, getenv("IL_TEST_VAR"));
	for (i = 0; i < 50 && system(cmd) != 0; i++)
		usleep(100000);
	ck_assert_msg(i < 50, "worker %d did not log that it stopped", pids[0]);
	for (i = 0; i < 50 && kill(pids[0], 0) == 0; i++)
		usleep(100000);
	ck_assert_msg(i < 50, "worker %d is still running", pids[0]);
	for (i = 0; i < 20; i++) {
		r = api("GET", "/api/v1/health", NULL, NULL, NULL, NULL);
		ck_assert_status(r, 200);
		resp_free(r);
	}
}
END_TEST

/* A migration edited after it was applied is refused, by name. */
START_TEST(test_migrate__changed_migration_is_refused)
{
	char dir[512], cmd[2048], *out = NULL;
	int rc;

	snprintf(dir, sizeof(dir), "%s/sql-edited", getenv("IL_TEST_VAR"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -r %s/sql %s && "
		 "printf '\\n-- edited\\n' >> %s/001_foundation.sql",
		 dir, getenv("IL_TEST_SRCDIR"), dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(run_cli("migrate", NULL, &out), 0);   /* as shipped: nothing to do */
	ck_assert_msg(strstr(out, "all applied") != NULL, "%s", out);
	free(out);
	setenv("IRONLAYER_SQL_DIR", dir, 1);
	rc = run_cli("migrate", NULL, &out);
	unsetenv("IRONLAYER_SQL_DIR");
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out, "migration 001_foundation.sql was changed after it was applied")
		      != NULL, "%s", out);
	free(out);
}
END_TEST

Suite *suite_foundation(void)
{
	Suite *s = suite_create("foundation");
	TCase *tc = tcase_create("http");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_health__ok_with_version_and_standard_headers);
	tcase_add_test(tc, test_ready__200_when_migrated);
	tcase_add_test(tc, test_errors__unknown_path_is_404_json);
	tcase_add_test(tc, test_errors__wrong_method_is_405_with_allow);
	tcase_add_test(tc, test_errors__oversized_body_is_413_json);
	tcase_add_test(tc, test_request_id__sane_ids_are_echoed_others_replaced);
	tcase_add_test(tc, test_query__malformed_escape_is_422);
	tcase_add_test(tc, test_ready__503_without_database_then_recovers_without_restart);
	tcase_add_test(tc, test_worker__1000_requests_do_not_grow_rss);
	tcase_add_test(tc, test_worker__sigterm_stops_cleanly_and_the_pool_recovers);
	tcase_add_test(tc, test_migrate__changed_migration_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
